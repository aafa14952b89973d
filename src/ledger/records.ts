/** The ledger's records as stored in state (canonical JSON; amounts as minor-unit strings). */

export interface AssetRecord {
  symbol: string;
  decimals: number;
  issuer: string;
  supply: string;
  maxSupply?: string;
}

export interface AccountRecord {
  /** Count of txs this account has signed that were included in blocks. */
  nonce: number;
  /** Spendable balance per asset symbol. */
  balances: Record<string, string>;
  /** Sum of this account's open holds (as payer) per asset symbol. */
  held: Record<string, string>;
  /** Assets whose issuer froze this account. */
  frozen: string[];
  /** Ids of open holds this account pays. */
  holds: string[];
}

export interface HoldRecord {
  id: string;
  payer: string;
  payee: string;
  asset: string;
  /** What is left to post (a partial capture, `captureHold`, lowers it and keeps the hold open). */
  amount: string;
  expiresAtHeight: number;
  arbiter?: string;
  /** Hex SHA-256 digest that the releasing preimage must hash to. */
  condition?: string;
  createdAtHeight: number;
}

/** The state the ledger reads and writes; the chain's StateView is one. */
export interface KeyValueState {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
  delete(key: string): void;
  /**
   * Up to `limit` entries under `prefix` in ascending key order, keys after `bounds.after` and
   * before `bounds.before` (exclusive): how the expiry index is read without reading all of it.
   */
  range(
    prefix: string,
    limit: number,
    bounds?: { after?: string; before?: string },
  ): [string, string][];
}

/**
 * A state that also holds records as objects (the chain's StateView): the ledger reads frozen
 * records and writes new ones, and the state serialises each written record once. A
 * `KeyValueState` without it is read and written as text (the ledger parses and canonicalizes).
 */
export interface RecordState extends KeyValueState {
  /** The record at `key` (JSON.parse of its text), frozen: never to be changed in place. */
  getRecord<T extends object>(key: string): Readonly<T> | undefined;
  /** Writes `record` at `key` (its text is `canonicalize(record)`); the state keeps it, frozen. */
  setRecord(key: string, record: object): void;
}

/**
 * `state` as text only: a ledger over it parses and canonicalizes on each read and write, as it
 * did before records, even when `state` keeps records. For a run that writes a million accounts
 * once and never reads them back (a genesis), where records held until the end cost more memory
 * and GC than the text they replace.
 */
export function textState(state: KeyValueState): KeyValueState {
  return {
    get: (key) => state.get(key),
    set: (key, value) => state.set(key, value),
    delete: (key) => state.delete(key),
    range: (prefix, limit, bounds) => state.range(prefix, limit, bounds),
  };
}

/** Digits of a height in an index key, zero-padded so keys sort by height (heights are safe integers). */
const heightDigits = 16;

function heightKey(height: number): string {
  return String(height).padStart(heightDigits, '0');
}

/** Keys live under the module's own namespace, `ledger/`. */
export const ledgerKeys = {
  prefix: 'ledger/',
  asset: (symbol: string) => `ledger/asset/${symbol}`,
  account: (address: string) => `ledger/account/${address}`,
  hold: (id: string) => `ledger/hold/${id}`,
  /** The expiry index: one key per open hold, `<expiry height, 16 digits>/<hold id>`. */
  holdExpiries: 'ledger/hold-expiry/',
  holdExpiry: (height: number, id: string) => `ledger/hold-expiry/${heightKey(height)}/${id}`,
  /**
   * The one list per height a chain written before the per-hold index kept: still read (and then
   * deleted) at the start of the block after `height`, never written.
   */
  legacyHoldExpiry: (height: number) => `ledger/hold-expiry/${height}`,
  /** Index keys below this one expire before `height`: a range's exclusive `before`. */
  holdExpiryBefore: (height: number) => `ledger/hold-expiry/${heightKey(height)}`,
} as const;

export function emptyAccount(): AccountRecord {
  return { nonce: 0, balances: {}, held: {}, frozen: [], holds: [] };
}
