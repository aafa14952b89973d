import {
  canonicalBytes,
  fromHex,
  nonceProofMatchesSignature,
  publicKeyFromAddress,
  sha256,
  signingMessage,
  toHex,
  verify,
  verifyAtHeight,
  verifyInclusion,
  verifyNonceProof,
} from '../crypto/index.js';
import type {
  BlockHeader,
  HeaderSignature,
  InclusionProof,
  SignedHeader,
  TxWithProof,
} from '../protocol/core.js';
import { hashTx, type UnsignedTx } from './tx.js';

/**
 * Offline verification: everything here needs only the SDK, the data and what the caller chose to
 * trust, never the node's word. Inputs are taken as untrusted JSON: anything malformed is a named
 * failure, never a throw. The formats are specified in docs/protocol.md; the wire types (a header,
 * its accountable signature with the nonce proof of R, an inclusion proof, `GET /v1/txs/{hash}`'s
 * answer) are defined once, in src/protocol/core.ts.
 */
export type {
  BlockHeader,
  HeaderSignature,
  InclusionProof,
  SignedHeader,
  TxWithProof,
} from '../protocol/core.js';

/** A producer's commitment to its nonces for heights [fromHeight, fromHeight + count). */
export interface CommittedNonceRange {
  fromHeight: number;
  count: number;
  /** Merkle root over the committed nonces (docs/protocol.md, "Nonce commitments"). */
  root: string;
}

/**
 * What a verifier trusts: the producers whose headers it accepts, each with the nonce ranges it
 * committed on chain. A header counts only when its producer is here and its nonce proof leads to
 * the range covering its height, so a producer cannot show a client a second header at a height
 * without revealing its key. Where the ranges come from is the caller's choice of trust: a saved
 * record, `trustFromProducers` over a node's answer (trust on first use), or a registry verified
 * from the chain itself (the CLI's `coffer verify`, docs/protocol.md "Light clients").
 */
export interface ProducerTrust {
  producers: Record<string, readonly CommittedNonceRange[]>;
}

/**
 * The checks a verification runs; a failure names the one that failed, so a program can tell a
 * forged header from a tampered proof without reading sentences.
 */
export type VerifyCheck =
  | 'malformed'
  | 'header_hash'
  | 'producer_address'
  | 'producer_untrusted'
  | 'signature'
  | 'nonce_proof_missing'
  | 'nonce_uncommitted'
  | 'nonce_proof'
  | 'tx_fields'
  | 'tx_hash'
  | 'tx_signature'
  | 'tx_chain'
  | 'tx_proof'
  | 'tree_size'
  | 'index'
  | 'height'
  | 'receipt_missing'
  | 'receipt'
  | 'receipt_proof'
  | 'chain_link'
  | 'chain_height'
  | 'chain_id'
  | 'chain_time'
  | 'genesis'
  | 'commitment';

export interface VerifyFailure {
  check: VerifyCheck;
  /** One sentence a person understands. */
  message: string;
}

export interface Verdict {
  ok: boolean;
  /** Why not, one sentence each (the failures' messages); empty when ok. */
  problems: string[];
  /** The failed checks, in the order found; empty when ok. */
  failures: VerifyFailure[];
}

/** A tx inclusion verdict also says what the tx's receipt shows, when it was checked. */
export interface TxVerdict extends Verdict {
  /** The receipt's status (`ok` or the rejection code), or undefined when not checked. */
  outcome: string | undefined;
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

/** Collects failures; each check names itself. */
class Findings {
  readonly failures: VerifyFailure[] = [];
  add(check: VerifyCheck, message: string): void {
    this.failures.push({ check, message });
  }
  addAll(other: readonly VerifyFailure[]): void {
    this.failures.push(...other);
  }
  get empty(): boolean {
    return this.failures.length === 0;
  }
  verdict(): Verdict {
    return verdictOf(this.failures);
  }
}

function verdictOf(failures: readonly VerifyFailure[]): Verdict {
  return {
    ok: failures.length === 0,
    problems: failures.map((f) => f.message),
    failures: [...failures],
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The trust of `GET /v1/producers` (or `/v1/producers/{id}`) records as a node answers them: each
 * producer with the ranges its record lists. Trusting it is trusting that node (trust on first
 * use); records list only the ranges not yet pruned, so old heights need the history
 * (`GET /v1/producers/{id}/nonce-ranges`).
 */
export function trustFromProducers(
  records: readonly { id: string; nonceRanges: readonly CommittedNonceRange[] }[],
): ProducerTrust {
  const producers: Record<string, CommittedNonceRange[]> = {};
  for (const record of records) {
    producers[record.id] = record.nonceRanges.map(({ fromHeight, count, root }) => ({
      fromHeight,
      count,
      root,
    }));
  }
  return { producers };
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
function headerShapeProblems(block: unknown): VerifyFailure[] {
  const label = blockLabel(block);
  const malformed = (message: string): VerifyFailure => ({ check: 'malformed', message });
  if (!isRecord(block)) return [malformed(`${label}: not an object`)];
  const { header } = block;
  if (!isRecord(header)) return [malformed(`${label}: the header is missing`)];
  const problems: VerifyFailure[] = [];
  if (typeof header.chainId !== 'string' || header.chainId === '') {
    problems.push(malformed(`${label}: header.chainId is not a chain id`));
  }
  if (!isCount(header.height))
    problems.push(malformed(`${label}: header.height is not a whole number`));
  if (!isCount(header.time))
    problems.push(malformed(`${label}: header.time is not a whole number`));
  if (!isCount(header.txCount)) {
    problems.push(
      malformed(`${label}: header.txCount is not a whole number (a protocol v1 header?)`),
    );
  }
  for (const name of headerHashFields) {
    const value = header[name];
    if (typeof value !== 'string' || !hashPattern.test(value)) {
      problems.push(malformed(`${label}: header.${name} is not 64 lowercase hex digits`));
    }
  }
  if (typeof header.producer !== 'string')
    problems.push(malformed(`${label}: header.producer is missing`));
  if (typeof block.hash !== 'string' || !hashPattern.test(block.hash)) {
    problems.push(malformed(`${label}: hash is not 64 lowercase hex digits`));
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
    problems.push(
      malformed(`${label}: signature is not {height, R, s} with R and s 64 lowercase hex digits`),
    );
  }
  return problems;
}

/** Why the signature's nonce is not the one the producer committed for the height, if it is not. */
function nonceFailures(
  label: string,
  producer: string,
  signature: HeaderSignature,
  trust: ProducerTrust,
): VerifyFailure[] {
  // Own properties only: a producer id never names something every object inherits.
  const trusted = isRecord(trust) && isRecord(trust.producers) ? trust.producers : {};
  const listed: unknown = Object.hasOwn(trusted, producer) ? trusted[producer] : undefined;
  if (!Array.isArray(listed)) {
    return [
      {
        check: 'producer_untrusted',
        message: `${label}: producer ${producer} is not one the verifier trusts (no committed nonce ranges for it)`,
      },
    ];
  }
  const proof = signature.nonceProof;
  if (proof === undefined || proof === null) {
    return [
      {
        check: 'nonce_proof_missing',
        message: `${label}: the signature carries no nonce proof, so its nonce may never have been committed`,
      },
    ];
  }
  const { height } = signature;
  // A trust file is the caller's, but still JSON: a malformed range covers nothing.
  const ranges = (listed as unknown[]).filter(
    (r): r is CommittedNonceRange =>
      isRecord(r) && isCount(r.fromHeight) && isCount(r.count) && typeof r.root === 'string',
  );
  const range = ranges.find((r) => height >= r.fromHeight && height < r.fromHeight + r.count);
  if (range === undefined) {
    return [
      {
        check: 'nonce_uncommitted',
        message: `${label}: ${producer} committed no nonce for height ${height}`,
      },
    ];
  }
  if (!nonceProofMatchesSignature(proof, signature)) {
    return [
      {
        check: 'nonce_proof',
        message: `${label}: the nonce proof is for another nonce or height than the signature's`,
      },
    ];
  }
  if (!verifyNonceProof(range.root, range.fromHeight, range.count, proof)) {
    return [
      {
        check: 'nonce_proof',
        message: `${label}: the nonce proof does not lead to the committed root of heights ${range.fromHeight} to ${range.fromHeight + range.count - 1}`,
      },
    ];
  }
  return [];
}

/**
 * Checks a header: its hash, its producer's accountable signature, and that the signature's nonce
 * is the one the producer committed for the height (the nonce proof against `trust`). Fields
 * beside `header`, `hash` and `signature` (a listing's `height`, `txCount`) are not signed, so not
 * checked: read them from `header`.
 */
export function verifyHeader(block: SignedHeader, trust: ProducerTrust): Verdict {
  const shape = headerShapeProblems(block);
  if (shape.length > 0) return verdictOf(shape);
  const label = blockLabel(block);
  const found = new Findings();
  if (headerHash(block.header) !== block.hash) {
    found.add('header_hash', `${label}: the hash does not match the header`);
  }
  let producerKey: Uint8Array | undefined;
  try {
    producerKey = publicKeyFromAddress(block.header.producer, 'header.producer');
  } catch (error) {
    found.add(
      'producer_address',
      `${label}: the producer is not a valid address (${describe(error)})`,
    );
  }
  const { height, R, s } = block.signature;
  if (height !== block.header.height) {
    found.add(
      'signature',
      `${label}: the producer's signature does not verify (it is for height ${height})`,
    );
  } else if (
    producerKey &&
    !verifyAtHeight(producerKey, signingMessage('block', block.hash), { height, R, s })
  ) {
    found.add('signature', `${label}: the producer's signature does not verify`);
  }
  found.addAll(nonceFailures(label, block.header.producer, block.signature, trust));
  return found.verdict();
}

function txFailures(data: Record<string, unknown>, found: Findings): void {
  const { tx, hash } = data;
  if (!isRecord(tx)) {
    found.add('malformed', 'the tx is missing');
    return;
  }
  const unknown = Object.keys(tx).filter((name) => !txFields.has(name));
  if (unknown.length > 0)
    found.add('tx_fields', `the tx has fields no tx has: ${unknown.join(', ')}`);
  const { signature, ...body } = tx;
  let computed: string | undefined;
  try {
    computed = hashTx(body as unknown as UnsignedTx);
  } catch (error) {
    found.add('tx_hash', `the tx cannot be hashed (${describe(error)})`);
  }
  if (computed !== undefined && computed !== hash) {
    found.add('tx_hash', 'the tx does not hash to the claimed hash');
  }
  // The node admits only signed txs, so a tx whose signature fails was never the node's.
  try {
    if (typeof signature !== 'string' || !signaturePattern.test(signature)) {
      found.add('tx_signature', "the tx's signature is not 128 lowercase hex digits");
    } else if (
      computed !== undefined &&
      !verify(
        fromHex(signature, 'tx.signature', 64),
        signingMessage('tx', computed),
        publicKeyFromAddress(String(tx.sender), 'tx.sender'),
      )
    ) {
      found.add('tx_signature', "the sender's signature on the tx does not verify");
    }
  } catch (error) {
    found.add('tx_signature', `the tx's sender is not a valid address (${describe(error)})`);
  }
}

/** The proof's path as bytes, or the sentence saying what is wrong with it. */
function proofPath(proof: unknown, name: string): Uint8Array[] | string {
  if (!isRecord(proof)) return `the ${name} is missing`;
  if (!isCount(proof.leafIndex) || !isCount(proof.treeSize)) {
    return `the ${name} has no whole-number leafIndex and treeSize`;
  }
  if (!Array.isArray(proof.path)) return `the ${name} has no path`;
  const path: Uint8Array[] = [];
  for (const [i, step] of (proof.path as unknown[]).entries()) {
    if (typeof step !== 'string' || !hashPattern.test(step)) {
      return `the ${name}'s path[${i}] is not 64 lowercase hex digits`;
    }
    path.push(fromHex(step, `path[${i}]`, 32));
  }
  return path;
}

/**
 * The tx proof: it leads from the tx hash to the header's txRoot, in a tree of exactly the
 * header's txCount leaves, at the index the bundle names.
 */
function proofFailures(data: Record<string, unknown>, header: BlockHeader, found: Findings): void {
  const { proof, hash } = data;
  const path = proofPath(proof, 'Merkle proof');
  if (typeof path === 'string') {
    found.add('malformed', path);
    return;
  }
  const { leafIndex, treeSize } = proof as InclusionProof;
  // The signed count fixes the tree: without it a leaf could be shown at another index of a
  // tree of another size whose root happens to match (a power-of-two tree and a larger one).
  if (treeSize !== header.txCount) {
    found.add(
      'tree_size',
      `the Merkle proof is for a tree of ${treeSize} txs, the block holds ${header.txCount}`,
    );
  }
  const root = fromHex(header.txRoot, 'header.txRoot', 32);
  const leaf = fromHex(hash as string, 'hash', 32);
  if (!verifyInclusion(leaf, leafIndex, treeSize, path, root)) {
    found.add('tx_proof', "the Merkle proof does not lead to the block's txRoot");
  }
  if (data.index !== leafIndex) {
    found.add(
      'index',
      `the tx is said to be at index ${JSON.stringify(data.index)}, the proof is for ${leafIndex}`,
    );
  }
}

/**
 * The receipt: it is this tx's, and its proof leads to the header's receiptRoot at the tx's own
 * index in a tree of txCount leaves, so the tx's outcome (ok, or the rejection code) is checked
 * offline too. Returns the outcome when it holds.
 */
function receiptFailures(
  data: Record<string, unknown>,
  header: BlockHeader,
  found: Findings,
  required: boolean,
): string | undefined {
  const { receipt, receiptProof, hash } = data;
  if (receipt === undefined && receiptProof === undefined) {
    if (required) {
      found.add(
        'receipt_missing',
        "the bundle has no receipt, so the tx's outcome cannot be checked",
      );
    }
    return undefined;
  }
  if (!isRecord(receipt) || receipt.tx !== hash || typeof receipt.status !== 'string') {
    found.add('receipt', 'the receipt is not the receipt of this tx');
    return undefined;
  }
  const path = proofPath(receiptProof, 'receipt proof');
  if (typeof path === 'string') {
    found.add('receipt_proof', path);
    return undefined;
  }
  const { leafIndex, treeSize } = receiptProof as InclusionProof;
  const before = found.failures.length;
  if (treeSize !== header.txCount) {
    found.add(
      'tree_size',
      `the receipt proof is for a tree of ${treeSize} receipts, the block holds ${header.txCount} txs`,
    );
  }
  let leaf: Uint8Array | undefined;
  try {
    leaf = sha256(canonicalBytes(receipt));
  } catch {
    found.add('receipt', 'the receipt is not canonical JSON');
  }
  const root = fromHex(header.receiptRoot, 'header.receiptRoot', 32);
  if (leaf && !verifyInclusion(leaf, leafIndex, treeSize, path, root)) {
    found.add('receipt_proof', "the receipt proof does not lead to the block's receiptRoot");
  }
  if (leafIndex !== data.index) {
    found.add('index', 'the receipt proof is for another position in the block than the tx');
  }
  return found.failures.length === before ? receipt.status : undefined;
}

/**
 * Checks that a tx is in a block: the tx hashes to `hash`, its sender signed it, the Merkle
 * path leads from `hash` to the header's `txRoot` in a tree of the header's `txCount` leaves at
 * the bundle's `index`, the receipt's proof leads to the header's `receiptRoot` at the same index
 * (unless `receipt: false`, and then `outcome` is undefined: the outcome was not checked), and
 * the header is signed by a trusted producer with a committed nonce.
 */
export function verifyTxInclusion(
  data: TxWithProof,
  trust: ProducerTrust,
  options: { receipt?: boolean } = {},
): TxVerdict {
  const requireReceipt = options.receipt ?? true;
  if (!isRecord(data))
    return {
      ...verdictOf([{ check: 'malformed', message: 'the proof bundle is not an object' }]),
      outcome: undefined,
    };
  const record = data as unknown as Record<string, unknown>;
  if (typeof data.hash !== 'string' || !hashPattern.test(data.hash)) {
    return {
      ...verdictOf([
        { check: 'malformed', message: 'the claimed tx hash is not 64 lowercase hex digits' },
      ]),
      outcome: undefined,
    };
  }
  const found = new Findings();
  txFailures(record, found);
  let outcome: string | undefined;
  if (headerShapeProblems(data.block).length === 0) {
    const { header } = data.block;
    proofFailures(record, header, found);
    outcome = receiptFailures(record, header, found, requireReceipt);
    if (isRecord(data.tx) && data.tx.chainId !== header.chainId) {
      found.add(
        'tx_chain',
        `the tx is for chain ${String(data.tx.chainId)}, the block is of ${header.chainId}`,
      );
    }
    if (record.height !== undefined && record.height !== header.height) {
      found.add(
        'height',
        `the tx is said to be at height ${JSON.stringify(record.height)}, the block is ${header.height}`,
      );
    }
  }
  found.addAll(verifyHeader(data.block, trust).failures);
  const verdict = found.verdict();
  return { ...verdict, outcome: verdict.ok ? outcome : undefined };
}

/**
 * Checks a run of headers: each hash, signature and committed nonce (`verifyHeader` against
 * `trust`), heights one apart, each `prevHash` the hash before it, one chain id, time never going
 * backwards, and a zero `prevHash` at height 0. `previous` anchors the run to a header already
 * trusted. Producers may differ from block to block (a cluster's take turns); each must be
 * trusted with a committed nonce for its height.
 */
export function verifyHeaderChain(
  blocks: SignedHeader[],
  options: {
    trust: ProducerTrust;
    previous?: SignedHeader;
    onProgress?: (done: number) => void;
  },
): Verdict {
  if (!Array.isArray(blocks)) {
    return verdictOf([{ check: 'malformed', message: 'the headers are not an array' }]);
  }
  const found = new Findings();
  let previous = options.previous;
  if (previous !== undefined && headerShapeProblems(previous).length > 0) {
    return verdictOf([{ check: 'malformed', message: 'the trusted previous header is malformed' }]);
  }
  blocks.forEach((block, i) => {
    const shape = headerShapeProblems(block);
    if (shape.length > 0) {
      found.addAll(shape);
      previous = undefined; // nothing to link the next one to
      options.onProgress?.(i + 1);
      return;
    }
    found.addAll(verifyHeader(block, options.trust).failures);
    const { header } = block;
    const label = `block ${header.height}`;
    if (previous) {
      const before = previous.header;
      if (header.height !== before.height + 1) {
        found.add('chain_height', `${label}: follows height ${before.height}`);
      }
      if (header.prevHash !== previous.hash) {
        found.add('chain_link', `${label}: prevHash does not link to block ${before.height}`);
      }
      if (header.chainId !== before.chainId) {
        found.add('chain_id', `${label}: chain id ${header.chainId} after ${before.chainId}`);
      }
      if (header.time < before.time) found.add('chain_time', `${label}: time went backwards`);
    } else if (header.height === 0 && header.prevHash !== zeroHash) {
      found.add('genesis', 'block 0: prevHash must be zero');
    }
    previous = block;
    options.onProgress?.(i + 1);
  });
  return found.verdict();
}
