import { z } from 'zod';
import { isAddress, sha256Hex, utf8 } from '../../crypto/index.js';
import type { ModuleHost } from '../../node/module-host.js';
import { errorSchema, sendError, stringParams } from '../../node/routes.js';
import { committedTxWithProof } from '../../node/tx-proof.js';
import { jsonSchema } from '../../protocol/schema.js';
import {
  difficultyView,
  listQuestions,
  profileView,
  questionView,
  recordOf,
  scholarshipPageDefault,
  scholarshipPageMax,
} from './queries.js';
import {
  bodyBytesMax,
  bodySchema,
  bodyStoredSchema,
  difficultySchema,
  isHash,
  profileViewSchema,
  questionPageSchema,
  questionStatuses,
  questionViewSchema,
  recordSchema,
  subjectsSchema,
  type QuestionStatus,
  type RecordView,
} from './schema.js';
import { mentorshipView, poolRecipients, poolStatement, poolView } from './pools-state.js';
import {
  mentorshipViewSchema,
  poolIdPattern,
  poolRecipientsSchema,
  poolStatementSchema,
  poolViewSchema,
} from './pools.js';
import { bodyReferenced } from './state.js';
import { isSubject, subjects } from './subjects.js';

const limitPattern = /^[1-9][0-9]{0,2}$/;
const tags = ['scholarship'];
/** The store's meta key of a body (off-chain: the node keeps it beside the chain's state). */
const bodyMetaKey = (hash: string) => `scholarship/body/${hash}`;
/**
 * A body request's bytes: its JSON may escape each of the 16 KiB of text up to 6 bytes (`\u0001`);
 * the text itself is checked against `bodyBytesMax` after parsing.
 */
const bodyRequestBytesMax = 6 * bodyBytesMax + 1024;

/**
 * The scholarship module's reads (issue 22), from committed state: the subjects, a profile with
 * its reputation, questions (by subject and status, pages of `limit` 1 to 100, default 50), one
 * question with its answers, a closed question's Q&A record with its proofs and the award or
 * close tx (with its Merkle proofs), the difficulty a stamp needs now, and the bodies of questions
 * and answers: stored (once, at most 16 KiB) only when a committed question or answer names
 * their SHA-256, so nobody can store anything else.
 */
export function scholarshipRoutes(host: ModuleHost): void {
  const { app, store } = host;

  function pageLimit(limit: string | undefined): number | undefined {
    if (limit === undefined) return scholarshipPageDefault;
    if (!limitPattern.test(limit)) return undefined;
    const count = Number(limit);
    return count > scholarshipPageMax ? undefined : count;
  }

  app.get(
    '/v1/scholarship/subjects',
    {
      schema: {
        summary: 'The subject taxonomy: fields and their branches',
        tags,
        response: { 200: jsonSchema(subjectsSchema) },
      },
    },
    (_request, reply) => reply.send({ subjects: subjects.map((s) => ({ ...s })) }),
  );

  app.get<{ Params: { address: string } }>(
    '/v1/scholarship/profiles/:address',
    {
      schema: {
        summary: "A scholar's profile with its reputation per subject (Wilson lower bound, bp)",
        tags,
        params: stringParams('address'),
        response: { 200: jsonSchema(profileViewSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { address } = request.params;
      if (!isAddress(address)) return sendError(reply, 'invalid_address', 'address');
      return profileView(store, address) ?? sendError(reply, 'profile_not_found', 'address');
    },
  );

  type QuestionsQuery = {
    Querystring: { subject?: string; status?: string; after?: string; limit?: string };
  };
  app.get<QuestionsQuery>(
    '/v1/scholarship/questions',
    {
      schema: {
        summary: 'Questions in id order, by subject and/or status (open, awarded, refunded)',
        tags,
        querystring: jsonSchema(
          z.strictObject({
            subject: z.string().optional(),
            status: z.string().optional(),
            after: z.string().optional(),
            limit: z.string().optional(),
          }),
          'input',
        ),
        response: { 200: jsonSchema(questionPageSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { subject, status, after, limit } = request.query;
      if (subject !== undefined && !isSubject(subject)) {
        return sendError(reply, 'subject_unknown', 'subject');
      }
      if (status !== undefined && !(questionStatuses as readonly string[]).includes(status)) {
        return sendError(reply, 'invalid_request', 'status');
      }
      if (after !== undefined && !isHash(after)) {
        return sendError(reply, 'invalid_question_id', 'after');
      }
      const count = pageLimit(limit);
      if (count === undefined) return sendError(reply, 'invalid_request', 'limit');
      return listQuestions(store, {
        ...(subject === undefined ? {} : { subject }),
        ...(status === undefined ? {} : { status: status as QuestionStatus }),
        ...(after === undefined ? {} : { after }),
        limit: count,
      });
    },
  );

  app.get<{ Params: { questionId: string } }>(
    '/v1/scholarship/questions/:questionId',
    {
      schema: {
        summary:
          'One question with its answers (at most 84, the dismissed ones marked, the ones the asker upvoted endorsed) and what it holds for claimants',
        tags,
        params: stringParams('questionId'),
        response: { 200: jsonSchema(questionViewSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { questionId } = request.params;
      if (!isHash(questionId)) return sendError(reply, 'invalid_question_id', 'questionId');
      return (
        questionView(store, questionId) ?? sendError(reply, 'question_not_found', 'questionId')
      );
    },
  );

  app.get<{ Params: { questionId: string } }>(
    '/v1/scholarship/questions/:questionId/record',
    {
      schema: {
        summary:
          "A closed question's Q&A record: the leaves with their Merkle proofs and the award or close tx with its proofs (its question.closed event carries the root)",
        tags,
        params: stringParams('questionId'),
        response: { 200: jsonSchema(recordSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { questionId } = request.params;
      if (!isHash(questionId)) return sendError(reply, 'invalid_question_id', 'questionId');
      const record = recordOf(store, questionId);
      if (!record) {
        return questionView(store, questionId)
          ? sendError(reply, 'record_not_found', 'questionId')
          : sendError(reply, 'question_not_found', 'questionId');
      }
      const tx = committedTxWithProof(store, record.question.closeTx!);
      if (!tx) return sendError(reply, 'record_not_found', 'questionId');
      const answer: RecordView = {
        questionId,
        root: record.root,
        leafCount: record.leaves.length,
        leaves: record.leaves,
        tx,
      };
      return answer;
    },
  );

  app.get<{ Querystring: { subject?: string; sender?: string } }>(
    '/v1/scholarship/difficulty',
    {
      schema: {
        summary:
          'The leading zero bits a stamp of this sender in this subject needs in the next block, and the block hash to mint it on',
        tags,
        querystring: jsonSchema(
          z.strictObject({ subject: z.string().optional(), sender: z.string().optional() }),
          'input',
        ),
        response: { 200: jsonSchema(difficultySchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { subject, sender } = request.query;
      if (subject === undefined || !isSubject(subject)) {
        return sendError(reply, 'subject_unknown', 'subject');
      }
      if (sender === undefined || !isAddress(sender)) {
        return sendError(reply, 'invalid_address', 'sender');
      }
      return (
        difficultyView(store, store.lastHeight(), subject, sender) ??
        sendError(reply, 'no_recent_block')
      );
    },
  );

  app.post<{ Body: { body: string } }>(
    '/v1/scholarship/bodies',
    {
      bodyLimit: bodyRequestBytesMax,
      schema: {
        summary:
          'Stores the body of a committed question or answer (at most 16 KiB of UTF-8) by its SHA-256, once',
        tags,
        body: jsonSchema(z.strictObject({ body: z.string() }), 'input'),
        response: { 200: jsonSchema(bodyStoredSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const text = request.body.body;
      const bytes = utf8(text);
      if (bytes.length === 0 || bytes.length > bodyBytesMax) {
        return sendError(reply, 'body_too_large', 'body');
      }
      const hash = sha256Hex(bytes);
      if (!bodyReferenced(store, hash)) return sendError(reply, 'body_not_referenced', 'body');
      if (store.getMeta(bodyMetaKey(hash)) !== undefined) return { hash, stored: false };
      store.setMeta(bodyMetaKey(hash), text);
      return { hash, stored: true };
    },
  );

  app.get<{ Params: { hash: string } }>(
    '/v1/scholarship/bodies/:hash',
    {
      schema: {
        summary: 'The body of a question or answer by its SHA-256',
        tags,
        params: stringParams('hash'),
        response: { 200: jsonSchema(bodySchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { hash } = request.params;
      if (!isHash(hash)) return sendError(reply, 'invalid_body_hash', 'hash');
      const body = store.getMeta(bodyMetaKey(hash));
      return body === undefined ? sendError(reply, 'body_not_found', 'hash') : { hash, body };
    },
  );
  app.get<{ Params: { poolId: string } }>(
    '/v1/scholarship/pools/:poolId',
    {
      schema: {
        summary: 'A scholarship pool: its terms, funds, first 64 members and active mentorships',
        tags,
        params: stringParams('poolId'),
        response: { 200: jsonSchema(poolViewSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { poolId } = request.params;
      if (!poolIdPattern.test(poolId)) return sendError(reply, 'invalid_pool_id', 'poolId');
      return poolView(store, poolId) ?? sendError(reply, 'pool_not_found', 'poolId');
    },
  );

  // A pool's two pages of people, by address: its donors (statement) and whom it paid.
  const poolPages = [
    {
      path: '/v1/scholarship/pools/:poolId/statement',
      summary: "A pool's statement for donors: totals and a page of donors",
      schema: poolStatementSchema,
      read: poolStatement,
    },
    {
      path: '/v1/scholarship/pools/:poolId/recipients',
      summary: 'Whom a pool paid: a page of recipients with their paid answers and stipends',
      schema: poolRecipientsSchema,
      read: poolRecipients,
    },
  ];
  for (const page of poolPages) {
    app.get<{ Params: { poolId: string }; Querystring: { after?: string; limit?: string } }>(
      page.path,
      {
        schema: {
          summary: page.summary,
          tags,
          params: stringParams('poolId'),
          querystring: jsonSchema(
            z.strictObject({ after: z.string().optional(), limit: z.string().optional() }),
            'input',
          ),
          response: { 200: jsonSchema(page.schema), '4xx': errorSchema },
        },
      },
      async (request, reply) => {
        const { poolId } = request.params;
        const { after, limit } = request.query;
        if (!poolIdPattern.test(poolId)) return sendError(reply, 'invalid_pool_id', 'poolId');
        if (after !== undefined && !isAddress(after)) {
          return sendError(reply, 'invalid_address', 'after');
        }
        const count = pageLimit(limit);
        if (count === undefined) return sendError(reply, 'invalid_request', 'limit');
        const options = { ...(after === undefined ? {} : { after }), limit: count };
        return page.read(store, poolId, options) ?? sendError(reply, 'pool_not_found', 'poolId');
      },
    );
  }

  app.get<{ Params: { mentorshipId: string } }>(
    '/v1/scholarship/mentorships/:mentorshipId',
    {
      schema: {
        summary: 'A mentorship with the stipend periods due at the latest committed height',
        tags,
        params: stringParams('mentorshipId'),
        response: { 200: jsonSchema(mentorshipViewSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { mentorshipId } = request.params;
      if (!poolIdPattern.test(mentorshipId)) {
        return sendError(reply, 'invalid_mentorship_id', 'mentorshipId');
      }
      return (
        mentorshipView(store, mentorshipId, store.lastHeight()) ??
        sendError(reply, 'mentorship_not_found', 'mentorshipId')
      );
    },
  );
}
