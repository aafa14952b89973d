import {
  defineTxOf,
  reject,
  type BlockContext,
  type GenesisContext,
  type TxContext,
  type TxDefinition,
} from '../../chain/index.js';
import { toHex } from '../../crypto/index.js';
import { finishQuestion, frozenFor, payOrHold, type AcceptedAnswerPayout } from './payouts.js';
import {
  difficultyMin,
  leadingZeroBits,
  recentBlocks,
  stampHash,
  wilsonLowerBound,
} from './pow.js';
import type { ScholarshipRejection } from './rejections.js';
import {
  autoAwardShareDivisor,
  autoAwardWeightMin,
  deadlineMaxMs,
  deadlineMinMs,
  dismissalsMax,
  genesisSectionSchema,
  graceMs,
  routedEventType,
  scholarshipPayloads,
  stampAdmissible,
  tipsMax,
  upvotesPerAnswerMax,
  voterAskersMin,
  votesPerQuestionMax,
  type AnswerRecord,
  type BestAnswer,
  type QuestionRecord,
} from './schema.js';
import { splitByWeights } from '../../ledger/split.js';
import {
  answeredBy,
  clearClaim,
  countPost,
  markBodyReferenced,
  markStampUsed,
  pruneLoad,
  pruneUsedStamps,
  questionEscrow,
  readAnswerById,
  readAnswers,
  readClaim,
  readProfile,
  readQuestion,
  readReputation,
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
  writeTip,
  writeUpvote,
  writeVote,
} from './state.js';
import { coversSubject } from './subjects.js';

export { scholarshipRejections, type ScholarshipRejection } from './rejections.js';
export { splitByWeights } from '../../ledger/split.js';
export type { AcceptedAnswerPayout } from './payouts.js';

/*
 * The scholarship module's handlers (issue 22). Deterministic: time is the block's, ids are tx
 * hashes, amounts bigints, splits by largest remainder, reputation an integer Wilson bound.
 * Checks run in a fixed precedence: the stamp's admission floor (stateless), the records named,
 * the sender's authority, windows and limits, the stamp against chain state (recent block, not
 * replayed, enough bits for this sender and subject now), then money through the ledger. A
 * rejection restores the state the tx found. Payouts from a question's escrow that a freeze would
 * stop are held for their claimant (payouts.ts), never a reason for an award or close to fail.
 *
 * Reputation is counted per distinct asker: a tutor's `askers` in a subject is the number of
 * different askers who awarded one of its answers themselves. Votes weigh
 * wilsonLowerBound(askers, answers) and need askers >= 2. Reputation is cheap for a ring that
 * issues an asset of its own and asks in it (`asset.create` and `asset.mint` need no funds), so
 * nothing that moves another asker's money rests on it alone: only the asker's own upvote pays a
 * tip, and votes go only to answers the asker endorsed (upvoted), so a ring's votes choose at most
 * among the asker's own shortlist. Best parts of 0 are no award (no reputation, no pool payout).
 *
 * An outsider with a fresh key and no funds may write its own profile (one bounded record per
 * address) and, as a self-declared tutor, answer open questions that require no reputation
 * (`answerMinAccepted` 0): at most `answersMax` (<= 20) live answers per question, one per tutor,
 * each with a stamp whose cost doubles as its sender's recent posts grow (pow.ts); the asker may
 * dismiss its answer, which frees the slot (64 dismissals per question at most). It may upvote
 * (one per answer, at most 256 per answer besides the asker's), which counts and pays nothing. It
 * may also create an asset, mint itself funds in it and then ask, award, tip and fund pools in that
 * asset like anyone: what that buys is reputation (`askers`) for its own tutors, so votes that can
 * pick which of another asker's endorsed answers wins its auto-award, but none of its tips and no
 * vote for an answer it did not endorse. It cannot award or dismiss another's question, claim
 * what is not held for it, or close before deadline + grace.
 */

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

/** Tips one answer may be paid at most: max(tipUnit, floor(tipBudget / 4)). */
export function tipCapPerAnswer(question: Pick<QuestionRecord, 'tipBudget' | 'tipUnit'>): bigint {
  const unit = BigInt(question.tipUnit);
  const quarter = BigInt(question.tipBudget) / 4n;
  return unit > quarter ? unit : quarter;
}

/** A question's answer by id, if it is one of this question's. */
function answerOf(ctx: TxContext, questionId: string, answerId: string): AnswerRecord | undefined {
  const answer = readAnswerById(ctx.state, answerId);
  return answer?.questionId === questionId ? answer : undefined;
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
        const autoAward = p.autoAward ?? 'refund';
        const answerMinAccepted = p.answerMinAccepted ?? 0;
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
          dismissed: 0,
          autoAward,
          answerMinAccepted,
          votes: 0,
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
          autoAward,
          answerMinAccepted,
        });
        // Routing: tutors subscribe to `question.for.math.*` (webhooks, the events WS).
        ctx.emit(routedEventType(p.subject), {
          questionId,
          subject: p.subject,
          title: p.title,
          asset,
          reward: p.reward.amount.toString(),
          deadline: p.deadline,
          answerMinAccepted,
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
        const { askers } = readReputation(ctx.state, ctx.sender, question.subject);
        if (askers < question.answerMinAccepted) return 'reputation_required';
        // A dismissed answer keeps its author's mark: it cannot answer again.
        if (answeredBy(ctx.state, p.questionId, ctx.sender)) return 'already_answered';
        // Live answers stay within answersMax; dismissals are capped (64), so all are within 84.
        if (question.answers - question.dismissed >= question.answersMax) return 'answers_full';
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
          tipped: '0',
          dismissed: false,
          endorsed: false,
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

    'question.dismiss': defineTxOf(scholarshipPayloads['question.dismiss'], {
      execute: (ctx, p): ScholarshipRejection | undefined => {
        const question = readQuestion(ctx.state, p.questionId);
        if (!question) return 'question_not_found';
        if (question.asker !== ctx.sender) return 'not_asker';
        if (question.status !== 'open') return 'question_closed';
        // Only while answers are taken: after the deadline a dismissal frees no slot, and on a
        // question that opted into votes it would let the asker escape the auto-award.
        if (ctx.time >= question.deadline) return 'question_deadline_passed';
        const answer = answerOf(ctx, p.questionId, p.answerId);
        if (!answer) return 'answer_not_found';
        if (answer.dismissed) return 'answer_dismissed';
        if (question.dismissed >= dismissalsMax) return 'dismissals_full';
        writeAnswer(ctx.state, { ...answer, dismissed: true });
        writeQuestion(ctx.state, { ...question, dismissed: question.dismissed + 1 });
        ctx.emit('question.dismissed', {
          questionId: p.questionId,
          answerId: p.answerId,
          author: answer.author,
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
        // An asker who opted into votes awards until the grace is over (so during the votes), not
        // after: then the close decides, and the asker cannot overrule the votes at the last
        // moment.
        if (question.autoAward === 'votes' && ctx.time >= question.deadline + graceMs) {
          return 'grace_over';
        }
        const answers = readAnswers(ctx.state, p.questionId);
        const chosen: AnswerRecord[] = [];
        for (const award of p.awards) {
          const answer = answers.find((a) => a.answerId === award.answerId);
          if (!answer) return 'answer_not_found';
          if (answer.dismissed) return 'answer_dismissed';
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
        return finishQuestion(ctx, question, answers, best, 'asker', payout);
      },
    }),

    'question.vote': defineTxOf(scholarshipPayloads['question.vote'], {
      execute: (ctx, p): ScholarshipRejection | undefined => {
        const question = readQuestion(ctx.state, p.questionId);
        if (!question) return 'question_not_found';
        const answer = answerOf(ctx, p.questionId, p.answerId);
        if (!answer) return 'answer_not_found';
        if (question.status !== 'open') return 'question_closed';
        if (answer.dismissed) return 'answer_dismissed';
        if (question.autoAward !== 'votes') return 'auto_award_off';
        // The asker's upvotes are its shortlist: votes choose among them, never outside them.
        if (answer.endorsed !== true) return 'answer_not_endorsed';
        if (ctx.time < question.deadline || ctx.time >= question.deadline + graceMs) {
          return 'voting_not_open';
        }
        if (question.asker === ctx.sender) return 'own_question';
        if (answer.author === ctx.sender) return 'own_answer';
        if (!isTutorOf(ctx, ctx.sender, question.subject)) return 'not_tutor';
        const counts = readReputation(ctx.state, ctx.sender, question.subject);
        if (counts.askers < voterAskersMin) return 'reputation_required';
        if (votedFor(ctx.state, p.questionId, ctx.sender) !== undefined) return 'already_voted';
        if (question.votes >= votesPerQuestionMax) return 'votes_full';
        const weight = wilsonLowerBound(counts.askers, counts.answers);
        writeVote(ctx.state, p.questionId, ctx.sender, p.answerId);
        writeAnswer(ctx.state, {
          ...answer,
          voteWeight: answer.voteWeight + weight,
          votes: answer.votes + 1,
        });
        writeQuestion(ctx.state, { ...question, votes: question.votes + 1 });
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
        const answer = answerOf(ctx, p.questionId, p.answerId);
        if (!answer) return 'answer_not_found';
        if (question.status !== 'open') return 'question_closed';
        if (answer.dismissed) return 'answer_dismissed';
        const byAsker = ctx.sender === question.asker;
        if (!byAsker && !readProfile(ctx.state, ctx.sender)) return 'profile_required';
        if (answer.author === ctx.sender) return 'own_answer';
        if (upvoted(ctx.state, p.answerId, ctx.sender)) return 'already_upvoted';
        // Others' upvotes are bounded; the asker's (one per answer) always has its place, so a
        // crowd cannot keep the asker from endorsing an answer.
        const others = answer.upvotes - (answer.endorsed === true ? 1 : 0);
        if (!byAsker && others >= upvotesPerAnswerMax) return 'upvotes_full';
        // Only the asker's upvote pays (a ring's upvotes, reputation or not, move none of the
        // asker's money): one tip unit while the budget holds one and the answer is under its
        // cap. Any other upvote counts (score) and pays nothing.
        const unit = BigInt(question.tipUnit);
        const left = BigInt(question.tipLeft);
        const tipped = BigInt(answer.tipped);
        const paid =
          byAsker &&
          unit > 0n &&
          left >= unit &&
          question.tips < tipsMax &&
          tipped + unit <= tipCapPerAnswer(question)
            ? unit
            : 0n;
        let held = false;
        if (paid > 0n) {
          const result = payOrHold(ctx, question, answer.author, paid, 'tip');
          if (typeof result === 'object') return result.refused;
          held = result === 'held';
          writeTip(ctx.state, p.questionId, {
            index: question.tips,
            answerId: p.answerId,
            from: ctx.sender,
            to: answer.author,
            amount: paid.toString(),
            tx: ctx.txHash,
            ...(held ? { held: true } : {}),
          });
          writeQuestion(ctx.state, {
            ...question,
            tipLeft: (left - paid).toString(),
            tips: question.tips + 1,
          });
        }
        writeUpvote(ctx.state, p.answerId, ctx.sender);
        writeAnswer(ctx.state, {
          ...answer,
          upvotes: answer.upvotes + 1,
          tipped: (tipped + paid).toString(),
          ...(byAsker ? { endorsed: true } : {}),
        });
        ctx.emit('question.upvoted', {
          questionId: p.questionId,
          answerId: p.answerId,
          from: ctx.sender,
          to: answer.author,
          asset: question.asset,
          paid: paid.toString(),
          held,
          endorsed: byAsker,
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
        // Candidates: live answers the asker endorsed (votes reach no other; this is a guard).
        const candidates = answers.filter((a) => !a.dismissed && a.endorsed === true);
        const total = candidates.reduce((a, x) => a + x.voteWeight, 0);
        const top = candidates.reduce((a, x) => Math.max(a, x.voteWeight), 0);
        // Only a question whose asker opted into votes is auto-awarded (Stack Exchange's rule:
        // half the reward to the top answer, the rest back); any other is refunded, as is one
        // whose half is 0 (finishQuestion drops parts of 0).
        if (question.autoAward !== 'votes' || total < autoAwardWeightMin || top === 0) {
          return finishQuestion(ctx, question, answers, [], 'refund', payout);
        }
        const winners = candidates.filter((a) => a.voteWeight === top);
        const amounts = splitByWeights(
          BigInt(question.reward) / autoAwardShareDivisor,
          winners.map(() => 1),
        );
        const best: BestAnswer[] = winners.map((a, i) => ({
          answerId: a.answerId,
          author: a.author,
          amount: amounts[i]!.toString(),
        }));
        return finishQuestion(ctx, question, answers, best, 'votes', payout);
      },
    }),

    'question.claim': defineTxOf(scholarshipPayloads['question.claim'], {
      execute: (ctx, p): string | undefined => {
        const question = readQuestion(ctx.state, p.questionId);
        if (!question) return 'question_not_found';
        const amount = readClaim(ctx.state, p.questionId, ctx.sender);
        if (amount === 0n) return 'nothing_held';
        const { escrow, asset } = question;
        // Still frozen: the claim waits, nothing changes.
        if (frozenFor(ctx, escrow, asset) || frozenFor(ctx, ctx.sender, asset)) {
          return 'account_frozen';
        }
        const moved = ctx.ledger.transfer(escrow, ctx.sender, asset, amount);
        if (moved) return moved;
        clearClaim(ctx.state, p.questionId, ctx.sender);
        ctx.emit('question.claimed', {
          questionId: p.questionId,
          address: ctx.sender,
          asset,
          amount: amount.toString(),
        });
        return undefined;
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
