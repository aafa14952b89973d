// The benchmark: `npm run bench`. Not a test: it measures, it does not assert.
//
// 1. Writes a genesis with BENCH_STATE_ACCOUNTS funded accounts (default 1,000,000) so the node
//    runs with a realistic state size, and starts the built node on it as a child process.
// 2. Measures this machine's ed25519 verify ceiling on all cores (node:crypto), in this run.
// 3. Pre-signs BENCH_TXS transfers (default 100,000) from BENCH_ACCOUNTS senders, submits them
//    over HTTP in batches and reports committed transfers/s and its ratio to the ceiling.
// 4. Submits at half that rate for BENCH_LATENCY_SECONDS and reports submit-to-commit p50/p99.
// 5. Reports the node's peak RSS.
// 6. When PostgreSQL is installed, runs the same transfers through a hand-rolled PostgreSQL
//    ledger (bench/postgres-ledger.ts) and reports the ratio.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deriveAddress } from '../src/crypto/index.js';
import { initDataDir } from '../src/node/data-dir.js';
import {
  createClient,
  generateKey,
  signTx,
  txs,
  type SignedTx,
  type SigningKey,
} from '../src/sdk/index.js';
import { postgresAvailable, startPostgres } from '../test/support/postgres.js';
import { verifyCeiling } from './verify-ceiling.js';
import { runHandRolledLedger } from './postgres-ledger.js';

const env = process.env;
const txCount = Number(env.BENCH_TXS ?? 100_000);
const senderCount = Number(env.BENCH_ACCOUNTS ?? 1_000);
const stateAccounts = Number(env.BENCH_STATE_ACCOUNTS ?? 1_000_000);
const batchSize = Number(env.BENCH_BATCH ?? 2_000);
const inflight = Number(env.BENCH_INFLIGHT ?? 4);
const latencySeconds = Number(env.BENCH_LATENCY_SECONDS ?? 10);
const pgTxs = Number(env.BENCH_PG_TXS ?? 20_000);
const root = path.resolve(import.meta.dirname, '..');
const chainId = 'coffer-bench';

function progress(label: string, done: number, total: number): void {
  if (!process.stdout.isTTY) return;
  const width = 30;
  const filled = Math.min(width, Math.round((done / total) * width));
  process.stdout.write(
    `\r${label.padEnd(10)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`,
  );
  if (done >= total) process.stdout.write('\n');
}

function rssPeakMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function transfer(from: SigningKey, nonce: number, to: string): SignedTx {
  return signTx(
    { chainId, sender: from.address, nonce, ...txs.transfer({ to, asset: 'USD', amount: '1' }) },
    from,
  );
}

async function startNode(dataDir: string) {
  const main = path.join(root, 'dist/src/cli/main.js');
  if (!fs.existsSync(main)) throw new Error('run `npm run build` first (npm run bench does)');
  const profile = env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', env.BENCH_PROFILE] : [];
  const child = spawn(
    process.execPath,
    [...profile, main, 'start', '--data-dir', dataDir, '--port', '0', '--log-level', 'warn'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...env, COFFER_BLOCK_TXS_MAX: '10000', COFFER_MEMPOOL_TXS_MAX: '1000000' },
    },
  );
  process.on('exit', () => child.kill('SIGKILL'));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`node exited with ${code}`)));
  });
  return { child, url };
}

async function main(): Promise<void> {
  const rows: [string, string][] = [];
  const report = (key: string, value: string) => {
    rows.push([key, value]);
    if (!process.stdout.isTTY) console.log(`${key}: ${value}`);
  };
  report(
    'machine',
    `${os.availableParallelism()} cores, ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}`,
  );

  // 1. Genesis: the senders plus stateAccounts derived addresses, all funded.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-bench-'));
  process.on('exit', () => fs.rmSync(dataDir, { recursive: true, force: true }));
  const senders = Array.from({ length: senderCount }, () => generateKey());
  const issuer = generateKey();
  const holders = Array.from({ length: stateAccounts }, (_, i) =>
    deriveAddress('bench', String(i)),
  );
  const genesisStart = performance.now();
  initDataDir({
    dataDir,
    chainId,
    now: Date.now(),
    genesis: {
      chainId,
      time: Date.now(),
      producer: issuer.address, // replaced by the generated producer key
      assets: [{ symbol: 'USD', decimals: 2, issuer: issuer.address }],
      balances: [...senders.map((s) => s.address), ...holders].map((address) => ({
        address,
        asset: 'USD',
        amount: '1000000',
      })),
    },
  });
  report(
    'state',
    `${senderCount + stateAccounts} funded accounts in genesis (${((performance.now() - genesisStart) / 1000).toFixed(1)} s to write)`,
  );
  const { child, url } = await startNode(dataDir);
  const client = createClient(url, { timeoutMs: 600_000 });

  // 3a. Pre-sign: each sender sends its share with consecutive nonces, to the big population.
  const perSender = Math.ceil(txCount / senderCount);
  const signed: SignedTx[] = [];
  const nextNonce = new Array<number>(senderCount).fill(0);
  for (let n = 0; n < perSender && signed.length < txCount; n++) {
    for (let a = 0; a < senderCount && signed.length < txCount; a++) {
      signed.push(
        transfer(senders[a]!, nextNonce[a]!++, holders[(n * senderCount + a) % holders.length]!),
      );
    }
    progress('signing', signed.length, txCount);
  }

  // 2. The verify ceiling: the same signatures on all cores, while the node idles.
  const ceiling = await verifyCeiling(signed);
  report('ed25519 verify ceiling, all cores', `${Math.round(ceiling)} verifies/s`);

  // 3b. Throughput: batches in nonce order, `inflight` at a time, each answered at commit.
  const batches: SignedTx[][] = [];
  for (let i = 0; i < signed.length; i += batchSize) batches.push(signed.slice(i, i + batchSize));
  const startHeight = (await client.health()).height;
  let next = 0;
  let committed = 0;
  let failed = 0;
  const loadStart = performance.now();
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (next < batches.length) {
        const answer = await client.submitBatch(batches[next++]!, { wait: 'commit' });
        for (const result of answer.results) {
          if (result.status === 'ok') committed++;
          else failed++;
        }
        progress('load', committed + failed, signed.length);
      }
    }),
  );
  const throughput = committed / ((performance.now() - loadStart) / 1000);
  const blocks = (await client.health()).height - startHeight;
  report(
    'committed transfers/s',
    `${Math.round(throughput)} tx/s (${committed} ok, ${failed} failed, ${blocks} blocks; batches of ${batchSize}, ${inflight} in flight)`,
  );
  report('ratio to verify ceiling', `${(throughput / ceiling).toFixed(2)} (target >= 0.75)`);

  // 4. Latency at half load: every 20 ms a batch sized for half the measured rate.
  const rate = throughput / 2;
  const tickMs = 20;
  const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
  const ticks = Math.round((latencySeconds * 1000) / tickMs);
  const latencyBatches: SignedTx[][] = [];
  for (let t = 0; t < ticks; t++) {
    const batch: SignedTx[] = [];
    for (let i = 0; i < perTick; i++) {
      const a = (t * perTick + i) % senderCount;
      batch.push(
        transfer(senders[a]!, nextNonce[a]!++, holders[(t * perTick + i) % holders.length]!),
      );
    }
    latencyBatches.push(batch);
  }
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const latencyStart = performance.now();
  for (let t = 0; t < ticks; t++) {
    const due = latencyStart + t * tickMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const sentAt = performance.now();
    const batch = latencyBatches[t]!;
    pending.push(
      client.submitBatch(batch, { wait: 'commit' }).then((answer) => {
        const ms = performance.now() - sentAt;
        for (const result of answer.results) if (result.status === 'ok') latencies.push(ms);
      }),
    );
    progress('latency', t + 1, ticks);
  }
  await Promise.all(pending);
  latencies.sort((a, b) => a - b);
  report(
    'submit-to-commit latency at half load',
    `p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms (${Math.round(rate)} tx/s offered, ${latencies.length} committed; target p99 <= 250 ms)`,
  );
  report(
    'node peak RSS',
    `${rssPeakMb(child.pid!).toFixed(0)} MB with ${senderCount + stateAccounts} accounts (target <= 400 MB with 1M)`,
  );

  if (env.BENCH_PROFILE) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    await exited;
  } else {
    child.kill('SIGKILL');
  }

  // 6. The hand-rolled PostgreSQL ledger on the same machine, same run.
  if (postgresAvailable() && pgTxs > 0) {
    const server = await startPostgres();
    try {
      const ids = senders.map((s) => s.address);
      const plain = signed.slice(0, pgTxs).map((tx) => ({
        from: tx.sender,
        to: ids[(ids.indexOf(tx.sender) + 1) % ids.length]!,
        amount: 1n,
      }));
      const pgResult = await runHandRolledLedger(server.url, ids, plain);
      report(
        'hand-rolled PostgreSQL ledger',
        `${Math.round(pgResult.perSecond)} transfers/s (${pgResult.committed} transfers, 16 connections)`,
      );
      report(
        'ratio Coffer / PostgreSQL',
        `${(throughput / pgResult.perSecond).toFixed(1)}x (target >= 10x)`,
      );
    } finally {
      server.stop();
    }
  } else {
    report(
      'hand-rolled PostgreSQL ledger',
      pgTxs === 0
        ? 'skipped: BENCH_PG_TXS=0'
        : 'skipped: no PostgreSQL server installed (apt-get install postgresql)',
    );
  }

  if (process.stdout.isTTY) {
    const width = Math.max(...rows.map(([k]) => k.length));
    console.log();
    for (const [key, value] of rows) console.log(`${key.padEnd(width)}  ${value}`);
  }
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
