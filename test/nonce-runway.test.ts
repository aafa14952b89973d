// A producer never runs out of committed nonces unseen (issue 13, item 2): a real node whose
// nonce commitments fail (its nonce cache directory is not writable) says `degraded` on /health
// well before its committed heights end and `halted` when only the height it keeps for the
// renewal block is left, never signs that height away, and recovers as docs/architecture.md says:
// fix the cause, and the node renews on its own (in place, or after a restart).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import { toHex } from '../src/crypto/index.js';
import { CofferNode, parseNodeConfig } from '../src/node/index.js';
import { nonceCacheDir } from '../src/node/producer-signer.js';
import { importKey, signTx, txs } from '../src/sdk/index.js';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-nonce-runway-'));
after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

interface Health {
  status: string;
  height: number;
  reason?: string;
  nonceRunway?: { heightsLeft: number; lastHeight: number; renewingFromHeight?: number };
}

function open(): Promise<CofferNode> {
  return CofferNode.open(
    parseNodeConfig(
      {
        dataDir,
        logLevel: 'silent',
        blockIntervalMs: 5,
        idleBlockIntervalMs: 10, // heights advance on their own, about a hundred a second
        verifyWorkers: 1,
        nonceRangeHeights: 16,
        nonceRangeLeadHeights: 8,
      },
      {},
    ),
  );
}

async function health(node: CofferNode): Promise<{ code: number; body: Health }> {
  const res = await node.app.inject({ method: 'GET', url: '/health' });
  return { code: res.statusCode, body: res.json<Health>() };
}

/** Polls /health until `status`, and answers that reply; fails after 30 s. */
async function until(node: CofferNode, status: string): Promise<{ code: number; body: Health }> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const reply = await health(node);
    if (reply.body.status === status) return reply;
    if (Date.now() > deadline) {
      assert.fail(`/health never said ${status}; last: ${JSON.stringify(reply.body)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The nonce cache becomes a file: computing (and keeping) a new range fails with EEXIST. */
function breakNonceCache(): void {
  fs.renameSync(path.join(dataDir, nonceCacheDir), path.join(dataDir, 'nonces.saved'));
  fs.writeFileSync(path.join(dataDir, nonceCacheDir), 'not a directory');
}

function mendNonceCache(): void {
  fs.rmSync(path.join(dataDir, nonceCacheDir));
  fs.renameSync(path.join(dataDir, 'nonces.saved'), path.join(dataDir, nonceCacheDir));
}

async function metric(node: CofferNode, name: string): Promise<number> {
  const text = (await node.app.inject({ method: 'GET', url: '/metrics' })).body;
  const match = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  assert.ok(match, `${name} in /metrics`);
  return Number(match[1]);
}

describe('the nonce runway on /health', () => {
  it('degraded, then halted with the reason; the kept height waits for the renewal; recovers in place and after a restart', async () => {
    let node = await open();
    try {
      const first = (await health(node)).body;
      assert.equal(first.status, 'ok');
      assert.deepEqual(first.nonceRunway, { heightsLeft: 15, lastHeight: 15 });
      breakNonceCache();
      await node.startProducing();

      // Half the lead (4 heights) left and no renewal: degraded, still producing.
      const degraded = await until(node, 'degraded');
      assert.equal(degraded.code, 200);
      assert.ok(degraded.body.nonceRunway!.heightsLeft <= 4);
      assert.match(
        degraded.body.reason!,
        /^\d heights of committed nonces left \(through height 15\); committing the range from height 16 failed \d+ times, last: EEXIST/,
      );

      // Only the kept height left: halted, 503, and the chain waits below it.
      const halted = await until(node, 'halted');
      assert.equal(halted.code, 503);
      assert.equal(halted.body.height, 14);
      assert.match(
        halted.body.reason!,
        /^the producer's committed nonces end at height 15, kept for the block that commits the next range; committing the range from height 16 failed \d+ times, last: EEXIST/,
      );
      assert.equal(await metric(node, 'coffer_producer_nonce_heights_left'), 1);
      // Txs are still admitted (they commit after the renewal); the kept height stays unsigned.
      const dev = importKey(toHex(node.init.devAccount!.secretKey));
      const tx = signTx(
        {
          chainId: node.chain.chainId,
          sender: dev.address,
          nonce: node.chain.nonceOf(dev.address),
          ...txs.transfer({ to: node.init.producer.address, asset: 'USD', amount: '1' }),
        },
        dev,
      );
      const pending = await node.app.inject({ method: 'POST', url: '/v1/txs', payload: tx });
      assert.equal(pending.statusCode, 202, pending.body);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(node.chain.height(), 14, 'no block at the kept height without the renewal');

      // Recovery in place: mend the cause; the node retries each second and renews.
      mendNonceCache();
      await until(node, 'ok');
      const ranges = node.signer.committedEnd()!;
      assert.ok(ranges > 16, `a range past height 16 is committed (ends at ${ranges})`);
      const hash = pending.json<{ hash: string }>().hash;
      let receipt = await node.app.inject({ method: 'GET', url: `/v1/txs/${hash}` });
      for (let i = 0; i < 500 && receipt.statusCode !== 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        receipt = await node.app.inject({ method: 'GET', url: `/v1/txs/${hash}` });
      }
      assert.equal(receipt.statusCode, 200, 'the tx admitted while halted committed');

      // Again, and this time the operator restarts the node while it is halted.
      breakNonceCache();
      const again = await until(node, 'halted');
      const end = again.body.nonceRunway!.lastHeight;
      assert.equal(again.body.height, end - 1);
      await node.close();
      mendNonceCache();
      node = await open();
      await node.startProducing();
      await until(node, 'ok');
      const deadline = Date.now() + 30_000;
      while (node.chain.height() <= end && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.ok(node.chain.height() > end, 'the chain goes past the old end after the restart');
    } finally {
      await node.close();
    }
  });
});
