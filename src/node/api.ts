import swagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import type { FastifyError } from 'fastify';
import { batchLengthMax, decodeBlockSignature, type BlockHeader } from '../chain/index.js';
import { isAddress } from '../crypto/index.js';
import {
  assetSymbolPattern,
  emptyAccount,
  formatUnits,
  ledgerKeys,
  type AccountRecord,
  type AssetRecord,
  type HoldRecord,
} from '../ledger/index.js';
import type { EventPosition, StoredBlock } from '../state/index.js';
import { validatorQuorum } from '../consensus/index.js';
import { activeValidatorSet } from '../modules/producers/index.js';
import { defaultConsoleDir, registerConsole } from './console.js';
import { errorBody, httpStatus } from './errors.js';
import { typeMatchesAny, type EventFilter } from './event-hub.js';
import type { CofferNode, SubmitResult } from './node.js';
import { errorSchema, sendError } from './routes.js';
import { committedTxWithProof } from './tx-proof.js';
import { registerWebhookRoutes } from './webhooks/index.js';
import { jsonSchema } from '../protocol/schema.js';
import {
  accountSchema,
  assetListSchema,
  assetSchema,
  batchResultSchema,
  blockPageSchema,
  blockWithTxsSchema,
  eventPageSchema,
  openHoldSchema,
  clockAdvanceSchema,
  committedTxSchema,
  finalitySchema,
  healthSchema,
  pendingTxSchema,
  submitAnswerSchema,
} from '../protocol/api.js';
import { signedTxSchema } from '../protocol/core.js';
import { z } from 'zod';

const blocksPerPageMax = 100;
/** Events one history page reads (before its filters): bounds the answer and the work. */
const eventsPerPageMax = 1_000;
/** A batch of 10,000 txs of ~600 bytes each, with room to spare. */
const batchBodyBytesMax = 16 * 1024 * 1024;
/** A websocket subscriber that falls this far behind is disconnected rather than buffered. */
const subscriberBufferBytesMax = 8 * 1024 * 1024;

function blockJson(block: StoredBlock, finalizedHeight: number, txs?: string[]) {
  return {
    height: block.height,
    hash: block.hash,
    header: JSON.parse(block.header) as BlockHeader,
    signature: decodeBlockSignature(block.signature),
    txCount: block.txCount,
    /** Attested by more than two thirds of the validators (solo: every committed block). */
    final: block.height <= finalizedHeight,
    ...(txs ? { txs } : {}),
  };
}

/** A committed tx that failed answers this, whatever its code: the tx is in a block, its nonce spent. */
const committedFailureStatus = 422;

function submitStatus(result: SubmitResult): number {
  if (result.error) return httpStatus(result.error.code);
  if (result.status === 'pending') return 202;
  return result.status === 'ok' ? 200 : committedFailureStatus;
}

function resultJson(result: SubmitResult) {
  if (result.error?.code === 'final_timeout') {
    // Committed (the receipt status says how), only not final in time.
    return {
      hash: result.hash,
      status: result.status,
      height: result.height,
      index: result.index,
      final: false,
      error: result.error,
    };
  }
  if (result.error) {
    return {
      ...(result.hash ? { hash: result.hash } : {}),
      status: 'rejected',
      error: result.error,
      // final_timeout: committed at this height, not final yet.
      ...(result.height === undefined ? {} : { height: result.height }),
    };
  }
  if (result.status === 'pending') return { hash: result.hash, status: 'pending' };
  return {
    hash: result.hash,
    status: result.status,
    height: result.height,
    index: result.index,
    ...(result.final ? { final: true } : {}),
  };
}

function waitOf(query: { wait?: string }): boolean | 'final' {
  return query.wait === 'final' ? 'final' : query.wait === 'commit';
}

/** An asset as the API answers it: `maxSupply` is always there, null when unlimited. */
function assetJson(
  record: AssetRecord,
): Omit<AssetRecord, 'maxSupply'> & { maxSupply: string | null } {
  return { ...record, maxSupply: record.maxSupply ?? null };
}

export async function registerApi(node: CofferNode): Promise<void> {
  const { app, store, chain } = node;

  await app.register(swagger, {
    // @fastify/websocket hides websocket routes from the document; /v1/events is part of the API.
    // A route whose body the node checks itself (a tx, in decodeTx's precedence and codes) shows
    // the body's schema from its `config.documentedBody` without Fastify validating against it.
    transform: ({ schema, url, route }) => {
      const documentedBody = route.config?.documentedBody;
      const shown = documentedBody === undefined ? schema : { ...schema, body: documentedBody };
      return route.websocket ? { schema: { ...shown, hide: false }, url } : { schema: shown, url };
    },
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Coffer node API',
        version: '1',
        description:
          'Signed transactions, the double-entry ledger and signed blocks of one Coffer node.',
      },
      tags: node.modules.flatMap((module) => (module.tag ? [module.tag] : [])),
      components: {
        securitySchemes: {
          adminToken: {
            type: 'http',
            scheme: 'bearer',
            description:
              "The node operator's token: COFFER_ADMIN_TOKEN, or the admin-token file in the data directory",
          },
        },
      },
    },
  });
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });

  // The web console at `/` (src/node/console.ts): page requests outside the API get its page.
  const consoleDir =
    node.config.consoleDir === 'off' ? undefined : (node.config.consoleDir ?? defaultConsoleDir());
  const consolePage = consoleDir
    ? await registerConsole(app, consoleDir, node.config.consoleMediaOrigins)
    : undefined;
  app.setNotFoundHandler((request, reply) => {
    if (consolePage?.(request, reply)) return;
    return sendError(reply, 'route_not_found');
  });
  app.setErrorHandler((error: FastifyError, _request, reply) => {
    if (error.validation) {
      const issue = error.validation[0];
      const parts = issue?.instancePath ? issue.instancePath.slice(1).split('/') : [];
      // A missing property is reported on its parent; name the property itself.
      const missing = issue?.keyword === 'required' ? issue.params.missingProperty : undefined;
      if (typeof missing === 'string') parts.push(missing);
      const field = parts.length > 0 ? parts.join('.') : undefined;
      return reply
        .code(400)
        .send(errorBody('invalid_request', field, `The request is not valid: ${error.message}.`));
    }
    if (error.statusCode === 413) return sendError(reply, 'body_too_large');
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return reply
        .code(400)
        .send(
          errorBody('invalid_request', undefined, `The request is not valid: ${error.message}.`),
        );
    }
    app.log.error({ err: error }, 'request failed');
    return sendError(reply, 'internal_error');
  });
  app.addHook('onResponse', (request, reply, done) => {
    node.metrics.http.inc({
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    });
    done();
  });

  // A submission's answer and a batch's: one flat object per tx (a union would make every item of
  // a 10,000-tx batch be matched against each branch as it serialises).
  const submitAnswer = jsonSchema(submitAnswerSchema);
  const batchAnswer = jsonSchema(
    batchResultSchema.extend({ results: z.array(submitAnswerSchema) }),
  );

  const waitQuery = {
    type: 'object',
    properties: {
      wait: {
        type: 'string',
        enum: ['commit', 'final', 'none'],
        description:
          'commit: answer once committed; final: once the block is also final (attested by more than two thirds of the validators)',
      },
    },
  } as const;

  app.post<{ Body: unknown; Querystring: { wait?: string } }>(
    '/v1/txs',
    {
      config: { documentedBody: jsonSchema(signedTxSchema, 'input') },
      schema: {
        summary: 'Submit one signed transaction',
        tags: ['txs'],
        querystring: waitQuery,
        body: { type: 'object', additionalProperties: true },
        response: {
          200: submitAnswer,
          202: submitAnswer,
          '4xx': submitAnswer,
        },
      },
    },
    async (request, reply) => {
      const [result] = await node.submit([request.body], waitOf(request.query));
      const status = submitStatus(result!);
      if (result!.error)
        return reply.code(status).send({
          ...errorBody(result!.error.code, result!.error.field),
          ...(result!.hash ? { hash: result!.hash } : {}),
          ...(result!.height === undefined ? {} : { height: result!.height }),
        });
      if (status >= 400) {
        // Committed, but the tx failed: its nonce is spent and the receipt says why.
        return reply.code(status).send({ ...errorBody(result!.status!), ...resultJson(result!) });
      }
      return reply.code(status).send(resultJson(result!));
    },
  );

  // Batch bodies being read, parsed or admitted at once, across requests: each reserves its
  // Content-Length (the body limit when none is given) before its body is read and releases it
  // once answered or abandoned. Past the bound the node answers 503 node_busy without reading
  // the body, so concurrent 16 MiB batches cannot grow the heap without limit; the txs a node
  // admits at once are bounded too (CofferNode.admissionTxsMax).
  const batchBodiesInFlightBytesMax = 2 * batchBodyBytesMax;
  let batchBodyBytesInFlight = 0;
  const reservedBodyBytes = new WeakMap<object, number>();
  const releaseBatchBody = (request: object) => {
    const bytes = reservedBodyBytes.get(request);
    if (bytes === undefined) return;
    reservedBodyBytes.delete(request);
    batchBodyBytesInFlight -= bytes;
  };

  app.post<{ Body: { txs: unknown[] }; Querystring: { wait?: string } }>(
    '/v1/txs/batch',
    {
      onRequest: async (request, reply) => {
        const declared = Number(request.headers['content-length']);
        const bytes =
          Number.isSafeInteger(declared) && declared >= 0
            ? Math.min(declared, batchBodyBytesMax)
            : batchBodyBytesMax;
        if (batchBodyBytesInFlight + bytes > batchBodiesInFlightBytesMax) {
          return sendError(reply, 'node_busy');
        }
        batchBodyBytesInFlight += bytes;
        reservedBodyBytes.set(request, bytes);
      },
      onResponse: (request, _reply, done) => {
        releaseBatchBody(request);
        done();
      },
      onRequestAbort: (request, done) => {
        releaseBatchBody(request);
        done();
      },
      config: {
        documentedBody: jsonSchema(z.object({ txs: z.array(signedTxSchema).max(batchLengthMax) })),
      },
      bodyLimit: batchBodyBytesMax,
      // The validator coerces a scalar into a one-item array (`"txs": 5` into `[5]`); refuse that
      // before it runs, so a malformed batch is a 400 rather than a batch of one bad tx.
      preValidation: async (request, reply) => {
        const body = request.body as Record<string, unknown> | null;
        if (body && typeof body === 'object' && 'txs' in body && !Array.isArray(body.txs)) {
          return sendError(reply, 'invalid_request', 'txs');
        }
      },
      schema: {
        summary: 'Submit up to 10,000 signed transactions; each gets its own result',
        tags: ['txs'],
        querystring: waitQuery,
        body: {
          type: 'object',
          required: ['txs'],
          properties: { txs: { type: 'array', items: {} } },
        },
        response: { 200: batchAnswer, '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { txs } = request.body;
      if (txs.length > batchLengthMax) return sendError(reply, 'batch_too_large', 'txs');
      // A halted node refuses the whole batch, as it refuses a single tx, rather than answering
      // 200 with every item rejected.
      if (!node.healthy) return sendError(reply, 'not_ready');
      const results = await node.submit(txs, waitOf(request.query));
      // Past the node's bound on txs being admitted at once, nothing of the batch was taken.
      if (results.length > 0 && results.every((r) => r.error?.code === 'node_busy')) {
        return sendError(reply, 'node_busy');
      }
      const accepted = results.filter((r) => !r.error).length;
      return reply.send({
        accepted,
        rejected: results.length - accepted,
        results: results.map(resultJson),
      });
    },
  );

  app.get<{ Params: { hash: string } }>(
    '/v1/txs/:hash',
    {
      schema: {
        summary: 'A committed tx with its receipt, block and Merkle inclusion proof',
        tags: ['txs'],
        params: { type: 'object', properties: { hash: { type: 'string' } }, required: ['hash'] },
        response: {
          200: jsonSchema(committedTxSchema),
          202: jsonSchema(pendingTxSchema),
          '4xx': errorSchema,
        },
      },
    },
    async (request, reply) => {
      const { hash } = request.params;
      if (!/^[0-9a-f]{64}$/.test(hash)) return sendError(reply, 'invalid_request', 'hash');
      const committed = committedTxWithProof(store, hash);
      if (!committed) {
        if (node.consensus.isPending(hash))
          return reply.code(202).send({ hash, status: 'pending' });
        return sendError(reply, 'tx_not_found', 'hash');
      }
      return reply.send(committed);
    },
  );

  app.get(
    '/v1/genesis',
    {
      schema: {
        summary:
          "The genesis document this chain started from: its hash-free source of block 0's state (a verifier recomputes block 0's stateRoot from it)",
        tags: ['blocks'],
        // Sent as stored (a string), so it is not serialised again: the schema only documents it.
        response: { 200: { type: 'object', additionalProperties: true } },
      },
    },
    (_request, reply) =>
      // The stored canonical text, sent as it is: a verifier hashes exactly what was committed.
      reply.type('application/json; charset=utf-8').send(store.getMeta('genesis')),
  );

  const blockSchema = {
    response: { 200: jsonSchema(blockWithTxsSchema), '4xx': errorSchema },
    tags: ['blocks'],
  };

  app.get(
    '/v1/blocks/latest',
    { schema: { summary: 'The last committed block', ...blockSchema } },
    () => {
      const block = store.getBlock(store.lastHeight())!;
      return blockJson(block, node.consensus.finalizedHeight, store.getTxHashes(block.height));
    },
  );

  app.get<{ Params: { height: string } }>(
    '/v1/blocks/:height',
    {
      schema: {
        summary: 'The block at a height, with its tx hashes',
        params: {
          type: 'object',
          properties: { height: { type: 'string' } },
          required: ['height'],
        },
        ...blockSchema,
      },
    },
    async (request, reply) => {
      const text = request.params.height;
      if (!/^(0|[1-9][0-9]{0,15})$/.test(text))
        return sendError(reply, 'invalid_request', 'height');
      const block = store.getBlock(Number(text));
      if (!block) return sendError(reply, 'block_not_found', 'height');
      return blockJson(block, node.consensus.finalizedHeight, store.getTxHashes(block.height));
    },
  );

  app.get<{ Querystring: { from?: number; to?: number } }>(
    '/v1/blocks',
    {
      schema: {
        summary: 'Headers of blocks from..to (at most 100)',
        querystring: {
          type: 'object',
          properties: {
            from: { type: 'integer', minimum: 0 },
            to: { type: 'integer', minimum: 0 },
          },
        },
        tags: ['blocks'],
        response: { 200: jsonSchema(blockPageSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      // The range asked for is checked as given, whatever the chain's height, so the same query
      // is valid or invalid on every node; the answer is then clipped to the committed blocks.
      const { from: fromAsked, to: toAsked } = request.query;
      if (fromAsked !== undefined && toAsked !== undefined) {
        if (fromAsked > toAsked) return sendError(reply, 'invalid_range', 'from');
        if (toAsked - fromAsked + 1 > blocksPerPageMax)
          return sendError(reply, 'invalid_range', 'to');
      }
      const last = store.lastHeight();
      // With one end given, the page is the (at most) 100 blocks that start or end there.
      const toWanted =
        toAsked ?? (fromAsked === undefined ? last : fromAsked + blocksPerPageMax - 1);
      const to = Math.min(toWanted, last);
      const from = fromAsked ?? Math.max(0, to - (blocksPerPageMax - 1));
      return {
        from,
        to,
        blocks:
          from > to
            ? []
            : store.getBlocks(from, to).map((b) => blockJson(b, node.consensus.finalizedHeight)),
      };
    },
  );

  app.get<{ Params: { address: string } }>(
    '/v1/accounts/:address',
    {
      schema: {
        summary: "An account's nonce, balances and open holds",
        tags: ['accounts'],
        params: {
          type: 'object',
          properties: { address: { type: 'string' } },
          required: ['address'],
        },
        response: { 200: jsonSchema(accountSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { address } = request.params;
      if (!isAddress(address)) return sendError(reply, 'invalid_address', 'address');
      const text = store.get(ledgerKeys.account(address));
      const account = text ? (JSON.parse(text) as AccountRecord) : emptyAccount();
      const symbols = [
        ...new Set([...Object.keys(account.balances), ...Object.keys(account.held)]),
      ].sort();
      const balances = symbols.map((symbol) => {
        const asset = JSON.parse(store.get(ledgerKeys.asset(symbol))!) as AssetRecord;
        const balance = BigInt(account.balances[symbol] ?? '0');
        const held = BigInt(account.held[symbol] ?? '0');
        return {
          asset: symbol,
          decimals: asset.decimals,
          balance: balance.toString(),
          held: held.toString(),
          formatted: {
            balance: formatUnits(balance, asset.decimals),
            held: formatUnits(held, asset.decimals),
          },
          frozen: account.frozen.includes(symbol),
        };
      });
      const holds = account.holds
        .map((id) => store.get(ledgerKeys.hold(id)))
        .filter((t): t is string => t !== undefined)
        .map((t) => JSON.parse(t) as HoldRecord);
      return { address, nonce: account.nonce, balances, frozen: account.frozen, holds };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/holds/:id',
    {
      schema: {
        summary:
          'An open hold (the hold id is the hash of its hold.create tx); once settled, its event says how (GET /v1/events?from=)',
        tags: ['accounts'],
        params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
        response: { 200: jsonSchema(openHoldSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (!/^[0-9a-f]{64}$/.test(id)) return sendError(reply, 'invalid_hold_id', 'id');
      const text = store.get(ledgerKeys.hold(id));
      if (text === undefined) return sendError(reply, 'hold_not_found', 'id');
      const hold = JSON.parse(text) as HoldRecord;
      // Usable up to and including its expiry height: the next block is the last one's + 1.
      return { ...hold, open: hold.expiresAtHeight > store.lastHeight() };
    },
  );

  app.get(
    '/v1/assets',
    {
      schema: {
        summary: 'Every asset',
        tags: ['assets'],
        response: { 200: jsonSchema(assetListSchema) },
      },
    },
    () => {
      const assets = [];
      for (const [, text] of store.scan(ledgerKeys.asset('')))
        assets.push(assetJson(JSON.parse(text) as AssetRecord));
      return { assets };
    },
  );

  app.get<{ Params: { symbol: string } }>(
    '/v1/assets/:symbol',
    {
      schema: {
        summary: 'One asset: issuer, decimals, supply, max supply',
        tags: ['assets'],
        params: {
          type: 'object',
          properties: { symbol: { type: 'string' } },
          required: ['symbol'],
        },
        response: { 200: jsonSchema(assetSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { symbol } = request.params;
      if (!assetSymbolPattern.test(symbol)) return sendError(reply, 'invalid_symbol', 'symbol');
      const text = store.get(ledgerKeys.asset(symbol));
      if (!text) return sendError(reply, 'asset_not_found', 'symbol');
      return assetJson(JSON.parse(text) as AssetRecord);
    },
  );

  app.post<{ Body: { advanceMs: number } }>(
    '/v1/dev/clock',
    {
      schema: {
        summary:
          'Development only (node started with --dev-clock): move the block clock forward by advanceMs and cut a block at once, so expiries and demurrage can be tried without waiting',
        tags: ['node'],
        body: {
          type: 'object',
          required: ['advanceMs'],
          properties: { advanceMs: {} },
          additionalProperties: false,
        },
        response: { 200: jsonSchema(clockAdvanceSchema), '4xx': errorSchema, '5xx': errorSchema },
      },
    },
    async (request, reply) => {
      if (!node.config.devClock) return sendError(reply, 'dev_clock_disabled');
      if (!node.healthy) return sendError(reply, 'not_ready');
      const { advanceMs } = request.body;
      if (!Number.isSafeInteger(advanceMs) || advanceMs < 1 || advanceMs > 3_650 * 86_400_000) {
        return sendError(reply, 'invalid_clock_advance', 'advanceMs');
      }
      const committed = node.advanceClock(advanceMs);
      const head = chain.latest();
      return {
        offsetMs: node.clockOffsetMs,
        height: head.header.height,
        blockTime: head.header.time,
        blockCut: committed !== undefined,
      };
    },
  );

  app.get(
    '/health',
    {
      schema: {
        summary:
          "Liveness and head of chain: ok, degraded (still producing; `reason` says why) or halted (503: a fault, or the producer cannot sign the next height), with the producer's committed nonces ahead",
        tags: ['node'],
        response: { 200: jsonSchema(healthSchema), 503: jsonSchema(healthSchema) },
      },
    },
    async (_request, reply) => {
      const head = chain.latest();
      // A fault halts the node; else the producer's nonce runway may degrade or halt production.
      const nonces = node.healthy ? node.nonceHealth() : { status: 'halted' as const };
      const runway = node.nonceRunway();
      const body = {
        status: nonces.status,
        chainId: chain.chainId,
        height: head.header.height,
        blockHash: head.hash,
        blockTime: head.header.time,
        finalizedHeight: node.consensus.finalizedHeight,
        consensus: node.consensus.kind,
        ...(node.config.validator ? { validator: node.config.validator } : {}),
        pendingTxs: node.consensus.pendingCount(),
        ...(node.config.devClock ? { devClockOffsetMs: node.clockOffsetMs } : {}),
        ...(runway ? { nonceRunway: runway } : {}),
        ...(nonces.reason ? { reason: nonces.reason } : {}),
        ...(node.faultMessage() ? { fault: node.faultMessage() } : {}),
      };
      return reply.code(nonces.status === 'halted' ? 503 : 200).send(body);
    },
  );

  app.get(
    '/v1/finality',
    {
      schema: {
        summary:
          'How far the chain is final: the highest height attested by more than two thirds of the validators (the operators of the active producers, each counted once), the validators that count for the next heights, and the quorum they need',
        tags: ['blocks'],
        response: { 200: jsonSchema(finalitySchema) },
      },
    },
    () => {
      const head = chain.latest();
      // The set and quorum of the next heights: what the cluster's finality counts with (the
      // active producers; attestations by their operators, each counted once).
      const set = activeValidatorSet(store);
      return {
        consensus: node.consensus.kind,
        height: head.header.height,
        finalizedHeight: node.consensus.finalizedHeight,
        validators: set.members,
        quorum: validatorQuorum(set.operators),
      };
    },
  );

  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics', tags: ['node'], hide: false } },
    async (_request, reply) => {
      const text = await node.metrics.registry.metrics();
      return reply.type(node.metrics.registry.contentType).send(text);
    },
  );

  if (node.webhooks) registerWebhookRoutes(app, node.webhooks.routes);

  // Each module registers its own routes (src/modules/<name>/routes.ts), in the registry's order.
  for (const module of node.modules) module.routes?.(node);

  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  // Event types are not declared by modules yet, so a type is known when it is well formed and its
  // first word names a tx noun or a module of this chain (every event is named either way).
  const eventNamespaces = new Set([
    'block',
    'final',
    ...chain.registry.txTypes().map((t) => t.split('.')[0]!),
    ...chain.registry.modules.map((m) => m.name),
  ]);
  const eventTypePattern = /^[a-z][a-zA-Z0-9]*(\.[a-zA-Z0-9]+)*\.?$/;
  const eventTypeKnown = (t: string) =>
    t.length <= 64 && eventTypePattern.test(t) && eventNamespaces.has(t.split('.')[0]!);
  /** Types one subscription may name: each is matched against every message it could get. */
  const eventTypesMax = 32;

  /** Parses a subscription's or a history query's `type` list; a string is the refusal's message. */
  const parseEventTypes = (type: string): string[] | { message: string } => {
    const types = type
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const unknown = types.find((t) => !eventTypeKnown(t));
    if (types.length <= eventTypesMax && unknown === undefined) return types;
    return {
      message:
        unknown === undefined
          ? `At most ${eventTypesMax} types a subscription.`
          : `No tx or event type is named "${unknown.slice(0, 80)}": use a tx type (ledger.transfer), an event type (ledger.transferred), a prefix ending in a dot (campaign.), block or final.`,
    };
  };

  app.route<{
    Querystring: { address?: string; type?: string; from?: number; to?: number; after?: string };
  }>({
    method: 'GET',
    url: '/v1/events',
    schema: {
      summary:
        'Websocket of committed blocks, receipts and events, filtered by address and type; without a websocket and with `from`, a page of committed events',
      tags: ['events'],
      querystring: {
        type: 'object',
        properties: {
          address: { type: 'string' },
          type: {
            type: 'string',
            description: 'comma-separated tx or event types; a trailing dot matches a prefix',
          },
          from: { type: 'integer', minimum: 0, description: 'history: the first height' },
          to: {
            type: 'integer',
            minimum: 0,
            description: 'history: the last height (at most from + 99)',
          },
          after: { type: 'string', description: "history: a page's `next`, to continue its range" },
        },
      },
      response: { 200: jsonSchema(eventPageSchema), '4xx': errorSchema },
    },
    // A plain GET (no Upgrade) with `from` reads committed events; without, it is told what this
    // endpoint is, in the error shape.
    handler: (request, reply) => {
      const { from, to: toAsked, after, address, type } = request.query;
      if (from === undefined) return sendError(reply, 'websocket_required');
      if (toAsked !== undefined && toAsked < from) return sendError(reply, 'invalid_range', 'to');
      if (toAsked !== undefined && toAsked - from + 1 > blocksPerPageMax)
        return sendError(reply, 'invalid_range', 'to');
      if (address !== undefined && !isAddress(address))
        return sendError(reply, 'invalid_address', 'address');
      const types = type === undefined ? undefined : parseEventTypes(type);
      if (types !== undefined && !Array.isArray(types))
        return sendError(reply, 'invalid_event_type', 'type');
      const to = Math.min(toAsked ?? from + blocksPerPageMax - 1, store.lastHeight());
      let start: EventPosition = {
        height: from - 1,
        txIndex: Number.MAX_SAFE_INTEGER,
        eventIndex: 0,
      };
      if (after !== undefined) {
        const cursor = /^(0|[1-9][0-9]{0,15}):(0|[1-9][0-9]{0,8}):(0|[1-9][0-9]{0,8})$/.exec(after);
        const position = cursor && {
          height: Number(cursor[1]),
          txIndex: Number(cursor[2]) - 1,
          eventIndex: Number(cursor[3]),
        };
        if (!position || position.height < from || position.height > to)
          return sendError(reply, 'invalid_event_cursor', 'after');
        start = position;
      }
      const rows = from > to ? [] : store.getEvents(start, to, eventsPerPageMax);
      const hashes = new Map<number, string[]>();
      const txHash = (height: number, index: number) => {
        if (index < 0) return null;
        let list = hashes.get(height);
        if (!list) hashes.set(height, (list = store.getTxHashes(height)));
        return list[index] ?? null;
      };
      const events = rows.flatMap((row) => {
        if (types && types.length > 0 && !typeMatchesAny(types, row.type)) return [];
        const data = JSON.parse(row.data) as Record<string, unknown>;
        if (address !== undefined && !Object.values(data).includes(address)) return [];
        return [{ height: row.height, tx: txHash(row.height, row.txIndex), type: row.type, data }];
      });
      const last = rows.at(-1);
      return {
        from,
        to,
        events,
        ...(rows.length === eventsPerPageMax && last
          ? { next: `${last.height}:${last.txIndex + 1}:${last.eventIndex}` }
          : {}),
      };
    },
    wsHandler: (socket, request) => {
      const { address, type } = request.query;
      if (address !== undefined && !isAddress(address)) {
        socket.send(JSON.stringify(errorBody('invalid_address', 'address')));
        socket.close(1008, 'invalid_address');
        return;
      }
      const filter: EventFilter = {};
      if (address) filter.address = address;
      if (type) {
        const types = parseEventTypes(type);
        if (!Array.isArray(types)) {
          socket.send(JSON.stringify(errorBody('invalid_event_type', 'type', types.message)));
          socket.close(1008, 'invalid_event_type');
          return;
        }
        filter.types = types;
      }
      const unsubscribe = node.hub.subscribe({
        filter,
        send: (message) => {
          if (socket.bufferedAmount > subscriberBufferBytesMax) {
            socket.close(1013, 'subscriber too slow');
            unsubscribe();
            return;
          }
          socket.send(JSON.stringify(message));
        },
      });
      socket.on('close', unsubscribe);
      socket.on('error', unsubscribe);
    },
  });
}
