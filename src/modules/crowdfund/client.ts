import type { ClientCore } from '../../sdk/client.js';
import {
  checkCampaignId,
  minorUnitsText,
  type Campaign,
  type CampaignChart,
  type CampaignInvestors,
  type CampaignListQuery,
  type CampaignPage,
  type CampaignPosition,
  type CampaignSimulation,
  type CampaignStatement,
  type CrowdfundPayload,
  type MinorUnits,
  type SchedulePoint,
} from './schema.js';

/*
 * Movie investment campaigns (issue 6) from a client's side: the `campaigns` namespace (reads and
 * the payout simulation), the tx builders, and from schema.ts the campaign id and escrow, the
 * waterfall builders and the shapes the `/v1/campaigns` routes answer.
 *
 * The builders take amounts as a string or a bigint and write the decimal string; they check the
 * form of what they are given (amounts, ids, basis points as integers); the rules of a campaign
 * (shares that add up, a reachable last tranche, a schedule ahead of the chain) are the node's.
 */

/** What the SDK publishes of this module (src/sdk/index.ts exports it through ../clients.ts). */
export {
  atHeight,
  atTime,
  basisPointsWhole,
  campaignEscrow,
  campaignIdOf,
  isCampaignId,
  isReportId,
  minorUnitsMax,
  minorUnitsText,
  recoupWaterfall,
  waterfall,
  type Campaign,
  type CampaignChart,
  type CampaignChartPoint,
  type CampaignInvestors,
  type CampaignListQuery,
  type CampaignPage,
  type CampaignPosition,
  type CampaignSimulation,
  type CampaignStatement,
  type CampaignStatementEntry,
  type CampaignStatus,
  type CampaignSummary,
  type CrowdfundPayload,
  type DistributionRule,
  type InvestorPayout,
  type MinorUnits,
  type OwedPayout,
  type PayoutClasses,
  type PayoutLine,
  type PlatformFee,
  type Reconfirmation,
  type RecoupWaterfallTerms,
  type SchedulePoint,
  type TrancheAmount,
  type TrancheCap,
  type TranchePosition,
  type WaterfallRecipient,
  type WaterfallTranche,
} from './schema.js';

/**
 * The terms a producer sets at creation and may amend while funding, as `campaign.create` sends
 * them (schema.ts) but with amounts as a bigint or a decimal string of minor units. `cancelWindow`
 * is in the deadline's unit (blocks or milliseconds); `platformFee: null` (at amendment) removes
 * the fee; `reporters` are 1 to 10 accounts allowed to report revenue.
 */
export type CampaignTermsInput = Omit<
  CrowdfundPayload<'campaign.create'>,
  'asset' | 'target' | 'minInvestment' | 'maxInvestment'
> & {
  target: MinorUnits;
  /** Per investor: the smallest and largest total one investor may hold. */
  minInvestment: MinorUnits;
  maxInvestment: MinorUnits;
};

/** Drops undefined fields: the node refuses none, but a signed payload should say only what is. */
function defined<T extends Record<string, unknown>>(payload: T): T {
  return Object.fromEntries(Object.entries(payload).filter(([, v]) => v !== undefined)) as T;
}

function tx<T extends Record<string, unknown>>(type: string, payload: T) {
  return { type, payload: defined(payload) };
}

function termsPayload(terms: Partial<CampaignTermsInput>): Record<string, unknown> {
  const amount = (value: MinorUnits | undefined, field: string) =>
    value === undefined ? undefined : minorUnitsText(value, field);
  return defined({
    title: terms.title,
    target: amount(terms.target, 'target'),
    minInvestment: amount(terms.minInvestment, 'minInvestment'),
    maxInvestment: amount(terms.maxInvestment, 'maxInvestment'),
    opensAt: terms.opensAt,
    deadline: terms.deadline,
    cancelWindow: terms.cancelWindow,
    earlyClose: terms.earlyClose,
    platformFee: terms.platformFee,
    reporters: terms.reporters,
    distribution: terms.distribution,
  });
}

/**
 * Builders for the campaign tx types: `{type, payload}`, ready for `client.send(key, ...)` or
 * `signTx`. Who may send each is the module's rule: any account creates a campaign (it becomes
 * the producer) and invests; only the producer amends; an investor cancels, reconfirms and
 * claims; only the campaign's reporters report revenue, depositing it with the report.
 */
export const campaignTxs = {
  /** Any account, the producer; the campaign id is `campaignIdOf(hash of this tx)`. */
  create: (p: CampaignTermsInput & { asset: string }) =>
    tx<Record<string, unknown>>('campaign.create', { ...termsPayload(p), asset: p.asset }),
  /** Moves `amount` from the sender into the campaign's escrow. */
  invest: (p: { campaignId: string; amount: MinorUnits }) =>
    tx('campaign.invest', {
      campaignId: checkCampaignId(p.campaignId),
      amount: minorUnitsText(p.amount),
    }),
  /** The sender's whole position back, until the cancel window before the deadline. */
  cancelInvestment: (p: { campaignId: string }) =>
    tx('campaign.cancelInvestment', { campaignId: checkCampaignId(p.campaignId) }),
  /**
   * The producer changes terms (any but the asset) while funding. After the first investment,
   * `reconfirmBy` (on the deadline's clock, before it) is required: investors who have not
   * reconfirmed by then are refunded.
   */
  amend: (p: {
    campaignId: string;
    terms: Partial<CampaignTermsInput>;
    reconfirmBy?: SchedulePoint;
  }) =>
    tx('campaign.amend', {
      campaignId: checkCampaignId(p.campaignId),
      terms: termsPayload(p.terms),
      reconfirmBy: p.reconfirmBy,
    }),
  /** An investor accepts the amended terms. */
  reconfirm: (p: { campaignId: string }) =>
    tx('campaign.reconfirm', { campaignId: checkCampaignId(p.campaignId) }),
  /** A refund a block could not make (frozen account), or the producer's blocked release. */
  claim: (p: { campaignId: string }) =>
    tx('campaign.claim', { campaignId: checkCampaignId(p.campaignId) }),
  /**
   * A reporter deposits `grossRevenue` for the period (Unix ms) and the waterfall pays it out over
   * cumulative revenue. Applied once per `reportId`.
   */
  reportRevenue: (p: {
    campaignId: string;
    reportId: string;
    periodStart: number;
    periodEnd: number;
    grossRevenue: MinorUnits;
  }) =>
    tx('campaign.reportRevenue', {
      campaignId: checkCampaignId(p.campaignId),
      reportId: p.reportId,
      periodStart: p.periodStart,
      periodEnd: p.periodEnd,
      grossRevenue: minorUnitsText(p.grossRevenue, 'grossRevenue'),
    }),
} satisfies Record<string, (payload: never) => { type: string; payload: Record<string, unknown> }>;

/** The client's `campaigns` namespace. */
export function crowdfundClient(core: ClientCore) {
  const { request, segment, search } = core;
  return {
    /**
     * Movie investment campaigns (issue 6): reads and the payout simulation. Amounts are decimal
     * strings of minor units; writes are txs (`campaignTxs`) sent with `send`.
     */
    campaigns: {
      /** Campaigns newest first, by producer or status, a page at a time. */
      list: (query: CampaignListQuery = {}) =>
        request<CampaignPage>('GET', `/v1/campaigns${search(query)}`),
      /** The campaign's terms, status and totals, with its `escrow` account. */
      get: (id: string) => request<Campaign>('GET', `/v1/campaigns/${segment(id)}`),
      /** Addresses with an active position, sorted (the payout list once it succeeded). */
      investors: (id: string) =>
        request<CampaignInvestors>('GET', `/v1/campaigns/${segment(id)}/investors`),
      /** One investor's position: invested, refunded, owed, each payout by report and tranche. */
      position: (id: string, address: string) =>
        request<CampaignPosition>(
          'GET',
          `/v1/campaigns/${segment(id)}/investors/${segment(address)}`,
        ),
      /** The waterfall position now and after each revenue report. */
      statement: (id: string) =>
        request<CampaignStatement>('GET', `/v1/campaigns/${segment(id)}/statement`),
      /** Chart-ready series: per report, cumulative revenue per tranche and per class. */
      chart: (id: string) => request<CampaignChart>('GET', `/v1/campaigns/${segment(id)}/chart`),
      /**
       * Who would get what if a report of `revenue` (minor units) were applied now, without a tx.
       * A revenue that is not a positive amount throws the SDK's `CryptoInputError` first.
       */
      simulate: async (id: string, revenue: MinorUnits) =>
        request<CampaignSimulation>('POST', `/v1/campaigns/${segment(id)}/simulate`, {
          revenue: minorUnitsText(revenue, 'revenue'),
        }),
    },
  };
}
