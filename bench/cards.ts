// `npm run bench -- cards`: card authorisations per second through the API of a node process, and
// their latency at half that load (issue 18), each against plain transfers through the same API on
// the same node in the same run. It measures; the only things it asserts are that every
// authorisation was approved with a hold and that the holds add up to what the cardholders lost.
//
// 1. Starts the built node (BENCH_CARDS_BLOCK_MS, default 50 ms blocks) with a vault key file. Its
//    operator key configures a token BIN and registers an issuer (with a BIN), a requestor and
//    BENCH_CARDS_ACQUIRERS (4) acquirers with 3 merchant ids each. The issuer creates an asset and
//    funds the cardholders and the baseline's senders.
// 2. Cards: each a vault token (POST /v1/tokens, channel contactless), linked (tokensMax 100),
//    accepted by its cardholder, on 5 devices (ed25519 and X25519 keys made here); each device asks
//    for a batch of 100 card tokens (signed by the device) and opens the sealed keys. Untimed.
// 3. Warm-up: BENCH_CARDS_WARMUP (1,000) transfers and authorisations, untimed (a fresh node is cold).
// 4. Saturation: BENCH_CARDS_AUTHORISATIONS (3,000) pre-signed authorisations, BENCH_CARDS_INFLIGHT
//    (100, the node's relay cap) in flight spread over the acquirers (at most 25 each, a quarter of the relay cap), each answered
//    once its card.authorise is final. Baseline, before and after: as many signed transfers with
//    ?wait=commit, the same number in flight (one sender each); the ratio is to their mean.
// 5. Half load: authorisations offered open loop at half the measured rate for
//    BENCH_CARDS_LATENCY_SECONDS (10), each latency from its scheduled start; baseline, before and
//    after: transfers offered on the same schedule.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import { fromHex, toHex } from '../src/crypto/index.js';
import {
  boxKeySignedFields,
  cardTxs,
  cryptogram,
  newBoxKeyPair,
  openTokenKeys,
  randomBytes,
  signAuthorisation,
  signCardRequest,
  signMintRequest,
  type AuthoriseBody,
} from '../src/modules/cards/client.js';
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
const authorisations = Number(env.BENCH_CARDS_AUTHORISATIONS ?? 3_000);
const acquirerCount = Number(env.BENCH_CARDS_ACQUIRERS ?? 4);
const inFlight = Number(env.BENCH_CARDS_INFLIGHT ?? 100);
const warmUp = Number(env.BENCH_CARDS_WARMUP ?? 1_000);
const latencySeconds = Number(env.BENCH_CARDS_LATENCY_SECONDS ?? 10);
const blockMs = Number(env.BENCH_CARDS_BLOCK_MS ?? 50);
const devicesPerCard = 5;
const tokensPerDevice = 100;
const funds = 100_000_000n;
const asset = 'BENCHUSD';
const issuerBin = '456789';
const tokenBin = '990001';

const quantile = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))]!;

function keyFile(file: string): SigningKey {
  return importKey((JSON.parse(fs.readFileSync(file, 'utf8')) as { secretKey: string }).secretKey);
}

/** A card token opened on its device: what a payment needs. */
interface CardToken {
  card: string;
  cardholder: string;
  token: string;
  key: Uint8Array;
}

/** One request to time (an authorisation or a transfer), which checks its own answer. */
type Job = () => Promise<void>;

interface Run {
  ms: number;
  latencies: number[];
  failures: string[];
}

async function main(): Promise<void> {
  if (inFlight % acquirerCount !== 0 || inFlight / acquirerCount > 50) {
    throw new Error('BENCH_CARDS_INFLIGHT: a multiple of the acquirers, at most 50 each');
  }
  assertBuilt(cliPath);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-bench-cards-'));
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
    const issuer = generateKey();
    const requestor = generateKey();
    const acquirers = Array.from({ length: acquirerCount }, () => generateKey());
    const merchants = acquirers.map((_, a) => [1, 2, 3].map((m) => `m-${a}-${m}`));
    const senders = Array.from({ length: inFlight }, () => generateKey());
    const nonces = new Map<string, number>();
    const sign = (key: SigningKey, tx: { type: string; payload: object }) => {
      const nonce = nonces.get(key.address) ?? 0;
      nonces.set(key.address, nonce + 1);
      return signTx({ chainId, sender: key.address, nonce, ...tx } as never, key);
    };
    const commit = async (signed: SignedTx[]) => {
      const answer = await client.submitBatch(signed, { wait: 'commit' });
      const failed = answer.results.find((r) => r.status !== 'ok');
      if (failed) throw new Error(`set-up tx failed: ${JSON.stringify(failed)}`);
    };

    // The token service, its participants, the asset and the baseline's senders.
    nonces.set(operator.address, (await client.getAccount(operator.address)).nonce);
    await commit([
      sign(operator, tokenServiceTxs.configure([tokenBin])),
      sign(
        operator,
        tokenServiceTxs.registerParticipant({
          address: issuer.address,
          name: 'Bench Bank',
          roles: ['issuer'],
          bins: [issuerBin],
        }),
      ),
      sign(
        operator,
        tokenServiceTxs.registerParticipant({
          address: requestor.address,
          name: 'Bench Pay',
          roles: ['requestor'],
        }),
      ),
      ...acquirers.map((acquirer, a) =>
        sign(
          operator,
          tokenServiceTxs.registerParticipant({
            address: acquirer.address,
            name: `Bench Acquirer ${a}`,
            roles: ['acquirer'],
            merchantIds: merchants[a]!,
          }),
        ),
      ),
      sign(issuer, txs.createAsset({ symbol: asset, decimals: 2 })),
      ...senders.map((s) =>
        sign(issuer, txs.mint({ symbol: asset, to: s.address, amount: String(funds) })),
      ),
    ]);

    // Cards, devices and card tokens: `count` opened tokens on fresh cards.
    let cardsMade = 0;
    const cardholders = new Map<string, SigningKey>();
    const cardTokens = async (count: number): Promise<CardToken[]> => {
      const cards = Array.from(
        { length: Math.ceil(count / (devicesPerCard * tokensPerDevice)) },
        () => ({ card: `bench-card-${++cardsMade}`, holder: generateKey() }),
      );
      const vaultTokens: string[] = [];
      for (const { card } of cards) {
        const pan = issuerBin + String(cardsMade * 1_000 + vaultTokens.length).padStart(9, '0');
        const answer = await client.tokens.provision(
          signProvisionRequest(requestor, chainId, {
            requestId: card,
            pan: pan + luhnCheckDigit(pan),
            expiry: '2030-12',
            domain: { channels: ['contactless'], merchantIds: [] },
            assuranceLevel: 'high',
          }),
        );
        vaultTokens.push(answer.token!.token);
      }
      const devices = cards.flatMap(({ card }) =>
        Array.from({ length: devicesPerCard }, () => {
          const key = generateKey();
          return { card, key, box: newBoxKeyPair() };
        }),
      );
      await commit([
        ...cards.flatMap(({ card, holder }, i) => [
          sign(issuer, txs.mint({ symbol: asset, to: holder.address, amount: String(funds) })),
          sign(
            issuer,
            cardTxs.link({
              card,
              token: vaultTokens[i]!,
              account: holder.address,
              asset,
              face: { issuerName: 'Bench Bank', product: 'Debit', art: 'blue', colour: '#1f4e79' },
              tokensMax: tokensPerDevice,
              tokenLifeMs: 24 * 3_600_000,
            }),
          ),
        ]),
        ...devices.map(({ card, key, box }) => {
          const boxKey = toHex(box.publicKey);
          const secret = fromHex(key.secretKey, 'secretKey', 32);
          const fields = boxKeySignedFields({ device: key.address, boxKey });
          return sign(
            issuer,
            cardTxs.addDevice({
              card,
              device: key.address,
              boxKey,
              boxKeySignature: signCardRequest('deviceBoxKey', chainId, fields, secret),
            }),
          );
        }),
      ]);
      await commit(cards.map(({ card, holder }) => sign(holder, cardTxs.accept(card))));
      for (const { card, holder } of cards) cardholders.set(card, holder);
      // Each cardholder approves the devices the issuer added to its card.
      await commit(
        devices.map(({ card, key }) =>
          sign(cardholders.get(card)!, cardTxs.approveDevice(card, key.address)),
        ),
      );
      const opened: CardToken[] = [];
      // Batches count against the card's issuer in the relay gate (8 in flight): 8 at a time.
      await pool(devices, 8, async ({ card, key, box }) => {
        const by = 'device' as const;
        const request = { card, device: key.address, n: 1, count: tokensPerDevice, by };
        const secret = fromHex(key.secretKey, 'secretKey', 32);
        const batch = await client.cards.mint(
          card,
          key.address,
          signMintRequest(secret, chainId, request),
        );
        for (const { token, key: tokenKey } of openTokenKeys(
          box.secretKey,
          chainId,
          card,
          key.address,
          batch,
        )) {
          opened.push({ card, cardholder: cardholders.get(card)!.address, token, key: tokenKey });
        }
      });
      return opened.slice(0, count);
    };

    // Pre-signed authorisations, each acquirer in turn; every approval recorded for the check.
    const holds = new Map<string, { cardholder: string; amount: bigint }>();
    const authorisationJobs = (tokens: CardToken[]): Job[] =>
      tokens.map((t, i) => {
        const a = i % acquirerCount;
        const terminal = {
          amount: String(100 + (i % 900)),
          currency: asset,
          merchantId: merchants[a]![i % 3]!,
          unpredictableNumber: toHex(randomBytes(4)),
        };
        const paid = { token: t.token, counter: 1, ...terminal };
        const answer = { ...paid, cryptogram: cryptogram(t.key, chainId, paid) };
        const body: AuthoriseBody = signAuthorisation(acquirers[a]!, chainId, terminal, answer);
        return async () => {
          const approved = await client.cards.authorise(body);
          if (holds.has(approved.holdId)) throw new Error(`hold ${approved.holdId} twice`);
          holds.set(approved.holdId, { cardholder: t.cardholder, amount: BigInt(approved.amount) });
        };
      });
    const transferJobs = (count: number): Job[] =>
      Array.from({ length: count }, (_, i) => {
        const signed = sign(
          senders[i % senders.length]!,
          txs.transfer({ to: issuer.address, asset, amount: '1' }),
        );
        return async () => {
          await client.submit(signed, { wait: 'commit' });
        };
      });

    const tokens = await cardTokens(warmUp + authorisations);
    const saturationTokens = tokens.slice(warmUp);
    // A fresh node is cold (JIT, caches): both paths run a little before anything is timed.
    await closedLoop(transferJobs(warmUp));
    const warm = await closedLoop(authorisationJobs(tokens.slice(0, warmUp)));
    const blocksOf = async (run: () => Promise<Run>): Promise<[Run, string]> => {
      const from = (await client.health()).height + 1;
      const result = await run();
      return [result, await blockStats(client, from, (await client.health()).height)];
    };
    // Baselines before and after each measure, so drift on this shared machine hits both sides.
    const [before, transferBlocks] = await blocksOf(() => closedLoop(transferJobs(authorisations)));
    const [authorised, authorisedBlocks] = await blocksOf(() =>
      closedLoop(authorisationJobs(saturationTokens)),
    );
    const after = await closedLoop(transferJobs(authorisations));
    const rate = (run: Run) => ((run.latencies.length - run.failures.length) * 1000) / run.ms;
    const transferRate = (rate(before) + rate(after)) / 2;
    const halfRate = rate(authorised) / 2;
    const latencyCount = Math.max(1, Math.round(halfRate * latencySeconds));
    const latencyTokens = await cardTokens(latencyCount);
    const halfBefore = await openLoop(transferJobs(latencyCount), halfRate);
    const authorisedHalf = await openLoop(authorisationJobs(latencyTokens), halfRate);
    const halfAfter = await openLoop(transferJobs(latencyCount), halfRate);
    const transfers = join(before, after);
    const transfersHalf = join(halfBefore, halfAfter);

    // The check: every authorisation approved with a hold of its own, the holds' sum what the
    // cardholders' balances dropped by.
    let dropped = 0n;
    let openHolds = 0;
    for (const holder of cardholders.values()) {
      const account = await client.getAccount(holder.address);
      dropped += funds - BigInt(account.balances.find((b) => b.asset === asset)?.balance ?? '0');
      openHolds += account.holds.length;
    }
    const held = [...holds.values()].reduce((sum, h) => sum + h.amount, 0n);
    const attempted = warmUp + authorised.latencies.length + authorisedHalf.latencies.length;
    const failures = [...warm.failures, ...authorised.failures, ...authorisedHalf.failures];
    const ok =
      failures.length === 0 &&
      holds.size === attempted &&
      openHolds === attempted &&
      held === dropped;

    const ms = (value: number) => `${Math.round(value)} ms`;
    const p = (run: Run, q: number) => quantile(run.latencies, q);
    const rows: [string, string][] = [
      [
        `transfers/s, ${inFlight} in flight, ?wait=commit, before / after (baseline)`,
        `${rate(before).toFixed(0)} / ${rate(after).toFixed(0)}`,
      ],
      [
        `authorisations/s, ${inFlight} in flight over ${acquirerCount} acquirers, each final`,
        rate(authorised).toFixed(0),
      ],
      [
        'ratio authorisations / transfers (their mean)',
        (rate(authorised) / transferRate).toFixed(2),
      ],
      [
        'latency at saturation p50 / p99, authorisations (transfers)',
        `${ms(p(authorised, 0.5))} / ${ms(p(authorised, 0.99))} (${ms(p(transfers, 0.5))} / ${ms(p(transfers, 0.99))})`,
      ],
      [
        'blocks at saturation, authorisations (transfers)',
        `${authorisedBlocks} (${transferBlocks})`,
      ],
      [
        `half load: ${halfRate.toFixed(0)}/s offered for ${latencySeconds} s, authorisations p50 / p99`,
        `${ms(p(authorisedHalf, 0.5))} / ${ms(p(authorisedHalf, 0.99))}`,
      ],
      [
        'transfers on the same schedule, before and after, p50 / p99 (baseline)',
        `${ms(p(transfersHalf, 0.5))} / ${ms(p(transfersHalf, 0.99))}`,
      ],
      [
        'ratio p99 authorisations / transfers at half load',
        (p(authorisedHalf, 0.99) / p(transfersHalf, 0.99)).toFixed(2),
      ],
      [
        'check: approved with a hold / attempted; holds open',
        `${holds.size} / ${attempted}; ${openHolds}`,
      ],
      [
        'check: sum of holds = cardholders’ balances dropped',
        `${held} = ${dropped}: ${held === dropped ? 'ok' : 'MISMATCH'}`,
      ],
    ];
    const width = Math.max(...rows.map(([name]) => name.length));
    process.stdout.write(
      `cards bench: ${authorisations} + ${latencyCount} authorisations, ${cardholders.size} cards, ${blockMs} ms blocks, ${os.cpus().length} cores\n`,
    );
    for (const [name, value] of rows) process.stdout.write(`${name.padEnd(width)}  ${value}\n`);
    if (failures.length > 0) {
      const counts = new Map<string, number>();
      for (const code of failures) counts.set(code, (counts.get(code) ?? 0) + 1);
      process.stdout.write(`failures: ${JSON.stringify(Object.fromEntries(counts))}\n`);
    }
    const transferFailures = transfers.failures.length + transfersHalf.failures.length;
    if (transferFailures > 0) process.stdout.write(`transfer failures: ${transferFailures}\n`);
    if (!ok) process.exitCode = 1;
  } finally {
    await node.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Blocks `from..to`: how many, their mean and largest tx count, the mean time between them. */
async function blockStats(client: CofferClient, from: number, to: number): Promise<string> {
  const counts: number[] = [];
  const times: number[] = [];
  for (let h = from; h <= to; h += 100) {
    for (const block of (await client.getBlocks(h, Math.min(to, h + 99))).blocks) {
      counts.push(block.txCount);
      times.push(block.header.time);
    }
  }
  const txs = counts.reduce((sum, n) => sum + n, 0);
  const gapMs = (times.at(-1)! - times[0]!) / Math.max(1, times.length - 1);
  return `${counts.length}, ${(txs / counts.length).toFixed(0)} txs mean, ${Math.max(...counts)} max, every ${gapMs.toFixed(0)} ms`;
}

/** Two runs' latencies and failures together. */
function join(a: Run, b: Run): Run {
  return {
    ms: a.ms + b.ms,
    latencies: [...a.latencies, ...b.latencies],
    failures: [...a.failures, ...b.failures],
  };
}

/** Runs `items` through `task`, `width` at a time. */
async function pool<T>(items: T[], width: number, task: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

/** A request's outcome: its latency, and its error's code when it failed. */
async function timed(job: Job, from: number, run: Run): Promise<void> {
  try {
    await job();
  } catch (error) {
    run.failures.push(String((error as { code?: string }).code ?? error));
  }
  run.latencies.push(performance.now() - from);
}

/**
 * `inFlight` workers, worker w sending jobs w, w + inFlight, ... one after another: the same
 * acquirer (job i's is i % acquirerCount), or the same transfer sender, throughout.
 */
async function closedLoop(jobs: Job[]): Promise<Run> {
  const run: Run = { ms: 0, latencies: [], failures: [] };
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async (_, worker) => {
      for (let i = worker; i < jobs.length; i += inFlight) {
        await timed(jobs[i]!, performance.now(), run);
      }
    }),
  );
  run.ms = performance.now() - start;
  return run;
}

/** Offers job i at start + i / rate, whatever is in flight; latency from the scheduled time. */
async function openLoop(jobs: Job[], perSecond: number): Promise<Run> {
  const run: Run = { ms: 0, latencies: [], failures: [] };
  const start = performance.now();
  const sent: Promise<void>[] = [];
  for (const [i, job] of jobs.entries()) {
    const due = start + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    sent.push(timed(job, due, run));
  }
  await Promise.all(sent);
  run.ms = performance.now() - start;
  return run;
}

await main();
