import { keccak_256 } from '@noble/hashes/sha3.js';
import { z } from 'zod';
import { isAddress } from '../../crypto/index.js';
import { decimalsMax } from '../../protocol/ledger.js';
import { coded, wire } from '../../protocol/schema.js';

/*
 * The conversion module's wire contract (issue 19): the registry of conversion engines. An
 * engine's operator (the sender of its txs; the engine's id is the operator's address) publishes
 * its configuration on the ledger so that every node, and every user, reads the same: the
 * ecosystems it forwards between (other Coffer chains, EVM chains, payment providers), the assets
 * it holds on each, and the pairs it converts with their prices' spread, fees and limits. The
 * engine itself (engine/, evm/, provider/, pricing/) reads this configuration; the ledger only
 * records it. Pure (zod, src/crypto, src/protocol, @noble/hashes): the SDK bundles it.
 *
 * Words: an *engine* (one per operator); an *ecosystem* of an engine (an id the operator picks,
 * its kind, its network and the engine's address there); an *asset* of an ecosystem (a symbol,
 * its decimals, the currency it is worth, the liquidity the engine aims to keep); a *pair* (from
 * an asset to another, by ecosystem and symbol).
 */

// ---- limits --------------------------------------------------------------------------------------

/*
 * An outsider with a fresh key can make an engine, so everything an engine holds is bounded: at
 * most 16 ecosystems, 16 assets on each (256 in all) and 128 pairs, each one state value of at
 * most a few hundred bytes. The whole configuration (what `GET /v1/conversion/engines/{address}`
 * answers) stays under about 100 KiB.
 */
export const ecosystemsPerEngineMax = 16;
export const assetsPerEcosystemMax = 16;
export const pairsPerEngineMax = 128;

export const quoteTtlSecondsMin = 5;
export const quoteTtlSecondsMax = 3600;
export const hopsMaxLimit = 4;
/** Basis points of slippage at most: 10,000 is 100%. */
export const slippageBpsLimit = 10_000;
/** A pair's spread and percentage fee are each at most 50%. */
export const pairBpsMax = 5000;
/** A Coffer ecosystem's block interval bounds, in ms: 1 ms to 10 minutes. */
export const blockMsLimit = 600_000;

export const conversionStatuses = ['active', 'paused'] as const;
export type ConversionStatus = (typeof conversionStatuses)[number];

export const ecosystemKinds = ['coffer', 'evm', 'http'] as const;
export type EcosystemKind = (typeof ecosystemKinds)[number];

/** 1 to 64 printable ASCII characters, no space at either end. */
const engineNamePattern = /^[\x21-\x7e]([\x20-\x7e]{0,62}[\x21-\x7e])?$/;
const ecosystemIdPattern = /^[a-z0-9-]{2,32}$/;
const conversionAssetPattern = /^[A-Za-z0-9]{2,12}$/;
const currencyPattern = /^[A-Z]{3,5}$/;
/** A Coffer chain id (src/chain/genesis.ts). */
const cofferChainIdPattern = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** An EVM chain id: a decimal, no leading zero, at most 2^64 - 1 (EIP-155 ids fit in 64 bits). */
const evmChainIdPattern = /^[1-9][0-9]{0,19}$/;
const evmChainIdMax = 2n ** 64n - 1n;
/** A payment provider's name. */
const providerNamePattern = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** The engine's account at a payment provider: what providers use for account ids. */
const providerAccountPattern = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
const evmAddressPattern = /^0x[0-9a-fA-F]{40}$/;

// ---- pure checks ---------------------------------------------------------------------------------

/**
 * An EVM address: 0x and 40 hex digits, all lowercase, all uppercase, or mixed case with a valid
 * EIP-55 checksum (a mixed-case address with a wrong checksum is a mistyped one).
 */
export function isEvmAddress(value: string): boolean {
  if (!evmAddressPattern.test(value)) return false;
  const hex = value.slice(2);
  if (hex === hex.toLowerCase() || hex === hex.toUpperCase()) return true;
  const lower = hex.toLowerCase();
  const digest = keccak_256(new TextEncoder().encode(lower));
  for (let i = 0; i < 40; i += 1) {
    const nibble = (digest[i >> 1]! >> (i % 2 === 0 ? 4 : 0)) & 0x0f;
    const expected = nibble >= 8 ? lower[i]!.toUpperCase() : lower[i]!;
    if (hex[i] !== expected) return false;
  }
  return true;
}

/** Whether `network` names a network of `kind`: a chain id, an EVM chain id, a provider's name. */
export function isNetworkOf(kind: EcosystemKind, network: string): boolean {
  switch (kind) {
    case 'coffer':
      return cofferChainIdPattern.test(network);
    case 'evm':
      return evmChainIdPattern.test(network) && BigInt(network) <= evmChainIdMax;
    case 'http':
      return providerNamePattern.test(network);
  }
}

/** Whether `address` is an engine's address on an ecosystem of `kind`. */
export function isEngineAddressOf(kind: EcosystemKind, address: string): boolean {
  switch (kind) {
    case 'coffer':
      return isAddress(address);
    case 'evm':
      return isEvmAddress(address);
    case 'http':
      return providerAccountPattern.test(address);
  }
}

// ---- field schemas -------------------------------------------------------------------------------

const status = coded(
  z.enum(conversionStatuses).meta({
    description: 'active or paused',
  }),
  'invalid_conversion_status',
);
const minorUnits = (code: string) => coded(wire.minorUnitsText, code);

export const conversionFields = {
  name: coded(
    z.string().regex(engineNamePattern).meta({
      description: "The engine's name: 1 to 64 printable ASCII characters, no space at either end",
    }),
    'invalid_engine_name',
  ),
  quoteTtlSeconds: coded(
    z.number().int().min(quoteTtlSecondsMin).max(quoteTtlSecondsMax),
    'invalid_quote_ttl',
  ),
  hopsMax: coded(z.number().int().min(1).max(hopsMaxLimit), 'invalid_hops_max'),
  slippageBpsMax: coded(z.number().int().min(0).max(slippageBpsLimit), 'invalid_slippage_bps_max'),
  status,
  ecosystem: coded(
    z.string().regex(ecosystemIdPattern).meta({
      description: 'An ecosystem id the operator picks: 2 to 32 of a-z, 0-9 and "-"',
    }),
    'invalid_ecosystem',
  ),
  kind: coded(z.enum(ecosystemKinds), 'invalid_ecosystem_kind'),
  network: coded(
    z.string().min(1).max(64).meta({
      description:
        'coffer: a Coffer chain id; evm: the EVM chain id as a decimal string; http: the provider name',
    }),
    'invalid_network',
  ),
  engineAddress: coded(
    z.string().min(1).max(128).meta({
      description:
        "The engine's address there: coffer, a cof1 address; evm, a 0x address (EIP-55 if mixed case); http, the provider account id",
    }),
    'invalid_engine_address',
  ),
  blockMs: coded(z.number().int().min(1).max(blockMsLimit), 'invalid_block_interval'),
  asset: coded(
    z.string().regex(conversionAssetPattern).meta({
      description: 'An asset symbol on its ecosystem: 2 to 12 of A-Z, a-z and 0-9',
    }),
    'invalid_conversion_asset',
  ),
  decimals: coded(z.number().int().min(0).max(decimalsMax), 'invalid_decimals'),
  currency: coded(
    z.string().regex(currencyPattern).meta({
      description: 'What the asset is worth: 3 to 5 of A-Z (USDC is worth USD)',
    }),
    'invalid_currency',
  ),
  liquidity: minorUnits('invalid_liquidity'),
  bps: coded(z.number().int().min(0).max(pairBpsMax), 'invalid_pair_bps'),
  feeFixed: minorUnits('invalid_fee_fixed'),
  limit: coded(
    wire.minorUnitsText.refine((text) => text !== '0'),
    'invalid_pair_limits',
  ),
};

/** One side of a pair: an asset on an ecosystem of the engine. */
export const pairSideSchema = z.strictObject({
  ecosystem: conversionFields.ecosystem,
  asset: conversionFields.asset,
});
export type PairSide = z.infer<typeof pairSideSchema>;
const pairSide = coded(pairSideSchema, 'invalid_pair_side');

// ---- tx payloads ---------------------------------------------------------------------------------

export const conversionPayloads = {
  /** Creates or updates the sender's engine. */
  'conversion.setEngine': z.strictObject({
    name: conversionFields.name,
    quoteTtlSeconds: conversionFields.quoteTtlSeconds,
    hopsMax: conversionFields.hopsMax,
    slippageBpsMax: conversionFields.slippageBpsMax,
    status: conversionFields.status,
  }),
  /** Adds or updates an ecosystem of the sender's engine. */
  'conversion.setEcosystem': z.strictObject({
    ecosystem: conversionFields.ecosystem,
    kind: conversionFields.kind,
    network: conversionFields.network,
    engineAddress: conversionFields.engineAddress,
    /** Coffer only (and required there): the chain's fastest block interval, ms. */
    blockMsMin: conversionFields.blockMs.optional(),
    /** Coffer only (and required there): the chain's slowest block interval, ms. */
    blockMsMax: conversionFields.blockMs.optional(),
    status: conversionFields.status,
  }),
  /** Removes an ecosystem that holds no asset. */
  'conversion.removeEcosystem': z.strictObject({ ecosystem: conversionFields.ecosystem }),
  /** Adds or updates an asset on an ecosystem of the sender's engine. */
  'conversion.setAsset': z.strictObject({
    ecosystem: conversionFields.ecosystem,
    asset: conversionFields.asset,
    decimals: conversionFields.decimals,
    currency: conversionFields.currency,
    liquidityLow: conversionFields.liquidity,
    liquidityHigh: conversionFields.liquidity,
  }),
  /** Removes an asset no pair uses. */
  'conversion.removeAsset': z.strictObject({
    ecosystem: conversionFields.ecosystem,
    asset: conversionFields.asset,
  }),
  /** Adds or updates a pair of two registered assets. */
  'conversion.setPair': z.strictObject({
    from: pairSide,
    to: pairSide,
    spreadBps: conversionFields.bps,
    feeBps: conversionFields.bps,
    /** Minor units of the output asset, taken from each conversion's output. */
    feeFixed: conversionFields.feeFixed,
    /** The least input a conversion takes, minor units of the input asset, from 1. */
    min: conversionFields.limit,
    /** The most input a conversion takes, minor units of the input asset. */
    max: conversionFields.limit,
    status: conversionFields.status,
  }),
  'conversion.removePair': z.strictObject({ from: pairSide, to: pairSide }),
};

export type ConversionTxType = keyof typeof conversionPayloads;
export type ConversionPayload<T extends ConversionTxType> = z.input<(typeof conversionPayloads)[T]>;

// ---- records -------------------------------------------------------------------------------------

const int = z.number().int();

/** An engine: its settings and how many ecosystems and pairs it holds. */
export const engineSchema = z.object({
  /** The engine's id: its operator's address, the sender of its txs. */
  address: z.string(),
  name: z.string(),
  quoteTtlSeconds: int,
  hopsMax: int,
  slippageBpsMax: int,
  status: z.enum(conversionStatuses),
  ecosystemCount: int,
  pairCount: int,
  createdAtHeight: int,
  updatedAtHeight: int,
});
export type EngineRecord = z.infer<typeof engineSchema>;

export const ecosystemSchema = z.object({
  ecosystem: z.string(),
  kind: z.enum(ecosystemKinds),
  network: z.string(),
  engineAddress: z.string(),
  blockMsMin: int.optional(),
  blockMsMax: int.optional(),
  status: z.enum(conversionStatuses),
  assetCount: int,
  updatedAtHeight: int,
});
export type EcosystemRecord = z.infer<typeof ecosystemSchema>;

export const conversionAssetSchema = z.object({
  ecosystem: z.string(),
  asset: z.string(),
  decimals: int,
  currency: z.string(),
  liquidityLow: z.string(),
  liquidityHigh: z.string(),
  /** Pairs that convert from or to it: it cannot be removed (nor its decimals change) while any. */
  pairCount: int,
  updatedAtHeight: int,
});
export type ConversionAssetRecord = z.infer<typeof conversionAssetSchema>;

export const pairSchema = z.object({
  from: z.object({ ecosystem: z.string(), asset: z.string() }),
  to: z.object({ ecosystem: z.string(), asset: z.string() }),
  spreadBps: int,
  feeBps: int,
  feeFixed: z.string(),
  min: z.string(),
  max: z.string(),
  status: z.enum(conversionStatuses),
  updatedAtHeight: int,
});
export type PairRecord = z.infer<typeof pairSchema>;

/** `GET /v1/conversion/engines/{address}`: an engine's whole configuration, in key order. */
export const engineConfigurationSchema = z.object({
  engine: engineSchema,
  ecosystems: z.array(ecosystemSchema),
  assets: z.array(conversionAssetSchema),
  pairs: z.array(pairSchema),
});
export type EngineConfiguration = z.infer<typeof engineConfigurationSchema>;

/** `GET /v1/conversion/engines`: engines in address order (`next` continues as `after`). */
export const enginePageSchema = z.strictObject({
  engines: z.array(engineSchema),
  next: z.string().nullable(),
});
export type EnginePage = z.infer<typeof enginePageSchema>;
