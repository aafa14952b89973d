import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  paymentRatePerMs,
  replenishmentCount,
  type ReplenishmentInput,
} from './device-forecast.js';

const hourMs = 3_600_000;
const dayMs = 24 * hourMs;
const now = 1_800_000_000_000;

function input(partial: Partial<ReplenishmentInput>): ReplenishmentInput {
  return {
    unconsumed: 0,
    threshold: 3,
    tokensMax: 10,
    paymentTimes: [],
    now,
    leadTimeMs: 2 * dayMs,
    halfLifeMs: 7 * dayMs,
    ...partial,
  };
}

/** Random inputs: histories of up to 200 payments over the last 60 days (and a few in the future). */
const inputs = fc.record({
  unconsumed: fc.integer({ min: 0, max: 120 }),
  threshold: fc.integer({ min: 0, max: 100 }),
  tokensMax: fc.integer({ min: 1, max: 100 }),
  paymentTimes: fc.array(fc.integer({ min: now - 60 * dayMs, max: now + hourMs }), {
    maxLength: 200,
  }),
  now: fc.constant(now),
  leadTimeMs: fc.integer({ min: 0, max: 30 * dayMs }),
  halfLifeMs: fc.integer({ min: 1, max: 60 * dayMs }),
});

describe('paymentRatePerMs', () => {
  it('is ln 2 / H for one payment now, and halves for one a half-life ago', () => {
    const h = 7 * dayMs;
    assert.equal(paymentRatePerMs([now], now, h), Math.LN2 / h);
    assert.ok(Math.abs(paymentRatePerMs([now - h], now, h) - Math.LN2 / h / 2) < 1e-20);
    assert.equal(paymentRatePerMs([], now, h), 0);
  });

  it('estimates a steady rate: one payment an hour for 60 days gives about one an hour', () => {
    const times = Array.from({ length: 60 * 24 }, (_, i) => now - i * hourMs);
    const perHour = paymentRatePerMs(times, now, 7 * dayMs) * hourMs;
    assert.ok(perHour > 0.99 && perHour < 1.01, `rate ${perHour} per hour`);
  });
});

describe('replenishmentCount', () => {
  it('asks for the forecast and a spare: one payment an hour, two days ahead', () => {
    // The last 200 payments (what the element keeps), one an hour, half-life 168 hours:
    // Σ 2^(-i/168) for i < 200 = (1 - 2^(-200/168)) / (1 - 2^(-1/168)) ≈ 136.5, so the rate is
    // 136.5 × ln 2 / 168 ≈ 0.563 an hour (the payments older than 200 hours are not kept), and
    // need = ceil(0.563 × 48) = 28.
    const times = Array.from({ length: 200 }, (_, i) => now - i * hourMs);
    const sum = (1 - 2 ** (-200 / 168)) / (1 - 2 ** (-1 / 168));
    const need = Math.ceil(((sum * Math.LN2) / 168) * 48);
    assert.equal(need, 28);
    assert.equal(replenishmentCount(input({ paymentTimes: times, tokensMax: 100 })), need + 1);
    assert.equal(
      replenishmentCount(input({ paymentTimes: times, tokensMax: 100, unconsumed: 20 })),
      need + 1 - 20,
    );
    // Capped at the issuer's limit.
    assert.equal(replenishmentCount(input({ paymentTimes: times, tokensMax: 10 })), 10);
  });

  it('tops up to the threshold with no history, and asks for none at the threshold', () => {
    assert.equal(replenishmentCount(input({ unconsumed: 0 })), 3);
    assert.equal(replenishmentCount(input({ unconsumed: 2 })), 1);
    assert.equal(replenishmentCount(input({ unconsumed: 3 })), 0);
    assert.equal(replenishmentCount(input({ unconsumed: 0, threshold: 0 })), 0);
  });

  it('asks for none when it holds the threshold and the forecast need', () => {
    // One payment now, lead time one half-life: need = ceil(ln 2) = 1.
    const one = input({ paymentTimes: [now], leadTimeMs: 7 * dayMs, threshold: 1 });
    assert.equal(replenishmentCount({ ...one, unconsumed: 1 }), 0);
    // Below the threshold it tops up to max(threshold, need + 1) = 2.
    assert.equal(replenishmentCount({ ...one, unconsumed: 0 }), 2);
  });

  it('refuses inputs out of range, naming the field', () => {
    const cases: [Partial<ReplenishmentInput>, string][] = [
      [{ unconsumed: -1 }, 'unconsumed'],
      [{ unconsumed: 1.5 }, 'unconsumed'],
      [{ threshold: 101 }, 'threshold'],
      [{ tokensMax: 0 }, 'tokensMax'],
      [{ tokensMax: 101 }, 'tokensMax'],
      [{ leadTimeMs: -1 }, 'leadTimeMs'],
      [{ halfLifeMs: 0 }, 'halfLifeMs'],
      [{ paymentTimes: [Number.NaN] }, 'paymentTimes'],
    ];
    for (const [partial, field] of cases) {
      assert.throws(
        () => replenishmentCount(input(partial)),
        (error: unknown) => error instanceof RangeError && error.message.startsWith(`${field} `),
        field,
      );
    }
  });

  it('is a whole number from 0 to tokensMax - unconsumed (never negative, never over the limit)', () => {
    fc.assert(
      fc.property(inputs, (given) => {
        const count = replenishmentCount(given);
        assert.ok(Number.isSafeInteger(count));
        assert.ok(count >= 0);
        assert.ok(count <= Math.max(0, given.tokensMax - given.unconsumed));
      }),
      { numRuns: 500 },
    );
  });

  it('never asks for fewer with one more payment in the history', () => {
    fc.assert(
      fc.property(inputs, fc.integer({ min: now - 60 * dayMs, max: now }), (given, extra) => {
        const more = { ...given, paymentTimes: [...given.paymentTimes, extra] };
        assert.ok(replenishmentCount(more) >= replenishmentCount(given));
      }),
      { numRuns: 500 },
    );
  });

  it('never asks for fewer when a payment is moved later (more recent)', () => {
    fc.assert(
      fc.property(
        inputs.filter((given) => given.paymentTimes.length > 0),
        fc.nat(),
        fc.nat({ max: 60 * dayMs }),
        (given, pick, shift) => {
          const index = pick % given.paymentTimes.length;
          const moved = [...given.paymentTimes];
          moved[index] = Math.min(now, moved[index]! + shift);
          const before = replenishmentCount(given);
          const after = replenishmentCount({ ...given, paymentTimes: moved });
          // A time already in the future counts as now; moving it "later" changes nothing.
          if (given.paymentTimes[index]! <= now) assert.ok(after >= before);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never asks for fewer when the device holds fewer', () => {
    fc.assert(
      fc.property(
        inputs.filter((given) => given.unconsumed > 0),
        (given) => {
          const fewer = replenishmentCount({ ...given, unconsumed: given.unconsumed - 1 });
          assert.ok(fewer >= replenishmentCount(given));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('with no history and at least the threshold held, asks for none', () => {
    fc.assert(
      fc.property(inputs, (given) => {
        const unconsumed = Math.max(given.unconsumed, given.threshold);
        assert.equal(replenishmentCount({ ...given, paymentTimes: [], unconsumed }), 0);
      }),
      { numRuns: 500 },
    );
  });
});
