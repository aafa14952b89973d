import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { TxContext } from '../../chain/index.js';
import { campaignEscrow } from './schema.js';
import {
  before,
  big,
  checkTerms,
  closeEarlyIfReached,
  dropInvestor,
  emptyPosition,
  investmentsOf,
  plus,
  producedCampaign,
  reconfirmed,
  refund,
  release,
  settleDueCampaigns,
  type Context,
} from './settlement.js';
import {
  crowdfundKeys,
  dueEntriesPerBlockMax,
  indexDue,
  readCampaign,
  readInvestors,
  readPending,
  readPosition,
  refundsPerBlockMax,
  scheduleHeightsMax,
  scheduleMsMax,
  writeCampaign,
  type CampaignRecord,
  type CampaignTerms,
  type DueKind,
  type PositionRecord,
  type SchedulePoint,
} from './state.js';
import {
  ann,
  ben,
  blockMs,
  cat,
  create,
  dan,
  feeAccount,
  invest,
  issueExample,
  key,
  producer,
  reporter,
  startingBalance,
  startTime,
  TxWorld,
  type TestKey,
  type TxEvent,
} from './txs-fixture.js';

/*
 * settlement.ts: the checks of a set of terms, the release at success (both payments or
 * neither), refunds, reconfirmation rounds and what `beginBlock` settles within its budgets of
 * refunds and due entries. Outcomes run through the tx handlers and `settleDueCampaigns` as the
 * chain runs them; the guards no tx can reach are called directly. Records and events are read
 * whole.
 */

/** The whole state (the world's base is empty, so its writes are all of it). */
const dump = (w: TxWorld) => [...w.state.writes()];

/** A block context over the world's state and ledger, its events collected. */
function contextOf(w: TxWorld): Context & { events: TxEvent[] } {
  const events: TxEvent[] = [];
  return {
    height: w.height,
    time: w.time,
    state: w.state,
    ledger: w.ledger,
    emit: (type, data) => events.push({ type, data }),
    events,
  };
}

/** An assertion's error, whose message starts with its own text (a diff follows). */
const failsWith = (message: string) => (error: unknown) =>
  error instanceof Error && error.message.startsWith(message);

const at = (height: number, time = startTime) => ({ height, time }) as Context;

const campaignOf = (w: TxWorld, id: string) => readCampaign(w.state, id)!;
const positionOf = (w: TxWorld, id: string, who: TestKey) =>
  readPosition(w.state, id, who.address)!;
const dueKey = (id: string, kind: DueKind, point: SchedulePoint) =>
  'height' in point
    ? crowdfundKeys.due('height', { value: point.height, id, kind })
    : crowdfundKeys.due('time', { value: point.time, id, kind });
const isDue = (w: TxWorld, id: string, kind: DueKind, point: SchedulePoint) =>
  w.state.get(dueKey(id, kind, point)) !== undefined;
const byAddress = (keys: TestKey[]) => [...keys].sort((a, b) => (a.address < b.address ? -1 : 1));

/** `n` accounts (seeds from 1000) with `amount` each: more investors than a block refunds. */
function crowd(w: TxWorld, n: number, amount: bigint): TestKey[] {
  const keys = crowdKeys.slice(0, n);
  for (const k of keys) w.mint(k, amount);
  return keys;
}
const crowdKeys = Array.from({ length: refundsPerBlockMax + 12 }, (_, i) => key(1000 + i));

const refunded = (id: string, who: TestKey, amount: string, reason: string) => ({
  type: 'campaign.refunded',
  data: { campaignId: id, investor: who.address, amount, reason },
});
const refundBlocked = (id: string, who: TestKey, amount: string, reason: string) => ({
  type: 'campaign.refundBlocked',
  data: { campaignId: id, investor: who.address, amount, reason, code: 'account_frozen' },
});
const failed = (id: string, raised: string, target: string, investors: number) => ({
  type: 'campaign.failed',
  data: { campaignId: id, raised, target, investors },
});
const succeeded = (
  id: string,
  principal: string,
  fee: string,
  released: string,
  early: boolean,
  releaseBlocked = false,
) => ({
  type: 'campaign.succeeded',
  data: { campaignId: id, principal, fee, released, releaseBlocked, early },
});

function baseTerms(overrides: Partial<CampaignTerms> = {}): CampaignTerms {
  return {
    title: 'The Long Take',
    target: '100000',
    minInvestment: '1000',
    maxInvestment: '100000',
    opensAt: { height: 1 },
    deadline: { height: 20 },
    cancelWindow: 3,
    earlyClose: false,
    platformFee: { basisPoints: 500, to: feeAccount.address },
    reporters: [reporter.address],
    distribution: issueExample,
    ...overrides,
  };
}

describe('small helpers', () => {
  it('before: the point some units earlier, on its own clock', () => {
    assert.deepEqual(before({ height: 20 }, 3), { height: 17 });
    assert.deepEqual(before({ time: startTime }, 3), { time: startTime - 3 });
    assert.deepEqual(before({ height: 20 }, 0), { height: 20 });
  });

  it('big and plus read and add decimal strings', () => {
    assert.equal(big('170141183460469231731687303715884105727'), 2n ** 127n - 1n);
    assert.equal(plus('100', 5n), '105');
    assert.equal(plus('100', -100n), '0');
  });

  it('emptyPosition: a position with nothing in it', () => {
    assert.deepEqual(emptyPosition('00000000000000aa', ann.address), {
      campaignId: '00000000000000aa',
      investor: ann.address,
      principal: '0',
      invested: '0',
      refunded: '0',
      termsVersion: 0,
      owed: '0',
      paidOut: '0',
      paidOutByTranche: [],
      payoutOwed: '0',
      payoutOwedByTranche: [],
    });
  });

  it('producedCampaign: not found, not the producer, or the record', () => {
    const w = new TxWorld();
    const id = create(w);
    const as = (sender: TestKey) => ({ state: w.state, sender: sender.address }) as TxContext;
    assert.equal(producedCampaign(as(producer), 'ffffffffffffffff'), 'campaign_not_found');
    assert.equal(producedCampaign(as(ann), id), 'not_producer');
    assert.deepEqual(producedCampaign(as(producer), id), campaignOf(w, id));
  });

  it('investmentsOf: active investors sorted by address, with their principal', () => {
    const w = new TxWorld();
    const id = create(w);
    assert.deepEqual(investmentsOf(w.state, id), []);
    invest(w, id, cat, 3000);
    invest(w, id, ann, 1000);
    invest(w, id, ben, 2000);
    invest(w, id, ann, 4000);
    const amounts = new Map([
      [ann.address, 5000n],
      [ben.address, 2000n],
      [cat.address, 3000n],
    ]);
    assert.deepEqual(
      investmentsOf(w.state, id),
      byAddress([ann, ben, cat]).map((k) => ({
        investor: k.address,
        principal: amounts.get(k.address),
      })),
    );
    assert.equal(w.run(ben, 'campaign.cancelInvestment', { campaignId: id }), 'ok');
    assert.deepEqual(
      investmentsOf(w.state, id).map((i) => i.investor),
      byAddress([ann, cat]).map((k) => k.address),
    );
  });
});

describe('checkTerms', () => {
  const escrow = campaignEscrow('00000000000000aa');
  const check = (overrides: Partial<CampaignTerms>, now = at(10)) =>
    checkTerms(now, baseTerms(overrides), escrow);

  it('accepts valid terms on either clock', () => {
    assert.equal(check({}), undefined);
    assert.equal(
      check({
        opensAt: { time: startTime - 1 },
        deadline: { time: startTime + 1 },
        cancelWindow: 2,
      }),
      undefined,
    );
    assert.equal(check({ platformFee: null }), undefined);
  });

  it('investment limits: minimum above maximum, compared as amounts', () => {
    assert.equal(
      check({ minInvestment: '1001', maxInvestment: '1000' }),
      'invalid_investment_limits',
    );
    assert.equal(check({ minInvestment: '1000', maxInvestment: '1000' }), undefined);
    assert.equal(check({ minInvestment: '900', maxInvestment: '1000' }), undefined);
    // Before the schedule.
    assert.equal(
      check({ minInvestment: '2', maxInvestment: '1', deadline: { height: 1 } }),
      'invalid_investment_limits',
    );
  });

  it('schedule: one clock for opensAt and the deadline', () => {
    assert.equal(check({ opensAt: { time: startTime - 5 } }), 'invalid_schedule');
    assert.equal(check({ deadline: { time: startTime + 100 } }), 'invalid_schedule');
  });

  it('schedule: opensAt before the deadline (equal refused)', () => {
    assert.equal(check({ opensAt: { height: 20 }, cancelWindow: 0 }), 'invalid_schedule');
    assert.equal(check({ opensAt: { height: 21 }, cancelWindow: 0 }), 'invalid_schedule');
    assert.equal(check({ opensAt: { height: 19 }, cancelWindow: 1 }), undefined);
    assert.equal(
      check({
        opensAt: { time: startTime + 9 },
        deadline: { time: startTime + 9 },
        cancelWindow: 0,
      }),
      'invalid_schedule',
    );
  });

  it('schedule: the deadline not yet reached (reached at the point itself)', () => {
    assert.equal(check({ deadline: { height: 10 } }, at(10)), 'invalid_schedule');
    assert.equal(check({ deadline: { height: 11 } }, at(10)), undefined);
    const time = { opensAt: { time: 0 }, cancelWindow: 0 };
    assert.equal(check({ ...time, deadline: { time: startTime } }), 'invalid_schedule');
    assert.equal(check({ ...time, deadline: { time: startTime + 1 } }), undefined);
  });

  it('schedule: at most scheduleHeightsMax blocks or scheduleMsMax ahead', () => {
    assert.equal(check({ deadline: { height: 10 + scheduleHeightsMax } }), undefined);
    assert.equal(check({ deadline: { height: 11 + scheduleHeightsMax } }), 'invalid_schedule');
    const time = { opensAt: { time: 0 }, cancelWindow: 0 };
    assert.equal(check({ ...time, deadline: { time: startTime + scheduleMsMax } }), undefined);
    assert.equal(
      check({ ...time, deadline: { time: startTime + scheduleMsMax + 1 } }),
      'invalid_schedule',
    );
    // Each clock has its own limit.
    assert.equal(
      check({ ...time, deadline: { time: startTime + scheduleHeightsMax + 1 } }),
      undefined,
    );
  });

  it('schedule: the cancellation window no longer than the campaign', () => {
    assert.equal(check({ opensAt: { height: 5 }, cancelWindow: 15 }), undefined);
    assert.equal(check({ opensAt: { height: 5 }, cancelWindow: 16 }), 'invalid_schedule');
  });

  it('recipients: neither the fee nor an account line may pay the escrow', () => {
    assert.equal(check({ platformFee: { basisPoints: 1, to: escrow } }), 'invalid_recipient');
    const tranches = issueExample.tranches;
    const toEscrow = (t: number, r: number) => ({
      tranches: tranches.map((tranche, i) =>
        i === t
          ? {
              ...tranche,
              recipients: tranche.recipients.map((recipient, j) =>
                j === r
                  ? {
                      kind: 'account' as const,
                      address: escrow,
                      weightBasisPoints: recipient.weightBasisPoints,
                    }
                  : recipient,
              ),
            }
          : tranche,
      ),
    });
    assert.equal(check({ distribution: toEscrow(0, 0) }), 'invalid_recipient');
    assert.equal(check({ distribution: toEscrow(3, 1) }), 'invalid_recipient');
    // Another escrow is any other address.
    assert.equal(
      checkTerms(
        at(10),
        baseTerms({ distribution: toEscrow(3, 1) }),
        campaignEscrow('00000000000000bb'),
      ),
      undefined,
    );
    // The schedule is checked first.
    assert.equal(
      check({ platformFee: { basisPoints: 1, to: escrow }, deadline: { height: 1 } }),
      'invalid_schedule',
    );
  });

  it('campaign.create checks against the escrow of the id it is about to get, changing nothing', () => {
    const w = new TxWorld();
    const escrowNext = campaignEscrow(w.nextCampaignId());
    const before = dump(w);
    const payload = {
      asset: 'USD',
      ...baseTerms({ platformFee: { basisPoints: 100, to: escrowNext } }),
    };
    assert.equal(w.run(producer, 'campaign.create', payload), 'invalid_recipient');
    assert.deepEqual(dump(w), before);
    assert.deepEqual(w.events, []);
  });
});

describe('success: the release', () => {
  it('at the deadline a reached target pays the principal less the fee (rounded down)', () => {
    const w = new TxWorld();
    const id = create(w);
    const escrow = campaignEscrow(id);
    invest(w, id, ann, 60_000);
    invest(w, id, ben, 40_019);
    assert.deepEqual(w.blocksTo(13), []);
    const record = campaignOf(w, id);
    assert.equal(record.status, 'funding');
    assert.equal(isDue(w, id, 'deadline', { height: 14 }), true);
    // 5% of 100019 is 5000.95: the fee is 5000, the producer gets 95019.
    assert.deepEqual(w.block(), [succeeded(id, '100019', '5000', '95019', false)]);
    assert.deepEqual(campaignOf(w, id), {
      ...record,
      status: 'succeeded',
      principal: '100019',
      fee: '5000',
      closedAtHeight: 14,
      fills: ['0', '0', '0', '0'],
      releaseBlocked: false,
    });
    assert.equal(w.balance(producer), startingBalance + 95_019n);
    assert.equal(w.balance(feeAccount), 5_000n);
    assert.equal(w.balance(escrow), 0n);
    assert.equal(isDue(w, id, 'deadline', { height: 14 }), false);
    // The investor list stays: it is the payout list.
    assert.deepEqual(
      readInvestors(w.state, id),
      byAddress([ann, ben]).map((k) => k.address),
    );
    assert.deepEqual(w.block(), []);
  });

  it('exactly the target succeeds; one unit short fails', () => {
    const w = new TxWorld();
    const hit = create(w);
    const miss = create(w);
    invest(w, hit, ann, 100_000);
    invest(w, miss, ben, 99_999);
    assert.deepEqual(w.blocksTo(14), [
      succeeded(hit, '100000', '5000', '95000', false),
      failed(miss, '99999', '100000', 1),
      refunded(miss, ben, '99999', 'failed'),
    ]);
  });

  it('a fee of the whole principal pays only the fee account', () => {
    const w = new TxWorld();
    const id = create(w, { platformFee: { basisPoints: 10_000, to: feeAccount.address } });
    invest(w, id, ann, 100_000);
    assert.deepEqual(w.blocksTo(14), [succeeded(id, '100000', '100000', '0', false)]);
    assert.equal(w.balance(producer), startingBalance);
    assert.equal(w.balance(feeAccount), 100_000n);
  });

  it('no platform fee: all to the producer, fee 0', () => {
    const w = new TxWorld();
    const id = create(w, { platformFee: null });
    invest(w, id, ann, 100_000);
    assert.deepEqual(w.blocksTo(14), [succeeded(id, '100000', '0', '100000', false)]);
    assert.equal(campaignOf(w, id).fee, '0');
    assert.equal(w.balance(producer), startingBalance + 100_000n);
  });

  it('a fee rounded down to 0 releases even with the fee account frozen', () => {
    const w = new TxWorld();
    const id = create(w, {
      target: '9999',
      platformFee: { basisPoints: 1, to: feeAccount.address },
    });
    invest(w, id, ann, 9_999);
    w.freeze(feeAccount);
    assert.deepEqual(w.blocksTo(14), [succeeded(id, '9999', '0', '9999', false)]);
    assert.equal(campaignOf(w, id).releaseBlocked, false);
    assert.equal(w.balance(producer), startingBalance + 9_999n);
    assert.equal(w.balance(feeAccount), 0n);
    assert.equal(w.balance(campaignEscrow(id)), 0n);
  });

  for (const [who, frozen] of [
    ['the escrow', (id: string) => campaignEscrow(id)],
    ['the producer', () => producer.address],
    ['the fee account', () => feeAccount.address],
  ] as const) {
    it(`both or neither: ${who} frozen, nothing moves; a claim releases later`, () => {
      const w = new TxWorld();
      const id = create(w);
      const escrow = campaignEscrow(id);
      invest(w, id, ann, 60_000);
      invest(w, id, ben, 40_001);
      w.freeze(frozen(id));
      // 5% of 100001 is 5000.05: fee 5000.
      assert.deepEqual(w.blocksTo(14), [succeeded(id, '100001', '5000', '0', false, true)]);
      const record = campaignOf(w, id);
      assert.deepEqual(
        [record.status, record.principal, record.fee, record.releaseBlocked],
        ['succeeded', '100001', '5000', true],
      );
      assert.equal(w.balance(escrow), 100_001n);
      assert.equal(w.balance(producer), startingBalance);
      assert.equal(w.balance(feeAccount), 0n);
      const before = dump(w);
      assert.equal(w.run(producer, 'campaign.claim', { campaignId: id }), 'account_frozen');
      assert.deepEqual(dump(w), before);
      w.freeze(frozen(id), false);
      assert.equal(w.run(producer, 'campaign.claim', { campaignId: id }), 'ok');
      assert.deepEqual(w.events, [
        {
          type: 'campaign.released',
          data: { campaignId: id, producer: producer.address, released: '95001', fee: '5000' },
        },
      ]);
      assert.deepEqual(campaignOf(w, id), { ...record, releaseBlocked: false });
      assert.equal(w.balance(escrow), 0n);
      assert.equal(w.balance(producer), startingBalance + 95_001n);
      assert.equal(w.balance(feeAccount), 5_000n);
      assert.equal(w.run(producer, 'campaign.claim', { campaignId: id }), 'nothing_to_claim');
    });
  }

  it('release asserts the escrow holds the principal and the fee', () => {
    const w = new TxWorld();
    const id = create(w);
    const campaign: CampaignRecord = { ...campaignOf(w, id), principal: '100', fee: '5' };
    assert.throws(
      () => release(contextOf(w), campaign),
      failsWith(`crowdfund ${id}: escrow short of its principal`),
    );
    const all: CampaignRecord = { ...campaign, fee: '100' };
    assert.throws(
      () => release(contextOf(w), all),
      failsWith(`crowdfund ${id}: escrow short of its fee`),
    );
    w.mint(campaignEscrow(id), 100n);
    assert.equal(release(contextOf(w), campaign), true);
    assert.equal(w.balance(producer), startingBalance + 95n);
    assert.equal(w.balance(feeAccount), 5n);
  });
});

describe('early close', () => {
  it('reaching exactly the target succeeds in the investing tx; the deadline then does nothing', () => {
    const w = new TxWorld();
    const id = create(w, { earlyClose: true });
    invest(w, id, ann, 60_000);
    invest(w, id, ben, 39_999);
    assert.equal(campaignOf(w, id).status, 'funding');
    invest(w, id, ben, 1);
    assert.deepEqual(w.events, [
      {
        type: 'campaign.invested',
        data: {
          campaignId: id,
          investor: ben.address,
          amount: '1',
          total: '40000',
          raised: '100000',
        },
      },
      succeeded(id, '100000', '5000', '95000', true),
    ]);
    assert.equal(campaignOf(w, id).closedAtHeight, 1);
    assert.equal(w.balance(producer), startingBalance + 95_000n);
    const state = dump(w);
    assert.deepEqual(w.blocksTo(14), []);
    assert.equal(isDue(w, id, 'deadline', { height: 14 }), false);
    // Only the due entry went.
    assert.deepEqual(
      dump(w),
      state.filter(([k]) => k !== dueKey(id, 'deadline', { height: 14 })),
    );
  });

  it('without earlyClose the target reached waits for the deadline', () => {
    const w = new TxWorld();
    const id = create(w);
    invest(w, id, ann, 100_000);
    assert.equal(campaignOf(w, id).status, 'funding');
    assert.deepEqual(
      w.events.map((e) => e.type),
      ['campaign.invested'],
    );
    assert.deepEqual(w.blocksTo(14), [succeeded(id, '100000', '5000', '95000', false)]);
  });

  it('closes only a funding campaign with no round open', () => {
    const w = new TxWorld();
    const id = create(w, { earlyClose: true });
    invest(w, id, ann, 50_000);
    const ctx = contextOf(w);
    for (const status of ['succeeded', 'refunding', 'failed'] as const) {
      closeEarlyIfReached(ctx, { ...campaignOf(w, id), status, target: '1000' });
    }
    closeEarlyIfReached(ctx, { ...campaignOf(w, id), target: '50001' });
    closeEarlyIfReached(ctx, { ...campaignOf(w, id), target: '1000', earlyClose: false });
    assert.deepEqual(ctx.events, []);
    assert.equal(campaignOf(w, id).status, 'funding');
    closeEarlyIfReached(ctx, { ...campaignOf(w, id), target: '50000' });
    assert.deepEqual(ctx.events, [succeeded(id, '50000', '2500', '47500', true)]);
  });

  it('an open round holds the early close until it closes', () => {
    const w = new TxWorld();
    const id = create(w, { earlyClose: true });
    invest(w, id, ann, 50_000);
    invest(w, id, ben, 10_000);
    const amend = { campaignId: id, terms: { target: '40000' }, reconfirmBy: { height: 10 } };
    assert.equal(w.run(producer, 'campaign.amend', amend), 'ok');
    assert.equal(campaignOf(w, id).status, 'funding');
    assert.equal(w.run(ann, 'campaign.reconfirm', { campaignId: id }), 'ok');
    assert.equal(campaignOf(w, id).status, 'funding');
    assert.equal(w.run(ben, 'campaign.reconfirm', { campaignId: id }), 'ok');
    assert.deepEqual(w.events, [
      {
        type: 'campaign.reconfirmed',
        data: { campaignId: id, investor: ben.address, termsVersion: 1 },
      },
      succeeded(id, '60000', '3000', '57000', true),
    ]);
    // The last reconfirmation closed the round and took its entry out of the index.
    assert.equal(campaignOf(w, id).reconfirmation, null);
    assert.equal(isDue(w, id, 'reconfirm', { height: 10 }), false);
    assert.deepEqual(w.blocksTo(14), []);
  });
});

describe('failure: refunds at the deadline', () => {
  it('refunds every investor in address order; failed once all are refunded', () => {
    const w = new TxWorld();
    const id = create(w);
    invest(w, id, ann, 30_000);
    invest(w, id, ben, 20_000);
    invest(w, id, cat, 10_000);
    const amounts = new Map([
      [ann.address, '30000'],
      [ben.address, '20000'],
      [cat.address, '10000'],
    ]);
    const record = campaignOf(w, id);
    const positions = [ann, ben, cat].map((k) => positionOf(w, id, k));
    assert.deepEqual(w.blocksTo(13), []);
    assert.deepEqual(w.block(), [
      failed(id, '60000', '100000', 3),
      ...byAddress([ann, ben, cat]).map((k) => refunded(id, k, amounts.get(k.address)!, 'failed')),
    ]);
    assert.deepEqual(campaignOf(w, id), {
      ...record,
      status: 'failed',
      raised: '0',
      investorCount: 0,
      closedAtHeight: 14,
    });
    for (const [i, k] of [ann, ben, cat].entries()) {
      const p = positions[i]!;
      assert.deepEqual(positionOf(w, id, k), { ...p, principal: '0', refunded: p.principal });
      assert.equal(w.balance(k), startingBalance);
    }
    assert.deepEqual(readInvestors(w.state, id), []);
    assert.equal(isDue(w, id, 'deadline', { height: 14 }), false);
    assert.equal(w.balance(campaignEscrow(id)), 0n);
  });

  it('no investor: failed at once', () => {
    const w = new TxWorld();
    const id = create(w);
    const record = campaignOf(w, id);
    assert.deepEqual(w.blocksTo(14), [failed(id, '0', '100000', 0)]);
    assert.deepEqual(campaignOf(w, id), { ...record, status: 'failed', closedAtHeight: 14 });
  });

  it('a frozen investor is owed its refund, and claims it once unfrozen', () => {
    const w = new TxWorld();
    const id = create(w);
    const escrow = campaignEscrow(id);
    invest(w, id, ann, 30_000);
    invest(w, id, ben, 20_000);
    w.freeze(ben);
    const record = campaignOf(w, id);
    const benBefore = positionOf(w, id, ben);
    assert.deepEqual(w.blocksTo(14), [
      failed(id, '50000', '100000', 2),
      ...byAddress([ann, ben]).map((k) =>
        k === ben
          ? refundBlocked(id, ben, '20000', 'failed')
          : refunded(id, ann, '30000', 'failed'),
      ),
    ]);
    assert.deepEqual(campaignOf(w, id), {
      ...record,
      status: 'failed',
      raised: '0',
      owed: '20000',
      investorCount: 0,
      closedAtHeight: 14,
    });
    assert.deepEqual(positionOf(w, id, ben), { ...benBefore, principal: '0', owed: '20000' });
    assert.equal(w.balance(escrow), 20_000n);
    assert.equal(w.run(ben, 'campaign.claim', { campaignId: id }), 'account_frozen');
    w.freeze(ben, false);
    assert.equal(w.run(ben, 'campaign.claim', { campaignId: id }), 'ok');
    assert.deepEqual(w.events, [refunded(id, ben, '20000', 'claimed')]);
    assert.deepEqual(positionOf(w, id, ben), { ...benBefore, principal: '0', refunded: '20000' });
    assert.equal(campaignOf(w, id).owed, '0');
    assert.equal(w.balance(escrow), 0n);
    assert.equal(w.balance(ben), startingBalance);
  });

  it('a frozen escrow holds every refund as owed', () => {
    const w = new TxWorld();
    const id = create(w);
    invest(w, id, ann, 30_000);
    w.freeze(campaignEscrow(id));
    assert.deepEqual(w.blocksTo(14), [
      failed(id, '30000', '100000', 1),
      refundBlocked(id, ann, '30000', 'failed'),
    ]);
    assert.equal(campaignOf(w, id).owed, '30000');
    assert.equal(campaignOf(w, id).status, 'failed');
  });

  it('refund asserts a non-empty position and a transfer only a freeze can stop', () => {
    const w = new TxWorld();
    const id = create(w);
    const campaign = campaignOf(w, id);
    const ctx = contextOf(w);
    assert.throws(
      () => refund(ctx, campaign, emptyPosition(id, ann.address), 'failed'),
      failsWith(`crowdfund ${id}: refund of an empty position`),
    );
    const position: PositionRecord = { ...emptyPosition(id, ann.address), principal: '5' };
    assert.throws(
      () => refund(ctx, campaign, position, 'failed'),
      failsWith(`crowdfund ${id}: insufficient_funds`),
    );
  });
});

describe('beginBlock budgets', () => {
  it('refunds beyond refundsPerBlockMax carry over, in address order, across campaigns and clocks', () => {
    const w = new TxWorld();
    const large = create(w, { target: '10000000', maxInvestment: '1000' });
    const small = create(w);
    const timed = create(w, {
      opensAt: { time: startTime },
      deadline: { time: startTime + 13 * blockMs },
    });
    const many = crowd(w, refundsPerBlockMax + 10, 1_000n);
    for (const k of many) invest(w, large, k, 1_000);
    invest(w, small, ann, 1_000);
    invest(w, small, ben, 2_000);
    invest(w, timed, cat, 3_000);
    invest(w, timed, dan, 4_000);
    const sorted = byAddress(many);
    assert.ok(large < small && small < timed);
    assert.deepEqual(w.blocksTo(13), []);
    const first = w.block();
    assert.deepEqual(first, [
      failed(large, String(1_000 * many.length), '10000000', many.length),
      ...sorted.slice(0, refundsPerBlockMax).map((k) => refunded(large, k, '1000', 'failed')),
      failed(small, '3000', '100000', 2),
      failed(timed, '7000', '100000', 2),
    ]);
    assert.equal(campaignOf(w, large).status, 'refunding');
    assert.equal(campaignOf(w, large).investorCount, 10);
    assert.equal(campaignOf(w, large).raised, '10000');
    assert.deepEqual(
      readInvestors(w.state, large),
      sorted.slice(refundsPerBlockMax).map((k) => k.address),
    );
    assert.equal(campaignOf(w, small).status, 'refunding');
    assert.equal(isDue(w, large, 'deadline', { height: 14 }), true);
    assert.equal(isDue(w, small, 'deadline', { height: 14 }), true);
    assert.equal(isDue(w, timed, 'deadline', { time: startTime + 13 * blockMs }), true);
    assert.deepEqual(w.block(), [
      ...sorted.slice(refundsPerBlockMax).map((k) => refunded(large, k, '1000', 'failed')),
      ...byAddress([ann, ben]).map((k) =>
        refunded(small, k, k === ann ? '1000' : '2000', 'failed'),
      ),
      ...byAddress([cat, dan]).map((k) =>
        refunded(timed, k, k === cat ? '3000' : '4000', 'failed'),
      ),
    ]);
    for (const id of [large, small, timed]) {
      assert.equal(campaignOf(w, id).status, 'failed');
      assert.equal(campaignOf(w, id).closedAtHeight, 14);
      assert.equal(campaignOf(w, id).investorCount, 0);
    }
    assert.equal(isDue(w, large, 'deadline', { height: 14 }), false);
    assert.equal(isDue(w, timed, 'deadline', { time: startTime + 13 * blockMs }), false);
    assert.deepEqual(w.block(), []);
  });

  it('reads at most dueEntriesPerBlockMax entries a block, across both clocks', () => {
    const w = new TxWorld();
    const onHeight = create(w, { deadline: { height: 3 }, cancelWindow: 0 });
    const timeDeadline = { time: startTime + 2 * blockMs };
    const onTime = create(w, { opensAt: { time: startTime }, deadline: timeDeadline });
    // Entries of campaigns that do not exist: each is one of the block's entries, and dropped.
    for (let i = 0; i < dueEntriesPerBlockMax; i += 1) {
      indexDue(w.state, `gone${String(i).padStart(5, '0')}`, 'deadline', { height: 2 });
    }
    w.state.release();
    const entries = () =>
      [
        ...w.state.range(crowdfundKeys.dueEntries('height'), 5_000),
        ...w.state.range(crowdfundKeys.dueEntries('time'), 5_000),
      ].map(([k]) => k);
    assert.equal(entries().length, dueEntriesPerBlockMax + 2);
    // Both campaigns are due, but the block reads only the 1000 entries before them.
    assert.deepEqual(w.block({ height: 3, time: timeDeadline.time }), []);
    assert.deepEqual(entries(), [
      dueKey(onHeight, 'deadline', { height: 3 }),
      dueKey(onTime, 'deadline', timeDeadline),
    ]);
    assert.equal(campaignOf(w, onHeight).status, 'funding');
    assert.deepEqual(w.block(), [
      failed(onHeight, '0', '100000', 0),
      failed(onTime, '0', '100000', 0),
    ]);
    assert.deepEqual(entries(), []);
  });

  it('the entries the height clock reads leave the time clock the rest', () => {
    const w = new TxWorld();
    const onTime = create(w, {
      opensAt: { time: startTime },
      deadline: { time: startTime + 2 * blockMs },
    });
    const other = create(w, {
      opensAt: { time: startTime },
      deadline: { time: startTime + 2 * blockMs + 1 },
    });
    for (let i = 0; i < dueEntriesPerBlockMax - 1; i += 1) {
      indexDue(w.state, `gone${String(i).padStart(5, '0')}`, 'reconfirm', { height: 2 });
    }
    w.state.release();
    assert.deepEqual(w.block({ time: startTime + 3 * blockMs }), [
      failed(onTime, '0', '100000', 0),
    ]);
    assert.equal(campaignOf(w, other).status, 'funding');
    assert.deepEqual(w.block(), [failed(other, '0', '100000', 0)]);
  });
});

describe('the deadline on its clock', () => {
  it('height: due at the height itself, not one before', () => {
    const w = new TxWorld();
    const id = create(w);
    assert.deepEqual(w.block({ height: 13 }), []);
    assert.equal(campaignOf(w, id).status, 'funding');
    assert.deepEqual(w.block({ height: 14 }), [failed(id, '0', '100000', 0)]);
  });

  it('time: due at the time itself, not one ms before, whatever the height', () => {
    const w = new TxWorld();
    const deadline = startTime + 60_000;
    const id = create(w, { opensAt: { time: startTime }, deadline: { time: deadline } });
    assert.deepEqual(w.block({ height: 1_000, time: deadline - 1 }), []);
    assert.equal(campaignOf(w, id).status, 'funding');
    assert.deepEqual(w.block({ height: 1_001, time: deadline }), [failed(id, '0', '100000', 0)]);
    assert.equal(campaignOf(w, id).closedAtHeight, 1_001);
  });

  it('an entry at another point (an amended deadline) or on the other clock is moot and dropped', () => {
    const w = new TxWorld();
    const id = create(w);
    invest(w, id, ann, 5_000);
    // A stale entry before the deadline, and one on the time clock at the deadline's number.
    indexDue(w.state, id, 'deadline', { height: 10 });
    indexDue(w.state, id, 'deadline', { time: 14 });
    w.state.release();
    const state = dump(w);
    assert.deepEqual(w.blocksTo(10), []);
    assert.deepEqual(
      dump(w),
      state.filter(
        ([k]) =>
          k !== dueKey(id, 'deadline', { height: 10 }) &&
          k !== dueKey(id, 'deadline', { time: 14 }),
      ),
    );
    assert.deepEqual(w.blocksTo(14), [
      failed(id, '5000', '100000', 1),
      refunded(id, ann, '5000', 'failed'),
    ]);
  });

  it('an amended deadline settles at its new point', () => {
    const w = new TxWorld();
    const id = create(w);
    const amend = { campaignId: id, terms: { deadline: { height: 20 } } };
    assert.equal(w.run(producer, 'campaign.amend', amend), 'ok');
    assert.deepEqual(w.blocksTo(19), []);
    assert.deepEqual(w.block(), [failed(id, '0', '100000', 0)]);
  });
});

describe('reconfirmation rounds', () => {
  /** ann, ben and cat invested; the target amended to 20000 with a round until height 10. */
  function round(w: TxWorld, overrides: Record<string, unknown> = {}) {
    const id = create(w, overrides);
    invest(w, id, ann, 30_000);
    invest(w, id, ben, 20_000);
    invest(w, id, cat, 10_000);
    const amend = { campaignId: id, terms: { target: '20000' }, reconfirmBy: { height: 10 } };
    assert.equal(w.run(producer, 'campaign.amend', amend), 'ok');
    assert.deepEqual(
      readPending(w.state, id),
      byAddress([ann, ben, cat]).map((k) => k.address),
    );
    return id;
  }

  it('refunds who did not reconfirm at the round deadline, then the outcome counts the rest', () => {
    const w = new TxWorld();
    const id = round(w);
    assert.equal(w.run(ann, 'campaign.reconfirm', { campaignId: id }), 'ok');
    assert.deepEqual(w.events, [
      {
        type: 'campaign.reconfirmed',
        data: { campaignId: id, investor: ann.address, termsVersion: 1 },
      },
    ]);
    assert.deepEqual(campaignOf(w, id).reconfirmation, {
      version: 1,
      by: { height: 10 },
      pending: 2,
    });
    assert.deepEqual(w.blocksTo(9), []);
    const record = campaignOf(w, id);
    const ben0 = positionOf(w, id, ben);
    assert.deepEqual(
      w.block(),
      byAddress([ben, cat]).map((k) =>
        refunded(id, k, k === ben ? '20000' : '10000', 'notReconfirmed'),
      ),
    );
    assert.deepEqual(campaignOf(w, id), {
      ...record,
      raised: '30000',
      investorCount: 1,
      reconfirmation: null,
    });
    assert.deepEqual(positionOf(w, id, ben), { ...ben0, principal: '0', refunded: '20000' });
    assert.deepEqual(readInvestors(w.state, id), [ann.address]);
    assert.deepEqual(readPending(w.state, id), []);
    assert.equal(isDue(w, id, 'reconfirm', { height: 10 }), false);
    assert.deepEqual(w.blocksTo(13), []);
    assert.deepEqual(w.block(), [succeeded(id, '30000', '1500', '28500', false)]);
  });

  it('with earlyClose the round closing on a reached target succeeds in the same block', () => {
    const w = new TxWorld();
    const id = round(w, { earlyClose: true });
    assert.equal(w.run(cat, 'campaign.reconfirm', { campaignId: id }), 'ok');
    assert.deepEqual(w.blocksTo(10), [
      ...byAddress([ann, ben]).map((k) =>
        refunded(id, k, k === ann ? '30000' : '20000', 'notReconfirmed'),
      ),
    ]);
    // 10000 is under the target of 20000: still funding.
    assert.equal(campaignOf(w, id).status, 'funding');
    const w2 = new TxWorld();
    const id2 = round(w2, { earlyClose: true });
    assert.equal(w2.run(ben, 'campaign.reconfirm', { campaignId: id2 }), 'ok');
    assert.deepEqual(w2.blocksTo(10), [
      ...byAddress([ann, cat]).map((k) =>
        refunded(id2, k, k === ann ? '30000' : '10000', 'notReconfirmed'),
      ),
      succeeded(id2, '20000', '1000', '19000', true),
    ]);
    assert.equal(campaignOf(w2, id2).closedAtHeight, 10);
  });

  it('a frozen investor not reconfirmed is owed its refund', () => {
    const w = new TxWorld();
    const id = round(w);
    assert.equal(w.run(ann, 'campaign.reconfirm', { campaignId: id }), 'ok');
    assert.equal(w.run(ben, 'campaign.reconfirm', { campaignId: id }), 'ok');
    w.freeze(cat);
    assert.deepEqual(w.blocksTo(10), [refundBlocked(id, cat, '10000', 'notReconfirmed')]);
    assert.equal(campaignOf(w, id).owed, '10000');
    assert.equal(positionOf(w, id, cat).owed, '10000');
  });

  it('investing or cancelling takes an investor off the round; the last one closes it', () => {
    const w = new TxWorld();
    const id = round(w);
    // A new investor was never pending: no reconfirmation.
    invest(w, id, dan, 1_000);
    assert.deepEqual(
      w.events.map((e) => e.type),
      ['campaign.invested'],
    );
    assert.equal(campaignOf(w, id).reconfirmation!.pending, 3);
    // Investing more reconfirms.
    invest(w, id, ann, 1_000);
    assert.deepEqual(w.events[1], {
      type: 'campaign.reconfirmed',
      data: { campaignId: id, investor: ann.address, termsVersion: 1 },
    });
    assert.equal(campaignOf(w, id).reconfirmation!.pending, 2);
    // ann reconfirmed: cancelling leaves the count.
    assert.equal(w.run(ann, 'campaign.cancelInvestment', { campaignId: id }), 'ok');
    assert.equal(campaignOf(w, id).reconfirmation!.pending, 2);
    assert.equal(w.run(ben, 'campaign.cancelInvestment', { campaignId: id }), 'ok');
    assert.deepEqual(campaignOf(w, id).reconfirmation, {
      version: 1,
      by: { height: 10 },
      pending: 1,
    });
    assert.deepEqual(readPending(w.state, id), [cat.address]);
    assert.equal(w.run(cat, 'campaign.cancelInvestment', { campaignId: id }), 'ok');
    assert.equal(campaignOf(w, id).reconfirmation, null);
    assert.equal(isDue(w, id, 'reconfirm', { height: 10 }), false);
    assert.deepEqual(readPending(w.state, id), []);
    assert.deepEqual(readInvestors(w.state, id), [dan.address]);
    assert.deepEqual(w.blocksTo(10), []);
  });

  it('reconfirmed and dropInvestor leave an investor not pending alone', () => {
    const w = new TxWorld();
    const id = round(w);
    assert.equal(w.run(ann, 'campaign.reconfirm', { campaignId: id }), 'ok');
    const ctx = contextOf(w);
    const campaign = campaignOf(w, id);
    reconfirmed(ctx, campaign, ann.address);
    dropInvestor(ctx, campaign, ann.address);
    assert.deepEqual(ctx.events, []);
    assert.equal(campaign.reconfirmation!.pending, 2);
    assert.deepEqual(
      readInvestors(w.state, id),
      byAddress([ben, cat]).map((k) => k.address),
    );
    // With no round, dropping only leaves the investor set.
    const w2 = new TxWorld();
    const id2 = create(w2);
    invest(w2, id2, ann, 1_000);
    const closed = campaignOf(w2, id2);
    dropInvestor(contextOf(w2), closed, ann.address);
    assert.deepEqual(closed, campaignOf(w2, id2));
    assert.deepEqual(readInvestors(w2.state, id2), []);
  });

  it('a stale or foreign round entry is moot; a round entry with no round too', () => {
    const w = new TxWorld();
    const id = round(w);
    indexDue(w.state, id, 'reconfirm', { height: 5 });
    indexDue(w.state, id, 'reconfirm', { time: 10 });
    w.state.release();
    const state = dump(w);
    assert.deepEqual(w.blocksTo(9), []);
    assert.deepEqual(
      dump(w),
      state.filter(
        ([k]) =>
          k !== dueKey(id, 'reconfirm', { height: 5 }) &&
          k !== dueKey(id, 'reconfirm', { time: 10 }),
      ),
    );
    const other = create(w);
    indexDue(w.state, other, 'reconfirm', { height: 3 });
    w.state.release();
    // Block 10: the round's own entry refunds all three (none reconfirmed).
    assert.deepEqual(
      w.block(),
      byAddress([ann, ben, cat]).map((k) =>
        refunded(id, k, k === ann ? '30000' : k === ben ? '20000' : '10000', 'notReconfirmed'),
      ),
    );
    assert.equal(isDue(w, other, 'reconfirm', { height: 3 }), false);
  });

  it('a round larger than a block refunds over blocks; the deadline waits behind it', () => {
    const w = new TxWorld();
    const id = create(w, { target: '1000000', maxInvestment: '100000' });
    // A campaign failing at the same height, after it in the index: its refunds wait too.
    const after = create(w);
    invest(w, after, cat, 1_000);
    const many = crowd(w, refundsPerBlockMax + 12, 1_000n);
    for (const k of many) invest(w, id, k, 1_000);
    invest(w, id, ann, 100_000);
    const amend = { campaignId: id, terms: { target: '100000' }, reconfirmBy: { height: 13 } };
    assert.equal(w.run(producer, 'campaign.amend', amend), 'ok');
    assert.equal(w.run(ann, 'campaign.reconfirm', { campaignId: id }), 'ok');
    const sorted = byAddress(many);
    // One block reaches both the round deadline (13) and the campaign's (14).
    assert.deepEqual(w.block({ height: 14 }), [
      ...sorted.slice(0, refundsPerBlockMax).map((k) => refunded(id, k, '1000', 'notReconfirmed')),
      failed(after, '1000', '100000', 1),
    ]);
    assert.deepEqual(campaignOf(w, id).reconfirmation, {
      version: 1,
      by: { height: 13 },
      pending: 12,
    });
    assert.equal(campaignOf(w, id).status, 'funding');
    assert.equal(campaignOf(w, id).investorCount, 13);
    assert.deepEqual(
      readPending(w.state, id),
      sorted.slice(refundsPerBlockMax).map((k) => k.address),
    );
    assert.equal(isDue(w, id, 'reconfirm', { height: 13 }), true);
    assert.equal(isDue(w, id, 'deadline', { height: 14 }), true);
    assert.deepEqual(w.block(), [
      ...sorted.slice(refundsPerBlockMax).map((k) => refunded(id, k, '1000', 'notReconfirmed')),
      succeeded(id, '100000', '5000', '95000', false),
      refunded(after, cat, '1000', 'failed'),
    ]);
    assert.equal(isDue(w, id, 'reconfirm', { height: 13 }), false);
    assert.equal(isDue(w, id, 'deadline', { height: 14 }), false);
    assert.deepEqual(readInvestors(w.state, id), [ann.address]);
  });

  it('a round entry of a campaign no longer funding is moot', () => {
    const w = new TxWorld();
    const id = round(w);
    // No tx leaves a round open once funding ends; the block checks the status all the same.
    writeCampaign(w.state, { ...campaignOf(w, id), status: 'refunding' });
    w.state.release();
    const state = dump(w);
    assert.deepEqual(w.blocksTo(10), []);
    assert.deepEqual(
      dump(w),
      state.filter(([k]) => k !== dueKey(id, 'reconfirm', { height: 10 })),
    );
  });

  it('closing a round with investors pending is a bug', () => {
    const w = new TxWorld();
    const id = round(w);
    // A count one short of the pending set: the block refunds all three and finds -1.
    const campaign = campaignOf(w, id);
    writeCampaign(w.state, {
      ...campaign,
      reconfirmation: { ...campaign.reconfirmation!, pending: 2 },
    });
    w.state.release();
    w.blocksTo(9);
    assert.throws(
      () => w.block(),
      failsWith(`crowdfund ${id}: round closed with investors pending`),
    );
  });
});

describe('settleDueCampaigns', () => {
  it('settles the height clock first, then the time clock', () => {
    const w = new TxWorld();
    const onTime = create(w, {
      opensAt: { time: startTime },
      deadline: { time: startTime + 5 * blockMs },
    });
    const onHeight = create(w, { deadline: { height: 6 } });
    assert.ok(onTime < onHeight);
    const events: TxEvent[] = [];
    w.height = 6;
    w.time = startTime + 5 * blockMs;
    settleDueCampaigns({
      chainId: 'c',
      height: 6,
      time: startTime + 5 * blockMs,
      previousProducer: producer.address,
      previousHash: '00'.repeat(32),
      state: w.state,
      ledger: w.ledger,
      emit: (type, data) => events.push({ type, data }),
    });
    assert.deepEqual(events, [
      failed(onHeight, '0', '100000', 0),
      failed(onTime, '0', '100000', 0),
    ]);
  });
});
