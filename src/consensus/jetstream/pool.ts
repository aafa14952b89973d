import { reject, type DecodedTx, type MempoolLimits, type Rejection } from '../../chain/index.js';

interface Pending {
  decoded: DecodedTx;
  /** Sequence of the COFFER_TXS message it came in, so a restart knows where to resume. */
  seq: number;
}

/**
 * The cluster's pending txs: every envelope of the tx stream, on every node, so whichever
 * validator produces the next height has them. Unlike the solo mempool, taking txs for a block
 * removes nothing: a block can lose the race for its height, and then its txs must still be there
 * for the block that won (which settles what it included).
 */
export class TxPool {
  private readonly byHash = new Map<string, Pending>();
  /** Per sender, by nonce; senders in the order they first had something pending. */
  private readonly senders = new Map<string, Map<number, Pending>>();

  constructor(
    private readonly committedNonce: (sender: string) => number,
    private readonly limits: MempoolLimits,
  ) {}

  get size(): number {
    return this.byHash.size;
  }

  has(hash: string): boolean {
    return this.byHash.has(hash);
  }

  get(hash: string): DecodedTx | undefined {
    return this.byHash.get(hash)?.decoded;
  }

  /** Why `decoded` would not be admitted now, or undefined (the submit-time check). */
  check(decoded: DecodedTx): Rejection | undefined {
    const { tx, hash } = decoded;
    if (this.byHash.has(hash)) return reject('duplicate_tx');
    const next = this.committedNonce(tx.sender);
    if (tx.nonce < next) return reject('nonce_too_low', 'nonce');
    if (tx.nonce >= next + this.limits.perSenderMax) return reject('nonce_too_high', 'nonce');
    if (this.byHash.size >= this.limits.txsMax) return reject('mempool_full');
    const queue = this.senders.get(tx.sender);
    if (queue?.has(tx.nonce)) return reject('duplicate_tx', 'nonce');
    if (queue && queue.size >= this.limits.perSenderMax) return reject('sender_queue_full');
    return undefined;
  }

  add(decoded: DecodedTx, seq: number): Rejection | undefined {
    const rejection = this.check(decoded);
    if (rejection) return rejection;
    const pending = { decoded, seq };
    this.byHash.set(decoded.hash, pending);
    let queue = this.senders.get(decoded.tx.sender);
    if (!queue) {
      queue = new Map();
      this.senders.set(decoded.tx.sender, queue);
    }
    queue.set(decoded.tx.nonce, pending);
    return undefined;
  }

  /**
   * Up to `count` txs that can run in order now: for each sender (oldest first), its txs from its
   * committed nonce on, without gaps. `fits` may stop the selection (a block's byte budget).
   */
  select(count: number, fits: (decoded: DecodedTx) => boolean = () => true): DecodedTx[] {
    const selected: DecodedTx[] = [];
    for (const [sender, queue] of this.senders) {
      let nonce = this.committedNonce(sender);
      for (let pending = queue.get(nonce); pending; pending = queue.get(++nonce)) {
        if (selected.length >= count || !fits(pending.decoded)) return selected;
        selected.push(pending.decoded);
      }
    }
    return selected;
  }

  /** Whether anything could go into a block now. */
  hasReady(): boolean {
    for (const [sender, queue] of this.senders) {
      if (queue.has(this.committedNonce(sender))) return true;
    }
    return false;
  }

  /** Forgets what a committed block included, and whatever of its senders it made stale. */
  settle(txs: readonly DecodedTx[]): void {
    const touched = new Set<string>();
    for (const { hash, tx } of txs) {
      touched.add(tx.sender);
      const pending = this.byHash.get(hash);
      if (!pending) continue;
      this.byHash.delete(hash);
      this.senders.get(tx.sender)?.delete(tx.nonce);
    }
    for (const sender of touched) {
      const queue = this.senders.get(sender);
      if (!queue) continue;
      const next = this.committedNonce(sender);
      for (const [nonce, pending] of queue) {
        if (nonce >= next) continue;
        queue.delete(nonce);
        this.byHash.delete(pending.decoded.hash);
      }
      if (queue.size === 0) this.senders.delete(sender);
    }
  }

  /** The lowest stream sequence still pending, or undefined when nothing is. */
  lowestSeq(): number | undefined {
    let lowest: number | undefined;
    for (const { seq } of this.byHash.values()) {
      if (lowest === undefined || seq < lowest) lowest = seq;
    }
    return lowest;
  }
}
