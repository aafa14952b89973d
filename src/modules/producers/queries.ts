import type { StateReader } from '../../state/index.js';
import {
  readParams,
  readProducer,
  readProducerIds,
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
