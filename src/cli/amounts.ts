import { parseUnits, type CofferClient } from '../sdk/index.js';
import { CliError } from './errors.js';

/**
 * Amounts on the command line are written in the asset's units (`74.50` USD); payloads carry
 * minor units (`"7450"`). The conversion refuses rather than rounds: more fraction digits than the
 * asset has is an error.
 */
export function toMinorUnits(text: string, decimals: number, symbol: string): string {
  const fractionDigits = checkAmountSyntax(text);
  if (fractionDigits > decimals) {
    throw new CliError(
      'invalid_amount',
      `"${text}" has ${fractionDigits} digits after the point, and ${symbol} has ${decimals} decimals`,
    );
  }
  const minor = parseUnits(text, decimals);
  if (minor === undefined) throw new CliError('invalid_amount', `"${text}" is too large`);
  if (minor === 0n) throw new CliError('invalid_amount', 'the amount must be more than 0');
  return minor.toString();
}

/** Checks that `text` is written as a decimal number; answers its count of fraction digits. */
export function checkAmountSyntax(text: string): number {
  const match = /^([0-9]+)(?:\.([0-9]+))?$/.exec(text);
  if (!match) {
    throw new CliError(
      'invalid_amount',
      `"${text}" is not an amount: write a decimal number such as 74.50`,
    );
  }
  return match[2]?.length ?? 0;
}

/** An asset's decimals, from `GET /v1/assets/SYMBOL`. */
export async function assetDecimals(client: CofferClient, symbol: string): Promise<number> {
  const asset = await client.getAsset(symbol);
  const decimals = asset.decimals;
  if (typeof decimals !== 'number' || !Number.isInteger(decimals)) {
    throw new CliError('unexpected_answer', `the node gave no decimals for asset ${symbol}`);
  }
  return decimals;
}
