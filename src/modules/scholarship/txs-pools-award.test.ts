import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { graceMs } from './schema.js';
import { poolEscrow, readPool } from './pools-state.js';
import {
  asset,
  expectOk,
  hourMs,
  scholarshipWorld,
  student,
  student2,
  tutorA,
  tutorB,
  tutorC,
  type ScholarshipWorld,
} from './txs-fixture.js';

/*
 * The pools' payout inside the chain helper's award and close txs (txs.ts wired with
 * payAcceptedAnswer, as index.ts wires it): an awarded member of a pool for the subject is paid in
 * the same tx; an unfunded pool pays nothing and the award still succeeds; a refund pays no pool.
 */

/** A pool for math run by student2, tutorA a member, paying 50 per accepted answer. */
function withPool(funded: bigint): ScholarshipWorld {
  const w = scholarshipWorld();
  expectOk(
    w.run(student2, 'pool.create', {
      poolId: 'maths',
      asset,
      subject: 'math',
      cohort: [tutorA.address],
      perAcceptedAnswer: '50',
    }),
    'pool.create',
  );
  if (funded > 0n) {
    expectOk(w.run(student2, 'pool.fund', { poolId: 'maths', amount: String(funded) }), 'fund');
  }
  return w;
}

function askAndAnswer(w: ScholarshipWorld, subject = 'math.algebra') {
  const questionId = w.ask(student, { subject });
  const answerA = w.answer(tutorA, questionId);
  const answerB = w.answer(tutorB, questionId);
  return { questionId, answerA, answerB };
}

describe('pool payouts in question.award and question.close', () => {
  it('an award pays the member its reward share and the pool its per-answer amount', () => {
    const w = withPool(500n);
    const { questionId, answerA, answerB } = askAndAnswer(w);
    const a = w.balance(tutorA.address);
    const b = w.balance(tutorB.address);
    expectOk(
      w.run(student, 'question.award', {
        questionId,
        awards: [
          { answerId: answerA, weight: 1 },
          { answerId: answerB, weight: 1 },
        ],
      }),
      'award',
    );
    assert.equal(w.balance(tutorA.address) - a, 500n + 50n);
    assert.equal(w.balance(tutorB.address) - b, 500n, 'not a member: the reward share only');
    assert.equal(w.balance(poolEscrow('maths')), 450n);
    assert.equal(readPool(w.state, 'maths')?.paidAnswers, '50');
    const paid = w.events.filter((e) => e.type === 'pool.paid');
    assert.deepEqual(
      paid.map((e) => [e.data.member, e.data.questionId, e.data.answerId, e.data.amount]),
      [[tutorA.address, questionId, answerA, '50']],
    );
    assert.ok(w.events.some((e) => e.type === 'question.closed'));
  });

  it('an unfunded pool pays nothing and the award still succeeds', () => {
    const w = withPool(0n);
    const { questionId, answerA } = askAndAnswer(w);
    const a = w.balance(tutorA.address);
    expectOk(
      w.run(student, 'question.award', { questionId, awards: [{ answerId: answerA, weight: 1 }] }),
      'award',
    );
    assert.equal(w.balance(tutorA.address) - a, 1000n);
    assert.equal(w.balance(poolEscrow('maths')), 0n);
    assert.ok(w.events.some((e) => e.type === 'pool.payoutSkipped'));
    assert.ok(w.events.some((e) => e.type === 'question.closed'));
  });

  it('an answer outside the pool subject is not paid by it', () => {
    const w = withPool(500n);
    const questionId = w.ask(student, { subject: 'cs.algorithms' });
    const answerA = w.answer(tutorA, questionId);
    expectOk(
      w.run(student, 'question.award', { questionId, awards: [{ answerId: answerA, weight: 1 }] }),
      'award',
    );
    assert.equal(w.balance(poolEscrow('maths')), 500n);
    assert.ok(!w.events.some((e) => e.type.startsWith('pool.')));
  });

  it('a close that auto-awards by votes pays the member from the pool in the same tx', () => {
    const w = withPool(500n);
    // tutorB and tutorC earn reputation in math.algebra (1 of 1 accepted each) on an earlier question.
    const earlier = w.ask(student2);
    const b = w.answer(tutorB, earlier);
    const c = w.answer(tutorC, earlier);
    expectOk(
      w.run(student2, 'question.award', {
        questionId: earlier,
        awards: [
          { answerId: b, weight: 1 },
          { answerId: c, weight: 1 },
        ],
      }),
      'award',
    );
    const questionId = w.ask(student);
    const a = w.answer(tutorA, questionId);
    w.advance(2 * hourMs);
    expectOk(w.run(tutorB, 'question.vote', { questionId, answerId: a }), 'vote');
    expectOk(w.run(tutorC, 'question.vote', { questionId, answerId: a }), 'vote');
    w.advance(graceMs);
    const before = w.balance(tutorA.address);
    expectOk(w.run(student2, 'question.close', { questionId }), 'close');
    assert.equal(w.balance(tutorA.address) - before, 1000n + 50n);
    assert.equal(w.balance(poolEscrow('maths')), 450n);
    const closed = w.events.find((e) => e.type === 'question.closed');
    assert.equal(closed?.data.outcome, 'votes');
    assert.ok(w.events.some((e) => e.type === 'pool.paid' && e.data.answerId === a));
  });

  it('a close that refunds the asker pays no pool', () => {
    const w = withPool(500n);
    const { questionId } = askAndAnswer(w);
    w.advance(2 * hourMs + graceMs);
    expectOk(w.run(tutorB, 'question.close', { questionId }), 'close');
    assert.equal(w.balance(poolEscrow('maths')), 500n);
    assert.ok(!w.events.some((e) => e.type.startsWith('pool.')));
  });
});
