import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { errorBody, httpStatus } from './errors.js';

/** What the routes share: response schemas, path parameters and the one way to answer an error. */

/** `{error: {code, message, field?}}`; fields beyond these are dropped when it serializes. */
export const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        field: { type: 'string' },
      },
      required: ['code', 'message'],
    },
  },
} as const;

/** Answers the error of `code` with its HTTP status (src/node/errors.ts). */
export function sendError(reply: FastifyReply, code: string, field?: string) {
  return reply.code(httpStatus(code)).send(errorBody(code, field));
}

/**
 * Answers a relay (the node's own tx for a participant's request, `RelayGate`) that did not
 * commit `ok`: refused before a block (its code, the tx hash) or failed in one (its receipt's
 * code, the hash and height); undefined when it committed `ok`.
 */
export function sendRelayFailure(
  reply: FastifyReply,
  result: {
    error?: { code: string; field?: string };
    status?: string;
    hash?: string;
    height?: number;
  },
): FastifyReply | undefined {
  if (result.error) {
    return reply
      .code(httpStatus(result.error.code))
      .send({ ...errorBody(result.error.code, result.error.field), txHash: result.hash });
  }
  if (result.status !== 'ok') {
    return reply
      .code(httpStatus(result.status!))
      .send({ ...errorBody(result.status!), txHash: result.hash, height: result.height });
  }
  return undefined;
}

/** The schema of string path parameters, all required. */
export function stringParams(...names: string[]) {
  return {
    type: 'object',
    properties: Object.fromEntries(names.map((n) => [n, { type: 'string' }])),
    required: names,
  } as const;
}

/**
 * Answers a request the HTTP parser refused before Fastify saw it (headers over the limit, a
 * malformed request line), in the API's error shape, and closes the connection: after a parse
 * error nothing more can be read from it.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const code = error.code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : 'invalid_request';
  const status = httpStatus(code);
  const body = JSON.stringify(errorBody(code));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\n` +
      `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Connection: close\r\n\r\n${body}`,
  );
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The body's schema for the OpenAPI document only, for a route whose body the node checks
     * itself (a tx, in the precedence and codes of decodeTx) rather than Fastify's validator.
     */
    documentedBody?: unknown;
  }
}
