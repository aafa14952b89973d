// A verifier of the Coffer protocol written from docs/protocol.md alone, as an implementer outside
// the project would write it: it imports nothing from src/. It has its own RFC 8785
// canonicalizer, its own RFC 6962 Merkle trees (recursive, as the RFC defines them, where the
// project builds them bottom up), its own bech32m, and the curve and hash primitives of
// @noble/curves and @noble/hashes; AES-256-GCM comes from node:crypto (noble's ciphers are not a
// dependency). test/protocol-vectors.test.ts checks docs/test-vectors.json with it, and checks
// that it agrees with the SDK's verify functions on random blocks.
//
// Section numbers (§) refer to docs/protocol.md.
import crypto from 'node:crypto';

import { ed25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';

const Point = ed25519.Point;
type CurvePoint = InstanceType<typeof Point>;

/** The order of the prime-order subgroup of ed25519. */
export const L = 2n ** 252n + 27742317777372353535851937790883648493n;

// ---- §2 encodings ----------------------------------------------------------------------------

const lowercaseHex = /^(?:[0-9a-f]{2})*$/;
const hash32Hex = /^[0-9a-f]{64}$/;
const encoder = new TextEncoder();

export function hex(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += byte.toString(16).padStart(2, '0');
  return text;
}

/** Bytes of lowercase hex; throws on anything else (uppercase included: §2 allows one spelling). */
export function unhex(text: string): Uint8Array {
  if (typeof text !== 'string' || !lowercaseHex.test(text)) {
    throw new Error(`not lowercase hex: ${String(text).slice(0, 20)}`);
  }
  const bytes = new Uint8Array(text.length / 2);
  for (let index = 0; index < bytes.length; index++) {
    bytes[index] = parseInt(text.slice(2 * index, 2 * index + 2), 16);
  }
  return bytes;
}

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}

/** 8 bytes, big-endian: how heights enter every hash (§2). */
export function uint64be(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`not a height: ${value}`);
  const bytes = new Uint8Array(8);
  let rest = BigInt(value);
  for (let index = 7; index >= 0; index--) {
    bytes[index] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return bytes;
}

/** Little-endian integer of any length (scalars and reduced digests, §2). */
export function le(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let index = bytes.length - 1; index >= 0; index--) {
    value = (value << 8n) | BigInt(bytes[index]!);
  }
  return value;
}

export function scalarBytes(value: bigint): Uint8Array {
  if (value < 0n || value >= L) throw new Error('scalar out of range');
  const bytes = new Uint8Array(32);
  let rest = value;
  for (let index = 0; index < 32; index++) {
    bytes[index] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return bytes;
}

function mod(value: bigint): bigint {
  const result = value % L;
  return result < 0n ? result + L : result;
}

function modPow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % L;
    b = (b * b) % L;
    e >>= 1n;
  }
  return result;
}

function isHash(value: unknown): value is string {
  return typeof value === 'string' && hash32Hex.test(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---- §3 canonical JSON (RFC 8785) ------------------------------------------------------------

export class CanonicalJsonError extends Error {}

const nestingMax = 64;

/** RFC 8785 text of a JSON value, with the limits of §3. */
export function canonicalJson(value: unknown): string {
  return serialize(value, 0);
}

function serialize(value: unknown, depth: number): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError('a number must be finite');
      // RFC 8785 3.2.2.3 is ECMAScript's Number::toString; -0 is written 0.
      return Object.is(value, -0) ? '0' : String(value);
    case 'string':
      return jsonString(value);
    case 'object':
      break;
    default:
      throw new CanonicalJsonError(`not a JSON value: ${typeof value}`);
  }
  if (depth >= nestingMax) throw new CanonicalJsonError('nested deeper than 64 levels');
  if (Array.isArray(value)) {
    const items: string[] = [];
    for (let index = 0; index < value.length; index++) {
      items.push(serialize((value as unknown[])[index], depth + 1));
    }
    return `[${items.join(',')}]`;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    throw new CanonicalJsonError('not a plain object');
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort(compareUtf16);
  return `{${keys.map((key) => `${jsonString(key)}:${serialize(record[key], depth + 1)}`).join(',')}}`;
}

/** Orders strings by their UTF-16 code units, as RFC 8785 3.2.3 requires. */
export function compareUtf16(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) {
    const difference = a.charCodeAt(index) - b.charCodeAt(index);
    if (difference !== 0) return difference;
  }
  return a.length - b.length;
}

const shortEscapes: Record<number, string> = {
  0x08: '\\b',
  0x09: '\\t',
  0x0a: '\\n',
  0x0c: '\\f',
  0x0d: '\\r',
  0x22: '\\"',
  0x5c: '\\\\',
};

/** RFC 8785 3.2.2.2, plus §3's rule for a lone surrogate: a lowercase \u escape. */
function jsonString(text: string): string {
  let out = '"';
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    const short = shortEscapes[unit];
    if (short !== undefined) {
      out += short;
    } else if (unit < 0x20) {
      out += `\\u${unit.toString(16).padStart(4, '0')}`;
    } else if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += text[index]! + text[index + 1]!;
        index++;
      } else {
        out += `\\u${unit.toString(16)}`;
      }
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      out += `\\u${unit.toString(16)}`;
    } else {
      out += text[index]!;
    }
  }
  return `${out}"`;
}

export function canonicalHash(value: unknown): Uint8Array {
  return sha256(utf8(canonicalJson(value)));
}

// ---- §7 Merkle trees (RFC 6962 2.1) ----------------------------------------------------------

export function merkleLeafHash(leaf: Uint8Array): Uint8Array {
  return sha256(concat(new Uint8Array([0]), leaf));
}

function merkleNodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(concat(new Uint8Array([1]), left, right));
}

/** The largest power of two smaller than n (n >= 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[n]) of RFC 6962 2.1, recursively. */
export function merkleTreeHash(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha256(new Uint8Array(0));
  if (leaves.length === 1) return merkleLeafHash(leaves[0]!);
  const k = split(leaves.length);
  return merkleNodeHash(merkleTreeHash(leaves.slice(0, k)), merkleTreeHash(leaves.slice(k)));
}

/** PATH(m, D[n]) of RFC 6962 2.1.1: leaf level first, the root's other child last. */
export function merkleAuditPath(leaves: Uint8Array[], m: number): Uint8Array[] {
  if (leaves.length <= 1) return [];
  const k = split(leaves.length);
  return m < k
    ? [...merkleAuditPath(leaves.slice(0, k), m), merkleTreeHash(leaves.slice(k))]
    : [...merkleAuditPath(leaves.slice(k), m - k), merkleTreeHash(leaves.slice(0, k))];
}

/**
 * The root that `path` leads to from leaf `m` of a tree of `n` leaves, undefined unless the path
 * has exactly the length that tree needs. The inverse of PATH: the last element is the sibling at
 * the top split.
 */
function rootFromPath(
  leafHash: Uint8Array,
  m: number,
  n: number,
  path: Uint8Array[],
  used: number,
): Uint8Array | undefined {
  if (n === 1) return used === 0 ? leafHash : undefined;
  if (used === 0) return undefined;
  const sibling = path[used - 1]!;
  const k = split(n);
  if (m < k) {
    const left = rootFromPath(leafHash, m, k, path, used - 1);
    return left && merkleNodeHash(left, sibling);
  }
  const right = rootFromPath(leafHash, m - k, n - k, path, used - 1);
  return right && merkleNodeHash(sibling, right);
}

export function verifyMerkleInclusion(
  leaf: Uint8Array,
  leafIndex: number,
  treeSize: number,
  path: Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!isCount(leafIndex) || !isCount(treeSize) || leafIndex >= treeSize) return false;
  if (path.length > 64 || path.some((node) => node.length !== 32)) return false;
  const computed = rootFromPath(merkleLeafHash(leaf), leafIndex, treeSize, path, path.length);
  return computed !== undefined && equalBytes(computed, root);
}

/** A proof as JSON (§7.3): `{leafIndex, treeSize, path}`, path lowercase hex. */
export interface MerkleProofJson {
  leafIndex: number;
  treeSize: number;
  path: string[];
}

function proofPath(proof: unknown): Uint8Array[] | undefined {
  if (!isRecord(proof) || !Array.isArray(proof.path)) return undefined;
  const path: Uint8Array[] = [];
  for (const node of proof.path as unknown[]) {
    if (!isHash(node)) return undefined;
    path.push(unhex(node));
  }
  return path;
}

// ---- §5 addresses (bech32m, BIP 350) ---------------------------------------------------------

const charset = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const bech32mConstant = 0x2bc830a3;
const addressPrefix = 'cof';

function polymod(values: number[]): number {
  const generator = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let check = 1;
  for (const value of values) {
    const top = check >>> 25;
    check = (((check & 0x1ffffff) << 5) ^ value) >>> 0;
    for (let bit = 0; bit < 5; bit++) {
      if ((top >>> bit) & 1) check = (check ^ generator[bit]!) >>> 0;
    }
  }
  return check;
}

function expandPrefix(prefix: string): number[] {
  const codes = [...prefix].map((c) => c.charCodeAt(0));
  return [...codes.map((c) => c >> 5), 0, ...codes.map((c) => c & 31)];
}

function toFiveBits(bytes: Uint8Array): number[] {
  const words: number[] = [];
  let accumulator = 0;
  let bits = 0;
  for (const byte of bytes) {
    accumulator = (accumulator << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      words.push((accumulator >> bits) & 31);
    }
    accumulator &= (1 << bits) - 1;
  }
  if (bits > 0) words.push((accumulator << (5 - bits)) & 31);
  return words;
}

/** `cof1...`: bech32m with prefix "cof" over the 32 bytes (§5). */
export function addressOf(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw new Error('a public key has 32 bytes');
  const words = toFiveBits(publicKey);
  const check =
    polymod([...expandPrefix(addressPrefix), ...words, 0, 0, 0, 0, 0, 0]) ^ bech32mConstant;
  const checksum = Array.from({ length: 6 }, (_, i) => (check >>> (5 * (5 - i))) & 31);
  return `${addressPrefix}1${[...words, ...checksum].map((w) => charset[w]).join('')}`;
}

/** The 32 bytes inside an address, or undefined unless it is a valid lowercase `cof1` address. */
export function publicKeyOf(address: unknown): Uint8Array | undefined {
  if (typeof address !== 'string' || address.length !== 62) return undefined;
  if (!address.startsWith(`${addressPrefix}1`)) return undefined;
  const words: number[] = [];
  for (const c of address.slice(4)) {
    const word = charset.indexOf(c);
    if (word < 0) return undefined;
    words.push(word);
  }
  if (polymod([...expandPrefix(addressPrefix), ...words]) !== bech32mConstant) return undefined;
  const data = words.slice(0, -6);
  const bytes: number[] = [];
  let accumulator = 0;
  let bits = 0;
  for (const word of data) {
    accumulator = (accumulator << 5) | word;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((accumulator >> bits) & 0xff);
    }
    accumulator &= (1 << bits) - 1;
  }
  // 52 words carry 260 bits: the 4 left over must be zero.
  if (bits >= 5 || accumulator !== 0 || bytes.length !== 32) return undefined;
  return new Uint8Array(bytes);
}

/** §5.2: the address no key controls. */
export function derivedAddress(namespace: string, id: string): string {
  return addressOf(sha256(utf8(`coffer/derived/v1\0${namespace}\0${id}`)));
}

// ---- §6 ed25519 ------------------------------------------------------------------------------

export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(seed);
}

export function ed25519Sign(message: Uint8Array, seed: Uint8Array): Uint8Array {
  return ed25519.sign(message, seed);
}

/**
 * §6: RFC 8032 verification without the cofactor, as OpenSSL does it: s < L, A decoded (a y of
 * p or more is reduced), and the encoding of [s]B - [k]A equal to the 32 bytes R.
 */
export function ed25519Verify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  const s = le(signature.subarray(32));
  if (s >= L) return false;
  let A: CurvePoint;
  try {
    A = Point.fromBytes(publicKey, true);
  } catch {
    return false;
  }
  const R = signature.subarray(0, 32);
  const k = mod(le(sha512(concat(R, publicKey, message))));
  const computed = Point.BASE.multiplyUnsafe(s).subtract(A.multiplyUnsafe(k));
  return equalBytes(computed.toBytes(), R);
}

/** §4.2: UTF-8 tag || 32 raw hash bytes. */
export function domainMessage(tag: string, hash: Uint8Array): Uint8Array {
  if (hash.length !== 32) throw new Error('a signed hash has 32 bytes');
  return concat(utf8(tag), hash);
}

export const domains = {
  tx: 'coffer/tx/v1',
  block: 'coffer/block/v2',
  attestation: 'coffer/cluster/attestation/v1',
  accountableKey: 'coffer/accountable/key/v1',
  accountableNonceSecret: 'coffer/accountable/nonce-secret/v1',
  accountableNonce: 'coffer/accountable/nonce/v1',
  accountableChallenge: 'coffer/accountable/challenge/v1',
  nonceCommitmentLeaf: 'coffer/nonce-commitment/leaf/v1',
  hiddenInfoCommit: 'coffer/hidden-info/commit/v1',
  hiddenInfoKey: 'coffer/hidden-info/key/v1',
  hiddenInfoAead: 'coffer/hidden-info/aead/v1',
  stateRoot: 'coffer/state-root/v1',
} as const;

// ---- §8 transactions -------------------------------------------------------------------------

const txFields = ['chainId', 'type', 'sender', 'nonce', 'expiresAt', 'payload', 'memo'];

/** The body: every field of the tx but `signature` (§8.1). */
export function txBody(tx: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const field of txFields) if (tx[field] !== undefined) body[field] = tx[field];
  return body;
}

export function txHash(tx: Record<string, unknown>): Uint8Array {
  return canonicalHash(txBody(tx));
}

/** The name of the first failing check of §17.4 about the tx itself, or undefined. */
export function checkTx(tx: unknown, claimedHash?: string): string | undefined {
  if (!isRecord(tx)) return 'malformed';
  if (Object.keys(tx).some((field) => field !== 'signature' && !txFields.includes(field))) {
    return 'tx_fields';
  }
  let hash: Uint8Array;
  try {
    hash = txHash(tx);
  } catch {
    return 'tx_hash';
  }
  if (claimedHash !== undefined && hex(hash) !== claimedHash) return 'tx_hash';
  const key = publicKeyOf(tx.sender);
  if (key === undefined) return 'tx_signature';
  if (typeof tx.signature !== 'string' || !/^[0-9a-f]{128}$/.test(tx.signature)) {
    return 'tx_signature';
  }
  return ed25519Verify(key, domainMessage(domains.tx, hash), unhex(tx.signature))
    ? undefined
    : 'tx_signature';
}

// ---- §11 accountable signatures ---------------------------------------------------------------

export interface AccountableKeyParts {
  x: bigint;
  publicKey: Uint8Array;
  nonceSecret: Uint8Array;
}

export function accountableKey(seed: Uint8Array): AccountableKeyParts {
  const x = mod(le(sha512(concat(utf8(domains.accountableKey), seed))));
  if (x === 0n) throw new Error('the zero scalar');
  return {
    x,
    publicKey: Point.BASE.multiply(x).toBytes(),
    nonceSecret: sha256(concat(utf8(domains.accountableNonceSecret), seed)),
  };
}

export function accountableNonce(
  nonceSecret: Uint8Array,
  chainId: string,
  height: number,
): { k: bigint; R: Uint8Array } {
  const k = mod(
    le(
      sha512(concat(utf8(domains.accountableNonce), nonceSecret, utf8(chainId), uint64be(height))),
    ),
  );
  return { k, R: Point.BASE.multiply(k).toBytes() };
}

/** The message signed as plain ed25519 (§11.3). */
export function accountableMessage(height: number, message: Uint8Array): Uint8Array {
  return concat(utf8(domains.accountableChallenge), uint64be(height), message);
}

export function accountableChallenge(
  R: Uint8Array,
  publicKey: Uint8Array,
  height: number,
  message: Uint8Array,
): bigint {
  return mod(le(sha512(concat(R, publicKey, accountableMessage(height, message)))));
}

export function accountableSign(
  key: AccountableKeyParts,
  chainId: string,
  height: number,
  message: Uint8Array,
): { height: number; R: string; s: string } {
  const { k, R } = accountableNonce(key.nonceSecret, chainId, height);
  const c = accountableChallenge(R, key.publicKey, height, message);
  return { height, R: hex(R), s: hex(scalarBytes(mod(k + c * key.x))) };
}

/** §11.1: a canonical encoding of a point of the prime-order subgroup other than the identity. */
export function isAccountablePublicKey(publicKey: Uint8Array): boolean {
  if (publicKey.length !== 32) return false;
  let point: CurvePoint;
  try {
    point = Point.fromBytes(publicKey, false);
  } catch {
    return false;
  }
  if (!equalBytes(point.toBytes(), publicKey)) return false;
  return !point.isSmallOrder() && point.isTorsionFree();
}

const identityEncoding = `01${'00'.repeat(31)}`;

/** §11.4: valid for `height` (the header's), never throws. */
export function verifyAccountable(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: unknown,
  height: number,
): boolean {
  if (!isRecord(signature)) return false;
  const { R, s } = signature;
  if (signature.height !== height || !isCount(height)) return false;
  if (!isHash(R) || !isHash(s) || R === identityEncoding) return false;
  if (!isAccountablePublicKey(publicKey)) return false;
  const sValue = le(unhex(s));
  if (sValue >= L) return false;
  const P = Point.fromBytes(publicKey, false);
  const c = accountableChallenge(unhex(R), publicKey, height, message);
  const computed = Point.BASE.multiplyUnsafe(sValue).subtract(P.multiplyUnsafe(c));
  return equalBytes(computed.toBytes(), unhex(R));
}

/** §11.5: x from two signatures sharing R at one height, or undefined. */
export function extractSecret(
  publicKey: Uint8Array,
  a: { message: Uint8Array; signature: { height: number; R: string; s: string } },
  b: { message: Uint8Array; signature: { height: number; R: string; s: string } },
): bigint | undefined {
  if (a.signature.height !== b.signature.height || a.signature.R !== b.signature.R)
    return undefined;
  const R = unhex(a.signature.R);
  const cA = accountableChallenge(R, publicKey, a.signature.height, a.message);
  const cB = accountableChallenge(R, publicKey, b.signature.height, b.message);
  if (cA === cB) return undefined;
  const sA = le(unhex(a.signature.s));
  const sB = le(unhex(b.signature.s));
  const x = mod((sA - sB) * modPow(cA - cB, L - 2n));
  if (x === 0n || !equalBytes(Point.BASE.multiply(x).toBytes(), publicKey)) return undefined;
  return x;
}

// ---- §12 nonce commitments -------------------------------------------------------------------

export interface NonceRange {
  fromHeight: number;
  count: number;
  root: string;
}

export function nonceLeaf(height: number, R: Uint8Array): Uint8Array {
  return concat(utf8(domains.nonceCommitmentLeaf), uint64be(height), R);
}

export function nonceCommitmentRoot(
  nonceSecret: Uint8Array,
  chainId: string,
  fromHeight: number,
  count: number,
): string {
  const leaves = Array.from({ length: count }, (_, index) =>
    nonceLeaf(fromHeight + index, accountableNonce(nonceSecret, chainId, fromHeight + index).R),
  );
  return hex(merkleTreeHash(leaves));
}

/** §12.3: the proof shows that proof.R is the nonce committed for proof.height in `range`. */
export function verifyNonceProof(range: NonceRange, proof: unknown): boolean {
  if (!isRecord(proof)) return false;
  const { height, R, index, treeSize } = proof;
  if (!isCount(height) || !isHash(R)) return false;
  if (height < range.fromHeight || height >= range.fromHeight + range.count) return false;
  if (index !== height - range.fromHeight || treeSize !== range.count) return false;
  const path = proofPath(proof);
  if (path === undefined) return false;
  return verifyMerkleInclusion(
    nonceLeaf(height, unhex(R)),
    index,
    treeSize,
    path,
    unhex(range.root),
  );
}

// ---- §13 hidden information ------------------------------------------------------------------

export function hiddenInfoKey(x: bigint): Uint8Array {
  return hkdf(sha256, scalarBytes(x), new Uint8Array(0), utf8(domains.hiddenInfoKey), 32);
}

export function hiddenInfoCommitment(info: unknown, salt: Uint8Array): string {
  return hex(sha256(concat(utf8(domains.hiddenInfoCommit), salt, utf8(canonicalJson(info)))));
}

export function sealHiddenInfo(
  x: bigint,
  info: unknown,
  salt: Uint8Array,
  iv: Uint8Array,
): { hiddenInfo: string; commitment: string } {
  const cipher = crypto.createCipheriv('aes-256-gcm', hiddenInfoKey(x), iv);
  cipher.setAAD(utf8(domains.hiddenInfoAead));
  const plaintext = utf8(canonicalJson({ info, salt: hex(salt) }));
  const sealed = concat(iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag());
  return { hiddenInfo: hex(sealed), commitment: hiddenInfoCommitment(info, salt) };
}

export function openHiddenInfo(
  x: bigint,
  hiddenInfo: string,
  commitment: string,
): { info: unknown; salt: string } | undefined {
  try {
    const bytes = unhex(hiddenInfo);
    const decipher = crypto.createDecipheriv(
      'aes-256-gcm',
      hiddenInfoKey(x),
      bytes.subarray(0, 12),
    );
    decipher.setAAD(utf8(domains.hiddenInfoAead));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    const plaintext = concat(decipher.update(bytes.subarray(12, -16)), decipher.final());
    const opened = JSON.parse(new TextDecoder().decode(plaintext)) as {
      info: unknown;
      salt: string;
    };
    if (!isHash(opened.salt)) return undefined;
    return hiddenInfoCommitment(opened.info, unhex(opened.salt)) === commitment
      ? opened
      : undefined;
  } catch {
    return undefined;
  }
}

// ---- §15 state root --------------------------------------------------------------------------

export type WriteEntry = [string, string | null];

export function writeSetDigest(writes: WriteEntry[]): Uint8Array {
  for (let index = 1; index < writes.length; index++) {
    if (compareUtf16(writes[index - 1]![0], writes[index]![0]) >= 0) {
      throw new Error('a write-set is sorted by key, each key once');
    }
  }
  return canonicalHash(writes);
}

export function nextStateRoot(previous: Uint8Array, writes: WriteEntry[]): Uint8Array {
  return sha256(concat(utf8(domains.stateRoot), previous, writeSetDigest(writes)));
}

export const rootBeforeGenesis = new Uint8Array(32);

// ---- §16 attestations ------------------------------------------------------------------------

export function attestationMessage(
  chainId: string,
  height: number,
  blockHash: string,
  stateRoot: string,
): Uint8Array {
  return domainMessage(
    domains.attestation,
    canonicalHash({ chainId, height, blockHash, stateRoot }),
  );
}

// ---- §10 headers and §17 light clients --------------------------------------------------------

const headerFields = [
  'chainId',
  'height',
  'prevHash',
  'time',
  'txCount',
  'txRoot',
  'receiptRoot',
  'stateRoot',
  'producer',
];

/** What the light client trusts (§17.1): each producer's committed nonce ranges, by producer id. */
export interface Trust {
  producers: Record<string, NonceRange[]>;
}

export function headerHash(header: unknown): string {
  return hex(canonicalHash(header));
}

/** §17.2 step 1: every field there with its type (the producer's address is checked next). */
function headerShapeOk(block: unknown): block is Record<string, unknown> {
  if (!isRecord(block)) return false;
  const { header, hash, signature } = block;
  if (!isRecord(header) || !isHash(hash)) return false;
  const keys = Object.keys(header);
  if (keys.length !== headerFields.length || !headerFields.every((f) => keys.includes(f))) {
    return false;
  }
  if (typeof header.chainId !== 'string' || header.chainId === '') return false;
  if (!isCount(header.height) || !isCount(header.time) || !isCount(header.txCount)) return false;
  if (!['prevHash', 'txRoot', 'receiptRoot', 'stateRoot'].every((f) => isHash(header[f]))) {
    return false;
  }
  if (typeof header.producer !== 'string') return false;
  return (
    isRecord(signature) && isCount(signature.height) && isHash(signature.R) && isHash(signature.s)
  );
}

/** The first failing check of §17.2 for a signed header, or undefined. */
export function checkSignedHeader(block: unknown, trust: Trust): string | undefined {
  if (!headerShapeOk(block)) return 'malformed';
  const header = block.header as Record<string, unknown> & { height: number; producer: string };
  const hash = block.hash as string;
  const signature = block.signature as Record<string, unknown>;
  if (headerHash(header) !== hash) return 'header_hash';
  const key = publicKeyOf(header.producer);
  if (key === undefined) return 'producer_address';
  const message = domainMessage(domains.block, unhex(hash));
  if (!verifyAccountable(key, message, signature, header.height)) return 'signature';
  const ranges = Object.hasOwn(trust.producers, header.producer)
    ? trust.producers[header.producer]
    : undefined;
  if (ranges === undefined) return 'producer_untrusted';
  const proof = signature.nonceProof;
  if (proof === undefined || proof === null) return 'nonce_proof_missing';
  const range = ranges.find(
    (r) => header.height >= r.fromHeight && header.height < r.fromHeight + r.count,
  );
  if (range === undefined) return 'nonce_uncommitted';
  if (!isRecord(proof) || proof.height !== signature.height || proof.R !== signature.R) {
    return 'nonce_proof';
  }
  return verifyNonceProof(range, proof) ? undefined : 'nonce_proof';
}

/**
 * The first failing check of §17.3 over a run of headers, or undefined. `previous`, a header the
 * caller already trusts, anchors the run: it is linked to, not checked again.
 */
export function checkHeaderChain(
  blocks: unknown[],
  trust: Trust,
  previous?: unknown,
): string | undefined {
  if (previous !== undefined && !headerShapeOk(previous)) return 'malformed';
  let before = previous as { hash: string; header: Record<string, unknown> } | undefined;
  for (const block of blocks) {
    const failed = checkSignedHeader(block, trust);
    if (failed !== undefined) return failed;
    const { header, hash } = block as { hash: string; header: Record<string, unknown> };
    if (before === undefined) {
      if (header.height === 0 && header.prevHash !== '0'.repeat(64)) return 'genesis';
    } else {
      if (header.height !== (before.header.height as number) + 1) return 'chain_height';
      if (header.prevHash !== before.hash) return 'chain_link';
      if (header.chainId !== before.header.chainId) return 'chain_id';
      if ((header.time as number) < (before.header.time as number)) return 'chain_time';
    }
    before = { hash, header };
  }
  return undefined;
}

/**
 * The first failing check of §17.4 for a bundle as `GET /v1/txs/{hash}` answers it, or undefined.
 * With `receipt: false` a bundle without a receipt passes (and then its outcome is unchecked).
 */
export function checkTxBundle(
  bundle: unknown,
  trust: Trust,
  options: { receipt?: boolean } = {},
): string | undefined {
  if (!isRecord(bundle) || !isHash(bundle.hash)) return 'malformed';
  const headerFailure = checkSignedHeader(bundle.block, trust);
  if (headerFailure !== undefined) return headerFailure;
  const header = (bundle.block as { header: Record<string, unknown> }).header as Record<
    string,
    unknown
  > & { height: number; txCount: number; chainId: string };
  if (bundle.height !== undefined && bundle.height !== header.height) return 'height';
  const txFailure = checkTx(bundle.tx, bundle.hash);
  if (txFailure !== undefined) return txFailure;
  if ((bundle.tx as Record<string, unknown>).chainId !== header.chainId) return 'tx_chain';

  const { proof } = bundle;
  const path = proofPath(proof);
  if (!isRecord(proof) || path === undefined) return 'malformed';
  if (!isCount(proof.leafIndex) || !isCount(proof.treeSize)) return 'malformed';
  if (proof.treeSize !== header.txCount) return 'tree_size';
  if (bundle.index !== proof.leafIndex) return 'index';
  const txRoot = unhex(header.txRoot as string);
  if (!verifyMerkleInclusion(unhex(bundle.hash), proof.leafIndex, proof.treeSize, path, txRoot)) {
    return 'tx_proof';
  }

  const { receipt, receiptProof } = bundle;
  if (receipt === undefined && receiptProof === undefined) {
    return options.receipt === false ? undefined : 'receipt_missing';
  }
  if (!isRecord(receipt) || receipt.tx !== bundle.hash || typeof receipt.status !== 'string') {
    return 'receipt';
  }
  const receiptPath = proofPath(receiptProof);
  if (!isRecord(receiptProof) || receiptPath === undefined) return 'receipt_proof';
  if (!isCount(receiptProof.leafIndex) || !isCount(receiptProof.treeSize)) return 'receipt_proof';
  if (receiptProof.treeSize !== header.txCount) return 'tree_size';
  if (receiptProof.leafIndex !== proof.leafIndex) return 'index';
  let leaf: Uint8Array;
  try {
    leaf = canonicalHash(receipt);
  } catch {
    return 'receipt';
  }
  const receiptRoot = unhex(header.receiptRoot as string);
  const { leafIndex, treeSize } = receiptProof;
  if (!verifyMerkleInclusion(leaf, leafIndex, treeSize, receiptPath, receiptRoot)) {
    return 'receipt_proof';
  }
  return undefined;
}

export function sha256Of(text: string): Uint8Array {
  return sha256(utf8(text));
}
