import type { CofferModule } from '../manifest.js';
import type { ChainModule } from '../../chain/index.js';
import { campaignCommands, campaignCliNotes } from './cli.js';
import { crowdfundRejections } from './rejections.js';
import { crowdfundRoutes } from './routes.js';
import { crowdfundModuleName } from './schema.js';
import { crowdfundTxs, settleDueCampaigns } from './txs.js';

export * from './state.js';
export * from './queries.js';
export * from './waterfall.js';
export { crowdfundRejections, type CrowdfundRejection } from './rejections.js';
export { investmentsOf } from './txs.js';
export {
  campaignEscrow,
  campaignIdOf,
  crowdfundPayloads,
  isCampaignId,
  isReportId,
  type CrowdfundPayload,
} from './schema.js';

/**
 * Tx types (amounts are decimal strings of minor units; points are `{height}` or `{time}`):
 * - `campaign.create` {title, asset, target, minInvestment, maxInvestment, opensAt, deadline,
 *   cancelWindow, earlyClose, platformFee?: {basisPoints, to} | null, reporters, distribution}
 * - `campaign.invest` {campaignId, amount}; `campaign.cancelInvestment` {campaignId}
 * - `campaign.amend` {campaignId, terms: {any of the create terms but asset}, reconfirmBy?}
 * - `campaign.reconfirm` {campaignId}; `campaign.claim` {campaignId}
 * - `campaign.reportRevenue` {campaignId, reportId, periodStart, periodEnd, grossRevenue}
 *
 * A frozen account never stops a block or a report: a refund, payout or release it cannot
 * receive stays in the escrow as owed (`campaign.refundBlocked`, `campaign.payoutBlocked`,
 * `releaseBlocked`) and `campaign.claim` pays it once the account is unfrozen (refused with
 * `account_frozen` meanwhile). A frozen escrow refuses reports and claims (see state.ts).
 *
 * Movie investment (issue 6): all-or-nothing campaigns with escrow, cancellation until a window
 * before the deadline, reconfirmation of amended terms, the outcome at the deadline with no tx
 * from anyone (release less a platform fee, or exact refunds), revenue reports paid out through a
 * declarative waterfall over cumulative revenue, and statements.
 */
export const crowdfundModule: ChainModule = {
  name: crowdfundModuleName,
  txs: crowdfundTxs,
  rejections: crowdfundRejections,
  beginBlock: settleDueCampaigns,
};

/** The crowdfund module: chain, routes, codes and commands (src/modules/manifest.ts). */
export const crowdfund: CofferModule = {
  chain: crowdfundModule,
  routes: crowdfundRoutes,
  tag: {
    name: 'crowdfund',
    description:
      'Movie investment campaigns: terms, positions, the waterfall statement and chart, and payout simulation.',
  },
  httpStatuses: {
    campaign_not_found: 404,
    position_not_found: 404,
    not_producer: 403,
    not_reporter: 403,
    campaign_exists: 409,
    duplicate_report: 409,
    campaign_not_funding: 422,
    campaign_not_open: 422,
    deadline_passed: 422,
    reconfirmation_open: 422,
    investment_below_minimum: 422,
    investment_above_maximum: 422,
    too_many_investors: 422,
    cancel_window_closed: 422,
    nothing_to_reconfirm: 422,
    reconfirmation_closed: 422,
    position_outside_terms: 422,
    campaign_not_succeeded: 422,
    campaign_not_closed: 422,
    too_many_reports: 422,
    revenue_too_large: 422,
    no_investors: 422,
    nothing_to_claim: 422,
  },
  commands: campaignCommands,
  cliNotes: campaignCliNotes,
};
