import { isAddress } from '../crypto/index.js';
import { assetSymbolPattern, decimalsMax, parsePositiveAmount } from '../ledger/index.js';
import { defineTx, type ChainModule } from './module.js';
import { reject, type Rejection } from './rejections.js';

/** Builds a stateless payload parser from per-field readers, rejecting unknown fields. */
type FieldReader<T> = (value: unknown) => T | Rejection;

function parser<T extends Record<string, unknown>>(fields: { [K in keyof T]: FieldReader<T[K]> }) {
  return (payload: Record<string, unknown>): { value: T } | Rejection => {
    // Own properties only: `key in fields` would let `constructor`, `toString` and the other
    // names of Object.prototype through into committed payloads.
    for (const key of Object.keys(payload)) {
      if (!Object.hasOwn(fields, key)) return reject('unknown_field', key);
    }
    const value: Record<string, unknown> = {};
    for (const [key, read] of Object.entries(fields) as [string, FieldReader<unknown>][]) {
      const result = read(payload[key]);
      if (result !== null && typeof result === 'object' && 'code' in result) {
        return { ...(result as Rejection), field: key };
      }
      if (result !== undefined) value[key] = result;
    }
    return { value: value as T };
  };
}

const idPattern = /^[0-9a-f]{64}$/;

const read = {
  symbol: (v: unknown) =>
    typeof v === 'string' && assetSymbolPattern.test(v) ? v : reject('invalid_symbol'),
  address: (v: unknown) => (isAddress(v) ? v : reject('invalid_address')),
  optionalAddress: (v: unknown) =>
    v === undefined ? undefined : isAddress(v) ? v : reject('invalid_address'),
  amount: (v: unknown) => parsePositiveAmount(v) ?? reject('invalid_amount'),
  optionalAmount: (v: unknown) =>
    v === undefined ? undefined : (parsePositiveAmount(v) ?? reject('invalid_amount')),
  decimals: (v: unknown) =>
    Number.isInteger(v) && (v as number) >= 0 && (v as number) <= decimalsMax
      ? (v as number)
      : reject('invalid_decimals'),
  optionalMaxSupply: (v: unknown) =>
    v === undefined ? undefined : (parsePositiveAmount(v) ?? reject('invalid_max_supply')),
  height: (v: unknown) =>
    Number.isSafeInteger(v) && (v as number) > 0 ? (v as number) : reject('invalid_hold_expiry'),
  holdId: (v: unknown) =>
    typeof v === 'string' && idPattern.test(v) ? v : reject('invalid_hold_id'),
  optionalCondition: (v: unknown) =>
    v === undefined
      ? undefined
      : typeof v === 'string' && idPattern.test(v)
        ? v
        : reject('invalid_condition'),
  preimage: (v: unknown) =>
    typeof v === 'string' && /^([0-9a-f]{2}){1,256}$/.test(v) ? v : reject('invalid_preimage'),
};

/**
 * The core tx types: assets, transfers and holds. They are thin: the ledger does the work and
 * returns the rejection, so the same rules hold for module code that moves money.
 */
export const ledgerModule: ChainModule = {
  name: 'ledger',
  txs: {
    'asset.create': defineTx<{ symbol: string; decimals: number; maxSupply?: bigint }>({
      parse: parser({
        symbol: read.symbol,
        decimals: read.decimals,
        maxSupply: read.optionalMaxSupply,
      }),
      execute: (ctx, p) => ctx.ledger.createAsset(ctx.sender, p),
    }),
    'asset.mint': defineTx<{ symbol: string; to: string; amount: bigint }>({
      parse: parser({ symbol: read.symbol, to: read.address, amount: read.amount }),
      execute: (ctx, p) => ctx.ledger.mint(ctx.sender, p.symbol, p.to, p.amount),
    }),
    'asset.burn': defineTx<{ symbol: string; amount: bigint }>({
      parse: parser({ symbol: read.symbol, amount: read.amount }),
      execute: (ctx, p) => ctx.ledger.burn(ctx.sender, p.symbol, p.amount),
    }),
    'asset.freeze': defineTx<{ symbol: string; account: string }>({
      parse: parser({ symbol: read.symbol, account: read.address }),
      execute: (ctx, p) => ctx.ledger.setFrozen(ctx.sender, p.symbol, p.account, true),
    }),
    'asset.unfreeze': defineTx<{ symbol: string; account: string }>({
      parse: parser({ symbol: read.symbol, account: read.address }),
      execute: (ctx, p) => ctx.ledger.setFrozen(ctx.sender, p.symbol, p.account, false),
    }),
    'ledger.transfer': defineTx<{ to: string; asset: string; amount: bigint }>({
      parse: parser({ to: read.address, asset: read.symbol, amount: read.amount }),
      execute: (ctx, p) => ctx.ledger.transfer(ctx.sender, p.to, p.asset, p.amount),
    }),
    'hold.create': defineTx<{
      to: string;
      asset: string;
      amount: bigint;
      expiresAtHeight: number;
      arbiter?: string;
      condition?: string;
    }>({
      parse: parser({
        to: read.address,
        asset: read.symbol,
        amount: read.amount,
        expiresAtHeight: read.height,
        arbiter: read.optionalAddress,
        condition: read.optionalCondition,
      }),
      // The hold's id is the hash of the tx that created it: unique and known to the sender.
      execute: (ctx, p) =>
        ctx.ledger.createHold(
          {
            id: ctx.txHash,
            payer: ctx.sender,
            payee: p.to,
            asset: p.asset,
            amount: p.amount,
            expiresAtHeight: p.expiresAtHeight,
            ...(p.arbiter === undefined ? {} : { arbiter: p.arbiter }),
            ...(p.condition === undefined ? {} : { condition: p.condition }),
          },
          ctx.height,
        ),
    }),
    'hold.post': defineTx<{ holdId: string; amount?: bigint }>({
      parse: parser({ holdId: read.holdId, amount: read.optionalAmount }),
      execute: (ctx, p) => ctx.ledger.postHold(ctx.sender, p.holdId, p.amount),
    }),
    'hold.void': defineTx<{ holdId: string }>({
      parse: parser({ holdId: read.holdId }),
      execute: (ctx, p) => ctx.ledger.voidHold(ctx.sender, p.holdId),
    }),
    'hold.release': defineTx<{ holdId: string; preimage: string }>({
      parse: parser({ holdId: read.holdId, preimage: read.preimage }),
      execute: (ctx, p) => ctx.ledger.releaseHold(p.holdId, p.preimage),
    }),
  },
  beginBlock: (ctx) => ctx.ledger.expireHolds(ctx.height),
};

export { parser as payloadParser, read as payloadReaders };
