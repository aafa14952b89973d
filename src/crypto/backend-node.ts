import crypto from 'node:crypto';

import type { Aes256Gcm, CryptoBackend } from './backend.js';
import { BoundedCache } from './bounded-cache.js';

/**
 * The node:crypto backend (see backend.ts): OpenSSL for everything, which is what the node's
 * hot path (admission, block verification, signing) runs on.
 */

// DER headers that turn a raw ed25519 key into SPKI / PKCS#8 (RFC 8410), so node:crypto can
// import it. The raw key follows the header directly.
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

// Building a KeyObject costs about as much as a verify, so both caches are what keep verify at
// full rate. 100k public keys (~a few hundred bytes each) bounds memory to tens of MB; secret
// keys belong to this process's own signers (a wallet, a benchmark signing for thousands), so 4k.
const PUBLIC_KEY_CACHE_ENTRIES_MAX = 100_000;
const SECRET_KEY_CACHE_ENTRIES_MAX = 4_096;

const AES_GCM_TAG_LENGTH = 16;

interface SignerEntry {
  privateKey: crypto.KeyObject;
  publicKey: Uint8Array;
}

const publicKeyObjects = new BoundedCache<string, crypto.KeyObject>(PUBLIC_KEY_CACHE_ENTRIES_MAX);
const signers = new BoundedCache<string, SignerEntry>(SECRET_KEY_CACHE_ENTRIES_MAX);

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A plain Uint8Array view (not a Buffer), so results compare equal to other byte arrays. */
function asBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
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

const aes256Gcm: Aes256Gcm = {
  encrypt(key, iv, plaintext, aad) {
    const cipher = crypto.createCipheriv('aes-256-gcm', key, iv, {
      authTagLength: AES_GCM_TAG_LENGTH,
    });
    cipher.setAAD(aad);
    return asBytes(Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]));
  },
  decrypt(key, iv, sealed, aad) {
    if (sealed.length < AES_GCM_TAG_LENGTH) return undefined;
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, iv, {
      authTagLength: AES_GCM_TAG_LENGTH,
    });
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - AES_GCM_TAG_LENGTH));
    const ciphertext = sealed.subarray(0, sealed.length - AES_GCM_TAG_LENGTH);
    try {
      return asBytes(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
    } catch {
      return undefined;
    }
  },
};

export const backend: CryptoBackend = {
  name: 'node',
  // The one-shot `crypto.hash` (Node >= 20.12): for the short inputs we hash most (transactions,
  // Merkle nodes) it is about 1.5x the rate of `createHash().update().digest()`, because it
  // skips creating a Hash object.
  sha256: (data) => asBytes(crypto.hash('sha256', data, 'buffer')),
  sha256Hex: (data) => crypto.hash('sha256', data, 'hex'),
  sha512: (data) => asBytes(crypto.hash('sha512', data, 'buffer')),
  hkdfSha256: (ikm, salt, info, length) =>
    new Uint8Array(crypto.hkdfSync('sha256', ikm, salt, info, length)),
  aes256Gcm,
  ed25519PublicKey: (secretKey) => signer(secretKey).publicKey.slice(),
  ed25519Sign: (message, secretKey) =>
    asBytes(crypto.sign(null, message, signer(secretKey).privateKey)),
  ed25519Verify(signature, message, publicKey) {
    try {
      return crypto.verify(null, message, publicKeyObject(publicKey), signature);
    } catch {
      return false;
    }
  },
  // Through `crypto.randomBytes`, looked up at each call, so scripts/test-vectors.ts can hand out
  // fixed bytes while it runs the project's own functions. Copied into an array of its own.
  randomBytes: (length) => new Uint8Array(crypto.randomBytes(length)),
  toHex: (bytes) => asBuffer(bytes).toString('hex'),
  fromCheckedHex(hex) {
    const bytes = new Uint8Array(hex.length / 2);
    Buffer.from(bytes.buffer).write(hex, 'hex');
    return bytes;
  },
};
