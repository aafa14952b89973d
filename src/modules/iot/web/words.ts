import { formatUnits } from '../../../sdk/index.js';
import {
  utcDay,
  type BillResult,
  type DeviceRecord,
  type IotRole,
  type SessionStatus,
  type SessionView,
  type TariffRecord,
} from '../client.js';

/* What the iot pages say, apart from the components so it is tested without a browser: amounts in
   the asset's units (BigInt, never a float), usage with its unit, a tariff, how much of a hold is
   used, times and periods, the statuses and the sentences for what is not there. */

/** Sessions in a page of the list (the API gives 1 to 100 a page). */
export const sessionsShownMax = 20;

/** The list's filters: one status, or every session. */
export const sessionFilters = ['open', 'capped', 'ended', 'expired', 'all'] as const;
export type SessionFilter = (typeof sessionFilters)[number];

export const filterText: Record<SessionFilter, string> = {
  open: 'Open',
  capped: 'Capped',
  ended: 'Ended',
  expired: 'Expired',
  all: 'All',
};

export const sessionStatusText: Record<SessionStatus, string> = {
  open: 'Open',
  capped: 'Capped: the mandate allows no more',
  ended: 'Ended',
  expired: 'Expired: the hold ran out of blocks',
};

export const billStatusText: Record<BillResult['status'], string> = {
  paid: 'Paid',
  capped: 'Capped',
};

export const roleText: Record<IotRole, string> = {
  'iot-device': 'IoT device (it consumes: a car, a scooter)',
  'service-device': 'Service device (it measures and bills: a charger, a parking meter)',
  wallet: 'Wallet (it pays for the iot devices linked to it)',
};

export const deviceStatusText: Record<DeviceRecord['status'], string> = {
  active: 'Active',
  revoked: 'Revoked',
};

/** An asset's symbol and decimals, as the ledger's asset record gives them. */
export interface AssetDecimals {
  symbol: string;
  decimals: number;
}

/**
 * Minor units (a decimal string) in the asset's units with its symbol: `750` of a 2-decimal `EVC`
 * is `7.50 EVC`, every decimal kept, BigInt throughout. Without the asset's record (it did not
 * load), the minor units and the symbol.
 */
export function amountText(
  minor: string,
  symbol: string,
  asset: AssetDecimals | undefined,
): string {
  if (!/^[0-9]+$/.test(minor)) return `${minor} ${symbol}`;
  if (asset === undefined) return `${minor} minor units of ${symbol}`;
  return `${formatUnits(BigInt(minor), asset.decimals)} ${asset.symbol}`;
}

/** Usage with its unit: `12 kWh`. The API gives a session's usage as a decimal string. */
export function usageText(usage: string | number, unit: string): string {
  return `${usage} ${unit}`;
}

/** A tariff in words: `2.50 EVC per kWh`, `0.25 EVC per 10 min`. */
export function tariffText(
  tariff: Pick<TariffRecord, 'unit' | 'unitPrice' | 'unitsPer'>,
  symbol: string,
  asset: AssetDecimals | undefined,
): string {
  const per = tariff.unitsPer === 1 ? tariff.unit : `${tariff.unitsPer} ${tariff.unit}`;
  return `${amountText(tariff.unitPrice, symbol, asset)} per ${per}`;
}

/**
 * The whole percent of the hold the session has captured, rounded down, 0 to 100 (a meter's
 * value: integer arithmetic on the minor units, so it never shows full before it is).
 */
export function usedPercent(captured: string, held: string): number {
  const total = BigInt(held);
  if (total <= 0n) return 0;
  const part = BigInt(captured);
  const percent = (part * 100n) / total;
  return Number(percent > 100n ? 100n : percent < 0n ? 0n : percent);
}

/** The meter's label: `7.50 EVC of 50.00 EVC held captured (15%)`. */
export function meterText(session: SessionView, asset: AssetDecimals | undefined): string {
  return `${amountText(session.captured, session.asset, asset)} captured of ${amountText(
    session.held,
    session.asset,
    asset,
  )} held (${usedPercent(session.captured, session.held)}%)`;
}

/**
 * Unix milliseconds as `2026-12-05 18:00:30` (UTC), by integer arithmetic (the schema's `utcDay`
 * for the date): words.ts is pure, as the module's other files, and reads no Date.
 */
export function timeText(ms: number): string {
  const dayMs = 86_400_000;
  const inDay = ((ms % dayMs) + dayMs) % dayMs;
  const seconds = Math.floor(inDay / 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${utcDay(ms)} ${two(Math.floor(seconds / 3600))}:${two(Math.floor(seconds / 60) % 60)}:${two(seconds % 60)}`;
}

/** A bill's period: `2026-12-05 18:00:00 to 18:00:30 UTC` (the date once when it is one day). */
export function periodText(period: { from: number; to: number }): string {
  const from = timeText(period.from);
  const to = timeText(period.to);
  const end = from.slice(0, 10) === to.slice(0, 10) ? to.slice(11) : to;
  return `${from} to ${end} UTC`;
}

/** A certificate's validity: `2026-12-05 18:00:00 to 2027-12-05 18:00:00 UTC`. */
export function validityText(device: Pick<DeviceRecord, 'validFrom' | 'validTo'>): string {
  return `${timeText(device.validFrom)} to ${timeText(device.validTo)} UTC`;
}

/** A fingerprint in groups of four, so a person can compare it aloud. */
export function fingerprintText(fingerprint: string): string {
  return fingerprint.match(/.{1,4}/g)?.join(' ') ?? fingerprint;
}

/** `n` things, with the noun in the plural unless one. */
export function countText(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

/** Where the console shows a session and a device. */
export function sessionPath(serviceDevice: string, sessionId: string): string {
  return `/iot/sessions/${encodeURIComponent(serviceDevice)}/${encodeURIComponent(sessionId)}`;
}

export function devicePath(deviceId: string): string {
  return `/iot/devices/${encodeURIComponent(deviceId)}`;
}

/** How a session starts: the sentence an empty list ends with. */
export const howSessionsStart =
  "A session starts when a service device (a charger, a parking meter) sends its signed start, carrying the iot device's authorisation, as an iot.startSession transaction: the iot device must be linked to a wallet whose mandate names the service device, and the service device must have a tariff.";

/** The list's sentence when it has no session for the filter. */
export function noSessionsText(filter: SessionFilter): string {
  const none =
    filter === 'all' ? 'No session on this chain yet.' : `No ${filter} session on this chain.`;
  return `${none} ${howSessionsStart}`;
}

/** The page's sentence for a session the API does not know (its 404 `session_not_found`). */
export function sessionNotFoundText(serviceDevice: string, sessionId: string): string {
  return `The service device ${serviceDevice} has no session ${sessionId} on this chain: a session exists once its iot.startSession transaction is in a block.`;
}

/** The page's sentence for a device the API does not know (its 404 `iot_device_not_found`). */
export function deviceNotFoundText(deviceId: string): string {
  return `No device is enrolled with the id ${deviceId}: its owner enrols it with an iot.enrol transaction carrying a certificate a registered CA issued.`;
}

/** A mandate's limits in words. */
export function mandateText(
  mandate: { sessionMax: string; dayMax: string; sessionBlocks: number },
  symbol: string,
  asset: AssetDecimals | undefined,
): string {
  return `at most ${amountText(mandate.sessionMax, symbol, asset)} a session and ${amountText(
    mandate.dayMax,
    symbol,
    asset,
  )} a UTC day; a session's hold lives ${countText(mandate.sessionBlocks, 'block')}`;
}
