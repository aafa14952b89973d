// Throughput benchmark: `npm run bench`. Not a test: it measures, it does not assert.
//
// Starts the built node as a child process on loopback, funds M accounts, pre-signs N transfers
// over them, submits them over HTTP in batches and reports committed transfers/s, next to the
// ed25519 verify ceiling of this machine measured in the same run (all cores, node:crypto).
// Knobs: BENCH_TXS (default 100000), BENCH_ACCOUNTS (1000), BENCH_BATCH (2000), BENCH_INFLIGHT (4).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { signingMessage } from '../src/crypto/domains.js';
import { fromHex, publicKeyFromAddress, VerifyPool } from '../src/crypto/index.js';
import {
  createClient,
  generateKey,
  hashTx,
  importKey,
  signTx,
  txs,
  type SignedTx,
} from '../src/sdk/index.js';

const env = process.env;
const txCount = Number(env.BENCH_TXS ?? 100_000);
const accountCount = Number(env.BENCH_ACCOUNTS ?? 1_000);
const batchSize = Number(env.BENCH_BATCH ?? 2_000);
const inflight = Number(env.BENCH_INFLIGHT ?? 4);
const root = path.resolve(import.meta.dirname, '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function rssPeakMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : NaN;
}

function progress(label: string, done: number, total: number): void {
  if (!process.stdout.isTTY) return;
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stdout.write(
    `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`,
  );
  if (done >= total) process.stdout.write('\n');
}

async function main(): Promise<void> {
  const main = path.join(root, 'dist/src/cli/main.js');
  if (!fs.existsSync(main)) throw new Error('run `npm run build` first (npm run bench does)');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-bench-'));
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      ...(env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', env.BENCH_PROFILE] : []),
      main,
      'start',
      '--data-dir',
      dataDir,
      '--port',
      String(port),
      '--log-level',
      'warn',
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...env, COFFER_BLOCK_TXS_MAX: '10000', COFFER_MEMPOOL_TXS_MAX: '1000000' },
    },
  );
  const stop = () => {
    child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  process.on('exit', stop);
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('listening on')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`node exited with ${code}`)));
  });
  const client = createClient(`http://127.0.0.1:${port}`, { timeoutMs: 600_000 });
  const { chainId } = await client.health();
  const dev = importKey(
    (
      JSON.parse(fs.readFileSync(path.join(dataDir, 'dev-account.json'), 'utf8')) as {
        secretKey: string;
      }
    ).secretKey,
  );

  // Fund the accounts (not measured).
  const accounts = Array.from({ length: accountCount }, () => generateKey());
  const perAccount = Math.ceil(txCount / accountCount);
  for (let start = 0; start < accountCount; start += 5_000) {
    const funding = accounts
      .slice(start, start + 5_000)
      .map((account, i) =>
        signTx(
          {
            chainId,
            sender: dev.address,
            nonce: start + i,
            ...txs.transfer({ to: account.address, asset: 'USD', amount: String(perAccount * 10) }),
          },
          dev,
        ),
      );
    await client.submitBatch(funding, { wait: 'commit' });
  }

  // Pre-sign N transfers: each account sends its share with consecutive nonces.
  const signStart = performance.now();
  const signed: SignedTx[] = [];
  for (let n = 0; n < perAccount && signed.length < txCount; n++) {
    for (let a = 0; a < accountCount && signed.length < txCount; a++) {
      const from = accounts[a]!;
      const to = accounts[(a + 1 + n) % accountCount]!;
      signed.push(
        signTx(
          {
            chainId,
            sender: from.address,
            nonce: n,
            ...txs.transfer({ to: to.address, asset: 'USD', amount: '1' }),
          },
          from,
        ),
      );
    }
    progress('signing ', signed.length, txCount);
  }
  const signSeconds = (performance.now() - signStart) / 1000;

  // The verify ceiling: the same signatures, checked on all cores, while the node is idle.
  const pool = new VerifyPool();
  const checks = signed.map((tx) => {
    const { signature, ...body } = tx;
    return {
      publicKey: publicKeyFromAddress(tx.sender),
      message: signingMessage('tx', hashTx(body)),
      signature: fromHex(signature),
    };
  });
  await pool.verifyBatch(checks.slice(0, 2_000)); // warm the workers and key caches
  const verifyStart = performance.now();
  for (let i = 0; i < checks.length; i += 10_000)
    await pool.verifyBatch(checks.slice(i, i + 10_000));
  const verifyPerSecond = checks.length / ((performance.now() - verifyStart) / 1000);
  await pool.close();

  // Load: batches in order (nonces must arrive in order per sender), `inflight` at a time.
  const batches: SignedTx[][] = [];
  for (let i = 0; i < signed.length; i += batchSize) batches.push(signed.slice(i, i + batchSize));
  const startHeight = (await client.health()).height;
  const loadStart = performance.now();
  let next = 0;
  let committed = 0;
  let failed = 0;
  async function lane(): Promise<void> {
    while (next < batches.length) {
      const batch = batches[next++]!;
      const answer = await client.submitBatch(batch, { wait: 'commit' });
      for (const result of answer.results) {
        if (result.status === 'ok') committed++;
        else failed++;
      }
      progress('load    ', committed + failed, signed.length);
    }
  }
  await Promise.all(Array.from({ length: inflight }, () => lane()));
  const loadSeconds = (performance.now() - loadStart) / 1000;
  const endHeight = (await client.health()).height;
  const perSecond = committed / loadSeconds;

  const rows: [string, string][] = [
    [
      'machine',
      `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}`,
    ],
    [
      'transfers',
      `${txCount} over ${accountCount} accounts, batches of ${batchSize}, ${inflight} in flight`,
    ],
    ['signing (1 core, bench process)', `${Math.round(txCount / signSeconds)} tx/s`],
    ['ed25519 verify ceiling (all cores)', `${Math.round(verifyPerSecond)} verifies/s`],
    [
      'committed transfers/s',
      `${Math.round(perSecond)} tx/s (${committed} ok, ${failed} not ok, ${endHeight - startHeight} blocks)`,
    ],
    ['ratio to verify ceiling', (perSecond / verifyPerSecond).toFixed(2)],
    ['node peak RSS', `${rssPeakMb(child.pid!).toFixed(0)} MB`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [key, value] of rows) console.log(`${key.padEnd(width)}  ${value}`);
  if (env.BENCH_PROFILE) {
    // Let the node write its CPU profile (on a clean exit) before the data directory goes.
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    await exited;
  }
  stop();
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
