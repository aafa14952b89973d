/** A currency code: USD, EUR, USDC... (3 to 10 capitals and digits, starting with a capital). */
const currencyPattern = /^[A-Z][A-Z0-9]{2,9}$/;

export function isCurrency(value: unknown): value is string {
  return typeof value === 'string' && currencyPattern.test(value);
}

/** The currency every cross rate goes through, and the ECB's base. */
export const crossCurrency = 'EUR';
