// `npm run bench -- tokens`: provisions and lifecycle events per second through the API of a node
// process (issue 17), each against a baseline of plain transfers measured in the same run on the
// same node. Not a test: it measures, it does not assert.
//
// 1. Starts the built node (BENCH_TOKENS_BLOCK_MS, default 50 ms blocks) with a vault key file;
//    its operator key configures a token BIN and registers an issuer and a requestor per client
//    (a participant has at most 8 relays in flight); the dev account funds BENCH_TOKENS_CONCURRENCY
//    (16) senders.
// 2. Provisions: BENCH_TOKENS_CONCURRENCY workers each POST /v1/tokens one after another (each
//    answers once final: checks, token draw, AES-GCM envelope, HMAC, the node's own tx), for
//    BENCH_TOKENS_PROVISIONS (1,000) in all. Baseline: the same workers each send signed
//    transfers with ?wait=commit one after another, as many in all.
// 3. Lifecycle events: the issuer suspends then resumes every provisioned token, pre-signed txs
//    submitted in batches of BENCH_TOKENS_BATCH (100) with ?wait=commit, one batch at a time.
//    Baseline: as many transfers from the dev account in the same batches.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import {
  luhnCheckDigit,
  signProvisionRequest,
  tokenServiceTxs,
} from '../src/modules/tokens/client.js';
import { newVaultKeyDocument } from '../src/modules/tokens/vault.js';
import {
  createClient,
  generateKey,
  importKey,
  signTx,
  txs,
  type CofferClient,
  type SignedTx,
  type SigningKey,
} from '../src/sdk/index.js';
import { childEnv, cliPath } from '../test/support/cli.js';
import { NodeProcess, assertBuilt } from '../test/support/node-process.js';

const env = process.env;
const provisions = Number(env.BENCH_TOKENS_PROVISIONS ?? 1_000);
const concurrency = Number(env.BENCH_TOKENS_CONCURRENCY ?? 16);
const batchSize = Number(env.BENCH_TOKENS_BATCH ?? 100);
const blockMs = Number(env.BENCH_TOKENS_BLOCK_MS ?? 50);
const issuerBin = '456789';
const tokenBin = '990001';

const quantile = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))]!;

function keyFile(file: string): SigningKey {
  return importKey((JSON.parse(fs.readFileSync(file, 'utf8')) as { secretKey: string }).secretKey);
}

async function main(): Promise<void> {
  assertBuilt(cliPath);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-bench-tokens-'));
  const dataDir = path.join(dir, 'node');
  const vaultFile = path.join(dir, 'vault.json');
  fs.writeFileSync(vaultFile, JSON.stringify(newVaultKeyDocument()), { mode: 0o600 });
  const node = NodeProcess.spawn({
    cliPath,
    dataDir,
    blockIntervalMs: blockMs,
    logLevel: 'warn',
    env: { ...childEnv, COFFER_VAULT_KEY_FILE: vaultFile },
    startTimeoutMs: 20_000,
  });
  try {
    const { url } = await node.listening();
    const client = createClient(url);
    const { chainId } = await client.health();
    const operator = keyFile(path.join(dataDir, 'producer-key.json'));
    const dev = keyFile(path.join(dataDir, 'dev-account.json'));
    const issuer = generateKey();
    // One requestor a client: a participant has at most 8 relays in flight at a node.
    const requestors = Array.from({ length: concurrency }, () => generateKey());
    const senders = Array.from({ length: concurrency }, () => generateKey());
    await setUp(client, operator, dev, issuer, requestors, senders);

    const sign = (key: SigningKey, nonce: number, tx: { type: string; payload: object }) =>
      signTx({ chainId, sender: key.address, nonce, ...tx } as never, key);

    // Provisions against single transfers at the same concurrency.
    const senderNonce = senders.map(() => 0);
    const transfers = await workers(provisions, async (worker) => {
      const tx = sign(senders[worker]!, senderNonce[worker]!++, transferTo(dev.address));
      await client.submit(tx, { wait: 'commit' });
    });
    const tokens: string[] = [];
    let request = 0;
    const provisioned = await workers(provisions, async (worker) => {
      request += 1;
      const body = (request * 7919).toString().padStart(9, '0').slice(-9);
      const pan = issuerBin + body;
      const answer = await client.tokens.provision(
        signProvisionRequest(requestors[worker]!, chainId, {
          requestId: `bench-${request}`,
          pan: pan + luhnCheckDigit(pan),
          expiry: '2030-12',
          domain: { channels: ['ecommerce'], merchantIds: [] },
          assuranceLevel: 'high',
        }),
      );
      tokens.push(answer.token!.token);
    });

    // Lifecycle events against transfers, in the same batches.
    let issuerNonce = (await client.getAccount(issuer.address)).nonce;
    let devNonce = (await client.getAccount(dev.address)).nonce;
    const event = (type: string, seq: number) => (token: string) =>
      sign(issuer, issuerNonce++, {
        type,
        payload: { token, seq, initiator: 'issuer', reason: 'customer_request' },
      });
    const transferBatch = await batches(client, tokens.length * 2, () =>
      sign(dev, devNonce++, transferTo(issuer.address)),
    );
    const suspensions = tokens.map(event('token.suspend', 1));
    const resumptions = tokens.map(event('token.resume', 2));
    const all = [...suspensions, ...resumptions];
    const lifecycle = await batches(client, all.length, (i) => all[i]!);

    const rate = (n: number, ms: number) => Math.round((n * 1000) / ms);
    const provisionRate = rate(provisions, provisioned.ms);
    const transferRate = rate(provisions, transfers.ms);
    const eventRate = rate(all.length, lifecycle.ms);
    const batchRate = rate(all.length, transferBatch.ms);
    const rows: [string, string][] = [
      [
        `transfers/s, ${concurrency} clients, one at a time, ?wait=commit (baseline)`,
        `${transferRate}`,
      ],
      [`provisions/s, ${concurrency} clients, each final before the next`, `${provisionRate}`],
      ['ratio provisions / transfers', (provisionRate / transferRate).toFixed(2)],
      [
        'provision latency p50 / p99 (transfer p50 / p99)',
        `${Math.round(quantile(provisioned.latencies, 0.5))} / ${Math.round(quantile(provisioned.latencies, 0.99))} ms (${Math.round(quantile(transfers.latencies, 0.5))} / ${Math.round(quantile(transfers.latencies, 0.99))} ms)`,
      ],
      [`transfers/s in batches of ${batchSize} (baseline)`, `${batchRate}`],
      [`lifecycle events/s in batches of ${batchSize} (suspend, resume)`, `${eventRate}`],
      ['ratio lifecycle events / transfers', (eventRate / batchRate).toFixed(2)],
    ];
    const width = Math.max(...rows.map(([name]) => name.length));
    process.stdout.write(
      `tokens bench: ${provisions} provisions, ${all.length} lifecycle events, ${blockMs} ms blocks, ${os.cpus().length} cores\n`,
    );
    for (const [name, value] of rows) process.stdout.write(`${name.padEnd(width)}  ${value}\n`);
  } finally {
    await node.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function transferTo(to: string) {
  return txs.transfer({ to, asset: 'USD', amount: '1' });
}

/** Runs `total` tasks on `concurrency` workers: the wall time and each task's latency (ms). */
async function workers(
  total: number,
  task: (worker: number) => Promise<void>,
): Promise<{ ms: number; latencies: number[] }> {
  let started = 0;
  const latencies: number[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (started < total) {
        started += 1;
        const t = performance.now();
        await task(worker);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { ms: performance.now() - start, latencies };
}

/** Signs `total` txs (untimed), then submits them in batches one at a time (timed). */
async function batches(
  client: CofferClient,
  total: number,
  make: (i: number) => SignedTx,
): Promise<{ ms: number }> {
  const signed = Array.from({ length: total }, (_, i) => make(i));
  const start = performance.now();
  for (let i = 0; i < signed.length; i += batchSize) {
    const answer = await client.submitBatch(signed.slice(i, i + batchSize), { wait: 'commit' });
    const failed = answer.results.find((r) => r.status !== 'ok');
    if (failed) throw new Error(`a batch tx failed: ${JSON.stringify(failed)}`);
  }
  return { ms: performance.now() - start };
}

async function setUp(
  client: CofferClient,
  operator: SigningKey,
  dev: SigningKey,
  issuer: SigningKey,
  requestors: SigningKey[],
  senders: SigningKey[],
): Promise<void> {
  const must = async (key: SigningKey, tx: { type: string; payload: object }) => {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const result = await client.send(key, tx as never);
        if (result.status !== 'ok') throw new Error(`${tx.type}: ${result.status}`);
        return;
      } catch (error) {
        // The operator's key is the node's own too: retry a nonce the node just took.
        if (attempt < 5 && String((error as { code?: string }).code).startsWith('nonce')) continue;
        throw error;
      }
    }
  };
  await must(operator, tokenServiceTxs.configure([tokenBin]));
  await must(
    operator,
    tokenServiceTxs.registerParticipant({
      address: issuer.address,
      name: 'Bench Bank',
      roles: ['issuer'],
      bins: [issuerBin],
    }),
  );
  for (const [i, requestor] of requestors.entries()) {
    await must(
      operator,
      tokenServiceTxs.registerParticipant({
        address: requestor.address,
        name: `Bench Pay ${i}`,
        roles: ['requestor'],
      }),
    );
  }
  for (const key of [...senders, issuer]) {
    await must(dev, txs.transfer({ to: key.address, asset: 'USD', amount: '100000' }));
  }
}

await main();
