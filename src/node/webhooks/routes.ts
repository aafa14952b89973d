import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { jsonSchema } from '../../protocol/schema.js';
import { errorBody, httpStatus } from '../errors.js';
import { errorSchema, sendError, stringParams } from '../routes.js';
import { bearerToken, tokenMatches } from './admin-token.js';
import { patternsPerSubscriptionMax, patternsProblem } from './patterns.js';
import {
  createdWebhookSchema,
  deadLetterListSchema,
  webhookListSchema,
  webhookRemovedSchema,
  webhookReplaySchema,
  webhookSchema,
  type WebhookJson,
} from './schema.js';
import { generateSecret, secretHint, secretProblem } from './signing.js';
import {
  endOfHeight,
  deadLettersPerSubscriptionMax,
  type Subscription,
  type WebhookStore,
} from './store.js';
import type { WebhookWatcher } from './watcher.js';

/** Subscriptions one node keeps: each is a delivery loop and a row per dead letter. */
export const subscriptionsMax = 100;
/** Characters of a webhook URL. */
export const webhookUrlLengthMax = 2_048;
/** Characters of a secret as sent (whsec_ and 64 bytes of base64 fit). */
const secretLengthMax = 128;
const deadLettersPageDefault = 100;

export interface WebhookRouteDeps {
  store: WebhookStore;
  watcher: WebhookWatcher;
  /** The operator's admin token (src/node/webhooks/admin-token.ts). */
  adminToken: string;
  finalHeight: () => number;
  /** Whether an event type's first word names a module or tx noun of this chain. */
  namespaceKnown: (namespace: string) => boolean;
  now: () => number;
}

/** Why `url` is refused as a receiver, or undefined. */
export function urlProblem(url: string): string | undefined {
  if (url.length > webhookUrlLengthMax) return `at most ${webhookUrlLengthMax} characters`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `an http or https URL, not ${parsed.protocol.slice(0, 20)}`;
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return 'no user or password in the URL (the signature authenticates the node)';
  }
  return undefined;
}

/** Answers `code` with its registered message and what is wrong with this request's value. */
function fail(reply: FastifyReply, code: string, field: string, detail: string) {
  const message = `${errorBody(code).error.message} Here: ${detail}.`;
  return reply.code(httpStatus(code)).send(errorBody(code, field, message));
}

function webhookJson(subscription: Subscription, deadLetters: number): WebhookJson {
  return {
    id: subscription.id,
    url: subscription.url,
    events: subscription.events,
    secretHint: secretHint(subscription.secret),
    createdAt: new Date(subscription.createdAt).toISOString(),
    cursor: subscription.cursor,
    attempts: subscription.attempts,
    ...(subscription.attempts > 0 && subscription.nextAttemptAt > 0
      ? { nextAttemptAt: new Date(subscription.nextAttemptAt).toISOString() }
      : {}),
    ...(subscription.lastError === undefined ? {} : { lastError: subscription.lastError }),
    deadLetters,
  };
}

const tags = ['webhooks'];
const security = [{ adminToken: [] }];

/**
 * The operator's webhook routes under /v1/webhooks. Every one needs the admin token: a
 * subscription makes the node send requests to a URL of the caller's choosing and keeps rows, so
 * only the node's operator may add one.
 */
export function registerWebhookRoutes(app: FastifyInstance, deps: WebhookRouteDeps): void {
  const { store, watcher } = deps;
  const authorize = async (request: FastifyRequest, reply: FastifyReply) => {
    const given = bearerToken(request.headers.authorization);
    if (given === undefined) return sendError(reply, 'admin_token_required', 'authorization');
    // The exact characters after `Bearer `: trimming would turn `Bearer <NBSP>` into ''.
    if (given === '' || !tokenMatches(given, deps.adminToken)) {
      return sendError(reply, 'admin_token_invalid', 'authorization');
    }
  };
  const idParams = stringParams('id');
  const found = (id: string) => (/^wh_[0-9a-f]{16}$/.test(id) ? store.get(id) : undefined);

  app.post<{ Body: { url: string; events: string[]; secret?: string; fromHeight?: number } }>(
    '/v1/webhooks',
    {
      onRequest: authorize,
      schema: {
        summary:
          "Operator only (admin token): subscribe a URL to this node's final events of the types listed (exact, prefix.* or *); each is POSTed once, in chain order, signed by the Standard Webhooks scheme. The secret is answered this once",
        tags,
        security,
        body: {
          type: 'object',
          required: ['url', 'events'],
          additionalProperties: false,
          properties: {
            url: { type: 'string', maxLength: webhookUrlLengthMax + 1 },
            events: {
              type: 'array',
              items: { type: 'string' },
              maxItems: patternsPerSubscriptionMax + 1,
            },
            secret: { type: 'string', maxLength: secretLengthMax },
            fromHeight: {
              type: 'integer',
              minimum: 1,
              description: 'deliver events from this height on (default: the next final height)',
            },
          },
        },
        response: { 201: jsonSchema(createdWebhookSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { url, events, secret, fromHeight } = request.body;
      const badUrl = urlProblem(url);
      if (badUrl !== undefined) return fail(reply, 'invalid_webhook_url', 'url', badUrl);
      const badEvents = patternsProblem(events, deps.namespaceKnown);
      if (badEvents !== undefined)
        return fail(reply, 'invalid_webhook_events', 'events', badEvents);
      const badSecret = secret === undefined ? undefined : secretProblem(secret);
      if (badSecret !== undefined)
        return fail(reply, 'invalid_webhook_secret', 'secret', badSecret);
      const final = deps.finalHeight();
      if (fromHeight !== undefined && fromHeight > final + 1) {
        return fail(reply, 'invalid_from_height', 'fromHeight', `the final height is ${final}`);
      }
      if (store.count() >= subscriptionsMax) return sendError(reply, 'webhook_limit_reached');
      const subscription = {
        id: `wh_${crypto.randomBytes(8).toString('hex')}`,
        url,
        events: [...new Set(events)],
        secret: secret ?? generateSecret(),
        createdAt: deps.now(),
        cursor: endOfHeight((fromHeight ?? final + 1) - 1),
      };
      store.add(subscription);
      watcher.follow(subscription.id);
      const stored = store.get(subscription.id)!;
      return reply.code(201).send({ ...webhookJson(stored, 0), secret: stored.secret });
    },
  );

  app.get(
    '/v1/webhooks',
    {
      onRequest: authorize,
      schema: {
        summary: "Operator only: this node's webhook subscriptions, their cursors and failures",
        tags,
        security,
        response: { 200: jsonSchema(webhookListSchema), '4xx': errorSchema },
      },
    },
    () => ({
      webhooks: store.list().map((s) => webhookJson(s, store.deadLetterCount(s.id))),
    }),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/webhooks/:id',
    {
      onRequest: authorize,
      schema: {
        summary: 'Operator only: one webhook subscription',
        tags,
        security,
        params: idParams,
        response: { 200: jsonSchema(webhookSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const subscription = found(request.params.id);
      if (!subscription) return sendError(reply, 'webhook_not_found', 'id');
      return webhookJson(subscription, store.deadLetterCount(subscription.id));
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/webhooks/:id',
    {
      onRequest: authorize,
      schema: {
        summary: 'Operator only: remove a webhook subscription and its dead letters',
        tags,
        security,
        params: idParams,
        response: { 200: jsonSchema(webhookRemovedSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const subscription = found(request.params.id);
      if (!subscription) return sendError(reply, 'webhook_not_found', 'id');
      await watcher.forget(subscription.id);
      store.remove(subscription.id);
      return { id: subscription.id, removed: true };
    },
  );

  app.post<{ Params: { id: string }; Body: { fromHeight: number } }>(
    '/v1/webhooks/:id/replay',
    {
      onRequest: authorize,
      schema: {
        summary:
          'Operator only: deliver again every matching event from a height on, with the same webhook-ids (re-drives the dead letters from there, which are dropped)',
        tags,
        security,
        params: idParams,
        body: {
          type: 'object',
          required: ['fromHeight'],
          additionalProperties: false,
          properties: { fromHeight: { type: 'integer', minimum: 1 } },
        },
        response: { 200: jsonSchema(webhookReplaySchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const subscription = found(request.params.id);
      if (!subscription) return sendError(reply, 'webhook_not_found', 'id');
      const { fromHeight } = request.body;
      const final = deps.finalHeight();
      if (fromHeight > final + 1) {
        return fail(reply, 'invalid_from_height', 'fromHeight', `the final height is ${final}`);
      }
      store.replay(subscription.id, fromHeight);
      watcher.replayed(subscription.id);
      return { id: subscription.id, fromHeight };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { limit?: number } }>(
    '/v1/webhooks/:id/dead-letters',
    {
      onRequest: authorize,
      schema: {
        summary: `Operator only: the events a subscription gave up on, newest first (at most ${deadLettersPerSubscriptionMax} kept); replay from a height re-drives them`,
        tags,
        security,
        params: idParams,
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: deadLettersPerSubscriptionMax },
          },
        },
        response: { 200: jsonSchema(deadLetterListSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const subscription = found(request.params.id);
      if (!subscription) return sendError(reply, 'webhook_not_found', 'id');
      const letters = store.deadLetters(
        subscription.id,
        request.query.limit ?? deadLettersPageDefault,
      );
      return {
        id: subscription.id,
        deadLetters: letters.map((letter) => ({
          webhookId: letter.webhookId,
          height: letter.height,
          txIndex: letter.txIndex,
          eventIndex: letter.eventIndex,
          type: letter.type,
          attempts: letter.attempts,
          lastError: letter.lastError,
          failedAt: new Date(letter.failedAt).toISOString(),
        })),
      };
    },
  );
}
