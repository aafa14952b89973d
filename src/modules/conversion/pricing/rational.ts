/*
 * Exact positive rationals for exchange rates: a bigint numerator over a bigint denominator, kept
 * reduced. Rates come in as decimal strings ("1.0842") and are never floats; amounts are turned
 * into other amounts only by `mulFloor` / `mulCeil`, whose names say which way they round.
 *
 * Nothing in src/ already held a rational (src/ledger/amount.ts parses minor units of an asset,
 * which is a different thing: a fixed number of decimals, no division), hence this file.
 */
import assert from 'node:assert/strict';

/** A rational number `num / den`, reduced, with `den > 0`. Rates are also `num > 0`. */
export interface Rational {
  readonly num: bigint;
  readonly den: bigint;
}

/** Why a decimal rate string was refused, in the order the parser checks. */
export const rateTextRefusals = {
  rate_not_text: 'A rate is a decimal string such as "1.0842".',
  rate_negative: 'A rate is positive: no sign.',
  rate_exponent: 'A rate is written in plain decimals, without an exponent ("1e3").',
  rate_not_decimal:
    'A rate is digits with at most one decimal point and digits on both sides of it ("0.9231").',
  rate_too_many_digits: 'A rate has at most 12 digits before the point and 12 after it.',
  rate_zero: 'A rate is greater than zero.',
} as const;

export type RateTextRefusal = keyof typeof rateTextRefusals;

/**
 * Digits a rate may carry on each side of its point. Twelve decimals is finer than any published
 * reference rate (the ECB publishes at most 4 or 5 significant decimals) and keeps every rate's
 * numerator and denominator under 10^24, so products over four hops stay small bigints.
 */
export const rateIntegerDigitsMax = 12;
export const rateFractionDigitsMax = 12;

/** Input length refused before any pattern runs: no regex ever sees a long string. */
const rateTextLengthMax = rateIntegerDigitsMax + rateFractionDigitsMax + 1;

export type RateTextResult =
  { ok: true; rate: Rational } | { ok: false; code: RateTextRefusal; message: string };

function refuseRate(code: RateTextRefusal): RateTextResult {
  return { ok: false, code, message: rateTextRefusals[code] };
}

/**
 * Parses a positive decimal rate exactly: `"1.0842"` is 5421/5000. Refuses a sign (`rate_negative`
 * for "-", also for "+": a rate is written bare), an exponent, anything that is not digits with
 * one optional point between digits (leading "." or trailing "." included), more than 12 digits on
 * either side of the point, leading zeros ("01.5") and zero itself.
 */
export function parseRate(text: unknown): RateTextResult {
  if (typeof text !== 'string') return refuseRate('rate_not_text');
  if (text.startsWith('-') || text.startsWith('+')) return refuseRate('rate_negative');
  if (/[eE]/.test(text)) return refuseRate('rate_exponent');
  if (text.length > rateTextLengthMax) return refuseRate('rate_too_many_digits');
  const match = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/.exec(text);
  if (!match) return refuseRate('rate_not_decimal');
  const whole = match[1]!;
  const fraction = match[2] ?? '';
  if (whole.length > rateIntegerDigitsMax || fraction.length > rateFractionDigitsMax) {
    return refuseRate('rate_too_many_digits');
  }
  const num = BigInt(whole + fraction);
  if (num === 0n) return refuseRate('rate_zero');
  return { ok: true, rate: rational(num, 10n ** BigInt(fraction.length)) };
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/** `num / den` reduced to lowest terms with a positive denominator. */
export function rational(num: bigint, den: bigint): Rational {
  assert.notEqual(den, 0n, 'a rational has a non-zero denominator');
  const sign = den < 0n ? -1n : 1n;
  const divisor = gcd(num, den);
  return { num: (sign * num) / divisor, den: (sign * den) / divisor };
}

export const one: Rational = { num: 1n, den: 1n };

/** The same rational in lowest terms (for a value built by hand). */
export function reduce(value: Rational): Rational {
  return rational(value.num, value.den);
}

export function multiply(a: Rational, b: Rational): Rational {
  return rational(a.num * b.num, a.den * b.den);
}

export function divide(a: Rational, b: Rational): Rational {
  assert.notEqual(b.num, 0n, 'division by a zero rational');
  return rational(a.num * b.den, a.den * b.num);
}

export function inverse(a: Rational): Rational {
  return divide(one, a);
}

/** -1, 0 or 1 as `a` is less than, equal to or greater than `b`. */
export function compare(a: Rational, b: Rational): -1 | 0 | 1 {
  const left = a.num * b.den;
  const right = b.num * a.den;
  return left < right ? -1 : left > right ? 1 : 0;
}

export function equals(a: Rational, b: Rational): boolean {
  return compare(a, b) === 0;
}

/** `floor(n / d)` for `d > 0` (bigint division truncates toward zero; this rounds down). */
export function divFloor(n: bigint, d: bigint): bigint {
  assert.ok(d > 0n, 'divFloor takes a positive divisor');
  const q = n / d;
  return n % d !== 0n && n < 0n ? q - 1n : q;
}

/** `ceil(n / d)` for `d > 0`. */
export function divCeil(n: bigint, d: bigint): bigint {
  assert.ok(d > 0n, 'divCeil takes a positive divisor');
  const q = n / d;
  return n % d !== 0n && n > 0n ? q + 1n : q;
}

/** `amount × rate` rounded down (`floor`): what a payer receives when the engine rounds. */
export function mulFloor(amount: bigint, rate: Rational): bigint {
  return divFloor(amount * rate.num, rate.den);
}

/** `amount × rate` rounded up (`ceil`): what the engine asks for when it rounds. */
export function mulCeil(amount: bigint, rate: Rational): bigint {
  return divCeil(amount * rate.num, rate.den);
}

/**
 * The rational as a decimal string with exactly `places` digits after the point, rounded down
 * (`floor`), e.g. `formatFloor(rational(2n, 3n), 4)` is `"0.6666"`. With `places` 0 there is no
 * point. Negative values are not formatted (rates are positive).
 */
export function formatFloor(value: Rational, places: number): string {
  assert.ok(Number.isInteger(places) && places >= 0 && places <= 36, 'places is 0 to 36');
  assert.ok(value.num >= 0n, 'formatFloor formats non-negative values');
  const scaled = divFloor(value.num * 10n ** BigInt(places), value.den);
  const digits = scaled.toString().padStart(places + 1, '0');
  if (places === 0) return digits;
  return `${digits.slice(0, digits.length - places)}.${digits.slice(digits.length - places)}`;
}

/** The exact decimal of a rate with a terminating expansion, as `parseRate` reads it back. */
export function formatExact(value: Rational): string | undefined {
  for (let places = 0; places <= 36; places++) {
    const scale = 10n ** BigInt(places);
    if ((value.num * scale) % value.den === 0n) {
      return formatFloor(value, places);
    }
  }
  return undefined;
}

/** `bps / 10000` as a rational (basis points). */
export function basisPoints(bps: number): Rational {
  assert.ok(Number.isInteger(bps), 'basis points are whole');
  return rational(BigInt(bps), 10000n);
}
