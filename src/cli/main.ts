#!/usr/bin/env node
import path from 'node:path';
import { parseArgs } from 'node:util';
import { toHex } from '../crypto/index.js';
import { ConfigError, CofferNode, initDataDir, parseNodeConfig } from '../node/index.js';

const usage = `Usage: coffer <command> [options]

Commands:
  init  [--data-dir D] [--chain-id ID]           create a dev chain in D (default ./.coffer)
  start [--data-dir D] [--host H] [--port P]     run a node (creates the dev chain on first run)

Options are also read from COFFER_DATA_DIR, COFFER_HOST, COFFER_PORT, COFFER_CHAIN_ID.`;

function fail(message: string): never {
  process.stderr.write(`coffer: ${message}\n`);
  process.exit(1);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(usage + '\n');
    return;
  }
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
    if (!result.created) fail(`${config.dataDir} already holds chain ${result.genesis.chainId}`);
    process.stdout.write(`created chain ${result.genesis.chainId} in ${config.dataDir}\n`);
    printDevAccount(result.devAccount, config.dataDir);
    return;
  }
  if (command !== 'start') fail(`unknown command ${command}; see coffer --help`);

  const node = await CofferNode.open(config);
  if (node.init.created) {
    process.stdout.write(`created chain ${node.init.genesis.chainId} in ${config.dataDir}\n`);
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

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError || (error instanceof Error && 'code' in error))
    fail(error.message);
  if (error instanceof TypeError && 'code' in error) fail(error.message);
  fail(error instanceof Error ? (error.stack ?? error.message) : String(error));
});
