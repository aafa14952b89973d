import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Ledger } from '../../ledger/index.js';
import { StateView } from '../../state/index.js';
import { difficultyBaseDefault, leadingZeroBits, stampHash, wilsonLowerBound } from './pow.js';
import { recordProofs, recordLeaves, recordRoot, verifyRecordLeaf } from './record.js';
import { graceMs, type QuestionRecord } from './schema.js';
import { questionView, recordOf } from './queries.js';
import {
  dueQuestions,
  questionEscrow,
  readAnswers,
  readClaim,
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
  keyOf,
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
import { scholarshipGenesis, scholarshipTxsWith, tipCapPerAnswer } from './txs.js';

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

/**
 * A ring of fresh keys (attack review 2): a boss with no funds creates its own asset and mints it
 * to `askers` junk askers; each asks one question in it (a reward of one unit per tutor, so no
 * part is 0), every one of `tutors` ring tutors answers, and the asker awards them all. Each ring
 * tutor then has `askers` distinct askers in math.algebra, for almost nothing.
 */
function junkRing(
  w: ScholarshipWorld,
  label: string,
  askers: number,
  tutors: number,
  symbol = 'JNK',
): { askers: TestKey[]; tutors: TestKey[] } {
  const boss = keyOf(`${label} boss`);
  expectOk(w.run(boss, 'asset.create', { symbol, decimals: 0 }), 'asset.create');
  const askerKeys = Array.from({ length: askers }, (_, i) => keyOf(`${label} asker ${i}`));
  for (const a of askerKeys) {
    expectOk(w.run(boss, 'asset.mint', { symbol, to: a.address, amount: '100' }), 'asset.mint');
  }
  const tutorKeys = Array.from({ length: tutors }, (_, i) => keyOf(`${label} tutor ${i}`));
  for (const t of tutorKeys) expectOk(w.run(t, 'scholar.profile', tutorProfile), 'profile');
  for (const a of askerKeys) {
    const id = w.ask(a, { reward: { asset: symbol, amount: String(tutors) }, answersMax: tutors });
    w.award(
      a,
      id,
      tutorKeys.map((t) => w.answer(t, id)),
    );
  }
  return { askers: askerKeys, tutors: tutorKeys };
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
      [],
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
    // Reputation: accepted 1 of 1 for A and B (one asker each), 0 of 1 for C.
    assert.deepEqual(readReputation(w.state, tutorA.address, 'math.algebra'), {
      answers: 1,
      accepted: 1,
      askers: 1,
    });
    assert.deepEqual(readReputation(w.state, tutorC.address, 'math.algebra'), {
      answers: 1,
      accepted: 0,
      askers: 0,
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

/** tutorB and tutorC each accepted by two distinct askers (student2, tutorA) in math.algebra. */
function withVoters(): ScholarshipWorld {
  const w = scholarshipWorld();
  w.acceptAnswers(student2, [tutorB, tutorC]);
  w.acceptAnswers(tutorA, [tutorB, tutorC]);
  return w;
}

const vote = (questionId: string, answerId: string) => ({ questionId, answerId });

/** The asker endorses an answer: its upvote (votes may then go to the answer). */
function endorse(w: ScholarshipWorld, asker: TestKey, id: string, answerId: string): void {
  expectOk(w.run(asker, 'question.upvote', vote(id, answerId)), 'endorse');
}

/**
 * Asks (by `student`, voting opted in unless `extra` says otherwise), tutorA answers and the
 * asker endorses the answer (upvotes it) so that it takes votes.
 */
function askAnswered(
  w: ScholarshipWorld,
  extra: Record<string, unknown> = {},
): { id: string; a: string } {
  const id = w.ask(student, { autoAward: 'votes', ...extra });
  const a = w.answer(tutorA, id);
  endorse(w, student, id, a);
  return { id, a };
}

describe('scholarship txs: reputation counts each asker once', () => {
  it('an asker awarding its own sybil tutor again and again gives it 1 asker: it cannot vote', () => {
    const w = scholarshipWorld();
    for (let i = 0; i < 3; i += 1) w.acceptAnswers(student, [tutorA]);
    assert.deepEqual(readReputation(w.state, tutorA.address, 'math.algebra'), {
      answers: 3,
      accepted: 3,
      askers: 1,
    });
    const id = w.ask(student2, { autoAward: 'votes' });
    const b = w.answer(tutorB, id);
    // student2 has no profile: the asker upvotes (endorses) all the same.
    endorse(w, student2, id, b);
    w.advance(2 * hourMs);
    refused(w, tutorA, 'question.vote', vote(id, b), 'reputation_required');
    // A second asker's award makes it 2: now it votes, weighing Wilson(2 askers of 4 answers).
    w.acceptAnswers(student2, [tutorA]);
    expectOk(w.run(tutorA, 'question.vote', vote(id, b)), 'vote');
    assert.equal(w.events[0]?.data.weight, wilsonLowerBound(2, 4));
    assert.equal(wilsonLowerBound(2, 4), 1500);
  });

  it('an auto-award by votes counts accepted but no asker (the asker did not choose it)', () => {
    const w = withVoters();
    const { id, a } = askAnswered(w);
    w.advance(2 * hourMs);
    expectOk(w.run(tutorB, 'question.vote', vote(id, a)), 'vote');
    w.advance(graceMs);
    expectOk(w.run(outsider, 'question.close', { questionId: id }), 'close');
    assert.deepEqual(readReputation(w.state, tutorA.address, 'math.algebra'), {
      answers: 1,
      accepted: 1,
      askers: 0,
    });
  });
});

describe('scholarship txs: votes and close', () => {
  it('tutors with 2 askers vote after the deadline; a close pays the top answer half, the rest back', () => {
    const w = withVoters();
    const { id, a } = askAnswered(w, { tipBudget: '30', tipUnit: '10' });
    refused(w, tutorB, 'question.vote', vote(id, a), 'voting_not_open');
    w.advance(2 * hourMs);
    refused(w, tutorA, 'question.vote', vote(id, a), 'own_answer');
    refused(w, student, 'question.vote', vote(id, a), 'own_question');
    refused(w, outsider, 'question.vote', vote(id, a), 'not_tutor');
    expectOk(w.run(tutorB, 'question.vote', vote(id, a)), 'vote');
    assert.equal(w.events[0]?.data.weight, wilsonLowerBound(2, 2));
    refused(w, tutorB, 'question.vote', vote(id, a), 'already_voted');
    expectOk(w.run(tutorC, 'question.vote', vote(id, a)), 'vote');
    assert.equal(question(w, id).votes, 2);
    refused(w, outsider, 'question.close', { questionId: id }, 'grace_not_over');
    w.advance(graceMs);
    refused(w, tutorB, 'question.vote', vote(id, a), 'voting_not_open');
    const before = w.balance(tutorA.address);
    const askerBefore = w.balance(student.address);
    expectOk(w.run(outsider, 'question.close', { questionId: id }), 'close');
    // Half of 1000 to the winner; the other half and the unspent 20 of tips (the endorsement paid
    // one tip of 10) back to the asker.
    assert.equal(w.balance(tutorA.address) - before, 500n);
    assert.equal(w.balance(student.address) - askerBefore, 520n);
    const q = question(w, id);
    assert.equal(q.status, 'awarded');
    assert.equal(q.outcome, 'votes');
    assert.deepEqual(q.best, [{ answerId: a, author: tutorA.address, amount: '500' }]);
    assert.equal(q.rewardRefunded, '500');
    assert.equal(w.events.find((e) => e.type === 'question.closed')?.data.refunded, '520');
    assert.equal(w.balance(q.escrow), 0n);
    refused(w, outsider, 'question.close', { questionId: id }, 'question_closed');
  });

  it('a question that did not opt into votes takes none and is refunded at close', () => {
    const w = withVoters();
    const { id, a } = askAnswered(w, { autoAward: undefined });
    assert.equal(question(w, id).autoAward, 'refund');
    const refundId = w.ask(student, { autoAward: 'refund' });
    w.advance(2 * hourMs);
    refused(w, tutorB, 'question.vote', vote(id, a), 'auto_award_off');
    w.advance(graceMs);
    const before = w.balance(student.address);
    expectOk(w.run(outsider, 'question.close', { questionId: id }), 'close');
    expectOk(w.run(outsider, 'question.close', { questionId: refundId }), 'close');
    assert.equal(question(w, id).status, 'refunded');
    assert.equal(question(w, refundId).status, 'refunded');
    assert.equal(w.balance(student.address) - before, 2000n);
  });

  it('a tie splits the half by largest remainder; a part of 0 is no award (no reputation)', () => {
    const w = withVoters();
    expectOk(w.run(outsider, 'scholar.profile', tutorProfile), 'profile');
    const id = w.ask(student, {
      autoAward: 'votes',
      reward: { asset, amount: '3' },
      tipBudget: '2',
      tipUnit: '1',
    });
    const a = w.answer(tutorA, id);
    const d = w.answer(outsider, id);
    endorse(w, student, id, a);
    endorse(w, student, id, d);
    w.advance(2 * hourMs);
    // Equal weights (2 of 2 each) on two answers: the half of 3 (1) splits 1 and 0.
    expectOk(w.run(tutorB, 'question.vote', vote(id, a)), 'vote');
    expectOk(w.run(tutorC, 'question.vote', vote(id, d)), 'vote');
    w.advance(graceMs);
    const before = [w.balance(tutorA.address), w.balance(outsider.address)];
    const askerBefore = w.balance(student.address);
    expectOk(w.run(student2, 'question.close', { questionId: id }), 'close');
    const q = question(w, id);
    assert.equal(q.status, 'awarded');
    assert.deepEqual(
      [w.balance(tutorA.address) - before[0]!, w.balance(outsider.address) - before[1]!],
      [1n, 0n],
    );
    assert.equal(w.balance(student.address) - askerBefore, 2n);
    assert.equal(w.balance(q.escrow), 0n);
    // The part of 0 is not a best answer: not in `best`, the record, nor accepted.
    assert.deepEqual(q.best, [{ answerId: a, author: tutorA.address, amount: '1' }]);
    assert.deepEqual(
      recordOf(w.state, id)!
        .leaves.filter(({ leaf }) => leaf.kind === 'best')
        .map(({ leaf }) => leaf.answerId),
      [a],
    );
    assert.equal(readReputation(w.state, outsider.address, 'math.algebra').accepted, 0);
    assert.equal(readReputation(w.state, tutorA.address, 'math.algebra').accepted, 1);
  });

  it('a close with too little vote weight refunds the asker', () => {
    const w = scholarshipWorld();
    // 2 askers of 10 answers: Wilson 566, under the 3000 an auto-award needs.
    const [voter] = w.crowd('weak voter', 1, { answers: 10, accepted: 2, askers: 2 });
    const { id, a } = askAnswered(w);
    w.advance(2 * hourMs);
    expectOk(w.run(voter!, 'question.vote', vote(id, a)), 'vote');
    assert.equal(w.events[0]?.data.weight, 566);
    w.advance(graceMs);
    expectOk(w.run(tutorC, 'question.close', { questionId: id }), 'close');
    const q = question(w, id);
    assert.equal(q.status, 'refunded');
    assert.equal(w.balance(student.address), funds);
    assert.deepEqual(readReputation(w.state, tutorA.address, 'math.algebra'), {
      answers: 1,
      accepted: 0,
      askers: 0,
    });
  });

  it('takes at most 64 votes per question', () => {
    const w = scholarshipWorld();
    const voters = w.crowd('voter', 65, { answers: 2, accepted: 2, askers: 2 });
    const { id, a } = askAnswered(w);
    w.advance(2 * hourMs);
    for (const v of voters.slice(0, 64)) expectOk(w.run(v, 'question.vote', vote(id, a)), 'vote');
    assert.equal(question(w, id).votes, 64);
    refused(w, voters[64]!, 'question.vote', vote(id, a), 'votes_full');
    // One who voted already is told so first.
    refused(w, voters[0]!, 'question.vote', vote(id, a), 'already_voted');
  });
});

describe('scholarship txs: votes choose among the answers the asker endorsed', () => {
  it('a ring voter (2 junk askers: Wilson(2, 2) = 3423) cannot vote for an answer the asker did not upvote', () => {
    const w = scholarshipWorld();
    const { tutors } = junkRing(w, 'votes', 2, 2);
    const [t0, t1] = tutors as [TestKey, TestKey];
    assert.equal(readReputation(w.state, t1.address, 'math.algebra').askers, 2);
    const id = w.ask(student, { autoAward: 'votes', answersMax: 3 });
    w.answer(tutorA, id);
    const ringAnswer = w.answer(t0, id);
    w.advance(2 * hourMs);
    refused(w, t1, 'question.vote', vote(id, ringAnswer), 'answer_not_endorsed');
    w.advance(graceMs);
    const before = w.balance(student.address);
    // No endorsed answer has weight: the close refunds.
    expectOk(w.run(outsider, 'question.close', { questionId: id }), 'close');
    assert.equal(question(w, id).outcome, 'refund');
    assert.equal(w.balance(student.address) - before, 1000n);
    assert.equal(w.balance(t0.address), 0n);
  });

  it('64 ring voters cannot fill the vote slots for a copy of the honest answer', () => {
    const w = scholarshipWorld();
    const ring = w.crowd('ring voter', 65, { answers: 2, accepted: 2, askers: 2 });
    const copier = ring[64]!;
    const id = w.ask(student, {
      autoAward: 'votes',
      answersMax: 3,
      tipBudget: '10',
      tipUnit: '10',
    });
    const honest = w.nextTxHash();
    expectOk(w.run(tutorA, 'question.answer', w.answerPayload(tutorA, id, 'the answer')), 'a');
    const copy = w.nextTxHash();
    expectOk(w.run(copier, 'question.answer', w.answerPayload(copier, id, 'the answer')), 'copy');
    endorse(w, student, id, honest);
    w.advance(2 * hourMs);
    for (const v of ring.slice(0, 64)) {
      refused(w, v, 'question.vote', vote(id, copy), 'answer_not_endorsed');
    }
    assert.equal(question(w, id).votes, 0, 'every vote slot still free');
    expectOk(w.run(ring[0]!, 'question.vote', vote(id, honest)), 'vote');
    w.advance(graceMs);
    const before = [w.balance(tutorA.address), w.balance(copier.address)];
    expectOk(w.run(outsider, 'question.close', { questionId: id }), 'close');
    assert.deepEqual(
      [w.balance(tutorA.address) - before[0]!, w.balance(copier.address) - before[1]!],
      [500n, 0n],
    );
  });

  it('after the grace the asker of a votes question cannot award (grace_over): the close follows the votes', () => {
    const w = withVoters();
    const sybil = keyOf('student sybil');
    expectOk(w.run(sybil, 'scholar.profile', tutorProfile), 'profile');
    const id = w.ask(student, {
      autoAward: 'votes',
      answersMax: 3,
      tipBudget: '10',
      tipUnit: '10',
    });
    const honest = w.answer(tutorA, id);
    const mine = w.answer(sybil, id);
    endorse(w, student, id, honest);
    // A second question that takes votes: during the grace its asker still awards.
    const other = w.ask(student, { autoAward: 'votes' });
    const otherAnswer = w.answer(tutorC, other);
    w.advance(2 * hourMs);
    expectOk(w.run(tutorB, 'question.vote', vote(id, honest)), 'vote');
    w.award(student, other, [otherAnswer]);
    w.advance(question(w, id).deadline + graceMs - w.time);
    const award = { questionId: id, awards: [{ answerId: mine, weight: 1 }] };
    refused(w, student, 'question.award', award, 'grace_over');
    // A question that refunds at close has no votes to overrule: its asker awards late all the same.
    const plain = w.ask(student2);
    const plainAnswer = w.answer(tutorA, plain);
    w.advance(2 * hourMs + graceMs);
    w.award(student2, plain, [plainAnswer]);
    const before = w.balance(tutorA.address);
    expectOk(w.run(outsider, 'question.close', { questionId: id }), 'close');
    assert.equal(w.balance(tutorA.address) - before, 500n, 'the top-voted answer is paid');
    assert.equal(w.balance(sybil.address), 0n);
  });

  it("an award's part of 0 is no award: not in best, no reputation", () => {
    const w = scholarshipWorld();
    const id = w.ask(student, { reward: { asset, amount: '10' } });
    const answers = [tutorA, tutorB, tutorC].map((t) => w.answer(t, id));
    expectOk(
      w.run(student, 'question.award', {
        questionId: id,
        awards: answers.map((answerId, i) => ({ answerId, weight: i === 0 ? 10_000 : 1 })),
      }),
      'award',
    );
    const q = question(w, id);
    assert.deepEqual(q.best, [{ answerId: answers[0], author: tutorA.address, amount: '10' }]);
    assert.equal(q.outcome, 'asker');
    assert.deepEqual(
      (w.events.find((e) => e.type === 'question.closed')?.data.best as unknown[]).length,
      1,
    );
    assert.deepEqual(readReputation(w.state, tutorB.address, 'math.algebra'), {
      answers: 1,
      accepted: 0,
      askers: 0,
    });
    assert.equal(readReputation(w.state, tutorA.address, 'math.algebra').askers, 1);
  });

  it('a votes close whose half is 0 (a reward of 1) is a refund: nobody is accepted', () => {
    const w = withVoters();
    const { id, a } = askAnswered(w, {
      reward: { asset, amount: '1' },
      tipBudget: '1',
      tipUnit: '1',
    });
    w.advance(2 * hourMs);
    expectOk(w.run(tutorB, 'question.vote', vote(id, a)), 'vote');
    w.advance(graceMs);
    const before = w.balance(student.address);
    expectOk(w.run(outsider, 'question.close', { questionId: id }), 'close');
    const q = question(w, id);
    assert.deepEqual([q.status, q.outcome, q.best], ['refunded', 'refund', []]);
    assert.equal(w.balance(student.address) - before, 1n);
    assert.equal(readReputation(w.state, tutorA.address, 'math.algebra').accepted, 0);
  });
});

describe('scholarship txs: a freeze holds payouts, never stops a close', () => {
  it('a frozen asker: the close refunds into a hold; unfrozen, the claim pays; the escrow ends at 0', () => {
    const w = scholarshipWorld();
    const id = w.ask(student, { tipBudget: '20', tipUnit: '10' });
    const escrow = question(w, id).escrow;
    w.advance(2 * hourMs + graceMs);
    w.freeze(student.address);
    const closeTx = w.nextTxHash();
    expectOk(w.run(outsider, 'question.close', { questionId: id }), 'close');
    const held = w.events.find((e) => e.type === 'question.held');
    assert.deepEqual(held?.data, {
      questionId: id,
      address: student.address,
      asset,
      amount: '1020',
      for: 'refund',
    });
    const q = question(w, id);
    assert.equal(q.status, 'refunded');
    assert.deepEqual(q.held, [{ address: student.address, amount: '1020', for: 'refund' }]);
    assert.equal(w.balance(escrow), 1020n);
    assert.equal(readClaim(w.state, id, student.address), 1020n);
    assert.deepEqual(questionView(w.state, id)?.claims, [
      { address: student.address, amount: '1020' },
    ]);
    // The record lists the held refund as such, and rebuilds from state to the same root.
    const record = recordOf(w.state, id)!;
    assert.equal(record.root, q.recordRoot);
    assert.deepEqual(
      record.leaves.map(({ leaf }) => leaf).find((leaf) => leaf.kind === 'held'),
      {
        kind: 'held',
        questionId: id,
        address: student.address,
        asset,
        amount: '1020',
        for: 'refund',
      },
    );
    assert.equal(record.leaves.at(-1)?.leaf.tx, closeTx);
    // Still frozen: the claim changes nothing.
    refused(w, student, 'question.claim', { questionId: id }, 'account_frozen');
    refused(w, outsider, 'question.claim', { questionId: id }, 'nothing_held');
    w.freeze(student.address, false);
    expectOk(w.run(student, 'question.claim', { questionId: id }), 'claim');
    assert.deepEqual(w.events[0]?.data, {
      questionId: id,
      address: student.address,
      asset,
      amount: '1020',
    });
    assert.equal(w.balance(student.address), funds);
    assert.equal(w.balance(escrow), 0n);
    assert.deepEqual(questionView(w.state, id)?.claims, []);
    refused(w, student, 'question.claim', { questionId: id }, 'nothing_held');
    refused(w, student, 'question.claim', { questionId: 'f'.repeat(64) }, 'question_not_found');
  });

  it('a frozen escrow: the award still closes, each part held; claims wait for the unfreeze', () => {
    const w = scholarshipWorld();
    const id = w.ask(student, { tipBudget: '20', tipUnit: '10' });
    const a = w.answer(tutorA, id);
    const b = w.answer(tutorB, id);
    const escrow = question(w, id).escrow;
    w.freeze(escrow);
    expectOk(
      w.run(student, 'question.award', {
        questionId: id,
        awards: [
          { answerId: a, weight: 1 },
          { answerId: b, weight: 3 },
        ],
      }),
      'award',
    );
    assert.deepEqual(question(w, id).held, [
      { address: tutorA.address, amount: '250', for: 'best' },
      { address: tutorB.address, amount: '750', for: 'best' },
      { address: student.address, amount: '20', for: 'refund' },
    ]);
    assert.equal(question(w, id).status, 'awarded');
    assert.equal(w.balance(escrow), 1020n);
    refused(w, tutorA, 'question.claim', { questionId: id }, 'account_frozen');
    w.freeze(escrow, false);
    for (const k of [tutorA, tutorB, student]) {
      expectOk(w.run(k, 'question.claim', { questionId: id }), 'claim');
    }
    assert.equal(w.balance(tutorA.address), funds + 250n);
    assert.equal(w.balance(tutorB.address), funds + 750n);
    assert.equal(w.balance(student.address), funds - 1000n);
    assert.equal(w.balance(escrow), 0n);
  });

  it("a frozen winner of a vote close: its half is held, the asker's half is paid", () => {
    const w = withVoters();
    const { id, a } = askAnswered(w);
    w.advance(2 * hourMs);
    expectOk(w.run(tutorB, 'question.vote', vote(id, a)), 'vote');
    w.advance(graceMs);
    w.freeze(tutorA.address);
    const before = w.balance(tutorA.address);
    expectOk(w.run(outsider, 'question.close', { questionId: id }), 'close');
    const q = question(w, id);
    assert.equal(q.outcome, 'votes');
    assert.deepEqual(q.held, [{ address: tutorA.address, amount: '500', for: 'best' }]);
    assert.equal(w.balance(student.address), funds - 500n);
    assert.equal(w.balance(tutorA.address), before);
    w.freeze(tutorA.address, false);
    expectOk(w.run(tutorA, 'question.claim', { questionId: id }), 'claim');
    assert.equal(w.balance(tutorA.address) - before, 500n);
    assert.equal(w.balance(q.escrow), 0n);
  });

  it("an upvote's tip to a frozen author is held; the record marks the tip held", () => {
    const w = scholarshipWorld();
    const id = w.ask(student, { tipBudget: '20', tipUnit: '10' });
    const a = w.answer(tutorA, id);
    w.freeze(tutorA.address);
    expectOk(w.run(student, 'question.upvote', vote(id, a)), 'upvote');
    const upvoted = w.events.find((e) => e.type === 'question.upvoted');
    assert.deepEqual([upvoted?.data.paid, upvoted?.data.held], ['10', true]);
    assert.equal(readClaim(w.state, id, tutorA.address), 10n);
    assert.equal(question(w, id).tipLeft, '10');
    assert.equal(readTips(w.state, id)[0]?.held, true);
    w.freeze(tutorA.address, false);
    w.award(student, id, [a]);
    const tipLeaf = recordOf(w.state, id)!.leaves.find(({ leaf }) => leaf.role === 'upvote');
    assert.equal(tipLeaf?.leaf.held, true);
    expectOk(w.run(tutorA, 'question.claim', { questionId: id }), 'claim');
    assert.equal(w.balance(tutorA.address), funds + 1010n);
    assert.equal(w.balance(question(w, id).escrow), 0n);
  });
});

describe('scholarship txs: dismissals and answer slots', () => {
  it('the asker dismisses an answer: its slot frees, it is kept marked, and wins nothing', () => {
    const w = withVoters();
    const id = w.ask(student, { answersMax: 1, autoAward: 'votes', tipBudget: '10', tipUnit: '5' });
    const a = w.answer(tutorA, id);
    refused(w, tutorB, 'question.answer', w.answerPayload(tutorB, id), 'answers_full');
    refused(w, tutorB, 'question.dismiss', vote(id, a), 'not_asker');
    refused(w, student, 'question.dismiss', vote(id, 'e'.repeat(64)), 'answer_not_found');
    expectOk(w.run(student, 'question.dismiss', vote(id, a)), 'dismiss');
    assert.deepEqual(w.events[0]?.data, { questionId: id, answerId: a, author: tutorA.address });
    refused(w, student, 'question.dismiss', vote(id, a), 'answer_dismissed');
    // Its author cannot answer again; another tutor takes the slot.
    refused(w, tutorA, 'question.answer', w.answerPayload(tutorA, id), 'already_answered');
    const b = w.answer(tutorB, id);
    assert.deepEqual([question(w, id).answers, question(w, id).dismissed], [2, 1]);
    const award = { questionId: id, awards: [{ answerId: a, weight: 1 }] };
    refused(w, student, 'question.award', award, 'answer_dismissed');
    refused(w, tutorC, 'question.upvote', vote(id, a), 'answer_dismissed');
    refused(w, student, 'question.upvote', vote(id, a), 'answer_dismissed');
    endorse(w, student, id, b);
    w.advance(2 * hourMs);
    refused(w, tutorC, 'question.vote', vote(id, a), 'answer_dismissed');
    expectOk(w.run(tutorC, 'question.vote', vote(id, b)), 'vote');
    w.award(student, id, [b]);
    refused(w, student, 'question.dismiss', vote(id, b), 'question_closed');
    const leaves = recordOf(w.state, id)!.leaves.map(({ leaf }) => leaf);
    const answerLeaves = leaves.filter((leaf) => leaf.kind === 'answer');
    assert.deepEqual(
      answerLeaves.map((leaf) => [leaf.answerId, leaf.dismissed]),
      [
        [a, true],
        [b, undefined],
      ],
    );
    assert.deepEqual(
      leaves.filter((leaf) => leaf.kind === 'best').map((leaf) => leaf.answerId),
      [b],
    );
  });

  it('dismissals end at the deadline (no escaping an opted-in auto-award)', () => {
    const w = withVoters();
    const { id, a } = askAnswered(w);
    const b = w.answer(tutorC, id);
    expectOk(w.run(student, 'question.dismiss', vote(id, b)), 'dismiss');
    w.advance(2 * hourMs);
    refused(w, student, 'question.dismiss', vote(id, a), 'question_deadline_passed');
    expectOk(w.run(tutorB, 'question.vote', vote(id, a)), 'vote');
    w.advance(graceMs);
    expectOk(w.run(outsider, 'question.close', { questionId: id }), 'close');
    assert.equal(question(w, id).outcome, 'votes');
    assert.deepEqual(
      question(w, id).best.map((x) => x.answerId),
      [a],
    );
  });

  it('64 sybil answers dismissed: a slot is still free for an honest tutor (the cap is on dismissals)', () => {
    const w = scholarshipWorld();
    const sybils = w.crowd('slot', 64);
    const id = w.ask(student, { answersMax: 20, deadline: w.time + 10 * hourMs });
    // Fresh keys fill the 20 live slots, the asker dismisses them, again and again: 64 in all.
    for (let i = 0; i < 64; i += 20) {
      const batch = sybils.slice(i, i + 20).map((t) => w.answer(t, id));
      for (const a of batch) expectOk(w.run(student, 'question.dismiss', vote(id, a)), 'dismiss');
    }
    assert.deepEqual([question(w, id).answers, question(w, id).dismissed], [64, 64]);
    // Live answers: none; an honest tutor answers (the old total cap of 64 said answers_full).
    const honest = w.answer(tutorA, id);
    assert.equal(question(w, id).answers, 65);
    // The asker dismisses no more than 64.
    refused(w, student, 'question.dismiss', vote(id, honest), 'dismissals_full');
  });

  it('live answers stay within answersMax; after 64 dismissals, 84 answers at most in all', () => {
    const w = scholarshipWorld();
    const tutors = w.crowd('answerer', 85);
    const id = w.ask(student, { answersMax: 20, deadline: w.time + 20 * 24 * hourMs });
    for (const t of tutors.slice(0, 64)) {
      const answerId = w.answer(t, id);
      expectOk(w.run(student, 'question.dismiss', vote(id, answerId)), 'dismiss');
    }
    for (const t of tutors.slice(64, 84)) w.answer(t, id);
    assert.deepEqual([question(w, id).answers, question(w, id).dismissed], [84, 64]);
    refused(w, tutors[84]!, 'question.answer', w.answerPayload(tutors[84]!, id), 'answers_full');
    const answers = readAnswers(w.state, id);
    assert.equal(answers.length, 84);
    assert.equal(answers.at(-1)?.index, 83);
    // The award reads them all: the last live answer wins.
    w.award(student, id, [answers.at(-1)!.answerId]);
    assert.equal(question(w, id).status, 'awarded');
    assert.equal(recordOf(w.state, id)?.root, question(w, id).recordRoot);
  });

  it('answerMinAccepted: an answerer needs that many distinct askers in the subject', () => {
    const w = scholarshipWorld();
    refused(
      w,
      student,
      'question.ask',
      w.askPayload(student, { answerMinAccepted: 101 }),
      'invalid_answer_min_accepted',
    );
    refused(
      w,
      student,
      'question.ask',
      w.askPayload(student, { autoAward: 'sometimes' }),
      'invalid_auto_award',
    );
    const id = w.ask(student, { answerMinAccepted: 1 });
    refused(w, tutorA, 'question.answer', w.answerPayload(tutorA, id), 'reputation_required');
    // Accepted in another subject does not count.
    w.acceptAnswers(student2, [tutorA], 'cs.algorithms');
    refused(w, tutorA, 'question.answer', w.answerPayload(tutorA, id), 'reputation_required');
    w.acceptAnswers(student2, [tutorA]);
    w.answer(tutorA, id);
  });
});

describe('scholarship txs: upvotes', () => {
  it("only the asker's upvote pays (and endorses); others count, reputation or not", () => {
    const w = scholarshipWorld();
    w.acceptAnswers(student2, [tutorC]);
    assert.equal(readReputation(w.state, tutorC.address, 'math.algebra').askers, 1);
    const id = w.ask(student, { tipBudget: '80', tipUnit: '10' });
    const a = w.answer(tutorA, id);
    const before = w.balance(tutorA.address);
    refused(w, outsider, 'question.upvote', vote(id, a), 'profile_required');
    refused(w, tutorA, 'question.upvote', vote(id, a), 'own_answer');
    // tutorB (no asker) and tutorC (an asker accepted it): counted, paid nothing.
    for (const k of [tutorB, tutorC]) {
      expectOk(w.run(k, 'question.upvote', vote(id, a)), 'upvote');
      assert.deepEqual(w.events[0]?.data, {
        questionId: id,
        answerId: a,
        from: k.address,
        to: tutorA.address,
        asset,
        paid: '0',
        held: false,
        endorsed: false,
      });
    }
    assert.equal(question(w, id).tipLeft, '80');
    assert.equal(readAnswers(w.state, id)[0]?.endorsed, false);
    refused(w, tutorB, 'question.upvote', vote(id, a), 'already_upvoted');
    expectOk(w.run(student, 'question.upvote', vote(id, a)), 'upvote');
    assert.deepEqual([w.events[0]?.data.paid, w.events[0]?.data.endorsed], ['10', true]);
    refused(w, student, 'question.upvote', vote(id, a), 'already_upvoted');
    assert.equal(w.balance(tutorA.address) - before, 10n);
    const answer = readAnswers(w.state, id)[0]!;
    assert.deepEqual([answer.upvotes, answer.tipped, answer.endorsed], [3, '10', true]);
    assert.deepEqual(
      readTips(w.state, id).map((t) => [t.from, t.amount]),
      [[student.address, '10']],
    );
    assert.equal(question(w, id).tipLeft, '70');
    // A question without a tip budget takes upvotes too: they count and pay nothing.
    const plain = w.ask(student);
    const b = w.answer(tutorB, plain);
    expectOk(w.run(tutorC, 'question.upvote', vote(plain, b)), 'upvote');
    expectOk(w.run(student, 'question.upvote', vote(plain, b)), 'upvote');
    assert.deepEqual([w.events[0]?.data.paid, w.events[0]?.data.endorsed], ['0', true]);
    refused(w, tutorC, 'question.upvote', vote(plain, a), 'answer_not_found');
    // An asker without a profile upvotes (endorses) its own question's answers all the same.
    assert.equal(readProfile(w.state, student2.address), undefined);
    const other = w.ask(student2);
    endorse(w, student2, other, w.answer(tutorA, other));
  });

  it('a ring with askers = 1 from one junk-asset question drains no tip budget', () => {
    const w = scholarshipWorld();
    const { tutors } = junkRing(w, 'tips', 1, 5);
    assert.equal(readReputation(w.state, tutors[0]!.address, 'math.algebra').askers, 1);
    const before = w.balance(student.address);
    const id = w.ask(student, { answersMax: 5, tipBudget: '400', tipUnit: '25' });
    const ringAnswers = tutors.slice(0, 4).map((t) => ({ author: t, a: w.answer(t, id) }));
    for (const { author, a } of ringAnswers) {
      for (const u of tutors) {
        if (u !== author) expectOk(w.run(u, 'question.upvote', vote(id, a)), 'ring upvote');
      }
    }
    assert.equal(question(w, id).tipLeft, '400', 'the ring took nothing');
    assert.equal(readTips(w.state, id).length, 0);
    for (const t of tutors) assert.equal(w.balance(t.address), 0n);
    // 16 ring upvotes counted as score all the same.
    assert.equal(
      readAnswers(w.state, id).reduce((n, a) => n + a.upvotes, 0),
      16,
    );
    w.advance(2 * hourMs + graceMs);
    expectOk(w.run(outsider, 'question.close', { questionId: id }), 'close');
    assert.equal(w.balance(student.address), before, 'the whole budget and reward back');
  });

  it("the asker's upvote pays one tip unit per answer, within max(tipUnit, floor(tipBudget / 4))", () => {
    const w = withVoters();
    const id = w.ask(student, { tipBudget: '40', tipUnit: '5', answersMax: 3 });
    const answers = [tutorA, tutorB, tutorC].map((t) => w.answer(t, id));
    for (const a of answers) endorse(w, student, id, a);
    assert.deepEqual(
      readAnswers(w.state, id).map((a) => a.tipped),
      ['5', '5', '5'],
    );
    assert.equal(question(w, id).tipLeft, '25');
    for (const a of readAnswers(w.state, id)) {
      assert.ok(BigInt(a.tipped) <= tipCapPerAnswer(question(w, id)));
    }
    assert.equal(tipCapPerAnswer({ tipBudget: '40', tipUnit: '5' }), 10n);
    assert.equal(tipCapPerAnswer({ tipBudget: '10', tipUnit: '5' }), 5n);
    // The budget spent: the asker's next upvote endorses and pays nothing.
    const small = w.ask(student, { tipBudget: '5', tipUnit: '5', answersMax: 2 });
    const [b, c] = [tutorA, tutorB].map((t) => w.answer(t, small));
    endorse(w, student, small, b!);
    endorse(w, student, small, c!);
    assert.deepEqual([w.events[0]?.data.paid, w.events[0]?.data.endorsed], ['0', true]);
    assert.equal(question(w, small).tipLeft, '0');
  });

  it("takes at most 256 upvotes per answer besides the asker's, which always lands", () => {
    const w = scholarshipWorld();
    const crowd = w.crowd('upvoter', 257);
    const id = w.ask(student, { tipBudget: '10', tipUnit: '10' });
    const a = w.answer(tutorA, id);
    for (const k of crowd.slice(0, 256)) {
      expectOk(w.run(k, 'question.upvote', vote(id, a)), 'upvote');
    }
    assert.equal(readAnswers(w.state, id)[0]?.upvotes, 256);
    assert.equal(question(w, id).tipLeft, '10');
    refused(w, crowd[256]!, 'question.upvote', vote(id, a), 'upvotes_full');
    // The crowd cannot keep the asker from endorsing (and tipping) the answer.
    endorse(w, student, id, a);
    assert.deepEqual(
      [readAnswers(w.state, id)[0]?.upvotes, readAnswers(w.state, id)[0]?.endorsed],
      [257, true],
    );
    assert.equal(question(w, id).tipLeft, '0');
    refused(w, crowd[256]!, 'question.upvote', vote(id, a), 'upvotes_full');
  });
});

describe('scholarship txs: routing', () => {
  it('question.ask emits question.for.<subject> for the tutors of the subject', () => {
    const w = scholarshipWorld();
    const deadline = w.time + 3 * hourMs;
    const id = w.ask(student, { subject: 'physics.electromagnetism', deadline });
    const routed = w.events.find((e) => e.type.startsWith('question.for.'));
    assert.deepEqual(routed, {
      type: 'question.for.physics.electromagnetism',
      data: {
        questionId: id,
        subject: 'physics.electromagnetism',
        title: 'Why is the sum of two odd numbers even?',
        asset,
        reward: '1000',
        deadline,
        answerMinAccepted: 0,
      },
    });
    assert.ok(routed.type.length <= 64);
  });
});

describe('scholarship state: the close-time index', () => {
  it('lists open questions by deadline + grace, and drops them once closed', () => {
    const w = scholarshipWorld();
    const late = w.ask(student, { deadline: w.time + 5 * hourMs });
    const early = w.ask(student2, { deadline: w.time + 2 * hourMs });
    const earlyAt = question(w, early).deadline + graceMs;
    assert.deepEqual(dueQuestions(w.state, earlyAt - 1, 16), []);
    assert.deepEqual(dueQuestions(w.state, earlyAt, 16), [early]);
    assert.deepEqual(dueQuestions(w.state, earlyAt + 10 * hourMs, 16), [early, late]);
    assert.deepEqual(dueQuestions(w.state, earlyAt + 10 * hourMs, 1), [early]);
    w.advance(earlyAt - w.time);
    expectOk(w.run(outsider, 'question.close', { questionId: early }), 'close');
    assert.deepEqual(dueQuestions(w.state, earlyAt + 10 * hourMs, 16), [late]);
  });
});
