// The terms of the wire contract (schema-terms.ts), each bound at the bound and one past it:
// limits pinned to their values, amounts, ids, text, schedule points, and the builders' errors
// naming the field. parseDistribution's rules are in schema-distribution.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';

import { addressFromPublicKey, deriveAddress, keyPairFromSecret } from '../../crypto/index.js';
import { CryptoInputError } from '../../crypto/errors.js';
import {
  atHeight,
  atTime,
  basisPointsWhole,
  campaignEscrow,
  campaignIdOf,
  capPrincipalBasisPointsMax,
  checkCampaignId,
  distributionRuleSchema,
  crowdfundModuleName,
  isCampaignId,
  isPlainObject,
  isPositiveMinorUnits,
  isReportId,
  isText,
  minorUnitsMax,
  minorUnitsText,
  parseDistribution,
  recipientsPerTrancheMax,
  recoupWaterfall,
  schedulePointSchema,
  reportersMax,
  titleBytesMax,
  trancheNameBytesMax,
  tranchesMax,
  waterfall,
  whole,
  type WaterfallTranche,
} from './schema-terms.js';

const addressOf = (seed: number) =>
  addressFromPublicKey(keyPairFromSecret(new Uint8Array(32).fill(seed)).publicKey);
const a1 = addressOf(40);

/** A CryptoInputError naming `field`, with `message` when given. */
const inputError = (field: string, message?: string) => (e: unknown) => {
  assert.ok(e instanceof CryptoInputError, String(e));
  assert.equal(e.field, field);
  assert.equal(e.code, 'invalid_input');
  if (message !== undefined) assert.equal(e.message, message);
  return true;
};

describe('limits, pinned to their values', () => {
  it('each limit of a payload', () => {
    assert.equal(crowdfundModuleName, 'crowdfund');
    assert.equal(reportersMax, 10);
    assert.equal(tranchesMax, 8);
    assert.equal(recipientsPerTrancheMax, 8);
    assert.equal(titleBytesMax, 120);
    assert.equal(trancheNameBytesMax, 40);
    assert.equal(capPrincipalBasisPointsMax, 1_000_000);
    assert.equal(basisPointsWhole, 10_000);
    assert.equal(minorUnitsMax, 2n ** 127n - 1n);
  });
});

describe('amounts, ids and text', () => {
  it('a positive amount: 1 to 2^127 - 1 in canonical decimal, and nothing else', () => {
    for (const ok of ['1', '7450', minorUnitsMax.toString(), '9'.repeat(38)]) {
      assert.equal(isPositiveMinorUnits(ok), true, ok);
    }
    const bad = [
      '0',
      '01',
      '-1',
      '+1',
      ' 1',
      '1 ',
      '1.0',
      '',
      'x1',
      '1x',
      (minorUnitsMax + 1n).toString(),
    ];
    for (const v of [...bad, '1'.repeat(40), 1, 1n, null]) {
      assert.equal(isPositiveMinorUnits(v), false, String(v));
    }
  });

  it('minorUnitsText: a bigint or a string to its decimal; refusals name the field', () => {
    assert.equal(minorUnitsText(7450n), '7450');
    assert.equal(minorUnitsText('12'), '12');
    assert.equal(minorUnitsText(minorUnitsMax), minorUnitsMax.toString());
    const message =
      'amount must be a positive whole number of minor units up to 2^127 - 1, as a bigint or a decimal string such as "7450"';
    assert.throws(() => minorUnitsText(0n), inputError('amount', message));
    assert.throws(() => minorUnitsText(minorUnitsMax + 1n), inputError('amount'));
    assert.throws(() => minorUnitsText('-5', 'target'), inputError('target'));
    // A number is neither: refused, not written as its decimal.
    assert.throws(() => minorUnitsText(7450 as unknown as bigint), inputError('amount'));
  });

  it('a campaign id is exactly 16 lowercase hex digits', () => {
    assert.equal(isCampaignId('0123456789abcdef'), true);
    for (const v of [
      '0123456789abcde',
      '0123456789abcdef0',
      '0123456789ABCDEF',
      'x0123456789abcdef',
      '0123456789abcdeg',
      1,
    ]) {
      assert.equal(isCampaignId(v), false, String(v));
    }
    assert.equal(checkCampaignId('00000000000000ff'), '00000000000000ff');
    assert.throws(
      () => checkCampaignId('ff'),
      inputError('campaignId', 'campaignId must be 16 lowercase hex digits'),
    );
    assert.throws(
      () => checkCampaignId(null, 'id'),
      inputError('id', 'id must be 16 lowercase hex digits'),
    );
  });

  it('a report id is 1 to 64 of A-Z a-z 0-9 - _', () => {
    for (const ok of ['a', 'Q3-2026_b', 'Z9', 'x'.repeat(64)])
      assert.equal(isReportId(ok), true, ok);
    for (const v of ['', 'x'.repeat(65), 'a.b', 'a b', ' a', 'a/', 7]) {
      assert.equal(isReportId(v), false, String(v));
    }
  });

  it("the campaign id is the create tx hash's first 16 digits; the escrow derived from it", () => {
    const hash = '0123456789abcdef'.repeat(4);
    assert.equal(campaignIdOf(hash), '0123456789abcdef');
    const message = 'createTxHash must be 64 lowercase hex digits';
    for (const bad of [hash.slice(1), `${hash}0`, hash.toUpperCase(), `${hash.slice(1)}g`, 5]) {
      assert.throws(() => campaignIdOf(bad as string), inputError('createTxHash', message));
    }
    // An array whose text is a hash is not a hash (a lenient check would return the array).
    assert.throws(() => campaignIdOf([hash] as unknown as string), inputError('createTxHash'));
    assert.equal(
      campaignEscrow('0123456789abcdef'),
      deriveAddress('escrow/crowdfund', '0123456789abcdef'),
    );
    assert.throws(() => campaignEscrow('nope'), inputError('campaignId'));
  });

  it('text: 1 to N UTF-8 bytes, not blank, no control characters', () => {
    assert.equal(isText('a', 1), true);
    assert.equal(isText('é'.repeat(20), 40), true);
    assert.equal(isText('é'.repeat(20) + 'a', 40), false);
    assert.equal(isText(' a ', 3), true);
    assert.equal(isText(' a ', 2), false);
    for (const v of ['', ' ', '\t', 'a\u0000', 'a\u001f', 'a\u007f', '\u0000']) {
      assert.equal(isText(v, 40), false, JSON.stringify(v));
    }
    assert.equal(isText('a\u0020\u0080b', 40), true);
    assert.equal(isText(1, 40), false);
  });
});

describe('schedule points', () => {
  it('atHeight: a whole number from 1', () => {
    assert.deepEqual(atHeight(1), { height: 1 });
    assert.deepEqual(atHeight(Number.MAX_SAFE_INTEGER), { height: Number.MAX_SAFE_INTEGER });
    for (const bad of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1, NaN]) {
      assert.throws(
        () => atHeight(bad),
        inputError('height', 'height must be a whole number from 1'),
      );
    }
  });

  it('atTime: a Date or whole Unix milliseconds from 0', () => {
    assert.deepEqual(atTime(0), { time: 0 });
    assert.deepEqual(atTime(new Date(1_700_000_000_123)), { time: 1_700_000_000_123 });
    const message = 'time must be a valid Date or whole Unix milliseconds';
    for (const bad of [-1, 0.5, new Date(Number.NaN)]) {
      assert.throws(() => atTime(bad), inputError('time', message));
    }
  });
});

const investorsAll = { kind: 'investors', weightBasisPoints: 10_000 };
const rest = { name: 'rest', shareBasisPoints: 10_000, recipients: [investorsAll] };

describe('the builders name the bad field', () => {
  const tranche = (t: Record<string, unknown>) =>
    [{ ...rest, ...t }] as unknown as WaterfallTranche[];

  it('waterfall copies a rule as data, checking its form only', () => {
    const t = {
      name: 'fee',
      shareBasisPoints: 1,
      cap: { amount: 5n as unknown as string },
      recipients: [{ kind: 'account' as const, address: a1, weightBasisPoints: 10_000 }],
    };
    assert.deepEqual(waterfall([t, rest as WaterfallTranche]), {
      tranches: [{ ...t, cap: { amount: '5' } }, rest],
    });
    assert.deepEqual(
      waterfall(tranche({ cap: { principalBasisPoints: 1_000_000 } })).tranches[0]!.cap,
      { principalBasisPoints: 1_000_000 },
    );
    assert.equal('cap' in waterfall(tranche({})).tranches[0]!, false);
    assert.throws(
      () => waterfall([]),
      inputError('tranches', 'tranches must be a non-empty array'),
    );
    assert.throws(() => waterfall({} as WaterfallTranche[]), inputError('tranches'));
    assert.throws(
      () => waterfall([null as unknown as WaterfallTranche]),
      inputError('tranches[0].name', 'tranches[0] must be a tranche with a name'),
    );
    assert.throws(() => waterfall(tranche({ name: 5 })), inputError('tranches[0].name'));
    // A function has a string `name` but is no tranche.
    const { name: _name, ...fields } = rest;
    const named = Object.assign(function rest() {}, fields) as unknown as WaterfallTranche;
    assert.throws(() => waterfall([named]), inputError('tranches[0].name'));
    const split = [
      { kind: 'investors' as const, weightBasisPoints: 4_000 },
      { kind: 'producer' as const, weightBasisPoints: 6_000 },
    ];
    assert.deepEqual(waterfall(tranche({ recipients: split })).tranches[0]!.recipients, split);
    assert.throws(
      () => waterfall(tranche({ shareBasisPoints: 0 })),
      inputError(
        'tranches[0].shareBasisPoints',
        'tranches[0].shareBasisPoints must be a whole number of basis points from 1 to 10000',
      ),
    );
    assert.throws(
      () => waterfall(tranche({ shareBasisPoints: 10_001 })),
      inputError('tranches[0].shareBasisPoints'),
    );
    assert.throws(
      () => waterfall(tranche({ recipients: 'x' })),
      inputError('tranches[0].recipients', 'tranches[0].recipients must be an array'),
    );
    assert.throws(
      () => waterfall(tranche({ recipients: [{ kind: 'investors', weightBasisPoints: 0 }] })),
      inputError('tranches[0].recipients[0].weightBasisPoints'),
    );
    assert.throws(
      () =>
        waterfall(
          tranche({ recipients: [{ kind: 'account', address: 'x', weightBasisPoints: 1 }] }),
        ),
      inputError(
        'tranches[0].recipients[0].address',
        'an account recipient needs a Coffer address',
      ),
    );
    assert.throws(
      () => waterfall(tranche({ recipients: [{ kind: 'studio', weightBasisPoints: 1 }] })),
      inputError(
        'tranches[0].recipients[0].kind',
        'a recipient kind is investors, producer or account',
      ),
    );
    assert.throws(
      () => waterfall(tranche({ cap: { amount: '0' } })),
      inputError('tranches[0].cap.amount'),
    );
    assert.throws(
      () => waterfall(tranche({ cap: { principalBasisPoints: 1_000_001 } })),
      inputError(
        'tranches[0].cap.principalBasisPoints',
        'tranches[0].cap.principalBasisPoints must be a whole number of basis points from 1 to 1000000',
      ),
    );
    assert.throws(
      () => waterfall([rest as WaterfallTranche, ...tranche({ shareBasisPoints: 0.5 })]),
      inputError('tranches[1].shareBasisPoints'),
    );
  });

  it("recoupWaterfall: the issue's example, and each term at its bounds", () => {
    assert.deepEqual(
      recoupWaterfall({
        distributionFee: { basisPoints: 3_000, to: a1 },
        premiumBasisPoints: 2_000,
        investorsShareBasisPoints: 5_000,
      }),
      {
        tranches: [
          {
            name: 'distribution fee',
            shareBasisPoints: 3_000,
            recipients: [{ kind: 'account', address: a1, weightBasisPoints: 10_000 }],
          },
          {
            name: 'recoup',
            shareBasisPoints: 10_000,
            cap: { principalBasisPoints: 10_000 },
            recipients: [investorsAll],
          },
          {
            name: 'premium',
            shareBasisPoints: 10_000,
            cap: { principalBasisPoints: 2_000 },
            recipients: [investorsAll],
          },
          {
            name: 'profit',
            shareBasisPoints: 10_000,
            recipients: [
              { kind: 'investors', weightBasisPoints: 5_000 },
              { kind: 'producer', weightBasisPoints: 5_000 },
            ],
          },
        ],
      },
    );
    assert.deepEqual(recoupWaterfall({ recoupBasisPoints: 1, investorsShareBasisPoints: 0 }), {
      tranches: [
        {
          name: 'recoup',
          shareBasisPoints: 10_000,
          cap: { principalBasisPoints: 1 },
          recipients: [investorsAll],
        },
        {
          name: 'profit',
          shareBasisPoints: 10_000,
          recipients: [{ kind: 'producer', weightBasisPoints: 10_000 }],
        },
      ],
    });
    const onlyInvestors = recoupWaterfall({
      recoupBasisPoints: 1_000_000,
      premiumBasisPoints: 1_000_000,
      investorsShareBasisPoints: 10_000,
    });
    assert.deepEqual(
      onlyInvestors.tranches.map((t) => [t.name, t.cap, t.recipients]),
      [
        ['recoup', { principalBasisPoints: 1_000_000 }, [investorsAll]],
        ['premium', { principalBasisPoints: 1_000_000 }, [investorsAll]],
        ['profit', undefined, [investorsAll]],
      ],
    );
    assert.equal(
      recoupWaterfall({
        distributionFee: { basisPoints: 9_999, to: a1 },
        investorsShareBasisPoints: 1,
      }).tranches[0]!.shareBasisPoints,
      9_999,
    );
    assert.equal(
      recoupWaterfall({ distributionFee: { basisPoints: 1, to: a1 }, investorsShareBasisPoints: 1 })
        .tranches[0]!.shareBasisPoints,
      1,
    );
    const refusals: [Parameters<typeof recoupWaterfall>[0], string, string?][] = [
      [
        { distributionFee: { basisPoints: 10_000, to: a1 }, investorsShareBasisPoints: 1 },
        'distributionFee.basisPoints',
        'distributionFee.basisPoints must be a whole number of basis points from 1 to 9999',
      ],
      [
        { distributionFee: { basisPoints: 0, to: a1 }, investorsShareBasisPoints: 1 },
        'distributionFee.basisPoints',
      ],
      [
        { distributionFee: { basisPoints: 1, to: 'x' }, investorsShareBasisPoints: 1 },
        'distributionFee.to',
        'distributionFee.to must be a Coffer address',
      ],
      [
        { recoupBasisPoints: 0, investorsShareBasisPoints: 1 },
        'recoupBasisPoints',
        'recoupBasisPoints must be a whole number of basis points from 1 to 1000000',
      ],
      [{ recoupBasisPoints: 1_000_001, investorsShareBasisPoints: 1 }, 'recoupBasisPoints'],
      [
        { premiumBasisPoints: -1, investorsShareBasisPoints: 1 },
        'premiumBasisPoints',
        'premiumBasisPoints must be a whole number of basis points from 0 to 1000000',
      ],
      [{ premiumBasisPoints: 1_000_001, investorsShareBasisPoints: 1 }, 'premiumBasisPoints'],
      [
        { investorsShareBasisPoints: -1 },
        'investorsShareBasisPoints',
        'investorsShareBasisPoints must be a whole number of basis points from 0 to 10000',
      ],
      [{ investorsShareBasisPoints: 10_001 }, 'investorsShareBasisPoints'],
      [{ investorsShareBasisPoints: 0.5 }, 'investorsShareBasisPoints'],
    ];
    for (const [terms, field, message] of refusals) {
      assert.throws(() => recoupWaterfall(terms), inputError(field, message), field);
    }
    // What it builds is a rule parseDistribution accepts.
    assert.equal(typeof parseDistribution(onlyInvestors), 'object');
  });
});

describe('the record schemas (query answers, the OpenAPI document) keep the same bounds', () => {
  it('whole(min, max): integers from min to max', () => {
    const schema = whole(1, 10);
    for (const ok of [1, 10]) assert.equal(schema.safeParse(ok).success, true, String(ok));
    for (const bad of [0, 11, 1.5]) assert.equal(schema.safeParse(bad).success, false, String(bad));
    assert.equal(whole(0).safeParse(Number.MAX_SAFE_INTEGER).success, true);
  });

  it('a distribution rule: 1 to 8 tranches, 1 to 8 recipients in each', () => {
    const tranche = (recipients: number) => ({
      name: 'rest',
      shareBasisPoints: 10_000,
      recipients: Array.from({ length: recipients }, () => investorsAll),
    });
    const rule = (tranches: number, recipients = 1) => ({
      tranches: Array.from({ length: tranches }, () => tranche(recipients)),
    });
    const accepts = (v: unknown) => distributionRuleSchema.safeParse(v).success;
    assert.equal(accepts(rule(1)), true);
    assert.equal(accepts(rule(tranchesMax)), true);
    assert.equal(accepts(rule(tranchesMax + 1)), false);
    assert.equal(accepts(rule(0)), false);
    assert.equal(accepts(rule(1, recipientsPerTrancheMax)), true);
    assert.equal(accepts(rule(1, recipientsPerTrancheMax + 1)), false);
    assert.equal(accepts(rule(1, 0)), false);
  });

  it('a schedule point is described for the OpenAPI document', () => {
    assert.equal(
      z.toJSONSchema(schedulePointSchema).description,
      '{height} (a block height from 1) or {time} (Unix ms, block time)',
    );
  });

  it('isPlainObject: an object that is not null or an array', () => {
    assert.equal(isPlainObject({}), true);
    for (const v of ['abc', '', 5, null, undefined, [], true]) {
      assert.equal(isPlainObject(v), false, String(v));
    }
  });
});
