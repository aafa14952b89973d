import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { toHex } from '../../src/crypto/index.js';
import { CofferNode, parseNodeConfig, type NodeOptions } from '../../src/node/index.js';
import {
  CofferError,
  createClient,
  importKey,
  type CofferClient,
  type SigningKey,
} from '../../src/sdk/index.js';

/** A node in this process, as the SDK tests use it, with a client and the dev key. */
export interface TestNode {
  node: CofferNode;
  dataDir: string;
  url: string;
  client: CofferClient;
  /** The dev account: it issues USD and holds 1,000,000.00 of it. */
  dev: SigningKey;
  /** Closes the node and removes its data directory. */
  close(): Promise<void>;
}

/**
 * Opens a node on a new temporary data directory (named after `name`), listening on a free
 * loopback port and cutting a block every 5 ms while txs wait (no idle blocks); `options` as
 * `CofferNode.open` takes them (extra modules).
 */
export async function startTestNode(name: string, options: NodeOptions = {}): Promise<TestNode> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `coffer-${name}-`));
  const node = await CofferNode.open(
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
  return {
    node,
    dataDir,
    url,
    client: createClient(url),
    dev: importKey(toHex(node.init.devAccount!.secretKey)),
    async close() {
      await node.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The `CofferError` a promise rejects with; fails the test if it resolves or throws another. */
export async function rejection(promise: Promise<unknown>): Promise<CofferError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CofferError, `a CofferError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a CofferError');
}
