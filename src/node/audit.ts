import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  blockHash,
  Chain,
  decodeBlockSignature,
  decodeTx,
  InvalidBlockError,
  isRejection,
  txSigningMessage,
  verifyBlockSignature,
  type BlockHeader,
  type BlockSignature,
  type BlockSigner,
  type BlockValidator,
  type ChainModule,
  type CommittedBlock,
  type DecodedTx,
  type Genesis,
  type ModuleRegistry,
  type SignedBlock,
} from '../chain/index.js';
import { canonicalize, verify } from '../crypto/index.js';
import { SqliteBlockStore, type StoredTx } from '../state/index.js';
import { ReplayStore } from '../state/replay-store.js';
import { nodeBlockValidator, nodeModuleRegistry } from './chain-rules.js';
import { DataDirError, dataFiles } from './data-dir.js';

/**
 * What `coffer audit` checks, in the order it checks each block (block 0: its hash, the genesis,
 * the signature, the header rebuilt from the genesis, then the nonce proof in the state the genesis
 * wrote; the other checks have nothing to look at there).
 */
export const auditChecks = [
  /** The store holds a block at every height from 0 to its head. */
  'block_missing',
  /** The stored hash is the hash of the stored header. */
  'header_hash',
  /** The stored genesis document is there, of this chain, and applies (block 0 only). */
  'genesis',
  /** The header names the hash of the block before it. */
  'prev_hash',
  /** The producer's accountable signature verifies for the header, by the key it names. */
  'signature',
  /**
   * The node's own block validator, in the replayed state before the block: the producer is
   * registered and active, and the nonce proof shows R is the nonce it committed for the height.
   */
  'nonce_proof',
  /** The store holds as many txs for the block as the block says, at indexes 0 to n-1. */
  'tx_count',
  /** Each stored tx decodes as the node's admission decodes it. */
  'tx_decode',
  /** Each stored tx hashes to the hash it is stored under. */
  'tx_hash',
  /** Each stored tx's sender signature verifies. */
  'tx_signature',
  /** The chain's own execution runs the block's txs without refusing one. */
  'execution',
  /** The header rebuilt from the execution equals the stored one, field by field. */
  'header',
  /** Each receipt of the execution equals the stored one. */
  'receipt',
  /** After the last block, the replayed state equals the stored state, key by key. */
  'state',
] as const;

export type AuditCheck = (typeof auditChecks)[number];

/** The first place where a stored chain and its replay disagree. */
export interface AuditDivergence {
  /**
   * The block that diverges; for `state`, the block that last wrote (or deleted) the key in the
   * replay, or null when no block ever wrote it.
   */
  height: number | null;
  check: AuditCheck;
  /** One line: what differs. */
  message: string;
  /** What the replay computed and what the store holds, cut to where they first differ. */
  expected?: string;
  found?: string;
}

export interface AuditReport {
  ok: boolean;
  /** The store's head when the audit began: it reads that one snapshot. */
  lastHeight: number;
  /** Blocks replayed that matched the store, from block 0 up. */
  blocksMatched: number;
  divergence?: AuditDivergence;
}

export interface AuditOptions {
  /** Modules the node ran besides its own (`NodeOptions.modules`). */
  modules?: readonly ChainModule[];
  /** Told after each block that matched: its height, and the head height being replayed to. */
  onProgress?: (height: number, lastHeight: number) => void;
}

/** Shown of a differing value: this many characters from a little before the first difference. */
const excerptCharsMax = 96;
/** How many equal characters an excerpt keeps before the first difference. */
const excerptLeadChars = 24;
const absent = '(absent)';

/**
 * Replays the chain of a node's data directory from its genesis in a fresh state and checks every
 * block against it (see `auditChecks`), stopping at the first divergence. The directory is only
 * read: with the node stopped, or running (it reads one snapshot).
 */
export function auditDataDir(dataDir: string, options: AuditOptions = {}): AuditReport {
  if (!fs.statSync(dataDir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new DataDirError(`${dataDir}: no such directory`);
  }
  const file = path.join(dataDir, dataFiles.database);
  if (!fs.existsSync(file)) {
    throw new DataDirError(
      `${dataDir}: no ${dataFiles.database}, so no chain to audit (not a Coffer data directory?)`,
    );
  }
  return auditStore(file, options);
}

/** `auditDataDir` for the store file itself. */
export function auditStore(file: string, options: AuditOptions = {}): AuditReport {
  let stored: SqliteBlockStore;
  try {
    stored = new SqliteBlockStore(file, { readonly: true });
  } catch (error) {
    throw new DataDirError(`${file} cannot be read as a Coffer store: ${(error as Error).message}`);
  }
  // The replayed state is as large as the chain's state: on disk, not in memory.
  const scratchDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-audit-'));
  try {
    const chainId = stored.getMeta('chainId');
    if (chainId === undefined || stored.lastHeight() < 0) {
      throw new DataDirError(`${file} holds no chain: no block 0 (was the node ever started?)`);
    }
    const replay = new ReplayStore(path.join(scratchDir, 'replay.db'));
    try {
      return new ChainAudit(stored, replay, chainId, options).run();
    } finally {
      replay.close();
    }
  } finally {
    stored.close();
    fs.rmSync(scratchDir, { recursive: true, force: true });
  }
}

/**
 * Hands the chain the stored signature of the block it rebuilds, so the chain's own code builds
 * and commits the header (every field of it, whatever fields a header has) and the audit compares
 * that header with the stored one.
 */
class StoredSignature implements BlockSigner {
  constructor(
    readonly producer: string,
    private readonly signature: BlockSignature,
  ) {}

  sign(): BlockSignature {
    return this.signature;
  }
}

class ChainAudit {
  private readonly registry: ModuleRegistry;
  private readonly validateBlock: BlockValidator = nodeBlockValidator;
  private readonly lastHeight: number;
  private chain: Chain | undefined;
  private previousHash = '';

  constructor(
    private readonly stored: SqliteBlockStore,
    private readonly replay: ReplayStore,
    private readonly chainId: string,
    private readonly options: AuditOptions,
  ) {
    this.registry = nodeModuleRegistry(options.modules);
    this.lastHeight = stored.lastHeight();
  }

  run(): AuditReport {
    const { lastHeight } = this;
    for (let height = 0; height <= lastHeight; height++) {
      const divergence = height === 0 ? this.replayGenesis() : this.replayBlock(height);
      if (divergence) return { ok: false, lastHeight, blocksMatched: height, divergence };
      this.options.onProgress?.(height, lastHeight);
    }
    const divergence = this.compareState();
    return {
      ok: divergence === undefined,
      lastHeight,
      blocksMatched: lastHeight + 1,
      ...(divergence ? { divergence } : {}),
    };
  }

  /** The stored block at `height` whose hash is its header's, or the divergence. */
  private readBlock(height: number): { block: SignedBlock; txCount: number } | AuditDivergence {
    const row = this.stored.getBlock(height);
    if (!row) {
      const message = `the store holds no block ${height} below its head, ${this.lastHeight}`;
      return { height, check: 'block_missing', message };
    }
    let header: BlockHeader;
    let hash: string;
    try {
      header = JSON.parse(row.header) as BlockHeader;
      if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new Error();
      hash = blockHash(header);
    } catch {
      const message = 'the stored header is not a JSON object';
      return { height, check: 'header_hash', message, found: cut(row.header, 0) };
    }
    if (hash !== row.hash) {
      const message = 'the stored hash is not the hash of the stored header';
      return { height, check: 'header_hash', message, expected: hash, found: row.hash };
    }
    let signature: BlockSignature;
    try {
      signature = decodeBlockSignature(row.signature);
    } catch {
      const message = 'the stored signature is not JSON';
      return { height, check: 'signature', message, found: cut(row.signature, 0) };
    }
    return { block: { header, hash, signature }, txCount: row.txCount };
  }

  private replayGenesis(): AuditDivergence | undefined {
    const height = 0;
    const read = this.readBlock(height);
    if ('check' in read) return read;
    const { block } = read;
    const text = this.stored.getMeta('genesis');
    if (text === undefined) {
      return { height, check: 'genesis', message: 'the store keeps no genesis document' };
    }
    let genesis: Genesis;
    try {
      genesis = JSON.parse(text) as Genesis;
    } catch {
      return { height, check: 'genesis', message: 'the stored genesis is not JSON' };
    }
    if (genesis.chainId !== this.chainId) {
      const message = `the stored genesis is of chain ${String(genesis.chainId)}, the store of ${this.chainId}`;
      return { height, check: 'genesis', message };
    }
    if (!verifyBlockSignature(block)) {
      const message = `the signature does not verify for the header by its producer ${block.header.producer}`;
      return { height, check: 'signature', message };
    }
    let rebuilt: SignedBlock;
    try {
      const signer = new StoredSignature(genesis.producer, block.signature);
      rebuilt = Chain.initialize(this.replay, genesis, signer, this.registry.modules);
    } catch (error) {
      // A genesis that does not apply is stored data gone wrong, not a fault of the audit.
      if (error instanceof assert.AssertionError || !(error instanceof Error)) throw error;
      return { height, check: 'genesis', message: `the genesis does not apply: ${error.message}` };
    }
    const differs = this.compareHeader(height, rebuilt.header, block.header);
    if (differs) return differs;
    // Block 0 has no state before it: its nonce is checked against the registry genesis wrote.
    const invalid = this.validateBlock(block, this.replay);
    if (invalid !== undefined) return this.refusedByValidator(height, invalid);
    this.chain = new Chain(this.replay, this.registry);
    this.previousHash = block.hash;
    return undefined;
  }

  private replayBlock(height: number): AuditDivergence | undefined {
    const chain = this.chain;
    assert.ok(chain, 'block 0 is replayed first');
    const readBlock = this.readBlock(height);
    if ('check' in readBlock) return readBlock;
    const { block, txCount } = readBlock;
    const { header } = block;
    if (header.prevHash !== this.previousHash) {
      const message = `the header does not link to block ${height - 1}`;
      return {
        height,
        check: 'prev_hash',
        message,
        expected: this.previousHash,
        found: cut(String(header.prevHash), 0),
      };
    }
    if (!verifyBlockSignature(block)) {
      const message = `the signature does not verify for the header by its producer ${header.producer}`;
      return { height, check: 'signature', message };
    }
    const invalid = this.validateBlock(block, this.replay);
    if (invalid !== undefined) return this.refusedByValidator(height, invalid);
    const read = this.readTxs(height, txCount);
    if ('check' in read) return read;
    const { txs, rows } = read;

    let rebuilt: CommittedBlock;
    try {
      rebuilt = chain.produce(
        txs,
        header.time,
        new StoredSignature(header.producer, block.signature),
      );
    } catch (error) {
      // What a node executing this block would refuse it for (an invalid block, or one that breaks
      // an invariant such as conservation).
      if (!(error instanceof InvalidBlockError || error instanceof assert.AssertionError))
        throw error;
      return { height, check: 'execution', message: `executing the block fails: ${error.message}` };
    }
    const [stale] = rebuilt.dropped;
    if (stale) {
      const message =
        `tx ${txs.indexOf(stale)} (${stale.hash}) has nonce ${stale.tx.nonce}, not its ` +
        `sender's next: a node executing this block refuses it`;
      return { height, check: 'execution', message };
    }
    const differs = this.compareHeader(height, rebuilt.block.header, header);
    if (differs) return differs;

    // The chain stored each receipt as the node stores it: what it committed is compared.
    for (const [index, replayed] of this.replay.getTxs(height).entries()) {
      const storedReceipt = rows[index]!.receipt;
      if (replayed.receipt !== storedReceipt) {
        const message = `tx ${index} (${replayed.hash}): the stored receipt is not the one executing it gives`;
        return { height, check: 'receipt', message, ...excerpts(replayed.receipt, storedReceipt) };
      }
    }
    this.previousHash = block.hash;
    return undefined;
  }

  private refusedByValidator(height: number, reason: string): AuditDivergence {
    const message = `the node's block validator refuses it in the replayed registry: ${reason}`;
    return { height, check: 'nonce_proof', message };
  }

  /** The block's stored txs, decoded and checked as a node checks the txs of a block it receives. */
  private readTxs(
    height: number,
    txCount: number,
  ): { txs: DecodedTx[]; rows: StoredTx[] } | AuditDivergence {
    const rows = this.stored.getTxs(height);
    if (rows.length !== txCount) {
      const message = `the block counts ${txCount} txs, the store holds ${rows.length}`;
      return {
        height,
        check: 'tx_count',
        message,
        expected: String(txCount),
        found: String(rows.length),
      };
    }
    const txs: DecodedTx[] = [];
    for (const [index, row] of rows.entries()) {
      if (row.index !== index) {
        const message = `the store holds no tx ${index}; the next is at index ${row.index}`;
        return { height, check: 'tx_count', message };
      }
      let input: unknown;
      try {
        input = JSON.parse(row.body);
      } catch {
        const message = `tx ${index} (${row.hash}) is not JSON`;
        return { height, check: 'tx_decode', message, found: cut(row.body, 0) };
      }
      const tx = decodeTx(input, this.chainId, this.registry.parserFor);
      if (isRejection(tx)) {
        const field = tx.field === undefined ? '' : ` (${tx.field})`;
        const message = `tx ${index} (${row.hash}) does not decode: ${tx.code}${field}`;
        return { height, check: 'tx_decode', message };
      }
      if (tx.hash !== row.hash) {
        const message = `tx ${index} does not hash to the hash it is stored under`;
        return { height, check: 'tx_hash', message, expected: tx.hash, found: row.hash };
      }
      if (!verify(tx.signatureBytes, txSigningMessage(tx.hashBytes), tx.publicKey)) {
        const message = `tx ${index} (${row.hash}): its sender's signature does not verify`;
        return { height, check: 'tx_signature', message };
      }
      txs.push(tx);
    }
    return { txs, rows };
  }

  /**
   * Compares every field of the two headers, whichever fields a header has: a field one of them
   * lacks differs too.
   */
  private compareHeader(
    height: number,
    rebuilt: BlockHeader,
    stored: BlockHeader,
  ): AuditDivergence | undefined {
    const expected = rebuilt as unknown as Record<string, unknown>;
    const found = stored as unknown as Record<string, unknown>;
    for (const field of new Set([...Object.keys(expected), ...Object.keys(found)])) {
      const want = Object.hasOwn(expected, field) ? canonicalize(expected[field]) : absent;
      const have = Object.hasOwn(found, field) ? canonicalize(found[field]) : absent;
      if (want !== have) {
        const message = `the stored header's ${field} is not the one executing the block gives`;
        return { height, check: 'header', message, ...excerpts(want, have) };
      }
    }
    return undefined;
  }

  /**
   * Walks the replayed and the stored state side by side in key order. A key that differs is
   * pinned on the block that last wrote it in the replay: the stored value went wrong after that
   * block (or that block's write was never stored as executed).
   */
  private compareState(): AuditDivergence | undefined {
    const replayed = this.replay.entries();
    const stored = this.stored.scan('');
    try {
      let r = replayed.next();
      let s = stored.next();
      for (;;) {
        const mine = r.done ? undefined : r.value;
        const theirs = s.done ? undefined : s.value;
        if (theirs && (!mine || theirs[0] < mine.key)) {
          const [key, value] = theirs;
          const message = `the store holds ${key}, which no block wrote`;
          return { height: null, check: 'state', message, expected: absent, found: cut(value, 0) };
        }
        if (!mine) return undefined;
        const { key, value, height } = mine;
        if (!theirs || key < theirs[0]) {
          if (value !== null) {
            const message = `${key}, last written at height ${height}, is missing from the store`;
            return { height, check: 'state', message, expected: cut(value, 0), found: absent };
          }
          r = replayed.next();
          continue;
        }
        const storedValue = theirs[1];
        if (value === null) {
          const message = `${key} was deleted at height ${height}, and the store still holds it`;
          return { height, check: 'state', message, expected: absent, found: cut(storedValue, 0) };
        }
        if (value !== storedValue) {
          const message = `${key}, last written at height ${height}, differs from the replayed value`;
          return { height, check: 'state', message, ...excerpts(value, storedValue) };
        }
        r = replayed.next();
        s = stored.next();
      }
    } finally {
      // Ends the open SQLite statements of a walk stopped at a divergence.
      replayed.return?.();
      stored.return?.();
    }
  }
}

/** `text` from `start`, at most `excerptCharsMax` characters, with `...` where it was cut. */
function cut(text: string, start: number): string {
  const end = start + excerptCharsMax;
  return `${start > 0 ? '...' : ''}${text.slice(start, end)}${text.length > end ? '...' : ''}`;
}

/** Both values cut alike, a little before the first character where they differ. */
function excerpts(expected: string, found: string): { expected: string; found: string } {
  let same = 0;
  while (same < expected.length && same < found.length && expected[same] === found[same]) same++;
  const start = Math.max(0, same - excerptLeadChars);
  return { expected: cut(expected, start), found: cut(found, start) };
}
