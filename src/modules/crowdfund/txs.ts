import assert from 'node:assert/strict';
import {
  defineTx,
  payloadParser,
  payloadReaders,
  reject,
  type BlockContext,
  type Rejection,
  type TxContext,
  type TxDefinition,
} from '../../chain/index.js';
import { isAddress } from '../../crypto/index.js';
import { amountMax, escrowAddress, parsePositiveAmount } from '../../ledger/index.js';
import type { OrderedStateReader } from '../../state/index.js';
import type { CrowdfundRejection } from './rejections.js';
import {
  appendCampaign,
  basisPointsWhole,
  dueEntriesPerBlockMax,
  clockNow,
  clockOf,
  crowdfundModuleName,
  indexDue,
  investorsPerCampaignMax,
  isPending,
  pointValue,
  reached,
  readCampaign,
  readDue,
  readInvestors,
  readPayoutOwed,
  readPending,
  readPosition,
  readReportNumber,
  refundsPerBlockMax,
  reportersMax,
  reportsPerCampaignMax,
  scheduleHeightsMax,
  scheduleMsMax,
  setInvestor,
  setPayee,
  setPending,
  titleBytesMax,
  unindexDue,
  writeCampaign,
  writePayout,
  writePayoutOwed,
  writePosition,
  writeReport,
  type CampaignRecord,
  type CampaignTerms,
  type Clock,
  type PayoutLine,
  type PlatformFee,
  type PositionRecord,
  type SchedulePoint,
} from './state.js';
import { isText, parseDistribution, simulate, type Investment } from './waterfall.js';

/** A campaign's id: the first 16 hex digits of the hash of the tx that created it. */
export function campaignIdOf(txHash: string): string {
  return txHash.slice(0, 16);
}

/** The campaign's escrow account: it holds investments until the outcome, and revenue in transit. */
export function campaignEscrow(id: string): string {
  return escrowAddress(crowdfundModuleName, id);
}

const campaignIdPattern = /^[0-9a-f]{16}$/;
const reportIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function wholeFrom(v: unknown, min: number): v is number {
  return Number.isSafeInteger(v) && (v as number) >= min;
}

function parsePoint(v: unknown): SchedulePoint | Rejection {
  if (!isPlainObject(v) || Object.keys(v).length !== 1) return reject('invalid_schedule_point');
  if ('height' in v && wholeFrom(v.height, 1)) return { height: v.height };
  if ('time' in v && wholeFrom(v.time, 0)) return { time: v.time };
  return reject('invalid_schedule_point');
}

function parsePlatformFee(v: unknown): PlatformFee | null | Rejection {
  if (v === undefined || v === null) return null;
  if (!isPlainObject(v) || Object.keys(v).length !== 2) return reject('invalid_platform_fee');
  const { basisPoints, to } = v;
  if (!Number.isSafeInteger(basisPoints) || (basisPoints as number) < 1) {
    return reject('invalid_platform_fee');
  }
  if ((basisPoints as number) > 10_000 || !isAddress(to)) return reject('invalid_platform_fee');
  return { basisPoints: basisPoints as number, to };
}

/** Amounts are read as positive minor units and kept as canonical decimal strings. */
function amountText(v: unknown): string | Rejection {
  const amount = parsePositiveAmount(v);
  return amount === undefined ? reject('invalid_amount') : amount.toString();
}

const readers = {
  campaignId: (v: unknown) =>
    typeof v === 'string' && campaignIdPattern.test(v) ? v : reject('invalid_campaign_id'),
  title: (v: unknown) => (isText(v, titleBytesMax) ? v : reject('invalid_title')),
  asset: payloadReaders.symbol,
  amount: amountText,
  point: parsePoint,
  cancelWindow: (v: unknown) => (wholeFrom(v, 0) ? v : reject('invalid_cancel_window')),
  earlyClose: (v: unknown) => (typeof v === 'boolean' ? v : reject('invalid_early_close')),
  platformFee: parsePlatformFee,
  reporters: (v: unknown) =>
    Array.isArray(v) &&
    v.length >= 1 &&
    v.length <= reportersMax &&
    v.every((a) => isAddress(a)) &&
    new Set(v).size === v.length
      ? [...v].sort()
      : reject('invalid_reporters'),
  distribution: (v: unknown) => {
    const rule = parseDistribution(v);
    return typeof rule === 'string' ? reject(rule) : rule;
  },
  reportId: (v: unknown) =>
    typeof v === 'string' && reportIdPattern.test(v) ? v : reject('invalid_report_id'),
  periodTime: (v: unknown) => (wholeFrom(v, 0) ? v : reject('invalid_period')),
};

const termReaders = {
  title: readers.title,
  target: readers.amount,
  minInvestment: readers.amount,
  maxInvestment: readers.amount,
  opensAt: readers.point,
  deadline: readers.point,
  cancelWindow: readers.cancelWindow,
  earlyClose: readers.earlyClose,
  platformFee: readers.platformFee,
  reporters: readers.reporters,
  distribution: readers.distribution,
};

type Optional<T> = { [K in keyof T]: (v: unknown) => T[K] | Rejection | undefined };

/** The amendable terms, each optional (`platformFee: null` removes the fee). */
const amendReaders: Optional<CampaignTerms> = Object.fromEntries(
  Object.entries(termReaders).map(([key, read]) => [
    key,
    (v: unknown) => (v === undefined ? undefined : (read as (v: unknown) => unknown)(v)),
  ]),
) as Optional<CampaignTerms>;

// A fee omitted at amendment leaves the fee as it is; only an explicit null removes it.
amendReaders.platformFee = (v: unknown) => (v === undefined ? undefined : parsePlatformFee(v));

type Context = Pick<BlockContext, 'height' | 'time' | 'state' | 'ledger' | 'emit'>;

const big = (s: string) => BigInt(s);
const plus = (s: string, d: bigint) => (BigInt(s) + d).toString();

/** The point `amount` units before `point`, on the same clock. */
function before(point: SchedulePoint, amount: number): SchedulePoint {
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
function checkTerms(
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

function emptyPosition(campaignId: string, investor: string): PositionRecord {
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
function release(ctx: Context, campaign: CampaignRecord): boolean {
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
    ? (principal * BigInt(campaign.platformFee.basisPoints)) / basisPointsWhole
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
function closeEarlyIfReached(ctx: Context, campaign: CampaignRecord): void {
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
function refund(
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
function reconfirmed(ctx: Context, campaign: CampaignRecord, investor: string): void {
  if (!isPending(ctx.state, campaign.id, investor)) return;
  ctx.emit('campaign.reconfirmed', {
    campaignId: campaign.id,
    investor,
    termsVersion: campaign.termsVersion,
  });
  unpend(ctx, campaign, investor);
}

/** Removes an investor from the investor and pending sets (after a refund). */
function dropInvestor(ctx: Context, campaign: CampaignRecord, investor: string): void {
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

function producedCampaign(ctx: TxContext, id: string): CampaignRecord | CrowdfundRejection {
  const campaign = readCampaign(ctx.state, id);
  if (!campaign) return 'campaign_not_found';
  if (campaign.producer !== ctx.sender) return 'not_producer';
  return campaign;
}

interface AmendPayload {
  campaignId: string;
  terms: Partial<CampaignTerms>;
  reconfirmBy?: SchedulePoint;
}

interface ReportPayload {
  campaignId: string;
  reportId: string;
  periodStart: number;
  periodEnd: number;
  grossRevenue: string;
}

/** The investors of a campaign and their principal, sorted by address: the pro-rata weights. */
export function investmentsOf(state: OrderedStateReader, campaignId: string): Investment[] {
  return readInvestors(state, campaignId).map((investor) => ({
    investor,
    principal: big(readPosition(state, campaignId, investor)!.principal),
  }));
}

export const crowdfundTxs: Record<string, TxDefinition<never>> = {
  'campaign.create': defineTx<CampaignTerms & { asset: string }>({
    parse: (payload) => {
      const parsed = payloadParser({ ...termReaders, asset: readers.asset })(payload);
      if ('code' in parsed) return parsed;
      const { minInvestment, maxInvestment } = parsed.value;
      return big(minInvestment) > big(maxInvestment)
        ? reject('invalid_investment_limits', 'minInvestment')
        : parsed;
    },
    execute: (ctx, p) => {
      const id = campaignIdOf(ctx.txHash);
      if (readCampaign(ctx.state, id)) return 'campaign_exists';
      if (!ctx.ledger.asset(p.asset)) return 'asset_not_found';
      const escrow = campaignEscrow(id);
      const { asset, ...terms } = p;
      const invalid = checkTerms(ctx, terms, escrow);
      if (invalid) return invalid;
      const campaign: CampaignRecord = {
        id,
        producer: ctx.sender,
        asset,
        escrow,
        ...terms,
        createdAtHeight: ctx.height,
        createdAt: ctx.time,
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
      };
      writeCampaign(ctx.state, campaign);
      indexDue(ctx.state, id, 'deadline', campaign.deadline);
      appendCampaign(ctx.state, id);
      ctx.emit('campaign.created', {
        campaignId: id,
        producer: ctx.sender,
        asset,
        escrow,
        ...terms,
      });
      return undefined;
    },
  }),

  'campaign.invest': defineTx<{ campaignId: string; amount: string }>({
    parse: payloadParser({ campaignId: readers.campaignId, amount: readers.amount }),
    execute: (ctx, p) => {
      const campaign = readCampaign(ctx.state, p.campaignId);
      if (!campaign) return 'campaign_not_found';
      if (campaign.status !== 'funding') return 'campaign_not_funding';
      if (!reached(campaign.opensAt, ctx)) return 'campaign_not_open';
      if (reached(campaign.deadline, ctx)) return 'deadline_passed';
      const position =
        readPosition(ctx.state, campaign.id, ctx.sender) ?? emptyPosition(campaign.id, ctx.sender);
      const amount = big(p.amount);
      const total = big(position.principal) + amount;
      if (total < big(campaign.minInvestment)) return 'investment_below_minimum';
      if (total > big(campaign.maxInvestment)) return 'investment_above_maximum';
      const fresh = position.principal === '0';
      if (fresh && campaign.investorCount >= investorsPerCampaignMax) return 'too_many_investors';
      const moved = ctx.ledger.transfer(ctx.sender, campaign.escrow, campaign.asset, amount);
      if (moved) return moved;
      position.principal = total.toString();
      position.invested = plus(position.invested, amount);
      position.termsVersion = campaign.termsVersion;
      writePosition(ctx.state, position);
      if (fresh) {
        setInvestor(ctx.state, campaign.id, ctx.sender, true);
        campaign.investorCount += 1;
      }
      campaign.raised = plus(campaign.raised, amount);
      ctx.emit('campaign.invested', {
        campaignId: campaign.id,
        investor: ctx.sender,
        amount: p.amount,
        total: position.principal,
        raised: campaign.raised,
      });
      // Investing accepts the current terms: it reconfirms an open amendment.
      if (campaign.reconfirmation) reconfirmed(ctx, campaign, ctx.sender);
      writeCampaign(ctx.state, campaign);
      closeEarlyIfReached(ctx, campaign);
      return undefined;
    },
  }),

  'campaign.cancelInvestment': defineTx<{ campaignId: string }>({
    parse: payloadParser({ campaignId: readers.campaignId }),
    execute: (ctx, p) => {
      const campaign = readCampaign(ctx.state, p.campaignId);
      if (!campaign) return 'campaign_not_found';
      const position = readPosition(ctx.state, campaign.id, ctx.sender);
      if (!position || position.principal === '0') return 'position_not_found';
      if (campaign.status !== 'funding') return 'campaign_not_funding';
      if (reached(before(campaign.deadline, campaign.cancelWindow), ctx)) {
        return 'cancel_window_closed';
      }
      const amount = position.principal;
      const frozen = ctx.ledger.account(ctx.sender).frozen.includes(campaign.asset);
      if (frozen) return 'account_frozen';
      refund(ctx, campaign, position, 'cancelled');
      dropInvestor(ctx, campaign, ctx.sender);
      writeCampaign(ctx.state, campaign);
      ctx.emit('campaign.investmentCancelled', {
        campaignId: campaign.id,
        investor: ctx.sender,
        amount,
        raised: campaign.raised,
      });
      return undefined;
    },
  }),

  'campaign.amend': defineTx<AmendPayload>({
    parse: (payload) => {
      const parsed = payloadParser({
        campaignId: readers.campaignId,
        terms: (v: unknown) => {
          if (!isPlainObject(v) || Object.keys(v).length === 0) return reject('invalid_amendment');
          const terms = payloadParser(amendReaders)(v);
          return 'code' in terms ? terms : terms.value;
        },
        reconfirmBy: (v: unknown) => (v === undefined ? undefined : parsePoint(v)),
      })(payload);
      return parsed;
    },
    execute: (ctx, p) => {
      const campaign = producedCampaign(ctx, p.campaignId);
      if (typeof campaign === 'string') return campaign;
      if (campaign.status !== 'funding') return 'campaign_not_funding';
      if (campaign.reconfirmation) return 'reconfirmation_open';
      const previousDeadline = campaign.deadline;
      const terms: CampaignTerms = {
        title: p.terms.title ?? campaign.title,
        target: p.terms.target ?? campaign.target,
        minInvestment: p.terms.minInvestment ?? campaign.minInvestment,
        maxInvestment: p.terms.maxInvestment ?? campaign.maxInvestment,
        opensAt: p.terms.opensAt ?? campaign.opensAt,
        deadline: p.terms.deadline ?? campaign.deadline,
        cancelWindow: p.terms.cancelWindow ?? campaign.cancelWindow,
        earlyClose: p.terms.earlyClose ?? campaign.earlyClose,
        platformFee: p.terms.platformFee === undefined ? campaign.platformFee : p.terms.platformFee,
        reporters: p.terms.reporters ?? campaign.reporters,
        distribution: p.terms.distribution ?? campaign.distribution,
      };
      const invalid = checkTerms(ctx, terms, campaign.escrow);
      if (invalid) return invalid;
      const reconfirm = campaign.investorCount > 0;
      if (reconfirm) {
        const by = p.reconfirmBy;
        if (!by || clockOf(by) !== clockOf(terms.deadline)) return 'invalid_reconfirm_by';
        if (reached(by, ctx) || pointValue(by) >= pointValue(terms.deadline)) {
          return 'invalid_reconfirm_by';
        }
      }
      Object.assign(campaign, terms);
      if (reconfirm) {
        const investors = readInvestors(ctx.state, campaign.id);
        campaign.termsVersion += 1;
        campaign.reconfirmation = {
          version: campaign.termsVersion,
          by: p.reconfirmBy!,
          pending: investors.length,
        };
        for (const investor of investors) setPending(ctx.state, campaign.id, investor, true);
        indexDue(ctx.state, campaign.id, 'reconfirm', p.reconfirmBy!);
      }
      // The index keeps one deadline entry per campaign: the old point leaves it.
      if (JSON.stringify(previousDeadline) !== JSON.stringify(campaign.deadline)) {
        unindexDue(ctx.state, campaign.id, 'deadline', previousDeadline);
        indexDue(ctx.state, campaign.id, 'deadline', campaign.deadline);
      }
      writeCampaign(ctx.state, campaign);
      ctx.emit('campaign.amended', {
        campaignId: campaign.id,
        amended: Object.keys(p.terms).sort(),
        terms,
        termsVersion: campaign.termsVersion,
        reconfirmBy: reconfirm ? p.reconfirmBy! : null,
      });
      // With no investor the amendment applies at once; a lower target may close it now.
      closeEarlyIfReached(ctx, campaign);
      return undefined;
    },
  }),

  'campaign.reconfirm': defineTx<{ campaignId: string }>({
    parse: payloadParser({ campaignId: readers.campaignId }),
    execute: (ctx, p) => {
      const campaign = readCampaign(ctx.state, p.campaignId);
      if (!campaign) return 'campaign_not_found';
      const position = readPosition(ctx.state, campaign.id, ctx.sender);
      if (!position || position.principal === '0') return 'position_not_found';
      if (campaign.status !== 'funding') return 'campaign_not_funding';
      const round = campaign.reconfirmation;
      if (!round || position.termsVersion === round.version) return 'nothing_to_reconfirm';
      if (reached(round.by, ctx)) return 'reconfirmation_closed';
      const principal = big(position.principal);
      if (principal < big(campaign.minInvestment) || principal > big(campaign.maxInvestment)) {
        return 'position_outside_terms';
      }
      position.termsVersion = round.version;
      writePosition(ctx.state, position);
      reconfirmed(ctx, campaign, ctx.sender);
      writeCampaign(ctx.state, campaign);
      closeEarlyIfReached(ctx, campaign);
      return undefined;
    },
  }),

  'campaign.reportRevenue': defineTx<ReportPayload>({
    parse: (payload) => {
      const parsed = payloadParser({
        campaignId: readers.campaignId,
        reportId: readers.reportId,
        periodStart: readers.periodTime,
        periodEnd: readers.periodTime,
        grossRevenue: readers.amount,
      })(payload);
      if ('code' in parsed) return parsed;
      return parsed.value.periodStart < parsed.value.periodEnd
        ? parsed
        : reject('invalid_period', 'periodEnd');
    },
    execute: (ctx, p) => {
      const campaign = readCampaign(ctx.state, p.campaignId);
      if (!campaign) return 'campaign_not_found';
      if (!campaign.reporters.includes(ctx.sender)) return 'not_reporter';
      // Reached but still funding (no early close): the outcome comes at the deadline, so say
      // that rather than "not succeeded", which reads as a missed target.
      if (campaign.status === 'funding' && big(campaign.raised) >= big(campaign.target)) {
        return 'campaign_not_closed';
      }
      if (campaign.status !== 'succeeded') return 'campaign_not_succeeded';
      if (readReportNumber(ctx.state, campaign.id, p.reportId) !== undefined) {
        return 'duplicate_report';
      }
      if (campaign.reportCount >= reportsPerCampaignMax) return 'too_many_reports';
      const gross = big(p.grossRevenue);
      const cumulative = big(campaign.revenue);
      if (cumulative + gross > amountMax) return 'revenue_too_large';
      const result = simulate(campaign, investmentsOf(ctx.state, campaign.id), cumulative, gross);
      // A frozen escrow (or reporter) refuses the deposit: the report is refused whole.
      const deposited = ctx.ledger.transfer(ctx.sender, campaign.escrow, campaign.asset, gross);
      if (deposited) return deposited;
      const number = campaign.reportCount;
      // The escrow now holds the gross and is not frozen, so only a frozen recipient stops a
      // transfer: its whole amount stays in the escrow, owed.
      const blocked = new Set<string>();
      for (const { address, amount } of result.transfers) {
        const paid = ctx.ledger.transfer(campaign.escrow, address, campaign.asset, amount);
        assert.ok(
          paid === undefined || paid === 'account_frozen',
          `crowdfund ${campaign.id}: payout to ${address}: ${paid}`,
        );
        if (paid) blocked.add(address);
      }
      const lines: PayoutLine[] = result.lines.map((line) =>
        blocked.has(line.address) ? { ...line, blocked: true } : line,
      );
      const blockedByClass = { investors: 0n, producer: 0n, accounts: 0n };
      const byInvestor = new Map<string, PayoutLine[]>();
      const owedOthers = new Map<string, bigint>();
      for (const line of lines) {
        if (line.blocked) {
          const amount = big(line.amount);
          if (line.recipient === 'investor') blockedByClass.investors += amount;
          else if (line.recipient === 'producer') blockedByClass.producer += amount;
          else blockedByClass.accounts += amount;
          if (line.recipient !== 'investor') {
            owedOthers.set(line.address, (owedOthers.get(line.address) ?? 0n) + amount);
          }
        }
        if (line.recipient !== 'investor') continue;
        byInvestor.set(line.address, [...(byInvestor.get(line.address) ?? []), line]);
      }
      for (const [investor, investorLines] of [...byInvestor.entries()].sort(([a], [b]) =>
        a < b ? -1 : 1,
      )) {
        const position = readPosition(ctx.state, campaign.id, investor)!;
        const owed = blocked.has(investor);
        const field = owed ? 'payoutOwedByTranche' : 'paidOutByTranche';
        const byTranche = campaign.distribution.tranches.map((_, t) =>
          big(position[field][t] ?? '0'),
        );
        let total = 0n;
        for (const line of investorLines) {
          byTranche[line.tranche]! += big(line.amount);
          total += big(line.amount);
        }
        position[field] = byTranche.map(String);
        if (owed) position.payoutOwed = plus(position.payoutOwed, total);
        else position.paidOut = plus(position.paidOut, total);
        writePosition(ctx.state, position);
        writePayout(ctx.state, campaign.id, number, investor, investorLines);
      }
      for (const [address, amount] of [...owedOthers.entries()].sort(([a], [b]) =>
        a < b ? -1 : 1,
      )) {
        const record = readPayoutOwed(ctx.state, campaign.id, address);
        writePayoutOwed(ctx.state, {
          campaignId: campaign.id,
          address,
          amount: plus(record?.amount ?? '0', amount),
        });
      }
      for (const address of [...blocked].sort()) setPayee(ctx.state, campaign.id, address, true);
      const blockedTotal =
        blockedByClass.investors + blockedByClass.producer + blockedByClass.accounts;
      campaign.payoutOwed = plus(campaign.payoutOwed, blockedTotal);
      campaign.revenue = result.cumulativeAfter.toString();
      campaign.fills = result.tranches.map((t) => t.fillAfter.toString());
      campaign.reportCount += 1;
      writeCampaign(ctx.state, campaign);
      const tranches = result.tranches.map((t) => ({
        index: t.index,
        name: t.name,
        amount: t.amount.toString(),
        fill: t.fillAfter.toString(),
        cap: t.cap === null ? null : t.cap.toString(),
        capRemaining: t.capRemaining === null ? null : t.capRemaining.toString(),
      }));
      const byClass = {
        investors: result.byClass.investors.toString(),
        producer: result.byClass.producer.toString(),
        accounts: result.byClass.accounts.toString(),
      };
      const paidTotal = (gross - blockedTotal).toString();
      writeReport(ctx.state, {
        campaignId: campaign.id,
        number,
        reportId: p.reportId,
        reporter: ctx.sender,
        txHash: ctx.txHash,
        height: ctx.height,
        time: ctx.time,
        periodStart: p.periodStart,
        periodEnd: p.periodEnd,
        grossRevenue: p.grossRevenue,
        cumulativeRevenue: campaign.revenue,
        tranches,
        byClass,
        paid: paidTotal,
        blocked: blockedTotal.toString(),
        blockedByClass: {
          investors: blockedByClass.investors.toString(),
          producer: blockedByClass.producer.toString(),
          accounts: blockedByClass.accounts.toString(),
        },
        lines: lines.filter((l) => l.recipient !== 'investor'),
      });
      ctx.emit('campaign.revenueReported', {
        campaignId: campaign.id,
        reportId: p.reportId,
        report: number,
        reporter: ctx.sender,
        periodStart: p.periodStart,
        periodEnd: p.periodEnd,
        grossRevenue: p.grossRevenue,
        cumulativeRevenue: campaign.revenue,
        tranches,
        byClass,
        paid: paidTotal,
        blocked: blockedTotal.toString(),
      });
      for (const { address, amount } of result.transfers) {
        const owed = blocked.has(address);
        ctx.emit(owed ? 'campaign.payoutBlocked' : 'campaign.paidOut', {
          campaignId: campaign.id,
          reportId: p.reportId,
          address,
          amount: amount.toString(),
          lines: result.lines
            .filter((l) => l.address === address)
            .map((l) => ({ tranche: l.tranche, recipient: l.recipient, amount: l.amount })),
          ...(owed ? { code: 'account_frozen' } : {}),
        });
      }
      return undefined;
    },
  }),

  'campaign.claim': defineTx<{ campaignId: string }>({
    parse: payloadParser({ campaignId: readers.campaignId }),
    execute: (ctx, p) => {
      const campaign = readCampaign(ctx.state, p.campaignId);
      if (!campaign) return 'campaign_not_found';
      const position = readPosition(ctx.state, campaign.id, ctx.sender);
      const refundOwed = position ? big(position.owed) : 0n;
      const investorPayout = position ? big(position.payoutOwed) : 0n;
      const record = readPayoutOwed(ctx.state, campaign.id, ctx.sender);
      const otherPayout = record ? big(record.amount) : 0n;
      const payout = investorPayout + otherPayout;
      const releasable = campaign.producer === ctx.sender && campaign.releaseBlocked;
      if (refundOwed === 0n && payout === 0n && !releasable) return 'nothing_to_claim';
      const frozen = (address: string) =>
        ctx.ledger.account(address).frozen.includes(campaign.asset);
      // Pays every claim that can move now; refused only when none can (the sender or the
      // escrow is frozen, or the release waits on a frozen fee account and nothing else is owed).
      let claimed = false;
      if (!frozen(campaign.escrow) && !frozen(ctx.sender)) {
        if (refundOwed > 0n) {
          const moved = ctx.ledger.transfer(
            campaign.escrow,
            ctx.sender,
            campaign.asset,
            refundOwed,
          );
          assert.equal(moved, undefined, `crowdfund ${campaign.id}: refund claim: ${moved}`);
          position!.owed = '0';
          position!.refunded = plus(position!.refunded, refundOwed);
          campaign.owed = plus(campaign.owed, -refundOwed);
          ctx.emit('campaign.refunded', {
            campaignId: campaign.id,
            investor: ctx.sender,
            amount: refundOwed.toString(),
            reason: 'claimed',
          });
        }
        if (payout > 0n) {
          const moved = ctx.ledger.transfer(campaign.escrow, ctx.sender, campaign.asset, payout);
          assert.equal(moved, undefined, `crowdfund ${campaign.id}: payout claim: ${moved}`);
          if (investorPayout > 0n) {
            const byTranche = campaign.distribution.tranches.map(
              (_, t) =>
                big(position!.paidOutByTranche[t] ?? '0') +
                big(position!.payoutOwedByTranche[t] ?? '0'),
            );
            position!.paidOut = plus(position!.paidOut, investorPayout);
            position!.paidOutByTranche = byTranche.map(String);
            position!.payoutOwed = '0';
            position!.payoutOwedByTranche = [];
          }
          if (record) writePayoutOwed(ctx.state, { ...record, amount: '0' });
          setPayee(ctx.state, campaign.id, ctx.sender, false);
          campaign.payoutOwed = plus(campaign.payoutOwed, -payout);
          ctx.emit('campaign.payoutClaimed', {
            campaignId: campaign.id,
            address: ctx.sender,
            amount: payout.toString(),
            investor: investorPayout.toString(),
            other: otherPayout.toString(),
          });
        }
        if (position && (refundOwed > 0n || investorPayout > 0n)) {
          writePosition(ctx.state, position);
        }
        claimed = refundOwed > 0n || payout > 0n;
      }
      if (releasable && release(ctx, campaign)) {
        campaign.releaseBlocked = false;
        claimed = true;
        ctx.emit('campaign.released', {
          campaignId: campaign.id,
          producer: campaign.producer,
          released: (big(campaign.principal!) - big(campaign.fee!)).toString(),
          fee: campaign.fee,
        });
      }
      if (!claimed) return 'account_frozen';
      writeCampaign(ctx.state, campaign);
      return undefined;
    },
  }),
};
