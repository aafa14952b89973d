import { z } from 'zod';
import { isAddress } from '../../crypto/index.js';
import type { ModuleHost } from '../../node/module-host.js';
import { errorSchema, sendError, stringParams } from '../../node/routes.js';
import { committedTxWithProof } from '../../node/tx-proof.js';
import { jsonSchema } from '../../protocol/schema.js';
import {
  agreementView,
  contentView,
  licensingPageDefault,
  licensingPageMax,
  listContent,
  listContentAgreements,
  listHolderContent,
  listLicenseeAgreements,
  offerView,
  titleView,
} from './queries.js';
import {
  agreementPageSchema,
  agreementViewSchema,
  contentPageSchema,
  contentViewSchema,
  isAgreementId,
  isContentId,
  isOfferId,
  offerViewSchema,
  titleSchema,
} from './schema.js';

const limitPattern = /^[1-9][0-9]{0,2}$/;
const tags = ['licensing'];
const pageQuery = jsonSchema(
  z.strictObject({ after: z.string().optional(), limit: z.string().optional() }),
  'input',
);

/**
 * The licensing module's reads (issue 21), from committed state: the catalogue, one content with
 * its open offers, an offer or an agreement with its ODRL rendering, a licensee's agreements, a
 * holder's content, a content's agreements, and the chain of title with the Merkle proofs of its
 * txs. Lists are pages (`limit` 1 to 100, default 50; `next` continues as `after`).
 */
export function licensingRoutes(host: ModuleHost): void {
  const { app, store } = host;

  function pageLimit(limit: string | undefined): number | undefined {
    if (limit === undefined) return licensingPageDefault;
    if (!limitPattern.test(limit)) return undefined;
    const count = Number(limit);
    return count > licensingPageMax ? undefined : count;
  }

  type PageQuery = { Querystring: { after?: string; limit?: string } };

  app.get<PageQuery>(
    '/v1/licensing/content',
    {
      schema: {
        summary: 'The catalogue: registered content in id order with its open offers count',
        tags,
        querystring: pageQuery,
        response: { 200: jsonSchema(contentPageSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { after, limit } = request.query;
      if (after !== undefined && !isContentId(after)) {
        return sendError(reply, 'invalid_content_id', 'after');
      }
      const count = pageLimit(limit);
      if (count === undefined) return sendError(reply, 'invalid_request', 'limit');
      return listContent(store, { ...(after === undefined ? {} : { after }), limit: count });
    },
  );

  app.get<{ Params: { contentId: string } }>(
    '/v1/licensing/content/:contentId',
    {
      schema: {
        summary:
          "A content: its record (owner, holder, public key, chain of title length), its holder's open offers and the count of all open offers",
        tags,
        params: stringParams('contentId'),
        response: { 200: jsonSchema(contentViewSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { contentId } = request.params;
      if (!isContentId(contentId)) return sendError(reply, 'invalid_content_id', 'contentId');
      return contentView(store, contentId) ?? sendError(reply, 'content_not_found', 'contentId');
    },
  );

  app.get<{ Params: { contentId: string; offerId: string } }>(
    '/v1/licensing/content/:contentId/offers/:offerId',
    {
      schema: {
        summary: 'An offer (open or withdrawn) with its policy as ODRL 2.2 JSON-LD',
        tags,
        params: stringParams('contentId', 'offerId'),
        response: { 200: jsonSchema(offerViewSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { contentId, offerId } = request.params;
      if (!isContentId(contentId)) return sendError(reply, 'invalid_content_id', 'contentId');
      if (!isOfferId(offerId)) return sendError(reply, 'invalid_offer_id', 'offerId');
      return offerView(store, contentId, offerId) ?? sendError(reply, 'offer_not_found', 'offerId');
    },
  );

  app.get<PageQuery & { Params: { contentId: string } }>(
    '/v1/licensing/content/:contentId/agreements',
    {
      schema: {
        summary: "A content's agreements in agreementId order (the holder's dashboard)",
        tags,
        params: stringParams('contentId'),
        querystring: pageQuery,
        response: { 200: jsonSchema(agreementPageSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { contentId } = request.params;
      const { after, limit } = request.query;
      if (!isContentId(contentId)) return sendError(reply, 'invalid_content_id', 'contentId');
      if (after !== undefined && !isAgreementId(after)) {
        return sendError(reply, 'invalid_agreement_id', 'after');
      }
      const count = pageLimit(limit);
      if (count === undefined) return sendError(reply, 'invalid_request', 'limit');
      return listContentAgreements(store, contentId, {
        ...(after === undefined ? {} : { after }),
        limit: count,
      });
    },
  );

  app.get<{ Params: { contentId: string } }>(
    '/v1/licensing/content/:contentId/title',
    {
      schema: {
        summary:
          'The chain of title: the registration and each assignment as committed txs with their block headers and Merkle proofs',
        tags,
        params: stringParams('contentId'),
        response: { 200: jsonSchema(titleSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { contentId } = request.params;
      if (!isContentId(contentId)) return sendError(reply, 'invalid_content_id', 'contentId');
      return (
        titleView(store, (hash) => committedTxWithProof(store, hash), contentId) ??
        sendError(reply, 'content_not_found', 'contentId')
      );
    },
  );

  app.get<{ Params: { agreementId: string } }>(
    '/v1/licensing/agreements/:agreementId',
    {
      schema: {
        summary:
          'An agreement (uses, devices, payment splits, status) with its policy as ODRL JSON-LD and its parent agreement if a sublicence',
        tags,
        params: stringParams('agreementId'),
        response: { 200: jsonSchema(agreementViewSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { agreementId } = request.params;
      if (!isAgreementId(agreementId)) {
        return sendError(reply, 'invalid_agreement_id', 'agreementId');
      }
      return (
        agreementView(store, agreementId) ?? sendError(reply, 'agreement_not_found', 'agreementId')
      );
    },
  );

  app.get<PageQuery & { Params: { address: string } }>(
    '/v1/licensing/accounts/:address/agreements',
    {
      schema: {
        summary: "A licensee's agreements in agreementId order",
        tags,
        params: stringParams('address'),
        querystring: pageQuery,
        response: { 200: jsonSchema(agreementPageSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { address } = request.params;
      const { after, limit } = request.query;
      if (!isAddress(address)) return sendError(reply, 'invalid_address', 'address');
      if (after !== undefined && !isAgreementId(after)) {
        return sendError(reply, 'invalid_agreement_id', 'after');
      }
      const count = pageLimit(limit);
      if (count === undefined) return sendError(reply, 'invalid_request', 'limit');
      return listLicenseeAgreements(store, address, {
        ...(after === undefined ? {} : { after }),
        limit: count,
      });
    },
  );

  app.get<PageQuery & { Params: { address: string } }>(
    '/v1/licensing/accounts/:address/content',
    {
      schema: {
        summary: "The content an account holds now, in id order (a rights holder's dashboard)",
        tags,
        params: stringParams('address'),
        querystring: pageQuery,
        response: { 200: jsonSchema(contentPageSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { address } = request.params;
      const { after, limit } = request.query;
      if (!isAddress(address)) return sendError(reply, 'invalid_address', 'address');
      if (after !== undefined && !isContentId(after)) {
        return sendError(reply, 'invalid_content_id', 'after');
      }
      const count = pageLimit(limit);
      if (count === undefined) return sendError(reply, 'invalid_request', 'limit');
      return listHolderContent(store, address, {
        ...(after === undefined ? {} : { after }),
        limit: count,
      });
    },
  );
}
