import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { campaignEscrow } from './schema.js';
import {
  investorsPerCampaignMax,
  readCampaignCount,
  readCampaignIdByNumber,
  readInvestors,
  readPending,
  writeCampaign,
} from './state.js';
import {
  ann,
  ben,
  cat,
  create,
  feeAccount,
  invest,
  key,
  outsider,
  producer,
  reporter,
  startTime,
  startingBalance,
  terms,
  TxWorld,
  type TestKey,
  amendTx,
  campaignOf,
  cancelTx,
  defaultTerms,
  dueAt,
  positionOf,
  refused,
  stateOf,
  succeeded,
  types,
  unknownId,
} from './txs-fixture.js';

/*
 * txs.ts, each handler run directly on one state view: campaign.create, campaign.invest and
 * campaign.cancelInvestment (amendments and reconfirmations: txs-amend.test.ts). Records and events
 * are read whole; each rejection is checked at its boundary and one past it, and leaves the state
 * as it was. The default campaign (txs-fixture.ts `terms`, created at height 1): target 100,000,
 * investments 1,000 to 100,000, open from height 1, deadline at height 14, cancellable until
 * height 11.
 */

const investTx = (w: TxWorld, id: string, who: TestKey, amount: number) =>
  w.run(who, 'campaign.invest', { campaignId: id, amount: String(amount) });
describe('campaign.create', () => {
  it('records the terms, the producer, the escrow and an empty funding state; emits them', () => {
    const w = new TxWorld();
    w.blocksTo(4);
    w.time = startTime + 4_321;
    const id = w.nextCampaignId();
    const reporters = [reporter.address, outsider.address];
    // No platformFee: no fee (null).
    const { platformFee: _fee, ...payload } = terms(w, { reporters });
    assert.equal(w.run(producer, 'campaign.create', payload), 'ok');
    const escrow = campaignEscrow(id);
    const kept = {
      ...defaultTerms(17),
      platformFee: null,
      reporters: [...reporters].sort(),
    };
    assert.deepEqual(campaignOf(w, id), {
      id,
      producer: producer.address,
      asset: 'USD',
      escrow,
      ...kept,
      createdAtHeight: 4,
      createdAt: startTime + 4_321,
      status: 'funding',
      raised: '0',
      owed: '0',
      payoutOwed: '0',
      investorCount: 0,
      termsVersion: 0,
      reconfirmation: null,
      principal: null,
      fee: null,
      releaseBlocked: false,
      closedAtHeight: null,
      revenue: '0',
      fills: [],
      reportCount: 0,
    });
    assert.deepEqual(w.events, [
      {
        type: 'campaign.created',
        data: { campaignId: id, producer: producer.address, asset: 'USD', escrow, ...kept },
      },
    ]);
    assert.deepEqual(readInvestors(w.state, id), []);
  });

  it('numbers campaigns in creation order', () => {
    const w = new TxWorld();
    assert.equal(readCampaignCount(w.state), 0);
    const first = create(w);
    const second = create(w);
    assert.notEqual(first, second);
    assert.equal(readCampaignCount(w.state), 2);
    assert.equal(readCampaignIdByNumber(w.state, 0), first);
    assert.equal(readCampaignIdByNumber(w.state, 1), second);
  });

  it('indexes the deadline: the outcome falls due exactly at the deadline block', () => {
    const w = new TxWorld();
    const id = create(w);
    assert.ok(dueAt(w, id, 14, 'deadline'));
    assert.deepEqual(w.blocksTo(13), []);
    assert.equal(campaignOf(w, id).status, 'funding');
    assert.deepEqual(w.block(), [
      {
        type: 'campaign.failed',
        data: { campaignId: id, raised: '0', target: '100000', investors: 0 },
      },
    ]);
    assert.equal(campaignOf(w, id).status, 'failed');
    assert.equal(campaignOf(w, id).closedAtHeight, 14);
  });

  it('refuses a minimum above the maximum in the payload check, naming minInvestment', () => {
    const w = new TxWorld();
    const before = stateOf(w);
    const limits = (minInvestment: string, maxInvestment: string) =>
      w.run(producer, 'campaign.create', terms(w, { minInvestment, maxInvestment }));
    assert.equal(limits('1001', '1000'), 'invalid_investment_limits');
    assert.equal(w.field, 'minInvestment');
    assert.deepEqual(stateOf(w), before);
    assert.equal(limits('1000', '1000'), 'ok', 'a minimum equal to the maximum');
    assert.equal(w.field, undefined);
  });

  it('refuses in precedence: campaign_exists, asset_not_found, then the terms checks', () => {
    const w = new TxWorld();
    const hash = w.nextHash();
    const id = w.nextCampaignId();
    assert.equal(w.run(producer, 'campaign.create', terms(w), hash), 'ok');
    const record = campaignOf(w, id);
    const before = stateOf(w);
    const again = (overrides: Record<string, unknown>, txHash?: string) =>
      w.run(ann, 'campaign.create', terms(w, overrides), txHash);
    assert.equal(again({ asset: 'EUR', title: 'Other' }, hash), 'campaign_exists');
    assert.equal(again({ title: 'Other' }, hash), 'campaign_exists');
    assert.deepEqual(campaignOf(w, id), record, 'the first campaign stays');
    assert.equal(again({ asset: 'EUR', deadline: { height: 1 } }), 'asset_not_found');
    assert.equal(again({ deadline: { height: 1 } }), 'invalid_schedule', 'the deadline reached');
    const escrowOfNext = campaignEscrow(w.nextCampaignId());
    assert.equal(
      again({ platformFee: { basisPoints: 100, to: escrowOfNext } }),
      'invalid_recipient',
    );
    assert.deepEqual(stateOf(w), before);
    assert.deepEqual(w.events, []);
    assert.equal(readCampaignCount(w.state), 1);
  });
});

describe('campaign.invest', () => {
  it('moves the amount to escrow and records the position, the count and the total', () => {
    const w = new TxWorld();
    const id = create(w);
    const escrow = campaignEscrow(id);
    assert.equal(investTx(w, id, ann, 1000), 'ok');
    assert.deepEqual(w.events, [
      {
        type: 'campaign.invested',
        data: {
          campaignId: id,
          investor: ann.address,
          amount: '1000',
          total: '1000',
          raised: '1000',
        },
      },
    ]);
    assert.deepEqual(positionOf(w, id, ann), {
      campaignId: id,
      investor: ann.address,
      principal: '1000',
      invested: '1000',
      refunded: '0',
      termsVersion: 0,
      owed: '0',
      paidOut: '0',
      paidOutByTranche: [],
      payoutOwed: '0',
      payoutOwedByTranche: [],
    });
    assert.equal(campaignOf(w, id).raised, '1000');
    assert.equal(campaignOf(w, id).investorCount, 1);

    assert.equal(investTx(w, id, ann, 2500), 'ok', 'a second investment adds to the first');
    assert.deepEqual(w.events[0]!.data, {
      campaignId: id,
      investor: ann.address,
      amount: '2500',
      total: '3500',
      raised: '3500',
    });
    assert.equal(positionOf(w, id, ann).principal, '3500');
    assert.equal(positionOf(w, id, ann).invested, '3500');
    assert.equal(campaignOf(w, id).investorCount, 1, 'the same investor counts once');

    assert.equal(investTx(w, id, ben, 1200), 'ok');
    assert.deepEqual(w.events[0]!.data, {
      campaignId: id,
      investor: ben.address,
      amount: '1200',
      total: '1200',
      raised: '4700',
    });
    const campaign = campaignOf(w, id);
    assert.equal(campaign.raised, '4700');
    assert.equal(campaign.investorCount, 2);
    assert.equal(campaign.status, 'funding');
    assert.deepEqual(readInvestors(w.state, id), [ann.address, ben.address].sort());
    assert.equal(w.balance(ann), startingBalance - 3500n);
    assert.equal(w.balance(ben), startingBalance - 1200n);
    assert.equal(w.balance(escrow), 4700n);
  });

  it('keeps each total within [min, max]: at each bound, not one past it', () => {
    const w = new TxWorld();
    const id = create(w, { minInvestment: '1000', maxInvestment: '5000' });
    const call = 'campaign.invest';
    refused(w, ann, call, { campaignId: id, amount: '999' }, 'investment_below_minimum');
    assert.equal(investTx(w, id, ann, 1000), 'ok', 'exactly the minimum');
    assert.equal(investTx(w, id, ann, 1), 'ok', 'the total, not the amount, meets the minimum');
    refused(w, ben, call, { campaignId: id, amount: '5001' }, 'investment_above_maximum');
    assert.equal(investTx(w, id, ben, 5000), 'ok', 'exactly the maximum');
    refused(w, ben, call, { campaignId: id, amount: '1' }, 'investment_above_maximum');
    refused(w, ann, call, { campaignId: id, amount: '4000' }, 'investment_above_maximum');
    assert.equal(investTx(w, id, ann, 3999), 'ok', 'the total reaches the maximum');
    assert.equal(positionOf(w, id, ann).principal, '5000');
  });

  it('takes investments from opensAt until the block before the deadline', () => {
    const w = new TxWorld();
    const id = create(w, { opensAt: { height: 5 } });
    w.blocksTo(4);
    const payload = { campaignId: id, amount: '1000' };
    refused(w, ann, 'campaign.invest', payload, 'campaign_not_open');
    w.block();
    assert.equal(investTx(w, id, ann, 1000), 'ok', 'at opensAt');
    w.blocksTo(13);
    assert.equal(investTx(w, id, ben, 1000), 'ok', 'the block before the deadline');
    w.height = 14; // the handler alone, before the block settles the outcome
    refused(w, cat, 'campaign.invest', payload, 'deadline_passed');
  });

  it('takes investments on the time clock the same way', () => {
    const w = new TxWorld();
    const opens = startTime + 5_000;
    const deadline = startTime + 60_000;
    const id = create(w, {
      opensAt: { time: opens },
      deadline: { time: deadline },
      cancelWindow: 0,
    });
    const payload = { campaignId: id, amount: '1000' };
    w.time = opens - 1;
    refused(w, ann, 'campaign.invest', payload, 'campaign_not_open');
    w.time = opens;
    assert.equal(investTx(w, id, ann, 1000), 'ok');
    w.time = deadline - 1;
    assert.equal(investTx(w, id, ben, 1000), 'ok');
    w.time = deadline;
    refused(w, cat, 'campaign.invest', payload, 'deadline_passed');
  });

  it('refuses in precedence: not found, not funding, not open, deadline passed', () => {
    const w = new TxWorld();
    refused(
      w,
      ann,
      'campaign.invest',
      { campaignId: unknownId, amount: '1000' },
      'campaign_not_found',
    );
    const closed = succeeded(w);
    // Below the minimum too: the campaign's state comes first.
    refused(w, ben, 'campaign.invest', { campaignId: closed, amount: '1' }, 'campaign_not_funding');
    const later = create(w, { opensAt: { height: 5 }, deadline: { height: 6 }, cancelWindow: 0 });
    refused(w, ben, 'campaign.invest', { campaignId: later, amount: '1' }, 'campaign_not_open');
    w.height = 6;
    refused(w, ben, 'campaign.invest', { campaignId: later, amount: '1' }, 'deadline_passed');
  });

  it(`admits at most ${investorsPerCampaignMax} investors; those in may add to their total`, () => {
    const w = new TxWorld();
    const id = create(w);
    invest(w, id, ann, 1000);
    writeCampaign(w.state, { ...campaignOf(w, id), investorCount: investorsPerCampaignMax - 1 });
    assert.equal(investTx(w, id, ben, 1000), 'ok', 'the last place');
    assert.equal(campaignOf(w, id).investorCount, investorsPerCampaignMax);
    const payload = { campaignId: id, amount: '1000' };
    refused(w, cat, 'campaign.invest', payload, 'too_many_investors');
    assert.equal(investTx(w, id, ann, 1000), 'ok', 'an investor already in adds to its total');
    assert.equal(campaignOf(w, id).investorCount, investorsPerCampaignMax);
    assert.equal(campaignOf(w, id).raised, '3000');
  });

  it("passes on the ledger's refusal: insufficient funds, a frozen investor", () => {
    const w = new TxWorld();
    const id = create(w);
    const poor = key(20);
    w.mint(poor, 999n);
    refused(w, poor, 'campaign.invest', { campaignId: id, amount: '1000' }, 'insufficient_funds');
    w.freeze(ann);
    refused(w, ann, 'campaign.invest', { campaignId: id, amount: '1000' }, 'account_frozen');
  });

  it('an investor who cancelled is a new investor again when it invests', () => {
    const w = new TxWorld();
    const id = create(w);
    invest(w, id, ann, 2000);
    assert.equal(cancelTx(w, id, ann), 'ok');
    assert.equal(campaignOf(w, id).investorCount, 0);
    assert.deepEqual(readInvestors(w.state, id), []);
    assert.equal(investTx(w, id, ann, 1500), 'ok');
    assert.equal(w.events[0]!.data.total, '1500');
    assert.equal(campaignOf(w, id).investorCount, 1);
    assert.deepEqual(readInvestors(w.state, id), [ann.address]);
    const position = positionOf(w, id, ann);
    assert.deepEqual(
      [position.principal, position.invested, position.refunded],
      ['1500', '3500', '2000'],
    );
  });

  it('closes early exactly when the target is reached, if the terms allow it', () => {
    const w = new TxWorld();
    const id = create(w, { target: '5000', earlyClose: true });
    invest(w, id, ann, 3000);
    invest(w, id, ben, 1999);
    assert.equal(campaignOf(w, id).status, 'funding', 'one below the target');
    assert.equal(investTx(w, id, ann, 1), 'ok');
    assert.deepEqual(types(w), ['campaign.invested', 'campaign.succeeded']);
    assert.deepEqual(w.events[1]!.data, {
      campaignId: id,
      principal: '5000',
      fee: '250',
      released: '4750',
      releaseBlocked: false,
      early: true,
    });
    const campaign = campaignOf(w, id);
    assert.equal(campaign.status, 'succeeded');
    assert.equal(campaign.principal, '5000');
    assert.equal(w.balance(producer), startingBalance + 4750n);
    assert.equal(w.balance(feeAccount), 250n);

    const held = create(w, { target: '5000', earlyClose: false });
    assert.equal(investTx(w, held, ann, 6000), 'ok');
    assert.deepEqual(types(w), ['campaign.invested']);
    assert.equal(campaignOf(w, held).status, 'funding', 'earlyClose false waits for the deadline');
  });

  it('investing accepts the current terms: it reconfirms an open amendment', () => {
    const w = new TxWorld();
    const id = create(w);
    invest(w, id, ann, 2000);
    invest(w, id, ben, 2000);
    assert.equal(amendTx(w, id, { title: 'Renamed' }, { height: 10 }), 'ok');
    assert.equal(investTx(w, id, ann, 500), 'ok');
    assert.deepEqual(w.events, [
      {
        type: 'campaign.invested',
        data: {
          campaignId: id,
          investor: ann.address,
          amount: '500',
          total: '2500',
          raised: '4500',
        },
      },
      {
        type: 'campaign.reconfirmed',
        data: { campaignId: id, investor: ann.address, termsVersion: 1 },
      },
    ]);
    assert.equal(positionOf(w, id, ann).termsVersion, 1);
    assert.deepEqual(campaignOf(w, id).reconfirmation, {
      version: 1,
      by: { height: 10 },
      pending: 1,
    });
    assert.deepEqual(readPending(w.state, id), [ben.address]);

    assert.equal(investTx(w, id, cat, 1000), 'ok', 'a new investor accepts the terms it sees');
    assert.deepEqual(types(w), ['campaign.invested']);
    assert.equal(positionOf(w, id, cat).termsVersion, 1);
    assert.equal(campaignOf(w, id).reconfirmation!.pending, 1);

    assert.equal(investTx(w, id, ben, 1000), 'ok');
    assert.deepEqual(types(w), ['campaign.invested', 'campaign.reconfirmed']);
    assert.equal(campaignOf(w, id).reconfirmation, null, 'the last pending investor closes it');
    assert.deepEqual(w.blocksTo(10), [], 'nothing is refunded at the closed round');
  });
});

describe('campaign.cancelInvestment', () => {
  it('refunds the whole total, drops the investor and emits the refund and the cancellation', () => {
    const w = new TxWorld();
    const id = create(w);
    const escrow = campaignEscrow(id);
    invest(w, id, ann, 2000);
    invest(w, id, ann, 1000);
    invest(w, id, ben, 1500);
    assert.equal(cancelTx(w, id, ann), 'ok');
    assert.deepEqual(w.events, [
      {
        type: 'campaign.refunded',
        data: { campaignId: id, investor: ann.address, amount: '3000', reason: 'cancelled' },
      },
      {
        type: 'campaign.investmentCancelled',
        data: { campaignId: id, investor: ann.address, amount: '3000', raised: '1500' },
      },
    ]);
    const position = positionOf(w, id, ann);
    assert.deepEqual(
      [position.principal, position.invested, position.refunded, position.owed],
      ['0', '3000', '3000', '0'],
    );
    const campaign = campaignOf(w, id);
    assert.equal(campaign.raised, '1500');
    assert.equal(campaign.investorCount, 1);
    assert.deepEqual(readInvestors(w.state, id), [ben.address]);
    assert.equal(w.balance(ann), startingBalance);
    assert.equal(w.balance(escrow), 1500n);
  });

  it('is open until the cancel window before the deadline: refused from deadline - window', () => {
    const w = new TxWorld();
    const id = create(w); // deadline 14, cancelWindow 3: closes at height 11
    invest(w, id, ann, 1000);
    invest(w, id, ben, 1000);
    w.blocksTo(10);
    assert.equal(cancelTx(w, id, ann), 'ok', 'the block before the window');
    w.block();
    refused(w, ben, 'campaign.cancelInvestment', { campaignId: id }, 'cancel_window_closed');

    const open = create(w, { cancelWindow: 0, deadline: { height: 25 } });
    invest(w, open, ann, 1000);
    w.height = 24;
    assert.equal(cancelTx(w, open, ann), 'ok', 'no window: until the block before the deadline');
  });

  it('refuses in precedence: not found, no position, not funding, window, frozen', () => {
    const w = new TxWorld();
    const cancel = (id: string) => ({ campaignId: id });
    refused(w, ann, 'campaign.cancelInvestment', cancel(unknownId), 'campaign_not_found');
    const closed = succeeded(w);
    refused(w, ben, 'campaign.cancelInvestment', cancel(closed), 'position_not_found');
    refused(w, ann, 'campaign.cancelInvestment', cancel(closed), 'campaign_not_funding');

    const id = create(w);
    invest(w, id, ben, 1000);
    invest(w, id, cat, 1000);
    assert.equal(cancelTx(w, id, ben), 'ok');
    refused(w, ben, 'campaign.cancelInvestment', cancel(id), 'position_not_found', 'cancelled');
    w.freeze(cat);
    refused(w, cat, 'campaign.cancelInvestment', cancel(id), 'account_frozen');
    w.height = 11;
    refused(w, cat, 'campaign.cancelInvestment', cancel(id), 'cancel_window_closed');
  });

  it('a pending investor who cancels leaves the round; the last one closes it', () => {
    const w = new TxWorld();
    const id = create(w);
    invest(w, id, ann, 1000);
    invest(w, id, ben, 1000);
    assert.equal(amendTx(w, id, { title: 'Renamed' }, { height: 8 }), 'ok');
    assert.equal(cancelTx(w, id, ann), 'ok');
    assert.equal(campaignOf(w, id).reconfirmation!.pending, 1);
    assert.deepEqual(readPending(w.state, id), [ben.address]);
    assert.equal(cancelTx(w, id, ben), 'ok');
    assert.equal(campaignOf(w, id).reconfirmation, null);
    assert.equal(campaignOf(w, id).raised, '0');
  });
});
