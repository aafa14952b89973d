import type { OrderedStateReader } from '../../state/index.js';
import { difficultyFor, wilsonLowerBound } from './pow.js';
import { recordLeaves, recordProofs, recordRoot, type RecordLeaf } from './record.js';
import type {
  DifficultyView,
  ProfileView,
  QuestionPage,
  QuestionRecord,
  QuestionStatus,
  QuestionView,
  ReputationRecord,
} from './schema.js';
import {
  latestRecentBlock,
  readAnswers,
  readClaims,
  readDifficultyBase,
  readProfile,
  readQuestion,
  readReputation,
  readTips,
  recentLoad,
  scholarshipKeys,
} from './state.js';
import { subjects } from './subjects.js';

/*
 * The module's reads, from committed state, for the routes and the tests. Lists are pages in key
 * order: `next` is the cursor of the last entry while more may follow (pass it as `after`).
 */

export const scholarshipPageDefault = 50;
export const scholarshipPageMax = 100;

export interface QuestionFilter {
  subject?: string;
  status?: QuestionStatus;
  after?: string;
  limit: number;
}

function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > scholarshipPageMax) {
    throw new RangeError(`limit must be a whole number from 1 to ${scholarshipPageMax}`);
  }
}

/** Questions by subject, by status, both or neither, in id order. */
export function listQuestions(state: OrderedStateReader, filter: QuestionFilter): QuestionPage {
  checkLimit(filter.limit);
  const prefix =
    filter.subject !== undefined && filter.status !== undefined
      ? scholarshipKeys.bySubjectStatusPrefix(filter.subject, filter.status)
      : filter.subject !== undefined
        ? scholarshipKeys.bySubjectPrefix(filter.subject)
        : filter.status !== undefined
          ? scholarshipKeys.byStatusPrefix(filter.status)
          : scholarshipKeys.questionPrefix;
  const entries = state.range(
    prefix,
    filter.limit + 1,
    filter.after === undefined ? {} : { after: prefix + filter.after },
  );
  const ids = entries.slice(0, filter.limit).map(([key]) => key.slice(prefix.length));
  const questions = ids
    .map((id) => readQuestion(state, id))
    .filter((q): q is QuestionRecord => q !== undefined);
  return { questions, next: entries.length > filter.limit ? (ids.at(-1) ?? null) : null };
}

export function questionView(
  state: OrderedStateReader,
  questionId: string,
): QuestionView | undefined {
  const question = readQuestion(state, questionId);
  if (!question) return undefined;
  return {
    question,
    answers: readAnswers(state, questionId),
    claims: readClaims(state, questionId),
  };
}

/**
 * A profile with its reputation in each subject it has answered in (at most the taxonomy's): the
 * score is its vote weight, wilsonLowerBound(askers, answers).
 */
export function profileView(state: OrderedStateReader, address: string): ProfileView | undefined {
  const profile = readProfile(state, address);
  if (!profile) return undefined;
  const prefix = scholarshipKeys.reputationPrefix(address);
  const reputation: ReputationRecord[] = state.range(prefix, subjects.length + 1).map(([key]) => {
    const subject = key.slice(prefix.length);
    const counts = readReputation(state, address, subject);
    return { subject, ...counts, score: wilsonLowerBound(counts.askers, counts.answers) };
  });
  return { profile, reputation };
}

/**
 * What a stamp of `sender` in `subject` needs if it lands in the block after the committed
 * `height`, and the newest block hash to mint it on (the ring's newest: the committed block
 * below the tip, valid for 63 more blocks).
 */
export function difficultyView(
  state: OrderedStateReader,
  height: number,
  subject: string,
  sender: string,
): DifficultyView | undefined {
  const latest = latestRecentBlock(state);
  if (!latest) return undefined;
  const next = height + 1;
  const { senderRecent, subjectRecent } = recentLoad(state, next, subject, sender);
  const base = readDifficultyBase(state);
  return {
    subject,
    sender,
    bits: difficultyFor(base, senderRecent, subjectRecent),
    blockHash: latest.hash,
    height: latest.height,
    base,
    senderRecent,
    subjectRecent,
  };
}

/** The record of a closed question: its leaves and their proofs (the root checked). */
export function recordOf(
  state: OrderedStateReader,
  questionId: string,
):
  | { question: QuestionRecord; root: string; leaves: { leaf: RecordLeaf; proof: string[] }[] }
  | undefined {
  const question = readQuestion(state, questionId);
  if (!question || question.closeTx === undefined || question.recordRoot === undefined) {
    return undefined;
  }
  // The question as it was before it closed: the leaves name the ask's fields only.
  const leaves = recordLeaves(
    question,
    readAnswers(state, questionId),
    question.best,
    question.held ?? [],
    readTips(state, questionId),
    question.closeTx,
    question.outcome === 'asker' ? 'award' : 'close',
  );
  const root = recordRoot(leaves);
  if (root !== question.recordRoot) throw new Error(`scholarship: record of ${questionId} differs`);
  const proofs = recordProofs(leaves);
  return {
    question,
    root,
    leaves: leaves.map((leaf, i) => ({ leaf, proof: proofs[i]! })),
  };
}
