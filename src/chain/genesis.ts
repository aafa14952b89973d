import { isAddress } from '../crypto/index.js';
import { Ledger, parsePositiveAmount, textState } from '../ledger/index.js';
import type { ChainModule } from './module.js';
import { StateView, type StateReader, type WriteSet } from '../state/index.js';

/** The chain's starting point: written once by `coffer init`, identical on every node. */
export interface Genesis {
  chainId: string;
  /** Unix milliseconds; the time of block 0. */
  time: number;
  /** Address of the block producer (the solo node's key). */
  producer: string;
  assets: { symbol: string; decimals: number; issuer: string; maxSupply?: string }[];
  balances: { address: string; asset: string; amount: string }[];
  /** Sections for modules with a genesis step, by module name (`producers`: the registry). */
  modules?: Record<string, unknown>;
}

const chainIdPattern = /^[a-z0-9][a-z0-9-]{0,62}$/;

export class GenesisError extends Error {
  readonly code = 'invalid_genesis';
}

/** Applies a genesis document to empty state through the ledger, so its rules hold from block 0. */
export function genesisWrites(genesis: Genesis, modules: readonly ChainModule[] = []): WriteSet {
  if (!chainIdPattern.test(genesis.chainId)) {
    throw new GenesisError('genesis.chainId: 1 to 63 characters of a-z, 0-9 and -');
  }
  if (!Number.isSafeInteger(genesis.time) || genesis.time < 0)
    throw new GenesisError('genesis.time');
  if (!isAddress(genesis.producer)) throw new GenesisError('genesis.producer: not an address');
  const empty: StateReader = { get: () => undefined };
  const view = new StateView(empty);
  // Text only: a genesis writes each account once and never reads it back, and records held to
  // the end cost a million-account genesis ~200 MB more peak memory (measured).
  const ledger = new Ledger(textState(view));
  for (const [index, asset] of genesis.assets.entries()) {
    const maxSupply =
      asset.maxSupply === undefined ? undefined : parsePositiveAmount(asset.maxSupply);
    if (asset.maxSupply !== undefined && maxSupply === undefined) {
      throw new GenesisError(`genesis.assets[${index}].maxSupply: invalid_max_supply`);
    }
    if (!isAddress(asset.issuer))
      throw new GenesisError(`genesis.assets[${index}].issuer: invalid_address`);
    const rejection = ledger.createAsset(asset.issuer, {
      symbol: asset.symbol,
      decimals: asset.decimals,
      ...(maxSupply === undefined ? {} : { maxSupply }),
    });
    if (rejection) throw new GenesisError(`genesis.assets[${index}]: ${rejection}`);
  }
  for (const [index, entry] of genesis.balances.entries()) {
    const amount = parsePositiveAmount(entry.amount);
    if (amount === undefined)
      throw new GenesisError(`genesis.balances[${index}].amount: invalid_amount`);
    const issuer = ledger.asset(entry.asset)?.issuer;
    if (issuer === undefined)
      throw new GenesisError(`genesis.balances[${index}].asset: asset_not_found`);
    const rejection = ledger.mint(issuer, entry.asset, entry.address, amount);
    if (rejection) throw new GenesisError(`genesis.balances[${index}]: ${rejection}`);
    view.release(); // nothing here is ever reverted: keep a million-account genesis small
  }
  for (const module of modules) {
    const section = genesis.modules?.[module.name];
    if (module.genesis && section !== undefined) {
      module.genesis({ state: view, ledger }, section, { chainId: genesis.chainId });
    }
  }
  return view.writes();
}
