import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { toHex } from '../crypto/index.js';
import { CofferNode, parseNodeConfig } from '../node/index.js';
import { CofferError, createClient, type CofferClient } from './client.js';
import {
  subscribeEvents,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionFilter,
  type SubscriptionMessage,
} from './events.js';
import { generateKey, importKey, type SigningKey } from './keys.js';
import { txs } from './tx.js';

const waitMsMax = 5_000;
const dataDirs: string[] = [];

async function openNode(dataDir?: string, port = 0) {
  const dir = dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-sdk-'));
  if (!dataDir) dataDirs.push(dir);
  const node = await CofferNode.open(
    parseNodeConfig(
      {
        dataDir: dir,
        port,
        logLevel: 'silent',
        blockIntervalMs: 5,
        idleBlockIntervalMs: 0,
        verifyWorkers: 1,
      },
      {},
    ),
  );
  const url = await node.listen();
  return { node, url, dir, dev: importKey(toHex(node.init.devAccount!.secretKey)) };
}

/** Resolves once `check` holds, polling every 5 ms; fails after `waitMsMax`. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !check(); waited += 5) {
    if (waited > waitMsMax) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A subscription that records everything it is told. */
function record(url: string, filter: SubscriptionFilter, options: SubscribeOptions = {}) {
  const seen = {
    messages: [] as SubscriptionMessage[],
    opens: [] as boolean[],
    errors: [] as { error: Error; fatal: boolean; retryInMs?: number }[],
  };
  const subscription: Subscription = subscribeEvents(
    url,
    filter,
    (message) => seen.messages.push(message),
    {
      ...options,
      onOpen: (info) => seen.opens.push(info.reconnect),
      onError: (error, info) => seen.errors.push({ error, ...info }),
    },
  );
  return { ...seen, subscription };
}

function mentionsTx(message: SubscriptionMessage, hash: string): boolean {
  return message.kind !== 'block' && message.tx === hash;
}

let shared: Awaited<ReturnType<typeof openNode>>;
let client: CofferClient;
let dev: SigningKey;

before(async () => {
  shared = await openNode();
  client = createClient(shared.url);
  dev = shared.dev;
});

after(async () => {
  await shared.node.close();
  for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('event subscriptions against a real node', { timeout: 20_000 }, () => {
  it('a transfer arrives as a block, a receipt and an event', async () => {
    const all = record(shared.url, {});
    // The same, through the client.
    const viaClient: SubscriptionMessage[] = [];
    const opened: boolean[] = [];
    const clientSubscription = client.subscribe({}, (m) => viaClient.push(m), {
      onOpen: ({ reconnect }) => opened.push(reconnect),
    });
    await until(() => all.opens.length === 1 && opened.length === 1, 'the sockets to open');
    assert.deepEqual(all.opens, [false]);

    const alice = generateKey();
    const result = await client.send(
      dev,
      txs.transfer({ to: alice.address, asset: 'USD', amount: '250' }),
    );
    const height = result.height!;
    await until(
      () => all.messages.some((m) => m.kind === 'event' && m.tx === result.hash),
      'the transfer event',
    );
    const ofBlock = all.messages.filter((m) => m.height === height);
    const block = await client.getBlock(height);
    assert.deepEqual(ofBlock, [
      { kind: 'block', height, hash: block.hash, time: block.header.time, txCount: 1 },
      {
        kind: 'receipt',
        height,
        tx: result.hash,
        type: 'ledger.transfer',
        sender: dev.address,
        status: 'ok',
      },
      {
        kind: 'event',
        height,
        tx: result.hash,
        type: 'ledger.transferred',
        data: { from: dev.address, to: alice.address, asset: 'USD', amount: '250' },
      },
    ]);
    await until(() => viaClient.some((m) => mentionsTx(m, result.hash)), 'the client subscription');

    all.subscription.close();
    clientSubscription.close();
    await Promise.all([all.subscription.finished, clientSubscription.finished]);
    assert.equal(all.subscription.closed, true);
    assert.deepEqual(all.errors, [], 'close() is not an error');
  });

  it('a failed tx arrives as a receipt with its rejection code', async () => {
    const sub = record(shared.url, { address: dev.address });
    await until(() => sub.opens.length === 1, 'open');
    const failed = await client
      .send(dev, txs.transfer({ to: dev.address, asset: 'USD', amount: '1' }))
      .catch((error: unknown) => error as CofferError);
    assert.ok(failed instanceof CofferError && failed.hash);
    await until(() => sub.messages.some((m) => mentionsTx(m, failed.hash!)), 'the receipt');
    const receipt = sub.messages.find((m) => mentionsTx(m, failed.hash!));
    assert.ok(receipt?.kind === 'receipt');
    assert.equal(receipt.status, 'accounts_must_be_different');
    sub.subscription.close();
    await sub.subscription.finished;
  });

  it('the address and type filters pick what the node sends', async () => {
    const alice = generateKey();
    const bob = generateKey();
    const forAlice = record(shared.url, { address: alice.address });
    const blocksOnly = record(shared.url, { types: ['block'] });
    const ledgerPrefix = record(shared.url, { types: ['ledger.'] });
    const eventsExact = record(shared.url, { types: ['ledger.transferred'] });
    const subscriptions = [forAlice, blocksOnly, ledgerPrefix, eventsExact];
    await until(() => subscriptions.every((s) => s.opens.length === 1), 'open');

    const toBob = await client.send(
      dev,
      txs.transfer({ to: bob.address, asset: 'USD', amount: '1' }),
    );
    const toAlice = await client.send(
      dev,
      txs.transfer({ to: alice.address, asset: 'USD', amount: '2' }),
    );
    const hash = toAlice.hash;
    await until(
      () =>
        forAlice.messages.some((m) => m.kind === 'event' && m.tx === hash) &&
        ledgerPrefix.messages.some((m) => m.kind === 'event' && m.tx === hash) &&
        eventsExact.messages.some((m) => m.kind === 'event' && m.tx === hash) &&
        blocksOnly.messages.some((m) => m.height === toAlice.height),
      'every subscription to see the transfer to alice',
    );

    // Alice's: her transfer's receipt and event, nothing of bob's, no blocks.
    assert.ok(forAlice.messages.every((m) => m.kind !== 'block'));
    assert.ok(!forAlice.messages.some((m) => mentionsTx(m, toBob.hash)));
    assert.deepEqual(
      forAlice.messages.filter((m) => mentionsTx(m, hash)).map((m) => m.kind),
      ['receipt', 'event'],
    );
    // Blocks only: one per block, of both transfers.
    assert.ok(blocksOnly.messages.every((m) => m.kind === 'block'));
    const heights = blocksOnly.messages.map((m) => m.height);
    assert.ok(heights.includes(toBob.height!) && heights.includes(toAlice.height!));
    // The prefix: receipts (ledger.transfer) and events (ledger.transferred) of both.
    assert.ok(
      ledgerPrefix.messages.every((m) => m.kind !== 'block' && m.type.startsWith('ledger.')),
    );
    assert.ok(ledgerPrefix.messages.some((m) => m.kind === 'receipt' && m.tx === toBob.hash));
    // The exact type: events only.
    assert.ok(
      eventsExact.messages.every((m) => m.kind === 'event' && m.type === 'ledger.transferred'),
    );
    assert.ok(eventsExact.messages.some((m) => mentionsTx(m, toBob.hash)));

    for (const s of subscriptions) s.subscription.close();
    await Promise.all(subscriptions.map((s) => s.subscription.finished));
    for (const s of subscriptions) assert.deepEqual(s.errors, []);
  });

  it('resumes after the node restarts on the same data dir and port', async () => {
    const first = await openNode();
    const port = Number(new URL(first.url).port);
    const sub = record(first.url, {}, { reconnectDelayMs: 20, reconnectDelayMaxMs: 200 });
    await until(() => sub.opens.length === 1, 'open');
    const before = await createClient(first.url).send(
      first.dev,
      txs.transfer({ to: generateKey().address, asset: 'USD', amount: '1' }),
    );
    await until(() => sub.messages.some((m) => mentionsTx(m, before.hash)), 'the first transfer');

    await first.node.close();
    await until(() => sub.errors.length >= 2, 'the drop and a failed reconnect');
    assert.ok(sub.errors.every((e) => e.error instanceof CofferError && !e.fatal));
    assert.equal((sub.errors[0]!.error as CofferError).code, 'network_error');
    assert.equal(sub.subscription.closed, false);

    const second = await openNode(first.dir, port);
    try {
      assert.equal(second.url, first.url);
      await until(() => sub.opens.length === 2, 'the reconnect');
      assert.deepEqual(sub.opens, [false, true]);
      const afterRestart = await createClient(second.url).send(
        second.dev,
        txs.transfer({ to: generateKey().address, asset: 'USD', amount: '1' }),
      );
      assert.ok(afterRestart.height! > before.height!, 'the chain resumed');
      await until(
        () => sub.messages.some((m) => mentionsTx(m, afterRestart.hash)),
        'the transfer after the restart',
      );
      sub.subscription.close();
      await sub.subscription.finished;
    } finally {
      await second.node.close();
    }
  });

  it('backs off exponentially to the cap; close() stops the retries', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));

    const sub = record(
      `http://127.0.0.1:${port}`,
      {},
      {
        reconnectDelayMs: 5,
        reconnectDelayMaxMs: 40,
      },
    );
    await until(() => sub.errors.length >= 6, 'six failed attempts');
    assert.deepEqual(
      sub.errors.slice(0, 6).map((e) => e.retryInMs),
      [5, 10, 20, 40, 40, 40],
    );
    const error = sub.errors[0]!.error as CofferError;
    assert.equal(error.code, 'network_error');
    assert.match(error.message, /ECONNREFUSED/);
    sub.subscription.close();
    await sub.subscription.finished;
    const count = sub.errors.length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(sub.errors.length, count, 'no attempt after close()');
    assert.deepEqual(sub.opens, []);
  });

  it('a subscription the node refuses ends with a fatal error, without retrying', async () => {
    const sub = record(`${shared.url}/no-such-prefix`, {});
    await sub.subscription.finished;
    assert.equal(sub.subscription.closed, true);
    assert.equal(sub.errors.length, 1);
    assert.equal(sub.errors[0]!.fatal, true);
    const error = sub.errors[0]!.error as CofferError;
    assert.equal(error.status, 404);
  });

  it('checks its filter and options before connecting', () => {
    const cases: [SubscriptionFilter, SubscribeOptions, string, string][] = [
      [{ address: 'cof1nope' }, {}, 'invalid_address', 'filter.address'],
      [{ types: ['a,b'] }, {}, 'invalid_input', 'filter.types'],
      [{ types: [''] }, {}, 'invalid_input', 'filter.types'],
      [{}, { reconnectDelayMs: 0 }, 'invalid_input', 'reconnectDelayMs'],
      [{}, { heartbeatIntervalMs: -1 }, 'invalid_input', 'heartbeatIntervalMs'],
    ];
    for (const [filter, options, code, field] of cases) {
      assert.throws(
        () => subscribeEvents(shared.url, filter, () => {}, options),
        (error: unknown) =>
          error instanceof CofferError && error.code === code && error.field === field,
        JSON.stringify({ filter, options }),
      );
    }
  });

  it('after close() nothing keeps a process alive (open socket, pending reconnect)', async () => {
    // A child process subscribes twice, to the live node and to a dead port, closes both and
    // must then exit by itself: no exit call, no timers left behind.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const eventsModule = new URL('./events.ts', import.meta.url).href;
    const script = `
      import { subscribeEvents } from ${JSON.stringify(eventsModule)};
      const live = subscribeEvents(${JSON.stringify(shared.url)}, {}, () => {}, {
        onOpen: () => { live.close(); live.finished.then(() => console.log('live closed')); },
      });
      const dead = subscribeEvents('http://127.0.0.1:${port}', {}, () => {}, {
        reconnectDelayMs: 1000,
        onError: () => { dead.close(); dead.finished.then(() => console.log('dead closed')); },
      });
    `;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(timer);
    assert.equal(code, 0, `the child was still running after 10 s, or failed:\n${output}`);
    assert.match(output, /live closed/);
    assert.match(output, /dead closed/);
  });
});
