import { utf8 } from './bytes.js';
import { CryptoInputError } from './errors.js';

/**
 * RFC 8785 JSON Canonicalization Scheme (JCS).
 *
 * - Object keys are sorted by UTF-16 code units (the default `Array.prototype.sort` order).
 * - Strings are escaped exactly as `JSON.stringify` does (RFC 8785 3.2.2.2 mandates the same).
 * - Numbers use the ECMAScript Number-to-String algorithm (RFC 8785 3.2.2.3); -0 becomes "0".
 * - Properties whose value is undefined are omitted, as `JSON.stringify` does.
 *
 * Stricter than `JSON.stringify`, because a silently dropped or coerced field in a signed
 * payload is a bug: NaN, Infinity, bigint, functions, symbols, undefined array elements, and
 * objects that are not plain (Date, Map, Uint8Array, class instances; no `toJSON` is called)
 * are rejected with a CryptoInputError whose field is the path of the bad value
 * (`payload.amount`, `outputs[2].address`; `value` for the root).
 */

/** Deepest nesting accepted. Bounds recursion, so a cyclic value fails cleanly too. */
const DEPTH_MAX = 64;

type PathSegment = string | number;

function pathToField(path: PathSegment[]): string {
  if (path.length === 0) return 'value';
  let field = '';
  for (const segment of path) {
    if (typeof segment === 'number') field += `[${segment}]`;
    else field += field.length === 0 ? segment : `.${segment}`;
  }
  return field;
}

function reject(path: PathSegment[], problem: string): never {
  const field = pathToField(path);
  throw new CryptoInputError(field, `${field} ${problem}`);
}

function isPlainObject(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

// Characters JSON.stringify escapes (controls, quote, backslash) or may (lone surrogates).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const needsEscape = /[\u0000-\u001f"\\\ud800-\udfff]/;

/** RFC 8785 string form; the common case (nothing to escape) skips JSON.stringify. */
function quote(text: string): string {
  return needsEscape.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/** `path` is a stack shared by the whole walk: pushed and popped, only joined on error. */
function serialize(value: unknown, path: PathSegment[], depth: number): string {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      if (!Number.isFinite(value)) return reject(path, `must be a finite number, got ${value}`);
      // Number-to-String as ECMAScript defines it; -0 prints as "0".
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    case 'undefined':
      return reject(path, 'must not be undefined');
    case 'bigint':
      return reject(path, 'must not be a bigint (encode it as a decimal string)');
    default:
      return reject(path, `must not be a ${typeof value}`);
  }
  if (value === null) return 'null';
  if (depth >= DEPTH_MAX) return reject(path, `nests deeper than ${DEPTH_MAX} levels`);

  if (Array.isArray(value)) {
    const items = value as unknown[];
    if (items.length === 0) return '[]';
    let text = '[';
    for (let index = 0; index < items.length; index++) {
      path.push(index);
      if (index > 0) text += ',';
      text += serialize(items[index], path, depth + 1);
      path.pop();
    }
    return text + ']';
  }

  if (!isPlainObject(value)) {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return reject(
      path,
      `must be a plain object, array or primitive, got ${typeof name === 'string' ? name : 'an exotic object'}`,
    );
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let text = '{';
  let first = true;
  for (const key of keys) {
    const member = record[key];
    if (member === undefined) continue;
    path.push(key);
    if (!first) text += ',';
    first = false;
    text += quote(key);
    text += ':';
    text += serialize(member, path, depth + 1);
    path.pop();
  }
  return text + '}';
}

/** The RFC 8785 canonical JSON text of `value`. */
export function canonicalize(value: unknown): string {
  return serialize(value, [], 0);
}

/** UTF-8 bytes of the RFC 8785 canonical JSON text of `value`: what gets hashed and signed. */
export function canonicalBytes(value: unknown): Uint8Array {
  return utf8(serialize(value, [], 0));
}
