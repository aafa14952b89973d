import { isAddress } from '../crypto/index.js';
import { assetSymbolPattern, decimalsMax, parsePositiveAmount } from '../ledger/index.js';
import { ledgerPayloads } from '../protocol/ledger.js';
import { type ChainModule } from './module.js';
import { defineTxOf } from './payload.js';
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
 * The core tx types: assets, transfers and holds, parsed by their schemas (src/protocol/ledger.ts).
 * They are thin: the ledger does the work and returns the rejection, so the same rules hold for
 * module code that moves money.
 */
export const ledgerModule: ChainModule = {
  name: 'ledger',
  txs: {
    'asset.create': defineTxOf(ledgerPayloads['asset.create'], {
      execute: (ctx, p) => ctx.ledger.createAsset(ctx.sender, p),
    }),
    'asset.mint': defineTxOf(ledgerPayloads['asset.mint'], {
      execute: (ctx, p) => ctx.ledger.mint(ctx.sender, p.symbol, p.to, p.amount),
    }),
    'asset.burn': defineTxOf(ledgerPayloads['asset.burn'], {
      execute: (ctx, p) => ctx.ledger.burn(ctx.sender, p.symbol, p.amount),
    }),
    'asset.freeze': defineTxOf(ledgerPayloads['asset.freeze'], {
      execute: (ctx, p) => ctx.ledger.setFrozen(ctx.sender, p.symbol, p.account, true),
    }),
    'asset.unfreeze': defineTxOf(ledgerPayloads['asset.unfreeze'], {
      execute: (ctx, p) => ctx.ledger.setFrozen(ctx.sender, p.symbol, p.account, false),
    }),
    'ledger.transfer': defineTxOf(ledgerPayloads['ledger.transfer'], {
      execute: (ctx, p) => ctx.ledger.transfer(ctx.sender, p.to, p.asset, p.amount),
    }),
    'hold.create': defineTxOf(ledgerPayloads['hold.create'], {
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
    'hold.post': defineTxOf(ledgerPayloads['hold.post'], {
      execute: (ctx, p) => ctx.ledger.postHold(ctx.sender, p.holdId, p.amount),
    }),
    'hold.void': defineTxOf(ledgerPayloads['hold.void'], {
      execute: (ctx, p) => ctx.ledger.voidHold(ctx.sender, p.holdId),
    }),
    'hold.release': defineTxOf(ledgerPayloads['hold.release'], {
      execute: (ctx, p) => ctx.ledger.releaseHold(p.holdId, p.preimage),
    }),
  },
  beginBlock: (ctx) => ctx.ledger.expireHolds(ctx.height),
};

export { parser as payloadParser, read as payloadReaders };
