// The due index and the investor sets as one key per entry: what a tx writes does not grow with
// what the index or the set already holds, and a block settles its due entries in due order
// within its budget.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import {
  ModuleTestHarness,
  testAccount,
  type ModuleTestChain,
  type TestAccount,
} from '../../../test/support/module-chain.js';
import { ledgerModule, ModuleRegistry, type DecodedTx } from '../../chain/index.js';
import {
  campaignIdOf,
  crowdfundKeys,
  crowdfundModule,
  dueEntriesPerBlockMax,
  getCampaign,
  listInvestors,
  type DistributionRule,
} from './index.js';

const chainId = 'coffer-crowdfund-index';
const harness = new ModuleTestHarness({
  name: 'crowdfund-index',
  chainId,
  registry: new ModuleRegistry([ledgerModule, crowdfundModule]),
});
after(() => harness.close());

function account(seed: number): TestAccount {
  const secret = new Uint8Array(32).fill(0x3c);
  secret[0] = seed >> 8;
  secret[1] = seed & 0xff;
  return testAccount(secret);
}
const issuer = account(1);
const producer = account(2);
const crowd = Array.from({ length: 600 }, (_, i) => account(1_000 + i));

const genesis = harness.genesis({
  assets: [{ symbol: 'USD', decimals: 2, issuer: issuer.address }],
  balances: crowd.map((a) => ({ address: a.address, asset: 'USD', amount: '100000' })),
});

const allToInvestors: DistributionRule = {
  tranches: [
    {
      name: 'all',
      shareBasisPoints: 10_000,
      recipients: [{ kind: 'investors', weightBasisPoints: 10_000 }],
    },
  ],
};

function terms(deadline: { height: number } | { time: number }): Record<string, unknown> {
  return {
    title: 'Index',
    asset: 'USD',
    target: '100000000',
    minInvestment: '100',
    maxInvestment: '100000',
    opensAt: 'height' in deadline ? { height: 1 } : { time: 0 },
    deadline,
    cancelWindow: 0,
    earlyClose: false,
    platformFee: null,
    reporters: [producer.address],
    distribution: allToInvestors,
  };
}

/** Creates campaigns of `producer`, 200 a block; returns their ids in creation order. */
function createMany(
  node: ModuleTestChain,
  deadlines: ({ height: number } | { time: number })[],
): string[] {
  const ids: string[] = [];
  for (let start = 0; start < deadlines.length; start += 200) {
    const offsets = new Map<string, number>();
    const txs = deadlines
      .slice(start, start + 200)
      .map((deadline) => node.tx(producer, 'campaign.create', terms(deadline), offsets));
    assert.ok(node.produce(txs).receipts.every((r) => r.status === 'ok'));
    ids.push(...txs.map((tx) => campaignIdOf(tx.hash)));
  }
  return ids;
}

/**
 * Bytes (keys and values) a block of `txs` would write, executed without committing; every tx
 * must succeed.
 */
function bytesWritten(node: ModuleTestChain, txs: DecodedTx[]): number {
  const result = node.chain.execute(txs, node.time + 1_000);
  assert.ok(
    result.receipts.every((r) => r.status === 'ok'),
    JSON.stringify(result.receipts.map((r) => r.status)),
  );
  let bytes = 0;
  for (const [key, value] of result.writes) bytes += key.length + (value?.length ?? 0);
  return bytes;
}

const dueKeysOf = (node: ModuleTestChain, id: string) =>
  [...node.store.scan(crowdfundKeys.dueEntries('height'))]
    .map(([key]) => key)
    .filter((key) => key.includes(`/${id}/`));

describe('crowdfund due index, one key per entry', () => {
  it('an amend writes as much at 2,000 entries as at the first, and leaves one deadline entry', () => {
    const node = harness.open(genesis);
    const [id] = createMany(node, [{ height: 500 }]);
    const amend = (deadline: number, offsets?: Map<string, number>) =>
      node.tx(
        producer,
        'campaign.amend',
        { campaignId: id, terms: { deadline: { height: deadline } } },
        offsets,
      );
    const first = bytesWritten(node, [amend(590)]);
    assert.deepEqual(dueKeysOf(node, id!), [
      `crowdfund/due/height/0000000000000500/${id}/deadline`,
    ]);

    // 1,000 other campaigns due about then, and 1,000 amendments of this one: on the old layout
    // (one value per 1,000 heights, amended points left behind) every insert rewrote them all.
    createMany(
      node,
      Array.from({ length: 1_000 }, (_, i) => ({ height: 400 + (i % 200) })),
    );
    for (let round = 0; round < 5; round++) {
      const offsets = new Map<string, number>();
      const txs = Array.from({ length: 200 }, (_, i) =>
        amend(450 + ((round * 200 + i) % 100), offsets),
      );
      assert.ok(node.produce(txs).receipts.every((r) => r.status === 'ok'));
    }
    const later = bytesWritten(node, [amend(590)]);
    // The producer's nonce has three more digits; nothing else differs.
    assert.ok(later <= first + 4, `${later} bytes at 2,000 index entries, ${first} at one`);

    assert.equal(node.produce([amend(502)]).receipts[0]!.status, 'ok');
    assert.deepEqual(dueKeysOf(node, id!), [
      `crowdfund/due/height/0000000000000502/${id}/deadline`,
    ]);
    assert.equal(
      [...node.store.scan(crowdfundKeys.dueEntries('height'))].length,
      1_001,
      'one entry per campaign',
    );
  });

  it('an investment writes as much for the 600th investor as for the first', () => {
    const node = harness.open(genesis);
    const [id] = createMany(node, [{ height: 10_000 }]);
    const invest = (who: TestAccount, offsets?: Map<string, number>) =>
      node.tx(who, 'campaign.invest', { campaignId: id, amount: '1000' }, offsets);
    const first = bytesWritten(node, [invest(crowd[0]!)]);
    for (let start = 0; start < crowd.length - 1; start += 200) {
      const txs = crowd.slice(start, Math.min(start + 200, crowd.length - 1)).map((a) => invest(a));
      assert.ok(node.produce(txs).receipts.every((r) => r.status === 'ok'));
    }
    // The last investor's address may sort anywhere: same key and value sizes either way.
    const last = bytesWritten(node, [invest(crowd.at(-1)!)]);
    // The campaign record's counters grow by a digit or two (raised, investorCount).
    assert.ok(last <= first + 8, `${last} bytes for the 600th investment, ${first} for the first`);
    assert.equal(listInvestors(node.store, id!).length, crowd.length - 1);
    assert.deepEqual(
      listInvestors(node.store, id!),
      crowd
        .slice(0, -1)
        .map((a) => a.address)
        .sort(),
    );
  });

  it('a block settles at most 1,000 due entries, in due order; the rest go next block', () => {
    const node = harness.open(genesis);
    const t1 = node.time + 3_600_000;
    const t2 = t1 + 60_000;
    const early = createMany(
      node,
      Array.from({ length: 600 }, () => ({ time: t1 })),
    );
    const late = createMany(
      node,
      Array.from({ length: 600 }, () => ({ time: t2 })),
    );
    const failedIn = (block: ReturnType<ModuleTestChain['produce']>) =>
      block.blockEvents
        .filter((e) => e.type === 'campaign.failed')
        .map((e) => e.data.campaignId as string);
    // One block past both points: t1's entries first, then t2's by campaign id.
    const first = failedIn(node.produce([], t2 + 1));
    assert.equal(first.length, dueEntriesPerBlockMax);
    const lateInOrder = [...late].sort();
    assert.deepEqual(first, [
      ...[...early].sort(),
      ...lateInOrder.slice(0, dueEntriesPerBlockMax - 600),
    ]);
    assert.equal(getCampaign(node.store, lateInOrder.at(-1)!)!.status, 'funding');
    const second = failedIn(node.produce([]));
    assert.deepEqual(second, lateInOrder.slice(dueEntriesPerBlockMax - 600));
    assert.deepEqual([...node.store.scan('crowdfund/due/')], [], 'the index is empty');
    for (const id of [...early, ...late])
      assert.equal(getCampaign(node.store, id)!.status, 'failed');
  });

  it('a reconfirmation round closed early takes its entry out of the index', () => {
    const node = harness.open(genesis);
    const [id] = createMany(node, [{ height: 1_000 }]);
    const [a, b] = [crowd[0]!, crowd[1]!];
    for (const who of [a, b]) {
      assert.equal(node.run(who, 'campaign.invest', { campaignId: id, amount: '1000' }), 'ok');
    }
    assert.equal(
      node.run(producer, 'campaign.amend', {
        campaignId: id,
        terms: { title: 'Index, amended' },
        reconfirmBy: { height: 900 },
      }),
      'ok',
    );
    assert.deepEqual(
      [...node.store.scan(crowdfundKeys.pendings(id!))].map(([key]) => key),
      [a.address, b.address].sort().map((address) => crowdfundKeys.pending(id!, address)),
    );
    assert.equal(dueKeysOf(node, id!).length, 2);
    for (const who of [a, b]) {
      assert.equal(node.run(who, 'campaign.reconfirm', { campaignId: id }), 'ok');
    }
    assert.equal(getCampaign(node.store, id!)!.reconfirmation, null);
    assert.deepEqual(dueKeysOf(node, id!), [
      `crowdfund/due/height/0000000000001000/${id}/deadline`,
    ]);
    assert.deepEqual([...node.store.scan(crowdfundKeys.pendings(id!))], []);
  });
});
