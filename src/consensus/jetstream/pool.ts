import {
  GappedTxs,
  SenderRateLimit,
  mempoolLimits,
  prechecks,
  reject,
  type DecodedTx,
  type MempoolLimits,
  type MempoolOptions,
  type PrecheckItem,
  type Rejection,
} from '../../chain/index.js';

interface Pending {
  decoded: DecodedTx;
  /** Sequence of the COFFER_TXS message it came in, so a restart knows where to resume. */
  seq: number;
}

interface SenderTxs {
  /** Pending txs by nonce, from the committed nonce on. */
  txs: Map<number, Pending>;
  /** The sender's committed nonce, as of the last block that touched it. */
  next: number;
  /** The first nonce from `next` on that no pending tx has: below it ready, above it gapped. */
  runEnd: number;
  /** In the system lane (decided when the sender first has something pending). */
  system: boolean;
}

/**
 * The cluster's pending txs: every envelope of the tx stream, on every node, so whichever
 * validator produces the next height has them. Unlike the solo mempool, taking txs for a block
 * removes nothing: a block can lose the race for its height, and then its txs must still be there
 * for the block that won (which settles what it included).
 *
 * Bounds as the solo mempool's (`MempoolLimits`): gapped txs (past the first nonce a sender has
 * no pending tx for) have a small share, a per-sender cap and an expiry, and are evicted by the
 * same policy (`GappedTxs.victim`); the system lane (producer operators' own txs: nonce
 * commitments, evidence) is bounded apart and selected first. Pools of different nodes may differ
 * (expiry follows each node's clock); a block carries its txs, so that never splits decisions.
 */
export class TxPool {
  private readonly byHash = new Map<string, Pending>();
  /** Per lane, senders in the order they first had something pending. */
  private readonly systemSenders = new Map<string, SenderTxs>();
  private readonly userSenders = new Map<string, SenderTxs>();
  private userTxs = 0;
  private readyTxs = 0;
  private readonly gapped = new GappedTxs();
  private readonly rate: SenderRateLimit | undefined;
  private readonly gappedBudget: SenderRateLimit | undefined;
  private readonly limits: Required<MempoolLimits>;
  private readonly now: () => number;
  private readonly isSystemSender: (sender: string) => boolean;
  private readonly onDrop: (decoded: DecodedTx, reason: Rejection) => void;
  private readonly hasAccount: (sender: string) => boolean;
  private readonly checks: ReturnType<typeof prechecks>;

  constructor(
    private readonly committedNonce: (sender: string) => number,
    limits: MempoolLimits,
    options: MempoolOptions = {},
  ) {
    this.limits = mempoolLimits(limits);
    this.now = options.now ?? Date.now;
    this.isSystemSender = options.isSystemSender ?? (() => false);
    this.onDrop = options.onDrop ?? (() => {});
    this.hasAccount = options.hasAccount ?? (() => false);
    const { senderTxsPerSecondMax, gappedAdmissionsPerSecondMax } = this.limits;
    this.rate = senderTxsPerSecondMax > 0 ? new SenderRateLimit(senderTxsPerSecondMax) : undefined;
    this.gappedBudget =
      gappedAdmissionsPerSecondMax > 0
        ? new SenderRateLimit(gappedAdmissionsPerSecondMax)
        : undefined;
    this.checks = prechecks({
      limits: this.limits,
      gapped: this.gapped,
      rate: this.rate,
      gappedBudget: this.gappedBudget,
      now: this.now,
      hasAccount: this.hasAccount,
      isPending: (hash) => this.byHash.has(hash),
      isSystem: (sender) => this.entry(sender)?.system ?? this.isSystemSender(sender),
      readyUpTo: (sender) => this.entry(sender)?.runEnd ?? this.committedNonce(sender),
    });
  }

  get size(): number {
    return this.byHash.size;
  }

  /** Gapped user txs held now. */
  get gappedCount(): number {
    return this.gapped.count;
  }

  /** User-lane txs held (ready and gapped). */
  get userCount(): number {
    return this.userTxs;
  }

  has(hash: string): boolean {
    return this.byHash.has(hash);
  }

  get(hash: string): DecodedTx | undefined {
    return this.byHash.get(hash)?.decoded;
  }

  private entry(sender: string): SenderTxs | undefined {
    return this.systemSenders.get(sender) ?? this.userSenders.get(sender);
  }

  /** The checks that need no signature, over a batch before it is verified (`Mempool.precheck`). */
  precheck(txs: readonly DecodedTx[]): (Rejection | undefined)[] {
    return this.checks.precheck(txs);
  }

  /** The same on senders and nonces as sent, before decoding (`Mempool.prefilter`). */
  prefilter(items: readonly (PrecheckItem | undefined)[]): (Rejection | undefined)[] {
    return this.checks.prefilter(items);
  }

  /**
   * Why `decoded` would not be admitted now, or undefined: the submit-time check of the node a
   * client sent it to, which counts it against the sender's rate when it passes.
   */
  check(decoded: DecodedTx): Rejection | undefined {
    const decision = this.decide(decoded, true);
    if ('rejection' in decision) return decision.rejection;
    if (!decision.system) this.rate?.take(decoded.tx.sender, this.now());
    return undefined;
  }

  /** Pools a tx from the tx stream (any node's), evicting a gapped tx where the policy says so. */
  add(decoded: DecodedTx, seq: number): Rejection | undefined {
    if (this.gapped.count > 0) this.expire();
    const decision = this.decide(decoded, false);
    if ('rejection' in decision) return decision.rejection;
    if (decision.evict) {
      this.drop(decision.evict.sender, decision.evict.nonce, reject('gapped_tx_evicted'));
    }
    const { sender, nonce } = decoded.tx;
    let entry = this.entry(sender);
    if (!entry) {
      const next = this.committedNonce(sender);
      entry = { txs: new Map(), next, runEnd: next, system: decision.system };
      (entry.system ? this.systemSenders : this.userSenders).set(sender, entry);
    }
    const pending = { decoded, seq };
    this.byHash.set(decoded.hash, pending);
    entry.txs.set(nonce, pending);
    if (!entry.system) {
      this.userTxs += 1;
      if (nonce > entry.runEnd) this.gapped.add(sender, nonce, this.now());
    }
    this.extendRun(sender, entry);
    return undefined;
  }

  /**
   * The admission rules, in the solo mempool's precedence; `rated` applies the sender's rate
   * (only where a client submits: a tx from the stream was admitted by a node already).
   */
  private decide(
    decoded: DecodedTx,
    rated: boolean,
  ):
    | { rejection: Rejection }
    | { system: boolean; evict?: { sender: string; nonce: number } | undefined } {
    const { tx, hash } = decoded;
    if (this.byHash.has(hash)) return { rejection: reject('duplicate_tx') };
    const entry = this.entry(tx.sender);
    const system = entry?.system ?? this.isSystemSender(tx.sender);
    const next = this.committedNonce(tx.sender);
    if (tx.nonce < next) return { rejection: reject('nonce_too_low', 'nonce') };
    const window = system ? this.limits.systemTxsMax : this.limits.perSenderMax;
    if (tx.nonce >= next + window) return { rejection: reject('nonce_too_high', 'nonce') };
    if (entry?.txs.has(tx.nonce)) return { rejection: reject('duplicate_tx', 'nonce') };
    const held = entry?.txs.size ?? 0;
    if (system) {
      if (held >= this.limits.systemTxsMax) return { rejection: reject('sender_queue_full') };
      return { system };
    }
    if (rated && this.rate && !this.rate.allows(tx.sender, this.now())) {
      return { rejection: reject('sender_rate_limited') };
    }
    const gapped = tx.nonce > (entry?.runEnd ?? next);
    let evict: { sender: string; nonce: number } | undefined;
    if (this.userTxs >= this.limits.txsMax) {
      const victim = gapped ? undefined : this.gapped.victim();
      if (!victim) return { rejection: reject('mempool_full') };
      evict = victim;
    }
    if (held >= this.limits.perSenderMax) return { rejection: reject('sender_queue_full') };
    if (gapped) {
      const room = this.gapped.room(
        tx.sender,
        this.limits.gappedPerSenderMax,
        this.limits.gappedTxsMax,
      );
      if ('rejection' in room) return room;
      if (room.evict) evict = room.evict;
    }
    return { system, evict };
  }

  /** Moves `runEnd` over the pending txs that follow it (they are ready now) and counts them. */
  private extendRun(sender: string, entry: SenderTxs): void {
    const before = entry.runEnd - entry.next;
    if (entry.runEnd < entry.next) entry.runEnd = entry.next;
    while (entry.txs.has(entry.runEnd)) {
      if (!entry.system) this.gapped.remove(sender, entry.runEnd);
      entry.runEnd += 1;
    }
    this.readyTxs += entry.runEnd - entry.next - Math.max(0, before);
  }

  /** Removes a gapped user tx and says why. */
  private drop(sender: string, nonce: number, reason: Rejection): void {
    const entry = this.userSenders.get(sender);
    const pending = entry?.txs.get(nonce);
    if (!entry || !pending) return;
    entry.txs.delete(nonce);
    this.byHash.delete(pending.decoded.hash);
    this.gapped.remove(sender, nonce);
    this.userTxs -= 1;
    if (entry.txs.size === 0) this.userSenders.delete(sender);
    this.onDrop(pending.decoded, reason);
  }

  /** Drops gapped txs older than `gappedExpiryMs` by this node's clock. */
  expire(now = this.now()): void {
    const before = now - this.limits.gappedExpiryMs;
    for (let e = this.gapped.nextExpired(before); e; e = this.gapped.nextExpired(before)) {
      this.drop(e.sender, e.nonce, reject('gapped_tx_expired'));
    }
  }

  /**
   * Up to `count` txs that can run in order now: the system lane's senders first, then the
   * users', each lane oldest sender first, each sender its txs from its committed nonce on,
   * without gaps. `fits` may stop the selection (a block's byte budget).
   */
  select(count: number, fits: (decoded: DecodedTx) => boolean = () => true): DecodedTx[] {
    if (this.gapped.count > 0) this.expire();
    const selected: DecodedTx[] = [];
    for (const senders of [this.systemSenders, this.userSenders]) {
      for (const entry of senders.values()) {
        for (let nonce = entry.next; nonce < entry.runEnd; nonce++) {
          const pending = entry.txs.get(nonce)!;
          if (selected.length >= count || !fits(pending.decoded)) return selected;
          selected.push(pending.decoded);
        }
      }
    }
    return selected;
  }

  /** Whether anything could go into a block now. */
  hasReady(): boolean {
    return this.readyTxs > 0;
  }

  /** Forgets what a committed block included, and whatever of its senders it made stale. */
  settle(txs: readonly DecodedTx[]): void {
    const touched = new Set<string>();
    for (const { hash, tx } of txs) {
      touched.add(tx.sender);
      const pending = this.byHash.get(hash);
      if (!pending) continue;
      this.forget(tx.sender, tx.nonce);
    }
    for (const sender of touched) {
      const entry = this.entry(sender);
      if (!entry) continue;
      const next = this.committedNonce(sender);
      for (const nonce of entry.txs.keys()) if (nonce < next) this.forget(sender, nonce);
      this.readyTxs -= Math.max(0, entry.runEnd - entry.next);
      entry.next = next;
      entry.runEnd = Math.max(entry.runEnd, next);
      // Recounted from here: what stays between next and runEnd is ready (runEnd only grows).
      this.readyTxs += entry.runEnd - entry.next;
      this.extendRun(sender, entry);
      if (entry.txs.size === 0) {
        this.readyTxs -= entry.runEnd - entry.next;
        this.systemSenders.delete(sender);
        this.userSenders.delete(sender);
      }
    }
  }

  /** Removes one pending tx of a sender, whatever it was (ready, gapped, stale). */
  private forget(sender: string, nonce: number): void {
    const entry = this.entry(sender);
    const pending = entry?.txs.get(nonce);
    if (!entry || !pending) return;
    entry.txs.delete(nonce);
    this.byHash.delete(pending.decoded.hash);
    if (!entry.system) {
      this.userTxs -= 1;
      this.gapped.remove(sender, nonce);
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
