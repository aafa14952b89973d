import { cardTokensMaxLimit } from './schema.js';

/*
 * How many card tokens a device asks for when it replenishes (issue 18): enough to cover the
 * payments it expects before the next chance to replenish, never fewer than a floor, never more
 * than the issuer lets one device hold. Pure: time comes in as `now`.
 */

/** The half-life of a past payment's weight in the rate, by default: a week. */
export const paymentHalfLifeMsDefault = 7 * 24 * 3_600_000;
/** How far ahead the device provisions, by default: two days without a connection. */
export const leadTimeMsDefault = 2 * 24 * 3_600_000;
/** The fewest unconsumed tokens the device keeps, by default. */
export const tokenThresholdDefault = 3;
/** A lead time or half-life of more than a year is a mistake, not a plan. */
const durationMsMax = 366 * 24 * 3_600_000;

export interface ReplenishmentInput {
  /** Unconsumed, unexpired tokens the device holds. */
  unconsumed: number;
  /** The fewest it keeps whatever the forecast. */
  threshold: number;
  /** The issuer's limit of unconsumed tokens per device (the card's `tokensMax`). */
  tokensMax: number;
  /** Past payment times (ms); times after `now` count as `now`. */
  paymentTimes: readonly number[];
  now: number;
  /** The time the tokens asked for now must last (ms). */
  leadTimeMs: number;
  /** The time after which a past payment's weight halves (ms). */
  halfLifeMs: number;
}

function checkCount(value: number, field: string, max: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${field} must be a whole number from 0 to ${max}`);
  }
}

function checkDuration(value: number, field: string, min: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > durationMsMax) {
    throw new RangeError(`${field} must be a whole number of ms from ${min} to ${durationMsMax}`);
  }
}

/**
 * The payment rate in payments per ms, exponentially weighted:
 *
 *   rate = (ln 2 / H) × Σ_i 2^(-(now - t_i) / H)
 *
 * with H the half-life and t_i the payment times (a time after `now` taken as `now`, weight 1).
 * Each payment counts 1 now and half as much every H. The factor ln 2 / H makes it a rate: a
 * steady λ payments per ms for ever gives Σ ≈ λ × H / ln 2, so `rate` ≈ λ. The weights are summed
 * from the smallest up, so adding a payment or moving one later never lowers the float sum.
 */
export function paymentRatePerMs(
  paymentTimes: readonly number[],
  now: number,
  halfLifeMs: number,
): number {
  const weights = paymentTimes
    .map((t) => Math.pow(2, -Math.max(0, now - t) / halfLifeMs))
    .sort((a, b) => a - b);
  let sum = 0;
  for (const weight of weights) sum += weight;
  return (sum * Math.LN2) / halfLifeMs;
}

/**
 * The number of tokens to ask for, in [0, tokensMax - unconsumed] (0 when the device already
 * holds `tokensMax` or more):
 *
 *   need   = ceil(rate × leadTimeMs)            (the payments forecast before the next chance)
 *   count  = 0                                   when unconsumed >= threshold and >= need
 *   target = min(tokensMax, max(threshold, need + 1))   otherwise (one spare for the unexpected)
 *   count  = max(0, target - unconsumed)
 *
 * With no payment history `need` is 0, so a device holding `threshold` tokens asks for none.
 */
export function replenishmentCount(input: ReplenishmentInput): number {
  const { unconsumed, threshold, tokensMax, paymentTimes, now, leadTimeMs, halfLifeMs } = input;
  checkCount(tokensMax, 'tokensMax', cardTokensMaxLimit);
  if (tokensMax < 1) throw new RangeError(`tokensMax must be from 1 to ${cardTokensMaxLimit}`);
  checkCount(unconsumed, 'unconsumed', Number.MAX_SAFE_INTEGER);
  checkCount(threshold, 'threshold', cardTokensMaxLimit);
  checkDuration(leadTimeMs, 'leadTimeMs', 0);
  checkDuration(halfLifeMs, 'halfLifeMs', 1);
  if (!Number.isSafeInteger(now)) throw new RangeError('now must be a whole number of ms');
  if (!paymentTimes.every((t) => Number.isSafeInteger(t))) {
    throw new RangeError('paymentTimes must be whole numbers of ms');
  }
  const rate = paymentRatePerMs(paymentTimes, now, halfLifeMs);
  const need = Math.ceil(rate * leadTimeMs);
  if (unconsumed >= threshold && unconsumed >= need) return 0;
  const target = Math.min(tokensMax, Math.max(threshold, need + 1));
  return Math.max(0, target - unconsumed);
}
