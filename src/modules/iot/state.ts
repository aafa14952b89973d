import { canonicalize, sha256Hex } from '../../crypto/index.js';
import type { StateReader, StateView } from '../../state/index.js';
import type {
  BillResult,
  CaRecord,
  DeviceRecord,
  LinkRecord,
  SessionRecord,
  TariffRecord,
} from './schema.js';

/**
 * The module's name and state namespace: every key below starts with `iot/`. Each record is one
 * bounded value (a mandate lists at most 32 merchants; a session's bills are records of their
 * own, at most 100,000); the indexes are empty values (or one id) under keys that sort the way
 * the routes list them.
 */
export const iotModuleName = 'iot';

const seqDigits = 6;

export const iotKeys = {
  ca: (ca: string) => `iot/ca/${ca}`,
  /** The CA last registered under a subject (hash of the DN): subjects are first-come while active. */
  caBySubject: (subject: string) =>
    `iot/ca-subject/${sha256Hex(new TextEncoder().encode(subject))}`,
  /** An operator's active CAs (at most `casPerOperatorMax`). */
  caActive: (operator: string, ca: string) => `iot/ca-active/${operator}/${ca}`,
  caActivePrefix: (operator: string) => `iot/ca-active/${operator}/`,
  device: (deviceId: string) => `iot/device/${deviceId}`,
  deviceByOwner: (owner: string, deviceId: string) => `iot/device-owner/${owner}/${deviceId}`,
  deviceByOwnerPrefix: (owner: string) => `iot/device-owner/${owner}/`,
  /** Every certificate ever enrolled, by fingerprint: a certificate is enrolled once. */
  fingerprint: (fingerprint: string) => `iot/fingerprint/${fingerprint}`,
  /**
   * Every (CA, serial) ever enrolled: a certificate re-encoded (a P-256 CA's signature as n - s)
   * has another fingerprint but the same issuer and serial, and enrols no more than the original.
   */
  serial: (ca: string, serial: string) =>
    `iot/serial/${ca}/${sha256Hex(new TextEncoder().encode(serial))}`,
  link: (iotDevice: string) => `iot/link/${iotDevice}`,
  tariff: (serviceDevice: string) => `iot/tariff/${serviceDevice}`,
  session: (serviceDevice: string, sessionId: string) =>
    `iot/session/${serviceDevice}/${sessionId}`,
  sessionPrefix: 'iot/session/',
  sessionByIot: (iotDevice: string, serviceDevice: string, sessionId: string) =>
    `iot/session-iot/${iotDevice}/${serviceDevice}/${sessionId}`,
  sessionByIotPrefix: (iotDevice: string) => `iot/session-iot/${iotDevice}/`,
  sessionByPayer: (payer: string, serviceDevice: string, sessionId: string) =>
    `iot/session-payer/${payer}/${serviceDevice}/${sessionId}`,
  sessionByPayerPrefix: (payer: string) => `iot/session-payer/${payer}/`,
  bill: (serviceDevice: string, sessionId: string, seq: number) =>
    `iot/bill/${serviceDevice}/${sessionId}/${String(seq).padStart(seqDigits, '0')}`,
  billPrefix: (serviceDevice: string, sessionId: string) =>
    `iot/bill/${serviceDevice}/${sessionId}/`,
  /** What an iot device's sessions hold on one UTC day, per wallet (the day cap). */
  day: (wallet: string, iotDevice: string, day: string) => `iot/day/${wallet}/${iotDevice}/${day}`,
};

function readJson<T>(state: StateReader, key: string): T | undefined {
  const text = state.get(key);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

function writeJson(state: StateView, key: string, value: unknown): void {
  state.set(key, canonicalize(value));
}

export function readCa(state: StateReader, ca: string): CaRecord | undefined {
  return readJson(state, iotKeys.ca(ca));
}

export function writeCa(state: StateView, record: CaRecord): void {
  writeJson(state, iotKeys.ca(record.ca), record);
}

export function readCaBySubject(state: StateReader, subject: string): string | undefined {
  return state.get(iotKeys.caBySubject(subject));
}

export function writeCaBySubject(state: StateView, subject: string, ca: string): void {
  state.set(iotKeys.caBySubject(subject), ca);
}

export function readDevice(state: StateReader, deviceId: string): DeviceRecord | undefined {
  return readJson(state, iotKeys.device(deviceId));
}

export function writeDevice(state: StateView, record: DeviceRecord): void {
  writeJson(state, iotKeys.device(record.deviceId), record);
  state.set(iotKeys.deviceByOwner(record.owner, record.deviceId), '1');
  state.set(iotKeys.fingerprint(record.fingerprint), record.deviceId);
}

export function fingerprintEnrolled(state: StateReader, fingerprint: string): boolean {
  return state.get(iotKeys.fingerprint(fingerprint)) !== undefined;
}

export function serialEnrolled(state: StateReader, ca: string, serial: string): boolean {
  return state.get(iotKeys.serial(ca, serial)) !== undefined;
}

export function writeSerial(state: StateView, ca: string, serial: string, deviceId: string): void {
  state.set(iotKeys.serial(ca, serial), deviceId);
}

export function readLink(state: StateReader, iotDevice: string): LinkRecord | undefined {
  return readJson(state, iotKeys.link(iotDevice));
}

export function writeLink(state: StateView, record: LinkRecord): void {
  writeJson(state, iotKeys.link(record.iotDevice), record);
}

export function deleteLink(state: StateView, iotDevice: string): void {
  state.delete(iotKeys.link(iotDevice));
}

export function readTariff(state: StateReader, serviceDevice: string): TariffRecord | undefined {
  return readJson(state, iotKeys.tariff(serviceDevice));
}

export function writeTariff(state: StateView, record: TariffRecord): void {
  writeJson(state, iotKeys.tariff(record.serviceDevice), record);
}

export function readSession(
  state: StateReader,
  serviceDevice: string,
  sessionId: string,
): SessionRecord | undefined {
  return readJson(state, iotKeys.session(serviceDevice, sessionId));
}

/** Writes a session and its indexes (by iot device, by payer). */
export function writeSession(state: StateView, record: SessionRecord): void {
  const { serviceDevice, sessionId } = record;
  writeJson(state, iotKeys.session(serviceDevice, sessionId), record);
  state.set(iotKeys.sessionByIot(record.iotDevice, serviceDevice, sessionId), '1');
  state.set(iotKeys.sessionByPayer(record.payer, serviceDevice, sessionId), '1');
}

export function readBill(
  state: StateReader,
  serviceDevice: string,
  sessionId: string,
  seq: number,
): BillResult | undefined {
  return readJson(state, iotKeys.bill(serviceDevice, sessionId, seq));
}

export function writeBill(state: StateView, record: BillResult): void {
  writeJson(state, iotKeys.bill(record.serviceDevice, record.sessionId, record.seq), record);
}

export function readDayReserved(
  state: StateReader,
  wallet: string,
  iotDevice: string,
  day: string,
): bigint {
  return BigInt(state.get(iotKeys.day(wallet, iotDevice, day)) ?? '0');
}

export function writeDayReserved(
  state: StateView,
  wallet: string,
  iotDevice: string,
  day: string,
  reserved: bigint,
): void {
  const key = iotKeys.day(wallet, iotDevice, day);
  if (reserved === 0n) state.delete(key);
  else state.set(key, reserved.toString());
}
