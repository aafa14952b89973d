// The baseline the issue names: a plain, hand-rolled PostgreSQL ledger. One SQL transaction per
// transfer, rows locked in id order (no deadlocks), the balance checked in SQL, the transfer
// recorded, synchronous commit on: what a careful team writes without a ledger engine.
//
// With `verify` (issue 24's fairer baseline) it also does what Coffer does before a transfer
// touches state: it hashes each signed transfer and checks its ed25519 signature against the
// sender's key, on a VerifyPool of the node's size (node:crypto in worker threads), in chunks
// verified ahead of the SQL workers (a pipeline: chunk k+1 is checked while chunk k is written),
// and refuses a transfer whose signature or signer does not hold.
import pg from 'pg';
import { signingMessage } from '../src/crypto/domains.js';
import { fromHex, publicKeyFromAddress } from '../src/crypto/index.js';
import { VerifyPool } from '../src/crypto/verify-pool.js';
import { hashTx, type SignedTx } from '../src/sdk/index.js';

export interface PlainTransfer {
  from: string;
  to: string;
  amount: bigint;
  /** The signed tx the transfer came in, checked when the ledger runs with `verify`. */
  signed?: SignedTx;
}

// Transfers per signature-check chunk, and chunks checked ahead of the SQL workers.
const VERIFY_CHUNK = 2_000;
const VERIFY_CHUNKS_AHEAD = 2;

export async function runHandRolledLedger(
  url: string,
  accounts: string[],
  transfers: PlainTransfer[],
  options: {
    connections?: number;
    openingBalance?: bigint;
    /** Check every transfer's signature first, on a VerifyPool of this many workers. */
    verify?: { workers: number };
  } = {},
): Promise<{ perSecond: number; committed: number; refused: number; badSignatures: number }> {
  const connections = options.connections ?? 16;
  const verifyPool = options.verify ? new VerifyPool({ size: options.verify.workers }) : undefined;
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
    if (verifyPool) await verifyPool.verifyBatch(signatureChecks(transfers.slice(0, 100))); // warm-up
    let next = 0;
    let committed = 0;
    let refused = 0;
    let badSignatures = 0;
    const start = performance.now();
    // Without `verify`, every transfer is ready at once; with it, a transfer is ready once its
    // chunk's signatures are checked (refused ones are counted and never reach SQL).
    const ready: PlainTransfer[] = verifyPool ? [] : transfers;
    let verified = verifyPool ? 0 : transfers.length;
    let wakeVerifier: (() => void) | undefined;
    let wakeWorkers: (() => void)[] = [];
    const wake = () => {
      for (const resolve of wakeWorkers) resolve();
      wakeWorkers = [];
    };
    async function verifier(pool: VerifyPool): Promise<void> {
      for (let i = 0; i < transfers.length; i += VERIFY_CHUNK) {
        // Stay at most VERIFY_CHUNKS_AHEAD chunks ahead of the SQL workers.
        while (ready.length - next >= VERIFY_CHUNK * VERIFY_CHUNKS_AHEAD) {
          await new Promise<void>((resolve) => (wakeVerifier = resolve));
        }
        const chunk = transfers.slice(i, i + VERIFY_CHUNK);
        const verdicts = await pool.verifyBatch(signatureChecks(chunk));
        chunk.forEach((t, index) => {
          if (verdicts[index] && t.signed?.sender === t.from) ready.push(t);
          else badSignatures++;
        });
        verified += chunk.length;
        wake();
      }
    }
    async function nextTransfer(): Promise<PlainTransfer | undefined> {
      for (;;) {
        if (next < ready.length) {
          const t = ready[next++]!;
          wakeVerifier?.();
          return t;
        }
        if (verified >= transfers.length) return undefined;
        await new Promise<void>((resolve) => wakeWorkers.push(resolve));
      }
    }
    async function worker(): Promise<void> {
      const client = await pool.connect();
      try {
        for (;;) {
          const t = await nextTransfer();
          if (!t) break;
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
    await Promise.all([
      ...(verifyPool ? [verifier(verifyPool)] : []),
      ...Array.from({ length: connections }, () => worker()),
    ]);
    const seconds = (performance.now() - start) / 1000;
    const sum = await pool.query<{ total: string }>(
      'SELECT sum(balance)::text AS total FROM accounts',
    );
    const expected = BigInt(opening) * BigInt(accounts.length);
    if (BigInt(sum.rows[0]!.total) !== expected) throw new Error('hand-rolled ledger lost money');
    return { perSecond: committed / seconds, committed, refused, badSignatures };
  } finally {
    await pool.end();
    await verifyPool?.close();
  }
}

/** What Coffer checks of a signed tx: its hash, signed by the key its sender address names. */
function signatureChecks(transfers: PlainTransfer[]) {
  return transfers.map((t) => {
    if (!t.signed) throw new Error('a transfer without its signed tx cannot be verified');
    const { signature, ...body } = t.signed;
    return {
      publicKey: publicKeyFromAddress(body.sender),
      message: signingMessage('tx', hashTx(body)),
      signature: fromHex(signature),
    };
  });
}
