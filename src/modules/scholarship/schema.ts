import { z } from 'zod';
import { committedTxSchema, type CommittedTx } from '../../protocol/api.js';
import { assetSymbolPattern } from '../../protocol/ledger.js';
import { coded, hexOf, wire } from '../../protocol/schema.js';
import { blockHashPattern, difficultyMin, noncePattern, stampBits, stampKinds } from './pow.js';
import { isSubject } from './subjects.js';

export {
  basisPoints,
  difficultyBaseDefault,
  difficultyCap,
  difficultyFor,
  difficultyMin,
  ilog2,
  isqrt,
  leadingZeroBits,
  mintStamp,
  recentBlocks,
  stampBits,
  stampDomain,
  stampHash,
  stampHashHex,
  stampKinds,
  wilsonLowerBound,
  windowBlocks,
  type Stamp,
  type StampFields,
  type StampKind,
} from './pow.js';
export {
  coversSubject,
  isSubject,
  subjectById,
  subjectIdPattern,
  subjectLineage,
  subjects,
  withinSubject,
  type Subject,
} from './subjects.js';

/*
 * The scholarship module's wire contract (issue 22; /work/scholar-spec.md): tx payloads whose
 * fields carry their rejection codes, the records the routes answer, the events. Pure (zod,
 * src/protocol, pow.ts, subjects.ts), so the SDK and the console load it.
 *
 * Words: a *profile* says who a scholar is (student, tutor, mentor) and which subjects it covers;
 * a *question* is asked with a *reward* escrowed (and a *tip budget* for upvotes), answered by
 * tutors of its subject until its *deadline*, then *awarded* by its asker (a split by weights) or,
 * once the *grace* after the deadline is over, *closed*: auto-awarded by the tutors' votes or
 * refunded. A *stamp* is the proof of work a question or an answer carries. The *record* of a
 * closed question is the Merkle tree of its question, answers, best answers and tx ids.
 */

// ---- limits --------------------------------------------------------------------------------------

export const profileNameLengthMax = 80;
export const titleLengthMax = 200;
/** Subjects one profile lists. */
export const profileSubjectsMax = 8;
/** Answers one question takes at most (the asker's `answersMax`, 1 to 20). */
export const answersMaxLimit = 20;
/** A deadline is at least an hour and at most 30 days after the ask's block time. */
export const deadlineMinMs = 3_600_000;
export const deadlineMaxMs = 30 * 24 * 3_600_000;
/** After the deadline, tutors vote for this long; then anyone may close the question. */
export const graceMs = 24 * 3_600_000;
/** An award's weights: 1 to 10,000 each. */
export const awardWeightMax = 10_000;
/** Paying upvotes one question takes at most: its tip budget is at most 256 tip units. */
export const tipsMax = 256;
/**
 * The total vote weight (the voters' reputations in basis points, each at least 1) an auto-award
 * needs: 3000, more than one tutor with a single accepted answer (2065) weighs. Below it, a
 * closed question is refunded.
 */
export const autoAwardWeightMin = 3_000;
/** A stored body: at most 16 KiB of UTF-8. */
export const bodyBytesMax = 16 * 1024;

export const profileRoles = ['student', 'tutor', 'mentor'] as const;
export type ProfileRole = (typeof profileRoles)[number];
export const questionStatuses = ['open', 'awarded', 'refunded'] as const;
export type QuestionStatus = (typeof questionStatuses)[number];

/** A text a person reads: no control characters and no bidirectional overrides or isolates. */
const textPattern = /^[^\p{Cc}\u200E\u200F\u202A-\u202E\u2066-\u2069]+$/u;

export const hashPattern = /^[0-9a-f]{64}$/;
export function isHash(value: unknown): value is string {
  return typeof value === 'string' && hashPattern.test(value);
}
/** A question id and an answer id are tx hashes. */
export const isQuestionId = isHash;
export const isAnswerId = isHash;

// ---- field schemas -------------------------------------------------------------------------------

const distinct = (list: readonly string[]) => new Set(list).size === list.length;

const stampShape = z.strictObject({
  nonce: z.string().regex(noncePattern).meta({ description: '1 to 32 lowercase hex digits' }),
  blockHash: z
    .string()
    .regex(blockHashPattern)
    .meta({ description: 'The hash of one of the last 64 blocks' }),
});

export const scholarshipFields = {
  name: coded(
    z
      .string()
      .min(1)
      .max(profileNameLengthMax)
      .regex(textPattern)
      .meta({ description: 'A display name: 1 to 80 characters, no control characters' }),
    'invalid_profile_name',
  ),
  roles: coded(
    z
      .array(z.enum(profileRoles))
      .min(1)
      .max(profileRoles.length)
      .refine(distinct)
      .meta({ description: 'student, tutor, mentor: 1 to 3, distinct' }),
    'invalid_profile_roles',
  ),
  subjects: coded(
    z
      .array(z.string().refine((id) => isSubject(id)))
      .max(profileSubjectsMax)
      .refine(distinct)
      .meta({ description: 'Subject ids of the taxonomy: at most 8, distinct' }),
    'invalid_subjects',
  ),
  subject: coded(
    z
      .string()
      .refine((id) => isSubject(id))
      .meta({ description: 'A subject id of the taxonomy (GET /v1/scholarship/subjects)' }),
    'subject_unknown',
  ),
  title: coded(
    z
      .string()
      .min(1)
      .max(titleLengthMax)
      .regex(textPattern)
      .meta({ description: 'A title: 1 to 200 characters, no control characters' }),
    'invalid_question_title',
  ),
  bodyHash: coded(
    hexOf(32).meta({ description: "The SHA-256 of the body's UTF-8 bytes (served by the node)" }),
    'invalid_body_hash',
  ),
  asset: coded(z.string().regex(assetSymbolPattern), 'invalid_symbol'),
  amount: coded(wire.positiveAmount, 'invalid_amount'),
  deadline: coded(wire.time, 'invalid_deadline'),
  answersMax: coded(
    z.number().int().min(1).max(answersMaxLimit).meta({ description: '1 to 20' }),
    'invalid_answers_max',
  ),
  stamp: coded(stampShape, 'invalid_stamp'),
  questionId: coded(
    wire.hash.meta({ description: 'A question id: its question.ask tx hash' }),
    'invalid_question_id',
  ),
  answerId: coded(
    wire.hash.meta({ description: 'An answer id: its question.answer tx hash' }),
    'invalid_answer_id',
  ),
  weight: coded(z.number().int().min(1).max(awardWeightMax), 'invalid_award_weight'),
};

/** The stateless part of a stamp check (`parse`): bits >= `difficultyMin` for these fields. */
export function stampAdmissible(
  kind: (typeof stampKinds)[number],
  contentHash: string,
  sender: string,
  stamp: { nonce: string; blockHash: string },
): boolean {
  return (
    stampBits({ kind, contentHash, sender, blockHash: stamp.blockHash }, stamp.nonce) >=
    difficultyMin
  );
}

// ---- tx payloads ---------------------------------------------------------------------------------

export const scholarshipPayloads = {
  /** Anyone writes (or rewrites) its own profile. */
  'scholar.profile': z.strictObject({
    name: scholarshipFields.name,
    roles: scholarshipFields.roles,
    subjects: scholarshipFields.subjects,
  }),
  /** Anyone asks, escrowing the reward (and the tip budget) in this tx; id = the tx hash. */
  'question.ask': z.strictObject({
    subject: scholarshipFields.subject,
    title: scholarshipFields.title,
    bodyHash: scholarshipFields.bodyHash,
    reward: coded(
      z.strictObject({ asset: scholarshipFields.asset, amount: scholarshipFields.amount }),
      'invalid_reward',
    ),
    tipBudget: coded(wire.positiveAmount, 'invalid_tip_budget').optional(),
    tipUnit: coded(wire.positiveAmount, 'invalid_tip_unit').optional(),
    deadline: scholarshipFields.deadline,
    answersMax: scholarshipFields.answersMax,
    stamp: scholarshipFields.stamp,
  }),
  /** A tutor of the subject answers (once per question); id = the tx hash. */
  'question.answer': z.strictObject({
    questionId: scholarshipFields.questionId,
    bodyHash: scholarshipFields.bodyHash,
    stamp: scholarshipFields.stamp,
  }),
  /** The asker splits the reward among best answers by weight, and so closes the question. */
  'question.award': z.strictObject({
    questionId: scholarshipFields.questionId,
    awards: coded(
      z
        .array(
          z.strictObject({
            answerId: scholarshipFields.answerId,
            weight: scholarshipFields.weight,
          }),
        )
        .min(1)
        .max(answersMaxLimit)
        .refine((list) => distinct(list.map((a) => a.answerId))),
      'invalid_awards',
    ),
  }),
  /** A tutor of the subject votes for an answer during the grace after the deadline. */
  'question.vote': z.strictObject({
    questionId: scholarshipFields.questionId,
    answerId: scholarshipFields.answerId,
  }),
  /** A profile upvotes an answer: its author gets one tip unit from the tip budget. */
  'question.upvote': z.strictObject({
    questionId: scholarshipFields.questionId,
    answerId: scholarshipFields.answerId,
  }),
  /** Anyone closes an unawarded question after deadline + grace: auto-award or refund. */
  'question.close': z.strictObject({ questionId: scholarshipFields.questionId }),
};

export type ScholarshipPayload<T extends keyof typeof scholarshipPayloads> = z.output<
  (typeof scholarshipPayloads)[T]
>;

// ---- records -------------------------------------------------------------------------------------

export const profileSchema = z.object({
  address: z.string(),
  name: z.string(),
  roles: z.array(z.enum(profileRoles)),
  subjects: z.array(z.string()),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
  height: z.number().int(),
});
export type ProfileRecord = z.infer<typeof profileSchema>;

export const reputationSchema = z.object({
  subject: z.string(),
  /** Answers of closed questions. */
  answers: z.number().int(),
  /** Of them, the ones awarded (by the asker or by votes). */
  accepted: z.number().int(),
  /** wilsonLowerBound(accepted, answers), basis points. */
  score: z.number().int(),
});
export type ReputationRecord = z.infer<typeof reputationSchema>;

export const bestAnswerSchema = z.object({
  answerId: z.string(),
  author: z.string(),
  amount: z.string(),
});
export type BestAnswer = z.infer<typeof bestAnswerSchema>;

export const questionSchema = z.object({
  questionId: z.string(),
  asker: z.string(),
  subject: z.string(),
  title: z.string(),
  bodyHash: z.string(),
  asset: z.string(),
  reward: z.string(),
  tipBudget: z.string(),
  tipUnit: z.string(),
  /** What is left of the tip budget. */
  tipLeft: z.string(),
  tips: z.number().int(),
  deadline: z.number().int(),
  answersMax: z.number().int(),
  answers: z.number().int(),
  /** The question's escrow account. */
  escrow: z.string(),
  status: z.enum(questionStatuses),
  /** 'asker' (question.award), 'votes' (auto-award at close) or 'refund'. */
  outcome: z.enum(['asker', 'votes', 'refund']).optional(),
  best: z.array(bestAnswerSchema),
  recordRoot: z.string().optional(),
  recordLeaves: z.number().int().optional(),
  closedAt: z.number().int().optional(),
  closeTx: z.string().optional(),
  askedAt: z.number().int(),
  height: z.number().int(),
  tx: z.string(),
});
export type QuestionRecord = z.infer<typeof questionSchema>;

export const answerSchema = z.object({
  answerId: z.string(),
  questionId: z.string(),
  author: z.string(),
  bodyHash: z.string(),
  /** Its position among the question's answers, from 0. */
  index: z.number().int(),
  /** The sum of its votes' weights. */
  voteWeight: z.number().int(),
  votes: z.number().int(),
  upvotes: z.number().int(),
  time: z.number().int(),
  height: z.number().int(),
  tx: z.string(),
});
export type AnswerRecord = z.infer<typeof answerSchema>;

/** A paying upvote, kept for the record's micro-transactions. */
export const tipSchema = z.object({
  index: z.number().int(),
  answerId: z.string(),
  from: z.string(),
  to: z.string(),
  amount: z.string(),
  tx: z.string(),
});
export type TipRecord = z.infer<typeof tipSchema>;

// ---- route answers -------------------------------------------------------------------------------

export const subjectsSchema = z.object({
  subjects: z.array(z.object({ id: z.string(), name: z.string(), parent: z.string().optional() })),
});

export const profileViewSchema = z.object({
  profile: profileSchema,
  reputation: z.array(reputationSchema),
});
export type ProfileView = z.infer<typeof profileViewSchema>;

export const questionViewSchema = z.object({
  question: questionSchema,
  answers: z.array(answerSchema),
});
export type QuestionView = z.infer<typeof questionViewSchema>;

export const questionPageSchema = z.object({
  questions: z.array(questionSchema),
  next: z.string().nullable(),
});
export type QuestionPage = z.infer<typeof questionPageSchema>;

export const difficultySchema = z.object({
  subject: z.string(),
  sender: z.string(),
  bits: z.number().int(),
  /** The latest block hash a stamp may name, and its height. */
  blockHash: z.string(),
  height: z.number().int(),
  base: z.number().int(),
  senderRecent: z.number().int(),
  subjectRecent: z.number().int(),
});
export type DifficultyView = z.infer<typeof difficultySchema>;

export const recordSchema = z.object({
  questionId: z.string(),
  root: z.string(),
  leafCount: z.number().int(),
  /** Each leaf as a JSON value: its canonical bytes (RFC 8785) are the Merkle leaf. */
  leaves: z.array(
    z.object({ leaf: z.record(z.string(), z.unknown()), proof: z.array(z.string()) }),
  ),
  /** The award or close tx, with its proofs: its `question.closed` event carries the root. */
  tx: committedTxSchema,
});
export interface RecordView {
  questionId: string;
  root: string;
  leafCount: number;
  leaves: { leaf: Record<string, unknown>; proof: string[] }[];
  tx: CommittedTx;
}

export const bodySchema = z.object({ hash: z.string(), body: z.string() });
export const bodyStoredSchema = z.object({ hash: z.string(), stored: z.boolean() });

// ---- events --------------------------------------------------------------------------------------

export const scholarshipEvents = [
  'scholar.profiled',
  'question.asked',
  'question.answered',
  'question.voted',
  'question.upvoted',
  'question.closed',
] as const;

/** The genesis section: `{difficultyBase?}` (difficultyMin .. difficultyCap; default 12). */
export const genesisSectionSchema = z.strictObject({
  difficultyBase: z.number().int().min(difficultyMin).max(26).optional(),
});
