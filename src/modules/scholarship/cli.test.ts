// The module registry first, as the CLI loads it: cli.ts imports src/cli/verify.ts, which imports
// the registry, which imports this module's index.ts, which needs cli.ts's commands evaluated.
import '../registry.js';

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { CommandContext } from '../../cli/context.js';
import { CliError } from '../../cli/errors.js';
import { generateKey, type SigningKey } from '../../sdk/index.js';
import { startTestNode, type TestNode } from '../../../test/support/test-node.js';
import {
  askChoices,
  bodyHashOf,
  describeProfile,
  parseAward,
  parseDuration,
  qaRecordProblems,
  scholarshipCommands,
} from './cli.js';
import { scholarshipTxBuilders as build } from './client.js';
import { recordProofs, recordRoot, type RecordLeaf } from './record.js';
import { graceMs, type ProfileView, type QuestionView } from './schema.js';

/*
 * The scholarship commands' pure parts: `verify qa`'s checks of a record's own claims (each leaf's
 * proof against the root, the root and count in the award or close tx's receipt event, the first
 * leaf the question and the last the tx), and the parsing of `award --to` and `ask --deadline`.
 * The question commands against a node in this process (ask's choices, dismiss, claim, and the
 * shows: readable text by default, JSON with --json) run below; the built CLI as a user runs it,
 * the tx's inclusion proof and block signature included, in test/scholarship-e2e.test.ts.
 */

const h = (c: string) => c.repeat(64);
const questionId = h('a');
const closeTx = h('f');

function record(): {
  questionId: string;
  root: string;
  leafCount: number;
  leaves: { leaf: RecordLeaf; proof: string[] }[];
  tx: Record<string, unknown>;
} {
  const leaves: RecordLeaf[] = [
    { kind: 'question', questionId, asker: 'cof1asker', subject: 'math', title: 'T' },
    { kind: 'answer', questionId, answerId: h('b'), index: 0, author: 'cof1tutor' },
    { kind: 'best', questionId, answerId: h('b'), author: 'cof1tutor', amount: '100' },
    { kind: 'tx', role: 'ask', tx: questionId },
    { kind: 'tx', role: 'answer', tx: h('b') },
    { kind: 'tx', role: 'award', tx: closeTx },
  ];
  const root = recordRoot(leaves);
  const proofs = recordProofs(leaves);
  return {
    questionId,
    root,
    leafCount: leaves.length,
    leaves: leaves.map((leaf, i) => ({ leaf, proof: proofs[i]! })),
    tx: {
      hash: closeTx,
      tx: { type: 'question.award', payload: { questionId } },
      receipt: {
        status: 'ok',
        events: [{ type: 'question.closed', data: { questionId, root, leafCount: leaves.length } }],
      },
    },
  };
}

describe('coffer verify qa: the record against itself', () => {
  it('finds nothing wrong with a record as the node builds it', () => {
    assert.deepEqual(qaRecordProblems(record(), questionId), []);
  });

  it('refuses a changed leaf, a flipped proof byte, a moved leaf and a foreign root', () => {
    const changed = record();
    changed.leaves[2]!.leaf.amount = '1000';
    assert.deepEqual(qaRecordProblems(changed, questionId), [
      'leaf 2: its proof does not lead to the root',
    ]);

    const flipped = record();
    const proof = flipped.leaves[1]!.proof;
    proof[0] = (proof[0]![0] === '0' ? '1' : '0') + proof[0]!.slice(1);
    assert.deepEqual(qaRecordProblems(flipped, questionId), [
      'leaf 1: its proof does not lead to the root',
    ]);

    const swapped = record();
    [swapped.leaves[0], swapped.leaves[1]] = [swapped.leaves[1]!, swapped.leaves[0]!];
    const problems = qaRecordProblems(swapped, questionId);
    assert.ok(problems.includes('its first leaf is not the question'), problems.join('; '));

    const rerooted = record();
    rerooted.root = h('c');
    assert.ok(
      qaRecordProblems(rerooted, questionId).some((p) => p.startsWith('the root on the chain is')),
    );
  });

  it("refuses a record of another question, of another tx, or without the chain's event", () => {
    assert.ok(qaRecordProblems(record(), h('9')).some((p) => p.startsWith('it is the record of')));
    const otherTx = record();
    otherTx.tx.hash = h('e');
    assert.ok(
      qaRecordProblems(otherTx, questionId).includes(
        'its last leaf does not name its award or close tx',
      ),
    );
    const transfer = record();
    transfer.tx.tx = { type: 'ledger.transfer', payload: {} };
    assert.ok(
      qaRecordProblems(transfer, questionId).some((p) => p.includes('not a question.award')),
    );
    const silent = record();
    silent.tx.receipt = { status: 'ok', events: [] };
    assert.ok(
      qaRecordProblems(silent, questionId).includes(
        'its tx has no question.closed event in its receipt',
      ),
    );
    const miscounted = record();
    miscounted.leafCount = 7;
    assert.ok(qaRecordProblems(miscounted, questionId).some((p) => p.includes('claims 7 leaves')));
    assert.deepEqual(qaRecordProblems([], questionId), ['the record is not a JSON object']);
  });
});

describe('scholarship command arguments', () => {
  it('reads award --to as ANSWER_ID[:WEIGHT], weight 1 to 10000', () => {
    assert.deepEqual(parseAward(`${h('b')}:3`), { answerId: h('b'), weight: 3 });
    assert.deepEqual(parseAward(h('b')), { answerId: h('b'), weight: 1 });
    for (const bad of [`${h('b')}:0`, `${h('b')}:10001`, 'xyz:1', `${h('b')}:1:2`]) {
      assert.throws(() => parseAward(bad), CliError, bad);
    }
  });

  it('reads a deadline as a duration', () => {
    assert.equal(parseDuration('90m', '--deadline'), 90 * 60_000);
    assert.equal(parseDuration('2h', '--deadline'), 7_200_000);
    assert.equal(parseDuration('3d', '--deadline'), 3 * 86_400_000);
    assert.equal(parseDuration('5000', '--deadline'), 5000);
    for (const bad of ['0h', '-1h', '2w', 'h']) {
      assert.throws(() => parseDuration(bad, '--deadline'), CliError, bad);
    }
  });

  it("hashes a body's UTF-8 bytes", () => {
    assert.equal(
      bodyHashOf('abc'),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});

describe('scholarship command arguments: ask choices', () => {
  it('reads --auto-award votes|refund and --answer-min-accepted 0..100 into the payload', () => {
    assert.deepEqual(askChoices({}), {});
    assert.deepEqual(askChoices({ 'auto-award': 'votes', 'answer-min-accepted': '3' }), {
      autoAward: 'votes',
      answerMinAccepted: 3,
    });
    assert.deepEqual(askChoices({ 'auto-award': 'refund', 'answer-min-accepted': '100' }), {
      autoAward: 'refund',
      answerMinAccepted: 100,
    });
    for (const bad of [
      { 'auto-award': 'half' },
      { 'answer-min-accepted': '101' },
      { 'answer-min-accepted': '-1' },
      { 'answer-min-accepted': 'x' },
    ]) {
      assert.throws(() => askChoices(bad), CliError, JSON.stringify(bad));
    }
  });

  it('prints a profile as lines and a reputation table', () => {
    const text = describeProfile({
      profile: { address: 'cof1tutor', name: 'Ada', roles: ['tutor'], subjects: ['math'] },
      reputation: [{ subject: 'math.algebra', answers: 3, accepted: 2, askers: 2, score: 2076 }],
    });
    assert.match(text, /^profile +cof1tutor$/m);
    assert.match(text, /^roles +tutor$/m);
    assert.match(text, /^subject +answers +accepted +askers +score \(bp\)$/m);
    assert.match(text, /^math\.algebra +3 +2 +2 +2076$/m);
    assert.match(
      describeProfile({ profile: { address: 'cof1x', roles: [], subjects: [] }, reputation: [] }),
      /no answers in closed questions yet/,
    );
  });
});

describe('coffer question commands against a node', () => {
  let testNode: TestNode;
  let clock = 1_770_000_000_000;
  const hourMs = 3_600_000;
  const student = generateKey();
  const tutors = [generateKey(), generateKey()];
  const keys = new Map<string, SigningKey>([
    ['student', student],
    ['tutor0', tutors[0]!],
    ['tutor1', tutors[1]!],
  ]);

  /** Runs a command as `coffer` would, against the test node: what it printed. */
  async function run(
    name: string,
    positionals: string[],
    values: Record<string, string | boolean> = {},
    json = false,
  ): Promise<string> {
    let printed = '';
    const ctx = {
      json,
      nodeUrl: testNode.url,
      client: testNode.client,
      print: (text: string) => (printed += text),
      warn: () => undefined,
      resolveAddress: (text: string) => keys.get(text)?.address ?? text,
      unlock: (keyName: string) => Promise.resolve(keys.get(keyName)!),
    } as unknown as CommandContext;
    const command = scholarshipCommands.find((c) => c.name === name);
    assert.ok(command, name);
    await command.run(ctx, positionals, values);
    return printed;
  }

  async function ok(key: SigningKey, tx: { type: string; payload: Record<string, unknown> }) {
    const result = await testNode.client.send(key, tx, { wait: 'commit' });
    assert.equal(result.status, 'ok', `${tx.type}: ${JSON.stringify(result)}`);
  }

  async function ask(title: string, extra: Record<string, string> = {}): Promise<string> {
    const printed = await run('ask', ['math.algebra'], {
      title,
      body: `${title}?`,
      reward: '5.00',
      asset: 'USD',
      deadline: '2h',
      from: 'student',
      ...extra,
    });
    const id = /^question ([0-9a-f]{64})$/m.exec(printed)?.[1];
    assert.ok(id, printed);
    return id;
  }

  async function answer(questionId: string, from: string, body: string): Promise<string> {
    const printed = await run('answer', [questionId], { body, from });
    const id = /^answer ([0-9a-f]{64})$/m.exec(printed)?.[1];
    assert.ok(id, printed);
    return id;
  }

  const show = async (id: string) =>
    JSON.parse(await run('question show', [id], {}, true)) as QuestionView;

  before(async () => {
    testNode = await startTestNode('scholarship-cli', { now: () => clock });
    for (const k of [student, ...tutors]) {
      await ok(testNode.dev, {
        type: 'ledger.transfer',
        payload: { to: k.address, asset: 'USD', amount: '50000' },
      });
    }
    for (const t of tutors) {
      await ok(t, build.profile({ name: 'Tutor', roles: ['tutor'], subjects: ['math'] }));
    }
  });

  after(async () => {
    await testNode.close();
  });

  it('ask takes --auto-award and --answer-min-accepted; question show prints them', async () => {
    const id = await ask('Votes', { 'auto-award': 'votes', 'answer-min-accepted': '0' });
    const view = await show(id);
    assert.equal(view.question.autoAward, 'votes');
    assert.equal(view.question.answerMinAccepted, 0);
    const text = await run('question show', [id]);
    assert.match(text, /^if unawarded +half the reward to the top-voted answer at close/m);
    const strict = await ask('Strict', { 'answer-min-accepted': '2' });
    assert.equal((await show(strict)).question.autoAward, 'refund');
    assert.match(await run('question show', [strict]), /^answerers need +2 distinct askers/m);
    await assert.rejects(
      answer(strict, 'tutor0', 'An answer'),
      (error: unknown) => error instanceof CliError && error.code === 'reputation_required',
    );
  });

  it('upvote by the asker endorses the answer: question show marks it (asker)', async () => {
    const id = await ask('Endorsed', { 'auto-award': 'votes' });
    const a = await answer(id, 'tutor0', 'An answer to endorse');
    const b = await answer(id, 'tutor1', 'An answer left alone');
    await run('upvote', [id, a], { from: 'student' });
    await run('upvote', [id, b], { from: 'tutor0' });
    const view = await show(id);
    assert.deepEqual(
      view.answers.map((x) => [x.answerId, x.upvotes, x.endorsed]),
      [
        [a, 1, true],
        [b, 1, false],
      ],
    );
    const text = await run('question show', [id]);
    assert.match(text, new RegExp(`^${a} .* 1 \\(asker\\)`, 'm'));
    assert.doesNotMatch(text, new RegExp(`^${b} .*\\(asker\\)`, 'm'));
  });

  it('question dismiss frees the slot; show marks the answer; the award pays the other', async () => {
    const id = await ask('Dismissal', { 'answers-max': '1' });
    const first = await answer(id, 'tutor0', 'A junk answer');
    await run('question dismiss', [id, first], { from: 'student' });
    const second = await answer(id, 'tutor1', 'A real answer');
    const view = await show(id);
    assert.deepEqual(
      view.answers.map((a) => [a.answerId, a.dismissed]),
      [
        [first, true],
        [second, false],
      ],
    );
    const text = await run('question show', [id]);
    assert.match(text, /^answers +1 of 1 \(2 in all, 1 dismissed\)$/m);
    assert.match(text, new RegExp(`^${first} .* dismissed$`, 'm'));
    await run('award', [id], { to: second, from: 'student' });
    // The profile show: text by default, JSON with --json.
    const profileText = await run('scholar profile', ['tutor1']);
    assert.match(profileText, /^math\.algebra +1 +1 +1 +2065$/m);
    const profile = JSON.parse(await run('scholar profile', ['tutor1'], {}, true)) as ProfileView;
    assert.deepEqual(profile.reputation, [
      { subject: 'math.algebra', answers: 1, accepted: 1, askers: 1, score: 2065 },
    ]);
  });

  it('question claim takes a refund held while the asker was frozen', async () => {
    const id = await ask('Frozen');
    await ok(testNode.dev, {
      type: 'asset.freeze',
      payload: { symbol: 'USD', account: student.address },
    });
    clock += 2 * hourMs + graceMs;
    await run('question close', [id], { from: 'tutor0' });
    const view = await show(id);
    assert.equal(view.question.status, 'refunded');
    assert.deepEqual(view.claims, [{ address: student.address, amount: '500' }]);
    assert.match(await run('question show', [id]), /^held for claim/m);
    await assert.rejects(
      run('question claim', [id], { from: 'student' }),
      (error: unknown) => error instanceof CliError && error.code === 'account_frozen',
    );
    await ok(testNode.dev, {
      type: 'asset.unfreeze',
      payload: { symbol: 'USD', account: student.address },
    });
    const usd = async () =>
      BigInt(
        (await testNode.client.getAccount(student.address)).balances.find((b) => b.asset === 'USD')!
          .balance,
      );
    const before = await usd();
    await run('question claim', [id], { from: 'student' });
    assert.equal((await usd()) - before, 500n);
    assert.deepEqual((await show(id)).claims, []);
    await assert.rejects(
      run('question claim', [id], { from: 'student' }),
      (error: unknown) => error instanceof CliError && error.code === 'nothing_held',
    );
  });
});
