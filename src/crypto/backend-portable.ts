import { gcm } from '@noble/ciphers/aes.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';

import type { CryptoBackend } from './backend.js';

/**
 * The portable backend (see backend.ts): pure JavaScript from @noble plus the platform's
 * `crypto.getRandomValues`, so it runs in browsers (and in Node, where the tests compare it with
 * the node:crypto backend). No `node:` import and no `Buffer`.
 */

const Point = ed25519.Point;
const L = Point.Fn.ORDER;
const SIGNATURE_HALF_LENGTH = 32;
// getRandomValues refuses more than 65536 bytes per call (WebCrypto).
const RANDOM_BYTES_PER_CALL_MAX = 65_536;

const textEncoder = new TextEncoder();

function bytesOf(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? textEncoder.encode(data) : data;
}

/**
 * Cofactorless RFC 8032 verification, the check OpenSSL makes (crypto/ec/curve25519.c,
 * ossl_ed25519_verify): s < L, k = SHA-512(R || A || M) mod L, then the encoding of
 * sB - kA must equal R's 32 bytes. noble's `ed25519.verify` multiplies by the cofactor first,
 * so it also accepts signatures with a small-order part in R or A that OpenSSL refuses; the two
 * backends must agree on every signature, so this one is spelled out with noble's point
 * arithmetic. Variable time is fine: nothing here is secret.
 */
function verifyCofactorless(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  const R = signature.subarray(0, SIGNATURE_HALF_LENGTH);
  const s = bytesToNumberLE(signature.subarray(SIGNATURE_HALF_LENGTH));
  if (s >= L) return false;
  let A;
  try {
    // zip215 = false: y must be below p (keys.ts has already refused other encodings).
    A = Point.fromBytes(publicKey, false);
  } catch {
    return false;
  }
  const hashInput = new Uint8Array(2 * SIGNATURE_HALF_LENGTH + message.length);
  hashInput.set(R, 0);
  hashInput.set(publicKey, SIGNATURE_HALF_LENGTH);
  hashInput.set(message, 2 * SIGNATURE_HALF_LENGTH);
  const k = bytesToNumberLE(sha512(hashInput)) % L;
  const check = Point.BASE.multiplyUnsafe(s).subtract(A.multiplyUnsafe(k)).toBytes();
  let difference = 0;
  for (let index = 0; index < SIGNATURE_HALF_LENGTH; index++) {
    difference |= check[index]! ^ R[index]!;
  }
  return difference === 0;
}

export const backend: CryptoBackend = {
  name: 'portable',
  sha256: (data) => sha256(bytesOf(data)),
  sha256Hex: (data) => bytesToHex(sha256(bytesOf(data))),
  sha512: (data) => sha512(data),
  hkdfSha256: (ikm, salt, info, length) => hkdf(sha256, ikm, salt, info, length),
  aes256Gcm: {
    // noble's GCM writes ciphertext || 16-byte tag, as node:crypto's does with the tag appended.
    encrypt: (key, iv, plaintext, aad) => gcm(key, iv, aad).encrypt(plaintext),
    decrypt(key, iv, sealed, aad) {
      try {
        return gcm(key, iv, aad).decrypt(sealed);
      } catch {
        return undefined;
      }
    },
  },
  ed25519PublicKey: (secretKey) => ed25519.getPublicKey(secretKey),
  ed25519Sign: (message, secretKey) => ed25519.sign(message, secretKey),
  ed25519Verify(signature, message, publicKey) {
    try {
      return verifyCofactorless(signature, message, publicKey);
    } catch {
      return false;
    }
  },
  randomBytes(length) {
    const bytes = new Uint8Array(length);
    for (let offset = 0; offset < length; offset += RANDOM_BYTES_PER_CALL_MAX) {
      globalThis.crypto.getRandomValues(
        bytes.subarray(offset, Math.min(length, offset + RANDOM_BYTES_PER_CALL_MAX)),
      );
    }
    return bytes;
  },
  toHex: (bytes) => bytesToHex(bytes),
  fromCheckedHex: (hex) => hexToBytes(hex),
};
