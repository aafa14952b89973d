import fs from 'node:fs';
import path from 'node:path';
import { serviceClientId } from '../pki/certificates.js';

/*
 * The mosquitto 2 configuration issue 20 runs on (docs/iot-operators.md): one TLS listener on
 * loopback (or the host the operator names), client certificates required and their CN used as
 * the username, no anonymous clients, and the ACL below, which lets a device read only its own
 * results and write only its own sessions and bills. The tests write their broker's configuration
 * with this function too, so what is tested is what operators run.
 */

/** The broker ACL of the spec, word for word. `%u` is the username: the certificate's CN. */
export const brokerAcl = `user ${serviceClientId}
topic read coffer/iot/+/sessions
topic read coffer/iot/+/bills
topic write coffer/iot/+/results
pattern write coffer/iot/%u/sessions
pattern write coffer/iot/%u/bills
pattern read coffer/iot/%u/results
`;

/**
 * The broker's packet limit. Larger than the service's message limit (16 KiB) so that an
 * oversized message reaches the service, which drops it with a logged code; a packet past this
 * one makes mosquitto disconnect the client.
 */
export const brokerPacketBytesMax = 64 * 1024;
/** Messages queued for an offline persistent session (the service while it restarts). */
export const brokerQueuedMessagesMax = 10_000;

export interface BrokerConfigOptions {
  /** Where mosquitto.conf and acl are written. */
  dir: string;
  port: number;
  host?: string;
  /** The CA certificate(s) client certificates must chain to (one PEM file, several CAs allowed). */
  caFile: string;
  certFile: string;
  keyFile: string;
  /**
   * A directory for mosquitto's persistence file, so that queued messages for the service's
   * persistent session survive a broker restart; without it nothing is written to disk.
   */
  persistenceDir?: string;
  /**
   * When mosquitto starts as root it drops to this user (`mosquitto` by default), who must be able
   * to read the key file; `root` keeps it root (the tests, whose key files are root's 0600).
   */
  user?: string;
}

/** Writes `mosquitto.conf` and `acl` into `dir`; answers the configuration file's path. */
export function writeBrokerConfig(options: BrokerConfigOptions): string {
  if (!Number.isSafeInteger(options.port) || options.port < 1 || options.port > 65_535) {
    throw new Error(`port must be 1..65535, got ${options.port}`);
  }
  fs.mkdirSync(options.dir, { recursive: true });
  const aclFile = path.join(options.dir, 'acl');
  fs.writeFileSync(aclFile, brokerAcl);
  const lines = [
    '# Coffer IoT broker (docs/iot-operators.md). Written by writeBrokerConfig.',
    'per_listener_settings false',
    ...(options.user === undefined ? [] : [`user ${options.user}`]),
    `listener ${options.port} ${options.host ?? '127.0.0.1'}`,
    'protocol mqtt',
    `cafile ${path.resolve(options.caFile)}`,
    `certfile ${path.resolve(options.certFile)}`,
    `keyfile ${path.resolve(options.keyFile)}`,
    'tls_version tlsv1.3',
    'require_certificate true',
    'use_identity_as_username true',
    'allow_anonymous false',
    `acl_file ${aclFile}`,
    `max_packet_size ${brokerPacketBytesMax}`,
    `max_queued_messages ${brokerQueuedMessagesMax}`,
    ...(options.persistenceDir === undefined
      ? ['persistence false']
      : ['persistence true', `persistence_location ${path.resolve(options.persistenceDir)}/`]),
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'connection_messages true',
    '',
  ];
  const configFile = path.join(options.dir, 'mosquitto.conf');
  fs.writeFileSync(configFile, lines.join('\n'));
  return configFile;
}
