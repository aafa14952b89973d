import { formatUnits, parseUnits } from '../../../sdk/index.js';

/* The scholarship pages' words and paths: pure, tested in words.test.ts. */

export const sectionPath = '/scholarship';
export const askPath = '/scholarship/ask';
export const questionPath = (id: string) => `/scholarship/questions/${id}`;
export const tutorPath = (address: string) => `/scholarship/tutors/${address}`;
export const poolPath = (poolId: string) => `/scholarship/pools/${poolId}`;
export const profilePath = '/scholarship/profile';
/** Not under /scholarship/pools/: `new` is a valid pool id. */
export const poolCreatePath = '/scholarship/create-pool';
export const poolFundPath = (poolId: string) => `/scholarship/pools/${poolId}/fund`;
export const poolInvitePath = (poolId: string) => `/scholarship/pools/${poolId}/invite`;
export const poolJoinPath = (poolId: string) => `/scholarship/pools/${poolId}/join`;
export const mentorshipStartPath = (poolId: string) =>
  `/scholarship/pools/${poolId}/mentorships/new`;
export const mentorshipPath = (mentorshipId: string) => `/scholarship/mentorships/${mentorshipId}`;

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

/** A question's state in words, from its status, deadline, close rule and the time now. */
export function questionStateText(
  q: { status: string; deadline: number; outcome?: string; autoAward?: string },
  now: number,
): string {
  if (q.status === 'awarded') return q.outcome === 'votes' ? 'Awarded by the votes' : 'Awarded';
  if (q.status === 'refunded') return 'Refunded to the asker';
  if (now < q.deadline) return 'Open';
  return q.autoAward === 'votes'
    ? 'Past its deadline: votes, then closing'
    : 'Past its deadline: closing with a refund unless the asker awards';
}

/** What `question.close` does with a question nobody awarded, in words. */
export function autoAwardText(autoAward: string): string {
  return autoAward === 'votes'
    ? 'Tutors vote for a day; half the reward goes to the answer with the most weight (the rest back to the asker), or all back when too few voted'
    : 'The reward goes back to the asker';
}

/** Why an amount was held at a close, in words. */
export function heldReasonText(reason: string): string {
  return reason === 'best' ? 'a best answer' : reason === 'refund' ? "the asker's refund" : 'a tip';
}

/**
 * The reward split of an award, as the chain makes it (split.ts, the handlers' own function), so
 * the page shows what each will receive.
 */
export { splitByWeights } from '../../../ledger/split.js';

/** Reputation in basis points as a percentage: `42.5%`. */
export const percentText = (basisPoints: number) => `${(basisPoints / 100).toFixed(1)}%`;
