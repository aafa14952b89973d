// The baseline the issue names: a plain, hand-rolled PostgreSQL ledger. One SQL transaction per
// transfer, rows locked in id order (no deadlocks), the balance checked in SQL, the transfer
// recorded, synchronous commit on: what a careful team writes without a ledger engine.
import pg from 'pg';

export interface PlainTransfer {
  from: string;
  to: string;
  amount: bigint;
}

export async function runHandRolledLedger(
  url: string,
  accounts: string[],
  transfers: PlainTransfer[],
  options: { connections?: number; openingBalance?: bigint } = {},
): Promise<{ perSecond: number; committed: number; refused: number }> {
  const connections = options.connections ?? 16;
  const pool = new pg.Pool({ connectionString: url, max: connections });
  try {
    await pool.query('DROP TABLE IF EXISTS transfers; DROP TABLE IF EXISTS accounts;');
    await pool.query(`
      CREATE TABLE accounts (id text PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0));
      CREATE TABLE transfers (id bigserial PRIMARY KEY, debit text NOT NULL, credit text NOT NULL,
                              amount bigint NOT NULL CHECK (amount > 0), created_at timestamptz NOT NULL DEFAULT now());`);
    const opening = (options.openingBalance ?? 1_000_000n).toString();
    for (let i = 0; i < accounts.length; i += 1_000) {
      const slice = accounts.slice(i, i + 1_000);
      await pool.query('INSERT INTO accounts (id, balance) SELECT unnest($1::text[]), $2::bigint', [
        slice,
        opening,
      ]);
    }
    let next = 0;
    let committed = 0;
    let refused = 0;
    const start = performance.now();
    async function worker(): Promise<void> {
      const client = await pool.connect();
      try {
        while (next < transfers.length) {
          const t = transfers[next++]!;
          await client.query('BEGIN');
          const locked = await client.query<{ id: string; balance: string }>(
            'SELECT id, balance FROM accounts WHERE id = ANY($1) ORDER BY id FOR UPDATE',
            [[t.from, t.to]],
          );
          const payer = locked.rows.find((r) => r.id === t.from);
          if (!payer || locked.rows.length !== 2 || BigInt(payer.balance) < t.amount) {
            await client.query('ROLLBACK');
            refused++;
            continue;
          }
          const amount = t.amount.toString();
          await client.query('UPDATE accounts SET balance = balance - $2 WHERE id = $1', [
            t.from,
            amount,
          ]);
          await client.query('UPDATE accounts SET balance = balance + $2 WHERE id = $1', [
            t.to,
            amount,
          ]);
          await client.query('INSERT INTO transfers (debit, credit, amount) VALUES ($1, $2, $3)', [
            t.from,
            t.to,
            amount,
          ]);
          await client.query('COMMIT');
          committed++;
        }
      } finally {
        client.release();
      }
    }
    await Promise.all(Array.from({ length: connections }, () => worker()));
    const seconds = (performance.now() - start) / 1000;
    const sum = await pool.query<{ total: string }>(
      'SELECT sum(balance)::text AS total FROM accounts',
    );
    const expected = BigInt(opening) * BigInt(accounts.length);
    if (BigInt(sum.rows[0]!.total) !== expected) throw new Error('hand-rolled ledger lost money');
    return { perSecond: committed / seconds, committed, refused };
  } finally {
    await pool.end();
  }
}
