import path from 'node:path';
import { parseArgs } from 'node:util';
import { dataFiles, initCluster, type ClusterInitResult } from '../node/index.js';

/**
 * `coffer cluster init`: a genesis for N validators and a data directory for each (issue 7). Like
 * `coffer init` it loads the node, takes no `--node` or `--json`, and prints
 * `coffer: <code>: <reason>` on stderr and exits 1 when it fails.
 */

const usage = 'coffer cluster init --validators N --dir D [--chain-id ID]';
const defaultChainId = 'coffer-cluster';
const defaultDir = './cluster';
/** The first validator's nats-server and API ports; validator i takes the base plus i. */
const natsPortBase = 4222;
const apiPortBase = 7421;

class UsageError extends Error {
  readonly code = 'usage';
}

function fail(code: string, message: string): never {
  process.stderr.write(`coffer: ${code}: ${message.replace(/\s*\n\s*/g, ' ').trim()}\n`);
  process.exit(1);
}

export function runClusterCommand(rest: string[]): Promise<void> {
  return Promise.resolve()
    .then(() => runCluster(rest))
    .catch((error: unknown) => {
      if (error instanceof Error && typeof (error as { code?: unknown }).code === 'string') {
        fail((error as Error & { code: string }).code, error.message);
      }
      fail(
        'internal_error',
        error instanceof Error ? (error.stack ?? error.message) : String(error),
      );
    });
}

function runCluster(rest: string[]): void {
  const [action, ...args] = rest;
  if (action === '--help' || action === '-h' || action === 'help') {
    process.stdout.write(`Usage: ${usage}\n`);
    return;
  }
  if (action !== 'init') {
    throw new UsageError(
      action === undefined
        ? `missing the cluster command; usage: ${usage}`
        : `unknown command cluster ${action}; usage: ${usage}`,
    );
  }
  let values: { validators?: string; dir?: string; 'chain-id'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        validators: { type: 'string' },
        dir: { type: 'string' },
        'chain-id': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; usage: ${usage}`);
  }
  if (values.help) {
    process.stdout.write(`Usage: ${usage}\n`);
    return;
  }
  if (values.validators === undefined) {
    throw new UsageError(`--validators N is required; usage: ${usage}`);
  }
  if (!/^[0-9]{1,3}$/.test(values.validators)) {
    throw new UsageError(
      `--validators ${values.validators} is not a whole number; usage: ${usage}`,
    );
  }
  if (values.dir === '') throw new UsageError(`--dir is empty; usage: ${usage}`);
  const result = initCluster({
    dir: values.dir ?? defaultDir,
    validators: Number(values.validators),
    chainId: values['chain-id'] ?? defaultChainId,
    now: Date.now(),
  });
  process.stdout.write(describeCluster(result));
}

/** What `cluster init` prints: the validators, how to start each, and the dev account. */
function describeCluster(result: ClusterInitResult): string {
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
    `its secret key (development only) is in ${path.join(result.dir, dataFiles.devAccount)}`,
  );
  return lines.join('\n') + '\n';
}
