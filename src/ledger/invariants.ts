import { type AccountRecord, type AssetRecord, type HoldRecord } from './records.js';

const accountPrefix = 'ledger/account/';
const assetPrefix = 'ledger/asset/';
const holdPrefix = 'ledger/hold/';

function addTo(map: Map<string, bigint>, symbol: string, delta: bigint): void {
  map.set(symbol, (map.get(symbol) ?? 0n) + delta);
}

/**
 * Adds `after - before` per symbol of two amount maps (balances or held) into `into`: only the
 * symbols whose amount text differs are parsed (a transfer touches one of an account's assets).
 */
function addDeltas(
  before: Readonly<Record<string, string>> | undefined,
  after: Readonly<Record<string, string>> | undefined,
  into: Map<string, bigint>,
): void {
  if (before === after) return;
  if (after !== undefined) {
    for (const [symbol, amount] of Object.entries(after)) {
      const old =
        before !== undefined && Object.hasOwn(before, symbol) ? before[symbol] : undefined;
      if (old === amount) continue;
      addTo(into, symbol, BigInt(amount) - (old === undefined ? 0n : BigInt(old)));
    }
  }
  if (before !== undefined) {
    for (const [symbol, amount] of Object.entries(before)) {
      if (after === undefined || !Object.hasOwn(after, symbol))
        addTo(into, symbol, -BigInt(amount));
    }
  }
}

/** A record as the conservation check reads it: the state's object, or its JSON text. */
export type RecordRead = (key: string) => object | undefined;

/**
 * Checks conservation over one block's writes, in time proportional to the writes: for each asset,
 * the change in supply equals the change in the sum of balances and open holds. Returns the
 * assets that break it (empty when the block is sound). `before` and `after` read the records of
 * the written keys (committed, and as the block leaves them) straight from the state, never
 * through the ledger: a module that writes a balance past the ledger is caught too.
 */
export function recordConservationViolations(
  writtenKeys: Iterable<string>,
  before: RecordRead,
  after: RecordRead,
): string[] {
  const held = new Map<string, bigint>();
  const supply = new Map<string, bigint>();
  for (const key of writtenKeys) {
    if (key.startsWith(accountPrefix)) {
      const old = before(key) as AccountRecord | undefined;
      const next = after(key) as AccountRecord | undefined;
      addDeltas(old?.balances, next?.balances, held);
      addDeltas(old?.held, next?.held, held);
    } else if (key.startsWith(assetPrefix)) {
      const old = before(key) as AssetRecord | undefined;
      const next = after(key) as AssetRecord | undefined;
      if (old?.supply === next?.supply) continue;
      const symbol = key.slice(assetPrefix.length);
      const oldSupply = old === undefined ? 0n : BigInt(old.supply);
      const newSupply = next === undefined ? 0n : BigInt(next.supply);
      addTo(supply, symbol, newSupply - oldSupply);
    }
  }
  const broken: string[] = [];
  for (const symbol of new Set([...held.keys(), ...supply.keys()])) {
    if ((held.get(symbol) ?? 0n) !== (supply.get(symbol) ?? 0n)) broken.push(symbol);
  }
  return broken.sort();
}

/** `recordConservationViolations` over records read as canonical JSON text. */
export function conservationViolations(
  writtenKeys: Iterable<string>,
  before: (key: string) => string | undefined,
  after: (key: string) => string | undefined,
): string[] {
  const parse = (text: string | undefined) =>
    text === undefined ? undefined : (JSON.parse(text) as object);
  return recordConservationViolations(
    writtenKeys,
    (key) => parse(before(key)),
    (key) => parse(after(key)),
  );
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
