import {
  defineTxOf,
  reject,
  type BlockContext,
  type GenesisContext,
  type TxContext,
  type TxDefinition,
} from '../../chain/index.js';
import { toHex } from '../../crypto/index.js';
import {
  difficultyMin,
  leadingZeroBits,
  recentBlocks,
  stampHash,
  wilsonLowerBound,
} from './pow.js';
import { recordLeaves, recordRoot } from './record.js';
import type { ScholarshipRejection } from './rejections.js';
import {
  stampAdmissible,
  autoAwardWeightMin,
  deadlineMaxMs,
  deadlineMinMs,
  genesisSectionSchema,
  graceMs,
  scholarshipPayloads,
  tipsMax,
  type AnswerRecord,
  type BestAnswer,
  type QuestionRecord,
} from './schema.js';
import {
  answeredBy,
  countPost,
  markBodyReferenced,
  markStampUsed,
  pruneLoad,
  pruneUsedStamps,
  questionEscrow,
  readAnswerById,
  readAnswers,
  readProfile,
  readQuestion,
  readReputation,
  readTips,
  recentHeightOf,
  rememberBlock,
  requiredDifficulty,
  stampUsed,
  upvoted,
  votedFor,
  windowOf,
  writeAnswer,
  writeDifficultyBase,
  writeProfile,
  writeQuestion,
  writeReputation,
  writeTip,
  writeUpvote,
  writeVote,
} from './state.js';
import { coversSubject } from './subjects.js';

export { scholarshipRejections, type ScholarshipRejection } from './rejections.js';

/*
 * The scholarship module's handlers (issue 22). Deterministic: time is the block's, ids are tx
 * hashes, amounts bigints, splits by largest remainder, reputation an integer Wilson bound.
 * Checks run in a fixed precedence: the stamp's admission floor (stateless), the records named,
 * the sender's authority, windows and limits, the stamp against chain state (recent block, not
 * replayed, enough bits for this sender and subject now), then money through the ledger. A
 * rejection restores the state the tx found.
 *
 * An outsider with a fresh key and no funds may write its own profile (one bounded record per
 * address) and, as a self-declared tutor, answer open questions: at most `answersMax` (<= 20)
 * answers per question, one per tutor, each with a stamp whose cost doubles as its sender's
 * recent posts grow (pow.ts). It may vote (one per question, weight 1 without reputation) and
 * upvote (one per answer, only while the tip budget lasts: at most 256 paying upvotes per
 * question). It cannot ask without funds (the reward is escrowed), award (the asker only), or close
 * before deadline + grace.
 */

/** The payout the pools helper makes for each accepted answer (txs-pools.ts). */
export type AcceptedAnswerPayout = (
  ctx: TxContext,
  accepted: { subject: string; author: string; questionId: string; answerId: string },
) => unknown;

/**
 * Splits `total` by `weights` (each >= 1), the largest remainder to the unit: every part is
 * floor(total * w / W) and the units left go one each to the largest remainders (the earlier
 * position first on a tie). The parts add up to `total`.
 */
export function splitByWeights(total: bigint, weights: readonly number[]): bigint[] {
  const sum = weights.reduce((a, w) => a + BigInt(w), 0n);
  if (sum <= 0n) throw new RangeError('splitByWeights: weights must add up to more than 0');
  const parts = weights.map((w) => (total * BigInt(w)) / sum);
  const remainders = weights.map((w, index) => ({ index, rest: (total * BigInt(w)) % sum }));
  let left = total - parts.reduce((a, p) => a + p, 0n);
  remainders.sort((a, b) => (a.rest === b.rest ? a.index - b.index : a.rest > b.rest ? -1 : 1));
  for (const { index } of remainders) {
    if (left === 0n) break;
    parts[index]! += 1n;
    left -= 1n;
  }
  return parts;
}

type Stamp = { nonce: string; blockHash: string };
type StampKind = 'question' | 'answer';

/** The admission floor: stateless (only the stamp, the body hash and the sender). */
function stampTooWeak(ctx: TxContext, kind: StampKind, contentHash: string, stamp: Stamp): boolean {
  const fields = { kind, contentHash, sender: ctx.sender, blockHash: stamp.blockHash };
  return leadingZeroBits(stampHash(fields, stamp.nonce)) < difficultyMin;
}

/** The stamp against chain state; on success marks it used and counts the post. */
function spendStamp(
  ctx: TxContext,
  kind: StampKind,
  contentHash: string,
  subject: string,
  stamp: Stamp,
): ScholarshipRejection | undefined {
  const blockHeight = recentHeightOf(ctx.state, stamp.blockHash);
  if (blockHeight === undefined) return 'stamp_block_unknown';
  const hash = stampHash(
    { kind, contentHash, sender: ctx.sender, blockHash: stamp.blockHash },
    stamp.nonce,
  );
  const hex = toHex(hash);
  if (stampUsed(ctx.state, hex)) return 'stamp_replayed';
  if (leadingZeroBits(hash) < requiredDifficulty(ctx.state, ctx.height, subject, ctx.sender)) {
    return 'stamp_below_difficulty';
  }
  markStampUsed(ctx.state, hex, blockHeight);
  countPost(ctx.state, ctx.height, subject, ctx.sender);
  return undefined;
}

function isTutorOf(ctx: TxContext, address: string, subject: string): boolean {
  const profile = readProfile(ctx.state, address);
  return (
    profile !== undefined &&
    profile.roles.includes('tutor') &&
    coversSubject(profile.subjects, subject)
  );
}

/**
 * Ends a question: pays `best` from its escrow (and the pools' per-answer payouts), returns the
 * unspent tip budget (and, on a refund, the reward) to the asker, counts reputation, writes the
 * record's root and emits `question.closed`.
 */
function finish(
  ctx: TxContext,
  question: QuestionRecord,
  answers: AnswerRecord[],
  best: BestAnswer[],
  outcome: 'asker' | 'votes' | 'refund',
  payout: AcceptedAnswerPayout | undefined,
): string | undefined {
  const { escrow, asset } = question;
  for (const b of best) {
    // A tie on a reward smaller than its winners gives some a part of 0: nothing to move (the
    // ledger refuses a transfer of 0, which would stop the question from ever closing).
    if (BigInt(b.amount) === 0n) continue;
    const refusal = ctx.ledger.transfer(escrow, b.author, asset, BigInt(b.amount));
    if (refusal) return refusal;
  }
  const back = BigInt(question.tipLeft) + (outcome === 'refund' ? BigInt(question.reward) : 0n);
  if (back > 0n) {
    const refusal = ctx.ledger.transfer(escrow, question.asker, asset, back);
    if (refusal) return refusal;
  }
  for (const b of best) {
    payout?.(ctx, {
      subject: question.subject,
      author: b.author,
      questionId: question.questionId,
      answerId: b.answerId,
    });
  }
  const accepted = new Set(best.map((b) => b.answerId));
  for (const a of answers) {
    const counts = readReputation(ctx.state, a.author, question.subject);
    writeReputation(ctx.state, a.author, question.subject, {
      answers: counts.answers + 1,
      accepted: counts.accepted + (accepted.has(a.answerId) ? 1 : 0),
    });
  }
  const tips = readTips(ctx.state, question.questionId);
  const leaves = recordLeaves(
    question,
    answers,
    best,
    tips,
    ctx.txHash,
    outcome === 'asker' ? 'award' : 'close',
  );
  const root = recordRoot(leaves);
  writeQuestion(ctx.state, {
    ...question,
    status: outcome === 'refund' ? 'refunded' : 'awarded',
    outcome,
    best,
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
    asset,
    best,
    refunded: back.toString(),
    root,
    leafCount: leaves.length,
  });
  return undefined;
}

/** The module's own tx types; `payout` is the pools helper's accepted-answer payout. */
export function scholarshipTxsWith(
  payout?: AcceptedAnswerPayout,
): Record<string, TxDefinition<never>> {
  return {
    'scholar.profile': defineTxOf(scholarshipPayloads['scholar.profile'], {
      execute: (ctx, p): ScholarshipRejection | undefined => {
        const before = readProfile(ctx.state, ctx.sender);
        writeProfile(ctx.state, {
          address: ctx.sender,
          name: p.name,
          roles: [...p.roles].sort(),
          subjects: [...p.subjects].sort(),
          createdAt: before?.createdAt ?? ctx.time,
          updatedAt: ctx.time,
          height: ctx.height,
        });
        ctx.emit('scholar.profiled', {
          address: ctx.sender,
          roles: [...p.roles].sort(),
          subjects: [...p.subjects].sort(),
        });
        return undefined;
      },
    }),

    'question.ask': defineTxOf(scholarshipPayloads['question.ask'], {
      // The floor at admission (decodeTx gives the sender), before the tx takes a place in the pool.
      check: (p, sender) =>
        sender !== undefined && !stampAdmissible('question', p.bodyHash, sender, p.stamp)
          ? reject('stamp_too_weak', 'stamp')
          : undefined,
      execute: (ctx, p): ScholarshipRejection | undefined => {
        if (stampTooWeak(ctx, 'question', p.bodyHash, p.stamp)) return 'stamp_too_weak';
        if (p.deadline < ctx.time + deadlineMinMs || p.deadline > ctx.time + deadlineMaxMs) {
          return 'invalid_deadline';
        }
        const asset = p.reward.asset;
        if (!ctx.ledger.asset(asset)) return 'asset_not_found';
        const tipBudget = p.tipBudget ?? 0n;
        const tipUnit = p.tipUnit ?? 0n;
        if ((p.tipBudget === undefined) !== (p.tipUnit === undefined)) {
          return p.tipBudget === undefined ? 'invalid_tip_unit' : 'invalid_tip_budget';
        }
        if (tipUnit > tipBudget) return 'invalid_tip_unit';
        if (tipBudget > tipUnit * BigInt(tipsMax)) return 'invalid_tip_budget';
        const stamp = spendStamp(ctx, 'question', p.bodyHash, p.subject, p.stamp);
        if (stamp) return stamp;
        const questionId = ctx.txHash;
        const escrow = questionEscrow(questionId);
        const moved = ctx.ledger.transfer(ctx.sender, escrow, asset, p.reward.amount);
        if (moved) return moved as ScholarshipRejection;
        if (tipBudget > 0n) {
          const tip = ctx.ledger.transfer(ctx.sender, escrow, asset, tipBudget);
          if (tip) return tip as ScholarshipRejection;
        }
        markBodyReferenced(ctx.state, p.bodyHash);
        writeQuestion(ctx.state, {
          questionId,
          asker: ctx.sender,
          subject: p.subject,
          title: p.title,
          bodyHash: p.bodyHash,
          asset,
          reward: p.reward.amount.toString(),
          tipBudget: tipBudget.toString(),
          tipUnit: tipUnit.toString(),
          tipLeft: tipBudget.toString(),
          tips: 0,
          deadline: p.deadline,
          answersMax: p.answersMax,
          answers: 0,
          escrow,
          status: 'open',
          best: [],
          askedAt: ctx.time,
          height: ctx.height,
          tx: ctx.txHash,
        });
        ctx.emit('question.asked', {
          questionId,
          asker: ctx.sender,
          subject: p.subject,
          title: p.title,
          bodyHash: p.bodyHash,
          asset,
          reward: p.reward.amount.toString(),
          tipBudget: tipBudget.toString(),
          deadline: p.deadline,
          answersMax: p.answersMax,
        });
        return undefined;
      },
    }),

    'question.answer': defineTxOf(scholarshipPayloads['question.answer'], {
      // The floor at admission (decodeTx gives the sender), before the tx takes a place in the pool.
      check: (p, sender) =>
        sender !== undefined && !stampAdmissible('answer', p.bodyHash, sender, p.stamp)
          ? reject('stamp_too_weak', 'stamp')
          : undefined,
      execute: (ctx, p): ScholarshipRejection | undefined => {
        if (stampTooWeak(ctx, 'answer', p.bodyHash, p.stamp)) return 'stamp_too_weak';
        const question = readQuestion(ctx.state, p.questionId);
        if (!question) return 'question_not_found';
        if (question.status !== 'open') return 'question_closed';
        if (ctx.time >= question.deadline) return 'question_deadline_passed';
        if (question.asker === ctx.sender) return 'own_question';
        if (!isTutorOf(ctx, ctx.sender, question.subject)) return 'not_tutor';
        if (answeredBy(ctx.state, p.questionId, ctx.sender)) return 'already_answered';
        if (question.answers >= question.answersMax) return 'answers_full';
        const stamp = spendStamp(ctx, 'answer', p.bodyHash, question.subject, p.stamp);
        if (stamp) return stamp;
        const answer: AnswerRecord = {
          answerId: ctx.txHash,
          questionId: p.questionId,
          author: ctx.sender,
          bodyHash: p.bodyHash,
          index: question.answers,
          voteWeight: 0,
          votes: 0,
          upvotes: 0,
          time: ctx.time,
          height: ctx.height,
          tx: ctx.txHash,
        };
        writeAnswer(ctx.state, answer);
        writeQuestion(ctx.state, { ...question, answers: question.answers + 1 });
        markBodyReferenced(ctx.state, p.bodyHash);
        ctx.emit('question.answered', {
          questionId: p.questionId,
          answerId: ctx.txHash,
          author: ctx.sender,
          subject: question.subject,
          bodyHash: p.bodyHash,
          index: answer.index,
        });
        return undefined;
      },
    }),

    'question.award': defineTxOf(scholarshipPayloads['question.award'], {
      execute: (ctx, p): string | undefined => {
        const question = readQuestion(ctx.state, p.questionId);
        if (!question) return 'question_not_found';
        if (question.asker !== ctx.sender) return 'not_asker';
        if (question.status !== 'open') return 'question_closed';
        const answers = readAnswers(ctx.state, p.questionId);
        const chosen: AnswerRecord[] = [];
        for (const award of p.awards) {
          const answer = answers.find((a) => a.answerId === award.answerId);
          if (!answer) return 'answer_not_found';
          chosen.push(answer);
        }
        const amounts = splitByWeights(
          BigInt(question.reward),
          p.awards.map((a) => a.weight),
        );
        const best: BestAnswer[] = chosen.map((a, i) => ({
          answerId: a.answerId,
          author: a.author,
          amount: amounts[i]!.toString(),
        }));
        return finish(ctx, question, answers, best, 'asker', payout);
      },
    }),

    'question.vote': defineTxOf(scholarshipPayloads['question.vote'], {
      execute: (ctx, p): ScholarshipRejection | undefined => {
        const question = readQuestion(ctx.state, p.questionId);
        if (!question) return 'question_not_found';
        const answer = readAnswerById(ctx.state, p.answerId);
        if (!answer || answer.questionId !== p.questionId) return 'answer_not_found';
        if (question.status !== 'open') return 'question_closed';
        if (ctx.time < question.deadline || ctx.time >= question.deadline + graceMs) {
          return 'voting_not_open';
        }
        if (question.asker === ctx.sender) return 'own_question';
        if (answer.author === ctx.sender) return 'own_answer';
        if (!isTutorOf(ctx, ctx.sender, question.subject)) return 'not_tutor';
        if (votedFor(ctx.state, p.questionId, ctx.sender) !== undefined) return 'already_voted';
        const counts = readReputation(ctx.state, ctx.sender, question.subject);
        // A floor weight of 1: a new tutor counts a little.
        const weight = Math.max(1, wilsonLowerBound(counts.accepted, counts.answers));
        writeVote(ctx.state, p.questionId, ctx.sender, p.answerId);
        writeAnswer(ctx.state, {
          ...answer,
          voteWeight: answer.voteWeight + weight,
          votes: answer.votes + 1,
        });
        ctx.emit('question.voted', {
          questionId: p.questionId,
          answerId: p.answerId,
          voter: ctx.sender,
          weight,
        });
        return undefined;
      },
    }),

    'question.upvote': defineTxOf(scholarshipPayloads['question.upvote'], {
      execute: (ctx, p): string | undefined => {
        const question = readQuestion(ctx.state, p.questionId);
        if (!question) return 'question_not_found';
        const answer = readAnswerById(ctx.state, p.answerId);
        if (!answer || answer.questionId !== p.questionId) return 'answer_not_found';
        if (question.status !== 'open') return 'question_closed';
        if (!readProfile(ctx.state, ctx.sender)) return 'profile_required';
        if (answer.author === ctx.sender) return 'own_answer';
        if (upvoted(ctx.state, p.answerId, ctx.sender)) return 'already_upvoted';
        const unit = BigInt(question.tipUnit);
        const left = BigInt(question.tipLeft);
        if (unit === 0n || left < unit || question.tips >= tipsMax) return 'no_tip_budget';
        const moved = ctx.ledger.transfer(question.escrow, answer.author, question.asset, unit);
        if (moved) return moved;
        writeUpvote(ctx.state, p.answerId, ctx.sender);
        writeTip(ctx.state, p.questionId, {
          index: question.tips,
          answerId: p.answerId,
          from: ctx.sender,
          to: answer.author,
          amount: unit.toString(),
          tx: ctx.txHash,
        });
        writeAnswer(ctx.state, { ...answer, upvotes: answer.upvotes + 1 });
        writeQuestion(ctx.state, {
          ...question,
          tipLeft: (left - unit).toString(),
          tips: question.tips + 1,
        });
        ctx.emit('question.upvoted', {
          questionId: p.questionId,
          answerId: p.answerId,
          from: ctx.sender,
          to: answer.author,
          asset: question.asset,
          amount: unit.toString(),
        });
        return undefined;
      },
    }),

    'question.close': defineTxOf(scholarshipPayloads['question.close'], {
      execute: (ctx, p): string | undefined => {
        const question = readQuestion(ctx.state, p.questionId);
        if (!question) return 'question_not_found';
        if (question.status !== 'open') return 'question_closed';
        if (ctx.time < question.deadline + graceMs) return 'grace_not_over';
        const answers = readAnswers(ctx.state, p.questionId);
        const total = answers.reduce((a, x) => a + x.voteWeight, 0);
        const top = answers.reduce((a, x) => Math.max(a, x.voteWeight), 0);
        if (total < autoAwardWeightMin || top === 0) {
          return finish(ctx, question, answers, [], 'refund', payout);
        }
        // An author whose account is frozen for the asset (the issuer's power) cannot be paid:
        // leaving it among the winners would fail every close. Without a payable winner: refund.
        const payable = (a: AnswerRecord) =>
          !ctx.ledger.account(a.author).frozen.includes(question.asset);
        const winners = answers.filter((a) => a.voteWeight === top && payable(a));
        if (winners.length === 0) return finish(ctx, question, answers, [], 'refund', payout);
        const amounts = splitByWeights(
          BigInt(question.reward),
          winners.map(() => 1),
        );
        const best: BestAnswer[] = winners.map((a, i) => ({
          answerId: a.answerId,
          author: a.author,
          amount: amounts[i]!.toString(),
        }));
        return finish(ctx, question, answers, best, 'votes', payout);
      },
    }),
  };
}

/** Keeps the ring of recent block hashes and prunes what left it (bounded work per block). */
export function scholarshipBeginBlock(ctx: BlockContext): void {
  if (ctx.height < 1) return;
  const below = ctx.height - 1;
  rememberBlock(ctx.state, below, ctx.previousHash);
  pruneUsedStamps(ctx.state, below - (recentBlocks - 1));
  pruneLoad(ctx.state, windowOf(ctx.height) - 1);
}

/** The genesis section `{difficultyBase?}`: a chain's own base difficulty (default 12). */
export function scholarshipGenesis(ctx: GenesisContext, section: unknown): void {
  if (section === undefined) return;
  const parsed = genesisSectionSchema.parse(section);
  if (parsed.difficultyBase !== undefined) writeDifficultyBase(ctx.state, parsed.difficultyBase);
}
