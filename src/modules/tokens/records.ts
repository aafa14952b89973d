import { z } from 'zod';
import { tokenInitiators, tokenStatuses } from './lifecycle.js';

/*
 * The records the tokens module stores and its routes answer, and the bodies of its relay
 * routes. Pure (zod only). A stored token holds its PAN only as the vault envelope; the routes
 * answer a token without it (`tokenViewSchema`).
 */

const roleEnum = z.enum(['issuer', 'requestor', 'acquirer', 'wallet']);

/** A registered participant of the token service. */
export const participantSchema = z.object({
  address: z.string(),
  name: z.string(),
  roles: z.array(roleEnum),
  /** The BINs an issuer owns (6 digits each); empty for other roles. */
  bins: z.array(z.string()),
  /** The merchant ids an acquirer acquires for; absent for other roles. */
  merchantIds: z.array(z.string()).optional(),
  registeredBy: z.string(),
  registeredAtHeight: z.number().int(),
});
export type Participant = z.infer<typeof participantSchema>;

/** The service's configuration: the BINs tokens are issued in. */
export const tokenServiceSchema = z.object({
  tokenBins: z.array(z.string()),
});
export type TokenService = z.infer<typeof tokenServiceSchema>;

const domainRecordSchema = z.object({
  channels: z.array(z.string()),
  merchantIds: z.array(z.string()),
  expiresAt: z.number().int().optional(),
});

const vaultRecordSchema = z.object({
  kekId: z.string(),
  wrappedKey: z.string(),
  iv: z.string(),
  ciphertext: z.string(),
});

/** What a token's record says to anyone who reads it (no envelope). */
export const tokenViewSchema = z.object({
  token: z.string(),
  status: z.enum(tokenStatuses),
  /** The sequence number of the token's last lifecycle event (0 after provision). */
  seq: z.number().int(),
  requestor: z.string(),
  requestId: z.string(),
  issuer: z.string(),
  wallet: z.string().optional(),
  /** The PAN's BIN and last four digits (PCI DSS lets both be shown). */
  bin: z.string(),
  last4: z.string(),
  expiry: z.string(),
  domain: domainRecordSchema,
  assuranceLevel: z.string(),
  /** The requestor's (or, after a PAN update, the issuer's) commitment to the PAN. */
  commitment: z.string(),
  suspendedBy: z.enum(tokenInitiators).optional(),
  lastReason: z.string().optional(),
  detokenisations: z.number().int(),
  /** The `token.provision` tx. */
  provisionTxHash: z.string(),
  provisionedAtHeight: z.number().int(),
  provisionedAt: z.number().int(),
  updatedAtHeight: z.number().int(),
});
export type TokenView = z.infer<typeof tokenViewSchema>;

/**
 * A token as state holds it: its view, the PAN's keyed fingerprint and its vault envelope. The
 * fingerprint is not in the view: the same PAN gives the same value, so a public read would let
 * anyone link every token of one card.
 */
export const tokenRecordSchema = tokenViewSchema.extend({
  /** HMAC-SHA-256 of the PAN under the vault's fingerprint key: the same PAN, the same value. */
  fingerprint: z.string(),
  vault: vaultRecordSchema,
});
export type TokenRecord = z.infer<typeof tokenRecordSchema>;

// ---- relay routes --------------------------------------------------------------------------------

/** `POST /v1/tokens`: a requestor's signed request for a token for a PAN. */
export interface ProvisionRequestBody {
  requestor: string;
  requestId: string;
  pan: string;
  /** 32 random bytes, 64 lowercase hex digits: the salt of the PAN commitment. */
  panSalt: string;
  expiry: string;
  domain: { channels: string[]; merchantIds: string[]; expiresAt?: number };
  assuranceLevel: string;
  wallet?: string;
  signature: string;
}

/** `POST /v1/tokens/:token/pan-update`: the issuer's signed new expiry or PAN. */
export interface PanUpdateBody {
  issuer: string;
  seq: number;
  reason: string;
  expiry: string;
  pan?: string;
  panSalt?: string;
  signature: string;
}

/** `POST /v1/tokens/:token/detokenise`: an issuer's or acquirer's signed request. */
export interface DetokeniseBody {
  party: string;
  n: number;
  purpose: string;
  channel: string;
  merchantId?: string;
  signature: string;
}

/** What a relay route answers: the tx, and the token once it committed. */
export const relayResultSchema = z.object({
  status: z.enum(['recorded', 'pending']),
  txHash: z.string(),
  height: z.number().int().optional(),
  token: tokenViewSchema.optional(),
});
export type RelayResult = z.infer<typeof relayResultSchema>;

/** What detokenisation answers: the PAN, to the party that asked, once recorded. */
export const detokeniseResultSchema = z.object({
  token: z.string(),
  pan: z.string(),
  expiry: z.string(),
  n: z.number().int(),
  txHash: z.string(),
  height: z.number().int(),
});
export type DetokeniseResult = z.infer<typeof detokeniseResultSchema>;

/** A relay refusal: the error, and the tx when one was submitted. */
export const relayErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
  txHash: z.string().optional(),
  height: z.number().int().optional(),
});

/** `POST /v1/token-service/rewrap`: a validator operator's signed request to re-wrap data keys. */
export interface RewrapBody {
  operator: string;
  /** The KEK the operator means to wrap under: the node's current one, or `vault_key_mismatch`. */
  kekId: string;
  /** Continue after this token (the previous answer's `next`). */
  after?: string;
  /** Envelopes to re-wrap in this call, 1 to 100. */
  limit: number;
  signature: string;
}

/** What a re-wrap answers: how many envelopes moved to the current KEK, and where to go on. */
export const rewrapResultSchema = z.object({
  kekId: z.string(),
  rewrapped: z.number().int(),
  txHash: z.string().optional(),
  height: z.number().int().optional(),
  /** The last token looked at: pass it as `after` to continue; absent at the end. */
  next: z.string().optional(),
});
export type RewrapResult = z.infer<typeof rewrapResultSchema>;
