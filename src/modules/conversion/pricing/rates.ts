/*
 * Mid rates between currencies, from one of three sources: a configured table, the ECB's daily
 * euro reference rates (eurofxref-daily.xml) or a rates URL answering either. Every source carries
 * the time its rates are as of; a lookup refuses rates older than the caller's age limit
 * (`rates_stale`). The clock is never read here: the caller passes `nowMs`.
 *
 * A rate `A/B = r` means 1 unit of A is worth r units of B (whole units, not minor units). A pair
 * not in the source is crossed through EUR (`A/EUR × EUR/B`), each leg direct or inverted.
 */
import { crossCurrency, isCurrency } from './currency.js';
import { ecbRates } from './ecb.js';
import { utcTimeMs } from './utc.js';
import {
  inverse,
  multiply,
  one,
  parseRate,
  type Rational,
  type RateTextRefusal,
} from './rational.js';

export { crossCurrency, isCurrency } from './currency.js';

/** A configured table holds at most this many pairs: it is written by hand, and read per quote. */
export const tablePairsMax = 512;

/** Mid rates as of one time. Build with `tableRates`, `ecbRates` or `fetchRates`. */
export interface RateSource {
  /** Where the rates come from, for quotes and logs: "table", "ecb" or "url <url>". */
  readonly origin: string;
  /** Unix milliseconds the rates are as of. */
  readonly asOfMs: number;
  /** Direct rates, keyed "A/B". */
  readonly pairs: ReadonlyMap<string, Rational>;
}

export const rateSourceRefusals = {
  table_invalid: 'A rate table is an object of at most 512 "A/B": "decimal" entries.',
  table_pair_invalid: 'A rate table key is two distinct currency codes, "USD/EUR".',
  table_pair_duplicate: 'A rate table gives each pair once, in one direction only.',
  as_of_invalid: 'asOf is a UTC time "YYYY-MM-DDTHH:MM:SSZ" (or unix milliseconds from 0).',
} as const;

export type RateSourceRefusal = keyof typeof rateSourceRefusals | RateTextRefusal;

export type RateSourceResult =
  { ok: true; source: RateSource } | { ok: false; code: string; message: string; field?: string };

function isSafeTime(ms: number): boolean {
  return Number.isSafeInteger(ms) && ms >= 0;
}

/**
 * A configured table `{ "USD/EUR": "0.9231", ... }` as of `asOfMs` (the operator says when the
 * table was last right). Each rate goes through `parseRate`; a refused one names its key as field.
 */
export function tableRates(table: unknown, asOfMs: number, origin = 'table'): RateSourceResult {
  if (!isSafeTime(asOfMs)) {
    return { ok: false, code: 'as_of_invalid', message: rateSourceRefusals.as_of_invalid };
  }
  if (typeof table !== 'object' || table === null || Array.isArray(table)) {
    return { ok: false, code: 'table_invalid', message: rateSourceRefusals.table_invalid };
  }
  const entries = Object.entries(table as Record<string, unknown>);
  if (entries.length === 0 || entries.length > tablePairsMax) {
    return { ok: false, code: 'table_invalid', message: rateSourceRefusals.table_invalid };
  }
  const pairs = new Map<string, Rational>();
  for (const [key, text] of entries) {
    const [from, to, extra] = key.split('/');
    if (extra !== undefined || !isCurrency(from) || !isCurrency(to) || from === to) {
      return {
        ok: false,
        code: 'table_pair_invalid',
        message: rateSourceRefusals.table_pair_invalid,
        field: key,
      };
    }
    if (pairs.has(`${to}/${from}`)) {
      return {
        ok: false,
        code: 'table_pair_duplicate',
        message: rateSourceRefusals.table_pair_duplicate,
        field: key,
      };
    }
    const parsed = parseRate(text);
    if (!parsed.ok) return { ok: false, code: parsed.code, message: parsed.message, field: key };
    pairs.set(key, parsed.rate);
  }
  return { ok: true, source: Object.freeze({ origin, asOfMs, pairs }) };
}

export const rateLookupRefusals = {
  rates_stale: 'The rates are older than the quote allows; fetch fresh rates.',
  rates_dated_ahead:
    "The rates are dated ahead of the quote's clock by more than the allowed skew: a wrong clock or a wrong source.",
  rate_unavailable: 'The rate source has no rate between these currencies, direct or via EUR.',
} as const;

export type RateLookupRefusal = keyof typeof rateLookupRefusals;

export type RateLookupResult =
  { ok: true; rate: Rational } | { ok: false; code: RateLookupRefusal; message: string };

/**
 * How far ahead of `nowMs` a source may be dated: clocks differ a little. A source dated further
 * ahead would otherwise stay "fresh" until long after its rates are old, so it is refused.
 */
export const ratesClockSkewMsMax = 5 * 60_000;

/**
 * Why the source may not price at `nowMs`, or undefined when it may: `rates_stale` when it is
 * more than `ageMaxMs` old, `rates_dated_ahead` when it is dated more than `ratesClockSkewMsMax`
 * ahead of `nowMs`. Exactly `ageMaxMs` old is still fresh.
 */
export function ratesAgeRefusal(
  source: RateSource,
  nowMs: number,
  ageMaxMs: number,
): 'rates_stale' | 'rates_dated_ahead' | undefined {
  if (nowMs - source.asOfMs > ageMaxMs) return 'rates_stale';
  if (source.asOfMs - nowMs > ratesClockSkewMsMax) return 'rates_dated_ahead';
  return undefined;
}

function directRate(source: RateSource, from: string, to: string): Rational | undefined {
  if (from === to) return one;
  const direct = source.pairs.get(`${from}/${to}`);
  if (direct) return direct;
  const reverse = source.pairs.get(`${to}/${from}`);
  return reverse ? inverse(reverse) : undefined;
}

/**
 * The mid rate `from/to` (1 `from` is worth rate `to`): the same currency is 1, then a direct or
 * inverted pair, then the cross `from/EUR × EUR/to`. Checks the source's age first
 * (`ratesAgeRefusal`), whatever the pair.
 */
export function midRate(
  source: RateSource,
  from: string,
  to: string,
  freshness: { nowMs: number; ageMaxMs: number },
): RateLookupResult {
  const age = ratesAgeRefusal(source, freshness.nowMs, freshness.ageMaxMs);
  if (age !== undefined) return { ok: false, code: age, message: rateLookupRefusals[age] };
  const direct = directRate(source, from, to);
  if (direct) return { ok: true, rate: direct };
  const toCross = directRate(source, from, crossCurrency);
  const fromCross = directRate(source, crossCurrency, to);
  if (toCross && fromCross) return { ok: true, rate: multiply(toCross, fromCross) };
  return { ok: false, code: 'rate_unavailable', message: rateLookupRefusals.rate_unavailable };
}

/** An asset on an ecosystem: `{ecosystem: "evm", asset: "USDC"}`. */
export interface AssetNode {
  readonly ecosystem: string;
  readonly asset: string;
}

/** Which currency an asset is priced in (USDC on the EVM chain is pegged to USD). */
export type CurrencyMapping = (node: AssetNode) => string | undefined;

/**
 * A mapping from a list, `[{ecosystem: "evm", asset: "USDC", currency: "USD"}]`. An asset not
 * listed maps to nothing (a quote through it answers `rate_unavailable`).
 */
export function currencyMapping(
  entries: readonly { ecosystem: string; asset: string; currency: string }[],
): CurrencyMapping {
  const byNode = new Map<string, string>();
  for (const entry of entries) {
    if (!isCurrency(entry.currency)) {
      throw new TypeError(`currency of ${entry.ecosystem}:${entry.asset} is not a currency code`);
    }
    byNode.set(`${entry.ecosystem}:${entry.asset}`, entry.currency);
  }
  return (node) => byNode.get(`${node.ecosystem}:${node.asset}`);
}

// ---------------------------------------------------------------------------------------------
// A rates URL.

/** An operational fault fetching rates (the network or the server), with a stable code. */
export class RatesFetchError extends Error {
  constructor(
    readonly code:
      | 'rates_fetch_failed'
      | 'rates_fetch_timeout'
      | 'rates_fetch_status'
      | 'rates_body_too_large'
      | 'rates_content_invalid',
    message: string,
  ) {
    super(message);
    this.name = 'RatesFetchError';
  }
}

export interface FetchRatesOptions {
  /** The whole exchange, headers and body, within this many ms. */
  timeoutMs: number;
  /** Bytes of body read at most; more is `rates_body_too_large` (the ECB daily file is ~1.5 KiB). */
  bodyBytesMax?: number;
  /** Stops the fetch early (the engine shutting down). */
  signal?: AbortSignal;
  /** The fetch to use; the platform's by default (tests pass their own). */
  fetchImpl?: typeof fetch;
}

export const ratesBodyBytesDefault = 64 * 1024;

/**
 * GETs a rates URL and reads either format, by its Content-Type:
 * - `application/xml` or `text/xml`: an ECB eurofxref-daily document (`ecbRates`), as of its date;
 * - `application/json`: `{"asOf": "2026-12-04T15:00:00Z", "rates": {"USD/EUR": "0.9231", ...}}`
 *   (a bare table carries no time, so the URL form names its as-of time).
 * Anything else, a non-2xx status, a redirect (never followed), a body over `bodyBytesMax` or a
 * body its parser refuses throws `RatesFetchError` with its code.
 */
export async function fetchRates(url: string, options: FetchRatesOptions): Promise<RateSource> {
  const bodyBytesMax = options.bodyBytesMax ?? ratesBodyBytesDefault;
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const fetchImpl = options.fetchImpl ?? fetch;
  let text: string;
  let contentType: string;
  try {
    const response = await fetchImpl(url, {
      headers: { accept: 'application/xml, text/xml, application/json' },
      redirect: 'manual',
      signal,
    });
    if (response.status < 200 || response.status > 299) {
      await response.body?.cancel();
      throw new RatesFetchError('rates_fetch_status', `the rates URL answered ${response.status}`);
    }
    contentType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    text = await readCapped(response, bodyBytesMax);
  } catch (error) {
    if (error instanceof RatesFetchError) throw error;
    if (timeout.aborted) {
      throw new RatesFetchError('rates_fetch_timeout', `no answer within ${options.timeoutMs} ms`);
    }
    throw new RatesFetchError('rates_fetch_failed', `fetching rates failed: ${String(error)}`);
  }
  const origin = `url ${url}`;
  let parsed: RateSourceResult;
  if (contentType === 'application/xml' || contentType === 'text/xml') {
    parsed = ecbRates(text, origin);
  } else if (contentType === 'application/json') {
    parsed = jsonRates(text, origin);
  } else {
    throw new RatesFetchError(
      'rates_content_invalid',
      `the rates URL answered Content-Type "${contentType}", not XML or JSON`,
    );
  }
  if (!parsed.ok) {
    throw new RatesFetchError(
      'rates_content_invalid',
      `the rates URL's body is refused: ${parsed.code}${parsed.field ? ` (${parsed.field})` : ''}: ${parsed.message}`,
    );
  }
  return parsed.source;
}

/** The JSON form of a rates URL: `{"asOf": "...Z", "rates": {...}}` and nothing else. */
export function jsonRates(text: string, origin = 'json'): RateSourceResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, code: 'table_invalid', message: 'The body is not JSON.' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, code: 'table_invalid', message: rateSourceRefusals.table_invalid };
  }
  const keys = Object.keys(value).sort();
  if (keys.length !== 2 || keys[0] !== 'asOf' || keys[1] !== 'rates') {
    return {
      ok: false,
      code: 'table_invalid',
      message: 'A rates document is {"asOf": "YYYY-MM-DDTHH:MM:SSZ", "rates": {...}}.',
    };
  }
  const document = value as { asOf: unknown; rates: unknown };
  const asOfMs = typeof document.asOf === 'string' ? utcTimeMs(document.asOf) : undefined;
  if (asOfMs === undefined) {
    return {
      ok: false,
      code: 'as_of_invalid',
      message: rateSourceRefusals.as_of_invalid,
      field: 'asOf',
    };
  }
  return tableRates(document.rates, asOfMs, origin);
}

async function readCapped(response: Response, bytesMax: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > bytesMax) {
    await response.body?.cancel();
    throw new RatesFetchError('rates_body_too_large', `the rates body is over ${bytesMax} bytes`);
  }
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let read = 0;
  for (;;) {
    const { done, value } = (await reader.read()) as { done: boolean; value?: Uint8Array };
    if (done) break;
    if (!value) continue;
    read += value.byteLength;
    if (read > bytesMax) {
      await reader.cancel();
      throw new RatesFetchError('rates_body_too_large', `the rates body is over ${bytesMax} bytes`);
    }
    chunks.push(value);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new RatesFetchError('rates_content_invalid', 'the rates body is not UTF-8');
  }
}
