import type { BlockStore, OrderedStateReader, StateReader } from '../../state/index.js';
import {
  producerKeys,
  readParams,
  readProducer,
  readProducers,
  readSeen,
  readValidatorSet,
  type NonceRangeEntry,
  type ProducerRecord,
  type RegistryParams,
  type ValidatorSet,
} from './state.js';

/**
 * One producer, or undefined; an active one with `lastSeenHeight`, the last height it produced a
 * block or was activated at (what downtime jailing measures).
 */
export function getProducer(
  state: StateReader,
  id: string,
): (ProducerRecord & { lastSeenHeight?: number }) | undefined {
  const record = readProducer(state, id);
  if (!record) return undefined;
  const seen = record.status === 'active' ? readSeen(state, id) : undefined;
  return seen === undefined ? record : { ...record, lastSeenHeight: seen };
}

/**
 * The validators as committed state names them: the active producers (sorted by id) and their
 * operators, distinct (an operator's key signs attestations and approvals and counts once). The
 * one set finality counts and `GET /v1/finality` shows; the quorum over it is
 * `validatorQuorum(set.operators)` (src/consensus/jetstream/finality.ts).
 */
export function activeValidatorSet(state: StateReader): ValidatorSet {
  return readValidatorSet(state);
}

/** Every producer, sorted by id (at most producersMax): one ordered read of the records. */
export function listProducers(state: OrderedStateReader): ProducerRecord[] {
  return readProducers(state);
}

export function producerParams(state: StateReader): RegistryParams | undefined {
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
