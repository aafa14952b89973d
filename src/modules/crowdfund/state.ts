import { canonicalize } from '../../crypto/index.js';
import type { OrderedStateReader, StateReader, StateView } from '../../state/index.js';
import {
  recipientsPerTrancheMax,
  tranchesMax,
  type Campaign,
  type SchedulePoint,
  type TranchePosition,
  type PayoutLine,
} from './schema.js';

export {
  basisPointsWhole,
  capPrincipalBasisPointsMax,
  crowdfundModuleName,
  recipientsPerTrancheMax,
  reportersMax,
  titleBytesMax,
  trancheNameBytesMax,
  tranchesMax,
} from './schema.js';
export type {
  CampaignStatus,
  CampaignTerms,
  DistributionRule,
  PayoutLine,
  PlatformFee,
  Reconfirmation,
  SchedulePoint,
  TrancheCap,
  WaterfallRecipient as Recipient,
  WaterfallTranche as Tranche,
} from './schema.js';

/**
 * The module's state: every key below starts with `crowdfund/` (`crowdfundModuleName`).
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

export const dayMs = 86_400_000;

// ---- limits: each bounds a record that is one state value, or the work of one tx or block ----
// (the limits of a payload, such as reportersMax and tranchesMax, are in schema.ts)

/**
 * Investors with a position in one campaign: bounds a report's payouts (each reads every
 * investor's position) and the refunds of a failed campaign.
 */
export const investorsPerCampaignMax = 1_000;
/**
 * Addresses one campaign may owe a payout at once: every investor, the producer and each fixed
 * account of the rule. A statement reads them all.
 */
export const payeesPerCampaignMax =
  investorsPerCampaignMax + 1 + tranchesMax * recipientsPerTrancheMax;
/** Revenue reports one campaign accepts: bounds its statement and chart. */
export const reportsPerCampaignMax = 1_000;
/** How far ahead of the current block a deadline (or a reconfirmation deadline) may lie. */
export const scheduleHeightsMax = 10_000_000;
export const scheduleMsMax = 3_650 * dayMs;
/**
 * Refunds per block across all campaigns (at a failed deadline or a lapsed reconfirmation); the
 * rest carries over to the next block, in index order. A full campaign refunds in four blocks.
 */
export const refundsPerBlockMax = 250;
/**
 * Due-index entries (outcomes, reconfirmation deadlines) one block reads, whether it settles
 * them, resumes them or finds them moot; the rest wait for the next block, in due order.
 */
export const dueEntriesPerBlockMax = 1_000;

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

/** A campaign's state record: what `GET /v1/campaigns/{id}` answers (schema.ts). */
export type CampaignRecord = Campaign;

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

/** One tranche of a recorded report: what it added, the fill after, the cap and what is left. */
export type ReportTranche = TranchePosition;

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

/**
 * Digits of a point in a due-index key: any block height or block time (Unix ms) a deadline may
 * name, zero-padded so keys sort in due order.
 */
const pointDigits = 16;

export const crowdfundKeys = {
  campaign: (id: string) => `crowdfund/campaign/${id}`,
  /**
   * One key per address with an active position (value `true`), so an investment writes one key
   * and a refund deletes one, whatever the number of investors; read in address order.
   */
  investors: (id: string) => `crowdfund/investor/${id}/`,
  investor: (id: string, address: string) => `crowdfund/investor/${id}/${address}`,
  /** One key per investor that must still reconfirm the current terms (value `true`). */
  pendings: (id: string) => `crowdfund/pending/${id}/`,
  pending: (id: string, address: string) => `crowdfund/pending/${id}/${address}`,
  position: (id: string, investor: string) => `crowdfund/position/${id}/${investor}`,
  reportId: (id: string, reportId: string) => `crowdfund/report-id/${id}/${reportId}`,
  report: (id: string, number: number) => `crowdfund/report/${id}/${number}`,
  /** What the campaign owes one address from producer and fixed-account payouts. */
  payoutOwed: (id: string, address: string) => `crowdfund/payout-owed/${id}/${address}`,
  /**
   * One key per address owed a payout (on a position, a `payoutOwed` record or both), value
   * `true`.
   */
  payees: (id: string) => `crowdfund/payee-owed/${id}/`,
  payee: (id: string, address: string) => `crowdfund/payee-owed/${id}/${address}`,
  /** One investor's lines of one report. */
  payout: (id: string, number: number, investor: string) =>
    `crowdfund/payout/${id}/${number}/${investor}`,
  /**
   * The due index of one clock: one key per entry, `<point>/<id>/<kind>` with the point (a height
   * or a block time) zero-padded to 16 digits, so key order is due order; value `true`. Adding or
   * removing an entry writes one key, and `beginBlock` reads the first entries in order.
   */
  dueEntries: (clock: Clock) => `crowdfund/due/${clock}/`,
  due: (clock: Clock, entry: DueEntry) =>
    `crowdfund/due/${clock}/${String(entry.value).padStart(pointDigits, '0')}/${entry.id}/${entry.kind}`,
  /** How many campaigns exist; campaign `n` (from 0, in creation order) is `byNumber(n)`. */
  count: 'crowdfund/count',
  byNumber: (number: number) => `crowdfund/number/${number}`,
};

export type DueKind = 'deadline' | 'reconfirm';

export interface DueEntry {
  value: number;
  id: string;
  kind: DueKind;
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

/** The addresses of a one-key-per-address set, sorted, at most `limit`. */
function readAddresses(state: OrderedStateReader, prefix: string, limit: number): string[] {
  return state.range(prefix, limit).map(([key]) => key.slice(prefix.length));
}

function setMember(state: StateView, key: string, member: boolean): void {
  if (member) writeJson(state, key, true);
  else state.delete(key);
}

/** Addresses with an active position, sorted: all of them, or the first `limit`. */
export function readInvestors(
  state: OrderedStateReader,
  id: string,
  limit = investorsPerCampaignMax,
): string[] {
  return readAddresses(state, crowdfundKeys.investors(id), limit);
}

export function setInvestor(state: StateView, id: string, address: string, active: boolean): void {
  setMember(state, crowdfundKeys.investor(id, address), active);
}

/** Investors still to reconfirm the current terms, sorted: all, or the first `limit`. */
export function readPending(
  state: OrderedStateReader,
  id: string,
  limit = investorsPerCampaignMax,
): string[] {
  return readAddresses(state, crowdfundKeys.pendings(id), limit);
}

export function isPending(state: StateReader, id: string, address: string): boolean {
  return state.get(crowdfundKeys.pending(id, address)) !== undefined;
}

export function setPending(state: StateView, id: string, address: string, pending: boolean): void {
  setMember(state, crowdfundKeys.pending(id, address), pending);
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

/** Addresses owed a payout, sorted. */
export function readPayees(state: OrderedStateReader, id: string): string[] {
  return readAddresses(state, crowdfundKeys.payees(id), payeesPerCampaignMax);
}

export function setPayee(state: StateView, id: string, address: string, owed: boolean): void {
  setMember(state, crowdfundKeys.payee(id, address), owed);
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

/** The key of a due-index entry back as the entry. */
export function parseDueKey(clock: Clock, key: string): DueEntry {
  const [value, id, kind] = key.slice(crowdfundKeys.dueEntries(clock).length).split('/') as [
    string,
    string,
    DueKind,
  ];
  return { value: Number(value), id, kind };
}

/**
 * The first `limit` entries of a clock's due index at points up to `now`, in due order, with
 * their keys: entries not yet due are never read.
 */
export function readDue(
  state: OrderedStateReader,
  clock: Clock,
  now: number,
  limit: number,
): { key: string; entry: DueEntry }[] {
  const prefix = crowdfundKeys.dueEntries(clock);
  const before = prefix + String(now + 1).padStart(pointDigits, '0');
  return state
    .range(prefix, limit, { before })
    .map(([key]) => ({ key, entry: parseDueKey(clock, key) }));
}

/** Adds an entry to the due index at `point`: one key, whatever the index holds. */
export function indexDue(state: StateView, id: string, kind: DueKind, point: SchedulePoint): void {
  const clock = clockOf(point);
  writeJson(state, crowdfundKeys.due(clock, { value: pointValue(point), id, kind }), true);
}

/** Removes the entry at `point` (an amended deadline, a reconfirmation round closed early). */
export function unindexDue(
  state: StateView,
  id: string,
  kind: DueKind,
  point: SchedulePoint,
): void {
  const clock = clockOf(point);
  state.delete(crowdfundKeys.due(clock, { value: pointValue(point), id, kind }));
}
