import type { FastifySchemaCompiler } from 'fastify';
import { z } from 'zod';
import { isRejection } from '../../chain/index.js';
import { isAddress, revealHiddenInfo } from '../../crypto/index.js';
import { errorBody, httpStatus } from '../../node/errors.js';
import type { ModuleHost } from '../../node/module-host.js';
import type { SubmitResult } from '../../node/node.js';
import { errorSchema, sendError, stringParams } from '../../node/routes.js';
import { SingleFlight } from '../../node/single-flight.js';
import { jsonSchema, wire } from '../../protocol/schema.js';
import { evidenceSecret, type EquivocationEvidence } from './evidence.js';
import {
  getProducer,
  listProducers,
  nonceRangeHistory,
  nonceRangeHistoryPageMax,
  producerParams,
} from './queries.js';
import {
  evidenceResultSchema,
  nonceRangeHistorySchema,
  producerListSchema,
  producerPayloads,
  producerSchema,
  type EvidenceResult,
  type NonceRangeHistory,
  type Producer,
  type ProducerList,
} from './schema.js';
import { hasEvidence, readParams } from './state.js';

/** `?from=`: the height from which a producer's nonce-range history is listed. */
const nonceRangesQuerySchema = z.object({ from: wire.count.optional() });

/** An error of `POST /v1/evidence`: after a submit it also names the tx (and its height). */
const evidenceErrorSchema = {
  ...errorSchema,
  properties: {
    ...errorSchema.properties,
    hash: { type: 'string' },
    height: { type: 'integer' },
  },
} as const;

/**
 * The body check of `POST /v1/evidence` before the handler: an object with the objects `a` and
 * `b` (other fields dropped), answered `invalid_request` as the schema validator answers. The
 * halves themselves are checked by the `evidence.equivocation` parser in the handler (after the
 * readiness check), refused as `invalid_evidence`; the body schema shows their full shape in the
 * OpenAPI document.
 */
const evidenceEnvelope: FastifySchemaCompiler<unknown> = () => (data: unknown) => {
  const invalid = (instancePath: string, keyword: string, params: object, message: string) => ({
    error: Object.assign(new Error(`body${instancePath} ${message}`), {
      validation: [{ instancePath, keyword, params, message, schemaPath: '' }],
      validationContext: 'body',
    }),
  });
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(data)) return invalid('', 'type', { type: 'object' }, 'must be object');
  for (const key of ['a', 'b']) {
    if (!Object.hasOwn(data, key)) {
      return invalid(
        '',
        'required',
        { missingProperty: key },
        `must have required property '${key}'`,
      );
    }
    if (!isObject(data[key]))
      return invalid(`/${key}`, 'type', { type: 'object' }, 'must be object');
  }
  return { value: { a: data.a, b: data.b } };
};

/**
 * The producer registry's routes: the producers, and equivocation evidence. Evidence is checked
 * here in full (both signatures, the shared nonce, the secret, the hidden information) so a bad
 * report is answered at once; the node then submits it as an `evidence.equivocation` tx signed by
 * its own account, and that tx's handler checks everything again, deterministically.
 */
export function producerRoutes(node: ModuleHost): void {
  const { app, store, chain } = node;
  const evidenceRelays = new SingleFlight<SubmitResult>();

  app.get(
    '/v1/producers',
    {
      schema: {
        summary: 'Every registered producer, by id',
        tags: ['producers'],
        response: { 200: jsonSchema(producerListSchema) },
      },
    },
    // The registry's parameters too: clients need the bond asset and minimum before they register.
    (): ProducerList => ({ producers: listProducers(store), params: readParams(store) ?? null }),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/producers/:id',
    {
      schema: {
        summary:
          'One producer: key, operator, bond, status, committed nonce ranges and, once it equivocated, its revealed identity',
        tags: ['producers'],
        params: stringParams('id'),
        response: { 200: jsonSchema(producerSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (!isAddress(id)) return sendError(reply, 'invalid_producer', 'id');
      const record = getProducer(store, id);
      if (!record) return sendError(reply, 'producer_not_found', 'id');
      return record satisfies Producer;
    },
  );

  app.get<{ Params: { id: string }; Querystring: z.input<typeof nonceRangesQuerySchema> }>(
    '/v1/producers/:id/nonce-ranges',
    {
      schema: {
        summary:
          "A producer's committed nonce ranges, kept for good, with the tx and height that committed each (at most 1,000 from ?from)",
        tags: ['producers'],
        params: stringParams('id'),
        querystring: jsonSchema(nonceRangesQuerySchema, 'input'),
        response: { 200: jsonSchema(nonceRangeHistorySchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (!isAddress(id)) return sendError(reply, 'invalid_producer', 'id');
      if (!getProducer(store, id)) return sendError(reply, 'producer_not_found', 'id');
      const from = request.query.from ?? 0;
      const ranges = nonceRangeHistory(store, id, from);
      return {
        producer: id,
        ranges,
        more: ranges.length === nonceRangeHistoryPageMax,
      } satisfies NonceRangeHistory;
    },
  );

  app.post<{ Body: Record<string, unknown> }>(
    '/v1/evidence',
    {
      validatorCompiler: evidenceEnvelope,
      schema: {
        summary:
          'Report two headers one producer signed at one height: the node verifies them, reveals the producer identity and submits the evidence tx',
        tags: ['producers'],
        body: jsonSchema(producerPayloads['evidence.equivocation'], 'input'),
        response: {
          200: jsonSchema(evidenceResultSchema),
          '4xx': evidenceErrorSchema,
          '5xx': evidenceErrorSchema,
        },
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
        node.submitOwn('evidence.equivocation', evidence, true),
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
      const answer: EvidenceResult = {
        hash: result.hash!,
        status: 'ok',
        height: result.height!,
        producer: record.id,
        infoRevealed: revealed !== undefined,
        info: revealed?.info ?? null,
      };
      return reply.send(answer);
    },
  );
}
