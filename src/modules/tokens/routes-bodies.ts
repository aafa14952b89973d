import { z } from 'zod';
import { rejectionCodeFor } from '../../protocol/schema.js';
import { isCardNumber, rewrapEntriesMax, tokenDomainSchema, tokenFields } from './schema.js';

/*
 * The relay routes' request bodies: a loose shape for Fastify (so that a bad value reaches the
 * handler and is refused with its own code, not as `invalid_request`) and the field checks with
 * their codes. No check's message holds the value it refused: a refused PAN is never echoed.
 */

/** Bytes of a relay request body: a provision with 20 merchant ids is far below. */
export const relayBodyBytesMax = 8 * 1024;

const looseDomain = z.strictObject({
  channels: z.array(z.string()).max(8),
  merchantIds: z.array(z.string()).max(64),
  expiresAt: z.number().optional(),
});

export const provisionBodySchema = z.strictObject({
  requestor: z.string(),
  requestId: z.string(),
  pan: z.string().meta({ description: 'The PAN, 13 to 19 digits; never stored or logged' }),
  panSalt: z.string().meta({ description: '32 random bytes, hex: the PAN commitment salt' }),
  expiry: z.string(),
  domain: looseDomain,
  assuranceLevel: z.string(),
  wallet: z.string().optional(),
  signature: z.string(),
});

export const panUpdateBodySchema = z.strictObject({
  issuer: z.string(),
  seq: z.number(),
  reason: z.string(),
  expiry: z.string(),
  pan: z.string().optional(),
  panSalt: z.string().optional(),
  signature: z.string(),
});

export const detokeniseBodySchema = z.strictObject({
  party: z.string(),
  n: z.number(),
  purpose: z.string(),
  channel: z.string(),
  merchantId: z.string().optional(),
  signature: z.string(),
});

export const rewrapBodySchema = z.strictObject({
  operator: z.string(),
  kekId: z.string(),
  after: z.string().optional(),
  limit: z.number(),
  signature: z.string(),
});

const panField = z.string().refine(isCardNumber);
/**
 * Distinct byte values a PAN salt must have: 32 random bytes have about 28, fewer than 16 happens
 * with probability below 1e-9, while a constant or counter salt (which would make the ledger's
 * commitment a hash anyone can try every PAN against) has one or two.
 */
export const panSaltDistinctBytesMin = 16;

/** True unless the salt is plainly not random (see `panSaltDistinctBytesMin`). */
export function saltLooksRandom(salt: string): boolean {
  const bytes = new Set(salt.match(/../g));
  return bytes.size >= panSaltDistinctBytesMin;
}

const saltField = z
  .string()
  .regex(/^[0-9a-f]{64}$/, { abort: true })
  .refine(saltLooksRandom);

/** The checks of each body's fields, in order, with their codes. */
const checks: Record<
  'provision' | 'panUpdate' | 'detokenise' | 'rewrap',
  [string, z.ZodType, string][]
> = {
  rewrap: [
    ['operator', tokenFields.address, 'invalid_address'],
    ['kekId', z.string().regex(/^[A-Za-z0-9_-]{1,32}$/), 'invalid_kek_id'],
    ['after', tokenFields.token.optional(), 'invalid_token'],
    ['limit', z.number().int().min(1).max(rewrapEntriesMax), 'invalid_rewrap_limit'],
    ['signature', tokenFields.signature, 'invalid_signature'],
  ],
  provision: [
    ['requestor', tokenFields.address, 'invalid_address'],
    ['requestId', tokenFields.requestId, 'invalid_request_id'],
    ['pan', panField, 'invalid_pan'],
    ['panSalt', saltField, 'invalid_pan_salt'],
    ['expiry', tokenFields.expiry, 'invalid_card_expiry'],
    ['domain', tokenDomainSchema, 'invalid_domain'],
    ['assuranceLevel', tokenFields.assuranceLevel, 'invalid_assurance_level'],
    ['wallet', tokenFields.address.optional(), 'invalid_address'],
    ['signature', tokenFields.signature, 'invalid_signature'],
  ],
  panUpdate: [
    ['issuer', tokenFields.address, 'invalid_address'],
    ['seq', tokenFields.seq, 'invalid_sequence'],
    ['reason', tokenFields.reason, 'invalid_reason'],
    ['expiry', tokenFields.expiry, 'invalid_card_expiry'],
    ['pan', panField.optional(), 'invalid_pan'],
    ['panSalt', saltField.optional(), 'invalid_pan_salt'],
    ['signature', tokenFields.signature, 'invalid_signature'],
  ],
  detokenise: [
    ['party', tokenFields.address, 'invalid_address'],
    ['n', z.number().int().min(1).max(Number.MAX_SAFE_INTEGER), 'invalid_detokenisation'],
    ['purpose', tokenFields.purpose, 'invalid_purpose'],
    ['channel', tokenFields.channel, 'invalid_channel'],
    ['merchantId', tokenFields.merchantId.optional(), 'invalid_merchant_id'],
    ['signature', tokenFields.signature, 'invalid_signature'],
  ],
};

/** The first field of a body its checks refuse, with the code; undefined when all pass. */
export function bodyRefusal(
  kind: keyof typeof checks,
  body: Record<string, unknown>,
): { code: string; field: string } | undefined {
  for (const [key, schema, fallback] of checks[kind]) {
    const result = schema.safeParse(body[key]);
    if (!result.success) {
      return { code: rejectionCodeFor(schema, result.error, fallback), field: key };
    }
  }
  return undefined;
}
