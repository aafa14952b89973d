import path from 'node:path';
import { parseArgs } from 'node:util';
import { toHex } from '../crypto/index.js';
import { ConfigError, CofferNode, initDataDir, parseNodeConfig } from '../node/index.js';

/**
 * `coffer init` and `coffer start`: the node itself. Their options are the node's config
 * (src/node/config.ts, which also reads COFFER_DATA_DIR and the other node variables); they take
 * no `--node` or `--json`. Tests parse the "listening on http://..." line `start` prints.
 */
function fail(message: string): never {
  process.stderr.write(`coffer: ${message}\n`);
  process.exit(1);
}

export function runNodeCommand(command: 'init' | 'start', rest: string[]): Promise<void> {
  return runNode(command, rest).catch((error: unknown) => {
    if (error instanceof ConfigError || (error instanceof Error && 'code' in error))
      fail(error.message);
    if (error instanceof TypeError && 'code' in error) fail(error.message);
    fail(error instanceof Error ? (error.stack ?? error.message) : String(error));
  });
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
  });

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
