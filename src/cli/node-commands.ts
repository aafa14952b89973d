import fs from 'node:fs';
import path from 'node:path';
import { toHex } from '../crypto/index.js';
import type { SigningHistory } from '../node/signer-store.js';
import { parseCommandLine, usageLine, type CommandLineSpec } from './command-line.js';
import { CliError, exitCodes, oneLine, usageError } from './errors.js';

/**
 * `coffer init`, `coffer start` and `coffer signing-history`: the node itself. Their options are
 * the node's config (src/node/config.ts, which also reads COFFER_DATA_DIR and the other node
 * variables); they take no `--node` or `--json`. Tests parse the "listening on http://..." line
 * `start` prints. Like every command, a failure prints `coffer: <code>: <reason>` on one line of
 * stderr and exits 1; a bad command line exits 2.
 */

type NodeCommand = 'init' | 'start' | 'signing-history';

const initSpec: CommandLineSpec = {
  command: 'coffer init',
  synopsis: '[--data-dir D] [--chain-id ID]',
  options: { 'data-dir': { type: 'string' }, 'chain-id': { type: 'string' } },
  positionals: { min: 0, max: 0 },
};

const startSpec: CommandLineSpec = {
  command: 'coffer start',
  synopsis:
    '[--data-dir D] [--host H] [--port P] [--chain-id ID] [--block-interval-ms MS] ' +
    '[--idle-block-interval-ms MS] [--log-level LEVEL] [--dev-clock] [--cluster URLS ' +
    '--validator NAME [--producer-timeout-ms MS]]',
  options: {
    'data-dir': { type: 'string' },
    'chain-id': { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    'block-interval-ms': { type: 'string' },
    'log-level': { type: 'string' },
    'dev-clock': { type: 'boolean' },
    cluster: { type: 'string' },
    validator: { type: 'string' },
    'producer-timeout-ms': { type: 'string' },
    'idle-block-interval-ms': { type: 'string' },
  },
  positionals: { min: 0, max: 0 },
};

const signingHistorySpec: CommandLineSpec = {
  command: 'coffer signing-history',
  synopsis: '(export | import FILE) [--data-dir D]',
  options: { 'data-dir': { type: 'string' } },
  positionals: { min: 0, max: 2 },
};

const help: Record<NodeCommand, string> = {
  init: `Usage: ${usageLine(initSpec)}

Create a dev chain in D (default ./.coffer, or COFFER_DATA_DIR): a genesis with chain id ID
(default coffer-dev, or COFFER_CHAIN_ID), the producer's key, and a dev account that issues USD
and holds 1,000,000.00 of it; prints the dev account and where its key is. Refuses a directory
that already holds a chain. coffer start does the same on its first run.
`,
  start: `Usage: coffer start [--data-dir D] [--host H] [--port P] [--dev-clock] [options]
       coffer start --data-dir D/NAME --cluster nats://H:P[,...] --validator NAME [options]

Run a node on data directory D, creating a dev chain there on the first run (see coffer init),
and serve its API until Ctrl-C (SIGINT) or SIGTERM. With --cluster, run validator NAME of a
cluster (its data directory made by coffer cluster init), ordered by the NATS JetStream servers
given. Each option may also come from the environment variable after it; an option wins.

  --data-dir D                 COFFER_DATA_DIR         default ./.coffer
  --host H                     COFFER_HOST             default 127.0.0.1
  --port P                     COFFER_PORT             default 7420 (0: any free port)
  --chain-id ID                COFFER_CHAIN_ID         for a new chain; default coffer-dev
  --block-interval-ms MS       COFFER_BLOCK_INTERVAL_MS       default 100
  --idle-block-interval-ms MS  COFFER_IDLE_BLOCK_INTERVAL_MS  an empty block this often; 5000
  --log-level LEVEL            COFFER_LOG_LEVEL        fatal|error|warn|info|debug|trace|silent
  --dev-clock                  COFFER_DEV_CLOCK=1      development only: POST /v1/dev/clock
                                                       moves block time forward
  --cluster URLS               COFFER_CLUSTER          nats://H:P[,...]
  --validator NAME             COFFER_VALIDATOR        this node's name in the cluster
  --producer-timeout-ms MS     COFFER_PRODUCER_TIMEOUT_MS     default 2000

The other settings (mempool bounds, commit wait, verify workers, ...) are environment variables
only: see the README, "Commands".
`,
  'signing-history': `Usage: coffer signing-history export [--data-dir D]
       coffer signing-history import FILE [--data-dir D]

export prints the producer's signing history (JSON) to carry it to another machine; import
merges one before this node signs anything, so a producer moved between machines never signs a
height twice. Both need the node stopped. D defaults to ./.coffer (or COFFER_DATA_DIR).
`,
};

/** A failure: the one line of reason, then exit 1 (2 for a bad command line). */
function fail(code: string, message: string, exitCode: number = exitCodes.failure): never {
  process.stderr.write(`coffer: ${code}: ${oneLine(message)}\n`);
  process.exit(exitCode);
}

export function runNodeCommand(command: NodeCommand, rest: string[]): Promise<void> {
  return Promise.resolve()
    .then(() => (command === 'signing-history' ? runSigningHistory(rest) : runNode(command, rest)))
    .catch((error: unknown) => {
      if (error instanceof CliError) fail(error.code, error.message, error.exitCode);
      if (error instanceof Error && typeof (error as { code?: unknown }).code === 'string') {
        // The node's faults (ConfigError, DataDirError, ...) and system errors carry a code.
        fail((error as Error & { code: string }).code, error.message);
      }
      // A bug: still one line, with where it happened.
      const where = error instanceof Error ? (error.stack?.split('\n')[1]?.trim() ?? '') : '';
      const message = error instanceof Error ? error.message : String(error);
      fail('internal_error', `${message}${where ? ` (${where})` : ''}`);
    });
}

/** Parses the command line; prints the command's help (exit 0) and answers undefined if asked. */
function parse(command: NodeCommand, spec: CommandLineSpec, rest: string[]) {
  const parsed = parseCommandLine(rest, spec);
  if (parsed.help) {
    process.stdout.write(help[command]);
    return undefined;
  }
  return parsed;
}

/**
 * The node (Fastify, SQLite, NATS) is loaded only once the command line is good: `--help` and a
 * bad command line answer at once.
 */
function loadNode() {
  return import('../node/index.js');
}

/** `coffer signing-history export|import`: move a producer's safety record between machines. */
async function runSigningHistory(rest: string[]): Promise<void> {
  const parsed = parse('signing-history', signingHistorySpec, rest);
  if (!parsed) return;
  const { values, positionals } = parsed;
  const [action, file] = positionals;
  const usage = usageLine(signingHistorySpec);
  if (action === undefined) {
    process.stderr.write(help['signing-history']);
    throw usageError('coffer signing-history needs export or import; see the usage above');
  }
  if (action !== 'export' && action !== 'import') {
    throw usageError(`coffer signing-history: unknown action ${action}; usage: ${usage}`);
  }
  if ((action === 'export') !== (file === undefined)) {
    throw usageError(
      action === 'export'
        ? `coffer signing-history export takes no FILE (it prints to stdout); usage: ${usage}`
        : `coffer signing-history import needs the FILE to import; usage: ${usage}`,
    );
  }
  const { parseNodeConfig, exportSigningHistoryOf, importSigningHistoryInto } = await loadNode();
  const { dataDir } = parseNodeConfig({ dataDir: values['data-dir'] as string | undefined });
  if (action === 'export') {
    process.stdout.write(JSON.stringify(exportSigningHistoryOf(dataDir), null, 2) + '\n');
    return;
  }
  let history: SigningHistory;
  try {
    history = JSON.parse(fs.readFileSync(file!, 'utf8')) as SigningHistory;
  } catch (error) {
    throw new CliError(
      'invalid_file',
      `cannot read a signing history from ${file!} (${(error as Error).message})`,
    );
  }
  const lastHeight = importSigningHistoryInto(dataDir, history);
  process.stdout.write(
    `signing history imported; this producer signs only above height ${lastHeight}\n`,
  );
}

async function runNode(command: 'init' | 'start', rest: string[]): Promise<void> {
  const parsed = parse(command, command === 'init' ? initSpec : startSpec, rest);
  if (!parsed) return;
  const values = parsed.values as Record<string, string | undefined> & { 'dev-clock'?: boolean };
  const { parseNodeConfig, initDataDir, CofferNode } = await loadNode();
  const config = parseNodeConfig({
    dataDir: values['data-dir'],
    chainId: values['chain-id'],
    host: values.host,
    port: values.port,
    blockIntervalMs: values['block-interval-ms'],
    logLevel: values['log-level'],
    devClock: values['dev-clock'],
    cluster: values.cluster,
    validator: values.validator,
    producerTimeoutMs: values['producer-timeout-ms'],
    idleBlockIntervalMs: values['idle-block-interval-ms'],
  });
  if (command === 'init' && config.cluster) {
    throw new CliError(
      'invalid_config',
      'coffer init makes a solo chain, and COFFER_CLUSTER is set; a cluster starts from ' +
        'coffer cluster init',
    );
  }

  if (command === 'init') {
    const result = initDataDir({
      dataDir: config.dataDir,
      chainId: config.chainId,
      now: Date.now(),
    });
    if (!result.created) {
      fail('invalid_data_dir', `${config.dataDir} already holds chain ${result.chainId}`);
    }
    process.stdout.write(`created chain ${result.chainId} in ${config.dataDir}\n`);
    printDevAccount(result.devAccount, config.dataDir);
    return;
  }

  const node = await CofferNode.open(config);
  if (node.init.created) {
    process.stdout.write(`created chain ${node.init.chainId} in ${config.dataDir}\n`);
    printDevAccount(node.init.devAccount, config.dataDir);
  }
  const url = await node.listen();
  if (config.devClock) {
    process.stdout.write('dev clock on: POST /v1/dev/clock moves block time forward\n');
  }
  for (const note of node.startupNotes()) process.stdout.write(`note: ${note}\n`);
  if (config.cluster) {
    process.stdout.write(
      `validator ${config.validator} in a cluster ordered by ${config.cluster.join(',')}\n`,
    );
  }
  process.stdout.write(
    `coffer node ${node.chain.chainId} at height ${node.chain.height()} listening on ${url}\n`,
  );
  const stop = (signal: string) => {
    process.stdout.write(`${signal}: stopping\n`);
    node.close().then(
      () => process.exit(0),
      (error: unknown) => fail('internal_error', String(error)),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

function printDevAccount(
  devAccount: { address: string; secretKey: Uint8Array } | undefined,
  dataDir: string,
): void {
  if (!devAccount) return;
  process.stdout.write(
    `dev account ${devAccount.address} holds 1,000,000.00 USD and issues USD\n` +
      `its secret key (development only; also in ${path.join(dataDir, 'dev-account.json')}):\n` +
      `  ${toHex(devAccount.secretKey)}\n`,
  );
}
