import type { ChainModule } from '../../chain/index.js';
import { crowdfundRejections } from './rejections.js';
import { crowdfundModuleName } from './state.js';
import { crowdfundTxs, settleDueCampaigns } from './txs.js';

export * from './state.js';
export * from './queries.js';
export * from './waterfall.js';
export { crowdfundRejections, type CrowdfundRejection } from './rejections.js';
export { campaignEscrow, campaignIdOf, investmentsOf } from './txs.js';

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
