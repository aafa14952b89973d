import type { ChainModule } from '../../chain/index.js';
import { timecreditsModuleName } from './state.js';
import { timecreditsBeginBlock, timecreditsRejections, timecreditsTxs } from './txs.js';

export * from './state.js';
export * from './queries.js';
export {
  allianceOrigin,
  bankIdOf,
  hashUserId,
  issuanceRequestHash,
  minutesMax,
  timecreditsRejections,
  type IssuanceAuthorization,
  type IssuanceRequest,
  type Payment,
  type TimecreditsRejection,
} from './txs.js';

/**
 * Time banks and time credits (issue 5): banks with coordinators and a policy (expiry, demurrage
 * or neither) that changes only forward (each lot keeps its terms), members known by a salted
 * identifier hash, issuance of lots with a base time (by a coordinator, or relayed with a
 * coordinator's signed authorization), offers and requests, exchanges confirmed by both parties,
 * one-to-many payments, transfers between allied banks, and in `beginBlock` eager expiry and
 * expiry notices.
 */
export const timecreditsModule: ChainModule = {
  name: timecreditsModuleName,
  txs: timecreditsTxs,
  rejections: timecreditsRejections,
  beginBlock: timecreditsBeginBlock,
};
