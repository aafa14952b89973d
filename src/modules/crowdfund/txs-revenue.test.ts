import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { amountMax } from '../../ledger/index.js';
import { campaignEscrow } from './schema.js';
import {
  crowdfundKeys,
  readCampaign,
  readPayout,
  readPayoutOwed,
  readPayees,
  readPosition,
  readReport,
  reportsPerCampaignMax,
  writeCampaign,
  writePayoutOwed,
  writePosition,
  type CampaignRecord,
  type PayoutLine,
} from './state.js';
import {
  ann,
  ben,
  cat,
  create,
  distributor,
  feeAccount,
  invest,
  outsider,
  producer,
  reporter,
  reporterBalance,
  startingBalance,
  TxWorld,
  type TestKey,
  type TxEvent,
} from './txs-fixture.js';

/*
 * txs-revenue.ts: `campaign.reportRevenue` (the waterfall over cumulative revenue, paid at once,
 * what a frozen recipient cannot take held as owed) and `campaign.claim` (owed refunds, owed
 * payouts and a blocked release, each paid once it can move). The campaign is the example:
 * ann 60000 and ben 40000 of a 100000 target, a 5% fee; 30% to the distributor, recoup, a 20%
 * premium, then 50/50 between investors and producer. Records and events are read whole;
 * rejections in precedence order, each leaving the state as it was.
 */

/** The whole state (the world's base is empty, so its writes are all of it). */
const dump = (w: TxWorld) => [...w.state.writes()];

const campaignOf = (w: TxWorld, id: string) => readCampaign(w.state, id)!;
const positionOf = (w: TxWorld, id: string, who: TestKey) =>
  readPosition(w.state, id, who.address)!;
const sorted = (keys: TestKey[]) => [...keys].sort((a, b) => (a.address < b.address ? -1 : 1));
const isPayee = (w: TxWorld, id: string, who: TestKey) =>
  w.state.get(crowdfundKeys.payee(id, who.address)) !== undefined;
/** An assertion's error, whose message starts with its own text (a diff follows). */
const failsWith = (message: string) => (error: unknown) =>
  error instanceof Error && error.message.startsWith(message);

/** Runs a tx that must be refused with `code`, and checks it changed nothing. */
function refused(
  w: TxWorld,
  sender: TestKey,
  type: string,
  payload: Record<string, unknown>,
  code: string,
) {
  const before = dump(w);
  const balances = [ann, ben, producer, reporter, distributor].map((k) => w.balance(k));
  assert.equal(w.run(sender, type, payload), code);
  assert.deepEqual(w.events, []);
  assert.deepEqual(dump(w), before);
  assert.deepEqual(
    [ann, ben, producer, reporter, distributor].map((k) => w.balance(k)),
    balances,
  );
}

function reportOf(id: string, gross: bigint | number, reportId = 'q1', period = [1_000, 2_000]) {
  return {
    campaignId: id,
    reportId,
    periodStart: period[0],
    periodEnd: period[1],
    grossRevenue: String(gross),
  };
}
const reportBy = (w: TxWorld, id: string, gross: bigint | number, reportId = 'q1') =>
  w.run(reporter, 'campaign.reportRevenue', reportOf(id, gross, reportId));
const claim = (w: TxWorld, who: TestKey, id: string) =>
  w.run(who, 'campaign.claim', { campaignId: id });

/** The campaign, succeeded at height 14 and released (escrow empty). */
function succeeded(w: TxWorld, overrides: Record<string, unknown> = {}): string {
  const id = create(w, overrides);
  invest(w, id, ann, 60_000);
  invest(w, id, ben, 40_000);
  w.blocksTo(14);
  assert.equal(campaignOf(w, id).status, 'succeeded');
  return id;
}

const line = (
  tranche: number,
  recipient: PayoutLine['recipient'],
  who: TestKey,
  amount: string,
  blocked = false,
): PayoutLine => ({
  tranche,
  recipient,
  address: who.address,
  amount,
  ...(blocked ? { blocked: true as const } : {}),
});

/** The tranches of the first report of 200000: every capped tranche filled. */
const tranchesAt200000 = [
  {
    index: 0,
    name: 'distribution fee',
    amount: '60000',
    fill: '60000',
    cap: null,
    capRemaining: null,
  },
  { index: 1, name: 'recoup', amount: '100000', fill: '100000', cap: '100000', capRemaining: '0' },
  { index: 2, name: 'premium', amount: '20000', fill: '20000', cap: '20000', capRemaining: '0' },
  { index: 3, name: 'profit split', amount: '20000', fill: '20000', cap: null, capRemaining: null },
];
/** A second report of 1000: 300 to the distribution fee, 700 to the profit split. */
const tranchesAt201000 = [
  {
    index: 0,
    name: 'distribution fee',
    amount: '300',
    fill: '60300',
    cap: null,
    capRemaining: null,
  },
  { index: 1, name: 'recoup', amount: '0', fill: '100000', cap: '100000', capRemaining: '0' },
  { index: 2, name: 'premium', amount: '0', fill: '20000', cap: '20000', capRemaining: '0' },
  { index: 3, name: 'profit split', amount: '700', fill: '20700', cap: null, capRemaining: null },
];

/** What each address gets of the first report of 200000, with its lines. */
const payoutsAt200000 = (blocked: TestKey[] = []) => {
  const b = (k: TestKey) => blocked.includes(k);
  return new Map<TestKey, { amount: string; lines: PayoutLine[] }>([
    [
      distributor,
      { amount: '60000', lines: [line(0, 'account', distributor, '60000', b(distributor))] },
    ],
    [
      ann,
      {
        amount: '78000',
        lines: [
          line(1, 'investor', ann, '60000', b(ann)),
          line(2, 'investor', ann, '12000', b(ann)),
          line(3, 'investor', ann, '6000', b(ann)),
        ],
      },
    ],
    [
      ben,
      {
        amount: '52000',
        lines: [
          line(1, 'investor', ben, '40000', b(ben)),
          line(2, 'investor', ben, '8000', b(ben)),
          line(3, 'investor', ben, '4000', b(ben)),
        ],
      },
    ],
    [producer, { amount: '10000', lines: [line(3, 'producer', producer, '10000', b(producer))] }],
  ]);
};

/** The paidOut and payoutBlocked events of a report, in address order. */
function payoutEvents(
  id: string,
  reportId: string,
  payouts: Map<TestKey, { amount: string; lines: PayoutLine[] }>,
  blocked: TestKey[] = [],
): TxEvent[] {
  return sorted([...payouts.keys()]).map((k) => {
    const { amount, lines } = payouts.get(k)!;
    const owed = blocked.includes(k);
    return {
      type: owed ? 'campaign.payoutBlocked' : 'campaign.paidOut',
      data: {
        campaignId: id,
        reportId,
        address: k.address,
        amount,
        lines: lines.map((l) => ({ tranche: l.tranche, recipient: l.recipient, amount: l.amount })),
        ...(owed ? { code: 'account_frozen' } : {}),
      },
    };
  });
}

describe('campaign.reportRevenue', () => {
  it('runs the waterfall and pays every recipient at once: transfers, records, events', () => {
    const w = new TxWorld();
    const id = succeeded(w);
    const escrow = campaignEscrow(id);
    const record = campaignOf(w, id);
    const [ann0, ben0] = [positionOf(w, id, ann), positionOf(w, id, ben)];
    w.height = 20;
    w.time += 777;
    const txHash = w.nextHash();
    assert.equal(reportBy(w, id, 200_000), 'ok');
    const payouts = payoutsAt200000();
    const byClass = { investors: '130000', producer: '10000', accounts: '60000' };
    assert.deepEqual(w.events, [
      {
        type: 'campaign.revenueReported',
        data: {
          campaignId: id,
          reportId: 'q1',
          report: 0,
          reporter: reporter.address,
          periodStart: 1_000,
          periodEnd: 2_000,
          grossRevenue: '200000',
          cumulativeRevenue: '200000',
          tranches: tranchesAt200000,
          byClass,
          paid: '200000',
          blocked: '0',
        },
      },
      ...payoutEvents(id, 'q1', payouts),
    ]);
    assert.deepEqual(readReport(w.state, id, 0), {
      campaignId: id,
      number: 0,
      reportId: 'q1',
      reporter: reporter.address,
      txHash,
      height: 20,
      time: w.time,
      periodStart: 1_000,
      periodEnd: 2_000,
      grossRevenue: '200000',
      cumulativeRevenue: '200000',
      tranches: tranchesAt200000,
      byClass,
      paid: '200000',
      blocked: '0',
      blockedByClass: { investors: '0', producer: '0', accounts: '0' },
      lines: [line(0, 'account', distributor, '60000'), line(3, 'producer', producer, '10000')],
    });
    assert.deepEqual(campaignOf(w, id), {
      ...record,
      revenue: '200000',
      fills: ['60000', '100000', '20000', '20000'],
      reportCount: 1,
    });
    assert.deepEqual(positionOf(w, id, ann), {
      ...ann0,
      paidOut: '78000',
      paidOutByTranche: ['0', '60000', '12000', '6000'],
    });
    assert.deepEqual(positionOf(w, id, ben), {
      ...ben0,
      paidOut: '52000',
      paidOutByTranche: ['0', '40000', '8000', '4000'],
    });
    assert.deepEqual(readPayout(w.state, id, 0, ann.address), payouts.get(ann)!.lines);
    assert.deepEqual(readPayout(w.state, id, 0, ben.address), payouts.get(ben)!.lines);
    assert.equal(w.balance(ann), startingBalance - 60_000n + 78_000n);
    assert.equal(w.balance(ben), startingBalance - 40_000n + 52_000n);
    assert.equal(w.balance(distributor), 60_000n);
    assert.equal(w.balance(producer), startingBalance + 95_000n + 10_000n);
    assert.equal(w.balance(reporter), reporterBalance - 200_000n);
    assert.equal(w.balance(escrow), 0n);
    assert.deepEqual(readPayees(w.state, id), []);
    assert.equal(readPayoutOwed(w.state, id, distributor.address), undefined);

    // A second report carries on from the cumulative fills, adding to each position.
    assert.equal(reportBy(w, id, 1_000, 'q2'), 'ok');
    assert.deepEqual(w.events[0]!.data.tranches, tranchesAt201000);
    assert.deepEqual(w.events[0]!.data.report, 1);
    assert.deepEqual(w.events[0]!.data.cumulativeRevenue, '201000');
    assert.deepEqual(
      w.events.slice(1),
      payoutEvents(
        id,
        'q2',
        new Map([
          [distributor, { amount: '300', lines: [line(0, 'account', distributor, '300')] }],
          [ann, { amount: '210', lines: [line(3, 'investor', ann, '210')] }],
          [ben, { amount: '140', lines: [line(3, 'investor', ben, '140')] }],
          [producer, { amount: '350', lines: [line(3, 'producer', producer, '350')] }],
        ]),
      ),
    );
    assert.deepEqual(positionOf(w, id, ann), {
      ...ann0,
      paidOut: '78210',
      paidOutByTranche: ['0', '60000', '12000', '6210'],
    });
    assert.deepEqual(readPayout(w.state, id, 1, ann.address), [line(3, 'investor', ann, '210')]);
    assert.equal(readReport(w.state, id, 1)!.number, 1);
    assert.equal(readReport(w.state, id, 1)!.cumulativeRevenue, '201000');
    assert.deepEqual(campaignOf(w, id).fills, ['60300', '100000', '20000', '20700']);
    assert.equal(campaignOf(w, id).reportCount, 2);
    assert.equal(campaignOf(w, id).revenue, '201000');
  });

  it('a frozen recipient is owed its whole payout; the rest is paid', () => {
    const w = new TxWorld();
    const id = succeeded(w);
    const escrow = campaignEscrow(id);
    const record = campaignOf(w, id);
    const ann0 = positionOf(w, id, ann);
    for (const k of [ann, producer, distributor]) w.freeze(k);
    assert.equal(reportBy(w, id, 200_000), 'ok');
    const blocked = [ann, producer, distributor];
    const payouts = payoutsAt200000(blocked);
    assert.deepEqual(w.events, [
      {
        type: 'campaign.revenueReported',
        data: {
          campaignId: id,
          reportId: 'q1',
          report: 0,
          reporter: reporter.address,
          periodStart: 1_000,
          periodEnd: 2_000,
          grossRevenue: '200000',
          cumulativeRevenue: '200000',
          tranches: tranchesAt200000,
          byClass: { investors: '130000', producer: '10000', accounts: '60000' },
          paid: '52000',
          blocked: '148000',
        },
      },
      ...payoutEvents(id, 'q1', payoutsAt200000(), blocked),
    ]);
    const report = readReport(w.state, id, 0)!;
    assert.deepEqual(
      [report.paid, report.blocked, report.blockedByClass, report.lines],
      [
        '52000',
        '148000',
        { investors: '78000', producer: '10000', accounts: '60000' },
        [
          line(0, 'account', distributor, '60000', true),
          line(3, 'producer', producer, '10000', true),
        ],
      ],
    );
    assert.deepEqual(campaignOf(w, id), {
      ...record,
      revenue: '200000',
      fills: ['60000', '100000', '20000', '20000'],
      reportCount: 1,
      payoutOwed: '148000',
    });
    assert.deepEqual(positionOf(w, id, ann), {
      ...ann0,
      payoutOwed: '78000',
      payoutOwedByTranche: ['0', '60000', '12000', '6000'],
    });
    assert.deepEqual(readPayout(w.state, id, 0, ann.address), payouts.get(ann)!.lines);
    assert.deepEqual(readPayout(w.state, id, 0, ben.address), payouts.get(ben)!.lines);
    assert.deepEqual(readPayoutOwed(w.state, id, distributor.address), {
      campaignId: id,
      address: distributor.address,
      amount: '60000',
    });
    assert.deepEqual(readPayoutOwed(w.state, id, producer.address), {
      campaignId: id,
      address: producer.address,
      amount: '10000',
    });
    assert.equal(readPayoutOwed(w.state, id, ben.address), undefined);
    assert.deepEqual(
      readPayees(w.state, id),
      sorted(blocked).map((k) => k.address),
    );
    assert.equal(w.balance(escrow), 148_000n);
    assert.equal(w.balance(ben), startingBalance - 40_000n + 52_000n);
    assert.equal(w.balance(ann), startingBalance - 60_000n);

    // Still frozen, a second report adds to what is owed.
    assert.equal(reportBy(w, id, 1_000, 'q2'), 'ok');
    assert.equal(w.events[0]!.data.blocked, '860');
    assert.equal(w.events[0]!.data.paid, '140');
    assert.deepEqual(readReport(w.state, id, 1)!.blockedByClass, {
      investors: '210',
      producer: '350',
      accounts: '300',
    });
    assert.equal(readPayoutOwed(w.state, id, distributor.address)!.amount, '60300');
    assert.equal(readPayoutOwed(w.state, id, producer.address)!.amount, '10350');
    assert.deepEqual(positionOf(w, id, ann), {
      ...ann0,
      payoutOwed: '78210',
      payoutOwedByTranche: ['0', '60000', '12000', '6210'],
    });
    assert.equal(campaignOf(w, id).payoutOwed, '148860');
    assert.equal(w.balance(escrow), 148_860n);
  });

  it('refuses in precedence, changing nothing', () => {
    const w = new TxWorld();
    const id = create(w, { reporters: [reporter.address, outsider.address].sort() });
    const report = (fields: Record<string, unknown> = {}) => ({ ...reportOf(id, 100), ...fields });
    refused(
      w,
      reporter,
      'campaign.reportRevenue',
      report({ campaignId: 'ffffffffffffffff' }),
      'campaign_not_found',
    );
    refused(w, producer, 'campaign.reportRevenue', report(), 'not_reporter');
    refused(w, reporter, 'campaign.reportRevenue', report(), 'campaign_not_succeeded');
    invest(w, id, ann, 60_000);
    invest(w, id, ben, 39_999);
    refused(w, reporter, 'campaign.reportRevenue', report(), 'campaign_not_succeeded');
    // Reached, not yet closed (no early close): the outcome comes at the deadline.
    invest(w, id, ben, 1);
    refused(w, producer, 'campaign.reportRevenue', report(), 'not_reporter');
    refused(w, reporter, 'campaign.reportRevenue', report(), 'campaign_not_closed');
    w.blocksTo(14);
    assert.equal(reportBy(w, id, 100, 'q1'), 'ok');
    refused(w, reporter, 'campaign.reportRevenue', report(), 'duplicate_report');
    // The reporter's own funds and freezes, as the ledger answers them.
    refused(
      w,
      outsider,
      'campaign.reportRevenue',
      report({ reportId: 'q2', grossRevenue: '1000001' }),
      'insufficient_funds',
    );
    w.freeze(reporter);
    refused(w, reporter, 'campaign.reportRevenue', report({ reportId: 'q2' }), 'account_frozen');
    w.freeze(reporter, false);
    w.freeze(campaignEscrow(id));
    refused(w, reporter, 'campaign.reportRevenue', report({ reportId: 'q2' }), 'account_frozen');
    w.freeze(campaignEscrow(id), false);
    assert.equal(reportBy(w, id, 100, 'q2'), 'ok');
  });

  it('a failed campaign takes no revenue', () => {
    const w = new TxWorld();
    const id = create(w);
    invest(w, id, ann, 1_000);
    w.blocksTo(14);
    assert.equal(campaignOf(w, id).status, 'failed');
    refused(w, reporter, 'campaign.reportRevenue', reportOf(id, 100), 'campaign_not_succeeded');
  });

  it('an early-closed campaign takes revenue at once', () => {
    const w = new TxWorld();
    const id = create(w, { earlyClose: true });
    invest(w, id, ann, 100_000);
    assert.equal(campaignOf(w, id).status, 'succeeded');
    assert.equal(reportBy(w, id, 100), 'ok');
  });

  it('periodStart before periodEnd', () => {
    const w = new TxWorld();
    const id = succeeded(w);
    const before = dump(w);
    for (const period of [
      [5, 5],
      [6, 5],
    ]) {
      assert.equal(
        w.run(reporter, 'campaign.reportRevenue', reportOf(id, 100, 'q1', period)),
        'invalid_period',
      );
      assert.equal(w.field, 'periodEnd');
    }
    assert.deepEqual(dump(w), before);
    assert.equal(w.run(reporter, 'campaign.reportRevenue', reportOf(id, 100, 'q1', [4, 5])), 'ok');
    assert.equal(w.field, undefined);
  });

  it(`at most reportsPerCampaignMax (${reportsPerCampaignMax}) reports`, () => {
    const w = new TxWorld();
    const id = succeeded(w);
    writeCampaign(w.state, { ...campaignOf(w, id), reportCount: reportsPerCampaignMax - 1 });
    w.state.release();
    assert.equal(reportBy(w, id, 100, 'last'), 'ok');
    assert.equal(w.events[0]!.data.report, reportsPerCampaignMax - 1);
    assert.equal(readReport(w.state, id, reportsPerCampaignMax - 1)!.reportId, 'last');
    assert.equal(campaignOf(w, id).reportCount, reportsPerCampaignMax);
    // A reportId already used is named as such first.
    refused(w, reporter, 'campaign.reportRevenue', reportOf(id, 100, 'last'), 'duplicate_report');
    refused(w, reporter, 'campaign.reportRevenue', reportOf(id, 100, 'more'), 'too_many_reports');
  });

  it('cumulative revenue up to amountMax', () => {
    const w = new TxWorld();
    const id = succeeded(w);
    writeCampaign(w.state, { ...campaignOf(w, id), revenue: (amountMax - 1_000n).toString() });
    w.state.release();
    refused(w, reporter, 'campaign.reportRevenue', reportOf(id, 1_001), 'revenue_too_large');
    assert.equal(reportBy(w, id, 1_000), 'ok');
    assert.equal(campaignOf(w, id).revenue, amountMax.toString());
    refused(w, reporter, 'campaign.reportRevenue', reportOf(id, 1, 'q2'), 'revenue_too_large');
  });

  it('a payout only a freeze may stop: any other failure is a bug', () => {
    const w = new TxWorld();
    const id = succeeded(w);
    const escrow = campaignEscrow(id);
    const campaign = campaignOf(w, id);
    const [first, ...rest] = campaign.distribution.tranches;
    // A record no tx can write: the escrow paying itself.
    const broken: CampaignRecord = {
      ...campaign,
      distribution: {
        tranches: [
          {
            ...first!,
            recipients: [{ kind: 'account', address: escrow, weightBasisPoints: 10_000 }],
          },
          ...rest,
        ],
      },
    };
    writeCampaign(w.state, broken);
    w.state.release();
    assert.throws(
      () => reportBy(w, id, 1_000),
      failsWith(`crowdfund ${id}: payout to ${escrow}: accounts_must_be_different`),
    );
  });
});

describe('campaign.claim', () => {
  it('nothing to claim, or no campaign', () => {
    const w = new TxWorld();
    const id = succeeded(w);
    refused(w, ann, 'campaign.claim', { campaignId: 'ffffffffffffffff' }, 'campaign_not_found');
    for (const k of [ann, producer, outsider, distributor]) {
      refused(w, k, 'campaign.claim', { campaignId: id }, 'nothing_to_claim');
    }
    // A blocked release is the producer's to claim, nobody else's.
    writeCampaign(w.state, { ...campaignOf(w, id), releaseBlocked: true });
    w.state.release();
    refused(w, ann, 'campaign.claim', { campaignId: id }, 'nothing_to_claim');
  });

  it('pays owed payouts once unfrozen: an investor, a fixed account, the producer', () => {
    const w = new TxWorld();
    const id = succeeded(w);
    const escrow = campaignEscrow(id);
    for (const k of [producer, distributor]) w.freeze(k);
    assert.equal(reportBy(w, id, 200_000), 'ok');
    w.freeze(ann);
    assert.equal(reportBy(w, id, 1_000, 'q2'), 'ok');
    assert.equal(campaignOf(w, id).payoutOwed, '70860');
    assert.equal(w.balance(escrow), 70_860n);
    const ann0 = positionOf(w, id, ann);
    assert.deepEqual(ann0.payoutOwedByTranche, ['0', '0', '0', '210']);
    assert.deepEqual(ann0.paidOutByTranche, ['0', '60000', '12000', '6000']);

    // Frozen sender or frozen escrow: refused, nothing moves.
    refused(w, ann, 'campaign.claim', { campaignId: id }, 'account_frozen');
    w.freeze(ann, false);
    w.freeze(escrow);
    refused(w, ann, 'campaign.claim', { campaignId: id }, 'account_frozen');
    w.freeze(escrow, false);

    const record = campaignOf(w, id);
    assert.equal(claim(w, ann, id), 'ok');
    assert.deepEqual(w.events, [
      {
        type: 'campaign.payoutClaimed',
        data: { campaignId: id, address: ann.address, amount: '210', investor: '210', other: '0' },
      },
    ]);
    assert.deepEqual(positionOf(w, id, ann), {
      ...ann0,
      paidOut: '78210',
      paidOutByTranche: ['0', '60000', '12000', '6210'],
      payoutOwed: '0',
      payoutOwedByTranche: [],
    });
    assert.deepEqual(campaignOf(w, id), { ...record, payoutOwed: '70650' });
    assert.equal(isPayee(w, id, ann), false);
    assert.equal(w.balance(ann), startingBalance - 60_000n + 78_210n);
    refused(w, ann, 'campaign.claim', { campaignId: id }, 'nothing_to_claim');

    // A fixed account: no position, a payoutOwed record.
    refused(w, distributor, 'campaign.claim', { campaignId: id }, 'account_frozen');
    w.freeze(distributor, false);
    assert.equal(claim(w, distributor, id), 'ok');
    assert.deepEqual(w.events, [
      {
        type: 'campaign.payoutClaimed',
        data: {
          campaignId: id,
          address: distributor.address,
          amount: '60300',
          investor: '0',
          other: '60300',
        },
      },
    ]);
    assert.equal(readPayoutOwed(w.state, id, distributor.address), undefined);
    assert.equal(readPosition(w.state, id, distributor.address), undefined);
    assert.equal(isPayee(w, id, distributor), false);
    assert.equal(campaignOf(w, id).payoutOwed, '10350');
    assert.equal(w.balance(distributor), 60_300n);

    w.freeze(producer, false);
    assert.equal(claim(w, producer, id), 'ok');
    assert.deepEqual(w.events, [
      {
        type: 'campaign.payoutClaimed',
        data: {
          campaignId: id,
          address: producer.address,
          amount: '10350',
          investor: '0',
          other: '10350',
        },
      },
    ]);
    assert.deepEqual(campaignOf(w, id), { ...record, payoutOwed: '0' });
    assert.deepEqual(readPayees(w.state, id), []);
    assert.equal(w.balance(escrow), 0n);
    assert.equal(w.balance(producer), startingBalance + 95_000n + 10_350n);
  });

  it('an investor who is also owed a fixed-account payout claims both at once', () => {
    const w = new TxWorld();
    const rule = {
      tranches: [
        {
          name: 'to ann',
          shareBasisPoints: 1_000,
          recipients: [{ kind: 'account', address: ann.address, weightBasisPoints: 10_000 }],
        },
        {
          name: 'rest',
          shareBasisPoints: 10_000,
          recipients: [{ kind: 'investors', weightBasisPoints: 10_000 }],
        },
      ],
    };
    const id = succeeded(w, { distribution: rule });
    w.freeze(ann);
    assert.equal(reportBy(w, id, 10_000), 'ok');
    // 1000 to ann's account line; 9000 to investors, 5400 of it to ann.
    assert.equal(readPayoutOwed(w.state, id, ann.address)!.amount, '1000');
    assert.equal(positionOf(w, id, ann).payoutOwed, '5400');
    assert.equal(campaignOf(w, id).payoutOwed, '6400');
    w.freeze(ann, false);
    const ann0 = positionOf(w, id, ann);
    assert.equal(claim(w, ann, id), 'ok');
    assert.deepEqual(w.events, [
      {
        type: 'campaign.payoutClaimed',
        data: {
          campaignId: id,
          address: ann.address,
          amount: '6400',
          investor: '5400',
          other: '1000',
        },
      },
    ]);
    assert.deepEqual(positionOf(w, id, ann), {
      ...ann0,
      paidOut: '5400',
      paidOutByTranche: ['0', '5400'],
      payoutOwed: '0',
      payoutOwedByTranche: [],
    });
    assert.equal(readPayoutOwed(w.state, id, ann.address), undefined);
    assert.equal(campaignOf(w, id).payoutOwed, '0');
    assert.equal(w.balance(ann), startingBalance - 60_000n + 6_400n);
  });

  it('a refund and a payout owed to one investor, paid by one claim', () => {
    const w = new TxWorld();
    const id = create(w);
    invest(w, id, ann, 60_000);
    invest(w, id, ben, 40_000);
    const amend = { campaignId: id, terms: { title: 'Amended' }, reconfirmBy: { height: 5 } };
    assert.equal(w.run(producer, 'campaign.amend', amend), 'ok');
    assert.equal(w.run(ann, 'campaign.reconfirm', { campaignId: id }), 'ok');
    w.freeze(ben);
    w.blocksTo(5);
    assert.equal(positionOf(w, id, ben).owed, '40000');
    w.freeze(ben, false);
    invest(w, id, ben, 40_000);
    w.blocksTo(14);
    assert.equal(campaignOf(w, id).status, 'succeeded');
    w.freeze(ben);
    assert.equal(reportBy(w, id, 200_000), 'ok');
    w.freeze(ben, false);
    const ben0 = positionOf(w, id, ben);
    const record = campaignOf(w, id);
    assert.deepEqual([record.owed, record.payoutOwed], ['40000', '52000']);
    assert.equal(claim(w, ben, id), 'ok');
    assert.deepEqual(w.events, [
      {
        type: 'campaign.refunded',
        data: { campaignId: id, investor: ben.address, amount: '40000', reason: 'claimed' },
      },
      {
        type: 'campaign.payoutClaimed',
        data: {
          campaignId: id,
          address: ben.address,
          amount: '52000',
          investor: '52000',
          other: '0',
        },
      },
    ]);
    assert.deepEqual(positionOf(w, id, ben), {
      ...ben0,
      owed: '0',
      refunded: '40000',
      paidOut: '52000',
      paidOutByTranche: ['0', '40000', '8000', '4000'],
      payoutOwed: '0',
      payoutOwedByTranche: [],
    });
    assert.deepEqual(campaignOf(w, id), { ...record, owed: '0', payoutOwed: '0' });
    // The first 40000 came back; the second is in the principal released.
    assert.equal(w.balance(ben), startingBalance - 40_000n + 52_000n);
    assert.equal(w.balance(campaignEscrow(id)), 0n);
  });

  it('a refund owed alone', () => {
    const w = new TxWorld();
    const id = create(w);
    invest(w, id, ann, 30_000);
    w.freeze(ann);
    w.blocksTo(14);
    const ann0 = positionOf(w, id, ann);
    const record = campaignOf(w, id);
    assert.equal(record.owed, '30000');
    refused(w, ann, 'campaign.claim', { campaignId: id }, 'account_frozen');
    w.freeze(ann, false);
    assert.equal(claim(w, ann, id), 'ok');
    assert.deepEqual(w.events, [
      {
        type: 'campaign.refunded',
        data: { campaignId: id, investor: ann.address, amount: '30000', reason: 'claimed' },
      },
    ]);
    assert.deepEqual(positionOf(w, id, ann), { ...ann0, owed: '0', refunded: '30000' });
    assert.deepEqual(campaignOf(w, id), { ...record, owed: '0' });
    assert.equal(w.balance(ann), startingBalance);
    refused(w, ann, 'campaign.claim', { campaignId: id }, 'nothing_to_claim');
  });

  it('a blocked release: the producer retries; what can move moves, the rest waits', () => {
    const w = new TxWorld();
    const id = create(w);
    const escrow = campaignEscrow(id);
    invest(w, id, ann, 60_000);
    invest(w, id, ben, 40_000);
    w.freeze(feeAccount);
    w.blocksTo(14);
    assert.equal(campaignOf(w, id).releaseBlocked, true);
    refused(w, producer, 'campaign.claim', { campaignId: id }, 'account_frozen');
    w.freeze(producer);
    assert.equal(reportBy(w, id, 200_000), 'ok');
    w.freeze(producer, false);
    // The producer's payout can move; the release still waits on the fee account.
    const record = campaignOf(w, id);
    assert.equal(claim(w, producer, id), 'ok');
    assert.deepEqual(w.events, [
      {
        type: 'campaign.payoutClaimed',
        data: {
          campaignId: id,
          address: producer.address,
          amount: '10000',
          investor: '0',
          other: '10000',
        },
      },
    ]);
    assert.deepEqual(campaignOf(w, id), { ...record, payoutOwed: '0' });
    assert.equal(w.balance(escrow), 100_000n);
    refused(w, producer, 'campaign.claim', { campaignId: id }, 'account_frozen');
    w.freeze(feeAccount, false);
    assert.equal(claim(w, producer, id), 'ok');
    assert.deepEqual(w.events, [
      {
        type: 'campaign.released',
        data: { campaignId: id, producer: producer.address, released: '95000', fee: '5000' },
      },
    ]);
    assert.deepEqual(campaignOf(w, id), { ...record, payoutOwed: '0', releaseBlocked: false });
    assert.equal(w.balance(escrow), 0n);
    assert.equal(w.balance(producer), startingBalance + 10_000n + 95_000n);
    assert.equal(w.balance(feeAccount), 5_000n);
    refused(w, producer, 'campaign.claim', { campaignId: id }, 'nothing_to_claim');
  });

  it('a release and a payout in one claim', () => {
    const w = new TxWorld();
    const id = create(w);
    invest(w, id, ann, 100_000);
    w.freeze(producer);
    w.blocksTo(14);
    assert.equal(reportBy(w, id, 200_000), 'ok');
    w.freeze(producer, false);
    const record = campaignOf(w, id);
    assert.equal(claim(w, producer, id), 'ok');
    assert.deepEqual(w.events, [
      {
        type: 'campaign.payoutClaimed',
        data: {
          campaignId: id,
          address: producer.address,
          amount: '10000',
          investor: '0',
          other: '10000',
        },
      },
      {
        type: 'campaign.released',
        data: { campaignId: id, producer: producer.address, released: '95000', fee: '5000' },
      },
    ]);
    assert.deepEqual(campaignOf(w, id), { ...record, payoutOwed: '0', releaseBlocked: false });
    assert.equal(w.balance(campaignEscrow(id)), 0n);
  });

  it('claims assert the escrow holds what it owes', () => {
    const w = new TxWorld();
    const id = succeeded(w);
    // Records no tx can write: owed amounts the escrow does not hold.
    writePosition(w.state, { ...positionOf(w, id, ann), owed: '5' });
    writePayoutOwed(w.state, { campaignId: id, address: cat.address, amount: '7' });
    w.state.release();
    assert.throws(
      () => claim(w, ann, id),
      failsWith(`crowdfund ${id}: refund claim: insufficient_funds`),
    );
    assert.throws(
      () => claim(w, cat, id),
      failsWith(`crowdfund ${id}: payout claim: insufficient_funds`),
    );
  });
});
