import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { TxContext } from '../../chain/index.js';
import { Ledger } from '../../ledger/index.js';
import { StateView } from '../../state/index.js';
import { campaignEscrow, type DistributionRule } from './schema.js';
import { crowdfundKeys, readPending } from './state.js';
import {
  ann,
  ben,
  cat,
  chainId,
  create,
  dan,
  feeAccount,
  invest,
  outsider,
  producer,
  reporter,
  startTime,
  TxWorld,
  type TestKey,
  amendTx,
  campaignOf,
  cancelTx,
  defaultTerms,
  dueAt,
  positionOf,
  refused,
  succeeded,
  types,
  unknownId,
} from './txs-fixture.js';
import { crowdfundTxs } from './txs.js';

/*
 * txs.ts, campaign.amend and campaign.reconfirm run directly on one state view (creation,
 * investment and cancellation: txs.test.ts, whose helpers these repeat). Records and events are
 * read whole; each rejection is checked at its boundary and one past it, and leaves the state as
 * it was. The default campaign (txs-fixture.ts `terms`, created at height 1): target 100,000,
 * investments 1,000 to 100,000, open from height 1, deadline at height 14, cancellable until
 * height 11.
 */

const reconfirmTx = (w: TxWorld, id: string, who: TestKey) =>
  w.run(who, 'campaign.reconfirm', { campaignId: id });
const allNewTerms = (w: TxWorld): Record<string, unknown> => {
  const distribution: DistributionRule = {
    tranches: [
      {
        name: 'all',
        shareBasisPoints: 10_000,
        recipients: [{ kind: 'investors', weightBasisPoints: 10_000 }],
      },
    ],
  };
  return {
    title: 'Second Take',
    target: '70000',
    minInvestment: '2000',
    maxInvestment: '9000',
    opensAt: { height: w.height + 2 },
    deadline: { height: w.height + 20 },
    cancelWindow: 5,
    earlyClose: true,
    platformFee: { basisPoints: 250, to: outsider.address },
    reporters: [outsider.address, reporter.address].sort(),
    distribution,
  };
};

describe('campaign.amend', () => {
  it('only the producer amends a campaign that exists', () => {
    const w = new TxWorld();
    const id = create(w);
    const payload = (campaignId: string) => ({ campaignId, terms: { title: 'Renamed' } });
    refused(w, producer, 'campaign.amend', payload(unknownId), 'campaign_not_found');
    refused(w, ann, 'campaign.amend', payload(id), 'not_producer');
  });

  it('before any investment applies at once: named terms change, the others stay', () => {
    const w = new TxWorld();
    const id = create(w);
    const before = campaignOf(w, id);
    assert.equal(amendTx(w, id, { title: 'Renamed', cancelWindow: 2 }, { height: 9 }), 'ok');
    const after = campaignOf(w, id);
    assert.deepEqual(after, { ...before, title: 'Renamed', cancelWindow: 2 });
    assert.deepEqual(w.events, [
      {
        type: 'campaign.amended',
        data: {
          campaignId: id,
          amended: ['cancelWindow', 'title'],
          terms: { ...defaultTerms(14), title: 'Renamed', cancelWindow: 2 },
          termsVersion: 0,
          reconfirmBy: null,
        },
      },
    ]);
    assert.deepEqual(w.blocksTo(9), [], 'no reconfirmation round without investors');
  });

  it('replaces every term it names', () => {
    const w = new TxWorld();
    const id = create(w);
    const before = campaignOf(w, id);
    const amended = allNewTerms(w);
    assert.equal(amendTx(w, id, amended), 'ok');
    assert.deepEqual(campaignOf(w, id), { ...before, ...amended, termsVersion: 0 });
    assert.deepEqual(w.events[0]!.data, {
      campaignId: id,
      amended: Object.keys(amended).sort(),
      terms: amended,
      termsVersion: 0,
      reconfirmBy: null,
    });
  });

  it('platformFee null removes the fee; an absent platformFee keeps it', () => {
    const w = new TxWorld();
    const id = create(w);
    const fee = { basisPoints: 500, to: feeAccount.address };
    assert.equal(amendTx(w, id, { title: 'Renamed' }), 'ok');
    assert.deepEqual(campaignOf(w, id).platformFee, fee);
    assert.deepEqual((w.events[0]!.data.terms as { platformFee: unknown }).platformFee, fee);
    assert.equal(amendTx(w, id, { platformFee: null }), 'ok');
    assert.equal(campaignOf(w, id).platformFee, null);
    assert.equal((w.events[0]!.data.terms as { platformFee: unknown }).platformFee, null);
    assert.deepEqual((w.events[0]!.data as { amended: unknown }).amended, ['platformFee']);
    assert.equal(amendTx(w, id, { title: 'Again' }), 'ok');
    assert.equal(campaignOf(w, id).platformFee, null, 'stays removed');
  });

  it('checks the amended terms as at creation', () => {
    const w = new TxWorld();
    const id = create(w);
    const amend = (amended: Record<string, unknown>) => ({ campaignId: id, terms: amended });
    refused(
      w,
      producer,
      'campaign.amend',
      amend({ minInvestment: '100001' }),
      'invalid_investment_limits',
    );
    refused(
      w,
      producer,
      'campaign.amend',
      amend({ maxInvestment: '999' }),
      'invalid_investment_limits',
    );
    refused(w, producer, 'campaign.amend', amend({ deadline: { height: 1 } }), 'invalid_schedule');
    refused(
      w,
      producer,
      'campaign.amend',
      amend({ platformFee: { basisPoints: 1, to: campaignEscrow(id) } }),
      'invalid_recipient',
    );
    assert.equal(amendTx(w, id, { minInvestment: '100000' }), 'ok', 'min equal to max');
  });

  it('a moved deadline moves the outcome: the old point passes without effect', () => {
    const w = new TxWorld();
    const later = create(w);
    const sooner = create(w);
    assert.equal(amendTx(w, later, { deadline: { height: 20 } }), 'ok');
    assert.equal(amendTx(w, sooner, { deadline: { height: 9 }, cancelWindow: 0 }), 'ok');
    assert.deepEqual(
      [dueAt(w, later, 14, 'deadline'), dueAt(w, later, 20, 'deadline')],
      [false, true],
      'the index keeps one deadline entry: the new one',
    );
    assert.deepEqual(
      [dueAt(w, sooner, 14, 'deadline'), dueAt(w, sooner, 9, 'deadline')],
      [false, true],
    );
    assert.deepEqual(w.blocksTo(8), []);
    const failed = (id: string) => ({
      type: 'campaign.failed',
      data: { campaignId: id, raised: '0', target: '100000', investors: 0 },
    });
    assert.deepEqual(w.block(), [failed(sooner)], 'at the new, earlier deadline');
    assert.deepEqual(w.blocksTo(19), [], 'the old deadline (14) passes');
    assert.equal(campaignOf(w, later).status, 'funding');
    assert.deepEqual(w.block(), [failed(later)]);
  });

  it('writes only what changes: a kept deadline leaves the due index as it was', () => {
    const w = new TxWorld();
    const id = create(w);
    // The campaign as committed state, under a fresh block's view, so the view's writes are the
    // amendment's own.
    const committed = new Map(w.state.writes());
    const view = new StateView({ get: (k) => committed.get(k) ?? undefined });
    const amend = crowdfundTxs['campaign.amend']!;
    const execute = (amended: Record<string, unknown>) => {
      const parsed = amend.parse({ campaignId: id, terms: amended });
      assert.ok('value' in parsed);
      const ctx: TxContext = {
        chainId,
        height: w.height,
        time: w.time,
        txHash: w.nextHash(),
        txIndex: 0,
        sender: producer.address,
        state: view,
        ledger: new Ledger(view),
        emit: () => undefined,
      };
      return amend.execute(ctx, parsed.value as never);
    };
    const dueWrites = () =>
      [...view.writes()].filter(([k]) => k.startsWith(crowdfundKeys.dueEntries('height')));
    assert.equal(execute({ title: 'Renamed', deadline: { height: 14 } }), undefined);
    assert.deepEqual([...view.writes().keys()], [crowdfundKeys.campaign(id)]);
    assert.equal(execute({ deadline: { height: 20 } }), undefined);
    assert.deepEqual(dueWrites(), [
      [crowdfundKeys.due('height', { value: 14, id, kind: 'deadline' }), null],
      [crowdfundKeys.due('height', { value: 20, id, kind: 'deadline' }), 'true'],
    ]);
  });

  it('an unchanged deadline keeps its outcome', () => {
    const w = new TxWorld();
    const id = create(w);
    assert.equal(amendTx(w, id, { deadline: { height: 14 }, target: '5000' }), 'ok');
    invest(w, id, ann, 5000);
    w.blocksTo(13);
    assert.deepEqual(
      w.block().map((e) => e.type),
      ['campaign.succeeded'],
      'at the deadline it kept',
    );
  });

  it('after an investment needs reconfirmBy: on the deadline clock, not reached, before it', () => {
    const w = new TxWorld();
    const id = create(w);
    invest(w, id, ann, 1000);
    w.blocksTo(5);
    const amend = (reconfirmBy?: unknown, deadline = 14) => ({
      campaignId: id,
      terms: { title: 'Renamed', deadline: { height: deadline } },
      ...(reconfirmBy === undefined ? {} : { reconfirmBy }),
    });
    const code = 'invalid_reconfirm_by';
    refused(w, producer, 'campaign.amend', amend(), code, 'missing');
    refused(w, producer, 'campaign.amend', amend({ height: 5 }), code, 'reached');
    refused(w, producer, 'campaign.amend', amend({ height: 14 }), code, 'at the deadline');
    refused(w, producer, 'campaign.amend', amend({ height: 20 }, 20), code, 'the new deadline');
    assert.equal(
      amendTx(w, id, { title: 'Renamed', deadline: { height: 20 } }, { height: 19 }),
      'ok',
    );
    assert.deepEqual(campaignOf(w, id).reconfirmation, {
      version: 1,
      by: { height: 19 },
      pending: 1,
    });

    const next = create(w); // at height 5: deadline 18
    invest(w, next, ann, 1000);
    assert.equal(amendTx(w, next, { title: 'Renamed' }, { height: 6 }), 'ok', 'the next block');
  });

  it('on the time clock, reconfirmBy must be a time too', () => {
    const w = new TxWorld();
    const deadline = startTime + 100_000;
    const id = create(w, {
      opensAt: { time: startTime },
      deadline: { time: deadline },
      cancelWindow: 0,
    });
    invest(w, id, ann, 1000);
    const amend = (reconfirmBy: unknown) => ({
      campaignId: id,
      terms: { title: 'x' },
      reconfirmBy,
    });
    const code = 'invalid_reconfirm_by';
    refused(w, producer, 'campaign.amend', amend({ height: 5 }), code, 'a height');
    refused(w, producer, 'campaign.amend', amend({ time: startTime }), code, 'reached');
    refused(w, producer, 'campaign.amend', amend({ time: deadline }), code, 'at the deadline');
    assert.equal(amendTx(w, id, { title: 'x' }, { time: startTime + 1 }), 'ok');
    assert.deepEqual(campaignOf(w, id).reconfirmation!.by, { time: startTime + 1 });
  });

  it('opens a reconfirmation round: version, every investor pending, the event', () => {
    const w = new TxWorld();
    const id = create(w);
    invest(w, id, ben, 1000);
    invest(w, id, ann, 1000);
    const before = campaignOf(w, id);
    assert.equal(amendTx(w, id, { minInvestment: '500' }, { height: 8 }), 'ok');
    const round = { version: 1, by: { height: 8 }, pending: 2 };
    assert.deepEqual(campaignOf(w, id), {
      ...before,
      minInvestment: '500',
      termsVersion: 1,
      reconfirmation: round,
    });
    assert.deepEqual(readPending(w.state, id), [ann.address, ben.address].sort());
    assert.ok(dueAt(w, id, 8, 'reconfirm'));
    assert.ok(dueAt(w, id, 14, 'deadline'), 'the deadline entry stays');
    assert.equal(positionOf(w, id, ann).termsVersion, 0, 'until it reconfirms');
    assert.deepEqual(w.events, [
      {
        type: 'campaign.amended',
        data: {
          campaignId: id,
          amended: ['minInvestment'],
          terms: { ...defaultTerms(14), minInvestment: '500' },
          termsVersion: 1,
          reconfirmBy: { height: 8 },
        },
      },
    ]);
  });

  it('refunds those who did not reconfirm exactly at reconfirmBy; a new round after it', () => {
    const w = new TxWorld();
    const id = create(w, { deadline: { height: 30 } });
    invest(w, id, ann, 1000);
    invest(w, id, ben, 2000);
    assert.equal(amendTx(w, id, { title: 'Renamed' }, { height: 8 }), 'ok');
    const round = { campaignId: id, terms: { title: 'Third' }, reconfirmBy: { height: 20 } };
    refused(w, producer, 'campaign.amend', round, 'reconfirmation_open');
    assert.equal(reconfirmTx(w, id, ann), 'ok');
    assert.deepEqual(w.blocksTo(7), []);
    assert.deepEqual(w.block(), [
      {
        type: 'campaign.refunded',
        data: { campaignId: id, investor: ben.address, amount: '2000', reason: 'notReconfirmed' },
      },
    ]);
    assert.equal(campaignOf(w, id).reconfirmation, null);
    assert.equal(w.run(producer, 'campaign.amend', round), 'ok');
    assert.deepEqual(campaignOf(w, id).reconfirmation, {
      version: 2,
      by: { height: 20 },
      pending: 1,
    });
    assert.deepEqual(readPending(w.state, id), [ann.address]);
  });

  it('refuses a campaign that is no longer funding', () => {
    const w = new TxWorld();
    const id = succeeded(w);
    const payload = { campaignId: id, terms: { title: 'Renamed' }, reconfirmBy: { height: 5 } };
    refused(w, producer, 'campaign.amend', payload, 'campaign_not_funding');
  });
});

describe('campaign.reconfirm', () => {
  /** ann 3,000 and ben 5,000 and cat 4,000 in, then `amended` with reconfirmBy height 8. */
  function amended(amendedTerms: Record<string, unknown>, overrides: Record<string, unknown> = {}) {
    const w = new TxWorld();
    const id = create(w, overrides);
    invest(w, id, ann, 3000);
    invest(w, id, ben, 5000);
    invest(w, id, cat, 4000);
    assert.equal(amendTx(w, id, amendedTerms, { height: 8 }), 'ok');
    return { w, id };
  }

  it('records the acceptance and takes the investor off the pending list', () => {
    const { w, id } = amended({ title: 'Renamed' });
    assert.equal(reconfirmTx(w, id, ben), 'ok');
    assert.deepEqual(w.events, [
      {
        type: 'campaign.reconfirmed',
        data: { campaignId: id, investor: ben.address, termsVersion: 1 },
      },
    ]);
    assert.equal(positionOf(w, id, ben).termsVersion, 1);
    assert.equal(positionOf(w, id, ben).principal, '5000');
    assert.deepEqual(campaignOf(w, id).reconfirmation, {
      version: 1,
      by: { height: 8 },
      pending: 2,
    });
    assert.deepEqual(readPending(w.state, id), [ann.address, cat.address].sort());
    assert.equal(reconfirmTx(w, id, ann), 'ok');
    assert.equal(reconfirmTx(w, id, cat), 'ok');
    assert.equal(campaignOf(w, id).reconfirmation, null, 'the last closes the round');
    assert.deepEqual(w.blocksTo(8), [], 'nobody is refunded');
    assert.equal(campaignOf(w, id).raised, '12000');
  });

  it('refuses in precedence: not found, no position, not funding, nothing to reconfirm', () => {
    const w = new TxWorld();
    const call = 'campaign.reconfirm';
    refused(w, ann, call, { campaignId: unknownId }, 'campaign_not_found');
    const closed = succeeded(w);
    refused(w, ben, call, { campaignId: closed }, 'position_not_found');
    refused(w, ann, call, { campaignId: closed }, 'campaign_not_funding');

    const id = create(w);
    invest(w, id, ann, 1000);
    invest(w, id, ben, 1000);
    invest(w, id, cat, 1000);
    refused(w, ann, call, { campaignId: id }, 'nothing_to_reconfirm', 'no round open');
    assert.equal(cancelTx(w, id, cat), 'ok');
    assert.equal(amendTx(w, id, { title: 'Renamed' }, { height: 8 }), 'ok');
    refused(w, cat, call, { campaignId: id }, 'position_not_found', 'cancelled');
    refused(w, dan, call, { campaignId: id }, 'position_not_found', 'never invested');
    assert.equal(reconfirmTx(w, id, ann), 'ok');
    refused(w, ann, call, { campaignId: id }, 'nothing_to_reconfirm', 'twice');
    invest(w, id, dan, 1000);
    refused(w, dan, call, { campaignId: id }, 'nothing_to_reconfirm', 'invested under the terms');
  });

  it('is open until the block before reconfirmBy', () => {
    const { w, id } = amended({ title: 'Renamed' });
    w.height = 7;
    assert.equal(reconfirmTx(w, id, ann), 'ok');
    w.height = 8; // the handler alone, before the block refunds
    refused(w, ben, 'campaign.reconfirm', { campaignId: id }, 'reconfirmation_closed');
    // Investing reconfirms, and is closed to a pending investor from reconfirmBy on too: the
    // refunds of a round may run past its block (250 a block), and a top-up must not dodge them.
    const invest1 = { campaignId: id, amount: '1' };
    refused(w, ben, 'campaign.invest', invest1, 'reconfirmation_closed', 'pending, round closed');
    // ann reconfirmed, and dan was never pending: both still invest.
    assert.equal(w.run(ann, 'campaign.invest', invest1), 'ok');
    assert.equal(w.run(dan, 'campaign.invest', { campaignId: id, amount: '1000' }), 'ok');
    w.height = 7;
    assert.equal(w.run(ben, 'campaign.invest', invest1), 'ok', 'before reconfirmBy it reconfirms');
    assert.deepEqual(types(w), ['campaign.invested', 'campaign.reconfirmed']);
  });

  it('refuses a total outside the amended limits, accepts one at either bound', () => {
    const outside = amended({ minInvestment: '3001', maxInvestment: '4999' });
    const call = 'campaign.reconfirm';
    refused(outside.w, ann, call, { campaignId: outside.id }, 'position_outside_terms', 'min');
    refused(outside.w, ben, call, { campaignId: outside.id }, 'position_outside_terms', 'max');
    assert.equal(reconfirmTx(outside.w, outside.id, cat), 'ok');

    const bounds = amended({ minInvestment: '3000', maxInvestment: '5000' });
    assert.equal(reconfirmTx(bounds.w, bounds.id, ann), 'ok', 'at the minimum');
    assert.equal(reconfirmTx(bounds.w, bounds.id, ben), 'ok', 'at the maximum');
  });

  it('the last reconfirmation closes early when the amended target is reached', () => {
    const { w, id } = amended({ target: '12000' }, { earlyClose: true });
    assert.equal(reconfirmTx(w, id, ann), 'ok');
    assert.equal(reconfirmTx(w, id, ben), 'ok');
    assert.equal(campaignOf(w, id).status, 'funding', 'cat has not reconfirmed');
    assert.equal(reconfirmTx(w, id, cat), 'ok');
    assert.deepEqual(types(w), ['campaign.reconfirmed', 'campaign.succeeded']);
    assert.deepEqual(w.events[1]!.data, {
      campaignId: id,
      principal: '12000',
      fee: '600',
      released: '11400',
      releaseBlocked: false,
      early: true,
    });
    assert.equal(campaignOf(w, id).status, 'succeeded');

    const below = amended({ target: '12001' }, { earlyClose: true });
    for (const who of [ann, ben, cat]) assert.equal(reconfirmTx(below.w, below.id, who), 'ok');
    assert.equal(campaignOf(below.w, below.id).status, 'funding', 'one below the target');
  });
});
