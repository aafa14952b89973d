// A local cluster for trying Coffer's cluster mode (issue 7, docs/cluster.md): three nats-server
// processes forming one JetStream cluster and one node process per validator, all on 127.0.0.1.
//
//   npm run cluster:local [-- --dir D] [--validators N] [--base-port P] [--nats-base-port Q]
//
// The first run makes the cluster with `coffer cluster init` in D (default ./local-cluster); a
// later run on the same D resumes the same chain: the validators' data directories and the NATS
// stores (D/nats) are kept. Logs go to D/logs. Ctrl-C stops the nodes first, then the NATS servers.
//
// The NATS configs are written here, not by test/support/nats.ts: that harness picks random ports
// and removes its directory on stop, while a cluster to come back to needs fixed ports and a store
// that stays.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { lockDataDir, type DataDirLock } from '../src/node/data-dir.js';
import { findNatsServer } from '../test/support/nats.js';

const repoRoot = path.resolve(import.meta.dirname, '..');
const cliEntry = path.join(repoRoot, 'src/cli/main.ts');
const usage =
  'npm run cluster:local -- [--dir D] [--validators N] [--base-port P] [--nats-base-port Q] [--chain-id ID]';

/** nats-servers in the local cluster: three, so JetStream's R3 streams survive one of them. */
const natsServers = 3;
/** A server's route and monitoring ports are its client port plus these. */
const routePortOffset = 2_000;
const monitorPortOffset = 4_000;
const natsReadyTimeoutMs = 30_000;
/** Time for tsx to load the node, the node to connect, create its streams and catch up. */
const nodeReadyTimeoutMs = 90_000;
/** How long a process has to stop after SIGTERM before it gets SIGKILL. */
const stopTimeoutMs = 15_000;
const pollIntervalMs = 200;
/** A second Ctrl-C later than this after the first kills everything at once. */
const signalEchoMs = 1_000;
const healthWatchIntervalMs = 2_000;
const logTailLines = 20;

interface Managed {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: Promise<void>;
  running: boolean;
  /** Set when the script itself stops it, so its exit is not reported as a failure. */
  stopping: boolean;
}

const managed: Managed[] = [];
let shuttingDown = false;

function die(message: string): never {
  process.stderr.write(`local-cluster: ${message}\n`);
  process.exit(1);
}

function say(message: string): void {
  process.stdout.write(`${message}\n`);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function parseOptions() {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        dir: { type: 'string', default: './local-cluster' },
        validators: { type: 'string' },
        'base-port': { type: 'string', default: '7421' },
        'nats-base-port': { type: 'string', default: '4222' },
        'chain-id': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    die(`${(error as Error).message}\nusage: ${usage}`);
  }
  if (values.help) {
    say(`usage: ${usage}`);
    process.exit(0);
  }
  const port = (flag: string, text: string, span: number): number => {
    const value = Number(text);
    if (!/^[0-9]{1,5}$/.test(text) || value < 1024 || value + span > 65_535) {
      die(`--${flag} ${text}: a port from 1024 that leaves room for ${span + 1} ports`);
    }
    return value;
  };
  const validatorsText = values.validators as string | undefined;
  if (validatorsText !== undefined && !/^[0-9]{1,2}$/.test(validatorsText)) {
    die(`--validators ${validatorsText} is not a whole number`);
  }
  const dir = values.dir as string;
  if (dir === '') die('--dir is empty');
  return {
    dir: path.resolve(dir),
    validators: validatorsText === undefined ? undefined : Number(validatorsText),
    basePort: port('base-port', values['base-port'] as string, 15),
    natsBasePort: port('nats-base-port', values['nats-base-port'] as string, monitorPortOffset + 2),
    chainId: values['chain-id'] as string | undefined,
  };
}

function natsServerOrDie(): string {
  return (
    findNatsServer() ??
    die(
      'nats-server is not installed. On Debian or Ubuntu: apt-get install -y nats-server (as root);\n' +
        'elsewhere see https://docs.nats.io/running-a-nats-service/introduction/installation',
    )
  );
}

async function portFree(port: number): Promise<boolean> {
  const server = net.createServer();
  server.listen(port, '127.0.0.1');
  try {
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([error]) => Promise.reject(error as Error)),
    ]);
  } catch {
    return false;
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return true;
}

/** The cluster init's validators (their dirs hold validator.json), by name. */
function existingValidators(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .filter((entry) => fs.existsSync(path.join(dir, entry.name, 'validator.json')))
    .map((entry) => entry.name)
    .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)) || a.localeCompare(b));
}

/** Makes the cluster with `coffer cluster init`, or finds the one a previous run made. */
function prepareCluster(options: ReturnType<typeof parseOptions>): {
  validators: string[];
  chainId: string;
  created: boolean;
} {
  const { dir } = options;
  const genesisFile = path.join(dir, 'genesis.json');
  let created = false;
  if (!fs.existsSync(genesisFile)) {
    if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
      die(`${dir} is not empty and holds no cluster (no genesis.json); choose another --dir`);
    }
    const args = ['cluster', 'init', '--validators', String(options.validators ?? 3)];
    args.push('--dir', dir, ...(options.chainId ? ['--chain-id', options.chainId] : []));
    say(`coffer ${args.join(' ')}`);
    const result = spawnSync(process.execPath, ['--import', 'tsx', cliEntry, ...args], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    if (result.status !== 0) {
      die(`cluster init failed:\n${result.stderr}${result.stdout}`);
    }
    created = true;
  }
  const genesis = JSON.parse(fs.readFileSync(genesisFile, 'utf8')) as { chainId: string };
  const validators = existingValidators(dir);
  if (validators.length === 0) die(`${dir} holds a genesis.json but no validator directories`);
  if (!created && options.validators !== undefined && options.validators !== validators.length) {
    die(
      `${dir} holds a cluster of ${validators.length} validators, not ${options.validators}; ` +
        'drop --validators to resume it, or choose another --dir',
    );
  }
  if (!created && options.chainId !== undefined && options.chainId !== genesis.chainId) {
    die(`${dir} holds chain ${genesis.chainId}, not ${options.chainId}`);
  }
  return { validators, chainId: genesis.chainId, created };
}

interface NatsSlot {
  name: string;
  clientPort: number;
  routePort: number;
  monitorPort: number;
  configFile: string;
}

function natsSlots(dir: string, basePort: number): NatsSlot[] {
  return Array.from({ length: natsServers }, (_, i) => ({
    name: `n${i + 1}`,
    clientPort: basePort + i,
    routePort: basePort + routePortOffset + i,
    monitorPort: basePort + monitorPortOffset + i,
    configFile: path.join(dir, 'nats', `n${i + 1}.conf`),
  }));
}

/** The shape of docs/cluster.md's "Three servers on one host"; rewritten on every run. */
function writeNatsConfig(slot: NatsSlot, slots: NatsSlot[], dir: string): void {
  const routes = slots
    .filter((other) => other !== slot)
    .map((other) => `nats-route://127.0.0.1:${other.routePort}`);
  const lines = [
    `server_name: ${slot.name}`,
    `listen: 127.0.0.1:${slot.clientPort}`,
    `http: 127.0.0.1:${slot.monitorPort}`,
    'jetstream {',
    `  store_dir: ${JSON.stringify(path.join(dir, 'nats', slot.name))}`,
    '  max_memory_store: 256MB',
    '  max_file_store: 4GB',
    '}',
    'cluster {',
    '  name: coffer-local',
    `  listen: 127.0.0.1:${slot.routePort}`,
    `  routes: [${routes.join(', ')}]`,
    '}',
  ];
  fs.writeFileSync(slot.configFile, `${lines.join('\n')}\n`);
}

/** Starts a process in its own process group (Ctrl-C reaches only this script, which orders the stop). */
function start(name: string, command: string, args: string[], logFile: string): Managed {
  const log = fs.openSync(logFile, 'a');
  fs.writeSync(log, `\n--- ${new Date().toISOString()} local-cluster starts ${name}\n`);
  const child = spawn(command, args, {
    cwd: repoRoot,
    stdio: ['ignore', log, log],
    detached: true,
  });
  fs.closeSync(log);
  const entry: Managed = {
    name,
    child,
    logFile,
    running: true,
    stopping: false,
    exited: Promise.resolve(),
  };
  entry.exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      entry.running = false;
      if (!entry.stopping && !shuttingDown) {
        say(
          `\n${name} exited (${signal ?? `code ${code}`}); the last lines of ${logFile}:\n` +
            logTail(logFile),
        );
      }
      resolve();
    });
    child.once('error', (error) => {
      entry.running = false;
      say(`${name}: ${error.message}`);
      resolve();
    });
  });
  managed.push(entry);
  return entry;
}

function logTail(file: string, lines = logTailLines): string {
  try {
    const text = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    return text
      .slice(-lines)
      .map((line) => `  ${line}`)
      .join('\n');
  } catch {
    return '  (no log)';
  }
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    const text = await response.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // /healthz of an old nats-server, or a page that is not JSON
    }
    return { status: response.status, body };
  } catch {
    return { status: 0, body: {} };
  }
}

/** Polls until `ready` holds for every one of `what`, or fails with the logs of those not ready. */
async function waitAll<T extends { entry: Managed }>(
  what: string,
  items: T[],
  ready: (item: T) => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(items);
  while (pending.size > 0) {
    for (const item of [...pending]) {
      if (!item.entry.running) {
        throw new Error(`${item.entry.name} exited while starting (log: ${item.entry.logFile})`);
      }
      if (await ready(item)) pending.delete(item);
    }
    if (pending.size === 0) return;
    if (Date.now() > deadline) {
      const names = [...pending].map((item) => item.entry.name).join(', ');
      const tails = [...pending]
        .map(
          (item) => `${item.entry.name} (${item.entry.logFile}):\n${logTail(item.entry.logFile)}`,
        )
        .join('\n');
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${names}\n${tails}`);
    }
    await delay(pollIntervalMs);
  }
}

async function stopProcess(entry: Managed): Promise<void> {
  if (!entry.running) return;
  entry.stopping = true;
  entry.child.kill('SIGTERM');
  const stopped = await Promise.race([entry.exited.then(() => true), delay(stopTimeoutMs)]);
  if (!stopped) {
    say(`${entry.name} did not stop within ${stopTimeoutMs} ms: SIGKILL`);
    entry.child.kill('SIGKILL');
    await entry.exited;
  }
}

/** Nodes first (they close their NATS connections and stores), then the NATS servers. */
async function stopAll(): Promise<void> {
  shuttingDown = true;
  const nodes = managed.filter((entry) => !entry.name.startsWith('nats-'));
  const nats = managed.filter((entry) => entry.name.startsWith('nats-'));
  await Promise.all(nodes.map(stopProcess));
  await Promise.all(nats.map(stopProcess));
}

function killAllNow(): void {
  for (const entry of managed) if (entry.running) entry.child.kill('SIGKILL');
}

async function main(): Promise<void> {
  const options = parseOptions();
  const natsBinary = natsServerOrDie();
  const { dir } = options;
  const cluster = prepareCluster(options);
  // Before any server touches the directory: a second run on it would share the JetStream
  // store with the first and corrupt it. Released on exit; a killed run's lock is taken over.
  let lock: DataDirLock;
  try {
    lock = lockDataDir(dir, 'npm run cluster:local', new Date(), '--dir');
  } catch (error) {
    die((error as Error).message);
  }
  process.on('exit', () => lock.release());
  const { validators, chainId } = cluster;
  if (validators.length > 16) die('at most 16 validators');
  const slots = natsSlots(dir, options.natsBasePort);
  const apiPorts = validators.map((_, i) => options.basePort + i);
  const ports = [...slots.flatMap((s) => [s.clientPort, s.routePort, s.monitorPort]), ...apiPorts];
  const busy: number[] = [];
  for (const port of ports) if (!(await portFree(port))) busy.push(port);
  if (busy.length > 0) {
    die(
      `port${busy.length > 1 ? 's' : ''} ${busy.join(', ')} on 127.0.0.1 in use (another local ` +
        'cluster, or a system nats-server?): stop it, or choose --base-port (nodes) and ' +
        '--nats-base-port (NATS: client ports Q.., routes Q+2000.., monitoring Q+4000..)',
    );
  }

  fs.mkdirSync(path.join(dir, 'nats'), { recursive: true, mode: 0o700 });
  fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
  for (const slot of slots) writeNatsConfig(slot, slots, dir);

  // Ctrl-C reaches this process twice: from the terminal and relayed by tsx (and npm). A signal
  // within a second of the first is that echo; a later one means: kill now.
  let interruptedAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interruptedAt !== undefined) {
      if (Date.now() - interruptedAt < signalEchoMs) return;
      say(`${signal} again: killing everything now`);
      killAllNow();
      process.exit(130);
    }
    interruptedAt = Date.now();
    say(`\n${signal}: stopping the nodes, then the NATS servers (again to kill at once)`);
    void stopAll().then(() => {
      say(`stopped; run again with --dir ${dir} to resume chain ${chainId}`);
      process.exit(0);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', killAllNow);

  say(`${cluster.created ? 'created' : 'resuming'} cluster ${chainId} in ${dir}`);
  say(`starting ${natsServers} nats-servers (${natsBinary})`);
  const natsProcs = slots.map((slot) => ({
    slot,
    entry: start(
      `nats-${slot.name}`,
      natsBinary,
      ['-c', slot.configFile],
      path.join(dir, 'logs', `nats-${slot.name}.log`),
    ),
  }));
  await waitAll(
    'the NATS servers to be healthy and follow one JetStream meta leader',
    natsProcs,
    async ({ slot }) => {
      const health = await getJson(`http://127.0.0.1:${slot.monitorPort}/healthz`);
      if (health.status !== 200) return false;
      const jsz = await getJson(`http://127.0.0.1:${slot.monitorPort}/jsz`);
      const meta = jsz.body.meta_cluster as { leader?: string } | undefined;
      return Boolean(meta?.leader);
    },
    natsReadyTimeoutMs,
  );
  const natsUrls = slots.map((slot) => `nats://127.0.0.1:${slot.clientPort}`);

  say(`starting ${validators.length} node${validators.length === 1 ? '' : 's'} (tsx)`);
  const nodes = validators.map((name, i) => {
    const port = apiPorts[i]!;
    const args = ['--import', 'tsx', cliEntry, 'start'];
    args.push('--data-dir', path.join(dir, name), '--cluster', natsUrls.join(','));
    args.push('--validator', name, '--host', '127.0.0.1', '--port', String(port));
    return {
      name,
      url: `http://127.0.0.1:${port}`,
      entry: start(name, process.execPath, args, path.join(dir, 'logs', `${name}.log`)),
    };
  });
  await waitAll(
    'the nodes to answer /health with 200',
    nodes,
    async (node) => (await getJson(`${node.url}/health`)).status === 200,
    nodeReadyTimeoutMs,
  );

  const devAccount = JSON.parse(fs.readFileSync(path.join(dir, 'dev-account.json'), 'utf8')) as {
    address: string;
  };
  const relativeDir = path.relative(process.cwd(), dir) || '.';
  const shown = relativeDir.startsWith('..') ? dir : `./${relativeDir}`;
  const lines = [
    '',
    `cluster ${chainId}: ${validators.length} validators on ${natsServers} nats-servers, all healthy`,
  ];
  for (const node of nodes) {
    const health = await getJson(`${node.url}/health`);
    const height = String(health.body.height);
    const finalized = String(health.body.finalizedHeight);
    lines.push(
      `  ${node.name.padEnd(4)} ${node.url}  height ${height}, final ${finalized}  ` +
        `(data ${shown}/${node.name}, log ${shown}/logs/${node.name}.log)`,
    );
  }
  const first = nodes[0]!.url;
  const last = nodes[nodes.length - 1]!.url;
  lines.push(
    `  NATS ${natsUrls.join(',')}  (monitoring http://127.0.0.1:${slots[0]!.monitorPort}/jsz)`,
    '',
    `dev account ${devAccount.address} issues USD and holds 1,000,000.00 of it;`,
    `its secret key (development only) is in ${shown}/dev-account.json`,
    '',
    'try, in another terminal:',
    `  curl -s ${first}/health`,
    `  curl -s ${last}/v1/finality`,
    '  export COFFER_PASSPHRASE=change-me',
    `  node -p "require('${shown}/dev-account.json').secretKey" | npx coffer keys import dev`,
    '  npx coffer keys new alice',
    `  npx coffer send 12.50 USD --to alice --from dev --node ${first}`,
    `  npx coffer balance alice --node ${last}`,
    `  curl -s ${last}/v1/blocks/latest          # "final": true once attested by > 2/3`,
    '',
    'Ctrl-C stops everything; run the same command again to resume this chain.',
  );
  say(lines.join('\n'));

  // Says so when a node halts (state root mismatch) or comes back; exits are reported by start().
  const statuses = new Map<string, string>();
  for (;;) {
    await delay(healthWatchIntervalMs);
    if (shuttingDown) return;
    for (const node of nodes) {
      if (!node.entry.running) continue;
      const health = await getJson(`${node.url}/health`);
      const status = typeof health.body.status === 'string' ? health.body.status : 'unreachable';
      if (shuttingDown) return;
      if (statuses.has(node.name) && statuses.get(node.name) !== status) {
        const fault = typeof health.body.fault === 'string' ? `: ${health.body.fault}` : '';
        say(`${node.name} is now ${status}${fault}`);
      }
      statuses.set(node.name, status);
    }
  }
}

main().catch(async (error: unknown) => {
  process.stderr.write(
    `local-cluster: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  await stopAll();
  process.exit(1);
});
