import type { SignedTx, TxBody } from '../protocol/core.js';
import { canonicalBytes } from './canonical.js';
import { sha256 } from './hash.js';

/**
 * The signed part of a tx and its hash: the one definition that both src/chain/tx.ts (the main
 * thread) and src/crypto/tx-check-worker.ts (the verify workers) use, so the two cannot disagree
 * on a tx's hash. It lives under src/crypto because the worker must load it without the chain's
 * registries (src/chain pulls in every module's rejections); it imports only the canonical JSON
 * and the hash.
 */
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

/** RFC 8785 canonical JSON of the tx's body (throws a CryptoInputError on a value JSON lacks). */
export function txBodyBytes(tx: SignedTx | TxBody): Uint8Array {
  return canonicalBytes(txBody(tx));
}

export function txHashBytes(body: TxBody): Uint8Array {
  return sha256(txBodyBytes(body));
}
