import {
  canonicalBytes,
  fromHex,
  inclusionProofs,
  merkleRoot,
  toHex,
  verifyInclusion,
} from '../../crypto/index.js';
import type { AnswerRecord, BestAnswer, HeldPayout, QuestionRecord, TipRecord } from './schema.js';

/*
 * The Q&A record of a closed question (issue 22): the question, every answer, the best answers
 * with what each was paid, and the micro-transactions (the ids of the ask, answer, upvote and the
 * award or close txs), each a JSON leaf whose RFC 8785 canonical bytes are a leaf of an RFC 6962
 * Merkle tree (src/crypto). The award or close tx writes the root and the leaf count into its
 * `question.closed` event (so its receipt proof covers them) and into the question's record; the
 * node answers the leaves with their proofs; `coffer verify qa` checks them offline. Pure.
 *
 * Leaf order: the question; the answers by index (a dismissed one with `dismissed: true`); the
 * best answers in award order; the payouts of the award or close that a freeze held for their
 * claimant (`kind: 'held'`, in payment order); then the txs: ask, answers by index, paying upvotes
 * by index (a tip held for its author with `held: true`), and the award or close tx last. A leaf
 * has a flag only when it is set, so a record without dismissals or holds has the same leaves as
 * before the flags existed.
 */

export type RecordLeaf = Record<string, string | number | boolean>;

export function recordLeaves(
  question: QuestionRecord,
  answers: readonly AnswerRecord[],
  best: readonly BestAnswer[],
  held: readonly HeldPayout[],
  tips: readonly TipRecord[],
  closeTx: string,
  closeRole: 'award' | 'close',
): RecordLeaf[] {
  const leaves: RecordLeaf[] = [
    {
      kind: 'question',
      questionId: question.questionId,
      asker: question.asker,
      subject: question.subject,
      title: question.title,
      bodyHash: question.bodyHash,
      asset: question.asset,
      reward: question.reward,
      tipBudget: question.tipBudget,
      deadline: question.deadline,
      answersMax: question.answersMax,
    },
  ];
  for (const a of answers) {
    leaves.push({
      kind: 'answer',
      questionId: question.questionId,
      answerId: a.answerId,
      index: a.index,
      author: a.author,
      bodyHash: a.bodyHash,
      ...(a.dismissed ? { dismissed: true } : {}),
    });
  }
  for (const b of best) {
    leaves.push({
      kind: 'best',
      questionId: question.questionId,
      answerId: b.answerId,
      author: b.author,
      asset: question.asset,
      amount: b.amount,
    });
  }
  for (const h of held) {
    leaves.push({
      kind: 'held',
      questionId: question.questionId,
      address: h.address,
      asset: question.asset,
      amount: h.amount,
      for: h.for,
    });
  }
  leaves.push({ kind: 'tx', role: 'ask', tx: question.tx });
  for (const a of answers) leaves.push({ kind: 'tx', role: 'answer', tx: a.tx });
  for (const t of tips) {
    leaves.push({
      kind: 'tx',
      role: 'upvote',
      tx: t.tx,
      answerId: t.answerId,
      to: t.to,
      amount: t.amount,
      ...(t.held === true ? { held: true } : {}),
    });
  }
  leaves.push({ kind: 'tx', role: closeRole, tx: closeTx });
  return leaves;
}

export function recordLeafBytes(leaf: RecordLeaf): Uint8Array {
  return canonicalBytes(leaf);
}

/** The record's Merkle root, 64 lowercase hex. */
export function recordRoot(leaves: readonly RecordLeaf[]): string {
  return toHex(merkleRoot(leaves.map(recordLeafBytes)));
}

/** Each leaf's inclusion proof (hex sibling hashes). */
export function recordProofs(leaves: readonly RecordLeaf[]): string[][] {
  return inclusionProofs(leaves.map(recordLeafBytes)).map((proof) => proof.map(toHex));
}

/** Whether `leaf` is leaf `index` of a record of `leafCount` leaves with this root. */
export function verifyRecordLeaf(
  leaf: RecordLeaf,
  index: number,
  leafCount: number,
  proof: readonly string[],
  root: string,
): boolean {
  if (!/^[0-9a-f]{64}$/.test(root) || !proof.every((p) => /^[0-9a-f]{64}$/.test(p))) return false;
  return verifyInclusion(
    recordLeafBytes(leaf),
    index,
    leafCount,
    proof.map((p) => fromHex(p)),
    fromHex(root),
  );
}
