import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { fromHex, generateKeyPair, keyPairFromSecret, toHex } from '../../../crypto/index.js';

/*
 * The SBC agent's data directory (docs/printing.md, "The SBC"): the device key that names the
 * board, the hardware id the authority issued for it, the printer's registration with its print
 * server (the mTLS client certificate and key, the server's CA) and the last print's outcome.
 * Nothing here ever holds G-code: the agent streams a print from the server's socket to the serial
 * port through bounded windows and writes none of it anywhere (test/printing-e2e.test.ts checks
 * this directory after a print).
 *
 * The directory is created owner-only (0700); the secrets (the device key, the client key) are
 * written 0600 whatever the umask, through a temporary file that is fsynced and renamed, so a
 * crash never leaves a half-written key.
 */

export const agentFiles = {
  deviceKey: 'device-key.json',
  identity: 'identity.json',
  registration: 'registration.json',
  profile: 'profile.json',
  clientCertificate: 'client-cert.pem',
  clientKey: 'client-key.pem',
  serverCa: 'server-ca.pem',
  lastPrint: 'last-print.json',
} as const;

/** A fault of the agent's own (its files, the servers it talks to), with a stable code. */
export class AgentError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface DeviceKey {
  /** The raw ed25519 public key, 64 hex digits: what the authority hashes into the hardware id. */
  publicKey: string;
  /** The RFC 8032 seed, 64 hex digits; never leaves this directory. */
  secretKey: string;
}

/** What the hardware-id authority answered, kept with where it came from. */
export interface AgentIdentity {
  hardwareId: string;
  authority: string;
  authorityUrl: string;
  txHash: string;
}

/** The printer's registration with its print server (the certificate and key are files beside). */
export interface AgentRegistration {
  printerId: string;
  clientId: string;
  serverUrl: string;
  /** The server's mTLS listener, where prints are redeemed and reported. */
  printsUrl: string;
  /** The print server's account (it signs the printer's txs). */
  server: string;
  owner: string;
  profileHash: string;
}

/** How the last print went (bounded: one record, no G-code). */
export interface LastPrint {
  tokenId: string;
  outcome: 'finished' | 'failed' | 'refused' | 'printing';
  linesSent: number;
  linesTotal: number;
  resends: number;
  percent: number;
  startedAt: string;
  endedAt?: string;
  error?: { code: string; message: string };
}

const hex64 = /^[0-9a-f]{64}$/;

function fsyncDirectory(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes `text` to `file` atomically with `mode` (0600 for secrets): a temporary file beside it,
 * chmodded (the umask cannot widen the mode, but a reused inode might keep another), fsynced and
 * renamed over `file`; `exclusive` refuses to replace an existing file (`file_exists`).
 */
export function writeAgentFile(
  file: string,
  text: string,
  options: { mode: 0o600 | 0o644; exclusive?: boolean },
): void {
  const temp = `${file}.tmp-${toHex(randomBytes(6))}`;
  const fd = fs.openSync(temp, 'wx', options.mode);
  try {
    try {
      fs.writeFileSync(fd, text);
      fs.fchmodSync(fd, options.mode);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (options.exclusive) {
      try {
        fs.linkSync(temp, file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new AgentError('file_exists', `${file} exists: it is kept`);
        }
        throw error;
      }
    } else {
      fs.renameSync(temp, file);
    }
  } finally {
    fs.rmSync(temp, { force: true });
  }
  fsyncDirectory(path.dirname(file));
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new AgentError('agent_not_ready', `${what} is missing: ${file}`);
    }
    throw error;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AgentError('agent_file_corrupt', `${file} is not JSON`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringField(record: Record<string, unknown>, field: string, file: string): string {
  const value = record[field];
  if (typeof value !== 'string' || value === '') {
    throw new AgentError('agent_file_corrupt', `${file}: ${field} is missing`);
  }
  return value;
}

/** The agent's directory: paths and typed reads and writes of its files. */
export class AgentDataDir {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  file(name: keyof typeof agentFiles): string {
    return path.join(this.dir, agentFiles[name]);
  }

  has(name: keyof typeof agentFiles): boolean {
    return fs.existsSync(this.file(name));
  }

  /**
   * Creates the directory (0700) and the device key in it, unless a key is there already (the
   * board keeps its one identity: a new key would be a new hardware id). Answers the key and
   * whether it was made now.
   */
  initDeviceKey(): { key: DeviceKey; created: boolean } {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    if (this.has('deviceKey')) return { key: this.deviceKey(), created: false };
    const pair = generateKeyPair();
    const key = { publicKey: toHex(pair.publicKey), secretKey: toHex(pair.secretKey) };
    writeAgentFile(this.file('deviceKey'), `${JSON.stringify(key, null, 2)}\n`, {
      mode: 0o600,
      exclusive: true,
    });
    return { key, created: true };
  }

  /** The device key, checked: the public key is the secret's. */
  deviceKey(): DeviceKey {
    const file = this.file('deviceKey');
    const record = readJson(file, 'the device key (run coffer print-agent init)');
    if (!isRecord(record)) throw new AgentError('agent_file_corrupt', `${file} is not an object`);
    const secretKey = stringField(record, 'secretKey', file);
    const publicKey = stringField(record, 'publicKey', file);
    if (!hex64.test(secretKey) || !hex64.test(publicKey)) {
      throw new AgentError('agent_file_corrupt', `${file}: the keys must be 64 hex digits`);
    }
    if (toHex(keyPairFromSecret(fromHex(secretKey, 'secretKey', 32)).publicKey) !== publicKey) {
      throw new AgentError('agent_file_corrupt', `${file}: publicKey is not the secret key's`);
    }
    return { publicKey, secretKey };
  }

  writeIdentity(identity: AgentIdentity): void {
    writeAgentFile(this.file('identity'), `${JSON.stringify(identity, null, 2)}\n`, {
      mode: 0o644,
    });
  }

  identity(): AgentIdentity {
    const file = this.file('identity');
    const record = readJson(file, 'the hardware id (run coffer print-agent init)');
    if (!isRecord(record)) throw new AgentError('agent_file_corrupt', `${file} is not an object`);
    return {
      hardwareId: stringField(record, 'hardwareId', file),
      authority: stringField(record, 'authority', file),
      authorityUrl: stringField(record, 'authorityUrl', file),
      txHash: stringField(record, 'txHash', file),
    };
  }

  /**
   * Keeps a registration: the client key (0600) and certificate, the server's CA, the profile
   * and the record. An existing registration is never replaced (`already_registered`): a
   * hardware id registers once on chain, and the key is the printer's only credential.
   */
  writeRegistration(input: {
    registration: AgentRegistration;
    profile: unknown;
    certificatePem: string;
    keyPem: string;
    caCertificatePem: string;
  }): void {
    if (this.has('registration')) {
      throw new AgentError(
        'already_registered',
        `${this.file('registration')} exists: this board is registered already`,
      );
    }
    writeAgentFile(this.file('clientKey'), input.keyPem, { mode: 0o600 });
    writeAgentFile(this.file('clientCertificate'), input.certificatePem, { mode: 0o644 });
    writeAgentFile(this.file('serverCa'), input.caCertificatePem, { mode: 0o644 });
    writeAgentFile(this.file('profile'), `${JSON.stringify(input.profile, null, 2)}\n`, {
      mode: 0o644,
    });
    // Last: its presence marks a complete registration.
    writeAgentFile(this.file('registration'), `${JSON.stringify(input.registration, null, 2)}\n`, {
      mode: 0o644,
      exclusive: true,
    });
  }

  registration(): AgentRegistration {
    const file = this.file('registration');
    const record = readJson(file, 'the registration (run coffer print-agent register)');
    if (!isRecord(record)) throw new AgentError('agent_file_corrupt', `${file} is not an object`);
    return {
      printerId: stringField(record, 'printerId', file),
      clientId: stringField(record, 'clientId', file),
      serverUrl: stringField(record, 'serverUrl', file),
      printsUrl: stringField(record, 'printsUrl', file),
      server: stringField(record, 'server', file),
      owner: stringField(record, 'owner', file),
      profileHash: stringField(record, 'profileHash', file),
    };
  }

  /** The mTLS material of a registered printer: its certificate and key, the server's CA. */
  tlsCredentials(): { cert: string; key: string; ca: string } {
    this.registration();
    return {
      cert: fs.readFileSync(this.file('clientCertificate'), 'utf8'),
      key: fs.readFileSync(this.file('clientKey'), 'utf8'),
      ca: fs.readFileSync(this.file('serverCa'), 'utf8'),
    };
  }

  writeLastPrint(last: LastPrint): void {
    writeAgentFile(this.file('lastPrint'), `${JSON.stringify(last, null, 2)}\n`, { mode: 0o644 });
  }

  lastPrint(): LastPrint | undefined {
    if (!this.has('lastPrint')) return undefined;
    return readJson(this.file('lastPrint'), 'the last print') as LastPrint;
  }
}
