import { CryptoInputError, deriveAddress, isAddress } from '../crypto/index.js';

/**
 * Movie investment campaigns (issue 6) from a client's side: the tx builders, the campaign id and
 * escrow address, a builder for the common distribution waterfall, and the shapes the
 * `/v1/campaigns` routes answer. The SDK imports no module code, so the two functions the module
 * also has (`campaignIdOf`, `campaignEscrow`) are written again here; the tests check that both
 * give the same results and that every builder's payload passes the module's parser.
 *
 * Amounts travel as decimal strings of minor units (`"7450"` is 74.50 of a 2-decimal asset); the
 * builders take a string or a bigint and write the string. The builders check the form of what
 * they are given (amounts, ids, basis points as integers); the rules of a campaign (shares that
 * add up, a reachable last tranche, a schedule ahead of the chain) are the node's to check.
 */

// ---- amounts, ids and schedule points ----------------------------------------------------------

/** An amount of minor units as a bigint, or a decimal string of one. */
export type MinorUnits = bigint | string;

/** The largest amount the ledger carries (`2^127 - 1`), as src/ledger/amount.ts. */
export const minorUnitsMax = 2n ** 127n - 1n;

const minorUnitsPattern = /^(0|[1-9][0-9]{0,38})$/;
const campaignIdPattern = /^[0-9a-f]{16}$/;
const hashPattern = /^[0-9a-f]{64}$/;
const reportIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

/** The decimal string of a positive amount of minor units; a `CryptoInputError` naming `field`. */
export function minorUnitsText(amount: MinorUnits, field = 'amount'): string {
  const text = typeof amount === 'bigint' ? amount.toString() : amount;
  if (
    typeof text !== 'string' ||
    !minorUnitsPattern.test(text) ||
    BigInt(text) <= 0n ||
    BigInt(text) > minorUnitsMax
  ) {
    throw new CryptoInputError(
      field,
      `${field} must be a positive whole number of minor units up to 2^127 - 1, as a bigint or a decimal string such as "7450"`,
    );
  }
  return text;
}

/** True for a campaign id: 16 lowercase hex digits. */
export function isCampaignId(value: unknown): boolean {
  return typeof value === 'string' && campaignIdPattern.test(value);
}

/** True for a revenue report id: 1 to 64 characters A-Z, a-z, 0-9, `-` and `_`. */
export function isReportId(value: unknown): boolean {
  return typeof value === 'string' && reportIdPattern.test(value);
}

/** A campaign's id: the first 16 hex digits of the hash of its `campaign.create` tx. */
export function campaignIdOf(createTxHash: string): string {
  if (typeof createTxHash !== 'string' || !hashPattern.test(createTxHash)) {
    throw new CryptoInputError('createTxHash', 'createTxHash must be 64 lowercase hex digits');
  }
  return createTxHash.slice(0, 16);
}

/**
 * The campaign's escrow account, which no key controls: it holds the investments until the
 * outcome, and revenue in transit. `deriveAddress('escrow/crowdfund', id)`, as the ledger's
 * `escrowAddress('crowdfund', id)`.
 */
export function campaignEscrow(campaignId: string): string {
  checkCampaignId(campaignId);
  return deriveAddress('escrow/crowdfund', campaignId);
}

function checkCampaignId(campaignId: unknown, field = 'campaignId'): string {
  if (!isCampaignId(campaignId)) {
    throw new CryptoInputError(field, `${field} must be 16 lowercase hex digits`);
  }
  return campaignId as string;
}

/**
 * A point on one of the chain's two clocks. `{height}`: reached at the block of that height.
 * `{time}` (Unix ms, block time): reached at the first block whose time is at or past it.
 */
export type SchedulePoint = { height: number } | { time: number };

/** The point at block `height`. */
export function atHeight(height: number): SchedulePoint {
  if (!Number.isSafeInteger(height) || height < 1) {
    throw new CryptoInputError('height', 'height must be a whole number from 1');
  }
  return { height };
}

/** The point at block time `time` (a Date or Unix milliseconds). */
export function atTime(time: Date | number): SchedulePoint {
  const ms = time instanceof Date ? time.getTime() : time;
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new CryptoInputError('time', 'time must be a valid Date or whole Unix milliseconds');
  }
  return { time: ms };
}

// ---- the distribution waterfall ----------------------------------------------------------------

/** 100% in basis points. */
export const basisPointsWhole = 10_000;

/**
 * A tranche's cap: a share of the campaign's total principal in basis points (10000 is the
 * principal itself, rounded down), or an absolute amount of minor units.
 */
export type TrancheCap = { principalBasisPoints: number } | { amount: string };

/**
 * Who shares a tranche, with a weight in basis points (a tranche's weights sum to 10000).
 * `investors`: all investors, pro rata to principal. `producer`: the campaign's producer.
 * `account`: a fixed account (a distributor, a sales agent).
 */
export type WaterfallRecipient =
  | { kind: 'investors'; weightBasisPoints: number }
  | { kind: 'producer'; weightBasisPoints: number }
  | { kind: 'account'; address: string; weightBasisPoints: number };

export interface WaterfallTranche {
  /** 1 to 40 bytes. */
  name: string;
  /** Share of what remains of cumulative revenue when this tranche is reached, 1 to 10000. */
  shareBasisPoints: number;
  cap?: TrancheCap;
  recipients: WaterfallRecipient[];
}

/**
 * A waterfall over cumulative revenue (1 to 8 tranches): tranche by tranche, each takes its share
 * of what is left, up to its cap. The last tranche must take all that remains (share 10000, no
 * cap), so no revenue is unassigned.
 */
export interface DistributionRule {
  tranches: WaterfallTranche[];
}

/** `Array.isArray` without narrowing a typed array to `any[]`. */
function isList(value: unknown): boolean {
  return Array.isArray(value);
}

function checkBasisPoints(value: unknown, field: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
    throw new CryptoInputError(
      field,
      `${field} must be a whole number of basis points from ${min} to ${max}`,
    );
  }
  return value as number;
}

/**
 * A distribution rule from its tranches, copied as data. Only the form is checked here (an array
 * of tranches with integer basis points); whether the rule holds (weights that sum to 10000, a
 * last tranche that takes the rest) is checked by the node at `campaign.create`, which answers
 * the rule broken (`invalid_tranche_weights`, `distribution_leaves_remainder`, ...).
 */
export function waterfall(tranches: readonly WaterfallTranche[]): DistributionRule {
  if (!isList(tranches) || tranches.length === 0) {
    throw new CryptoInputError('tranches', 'tranches must be a non-empty array');
  }
  return {
    tranches: tranches.map((t, i) => {
      const field = `tranches[${i}]`;
      if (typeof t !== 'object' || t === null || typeof t.name !== 'string') {
        throw new CryptoInputError(`${field}.name`, `${field} must be a tranche with a name`);
      }
      checkBasisPoints(t.shareBasisPoints, `${field}.shareBasisPoints`, 1, basisPointsWhole);
      if (!isList(t.recipients)) {
        throw new CryptoInputError(`${field}.recipients`, `${field}.recipients must be an array`);
      }
      const recipients = t.recipients.map((r, k): WaterfallRecipient => {
        const weight = checkBasisPoints(
          r.weightBasisPoints,
          `${field}.recipients[${k}].weightBasisPoints`,
          1,
          basisPointsWhole,
        );
        if (r.kind === 'account') {
          if (!isAddress(r.address)) {
            throw new CryptoInputError(
              `${field}.recipients[${k}].address`,
              'an account recipient needs a Coffer address',
            );
          }
          return { kind: 'account', address: r.address, weightBasisPoints: weight };
        }
        if (r.kind !== 'investors' && r.kind !== 'producer') {
          throw new CryptoInputError(
            `${field}.recipients[${k}].kind`,
            'a recipient kind is investors, producer or account',
          );
        }
        return { kind: r.kind, weightBasisPoints: weight };
      });
      const cap =
        t.cap === undefined
          ? undefined
          : 'amount' in t.cap
            ? { amount: minorUnitsText(t.cap.amount, `${field}.cap.amount`) }
            : {
                principalBasisPoints: checkBasisPoints(
                  t.cap.principalBasisPoints,
                  `${field}.cap.principalBasisPoints`,
                  1,
                  1_000_000,
                ),
              };
      return {
        name: t.name,
        shareBasisPoints: t.shareBasisPoints,
        ...(cap === undefined ? {} : { cap }),
        recipients,
      };
    }),
  };
}

/** The terms of `recoupWaterfall`: the collection-account waterfall of a film, in basis points. */
export interface RecoupWaterfallTerms {
  /** Taken first from revenue (a distribution fee), to a fixed account. */
  distributionFee?: { basisPoints: number; to: string };
  /** How much of their principal investors recoup, pro rata, before anyone else: default 10000. */
  recoupBasisPoints?: number;
  /** Then a premium to investors, pro rata, as a share of principal: 0 (the default) for none. */
  premiumBasisPoints?: number;
  /** The rest: investors' share (pro rata), the producer taking the remainder. */
  investorsShareBasisPoints: number;
}

/**
 * The usual film waterfall as data: a distribution fee (a share of revenue) to an account; then
 * investors recoup their principal pro rata (capped at `recoupBasisPoints` of principal); then a
 * premium (capped at `premiumBasisPoints` of principal); then the rest split between investors
 * (pro rata) and the producer. The example, a 30% fee, 100% recoup, a 20% premium and
 * 50/50, is `recoupWaterfall({distributionFee: {basisPoints: 3000, to}, premiumBasisPoints: 2000,
 * investorsShareBasisPoints: 5000})`.
 */
export function recoupWaterfall(terms: RecoupWaterfallTerms): DistributionRule {
  const tranches: WaterfallTranche[] = [];
  if (terms.distributionFee !== undefined) {
    const { basisPoints, to } = terms.distributionFee;
    checkBasisPoints(basisPoints, 'distributionFee.basisPoints', 1, basisPointsWhole - 1);
    if (!isAddress(to)) {
      throw new CryptoInputError(
        'distributionFee.to',
        'distributionFee.to must be a Coffer address',
      );
    }
    tranches.push({
      name: 'distribution fee',
      shareBasisPoints: basisPoints,
      recipients: [{ kind: 'account', address: to, weightBasisPoints: basisPointsWhole }],
    });
  }
  const recoup = checkBasisPoints(
    terms.recoupBasisPoints ?? basisPointsWhole,
    'recoupBasisPoints',
    1,
    1_000_000,
  );
  tranches.push({
    name: 'recoup',
    shareBasisPoints: basisPointsWhole,
    cap: { principalBasisPoints: recoup },
    recipients: [{ kind: 'investors', weightBasisPoints: basisPointsWhole }],
  });
  const premium = checkBasisPoints(
    terms.premiumBasisPoints ?? 0,
    'premiumBasisPoints',
    0,
    1_000_000,
  );
  if (premium > 0) {
    tranches.push({
      name: 'premium',
      shareBasisPoints: basisPointsWhole,
      cap: { principalBasisPoints: premium },
      recipients: [{ kind: 'investors', weightBasisPoints: basisPointsWhole }],
    });
  }
  const investors = checkBasisPoints(
    terms.investorsShareBasisPoints,
    'investorsShareBasisPoints',
    0,
    basisPointsWhole,
  );
  const producer = basisPointsWhole - investors;
  tranches.push({
    name: 'profit',
    shareBasisPoints: basisPointsWhole,
    recipients: [
      ...(investors > 0 ? [{ kind: 'investors' as const, weightBasisPoints: investors }] : []),
      ...(producer > 0 ? [{ kind: 'producer' as const, weightBasisPoints: producer }] : []),
    ],
  });
  return { tranches };
}

// ---- tx payloads and builders ------------------------------------------------------------------

export interface PlatformFee {
  /** 1 to 10000 of the principal raised, taken at success. */
  basisPoints: number;
  to: string;
}

/** The terms a producer sets at creation and may amend while funding (amounts in minor units). */
export interface CampaignTermsInput {
  /** 1 to 120 bytes. */
  title: string;
  target: MinorUnits;
  /** Per investor: the smallest and largest total one investor may hold. */
  minInvestment: MinorUnits;
  maxInvestment: MinorUnits;
  opensAt: SchedulePoint;
  deadline: SchedulePoint;
  /**
   * Cancellation stops this long before the deadline, in the deadline's unit: blocks for a
   * height deadline, milliseconds for a time deadline.
   */
  cancelWindow: number;
  /** Close as soon as the target is reached, rather than at the deadline. */
  earlyClose: boolean;
  /** Taken from the principal at success; null (at amendment) removes it. */
  platformFee?: PlatformFee | null;
  /** 1 to 10 accounts allowed to report revenue. */
  reporters: string[];
  distribution: DistributionRule;
}

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

// ---- what the API answers (src/node/crowdfund-api.ts) ------------------------------------------

/**
 * `funding`: open to investments. `succeeded`: released to the producer, taking revenue reports.
 * `refunding`: missed, refunds under way (bounded per block). `failed`: every investor refunded.
 */
export type CampaignStatus = 'funding' | 'succeeded' | 'refunding' | 'failed';

export interface Reconfirmation {
  /** The terms version investors must accept. */
  version: number;
  /** Investors who have not by this point are refunded; same clock as the deadline. */
  by: SchedulePoint;
  /** Investors still to reconfirm. */
  pending: number;
}

/** `GET /v1/campaigns/{id}`: terms, status and running totals. Amounts in minor units. */
export interface Campaign {
  id: string;
  producer: string;
  asset: string;
  escrow: string;
  title: string;
  target: string;
  minInvestment: string;
  maxInvestment: string;
  opensAt: SchedulePoint;
  deadline: SchedulePoint;
  cancelWindow: number;
  earlyClose: boolean;
  platformFee: PlatformFee | null;
  /** Sorted. */
  reporters: string[];
  distribution: DistributionRule;
  createdAtHeight: number;
  createdAt: number;
  status: CampaignStatus;
  /** Principal of the active positions: what the escrow holds for investors. */
  raised: string;
  /** Refunds a block could not make (the investor's account was frozen); claimable. */
  owed: string;
  investorCount: number;
  termsVersion: number;
  reconfirmation: Reconfirmation | null;
  /** Set at success: total principal and the platform fee. */
  principal: string | null;
  fee: string | null;
  /** The release waits for a `campaign.claim` from the producer (an account was frozen). */
  releaseBlocked: boolean;
  closedAtHeight: number | null;
  /** Cumulative reported revenue, and each tranche's cumulative fill at that revenue. */
  revenue: string;
  fills: string[];
  reportCount: number;
  /** Payouts a report could not make (a frozen recipient), held in the escrow until claimed. */
  payoutOwed: string;
}

/** One line of `GET /v1/campaigns`. */
export interface CampaignSummary {
  number: number;
  id: string;
  title: string;
  producer: string;
  asset: string;
  status: CampaignStatus;
  target: string;
  raised: string;
  deadline: SchedulePoint;
  revenue: string;
}

/** `GET /v1/campaigns`: newest first; pass `next` as `before` for the next page. */
export interface CampaignPage {
  campaigns: CampaignSummary[];
  next: number | null;
}

export interface CampaignListQuery {
  producer?: string;
  status?: CampaignStatus;
  before?: number;
  /** 1 to 100 (default 20). */
  limit?: number;
}

/** `GET /v1/campaigns/{id}/investors`: addresses with an active position, sorted. */
export interface CampaignInvestors {
  campaignId: string;
  investors: string[];
}

/** One tranche's amount in a payout or a position. */
export interface TrancheAmount {
  tranche: number;
  name: string;
  amount: string;
}

export interface InvestorPayout {
  report: number;
  reportId: string;
  periodStart: number;
  periodEnd: number;
  /** This investor's lines of the report, by tranche: what the report gave it. */
  tranches: TrancheAmount[];
  total: string;
  /** The account was frozen at the report: `total` stayed in the escrow, owed (`payoutOwed`). */
  blocked: boolean;
}

/** `GET /v1/campaigns/{id}/investors/{address}`. */
export interface CampaignPosition {
  campaignId: string;
  investor: string;
  status: CampaignStatus;
  /** What the escrow holds for the investor now (its principal once the campaign succeeded). */
  principal: string;
  invested: string;
  refunded: string;
  /** A refund the chain could not make (the account was frozen), to claim. */
  owed: string;
  /**
   * `none`: no amendment to accept; `pending`: must reconfirm before `reconfirmBy`;
   * `confirmed`: accepted the current terms of an open round.
   */
  reconfirmation: 'none' | 'pending' | 'confirmed';
  termsVersion: number;
  reconfirmBy: SchedulePoint | null;
  payouts: InvestorPayout[];
  paidOut: string;
  paidOutByTranche: TrancheAmount[];
  /** Payouts due that a report could not pay (the account was frozen), to claim. */
  payoutOwed: string;
  payoutOwedByTranche: TrancheAmount[];
  /** `paidOut - principal at success`: positive once the investment has paid for itself. */
  net: string;
}

/** One tranche of a waterfall position: what a report added, its fill and what is left of its cap. */
export interface TranchePosition {
  index: number;
  name: string;
  amount: string;
  fill: string;
  cap: string | null;
  capRemaining: string | null;
}

/** One payout line: what one recipient got from one tranche. */
export interface PayoutLine {
  tranche: number;
  recipient: 'investor' | 'producer' | 'account';
  address: string;
  amount: string;
}

/** Payouts by class of recipient. */
export interface PayoutClasses {
  investors: string;
  producer: string;
  accounts: string;
}

export interface CampaignStatementEntry {
  report: number;
  reportId: string;
  reporter: string;
  height: number;
  periodStart: number;
  periodEnd: number;
  grossRevenue: string;
  cumulativeRevenue: string;
  /** The waterfall position after the report. */
  tranches: TranchePosition[];
  byClass: PayoutClasses;
  /** Of the gross, what left the escrow and what stayed, owed to frozen recipients. */
  paid: string;
  blocked: string;
  blockedByClass: PayoutClasses;
  /** Payouts due to the producer and fixed accounts, `blocked` on those held as owed. */
  lines: (PayoutLine & { blocked?: boolean })[];
}

/** What the campaign owes one address from payouts it could not make (a frozen account). */
export interface OwedPayout {
  address: string;
  /** `investor + other`: what `campaign.claim` pays the address. */
  amount: string;
  investor: string;
  other: string;
}

/** `GET /v1/campaigns/{id}/statement`: the waterfall position after each report. */
export interface CampaignStatement {
  campaignId: string;
  title: string;
  asset: string;
  status: CampaignStatus;
  target: string;
  raised: string;
  principal: string | null;
  fee: string | null;
  investors: number;
  cumulativeRevenue: string;
  /** The waterfall position now (all tranches at zero before the first report). */
  tranches: TranchePosition[];
  reports: CampaignStatementEntry[];
  /** Refunds and payouts the campaign owes (held in the escrow until claimed). */
  refundsOwed: string;
  payoutsOwed: string;
  owedPayouts: OwedPayout[];
}

export interface CampaignChartPoint {
  report: number;
  reportId: string;
  periodEnd: number;
  cumulativeRevenue: string;
  /** Cumulative fill per tranche, in tranche order. */
  tranches: string[];
  /** Cumulative payouts per class of recipient. */
  classes: PayoutClasses;
}

/** `GET /v1/campaigns/{id}/chart`: one point per report, every value cumulative. */
export interface CampaignChart {
  campaignId: string;
  asset: string;
  trancheNames: string[];
  series: CampaignChartPoint[];
}

/**
 * `POST /v1/campaigns/{id}/simulate`: what a report of that revenue would pay now, by the very
 * waterfall a report runs, without a tx. `lines` are by tranche, then address; `transfers` what
 * each address would receive in all.
 */
export interface CampaignSimulation {
  campaignId: string;
  principal: string;
  cumulativeBefore: string;
  cumulativeAfter: string;
  tranches: TranchePosition[];
  lines: PayoutLine[];
  transfers: { address: string; amount: string }[];
  byClass: PayoutClasses;
}
