import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { recordOf } from './queries.js';
import { graceMs, type QuestionRecord } from './schema.js';
import { readAnswers, readClaims, readTips, scholarshipKeys } from './state.js';
import {
  asset,
  funds,
  hourMs,
  issuer,
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
import { splitByWeights, tipCapPerAnswer } from './txs.js';

/*
 * Properties of the scholarship module. Splits by weight add up exactly, each part within a unit
 * of its exact share. Random operations, valid and invalid, from random senders (the module's
 * simulation operations: ask with or without votes and a reputation bar, answer, dismiss, award,
 * vote, upvote, close, claim, and the issuer freezing and unfreezing parties and escrows): after
 * every tx the money is conserved, a refused tx leaves the state byte-identical, an open
 * question's escrow holds exactly its reward, what is left of its tip budget and what it holds for
 * claimants (never less), a closed one's only what it holds for claimants, and its best answers
 * and its refund add up to the reward (all of it to the best on an award, half on an auto-award),
 * each best part above 0; only the asker's upvotes pay, no answer is tipped past its cap, votes
 * weigh only on live answers the asker endorsed (upvoted), live answers stay within answersMax,
 * dismissals within 64, all within 84. At the end, everyone unfrozen, every deadline and grace
 * over, closes and claims sent: every question is awarded or refunded, and every escrow is empty.
 */

const parties: TestKey[] = [student, student2, tutorA, tutorB, tutorC, outsider];

function questions(w: ScholarshipWorld): QuestionRecord[] {
  return w.state
    .range(scholarshipKeys.questionPrefix, 10_000)
    .map(([, v]) => JSON.parse(v) as QuestionRecord);
}

function claimsOf(w: ScholarshipWorld, questionId: string): bigint {
  return readClaims(w.state, questionId).reduce((a, c) => a + BigInt(c.amount), 0n);
}

function checkInvariants(w: ScholarshipWorld): void {
  let total = 0n;
  for (const k of parties) total += w.balance(k.address);
  for (const q of questions(w)) {
    const held = w.balance(q.escrow, asset);
    const claims = claimsOf(w, q.questionId);
    total += held;
    if (q.status === 'open') {
      assert.equal(held, BigInt(q.reward) + BigInt(q.tipLeft) + claims, 'open escrow');
      assert.ok(BigInt(q.tipLeft) >= 0n);
    } else {
      assert.equal(held, claims, 'a closed escrow holds only the claims');
      const paid = q.best.reduce((a, b) => a + BigInt(b.amount), 0n);
      const reward = BigInt(q.reward);
      const expected = { asker: reward, votes: reward / 2n, refund: 0n }[q.outcome!];
      assert.equal(paid, expected, `best answers of a ${q.outcome} close`);
      assert.equal(paid + BigInt(q.rewardRefunded!), reward, 'best + refund = reward');
      assert.ok(
        q.best.every((b) => BigInt(b.amount) > 0n),
        'a part of 0 is no best answer',
      );
    }
    assert.ok(q.answers - q.dismissed <= q.answersMax);
    assert.ok(q.dismissed <= 64 && q.answers <= 84);
    const cap = tipCapPerAnswer(q);
    for (const a of readAnswers(w.state, q.questionId)) {
      assert.ok(BigInt(a.tipped) <= cap, 'tips to one answer within the cap');
      if (a.voteWeight > 0) assert.ok(a.endorsed === true && !a.dismissed, 'votes: endorsed only');
      assert.ok(a.upvotes - (a.endorsed === true ? 1 : 0) <= 256);
    }
    for (const t of readTips(w.state, q.questionId)) {
      assert.equal(t.from, q.asker, "only the asker's upvote pays");
    }
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
      votes: boolean;
      minAccepted: number;
    }
  | { kind: 'answer'; who: number; q: number }
  | { kind: 'dismiss'; who: number; q: number; a: number }
  | { kind: 'award'; who: number; q: number; picks: number[] }
  | { kind: 'vote'; who: number; q: number; a: number }
  | { kind: 'upvote'; who: number; q: number; a: number }
  | { kind: 'close'; who: number; q: number }
  | { kind: 'claim'; who: number; q: number }
  | { kind: 'freeze'; who: number; frozen: boolean }
  | { kind: 'freezeEscrow'; q: number; frozen: boolean }
  | { kind: 'wait'; ms: number };

const who = fc.nat({ max: parties.length - 1 });
const pick = fc.nat({ max: 7 });
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('ask' as const),
      who,
      reward: fc.integer({ min: 1, max: 5000 }),
      tips: fc.nat({ max: 4 }),
      deadlineHours: fc.constantFrom(0, 2, 2, 48, 24 * 31),
      answersMax: fc.integer({ min: 1, max: 4 }),
      votes: fc.boolean(),
      minAccepted: fc.constantFrom(0, 0, 1),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('answer' as const), who, q: pick }) },
  fc.record({ kind: fc.constant('dismiss' as const), who, q: pick, a: pick }),
  fc.record({
    kind: fc.constant('award' as const),
    who,
    q: pick,
    picks: fc.array(fc.integer({ min: 1, max: 10_000 }), { minLength: 1, maxLength: 4 }),
  }),
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('vote' as const), who, q: pick, a: pick }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('upvote' as const), who, q: pick, a: pick }),
  },
  fc.record({ kind: fc.constant('close' as const), who, q: pick }),
  fc.record({ kind: fc.constant('claim' as const), who, q: pick }),
  fc.record({ kind: fc.constant('freeze' as const), who, frozen: fc.boolean() }),
  fc.record({ kind: fc.constant('freezeEscrow' as const), q: pick, frozen: fc.boolean() }),
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('wait' as const),
      ms: fc.constantFrom(1000, hourMs, 3 * hourMs, graceMs + hourMs),
    }),
  },
);

/** An answer of `q` by position (dismissed ones included), or an id no answer has. */
function answerAt(w: ScholarshipWorld, q: QuestionRecord, index: number): string {
  const answers = readAnswers(w.state, q.questionId);
  return answers[index % Math.max(1, answers.length)]?.answerId ?? 'e'.repeat(64);
}

/** Half the time the question's asker (awards and dismissals are the asker's), else a party. */
function askerOr(q: QuestionRecord, index: number): TestKey {
  const asker = parties.find((k) => k.address === q.asker);
  return asker !== undefined && index % 2 === 0 ? asker : parties[index]!;
}

function apply(w: ScholarshipWorld, o: Op): void {
  if (o.kind === 'wait') {
    w.advance(o.ms);
    return;
  }
  // Mostly an open question (the set-up's are closed), sometimes any.
  const all = questions(w);
  const open = all.filter((x) => x.status === 'open');
  const index = 'q' in o ? o.q : 0;
  const qs = open.length > 0 && index % 4 !== 0 ? open : all;
  const q = qs.length === 0 ? undefined : qs[index % qs.length];
  let sender: TestKey = issuer;
  let type: string;
  let payload: Record<string, unknown>;
  switch (o.kind) {
    case 'freeze':
      type = o.frozen ? 'asset.freeze' : 'asset.unfreeze';
      payload = { symbol: asset, account: parties[o.who]!.address };
      break;
    case 'freezeEscrow':
      if (!q) return;
      type = o.frozen ? 'asset.freeze' : 'asset.unfreeze';
      payload = { symbol: asset, account: q.escrow };
      break;
    case 'ask':
      sender = parties[o.who]!;
      type = 'question.ask';
      payload = w.askPayload(sender, {
        reward: { asset, amount: String(o.reward) },
        ...(o.tips > 0 ? { tipBudget: String(o.tips * 7), tipUnit: '7' } : {}),
        deadline: w.time + o.deadlineHours * hourMs + (o.deadlineHours === 0 ? 1 : 0),
        answersMax: o.answersMax,
        ...(o.votes ? { autoAward: 'votes' } : {}),
        ...(o.minAccepted > 0 ? { answerMinAccepted: o.minAccepted } : {}),
      });
      break;
    case 'answer':
      if (!q) return;
      sender = parties[o.who]!;
      type = 'question.answer';
      payload = w.answerPayload(sender, q.questionId);
      break;
    case 'award': {
      if (!q) return;
      sender = askerOr(q, o.who);
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
    case 'dismiss':
    case 'vote':
    case 'upvote':
      if (!q) return;
      // Votes mostly by tutorB, the one tutor two askers accepted (the others may not vote);
      // upvotes half the time by the asker (it endorses and tips).
      sender =
        o.kind === 'dismiss' || o.kind === 'upvote'
          ? askerOr(q, o.who)
          : o.kind === 'vote' && o.who % 2 === 0
            ? tutorB
            : parties[o.who]!;
      type = `question.${o.kind}`;
      payload = { questionId: q.questionId, answerId: answerAt(w, q, o.a) };
      break;
    case 'close':
    case 'claim':
      if (!q) return;
      sender = parties[o.who]!;
      type = `question.${o.kind}`;
      payload = { questionId: q.questionId };
      break;
  }
  const before = JSON.stringify(w.contents());
  const result = w.run(sender, type, payload);
  if (result !== 'ok') assert.equal(JSON.stringify(w.contents()), before, `${type} ${result}`);
}

/**
 * Students who tutor too, two tutors some asker accepted (so they may upvote; tutorB, accepted by
 * two askers, may vote) and an open question.
 */
function world(): ScholarshipWorld {
  const w = scholarshipWorld();
  for (const k of [student, student2, outsider]) {
    w.run(k, 'scholar.profile', { name: 'S', roles: ['student', 'tutor'], subjects: ['math'] });
  }
  w.acceptAnswers(student, [tutorB, tutorC]);
  w.acceptAnswers(student2, [tutorB]);
  // One open question that takes votes, answered, so every run has something to work on.
  const id = w.ask(student2, { autoAward: 'votes', tipBudget: '28', tipUnit: '7' });
  const a = w.answer(tutorA, id);
  w.run(student2, 'question.upvote', { questionId: id, answerId: a });
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

  it('random operations keep money, escrows, holds and records consistent; every question ends awarded or refunded, every hold claimed', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 5, maxLength: 60, size: 'max' }), (ops) => {
        const w = world();
        for (const o of ops) {
          apply(w, o);
          checkInvariants(w);
        }
        // Every deadline and grace over: anyone closes what is still open (frozen or not).
        w.advance(31 * 24 * hourMs + graceMs);
        for (const q of questions(w).filter((x) => x.status === 'open')) {
          assert.equal(w.run(outsider, 'question.close', { questionId: q.questionId }), 'ok');
        }
        checkInvariants(w);
        for (const q of questions(w)) {
          assert.ok(q.status === 'awarded' || q.status === 'refunded', q.status);
          assert.ok(q.recordRoot !== undefined && q.recordLeaves !== undefined);
          assert.equal(recordOf(w.state, q.questionId)?.root, q.recordRoot);
        }
        // The issuer lifts every freeze; each claimant takes what is held for it.
        for (const account of [
          ...parties.map((k) => k.address),
          ...questions(w).map((q) => q.escrow),
        ]) {
          assert.equal(
            w.run(issuer, 'asset.unfreeze', { symbol: asset, account }),
            'ok',
            `unfreeze ${account}`,
          );
        }
        const keyOf = new Map(parties.map((k) => [k.address, k]));
        for (const q of questions(w)) {
          for (const c of readClaims(w.state, q.questionId)) {
            assert.equal(
              w.run(keyOf.get(c.address)!, 'question.claim', { questionId: q.questionId }),
              'ok',
            );
          }
          assert.equal(w.balance(q.escrow), 0n, 'every escrow ends empty');
        }
        checkInvariants(w);
      }),
      { numRuns: 50 },
    );
  });
});
