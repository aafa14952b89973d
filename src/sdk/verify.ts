import {
  canonicalBytes,
  fromHex,
  publicKeyFromAddress,
  sha256,
  signingMessage,
  toHex,
  verify,
  verifyAtHeight,
  verifyInclusion,
} from '../crypto/index.js';
import { hashTx, type SignedTx, type UnsignedTx } from './tx.js';

/**
 * Offline verification: everything here needs only the SDK and the data, never the node's word.
 * Inputs are taken as untrusted JSON: anything malformed is a problem sentence, never a throw.
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

/**
 * A header's accountable signature: `{R, s}` signs the header hash at `height` (see
 * docs/architecture.md, "Accountable header signatures"). `nonceProof` shows R was committed in
 * advance; checking it needs the producer's committed root (`GET /v1/producers/{id}`).
 */
export interface HeaderSignature {
  height: number;
  R: string;
  s: string;
  nonceProof?: unknown;
}

export interface SignedHeader {
  hash: string;
  header: BlockHeader;
  signature: HeaderSignature;
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

const zeroHash = '0'.repeat(64);
/** The node writes hashes and signatures in lowercase; any other spelling was not its. */
const hashPattern = /^[0-9a-f]{64}$/;
const signaturePattern = /^[0-9a-f]{128}$/;
const headerHashFields = ['prevHash', 'txRoot', 'receiptRoot', 'stateRoot'] as const;
const txFields = new Set([
  'chainId',
  'type',
  'sender',
  'nonce',
  'expiresAt',
  'payload',
  'memo',
  'signature',
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function verdict(problems: string[]): Verdict {
  return { ok: problems.length === 0, problems };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** SHA-256 of the canonical (RFC 8785) header: the block's id, which the producer signs. */
export function headerHash(header: BlockHeader): string {
  return toHex(sha256(canonicalBytes(header)));
}

/** `block 7`, or `block ?` when the height itself is not usable. */
function blockLabel(block: unknown): string {
  const height = isRecord(block) && isRecord(block.header) ? block.header.height : undefined;
  return `block ${isCount(height) ? height : '?'}`;
}

/** What is wrong with the shape of a signed header; empty when every field is usable. */
function headerShapeProblems(block: unknown): string[] {
  const label = blockLabel(block);
  if (!isRecord(block)) return [`${label}: not an object`];
  const { header } = block;
  if (!isRecord(header)) return [`${label}: the header is missing`];
  const problems: string[] = [];
  if (typeof header.chainId !== 'string' || header.chainId === '') {
    problems.push(`${label}: header.chainId is not a chain id`);
  }
  if (!isCount(header.height)) problems.push(`${label}: header.height is not a whole number`);
  if (!isCount(header.time)) problems.push(`${label}: header.time is not a whole number`);
  for (const name of headerHashFields) {
    const value = header[name];
    if (typeof value !== 'string' || !hashPattern.test(value)) {
      problems.push(`${label}: header.${name} is not 64 lowercase hex digits`);
    }
  }
  if (typeof header.producer !== 'string') problems.push(`${label}: header.producer is missing`);
  if (typeof block.hash !== 'string' || !hashPattern.test(block.hash)) {
    problems.push(`${label}: hash is not 64 lowercase hex digits`);
  }
  const signature = block.signature;
  if (
    !isRecord(signature) ||
    !isCount(signature.height) ||
    typeof signature.R !== 'string' ||
    !hashPattern.test(signature.R) ||
    typeof signature.s !== 'string' ||
    !hashPattern.test(signature.s)
  ) {
    problems.push(`${label}: signature is not {height, R, s} with R and s 64 lowercase hex digits`);
  }
  return problems;
}

/**
 * Checks a header's hash and its producer's signature (and, if given, who the producer is).
 * Fields beside `header`, `hash` and `signature` (a listing's `height`, `txCount`) are not
 * signed, so not checked: read the height from `header`.
 */
export function verifyHeader(block: SignedHeader, expectedProducer?: string): Verdict {
  const shape = headerShapeProblems(block);
  if (shape.length > 0) return verdict(shape);
  const label = blockLabel(block);
  const problems: string[] = [];
  if (headerHash(block.header) !== block.hash) {
    problems.push(`${label}: the hash does not match the header`);
  }
  let producerKey: Uint8Array | undefined;
  try {
    producerKey = publicKeyFromAddress(block.header.producer, 'header.producer');
  } catch (error) {
    problems.push(`${label}: the producer is not a valid address (${describe(error)})`);
  }
  const { height, R, s } = block.signature;
  if (height !== block.header.height) {
    problems.push(
      `${label}: the producer's signature does not verify (it is for height ${height})`,
    );
  } else if (
    producerKey &&
    !verifyAtHeight(producerKey, signingMessage('block', block.hash), { height, R, s })
  ) {
    problems.push(`${label}: the producer's signature does not verify`);
  }
  if (expectedProducer !== undefined && block.header.producer !== expectedProducer) {
    problems.push(`${label}: produced by ${block.header.producer}, expected ${expectedProducer}`);
  }
  return verdict(problems);
}

function txProblems(data: Record<string, unknown>): string[] {
  const { tx, hash } = data;
  if (!isRecord(tx)) return ['the tx is missing'];
  const problems: string[] = [];
  const unknown = Object.keys(tx).filter((name) => !txFields.has(name));
  if (unknown.length > 0) problems.push(`the tx has fields no tx has: ${unknown.join(', ')}`);
  const { signature, ...body } = tx;
  let computed: string | undefined;
  try {
    computed = hashTx(body as unknown as UnsignedTx);
  } catch (error) {
    problems.push(`the tx cannot be hashed (${describe(error)})`);
  }
  if (computed !== undefined && computed !== hash) {
    problems.push('the tx does not hash to the claimed hash');
  }
  // The node admits only signed txs, so a tx whose signature fails was never the node's.
  try {
    if (typeof signature !== 'string' || !signaturePattern.test(signature)) {
      problems.push("the tx's signature is not 128 lowercase hex digits");
    } else if (
      computed !== undefined &&
      !verify(
        fromHex(signature, 'tx.signature', 64),
        signingMessage('tx', computed),
        publicKeyFromAddress(String(tx.sender), 'tx.sender'),
      )
    ) {
      problems.push("the sender's signature on the tx does not verify");
    }
  } catch (error) {
    problems.push(`the tx's sender is not a valid address (${describe(error)})`);
  }
  return problems;
}

/**
 * When the bundle carries the receipt, its proof must lead to the header's `receiptRoot`, so the
 * tx's outcome (ok, or the rejection code) is checked offline too.
 */
function receiptProblems(data: Record<string, unknown>, header: BlockHeader): string[] {
  const { receipt, receiptProof, hash } = data;
  if (receipt === undefined) return [];
  if (!isRecord(receipt) || receipt.tx !== hash)
    return ['the receipt is not the receipt of this tx'];
  if (
    !isRecord(receiptProof) ||
    !isCount(receiptProof.leafIndex) ||
    !isCount(receiptProof.treeSize)
  ) {
    return ['the receipt has no Merkle proof'];
  }
  if (!Array.isArray(receiptProof.path)) return ['the receipt proof has no path'];
  const path: Uint8Array[] = [];
  for (const [i, step] of (receiptProof.path as unknown[]).entries()) {
    if (typeof step !== 'string' || !hashPattern.test(step)) {
      return [`the receipt proof's path[${i}] is not 64 lowercase hex digits`];
    }
    path.push(fromHex(step, `receiptProof.path[${i}]`, 32));
  }
  let leaf: Uint8Array;
  try {
    leaf = sha256(canonicalBytes(receipt));
  } catch {
    return ['the receipt is not canonical JSON'];
  }
  const root = fromHex(header.receiptRoot, 'header.receiptRoot', 32);
  if (!verifyInclusion(leaf, receiptProof.leafIndex, receiptProof.treeSize, path, root)) {
    return ["the receipt proof does not lead to the block's receiptRoot"];
  }
  if (data.index !== undefined && data.index !== receiptProof.leafIndex) {
    return ['the receipt proof is for another position in the block'];
  }
  return [];
}

function proofProblems(data: Record<string, unknown>, header: BlockHeader): string[] {
  const { proof, hash } = data;
  if (!isRecord(proof)) return ['the Merkle proof is missing'];
  if (!isCount(proof.leafIndex) || !isCount(proof.treeSize)) {
    return ['the Merkle proof has no whole-number leafIndex and treeSize'];
  }
  if (!Array.isArray(proof.path)) return ['the Merkle proof has no path'];
  const path: Uint8Array[] = [];
  for (const [i, step] of (proof.path as unknown[]).entries()) {
    if (typeof step !== 'string' || !hashPattern.test(step)) {
      return [`the Merkle proof's path[${i}] is not 64 lowercase hex digits`];
    }
    path.push(fromHex(step, `proof.path[${i}]`, 32));
  }
  const problems: string[] = [];
  const root = fromHex(header.txRoot, 'header.txRoot', 32);
  const leaf = fromHex(hash as string, 'hash', 32);
  if (!verifyInclusion(leaf, proof.leafIndex, proof.treeSize, path, root)) {
    problems.push("the Merkle proof does not lead to the block's txRoot");
  }
  // A lookup also says where the tx sits; that must be what the proof proves.
  if (data.index !== undefined && data.index !== proof.leafIndex) {
    problems.push(
      `the tx is said to be at index ${JSON.stringify(data.index)}, the proof is for ${proof.leafIndex}`,
    );
  }
  return problems;
}

/**
 * Checks that a tx is in a block: the tx hashes to `hash`, its sender signed it, the Merkle
 * path leads from `hash` to the header's `txRoot`, and the header is signed (by
 * `expectedProducer`, if given). When `data` also says where the tx is (`height`, `index`, as
 * `getTx` answers), those must agree with the header and the proof. When it carries the receipt
 * (as `getTx` answers), the receipt's proof must lead to the header's `receiptRoot`.
 */
export function verifyTxInclusion(data: TxWithProof, expectedProducer?: string): Verdict {
  if (!isRecord(data)) return verdict(['the proof bundle is not an object']);
  const record = data as unknown as Record<string, unknown>;
  if (typeof data.hash !== 'string' || !hashPattern.test(data.hash)) {
    return verdict(['the claimed tx hash is not 64 lowercase hex digits']);
  }
  const headerProblems = verifyHeader(data.block, expectedProducer).problems;
  const problems = txProblems(record);
  if (headerShapeProblems(data.block).length === 0) {
    const { header } = data.block;
    problems.push(...proofProblems(record, header));
    problems.push(...receiptProblems(record, header));
    if (isRecord(data.tx) && data.tx.chainId !== header.chainId) {
      problems.push(
        `the tx is for chain ${String(data.tx.chainId)}, the block is of ${header.chainId}`,
      );
    }
    if (record.height !== undefined && record.height !== header.height) {
      problems.push(
        `the tx is said to be at height ${JSON.stringify(record.height)}, the block is ${header.height}`,
      );
    }
  }
  problems.push(...headerProblems);
  return verdict(problems);
}

/**
 * Checks a run of headers: each hash and signature, heights one apart, each `prevHash` the hash
 * before it, one chain id, one producer (the solo consensus has one), time never going
 * backwards, and a zero `prevHash` at height 0. `previous` anchors the run to a header already
 * trusted; `expectedProducer` to a known producer key.
 */
export function verifyHeaderChain(
  blocks: SignedHeader[],
  options: {
    previous?: SignedHeader;
    expectedProducer?: string;
    onProgress?: (done: number) => void;
  } = {},
): Verdict {
  if (!Array.isArray(blocks)) return verdict(['the headers are not an array']);
  const problems: string[] = [];
  let previous = options.previous;
  if (previous !== undefined && headerShapeProblems(previous).length > 0) {
    return verdict(['the trusted previous header is malformed']);
  }
  blocks.forEach((block, i) => {
    const shape = headerShapeProblems(block);
    if (shape.length > 0) {
      problems.push(...shape);
      previous = undefined; // nothing to link the next one to
      options.onProgress?.(i + 1);
      return;
    }
    problems.push(...verifyHeader(block, options.expectedProducer).problems);
    const { header } = block;
    const label = `block ${header.height}`;
    if (previous) {
      const before = previous.header;
      if (header.height !== before.height + 1) {
        problems.push(`${label}: follows height ${before.height}`);
      }
      if (header.prevHash !== previous.hash) {
        problems.push(`${label}: prevHash does not link to block ${before.height}`);
      }
      if (header.chainId !== before.chainId) {
        problems.push(`${label}: chain id ${header.chainId} after ${before.chainId}`);
      }
      if (header.producer !== before.producer && options.expectedProducer === undefined) {
        problems.push(
          `${label}: produced by ${header.producer}, block ${before.height} by ${before.producer}`,
        );
      }
      if (header.time < before.time) problems.push(`${label}: time went backwards`);
    } else if (header.height === 0 && header.prevHash !== zeroHash) {
      problems.push('block 0: prevHash must be zero');
    }
    previous = block;
    options.onProgress?.(i + 1);
  });
  return verdict(problems);
}
