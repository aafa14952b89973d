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

export function txBody(tx: SignedTx | TxBody): TxBody {
  const body: TxBody = {
    chainId: tx.chainId,
    type: tx.type,
    sender: tx.sender,
    nonce: tx.nonce,
    payload: tx.payload,
  };
  if (tx.expiresAt !== undefined) body.expiresAt = tx.expiresAt;
  if (tx.memo !== undefined) body.memo = tx.memo;
  return body;
}

export function txHashBytes(body: TxBody): Uint8Array {
  return sha256(canonicalBytes(txBody(body)));
}

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

/**
 * Stateless checks, in fixed precedence: shape, chain, type, sender, nonce, expiry, memo, payload,
 * size. The signature is checked afterwards, in the verify pool, because it is the costly part.
 */
export function decodeTx(
  input: unknown,
  chainId: string,
  parserFor: (type: string) => PayloadParser | undefined,
): DecodedTx | Rejection {
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
  if (!isAddress(tx.sender) || isWeakPublicKey(publicKeyFromAddress(tx.sender))) {
    return reject('invalid_sender', 'sender');
  }
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
  let bytes: Uint8Array;
  try {
    bytes = canonicalBytes(txBody(tx));
  } catch {
    return reject('invalid_payload', 'payload');
  }
  if (bytes.length + 150 > txSizeMax) return reject('tx_too_large');
  const parsed = parser(tx.payload, tx.sender);
  if (!('value' in parsed)) {
    return parsed.field === undefined ? parsed : { ...parsed, field: `payload.${parsed.field}` };
  }
  const hashBytes = sha256(bytes);
  return {
    tx,
    hash: toHex(hashBytes),
    hashBytes,
    publicKey: publicKeyFromAddress(tx.sender),
    signatureBytes: fromHex(tx.signature, 'signature', 64),
    parsed: parsed.value,
  };
}

export function isRejection(value: unknown): value is Rejection {
  return (
    isPlainObject(value) && typeof value.code === 'string' && typeof value.message === 'string'
  );
}
