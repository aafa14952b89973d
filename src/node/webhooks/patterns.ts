/**
 * Which events a subscription gets: a list of patterns, each an exact event type
 * (`campaign.payout`), a prefix ending in `.*` (`token.*`: every type under `token.`), or `*`
 * (every event).
 */

/** Patterns one subscription may list. */
export const patternsPerSubscriptionMax = 16;
/** Characters of one pattern (event types are at most 64, and `.*` adds two). */
export const patternLengthMax = 66;

const patternShape = /^(\*|[a-z][a-zA-Z0-9]*(\.[a-zA-Z0-9]+)*(\.\*)?)$/;

/**
 * Why `patterns` is refused, or undefined. `namespaceKnown` says whether a first word names a
 * module or tx noun of this chain, so a typo (`tokn.*`) is refused rather than never matching.
 */
export function patternsProblem(
  patterns: readonly string[],
  namespaceKnown: (namespace: string) => boolean,
): string | undefined {
  if (patterns.length === 0) return 'list at least one event type or pattern';
  if (patterns.length > patternsPerSubscriptionMax) {
    return `at most ${patternsPerSubscriptionMax} event types a subscription`;
  }
  for (const pattern of patterns) {
    const shown = JSON.stringify(pattern.slice(0, 80));
    if (pattern.length > patternLengthMax || !patternShape.test(pattern)) {
      return `${shown} is not an event type, a prefix ending in .* (token.*) or *`;
    }
    if (pattern !== '*' && !namespaceKnown(pattern.split('.')[0]!)) {
      return `${shown}: no module or tx type of this chain is named ${pattern.split('.')[0]}`;
    }
  }
  return undefined;
}

/** Whether an event of `type` matches any of `patterns`. */
export function matchesAny(patterns: readonly string[], type: string): boolean {
  return patterns.some((pattern) =>
    pattern === '*'
      ? true
      : pattern.endsWith('.*')
        ? type.startsWith(pattern.slice(0, -1))
        : pattern === type,
  );
}
