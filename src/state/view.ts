import assert from 'node:assert/strict';

/** Synchronous reads of committed state. Values are canonical JSON text. */
export interface StateReader {
  get(key: string): string | undefined;
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
export class StateView implements StateReader {
  private readonly overlay: WriteSet = new Map();
  private readonly journal: JournalEntry[] = [];
  /** Committed values read so far: a block reads the same records (an asset, a busy account) often. */
  private readonly committedReads = new Map<string, string | undefined>();

  constructor(private readonly base: StateReader) {}

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
