import { backend } from './backend.js';
import { CryptoInputError } from './errors.js';

/** SHA-256 of bytes, or of the UTF-8 encoding of a string. */
export function sha256(data: Uint8Array | string): Uint8Array {
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
    throw new CryptoInputError('data', 'data must be a Uint8Array or a string');
  }
  return backend.sha256(data);
}

/** Lowercase hex SHA-256 of bytes, or of the UTF-8 encoding of a string. */
export function sha256Hex(data: Uint8Array | string): string {
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
    throw new CryptoInputError('data', 'data must be a Uint8Array or a string');
  }
  return backend.sha256Hex(data);
}
