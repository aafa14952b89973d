import type { PairRecord, PairSide } from '../client.js';

/*
 * The route explorer's paths: every simple path (no asset twice) of active pairs from one asset
 * to another with 1 to `hopsMax` hops, as the engine's route search enumerates them
 * (pricing/route.ts, `enumerateRoutes`, over the registry's pairs with `enabled` = active: see
 * engine/pricer.ts) and in its tie-break order: fewer hops, then the assets' keys
 * ("ecosystem:asset") element by element. The chain holds no rates, so a path here has no price:
 * only the basis points its pairs take. The engine prices each path at its own rates when asked
 * for a quote and picks the one that gives the most. Pure, so it is tested without a browser
 * (paths.test.ts checks it against the engine's enumeration).
 */

/** A path: `nodes[i]` to `nodes[i + 1]` by `pairs[i]`. */
export interface ConversionPath {
  nodes: PairSide[];
  pairs: PairRecord[];
  /** The sum over its hops of each pair's spread and percentage fee, in basis points. */
  bps: number;
}

/**
 * Paths listed at most. An engine holds at most 128 pairs and a path has at most 4 hops, so the
 * search is small (pricing/route.ts bounds the same search); a list longer than this would not
 * be read, and the page says how many were left out.
 */
export const pathsShownMax = 50;

/** "ecosystem:asset": an asset's identity within an engine (neither part holds a colon). */
export function sideKey(side: PairSide): string {
  return `${side.ecosystem}:${side.asset}`;
}

/** Parses `sideKey`'s text back; undefined when it has no colon. */
export function sideOfKey(key: string): PairSide | undefined {
  const at = key.indexOf(':');
  if (at < 0) return undefined;
  return { ecosystem: key.slice(0, at), asset: key.slice(at + 1) };
}

/** What a path costs in basis points before fixed fees: each hop's spread plus its fee, summed. */
export function pathBps(pairs: readonly PairRecord[]): number {
  return pairs.reduce((sum, pair) => sum + pair.spreadBps + pair.feeBps, 0);
}

function comparePaths(a: ConversionPath, b: ConversionPath): number {
  if (a.pairs.length !== b.pairs.length) return a.pairs.length - b.pairs.length;
  for (let index = 0; index < a.nodes.length; index++) {
    const left = sideKey(a.nodes[index]!);
    const right = sideKey(b.nodes[index]!);
    if (left !== right) return left < right ? -1 : 1;
  }
  return 0;
}

/**
 * Every simple path of active pairs from `from` to `to` with 1 to `hopsMax` hops, fewer hops
 * first. None when `from` and `to` are the same asset or `hopsMax` is below 1.
 */
export function listPaths(
  pairs: readonly PairRecord[],
  from: PairSide,
  to: PairSide,
  hopsMax: number,
): ConversionPath[] {
  const target = sideKey(to);
  if (sideKey(from) === target || hopsMax < 1) return [];
  const outgoing = new Map<string, PairRecord[]>();
  for (const pair of pairs) {
    if (pair.status !== 'active') continue;
    const key = sideKey(pair.from);
    outgoing.set(key, [...(outgoing.get(key) ?? []), pair]);
  }
  const found: ConversionPath[] = [];
  const nodes: PairSide[] = [from];
  const taken: PairRecord[] = [];
  const visit = (at: PairSide): void => {
    for (const pair of outgoing.get(sideKey(at)) ?? []) {
      const next = pair.to;
      const key = sideKey(next);
      if (nodes.some((node) => sideKey(node) === key)) continue;
      nodes.push(next);
      taken.push(pair);
      if (key === target) {
        found.push({ nodes: [...nodes], pairs: [...taken], bps: pathBps(taken) });
      } else if (taken.length < hopsMax) {
        visit(next);
      }
      nodes.pop();
      taken.pop();
    }
  };
  visit(from);
  return found.sort(comparePaths);
}
