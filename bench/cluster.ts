// The cluster benchmark (issue 7): `npm run bench -- cluster`. Not a test: it measures, it does
// not assert.
//
// 1. Pre-signs BENCH_TXS transfers (default 60,000) from BENCH_ACCOUNTS senders (default 2,000),
//    each sender with consecutive nonces, to BENCH_RECIPIENTS fresh addresses (default 50,000).
// 2. Baseline, same run: a solo node on a genesis that funds the senders takes the very same
//    signed transfers the same way; its committed transfers/s (commit is final on a solo node).
// 3. Starts 3 nats-servers (JetStream, R3) and 3 validator processes on a `cluster init` genesis,
//    funds the senders from the dev account, then submits the transfers over HTTP in batches of
//    BENCH_BATCH (1,000), no wait, BENCH_INFLIGHT (2) in flight per node, each sender's txs
//    always to the same node (senders spread evenly over the three). Reports committed
//    transfers/s from the first submit to the moment the block holding the last transfer is
//    final on all three nodes (websocket `type=final` events, timestamped on arrival here).
// 4. Offers half that rate for BENCH_LATENCY_SECONDS (20), a batch to each node every 50 ms, and
//    reports finality latency p50/p99: per tx, from the start of its HTTP submit to the arrival
//    of the `final` event covering its block's height from the node it was submitted to. Heights
//    come from the blocks' tx lists (GET /v1/blocks/{h}) after the load, so nothing extra loads
//    the nodes while they are timed.
// 5. Reports the cluster / solo ratio and each process's peak RSS, stops everything and removes
//    the temp dirs. BENCH_PROFILE=DIR makes every node write a V8 CPU profile into DIR.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { deriveAddress, toHex } from '../src/crypto/index.js';
import { initCluster } from '../src/node/cluster-init.js';
import { initDataDir } from '../src/node/data-dir.js';
import {
  createClient,
  generateKey,
  signTx,
  txs,
  type CofferClient,
  type SignedTx,
  type SigningKey,
} from '../src/sdk/index.js';
import { NatsCluster } from '../test/support/nats.js';
import { verifyCeiling } from './verify-ceiling.js';

const env = process.env;
const txCount = Number(env.BENCH_TXS ?? 60_000);
const senderCount = Number(env.BENCH_ACCOUNTS ?? 2_000);
/**
 * 0 (default): transfers go between the funded senders, existing accounts, as in the solo
 * benchmark; N: to N fresh addresses (each first transfer to one creates an account).
 */
const recipientCount = Number(env.BENCH_RECIPIENTS ?? 0);
const batchSize = Number(env.BENCH_BATCH ?? 1_000);
const inflight = Number(env.BENCH_INFLIGHT ?? 2);
const latencySeconds = Number(env.BENCH_LATENCY_SECONDS ?? 20);
const timeoutMs = Number(env.BENCH_TIMEOUT_SECONDS ?? 600) * 1000;
const validatorCount = 3;
/** BENCH_TRACE=1: print every block and final event as it arrives, with its arrival time. */
const trace = env.BENCH_TRACE === '1';
const root = path.resolve(import.meta.dirname, '..');
const cliPath = path.join(root, 'dist/src/cli/main.js');
const chainId = 'coffer-bench-cluster';
const nodeEnv = { ...env, COFFER_BLOCK_TXS_MAX: '10000', COFFER_MEMPOOL_TXS_MAX: '1000000' };

function progress(label: string, done: number, total: number): void {
  if (!process.stdout.isTTY) return;
  const width = 30;
  const filled = Math.min(width, Math.round((done / total) * width));
  process.stdout.write(
    `\r${label.padEnd(10)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`,
  );
  if (done >= total) process.stdout.write('\n');
}

function rssPeakMb(pid: number | undefined): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

/** Everything started, stopped at the end or on exit. */
const children: ChildProcess[] = [];
const tempDirs: string[] = [];
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** One node process and its `type=block,final` event feed, timestamped on arrival. */
class BenchNode {
  readonly client: CofferClient;
  /** Arrival time of each `final` event, in order: everything up to `height` is final. */
  private readonly finals: { height: number; at: number }[] = [];
  private socket: WebSocket | undefined;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly url: string,
  ) {
    this.client = createClient(url, { timeoutMs: timeoutMs });
  }

  static async start(name: string, dataDir: string, extra: string[]): Promise<BenchNode> {
    const profile = env.BENCH_PROFILE
      ? ['--cpu-prof', '--cpu-prof-dir', env.BENCH_PROFILE, '--cpu-prof-name', `${name}.cpuprofile`]
      : [];
    const child = spawn(
      process.execPath,
      [
        ...profile,
        cliPath,
        'start',
        '--data-dir',
        dataDir,
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--log-level',
        'warn',
        ...extra,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], env: nodeEnv },
    );
    children.push(child);
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /listening on (http:\/\/\S+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.on('exit', (code) => reject(new Error(`node ${name} exited with ${code}`)));
    });
    const node = new BenchNode(name, child, url);
    await node.watch();
    return node;
  }

  private async watch(): Promise<void> {
    const socket = new WebSocket(
      `${this.url.replace(/^http/, 'ws')}/v1/events?type=final${trace ? ',block' : ''}`,
    );
    this.socket = socket;
    socket.on('message', (data: Buffer) => {
      const at = performance.now();
      const message = JSON.parse(data.toString()) as { kind: string; height: number };
      if (message.kind === 'final') this.finals.push({ height: message.height, at });
      if (trace) console.log(`${(at / 1000).toFixed(3)} ${this.name} ${data.toString()}`);
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
  }

  get finalizedHeight(): number {
    return this.finals.at(-1)?.height ?? 0;
  }

  /** When this bench learned that `height` is final on this node (undefined: not yet). */
  finalAt(height: number): number | undefined {
    let lo = 0;
    let hi = this.finals.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.finals[mid]!.height >= height) hi = mid;
      else lo = mid + 1;
    }
    return this.finals[lo]?.at;
  }

  async stop(): Promise<void> {
    this.socket?.close();
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    // SIGINT lets a profiled node write its profile; otherwise no need to wait for a clean stop.
    this.child.kill(env.BENCH_PROFILE ? 'SIGINT' : 'SIGKILL');
    await exited;
  }
}

interface LoadResult {
  start: number;
  accepted: number;
  rejected: Map<string, number>;
  /** Each submitted tx's hash, with the HTTP submit's start time and the node index. */
  sent: Map<string, { at: number; node: number }>;
}

/** Submits `perNode[i]` to node i, `inflight` batches at a time per node, no wait. */
async function submitAll(nodes: BenchNode[], perNode: SignedTx[][][], workers: number) {
  const result: LoadResult = {
    start: performance.now(),
    accepted: 0,
    rejected: new Map(),
    sent: new Map(),
  };
  const total = perNode.flat(2).length;
  await Promise.all(
    perNode.flatMap((batches, index) => {
      let next = 0;
      return Array.from({ length: workers }, async () => {
        while (next < batches.length) {
          const batch = batches[next++]!;
          await submitBatch(nodes[index]!, index, batch, result);
          progress('load', result.accepted + sum(result.rejected), total);
        }
      });
    }),
  );
  return result;
}

async function submitBatch(
  node: BenchNode,
  index: number,
  batch: SignedTx[],
  result: LoadResult,
): Promise<void> {
  const at = performance.now();
  const answer = await node.client.submitBatch(batch);
  for (const item of answer.results) {
    if ('error' in item || !item.hash) {
      const code = 'error' in item ? item.error.code : 'unknown';
      result.rejected.set(code, (result.rejected.get(code) ?? 0) + 1);
    } else {
      result.accepted++;
      result.sent.set(item.hash, { at, node: index });
    }
  }
}

function sum(counts: Map<string, number>): number {
  let total = 0;
  for (const n of counts.values()) total += n;
  return total;
}

function describeRejections(counts: Map<string, number>): string {
  return [...counts].map(([code, n]) => `${n} ${code}`).join(', ') || 'none';
}

/**
 * The height of every hash in `wanted`, read from node 0's blocks above `fromHeight` once they
 * are committed there (after the timed part: these reads load the node).
 */
async function heightsOf(
  node: BenchNode,
  fromHeight: number,
  wanted: ReadonlySet<string>,
): Promise<{ heights: Map<string, number>; last: number }> {
  const heights = new Map<string, number>();
  let height = fromHeight;
  await until(`${wanted.size} txs committed on ${node.name}`, async () => {
    const head = (await node.client.health()).height;
    for (; height < head; height++) {
      const block = await node.client.getBlock(height + 1);
      for (const hash of block.txs) if (wanted.has(hash)) heights.set(hash, height + 1);
    }
    return heights.size >= wanted.size;
  });
  return { heights, last: Math.max(...heights.values()) };
}

/** When `height` was final on every node, as this bench learned it. */
async function finalOnAll(nodes: BenchNode[], height: number): Promise<number> {
  await until(`height ${height} final on every node`, () =>
    nodes.every((n) => n.finalAt(height) !== undefined),
  );
  return Math.max(...nodes.map((n) => n.finalAt(height)!));
}

function transfer(from: SigningKey, nonce: number, to: string): SignedTx {
  return signTx(
    { chainId, sender: from.address, nonce, ...txs.transfer({ to, asset: 'USD', amount: '1' }) },
    from,
  );
}

/** Batches for each node: sender a goes to node a % nodes, in nonce order. */
function spread(signed: SignedTx[], senderIndex: Map<string, number>, nodes: number) {
  const perNode: SignedTx[][] = Array.from({ length: nodes }, () => []);
  for (const tx of signed) perNode[senderIndex.get(tx.sender)! % nodes]!.push(tx);
  return perNode.map((list) => {
    const batches: SignedTx[][] = [];
    for (let i = 0; i < list.length; i += batchSize) batches.push(list.slice(i, i + batchSize));
    return batches;
  });
}

interface Throughput {
  perSecond: number;
  accepted: number;
  rejected: Map<string, number>;
  blocks: number;
  seconds: number;
}

/** Submits `signed` over `nodes` and waits until the last of them is final on all of them. */
async function measureThroughput(
  nodes: BenchNode[],
  signed: SignedTx[],
  senderIndex: Map<string, number>,
  workers: number,
): Promise<Throughput> {
  const startHeight = (await nodes[0]!.client.health()).height;
  const load = await submitAll(nodes, spread(signed, senderIndex, nodes.length), workers);
  const { last } = await heightsOf(nodes[0]!, startHeight, new Set(load.sent.keys()));
  const end = await finalOnAll(nodes, last);
  const seconds = (end - load.start) / 1000;
  return {
    perSecond: load.accepted / seconds,
    accepted: load.accepted,
    rejected: load.rejected,
    blocks: last - startHeight,
    seconds,
  };
}

async function main(): Promise<void> {
  if (!fs.existsSync(cliPath)) throw new Error('run `npm run build` first (npm run bench does)');
  const rows: [string, string][] = [];
  const report = (key: string, value: string) => {
    rows.push([key, value]);
    if (!process.stdout.isTTY) console.log(`${key}: ${value}`);
  };
  report(
    'machine',
    `${os.availableParallelism()} cores, ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}`,
  );
  if (env.BENCH_PROFILE) fs.mkdirSync(env.BENCH_PROFILE, { recursive: true });

  // 1. Pre-sign: each sender its share with consecutive nonces (to each other, or to fresh recipients).
  const senders = Array.from({ length: senderCount }, () => generateKey());
  const senderIndex = new Map(senders.map((s, i) => [s.address, i]));
  const fresh = Array.from({ length: recipientCount }, (_, i) =>
    deriveAddress('bench-recipient', String(i)),
  );
  // Never the sender itself: sender a pays sender a + 1 + (i mod (S - 1)).
  const recipientAt = (i: number, a: number) =>
    recipientCount > 0
      ? fresh[i % recipientCount]!
      : senders[(a + 1 + (i % (senderCount - 1))) % senderCount]!.address;
  const nextNonce = new Array<number>(senderCount).fill(0);
  const signed: SignedTx[] = [];
  for (let n = 0; signed.length < txCount; n++) {
    for (let a = 0; a < senderCount && signed.length < txCount; a++) {
      const to = recipientAt(n * senderCount + a, a);
      signed.push(transfer(senders[a]!, nextNonce[a]!++, to));
    }
    progress('signing', signed.length, txCount);
  }
  report(
    'load',
    `${txCount} signed transfers from ${senderCount} senders to ${recipientCount > 0 ? `${recipientCount} fresh recipients` : 'each other'}; batches of ${batchSize}, ${inflight} in flight per node, no wait`,
  );

  // 2. Baseline: a solo node, the same transfers, the same client, 3x the in-flight batches.
  const soloDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-bench-solo-'));
  tempDirs.push(soloDir);
  const issuer = generateKey();
  initDataDir({
    dataDir: soloDir,
    chainId,
    now: Date.now(),
    genesis: {
      chainId,
      time: Date.now(),
      producer: issuer.address, // replaced by the generated producer key
      assets: [{ symbol: 'USD', decimals: 2, issuer: issuer.address }],
      balances: senders.map((s) => ({ address: s.address, asset: 'USD', amount: '10000' })),
    },
  });
  const solo = await BenchNode.start('solo', soloDir, []);
  const soloResult = await measureThroughput(
    [solo],
    signed,
    senderIndex,
    inflight * validatorCount,
  );
  const soloRss = rssPeakMb(solo.child.pid);
  await solo.stop();
  report(
    'solo node, committed transfers/s',
    `${Math.round(soloResult.perSecond)} tx/s (${soloResult.accepted} in ${soloResult.seconds.toFixed(1)} s, ${soloResult.blocks} blocks, rejected: ${describeRejections(soloResult.rejected)}; peak RSS ${soloRss.toFixed(0)} MB)`,
  );

  // 3. The cluster: 3 nats-servers, 3 validators, senders funded from the dev account.
  const clusterParent = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-bench-cluster-'));
  tempDirs.push(clusterParent);
  const nats = await NatsCluster.start({ servers: validatorCount, dir: clusterParent });
  try {
    const init = initCluster({
      dir: path.join(clusterParent, 'cluster'),
      validators: validatorCount,
      chainId,
      now: Date.now(),
    });
    const nodes: BenchNode[] = [];
    for (const validator of init.validators) {
      nodes.push(
        await BenchNode.start(validator.name, validator.dataDir, [
          '--cluster',
          nats.urls.join(','),
          '--validator',
          validator.name,
        ]),
      );
    }
    const dev: SigningKey = {
      address: init.devAccount.address,
      secretKey: toHex(init.devAccount.secretKey),
    };
    const devNonce = (await nodes[0]!.client.getAccount(dev.address)).nonce;
    // The dev account may have at most 1,000 txs pending (mempoolPerSenderMax): rounds of 1,000.
    for (let from = 0; from < senderCount; from += 1_000) {
      const batch = senders.slice(from, from + 1_000).map((s, i) =>
        signTx(
          {
            chainId,
            sender: dev.address,
            nonce: devNonce + from + i,
            ...txs.transfer({ to: s.address, asset: 'USD', amount: '10000' }),
          },
          dev,
        ),
      );
      const answer = await nodes[0]!.client.submitBatch(batch, { wait: 'commit' });
      const failed = answer.results.filter((r) => r.status !== 'ok');
      if (failed.length > 0) throw new Error(`funding failed: ${JSON.stringify(failed[0])}`);
    }
    const funded = (await nodes[0]!.client.health()).height;
    await finalOnAll(nodes, funded);
    report('cluster', `3 nats-servers (JetStream R3), ${validatorCount} validator processes`);

    const cluster = await measureThroughput(nodes, signed, senderIndex, inflight);
    report(
      'cluster, committed transfers/s',
      `${Math.round(cluster.perSecond)} tx/s (${cluster.accepted} final on all 3 nodes in ${cluster.seconds.toFixed(1)} s, ${cluster.blocks} blocks, rejected: ${describeRejections(cluster.rejected)}; target >= 8,000)`,
    );
    report(
      'ratio cluster / solo',
      `${(cluster.perSecond / soloResult.perSecond).toFixed(2)} (same transfers, same run)`,
    );
    // Every validator checks every signature: on one machine the cluster's ceiling is a third.
    const ceiling = await verifyCeiling(signed.slice(0, 30_000));
    report(
      'ed25519 verify ceiling, all cores',
      `${Math.round(ceiling)} verifies/s; a third of it (each tx checked on 3 nodes): ${Math.round(ceiling / 3)} tx/s`,
    );
    report(
      'ratio cluster / (verify ceiling / 3)',
      `${(cluster.perSecond / (ceiling / 3)).toFixed(2)} (same run)`,
    );

    // 4. Finality latency at half load: a batch to each node every 50 ms.
    const rate = cluster.perSecond / 2;
    const tickMs = 50;
    const perNodeTick = Math.max(1, Math.round((rate * tickMs) / 1000 / validatorCount));
    const ticks = Math.round((latencySeconds * 1000) / tickMs);
    const partitions = Array.from({ length: validatorCount }, (_, k) =>
      senders.map((_, a) => a).filter((a) => a % validatorCount === k),
    );
    const plan: SignedTx[][][] = [];
    for (let t = 0; t < ticks; t++) {
      plan.push(
        partitions.map((partition) =>
          Array.from({ length: perNodeTick }, (_, i) => {
            const a = partition[(t * perNodeTick + i) % partition.length]!;
            const to = recipientAt(t * perNodeTick + i, a);
            return transfer(senders[a]!, nextNonce[a]!++, to);
          }),
        ),
      );
    }
    const startHeight = (await nodes[0]!.client.health()).height;
    const latencyLoad: LoadResult = {
      start: performance.now(),
      accepted: 0,
      rejected: new Map(),
      sent: new Map(),
    };
    const pending: Promise<void>[] = [];
    for (let t = 0; t < ticks; t++) {
      const wait = latencyLoad.start + t * tickMs - performance.now();
      if (wait > 0) await delay(wait);
      plan[t]!.forEach((batch, index) =>
        pending.push(submitBatch(nodes[index]!, index, batch, latencyLoad)),
      );
      progress('latency', t + 1, ticks);
    }
    await Promise.all(pending);
    const { heights, last } = await heightsOf(
      nodes[0]!,
      startHeight,
      new Set(latencyLoad.sent.keys()),
    );
    await finalOnAll(nodes, last);
    const latencies: number[] = [];
    for (const [hash, { at, node }] of latencyLoad.sent) {
      latencies.push(nodes[node]!.finalAt(heights.get(hash)!)! - at);
    }
    latencies.sort((a, b) => a - b);
    report(
      'submit-to-final latency at half load',
      `p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms, max ${latencies.at(-1)?.toFixed(0)} ms (${Math.round(rate)} tx/s offered, ${latencies.length} final, rejected: ${describeRejections(latencyLoad.rejected)}; target p99 <= 1,000 ms)`,
    );
    report(
      'peak RSS',
      nodes.map((n) => `${n.name} ${rssPeakMb(n.child.pid).toFixed(0)} MB`).join(', '),
    );
    await Promise.all(nodes.map((n) => n.stop()));
  } finally {
    await nats.stop();
  }

  if (process.stdout.isTTY) {
    const width = Math.max(...rows.map(([k]) => k.length));
    console.log();
    for (const [key, value] of rows) console.log(`${key.padEnd(width)}  ${value}`);
  }
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
