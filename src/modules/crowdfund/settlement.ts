import assert from 'node:assert/strict';
import type { BlockContext, TxContext } from '../../chain/index.js';
import type { OrderedStateReader } from '../../state/index.js';
import type { CrowdfundRejection } from './rejections.js';
import {
  basisPointsWhole,
  clockNow,
  clockOf,
  dueEntriesPerBlockMax,
  isPending,
  pointValue,
  readCampaign,
  readDue,
  readInvestors,
  readPending,
  readPosition,
  refundsPerBlockMax,
  scheduleHeightsMax,
  scheduleMsMax,
  setInvestor,
  setPending,
  unindexDue,
  writeCampaign,
  writePosition,
  type CampaignRecord,
  type CampaignTerms,
  type Clock,
  type PositionRecord,
  type SchedulePoint,
} from './state.js';
import type { Investment } from './waterfall.js';

/*
 * A campaign's life after its txs: the checks of a set of terms, the outcome (release or
 * refunds), reconfirmation rounds and the bounded settlement of what falls due at `beginBlock`.
 * The tx handlers (txs.ts, txs-revenue.ts) share these.
 */

export type Context = Pick<BlockContext, 'height' | 'time' | 'state' | 'ledger' | 'emit'>;

export const big = (s: string) => BigInt(s);
export const plus = (s: string, d: bigint) => (BigInt(s) + d).toString();

/** The point `amount` units before `point`, on the same clock. */
export function before(point: SchedulePoint, amount: number): SchedulePoint {
  return 'height' in point ? { height: point.height - amount } : { time: point.time - amount };
}

function aheadMax(clock: Clock): number {
  return clock === 'height' ? scheduleHeightsMax : scheduleMsMax;
}

/**
 * The stateful checks of a set of terms, at creation and at every amendment: limits, then the
 * schedule (one clock, opens before the deadline, deadline ahead but not too far, cancellation
 * window within the campaign), then no payment into the escrow itself.
 */
export function checkTerms(
  ctx: Context,
  terms: CampaignTerms,
  escrow: string,
): CrowdfundRejection | undefined {
  if (big(terms.minInvestment) > big(terms.maxInvestment)) return 'invalid_investment_limits';
  const clock = clockOf(terms.deadline);
  if (clockOf(terms.opensAt) !== clock) return 'invalid_schedule';
  const opens = pointValue(terms.opensAt);
  const end = pointValue(terms.deadline);
  const now = clockNow(clock, ctx);
  if (opens >= end || end <= now || end - now > aheadMax(clock)) return 'invalid_schedule';
  if (terms.cancelWindow > end - opens) return 'invalid_schedule';
  if (terms.platformFee?.to === escrow) return 'invalid_recipient';
  for (const tranche of terms.distribution.tranches) {
    for (const r of tranche.recipients) {
      if (r.kind === 'account' && r.address === escrow) return 'invalid_recipient';
    }
  }
  return undefined;
}

export function emptyPosition(campaignId: string, investor: string): PositionRecord {
  return {
    campaignId,
    investor,
    principal: '0',
    invested: '0',
    refunded: '0',
    termsVersion: 0,
    owed: '0',
    paidOut: '0',
    paidOutByTranche: [],
    payoutOwed: '0',
    payoutOwedByTranche: [],
  };
}

/**
 * Pays the producer the principal less the platform fee, and the fee to its account. Both or
 * neither: when either account is frozen for the asset nothing moves, and the producer retries
 * with `campaign.claim`. Returns whether the release was made.
 */
export function release(ctx: Context, campaign: CampaignRecord): boolean {
  const principal = big(campaign.principal!);
  const fee = big(campaign.fee!);
  const frozen = (address: string) => ctx.ledger.account(address).frozen.includes(campaign.asset);
  // The issuer of the asset may freeze any account, the escrow included.
  if (frozen(campaign.escrow) || frozen(campaign.producer)) return false;
  if (fee > 0n && frozen(campaign.platformFee!.to)) return false;
  if (principal - fee > 0n) {
    const moved = ctx.ledger.transfer(
      campaign.escrow,
      campaign.producer,
      campaign.asset,
      principal - fee,
    );
    assert.equal(moved, undefined, `crowdfund ${campaign.id}: escrow short of its principal`);
  }
  if (fee > 0n) {
    const moved = ctx.ledger.transfer(
      campaign.escrow,
      campaign.platformFee!.to,
      campaign.asset,
      fee,
    );
    assert.equal(moved, undefined, `crowdfund ${campaign.id}: escrow short of its fee`);
  }
  return true;
}

/**
 * The target is reached: the principal is fixed, the fee (rounded down, in the producer's favour)
 * computed, and the escrow released. The investor list stays: it is the payout list.
 */
function succeed(ctx: Context, campaign: CampaignRecord, early: boolean): void {
  const principal = big(campaign.raised);
  const fee = campaign.platformFee
    ? (principal * BigInt(campaign.platformFee.basisPoints)) / BigInt(basisPointsWhole)
    : 0n;
  campaign.status = 'succeeded';
  campaign.principal = principal.toString();
  campaign.fee = fee.toString();
  campaign.closedAtHeight = ctx.height;
  campaign.fills = campaign.distribution.tranches.map(() => '0');
  const released = release(ctx, campaign);
  campaign.releaseBlocked = !released;
  writeCampaign(ctx.state, campaign);
  ctx.emit('campaign.succeeded', {
    campaignId: campaign.id,
    principal: principal.toString(),
    fee: fee.toString(),
    released: released ? (principal - fee).toString() : '0',
    releaseBlocked: !released,
    early,
  });
}

/** Early close: once the target is reached and no reconfirmation is open, if the terms allow it. */
export function closeEarlyIfReached(ctx: Context, campaign: CampaignRecord): void {
  if (
    campaign.status === 'funding' &&
    campaign.earlyClose &&
    campaign.reconfirmation === null &&
    big(campaign.raised) >= big(campaign.target)
  ) {
    succeed(ctx, campaign, true);
  }
}

/**
 * Returns an investor's whole principal from escrow. A frozen account cannot receive: the amount
 * is then owed (claimable with `campaign.claim`), never lost. The caller updates the lists.
 */
export function refund(
  ctx: Context,
  campaign: CampaignRecord,
  position: PositionRecord,
  reason: 'cancelled' | 'failed' | 'notReconfirmed',
): void {
  const amount = big(position.principal);
  assert.ok(amount > 0n, `crowdfund ${campaign.id}: refund of an empty position`);
  const moved = ctx.ledger.transfer(campaign.escrow, position.investor, campaign.asset, amount);
  // The escrow holds every active principal, so only a freeze (of either side) can stop it.
  assert.ok(
    moved === undefined || moved === 'account_frozen',
    `crowdfund ${campaign.id}: ${moved}`,
  );
  position.principal = '0';
  campaign.raised = plus(campaign.raised, -amount);
  campaign.investorCount -= 1;
  if (moved === undefined) {
    position.refunded = plus(position.refunded, amount);
  } else {
    position.owed = plus(position.owed, amount);
    campaign.owed = plus(campaign.owed, amount);
  }
  writePosition(ctx.state, position);
  ctx.emit(moved === undefined ? 'campaign.refunded' : 'campaign.refundBlocked', {
    campaignId: campaign.id,
    investor: position.investor,
    amount: amount.toString(),
    reason,
    ...(moved === undefined ? {} : { code: moved }),
  });
}

/**
 * Closes a round once no investor is pending; its entry in the due index goes with it (a round
 * closed early leaves nothing to settle at its point).
 */
function closeReconfirmation(ctx: Context, campaign: CampaignRecord): void {
  const round = campaign.reconfirmation!;
  assert.equal(round.pending, 0, `crowdfund ${campaign.id}: round closed with investors pending`);
  unindexDue(ctx.state, campaign.id, 'reconfirm', round.by);
  campaign.reconfirmation = null;
}

/** Takes an investor off the pending set; closes the round when it was the last. */
function unpend(ctx: Context, campaign: CampaignRecord, investor: string): void {
  setPending(ctx.state, campaign.id, investor, false);
  campaign.reconfirmation!.pending -= 1;
  if (campaign.reconfirmation!.pending === 0) closeReconfirmation(ctx, campaign);
}

/** Marks an investor as having accepted the current terms; closes the round when it is the last. */
export function reconfirmed(ctx: Context, campaign: CampaignRecord, investor: string): void {
  if (!isPending(ctx.state, campaign.id, investor)) return;
  ctx.emit('campaign.reconfirmed', {
    campaignId: campaign.id,
    investor,
    termsVersion: campaign.termsVersion,
  });
  unpend(ctx, campaign, investor);
}

/** Removes an investor from the investor and pending sets (after a refund). */
export function dropInvestor(ctx: Context, campaign: CampaignRecord, investor: string): void {
  setInvestor(ctx.state, campaign.id, investor, false);
  if (campaign.reconfirmation && isPending(ctx.state, campaign.id, investor)) {
    unpend(ctx, campaign, investor);
  }
}

type DueResult = 'done' | 'wait';

/** Refunds pending investors once the reconfirmation deadline is reached, within the budget. */
function settleReconfirmation(
  ctx: Context,
  campaign: CampaignRecord,
  clock: Clock,
  value: number,
  budget: { left: number },
): DueResult {
  const round = campaign.reconfirmation;
  if (campaign.status !== 'funding' || !round) return 'done';
  // An entry from an earlier round at another point: that round's own entry decides.
  if (clockOf(round.by) !== clock || pointValue(round.by) !== value) return 'done';
  // In address order, as many as the block's refunds allow; the rest wait for the next block.
  for (const investor of readPending(ctx.state, campaign.id, budget.left)) {
    budget.left -= 1;
    refund(ctx, campaign, readPosition(ctx.state, campaign.id, investor)!, 'notReconfirmed');
    setInvestor(ctx.state, campaign.id, investor, false);
    setPending(ctx.state, campaign.id, investor, false);
    round.pending -= 1;
  }
  if (round.pending > 0) {
    writeCampaign(ctx.state, campaign);
    return 'wait';
  }
  closeReconfirmation(ctx, campaign);
  writeCampaign(ctx.state, campaign);
  closeEarlyIfReached(ctx, campaign);
  return 'done';
}

/** The outcome at the deadline: success releases the escrow; a miss refunds every investor. */
function settleDeadline(
  ctx: Context,
  campaign: CampaignRecord,
  clock: Clock,
  value: number,
  budget: { left: number },
): DueResult {
  const { deadline } = campaign;
  // The deadline was amended: the entry at the new deadline decides.
  if (clockOf(deadline) !== clock || pointValue(deadline) !== value) return 'done';
  if (campaign.status === 'funding') {
    // Investors who did not reconfirm are refunded first; the outcome counts what remains.
    if (campaign.reconfirmation) return 'wait';
    if (big(campaign.raised) >= big(campaign.target)) {
      succeed(ctx, campaign, false);
      return 'done';
    }
    campaign.status = 'refunding';
    campaign.closedAtHeight = ctx.height;
    ctx.emit('campaign.failed', {
      campaignId: campaign.id,
      raised: campaign.raised,
      target: campaign.target,
      investors: campaign.investorCount,
    });
  }
  if (campaign.status !== 'refunding') return 'done';
  // In address order, as many as the block's refunds allow; the rest wait for the next block.
  for (const investor of readInvestors(ctx.state, campaign.id, budget.left)) {
    budget.left -= 1;
    refund(ctx, campaign, readPosition(ctx.state, campaign.id, investor)!, 'failed');
    setInvestor(ctx.state, campaign.id, investor, false);
  }
  if (campaign.investorCount === 0) campaign.status = 'failed';
  writeCampaign(ctx.state, campaign);
  return campaign.status === 'failed' ? 'done' : 'wait';
}

/**
 * Settles what is due on one clock. The due index has one key per entry, in due order; a block
 * reads its first entries at points up to now, at most what is left of `dueEntriesPerBlockMax`,
 * so it never reads an entry not yet due. An entry whose work is done (or moot: the deadline was
 * amended, the round closed) is deleted; one that waits (refunds past the block's
 * `refundsPerBlockMax`, an outcome behind an open reconfirmation) stays and is read again, in the
 * same order, by the next block.
 */
function settleClock(ctx: Context, clock: Clock, budget: { left: number; entries: number }): void {
  const now = clockNow(clock, ctx);
  for (const { key, entry } of readDue(ctx.state, clock, now, budget.entries)) {
    budget.entries -= 1;
    const campaign = readCampaign(ctx.state, entry.id);
    const result = !campaign
      ? 'done'
      : entry.kind === 'reconfirm'
        ? settleReconfirmation(ctx, campaign, clock, entry.value, budget)
        : settleDeadline(ctx, campaign, clock, entry.value, budget);
    if (result === 'done') ctx.state.delete(key);
  }
}

/** `beginBlock`: outcomes, reconfirmation refunds and failed-campaign refunds, bounded. */
export function settleDueCampaigns(ctx: BlockContext): void {
  const budget = { left: refundsPerBlockMax, entries: dueEntriesPerBlockMax };
  settleClock(ctx, 'height', budget);
  settleClock(ctx, 'time', budget);
}

export function producedCampaign(ctx: TxContext, id: string): CampaignRecord | CrowdfundRejection {
  const campaign = readCampaign(ctx.state, id);
  if (!campaign) return 'campaign_not_found';
  if (campaign.producer !== ctx.sender) return 'not_producer';
  return campaign;
}

/** The investors of a campaign and their principal, sorted by address: the pro-rata weights. */
export function investmentsOf(state: OrderedStateReader, campaignId: string): Investment[] {
  return readInvestors(state, campaignId).map((investor) => ({
    investor,
    principal: big(readPosition(state, campaignId, investor)!.principal),
  }));
}
