import { formatUnits } from '../../../sdk/index.js';
import type { DesignRecord, PrinterProfile, PrinterRecord, PrintTokenRecord } from '../schema.js';

/* What the printing pages say, apart from the components so it is tested without a browser:
   lengths in millimetres from integer micrometres (never a float), prices in the asset's units
   (BigInt), which of my printers can print a design, a token's state in words and when its buyer
   may cancel it, and the paths of the pages. */

/** Designs in a page of the store (the API gives 1 to 100 a page). */
export const designsShownMax = 20;
/** A print in progress is read again this often (the token's percent moves in 5 % steps). */
export const printPollMs = 1_000;
/** A print with no progress report for this long may be cancelled by its buyer (the chain's rule). */
export const progressStaleMs = 24 * 60 * 60 * 1000;
/** A print started this long ago may be cancelled whatever its progress reports (the chain's rule). */
export const printMaxMs = 7 * 24 * 60 * 60 * 1000;

export const storePath = '/printing';
export const printersPath = '/printing/printers';
export const printPath = (tokenId: string) => `/printing/prints/${tokenId}`;

/** An asset's symbol and decimals, as the ledger's asset record gives them. */
export interface AssetDecimals {
  symbol: string;
  decimals: number;
}

/** An amount of minor units in the asset's units, with its symbol (raw units when unknown). */
export function amountText(
  minor: string,
  symbol: string,
  asset: AssetDecimals | undefined,
): string {
  if (!asset) return `${minor} ${symbol} (minor units)`;
  return `${formatUnits(BigInt(minor), asset.decimals)} ${symbol}`;
}

/** Micrometres in millimetres, exactly, without trailing zeros: 220000 -> "220", 400 -> "0.4". */
export function mmText(micrometres: number): string {
  const sign = micrometres < 0 ? '-' : '';
  const um = Math.abs(Math.trunc(micrometres));
  const whole = Math.floor(um / 1000);
  const fraction = String(um % 1000)
    .padStart(3, '0')
    .replace(/0+$/, '');
  return `${sign}${whole}${fraction === '' ? '' : `.${fraction}`}`;
}

/** A box in millimetres: "120 × 80 × 45 mm". */
export function boxText(box: { x: number; y: number; z: number }): string {
  return `${mmText(box.x)} × ${mmText(box.y)} × ${mmText(box.z)} mm`;
}

export function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

export function timeText(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

export function licenceText(licence: DesignRecord['licence']): string {
  return [
    licence.commercial ? 'Commercial use allowed' : 'Personal use only',
    licence.remix ? 'remixes allowed' : 'no remixes',
  ].join(', ');
}

const firmwareNames: Record<PrinterProfile['firmware'], string> = {
  marlin: 'Marlin',
  klipper: 'Klipper',
};

/** A profile in one line: "Marlin, bed 220 × 220 × 250 mm, 0.4 mm nozzle, PLA at 205 °C / 60 °C". */
export function profileText(profile: PrinterProfile): string {
  return (
    `${firmwareNames[profile.firmware]}, bed ${boxText(profile.bed)}, ` +
    `${mmText(profile.nozzleUm)} mm nozzle, ${profile.filament.toUpperCase()} at ` +
    `${profile.hotendC} °C / ${profile.bedC} °C, flow ${profile.flowPct} %`
  );
}

/** Prints left of a design: "12 of 100 left". */
export function printsLeftText(design: Pick<DesignRecord, 'sold' | 'printsMax'>): string {
  const left = Math.max(0, design.printsMax - design.sold);
  return left === 0 ? 'Sold out' : `${left} of ${design.printsMax} left`;
}

/** Why a printer cannot print a design, or undefined when it can (the chain's own checks). */
export function unfitReason(
  design: Pick<DesignRecord, 'server' | 'bbox'>,
  printer: Pick<PrinterRecord, 'status' | 'server' | 'profile'>,
): string | undefined {
  if (printer.status !== 'active') return 'revoked';
  if (printer.server !== design.server) return 'registered with another print server';
  const { bed } = printer.profile;
  if (design.bbox.x > bed.x || design.bbox.y > bed.y || design.bbox.z > bed.z) {
    return `its bed (${boxText(bed)}) is too small`;
  }
  return undefined;
}

/** My printers that can print `design`, and the others with the reason. */
export function printerChoices(
  design: Pick<DesignRecord, 'server' | 'bbox'>,
  printers: readonly PrinterRecord[],
): { usable: PrinterRecord[]; unusable: { printer: PrinterRecord; reason: string }[] } {
  const usable: PrinterRecord[] = [];
  const unusable: { printer: PrinterRecord; reason: string }[] = [];
  for (const printer of printers) {
    const reason = unfitReason(design, printer);
    if (reason === undefined) usable.push(printer);
    else unusable.push({ printer, reason });
  }
  return { usable, unusable };
}

type TokenState = Pick<PrintTokenRecord, 'status' | 'expiresAt' | 'percent' | 'failures'> & {
  startedAt?: number | undefined;
  progressAt?: number | undefined;
};

/**
 * Whether the buyer may cancel now (`print.cancel`): an issued token after its expiry or once its
 * printer is revoked, a print with no progress for 24 hours or started 7 days ago.
 */
export function canCancel(token: TokenState, now: number, printerRevoked = false): boolean {
  if (token.status === 'issued') return printerRevoked || now >= token.expiresAt;
  if (token.status === 'printing') {
    const last = token.progressAt ?? token.startedAt;
    if (token.startedAt !== undefined && now - token.startedAt >= printMaxMs) return true;
    return last !== undefined && now - last >= progressStaleMs;
  }
  return false;
}

/** Whether the page keeps reading the token (it can still change without the buyer). */
export function isLive(token: Pick<PrintTokenRecord, 'status'>): boolean {
  return token.status === 'issued' || token.status === 'printing';
}

/** A token's state in words at `now` (the page's clock). */
export function tokenStateText(token: TokenState, now: number): string {
  switch (token.status) {
    case 'issued':
      if (now >= token.expiresAt) return 'Expired unprinted: cancel it for a refund';
      return token.failures > 0
        ? `Re-issued after a failed print: print again until ${timeText(token.expiresAt)}`
        : `Ready to print until ${timeText(token.expiresAt)}`;
    case 'printing':
      return canCancel(token, now)
        ? `Stalled at ${token.percent} %: no progress for 24 hours, cancel it for a refund`
        : `Printing: ${token.percent} %`;
    case 'finished':
      return 'Printed';
    case 'refunded':
      return 'Refunded';
    default:
      return token.status satisfies never;
  }
}

/**
 * What a refund (`print.cancel`, or a second failure) returns to the buyer now: the price less the
 * share the server delivered to the printer, floor(price × (100 − delivered) / 100) minor units.
 */
export function refundToBuyer(token: Pick<PrintTokenRecord, 'price' | 'delivered'>): string {
  return ((BigInt(token.price.amount) * BigInt(100 - token.delivered)) / 100n).toString();
}
