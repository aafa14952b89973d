import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { amountMax, decimalsMax, formatUnits, parsePositiveAmount, parseUnits } from './amount.js';

/** 2^127 - 1 written out: the tests pin the value rather than import it. */
const amountMaxText = '170141183460469231731687303715884105727';

describe('amount constants', () => {
  it('amountMax is 2^127 - 1 and decimalsMax is 18', () => {
    assert.equal(amountMax, 170141183460469231731687303715884105727n);
    assert.equal(amountMax.toString(), amountMaxText);
    assert.equal(decimalsMax, 18);
  });
});

describe('parsePositiveAmount', () => {
  const cases: [string, unknown, bigint | undefined][] = [
    ['one', '1', 1n],
    ['a many-digit amount', '7450', 7450n],
    ['zero: not positive', '0', undefined],
    ['the maximum', amountMaxText, amountMax],
    ['one past the maximum (39 digits)', '170141183460469231731687303715884105728', undefined],
    ['the largest 39-digit number', '9'.repeat(39), undefined],
    ['40 digits', `1${'0'.repeat(39)}`, undefined],
    ['a leading zero', '01', undefined],
    ['a leading zero before a valid amount', '0100', undefined],
    ['a negative sign', '-1', undefined],
    ['a plus sign', '+1', undefined],
    ['text before the digits', 'x1', undefined],
    ['text after the digits', '1x', undefined],
    ['a space before', ' 1', undefined],
    ['a space after', '1 ', undefined],
    ['a newline after', '1\n', undefined],
    ['a decimal point', '1.5', undefined],
    ['an exponent', '1e3', undefined],
    ['hex', '0x10', undefined],
    ['the empty string', '', undefined],
    ['a number, not a string', 1, undefined],
    ['a bigint, not a string', 1n, undefined],
    ['undefined', undefined, undefined],
    ['null', null, undefined],
  ];
  for (const [name, value, expected] of cases) {
    it(`${name}: ${expected === undefined ? 'refused' : String(expected)}`, () => {
      assert.equal(parsePositiveAmount(value), expected);
    });
  }

  it('reads back every amount from 1 to the maximum written as decimal text', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: amountMax }), (amount) => {
        assert.equal(parsePositiveAmount(amount.toString()), amount);
      }),
    );
  });
});

describe('formatUnits', () => {
  const cases: [bigint, number, string][] = [
    [7450n, 2, '74.50'],
    [5n, 2, '0.05'],
    [0n, 2, '0.00'],
    [100n, 2, '1.00'],
    [7450n, 0, '7450'],
    [0n, 0, '0'],
    [-7450n, 2, '-74.50'],
    [-5n, 2, '-0.05'],
    [-7450n, 0, '-7450'],
    [1n, 18, '0.000000000000000001'],
    [amountMax, 0, amountMaxText],
    [amountMax, 18, '170141183460469231731.687303715884105727'],
  ];
  for (const [amount, decimals, expected] of cases) {
    it(`formatUnits(${amount}n, ${decimals}) is ${expected}`, () => {
      assert.equal(formatUnits(amount, decimals), expected);
    });
  }
});

describe('parseUnits', () => {
  const cases: [string, number, bigint | undefined][] = [
    ['74.5', 2, 7450n],
    ['74.50', 2, 7450n],
    ['74', 2, 7400n],
    ['0.05', 2, 5n],
    ['0', 2, 0n],
    ['7450', 0, 7450n],
    // More fraction digits than the asset has is refused, never truncated or rounded.
    ['74.505', 2, undefined],
    ['74.500', 2, undefined],
    ['0.1', 0, undefined],
    ['74.5', 0, undefined],
    // Surrounding white space is trimmed.
    [' 74.5', 2, 7450n],
    ['74.5 ', 2, 7450n],
    ['\t74.5\n', 2, 7450n],
    // The whole text must be the number.
    ['x74.5', 2, undefined],
    ['74.5x', 2, undefined],
    ['74.5.1', 2, undefined],
    ['7 4', 2, undefined],
    ['74.', 2, undefined],
    ['.5', 2, undefined],
    ['74,5', 2, undefined],
    ['-74.5', 2, undefined],
    ['+74.5', 2, undefined],
    ['1e3', 0, undefined],
    ['', 2, undefined],
    ['   ', 2, undefined],
    // At most 39 whole digits, even when leading zeros keep the value small.
    [`${'0'.repeat(38)}1`, 0, 1n],
    [`${'0'.repeat(39)}1`, 0, undefined],
    // The upper bound: the maximum, and one unit past it.
    [amountMaxText, 0, amountMax],
    ['170141183460469231731687303715884105728', 0, undefined],
    ['170141183460469231731.687303715884105727', 18, amountMax],
    ['170141183460469231731.687303715884105728', 18, undefined],
  ];
  for (const [text, decimals, expected] of cases) {
    it(`parseUnits(${JSON.stringify(text)}, ${decimals}) is ${expected === undefined ? 'refused' : String(expected)}`, () => {
      assert.equal(parseUnits(text, decimals), expected);
    });
  }

  it('parseUnits(formatUnits(x, d), d) is x for every amount and decimals', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: amountMax }),
        fc.integer({ min: 0, max: decimalsMax }),
        (amount, decimals) => {
          assert.equal(parseUnits(formatUnits(amount, decimals), decimals), amount);
        },
      ),
    );
  });
});
