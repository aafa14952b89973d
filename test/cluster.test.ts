// The cluster of issue 7 end to end: three real nats-servers and three `coffer start --cluster`
// processes on loopback (test/support/cluster.ts). This file: transfers through every node commit
// in one order, a stopped producer is skipped, an equivocating producer is jailed everywhere.
// test/cluster-faults.test.ts breaks the cluster (servers and nodes killed, corrupted state).
// Build first (npm test does): npx tsc -p tsconfig.build.json.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';

import { type BlockHeader } from '../src/chain/index.js';
import {
  addressFromPublicKey,
  commitNonces,
  deriveAccountableKey,
  fromHex,
} from '../src/crypto/index.js';
import type { ProducerRecord } from '../src/modules/producers/index.js';
import {
  clusterPerSuite,
  assertSameChain,
  fund,
  newAccount,
  producersOf,
  waitCommitted,
  waitFinal,
  waitHeight,
} from './support/cluster.js';
import { signBypassingSafety } from './support/block-signer.js';
import { cliPath } from './support/cli.js';
import type { NatsCluster } from './support/nats.js';

/** Short turns, so heights move and a missing producer is skipped quickly. */
const nodeArgs = ['--producer-timeout-ms', '500', '--idle-block-interval-ms', '300'];
/** One height per producer turn (round robin by height), so every validator's turn comes soon. */
const nodeEnv = { COFFER_PRODUCER_TERM_HEIGHTS: '1' };
const suiteTimeoutMs = 150_000;
const fundedMinor = 100_000n; // 1,000.00 USD per sender

describe('a 3-validator cluster on 3 nats-servers', { timeout: suiteTimeoutMs }, () => {
  const c = clusterPerSuite({ nodeArgs, env: nodeEnv });
  const all = [0, 1, 2];

  it('commits transfers submitted to every node in one order, with equal state everywhere', async () => {
    await c().explainFailure(async () => {
      const cl = c();
      const finality = await cl.get<{
        validators: { producer: string; operator: string }[];
        quorum: number;
      }>(0, '/v1/finality');
      assert.deepEqual(
        finality.validators.map((v) => v.producer),
        cl.validators.map((v) => v.producer).sort(),
      );
      assert.equal(finality.quorum, 3);

      const senders = [newAccount(), newAccount(), newAccount(), newAccount()];
      const recipients = [newAccount(), newAccount()];
      const devBefore = await cl.balance(0, cl.dev.address);
      await fund(cl, senders, fundedMinor);

      // Each sender sends 6 transfers, round robin over the nodes, all at once.
      const expected = new Map<string, bigint>();
      for (const a of [...senders, ...recipients]) expected.set(a.address, 0n);
      for (const s of senders) expected.set(s.address, fundedMinor);
      const perSender = 6;
      const sends: Promise<string>[] = [];
      let k = 0;
      for (const [si, sender] of senders.entries()) {
        for (let nonce = 0; nonce < perSender; nonce++) {
          const to =
            nonce % 2 === 0
              ? recipients[nonce % recipients.length]!
              : senders[(si + 1) % senders.length]!;
          const amount = BigInt(101 + si * 10 + nonce);
          expected.set(sender.address, expected.get(sender.address)! - amount);
          expected.set(to.address, expected.get(to.address)! + amount);
          const node = k++ % 3;
          sends.push(
            cl.transfer(node, sender, nonce, to.address, amount).then((res) => {
              assert.equal(res.status, 202, `node ${node}: ${JSON.stringify(res.body)}`);
              assert.equal(res.body.status, 'pending');
              assert.match(res.body.hash ?? '', /^[0-9a-f]{64}$/);
              return res.body.hash!;
            }),
          );
        }
      }
      const hashes = await Promise.all(sends);
      assert.equal(new Set(hashes).size, senders.length * perSender);

      const where = await waitCommitted(cl, all, hashes, 30_000);
      const top = Math.max(...[...where.values()].map((w) => w.height));
      await waitHeight(cl, all, top, 10_000);
      const heights = await Promise.all(all.map(async (i) => (await cl.health(i)).height));
      const head = Math.min(...heights);
      assert.ok(head >= top);
      await assertSameChain(cl, all, 1, head);

      for (const [address, balance] of expected) {
        for (const i of all) assert.equal(await cl.balance(i, address), balance, `${address}@${i}`);
      }
      const total = [...expected.values()].reduce((a, b) => a + b, 0n);
      assert.equal(total, fundedMinor * BigInt(senders.length));
      for (const i of all) {
        assert.equal(
          await cl.balance(i, cl.dev.address),
          devBefore - fundedMinor * BigInt(senders.length),
        );
        for (const s of senders) assert.equal(await cl.nonce(i, s.address), perSender);
      }

      await waitFinal(cl, all, head, 20_000);
      for (const i of all) {
        const block = await cl.block(i, head);
        assert.equal(block.final, true, `block ${head} is final on node ${i}`);
      }

      // A light client follows the chain at each node with producers taking turns: every
      // header's producer comes from the chain's own registry, none is assumed.
      const producersSeen = new Set<string>();
      for (let h = 1; h <= head; h++) producersSeen.add((await cl.block(0, h)).header.producer);
      assert.ok(producersSeen.size >= 2, `turns: ${producersSeen.size} producers made blocks`);
      for (const i of all) {
        const verdict = JSON.parse(
          execFileSync(
            process.execPath,
            [cliPath, 'verify', 'chain', '--node', cl.url(i), '--json'],
            {
              encoding: 'utf8',
            },
          ),
        ) as { ok: boolean; producers: number; headers: number; to: number };
        assert.equal(verdict.ok, true, `verify chain at node ${i}`);
        assert.equal(verdict.producers, 3);
        assert.equal(verdict.headers, verdict.to + 1);
      }
    });
  });

  it('skips a stopped producer after its timeout: the other two produce', async () => {
    await c().explainFailure(async () => {
      const cl = c();
      const stopped = 2;
      const [p1, p2, p3] = cl.validators.map((v) => v.producer);
      cl.signal(stopped, 'SIGSTOP');
      try {
        // What it published before it stopped may still be on its way.
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        const from = (await cl.health(0)).height + 1;
        const to = from + 5;
        await waitHeight(cl, [0, 1], to, 30_000);
        const producers = await producersOf(cl, 0, from, to);
        assert.equal(producers.includes(p3!), false, `no block by the stopped ${p3}`);
        assert.deepEqual([...new Set(producers)].sort(), [p1!, p2!].sort(), producers.join());
        await assertSameChain(cl, [0, 1], from, to);
      } finally {
        cl.signal(stopped, 'SIGCONT');
      }
      // It resumes, catches up on the same chain and attests again: the heights go final.
      const head = (await cl.health(0)).height;
      await waitHeight(cl, [stopped], head, 30_000);
      await assertSameChain(cl, all, head - 10, head);
      await waitFinal(cl, all, head, 30_000);
      assert.equal((await cl.health(stopped)).status, 'ok');
    });
  });

  it('jails and slashes a producer that signed two blocks at one height, on every node', async () => {
    await c().explainFailure(async () => {
      const cl = c();
      const accused = cl.validators[1]!;
      // A block the accused produced.
      const head = (await cl.health(0)).height;
      let original: { hash: string; header: BlockHeader } | undefined;
      for (let h = head; h >= 1 && !original; h--) {
        const block = await cl.block(0, h);
        if (block.header.producer === accused.producer) original = block;
      }
      assert.ok(original, `a block by ${accused.name} in 1..${head}`);
      const at = original.header.height;

      const before = await cl.get<ProducerRecord>(0, `/v1/producers/${accused.producer}`);
      assert.equal(before.status, 'active');
      assert.notEqual(before.bond, '0');
      const range = before.nonceRanges.find(
        (r) => at >= r.fromHeight && at < r.fromHeight + r.count,
      );
      assert.ok(range, `a committed nonce range covers ${at}`);
      const keyFile = JSON.parse(
        fs.readFileSync(path.join(accused.dataDir, 'producer-key.json'), 'utf8'),
      ) as { secretKey: string };
      const key = deriveAccountableKey(fromHex(keyFile.secretKey, 'secretKey', 32));
      assert.equal(addressFromPublicKey(key.publicKey), accused.producer);
      const commitment = commitNonces(key.nonceSecret, cl.chainId, range.fromHeight, range.count);
      assert.equal(commitment.root, range.root);
      const forged = signBypassingSafety(key, commitment, cl.chainId, {
        ...original.header,
        stateRoot: 'ee'.repeat(32),
      });
      assert.notEqual(forged.hash, original.hash);

      const nc = await connect({ servers: cl.nats.urls });
      try {
        nc.publish(`coffer.${cl.chainId}.proposals`, JSON.stringify(forged));
        await nc.flush();
      } finally {
        await nc.close();
      }

      const jailedAt: number[] = [];
      for (const i of all) {
        const record = await cl.waitFor(
          async () => {
            const r = await cl.get<ProducerRecord>(i, `/v1/producers/${accused.producer}`);
            return r.status === 'jailed' ? r : undefined;
          },
          `node ${i} to jail ${accused.name}`,
          30_000,
        );
        assert.equal(record.bond, '0');
        assert.equal(record.equivocation?.height, at);
        assert.deepEqual(record.equivocation?.headerHashes, [original.hash, forged.hash].sort());
        assert.equal(BigInt(record.equivocation.slashed), BigInt(before.bond));
        jailedAt.push(record.equivocation.recordedAtHeight);
      }
      assert.equal(new Set(jailedAt).size, 1, `one evidence height: ${jailedAt.join()}`);

      // The other two go on, and now form the validator set (quorum 2 of 2).
      const from = jailedAt[0]! + 1;
      const to = from + 5;
      await waitHeight(cl, all, to, 30_000);
      const producers = await producersOf(cl, 0, from, to);
      assert.equal(producers.includes(accused.producer), false, producers.join());
      assert.deepEqual(
        [...new Set(producers)].sort(),
        [cl.validators[0]!.producer, cl.validators[2]!.producer].sort(),
      );
      await assertSameChain(cl, all, at, to);
      const finality = await cl.get<{ validators: unknown[]; quorum: number }>(0, '/v1/finality');
      assert.equal(finality.validators.length, 2);
      assert.equal(finality.quorum, 2);
      await waitFinal(cl, all, to, 30_000);
    });
  });
});

// Keeps the import the test runner looks for (scripts/test.mjs installs nats-server for it).
export type { NatsCluster };
