import { type AccountRecord, type AssetRecord, type HoldRecord } from './records.js';

const accountPrefix = 'ledger/account/';
const assetPrefix = 'ledger/asset/';
const holdPrefix = 'ledger/hold/';

function addTo(map: Map<string, bigint>, symbol: string, delta: bigint): void {
  map.set(symbol, (map.get(symbol) ?? 0n) + delta);
}

function accountTotals(text: string | undefined, into: Map<string, bigint>, sign: bigint): void {
  if (text === undefined) return;
  const account = JSON.parse(text) as AccountRecord;
  for (const [symbol, amount] of Object.entries(account.balances))
    addTo(into, symbol, sign * BigInt(amount));
  for (const [symbol, amount] of Object.entries(account.held))
    addTo(into, symbol, sign * BigInt(amount));
}

/**
 * Checks conservation over one block's writes, in time proportional to the writes: for each asset,
 * the change in supply equals the change in the sum of balances and open holds. Returns the
 * assets that break it (empty when the block is sound).
 */
export function conservationViolations(
  writtenKeys: Iterable<string>,
  before: (key: string) => string | undefined,
  after: (key: string) => string | undefined,
): string[] {
  const held = new Map<string, bigint>();
  const supply = new Map<string, bigint>();
  for (const key of writtenKeys) {
    if (key.startsWith(accountPrefix)) {
      accountTotals(before(key), held, -1n);
      accountTotals(after(key), held, 1n);
    } else if (key.startsWith(assetPrefix)) {
      const old = before(key);
      const next = after(key);
      const symbol = key.slice(assetPrefix.length);
      const oldSupply = old === undefined ? 0n : BigInt((JSON.parse(old) as AssetRecord).supply);
      const newSupply = next === undefined ? 0n : BigInt((JSON.parse(next) as AssetRecord).supply);
      addTo(supply, symbol, newSupply - oldSupply);
    }
  }
  const broken: string[] = [];
  for (const symbol of new Set([...held.keys(), ...supply.keys()])) {
    if ((held.get(symbol) ?? 0n) !== (supply.get(symbol) ?? 0n)) broken.push(symbol);
  }
  return broken.sort();
}

export interface LedgerAudit {
  assets: number;
  accounts: number;
  holds: number;
  problems: string[];
}

/**
 * The full audit over all ledger state: per asset, supply = sum of balances + sum of open holds;
 * no balance or held amount below zero; each payer's held amount equals its open holds.
 */
export function auditLedger(scan: (prefix: string) => Iterable<[string, string]>): LedgerAudit {
  const problems: string[] = [];
  const sums = new Map<string, bigint>();
  const heldByPayer = new Map<string, bigint>();
  let accounts = 0;
  for (const [key, text] of scan(accountPrefix)) {
    accounts += 1;
    const address = key.slice(accountPrefix.length);
    const account = JSON.parse(text) as AccountRecord;
    for (const [symbol, amount] of Object.entries(account.balances)) {
      if (BigInt(amount) < 0n) problems.push(`negative balance ${address} ${symbol}`);
      addTo(sums, symbol, BigInt(amount));
    }
    for (const [symbol, amount] of Object.entries(account.held)) {
      if (BigInt(amount) < 0n) problems.push(`negative held ${address} ${symbol}`);
      addTo(sums, symbol, BigInt(amount));
      heldByPayer.set(`${address} ${symbol}`, BigInt(amount));
    }
  }
  let holds = 0;
  const openByPayer = new Map<string, bigint>();
  for (const [, text] of scan(holdPrefix)) {
    holds += 1;
    const hold = JSON.parse(text) as HoldRecord;
    addTo(openByPayer, `${hold.payer} ${hold.asset}`, BigInt(hold.amount));
  }
  for (const key of new Set([...heldByPayer.keys(), ...openByPayer.keys()])) {
    if ((heldByPayer.get(key) ?? 0n) !== (openByPayer.get(key) ?? 0n)) {
      problems.push(`held amount differs from open holds: ${key}`);
    }
  }
  let assets = 0;
  for (const [, text] of scan(assetPrefix)) {
    assets += 1;
    const asset = JSON.parse(text) as AssetRecord;
    const sum = sums.get(asset.symbol) ?? 0n;
    if (sum !== BigInt(asset.supply)) {
      problems.push(
        `supply of ${asset.symbol} is ${asset.supply} but balances and holds sum to ${sum}`,
      );
    }
    sums.delete(asset.symbol);
  }
  for (const symbol of sums.keys()) problems.push(`balances of unknown asset ${symbol}`);
  return { assets, accounts, holds, problems };
}
