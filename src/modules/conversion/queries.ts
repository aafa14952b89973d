import type { OrderedStateReader } from '../../state/index.js';
import type { EngineConfiguration, EnginePage, EngineRecord } from './schema.js';
import { conversionKeys, readAssets, readEcosystems, readEngine, readPairs } from './state.js';

/** Engines in one page of `listEngines` unless `limit` says otherwise, and at the most. */
export const enginesPageDefault = 50;
export const enginesPageMax = 100;

/**
 * An engine's whole configuration, each list in key order (ecosystems by id, assets by ecosystem
 * then symbol, pairs by from then to), or undefined when the address has no engine. Bounded by
 * the registry's limits: 16 ecosystems, 256 assets, 128 pairs.
 */
export function engineConfiguration(
  state: OrderedStateReader,
  address: string,
): EngineConfiguration | undefined {
  const engine = readEngine(state, address);
  if (!engine) return undefined;
  return {
    engine,
    ecosystems: readEcosystems(state, address),
    assets: readAssets(state, address),
    pairs: readPairs(state, address),
  };
}

/**
 * Engines in address order from just after `after`, `limit` at the most; `next` is the last
 * address of the page while more follow (pass it as `after`). Throws RangeError on a bad `limit`.
 */
export function listEngines(
  state: OrderedStateReader,
  options: { after?: string; limit: number },
): EnginePage {
  const { after, limit } = options;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > enginesPageMax) {
    throw new RangeError(`limit must be a whole number from 1 to ${enginesPageMax}`);
  }
  const prefix = conversionKeys.engine('');
  // One entry more than a page tells whether another page follows.
  const entries = state.range(
    prefix,
    limit + 1,
    after === undefined ? {} : { after: prefix + after },
  );
  const engines = entries.slice(0, limit).map(([, value]) => JSON.parse(value) as EngineRecord);
  const last = engines.at(-1);
  return { engines, next: entries.length > limit && last ? last.address : null };
}
