import { backend } from './backend.js';
import { CryptoInputError } from './errors.js';

const HEX_PATTERN = /^[0-9a-fA-F]*$/;
const textEncoder = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF in the text, as Buffer's toString('utf8') does.
const textDecoder = new TextDecoder('utf-8', { ignoreBOM: true });

function assertBytes(value: unknown, field: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new CryptoInputError(field, `${field} must be a Uint8Array`);
  }
}

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  assertBytes(bytes, 'bytes');
  return backend.toHex(bytes);
}

/**
 * Parses hex (either case) into bytes. Throws CryptoInputError naming `field` on odd length,
 * a non-hex character, or a byte length other than `expectedLength` when one is given.
 */
export function fromHex(hex: string, field = 'hex', expectedLength?: number): Uint8Array {
  if (typeof field !== 'string' || field.length === 0) {
    throw new CryptoInputError('field', 'field must be a non-empty string');
  }
  if (
    expectedLength !== undefined &&
    (!Number.isSafeInteger(expectedLength) || expectedLength < 0)
  ) {
    throw new CryptoInputError('expectedLength', 'expectedLength must be a non-negative integer');
  }
  if (typeof hex !== 'string') {
    throw new CryptoInputError(field, `${field} must be a hex string`);
  }
  if (hex.length % 2 !== 0) {
    throw new CryptoInputError(field, `${field} must have an even number of hex digits`);
  }
  if (expectedLength !== undefined && hex.length !== expectedLength * 2) {
    throw new CryptoInputError(
      field,
      `${field} must be ${expectedLength} bytes (${expectedLength * 2} hex digits), got ${hex.length} digits`,
    );
  }
  // Buffer's hex decoder (the node backend's) silently stops at the first bad character, so
  // validate first.
  if (!HEX_PATTERN.test(hex)) {
    throw new CryptoInputError(field, `${field} must contain only hex digits`);
  }
  return backend.fromCheckedHex(hex);
}

/** UTF-8 encoding of `text` (lone surrogates become U+FFFD, as TextEncoder does). */
export function utf8(text: string): Uint8Array {
  if (typeof text !== 'string') {
    throw new CryptoInputError('text', 'text must be a string');
  }
  return textEncoder.encode(text);
}

/**
 * The text of UTF-8 `bytes`, decoded as Buffer's toString('utf8') does (bytes.test.ts checks it
 * on random bytes): each bad sequence becomes U+FFFD (WHATWG replacement) and a BOM stays.
 */
export function textOfUtf8(bytes: Uint8Array): string {
  assertBytes(bytes, 'bytes');
  return textDecoder.decode(bytes);
}

/** One new array holding every part in order. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (let index = 0; index < parts.length; index++) {
    const part = parts[index];
    assertBytes(part, `parts[${index}]`);
    length += part.length;
  }
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

/** True when both arrays hold the same bytes. Not constant-time: do not compare secrets with it. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  assertBytes(a, 'a');
  assertBytes(b, 'b');
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) {
    if (a[index] !== b[index]) return false;
  }
  return true;
}
