import assert from 'node:assert/strict';
import { canonicalize, merkleRoot, toHex } from '../crypto/index.js';
import { ledgerKeys } from '../ledger/index.js';
import {
  genesisParentRoot,
  nextStateRoot,
  ParsedRecordCache,
  StateView,
  type BlockCommit,
  type BlockStore,
  type OrderedStateReader,
  type StateReader,
  type StoredEvent,
} from '../state/index.js';
import {
  blockHash,
  decodeBlockSignature,
  encodeBlockSignature,
  signBlockHeader,
  zeroHash,
  type BlockHeader,
  type BlockSigner,
  type Receipt,
  type SignedBlock,
} from './block.js';
import { executeBlock, InvalidBlockError, type ExecutionResult } from './execute.js';
import { genesisWrites, type Genesis } from './genesis.js';
import type { ChainEvent, ChainModule } from './module.js';
import type { ModuleRegistry } from './registry.js';
import type { DecodedTx } from './tx.js';

export interface CommittedBlock {
  block: SignedBlock;
  txs: DecodedTx[];
  receipts: Receipt[];
  /** Events of the block itself (expiries), not of any tx. */
  blockEvents: ChainEvent[];
  /** Txs the producer left out because their nonce was stale. */
  dropped: DecodedTx[];
}

export class ChainNotInitializedError extends Error {
  readonly code = 'chain_not_initialized';
}

/**
 * The store holds a chain written in an older protocol (docs/protocol.md, "Versions"): its headers
 * hash and sign differently, so this version can neither extend nor verify it.
 */
export class UnsupportedProtocolError extends Error {
  readonly code = 'unsupported_protocol';
}

/**
 * Checks a signed block against committed state before it is stored (the producer registry: the
 * producer is active, the signature verifies, R is the committed nonce). Returns the reason it is
 * invalid, or undefined. Injected by the composition root, so the chain imports no module.
 */
export type BlockValidator = (block: SignedBlock, state: StateReader) => string | undefined;

/**
 * What a store that commits on another thread adds (src/state/sqlite-store.ts, `startWriter`):
 * `commitBlockLater` returns before the block is durable, `onDurable` says when it is.
 */
interface PipelinedStore {
  commitBlockLater(commit: BlockCommit): void;
  onDurable(listener: (height: number) => void): void;
  flush(): void;
}

function isPipelinedStore(store: BlockStore): store is BlockStore & PipelinedStore {
  return typeof (store as Partial<PipelinedStore>).commitBlockLater === 'function';
}

/**
 * The chain on one node: its head, and the two steps of a block, execute and commit. It holds no
 * timers and reads no clock: the caller (consensus) passes the block time.
 */
export class Chain {
  readonly chainId: string;
  /** The last durable block: what `latest()` and `height()` answer, and all a reader may see. */
  private head: SignedBlock;
  /**
   * The block handed to the store and not yet durable (at most one: the producer waits for it
   * before it signs the next height), with its writes over committed state for the next block's
   * execution.
   */
  private pending:
    { committed: CommittedBlock; state: StateView; hashes: ReadonlySet<string> } | undefined;
  private readonly durableListeners: ((committed: CommittedBlock) => void)[] = [];
  /**
   * Committed records (accounts, assets, holds) parsed once and kept across blocks: an entry is
   * used only for the very text it was parsed from, so nothing needs invalidating (issue 24).
   */
  private readonly parsed = new ParsedRecordCache();

  constructor(
    readonly store: BlockStore,
    readonly registry: ModuleRegistry,
    private readonly log: (message: string, error?: unknown) => void = () => {},
    private readonly validateBlock?: BlockValidator,
  ) {
    const chainId = store.getMeta('chainId');
    const last = store.getBlock(store.lastHeight());
    if (chainId === undefined || !last)
      throw new ChainNotInitializedError('the store holds no genesis');
    this.chainId = chainId;
    const header = JSON.parse(last.header) as BlockHeader;
    if (!Number.isSafeInteger(header.txCount)) {
      throw new UnsupportedProtocolError(
        `the store holds a chain of protocol v1 (headers without txCount, block domain ` +
          `coffer/block/v1); this Coffer writes v2 and cannot extend it: start a new chain ` +
          `in another data directory (or move this one aside)`,
      );
    }
    this.head = {
      header,
      hash: last.hash,
      signature: decodeBlockSignature(last.signature),
    };
    if (isPipelinedStore(store)) store.onDurable((height) => this.durable(height));
  }

  /** Writes block 0 from a genesis document into an empty store. */
  static initialize(
    store: BlockStore,
    genesis: Genesis,
    signer: BlockSigner,
    modules: readonly ChainModule[] = [],
  ): SignedBlock {
    assert.equal(store.lastHeight(), -1, 'initialize needs an empty store');
    assert.equal(signer.producer, genesis.producer, 'the signer must be the genesis producer');
    const writes = genesisWrites(genesis, modules);
    const header: BlockHeader = {
      chainId: genesis.chainId,
      height: 0,
      prevHash: zeroHash,
      time: genesis.time,
      txCount: 0,
      txRoot: toHex(merkleRoot([])),
      receiptRoot: toHex(merkleRoot([])),
      stateRoot: toHex(nextStateRoot(genesisParentRoot, writes)),
      producer: genesis.producer,
    };
    const block = signBlockHeader(header, signer);
    store.setMeta('chainId', genesis.chainId);
    store.setMeta('genesis', canonicalize(genesis));
    store.commitBlock({
      block: {
        height: 0,
        hash: block.hash,
        header: canonicalize(header),
        signature: encodeBlockSignature(block.signature),
        txCount: 0,
      },
      txs: [],
      writes,
      events: [],
    });
    return block;
  }

  /** The sender's next nonce after the last block handed to the store (durable or not yet). */
  nonceOf(address: string): number {
    const text = this.state().get(ledgerKeys.account(address));
    return text === undefined ? 0 : (JSON.parse(text) as { nonce: number }).nonce;
  }

  /** The last durable block. */
  latest(): SignedBlock {
    return this.head;
  }

  height(): number {
    return this.head.header.height;
  }

  /** The last block handed to the store: the next block builds on it (`latest()` once durable). */
  tip(): SignedBlock {
    return this.pending?.committed.block ?? this.head;
  }

  /** State after the tip: committed state with the pending block's writes over it. */
  state(): OrderedStateReader {
    return this.pending?.state ?? this.store;
  }

  /** Whether a tx is in the block being stored (committed, not yet readable). */
  isPendingTx(hash: string): boolean {
    return this.pending?.hashes.has(hash) === true;
  }

  /** Called with each block once it is durable, in height order (see `commitLater`). */
  onDurable(listener: (committed: CommittedBlock) => void): void {
    this.durableListeners.push(listener);
  }

  /** Waits (blocking the thread) until the pending block is durable and its listeners were told. */
  flush(): void {
    if (this.pending && isPipelinedStore(this.store)) this.store.flush();
  }

  private durable(height: number): void {
    const pending = this.pending;
    if (!pending || pending.committed.block.header.height !== height) return;
    this.head = pending.committed.block;
    this.pending = undefined;
    for (const listener of this.durableListeners) listener(pending.committed);
  }

  /** Executes `txs` as the next block at `time` (clamped so time never goes backwards). */
  execute(
    txs: DecodedTx[],
    time: number,
    dropStaleNonces = true,
  ): ExecutionResult & { time: number } {
    const tip = this.tip();
    const blockTime = Math.max(time, tip.header.time);
    const result = executeBlock(
      this.state(),
      this.registry,
      {
        chainId: this.chainId,
        height: tip.header.height + 1,
        time: blockTime,
        previousStateRoot: tip.header.stateRoot,
        previousProducer: tip.header.producer,
        previousHash: tip.hash,
        txs,
        dropStaleNonces,
      },
      this.log,
      { parsed: this.parsed },
    );
    return { ...result, time: blockTime };
  }

  /** The header of the next block on the durable head for an execution result of it. */
  nextHeader(result: ExecutionResult & { time: number }, producer: string): BlockHeader {
    return {
      chainId: this.chainId,
      height: this.head.header.height + 1,
      prevHash: this.head.hash,
      time: result.time,
      txCount: result.txs.length,
      txRoot: result.txRoot,
      receiptRoot: result.receiptRoot,
      stateRoot: result.stateRoot,
      producer,
    };
  }

  /** Executes, signs and commits the next block in one step (tests and tools). */
  produce(txs: DecodedTx[], time: number, signer: BlockSigner): CommittedBlock {
    this.flush();
    const result = this.execute(txs, time);
    const header = this.nextHeader(result, signer.producer);
    const block = signBlockHeader(header, signer);
    this.commit(block, result);
    return {
      block,
      txs: result.txs,
      receipts: result.receipts,
      blockEvents: result.blockEvents,
      dropped: result.dropped,
    };
  }

  /**
   * Stores a signed block and its execution result in one atomic store transaction, with `meta`
   * entries (the consensus's position in its log) in the same transaction. Durable on return.
   */
  commit(block: SignedBlock, result: ExecutionResult, meta?: Record<string, string>): void {
    this.flush();
    this.store.commitBlock(this.toCommit(block, result, meta));
    this.head = block;
  }

  /**
   * Hands a signed block to the store and returns before it is durable (the pipelined commit of
   * issue 24): the next block executes on it at once (`state()`), and the listeners of
   * `onDurable` hear of it once its store transaction is durable. Nothing of it may leave the
   * process before then: its signature is released with the durable block only. With a store
   * that commits in place, it is durable (and announced) on return.
   */
  commitLater(
    block: SignedBlock,
    result: ExecutionResult,
    meta?: Record<string, string>,
  ): CommittedBlock {
    assert.ok(this.pending === undefined, 'one block at a time waits for its commit');
    const commit = this.toCommit(block, result, meta);
    const committed: CommittedBlock = {
      block,
      txs: result.txs,
      receipts: result.receipts,
      blockEvents: result.blockEvents,
      dropped: result.dropped,
    };
    if (!isPipelinedStore(this.store)) {
      this.store.commitBlock(commit);
      this.head = block;
      for (const listener of this.durableListeners) listener(committed);
      return committed;
    }
    // The next block reads this one's writes through a view until the store has them.
    const state = new StateView(this.store);
    for (const [key, value] of result.writes) {
      if (value === null) state.delete(key);
      else state.set(key, value);
    }
    state.release();
    this.pending = { committed, state, hashes: new Set(result.txs.map((d) => d.hash)) };
    this.store.commitBlockLater(commit);
    return committed;
  }

  /** Checks a block against its execution and the tip, and lays it out as the store keeps it. */
  private toCommit(
    block: SignedBlock,
    result: ExecutionResult,
    meta?: Record<string, string>,
  ): BlockCommit {
    const { header } = block;
    const tip = this.tip();
    assert.equal(header.height, tip.header.height + 1, 'heights only grow, one at a time');
    assert.equal(header.prevHash, tip.hash, 'the block must extend the head');
    assert.equal(
      header.stateRoot,
      result.stateRoot,
      'the header must carry the executed state root',
    );
    assert.equal(header.txCount, result.txs.length, 'the header must count the executed txs');
    // The state root alone does not pin the txs: independent txs in another order write the same.
    assert.equal(header.txRoot, result.txRoot, 'the header must carry the executed tx root');
    assert.equal(
      header.receiptRoot,
      result.receiptRoot,
      'the header must carry the executed receipt root',
    );
    assert.equal(blockHash(header), block.hash, 'the block hash must match its header');
    const invalid = this.validateBlock?.(block, this.state());
    if (invalid !== undefined) {
      throw new InvalidBlockError(`block ${header.height} is invalid: ${invalid}`);
    }
    const events: StoredEvent[] = result.blockEvents.map((event, eventIndex) => ({
      height: header.height,
      txIndex: -1,
      eventIndex,
      type: event.type,
      data: canonicalize(event.data),
    }));
    const txs = result.txs.map((decoded, index) => {
      const receipt = result.receipts[index]!;
      receipt.events.forEach((event, eventIndex) =>
        events.push({
          height: header.height,
          txIndex: index,
          eventIndex,
          type: event.type,
          data: canonicalize(event.data),
        }),
      );
      return {
        hash: decoded.hash,
        height: header.height,
        index,
        // Storage only, never hashed: the tx's hash and the receipt root were computed already.
        body: decoded.json ?? JSON.stringify(decoded.tx),
        receipt: result.receiptTexts[index]!,
      };
    });
    return {
      block: {
        height: header.height,
        hash: block.hash,
        header: canonicalize(header),
        signature: encodeBlockSignature(block.signature),
        txCount: txs.length,
      },
      txs,
      writes: result.writes,
      events,
      ...(meta ? { meta } : {}),
    };
  }
}
