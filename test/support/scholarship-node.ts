import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Genesis } from '../../src/chain/index.js';
import { CofferNode, parseNodeConfig } from '../../src/node/index.js';
import { createClient, type CofferClient } from '../../src/sdk/index.js';

/**
 * A node in this process on a genesis of the caller's (the scholarship tests and bench set the
 * base difficulty in it), as test-node.ts opens one (5 ms blocks while txs wait, no idle
 * blocks), with an optional clock. It has no dev account: the genesis funds whom it names.
 */
export interface OpenNode {
  node: CofferNode;
  url: string;
  client: CofferClient;
  close(): Promise<void>;
}

export async function openNode(
  name: string,
  options: { genesis: Genesis; now?: () => number },
): Promise<OpenNode> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `coffer-${name}-`));
  let node: CofferNode | undefined;
  try {
    node = await CofferNode.open(
      parseNodeConfig(
        {
          dataDir,
          port: 0,
          logLevel: 'silent',
          blockIntervalMs: 5,
          idleBlockIntervalMs: 0,
          verifyWorkers: 1,
        },
        {},
      ),
      options,
    );
    const url = await node.listen();
    const opened = node;
    return {
      node: opened,
      url,
      client: createClient(url),
      async close() {
        await opened.close();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await node?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** A genesis with one asset, USD (2 decimals), issued by `issuer` who holds 1,000,000.00 of it. */
export function usdGenesis(chainId: string, issuer: string): Genesis {
  return {
    chainId,
    time: Date.now(),
    producer: '',
    assets: [{ symbol: 'USD', decimals: 2, issuer }],
    balances: [{ address: issuer, asset: 'USD', amount: '100000000' }],
  };
}
