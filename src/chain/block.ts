import { signingMessage } from '../crypto/domains.js';
import {
  canonicalBytes,
  canonicalize,
  fromHex,
  publicKeyFromAddress,
  sha256,
  sign,
  toHex,
  verify,
} from '../crypto/index.js';
import type { ChainEvent } from './module.js';

export interface BlockHeader {
  chainId: string;
  height: number;
  /** Hex hash of the previous header; 64 zeros at genesis. */
  prevHash: string;
  /** Unix milliseconds, never less than the previous block's. */
  time: number;
  /** Merkle root (RFC 6962) over the raw 32-byte tx hashes, in block order. */
  txRoot: string;
  /** Merkle root over the SHA-256 of each canonical receipt, in block order. */
  receiptRoot: string;
  stateRoot: string;
  /** Address of the producer whose key signed the header. */
  producer: string;
}

export interface Receipt {
  tx: string;
  /** `ok` or the rejection code. */
  status: string;
  events: ChainEvent[];
}

export interface SignedBlock {
  header: BlockHeader;
  hash: string;
  signature: string;
}

export const zeroHash = '0'.repeat(64);

export function blockHash(header: BlockHeader): string {
  return toHex(sha256(canonicalBytes(header)));
}

export function blockSigningMessage(hash: string): Uint8Array {
  return signingMessage('block', hash);
}

/** Ed25519 over the header hash, for now; the accountable signature replaces it (issue 4). */
export function signBlockHeader(header: BlockHeader, secretKey: Uint8Array): SignedBlock {
  const hash = blockHash(header);
  return { header, hash, signature: toHex(sign(blockSigningMessage(hash), secretKey)) };
}

export function verifyBlockSignature(block: SignedBlock): boolean {
  if (blockHash(block.header) !== block.hash) return false;
  try {
    const key = publicKeyFromAddress(block.header.producer);
    return verify(fromHex(block.signature, 'signature', 64), blockSigningMessage(block.hash), key);
  } catch {
    return false;
  }
}

export function receiptLeaf(receipt: Receipt): Uint8Array {
  return sha256(canonicalize(receipt));
}
