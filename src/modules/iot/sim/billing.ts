/*
 * What a service device computes and signs (docs/iot-spec, "Signed messages"): the IoT device's
 * authorisation, the session start, each bill with its meter readings and amount, the end. The
 * amount rule is the chain's: price(u) = floor(u * unitPrice / unitsPer) and a bill is
 * price(usage so far) - price(usage before), so a session's bills sum to the price of its total.
 */
import type { KeyObject } from 'node:crypto';
import { signIotRequest } from '../crypto.js';

export interface Tariff {
  unit: string;
  /** Minor units per `unitsPer` units, as a decimal string. */
  unitPrice: string;
  unitsPer: number;
}

export type DeviceKey = KeyObject | string;

export function price(usage: bigint, tariff: Tariff): bigint {
  return (usage * BigInt(tariff.unitPrice)) / BigInt(tariff.unitsPer);
}

/** The IoT device's consent to a session: given to the service device out of band (NFC, BLE). */
export function authorise(
  chainId: string,
  fields: { serviceDevice: string; iotDevice: string; sessionId: string },
  iotDeviceKey: DeviceKey,
): string {
  return signIotRequest('authorise', chainId, fields, iotDeviceKey);
}

export interface StartFields {
  serviceDevice: string;
  iotDevice: string;
  sessionId: string;
  meterStart: number;
  startedAt: number;
  authorisation: string;
}

export function startMessage(chainId: string, start: StartFields, key: DeviceKey) {
  return { start, signature: signIotRequest('start', chainId, { ...start }, key) };
}

export interface BillFields {
  serviceDevice: string;
  iotDevice: string;
  sessionId: string;
  seq: number;
  detail: {
    usage: number;
    unit: string;
    unitPrice: string;
    meterStart: number;
    meterEnd: number;
    period: { from: number; to: number };
  };
  amount: string;
}

export function billMessage(chainId: string, bill: BillFields, key: DeviceKey) {
  return { bill, signature: signIotRequest('bill', chainId, { ...bill }, key) };
}

export interface EndFields {
  serviceDevice: string;
  sessionId: string;
  meterEnd: number;
  endedAt: number;
}

export function endMessage(chainId: string, end: EndFields, key: DeviceKey) {
  return { end, signature: signIotRequest('end', chainId, { ...end }, key) };
}

/**
 * A session's bills from its meter readings: reading 0 is the meter at the start, each later one
 * closes a bill whose period is `periodMs` long, the last ending at `endAt`.
 */
export function billsFor(options: {
  serviceDevice: string;
  iotDevice: string;
  sessionId: string;
  tariff: Tariff;
  readings: readonly number[];
  periodMs: number;
  startedAt: number;
  firstSeq?: number;
}): BillFields[] {
  const { readings, tariff } = options;
  const bills: BillFields[] = [];
  const first = readings[0];
  if (first === undefined) return bills;
  for (let i = 1; i < readings.length; i++) {
    const meterStart = readings[i - 1]!;
    const meterEnd = readings[i]!;
    const before = price(BigInt(meterStart - first), tariff);
    const after = price(BigInt(meterEnd - first), tariff);
    const from = options.startedAt + (i - 1) * options.periodMs;
    bills.push({
      serviceDevice: options.serviceDevice,
      iotDevice: options.iotDevice,
      sessionId: options.sessionId,
      seq: (options.firstSeq ?? 1) + i - 1,
      detail: {
        usage: meterEnd - meterStart,
        unit: tariff.unit,
        unitPrice: tariff.unitPrice,
        meterStart,
        meterEnd,
        period: { from, to: from + options.periodMs },
      },
      amount: (after - before).toString(),
    });
  }
  return bills;
}

/** The service devices the simulators play, with a plausible tariff and meter for each. */
export const simulatorProfiles = {
  /** An EV charger: energy in Wh, 0.30 per kWh (30 minor units per 1000 Wh), up to 22 kW. */
  charger: {
    tariff: { unit: 'Wh', unitPrice: '30', unitsPer: 1_000 },
    maxRatePerHour: 22_000,
    meterStart: 1_254_300,
    steps: [3_500, 4_200, 3_900],
  },
  /** A parking meter: minutes, 2.40 an hour (4 minor units a minute). */
  parking: {
    tariff: { unit: 'min', unitPrice: '4', unitsPer: 1 },
    maxRatePerHour: 60,
    meterStart: 0,
    steps: [15, 15, 10],
  },
  /** A rental scooter: metres ridden, 0.20 per km (20 minor units per 1000 m), up to 25 km/h. */
  scooter: {
    tariff: { unit: 'm', unitPrice: '20', unitsPer: 1_000 },
    maxRatePerHour: 25_000,
    meterStart: 88_120,
    steps: [1_800, 2_400, 950],
  },
} as const;

export type SimulatorProfileName = keyof typeof simulatorProfiles;

/** Meter readings from a start value and the usage of each bill. */
export function readingsOf(meterStart: number, steps: readonly number[]): number[] {
  const readings = [meterStart];
  for (const step of steps) readings.push(readings[readings.length - 1]! + step);
  return readings;
}
