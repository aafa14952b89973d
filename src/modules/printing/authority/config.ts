import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseConfigFile, parseConfigValue, readJsonConfigFile } from '../../../cli/config-file.js';
import { readSmallFile } from '../../../cli/files.js';
import { importKey, type SigningKey } from '../../../sdk/keys.js';

/*
 * `coffer print-authority serve`: the hardware-id authority's configuration, one JSON file (or
 * the command's options) parsed once at start and frozen. The authority's Coffer key lives in a
 * file of its own (64 hex digits, mode 0600): it is the sender of every `printing.hwid`.
 */

const fileName = z.string().min(1).max(4096);

export const authorityConfigSchema = z.strictObject({
  node: z.strictObject({ url: z.url() }),
  keyFile: fileName,
  http: z
    .strictObject({
      host: z.string().min(1).max(253).default('127.0.0.1'),
      port: z.number().int().min(0).max(65_535).default(8795),
      /** Behind a reverse proxy: the proxies whose `X-Forwarded-For` names the client. */
      trustedProxies: z.array(z.string().min(1).max(64)).max(16).default([]),
    })
    .prefault({}),
  /** Optional TLS (certificate and key PEM files); plain HTTP on loopback by default. */
  tls: z.strictObject({ certFile: fileName, keyFile: fileName }).optional(),
  limits: z
    .strictObject({
      /**
       * Requests per client address per minute: each costs a signature check and a chain read,
       * and a new id a tx, and a device key costs its maker nothing.
       */
      requestsPerMinutePerAddress: z.number().int().min(1).max(1_000_000).default(30),
      /** Client addresses whose budgets are held; the oldest go first. */
      addressesMax: z.number().int().min(16).max(10_000_000).default(100_000),
      /** Ids being issued at once (a tx each); more are answered 503 `busy`. */
      inFlightMax: z.number().int().min(1).max(10_000).default(64),
    })
    .prefault({}),
});
export type AuthorityConfig = z.infer<typeof authorityConfigSchema>;

/** A configuration or key file that cannot be used: the authority does not start. */
export class AuthorityConfigError extends Error {
  readonly code = 'invalid_config';
}

export function parseAuthorityConfig(
  value: unknown,
  base = process.cwd(),
): Readonly<AuthorityConfig> {
  const config = parseConfigValue(authorityConfigSchema, value, AuthorityConfigError);
  config.keyFile = path.resolve(base, config.keyFile);
  if (config.tls) {
    config.tls.certFile = path.resolve(base, config.tls.certFile);
    config.tls.keyFile = path.resolve(base, config.tls.keyFile);
  }
  return Object.freeze(config);
}

export function loadAuthorityConfig(file: string): Readonly<AuthorityConfig> {
  const value = readJsonConfigFile(file, 64 * 1024, AuthorityConfigError);
  return parseConfigFile(file, value, parseAuthorityConfig, AuthorityConfigError);
}

/** A Coffer key from a file of 64 hex digits that no other user may read. */
export function readKeyFile(file: string, what: string): SigningKey {
  const read = readSmallFile(file, { bytesMax: 1024, secret: true });
  if ('problem' in read) throw new AuthorityConfigError(`${what}: ${read.problem}`);
  const text = read.text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(text)) {
    throw new AuthorityConfigError(`${what}: ${file} must hold 64 hex digits`);
  }
  return importKey(text);
}

/**
 * Writes a new Coffer key (64 hex, mode 0600) to `file`; never replaces one. Answers the key (an
 * existing file's key when `file` exists, so `init` twice is harmless).
 */
export function writeNewKeyFile(file: string, what: string): { key: SigningKey; created: boolean } {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, `${crypto.randomBytes(32).toString('hex')}\n`, {
      flag: 'wx',
      mode: 0o600,
    });
    return { key: readKeyFile(file, what), created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      return { key: readKeyFile(file, what), created: false };
    }
    throw error;
  }
}

/**
 * `coffer print-authority init --dir DIR`: DIR/authority.key (0600) and DIR/authority.json (the
 * node, the port); an existing file is kept. Answers the files and the authority's address.
 */
export function initAuthority(
  dir: string,
  options: { nodeUrl: string; host?: string; port?: number },
): { configFile: string; keyFile: string; authority: string; created: boolean } {
  const keyFile = path.join(dir, 'authority.key');
  const config = {
    node: { url: options.nodeUrl },
    keyFile: 'authority.key',
    http: { host: options.host ?? '127.0.0.1', port: options.port ?? 8795 },
  };
  parseAuthorityConfig(config, dir); // the file written is one `serve` takes
  const { key, created } = writeNewKeyFile(keyFile, 'keyFile');
  const configFile = path.join(dir, 'authority.json');
  try {
    fs.writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`, {
      flag: 'wx',
      mode: 0o644,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return { configFile, keyFile, authority: key.address, created };
}
