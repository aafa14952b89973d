import { signingMessage } from '../crypto/domains.js';
import {
  canonicalBytes,
  fromHex,
  isAddress,
  isWeakPublicKey,
  publicKeyFromAddress,
  sha256,
  sign,
  toHex,
} from '../crypto/index.js';
import { txBody, txHashBytes } from '../crypto/tx-digest.js';
import type { TxDigest } from '../crypto/verify-pool.js';
import type { SignedTx, TxBody } from '../protocol/core.js';
import { reject, type Rejection } from './rejections.js';

// What a sender signs and the signed tx: one definition, in src/protocol/core.ts.
export type { SignedTx, TxBody };

/** A tx that passed decoding: its hash, its sender's key and its parsed payload travel with it. */
export interface DecodedTx {
  tx: SignedTx;
  hash: string;
  hashBytes: Uint8Array;
  publicKey: Uint8Array;
  signatureBytes: Uint8Array;
  /** The payload as the tx type's parser returned it. */
  parsed: unknown;
  /** `JSON.stringify(tx)` when admission made it already (the store keeps it as the body). */
  json?: string;
}

export const txSizeMax = 16 * 1024;
export const memoBytesMax = 256;
export const batchLengthMax = 10_000;

const typePattern = /^[a-z][a-zA-Z0-9]{0,31}\.[a-z][a-zA-Z0-9]{0,31}$/;
const signaturePattern = /^[0-9a-f]{128}$/;
const allowedFields = new Set([
  'chainId',
  'type',
  'sender',
  'nonce',
  'expiresAt',
  'payload',
  'memo',
  'signature',
]);

// One definition for the main thread and the verify workers (src/crypto/tx-check-worker.ts).
export { txBody, txHashBytes };

export function txSigningMessage(hashBytes: Uint8Array): Uint8Array {
  return signingMessage('tx', hashBytes);
}

export function signTx(body: TxBody, secretKey: Uint8Array): SignedTx {
  const hash = txHashBytes(body);
  return { ...txBody(body), signature: toHex(sign(txSigningMessage(hash), secretKey)) };
}

/**
 * A tx type's stateless check of its payload. `sender` is the tx's (decodeTx always gives it): a
 * check that binds the sender, such as a proof of work over it, runs here at admission; parsers
 * called on a payload alone (a route checking evidence, a test) get none.
 */
export type PayloadParser = (
  payload: Record<string, unknown>,
  sender?: string,
) => { value: unknown } | Rejection;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A tx that passed the checks before its canonical body; see `checkTxShape`. */
export interface ShapedTx {
  tx: SignedTx;
  parser: PayloadParser;
  publicKey: Uint8Array;
}

/**
 * Stateless checks, in fixed precedence: shape, chain, type, sender, nonce, expiry, memo, payload,
 * size. The signature is checked afterwards, in the verify pool, because it is the costly part.
 */
export function decodeTx(
  input: unknown,
  chainId: string,
  parserFor: (type: string) => PayloadParser | undefined,
): DecodedTx | Rejection {
  const shaped = checkTxShape(input, chainId, parserFor);
  if (isRejection(shaped)) return shaped;
  let bytes: Uint8Array;
  try {
    bytes = canonicalBytes(txBody(shaped.tx));
  } catch {
    return reject('invalid_payload', 'payload');
  }
  return completeTx(
    shaped,
    bytes.length,
    sha256(bytes),
    fromHex(shaped.tx.signature, 'signature', 64),
  );
}

/**
 * The checks of `decodeTx` that come before the canonical body (shape, chain, type, sender,
 * nonce, expiry, memo, payload is an object, signature is 128 hex digits), on the parsed input.
 */
export function checkTxShape(
  input: unknown,
  chainId: string,
  parserFor: (type: string) => PayloadParser | undefined,
): ShapedTx | Rejection {
  if (!isPlainObject(input)) return reject('invalid_tx');
  for (const key of Object.keys(input)) {
    if (!allowedFields.has(key)) return reject('unknown_field', key);
  }
  const tx = input as unknown as SignedTx;
  if (typeof tx.chainId !== 'string') return reject('invalid_tx', 'chainId');
  if (tx.chainId !== chainId) return reject('wrong_chain', 'chainId');
  if (typeof tx.type !== 'string' || !typePattern.test(tx.type))
    return reject('unknown_tx_type', 'type');
  const parser = parserFor(tx.type);
  if (!parser) return reject('unknown_tx_type', 'type');
  // A weak key (small order, or a second encoding of a point) would let anyone sign as it.
  if (!isAddress(tx.sender)) return reject('invalid_sender', 'sender');
  const publicKey = publicKeyFromAddress(tx.sender);
  if (isWeakPublicKey(publicKey)) return reject('invalid_sender', 'sender');
  if (!Number.isSafeInteger(tx.nonce) || tx.nonce < 0) return reject('invalid_nonce', 'nonce');
  if (tx.expiresAt !== undefined && (!Number.isSafeInteger(tx.expiresAt) || tx.expiresAt < 0)) {
    return reject('invalid_expiry', 'expiresAt');
  }
  if (tx.memo !== undefined) {
    if (typeof tx.memo !== 'string') return reject('invalid_tx', 'memo');
    if (Buffer.byteLength(tx.memo, 'utf8') > memoBytesMax) return reject('memo_too_long', 'memo');
  }
  if (!isPlainObject(tx.payload)) return reject('invalid_payload', 'payload');
  if (typeof tx.signature !== 'string' || !signaturePattern.test(tx.signature)) {
    return reject('bad_signature', 'signature');
  }
  return { tx, parser, publicKey };
}

/** The checks of `decodeTx` after the canonical body (size, payload parser), given its digest. */
export function completeTx(
  shaped: ShapedTx,
  bodyLength: number,
  hashBytes: Uint8Array,
  signatureBytes: Uint8Array,
): DecodedTx | Rejection {
  const { tx, parser } = shaped;
  if (bodyLength + 150 > txSizeMax) return reject('tx_too_large');
  const parsed = parser(tx.payload, tx.sender);
  if (!('value' in parsed)) {
    return parsed.field === undefined ? parsed : { ...parsed, field: `payload.${parsed.field}` };
  }
  return {
    tx,
    hash: toHex(hashBytes),
    hashBytes,
    publicKey: shaped.publicKey,
    signatureBytes,
    parsed: parsed.value,
  };
}

/** Digests txs given as JSON text: the verify pool's `digestTxs` (a worker does the work). */
export interface TxDigester {
  digestTxs(texts: string[], options: { verify: boolean }): Promise<TxDigest[]>;
}

/**
 * `decodeTx` over a batch, with the canonical body, its hash and the signature's hex decoding
 * done by the digester's workers instead of the calling thread; the answers are the same as
 * `decodeTx`'s, code for code. With `verify`, the workers check the signatures in the same pass
 * and a bad one answers `bad_signature` (so use it only where no check must come between the
 * decoding and the verify). Inputs given as undefined are skipped (their answer is undefined).
 */
export async function decodeTxs(
  inputs: readonly unknown[],
  chainId: string,
  parserFor: (type: string) => PayloadParser | undefined,
  digester: TxDigester,
  verify: boolean,
): Promise<(DecodedTx | Rejection | undefined)[]> {
  const results = new Array<DecodedTx | Rejection | undefined>(inputs.length);
  const shapedTxs: { index: number; shaped: ShapedTx }[] = [];
  const texts: string[] = [];
  for (let index = 0; index < inputs.length; index++) {
    const input = inputs[index];
    if (input === undefined) continue;
    const shaped = checkTxShape(input, chainId, parserFor);
    if (isRejection(shaped)) {
      results[index] = shaped;
      continue;
    }
    let text: string;
    try {
      // Spacing and key order do not matter: the worker hashes the canonical form.
      text = JSON.stringify(shaped.tx);
    } catch {
      results[index] = reject('invalid_payload', 'payload');
      continue;
    }
    shapedTxs.push({ index, shaped });
    texts.push(text);
  }
  const digests = texts.length === 0 ? [] : await digester.digestTxs(texts, { verify });
  shapedTxs.forEach(({ index, shaped }, i) => {
    const digest = digests[i]!;
    if (digest.status !== 'ok') {
      // checkTxShape passed an object with a 128-hex-digit signature, so only a body without
      // a canonical form is expected here; anything else would be a worker's disagreement.
      results[index] = reject(
        digest.status === 'bad_signature_text' ? 'bad_signature' : 'invalid_payload',
        digest.status === 'bad_signature_text' ? 'signature' : 'payload',
      );
      return;
    }
    const decoded = completeTx(shaped, digest.bodyLength, digest.hashBytes, digest.signatureBytes);
    if (!isRejection(decoded)) decoded.json = texts[i];
    if (verify && !isRejection(decoded) && !digest.valid) {
      results[index] = reject('bad_signature', 'signature');
      return;
    }
    results[index] = decoded;
  });
  return results;
}

export function isRejection(value: unknown): value is Rejection {
  return (
    isPlainObject(value) && typeof value.code === 'string' && typeof value.message === 'string'
  );
}
