import { reject, type Rejection } from './rejections.js';
import type { DecodedTx } from './tx.js';

/**
 * The bounds of a pool of pending txs (the solo mempool and the cluster's pool alike). A _gapped_
 * tx waits for an earlier nonce of its sender; a _ready_ one can run as soon as a block takes it.
 * Gapped txs cost their sender nothing (an outsider with fresh keys signs them by the thousand and
 * never sends the nonce before), so they get a small share of the pool, a small count per sender
 * and a short life; ready txs leave in the next blocks and keep the rest of the room.
 */
export interface MempoolLimits {
  /** User txs pending in all (ready, taken and gapped); beyond it new txs get `mempool_full`. */
  txsMax: number;
  /** Pending txs per sender, and how far past its next nonce a sender may queue. */
  perSenderMax: number;
  /**
   * Gapped txs in all: a small share of `txsMax` (default a tenth), so gapped txs can never keep
   * ready ones out. Past it a gapped tx evicts another (see `GappedTxs.victim`) or is refused.
   */
  gappedTxsMax?: number;
  /**
   * Gapped txs per sender. An honest client's txs arrive out of order only by what it has in
   * flight at once; in a cluster, a burst spread over several validators interleaves in the tx
   * stream, so this leaves room for that. Geth's txpool keeps 64 queued txs per account too.
   */
  gappedPerSenderMax?: number;
  /** How long a gapped tx may wait for the nonces before it: a client closes a gap in seconds. */
  gappedExpiryMs?: number;
  /**
   * Txs per system sender (the producer operators' own: nonce commitments, evidence, relays). The
   * system lane holds them apart from user txs, so no user load refuses them; this bounds it.
   */
  systemTxsMax?: number;
  /** Txs a user sender may have admitted per second (a burst of one second's worth); 0: no limit. */
  senderTxsPerSecondMax?: number;
  /**
   * Gapped txs whose signatures the node checks per second, all senders together (`precheck`
   * spends it); 0: no limit. Fresh keys cost an outsider nothing, a verify costs the node a
   * fifth of a millisecond of a core: this bounds what a flood of them can take from ready txs.
   */
  gappedAdmissionsPerSecondMax?: number;
}

export const defaultMempoolLimits = {
  txsMax: 200_000,
  perSenderMax: 1_000,
  gappedPerSenderMax: 64,
  gappedExpiryMs: 30_000,
  // One commitment per nonce range, evidence per equivocation, relays bounded by their services'
  // in-flight caps: a node never has this many of its own txs pending unless something is wrong.
  systemTxsMax: 1_000,
  senderTxsPerSecondMax: 0,
  // Only senders without an account spend it, and their gapped txs are almost never honest (a
  // new client's first batch in nonce order is not gapped): 100 verifies a second is a fiftieth
  // of a core here (150-260 us each), and refills the default gapped share in a few minutes.
  gappedAdmissionsPerSecondMax: 100,
} as const;

/** The limits with every default filled in; the gapped share is a tenth of `txsMax` by default. */
export function mempoolLimits(limits: MempoolLimits): Required<MempoolLimits> {
  const defaults = defaultMempoolLimits;
  return {
    txsMax: limits.txsMax,
    perSenderMax: limits.perSenderMax,
    gappedTxsMax: limits.gappedTxsMax ?? Math.max(1, Math.floor(limits.txsMax / 10)),
    gappedPerSenderMax: limits.gappedPerSenderMax ?? defaults.gappedPerSenderMax,
    gappedExpiryMs: limits.gappedExpiryMs ?? defaults.gappedExpiryMs,
    systemTxsMax: limits.systemTxsMax ?? defaults.systemTxsMax,
    senderTxsPerSecondMax: limits.senderTxsPerSecondMax ?? defaults.senderTxsPerSecondMax,
    gappedAdmissionsPerSecondMax:
      limits.gappedAdmissionsPerSecondMax ?? defaults.gappedAdmissionsPerSecondMax,
  };
}

export interface MempoolOptions {
  /** The node's clock (for the expiry of gapped txs and the rate limit; not state-machine code). */
  now?: () => number;
  /** Whether a sender's txs go to the system lane: the node's own (a producer's operator). */
  isSystemSender?: (sender: string) => boolean;
  /** Told of each admitted tx the pool drops before a block takes it (expired or evicted). */
  onDrop?: (decoded: DecodedTx, reason: Rejection) => void;
  /**
   * Whether a sender has an account in committed state (it received or sent something). Only
   * gapped txs of senders without one spend the gapped budget: a key costs an outsider nothing,
   * an account costs it a tx from one that holds funds. Default: nobody has one.
   */
  hasAccount?: (sender: string) => boolean;
}

interface GappedEntry {
  sender: string;
  nonce: number;
  at: number;
}

/**
 * The gapped txs of a pool, for their bounds: per sender by nonce with arrival times, senders by
 * how many they hold, and one arrival queue that is also the expiry queue (every gapped tx lives
 * the same time). The pool owning it keeps the txs; this keeps only the bookkeeping.
 */
export class GappedTxs {
  private readonly bySender = new Map<string, Map<number, GappedEntry>>();
  /** Senders by the count they hold (index), each set in the order its senders reached it. */
  private readonly byCount: Set<string>[] = [new Set()];
  private maxCount = 0;
  private arrivals: GappedEntry[] = [];
  private arrivalsHead = 0;
  private total = 0;

  get count(): number {
    return this.total;
  }

  countOf(sender: string): number {
    return this.bySender.get(sender)?.size ?? 0;
  }

  has(sender: string, nonce: number): boolean {
    return this.bySender.get(sender)?.has(nonce) ?? false;
  }

  add(sender: string, nonce: number, at: number): void {
    let entries = this.bySender.get(sender);
    if (!entries) {
      entries = new Map();
      this.bySender.set(sender, entries);
    }
    if (entries.has(nonce)) return;
    const entry = { sender, nonce, at };
    entries.set(nonce, entry);
    this.arrivals.push(entry);
    this.total += 1;
    this.moveCount(sender, entries.size - 1, entries.size);
  }

  remove(sender: string, nonce: number): boolean {
    const entries = this.bySender.get(sender);
    if (!entries?.delete(nonce)) return false;
    this.total -= 1;
    this.moveCount(sender, entries.size + 1, entries.size);
    if (entries.size === 0) this.bySender.delete(sender);
    return true;
  }

  private moveCount(sender: string, from: number, to: number): void {
    if (from > 0) this.byCount[from]!.delete(sender);
    if (to > 0) {
      while (this.byCount.length <= to) this.byCount.push(new Set());
      this.byCount[to]!.add(sender);
    }
    this.maxCount = Math.max(this.maxCount, to);
    while (this.maxCount > 0 && this.byCount[this.maxCount]!.size === 0) this.maxCount -= 1;
  }

  /**
   * Which gapped tx to evict when the gapped share is full: of the sender holding the most (the
   * first to reach that count on a tie), its highest nonce, the one furthest from ever running.
   * Geth's txpool likewise trims the accounts holding the most queued txs, from the top nonce
   * down, so a sender's lower nonces (which a late earlier tx can still make ready) stay.
   */
  victim(): { sender: string; nonce: number; count: number } | undefined {
    if (this.maxCount === 0) return undefined;
    const sender = this.byCount[this.maxCount]!.values().next().value!;
    let nonce = -1;
    for (const n of this.bySender.get(sender)!.keys()) nonce = Math.max(nonce, n);
    return { sender, nonce, count: this.maxCount };
  }

  /**
   * Whether one more gapped tx of `sender` fits: under its cap, and under the share or by
   * evicting a gapped tx of a sender holding more than `sender` does (so a flood of keys churns
   * among its own and a sender with a single gap still gets in).
   */
  room(
    sender: string,
    perSenderMax: number,
    totalMax: number,
  ): { rejection: Rejection } | { evict?: { sender: string; nonce: number } } {
    const own = this.countOf(sender);
    if (own >= perSenderMax) return { rejection: reject('sender_gap_limit', 'nonce') };
    if (this.total < totalMax) return {};
    const victim = this.victim();
    if (!victim || victim.count <= own) return { rejection: reject('gapped_pool_full') };
    return { evict: victim };
  }

  /** The oldest gapped tx that arrived before `before`, taken off the expiry queue. */
  nextExpired(before: number): { sender: string; nonce: number } | undefined {
    while (this.arrivalsHead < this.arrivals.length) {
      const entry = this.arrivals[this.arrivalsHead]!;
      // Gone already (ready, evicted, settled): its slot in the queue is skipped.
      const current = this.bySender.get(entry.sender)?.get(entry.nonce) === entry;
      if (current && entry.at >= before) break;
      this.arrivalsHead += 1;
      this.compact();
      if (current) return { sender: entry.sender, nonce: entry.nonce };
    }
    return undefined;
  }

  private compact(): void {
    if (this.arrivalsHead > 4096 && this.arrivalsHead * 2 > this.arrivals.length) {
      this.arrivals = this.arrivals.slice(this.arrivalsHead);
      this.arrivalsHead = 0;
    }
  }
}

/**
 * Admissions per sender per second, as token buckets of one second's worth. Buckets that filled
 * up again are forgotten, so memory follows the senders of the last second, not of all time.
 */
export class SenderRateLimit {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private pruneAt = 1024;

  constructor(private readonly perSecondMax: number) {}

  private tokens(sender: string, now: number): number {
    const bucket = this.buckets.get(sender);
    if (!bucket) return this.perSecondMax;
    const refilled = ((now - bucket.at) * this.perSecondMax) / 1000;
    return Math.min(this.perSecondMax, bucket.tokens + Math.max(0, refilled));
  }

  allows(sender: string, now: number): boolean {
    return this.tokens(sender, now) >= 1;
  }

  take(sender: string, now: number): void {
    this.buckets.set(sender, { tokens: this.tokens(sender, now) - 1, at: now });
    if (this.buckets.size < this.pruneAt) return;
    for (const [key] of this.buckets) {
      if (this.tokens(key, now) >= this.perSecondMax) this.buckets.delete(key);
    }
    this.pruneAt = Math.max(1024, this.buckets.size * 2);
  }
}

const gappedBudgetKey = '';

function rateLimit(perSecondMax: number): SenderRateLimit | undefined {
  return perSecondMax > 0 ? new SenderRateLimit(perSecondMax) : undefined;
}

/** What a pool shows `precheckBatch` of itself. */
export interface PrecheckView {
  limits: Required<MempoolLimits>;
  gapped: GappedTxs;
  rate: SenderRateLimit | undefined;
  gappedBudget: SenderRateLimit | undefined;
  now: () => number;
  hasAccount: (sender: string) => boolean;
  isPending: (hash: string) => boolean;
  /** The sender's lane if it has a queue, else undefined. */
  isSystem: (sender: string) => boolean;
  /** The first nonce of the sender that would be gapped past: its next one to become ready. */
  readyUpTo: (sender: string) => number;
}

/** A tx as the checks before the signature see it: its sender and nonce, and its hash if known. */
export interface PrecheckItem {
  sender: string;
  nonce: number;
  hash?: string;
}

/**
 * The pre-signature checks of both pools, over a batch in order: a tx whose nonce follows the
 * sender's ready ones, or the sender's previous tx in the batch, is not gapped (a client sends its
 * nonces in one batch); see `Mempool.precheck`. With `spend` false it only reads (the check on a
 * tx's sender and nonce as sent, before decoding); an item left undefined is not checked.
 */
export function precheckBatch(
  view: PrecheckView,
  items: readonly (PrecheckItem | undefined)[],
  spend = true,
): (Rejection | undefined)[] {
  const now = view.now();
  const expected = new Map<string, number>();
  return items.map((item) => {
    if (!item) return undefined;
    const { sender, nonce, hash } = item;
    if (hash !== undefined && view.isPending(hash)) return reject('duplicate_tx');
    if (view.isSystem(sender)) return undefined;
    if (view.rate && !view.rate.allows(sender, now)) return reject('sender_rate_limited');
    const next = expected.get(sender) ?? view.readyUpTo(sender);
    if (nonce <= next) {
      if (nonce === next) expected.set(sender, next + 1);
      return undefined;
    }
    const { gappedPerSenderMax, gappedTxsMax } = view.limits;
    const room = view.gapped.room(sender, gappedPerSenderMax, gappedTxsMax);
    if ('rejection' in room) return room.rejection;
    if (view.gappedBudget && !view.hasAccount(sender)) {
      if (!view.gappedBudget.allows(gappedBudgetKey, now)) return reject('gapped_rate_limited');
      if (spend) view.gappedBudget.take(gappedBudgetKey, now);
    }
    return undefined;
  });
}

/** A pool's view for `precheckBatch`, and the two ways it is used. */
export function prechecks(view: PrecheckView) {
  return {
    precheck: (txs: readonly DecodedTx[]) =>
      precheckBatch(
        view,
        txs.map(({ tx, hash }) => ({ sender: tx.sender, nonce: tx.nonce, hash })),
      ),
    prefilter: (items: readonly (PrecheckItem | undefined)[]) => precheckBatch(view, items, false),
  };
}

/** Ready txs in arrival order, taken from the front. */
class ReadyQueue {
  private txs: DecodedTx[] = [];
  private head = 0;

  get length(): number {
    return this.txs.length - this.head;
  }

  push(decoded: DecodedTx): void {
    this.txs.push(decoded);
  }

  peek(count: number): DecodedTx[] {
    return this.txs.slice(this.head, Math.min(this.txs.length, this.head + count));
  }

  take(count: number): DecodedTx[] {
    if (count <= 0) return [];
    const end = Math.min(this.txs.length, this.head + count);
    const taken = this.txs.slice(this.head, end);
    this.head = end;
    if (this.head > 4096 && this.head * 2 > this.txs.length) {
      this.txs = this.txs.slice(this.head);
      this.head = 0;
    }
    return taken;
  }
}

interface SenderQueue {
  /** The next nonce to become ready: committed nonce plus txs already ready or in a block. */
  next: number;
  /** Txs waiting for an earlier nonce (gapped), by nonce. */
  waiting: Map<number, DecodedTx>;
  /** Ready or taken txs not yet committed. */
  outstanding: number;
  /** In the system lane (decided when the queue is made, kept while it lasts). */
  system: boolean;
}

/**
 * Pending txs, deduplicated by hash and released in per-sender nonce order: a tx becomes ready
 * when every earlier nonce of its sender is ready, and ready txs leave in arrival order, the
 * system lane's first. Admission, in this precedence: `duplicate_tx`, `nonce_too_low`,
 * `nonce_too_high`, `duplicate_tx` (the nonce), then for the system lane `sender_queue_full`, and
 * for users `sender_rate_limited`, `mempool_full` (unless a gapped tx can be evicted for a ready
 * one), `sender_queue_full`, `sender_gap_limit`, `gapped_pool_full` (unless a sender holding more
 * gapped txs gives one up). A ready tx never makes way for a gapped one.
 */
export class Mempool {
  private readonly known = new Set<string>();
  private readonly senders = new Map<string, SenderQueue>();
  private readonly systemReady = new ReadyQueue();
  private readonly userReady = new ReadyQueue();
  /** User-lane txs known: ready, taken and gapped (`txsMax` bounds it). */
  private userTxs = 0;
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
    limits: MempoolLimits = defaultMempoolLimits,
    options: MempoolOptions = {},
  ) {
    this.limits = mempoolLimits(limits);
    this.now = options.now ?? Date.now;
    this.isSystemSender = options.isSystemSender ?? (() => false);
    this.onDrop = options.onDrop ?? (() => {});
    this.hasAccount = options.hasAccount ?? (() => false);
    this.rate = rateLimit(this.limits.senderTxsPerSecondMax);
    this.gappedBudget = rateLimit(this.limits.gappedAdmissionsPerSecondMax);
    this.checks = prechecks({
      limits: this.limits,
      gapped: this.gapped,
      rate: this.rate,
      gappedBudget: this.gappedBudget,
      now: this.now,
      hasAccount: this.hasAccount,
      isPending: (hash) => this.known.has(hash),
      isSystem: (sender) => this.senders.get(sender)?.system ?? this.isSystemSender(sender),
      readyUpTo: (sender) => this.senders.get(sender)?.next ?? this.committedNonce(sender),
    });
  }

  get size(): number {
    return this.known.size;
  }

  get readyCount(): number {
    return this.systemReady.length + this.userReady.length;
  }

  /** Gapped user txs held now. */
  get gappedCount(): number {
    return this.gapped.count;
  }

  /** User-lane txs held (ready, taken, gapped). */
  get userCount(): number {
    return this.userTxs;
  }

  has(hash: string): boolean {
    return this.known.has(hash);
  }

  /**
   * The checks that need no signature, run over a batch before its signatures are verified so
   * that a flood costs no verify once they refuse it: a tx already pending (by hash: the
   * signature is not hashed), a sender over its rate, a gapped tx that would not fit
   * (`sender_gap_limit`, `gapped_pool_full`), and the budget of gapped txs of senders without an
   * account checked per second (`gapped_rate_limited`), which such a tx spends when it passes.
   * Admission (`add`) checks the rest again.
   */
  precheck(txs: readonly DecodedTx[]): (Rejection | undefined)[] {
    return this.checks.precheck(txs);
  }

  /**
   * The same checks on a batch's senders and nonces as sent, before anything is decoded (no
   * duplicate check, nothing spent): what a flood meets here costs not even a decode.
   */
  prefilter(items: readonly (PrecheckItem | undefined)[]): (Rejection | undefined)[] {
    return this.checks.prefilter(items);
  }

  add(decoded: DecodedTx): Rejection | undefined {
    const { tx, hash } = decoded;
    if (this.gapped.count > 0) this.expire();
    if (this.known.has(hash)) return reject('duplicate_tx');
    let queue = this.senders.get(tx.sender);
    const system = queue?.system ?? this.isSystemSender(tx.sender);
    const next = queue?.next ?? this.committedNonce(tx.sender);
    if (tx.nonce < next) return reject('nonce_too_low', 'nonce');
    const window = system ? this.limits.systemTxsMax : this.limits.perSenderMax;
    if (tx.nonce >= next + window) return reject('nonce_too_high', 'nonce');
    if (queue?.waiting.has(tx.nonce)) return reject('duplicate_tx', 'nonce');
    const held = queue ? queue.waiting.size + queue.outstanding : 0;
    const gapped = tx.nonce > next;
    // The clock is read only where it matters (a gapped tx's arrival, the rate limit).
    const now = gapped || this.rate ? this.now() : 0;
    if (system) {
      if (held >= this.limits.systemTxsMax) return reject('sender_queue_full');
    } else {
      const refused = this.makeRoom(tx.sender, gapped, held, now);
      if (refused) return refused;
      queue = this.senders.get(tx.sender); // an eviction may have emptied it
    }
    if (!queue) {
      queue = { next: this.committedNonce(tx.sender), waiting: new Map(), outstanding: 0, system };
      this.senders.set(tx.sender, queue);
    }
    this.known.add(hash);
    queue.waiting.set(tx.nonce, decoded);
    if (!system) {
      this.userTxs += 1;
      if (gapped) this.gapped.add(tx.sender, tx.nonce, now);
      this.rate?.take(tx.sender, now);
    }
    const lane = system ? this.systemReady : this.userReady;
    for (let ready = queue.waiting.get(queue.next); ready; ready = queue.waiting.get(queue.next)) {
      queue.waiting.delete(queue.next);
      if (!system) this.gapped.remove(tx.sender, queue.next);
      queue.next += 1;
      queue.outstanding += 1;
      lane.push(ready);
    }
    return undefined;
  }

  /** The user-lane checks past the nonce; evicts a gapped tx when that makes the room. */
  private makeRoom(
    sender: string,
    gapped: boolean,
    held: number,
    now: number,
  ): Rejection | undefined {
    if (this.rate && !this.rate.allows(sender, now)) return reject('sender_rate_limited');
    let evict: { sender: string; nonce: number; reason: string } | undefined;
    if (this.userTxs >= this.limits.txsMax) {
      // Full: a ready tx takes the place of a gapped one; a gapped tx is simply refused.
      const victim = gapped ? undefined : this.gapped.victim();
      if (!victim) return reject('mempool_full');
      evict = { ...victim, reason: 'gapped_tx_evicted' };
    }
    if (held >= this.limits.perSenderMax) return reject('sender_queue_full');
    if (gapped) {
      const room = this.gapped.room(
        sender,
        this.limits.gappedPerSenderMax,
        this.limits.gappedTxsMax,
      );
      if ('rejection' in room) return room.rejection;
      if (room.evict) evict = { ...room.evict, reason: 'gapped_tx_evicted' };
    }
    if (evict) this.drop(evict.sender, evict.nonce, reject(evict.reason));
    return undefined;
  }

  /** Removes a gapped user tx and says why. */
  private drop(sender: string, nonce: number, reason: Rejection): void {
    const queue = this.senders.get(sender);
    const decoded = queue?.waiting.get(nonce);
    if (!queue || !decoded) return;
    queue.waiting.delete(nonce);
    this.gapped.remove(sender, nonce);
    this.known.delete(decoded.hash);
    this.userTxs -= 1;
    if (queue.outstanding <= 0 && queue.waiting.size === 0) this.senders.delete(sender);
    this.onDrop(decoded, reason);
  }

  /** Drops gapped txs older than `gappedExpiryMs`. */
  expire(now = this.now()): void {
    const before = now - this.limits.gappedExpiryMs;
    for (let e = this.gapped.nextExpired(before); e; e = this.gapped.nextExpired(before)) {
      this.drop(e.sender, e.nonce, reject('gapped_tx_expired'));
    }
  }

  /** Takes up to `count` ready txs for the next block: the system lane's first, each oldest first. */
  take(count: number): DecodedTx[] {
    if (count <= 0) return [];
    if (this.gapped.count > 0) this.expire();
    const system = this.systemReady.take(count);
    return system.length >= count
      ? system
      : system.concat(this.userReady.take(count - system.length));
  }

  /** The system lane's ready txs, oldest first, left in place. */
  peekSystem(count: number): DecodedTx[] {
    return this.systemReady.peek(count);
  }

  /** Takes up to `count` of the system lane's ready txs only. */
  takeSystem(count: number): DecodedTx[] {
    return this.systemReady.take(count);
  }

  /** Forgets txs that left in a block (included or dropped). */
  settle(txs: DecodedTx[]): void {
    for (const { tx, hash } of txs) {
      if (!this.known.delete(hash)) continue;
      const queue = this.senders.get(tx.sender);
      if (!queue) continue;
      if (!queue.system) this.userTxs -= 1;
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
    for (const orphan of orphans) {
      this.known.delete(orphan.hash);
      if (!queue.system) {
        this.userTxs -= 1;
        this.gapped.remove(sender, orphan.tx.nonce);
      }
    }
    queue.waiting.clear();
    if (queue.outstanding <= 0) this.senders.delete(sender);
    else queue.next = this.committedNonce(sender) + queue.outstanding;
    return orphans;
  }
}
