import type { FastifyReply } from 'fastify';
import { isAddress } from '../crypto/index.js';
import { amountMax, parsePositiveAmount } from '../ledger/amount.js';
import {
  campaignsPageMax,
  listCampaigns,
  campaignChart,
  campaignEscrow,
  campaignStatement,
  getCampaign,
  investorPosition,
  listInvestors,
  simulateCampaign,
  type CampaignStatus,
} from '../modules/crowdfund/index.js';
import type { ModuleHost } from './module-host.js';
import { anyObject, sendError, stringParams } from './routes.js';

const campaignIdPattern = /^[0-9a-f]{16}$/;

/**
 * The campaigns' routes (issue 6). Writes go through `POST /v1/txs` with the `campaign.*` tx
 * types; these read committed state, and `simulate` runs the very waterfall a revenue report
 * would, without a tx.
 */
export function registerCrowdfundApi(node: ModuleHost): void {
  const { app, store } = node;

  /** The campaign of `:id`, or undefined once the error is answered. */
  function campaignOr(reply: FastifyReply, id: string) {
    if (!campaignIdPattern.test(id)) {
      void sendError(reply, 'invalid_campaign_id', 'id');
      return undefined;
    }
    const campaign = getCampaign(store, id);
    if (!campaign) void sendError(reply, 'campaign_not_found', 'id');
    return campaign;
  }

  const read = (
    path: string,
    summary: string,
    answer: (id: string, reply: FastifyReply) => unknown,
  ) =>
    app.get<{ Params: { id: string } }>(
      path,
      {
        schema: {
          summary,
          tags: ['crowdfund'],
          params: stringParams('id'),
          response: { 200: anyObject, '4xx': anyObject },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        if (!campaignOr(reply, id)) return reply;
        return answer(id, reply);
      },
    );

  app.get<{
    Querystring: { producer?: string; status?: string; before?: string; limit?: string };
  }>(
    '/v1/campaigns',
    {
      schema: {
        summary:
          "Campaigns newest first, optionally one producer's or one status, a page at a time (`next` continues as `before`)",
        tags: ['crowdfund'],
        querystring: {
          type: 'object',
          properties: {
            producer: { type: 'string' },
            status: { type: 'string', enum: ['funding', 'succeeded', 'refunding', 'failed'] },
            before: { type: 'string' },
            limit: { type: 'string' },
          },
          additionalProperties: false,
        },
        response: { 200: anyObject, '4xx': anyObject },
      },
    },
    async (request, reply) => {
      const { producer, status, before, limit } = request.query;
      if (producer !== undefined && !isAddress(producer)) {
        return sendError(reply, 'invalid_address', 'producer');
      }
      if (before !== undefined && !/^(0|[1-9][0-9]{0,14})$/.test(before)) {
        return sendError(reply, 'invalid_request', 'before');
      }
      const count = limit === undefined ? 20 : Number(limit);
      if (!Number.isSafeInteger(count) || count < 1 || count > campaignsPageMax) {
        return sendError(reply, 'invalid_request', 'limit');
      }
      return listCampaigns(store, {
        ...(producer === undefined ? {} : { producer }),
        ...(status === undefined ? {} : { status: status as CampaignStatus }),
        ...(before === undefined ? {} : { before: Number(before) }),
        limit: count,
      });
    },
  );

  read(
    '/v1/campaigns/:id',
    'One campaign: producer, terms, distribution rule, status, raised amount, escrow and revenue so far',
    (id) => ({ ...getCampaign(store, id)!, escrow: campaignEscrow(id) }),
  );
  read('/v1/campaigns/:id/investors', "The campaign's investors, in address order", (id) => ({
    campaignId: id,
    investors: listInvestors(store, id),
  }));
  read(
    '/v1/campaigns/:id/statement',
    "The campaign's waterfall position after each revenue report: each tranche's cumulative fill and remaining cap",
    (id) => campaignStatement(store, id),
  );
  read(
    '/v1/campaigns/:id/chart',
    'Chart-ready series: per report, cumulative revenue, per tranche and per recipient class',
    (id) => campaignChart(store, id),
  );

  app.get<{ Params: { id: string; address: string } }>(
    '/v1/campaigns/:id/investors/:address',
    {
      schema: {
        summary:
          "An investor's position: invested, refunded, owed, reconfirmation, each payout by report and tranche, totals",
        tags: ['crowdfund'],
        params: stringParams('id', 'address'),
        response: { 200: anyObject, '4xx': anyObject },
      },
    },
    async (request, reply) => {
      const { id, address } = request.params;
      if (!campaignOr(reply, id)) return reply;
      if (!isAddress(address)) return sendError(reply, 'invalid_address', 'address');
      return (
        investorPosition(store, id, address) ?? sendError(reply, 'position_not_found', 'address')
      );
    },
  );

  app.post<{ Params: { id: string }; Body: { revenue: string } }>(
    '/v1/campaigns/:id/simulate',
    {
      schema: {
        summary:
          'Who would get what if a report of `revenue` (minor units) were applied now: the same waterfall a report runs, without a tx',
        tags: ['crowdfund'],
        params: stringParams('id'),
        body: {
          type: 'object',
          required: ['revenue'],
          properties: { revenue: { type: 'string' } },
          additionalProperties: false,
        },
        response: { 200: anyObject, '4xx': anyObject },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const campaign = campaignOr(reply, id);
      if (!campaign) return reply;
      const revenue = parsePositiveAmount(request.body.revenue);
      if (revenue === undefined) return sendError(reply, 'invalid_amount', 'revenue');
      if (BigInt(campaign.revenue) + revenue > amountMax) {
        return sendError(reply, 'revenue_too_large', 'revenue');
      }
      const view = simulateCampaign(store, id, revenue);
      if (typeof view === 'string') return sendError(reply, view, 'id');
      return view;
    },
  );
}
