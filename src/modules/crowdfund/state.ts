import { canonicalize } from '../../crypto/index.js';
import type { StateReader, StateView } from '../../state/index.js';

/**
 * The module's name and state namespace: every key below starts with `crowdfund/`.
 *
 * Money never lives in this module's state: investments, refunds, releases and payouts are ledger
 * transfers into and out of one escrow account per campaign (`escrowAddress('crowdfund', id)`),
 * which no key controls. The records here say whose money the escrow holds and why.
 *
 * The asset's issuer may freeze any account, and a frozen account neither sends nor receives.
 * No freeze stops a block or a report: what cannot reach a frozen recipient stays in the escrow,
 * recorded as owed (a refund or a payout on the investor's position, a payout to the producer or
 * a fixed account in a `payoutOwed` record, the release as `releaseBlocked`), and the recipient
 * takes it with `campaign.claim` once unfrozen. A frozen escrow means the issuer has stopped the
 * campaign's money: nothing enters or leaves it, so a revenue report is refused whole
 * (`account_frozen`; the reporter keeps its revenue and sends the same reportId again after the
 * unfreeze), claims are refused, and a release or refund due meanwhile is recorded as owed.
 * At every commit the escrow holds exactly what its campaign owes: the active principal while
 * funding, `owed` refunds, `payoutOwed` payouts, and the principal while `releaseBlocked`.
 */
export const crowdfundModuleName = 'crowdfund';

export const dayMs = 86_400_000;
/** 100% in basis points. */
export const basisPointsWhole = 10_000n;

// ---- limits: each bounds a record that is one state value, or the work of one tx or block ----

/** Investors with a position in one campaign: bounds the investor list and a report's payouts. */
export const investorsPerCampaignMax = 1_000;
/** Accounts allowed to report revenue for one campaign. */
export const reportersMax = 10;
/** Tranches of one distribution rule. */
export const tranchesMax = 8;
/** Recipients of one tranche (investors, the producer and fixed accounts, each at most once). */
export const recipientsPerTrancheMax = 8;
/** Revenue reports one campaign accepts: bounds its statement and chart. */
export const reportsPerCampaignMax = 1_000;
export const titleBytesMax = 120;
export const trancheNameBytesMax = 40;
/** A cap in basis points of principal: at most 100 times the principal. */
export const capPrincipalBasisPointsMax = 1_000_000;
/** How far ahead of the current block a deadline (or a reconfirmation deadline) may lie. */
export const scheduleHeightsMax = 10_000_000;
export const scheduleMsMax = 3_650 * dayMs;
/**
 * Refunds per block across all campaigns (at a failed deadline or a lapsed reconfirmation); the
 * rest carries over to the next block, in index order. A full campaign refunds in four blocks.
 */
export const refundsPerBlockMax = 250;
/** Due-index entries (outcomes, reconfirmation deadlines) one block settles or resumes. */
export const dueEntriesPerBlockMax = 1_000;
/** Empty due-index buckets skipped by one `beginBlock` (an idle chain catches up in a few blocks). */
export const dueBucketsScannedPerBlockMax = 400;
/** Heights per bucket of the due index kept for height-based deadlines. */
export const dueHeightBucketSize = 1_000;

/**
 * A point on one of the chain's two clocks. `{height}`: reached at the block of that height.
 * `{time}` (Unix ms, block time): reached at the first block whose time is at or past it.
 */
export type SchedulePoint = { height: number } | { time: number };
export type Clock = 'height' | 'time';

export function clockOf(point: SchedulePoint): Clock {
  return 'height' in point ? 'height' : 'time';
}

export function pointValue(point: SchedulePoint): number {
  return 'height' in point ? point.height : point.time;
}

/** The current value of `clock` at a block. */
export function clockNow(clock: Clock, at: { height: number; time: number }): number {
  return clock === 'height' ? at.height : at.time;
}

export function reached(point: SchedulePoint, at: { height: number; time: number }): boolean {
  return pointValue(point) <= clockNow(clockOf(point), at);
}

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
export type Recipient =
  | { kind: 'investors'; weightBasisPoints: number }
  | { kind: 'producer'; weightBasisPoints: number }
  | { kind: 'account'; address: string; weightBasisPoints: number };

export interface Tranche {
  name: string;
  /** Share of what remains of cumulative revenue when this tranche is reached, 1 to 10000. */
  shareBasisPoints: number;
  cap?: TrancheCap;
  recipients: Recipient[];
}

/**
 * A waterfall over cumulative revenue: tranche by tranche, each takes its share of what is left,
 * up to its cap. The last tranche takes all that remains, uncapped, so no revenue is unassigned.
 */
export interface DistributionRule {
  tranches: Tranche[];
}

export interface PlatformFee {
  basisPoints: number;
  to: string;
}

/** The terms a producer sets at creation and may amend while funding. */
export interface CampaignTerms {
  title: string;
  target: string;
  minInvestment: string;
  maxInvestment: string;
  opensAt: SchedulePoint;
  deadline: SchedulePoint;
  /**
   * Cancellation stops this long before the deadline, in the deadline's unit: blocks for a
   * height deadline, milliseconds for a time deadline.
   */
  cancelWindow: number;
  earlyClose: boolean;
  platformFee: PlatformFee | null;
  /** Sorted accounts allowed to report revenue. */
  reporters: string[];
  distribution: DistributionRule;
}

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

export interface CampaignRecord extends CampaignTerms {
  id: string;
  producer: string;
  asset: string;
  escrow: string;
  createdAtHeight: number;
  createdAt: number;
  status: CampaignStatus;
  /** Principal of the active positions: what the escrow holds for investors. */
  raised: string;
  /** Refunds a block could not make (the investor's account was frozen); claimable. */
  owed: string;
  /**
   * Payouts a report could not make (the recipient's account was frozen), to investors, the
   * producer and fixed accounts together; claimable. Held in the escrow.
   */
  payoutOwed: string;
  investorCount: number;
  /** Bumped by each amendment after the first investment. */
  termsVersion: number;
  reconfirmation: Reconfirmation | null;
  /** Set at success: total principal, the fee, and the block. */
  principal: string | null;
  fee: string | null;
  /** The release to the producer (and the fee) waits for a `campaign.claim`: an account was frozen. */
  releaseBlocked: boolean;
  closedAtHeight: number | null;
  /** Cumulative reported revenue, and each tranche's cumulative fill at that revenue. */
  revenue: string;
  fills: string[];
  reportCount: number;
}

export interface PositionRecord {
  campaignId: string;
  investor: string;
  /** What the escrow holds for this investor now (its principal once the campaign succeeds). */
  principal: string;
  /** Sum of all its investments, and of all refunds (cancellations, refunds, claims). */
  invested: string;
  refunded: string;
  /** The terms version the investor accepted (by investing or reconfirming). */
  termsVersion: number;
  /** A refund the block could not make (frozen account), claimable with `campaign.claim`. */
  owed: string;
  /** Cumulative payouts received, in total and per tranche. */
  paidOut: string;
  paidOutByTranche: string[];
  /**
   * Payouts due that a report could not make (the account was frozen), in total and per tranche,
   * claimable with `campaign.claim`. What the waterfall gave the investor is `paidOut + payoutOwed`.
   */
  payoutOwed: string;
  payoutOwedByTranche: string[];
}

/**
 * What the campaign owes one address from the payouts of its producer and fixed-account lines
 * (an investor's share is on its position), held in the escrow until `campaign.claim`.
 */
export interface PayoutOwedRecord {
  campaignId: string;
  address: string;
  amount: string;
}

/**
 * One payout line: what one tranche of one report gave one recipient. In a recorded report (and
 * an investor's payout record) `blocked: true` marks a line that could not be paid because the
 * recipient was frozen: it was held in the escrow as owed (see `payoutOwed`), to be claimed.
 */
export interface PayoutLine {
  tranche: number;
  recipient: 'investor' | 'producer' | 'account';
  address: string;
  amount: string;
  blocked?: true;
}

export interface ReportTranche {
  index: number;
  name: string;
  /** What this report added to the tranche. */
  amount: string;
  /** The tranche's cumulative fill after the report, its cap (null: none) and what is left of it. */
  fill: string;
  cap: string | null;
  capRemaining: string | null;
}

export interface ReportRecord {
  campaignId: string;
  number: number;
  reportId: string;
  reporter: string;
  txHash: string;
  height: number;
  time: number;
  periodStart: number;
  periodEnd: number;
  grossRevenue: string;
  cumulativeRevenue: string;
  tranches: ReportTranche[];
  /** This report's payouts due, by class of recipient (they sum to `grossRevenue`). */
  byClass: { investors: string; producer: string; accounts: string };
  /**
   * What left the escrow at the report, and what stayed there as owed because the recipient was
   * frozen (`paid + blocked = grossRevenue`); `blockedByClass` splits `blocked` like `byClass`.
   */
  paid: string;
  blocked: string;
  blockedByClass: { investors: string; producer: string; accounts: string };
  /** Payouts to the producer and fixed accounts (investors' lines are under `payout/`). */
  lines: PayoutLine[];
}

export const crowdfundKeys = {
  campaign: (id: string) => `crowdfund/campaign/${id}`,
  /** Sorted addresses with an active position. */
  investors: (id: string) => `crowdfund/investors/${id}`,
  /** Sorted addresses that must still reconfirm the current terms. */
  pending: (id: string) => `crowdfund/pending/${id}`,
  position: (id: string, investor: string) => `crowdfund/position/${id}/${investor}`,
  reportId: (id: string, reportId: string) => `crowdfund/report-id/${id}/${reportId}`,
  report: (id: string, number: number) => `crowdfund/report/${id}/${number}`,
  /** What the campaign owes one address from producer and fixed-account payouts. */
  payoutOwed: (id: string, address: string) => `crowdfund/payout-owed/${id}/${address}`,
  /** Sorted addresses owed a payout (on a position, a `payoutOwed` record or both). */
  payees: (id: string) => `crowdfund/payees-owed/${id}`,
  /** One investor's lines of one report. */
  payout: (id: string, number: number, investor: string) =>
    `crowdfund/payout/${id}/${number}/${investor}`,
  /**
   * What falls due in one bucket of a clock, as `<point>/<id>/<kind>` with the point zero-padded
   * to 16 digits, so the sorted list is in due order.
   */
  due: (clock: Clock, bucket: number) => `crowdfund/due/${clock}/${bucket}`,
  /** The first bucket of a clock `beginBlock` has not finished. */
  dueCursor: (clock: Clock) => `crowdfund/due-cursor/${clock}`,
  /** How many campaigns exist; campaign `n` (from 0, in creation order) is `byNumber(n)`. */
  count: 'crowdfund/count',
  byNumber: (number: number) => `crowdfund/number/${number}`,
};

export type DueKind = 'deadline' | 'reconfirm';

/** The due-index bucket of a point: blocks of 1,000 heights, or UTC days. */
export function bucketOf(clock: Clock, value: number): number {
  return Math.floor(value / (clock === 'height' ? dueHeightBucketSize : dayMs));
}

function readJson<T>(state: StateReader, key: string): T | undefined {
  const text = state.get(key);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

function writeJson(state: StateView, key: string, value: unknown): void {
  state.set(key, canonicalize(value));
}

/** Campaigns created so far; they are numbered 0 to count - 1 in creation order. */
export function readCampaignCount(state: StateReader): number {
  return readJson<number>(state, crowdfundKeys.count) ?? 0;
}

export function readCampaignIdByNumber(state: StateReader, number: number): string | undefined {
  return readJson<string>(state, crowdfundKeys.byNumber(number));
}

/** Numbers a new campaign: the next number, then the count. */
export function appendCampaign(state: StateView, id: string): void {
  const number = readCampaignCount(state);
  writeJson(state, crowdfundKeys.byNumber(number), id);
  writeJson(state, crowdfundKeys.count, number + 1);
}

export function readCampaign(state: StateReader, id: string): CampaignRecord | undefined {
  return readJson(state, crowdfundKeys.campaign(id));
}

export function writeCampaign(state: StateView, campaign: CampaignRecord): void {
  writeJson(state, crowdfundKeys.campaign(campaign.id), campaign);
}

function readList(state: StateReader, key: string): string[] {
  return readJson<string[]>(state, key) ?? [];
}

function writeList(state: StateView, key: string, list: string[]): void {
  if (list.length === 0) state.delete(key);
  else writeJson(state, key, list);
}

export function readInvestors(state: StateReader, id: string): string[] {
  return readList(state, crowdfundKeys.investors(id));
}

export function writeInvestors(state: StateView, id: string, list: string[]): void {
  writeList(state, crowdfundKeys.investors(id), list);
}

export function readPending(state: StateReader, id: string): string[] {
  return readList(state, crowdfundKeys.pending(id));
}

export function writePending(state: StateView, id: string, list: string[]): void {
  writeList(state, crowdfundKeys.pending(id), list);
}

export function readPosition(
  state: StateReader,
  id: string,
  investor: string,
): PositionRecord | undefined {
  return readJson(state, crowdfundKeys.position(id, investor));
}

export function writePosition(state: StateView, position: PositionRecord): void {
  writeJson(state, crowdfundKeys.position(position.campaignId, position.investor), position);
}

export function readPayoutOwed(
  state: StateReader,
  id: string,
  address: string,
): PayoutOwedRecord | undefined {
  return readJson(state, crowdfundKeys.payoutOwed(id, address));
}

export function writePayoutOwed(state: StateView, record: PayoutOwedRecord): void {
  const key = crowdfundKeys.payoutOwed(record.campaignId, record.address);
  if (record.amount === '0') state.delete(key);
  else writeJson(state, key, record);
}

export function readPayees(state: StateReader, id: string): string[] {
  return readList(state, crowdfundKeys.payees(id));
}

export function writePayees(state: StateView, id: string, list: string[]): void {
  writeList(state, crowdfundKeys.payees(id), list);
}

export function readReportNumber(
  state: StateReader,
  id: string,
  reportId: string,
): number | undefined {
  return readJson<{ number: number }>(state, crowdfundKeys.reportId(id, reportId))?.number;
}

export function readReport(
  state: StateReader,
  id: string,
  number: number,
): ReportRecord | undefined {
  return readJson(state, crowdfundKeys.report(id, number));
}

export function writeReport(state: StateView, report: ReportRecord): void {
  writeJson(state, crowdfundKeys.report(report.campaignId, report.number), report);
  writeJson(state, crowdfundKeys.reportId(report.campaignId, report.reportId), {
    number: report.number,
  });
}

export function readPayout(
  state: StateReader,
  id: string,
  number: number,
  investor: string,
): PayoutLine[] {
  return readJson<PayoutLine[]>(state, crowdfundKeys.payout(id, number, investor)) ?? [];
}

export function writePayout(
  state: StateView,
  id: string,
  number: number,
  investor: string,
  lines: PayoutLine[],
): void {
  writeJson(state, crowdfundKeys.payout(id, number, investor), lines);
}

export function readDue(state: StateReader, clock: Clock, bucket: number): string[] {
  return readList(state, crowdfundKeys.due(clock, bucket));
}

export function writeDue(state: StateView, clock: Clock, bucket: number, entries: string[]): void {
  writeList(state, crowdfundKeys.due(clock, bucket), entries);
}

export function readDueCursor(state: StateReader, clock: Clock): number | undefined {
  return readJson<number>(state, crowdfundKeys.dueCursor(clock));
}

export function writeDueCursor(state: StateView, clock: Clock, bucket: number): void {
  writeJson(state, crowdfundKeys.dueCursor(clock), bucket);
}

export interface DueEntry {
  value: number;
  id: string;
  kind: DueKind;
}

export function dueEntryText(entry: DueEntry): string {
  return `${String(entry.value).padStart(16, '0')}/${entry.id}/${entry.kind}`;
}

export function parseDueEntry(text: string): DueEntry {
  const [value, id, kind] = text.split('/') as [string, string, DueKind];
  return { value: Number(value), id, kind };
}

/**
 * Adds an entry to the due index at `point` (once) and moves the cursor back if needed. An entry
 * left behind by an amendment stays until its point and is then dropped: the campaign's terms no
 * longer name that point.
 */
export function indexDue(state: StateView, id: string, kind: DueKind, point: SchedulePoint): void {
  const clock = clockOf(point);
  const value = pointValue(point);
  const bucket = bucketOf(clock, value);
  const entry = dueEntryText({ value, id, kind });
  const entries = readDue(state, clock, bucket);
  if (!entries.includes(entry)) writeDue(state, clock, bucket, [...entries, entry].sort());
  const cursor = readDueCursor(state, clock);
  if (cursor === undefined || bucket < cursor) writeDueCursor(state, clock, bucket);
}
