// The module registry first, as the CLI loads it: cli.ts imports src/cli/verify.ts, which imports
// the registry, which imports this module's index.ts, which needs cli.ts's commands evaluated.
import '../registry.js';

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { CliError } from '../../cli/errors.js';
import { bodyHashOf, parseAward, parseDuration, qaRecordProblems } from './cli.js';
import { recordProofs, recordRoot, type RecordLeaf } from './record.js';

/*
 * The scholarship commands' pure parts: `verify qa`'s checks of a record's own claims (each leaf's
 * proof against the root, the root and count in the award or close tx's receipt event, the first
 * leaf the question and the last the tx), and the parsing of `award --to` and `ask --deadline`.
 * The commands against a node, the tx's inclusion proof and block signature included, run in
 * test/scholarship-e2e.test.ts.
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
