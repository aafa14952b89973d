import { canonicalBytes, concatBytes, sha256, toHex, utf8 } from '../../crypto/index.js';

/*
 * Proof-of-work stamps (issue 22), hashcash-style and pure: the node's handlers check them, the
 * CLI and the console mint them. A stamp binds what is posted (its kind and the SHA-256 of its
 * body), who posts it, and a recent block hash (so it cannot be minted long in advance), with a
 * nonce the sender searches for until the stamp hash has enough leading zero bits.
 *
 *   stampHash = SHA-256(canonicalBytes([stampDomain, kind, contentHash, sender, nonce, blockHash]))
 *
 * (canonicalBytes is RFC 8785 JSON: an array of plain strings, so no field can run into the next.)
 *
 * Difficulty by rule from chain state, so every node agrees (`requiredDifficulty`):
 *   bits = base + ilog2(1 + floor(senderRecent / 2)) + ilog2(1 + floor(subjectRecent / 16)),
 *   capped at `difficultyCap`, where the recent counts are the sender's (and the subject's)
 *   questions and answers in the current and the previous window of `windowBlocks` heights.
 * A sender posting 2 in two windows pays 2x the work, 6 pays 4x, 14 pays 8x; a subject under 16
 * posts adds nothing. Quiet for two windows, it is back at base. Each extra bit doubles the work.
 */

export const stampDomain = 'coffer/scholarship/stamp/v1';
export const stampKinds = ['question', 'answer'] as const;
export type StampKind = (typeof stampKinds)[number];

/** The stateless admission floor: a stamp with fewer bits is refused before it reaches a block. */
export const difficultyMin = 8;
/**
 * The default base difficulty: 12 bits, about 4,096 SHA-256 evaluations (a few milliseconds on a
 * laptop, well under a second in a browser). A chain sets another in its genesis section
 * (`scholarship.difficultyBase`, from `difficultyMin` to `difficultyCap`); tests use 8.
 */
export const difficultyBaseDefault = 12;
/** The most any stamp needs: 26 bits, about 67 million evaluations (a minute or so on a laptop). */
export const difficultyCap = 26;
/** The window of the load counts, in heights. */
export const windowBlocks = 100;
/** The sender's recent posts per extra bit step (`ilog2(1 + senderRecent / 2)`). */
export const senderLoadDivisor = 2;
/** The subject's recent posts per extra bit step (`ilog2(1 + subjectRecent / 16)`). */
export const subjectLoadDivisor = 16;
/** How many recent blocks a stamp may name (the module keeps their hashes in a ring). */
export const recentBlocks = 64;

export const noncePattern = /^[0-9a-f]{1,32}$/;
export const blockHashPattern = /^[0-9a-f]{64}$/;

export interface Stamp {
  nonce: string;
  blockHash: string;
}

export interface StampFields {
  kind: StampKind;
  /** The SHA-256 of the posted body, 64 lowercase hex (the payload's `bodyHash`). */
  contentHash: string;
  sender: string;
  blockHash: string;
}

function checkFields(fields: StampFields): void {
  if (!(stampKinds as readonly string[]).includes(fields.kind)) {
    throw new TypeError(`kind must be one of ${stampKinds.join(', ')}`);
  }
  if (!blockHashPattern.test(fields.contentHash)) {
    throw new TypeError('contentHash must be 64 lowercase hex digits');
  }
  if (!blockHashPattern.test(fields.blockHash)) {
    throw new TypeError('blockHash must be 64 lowercase hex digits');
  }
  if (typeof fields.sender !== 'string' || fields.sender.length === 0) {
    throw new TypeError('sender must be an address');
  }
}

/** The stamp hash (32 bytes) of `fields` with `nonce`. */
export function stampHash(fields: StampFields, nonce: string): Uint8Array {
  checkFields(fields);
  if (!noncePattern.test(nonce)) throw new TypeError('nonce must be 1 to 32 lowercase hex digits');
  return sha256(
    canonicalBytes([
      stampDomain,
      fields.kind,
      fields.contentHash,
      fields.sender,
      nonce,
      fields.blockHash,
    ]),
  );
}

export function stampHashHex(fields: StampFields, nonce: string): string {
  return toHex(stampHash(fields, nonce));
}

/** The number of leading zero bits of `hash`. */
export function leadingZeroBits(hash: Uint8Array): number {
  let bits = 0;
  for (const byte of hash) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

/** The leading zero bits of a stamp's hash. */
export function stampBits(fields: StampFields, nonce: string): number {
  return leadingZeroBits(stampHash(fields, nonce));
}

/** floor(log2(n)) for n >= 1 (0 for n < 1): integer only. */
export function ilog2(n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) return 0;
  let bits = 0;
  let rest = n;
  while (rest > 1) {
    rest = Math.floor(rest / 2);
    bits += 1;
  }
  return bits;
}

/** The difficulty rule (see the header), from the recent counts and the chain's base. */
export function difficultyFor(base: number, senderRecent: number, subjectRecent: number): number {
  const bits =
    base +
    ilog2(1 + Math.floor(senderRecent / senderLoadDivisor)) +
    ilog2(1 + Math.floor(subjectRecent / subjectLoadDivisor));
  return Math.min(difficultyCap, bits);
}

/** Largest amount of nonces `mintStamp` tries before it gives up (2^40: never, in practice). */
const mintTriesMax = 2 ** 40;

/**
 * Searches nonces 0, 1, 2, ... (as hex) until the stamp has `bits` leading zero bits: for
 * clients (the CLI, the console), never for handlers. Expected work: 2^bits hashes. The bytes
 * hashed are built once around the nonce (the canonical text of the array, whose strings need no
 * escaping), checked against `stampHash` for the stamp found.
 */
export function mintStamp(fields: StampFields, bits: number): Stamp {
  checkFields(fields);
  if (!Number.isSafeInteger(bits) || bits < 0 || bits > difficultyCap) {
    throw new TypeError(`bits must be an integer from 0 to ${difficultyCap}`);
  }
  const head = canonicalBytes([
    stampDomain,
    fields.kind,
    fields.contentHash,
    fields.sender,
    '',
    fields.blockHash,
  ]);
  const text = new TextDecoder().decode(head);
  const cut = text.indexOf('"",');
  const prefix = utf8(text.slice(0, cut + 1));
  const suffix = utf8(text.slice(cut + 1));
  for (let counter = 0; counter < mintTriesMax; counter += 1) {
    const nonce = counter.toString(16);
    const hash = sha256(concatBytes(prefix, utf8(nonce), suffix));
    if (leadingZeroBits(hash) >= bits) {
      if (leadingZeroBits(stampHash(fields, nonce)) < bits)
        throw new Error('mintStamp: bytes differ');
      return { nonce, blockHash: fields.blockHash };
    }
  }
  throw new Error('mintStamp: no nonce found');
}

// ---- reputation ----------------------------------------------------------------------------------

/** z^2 for z = 1.96 (95 %), as a fraction over `wilsonScale`: 3.8416. */
const wilsonZ2 = 38_416n;
const wilsonScale = 10_000n;
/** The whole, in basis points. */
export const basisPoints = 10_000;

/** floor(sqrt(n)) for a bigint n >= 0 (Newton). */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError('isqrt of a negative number');
  if (n < 2n) return n;
  let x = n;
  let y = (x + 1n) / 2n;
  while (y < x) {
    x = y;
    y = (x + n / x) / 2n;
  }
  return x;
}

/**
 * A tutor's reputation in a subject: the Wilson score lower bound (z = 1.96) of the share of its
 * answers that were accepted, in basis points, in integers only:
 *
 *   lower = (2s + z^2 - sqrt(z^2 (z^2 n + 4 s (n - s)) / n)) / (2 (n + z^2))
 *
 * for s accepted of n answers (answers of closed questions), with the square root rounded up (so
 * the bound never overstates) and the quotient rounded down. 0 for no answers; 1 of 1 gives
 * 2065, 10 of 10 gives 7224, 5 of 10 gives 2365.
 */
export function wilsonLowerBound(accepted: number, total: number): number {
  if (!Number.isSafeInteger(total) || !Number.isSafeInteger(accepted)) return 0;
  if (total <= 0 || accepted <= 0) return 0;
  const n = BigInt(total);
  const s = BigInt(Math.min(accepted, total));
  const radicand = wilsonZ2 * (wilsonZ2 * n + 4n * wilsonScale * s * (n - s));
  const quotient = (radicand + n - 1n) / n;
  let root = isqrt(quotient);
  if (root * root < quotient) root += 1n;
  const numerator = 2n * s * wilsonScale + wilsonZ2 - root;
  if (numerator <= 0n) return 0;
  const denominator = 2n * (n * wilsonScale + wilsonZ2);
  return Number((numerator * BigInt(basisPoints)) / denominator);
}
