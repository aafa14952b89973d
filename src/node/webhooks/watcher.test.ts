// The watcher against the real parts: a SQLite store on disk holding committed blocks and events
// (written by the block store's own commit), the webhook tables in the same file, and a real HTTP
// receiver on loopback. A seeded random schedule of receiver failures must give exactly the
// requests a model of the delivery rules predicts: matching events in chain order, one in flight,
// the same webhook-id on every try, a dead letter after attemptsMax failed tries, then the next.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { SqliteBlockStore, type StoredEvent } from '../../state/index.js';
import { WebhookReceiver, verifyWebhook } from '../../../test/support/webhook-receiver.js';
import { matchesAny } from './patterns.js';
import { generateSecret, webhookId } from './signing.js';
import { endOfHeight, WebhookStore } from './store.js';
import { retryDelayMs, WebhookWatcher, type WebhookSettings } from './watcher.js';

const eventTypes = ['ledger.transferred', 'ledger.issued', 'campaign.payout', 'timebank.joined'];
const patterns = ['ledger.*', 'campaign.payout'];
const settings: WebhookSettings = {
  attemptsMax: 3,
  retryBaseMs: 1,
  retryMaxMs: 4,
  timeoutMs: 5_000,
};
const blockTime0 = 1_750_000_000_000;
const settleTimeoutMs = 20_000;

interface ChainEvent {
  height: number;
  txIndex: number;
  eventIndex: number;
  type: string;
  blockHash: string;
}

/** Commits `blocks` (each a list of txs, each a list of event types) to a new store in `dir`. */
function writeChain(dir: string, blocks: string[][][]): { file: string; events: ChainEvent[] } {
  const file = path.join(dir, 'chain.db');
  const store = new SqliteBlockStore(file);
  const events: ChainEvent[] = [];
  blocks.forEach((txs, i) => {
    const height = i + 1;
    const hash = crypto.createHash('sha256').update(`${dir}:${height}`).digest('hex');
    const stored: StoredEvent[] = [];
    txs.forEach((types, txIndex) =>
      types.forEach((type, eventIndex) => {
        stored.push({ height, txIndex, eventIndex, type, data: JSON.stringify({ n: eventIndex }) });
        events.push({ height, txIndex, eventIndex, type, blockHash: hash });
      }),
    );
    if (height === 1) store.commitBlock(emptyBlock(0));
    store.commitBlock({
      block: {
        height,
        hash,
        header: JSON.stringify({ height, time: blockTime0 + height }),
        signature: '',
        txCount: txs.length,
      },
      txs: txs.map((_, index) => ({
        hash: crypto.createHash('sha256').update(`${hash}:${index}`).digest('hex'),
        height,
        index,
        body: '{}',
        receipt: '{}',
      })),
      writes: new Map(),
      events: stored,
    });
  });
  store.close();
  return { file, events };
}

function emptyBlock(height: number) {
  const hash = crypto.createHash('sha256').update(`genesis:${height}`).digest('hex');
  return {
    block: {
      height,
      hash,
      header: JSON.stringify({ height, time: blockTime0 }),
      signature: '',
      txCount: 0,
    },
    txs: [],
    writes: new Map<string, string | null>(),
    events: [],
  };
}

/** What the receiver must see: each matching event tried until it succeeds or attemptsMax fail. */
function model(events: ChainEvent[], failures: boolean[]) {
  const requests: { id: string; status: number }[] = [];
  const dead: string[] = [];
  let next = 0;
  for (const event of events.filter((e) => matchesAny(patterns, e.type))) {
    const id = webhookId(event.blockHash, event.txIndex, event.eventIndex);
    for (let attempt = 1; ; attempt++) {
      const fails = failures[next++] ?? false;
      requests.push({ id, status: fails ? 500 : 200 });
      if (!fails) break;
      if (attempt === settings.attemptsMax) {
        dead.push(id);
        break;
      }
    }
  }
  return { requests, dead };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + settleTimeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('webhook watcher', () => {
  let receiver: WebhookReceiver;
  let root: string;
  before(async () => {
    receiver = await WebhookReceiver.start();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-webhook-watcher-'));
  });
  after(async () => {
    await receiver.down();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('retries with a doubling wait, capped', () => {
    const s = { ...settings, retryBaseMs: 100, retryMaxMs: 1_000 };
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 60].map((n) => retryDelayMs(n, s)),
      [100, 200, 400, 800, 1_000, 1_000, 1_000],
    );
  });

  it('commits its bookkeeping with synchronous NORMAL under WAL; the block store stays FULL', () => {
    const dir = path.join(root, 'durability');
    fs.mkdirSync(dir);
    const { file } = writeChain(dir, [[['ledger.transferred']]]);
    const blockStore = new SqliteBlockStore(file);
    const store = new WebhookStore(file);
    try {
      assert.deepEqual(store.durability(), { journalMode: 'wal', synchronous: 1 });
      // synchronous is per connection: the chain's own commits keep their fsync.
      const chainDb = (blockStore as unknown as { db: { pragma(s: string, o: object): unknown } })
        .db;
      assert.equal(chainDb.pragma('synchronous', { simple: true }), 2);
      assert.equal(chainDb.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      store.close();
      blockStore.close();
    }
  });

  for (const failing of ['advance', 'eventsAfter'] as const) {
    it(`keeps delivering, in order and with the same ids, after the store's ${failing} threw once`, async () => {
      const dir = path.join(root, `fault-${failing}`);
      fs.mkdirSync(dir);
      const { file, events } = writeChain(dir, [
        [['ledger.transferred', 'ledger.issued']],
        [['ledger.transferred']],
      ]);
      const store = new WebhookStore(file);
      const blockStore = new SqliteBlockStore(file);
      const id = 'wh_00000000000000f1';
      const route = `/fault-${failing}`;
      store.add({
        id,
        url: `${receiver.url}${route}`,
        events: ['ledger.*'],
        secret: generateSecret(),
        createdAt: 0,
        cursor: endOfHeight(0),
      });
      // The real store, one of its methods made to throw at its first call.
      const real = store[failing].bind(store) as (...args: unknown[]) => unknown;
      let thrown = false;
      (store as unknown as Record<string, unknown>)[failing] = (...args: unknown[]) => {
        if (!thrown) {
          thrown = true;
          throw new Error('disk I/O error (injected)');
        }
        return real(...args);
      };
      const noted: string[] = [];
      const noteError = store.noteError.bind(store);
      store.noteError = (subscription, error) => {
        noted.push(error);
        noteError(subscription, error);
        assert.match(store.get(subscription)!.lastError ?? '', /disk I\/O error \(injected\)/);
      };
      const logged: string[] = [];
      const watcher = new WebhookWatcher({
        store,
        blocks: blockStore,
        chainId: 'coffer-test',
        finalHeight: () => 2,
        now: Date.now,
        settings,
        log: { warn: () => {}, error: (message) => logged.push(message) },
      });
      watcher.start();
      const ids = events.map((e) => webhookId(e.blockHash, e.txIndex, e.eventIndex));
      // Advance threw after the receiver took the first event: it is sent again, same id.
      const expected = failing === 'advance' ? [ids[0], ...ids] : ids;
      try {
        await until(
          () => receiver.delivered(route).length >= expected.length,
          'every event after the fault',
        );
        await until(() => store.get(id)!.cursor.height === 2, 'the cursor past the last event');
      } finally {
        await watcher.close();
      }
      assert.deepEqual(
        receiver.delivered(route).map((r) => r.id),
        expected,
      );
      assert.equal(receiver.received.filter((r) => r.path === route).length, expected.length);
      assert.equal(noted.length, 1);
      assert.equal(logged.length, 1);
      assert.match(logged[0]!, /disk I\/O error \(injected\); trying again/);
      assert.equal(store.get(id)!.lastError, undefined, 'cleared by the next delivery');
      store.close();
      blockStore.close();
    });
  }

  it('passes over thousands of events it does not match, in turns, and stores how far', async () => {
    const dir = path.join(root, 'long');
    fs.mkdirSync(dir);
    const many = Array.from({ length: 1_500 }, () => 'timebank.joined');
    const { file, events } = writeChain(dir, [[many], [many], [['ledger.transferred']]]);
    const store = new WebhookStore(file);
    const blockStore = new SqliteBlockStore(file);
    for (const [id, events] of [
      ['wh_000000000000000a', ['ledger.transferred']],
      ['wh_000000000000000b', ['campaign.payout']],
    ] as const) {
      store.add({
        id,
        url: `${receiver.url}/long-${id}`,
        events: [...events],
        secret: generateSecret(),
        createdAt: 0,
        cursor: endOfHeight(0),
      });
    }
    const watcher = new WebhookWatcher({
      store,
      blocks: blockStore,
      chainId: 'coffer-test',
      finalHeight: () => 3,
      now: Date.now,
      settings,
      log: { warn: () => {}, error: (message) => assert.fail(message) },
    });
    watcher.start();
    try {
      await until(
        () => receiver.delivered('/long-wh_000000000000000a').length === 1,
        'the one matching event',
      );
      await until(
        () => store.get('wh_000000000000000b')!.cursor.height > 0,
        'the passed-over events stored in the cursor',
      );
    } finally {
      await watcher.close();
    }
    const last = events.at(-1)!;
    assert.equal(
      receiver.delivered('/long-wh_000000000000000a')[0]!.id,
      webhookId(last.blockHash, last.txIndex, last.eventIndex),
    );
    assert.equal(
      receiver.received.filter((r) => r.path.startsWith('/long-wh_000000000000000b')).length,
      0,
    );
    store.close();
    blockStore.close();
  });

  it('sends exactly what the model predicts under random receiver failures', async () => {
    let run = 0;
    const chainArbitrary = fc.array(
      fc.array(fc.array(fc.constantFrom(...eventTypes), { maxLength: 3 }), { maxLength: 3 }),
      { minLength: 1, maxLength: 6 },
    );
    await fc.assert(
      fc.asyncProperty(
        chainArbitrary,
        fc.array(fc.boolean(), { maxLength: 40 }),
        async (blocks, failures) => {
          const dir = path.join(root, `run-${run++}`);
          fs.mkdirSync(dir);
          const { file, events } = writeChain(dir, blocks);
          const expected = model(events, failures);
          const route = `/run-${run}`;
          let request = 0;
          receiver.respond = (got) =>
            got.path === route && (failures[request++] ?? false) ? 500 : 200;
          const store = new WebhookStore(file);
          const blockStore = new SqliteBlockStore(file);
          const secret = generateSecret();
          store.add({
            id: 'wh_0000000000000001',
            url: `${receiver.url}${route}`,
            events: patterns,
            secret,
            createdAt: 0,
            cursor: endOfHeight(0),
          });
          const watcher = new WebhookWatcher({
            store,
            blocks: blockStore,
            chainId: 'coffer-test',
            finalHeight: () => blocks.length,
            now: Date.now,
            settings,
            log: { warn: () => {}, error: (message) => assert.fail(message) },
          });
          watcher.start();
          try {
            await until(
              () =>
                receiver.received.filter((r) => r.path === route).length >=
                expected.requests.length,
              `${expected.requests.length} requests`,
            );
            // Give a wrong extra request the time to show up.
            await new Promise((resolve) => setTimeout(resolve, 20));
          } finally {
            await watcher.close();
          }
          const got = receiver.received.filter((r) => r.path === route);
          assert.deepEqual(
            got.map((r) => ({ id: r.id, status: r.status })),
            expected.requests,
          );
          for (const r of got) verifyWebhook(secret, r);
          const letters = store.deadLetters('wh_0000000000000001', 1_000).reverse();
          assert.deepEqual(
            letters.map((l) => l.webhookId),
            expected.dead,
          );
          assert.ok(letters.every((l) => l.attempts === settings.attemptsMax));
          const last = expected.requests.at(-1);
          const cursor = store.get('wh_0000000000000001')!.cursor;
          if (last) {
            const event = events.find(
              (e) => webhookId(e.blockHash, e.txIndex, e.eventIndex) === last.id,
            )!;
            assert.deepEqual(cursor, {
              height: event.height,
              txIndex: event.txIndex,
              eventIndex: event.eventIndex,
            });
          }
          store.close();
          blockStore.close();
        },
      ),
      { numRuns: 30 },
    );
  });
});
