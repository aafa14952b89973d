// `npm run bench -- conversion`: the conversion engine between two Coffer chains (issue 19):
// forwards per second through the bridge, and quote latency, each against a baseline measured in
// the same run on the same processes. Not a test: it measures; the only things it asserts are
// that every forward completed and every baseline cycle went through.
//
// 1. Starts two built nodes, chain-a (the home chain, holding the registry) and chain-b, each a
//    process of its own (20 ms blocks while txs wait, an empty one every 40 ms: the e2e world's),
//    and the bridge process (`coffer bridge start`) serving chain-a USD -> chain-b EUR, tick
//    BENCH_CONV_TICK_MS (50). No ganache, no provider. BENCH_CONV_USERS (32) users hold USD on A.
// 2. Warm-up, untimed: BENCH_CONV_WARMUP (160) baseline cycles and forwards, users x 4 quotes and
//    GET /health (fresh processes are cold: JIT, caches).
// 3. Baseline, before and after: the ledger work of a forward without the engine. Per cycle, with
//    ?wait=commit each, one after another: the user's hash-locked hold.create on A for a stand-in
//    engine key, that key's hold.create on B for the user under the same condition, the user's
//    hold.release on B with the preimage, the stand-in's hold.release on A. BENCH_CONV_FORWARDS
//    (640) cycles, one per user at a time (the stand-in signs for all users at once, as the engine).
// 4. Forwards: as many, one per user at a time: POST /v1/conversion/quotes (1,000 cents of USD),
//    the user's hold.create on A with the quote's payee, amount and expiry under a fresh condition
//    (?wait=commit), POST /v1/conversion/forwards, wait for `locked`, GET the forward for its
//    destination hold, the user's hold.release on B (?wait=commit), wait for `completed`. The
//    states come from the engine's event log (GET /v1/conversion/events), read by one poller every
//    BENCH_CONV_POLL_MS (20): users polling each forward would load the bridge they measure.
// 5. Quotes: BENCH_CONV_QUOTES (2,000) POST /v1/conversion/quotes, BENCH_CONV_USERS in flight
//    (saturation), then BENCH_CONV_QUOTE_SECONDS (10) of them offered open loop at half the
//    measured rate (latency from each scheduled start). Baseline, before and after each: GET
//    /health on the bridge, as many at saturation and on the same schedule.
// 6. Where the time goes: CPU time of each process (/proc) and the nodes' HTTP requests by route
//    (their /metrics), per forward, hold cycle and quote. BENCH_PROFILE=DIR makes the bridge write
//    a V8 CPU profile (--cpu-prof) into DIR.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import { sha256Hex } from '../src/crypto/index.js';
import { conversionTxBuilders as conv } from '../src/modules/conversion/client.js';
import type { Forward, Quote } from '../src/modules/conversion/engine/records.js';
import {
  CofferError,
  generateKey,
  signTx,
  txs,
  type SignedTx,
  type SigningKey,
} from '../src/sdk/index.js';
import { cliPath } from '../test/support/cli.js';
import {
  blockMsMax,
  blockMsMin,
  ecbFile,
  pair,
  startBridgeProcess,
  startCofferChain,
  writeSecret,
  type BridgeProcess,
  type CofferChain,
} from '../test/support/coffer-chains.js';
import { assertBuilt } from '../test/support/node-process.js';

const env = process.env;
const users = Number(env.BENCH_CONV_USERS ?? 32);
const forwards = Number(env.BENCH_CONV_FORWARDS ?? 640);
const quotes = Number(env.BENCH_CONV_QUOTES ?? 2_000);
const quoteSeconds = Number(env.BENCH_CONV_QUOTE_SECONDS ?? 10);
const tickMs = Number(env.BENCH_CONV_TICK_MS ?? 50);
const pollMs = Number(env.BENCH_CONV_POLL_MS ?? 20);
const warmUp = Number(env.BENCH_CONV_WARMUP ?? 160);
const amount = '1000';
const funds = 100_000_000_000n;

const quantile = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))]!;

/** User and system CPU time of a process so far, ms (Linux /proc; 0 elsewhere). */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
  } catch {
    return 0;
  }
}
/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on Linux). */
const clockTicks = 100;

/** One unit of work to time, which checks its own answer; it may note phase times. */
type Job = (worker: number, phases: Map<string, number[]>) => Promise<void>;

interface Run {
  ms: number;
  latencies: number[];
  failures: string[];
  phases: Map<string, number[]>;
  /** CPU ms per process over the run: chain-a, chain-b, the bridge, this client. */
  cpu?: number[];
  /** HTTP requests each chain answered over the run, by route. */
  requests?: Map<string, number>[];
}

/** A node's HTTP requests so far by route (its coffer_http_requests_total, all statuses). */
async function requestsByRoute(chain: CofferChain): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const line of (await chain.client.metrics()).split('\n')) {
    const match = /^coffer_http_requests_total\{(.*)\} (\S+)$/.exec(line);
    const route = match && /route="([^"]*)"/.exec(match[1]!)?.[1];
    if (route) counts.set(route, (counts.get(route) ?? 0) + Number(match[2]));
  }
  return counts;
}

/** The JSON of a bridge route; anything but `ok` throws with the error's code. */
async function bridge<T>(url: string, method: string, route: string, body?: unknown): Promise<T> {
  const response = await fetch(`${url}${route}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await response.json()) as T & { error?: { code: string; message: string } };
  if (!response.ok) {
    throw Object.assign(new Error(`${route}: ${json.error?.message ?? response.status}`), {
      code: json.error?.code ?? String(response.status),
    });
  }
  return json;
}

/**
 * The engine's event log read by one poller: the time each forward reached each state, and
 * promises of a state that settle when it comes (or fail when the forward turns to a refund).
 */
class ForwardStates {
  private after = 0;
  private readonly reached = new Map<string, Set<string>>();
  private readonly waiters = new Map<
    string,
    { state: string; resolve: () => void; reject: (error: Error) => void }[]
  >();
  private stopped = false;
  readonly done: Promise<void>;
  retries = 0;

  constructor(private readonly url: string) {
    this.done = this.loop();
  }

  until(id: string, state: string): Promise<void> {
    const seen = this.reached.get(id);
    if (seen?.has(state)) return Promise.resolve();
    if (seen?.has('refunding')) return Promise.reject(new Error('refunding'));
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(id) ?? [];
      list.push({ state, resolve, reject });
      this.waiters.set(id, list);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const page = await bridge<{ events: { forward?: string; type: string }[]; next: number }>(
        this.url,
        'GET',
        `/v1/conversion/events?after=${this.after}&limit=100`,
      ).catch(() => ({ events: [], next: this.after }));
      this.after = page.next;
      for (const event of page.events) {
        if (event.type === 'forward.retry') this.retries += 1;
        if (!event.forward || !event.type.startsWith('forward.')) continue;
        const state = event.type.slice('forward.'.length);
        const seen = this.reached.get(event.forward) ?? new Set<string>();
        seen.add(state);
        this.reached.set(event.forward, seen);
        const list = this.waiters.get(event.forward) ?? [];
        const left = list.filter((w) => {
          if (w.state === state) w.resolve();
          else if (state === 'refunding') w.reject(new Error('refunding'));
          else return true;
          return false;
        });
        if (left.length > 0) this.waiters.set(event.forward, left);
        else this.waiters.delete(event.forward);
      }
      if (page.events.length < 100) await sleep(pollMs);
    }
  }
}

async function main(): Promise<void> {
  assertBuilt(cliPath);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-bench-conversion-'));
  let a: CofferChain | undefined;
  let b: CofferChain | undefined;
  let bridgeProcess: BridgeProcess | undefined;
  try {
    [a, b] = await Promise.all([
      startCofferChain(dir, 'chain-a'),
      startCofferChain(dir, 'chain-b'),
    ]);
    const chainA = a;
    const chainB = b;
    const [{ chainId: idA }, { chainId: idB }] = await Promise.all([
      chainA.client.health(),
      chainB.client.health(),
    ]);
    const engine = generateKey();
    const standIn = generateKey();
    const people = Array.from({ length: users }, () => generateKey());

    // Nonces per chain and key, kept here: the stand-in signs for every user at once.
    const nonces = new Map<string, number>();
    const sign = (chain: CofferChain, key: SigningKey, tx: { type: string; payload: unknown }) => {
      const slot = `${chain.id}/${key.address}`;
      const nonce = nonces.get(slot) ?? 0;
      nonces.set(slot, nonce + 1);
      return signTx(
        {
          chainId: chain === chainA ? idA : idB,
          sender: key.address,
          nonce,
          ...(tx as { type: string; payload: Record<string, unknown> }),
        },
        key,
      );
    };
    const commit = async (chain: CofferChain, signed: SignedTx[]) => {
      const answer = await chain.client.submitBatch(signed, { wait: 'commit' });
      const failed = answer.results.find((r) => r.status !== 'ok');
      if (failed) throw new Error(`set-up tx failed on ${chain.id}: ${JSON.stringify(failed)}`);
    };
    /** A user's tx with ?wait=commit; on a refusal the user's nonce is read again. */
    const send = async (
      chain: CofferChain,
      key: SigningKey,
      tx: { type: string; payload: unknown },
    ) => {
      try {
        return (await chain.client.submit(sign(chain, key, tx), { wait: 'commit' })).hash;
      } catch (error) {
        if (key !== standIn && error instanceof CofferError && error.height === undefined) {
          nonces.set(
            `${chain.id}/${key.address}`,
            (await chain.client.getAccount(key.address)).nonce,
          );
        }
        throw error;
      }
    };

    // Funds: USD on A for the users (the dev account issues USD), EUR on B for the engine and the
    // stand-in; the engine's registry on A, by its own key.
    nonces.set(
      `chain-a/${chainA.dev.address}`,
      (await chainA.client.getAccount(chainA.dev.address)).nonce,
    );
    nonces.set(
      `chain-b/${chainB.dev.address}`,
      (await chainB.client.getAccount(chainB.dev.address)).nonce,
    );
    await commit(chainA, [
      sign(
        chainA,
        chainA.dev,
        txs.transfer({ to: engine.address, asset: 'USD', amount: '100000' }),
      ),
      ...people.map((p) =>
        sign(chainA, chainA.dev, txs.mint({ symbol: 'USD', to: p.address, amount: String(funds) })),
      ),
    ]);
    await commit(chainB, [
      sign(chainB, chainB.dev, txs.createAsset({ symbol: 'EUR', decimals: 2 })),
    ]);
    await commit(
      chainB,
      [engine, standIn].map((k) =>
        sign(chainB, chainB.dev, txs.mint({ symbol: 'EUR', to: k.address, amount: String(funds) })),
      ),
    );
    const coffer = (ecosystem: string) =>
      conv.ecosystemSet({
        ecosystem,
        kind: 'coffer',
        network: ecosystem,
        engineAddress: engine.address,
        blockMsMin,
        blockMsMax,
        status: 'active',
      });
    const asset = (ecosystem: string, symbol: string, currency: string) =>
      conv.assetSet({
        ecosystem,
        asset: symbol,
        decimals: 2,
        currency,
        liquidityLow: '100000',
        liquidityHigh: String(funds * 2n),
      });
    await commit(
      chainA,
      [
        conv.engineSet({
          name: 'Bench bridge',
          quoteTtlSeconds: 30,
          hopsMax: 2,
          slippageBpsMax: 500,
          status: 'active',
        }),
        coffer('chain-a'),
        coffer('chain-b'),
        asset('chain-a', 'USD', 'USD'),
        asset('chain-b', 'EUR', 'EUR'),
        pair('chain-a', 'USD', 'chain-b', 'EUR', 10),
        pair('chain-b', 'EUR', 'chain-a', 'USD', 10),
      ].map((build) => sign(chainA, engine, build)),
    );

    const configFile = path.join(dir, 'bridge.json');
    fs.writeFileSync(
      configFile,
      JSON.stringify({
        port: 0,
        dataDir: 'bridge-data',
        home: {
          url: chainA.url,
          keyFile: writeSecret(path.join(dir, 'engine.key'), engine.secretKey),
        },
        ecosystems: {
          'chain-a': { kind: 'coffer', url: chainA.url },
          'chain-b': { kind: 'coffer', url: chainB.url },
        },
        rates: { ecbFile: ecbFile(path.join(dir, 'eurofxref-daily.xml')) },
        timing: { destinationMs: 60_000, claimMarginMs: 10_000, tickMs, registryRefreshMs: 500 },
      }),
    );
    const profile = env.BENCH_PROFILE;
    bridgeProcess = await startBridgeProcess(
      configFile,
      {},
      profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profile)}`] : [],
    );
    const url = bridgeProcess.url;
    const states = new ForwardStates(url);
    const pids = [chainA.process.pid, chainB.process.pid, bridgeProcess.child.pid];
    const cpuNow = () => [
      ...pids.map(cpuMs),
      process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000,
    ];
    /** A run with the CPU time each process spent during it. */
    const requestsNow = () => Promise.all([chainA, chainB].map(requestsByRoute));
    const measured = async (run: () => Promise<Run>): Promise<Run> => {
      const from = cpuNow();
      const fromRequests = await requestsNow();
      const result = await run();
      result.cpu = cpuNow().map((value, i) => value - from[i]!);
      result.requests = (await requestsNow()).map((counts, i) => {
        const delta = new Map<string, number>();
        for (const [route, n] of counts) delta.set(route, n - (fromRequests[i]!.get(route) ?? 0));
        return delta;
      });
      return result;
    };

    const secret = () => {
      const preimage = randomBytes(32).toString('hex');
      return { preimage, condition: sha256Hex(Buffer.from(preimage, 'hex')) };
    };
    const quoteBody = {
      from: { ecosystem: 'chain-a', asset: 'USD', amount },
      to: { ecosystem: 'chain-b', asset: 'EUR' },
    };
    const lap = (phases: Map<string, number[]>, name: string, from: number) => {
      const at = performance.now();
      const list = phases.get(name) ?? [];
      list.push(at - from);
      phases.set(name, list);
      return at;
    };

    // The baseline cycle: the four hash-locked hold txs of a forward, without the engine.
    let expiryA = 0;
    let expiryB = 0;
    const cycle: Job = async (worker, phases) => {
      const user = people[worker]!;
      const { preimage, condition } = secret();
      let at = performance.now();
      const holdA = await send(
        chainA,
        user,
        txs.createHold({
          to: standIn.address,
          asset: 'USD',
          amount,
          expiresAtHeight: expiryA,
          condition,
        }),
      );
      at = lap(phases, 'user hold.create on A', at);
      const holdB = await send(
        chainB,
        standIn,
        txs.createHold({
          to: user.address,
          asset: 'EUR',
          amount: '921',
          expiresAtHeight: expiryB,
          condition,
        }),
      );
      at = lap(phases, 'stand-in hold.create on B', at);
      await send(chainB, user, txs.releaseHold({ holdId: holdB, preimage }));
      at = lap(phases, 'user hold.release on B', at);
      await send(chainA, standIn, txs.releaseHold({ holdId: holdA, preimage }));
      lap(phases, 'stand-in hold.release on A', at);
    };
    const cycles = async (count: number) => {
      // Far enough for the whole run; reset per run (a hold lives at most 10,000,000 blocks).
      expiryA = (await chainA.client.health()).height + 50_000;
      expiryB = (await chainB.client.health()).height + 50_000;
      return closedLoop(count, users, cycle);
    };

    // A forward through the bridge, as a user drives it.
    const forwardIds: string[] = [];
    const forward: Job = async (worker, phases) => {
      const user = people[worker]!;
      const { preimage, condition } = secret();
      let at = performance.now();
      const q = await bridge<Quote>(url, 'POST', '/v1/conversion/quotes', quoteBody);
      at = lap(phases, 'POST quotes', at);
      const lockId = await send(
        chainA,
        user,
        txs.createHold({
          to: q.payTo,
          asset: q.from.asset,
          amount: q.from.amount,
          expiresAtHeight: q.sourceExpiryAtLeast!,
          condition,
        }),
      );
      at = lap(phases, 'user hold.create on A', at);
      const f = await bridge<Forward>(url, 'POST', '/v1/conversion/forwards', {
        quoteId: q.id,
        lockId,
        recipient: user.address,
      });
      forwardIds.push(f.id);
      at = lap(phases, 'POST forwards (checks the hold)', at);
      await states.until(f.id, 'locked');
      at = lap(phases, 'until locked (engine hold.create on B)', at);
      const locked = await bridge<Forward>(url, 'GET', `/v1/conversion/forwards/${f.id}`);
      await send(chainB, user, txs.releaseHold({ holdId: locked.destination.lockId!, preimage }));
      at = lap(phases, 'GET forward + user hold.release on B', at);
      await states.until(f.id, 'completed');
      lap(phases, 'until completed (engine sees it, hold.release on A)', at);
    };

    const quoteJob: Job = async () => {
      await bridge<Quote>(url, 'POST', '/v1/conversion/quotes', quoteBody);
    };
    const healthJob: Job = async () => {
      await bridge<{ status: string }>(url, 'GET', '/health');
    };

    // Warm-up (JIT, caches, the engine's first nonces), untimed.
    await cycles(warmUp);
    await closedLoop(warmUp, users, forward);
    await closedLoop(users * 4, users, quoteJob);
    await closedLoop(users * 4, users, healthJob);
    const warmForwards = forwardIds.length;

    const before = await measured(() => cycles(forwards));
    const forwarded = await measured(() => closedLoop(forwards, users, forward));
    const after = await measured(() => cycles(forwards));

    const healthBefore = await measured(() => closedLoop(quotes, users, healthJob));
    const quoted = await measured(() => closedLoop(quotes, users, quoteJob));
    const healthAfter = await measured(() => closedLoop(quotes, users, healthJob));
    const rate = (run: Run) => ((run.latencies.length - run.failures.length) * 1000) / run.ms;
    const halfRate = rate(quoted) / 2;
    const steadyCount = Math.max(1, Math.round(halfRate * quoteSeconds));
    const steadyHealthBefore = await openLoop(steadyCount, halfRate, healthJob);
    const steadyQuotes = await openLoop(steadyCount, halfRate, quoteJob);
    const steadyHealthAfter = await openLoop(steadyCount, halfRate, healthJob);
    await states.stop();

    // The check: every forward completed (asked of the engine, one by one).
    let completed = 0;
    for (const id of forwardIds) {
      const f = await bridge<Forward>(url, 'GET', `/v1/conversion/forwards/${id}`);
      if (f.state === 'completed') completed += 1;
    }
    const failures = [
      ...before.failures,
      ...forwarded.failures,
      ...after.failures,
      ...quoted.failures,
      ...steadyQuotes.failures,
    ];
    const ok = failures.length === 0 && completed === forwardIds.length;

    const ms = (value: number) => `${Math.round(value)} ms`;
    const p = (run: Run, q: number) => quantile(run.latencies, q);
    const cycleRate = (rate(before) + rate(after)) / 2;
    const healthRate = (rate(healthBefore) + rate(healthAfter)) / 2;
    const cyclesJoined = join(before, after);
    const healthJoined = join(healthBefore, healthAfter);
    const steadyHealth = join(steadyHealthBefore, steadyHealthAfter);
    const rows: [string, string][] = [
      [
        `baseline: hold cycles/s (4 hold txs, ?wait=commit), ${users} users, before / after`,
        `${rate(before).toFixed(1)} / ${rate(after).toFixed(1)}`,
      ],
      [
        'baseline: cycle time p50 / p99',
        `${ms(p(cyclesJoined, 0.5))} / ${ms(p(cyclesJoined, 0.99))}`,
      ],
      [`forwards/s through the bridge, ${users} users, each completed`, rate(forwarded).toFixed(1)],
      ['ratio forwards / hold cycles (their mean)', (rate(forwarded) / cycleRate).toFixed(2)],
      [
        'forward time p50 / p99 (quote to completed)',
        `${ms(p(forwarded, 0.5))} / ${ms(p(forwarded, 0.99))}`,
      ],
      [
        `quotes/s at saturation, ${users} in flight`,
        `${rate(quoted).toFixed(0)} (p50 ${ms(p(quoted, 0.5))}, p99 ${ms(p(quoted, 0.99))})`,
      ],
      [
        'baseline: bridge GET /health/s, before / after',
        `${rate(healthBefore).toFixed(0)} / ${rate(healthAfter).toFixed(0)} (p50 ${ms(p(healthJoined, 0.5))}, p99 ${ms(p(healthJoined, 0.99))})`,
      ],
      ['ratio quotes / health at saturation', (rate(quoted) / healthRate).toFixed(3)],
      [
        `steady: ${halfRate.toFixed(0)}/s for ${quoteSeconds} s, quote p50 / p99`,
        `${ms(p(steadyQuotes, 0.5))} / ${ms(p(steadyQuotes, 0.99))}`,
      ],
      [
        'steady: GET /health on the same schedule, p50 / p99 (baseline)',
        `${ms(p(steadyHealth, 0.5))} / ${ms(p(steadyHealth, 0.99))}`,
      ],
      [
        'ratio p50 / p99 quote / health at the steady rate',
        `${(p(steadyQuotes, 0.5) / p(steadyHealth, 0.5)).toFixed(1)} / ${(p(steadyQuotes, 0.99) / p(steadyHealth, 0.99)).toFixed(1)}`,
      ],
      [
        'check: forwards completed / taken (with warm-up)',
        `${completed} / ${forwardIds.length} (${warmForwards} warm-up)`,
      ],
      ['engine forward.retry events', String(states.retries)],
    ];
    const width = Math.max(...rows.map(([name]) => name.length));
    process.stdout.write(
      `conversion bench: ${forwards} forwards and ${forwards} x 2 hold cycles, ${quotes} + ${steadyCount} quotes, tick ${tickMs} ms, blocks ${blockMsMin}-${blockMsMax} ms, ${os.cpus().length} cores\n`,
    );
    for (const [name, value] of rows) process.stdout.write(`${name.padEnd(width)}  ${value}\n`);
    const phaseRows = (title: string, run: Run) => {
      process.stdout.write(`${title}, per phase p50 / p99:\n`);
      for (const [name, values] of run.phases) {
        process.stdout.write(
          `  ${name.padEnd(54)}  ${ms(quantile(values, 0.5))} / ${ms(quantile(values, 0.99))}\n`,
        );
      }
    };
    phaseRows('baseline cycle', cyclesJoined);
    phaseRows('forward', forwarded);
    const perUnit = (run: Run) => {
      const done = run.latencies.length - run.failures.length;
      const cpu = run.cpu ?? [];
      const total = cpu.reduce((sum, value) => sum + value, 0);
      return `${cpu.map((value) => (value / done).toFixed(2)).join(' / ')} (total ${(total / done).toFixed(2)}; ${(total / run.ms).toFixed(2)} cores busy)`;
    };
    process.stdout.write(
      'CPU ms per unit, chain-a / chain-b / bridge / bench client:\n' +
        `  baseline hold cycle, before       ${perUnit(before)}\n` +
        `  forward                           ${perUnit(forwarded)}\n` +
        `  baseline hold cycle, after        ${perUnit(after)}\n` +
        `  quote at saturation               ${perUnit(quoted)}\n` +
        `  GET /health at saturation, before ${perUnit(healthBefore)}\n`,
    );
    const requestRows = (title: string, run: Run) => {
      const done = run.latencies.length - run.failures.length;
      process.stdout.write(`node HTTP requests per ${title}:\n`);
      for (const [i, counts] of (run.requests ?? []).entries()) {
        const routes = [...counts].filter(([, n]) => n > 0).sort((x, y) => y[1] - x[1]);
        const total = routes.reduce((sum, [, n]) => sum + n, 0);
        process.stdout.write(
          `  ${i === 0 ? 'chain-a' : 'chain-b'} ${(total / done).toFixed(1)}: ${routes.map(([route, n]) => `${route} ${(n / done).toFixed(1)}`).join(', ')}\n`,
        );
      }
    };
    requestRows('baseline hold cycle (before)', before);
    requestRows('forward', forwarded);
    requestRows('quote at saturation', quoted);
    if (failures.length > 0) {
      const counts = new Map<string, number>();
      for (const code of failures) counts.set(code, (counts.get(code) ?? 0) + 1);
      process.stdout.write(`failures: ${JSON.stringify(Object.fromEntries(counts))}\n`);
    }
    if (!ok) process.exitCode = 1;
  } finally {
    await bridgeProcess?.stop().catch(() => undefined);
    await Promise.all([a?.process.kill(), b?.process.kill()]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Two runs' latencies, failures and phases together. */
function join(x: Run, y: Run): Run {
  const phases = new Map(x.phases);
  for (const [name, values] of y.phases) phases.set(name, [...(phases.get(name) ?? []), ...values]);
  return {
    ms: x.ms + y.ms,
    latencies: [...x.latencies, ...y.latencies],
    failures: [...x.failures, ...y.failures],
    phases,
  };
}

/** A job's outcome: its latency, and its error's code when it failed. */
async function timed(job: Job, worker: number, from: number, run: Run): Promise<void> {
  try {
    await job(worker, run.phases);
  } catch (error) {
    run.failures.push(String((error as { code?: string }).code ?? error));
  }
  run.latencies.push(performance.now() - from);
}

/** `width` workers, worker w running jobs w, w + width, ... one after another (as user w). */
async function closedLoop(count: number, width: number, job: Job): Promise<Run> {
  const run: Run = { ms: 0, latencies: [], failures: [], phases: new Map() };
  const start = performance.now();
  await Promise.all(
    Array.from({ length: width }, async (_, worker) => {
      for (let i = worker; i < count; i += width) await timed(job, worker, performance.now(), run);
    }),
  );
  run.ms = performance.now() - start;
  return run;
}

/** Offers job i at start + i / rate, whatever is in flight; latency from the scheduled time. */
async function openLoop(count: number, perSecond: number, job: Job): Promise<Run> {
  const run: Run = { ms: 0, latencies: [], failures: [], phases: new Map() };
  const start = performance.now();
  const sent: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    sent.push(timed(job, i, due, run));
  }
  await Promise.all(sent);
  run.ms = performance.now() - start;
  return run;
}

await main();
