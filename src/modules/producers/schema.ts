import { z } from 'zod';
import {
  addressFromPublicKey,
  deriveAddress,
  fromHex,
  hiddenInfoCiphertextBytesMax,
  isAccountablePublicKey,
} from '../../crypto/index.js';
import { coded, wire } from '../../protocol/schema.js';

/*
 * The producer registry's wire contract (docs/architecture.md, "The producer registry"): the
 * payloads of its txs, the records its routes answer, and the helpers node and client share. The
 * node parses payloads with these schemas (txs.ts), the routes serialize through them
 * (routes.ts), the OpenAPI document shows them and the SDK takes its types from them (client.ts).
 */

// ---- fields ------------------------------------------------------------------------------------

const hex32Pattern = /^[0-9a-f]{64}$/;
const hiddenInfoPattern = /^([0-9a-f]{2})+$/;
const hex32 = z.string().regex(hex32Pattern);
const safeWhole = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const safeCount = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/** The accountable public key: 64 lowercase hex digits of a point in the prime-order subgroup. */
const publicKeyField = coded(
  z
    .string()
    .refine((v) => hex32Pattern.test(v) && isAccountablePublicKey(fromHex(v, 'publicKey', 32)))
    .meta({ description: 'The accountable public key, 32 bytes, lowercase hex' }),
  'invalid_public_key',
);

/** The encrypted identity: lowercase hex, at most the ciphertext bound (src/crypto/hidden-info.ts). */
const hiddenInfoField = coded(
  z
    .string()
    .max(2 * hiddenInfoCiphertextBytesMax)
    .regex(hiddenInfoPattern)
    .meta({ description: 'The encrypted identity information, lowercase hex' }),
  'invalid_hidden_info',
);

const commitmentField = coded(hex32, 'invalid_commitment');
const producerField = coded(wire.address, 'invalid_producer');

/** A committed nonce range: the Merkle root over R_h for heights [fromHeight, fromHeight + count). */
export const nonceRangeSchema = z.strictObject({
  fromHeight: safeWhole,
  count: safeCount,
  root: hex32,
});

/** A block header as evidence carries it: exactly the signed fields (src/chain/block.ts). */
const evidenceHeaderSchema = z.strictObject({
  chainId: z.string(),
  height: safeWhole,
  prevHash: hex32,
  time: z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER),
  txCount: safeWhole,
  txRoot: hex32,
  receiptRoot: hex32,
  stateRoot: hex32,
  producer: wire.address,
});

/**
 * A header's accountable signature: `{R, s}` at `height`. A full block signature (with its nonce
 * proof) is accepted; only `{height, R, s}` is kept (other fields are dropped).
 */
const evidenceSignatureSchema = z.object({
  height: z.number(),
  R: z.string(),
  s: z.string(),
});

/** One half of equivocation evidence: a header and the producer's signature of it. */
export const evidenceHalfSchema = z.strictObject({
  header: evidenceHeaderSchema,
  signature: evidenceSignatureSchema,
});

// ---- tx payloads -------------------------------------------------------------------------------

/**
 * The payloads of the registry's txs, fields in the order they are checked, each refused with its
 * code. `evidence.equivocation` is further checked across its halves (txs.ts, `checkEvidence`).
 */
export const producerPayloads = {
  /** `bond` is a decimal string of minor units of the chain's bond asset. */
  'producer.register': z.strictObject({
    publicKey: publicKeyField,
    hiddenInfo: hiddenInfoField,
    commitment: commitmentField,
    bond: coded(wire.positiveAmount, 'invalid_amount'),
    nonces: coded(nonceRangeSchema, 'invalid_nonce_range'),
  }),
  /** The next range, contiguous with the last one committed. */
  'producer.commitNonces': z.strictObject({
    producer: producerField,
    fromHeight: coded(safeWhole, 'invalid_nonce_range'),
    count: coded(safeCount, 'invalid_nonce_range'),
    root: coded(hex32, 'invalid_nonce_range'),
  }),
  /** By the operator of an active producer, or one jailed for downtime. */
  'producer.unbond': z.strictObject({ producer: producerField }),
  /**
   * By the operator of an active producer (a validator); the pending producer becomes active once
   * more than two thirds of the validators' operators approved it.
   */
  'producer.approve': z.strictObject({ producer: producerField }),
  /** The operator takes back a pending registration and its bond at once. */
  'producer.withdraw': z.strictObject({ producer: producerField }),
  /** The operator of a producer jailed for downtime, from its release height. */
  'producer.unjail': z.strictObject({ producer: producerField }),
  /** The operator takes a bond return that a freeze refused (`bondOwed`). */
  'producer.claimBond': z.strictObject({ producer: producerField }),
  /** Two headers one producer signed at one height; also the body of `POST /v1/evidence`. */
  'evidence.equivocation': z.strictObject({
    a: coded(evidenceHalfSchema, 'invalid_evidence'),
    b: coded(evidenceHalfSchema, 'invalid_evidence'),
  }),
};

/** A committed nonce range: `{fromHeight, count, root}`. */
export type NonceRange = z.output<typeof nonceRangeSchema>;
export type RegisterProducerPayload = z.input<(typeof producerPayloads)['producer.register']>;
export type CommitNoncesPayload = z.input<(typeof producerPayloads)['producer.commitNonces']>;
export type UnbondProducerPayload = z.input<(typeof producerPayloads)['producer.unbond']>;
export type ApproveProducerPayload = z.input<(typeof producerPayloads)['producer.approve']>;
export type WithdrawProducerPayload = z.input<(typeof producerPayloads)['producer.withdraw']>;
export type UnjailProducerPayload = z.input<(typeof producerPayloads)['producer.unjail']>;
export type ClaimBondPayload = z.input<(typeof producerPayloads)['producer.claimBond']>;
/** One half of equivocation evidence, as sent. */
export type EvidenceHalf = z.input<typeof evidenceHalfSchema>;
/** The body of `POST /v1/evidence` and the payload of `evidence.equivocation`, as sent. */
export type EquivocationEvidence = z.input<(typeof producerPayloads)['evidence.equivocation']>;

// ---- records -----------------------------------------------------------------------------------

/**
 * `pending`: registered, waiting for approval by more than two thirds of the validators'
 * operators; `active`: a validator (produces and attests); `jailed`: for equivocation (for good)
 * or downtime (until unjailed); `unbonding`/`unbonded`: leaving, and left. A pending registration
 * its operator withdraws is deleted (its slot in the registry freed).
 */
export const producerStatusSchema = z.enum([
  'pending',
  'active',
  'jailed',
  'unbonding',
  'unbonded',
]);
export type ProducerStatus = z.output<typeof producerStatusSchema>;

/** Why and until when a producer is jailed for downtime. */
export const downtimeJailSchema = z.strictObject({
  reason: z.literal('downtime'),
  /** Height of the block whose beginBlock jailed it. */
  jailedAtHeight: safeWhole,
  /** The last height it produced a block (or was activated) before it was jailed. */
  lastSeenHeight: safeWhole,
  /** From this height on its operator may send `producer.unjail`. */
  releaseHeight: safeWhole,
});
export type DowntimeJail = z.output<typeof downtimeJailSchema>;

/** What the registry recorded when the producer was punished for equivocating. */
export const equivocationSchema = z.strictObject({
  /** The height at which it signed two headers. */
  height: safeWhole,
  /** The two header hashes, sorted. */
  headerHashes: z.tuple([z.string(), z.string()]),
  /** The decrypted identity information; null when the hidden information did not open. */
  info: z.unknown(),
  infoRevealed: z.boolean(),
  /** Height of the block that executed the evidence. */
  recordedAtHeight: safeWhole,
  reporter: z.string(),
  /** Minor units of the bond asset: slashed = burned + reward. */
  slashed: wire.minorUnitsText,
  burned: wire.minorUnitsText,
  reward: wire.minorUnitsText,
});
export type Equivocation = z.output<typeof equivocationSchema>;

/** A producer's record as the registry stores it. */
export const producerRecordSchema = z.strictObject({
  /** The address of the accountable public key: what headers name as `producer`. */
  id: z.string(),
  /** The accountable public key P, hex. */
  publicKey: z.string(),
  /** The account that registered it, commits its nonces and gets its bond back. */
  operator: z.string(),
  hiddenInfo: z.string(),
  /** Commitment to the identity information (src/crypto/hidden-info.ts). */
  commitment: z.string(),
  /** Held in escrow (`producerEscrowAddress(id)`), minor units of the bond asset. */
  bond: wire.minorUnitsText,
  status: producerStatusSchema,
  registeredAtHeight: safeWhole,
  /** Contiguous and ascending; ranges long past are pruned. */
  nonceRanges: z.array(nonceRangeSchema),
  unbondAtHeight: safeWhole.optional(),
  equivocation: equivocationSchema.optional(),
  /** While pending: the operators of validators that approved it, sorted. */
  approvals: z.array(z.string()).optional(),
  /** The height it last became active (0 for a genesis producer; approval or unjail). */
  activatedAtHeight: safeWhole.optional(),
  /** While jailed for downtime. */
  jail: downtimeJailSchema.optional(),
  /**
   * A bond the chain could not return (the operator was frozen for the bond asset when its
   * unbonding ended): it stays in escrow until the operator takes it with `producer.claimBond`.
   */
  bondOwed: wire.minorUnitsText.optional(),
});

/** `GET /v1/producers/{id}`: one producer's record. */
export const producerSchema = producerRecordSchema.extend({
  /** While active: the last height it produced or was activated at (what downtime measures). */
  lastSeenHeight: safeWhole.optional(),
});
export type Producer = z.output<typeof producerSchema>;

/** The registry's chain parameters, fixed at genesis, with the defaults of those it left out. */
export const producerParamsSchema = z.strictObject({
  /** The asset bonds are posted in. */
  bondAsset: z.string(),
  /** Smallest bond `producer.register` accepts, minor units. Genesis producers may bond less. */
  bondMin: wire.minorUnitsText,
  /** Blocks between `producer.unbond` and the bond's return; must exceed the evidence window. */
  unbondingPeriodHeights: safeWhole,
  /** Evidence about a height older than this many blocks is refused. */
  evidenceWindowHeights: safeWhole,
  /** Share of a slashed bond that is burned, in basis points; the rest goes to the reporter. */
  slashBurnBasisPoints: safeWhole,
  /** Most heights in one nonce commitment. */
  nonceRangeHeightsMax: safeWhole,
  /** Most committed ranges that may still lie wholly ahead of the current height. */
  nonceRangesAheadMax: safeWhole,
  /**
   * Most active producers (validators) at once. Every validator attests every height and each
   * block's downtime check reads one record per active producer, so the set is kept to what
   * every node can count.
   */
  activeProducersMax: safeWhole,
  /**
   * An active producer that produced no block for more than this many heights, while producers
   * of more than two thirds of the validators did, is jailed for downtime; 0 turns the check off.
   */
  downtimeWindowHeights: safeWhole,
  /** Heights a producer jailed for downtime waits before its operator may `producer.unjail` it. */
  downtimeJailHeights: safeWhole,
});
export type ProducerParams = z.output<typeof producerParamsSchema>;

/** `GET /v1/producers`, sorted by id. `params` is null (or absent) on a chain without a registry. */
export const producerListSchema = z.strictObject({
  producers: z.array(producerSchema),
  params: producerParamsSchema.nullish(),
});
export type ProducerList = z.output<typeof producerListSchema>;

/** A committed nonce range with where it was committed. */
export const nonceRangeEntrySchema = nonceRangeSchema.extend({
  /** The register or commitNonces tx, or null for a genesis producer's first range. */
  tx: hex32.nullable(),
  committedAtHeight: safeWhole,
});

/** `GET /v1/producers/{id}/nonce-ranges`: committed ranges with where each was committed. */
export const nonceRangeHistorySchema = z.strictObject({
  producer: z.string(),
  ranges: z.array(nonceRangeEntrySchema),
  /** True when the page is full: ask again from after the last range. */
  more: z.boolean(),
});
export type NonceRangeHistory = z.output<typeof nonceRangeHistorySchema>;

/** `POST /v1/evidence` once the node's `evidence.equivocation` tx committed. */
export const evidenceResultSchema = z.strictObject({
  /** The evidence tx, signed by the node's operator account (which takes the reward). */
  hash: hex32,
  status: z.literal('ok'),
  /** Height of the block that holds the evidence tx. */
  height: safeWhole,
  producer: z.string(),
  infoRevealed: z.boolean(),
  info: z.unknown(),
});
export type EvidenceResult = z.output<typeof evidenceResultSchema>;

// ---- shared helpers ----------------------------------------------------------------------------

/**
 * The escrow account of a producer's bond: no key controls it (the ledger's `escrowAddress` of the
 * module `producers`).
 */
export function producerEscrowAddress(producerId: string): string {
  return deriveAddress('escrow/producers', producerId);
}

/** The producer id of an accountable public key (64 hex digits): the key's address. */
export function producerIdOfPublicKey(publicKey: string): string {
  return addressFromPublicKey(fromHex(publicKey, 'publicKey', 32));
}
