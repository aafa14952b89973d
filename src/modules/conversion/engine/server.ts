/*
 * The bridge's HTTP API (`coffer bridge start`): quotes, forwards, liquidity, the reconciliation
 * report, the engine's event log, and the provider deposit webhook. Errors have the node's shape,
 * `{ error: { code, message, field? } }`, with the status the refusal names. Every body is
 * bounded; every list is paged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { EngineError, type Engine } from './engine.js';
import type { Deposit } from './ledgers.js';
import { reconcile } from './reconcile.js';
import type { EngineStore } from './store.js';

/** Verifies a provider's signed deposit notification (the HTTP protocol): a Deposit, or a coded refusal. */
export type DepositVerifier = (request: {
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
}) => Deposit | { code: string; message: string };

export interface BridgeServerOptions {
  engine: Engine;
  store: EngineStore;
  /** Per provider ecosystem: how its notifications are verified. */
  depositVerifiers: Map<string, DepositVerifier>;
  /**
   * The operator's bearer token for the routes that show every forward (the list, the
   * reconciliation, the event log, liquidity): without one they are open (the bridge warns).
   */
  operatorToken?: string;
}

/** A request body the bridge reads at most (a quote or forward request is a few hundred bytes). */
const bodyBytesMax = 16 * 1024;
const pageMax = 100;

export async function createBridgeServer(options: BridgeServerOptions): Promise<FastifyInstance> {
  const { engine, store } = options;
  const app = Fastify({ bodyLimit: bodyBytesMax, logger: false });
  // Deposit notifications are verified over their exact bytes: keep the raw body.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, {
        raw: body as string,
        json: body === '' ? {} : (JSON.parse(body as string) as unknown),
      });
    } catch {
      done(
        Object.assign(new Error('invalid JSON'), { statusCode: 400, code: 'invalid_request' }),
        undefined,
      );
    }
  });
  app.setErrorHandler(
    (error: { statusCode?: number; code?: string; message?: string }, _request, reply) => {
      if (error instanceof EngineError) return send(reply, error.status, error.code, error.message);
      const status = error.statusCode ?? 500;
      if (status === 413)
        return send(reply, 413, 'body_too_large', 'The request body is too large.');
      if (status < 500)
        return send(reply, status, 'invalid_request', error.message ?? 'Bad request.');
      return send(reply, 500, 'internal_error', 'The bridge hit an internal error.');
    },
  );
  app.setNotFoundHandler((_request, reply) =>
    send(reply, 404, 'route_not_found', 'No route matches this method and path.'),
  );

  const json = (body: unknown): Record<string, unknown> => {
    const value = (body as { json?: unknown } | undefined)?.json;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new EngineError('invalid_request', 'The body must be a JSON object.');
    }
    return value as Record<string, unknown>;
  };

  // Compared as digests: equal length, constant time.
  const digest = (text: string) => createHash('sha256').update(text).digest();
  const operator = options.operatorToken === undefined ? undefined : digest(options.operatorToken);
  const checkOperator = (request: FastifyRequest): void => {
    if (operator === undefined) return;
    const header = request.headers.authorization;
    if (header === undefined || !header.startsWith('Bearer ')) {
      throw new EngineError(
        'operator_token_required',
        "This route is the bridge operator's: send Authorization: Bearer <token> (COFFER_BRIDGE_TOKEN).",
        401,
      );
    }
    if (!timingSafeEqual(digest(header.slice('Bearer '.length)), operator)) {
      throw new EngineError(
        'operator_token_invalid',
        "The bearer token is not this bridge's operator token.",
        401,
      );
    }
  };

  // A hook that returns a promise: a refusal thrown in it becomes the route's error answer.
  const operatorOnly = (request: FastifyRequest) =>
    Promise.resolve().then(() => checkOperator(request));

  app.get('/health', () => ({ status: 'ok', engine: engine.address }));

  app.post('/v1/conversion/quotes', async (request, reply) => {
    const body = json(request.body);
    const side = (name: 'from' | 'to') => {
      const value = body[name];
      if (typeof value !== 'object' || value === null)
        throw new EngineError('invalid_quote_request', `${name} is { ecosystem, asset, amount? }.`);
      const { ecosystem, asset, amount } = value as Record<string, unknown>;
      if (
        typeof ecosystem !== 'string' ||
        typeof asset !== 'string' ||
        (amount !== undefined && typeof amount !== 'string')
      ) {
        throw new EngineError(
          'invalid_quote_request',
          `${name} is { ecosystem, asset, amount? } of strings.`,
        );
      }
      return { ecosystem, asset, ...(amount === undefined ? {} : { amount }) };
    };
    const slippageBps = body.slippageBps;
    if (slippageBps !== undefined && typeof slippageBps !== 'number')
      throw new EngineError('invalid_slippage', 'slippageBps is a number.');
    const quote = await engine.quote({
      from: side('from'),
      to: side('to'),
      ...(slippageBps === undefined ? {} : { slippageBps }),
    });
    return reply.code(201).send(quote);
  });

  app.get<{ Params: { id: string } }>('/v1/conversion/quotes/:id', (request) => {
    const quote = /^[0-9a-f]{32}$/.test(request.params.id)
      ? store.getQuote(request.params.id)
      : undefined;
    if (!quote)
      throw new EngineError('quote_not_found', 'No quote of this engine has this id.', 404);
    return quote;
  });

  app.post('/v1/conversion/forwards', async (request, reply) => {
    const body = json(request.body);
    const { quoteId, lockId, recipient } = body;
    if (typeof quoteId !== 'string' || !/^[0-9a-f]{32}$/.test(quoteId))
      throw new EngineError('invalid_quote_id', 'quoteId is the 32 hex digits of a quote id.');
    if (typeof lockId !== 'string' || !/^(0x)?[0-9a-f]{64}$/.test(lockId))
      throw new EngineError(
        'invalid_lock_id',
        'lockId is the source lock: a Coffer hold id or an EVM lock id (64 hex digits).',
      );
    if (typeof recipient !== 'string' || recipient.length > 100)
      throw new EngineError(
        'invalid_recipient',
        'recipient is an account on the destination ecosystem.',
      );
    const forward = await engine.forward({ quoteId, lockId, recipient });
    return reply.code(201).send(forward);
  });

  app.get<{ Params: { id: string } }>('/v1/conversion/forwards/:id', (request) => {
    const forward = /^[0-9a-f]{32}$/.test(request.params.id)
      ? engine.getForward(request.params.id)
      : undefined;
    if (!forward)
      throw new EngineError('forward_not_found', 'No forward of this engine has this id.', 404);
    return forward;
  });

  app.get<{ Querystring: { after?: string; limit?: string } }>(
    '/v1/conversion/forwards',
    { preHandler: operatorOnly },
    (request) => {
      const limit = pageLimit(request.query.limit);
      const after = request.query.after;
      if (after !== undefined && !/^[0-9a-f]{32}$/.test(after))
        throw new EngineError('invalid_cursor', 'after is a forward id from the last page.');
      const forwards = store.listForwards(limit + 1, after);
      return {
        forwards: forwards.slice(0, limit),
        ...(forwards.length > limit ? { next: forwards[limit - 1]!.id } : {}),
      };
    },
  );

  app.get('/v1/conversion/liquidity', { preHandler: operatorOnly }, () => engine.liquidity());

  app.get('/v1/conversion/reconciliation', { preHandler: operatorOnly }, () => reconcile(store));

  app.get<{ Querystring: { after?: string; limit?: string } }>(
    '/v1/conversion/events',
    { preHandler: operatorOnly },
    (request) => {
      const limit = pageLimit(request.query.limit);
      const after = request.query.after === undefined ? 0 : Number(request.query.after);
      if (!Number.isSafeInteger(after) || after < 0)
        throw new EngineError('invalid_cursor', 'after is the seq of the last event read.');
      const events = store.events(after, limit);
      return {
        events: events.map((e) => ({ seq: e.seq, ...e.event })),
        next: events.at(-1)?.seq ?? after,
      };
    },
  );

  app.post<{ Params: { ecosystem: string } }>(
    '/v1/conversion/deposits/:ecosystem',
    (request, reply) => {
      const verifier = options.depositVerifiers.get(request.params.ecosystem);
      if (!verifier)
        throw new EngineError(
          'ecosystem_not_found',
          'No provider ecosystem of this engine has this id.',
          404,
        );
      const raw = (request.body as { raw?: string } | undefined)?.raw ?? '';
      const deposit = verifier({ headers: request.headers, rawBody: raw });
      // A notification delivered again: it was taken the first time (and deposits are taken once by id).
      if ('code' in deposit && deposit.code === 'replayed_notification')
        return reply.code(200).send({ duplicate: true });
      if ('code' in deposit) return send(reply, 401, deposit.code, deposit.message);
      const forward = engine.deposit(request.params.ecosystem, deposit);
      return reply.code(200).send({ forward: forward.id, state: forward.state });
    },
  );

  return app;
}

function pageLimit(text: string | undefined): number {
  if (text === undefined) return pageMax;
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1 || limit > pageMax) {
    throw new EngineError('invalid_limit', `limit is a whole number from 1 to ${pageMax}.`);
  }
  return limit;
}

function send(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.code(status).send({ error: { code, message } });
}
