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

export class UsageLedger {
  private readonly pending = new Map<string, PendingUsage>();
  private flushing: Promise<void> | undefined;
  /** Usage txs sent whose end is not known yet (a timeout, a node gone mid-batch), by agreement. */
  private readonly unsettled = new Map<
    string,
    { hash: string; contentId: string; sent: PendingUsage }
  >();
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

  count(agreementId: string, contentId: string, action: string, device?: string): void {
    let entry = this.pending.get(agreementId);
    if (!entry) {
      entry = { contentId, uses: {}, devices: new Set() };
      this.pending.set(agreementId, entry);
    }
    entry.uses[action] = (entry.uses[action] ?? 0) + 1;
    if (device !== undefined) entry.devices.add(device);
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
      if (status === 'pending') continue;
      if (status === 'ok') this.subtract(agreementId, entry.sent);
      if (status === 'failed') {
        log('error', 'usage_rejected', { agreementId, tx: entry.hash });
        this.subtract(agreementId, entry.sent);
      }
      // 'unknown': never admitted; the uses are still pending and go out below.
      this.unsettled.delete(agreementId);
    }
    // 2. Every agreement's pending uses, but for contents with a tx still unsettled (its key's
    // nonces are taken until it ends).
    const busyContents = new Set([...this.unsettled.values()].map((entry) => entry.contentId));
    const snapshot = [...this.pending.entries()]
      .filter(([, entry]) => !busyContents.has(entry.contentId))
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
        for (const item of items) this.subtract(item.agreementId, item.sent);
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
      if (outcome.status === 'retry') {
        log('warn', 'usage_not_committed', { agreementId: item.agreementId, code: outcome.code });
        return; // unsettled: asked by hash at the next flush
      }
      this.unsettled.delete(item.agreementId);
      if (outcome.status === 'ok') {
        this.flushedTxs++;
      } else {
        // The chain refused these counts for good (e.g. count_exhausted after a race): they are
        // dropped, and logged, rather than sent again for ever.
        log('error', 'usage_rejected', { agreementId: item.agreementId, code: outcome.code });
      }
      this.subtract(item.agreementId, item.sent);
    });
  }
}
