import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { sha256Hex, utf8 } from '../../crypto/index.js';
import { CofferError, type CofferClient } from '../../sdk/client.js';
import { generateKey, type SigningKey } from '../../sdk/keys.js';
import { trustFromProducers, verifyTxInclusion } from '../../sdk/verify.js';
import { startTestNode, type TestNode } from '../../../test/support/test-node.js';
import { scholarshipTxBuilders as build, verifyRecordLeaf } from './client.js';
import { difficultyBaseDefault, graceMs, mintStamp, type StampKind } from './schema.js';

/*
 * The scholarship routes on a node in this process (default base difficulty, 12 bits), through the
 * SDK: the difficulty a stamp needs, ask / answer / award over HTTP with stamps minted on the
 * answered block hash, the question and its answers, profiles with reputation, bodies stored only
 * when a committed tx names them, the Q&A record whose leaves verify against the root the award
 * tx's receipt carries (and the tx against the producers), a close after the grace, and the codes.
 */

let testNode: TestNode;
let client: CofferClient;
let dev: SigningKey;
let clock = 1_760_000_000_000;
const hourMs = 3_600_000;
const student = generateKey();
const tutors = [generateKey(), generateKey(), generateKey()];
const questionBody = 'Why is the sum of two odd numbers even?';
let questionId: string;
const answerIds: string[] = [];

async function ok(key: SigningKey, tx: { type: string; payload: Record<string, unknown> }) {
  const result = await client.send(key, tx, { wait: 'commit' });
  assert.equal(result.status, 'ok', `${tx.type}: ${JSON.stringify(result)}`);
  return result.hash;
}

async function codeOf(promise: Promise<unknown>): Promise<[string, number]> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CofferError);
    return [error.code, error.status];
  }
  assert.fail('expected a CofferError');
}

/** A stamp at the bits the node answers for this sender and subject now. */
async function stampFor(kind: StampKind, body: string, key: SigningKey, subject: string) {
  const d = await client.scholarship.difficulty({ subject, sender: key.address });
  return mintStamp(
    { kind, contentHash: sha256Hex(utf8(body)), sender: key.address, blockHash: d.blockHash },
    d.bits,
  );
}

async function ask(
  body: string,
  deadlineMs = 2 * hourMs,
  extra: { autoAward?: 'votes' | 'refund'; answerMinAccepted?: number } = {},
): Promise<string> {
  const subject = 'math.algebra';
  return ok(
    student,
    build.ask({
      subject,
      title: 'Odd plus odd',
      bodyHash: sha256Hex(utf8(body)),
      reward: { asset: 'USD', amount: '900' },
      deadline: clock + deadlineMs,
      answersMax: 3,
      ...extra,
      stamp: await stampFor('question', body, student, subject),
    }),
  );
}

async function answerAs(tutor: SigningKey, questionId: string, body: string): Promise<string> {
  return ok(
    tutor,
    build.answer(
      questionId,
      sha256Hex(utf8(body)),
      await stampFor('answer', body, tutor, 'math.algebra'),
    ),
  );
}

before(async () => {
  testNode = await startTestNode('scholarship-routes', { now: () => clock });
  ({ client, dev } = testNode);
  for (const k of [student, ...tutors]) {
    await ok(dev, {
      type: 'ledger.transfer',
      payload: { to: k.address, asset: 'USD', amount: '50000' },
    });
  }
  for (const t of tutors) {
    await ok(t, build.profile({ name: 'Tutor', roles: ['tutor'], subjects: ['math'] }));
  }
  questionId = await ask(questionBody);
  for (const [i, t] of tutors.entries()) {
    const body = `Answer ${i}: 2a+1 + 2b+1 = 2(a+b+1).`;
    answerIds.push(
      await ok(
        t,
        build.answer(
          questionId,
          sha256Hex(utf8(body)),
          await stampFor('answer', body, t, 'math.algebra'),
        ),
      ),
    );
  }
});

after(async () => {
  await testNode.close();
});

describe('scholarship routes', () => {
  it('answers the difficulty: the default base for a quiet sender, on a recent block hash', async () => {
    const quiet = generateKey();
    const d = await client.scholarship.difficulty({ subject: 'cs', sender: quiet.address });
    assert.equal(d.bits, difficultyBaseDefault);
    assert.equal(d.base, 12);
    assert.match(d.blockHash, /^[0-9a-f]{64}$/);
    const block = await client.getBlock(d.height);
    assert.equal(block.hash, d.blockHash);
    assert.deepEqual(
      await codeOf(client.scholarship.difficulty({ subject: 'alchemy', sender: quiet.address })),
      ['subject_unknown', 400],
    );
    assert.deepEqual(
      await codeOf(client.scholarship.difficulty({ subject: 'cs', sender: 'cof1nope' })),
      ['invalid_address', 400],
    );
  });

  it('the question with its answers, the lists and the subjects', async () => {
    const view = await client.scholarship.question(questionId);
    assert.equal(view.question.asker, student.address);
    assert.equal(view.question.status, 'open');
    assert.deepEqual(
      view.answers.map((a) => a.answerId),
      answerIds,
    );
    const open = await client.scholarship.questions({ subject: 'math.algebra', status: 'open' });
    assert.deepEqual(
      open.questions.map((q) => q.questionId),
      [questionId],
    );
    assert.deepEqual((await client.scholarship.questions({ subject: 'cs' })).questions, []);
    const { subjects } = await client.scholarship.subjects();
    assert.ok(subjects.some((s) => s.id === 'math.algebra' && s.parent === 'math'));
  });

  it('stores a body only when a committed question names it, once, and serves it', async () => {
    assert.deepEqual(await codeOf(client.scholarship.putBody('nobody asked this')), [
      'body_not_referenced',
      422,
    ]);
    const hash = sha256Hex(utf8(questionBody));
    assert.deepEqual(await codeOf(client.scholarship.body(hash)), ['body_not_found', 404]);
    assert.deepEqual(await client.scholarship.putBody(questionBody), { hash, stored: true });
    assert.deepEqual(await client.scholarship.putBody(questionBody), { hash, stored: false });
    assert.deepEqual(await client.scholarship.body(hash), { hash, body: questionBody });
    assert.deepEqual(await codeOf(client.scholarship.putBody('x'.repeat(16 * 1024 + 1))), [
      'body_too_large',
      413,
    ]);
  });

  it('nobody but the asker awards; the award writes a record that verifies offline', async () => {
    assert.deepEqual(await codeOf(client.scholarship.record(questionId)), [
      'record_not_found',
      404,
    ]);
    const awards = [
      { answerId: answerIds[0]!, weight: 1 },
      { answerId: answerIds[1]!, weight: 2 },
    ];
    const early = await client
      .send(tutors[2]!, build.award(questionId, awards), { wait: 'commit' })
      .catch((e: unknown) => e);
    assert.ok(early instanceof CofferError);
    assert.equal(early.code, 'not_asker');
    const awardTx = await ok(student, build.award(questionId, awards));
    const record = await client.scholarship.record(questionId);
    assert.equal(record.tx.hash, awardTx);
    const closed = record.tx.receipt.events.find((e) => e.type === 'question.closed');
    assert.ok(closed);
    assert.equal(closed.data.root, record.root);
    assert.equal(closed.data.leafCount, record.leafCount);
    record.leaves.forEach(({ leaf, proof }, i) => {
      assert.ok(
        verifyRecordLeaf(
          leaf as Record<string, string | number>,
          i,
          record.leafCount,
          proof,
          record.root,
        ),
      );
    });
    const best = record.leaves
      .filter(({ leaf }) => leaf.kind === 'best')
      .map(({ leaf }) => leaf.amount);
    assert.deepEqual(best, ['300', '600']);
    const trust = trustFromProducers((await client.listProducers()).producers);
    assert.equal(verifyTxInclusion(record.tx, trust).ok, true);
    const profile = await client.scholarship.profile(tutors[0]!.address);
    assert.deepEqual(profile.reputation, [
      { subject: 'math.algebra', answers: 1, accepted: 1, askers: 1, score: 2065 },
    ]);
  });

  it('a question nobody answers is refunded by a close after deadline + grace', async () => {
    const id = await ask('An unanswered question');
    assert.deepEqual(await codeOf(client.send(tutors[0]!, build.close(id), { wait: 'commit' })), [
      'grace_not_over',
      422,
    ]);
    clock += 2 * hourMs + graceMs;
    await ok(tutors[0]!, build.close(id));
    const view = await client.scholarship.question(id);
    assert.equal(view.question.status, 'refunded');
    assert.equal((await client.scholarship.record(id)).leafCount, 3);
  });

  it('routes a question to its subject: question.for.<subject> in the receipt of the ask', async () => {
    const id = await ask('A routed question', 2 * hourMs, { answerMinAccepted: 1 });
    const lookup = await client.getTx(id);
    const routed = lookup.receipt?.events.find((e) => e.type.startsWith('question.for.'));
    assert.equal(routed?.type, 'question.for.math.algebra');
    assert.deepEqual(routed?.data, {
      questionId: id,
      subject: 'math.algebra',
      title: 'Odd plus odd',
      asset: 'USD',
      reward: '900',
      deadline: (await client.scholarship.question(id)).question.deadline,
      answerMinAccepted: 1,
    });
    // tutors[2] was never accepted by an asker: the bar refuses it (a tx failed in its block is
    // answered 422 whatever its code).
    const body = 'An answer under the bar';
    const stamp = await stampFor('answer', body, tutors[2]!, 'math.algebra');
    assert.deepEqual(
      await codeOf(
        client.send(tutors[2]!, build.answer(id, sha256Hex(utf8(body)), stamp), {
          wait: 'commit',
        }),
      ),
      ['reputation_required', 422],
    );
  });

  it('dismiss, vote and claim answer their codes; a question answers its dismissed answers and claims', async () => {
    const id = await ask('A question with junk answers', 2 * hourMs, { autoAward: 'votes' });
    const junk = await answerAs(tutors[1]!, id, 'Junk');
    assert.deepEqual(
      await codeOf(client.send(tutors[0]!, build.dismiss(id, junk), { wait: 'commit' })),
      ['not_asker', 422],
    );
    await ok(student, build.dismiss(id, junk));
    assert.deepEqual(
      await codeOf(client.send(student, build.dismiss(id, junk), { wait: 'commit' })),
      ['answer_dismissed', 422],
    );
    const view = await client.scholarship.question(id);
    assert.deepEqual(
      [view.question.answers, view.question.dismissed, view.answers[0]!.dismissed],
      [1, 1, true],
    );
    assert.deepEqual(view.claims, []);
    assert.deepEqual(await codeOf(client.send(tutors[0]!, build.claim(id), { wait: 'commit' })), [
      'nothing_held',
      422,
    ]);
    // Past the deadline, a vote for the dismissed answer is refused.
    clock += 2 * hourMs;
    assert.deepEqual(
      await codeOf(client.send(tutors[0]!, build.vote(id, junk), { wait: 'commit' })),
      ['answer_dismissed', 422],
    );
  });

  it('answers codes with their statuses for bad and unknown ids', async () => {
    const unknown = sha256Hex(utf8('nothing'));
    assert.deepEqual(await codeOf(client.scholarship.question('XYZ')), [
      'invalid_question_id',
      400,
    ]);
    assert.deepEqual(await codeOf(client.scholarship.question(unknown)), [
      'question_not_found',
      404,
    ]);
    assert.deepEqual(await codeOf(client.scholarship.record(unknown)), ['question_not_found', 404]);
    assert.deepEqual(await codeOf(client.scholarship.profile(student.address)), [
      'profile_not_found',
      404,
    ]);
    assert.deepEqual(await codeOf(client.scholarship.questions({ status: 'lost' as never })), [
      'invalid_request',
      400,
    ]);
    assert.deepEqual(await codeOf(client.scholarship.questions({ limit: 101 })), [
      'invalid_request',
      400,
    ]);
    assert.deepEqual(await codeOf(client.scholarship.pool('nope')), ['pool_not_found', 404]);
    assert.deepEqual(await codeOf(client.scholarship.mentorship('Bad!')), [
      'invalid_mentorship_id',
      400,
    ]);
  });
});
