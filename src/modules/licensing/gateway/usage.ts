/*
 * Uses counted by the gateway and not yet on the chain. Issuing an access token counts one use
 * of its action (and its device); the counts go to the chain as `licence.usage`, one tx per
 * agreement per flush, signed by the content's key (its gateway account, the only sender the
 * chain takes). A token is only issued when `usageDecision` allows one more use counting these
 * pending ones, so the chain's count and the pending count together never pass the licence.
 *
 * A flush takes a snapshot and subtracts what committed; uses counted meanwhile stay. While a
 * flush's tx is committed and not yet subtracted, a use is seen twice (on chain and pending):
 * the gateway then refuses early, never late. A tx whose end the gateway did not learn (the node
 * unreachable or slow mid-batch) is asked for by its hash at the next flush: committed, its uses
 * are subtracted; unknown to the node, they go out again; so a use is never recorded twice.
 *
 * A use is never forgotten because the chain refused its tx: `licence.usage` records and clamps
 * (uses past a count, devices past a limit, are kept as the agreement's overuse), so what it still
 * refuses is either for good (`permanentRefusals`: dropped, logged as an error) or something this
 * code does not know, which stays pending and goes out again, later each time (a backoff of 1, 2,
 * 4 ... 64 flushes), logged as a warning each time.
 */
import { importKey } from '../../../sdk/keys.js';
import { toHex } from '../../../crypto/index.js';
import { usesPerTxMax } from '../schema.js';
import type { GatewayChain, UsageBatch } from './chain.js';
import type { ContentStore } from './storage.js';

export interface PendingUsage {
  contentId: string;
  uses: Record<string, number>;
  devices: Set<string>;
}

export type UsageLog = (level: 'info' | 'warn' | 'error', event: string, fields?: object) => void;

/**
 * The refusals of a `licence.usage` that can never succeed, however often it is sent: the
 * agreement or the content is not on chain, the key is not the content's gateway account, an
 * action is not in the agreement (the gateway counts only what `usageDecision` allowed), a count
 * would pass 2^53, or the payload is out of bounds. Anything else is sent again.
 */
export const permanentRefusals: ReadonlySet<string> = new Set([
  'agreement_not_found',
  'content_not_found',
  'not_gateway_account',
  'action_not_permitted',
  'count_exhausted',
  'invalid_payload',
  'invalid_uses',
  'invalid_devices',
  'invalid_agreement_id',
]);

/** The most flushes an agreement whose usage was refused (for a reason not known) waits. */
const refusedBackoffFlushesMax = 64;

/** What `count` took, for `giveBack` when the token could not be made after all. */
export interface UsageReservation {
  agreementId: string;
  action: string;
  /** The device was not pending before this use. */
  addedDevice?: string;
}

export class UsageLedger {
  private readonly pending = new Map<string, PendingUsage>();
  private flushing: Promise<void> | undefined;
  /** Usage txs sent whose end is not known yet (a timeout, a node gone mid-batch), by agreement. */
  private readonly unsettled = new Map<
    string,
    { hash: string; contentId: string; sent: PendingUsage }
  >();
  /** Agreements whose usage the chain refused for a reason not known: flushes left to wait. */
  private readonly refused = new Map<string, { refusals: number; flushesLeft: number }>();
  flushedTxs = 0;

  constructor(private readonly agreementsMax: number) {}

  get size(): number {
    return this.pending.size;
  }

  of(agreementId: string): { uses: Record<string, number>; devices: string[] } {
    const entry = this.pending.get(agreementId);
    return { uses: { ...(entry?.uses ?? {}) }, devices: [...(entry?.devices ?? [])] };
  }

  /** Whether one more use can be held for `agreementId` (bounded memory, bounded tx). */
  canCount(agreementId: string, action: string): boolean {
    const entry = this.pending.get(agreementId);
    if (!entry) return this.pending.size < this.agreementsMax;
    return (entry.uses[action] ?? 0) < usesPerTxMax;
  }

  /**
   * Counts one use of `action` (and `device`, which the caller passes only when the action's
   * permission has a `deviceCount`: the rule of usageDecision and of the chain). Synchronous, and
   * called right after the decision: two requests racing for the last use cannot both pass.
   */
  count(agreementId: string, contentId: string, action: string, device?: string): UsageReservation {
    let entry = this.pending.get(agreementId);
    if (!entry) {
      entry = { contentId, uses: {}, devices: new Set() };
      this.pending.set(agreementId, entry);
    }
    entry.uses[action] = (entry.uses[action] ?? 0) + 1;
    const addedDevice = device !== undefined && !entry.devices.has(device) ? device : undefined;
    if (addedDevice !== undefined) entry.devices.add(addedDevice);
    return { agreementId, action, ...(addedDevice === undefined ? {} : { addedDevice }) };
  }

  /**
   * Gives back a use counted for a token that could not be made. If a flush sent it meanwhile,
   * it stays recorded on chain: the licensee loses that use (early, never late).
   */
  giveBack(reservation: UsageReservation): void {
    this.subtract(reservation.agreementId, {
      contentId: '',
      uses: { [reservation.action]: 1 },
      devices: new Set(reservation.addedDevice === undefined ? [] : [reservation.addedDevice]),
    });
  }

  /** The chain refused `agreementId`'s usage: dropped when it never can succeed, else kept. */
  private refusedBy(agreementId: string, sent: PendingUsage, code: string, log: UsageLog) {
    if (permanentRefusals.has(code)) {
      log('error', 'usage_dropped', { agreementId, code, uses: sent.uses });
      this.refused.delete(agreementId);
      this.subtract(agreementId, sent);
      return;
    }
    const refusals = (this.refused.get(agreementId)?.refusals ?? 0) + 1;
    const flushesLeft = Math.min(2 ** (refusals - 1), refusedBackoffFlushesMax);
    this.refused.set(agreementId, { refusals, flushesLeft });
    log('warn', 'usage_refused', { agreementId, code, refusals, retryInFlushes: flushesLeft });
  }

  private subtract(agreementId: string, sent: PendingUsage): void {
    const entry = this.pending.get(agreementId);
    if (!entry) return;
    for (const [action, n] of Object.entries(sent.uses)) {
      const left = (entry.uses[action] ?? 0) - n;
      if (left > 0) entry.uses[action] = left;
      else delete entry.uses[action];
    }
    for (const device of sent.devices) entry.devices.delete(device);
    if (Object.keys(entry.uses).length === 0 && entry.devices.size === 0) {
      this.pending.delete(agreementId);
      this.refused.delete(agreementId);
    }
  }

  /** Sends every agreement's pending uses; one flush at a time. */
  flush(chain: GatewayChain, store: ContentStore, log: UsageLog): Promise<void> {
    this.flushing ??= this.flushOnce(chain, store, log).finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async flushOnce(chain: GatewayChain, store: ContentStore, log: UsageLog) {
    // 1. What an earlier flush sent without learning its end: asked by hash, never sent twice.
    for (const [agreementId, entry] of this.unsettled) {
      let status;
      try {
        status = await chain.txStatus(entry.hash);
      } catch (error) {
        log('warn', 'usage_flush_failed', { reason: (error as Error).message });
        return;
      }
      if (status.status === 'pending') continue;
      this.unsettled.delete(agreementId);
      if (status.status === 'ok') {
        this.refused.delete(agreementId);
        this.subtract(agreementId, entry.sent);
      }
      if (status.status === 'failed') this.refusedBy(agreementId, entry.sent, status.code, log);
      // 'unknown': never admitted; the uses are still pending and go out below.
    }
    // 2. Every agreement's pending uses, but for contents with a tx still unsettled (its key's
    // nonces are taken until it ends).
    const busyContents = new Set([...this.unsettled.values()].map((entry) => entry.contentId));
    // And but for agreements waiting after a refusal (their wait goes down by one).
    const waiting = (agreementId: string) => {
      const refused = this.refused.get(agreementId);
      if (!refused || refused.flushesLeft <= 0) return false;
      refused.flushesLeft--;
      return true;
    };
    const snapshot = [...this.pending.entries()]
      .filter(([agreementId, entry]) => !busyContents.has(entry.contentId) && !waiting(agreementId))
      .map(([agreementId, entry]) => ({
        agreementId,
        sent: {
          contentId: entry.contentId,
          uses: { ...entry.uses },
          devices: new Set(entry.devices),
        },
      }));
    if (snapshot.length === 0) return;
    const byContent = new Map<string, typeof snapshot>();
    for (const item of snapshot) {
      const list = byContent.get(item.sent.contentId) ?? [];
      list.push(item);
      byContent.set(item.sent.contentId, list);
    }
    const batches: UsageBatch[] = [];
    const order: typeof snapshot = [];
    for (const [contentId, items] of byContent) {
      if (!store.meta(contentId)) {
        // The content was removed: nobody can sign its usage any more.
        for (const item of items) {
          log('error', 'usage_dropped', {
            agreementId: item.agreementId,
            code: 'content_removed',
            uses: item.sent.uses,
          });
          this.subtract(item.agreementId, item.sent);
        }
        continue;
      }
      batches.push({
        key: importKey(toHex(store.signingSecret(contentId))),
        usages: items.map((item) => ({
          agreementId: item.agreementId,
          uses: item.sent.uses,
          devices: [...item.sent.devices].slice(0, 16),
        })),
      });
      order.push(...items);
    }
    let outcomes;
    try {
      const signed = await chain.signUsage(batches);
      signed.forEach((item, index) =>
        this.unsettled.set(item.agreementId, {
          hash: item.hash,
          contentId: order[index]!.sent.contentId,
          sent: order[index]!.sent,
        }),
      );
      outcomes = await chain.submitUsage(signed);
    } catch (error) {
      // Sent or not, the next flush asks the node by hash before anything goes out again.
      log('warn', 'usage_flush_failed', { reason: (error as Error).message });
      return;
    }
    outcomes.forEach((outcome, index) => {
      const item = order[index]!;
      if (outcome.status === 'retry' && !permanentRefusals.has(outcome.code)) {
        log('warn', 'usage_not_committed', { agreementId: item.agreementId, code: outcome.code });
        return; // unsettled: asked by hash at the next flush
      }
      this.unsettled.delete(item.agreementId);
      if (outcome.status === 'ok') {
        this.flushedTxs++;
        this.refused.delete(item.agreementId);
        this.subtract(item.agreementId, item.sent);
      } else {
        // Refused, at admission (a bound) or in a block: kept and sent again, unless it can
        // never succeed.
        this.refusedBy(item.agreementId, item.sent, outcome.code, log);
      }
    });
  }
}
