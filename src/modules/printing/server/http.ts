/*
 * What the hardware-id authority and the print server share at the HTTP layer: a refusal (a
 * snake_case code, a sentence and the HTTP status of the code's table), the error handler that
 * answers `{error: {code, message}}` for every failure, and a per-address request budget.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ChainUnavailableError } from './chain.js';

/** A refusal of the caller's request: its code is a key of the server's table of statuses. */
export class Refusal extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type HttpLog = (
  level: 'info' | 'warn' | 'error',
  event: string,
  fields?: Record<string, unknown>,
) => void;

/** One JSON line per event on stderr; never a key, a secret or a signature. */
export const jsonLog: HttpLog = (level, event, fields = {}) => {
  process.stderr.write(`${JSON.stringify({ level, event, ...fields })}\n`);
};

/** The codes every server here answers besides its own. */
export const commonHttpErrors = {
  invalid_request: 400,
  not_found: 404,
  body_too_large: 413,
  rate_limited: 429,
  internal_error: 500,
  chain_unavailable: 503,
  busy: 503,
} as const;

/**
 * Answers every thrown error as `{error: {code, message}}`: a Refusal with its table status, the
 * node unreachable as 503, Fastify's own client errors (a bad JSON body) as 400, anything else as
 * a logged 500 that names nothing inside.
 */
export function installErrorHandler(
  app: FastifyInstance,
  statuses: Readonly<Record<string, number>>,
  log: HttpLog,
  onRefusal: () => void = () => {},
): (reply: FastifyReply, code: string, message: string) => FastifyReply {
  function send(reply: FastifyReply, code: string, message: string) {
    onRefusal();
    return reply
      .code(statuses[code] ?? 400)
      .header('cache-control', 'no-store')
      .send({ error: { code, message } });
  }
  app.setErrorHandler((error: Error & { code?: string; statusCode?: number }, _request, reply) => {
    if (error instanceof Refusal) return send(reply, error.code, error.message);
    if (error instanceof ChainUnavailableError) {
      log('warn', 'chain_unavailable', { reason: error.message });
      return send(reply, 'chain_unavailable', 'the server cannot reach the chain now: retry');
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return send(reply, 'body_too_large', 'the body is larger than this route takes');
    }
    if (error.statusCode !== undefined && error.statusCode < 500) {
      return send(reply, 'invalid_request', error.message);
    }
    log('error', 'request_failed', { reason: error.message });
    return send(reply, 'internal_error', 'the server failed');
  });
  app.setNotFoundHandler((_request, reply) => send(reply, 'not_found', 'no such route'));
  return send;
}

/**
 * Requests per client address per minute, as a token bucket per address; the addresses held are
 * bounded (the oldest go first), so a crowd of addresses grows nothing past `addressesMax`.
 */
export function createRateLimiter(options: {
  perMinute: number;
  addressesMax: number;
  now: () => number;
}): (address: string) => void {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return (address) => {
    const capacity = options.perMinute;
    const at = options.now();
    const bucket = buckets.get(address) ?? { tokens: capacity, at };
    // A clock stepped back refills nothing and takes nothing.
    const elapsedMs = Math.max(0, at - bucket.at);
    bucket.tokens = Math.min(capacity, bucket.tokens + (elapsedMs * capacity) / 60_000);
    bucket.at = Math.max(bucket.at, at);
    buckets.delete(address);
    if (buckets.size >= options.addressesMax) {
      const oldest = buckets.keys().next().value;
      if (oldest !== undefined) buckets.delete(oldest);
    }
    buckets.set(address, bucket);
    if (bucket.tokens < 1) {
      throw new Refusal('rate_limited', 'too many requests from this address: slow down');
    }
    bucket.tokens -= 1;
  };
}

/** The first zod issue of a failed parse as a Refusal naming the field. */
export function invalidRequest(
  issues: readonly { path: PropertyKey[]; message: string }[],
): Refusal {
  const issue = issues[0];
  const field = issue?.path.map(String).join('.') || 'body';
  return new Refusal('invalid_request', `${field}: ${issue?.message ?? 'invalid'}`);
}

/**
 * A step of starting a server (reaching the node, listening): when it fails, the server is closed
 * again and `failure(error)` is thrown (by default the error itself).
 */
export async function orClose(
  server: { close(): Promise<void> },
  step: () => Promise<unknown>,
  failure: (error: unknown) => unknown = (error) => error,
): Promise<void> {
  try {
    await step();
  } catch (error) {
    await server.close();
    throw failure(error);
  }
}
