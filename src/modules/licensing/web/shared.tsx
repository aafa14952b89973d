import './licensing.css';

import { client } from '../../../../web/src/node.js';
import type { AgreementRecord } from '../client.js';
import { agreementStateText, type AssetDecimals } from './words.js';

/* The licensing pages' shared pieces: the assets' decimals and an agreement's state. */

/**
 * The decimals of the assets a page shows, from the ledger's asset records (an asset's decimals
 * never change, so each symbol is read once per page load; a failed read is not kept).
 */
const assetRecords = new Map<string, Promise<AssetDecimals>>();

export async function assetsOf(symbols: string[]): Promise<Map<string, AssetDecimals>> {
  const unique = [...new Set(symbols)];
  const records = await Promise.all(
    unique.map((symbol) => {
      let record = assetRecords.get(symbol);
      if (!record) {
        record = client.getAsset(symbol).then((a) => ({ symbol: a.symbol, decimals: a.decimals }));
        record.catch(() => assetRecords.delete(symbol));
        assetRecords.set(symbol, record);
      }
      return record;
    }),
  );
  return new Map(records.map((a) => [a.symbol, a]));
}

/** An agreement's state in words (revoked, expired by this browser's clock, active). */
export function AgreementState(props: { agreement: AgreementRecord }) {
  const text = agreementStateText(props.agreement, Date.now());
  const kind =
    props.agreement.status === 'revoked' ? 'revoked' : text === 'Expired' ? 'expired' : 'active';
  return (
    <span class={`licensing-status ${kind}`} data-status={kind}>
      {text}
    </span>
  );
}
