import type { ClientCore } from '../../sdk/client.js';
import type {
  MentorshipView,
  PoolPayload,
  PoolRecipients,
  PoolStatement,
  PoolView,
} from './pools.js';
import type {
  DifficultyView,
  ProfileView,
  QuestionPage,
  QuestionStatus,
  QuestionView,
  RecordView,
  ScholarshipPayload,
} from './schema.js';

export * from './schema.js';
export {
  recordLeafBytes,
  recordLeaves,
  recordProofs,
  recordRoot,
  verifyRecordLeaf,
  type RecordLeaf,
} from './record.js';

/*
 * The scholarship module from a client's side: reads and the builders of its txs, as
 * `{type, payload}` for `signTx` (amounts as decimal strings). Pure (the schema, pow.ts, record.ts
 * and the SDK core), so it runs in browsers; mint stamps with `mintStamp` on the `difficulty` read.
 */

function query(params: Record<string, string | number | undefined>): string {
  const entries = Object.entries(params).filter(
    (entry): entry is [string, string | number] => entry[1] !== undefined,
  );
  if (entries.length === 0) return '';
  return `?${new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v)])).toString()}`;
}

export interface QuestionListOptions {
  subject?: string;
  status?: QuestionStatus;
  after?: string;
  limit?: number;
}

type Stamp = { nonce: string; blockHash: string };
/** A payload as sent: amounts as decimal strings. */
type Sent<T> = {
  [K in keyof T]: T[K] extends bigint
    ? string
    : T[K] extends bigint | undefined
      ? string | undefined
      : T[K];
};

/** The scholarship namespace of a client. */
export function scholarshipClient(core: ClientCore) {
  const { request, segment } = core;
  const base = '/v1/scholarship';
  return {
    scholarship: {
      subjects: () =>
        request<{ subjects: { id: string; name: string; parent?: string }[] }>(
          'GET',
          `${base}/subjects`,
        ),
      /** The bits a stamp needs now and the block hash to mint it on. */
      difficulty: (options: { subject: string; sender: string }) =>
        request<DifficultyView>('GET', `${base}/difficulty${query({ ...options })}`),
      profile: (address: string) =>
        request<ProfileView>('GET', `${base}/profiles/${segment(address)}`),
      questions: (options: QuestionListOptions = {}) =>
        request<QuestionPage>('GET', `${base}/questions${query({ ...options })}`),
      question: (questionId: string) =>
        request<QuestionView>('GET', `${base}/questions/${segment(questionId)}`),
      /** A closed question's Q&A record with proofs (check with verifyRecordLeaf, verifyTxInclusion). */
      record: (questionId: string) =>
        request<RecordView>('GET', `${base}/questions/${segment(questionId)}/record`),
      /** Stores a body whose SHA-256 a committed question or answer names. */
      putBody: (body: string) =>
        request<{ hash: string; stored: boolean }>('POST', `${base}/bodies`, { body }),
      body: (hash: string) =>
        request<{ hash: string; body: string }>('GET', `${base}/bodies/${segment(hash)}`),
      pool: (poolId: string) => request<PoolView>('GET', `${base}/pools/${segment(poolId)}`),
      poolStatement: (poolId: string, options: { after?: string; limit?: number } = {}) =>
        request<PoolStatement>(
          'GET',
          `${base}/pools/${segment(poolId)}/statement${query({ ...options })}`,
        ),
      /** To whom the pool paid: one aggregate per recipient, paged in address order. */
      poolRecipients: (poolId: string, options: { after?: string; limit?: number } = {}) =>
        request<PoolRecipients>(
          'GET',
          `${base}/pools/${segment(poolId)}/recipients${query({ ...options })}`,
        ),
      mentorship: (mentorshipId: string) =>
        request<MentorshipView>('GET', `${base}/mentorships/${segment(mentorshipId)}`),
    },
  };
}

/** The scholarship module's txs as `{type, payload}` for `signTx`. */
export const scholarshipTxBuilders = {
  profile: (payload: ScholarshipPayload<'scholar.profile'>) => ({
    type: 'scholar.profile',
    payload,
  }),
  ask: (
    payload: Omit<Sent<ScholarshipPayload<'question.ask'>>, 'reward'> & {
      reward: { asset: string; amount: string };
    },
  ) => ({ type: 'question.ask', payload }),
  answer: (questionId: string, bodyHash: string, stamp: Stamp) => ({
    type: 'question.answer',
    payload: { questionId, bodyHash, stamp },
  }),
  award: (questionId: string, awards: { answerId: string; weight: number }[]) => ({
    type: 'question.award',
    payload: { questionId, awards },
  }),
  vote: (questionId: string, answerId: string) => ({
    type: 'question.vote',
    payload: { questionId, answerId },
  }),
  /** Counts as the answer's score; the asker's upvote endorses it (votes) and pays one tip. */
  upvote: (questionId: string, answerId: string) => ({
    type: 'question.upvote',
    payload: { questionId, answerId },
  }),
  close: (questionId: string) => ({ type: 'question.close', payload: { questionId } }),
  /** The asker dismisses an answer while the question is open (it frees its slot). */
  dismiss: (questionId: string, answerId: string) => ({
    type: 'question.dismiss',
    payload: { questionId, answerId },
  }),
  /** The sender takes what the question holds for it (a payout a freeze held back). */
  claim: (questionId: string) => ({ type: 'question.claim', payload: { questionId } }),
  poolCreate: (payload: PoolPayload<'pool.create'>) => ({ type: 'pool.create', payload }),
  /**
   * Funds a pool; with `manager`, only if that address manages it (`pool_manager_mismatch`
   * otherwise): pass the manager the donor was told of, so a squatted pool id is not funded.
   */
  poolFund: (poolId: string, amount: string, manager?: string) => ({
    type: 'pool.fund',
    payload: { poolId, amount, ...(manager === undefined ? {} : { manager }) },
  }),
  /** The manager invites `member`; it becomes a member when it sends `poolJoin`. */
  poolAddMember: (poolId: string, member: string) => ({
    type: 'pool.addMember',
    payload: { poolId, member },
  }),
  /** The manager removes a member or withdraws an invitation. */
  poolRemoveMember: (poolId: string, member: string) => ({
    type: 'pool.removeMember',
    payload: { poolId, member },
  }),
  /** The invited sender joins the pool (one of its 8 pool slots). */
  poolJoin: (poolId: string) => ({ type: 'pool.join', payload: { poolId } }),
  /** The sender leaves the pool, or declines its invitation. */
  poolLeave: (poolId: string) => ({ type: 'pool.leave', payload: { poolId } }),
  mentorshipStart: (
    payload: Omit<PoolPayload<'mentorship.start'>, 'stipend'> & { stipend: string },
  ) => ({ type: 'mentorship.start', payload }),
  mentorshipClaim: (mentorshipId: string) => ({
    type: 'mentorship.claim',
    payload: { mentorshipId },
  }),
  mentorshipEnd: (mentorshipId: string) => ({
    type: 'mentorship.end',
    payload: { mentorshipId },
  }),
};
