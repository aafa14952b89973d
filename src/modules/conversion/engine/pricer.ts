/*
 * The engine's prices: the registry's pairs (on the home chain) as the conversion graph, the
 * configured rate source for mid rates, and `bestRoute` (pricing/) for the route with the most
 * output (or the least input) within the engine's hop limit, each hop within its pair's limits
 * and the engine's liquidity. A `{to}` quote pays what its rounding gives, which is at least what
 * was asked (never less), and the user pays the least input that gives it.
 */
import {
  bestRoute,
  currencyMapping,
  formatFloor,
  type Graph,
  type RateSource,
} from '../pricing/index.js';
import type { EngineConfiguration } from '../schema.js';
import { EngineError, type Pricer } from './engine.js';

/** Places of the decimal rates a quote shows (rounded down). */
const ratePlaces = 12;

/** The HTTP status of each pricing refusal: the engine's state (409/503) or the request (422). */
const refusalStatus: Record<string, number> = {
  insufficient_liquidity: 409,
  rates_stale: 503,
  rates_dated_ahead: 503,
  rate_unavailable: 503,
};

export function registryPricer(options: {
  configuration: () => EngineConfiguration;
  rates: () => RateSource;
  ratesAgeMaxMs: number;
  now: () => number;
}): Pricer {
  return (request) => {
    const configuration = options.configuration();
    const graph: Graph = {
      nodes: configuration.assets.map((a) => ({
        ecosystem: a.ecosystem,
        asset: a.asset,
        decimals: a.decimals,
      })),
      pairs: configuration.pairs.map((p) => ({
        from: p.from,
        to: p.to,
        spreadBps: p.spreadBps,
        feeBps: p.feeBps,
        feeFixed: BigInt(p.feeFixed),
        min: BigInt(p.min),
        max: BigInt(p.max),
        enabled: p.status === 'active',
      })),
    };
    const result = bestRoute(graph, request.from, request.to, options.rates(), request.amount, {
      currencyOf: currencyMapping(configuration.assets),
      nowMs: options.now(),
      ratesAgeMaxMs: options.ratesAgeMaxMs,
      slippageBpsMax: request.slippageBpsMax,
      liquidity: request.liquidity,
      hopsMax: request.hopsMax,
    });
    if (!result.ok) {
      throw new EngineError(result.code, result.message, refusalStatus[result.code] ?? 422);
    }
    const { quote } = result;
    return {
      fromAmount: quote.amountIn,
      toAmount: quote.amountOut,
      rate: quote.effectiveRateText,
      hops: quote.hops.map((hop) => ({
        from: { ecosystem: hop.from.ecosystem, asset: hop.from.asset },
        to: { ecosystem: hop.to.ecosystem, asset: hop.to.asset },
        midRate: formatFloor(hop.midRate, ratePlaces),
        rate: formatFloor(hop.rate, ratePlaces),
        amountIn: hop.amountIn.toString(),
        fee: hop.fee.toString(),
        amountOut: hop.amountOut.toString(),
      })),
    };
  };
}
