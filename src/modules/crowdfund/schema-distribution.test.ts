// parseDistribution (schema-terms.ts), the rule a campaign's distribution must keep: each bound
// at the bound and one past it, the rules in their precedence, and null where an object belongs
// answered with a rejection code, never a throw (issue 25).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { addressFromPublicKey, keyPairFromSecret } from '../../crypto/index.js';
import { minorUnitsMax, parseDistribution } from './schema-terms.js';

const addressOf = (seed: number) =>
  addressFromPublicKey(keyPairFromSecret(new Uint8Array(32).fill(seed)).publicKey);
const accounts = [40, 41, 42, 43, 44, 45, 46].map((seed) => addressOf(seed));
const a1 = accounts[0]!;
const a2 = accounts[1]!;

const investorsAll = { kind: 'investors', weightBasisPoints: 10_000 };
const rest = { name: 'rest', shareBasisPoints: 10_000, recipients: [investorsAll] };
/** A rule whose first tranche is `first` (the rest after it), or whose only tranche is `rest`. */
const withFirst = (first: Record<string, unknown>) => ({
  tranches: [{ ...rest, shareBasisPoints: 5_000, ...first }, rest],
});

describe('parseDistribution: null where an object belongs is a rejection code, never a throw', () => {
  const cases: [string, unknown, string][] = [
    ['a null rule', null, 'invalid_distribution'],
    ['null tranches', { tranches: null }, 'invalid_distribution'],
    ['a null tranche', { tranches: [null] }, 'invalid_distribution'],
    [
      'a null tranche after a good one',
      { tranches: [{ ...rest, shareBasisPoints: 1 }, null] },
      'invalid_distribution',
    ],
    ['null recipients', withFirst({ recipients: null }), 'invalid_tranche_recipients'],
    ['a null recipient', withFirst({ recipients: [null] }), 'invalid_tranche_recipients'],
    ['a null cap', withFirst({ cap: null }), 'invalid_tranche_cap'],
    ['a null cap amount', withFirst({ cap: { amount: null } }), 'invalid_tranche_cap'],
    ['a null share', withFirst({ shareBasisPoints: null }), 'invalid_tranche_share'],
    ['a null name', withFirst({ name: null }), 'invalid_distribution'],
    [
      'a null weight',
      withFirst({ recipients: [{ kind: 'investors', weightBasisPoints: null }] }),
      'invalid_tranche_weights',
    ],
    [
      'a null account address',
      withFirst({ recipients: [{ kind: 'account', address: null, weightBasisPoints: 10_000 }] }),
      'invalid_tranche_recipients',
    ],
  ];
  for (const [name, rule, code] of cases) {
    it(`${name}: ${code}`, () => assert.equal(parseDistribution(rule), code));
  }
});

describe('parseDistribution: each bound at the bound and one past', () => {
  const ok = (rule: unknown) => {
    const parsed = parseDistribution(rule);
    assert.equal(typeof parsed, 'object', JSON.stringify(parsed));
    return parsed;
  };

  it('1 and 8 tranches; 0 and 9 are invalid_tranche_count', () => {
    const capped = { ...rest, cap: { amount: '1' } };
    ok({ tranches: [rest] });
    ok({ tranches: [...Array<unknown>(7).fill(capped), rest] });
    assert.equal(parseDistribution({ tranches: [] }), 'invalid_tranche_count');
    assert.equal(
      parseDistribution({ tranches: [...Array<unknown>(8).fill(capped), rest] }),
      'invalid_tranche_count',
    );
    assert.equal(parseDistribution({ tranches: {} }), 'invalid_distribution');
    assert.equal(parseDistribution([rest]), 'invalid_distribution');
    assert.equal(parseDistribution('rule'), 'invalid_distribution');
  });

  it('a name of 40 bytes; 41, blank or not a string is invalid_distribution', () => {
    ok({ tranches: [{ ...rest, name: 'n'.repeat(40) }] });
    for (const name of ['n'.repeat(41), ' ', 'a\nb', 7]) {
      assert.equal(parseDistribution({ tranches: [{ ...rest, name }] }), 'invalid_distribution');
    }
    assert.equal(
      parseDistribution({ tranches: [{ shareBasisPoints: 10_000, recipients: [investorsAll] }] }),
      'invalid_distribution',
    );
    assert.equal(parseDistribution({ tranches: [{ ...rest, extra: 1 }] }), 'invalid_distribution');
  });

  it('a share of 1 to 10000; 0, 10001, a fraction or a string is invalid_tranche_share', () => {
    ok(withFirst({ shareBasisPoints: 1 }));
    ok(withFirst({ shareBasisPoints: 10_000, cap: { amount: '5' } }));
    ok(withFirst({ shareBasisPoints: 9_999 }));
    for (const share of [0, 10_001, 0.5, '5000', Number.NaN]) {
      assert.equal(
        parseDistribution(withFirst({ shareBasisPoints: share })),
        'invalid_tranche_share',
      );
    }
  });

  it('a cap of 1 to 1000000 basis points of principal, or 1 to 2^127 - 1 minor units', () => {
    for (const cap of [
      { principalBasisPoints: 1 },
      { principalBasisPoints: 1_000_000 },
      { amount: '1' },
      { amount: minorUnitsMax.toString() },
    ]) {
      assert.deepEqual(ok(withFirst({ cap })), {
        tranches: [{ ...rest, shareBasisPoints: 5_000, cap }, rest],
      });
    }
    const bad = [
      { principalBasisPoints: 0 },
      { principalBasisPoints: 1_000_001 },
      { principalBasisPoints: 1.5 },
      { principalBasisPoints: '1' },
      { amount: '0' },
      { amount: (minorUnitsMax + 1n).toString() },
      { amount: 5 },
      { amount: '1', principalBasisPoints: 1 },
      {},
      { other: 1 },
      [],
      '5',
    ];
    for (const cap of bad) {
      assert.equal(
        parseDistribution(withFirst({ cap })),
        'invalid_tranche_cap',
        JSON.stringify(cap),
      );
    }
  });

  it('1 to 8 recipients, each at most once; 0 or 9 is invalid_tranche_recipients', () => {
    const recipients7 = accounts.map((address) => ({
      kind: 'account',
      address,
      weightBasisPoints: 1_000,
    }));
    const eight = [
      { kind: 'investors', weightBasisPoints: 3_000 },
      { kind: 'producer', weightBasisPoints: 1_000 },
      ...recipients7.slice(0, 6),
    ];
    ok({ tranches: [{ ...rest, recipients: eight }] });
    const nine = [
      ...eight.slice(0, 7),
      { ...recipients7[6]!, weightBasisPoints: 500 },
      { ...recipients7[5]!, address: addressOf(47), weightBasisPoints: 500 },
    ];
    assert.equal(
      parseDistribution({ tranches: [{ ...rest, recipients: nine }] }),
      'invalid_tranche_recipients',
    );
    const refused = [
      [],
      {},
      [
        { kind: 'producer', weightBasisPoints: 5_000 },
        { kind: 'producer', weightBasisPoints: 5_000 },
      ],
      [
        { kind: 'account', address: a1, weightBasisPoints: 5_000 },
        { kind: 'account', address: a1, weightBasisPoints: 5_000 },
      ],
      [{ kind: 'investors', weightBasisPoints: 10_000, address: a1 }],
      [{ kind: 'producer', weightBasisPoints: 10_000, extra: 1 }],
      [{ kind: 'account', weightBasisPoints: 10_000 }],
      [{ kind: 'account', address: a1, weightBasisPoints: 10_000, extra: 1 }],
      [{ kind: 'account', address: 'x', weightBasisPoints: 10_000 }],
      [{ weightBasisPoints: 10_000 }],
      ['investors'],
    ];
    for (const recipients of refused) {
      assert.equal(
        parseDistribution({ tranches: [{ ...rest, recipients }] }),
        'invalid_tranche_recipients',
        JSON.stringify(recipients),
      );
    }
    // Two different accounts are fine.
    ok({
      tranches: [
        {
          ...rest,
          recipients: [
            { kind: 'account', address: a1, weightBasisPoints: 5_000 },
            { kind: 'account', address: a2, weightBasisPoints: 5_000 },
          ],
        },
      ],
    });
  });

  it('weights of 1 to 10000 summing to 10000; otherwise invalid_tranche_weights', () => {
    const two = (x: unknown, y: unknown) => ({
      tranches: [
        {
          ...rest,
          recipients: [
            { kind: 'investors', weightBasisPoints: x },
            { kind: 'producer', weightBasisPoints: y },
          ],
        },
      ],
    });
    ok(two(1, 9_999));
    ok(two(9_999, 1));
    for (const [x, y] of [
      [0, 10_000],
      [10_000, 0],
      [1, 9_998],
      [5_000, 5_001],
      [10_001, -1],
      [0.5, 9_999.5],
      ['5000', 5_000],
    ]) {
      assert.equal(
        parseDistribution(two(x, y)),
        'invalid_tranche_weights',
        `${String(x)} ${String(y)}`,
      );
    }
    assert.equal(
      parseDistribution({
        tranches: [{ ...rest, recipients: [{ kind: 'investors', weightBasisPoints: 10_001 }] }],
      }),
      'invalid_tranche_weights',
    );
  });

  it('rules are checked in order: share, cap, recipients, weights; tranche by tranche', () => {
    const everything = { shareBasisPoints: 0, cap: {}, recipients: [], name: 'x' };
    assert.equal(parseDistribution(withFirst(everything)), 'invalid_tranche_share');
    assert.equal(
      parseDistribution(withFirst({ ...everything, shareBasisPoints: 1 })),
      'invalid_tranche_cap',
    );
    assert.equal(
      parseDistribution(withFirst({ ...everything, shareBasisPoints: 1, cap: { amount: '1' } })),
      'invalid_tranche_recipients',
    );
    const badWeight = [{ kind: 'investors', weightBasisPoints: 1 }];
    assert.equal(
      parseDistribution(withFirst({ recipients: badWeight })),
      'invalid_tranche_weights',
    );
    // A later tranche's recipients are not checked before an earlier tranche's weights.
    assert.equal(
      parseDistribution({
        tranches: [
          { ...rest, shareBasisPoints: 1, recipients: badWeight },
          { ...rest, recipients: [] },
        ],
      }),
      'invalid_tranche_weights',
    );
    // Reachability comes after every tranche's own rules.
    assert.equal(
      parseDistribution({ tranches: [rest, { ...rest, shareBasisPoints: 0 }] }),
      'invalid_tranche_share',
    );
    assert.equal(
      parseDistribution({ tranches: [rest, { ...rest, cap: { amount: '1' } }] }),
      'unreachable_tranche',
    );
  });

  it('only the last tranche takes all that remains', () => {
    ok({ tranches: [{ ...rest, cap: { amount: '1' } }, rest] });
    ok({ tranches: [{ ...rest, shareBasisPoints: 9_999 }, rest] });
    assert.equal(parseDistribution({ tranches: [rest, rest] }), 'unreachable_tranche');
    assert.equal(
      parseDistribution({ tranches: [{ ...rest, shareBasisPoints: 1 }, rest, rest] }),
      'unreachable_tranche',
    );
    assert.equal(
      parseDistribution({ tranches: [{ ...rest, shareBasisPoints: 9_999 }] }),
      'distribution_leaves_remainder',
    );
    assert.equal(
      parseDistribution({ tranches: [{ ...rest, cap: { principalBasisPoints: 1_000_000 } }] }),
      'distribution_leaves_remainder',
    );
  });

  it('the parsed rule is a canonical copy: no cap key without a cap, fields in order', () => {
    const input = {
      tranches: [{ recipients: [investorsAll], shareBasisPoints: 10_000, name: 'rest' }],
    };
    const parsed = ok(input);
    assert.deepEqual(parsed, { tranches: [rest] });
    assert.deepEqual(Object.keys((parsed as { tranches: object[] }).tranches[0]!), [
      'name',
      'shareBasisPoints',
      'recipients',
    ]);
    assert.notEqual((parsed as { tranches: unknown[] }).tranches, input.tranches);
  });
});
