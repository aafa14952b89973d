import { z } from 'zod';
import { decimalsMax } from '../ledger/amount.js';
import { coded, wire } from './schema.js';

/*
 * The core tx types' payloads (assets, transfers, holds): the node parses them with these
 * (src/chain/ledger-module.ts), the SDK builds them (`txs`) and the OpenAPI document shows them.
 */

/** An asset symbol: an uppercase letter, then 1 to 11 uppercase letters or digits. */
export const assetSymbolPattern = /^[A-Z][A-Z0-9]{1,11}$/;
/** A hold lives at most this many blocks: it bounds the expiry index and a payer's lock-up. */
export const holdDurationBlocksMax = 10_000_000;
/** The most decimals an asset may have (src/ledger/amount.ts, which is pure). */
export { decimalsMax };

const field = {
  symbol: coded(z.string().regex(assetSymbolPattern), 'invalid_symbol'),
  address: coded(wire.address, 'invalid_address'),
  amount: coded(wire.positiveAmount, 'invalid_amount'),
  decimals: coded(z.number().int().min(0).max(decimalsMax), 'invalid_decimals'),
  maxSupply: coded(wire.positiveAmount, 'invalid_max_supply'),
  expiresAtHeight: coded(wire.height, 'invalid_hold_expiry'),
  holdId: coded(wire.hash, 'invalid_hold_id'),
  condition: coded(wire.hash, 'invalid_condition'),
  preimage: coded(z.string().regex(/^([0-9a-f]{2}){1,256}$/), 'invalid_preimage'),
};

export const ledgerPayloads = {
  'asset.create': z.strictObject({
    symbol: field.symbol,
    decimals: field.decimals,
    maxSupply: field.maxSupply.optional(),
  }),
  'asset.mint': z.strictObject({ symbol: field.symbol, to: field.address, amount: field.amount }),
  'asset.burn': z.strictObject({ symbol: field.symbol, amount: field.amount }),
  'asset.freeze': z.strictObject({ symbol: field.symbol, account: field.address }),
  'asset.unfreeze': z.strictObject({ symbol: field.symbol, account: field.address }),
  'ledger.transfer': z.strictObject({
    to: field.address,
    asset: field.symbol,
    amount: field.amount,
  }),
  'hold.create': z.strictObject({
    to: field.address,
    asset: field.symbol,
    amount: field.amount,
    expiresAtHeight: field.expiresAtHeight,
    arbiter: field.address.optional(),
    condition: field.condition.optional(),
  }),
  'hold.post': z.strictObject({ holdId: field.holdId, amount: field.amount.optional() }),
  'hold.void': z.strictObject({ holdId: field.holdId }),
  'hold.release': z.strictObject({ holdId: field.holdId, preimage: field.preimage }),
};

/** A core payload as sent: amounts are decimal strings of minor units. */
export type LedgerPayload<T extends keyof typeof ledgerPayloads> = z.input<
  (typeof ledgerPayloads)[T]
>;
