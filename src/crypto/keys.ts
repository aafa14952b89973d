import { backend } from './backend.js';
import { toHex } from './bytes.js';
import { CryptoInputError } from './errors.js';

/** An ed25519 key pair: both 32 bytes; `secretKey` is the RFC 8032 seed. */
export interface KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

const PUBLIC_KEY_LENGTH = 32;
const SECRET_KEY_LENGTH = 32;
const SIGNATURE_LENGTH = 64;

function assertKeyBytes(
  value: unknown,
  field: string,
  length: number,
): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new CryptoInputError(field, `${field} must be a Uint8Array`);
  }
  if (value.length !== length) {
    throw new CryptoInputError(field, `${field} must be ${length} bytes, got ${value.length}`);
  }
}

/** The canonical encodings of the eight points of small order, lowercase hex. */
export const SMALL_ORDER_ENCODINGS: ReadonlySet<string> = new Set([
  '0100000000000000000000000000000000000000000000000000000000000000',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  '0000000000000000000000000000000000000000000000000000000000000080',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  '0000000000000000000000000000000000000000000000000000000000000000',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
]);

/** Whether the 255-bit little-endian y of an encoding is p = 2^255 - 19 or more (non-canonical). */
function yAtLeastP(key: Uint8Array): boolean {
  if ((key[31]! & 0x7f) !== 0x7f || key[0]! < 0xed) return false;
  for (let index = 1; index < 31; index++) if (key[index] !== 0xff) return false;
  return true;
}

/**
 * True when `publicKey` cannot stand for one signer: a point of small order, or a non-canonical
 * encoding (y at or above p, or x = 0 with the sign bit set, which are the points y = 1 and
 * y = -1). With a small-order key (the identity, say) R = identity and s = 0 verify for every
 * message, so anyone could sign for its address; a non-canonical encoding would be a second
 * address of one point. The accountable keys refuse these too (accountable.ts). Byte checks
 * only, so it costs nothing per tx. Never throws.
 */
export function isWeakPublicKey(publicKey: Uint8Array): boolean {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH) return true;
  if (yAtLeastP(publicKey)) return true;
  const hex = toHex(publicKey);
  if (SMALL_ORDER_ENCODINGS.has(hex)) return true;
  // x = 0 with the sign bit set: y = 1 or y = p - 1 (both small order) written a second way.
  const unsigned = hex.slice(0, 62) + (publicKey[31]! & 0x7f).toString(16).padStart(2, '0');
  return (publicKey[31]! & 0x80) !== 0 && SMALL_ORDER_ENCODINGS.has(unsigned);
}

/** A fresh key pair from the operating system's CSPRNG. */
export function generateKeyPair(): KeyPair {
  return keyPairFromSecret(backend.randomBytes(SECRET_KEY_LENGTH));
}

/** The key pair of a 32-byte RFC 8032 seed. */
export function keyPairFromSecret(secretKey: Uint8Array): KeyPair {
  assertKeyBytes(secretKey, 'secretKey', SECRET_KEY_LENGTH);
  return { publicKey: backend.ed25519PublicKey(secretKey), secretKey: secretKey.slice() };
}

/** The 64-byte ed25519 signature of `message` (deterministic, RFC 8032). */
export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (!(message instanceof Uint8Array)) {
    throw new CryptoInputError('message', 'message must be a Uint8Array');
  }
  assertKeyBytes(secretKey, 'secretKey', SECRET_KEY_LENGTH);
  return backend.ed25519Sign(message, secretKey);
}

/**
 * True when `signature` is a valid ed25519 signature of `message` by `publicKey`.
 * Never throws: wrong types, wrong lengths and keys that are not curve points all give false.
 */
export function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (
    !(signature instanceof Uint8Array) ||
    !(message instanceof Uint8Array) ||
    !(publicKey instanceof Uint8Array) ||
    signature.length !== SIGNATURE_LENGTH ||
    publicKey.length !== PUBLIC_KEY_LENGTH
  ) {
    return false;
  }
  if (isWeakPublicKey(publicKey)) return false;
  return backend.ed25519Verify(signature, message, publicKey);
}
