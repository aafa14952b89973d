import crypto from 'node:crypto';

import { BoundedCache } from './bounded-cache.js';
import { CryptoInputError } from './errors.js';

/** An ed25519 key pair: both 32 bytes; `secretKey` is the RFC 8032 seed. */
export interface KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

const PUBLIC_KEY_LENGTH = 32;
const SECRET_KEY_LENGTH = 32;
const SIGNATURE_LENGTH = 64;

// DER headers that turn a raw ed25519 key into SPKI / PKCS#8 (RFC 8410), so node:crypto can
// import it. The raw key follows the header directly.
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

// Building a KeyObject costs about as much as a verify, so both caches are what keep verify at
// full rate. 100k public keys (~a few hundred bytes each) bounds memory to tens of MB; secret
// keys belong to this process's own signers (a wallet, a benchmark signing for thousands), so 4k.
const PUBLIC_KEY_CACHE_ENTRIES_MAX = 100_000;
const SECRET_KEY_CACHE_ENTRIES_MAX = 4_096;

interface SignerEntry {
  privateKey: crypto.KeyObject;
  publicKey: Uint8Array;
}

const publicKeyObjects = new BoundedCache<string, crypto.KeyObject>(PUBLIC_KEY_CACHE_ENTRIES_MAX);
const signers = new BoundedCache<string, SignerEntry>(SECRET_KEY_CACHE_ENTRIES_MAX);

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

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

function publicKeyObject(publicKey: Uint8Array): crypto.KeyObject {
  const cacheKey = asBuffer(publicKey).toString('hex');
  let keyObject = publicKeyObjects.get(cacheKey);
  if (keyObject === undefined) {
    keyObject = crypto.createPublicKey({
      key: Buffer.concat([SPKI_PREFIX, publicKey]),
      format: 'der',
      type: 'spki',
    });
    publicKeyObjects.set(cacheKey, keyObject);
  }
  return keyObject;
}

function signer(secretKey: Uint8Array): SignerEntry {
  // Keyed by a hash of the seed, not the seed itself, so no raw secret sits in a JS string
  // (strings cannot be wiped and show up in heap snapshots).
  const cacheKey = crypto.hash('sha256', secretKey, 'hex');
  let entry = signers.get(cacheKey);
  if (entry === undefined) {
    const privateKey = crypto.createPrivateKey({
      key: Buffer.concat([PKCS8_PREFIX, secretKey]),
      format: 'der',
      type: 'pkcs8',
    });
    const spki = crypto.createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
    const publicKey = new Uint8Array(spki.subarray(SPKI_PREFIX.length));
    entry = { privateKey, publicKey };
    signers.set(cacheKey, entry);
  }
  return entry;
}

/** A fresh key pair from the operating system's CSPRNG. */
export function generateKeyPair(): KeyPair {
  const secretKey = new Uint8Array(SECRET_KEY_LENGTH);
  crypto.randomFillSync(secretKey);
  return keyPairFromSecret(secretKey);
}

/** The key pair of a 32-byte RFC 8032 seed. */
export function keyPairFromSecret(secretKey: Uint8Array): KeyPair {
  assertKeyBytes(secretKey, 'secretKey', SECRET_KEY_LENGTH);
  const { publicKey } = signer(secretKey);
  return { publicKey: publicKey.slice(), secretKey: secretKey.slice() };
}

/** The 64-byte ed25519 signature of `message` (deterministic, RFC 8032). */
export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (!(message instanceof Uint8Array)) {
    throw new CryptoInputError('message', 'message must be a Uint8Array');
  }
  assertKeyBytes(secretKey, 'secretKey', SECRET_KEY_LENGTH);
  const signature = crypto.sign(null, message, signer(secretKey).privateKey);
  return new Uint8Array(signature.buffer, signature.byteOffset, signature.byteLength);
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
  try {
    return crypto.verify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}
