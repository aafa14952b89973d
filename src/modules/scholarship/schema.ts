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
 * tutors of its subject until its *deadline* (the asker may *dismiss* a junk answer before it),
 * then *awarded* by its asker (a split by weights; a part of 0 is no award) or, once the *grace*
 * after the deadline is over, *closed*: refunded, or, if the asker chose `autoAward: 'votes'`, half
 * auto-awarded by the votes of tutors whose answers distinct *askers* accepted, among the answers
 * the asker *endorsed* (upvoted). Only the asker's upvote pays a *tip*; others' count as the
 * answer's score. A payout a freeze stops is *held* for its
 * claimant (`question.claim`). A *stamp* is the proof of work a question or an answer carries. The
 * *record* of a closed question is the Merkle tree of its question, answers, best answers, held
 * payouts and tx ids.
 */

// ---- limits --------------------------------------------------------------------------------------

export const profileNameLengthMax = 80;
export const titleLengthMax = 200;
/** Subjects one profile lists. */
export const profileSubjectsMax = 8;
/** Live answers one question takes at most (the asker's `answersMax`, 1 to 20). */
export const answersMaxLimit = 20;
/**
 * Answers the asker dismisses per question at most (`dismissals_full`): each dismissal frees a
 * slot of `answersMax` (which counts live answers) until this cap, which bounds the record.
 */
export const dismissalsMax = 64;
/**
 * Answers one question keeps in all, dismissed ones included: at most `dismissalsMax` dismissed
 * plus `answersMax` live, so 84 (answer keys are numbered 00..83).
 */
export const answersTotalMax = dismissalsMax + answersMaxLimit;
/** The most distinct-asker acceptances an asker may require of answerers (`answerMinAccepted`). */
export const answerMinAcceptedMax = 100;
/** Votes one question takes at most. */
export const votesPerQuestionMax = 64;
/** Upvotes one answer takes at most from others than the asker (the asker's comes on top). */
export const upvotesPerAnswerMax = 256;
/**
 * Distinct askers who must have accepted a tutor's answers in the subject before its vote counts
 * (`reputation_required` otherwise): one asker awarding its own sybils builds at most 1.
 */
export const voterAskersMin = 2;
/** An auto-award by votes pays the winners reward / 2 (floor); the rest goes back to the asker. */
export const autoAwardShareDivisor = 2n;
/** The prefix of the routing event `question.ask` emits: `question.for.<subject>`. */
export const routedEventPrefix = 'question.for.';
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
 * The total vote weight (the voters' reputations in basis points: Wilson lower bound of distinct
 * askers over answers) an auto-award needs: 3000. A voter needs 2 distinct askers, so one voter
 * with 2 of 2 (3423) reaches it, one with 2 of 3 (2076) does not. Votes go only to answers the
 * asker endorsed (upvoted). Below it, a closed question that opted into votes is refunded.
 */
export const autoAwardWeightMin = 3_000;
/** A stored body: at most 16 KiB of UTF-8. */
export const bodyBytesMax = 16 * 1024;

export const profileRoles = ['student', 'tutor', 'mentor'] as const;
export type ProfileRole = (typeof profileRoles)[number];
export const questionStatuses = ['open', 'awarded', 'refunded'] as const;
export type QuestionStatus = (typeof questionStatuses)[number];
/** What `question.close` does with an unawarded question: auto-award by votes, or refund. */
export const autoAwardModes = ['votes', 'refund'] as const;
export type AutoAwardMode = (typeof autoAwardModes)[number];
/** Why an amount is held for a claimant: a best answer's part, the asker's refund, a tip. */
export const heldReasons = ['best', 'refund', 'tip'] as const;
export type HeldReason = (typeof heldReasons)[number];

/** The routing event of a question in `subject` (at most 13 + 24 characters of the taxonomy). */
export function routedEventType(subject: string): string {
  return `${routedEventPrefix}${subject}`;
}

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
  autoAward: coded(
    z.enum(autoAwardModes).meta({
      description:
        "At close, unawarded: 'votes' auto-awards half the reward by the tutors' votes among the answers the asker upvoted, 'refund' (the default) refunds it",
    }),
    'invalid_auto_award',
  ),
  answerMinAccepted: coded(
    z.number().int().min(0).max(answerMinAcceptedMax).meta({
      description:
        "Distinct askers who must have accepted an answerer's answers in the subject: 0 (default) to 100",
    }),
    'invalid_answer_min_accepted',
  ),
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
    autoAward: scholarshipFields.autoAward.optional(),
    answerMinAccepted: scholarshipFields.answerMinAccepted.optional(),
    stamp: scholarshipFields.stamp,
  }),
  /** A tutor of the subject answers (once per question); id = the tx hash. */
  'question.answer': z.strictObject({
    questionId: scholarshipFields.questionId,
    bodyHash: scholarshipFields.bodyHash,
    stamp: scholarshipFields.stamp,
  }),
  /**
   * The asker splits the reward among best answers by weight, and so closes the question; on a
   * question that auto-awards by votes, only until the grace after the deadline is over.
   */
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
  /** A tutor of the subject votes, during the grace after the deadline, for an endorsed answer. */
  'question.vote': z.strictObject({
    questionId: scholarshipFields.questionId,
    answerId: scholarshipFields.answerId,
  }),
  /**
   * A profile (or the asker) upvotes an answer: it counts as its score; the asker's upvote also
   * endorses it (votes may go to it) and pays its author one tip unit from the tip budget.
   */
  'question.upvote': z.strictObject({
    questionId: scholarshipFields.questionId,
    answerId: scholarshipFields.answerId,
  }),
  /** Anyone closes an unawarded question after deadline + grace: auto-award or refund. */
  'question.close': z.strictObject({ questionId: scholarshipFields.questionId }),
  /** The asker dismisses an answer while the question is open: it frees its slot, wins nothing. */
  'question.dismiss': z.strictObject({
    questionId: scholarshipFields.questionId,
    answerId: scholarshipFields.answerId,
  }),
  /** A claimant takes what the question holds for it (a payout a freeze held back). */
  'question.claim': z.strictObject({ questionId: scholarshipFields.questionId }),
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
  /** Distinct askers who awarded one of them themselves (an asker counts once, ever). */
  askers: z.number().int(),
  /** wilsonLowerBound(askers, answers), basis points: the weight of this tutor's vote. */
  score: z.number().int(),
});
export type ReputationRecord = z.infer<typeof reputationSchema>;

export const bestAnswerSchema = z.object({
  answerId: z.string(),
  author: z.string(),
  amount: z.string(),
});
export type BestAnswer = z.infer<typeof bestAnswerSchema>;

/** A payout the close (or award) could not make because the escrow or the payee was frozen. */
export const heldPayoutSchema = z.object({
  address: z.string(),
  amount: z.string(),
  for: z.enum(heldReasons),
});
export type HeldPayout = z.infer<typeof heldPayoutSchema>;

/** What a question holds for a claimant now (`question.claim` pays it). */
export const claimSchema = z.object({ address: z.string(), amount: z.string() });
export type ClaimRecord = z.infer<typeof claimSchema>;

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
  /** Answers in all, dismissed ones included (at most 84); live = answers - dismissed. */
  answers: z.number().int(),
  /** Answers the asker dismissed (at most 64). */
  dismissed: z.number().int(),
  /** The asker's choice for the close: auto-award by votes, or refund. */
  autoAward: z.enum(autoAwardModes),
  /** Distinct-asker acceptances an answerer needs in the subject. */
  answerMinAccepted: z.number().int(),
  /** Votes cast (at most 64). */
  votes: z.number().int(),
  /** The question's escrow account. */
  escrow: z.string(),
  status: z.enum(questionStatuses),
  /** 'asker' (question.award), 'votes' (auto-award at close) or 'refund'. */
  outcome: z.enum(['asker', 'votes', 'refund']).optional(),
  best: z.array(bestAnswerSchema),
  /** Of the reward, what went back to the asker at the close (paid or held; tips not counted). */
  rewardRefunded: z.string().optional(),
  /** The payouts of the award or close that were held for their claimant (a freeze). */
  held: z.array(heldPayoutSchema).optional(),
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
  /** Upvotes in all, paying or not: at most 256 from others than the asker, and the asker's. */
  upvotes: z.number().int(),
  /** Tips paid (or held) for it: at most max(tipUnit, floor(tipBudget / 4)). */
  tipped: z.string(),
  /**
   * The asker upvoted it (set then, never unset): on a question that auto-awards by votes, only
   * an endorsed answer takes votes and can win.
   */
  endorsed: z.boolean().optional(),
  /** The asker dismissed it: it keeps no slot, cannot be awarded, voted or upvoted. */
  dismissed: z.boolean(),
  time: z.number().int(),
  height: z.number().int(),
  tx: z.string(),
});
export type AnswerRecord = z.infer<typeof answerSchema>;

/** A paying upvote (the asker's), kept for the record's micro-transactions. */
export const tipSchema = z.object({
  index: z.number().int(),
  answerId: z.string(),
  from: z.string(),
  to: z.string(),
  amount: z.string(),
  tx: z.string(),
  /** The author or the escrow was frozen: the tip waits for the author's claim. */
  held: z.boolean().optional(),
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
  /** What the question holds for claimants now (each pays with question.claim). */
  claims: z.array(claimSchema),
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
  'question.dismissed',
  'question.voted',
  'question.upvoted',
  'question.held',
  'question.claimed',
  'question.closed',
] as const;
/** Beside them, `question.ask` emits `question.for.<subject>` (routedEventType). */

/** The genesis section: `{difficultyBase?}` (difficultyMin .. difficultyCap; default 12). */
export const genesisSectionSchema = z.strictObject({
  difficultyBase: z.number().int().min(difficultyMin).max(26).optional(),
});
