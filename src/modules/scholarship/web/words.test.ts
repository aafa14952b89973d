import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import {
  amountText,
  autoAwardText,
  heldReasonText,
  minorOf,
  poolCreatePath,
  questionStateText,
  splitByWeights,
} from './words.js';

describe('scholarship console words', () => {
  it('splits a reward by weights, largest remainder to the unit, adding up exactly', () => {
    assert.deepEqual(splitByWeights(100n, [2, 1]), [67n, 33n]);
    assert.deepEqual(splitByWeights(10n, [1, 1, 1]), [4n, 3n, 3n]);
    assert.deepEqual(splitByWeights(1n, [1, 1]), [1n, 0n]);
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 20n }),
        fc.array(fc.integer({ min: 1, max: 10_000 }), { minLength: 1, maxLength: 20 }),
        (total, weights) => {
          const parts = splitByWeights(total, weights);
          assert.equal(
            parts.reduce((a, b) => a + b, 0n),
            total,
          );
          assert.ok(parts.every((p) => p >= 0n));
        },
      ),
    );
  });

  it('reads a typed amount as minor units and refuses what is not one', () => {
    assert.equal(minorOf('5.00', 2), '500');
    assert.equal(minorOf(' 12 ', 2), '1200');
    assert.equal(minorOf('0', 2), undefined);
    assert.equal(minorOf('1.234', 2), undefined);
    assert.equal(minorOf('-1', 2), undefined);
    assert.equal(minorOf('abc', 2), undefined);
    assert.equal(amountText('1250', 'USD', 2), '12.50 USD');
    assert.equal(amountText('1250', 'USD', undefined), '1250 USD (minor units)');
  });

  it("names a question's state from its status, deadline and close rule", () => {
    assert.equal(questionStateText({ status: 'open', deadline: 10 }, 5), 'Open');
    assert.equal(
      questionStateText({ status: 'open', deadline: 10, autoAward: 'votes' }, 11),
      'Past its deadline: votes, then closing',
    );
    assert.equal(
      questionStateText({ status: 'open', deadline: 10, autoAward: 'refund' }, 11),
      'Past its deadline: closing with a refund unless the asker awards',
    );
    assert.match(autoAwardText('votes'), /^Tutors vote for a day; half the reward/);
    assert.equal(autoAwardText('refund'), 'The reward goes back to the asker');
    assert.deepEqual(['best', 'refund', 'tip'].map(heldReasonText), [
      'a best answer',
      "the asker's refund",
      'a tip',
    ]);
    // Not under /scholarship/pools/: a pool may be named "new".
    assert.equal(poolCreatePath.startsWith('/scholarship/pools/'), false);
    assert.equal(
      questionStateText({ status: 'awarded', deadline: 10, outcome: 'asker' }, 11),
      'Awarded',
    );
    assert.equal(
      questionStateText({ status: 'awarded', deadline: 10, outcome: 'votes' }, 11),
      'Awarded by the votes',
    );
    assert.equal(
      questionStateText({ status: 'refunded', deadline: 10 }, 11),
      'Refunded to the asker',
    );
  });
});
