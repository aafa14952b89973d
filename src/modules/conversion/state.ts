import { canonicalize } from '../../crypto/index.js';
import type { OrderedStateReader, StateReader, StateView } from '../../state/index.js';
import {
  assetsPerEcosystemMax,
  ecosystemsPerEngineMax,
  pairsPerEngineMax,
  type ConversionAssetRecord,
  type EcosystemRecord,
  type EngineRecord,
  type PairRecord,
  type PairSide,
} from './schema.js';

/**
 * The module's name and state namespace: every key below starts with `conversion/`. One value per
 * engine, per ecosystem, per asset and per pair, each small and bounded; the counts that bound
 * them are kept in the records above them (an engine's ecosystems and pairs, an ecosystem's
 * assets, an asset's pairs), so a tx checks a bound with one read.
 *
 * Ids in keys: an engine's address (bech32, lowercase), an ecosystem id (a-z, 0-9, "-") and an
 * asset symbol (A-Z, a-z, 0-9): none holds a `/`, so no key of one engine is a prefix of
 * another's entries.
 */
export const conversionModuleName = 'conversion';

export const conversionKeys = {
  engine: (engine: string) => `conversion/engine/${engine}`,
  ecosystems: (engine: string) => `conversion/ecosystem/${engine}/`,
  ecosystem: (engine: string, ecosystem: string) => `conversion/ecosystem/${engine}/${ecosystem}`,
  assets: (engine: string) => `conversion/asset/${engine}/`,
  asset: (engine: string, ecosystem: string, asset: string) =>
    `conversion/asset/${engine}/${ecosystem}/${asset}`,
  pairs: (engine: string) => `conversion/pair/${engine}/`,
  pair: (engine: string, from: PairSide, to: PairSide) =>
    `conversion/pair/${engine}/${from.ecosystem}/${from.asset}/${to.ecosystem}/${to.asset}`,
};

function readJson<T>(state: StateReader, key: string): T | undefined {
  const text = state.get(key);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

function writeJson(state: StateView, key: string, value: unknown): void {
  state.set(key, canonicalize(value));
}

export function readEngine(state: StateReader, engine: string): EngineRecord | undefined {
  return readJson(state, conversionKeys.engine(engine));
}

export function writeEngine(state: StateView, record: EngineRecord): void {
  writeJson(state, conversionKeys.engine(record.address), record);
}

export function readEcosystem(
  state: StateReader,
  engine: string,
  ecosystem: string,
): EcosystemRecord | undefined {
  return readJson(state, conversionKeys.ecosystem(engine, ecosystem));
}

export function writeEcosystem(state: StateView, engine: string, record: EcosystemRecord): void {
  writeJson(state, conversionKeys.ecosystem(engine, record.ecosystem), record);
}

export function deleteEcosystem(state: StateView, engine: string, ecosystem: string): void {
  state.delete(conversionKeys.ecosystem(engine, ecosystem));
}

export function readAsset(
  state: StateReader,
  engine: string,
  ecosystem: string,
  asset: string,
): ConversionAssetRecord | undefined {
  return readJson(state, conversionKeys.asset(engine, ecosystem, asset));
}

export function writeAsset(state: StateView, engine: string, record: ConversionAssetRecord): void {
  writeJson(state, conversionKeys.asset(engine, record.ecosystem, record.asset), record);
}

export function deleteAsset(state: StateView, engine: string, ecosystem: string, asset: string) {
  state.delete(conversionKeys.asset(engine, ecosystem, asset));
}

export function readPair(
  state: StateReader,
  engine: string,
  from: PairSide,
  to: PairSide,
): PairRecord | undefined {
  return readJson(state, conversionKeys.pair(engine, from, to));
}

export function writePair(state: StateView, engine: string, record: PairRecord): void {
  writeJson(state, conversionKeys.pair(engine, record.from, record.to), record);
}

export function deletePair(state: StateView, engine: string, from: PairSide, to: PairSide): void {
  state.delete(conversionKeys.pair(engine, from, to));
}

/** Values under `prefix`, in key order; at most `max` (the bound the handlers keep), asserted. */
function readAll<T>(state: OrderedStateReader, prefix: string, max: number): T[] {
  const entries = state.range(prefix, max + 1);
  if (entries.length > max) throw new Error(`conversion: more than ${max} entries in ${prefix}`);
  return entries.map(([, value]) => JSON.parse(value) as T);
}

export function readEcosystems(state: OrderedStateReader, engine: string): EcosystemRecord[] {
  return readAll(state, conversionKeys.ecosystems(engine), ecosystemsPerEngineMax);
}

export function readAssets(state: OrderedStateReader, engine: string): ConversionAssetRecord[] {
  return readAll(
    state,
    conversionKeys.assets(engine),
    ecosystemsPerEngineMax * assetsPerEcosystemMax,
  );
}

export function readPairs(state: OrderedStateReader, engine: string): PairRecord[] {
  return readAll(state, conversionKeys.pairs(engine), pairsPerEngineMax);
}
