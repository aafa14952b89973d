import { z } from 'zod';
import { CryptoInputError, canonicalBytes, sha256Hex, utf8 } from '../../crypto/index.js';
import { coded, hexOf, wire } from '../../protocol/schema.js';
import { tokenInitiators } from './lifecycle.js';

export * from './lifecycle.js';
export * from './records.js';

/*
 * The token vault's wire contract (issue 17), one definition for the node, the OpenAPI document,
 * the SDK and the CLI: each tx payload as a zod schema whose fields carry their rejection codes,
 * and the pure helpers both sides need (Luhn, the PAN commitment, the signed request hash). Pure:
 * zod, src/crypto and src/protocol only, so a browser bundle of the SDK loads nothing of the node.
 *
 * No payload, record or event holds a PAN, nor anything a PAN can be found from by trying every
 * PAN of a BIN (an unkeyed hash would be): the ledger keeps the PAN encrypted (`vault`), a keyed
 * fingerprint (HMAC under the vault's key), its BIN and last four digits (PCI DSS lets both be
 * shown), and the requestor's commitment `panCommitment(pan, panSalt)` with a 32-byte random salt
 * that only the requestor and the request ever held.
 */

// ---- limits --------------------------------------------------------------------------------------

/** Digits of a PAN (ISO/IEC 7812) and so of a token, which keeps its PAN's length. */
export const panLengthMin = 13;
export const panLengthMax = 19;
/** BINs (issuer and token) are their first six digits: one state key each, no prefix overlap. */
export const binLength = 6;
/** BINs one issuer owns, and token BINs the service has: each list is one state value. */
export const issuerBinsMax = 20;
export const tokenBinsMax = 20;
/** Envelopes one `token.rewrap` re-wraps: one tx stays small (~100 bytes an entry). */
export const rewrapEntriesMax = 100;
/** Merchant ids a token's domain names (none: any merchant for its issuer; no acquirer). */
export const merchantIdsMax = 20;
/** Merchant ids an acquirer is registered with (the merchants it acquires for). */
export const acquirerMerchantIdsMax = 100;
export const participantNameBytesMax = 80;
/** A participant's roles: at most all four. */
export const participantRolesMax = 4;
/** Ciphertext of a PAN: its digits as UTF-8 and the 16-byte GCM tag. */
export const gcmTagBytes = 16;
export const gcmIvBytes = 12;
export const dataKeyBytes = 32;
/** A wrapped data key: the wrapping IV, the 32 key bytes encrypted, the tag. */
export const wrappedKeyBytes = gcmIvBytes + dataKeyBytes + gcmTagBytes;

// ---- vocabularies --------------------------------------------------------------------------------

/** What a participant of the token service is (EMVCo's roles, and wallets). */
export const participantRoles = ['issuer', 'requestor', 'acquirer', 'wallet'] as const;
export type ParticipantRole = (typeof participantRoles)[number];

/** Where a token may be used (its domain restriction by channel). */
export const tokenChannels = ['ecommerce', 'contactless', 'in_app', 'card_on_file'] as const;
export type TokenChannel = (typeof tokenChannels)[number];

/** How well the requestor identified and verified the cardholder (EMVCo assurance levels). */
export const assuranceLevels = ['unverified', 'low', 'medium', 'high'] as const;

/** Why a lifecycle event was sent. */
export const reasonCodes = [
  'verified',
  'customer_request',
  'device_lost',
  'device_stolen',
  'fraud_suspected',
  'account_closed',
  'card_reissued',
  'expiry_update',
  'other',
] as const;

/** Why a party asks for the PAN behind a token. */
export const detokenisePurposes = [
  'authorization',
  'refund',
  'chargeback',
  'fraud_review',
  'recurring',
] as const;

// ---- pure helpers --------------------------------------------------------------------------------

const digitsPattern = /^[0-9]+$/;
const requestIdPattern = /^[A-Za-z0-9_-]{1,64}$/;
const binPattern = /^[0-9]{6}$/;
const merchantIdPattern = /^[A-Za-z0-9_-]{1,32}$/;
const kekIdPattern = /^[A-Za-z0-9_-]{1,32}$/;
/** Card expiry: year and month, `YYYY-MM`. */
const expiryPattern = /^20[0-9]{2}-(0[1-9]|1[0-2])$/;

/** True when `digits` (a string of digits) passes the Luhn check (ISO/IEC 7812-1). */
export function luhnValid(digits: string): boolean {
  if (!digitsPattern.test(digits)) return false;
  return luhnSum(digits) % 10 === 0;
}

function luhnSum(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum;
}

/** The check digit that makes `body` followed by it pass Luhn. */
export function luhnCheckDigit(body: string): string {
  if (!digitsPattern.test(body)) throw new CryptoInputError('body', 'digits only');
  return String((10 - (luhnSum(body + '0') % 10)) % 10);
}

/** True for a PAN or token: 13 to 19 digits passing Luhn. */
export function isCardNumber(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= panLengthMin &&
    value.length <= panLengthMax &&
    luhnValid(value)
  );
}

/** True for a request id: 1 to 64 characters A-Z, a-z, 0-9, `-` and `_`. */
export function isTokenRequestId(value: unknown): boolean {
  return typeof value === 'string' && requestIdPattern.test(value);
}

/**
 * The requestor's (or issuer's) commitment to a PAN: hex(SHA-256(UTF-8(
 * `coffer/tokens/pan-commitment/v1|<panSalt>|<pan>`))), `panSalt` 32 random bytes as 64 lowercase
 * hex digits. Hiding because the salt is random and never stored (only the request carries it),
 * binding because SHA-256 is: the signed request names the PAN without the ledger learning it.
 */
export function panCommitment(pan: string, panSalt: string): string {
  if (!isCardNumber(pan)) throw new CryptoInputError('pan', 'not a card number');
  if (!/^[0-9a-f]{64}$/.test(panSalt)) {
    throw new CryptoInputError('panSalt', 'panSalt must be 64 lowercase hex digits');
  }
  return sha256Hex(utf8(`coffer/tokens/pan-commitment/v1|${panSalt}|${pan}`));
}

/** What a participant signs, by kind: every value a string (numbers as decimal strings). */
export type TokenRequestKind = 'provision' | 'panUpdate' | 'detokenise' | 'rewrap';

/**
 * The hash a participant signs for the node to relay its request:
 *
 *   hex(SHA-256(UTF-8(RFC 8785 canonical JSON of {kind, chainId, ...fields})))
 *
 * every value a string (lists joined by `,` in their given order, numbers in decimal, an absent
 * optional field left out). The signature is ed25519 by the participant's key over
 * `signingMessage('tokenRequest', hash)`. `kind` keeps a request of one kind from being replayed
 * as another, `chainId` one chain's from another's; the fields name the PAN only through its
 * commitment. The node recomputes the hash from the request, the chain from the tx payload.
 */
export function tokenRequestHash(
  kind: TokenRequestKind,
  chainId: string,
  fields: Readonly<Record<string, string | undefined>>,
): string {
  if (typeof chainId !== 'string' || chainId.length === 0) {
    throw new CryptoInputError('chainId', 'chainId must be a non-empty string');
  }
  const present = Object.fromEntries(
    Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  return sha256Hex(canonicalBytes({ ...present, kind, chainId }));
}

// ---- field schemas -------------------------------------------------------------------------------

const cardNumber = z.string().refine(isCardNumber).meta({
  description: '13 to 19 digits passing Luhn',
});
const bin = z.string().regex(binPattern).meta({ description: 'A BIN: 6 digits' });
const distinct = <T>(list: readonly T[]) => new Set(list).size === list.length;

export const tokenFields = {
  token: coded(cardNumber, 'invalid_token'),
  requestId: coded(z.string().regex(requestIdPattern), 'invalid_request_id'),
  bin: coded(bin, 'invalid_bin'),
  last4: coded(z.string().regex(/^[0-9]{4}$/), 'invalid_last4'),
  expiry: coded(z.string().regex(expiryPattern), 'invalid_card_expiry'),
  seq: coded(z.number().int().min(1).max(Number.MAX_SAFE_INTEGER), 'invalid_sequence'),
  initiator: coded(z.enum(tokenInitiators), 'invalid_initiator'),
  reason: coded(z.enum(reasonCodes), 'invalid_reason'),
  signature: coded(hexOf(64), 'invalid_signature'),
  hash: coded(hexOf(32), 'invalid_hash'),
  channel: coded(z.enum(tokenChannels), 'invalid_channel'),
  merchantId: coded(z.string().regex(merchantIdPattern), 'invalid_merchant_id'),
  purpose: coded(z.enum(detokenisePurposes), 'invalid_purpose'),
  assuranceLevel: coded(z.enum(assuranceLevels), 'invalid_assurance_level'),
  address: coded(wire.address, 'invalid_address'),
};

/** A token's domain restrictions: channels, merchants (none: any) and an end of use. */
export const tokenDomainSchema = coded(
  z.strictObject({
    channels: z.array(z.enum(tokenChannels)).min(1).max(tokenChannels.length).refine(distinct),
    merchantIds: z.array(z.string().regex(merchantIdPattern)).max(merchantIdsMax).refine(distinct),
    /** Unix milliseconds after which the token is not used (absent: until deleted). */
    expiresAt: wire.time.optional(),
  }),
  'invalid_domain',
);
export type TokenDomain = z.infer<typeof tokenDomainSchema>;

/** The PAN as the vault holds it: AES-256-GCM under a data key the key-encryption key wraps. */
export const vaultEnvelopeSchema = coded(
  z.strictObject({
    /** The id of the key-encryption key that wrapped the data key. */
    kekId: z.string().regex(kekIdPattern),
    /** hex: wrapping IV (12 bytes), the data key encrypted (32), GCM tag (16). */
    wrappedKey: hexOf(wrappedKeyBytes),
    /** hex: the 12-byte IV of the PAN's encryption. */
    iv: hexOf(gcmIvBytes),
    /** hex: the PAN's digits encrypted, then the 16-byte GCM tag. */
    ciphertext: z
      .string()
      .regex(
        new RegExp(`^([0-9a-f]{2}){${panLengthMin + gcmTagBytes},${panLengthMax + gcmTagBytes}}$`),
      ),
  }),
  'invalid_vault_envelope',
);
export type VaultEnvelope = z.infer<typeof vaultEnvelopeSchema>;

/** A new PAN behind a token (re-issued card), as the node's PAN-update relay writes it. */
export const newPanSchema = coded(
  z.strictObject({
    bin: tokenFields.bin,
    last4: tokenFields.last4,
    commitment: tokenFields.hash,
    fingerprint: tokenFields.hash,
    vault: vaultEnvelopeSchema,
  }),
  'invalid_new_pan',
);

const lifecyclePayload = z.strictObject({
  token: tokenFields.token,
  seq: tokenFields.seq,
  initiator: tokenFields.initiator,
  reason: tokenFields.reason,
});

// ---- tx payloads ---------------------------------------------------------------------------------

export const tokensPayloads = {
  /** The token BINs the service issues tokens in (a validator operator). */
  'tokens.configure': z.strictObject({
    tokenBins: coded(z.array(bin).min(1).max(tokenBinsMax).refine(distinct), 'invalid_token_bins'),
  }),
  /** Registers a participant with its roles (a validator operator). */
  'tokens.registerParticipant': z.strictObject({
    address: tokenFields.address,
    name: coded(
      z.string().refine(
        (v) =>
          v.trim().length > 0 &&
          utf8(v).length <= participantNameBytesMax &&
          // eslint-disable-next-line no-control-regex
          !/[\u0000-\u001f\u007f]/.test(v),
      ),
      'invalid_participant_name',
    ),
    roles: coded(
      z.array(z.enum(participantRoles)).min(1).max(participantRolesMax).refine(distinct),
      'invalid_roles',
    ),
    /** The BINs an issuer owns (issuers only, 1 to 20). */
    bins: coded(z.array(bin).min(1).max(issuerBinsMax).refine(distinct), 'invalid_bins').optional(),
    /** The merchant ids an acquirer acquires for (acquirers only, 1 to 100). */
    merchantIds: coded(
      z
        .array(z.string().regex(merchantIdPattern))
        .min(1)
        .max(acquirerMerchantIdsMax)
        .refine(distinct),
      'invalid_merchant_ids',
    ).optional(),
  }),
  /** A token for a PAN, relayed by a node with the requestor's signed request. */
  'token.provision': z.strictObject({
    requestor: tokenFields.address,
    requestId: tokenFields.requestId,
    token: tokenFields.token,
    bin: tokenFields.bin,
    last4: tokenFields.last4,
    expiry: tokenFields.expiry,
    domain: tokenDomainSchema,
    assuranceLevel: tokenFields.assuranceLevel,
    wallet: tokenFields.address.optional(),
    commitment: tokenFields.hash,
    fingerprint: tokenFields.hash,
    vault: vaultEnvelopeSchema,
    signature: tokenFields.signature,
  }),
  'token.suspend': lifecyclePayload,
  'token.resume': lifecyclePayload,
  'token.delete': lifecyclePayload,
  /** A new expiry, or a re-issued card's PAN, relayed by a node with the issuer's signature. */
  'token.updatePan': z.strictObject({
    token: tokenFields.token,
    seq: tokenFields.seq,
    reason: tokenFields.reason,
    expiry: tokenFields.expiry,
    pan: newPanSchema.optional(),
    signature: tokenFields.signature,
  }),
  /** A detokenisation, recorded before the node answers the PAN (without it). */
  'token.detokenise': z.strictObject({
    token: tokenFields.token,
    party: tokenFields.address,
    /** The token's next detokenisation number: a signed request is answered once. */
    n: coded(z.number().int().min(1).max(Number.MAX_SAFE_INTEGER), 'invalid_detokenisation'),
    purpose: tokenFields.purpose,
    channel: tokenFields.channel,
    merchantId: tokenFields.merchantId.optional(),
    signature: tokenFields.signature,
  }),
  /** Data keys re-wrapped under the current KEK (rotation); the ciphertexts do not change. */
  'token.rewrap': z.strictObject({
    entries: coded(
      z
        .array(
          z.strictObject({
            token: cardNumber,
            kekId: z.string().regex(kekIdPattern),
            wrappedKey: hexOf(wrappedKeyBytes),
          }),
        )
        .min(1)
        .max(rewrapEntriesMax)
        .refine((list) => distinct(list.map((entry) => entry.token))),
      'invalid_rewrap_entries',
    ),
  }),
};

export type TokensPayloadType = keyof typeof tokensPayloads;
/** A payload as a client sends it. */
export type TokensPayload<T extends TokensPayloadType> = z.input<(typeof tokensPayloads)[T]>;

/** The fields a provision request signs (see `tokenRequestHash`), from the payload's values. */
export function provisionSignedFields(p: {
  requestor: string;
  requestId: string;
  commitment: string;
  expiry: string;
  domain: TokenDomain;
  assuranceLevel: string;
  wallet?: string | undefined;
}): Record<string, string | undefined> {
  return {
    requestor: p.requestor,
    requestId: p.requestId,
    commitment: p.commitment,
    expiry: p.expiry,
    channels: p.domain.channels.join(','),
    merchantIds: p.domain.merchantIds.join(','),
    domainExpiresAt: p.domain.expiresAt === undefined ? undefined : String(p.domain.expiresAt),
    assuranceLevel: p.assuranceLevel,
    wallet: p.wallet,
  };
}

/** The fields a PAN update signs. */
export function panUpdateSignedFields(p: {
  token: string;
  seq: number;
  reason: string;
  expiry: string;
  commitment?: string | undefined;
}): Record<string, string | undefined> {
  return {
    token: p.token,
    seq: String(p.seq),
    reason: p.reason,
    expiry: p.expiry,
    commitment: p.commitment,
  };
}

/** The fields a detokenisation request signs. */
export function detokeniseSignedFields(p: {
  token: string;
  party: string;
  n: number;
  purpose: string;
  channel: string;
  merchantId?: string | undefined;
}): Record<string, string | undefined> {
  return {
    token: p.token,
    party: p.party,
    n: String(p.n),
    purpose: p.purpose,
    channel: p.channel,
    merchantId: p.merchantId,
  };
}
