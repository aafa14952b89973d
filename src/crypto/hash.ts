import crypto from 'node:crypto';

import { CryptoInputError } from './errors.js';

/**
 * SHA-256 of bytes, or of the UTF-8 encoding of a string.
 *
 * Uses node:crypto's one-shot `crypto.hash` (Node >= 20.12): for the short inputs we hash most
 * (transactions, Merkle nodes) it is about 1.5x the rate of `createHash().update().digest()`,
 * because it skips creating a Hash object.
 */
export function sha256(data: Uint8Array | string): Uint8Array {
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
    throw new CryptoInputError('data', 'data must be a Uint8Array or a string');
  }
  const digest = crypto.hash('sha256', data, 'buffer');
  // Hand out a plain Uint8Array (not a Buffer) so results compare equal to other byte arrays.
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

/** Lowercase hex SHA-256 of bytes, or of the UTF-8 encoding of a string. */
export function sha256Hex(data: Uint8Array | string): string {
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
    throw new CryptoInputError('data', 'data must be a Uint8Array or a string');
  }
  return crypto.hash('sha256', data, 'hex');
}
