import type { TxContext } from '../../chain/index.js';
import { recordLeaves, recordRoot } from './record.js';
import type { AnswerRecord, BestAnswer, HeldPayout, HeldReason, QuestionRecord } from './schema.js';
import {
  addClaim,
  markAskerAccepted,
  readReputation,
  readTips,
  writeQuestion,
  writeReputation,
} from './state.js';

/*
 * How a question's escrow pays (issue 22): the best answers' parts, the asker's refund and the
 * unspent tips at an award or close, and tips at an upvote. The asset's issuer may freeze any
 * account, the question's escrow included; a payout the ledger would refuse for that is *held*
 * instead: the amount stays in the escrow, `claim/<questionId>/<address>` counts it, and
 * `question.held` says so. The question still closes; the claimant takes it later with
 * `question.claim` once unfrozen. The freeze is checked before the transfer, so a held payout
 * never depends on catching a rejection halfway through a handler.
 */

/** The payout the pools helper makes for each accepted answer (txs-pools.ts). */
export type AcceptedAnswerPayout = (
  ctx: TxContext,
  accepted: {
    subject: string;
    author: string;
    questionId: string;
    answerId: string;
    /** The question's reward asset, and this answer's own part of the reward (> 0). */
    asset: string;
    amount: bigint;
  },
) => unknown;

/** Whether `address` is frozen for `asset` (the ledger refuses it as payer or payee). */
export function frozenFor(ctx: TxContext, address: string, asset: string): boolean {
  return ctx.ledger.account(address).frozen.includes(asset);
}

/** What `payOrHold` did: paid (0 pays nothing), held, or the ledger refused (a bug: it rejects). */
export type PayOutcome = 'paid' | 'held' | { refused: string };

/**
 * Pays `amount` from the question's escrow to `to`, or holds it for `to` when the escrow or `to`
 * is frozen for the asset. The ledger refuses nothing else here (the escrow holds what it owes);
 * should it, the caller returns the refusal and the tx changes nothing. 0 moves nothing.
 */
export function payOrHold(
  ctx: TxContext,
  question: QuestionRecord,
  to: string,
  amount: bigint,
  reason: HeldReason,
): PayOutcome {
  if (amount === 0n) return 'paid';
  const { escrow, asset, questionId } = question;
  if (frozenFor(ctx, escrow, asset) || frozenFor(ctx, to, asset)) {
    addClaim(ctx.state, questionId, to, amount);
    ctx.emit('question.held', {
      questionId,
      address: to,
      asset,
      amount: amount.toString(),
      for: reason,
    });
    return 'held';
  }
  const refused = ctx.ledger.transfer(escrow, to, asset, amount);
  return refused === undefined ? 'paid' : { refused };
}

/**
 * Ends a question: pays `best` from its escrow (and the pools' per-answer payouts), returns the
 * unspent tip budget and the reward not paid to `best` to the asker (each held instead when a
 * freeze stops it), counts reputation, writes the record's root and emits `question.closed`.
 * `chosen`'s parts add up to the reward ('asker'), half of it ('votes') or nothing ('refund'). A
 * part of 0 (a tie or a tiny weight on a small reward) is no award: it is left out of `best`, so
 * it earns no reputation and no pool payout; a 'votes' close left with no part is a refund.
 */
export function finishQuestion(
  ctx: TxContext,
  question: QuestionRecord,
  answers: readonly AnswerRecord[],
  chosen: readonly BestAnswer[],
  chosenOutcome: 'asker' | 'votes' | 'refund',
  payout: AcceptedAnswerPayout | undefined,
): string | undefined {
  const best = chosen.filter((b) => BigInt(b.amount) > 0n);
  // An award always has a part > 0 (the reward is); only a votes close on a reward of 1 has none.
  const outcome = best.length === 0 ? 'refund' : chosenOutcome;
  const reward = BigInt(question.reward);
  const held: HeldPayout[] = [];
  const pay = (to: string, amount: bigint, reason: HeldReason): string | undefined => {
    const result = payOrHold(ctx, question, to, amount, reason);
    if (typeof result === 'object') return result.refused;
    if (result === 'held') held.push({ address: to, amount: amount.toString(), for: reason });
    return undefined;
  };
  for (const b of best) {
    const refusal = pay(b.author, BigInt(b.amount), 'best');
    if (refusal) return refusal;
  }
  const refunded = reward - best.reduce((sum, b) => sum + BigInt(b.amount), 0n);
  const back = BigInt(question.tipLeft) + refunded;
  const refusal = pay(question.asker, back, 'refund');
  if (refusal) return refusal;
  for (const b of best) {
    payout?.(ctx, {
      subject: question.subject,
      author: b.author,
      questionId: question.questionId,
      answerId: b.answerId,
      asset: question.asset,
      amount: BigInt(b.amount),
    });
  }
  const accepted = new Set(best.map((b) => b.answerId));
  for (const a of answers) {
    const counts = readReputation(ctx.state, a.author, question.subject);
    const won = accepted.has(a.answerId);
    // Only the asker's own award counts an asker; each asker once per tutor and subject.
    const newAsker =
      won &&
      outcome === 'asker' &&
      markAskerAccepted(ctx.state, a.author, question.subject, question.asker);
    writeReputation(ctx.state, a.author, question.subject, {
      answers: counts.answers + 1,
      accepted: counts.accepted + (won ? 1 : 0),
      askers: counts.askers + (newAsker ? 1 : 0),
    });
  }
  const tips = readTips(ctx.state, question.questionId);
  const leaves = recordLeaves(
    question,
    answers,
    best,
    held,
    tips,
    ctx.txHash,
    outcome === 'asker' ? 'award' : 'close',
  );
  const root = recordRoot(leaves);
  writeQuestion(ctx.state, {
    ...question,
    status: outcome === 'refund' ? 'refunded' : 'awarded',
    outcome,
    best: [...best],
    rewardRefunded: refunded.toString(),
    held,
    tipLeft: '0',
    recordRoot: root,
    recordLeaves: leaves.length,
    closedAt: ctx.time,
    closeTx: ctx.txHash,
  });
  ctx.emit('question.closed', {
    questionId: question.questionId,
    subject: question.subject,
    asker: question.asker,
    outcome,
    asset: question.asset,
    best,
    refunded: back.toString(),
    held,
    root,
    leafCount: leaves.length,
  });
  return undefined;
}
