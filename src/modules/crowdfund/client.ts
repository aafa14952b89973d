import type { ClientCore } from '../../sdk/client.js';
import {
  minorUnitsText,
  type Campaign,
  type CampaignChart,
  type CampaignInvestors,
  type CampaignListQuery,
  type CampaignPage,
  type CampaignPosition,
  type CampaignSimulation,
  type CampaignStatement,
  type MinorUnits,
} from '../../sdk/crowdfund.js';

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

/** What the SDK publishes of this module (src/sdk/index.ts exports it through ../clients.ts). */
export * from '../../sdk/crowdfund.js';
