import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { isAddress } from '../../crypto/index.js';
import { amountMax, parsePositiveAmount } from '../../ledger/amount.js';
import type { ModuleHost } from '../../node/module-host.js';
import { errorSchema, sendError, stringParams } from '../../node/routes.js';
import { jsonSchema } from '../../protocol/schema.js';
import {
  campaignChart,
  campaignsPageMax,
  campaignStatement,
  getCampaign,
  investorPosition,
  listCampaigns,
  listInvestors,
  simulateCampaign,
} from './queries.js';
import {
  campaignChartSchema,
  campaignEscrow,
  campaignInvestorsSchema,
  campaignListQuerySchema,
  campaignPageSchema,
  campaignPositionSchema,
  campaignSchema,
  campaignSimulateBodySchema,
  campaignSimulationSchema,
  campaignStatementSchema,
  isCampaignId,
} from './schema.js';

/** A 200 answer serialized through `schema` (fields it does not list are dropped), and errors. */
function answers(schema: z.ZodType) {
  return { 200: jsonSchema(schema), '4xx': errorSchema };
}

/**
 * The campaigns' routes (issue 6). Writes go through `POST /v1/txs` with the `campaign.*` tx
 * types; these read committed state, and `simulate` runs the very waterfall a revenue report
 * would, without a tx.
 */
export function crowdfundRoutes(node: ModuleHost): void {
  const { app, store } = node;

  /** The campaign of `:id`, or undefined once the error is answered. */
  function campaignOr(reply: FastifyReply, id: string) {
    if (!isCampaignId(id)) {
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
    response: z.ZodType,
    answer: (id: string, reply: FastifyReply) => unknown,
  ) =>
    app.get<{ Params: { id: string } }>(
      path,
      {
        schema: {
          summary,
          tags: ['crowdfund'],
          params: stringParams('id'),
          response: answers(response),
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        if (!campaignOr(reply, id)) return reply;
        return answer(id, reply);
      },
    );

  app.get<{ Querystring: z.infer<typeof campaignListQuerySchema> }>(
    '/v1/campaigns',
    {
      schema: {
        summary:
          "Campaigns newest first, optionally one producer's or one status, a page at a time (`next` continues as `before`)",
        tags: ['crowdfund'],
        querystring: jsonSchema(campaignListQuerySchema, 'input'),
        response: answers(campaignPageSchema),
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
        ...(status === undefined ? {} : { status }),
        ...(before === undefined ? {} : { before: Number(before) }),
        limit: count,
      });
    },
  );

  read(
    '/v1/campaigns/:id',
    'One campaign: producer, terms, distribution rule, status, raised amount, escrow and revenue so far',
    campaignSchema,
    (id) => ({ ...getCampaign(store, id)!, escrow: campaignEscrow(id) }),
  );
  read(
    '/v1/campaigns/:id/investors',
    "The campaign's investors, in address order",
    campaignInvestorsSchema,
    (id) => ({ campaignId: id, investors: listInvestors(store, id) }),
  );
  read(
    '/v1/campaigns/:id/statement',
    "The campaign's waterfall position after each revenue report: each tranche's cumulative fill and remaining cap",
    campaignStatementSchema,
    (id) => campaignStatement(store, id),
  );
  read(
    '/v1/campaigns/:id/chart',
    'Chart-ready series: per report, cumulative revenue, per tranche and per recipient class',
    campaignChartSchema,
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
        response: answers(campaignPositionSchema),
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

  app.post<{ Params: { id: string }; Body: z.infer<typeof campaignSimulateBodySchema> }>(
    '/v1/campaigns/:id/simulate',
    {
      schema: {
        summary:
          'Who would get what if a report of `revenue` (minor units) were applied now: the same waterfall a report runs, without a tx',
        tags: ['crowdfund'],
        params: stringParams('id'),
        body: jsonSchema(campaignSimulateBodySchema, 'input'),
        response: answers(campaignSimulationSchema),
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
