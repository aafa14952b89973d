import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { readSmallFile } from '../../../cli/files.js';
import { serviceClientId } from '../pki/certificates.js';

/*
 * `coffer iot serve --config FILE`: the payment service's configuration (docs/iot-operators.md),
 * one JSON file parsed once at start and frozen. Relative paths are relative to the file. Secrets
 * (the Coffer key, the MQTT client key) live in files of their own that no other user may read.
 */

const fileName = z.string().min(1).max(4096);

export const iotServiceConfigSchema = z.strictObject({
  /** The Coffer node the txs go to and the iot routes are read from. */
  node: z.strictObject({ url: z.url() }),
  /** The service's Coffer key (64 hex digits, mode 0600): the sender of the relayed txs. */
  keyFile: fileName,
  mqtt: z.strictObject({
    /** The broker: `mqtts://host:port` (TLS only, as the broker is configured). */
    url: z.string().regex(/^mqtts:\/\/[^\s/]{1,200}$/, 'mqtt.url must be mqtts://HOST:PORT'),
    /** The CA certificate(s) the broker's certificate chains to. */
    caFile: fileName,
    /** The service's client certificate: CN coffer-iot-service, OU service. */
    certFile: fileName,
    keyFile: fileName,
    /** The TLS server name checked against the broker's certificate. */
    servername: z.string().min(1).max(253).default('localhost'),
    /** The persistent session's client id: fixed, so unacknowledged messages wait for us. */
    clientId: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/)
      .default(serviceClientId),
  }),
  http: z
    .strictObject({
      host: z.string().min(1).max(253).default('127.0.0.1'),
      port: z.number().int().min(0).max(65_535).default(8791),
    })
    .prefault({}),
  limits: z
    .strictObject({
      /** HTTP messages relayed at once; more are answered 503 `busy`. */
      httpInFlightMax: z.number().int().min(1).max(1_024).default(64),
    })
    .prefault({}),
});
export type IotServiceConfig = z.infer<typeof iotServiceConfigSchema>;

/** A configuration or secret file that cannot be used: the service does not start. */
export class IotServiceConfigError extends Error {
  readonly code = 'invalid_config';
}

export function loadIotServiceConfig(file: string): Readonly<IotServiceConfig> {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new IotServiceConfigError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const parsed = iotServiceConfigSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new IotServiceConfigError(
      `${file}: ${issue.path.join('.') || '(top)'}: ${issue.message}`,
    );
  }
  const config = parsed.data;
  const base = path.dirname(path.resolve(file));
  const resolve = (name: string) => path.resolve(base, name);
  config.keyFile = resolve(config.keyFile);
  config.mqtt.caFile = resolve(config.mqtt.caFile);
  config.mqtt.certFile = resolve(config.mqtt.certFile);
  config.mqtt.keyFile = resolve(config.mqtt.keyFile);
  return Object.freeze(config);
}

/** Reads a file: a secret one is refused when group or others may read it. */
export function readConfigFile(file: string, what: string, secret: boolean): string {
  const read = readSmallFile(file, { bytesMax: 64 * 1024, secret });
  if ('problem' in read) throw new IotServiceConfigError(`${what}: ${read.problem}`);
  return read.text;
}
