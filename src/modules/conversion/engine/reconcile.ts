/*
 * The reconciliation report: every forward tied to its tx ids on both ledgers, and per asset what
 * came in (sources claimed or captured, deposits kept) and went out (destinations released or
 * paid), so the engine's books can be checked against each ledger.
 */
import type { Forward } from './records.js';
import type { EngineStore } from './store.js';

/** Forwards one report covers at most (the newest beyond it are in the next report's pages). */
const reportForwardsMax = 10_000;

export interface Reconciliation {
  forwards: {
    id: string;
    state: Forward['state'];
    mode: Forward['mode'];
    from: { ecosystem: string; asset: string; amount: string };
    to: { ecosystem: string; asset: string; amount: string };
    source: { lockId?: string; depositId?: string; settledBy?: string };
    destination: { lockId?: string; paidBy?: string; refundedBy?: string };
    /** Every completed forward has both legs' tx ids; every refunded one moved nothing net. */
    tied: boolean;
  }[];
  totals: { ecosystem: string; asset: string; in: string; out: string }[];
  counts: Record<string, number>;
  /** True when the report stopped at `reportForwardsMax`. */
  truncated: boolean;
}

export function reconcile(store: EngineStore): Reconciliation {
  const forwards = store.listForwards(reportForwardsMax + 1);
  const truncated = forwards.length > reportForwardsMax;
  const totals = new Map<string, { in: bigint; out: bigint }>();
  const add = (ecosystem: string, asset: string, side: 'in' | 'out', amount: string) => {
    const key = `${ecosystem}\u0000${asset}`;
    const entry = totals.get(key) ?? { in: 0n, out: 0n };
    entry[side] += BigInt(amount);
    totals.set(key, entry);
  };
  const counts: Record<string, number> = {};
  const lines = forwards.slice(0, reportForwardsMax).map((f) => {
    counts[f.state] = (counts[f.state] ?? 0) + 1;
    const settledBy =
      f.source.claimTx ??
      f.source.captureTx ??
      (f.mode === 'deposit' && f.state === 'completed' ? f.source.depositId : undefined);
    const paidBy = f.destination.releaseTx ?? f.destination.payTx ?? f.destination.payoutId;
    if (f.state === 'completed') {
      add(f.from.ecosystem, f.from.asset, 'in', f.from.amount);
      add(f.to.ecosystem, f.to.asset, 'out', f.to.amount);
    }
    const tied =
      f.state === 'completed'
        ? settledBy !== undefined && paidBy !== undefined
        : f.state === 'refunded'
          ? // Nothing kept: no claim nor release, and a captured hold paid back.
            f.source.claimTx === undefined &&
            f.destination.releaseTx === undefined &&
            (f.source.captureTx === undefined || f.source.cancelTx !== undefined)
          : true;
    return {
      id: f.id,
      state: f.state,
      mode: f.mode,
      from: { ecosystem: f.from.ecosystem, asset: f.from.asset, amount: f.from.amount },
      to: { ecosystem: f.to.ecosystem, asset: f.to.asset, amount: f.to.amount },
      source: {
        ...(f.source.lockId ? { lockId: f.source.lockId } : {}),
        ...(f.source.depositId ? { depositId: f.source.depositId } : {}),
        ...(settledBy ? { settledBy } : {}),
      },
      destination: {
        ...(f.destination.lockId ? { lockId: f.destination.lockId } : {}),
        ...(paidBy ? { paidBy } : {}),
        ...(f.destination.refundTx ? { refundedBy: f.destination.refundTx } : {}),
      },
      tied,
    };
  });
  return {
    forwards: lines,
    totals: [...totals].map(([key, t]) => {
      const [ecosystem, asset] = key.split('\u0000') as [string, string];
      return { ecosystem, asset, in: t.in.toString(), out: t.out.toString() };
    }),
    counts,
    truncated,
  };
}
