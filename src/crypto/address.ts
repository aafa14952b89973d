import { bech32m } from '@scure/base';

import { BoundedCache } from './bounded-cache.js';
import { utf8 } from './bytes.js';
import { CryptoInputError } from './errors.js';
import { sha256 } from './hash.js';

/**
 * Addresses are bech32m (BIP 350) with prefix "cof" over the raw 32-byte ed25519 public key,
 * so the sender address of a transaction is itself the key that verifies its signature.
 * Only the lowercase form is accepted: one account, one string (state is keyed by it).
 */
export const ADDRESS_PREFIX = 'cof';

const PUBLIC_KEY_LENGTH = 32;
// "cof" + "1" + 52 data characters (256 bits / 5) + 6 checksum characters.
const ADDRESS_LENGTH = 62;
const DERIVED_DOMAIN = 'coffer/derived/v1\0';
// Namespaces and ids are short names (module, pool id); the bound keeps hashing cheap and
// rejects runaway input early.
const DERIVED_PART_LENGTH_MAX = 1024;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

// Decoding (checksum over 62 characters, 5-to-8-bit regrouping) runs for every transaction;
// cache recent answers. A hit returns a copy so a caller cannot corrupt the cache.
const DECODED_CACHE_ENTRIES_MAX = 100_000;
const decodedPublicKeys = new BoundedCache<string, Uint8Array>(DECODED_CACHE_ENTRIES_MAX);

/** The "cof1..." address of a 32-byte ed25519 public key. */
export function addressFromPublicKey(publicKey: Uint8Array): string {
  if (!(publicKey instanceof Uint8Array)) {
    throw new CryptoInputError('publicKey', 'publicKey must be a Uint8Array');
  }
  if (publicKey.length !== PUBLIC_KEY_LENGTH) {
    throw new CryptoInputError(
      'publicKey',
      `publicKey must be ${PUBLIC_KEY_LENGTH} bytes, got ${publicKey.length}`,
    );
  }
  return bech32m.encode(ADDRESS_PREFIX, bech32m.toWords(publicKey));
}

function decode(address: string, field: string): Uint8Array {
  if (address.length !== ADDRESS_LENGTH) {
    throw new CryptoInputError(
      field,
      `${field} must be ${ADDRESS_LENGTH} characters, got ${address.length}`,
    );
  }
  if (address !== address.toLowerCase()) {
    throw new CryptoInputError(field, `${field} must be lowercase`);
  }
  if (!address.startsWith(`${ADDRESS_PREFIX}1`)) {
    throw new CryptoInputError(field, `${field} must start with "${ADDRESS_PREFIX}1"`);
  }
  const decoded = bech32m.decodeUnsafe(address);
  if (decoded === undefined) {
    throw new CryptoInputError(field, `${field} has a bad bech32m checksum or character`);
  }
  const publicKey = bech32m.fromWordsUnsafe(decoded.words);
  if (publicKey === undefined || publicKey.length !== PUBLIC_KEY_LENGTH) {
    throw new CryptoInputError(field, `${field} does not hold a ${PUBLIC_KEY_LENGTH}-byte key`);
  }
  return publicKey;
}

/** The 32-byte public key inside a "cof1..." address. Throws CryptoInputError naming `field`. */
export function publicKeyFromAddress(address: string, field = 'address'): Uint8Array {
  if (typeof field !== 'string' || field.length === 0) {
    throw new CryptoInputError('field', 'field must be a non-empty string');
  }
  if (typeof address !== 'string') {
    throw new CryptoInputError(field, `${field} must be a string`);
  }
  let publicKey = decodedPublicKeys.get(address);
  if (publicKey === undefined) {
    publicKey = decode(address, field);
    decodedPublicKeys.set(address, publicKey);
  }
  return publicKey.slice();
}

/** True when `value` is a well-formed lowercase "cof1..." address with a valid checksum. */
export function isAddress(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  if (decodedPublicKeys.get(value) !== undefined) return true;
  try {
    decodedPublicKeys.set(value, decode(value, 'value'));
    return true;
  } catch {
    return false;
  }
}

function assertDerivedPart(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string') {
    throw new CryptoInputError(field, `${field} must be a string`);
  }
  if (value.length === 0) {
    throw new CryptoInputError(field, `${field} must not be empty`);
  }
  if (value.length > DERIVED_PART_LENGTH_MAX) {
    throw new CryptoInputError(
      field,
      `${field} must be at most ${DERIVED_PART_LENGTH_MAX} characters, got ${value.length}`,
    );
  }
  if (value.includes('\0')) {
    throw new CryptoInputError(field, `${field} must not contain NUL`);
  }
  // UTF-8 would turn a lone surrogate into U+FFFD, so two different ids would share an address.
  if (LONE_SURROGATE.test(value)) {
    throw new CryptoInputError(field, `${field} must not contain a lone UTF-16 surrogate`);
  }
}

/**
 * The address of an account that no key controls (a module's escrow, a pool):
 * bech32m("cof", SHA-256("coffer/derived/v1\0" || namespace || "\0" || id)).
 * Nobody knows a secret key for it, since the data is a hash output, not a chosen key.
 */
export function deriveAddress(namespace: string, id: string): string {
  assertDerivedPart(namespace, 'namespace');
  assertDerivedPart(id, 'id');
  return addressFromPublicKey(sha256(utf8(`${DERIVED_DOMAIN}${namespace}\0${id}`)));
}
