import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import { parseNodeConfig } from './config.js';
import { CofferNode } from './node.js';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-dev-clock-'));
after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

const threeDaysMs = 3 * 86_400_000;

function open(devClock: boolean): Promise<CofferNode> {
  return CofferNode.open(
    parseNodeConfig(
      { dataDir, port: 0, logLevel: 'silent', idleBlockIntervalMs: 0, verifyWorkers: 1, devClock },
      {},
    ),
  );
}

describe('the dev clock across restarts', () => {
  it('keeps its offset for a restart with --dev-clock, and a start without it says time is ahead', async () => {
    const first = await open(true);
    assert.deepEqual(first.startupNotes(), []);
    await first.startProducing();
    const block = first.advanceClock(threeDaysMs);
    assert.ok(block, 'a block was cut at the moved time');
    const movedTime = block.block.header.time;
    assert.ok(movedTime >= Date.now() + threeDaysMs - 60_000);
    await first.close();

    const resumed = await open(true);
    try {
      assert.equal(resumed.clockOffsetMs, threeDaysMs);
      assert.match(resumed.startupNotes()[0] ?? '', /resumes 3d 0h ahead of this machine's clock/);
    } finally {
      await resumed.close();
    }

    const plain = await open(false);
    try {
      assert.equal(plain.clockOffsetMs, 0);
      const [note] = plain.startupNotes();
      assert.match(note ?? '', /^block time is (2d 23h|3d 0h) ahead of this machine's clock/);
      assert.match(note ?? '', new RegExp(`keep time ${new Date(movedTime).toISOString()}`));
      assert.match(note ?? '', /start with --dev-clock to go on from the moved time/);
    } finally {
      await plain.close();
    }
  });
});
