import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  assetsPerEcosystemMax,
  ecosystemsPerEngineMax,
  pairsPerEngineMax,
  type ConversionAssetRecord,
  type EcosystemRecord,
  type EngineRecord,
  type PairRecord,
} from './schema.js';
import {
  assetPayload,
  conversionWorld,
  enginePayload,
  evmEcosystem,
  cofferEcosystem,
  operator,
  otherOperator,
  pairPayload,
} from './txs-fixture.js';

/*
 * Random sequences of sets and removals by two operators, run through the handlers and through a
 * small reference model of the registry: every outcome (ok or the code) is the model's, and after
 * every step the records are consistent (each count equals the entries it counts and is within
 * its bound, no pair without its two assets, no asset without its ecosystem). Picks are skewed to
 * a few ecosystems and assets, so the bounds (16 ecosystems, 16 assets, 128 pairs) are reached.
 * A refused tx leaves the state byte-identical, and replaying the same txs gives the same state.
 */

type Side = { ecosystem: string; asset: string };
type Op =
  | { kind: 'engine'; by: number }
  | { kind: 'ecoSet'; by: number; eco: number; evm: boolean }
  | { kind: 'ecoRemove'; by: number; eco: number }
  | { kind: 'assetSet'; by: number; eco: number; asset: number; decimals: number }
  | { kind: 'assetRemove'; by: number; eco: number; asset: number }
  | { kind: 'pairSet'; by: number; from: [number, number]; to: [number, number] }
  | { kind: 'pairRemove'; by: number; from: [number, number]; to: [number, number] };

const senders = [operator, otherOperator];
const ecoId = (i: number) => `eco-${i}`;
const assetId = (i: number) => `S${i}`;
const by = fc.nat(9).map((n) => (n < 9 ? 0 : 1));
/** A pair's side: on the first two ecosystems, among 12 assets (132 ordered pairs each way). */
const side = fc.tuple(fc.nat(1), fc.nat(11));

/**
 * Ops with `weights` per kind; ecosystems are mostly the first two, one pick in `wide` any of 18
 * (two past the bound), assets any of 18 symbols (two past the bound).
 */
function ops(weights: Record<Op['kind'], number>, wide: number) {
  const eco = fc.oneof(
    { weight: 1, arbitrary: fc.nat(17) },
    { weight: wide - 1, arbitrary: fc.nat(1) },
  );
  const asset = fc.nat(17);
  const kind = <K extends Op['kind']>(k: K) => fc.constant(k);
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: weights.engine, arbitrary: fc.record({ kind: kind('engine'), by }) },
    {
      weight: weights.ecoSet,
      arbitrary: fc.record({ kind: kind('ecoSet'), by, eco, evm: fc.boolean() }),
    },
    { weight: weights.ecoRemove, arbitrary: fc.record({ kind: kind('ecoRemove'), by, eco }) },
    {
      weight: weights.assetSet,
      arbitrary: fc.record({
        kind: kind('assetSet'),
        by,
        eco,
        asset,
        decimals: fc.constantFrom(2, 6),
      }),
    },
    {
      weight: weights.assetRemove,
      arbitrary: fc.record({ kind: kind('assetRemove'), by, eco, asset }),
    },
    {
      weight: weights.pairSet,
      arbitrary: fc.record({ kind: kind('pairSet'), by, from: side, to: side }),
    },
    {
      weight: weights.pairRemove,
      arbitrary: fc.record({ kind: kind('pairRemove'), by, from: side, to: side }),
    },
  );
  return op;
}

/** Removals as often as sets: the records churn. */
const churn = ops(
  { engine: 1, ecoSet: 3, ecoRemove: 2, assetSet: 6, assetRemove: 3, pairSet: 8, pairRemove: 4 },
  4,
);
/** Mostly sets, spread wide: the bounds are reached. */
const filling = ops(
  { engine: 1, ecoSet: 6, ecoRemove: 1, assetSet: 10, assetRemove: 1, pairSet: 24, pairRemove: 1 },
  2,
);

const sideOf = ([e, a]: [number, number]): Side => ({ ecosystem: ecoId(e), asset: assetId(a) });
const pairKey = (from: Side, to: Side) =>
  `${from.ecosystem}/${from.asset}>${to.ecosystem}/${to.asset}`;

/** The registry as the issue describes it, in plain maps. */
interface ModelEngine {
  ecosystems: Map<string, { evm: boolean; assets: Map<string, number> }>;
  pairs: Map<string, [Side, Side]>;
}

function usedBy(engine: ModelEngine, s: Side): boolean {
  return [...engine.pairs.values()].some(
    ([f, t]) =>
      (f.ecosystem === s.ecosystem && f.asset === s.asset) ||
      (t.ecosystem === s.ecosystem && t.asset === s.asset),
  );
}

function txOf(o: Op): [string, Record<string, unknown>] {
  switch (o.kind) {
    case 'engine':
      return ['conversion.setEngine', enginePayload];
    case 'ecoSet':
      return [
        'conversion.setEcosystem',
        o.evm ? evmEcosystem(ecoId(o.eco)) : cofferEcosystem(ecoId(o.eco)),
      ];
    case 'ecoRemove':
      return ['conversion.removeEcosystem', { ecosystem: ecoId(o.eco) }];
    case 'assetSet':
      return [
        'conversion.setAsset',
        assetPayload(ecoId(o.eco), assetId(o.asset), { decimals: o.decimals }),
      ];
    case 'assetRemove':
      return ['conversion.removeAsset', { ecosystem: ecoId(o.eco), asset: assetId(o.asset) }];
    case 'pairSet':
      return ['conversion.setPair', pairPayload(sideOf(o.from), sideOf(o.to))];
    case 'pairRemove':
      return ['conversion.removePair', { from: sideOf(o.from), to: sideOf(o.to) }];
  }
}

/** What the model says the tx gives, applying it when ok. */
function modelStep(engines: Map<number, ModelEngine>, o: Op): string {
  if (o.kind === 'pairSet' && o.from[0] === o.to[0] && o.from[1] === o.to[1]) {
    return 'pair_same_asset';
  }
  if (o.kind === 'engine') {
    if (!engines.has(o.by)) engines.set(o.by, { ecosystems: new Map(), pairs: new Map() });
    return 'ok';
  }
  const engine = engines.get(o.by);
  if (!engine) return 'engine_not_found';
  switch (o.kind) {
    case 'ecoSet': {
      const existing = engine.ecosystems.get(ecoId(o.eco));
      if (!existing) {
        if (engine.ecosystems.size >= ecosystemsPerEngineMax) return 'too_many_ecosystems';
        engine.ecosystems.set(ecoId(o.eco), { evm: o.evm, assets: new Map() });
        return 'ok';
      }
      if (existing.evm !== o.evm && existing.assets.size > 0) return 'ecosystem_in_use';
      existing.evm = o.evm;
      return 'ok';
    }
    case 'ecoRemove': {
      const existing = engine.ecosystems.get(ecoId(o.eco));
      if (!existing) return 'ecosystem_not_found';
      if (existing.assets.size > 0) return 'ecosystem_in_use';
      engine.ecosystems.delete(ecoId(o.eco));
      return 'ok';
    }
    case 'assetSet': {
      const ecosystem = engine.ecosystems.get(ecoId(o.eco));
      if (!ecosystem) return 'ecosystem_not_found';
      const existing = ecosystem.assets.get(assetId(o.asset));
      if (existing === undefined && ecosystem.assets.size >= assetsPerEcosystemMax) {
        return 'too_many_assets';
      }
      const s = { ecosystem: ecoId(o.eco), asset: assetId(o.asset) };
      if (existing !== undefined && existing !== o.decimals && usedBy(engine, s)) {
        return 'asset_in_use';
      }
      ecosystem.assets.set(assetId(o.asset), o.decimals);
      return 'ok';
    }
    case 'assetRemove': {
      const ecosystem = engine.ecosystems.get(ecoId(o.eco));
      if (!ecosystem) return 'ecosystem_not_found';
      if (!ecosystem.assets.has(assetId(o.asset))) return 'asset_not_registered';
      if (usedBy(engine, { ecosystem: ecoId(o.eco), asset: assetId(o.asset) })) {
        return 'asset_in_use';
      }
      ecosystem.assets.delete(assetId(o.asset));
      return 'ok';
    }
    case 'pairSet': {
      const from = sideOf(o.from);
      const to = sideOf(o.to);
      for (const s of [from, to]) {
        const ecosystem = engine.ecosystems.get(s.ecosystem);
        if (!ecosystem) return 'ecosystem_not_found';
        if (!ecosystem.assets.has(s.asset)) return 'asset_not_registered';
      }
      const k = pairKey(from, to);
      if (!engine.pairs.has(k) && engine.pairs.size >= pairsPerEngineMax) return 'too_many_pairs';
      engine.pairs.set(k, [from, to]);
      return 'ok';
    }
    case 'pairRemove': {
      const k = pairKey(sideOf(o.from), sideOf(o.to));
      if (!engine.pairs.has(k)) return 'pair_not_found';
      engine.pairs.delete(k);
      return 'ok';
    }
  }
}

type World = ReturnType<typeof conversionWorld>;

function all(w: World): [string, string][] {
  return w.state.range('conversion/', 100_000);
}

/** The records are consistent, and they are the model's. */
function checkConsistent(w: World, engines: Map<number, ModelEngine>): void {
  const entries = all(w);
  const values = <T>(prefix: string) =>
    entries.filter(([k]) => k.startsWith(prefix)).map(([, v]) => JSON.parse(v) as T);
  for (const [index, sender] of senders.entries()) {
    const address = sender.address;
    const engine = values<EngineRecord>(`conversion/engine/${address}`)[0];
    const model = engines.get(index);
    assert.equal(engine !== undefined, model !== undefined);
    if (!engine || !model) continue;
    const ecosystems = values<EcosystemRecord>(`conversion/ecosystem/${address}/`);
    const assets = values<ConversionAssetRecord>(`conversion/asset/${address}/`);
    const pairs = values<PairRecord>(`conversion/pair/${address}/`);
    assert.equal(engine.ecosystemCount, ecosystems.length);
    assert.ok(ecosystems.length <= ecosystemsPerEngineMax);
    assert.equal(engine.pairCount, pairs.length);
    assert.ok(pairs.length <= pairsPerEngineMax);
    assert.deepEqual(
      ecosystems.map((e) => e.ecosystem).sort(),
      [...model.ecosystems.keys()].sort(),
    );
    for (const ecosystem of ecosystems) {
      const own = assets.filter((a) => a.ecosystem === ecosystem.ecosystem);
      assert.equal(ecosystem.assetCount, own.length);
      assert.ok(own.length <= assetsPerEcosystemMax);
      assert.equal(
        ecosystem.kind,
        model.ecosystems.get(ecosystem.ecosystem)!.evm ? 'evm' : 'coffer',
      );
    }
    for (const a of assets) {
      assert.ok(
        ecosystems.some((e) => e.ecosystem === a.ecosystem),
        'an asset has its ecosystem',
      );
      const using = pairs.filter(
        (p) =>
          (p.from.ecosystem === a.ecosystem && p.from.asset === a.asset) ||
          (p.to.ecosystem === a.ecosystem && p.to.asset === a.asset),
      );
      assert.equal(a.pairCount, using.length, `${a.ecosystem}:${a.asset}`);
      assert.equal(a.decimals, model.ecosystems.get(a.ecosystem)!.assets.get(a.asset));
    }
    for (const p of pairs) {
      for (const s of [p.from, p.to]) {
        assert.ok(
          assets.some((a) => a.ecosystem === s.ecosystem && a.asset === s.asset),
          'a pair has its two assets',
        );
      }
    }
    assert.deepEqual(
      pairs.map((p) => pairKey(p.from, p.to)).sort(),
      [...model.pairs.keys()].sort(),
    );
  }
}

type Reached = Record<'too_many_ecosystems' | 'too_many_assets' | 'too_many_pairs', boolean>;

/**
 * Runs `sequence` (after the first operator's engine.set) through the handlers and the model:
 * each outcome is the model's, a refused tx changes nothing; consistency checked after every step
 * (`everyStep`) or at the end. Then replays it on a fresh world: the same state, to the byte.
 */
function runAgainstModel(sequence: Op[], everyStep: boolean, reached?: Reached): void {
  const all_ = [{ kind: 'engine' as const, by: 0 }, ...sequence];
  const w = conversionWorld();
  const engines = new Map<number, ModelEngine>();
  for (const o of all_) {
    const [type, payload] = txOf(o);
    const before = all(w);
    const result = w.run(senders[o.by]!, type, payload);
    assert.equal(result, modelStep(engines, o), `${type} ${JSON.stringify(payload)}`);
    if (result !== 'ok') assert.deepEqual(all(w), before, 'a refused tx changes nothing');
    if (reached && result in reached) reached[result as keyof Reached] = true;
    if (everyStep) checkConsistent(w, engines);
  }
  checkConsistent(w, engines);
  const again = conversionWorld();
  for (const o of all_) again.run(senders[o.by]!, ...txOf(o));
  assert.deepEqual(all(again), all(w));
}

describe('the registry against a reference model', () => {
  it('random sets and removals keep the records consistent after every step', () => {
    fc.assert(
      fc.property(fc.array(churn, { minLength: 20, maxLength: 200 }), (sequence) =>
        runAgainstModel(sequence, true),
      ),
      { numRuns: 100 },
    );
  });

  it('long runs reach every bound and stay within it', () => {
    const reached: Reached = {
      too_many_ecosystems: false,
      too_many_assets: false,
      too_many_pairs: false,
    };
    fc.assert(
      fc.property(fc.array(filling, { minLength: 1200, maxLength: 1500 }), (sequence) =>
        runAgainstModel(sequence, false, reached),
      ),
      // Shrinking 1,500 ops takes minutes: a failure reports its seed and sequence unshrunk.
      { numRuns: 12, endOnFailure: true },
    );
    assert.deepEqual(reached, {
      too_many_ecosystems: true,
      too_many_assets: true,
      too_many_pairs: true,
    });
  });
});
