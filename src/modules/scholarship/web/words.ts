import { formatUnits, parseUnits } from '../../../sdk/index.js';

/* The scholarship pages' words and paths: pure, tested in words.test.ts. */

export const sectionPath = '/scholarship';
export const askPath = '/scholarship/ask';
export const questionPath = (id: string) => `/scholarship/questions/${id}`;
export const tutorPath = (address: string) => `/scholarship/tutors/${address}`;
export const poolPath = (poolId: string) => `/scholarship/pools/${poolId}`;

/** Questions shown on a page of the list. */
export const questionsShownMax = 20;

/** Minor units of an asset with its decimals, in words: `12.50 USD`. */
export function amountText(minor: string, symbol: string, decimals: number | undefined): string {
  return decimals === undefined
    ? `${minor} ${symbol} (minor units)`
    : `${formatUnits(BigInt(minor), decimals)} ${symbol}`;
}

/** A decimal amount typed in a form as minor units, or undefined when it is not one. */
export function minorOf(text: string, decimals: number): string | undefined {
  const trimmed = text.trim();
  const minor = parseUnits(trimmed, decimals);
  return minor !== undefined && minor > 0n ? minor.toString() : undefined;
}

/** A question's state in words, from its status, deadline and the time now. */
export function questionStateText(
  q: { status: string; deadline: number; outcome?: string },
  now: number,
): string {
  if (q.status === 'awarded') return q.outcome === 'votes' ? 'Awarded by the votes' : 'Awarded';
  if (q.status === 'refunded') return 'Refunded to the asker';
  return now < q.deadline ? 'Open' : 'Past its deadline: votes, then closing';
}

/**
 * The reward split of an award, as the chain makes it: by the weights, largest remainder to the
 * unit (the remainders' ties to the earlier answer), so the page shows what each will receive.
 */
export function splitByWeights(total: bigint, weights: readonly number[]): bigint[] {
  const sum = weights.reduce((a, b) => a + BigInt(b), 0n);
  if (sum === 0n) return weights.map(() => 0n);
  const shares = weights.map((w) => (total * BigInt(w)) / sum);
  const remainders = weights.map((w, i) => ({ i, r: (total * BigInt(w)) % sum }));
  let left = total - shares.reduce((a, b) => a + b, 0n);
  remainders.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  for (const { i } of remainders) {
    if (left === 0n) break;
    shares[i]! += 1n;
    left -= 1n;
  }
  return shares;
}

/** Reputation in basis points as a percentage: `42.5%`. */
export const percentText = (basisPoints: number) => `${(basisPoints / 100).toFixed(1)}%`;
