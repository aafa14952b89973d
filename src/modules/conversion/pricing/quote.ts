/*
 * Pricing a route exactly. Each hop converts minor units of its input asset into minor units of
 * its output asset at
 *
 *   rate     = mid × (10000 − spreadBps) / 10000                    (whole units per whole unit)
 *   gross    = floor(amountIn × rate × 10^toDecimals / 10^fromDecimals)
 *   fee      = ceil(gross × feeBps / 10000) + feeFixed               (minor units of the output)
 *   amountOut = gross − fee                                          (so amountOut + fee = gross)
 *
 * Rounding is named and always favours the engine:
 * - `floor_out` (a fixed input, `{from}`): every hop's output rounds down.
 * - `ceil_in` (a wanted output, `{to}`): working backwards, every hop's input rounds up to the
 *   least input whose output reaches the next hop's need; the quote is then recomputed forwards
 *   from that input with `floor_out`, so every figure in it is a forward figure and amountOut is
 *   at least what was wanted (it may exceed it by the rounding of the last steps). Each hop's
 *   output is non-decreasing in its input, so the backward input is the least input that delivers
 *   the wanted output: one minor unit less delivers less.
 */
import assert from 'node:assert/strict';
import { amountMax } from '../../../ledger/amount.js';
import { checkGraph, nodeKey, sameNode, type AssetInfo, type Route } from './graph.js';
import {
  compare,
  divCeil,
  formatFloor,
  multiply,
  mulFloor,
  one,
  rational,
  type Rational,
} from './rational.js';
import {
  ratesAgeRefusal,
  midRate,
  type AssetNode,
  type CurrencyMapping,
  type RateSource,
} from './rates.js';

/** What a quote is priced with, besides the rates. */
export interface QuoteTerms {
  /** The currency each asset is priced in. */
  currencyOf: CurrencyMapping;
  /** The caller's clock, unix ms: the engine's time of quoting. */
  nowMs: number;
  /** Rates older than this at `nowMs` are refused (`rates_stale`). */
  ratesAgeMaxMs: number;
  /**
   * How far the route's effective rate may fall below the product of its mid rates, basis points
   * (0 to 10000). Spreads, fees and rounding all count toward it.
   */
  slippageBpsMax: number;
  /** What the engine can pay out of each node now, minor units. */
  liquidity: (node: AssetNode) => bigint;
  /** Places of `effectiveRateText`, rounded down; 12 unless given (0 to 36). */
  effectiveRatePlaces?: number;
}

/** A fixed input (minor units of the source asset) or a wanted output (of the destination). */
export type QuoteAmount = { from: bigint } | { to: bigint };

export interface HopQuote {
  from: AssetInfo;
  to: AssetInfo;
  /** Whole units of `to` per whole unit of `from`, from the rate source. */
  midRate: Rational;
  /** `midRate` less the pair's spread. */
  rate: Rational;
  /** Minor units of `from`. */
  amountIn: bigint;
  /** Minor units of `to` kept as fee: the basis-point part rounded up, plus the fixed fee. */
  fee: bigint;
  /** Minor units of `to` passed on (to the next hop, or paid out at the last). */
  amountOut: bigint;
}

export interface Quote {
  rounding: 'floor_out' | 'ceil_in';
  hops: HopQuote[];
  /** Minor units of the source asset the payer pays. */
  amountIn: bigint;
  /** Minor units of the destination asset paid out (>= `amountWanted` for a `{to}` quote). */
  amountOut: bigint;
  /** The `{to}` amount asked for; undefined for a `{from}` quote. */
  amountWanted?: bigint;
  /** The product of the hops' mid rates, whole units of destination per unit of source. */
  midRate: Rational;
  /** amountOut / amountIn in whole units, exact. Never above `midRate`. */
  effectiveRate: Rational;
  /** `effectiveRate` as a decimal with `effectiveRatePlaces` places, rounded down (floor). */
  effectiveRateText: string;
  effectiveRatePlaces: number;
  /** The rate source's origin and as-of time. */
  ratesOrigin: string;
  ratesAsOfMs: number;
}

export const quoteRefusals = {
  amount_invalid: `The amount is a whole number of minor units from 1 to 2^127 - 1, as a bigint.`,
  quote_terms_invalid:
    'The quote terms need nowMs and ratesAgeMaxMs (whole, from 0), slippageBpsMax (0 to 10000) and effectiveRatePlaces (0 to 36).',
  rates_stale: 'The rates are older than the quote allows; fetch fresh rates.',
  rates_dated_ahead:
    "The rates are dated ahead of the quote's clock by more than the allowed skew: a wrong clock or a wrong source.",
  rate_unavailable: 'The rate source has no rate between the currencies of a hop.',
  pair_disabled: 'A pair on the route is disabled.',
  below_pair_min: "A hop's input is below its pair's minimum.",
  above_pair_max: "A hop's input is above its pair's maximum.",
  amount_too_small: 'After fees a hop would pay out nothing.',
  insufficient_liquidity: "A hop's output is more than the engine holds of that asset.",
  slippage_exceeded:
    "The route's effective rate is further below its mid rate than the caller allows.",
  no_route: 'No route of enabled pairs joins the two assets within the hop limit.',
} as const;

export type QuoteRefusal = keyof typeof quoteRefusals;

export interface QuoteRefused {
  ok: false;
  code: QuoteRefusal;
  message: string;
  /** The bad term, or the hop refused ("hops[1]"). */
  field?: string;
}

export type QuoteResult = { ok: true; quote: Quote } | QuoteRefused;

export function refuseQuote(code: QuoteRefusal, field?: string): QuoteRefused {
  return field === undefined
    ? { ok: false, code, message: quoteRefusals[code] }
    : { ok: false, code, message: quoteRefusals[code], field };
}

/** The hop's rate in minor units of `to` per minor unit of `from`. */
export function minorRate(rate: Rational, from: AssetInfo, to: AssetInfo): Rational {
  return multiply(rate, rational(10n ** BigInt(to.decimals), 10n ** BigInt(from.decimals)));
}

/** The rate after a spread of `spreadBps`. */
export function spreadRate(mid: Rational, spreadBps: number): Rational {
  return multiply(mid, rational(BigInt(10000 - spreadBps), 10000n));
}

/** One hop forwards (`floor_out`): the gross, the fee and what is passed on (may be <= 0). */
export function hopForward(
  amountIn: bigint,
  minor: Rational,
  feeBps: number,
  feeFixed: bigint,
): { fee: bigint; amountOut: bigint } {
  const gross = mulFloor(amountIn, minor);
  const fee = divCeil(gross * BigInt(feeBps), 10000n) + feeFixed;
  return { fee, amountOut: gross - fee };
}

/**
 * One hop backwards (`ceil_in`): the least input whose `hopForward` output is at least `wanted`.
 * gross − ceil(gross × b / 10000) = floor(gross × (10000 − b) / 10000), so the least gross is
 * ceil((wanted + feeFixed) × 10000 / (10000 − b)), and the least input ceil(gross / rate).
 */
export function hopBackward(
  wanted: bigint,
  minor: Rational,
  feeBps: number,
  feeFixed: bigint,
): bigint {
  const gross = divCeil((wanted + feeFixed) * 10000n, BigInt(10000 - feeBps));
  return divCeil(gross * minor.den, minor.num);
}

function termsField(terms: QuoteTerms): string | undefined {
  const whole = (value: unknown, max: number): boolean =>
    typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= max;
  if (!whole(terms.nowMs, Number.MAX_SAFE_INTEGER)) return 'nowMs';
  if (!whole(terms.ratesAgeMaxMs, Number.MAX_SAFE_INTEGER)) return 'ratesAgeMaxMs';
  if (!whole(terms.slippageBpsMax, 10000)) return 'slippageBpsMax';
  if (terms.effectiveRatePlaces !== undefined && !whole(terms.effectiveRatePlaces, 36)) {
    return 'effectiveRatePlaces';
  }
  return undefined;
}

function routeAsserts(route: Route): void {
  assert.ok(checkGraph(route).ok, 'a route passes checkGraph (its nodes and pairs are valid)');
  assert.ok(route.pairs.length >= 1, 'a route has at least one pair');
  assert.equal(route.nodes.length, route.pairs.length + 1, 'a route has one node more than pairs');
  for (const [index, pair] of route.pairs.entries()) {
    assert.ok(sameNode(pair.from, route.nodes[index]!), 'each pair starts at its node');
    assert.ok(sameNode(pair.to, route.nodes[index + 1]!), 'each pair ends at the next node');
  }
}

/**
 * Prices `route` with `rates` for a fixed input (`{from}`) or a wanted output (`{to}`), checking
 * in this order (the first failure is the answer): `amount_invalid`, `quote_terms_invalid`,
 * `rates_stale`, `rates_dated_ahead`, `rate_unavailable` (the first hop without a rate),
 * `pair_disabled`, then hop by hop forwards `below_pair_min`, `above_pair_max`,
 * `amount_too_small`, `insufficient_liquidity` (the hop's amountOut against `liquidity(to)`),
 * and last `slippage_exceeded`. A refused hop is named as field `hops[i]`.
 *
 * The route itself is the caller's own data (from `bestRoute` or a checked graph): a malformed
 * one (pairs not joining its nodes, a node twice, a pair `checkGraph` refuses) is a bug and fails
 * an assertion.
 */
export function priceRoute(
  route: Route,
  rates: RateSource,
  amount: QuoteAmount,
  terms: QuoteTerms,
): QuoteResult {
  routeAsserts(route);
  const requested = 'from' in amount ? amount.from : amount.to;
  if (typeof requested !== 'bigint' || requested < 1n || requested > amountMax) {
    return refuseQuote('amount_invalid', 'from' in amount ? 'from' : 'to');
  }
  const badTerm = termsField(terms);
  if (badTerm !== undefined) return refuseQuote('quote_terms_invalid', badTerm);
  const freshness = { nowMs: terms.nowMs, ageMaxMs: terms.ratesAgeMaxMs };
  const age = ratesAgeRefusal(rates, freshness.nowMs, freshness.ageMaxMs);
  if (age !== undefined) return refuseQuote(age);
  const hops = route.pairs.length;
  const mids: Rational[] = [];
  for (let index = 0; index < hops; index++) {
    const from = terms.currencyOf(route.nodes[index]!);
    const to = terms.currencyOf(route.nodes[index + 1]!);
    if (from === undefined || to === undefined) {
      return refuseQuote('rate_unavailable', `hops[${index}]`);
    }
    const mid = midRate(rates, from, to, freshness);
    if (!mid.ok) return refuseQuote(mid.code, `hops[${index}]`);
    mids.push(mid.rate);
  }
  for (const [index, pair] of route.pairs.entries()) {
    if (!pair.enabled) return refuseQuote('pair_disabled', `hops[${index}]`);
  }
  const spread = route.pairs.map((pair, index) => spreadRate(mids[index]!, pair.spreadBps));
  const minor = spread.map((rate, index) =>
    minorRate(rate, route.nodes[index]!, route.nodes[index + 1]!),
  );

  let amountIn = requested;
  if ('to' in amount) {
    let need = amount.to;
    for (let index = hops - 1; index >= 0; index--) {
      const pair = route.pairs[index]!;
      need = hopBackward(need, minor[index]!, pair.feeBps, pair.feeFixed);
    }
    amountIn = need;
  }

  const hopQuotes: HopQuote[] = [];
  let carried = amountIn;
  for (const [index, pair] of route.pairs.entries()) {
    const field = `hops[${index}]`;
    if (carried < pair.min) return refuseQuote('below_pair_min', field);
    if (carried > pair.max) return refuseQuote('above_pair_max', field);
    const { fee, amountOut } = hopForward(carried, minor[index]!, pair.feeBps, pair.feeFixed);
    if (amountOut <= 0n) return refuseQuote('amount_too_small', field);
    const to = route.nodes[index + 1]!;
    const available = terms.liquidity(to);
    assert.equal(typeof available, 'bigint', `liquidity(${nodeKey(to)}) is a bigint`);
    if (amountOut > available) return refuseQuote('insufficient_liquidity', field);
    hopQuotes.push({
      from: route.nodes[index]!,
      to,
      midRate: mids[index]!,
      rate: spread[index]!,
      amountIn: carried,
      fee,
      amountOut,
    });
    carried = amountOut;
  }
  const amountOut = carried;
  if ('to' in amount) assert.ok(amountOut >= amount.to, 'a ceil_in quote delivers what is wanted');

  const source = route.nodes[0]!;
  const destination = route.nodes[hops]!;
  const midProduct = mids.reduce(multiply, one);
  const effectiveRate = rational(
    amountOut * 10n ** BigInt(source.decimals),
    amountIn * 10n ** BigInt(destination.decimals),
  );
  assert.ok(compare(effectiveRate, midProduct) <= 0, 'the engine never loses to rounding');
  const floorRate = multiply(midProduct, rational(BigInt(10000 - terms.slippageBpsMax), 10000n));
  if (compare(effectiveRate, floorRate) < 0) return refuseQuote('slippage_exceeded');
  const places = terms.effectiveRatePlaces ?? 12;
  const quote: Quote = {
    rounding: 'to' in amount ? 'ceil_in' : 'floor_out',
    hops: hopQuotes,
    amountIn,
    amountOut,
    midRate: midProduct,
    effectiveRate,
    effectiveRateText: formatFloor(effectiveRate, places),
    effectiveRatePlaces: places,
    ratesOrigin: rates.origin,
    ratesAsOfMs: rates.asOfMs,
  };
  if ('to' in amount) quote.amountWanted = amount.to;
  return { ok: true, quote };
}
