import { ledgerKeys, type HoldRecord } from '../../ledger/records.js';
import type { OrderedStateReader } from '../../state/index.js';
import type {
  BillResult,
  CaPage,
  CaRecord,
  DevicePage,
  DeviceRecord,
  DeviceView,
  SessionDetail,
  SessionPage,
  SessionRecord,
  SessionStatus,
  SessionView,
} from './schema.js';
import {
  iotKeys,
  readBill,
  readCa,
  readDevice,
  readLink,
  readSession,
  readTariff,
} from './state.js';

/*
 * The module's reads, from committed state, for the routes and the tests. Lists are pages in key
 * order: `next` is the cursor of the last entry while more may follow (pass it as `after`).
 * `height` is the height of the next block: a session whose hold expires below it is `expired`.
 */

/** Entries in one page unless `limit` says otherwise, and at the most. */
export const iotPageDefault = 50;
export const iotPageMax = 100;
/** Index entries one session page reads at the most, whatever the filters leave of them. */
export const sessionScanMax = 500;
/** Bills a session's detail carries; the rest are read one by one. */
export const sessionBillsMax = 100;

function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > iotPageMax) {
    throw new RangeError(`limit must be a whole number from 1 to ${iotPageMax}`);
  }
}

/** Registered CAs (active and revoked) in id order. */
export function listCas(
  state: OrderedStateReader,
  options: { after?: string; limit: number },
): CaPage {
  checkLimit(options.limit);
  const prefix = iotKeys.ca('');
  const entries = state.range(
    prefix,
    options.limit + 1,
    options.after === undefined ? {} : { after: prefix + options.after },
  );
  const cas = entries.slice(0, options.limit).map(([, v]) => JSON.parse(v) as CaRecord);
  return { cas, next: entries.length > options.limit ? (cas.at(-1)?.ca ?? null) : null };
}

export function caRecord(state: OrderedStateReader, ca: string): CaRecord | undefined {
  return readCa(state, ca);
}

/** A device's record with its CA's status, and its link (iot device) or tariff (service device). */
export function deviceView(state: OrderedStateReader, deviceId: string): DeviceView | undefined {
  const device = readDevice(state, deviceId);
  if (!device) return undefined;
  const view: DeviceView = {
    device,
    caStatus: readCa(state, device.ca)?.status ?? 'revoked',
  };
  const link = device.role === 'iot-device' ? readLink(state, deviceId) : undefined;
  const tariff = device.role === 'service-device' ? readTariff(state, deviceId) : undefined;
  if (link) view.link = link;
  if (tariff) view.tariff = tariff;
  return view;
}

/** The devices an account owns, in deviceId order. */
export function listDevices(
  state: OrderedStateReader,
  owner: string,
  options: { after?: string; limit: number },
): DevicePage {
  checkLimit(options.limit);
  const prefix = iotKeys.deviceByOwnerPrefix(owner);
  const entries = state.range(
    prefix,
    options.limit + 1,
    options.after === undefined ? {} : { after: prefix + options.after },
  );
  const devices = entries
    .slice(0, options.limit)
    .map(([key]) => readDevice(state, key.slice(prefix.length)))
    .filter((d): d is DeviceRecord => d !== undefined);
  return {
    devices,
    next: entries.length > options.limit ? (devices.at(-1)?.deviceId ?? null) : null,
  };
}

/** A session as a reader sees it: `expired` past its hold's expiry, what is left of its hold. */
export function sessionView(
  state: OrderedStateReader,
  session: SessionRecord,
  height: number,
): SessionView {
  const expired = session.status === 'open' && height > session.expiresAtHeight;
  const text = state.get(ledgerKeys.hold(session.holdId));
  const open = session.status === 'open' && !expired && text !== undefined;
  return {
    ...session,
    status: expired ? 'expired' : session.status,
    remaining: open ? (JSON.parse(text) as HoldRecord).amount : '0',
  };
}

export interface SessionFilter {
  serviceDevice?: string;
  iotDevice?: string;
  payer?: string;
  status?: SessionStatus;
}

/**
 * Sessions matching the filter, in `<serviceDevice>/<sessionId>` order (the cursor's form), from
 * the narrowest index the filter names; at most `sessionScanMax` index entries are read per page,
 * so a page may hold fewer than `limit` sessions (even none) with `next` set.
 */
export function listSessions(
  state: OrderedStateReader,
  filter: SessionFilter,
  options: { after?: string; limit: number },
  height: number,
): SessionPage {
  checkLimit(options.limit);
  let prefix: string;
  let base: string;
  if (filter.serviceDevice !== undefined) {
    base = iotKeys.sessionPrefix;
    prefix = iotKeys.session(filter.serviceDevice, '');
  } else if (filter.iotDevice !== undefined) {
    base = prefix = iotKeys.sessionByIotPrefix(filter.iotDevice);
  } else if (filter.payer !== undefined) {
    base = prefix = iotKeys.sessionByPayerPrefix(filter.payer);
  } else {
    base = prefix = iotKeys.sessionPrefix;
  }
  const after = options.after === undefined ? undefined : base + options.after;
  const entries = state.range(
    prefix,
    sessionScanMax + 1,
    after === undefined || after < prefix ? {} : { after },
  );
  const sessions: SessionView[] = [];
  let cursor: string | null = null;
  let consumed = 0;
  for (const [key] of entries.slice(0, sessionScanMax)) {
    if (sessions.length === options.limit) break;
    consumed += 1;
    const suffix = key.slice(base.length);
    cursor = suffix;
    const slash = suffix.indexOf('/');
    const session = readSession(state, suffix.slice(0, slash), suffix.slice(slash + 1));
    if (!session) continue;
    const view = sessionView(state, session, height);
    if (filter.iotDevice !== undefined && view.iotDevice !== filter.iotDevice) continue;
    if (filter.payer !== undefined && view.payer !== filter.payer) continue;
    if (filter.status !== undefined && view.status !== filter.status) continue;
    sessions.push(view);
  }
  const more = entries.length > consumed;
  return { sessions, next: more ? cursor : null };
}

/** A session with its first bills' results (`sessionBillsMax`; `billsNext` is the next seq). */
export function sessionDetail(
  state: OrderedStateReader,
  serviceDevice: string,
  sessionId: string,
  height: number,
): SessionDetail | undefined {
  const session = readSession(state, serviceDevice, sessionId);
  if (!session) return undefined;
  const entries = state.range(iotKeys.billPrefix(serviceDevice, sessionId), sessionBillsMax + 1);
  const bills = entries.slice(0, sessionBillsMax).map(([, v]) => JSON.parse(v) as BillResult);
  return {
    session: sessionView(state, session, height),
    bills,
    billsNext: entries.length > sessionBillsMax ? sessionBillsMax + 1 : null,
  };
}

export function billResult(
  state: OrderedStateReader,
  serviceDevice: string,
  sessionId: string,
  seq: number,
): BillResult | undefined {
  return readBill(state, serviceDevice, sessionId, seq);
}
