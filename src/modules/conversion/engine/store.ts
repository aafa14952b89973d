/*
 * The engine's durable state: one SQLite file in its data directory (WAL, synchronous = FULL, as
 * the node's store), so a forward survives the engine's death at any point. What is written
 * before an action is what a restarted engine resumes from:
 *
 * - `quotes`: every quote given, until it expires (a forward names one; one forward per quote);
 * - `forwards`: each forward's record (JSON) and its state, the index of the worker's loop;
 * - `journal`: every Coffer tx the engine signed, by ecosystem and action key, before it is sent
 *   (coffer-ledger.ts: a restarted engine re-sends the same bytes, never signs a second tx);
 * - `deposits`: provider deposit ids already taken, so a notification delivered twice forwards once;
 * - `events`: the engine's event log (numbered), read by `GET /v1/conversion/events` and
 *   delivered to webhooks from `webhook_cursor`.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { SignedTx } from '../../../sdk/tx.js';
import type { TxJournal } from './coffer-ledger.js';
import type { EngineEvent, Forward, Quote } from './records.js';

const schema = `
CREATE TABLE IF NOT EXISTS quotes (id TEXT PRIMARY KEY, body TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS forwards (
  id TEXT PRIMARY KEY,
  quote_id TEXT UNIQUE,
  state TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS forwards_by_state ON forwards (state);
-- One forward per source lock: a lock pays for one forward, whoever asks.
CREATE TABLE IF NOT EXISTS source_locks (ecosystem TEXT NOT NULL, lock_id TEXT NOT NULL, forward_id TEXT NOT NULL, PRIMARY KEY (ecosystem, lock_id));
CREATE TABLE IF NOT EXISTS journal (
  ecosystem TEXT NOT NULL,
  key TEXT NOT NULL,
  nonce INTEGER NOT NULL,
  tx TEXT NOT NULL,
  PRIMARY KEY (ecosystem, key)
);
CREATE TABLE IF NOT EXISTS deposits (id TEXT PRIMARY KEY, forward_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/** States a forward rests in: the worker leaves them alone. */
export const finalStates = ['completed', 'refunded', 'rejected'] as const;

export class EngineStore implements TxJournal {
  private readonly db: Database.Database;

  constructor(dataDir: string) {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.db = new Database(path.join(dataDir, 'bridge.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(schema);
  }

  /** Statements prepared once, by their text (preparing one costs about as much as running it). */
  private readonly statements = new Map<string, Database.Statement>();

  private sql<P extends unknown[] = unknown[], R = unknown>(
    text: string,
  ): Database.Statement<P, R> {
    let statement = this.statements.get(text);
    if (!statement) this.statements.set(text, (statement = this.db.prepare(text)));
    return statement as unknown as Database.Statement<P, R>;
  }

  // ---- quotes ----

  putQuote(quote: Quote): void {
    this.sql('INSERT INTO quotes (id, body, expires_at) VALUES (?, ?, ?)').run(
      quote.id,
      JSON.stringify(quote),
      quote.expiresAt,
    );
  }

  getQuote(id: string): Quote | undefined {
    const row = this.sql<[string], { body: string }>('SELECT body FROM quotes WHERE id = ?').get(
      id,
    );
    return row ? (JSON.parse(row.body) as Quote) : undefined;
  }

  /** Deletes quotes that expired before `before` and that no forward names. */
  pruneQuotes(before: number): number {
    return this.sql(
      'DELETE FROM quotes WHERE expires_at < ? AND id NOT IN (SELECT quote_id FROM forwards WHERE quote_id IS NOT NULL)',
    ).run(before).changes;
  }

  // ---- forwards ----

  /** Inserts a forward with the events of its creation; false when its quote or lock has one. */
  insertForward(forward: Forward, events: EngineEvent[] = []): boolean {
    const taken = new Error('taken');
    try {
      this.db.transaction(() => {
        if (forward.source.lockId !== undefined) {
          const changes = this.sql(
            'INSERT INTO source_locks (ecosystem, lock_id, forward_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
          ).run(forward.from.ecosystem, forward.source.lockId, forward.id).changes;
          if (changes === 0) throw taken;
        }
        // Thrown, not returned: the lock's row is rolled back with the forward's.
        if (!this.insertForwardRow(forward)) throw taken;
        for (const event of events) this.appendEvent(event);
      })();
      return true;
    } catch (error) {
      if (error === taken) return false;
      throw error;
    }
  }

  /** The forward a source lock pays for, if any. */
  forwardOfLock(ecosystem: string, lockId: string): Forward | undefined {
    const row = this.sql<[string, string], { forward_id: string }>(
      'SELECT forward_id FROM source_locks WHERE ecosystem = ? AND lock_id = ?',
    ).get(ecosystem, lockId);
    return row ? this.getForward(row.forward_id) : undefined;
  }

  private insertForwardRow(forward: Forward): boolean {
    const result = this.sql(
      'INSERT INTO forwards (id, quote_id, state, body, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ).run(
      forward.id,
      forward.quoteId ?? null,
      forward.state,
      JSON.stringify(forward),
      forward.createdAt,
    );
    return result.changes === 1;
  }

  /** Writes the forward and the events of its change in one transaction. */
  updateForward(forward: Forward, events: EngineEvent[] = []): void {
    this.db.transaction(() => {
      this.sql('UPDATE forwards SET state = ?, body = ? WHERE id = ?').run(
        forward.state,
        JSON.stringify(forward),
        forward.id,
      );
      for (const event of events) this.appendEvent(event);
    })();
  }

  getForward(id: string): Forward | undefined {
    const row = this.sql<[string], { body: string }>('SELECT body FROM forwards WHERE id = ?').get(
      id,
    );
    return row ? (JSON.parse(row.body) as Forward) : undefined;
  }

  forwardOfQuote(quoteId: string): Forward | undefined {
    const row = this.sql<[string], { body: string }>(
      'SELECT body FROM forwards WHERE quote_id = ?',
    ).get(quoteId);
    return row ? (JSON.parse(row.body) as Forward) : undefined;
  }

  /** Forwards not in a final state, oldest first: what the worker still has to drive. */
  activeForwards(limit: number): Forward[] {
    const placeholders = finalStates.map(() => '?').join(', ');
    return this.sql<unknown[], { body: string }>(
      `SELECT body FROM forwards WHERE state NOT IN (${placeholders}) ORDER BY created_at, id LIMIT ?`,
    )
      .all(...finalStates, limit)
      .map((row) => JSON.parse(row.body) as Forward);
  }

  /** Forwards in creation order after `after` (an id), at most `limit`. */
  listForwards(limit: number, after?: string): Forward[] {
    const rows =
      after === undefined
        ? this.sql<[number], { body: string }>(
            'SELECT body FROM forwards ORDER BY created_at, id LIMIT ?',
          ).all(limit)
        : this.sql<[string, string, number], { body: string }>(
            'SELECT body FROM forwards WHERE (created_at, id) > ((SELECT created_at FROM forwards WHERE id = ?), ?) ORDER BY created_at, id LIMIT ?',
          ).all(after, after, limit);
    return rows.map((row) => JSON.parse(row.body) as Forward);
  }

  // ---- deposits ----

  /** Records a deposit id for a forward; false when the deposit was taken before. */
  takeDeposit(depositId: string, forward: Forward): boolean {
    return this.db.transaction(() => {
      const taken = this.sql(
        'INSERT INTO deposits (id, forward_id) VALUES (?, ?) ON CONFLICT DO NOTHING',
      ).run(depositId, forward.id).changes;
      if (taken === 0) return false;
      this.insertForward(forward);
      this.appendEvent({ type: 'forward.received', forward: forward.id, state: forward.state });
      return true;
    })();
  }

  forwardOfDeposit(depositId: string): Forward | undefined {
    const row = this.sql<[string], { forward_id: string }>(
      'SELECT forward_id FROM deposits WHERE id = ?',
    ).get(depositId);
    return row ? this.getForward(row.forward_id) : undefined;
  }

  // ---- events ----

  appendEvent(event: EngineEvent): number {
    return Number(
      this.sql('INSERT INTO events (body) VALUES (?)').run(
        JSON.stringify({ ...event, at: Date.now() }),
      ).lastInsertRowid,
    );
  }

  events(after: number, limit: number): { seq: number; event: EngineEvent & { at: number } }[] {
    return this.sql<[number, number], { seq: number; body: string }>(
      'SELECT seq, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
    )
      .all(after, limit)
      .map((row) => ({
        seq: row.seq,
        event: JSON.parse(row.body) as EngineEvent & { at: number },
      }));
  }

  getMeta(key: string): string | undefined {
    return this.sql<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(key)
      ?.value;
  }

  setMeta(key: string, value: string): void {
    this.sql(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ).run(key, value);
  }

  // ---- the Coffer tx journal (TxJournal) ----

  get(ecosystem: string, key: string): SignedTx | undefined {
    const row = this.sql<[string, string], { tx: string }>(
      'SELECT tx FROM journal WHERE ecosystem = ? AND key = ?',
    ).get(ecosystem, key);
    return row ? (JSON.parse(row.tx) as SignedTx) : undefined;
  }

  put(ecosystem: string, key: string, tx: SignedTx): void {
    this.sql('INSERT INTO journal (ecosystem, key, nonce, tx) VALUES (?, ?, ?, ?)').run(
      ecosystem,
      key,
      tx.nonce,
      JSON.stringify(tx),
    );
  }

  list(ecosystem: string, fromNonce: number): SignedTx[] {
    return this.sql<[string, number], { tx: string }>(
      'SELECT tx FROM journal WHERE ecosystem = ? AND nonce >= ? ORDER BY nonce',
    )
      .all(ecosystem, fromNonce)
      .map((row) => JSON.parse(row.tx) as SignedTx);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
