// The gap-flood benchmark (issue 13): `npm run bench -- flood`. Not a test: it measures, it does
// not assert.
//
// 1. Writes a genesis funding BENCH_ACCOUNTS honest senders (default 200) and
//    BENCH_STATE_ACCOUNTS other accounts (default 100,000), and starts the built node on it as a
//    child process with its default mempool limits (200,000 txs, a tenth of them gapped, 16
//    gapped per sender, gapped txs expire after 30 s).
// 2. Pre-signs the honest loads, BENCH_TXS transfers each (default 20,000), every sender with
//    consecutive nonces, and the flood: BENCH_FLOOD_KEYS fresh unfunded keys (default 2,000) each
//    signing nonces 1..BENCH_FLOOD_NONCES (default 50); nonce 0 never comes, so none can run.
// 3. Runs one honest load to warm the node up (not measured), then alternates: without the flood
//    (baseline), with it, BENCH_ROUNDS times (default 2), and a last baseline, so drift (state
//    growth, other work on the machine) hits both sides alike. Each load goes in batches of
//    BENCH_BATCH (2,000), BENCH_INFLIGHT (4) at a time, answered at commit. During a flooded run
//    the flood is sent as fast as BENCH_FLOOD_INFLIGHT (2) batches of 2,000 in flight go, cycling
//    over its pre-signed txs (one sent again after it expired or was evicted is checked again).
// 4. Reports committed honest transfers/s of every run, the ratio of the flooded runs' mean to
//    the baselines' mean (target >= 0.8), how many flood txs were offered per second and what the
//    node answered them, the node's pending txs at the end of each flood, and per run the node's
//    CPU per committed honest transfer (from /proc) and this process's CPU (the honest client and,
//    in flooded runs, the flooder: the attacker shares the machine's two cores here).
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
  type CofferClient,
  type SignedTx,
  type SigningKey,
} from '../src/sdk/index.js';

const env = process.env;
const txCount = Number(env.BENCH_TXS ?? 20_000);
const rounds = Number(env.BENCH_ROUNDS ?? 2);
const senderCount = Number(env.BENCH_ACCOUNTS ?? 200);
const stateAccounts = Number(env.BENCH_STATE_ACCOUNTS ?? 100_000);
const batchSize = Number(env.BENCH_BATCH ?? 2_000);
const inflight = Number(env.BENCH_INFLIGHT ?? 4);
const floodKeys = Number(env.BENCH_FLOOD_KEYS ?? 2_000);
const floodNonces = Number(env.BENCH_FLOOD_NONCES ?? 50);
const floodInflight = Number(env.BENCH_FLOOD_INFLIGHT ?? 2);
const floodBatch = 2_000;
const root = path.resolve(import.meta.dirname, '..');
const chainId = 'coffer-bench-flood';

function transfer(from: SigningKey, nonce: number, to: string): SignedTx {
  return signTx(
    { chainId, sender: from.address, nonce, ...txs.transfer({ to, asset: 'USD', amount: '1' }) },
    from,
  );
}

async function startNode(dataDir: string) {
  const main = path.join(root, 'dist/src/cli/main.js');
  if (!fs.existsSync(main)) throw new Error('run `npm run build` first (npm run bench does)');
  const child = spawn(
    process.execPath,
    [main, 'start', '--data-dir', dataDir, '--port', '0', '--log-level', 'warn'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...env, COFFER_BLOCK_TXS_MAX: '10000' },
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

/** CPU seconds a process has used (user + system), from /proc: ticks of 1/100 s on Linux. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Submits the honest load, `inflight` batches at a time, each answered at commit. */
async function honestRun(client: CofferClient, signed: SignedTx[]) {
  const batches: SignedTx[][] = [];
  for (let i = 0; i < signed.length; i += batchSize) batches.push(signed.slice(i, i + batchSize));
  let next = 0;
  let committed = 0;
  let failed = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (next < batches.length) {
        const answer = await client.submitBatch(batches[next++]!, { wait: 'commit' });
        for (const result of answer.results) {
          if (result.status === 'ok') committed++;
          else failed++;
        }
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { perSecond: committed / seconds, committed, failed, seconds };
}

async function main(): Promise<void> {
  const report = (key: string, value: string) => console.log(`${key}: ${value}`);
  report(
    'machine',
    `${os.availableParallelism()} cores, ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}`,
  );
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-bench-flood-'));
  process.on('exit', () => fs.rmSync(dataDir, { recursive: true, force: true }));
  const senders = Array.from({ length: senderCount }, () => generateKey());
  const issuer = generateKey();
  const holders = Array.from({ length: stateAccounts }, (_, i) =>
    deriveAddress('bench', String(i)),
  );
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
  report('state', `${senderCount + stateAccounts} funded accounts in genesis`);

  // Three honest loads, consecutive nonces per sender across them.
  const nextNonce = new Array<number>(senderCount).fill(0);
  const load = (run: number): SignedTx[] => {
    const signed: SignedTx[] = [];
    for (let n = 0; signed.length < txCount; n++) {
      for (let a = 0; a < senderCount && signed.length < txCount; a++) {
        const to = holders[(run * txCount + signed.length) % holders.length]!;
        signed.push(transfer(senders[a]!, nextNonce[a]!++, to));
      }
    }
    return signed;
  };
  const loads = Array.from({ length: 2 + 2 * rounds }, (_, run) => load(run));
  const flood: SignedTx[] = [];
  for (let k = 0; k < floodKeys; k++) {
    const key = generateKey();
    for (let nonce = 1; nonce <= floodNonces; nonce++) {
      flood.push(transfer(key, nonce, senders[k % senderCount]!.address));
    }
  }
  report('signed', `${loads.length} x ${txCount} honest transfers, ${flood.length} flood txs`);

  const { child, url } = await startNode(dataDir);
  const client = createClient(url, { timeoutMs: 600_000 });
  let failed = 0;
  // Per run: the node's CPU per committed honest transfer, and this process's (the clients', the
  // flooder's too) CPU per second, both sharing the machine's cores.
  const nodeCpu: { base: number[]; flood: number[] } = { base: [], flood: [] };
  const run = async (label: string, signed: SignedTx[], kind?: 'base' | 'flood') => {
    const nodeBefore = cpuSeconds(child.pid!);
    const clientBefore = process.cpuUsage();
    const result = await honestRun(client, signed);
    const nodeUs = ((cpuSeconds(child.pid!) - nodeBefore) * 1e6) / result.committed;
    const own = process.cpuUsage(clientBefore);
    const clientShare = (own.user + own.system) / 1e6 / result.seconds;
    if (kind) nodeCpu[kind].push(nodeUs);
    failed += result.failed;
    report(
      label,
      `${Math.round(result.perSecond)} honest transfers/s (${result.committed} ok, ${result.failed} failed); node CPU ${Math.round(nodeUs)} us per transfer, this process ${clientShare.toFixed(2)} cores`,
    );
    return result.perSecond;
  };

  let position = 0;
  const flooded = async (label: string, signed: SignedTx[]) => {
    let flooding = true;
    let offered = 0;
    const answers = new Map<string, number>();
    const floodStart = performance.now();
    const flooder = Promise.all(
      Array.from({ length: floodInflight }, async () => {
        while (flooding) {
          const batch = flood.slice(position, position + floodBatch);
          position = (position + floodBatch) % flood.length;
          const answer = await client.submitBatch(batch);
          offered += batch.length;
          for (const result of answer.results) {
            const code = 'error' in result ? result.error.code : result.status;
            answers.set(code, (answers.get(code) ?? 0) + 1);
          }
        }
      }),
    );
    const perSecond = await run(label, signed, 'flood');
    const pendingAtEnd = (await client.health()).pendingTxs;
    flooding = false;
    await flooder;
    const seconds = (performance.now() - floodStart) / 1000;
    report(
      '  the flood',
      `${Math.round(offered / seconds)} gapped txs/s offered from ${floodKeys} unfunded keys (${offered} in ${seconds.toFixed(1)} s); answers ${JSON.stringify(Object.fromEntries([...answers].sort()))}; node pending at the end ${pendingAtEnd}`,
    );
    return perSecond;
  };

  await run('warm-up (not counted)', loads[0]!);
  const baselines: number[] = [];
  const floods: number[] = [];
  let next = 1;
  for (let r = 0; r < rounds; r++) {
    baselines.push(await run(`baseline ${r + 1}, no flood`, loads[next++]!, 'base'));
    floods.push(await flooded(`flooded ${r + 1}`, loads[next++]!));
  }
  baselines.push(await run(`baseline ${rounds + 1}, no flood`, loads[next]!, 'base'));
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  report(
    'ratio flooded / baseline (means)',
    `${(mean(floods) / mean(baselines)).toFixed(2)} (${Math.round(mean(floods))} / ${Math.round(mean(baselines))} transfers/s; target >= 0.8)`,
  );
  report(
    'node CPU per honest transfer, flooded / baseline (means)',
    `${(mean(nodeCpu.flood) / mean(nodeCpu.base)).toFixed(2)} (${Math.round(mean(nodeCpu.flood))} / ${Math.round(mean(nodeCpu.base))} us, the flood's own cost included)`,
  );
  child.kill('SIGKILL');
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
