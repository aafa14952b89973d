// Every campaign event's payload read whole (issue 25: payloads were counted, never read): what
// an indexer or a wallet learns from the receipts must be exactly what happened.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import {
  genesisTime,
  ModuleTestHarness,
  testAccount,
  type ModuleTestChain,
  type TestAccount,
} from '../../../test/support/module-chain.js';
import { ledgerModule, ModuleRegistry, type ChainEvent } from '../../chain/index.js';
import { campaignEscrow, campaignIdOf, crowdfundModule, type DistributionRule } from './index.js';

const harness = new ModuleTestHarness({
  name: 'crowdfund-events',
  chainId: 'coffer-crowdfund-events',
  registry: new ModuleRegistry([ledgerModule, crowdfundModule]),
});
after(() => harness.close());

const [issuer, producer, reporter, distributor, feeAccount, ann, ben, cat] = [
  1, 2, 3, 4, 5, 10, 11, 12,
].map((seed) => testAccount(seed)) as [
  TestAccount,
  TestAccount,
  TestAccount,
  TestAccount,
  TestAccount,
  TestAccount,
  TestAccount,
  TestAccount,
];
const genesis = harness.genesis({
  assets: [{ symbol: 'USD', decimals: 2, issuer: issuer.address }],
  balances: [ann, ben, cat, producer, reporter].map((a) => ({
    address: a.address,
    asset: 'USD',
    amount: '1000000',
  })),
});

/** A 30% fee to the distributor; a bonus to investors capped at 2,000; the rest 50/50. */
const distribution: DistributionRule = {
  tranches: [
    {
      name: 'fee',
      shareBasisPoints: 3_000,
      recipients: [{ kind: 'account', address: distributor.address, weightBasisPoints: 10_000 }],
    },
    {
      name: 'bonus',
      shareBasisPoints: 10_000,
      cap: { amount: '2000' },
      recipients: [{ kind: 'investors', weightBasisPoints: 10_000 }],
    },
    {
      name: 'rest',
      shareBasisPoints: 10_000,
      recipients: [
        { kind: 'investors', weightBasisPoints: 5_000 },
        { kind: 'producer', weightBasisPoints: 5_000 },
      ],
    },
  ],
};

function terms(node: ModuleTestChain, overrides: Record<string, unknown> = {}) {
  return {
    title: 'Events',
    target: '100000',
    minInvestment: '1000',
    maxInvestment: '100000',
    opensAt: { height: 1 },
    deadline: { height: node.chain.height() + 20 },
    cancelWindow: 3,
    earlyClose: false,
    platformFee: { basisPoints: 500, to: feeAccount.address },
    reporters: [reporter.address],
    distribution,
    ...overrides,
  };
}

/** The campaign events of a tx's receipt, as [type, payload]. */
const campaignEvents = (events: ChainEvent[]) =>
  events.filter((e) => e.type.startsWith('campaign.')).map((e) => [e.type, e.data]);

function runEvents(
  node: ModuleTestChain,
  sender: TestAccount,
  type: string,
  payload: Record<string, unknown>,
) {
  const receipt = node.produce([node.tx(sender, type, payload)]).receipts[0]!;
  assert.equal(receipt.status, 'ok', type);
  return campaignEvents(receipt.events);
}

function create(node: ModuleTestChain, overrides: Record<string, unknown> = {}) {
  const tx = node.tx(producer, 'campaign.create', { asset: 'USD', ...terms(node, overrides) });
  const receipt = node.produce([tx]).receipts[0]!;
  assert.equal(receipt.status, 'ok');
  return { id: campaignIdOf(tx.hash), events: campaignEvents(receipt.events) };
}

const freeze = (node: ModuleTestChain, who: TestAccount, op = 'asset.freeze') =>
  assert.equal(node.run(issuer, op, { symbol: 'USD', account: who.address }), 'ok');
const byAddress = <T extends { address: string }>(list: T[]) =>
  [...list].sort((a, b) => (a.address < b.address ? -1 : 1));

describe('campaign events carry exactly what happened', () => {
  it('created, invested, cancelled, amended, reconfirmed, not reconfirmed, failed', () => {
    const node = harness.open(genesis);
    const t = terms(node);
    const { id, events } = create(node);
    const escrow = campaignEscrow(id);
    assert.deepEqual(events, [
      [
        'campaign.created',
        { campaignId: id, producer: producer.address, asset: 'USD', escrow, ...t },
      ],
    ]);
    const invest = (who: TestAccount, amount: string) =>
      runEvents(node, who, 'campaign.invest', { campaignId: id, amount });
    const invested = (investor: TestAccount, amount: string, total: string, raised: string) => [
      'campaign.invested',
      { campaignId: id, investor: investor.address, amount, total, raised },
    ];
    assert.deepEqual(invest(ann, '60000'), [invested(ann, '60000', '60000', '60000')]);
    assert.deepEqual(invest(ann, '1000'), [invested(ann, '1000', '61000', '61000')]);
    assert.deepEqual(invest(ben, '40000'), [invested(ben, '40000', '40000', '101000')]);
    assert.deepEqual(invest(cat, '5000'), [invested(cat, '5000', '5000', '106000')]);
    assert.deepEqual(runEvents(node, cat, 'campaign.cancelInvestment', { campaignId: id }), [
      [
        'campaign.refunded',
        { campaignId: id, investor: cat.address, amount: '5000', reason: 'cancelled' },
      ],
      [
        'campaign.investmentCancelled',
        { campaignId: id, investor: cat.address, amount: '5000', raised: '101000' },
      ],
    ]);
    const by = { height: node.chain.height() + 4 };
    const amended = runEvents(node, producer, 'campaign.amend', {
      campaignId: id,
      terms: { title: 'Events, amended', target: '150000' },
      reconfirmBy: by,
    });
    assert.deepEqual(amended, [
      [
        'campaign.amended',
        {
          campaignId: id,
          amended: ['target', 'title'],
          terms: { ...t, title: 'Events, amended', target: '150000' },
          termsVersion: 1,
          reconfirmBy: by,
        },
      ],
    ]);
    assert.deepEqual(runEvents(node, ann, 'campaign.reconfirm', { campaignId: id }), [
      ['campaign.reconfirmed', { campaignId: id, investor: ann.address, termsVersion: 1 }],
    ]);
    node.until(by.height);
    assert.deepEqual(campaignEvents(node.produce([]).blockEvents), [
      [
        'campaign.refunded',
        { campaignId: id, investor: ben.address, amount: '40000', reason: 'notReconfirmed' },
      ],
    ]);
    // Ann is frozen at the deadline: her refund is owed, then claimed.
    freeze(node, ann);
    node.until(t.deadline.height);
    assert.deepEqual(campaignEvents(node.produce([]).blockEvents), [
      ['campaign.failed', { campaignId: id, raised: '61000', target: '150000', investors: 1 }],
      [
        'campaign.refundBlocked',
        {
          campaignId: id,
          investor: ann.address,
          amount: '61000',
          reason: 'failed',
          code: 'account_frozen',
        },
      ],
    ]);
    freeze(node, ann, 'asset.unfreeze');
    assert.deepEqual(runEvents(node, ann, 'campaign.claim', { campaignId: id }), [
      [
        'campaign.refunded',
        { campaignId: id, investor: ann.address, amount: '61000', reason: 'claimed' },
      ],
    ]);
  });

  it('succeeded, revenue reported, paid out, blocked, claimed and released', () => {
    const node = harness.open(genesis);
    freeze(node, producer);
    const { id } = create(node, { earlyClose: true });
    const invest = (who: TestAccount, amount: string) =>
      runEvents(node, who, 'campaign.invest', { campaignId: id, amount });
    invest(ann, '60000');
    const closing = invest(ben, '40000');
    assert.deepEqual(closing.at(-1), [
      'campaign.succeeded',
      {
        campaignId: id,
        principal: '100000',
        fee: '5000',
        released: '0',
        releaseBlocked: true,
        early: true,
      },
    ]);
    freeze(node, producer, 'asset.unfreeze');
    freeze(node, ben);
    const period = { periodStart: genesisTime, periodEnd: genesisTime + 1 };
    // 10,000: a fee of 3,000; a bonus of 2,000 (its cap) 60/40; the rest 5,000 half to the
    // investors (1,500 and 1,000) and half (2,500) to the producer. Ben's 1,800 is held.
    const reported = runEvents(node, reporter, 'campaign.reportRevenue', {
      campaignId: id,
      reportId: 'week-1',
      ...period,
      grossRevenue: '10000',
    });
    assert.deepEqual(reported[0], [
      'campaign.revenueReported',
      {
        campaignId: id,
        reportId: 'week-1',
        report: 0,
        reporter: reporter.address,
        ...period,
        grossRevenue: '10000',
        cumulativeRevenue: '10000',
        tranches: [
          { index: 0, name: 'fee', amount: '3000', fill: '3000', cap: null, capRemaining: null },
          { index: 1, name: 'bonus', amount: '2000', fill: '2000', cap: '2000', capRemaining: '0' },
          { index: 2, name: 'rest', amount: '5000', fill: '5000', cap: null, capRemaining: null },
        ],
        byClass: { investors: '4500', producer: '2500', accounts: '3000' },
        paid: '8200',
        blocked: '1800',
      },
    ]);
    const payout = (who: TestAccount, amount: string, lines: [number, string, string][]) => ({
      address: who.address,
      event: [
        who === ben ? 'campaign.payoutBlocked' : 'campaign.paidOut',
        {
          campaignId: id,
          reportId: 'week-1',
          address: who.address,
          amount,
          lines: lines.map(([tranche, recipient, part]) => ({ tranche, recipient, amount: part })),
          ...(who === ben ? { code: 'account_frozen' } : {}),
        },
      ],
    });
    const payouts = [
      payout(ann, '2700', [
        [1, 'investor', '1200'],
        [2, 'investor', '1500'],
      ]),
      payout(ben, '1800', [
        [1, 'investor', '800'],
        [2, 'investor', '1000'],
      ]),
      payout(producer, '2500', [[2, 'producer', '2500']]),
      payout(distributor, '3000', [[0, 'account', '3000']]),
    ];
    assert.deepEqual(
      reported.slice(1),
      byAddress(payouts).map((p) => p.event),
    );
    freeze(node, ben, 'asset.unfreeze');
    assert.deepEqual(runEvents(node, ben, 'campaign.claim', { campaignId: id }), [
      [
        'campaign.payoutClaimed',
        { campaignId: id, address: ben.address, amount: '1800', investor: '1800', other: '0' },
      ],
    ]);
    // The producer claims its blocked release.
    assert.deepEqual(runEvents(node, producer, 'campaign.claim', { campaignId: id }), [
      [
        'campaign.released',
        { campaignId: id, producer: producer.address, released: '95000', fee: '5000' },
      ],
    ]);
    // A frozen distributor's fee is held and claimed as another's payout.
    freeze(node, distributor);
    const second = runEvents(node, reporter, 'campaign.reportRevenue', {
      campaignId: id,
      reportId: 'week-2',
      ...period,
      grossRevenue: '1000',
    });
    assert.deepEqual(second[0]![1], {
      ...(reported[0][1] as object),
      reportId: 'week-2',
      report: 1,
      grossRevenue: '1000',
      cumulativeRevenue: '11000',
      tranches: [
        { index: 0, name: 'fee', amount: '300', fill: '3300', cap: null, capRemaining: null },
        { index: 1, name: 'bonus', amount: '0', fill: '2000', cap: '2000', capRemaining: '0' },
        { index: 2, name: 'rest', amount: '700', fill: '5700', cap: null, capRemaining: null },
      ],
      byClass: { investors: '350', producer: '350', accounts: '300' },
      paid: '700',
      blocked: '300',
    });
    freeze(node, distributor, 'asset.unfreeze');
    assert.deepEqual(runEvents(node, distributor, 'campaign.claim', { campaignId: id }), [
      [
        'campaign.payoutClaimed',
        {
          campaignId: id,
          address: distributor.address,
          amount: '300',
          investor: '0',
          other: '300',
        },
      ],
    ]);
  });

  it('a campaign that reaches its target at the deadline succeeds there, released at once', () => {
    const node = harness.open(genesis);
    const { id } = create(node, { platformFee: null, deadline: { height: 8 } });
    runEvents(node, ann, 'campaign.invest', { campaignId: id, amount: '100000' });
    node.until(8);
    assert.deepEqual(campaignEvents(node.produce([]).blockEvents), [
      [
        'campaign.succeeded',
        {
          campaignId: id,
          principal: '100000',
          fee: '0',
          released: '100000',
          releaseBlocked: false,
          early: false,
        },
      ],
    ]);
  });
});
