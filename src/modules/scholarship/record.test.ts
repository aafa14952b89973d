import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

import {
  recordLeafBytes,
  recordLeaves,
  recordProofs,
  recordRoot,
  verifyRecordLeaf,
  type RecordLeaf,
} from './record.js';
import type { AnswerRecord, BestAnswer, HeldPayout, QuestionRecord, TipRecord } from './schema.js';

/*
 * The Q&A record (record.ts) on its own: the exact leaves of a closed question in their order
 * (flags only where set), their canonical bytes written out by hand, the root and the proofs
 * against RFC 6962's recursive definition computed here with node:crypto, and the offline check
 * refusing every change to a leaf, its place, the tree's size, a proof or the root.
 */

const hex = (c: string) => c.repeat(64);

const question: QuestionRecord = {
  questionId: hex('a'),
  asker: 'cof1asker',
  subject: 'math.algebra',
  title: 'What is x?',
  bodyHash: hex('b'),
  asset: 'USD',
  reward: '1000',
  tipBudget: '30',
  tipUnit: '10',
  tipLeft: '10',
  tips: 2,
  deadline: 7_200_000,
  answersMax: 3,
  answers: 3,
  dismissed: 1,
  autoAward: 'votes',
  answerMinAccepted: 0,
  votes: 0,
  escrow: 'cof1escrow',
  status: 'open',
  best: [],
  askedAt: 1_000,
  height: 5,
  tx: hex('a'),
};

function answer(index: number, author: string, dismissed = false): AnswerRecord {
  return {
    answerId: hex(String(index + 1)),
    questionId: question.questionId,
    author,
    bodyHash: hex(String(index + 4)),
    index,
    voteWeight: 0,
    votes: 0,
    upvotes: 0,
    tipped: '0',
    dismissed,
    time: 2_000 + index,
    height: 6 + index,
    tx: hex(String(index + 1)),
  };
}

const answers = [answer(0, 'cof1tutor1'), answer(1, 'cof1tutor2', true), answer(2, 'cof1tutor3')];
const best: BestAnswer[] = [
  { answerId: hex('1'), author: 'cof1tutor1', amount: '667' },
  { answerId: hex('3'), author: 'cof1tutor3', amount: '333' },
];
const held: HeldPayout[] = [{ address: 'cof1tutor3', amount: '333', for: 'best' }];
const tips: TipRecord[] = [
  { index: 0, answerId: hex('1'), from: 'cof1x', to: 'cof1tutor1', amount: '10', tx: hex('c') },
  {
    index: 1,
    answerId: hex('3'),
    from: 'cof1y',
    to: 'cof1tutor3',
    amount: '10',
    tx: hex('d'),
    held: true,
  },
];

/** SHA-256 of a prefix byte and parts. */
function h(prefix: number, ...parts: Uint8Array[]): Buffer {
  const hash = createHash('sha256').update(Uint8Array.of(prefix));
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** RFC 6962's Merkle tree hash, by its recursive definition (split at the largest power of 2). */
function referenceRoot(leaves: Uint8Array[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return h(0, leaves[0]!);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return h(1, referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

/** RFC 6962's audit path of leaf `m`, by its recursive definition. */
function referencePath(m: number, leaves: Uint8Array[]): Buffer[] {
  if (leaves.length <= 1) return [];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return m < k
    ? [...referencePath(m, leaves.slice(0, k)), referenceRoot(leaves.slice(k))]
    : [...referencePath(m - k, leaves.slice(k)), referenceRoot(leaves.slice(0, k))];
}

describe('recordLeaves', () => {
  it('lists the question, answers, best answers, held payouts and txs, in that order', () => {
    const q = questionId();
    assert.deepEqual(recordLeaves(question, answers, best, held, tips, hex('e'), 'award'), [
      {
        kind: 'question',
        questionId: q,
        asker: 'cof1asker',
        subject: 'math.algebra',
        title: 'What is x?',
        bodyHash: hex('b'),
        asset: 'USD',
        reward: '1000',
        tipBudget: '30',
        deadline: 7_200_000,
        answersMax: 3,
      },
      {
        kind: 'answer',
        questionId: q,
        answerId: hex('1'),
        index: 0,
        author: 'cof1tutor1',
        bodyHash: hex('4'),
      },
      {
        kind: 'answer',
        questionId: q,
        answerId: hex('2'),
        index: 1,
        author: 'cof1tutor2',
        bodyHash: hex('5'),
        dismissed: true,
      },
      {
        kind: 'answer',
        questionId: q,
        answerId: hex('3'),
        index: 2,
        author: 'cof1tutor3',
        bodyHash: hex('6'),
      },
      {
        kind: 'best',
        questionId: q,
        answerId: hex('1'),
        author: 'cof1tutor1',
        asset: 'USD',
        amount: '667',
      },
      {
        kind: 'best',
        questionId: q,
        answerId: hex('3'),
        author: 'cof1tutor3',
        asset: 'USD',
        amount: '333',
      },
      {
        kind: 'held',
        questionId: q,
        address: 'cof1tutor3',
        asset: 'USD',
        amount: '333',
        for: 'best',
      },
      { kind: 'tx', role: 'ask', tx: hex('a') },
      { kind: 'tx', role: 'answer', tx: hex('1') },
      { kind: 'tx', role: 'answer', tx: hex('2') },
      { kind: 'tx', role: 'answer', tx: hex('3') },
      {
        kind: 'tx',
        role: 'upvote',
        tx: hex('c'),
        answerId: hex('1'),
        to: 'cof1tutor1',
        amount: '10',
      },
      {
        kind: 'tx',
        role: 'upvote',
        tx: hex('d'),
        answerId: hex('3'),
        to: 'cof1tutor3',
        amount: '10',
        held: true,
      },
      { kind: 'tx', role: 'award', tx: hex('e') },
    ]);
  });

  it('ends with the close tx, and has only the question and two txs when nothing happened', () => {
    assert.deepEqual(recordLeaves(question, [], [], [], [], hex('f'), 'close'), [
      recordLeaves(question, answers, best, held, tips, hex('f'), 'close')[0],
      { kind: 'tx', role: 'ask', tx: hex('a') },
      { kind: 'tx', role: 'close', tx: hex('f') },
    ]);
  });

  it('sets a flag only when it is set: no dismissed or held key at all otherwise', () => {
    const plain = recordLeaves(
      question,
      [answer(0, 'cof1tutor1', false)],
      [],
      [],
      [{ ...tips[1]!, held: false }, { ...tips[0]! }],
      hex('f'),
      'close',
    );
    for (const leaf of plain) {
      assert.equal('dismissed' in leaf, false, JSON.stringify(leaf));
      assert.equal('held' in leaf, false, JSON.stringify(leaf));
    }
  });
});

function questionId(): string {
  return question.questionId;
}

describe('the record tree', () => {
  const leaves = recordLeaves(question, answers, best, held, tips, hex('e'), 'award');
  const bytes = leaves.map(recordLeafBytes);

  it("hashes each leaf's RFC 8785 bytes: keys sorted, no spaces", () => {
    assert.equal(
      Buffer.from(
        recordLeafBytes({ kind: 'tx', role: 'ask', tx: 'x', amount: 5, held: true }),
      ).toString(),
      '{"amount":5,"held":true,"kind":"tx","role":"ask","tx":"x"}',
    );
  });

  it('has the RFC 6962 root of those bytes, as 64 lowercase hex', () => {
    const root = recordRoot(leaves);
    assert.equal(root, referenceRoot(bytes).toString('hex'));
    assert.match(root, /^[0-9a-f]{64}$/);
    for (const size of [1, 2, 3, 5, 8, 13]) {
      assert.equal(
        recordRoot(leaves.slice(0, size)),
        referenceRoot(bytes.slice(0, size)).toString('hex'),
        `${size} leaves`,
      );
    }
  });

  it("gives each leaf RFC 6962's audit path, which verifies", () => {
    const root = recordRoot(leaves);
    const proofs = recordProofs(leaves);
    assert.equal(proofs.length, leaves.length);
    proofs.forEach((proof, index) => {
      assert.deepEqual(
        proof,
        referencePath(index, bytes).map((p) => p.toString('hex')),
        `leaf ${index}`,
      );
      assert.equal(verifyRecordLeaf(leaves[index]!, index, leaves.length, proof, root), true);
    });
    assert.deepEqual(recordProofs(leaves.slice(0, 1)), [[]]);
  });
});

describe('verifyRecordLeaf', () => {
  const leaves = recordLeaves(question, answers, best, held, tips, hex('e'), 'award');
  const root = recordRoot(leaves);
  const proofs = recordProofs(leaves);
  const index = 5;
  const leaf = leaves[index]!;
  const proof = proofs[index]!;

  it('refuses a changed leaf, another place, another size and another proof', () => {
    assert.equal(verifyRecordLeaf(leaf, index, leaves.length, proof, root), true);
    const changed: RecordLeaf = { ...leaf, amount: '334' };
    assert.equal(verifyRecordLeaf(changed, index, leaves.length, proof, root), false);
    assert.equal(verifyRecordLeaf(leaf, index + 1, leaves.length, proof, root), false);
    // A size whose tree puts the leaf at another depth (RFC 6962: 15 leaves shape it as 14 do).
    assert.equal(verifyRecordLeaf(leaf, index, 17, proof, root), false);
    assert.equal(verifyRecordLeaf(leaf, index, 6, proof, root), false);
    assert.equal(verifyRecordLeaf(leaf, index, leaves.length, proofs[index + 1]!, root), false);
    assert.equal(verifyRecordLeaf(leaf, index, leaves.length, proof.slice(1), root), false);
    assert.equal(
      verifyRecordLeaf(leaf, index, leaves.length, proof, recordRoot(leaves.slice(1))),
      false,
    );
  });

  it('takes only 64 lowercase hex digits for the root and each proof hash', () => {
    assert.ok(proof.length >= 2, 'a proof of several hashes');
    const refused = (p: readonly string[], r: string) =>
      assert.equal(verifyRecordLeaf(leaf, index, leaves.length, p, r), false, `${p.join()} ${r}`);
    // The same bytes in capitals: hex decoding would accept them, the record does not.
    refused(proof, root.toUpperCase());
    refused([proof[0]!.toUpperCase(), ...proof.slice(1)], root);
    refused([...proof.slice(0, -1), proof.at(-1)!.toUpperCase()], root);
    // Text around the digits, or one digit more or less.
    refused(proof, `${root}0`);
    refused(proof, `0${root}`);
    refused(proof, root.slice(1));
    refused(proof, ` ${root}`);
    refused(proof, `${root}\n`);
    refused([`${proof[0]}0`, ...proof.slice(1)], root);
    refused([`0${proof[0]}`, ...proof.slice(1)], root);
    refused([proof[0]!.slice(1), ...proof.slice(1)], root);
    refused([...proof.slice(0, -1), `${proof.at(-1)}\n`], root);
    refused(proof, 'g'.repeat(64));
  });
});
