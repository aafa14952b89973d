/*
 * The reward split of an award (issue 22), pure: the handlers pay by it and the console shows each
 * share before the asker signs, so both use this one function.
 */

/**
 * Splits `total` by `weights` (each >= 1), the largest remainder to the unit: every part is
 * floor(total * w / W) and the units left go one each to the largest remainders (the earlier
 * position first on a tie). The parts add up to `total`.
 */
export function splitByWeights(total: bigint, weights: readonly number[]): bigint[] {
  const sum = weights.reduce((a, w) => a + BigInt(w), 0n);
  if (sum <= 0n) throw new RangeError('splitByWeights: weights must add up to more than 0');
  const parts = weights.map((w) => (total * BigInt(w)) / sum);
  const remainders = weights.map((w, index) => ({ index, rest: (total * BigInt(w)) % sum }));
  let left = total - parts.reduce((a, p) => a + p, 0n);
  remainders.sort((a, b) => (a.rest === b.rest ? a.index - b.index : a.rest > b.rest ? -1 : 1));
  for (const { index } of remainders) {
    if (left === 0n) break;
    parts[index]! += 1n;
    left -= 1n;
  }
  return parts;
}
