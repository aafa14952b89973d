// Starts real nats-server processes with JetStream for a test: one server, or a cluster of
// several on loopback, each with its own store directory, client port, route port and monitoring
// port. Used by the cluster tests (docs/cluster.md, "The test harness"). `npm test` installs
// Debian's nats-server when it is missing (scripts/test.mjs); run alone, a missing binary fails
// with a message that says how to install it.
//
// Ports: nats-server can bind its client port to 0, but not its route port, because every server's
// config must name the others' route ports before any of them starts. So the harness reserves
// free ports by listening on port 0 with node:net, closes them and writes the configs; when
// another process takes one of them in between, the server exits with "address already in use"
// and the harness starts the whole set again on new ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { killedOnExit } from './exit-hooks.js';

/** How much of each server's output to keep for failure messages. */
const outputTailCharsMax = 16 * 1024;
/** Lines of each server's output in a failure message. */
const outputTailLinesMax = 25;
/** Starts on new ports after "address already in use", at most this many times. */
const startAttemptsMax = 5;
/** How often readiness is polled on the monitoring port. */
const pollIntervalMs = 50;
/** One monitoring request; the server is local, so a slow answer means a stuck server. */
const monitorRequestTimeoutMs = 1_000;
/** Starts every `outputTails()`, so a message is not given the tails twice. */
const outputHeading = 'nats-server output:';
/** A cluster larger than this is not a test cluster. */
const serversMax = 7;

export interface NatsClusterOptions {
  /** 1 for a single JetStream server, 3 (or more) for a cluster. */
  servers: number;
  /** Parent of the temp directory holding configs and stores; `stop()` removes that directory. */
  dir?: string;
  /** The nats-server binary; found on PATH (and in /usr/sbin, where Debian puts it) by default. */
  binary?: string;
  /** How long `start()` and `restart()` wait for a JetStream meta leader. */
  readyTimeoutMs?: number;
}

interface ServerSlot {
  readonly name: string;
  readonly clientPort: number;
  readonly routePort: number;
  readonly monitorPort: number;
  readonly configPath: string;
  process: ServerProcess | undefined;
  /** The output of earlier runs of this slot, so a restart keeps the story of the kill. */
  previousOutput: string;
}

/** One run of one nats-server. */
class ServerProcess {
  output = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<void>;

  constructor(readonly child: ChildProcess) {
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-outputTailCharsMax);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = once(child, 'exit').then(
      ([code, signal]) => {
        this.exit = { code: code as number | null, signal: signal as NodeJS.Signals | null };
      },
      (error: unknown) => {
        keep(Buffer.from(`spawn failed: ${String(error)}\n`));
        this.exit = { code: null, signal: null };
      },
    );
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  addressInUse(): boolean {
    return /address already in use/i.test(this.output);
  }

  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

class StartError extends Error {
  constructor(
    message: string,
    readonly addressInUse: boolean,
  ) {
    super(message);
  }
}

/** Clusters alive in this process, killed on exit so no server outlives a crashed test. */
let live: Set<NatsCluster> | undefined;

/** nats-server on PATH or where Debian puts it (/usr/sbin is not on a normal user's PATH). */
export function findNatsServer(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/local/sbin', '/usr/sbin'];
  for (const dir of dirs.filter((d) => d !== '')) {
    const candidate = path.join(dir, 'nats-server');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function findBinary(): string {
  const binary = findNatsServer();
  if (binary) return binary;
  throw new Error(
    'nats-server not found on PATH or in /usr/sbin: run the tests with npm test, which ' +
      'installs it, or install it yourself (apt-get install -y nats-server)',
  );
}

/** Distinct free loopback ports: all listeners stay open until every port is chosen. */
async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
    }
    return servers.map((server) => (server.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(
      servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
  }
}

async function monitor(port: number, endpoint: string): Promise<{ status: number; body: string }> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${endpoint}`, {
      signal: AbortSignal.timeout(monitorRequestTimeoutMs),
    });
    return { status: response.status, body: await response.text() };
  } catch {
    return { status: 0, body: '' };
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The part of `/jsz` the harness reads. */
interface JetStreamInfo {
  meta_cluster?: { leader?: string; cluster_size?: number };
  account_details?: {
    stream_detail?: {
      name: string;
      cluster?: { leader?: string };
      state: { messages: number; first_seq: number; last_seq: number };
    }[];
  }[];
}

export interface StreamReplicaState {
  messages: number;
  firstSeq: number;
  lastSeq: number;
}

export class NatsCluster {
  private stopped = false;

  private constructor(
    private readonly root: string,
    private readonly binary: string,
    private readonly slots: ServerSlot[],
    private readonly readyTimeoutMs: number,
  ) {}

  /** Starts the servers and waits until JetStream has a meta leader that every server follows. */
  static async start(options: NatsClusterOptions): Promise<NatsCluster> {
    const { servers } = options;
    if (!Number.isInteger(servers) || servers < 1 || servers > serversMax) {
      throw new Error(`servers must be an integer from 1 to ${serversMax}, got ${servers}`);
    }
    const binary = options.binary ?? findBinary();
    const parent = options.dir ?? os.tmpdir();
    live ??= killedOnExit();
    for (let attempt = 1; ; attempt++) {
      const root = fs.mkdtempSync(path.join(parent, 'coffer-nats-'));
      const ports = await freePorts(servers * 3);
      const slots = Array.from({ length: servers }, (_, i): ServerSlot => {
        const name = `n${i}`;
        return {
          name,
          clientPort: ports[i * 3]!,
          routePort: ports[i * 3 + 1]!,
          monitorPort: ports[i * 3 + 2]!,
          configPath: path.join(root, `${name}.conf`),
          process: undefined,
          previousOutput: '',
        };
      });
      for (const slot of slots) {
        fs.writeFileSync(slot.configPath, serverConfig(slot, slots, root));
      }
      const cluster = new NatsCluster(root, binary, slots, options.readyTimeoutMs ?? 15_000);
      live.add(cluster);
      try {
        for (const slot of slots) cluster.spawn(slot);
        await cluster.waitReady(slots);
        return cluster;
      } catch (error) {
        await cluster.stop();
        const retry = error instanceof StartError && error.addressInUse;
        if (!retry || attempt >= startAttemptsMax) throw error;
      }
    }
  }

  /** Client URLs, one per server, in server order (`nats://127.0.0.1:port`). */
  get urls(): string[] {
    return this.slots.map((slot) => `nats://127.0.0.1:${slot.clientPort}`);
  }

  /** The temp directory holding every server's config and store; `stop()` removes it. */
  get directory(): string {
    return this.root;
  }

  /** Server names (`n0`, `n1`, ...), as JetStream reports them in stream and meta leaders. */
  get names(): string[] {
    return this.slots.map((slot) => slot.name);
  }

  /** The index of a server by the name JetStream reports. */
  indexOf(name: string): number {
    const index = this.slots.findIndex((slot) => slot.name === name);
    if (index < 0) throw new Error(`no server named ${name}; servers: ${this.names.join(', ')}`);
    return index;
  }

  running(i: number): boolean {
    return this.slot(i).process?.running ?? false;
  }

  /** Kills server i with SIGKILL (no shutdown, no flush) and waits until it is gone. */
  async kill(i: number): Promise<void> {
    const slot = this.slot(i);
    await slot.process?.kill();
  }

  /**
   * Starts server i again on its ports and store directory, and waits until it follows the meta
   * leader again. Its streams may still be catching up: see `streamState`.
   */
  async restart(i: number): Promise<void> {
    const slot = this.slot(i);
    if (slot.process?.running) throw new Error(`${slot.name} is running; kill it first`);
    for (let attempt = 1; ; attempt++) {
      this.spawn(slot);
      try {
        await this.waitReady([slot]);
        return;
      } catch (error) {
        await slot.process?.kill();
        // Its ports are written into the other servers' configs, so it cannot move: try again.
        const retry = error instanceof StartError && error.addressInUse;
        if (!retry || attempt >= startAttemptsMax) throw error;
        await delay(pollIntervalMs * attempt);
      }
    }
  }

  /** Kills every server and removes the configs and stores. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.slots.flatMap((slot) => (slot.process ? [slot.process.kill()] : [])));
    fs.rmSync(this.root, { recursive: true, force: true });
    live?.delete(this);
  }

  /** For the exit hook: synchronous, no waiting. */
  killNow(): void {
    for (const slot of this.slots) {
      if (slot.process?.running) slot.process.child.kill('SIGKILL');
    }
    fs.rmSync(this.root, { recursive: true, force: true });
  }

  /** What server i's own replica of a stream holds, from its monitoring port (undefined: none). */
  async streamState(i: number, stream: string): Promise<StreamReplicaState | undefined> {
    const { status, body } = await monitor(
      this.slot(i).monitorPort,
      '/jsz?accounts=true&streams=true',
    );
    if (status !== 200) return undefined;
    const info = JSON.parse(body) as JetStreamInfo;
    for (const account of info.account_details ?? []) {
      const detail = account.stream_detail?.find((s) => s.name === stream);
      if (detail) {
        const { messages, first_seq: firstSeq, last_seq: lastSeq } = detail.state;
        return { messages, firstSeq, lastSeq };
      }
    }
    return undefined;
  }

  /**
   * Waits until every running server is healthy and they all follow one running meta leader: after
   * a kill, until JetStream has elected a new one (a few seconds in nats-server 2.9).
   */
  async settled(): Promise<void> {
    await this.waitReady(this.slots.filter((slot) => slot.process?.running));
  }

  /** The current JetStream meta leader as server i sees it, or undefined. */
  async metaLeader(i: number): Promise<string | undefined> {
    const { status, body } = await monitor(this.slot(i).monitorPort, '/jsz');
    if (status !== 200) return undefined;
    const leader = (JSON.parse(body) as JetStreamInfo).meta_cluster?.leader;
    return leader === undefined || leader === '' ? undefined : leader;
  }

  /** Polls `condition` until it holds; on timeout, fails with the servers' output tails. */
  async until(
    what: string,
    condition: () => Promise<boolean> | boolean,
    timeoutMs = this.readyTimeoutMs,
  ): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!(await condition())) {
      if (performance.now() > deadline) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}\n${this.outputTails()}`,
        );
      }
      await delay(pollIntervalMs);
    }
  }

  /** Each server's state and last lines of output, for failure messages. */
  outputTails(lines = outputTailLinesMax): string {
    const servers = this.slots.map((slot) => {
      const run = slot.process;
      const state = !run
        ? 'never started'
        : run.running
          ? `running, pid ${run.child.pid}`
          : `exited (${run.exit?.signal ?? `code ${run.exit?.code}`})`;
      const output = (slot.previousOutput + (run?.output ?? '')).trimEnd().split('\n');
      const ports = `client ${slot.clientPort}, route ${slot.routePort}, monitor ${slot.monitorPort}`;
      return [`--- ${slot.name} (${ports}): ${state}`, ...output.slice(-lines)].join('\n');
    });
    return [outputHeading, ...servers].join('\n');
  }

  /**
   * Runs a test body and, when it fails, appends the servers' output tails to the error's
   * message, so a failure shows what the servers said.
   */
  async explainFailure<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      if (error instanceof Error && !error.message.includes(outputHeading)) {
        error.message += `\n${this.outputTails()}`;
      }
      throw error;
    }
  }

  private slot(i: number): ServerSlot {
    const slot = this.slots[i];
    if (!slot) throw new Error(`no server ${i}; there are ${this.slots.length}`);
    return slot;
  }

  private spawn(slot: ServerSlot): void {
    if (this.stopped) throw new Error('the cluster was stopped');
    if (slot.process) {
      const restarted = `[harness: ${slot.name} restarted]\n`;
      slot.previousOutput = (slot.previousOutput + slot.process.output + restarted).slice(
        -outputTailCharsMax,
      );
    }
    const child = spawn(this.binary, ['-c', slot.configPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    slot.process = new ServerProcess(child);
  }

  /**
   * Waits until each of `waiting` answers /healthz (in 2.9: JetStream is current with the meta
   * leader) and, in a cluster, every running server names the same meta leader.
   */
  private async waitReady(waiting: ServerSlot[]): Promise<void> {
    const deadline = performance.now() + this.readyTimeoutMs;
    for (;;) {
      const exited = waiting.filter((slot) => !slot.process?.running);
      if (exited.length > 0) {
        // Let the output of a failed start arrive before judging it.
        await Promise.all(exited.flatMap((slot) => (slot.process ? [slot.process.exited] : [])));
        const names = exited.map((slot) => slot.name).join(', ');
        throw new StartError(
          `nats-server ${names} exited while starting\n${this.outputTails()}`,
          exited.some((slot) => slot.process?.addressInUse()),
        );
      }
      if (await this.ready(waiting)) return;
      if (performance.now() > deadline) {
        throw new StartError(
          `nats-server did not become ready (JetStream meta leader) within ` +
            `${this.readyTimeoutMs} ms\n${this.outputTails()}`,
          false,
        );
      }
      await delay(pollIntervalMs);
    }
  }

  private async ready(waiting: ServerSlot[]): Promise<boolean> {
    const health = await Promise.all(waiting.map((slot) => monitor(slot.monitorPort, '/healthz')));
    if (health.some((answer) => answer.status !== 200)) return false;
    if (this.slots.length === 1) return true;
    const runningIndexes = this.slots.flatMap((slot, i) => (slot.process?.running ? [i] : []));
    const leaders = await Promise.all(runningIndexes.map((i) => this.metaLeader(i)));
    const first = leaders[0];
    const runningNames = runningIndexes.map((i) => this.slots[i]!.name);
    return (
      first !== undefined &&
      runningNames.includes(first) &&
      leaders.every((leader) => leader === first)
    );
  }
}

/** A nats-server 2.9 config for one server; docs/cluster.md shows the same shape by hand. */
function serverConfig(slot: ServerSlot, slots: ServerSlot[], root: string): string {
  const lines = [
    `server_name: ${slot.name}`,
    `listen: 127.0.0.1:${slot.clientPort}`,
    `http: 127.0.0.1:${slot.monitorPort}`,
    'jetstream {',
    `  store_dir: ${JSON.stringify(path.join(root, slot.name))}`,
    // Small limits: a test stores little, and several clusters may run on one machine.
    '  max_memory_store: 64MB',
    '  max_file_store: 1GB',
    '}',
  ];
  if (slots.length > 1) {
    const routes = slots
      .filter((other) => other !== slot)
      .map((other) => `nats-route://127.0.0.1:${other.routePort}`);
    lines.push(
      'cluster {',
      '  name: coffer-test',
      `  listen: 127.0.0.1:${slot.routePort}`,
      `  routes: [${routes.join(', ')}]`,
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}
