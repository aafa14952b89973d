import crypto from 'node:crypto';
import { z } from 'zod';
// The Standard Webhooks signer the node's own webhooks use. It lives in src/node, a layer above
// src/modules (docs/architecture.md, "Layers"); the file is a leaf (node:crypto only), so this
// import loads nothing of the node. It belongs in a lower layer (src/crypto or src/protocol),
// which would be a move of its own, not part of this change.
import { secretProblem, signWebhook } from '../../../node/webhooks/signing.js';
import type { Deposit, PayoutState } from '../engine/ledgers.js';

/*
 * The provider protocol's wire (docs/bridge-http.md): what a payment provider and the conversion
 * engine send each other over HTTP, as zod schemas, and the check of a deposit notification's
 * Standard Webhooks signature. Pure: no clock (`now` comes in), no I/O. Amounts travel as decimal
 * strings of minor units and become bigint here; never a float.
 */

// ---------------------------------------------------------------------------------------------
// Limits. Each bounds what one side stores or reads of the other's input.

/** Decimal digits of an amount: 78 hold any 256-bit integer, the largest an EVM token uses. */
export const amountDigitsMax = 78;
/** An id (deposit, payout, idempotency key, webhook-id): short enough to index, long enough for a UUID with a prefix. */
export const idLengthMax = 64;
/** An account, sender or recipient at the provider (an IBAN is 34, a provider's handle longer). */
export const accountLengthMax = 128;
/** An asset's code at the provider (ISO 4217 is 3; token symbols up to 32). */
export const assetLengthMax = 32;
/** A payment reference: 140 characters, the SEPA remittance information. */
export const referenceLengthMax = 140;
/** A failure reason the provider gives. */
export const reasonLengthMax = 200;
/** Bytes of a request or notification body: a payout or a deposit is well under 2 KiB. */
export const bodyBytesMax = 16 * 1024;
/** How far a notification's webhook-timestamp may be from `now`, either way (Standard Webhooks). */
export const timestampToleranceMs = 5 * 60 * 1000;
/** Signatures in one webhook-signature header (a provider rotating its secret sends two). */
export const signaturesMax = 8;

// ---------------------------------------------------------------------------------------------
// Fields.

const idPattern = /^[A-Za-z0-9_\-:.]+$/;
const accountPattern = /^[A-Za-z0-9_\-:.@+/]+$/;
const assetPattern = /^[A-Za-z0-9_\-.]+$/;
const amountPattern = new RegExp(`^(0|[1-9][0-9]{0,${amountDigitsMax - 1}})$`);

/** An id or an idempotency key: 1 to 64 of A-Z a-z 0-9 _ - : . */
export const idSchema = z.string().min(1).max(idLengthMax).regex(idPattern);
export const accountSchema = z.string().min(1).max(accountLengthMax).regex(accountPattern);
export const assetSchema = z.string().min(1).max(assetLengthMax).regex(assetPattern);
/** A non-negative amount of minor units as a decimal string without leading zeros. */
export const amountSchema = z.string().regex(amountPattern);
/** A positive amount (a deposit, a payout). */
export const positiveAmountSchema = amountSchema.refine((s) => s !== '0', 'must be positive');
/** Printable text without control characters. */
export const referenceSchema = z
  .string()
  .max(referenceLengthMax)
  // eslint-disable-next-line no-control-regex
  .regex(/^[^\u0000-\u001f\u007f]*$/);

/** A bigint amount as its wire form. Throws on a negative or oversized amount (a bug). */
export function formatAmount(amount: bigint, field = 'amount'): string {
  if (typeof amount !== 'bigint' || amount < 0n) {
    throw new RangeError(`${field}: a non-negative bigint of minor units, got ${String(amount)}`);
  }
  const text = amount.toString();
  if (text.length > amountDigitsMax) {
    throw new RangeError(`${field}: at most ${amountDigitsMax} digits, got ${text.length}`);
  }
  return text;
}

// ---------------------------------------------------------------------------------------------
// Deposit notifications: provider -> engine, POST to the engine's webhook URL.

export const depositNotificationType = 'deposit.received';

export const depositNotificationSchema = z.object({
  type: z.literal(depositNotificationType),
  deposit: z.object({
    id: idSchema,
    /** The engine's account at the provider, which received the deposit. */
    account: accountSchema,
    asset: assetSchema,
    amount: positiveAmountSchema,
    sender: accountSchema,
    reference: referenceSchema,
    receivedAt: z.iso.datetime({ offset: true }),
  }),
});
export type DepositNotification = z.infer<typeof depositNotificationSchema>;

// ---------------------------------------------------------------------------------------------
// Payouts: engine -> provider, POST /v1/payouts.

export const idempotencyKeyHeader = 'idempotency-key';
export const idempotencyKeySchema = idSchema;

export const payoutRequestSchema = z.strictObject({
  asset: assetSchema,
  amount: positiveAmountSchema,
  recipient: accountSchema,
  reference: referenceSchema.optional(),
});
export type PayoutRequest = z.infer<typeof payoutRequestSchema>;

export const payoutStatusSchema = z.enum(['pending', 'completed', 'failed']);
export type PayoutStatus = z.infer<typeof payoutStatusSchema>;

/** A payout as the provider answers it (POST /v1/payouts, GET /v1/payouts/:id). */
export const payoutAnswerSchema = z
  .object({
    id: idSchema,
    status: payoutStatusSchema,
    /** Why it failed: only on `failed`. */
    reason: z.string().min(1).max(reasonLengthMax).optional(),
    asset: assetSchema,
    amount: positiveAmountSchema,
    recipient: accountSchema,
  })
  .refine((p) => (p.status === 'failed') === (p.reason !== undefined), {
    message: 'a reason is given with status failed, and only then',
    path: ['reason'],
  });
export type PayoutAnswer = z.infer<typeof payoutAnswerSchema>;

/** The engine's view of a payout answer. */
export function payoutStateOf(answer: PayoutAnswer): PayoutState {
  if (answer.status === 'failed') {
    return { state: 'failed', payoutId: answer.id, reason: answer.reason ?? 'unknown' };
  }
  return { state: answer.status, payoutId: answer.id };
}

// ---------------------------------------------------------------------------------------------
// Balances: GET /v1/accounts/:account/balances.

/** Assets listed in one balance answer. */
export const balanceAssetsMax = 256;

export const balanceAnswerSchema = z.object({
  account: accountSchema,
  /** Spendable amount per asset; an asset not listed is 0. */
  balances: z.array(z.object({ asset: assetSchema, amount: amountSchema })).max(balanceAssetsMax),
});
export type BalanceAnswer = z.infer<typeof balanceAnswerSchema>;

// ---------------------------------------------------------------------------------------------
// Errors: every non-2xx answer is `{"error":{"code","message","field"?}}`.

/** The protocol's error codes with their HTTP status: one table, documented in docs/bridge-http.md. */
export const providerApiErrors = {
  invalid_request: { status: 400, message: 'The body is not a valid request.' },
  invalid_idempotency_key: {
    status: 400,
    message: 'Idempotency-Key is required: 1 to 64 of A-Z a-z 0-9 _ - : .',
  },
  unauthorized: { status: 401, message: 'Send Authorization: Bearer <api key>.' },
  forbidden: { status: 403, message: 'This API key may not read that account.' },
  not_found: { status: 404, message: 'No such route.' },
  payout_not_found: { status: 404, message: 'No payout has this id.' },
  account_not_found: { status: 404, message: 'No account has this id.' },
  method_not_allowed: { status: 405, message: 'The route does not take this method.' },
  body_too_large: { status: 413, message: 'The body is larger than 16 KiB.' },
  unsupported_media_type: { status: 415, message: 'Send Content-Type: application/json.' },
  idempotency_key_reused: {
    status: 422,
    message: 'This Idempotency-Key was used with another request body.',
  },
  payouts_full: {
    status: 503,
    message: 'The provider stores no more payouts for now: retry later.',
  },
  internal: { status: 500, message: 'The provider failed; retry with the same Idempotency-Key.' },
} as const satisfies Record<string, { status: number; message: string }>;
export type ProviderApiErrorCode = keyof typeof providerApiErrors;

export const errorAnswerSchema = z.object({
  error: z.object({
    code: z.string().min(1).max(64),
    message: z.string().max(1000),
    field: z.string().max(200).optional(),
  }),
});
export type ErrorAnswer = z.infer<typeof errorAnswerSchema>;

/** The error body for `code`, with its table message unless one is given. */
export function errorAnswer(
  code: ProviderApiErrorCode,
  message?: string,
  field?: string,
): ErrorAnswer {
  return {
    error: {
      code,
      message: message ?? providerApiErrors[code].message,
      ...(field === undefined ? {} : { field }),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Signing and verifying deposit notifications (Standard Webhooks).

export const webhookHeaders = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

/** The three Standard Webhooks headers of a notification `body`, signed with `secret`. */
export function signNotification(
  secret: string,
  webhookId: string,
  timestampSeconds: number,
  body: string,
): Record<string, string> {
  if (!idPattern.test(webhookId) || webhookId.length > idLengthMax) {
    throw new RangeError(`signNotification webhookId: 1 to ${idLengthMax} of [A-Za-z0-9_-:.]`);
  }
  return {
    [webhookHeaders.id]: webhookId,
    [webhookHeaders.timestamp]: String(timestampSeconds),
    [webhookHeaders.signature]: signWebhook(secret, webhookId, timestampSeconds, body),
  };
}

/** Why a notification is refused, in the order the checks run. */
export type NotificationRejection =
  /** The body is over `bodyBytesMax`, or not UTF-8. */
  | 'invalid_notification'
  /** A webhook header is missing or malformed, or no signature matches. */
  | 'invalid_signature'
  /** webhook-timestamp is more than 5 minutes from `now`, either way. */
  | 'stale_timestamp'
  /** `seen` holds this webhook-id: the notification was delivered already. */
  | 'replayed_notification'
  /** Signed, but the deposit is for another account than `account`. */
  | 'account_mismatch';

export type NotificationVerification =
  | {
      ok: true;
      deposit: Deposit;
      /** The engine's account the deposit went to. */
      account: string;
      /** When the provider received it (ISO 8601, as sent). */
      receivedAt: string;
      /** The webhook-id: record it in `seen` once the deposit is stored. */
      webhookId: string;
    }
  | { ok: false; code: NotificationRejection; message: string };

/** Request headers as Node (`IncomingHttpHeaders`) or fetch (`Headers`) gives them. */
export type HeadersLike = Headers | Record<string, string | string[] | undefined>;

function headerOf(headers: HeadersLike, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
    return value;
  }
  return undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Checks a deposit notification: its Standard Webhooks signature with `secret` (any of the
 * space-separated `v1,` signatures may match; compared in constant time), its timestamp within 5
 * minutes of `now`, its webhook-id not in `seen`, and its body against the schema. Returns the
 * deposit, or the first failed check's code. Reads no clock and records nothing: the caller adds
 * `webhookId` to `seen` once it has stored the deposit, so a delivery that failed before that is
 * accepted when the provider retries it. `seen` needs to hold ids for 10 minutes (twice the
 * tolerance): an older notification is refused as stale anyway.
 *
 * A receiver answers 2xx to `replayed_notification` (it has the deposit) and 4xx to the others.
 * Throws only on a malformed `secret` (configuration, checked at start-up).
 */
export function verifyDepositNotification(input: {
  headers: HeadersLike;
  rawBody: string | Uint8Array;
  secret: string;
  now: Date;
  seen: { has(webhookId: string): boolean };
  /** The engine's account at the provider: a deposit to another is refused. */
  account?: string;
}): NotificationVerification {
  const { headers, rawBody, secret, now, seen, account } = input;
  const problem = secretProblem(secret);
  if (problem !== undefined) throw new RangeError(`verifyDepositNotification secret: ${problem}`);
  const nowMs = now.getTime();
  if (!Number.isFinite(nowMs)) throw new RangeError('verifyDepositNotification now: a valid Date');
  const reject = (code: NotificationRejection, message: string): NotificationVerification => ({
    ok: false,
    code,
    message,
  });

  const bytes = typeof rawBody === 'string' ? Buffer.byteLength(rawBody) : rawBody.byteLength;
  if (bytes > bodyBytesMax) {
    return reject('invalid_notification', `the body is ${bytes} bytes, at most ${bodyBytesMax}`);
  }
  let body: string;
  try {
    body = typeof rawBody === 'string' ? rawBody : utf8.decode(rawBody);
  } catch {
    return reject('invalid_notification', 'the body is not UTF-8');
  }

  const id = headerOf(headers, webhookHeaders.id);
  const timestampText = headerOf(headers, webhookHeaders.timestamp);
  const signatureHeader = headerOf(headers, webhookHeaders.signature);
  if (id === undefined || id.length === 0 || id.length > idLengthMax || !idPattern.test(id)) {
    return reject('invalid_signature', `${webhookHeaders.id} is missing or malformed`);
  }
  if (timestampText === undefined || !/^[0-9]{1,12}$/.test(timestampText)) {
    return reject(
      'invalid_signature',
      `${webhookHeaders.timestamp} is missing or not Unix seconds`,
    );
  }
  if (signatureHeader === undefined || signatureHeader.length === 0) {
    return reject('invalid_signature', `${webhookHeaders.signature} is missing`);
  }
  const timestampSeconds = Number(timestampText);
  const expected = Buffer.from(
    signWebhook(secret, id, timestampSeconds, body).slice('v1,'.length),
    'base64',
  );
  const candidates = signatureHeader.split(' ').filter((s) => s.length > 0);
  if (candidates.length > signaturesMax) {
    return reject('invalid_signature', `more than ${signaturesMax} signatures`);
  }
  let matched = false;
  for (const candidate of candidates) {
    if (!candidate.startsWith('v1,')) continue; // another scheme (v1a: asymmetric) is not ours
    const given = Buffer.from(candidate.slice('v1,'.length), 'base64');
    // Every candidate is compared, a match or not: the time taken says nothing of which matched.
    if (given.length === expected.length && crypto.timingSafeEqual(given, expected)) matched = true;
  }
  if (!matched) return reject('invalid_signature', 'no signature matches the secret');

  const skewMs = nowMs - timestampSeconds * 1000;
  if (Math.abs(skewMs) > timestampToleranceMs) {
    return reject(
      'stale_timestamp',
      `${webhookHeaders.timestamp} is ${Math.round(skewMs / 1000)} s from now, at most ${timestampToleranceMs / 1000}`,
    );
  }
  if (seen.has(id)) return reject('replayed_notification', `${id} was delivered already`);

  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return reject('invalid_notification', 'the body is not JSON');
  }
  const parsed = depositNotificationSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join('.') ?? '';
    return reject('invalid_notification', `${path}: ${issue?.message ?? 'invalid'}`);
  }
  const { deposit } = parsed.data;
  if (account !== undefined && deposit.account !== account) {
    return reject(
      'account_mismatch',
      `the deposit is for account ${deposit.account}, not ${account}`,
    );
  }
  return {
    ok: true,
    deposit: {
      depositId: deposit.id,
      asset: deposit.asset,
      amount: BigInt(deposit.amount),
      sender: deposit.sender,
      reference: deposit.reference,
    },
    account: deposit.account,
    receivedAt: deposit.receivedAt,
    webhookId: id,
  };
}
