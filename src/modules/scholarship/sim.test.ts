import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { graceMs, type QuestionRecord } from './schema.js';
import { readAnswers, scholarshipKeys } from './state.js';
import {
  asset,
  funds,
  hourMs,
  outsider,
  scholarshipWorld,
  student,
  student2,
  tutorA,
  tutorB,
  tutorC,
  type ScholarshipWorld,
  type TestKey,
} from './txs-fixture.js';
import { splitByWeights } from './txs.js';

/*
 * Properties of the scholarship module. Splits by weight add up exactly, each part within a unit
 * of its exact share. Random operations, valid and invalid, from random senders (the module's
 * simulation operations): after every tx the money is conserved, a refused tx leaves the state
 * byte-identical, an open question's escrow holds exactly its reward and what is left of its tip
 * budget (never less), a closed one's holds nothing and its best answers add up to the reward;
 * at the end, once every deadline and grace is over and closes are sent, every question is
 * awarded or refunded.
 */

const parties: TestKey[] = [student, student2, tutorA, tutorB, tutorC, outsider];

function questions(w: ScholarshipWorld): QuestionRecord[] {
  return w.state
    .range(scholarshipKeys.questionPrefix, 10_000)
    .map(([, v]) => JSON.parse(v) as QuestionRecord);
}

function checkInvariants(w: ScholarshipWorld): void {
  let total = 0n;
  for (const k of parties) total += w.balance(k.address);
  for (const q of questions(w)) {
    const held = w.balance(q.escrow, asset);
    total += held;
    if (q.status === 'open') {
      assert.equal(held, BigInt(q.reward) + BigInt(q.tipLeft), 'open escrow = reward + tips left');
      assert.ok(BigInt(q.tipLeft) >= 0n);
    } else {
      assert.equal(held, 0n, 'a closed escrow is empty');
      const paid = q.best.reduce((a, b) => a + BigInt(b.amount), 0n);
      assert.equal(paid, q.status === 'awarded' ? BigInt(q.reward) : 0n);
    }
    assert.ok(q.answers <= q.answersMax);
  }
  assert.equal(total, funds * 5n, 'USD is conserved');
}

type Op =
  | {
      kind: 'ask';
      who: number;
      reward: number;
      tips: number;
      deadlineHours: number;
      answersMax: number;
    }
  | { kind: 'answer'; who: number; q: number }
  | { kind: 'award'; who: number; q: number; picks: number[] }
  | { kind: 'vote'; who: number; q: number; a: number }
  | { kind: 'upvote'; who: number; q: number; a: number }
  | { kind: 'close'; who: number; q: number }
  | { kind: 'wait'; ms: number };

const who = fc.nat({ max: parties.length - 1 });
const pick = fc.nat({ max: 7 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('ask' as const),
    who,
    reward: fc.integer({ min: 1, max: 5000 }),
    tips: fc.nat({ max: 4 }),
    deadlineHours: fc.constantFrom(0, 1, 2, 48, 24 * 31),
    answersMax: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({ kind: fc.constant('answer' as const), who, q: pick }),
  fc.record({
    kind: fc.constant('award' as const),
    who,
    q: pick,
    picks: fc.array(fc.integer({ min: 1, max: 10_000 }), { minLength: 1, maxLength: 4 }),
  }),
  fc.record({ kind: fc.constant('vote' as const), who, q: pick, a: pick }),
  fc.record({ kind: fc.constant('upvote' as const), who, q: pick, a: pick }),
  fc.record({ kind: fc.constant('close' as const), who, q: pick }),
  fc.record({
    kind: fc.constant('wait' as const),
    ms: fc.constantFrom(1000, hourMs, 3 * hourMs, graceMs + hourMs),
  }),
);

function apply(w: ScholarshipWorld, o: Op): void {
  if (o.kind === 'wait') {
    w.advance(o.ms);
    return;
  }
  const sender = parties[o.who]!;
  const qs = questions(w);
  const q = qs.length === 0 ? undefined : qs[('q' in o ? o.q : 0) % qs.length];
  let type: string;
  let payload: Record<string, unknown>;
  switch (o.kind) {
    case 'ask':
      type = 'question.ask';
      payload = w.askPayload(sender, {
        reward: { asset, amount: String(o.reward) },
        ...(o.tips > 0 ? { tipBudget: String(o.tips * 7), tipUnit: '7' } : {}),
        deadline: w.time + o.deadlineHours * hourMs + (o.deadlineHours === 0 ? 1 : 0),
        answersMax: o.answersMax,
      });
      break;
    case 'answer':
      if (!q) return;
      type = 'question.answer';
      payload = w.answerPayload(sender, q.questionId);
      break;
    case 'award': {
      if (!q) return;
      const answers = readAnswers(w.state, q.questionId);
      type = 'question.award';
      payload = {
        questionId: q.questionId,
        awards: o.picks
          .slice(0, Math.max(1, answers.length))
          .map((weight, i) => ({ answerId: answers[i]?.answerId ?? 'e'.repeat(64), weight })),
      };
      break;
    }
    case 'vote':
    case 'upvote': {
      if (!q) return;
      const answers = readAnswers(w.state, q.questionId);
      type = `question.${o.kind}`;
      payload = {
        questionId: q.questionId,
        answerId: answers[o.a % Math.max(1, answers.length)]?.answerId ?? 'e'.repeat(64),
      };
      break;
    }
    case 'close':
      if (!q) return;
      type = 'question.close';
      payload = { questionId: q.questionId };
      break;
  }
  const before = JSON.stringify(w.contents());
  const result = w.run(sender, type, payload);
  if (result !== 'ok') assert.equal(JSON.stringify(w.contents()), before, `${type} ${result}`);
}

function world(): ScholarshipWorld {
  const w = scholarshipWorld();
  for (const k of [student, student2, outsider]) {
    w.run(k, 'scholar.profile', { name: 'S', roles: ['student', 'tutor'], subjects: ['math'] });
  }
  return w;
}

describe('scholarship properties', () => {
  it('splits by weight add up exactly, each part within a unit of its share', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 127n - 1n }),
        fc.array(fc.integer({ min: 1, max: 10_000 }), { minLength: 1, maxLength: 20 }),
        (total, weights) => {
          const parts = splitByWeights(total, weights);
          assert.equal(
            parts.reduce((a, p) => a + p, 0n),
            total,
          );
          const sum = BigInt(weights.reduce((a, x) => a + x, 0));
          parts.forEach((p, i) => {
            const exact = total * BigInt(weights[i]!);
            assert.ok(p * sum <= exact + sum && p * sum >= exact - sum);
            assert.ok(p >= 0n);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('random operations keep money, escrows and records consistent; every question ends awarded or refunded', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 5, maxLength: 40 }), (ops) => {
        const w = world();
        for (const o of ops) {
          apply(w, o);
          checkInvariants(w);
        }
        // Every deadline and grace over: anyone closes what is still open.
        w.advance(31 * 24 * hourMs + graceMs);
        for (const q of questions(w).filter((x) => x.status === 'open')) {
          assert.equal(w.run(outsider, 'question.close', { questionId: q.questionId }), 'ok');
        }
        checkInvariants(w);
        for (const q of questions(w)) {
          assert.ok(q.status === 'awarded' || q.status === 'refunded', q.status);
          assert.ok(q.recordRoot !== undefined && q.recordLeaves !== undefined);
        }
      }),
      { numRuns: 25 },
    );
  });
});
