// The scholarship module's node side (issue 22) on real nodes in this process, their block clock
// moved by the dev clock (POST /v1/dev/clock's `advanceClock`, which cuts a block at the new time):
// - the closer (service.ts) closes a question past its deadline and grace that nobody closes,
//   signed by the node's operator, and none before it is due; a flood of 40 due questions closes
//   16 a block at most; COFFER_SCHOLARSHIP_AUTOCLOSE=0 switches it off; a failed close is logged
//   and that question waits 100 final blocks before the next try;
// - routing: `question.ask` emits `question.for.<subject>`, which a websocket subscriber of
//   `question.for.math.` and a webhook subscription of `question.for.math.*` (a real receiver on
//   loopback, signatures checked) receive for the math branches only.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { WebhookReceiver, verifyWebhook } from '../../../test/support/webhook-receiver.js';
import { parseNodeConfig } from '../../node/config.js';
import type { SubmitResult } from '../../node/node.js';
import { CofferNode } from '../../node/node.js';
import { adminTokenFile } from '../../node/webhooks/admin-token.js';
import {
  createClient,
  generateKey,
  txs,
  type CofferClient,
  type SigningKey,
  type SubscriptionMessage,
} from '../../sdk/index.js';
import { mintStamp } from './pow.js';
import { graceMs, type QuestionRecord } from './schema.js';
import {
  closesInFlightMax,
  retryAfterBlocks,
  startQuestionCloser,
  type QuestionCloser,
} from './service.js';

const hourMs = 3_600_000;
const settleTimeoutMs = 30_000;
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

async function until<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
): Promise<T> {
  const deadline = performance.now() + settleTimeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface World {
  node: CofferNode;
  url: string;
  client: CofferClient;
  dataDir: string;
  funder: SigningKey;
  close(): Promise<void>;
}

/** A solo node with the dev clock, 5 ms blocks while txs wait and no idle blocks. */
async function openWorld(name: string, env: NodeJS.ProcessEnv = {}): Promise<World> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `coffer-${name}-`));
  const funder = generateKey();
  const node = await CofferNode.open(
    parseNodeConfig(
      {
        dataDir,
        port: 0,
        logLevel: 'silent',
        blockIntervalMs: 5,
        idleBlockIntervalMs: 0,
        verifyWorkers: 1,
        devClock: true,
      },
      env,
    ),
    {
      genesis: {
        chainId: `coffer-${name}`,
        time: Date.now(),
        producer: '',
        assets: [{ symbol: 'USD', decimals: 2, issuer: funder.address }],
        balances: [{ address: funder.address, asset: 'USD', amount: '100000000' }],
      },
    },
  );
  const url = await node.listen();
  return {
    node,
    url,
    client: createClient(url),
    dataDir,
    funder,
    async close() {
      await node.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Asks a question in `subject` from `key` (a stamp at the bits the node asks); its id. */
async function ask(
  world: World,
  key: SigningKey,
  subject: string,
  title: string,
  reward = '100',
): Promise<string> {
  const body = `${title}: ${key.address}`;
  const { bits, blockHash } = await world.client.scholarship.difficulty({
    subject,
    sender: key.address,
  });
  const stamp = mintStamp(
    { kind: 'question', contentHash: sha(body), sender: key.address, blockHash },
    bits,
  );
  const { header } = await world.client.latestBlock();
  const sent = await world.client.send(key, {
    type: 'question.ask',
    payload: {
      subject,
      title,
      bodyHash: sha(body),
      reward: { asset: 'USD', amount: reward },
      deadline: header.time + hourMs + 60_000,
      answersMax: 3,
      stamp,
    },
  });
  assert.equal(sent.status, 'ok', `${title}: ${sent.status}`);
  return sent.hash;
}

const questionOf = async (world: World, questionId: string): Promise<QuestionRecord> =>
  (await world.client.scholarship.question(questionId)).question;

/** A committed tx's type, sender and height, from the node's store. */
function storedTx(world: World, hash: string) {
  const stored = world.node.store.getTx(hash);
  assert.ok(stored, `tx ${hash} is committed`);
  const { type, sender } = JSON.parse(stored.body) as { type: string; sender: string };
  return { type, sender, height: stored.height };
}

/** The type and sender of each tx of the block at `height`. */
const txsAt = (world: World, height: number) =>
  world.node.store
    .getTxs(height)
    .map((tx) => JSON.parse(tx.body) as { type: string; sender: string });

describe('the scholarship closer on a node', { timeout: 180_000 }, () => {
  let world: World;
  const askers = Array.from({ length: 10 }, () => generateKey());
  const subjects = [
    'math.algebra',
    'math.calculus',
    'physics.mechanics',
    'cs.algorithms',
    'chemistry.organic',
    'biology.genetics',
    'history.modern',
    'economics',
    'philosophy',
    'languages.french',
  ];

  before(async () => {
    world = await openWorld('scholarship-closer');
    for (const asker of askers) {
      await world.client.send(
        world.funder,
        txs.transfer({ to: asker.address, asset: 'USD', amount: '100000' }),
      );
    }
  });
  after(() => world?.close());

  it('closes a due question that nobody closes, signed by the node, and none before it is due', async () => {
    const asker = askers[0]!;
    const balance = async () =>
      BigInt(
        (await world.client.getAccount(asker.address)).balances.find((b) => b.asset === 'USD')
          ?.balance ?? '0',
      );
    const questionId = await ask(world, asker, 'math.algebra', 'Nobody closes this');
    const question = await questionOf(world, questionId);
    const dueAt = question.deadline + graceMs;
    const afterAsk = await balance();

    // Five minutes before it is due: blocks come and go, the question stays open.
    const { header } = await world.client.latestBlock();
    const early = world.node.advanceClock(dueAt - 5 * 60_000 - header.time);
    assert.ok(early && early.block.header.time < dueAt);
    for (let i = 0; i < 3; i++) world.node.advanceClock(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await questionOf(world, questionId)).status, 'open');

    // Due: the block at or after deadline + grace is final, and the node sends the close.
    const due = world.node.advanceClock(6 * 60_000);
    assert.ok(due && due.block.header.time >= dueAt);
    const closed = await until(async () => {
      const q = await questionOf(world, questionId);
      return q.status !== 'open' && q;
    }, 'the closer to close the question');
    assert.equal(closed.status, 'refunded');
    assert.equal(closed.outcome, 'refund');
    const closeTx = storedTx(world, closed.closeTx!);
    assert.equal(closeTx.type, 'question.close');
    assert.equal(closeTx.sender, world.node.operator, 'the node signed the close');
    assert.ok(closeTx.height > due.block.header.height);
    assert.equal((await balance()) - afterAsk, 100n, 'the reward went back to the asker');
  });

  it(`closes a flood of due questions ${closesInFlightMax} a block at most`, async () => {
    const flood = 40;
    const ids: string[] = [];
    await Promise.all(
      askers.map(async (asker, a) => {
        for (let i = 0; i < flood / askers.length; i++) {
          const subject = subjects[(a + i) % subjects.length]!;
          ids.push(await ask(world, asker, subject, `Flood ${a}-${i}`));
        }
      }),
    );
    const deadlines = await Promise.all(
      ids.map(async (id) => (await questionOf(world, id)).deadline),
    );
    const { header } = await world.client.latestBlock();
    const start = world.node.advanceClock(Math.max(...deadlines) + graceMs + 1_000 - header.time);
    assert.ok(start);
    const closed = await until(async () => {
      const all = await Promise.all(ids.map((id) => questionOf(world, id)));
      return all.every((q) => q.status === 'refunded') && all;
    }, `all ${flood} questions closed`);
    const heights = new Map<number, number>();
    for (const q of closed) {
      const { sender, height } = storedTx(world, q.closeTx!);
      assert.equal(sender, world.node.operator);
      heights.set(height, (heights.get(height) ?? 0) + 1);
    }
    // Every close of this node in each of those blocks, not only the flood's: at most 16.
    for (const height of heights.keys()) {
      const closes = txsAt(world, height).filter((tx) => tx.type === 'question.close');
      assert.ok(closes.length <= closesInFlightMax, `block ${height}: ${closes.length} closes`);
      assert.ok(closes.every((tx) => tx.sender === world.node.operator));
    }
    // Batched, not one a block: how many of the 16 in flight land in one block depends on when
    // each admission (two verify-worker round trips) ends against the 5 ms tick, so exactly 16
    // is not asserted (CI saw 15 once).
    assert.ok(Math.max(...heights.values()) > 1, 'several closes in one block');
    assert.ok(heights.size >= Math.ceil(flood / closesInFlightMax), `${heights.size} blocks`);
    assert.ok(
      [...heights.keys()].every((h) => h > start.block.header.height),
      'after the block that made them due',
    );
  });
});

describe('the closer switched off, and a failed close', { timeout: 120_000 }, () => {
  let world: World;
  const asker = generateKey();

  before(async () => {
    world = await openWorld('scholarship-closer-off', { COFFER_SCHOLARSHIP_AUTOCLOSE: '0' });
    await world.client.send(
      world.funder,
      txs.transfer({ to: asker.address, asset: 'USD', amount: '100000' }),
    );
  });
  after(() => world?.close());

  it('reads COFFER_SCHOLARSHIP_AUTOCLOSE: on unless 0 or false', () => {
    assert.equal(world.node.config.scholarshipAutoclose, false);
    assert.equal(parseNodeConfig({}, {}).scholarshipAutoclose, true);
    assert.equal(
      parseNodeConfig({}, { COFFER_SCHOLARSHIP_AUTOCLOSE: 'false' }).scholarshipAutoclose,
      false,
    );
    assert.equal(
      parseNodeConfig({}, { COFFER_SCHOLARSHIP_AUTOCLOSE: '1' }).scholarshipAutoclose,
      true,
    );
    assert.throws(
      () => parseNodeConfig({}, { COFFER_SCHOLARSHIP_AUTOCLOSE: 'off' }),
      /scholarshipAutoclose \(COFFER_SCHOLARSHIP_AUTOCLOSE="off" \(environment\)\)/,
    );
  });

  it('leaves a due question open when off; a closer whose close fails logs it and waits 100 blocks', async () => {
    const questionId = await ask(world, asker, 'math.algebra', 'Switched off');
    const question = await questionOf(world, questionId);
    const { header } = await world.client.latestBlock();
    world.node.advanceClock(question.deadline + graceMs + 1_000 - header.time);
    for (let i = 0; i < 3; i++) world.node.advanceClock(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await questionOf(world, questionId)).status, 'open', 'nobody closed it');

    // A closer by hand on this node whose first close is refused at admission (as a full
    // mempool would), then goes through.
    const warnings: unknown[] = [];
    const calls: number[] = [];
    const host = {
      store: world.node.store,
      operator: world.node.operator,
      onFinalBlock: world.node.onFinalBlock.bind(world.node),
      app: {
        log: {
          warn: (...args: unknown[]) => warnings.push(args),
          error: (...args: unknown[]) => warnings.push(args),
        },
      },
      submitOwn: (type: string, payload: Record<string, unknown>, wait: boolean | 'final') => {
        calls.push(world.node.chain.height());
        if (calls.length === 1) {
          return Promise.resolve<SubmitResult>({
            error: { code: 'mempool_full', message: 'the mempool is full' },
          });
        }
        return world.node.submitOwn(type, payload, wait);
      },
    } as unknown as Parameters<typeof startQuestionCloser>[0];
    const closer: QuestionCloser = startQuestionCloser(host);
    const first = world.node.advanceClock(0)!;
    await until(() => warnings.length === 1, 'the failure logged');
    assert.deepEqual(calls, [first.block.header.height]);
    const [fields, message] = warnings[0] as [Record<string, unknown>, string];
    assert.deepEqual(fields, { questionId, code: 'mempool_full' }, 'the id and the code, no more');
    assert.match(message, /question\.close failed/);
    assert.equal(closer.retrying.get(questionId), first.block.header.height + retryAfterBlocks);
    assert.equal(closer.inFlight, 0);
    // 99 final blocks: not tried again.
    for (let i = 1; i < retryAfterBlocks; i++) world.node.advanceClock(0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(calls.length, 1);
    assert.equal((await questionOf(world, questionId)).status, 'open');
    // The 100th: tried again, and closed.
    world.node.advanceClock(0);
    const closed = await until(async () => {
      const q = await questionOf(world, questionId);
      return q.status !== 'open' && q;
    }, 'the second try to close it');
    assert.equal(calls.length, 2);
    assert.equal(calls[1], first.block.header.height + retryAfterBlocks);
    assert.equal(closed.status, 'refunded');
    assert.equal(closer.retrying.size, 0);
    await until(() => closer.inFlight === 0, 'nothing in flight');
    assert.equal(warnings.length, 1);
  });
});

describe('routing questions to tutors', { timeout: 120_000 }, () => {
  let world: World;
  let receiver: WebhookReceiver;
  const asker = generateKey();

  before(async () => {
    world = await openWorld('scholarship-routing');
    receiver = await WebhookReceiver.start();
    await world.client.send(
      world.funder,
      txs.transfer({ to: asker.address, asset: 'USD', amount: '100000' }),
    );
  });
  after(async () => {
    await world?.close();
    await receiver?.down();
  });

  it('delivers question.for.<subject> of the math branches to a websocket and a webhook subscriber', async () => {
    const token = fs.readFileSync(path.join(world.dataDir, adminTokenFile), 'utf8').trim();
    const created = await fetch(`${world.url}/v1/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        url: `${receiver.url}/algebra-tutors`,
        events: ['question.for.math.*'],
      }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const { secret } = (await created.json()) as { secret: string };
    const socket: SubscriptionMessage[] = [];
    let opened!: () => void;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const subscription = world.client.subscribe(
      { types: ['question.for.math.'] },
      (message) => socket.push(message),
      { onOpen: () => opened() },
    );
    try {
      await open;
      // Others' questions first: once the last math one arrives, they would have arrived before.
      const asked: Record<string, string> = {};
      for (const subject of [
        'physics.mechanics',
        'math',
        'cs.algorithms',
        'math.algebra',
        'math.calculus',
      ]) {
        asked[subject] = await ask(world, asker, subject, `A question in ${subject}`, '250');
      }
      const routed = ['math.algebra', 'math.calculus'];
      const delivered = await until(
        () => receiver.received.length >= routed.length && receiver.received,
        'the webhook deliveries',
      );
      const events = await until(() => {
        const got = socket.filter((m) => m.kind === 'event');
        return got.length >= routed.length && got;
      }, 'the websocket events');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(
        receiver.received.length,
        routed.length,
        'the webhook got the math branches only',
      );
      assert.equal(socket.filter((m) => m.kind === 'event').length, routed.length);
      assert.ok(
        socket.every((m) => m.kind === 'event'),
        'no blocks, no receipts: events only',
      );

      const question = await questionOf(world, asked['math.algebra']!);
      routed.forEach((subject, i) => {
        const hook = delivered[i]!;
        assert.equal(hook.path, '/algebra-tutors');
        const payload = verifyWebhook(secret, hook) as {
          type: string;
          tx: string;
          data: Record<string, unknown>;
        };
        assert.equal(payload.type, `question.for.${subject}`);
        assert.equal(payload.tx, asked[subject]);
        assert.deepEqual(
          {
            questionId: payload.data.questionId,
            subject: payload.data.subject,
            title: payload.data.title,
            reward: payload.data.reward,
            asset: payload.data.asset,
          },
          {
            questionId: asked[subject],
            subject,
            title: `A question in ${subject}`,
            reward: '250',
            asset: 'USD',
          },
        );
        const event = events[i]!;
        assert.equal(event.kind === 'event' && event.type, `question.for.${subject}`);
        assert.deepEqual(event.kind === 'event' && event.data, payload.data);
      });
      assert.equal(
        (verifyWebhook(secret, delivered[0]!) as { data: { deadline: number } }).data.deadline,
        question.deadline,
      );
    } finally {
      subscription.close();
    }
  });
});
