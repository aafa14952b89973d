import { ledgerRejections } from '../ledger/index.js';

/**
 * Rejections raised by the chain itself: decoding, signatures, nonces, the mempool. Together with
 * the ledger's and each module's they form the one registry of codes (src/node/errors.ts gives
 * each its HTTP status; docs/errors.md lists them).
 */
export const chainRejections = {
  invalid_tx: 'The transaction must be a JSON object with the fields of a Coffer tx.',
  unknown_field: 'The transaction has a field Coffer does not know.',
  wrong_chain: 'The transaction is for another chain id.',
  unknown_tx_type: 'No module handles this tx type.',
  invalid_sender: 'The sender is not a valid Coffer address.',
  invalid_nonce: 'The nonce must be a whole number from 0 to 2^53 - 1.',
  invalid_expiry: 'expiresAt must be a whole number of milliseconds since the Unix epoch.',
  invalid_payload: 'The payload must be a JSON object.',
  memo_too_long: 'The memo is longer than 256 bytes.',
  tx_too_large: 'The transaction is larger than 16 KiB.',
  bad_signature: "The signature does not verify with the sender's key.",
  tx_expired: 'The transaction expired before it was included in a block.',
  duplicate_tx: 'This transaction was already received.',
  nonce_too_low: "The nonce is below the sender's next nonce: that nonce was already used.",
  nonce_too_high: "The nonce is too far above the sender's next nonce.",
  mempool_full: 'The node has too many pending transactions; retry shortly.',
  sender_queue_full: 'This sender has too many pending transactions; wait for some to commit.',
  sender_gap_limit:
    'This sender has as many transactions waiting for an earlier nonce as a sender may; send the missing nonces first.',
  gapped_pool_full:
    'The share of the pool for transactions waiting for an earlier nonce is full; send the missing nonces first.',
  gapped_rate_limited:
    'The node checks only so many transactions waiting for an earlier nonce per second; send the missing nonces first, or retry shortly.',
  sender_rate_limited:
    'This sender sent more transactions per second than the node admits; retry shortly.',
  gapped_tx_expired:
    'The transaction waited too long for an earlier nonce of its sender and was dropped; send the missing nonces, then this one again.',
  gapped_tx_evicted:
    'The transaction was waiting for an earlier nonce of its sender and was dropped to make room; send the missing nonces, then this one again.',
  batch_too_large: 'A batch holds at most 10,000 transactions.',
  internal_error: 'The transaction hit an internal error; it changed no state.',
  ordering_unavailable:
    "The cluster's ordering service (NATS JetStream) did not confirm storing the transaction in time; it may not be admitted. Submitting the same tx again is safe.",
} as const;

export type ChainRejection = keyof typeof chainRejections;

/** A rejection as the API and the SDK see it. */
export interface Rejection {
  code: string;
  message: string;
  field?: string;
}

const messages: Record<string, string> = {};

export function registerRejections(codes: Record<string, string>): void {
  for (const [code, message] of Object.entries(codes)) {
    if (messages[code] !== undefined && messages[code] !== message) {
      throw new Error(`rejection code ${code} is registered twice with different messages`);
    }
    messages[code] = message;
  }
}

registerRejections(ledgerRejections);
registerRejections(chainRejections);

export function rejectionMessage(code: string): string {
  return messages[code] ?? code.replaceAll('_', ' ');
}

export function reject(code: string, field?: string): Rejection {
  return field === undefined
    ? { code, message: rejectionMessage(code) }
    : { code, message: rejectionMessage(code), field };
}

export function knownRejectionCodes(): string[] {
  return Object.keys(messages).sort();
}
