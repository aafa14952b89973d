import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FinalityTracker, quorumOf, type AttestedState } from './finality.js';

const hash = (n: number) => n.toString(16).padStart(64, '0');

function state(height: number, block = 1, root = 1): AttestedState {
  return { height, blockHash: hash(block), stateRoot: hash(1000 + root) };
}

/** A tracker over validators v0..v(n-1) whose local chain holds `local` up to `head`. */
function tracker(n: number, head: { value: number }, local = (h: number) => state(h)) {
  const validators = new Set(Array.from({ length: n }, (_, i) => `v${i}`));
  return new FinalityTracker(
    0,
    () => validators,
    (h) => (h <= head.value ? local(h) : undefined),
  );
}

describe('finality', () => {
  it('a quorum is more than two thirds', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 10, 100].map(quorumOf), [1, 2, 3, 3, 4, 5, 5, 7, 67]);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), (n) => {
        const q = quorumOf(n);
        return 3 * q > 2 * n && 3 * (q - 1) <= 2 * n;
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

  it('a quorum on another state than this node committed is a conflict, never final', () => {
    const t = tracker(3, { value: 4 });
    t.add('v0', state(4, 7, 7));
    t.add('v1', state(4, 7, 7));
    const outcome = t.add('v2', state(4, 7, 7));
    assert.deepEqual(outcome, {
      kind: 'conflict',
      height: 4,
      quorum: state(4, 7, 7),
      local: state(4),
    });
    assert.equal(t.finalizedHeight, 0);
  });

  it('final exactly when a quorum of distinct validators attests the local state (any order)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.tuple(fc.nat(12), fc.boolean()), { maxLength: 40 }),
        (n, votes) => {
          const t = tracker(n, { value: 1 });
          const agreeing = new Set<string>();
          const voted = new Set<string>();
          let finalAt = -1;
          votes.forEach(([who, agrees], index) => {
            const validator = `v${who}`;
            const outcome = t.add(validator, agrees ? state(1) : state(1, 2, 2));
            if (who < n && !voted.has(validator)) {
              voted.add(validator);
              if (agrees) agreeing.add(validator);
            }
            if (outcome.kind === 'final') finalAt = index;
          });
          const expectFinal = agreeing.size >= quorumOf(n);
          const disagreeing = voted.size - agreeing.size;
          // A quorum on the other state would be a conflict instead (and then no finality).
          if (disagreeing >= quorumOf(n)) return t.finalizedHeight === 0;
          return (t.finalizedHeight === 1) === expectFinal && finalAt >= 0 === expectFinal;
        },
      ),
    );
  });
});
