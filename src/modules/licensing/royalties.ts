import assert from 'node:assert/strict';
import { shareWhole, type Split } from './schema.js';

/*
 * Royalties along the chain of title (issue 21). Every payment for a licence is split: each
 * assignment's assigner keeps its share (basis points) of it, the offerer gets the rest. Integer
 * arithmetic only, rounding named: each assigner first gets floor(amount * share / 10000); the
 * title's whole part, floor(amount * sum(shares) / 10000), less those floors (fewer units than
 * assignments) goes one unit each by largest remainder, ties to the earlier assignment; the
 * offerer gets what is left. The parts add up to the amount exactly.
 */

export interface TitleShare {
  /** The assigner: who keeps the share. */
  from: string;
  /** Basis points, 0..10000. */
  share: number;
}

/**
 * The splits of `amount` minor units paid to `offerer` along `chain` (in chain order): one split
 * per assignment (role `title`), then the offerer's (role `offerer`). Zero amounts are kept in the
 * list (the record shows every share); the payer skips them.
 */
export function royaltySplits(
  amount: bigint,
  chain: readonly TitleShare[],
  offerer: string,
): Split[] {
  assert.ok(amount >= 0n, 'amount must not be negative');
  const whole = BigInt(shareWhole);
  let sharesTotal = 0n;
  const floors: bigint[] = [];
  const remainders: bigint[] = [];
  for (const link of chain) {
    assert.ok(Number.isSafeInteger(link.share) && link.share >= 0 && link.share <= shareWhole);
    const share = BigInt(link.share);
    sharesTotal += share;
    floors.push((amount * share) / whole);
    remainders.push((amount * share) % whole);
  }
  assert.ok(sharesTotal <= whole, 'the shares on a chain of title exceed the whole');
  const titleTotal = (amount * sharesTotal) / whole;
  let leftover = titleTotal - floors.reduce((sum, f) => sum + f, 0n);
  // Largest remainder first; ties by chain order (the sort is stable on the index).
  const order = chain
    .map((_, index) => index)
    .sort((a, b) => {
      const ra = remainders[a]!;
      const rb = remainders[b]!;
      return ra === rb ? a - b : ra > rb ? -1 : 1;
    });
  const amounts = [...floors];
  for (const index of order) {
    if (leftover === 0n) break;
    amounts[index] = amounts[index]! + 1n;
    leftover -= 1n;
  }
  assert.equal(leftover, 0n);
  const splits: Split[] = chain.map((link, index) => ({
    to: link.from,
    amount: amounts[index]!.toString(),
    role: 'title',
  }));
  splits.push({ to: offerer, amount: (amount - titleTotal).toString(), role: 'offerer' });
  return splits;
}
