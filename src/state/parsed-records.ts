/**
 * A record the state view holds as an object (the ledger's accounts, assets and holds): parsed
 * once, serialised once. The overlay, the undo journal and the parsed cache share records, so a
 * record must never change in place: a writer builds a new record (or a changed copy, sharing
 * the parts it leaves alone) and hands it over. Under the test runner every record the view
 * holds is frozen, deep, so code that breaks the rule fails its tests; in production freezing is
 * left out (it took about a fifth of the ledger's and the view's time, measured in process).
 */
export type StateRecord = object;

/** Whether views freeze the records they hold by default: under `node --test`, yes. */
export const freezeRecordsByDefault = process.env.NODE_TEST_CONTEXT !== undefined;

/** A committed record and the committed text it was parsed from. */
interface ParsedEntry {
  text: string;
  record: StateRecord;
}

/**
 * Committed records parsed once, across blocks: hot senders and assets are read in every block.
 * An entry is used only when the committed text read now is the text it was parsed from (most
 * often the very same string, from the store's own read cache), so the cache needs no
 * invalidation: a block that was executed but never committed, or state changed by any other
 * path, just makes its entries miss. The chain keeps one and passes it to each block's view.
 * The default bound (20,000 records, a few MB) holds a block's writes and the hot accounts read
 * in every block; the store's read cache holds the texts.
 *
 * Bounded by generations rather than per-entry eviction (an eviction is one more random memory
 * access per insert, measured at twice the cost of a plain Map insert): entries go into the
 * current generation; when it holds half the bound it becomes the old one and the one before is
 * dropped. A hit in the old generation moves the entry to the current one, so what is read every
 * block stays.
 */
export class ParsedRecordCache {
  private current = new Map<string, ParsedEntry>();
  private old = new Map<string, ParsedEntry>();
  private readonly generationMax: number;

  constructor(
    readonly entriesMax = 20_000,
    readonly freeze = freezeRecordsByDefault,
  ) {
    if (!Number.isSafeInteger(entriesMax) || entriesMax < 2) {
      throw new RangeError('entriesMax must be an integer of at least 2');
    }
    this.generationMax = Math.floor(entriesMax / 2);
  }

  get size(): number {
    return this.current.size + this.old.size;
  }

  /** The record of `text` at `key`: cached when `text` is what it was parsed from, else parsed. */
  parse(key: string, text: string): StateRecord {
    let entry = this.current.get(key);
    if (entry === undefined) {
      entry = this.old.get(key);
      if (entry !== undefined && entry.text === text) {
        this.insert(key, entry);
        return entry.record;
      }
    } else if (entry.text === text) {
      return entry.record;
    }
    const parsed = JSON.parse(text) as StateRecord;
    const record = this.freeze ? deepFreeze(parsed) : parsed;
    this.insert(key, { text, record });
    return record;
  }

  /** Remembers a record whose text is `text` (a block's write, committed or not: see above). */
  remember(key: string, text: string, record: StateRecord): void {
    this.insert(key, { text, record });
  }

  clear(): void {
    this.current = new Map();
    this.old = new Map();
  }

  private insert(key: string, entry: ParsedEntry): void {
    if (this.current.size >= this.generationMax && !this.current.has(key)) {
      this.old = this.current;
      this.current = new Map();
    }
    this.current.set(key, entry);
  }
}

/** Freezes `value` and every object and array in it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const member of Object.values(value)) deepFreeze(member);
  return value;
}
