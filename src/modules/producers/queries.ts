import type { BlockStore, StateReader } from '../../state/index.js';
import {
  producerKeys,
  readParams,
  readProducer,
  readProducerIds,
  type NonceRangeEntry,
  type ProducerParams,
  type ProducerRecord,
} from './state.js';

/** One producer, or undefined. */
export function getProducer(state: StateReader, id: string): ProducerRecord | undefined {
  return readProducer(state, id);
}

/** Every producer, sorted by id (at most producersMax). */
export function listProducers(state: StateReader): ProducerRecord[] {
  return readProducerIds(state).flatMap((id) => readProducer(state, id) ?? []);
}

export function producerParams(state: StateReader): ProducerParams | undefined {
  return readParams(state);
}

/** Most history entries one query answers; a producer's history is paged by height. */
export const nonceRangeHistoryPageMax = 1_000;

/**
 * A producer's committed nonce ranges from `fromHeight` on, ascending, with the tx and height
 * that committed each (the record itself keeps only the ranges still ahead).
 */
export function nonceRangeHistory(
  store: Pick<BlockStore, 'scan'>,
  id: string,
  fromHeight = 0,
  limit = nonceRangeHistoryPageMax,
): NonceRangeEntry[] {
  const entries: NonceRangeEntry[] = [];
  for (const [, text] of store.scan(producerKeys.nonceRanges(id))) {
    const entry = JSON.parse(text) as NonceRangeEntry;
    if (entry.fromHeight + entry.count <= fromHeight) continue;
    entries.push(entry);
    if (entries.length >= limit) break;
  }
  return entries;
}
