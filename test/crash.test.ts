// test-runner: alone
// Crash recovery of the built node: K workers send transfers under load while a killer SIGKILLs
// the node at random points, and the node is restarted on the same data directory each time. At
// the end no acknowledged tx may be missing, no tx may be applied twice, balances must match a
// model of exactly the txs that committed, and the head height must never have gone backwards.
//
// Replay a failure with COFFER_CRASH_SEED=<seed> (printed on failure and as a diagnostic). The
// timing of kills is not reproducible, but every choice (keys, recipients, amounts, batch sizes,
// load durations) comes from the seed. COFFER_CRASH_CLI runs the test against another build of
// the CLI, e.g. a deliberately broken one, to check that the test catches it.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CofferError,
  createClient,
  hashTx,
  importKey,
  signTx,
  type CofferClient,
  type SignedTx,
  type SigningKey,
} from '../src/sdk/index.js';
import { NodeProcess, assertBuilt } from './support/node-process.js';
import { Prng, parseSeed } from './support/prng.js';

const root = path.resolve(import.meta.dirname, '..');
// The only environment this test reads; the node's own environment is scrubbed of COFFER_*.
const seed = parseSeed(process.env.COFFER_CRASH_SEED, () => randomInt(0x1_0000_0000));
const cliPath = path.resolve(
  process.env.COFFER_CRASH_CLI ?? path.join(root, 'dist/src/cli/main.js'),
);
const childEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) =>
      !name.startsWith('COFFER_') && name !== 'NODE_OPTIONS' && name !== 'NODE_TEST_CONTEXT',
  ),
);

const killCount = 24;
const workerCount = 8;
/** Accounts that only receive, so that money also leaves the set of senders. */
const sinkCount = 4;
/** How long the load runs before each SIGKILL. */
const loadMsMin = 100;
const loadMsMax = 700;
const blockIntervalMs = 20;
/** The dev genesis: 1,000,000.00 USD (2 decimals) held by the dev account, which issues USD. */
const genesisSupplyMinor = 100_000_000n;
/** Enough that no worker can run out: at most ~2,000 txs of at most 100 each in a run. */
const workerFundingMinor = 1_000_000n;
const transferMinorMax = 100;
const batchChance = 0.2;
/** Small batches: a kill can land between their txs' commits only if they span blocks. */
const batchLengthMax = 6;
const requestTimeoutMs = 10_000;
const startTimeoutMs = 15_000;
/** Requests in flight while checking, so the final check stays in the low seconds. */
const checkConcurrency = 8;
/** Txs per batch when resubmitting every committed tx. */
const resubmitChunkLength = 500;
const testTimeoutMs = 110_000;

interface SentTx {
  signed: SignedTx;
  hash: string;
  nonce: number;
  to: string;
  amount: bigint;
  cycle: number;
}

interface Ack {
  hash: string;
  nonce: number;
  height: number;
  index: number | undefined;
  cycle: number;
}

/** A sender and everything it ever signed, by nonce: several txs may share a nonce (only one commits). */
class Sender {
  readonly sent = new Map<number, SentTx[]>();
  readonly acks: Ack[] = [];
  nextNonce = 0;

  constructor(
    readonly name: string,
    readonly key: SigningKey,
    readonly rng: Prng,
  ) {}

  get address(): string {
    return this.key.address;
  }

  sign(chainId: string, nonce: number, to: string, amount: bigint, cycle: number): SentTx {
    const unsigned = {
      chainId,
      type: 'ledger.transfer',
      sender: this.address,
      nonce,
      payload: { to, asset: 'USD', amount: amount.toString() },
    };
    const sent: SentTx = {
      signed: signTx(unsigned, this.key),
      hash: hashTx(unsigned),
      nonce,
      to,
      amount,
      cycle,
    };
    // Re-signing a nonce after a kill can pick the same recipient and amount, hence the same tx.
    const list = this.sent.get(nonce);
    if (!list) this.sent.set(nonce, [sent]);
    else if (!list.some((other) => other.hash === sent.hash)) list.push(sent);
    return sent;
  }

  acknowledge(
    sent: SentTx,
    result: { hash?: unknown; status?: unknown; height?: unknown; index?: unknown },
  ): void {
    const what = `${this.name} nonce ${sent.nonce} (cycle ${sent.cycle})`;
    assert.equal(result.status, 'ok', `${what}: acknowledged with status ${String(result.status)}`);
    assert.equal(result.hash, sent.hash, `${what}: the node acknowledged another hash`);
    assert.ok(Number.isSafeInteger(result.height), `${what}: the acknowledgement has no height`);
    this.acks.push({
      hash: sent.hash,
      nonce: sent.nonce,
      height: result.height as number,
      index: typeof result.index === 'number' ? result.index : undefined,
      cycle: sent.cycle,
    });
  }

  maxAckedNonce(): number {
    return this.acks.reduce((max, ack) => Math.max(max, ack.nonce), -1);
  }

  maxSentNonce(): number {
    return Math.max(-1, ...this.sent.keys());
  }
}

/** One stretch of load between a start and a SIGKILL. */
interface Cycle {
  index: number;
  client: CofferClient;
  chainId: string;
  killed: boolean;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function describeError(error: unknown): string {
  if (error instanceof CofferError) return `${error.status} ${error.code}: ${error.message}`;
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${error.name}: ${error.message}${cause}`;
  }
  return String(error);
}

/** Maps with at most `limit` calls in flight. */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next;
      next += 1;
      results[i] = await fn(items[i]!);
    }
  });
  await Promise.all(lanes);
  return results;
}

/**
 * Sends transfers from `sender` with consecutive nonces, one at a time or in small batches, each
 * awaited to commit, until the cycle's node is killed. A request that fails because of the kill
 * leaves its txs in doubt (they may or may not have committed); the nonce read after the restart
 * decides. Any other failure is a finding.
 */
async function runSender(
  sender: Sender,
  cycle: Cycle,
  recipients: readonly string[],
): Promise<void> {
  const others = recipients.filter((address) => address !== sender.address);
  while (!cycle.killed) {
    const length = sender.rng.chance(batchChance) ? sender.rng.int(2, batchLengthMax) : 1;
    const txs = Array.from({ length }, (_, i) =>
      sender.sign(
        cycle.chainId,
        sender.nextNonce + i,
        sender.rng.pick(others),
        BigInt(sender.rng.int(1, transferMinorMax)),
        cycle.index,
      ),
    );
    let results: { hash?: unknown; status?: unknown; height?: unknown; index?: unknown }[];
    try {
      if (length === 1) {
        results = [await cycle.client.submit(txs[0]!.signed, { wait: 'commit' })];
      } else {
        results = (
          await cycle.client.submitBatch(
            txs.map((tx) => tx.signed),
            { wait: 'commit' },
          )
        ).results;
      }
    } catch (error) {
      // The SDK reports a connection cut by the kill as a CofferError with code network_error.
      const cutOff = !(error instanceof CofferError) || error.code === 'network_error';
      if (cycle.killed && cutOff) return;
      throw new Error(
        `${sender.name}, cycle ${cycle.index}, nonces ${sender.nextNonce}..${sender.nextNonce + length - 1}: ` +
          `the request ended with ${describeError(error)}${cycle.killed ? '' : ' before the node was killed'}`,
        { cause: error },
      );
    }
    assert.equal(
      results.length,
      length,
      `${sender.name}: a batch of ${length} answered ${results.length} results`,
    );
    results.forEach((result, i) => sender.acknowledge(txs[i]!, result));
    sender.nextNonce += length;
  }
}

/** Owns the node process: at most one at a time, and none once the test has ended. */
class Supervisor {
  private current: NodeProcess | undefined;
  private closed = false;
  kills = 0;

  constructor(private readonly dataDir: string) {}

  async start(): Promise<{ client: CofferClient; height: number }> {
    assert.ok(!this.closed, 'the test has ended; not starting another node');
    assert.ok(!this.current?.running, 'a node is already running');
    this.current = NodeProcess.spawn({
      cliPath,
      dataDir: this.dataDir,
      blockIntervalMs,
      logLevel: 'warn',
      env: childEnv,
      startTimeoutMs,
    });
    const { url, height } = await this.current.listening();
    return { client: createClient(url, { timeoutMs: requestTimeoutMs }), height };
  }

  async kill(): Promise<void> {
    const node = this.current;
    if (!node) return;
    assert.ok(
      node.running,
      `the node died on its own before it was killed: ${JSON.stringify(node.exitStatus)}`,
    );
    await node.kill();
    this.kills += 1;
  }

  killNow(): void {
    this.current?.killNow();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.current?.kill();
  }

  outputTail(): string {
    return this.current?.outputTail() ?? '';
  }
}

/** Reads /health until the node answers (it listens before the first request is served). */
async function health(
  client: CofferClient,
): Promise<{ status: string; chainId: string; height: number }> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await client.health();
    } catch (error) {
      if (attempt >= 50) {
        throw new Error(`/health never answered: ${describeError(error)}`, { cause: error });
      }
      await sleep(100);
    }
  }
}

type TxLookup =
  | { found: false }
  | { found: true; height: number; index: number; nonce: number; sender: string; status: string };

async function lookUp(client: CofferClient, hash: string): Promise<TxLookup> {
  try {
    const body = (await client.getTx(hash)) as {
      status?: string;
      height: number;
      index: number;
      tx: { nonce: number; sender: string };
      receipt: { status: string };
    };
    assert.notEqual(
      body.status,
      'pending',
      `tx ${hash} is pending after a restart: the mempool is not empty`,
    );
    return {
      found: true,
      height: body.height,
      index: body.index,
      nonce: body.tx.nonce,
      sender: body.tx.sender,
      status: body.receipt.status,
    };
  } catch (error) {
    if (error instanceof CofferError && error.status === 404 && error.code === 'tx_not_found')
      return { found: false };
    throw error;
  }
}

describe('crash recovery of the built node', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-crash-'));
  const supervisor = new Supervisor(dataDir);
  const killOnExit = () => supervisor.killNow();
  process.on('exit', killOnExit);
  let passed = false;

  after(async () => {
    await supervisor.close();
    process.off('exit', killOnExit);
    if (passed) fs.rmSync(dataDir, { recursive: true, force: true });
    else console.log(`crash test: seed ${seed}; the data directory is kept at ${dataDir}`);
  });

  it(
    `loses no acknowledged tx and applies none twice across ${killCount} SIGKILLs under load`,
    { timeout: testTimeoutMs },
    async (t) => {
      t.diagnostic(`seed ${seed} (replay with COFFER_CRASH_SEED=${seed})`);
      try {
        const summary = await run(supervisor, dataDir);
        t.diagnostic(summary);
        passed = true;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(
          `crash test failed with seed ${seed} (replay: COFFER_CRASH_SEED=${seed} node --import tsx --test ` +
            `test/crash.test.ts; data directory ${dataDir})\n${message}\n--- node output (tail) ---\n` +
            supervisor.outputTail(),
          { cause: error },
        );
      }
    },
  );
});

async function run(supervisor: Supervisor, dataDir: string): Promise<string> {
  assertBuilt(cliPath);
  const startedAt = performance.now();
  const rng = new Prng(seed);
  const killer = rng.fork(1_000);

  let restartMs = 0;
  let { client, height: startHeight } = await supervisor.start();
  const { chainId } = await health(client);
  assert.equal(startHeight, 0, 'a new data directory starts at height 0');
  const devFile = JSON.parse(fs.readFileSync(path.join(dataDir, 'dev-account.json'), 'utf8')) as {
    secretKey: string;
  };
  const dev = new Sender('dev account', importKey(devFile.secretKey), rng.fork(999));
  const workers = Array.from({ length: workerCount }, (_, i) => {
    const stream = rng.fork(i);
    return new Sender(`worker ${i}`, importKey(hex(stream.bytes(32))), stream);
  });
  const sinks = Array.from(
    { length: sinkCount },
    (_, i) => importKey(hex(rng.fork(2_000 + i).bytes(32))).address,
  );
  const senders = [dev, ...workers];
  const recipients = [...senders.map((s) => s.address), ...sinks];
  assert.equal(
    new Set(recipients).size,
    recipients.length,
    'the tracked accounts must be distinct',
  );

  // Fund the workers from the dev account, acknowledged before any kill.
  assert.equal(
    (await client.getAccount(dev.address)).nonce,
    0,
    'the dev account starts at nonce 0',
  );
  const funding = workers.map((worker, i) =>
    dev.sign(chainId, i, worker.address, workerFundingMinor, -1),
  );
  const funded = await client.submitBatch(
    funding.map((tx) => tx.signed),
    { wait: 'commit' },
  );
  assert.equal(funded.results.length, funding.length, 'the funding batch answered for every tx');
  funded.results.forEach((result, i) => dev.acknowledge(funding[i]!, result));
  dev.nextNonce = workerCount;

  /** The highest height known to be committed: from acknowledgements and from restarts. */
  let headSeen = Math.max(0, ...dev.acks.map((ack) => ack.height));
  for (let cycleIndex = 0; cycleIndex < killCount; cycleIndex += 1) {
    const cycle: Cycle = { index: cycleIndex, client, chainId, killed: false };
    const running = workers.map((worker) => runSender(worker, cycle, recipients));
    await sleep(killer.int(loadMsMin, loadMsMax));
    cycle.killed = true;
    await supervisor.kill();
    const outcomes = await Promise.allSettled(running);
    for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;

    const ackedHeight = Math.max(0, ...workers.flatMap((w) => w.acks.map((ack) => ack.height)));
    headSeen = Math.max(headSeen, ackedHeight);
    const restartAt = performance.now();
    ({ client, height: startHeight } = await supervisor.start());
    restartMs += performance.now() - restartAt;
    const resumed = await health(client);
    assert.equal(resumed.status, 'ok', `restart ${cycleIndex + 1}: /health says ${resumed.status}`);
    assert.ok(
      startHeight >= headSeen && resumed.height >= headSeen,
      `restart ${cycleIndex + 1}: the node resumed at height ${startHeight} (health ${resumed.height}) ` +
        `but height ${headSeen} had been committed`,
    );
    headSeen = Math.max(headSeen, resumed.height);
    for (const worker of workers) {
      const { nonce } = await client.getAccount(worker.address);
      assert.ok(
        nonce > worker.maxAckedNonce(),
        `restart ${cycleIndex + 1}: ${worker.name} is at nonce ${nonce} but nonce ${worker.maxAckedNonce()} was acknowledged`,
      );
      assert.ok(
        nonce <= worker.maxSentNonce() + 1,
        `restart ${cycleIndex + 1}: ${worker.name} is at nonce ${nonce} but only nonces up to ${worker.maxSentNonce()} were signed`,
      );
      worker.nextNonce = nonce;
    }
  }
  assert.equal(supervisor.kills, killCount);

  const verifyAt = performance.now();
  const verdict = await verify(client, senders, sinks, headSeen, dataDir);
  const seconds = (ms: number) => (ms / 1000).toFixed(1);
  const now = performance.now();
  return (
    `${supervisor.kills} kills, ${verdict.acked} acknowledged txs, ${verdict.inDoubt} in doubt at a kill ` +
    `(${verdict.inDoubtCommitted} of them committed), ${verdict.committed} committed in all, head ${verdict.head}; ` +
    `${seconds(now - startedAt)} s in all, ${seconds(restartMs)} s restarting, ${seconds(now - verifyAt)} s checking`
  );
}

/** The end state against the record of what was sent and acknowledged. */
async function verify(
  client: CofferClient,
  senders: readonly Sender[],
  sinks: readonly string[],
  headSeen: number,
  dataDir: string,
): Promise<{
  acked: number;
  inDoubt: number;
  inDoubtCommitted: number;
  committed: number;
  head: number;
}> {
  const healthNow = await health(client);
  assert.ok(
    healthNow.height >= headSeen,
    `the head is at ${healthNow.height} but ${headSeen} had been committed`,
  );

  // Every tx ever signed, looked up: exactly one per consumed nonce committed, none beyond.
  const nonces = new Map<string, number>();
  const committedTxs: SentTx[] = [];
  let acked = 0;
  let inDoubt = 0;
  let inDoubtCommitted = 0;
  for (const sender of senders) {
    const { nonce } = await client.getAccount(sender.address);
    nonces.set(sender.address, nonce);
    const all = [...sender.sent.values()].flat();
    const lookups = new Map(
      await mapLimit(
        all,
        checkConcurrency,
        async (tx) => [tx.hash, await lookUp(client, tx.hash)] as const,
      ),
    );
    const ackedHashes = new Set(sender.acks.map((ack) => ack.hash));
    for (let n = 0; n < nonce; n += 1) {
      const candidates = sender.sent.get(n) ?? [];
      const committed = candidates.filter((tx) => lookups.get(tx.hash)!.found);
      assert.equal(
        committed.length,
        1,
        `${sender.name} is at nonce ${nonce}, and of the ${candidates.length} txs signed with nonce ${n}, ` +
          `${committed.length} are committed (exactly one must be)`,
      );
      const tx = committed[0]!;
      const found = lookups.get(tx.hash) as Extract<TxLookup, { found: true }>;
      assert.equal(found.status, 'ok', `${sender.name} nonce ${n}: receipt status ${found.status}`);
      assert.equal(
        found.nonce,
        n,
        `${sender.name} nonce ${n}: the stored tx has nonce ${found.nonce}`,
      );
      assert.equal(
        found.sender,
        sender.address,
        `${sender.name} nonce ${n}: the stored tx has another sender`,
      );
      committedTxs.push(tx);
    }
    for (const [n, candidates] of sender.sent) {
      if (n < nonce) continue;
      for (const tx of candidates) {
        assert.ok(
          !lookups.get(tx.hash)!.found,
          `${sender.name} is at nonce ${nonce}, yet its tx with nonce ${n} (cycle ${tx.cycle}) is committed`,
        );
      }
    }
    for (const ack of sender.acks) {
      const found = lookups.get(ack.hash)!;
      assert.ok(
        found.found,
        `${sender.name}: the tx with nonce ${ack.nonce} acknowledged at height ${ack.height} in cycle ${ack.cycle} is lost`,
      );
      assert.equal(
        found.height,
        ack.height,
        `${sender.name} nonce ${ack.nonce}: committed at another height than acknowledged`,
      );
      if (ack.index !== undefined) {
        assert.equal(
          found.index,
          ack.index,
          `${sender.name} nonce ${ack.nonce}: committed at another index than acknowledged`,
        );
      }
    }
    acked += sender.acks.length;
    const doubtful = all.filter((tx) => !ackedHashes.has(tx.hash));
    inDoubt += doubtful.length;
    inDoubtCommitted += doubtful.filter((tx) => lookups.get(tx.hash)!.found).length;
  }

  // Balances: a model applying exactly the committed txs, once each, must match the node.
  const expected = new Map<string, bigint>(
    [...senders.map((s) => s.address), ...sinks].map((a) => [a, 0n]),
  );
  expected.set(senders[0]!.address, genesisSupplyMinor);
  for (const tx of committedTxs) {
    const from = tx.signed.sender;
    expected.set(from, expected.get(from)! - tx.amount);
    expected.set(tx.to, expected.get(tx.to)! + tx.amount);
  }
  let total = 0n;
  for (const [address, balance] of expected) {
    const account = await client.getAccount(address);
    const usd = account.balances.find((b) => b.asset === 'USD');
    const actual = BigInt(usd?.balance ?? '0');
    const held = BigInt(usd?.held ?? '0');
    const name =
      senders.find((s) => s.address === address)?.name ?? `sink ${sinks.indexOf(address)}`;
    assert.equal(
      actual,
      balance,
      `${name}: the node holds ${actual} minor units, the committed txs give ${balance}`,
    );
    assert.equal(held, 0n, `${name}: ${held} is held, but no hold was ever created`);
    total += actual + held;
  }
  const asset = (await client.getAsset('USD')) as { supply: string };
  assert.equal(
    BigInt(asset.supply),
    genesisSupplyMinor,
    'only transfers ran, so the USD supply must be unchanged',
  );
  assert.equal(total, BigInt(asset.supply), 'the tracked accounts must hold the whole USD supply');

  // The chain itself: contiguous heights, each block linked to the one before, and as many txs in
  // blocks as nonces consumed (a tx applied twice would show up as an extra one).
  const head = (await health(client)).height;
  let txsInBlocks = 0;
  let previousHash: string | undefined;
  for (let from = 0; from <= head; from += 100) {
    const to = Math.min(head, from + 99);
    const page = await client.getBlocks(from, to);
    assert.equal(
      page.blocks.length,
      to - from + 1,
      `blocks ${from}..${to}: ${page.blocks.length} returned`,
    );
    page.blocks.forEach((block, i) => {
      const b = block as {
        height: number;
        hash: string;
        txCount: number;
        header: { prevHash: string };
      };
      assert.equal(b.height, from + i, `block ${from + i}: the page holds height ${b.height}`);
      if (previousHash !== undefined) {
        assert.equal(
          b.header.prevHash,
          previousHash,
          `block ${b.height} does not extend block ${b.height - 1}`,
        );
      }
      previousHash = b.hash;
      txsInBlocks += b.txCount;
    });
  }
  const consumed = [...nonces.values()].reduce((sum, n) => sum + n, 0);
  assert.equal(consumed, committedTxs.length);
  // The node's producer account sends txs of its own (nonce commitments): count them too.
  const producerFile = JSON.parse(
    fs.readFileSync(path.join(dataDir, 'producer-key.json'), 'utf8'),
  ) as { address: string };
  const ownTxs = (await client.getAccount(producerFile.address)).nonce;
  assert.equal(
    txsInBlocks,
    consumed + ownTxs,
    `the blocks hold ${txsInBlocks} txs, but ${consumed} nonces were consumed`,
  );

  // Resubmitting anything already used must be rejected and change nothing.
  const used = senders.flatMap((s) =>
    [...s.sent.values()].flat().filter((tx) => tx.nonce < nonces.get(s.address)!),
  );
  for (let i = 0; i < used.length; i += resubmitChunkLength) {
    const chunk = used.slice(i, i + resubmitChunkLength);
    const { results } = await client.submitBatch(
      chunk.map((tx) => tx.signed),
      { wait: 'commit' },
    );
    assert.equal(results.length, chunk.length, 'the resubmission batch answered for every tx');
    results.forEach((result, j) => {
      const tx = chunk[j]!;
      const code =
        result.status === 'rejected'
          ? (result as { error: { code?: unknown } }).error.code
          : undefined;
      assert.ok(
        code === 'duplicate_tx' || code === 'nonce_too_low',
        `resubmitting ${tx.signed.sender.slice(0, 12)}… nonce ${tx.nonce} answered ${JSON.stringify(result)}`,
      );
    });
  }
  await sleep(5 * blockIntervalMs);
  for (const sender of senders) {
    const { nonce } = await client.getAccount(sender.address);
    assert.equal(
      nonce,
      nonces.get(sender.address),
      `${sender.name}: resubmitting used txs moved its nonce`,
    );
  }
  // Idle blocks may have been cut meanwhile (every 5 s by default), but none may hold a tx.
  const later = (await health(client)).height;
  for (let from = head + 1; from <= later; from += 100) {
    const { blocks } = await client.getBlocks(from, Math.min(later, from + 99));
    for (const block of blocks as { height: number; txCount: number }[]) {
      assert.equal(
        block.txCount,
        0,
        `block ${block.height}, cut after the resubmissions, holds txs`,
      );
    }
  }

  return { acked, inDoubt, inDoubtCommitted, committed: committedTxs.length, head };
}
