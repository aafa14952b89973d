import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { splitByWeights } from './split.js';

/*
 * The shared largest-remainder split: the parts add up to the total, each is within 1 of its
 * exact share (floor or ceiling of total × w / W), the leftover units go to the largest
 * remainders with the earlier position on a tie, and bad inputs throw.
 */

const total = fc.bigInt({ min: 0n, max: 2n ** 127n - 1n });
const weights = fc
  .array(fc.bigInt({ min: 0n, max: 10n ** 12n }), { minLength: 1, maxLength: 24 })
  .filter((list) => list.some((w) => w > 0n));

describe('splitByWeights', () => {
  it('parts add up to the total and each is the floor or the ceiling of its exact share', () => {
    fc.assert(
      fc.property(total, weights, (t, ws) => {
        const parts = splitByWeights(t, ws);
        const sum = ws.reduce((a, w) => a + w, 0n);
        assert.equal(parts.length, ws.length);
        assert.equal(
          parts.reduce((a, p) => a + p, 0n),
          t,
        );
        parts.forEach((part, index) => {
          const exact = t * ws[index]!;
          const floor = exact / sum;
          const ceiling = exact % sum === 0n ? floor : floor + 1n;
          assert.ok(
            part >= floor && part <= ceiling,
            `part ${index}: ${part} not in [${floor}, ${ceiling}]`,
          );
        });
      }),
    );
  });

  it('gives the leftover units to the largest remainders, never to a smaller one first', () => {
    fc.assert(
      fc.property(total, weights, (t, ws) => {
        const parts = splitByWeights(t, ws);
        const sum = ws.reduce((a, w) => a + w, 0n);
        const rest = ws.map((w) => (t * w) % sum);
        const rounded = parts.map((p, i) => p > (t * ws[i]!) / sum);
        for (let i = 0; i < ws.length; i += 1) {
          for (let j = 0; j < ws.length; j += 1) {
            // j got a unit and i did not: i's remainder is smaller, or equal and i comes later.
            if (rounded[j] && !rounded[i]) {
              assert.ok(rest[i]! < rest[j]! || (rest[i] === rest[j] && i > j), `${i} before ${j}`);
            }
          }
        }
      }),
    );
  });

  it('takes numbers as bigints, gives a zero weight nothing, breaks a tie by position', () => {
    assert.deepEqual(splitByWeights(10n, [1, 1, 1]), [4n, 3n, 3n]);
    assert.deepEqual(splitByWeights(10n, [1n, 1n, 1n]), [4n, 3n, 3n]);
    assert.deepEqual(splitByWeights(5n, [0, 1, 1]), [0n, 3n, 2n]);
    // 999 at 15 %: 149.85 and 849.15: the .85 is the larger remainder.
    assert.deepEqual(splitByWeights(999n, [8500, 1500]), [849n, 150n]);
    // 1 unit at 50/50: a tie, the first position.
    assert.deepEqual(splitByWeights(1n, [5000, 5000]), [1n, 0n]);
    assert.deepEqual(splitByWeights(0n, [3, 7]), [0n, 0n]);
  });

  it('throws on a negative total, a bad weight, weights that add up to 0', () => {
    assert.throws(() => splitByWeights(-1n, [1]), {
      name: 'RangeError',
      message: 'splitByWeights: total must be a bigint from 0',
    });
    // A number is not minor units: refused by name, not a TypeError from mixing with bigint.
    assert.throws(() => splitByWeights(5 as unknown as bigint, [1]), {
      name: 'RangeError',
      message: 'splitByWeights: total must be a bigint from 0',
    });
    assert.throws(() => splitByWeights(1n, [-1, 2]), /weights\[0\]/);
    assert.throws(() => splitByWeights(1n, [1.5]), /weights\[0\]/);
    assert.throws(() => splitByWeights(1n, [1n, -2n]), /weights\[1\]/);
    assert.throws(() => splitByWeights(1n, [0, 0]), /add up/);
    assert.throws(() => splitByWeights(1n, []), /add up/);
  });
});
