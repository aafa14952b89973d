import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { splitByWeights } from '../../ledger/split.js';

/*
 * The award's split by weights (split.ts): worked examples of the named rounding (floors, then the
 * units left over one each to the largest remainders, ties to the earlier position), a reference
 * model written the slow, obvious way, and the property that the parts add up to the whole.
 */

/** The rule, the obvious way: hand out the units left one at a time to the largest remainder. */
function referenceSplit(total: bigint, weights: readonly number[]): bigint[] {
  let sum = 0n;
  for (const w of weights) sum += BigInt(w);
  const parts = weights.map((w) => (total * BigInt(w)) / sum);
  const rests = weights.map((w) => (total * BigInt(w)) % sum);
  const given = weights.map(() => false);
  let left = total;
  for (const p of parts) left -= p;
  for (; left > 0n; left -= 1n) {
    let best = -1;
    for (let i = 0; i < weights.length; i++) {
      if (given[i]) continue;
      // Strictly larger only: an equal remainder later in the list never displaces an earlier one.
      if (best === -1 || rests[i]! > rests[best]!) best = i;
    }
    given[best] = true;
    parts[best]! += 1n;
  }
  return parts;
}

describe('splitByWeights', () => {
  it('gives each its floor, then the units left to the largest remainders', () => {
    // 1000 by 2:1 is 666.67 and 333.33: floors 666 and 333, one unit left, to the 0.67.
    assert.deepEqual(splitByWeights(1000n, [2, 1]), [667n, 333n]);
    // The larger remainder comes second: 333.33 and 666.67.
    assert.deepEqual(splitByWeights(1000n, [1, 2]), [333n, 667n]);
    // 10 by 3:3:4 is 3, 3, 4 exactly: nothing left over.
    assert.deepEqual(splitByWeights(10n, [3, 3, 4]), [3n, 3n, 4n]);
    // 7 by 1:1:5 is 1, 1, 5: exact.
    assert.deepEqual(splitByWeights(7n, [1, 1, 5]), [1n, 1n, 5n]);
    // 11 by 1:2:7 is 1.1, 2.2, 7.7: one unit left, to the 0.7.
    assert.deepEqual(splitByWeights(11n, [1, 2, 7]), [1n, 2n, 8n]);
    // 19 by 3:9:6 is 3.17, 9.5, 6.33: one unit left, to the 0.5.
    assert.deepEqual(splitByWeights(19n, [3, 9, 6]), [3n, 10n, 6n]);
    // 20 by 1:1:1 is 6.67 each: two left, to the first two (a tie: the earlier first).
    assert.deepEqual(splitByWeights(20n, [1, 1, 1]), [7n, 7n, 6n]);
    // 10 by 1:1:1: one left, to the first.
    assert.deepEqual(splitByWeights(10n, [1, 1, 1]), [4n, 3n, 3n]);
    // A reward smaller than its winners: some parts are 0.
    assert.deepEqual(splitByWeights(1n, [1, 1]), [1n, 0n]);
    assert.deepEqual(splitByWeights(2n, [1, 1, 1, 1]), [1n, 1n, 0n, 0n]);
    // Nothing to split: all zero.
    assert.deepEqual(splitByWeights(0n, [5, 7]), [0n, 0n]);
    // One part takes it all.
    assert.deepEqual(splitByWeights(12345n, [9999]), [12345n]);
  });

  it('gives a larger remainder its unit before an earlier smaller one', () => {
    // 5 by 1:1:2 of 4: 1.25, 1.25, 2.5: floors 1, 1, 2, one unit left, to the 0.5 (third).
    assert.deepEqual(splitByWeights(5n, [1, 1, 2]), [1n, 1n, 3n]);
    // 7 by 2:1:1 of 4: 3.5, 1.75, 1.75: floors 3, 1, 1, two left: 0.75, 0.75 (second, third)
    // before the 0.5.
    assert.deepEqual(splitByWeights(7n, [2, 1, 1]), [3n, 2n, 2n]);
    // 3 by 1:2:1:2 of 6: 0.5, 1, 0.5, 1: floors 0, 1, 0, 1, one left, to the first 0.5.
    assert.deepEqual(splitByWeights(3n, [1, 2, 1, 2]), [1n, 1n, 0n, 1n]);
  });

  it('breaks ties by position in arrays long enough for a merge sort', () => {
    // 70 equal weights and 3 units: every remainder ties, so the first three take one each.
    const equal = Array.from({ length: 70 }, () => 1);
    assert.deepEqual(
      splitByWeights(3n, equal),
      equal.map((_, i) => (i < 3 ? 1n : 0n)),
    );
    // Remainders in a pattern that a sort which reorders equal keys would scramble: weights 1, 2
    // and 3 repeated; the units left go to the largest remainders, ties to the earliest.
    const pattern = Array.from({ length: 90 }, (_, i) => 1 + (i % 3));
    for (const total of [1n, 7n, 50n, 91n, 179n]) {
      assert.deepEqual(splitByWeights(total, pattern), referenceSplit(total, pattern), `${total}`);
    }
  });

  it('refuses weights that add up to nothing, naming the rule', () => {
    assert.throws(() => splitByWeights(5n, []), {
      name: 'RangeError',
      message: 'splitByWeights: weights must add up to more than 0',
    });
    assert.throws(() => splitByWeights(5n, [0]), {
      name: 'RangeError',
      message: 'splitByWeights: weights must add up to more than 0',
    });
    assert.throws(() => splitByWeights(0n, [0, 0]), {
      message: 'splitByWeights: weights must add up to more than 0',
    });
    assert.throws(() => splitByWeights(5n, [-3]), {
      message: 'splitByWeights: weights[0] must be a whole number from 0',
    });
  });

  it('agrees with the reference model, and the parts add up exactly (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 24n }),
        fc.array(fc.integer({ min: 1, max: 10_000 }), { minLength: 1, maxLength: 80 }),
        (total, weights) => {
          const parts = splitByWeights(total, weights);
          assert.deepEqual(parts, referenceSplit(total, weights));
          assert.equal(
            parts.reduce((a, b) => a + b, 0n),
            total,
          );
          const sum = weights.reduce((a, w) => a + BigInt(w), 0n);
          parts.forEach((p, i) => {
            const floor = (total * BigInt(weights[i]!)) / sum;
            assert.ok(p === floor || p === floor + 1n, 'each part is its floor or one more');
          });
        },
      ),
      { numRuns: 300 },
    );
    // Small weights make many ties: the reference decides them the same way.
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 200n }),
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 100 }),
        (total, weights) => {
          assert.deepEqual(splitByWeights(total, weights), referenceSplit(total, weights));
        },
      ),
      { numRuns: 300 },
    );
  });
});
