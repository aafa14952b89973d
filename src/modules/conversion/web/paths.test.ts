import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { nodeKey } from '../pricing/graph.js';
import { enumerateRoutes, type Graph } from '../pricing/route.js';
import type { PairRecord, PairSide } from '../client.js';
import { listPaths, pathBps, sideKey, sideOfKey } from './paths.js';

const side = (key: string): PairSide => sideOfKey(key)!;

function pair(
  from: string,
  to: string,
  spreadBps: number,
  feeBps: number,
  status: PairRecord['status'] = 'active',
): PairRecord {
  return {
    from: side(from),
    to: side(to),
    spreadBps,
    feeBps,
    feeFixed: '0',
    min: '1',
    max: '100',
    status,
    updatedAtHeight: 1,
  };
}

/** What a list of paths says, in a line each: the assets and the basis points. */
const shown = (paths: ReturnType<typeof listPaths>) =>
  paths.map((p) => `${p.nodes.map(sideKey).join(' > ')} = ${p.bps}`);

describe('the route explorer: paths through active pairs', () => {
  const pairs = [
    pair('polygon:USDC', 'home:USD', 25, 10),
    pair('home:USD', 'bank:EUR', 50, 10),
    pair('polygon:USDC', 'bank:EUR', 100, 0, 'paused'),
    pair('bank:EUR', 'home:USD', 30, 5),
    pair('home:USD', 'polygon:USDC', 20, 0),
  ];

  it('a two-hop path, its bps the sum of each hop spread and fee; a paused pair is no path', () => {
    assert.deepEqual(shown(listPaths(pairs, side('polygon:USDC'), side('bank:EUR'), 2)), [
      'polygon:USDC > home:USD > bank:EUR = 95',
    ]);
    // The direct pair, once active, comes first: fewer hops.
    const active = pairs.map((p) =>
      p.status === 'paused' ? { ...p, status: 'active' as const } : p,
    );
    assert.deepEqual(shown(listPaths(active, side('polygon:USDC'), side('bank:EUR'), 2)), [
      'polygon:USDC > bank:EUR = 100',
      'polygon:USDC > home:USD > bank:EUR = 95',
    ]);
  });

  it('the hop limit bounds a path, no asset is visited twice, and pairs run one way', () => {
    assert.deepEqual(listPaths(pairs, side('polygon:USDC'), side('bank:EUR'), 1), []);
    // EUR to USDC: through USD (EUR > USD > USDC), never back through EUR.
    assert.deepEqual(shown(listPaths(pairs, side('bank:EUR'), side('polygon:USDC'), 4)), [
      'bank:EUR > home:USD > polygon:USDC = 55',
    ]);
    // No pair leads into an asset no pair names.
    assert.deepEqual(listPaths(pairs, side('home:USD'), side('home:GBP'), 4), []);
  });

  it('no path from an asset to itself, nor with a hop limit below 1', () => {
    assert.deepEqual(listPaths(pairs, side('home:USD'), side('home:USD'), 4), []);
    assert.deepEqual(listPaths(pairs, side('polygon:USDC'), side('home:USD'), 0), []);
  });

  it('paths of as many hops are in the order of their assets keys', () => {
    const square = [
      pair('a1:X', 'b2:X', 1, 0),
      pair('a1:X', 'a2:X', 2, 0),
      pair('b2:X', 'z9:X', 3, 0),
      pair('a2:X', 'z9:X', 4, 0),
    ];
    assert.deepEqual(shown(listPaths(square, side('a1:X'), side('z9:X'), 2)), [
      'a1:X > a2:X > z9:X = 6',
      'a1:X > b2:X > z9:X = 4',
    ]);
  });

  it("pathBps sums spreads and fees; a side's key parses back", () => {
    assert.equal(pathBps([]), 0);
    assert.equal(pathBps(pairs.slice(0, 2)), 95);
    assert.deepEqual(sideOfKey('home-2:USDC'), { ecosystem: 'home-2', asset: 'USDC' });
    assert.equal(sideOfKey('nocolon'), undefined);
  });

  it("lists the same paths, in the same order, as the engine's route search", () => {
    const assetKeys = ['a:A', 'a:B', 'b:A', 'b:C', 'c:D'];
    const pairArbitrary = fc.record({
      from: fc.constantFrom(...assetKeys),
      to: fc.constantFrom(...assetKeys),
      spreadBps: fc.integer({ min: 0, max: 5000 }),
      feeBps: fc.integer({ min: 0, max: 5000 }),
      active: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(pairArbitrary, {
          maxLength: 14,
          selector: (p) => `${p.from}>${p.to}`,
        }),
        fc.constantFrom(...assetKeys),
        fc.constantFrom(...assetKeys),
        fc.integer({ min: 1, max: 4 }),
        (drawn, from, to, hopsMax) => {
          const records = drawn
            .filter((p) => p.from !== p.to)
            .map((p) => pair(p.from, p.to, p.spreadBps, p.feeBps, p.active ? 'active' : 'paused'));
          // As the engine builds its graph from the registry (engine/pricer.ts).
          const graph: Graph = {
            nodes: assetKeys.map((key) => ({ ...side(key), decimals: 2 })),
            pairs: records.map((p) => ({
              from: p.from,
              to: p.to,
              spreadBps: p.spreadBps,
              feeBps: p.feeBps,
              feeFixed: 0n,
              min: 1n,
              max: 100n,
              enabled: p.status === 'active',
            })),
          };
          const engine = enumerateRoutes(graph, side(from), side(to), hopsMax).map((route) =>
            route.nodes.map(nodeKey).join(' > '),
          );
          const here = listPaths(records, side(from), side(to), hopsMax);
          assert.deepEqual(
            here.map((p) => p.nodes.map(sideKey).join(' > ')),
            engine,
          );
          for (const path of here) {
            assert.equal(path.pairs.length, path.nodes.length - 1);
            assert.ok(path.pairs.every((p) => p.status === 'active'));
            assert.equal(path.bps, pathBps(path.pairs));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
