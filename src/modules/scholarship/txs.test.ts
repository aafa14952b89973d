import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Ledger } from '../../ledger/index.js';
import { StateView } from '../../state/index.js';
import { difficultyBaseDefault, leadingZeroBits, stampHash, wilsonLowerBound } from './pow.js';
import { recordProofs, recordLeaves, recordRoot, verifyRecordLeaf } from './record.js';
import { graceMs, type QuestionRecord } from './schema.js';
import {
  questionEscrow,
  readAnswers,
  readDifficultyBase,
  readProfile,
  readQuestion,
  readReputation,
  readTips,
  scholarshipKeys,
} from './state.js';
import {
  asset,
  blockHashOf,
  bodyHashOf,
  expectOk,
  funds,
  hourMs,
  issuer,
  outsider,
  scholarshipWorld,
  student,
  student2,
  testDifficultyBase,
  tutorA,
  tutorB,
  tutorC,
  tutorProfile,
  type ScholarshipWorld,
  type TestKey,
} from './txs-fixture.js';
import { scholarshipGenesis, scholarshipTxsWith } from './txs.js';

/** Runs a tx that must be refused with `code` and leave the state byte-identical. */
function refused(
  w: ScholarshipWorld,
  sender: TestKey,
  type: string,
  payload: Record<string, unknown>,
  code: string,
): void {
  const before = JSON.stringify(w.contents());
  assert.equal(w.run(sender, type, payload), code);
  assert.equal(JSON.stringify(w.contents()), before, `${code} left state unchanged`);
}

function question(w: ScholarshipWorld, id: string): QuestionRecord {
  const q = readQuestion(w.state, id);
  assert.ok(q, `question ${id}`);
  return q;
}

/** A nonce whose stamp has fewer than `bits` leading zero bits. */
function weakNonce(fields: Parameters<typeof stampHash>[0], bits: number): string {
  for (let n = 0; ; n += 1) {
    const nonce = n.toString(16);
    if (leadingZeroBits(stampHash(fields, nonce)) < bits) return nonce;
  }
}

describe('scholarship genesis', () => {
  it('sets the base difficulty from the genesis section (8..26), default 12, refusing others', () => {
    const state = new StateView({ get: () => undefined, range: () => [] });
    const ctx = { state, ledger: new Ledger(state) };
    assert.equal(readDifficultyBase(state), difficultyBaseDefault);
    scholarshipGenesis(ctx, undefined);
    assert.equal(readDifficultyBase(state), 12);
    assert.throws(() => scholarshipGenesis(ctx, { difficultyBase: 7 }));
    assert.throws(() => scholarshipGenesis(ctx, { difficultyBase: 27 }));
    assert.throws(() => scholarshipGenesis(ctx, { difficulty: 9 }));
    scholarshipGenesis(ctx, { difficultyBase: 9 });
    assert.equal(readDifficultyBase(state), 9);
  });
});

describe('scholarship txs: profiles', () => {
  it('anyone writes its own profile, and rewrites it (createdAt kept)', () => {
    const w = scholarshipWorld();
    const payload = { name: 'Outsider', roles: ['student'], subjects: ['history'] };
    expectOk(w.run(outsider, 'scholar.profile', payload), 'profile');
    const first = readProfile(w.state, outsider.address)!;
    expectOk(w.run(outsider, 'scholar.profile', { ...payload, roles: ['tutor', 'student'] }), 'p');
    const second = readProfile(w.state, outsider.address)!;
    assert.deepEqual(second.roles, ['student', 'tutor']);
    assert.equal(second.createdAt, first.createdAt);
  });

  it('refuses bad names, roles and subjects (a bounded record)', () => {
    const w = scholarshipWorld();
    const ok = { name: 'X', roles: ['tutor'], subjects: ['math'] };
    refused(w, outsider, 'scholar.profile', { ...ok, name: '' }, 'invalid_profile_name');
    refused(
      w,
      outsider,
      'scholar.profile',
      { ...ok, name: 'x'.repeat(81) },
      'invalid_profile_name',
    );
    refused(w, outsider, 'scholar.profile', { ...ok, roles: [] }, 'invalid_profile_roles');
    refused(
      w,
      outsider,
      'scholar.profile',
      { ...ok, roles: ['tutor', 'tutor'] },
      'invalid_profile_roles',
    );
    refused(w, outsider, 'scholar.profile', { ...ok, roles: ['admin'] }, 'invalid_profile_roles');
    refused(w, outsider, 'scholar.profile', { ...ok, subjects: ['alchemy'] }, 'invalid_subjects');
    const nine = [
      'math',
      'physics',
      'cs',
      'chemistry',
      'biology',
      'history',
      'economics',
      'philosophy',
      'languages',
    ];
    refused(w, outsider, 'scholar.profile', { ...ok, subjects: nine }, 'invalid_subjects');
  });
});

describe('scholarship txs: question.ask', () => {
  it('escrows the reward and the tip budget in the same tx', () => {
    const w = scholarshipWorld();
    const id = w.ask(student, { tipBudget: '50', tipUnit: '5' });
    const q = question(w, id);
    assert.equal(q.escrow, questionEscrow(id));
    assert.equal(w.balance(q.escrow), 1050n);
    assert.equal(w.balance(student.address), funds - 1050n);
    assert.equal(q.status, 'open');
    assert.equal(w.events.find((e) => e.type === 'question.asked')?.data.questionId, id);
  });

  it('refuses, in precedence, each forbidden ask, leaving state byte-identical', () => {
    const w = scholarshipWorld();
    const p = (extra: Record<string, unknown> = {}) => w.askPayload(student, extra);
    refused(w, student, 'question.ask', p({ subject: 'alchemy' }), 'subject_unknown');
    refused(w, student, 'question.ask', p({ title: '' }), 'invalid_question_title');
    refused(w, student, 'question.ask', p({ answersMax: 21 }), 'invalid_answers_max');
    refused(w, student, 'question.ask', p({ answersMax: 0 }), 'invalid_answers_max');
    refused(w, student, 'question.ask', p({ reward: { asset, amount: '0' } }), 'invalid_amount');
    refused(w, student, 'question.ask', p({ deadline: w.time + hourMs - 1 }), 'invalid_deadline');
    refused(
      w,
      student,
      'question.ask',
      p({ deadline: w.time + 31 * 24 * hourMs }),
      'invalid_deadline',
    );
    refused(
      w,
      student,
      'question.ask',
      p({ reward: { asset: 'GBP', amount: '1' } }),
      'asset_not_found',
    );
    refused(w, student, 'question.ask', p({ tipBudget: '10' }), 'invalid_tip_budget');
    refused(w, student, 'question.ask', p({ tipUnit: '10' }), 'invalid_tip_unit');
    refused(w, student, 'question.ask', p({ tipBudget: '10', tipUnit: '11' }), 'invalid_tip_unit');
    refused(
      w,
      student,
      'question.ask',
      p({ tipBudget: '257', tipUnit: '1' }),
      'invalid_tip_budget',
    );
    refused(w, outsider, 'question.ask', w.askPayload(outsider), 'insufficient_funds');
    refused(
      w,
      student,
      'question.ask',
      p({ reward: { asset, amount: String(funds + 1n) } }),
      'insufficient_funds',
    );
  });

  it('refuses a stamp below the admission floor, for the wrong sender, kind or body', () => {
    const w = scholarshipWorld();
    const good = w.askPayload(student);
    const bodyHash = good.bodyHash as string;
    const fields = {
      kind: 'question' as const,
      contentHash: bodyHash,
      sender: student.address,
      blockHash: blockHashOf(w.height - 1),
    };
    const weak = { nonce: weakNonce(fields, 8), blockHash: fields.blockHash };
    refused(w, student, 'question.ask', { ...good, stamp: weak }, 'stamp_too_weak');
    // Refused at admission, by the payload's check with the tx's sender (the field names it).
    assert.equal(w.field, 'stamp');
    const ask = scholarshipTxsWith()['question.ask']!;
    const admitted = ask.parse({ ...good, stamp: weak }, student.address);
    assert.ok('code' in admitted);
    assert.deepEqual([admitted.code, admitted.field], ['stamp_too_weak', 'stamp']);
    assert.ok('value' in ask.parse(good, student.address));
    // The same stamp by another sender: its hash differs (here under 8 bits).
    assert.ok(
      leadingZeroBits(
        stampHash({ ...fields, sender: student2.address }, (good.stamp as { nonce: string }).nonce),
      ) < 8,
    );
    refused(w, student2, 'question.ask', good, 'stamp_too_weak');
    // Another body under the same nonce: one the stamp does not cover (fewer than 8 bits).
    const stamp = good.stamp as { nonce: string; blockHash: string };
    let other = bodyHashOf('other 0');
    for (
      let i = 1;
      leadingZeroBits(stampHash({ ...fields, contentHash: other }, stamp.nonce)) >= 8;
      i += 1
    ) {
      other = bodyHashOf(`other ${i}`);
    }
    refused(w, student, 'question.ask', { ...good, bodyHash: other }, 'stamp_too_weak');
    refused(
      w,
      student,
      'question.ask',
      { ...good, stamp: { nonce: 'XYZ', blockHash: fields.blockHash } },
      'invalid_stamp',
    );
  });

  it('refuses a replayed stamp and a stamp on an unknown or old block hash', () => {
    const w = scholarshipWorld();
    const payload = w.askPayload(student);
    expectOk(w.run(student, 'question.ask', payload), 'ask');
    refused(w, student, 'question.ask', payload, 'stamp_replayed');
    // A block hash the chain never had.
    const bodyHash = bodyHashOf('unknown block');
    const unknown = {
      ...w.askPayload(student),
      bodyHash,
      stamp: w.stamp('question', bodyHash, student, 'math.algebra', undefined, 10_000),
    };
    refused(w, student, 'question.ask', unknown, 'stamp_block_unknown');
    // A stamp minted on a block 64 blocks back still counts; 65 back it is refused.
    const old = w.height - 1;
    const oldBody = bodyHashOf('old block');
    const oldPayload = () => ({
      ...w.askPayload(student),
      bodyHash: oldBody,
      stamp: w.stamp('question', oldBody, student, 'math.algebra', 14, old),
    });
    for (let i = 0; i < 63; i += 1) w.advance();
    assert.equal(w.height - 1 - old, 63);
    const stillRecent = oldPayload();
    w.advance();
    refused(w, student, 'question.ask', stillRecent, 'stamp_block_unknown');
  });

  it('prunes used stamps once their block leaves the ring (bounded)', () => {
    const w = scholarshipWorld();
    w.ask(student);
    w.ask(student2);
    assert.equal(w.state.range(scholarshipKeys.usedByHeightPrefix, 100).length, 2);
    for (let i = 0; i < 70; i += 1) w.advance();
    assert.equal(w.state.range(scholarshipKeys.usedByHeightPrefix, 100).length, 0);
    assert.equal(w.state.range('scholarship/stamp/', 100).length, 0);
    assert.equal(w.state.range('scholarship/recent/', 100).length, 64);
  });

  it("a flood from one sender raises its difficulty while another's stays at base", () => {
    const w = scholarshipWorld();
    const subject = 'math.algebra';
    assert.equal(w.required(subject, student), testDifficultyBase);
    for (let i = 0; i < 6; i += 1) w.ask(student);
    // base + ilog2(1 + 6/2) = base + 2; the subject's 6 posts are under 16: nothing added.
    assert.equal(w.required(subject, student), testDifficultyBase + 2);
    assert.equal(w.required(subject, student2), testDifficultyBase);
    // A stamp at base bits is no longer enough for the flooder (exactly base bits, not more).
    const body = bodyHashOf('flood');
    let stamp = w.stamp('question', body, student, subject, testDifficultyBase);
    for (let n = 0; ; n += 1) {
      const fields = {
        kind: 'question' as const,
        contentHash: body,
        sender: student.address,
        blockHash: stamp.blockHash,
      };
      if (leadingZeroBits(stampHash(fields, stamp.nonce)) < testDifficultyBase + 2) break;
      stamp = { nonce: weakNonce(fields, testDifficultyBase + 2), blockHash: stamp.blockHash };
      assert.ok(n < 10);
    }
    refused(
      w,
      student,
      'question.ask',
      { ...w.askPayload(student), bodyHash: body, stamp },
      'stamp_below_difficulty',
    );
    // The other sender's base stamp still passes.
    w.ask(student2);
    // Quiet for two windows: back to base.
    for (let i = 0; i < 200; i += 1) w.advance();
    assert.equal(w.required(subject, student), testDifficultyBase);
    assert.equal(w.state.range(scholarshipKeys.loadPrefix, 100).length, 0);
  });
});

describe('scholarship txs: answers', () => {
  it('a tutor of the subject (or its field) answers once; the asker and others cannot', () => {
    const w = scholarshipWorld();
    const id = w.ask(student, { answersMax: 2 });
    refused(w, outsider, 'question.answer', w.answerPayload(outsider, id), 'not_tutor');
    refused(w, student2, 'question.answer', w.answerPayload(student2, id), 'not_tutor');
    const unknown = w.answerPayload(tutorA, 'f'.repeat(64));
    refused(w, tutorA, 'question.answer', unknown, 'question_not_found');
    const answerA = w.answer(tutorA, id);
    refused(w, tutorA, 'question.answer', w.answerPayload(tutorA, id), 'already_answered');
    w.answer(tutorB, id);
    refused(w, tutorC, 'question.answer', w.answerPayload(tutorC, id), 'answers_full');
    assert.deepEqual(
      readAnswers(w.state, id).map((a) => a.answerId),
      [answerA, readAnswers(w.state, id)[1]!.answerId],
    );
    // A tutor of another subject cannot answer.
    expectOk(
      w.run(outsider, 'scholar.profile', { name: 'H', roles: ['tutor'], subjects: ['history'] }),
      'p',
    );
    const id2 = w.ask(student);
    refused(w, outsider, 'question.answer', w.answerPayload(outsider, id2), 'not_tutor');
    // A tutor who asks cannot answer its own question.
    const own = w.ask(tutorA);
    refused(w, tutorA, 'question.answer', w.answerPayload(tutorA, own), 'own_question');
  });

  it('takes no answer after the deadline or after the award', () => {
    const w = scholarshipWorld();
    const id = w.ask(student);
    const a = w.answer(tutorA, id);
    w.advance(2 * hourMs);
    refused(w, tutorB, 'question.answer', w.answerPayload(tutorB, id), 'question_deadline_passed');
    const id2 = w.ask(student);
    const a2 = w.answer(tutorA, id2);
    expectOk(
      w.run(student, 'question.award', { questionId: id2, awards: [{ answerId: a2, weight: 1 }] }),
      'award',
    );
    refused(w, tutorB, 'question.answer', w.answerPayload(tutorB, id2), 'question_closed');
    assert.ok(a);
  });
});

describe('scholarship txs: awards', () => {
  it('the asker awards two of three answers with a split that adds up; the record verifies', () => {
    const w = scholarshipWorld();
    const id = w.ask(student, { tipBudget: '20', tipUnit: '10' });
    const a = w.answer(tutorA, id);
    const b = w.answer(tutorB, id);
    w.answer(tutorC, id);
    expectOk(w.run(student, 'question.upvote', { questionId: id, answerId: a }), 'upvote');
    const before = [tutorA, tutorB, tutorC].map((k) => w.balance(k.address));
    const award = {
      questionId: id,
      awards: [
        { answerId: a, weight: 1 },
        { answerId: b, weight: 2 },
      ],
    };
    const awardTx = w.nextTxHash();
    expectOk(w.run(student, 'question.award', award), 'award');
    const after = [tutorA, tutorB, tutorC].map((k) => w.balance(k.address));
    assert.deepEqual(
      after.map((x, i) => x - before[i]!),
      [333n, 667n, 0n],
    );
    const q = question(w, id);
    assert.equal(q.status, 'awarded');
    assert.equal(q.outcome, 'asker');
    assert.equal(w.balance(q.escrow), 0n);
    // The unspent tip budget (10 of 20) went back to the asker.
    assert.equal(w.balance(student.address), funds - 1000n - 10n);
    const closed = w.events.find((e) => e.type === 'question.closed');
    assert.ok(closed);
    const leaves = recordLeaves(
      q,
      readAnswers(w.state, id),
      q.best,
      readTips(w.state, id),
      awardTx,
      'award',
    );
    assert.equal(closed.data.root, recordRoot(leaves));
    assert.equal(closed.data.leafCount, leaves.length);
    assert.equal(q.recordRoot, closed.data.root);
    // 1 question + 3 answers + 2 best + (ask + 3 answers + 1 upvote + award) txs.
    assert.equal(leaves.length, 12);
    const proofs = recordProofs(leaves);
    leaves.forEach((leaf, i) =>
      assert.ok(verifyRecordLeaf(leaf, i, leaves.length, proofs[i]!, q.recordRoot!)),
    );
    assert.equal(
      verifyRecordLeaf(
        { ...leaves[4]!, amount: '999' },
        4,
        leaves.length,
        proofs[4]!,
        q.recordRoot,
      ),
      false,
    );
    // Reputation: accepted 1 of 1 for A and B, 0 of 1 for C.
    assert.deepEqual(readReputation(w.state, tutorA.address, 'math.algebra'), {
      answers: 1,
      accepted: 1,
    });
    assert.deepEqual(readReputation(w.state, tutorC.address, 'math.algebra'), {
      answers: 1,
      accepted: 0,
    });
    refused(w, student, 'question.award', award, 'question_closed');
  });

  it('nobody but the asker awards early; awards name answers of this question', () => {
    const w = scholarshipWorld();
    const id = w.ask(student);
    const a = w.answer(tutorA, id);
    const other = w.ask(student2);
    const foreign = w.answer(tutorB, other);
    const award = { questionId: id, awards: [{ answerId: a, weight: 1 }] };
    for (const k of [tutorA, tutorB, student2, outsider])
      refused(w, k, 'question.award', award, 'not_asker');
    refused(
      w,
      student,
      'question.award',
      { questionId: id, awards: [{ answerId: foreign, weight: 1 }] },
      'answer_not_found',
    );
    refused(w, student, 'question.award', { questionId: id, awards: [] }, 'invalid_awards');
    refused(
      w,
      student,
      'question.award',
      {
        questionId: id,
        awards: [
          { answerId: a, weight: 1 },
          { answerId: a, weight: 2 },
        ],
      },
      'invalid_awards',
    );
    refused(
      w,
      student,
      'question.award',
      { questionId: id, awards: [{ answerId: a, weight: 0 }] },
      'invalid_award_weight',
    );
    refused(
      w,
      student,
      'question.award',
      { questionId: 'f'.repeat(64), awards: [{ answerId: a, weight: 1 }] },
      'question_not_found',
    );
    // Nobody closes before deadline + grace.
    w.advance(2 * hourMs + graceMs - 10_000);
    refused(w, outsider, 'question.close', { questionId: id }, 'grace_not_over');
    // The asker may still award during the grace.
    expectOk(w.run(student, 'question.award', award), 'award in grace');
  });
});

describe('scholarship txs: votes, upvotes and close', () => {
  /** tutorB and tutorC each with 1 of 1 accepted in math.algebra (2065 each). */
  function withReputation(): ScholarshipWorld {
    const w = scholarshipWorld();
    const id = w.ask(student2);
    const b = w.answer(tutorB, id);
    const c = w.answer(tutorC, id);
    expectOk(
      w.run(student2, 'question.award', {
        questionId: id,
        awards: [
          { answerId: b, weight: 1 },
          { answerId: c, weight: 1 },
        ],
      }),
      'award',
    );
    return w;
  }

  it('tutors vote after the deadline with their reputation; a close auto-awards the top answer', () => {
    const w = withReputation();
    const id = w.ask(student, { tipBudget: '30', tipUnit: '10' });
    const a = w.answer(tutorA, id);
    refused(w, tutorB, 'question.vote', { questionId: id, answerId: a }, 'voting_not_open');
    w.advance(2 * hourMs);
    refused(w, tutorA, 'question.vote', { questionId: id, answerId: a }, 'own_answer');
    refused(w, student, 'question.vote', { questionId: id, answerId: a }, 'own_question');
    refused(w, outsider, 'question.vote', { questionId: id, answerId: a }, 'not_tutor');
    expectOk(w.run(tutorB, 'question.vote', { questionId: id, answerId: a }), 'vote');
    assert.equal(w.events[0]?.data.weight, wilsonLowerBound(1, 1));
    refused(w, tutorB, 'question.vote', { questionId: id, answerId: a }, 'already_voted');
    expectOk(w.run(tutorC, 'question.vote', { questionId: id, answerId: a }), 'vote');
    refused(w, outsider, 'question.close', { questionId: id }, 'grace_not_over');
    w.advance(graceMs);
    refused(w, tutorB, 'question.vote', { questionId: id, answerId: a }, 'voting_not_open');
    const before = w.balance(tutorA.address);
    const askerBefore = w.balance(student.address);
    expectOk(w.run(outsider, 'question.close', { questionId: id }), 'close');
    assert.equal(w.balance(tutorA.address) - before, 1000n);
    assert.equal(w.balance(student.address) - askerBefore, 30n);
    const q = question(w, id);
    assert.equal(q.status, 'awarded');
    assert.equal(q.outcome, 'votes');
    assert.equal(w.balance(q.escrow), 0n);
    refused(w, outsider, 'question.close', { questionId: id }, 'question_closed');
  });

  it('a close never pays a winner whose account is frozen: the question is refunded instead', () => {
    const w = withReputation();
    const id = w.ask(student);
    const a = w.answer(tutorA, id);
    w.advance(2 * hourMs);
    expectOk(w.run(tutorB, 'question.vote', { questionId: id, answerId: a }), 'vote');
    expectOk(w.run(tutorC, 'question.vote', { questionId: id, answerId: a }), 'vote');
    w.advance(graceMs);
    expectOk(w.run(issuer, 'asset.freeze', { symbol: asset, account: tutorA.address }), 'freeze');
    expectOk(w.run(outsider, 'question.close', { questionId: id }), 'close');
    assert.equal(question(w, id).status, 'refunded');
    assert.equal(w.balance(student.address), funds);
  });

  it('a tie on a reward smaller than the winners still closes: a zero part is not transferred', () => {
    const w = withReputation();
    expectOk(w.run(outsider, 'scholar.profile', tutorProfile), 'profile');
    const id = w.ask(student, { reward: { asset, amount: '1' } });
    const a = w.answer(tutorA, id);
    const d = w.answer(outsider, id);
    w.advance(2 * hourMs);
    // Equal weights (1 of 1 each) on two answers: the reward of 1 splits 1 and 0.
    expectOk(w.run(tutorB, 'question.vote', { questionId: id, answerId: a }), 'vote');
    expectOk(w.run(tutorC, 'question.vote', { questionId: id, answerId: d }), 'vote');
    w.advance(graceMs);
    const before = [w.balance(tutorA.address), w.balance(outsider.address)];
    expectOk(w.run(student2, 'question.close', { questionId: id }), 'close');
    const q = question(w, id);
    assert.equal(q.status, 'awarded');
    assert.deepEqual(
      [w.balance(tutorA.address) - before[0]!, w.balance(outsider.address) - before[1]!],
      [1n, 0n],
    );
    assert.equal(w.balance(q.escrow), 0n);
  });

  it('a close with too little vote weight refunds the asker', () => {
    const w = scholarshipWorld();
    const id = w.ask(student);
    const a = w.answer(tutorA, id);
    w.advance(2 * hourMs);
    // A new tutor's vote weighs 1: under the minimum.
    expectOk(w.run(tutorB, 'question.vote', { questionId: id, answerId: a }), 'vote');
    assert.equal(w.events[0]?.data.weight, 1);
    w.advance(graceMs);
    expectOk(w.run(tutorC, 'question.close', { questionId: id }), 'close');
    const q = question(w, id);
    assert.equal(q.status, 'refunded');
    assert.equal(w.balance(student.address), funds);
    assert.deepEqual(readReputation(w.state, tutorA.address, 'math.algebra'), {
      answers: 1,
      accepted: 0,
    });
  });

  it('upvotes pay one tip unit each while the budget lasts, once per profile and answer', () => {
    const w = scholarshipWorld();
    const id = w.ask(student, { tipBudget: '20', tipUnit: '10' });
    const a = w.answer(tutorA, id);
    const before = w.balance(tutorA.address);
    refused(w, outsider, 'question.upvote', { questionId: id, answerId: a }, 'profile_required');
    refused(w, tutorA, 'question.upvote', { questionId: id, answerId: a }, 'own_answer');
    expectOk(w.run(student, 'question.upvote', { questionId: id, answerId: a }), 'upvote');
    refused(w, student, 'question.upvote', { questionId: id, answerId: a }, 'already_upvoted');
    expectOk(w.run(tutorB, 'question.upvote', { questionId: id, answerId: a }), 'upvote');
    refused(w, tutorC, 'question.upvote', { questionId: id, answerId: a }, 'no_tip_budget');
    assert.equal(w.balance(tutorA.address) - before, 20n);
    assert.equal(readTips(w.state, id).length, 2);
    const plain = w.ask(student);
    const b = w.answer(tutorB, plain);
    refused(w, tutorC, 'question.upvote', { questionId: plain, answerId: b }, 'no_tip_budget');
    refused(w, tutorC, 'question.upvote', { questionId: plain, answerId: a }, 'answer_not_found');
  });
});
