import assert from 'node:assert/strict';

import { canonicalize } from '../crypto/canonical.js';
import { deepFreeze, ParsedRecordCache, type StateRecord } from './parsed-records.js';

/** Synchronous reads of committed state. Values are canonical JSON text. */
export interface StateReader {
  get(key: string): string | undefined;
}

/**
 * Reads of the keys under a prefix in key order, for indexes kept as one key per entry
 * (`prefix/<zero-padded time or height>/<id>`): a block reads the first entries of an index without
 * reading the rest, however many there are. Keys are ASCII, so the order of JavaScript string
 * comparison is the byte order SQLite sorts by, on every node.
 */
export interface OrderedStateReader extends StateReader {
  /**
   * Up to `limit` entries whose keys start with `prefix`, ascending by key; only keys after
   * `bounds.after` and before `bounds.before` (both exclusive) when they are given.
   */
  range(prefix: string, limit: number, bounds?: RangeBounds): [string, string][];
}

/** Exclusive bounds of a `range`: an index read up to a due point passes `before`. */
export interface RangeBounds {
  after?: string;
  before?: string;
}

/** `null` in a write set means the key is deleted. */
export type WriteSet = Map<string, string | null>;

/**
 * A key written as a record (`setRecord`): the record (frozen under tests), and its canonical
 * JSON once something needed it as text (a `get`, a `range`, `writes()`); computed at most once.
 */
class RecordSlot {
  constructor(
    readonly record: StateRecord,
    private cachedText?: string,
  ) {}

  get text(): string {
    return (this.cachedText ??= canonicalize(this.record));
  }
}

/** A key's value in the overlay: text, a record, or `null` (deleted). */
type Written = string | RecordSlot | null;

function textOf(written: string | RecordSlot): string {
  return typeof written === 'string' ? written : written.text;
}

const absent = Symbol('absent');
type JournalEntry = { key: string; previous: Written | typeof absent };

/**
 * The in-memory state view a block executes against: reads fall through to committed state,
 * writes stay in an overlay until the block commits. `snapshot()`/`revert()` undo the writes of
 * a failed tx (the Lisk kernel's snapshot-and-restore), so a failed tx leaves no trace.
 */
export class StateView implements OrderedStateReader {
  private readonly overlay = new Map<string, Written>();
  private readonly journal: JournalEntry[] = [];
  /** Committed values read so far: a block reads the same records (an asset, a busy account) often. */
  private readonly committedReads = new Map<string, string | undefined>();
  /**
   * For each prefix `range` has been called with: every key this view has written under it (so a
   * range finds the block's writes under its prefix without looking at the others). A key whose
   * write was reverted may stay listed; `range` checks the overlay. Only ranged prefixes are
   * kept: a block ranges a few indexes and writes thousands of other keys.
   */
  private readonly writtenUnder = new Map<string, Set<string>>();

  /** Committed records parsed so far (shared across blocks when the chain passes one in). */
  private readonly parsed: ParsedRecordCache;

  /**
   * `base.range`, when it has one, serves `range`; a view over a plain reader cannot range.
   * `parsed`: the chain's cache of committed records, kept across blocks (a fresh one otherwise);
   * the view freezes the records it holds when the cache does (`ParsedRecordCache.freeze`).
   */
  constructor(
    private readonly base: StateReader | OrderedStateReader,
    parsed?: ParsedRecordCache,
  ) {
    this.parsed = parsed ?? new ParsedRecordCache(100_000);
  }

  get(key: string): string | undefined {
    const written = this.overlay.get(key);
    if (written !== undefined) return written === null ? undefined : textOf(written);
    return this.getCommitted(key);
  }

  /**
   * The value at `key` as a record (JSON.parse of its text, parsed once): the state the same
   * `get` reads, as an object. Callers must never change it (the view shares it; frozen under
   * tests): to write, build a new record or a changed copy and `setRecord` it.
   */
  getRecord<T extends StateRecord>(key: string): Readonly<T> | undefined {
    const written = this.overlay.get(key);
    if (written === undefined) return this.getCommittedRecord<T>(key);
    if (written === null) return undefined;
    if (typeof written !== 'string') return written.record as T;
    // Written as text (a module's `set`): parsed once, the slot keeps the text it was given.
    const parsed = JSON.parse(written) as StateRecord;
    const record = this.parsed.freeze ? deepFreeze(parsed) : parsed;
    this.overlay.set(key, new RecordSlot(record, written));
    return record as T;
  }

  /** The committed record at `key`, ignoring this block's writes. */
  getCommittedRecord<T extends StateRecord>(key: string): Readonly<T> | undefined {
    const text = this.getCommitted(key);
    return text === undefined ? undefined : (this.parsed.parse(key, text) as T);
  }

  /**
   * Writes `record` at `key`; the view keeps it (never change it afterwards: frozen under tests)
   * and serialises it once, when its text is first needed. Its text is `canonicalize(record)`.
   */
  setRecord(key: string, record: StateRecord): void {
    this.record(key);
    this.overlay.set(key, new RecordSlot(this.parsed.freeze ? deepFreeze(record) : record));
  }

  /** The committed value, ignoring this block's writes. */
  getCommitted(key: string): string | undefined {
    if (this.committedReads.has(key)) return this.committedReads.get(key);
    const value = this.base.get(key);
    this.committedReads.set(key, value);
    return value;
  }

  set(key: string, value: string): void {
    this.record(key);
    this.overlay.set(key, value);
  }

  delete(key: string): void {
    this.record(key);
    this.overlay.set(key, null);
  }

  private record(key: string): void {
    const previous = this.overlay.get(key);
    this.journal.push({ key, previous: previous === undefined ? absent : previous });
    if (previous === undefined && this.writtenUnder.size > 0) this.listWritten(key);
  }

  private listWritten(key: string): void {
    for (const [prefix, keys] of this.writtenUnder) if (key.startsWith(prefix)) keys.add(key);
  }

  /**
   * Up to `limit` entries under `prefix` (which ends with `/`) in ascending key order, within
   * `bounds` when given: committed state with this block's writes over it (a key written in the
   * block reads as written, a deleted one is left out), as `get` would read each key. The work is
   * the entries returned plus the committed keys this block overwrote or deleted on the way, never
   * the whole prefix.
   */
  range(prefix: string, limit: number, bounds: RangeBounds = {}): [string, string][] {
    assert.ok(prefix.endsWith('/'), `state view: range prefix ${prefix} must end with /`);
    assert.ok(Number.isSafeInteger(limit) && limit >= 0, `state view: range limit ${limit}`);
    const base = this.base as Partial<OrderedStateReader>;
    assert.ok(base.range !== undefined, 'state view: committed state cannot be read in key order');
    if (limit === 0) return [];
    const from = bounds.after !== undefined && bounds.after >= prefix ? bounds.after : undefined;
    const { before } = bounds;
    let under = this.writtenUnder.get(prefix);
    if (under === undefined) {
      under = new Set();
      for (const key of this.overlay.keys()) if (key.startsWith(prefix)) under.add(key);
      this.writtenUnder.set(prefix, under);
    }
    const written = [...under]
      .filter(
        (key) =>
          this.overlay.has(key) &&
          (from === undefined || key > from) &&
          (before === undefined || key < before),
      )
      .sort();
    const result: [string, string][] = [];
    let next = 0;
    /** Emits the block's writes up to `bound` (all of them when undefined) while room is left. */
    const emitWritten = (bound: string | undefined) => {
      for (; next < written.length && result.length < limit; next += 1) {
        const key = written[next]!;
        if (bound !== undefined && key > bound) return;
        const value = this.overlay.get(key);
        if (value !== null && value !== undefined) result.push([key, textOf(value)]);
      }
    };
    let cursor = from;
    for (;;) {
      const batch = base.range(prefix, limit, {
        ...(cursor === undefined ? {} : { after: cursor }),
        ...(before === undefined ? {} : { before }),
      });
      for (const entry of batch) {
        if (result.length >= limit) return result;
        emitWritten(entry[0]);
        if (result.length >= limit) return result;
        // A committed key the block wrote was emitted (or left out, deleted) with the writes.
        if (!this.overlay.has(entry[0])) result.push(entry);
      }
      if (result.length >= limit) return result;
      if (batch.length < limit) break;
      cursor = batch[batch.length - 1]![0];
    }
    emitWritten(undefined);
    return result;
  }

  snapshot(): number {
    return this.journal.length;
  }

  revert(snapshot: number): void {
    assert.ok(snapshot >= 0 && snapshot <= this.journal.length, 'snapshot out of range');
    while (this.journal.length > snapshot) {
      const entry = this.journal.pop()!;
      if (entry.previous === absent) this.overlay.delete(entry.key);
      else this.overlay.set(entry.key, entry.previous);
    }
  }

  /** Forget the undo journal once a tx has succeeded; its writes stay. */
  release(): void {
    this.journal.length = 0;
  }

  /**
   * The block's writes, sorted by key so every node hashes them in the same order. Each record
   * written is serialised here if nothing read its text before, and remembered in the parsed
   * cache under that text (it is the committed text once the block commits).
   */
  writes(): WriteSet {
    const keys = [...this.overlay.keys()].sort();
    const sorted: WriteSet = new Map();
    for (const key of keys) {
      const value = this.overlay.get(key)!;
      // A key written and then deleted again that never existed is no write at all.
      if (value === null && this.getCommitted(key) === undefined) continue;
      if (value === null || typeof value === 'string') {
        sorted.set(key, value);
      } else {
        sorted.set(key, value.text);
        this.parsed.remember(key, value.text, value.record);
      }
    }
    return sorted;
  }

  /** Keys written in this block, unsorted (for invariant checks). */
  writtenKeys(): IterableIterator<string> {
    return this.overlay.keys();
  }
}
