import { formatUnits } from '../../../sdk/index.js';
import type {
  ConversionAssetRecord,
  ConversionStatus,
  EcosystemKind,
  EcosystemRecord,
  PairSide,
} from '../client.js';

/* What the conversion pages say, apart from the components so it is tested without a browser:
   basis points as a percentage, minor units in an asset's units, an ecosystem's kind, network and
   block interval, and the settings in words. */

/** Engines in a page of the list (the API gives 1 to 100 a page). */
export const enginesShownMax = 20;

export const statusText: Record<ConversionStatus, string> = {
  active: 'Active',
  paused: 'Paused',
};

export const kindText: Record<EcosystemKind, string> = {
  coffer: 'Coffer chain',
  evm: 'EVM chain',
  http: 'Payment provider',
};

/** `25` basis points (a whole number from 0) as `0.25%`, exactly: integer arithmetic, no trailing zeros. */
export function percentFromBps(bps: number): string {
  const fraction = String(bps % 100)
    .padStart(2, '0')
    .replace(/0+$/, '');
  return `${Math.floor(bps / 100)}${fraction ? `.${fraction}` : ''}%`;
}

/** `100` basis points as `1% (100 bps)`: the percentage and the figure the registry holds. */
export function bpsText(bps: number): string {
  return `${percentFromBps(bps)} (${bps} bps)`;
}

/**
 * Minor units (a decimal string) in the asset's units with its symbol: `150000` of a 2-decimal
 * `USD` is `1500.00 USD`, every decimal kept. An asset the engine does not list (the registry
 * keeps none such: a pair's assets stay registered while it exists) shows its minor units.
 */
export function unitsText(minor: string, asset: ConversionAssetRecord | undefined): string {
  if (!asset || !/^[0-9]+$/.test(minor)) return `${minor} minor units`;
  return `${formatUnits(BigInt(minor), asset.decimals)} ${asset.asset}`;
}

/** An ecosystem's network in words: a chain id, an EVM chain id, a provider's name. */
export function networkText(ecosystem: Pick<EcosystemRecord, 'kind' | 'network'>): string {
  switch (ecosystem.kind) {
    case 'coffer':
      return `chain ${ecosystem.network}`;
    case 'evm':
      return `chain id ${ecosystem.network}`;
    case 'http':
      return `provider ${ecosystem.network}`;
  }
}

/** A Coffer chain's block interval bounds (`50 to 2000 ms`); other kinds have none (`—`). */
export function blockIntervalText(
  ecosystem: Pick<EcosystemRecord, 'blockMsMin' | 'blockMsMax'>,
): string {
  const { blockMsMin, blockMsMax } = ecosystem;
  if (blockMsMin === undefined || blockMsMax === undefined) return '—';
  return blockMsMin === blockMsMax ? `${blockMsMin} ms` : `${blockMsMin} to ${blockMsMax} ms`;
}

/** `n` things, with the noun in the plural unless one: `1 hop`, `3 pairs`. */
export function countText(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

/** An asset as the explorer names it: `USDC on polygon`. */
export function sideText(side: PairSide): string {
  return `${side.asset} on ${side.ecosystem}`;
}

/** The page's sentence for an engine the API does not know (its 404 `engine_not_found`). */
export function engineNotFoundText(address: string): string {
  return `No conversion engine has the address ${address}: its operator creates one with a conversion.setEngine transaction, and every registry transaction acts on its sender's own engine.`;
}
