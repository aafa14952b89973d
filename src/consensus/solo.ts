import {
  Mempool,
  type Chain,
  type CommittedBlock,
  type DecodedTx,
  type BlockSigner,
  type MempoolLimits,
  type Rejection,
} from '../chain/index.js';
import type { Consensus } from './consensus.js';

export interface SoloOptions {
  /** Cut a block this often while txs are ready. */
  blockIntervalMs: number;
  /** Cut a block as soon as this many txs are ready; also the block size cap. */
  blockTxsMax: number;
  /** With nothing to include, still cut an empty block this often so heights (and expiries) advance; 0 never. */
  idleBlockIntervalMs: number;
  mempool: MempoolLimits;
  producer: BlockSigner;
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
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private lastBlockAt = 0;
  private stopped = true;
  private readonly now: () => number;

  constructor(
    private readonly chain: Chain,
    private readonly options: SoloOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.mempool = new Mempool((sender) => chain.nonceOf(sender), options.mempool);
  }

  submit(txs: DecodedTx[]): (Rejection | undefined)[] {
    const results = txs.map((tx) => this.mempool.add(tx));
    if (this.mempool.readyCount >= this.options.blockTxsMax) this.produceSoon();
    return results;
  }

  isPending(hash: string): boolean {
    return this.mempool.has(hash);
  }

  pendingCount(): number {
    return this.mempool.size;
  }

  onCommit(listener: (committed: CommittedBlock) => void): void {
    this.listeners.push(listener);
  }

  /** One producer, no one to disagree: a committed block is final. */
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
    await Promise.resolve();
  }

  /** Produces one block now from what is ready (tests and tools use it to advance heights). */
  produceBlock(): CommittedBlock {
    const txs = this.mempool.take(this.options.blockTxsMax);
    const committed = this.chain.produce(txs, this.now(), this.options.producer);
    this.lastBlockAt = this.now();
    this.mempool.settle(committed.txs);
    this.mempool.settle(committed.dropped);
    for (const listener of this.listeners) listener(committed);
    for (const listener of this.finalListeners) listener(committed.block.header.height);
    return committed;
  }

  private produceSoon(): void {
    if (this.immediate || this.stopped) return;
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      this.tick();
    });
  }

  private tick(): void {
    if (this.stopped) return;
    const idle = this.options.idleBlockIntervalMs;
    const due = this.mempool.readyCount > 0 || (idle > 0 && this.now() - this.lastBlockAt >= idle);
    if (!due) return;
    // No committed nonce for the next height yet (the commitment is still being computed or
    // included): wait for it rather than sign with an uncommitted nonce.
    if (this.options.producer.canSign?.(this.chain.height() + 1) === false) return;
    try {
      this.produceBlock();
    } catch (error) {
      // A failed commit or a broken invariant must not be papered over: stop producing.
      this.stopped = true;
      if (this.timer) clearInterval(this.timer);
      this.options.onError?.(error);
      return;
    }
    if (this.mempool.readyCount >= this.options.blockTxsMax) this.produceSoon();
  }
}
