/*
 * The Coffer side of the conversion engine's world, without ganache or the provider: a Coffer
 * chain as a node process of its own (`coffer init` with its chain id, then `coffer start`), the
 * bridge process (`coffer bridge start`, the built CLI), the registry's pair tx, the secret files
 * the bridge reads and an ECB rates file. The end-to-end world (conversion-world.ts) and the
 * conversion bench (bench/conversion.ts) both start their chains and bridge with these.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

import { conversionTxBuilders as conv } from '../../src/modules/conversion/client.js';
import {
  createClient,
  importKey,
  type CofferClient,
  type SigningKey,
} from '../../src/sdk/index.js';
import { childEnv, cliPath } from './cli.js';
import { NodeProcess } from './node-process.js';

/** Blocks every 20 ms while txs wait, an empty one every 40 ms: the bounds the registry states. */
export const blockMsMin = 20;
export const blockMsMax = 40;
/** Euro reference rates as the ECB publishes them: 1 EUR = 1.0842 USD. */
export const eurUsd = '1.0842';

export interface CofferChain {
  id: string;
  process: NodeProcess;
  url: string;
  client: CofferClient;
  dev: SigningKey;
}

export class BridgeProcess {
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {
    this.exited = once(child, 'exit').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
    }));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}

/** A fresh chain `id` in `dir/id`, its node listening, and its dev account (which issues USD). */
export async function startCofferChain(dir: string, id: string): Promise<CofferChain> {
  const dataDir = path.join(dir, id);
  fs.mkdirSync(dataDir);
  const init = await new Promise<number | null>((resolve) => {
    const child = spawn(
      process.execPath,
      [cliPath, 'init', '--data-dir', dataDir, '--chain-id', id],
      { env: childEnv, stdio: 'ignore' },
    );
    child.on('exit', resolve);
  });
  if (init !== 0) throw new Error(`coffer init ${id} failed`);
  const node = NodeProcess.spawn({
    cliPath,
    dataDir,
    blockIntervalMs: blockMsMin,
    logLevel: 'warn',
    env: childEnv,
    startTimeoutMs: 20_000,
    args: ['--idle-block-interval-ms', String(blockMsMax)],
  });
  const { url } = await node.listening();
  const dev = JSON.parse(fs.readFileSync(path.join(dataDir, 'dev-account.json'), 'utf8')) as {
    secretKey: string;
  };
  return { id, process: node, url, client: createClient(url), dev: importKey(dev.secretKey) };
}

/**
 * Starts `coffer bridge start --config configFile` and waits for its "listening on" line;
 * `nodeArgs` go to node before the CLI (`--cpu-prof`).
 */
export async function startBridgeProcess(
  configFile: string,
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<BridgeProcess> {
  const args = [...nodeArgs, cliPath, 'bridge', 'start', '--config', configFile];
  const child = spawn(process.execPath, args, {
    env: { ...childEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the bridge did not start:\n${output}`)),
      30_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the bridge exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
  const bridge = new BridgeProcess(child, url);
  child.stdout.on('data', (chunk: Buffer) => (bridge.output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (bridge.output += chunk.toString('utf8')));
  return bridge;
}

/** A secret file the bridge accepts (mode 600). */
export function writeSecret(file: string, text: string): string {
  fs.writeFileSync(file, `${text}\n`, { mode: 0o600 });
  return file;
}

/** Today's ECB reference rates file (the date is today's, so the rates are fresh). */
export function ecbFile(file: string): string {
  const day = new Date().toISOString().slice(0, 10);
  fs.writeFileSync(
    file,
    `<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
	<gesmes:subject>Reference rates</gesmes:subject>
	<gesmes:Sender>
		<gesmes:name>European Central Bank</gesmes:name>
	</gesmes:Sender>
	<Cube>
		<Cube time='${day}'>
			<Cube currency='USD' rate='${eurUsd}'/>
			<Cube currency='JPY' rate='162.45'/>
			<Cube currency='GBP' rate='0.8321'/>
		</Cube>
	</Cube>
</gesmes:Envelope>
`,
  );
  return file;
}

/** The registry tx of an active pair: `spreadBps`, a 5 bps fee, from 100 minor units. */
export function pair(
  fromEco: string,
  fromAsset: string,
  toEco: string,
  toAsset: string,
  spreadBps: number,
) {
  return conv.pairSet({
    from: { ecosystem: fromEco, asset: fromAsset },
    to: { ecosystem: toEco, asset: toAsset },
    spreadBps,
    feeBps: 5,
    feeFixed: '0',
    min: '100',
    max: '100000000000',
    status: 'active',
  });
}
