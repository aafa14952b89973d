import type { ChainModule } from '../../chain/index.js';
import { timecreditsModuleName } from './state.js';
import { lapseExpiredLots, timecreditsRejections, timecreditsTxs } from './txs.js';

export * from './state.js';
export * from './queries.js';
export {
  bankIdOf,
  hashUserId,
  minutesMax,
  timecreditsRejections,
  type TimecreditsRejection,
} from './txs.js';

/**
 * Time banks and time credits (issue 5): banks with coordinators and a policy (expiry, demurrage
 * or neither), members known by a salted identifier hash, issuance of lots with a base time,
 * exchanges confirmed by both parties, and eager expiry in `beginBlock`.
 */
export const timecreditsModule: ChainModule = {
  name: timecreditsModuleName,
  txs: timecreditsTxs,
  rejections: timecreditsRejections,
  beginBlock: lapseExpiredLots,
};
