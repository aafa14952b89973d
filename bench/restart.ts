// `npm run bench -- restart`: how long the built node takes to serve /health when it resumes a long
// chain (issue 24, item 5; target <= 5 s on 1,000,000 committed txs).
//
// 1. Builds (or reuses, BENCH_RESTART_DIR) a data directory holding BENCH_RESTART_TXS committed
//    signed transfers (default 1,000,000): real transfers signed with the SDK, decoded, executed
//    and committed in this process through the node's own chain (Chain, SqliteBlockStore, the
//    node's modules, block validator and producer signer) in blocks of BENCH_RESTART_BLOCK_TXS,
//    so the store is what a node writes. Prints how long building took.
// 2. Starts the built node on it (`dist/src/cli/main.js start --data-dir ...`) BENCH_RESTART_RUNS
//    times (default 3) and measures spawn-to-"listening" and spawn-to-first-200-of-GET-/health;
//    the baseline is the same start on a fresh data directory with the same genesis (0 txs).
// 3. Reports median and max of each, and everything as JSON when BENCH_JSON=file.
// BENCH_PROFILE=dir runs the node under --cpu-prof (one profile per start) to see where
// start-up time goes.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Chain, decodeTx, isRejection, type DecodedTx, type Genesis } from '../src/chain/index.js';
import { deriveAddress } from '../src/crypto/index.js';
import { getProducer } from '../src/modules/producers/queries.js';
import { nodeBlockValidator, nodeModuleRegistry } from '../src/node/chain-rules.js';
import { dataFiles, initDataDir } from '../src/node/data-dir.js';
import { ProducerSigner } from '../src/node/producer-signer.js';
import { generateKey, signTx, txs, type SigningKey } from '../src/sdk/index.js';
import { SqliteBlockStore } from '../src/state/index.js';
import { createReport } from './report.js';

const env = process.env;
const txCount = Number(env.BENCH_RESTART_TXS ?? 1_000_000);
const blockTxs = Number(env.BENCH_RESTART_BLOCK_TXS ?? 5_000);
const senderCount = Number(env.BENCH_ACCOUNTS ?? 1_000);
const recipientCount = Number(env.BENCH_RESTART_RECIPIENTS ?? 100_000);
const runs = Number(env.BENCH_RESTART_RUNS ?? 3);
const root = path.resolve(import.meta.dirname, '..');
const chainId = 'coffer-bench-restart';
// Written last into a built data directory: what it holds, so a rerun can reuse it.
const markerFile = 'bench-restart.json';

interface Marker {
  txs: number;
  blockTxs: number;
  genesis: Genesis;
  buildSeconds: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function benchGenesis(senders: SigningKey[], time: number): Genesis {
  return {
    chainId,
    time,
    producer: senders[0]!.address, // replaced by the generated producer key
    assets: [{ symbol: 'USD', decimals: 2, issuer: senders[0]!.address }],
    balances: senders.map((s) => ({ address: s.address, asset: 'USD', amount: '100000000' })),
  };
}

/** Builds a data directory of `txCount` committed transfers in `dir` (emptied first). */
function buildChain(dir: string): Marker {
  const start = performance.now();
  fs.rmSync(dir, { recursive: true, force: true });
  const senders = Array.from({ length: senderCount }, () => generateKey());
  const recipients = Array.from({ length: recipientCount }, (_, i) =>
    deriveAddress('bench', String(i)),
  );
  const genesis = benchGenesis(senders, Date.now());
  const blocks = Math.ceil(txCount / blockTxs);
  // The genesis nonce range covers every block built here and leaves the node a runway as long
  // as a fresh node's (300 heights), so its start is the ordinary one.
  const init = initDataDir({
    dataDir: dir,
    chainId,
    now: Date.now(),
    genesis,
    genesisNonceHeights: blocks + 300,
  });
  // What CofferNode.openLocked and openSigner do, minus the HTTP server and consensus.
  const store = new SqliteBlockStore(path.join(dir, dataFiles.database));
  try {
    const registry = nodeModuleRegistry();
    const chain = new Chain(
      store,
      registry,
      (message, error) => console.error(message, error),
      nodeBlockValidator,
    );
    const signer = ProducerSigner.open(chainId, init.producer.secretKey, dir);
    const record = getProducer(store, signer.producer);
    if (!record) throw new Error('the genesis has no producer record');
    for (const range of record.nonceRanges) signer.commitment(range.fromHeight, range.count);
    signer.activate(record.nonceRanges);

    const nonces = new Array<number>(senderCount).fill(0);
    let made = 0;
    let signSeconds = 0;
    let commitSeconds = 0;
    for (let b = 0; b < blocks; b++) {
      const signStart = performance.now();
      const decoded: DecodedTx[] = [];
      for (let i = 0; i < blockTxs && made < txCount; i++, made++) {
        const a = made % senderCount;
        const from = senders[a]!;
        const tx = signTx(
          {
            chainId,
            sender: from.address,
            nonce: nonces[a]!++,
            ...txs.transfer({ to: recipients[made % recipientCount]!, asset: 'USD', amount: '1' }),
          },
          from,
        );
        const result = decodeTx(tx, chainId, registry.parserFor);
        if (isRejection(result)) throw new Error(`bench tx refused: ${result.code}`);
        decoded.push(result);
      }
      const commitStart = performance.now();
      signSeconds += (commitStart - signStart) / 1000;
      const committed = chain.produce(decoded, Date.now(), signer);
      commitSeconds += (performance.now() - commitStart) / 1000;
      const failed = committed.receipts.filter((r) => r.status !== 'ok').length;
      if (committed.txs.length !== decoded.length || failed > 0) {
        throw new Error(
          `block ${committed.block.header.height}: ${committed.txs.length}/${decoded.length} txs, ${failed} failed`,
        );
      }
      if (process.stdout.isTTY) {
        process.stdout.write(`\rbuilding   ${made}/${txCount} txs, height ${chain.height()}`);
      }
    }
    if (process.stdout.isTTY) process.stdout.write('\n');
    console.log(
      `restart: built ${made} txs in ${blocks} blocks (sign+decode ${signSeconds.toFixed(1)} s, execute+commit ${commitSeconds.toFixed(1)} s)`,
    );
  } finally {
    store.close();
  }
  const marker: Marker = {
    txs: txCount,
    blockTxs,
    genesis,
    buildSeconds: (performance.now() - start) / 1000,
  };
  fs.writeFileSync(path.join(dir, markerFile), JSON.stringify(marker) + '\n');
  return marker;
}

/** The built data directory in `dir` when it holds what this run asks for. */
function reusable(dir: string): Marker | undefined {
  const file = path.join(dir, markerFile);
  if (!fs.existsSync(file)) return undefined;
  const marker = JSON.parse(fs.readFileSync(file, 'utf8')) as Marker;
  return marker.txs === txCount && marker.blockTxs === blockTxs ? marker : undefined;
}

interface StartTiming {
  listeningMs: number;
  healthMs: number;
  height: number;
}

/** Spawns the built node on `dataDir`, times "listening" and the first 200 of /health, stops it. */
async function timeStart(dataDir: string, profileDir?: string): Promise<StartTiming> {
  const main = path.join(root, 'dist/src/cli/main.js');
  if (!fs.existsSync(main)) throw new Error('run `npm run build` first (npm run bench does)');
  const profile = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const spawnedAt = performance.now();
  const child = spawn(
    process.execPath,
    [...profile, main, 'start', '--data-dir', dataDir, '--port', '0', '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  try {
    const { url, listeningMs } = await new Promise<{ url: string; listeningMs: number }>(
      (resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /listening on (http:\/\/\S+)/.exec(out);
          if (match) resolve({ url: match[1]!, listeningMs: performance.now() - spawnedAt });
        });
        child.once('exit', (code) => reject(new Error(`node exited with ${code}: ${out}`)));
      },
    );
    // The URL is known only once the node says it listens; /health is polled from then on.
    for (;;) {
      try {
        const response = await fetch(`${url}/health`);
        const body = (await response.json()) as { height: number };
        if (response.status === 200) {
          return { listeningMs, healthMs: performance.now() - spawnedAt, height: body.height };
        }
      } catch {
        // not serving yet
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    // A clean stop (SIGINT), so the next start finds the data directory as a node leaves it.
    child.kill('SIGINT');
    await exited;
    process.off('exit', killOnExit);
  }
}

async function timeStarts(label: string, dataDir: string) {
  const timings: StartTiming[] = [];
  for (let run = 0; run < runs; run++) {
    const timing = await timeStart(dataDir, env.BENCH_PROFILE);
    console.log(
      `restart: ${label} run ${run + 1}: listening ${timing.listeningMs.toFixed(0)} ms, /health 200 ${timing.healthMs.toFixed(0)} ms (height ${timing.height})`,
    );
    timings.push(timing);
  }
  const health = timings.map((t) => t.healthMs);
  const listening = timings.map((t) => t.listeningMs);
  return {
    height: timings[0]!.height,
    healthMedianMs: median(health),
    healthMaxMs: Math.max(...health),
    listeningMedianMs: median(listening),
    listeningMaxMs: Math.max(...listening),
    runs: timings,
  };
}

async function main(): Promise<void> {
  const report = createReport('restart');
  report.line(
    'machine',
    `${os.availableParallelism()} cores, ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}`,
  );

  const keep = env.BENCH_RESTART_DIR;
  const dataDir = keep ?? fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-bench-restart-'));
  if (!keep) process.on('exit', () => fs.rmSync(dataDir, { recursive: true, force: true }));
  let marker = keep ? reusable(dataDir) : undefined;
  const reused = marker !== undefined;
  if (marker) {
    console.log(
      `restart: reusing ${dataDir} (${marker.txs} txs, built in ${marker.buildSeconds.toFixed(0)} s)`,
    );
  } else {
    marker = buildChain(dataDir);
  }
  report.line(
    'chain',
    `${marker.txs} committed transfers in blocks of ${marker.blockTxs} from ${senderCount} senders to ${recipientCount} recipients; built in ${marker.buildSeconds.toFixed(0)} s${keep ? ` (${dataDir})` : ''}`,
    {
      txs: marker.txs,
      blockTxs: marker.blockTxs,
      buildSeconds: marker.buildSeconds,
      reused,
    },
  );
  const dbBytes = ['', '-wal']
    .map((suffix) => path.join(dataDir, dataFiles.database + suffix))
    .filter((file) => fs.existsSync(file))
    .reduce((sum, file) => sum + fs.statSync(file).size, 0);
  report.line('database size', `${(dbBytes / 1024 / 1024).toFixed(0)} MB`, { bytes: dbBytes });

  // The baseline: the same genesis, 0 txs, in a fresh data directory (made here as the bench's
  // chain was, so the node only resumes it).
  const freshDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-bench-fresh-'));
  process.on('exit', () => fs.rmSync(freshDir, { recursive: true, force: true }));
  initDataDir({
    dataDir: freshDir,
    chainId,
    now: Date.now(),
    genesis: marker.genesis,
    genesisNonceHeights: Math.ceil(marker.txs / marker.blockTxs) + 300,
  });
  const fresh = await timeStarts('fresh (0 txs)', freshDir);
  const long = await timeStarts(`${marker.txs} txs`, dataDir);
  const ms = (value: number) => `${(value / 1000).toFixed(2)} s`;
  report.line(
    'start on a fresh chain (baseline)',
    `/health 200 after ${ms(fresh.healthMedianMs)} median, ${ms(fresh.healthMaxMs)} max; listening after ${ms(fresh.listeningMedianMs)} median (${runs} runs)`,
    fresh,
  );
  report.line(
    `start on ${marker.txs} committed txs`,
    `/health 200 after ${ms(long.healthMedianMs)} median, ${ms(long.healthMaxMs)} max; listening after ${ms(long.listeningMedianMs)} median (${runs} runs, height ${long.height}; target <= 5 s)`,
    long,
  );
  report.line(
    'restart cost of the chain',
    `+${ms(long.healthMedianMs - fresh.healthMedianMs)} median over the fresh start`,
    { extraMs: long.healthMedianMs - fresh.healthMedianMs },
  );
  report.finish();
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
