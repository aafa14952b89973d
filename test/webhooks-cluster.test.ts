// Webhooks of a 3-validator cluster (issue 17), against the real parts: three nats-servers, three
// `coffer start --cluster` processes and one HTTP receiver on loopback; signatures are checked by
// the independent Standard Webhooks verifier (npm standardwebhooks). Each node keeps its own
// subscription and its own cursor; every one must deliver every event once, in chain order, after
// finality, also after the receiver was down for a while and after a SIGKILL mid-delivery (then
// the one event in flight may come twice, with the same webhook-id, and nothing is skipped).
// Build first (npm test does): npx tsc -p tsconfig.build.json.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { adminTokenFile } from '../src/node/webhooks/index.js';
import type { WebhookPayload } from '../src/node/webhooks/watcher.js';
import { clusterPerSuite, newAccount, waitFinal, type TestCluster } from './support/cluster.js';
import {
  WebhookReceiver,
  verifyWebhook,
  type ReceivedWebhook,
} from './support/webhook-receiver.js';

const nodeArgs = ['--producer-timeout-ms', '500', '--idle-block-interval-ms', '300'];
/** Retries every 50 to 200 ms, 100 times (20 s and more): the receiver comes back before that. */
const nodeEnv = {
  COFFER_PRODUCER_TERM_HEIGHTS: '1',
  COFFER_WEBHOOK_RETRY_BASE_MS: '50',
  COFFER_WEBHOOK_RETRY_MAX_MS: '200',
  COFFER_WEBHOOK_ATTEMPTS_MAX: '100',
};
const suiteTimeoutMs = 240_000;
const deliveryTimeoutMs = 60_000;
const secret = `whsec_${Buffer.alloc(32, 42).toString('base64')}`;
/** Long enough that node 1 is surely killed while its request is held. */
const holdMs = 10_000;
/** How long a committed, not final event must stay undelivered (it would go in milliseconds). */
const notFinalWatchMs = 1_500;

/** The deliveries a node's path got, verified; the first arrival of each id, in order. */
function firstArrivals(received: ReceivedWebhook[]): { id: string; payload: WebhookPayload }[] {
  const seen = new Set<string>();
  const firsts: { id: string; payload: WebhookPayload }[] = [];
  for (const r of received) {
    const payload = verifyWebhook(secret, r) as WebhookPayload;
    if (seen.has(r.id)) continue;
    seen.add(r.id);
    firsts.push({ id: r.id, payload });
  }
  return firsts;
}

describe('webhooks of a cluster', { timeout: suiteTimeoutMs }, () => {
  const c = clusterPerSuite({ nodeArgs, env: nodeEnv });
  let receiver: WebhookReceiver;
  const to = newAccount();
  /** Tx hashes of the transfers, in the order they were committed. */
  const sent: string[] = [];
  let nonce = 0;

  before(async () => {
    receiver = await WebhookReceiver.start();
  });
  after(async () => {
    await receiver.down();
  });

  const pathOf = (i: number) => `/node-${i}`;
  const deliveredOn = (i: number) => receiver.received.filter((r) => r.path === pathOf(i));
  const ok = (i: number) => deliveredOn(i).filter((r) => r.status === 200);

  async function subscribe(cluster: TestCluster, i: number): Promise<void> {
    const token = fs.readFileSync(
      path.join(cluster.validators[i]!.dataDir, adminTokenFile),
      'utf8',
    );
    const response = await fetch(`${cluster.url(i)}/v1/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token.trim()}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        url: `${receiver.url}${pathOf(i)}`,
        events: ['ledger.transferred'],
        secret,
      }),
    });
    assert.equal(response.status, 201, await response.text());
  }

  /** Sends `count` transfers through node 0, each committed before the next. */
  async function transfers(cluster: TestCluster, count: number): Promise<void> {
    for (let k = 0; k < count; k++) {
      const answer = await cluster.transfer(
        0,
        cluster.dev,
        nonce++,
        to.address,
        1 + sent.length,
        true,
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      sent.push(answer.body.hash!);
    }
  }

  /** Every node delivered every transfer sent, as its first arrivals, in order; answers them. */
  async function allDelivered(cluster: TestCluster, nodes: number[]) {
    for (const i of nodes) {
      await cluster.waitFor(
        () => firstArrivals(ok(i)).length >= sent.length,
        () => `node ${i} to deliver ${sent.length} events (has ${firstArrivals(ok(i)).length})`,
        deliveryTimeoutMs,
      );
      const firsts = firstArrivals(ok(i));
      assert.deepEqual(
        firsts.map((f) => f.payload.tx),
        sent,
        `node ${i}: every transfer's event, in chain order, none missing, none extra`,
      );
      for (const { payload } of firsts) {
        assert.equal(payload.type, 'ledger.transferred');
        const block = await cluster.block(i, payload.height);
        assert.equal(payload.blockHash, block.hash);
      }
    }
  }

  it('delivers an event submitted to node A once from every node, signed, after finality', async () => {
    const cluster = c();
    await cluster.explainFailure(async () => {
      nonce = await cluster.nonce(0, cluster.dev.address);
      for (const i of [0, 1, 2]) await subscribe(cluster, i);
      await transfers(cluster, 3);
      await allDelivered(cluster, [0, 1, 2]);
      for (const i of [0, 1, 2]) {
        assert.equal(ok(i).length, 3, `node ${i}: exactly once each`);
        assert.equal(deliveredOn(i).length, 3, `node ${i}: no retry while the receiver was up`);
      }
      // The webhook-id names the event: the same from every node, so receivers dedupe across them.
      const ids = (i: number) => ok(i).map((r) => r.id);
      assert.deepEqual(ids(1), ids(0));
      assert.deepEqual(ids(2), ids(0));
    });
  });

  it('holds a committed event until it is final', async () => {
    const cluster = c();
    await cluster.explainFailure(async () => {
      const before = [0, 1].map((i) => ok(i).length);
      // Three validators need all three attestations: with node 2 stopped nothing becomes final.
      cluster.signal(2, 'SIGSTOP');
      try {
        const finalBefore = (await cluster.health(0)).finalizedHeight;
        await transfers(cluster, 1);
        const committed = await cluster.get<{ height: number }>(0, `/v1/txs/${sent.at(-1)}`);
        assert.ok(committed.height > finalBefore);
        await new Promise((resolve) => setTimeout(resolve, notFinalWatchMs));
        const health = await cluster.health(0);
        assert.ok(health.finalizedHeight < committed.height, 'it stayed not final');
        assert.deepEqual(
          [0, 1].map((i) => ok(i).length),
          before,
          'nothing delivered before finality',
        );
      } finally {
        cluster.signal(2, 'SIGCONT');
      }
      await allDelivered(cluster, [0, 1, 2]);
    });
  });

  it('gives everything in order after the receiver was down for a while', async () => {
    const cluster = c();
    await cluster.explainFailure(async () => {
      const before = [0, 1, 2].map((i) => ok(i).length);
      await receiver.down();
      await transfers(cluster, 4);
      const head = (await cluster.health(0)).height;
      await waitFinal(cluster, [0, 1, 2], head, deliveryTimeoutMs);
      assert.deepEqual(
        [0, 1, 2].map((i) => ok(i).length),
        before,
        'nothing delivered while the receiver was down',
      );
      await receiver.up();
      await allDelivered(cluster, [0, 1, 2]);
      for (const i of [0, 1, 2]) {
        assert.equal(ok(i).length, sent.length, `node ${i}: each event once, no duplicate`);
        // It did try while the receiver was down (refused connections), and retried.
        const failed = /coffer_webhook_attempts_total\{result="failed"\} (\d+)/.exec(
          await cluster.metrics(i),
        );
        assert.ok(Number(failed?.[1] ?? 0) >= 1, `node ${i} counted failed attempts`);
      }
    });
  });

  it('a node killed with SIGKILL mid-delivery delivers the rest after its restart, with no gap', async () => {
    const cluster = c();
    await cluster.explainFailure(async () => {
      const already = deliveredOn(1).length;
      receiver.holdMs = (p) => (p === pathOf(1) ? holdMs : 0);
      const from = sent.length;
      await transfers(cluster, 4);
      // Node 1 has sent the first new event and waits for the (held) answer: kill it now.
      await cluster.waitFor(
        () => deliveredOn(1).length > already,
        'node 1 to send the first new event',
        deliveryTimeoutMs,
      );
      const inFlight = deliveredOn(1).at(-1)!;
      await cluster.kill(1);
      receiver.holdMs = () => 0;
      await cluster.startNode(1);
      await allDelivered(cluster, [0, 1, 2]);
      const firstNew = (verifyWebhook(secret, inFlight) as WebhookPayload).tx;
      assert.equal(firstNew, sent[from], 'the event in flight was the first new one');
      // After the restart: the one in flight again (same id), then the rest, each once.
      const afterRestart = deliveredOn(1).slice(already + 1);
      const ids = afterRestart.map((r) => r.id);
      assert.equal(
        new Set(ids).size,
        ids.length,
        `no id twice after the restart: ${ids.join(' ')}`,
      );
      // Its answer was held until after the kill: the node never saw it, so it must send it again.
      assert.equal(ids.length, 4, `${ids.length} deliveries after the restart`);
      assert.equal(ids[0], inFlight.id, 'the repeat is the one in flight');
      for (const i of [0, 2]) assert.equal(ok(i).length, sent.length, `node ${i}: each once`);
    });
  });
});
