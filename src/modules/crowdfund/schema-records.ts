import { z } from 'zod';
import { wire } from '../../protocol/schema.js';
import { distributionRuleSchema, platformFeeSchema, schedulePointSchema } from './schema-terms.js';

/*
 * What the `/v1/campaigns` routes answer (routes.ts serializes each answer through its schema)
 * and the types the SDK publishes for them. Amounts are decimal strings of minor units.
 */

/** A decimal string of minor units (0 allowed) in an answer. */
const units = wire.minorUnitsText;
const recipientClass = z.enum(['investor', 'producer', 'account']);

/**
 * `funding`: open to investments. `succeeded`: released to the producer, taking revenue reports.
 * `refunding`: missed, refunds under way (bounded per block). `failed`: every investor refunded.
 */
export const campaignStatusSchema = z.enum(['funding', 'succeeded', 'refunding', 'failed']);
export type CampaignStatus = z.infer<typeof campaignStatusSchema>;

export const reconfirmationSchema = z.strictObject({
  /** The terms version investors must accept. */
  version: wire.count,
  /** Investors who have not by this point are refunded; same clock as the deadline. */
  by: schedulePointSchema,
  /** Investors still to reconfirm. */
  pending: wire.count,
});
export type Reconfirmation = z.infer<typeof reconfirmationSchema>;

/** `GET /v1/campaigns/{id}`: terms, status and running totals (the campaign's state record). */
export const campaignSchema = z.strictObject({
  id: z.string(),
  producer: z.string(),
  asset: z.string(),
  escrow: z.string(),
  title: z.string(),
  target: units,
  minInvestment: units,
  maxInvestment: units,
  opensAt: schedulePointSchema,
  deadline: schedulePointSchema,
  cancelWindow: wire.count,
  earlyClose: z.boolean(),
  platformFee: platformFeeSchema.nullable(),
  /** Sorted. */
  reporters: z.array(z.string()),
  distribution: distributionRuleSchema,
  createdAtHeight: wire.count,
  createdAt: wire.time,
  status: campaignStatusSchema,
  /** Principal of the active positions: what the escrow holds for investors. */
  raised: units,
  /** Refunds a block could not make (the investor's account was frozen); claimable. */
  owed: units,
  /**
   * Payouts a report could not make (the recipient's account was frozen), to investors, the
   * producer and fixed accounts together; claimable. Held in the escrow.
   */
  payoutOwed: units,
  investorCount: wire.count,
  /** Bumped by each amendment after the first investment. */
  termsVersion: wire.count,
  reconfirmation: reconfirmationSchema.nullable(),
  /** Set at success: total principal and the platform fee. */
  principal: units.nullable(),
  fee: units.nullable(),
  /** The release to the producer (and the fee) waits for a `campaign.claim`: an account was frozen. */
  releaseBlocked: z.boolean(),
  closedAtHeight: wire.count.nullable(),
  /** Cumulative reported revenue, and each tranche's cumulative fill at that revenue. */
  revenue: units,
  fills: z.array(units),
  reportCount: wire.count,
});
export type Campaign = z.infer<typeof campaignSchema>;

/** One line of `GET /v1/campaigns`. */
export const campaignSummarySchema = z.strictObject({
  number: wire.count,
  id: z.string(),
  title: z.string(),
  producer: z.string(),
  asset: z.string(),
  status: campaignStatusSchema,
  target: units,
  raised: units,
  deadline: schedulePointSchema,
  revenue: units,
});
export type CampaignSummary = z.infer<typeof campaignSummarySchema>;

/** `GET /v1/campaigns`: newest first; pass `next` as `before` for the next page. */
export const campaignPageSchema = z.strictObject({
  campaigns: z.array(campaignSummarySchema),
  /** Pass as `before` for the next (older) page; null when there is none. */
  next: wire.count.nullable(),
});
export type CampaignPage = z.infer<typeof campaignPageSchema>;

/** `GET /v1/campaigns`' query string, as sent (numbers in decimal). */
export const campaignListQuerySchema = z.strictObject({
  producer: z.string().optional(),
  status: campaignStatusSchema.optional(),
  before: z.string().optional(),
  /** 1 to 100 (default 20). */
  limit: z.string().optional(),
});

/** `client.campaigns.list`'s query: the query string with its numbers as numbers. */
export type CampaignListQuery = Omit<
  z.infer<typeof campaignListQuerySchema>,
  'before' | 'limit'
> & {
  before?: number;
  /** 1 to 100 (default 20). */
  limit?: number;
};

/** `GET /v1/campaigns/{id}/investors`: addresses with an active position, sorted. */
export const campaignInvestorsSchema = z.strictObject({
  campaignId: z.string(),
  investors: z.array(z.string()),
});
export type CampaignInvestors = z.infer<typeof campaignInvestorsSchema>;

/** One tranche's amount in a payout or a position. */
export const trancheAmountSchema = z.strictObject({
  tranche: wire.count,
  name: z.string(),
  amount: units,
});
export type TrancheAmount = z.infer<typeof trancheAmountSchema>;

export const investorPayoutSchema = z.strictObject({
  report: wire.count,
  reportId: z.string(),
  periodStart: wire.time,
  periodEnd: wire.time,
  /** This investor's lines of the report, by tranche: what the report gave it. */
  tranches: z.array(trancheAmountSchema),
  total: units,
  /** The account was frozen at the report: `total` stayed in the escrow, owed (`payoutOwed`). */
  blocked: z.boolean(),
});
export type InvestorPayout = z.infer<typeof investorPayoutSchema>;

/** `GET /v1/campaigns/{id}/investors/{address}`. */
export const campaignPositionSchema = z.strictObject({
  campaignId: z.string(),
  investor: z.string(),
  status: campaignStatusSchema,
  /** What the escrow holds for the investor now (its principal once the campaign succeeded). */
  principal: units,
  invested: units,
  refunded: units,
  /** A refund the chain could not make (the account was frozen), to claim. */
  owed: units,
  /**
   * `none`: no amendment to accept; `pending`: must reconfirm before `reconfirmBy`;
   * `confirmed`: accepted the current terms of an open round.
   */
  reconfirmation: z.enum(['none', 'pending', 'confirmed']),
  termsVersion: wire.count,
  // Not `.nullable()`: on a union it becomes `nullable` without a `type`, which the response
  // serializer refuses; a union with null is the same value set.
  reconfirmBy: z.union([schedulePointSchema, z.null()]),
  payouts: z.array(investorPayoutSchema),
  paidOut: units,
  paidOutByTranche: z.array(trancheAmountSchema),
  /** Payouts due that a report could not pay (the account was frozen), to claim. */
  payoutOwed: units,
  payoutOwedByTranche: z.array(trancheAmountSchema),
  /** `paidOut - principal at success`: positive once the investment has paid for itself. */
  net: z.string().regex(/^-?(0|[1-9][0-9]*)$/),
});
export type CampaignPosition = z.infer<typeof campaignPositionSchema>;

/** One tranche of a waterfall position: what a report added, its fill and what is left of its cap. */
export const tranchePositionSchema = z.strictObject({
  index: wire.count,
  name: z.string(),
  amount: units,
  fill: units,
  cap: units.nullable(),
  capRemaining: units.nullable(),
});
export type TranchePosition = z.infer<typeof tranchePositionSchema>;

/**
 * One payout line: what one tranche of one report gave one recipient. In a recorded report
 * `blocked: true` marks a line that could not be paid because the recipient was frozen: it was
 * held in the escrow as owed, to be claimed.
 */
export const payoutLineSchema = z.strictObject({
  tranche: wire.count,
  recipient: recipientClass,
  address: z.string(),
  amount: units,
  blocked: z.literal(true).optional(),
});
export type PayoutLine = z.infer<typeof payoutLineSchema>;

/** Payouts by class of recipient. */
export const payoutClassesSchema = z.strictObject({
  investors: units,
  producer: units,
  accounts: units,
});
export type PayoutClasses = z.infer<typeof payoutClassesSchema>;

export const campaignStatementEntrySchema = z.strictObject({
  report: wire.count,
  reportId: z.string(),
  reporter: z.string(),
  height: wire.count,
  periodStart: wire.time,
  periodEnd: wire.time,
  grossRevenue: units,
  cumulativeRevenue: units,
  /** The waterfall position after the report: each tranche's cumulative fill and cap left. */
  tranches: z.array(tranchePositionSchema),
  /** Payouts due by class; of the total, `paid` left the escrow and `blocked` stayed, owed. */
  byClass: payoutClassesSchema,
  paid: units,
  blocked: units,
  blockedByClass: payoutClassesSchema,
  /**
   * Payouts due to the producer and fixed accounts, `blocked: true` on those held as owed
   * (investors' lines are in their positions).
   */
  lines: z.array(payoutLineSchema),
});
export type CampaignStatementEntry = z.infer<typeof campaignStatementEntrySchema>;

/** What the campaign owes one address from payouts it could not make (a frozen account). */
export const owedPayoutSchema = z.strictObject({
  address: z.string(),
  /** `investor + other`: what `campaign.claim` pays the address. */
  amount: units,
  /** The investor's share (on its position) and the producer's or fixed-account share. */
  investor: units,
  other: units,
});
export type OwedPayout = z.infer<typeof owedPayoutSchema>;

/** `GET /v1/campaigns/{id}/statement`: the waterfall position after each report. */
export const campaignStatementSchema = z.strictObject({
  campaignId: z.string(),
  title: z.string(),
  asset: z.string(),
  status: campaignStatusSchema,
  target: units,
  raised: units,
  principal: units.nullable(),
  fee: units.nullable(),
  investors: wire.count,
  /** Refunds and payouts the campaign owes (held in the escrow until claimed). */
  refundsOwed: units,
  payoutsOwed: units,
  /** Each address owed a payout now, sorted. */
  owedPayouts: z.array(owedPayoutSchema),
  cumulativeRevenue: units,
  /**
   * The waterfall position now: each tranche's fill and cap, and as `amount` what the latest
   * report gave it (all zero before the first report).
   */
  tranches: z.array(tranchePositionSchema),
  reports: z.array(campaignStatementEntrySchema),
});
export type CampaignStatement = z.infer<typeof campaignStatementSchema>;

export const campaignChartPointSchema = z.strictObject({
  report: wire.count,
  reportId: z.string(),
  periodEnd: wire.time,
  cumulativeRevenue: units,
  /** Cumulative fill per tranche, in tranche order. */
  tranches: z.array(units),
  /** Cumulative payouts per class of recipient. */
  classes: payoutClassesSchema,
});
export type CampaignChartPoint = z.infer<typeof campaignChartPointSchema>;

/** `GET /v1/campaigns/{id}/chart`: one point per report, every value cumulative. */
export const campaignChartSchema = z.strictObject({
  campaignId: z.string(),
  asset: z.string(),
  trancheNames: z.array(z.string()),
  series: z.array(campaignChartPointSchema),
});
export type CampaignChart = z.infer<typeof campaignChartSchema>;

/** `POST /v1/campaigns/{id}/simulate`'s body. */
export const campaignSimulateBodySchema = z.strictObject({
  /** Minor units, a positive amount (checked by the route: `invalid_amount`). */
  revenue: z.string(),
});

/**
 * `POST /v1/campaigns/{id}/simulate`: what a report of that revenue would pay now, by the very
 * waterfall a report runs, without a tx. `lines` are by tranche, then address; `transfers` what
 * each address would receive in all.
 */
export const campaignSimulationSchema = z.strictObject({
  campaignId: z.string(),
  principal: units,
  cumulativeBefore: units,
  cumulativeAfter: units,
  tranches: z.array(tranchePositionSchema),
  lines: z.array(payoutLineSchema),
  transfers: z.array(z.strictObject({ address: z.string(), amount: units })),
  byClass: payoutClassesSchema,
});
export type CampaignSimulation = z.infer<typeof campaignSimulationSchema>;
