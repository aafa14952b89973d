import assert from 'node:assert/strict';

import { canonicalize, deriveAddress, isAddress, sha256Hex } from '../crypto/index.js';
import { assetSymbolPattern, holdDurationBlocksMax } from '../protocol/ledger.js';
import { amountMax, decimalsMax } from './amount.js';
import type { LedgerRejection } from './rejections.js';
import {
  emptyAccount,
  ledgerKeys,
  type AccountRecord,
  type AssetRecord,
  type HoldRecord,
  type KeyValueState,
  type RecordState,
} from './records.js';

export type LedgerEventSink = (type: string, data: Record<string, unknown>) => void;

/** A hold lives at most this many blocks (src/protocol/ledger.ts, with the payloads). */
export { holdDurationBlocksMax };
/** Open holds per payer: bounds the account record that lists them. */
export const holdsPerAccountMax = 1_000;
/**
 * Holds one block refunds at most: bounds a block's expiry work however many holds fall due at one
 * height (each costs a few record writes). The rest are refunded in the next blocks, in expiry
 * order; until then post, void and release already treat them as gone.
 */
export const holdExpiriesPerBlockMax = 1_000;

/** An asset symbol: 2 to 12 of A-Z and 0-9, starting with a letter. */
export { assetSymbolPattern };
const conditionPattern = /^[0-9a-f]{64}$/;

export interface AssetSpec {
  symbol: string;
  decimals: number;
  maxSupply?: bigint;
}

export interface HoldSpec {
  id: string;
  payer: string;
  payee: string;
  asset: string;
  amount: bigint;
  expiresAtHeight: number;
  arbiter?: string;
  condition?: string;
}

/** Address of an account owned by a module (escrow); no key controls it. */
export function escrowAddress(moduleName: string, id: string): string {
  return deriveAddress(`escrow/${moduleName}`, id);
}

/**
 * A copy of `amounts` (balances or held, per symbol) with `delta` added to `symbol`'s: records are
 * never changed in place (see `RecordState`), and only the touched symbol's amount is parsed.
 */
function plus(
  amounts: Readonly<Record<string, string>>,
  symbol: string,
  delta: bigint,
): Record<string, string> {
  const copy = { ...amounts };
  const next = BigInt(amounts[symbol] ?? '0') + delta;
  if (next === 0n) delete copy[symbol];
  else copy[symbol] = next.toString();
  return copy;
}

/** The account of an address nobody has written yet, as the ledger reads it. */
const noAccount: Readonly<AccountRecord> = Object.freeze({
  ...emptyAccount(),
  balances: Object.freeze({}),
  held: Object.freeze({}),
  frozen: Object.freeze([]) as unknown as string[],
  holds: Object.freeze([]) as unknown as string[],
});

/** Records over a plain text state: parsed on each read, canonicalized on each write. */
function textRecords(state: KeyValueState): Pick<RecordState, 'getRecord' | 'setRecord'> {
  return {
    getRecord: <T extends object>(key: string) => {
      const text = state.get(key);
      return text === undefined ? undefined : (JSON.parse(text) as T);
    },
    setRecord: (key, record) => state.set(key, canonicalize(record)),
  };
}

function hasRecords(state: KeyValueState): state is RecordState {
  const records = state as Partial<RecordState>;
  return typeof records.getRecord === 'function' && typeof records.setRecord === 'function';
}

/**
 * The double-entry core, and the one place money moves. Every operation either rejects, changing
 * nothing, or applies completely, so that for every asset
 * `supply = sum of balances + sum of open holds` holds after each operation.
 *
 * Checks run in a fixed precedence (inputs, then existence, then authority, then state), as in
 * TigerBeetle, so a given input always yields the same rejection. The ledger never reads a clock:
 * heights come from the block.
 */
export class Ledger {
  /**
   * The height of the block this ledger runs in, from `expireHolds` (the chain calls it first in
   * each block): a hold whose expiry height is below it is expired, refunded yet or not. 0 until
   * then, as for genesis.
   */
  private blockHeight = 0;

  /**
   * Accounts, assets and holds as objects: the state's own (frozen, parsed once) when it keeps
   * records, else parsed from its text. The ledger never changes a record it read: each write is
   * a new record, sharing the parts it leaves alone.
   */
  private readonly records: Pick<RecordState, 'getRecord' | 'setRecord'>;

  constructor(
    private readonly state: KeyValueState,
    private readonly emit: LedgerEventSink = () => {},
  ) {
    this.records = hasRecords(state) ? state : textRecords(state);
  }

  // ---- reads -------------------------------------------------------------------------------
  // The public reads return the caller's own copy; the ledger's own reads do not copy.

  asset(symbol: string): AssetRecord | undefined {
    const asset = this.readAsset(symbol);
    return asset === undefined ? undefined : { ...asset };
  }

  account(address: string): AccountRecord {
    const account = this.readAccount(address);
    return {
      nonce: account.nonce,
      balances: { ...account.balances },
      held: { ...account.held },
      frozen: [...account.frozen],
      holds: [...account.holds],
    };
  }

  balance(address: string, symbol: string): bigint {
    return BigInt(this.readAccount(address).balances[symbol] ?? '0');
  }

  hold(id: string): HoldRecord | undefined {
    const hold = this.readHold(id);
    return hold === undefined ? undefined : { ...hold };
  }

  nonce(address: string): number {
    return this.readAccount(address).nonce;
  }

  private readAsset(symbol: string): Readonly<AssetRecord> | undefined {
    return this.records.getRecord<AssetRecord>(ledgerKeys.asset(symbol));
  }

  private readAccount(address: string): Readonly<AccountRecord> {
    return this.records.getRecord<AccountRecord>(ledgerKeys.account(address)) ?? noAccount;
  }

  private readHold(id: string): Readonly<HoldRecord> | undefined {
    return this.records.getRecord<HoldRecord>(ledgerKeys.hold(id));
  }

  // ---- writes ------------------------------------------------------------------------------

  /** Every included tx consumes its sender's nonce, whether it succeeds or fails. */
  incrementNonce(address: string): void {
    const account = this.readAccount(address);
    this.putAccount(address, { ...account, nonce: account.nonce + 1 });
  }

  createAsset(issuer: string, spec: AssetSpec): LedgerRejection | undefined {
    if (!assetSymbolPattern.test(spec.symbol)) return 'invalid_symbol';
    if (!Number.isInteger(spec.decimals) || spec.decimals < 0 || spec.decimals > decimalsMax) {
      return 'invalid_decimals';
    }
    if (spec.maxSupply !== undefined && (spec.maxSupply <= 0n || spec.maxSupply > amountMax)) {
      return 'invalid_max_supply';
    }
    if (this.readAsset(spec.symbol)) return 'asset_exists';
    const record: AssetRecord = {
      symbol: spec.symbol,
      decimals: spec.decimals,
      issuer,
      supply: '0',
    };
    if (spec.maxSupply !== undefined) record.maxSupply = spec.maxSupply.toString();
    this.putAsset(record);
    this.emit('asset.created', { ...record });
    return undefined;
  }

  mint(issuer: string, symbol: string, to: string, amount: bigint): LedgerRejection | undefined {
    if (amount <= 0n || amount > amountMax) return 'invalid_amount';
    if (!isAddress(to)) return 'invalid_address';
    const asset = this.readAsset(symbol);
    if (!asset) return 'asset_not_found';
    if (asset.issuer !== issuer) return 'not_issuer';
    const supply = BigInt(asset.supply) + amount;
    const cap = asset.maxSupply === undefined ? amountMax : BigInt(asset.maxSupply);
    if (supply > cap) return 'max_supply_exceeded';
    const account = this.readAccount(to);
    if (account.frozen.includes(symbol)) return 'account_frozen';
    this.putAsset({ ...asset, supply: supply.toString() });
    this.putAccount(to, { ...account, balances: plus(account.balances, symbol, amount) });
    this.emit('asset.minted', { asset: symbol, to, amount: amount.toString() });
    return undefined;
  }

  /** The issuer burns from its own balance. */
  burn(issuer: string, symbol: string, amount: bigint): LedgerRejection | undefined {
    if (amount <= 0n || amount > amountMax) return 'invalid_amount';
    const asset = this.readAsset(symbol);
    if (!asset) return 'asset_not_found';
    if (asset.issuer !== issuer) return 'not_issuer';
    const account = this.readAccount(issuer);
    if (BigInt(account.balances[symbol] ?? '0') < amount) return 'insufficient_funds';
    this.putAsset({ ...asset, supply: (BigInt(asset.supply) - amount).toString() });
    this.putAccount(issuer, { ...account, balances: plus(account.balances, symbol, -amount) });
    this.emit('asset.burned', { asset: symbol, from: issuer, amount: amount.toString() });
    return undefined;
  }

  /**
   * Burns from an account a module controls (its escrow): for module code only, never a tx type
   * (the caller is the authority, as for transfers out of escrow). Supply falls by `amount`.
   */
  retire(holder: string, symbol: string, amount: bigint): LedgerRejection | undefined {
    if (amount <= 0n || amount > amountMax) return 'invalid_amount';
    const asset = this.readAsset(symbol);
    if (!asset) return 'asset_not_found';
    const account = this.readAccount(holder);
    if (BigInt(account.balances[symbol] ?? '0') < amount) return 'insufficient_funds';
    this.putAsset({ ...asset, supply: (BigInt(asset.supply) - amount).toString() });
    this.putAccount(holder, { ...account, balances: plus(account.balances, symbol, -amount) });
    this.emit('asset.burned', { asset: symbol, from: holder, amount: amount.toString() });
    return undefined;
  }

  transfer(from: string, to: string, symbol: string, amount: bigint): LedgerRejection | undefined {
    if (amount <= 0n || amount > amountMax) return 'invalid_amount';
    if (!isAddress(to)) return 'invalid_address';
    if (from === to) return 'accounts_must_be_different';
    if (!this.readAsset(symbol)) return 'asset_not_found';
    const payer = this.readAccount(from);
    const payee = this.readAccount(to);
    if (payer.frozen.includes(symbol) || payee.frozen.includes(symbol)) return 'account_frozen';
    if (BigInt(payer.balances[symbol] ?? '0') < amount) return 'insufficient_funds';
    this.putAccount(from, { ...payer, balances: plus(payer.balances, symbol, -amount) });
    this.putAccount(to, { ...payee, balances: plus(payee.balances, symbol, amount) });
    this.emit('ledger.transferred', { from, to, asset: symbol, amount: amount.toString() });
    return undefined;
  }

  /** The issuer freezes (or unfreezes) one account for its asset: no sends, receipts or holds. */
  setFrozen(
    issuer: string,
    symbol: string,
    address: string,
    frozen: boolean,
  ): LedgerRejection | undefined {
    if (!isAddress(address)) return 'invalid_address';
    const asset = this.readAsset(symbol);
    if (!asset) return 'asset_not_found';
    if (asset.issuer !== issuer) return 'not_issuer';
    const account = this.readAccount(address);
    const listed = account.frozen.includes(symbol);
    if (frozen === listed) return undefined;
    this.putAccount(address, {
      ...account,
      frozen: frozen
        ? [...account.frozen, symbol].sort()
        : account.frozen.filter((s) => s !== symbol),
    });
    this.emit(frozen ? 'account.frozen' : 'account.unfrozen', { address, asset: symbol });
    return undefined;
  }

  // ---- holds -------------------------------------------------------------------------------

  /**
   * Moves `amount` from the payer's balance into a hold for the payee. Without a condition the
   * payee (or the arbiter, when one is named) posts it, whole or in part, or voids it; with a
   * SHA-256 condition it is released to the payee by the preimage. Whatever is left at
   * `expiresAtHeight` goes back to the payer in the next block (or, when more than
   * `holdExpiriesPerBlockMax` fall due, in the blocks after it, in expiry order).
   */
  createHold(spec: HoldSpec, height: number): LedgerRejection | undefined {
    if (spec.amount <= 0n || spec.amount > amountMax) return 'invalid_amount';
    if (!isAddress(spec.payee)) return 'invalid_address';
    if (spec.arbiter !== undefined && !isAddress(spec.arbiter)) return 'invalid_address';
    if (spec.payer === spec.payee) return 'accounts_must_be_different';
    if (spec.condition !== undefined && !conditionPattern.test(spec.condition)) {
      return 'invalid_condition';
    }
    if (
      !Number.isSafeInteger(spec.expiresAtHeight) ||
      spec.expiresAtHeight <= height ||
      spec.expiresAtHeight > height + holdDurationBlocksMax
    ) {
      return 'invalid_hold_expiry';
    }
    if (!this.readAsset(spec.asset)) return 'asset_not_found';
    if (this.readHold(spec.id)) return 'hold_exists';
    const payer = this.readAccount(spec.payer);
    const payee = this.readAccount(spec.payee);
    if (payer.frozen.includes(spec.asset) || payee.frozen.includes(spec.asset)) {
      return 'account_frozen';
    }
    if (payer.holds.length >= holdsPerAccountMax) return 'too_many_holds';
    if (BigInt(payer.balances[spec.asset] ?? '0') < spec.amount) return 'insufficient_funds';

    this.putAccount(spec.payer, {
      ...payer,
      balances: plus(payer.balances, spec.asset, -spec.amount),
      held: plus(payer.held, spec.asset, spec.amount),
      holds: [...payer.holds, spec.id],
    });
    const hold: HoldRecord = {
      id: spec.id,
      payer: spec.payer,
      payee: spec.payee,
      asset: spec.asset,
      amount: spec.amount.toString(),
      expiresAtHeight: spec.expiresAtHeight,
      createdAtHeight: height,
    };
    if (spec.arbiter !== undefined) hold.arbiter = spec.arbiter;
    if (spec.condition !== undefined) hold.condition = spec.condition;
    this.records.setRecord(ledgerKeys.hold(spec.id), hold);
    this.state.set(ledgerKeys.holdExpiry(hold.expiresAtHeight, spec.id), 'true');
    this.emit('hold.created', { ...hold });
    return undefined;
  }

  /** Posts `amount` (default: all that is left) to the payee; any rest returns to the payer. */
  postHold(actor: string, id: string, amount?: bigint): LedgerRejection | undefined {
    if (amount !== undefined && (amount <= 0n || amount > amountMax)) return 'invalid_amount';
    const hold = this.openHold(id);
    if (!hold) return 'hold_not_found';
    if (hold.condition !== undefined) return 'hold_hash_locked';
    if (actor !== (hold.arbiter ?? hold.payee)) return 'hold_forbidden';
    const open = BigInt(hold.amount);
    const posted = amount ?? open;
    if (posted > open) return 'hold_amount_exceeded';
    if (this.readAccount(hold.payee).frozen.includes(hold.asset)) return 'account_frozen';
    this.settle(hold, posted, 'hold.posted');
    return undefined;
  }

  /**
   * Captures `amount` of the hold for the payee and keeps the rest held (a partial capture, as a
   * metered service takes its pay bill by bill); the hold closes when nothing is left. Same checks,
   * in the same precedence, as `postHold`: only the arbiter (or, without one, the payee) captures.
   */
  captureHold(actor: string, id: string, amount: bigint): LedgerRejection | undefined {
    if (amount <= 0n || amount > amountMax) return 'invalid_amount';
    const hold = this.openHold(id);
    if (!hold) return 'hold_not_found';
    if (hold.condition !== undefined) return 'hold_hash_locked';
    if (actor !== (hold.arbiter ?? hold.payee)) return 'hold_forbidden';
    const open = BigInt(hold.amount);
    if (amount > open) return 'hold_amount_exceeded';
    if (this.readAccount(hold.payee).frozen.includes(hold.asset)) return 'account_frozen';
    const remaining = open - amount;
    const payer = this.readAccount(hold.payer);
    this.putAccount(hold.payer, {
      ...payer,
      held: plus(payer.held, hold.asset, -amount),
      holds: remaining === 0n ? payer.holds.filter((h) => h !== hold.id) : payer.holds,
    });
    const payee = this.readAccount(hold.payee);
    this.putAccount(hold.payee, { ...payee, balances: plus(payee.balances, hold.asset, amount) });
    if (remaining === 0n) {
      this.state.delete(ledgerKeys.hold(hold.id));
      this.state.delete(ledgerKeys.holdExpiry(hold.expiresAtHeight, hold.id));
    } else {
      this.records.setRecord(ledgerKeys.hold(hold.id), { ...hold, amount: remaining.toString() });
    }
    this.emit('hold.captured', {
      id: hold.id,
      payer: hold.payer,
      payee: hold.payee,
      asset: hold.asset,
      paid: amount.toString(),
      remaining: remaining.toString(),
    });
    return undefined;
  }

  /** Voids the hold: all that is left returns to the payer. */
  voidHold(actor: string, id: string): LedgerRejection | undefined {
    const hold = this.openHold(id);
    if (!hold) return 'hold_not_found';
    if (hold.condition !== undefined) return 'hold_hash_locked';
    if (actor !== hold.payee && actor !== hold.arbiter) return 'hold_forbidden';
    this.settle(hold, 0n, 'hold.voided');
    return undefined;
  }

  /** Anyone holding the preimage releases a hash-locked hold to its payee. */
  releaseHold(id: string, preimageHex: string): LedgerRejection | undefined {
    const hold = this.openHold(id);
    if (!hold) return 'hold_not_found';
    if (hold.condition === undefined) return 'hold_not_hash_locked';
    if (!/^([0-9a-f]{2}){1,256}$/.test(preimageHex)) return 'preimage_mismatch';
    if (sha256Hex(Buffer.from(preimageHex, 'hex')) !== hold.condition) return 'preimage_mismatch';
    if (this.readAccount(hold.payee).frozen.includes(hold.asset)) return 'account_frozen';
    this.settle(hold, BigInt(hold.amount), 'hold.released', { preimage: preimageHex });
    return undefined;
  }

  /**
   * Refunds the holds whose expiry height is below `height`, in order of expiry height (then id),
   * at most `holdExpiriesPerBlockMax` of them; the chain calls it first in each block, so a hold is
   * usable up to and including its expiry height and never after, whatever the order of txs in
   * the block. Holds past the budget wait for the next blocks; post, void and release refuse them
   * (`hold_not_found`) as they would a refunded hold.
   */
  expireHolds(height: number): void {
    this.blockHeight = height;
    this.expireLegacyHolds(height);
    const due = this.state.range(ledgerKeys.holdExpiries, holdExpiriesPerBlockMax, {
      before: ledgerKeys.holdExpiryBefore(height),
    });
    for (const [key] of due) {
      // The key is `<prefix><height, 16 digits>/<id>`.
      const id = key.slice(ledgerKeys.holdExpiryBefore(0).length + 1);
      const hold = this.readHold(id);
      assert.ok(hold !== undefined, `ledger: expiry index entry ${key} names no open hold`);
      this.settle(hold, 0n, 'hold.expired');
    }
  }

  /**
   * A chain written before the per-hold index has lists of ids per height for holds created then:
   * they grow no more, and each is refunded (what is still open of it) and deleted as before.
   */
  private expireLegacyHolds(height: number): void {
    const key = ledgerKeys.legacyHoldExpiry(height - 1);
    const text = this.state.get(key);
    if (text === undefined) return;
    for (const id of JSON.parse(text) as string[]) {
      const hold = this.readHold(id);
      if (hold) this.settle(hold, 0n, 'hold.expired');
    }
    this.state.delete(key);
  }

  /** A hold that has not expired: one whose expiry height has passed is gone, refunded or not. */
  private openHold(id: string): Readonly<HoldRecord> | undefined {
    const hold = this.readHold(id);
    return hold !== undefined && hold.expiresAtHeight < this.blockHeight ? undefined : hold;
  }

  /** Pays `toPayee` of the hold to its payee, returns the rest to the payer and closes it. */
  private settle(
    hold: Readonly<HoldRecord>,
    toPayee: bigint,
    event: string,
    extra: Record<string, unknown> = {},
  ): void {
    const open = BigInt(hold.amount);
    const payer = this.readAccount(hold.payer);
    this.putAccount(hold.payer, {
      ...payer,
      held: plus(payer.held, hold.asset, -open),
      balances: plus(payer.balances, hold.asset, open - toPayee),
      holds: payer.holds.filter((h) => h !== hold.id),
    });
    if (toPayee > 0n) {
      const payee = this.readAccount(hold.payee);
      this.putAccount(hold.payee, {
        ...payee,
        balances: plus(payee.balances, hold.asset, toPayee),
      });
    }
    this.state.delete(ledgerKeys.hold(hold.id));
    this.state.delete(ledgerKeys.holdExpiry(hold.expiresAtHeight, hold.id));
    this.emit(event, {
      id: hold.id,
      payer: hold.payer,
      payee: hold.payee,
      asset: hold.asset,
      paid: toPayee.toString(),
      returned: (open - toPayee).toString(),
      ...extra,
    });
  }

  /** The state keeps `record` (frozen): the caller must not change it afterwards. */
  private putAsset(record: AssetRecord): void {
    this.records.setRecord(ledgerKeys.asset(record.symbol), record);
  }

  /** The state keeps `record` (frozen): the caller must not change it afterwards. */
  private putAccount(address: string, record: AccountRecord): void {
    this.records.setRecord(ledgerKeys.account(address), record);
  }
}
