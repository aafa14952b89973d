// The benchmark: `npm run bench`. Not a test: it measures, it does not assert.
//
// 1. Writes a genesis with BENCH_STATE_ACCOUNTS funded accounts (default 1,000,000) so the node
//    runs with a realistic state size, and starts the built node on it as a child process.
// 2. Measures this machine's ed25519 verify ceiling on all cores (node:crypto), in this run.
// 3. Pre-signs BENCH_TXS transfers (default 100,000) from BENCH_ACCOUNTS senders, submits them
//    over HTTP in batches and reports committed transfers/s and its ratio to the ceiling.
// 4. Submits at half that rate for BENCH_LATENCY_SECONDS and reports submit-to-commit p50/p99.
// 5. Reports the node's peak RSS and what it is made of: /proc/<pid>/status VmRSS every 250 ms
//    and the node's own heap gauges (GET /metrics, prom-client's nodejs_* figures) every second.
// 6. When PostgreSQL is installed, runs the same transfers through a hand-rolled PostgreSQL
//    ledger (bench/postgres-ledger.ts), with and without ed25519 signature checks, and reports
//    the ratios.
//
// The client shares the machine's cores with the node, so it does as little as it can in the
// timed phases: every request body is serialised beforehand (one Buffer per batch), sent on a
// keep-alive agent, and of each reply only the count of `"status":"ok"` is read. Its own CPU
// time (process.cpuUsage) is reported next to the node's (/proc/<pid>/stat utime + stime).
//
// BENCH_JSON=file writes every figure as JSON too. BENCH_PROFILE=dir runs the node under
// --cpu-prof, BENCH_HEAP_PROFILE=dir under --heap-prof (sampling heap profile, written at exit),
// BENCH_HEAP_SNAPSHOT=dir writes one heap snapshot of the node (live objects only: V8 collects
// first) into dir when half the load phase's batches are sent (SIGUSR2, --heapsnapshot-signal).
// BENCH_NODE_FLAGS="--max-semi-space-size=16 ..." passes V8/Node flags to the node (to measure
// their effect; the node's own start command does not set them).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
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
import { createReport } from './report.js';

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

/** A figure of /proc/<pid>/status in MB (VmHWM: peak RSS, VmRSS: RSS now). */
function procStatusMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(
    fs.readFileSync(`/proc/${pid}/status`, 'utf8'),
  );
  return match ? Number(match[1]) / 1024 : NaN;
}

/** The CPU seconds a process (all its threads) has used, from /proc/<pid>/stat. */
function procCpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command (which may hold spaces) in parentheses; utime and stime are the
  // 14th and 15th fields, in clock ticks (USER_HZ, 100 on Linux).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The CPU seconds this process has used (all threads). */
function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/**
 * The node's resident memory by kind of mapping, in MB, from /proc/<pid>/smaps: `[heap]` (the
 * main thread's malloc arena: SQLite's page cache and other native allocations), anonymous
 * mappings (V8's heaps of the main thread and the workers, and the other threads' malloc
 * arenas), files (code, chain.db when mapped) and the rest.
 */
function smapsBreakdown(pid: number): Record<string, number> {
  const kinds: Record<string, number> = {};
  let kind = 'other';
  for (const line of fs.readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const mapping = /^[0-9a-f]+-([0-9a-f]+) \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (mapping) {
      const name = mapping[2]!;
      kind =
        name === ''
          ? 'anonymous'
          : name.startsWith('[')
            ? name
            : name.startsWith('/')
              ? 'files'
              : 'other';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) kinds[kind] = (kinds[kind] ?? 0) + Number(rss[1]) / 1024;
  }
  for (const name of Object.keys(kinds)) kinds[name] = Math.round(kinds[name]!);
  return kinds;
}

/** One sample of the node's memory: RSS, and its heap gauges when /metrics answered. */
interface MemorySample {
  atMs: number;
  rssMb: number;
  heap?: Record<string, number>;
}

/** The nodejs_* and process_* gauges of a Prometheus text exposition, in MB, by short name. */
function heapGauges(text: string): Record<string, number> {
  const gauges: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match =
      /^coffer_(?:nodejs_heap_size_total|nodejs_heap_size_used|nodejs_external_memory|process_resident_memory)_bytes (\S+)/.exec(
        line,
      ) ?? /^coffer_nodejs_heap_space_size_(used|total)_bytes\{space="(\w+)"\} (\S+)/.exec(line);
    if (!match) continue;
    if (match.length === 2) {
      const name = /^coffer_(\w+)_bytes/.exec(line)![1]!;
      gauges[name] = Number(match[1]) / 1024 / 1024;
    } else {
      gauges[`${match[2]}_${match[1]}`] = Number(match[3]) / 1024 / 1024;
    }
  }
  return gauges;
}

/**
 * Samples the node's RSS every 250 ms and its heap gauges (GET /metrics) every second, until
 * stopped; answers the samples.
 */
function sampleMemory(pid: number, url: string) {
  const samples: MemorySample[] = [];
  // /proc/<pid>/smaps at the largest RSS seen, retaken when RSS grew by 10 MB since.
  let smaps: { rssMb: number; kinds: Record<string, number> } | undefined;
  const start = performance.now();
  let heap: Record<string, number> | undefined;
  let ticks = 0;
  const timer = setInterval(() => {
    const atMs = performance.now() - start;
    const rssMb = procStatusMb(pid, 'VmRSS');
    samples.push({ atMs, rssMb, ...(heap ? { heap } : {}) });
    heap = undefined;
    if (rssMb > (smaps?.rssMb ?? 0) + 10) smaps = { rssMb, kinds: smapsBreakdown(pid) };
    if (ticks++ % 4 === 0) {
      fetch(`${url}/metrics`)
        .then((response) => response.text())
        .then((text) => (heap = heapGauges(text)))
        .catch(() => {});
    }
  }, 250);
  return {
    stop() {
      clearInterval(timer);
      return { samples, smaps };
    },
  };
}

/** The largest of each heap gauge over the samples, and the sample at the RSS peak. */
function memorySummary(samples: MemorySample[]) {
  const max: Record<string, number> = {};
  for (const sample of samples) {
    for (const [name, value] of Object.entries(sample.heap ?? {})) {
      max[name] = Math.max(max[name] ?? 0, value);
    }
  }
  let peak: MemorySample | undefined;
  for (const sample of samples) if (!peak || sample.rssMb > peak.rssMb) peak = sample;
  // The heap gauges nearest the RSS peak (sampled once a second, the RSS four times).
  let nearPeak: MemorySample | undefined;
  for (const sample of samples) {
    if (!sample.heap || !peak) continue;
    if (!nearPeak || Math.abs(sample.atMs - peak.atMs) < Math.abs(nearPeak.atMs - peak.atMs)) {
      nearPeak = sample;
    }
  }
  return { max, peakRssMb: peak?.rssMb ?? NaN, nearPeak };
}

const round = (value: number) => Math.round(value);

/** The main thread's GC pause seconds so far, by kind (major, minor, incremental, weakcb). */
async function gcSeconds(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const seconds: Record<string, number> = {};
  for (const match of text.matchAll(
    /^coffer_nodejs_gc_duration_seconds_sum\{kind="(\w+)"\} (\S+)$/gm,
  )) {
    seconds[match[1]!] = Number(match[2]);
  }
  return seconds;
}

/**
 * POSTs pre-serialised batch bodies on keep-alive connections; answers how many results were
 * `ok` (counted in the reply text, not parsed) out of `count`.
 */
function poster(url: string, sockets: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const target = new URL('/v1/txs/batch?wait=commit', url);
  return {
    post(body: Buffer): Promise<number> {
      return new Promise((resolve, reject) => {
        const request = http.request(
          target,
          {
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', 'content-length': body.length },
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => {
              const text = Buffer.concat(chunks).toString('latin1');
              if (response.statusCode !== 200) {
                reject(new Error(`batch answered ${response.statusCode}: ${text.slice(0, 200)}`));
                return;
              }
              let ok = 0;
              for (let at = text.indexOf('"status":"ok"'); at >= 0; ok++) {
                at = text.indexOf('"status":"ok"', at + 13);
              }
              resolve(ok);
            });
            response.on('error', reject);
          },
        );
        request.on('error', reject);
        request.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}

function batchBody(batch: SignedTx[]): Buffer {
  return Buffer.from(JSON.stringify({ txs: batch }));
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
  const profile = [
    ...(env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', env.BENCH_PROFILE] : []),
    ...(env.BENCH_HEAP_PROFILE ? ['--heap-prof', '--heap-prof-dir', env.BENCH_HEAP_PROFILE] : []),
    ...(env.BENCH_HEAP_SNAPSHOT
      ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${env.BENCH_HEAP_SNAPSHOT}`]
      : []),
    ...(env.BENCH_NODE_FLAGS ? env.BENCH_NODE_FLAGS.split(/\s+/).filter(Boolean) : []),
  ];
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
  const out = createReport('throughput');
  const report = out.line;
  report(
    'machine',
    `${os.availableParallelism()} cores, ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}`,
  );
  if (env.BENCH_NODE_FLAGS) report('node flags', env.BENCH_NODE_FLAGS);

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
    { accounts: senderCount + stateAccounts },
  );
  const { child, url } = await startNode(dataDir);
  const client = createClient(url, { timeoutMs: 600_000 });
  const idleRssMb = procStatusMb(child.pid!, 'VmRSS');

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
  report('ed25519 verify ceiling, all cores', `${Math.round(ceiling)} verifies/s`, {
    perSecond: ceiling,
  });

  // 3b. Throughput: batches in nonce order, `inflight` at a time, each answered at commit. The
  // bodies are serialised before the clock starts.
  const bodies: { body: Buffer; count: number }[] = [];
  for (let i = 0; i < signed.length; i += batchSize) {
    const batch = signed.slice(i, i + batchSize);
    bodies.push({ body: batchBody(batch), count: batch.length });
  }
  const http = poster(url, inflight + 2);
  const startHeight = (await client.health()).height;
  let next = 0;
  let committed = 0;
  let failed = 0;
  const gcBefore = await gcSeconds(url);
  const memory = sampleMemory(child.pid!, url);
  const loadCpu = { client: ownCpuSeconds(), node: procCpuSeconds(child.pid!) };
  const loadStart = performance.now();
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (next < bodies.length) {
        if (env.BENCH_HEAP_SNAPSHOT && next === Math.floor(bodies.length / 2)) {
          child.kill('SIGUSR2');
        }
        const { body, count } = bodies[next++]!;
        const ok = await http.post(body);
        committed += ok;
        failed += count - ok;
        progress('load', committed + failed, signed.length);
      }
    }),
  );
  const loadSeconds = (performance.now() - loadStart) / 1000;
  const clientCpu = ownCpuSeconds() - loadCpu.client;
  const nodeCpu = procCpuSeconds(child.pid!) - loadCpu.node;
  const gcAfter = await gcSeconds(url);
  const gc = Object.fromEntries(
    Object.entries(gcAfter).map(([kind, value]) => [kind, value - (gcBefore[kind] ?? 0)]),
  );
  const throughput = committed / loadSeconds;
  const blocks = (await client.health()).height - startHeight;
  report(
    'committed transfers/s',
    `${Math.round(throughput)} tx/s (${committed} ok, ${failed} failed, ${blocks} blocks; batches of ${batchSize}, ${inflight} in flight)`,
    { perSecond: throughput, committed, failed, blocks, batchSize, inflight, seconds: loadSeconds },
  );
  report('ratio to verify ceiling', `${(throughput / ceiling).toFixed(2)} (target >= 0.75)`, {
    ratio: throughput / ceiling,
  });
  const cores = os.availableParallelism();
  report(
    'CPU during the load phase',
    `node ${nodeCpu.toFixed(1)} s (${((nodeCpu / loadSeconds) * 100).toFixed(0)}% of one core), bench client ${clientCpu.toFixed(1)} s (${((clientCpu / loadSeconds) * 100).toFixed(0)}%), of ${cores} cores x ${loadSeconds.toFixed(1)} s = ${(cores * loadSeconds).toFixed(1)} s`,
    { nodeCpuSeconds: nodeCpu, clientCpuSeconds: clientCpu, wallSeconds: loadSeconds, cores },
  );
  const gcTotal = Object.values(gc).reduce((sum, value) => sum + value, 0);
  report(
    "node main thread's GC pauses during the load phase",
    `${gcTotal.toFixed(2)} s (${((gcTotal / loadSeconds) * 100).toFixed(1)}% of the wall time): ${Object.entries(
      gc,
    )
      .map(([kind, value]) => `${kind} ${value.toFixed(2)} s`)
      .join(', ')}`,
    { seconds: gc, total: gcTotal },
  );

  // 4. Latency at half load: every 20 ms a batch sized for half the measured rate (bodies
  // serialised beforehand, like the load phase's).
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
  const latencyBodies = latencyBatches.map(batchBody);
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const latencyStart = performance.now();
  for (let t = 0; t < ticks; t++) {
    const due = latencyStart + t * tickMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const sentAt = performance.now();
    pending.push(
      http.post(latencyBodies[t]!).then((ok) => {
        const ms = performance.now() - sentAt;
        for (let i = 0; i < ok; i++) latencies.push(ms);
      }),
    );
    progress('latency', t + 1, ticks);
  }
  await Promise.all(pending);
  http.close();
  const { samples, smaps } = memory.stop();
  latencies.sort((a, b) => a - b);
  report(
    'submit-to-commit latency at half load',
    `p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms (${Math.round(rate)} tx/s offered, ${latencies.length} committed; target p99 <= 250 ms)`,
    {
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      offeredPerSecond: rate,
      committed: latencies.length,
    },
  );
  const peakRss = procStatusMb(child.pid!, 'VmHWM');
  report(
    'node peak RSS',
    `${peakRss.toFixed(0)} MB with ${senderCount + stateAccounts} accounts (idle after start ${idleRssMb.toFixed(0)} MB; target <= 400 MB with 1M)`,
    { peakMb: peakRss, idleMb: idleRssMb, accounts: senderCount + stateAccounts },
  );
  const summary = memorySummary(samples);
  const at = summary.nearPeak?.heap ?? {};
  const mb = (value: number | undefined) => (value === undefined ? '?' : `${round(value)}`);
  report(
    'node memory at the sampled RSS peak',
    `RSS ${mb(summary.peakRssMb)} MB: V8 heap ${mb(at.nodejs_heap_size_total)} MB committed (${mb(at.nodejs_heap_size_used)} used; new space ${mb(at.new_total)}, old space ${mb(at.old_total)}), external ${mb(at.nodejs_external_memory)} MB, main isolate only (workers' heaps and SQLite's page cache are the rest of the RSS)`,
    { nearPeak: summary.nearPeak, peakSampledRssMb: summary.peakRssMb },
  );
  if (smaps) {
    report(
      'node RSS by mapping near the peak',
      `${Object.entries(smaps.kinds)
        .sort((a, b) => b[1] - a[1])
        .map(([kind, value]) => `${kind} ${value} MB`)
        .join(', ')} (/proc/<pid>/smaps at RSS ${round(smaps.rssMb)} MB)`,
      smaps,
    );
  }
  report(
    'node heap maxima under load',
    `heap committed ${mb(summary.max.nodejs_heap_size_total)} MB, used ${mb(summary.max.nodejs_heap_size_used)} MB, new space ${mb(summary.max.new_total)} MB, old space ${mb(summary.max.old_total)} MB, external ${mb(summary.max.nodejs_external_memory)} MB`,
    { max: summary.max, samples },
  );

  if (env.BENCH_PROFILE || env.BENCH_HEAP_PROFILE) {
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
        // The signature covers the tx as signed (to a holder); the SQL ledger holds only the
        // senders' accounts and moves the amount between them, as before.
        signed: tx,
      }));
      const pgResult = await runHandRolledLedger(server.url, ids, plain);
      report(
        'hand-rolled PostgreSQL ledger',
        `${Math.round(pgResult.perSecond)} transfers/s (${pgResult.committed} transfers, 16 connections, no signature checks)`,
        pgResult,
      );
      // The fairer baseline: the same ledger checks each signature first, on a pool of the
      // node's size (the node's VerifyPool defaults to one worker per core).
      const workers = Number(env.COFFER_VERIFY_WORKERS ?? os.availableParallelism());
      const pgSigned = await runHandRolledLedger(server.url, ids, plain, { verify: { workers } });
      if (pgSigned.badSignatures > 0) throw new Error('the PostgreSQL ledger refused signatures');
      report(
        'hand-rolled PostgreSQL ledger, signatures checked',
        `${Math.round(pgSigned.perSecond)} transfers/s (${pgSigned.committed} transfers, 16 connections, ed25519 on ${workers} workers)`,
        { ...pgSigned, workers },
      );
      report(
        'ratio Coffer / PostgreSQL',
        `${(throughput / pgSigned.perSecond).toFixed(1)}x against the ledger that checks signatures (target >= 3x); ${(throughput / pgResult.perSecond).toFixed(1)}x against the one that does not`,
        {
          withSignatures: throughput / pgSigned.perSecond,
          withoutSignatures: throughput / pgResult.perSecond,
        },
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

  out.finish();
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
