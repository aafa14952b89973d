// Main-thread cost of admission: `node --import tsx bench/admission.ts`. Not a test: it measures.
//
// Opens a solo node in-process without producing blocks and submits BENCH_TXS (default 20,000)
// pre-signed transfers from BENCH_ACCOUNTS (default 1,000) senders through `node.submit` in
// batches of BENCH_BATCH (default 2,000), as the batch route does once Fastify parsed the body
// (parsing is left out: it costs the same before and after). Reports per tx the main thread's
// CPU time (Linux: /proc/self/task/<pid>/stat, this thread only, not the verify workers' nor
// V8's helper threads; it does not count time the thread waits for a core, unlike wall-clock
// measures on a busy machine), its busy time (performance.eventLoopUtilization) and wall time.
//
// BENCH_PROFILE=<file.cpuprofile> writes a CPU profile of the measured loop only.
//
// BENCH_ADMISSION_ROOT runs the same measure against another checkout's sources (for example
// the commit before decode moved into the workers): `BENCH_ADMISSION_ROOT=/path/to/checkout`.
import fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const env = process.env;
const txCount = Number(env.BENCH_TXS ?? 20_000);
const senderCount = Number(env.BENCH_ACCOUNTS ?? 1_000);
const batchSize = Number(env.BENCH_BATCH ?? 2_000);
const root = path.resolve(env.BENCH_ADMISSION_ROOT ?? path.join(import.meta.dirname, '..'));

async function load<T>(file: string): Promise<T> {
  return (await import(pathToFileURL(path.join(root, file)).href)) as T;
}

type Submit = (inputs: unknown[], wait: boolean) => Promise<{ error?: { code: string } }[]>;
interface NodeLike {
  submit: Submit;
  chain: { chainId: string };
  close(): Promise<void>;
}
interface Sdk {
  generateKey(): { address: string };
  signTx(body: Record<string, unknown>, key: unknown): Record<string, unknown>;
  txs: { transfer(p: { to: string; asset: string; amount: string }): Record<string, unknown> };
}

/** CPU time (ms) the main thread used so far, or NaN where /proc is not there. */
function mainThreadCpuMs(): number {
  try {
    const stat = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticksPerSecond = 100; // USER_HZ on Linux
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return NaN;
  }
}

async function main(): Promise<void> {
  const { CofferNode } = await load<{
    CofferNode: { open(config: unknown): Promise<NodeLike> };
  }>('src/node/node.ts');
  const { parseNodeConfig } = await load<{
    parseNodeConfig: (flags: Record<string, unknown>, env: Record<string, string>) => unknown;
  }>('src/node/config.ts');
  const sdk = await load<Sdk>('src/sdk/index.ts');

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-admission-'));
  const config = parseNodeConfig(
    {
      dataDir,
      logLevel: 'silent',
      mempoolTxsMax: txCount * 2,
      mempoolSenderTxsPerSecondMax: txCount,
    },
    {},
  );
  const node = await CofferNode.open(config);
  try {
    const chainId = node.chain.chainId;
    const senders = Array.from({ length: senderCount }, () => sdk.generateKey());
    const to = sdk.generateKey().address;
    const perSender = Math.ceil(txCount / senderCount);
    const signed: Record<string, unknown>[] = [];
    for (let nonce = 0; nonce < perSender; nonce++) {
      for (const sender of senders) {
        if (signed.length >= txCount) break;
        const body = { chainId, sender: sender.address, nonce };
        signed.push(
          sdk.signTx({ ...body, ...sdk.txs.transfer({ to, asset: 'USD', amount: '1' }) }, sender),
        );
      }
    }
    // As Fastify hands them over: objects parsed from the request's JSON.
    const batches: unknown[][] = [];
    for (let i = 0; i < signed.length; i += batchSize) {
      batches.push(JSON.parse(JSON.stringify(signed.slice(i, i + batchSize))) as unknown[]);
    }
    // Warm-up: workers started, code compiled (a batch whose txs are refused as duplicates later).
    await node.submit(batches[0]!.slice(0, 200), false);

    const session = env.BENCH_PROFILE ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    const codes = new Map<string, number>();
    const start = performance.now();
    const busy0 = performance.eventLoopUtilization();
    const cpu0 = mainThreadCpuMs();
    for (const batch of batches) {
      const results = await node.submit(batch, false);
      for (const result of results) {
        const code = result.error?.code ?? 'pending';
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    }
    const busy = performance.eventLoopUtilization(busy0);
    const cpu = mainThreadCpuMs() - cpu0;
    const wall = performance.now() - start;
    if (session) {
      const { profile } = await session.post('Profiler.stop');
      fs.writeFileSync(env.BENCH_PROFILE!, JSON.stringify(profile));
      session.disconnect();
    }
    console.log(`root: ${root}`);
    console.log(
      `machine: ${os.availableParallelism()} cores, ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}`,
    );
    console.log(`txs: ${signed.length} from ${senderCount} senders, batches of ${batchSize}`);
    console.log(`results: ${JSON.stringify(Object.fromEntries(codes))}`);
    console.log(`main thread CPU: ${((cpu * 1000) / signed.length).toFixed(2)} µs/tx`);
    console.log(`main thread busy: ${((busy.active * 1000) / signed.length).toFixed(2)} µs/tx`);
    console.log(`wall: ${((wall * 1000) / signed.length).toFixed(2)} µs/tx`);
  } finally {
    await node.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
