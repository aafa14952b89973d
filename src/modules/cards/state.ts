import { canonicalize } from '../../crypto/index.js';
import type { StateReader, StateView } from '../../state/index.js';
import type { CardDeviceRecord, CardRecord, CardTokenRecord } from './schema.js';

/**
 * The module's name and state namespace: every key below starts with `cards/`. Each record is one
 * bounded value: a card lists at most `cardDevicesMax` devices, a card on a device at most its
 * issuer's `tokensMax` unconsumed tokens; a consumed token keeps its record (what consumed it),
 * the history is in the blocks.
 */
export const cardsModuleName = 'cards';

export const cardsKeys = {
  card: (card: string) => `cards/card/${card}`,
  cardDevice: (card: string, device: string) => `cards/device/${card}/${device}`,
  token: (token: string) => `cards/token/${token}`,
  /** The card a vault token backs: one card at a time (another once it is closed). */
  byVaultToken: (token: string) => `cards/by-token/${token}`,
};

function readJson<T>(state: StateReader, key: string): T | undefined {
  const text = state.get(key);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

function writeJson(state: StateView, key: string, value: unknown): void {
  state.set(key, canonicalize(value));
}

export function readCard(state: StateReader, card: string): CardRecord | undefined {
  return readJson(state, cardsKeys.card(card));
}

export function writeCard(state: StateView, record: CardRecord): void {
  writeJson(state, cardsKeys.card(record.card), record);
}

export function readCardDevice(
  state: StateReader,
  card: string,
  device: string,
): CardDeviceRecord | undefined {
  return readJson(state, cardsKeys.cardDevice(card, device));
}

export function writeCardDevice(state: StateView, record: CardDeviceRecord): void {
  writeJson(state, cardsKeys.cardDevice(record.card, record.device), record);
}

export function readCardToken(state: StateReader, token: string): CardTokenRecord | undefined {
  return readJson(state, cardsKeys.token(token));
}

export function writeCardToken(state: StateView, record: CardTokenRecord): void {
  writeJson(state, cardsKeys.token(record.token), record);
}

export function readCardOfVaultToken(state: StateReader, token: string): string | undefined {
  return state.get(cardsKeys.byVaultToken(token));
}

export function writeCardOfVaultToken(state: StateView, token: string, card: string): void {
  state.set(cardsKeys.byVaultToken(token), card);
}

export function deleteCardToken(state: StateView, token: string): void {
  state.delete(cardsKeys.token(token));
}
