// test-runner: alone
// The gap flood of issue 13, against a real node: hundreds of fresh unfunded keys sign txs whose
// nonces start past their next nonce (never fillable) while funded users keep paying. Before the
// gapped bounds, the flood filled the pool: everyone got `mempool_full`, the producer's own nonce
// commitment too, and the solo chain stopped for good once its committed range ran out.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { toHex } from '../src/crypto/index.js';
import { CofferNode, parseNodeConfig } from '../src/node/index.js';
import {
  generateKey,
  importKey,
  signTx,
  txs,
  type SignedTx,
  type SigningKey,
} from '../src/sdk/index.js';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-flood-'));
let node: CofferNode;
let dev: SigningKey;

/** The pool's bounds here: 2,000 user txs, of which 200 gapped, 16 per sender. */
const limits = {
  mempoolTxsMax: 2_000,
  mempoolGappedTxsMax: 200,
  mempoolGappedPerSenderMax: 16,
  mempoolGappedExpiryMs: 2_000,
};

before(async () => {
  node = await CofferNode.open(
    parseNodeConfig(
      {
        dataDir,
        logLevel: 'silent',
        blockIntervalMs: 5,
        idleBlockIntervalMs: 20,
        verifyWorkers: 1,
        commitWaitMs: 60_000,
        // A range of 16 heights, renewed 8 before its end: many renewals during the flood.
        nonceRangeHeights: 16,
        nonceRangeLeadHeights: 8,
        ...limits,
      },
      {},
    ),
  );
  dev = importKey(toHex(node.init.devAccount!.secretKey));
  await node.startProducing();
});

after(async () => {
  await node.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

interface Result {
  hash?: string;
  status?: string;
  error?: { code: string };
}

async function post(url: string, payload: unknown): Promise<Result[]> {
  const res = await node.app.inject({ method: 'POST', url, payload: payload as object });
  const body = res.json<{ results?: Result[] } & Result>();
  return body.results ?? [body];
}

function transfer(from: SigningKey, nonce: number, to: string, amount = '1'): SignedTx {
  return signTx(
    {
      chainId: node.chain.chainId,
      sender: from.address,
      nonce,
      ...txs.transfer({ to, asset: 'USD', amount }),
    },
    from,
  );
}

interface ProducerRanges {
  ranges: { fromHeight: number; count: number }[];
}

describe('a gap flood against a solo node', () => {
  it('funded users keep committing and the producer keeps renewing its nonces while hundreds of unfunded keys flood gapped txs', async () => {
    const producer = node.signer.producer;
    const startHeight = node.chain.height();
    const rangesBefore = (
      await node.app.inject({ method: 'GET', url: `/v1/producers/${producer}/nonce-ranges` })
    ).json<ProducerRanges>().ranges.length;

    // Four funded users.
    const users = Array.from({ length: 4 }, () => generateKey());
    const funding = await post('/v1/txs/batch?wait=commit', {
      txs: users.map((u, i) =>
        transfer(dev, node.chain.nonceOf(dev.address) + i, u.address, '100000'),
      ),
    });
    assert.deepEqual(
      funding.map((r) => r.status),
      users.map(() => 'ok'),
    );

    // The flood: rounds of 100 fresh keys, each signing nonces 1..30 (nonce 0 never comes),
    // 3,000 txs a round, more than the whole pool, sent while the users pay.
    let flooding = true;
    let rounds = 0;
    const floodCodes = new Map<string, number>();
    const flood = (async () => {
      while (flooding) {
        const keys = Array.from({ length: 100 }, () => generateKey());
        const round = keys.flatMap((key) =>
          Array.from({ length: 30 }, (_, n) => transfer(key, n + 1, dev.address)),
        );
        for (let i = 0; i < round.length && flooding; i += 1_000) {
          for (const result of await post('/v1/txs/batch', { txs: round.slice(i, i + 1_000) })) {
            const code = result.error?.code ?? result.status ?? '?';
            floodCodes.set(code, (floodCodes.get(code) ?? 0) + 1);
          }
        }
        rounds += 1;
      }
    })();

    // The users pay, one tx at a time each, answered at commit, for as long as the flood runs:
    // at least three rounds (300 keys) and four ranges of heights, stopping at the first refusal.
    const statuses: string[] = [];
    const deadline = Date.now() + 90_000; // a stopped chain fails below instead of hanging here
    const done = () =>
      statuses.some((s) => s !== 'ok') ||
      (rounds >= 3 && node.chain.height() >= startHeight + 4 * 16) ||
      Date.now() > deadline;
    await Promise.all(
      users.map(async (user) => {
        for (let nonce = 0; !done(); nonce++) {
          const [result] = await post('/v1/txs?wait=commit', transfer(user, nonce, dev.address));
          statuses.push(result!.status ?? result!.error!.code);
        }
      }),
    );
    flooding = false;
    await flood;

    assert.deepEqual(
      statuses,
      statuses.map(() => 'ok'),
      `every funded tx committed ok; the flood got ${JSON.stringify([...floodCodes])}`,
    );
    assert.ok(rounds >= 3, `hundreds of flood keys (${rounds * 100})`);
    assert.ok(statuses.length >= 40, `the users paid all along (${statuses.length} txs)`);
    assert.ok((floodCodes.get('pending') ?? 0) > 0, 'the flood was admitted in part');
    assert.ok((floodCodes.get('sender_gap_limit') ?? 0) > 0, 'and capped per sender');
    assert.equal(floodCodes.get('mempool_full') ?? 0, 0, 'never filling the pool');

    // The producer renewed its nonces again and again, and the chain went on.
    const ranges = (
      await node.app.inject({ method: 'GET', url: `/v1/producers/${producer}/nonce-ranges` })
    ).json<ProducerRanges>().ranges;
    assert.ok(
      ranges.length - rangesBefore >= 4,
      `${ranges.length - rangesBefore} ranges committed during the flood (heights ${startHeight} to ${node.chain.height()})`,
    );
    assert.ok(
      node.chain.height() >= ranges.at(-1)!.fromHeight - 16,
      `the chain is in its newest ranges (height ${node.chain.height()})`,
    );
    const health = (await node.app.inject({ method: 'GET', url: '/health' })).json<{
      status: string;
      pendingTxs: number;
    }>();
    assert.equal(health.status, 'ok');
    assert.ok(health.pendingTxs <= limits.mempoolGappedTxsMax, `${health.pendingTxs} pending`);
  });
});
