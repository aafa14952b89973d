import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { compareEventPositions } from './store.js';
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
CREATE TABLE state (
  key TEXT PRIMARY KEY,
  -- NULL: deleted (the row stays, to say which block deleted it).
  value TEXT,
  -- The height of the block that last wrote or deleted the key.
  height INTEGER NOT NULL
) WITHOUT ROWID;
-- The live keys alone, for ordered reads: an index whose entries are deleted as they are settled
-- (a due index) would otherwise leave every deleted row in the way of each read of its head.
CREATE INDEX live ON state (key) WHERE value IS NOT NULL;
`;

/** Pages of SQLite cache: 32 MB, whatever the size of the state replayed. */
const cacheKibibytes = 32 * 1024;

/** One state entry as the replay holds it. */
export interface ReplayEntry {
  key: string;
  /** Null when a block deleted the key. */
  value: string | null;
  /** The block that last wrote (or deleted) it. */
  height: number;
}

/**
 * A scratch `BlockStore` that a chain is replayed into (`coffer audit`): the state in a SQLite file
 * only the replay opens, with the height of the block that last wrote each key, and of the blocks
 * only the head and its txs. Nothing is kept per block, so a long chain replays in bounded memory
 * and disk (the state's size). Written with no journal and no fsync: after a crash the replay
 * starts over, so durability would only cost an fsync per block.
 */
export class ReplayStore implements BlockStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements;
  private readonly commitWrites: (commit: BlockCommit) => void;
  private readonly meta = new Map<string, string>();
  private head: { block: StoredBlock; txs: StoredTx[]; events: StoredEvent[] } | undefined;

  /** `file` must not exist: a replay never resumes another one's state. */
  constructor(readonly file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = OFF');
    this.db.pragma('synchronous = OFF');
    this.db.pragma(`cache_size = -${cacheKibibytes}`);
    const existing = this.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM sqlite_master');
    if (existing.get()!.n > 0) {
      this.db.close();
      throw new Error(`replay store: ${file} is not empty`);
    }
    this.db.exec(schema);
    const db = this.db;
    this.statements = {
      get: db.prepare<[string], { value: string | null }>('SELECT value FROM state WHERE key = ?'),
      put: db.prepare(
        'INSERT INTO state (key, value, height) VALUES (?, ?, ?) ' +
          'ON CONFLICT (key) DO UPDATE SET value = excluded.value, height = excluded.height',
      ),
      entries: db.prepare<[string, string], ReplayEntry>(
        'SELECT key, value, height FROM state WHERE key >= ? AND key < ? ORDER BY key',
      ),
      rangeFrom: db
        .prepare<[string, string, number], [string, string]>(
          'SELECT key, value FROM state INDEXED BY live ' +
            'WHERE key >= ? AND key < ? AND value IS NOT NULL ORDER BY key LIMIT ?',
        )
        .raw(),
      rangeAfter: db
        .prepare<[string, string, number], [string, string]>(
          'SELECT key, value FROM state INDEXED BY live ' +
            'WHERE key > ? AND key < ? AND value IS NOT NULL ORDER BY key LIMIT ?',
        )
        .raw(),
    };
    const s = this.statements;
    this.commitWrites = db.transaction((commit: BlockCommit) => {
      for (const [key, value] of commit.writes) s.put.run(key, value, commit.block.height);
    });
  }

  get(key: string): string | undefined {
    return this.statements.get.get(key)?.value ?? undefined;
  }

  getMeta(key: string): string | undefined {
    return this.meta.get(key);
  }

  setMeta(key: string, value: string): void {
    this.meta.set(key, value);
  }

  lastHeight(): number {
    return this.head?.block.height ?? -1;
  }

  commitBlock(commit: BlockCommit): void {
    assert.equal(commit.block.height, this.lastHeight() + 1, 'replayed heights grow one by one');
    this.commitWrites(commit);
    for (const [key, value] of Object.entries(commit.meta ?? {})) this.meta.set(key, value);
    this.head = { block: commit.block, txs: commit.txs, events: commit.events };
  }

  /** Every key ever written, deleted ones too, ascending by key (the order of `scan`). */
  *entries(prefix = ''): IterableIterator<ReplayEntry> {
    // As in the SQLite store: keys are ASCII, and U+FFFF sorts after every character they hold.
    yield* this.statements.entries.iterate(prefix, prefix + '\uffff');
  }

  *scan(prefix: string): IterableIterator<[string, string]> {
    for (const entry of this.entries(prefix)) {
      if (entry.value !== null) yield [entry.key, entry.value];
    }
  }

  /** As `SqliteBlockStore.range`: live entries under `prefix`, in key order, through `live`. */
  range(prefix: string, limit: number, bounds: RangeBounds = {}): [string, string][] {
    if (limit <= 0) return [];
    const { after, before } = bounds;
    // Keys are ASCII; U+FFFF sorts after every character a key may hold.
    const end = before !== undefined && before < prefix + '\uffff' ? before : prefix + '\uffff';
    return after !== undefined && after >= prefix
      ? this.statements.rangeAfter.all(after, end, limit)
      : this.statements.rangeFrom.all(prefix, end, limit);
  }

  // Of blocks, the replay keeps only the head and its txs.

  getBlock(height: number): StoredBlock | undefined {
    return this.head?.block.height === height ? this.head.block : undefined;
  }

  getBlockByHash(hash: string): StoredBlock | undefined {
    return this.head?.block.hash === hash ? this.head.block : undefined;
  }

  getBlocks(from: number, to: number): StoredBlock[] {
    const block = this.head?.block;
    return block && block.height >= from && block.height <= to ? [block] : [];
  }

  getTx(hash: string): StoredTx | undefined {
    return this.head?.txs.find((tx) => tx.hash === hash);
  }

  getTxHashes(height: number): string[] {
    return this.getTxs(height).map((tx) => tx.hash);
  }

  getTxs(height: number): StoredTx[] {
    return this.head?.block.height === height ? this.head.txs : [];
  }

  /** The head's events, as the replay keeps of blocks only the head. */
  getEvents(after: EventPosition, toHeight: number, limit: number): StoredEvent[] {
    return (this.head?.events ?? [])
      .filter((e) => e.height <= toHeight && compareEventPositions(e, after) > 0)
      .slice(0, Math.max(0, limit));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
