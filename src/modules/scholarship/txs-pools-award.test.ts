import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { graceMs } from './schema.js';
import { poolEscrow, readPool } from './pools-state.js';
import { readQuestion, readReputation } from './state.js';
import {
  asset,
  expectOk,
  hourMs,
  keyOf,
  scholarshipWorld,
  student,
  student2,
  tutorA,
  tutorB,
  tutorProfile,
  type ScholarshipWorld,
} from './txs-fixture.js';

/*
 * The pools' payout inside the chain helper's award and close txs (txs.ts wired with
 * payAcceptedAnswer, as index.ts wires it): an awarded member of a pool for the subject is paid in
 * the same tx; an unfunded pool pays nothing and the award still succeeds; a refund pays no pool;
 * a question rewarded in another asset (a junk asset of the member's own) pays nothing, nor does
 * an answer whose own part of the reward is below the pool's minReward, nor a best answer whose
 * part is 0 (it is no award); an invited address that has not joined is not paid; the cap holds
 * exactly across awards.
 */

/**
 * A pool for math run by student2 paying 50 per accepted answer (`extra` overrides), tutorA
 * invited and joined.
 */
function withPool(funded: bigint, extra: Record<string, unknown> = {}): ScholarshipWorld {
  const w = scholarshipWorld();
  expectOk(
    w.run(student2, 'pool.create', {
      poolId: 'maths',
      asset,
      subject: 'math',
      cohort: [tutorA.address],
      perAcceptedAnswer: '50',
      perMemberMax: '10000',
      ...extra,
    }),
    'pool.create',
  );
  expectOk(w.run(tutorA, 'pool.join', { poolId: 'maths' }), 'pool.join');
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
    // Two voters whose accepted answers come from two distinct askers (the rule for voting).
    const voters = w.crowd('voter', 2, { answers: 2, accepted: 2, askers: 2 });
    const questionId = w.ask(student, { autoAward: 'votes' });
    const a = w.answer(tutorA, questionId);
    // The asker endorses it (its upvote): votes go only to such answers.
    expectOk(w.run(student, 'question.upvote', { questionId, answerId: a }), 'endorse');
    w.advance(2 * hourMs);
    for (const voter of voters) {
      expectOk(w.run(voter, 'question.vote', { questionId, answerId: a }), 'vote');
    }
    w.advance(graceMs);
    const before = w.balance(tutorA.address);
    expectOk(w.run(student2, 'question.close', { questionId }), 'close');
    // Half the reward by the votes (the rest back to the asker), and the pool's 50.
    assert.equal(w.balance(tutorA.address) - before, 500n + 50n);
    assert.equal(w.balance(poolEscrow('maths')), 450n);
    const closed = w.events.find((e) => e.type === 'question.closed');
    assert.equal(closed?.data.outcome, 'votes');
    assert.ok(w.events.some((e) => e.type === 'pool.paid' && e.data.answerId === a));
  });

  it("a self-asked question in the member's own junk asset pays nothing from the pool", () => {
    const w = withPool(500n);
    // The member mints an asset of its own and funds a second key of its own with it.
    const sybil = keyOf('sybil asker');
    const ledger = w.ledger();
    assert.equal(ledger.createAsset(tutorA.address, { symbol: 'JUNK', decimals: 0 }), undefined);
    assert.equal(ledger.mint(tutorA.address, 'JUNK', sybil.address, 10n ** 20n), undefined);
    w.state.release();
    const questionId = w.ask(sybil, { reward: { asset: 'JUNK', amount: (10n ** 18n).toString() } });
    const answerA = w.answer(tutorA, questionId);
    const before = w.balance(tutorA.address);
    expectOk(
      w.run(sybil, 'question.award', { questionId, awards: [{ answerId: answerA, weight: 1 }] }),
      'award',
    );
    assert.equal(w.balance(tutorA.address), before, 'no USD from the pool');
    assert.equal(w.balance(tutorA.address, 'JUNK'), 10n ** 18n);
    assert.equal(w.balance(poolEscrow('maths')), 500n);
    assert.equal(readPool(w.state, 'maths')?.paidAnswers, '0');
    assert.ok(!w.events.some((e) => e.type.startsWith('pool.')));
    assert.ok(w.events.some((e) => e.type === 'question.closed'));
  });

  it("an answer paid less than the pool's minReward is not paid by it (its own part counts)", () => {
    const w = withPool(500n, { minReward: '600', cohort: [tutorA.address, tutorB.address] });
    expectOk(w.run(tutorB, 'pool.join', { poolId: 'maths' }), 'pool.join');
    // A reward of 1000 split in two: each answer is paid 500, under 600 (the whole reward is not).
    const { questionId, answerA, answerB } = askAndAnswer(w);
    w.award(student, questionId, [answerA, answerB]);
    assert.equal(w.balance(poolEscrow('maths')), 500n);
    assert.deepEqual(
      w.events.filter((e) => e.type === 'pool.payoutSkipped').map((e) => e.data.reason),
      ['reward_below_min', 'reward_below_min'],
    );
    // One answer paid the whole 1000: the pool pays it.
    const next = askAndAnswer(w);
    w.award(student, next.questionId, [next.answerB]);
    assert.equal(w.balance(poolEscrow('maths')), 450n);
  });

  it('best answers paid 0 are not accepted: one award of reward = minReward pays the pool once', () => {
    const members = [tutorA, tutorB, keyOf('member 3')];
    const w = withPool(100_000n, {
      cohort: members.map((m) => m.address),
      perAcceptedAnswer: '100',
      perMemberMax: '100000',
      minReward: '10',
    });
    expectOk(w.run(members[2]!, 'scholar.profile', tutorProfile), 'profile');
    for (const m of members.slice(1)) expectOk(w.run(m, 'pool.join', { poolId: 'maths' }), 'join');
    const id = w.ask(student, { reward: { asset, amount: '10' } });
    const answers = members.map((m) => w.answer(m, id));
    expectOk(
      w.run(student, 'question.award', {
        questionId: id,
        awards: answers.map((answerId, i) => ({ answerId, weight: i === 0 ? 10_000 : 1 })),
      }),
      'award',
    );
    assert.deepEqual(
      readQuestion(w.state, id)!.best.map((b) => b.amount),
      ['10'],
    );
    assert.equal(readPool(w.state, 'maths')!.paidAnswers, '100');
    assert.equal(readReputation(w.state, tutorB.address, 'math.algebra').accepted, 0);
  });

  it('a votes close on a reward of 1 pays 0: a refund, no pool payout, no reputation', () => {
    const w = withPool(1000n);
    const [voter] = w.crowd('voter', 1, { answers: 2, accepted: 2, askers: 2 });
    const id = w.ask(student, {
      autoAward: 'votes',
      reward: { asset, amount: '1' },
      tipBudget: '1',
      tipUnit: '1',
    });
    const a = w.answer(tutorA, id);
    expectOk(w.run(student, 'question.upvote', { questionId: id, answerId: a }), 'endorse');
    w.advance(2 * hourMs);
    expectOk(w.run(voter!, 'question.vote', { questionId: id, answerId: a }), 'vote');
    w.advance(graceMs);
    expectOk(w.run(keyOf('closer'), 'question.close', { questionId: id }), 'close');
    assert.deepEqual(readQuestion(w.state, id)!.best, []);
    assert.equal(readQuestion(w.state, id)!.outcome, 'refund');
    assert.equal(readPool(w.state, 'maths')!.paidAnswers, '0');
    assert.equal(readReputation(w.state, tutorA.address, 'math.algebra').accepted, 0);
  });

  it("a question rewarded below the pool's minReward pays nothing from it", () => {
    const w = withPool(500n, { minReward: '1001' });
    const { questionId, answerA } = askAndAnswer(w);
    expectOk(
      w.run(student, 'question.award', { questionId, awards: [{ answerId: answerA, weight: 1 }] }),
      'award',
    );
    assert.equal(w.balance(poolEscrow('maths')), 500n);
    const skipped = w.events.find((e) => e.type === 'pool.payoutSkipped');
    assert.equal(skipped?.data.reason, 'reward_below_min');
    // At the minimum it pays.
    const next = w.ask(student, { reward: { asset, amount: '1001' } });
    const answer = w.answer(tutorA, next);
    w.award(student, next, [answer]);
    assert.equal(w.balance(poolEscrow('maths')), 450n);
  });

  it('an invited address that has not joined is not paid', () => {
    const w = withPool(500n);
    expectOk(
      w.run(student2, 'pool.addMember', { poolId: 'maths', member: tutorB.address }),
      'invite',
    );
    const { questionId, answerB } = askAndAnswer(w);
    w.award(student, questionId, [answerB]);
    assert.equal(w.balance(poolEscrow('maths')), 500n);
    assert.ok(!w.events.some((e) => e.type.startsWith('pool.')));
  });

  it('stops at perMemberMax exactly across awards', () => {
    const w = withPool(10_000n, { perMemberMax: '120' });
    const paid = [];
    for (let i = 0; i < 4; i += 1) {
      const before = readPool(w.state, 'maths')!.paidAnswers;
      w.acceptAnswers(student, [tutorA]);
      paid.push(BigInt(readPool(w.state, 'maths')!.paidAnswers) - BigInt(before));
    }
    assert.deepEqual(paid, [50n, 50n, 20n, 0n]);
    assert.equal(w.balance(poolEscrow('maths')), 10_000n - 120n);
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
