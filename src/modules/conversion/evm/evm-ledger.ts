/*
 * The conversion engine's adapter for an EVM chain: HashLockLedger (engine/ledgers.ts) over an
 * ERC-20 and the HashTimeLock contract (contracts/HashTimeLock.sol), through htlc-client.ts.
 *
 *   const ledger = await createEvmLedger({
 *     rpcUrl, privateKey: enginePrivateKey, htlcAddress, tokens: { USDC: '0x…' },
 *   });
 *   const expiry = await ledger.expiryWithin(3_600_000);
 *   await ledger.lock({ key, asset: 'USDC', amount, recipient, condition, expiry });
 *
 * Lock ids. The engine's lock for `request.key` has the id
 *   keccak256(abi.encode(string "coffer.conversion.evm-lock.v1", address engine, string key))
 * (`engineLockId`), so asking again with one key finds the lock made the first time instead of
 * locking twice, across restarts, without any local state. Someone who copies the id from the
 * mempool and locks first under it makes the engine's lock fail with `evm_lock_conflict`; it
 * never makes the engine pay twice.
 *
 * Time. The chain's clock is its blocks' timestamps (unix seconds); a lock can be withdrawn by a
 * block whose timestamp is <= its expiry, so it stops being usable when chain time reaches
 * (expiry + 1) s. The adapter needs two different "nows", each erring on the safe side:
 * - expiryWithin (the expiry must come no later than asked) counts from the latest block's
 *   timestamp, which is a lower bound on chain time: blocks are never stamped in the future of
 *   the chain's own clock. A stale latest block (an idle instamining chain) makes the expiry
 *   earlier than asked, never later; if it makes it already past, the lock is refused
 *   (`evm_lock_failed`, TimelockNotInFuture) rather than made too short.
 * - msLeftAtLeast (the time left must not be overstated) needs an upper bound on chain time:
 *   the larger of the latest block's timestamp + 1 s and the wall clock plus the largest lead
 *   of the chain over the wall clock seen so far (each block read shows one: its timestamp + 1 s
 *   minus the wall clock when it was read; ganache's evm_increaseTime and a local clock running
 *   behind both appear there), plus `clockDriftMs` for what a reading cannot see: a block that
 *   sat a while before it was read, a chain stamping blocks ahead of its past (geth refuses
 *   blocks more than 15 s ahead, the default). This is an estimate, not a proof: no reading
 *   bounds a chain's clock from above, so the allowance is what makes it safe.
 * - lockState reports `expired` only once the latest block is past the expiry: the chain has
 *   then proven no withdrawal can succeed, and a refund call will. On an instamining chain that
 *   needs a block mined after the expiry (any transaction, or evm_mine in tests).
 *
 * The engine's own transactions (lock, claim, refund) run one at a time through a queue, so its
 * account's nonces never collide and an approve is always followed by its own lock; at most
 * QUEUE_DEPTH_MAX wait. Reads do not queue.
 */
import { encodeAbiParameters, keccak256, type Address, type Hex } from 'viem';
import type { HashLockLedger, LockReceipt, LockRequest, LockState } from '../engine/ledgers.js';
import {
  checkLockId,
  connectHtlc,
  findLockEventTx,
  findWithdrawnTx,
  HtlcError,
  lockFunds,
  readLock,
  refundLock,
  releaseLock,
  tokenBalance,
  type HtlcConnection,
} from './htlc-client.js';

export interface EvmLedgerOptions {
  rpcUrl: string;
  /** The engine's account key: it pays gas and owns the engine's tokens. */
  privateKey: Hex;
  htlcAddress: Address;
  /** The assets this ledger handles, by the engine's asset symbol. */
  tokens: Record<string, Address>;
  /** Where log scans start: the block HashTimeLock was deployed in (default 0). */
  fromBlock?: bigint;
  /** Blocks on top of a transaction's before it counts as committed (default 1). */
  confirmations?: number;
  pollingIntervalMs?: number;
  /** How far the chain may stamp blocks ahead of what was seen (see the header); default 15 s. */
  clockDriftMs?: number;
  /** The wall clock in ms; injectable for tests. */
  clock?: () => number;
}

/** Operational faults of the adapter itself (the chain's are HtlcError). */
export class EvmLedgerError extends Error {
  constructor(
    readonly code:
      'evm_asset_unknown' | 'evm_queue_full' | 'evm_ledger_closed' | 'evm_invalid_input',
    message: string,
  ) {
    super(message);
  }
}

/** Domain label of engine lock ids (see the header); a new derivation gets a new version. */
export const ENGINE_LOCK_ID_LABEL = 'coffer.conversion.evm-lock.v1';
/** geth refuses blocks stamped more than 15 s ahead of its clock. */
const DEFAULT_CLOCK_DRIFT_MS = 15_000;
/** The engine's transactions waiting in the queue, at most: beyond it something is stuck. */
const QUEUE_DEPTH_MAX = 1_000;
const MS_PER_SECOND = 1_000;
/** Asset name for a token this ledger was not configured with (a user may lock anything). */
const UNKNOWN_ASSET_PREFIX = 'erc20:';

/** The id of the engine's lock for `key` (see the header). */
export function engineLockId(engineAddress: Address, key: string): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: 'string' }, { type: 'address' }, { type: 'string' }],
      [ENGINE_LOCK_ID_LABEL, engineAddress, key],
    ),
  );
}

export class EvmLedger implements HashLockLedger {
  readonly kind = 'evm' as const;
  readonly engineAddress: Address;
  private readonly connection: HtlcConnection;
  private readonly tokens: ReadonlyMap<string, Address>;
  private readonly assetsByToken: ReadonlyMap<string, string>;
  private readonly clock: () => number;
  private readonly clockDriftMs: number;
  /** The largest (block timestamp + 1 s - wall clock when read) seen, ms; see the header. */
  private chainLeadMsMax = Number.NEGATIVE_INFINITY;
  private queueTail: Promise<unknown> = Promise.resolve();
  private queueDepth = 0;
  private closed = false;

  /** Use createEvmLedger: connecting needs the chain id first. */
  constructor(connection: HtlcConnection, options: EvmLedgerOptions) {
    const account = connection.walletClient?.account;
    if (!account) throw new EvmLedgerError('evm_invalid_input', 'privateKey: required');
    this.connection = connection;
    this.engineAddress = account.address;
    this.tokens = new Map(Object.entries(options.tokens));
    this.assetsByToken = new Map(
      Object.entries(options.tokens).map(([asset, token]) => [token.toLowerCase(), asset]),
    );
    // Off chain, the wall clock is an input like any other; it never decides a ledger's state.

    this.clock = options.clock ?? (() => Date.now());
    this.clockDriftMs = options.clockDriftMs ?? DEFAULT_CLOCK_DRIFT_MS;
  }

  private token(asset: string): Address {
    const token = this.tokens.get(asset);
    if (!token) throw new EvmLedgerError('evm_asset_unknown', `no token for asset ${asset}`);
    return token;
  }

  private assetOf(token: Address): string {
    return this.assetsByToken.get(token.toLowerCase()) ?? `${UNKNOWN_ASSET_PREFIX}${token}`;
  }

  private checkOpen(): void {
    if (this.closed) throw new EvmLedgerError('evm_ledger_closed', 'the EVM ledger is closed');
  }

  /** Runs the engine's transactions one after another (see the header). */
  private serialised<T>(task: () => Promise<T>): Promise<T> {
    this.checkOpen();
    if (this.queueDepth >= QUEUE_DEPTH_MAX) {
      throw new EvmLedgerError('evm_queue_full', `${QUEUE_DEPTH_MAX} transactions already wait`);
    }
    this.queueDepth += 1;
    const run = this.queueTail.then(task).finally(() => {
      this.queueDepth -= 1;
    });
    this.queueTail = run.catch(() => undefined); // one failure must not stop the ones after it
    return run;
  }

  /** The latest block, and what it says about the chain's lead over the wall clock. */
  private async latestBlock(): Promise<{ number: bigint; timestamp: number }> {
    const block = await this.connection.publicClient.getBlock({ blockTag: 'latest' });
    const timestamp = Number(block.timestamp);
    // The block was mined before the end of its second (timestamps are whole seconds, rounded
    // down) and before we read it, so this is the chain's lead at its largest reading.
    this.chainLeadMsMax = Math.max(
      this.chainLeadMsMax,
      (timestamp + 1) * MS_PER_SECOND - this.clock(),
    );
    return { number: block.number, timestamp };
  }

  async balance(asset: string): Promise<bigint> {
    this.checkOpen();
    return tokenBalance(this.connection, this.token(asset), this.engineAddress);
  }

  async expiryWithin(ms: number): Promise<number> {
    this.checkOpen();
    if (!Number.isSafeInteger(ms) || ms < 0) {
      throw new EvmLedgerError('evm_invalid_input', 'ms: must be a whole number >= 0');
    }
    const { timestamp } = await this.latestBlock();
    // Usable until chain time reaches expiry + 1 s, which must be <= (now) + ms. The latest block
    // may be old (nothing mined for a while): the next one is stamped at the wall clock at least
    // (ganache; real chains within seconds of it), so now is the later of the two. A chain that
    // lags the wall clock expires the lock that much later: the engine's claim margin covers it.
    const nowMs = Math.max(timestamp * MS_PER_SECOND, this.clock());
    return Math.floor((nowMs + ms) / MS_PER_SECOND) - 1;
  }

  async msLeftAtLeast(expiry: number): Promise<number> {
    this.checkOpen();
    const { timestamp } = await this.latestBlock();
    const chainNowMsMax =
      Math.max((timestamp + 1) * MS_PER_SECOND, this.clock() + this.chainLeadMsMax) +
      this.clockDriftMs;
    return Math.max(0, Math.floor((expiry + 1) * MS_PER_SECOND - chainNowMsMax));
  }

  async lock(request: LockRequest): Promise<LockReceipt> {
    const token = this.token(request.asset);
    const id = engineLockId(this.engineAddress, request.key);
    const result = await this.serialised(() =>
      lockFunds(this.connection, {
        token,
        id,
        recipient: request.recipient as Address,
        amount: request.amount,
        condition: request.condition,
        timelock: request.expiry,
      }),
    );
    return { lockId: result.lockId, txId: result.txHash };
  }

  async lockState(lockId: string): Promise<LockState> {
    this.checkOpen();
    const id = checkLockId(lockId);
    const block = await this.latestBlock();
    // Read the lock at the block whose time decides `expired`, so the two agree.
    const lock = await readLock(this.connection, id, { blockNumber: block.number });
    if (!lock) return { state: 'missing' };
    switch (lock.state) {
      case 'withdrawn': {
        const txId = await findWithdrawnTx(this.connection, id);
        if (!txId || lock.preimage === undefined) {
          throw new Error(`lock ${id} is withdrawn but its Withdrawn event was not found`);
        }
        return { state: 'released', preimage: lock.preimage, txId };
      }
      case 'refunded': {
        const txId = await findLockEventTx(this.connection, 'Refunded', id);
        return txId ? { state: 'refunded', txId } : { state: 'refunded' };
      }
      case 'open':
        if (block.timestamp > lock.timelock) return { state: 'expired' };
        return {
          state: 'open',
          asset: this.assetOf(lock.token),
          amount: lock.amount,
          payer: lock.sender,
          payee: lock.recipient,
          condition: lock.condition,
          expiry: lock.timelock,
        };
    }
  }

  async claim(lockId: string, preimage: string): Promise<{ txId: string }> {
    const { txHash } = await this.serialised(() =>
      releaseLock(this.connection, { id: lockId, preimage }),
    );
    return { txId: txHash };
  }

  async refund(lockId: string): Promise<{ txId?: string }> {
    const { txHash } = await this.serialised(() => refundLock(this.connection, { id: lockId }));
    return { txId: txHash };
  }

  /** Waits for the engine's queued transactions, then refuses further calls. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queueTail;
  }
}

/** Connects to the chain (one eth_chainId call) and returns the engine's EVM ledger. */
export async function createEvmLedger(options: EvmLedgerOptions): Promise<EvmLedger> {
  const connection = await connectHtlc({
    rpcUrl: options.rpcUrl,
    htlc: options.htlcAddress,
    privateKey: options.privateKey,
    fromBlock: options.fromBlock,
    confirmations: options.confirmations,
    pollingIntervalMs: options.pollingIntervalMs,
  });
  return new EvmLedger(connection, options);
}

export { HtlcError };
