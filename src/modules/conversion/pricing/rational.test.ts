import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { rateTextArbitrary } from './pricing-fixture.js';
import {
  compare,
  divCeil,
  divFloor,
  formatExact,
  formatFloor,
  inverse,
  mulCeil,
  mulFloor,
  multiply,
  parseRate,
  rational,
  reduce,
} from './rational.js';

describe('parseRate', () => {
  it('reads decimals exactly, reduced', () => {
    assert.deepEqual(parseRate('1.0842'), { ok: true, rate: { num: 5421n, den: 5000n } });
    assert.deepEqual(parseRate('161.85'), { ok: true, rate: { num: 3237n, den: 20n } });
    assert.deepEqual(parseRate('2'), { ok: true, rate: { num: 2n, den: 1n } });
    assert.deepEqual(parseRate('0.000000000001'), {
      ok: true,
      rate: { num: 1n, den: 10n ** 12n },
    });
    const widest = parseRate('999999999999.999999999999');
    assert.ok(widest.ok);
    assert.deepEqual(widest.rate, { num: 10n ** 24n - 1n, den: 10n ** 12n });
  });

  // Refusals in the order the parser checks them.
  const refusals: [unknown, string][] = [
    [1.5, 'rate_not_text'],
    [undefined, 'rate_not_text'],
    ['-1.5', 'rate_negative'],
    ['+1.5', 'rate_negative'],
    ['-0', 'rate_negative'],
    ['1e3', 'rate_exponent'],
    ['1.5E-2', 'rate_exponent'],
    ['1234567890123.5', 'rate_too_many_digits'],
    ['1.0000000000001', 'rate_too_many_digits'],
    ['1'.repeat(26), 'rate_too_many_digits'],
    ['', 'rate_not_decimal'],
    ['.5', 'rate_not_decimal'],
    ['5.', 'rate_not_decimal'],
    ['01.5', 'rate_not_decimal'],
    ['1,5', 'rate_not_decimal'],
    [' 1.5', 'rate_not_decimal'],
    ['1.5 ', 'rate_not_decimal'],
    ['0x10', 'rate_not_decimal'],
    ['Infinity', 'rate_not_decimal'],
    ['NaN', 'rate_not_decimal'],
    ['1.2.3', 'rate_not_decimal'],
    ['١٢', 'rate_not_decimal'],
    ['0', 'rate_zero'],
    ['0.000000000000', 'rate_zero'],
  ];
  for (const [text, code] of refusals) {
    it(`refuses ${JSON.stringify(text)} with ${code}`, () => {
      const result = parseRate(text);
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.code, code);
    });
  }

  it('reads back what formatExact writes (property)', () => {
    fc.assert(
      fc.property(rateTextArbitrary, (text) => {
        const parsed = parseRate(text);
        assert.ok(parsed.ok, text);
        const again = parseRate(formatExact(parsed.rate)!);
        assert.ok(again.ok);
        assert.deepEqual(again.rate, parsed.rate);
      }),
    );
  });
});

describe('rational arithmetic', () => {
  it('reduces and keeps the denominator positive', () => {
    assert.deepEqual(rational(6n, -4n), { num: -3n, den: 2n });
    assert.deepEqual(reduce({ num: 10n, den: 100n }), { num: 1n, den: 10n });
    assert.deepEqual(multiply(rational(2n, 3n), rational(9n, 4n)), { num: 3n, den: 2n });
    assert.deepEqual(inverse(rational(5421n, 5000n)), { num: 5000n, den: 5421n });
    assert.throws(() => rational(1n, 0n));
  });

  it('compares exactly', () => {
    assert.equal(compare(rational(1n, 3n), rational(333n, 1000n)), 1);
    assert.equal(compare(rational(2n, 6n), rational(1n, 3n)), 0);
    assert.equal(compare(rational(1n, 3n), rational(334n, 1000n)), -1);
  });

  it('rounds divisions by name', () => {
    assert.equal(divFloor(7n, 2n), 3n);
    assert.equal(divCeil(7n, 2n), 4n);
    assert.equal(divFloor(-7n, 2n), -4n);
    assert.equal(divCeil(-7n, 2n), -3n);
    assert.equal(divCeil(8n, 2n), 4n);
    assert.equal(mulFloor(1000n, rational(5421n, 5000n)), 1084n);
    assert.equal(mulCeil(1000n, rational(5421n, 5000n)), 1085n);
  });

  it('formats rounded down to a fixed number of places', () => {
    assert.equal(formatFloor(rational(2n, 3n), 4), '0.6666');
    assert.equal(formatFloor(rational(5421n, 5000n), 2), '1.08');
    assert.equal(formatFloor(rational(5421n, 5000n), 6), '1.084200');
    assert.equal(formatFloor(rational(7n, 2n), 0), '3');
    assert.equal(formatExact(rational(1n, 3n)), undefined);
  });

  it('floor <= exact <= ceil, at most one apart (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 30n }),
        fc.bigInt({ min: 1n, max: 10n ** 24n }),
        fc.bigInt({ min: 1n, max: 10n ** 24n }),
        (amount, num, den) => {
          const rate = rational(num, den);
          const low = mulFloor(amount, rate);
          const high = mulCeil(amount, rate);
          assert.ok(low * rate.den <= amount * rate.num);
          assert.ok(high * rate.den >= amount * rate.num);
          assert.ok(high - low <= 1n);
          assert.equal(high === low, (amount * rate.num) % rate.den === 0n);
        },
      ),
    );
  });
});
