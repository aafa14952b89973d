import {
  canonicalBytes,
  fromHex,
  publicKeyFromAddress,
  sha256,
  signingMessage,
  toHex,
  verify,
  verifyInclusion,
} from '../crypto/index.js';
import { hashTx, type SignedTx } from './tx.js';

/**
 * Offline verification: everything here needs only the SDK and the data, never the node's word.
 */

export interface BlockHeader {
  chainId: string;
  height: number;
  prevHash: string;
  time: number;
  txRoot: string;
  receiptRoot: string;
  stateRoot: string;
  producer: string;
}

export interface SignedHeader {
  hash: string;
  header: BlockHeader;
  signature: string;
}

export interface InclusionProof {
  leafIndex: number;
  treeSize: number;
  path: string[];
}

/** What `GET /v1/txs/{hash}` answers, the input of `verifyTxInclusion`. */
export interface TxWithProof {
  hash: string;
  tx: SignedTx;
  block: SignedHeader;
  proof: InclusionProof;
}

export interface Verdict {
  ok: boolean;
  /** Why not, one sentence each; empty when ok. */
  problems: string[];
}

export function headerHash(header: BlockHeader): string {
  return toHex(sha256(canonicalBytes(header)));
}

/** Checks a header's hash and its producer's signature (and, if given, who the producer is). */
export function verifyHeader(block: SignedHeader, expectedProducer?: string): Verdict {
  const problems: string[] = [];
  const height = block.header?.height;
  try {
    if (headerHash(block.header) !== block.hash) problems.push(`block ${height}: the hash does not match the header`);
    const key = publicKeyFromAddress(block.header.producer, 'header.producer');
    const signature = fromHex(block.signature, 'signature', 64);
    if (!verify(signature, signingMessage('block', fromHex(block.hash, 'hash', 32)), key)) {
      problems.push(`block ${height}: the producer's signature does not verify`);
    }
    if (expectedProducer !== undefined && block.header.producer !== expectedProducer) {
      problems.push(`block ${height}: produced by ${block.header.producer}, expected ${expectedProducer}`);
    }
  } catch (error) {
    problems.push(`block ${height}: malformed (${(error as Error).message})`);
  }
  return { ok: problems.length === 0, problems };
}

/** Checks that a tx is in a block: its hash, the Merkle path to the header's txRoot, the header. */
export function verifyTxInclusion(data: TxWithProof, expectedProducer?: string): Verdict {
  const problems: string[] = [];
  try {
    const { signature: _signature, ...body } = data.tx;
    if (hashTx(body) !== data.hash) problems.push('the tx does not hash to the claimed hash');
    const path = data.proof.path.map((p, i) => fromHex(p, `proof.path[${i}]`, 32));
    const root = fromHex(data.block.header.txRoot, 'header.txRoot', 32);
    if (!verifyInclusion(fromHex(data.hash, 'hash', 32), data.proof.leafIndex, data.proof.treeSize, path, root)) {
      problems.push("the Merkle proof does not lead to the block's txRoot");
    }
  } catch (error) {
    problems.push(`malformed proof (${(error as Error).message})`);
  }
  problems.push(...verifyHeader(data.block, expectedProducer).problems);
  return { ok: problems.length === 0, problems };
}

/**
 * Checks a run of headers: each hash and signature, heights one apart, each `prevHash` the hash
 * before it, one chain id, time never going backwards. `previous` anchors the run to a header
 * already trusted.
 */
export function verifyHeaderChain(
  blocks: SignedHeader[],
  options: { previous?: SignedHeader; expectedProducer?: string; onProgress?: (done: number) => void } = {},
): Verdict {
  const problems: string[] = [];
  let previous = options.previous;
  blocks.forEach((block, i) => {
    problems.push(...verifyHeader(block, options.expectedProducer).problems);
    if (previous) {
      const h = block.header.height;
      if (h !== previous.header.height + 1) problems.push(`block ${h}: follows height ${previous.header.height}`);
      if (block.header.prevHash !== previous.hash) problems.push(`block ${h}: prevHash does not link to block ${previous.header.height}`);
      if (block.header.chainId !== previous.header.chainId) problems.push(`block ${h}: chain id changed`);
      if (block.header.time < previous.header.time) problems.push(`block ${h}: time went backwards`);
    } else if (block.header.height === 0 && block.header.prevHash !== '0'.repeat(64)) {
      problems.push('block 0: prevHash must be zero');
    }
    previous = block;
    options.onProgress?.(i + 1);
  });
  return { ok: problems.length === 0, problems };
}
