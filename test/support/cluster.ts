// A whole Coffer cluster for a test, on loopback: N nats-servers (test/support/nats.ts), the
// validators' data dirs from the built `coffer cluster init`, and one `coffer start --cluster`
// process per validator, each with the extra flags the test asks for. Nodes can be killed,
// stopped (SIGSTOP) and restarted on the same data dir and flags; `stop()` kills everything and
// removes the temp dir, and so does this process exiting or being interrupted.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';

import { signTx, type BlockHeader, type SignedTx } from '../../src/chain/index.js';
import { addressFromPublicKey, keyPairFromSecret } from '../../src/crypto/index.js';
import { readValidatorFile } from '../../src/node/cluster-init.js';
import { readKeyFile } from '../../src/node/data-dir.js';
import { childEnv, cliPath, describeRun, runCli } from './cli.js';
import { killedOnExit } from './exit-hooks.js';
import { NatsCluster } from './nats.js';
import { NodeProcess, assertBuilt } from './node-process.js';

/** How often `waitFor` polls. */
const pollIntervalMs = 100;
/** One HTTP request to a local node; a slower answer means a stuck node. */
const requestTimeoutMs = 10_000;
/** Lines of each node's output in a failure message. */
const outputTailLinesMax = 20;

export interface TestClusterOptions {
  /** Validators (node processes); 3 unless told. */
  validators?: number;
  /** nats-servers; 3 unless told. */
  natsServers?: number;
  /** Extra `coffer start` flags for every node (`--producer-timeout-ms 500`, ...). */
  nodeArgs?: readonly string[];
  /** Added to every node's environment (COFFER_* settings without a flag). */
  env?: Record<string, string>;
  blockIntervalMs?: number;
  logLevel?: string;
  startTimeoutMs?: number;
}

export interface Health {
  status: 'ok' | 'halted';
  chainId: string;
  height: number;
  blockHash: string;
  finalizedHeight: number;
  consensus: string;
  validator?: string;
  pendingTxs: number;
  fault?: string;
}

export interface BlockJson {
  height: number;
  hash: string;
  header: BlockHeader;
  txCount: number;
  final: boolean;
  txs?: string[];
}

export interface HttpAnswer<T> {
  status: number;
  body: T;
}

/** What POST /v1/txs answers (an error carries `error` and, when known, the hash). */
export interface SubmitAnswer {
  hash?: string;
  status?: string;
  height?: number;
  error?: { code: string };
}

export interface Account {
  address: string;
  secretKey: Uint8Array;
}

export interface ValidatorInfo {
  name: string;
  dataDir: string;
  /** The accountable producer id headers name. */
  producer: string;
  /** The producer key's address: attestations are signed with it. */
  operator: string;
}

/** Clusters alive in this process, killed on exit so no node outlives a crashed test. */
let live: Set<TestCluster> | undefined;

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` until it answers something other than undefined or false; answers that. */
export async function waitFor<T>(
  condition: () => Promise<T | undefined | false> | T | undefined | false,
  what: string | (() => string),
  timeoutMs: number,
  explain: () => string = () => '',
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value !== undefined && value !== false) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error; // a node restarting refuses connections: keep polling
    }
    if (performance.now() > deadline) {
      const cause =
        lastError === undefined
          ? ''
          : `\nlast error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)}`;
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}${cause}\n${explain()}`,
      );
    }
    await delay(pollIntervalMs);
  }
}

export class TestCluster {
  private stopped = false;
  private readonly nodes: (NodeProcess | undefined)[];
  private readonly nodeUrls: string[];
  /** Output of earlier runs of each node, so a restart keeps the story. */
  private readonly previousOutput: string[];

  private constructor(
    readonly root: string,
    readonly nats: NatsCluster,
    readonly chainId: string,
    readonly validators: ValidatorInfo[],
    readonly dev: Account,
    private readonly options: Required<Omit<TestClusterOptions, 'validators' | 'natsServers'>>,
  ) {
    this.nodes = validators.map(() => undefined);
    this.nodeUrls = validators.map(() => '');
    this.previousOutput = validators.map(() => '');
  }

  /** Starts the nats-servers, writes the cluster and starts every node; resolves once all listen. */
  static async start(options: TestClusterOptions = {}): Promise<TestCluster> {
    assertBuilt(cliPath);
    live ??= killedOnExit();
    const validators = options.validators ?? 3;
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-cluster-'));
    let nats: NatsCluster | undefined;
    try {
      nats = await NatsCluster.start({ servers: options.natsServers ?? 3, dir: root });
      const dir = path.join(root, 'cluster');
      const args = ['cluster', 'init', '--validators', String(validators), '--dir', dir];
      const result = await runCli(args, { env: childEnv, timeoutMs: 60_000 });
      assert.equal(result.code, 0, describeRun(args, result));
      const infos = Array.from({ length: validators }, (_, i): ValidatorInfo => {
        const dataDir = path.join(dir, `v${i + 1}`);
        const file = readValidatorFile(dataDir);
        assert.ok(file, `${dataDir}: validator.json`);
        return { name: file.name, dataDir, producer: file.producer, operator: file.operator };
      });
      const chainId = readValidatorFile(infos[0]!.dataDir)!.chainId;
      const dev = readKeyFile(path.join(dir, 'dev-account.json'));
      const cluster = new TestCluster(root, nats, chainId, infos, dev, {
        nodeArgs: options.nodeArgs ?? [],
        env: options.env ?? {},
        blockIntervalMs: options.blockIntervalMs ?? 20,
        logLevel: options.logLevel ?? 'warn',
        startTimeoutMs: options.startTimeoutMs ?? 60_000,
      });
      live.add(cluster);
      try {
        await Promise.all(infos.map((_, i) => cluster.startNode(i)));
      } catch (error) {
        await cluster.stop();
        throw error;
      }
      return cluster;
    } catch (error) {
      if (nats) await nats.stop();
      fs.rmSync(root, { recursive: true, force: true });
      throw error;
    }
  }

  get size(): number {
    return this.validators.length;
  }

  /** Node i's base URL (changes when it restarts: each run listens on a new port). */
  url(i: number): string {
    const url = this.nodeUrls[i];
    assert.ok(url, `node ${i} has not listened`);
    return url;
  }

  get urls(): string[] {
    return this.validators.map((_, i) => this.url(i));
  }

  running(i: number): boolean {
    return this.nodes[i]?.running ?? false;
  }

  async request<T>(i: number, method: string, route: string, body?: unknown) {
    const response = await fetch(`${this.url(i)}${route}`, {
      method,
      signal: AbortSignal.timeout(requestTimeoutMs),
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // /metrics is text
    }
    return { status: response.status, body: parsed as T };
  }

  async get<T>(i: number, route: string): Promise<T> {
    const answer = await this.request<T>(i, 'GET', route);
    assert.equal(answer.status, 200, `GET ${route} on node ${i}: ${JSON.stringify(answer.body)}`);
    return answer.body;
  }

  /** GET /health (200 while ok, 503 once halted). */
  async health(i: number): Promise<Health> {
    return (await this.request<Health>(i, 'GET', '/health')).body;
  }

  async block(i: number, height: number): Promise<BlockJson> {
    return this.get<BlockJson>(i, `/v1/blocks/${height}`);
  }

  async metrics(i: number): Promise<string> {
    return (await this.request<string>(i, 'GET', '/metrics')).body;
  }

  /** The asset balance of an account on node i, in minor units. */
  async balance(i: number, address: string, asset = 'USD'): Promise<bigint> {
    const account = await this.get<{ balances: { asset: string; balance: string }[] }>(
      i,
      `/v1/accounts/${address}`,
    );
    return BigInt(account.balances.find((b) => b.asset === asset)?.balance ?? '0');
  }

  async nonce(i: number, address: string): Promise<number> {
    return (await this.get<{ nonce: number }>(i, `/v1/accounts/${address}`)).nonce;
  }

  /** Polls until `condition` holds; a timeout fails with every node's and server's output. */
  waitFor<T>(
    condition: () => Promise<T | undefined | false> | T | undefined | false,
    what: string | (() => string),
    timeoutMs: number,
  ): Promise<T> {
    return waitFor(condition, what, timeoutMs, () => this.outputTails());
  }

  /** A signed ledger.transfer. */
  transferTx(from: Account, nonce: number, to: string, amount: bigint | number): SignedTx {
    return signTx(
      {
        chainId: this.chainId,
        type: 'ledger.transfer',
        sender: from.address,
        nonce,
        payload: { to, asset: 'USD', amount: String(amount) },
      },
      from.secretKey,
    );
  }

  /** POSTs one tx to node i (`wait=commit` when `wait`). */
  async submit(i: number, tx: SignedTx, wait = false): Promise<HttpAnswer<SubmitAnswer>> {
    return this.request<SubmitAnswer>(i, 'POST', `/v1/txs${wait ? '?wait=commit' : ''}`, tx);
  }

  /** Signs and submits a transfer to node i. */
  async transfer(
    i: number,
    from: Account,
    nonce: number,
    to: string,
    amount: bigint | number,
    wait = false,
  ): Promise<HttpAnswer<SubmitAnswer>> {
    return this.submit(i, this.transferTx(from, nonce, to, amount), wait);
  }

  /** Starts node i on its data dir with the cluster's flags; resolves once it listens. */
  async startNode(i: number): Promise<void> {
    if (this.stopped) throw new Error('the cluster was stopped');
    const validator = this.validators[i];
    assert.ok(validator, `no validator ${i}`);
    assert.ok(!this.running(i), `node ${i} is running`);
    const previous = this.nodes[i];
    if (previous) {
      this.previousOutput[i] =
        `${this.previousOutput[i]}${previous.outputTail()}[harness: restarted]\n`;
    }
    const node = NodeProcess.spawn({
      cliPath,
      dataDir: validator.dataDir,
      blockIntervalMs: this.options.blockIntervalMs,
      logLevel: this.options.logLevel,
      env: { ...childEnv, ...this.options.env },
      startTimeoutMs: this.options.startTimeoutMs,
      args: [
        '--cluster',
        this.nats.urls.join(','),
        '--validator',
        validator.name,
        ...this.options.nodeArgs,
      ],
    });
    this.nodes[i] = node;
    this.nodeUrls[i] = (await node.listening()).url;
  }

  /** SIGKILLs node i and waits until it is gone. */
  async kill(i: number): Promise<void> {
    await this.nodes[i]?.kill();
  }

  /** Kills node i (when running) and starts it again on the same data dir and flags. */
  async restart(i: number): Promise<void> {
    await this.kill(i);
    await this.startNode(i);
  }

  /** Sends a signal (SIGSTOP, SIGCONT) to node i. */
  signal(i: number, signal: NodeJS.Signals): void {
    assert.ok(this.nodes[i]?.signal(signal), `${signal} to node ${i}`);
  }

  /** Kills every node and server and removes the temp dir. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const node of this.nodes) node?.signal('SIGCONT');
    await Promise.all(this.nodes.flatMap((node) => (node ? [node.kill()] : [])));
    await this.nats.stop();
    fs.rmSync(this.root, { recursive: true, force: true });
    live?.delete(this);
  }

  /** For the exit hook: synchronous, no waiting. */
  killNow(): void {
    for (const node of this.nodes) node?.killNow();
    this.nats.killNow();
    fs.rmSync(this.root, { recursive: true, force: true });
  }

  /** Every node's state and last lines of output, then the servers'. */
  outputTails(lines = outputTailLinesMax): string {
    const nodes = this.validators.map((validator, i) => {
      const node = this.nodes[i];
      const state = !node
        ? 'never started'
        : node.running
          ? `running at ${this.nodeUrls[i]}`
          : `exited (${node.exitStatus?.signal ?? `code ${node.exitStatus?.code}`})`;
      const output = `${this.previousOutput[i]}${node?.outputTail() ?? ''}`.trimEnd().split('\n');
      return [`--- node ${i} (${validator.name}): ${state}`, ...output.slice(-lines)].join('\n');
    });
    return ['coffer node output:', ...nodes, this.nats.outputTails(10)].join('\n');
  }

  /** Each running node's health and each running server's copy of the streams, for failures. */
  async diagnosis(): Promise<string> {
    const lines = ['cluster state:'];
    for (const [i] of this.validators.entries()) {
      if (!this.running(i)) continue;
      const health = await this.health(i).catch((error: unknown) => String(error));
      lines.push(`node ${i}: ${JSON.stringify(health)}`);
    }
    for (const [i, name] of this.nats.names.entries()) {
      if (!this.nats.running(i)) continue;
      for (const kind of ['txs', 'blocks', 'attestations']) {
        const stream = `coffer-${this.chainId}-${kind}`;
        const state = await this.nats.streamState(i, stream).catch(() => undefined);
        lines.push(`${name} ${stream}: ${JSON.stringify(state)}`);
      }
    }
    return lines.join('\n');
  }

  /** Runs a test body; a failure's message gets every node's and server's output. */
  async explainFailure<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      if (error instanceof Error && !error.message.includes('cluster state:')) {
        const tails = error.message.includes('coffer node output:') ? '' : this.outputTails();
        const message = `${error.message}\n${await this.diagnosis()}\n${tails}`;
        try {
          error.message = message;
        } catch {
          // Some errors (nats') have a read-only message: wrap them.
          throw new Error(`${error.name}: ${message}`, { cause: error });
        }
      }
      throw error;
    }
  }
}

// ---- Helpers the cluster tests share ----------------------------------------------------------

/** A fresh random account. */
export function newAccount(): Account {
  const pair = keyPairFromSecret(new Uint8Array(crypto.randomBytes(32)));
  return { address: addressFromPublicKey(pair.publicKey), secretKey: pair.secretKey };
}

/** Funds each account with `amount` from the dev account through node 0; waits for commit. */
export async function fund(cluster: TestCluster, accounts: Account[], amount: bigint) {
  let nonce = await cluster.nonce(0, cluster.dev.address);
  for (const account of accounts) {
    const res = await cluster.transfer(0, cluster.dev, nonce++, account.address, amount, true);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'ok');
  }
}

/** Waits until every node in `nodes` has committed every tx in `hashes`; answers their heights. */
export async function waitCommitted(
  cluster: TestCluster,
  nodes: number[],
  hashes: string[],
  timeoutMs: number,
): Promise<Map<string, { height: number; blockHash: string }>> {
  const where = new Map<string, { height: number; blockHash: string }>();
  for (const i of nodes) {
    const open = new Set(hashes);
    await cluster.waitFor(
      async () => {
        for (const hash of [...open]) {
          const answer = await cluster.request<{
            height: number;
            block: { hash: string };
            receipt: { status: string };
          }>(i, 'GET', `/v1/txs/${hash}`);
          if (answer.status !== 200) return false;
          assert.equal(answer.body.receipt.status, 'ok', `tx ${hash} on node ${i}`);
          const seen = { height: answer.body.height, blockHash: answer.body.block.hash };
          const first = where.get(hash);
          if (first) assert.deepEqual(seen, first, `tx ${hash}: node ${i} puts it elsewhere`);
          else where.set(hash, seen);
          open.delete(hash);
        }
        return true;
      },
      () =>
        `node ${i} to commit ${hashes.length} txs: ${open.size} not committed (${[...open].slice(0, 3).join(', ')})`,
      timeoutMs,
    );
  }
  return where;
}

/**
 * One cluster for the tests of the enclosing describe: started before them, stopped after. The
 * accessor answers it (and fails the test clearly if it never started).
 */
export function clusterPerSuite(options: TestClusterOptions): () => TestCluster {
  let cluster: TestCluster | undefined;
  before(async () => {
    cluster = await TestCluster.start(options);
  });
  after(async () => {
    await cluster?.stop();
  });
  return () => {
    assert.ok(cluster, 'the cluster started');
    return cluster;
  };
}

/** Waits until `/health` of every node in `nodes` reports `field` at `height` or above. */
async function waitHealth(
  cluster: TestCluster,
  nodes: number[],
  field: 'height' | 'finalizedHeight',
  height: number,
  timeoutMs: number,
): Promise<void> {
  const what = field === 'height' ? 'reach height' : 'finalize height';
  for (const i of nodes) {
    await cluster.waitFor(
      async () => (await cluster.health(i))[field] >= height,
      `node ${i} to ${what} ${height}`,
      timeoutMs,
    );
  }
}

/** Waits until every node in `nodes` is at `height` or above. */
export function waitHeight(
  cluster: TestCluster,
  nodes: number[],
  height: number,
  timeoutMs: number,
) {
  return waitHealth(cluster, nodes, 'height', height, timeoutMs);
}

/** Waits until every node in `nodes` has finalized `height` or above. */
export function waitFinal(
  cluster: TestCluster,
  nodes: number[],
  height: number,
  timeoutMs: number,
) {
  return waitHealth(cluster, nodes, 'finalizedHeight', height, timeoutMs);
}

/** Every height from..to: one block hash and state root on all of `nodes`. */
export async function assertSameChain(
  cluster: TestCluster,
  nodes: number[],
  from: number,
  to: number,
): Promise<void> {
  for (let height = from; height <= to; height++) {
    const blocks = await Promise.all(nodes.map((i) => cluster.block(i, height)));
    const [first] = blocks;
    for (const [k, block] of blocks.entries()) {
      assert.equal(block.height, height);
      assert.equal(block.hash, first!.hash, `height ${height}: node ${nodes[k]}'s block hash`);
      assert.equal(
        block.header.stateRoot,
        first!.header.stateRoot,
        `height ${height}: node ${nodes[k]}'s state root`,
      );
    }
  }
}

/** The producers of blocks from..to on node i. */
export async function producersOf(
  cluster: TestCluster,
  i: number,
  from: number,
  to: number,
): Promise<string[]> {
  const producers: string[] = [];
  for (let height = from; height <= to; height++) {
    producers.push((await cluster.block(i, height)).header.producer);
  }
  return producers;
}
