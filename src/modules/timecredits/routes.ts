import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import {
  fromHex,
  isAddress,
  publicKeyFromAddress,
  signingMessage,
  verify,
} from '../../crypto/index.js';
import { errorBody, httpStatus } from '../../node/errors.js';
import type { ModuleHost } from '../../node/module-host.js';
import type { FinalBlock, SubmitResult } from '../../node/node.js';
import { errorSchema, sendError, stringParams } from '../../node/routes.js';
import { SingleFlight } from '../../node/single-flight.js';
import { jsonSchema, rejectionCodeFor } from '../../protocol/schema.js';
import {
  banksPageMax,
  getAlliance,
  getExchange,
  getIssuance,
  getListing,
  getLot,
  getMember,
  getTimebank,
  listListings,
  listMembers,
  listTimebanks,
  membersPageMax,
  memberStatement,
  statementCsv,
} from './queries.js';
import { statementFileName } from './statement-csv.js';
import {
  allianceSchema,
  hashUserId,
  isRequestId,
  isTimebankId,
  issuanceRequestBodySchema,
  issuanceRequestErrorSchema,
  issuanceRequestHash,
  issuanceRequestResultSchema,
  listingKindSchema,
  listingPageSchema,
  listingSchema,
  listingStatusSchema,
  memberPageSchema,
  memberStatementSchema,
  memberStatusSchema,
  timebankMemberSchema,
  timebankPageSchema,
  timebankSchema,
  timeExchangeSchema,
  timeLotSchema,
  type IssuanceRequestBody,
  type IssuanceRequestResult,
  type MemberStatus,
} from './schema.js';
import { readUserAccount, type IssuanceRecord } from './state.js';

const numberPattern = /^(0|[1-9][0-9]{0,14})$/;
const listingsPageDefault = 20;
/** Members in a page of `GET /v1/timebanks/{id}/members` unless `limit` says otherwise. */
const membersPageDefault = 50;
const listingsPageMax = 100;

/** The 200 answer of a route: its record's schema, and the API's error for a refusal. */
function answers(record: z.ZodType) {
  return { 200: jsonSchema(record), '4xx': errorSchema };
}

/** The schema of a query string: every field optional, none other allowed. */
const query = (shape: Record<string, z.ZodType>) =>
  jsonSchema(
    z.strictObject(
      Object.fromEntries(Object.entries(shape).map(([key, value]) => [key, value.optional()])),
    ),
    'input',
  );

/**
 * The route's schema of the issuance request body: each field of the wire schema as a string, so
 * that a bad value reaches the handler and is refused with its own code (`invalid_request_id`,
 * `invalid_minutes`...), not as `invalid_request`.
 */
const issuanceBodyStrings = z.strictObject(
  Object.fromEntries(Object.keys(issuanceRequestBodySchema.shape).map((key) => [key, z.string()])),
);

const issuanceBodyFields: Record<string, z.ZodType> = issuanceRequestBodySchema.shape;

/** The first field of an issuance request body that the wire schema refuses, with its code. */
function issuanceBodyRefusal(
  body: Record<string, string>,
): { code: string; field: string } | undefined {
  for (const [key, field] of Object.entries(issuanceBodyFields)) {
    const result = field.safeParse(body[key]);
    if (!result.success) {
      return { code: rejectionCodeFor(field, result.error, 'invalid_request'), field: key };
    }
  }
  return undefined;
}

const bankParams = stringParams('id');

/** The public view of an issuance: the request, the instruction tx and the lot it created. */
export function issuanceJson(
  bankId: string,
  record: IssuanceRecord,
  height?: number,
): IssuanceRequestResult {
  return {
    requestId: record.requestId,
    bankId,
    status: 'recorded' as const,
    txHash: record.txHash,
    ...(height === undefined ? {} : { height }),
    account: record.account,
    minutes: record.minutes,
    lot: record.lot,
    repaidMinutes: record.repaidMinutes,
  };
}

/** A failed issuance request's instruction tx, remembered for `GET .../issuance-requests/:id`. */
interface FailedIssuance {
  txHash: string;
  height: number;
  code: string;
}

/**
 * What the issuance service remembers, in memory only: the instruction txs it submitted that have
 * not committed yet, and the most recent failures. Commits settle entries (`settle`), so neither
 * map grows past its bound however many requests were answered. After a restart both are empty:
 * a request whose tx did not commit is simply posted again under the same id.
 */
export class IssuanceTracker {
  private readonly inFlight = new Map<string, string>();
  private readonly keyOfTx = new Map<string, string>();
  private readonly failures = new Map<string, FailedIssuance>();

  constructor(
    readonly inFlightMax = 10_000,
    readonly failuresMax = 1_000,
  ) {}

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  track(key: string, txHash: string): void {
    this.forget(key);
    this.inFlight.set(key, txHash);
    this.keyOfTx.set(txHash, key);
  }

  inFlightTx(key: string): string | undefined {
    return this.inFlight.get(key);
  }

  failure(key: string): FailedIssuance | undefined {
    return this.failures.get(key);
  }

  forget(key: string): void {
    const txHash = this.inFlight.get(key);
    if (txHash !== undefined) this.keyOfTx.delete(txHash);
    this.inFlight.delete(key);
    this.failures.delete(key);
  }

  /** A final block settles the requests whose txs it holds (or dropped). */
  settle(block: FinalBlock): void {
    if (this.inFlight.size === 0) return;
    for (const { hash, status } of block.receipts()) {
      const key = this.keyOfTx.get(hash);
      if (key === undefined) continue;
      this.forget(key);
      if (status === 'ok') continue;
      this.failures.set(key, { txHash: hash, height: block.height, code: status });
      if (this.failures.size > this.failuresMax) {
        this.failures.delete(this.failures.keys().next().value!);
      }
    }
    for (const hash of block.dropped) {
      const key = this.keyOfTx.get(hash);
      if (key !== undefined) this.forget(key);
    }
  }
}

/**
 * The time banks' routes. Writes go through `POST /v1/txs` with the `timebank.*` and
 * `timecredits.*` tx types, except issuance requests, which the node's issuance service turns
 * into instruction txs (below). Statements are computed as of the latest block time, never the
 * node's clock, so every node answers the same for the same head.
 */
export function timecreditsRoutes(node: ModuleHost): void {
  const { app, store, chain } = node;
  const issuances = new IssuanceTracker();
  const issuanceRelays = new SingleFlight<SubmitResult>();
  // The relay acts on final blocks only (a cluster node may commit what a quorum then disowns).
  node.onFinalBlock((block) => issuances.settle(block));

  /** Resolves the bank of `:id` or answers the error; undefined means answered. */
  function bankOr(reply: FastifyReply, id: string) {
    if (!isTimebankId(id)) {
      void sendError(reply, 'invalid_bank_id', 'id');
      return undefined;
    }
    const bank = getTimebank(store, id);
    if (!bank) void sendError(reply, 'timebank_not_found', 'id');
    return bank;
  }

  app.get<{ Querystring: { coordinator?: string; before?: string; limit?: string } }>(
    '/v1/timebanks',
    {
      schema: {
        summary:
          'Time banks newest first, optionally those one account coordinates, a page at a time (`next` continues as `before`)',
        tags: ['timecredits'],
        querystring: query({ coordinator: z.string(), before: z.string(), limit: z.string() }),
        response: answers(timebankPageSchema),
      },
    },
    async (request, reply) => {
      const { coordinator, before, limit } = request.query;
      if (coordinator !== undefined && !isAddress(coordinator)) {
        return sendError(reply, 'invalid_address', 'coordinator');
      }
      if (before !== undefined && !numberPattern.test(before)) {
        return sendError(reply, 'invalid_request', 'before');
      }
      const count = limit === undefined ? listingsPageDefault : Number(limit);
      if (!Number.isSafeInteger(count) || count < 1 || count > banksPageMax) {
        return sendError(reply, 'invalid_request', 'limit');
      }
      return listTimebanks(store, {
        ...(coordinator === undefined ? {} : { coordinator }),
        ...(before === undefined ? {} : { before: Number(before) }),
        limit: count,
      });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/timebanks/:id',
    {
      schema: {
        summary:
          'One time bank: name, coordinators, policy, credit limit, identifier salt and its issued, pooled and owed minutes',
        tags: ['timecredits'],
        params: bankParams,
        response: answers(timebankSchema),
      },
    },
    async (request, reply) => bankOr(reply, request.params.id) ?? reply,
  );

  app.get<{
    Params: { id: string };
    Querystring: { status?: string; after?: string; limit?: string };
  }>(
    '/v1/timebanks/:id/members',
    {
      schema: {
        summary:
          "The bank's members and applicants in account order, optionally of one status, a page at a time (`next` continues as `after`)",
        tags: ['timecredits'],
        params: bankParams,
        querystring: query({ status: memberStatusSchema, after: z.string(), limit: z.string() }),
        response: answers(memberPageSchema),
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (!bankOr(reply, id)) return reply;
      const { status, after, limit } = request.query;
      if (after !== undefined && !isAddress(after))
        return sendError(reply, 'invalid_address', 'after');
      const count = limit === undefined ? membersPageDefault : Number(limit);
      if (!Number.isSafeInteger(count) || count < 1 || count > membersPageMax) {
        return sendError(reply, 'invalid_request', 'limit');
      }
      return listMembers(store, id, {
        ...(status === undefined ? {} : { status: status as MemberStatus }),
        ...(after === undefined ? {} : { after }),
        limit: count,
      });
    },
  );

  app.get<{ Params: { id: string; account: string } }>(
    '/v1/timebanks/:id/members/:account',
    {
      schema: {
        summary:
          'One member: status, identifier hash, lot numbers, balance, debt, minutes given and received (the identifier itself is never stored)',
        tags: ['timecredits'],
        params: stringParams('id', 'account'),
        response: answers(timebankMemberSchema),
      },
    },
    async (request, reply) => {
      const { id, account } = request.params;
      if (!bankOr(reply, id)) return reply;
      if (!isAddress(account)) return sendError(reply, 'invalid_address', 'account');
      return getMember(store, id, account) ?? sendError(reply, 'member_not_found', 'account');
    },
  );

  app.get<{ Params: { id: string; account: string }; Querystring: { format?: string } }>(
    '/v1/timebanks/:id/members/:account/statement',
    {
      schema: {
        summary:
          "A member's statement as of the latest block time: lots with base time, age, expiry and effective value after demurrage; balance, debt, minutes given and received. `?format=csv` answers RFC 4180 CSV",
        tags: ['timecredits'],
        params: stringParams('id', 'account'),
        querystring: query({ format: z.enum(['json', 'csv']) }),
        // The JSON statement; `?format=csv` answers text/csv through its own serializer.
        response: answers(memberStatementSchema),
      },
    },
    async (request, reply) => {
      const { id, account } = request.params;
      if (!bankOr(reply, id)) return reply;
      if (!isAddress(account)) return sendError(reply, 'invalid_address', 'account');
      const statement = memberStatement(store, id, account, chain.latest().header.time);
      if (!statement) return sendError(reply, 'member_not_found', 'account');
      if (request.query.format !== 'csv') return statement;
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${statementFileName(statement)}"`)
        .serializer((body: string) => body)
        .send(statementCsv(statement));
    },
  );

  /** A route answering one numbered record of a bank (a lot, an exchange, a listing). */
  function numbered(
    route: string,
    summary: string,
    codes: { invalid: string; notFound: string },
    record: z.ZodType,
    read: (bankId: string, n: number) => unknown,
  ) {
    app.get<{ Params: { id: string; n: string } }>(
      route,
      {
        schema: {
          summary,
          tags: ['timecredits'],
          params: stringParams('id', 'n'),
          response: answers(record),
        },
      },
      async (request, reply) => {
        const { id, n } = request.params;
        if (!bankOr(reply, id)) return reply;
        if (!numberPattern.test(n)) return sendError(reply, codes.invalid, 'n');
        return read(id, Number(n)) ?? sendError(reply, codes.notFound, 'n');
      },
    );
  }

  numbered(
    '/v1/timebanks/:id/lots/:n',
    'One lot: owner, minutes, base time, expiry, demurrage terms and origin',
    { invalid: 'invalid_lot', notFound: 'lot_not_found' },
    timeLotSchema,
    (id, n) => getLot(store, id, n),
  );
  numbered(
    '/v1/timebanks/:id/exchanges/:n',
    'One exchange: provider, recipient, minutes, confirmations and status',
    { invalid: 'invalid_exchange_id', notFound: 'exchange_not_found' },
    timeExchangeSchema,
    (id, n) => getExchange(store, id, n),
  );
  numbered(
    '/v1/timebanks/:id/listings/:n',
    'One offer or request: owner, title, category, hours and status',
    { invalid: 'invalid_listing_id', notFound: 'listing_not_found' },
    listingSchema,
    (id, n) => getListing(store, id, n),
  );

  app.get<{
    Params: { id: string };
    Querystring: {
      kind?: string;
      category?: string;
      status?: string;
      after?: string;
      limit?: string;
    };
  }>(
    '/v1/timebanks/:id/listings',
    {
      schema: {
        summary:
          "The bank's offers and requests, filtered by kind, category and status, a page at a time (`next` continues)",
        tags: ['timecredits'],
        params: bankParams,
        querystring: query({
          kind: listingKindSchema,
          category: z.string(),
          status: listingStatusSchema,
          after: z.string(),
          limit: z.string(),
        }),
        response: answers(listingPageSchema),
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (!bankOr(reply, id)) return reply;
      const { kind, category, status, after, limit } = request.query;
      if (after !== undefined && !numberPattern.test(after)) {
        return sendError(reply, 'invalid_request', 'after');
      }
      const count = limit === undefined ? listingsPageDefault : Number(limit);
      if (!Number.isSafeInteger(count) || count < 1 || count > listingsPageMax) {
        return sendError(reply, 'invalid_request', 'limit');
      }
      return listListings(store, id, {
        ...(kind === undefined ? {} : { kind: kind as 'offer' | 'request' }),
        ...(category === undefined ? {} : { category }),
        ...(status === undefined ? {} : { status: status as 'open' | 'closed' }),
        ...(after === undefined ? {} : { after: Number(after) }),
        limit: count,
      });
    },
  );

  app.get<{ Params: { id: string; partnerId: string } }>(
    '/v1/timebanks/:id/alliances/:partnerId',
    {
      schema: {
        summary:
          'The alliance between two time banks: proposed, active (members may send credits across 1:1) or ended',
        tags: ['timecredits'],
        params: stringParams('id', 'partnerId'),
        response: answers(allianceSchema),
      },
    },
    async (request, reply) => {
      const { id, partnerId } = request.params;
      if (!bankOr(reply, id)) return reply;
      if (!isTimebankId(partnerId)) return sendError(reply, 'invalid_bank_id', 'partnerId');
      return (
        getAlliance(store, id, partnerId) ?? sendError(reply, 'alliance_not_found', 'partnerId')
      );
    },
  );

  app.post<{
    Params: { id: string };
    Querystring: { wait?: string };
    Body: IssuanceRequestBody;
  }>(
    '/v1/timebanks/:id/issuance-requests',
    {
      schema: {
        summary:
          "An issuance request from a coordinator, {requestId, userId, minutes} signed by the coordinator: the node's issuance service resolves the user's account and submits the issuance instruction tx; the record creates a lot based at its block time. `?wait=commit` answers once recorded",
        tags: ['timecredits'],
        params: bankParams,
        querystring: query({ wait: z.enum(['commit', 'final', 'none']) }),
        body: jsonSchema(issuanceBodyStrings, 'input'),
        // A refusal may carry the instruction tx's hash (and height): its own error schema.
        response: {
          200: jsonSchema(issuanceRequestResultSchema),
          202: jsonSchema(issuanceRequestResultSchema),
          '4xx': jsonSchema(issuanceRequestErrorSchema),
          '5xx': jsonSchema(issuanceRequestErrorSchema),
        },
      },
    },
    async (request, reply) => {
      if (!node.healthy) return sendError(reply, 'not_ready');
      const bank = bankOr(reply, request.params.id);
      if (!bank) return reply;
      const { requestId, userId, minutes, coordinator, signature } = request.body;
      const refusal = issuanceBodyRefusal(request.body);
      if (refusal) return sendError(reply, refusal.code, refusal.field);
      const userIdHash = hashUserId(bank.salt, userId);
      const hash = issuanceRequestHash({
        chainId: chain.chainId,
        bankId: bank.id,
        requestId,
        userIdHash,
        minutes,
      });
      const signed = verify(
        fromHex(signature, 'signature', 64),
        signingMessage('issuanceRequest', hash),
        publicKeyFromAddress(coordinator),
      );
      if (!signed) return sendError(reply, 'issuance_signature_invalid', 'signature');
      if (!bank.coordinators.includes(coordinator)) {
        return sendError(reply, 'not_coordinator', 'coordinator');
      }
      const account = readUserAccount(store, bank.id, userIdHash);
      const recorded = getIssuance(store, bank.id, requestId);
      if (recorded) {
        // A retry of a recorded request answers the record; another request under its id is refused.
        if (recorded.account === account && recorded.minutes === minutes) {
          return issuanceJson(bank.id, recorded);
        }
        return reply
          .code(httpStatus('duplicate_request'))
          .send({ ...errorBody('duplicate_request', 'requestId'), txHash: recorded.txHash });
      }
      const key = `${bank.id}/${requestId}`;
      const inFlight = issuances.inFlightTx(key);
      if (inFlight !== undefined && node.consensus.isPending(inFlight)) {
        return reply.code(202).send({ requestId, status: 'pending', txHash: inFlight });
      }
      if (account === undefined) return sendError(reply, 'user_not_found', 'userId');
      const member = getMember(store, bank.id, account);
      if (member?.status !== 'approved') return sendError(reply, 'member_not_approved', 'userId');
      if (issuances.inFlightCount >= issuances.inFlightMax) return sendError(reply, 'mempool_full');

      const wait = request.query.wait === 'final' ? 'final' : request.query.wait === 'commit';
      // Identical requests arriving together share one instruction tx (the first one's wait);
      // each then answers from it, so a retry storm never makes the node sign many txs.
      const result = await issuanceRelays.run(key, () =>
        node.submitOwn(
          'timecredits.issue',
          {
            bankId: bank.id,
            userIdHash,
            minutes,
            requestId,
            authorization: { coordinator, signature },
          },
          wait,
        ),
      );
      if (result.error && result.error.code !== 'commit_timeout') {
        return reply
          .code(httpStatus(result.error.code))
          .send({ ...errorBody(result.error.code, result.error.field), txHash: result.hash });
      }
      if (!wait || result.error) {
        // Unless it committed meanwhile (a commit settles what it holds before this runs on).
        if (!getIssuance(store, bank.id, requestId) && !store.getTx(result.hash!)) {
          issuances.track(key, result.hash!);
        }
        return reply.code(202).send({ requestId, status: 'pending', txHash: result.hash });
      }
      issuances.forget(key);
      if (result.status !== 'ok') {
        return reply
          .code(httpStatus(result.status!))
          .send({ ...errorBody(result.status!), txHash: result.hash, height: result.height });
      }
      return issuanceJson(bank.id, getIssuance(store, bank.id, requestId)!, result.height);
    },
  );

  app.get<{ Params: { id: string; requestId: string } }>(
    '/v1/timebanks/:id/issuance-requests/:requestId',
    {
      schema: {
        summary:
          'An issuance request by id: pending with its instruction tx hash, or recorded with the tx hash, account, minutes and the lot it created',
        tags: ['timecredits'],
        params: stringParams('id', 'requestId'),
        response: answers(issuanceRequestResultSchema),
      },
    },
    async (request, reply) => {
      const { id, requestId } = request.params;
      if (!bankOr(reply, id)) return reply;
      if (!isRequestId(requestId)) return sendError(reply, 'invalid_request_id', 'requestId');
      const key = `${id}/${requestId}`;
      const recorded = getIssuance(store, id, requestId);
      if (recorded) return issuanceJson(id, recorded);
      const txHash = issuances.inFlightTx(key);
      if (txHash !== undefined) return { requestId, bankId: id, status: 'pending', txHash };
      // Its instruction tx failed; the client may post the request again under the same id.
      const failed = issuances.failure(key);
      if (failed) return { requestId, bankId: id, status: 'failed', ...failed };
      return sendError(reply, 'issuance_request_not_found', 'requestId');
    },
  );
}
