import './printing.css';

import { client } from '../../../../web/src/node.js';
import type { PrintTokenRecord } from '../client.js';
import { canCancel, tokenStateText, type AssetDecimals } from './words.js';

/* The printing pages' shared pieces: the assets' decimals and a token's state. */

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

/** A token's state in words, coloured by kind (by this browser's clock, as the chain's rule). */
export function TokenState(props: { token: PrintTokenRecord }) {
  const { token } = props;
  const now = Date.now();
  const kind =
    token.status === 'issued' && now >= token.expiresAt
      ? 'expired'
      : token.status === 'printing' && canCancel(token, now)
        ? 'stalled'
        : token.status;
  return (
    <span class={`printing-state ${kind}`} data-status={token.status} data-testid="token-state">
      {tokenStateText(token, now)}
    </span>
  );
}
