/*
 * The conversion engine: gives quotes, takes forwards and drives each to `completed` or
 * `refunded` across two ledgers.
 *
 * Atomicity (htlc mode) is the hash-time lock's: the user locks the source amount for the engine
 * under a SHA-256 condition whose preimage only the user (or the recipient) knows; the engine
 * locks the destination amount for the recipient under the same condition, expiring well before
 * the source lock can; the recipient's release reveals the preimage on the destination ledger and
 * the engine claims the source with it. Whatever the engine does or fails to do, each lock either
 * pays its payee by the preimage or returns to its payer at its expiry: there is no state where
 * the recipient was paid and the engine cannot claim, as long as the engine runs again before the
 * source lock's expiry, which the destination's shorter expiry and `claimMarginMs` leave time for.
 *
 * Durability: every step is written to the store (store.ts) before the next starts, and every
 * ledger call is idempotent by a key derived from the forward id, so the worker resumes any
 * forward from its stored state after a crash, however it died.
 */
import { randomBytes } from 'node:crypto';
import { isAddress, sha256Hex } from '../../../crypto/index.js';
import type { SigningKey } from '../../../sdk/keys.js';
import { LedgerError } from './coffer-ledger.js';
import type { CofferLedger } from './coffer-ledger.js';
import type { Deposit, EcosystemLedger, HashLockLedger, ProviderLedger } from './ledgers.js';
import {
  signQuote,
  type EngineEvent,
  type Forward,
  type ForwardMode,
  type ForwardState,
  type Quote,
  type QuoteHop,
} from './records.js';
import type { EngineStore } from './store.js';

/** An engine refusal: the HTTP API answers it with its code and status. */
export class EngineError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** The registry as the engine reads it from the home chain (`GET /v1/conversion/engines/{address}`). */
export interface RegistryView {
  engine: {
    name: string;
    quoteTtlSeconds: number;
    hopsMax: number;
    slippageBpsMax: number;
    status: string;
  };
  ecosystems: {
    ecosystem: string;
    kind: 'coffer' | 'evm' | 'http';
    engineAddress: string;
    blockMsMin?: number;
    blockMsMax?: number;
    status: string;
  }[];
  assets: {
    ecosystem: string;
    asset: string;
    decimals: number;
    currency: string;
    liquidityLow: string;
    liquidityHigh: string;
  }[];
}

export interface AssetRef {
  ecosystem: string;
  asset: string;
}

export interface PriceRequest {
  from: AssetRef;
  to: AssetRef;
  amount: { from: bigint } | { to: bigint };
  slippageBpsMax: number;
  hopsMax: number;
  /** What the engine can pay out of an asset now (balance less what is promised). */
  liquidity: (asset: AssetRef) => bigint;
}

export interface Priced {
  fromAmount: bigint;
  toAmount: bigint;
  rate: string;
  hops: QuoteHop[];
}

/** Prices a route through the registry's pairs at the current rates; throws EngineError. */
export type Pricer = (request: PriceRequest) => Priced;

export interface QuoteRequest {
  from: AssetRef & { amount?: string };
  to: AssetRef & { amount?: string };
  /** The most the whole route's rate may fall below the mid rates, basis points. */
  slippageBps?: number;
}

export interface EngineTiming {
  /** How long a destination lock lives (wall clock, an upper bound). */
  destinationMs: number;
  /** Time kept between the destination lock's expiry and the source lock's, for the claim. */
  claimMarginMs: number;
  /** How often the worker drives the active forwards. */
  tickMs: number;
}

export interface EngineOptions {
  store: EngineStore;
  /** The engine's key on the home chain: its address is the engine's id; it signs quotes. */
  key: SigningKey;
  registry: () => RegistryView;
  ledgers: Map<string, EcosystemLedger>;
  price: Pricer;
  timing: EngineTiming;
  now?: () => number;
  /** Fault injection for the crash tests: the engine kills itself right after a state is stored. */
  crashAfter?: ForwardState;
}

/** The longest a source lock may stay open: bounds how long a forward is driven. */
const sourceLockMsMax = 24 * 3_600_000;
/** Quotes no forward named are deleted this long after they expired. */
const quotePruneAfterMs = 3_600_000;
/** Forwards the worker drives at once. */
const concurrentStepsMax = 64;
/** Forwards read per worker pass. */
const activeReadMax = 1_000;

export class Engine {
  private readonly store: EngineStore;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<string>();
  /** Destination amounts promised to forwards accepted but not yet locked, per asset. */
  private readonly promised = new Map<string, bigint>();
  private running: Promise<void> | undefined;
  /** The last error logged per forward still retrying. */
  private readonly lastErrors = new Map<string, string>();
  /** Until `start`, forwards are taken and stored but not driven. */
  private stopped = true;

  constructor(private readonly options: EngineOptions) {
    this.store = options.store;
    this.now = options.now ?? Date.now;
  }

  get address(): string {
    return this.options.key.address;
  }

  // ---- quotes ------------------------------------------------------------------------------

  async quote(request: QuoteRequest): Promise<Quote> {
    const registry = this.options.registry();
    if (registry.engine.status !== 'active')
      throw new EngineError('engine_paused', 'The engine takes no forwards now.', 503);
    const fromAmount = request.from.amount;
    const toAmount = request.to.amount;
    if ((fromAmount === undefined) === (toAmount === undefined)) {
      throw new EngineError(
        'invalid_quote_request',
        'Give exactly one amount: from.amount or to.amount.',
      );
    }
    for (const side of [fromAmount, toAmount]) {
      if (side !== undefined && !/^[1-9][0-9]{0,30}$/.test(side)) {
        throw new EngineError(
          'invalid_amount',
          'An amount is a positive whole number of minor units.',
        );
      }
    }
    const slippage = request.slippageBps ?? registry.engine.slippageBpsMax;
    if (!Number.isInteger(slippage) || slippage < 0 || slippage > registry.engine.slippageBpsMax) {
      throw new EngineError(
        'invalid_slippage',
        `slippageBps is a whole number from 0 to ${registry.engine.slippageBpsMax}.`,
      );
    }
    const source = this.ecosystem(registry, request.from.ecosystem);
    const destination = this.ecosystem(registry, request.to.ecosystem);
    const mode = modeOf(source.kind, destination.kind);
    const fromAsset = this.asset(registry, request.from);
    const toAsset = this.asset(registry, request.to);
    const balances = await this.balancesOf(registry);
    const priced = this.options.price({
      from: request.from,
      to: request.to,
      amount: fromAmount !== undefined ? { from: BigInt(fromAmount) } : { to: BigInt(toAmount!) },
      slippageBpsMax: slippage,
      hopsMax: registry.engine.hopsMax,
      liquidity: (asset) =>
        (balances.get(assetKey(asset)) ?? 0n) - (this.promised.get(assetKey(asset)) ?? 0n),
    });
    const createdAt = this.now();
    const expiresAt = createdAt + registry.engine.quoteTtlSeconds * 1000;
    const { timing } = this.options;
    const sourceLedger = this.ledger(source.ecosystem);
    let sourceExpiryAtLeast: number | undefined;
    if (mode !== 'deposit') {
      const needed =
        registry.engine.quoteTtlSeconds * 1000 + timing.destinationMs + timing.claimMarginMs;
      sourceExpiryAtLeast = await expiryLeaving(sourceLedger as HashLockLedger, source, needed);
    }
    const quote = signQuote(
      {
        id: randomBytes(16).toString('hex'),
        engine: this.address,
        from: {
          ...request.from,
          amount: priced.fromAmount.toString(),
          decimals: fromAsset.decimals,
        },
        to: { ...request.to, amount: priced.toAmount.toString(), decimals: toAsset.decimals },
        fixed: fromAmount !== undefined ? 'from' : 'to',
        rate: priced.rate,
        route: priced.hops,
        mode,
        payTo: sourceLedger.engineAddress,
        ...(sourceExpiryAtLeast === undefined ? {} : { sourceExpiryAtLeast }),
        createdAt,
        expiresAt,
      },
      this.options.key.secretKey,
    );
    this.store.putQuote(quote);
    return quote;
  }

  // ---- forwards ----------------------------------------------------------------------------

  /**
   * Takes a forward of a quote whose source the user has locked (htlc, hold): checks the lock
   * on its ledger, then stores the forward `accepted` and lets the worker lock the destination.
   * A refusal moves nothing: the user's lock returns to them at its expiry.
   */
  async forward(request: { quoteId: string; lockId: string; recipient: string }): Promise<Forward> {
    const quote = this.store.getQuote(request.quoteId);
    if (!quote)
      throw new EngineError('quote_not_found', 'No quote of this engine has this id.', 404);
    const existing = this.store.forwardOfQuote(quote.id);
    if (existing) {
      if (
        existing.source.lockId ===
          normaliseLockId(this.ledger(quote.from.ecosystem).kind, request.lockId) &&
        existing.recipient === request.recipient
      )
        return existing;
      throw new EngineError('quote_used', 'This quote already has a forward.', 409);
    }
    if (quote.mode === 'deposit') {
      throw new EngineError(
        'deposit_quote',
        'Pay this quote by a deposit at the provider, with the quote id as reference.',
        409,
      );
    }
    if (this.now() > quote.expiresAt)
      throw new EngineError('quote_expired', 'The quote expired; ask for a new one.', 410);
    checkRecipient(this.options.registry(), quote.to.ecosystem, request.recipient);
    const source = this.ledger(quote.from.ecosystem) as HashLockLedger;
    const lockId = normaliseLockId(source.kind, request.lockId);
    const taken = this.store.forwardOfLock(quote.from.ecosystem, lockId);
    if (taken)
      throw new EngineError('lock_used', 'This source lock already pays another forward.', 409);
    const lock = await source.lockState(lockId).catch((error: unknown) => {
      throw new EngineError(
        'ledger_unavailable',
        `The source ledger did not answer: ${describe(error)}`,
        502,
      );
    });
    if (lock.state !== 'open') {
      throw new EngineError('lock_not_open', `The source lock is ${lock.state}, not open.`, 409);
    }
    if (lock.payee.toLowerCase() !== source.engineAddress.toLowerCase()) {
      throw new EngineError(
        'lock_wrong_payee',
        `The source lock must pay the engine (${source.engineAddress}).`,
        409,
      );
    }
    if (lock.asset !== quote.from.asset || lock.amount !== BigInt(quote.from.amount)) {
      throw new EngineError(
        'lock_wrong_amount',
        `The source lock must hold exactly ${quote.from.amount} ${quote.from.asset}.`,
        409,
      );
    }
    if (quote.mode === 'htlc' && !/^[0-9a-f]{64}$/.test(lock.condition)) {
      throw new EngineError(
        'lock_not_hash_locked',
        'The source lock must carry a SHA-256 condition.',
        409,
      );
    }
    if (lock.arbiter !== undefined) {
      // An arbiter alone could post or void the hold: the engine would pay and not be paid.
      throw new EngineError('lock_has_arbiter', 'The source lock must name no arbiter.', 409);
    }
    if (quote.mode === 'hold' && lock.condition !== '') {
      throw new EngineError(
        'lock_hash_locked',
        'Pay a provider payout with a plain hold (no condition).',
        409,
      );
    }
    const { timing } = this.options;
    const left = await source.msLeftAtLeast(lock.expiry);
    if (left < timing.destinationMs + timing.claimMarginMs) {
      throw new EngineError(
        'lock_expires_too_soon',
        `The source lock must stay open at least ${timing.destinationMs + timing.claimMarginMs} ms more (at least ${left} ms now); the quote says its lowest expiry.`,
        409,
      );
    }
    if (left > sourceLockMsMax) {
      // A lock far in the future would keep a forward the worker drives (and its promised
      // liquidity) for that long if the recipient never releases.
      throw new EngineError(
        'lock_expires_too_late',
        `The source lock may stay open at most ${sourceLockMsMax / 3_600_000} hours.`,
        409,
      );
    }
    const destinationAsset = assetKey(quote.to);
    const available =
      (await this.ledger(quote.to.ecosystem).balance(quote.to.asset)) -
      (this.promised.get(destinationAsset) ?? 0n);
    if (available < BigInt(quote.to.amount)) {
      throw new EngineError(
        'insufficient_liquidity',
        'The engine cannot pay this amount out now.',
        409,
      );
    }
    const at = this.now();
    const forward: Forward = {
      id: randomBytes(16).toString('hex'),
      quoteId: quote.id,
      mode: quote.mode,
      state: 'accepted',
      from: quote.from,
      to: quote.to,
      recipient: request.recipient,
      ...(quote.mode === 'htlc' ? { condition: lock.condition } : {}),
      source: { lockId, expiry: lock.expiry, payer: lock.payer },
      destination: {},
      createdAt: at,
      updatedAt: at,
      history: [{ state: 'accepted', at }],
    };
    if (quote.mode === 'htlc') {
      forward.destination.expiry = await (
        this.ledger(quote.to.ecosystem) as HashLockLedger
      ).expiryWithin(timing.destinationMs);
    }
    const accepted = { type: 'forward.accepted', forward: forward.id, state: 'accepted' };
    if (!this.store.insertForward(forward, [accepted])) {
      // A race with another request for this quote or this lock, which won.
      throw new EngineError('quote_used', 'This quote or this lock already has a forward.', 409);
    }
    this.promise(destinationAsset, BigInt(quote.to.amount));
    this.kick();
    return forward;
  }

  /**
   * A deposit a provider notified: forwarded once per deposit id, by the quote its reference
   * names; a deposit that cannot be forwarded is paid back to its sender.
   */
  deposit(ecosystem: string, deposit: Deposit): Forward {
    const taken = this.store.forwardOfDeposit(`${ecosystem}/${deposit.depositId}`);
    if (taken) return taken;
    // The reference is "<quote id> <recipient>": the quote to forward by, and to whom.
    const [quoteId = '', recipient = ''] = deposit.reference.trim().split(/\s+/);
    const quote = /^[0-9a-f]{32}$/.test(quoteId) ? this.store.getQuote(quoteId) : undefined;
    const at = this.now();
    const decimals =
      this.options
        .registry()
        .assets.find((a) => a.ecosystem === ecosystem && a.asset === deposit.asset)?.decimals ?? 0;
    const forward: Forward = {
      id: randomBytes(16).toString('hex'),
      mode: 'deposit',
      state: 'received',
      from: { ecosystem, asset: deposit.asset, amount: deposit.amount.toString(), decimals },
      to: quote?.to ?? { ecosystem, asset: deposit.asset, amount: '0', decimals },
      recipient: '',
      source: { depositId: deposit.depositId, sender: deposit.sender },
      destination: {},
      createdAt: at,
      updatedAt: at,
      history: [{ state: 'received', at, note: `reference ${deposit.reference.slice(0, 64)}` }],
    };
    forward.recipient = recipient.slice(0, 100);
    // Judged as it arrives (a quote's expiry counts at receipt, not when the worker gets to it);
    // a deposit that cannot be forwarded is paid back to its sender by the worker.
    const refusal = !quote
      ? 'quote_not_found'
      : quote.mode !== 'deposit' || quote.from.ecosystem !== ecosystem
        ? 'wrong_quote'
        : at > quote.expiresAt
          ? 'quote_expired'
          : quote.from.asset !== deposit.asset || quote.from.amount !== deposit.amount.toString()
            ? 'wrong_amount'
            : this.store.forwardOfQuote(quote.id)
              ? 'quote_used'
              : recipientRefusal(this.options.registry(), quote.to.ecosystem, forward.recipient);
    if (refusal === undefined) forward.quoteId = quote!.id;
    else forward.error = { code: refusal, message: `the deposit cannot be forwarded: ${refusal}` };
    if (!this.store.takeDeposit(`${ecosystem}/${deposit.depositId}`, forward)) {
      return this.store.forwardOfDeposit(`${ecosystem}/${deposit.depositId}`)!;
    }
    this.kick();
    return forward;
  }

  getForward(id: string): Forward | undefined {
    return this.store.getForward(id);
  }

  // ---- the worker ----------------------------------------------------------------------------

  /** Starts the worker: first the Coffer journals' recovery, then a pass every tickMs. */
  async start(): Promise<void> {
    for (const ledger of this.options.ledgers.values()) {
      if (ledger.kind === 'coffer') await (ledger as CofferLedger).recover();
    }
    for (const forward of this.store.activeForwards(activeReadMax)) {
      if (forward.state === 'accepted' && forward.mode !== 'deposit')
        this.promise(assetKey(forward.to), BigInt(forward.to.amount));
    }
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Runs a pass now (tests, and after a new forward). */
  kick(): void {
    if (this.stopped || this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.schedule(0);
  }

  /** One pass over the active forwards; each forward takes at most one step at a time. */
  async pass(): Promise<void> {
    this.store.pruneQuotes(this.now() - quotePruneAfterMs);
    const active = this.store.activeForwards(activeReadMax).filter((f) => !this.inFlight.has(f.id));
    const queue = [...active];
    const runners = Array.from({ length: Math.min(concurrentStepsMax, queue.length) }, async () => {
      for (let forward = queue.shift(); forward; forward = queue.shift()) {
        this.inFlight.add(forward.id);
        try {
          await this.drive(forward);
        } catch (error) {
          // A ledger that could not be reached: the forward stays where it is for the next pass,
          // and its retry is logged when the error changes, not on every pass.
          const described = describe(error);
          if (this.lastErrors.get(forward.id) === described) continue;
          if (this.lastErrors.size >= activeReadMax) this.lastErrors.clear();
          this.lastErrors.set(forward.id, described);
          this.store.appendEvent({
            type: 'forward.retry',
            forward: forward.id,
            state: forward.state,
            data: { error: described },
          });
        } finally {
          this.inFlight.delete(forward.id);
        }
      }
    });
    await Promise.all(runners);
  }

  private schedule(delay = this.options.timing.tickMs): void {
    this.timer = setTimeout(() => {
      this.running = this.pass()
        .catch(() => undefined)
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.schedule();
        });
    }, delay);
  }

  /** Drives one forward as far as it goes now, storing each state reached. */
  private async drive(forward: Forward): Promise<void> {
    for (let steps = 0; steps < 8; steps++) {
      const before = forward.state;
      await this.step(forward);
      if (forward.state === before) return;
    }
  }

  private async step(forward: Forward): Promise<void> {
    switch (forward.mode) {
      case 'htlc':
        return this.stepHtlc(forward);
      case 'hold':
        return this.stepHold(forward);
      case 'deposit':
        return this.stepDeposit(forward);
    }
  }

  private async stepHtlc(forward: Forward): Promise<void> {
    const source = this.ledger(forward.from.ecosystem) as HashLockLedger;
    const destination = this.ledger(forward.to.ecosystem) as HashLockLedger;
    switch (forward.state) {
      case 'accepted': {
        try {
          const receipt = await destination.lock({
            key: forward.id,
            asset: forward.to.asset,
            amount: BigInt(forward.to.amount),
            recipient: forward.recipient,
            condition: forward.condition!,
            expiry: forward.destination.expiry!,
          });
          this.unpromise(assetKey(forward.to), BigInt(forward.to.amount));
          forward.destination.lockId = receipt.lockId;
          forward.destination.lockTx = receipt.txId;
          this.move(forward, 'locked');
        } catch (error) {
          if (!definitelyRefused(error)) throw error;
          // The destination ledger refused the lock (its funds, its rules): nothing moved there.
          this.unpromise(assetKey(forward.to), BigInt(forward.to.amount));
          forward.error = { code: codeOf(error), message: describe(error) };
          this.move(forward, 'refunding', 'the destination lock was refused');
        }
        return;
      }
      case 'locked': {
        const lock = await destination.lockState(forward.destination.lockId!);
        if (lock.state === 'released') {
          if (sha256Hex(Buffer.from(lock.preimage, 'hex')) !== forward.condition) {
            throw new Error(
              `destination ledger reported a preimage that does not match ${forward.condition}`,
            );
          }
          forward.preimage = lock.preimage;
          forward.destination.releaseTx = lock.txId;
          this.move(forward, 'claiming');
        } else if (lock.state === 'expired' || lock.state === 'refunded') {
          this.move(
            forward,
            'refunding',
            'the recipient did not release before the destination expiry',
          );
        }
        return;
      }
      case 'claiming': {
        const { txId } = await source.claim(forward.source.lockId!, forward.preimage!);
        forward.source.claimTx = txId;
        this.move(forward, 'completed');
        return;
      }
      case 'refunding': {
        if (forward.destination.lockId !== undefined) {
          const lock = await destination.lockState(forward.destination.lockId);
          if (lock.state === 'released') {
            // Released at the last moment: the forward completes after all.
            forward.preimage = lock.preimage;
            forward.destination.releaseTx = lock.txId;
            this.move(forward, 'claiming', 'released at the last moment');
            return;
          }
          if (lock.state === 'expired') {
            const { txId } = await destination.refund(forward.destination.lockId);
            if (txId) forward.destination.refundTx = txId;
          }
          const after =
            lock.state === 'expired'
              ? await destination.lockState(forward.destination.lockId)
              : lock;
          if (after.state === 'open' || after.state === 'expired') return;
          if (after.state === 'refunded' && after.txId) forward.destination.refundTx = after.txId;
        }
        // The source lock returns to the user by itself at its expiry (EVM: the engine asks).
        const sourceLock = await source.lockState(forward.source.lockId!);
        if (sourceLock.state === 'expired') await source.refund(forward.source.lockId!);
        if (sourceLock.state === 'open' || sourceLock.state === 'expired') return;
        this.move(forward, 'refunded');
        return;
      }
      default:
        return;
    }
  }

  /**
   * A plain hold for a provider payout: captured first, so the engine holds the funds before it
   * pays (a hold that expired or was voided before the capture pays nothing out); a payout that
   * then fails is paid back to the hold's payer by a transfer.
   */
  private async stepHold(forward: Forward): Promise<void> {
    const source = this.ledger(forward.from.ecosystem) as CofferLedger;
    const provider = this.ledger(forward.to.ecosystem) as ProviderLedger;
    switch (forward.state) {
      case 'accepted': {
        try {
          forward.source.captureTx = (await source.capture(forward.source.lockId!)).txId;
        } catch (error) {
          if (!definitelyRefused(error)) throw error;
          // The hold is gone (expired, or its payer's arbiter acted): nothing was paid out.
          this.unpromise(assetKey(forward.to), BigInt(forward.to.amount));
          forward.error = { code: codeOf(error), message: describe(error) };
          this.move(forward, 'refunded', 'the source hold could not be captured');
          return;
        }
        this.move(forward, 'forwarding');
        return;
      }
      case 'forwarding': {
        const payout = await provider.payout({
          key: forward.id,
          asset: forward.to.asset,
          amount: BigInt(forward.to.amount),
          recipient: forward.recipient,
        });
        this.unpromise(assetKey(forward.to), BigInt(forward.to.amount));
        forward.destination.payoutId = payout.payoutId;
        this.move(forward, 'paying');
        return;
      }
      case 'paying': {
        const payout = await provider.payoutState(forward.destination.payoutId!);
        if (payout.state === 'completed') {
          this.move(forward, 'completed');
        } else if (payout.state === 'failed') {
          forward.error = { code: 'payout_failed', message: payout.reason };
          this.move(forward, 'refunding', `payout failed: ${payout.reason}`);
        }
        return;
      }
      case 'refunding': {
        // The captured amount goes back to the hold's payer, once (keyed by the forward).
        forward.source.cancelTx = (
          await source.pay({
            key: `refund-${forward.id}`,
            asset: forward.from.asset,
            amount: BigInt(forward.from.amount),
            recipient: forward.source.payer!,
          })
        ).txId;
        this.move(forward, 'refunded');
        return;
      }
      default:
        return;
    }
  }

  private async stepDeposit(forward: Forward): Promise<void> {
    const provider = this.ledger(forward.from.ecosystem) as ProviderLedger;
    switch (forward.state) {
      case 'received': {
        if (forward.error !== undefined) {
          this.move(forward, 'refunding', forward.error.code);
          return;
        }
        this.move(forward, 'quoted');
        return;
      }
      case 'quoted': {
        const destination = this.ledger(forward.to.ecosystem);
        const amount = BigInt(forward.to.amount);
        if ((await destination.balance(forward.to.asset)) < amount) {
          forward.error = {
            code: 'insufficient_liquidity',
            message: 'the engine cannot pay this amount out now',
          };
          this.move(forward, 'refunding', 'insufficient_liquidity');
          return;
        }
        this.move(forward, 'forwarding');
        return;
      }
      case 'forwarding': {
        const destination = this.ledger(forward.to.ecosystem);
        try {
          if (destination.kind === 'http') {
            const payout = await destination.payout({
              key: forward.id,
              asset: forward.to.asset,
              amount: BigInt(forward.to.amount),
              recipient: forward.recipient,
            });
            forward.destination.payoutId = payout.payoutId;
            if (payout.state === 'pending') return;
            if (payout.state === 'failed') throw new LedgerError('payout_failed', payout.reason);
          } else {
            const payer = destination as HashLockLedger & { pay?: CofferLedger['pay'] };
            if (!payer.pay)
              throw new LedgerError(
                'route_not_supported',
                `${forward.to.ecosystem} takes no plain payments`,
              );
            forward.destination.payTx = (
              await payer.pay({
                key: forward.id,
                asset: forward.to.asset,
                amount: BigInt(forward.to.amount),
                recipient: forward.recipient,
              })
            ).txId;
          }
          this.move(forward, 'completed');
        } catch (error) {
          if (!definitelyRefused(error)) throw error;
          forward.error = { code: codeOf(error), message: describe(error) };
          this.move(forward, 'refunding', codeOf(error));
        }
        return;
      }
      case 'refunding': {
        // A refund payout the provider fails is asked for again under the next key (each try
        // is its own payout: the failed one moved nothing), so the deposit always goes back.
        const tries = forward.source.refundTries ?? 0;
        let payout = forward.source.refundPayoutId
          ? await provider.payoutState(forward.source.refundPayoutId)
          : undefined;
        if (payout === undefined || payout.state === 'failed') {
          const attempt = payout === undefined ? tries : tries + 1;
          payout = await provider.payout({
            key: attempt === 0 ? `refund-${forward.id}` : `refund-${forward.id}-${attempt}`,
            asset: forward.from.asset,
            amount: BigInt(forward.from.amount),
            recipient: forward.source.sender!,
          });
          forward.source.refundTries = attempt;
          forward.source.refundPayoutId = payout.payoutId;
          this.store.updateForward(forward);
        }
        if (payout.state === 'completed') this.move(forward, 'refunded');
        return;
      }
      default:
        return;
    }
  }

  /** Stores the forward in its new state with its event (and dies here when told to). */
  private move(forward: Forward, state: ForwardState, note?: string): void {
    const at = this.now();
    forward.state = state;
    forward.updatedAt = at;
    forward.history.push({ state, at, ...(note === undefined ? {} : { note }) });
    const event: EngineEvent = { type: `forward.${state}`, forward: forward.id, state };
    this.store.updateForward(forward, [event]);
    if (this.options.crashAfter === state) process.kill(process.pid, 'SIGKILL');
  }

  // ---- liquidity -----------------------------------------------------------------------------

  /** Balances per ecosystem asset against the registry's thresholds, with rebalancing advice. */
  async liquidity(): Promise<LiquidityReport> {
    const registry = this.options.registry();
    const balances = await this.balancesOf(registry);
    const assets = registry.assets.map((a) => {
      const balance = balances.get(assetKey(a)) ?? 0n;
      const promised = this.promised.get(assetKey(a)) ?? 0n;
      const low = BigInt(a.liquidityLow);
      const high = BigInt(a.liquidityHigh);
      const available = balance - promised;
      return {
        ecosystem: a.ecosystem,
        asset: a.asset,
        currency: a.currency,
        decimals: a.decimals,
        balance: balance.toString(),
        promised: promised.toString(),
        low: a.liquidityLow,
        high: a.liquidityHigh,
        status:
          available < low
            ? ('low' as const)
            : available > high
              ? ('high' as const)
              : ('ok' as const),
        available,
      };
    });
    const suggestions: LiquidityReport['suggestions'] = [];
    for (const short of assets.filter((a) => a.status === 'low')) {
      let deficit = BigInt(short.low) - short.available;
      for (const spare of assets.filter(
        (a) => a.status === 'high' && a.currency === short.currency,
      )) {
        if (deficit <= 0n) break;
        const excess = spare.available - BigInt(spare.high);
        const move = excess < deficit ? excess : deficit;
        if (move <= 0n || spare.decimals !== short.decimals) continue;
        suggestions.push({
          from: { ecosystem: spare.ecosystem, asset: spare.asset },
          to: { ecosystem: short.ecosystem, asset: short.asset },
          amount: move.toString(),
        });
        deficit -= move;
      }
    }
    for (const a of assets) {
      const key = `liquidity/${a.ecosystem}/${a.asset}`;
      if (this.store.getMeta(key) !== a.status) {
        this.store.setMeta(key, a.status);
        this.store.appendEvent({
          type: `liquidity.${a.status}`,
          data: { ecosystem: a.ecosystem, asset: a.asset, balance: a.balance },
        });
      }
    }
    return { assets: assets.map(({ available: _available, ...rest }) => rest), suggestions };
  }

  private async balancesOf(registry: RegistryView): Promise<Map<string, bigint>> {
    const entries = await Promise.all(
      registry.assets
        .filter((a) => this.options.ledgers.has(a.ecosystem))
        .map(async (a) => [assetKey(a), await this.ledger(a.ecosystem).balance(a.asset)] as const),
    );
    return new Map(entries);
  }

  private promise(key: string, amount: bigint): void {
    this.promised.set(key, (this.promised.get(key) ?? 0n) + amount);
  }

  private unpromise(key: string, amount: bigint): void {
    const left = (this.promised.get(key) ?? 0n) - amount;
    if (left > 0n) this.promised.set(key, left);
    else this.promised.delete(key);
  }

  private ecosystem(registry: RegistryView, id: string): RegistryView['ecosystems'][number] {
    const ecosystem = registry.ecosystems.find((e) => e.ecosystem === id);
    if (!ecosystem || !this.options.ledgers.has(id)) {
      throw new EngineError(
        'ecosystem_not_found',
        `This engine serves no ecosystem "${id.slice(0, 40)}".`,
        404,
      );
    }
    if (ecosystem.status !== 'active')
      throw new EngineError('ecosystem_paused', `${id} takes no forwards now.`, 503);
    return ecosystem;
  }

  private asset(registry: RegistryView, ref: AssetRef): RegistryView['assets'][number] {
    const asset = registry.assets.find(
      (a) => a.ecosystem === ref.ecosystem && a.asset === ref.asset,
    );
    if (!asset)
      throw new EngineError(
        'asset_not_found',
        `${ref.ecosystem} has no asset ${String(ref.asset).slice(0, 20)} here.`,
        404,
      );
    return asset;
  }

  private ledger(id: string): EcosystemLedger {
    const ledger = this.options.ledgers.get(id);
    if (!ledger)
      throw new EngineError(
        'ecosystem_not_found',
        `This engine serves no ecosystem "${id.slice(0, 40)}".`,
        404,
      );
    return ledger;
  }
}

export interface LiquidityReport {
  assets: {
    ecosystem: string;
    asset: string;
    currency: string;
    decimals: number;
    balance: string;
    promised: string;
    low: string;
    high: string;
    status: 'low' | 'ok' | 'high';
  }[];
  suggestions: { from: AssetRef; to: AssetRef; amount: string }[];
}

export function assetKey(ref: AssetRef): string {
  return `${ref.ecosystem}/${ref.asset}`;
}

function modeOf(source: string, destination: string): ForwardMode {
  if (source === 'http') return 'deposit';
  if (destination === 'http') {
    if (source === 'coffer') return 'hold';
    throw new EngineError(
      'route_not_supported',
      'An EVM source pays only hash-locked destinations.',
      422,
    );
  }
  return 'htlc';
}

/** The lowest native expiry of a source lock that leaves at least `ms` for the forward. */
async function expiryLeaving(
  ledger: HashLockLedger,
  ecosystem: RegistryView['ecosystems'][number],
  ms: number,
): Promise<number> {
  if (ledger.kind === 'coffer') {
    const height = await (ledger as CofferLedger).height();
    // At the fastest block rate, `ms` passes in ms / blockMsMin blocks; one more as margin.
    return height + Math.ceil(ms / (ecosystem.blockMsMin ?? 1)) + 2;
  }
  // EVM timelocks are unix seconds: from an expiry `ms` away, add what the ledger's bound (its
  // clock drift allowance) takes off, until the bound itself leaves `ms`.
  let expiry = await ledger.expiryWithin(ms);
  for (let tries = 0; tries < 8; tries++) {
    const left = await ledger.msLeftAtLeast(expiry);
    if (left >= ms) return expiry;
    // A bound of 0 hides how far short it is: step by the whole of `ms` then.
    expiry += Math.ceil((left === 0 ? ms : ms - left) / 1000) + 1;
  }
  return expiry;
}

const recipientChecks = {
  coffer: isAddress,
  evm: (text: string) => /^0x[0-9a-fA-F]{40}$/.test(text),
  http: (text: string) => /^[A-Za-z0-9_.:@-]{1,64}$/.test(text),
};

function recipientRefusal(
  registry: RegistryView,
  ecosystem: string,
  recipient: string,
): string | undefined {
  const kind = registry.ecosystems.find((e) => e.ecosystem === ecosystem)?.kind;
  if (!kind) return 'ecosystem_not_found';
  return recipientChecks[kind](recipient) ? undefined : 'invalid_recipient';
}

function checkRecipient(registry: RegistryView, ecosystem: string, recipient: string): void {
  const refusal = recipientRefusal(registry, ecosystem, recipient);
  if (refusal)
    throw new EngineError(refusal, `The recipient is not an account of ${ecosystem}.`, 400);
}

/** A lock id as the engine keys it: lowercase; EVM ids with 0x, Coffer hold ids without. */
function normaliseLockId(kind: string, id: string): string {
  const hex = id.toLowerCase().replace(/^0x/, '');
  if (!/^[0-9a-f]{64}$/.test(hex))
    throw new EngineError('invalid_lock_id', 'A lock id is 64 hex digits.');
  return kind === 'evm' ? `0x${hex}` : hex;
}

/**
 * Whether a ledger call's error says the action did not happen and never will: a tx that failed
 * in its block, a revert, a 4xx refusal. Anything else (no answer, a timeout, a 5xx) may have
 * happened: the step is retried with the same key, never taken as a refusal.
 */
function definitelyRefused(error: unknown): boolean {
  if (error instanceof LedgerError) return true;
  if (!hasCode(error)) return false;
  if (
    ['evm_lock_failed', 'evm_lock_conflict', 'provider_rejected', 'route_not_supported'].includes(
      error.code,
    )
  )
    return true;
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' && status >= 400 && status < 500;
}

function hasCode(error: unknown): error is { code: string } {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'string'
  );
}

function codeOf(error: unknown): string {
  return hasCode(error) ? error.code : 'internal_error';
}

function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 300);
}
