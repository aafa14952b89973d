import type { TxDefinition } from '../../chain/index.js';
import { bankTxs } from './txs-banks.js';
import { creditTxs } from './txs-credits.js';
import { timecreditsPayloads } from './schema.js';

export { timecreditsRejections, type TimecreditsRejection } from './rejections.js';
export {
  allianceOrigin,
  lapseExpiredLots,
  moveMinutes,
  noticeExpiringLots,
  timecreditsBeginBlock,
} from './lots.js';

/**
 * The module's tx types, each parsed by its payload schema (schema.ts) and run by its handler:
 * the banks' own txs in txs-banks.ts, those that move credits in txs-credits.ts, the lot
 * mechanics they share in lots.ts. In the order of the payload schemas (the order they have
 * always been registered in).
 */
export const timecreditsTxs: Record<string, TxDefinition<never>> = Object.fromEntries(
  Object.keys(timecreditsPayloads).map((type) => {
    const definition = bankTxs[type] ?? creditTxs[type];
    if (definition === undefined) throw new Error(`timecredits: no handler for ${type}`);
    return [type, definition];
  }),
);
