import { reject, type Rejection } from './rejections.js';
import type { DecodedTx } from './tx.js';

export interface MempoolLimits {
  /** Pending txs in all; beyond it new txs get `mempool_full`. */
  txsMax: number;
  /** Pending txs per sender, and how far past its next nonce a sender may queue. */
  perSenderMax: number;
}

export const defaultMempoolLimits: MempoolLimits = { txsMax: 200_000, perSenderMax: 1_000 };

interface SenderQueue {
  /** The next nonce to become ready: committed nonce plus txs already ready or in a block. */
  next: number;
  /** Txs waiting for an earlier nonce, by nonce. */
  waiting: Map<number, DecodedTx>;
  /** Ready or taken txs not yet committed. */
  outstanding: number;
}

/**
 * Pending txs, deduplicated by hash and released in per-sender nonce order: a tx becomes ready
 * when every earlier nonce of its sender is ready, and ready txs leave in arrival order.
 */
export class Mempool {
  private readonly known = new Set<string>();
  private readonly senders = new Map<string, SenderQueue>();
  private ready: DecodedTx[] = [];
  private readyHead = 0;

  constructor(
    private readonly committedNonce: (sender: string) => number,
    private readonly limits: MempoolLimits = defaultMempoolLimits,
  ) {}

  get size(): number {
    return this.known.size;
  }

  get readyCount(): number {
    return this.ready.length - this.readyHead;
  }

  has(hash: string): boolean {
    return this.known.has(hash);
  }

  add(decoded: DecodedTx): Rejection | undefined {
    const { tx, hash } = decoded;
    if (this.known.has(hash)) return reject('duplicate_tx');
    let queue = this.senders.get(tx.sender);
    const next = queue?.next ?? this.committedNonce(tx.sender);
    if (tx.nonce < next) return reject('nonce_too_low', 'nonce');
    if (tx.nonce >= next + this.limits.perSenderMax) return reject('nonce_too_high', 'nonce');
    if (queue?.waiting.has(tx.nonce)) return reject('duplicate_tx', 'nonce');
    if (this.known.size >= this.limits.txsMax) return reject('mempool_full');
    if (queue && queue.waiting.size + queue.outstanding >= this.limits.perSenderMax) {
      return reject('sender_queue_full');
    }
    if (!queue) {
      queue = { next, waiting: new Map(), outstanding: 0 };
      this.senders.set(tx.sender, queue);
    }
    this.known.add(hash);
    queue.waiting.set(tx.nonce, decoded);
    for (let ready = queue.waiting.get(queue.next); ready; ready = queue.waiting.get(queue.next)) {
      queue.waiting.delete(queue.next);
      queue.next += 1;
      queue.outstanding += 1;
      this.ready.push(ready);
    }
    return undefined;
  }

  /** Takes up to `count` ready txs, oldest first, for the next block. */
  take(count: number): DecodedTx[] {
    if (count <= 0) return [];
    const end = Math.min(this.ready.length, this.readyHead + count);
    const taken = this.ready.slice(this.readyHead, end);
    this.readyHead = end;
    if (this.readyHead > 4096 && this.readyHead * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.readyHead);
      this.readyHead = 0;
    }
    return taken;
  }

  /** Forgets txs that left in a block (included or dropped). */
  settle(txs: DecodedTx[]): void {
    for (const { tx, hash } of txs) {
      this.known.delete(hash);
      const queue = this.senders.get(tx.sender);
      if (!queue) continue;
      queue.outstanding -= 1;
      if (queue.outstanding <= 0 && queue.waiting.size === 0) this.senders.delete(tx.sender);
    }
  }

  /**
   * Forgets a sender's queue after its txs were dropped, so its next nonce is read afresh from
   * committed state; waiting txs of that sender are returned to be answered.
   */
  resetSender(sender: string): DecodedTx[] {
    const queue = this.senders.get(sender);
    if (!queue) return [];
    const orphans = [...queue.waiting.values()];
    for (const orphan of orphans) this.known.delete(orphan.hash);
    queue.waiting.clear();
    if (queue.outstanding <= 0) this.senders.delete(sender);
    else queue.next = this.committedNonce(sender) + queue.outstanding;
    return orphans;
  }
}
