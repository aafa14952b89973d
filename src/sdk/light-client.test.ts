import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { genesisWrites, type Genesis } from '../chain/index.js';
import { toHex } from '../crypto/index.js';
import { nodeModuleRegistry } from '../node/chain-rules.js';
import { CofferNode, parseNodeConfig } from '../node/index.js';
import { genesisParentRoot, nextStateRoot } from '../state/index.js';
import { createClient, type CofferClient } from './client.js';
import { followChain, type FollowOptions } from './light-client.js';
import type { SignedHeader } from './verify.js';

// A node whose producer commits small ranges (16 heights, renewed 8 ahead), so a short chain
// holds several commitNonces txs: headers past the genesis range verify only through them.
const nonceRangeHeights = 16;
const targetHeight = 3 * nonceRangeHeights + 4;

let node: CofferNode;
let dataDir: string;
let client: CofferClient;

function checkGenesis(genesis: unknown, block0: SignedHeader): string | undefined {
  const writes = genesisWrites(genesis as Genesis, nodeModuleRegistry().modules);
  const root = toHex(nextStateRoot(genesisParentRoot, writes));
  return root === block0.header.stateRoot ? undefined : `state root ${root}`;
}

async function waitHeight(height: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if ((await client.health()).height >= height) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`the chain did not reach height ${height}`);
}

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-light-'));
  node = await CofferNode.open(
    parseNodeConfig(
      {
        dataDir,
        port: 0,
        logLevel: 'silent',
        blockIntervalMs: 5,
        idleBlockIntervalMs: 20,
        verifyWorkers: 1,
        nonceRangeHeights,
        nonceRangeLeadHeights: 8,
      },
      {},
    ),
  );
  client = createClient(await node.listen());
  await waitHeight(targetHeight);
});

after(async () => {
  await node.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('followChain: a light client that builds the producer registry from the chain', () => {
  it('follows every header through the ranges committed on the chain', async () => {
    const { producers } = await client.listProducers();
    assert.equal(producers.length, 1);
    const id = producers[0]!.id;
    const history = await client.getNonceRanges(id);
    const committedByTx = history.ranges.filter((r) => r.tx !== null);
    assert.ok(committedByTx.length >= 2, `${committedByTx.length} commitNonces txs`);

    const seen: number[] = [];
    const result = await followChain(client, {
      toHeight: targetHeight,
      checkGenesis,
      onBlock: (block) => seen.push(block.header.height),
    });
    assert.deepEqual(result.problems, []);
    assert.equal(result.ok, true);
    assert.equal(result.headers, targetHeight + 1);
    assert.deepEqual(
      seen,
      Array.from({ length: targetHeight + 1 }, (_, h) => h),
    );
    const trusted = result.state!.trust.producers[id]!;
    // The genesis range and every range committed at or below the target height.
    const expected = history.ranges.filter((r) => r.committedAtHeight <= targetHeight);
    assert.deepEqual(
      trusted.map((r) => [r.fromHeight, r.count, r.root]),
      expected.map((r) => [r.fromHeight, r.count, r.root]),
    );

    // Resumed from the saved state, it follows only the new headers.
    await waitHeight(targetHeight + nonceRangeHeights);
    const resumed = await followChain(client, {
      toHeight: targetHeight + nonceRangeHeights,
      from: JSON.parse(JSON.stringify(result.state)) as NonNullable<typeof result.state>,
    });
    assert.deepEqual(resumed.problems, []);
    assert.equal(resumed.headers, nonceRangeHeights);
  });

  /** The same client, with one answer rewritten: a node that lies. */
  function lying(rewrite: Partial<CofferClient>): CofferClient {
    return { ...client, ...rewrite };
  }

  async function failedChecks(options: Omit<FollowOptions, 'toHeight'>, at: CofferClient) {
    const result = await followChain(at, { toHeight: targetHeight, checkGenesis, ...options });
    assert.equal(result.ok, false);
    return { checks: new Set(result.failures.map((f) => f.check)), result };
  }

  it('fails closed when the node hides a committed range', async () => {
    const hiding = lying({
      getNonceRanges: async (id, from) => {
        const page = await client.getNonceRanges(id, from);
        return { ...page, ranges: page.ranges.filter((r) => r.tx === null) };
      },
    });
    const { checks, result } = await failedChecks({}, hiding);
    assert.deepEqual([...checks], ['nonce_uncommitted']);
    // Every header past the genesis range is unverified.
    assert.ok(result.failures.length >= targetHeight - nonceRangeHeights);
  });

  it('refuses a range whose tx commits another root, or is not in the followed block', async () => {
    const forging = lying({
      getNonceRanges: async (id, from) => {
        const page = await client.getNonceRanges(id, from);
        const ranges = page.ranges.map((r, i) => (i === 1 ? { ...r, root: 'ab'.repeat(32) } : r));
        return { ...page, ranges };
      },
    });
    const forged = await failedChecks({}, forging);
    assert.ok(forged.checks.has('commitment'));
    assert.match(forged.result.problems.join('\n'), /its tx commits another range/);

    const moving = lying({
      getNonceRanges: async (id, from) => {
        const page = await client.getNonceRanges(id, from);
        const ranges = page.ranges.map((r, i) =>
          i === 1 ? { ...r, committedAtHeight: r.committedAtHeight - 1 } : r,
        );
        return { ...page, ranges };
      },
    });
    const moved = await failedChecks({}, moving);
    assert.match(moved.result.problems.join('\n'), /is not in the followed block/);
  });

  it('refuses a genesis document that does not give block 0 its state root, and a wrong pin', async () => {
    const genesisLie = lying({
      getGenesis: async () => {
        const genesis = await client.getGenesis();
        return { ...genesis, time: 1 };
      },
    });
    const lied = await failedChecks({}, genesisLie);
    assert.ok(lied.checks.has('genesis'));
    assert.match(lied.result.problems[0]!, /genesis document's time is not block 0's/);
    const balanceLie = lying({
      getGenesis: async () => {
        const genesis = (await client.getGenesis()) as unknown as Genesis;
        const balances = genesis.balances.map((b, i) => (i === 0 ? { ...b, amount: '1' } : b));
        return { ...genesis, balances };
      },
    });
    const richer = await failedChecks({}, balanceLie);
    assert.match(richer.result.problems[0]!, /the genesis document: state root [0-9a-f]{64}/);
    const pinned = await followChain(client, { toHeight: 3, genesisHash: 'cd'.repeat(32) });
    assert.equal(pinned.ok, false);
    assert.equal(pinned.state, undefined);
    assert.deepEqual(
      pinned.failures.map((f) => f.check),
      ['genesis'],
    );
  });
});
