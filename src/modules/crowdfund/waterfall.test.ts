import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';

import { addressFromPublicKey, keyPairFromSecret } from '../../crypto/index.js';
import { crowdfundRejections } from './rejections.js';
import { type DistributionRule } from './schema.js';
import {
  largestRemainder,
  parseDistribution,
  simulate,
  trancheFills,
  type Investment,
} from './waterfall.js';

// The address of the key whose secret is 32 bytes of `seed` (test/support's testAccount), here
// without the chain harness, so a mutation run of this file starts quickly.
const addressOf = (seed: number) =>
  addressFromPublicKey(keyPairFromSecret(new Uint8Array(32).fill(seed)).publicKey);
const producer = addressOf(10);
const distributor = addressOf(11);
const investors = [addressOf(20), addressOf(21), addressOf(22), addressOf(23), addressOf(24)];

/** The issue's example: 30% fee; recoup 100% of principal; 20% premium; the rest 50/50. */
const issueExample: DistributionRule = {
  tranches: [
    {
      name: 'distribution fee',
      shareBasisPoints: 3_000,
      recipients: [{ kind: 'account', address: distributor, weightBasisPoints: 10_000 }],
    },
    {
      name: 'recoup',
      shareBasisPoints: 10_000,
      cap: { principalBasisPoints: 10_000 },
      recipients: [{ kind: 'investors', weightBasisPoints: 10_000 }],
    },
    {
      name: 'premium',
      shareBasisPoints: 10_000,
      cap: { principalBasisPoints: 2_000 },
      recipients: [{ kind: 'investors', weightBasisPoints: 10_000 }],
    },
    {
      name: 'profit split',
      shareBasisPoints: 10_000,
      recipients: [
        { kind: 'investors', weightBasisPoints: 5_000 },
        { kind: 'producer', weightBasisPoints: 5_000 },
      ],
    },
  ],
};

function totalsOf(lines: { address: string; amount: string }[]): Map<string, bigint> {
  const totals = new Map<string, bigint>();
  for (const l of lines) totals.set(l.address, (totals.get(l.address) ?? 0n) + BigInt(l.amount));
  return totals;
}

describe('the issue example, worked by hand', () => {
  const [a, b] = investors as [string, string];
  // a put in 60,000 and b 40,000: principal 100,000.
  const investments: Investment[] = [
    { investor: b, principal: 40_000n },
    { investor: a, principal: 60_000n },
  ];
  const campaign = { producer, distribution: parseDistribution(issueExample) as DistributionRule };

  it('parses as a valid rule', () => {
    assert.deepEqual(parseDistribution(issueExample), issueExample);
  });

  it('report 1 (100,000): 30,000 fee, 70,000 recouped 60/40, nothing beyond', () => {
    const result = simulate(campaign, investments, 0n, 100_000n);
    assert.deepEqual(
      result.tranches.map((t) => [t.fillAfter, t.amount, t.capRemaining]),
      [
        [30_000n, 30_000n, null],
        [70_000n, 70_000n, 30_000n],
        [0n, 0n, 20_000n],
        [0n, 0n, null],
      ],
    );
    assert.deepEqual(
      totalsOf(result.lines),
      new Map([
        [distributor, 30_000n],
        [a, 42_000n],
        [b, 28_000n],
      ]),
    );
    assert.deepEqual(result.byClass, { investors: 70_000n, producer: 0n, accounts: 30_000n });
  });

  it('report 2 (150,000 more): the waterfall carries over from report 1', () => {
    // Cumulative 250,000: fee 75,000 (45,000 more); recoup 100,000 (30,000 more, now full);
    // premium 20,000 (full); the rest 55,000 split 27,500 investors / 27,500 producer.
    const result = simulate(campaign, investments, 100_000n, 150_000n);
    assert.deepEqual(
      result.tranches.map((t) => [t.fillBefore, t.fillAfter, t.amount]),
      [
        [30_000n, 75_000n, 45_000n],
        [70_000n, 100_000n, 30_000n],
        [0n, 20_000n, 20_000n],
        [0n, 55_000n, 55_000n],
      ],
    );
    assert.equal(result.tranches[1]!.capRemaining, 0n);
    assert.equal(result.tranches[2]!.capRemaining, 0n);
    const lines = result.lines.map((l) => [l.tranche, l.recipient, l.address, l.amount]);
    assert.deepEqual(
      lines.filter((l) => l[2] === a),
      [
        [1, 'investor', a, '18000'],
        [2, 'investor', a, '12000'],
        [3, 'investor', a, '16500'],
      ],
    );
    assert.deepEqual(
      totalsOf(result.lines),
      new Map([
        [distributor, 45_000n],
        [a, 46_500n],
        [b, 31_000n],
        [producer, 27_500n],
      ]),
    );
    assert.deepEqual(result.transfers, [
      ...[
        { address: distributor, amount: 45_000n },
        { address: a, amount: 46_500n },
        { address: b, amount: 31_000n },
        { address: producer, amount: 27_500n },
      ].sort((x, y) => (x.address < y.address ? -1 : 1)),
    ]);
  });

  it('one report of 250,000 fills the tranches exactly as the two did', () => {
    const once = simulate(campaign, investments, 0n, 250_000n);
    const twice = [
      simulate(campaign, investments, 0n, 100_000n),
      simulate(campaign, investments, 100_000n, 150_000n),
    ];
    assert.deepEqual(
      once.tranches.map((t) => t.fillAfter),
      twice[1]!.tranches.map((t) => t.fillAfter),
    );
    const summed = totalsOf([...twice[0]!.lines, ...twice[1]!.lines]);
    assert.deepEqual(totalsOf(once.lines), summed);
  });
});

describe('largestRemainder', () => {
  it('gives leftover units to the largest remainders, ties to the smaller key', () => {
    const shares = [
      { key: 'c', weight: 1n },
      { key: 'a', weight: 1n },
      { key: 'b', weight: 1n },
    ];
    assert.deepEqual(largestRemainder(10n, shares), [3n, 4n, 3n]);
    assert.deepEqual(largestRemainder(11n, shares), [3n, 4n, 4n]);
    // 7 by 1:2 is 2.33 / 4.67: the larger remainder (b) gets the unit.
    assert.deepEqual(
      largestRemainder(7n, [
        { key: 'a', weight: 1n },
        { key: 'b', weight: 2n },
      ]),
      [2n, 5n],
    );
    assert.deepEqual(largestRemainder(0n, shares), [0n, 0n, 0n]);
    assert.deepEqual(
      largestRemainder(5n, [
        { key: 'a', weight: 0n },
        { key: 'b', weight: 3n },
      ]),
      [0n, 5n],
    );
    assert.throws(() => largestRemainder(-1n, shares), /total/);
    assert.throws(() => largestRemainder(1n, [{ key: 'a', weight: 0n }]), /sum to zero/);
  });

  it('property: parts are non-negative, add up exactly and miss the exact share by under 1', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 30n }),
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 12n }), { minLength: 1, maxLength: 30 }),
        (total, weights) => {
          fc.pre(weights.some((w) => w > 0n));
          const shares = weights.map((weight, i) => ({ key: `k${i}`, weight }));
          const parts = largestRemainder(total, shares);
          const sum = weights.reduce((s, w) => s + w, 0n);
          assert.equal(
            parts.reduce((s, p) => s + p, 0n),
            total,
          );
          parts.forEach((part, i) => {
            assert.ok(part >= 0n);
            // |part - total * w / sum| < 1, i.e. |part * sum - total * w| < sum.
            const error = part * sum - total * weights[i]!;
            assert.ok(error < sum && -error < sum);
          });
        },
      ),
    );
  });
});

describe('parseDistribution rejections', () => {
  const investorsAll = [{ kind: 'investors', weightBasisPoints: 10_000 }];
  const last = { name: 'rest', shareBasisPoints: 10_000, recipients: investorsAll };
  const cases: [string, unknown, keyof typeof crowdfundRejections][] = [
    ['not an object', [], 'invalid_distribution'],
    ['unknown field', { tranches: [last], extra: 1 }, 'invalid_distribution'],
    ['no tranches', { tranches: [] }, 'invalid_tranche_count'],
    ['nine tranches', { tranches: Array(9).fill(last) }, 'invalid_tranche_count'],
    ['empty name', { tranches: [{ ...last, name: ' ' }] }, 'invalid_distribution'],
    ['share 0', { tranches: [{ ...last, shareBasisPoints: 0 }] }, 'invalid_tranche_share'],
    ['share 10001', { tranches: [{ ...last, shareBasisPoints: 10_001 }] }, 'invalid_tranche_share'],
    [
      'fractional share',
      { tranches: [{ ...last, shareBasisPoints: 0.5 }] },
      'invalid_tranche_share',
    ],
    [
      'cap of both kinds',
      { tranches: [{ ...last, cap: { amount: '1', principalBasisPoints: 1 } }, last] },
      'invalid_tranche_cap',
    ],
    [
      'cap amount zero',
      { tranches: [{ ...last, cap: { amount: '0' } }, last] },
      'invalid_tranche_cap',
    ],
    [
      'cap past 100x principal',
      { tranches: [{ ...last, cap: { principalBasisPoints: 1_000_001 } }, last] },
      'invalid_tranche_cap',
    ],
    ['no recipients', { tranches: [{ ...last, recipients: [] }] }, 'invalid_tranche_recipients'],
    [
      'unknown kind',
      { tranches: [{ ...last, recipients: [{ kind: 'studio', weightBasisPoints: 10_000 }] }] },
      'invalid_tranche_recipients',
    ],
    [
      'bad account address',
      {
        tranches: [
          { ...last, recipients: [{ kind: 'account', address: 'x', weightBasisPoints: 10_000 }] },
        ],
      },
      'invalid_tranche_recipients',
    ],
    [
      'investors twice',
      {
        tranches: [
          {
            ...last,
            recipients: [
              { kind: 'investors', weightBasisPoints: 5_000 },
              { kind: 'investors', weightBasisPoints: 5_000 },
            ],
          },
        ],
      },
      'invalid_tranche_recipients',
    ],
    [
      'weights sum to 9999',
      {
        tranches: [
          {
            ...last,
            recipients: [
              { kind: 'investors', weightBasisPoints: 5_000 },
              { kind: 'producer', weightBasisPoints: 4_999 },
            ],
          },
        ],
      },
      'invalid_tranche_weights',
    ],
    [
      'zero weight',
      {
        tranches: [
          {
            ...last,
            recipients: [
              { kind: 'investors', weightBasisPoints: 10_000 },
              { kind: 'producer', weightBasisPoints: 0 },
            ],
          },
        ],
      },
      'invalid_tranche_weights',
    ],
    ['a full uncapped tranche before the last', { tranches: [last, last] }, 'unreachable_tranche'],
    [
      'last tranche capped',
      { tranches: [{ ...last, cap: { amount: '100' } }] },
      'distribution_leaves_remainder',
    ],
    [
      'last tranche takes part',
      { tranches: [{ ...last, shareBasisPoints: 9_999 }] },
      'distribution_leaves_remainder',
    ],
  ];
  for (const [name, rule, code] of cases) {
    it(`${name}: ${code}`, () => {
      assert.equal(parseDistribution(rule), code);
      assert.ok(code in crowdfundRejections);
    });
  }
});

const recipientArb = fc.constantFrom('investors', 'producer', 'account');
/** Random valid rules: up to 8 tranches, the last taking all that remains. */
const ruleArb: fc.Arbitrary<DistributionRule> = fc
  .array(
    fc.record({
      share: fc.integer({ min: 1, max: 10_000 }),
      cap: fc.option(
        fc.oneof(
          fc.integer({ min: 1, max: 30_000 }).map((p) => ({ principalBasisPoints: p })),
          fc.bigInt({ min: 1n, max: 10n ** 7n }).map((a) => ({ amount: a.toString() })),
        ),
        { nil: undefined },
      ),
      kinds: fc.uniqueArray(recipientArb, { minLength: 1, maxLength: 3 }),
      weightSeed: fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 3, maxLength: 3 }),
    }),
    { minLength: 1, maxLength: 8 },
  )
  .map((specs) => ({
    tranches: specs.map((spec, index) => {
      const isLast = index === specs.length - 1;
      // Weights summing to 10000: proportional to the seed, remainder to the first.
      const seeds = spec.kinds.map((_, k) => spec.weightSeed[k]!);
      const seedSum = seeds.reduce((s, w) => s + w, 0);
      const weights = seeds.map((w) => Math.max(1, Math.floor((w * 10_000) / seedSum)));
      weights[0]! += 10_000 - weights.reduce((s, w) => s + w, 0);
      const recipients = spec.kinds.map((kind, k) =>
        kind === 'account'
          ? { kind, address: distributor, weightBasisPoints: weights[k]! }
          : { kind, weightBasisPoints: weights[k]! },
      );
      const share = isLast ? 10_000 : spec.share === 10_000 && !spec.cap ? 9_999 : spec.share;
      return {
        name: `t${index}`,
        shareBasisPoints: share,
        ...(isLast || !spec.cap ? {} : { cap: spec.cap }),
        recipients,
      };
    }),
  }));

const investmentsArb = fc
  .uniqueArray(fc.integer({ min: 0, max: investors.length - 1 }), { minLength: 1 })
  .chain((picked) =>
    fc.tuple(
      ...picked.map((i) =>
        fc.bigInt({ min: 1n, max: 10n ** 9n }).map((principal) => ({
          investor: investors[i]!,
          principal,
        })),
      ),
    ),
  );

describe('properties of the waterfall', () => {
  it('the generated rules are valid', () => {
    fc.assert(fc.property(ruleArb, (rule) => assert.deepEqual(parseDistribution(rule), rule)));
  });

  it('fills sum to cumulative revenue and never fall as revenue grows', () => {
    fc.assert(
      fc.property(
        ruleArb,
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.bigInt({ min: 0n, max: 10n ** 15n }),
        fc.bigInt({ min: 0n, max: 10n ** 15n }),
        (rule, principal, x, y) => {
          const [low, high] = x <= y ? [x, y] : [y, x];
          const a = trancheFills(rule, principal, low);
          const b = trancheFills(rule, principal, high);
          assert.equal(
            a.reduce((s, f) => s + f, 0n),
            low,
          );
          assert.equal(
            b.reduce((s, f) => s + f, 0n),
            high,
          );
          a.forEach((fill, t) => assert.ok(fill >= 0n && fill <= b[t]!, `tranche ${t}`));
        },
      ),
    );
  });

  it('each report pays out exactly its revenue, in non-negative integers, whatever the split', () => {
    fc.assert(
      fc.property(
        ruleArb,
        investmentsArb,
        fc.array(fc.bigInt({ min: 1n, max: 10n ** 10n }), { minLength: 1, maxLength: 6 }),
        (rule, investments, reports) => {
          const campaign = { producer, distribution: rule };
          let cumulative = 0n;
          for (const revenue of reports) {
            const result = simulate(campaign, investments, cumulative, revenue);
            let sum = 0n;
            for (const line of result.lines) {
              assert.match(line.amount, /^[1-9][0-9]*$/, 'a positive integer line');
              sum += BigInt(line.amount);
            }
            assert.equal(sum, revenue);
            assert.equal(
              result.transfers.reduce((s, t) => s + t.amount, 0n),
              revenue,
            );
            result.tranches.forEach((t) => {
              const lines = result.lines.filter((l) => l.tranche === t.index);
              assert.equal(
                lines.reduce((s, l) => s + BigInt(l.amount), 0n),
                t.amount,
              );
              if (t.capRemaining !== null) assert.ok(t.capRemaining >= 0n, 'a cap is never passed');
            });
            cumulative += revenue;
          }
          // The fills depend on cumulative revenue only: one report of the total fills the same.
          const once = simulate(campaign, investments, 0n, cumulative);
          const last = simulate(
            campaign,
            investments,
            cumulative - reports.at(-1)!,
            reports.at(-1)!,
          );
          assert.deepEqual(
            once.tranches.map((t) => t.fillAfter),
            last.tranches.map((t) => t.fillAfter),
          );
        },
      ),
    );
  });

  it('simulate checks its inputs and names the bad field', () => {
    const campaign = { producer, distribution: issueExample };
    assert.throws(() => simulate(campaign, [], 0n, 1n), /investments/);
    assert.throws(
      () => simulate(campaign, [{ investor: 'nobody', principal: 1n }], 0n, 1n),
      /investments\[0\]\.investor/,
    );
    assert.throws(
      () => simulate(campaign, [{ investor: producer, principal: 0n }], 0n, 1n),
      /investments\[0\]\.principal/,
    );
    assert.throws(
      () => simulate(campaign, [{ investor: producer, principal: 1n }], 0n, -1n),
      /revenue/,
    );
    assert.throws(
      () => simulate({ producer, distribution: { tranches: [] } }, [], 0n, 1n),
      /campaign\.distribution/,
    );
  });
});
