import { isAddress } from '../../crypto/index.js';
import {
  basisPointsWhole,
  parseDistribution,
  type DistributionRule,
  type PayoutLine,
  type WaterfallTranche as Tranche,
} from './schema.js';

export { isText, parseDistribution } from './schema.js';

/** 100% in basis points, for the bigint arithmetic of the waterfall. */
const whole = BigInt(basisPointsWhole);

/*
 * The distribution waterfall: pure functions over bigints, shared by the tx handler and the
 * simulation so the two cannot disagree. No state, no clock, no floats.
 */

/** A tranche's cap in minor units for a campaign's total principal (rounded down), or null. */
export function capAmount(tranche: Tranche, principal: bigint): bigint | null {
  if (!tranche.cap) return null;
  if ('amount' in tranche.cap) return BigInt(tranche.cap.amount);
  return (principal * BigInt(tranche.cap.principalBasisPoints)) / whole;
}

/**
 * Each tranche's cumulative fill at cumulative revenue `revenue`: walking the tranches in order,
 * tranche t takes `min(floor(remaining * share / 10000), cap)` of what remains. The fills sum to
 * `revenue` (the last tranche takes all that remains) and each is monotone in `revenue`:
 * `remaining - min(floor(remaining * s / 10000), cap)` is the larger of
 * `ceil(remaining * (10000 - s) / 10000)` and `remaining - cap`, both non-decreasing, so what
 * reaches the next tranche never falls either.
 */
export function trancheFills(rule: DistributionRule, principal: bigint, revenue: bigint): bigint[] {
  let remaining = revenue;
  return rule.tranches.map((tranche) => {
    let take = (remaining * BigInt(tranche.shareBasisPoints)) / whole;
    const cap = capAmount(tranche, principal);
    if (cap !== null && take > cap) take = cap;
    remaining -= take;
    return take;
  });
}

/**
 * -1, 0 or 1 as `a` sorts before, with or after `b` (code-unit order for text, numeric order
 * for numbers). The sorts here use it rather than inline ternaries, so their order does not lean
 * on how an engine calls a comparator; equal items compare 0 and keep their order
 * (Array.prototype.sort is stable).
 */
export function compare<T extends string | bigint | number>(a: T, b: T): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface WeightedShare {
  /** Sort key for ties: the recipient's address, then its class. */
  key: string;
  weight: bigint;
}

/**
 * Splits `total` by integer weights with the largest-remainder method: each share gets the floor
 * of its exact part, and the units left over go one each to the largest remainders, ties to the
 * smaller key. The parts are non-negative integers that add up to `total` exactly; a zero weight
 * gets nothing.
 */
export function largestRemainder(total: bigint, shares: readonly WeightedShare[]): bigint[] {
  if (total < 0n) throw new RangeError('total: must not be negative');
  const weightSum = shares.reduce((sum, s) => {
    if (s.weight < 0n) throw new RangeError(`shares.${s.key}.weight: must not be negative`);
    return sum + s.weight;
  }, 0n);
  if (total === 0n) return shares.map(() => 0n);
  if (weightSum === 0n) throw new RangeError('shares: the weights sum to zero');
  const parts = shares.map((s) => (total * s.weight) / weightSum);
  let left = total - parts.reduce((sum, p) => sum + p, 0n);
  const order = shares
    .map((s, index) => ({ index, key: s.key, remainder: (total * s.weight) % weightSum }))
    // Largest remainder first, then the smaller key; equal keys keep their order (stable sort).
    .sort((a, b) => compare(b.remainder, a.remainder) || compare(a.key, b.key));
  for (const { index } of order) {
    if (left === 0n) break;
    parts[index]! += 1n;
    left -= 1n;
  }
  return parts;
}

/** An investor and its principal: what the pro-rata split of an `investors` recipient weighs. */
export interface Investment {
  investor: string;
  principal: bigint;
}

export interface SimulatedTranche {
  index: number;
  name: string;
  fillBefore: bigint;
  fillAfter: bigint;
  /** `fillAfter - fillBefore`: what this revenue adds to the tranche. */
  amount: bigint;
  cap: bigint | null;
  capRemaining: bigint | null;
}

export interface Simulation {
  principal: bigint;
  cumulativeBefore: bigint;
  cumulativeAfter: bigint;
  tranches: SimulatedTranche[];
  /** Non-zero lines, by tranche, then address, then class. */
  lines: PayoutLine[];
  /** What each address receives in all, sorted by address (one ledger transfer each). */
  transfers: { address: string; amount: bigint }[];
  byClass: { investors: bigint; producer: bigint; accounts: bigint };
}

const classOrder = { investor: 0, producer: 1, account: 2 } as const;

/**
 * Who gets what from `revenue` more, given the revenue reported before. The waterfall runs over
 * cumulative revenue, so tranches carry across reports: each tranche's increment is its fill
 * after less its fill before (never negative, see `trancheFills`), split among its recipients
 * with the largest-remainder method in one step over flat weights (an `investors` recipient of
 * weight w weighs `w * principal_i` for each investor i; the producer or an account weighs
 * `w * totalPrincipal`), so the lines of each tranche add up to its increment and all lines to
 * `revenue`, to the minor unit. The `revenue.report` handler calls this very function.
 */
export function simulate(
  campaign: { producer: string; distribution: DistributionRule },
  investments: readonly Investment[],
  cumulativeRevenueBefore: bigint,
  revenue: bigint,
): Simulation {
  if (!isAddress(campaign.producer)) throw new TypeError('campaign.producer: not an address');
  const checked = parseDistribution(campaign.distribution);
  if (typeof checked === 'string') throw new TypeError(`campaign.distribution: ${checked}`);
  if (cumulativeRevenueBefore < 0n) throw new RangeError('cumulativeRevenueBefore: negative');
  if (revenue < 0n) throw new RangeError('revenue: negative');
  const sorted = [...investments].sort((a, b) => compare(a.investor, b.investor));
  let principal = 0n;
  for (const [index, investment] of sorted.entries()) {
    if (!isAddress(investment.investor)) {
      throw new TypeError(`investments[${index}].investor: not an address`);
    }
    if (investment.principal <= 0n) {
      throw new RangeError(`investments[${index}].principal: must be positive`);
    }
    if (index > 0 && sorted[index - 1]!.investor === investment.investor) {
      throw new RangeError(`investments[${index}].investor: listed twice`);
    }
    principal += investment.principal;
  }
  if (principal === 0n) throw new RangeError('investments: the total principal must be positive');
  const cumulativeAfter = cumulativeRevenueBefore + revenue;
  const before = trancheFills(campaign.distribution, principal, cumulativeRevenueBefore);
  const after = trancheFills(campaign.distribution, principal, cumulativeAfter);
  const tranches: SimulatedTranche[] = [];
  const lines: PayoutLine[] = [];
  const totals = new Map<string, bigint>();
  const byClass = { investors: 0n, producer: 0n, accounts: 0n };
  for (const [index, tranche] of campaign.distribution.tranches.entries()) {
    const amount = after[index]! - before[index]!;
    const cap = capAmount(tranche, principal);
    tranches.push({
      index,
      name: tranche.name,
      fillBefore: before[index]!,
      fillAfter: after[index]!,
      amount,
      cap,
      capRemaining: cap === null ? null : cap - after[index]!,
    });
    const shares: (WeightedShare & { recipient: PayoutLine['recipient']; address: string })[] = [];
    for (const r of tranche.recipients) {
      const weight = BigInt(r.weightBasisPoints);
      if (r.kind === 'investors') {
        for (const i of sorted) {
          shares.push({
            key: `${i.investor}/0`,
            weight: weight * i.principal,
            recipient: 'investor',
            address: i.investor,
          });
        }
      } else {
        const address = r.kind === 'producer' ? campaign.producer : r.address;
        const recipient = r.kind === 'producer' ? 'producer' : 'account';
        shares.push({
          key: `${address}/${classOrder[recipient]}`,
          weight: weight * principal,
          recipient,
          address,
        });
      }
    }
    const parts = largestRemainder(amount, shares);
    const trancheLines: PayoutLine[] = [];
    for (const [k, share] of shares.entries()) {
      const part = parts[k]!;
      if (part === 0n) continue;
      trancheLines.push({
        tranche: index,
        recipient: share.recipient,
        address: share.address,
        amount: part.toString(),
      });
      totals.set(share.address, (totals.get(share.address) ?? 0n) + part);
      if (share.recipient === 'investor') byClass.investors += part;
      else if (share.recipient === 'producer') byClass.producer += part;
      else byClass.accounts += part;
    }
    trancheLines.sort(
      (a, b) =>
        compare(a.address, b.address) || compare(classOrder[a.recipient], classOrder[b.recipient]),
    );
    lines.push(...trancheLines);
  }
  const transfers = [...totals.entries()]
    .sort(([a], [b]) => compare(a, b))
    .map(([address, amount]) => ({ address, amount }));
  return {
    principal,
    cumulativeBefore: cumulativeRevenueBefore,
    cumulativeAfter,
    tranches,
    lines,
    transfers,
    byClass,
  };
}
