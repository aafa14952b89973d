import assert from 'node:assert/strict';
import {
  Mempool,
  signBlockHeader,
  type BlockSigner,
  type Chain,
  type CommittedBlock,
  type DecodedTx,
  type ExecutionResult,
  type MempoolLimits,
  type PrecheckItem,
  type Rejection,
} from '../chain/index.js';
import type { Consensus } from './consensus.js';

/**
 * The producer's runway of committed nonces, so a solo chain never signs away its last committed
 * height on a block that leaves it unable to sign the next: with `reserveHeights` or fewer
 * committed heights left, the only block cut is the renewal block (the system lane's ready txs up
 * to the producer's next nonce commitment), executed first and signed only if the commitment
 * succeeds in it. The node fills it in (src/node/node.ts); without it solo never holds back.
 */
export interface NonceRunway {
  /** Committed heights the producer holds from `height` on (0: it cannot sign `height`). */
  heightsLeft(height: number): number;
  reserveHeights: number;
  /** How many of the system lane's ready txs lead up to and include the renewal; 0: none there. */
  renewalLength(systemTxs: readonly DecodedTx[]): number;
  /** Whether the executed renewal block commits the next range: undefined if so, else why not. */
  renews(result: ExecutionResult): Rejection | undefined;
}

export interface SoloOptions {
  /** Cut a block this often while txs are ready. */
  blockIntervalMs: number;
  /** Cut a block as soon as this many txs are ready; also the block size cap. */
  blockTxsMax: number;
  /** With nothing to include, still cut an empty block this often so heights (and expiries) advance; 0 never. */
  idleBlockIntervalMs: number;
  mempool: MempoolLimits;
  producer: BlockSigner;
  /** The system lane's senders: the producer's operator account (its nonce commitments, evidence). */
  isSystemSender?: (sender: string) => boolean;
  /** Whether a sender has an account in committed state (see `MempoolOptions.hasAccount`). */
  hasAccount?: (sender: string) => boolean;
  nonceRunway?: NonceRunway;
  now?: () => number;
  onError?: (error: unknown) => void;
}

/**
 * One node orders everything itself: a mempool and a timer. It produces a block every
 * `blockIntervalMs` while txs are ready, or at once when `blockTxsMax` are.
 */
export class SoloConsensus implements Consensus {
  readonly kind = 'solo';
  private readonly mempool: Mempool;
  private readonly listeners: ((committed: CommittedBlock) => void)[] = [];
  private readonly finalListeners: ((height: number) => void)[] = [];
  private readonly dropListeners: ((hash: string, reason: Rejection) => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private lastBlockAt = 0;
  /** A block executed while the one below it is being stored, signed once that one is durable. */
  private executed: (ExecutionResult & { time: number }) | undefined;
  private stopped = true;
  private readonly now: () => number;

  constructor(
    private readonly chain: Chain,
    private readonly options: SoloOptions,
  ) {
    this.now = options.now ?? Date.now;
    // Listeners hear of a block once it is durable: the chain may commit it on another thread.
    chain.onDurable((committed) => this.announce(committed));
    this.mempool = new Mempool((sender) => chain.nonceOf(sender), options.mempool, {
      now: this.now,
      ...(options.isSystemSender ? { isSystemSender: options.isSystemSender } : {}),
      ...(options.hasAccount ? { hasAccount: options.hasAccount } : {}),
      onDrop: (decoded, reason) => this.dropped([decoded], reason),
    });
  }

  submit(txs: DecodedTx[]): (Rejection | undefined)[] {
    const results = txs.map((tx) => this.mempool.add(tx));
    if (this.mempool.readyCount >= this.options.blockTxsMax) this.produceSoon();
    return results;
  }

  precheck(txs: DecodedTx[]): (Rejection | undefined)[] {
    return this.mempool.precheck(txs);
  }

  prefilter(items: (PrecheckItem | undefined)[]): (Rejection | undefined)[] {
    return this.mempool.prefilter(items);
  }

  onDropped(listener: (hash: string, reason: Rejection) => void): void {
    this.dropListeners.push(listener);
  }

  private dropped(txs: DecodedTx[], reason: Rejection): void {
    for (const { hash } of txs) for (const listener of this.dropListeners) listener(hash, reason);
  }

  isPending(hash: string): boolean {
    // Until its block is durable, a tx taken into one is still pending to everyone outside.
    return this.mempool.has(hash) || this.chain.isPendingTx(hash);
  }

  pendingCount(): number {
    return this.mempool.size;
  }

  onCommit(listener: (committed: CommittedBlock) => void): void {
    this.listeners.push(listener);
  }

  /** One producer, no one to disagree: a committed (durable) block is final. */
  get finalizedHeight(): number {
    return this.chain.height();
  }

  onFinal(listener: (height: number) => void): void {
    this.finalListeners.push(listener);
  }

  start(): void {
    if (this.timer) return;
    this.stopped = false;
    this.lastBlockAt = this.now();
    this.timer = setInterval(() => this.tick(), this.options.blockIntervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    // The blocks still being stored (and one executed on them, signed once they are) are
    // announced before the node closes.
    this.settle();
    await Promise.resolve();
  }

  /**
   * Produces one block now from what is ready and returns once it is durable and announced
   * (tests and tools use it to advance heights); in the producer's nonce reserve only the renewal
   * block, and undefined when no renewal is ready.
   */
  produceBlock(): CommittedBlock | undefined {
    this.settle();
    const result = this.execute();
    const committed = result && this.sign(result);
    this.chain.flush();
    return committed;
  }

  /** Waits (blocking) until nothing is being stored or waits to be signed. */
  private settle(): void {
    // A block executed on a pending one is signed when that one is durable: flush twice.
    this.chain.flush();
    this.chain.flush();
  }

  /**
   * The next block's execution result, on the tip (the block below may still be committing: the
   * pipeline of issue 24), or the renewal block's; undefined when there is nothing to sign.
   */
  private execute(): (ExecutionResult & { time: number }) | undefined {
    const runway = this.options.nonceRunway;
    const height = this.chain.tip().header.height + 1;
    if (runway && runway.heightsLeft(height) <= runway.reserveHeights) {
      return this.renewal(runway);
    }
    return this.chain.execute(this.mempool.take(this.options.blockTxsMax), this.now());
  }

  /**
   * Signs an executed block and hands it to the store. Only once the block below is durable: a
   * signature leaves the process only with its durable block, so a crash loses at most one signed
   * height, which the signer forgets on restart (`discardUncommitted`).
   */
  private sign(result: ExecutionResult & { time: number }): CommittedBlock {
    assert.ok(this.chain.tip() === this.chain.latest(), 'the block below must be durable');
    const header = this.chain.nextHeader(result, this.options.producer.producer);
    const block = signBlockHeader(header, this.options.producer);
    this.lastBlockAt = this.now();
    // Out of the pool now, so the next block does not take them again; waiters hear at durability.
    this.mempool.settle(result.txs);
    this.mempool.settle(result.dropped);
    return this.chain.commitLater(block, result);
  }

  /**
   * The renewal block: the system lane's txs up to the producer's next nonce commitment, and
   * nothing else, signed only once its execution shows the commitment succeeds. A commitment
   * that fails is dropped from the pool with the system txs behind it (their waiters are told why)
   * and the height stays unsigned.
   */
  private renewal(runway: NonceRunway): (ExecutionResult & { time: number }) | undefined {
    const length = runway.renewalLength(this.mempool.peekSystem(this.options.blockTxsMax));
    if (length === 0) return undefined;
    // Rare: executed on durable state alone, so a refused renewal leaves no pending block behind.
    this.chain.flush();
    const txs = this.mempool.takeSystem(length);
    const result = this.chain.execute(txs, this.now());
    const refused = runway.renews(result);
    if (refused) {
      // Its later txs hang on its nonce: the whole lane goes, and its senders start afresh.
      const lane = [...txs, ...this.mempool.takeSystem(Number.MAX_SAFE_INTEGER)];
      this.mempool.settle(lane);
      const senders = new Set(lane.map((d) => d.tx.sender));
      const orphans = [...senders].flatMap((sender) => this.mempool.resetSender(sender));
      this.dropped([...lane, ...orphans], refused);
      return undefined;
    }
    return result;
  }

  private announce(committed: CommittedBlock): void {
    for (const listener of this.listeners) listener(committed);
    for (const listener of this.finalListeners) listener(committed.block.header.height);
    // The block executed on this one while it was being stored can be signed now.
    const next = this.executed;
    if (next === undefined) return;
    this.executed = undefined;
    if (this.guard(() => this.sign(next)) && this.mempool.readyCount >= this.options.blockTxsMax) {
      this.produceSoon();
    }
  }

  /** Runs a production step; a failed commit or a broken invariant stops production. */
  private guard(step: () => void): boolean {
    try {
      step();
      return true;
    } catch (error) {
      // Must not be papered over: stop producing, and the node halts.
      this.stopped = true;
      if (this.timer) clearInterval(this.timer);
      this.options.onError?.(error);
      return false;
    }
  }

  private produceSoon(): void {
    if (this.immediate || this.stopped) return;
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      this.tick();
    });
  }

  private tick(): void {
    // One block at a time waits for the block below to be stored.
    if (this.stopped || this.executed !== undefined) return;
    const idle = this.options.idleBlockIntervalMs;
    const due = this.mempool.readyCount > 0 || (idle > 0 && this.now() - this.lastBlockAt >= idle);
    if (!due) return;
    // No committed nonce for the next height yet (the commitment is still being computed or
    // included): wait for it rather than sign with an uncommitted nonce.
    if (this.options.producer.canSign?.(this.chain.tip().header.height + 1) === false) return;
    let produced = false;
    const ok = this.guard(() => {
      const result = this.execute();
      if (result === undefined) return;
      produced = true;
      // The block below is still being stored: this one is signed when it is (`announce`),
      // and the main thread serves requests meanwhile instead of waiting.
      if (this.chain.tip() !== this.chain.latest()) this.executed = result;
      else this.sign(result);
    });
    // Only after a block: in the nonce reserve, ready user txs wait and must not spin the loop.
    if (ok && produced && this.mempool.readyCount >= this.options.blockTxsMax) this.produceSoon();
  }
}
