// test-runner: alone
// The cluster of issue 7 when things break: a nats-server and a node killed under load, and a
// node whose state was corrupted on disk. Three real nats-servers and three `coffer start
// --cluster` processes on loopback per describe (test/support/cluster.ts); test/cluster.test.ts
// covers the cluster when all is well. Build first (npm test does): npx tsc -p tsconfig.build.json.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import Database from 'better-sqlite3';

import { readAttestation } from '../src/consensus/jetstream/wire.js';
import { ledgerKeys, type AccountRecord } from '../src/ledger/index.js';
import {
  TestCluster,
  clusterPerSuite,
  assertSameChain,
  delay,
  fund,
  newAccount,
  producersOf,
  waitCommitted,
  waitFinal,
  waitHeight,
  type Account,
} from './support/cluster.js';
import type { NatsCluster } from './support/nats.js';

const nodeArgs = ['--producer-timeout-ms', '500', '--idle-block-interval-ms', '300'];
/** One height per producer turn (round robin by height), so every validator's turn comes soon. */
const nodeEnv = { COFFER_PRODUCER_TERM_HEIGHTS: '1' };
const suiteTimeoutMs = 170_000;
const fundedMinor = 100_000n;

/** Answers the rejection codes after which a resubmitted tx is known to be in (or past) a pool. */
const alreadyIn = new Set(['duplicate_tx', 'nonce_too_low']);

describe(
  'a cluster under load loses a nats-server, then a node',
  { timeout: suiteTimeoutMs },
  () => {
    const c = clusterPerSuite({ nodeArgs, env: nodeEnv });

    it('keeps every acknowledged tx, goes on with two nodes, and the killed node catches up', async () => {
      await c().explainFailure(async () => {
        const cl = c();
        const senders = [newAccount(), newAccount(), newAccount()];
        const recipient = newAccount();
        await fund(cl, senders, fundedMinor);

        const down = new Set<number>();
        const acknowledged: string[] = [];
        const sent = new Map<string, number>(); // sender -> txs in (acknowledged or known in)
        let stopLoad = false;
        let refusals = 0;
        // One worker per sender: each tx is retried (the same tx, the same hash) on the next node
        // until a node acknowledges it, or says it is in already.
        const worker = async (sender: Account, first: number) => {
          let nonce = 0;
          let node = first;
          while (!stopLoad) {
            const tx = cl.transferTx(sender, nonce, recipient.address, 1 + (nonce % 7));
            for (;;) {
              node = (node + 1) % cl.size;
              if (down.has(node)) continue;
              const res = await cl.submit(node, tx).catch(() => undefined);
              if (res && (res.status === 200 || res.status === 202)) {
                assert.match(res.body.hash ?? '', /^[0-9a-f]{64}$/);
                acknowledged.push(res.body.hash!);
                break;
              }
              if (res?.body.error && alreadyIn.has(res.body.error.code)) break;
              refusals += 1;
              await delay(100);
            }
            nonce += 1;
            sent.set(sender.address, nonce);
            await delay(50);
          }
        };
        const load = Promise.all(senders.map((s, i) => worker(s, i)));
        try {
          await delay(2_000);
          const killedServer = 0;
          await cl.nats.kill(killedServer);
          await delay(6_000);
          const killedNode = 1;
          down.add(killedNode);
          await cl.kill(killedNode);
          const afterKill = Math.max(
            ...(await Promise.all([0, 2].map(async (i) => (await cl.health(i)).height))),
          );
          await delay(5_000);
          stopLoad = true;
          await load;

          // Nothing acknowledged is lost: all of it commits on the two nodes left.
          assert.ok(
            acknowledged.length >= 30,
            `load: ${acknowledged.length} acknowledged, ${refusals} refused`,
          );
          await waitCommitted(cl, [0, 2], acknowledged, 60_000);
          for (const s of senders) {
            for (const i of [0, 2]) {
              assert.equal(await cl.nonce(i, s.address), sent.get(s.address), `nonce on ${i}`);
            }
          }

          // The two go on; the killed validator's turns pass to the next after the timeout.
          const from = Math.max(afterKill, (await cl.health(0)).height) + 1;
          const to = from + 5;
          await waitHeight(cl, [0, 2], to, 30_000);
          const producers = await producersOf(cl, 0, from, to);
          const killedProducer = cl.validators[killedNode]!.producer;
          assert.equal(producers.includes(killedProducer), false, producers.join());
          assert.deepEqual(
            [...new Set(producers)].sort(),
            [cl.validators[0]!.producer, cl.validators[2]!.producer].sort(),
          );

          // Back on its data dir: it replays what it missed and agrees on every height.
          const finalBefore = (await cl.health(0)).finalizedHeight;
          // With a nats-server still down: the node must reach JetStream through the others.
          await cl.startNode(killedNode);
          down.delete(killedNode);
          const head = (await cl.health(0)).height;
          await waitHeight(cl, [killedNode], head, 60_000);
          await assertSameChain(cl, [0, 1, 2], 1, head);
          await waitCommitted(cl, [killedNode], acknowledged, 30_000);
          await waitFinal(cl, [0, 1, 2], head, 30_000);
          assert.ok(head > finalBefore, `finality advanced past ${finalBefore}`);

          let total = 0n;
          for (const a of [...senders, recipient]) {
            const balances = await Promise.all([0, 1, 2].map((i) => cl.balance(i, a.address)));
            assert.deepEqual(balances, [balances[0], balances[0], balances[0]], a.address);
            total += balances[0]!;
          }
          assert.equal(total, fundedMinor * BigInt(senders.length));

          // The server comes back too, and a transfer through every node commits.
          await cl.nats.restart(killedServer);
          await cl.nats.settled();
          for (const i of [0, 1, 2]) {
            const s = senders[i]!;
            const nonce = await cl.nonce(i, s.address);
            const res = await cl.transfer(i, s, nonce, recipient.address, 5, true);
            assert.equal(res.status, 200, JSON.stringify(res.body));
            assert.equal(res.body.status, 'ok');
          }
        } finally {
          stopLoad = true;
          await load.catch(() => undefined);
        }
      });
    });
  },
);

/** Every attestation in the stream at `height`, by validator (operator address), verified. */
async function attestationsAt(cluster: TestCluster, height: number): Promise<Map<string, string>> {
  const stream = `coffer-${cluster.chainId}-attestations`;
  const nc = await connect({ servers: cluster.nats.urls });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 10_000 });
    const last = (await jsm.streams.info(stream)).state.last_seq;
    const found = new Map<string, string>();
    if (last === 0) return found;
    const consumer = await jetstream(nc, { timeout: 10_000 }).consumers.get(stream, {
      deliver_policy: DeliverPolicy.All,
    });
    const messages = await consumer.consume();
    try {
      for await (const message of messages) {
        const attestation = readAttestation(message.data, cluster.chainId);
        if (attestation?.height === height) {
          found.set(attestation.validator, `${attestation.blockHash} ${attestation.stateRoot}`);
        }
        if (message.seq >= last) break;
      }
    } finally {
      messages.stop();
    }
    return found;
  } finally {
    await nc.close();
  }
}

describe('a node with corrupted state', { timeout: suiteTimeoutMs }, () => {
  const c = clusterPerSuite({ nodeArgs, env: nodeEnv });

  it('halts rather than attests when its state root differs', async () => {
    await c().explainFailure(async () => {
      const cl = c();
      const corrupt = 2;
      const victim = newAccount();
      const payee = newAccount();
      await fund(cl, [victim], fundedMinor);
      const funded = (await cl.health(0)).height;
      await waitHeight(cl, [corrupt], funded, 20_000);
      assert.equal(await cl.balance(corrupt, victim.address), fundedMinor);

      // Node 3 stops; its copy of the victim's balance is changed on disk.
      await cl.kill(corrupt);
      const db = new Database(path.join(cl.validators[corrupt]!.dataDir, 'chain.db'));
      try {
        const key = ledgerKeys.account(victim.address);
        const row = db.prepare('SELECT value FROM state WHERE key = ?').get(key) as
          { value: string } | undefined;
        assert.ok(row, `${key} in the state table`);
        const account = JSON.parse(row.value) as AccountRecord;
        assert.equal(account.balances.USD, fundedMinor.toString());
        account.balances.USD = (fundedMinor + 50_000n).toString();
        const changed = db
          .prepare('UPDATE state SET value = ? WHERE key = ?')
          .run(JSON.stringify(account), key);
        assert.equal(changed.changes, 1);
      } finally {
        db.close();
      }
      await cl.startNode(corrupt);
      assert.equal(await cl.balance(corrupt, victim.address), fundedMinor + 50_000n);
      await waitHeight(cl, [corrupt], (await cl.health(0)).height, 30_000);
      assert.equal((await cl.health(corrupt)).status, 'ok');

      // Submitted right after a block of node 3's, so the next heights are the others' turns: the
      // transfer is in a block node 3 did not produce.
      const corruptProducer = cl.validators[corrupt]!.producer;
      await cl.waitFor(
        async () => {
          const latest = await cl.get<{ header: { producer: string } }>(0, '/v1/blocks/latest');
          return latest.header.producer === corruptProducer;
        },
        'a block by node 3',
        20_000,
      );
      const res = await cl.transfer(0, victim, 0, payee.address, 1_000, true);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const at = res.body.height!;
      const block = await cl.block(0, at);
      assert.notEqual(block.header.producer, corruptProducer);

      const halted = await cl.waitFor(
        async () => {
          const health = await cl.health(corrupt);
          return health.status === 'halted' ? health : undefined;
        },
        'node 3 to halt',
        20_000,
      );
      assert.equal(halted.height, at - 1);
      assert.match(halted.fault ?? '', /state root mismatch/);
      const status = await cl.request(corrupt, 'GET', '/health');
      assert.equal(status.status, 503);
      const metrics = await cl.metrics(corrupt);
      assert.match(metrics, /^coffer_halted 1$/m);
      assert.match(metrics, /^coffer_state_root_mismatch_total [1-9]\d*$/m);
      for (const i of [0, 1]) {
        assert.equal((await cl.health(i)).status, 'ok');
        assert.equal(await cl.balance(i, victim.address), fundedMinor - 1_000n);
        assert.match(await cl.metrics(i), /^coffer_halted 0$/m);
      }

      // The other two attest the height; node 3 does not.
      const operators = cl.validators.map((v) => v.operator);
      const attested = await cl.waitFor(
        async () => {
          const found = await attestationsAt(cl, at);
          return found.has(operators[0]!) && found.has(operators[1]!) ? found : undefined;
        },
        `attestations of ${at} by nodes 1 and 2`,
        20_000,
      );
      const agreed = `${block.hash} ${block.header.stateRoot}`;
      assert.deepEqual(
        new Map(attested),
        new Map([
          [operators[0]!, agreed],
          [operators[1]!, agreed],
        ]),
      );

      // The two go on. With 3 validators a quorum is all 3 (more than two thirds), so nothing
      // from the mismatched height on can become final while node 3 is halted.
      const to = at + 5;
      await waitHeight(cl, [0, 1], to, 30_000);
      await assertSameChain(cl, [0, 1], 1, to);
      const producers = await producersOf(cl, 0, at + 1, to);
      assert.equal(producers.includes(corruptProducer), false, producers.join());
      assert.equal((await cl.health(corrupt)).height, at - 1);
      const finality = await cl.get<{ quorum: number; finalizedHeight: number }>(0, '/v1/finality');
      assert.equal(finality.quorum, 3);
      await waitFinal(cl, [0, 1], at - 1, 20_000);
      for (const i of [0, 1]) assert.equal((await cl.health(i)).finalizedHeight, at - 1);
      const last = await cl.waitFor(
        () => attestationsAt(cl, at),
        `the attestations of ${at}`,
        20_000,
      );
      assert.equal(last.has(operators[corrupt]!), false);
    });
  });
});

// Keeps the import the test runner looks for (scripts/test.mjs installs nats-server for it).
export type { NatsCluster };
