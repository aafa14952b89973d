import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { toHex } from '../crypto/index.js';
import {
  ConfigError,
  CofferNode,
  exportSigningHistoryOf,
  importSigningHistoryInto,
  initDataDir,
  parseNodeConfig,
} from '../node/index.js';
import type { SigningHistory } from '../node/signer-store.js';

/**
 * `coffer init` and `coffer start`: the node itself. Their options are the node's config
 * (src/node/config.ts, which also reads COFFER_DATA_DIR and the other node variables); they take
 * no `--node` or `--json`. Tests parse the "listening on http://..." line `start` prints.
 */
function fail(message: string): never {
  process.stderr.write(`coffer: ${message}\n`);
  process.exit(1);
}

export function runNodeCommand(
  command: 'init' | 'start' | 'signing-history',
  rest: string[],
): Promise<void> {
  const run =
    command === 'signing-history'
      ? Promise.resolve().then(() => runSigningHistory(rest))
      : runNode(command, rest);
  return run.catch((error: unknown) => {
    if (error instanceof ConfigError || (error instanceof Error && 'code' in error))
      fail(error.message);
    if (error instanceof TypeError && 'code' in error) fail(error.message);
    fail(error instanceof Error ? (error.stack ?? error.message) : String(error));
  });
}

/** `coffer signing-history export|import`: move a producer's safety record between machines. */
function runSigningHistory(rest: string[]): void {
  const { values, positionals } = parseArgs({
    args: rest,
    options: { 'data-dir': { type: 'string' } },
    strict: true,
    allowPositionals: true,
  });
  const { dataDir } = parseNodeConfig({ dataDir: values['data-dir'] });
  const [action, file] = positionals;
  if (action === 'export' && file === undefined) {
    process.stdout.write(JSON.stringify(exportSigningHistoryOf(dataDir), null, 2) + '\n');
    return;
  }
  if (action === 'import' && file !== undefined && positionals.length === 2) {
    let history: SigningHistory;
    try {
      history = JSON.parse(fs.readFileSync(file, 'utf8')) as SigningHistory;
    } catch (error) {
      fail(
        `invalid_file: cannot read a signing history from ${file} (${(error as Error).message})`,
      );
    }
    const lastHeight = importSigningHistoryInto(dataDir, history);
    process.stdout.write(
      `signing history imported; this producer signs only above height ${lastHeight}\n`,
    );
    return;
  }
  fail('usage: coffer signing-history export [--data-dir D] | import FILE [--data-dir D]');
}

async function runNode(command: 'init' | 'start', rest: string[]): Promise<void> {
  const { values } = parseArgs({
    args: rest,
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
    strict: true,
    allowPositionals: false,
  });
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
    fail('init makes a solo chain; a cluster starts from coffer cluster init');
  }

  if (command === 'init') {
    const result = initDataDir({
      dataDir: config.dataDir,
      chainId: config.chainId,
      now: Date.now(),
    });
    if (!result.created) fail(`${config.dataDir} already holds chain ${result.chainId}`);
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
      (error: unknown) => fail(String(error)),
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
