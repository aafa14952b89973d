import path from 'node:path';
import type { ClusterInitResult } from '../node/index.js';
import { parseCommandLine, usageLine, type CommandLineSpec } from './command-line.js';
import { CliError, exitCodes, oneLine, usageError } from './errors.js';

/**
 * `coffer cluster init`: a genesis for N validators and a data directory for each (issue 7). Like
 * `coffer init` it loads the node, takes no `--node` or `--json`, and prints
 * `coffer: <code>: <reason>` on stderr and exits 1 when it fails, 2 for a bad command line.
 */

const spec: CommandLineSpec = {
  command: 'coffer cluster init',
  synopsis: '--validators N [--dir D] [--chain-id ID]',
  options: {
    validators: { type: 'string' },
    dir: { type: 'string' },
    'chain-id': { type: 'string' },
  },
  positionals: { min: 0, max: 0 },
};
const usage = usageLine(spec);
const help = `Usage: ${usage}

Create a genesis for N validators (1 to 16), each a bonded, registered block producer, and a data
directory for each in D (default ./cluster, which must be empty or absent; chain id default
coffer-cluster); print how to start each validator and the dev account. See docs/cluster.md.
`;
const defaultChainId = 'coffer-cluster';
const defaultDir = './cluster';
/** The first validator's nats-server and API ports; validator i takes the base plus i. */
const natsPortBase = 4222;
const apiPortBase = 7421;

function fail(code: string, message: string, exitCode: number = exitCodes.failure): never {
  process.stderr.write(`coffer: ${code}: ${oneLine(message)}\n`);
  process.exit(exitCode);
}

export function runClusterCommand(rest: string[]): Promise<void> {
  return Promise.resolve()
    .then(() => runCluster(rest))
    .catch((error: unknown) => {
      if (error instanceof CliError) fail(error.code, error.message, error.exitCode);
      if (error instanceof Error && typeof (error as { code?: unknown }).code === 'string') {
        fail((error as Error & { code: string }).code, error.message);
      }
      const where = error instanceof Error ? (error.stack?.split('\n')[1]?.trim() ?? '') : '';
      const message = error instanceof Error ? error.message : String(error);
      fail('internal_error', `${message}${where ? ` (${where})` : ''}`);
    });
}

async function runCluster(rest: string[]): Promise<void> {
  const [action, ...args] = rest;
  if (action === '--help' || action === '-h' || action === 'help') {
    process.stdout.write(help);
    return;
  }
  if (action !== 'init') {
    if (action === undefined) {
      // Like a bare `coffer`: the usage on stderr, exit 2.
      process.stderr.write(`Usage:\n  ${usage}\n`);
      throw usageError('coffer cluster needs a command; see the usage above');
    }
    throw usageError(`unknown command cluster ${action}; usage: ${usage}`);
  }
  const parsed = parseCommandLine(args, spec);
  if (parsed.help) {
    process.stdout.write(help);
    return;
  }
  const values = parsed.values as { validators?: string; dir?: string; 'chain-id'?: string };
  if (values.validators === undefined) {
    throw usageError(`--validators N is required; usage: ${usage}`);
  }
  if (!/^[0-9]{1,3}$/.test(values.validators)) {
    throw usageError(`--validators ${values.validators} is not a whole number; usage: ${usage}`);
  }
  if (values.dir === '') throw usageError(`--dir is empty; usage: ${usage}`);
  // The node is loaded only once the command line is good.
  const { initCluster, dataFiles } = await import('../node/index.js');
  const result = initCluster({
    dir: values.dir ?? defaultDir,
    validators: Number(values.validators),
    chainId: values['chain-id'] ?? defaultChainId,
    now: Date.now(),
  });
  process.stdout.write(describeCluster(result, dataFiles.devAccount));
}

/** What `cluster init` prints: the validators, how to start each, and the dev account. */
function describeCluster(result: ClusterInitResult, devAccountFile: string): string {
  const count = result.validators.length;
  const nats = result.validators.map((_, index) => `nats://127.0.0.1:${natsPortBase + index}`);
  const lines = [
    `created cluster ${result.chainId} in ${result.dir} with ${count} validator${count === 1 ? '' : 's'}`,
  ];
  for (const validator of result.validators) {
    lines.push(
      `validator ${validator.name}`,
      `  data dir: ${validator.dataDir}`,
      `  operator: ${validator.operator}`,
      `  producer: ${validator.producer}`,
    );
  }
  lines.push(
    `start each validator, with a nats-server at each of ${nats.join(', ')}:`,
    ...result.validators.map(
      (validator, index) =>
        `coffer start --data-dir ${validator.dataDir} --cluster ${nats.join(',')} ` +
        `--validator ${validator.name} --port ${apiPortBase + index}`,
    ),
    `dev account ${result.devAccount.address} holds 1,000,000.00 USD and issues USD`,
    `its secret key (development only) is in ${path.join(result.dir, devAccountFile)}`,
  );
  return lines.join('\n') + '\n';
}
