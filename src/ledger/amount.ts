/**
 * Amounts are `bigint` minor units everywhere inside Coffer and travel as decimal strings of minor
 * units (`"7450"` is 74.50 of a 2-decimal asset). The cap keeps any sum of amounts far from
 * anything a decimal string, a JSON number or a PostgreSQL NUMERIC(40) cannot carry.
 */
export const amountMax = 2n ** 127n - 1n;
export const decimalsMax = 18;

const minorUnitsPattern = /^(0|[1-9][0-9]{0,38})$/;

/** Parses a positive amount of minor units; `undefined` for anything else. */
export function parsePositiveAmount(value: unknown): bigint | undefined {
  if (typeof value !== 'string' || !minorUnitsPattern.test(value)) return undefined;
  const amount = BigInt(value);
  if (amount <= 0n || amount > amountMax) return undefined;
  return amount;
}

/** Formats minor units in an asset's units: `formatUnits(7450n, 2)` is `"74.50"`. */
export function formatUnits(amount: bigint, decimals: number): string {
  const negative = amount < 0n;
  const digits = (negative ? -amount : amount).toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals);
  return (negative ? '-' : '') + (decimals === 0 ? whole : `${whole}.${fraction}`);
}

/**
 * Parses an amount written in an asset's units (`"74.5"` with 2 decimals is 7450n). More fraction
 * digits than the asset has is an error, never a silent rounding.
 */
export function parseUnits(text: string, decimals: number): bigint | undefined {
  const match = /^([0-9]{1,39})(?:\.([0-9]+))?$/.exec(text.trim());
  if (!match) return undefined;
  const fraction = match[2] ?? '';
  if (fraction.length > decimals) return undefined;
  const amount = BigInt(match[1]! + fraction.padEnd(decimals, '0'));
  return amount > amountMax ? undefined : amount;
}
