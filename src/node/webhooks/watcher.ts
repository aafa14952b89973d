import type { BlockStore } from '../../state/index.js';
import { postWebhook, type DeliveryOutcome } from './delivery.js';
import { matchesAny } from './patterns.js';
import { signWebhook, webhookId } from './signing.js';
import {
  endOfHeight,
  type EventPosition,
  type StoredEventRow,
  type Subscription,
  type WebhookStore,
} from './store.js';

/** How deliveries are retried: `attemptsMax` tries, waiting `retryDelayMs(n)` after the n-th failure. */
export interface WebhookSettings {
  /** Tries of one event before it goes to the dead letters and the next event's turn comes. */
  attemptsMax: number;
  /** The wait after the first failure; it doubles with each further one. */
  retryBaseMs: number;
  /** The longest wait between two tries. */
  retryMaxMs: number;
  /** How long one request may take, answer included. */
  timeoutMs: number;
}

/** The wait after the `attempt`-th failure (1-based): base, 2 base, 4 base, ... capped at max. */
export function retryDelayMs(attempt: number, settings: WebhookSettings): number {
  const doubled = settings.retryBaseMs * 2 ** Math.min(attempt - 1, 40);
  return Math.min(settings.retryMaxMs, doubled);
}

export interface WebhookWatcherDeps {
  store: WebhookStore;
  blocks: Pick<BlockStore, 'getBlock' | 'getTxHashes' | 'lastHeight'>;
  chainId: string;
  /** The highest final height: only final events are delivered. */
  finalHeight: () => number;
  /** Wall clock (ms): webhook-timestamp and retry schedule; never the block clock. */
  now: () => number;
  settings: WebhookSettings;
  log: { warn(message: string): void; error(message: string, error: unknown): void };
  /** Counts each attempt's result: `ok`, `failed` (will retry) or `dead_letter`. */
  onAttempt?: (result: 'ok' | 'failed' | 'dead_letter') => void;
}

/** Events read from the store at once while looking for the next match. */
const scanPageEvents = 256;
/**
 * Pages scanned before the loop yields to the event loop: a replay over a long chain of events a
 * subscription does not match must not hold the API up (8 pages take a few milliseconds).
 */
const scanPagesPerTurn = 8;
/**
 * Passed-over (non-matching) events are remembered in memory and written to the cursor only after
 * this many: a rescan after a crash costs little, a write per block per subscription would not.
 */
const skippedEventsPersistMin = 1_000;

/** A subscription's delivery loop: one event in flight at most, in chain order. */
interface Loop {
  stopped: boolean;
  /** Bumped by replay: a delivery that started before must not move the replayed cursor. */
  generation: number;
  /** How far non-matching events were passed over, ahead of the stored cursor. */
  scanned: EventPosition | undefined;
  skippedSincePersist: number;
  abort: AbortController;
  woken: boolean;
  wakeup: (() => void) | undefined;
  done: Promise<void>;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function compare(a: EventPosition, b: EventPosition): number {
  return a.height - b.height || a.txIndex - b.txIndex || a.eventIndex - b.eventIndex;
}

/** What a receiver gets: the event and where it sits in the chain. */
export interface WebhookPayload {
  type: string;
  /** The block's time (ISO 8601): when the event happened on the chain. */
  timestamp: string;
  data: unknown;
  chainId: string;
  height: number;
  blockHash: string;
  /** The tx that emitted it, or null for a block event. */
  tx: string | null;
  txIndex: number;
  eventIndex: number;
}

/**
 * Follows final blocks and delivers each event a subscription matches to its URL, once, in chain
 * order, signed (Standard Webhooks). A failing event holds back the ones after it for that
 * subscription (retried with exponential backoff) until `attemptsMax` tries, when it becomes a
 * dead letter and the cursor moves past it. Delivery runs off the commit path: `wake` only
 * resolves a promise. The cursor is the store's: a restarted node resumes there.
 */
export class WebhookWatcher {
  private readonly loops = new Map<string, Loop>();
  private closed = false;

  constructor(private readonly deps: WebhookWatcherDeps) {}

  /** Starts a loop for every stored subscription. */
  start(): void {
    for (const subscription of this.deps.store.list()) this.follow(subscription.id);
  }

  /** New final blocks (or a new subscription): every idle loop looks again. */
  wake(): void {
    for (const loop of this.loops.values()) this.rouse(loop);
  }

  /** Starts delivering to a subscription just added. */
  follow(id: string): void {
    if (this.closed || this.loops.has(id)) return;
    const loop: Loop = {
      stopped: false,
      generation: 0,
      scanned: undefined,
      skippedSincePersist: 0,
      abort: new AbortController(),
      woken: true,
      wakeup: undefined,
      done: Promise.resolve(),
    };
    this.loops.set(id, loop);
    // run() catches every turn's fault; this only guards against a fault in that handling.
    loop.done = this.run(id, loop).catch((error: unknown) => {
      this.deps.log.error(`webhook ${id}: delivery loop stopped`, error);
    });
  }

  /** Stops delivering to a removed subscription (an attempt in flight is aborted). */
  async forget(id: string): Promise<void> {
    const loop = this.loops.get(id);
    if (!loop) return;
    this.loops.delete(id);
    this.stopLoop(loop);
    await loop.done;
  }

  /**
   * After the store's cursor was moved back (replay): the loop forgets what it scanned, abandons
   * an attempt in flight (its result is not recorded) and starts again from the stored cursor.
   */
  replayed(id: string): void {
    const loop = this.loops.get(id);
    if (!loop) return;
    loop.generation += 1;
    loop.scanned = undefined;
    loop.skippedSincePersist = 0;
    loop.abort.abort();
    loop.abort = new AbortController();
    this.rouse(loop);
  }

  async close(): Promise<void> {
    this.closed = true;
    const loops = [...this.loops.values()];
    this.loops.clear();
    for (const loop of loops) this.stopLoop(loop);
    await Promise.all(loops.map((loop) => loop.done));
  }

  private stopLoop(loop: Loop): void {
    loop.stopped = true;
    loop.abort.abort();
    this.rouse(loop);
  }

  private rouse(loop: Loop): void {
    loop.woken = true;
    const wakeup = loop.wakeup;
    loop.wakeup = undefined;
    wakeup?.();
  }

  /** Waits for `wake` (or `ms`, when given); returns at once if woken since the last wait. */
  private async idle(loop: Loop, ms?: number): Promise<void> {
    if (loop.woken) {
      loop.woken = false;
      if (ms === undefined) return;
    }
    await new Promise<void>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      loop.wakeup = done;
    });
    loop.wakeup = undefined;
    loop.woken = false;
  }

  /**
   * The subscription's loop. An exception in a turn (the store, a missing block, a listener) never
   * ends it: it is kept as the subscription's last error and logged, and the loop tries again
   * after the retry schedule's wait (growing while the faults go on), from the stored cursor, so
   * an event whose result was not recorded is sent again with the same id.
   */
  private async run(id: string, loop: Loop): Promise<void> {
    let faults = 0;
    let faultWaitUntil = 0;
    while (!loop.stopped) {
      // A new block rouses a waiting loop; after a fault it waits out the whole delay still.
      const faultWaitMs = faultWaitUntil - this.deps.now();
      if (faultWaitMs > 0) {
        await this.idle(loop, faultWaitMs);
        continue;
      }
      try {
        if ((await this.turn(id, loop)) === 'removed') return;
        faults = 0;
      } catch (error) {
        faults += 1;
        const message = `webhook delivery failed in the node: ${errorText(error)}`;
        this.deps.log.error(`webhook ${id}: ${message}; trying again`, error);
        try {
          this.deps.store.noteError(id, message);
        } catch {
          // The store is what fails: the log has it.
        }
        // What the loop scanned past may not be in the store: start again from the cursor.
        loop.scanned = undefined;
        loop.skippedSincePersist = 0;
        faultWaitUntil = this.deps.now() + retryDelayMs(faults, this.deps.settings);
      }
    }
  }

  /** One step of a loop: scan, wait, or deliver one event and record its result. */
  private async turn(id: string, loop: Loop): Promise<'removed' | undefined> {
    const { store, now } = this.deps;
    const subscription = store.get(id);
    if (!subscription) return 'removed';
    const generation = loop.generation;
    const { event, more } = this.nextMatching(subscription, loop);
    if (more) {
      await new Promise((resolve) => setImmediate(resolve));
      return;
    }
    if (!event) {
      await this.idle(loop);
      return;
    }
    const waitMs = subscription.nextAttemptAt - now();
    if (waitMs > 0) {
      // A replay or a stop rouses it; so does a new block, which only makes it look again.
      await this.idle(loop, waitMs);
      return;
    }
    const outcome = await this.deliver(subscription, event, loop.abort.signal);
    // Stopped, removed or replayed meanwhile: this attempt counts for nothing.
    if (loop.stopped || loop.generation !== generation || !store.get(id)) return;
    this.record(subscription, event, outcome, loop);
    return undefined;
  }

  /** Writes an attempt's result; the cursor moves past the event when delivered or dead. */
  private record(
    subscription: Subscription,
    event: StoredEventRow,
    outcome: DeliveryOutcome,
    loop: Loop,
  ): void {
    const { store, settings, now } = this.deps;
    const position = { height: event.height, txIndex: event.txIndex, eventIndex: event.eventIndex };
    if (outcome.ok) {
      store.advance(subscription.id, position);
      loop.skippedSincePersist = 0;
      this.deps.onAttempt?.('ok');
      return;
    }
    const attempts = subscription.attempts + 1;
    const error = outcome.error ?? 'failed';
    if (attempts >= settings.attemptsMax) {
      store.deadLetter(subscription.id, {
        ...position,
        webhookId: this.idOf(event),
        type: event.type,
        attempts,
        lastError: error,
        failedAt: now(),
      });
      loop.skippedSincePersist = 0;
      this.deps.log.warn(
        `webhook ${subscription.id}: event ${this.idOf(event)} (${event.type} at height ` +
          `${event.height}) went to the dead letters after ${attempts} attempts: ${error}`,
      );
      this.deps.onAttempt?.('dead_letter');
      return;
    }
    store.failed(subscription.id, attempts, now() + retryDelayMs(attempts, settings), error);
    this.deps.onAttempt?.('failed');
  }

  /**
   * The first event after the cursor (and after what the loop passed over) that the subscription
   * matches, up to the final height; passed-over events are remembered, and written to the cursor
   * once there are many of them.
   */
  private nextMatching(
    subscription: Subscription,
    loop: Loop,
  ): { event?: StoredEventRow; more?: boolean } {
    // Final and committed here: the cursor passes over a height only once its events are stored.
    const final = Math.min(this.deps.finalHeight(), this.deps.blocks.lastHeight());
    let from =
      loop.scanned && compare(loop.scanned, subscription.cursor) > 0
        ? loop.scanned
        : subscription.cursor;
    let more = false;
    for (let pages = 0; ; pages++) {
      if (pages === scanPagesPerTurn) {
        more = true;
        break;
      }
      const page = this.deps.store.eventsAfter(from, final, scanPageEvents);
      for (const row of page) {
        if (matchesAny(subscription.events, row.type)) {
          loop.scanned = from;
          return { event: row };
        }
        from = row;
        loop.skippedSincePersist += 1;
      }
      if (page.length < scanPageEvents) break;
    }
    const end = endOfHeight(final);
    if (!more && compare(end, from) > 0) from = end;
    loop.scanned = { height: from.height, txIndex: from.txIndex, eventIndex: from.eventIndex };
    if (loop.skippedSincePersist >= skippedEventsPersistMin) {
      this.deps.store.advance(subscription.id, loop.scanned);
      loop.skippedSincePersist = 0;
    }
    return { more };
  }

  private idOf(event: EventPosition): string {
    const block = this.deps.blocks.getBlock(event.height);
    if (!block) throw new Error(`webhooks: final block ${event.height} is not in the store`);
    return webhookId(block.hash, event.txIndex, event.eventIndex);
  }

  /** The request body of an event (the same bytes on every attempt). */
  payloadOf(event: StoredEventRow): string {
    const block = this.deps.blocks.getBlock(event.height);
    if (!block) throw new Error(`webhooks: final block ${event.height} is not in the store`);
    const header = JSON.parse(block.header) as { time: number };
    const tx =
      event.txIndex < 0
        ? null
        : (this.deps.blocks.getTxHashes(event.height)[event.txIndex] ?? null);
    const payload: WebhookPayload = {
      type: event.type,
      timestamp: new Date(header.time).toISOString(),
      data: JSON.parse(event.data) as unknown,
      chainId: this.deps.chainId,
      height: event.height,
      blockHash: block.hash,
      tx,
      txIndex: event.txIndex,
      eventIndex: event.eventIndex,
    };
    return JSON.stringify(payload);
  }

  private deliver(
    subscription: Subscription,
    event: StoredEventRow,
    stop: AbortSignal,
  ): Promise<DeliveryOutcome> {
    const id = this.idOf(event);
    const body = this.payloadOf(event);
    const timestamp = Math.floor(this.deps.now() / 1000);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'coffer-webhooks/1',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(subscription.secret, id, timestamp, body),
    };
    return postWebhook(subscription.url, headers, body, this.deps.settings.timeoutMs, stop);
  }
}
