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
