/*
 * In-memory model ledgers for the engine's property test (engine-property.test.ts): exact and
 * small, with the semantics the adapters document, on a clock the test advances.
 *
 * `MemoryHashLockLedger` is a hash-time-lock ledger of one of two flavours:
 * - `coffer`: block heights (one block every `blockMs`); a lock is a hold taken from the payer's
 *   balance, released to its payee by the SHA-256 preimage up to and including its expiry height,
 *   refunded to its payer by itself past it; a plain hold (no condition) is captured or voided by
 *   its payee; `pay` is a transfer.
 * - `evm`: block timestamps in seconds; release up to and including the expiry second, then the
 *   lock shows `expired` until someone calls `refund`.
 * Every engine call is idempotent by its key, as the real adapters are. `failAfterCommit` makes
 * the next engine call commit and then throw, as a connection lost after sending does.
 *
 * `MemoryProviderLedger` is a payment provider: deposits credit the engine's account, payouts
 * take the engine's funds at once and stay pending until the test completes or fails them (a
 * failed payout returns the funds).
 */
import { createHash } from 'node:crypto';
import type {
  Deposit,
  HashLockLedger,
  LockReceipt,
  LockRequest,
  LockState,
  PayoutState,
  ProviderLedger,
} from './ledgers.js';

/** The test's clock: wall milliseconds, moved only by `advance`. */
export class ModelClock {
  constructor(public ms: number) {}
  now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A ledger's refusal, with a code like the adapters' LedgerError. */
export class ModelLedgerError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface ModelLock {
  id: string;
  asset: string;
  amount: bigint;
  payer: string;
  payee: string;
  /** '' for a plain hold. */
  condition: string;
  expiry: number;
  state: 'open' | 'released' | 'captured' | 'voided' | 'refunded';
  preimage?: string;
  txId?: string;
}

/** A synchronous answer as a promise: a throw becomes a rejection, as over the wire. */
function answer<T>(act: () => T): Promise<T> {
  try {
    return Promise.resolve(act());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

function sha256(hex: string): string {
  return createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');
}

class Balances {
  private readonly map = new Map<string, bigint>();
  get(address: string, asset: string): bigint {
    return this.map.get(`${address}\u0000${asset}`) ?? 0n;
  }
  add(address: string, asset: string, amount: bigint): void {
    const next = this.get(address, asset) + amount;
    if (next < 0n) throw new ModelLedgerError('insufficient_funds', `${address} lacks ${asset}`);
    this.map.set(`${address}\u0000${asset}`, next);
  }
  total(asset: string): bigint {
    let sum = 0n;
    for (const [key, value] of this.map) if (key.endsWith(`\u0000${asset}`)) sum += value;
    return sum;
  }
}

export class MemoryHashLockLedger implements HashLockLedger {
  readonly balances = new Balances();
  private readonly locks = new Map<string, ModelLock>();
  private readonly byKey = new Map<string, string>();
  private readonly receipts = new Map<string, string>();
  private sequence = 0;
  /** Set by the test: the next engine call commits, then throws (no code: the engine retries). */
  failAfterCommit = false;

  constructor(
    readonly kind: 'coffer' | 'evm',
    readonly engineAddress: string,
    private readonly clock: ModelClock,
    /** coffer: one block every blockMs. */
    private readonly blockMs = 1_000,
  ) {}

  /** The ledger's native time: a Coffer height or an EVM timestamp (seconds). */
  nativeNow(): number {
    return Math.floor(this.clock.ms / (this.kind === 'coffer' ? this.blockMs : 1_000));
  }

  // ---- the test's side ----------------------------------------------------------------------

  mint(address: string, asset: string, amount: bigint): void {
    this.balances.add(address, asset, amount);
  }

  balanceOf(address: string, asset: string): bigint {
    this.settle();
    return this.balances.get(address, asset);
  }

  /** A user's lock (a hold or an HTLC lock) for `payee`; the funds leave the payer now. */
  userLock(lock: {
    payer: string;
    payee: string;
    asset: string;
    amount: bigint;
    condition: string;
    expiry: number;
  }): string {
    this.settle();
    if (lock.amount <= 0n) throw new ModelLedgerError('invalid_amount', 'amount must be positive');
    if (lock.expiry < this.nativeNow())
      throw new ModelLedgerError('expiry_past', 'the expiry has passed');
    this.balances.add(lock.payer, lock.asset, -lock.amount);
    const id = this.nextId('lock');
    this.locks.set(id, { id, ...lock, state: 'open' });
    return id;
  }

  /** Releases a lock by its preimage (anyone may show it; the payee gets the funds). */
  release(lockId: string, preimage: string): string {
    this.settle();
    const lock = this.locks.get(lockId);
    if (!lock) throw new ModelLedgerError('lock_not_found', lockId);
    if (lock.state === 'released' && lock.preimage === preimage) return lock.txId!;
    if (lock.state !== 'open') throw new ModelLedgerError('lock_not_open', lock.state);
    if (lock.condition === '' || sha256(preimage) !== lock.condition)
      throw new ModelLedgerError('wrong_preimage', 'the preimage does not match');
    if (this.nativeNow() > lock.expiry) throw new ModelLedgerError('lock_expired', 'expired');
    lock.state = 'released';
    lock.preimage = preimage;
    lock.txId = this.nextId('release');
    this.balances.add(lock.payee, lock.asset, lock.amount);
    return lock.txId;
  }

  /** Sum of every balance and open lock of `asset`: what the ledger holds in all. */
  supply(asset: string): bigint {
    this.settle();
    let locked = 0n;
    for (const lock of this.locks.values())
      if (lock.asset === asset && lock.state === 'open') locked += lock.amount;
    return this.balances.total(asset) + locked;
  }

  /** The highest expiry of any lock still open (the test runs time past it). */
  openExpiries(): number[] {
    this.settle();
    return [...this.locks.values()].filter((l) => l.state === 'open').map((l) => l.expiry);
  }

  /** EVM: anyone refunds every lock past its expiry (users taking back what no forward took). */
  refundAllExpired(): void {
    if (this.kind !== 'evm') return;
    for (const lock of this.locks.values()) {
      if (lock.state === 'open' && this.nativeNow() > lock.expiry) {
        lock.state = 'refunded';
        lock.txId = this.nextId('refund');
        this.balances.add(lock.payer, lock.asset, lock.amount);
      }
    }
  }

  /** Wall milliseconds at which native time `native` is past. */
  msWhenPast(native: number): number {
    return (native + 1) * (this.kind === 'coffer' ? this.blockMs : 1_000);
  }

  // ---- HashLockLedger -----------------------------------------------------------------------

  balance(asset: string): Promise<bigint> {
    return answer(() => {
      return this.balanceOf(this.engineAddress, asset);
    });
  }

  /** coffer: as CofferLedger (blockMsMax = blockMs); evm: the last whole second within `ms`. */
  expiryWithin(ms: number): Promise<number> {
    return answer(() => {
      if (this.kind === 'coffer') {
        const blocks = Math.floor(ms / this.blockMs) - 1;
        if (blocks < 1) throw new ModelLedgerError('expiry_too_short', `${ms} ms`);
        return this.nativeNow() + blocks;
      }
      // Release works through the whole expiry second: it must end within `ms`.
      return Math.floor((this.clock.ms + ms) / 1_000) - 1;
    });
  }

  msLeftAtLeast(expiry: number): Promise<number> {
    return answer(() => {
      if (this.kind === 'coffer')
        return Math.max(0, (expiry - this.nativeNow() - 1) * this.blockMs);
      return Math.max(0, expiry * 1_000 - this.clock.ms);
    });
  }

  /** coffer only (the engine reads it for a quote's lowest source expiry). */
  height(): Promise<number> {
    return answer(() => {
      return this.nativeNow();
    });
  }

  /** coffer only: the journal's recovery (nothing is lost in memory). */
  async recover(): Promise<void> {}

  async lock(request: LockRequest): Promise<LockReceipt> {
    return this.engineCall(`lock:${request.key}`, () => {
      if (this.kind === 'coffer' && request.expiry <= this.nativeNow())
        throw new ModelLedgerError('expiry_past', 'the expiry has passed');
      const id = this.userLock({
        payer: this.engineAddress,
        payee: request.recipient,
        asset: request.asset,
        amount: request.amount,
        condition: request.condition,
        expiry: request.expiry,
      });
      this.byKey.set(request.key, id);
      return id;
    }).then((id) => ({ lockId: id, txId: id }));
  }

  lockState(lockId: string): Promise<LockState> {
    return answer(() => {
      this.settle();
      const lock = this.locks.get(lockId);
      if (!lock) return { state: 'missing' };
      switch (lock.state) {
        case 'open':
          if (this.nativeNow() > lock.expiry) return { state: 'expired' }; // evm only: coffer settled
          return {
            state: 'open',
            asset: lock.asset,
            amount: lock.amount,
            payer: lock.payer,
            payee: lock.payee,
            condition: lock.condition,
            expiry: lock.expiry,
          };
        case 'released':
          return { state: 'released', preimage: lock.preimage!, txId: lock.txId! };
        case 'captured':
          return { state: 'captured', txId: lock.txId! };
        case 'voided':
        case 'refunded':
          return lock.txId ? { state: 'refunded', txId: lock.txId } : { state: 'refunded' };
      }
    });
  }

  async claim(lockId: string, preimage: string): Promise<{ txId: string }> {
    const txId = await this.engineCall(`claim:${lockId}`, () => {
      const lock = this.locks.get(lockId);
      if (lock && lock.payee !== this.engineAddress)
        throw new ModelLedgerError('not_payee', 'the engine is not the payee');
      return this.release(lockId, preimage);
    });
    return { txId };
  }

  async refund(lockId: string): Promise<{ txId?: string }> {
    this.settle();
    const lock = this.locks.get(lockId);
    // Coffer refunds by itself: nothing to send.
    if (this.kind === 'coffer') return {};
    if (lock?.state === 'refunded') return { txId: lock.txId! };
    const txId = await this.engineCall(`refund:${lockId}`, () => {
      if (!lock || lock.state !== 'open' || this.nativeNow() <= lock.expiry)
        throw new ModelLedgerError('evm_refund_failed', 'the lock is not expired');
      lock.state = 'refunded';
      lock.txId = this.nextId('refund');
      this.balances.add(lock.payer, lock.asset, lock.amount);
      return lock.txId;
    });
    return { txId };
  }

  /** coffer: posts a plain hold whose payee is the engine. */
  async capture(lockId: string): Promise<{ txId: string }> {
    return {
      txId: await this.engineCall(`capture:${lockId}`, () => this.settleHold(lockId, 'captured')),
    };
  }

  /** coffer: voids a plain hold whose payee is the engine: back to its payer. */
  async cancel(lockId: string): Promise<{ txId: string }> {
    return {
      txId: await this.engineCall(`cancel:${lockId}`, () => this.settleHold(lockId, 'voided')),
    };
  }

  /** coffer: a transfer from the engine. */
  async pay(request: {
    key: string;
    asset: string;
    amount: bigint;
    recipient: string;
  }): Promise<{ txId: string }> {
    const txId = await this.engineCall(`pay:${request.key}`, () => {
      if (this.kind !== 'coffer')
        throw new ModelLedgerError('route_not_supported', 'an EVM chain takes no plain payments');
      this.balances.add(this.engineAddress, request.asset, -request.amount);
      this.balances.add(request.recipient, request.asset, request.amount);
      return this.nextId('pay');
    });
    return { txId };
  }

  async close(): Promise<void> {}

  // ---- inside --------------------------------------------------------------------------------

  private settleHold(lockId: string, to: 'captured' | 'voided'): string {
    this.settle();
    const lock = this.locks.get(lockId);
    if (!lock || lock.state !== 'open')
      throw new ModelLedgerError('hold_not_open', `${lockId} is ${lock?.state ?? 'missing'}`);
    if (lock.payee !== this.engineAddress || lock.condition !== '')
      throw new ModelLedgerError('not_a_plain_hold_for_engine', lockId);
    lock.state = to;
    lock.txId = this.nextId(to);
    this.balances.add(to === 'captured' ? lock.payee : lock.payer, lock.asset, lock.amount);
    return lock.txId;
  }

  /** Coffer refunds holds past their expiry height by itself (in the block after it). */
  private settle(): void {
    if (this.kind !== 'coffer') return;
    const now = this.nativeNow();
    for (const lock of this.locks.values()) {
      if (lock.state === 'open' && now > lock.expiry) {
        lock.state = 'refunded';
        this.balances.add(lock.payer, lock.asset, lock.amount);
      }
    }
  }

  /** An engine call, once per key: a repeat answers the first result without acting again. */
  private engineCall(key: string, act: () => string): Promise<string> {
    return answer(() => {
      const done = this.receipts.get(key);
      if (done === undefined) {
        const result = act();
        this.receipts.set(key, result);
      }
      if (this.failAfterCommit) {
        this.failAfterCommit = false;
        throw new Error(`connection lost after ${key}`);
      }
      return this.receipts.get(key)!;
    });
  }

  /** Ids as the real ledgers write them: 64 hex digits (a Coffer tx hash; EVM with 0x). */
  private nextId(kind: string): string {
    this.sequence += 1;
    const hex = createHash('sha256').update(`${this.kind}-${kind}-${this.sequence}`).digest('hex');
    return this.kind === 'evm' ? `0x${hex}` : hex;
  }
}

interface ModelPayout {
  id: string;
  /** The engine's idempotency key (a deposit's refund: `refund-<forward>`). */
  key: string;
  asset: string;
  amount: bigint;
  recipient: string;
  state: PayoutState;
}

export class MemoryProviderLedger implements ProviderLedger {
  readonly kind = 'http' as const;
  readonly balances = new Balances();
  private readonly payouts = new Map<string, ModelPayout>();
  private readonly byKey = new Map<string, string>();
  private sequence = 0;

  constructor(readonly engineAddress: string) {}

  mint(account: string, asset: string, amount: bigint): void {
    this.balances.add(account, asset, amount);
  }

  balanceOf(account: string, asset: string): bigint {
    return this.balances.get(account, asset);
  }

  /** A payment to the engine's account with a reference: what the provider notifies. */
  deposit(sender: string, asset: string, amount: bigint, reference: string): Deposit {
    this.balances.add(sender, asset, -amount);
    this.balances.add(this.engineAddress, asset, amount);
    this.sequence += 1;
    return { depositId: `dep-${this.sequence}`, asset, amount, sender, reference };
  }

  /** Pending payouts' ids. */
  pending(): string[] {
    return [...this.payouts.values()].filter((p) => p.state.state === 'pending').map((p) => p.id);
  }

  keyOf(payoutId: string): string | undefined {
    return this.payouts.get(payoutId)?.key;
  }

  complete(payoutId: string): void {
    const payout = this.payouts.get(payoutId)!;
    if (payout.state.state !== 'pending') return;
    this.balances.add(payout.recipient, payout.asset, payout.amount);
    payout.state = { state: 'completed', payoutId };
  }

  fail(payoutId: string, reason = 'declined'): void {
    const payout = this.payouts.get(payoutId)!;
    if (payout.state.state !== 'pending') return;
    this.balances.add(this.engineAddress, payout.asset, payout.amount);
    payout.state = { state: 'failed', payoutId, reason };
  }

  /** Balances plus payouts in flight. */
  supply(asset: string): bigint {
    let flight = 0n;
    for (const p of this.payouts.values())
      if (p.asset === asset && p.state.state === 'pending') flight += p.amount;
    return this.balances.total(asset) + flight;
  }

  balance(asset: string): Promise<bigint> {
    return answer(() => {
      return this.balances.get(this.engineAddress, asset);
    });
  }

  payout(request: {
    key: string;
    asset: string;
    amount: bigint;
    recipient: string;
  }): Promise<PayoutState> {
    return answer(() => {
      const known = this.byKey.get(request.key);
      if (known !== undefined) return this.payouts.get(known)!.state;
      this.sequence += 1;
      const id = `payout-${this.sequence}`;
      this.byKey.set(request.key, id);
      const payout: ModelPayout = {
        id,
        key: request.key,
        asset: request.asset,
        amount: request.amount,
        recipient: request.recipient,
        state: { state: 'pending', payoutId: id },
      };
      if (this.balances.get(this.engineAddress, request.asset) < request.amount) {
        payout.state = { state: 'failed', payoutId: id, reason: 'insufficient_funds' };
      } else {
        this.balances.add(this.engineAddress, request.asset, -request.amount);
      }
      this.payouts.set(id, payout);
      return payout.state;
    });
  }

  payoutState(payoutId: string): Promise<PayoutState> {
    return answer(() => {
      const payout = this.payouts.get(payoutId);
      if (!payout) throw new ModelLedgerError('payout_not_found', payoutId);
      return payout.state;
    });
  }

  async close(): Promise<void> {}
}
