/*
 * The best route between two asset nodes: every simple path of enabled pairs of at most
 * `hopsMax` hops is priced (`priceRoute`), and the best priced one wins: the most output for a
 * fixed input, the least input for a wanted output. Ties go to fewer hops, then to the path whose
 * node keys ("ecosystem:asset") compare first, element by element, by UTF-16 code units.
 *
 * The search is a bounded depth-first enumeration: a graph has at most 256 pairs, one per
 * direction between two nodes, and a route at most 4 hops, so there are at most a few thousand
 * candidate paths, each priced in microseconds. Brute force keeps it obviously right.
 */
import {
  checkGraph,
  nodeKey,
  sameNode,
  type AssetInfo,
  type AssetNode,
  type Graph,
  type GraphRefusal,
  type Pair,
  type Route,
} from './graph.js';
import {
  priceRoute,
  refuseQuote,
  type Quote,
  type QuoteAmount,
  type QuoteRefused,
  type QuoteTerms,
} from './quote.js';
import type { RateSource } from './rates.js';

export type { AssetInfo, AssetNode, Graph, Pair, Route } from './graph.js';

export const hopsMaxDefault = 3;
/** The hard limit: each hop is a lock or payout the engine must settle within one expiry. */
export const hopsMaxLimit = 4;
/** Candidate paths at most (far above what 256 pairs and 4 hops can make; a guard, asserted). */
export const candidatesMax = 100_000;

export interface RouteTerms extends QuoteTerms {
  /** Hops at most, 1 to 4; 3 unless given. */
  hopsMax?: number;
}

export type BestRouteResult =
  | { ok: true; route: Route; quote: Quote }
  | QuoteRefused
  | { ok: false; code: GraphRefusal | 'hops_max_invalid'; message: string; field?: string };

/** Orders routes by the tie-break: fewer hops, then node keys element by element. */
export function compareRoutes(a: Route, b: Route): number {
  if (a.pairs.length !== b.pairs.length) return a.pairs.length - b.pairs.length;
  for (let index = 0; index < a.nodes.length; index++) {
    const left = nodeKey(a.nodes[index]!);
    const right = nodeKey(b.nodes[index]!);
    if (left !== right) return left < right ? -1 : 1;
  }
  return 0;
}

/**
 * Every simple path (no node twice) of enabled pairs from `source` to `destination` with 1 to
 * `hopsMax` hops, in tie-break order. The graph is assumed checked (`checkGraph`).
 */
export function enumerateRoutes(
  graph: Graph,
  source: AssetNode,
  destination: AssetNode,
  hopsMax: number,
): Route[] {
  const info = new Map<string, AssetInfo>(graph.nodes.map((node) => [nodeKey(node), node]));
  const outgoing = new Map<string, Pair[]>();
  for (const pair of graph.pairs) {
    if (!pair.enabled) continue;
    const key = nodeKey(pair.from);
    outgoing.set(key, [...(outgoing.get(key) ?? []), pair]);
  }
  const start = info.get(nodeKey(source));
  const routes: Route[] = [];
  if (!start || !info.has(nodeKey(destination)) || sameNode(source, destination)) return routes;
  const nodes: AssetInfo[] = [start];
  const pairs: Pair[] = [];
  const visit = (at: AssetInfo): void => {
    for (const pair of outgoing.get(nodeKey(at)) ?? []) {
      const next = info.get(nodeKey(pair.to))!;
      if (nodes.some((node) => sameNode(node, next))) continue;
      nodes.push(next);
      pairs.push(pair);
      if (sameNode(next, destination)) {
        routes.push({ nodes: [...nodes], pairs: [...pairs] });
        if (routes.length > candidatesMax) throw new RangeError('too many candidate routes');
      } else if (pairs.length < hopsMax) {
        visit(next);
      }
      nodes.pop();
      pairs.pop();
    }
  };
  visit(start);
  return routes.sort(compareRoutes);
}

/**
 * The best priced route from `source` to `destination` (see the file comment). Refuses an invalid
 * graph with its `checkGraph` code, a `hopsMax` outside 1 to 4 with `hops_max_invalid`, and
 * `no_route` when no path joins the nodes. When paths exist but every one is refused, the answer
 * is the refusal of the first path in tie-break order (for a one-path graph: that path's reason).
 */
export function bestRoute(
  graph: Graph,
  source: AssetNode,
  destination: AssetNode,
  rates: RateSource,
  amount: QuoteAmount,
  terms: RouteTerms,
): BestRouteResult {
  const check = checkGraph(graph);
  if (!check.ok) return check;
  const hopsMax = terms.hopsMax ?? hopsMaxDefault;
  if (!Number.isInteger(hopsMax) || hopsMax < 1 || hopsMax > hopsMaxLimit) {
    return {
      ok: false,
      code: 'hops_max_invalid',
      message: `hopsMax is 1 to ${hopsMaxLimit}.`,
      field: 'hopsMax',
    };
  }
  const candidates = enumerateRoutes(graph, source, destination, hopsMax);
  let best: { route: Route; quote: Quote } | undefined;
  let firstRefusal: QuoteRefused | undefined;
  for (const route of candidates) {
    const priced = priceRoute(route, rates, amount, terms);
    if (!priced.ok) {
      firstRefusal ??= priced;
      continue;
    }
    const better =
      best === undefined ||
      ('from' in amount
        ? priced.quote.amountOut > best.quote.amountOut
        : priced.quote.amountIn < best.quote.amountIn);
    if (better) best = { route, quote: priced.quote };
  }
  if (best) return { ok: true, ...best };
  return firstRefusal ?? refuseQuote('no_route');
}
