/*
 * Pricing for the conversion engine (issue 19): exact rates, the best route through the
 * conversion graph, and a route's quote. Pure code but for `fetchRates`; the caller passes the
 * time (`nowMs`) and the engine's liquidity.
 */
export {
  basisPoints,
  compare,
  divCeil,
  divFloor,
  divide,
  equals,
  formatExact,
  formatFloor,
  inverse,
  mulCeil,
  mulFloor,
  multiply,
  one,
  parseRate,
  rateTextRefusals,
  rational,
  reduce,
  type Rational,
  type RateTextRefusal,
  type RateTextResult,
} from './rational.js';
export {
  crossCurrency,
  currencyMapping,
  fetchRates,
  isCurrency,
  ratesAgeRefusal,
  ratesClockSkewMsMax,
  jsonRates,
  midRate,
  rateLookupRefusals,
  RatesFetchError,
  rateSourceRefusals,
  tableRates,
  type AssetNode,
  type CurrencyMapping,
  type FetchRatesOptions,
  type RateLookupResult,
  type RateSource,
  type RateSourceResult,
} from './rates.js';
export { ecbRates, ecbRefusals, parseEcb, type EcbDocument, type EcbResult } from './ecb.js';
export {
  checkGraph,
  graphPairsMax,
  graphRefusals,
  nodeKey,
  type AssetInfo,
  type Graph,
  type GraphCheck,
  type Pair,
  type Route,
} from './graph.js';
export {
  priceRoute,
  quoteRefusals,
  type HopQuote,
  type Quote,
  type QuoteAmount,
  type QuoteRefusal,
  type QuoteResult,
  type QuoteTerms,
} from './quote.js';
export {
  bestRoute,
  compareRoutes,
  enumerateRoutes,
  hopsMaxDefault,
  hopsMaxLimit,
  type BestRouteResult,
  type RouteTerms,
} from './route.js';
export { utcDateMs, utcTimeMs } from './utc.js';
