import type { OrderedStateReader, WriteSet } from './view.js';

/** A block as the store keeps it: the header and receipts stay canonical JSON text. */
export interface StoredBlock {
  height: number;
  hash: string;
  header: string;
  signature: string;
  txCount: number;
}

export interface StoredTx {
  hash: string;
  height: number;
  index: number;
  /** The signed tx as JSON (JSON.stringify, for storage only: its hash is of the canonical body). */
  body: string;
  /** Its receipt, canonical JSON. */
  receipt: string;
}

export interface StoredEvent {
  height: number;
  txIndex: number;
  eventIndex: number;
  type: string;
  data: string;
}

/** Where an event sits in the chain: events are ordered by height, tx index, event index. */
export interface EventPosition {
  height: number;
  txIndex: number;
  eventIndex: number;
}

/** Orders two event positions: negative when `a` comes first. */
export function compareEventPositions(a: EventPosition, b: EventPosition): number {
  return a.height - b.height || a.txIndex - b.txIndex || a.eventIndex - b.eventIndex;
}

/** Everything one block changes, committed in one atomic store transaction. */
export interface BlockCommit {
  block: StoredBlock;
  txs: StoredTx[];
  writes: WriteSet;
  events: StoredEvent[];
  /** Entries of the meta table written in the same transaction (never part of state). */
  meta?: Record<string, string>;
}

/**
 * The one interface both backends implement. Reads of state are synchronous because execution is:
 * the state machine runs against an in-memory view prepared for each block.
 */
export interface BlockStore extends OrderedStateReader {
  readonly kind: 'sqlite' | 'postgres';
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
  /** Height of the last committed block, or -1 on an empty store. */
  lastHeight(): number;
  commitBlock(commit: BlockCommit): void;
  getBlock(height: number): StoredBlock | undefined;
  getBlockByHash(hash: string): StoredBlock | undefined;
  /** Blocks with from <= height <= to, ascending. */
  getBlocks(from: number, to: number): StoredBlock[];
  getTx(hash: string): StoredTx | undefined;
  /** The tx hashes of a block, in block order. */
  getTxHashes(height: number): string[];
  getTxs(height: number): StoredTx[];
  /**
   * Committed events after `after` (exclusive; a block's own events have tx index -1) up to and
   * including height `toHeight`, in order, at most `limit`.
   */
  getEvents(after: EventPosition, toHeight: number, limit: number): StoredEvent[];
  /** Every state entry with the given key prefix, ascending by key (for audits and tests). */
  scan(prefix: string): IterableIterator<[string, string]>;
  close(): void;
}
