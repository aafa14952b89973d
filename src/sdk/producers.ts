import {
  CryptoInputError,
  addressFromPublicKey,
  commitNonces,
  deriveAccountableKey,
  deriveAddress,
  encryptHiddenInfo,
  fromHex,
  toHex,
} from '../crypto/index.js';
import { amountMax } from '../ledger/amount.js';
import type { BlockHeader, HeaderSignature } from './verify.js';

/**
 * The producer registry from a client's side (docs/architecture.md, "The producer registry"): the
 * shapes `GET /v1/producers` and `POST /v1/evidence` answer, the payloads of the producer txs, and
 * the off-chain work of registering: deriving the accountable key from a secret seed, encrypting
 * the identity information (hidden information, HI) and committing the first range of nonces.
 */

// ---- what the API answers (src/node/producer-api.ts) ---------------------------------------

/**
 * `pending` until more than two thirds of the validators' operators approve it (a pending one its
 * operator withdraws is deleted); `jailed` for equivocation (for good) or for downtime (`jail`
 * says until when).
 */
export type ProducerStatus = 'pending' | 'active' | 'jailed' | 'unbonding' | 'unbonded';

/** Why and until when a producer is jailed for downtime. */
export interface DowntimeJail {
  reason: 'downtime';
  jailedAtHeight: number;
  /** The last height it produced a block (or was activated) before it was jailed. */
  lastSeenHeight: number;
  /** From this height on its operator may send `producer.unjail`. */
  releaseHeight: number;
}

/** A committed nonce range: the Merkle root over R_h for heights [fromHeight, fromHeight + count). */
export type NonceRange = { fromHeight: number; count: number; root: string };

/** What the registry recorded when the producer was punished for equivocating. */
export interface Equivocation {
  /** The height at which it signed two headers. */
  height: number;
  /** The two header hashes, sorted. */
  headerHashes: [string, string];
  /** The decrypted identity information; null when the hidden information did not open. */
  info: unknown;
  infoRevealed: boolean;
  /** Height of the block that executed the evidence. */
  recordedAtHeight: number;
  reporter: string;
  /** Minor units of the bond asset: slashed = burned + reward. */
  slashed: string;
  burned: string;
  reward: string;
}

/** `GET /v1/producers/{id}`: one producer's record. */
export interface Producer {
  /** The address of the accountable public key: what headers name as `producer`. */
  id: string;
  publicKey: string;
  /** The account that registered it, commits its nonces and gets its bond back. */
  operator: string;
  hiddenInfo: string;
  commitment: string;
  /** Held in escrow (`producerEscrowAddress(id)`), minor units of the bond asset. */
  bond: string;
  status: ProducerStatus;
  registeredAtHeight: number;
  /** Contiguous and ascending; ranges long past are pruned. */
  nonceRanges: NonceRange[];
  unbondAtHeight?: number;
  equivocation?: Equivocation;
  /** While pending: the operators of validators that approved it, sorted. */
  approvals?: string[];
  /** The height it last became active (0 for a genesis producer). */
  activatedAtHeight?: number;
  /** While active (`GET /v1/producers/{id}` only): the last height it produced or was activated at. */
  lastSeenHeight?: number;
  /** While jailed for downtime. */
  jail?: DowntimeJail;
  /** A bond return a freeze refused: the operator takes it with `producer.claimBond`. */
  bondOwed?: string;
}

/** `GET /v1/producers/{id}/nonce-ranges`: committed ranges with where each was committed. */
export interface NonceRangeHistory {
  producer: string;
  ranges: (NonceRange & {
    /** The register or commitNonces tx, or null for a genesis producer's first range. */
    tx: string | null;
    committedAtHeight: number;
  })[];
  /** True when the page is full: ask again from after the last range. */
  more: boolean;
}

/** The registry's chain parameters (fixed at genesis). */
export interface ProducerParams {
  bondAsset: string;
  bondMin: string;
  unbondingPeriodHeights: number;
  evidenceWindowHeights: number;
  slashBurnBasisPoints: number;
  nonceRangeHeightsMax: number;
  nonceRangesAheadMax: number;
  /** Most active producers (validators) at once. */
  activeProducersMax: number;
  /** Heights without a block after which an active producer is jailed for downtime; 0: never. */
  downtimeWindowHeights: number;
  /** Heights a producer jailed for downtime waits before it may be unjailed. */
  downtimeJailHeights: number;
}

/** `GET /v1/producers`, sorted by id. `params` is set only by nodes that publish them. */
export interface ProducerList {
  producers: Producer[];
  params?: ProducerParams;
}

/** One half of equivocation evidence: a header and the producer's signature of it. */
export type EvidenceHalf = { header: BlockHeader; signature: HeaderSignature };

/** The body of `POST /v1/evidence` and the payload of `evidence.equivocation`. */
export type EquivocationEvidence = { a: EvidenceHalf; b: EvidenceHalf };

/** `POST /v1/evidence` once the node's `evidence.equivocation` tx committed. */
export interface EvidenceResult {
  /** The evidence tx, signed by the node's operator account (which takes the reward). */
  hash: string;
  status: 'ok';
  /** Height of the block that holds the evidence tx. */
  height: number;
  producer: string;
  infoRevealed: boolean;
  info: unknown;
}

// ---- tx payloads -----------------------------------------------------------------------------

/** `producer.register`; `bond` is a decimal string of minor units of the chain's bond asset. */
export type RegisterProducerPayload = {
  publicKey: string;
  hiddenInfo: string;
  commitment: string;
  bond: string;
  nonces: NonceRange;
};

/** `producer.commitNonces`: the next range, contiguous with the last one committed. */
export type CommitNoncesPayload = { producer: string } & NonceRange;

/** `producer.unbond`: by the operator of an active producer, or one jailed for downtime. */
export type UnbondProducerPayload = { producer: string };

/**
 * `producer.approve`: by the operator of an active producer (a validator); the pending producer
 * becomes active once more than two thirds of the validators' operators approved it.
 */
export type ApproveProducerPayload = { producer: string };

/**
 * `producer.withdraw`: the operator takes back a pending registration and its bond at once; the
 * producer is deleted from the registry.
 */
export type WithdrawProducerPayload = { producer: string };

/** `producer.unjail`: the operator of a producer jailed for downtime, from its release height. */
export type UnjailProducerPayload = { producer: string };

/** `producer.claimBond`: the operator takes a bond return that a freeze refused (`bondOwed`). */
export type ClaimBondPayload = { producer: string };

// ---- off-chain work --------------------------------------------------------------------------

const seedBytes = 32;
const seedPattern = /^[0-9a-fA-F]{64}$/;
const amountPattern = /^[1-9][0-9]*$/;

/** The escrow account of a producer's bond: no key controls it (`escrowAddress` in the ledger). */
export function producerEscrowAddress(producerId: string): string {
  return deriveAddress('escrow/producers', producerId);
}

/** A 32-byte seed given as 64 hex digits or bytes; a copy, so the caller may wipe its own. */
function seedOf(seed: unknown): Uint8Array {
  if (seed instanceof Uint8Array && seed.length === seedBytes) return new Uint8Array(seed);
  if (typeof seed === 'string' && seedPattern.test(seed)) {
    return fromHex(seed.toLowerCase(), 'seed', seedBytes);
  }
  throw new CryptoInputError(
    'seed',
    `seed must be ${seedBytes} bytes or ${2 * seedBytes} hex digits`,
  );
}

function bondOf(bond: unknown): string {
  const text = typeof bond === 'bigint' ? bond.toString() : bond;
  if (typeof text !== 'string' || !amountPattern.test(text) || BigInt(text) > amountMax) {
    throw new CryptoInputError(
      'bond',
      'bond must be a positive whole number of minor units (a decimal string or bigint) at most 2^127-1',
    );
  }
  return text;
}

/**
 * The producer id of a seed: the address of its accountable public key. The same seed as an
 * ed25519 key is an operator account; `deriveAccountableKey` makes the two keys independent.
 */
export function producerIdOf(seed: string | Uint8Array): string {
  return addressFromPublicKey(deriveAccountableKey(seedOf(seed)).publicKey);
}

export interface NonceCommitmentInput {
  /** The producer's secret seed (32 bytes, or 64 hex digits). */
  seed: string | Uint8Array;
  chainId: string;
  fromHeight: number;
  /** Heights in the range, at most the chain's `nonceRangeHeightsMax` (1 to 1.5 ms each). */
  count: number;
}

/** The `producer.commitNonces` payload of the range [fromHeight, fromHeight + count). */
export function prepareNonceCommitment(input: NonceCommitmentInput): {
  producer: string;
  payload: CommitNoncesPayload;
} {
  const key = deriveAccountableKey(seedOf(input.seed));
  const { root } = commitNonces(key.nonceSecret, input.chainId, input.fromHeight, input.count);
  const producer = addressFromPublicKey(key.publicKey);
  return {
    producer,
    payload: { producer, fromHeight: input.fromHeight, count: input.count, root },
  };
}

export interface ProducerRegistrationInput extends NonceCommitmentInput {
  /** The identity information (free JSON, at most `hiddenInfoBytesMax` bytes canonical). */
  info: unknown;
  /** Minor units of the bond asset, at least the chain's `bondMin`. */
  bond: string | bigint;
}

/**
 * Everything `producer.register` needs, computed off-chain from the seed: the accountable public
 * key, the hidden information and its commitment (random salt and IV: two calls differ), and the
 * root of the first nonce range, which must start above the chain's height when the tx executes.
 * Bad inputs throw a `CryptoInputError` naming the field.
 */
export function prepareProducerRegistration(input: ProducerRegistrationInput): {
  /** The producer id (address of the accountable key). */
  producer: string;
  payload: RegisterProducerPayload;
} {
  const bond = bondOf(input.bond);
  const key = deriveAccountableKey(seedOf(input.seed));
  const { hiddenInfo, commitment } = encryptHiddenInfo(key.secretScalar, input.info);
  const { root } = commitNonces(key.nonceSecret, input.chainId, input.fromHeight, input.count);
  return {
    producer: addressFromPublicKey(key.publicKey),
    payload: {
      publicKey: toHex(key.publicKey),
      hiddenInfo,
      commitment,
      bond,
      nonces: { fromHeight: input.fromHeight, count: input.count, root },
    },
  };
}
