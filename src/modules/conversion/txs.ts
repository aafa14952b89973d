import { defineTxOf, reject, type TxContext, type TxDefinition } from '../../chain/index.js';
import type { ConversionRejection } from './rejections.js';
import {
  assetsPerEcosystemMax,
  conversionPayloads,
  ecosystemsPerEngineMax,
  isEngineAddressOf,
  isNetworkOf,
  pairsPerEngineMax,
  type EngineRecord,
  type PairSide,
} from './schema.js';
import {
  deleteAsset,
  deleteEcosystem,
  deletePair,
  readAsset,
  readEcosystem,
  readEngine,
  readPair,
  writeAsset,
  writeEcosystem,
  writeEngine,
  writePair,
} from './state.js';

export { conversionRejections, type ConversionRejection } from './rejections.js';

/*
 * The registry's txs (issue 19). Every tx acts on the sender's own engine: an engine's id is its
 * operator's address and no payload names an engine, so no account can touch another's engine
 * (another account's tx finds its own engine, or `engine_not_found`). Each handler checks, in
 * order: the engine, then what the tx names (ecosystem, asset, pair), then the bound it would
 * pass, then the rule that keeps the records consistent (no pair without its two assets, no asset
 * without its ecosystem, counts equal to the entries they count). Deterministic: no clock (heights
 * come from the context), no float (amounts stay decimal strings, compared as bigints).
 */

type Outcome = ConversionRejection | undefined;

/** The engine after a change of its configuration: counts moved by `delta`, the height now. */
function touched(
  ctx: TxContext,
  engine: EngineRecord,
  delta: { ecosystems?: number; pairs?: number } = {},
): EngineRecord {
  return {
    ...engine,
    ecosystemCount: engine.ecosystemCount + (delta.ecosystems ?? 0),
    pairCount: engine.pairCount + (delta.pairs ?? 0),
    updatedAtHeight: ctx.height,
  };
}

const sameSide = (a: PairSide, b: PairSide) => a.ecosystem === b.ecosystem && a.asset === b.asset;

/** The first side of a pair whose ecosystem or asset the engine lacks, as a rejection. */
function missingSide(ctx: TxContext, sides: PairSide[]): Outcome {
  for (const side of sides) {
    if (!readEcosystem(ctx.state, ctx.sender, side.ecosystem)) return 'ecosystem_not_found';
    if (!readAsset(ctx.state, ctx.sender, side.ecosystem, side.asset)) {
      return 'asset_not_registered';
    }
  }
  return undefined;
}

/** Moves the pair count of both assets of a pair by `delta`. */
function countPairOnAssets(ctx: TxContext, sides: PairSide[], delta: number): void {
  for (const side of sides) {
    const asset = readAsset(ctx.state, ctx.sender, side.ecosystem, side.asset)!;
    writeAsset(ctx.state, ctx.sender, { ...asset, pairCount: asset.pairCount + delta });
  }
}

export const conversionTxs: Record<string, TxDefinition<never>> = {
  'conversion.setEngine': defineTxOf(conversionPayloads['conversion.setEngine'], {
    execute: (ctx, p): Outcome => {
      const existing = readEngine(ctx.state, ctx.sender);
      writeEngine(ctx.state, {
        address: ctx.sender,
        name: p.name,
        quoteTtlSeconds: p.quoteTtlSeconds,
        hopsMax: p.hopsMax,
        slippageBpsMax: p.slippageBpsMax,
        status: p.status,
        ecosystemCount: existing?.ecosystemCount ?? 0,
        pairCount: existing?.pairCount ?? 0,
        createdAtHeight: existing?.createdAtHeight ?? ctx.height,
        updatedAtHeight: ctx.height,
      });
      ctx.emit('conversion.engineSet', { engine: ctx.sender, ...p, created: !existing });
      return undefined;
    },
  }),

  'conversion.setEcosystem': defineTxOf(conversionPayloads['conversion.setEcosystem'], {
    check: (p) => {
      if (!isNetworkOf(p.kind, p.network)) return reject('invalid_network', 'network');
      if (!isEngineAddressOf(p.kind, p.engineAddress)) {
        return reject('invalid_engine_address', 'engineAddress');
      }
      if (p.kind === 'coffer') {
        // The engine bounds a wall-clock expiry on that chain by these: both are needed.
        if (p.blockMsMin === undefined) return reject('invalid_block_interval', 'blockMsMin');
        if (p.blockMsMax === undefined || p.blockMsMax < p.blockMsMin) {
          return reject('invalid_block_interval', 'blockMsMax');
        }
      } else {
        if (p.blockMsMin !== undefined) return reject('invalid_block_interval', 'blockMsMin');
        if (p.blockMsMax !== undefined) return reject('invalid_block_interval', 'blockMsMax');
      }
      return undefined;
    },
    execute: (ctx, p): Outcome => {
      const engine = readEngine(ctx.state, ctx.sender);
      if (!engine) return 'engine_not_found';
      const existing = readEcosystem(ctx.state, ctx.sender, p.ecosystem);
      if (!existing && engine.ecosystemCount >= ecosystemsPerEngineMax) {
        return 'too_many_ecosystems';
      }
      // Its assets are of that kind of ledger (an ERC-20, a Coffer asset, a provider's balance):
      // the kind changes only on an empty ecosystem.
      if (existing && existing.kind !== p.kind && existing.assetCount > 0) {
        return 'ecosystem_in_use';
      }
      writeEcosystem(ctx.state, ctx.sender, {
        ...p,
        assetCount: existing?.assetCount ?? 0,
        updatedAtHeight: ctx.height,
      });
      writeEngine(ctx.state, touched(ctx, engine, { ecosystems: existing ? 0 : 1 }));
      ctx.emit('conversion.ecosystemSet', { engine: ctx.sender, ...p, created: !existing });
      return undefined;
    },
  }),

  'conversion.removeEcosystem': defineTxOf(conversionPayloads['conversion.removeEcosystem'], {
    execute: (ctx, p): Outcome => {
      const engine = readEngine(ctx.state, ctx.sender);
      if (!engine) return 'engine_not_found';
      const existing = readEcosystem(ctx.state, ctx.sender, p.ecosystem);
      if (!existing) return 'ecosystem_not_found';
      if (existing.assetCount > 0) return 'ecosystem_in_use';
      deleteEcosystem(ctx.state, ctx.sender, p.ecosystem);
      writeEngine(ctx.state, touched(ctx, engine, { ecosystems: -1 }));
      ctx.emit('conversion.ecosystemRemoved', { engine: ctx.sender, ecosystem: p.ecosystem });
      return undefined;
    },
  }),

  'conversion.setAsset': defineTxOf(conversionPayloads['conversion.setAsset'], {
    check: (p) =>
      BigInt(p.liquidityLow) > BigInt(p.liquidityHigh)
        ? reject('invalid_liquidity', 'liquidityHigh')
        : undefined,
    execute: (ctx, p): Outcome => {
      const engine = readEngine(ctx.state, ctx.sender);
      if (!engine) return 'engine_not_found';
      const ecosystem = readEcosystem(ctx.state, ctx.sender, p.ecosystem);
      if (!ecosystem) return 'ecosystem_not_found';
      const existing = readAsset(ctx.state, ctx.sender, p.ecosystem, p.asset);
      if (!existing && ecosystem.assetCount >= assetsPerEcosystemMax) return 'too_many_assets';
      // A pair's min, max and fixed fee are minor units of its assets: new decimals would rescale
      // them silently.
      if (existing && existing.pairCount > 0 && existing.decimals !== p.decimals) {
        return 'asset_in_use';
      }
      writeAsset(ctx.state, ctx.sender, {
        ...p,
        pairCount: existing?.pairCount ?? 0,
        updatedAtHeight: ctx.height,
      });
      if (!existing) {
        writeEcosystem(ctx.state, ctx.sender, {
          ...ecosystem,
          assetCount: ecosystem.assetCount + 1,
        });
      }
      writeEngine(ctx.state, touched(ctx, engine));
      ctx.emit('conversion.assetSet', { engine: ctx.sender, ...p, created: !existing });
      return undefined;
    },
  }),

  'conversion.removeAsset': defineTxOf(conversionPayloads['conversion.removeAsset'], {
    execute: (ctx, p): Outcome => {
      const engine = readEngine(ctx.state, ctx.sender);
      if (!engine) return 'engine_not_found';
      const ecosystem = readEcosystem(ctx.state, ctx.sender, p.ecosystem);
      if (!ecosystem) return 'ecosystem_not_found';
      const existing = readAsset(ctx.state, ctx.sender, p.ecosystem, p.asset);
      if (!existing) return 'asset_not_registered';
      if (existing.pairCount > 0) return 'asset_in_use';
      deleteAsset(ctx.state, ctx.sender, p.ecosystem, p.asset);
      writeEcosystem(ctx.state, ctx.sender, { ...ecosystem, assetCount: ecosystem.assetCount - 1 });
      writeEngine(ctx.state, touched(ctx, engine));
      ctx.emit('conversion.assetRemoved', {
        engine: ctx.sender,
        ecosystem: p.ecosystem,
        asset: p.asset,
      });
      return undefined;
    },
  }),

  'conversion.setPair': defineTxOf(conversionPayloads['conversion.setPair'], {
    check: (p) => {
      if (sameSide(p.from, p.to)) return reject('pair_same_asset', 'to');
      if (BigInt(p.min) > BigInt(p.max)) return reject('invalid_pair_limits', 'max');
      return undefined;
    },
    execute: (ctx, p): Outcome => {
      const engine = readEngine(ctx.state, ctx.sender);
      if (!engine) return 'engine_not_found';
      const missing = missingSide(ctx, [p.from, p.to]);
      if (missing) return missing;
      const existing = readPair(ctx.state, ctx.sender, p.from, p.to);
      if (!existing && engine.pairCount >= pairsPerEngineMax) return 'too_many_pairs';
      writePair(ctx.state, ctx.sender, { ...p, updatedAtHeight: ctx.height });
      if (!existing) countPairOnAssets(ctx, [p.from, p.to], 1);
      writeEngine(ctx.state, touched(ctx, engine, { pairs: existing ? 0 : 1 }));
      ctx.emit('conversion.pairSet', { engine: ctx.sender, ...p, created: !existing });
      return undefined;
    },
  }),

  'conversion.removePair': defineTxOf(conversionPayloads['conversion.removePair'], {
    execute: (ctx, p): Outcome => {
      const engine = readEngine(ctx.state, ctx.sender);
      if (!engine) return 'engine_not_found';
      if (!readPair(ctx.state, ctx.sender, p.from, p.to)) return 'pair_not_found';
      deletePair(ctx.state, ctx.sender, p.from, p.to);
      countPairOnAssets(ctx, [p.from, p.to], -1);
      writeEngine(ctx.state, touched(ctx, engine, { pairs: -1 }));
      ctx.emit('conversion.pairRemoved', { engine: ctx.sender, from: p.from, to: p.to });
      return undefined;
    },
  }),
};
