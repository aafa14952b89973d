import type { StateReader } from '../../state/index.js';
import type { TokenView } from './schema.js';
import {
  readParticipant,
  readService,
  readToken,
  type ParticipantRecord,
  type TokenServiceRecord,
} from './state.js';

/*
 * Reads of committed state for the routes, and for other modules (issue 18's cards read a token's
 * status and a participant's roles through these).
 */

/** A token as anyone may read it: its record without the vault envelope and the fingerprint. */
export function getToken(state: StateReader, token: string): TokenView | undefined {
  const record = readToken(state, token);
  if (!record) return undefined;
  const { vault: _vault, fingerprint: _fingerprint, ...view } = record;
  return view;
}

/** A registered participant, with its roles and (issuers) BINs. */
export function getParticipant(state: StateReader, address: string): ParticipantRecord | undefined {
  return readParticipant(state, address);
}

/** The token service's configuration (its token BINs), once configured. */
export function getTokenService(state: StateReader): TokenServiceRecord | undefined {
  return readService(state);
}
