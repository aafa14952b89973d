/*
 * A service device's session over MQTT, as the simulators run it: start, the bills, the end, each
 * published on the device's own topic and followed by its result before the next goes out (a
 * real charger would keep charging; waiting keeps the simulation's output in order).
 */
import type { IotResult } from '../service/messages.js';
import {
  billMessage,
  billsFor,
  endMessage,
  readingsOf,
  startMessage,
  type DeviceKey,
  type Tariff,
} from './billing.js';
import type { DeviceConnection } from './device.js';

export interface ServiceSessionOptions {
  chainId: string;
  device: DeviceConnection;
  key: DeviceKey;
  iotDevice: string;
  sessionId: string;
  authorisation: string;
  tariff: Tariff;
  meterStart: number;
  /** The usage of each bill, in the tariff's unit. */
  steps: readonly number[];
  /** Each bill's period; the session is back-dated so its last period ends now. */
  periodMs: number;
  /** How long to wait for each result. */
  resultTimeoutMs?: number;
  /** Sees each result as it arrives. */
  onResult?: (result: IotResult) => void;
  /** The wall clock (tests pass their own). */
  nowMs?: number;
}

export function sessionTopic(serviceDevice: string): string {
  return `coffer/iot/${serviceDevice}/sessions`;
}

export function billsTopic(serviceDevice: string): string {
  return `coffer/iot/${serviceDevice}/bills`;
}

/** Runs a session; stops early (without the end) when the chain refuses or caps a bill. */
export async function runServiceSession(options: ServiceSessionOptions): Promise<IotResult[]> {
  const { device, chainId, key, sessionId, tariff } = options;
  const serviceDevice = device.deviceId;
  const timeoutMs = options.resultTimeoutMs ?? 30_000;
  const results: IotResult[] = [];
  const take = async (kind: string, seq?: number) => {
    const result = await device.nextResult(
      (r) => r.kind === kind && r.sessionId === sessionId && (seq === undefined || r.seq === seq),
      timeoutMs,
    );
    results.push(result);
    options.onResult?.(result);
    return result;
  };
  const now = options.nowMs ?? Date.now();
  const startedAt = now - options.steps.length * options.periodMs;
  await device.publish(
    sessionTopic(serviceDevice),
    startMessage(
      chainId,
      {
        serviceDevice,
        iotDevice: options.iotDevice,
        sessionId,
        meterStart: options.meterStart,
        startedAt,
        authorisation: options.authorisation,
      },
      key,
    ),
  );
  if ((await take('start')).status !== 'started') return results;
  const readings = readingsOf(options.meterStart, options.steps);
  const bills = billsFor({
    serviceDevice,
    iotDevice: options.iotDevice,
    sessionId,
    tariff,
    readings,
    periodMs: options.periodMs,
    startedAt,
  });
  for (const bill of bills) {
    await device.publish(billsTopic(serviceDevice), billMessage(chainId, bill, key));
    const result = await take('bill', bill.seq);
    if (result.status !== 'paid') return results;
  }
  await device.publish(
    sessionTopic(serviceDevice),
    endMessage(
      chainId,
      { serviceDevice, sessionId, meterEnd: readings[readings.length - 1]!, endedAt: now },
      key,
    ),
  );
  await take('end');
  return results;
}
