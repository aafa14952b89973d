import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  FinalityTracker,
  divergenceOf,
  proofOf,
  quorumOf,
  validatorQuorum,
  type AttestedState,
} from './finality.js';

const hash = (n: number) => n.toString(16).padStart(64, '0');

function state(height: number, block = 1, root = 1): AttestedState {
  return { height, blockHash: hash(block), stateRoot: hash(1000 + root) };
}

/** A tracker over validators v0..v(n-1) whose local chain holds state(h) up to `head`. */
function tracker(
  n: number,
  head: { value: number },
  rejected: (height: number, blockHash: string) => string | undefined = () => undefined,
) {
  const validators = new Set(Array.from({ length: n }, (_, i) => `v${i}`));
  return new FinalityTracker(
    0,
    () => validators,
    (h) => (h <= head.value ? state(h) : undefined),
    rejected,
  );
}

describe('finality', () => {
  it('a quorum is more than two thirds; a proof (at least one honest) more than a third', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 10, 100].map(quorumOf), [1, 2, 3, 3, 4, 5, 5, 7, 67]);
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 10, 100].map(proofOf), [1, 1, 1, 2, 2, 2, 3, 4, 34]);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), (n) => {
        const q = quorumOf(n);
        const f = n - q; // faults tolerated
        return 3 * q > 2 * n && 3 * (q - 1) <= 2 * n && proofOf(n) === f + 1;
      }),
    );
  });

  it('4 validators: final at the third matching attestation, not before', () => {
    const head = { value: 5 };
    const t = tracker(4, head);
    assert.deepEqual(t.add('v0', state(5)), { kind: 'none' });
    assert.deepEqual(t.add('v1', state(5)), { kind: 'none' });
    assert.deepEqual(t.add('v1', state(5)), { kind: 'none' }); // a repeat counts once
    assert.deepEqual(t.add('v9', state(5)), { kind: 'none' }); // not a validator
    assert.deepEqual(t.add('v2', state(5)), { kind: 'final', height: 5 });
    assert.equal(t.finalizedHeight, 5);
    assert.deepEqual(t.add('v3', state(5)), { kind: 'none' }); // already final
    assert.equal(t.pendingHeights, 0);
  });

  it('a validator that attests two states at one height counts for the first only', () => {
    const t = tracker(4, { value: 3 });
    t.add('v0', state(3));
    t.add('v1', state(3));
    assert.deepEqual(t.add('v1', state(3, 2, 2)), { kind: 'none' });
    assert.deepEqual(t.add('v2', state(3, 2, 2)), { kind: 'none' });
    assert.equal(t.finalizedHeight, 0);
    assert.deepEqual(t.add('v3', state(3)), { kind: 'final', height: 3 });
  });

  it('attestations ahead of the local head decide when the node commits', () => {
    const head = { value: 1 };
    const t = tracker(3, head);
    for (const v of ['v0', 'v1', 'v2']) assert.deepEqual(t.add(v, state(2)), { kind: 'none' });
    head.value = 2;
    assert.deepEqual(t.evaluate(2), { kind: 'final', height: 2 });
  });

  it('enough validators, more than attest its own state, attesting another state is a conflict', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 7, 10].map(divergenceOf), [1, 1, 2, 2, 2, 3, 4]);
    const t = tracker(4, { value: 4 });
    assert.deepEqual(t.add('v0', state(4, 7, 7)), { kind: 'none' });
    assert.deepEqual(t.add('v1', state(4)), { kind: 'none' }); // 1 for ours
    assert.deepEqual(t.add('v2', state(4, 7, 7)), {
      kind: 'conflict',
      height: 4,
      attested: state(4, 7, 7),
      voters: 2,
      local: `block ${hash(1)} with state ${hash(1001)}`,
    });
    assert.equal(t.finalizedHeight, 0);
  });

  it('3 validators: one faulty validator attesting its own block outvotes no one', () => {
    // The honest node committed state(4); the faulty one attests its own block at 4 first.
    const honest = tracker(3, { value: 4 });
    assert.deepEqual(honest.add('v2', state(4, 9, 9)), { kind: 'none' });
    assert.deepEqual(honest.add('v0', state(4)), { kind: 'none' });
    assert.deepEqual(honest.add('v1', state(4)), { kind: 'none' });
    // The faulty node committed state(4, 9, 9): two honest attestations of another state halt it.
    const faulty = new FinalityTracker(
      0,
      () => new Set(['v0', 'v1', 'v2']),
      (h) => (h === 4 ? state(4, 9, 9) : undefined),
    );
    assert.deepEqual(faulty.add('v2', state(4, 9, 9)), { kind: 'none' });
    assert.deepEqual(faulty.add('v0', state(4)), { kind: 'none' }); // 1 against 1
    assert.equal(faulty.add('v1', state(4)).kind, 'conflict'); // 2 against 1
  });

  it('attestations of a block this node rejected are a conflict once enough validators attest it', () => {
    const head = { value: 3 };
    const t = tracker(3, head, (h, blockHash) =>
      h === 4 && blockHash === hash(1) ? 'state root mismatch' : undefined,
    );
    assert.deepEqual(t.add('v0', state(4)), { kind: 'none' }); // one validator alone: no
    const outcome = t.add('v1', state(4));
    assert.equal(outcome.kind, 'conflict');
    assert.equal(outcome.kind === 'conflict' && outcome.local, 'rejected it: state root mismatch');
    // Another block at a height not decided here yet: wait.
    assert.deepEqual(t.add('v0', state(5)), { kind: 'none' });
    assert.deepEqual(t.add('v1', state(5)), { kind: 'none' });
  });

  it('keeps the newest heights: a node far behind still finalizes once it catches up', () => {
    const head = { value: 0 };
    const validators = new Set(['v0', 'v1', 'v2']);
    const t = new FinalityTracker(
      0,
      () => validators,
      (h) => (h <= head.value ? state(h) : undefined),
      () => undefined,
      5,
    );
    // Attestations for 20 heights arrive while this node is still at 0.
    for (let h = 1; h <= 20; h++) for (const v of validators) t.add(v, state(h));
    assert.equal(t.pendingHeights, 5);
    head.value = 20;
    assert.deepEqual(t.evaluate(20), { kind: 'final', height: 20 });
    assert.equal(t.pendingHeights, 0);
  });

  it("counts each height's attestations over that height's validator set", () => {
    // Four validators up to height 9; from 10 on v2 and v3 are jailed: two, quorum 2 of 2.
    const four = new Set(['v0', 'v1', 'v2', 'v3']);
    const two = new Set(['v0', 'v1']);
    const setAt = (height: number) => (height < 10 ? four : two);
    assert.equal(validatorQuorum(four), 3);
    assert.equal(validatorQuorum(two), 2);
    const head = { value: 12 };
    const t = new FinalityTracker(0, setAt, (h) => (h <= head.value ? state(h) : undefined));
    // Two of four at height 5 is not a quorum there...
    assert.deepEqual(t.add('v0', state(5)), { kind: 'none' });
    assert.deepEqual(t.add('v1', state(5)), { kind: 'none' });
    // ...and v3, no longer a validator at 12, counts nothing there.
    assert.deepEqual(t.add('v3', state(12)), { kind: 'none' });
    assert.deepEqual(t.add('v0', state(12)), { kind: 'none' });
    // Two of two at 12 is, and finalizes everything below it.
    assert.deepEqual(t.add('v1', state(12)), { kind: 'final', height: 12 });
    assert.equal(t.finalizedHeight, 12);
  });

  it('final or conflict, whichever evidence is complete first (any order of attestations)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.tuple(fc.nat(12), fc.boolean()), { maxLength: 40 }),
        (n, votes) => {
          const t = tracker(n, { value: 1 });
          const agreeing = new Set<string>();
          const disagreeing = new Set<string>();
          let expected: 'none' | 'final' | 'conflict' = 'none';
          for (const [who, agrees] of votes) {
            const validator = `v${who}`;
            const outcome = t.add(validator, agrees ? state(1) : state(1, 2, 2));
            if (expected === 'none' && who < n) {
              if (!agreeing.has(validator) && !disagreeing.has(validator)) {
                (agrees ? agreeing : disagreeing).add(validator);
              }
              if (agreeing.size >= quorumOf(n)) expected = 'final';
              else if (disagreeing.size >= divergenceOf(n) && disagreeing.size > agreeing.size) {
                expected = 'conflict';
              }
              if (outcome.kind !== expected) return false;
              if (expected === 'conflict') return t.finalizedHeight === 0;
            }
          }
          return (t.finalizedHeight === 1) === (expected === 'final');
        },
      ),
    );
  });
});
