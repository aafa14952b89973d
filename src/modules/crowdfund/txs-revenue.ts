import assert from 'node:assert/strict';
import { defineTxOf, type TxDefinition } from '../../chain/index.js';
import { amountMax } from '../../ledger/index.js';
import { reject } from '../../chain/index.js';
import { crowdfundPayloads } from './schema.js';
import { big, investmentsOf, plus, release } from './settlement.js';
import {
  readCampaign,
  readPayoutOwed,
  readPosition,
  readReportNumber,
  reportsPerCampaignMax,
  setPayee,
  writeCampaign,
  writePayout,
  writePayoutOwed,
  writePosition,
  writeReport,
  type PayoutLine,
} from './state.js';
import { simulate } from './waterfall.js';

/*
 * Revenue and what it pays: `campaign.reportRevenue` runs the waterfall over cumulative revenue
 * and pays each recipient (holding what a frozen account cannot receive), and `campaign.claim`
 * pays what was held, once it can move.
 */

/** A reporter deposits the gross revenue of a period; the waterfall pays it out at once. */
export const reportRevenueTx: TxDefinition<never> = defineTxOf(
  crowdfundPayloads['campaign.reportRevenue'],
  {
    check: (p) => (p.periodStart < p.periodEnd ? undefined : reject('invalid_period', 'periodEnd')),
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
      // Each loop below writes one key per address and emits nothing; a block's writes are
      // hashed sorted by key (src/state/root.ts), so the order of these loops is not observable.
      for (const [investor, investorLines] of byInvestor) {
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
      for (const [address, amount] of owedOthers) {
        const record = readPayoutOwed(ctx.state, campaign.id, address);
        writePayoutOwed(ctx.state, {
          campaignId: campaign.id,
          address,
          amount: plus(record?.amount ?? '0', amount),
        });
      }
      for (const address of blocked) setPayee(ctx.state, campaign.id, address, true);
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
  },
);

/** Pays what a block or a report could not: owed refunds, owed payouts, a blocked release. */
export const claimTx: TxDefinition<never> = defineTxOf(crowdfundPayloads['campaign.claim'], {
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
    const frozen = (address: string) => ctx.ledger.account(address).frozen.includes(campaign.asset);
    // Pays every claim that can move now; refused only when none can (the sender or the
    // escrow is frozen, or the release waits on a frozen fee account and nothing else is owed).
    let claimed = false;
    if (!frozen(campaign.escrow) && !frozen(ctx.sender)) {
      if (refundOwed > 0n) {
        const moved = ctx.ledger.transfer(campaign.escrow, ctx.sender, campaign.asset, refundOwed);
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
});
