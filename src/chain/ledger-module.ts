import { ledgerPayloads } from '../protocol/ledger.js';
import { type ChainModule } from './module.js';
import { defineTxOf } from './payload.js';

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
