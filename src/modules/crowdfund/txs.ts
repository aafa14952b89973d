import { defineTxOf, reject, type TxDefinition } from '../../chain/index.js';
import { campaignEscrow, campaignIdOf, crowdfundPayloads } from './schema.js';
import {
  before,
  big,
  checkTerms,
  closeEarlyIfReached,
  dropInvestor,
  emptyPosition,
  plus,
  producedCampaign,
  reconfirmed,
  refund,
} from './settlement.js';
import {
  appendCampaign,
  clockOf,
  indexDue,
  isPending,
  investorsPerCampaignMax,
  pointValue,
  reached,
  readCampaign,
  readInvestors,
  readPosition,
  setInvestor,
  setPending,
  unindexDue,
  writeCampaign,
  writePosition,
  type CampaignRecord,
  type CampaignTerms,
} from './state.js';
import { claimTx, reportRevenueTx } from './txs-revenue.js';

export { settleDueCampaigns, investmentsOf } from './settlement.js';

/*
 * The campaign tx types, parsed by their payload schemas (schema.ts): creation, investment and
 * cancellation, amendment and reconfirmation here; revenue reports and claims in txs-revenue.ts;
 * what falls due at a deadline in settlement.ts.
 */

export const crowdfundTxs: Record<string, TxDefinition<never>> = {
  'campaign.create': defineTxOf(crowdfundPayloads['campaign.create'], {
    check: ({ minInvestment, maxInvestment }) =>
      big(minInvestment) > big(maxInvestment)
        ? reject('invalid_investment_limits', 'minInvestment')
        : undefined,
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

  'campaign.invest': defineTxOf(crowdfundPayloads['campaign.invest'], {
    execute: (ctx, p) => {
      const campaign = readCampaign(ctx.state, p.campaignId);
      if (!campaign) return 'campaign_not_found';
      if (campaign.status !== 'funding') return 'campaign_not_funding';
      if (!reached(campaign.opensAt, ctx)) return 'campaign_not_open';
      if (reached(campaign.deadline, ctx)) return 'deadline_passed';
      // Investing reconfirms (below); from reconfirmBy on, a pending investor waits for its
      // refund, which may come blocks later (refundsPerBlockMax), as campaign.reconfirm says.
      const round = campaign.reconfirmation;
      if (round && reached(round.by, ctx) && isPending(ctx.state, campaign.id, ctx.sender)) {
        return 'reconfirmation_closed';
      }
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

  'campaign.cancelInvestment': defineTxOf(crowdfundPayloads['campaign.cancelInvestment'], {
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

  'campaign.amend': defineTxOf(crowdfundPayloads['campaign.amend'], {
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

  'campaign.reconfirm': defineTxOf(crowdfundPayloads['campaign.reconfirm'], {
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

  'campaign.reportRevenue': reportRevenueTx,
  'campaign.claim': claimTx,
};
