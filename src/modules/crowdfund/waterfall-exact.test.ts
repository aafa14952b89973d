// The waterfall's exact allocations (issue 25): each rounding direction with a case where it
// matters, the largest-remainder method's ranking and tie-breaks, the order of payout lines, and
// simulate's refusals with their messages. waterfall.test.ts has the worked example and the
// properties that the fills and lines add up.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';

import { addressFromPublicKey, keyPairFromSecret } from '../../crypto/index.js';
import type { DistributionRule, WaterfallRecipient, WaterfallTranche } from './schema.js';
import { capAmount, compare, largestRemainder, simulate, trancheFills } from './waterfall.js';

const addressOf = (seed: number) =>
  addressFromPublicKey(keyPairFromSecret(new Uint8Array(32).fill(seed)).publicKey);
/** Two addresses named by their order, so the expected order of lines is written out. */
const [lo, hi] = [addressOf(30), addressOf(31)].sort() as [string, string];
const third = addressOf(32);

const all = (recipients: WaterfallRecipient[], name = 'all'): WaterfallTranche => ({
  name,
  shareBasisPoints: 10_000,
  recipients,
});
const toInvestors: WaterfallRecipient = { kind: 'investors', weightBasisPoints: 10_000 };

describe('compare: the one comparator of every sort here', () => {
  it('-1, 0 or 1 for text (code-unit order), bigints and numbers, both ways round', () => {
    for (const [a, b] of [
      ['cof1a', 'cof1b'],
      ['Z', 'a'],
      ['ab', 'abc'],
    ] as const) {
      assert.equal(compare(a, b), -1, `${a} ${b}`);
      assert.equal(compare(b, a), 1, `${b} ${a}`);
      assert.equal(compare(a, a), 0);
    }
    assert.equal(compare(2n, 10n), -1);
    assert.equal(compare(10n, 2n), 1);
    assert.equal(compare(7n, 7n), 0);
    assert.equal(compare(0, 2), -1);
    assert.equal(compare(2, 0), 1);
    assert.equal(compare(1, 1), 0);
  });

  it('property: antisymmetric, and 0 exactly when equal', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        assert.equal(compare(a, b), -compare(b, a) || 0);
        assert.equal(compare(a, b) === 0, a === b);
      }),
    );
  });
});

describe('rounding direction: each share and each cap rounds down', () => {
  // Principal 3, revenue 10, a 33.33% fee, recoup capped at 50% of principal, the rest.
  const rule: DistributionRule = {
    tranches: [
      { name: 'fee', shareBasisPoints: 3_333, recipients: [toInvestors] },
      {
        name: 'recoup',
        shareBasisPoints: 10_000,
        cap: { principalBasisPoints: 5_000 },
        recipients: [toInvestors],
      },
      all([toInvestors], 'rest'),
    ],
  };

  it('fills exactly [3, 1, 6] (a share rounded up gives [4,1,5]; a cap rounded up [3,2,5])', () => {
    assert.deepEqual(trancheFills(rule, 3n, 10n), [3n, 1n, 6n]);
  });

  it('a principal cap is the floor of principal * basis points / 10000', () => {
    const cap = (principalBasisPoints: number, principal: bigint) =>
      capAmount({ ...all([toInvestors]), cap: { principalBasisPoints } }, principal);
    assert.equal(cap(5_000, 3n), 1n);
    assert.equal(cap(9_999, 1n), 0n);
    assert.equal(cap(10_000, 7n), 7n);
    assert.equal(cap(3_333, 10_000n), 3_333n);
    assert.equal(cap(1_000_000, 3n), 300n);
  });

  it('an amount cap is that amount whatever the principal; no cap is null', () => {
    const capped = { ...all([toInvestors]), cap: { amount: '12345' } };
    assert.equal(capAmount(capped, 1n), 12_345n);
    assert.equal(capAmount(capped, 10n ** 9n), 12_345n);
    assert.equal(capAmount(all([toInvestors]), 100n), null);
  });

  it('a tranche takes its share up to its cap: below, at and one past the cap', () => {
    const capped: DistributionRule = {
      tranches: [
        {
          name: 'capped',
          shareBasisPoints: 5_000,
          cap: { amount: '10' },
          recipients: [toInvestors],
        },
        all([toInvestors], 'rest'),
      ],
    };
    assert.deepEqual(trancheFills(capped, 1n, 19n), [9n, 10n]);
    assert.deepEqual(trancheFills(capped, 1n, 20n), [10n, 10n]);
    assert.deepEqual(trancheFills(capped, 1n, 22n), [10n, 12n]);
    assert.deepEqual(trancheFills(capped, 1n, 0n), [0n, 0n]);
  });
});

describe('largestRemainder: exact allocations', () => {
  const keyed = (...weights: [string, bigint][]) =>
    weights.map(([key, weight]) => ({ key, weight }));

  it('3 by 1:3 is exactly [1, 2]: the unit left goes to the larger remainder (0.75 over 0.25)', () => {
    // Keys against the ranking: a tie-break by key alone would give [0, 3].
    assert.deepEqual(largestRemainder(3n, keyed(['b', 1n], ['a', 3n])), [1n, 2n]);
    assert.deepEqual(largestRemainder(3n, keyed(['a', 3n], ['b', 1n])), [2n, 1n]);
    // Two units left over the three largest remainders 0.8, 0.6, 0.4 (and 0.2).
    assert.deepEqual(largestRemainder(2n, keyed(['a', 1n], ['b', 2n], ['c', 3n], ['d', 4n])), [
      0n,
      0n,
      1n,
      1n,
    ]);
  });

  it('equal remainders go to the smaller key, wherever it stands', () => {
    assert.deepEqual(largestRemainder(1n, keyed(['b', 1n], ['a', 1n])), [0n, 1n]);
    assert.deepEqual(largestRemainder(1n, keyed(['a', 1n], ['b', 1n])), [1n, 0n]);
    assert.deepEqual(largestRemainder(2n, keyed(['c', 1n], ['a', 1n], ['b', 1n])), [0n, 1n, 1n]);
  });

  it('equal remainders and equal keys go to the earlier share', () => {
    assert.deepEqual(largestRemainder(1n, keyed(['a', 1n], ['a', 1n])), [1n, 0n]);
    assert.deepEqual(largestRemainder(1n, keyed(['a', 1n], ['a', 1n], ['a', 1n])), [1n, 0n, 0n]);
    assert.deepEqual(largestRemainder(2n, keyed(['a', 1n], ['a', 1n], ['a', 1n])), [1n, 1n, 0n]);
    assert.deepEqual(
      largestRemainder(3n, keyed(['b', 1n], ['a', 1n], ['b', 1n], ['a', 1n], ['b', 1n])),
      [1n, 1n, 0n, 1n, 0n],
    );
  });

  it('a zero total gives zeros even when every weight is zero', () => {
    assert.deepEqual(largestRemainder(0n, keyed(['a', 0n])), [0n]);
    assert.deepEqual(largestRemainder(0n, []), []);
  });

  it('refuses a negative total or weight, and weights summing to zero, by name', () => {
    assert.throws(() => largestRemainder(-1n, keyed(['a', 1n])), {
      name: 'RangeError',
      message: 'total: must not be negative',
    });
    assert.throws(() => largestRemainder(1n, keyed(['a', 1n], ['x', -1n])), {
      name: 'RangeError',
      message: 'shares.x.weight: must not be negative',
    });
    assert.throws(() => largestRemainder(0n, keyed(['a', -1n])), {
      message: 'shares.a.weight: must not be negative',
    });
    assert.throws(() => largestRemainder(1n, keyed(['a', 0n], ['b', 0n])), {
      name: 'RangeError',
      message: 'shares: the weights sum to zero',
    });
  });

  /**
   * An independent reference: each share's exact part as a fraction, then the units left given
   * one by one to the share whose fraction is largest (ties: smaller key, then earlier share).
   */
  function reference(total: bigint, weights: bigint[], keys: string[]): bigint[] {
    const sum = weights.reduce((s, w) => s + w, 0n);
    const parts = weights.map((w) => (total * w) / sum);
    const fraction = weights.map((w, i) => total * w - parts[i]! * sum);
    let left = total - parts.reduce((s, p) => s + p, 0n);
    const taken = weights.map(() => false);
    while (left > 0n) {
      let best = -1;
      for (let i = 0; i < weights.length; i++) {
        if (taken[i]) continue;
        if (best === -1) best = i;
        else if (fraction[i]! > fraction[best]!) best = i;
        else if (fraction[i] === fraction[best] && keys[i]! < keys[best]!) best = i;
      }
      taken[best] = true;
      parts[best]! += 1n;
      left -= 1n;
    }
    return parts;
  }

  it('property: exactly the reference allocation, keys and weights drawn with many ties', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 6n }),
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.bigInt({ min: 0n, max: 12n })), {
          minLength: 1,
          maxLength: 12,
        }),
        (total, shares) => {
          fc.pre(shares.some(([, w]) => w > 0n));
          const keys = shares.map(([k]) => k);
          const weights = shares.map(([, w]) => w);
          const parts = largestRemainder(
            total,
            shares.map(([key, weight]) => ({ key, weight })),
          );
          assert.deepEqual(parts, reference(total, weights, keys));
        },
      ),
      { numRuns: 500 },
    );
  });

  // V8 sorts up to 22 elements by insertion, comparing each element with those before it; past
  // that it merges runs, comparing in both directions. Only long lists show a comparator that
  // is wrong when its first argument comes first.
  it('property: exactly the reference allocation for 60 to 200 shares, keys and remainders tied', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 400n }),
        fc.array(fc.tuple(fc.constantFrom('a', 'b'), fc.bigInt({ min: 1n, max: 3n })), {
          minLength: 60,
          maxLength: 200,
        }),
        (total, shares) => {
          const parts = largestRemainder(
            total,
            shares.map(([key, weight]) => ({ key, weight })),
          );
          const keys = shares.map(([k]) => k);
          assert.deepEqual(
            parts,
            reference(
              total,
              shares.map(([, w]) => w),
              keys,
            ),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('simulate: the lines of a tranche, their order and their classes', () => {
  it('lines by address, then investor before producer before account, in one exact split', () => {
    // Producer lo; investors lo (principal 1) and hi (principal 3); an account hi. Weights: the
    // account 2000 * 4, the producer 3000 * 4, the investors 5000 * 1 and 5000 * 3, of 40000.
    // 100 gives 20, 30, 12.5 and 37.5: the unit left goes to lo's investor line (the tie
    // of 0.5 and 0.5 broken by address).
    const distribution: DistributionRule = {
      tranches: [
        all([
          { kind: 'account', address: hi, weightBasisPoints: 2_000 },
          { kind: 'producer', weightBasisPoints: 3_000 },
          { kind: 'investors', weightBasisPoints: 5_000 },
        ]),
      ],
    };
    const investments = [
      { investor: hi, principal: 3n },
      { investor: lo, principal: 1n },
    ];
    const result = simulate({ producer: lo, distribution }, investments, 0n, 100n);
    assert.deepEqual(result.lines, [
      { tranche: 0, recipient: 'investor', address: lo, amount: '13' },
      { tranche: 0, recipient: 'producer', address: lo, amount: '30' },
      { tranche: 0, recipient: 'investor', address: hi, amount: '37' },
      { tranche: 0, recipient: 'account', address: hi, amount: '20' },
    ]);
    assert.deepEqual(result.transfers, [
      { address: lo, amount: 43n },
      { address: hi, amount: 57n },
    ]);
    assert.deepEqual(result.byClass, { investors: 50n, producer: 30n, accounts: 20n });
    assert.equal(result.principal, 4n);
    assert.equal(result.cumulativeBefore, 0n);
    assert.equal(result.cumulativeAfter, 100n);
    assert.deepEqual(result.tranches, [
      {
        index: 0,
        name: 'all',
        fillBefore: 0n,
        fillAfter: 100n,
        amount: 100n,
        cap: null,
        capRemaining: null,
      },
    ]);
  });

  /** One unit between two recipients of equal weight: who gets it. */
  function oneUnit(recipients: WaterfallRecipient[], investor: string, producer = third) {
    const distribution = { tranches: [all(recipients)] };
    const result = simulate({ producer, distribution }, [{ investor, principal: 1n }], 0n, 1n);
    return result.lines.map((l) => [l.recipient, l.address]);
  }
  const half = 5_000;

  it('a tied unit goes to the smaller address, whatever the class or the order listed', () => {
    const account = (address: string) => ({
      kind: 'account' as const,
      address,
      weightBasisPoints: half,
    });
    const investors = { kind: 'investors' as const, weightBasisPoints: half };
    const producer = { kind: 'producer' as const, weightBasisPoints: half };
    assert.deepEqual(oneUnit([account(hi), investors], lo), [['investor', lo]]);
    assert.deepEqual(oneUnit([investors, account(lo)], hi), [['account', lo]]);
    assert.deepEqual(oneUnit([producer, investors], lo, hi), [['investor', lo]]);
    assert.deepEqual(oneUnit([investors, producer], hi, lo), [['producer', lo]]);
    assert.deepEqual(oneUnit([account(hi), producer], lo, lo), [['producer', lo]]);
    assert.deepEqual(oneUnit([producer, account(lo)], lo, hi), [['account', lo]]);
  });

  it('at one address the tied unit goes to the investor, then the producer, then the account', () => {
    const account = { kind: 'account' as const, address: lo, weightBasisPoints: half };
    const investors = { kind: 'investors' as const, weightBasisPoints: half };
    const producer = { kind: 'producer' as const, weightBasisPoints: half };
    assert.deepEqual(oneUnit([account, investors], lo), [['investor', lo]]);
    assert.deepEqual(oneUnit([account, producer], hi, lo), [['producer', lo]]);
    assert.deepEqual(oneUnit([producer, investors], lo, lo), [['investor', lo]]);
  });

  it('one address in all three classes: three lines in class order, one transfer', () => {
    const distribution: DistributionRule = {
      tranches: [
        all([
          { kind: 'account', address: lo, weightBasisPoints: 2_000 },
          { kind: 'producer', weightBasisPoints: 3_000 },
          { kind: 'investors', weightBasisPoints: 5_000 },
        ]),
      ],
    };
    const result = simulate(
      { producer: lo, distribution },
      [{ investor: lo, principal: 7n }],
      0n,
      10n,
    );
    assert.deepEqual(
      result.lines.map((l) => [l.recipient, l.amount]),
      [
        ['investor', '5'],
        ['producer', '3'],
        ['account', '2'],
      ],
    );
    assert.deepEqual(result.transfers, [{ address: lo, amount: 10n }]);
    assert.deepEqual(result.byClass, { investors: 5n, producer: 3n, accounts: 2n });
  });

  it('lines go tranche by tranche; a capped tranche reports its cap and what remains of it', () => {
    const distribution: DistributionRule = {
      tranches: [
        {
          name: 'first',
          shareBasisPoints: 10_000,
          cap: { amount: '4' },
          recipients: [{ kind: 'account', address: hi, weightBasisPoints: 10_000 }],
        },
        all([{ kind: 'investors', weightBasisPoints: 10_000 }], 'second'),
      ],
    };
    const result = simulate(
      { producer: third, distribution },
      [{ investor: lo, principal: 1n }],
      1n,
      5n,
    );
    assert.deepEqual(result.lines, [
      { tranche: 0, recipient: 'account', address: hi, amount: '3' },
      { tranche: 1, recipient: 'investor', address: lo, amount: '2' },
    ]);
    assert.deepEqual(
      result.tranches.map((t) => [t.fillBefore, t.fillAfter, t.amount, t.cap, t.capRemaining]),
      [
        [1n, 4n, 3n, 4n, 0n],
        [0n, 2n, 2n, null, null],
      ],
    );
    assert.deepEqual(result.transfers, [
      { address: lo, amount: 2n },
      { address: hi, amount: 3n },
    ]);
  });
});

describe('simulate: many investors, in any order', () => {
  const crowd = Array.from({ length: 120 }, (_, i) => addressOf(100 + i));
  const sortedCrowd = [...crowd].sort();
  const distribution = { tranches: [all([toInvestors])] };
  /** A fixed shuffle (a multiplicative step mod 120), so no clock or randomness is involved. */
  const shuffled = crowd.map((_, i) => crowd[(i * 77) % crowd.length]!);

  it('120 investors given out of order: transfers and lines by address, exact amounts', () => {
    const investments = shuffled.map((investor) => ({ investor, principal: 1n }));
    const result = simulate({ producer: third, distribution }, investments, 0n, 240n);
    assert.deepEqual(
      result.transfers,
      sortedCrowd.map((address) => ({ address, amount: 2n })),
    );
    assert.deepEqual(
      result.lines.map((l) => l.address),
      sortedCrowd,
    );
    // 130 units over 120 equal shares: the 10 left go to the 10 smallest addresses.
    const odd = simulate({ producer: third, distribution }, investments, 0n, 130n);
    assert.deepEqual(
      odd.transfers.map((t) => t.amount),
      sortedCrowd.map((_, i) => (i < 10 ? 2n : 1n)),
    );
  });

  it('an investor listed twice among 120 is found wherever the two entries stand', () => {
    for (const [first, second] of [
      [0, 119],
      [5, 64],
      [119, 60],
    ] as const) {
      const investments = shuffled.map((investor) => ({ investor, principal: 1n }));
      investments[second] = { investor: shuffled[first]!, principal: 1n };
      assert.throws(() => simulate({ producer: third, distribution }, investments, 0n, 1n), {
        message: /^investments\[\d+\]\.investor: listed twice$/,
      });
    }
  });
});

describe('simulate refuses bad input, naming the field', () => {
  const distribution = { tranches: [all([toInvestors])] };
  const campaign = { producer: third, distribution };

  it('an investor listed twice', () => {
    assert.throws(
      () =>
        simulate(
          campaign,
          [
            { investor: hi, principal: 1n },
            { investor: lo, principal: 2n },
            { investor: hi, principal: 3n },
          ],
          0n,
          1n,
        ),
      { name: 'RangeError', message: 'investments[2].investor: listed twice' },
    );
  });

  it('investors are checked in address order, a listing twice kept in the order given', () => {
    // Sorted by address only (a stable sort): hi's two entries stay in the order given, so the
    // zero principal is the third entry checked.
    const listed = [
      { investor: hi, principal: 1n },
      { investor: lo, principal: 1n },
      { investor: hi, principal: 0n },
    ];
    assert.throws(() => simulate(campaign, listed, 0n, 1n), {
      message: 'investments[2].principal: must be positive',
    });
    assert.throws(() => simulate(campaign, [listed[2]!, listed[1]!, listed[0]!], 0n, 1n), {
      message: 'investments[1].principal: must be positive',
    });
    assert.throws(
      () => simulate(campaign, [{ investor: 'x', principal: 1n }, listed[1]!], 0n, 1n),
      { message: 'investments[1].investor: not an address' },
    );
  });

  it('negative revenue before or now; zero of either is fine', () => {
    const one = [{ investor: lo, principal: 1n }];
    assert.throws(() => simulate(campaign, one, -1n, 1n), {
      name: 'RangeError',
      message: 'cumulativeRevenueBefore: negative',
    });
    assert.throws(() => simulate(campaign, one, 0n, -1n), {
      name: 'RangeError',
      message: 'revenue: negative',
    });
    assert.deepEqual(simulate(campaign, one, 0n, 0n).lines, []);
    assert.deepEqual(simulate(campaign, one, 5n, 0n).transfers, []);
  });

  it('a producer that is not an address; a rule that does not parse', () => {
    const one = [{ investor: lo, principal: 1n }];
    assert.throws(() => simulate({ producer: 'nobody', distribution }, one, 0n, 1n), {
      name: 'TypeError',
      message: 'campaign.producer: not an address',
    });
    assert.throws(
      () => simulate({ producer: third, distribution: { tranches: [] } }, one, 0n, 1n),
      {
        name: 'TypeError',
        message: 'campaign.distribution: invalid_tranche_count',
      },
    );
  });

  it('no investors; an investor that is not an address; a principal of 0 or -1', () => {
    assert.throws(() => simulate(campaign, [], 0n, 1n), {
      name: 'RangeError',
      message: 'investments: the total principal must be positive',
    });
    assert.throws(() => simulate(campaign, [{ investor: 'x', principal: 1n }], 0n, 1n), {
      name: 'TypeError',
      message: 'investments[0].investor: not an address',
    });
    for (const principal of [0n, -1n]) {
      assert.throws(
        () =>
          simulate(
            campaign,
            [
              { investor: lo, principal: 1n },
              { investor: hi, principal },
            ],
            0n,
            1n,
          ),
        { name: 'RangeError', message: 'investments[1].principal: must be positive' },
      );
    }
    assert.equal(simulate(campaign, [{ investor: lo, principal: 1n }], 0n, 1n).principal, 1n);
  });
});
