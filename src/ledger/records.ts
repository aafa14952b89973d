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
  /** What is left to post. */
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
}

/** Keys live under the module's own namespace, `ledger/`. */
export const ledgerKeys = {
  prefix: 'ledger/',
  asset: (symbol: string) => `ledger/asset/${symbol}`,
  account: (address: string) => `ledger/account/${address}`,
  hold: (id: string) => `ledger/hold/${id}`,
  holdExpiry: (height: number) => `ledger/hold-expiry/${height}`,
} as const;

export function emptyAccount(): AccountRecord {
  return { nonce: 0, balances: {}, held: {}, frozen: [], holds: [] };
}
