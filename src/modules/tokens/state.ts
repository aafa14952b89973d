import { canonicalize } from '../../crypto/index.js';
import type { StateReader, StateView } from '../../state/index.js';
import type { Participant, TokenRecord, TokenService } from './schema.js';

/**
 * The module's name and state namespace: every key below starts with `tokens/`. Each record is
 * one bounded value: a token's history lives in its txs and events on the chain, its record keeps
 * only the current status, sequence number and counters.
 */
export const tokensModuleName = 'tokens';

/**
 * Whom a BIN belongs to: an issuer's card range, the service's token range, or a token range the
 * service dropped (`retiredToken`): tokens issued in it keep their numbers, so it is reserved
 * forever and never becomes an issuer's BIN (a PAN could otherwise equal a live token).
 */
export type BinOwner =
  { kind: 'issuer'; issuer: string } | { kind: 'token' } | { kind: 'retiredToken' };

export type ParticipantRecord = Participant;
export type TokenServiceRecord = TokenService;
export type { TokenRecord };

export const tokensKeys = {
  service: 'tokens/service',
  participant: (address: string) => `tokens/participant/${address}`,
  bin: (bin: string) => `tokens/bin/${bin}`,
  token: (token: string) => `tokens/token/${token}`,
  /** A requestor's used request id, value the token it provisioned. */
  request: (requestor: string, requestId: string) => `tokens/request/${requestor}/${requestId}`,
};

function readJson<T>(state: StateReader, key: string): T | undefined {
  const text = state.get(key);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

function writeJson(state: StateView, key: string, value: unknown): void {
  state.set(key, canonicalize(value));
}

/** The service's token BINs, if configured. */
export function readService(state: StateReader): TokenServiceRecord | undefined {
  return readJson(state, tokensKeys.service);
}

export function writeService(state: StateView, record: TokenServiceRecord): void {
  writeJson(state, tokensKeys.service, record);
}

/** A registered participant (usable by other modules: issue 18's cards check roles here). */
export function readParticipant(
  state: StateReader,
  address: string,
): ParticipantRecord | undefined {
  return readJson(state, tokensKeys.participant(address));
}

export function writeParticipant(state: StateView, record: ParticipantRecord): void {
  writeJson(state, tokensKeys.participant(record.address), record);
}

/** True when `address` is registered with `role`. */
export function hasRole(
  state: StateReader,
  address: string,
  role: ParticipantRecord['roles'][number],
): boolean {
  return readParticipant(state, address)?.roles.includes(role) ?? false;
}

export function readBinOwner(state: StateReader, bin: string): BinOwner | undefined {
  return readJson(state, tokensKeys.bin(bin));
}

export function writeBinOwner(state: StateView, bin: string, owner: BinOwner): void {
  writeJson(state, tokensKeys.bin(bin), owner);
}

/** A token's record, vault envelope included. */
export function readToken(state: StateReader, token: string): TokenRecord | undefined {
  return readJson(state, tokensKeys.token(token));
}

export function writeToken(state: StateView, record: TokenRecord): void {
  writeJson(state, tokensKeys.token(record.token), record);
}

export function readRequest(
  state: StateReader,
  requestor: string,
  requestId: string,
): string | undefined {
  return readJson(state, tokensKeys.request(requestor, requestId));
}

export function writeRequest(
  state: StateView,
  requestor: string,
  requestId: string,
  token: string,
): void {
  writeJson(state, tokensKeys.request(requestor, requestId), token);
}
