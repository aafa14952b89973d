import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { BoundedCache } from '../crypto/bounded-cache.js';
import { CommitWriter } from './commit-writer.js';
import type {
  BlockCommit,
  BlockStore,
  EventPosition,
  StoredBlock,
  StoredEvent,
  StoredTx,
} from './store.js';
import type { RangeBounds } from './view.js';

const schema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blocks (
  height INTEGER PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  header TEXT NOT NULL,
  signature TEXT NOT NULL,
  tx_count INTEGER NOT NULL
);
-- Rows go in append order (id = height * 2^20 + index), so a block's txs land on fresh pages
-- together; only the compact 32-byte hash index takes random inserts. (A table keyed by the
-- random hash itself dirtied a page of ~700-byte rows per tx: ~90 us per tx at a large state.)
CREATE TABLE IF NOT EXISTS txs (
  id INTEGER PRIMARY KEY,
  hash BLOB NOT NULL UNIQUE,
  body TEXT NOT NULL,
  receipt TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
  height INTEGER NOT NULL,
  tx_index INTEGER NOT NULL,
  event_index INTEGER NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (height, tx_index, event_index)
) WITHOUT ROWID;
`;

type EventRow = {
  height: number;
  tx_index: number;
  event_index: number;
  type: string;
  data: string;
};

type BlockRow = {
  height: number;
  hash: string;
  header: string;
  signature: string;
  tx_count: number;
};
type TxRow = { id: number; hash: Buffer; body: string; receipt: string };

/** 25k state entries of a few hundred bytes: ~20 MB, enough for the busy accounts and assets. */
const stateCacheEntriesMax = 25_000;

/** Txs per block stay below 2^20 (the config caps blocks at 50,000). */
const txIdStride = 2 ** 20;

function toBlock(row: BlockRow | undefined): StoredBlock | undefined {
  if (!row) return undefined;
  return {
    height: row.height,
    hash: row.hash,
    header: row.header,
    signature: row.signature,
    txCount: row.tx_count,
  };
}

function toTx(row: TxRow): StoredTx {
  return {
    hash: row.hash.toString('hex'),
    height: Math.floor(row.id / txIdStride),
    index: row.id % txIdStride,
    body: row.body,
    receipt: row.receipt,
  };
}

const tableNames = ['meta', 'state', 'blocks', 'txs', 'events'];

export interface SqliteStoreOptions {
  /**
   * Opens an existing store without ever writing to it (`coffer audit`), inside one read
   * transaction: every read sees the store as it was at the first, even while a node commits.
   */
  readonly?: boolean;
  /**
   * The store of a writer thread (src/state/commit-writer-worker.ts): it only commits, so it keeps
   * no read cache, leaves checkpoints to its second connection, and takes each block's height from the
   * file (the main connection may have committed one itself before the writer started).
   */
  writerThread?: boolean;
}

/**
 * The embedded backend: one SQLite file in WAL mode. `synchronous = FULL` makes every block commit
 * durable before it is acknowledged (one fsync per block, not per tx).
 */
export class SqliteBlockStore implements BlockStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements;
  private readonly commitTransaction: (commit: BlockCommit) => void;
  private cachedLastHeight: number;
  private readonly writerThread: boolean;
  private writer: CommitWriter | undefined;
  /** Blocks handed to the writer thread and not yet durable, in height order. */
  private readonly queued: BlockCommit[] = [];
  /** The last height the listeners of `onDurable` were told of. */
  private announced = -1;
  private readonly durableListeners: ((height: number) => void)[] = [];
  private readonly failureListeners: ((error: Error) => void)[] = [];

  /**
   * Committed state values recently read or written (`null`: known absent). Busy accounts and
   * assets are read in nearly every block; SQLite lookups were an eighth of execution (measured).
   */
  private readonly readCache = new BoundedCache<string, string | null>(stateCacheEntriesMax);

  constructor(
    readonly file: string,
    options: SqliteStoreOptions = {},
  ) {
    const readonly = options.readonly === true;
    if (readonly) {
      this.db = new Database(file, { readonly: true, fileMustExist: true });
      const present = new Set(
        this.db
          .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
          .all()
          .map((row) => row.name),
      );
      const missing = tableNames.filter((name) => !present.has(name));
      if (missing.length > 0) {
        this.db.close();
        throw new Error(`store: ${file} is not a Coffer store (no ${missing.join(', ')} table)`);
      }
    } else {
      if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      if (options.writerThread === true) this.db.pragma('wal_autocheckpoint = 0');
    }
    this.writerThread = options.writerThread === true;
    this.db.pragma('foreign_keys = OFF');
    // The page cache, per connection: the main one reads what the read cache misses (32 MiB);
    // a writer thread's only needs the B-tree pages a block's inserts walk (16 MiB: more made
    // no measurable difference at 1M accounts, and each connection's cache is resident memory).
    this.db.pragma(`cache_size = ${options.writerThread === true ? -16_384 : -32_768}`);
    const txColumns = this.db
      .prepare<[], { name: string }>("SELECT name FROM pragma_table_info('txs')")
      .all();
    if (txColumns.length > 0 && !txColumns.some((c) => c.name === 'id')) {
      this.db.close();
      throw new Error(
        `store: ${file} was written by an earlier Coffer (tx table without ids); start from a new data directory`,
      );
    }
    if (!readonly) this.db.exec(schema);
    const db = this.db;
    this.statements = {
      getState: db.prepare<[string], { value: string }>('SELECT value FROM state WHERE key = ?'),
      putState: db.prepare(
        'INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      deleteState: db.prepare('DELETE FROM state WHERE key = ?'),
      scanState: db.prepare<[string, string], { key: string; value: string }>(
        'SELECT key, value FROM state WHERE key >= ? AND key < ? ORDER BY key',
      ),
      // Two statements, one lower bound each, so SQLite seeks to it instead of walking up to it.
      rangeFrom: db
        .prepare<[string, string, number], [string, string]>(
          'SELECT key, value FROM state WHERE key >= ? AND key < ? ORDER BY key LIMIT ?',
        )
        .raw(),
      rangeAfter: db
        .prepare<[string, string, number], [string, string]>(
          'SELECT key, value FROM state WHERE key > ? AND key < ? ORDER BY key LIMIT ?',
        )
        .raw(),
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      putMeta: db.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      putBlock: db.prepare(
        'INSERT INTO blocks (height, hash, header, signature, tx_count) VALUES (?, ?, ?, ?, ?)',
      ),
      getBlock: db.prepare<[number], BlockRow>('SELECT * FROM blocks WHERE height = ?'),
      getBlockByHash: db.prepare<[string], BlockRow>('SELECT * FROM blocks WHERE hash = ?'),
      getBlocks: db.prepare<[number, number], BlockRow>(
        'SELECT * FROM blocks WHERE height BETWEEN ? AND ? ORDER BY height',
      ),
      lastHeight: db.prepare<[], { height: number | null }>(
        'SELECT MAX(height) AS height FROM blocks',
      ),
      putTx: db.prepare('INSERT INTO txs (id, hash, body, receipt) VALUES (?, ?, ?, ?)'),
      getTx: db.prepare<[Buffer], TxRow>('SELECT * FROM txs WHERE hash = ?'),
      getTxHashes: db.prepare<[number, number], { hash: Buffer }>(
        'SELECT hash FROM txs WHERE id >= ? AND id < ? ORDER BY id',
      ),
      getTxs: db.prepare<[number, number], TxRow>(
        'SELECT * FROM txs WHERE id >= ? AND id < ? ORDER BY id',
      ),
      putEvent: db.prepare(
        'INSERT INTO events (height, tx_index, event_index, type, data) VALUES (?, ?, ?, ?, ?)',
      ),
      getEvents: db.prepare<[number, number, number, number, number], EventRow>(
        'SELECT height, tx_index, event_index, type, data FROM events ' +
          'WHERE (height, tx_index, event_index) > (?, ?, ?) AND height <= ? ' +
          'ORDER BY height, tx_index, event_index LIMIT ?',
      ),
    };
    const s = this.statements;
    this.commitTransaction = db.transaction((commit: BlockCommit) => {
      const b = commit.block;
      s.putBlock.run(b.height, b.hash, b.header, b.signature, b.txCount);
      for (const tx of commit.txs) {
        s.putTx.run(
          tx.height * txIdStride + tx.index,
          Buffer.from(tx.hash, 'hex'),
          tx.body,
          tx.receipt,
        );
      }
      for (const [key, value] of commit.writes) {
        if (value === null) s.deleteState.run(key);
        else s.putState.run(key, value);
      }
      for (const e of commit.events)
        s.putEvent.run(e.height, e.txIndex, e.eventIndex, e.type, e.data);
      for (const [key, value] of Object.entries(commit.meta ?? {})) s.putMeta.run(key, value);
    });
    // Deferred: the snapshot is taken by the first read, the head height just below.
    if (readonly) this.db.exec('BEGIN');
    this.cachedLastHeight = this.statements.lastHeight.get()?.height ?? -1;
  }

  get(key: string): string | undefined {
    if (this.queued.length > 0) this.catchUp();
    const cached = this.readCache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const value = this.statements.getState.get(key)?.value;
    this.readCache.set(key, value ?? null);
    return value;
  }

  getMeta(key: string): string | undefined {
    return this.statements.getMeta.get(key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.statements.putMeta.run(key, value);
  }

  lastHeight(): number {
    if (this.queued.length > 0) this.catchUp();
    return this.cachedLastHeight;
  }

  commitBlock(commit: BlockCommit): void {
    if (this.writer) {
      // One connection writes blocks: this one waits for the writer instead.
      this.commitBlockLater(commit);
      this.flush();
      return;
    }
    if (this.writerThread) this.cachedLastHeight = this.statements.lastHeight.get()?.height ?? -1;
    if (commit.block.height !== this.cachedLastHeight + 1) {
      throw new Error(
        `store: block ${commit.block.height} does not follow ${this.cachedLastHeight}`,
      );
    }
    this.commitTransaction(commit);
    this.cachedLastHeight = commit.block.height;
    if (this.writerThread) return;
    // Only after the commit succeeded: the cache mirrors committed state, never a failed block.
    for (const [key, value] of commit.writes) this.readCache.set(key, value);
  }

  /**
   * Commits on a writer thread from now on (the solo node's pipelined commit): `commitBlockLater`
   * hands a block to it and returns at once, and the WAL is checkpointed by a third connection,
   * so neither the SQLite work nor its fsyncs hold the main thread. Reads keep seeing only durable
   * blocks until the writer says each is. Not for a readonly or in-memory store.
   */
  startWriter(): void {
    if (this.writer) return;
    if (this.file === ':memory:') throw new Error('store: an in-memory store has no writer thread');
    // The writer thread's second connection checkpoints now: a commit here (meta) must not.
    this.db.pragma('wal_autocheckpoint = 0');
    this.announced = this.cachedLastHeight;
    this.writer = new CommitWriter(
      this.file,
      (height) => this.settled(height),
      (message) => {
        for (const listener of this.failureListeners) listener(new Error(message));
      },
    );
  }

  /** Whether blocks are committed on a writer thread (see `startWriter`). */
  get pipelined(): boolean {
    return this.writer !== undefined;
  }

  /**
   * Hands the next block to the writer thread and returns; the block is durable, and reads see
   * it, once the listeners of `onDurable` are told its height. Without a writer, commits now.
   */
  commitBlockLater(commit: BlockCommit): void {
    if (!this.writer) {
      this.commitBlock(commit);
      for (const listener of this.durableListeners) listener(commit.block.height);
      return;
    }
    const last = this.queued.at(-1)?.block.height ?? this.cachedLastHeight;
    if (commit.block.height !== last + 1) {
      throw new Error(`store: block ${commit.block.height} does not follow ${last}`);
    }
    this.queued.push(commit);
    this.writer.commit(commit);
  }

  /** Called with each height once its block is durable (in order, on the main thread). */
  onDurable(listener: (height: number) => void): void {
    this.durableListeners.push(listener);
  }

  /** Called once if the writer thread fails a block: nothing after it will become durable. */
  onWriterFailure(listener: (error: Error) => void): void {
    this.failureListeners.push(listener);
  }

  /** Blocks until every block handed to the writer is durable, and tells the listeners. */
  flush(): void {
    if (!this.writer || this.queued.length === 0) return;
    this.writer.waitFor(this.queued.at(-1)!.block.height);
    this.settled(this.writer.durableHeight());
  }

  /** The writer has made every block up to `height` durable: caught up, then announced. */
  private settled(height: number): void {
    this.catchUp(height);
    while (this.announced < this.cachedLastHeight) {
      this.announced += 1;
      for (const listener of this.durableListeners) listener(this.announced);
    }
  }

  /**
   * Brings the read cache and the last height up to what the writer made durable. Every read
   * calls it first: the main connection sees the writer's rows as soon as they commit, maybe
   * before the writer's message arrives, and a cached value must never be older than a row.
   */
  private catchUp(height = this.writer?.durableHeight() ?? -1): void {
    while (this.queued.length > 0 && this.queued[0]!.block.height <= height) {
      const commit = this.queued.shift()!;
      this.cachedLastHeight = commit.block.height;
      for (const [key, value] of commit.writes) this.readCache.set(key, value);
    }
  }

  getBlock(height: number): StoredBlock | undefined {
    if (this.queued.length > 0) this.catchUp();
    return toBlock(this.statements.getBlock.get(height));
  }

  getBlockByHash(hash: string): StoredBlock | undefined {
    if (this.queued.length > 0) this.catchUp();
    return toBlock(this.statements.getBlockByHash.get(hash));
  }

  getBlocks(from: number, to: number): StoredBlock[] {
    if (this.queued.length > 0) this.catchUp();
    return this.statements.getBlocks.all(from, to).map((row) => toBlock(row)!);
  }

  getTx(hash: string): StoredTx | undefined {
    if (this.queued.length > 0) this.catchUp();
    if (!/^[0-9a-f]{64}$/.test(hash)) return undefined;
    const row = this.statements.getTx.get(Buffer.from(hash, 'hex'));
    return row ? toTx(row) : undefined;
  }

  getTxHashes(height: number): string[] {
    if (this.queued.length > 0) this.catchUp();
    return this.statements.getTxHashes
      .all(height * txIdStride, (height + 1) * txIdStride)
      .map((row) => row.hash.toString('hex'));
  }

  getTxs(height: number): StoredTx[] {
    if (this.queued.length > 0) this.catchUp();
    return this.statements.getTxs.all(height * txIdStride, (height + 1) * txIdStride).map(toTx);
  }

  getEvents(after: EventPosition, toHeight: number, limit: number): StoredEvent[] {
    if (this.queued.length > 0) this.catchUp();
    if (limit <= 0) return [];
    return this.statements.getEvents
      .all(after.height, after.txIndex, after.eventIndex, toHeight, limit)
      .map((row) => ({
        height: row.height,
        txIndex: row.tx_index,
        eventIndex: row.event_index,
        type: row.type,
        data: row.data,
      }));
  }

  *scan(prefix: string): IterableIterator<[string, string]> {
    if (this.queued.length > 0) this.catchUp();
    // Keys are ASCII; U+FFFF sorts after every character a key may hold.
    for (const row of this.statements.scanState.iterate(prefix, prefix + '\uffff')) {
      yield [row.key, row.value];
    }
  }

  /**
   * Committed entries under `prefix` in key order, at most `limit`, within `bounds`. An
   * array, not an iterator: the state machine reads other keys between two ranges, and a
   * connection with an open iterator runs no other statement.
   */
  range(prefix: string, limit: number, bounds: RangeBounds = {}): [string, string][] {
    if (this.queued.length > 0) this.catchUp();
    if (limit <= 0) return [];
    const { after, before } = bounds;
    // Keys are ASCII; U+FFFF sorts after every character a key may hold.
    const end = before !== undefined && before < prefix + '\uffff' ? before : prefix + '\uffff';
    return after !== undefined && after >= prefix
      ? this.statements.rangeAfter.all(after, end, limit)
      : this.statements.rangeFrom.all(prefix, end, limit);
  }

  close(): void {
    if (!this.db.open) return;
    if (this.writer) {
      try {
        this.flush();
      } catch {
        // The writer failed: its listeners were told; close what is left.
      } finally {
        this.writer.close();
        this.writer = undefined;
      }
    }
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    this.db.close();
  }
}
