import type { OrderedStateReader, StateReader } from '../../state/index.js';
import type {
  CampaignChart,
  CampaignChartPoint,
  CampaignPage,
  CampaignPosition,
  CampaignSimulation,
  CampaignStatement,
  CampaignStatementEntry,
  CampaignSummary,
  InvestorPayout,
  TranchePosition,
} from './schema.js';
import {
  readCampaign,
  readCampaignCount,
  readCampaignIdByNumber,
  readInvestors,
  readPayees,
  readPayout,
  readPayoutOwed,
  readPosition,
  readReport,
  type CampaignRecord,
  type CampaignStatus,
} from './state.js';
import { investmentsOf } from './settlement.js';
import { capAmount, simulate, type Simulation } from './waterfall.js';

/*
 * Read-only queries over committed state. Every amount is a decimal string of minor units, so
 * each result is JSON as it stands (for the HTTP API, the SDK and the console).
 */

/** Campaigns looked at by one `listCampaigns` call at the most, matching or not. */
export const campaignsScannedMax = 1_000;
export const campaignsPageMax = 100;

/**
 * Campaigns newest first, optionally only one producer's or one status, `limit` at the most,
 * from campaign number `before - 1` down. One call looks at no more than `campaignsScannedMax`
 * campaigns, so a filtered page may be short and still have a `next`.
 */
export function listCampaigns(
  state: StateReader,
  options: { producer?: string; status?: CampaignStatus; before?: number; limit: number },
): CampaignPage {
  const { producer, status, limit } = options;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > campaignsPageMax) {
    throw new RangeError(`limit: 1 to ${campaignsPageMax}`);
  }
  const count = readCampaignCount(state);
  let number = Math.min(options.before ?? count, count) - 1;
  const campaigns: CampaignSummary[] = [];
  for (let scanned = 0; number >= 0 && campaigns.length < limit; number -= 1, scanned += 1) {
    if (scanned === campaignsScannedMax) break;
    const id = readCampaignIdByNumber(state, number)!;
    const c = readCampaign(state, id)!;
    if (producer !== undefined && c.producer !== producer) continue;
    if (status !== undefined && c.status !== status) continue;
    campaigns.push({
      number,
      id,
      title: c.title,
      producer: c.producer,
      asset: c.asset,
      status: c.status,
      target: c.target,
      raised: c.raised,
      deadline: c.deadline,
      revenue: c.revenue,
    });
  }
  return { campaigns, next: number >= 0 ? number + 1 : null };
}

/** One campaign with its terms and running totals, or undefined. */
export function getCampaign(state: StateReader, id: string): CampaignRecord | undefined {
  return readCampaign(state, id);
}

/** Addresses with an active position (the payout list once the campaign succeeded), sorted. */
export function listInvestors(state: OrderedStateReader, id: string): string[] {
  return readInvestors(state, id);
}

/** An investor's position: what `GET /v1/campaigns/{id}/investors/{address}` answers. */
export type InvestorPosition = CampaignPosition;

/** An investor's position in a campaign, with each payout by report and tranche, or undefined. */
export function investorPosition(
  state: StateReader,
  id: string,
  investor: string,
): InvestorPosition | undefined {
  const campaign = readCampaign(state, id);
  const position = readPosition(state, id, investor);
  if (!campaign || !position) return undefined;
  const names = campaign.distribution.tranches.map((t) => t.name);
  const payouts: InvestorPayout[] = [];
  for (let number = 0; number < campaign.reportCount; number++) {
    const lines = readPayout(state, id, number, investor);
    if (lines.length === 0) continue;
    const report = readReport(state, id, number)!;
    payouts.push({
      report: number,
      reportId: report.reportId,
      periodStart: report.periodStart,
      periodEnd: report.periodEnd,
      tranches: lines.map((l) => ({
        tranche: l.tranche,
        name: names[l.tranche]!,
        amount: l.amount,
      })),
      total: lines.reduce((sum, l) => sum + BigInt(l.amount), 0n).toString(),
      blocked: lines.some((l) => l.blocked === true),
    });
  }
  const round = campaign.reconfirmation;
  const reconfirmation =
    round === null || position.principal === '0'
      ? 'none'
      : position.termsVersion === round.version
        ? 'confirmed'
        : 'pending';
  const principalAtSuccess = campaign.status === 'succeeded' ? BigInt(position.principal) : 0n;
  return {
    campaignId: id,
    investor,
    status: campaign.status,
    principal: position.principal,
    invested: position.invested,
    refunded: position.refunded,
    owed: position.owed,
    reconfirmation,
    termsVersion: position.termsVersion,
    reconfirmBy: reconfirmation === 'pending' ? round!.by : null,
    payouts,
    paidOut: position.paidOut,
    paidOutByTranche: names.map((name, tranche) => ({
      tranche,
      name,
      amount: position.paidOutByTranche[tranche] ?? '0',
    })),
    payoutOwed: position.payoutOwed,
    payoutOwedByTranche: names.map((name, tranche) => ({
      tranche,
      name,
      amount: position.payoutOwedByTranche[tranche] ?? '0',
    })),
    net: (BigInt(position.paidOut) - principalAtSuccess).toString(),
  };
}

export type StatementTranche = TranchePosition;

export type StatementEntry = CampaignStatementEntry;

/** The position now: each tranche's fill and cap, and what the latest report gave it. */
function currentTranches(
  campaign: CampaignRecord,
  latest: StatementEntry | undefined,
): StatementTranche[] {
  const principal = BigInt(campaign.principal ?? campaign.raised);
  return campaign.distribution.tranches.map((tranche, index) => {
    const cap = capAmount(tranche, principal);
    const fill = BigInt(campaign.fills[index] ?? '0');
    return {
      index,
      name: tranche.name,
      amount: latest?.tranches[index]?.amount ?? '0',
      fill: fill.toString(),
      cap: cap === null ? null : cap.toString(),
      capRemaining: cap === null ? null : (cap - fill).toString(),
    };
  });
}

/** A campaign's statement: its waterfall position after each report, or undefined. */
export function campaignStatement(
  state: OrderedStateReader,
  id: string,
): CampaignStatement | undefined {
  const campaign = readCampaign(state, id);
  if (!campaign) return undefined;
  const reports: StatementEntry[] = [];
  for (let number = 0; number < campaign.reportCount; number++) {
    const report = readReport(state, id, number)!;
    reports.push({
      report: number,
      reportId: report.reportId,
      reporter: report.reporter,
      height: report.height,
      periodStart: report.periodStart,
      periodEnd: report.periodEnd,
      grossRevenue: report.grossRevenue,
      cumulativeRevenue: report.cumulativeRevenue,
      tranches: report.tranches,
      byClass: report.byClass,
      paid: report.paid,
      blocked: report.blocked,
      blockedByClass: report.blockedByClass,
      lines: report.lines,
    });
  }
  const owedPayouts = readPayees(state, id).map((address) => {
    const investor = BigInt(readPosition(state, id, address)?.payoutOwed ?? '0');
    const other = BigInt(readPayoutOwed(state, id, address)?.amount ?? '0');
    return {
      address,
      amount: (investor + other).toString(),
      investor: investor.toString(),
      other: other.toString(),
    };
  });
  return {
    campaignId: id,
    title: campaign.title,
    asset: campaign.asset,
    status: campaign.status,
    target: campaign.target,
    raised: campaign.raised,
    principal: campaign.principal,
    fee: campaign.fee,
    investors: campaign.investorCount,
    refundsOwed: campaign.owed,
    payoutsOwed: campaign.payoutOwed,
    owedPayouts,
    cumulativeRevenue: campaign.revenue,
    tranches: currentTranches(campaign, reports.at(-1)),
    reports,
  };
}

export type ChartPoint = CampaignChartPoint;

/** A chart-ready series: one point per report, every value cumulative. */
export function campaignChart(state: StateReader, id: string): CampaignChart | undefined {
  const campaign = readCampaign(state, id);
  if (!campaign) return undefined;
  const series: ChartPoint[] = [];
  const classes = { investors: 0n, producer: 0n, accounts: 0n };
  for (let number = 0; number < campaign.reportCount; number++) {
    const report = readReport(state, id, number)!;
    classes.investors += BigInt(report.byClass.investors);
    classes.producer += BigInt(report.byClass.producer);
    classes.accounts += BigInt(report.byClass.accounts);
    series.push({
      report: number,
      reportId: report.reportId,
      periodEnd: report.periodEnd,
      cumulativeRevenue: report.cumulativeRevenue,
      tranches: report.tranches.map((t) => t.fill),
      classes: {
        investors: classes.investors.toString(),
        producer: classes.producer.toString(),
        accounts: classes.accounts.toString(),
      },
    });
  }
  return {
    campaignId: id,
    asset: campaign.asset,
    trancheNames: campaign.distribution.tranches.map((t) => t.name),
    series,
  };
}

export type SimulationView = CampaignSimulation;

export function simulationView(campaignId: string, result: Simulation): SimulationView {
  return {
    campaignId,
    principal: result.principal.toString(),
    cumulativeBefore: result.cumulativeBefore.toString(),
    cumulativeAfter: result.cumulativeAfter.toString(),
    tranches: result.tranches.map((t) => ({
      index: t.index,
      name: t.name,
      amount: t.amount.toString(),
      fill: t.fillAfter.toString(),
      cap: t.cap === null ? null : t.cap.toString(),
      capRemaining: t.capRemaining === null ? null : t.capRemaining.toString(),
    })),
    lines: result.lines,
    transfers: result.transfers.map((t) => ({ address: t.address, amount: t.amount.toString() })),
    byClass: {
      investors: result.byClass.investors.toString(),
      producer: result.byClass.producer.toString(),
      accounts: result.byClass.accounts.toString(),
    },
  };
}

/**
 * What a report of `revenue` would pay now, without a tx: the same `simulate` the report handler
 * runs, over the campaign's current investors and cumulative revenue (before success: over the
 * positions as they stand). `campaign_not_found`, or `no_investors` when nobody holds a position.
 */
export function simulateCampaign(
  state: OrderedStateReader,
  id: string,
  revenue: bigint,
): SimulationView | 'campaign_not_found' | 'no_investors' {
  const campaign = readCampaign(state, id);
  if (!campaign) return 'campaign_not_found';
  const investments = investmentsOf(state, id);
  if (investments.length === 0) return 'no_investors';
  return simulationView(id, simulate(campaign, investments, BigInt(campaign.revenue), revenue));
}
