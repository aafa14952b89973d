import type { FastifyReply } from 'fastify';
import { isAddress } from '../crypto/index.js';
import { getTimebank, memberStatement } from '../modules/timecredits/index.js';
import { errorBody, httpStatus } from './errors.js';
import type { CofferNode } from './node.js';

const anyObject = { type: 'object', additionalProperties: true } as const;
const bankIdPattern = /^[0-9a-f]{16}$/;

function send(reply: FastifyReply, code: string, field?: string) {
  return reply.code(httpStatus(code)).send(errorBody(code, field));
}

/**
 * The time banks' read-only routes. Writes go through `POST /v1/txs` with the `timebank.*` and
 * `timecredits.*` tx types. Statements are computed as of the latest block time, never the
 * node's clock, so every node answers the same for the same head.
 */
export function registerTimecreditsApi(node: CofferNode): void {
  const { app, store, chain } = node;

  app.get<{ Params: { id: string } }>(
    '/v1/timebanks/:id',
    {
      schema: {
        summary:
          'One time bank: name, coordinators, policy, credit limit, identifier salt and its issued, pooled and owed minutes',
        tags: ['timecredits'],
        params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
        response: { 200: anyObject, '4xx': anyObject },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (!bankIdPattern.test(id)) return send(reply, 'invalid_bank_id', 'id');
      const bank = getTimebank(store, id);
      if (!bank) return send(reply, 'timebank_not_found', 'id');
      return bank;
    },
  );

  app.get<{ Params: { id: string; account: string } }>(
    '/v1/timebanks/:id/members/:account/statement',
    {
      schema: {
        summary:
          "A member's statement as of the latest block time: lots with base time, age, expiry and effective value after demurrage; balance, debt, minutes given and received",
        tags: ['timecredits'],
        params: {
          type: 'object',
          properties: { id: { type: 'string' }, account: { type: 'string' } },
          required: ['id', 'account'],
        },
        response: { 200: anyObject, '4xx': anyObject },
      },
    },
    async (request, reply) => {
      const { id, account } = request.params;
      if (!bankIdPattern.test(id)) return send(reply, 'invalid_bank_id', 'id');
      if (!isAddress(account)) return send(reply, 'invalid_address', 'account');
      if (!getTimebank(store, id)) return send(reply, 'timebank_not_found', 'id');
      const statement = memberStatement(store, id, account, chain.latest().header.time);
      if (!statement) return send(reply, 'member_not_found', 'account');
      return statement;
    },
  );
}
