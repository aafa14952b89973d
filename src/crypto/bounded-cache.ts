/**
 * A Map with a fixed entry limit that evicts the oldest insertion when full (FIFO, not LRU:
 * a hit costs one Map lookup and nothing else, which is what the per-transaction paths want).
 * Internal to src/crypto; not re-exported.
 */
export class BoundedCache<Key, Value> {
  private readonly entries = new Map<Key, Value>();
  /**
   * Insertion order as a ring of keys. Evicting through `entries.keys().next()` instead would
   * scan past every deleted slot V8 keeps until its next rehash: quadratic once the cache is full.
   */
  private readonly order: (Key | undefined)[] = [];
  private next = 0;

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
    if (this.entries.has(key)) {
      this.entries.set(key, value);
      return;
    }
    if (this.entries.size >= this.entriesMax) {
      const oldest = this.order[this.next];
      this.entries.delete(oldest as Key);
    }
    this.order[this.next] = key;
    this.next = (this.next + 1) % this.entriesMax;
    this.entries.set(key, value);
  }

  clear(): void {
    this.entries.clear();
    this.order.length = 0;
    this.next = 0;
  }
}
