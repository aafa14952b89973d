/*
 * The seam between the conversion engine and the ecosystems it forwards value between. Each
 * ecosystem is one adapter: another Coffer chain (hash-locked holds), an EVM chain (an ERC-20 and
 * the HashTimeLock contract) or a payment provider speaking the HTTP protocol (no hash locks:
 * deposits and payouts). The engine (engine.ts) drives a forward through these calls only, and
 * every call is idempotent by the key the engine passes, so a restarted engine repeats a call it
 * is unsure of without paying twice.
 *
 * Amounts are bigint minor units of the asset on that ecosystem. Times: every ecosystem keeps its
 * own clock (Coffer: block heights; EVM: block timestamps in seconds), so an adapter converts a
 * wall-clock budget into its native expiry with a bound in the safe direction (`expiryWithin`,
 * `msLeftAtLeast`).
 */

/** What kind of ecosystem an adapter speaks to. */
export type EcosystemKind = 'coffer' | 'evm' | 'http';

/** A hash-time lock the engine asks for: pays `recipient` if the preimage of `condition` is shown. */
export interface LockRequest {
  /** The engine's key for this lock: a lock asked twice with one key is made once. */
  key: string;
  asset: string;
  amount: bigint;
  /** The recipient's address or account on that ecosystem. */
  recipient: string;
  /** Hex SHA-256 (64 lowercase hex digits) of the preimage that releases the lock. */
  condition: string;
  /** The native expiry, from `expiryWithin`. */
  expiry: number;
}

/** A lock as its ledger shows it now. */
export type LockState =
  | {
      state: 'open';
      asset: string;
      amount: bigint;
      payer: string;
      payee: string;
      condition: string;
      /** Native expiry: a Coffer height, an EVM unix time in seconds. */
      expiry: number;
      /** A Coffer hold's arbiter (who alone posts or voids a plain hold that names one). */
      arbiter?: string;
    }
  /** Released to the payee: the preimage is public from here on. */
  | { state: 'released'; preimage: string; txId: string }
  /** A plain (not hash-locked) hold posted to its payee: deposit-and-forward mode, Coffer only. */
  | { state: 'captured'; txId?: string }
  /** Back with the payer (expired and refunded, or refunded by a call after its expiry). */
  | { state: 'refunded'; txId?: string }
  /** Expired on its ledger but the funds still wait for a refund call (EVM). */
  | { state: 'expired' }
  /** No such lock (yet): not committed, or never made. */
  | { state: 'missing' };

export interface LockReceipt {
  /** The lock's id on its ledger: a Coffer hold id, an EVM lock id (bytes32 hex). */
  lockId: string;
  /** The tx that made it: a Coffer tx hash, an EVM tx hash. */
  txId: string;
}

/** An ecosystem with hash-time locks: Coffer chains and EVM chains. */
export interface HashLockLedger {
  readonly kind: 'coffer' | 'evm';
  /** The engine's own address there (where users lock funds for it). */
  readonly engineAddress: string;
  /** The engine's spendable balance of `asset`, minor units. */
  balance(asset: string): Promise<bigint>;
  /** A native expiry that falls no later than `ms` milliseconds from now, whatever the block rate. */
  expiryWithin(ms: number): Promise<number>;
  /** At least how many milliseconds are left before `expiry` passes (0 when it has). */
  msLeftAtLeast(expiry: number): Promise<number>;
  /** Locks the engine's funds for a recipient; idempotent by `request.key`. Resolves when committed. */
  lock(request: LockRequest): Promise<LockReceipt>;
  /** The lock as its ledger shows it (the engine's own locks and users' locks for the engine). */
  lockState(lockId: string): Promise<LockState>;
  /** Releases a lock whose payee is the engine with its preimage; resolves when committed. */
  claim(lockId: string, preimage: string): Promise<{ txId: string }>;
  /**
   * Returns an expired lock's funds to its payer where the ledger needs a call for it (EVM);
   * Coffer refunds by itself and answers with the state it sees.
   */
  refund(lockId: string): Promise<{ txId?: string }>;
  close(): Promise<void>;
}

/** A deposit a provider notified the engine of (the HTTP protocol, docs/bridge-http.md). */
export interface Deposit {
  /** The provider's id for it: the engine acts once per deposit id. */
  depositId: string;
  asset: string;
  amount: bigint;
  /** The provider's account of who paid, where a refund goes. */
  sender: string;
  /** What the payer wrote as reference: the engine reads a quote id from it. */
  reference: string;
}

export type PayoutState =
  | { state: 'pending'; payoutId: string }
  | { state: 'completed'; payoutId: string }
  | { state: 'failed'; payoutId: string; reason: string };

/** An ecosystem without hash locks: a payment provider behind the HTTP protocol. */
export interface ProviderLedger {
  readonly kind: 'http';
  /** The engine's account at the provider. */
  readonly engineAddress: string;
  balance(asset: string): Promise<bigint>;
  /** Pays out; idempotent by `key` (the provider's Idempotency-Key). */
  payout(request: {
    key: string;
    asset: string;
    amount: bigint;
    recipient: string;
  }): Promise<PayoutState>;
  payoutState(payoutId: string): Promise<PayoutState>;
  close(): Promise<void>;
}

export type EcosystemLedger = HashLockLedger | ProviderLedger;
