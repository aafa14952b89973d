// The permissioned validator set in a running cluster (issue 13): four validators in genesis, three
// nodes running on one real nats-server (the fourth never starts). Producers that outsiders
// register wait for approval and do not count for finality; `/v1/finality` answers the quorum the
// nodes count with; producers that never produce are jailed for downtime and the quorum is then
// over the three that run.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { signTx } from '../src/chain/index.js';
import { quorumOf, type JetStreamConsensus } from '../src/consensus/index.js';
import { addressFromPublicKey, keyPairFromSecret } from '../src/crypto/index.js';
import { getProducer } from '../src/modules/producers/index.js';
import {
  CofferNode,
  initCluster,
  parseNodeConfig,
  type ClusterInitResult,
} from '../src/node/index.js';
import { prepareProducerRegistration } from '../src/sdk/index.js';
import { NatsCluster } from './support/nats.js';

const chainId = 'validators';
/**
 * Heights without a block before a producer is jailed: well above a live producer's longest gap
 * (six producers, turns of 5 heights: 25 heights, plus a turn lost to a slow node), low enough that
 * the test sees it within seconds (blocks every 100 ms when idle).
 */
const downtimeWindowHeights = 100;
const bondMin = 100_000n; // the dev parameters' (1,000.00 USD)

async function until(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface FinalityAnswer {
  height: number;
  finalizedHeight: number;
  validators: { producer: string; operator: string }[];
  quorum: number;
}

describe('the validator set of a running cluster', { timeout: 240_000 }, () => {
  let nats: NatsCluster;
  let dir: string;
  let cluster: ClusterInitResult;
  let nodes: CofferNode[] = [];
  let devNonce = 0;
  /** Two producers v1's operator registers and the validators approve; no node runs them. */
  const unrun: string[] = [];

  const consensusOf = (node: CofferNode) => node.consensus as JetStreamConsensus;

  async function finality(node: CofferNode): Promise<FinalityAnswer> {
    const res = await node.app.inject({ method: 'GET', url: '/v1/finality' });
    assert.equal(res.statusCode, 200, res.body);
    return res.json<FinalityAnswer>();
  }

  /** Submits a tx signed by `key` to node 0 and waits as asked. */
  async function send(
    key: { address: string; secretKey: Uint8Array },
    nonce: number,
    type: string,
    payload: Record<string, unknown>,
    wait: true | 'final' = true,
  ) {
    const tx = signTx({ chainId, type, sender: key.address, nonce, payload }, key.secretKey);
    const [result] = await nodes[0]!.submit([tx], wait);
    assert.ok(result);
    return result;
  }

  function transfer(to: string, amount: bigint, wait: true | 'final' = true) {
    const payload = { to, asset: 'USD', amount: amount.toString() };
    return send(cluster.devAccount, devNonce++, 'ledger.transfer', payload, wait);
  }

  /** A registration of a fresh producer key, its nonces from a little above the head. */
  function registration(seedByte: number) {
    const seed = new Uint8Array(32).fill(seedByte);
    return prepareProducerRegistration({
      seed,
      info: { name: `producer ${seedByte}` },
      bond: bondMin,
      chainId,
      fromHeight: nodes[0]!.chain.height() + 50,
      count: 16,
    });
  }

  /** The quorum the nodes count with for the next height, the same on every node. */
  function countedQuorum(): number {
    const quorums = nodes.map((n) => consensusOf(n).quorumAt(n.chain.height() + 1));
    assert.equal(new Set(quorums).size, 1, quorums.join());
    return quorums[0]!;
  }

  before(async () => {
    nats = await NatsCluster.start({ servers: 1 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-validators-'));
    cluster = initCluster({
      dir: path.join(dir, 'c'),
      validators: 4,
      chainId,
      now: Date.now(),
      producerParams: { downtimeWindowHeights, downtimeJailHeights: 1_000 },
    });
    // v4 is in genesis but never runs: a validator down for good.
    for (const validator of cluster.validators.slice(0, 3)) {
      const config = parseNodeConfig(
        {
          dataDir: validator.dataDir,
          port: 0,
          logLevel: 'silent',
          cluster: nats.urls.join(','),
          validator: validator.name,
          producerTimeoutMs: 300,
          producerTermHeights: 5,
          idleBlockIntervalMs: 100,
          blockIntervalMs: 20,
          verifyWorkers: 1,
          commitWaitMs: 10_000,
        },
        {},
      );
      nodes.push(await CofferNode.open(config));
    }
    await Promise.all(nodes.map((n) => n.startProducing()));
  });

  after(async () => {
    for (const node of nodes) await node.close();
    nodes = [];
    await nats?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('finality keeps advancing while producers registered by outsiders wait for approval', async () => {
    // Three outsiders, each with the minimum bond, register producers that will never run.
    const outsiders = [1, 2, 3].map((byte) => {
      const pair = keyPairFromSecret(new Uint8Array(32).fill(0x60 + byte));
      return { address: addressFromPublicKey(pair.publicKey), secretKey: pair.secretKey };
    });
    for (const outsider of outsiders) {
      assert.equal((await transfer(outsider.address, bondMin)).status, 'ok');
    }
    const phantoms: string[] = [];
    for (const [index, outsider] of outsiders.entries()) {
      const { producer, payload } = registration(0x70 + index);
      const result = await send(outsider, 0, 'producer.register', payload);
      assert.equal(result.status, 'ok', JSON.stringify(result));
      phantoms.push(producer);
    }
    // Counted as validators, seven operators would need five attestations and only three attest.
    const final = await transfer(cluster.validators[0]!.operator, 1n, 'final');
    assert.equal(final.status, 'ok', JSON.stringify(final));
    assert.equal(final.final, true, JSON.stringify(final.error));
    for (const node of nodes) {
      for (const id of phantoms) assert.equal(getProducer(node.store, id)?.status, 'pending');
    }
    const answer = await finality(nodes[1]!);
    for (const id of phantoms) {
      assert.ok(!answer.validators.some((v) => v.producer === id), 'a pending producer counts not');
    }
    assert.equal(answer.quorum, countedQuorum());
    assert.equal(answer.quorum, 3);
  });

  it("/v1/finality's quorum is the quorum finality counts, with an operator running two producers", async () => {
    const v1 = nodes[0]!;
    assert.equal((await transfer(v1.init.producer.address, 2n * bondMin)).status, 'ok');
    for (const byte of [0x80, 0x81]) {
      const { producer, payload } = registration(byte);
      const result = await v1.submitOwn('producer.register', payload, true);
      assert.equal(result.status, 'ok', JSON.stringify(result));
      unrun.push(producer);
    }
    // Each running validator's operator approves both (the fourth is not there to).
    for (const node of nodes) {
      for (const id of unrun) {
        const result = await node.submitOwn('producer.approve', { producer: id }, true);
        assert.equal(result.status, 'ok', JSON.stringify(result));
      }
    }
    for (const node of nodes) {
      await until('both active on every node', () =>
        unrun.every((id) => getProducer(node.store, id)?.status === 'active'),
      );
    }
    const answer = await finality(nodes[2]!);
    const producers = answer.validators.map((v) => v.producer);
    for (const id of unrun) assert.ok(producers.includes(id));
    const operators = new Set(answer.validators.map((v) => v.operator));
    assert.ok(producers.length > operators.size, 'v1 operates three producers');
    // Over producers it would be more; finality counts operators, and so does the answer.
    assert.ok(quorumOf(producers.length) > answer.quorum);
    assert.equal(answer.quorum, quorumOf(operators.size));
    assert.equal(answer.quorum, countedQuorum());
    // And that quorum is met: the three running validators finalize.
    const final = await transfer(cluster.validators[1]!.operator, 1n, 'final');
    assert.equal(final.final, true, JSON.stringify(final.error));
  });

  it('producers that never produce are jailed for downtime; the quorum is then 3 of the 3 that run', async () => {
    const down = [cluster.validators[3]!.producer, ...unrun];
    for (const node of nodes) {
      await until(
        'the validator that never ran and the two producers nobody runs, jailed on every node',
        () =>
          down.every((id) => {
            const record = getProducer(node.store, id);
            return record?.status === 'jailed' && record.jail?.reason === 'downtime';
          }),
        90_000,
      );
    }
    const running = cluster.validators.slice(0, 3).map((v) => v.producer);
    for (const id of running) {
      assert.equal(
        getProducer(nodes[0]!.store, id)?.status,
        'active',
        'a running one is not jailed',
      );
    }
    const jailedAt = Math.max(
      ...down.map((id) => getProducer(nodes[0]!.store, id)!.jail!.jailedAtHeight),
    );
    const answer = await finality(nodes[0]!);
    assert.deepEqual(
      answer.validators.map((v) => v.producer),
      [...running].sort(),
    );
    assert.equal(answer.quorum, 3);
    assert.equal(answer.quorum, countedQuorum());
    const final = await transfer(cluster.validators[2]!.operator, 1n, 'final');
    assert.equal(final.final, true, JSON.stringify(final.error));
    assert.ok(final.height! > jailedAt);
    await until('every node final past the jailing', () =>
      nodes.every((n) => n.consensus.finalizedHeight >= final.height!),
    );
    for (const node of nodes) assert.equal(node.healthy, true, node.faultMessage());
  });
});
