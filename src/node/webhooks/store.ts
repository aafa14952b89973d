import Database from 'better-sqlite3';

/**
 * Webhook subscriptions, their cursors and dead letters, in tables of the node's own SQLite file
 * (never part of state or the state root: they are this node's, not the chain's). The store opens
 * its own connection to the file; each change of progress (a cursor moved, a failure counted, a
 * dead letter written with the cursor past it) is one SQLite transaction, so after a crash the
 * cursor says exactly what was delivered. It reads the committed events from the block store's
 * `events` table (src/state/sqlite-store.ts), which the block commit writes and nothing changes.
 */

/** Where an event sits in the chain; events are delivered in this order. Block events have txIndex -1. */
export interface EventPosition {
  height: number;
  txIndex: number;
  eventIndex: number;
}

/** Larger than any tx or event index: `{h, max, max}` is the end of height h. */
const positionIndexMax = 2 ** 31 - 1;

/** The position after every event of `height` (a cursor there has passed that whole block). */
export function endOfHeight(height: number): EventPosition {
  return { height, txIndex: positionIndexMax, eventIndex: positionIndexMax };
}

export interface Subscription {
  id: string;
  url: string;
  /** Event types and patterns (src/node/webhooks/patterns.ts). */
  events: string[];
  secret: string;
  /** Wall-clock ms when it was added. */
  createdAt: number;
  /** The last event position delivered, dead-lettered or passed over as not matching. */
  cursor: EventPosition;
  /** Failed attempts at the event after the cursor (0: none failed). */
  attempts: number;
  /** Wall-clock ms before which the next attempt waits (0: at once). */
  nextAttemptAt: number;
  lastError: string | undefined;
}

export interface DeadLetter {
  /** Grows with each dead letter of the node. */
  seq: number;
  subscriptionId: string;
  webhookId: string;
  height: number;
  txIndex: number;
  eventIndex: number;
  type: string;
  attempts: number;
  lastError: string;
  /** Wall-clock ms of the last attempt. */
  failedAt: number;
}

export interface StoredEventRow extends EventPosition {
  type: string;
  /** The event's data, canonical JSON. */
  data: string;
}

/** Dead letters kept per subscription; past this the oldest go (replay re-drives from a height). */
export const deadLettersPerSubscriptionMax = 1_000;
/** Characters of an error kept with a failure. */
const errorLengthMax = 300;

const schema = `
CREATE TABLE IF NOT EXISTS webhook_subscriptions (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  events TEXT NOT NULL,
  secret TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  cursor_height INTEGER NOT NULL,
  cursor_tx INTEGER NOT NULL,
  cursor_event INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  last_error TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS webhook_dead_letters (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  subscription_id TEXT NOT NULL,
  webhook_id TEXT NOT NULL,
  height INTEGER NOT NULL,
  tx_index INTEGER NOT NULL,
  event_index INTEGER NOT NULL,
  type TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  failed_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_dead_letters_by_subscription
  ON webhook_dead_letters (subscription_id, seq);
`;

type SubscriptionRow = {
  id: string;
  url: string;
  events: string;
  secret: string;
  created_at: number;
  cursor_height: number;
  cursor_tx: number;
  cursor_event: number;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
};

type DeadLetterRow = {
  seq: number;
  subscription_id: string;
  webhook_id: string;
  height: number;
  tx_index: number;
  event_index: number;
  type: string;
  attempts: number;
  last_error: string;
  failed_at: number;
};

function toSubscription(row: SubscriptionRow): Subscription {
  return {
    id: row.id,
    url: row.url,
    events: JSON.parse(row.events) as string[],
    secret: row.secret,
    createdAt: row.created_at,
    cursor: { height: row.cursor_height, txIndex: row.cursor_tx, eventIndex: row.cursor_event },
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error ?? undefined,
  };
}

function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    seq: row.seq,
    subscriptionId: row.subscription_id,
    webhookId: row.webhook_id,
    height: row.height,
    txIndex: row.tx_index,
    eventIndex: row.event_index,
    type: row.type,
    attempts: row.attempts,
    lastError: row.last_error,
    failedAt: row.failed_at,
  };
}

const clip = (text: string) => text.slice(0, errorLengthMax);

export class WebhookStore {
  private readonly db: Database.Database;
  private readonly s;
  private readonly deadLetterTransaction: (
    id: string,
    letter: Omit<DeadLetter, 'seq' | 'subscriptionId'>,
  ) => void;
  private readonly replayTransaction: (id: string, fromHeight: number) => boolean;

  /** The connection's journal mode and synchronous level (`wal`, 1 = NORMAL), for the tests. */
  durability(): { journalMode: string; synchronous: number } {
    return {
      journalMode: String(this.db.pragma('journal_mode', { simple: true })),
      synchronous: Number(this.db.pragma('synchronous', { simple: true })),
    };
  }

  /** Opens (and creates the tables in) the node's database `file`. */
  constructor(readonly file: string) {
    this.db = new Database(file);
    // WAL is the file's mode (the block store sets it too); NORMAL is only safe under WAL.
    const mode = this.db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') {
      this.db.close();
      throw new Error(`webhooks: ${file} is not in WAL mode (journal_mode ${String(mode)})`);
    }
    // NORMAL, not FULL, for this connection only (synchronous is per connection: the block
    // store's stays FULL). Each delivered event is one commit on the main thread; under WAL,
    // NORMAL commits without an fsync (the WAL is synced at checkpoints), about 20 times cheaper
    // (the security review measured 1,000 commits: 515 ms FULL, 27 ms NORMAL). A power cut can lose the last commits, never
    // corrupt the file: a cursor that went back repeats deliveries with the same webhook-id, which
    // at-least-once delivery allows (receivers deduplicate by it).
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(schema);
    const db = this.db;
    this.s = {
      list: db.prepare<[], SubscriptionRow>('SELECT * FROM webhook_subscriptions ORDER BY id'),
      get: db.prepare<[string], SubscriptionRow>(
        'SELECT * FROM webhook_subscriptions WHERE id = ?',
      ),
      count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM webhook_subscriptions'),
      insert: db.prepare(
        `INSERT INTO webhook_subscriptions (id, url, events, secret, created_at, cursor_height,
           cursor_tx, cursor_event) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      remove: db.prepare('DELETE FROM webhook_subscriptions WHERE id = ?'),
      removeLetters: db.prepare('DELETE FROM webhook_dead_letters WHERE subscription_id = ?'),
      moveCursor: db.prepare(
        `UPDATE webhook_subscriptions SET cursor_height = ?, cursor_tx = ?, cursor_event = ?,
           attempts = 0, next_attempt_at = 0, last_error = NULL WHERE id = ?`,
      ),
      failed: db.prepare(
        `UPDATE webhook_subscriptions SET attempts = ?, next_attempt_at = ?, last_error = ?
           WHERE id = ?`,
      ),
      noteError: db.prepare('UPDATE webhook_subscriptions SET last_error = ? WHERE id = ?'),
      insertLetter: db.prepare(
        `INSERT INTO webhook_dead_letters (subscription_id, webhook_id, height, tx_index,
           event_index, type, attempts, last_error, failed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      trimLetters: db.prepare(
        `DELETE FROM webhook_dead_letters WHERE subscription_id = ? AND seq NOT IN (
           SELECT seq FROM webhook_dead_letters WHERE subscription_id = ? ORDER BY seq DESC LIMIT ?)`,
      ),
      lettersFrom: db.prepare(
        'DELETE FROM webhook_dead_letters WHERE subscription_id = ? AND height >= ?',
      ),
      letters: db.prepare<[string, number], DeadLetterRow>(
        'SELECT * FROM webhook_dead_letters WHERE subscription_id = ? ORDER BY seq DESC LIMIT ?',
      ),
      letterCount: db.prepare<[string], { n: number }>(
        'SELECT COUNT(*) AS n FROM webhook_dead_letters WHERE subscription_id = ?',
      ),
      // Row values compare in order: (height, tx, event) after the cursor, up to a final height.
      eventsAfter: db.prepare<[number, number, number, number, number], StoredEventRow>(
        `SELECT height, tx_index AS txIndex, event_index AS eventIndex, type, data FROM events
           WHERE (height, tx_index, event_index) > (?, ?, ?) AND height <= ?
           ORDER BY height, tx_index, event_index LIMIT ?`,
      ),
    };
    type Letter = Omit<DeadLetter, 'seq' | 'subscriptionId'>;
    this.deadLetterTransaction = db.transaction((id: string, letter: Letter) => {
      const s = this.s;
      s.insertLetter.run(
        id,
        letter.webhookId,
        letter.height,
        letter.txIndex,
        letter.eventIndex,
        letter.type,
        letter.attempts,
        clip(letter.lastError),
        letter.failedAt,
      );
      s.trimLetters.run(id, id, deadLettersPerSubscriptionMax);
      s.moveCursor.run(letter.height, letter.txIndex, letter.eventIndex, id);
    });
    this.replayTransaction = db.transaction((id: string, fromHeight: number) => {
      const cursor = endOfHeight(fromHeight - 1);
      const moved = this.s.moveCursor.run(cursor.height, cursor.txIndex, cursor.eventIndex, id);
      this.s.lettersFrom.run(id, fromHeight);
      return moved.changes > 0;
    });
  }

  list(): Subscription[] {
    return this.s.list.all().map(toSubscription);
  }

  get(id: string): Subscription | undefined {
    const row = this.s.get.get(id);
    return row ? toSubscription(row) : undefined;
  }

  count(): number {
    return this.s.count.get()!.n;
  }

  add(subscription: Omit<Subscription, 'attempts' | 'nextAttemptAt' | 'lastError'>): void {
    const { id, url, events, secret, createdAt, cursor } = subscription;
    this.s.insert.run(
      id,
      url,
      JSON.stringify(events),
      secret,
      createdAt,
      cursor.height,
      cursor.txIndex,
      cursor.eventIndex,
    );
  }

  /** Removes a subscription and its dead letters; answers whether it existed. */
  remove(id: string): boolean {
    return this.db.transaction(() => {
      this.s.removeLetters.run(id);
      return this.s.remove.run(id).changes > 0;
    })();
  }

  /** Moves the cursor to `position` (delivered, or passed over) and clears the failure count. */
  advance(id: string, position: EventPosition): void {
    this.s.moveCursor.run(position.height, position.txIndex, position.eventIndex, id);
  }

  /** Keeps `error` as the subscription's last error, counting no attempt (the node's own fault). */
  noteError(id: string, error: string): void {
    this.s.noteError.run(clip(error), id);
  }

  /** Counts a failed attempt at the event after the cursor. */
  failed(id: string, attempts: number, nextAttemptAt: number, error: string): void {
    this.s.failed.run(attempts, nextAttemptAt, clip(error), id);
  }

  /** Writes the dead letter and moves the cursor past its event, in one transaction. */
  deadLetter(id: string, letter: Omit<DeadLetter, 'seq' | 'subscriptionId'>): void {
    this.deadLetterTransaction(id, letter);
  }

  /**
   * Moves the cursor back to the start of `fromHeight` and drops the dead letters from there
   * (their events are delivered again); answers whether the subscription exists.
   */
  replay(id: string, fromHeight: number): boolean {
    return this.replayTransaction(id, fromHeight);
  }

  /** The newest dead letters of a subscription first, at most `limit`. */
  deadLetters(id: string, limit: number): DeadLetter[] {
    return this.s.letters.all(id, limit).map(toDeadLetter);
  }

  deadLetterCount(id: string): number {
    return this.s.letterCount.get(id)!.n;
  }

  /** Committed events after `cursor` up to height `toHeight`, in chain order, at most `limit`. */
  eventsAfter(cursor: EventPosition, toHeight: number, limit: number): StoredEventRow[] {
    return this.s.eventsAfter.all(
      cursor.height,
      cursor.txIndex,
      cursor.eventIndex,
      toHeight,
      limit,
    );
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
