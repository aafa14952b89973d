import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';

import { backend } from './backend.js';
import { BoundedCache } from './bounded-cache.js';
import { bytesEqual, concatBytes, fromHex, toHex, utf8 } from './bytes.js';
import { CryptoInputError } from './errors.js';
import { SMALL_ORDER_ENCODINGS } from './keys.js';

/**
 * Accountable signatures: Schnorr over the ed25519 group whose nonce depends only on the
 * signer's nonce secret, the chain and the height, never on the message (DESIGN.md, "Accountable
 * block signatures").
 *
 *   x   = SHA-512("coffer/accountable/key/v1" || seed) mod L           (secret scalar, nonzero)
 *   P   = x * G                                                        (public key)
 *   k_h = SHA-512("coffer/accountable/nonce/v1" || nonceSecret || chainId || h) mod L
 *   R_h = k_h * G
 *   c   = SHA-512(R_h || P || "coffer/accountable/challenge/v1" || h || message) mod L
 *   s   = k_h + c * x mod L
 *
 * where h is the height as 8 bytes big-endian. Two signatures at one height on different
 * messages share R_h, so anyone holding both computes x = (s1 - s2) / (c1 - c2) mod L.
 *
 * The challenge is RFC 8032's `SHA-512(R || A || M)` with the domain tag and the height at the
 * front of M (the domain tag sits inside M rather than before R so the layout stays RFC 8032's).
 * So every accountable signature is also a plain ed25519 signature (R || s) of
 * `accountableSignedMessage(h, message)` by P, and verification runs through the crypto backend's
 * ed25519 check (backend.ts; OpenSSL's: cofactorless, rejects s >= L, compares the encoding of
 * sB - cP with R byte for byte), on node:crypto about 20x faster than the same check in
 * JavaScript (noble: ~2.8 ms), which the portable backend spells out for browsers. The key itself
 * is not an RFC 8032 key (x is not a clamped hash of a seed), so it is never usable for
 * `keys.ts` signing, and the domain tag keeps these messages apart from every other signed
 * message (`coffer/tx/v1`, ...).
 *
 * Public keys must be canonical encodings of points in the prime-order subgroup. A key with a
 * torsion component could pass a cofactorless check for a ground header without any x where
 * x * G = P, and then equivocation would not reveal its secret.
 */

const Point = ed25519.Point;
const L = Point.Fn.ORDER;

const SCALAR_LENGTH = 32;
const POINT_LENGTH = 32;
const SEED_LENGTH = 32;
const NONCE_SECRET_LENGTH = 32;

/** Longest chain id accepted in the nonce derivation, in UTF-8 bytes (config allows 63). */
export const chainIdBytesMax = 128;

/** Longest message accepted by sign, verify and extract. Messages are header hashes in practice. */
export const accountableMessageBytesMax = 64 * 1024;

export const accountableDomains = {
  key: 'coffer/accountable/key/v1',
  nonceSecret: 'coffer/accountable/nonce-secret/v1',
  nonce: 'coffer/accountable/nonce/v1',
  challenge: 'coffer/accountable/challenge/v1',
} as const;

const KEY_DOMAIN = utf8(accountableDomains.key);
const NONCE_SECRET_DOMAIN = utf8(accountableDomains.nonceSecret);
const NONCE_DOMAIN = utf8(accountableDomains.nonce);
const CHALLENGE_DOMAIN = utf8(accountableDomains.challenge);

// The canonical encodings of the eight points of small order (keys.ts): none is a usable R or P.

const LOWERCASE_HEX_64 = /^[0-9a-f]{64}$/;

// Checking a public key (decode plus a torsion check) costs about two verifies in JavaScript,
// so valid keys are remembered (the node backend caches their KeyObject too). Producers number
// in the tens; 10k also covers evidence naming keys of past producers.
const PUBLIC_KEY_CACHE_ENTRIES_MAX = 10_000;
const validPublicKeys = new BoundedCache<string, true>(PUBLIC_KEY_CACHE_ENTRIES_MAX);

// Keys whose public key was checked against x * G, by a hash of (x, P): a signer checks once.
const SIGNING_KEY_CACHE_ENTRIES_MAX = 1_024;
const checkedSigningKeys = new BoundedCache<string, true>(SIGNING_KEY_CACHE_ENTRIES_MAX);

/** A producer's accountable key. `secretScalar` and `nonceSecret` never leave the producer. */
export interface AccountableKey {
  /** x, in [1, L). */
  secretScalar: bigint;
  /** P = x * G, 32-byte compressed point. */
  publicKey: Uint8Array;
  /** 32 bytes from which every per-height nonce is derived. */
  nonceSecret: Uint8Array;
}

/** A signature at one height. Hex is lowercase: a signature has exactly one encoding. */
export interface AccountableSignature {
  height: number;
  /** R_h, 32-byte point, lowercase hex. */
  R: string;
  /** s, 32-byte little-endian scalar below L (as in ed25519), lowercase hex. */
  s: string;
}

/** A per-height nonce: k is secret, R = k * G is public (and committed in advance). */
export interface HeightNonce {
  k: bigint;
  R: Uint8Array;
}

function hash512(...parts: Uint8Array[]): Uint8Array {
  return backend.sha512(concatBytes(...parts));
}

function hash256(...parts: Uint8Array[]): Uint8Array {
  return backend.sha256(concatBytes(...parts));
}

/** A 64-byte digest reduced mod L: bias below 2^-250, as ed25519 does for its nonces. */
function wideReduce(digest: Uint8Array): bigint {
  return bytesToNumberLE(digest) % L;
}

function mod(value: bigint): bigint {
  const result = value % L;
  return result < 0n ? result + L : result;
}

function assertBytes(value: unknown, field: string, length: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new CryptoInputError(field, `${field} must be a Uint8Array`);
  }
  if (value.length !== length) {
    throw new CryptoInputError(field, `${field} must be ${length} bytes, got ${value.length}`);
  }
}

function assertMessage(value: unknown, field: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new CryptoInputError(field, `${field} must be a Uint8Array`);
  }
  if (value.length > accountableMessageBytesMax) {
    throw new CryptoInputError(
      field,
      `${field} must be at most ${accountableMessageBytesMax} bytes, got ${value.length}`,
    );
  }
}

function assertHeight(value: unknown, field: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new CryptoInputError(field, `${field} must be a non-negative safe integer`);
  }
}

function assertSecretScalar(value: unknown, field: string): asserts value is bigint {
  if (typeof value !== 'bigint' || value <= 0n || value >= L) {
    throw new CryptoInputError(field, `${field} must be a bigint in [1, L)`);
  }
}

function chainIdBytes(chainId: unknown): Uint8Array {
  if (typeof chainId !== 'string' || chainId.length === 0) {
    throw new CryptoInputError('chainId', 'chainId must be a non-empty string');
  }
  const bytes = utf8(chainId);
  if (bytes.length > chainIdBytesMax) {
    throw new CryptoInputError(
      'chainId',
      `chainId must be at most ${chainIdBytesMax} UTF-8 bytes, got ${bytes.length}`,
    );
  }
  return bytes;
}

/** `height` as 8 bytes big-endian. */
export function heightBytes(height: number): Uint8Array {
  assertHeight(height, 'height');
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(height), false);
  return bytes;
}

/** The 32-byte little-endian encoding of a scalar in [0, L). */
export function scalarToBytes(scalar: bigint): Uint8Array {
  if (typeof scalar !== 'bigint' || scalar < 0n || scalar >= L) {
    throw new CryptoInputError('scalar', 'scalar must be a bigint in [0, L)');
  }
  return numberToBytesLE(scalar, SCALAR_LENGTH);
}

/** The scalar of a 32-byte little-endian encoding; throws unless it is canonical (below L). */
export function bytesToScalar(bytes: Uint8Array): bigint {
  assertBytes(bytes, 'bytes', SCALAR_LENGTH);
  const scalar = bytesToNumberLE(bytes);
  if (scalar >= L) {
    throw new CryptoInputError('bytes', 'bytes must encode a scalar below L');
  }
  return scalar;
}

/**
 * The 32 bytes that stand for the secret scalar x in key derivations (hidden information):
 * scalarToBytes(x). Whoever extracts x from an equivocation gets exactly these bytes.
 */
export function secretKeyBytes(secretScalar: bigint): Uint8Array {
  assertSecretScalar(secretScalar, 'secretScalar');
  return numberToBytesLE(secretScalar, SCALAR_LENGTH);
}

/**
 * The accountable key of a 32-byte secret seed: x and the nonce secret come from the seed
 * through separate domain tags, so neither reveals the other.
 */
export function deriveAccountableKey(secretSeed: Uint8Array): AccountableKey {
  assertBytes(secretSeed, 'secretSeed', SEED_LENGTH);
  const secretScalar = wideReduce(hash512(KEY_DOMAIN, secretSeed));
  // Probability 2^-252; a seed that hits it is unusable rather than silently weak.
  if (secretScalar === 0n) {
    throw new CryptoInputError('secretSeed', 'secretSeed derives the zero scalar');
  }
  const publicKey = Point.BASE.multiply(secretScalar).toBytes();
  const nonceSecret = hash256(NONCE_SECRET_DOMAIN, secretSeed);
  return { secretScalar, publicKey, nonceSecret };
}

/** The nonce of `height` on `chainId`: k = SHA-512(domain || nonceSecret || chainId || h) mod L. */
export function nonceFor(nonceSecret: Uint8Array, chainId: string, height: number): HeightNonce {
  assertBytes(nonceSecret, 'nonceSecret', NONCE_SECRET_LENGTH);
  const chain = chainIdBytes(chainId);
  assertHeight(height, 'height');
  // nonceSecret and the height are fixed-length, so the concatenation parses one way only.
  const k = wideReduce(hash512(NONCE_DOMAIN, nonceSecret, chain, heightBytes(height)));
  // k = 0 would make R the identity (and the signature leak x); probability 2^-252.
  if (k === 0n) {
    throw new CryptoInputError('nonceSecret', 'nonceSecret derives the zero nonce at this height');
  }
  // Constant-time multiply: k is secret.
  return { k, R: Point.BASE.multiply(k).toBytes() };
}

/**
 * The message an accountable signature signs as a plain ed25519 signature:
 * "coffer/accountable/challenge/v1" || height (8 bytes BE) || message.
 */
export function accountableSignedMessage(height: number, message: Uint8Array): Uint8Array {
  assertHeight(height, 'height');
  assertMessage(message, 'message');
  return concatBytes(CHALLENGE_DOMAIN, heightBytes(height), message);
}

/** c = SHA-512(R || P || "coffer/accountable/challenge/v1" || height || message) mod L. */
export function challenge(
  R: Uint8Array,
  publicKey: Uint8Array,
  height: number,
  message: Uint8Array,
): bigint {
  assertBytes(R, 'R', POINT_LENGTH);
  assertBytes(publicKey, 'publicKey', POINT_LENGTH);
  return wideReduce(hash512(R, publicKey, accountableSignedMessage(height, message)));
}

/** Whether `publicKey` (32 bytes) is a canonical point of the prime-order subgroup, not 0. */
function isValidPublicKey(publicKey: Uint8Array): boolean {
  const hex = toHex(publicKey);
  if (validPublicKeys.get(hex) === true) return true;
  if (SMALL_ORDER_ENCODINGS.has(hex)) return false;
  let point;
  try {
    // zip215 = false: RFC 8032 decoding, y < p only.
    point = Point.fromBytes(publicKey, false);
  } catch {
    return false;
  }
  // fromBytes still accepts x = 0 with the sign bit set; only the canonical encoding passes.
  if (!bytesEqual(point.toBytes(), publicKey)) return false;
  if (point.isSmallOrder() || !point.isTorsionFree()) return false;
  validPublicKeys.set(hex, true);
  return true;
}

/**
 * True when `publicKey` can be an accountable key: the canonical encoding of a point of the
 * prime-order subgroup other than the identity. Check it at registration. Never throws.
 */
export function isAccountablePublicKey(publicKey: Uint8Array): boolean {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== POINT_LENGTH) return false;
  return isValidPublicKey(publicKey);
}

function assertSigningKey(key: unknown): asserts key is AccountableKey {
  if (typeof key !== 'object' || key === null) {
    throw new CryptoInputError('key', 'key must be an AccountableKey');
  }
  const { secretScalar, publicKey, nonceSecret } = key as Partial<AccountableKey>;
  assertSecretScalar(secretScalar, 'key.secretScalar');
  assertBytes(publicKey, 'key.publicKey', POINT_LENGTH);
  assertBytes(nonceSecret, 'key.nonceSecret', NONCE_SECRET_LENGTH);
  // Keyed by a hash, so no secret sits in a JS string.
  const cacheKey = toHex(hash256(secretKeyBytes(secretScalar), publicKey));
  if (checkedSigningKeys.get(cacheKey) === true) return;
  if (!bytesEqual(Point.BASE.multiply(secretScalar).toBytes(), publicKey)) {
    throw new CryptoInputError('key.publicKey', 'key.publicKey is not secretScalar * G');
  }
  checkedSigningKeys.set(cacheKey, true);
}

/**
 * The accountable signature of `message` at `height` on `chainId`. Deterministic: the same
 * inputs give the byte-identical signature. Signing two different messages at one height
 * reveals the secret scalar; callers must persist the last signed height first (signer safety).
 */
export function signAtHeight(
  key: AccountableKey,
  chainId: string,
  height: number,
  message: Uint8Array,
): AccountableSignature {
  assertSigningKey(key);
  assertHeight(height, 'height');
  assertMessage(message, 'message');
  const { k, R } = nonceFor(key.nonceSecret, chainId, height);
  const c = challenge(R, key.publicKey, height, message);
  const s = mod(k + c * key.secretScalar);
  return { height, R: toHex(R), s: toHex(numberToBytesLE(s, SCALAR_LENGTH)) };
}

interface ParsedSignature {
  height: number;
  R: Uint8Array;
  s: bigint;
  sBytes: Uint8Array;
}

/** The parts of a well-formed signature, or undefined. Never throws. */
function parseSignature(signature: unknown): ParsedSignature | undefined {
  if (typeof signature !== 'object' || signature === null) return undefined;
  const { height, R, s } = signature as Partial<Record<keyof AccountableSignature, unknown>>;
  if (typeof height !== 'number' || !Number.isSafeInteger(height) || height < 0) return undefined;
  if (typeof R !== 'string' || !LOWERCASE_HEX_64.test(R)) return undefined;
  if (typeof s !== 'string' || !LOWERCASE_HEX_64.test(s)) return undefined;
  // The identity or another small-order R would mean k = 0 (mod L): never a valid nonce.
  if (SMALL_ORDER_ENCODINGS.has(R)) return undefined;
  const sBytes = fromHex(s, 's', SCALAR_LENGTH);
  const sValue = bytesToNumberLE(sBytes);
  // Non-canonical s (>= L) would give a second encoding of one signature.
  if (sValue >= L) return undefined;
  return { height, R: fromHex(R, 'R', POINT_LENGTH), s: sValue, sBytes };
}

function isMessage(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length <= accountableMessageBytesMax;
}

/**
 * True when `signature` is a valid accountable signature of `message` by `publicKey`:
 * s * G = R + c * P with s < L, R and P canonical, P in the prime-order subgroup, and hex in
 * lowercase. Whether R is the committed R_h of the height is checked separately (see
 * nonce-commitment.ts). Never throws: malformed input of any kind gives false.
 */
export function verifyAtHeight(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: AccountableSignature,
): boolean {
  try {
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== POINT_LENGTH) return false;
    if (!isMessage(message)) return false;
    const parsed = parseSignature(signature);
    if (parsed === undefined) return false;
    if (!isValidPublicKey(publicKey)) return false;
    return backend.ed25519Verify(
      concatBytes(parsed.R, parsed.sBytes),
      accountableSignedMessage(parsed.height, message),
      publicKey,
    );
  } catch {
    return false;
  }
}

/**
 * The secret scalar x of `publicKey`, computed from two signatures at one height (same R) on
 * different messages: x = (s1 - s2) / (c1 - c2) mod L. Returns x only when x * G = P, so a
 * result is always the real secret; the signatures need not be verified first (if x * G = P
 * the key is exposed whatever else is wrong with them). Returns undefined for different
 * heights, different R, identical messages, and any malformed input. Never throws.
 */
export function extractSecret(
  publicKey: Uint8Array,
  messageA: Uint8Array,
  signatureA: AccountableSignature,
  messageB: Uint8Array,
  signatureB: AccountableSignature,
): bigint | undefined {
  try {
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== POINT_LENGTH) return undefined;
    if (!isMessage(messageA) || !isMessage(messageB)) return undefined;
    if (bytesEqual(messageA, messageB)) return undefined;
    const a = parseSignature(signatureA);
    const b = parseSignature(signatureB);
    if (a === undefined || b === undefined) return undefined;
    if (a.height !== b.height || !bytesEqual(a.R, b.R)) return undefined;
    const cA = challenge(a.R, publicKey, a.height, messageA);
    const cB = challenge(b.R, publicKey, b.height, messageB);
    // Equal challenges on different messages would be a SHA-512 collision mod L.
    if (cA === cB) return undefined;
    const x = mod(mod(a.s - b.s) * Point.Fn.inv(mod(cA - cB)));
    if (x === 0n) return undefined;
    if (!bytesEqual(Point.BASE.multiply(x).toBytes(), publicKey)) return undefined;
    return x;
  } catch {
    return undefined;
  }
}
