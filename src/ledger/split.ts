/**
 * Splits `total` minor units by `weights`, largest remainder to the unit: each part is
 * floor(total × w / W) (W the sum of the weights), and the units this leaves (fewer than the
 * parts) go one each to the largest remainders, the earlier position first on a tie. The parts
 * add up to `total`, and each is within 1 of its exact share total × w / W (never below its floor,
 * never above its ceiling); a weight of 0 gets 0.
 *
 * Pure integer arithmetic, so a tx handler may call it: the same inputs give the same parts on
 * every node. Throws a RangeError (a bug in the caller, not a rejection) on a negative total, a
 * weight that is not a whole number from 0, or weights that add up to 0.
 */
export function splitByWeights(
  total: bigint,
  weights: readonly bigint[] | readonly number[],
): bigint[] {
  if (typeof total !== 'bigint' || total < 0n) {
    throw new RangeError('splitByWeights: total must be a bigint from 0');
  }
  const big = (weights as readonly (bigint | number)[]).map((weight, index) => {
    if (typeof weight === 'bigint' ? weight < 0n : !Number.isSafeInteger(weight) || weight < 0) {
      throw new RangeError(`splitByWeights: weights[${index}] must be a whole number from 0`);
    }
    return BigInt(weight);
  });
  const sum = big.reduce((a, w) => a + w, 0n);
  if (sum === 0n) throw new RangeError('splitByWeights: weights must add up to more than 0');
  const parts = big.map((w) => (total * w) / sum);
  let left = total - parts.reduce((a, p) => a + p, 0n);
  const order = big.map((w, index) => ({ index, rest: (total * w) % sum }));
  order.sort((a, b) => (a.rest === b.rest ? a.index - b.index : a.rest > b.rest ? -1 : 1));
  for (const { index } of order) {
    if (left === 0n) break;
    parts[index]! += 1n;
    left -= 1n;
  }
  return parts;
}
