import { isRejection } from '../chain/index.js';
import { isAddress, revealHiddenInfo } from '../crypto/index.js';
import {
  evidenceSecret,
  getProducer,
  readParams,
  hasEvidence,
  listProducers,
  nonceRangeHistory,
  nonceRangeHistoryPageMax,
  producerParams,
  type EquivocationEvidence,
} from '../modules/producers/index.js';
import { errorBody, httpStatus } from './errors.js';
import type { ModuleHost } from './module-host.js';
import type { SubmitResult } from './node.js';
import { anyObject, sendError } from './routes.js';
import { SingleFlight } from './single-flight.js';

/**
 * The producer registry's routes: the producers, and equivocation evidence. Evidence is checked
 * here in full (both signatures, the shared nonce, the secret, the hidden information) so a bad
 * report is answered at once; the node then submits it as an `evidence.equivocation` tx signed by
 * its own account, and that tx's handler checks everything again, deterministically.
 */
export function registerProducerApi(node: ModuleHost): void {
  const { app, store, chain } = node;
  const evidenceRelays = new SingleFlight<SubmitResult>();

  app.get(
    '/v1/producers',
    {
      schema: {
        summary: 'Every registered producer, by id',
        tags: ['producers'],
        response: { 200: anyObject },
      },
    },
    // The registry's parameters too: clients need the bond asset and minimum before they register.
    () => ({ producers: listProducers(store), params: readParams(store) ?? null }),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/producers/:id',
    {
      schema: {
        summary:
          'One producer: key, operator, bond, status, committed nonce ranges and, once it equivocated, its revealed identity',
        tags: ['producers'],
        params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
        response: { 200: anyObject, '4xx': anyObject },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (!isAddress(id)) return sendError(reply, 'invalid_producer', 'id');
      const record = getProducer(store, id);
      if (!record) return sendError(reply, 'producer_not_found', 'id');
      return record;
    },
  );

  app.get<{ Params: { id: string }; Querystring: { from?: number } }>(
    '/v1/producers/:id/nonce-ranges',
    {
      schema: {
        summary:
          "A producer's committed nonce ranges, kept for good, with the tx and height that committed each (at most 1,000 from ?from)",
        tags: ['producers'],
        params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
        querystring: {
          type: 'object',
          properties: { from: { type: 'integer', minimum: 0 } },
        },
        response: { 200: anyObject, '4xx': anyObject },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (!isAddress(id)) return sendError(reply, 'invalid_producer', 'id');
      if (!getProducer(store, id)) return sendError(reply, 'producer_not_found', 'id');
      const from = request.query.from ?? 0;
      const ranges = nonceRangeHistory(store, id, from);
      return { producer: id, ranges, more: ranges.length === nonceRangeHistoryPageMax };
    },
  );

  app.post<{ Body: Record<string, unknown> }>(
    '/v1/evidence',
    {
      schema: {
        summary:
          'Report two headers one producer signed at one height: the node verifies them, reveals the producer identity and submits the evidence tx',
        tags: ['producers'],
        body: {
          type: 'object',
          required: ['a', 'b'],
          properties: { a: anyObject, b: anyObject },
          additionalProperties: false,
        },
        response: { 200: anyObject, '4xx': anyObject, '5xx': anyObject },
      },
    },
    async (request, reply) => {
      if (!node.healthy) return sendError(reply, 'not_ready');
      const parse = chain.registry.parserFor('evidence.equivocation')!;
      const parsed = parse(request.body);
      if (isRejection(parsed)) return sendError(reply, parsed.code, parsed.field);
      const evidence = parsed.value as EquivocationEvidence;
      const { header } = evidence.a;
      if (header.chainId !== chain.chainId) return sendError(reply, 'evidence_wrong_chain');
      const record = getProducer(store, header.producer);
      if (!record) return sendError(reply, 'producer_not_found');
      const params = producerParams(store)!;
      if (header.height + params.evidenceWindowHeights < chain.height() + 1) {
        return sendError(reply, 'evidence_too_old');
      }
      if (hasEvidence(store, record.id, header.height))
        return sendError(reply, 'evidence_duplicate');
      // Checked here as the tx handler would, so the node never signs a tx bound to fail.
      if (record.equivocation) return sendError(reply, 'producer_already_jailed');
      const secret = evidenceSecret(evidence);
      if (secret === undefined) return sendError(reply, 'evidence_no_secret');
      const revealed = revealHiddenInfo(secret, record.hiddenInfo, record.commitment);
      // Reports of one producer at one height arriving together share one evidence tx.
      const result = await evidenceRelays.run(`${record.id}/${header.height}`, () =>
        node.submitOwn(
          'evidence.equivocation',
          evidence as unknown as Record<string, unknown>,
          true,
        ),
      );
      if (result.error) {
        return reply
          .code(httpStatus(result.error.code))
          .send({ ...errorBody(result.error.code, result.error.field), hash: result.hash });
      }
      if (result.status !== 'ok') {
        return reply
          .code(httpStatus(result.status!))
          .send({ ...errorBody(result.status!), hash: result.hash, height: result.height });
      }
      return reply.send({
        hash: result.hash,
        status: 'ok',
        height: result.height,
        producer: record.id,
        infoRevealed: revealed !== undefined,
        info: revealed?.info ?? null,
      });
    },
  );
}
