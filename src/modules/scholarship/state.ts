import { canonicalize } from '../../crypto/index.js';
import { escrowAddress } from '../../ledger/index.js';
import type { OrderedStateReader, StateReader, StateView } from '../../state/index.js';
import { difficultyBaseDefault, difficultyFor, recentBlocks, windowBlocks } from './pow.js';
import {
  answersTotalMax,
  graceMs,
  tipsMax,
  type AnswerRecord,
  type ClaimRecord,
  type ProfileRecord,
  type QuestionRecord,
  type QuestionStatus,
  type TipRecord,
} from './schema.js';

/**
 * The module's name and state namespace: every key below starts with `scholarship/`. The pools
 * helper's keys live under `scholarship/pools/` and `scholarship/mentorships/`; none of these
 * prefixes start with those. Each record is one bounded value; indexes are empty values under
 * keys that sort the way the routes list them; counters are decimal text.
 */
export const scholarshipModuleName = 'scholarship';

const heightDigits = 16;
const windowDigits = 14;
/** Answer indexes 00..83 (`answersTotalMax`, 84). */
const answerDigits = 2;
const tipDigits = 3;
const timeDigits = 16;
const pad = (n: number, digits: number) => String(n).padStart(digits, '0');

export const scholarshipKeys = {
  /** The chain's parameters (genesis): `{difficultyBase}`. */
  params: 'scholarship/params',
  /** The ring of the last 64 block hashes: slot `height mod 64` -> {height, hash}. */
  recent: (slot: number) => `scholarship/recent/${pad(slot, 2)}`,
  /** The ring's hashes, for the stamp check: hash -> height. */
  recentHash: (hash: string) => `scholarship/recent-hash/${hash}`,
  /** A used stamp hash -> the height of the block its stamp named. */
  usedStamp: (stampHash: string) => `scholarship/stamp/${stampHash}`,
  /** Used stamps by the height of the block they named: pruned once it leaves the ring. */
  usedByHeight: (height: number, stampHash: string) =>
    `scholarship/stamp-by/${pad(height, heightDigits)}/${stampHash}`,
  usedByHeightPrefix: 'scholarship/stamp-by/',
  /** Posts (questions and answers) per sender and per subject per window of `windowBlocks`. */
  senderLoad: (window: number, sender: string) =>
    `scholarship/load/${pad(window, windowDigits)}/sender/${sender}`,
  subjectLoad: (window: number, subject: string) =>
    `scholarship/load/${pad(window, windowDigits)}/subject/${subject}`,
  loadPrefix: 'scholarship/load/',
  loadWindowKey: (window: number) => `scholarship/load/${pad(window, windowDigits)}/`,
  profile: (address: string) => `scholarship/profile/${address}`,
  /** A tutor's answers and accepted answers in a subject: {answers, accepted}. */
  reputation: (address: string, subject: string) => `scholarship/rep/${address}/${subject}`,
  reputationPrefix: (address: string) => `scholarship/rep/${address}/`,
  /**
   * An asker who awarded one of this tutor's answers in the subject itself: counted once in the
   * tutor's `askers` (so one asker awarding its own sybil tutor many times counts as one).
   */
  reputationAsker: (address: string, subject: string, asker: string) =>
    `scholarship/rep-asker/${address}/${subject}/${asker}`,
  question: (questionId: string) => `scholarship/question/${questionId}`,
  questionPrefix: 'scholarship/question/',
  bySubject: (subject: string, questionId: string) =>
    `scholarship/q-subject/${subject}/${questionId}`,
  bySubjectPrefix: (subject: string) => `scholarship/q-subject/${subject}/`,
  byStatus: (status: QuestionStatus, questionId: string) =>
    `scholarship/q-status/${status}/${questionId}`,
  byStatusPrefix: (status: QuestionStatus) => `scholarship/q-status/${status}/`,
  bySubjectStatus: (subject: string, status: QuestionStatus, questionId: string) =>
    `scholarship/q-both/${subject}/${status}/${questionId}`,
  bySubjectStatusPrefix: (subject: string, status: QuestionStatus) =>
    `scholarship/q-both/${subject}/${status}/`,
  /** Open questions by the time they may be closed (deadline + grace), for the closer service. */
  dueAt: (closeAtMs: number, questionId: string) =>
    `scholarship/q-due/${pad(closeAtMs, timeDigits)}/${questionId}`,
  dueAtPrefix: 'scholarship/q-due/',
  answer: (questionId: string, index: number) =>
    `scholarship/answer/${questionId}/${pad(index, answerDigits)}`,
  answerPrefix: (questionId: string) => `scholarship/answer/${questionId}/`,
  /** answerId -> "questionId/index". */
  answerRef: (answerId: string) => `scholarship/answer-ref/${answerId}`,
  /** One answer per tutor per question: author -> answerId. */
  answeredBy: (questionId: string, author: string) =>
    `scholarship/answered/${questionId}/${author}`,
  /** One vote per voter per question: voter -> answerId. */
  vote: (questionId: string, voter: string) => `scholarship/vote/${questionId}/${voter}`,
  /** One upvote per profile per answer. */
  upvote: (answerId: string, voter: string) => `scholarship/upvote/${answerId}/${voter}`,
  tip: (questionId: string, index: number) =>
    `scholarship/tip/${questionId}/${pad(index, tipDigits)}`,
  tipPrefix: (questionId: string) => `scholarship/tip/${questionId}/`,
  /** What a question holds for a claimant (a payout a freeze held back): decimal minor units. */
  claim: (questionId: string, address: string) => `scholarship/claim/${questionId}/${address}`,
  claimPrefix: (questionId: string) => `scholarship/claim/${questionId}/`,
  /** A body hash some committed question or answer names: the node stores that body. */
  bodyRef: (bodyHash: string) => `scholarship/body-ref/${bodyHash}`,
};

function readJson<T>(state: StateReader, key: string): T | undefined {
  const text = state.get(key);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

function writeJson(state: StateView, key: string, value: unknown): void {
  state.set(key, canonicalize(value));
}

function readCount(state: StateReader, key: string): number {
  return Number(state.get(key) ?? '0');
}

/** The escrow account of a question: reward and tip budget wait there. */
export function questionEscrow(questionId: string): string {
  return escrowAddress(scholarshipModuleName, questionId);
}

// ---- parameters and the block-hash ring ------------------------------------------------------------

export function readDifficultyBase(state: StateReader): number {
  return (
    readJson<{ difficultyBase: number }>(state, scholarshipKeys.params)?.difficultyBase ??
    difficultyBaseDefault
  );
}

export function writeDifficultyBase(state: StateView, difficultyBase: number): void {
  writeJson(state, scholarshipKeys.params, { difficultyBase });
}

export interface RecentBlock {
  height: number;
  hash: string;
}

/** Puts block `height`'s hash into the ring, dropping the one 64 heights below it. */
export function rememberBlock(state: StateView, height: number, hash: string): void {
  const slot = scholarshipKeys.recent(height % recentBlocks);
  const old = readJson<RecentBlock>(state, slot);
  if (old !== undefined) state.delete(scholarshipKeys.recentHash(old.hash));
  writeJson(state, slot, { height, hash });
  state.set(scholarshipKeys.recentHash(hash), String(height));
}

/** The height of a block in the ring with this hash, if it is one of the last 64. */
export function recentHeightOf(state: StateReader, hash: string): number | undefined {
  const text = state.get(scholarshipKeys.recentHash(hash));
  return text === undefined ? undefined : Number(text);
}

/** The newest block in the ring (the one below the current block), if any. */
export function latestRecentBlock(state: OrderedStateReader): RecentBlock | undefined {
  let latest: RecentBlock | undefined;
  for (const [, value] of state.range('scholarship/recent/', recentBlocks)) {
    const block = JSON.parse(value) as RecentBlock;
    if (latest === undefined || block.height > latest.height) latest = block;
  }
  return latest;
}

// ---- used stamps and load counts -------------------------------------------------------------------

export function stampUsed(state: StateReader, stampHash: string): boolean {
  return state.get(scholarshipKeys.usedStamp(stampHash)) !== undefined;
}

export function markStampUsed(state: StateView, stampHash: string, blockHeight: number): void {
  state.set(scholarshipKeys.usedStamp(stampHash), String(blockHeight));
  state.set(scholarshipKeys.usedByHeight(blockHeight, stampHash), '');
}

/** Work one block does at most pruning used stamps, and again load counters. */
export const pruneKeysPerBlockMax = 256;

/**
 * Forgets used stamps that named blocks below `oldestHeight` (out of the ring: such a stamp is
 * refused as unknown before its hash is looked at), at most `pruneKeysPerBlockMax` per block, the
 * oldest first; answers how many it removed.
 */
export function pruneUsedStamps(state: StateView, oldestHeight: number): number {
  const before = scholarshipKeys.usedByHeight(oldestHeight, '');
  const entries = state.range(scholarshipKeys.usedByHeightPrefix, pruneKeysPerBlockMax, {
    before,
  });
  for (const [key] of entries) {
    const stampHash = key.slice(key.lastIndexOf('/') + 1);
    state.delete(scholarshipKeys.usedStamp(stampHash));
    state.delete(key);
  }
  return entries.length;
}

/** Forgets load counters of windows below `oldestWindow`, at most `pruneKeysPerBlockMax`. */
export function pruneLoad(state: StateView, oldestWindow: number): number {
  const entries = state.range(scholarshipKeys.loadPrefix, pruneKeysPerBlockMax, {
    before: scholarshipKeys.loadWindowKey(oldestWindow),
  });
  for (const [key] of entries) state.delete(key);
  return entries.length;
}

export function windowOf(height: number): number {
  return Math.floor(height / windowBlocks);
}

/** Questions and answers posted in the current and the previous window at `height`. */
export function recentLoad(
  state: StateReader,
  height: number,
  subject: string,
  sender: string,
): { senderRecent: number; subjectRecent: number } {
  const window = windowOf(height);
  const previous = window - 1;
  const senderRecent =
    readCount(state, scholarshipKeys.senderLoad(window, sender)) +
    (previous >= 0 ? readCount(state, scholarshipKeys.senderLoad(previous, sender)) : 0);
  const subjectRecent =
    readCount(state, scholarshipKeys.subjectLoad(window, subject)) +
    (previous >= 0 ? readCount(state, scholarshipKeys.subjectLoad(previous, subject)) : 0);
  return { senderRecent, subjectRecent };
}

/** The bits a stamp of `sender` in `subject` needs at `height` (pow.ts `difficultyFor`). */
export function requiredDifficulty(
  state: StateReader,
  height: number,
  subject: string,
  sender: string,
): number {
  const { senderRecent, subjectRecent } = recentLoad(state, height, subject, sender);
  return difficultyFor(readDifficultyBase(state), senderRecent, subjectRecent);
}

/** Counts one post of `sender` in `subject` at `height`. */
export function countPost(state: StateView, height: number, subject: string, sender: string): void {
  const window = windowOf(height);
  for (const key of [
    scholarshipKeys.senderLoad(window, sender),
    scholarshipKeys.subjectLoad(window, subject),
  ]) {
    state.set(key, String(readCount(state, key) + 1));
  }
}

// ---- profiles and reputation -----------------------------------------------------------------------

export function readProfile(state: StateReader, address: string): ProfileRecord | undefined {
  return readJson(state, scholarshipKeys.profile(address));
}

export function writeProfile(state: StateView, record: ProfileRecord): void {
  writeJson(state, scholarshipKeys.profile(record.address), record);
}

export interface ReputationCounts {
  /** Answers of closed questions. */
  answers: number;
  /** Of them, awarded (by the asker or by votes). */
  accepted: number;
  /** Distinct askers who awarded one of them themselves. */
  askers: number;
}

export function readReputation(
  state: StateReader,
  address: string,
  subject: string,
): ReputationCounts {
  const counts = readJson<Partial<ReputationCounts>>(
    state,
    scholarshipKeys.reputation(address, subject),
  );
  return {
    answers: counts?.answers ?? 0,
    accepted: counts?.accepted ?? 0,
    askers: counts?.askers ?? 0,
  };
}

/**
 * Marks that `asker` awarded an answer of `address` in `subject`; answers whether it is the first
 * time (then the tutor's `askers` grows by one).
 */
export function markAskerAccepted(
  state: StateView,
  address: string,
  subject: string,
  asker: string,
): boolean {
  const key = scholarshipKeys.reputationAsker(address, subject, asker);
  if (state.get(key) !== undefined) return false;
  state.set(key, '');
  return true;
}

export function writeReputation(
  state: StateView,
  address: string,
  subject: string,
  counts: ReputationCounts,
): void {
  writeJson(state, scholarshipKeys.reputation(address, subject), counts);
}

// ---- questions, answers, votes, tips ---------------------------------------------------------------

export function readQuestion(state: StateReader, questionId: string): QuestionRecord | undefined {
  return readJson(state, scholarshipKeys.question(questionId));
}

/**
 * Writes a question and moves its indexes (by subject and status) when its status changed; an
 * open question is also indexed by its close time (deadline + grace) until it leaves 'open'.
 */
export function writeQuestion(state: StateView, record: QuestionRecord): void {
  const before = readQuestion(state, record.questionId);
  writeJson(state, scholarshipKeys.question(record.questionId), record);
  const due = scholarshipKeys.dueAt(record.deadline + graceMs, record.questionId);
  if (before !== undefined && before.status !== record.status) {
    state.delete(scholarshipKeys.byStatus(before.status, record.questionId));
    state.delete(scholarshipKeys.bySubjectStatus(record.subject, before.status, record.questionId));
    if (before.status === 'open') state.delete(due);
  }
  if (before === undefined)
    state.set(scholarshipKeys.bySubject(record.subject, record.questionId), '');
  state.set(scholarshipKeys.byStatus(record.status, record.questionId), '');
  state.set(scholarshipKeys.bySubjectStatus(record.subject, record.status, record.questionId), '');
  if (record.status === 'open') state.set(due, '');
}

/**
 * Open questions whose close time (deadline + grace) is at or before `atMs`, the earliest first
 * (then by id), at most `limit`: what the closer service may close at a block of time `atMs`.
 */
export function dueQuestions(state: OrderedStateReader, atMs: number, limit: number): string[] {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError('limit must be at least 1');
  if (!Number.isSafeInteger(atMs) || atMs < 0) return [];
  return state
    .range(scholarshipKeys.dueAtPrefix, limit, { before: scholarshipKeys.dueAt(atMs + 1, '') })
    .map(([key]) => key.slice(key.lastIndexOf('/') + 1));
}

export function readAnswer(
  state: StateReader,
  questionId: string,
  index: number,
): AnswerRecord | undefined {
  return readJson(state, scholarshipKeys.answer(questionId, index));
}

/** The answer with this id, if any. */
export function readAnswerById(state: StateReader, answerId: string): AnswerRecord | undefined {
  const ref = state.get(scholarshipKeys.answerRef(answerId));
  if (ref === undefined) return undefined;
  const [questionId, index] = ref.split('/');
  return readAnswer(state, questionId!, Number(index));
}

/** A question's answers in order, dismissed ones included (at most `answersTotalMax`, 84). */
export function readAnswers(state: OrderedStateReader, questionId: string): AnswerRecord[] {
  return state
    .range(scholarshipKeys.answerPrefix(questionId), answersTotalMax)
    .map(([, value]) => JSON.parse(value) as AnswerRecord);
}

export function writeAnswer(state: StateView, record: AnswerRecord): void {
  writeJson(state, scholarshipKeys.answer(record.questionId, record.index), record);
  state.set(scholarshipKeys.answerRef(record.answerId), `${record.questionId}/${record.index}`);
  state.set(scholarshipKeys.answeredBy(record.questionId, record.author), record.answerId);
}

export function answeredBy(state: StateReader, questionId: string, author: string): boolean {
  return state.get(scholarshipKeys.answeredBy(questionId, author)) !== undefined;
}

export function votedFor(
  state: StateReader,
  questionId: string,
  voter: string,
): string | undefined {
  return state.get(scholarshipKeys.vote(questionId, voter));
}

export function writeVote(
  state: StateView,
  questionId: string,
  voter: string,
  answerId: string,
): void {
  state.set(scholarshipKeys.vote(questionId, voter), answerId);
}

export function upvoted(state: StateReader, answerId: string, voter: string): boolean {
  return state.get(scholarshipKeys.upvote(answerId, voter)) !== undefined;
}

export function writeUpvote(state: StateView, answerId: string, voter: string): void {
  state.set(scholarshipKeys.upvote(answerId, voter), '');
}

export function writeTip(state: StateView, questionId: string, record: TipRecord): void {
  writeJson(state, scholarshipKeys.tip(questionId, record.index), record);
}

/** A question's paying upvotes in order (at most `tipsMax`, 256). */
export function readTips(state: OrderedStateReader, questionId: string): TipRecord[] {
  return state
    .range(scholarshipKeys.tipPrefix(questionId), tipsMax)
    .map(([, value]) => JSON.parse(value) as TipRecord);
}

/** What `questionId` holds for `address` (0 when nothing). */
export function readClaim(state: StateReader, questionId: string, address: string): bigint {
  return BigInt(state.get(scholarshipKeys.claim(questionId, address)) ?? '0');
}

/** Adds `amount` (> 0) to what `questionId` holds for `address`. */
export function addClaim(
  state: StateView,
  questionId: string,
  address: string,
  amount: bigint,
): void {
  const key = scholarshipKeys.claim(questionId, address);
  state.set(key, (readClaim(state, questionId, address) + amount).toString());
}

export function clearClaim(state: StateView, questionId: string, address: string): void {
  state.delete(scholarshipKeys.claim(questionId, address));
}

/**
 * What a question holds for its claimants, by address. Claimants are its asker and the authors of
 * its answers (at most 1 + 84).
 */
export function readClaims(state: OrderedStateReader, questionId: string): ClaimRecord[] {
  const prefix = scholarshipKeys.claimPrefix(questionId);
  return state
    .range(prefix, answersTotalMax + 1)
    .map(([key, amount]) => ({ address: key.slice(prefix.length), amount }));
}

export function markBodyReferenced(state: StateView, bodyHash: string): void {
  state.set(scholarshipKeys.bodyRef(bodyHash), '');
}

export function bodyReferenced(state: StateReader, bodyHash: string): boolean {
  return state.get(scholarshipKeys.bodyRef(bodyHash)) !== undefined;
}
