import { signingMessage } from '../crypto/domains.js';
import {
  canonicalBytes,
  canonicalize,
  nonceProofMatchesSignature,
  publicKeyFromAddress,
  sha256,
  toHex,
  verifyAtHeight,
  verifyNonceProof,
  type AccountableSignature,
  type NonceProof,
} from '../crypto/index.js';
import type { BlockHeader } from '../protocol/core.js';

// A header and a receipt: one definition, in src/protocol/core.ts.
export type { BlockHeader, Receipt } from '../protocol/core.js';

/** The fields of a header, in the order BlockHeader declares them (parsers check for exactly these). */
export const blockHeaderFields = [
  'chainId',
  'height',
  'prevHash',
  'time',
  'txCount',
  'txRoot',
  'receiptRoot',
  'stateRoot',
  'producer',
] as const satisfies readonly (keyof BlockHeader)[];

/**
 * The accountable signature of a header (docs/architecture.md, "Blocks"): `{height, R, s}` signs
 * `blockSigningMessage(hash)` at the header's height, and `nonceProof` shows that R is the nonce
 * the producer committed for that height.
 */
export interface BlockSignature extends AccountableSignature {
  nonceProof: NonceProof;
}

export interface SignedBlock {
  header: BlockHeader;
  hash: string;
  signature: BlockSignature;
}

/** Signs headers for one producer. Implementations enforce signer safety (one header per height). */
export interface BlockSigner {
  /** The producer id written into headers: the address of the accountable public key. */
  readonly producer: string;
  sign(header: BlockHeader, hash: string): BlockSignature;
  /** Whether it holds a committed nonce for `height`; a producer waits rather than fails. */
  canSign?(height: number): boolean;
}

/** A producer's committed nonce range, as the registry stores it. */
export interface CommittedNonceRange {
  fromHeight: number;
  count: number;
  root: string;
}

export const zeroHash = '0'.repeat(64);

export function blockHash(header: BlockHeader): string {
  return toHex(sha256(canonicalBytes(header)));
}

export function blockSigningMessage(hash: string): Uint8Array {
  return signingMessage('block', hash);
}

/** Signs a header with `signer` and returns the signed block. */
export function signBlockHeader(header: BlockHeader, signer: BlockSigner): SignedBlock {
  const hash = blockHash(header);
  return { header, hash, signature: signer.sign(header, hash) };
}

/** The accountable part of a block signature: what evidence carries. */
export function accountablePart(signature: AccountableSignature): AccountableSignature {
  return { height: signature.height, R: signature.R, s: signature.s };
}

/** The signature as stored in the `signature` column: canonical JSON. */
export function encodeBlockSignature(signature: BlockSignature): string {
  return canonicalize(signature);
}

export function decodeBlockSignature(text: string): BlockSignature {
  return JSON.parse(text) as BlockSignature;
}

/**
 * True when the header hashes to `block.hash` and `{height, R, s}` is the accountable signature of
 * it at the header's height by the key named in `header.producer`. Whether R is the committed
 * nonce is `blockNonceIsCommitted`. Never throws.
 */
export function verifyBlockSignature(block: SignedBlock): boolean {
  try {
    if (blockHash(block.header) !== block.hash) return false;
    const { signature } = block;
    if (typeof signature !== 'object' || signature === null) return false;
    if (signature.height !== block.header.height) return false;
    const key = publicKeyFromAddress(block.header.producer);
    return verifyAtHeight(key, blockSigningMessage(block.hash), accountablePart(signature));
  } catch {
    return false;
  }
}

/** True when the signature's nonce proof shows R is the nonce committed in one of `ranges`. */
export function blockNonceIsCommitted(
  signature: BlockSignature,
  ranges: readonly CommittedNonceRange[],
): boolean {
  const range = ranges.find(
    (r) => signature.height >= r.fromHeight && signature.height < r.fromHeight + r.count,
  );
  if (!range) return false;
  return (
    nonceProofMatchesSignature(signature.nonceProof, signature) &&
    verifyNonceProof(range.root, range.fromHeight, range.count, signature.nonceProof)
  );
}
