// The licensing console test's world: a content gateway in this process and a node process
// serving the built console whose pages may call that gateway and play media from it
// (COFFER_CONSOLE_MEDIA_ORIGINS: the console's CSP allows no other origin), and headless Chromium.
// The gateway's port is chosen first (the node's CSP names it), then the node starts, then the
// gateway listens on that port with the node's URL.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import type { Browser } from 'playwright-core';

import { parseGatewayConfig } from '../../src/modules/licensing/gateway/config.js';
import { initGatewayDataDir } from '../../src/modules/licensing/gateway/storage.js';
import { startGateway, type RunningGateway } from '../../src/modules/licensing/gateway/server.js';
import { importKey, type SigningKey } from '../../src/sdk/index.js';
import { launchChromium } from './chromium.js';
import { childEnv, cliPath } from './cli.js';
import { NodeProcess, assertBuilt } from './node-process.js';

const root = path.resolve(import.meta.dirname, '../..');

export interface LicensingConsoleWorld {
  /** The node (and its console). */
  url: string;
  /** The content gateway's origin. */
  gatewayUrl: string;
  gateway: RunningGateway;
  /** The dev account: it issues USD and holds 1,000,000.00 of it. */
  dev: SigningKey;
  browser: Browser;
  close(): Promise<void>;
}

/** A loopback port nothing listens on now (the gateway binds it a moment later). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startLicensingConsole(): Promise<LicensingConsoleWorld> {
  assertBuilt(cliPath);
  assert.ok(
    fs.existsSync(path.join(root, 'dist/web/index.html')),
    'dist/web is missing: npm run build (npm test builds it)',
  );
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-licensing-console-'));
  const gatewayDir = path.join(workDir, 'gateway');
  fs.mkdirSync(gatewayDir);
  initGatewayDataDir(gatewayDir);
  const port = await freePort();
  const gatewayUrl = `http://127.0.0.1:${port}`;
  const node = NodeProcess.spawn({
    cliPath,
    dataDir: path.join(workDir, 'node'),
    blockIntervalMs: 50,
    logLevel: 'warn',
    env: { ...childEnv, COFFER_CONSOLE_MEDIA_ORIGINS: gatewayUrl },
    startTimeoutMs: 15_000,
  });
  const killOnExit = () => node.killNow();
  process.on('exit', killOnExit);
  let gateway: RunningGateway | undefined;
  try {
    const { url } = await node.listening();
    gateway = await startGateway(
      parseGatewayConfig({
        node: { url },
        dataDir: gatewayDir,
        http: { host: '127.0.0.1', port },
        usage: { flushIntervalMs: 200 },
      }),
      { log: () => undefined },
    );
    const devFile = path.join(workDir, 'node', 'dev-account.json');
    const dev = importKey(
      (JSON.parse(fs.readFileSync(devFile, 'utf8')) as { secretKey: string }).secretKey,
    );
    const browser = await launchChromium();
    const running = gateway;
    return {
      url,
      gatewayUrl,
      gateway: running,
      dev,
      browser,
      async close() {
        await browser.close();
        await running.close();
        await node.kill();
        process.off('exit', killOnExit);
        fs.rmSync(workDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await gateway?.close();
    await node.kill();
    process.off('exit', killOnExit);
    throw error;
  }
}
