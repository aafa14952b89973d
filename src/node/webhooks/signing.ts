import crypto from 'node:crypto';

/**
 * The Standard Webhooks scheme (https://www.standardwebhooks.com): a secret `whsec_<base64 key>`,
 * and for each request the headers `webhook-id`, `webhook-timestamp` (Unix seconds) and
 * `webhook-signature` = `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`.
 */

export const secretPrefix = 'whsec_';
/** The scheme asks for 24 to 64 bytes of key; a generated secret takes 32. */
export const secretKeyBytesMin = 24;
export const secretKeyBytesMax = 64;
const generatedKeyBytes = 32;

/** Why a secret is refused, or undefined when it is a `whsec_` secret of 24 to 64 bytes. */
export function secretProblem(secret: string): string | undefined {
  if (!secret.startsWith(secretPrefix)) return `a secret starts with ${secretPrefix}`;
  const encoded = secret.slice(secretPrefix.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
    return `after ${secretPrefix} a secret is standard base64 (A-Z a-z 0-9 + /, = padding)`;
  }
  const bytes = Buffer.from(encoded, 'base64').length;
  if (bytes < secretKeyBytesMin || bytes > secretKeyBytesMax) {
    return `a secret's key is ${secretKeyBytesMin} to ${secretKeyBytesMax} bytes, this one ${bytes}`;
  }
  return undefined;
}

/** A new random secret (32 bytes of key). */
export function generateSecret(): string {
  return secretPrefix + crypto.randomBytes(generatedKeyBytes).toString('base64');
}

/** What `list` shows of a secret: its prefix and last 4 characters, never enough to sign. */
export function secretHint(secret: string): string {
  return `${secretPrefix}…${secret.slice(-4)}`;
}

/** The `webhook-signature` header of one request. Throws on a malformed secret (a bug: stored ones are checked). */
export function signWebhook(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string,
): string {
  const problem = secretProblem(secret);
  if (problem !== undefined) throw new Error(`signWebhook secret: ${problem}`);
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new Error(
      `signWebhook timestampSeconds: a whole number of seconds, got ${timestampSeconds}`,
    );
  }
  const key = Buffer.from(secret.slice(secretPrefix.length), 'base64');
  const mac = crypto.createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`);
  return `v1,${mac.digest('base64')}`;
}

/**
 * The `webhook-id` of an event: it names the event, not the delivery, so it is the same on every
 * attempt, after a crash, after a replay, in every subscription and on every node of the chain.
 * Receivers deduplicate by it. The block hash pins the chain (a new dev chain at the same heights
 * gets new ids); the tx and event indexes pin the event in the block.
 */
export function webhookId(blockHash: string, txIndex: number, eventIndex: number): string {
  const digest = crypto
    .createHash('sha256')
    .update(`coffer-webhook:${blockHash}:${txIndex}:${eventIndex}`)
    .digest('hex');
  return `evt_${digest.slice(0, 32)}`;
}
