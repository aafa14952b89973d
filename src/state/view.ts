import assert from 'node:assert/strict';

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

const absent = Symbol('absent');
type JournalEntry = { key: string; previous: string | null | typeof absent };

/**
 * The in-memory state view a block executes against: reads fall through to committed state,
 * writes stay in an overlay until the block commits. `snapshot()`/`revert()` undo the writes of
 * a failed tx (the Lisk kernel's snapshot-and-restore), so a failed tx leaves no trace.
 */
export class StateView implements OrderedStateReader {
  private readonly overlay: WriteSet = new Map();
  private readonly journal: JournalEntry[] = [];
  /** Committed values read so far: a block reads the same records (an asset, a busy account) often. */
  private readonly committedReads = new Map<string, string | undefined>();
  /**
   * Once `range` has been called: every key this view has written, under each prefix of it that
   * ends at a `/` (so a range finds the block's writes under its prefix without looking at the
   * others). A key whose write was reverted may stay listed; `range` checks the overlay.
   */
  private writtenUnder: Map<string, Set<string>> | undefined;

  /** `base.range`, when it has one, serves `range`; a view over a plain reader cannot range. */
  constructor(private readonly base: StateReader | OrderedStateReader) {}

  get(key: string): string | undefined {
    const written = this.overlay.get(key);
    if (written !== undefined) return written ?? undefined;
    return this.getCommitted(key);
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
    if (previous === undefined && this.writtenUnder !== undefined) this.listWritten(key);
  }

  private listWritten(key: string): void {
    const under = this.writtenUnder!;
    for (let slash = key.indexOf('/'); slash !== -1; slash = key.indexOf('/', slash + 1)) {
      const prefix = key.slice(0, slash + 1);
      const keys = under.get(prefix);
      if (keys === undefined) under.set(prefix, new Set([key]));
      else keys.add(key);
    }
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
    if (this.writtenUnder === undefined) {
      this.writtenUnder = new Map();
      for (const key of this.overlay.keys()) this.listWritten(key);
    }
    const written = [...(this.writtenUnder.get(prefix) ?? [])]
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
        if (value !== null && value !== undefined) result.push([key, value]);
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

  /** The block's writes, sorted by key so every node hashes them in the same order. */
  writes(): WriteSet {
    const keys = [...this.overlay.keys()].sort();
    const sorted: WriteSet = new Map();
    for (const key of keys) {
      const value = this.overlay.get(key)!;
      // A key written and then deleted again that never existed is no write at all.
      if (value === null && this.getCommitted(key) === undefined) continue;
      sorted.set(key, value);
    }
    return sorted;
  }

  /** Keys written in this block, unsorted (for invariant checks). */
  writtenKeys(): IterableIterator<string> {
    return this.overlay.keys();
  }
}
