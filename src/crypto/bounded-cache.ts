/**
 * A Map with a fixed entry limit that evicts the oldest insertion when full (FIFO, not LRU:
 * a hit costs one Map lookup and nothing else, which is what the per-transaction paths want).
 * Internal to src/crypto; not re-exported.
 */
export class BoundedCache<Key, Value> {
  private readonly entries = new Map<Key, Value>();

  constructor(readonly entriesMax: number) {
    if (!Number.isSafeInteger(entriesMax) || entriesMax < 1) {
      throw new RangeError('entriesMax must be a positive integer');
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: Key): Value | undefined {
    return this.entries.get(key);
  }

  set(key: Key, value: Value): void {
    if (this.entries.size >= this.entriesMax && !this.entries.has(key)) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, value);
  }

  clear(): void {
    this.entries.clear();
  }
}
