import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseConfigFile, parseConfigValue, readJsonConfigFile } from '../../../cli/config-file.js';
import { readSmallFile } from '../../../cli/files.js';
import { isAddress } from '../../../crypto/index.js';
import {
  createCa,
  createServerCertificate,
  type KeyAndCertificate,
} from '../../iot/pki/certificates.js';
import { initGatewayDataDir } from '../../licensing/gateway/storage.js';
import { platformShareBpMax } from '../schema.js';
import { AuthorityConfigError, readKeyFile, writeNewKeyFile } from '../authority/config.js';

/*
 * `coffer print-server serve --config FILE`: the print server's configuration (docs/printing.md),
 * one JSON file parsed once at start and frozen; paths relative to the file. The data directory
 * (0700) holds, at fixed names:
 *
 *   server.key         the server's Coffer key (64 hex, 0600): sender of its txs, signer of serverProof
 *   ca.pem, ca.key     its CA (the key 0600): issues printers' client certificates and the CRL
 *   tls.pem, tls.key   its HTTPS certificate (for `hostNames`), issued by the CA
 *   designs/           the encrypted design store (the licensing gateway's store: master.key, content/)
 *   measures/          each stored design's line count, extent and body commands (no G-code)
 *   secrets/           one-time registration secrets, each a file named by the secret's SHA-256
 *   printers/          the printers it registered: id, certificate serial and fingerprint
 *   watermarks.jsonl   watermark id -> token, one line per print (for leak tracing)
 */

export const serverFiles = {
  key: 'server.key',
  caCertificate: 'ca.pem',
  caKey: 'ca.key',
  tlsCertificate: 'tls.pem',
  tlsKey: 'tls.key',
  designs: 'designs',
  measures: 'measures',
  secrets: 'secrets',
  printers: 'printers',
  watermarks: 'watermarks.jsonl',
  config: 'print-server.json',
} as const;

const address = z.string().refine(isAddress, 'must be a Coffer address (cof1...)');

export const printServerConfigSchema = z.strictObject({
  node: z.strictObject({ url: z.url() }),
  dataDir: z.string().min(1).max(4096),
  http: z
    .strictObject({
      host: z.string().min(1).max(253).default('127.0.0.1'),
      /** The public HTTPS port: health, registrations, design uploads (no client certificate). */
      port: z.number().int().min(0).max(65_535).default(8796),
      /** The mTLS port: prints and their reports (a printer's client certificate is required). */
      printsPort: z.number().int().min(0).max(65_535).default(8797),
      /** How printers reach the mTLS port, when not `https://<first host name>:<printsPort>`. */
      printsUrl: z.url().optional(),
      /** The names in the server certificate (`init` writes it); the first is the one in URLs. */
      hostNames: z
        .array(z.string().min(1).max(253))
        .min(1)
        .max(32)
        .default(['localhost', '127.0.0.1']),
    })
    .prefault({}),
  /** Hardware-id authorities whose ids this server registers (their addresses). */
  trustedAuthorities: z.array(address).max(64).default([]),
  /** The platform's share of each price this server agrees to, basis points. */
  platformShareBp: z.number().int().min(0).max(platformShareBpMax).default(1000),
  uploads: z
    .strictObject({
      /** One design's G-code; more is refused with 413 before it is read. */
      bytesMax: z
        .number()
        .int()
        .min(1)
        .max(64 * 1024 * 1024)
        .default(64 * 1024 * 1024),
      /** Designs uploaded but not listed on chain, per designer and in all. */
      pendingPerDesignerMax: z.number().int().min(1).max(1_000).default(4),
      /**
       * Designs uploaded but not listed, per client network (an IPv4 address, an IPv6 /64): a
       * fresh key does not reset it. Counted since the server started.
       */
      pendingPerAddressMax: z.number().int().min(1).max(1_000).default(4),
      /**
       * The slowest an upload may arrive: its deadline is 10 s plus its Content-Length at this
       * rate (64 MiB: about 4.5 minutes); a slower upload is cut.
       */
      floorBytesPerSecond: z
        .number()
        .int()
        .min(1024)
        .max(1024 ** 3)
        .default(256 * 1024),
      pendingTotalMax: z.number().int().min(1).max(100_000).default(64),
      /** Everything one designer stores here, and everything stored. */
      designerBytesMax: z
        .number()
        .int()
        .min(1)
        .max(2 ** 50)
        .default(4 * 1024 ** 3),
      storedBytesMax: z
        .number()
        .int()
        .min(1)
        .max(2 ** 50)
        .default(64 * 1024 ** 3),
      storedDesignsMax: z.number().int().min(1).max(10_000_000).default(100_000),
      /** An upload not listed on chain within this time is deleted. */
      pendingExpiryMs: z
        .number()
        .int()
        .min(1_000)
        .max(30 * 86_400_000)
        .default(86_400_000),
    })
    .prefault({}),
  limits: z
    .strictObject({
      /** Requests per client address per minute (public port; printers' reports included). */
      requestsPerMinutePerAddress: z.number().int().min(1).max(1_000_000).default(600),
      addressesMax: z.number().int().min(16).max(10_000_000).default(100_000),
      /**
       * Uploads received at once (each held in memory up to uploads.bytesMax); one at a time per
       * client network.
       */
      uploadsInFlightMax: z.number().int().min(1).max(64).default(2),
      /** Registrations at once (each a tx and a certificate). */
      registrationsInFlightMax: z.number().int().min(1).max(1_000).default(8),
      /** Print streams at once; more are answered 503 `busy` (before the token is redeemed). */
      streamsInFlightMax: z.number().int().min(1).max(100_000).default(64),
      /**
       * A print stream that writes no byte for this long (its printer reads none) is cut and its
       * slot freed. Longer than the printer may sit heating (the agent reads nothing meanwhile):
       * 10 minutes by default. One stream per printer at a time.
       */
      streamIdleMs: z.number().int().min(100).max(3_600_000).default(600_000),
      /** Registration secrets waiting to be used. */
      secretsMax: z.number().int().min(1).max(1_000_000).default(10_000),
      /** How often the chain is asked for this server's revoked printers (the CRL's refresh). */
      revocationPollMs: z.number().int().min(10).max(3_600_000).default(2_000),
      /** How long a client certificate is valid. */
      certificateDays: z
        .number()
        .int()
        .min(1)
        .max(5 * 366)
        .default(365),
    })
    .prefault({}),
});
export type PrintServerConfig = z.infer<typeof printServerConfigSchema>;

export class PrintServerConfigError extends Error {
  readonly code = 'invalid_config';
}

export function parsePrintServerConfig(
  value: unknown,
  base = process.cwd(),
): Readonly<PrintServerConfig> {
  const config = parseConfigValue(printServerConfigSchema, value, PrintServerConfigError);
  config.dataDir = path.resolve(base, config.dataDir);
  return Object.freeze(config);
}

export function loadPrintServerConfig(file: string): Readonly<PrintServerConfig> {
  const value = readJsonConfigFile(file, 256 * 1024, PrintServerConfigError);
  return parseConfigFile(file, value, parsePrintServerConfig, PrintServerConfigError);
}

function writeNew(file: string, text: string, secret: boolean): boolean {
  try {
    fs.writeFileSync(file, text, { flag: 'wx', mode: secret ? 0o600 : 0o644 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

export interface InitOptions {
  nodeUrl: string;
  hostNames?: string[];
  host?: string;
  port?: number;
  printsPort?: number;
  trustedAuthorities?: string[];
  platformShareBp?: number;
  /** The CA's name (its CN). */
  caName?: string;
}

/**
 * Creates the data directory (0700) with the server's key, CA, TLS certificate, design store and
 * config; never replaces a file that exists (a second `init` keeps everything and says so).
 */
export async function initPrintServerDataDir(
  dir: string,
  options: InitOptions,
): Promise<{ configFile: string; caFile: string; server: string; created: boolean }> {
  const root = path.resolve(dir);
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  const config = {
    node: { url: options.nodeUrl },
    dataDir: '.',
    http: {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 8796,
      printsPort: options.printsPort ?? 8797,
      hostNames: options.hostNames ?? ['localhost', '127.0.0.1'],
    },
    trustedAuthorities: options.trustedAuthorities ?? [],
    platformShareBp: options.platformShareBp ?? 1000,
  };
  const parsed = parsePrintServerConfig(config, root); // the file written is one `serve` takes
  const { key, created } = writeNewKeyFile(path.join(root, serverFiles.key), 'server.key');
  const caFile = path.join(root, serverFiles.caCertificate);
  if (!fs.existsSync(caFile)) {
    const ca = await createCa({
      name: options.caName ?? 'Coffer print server CA',
      organisation: printingOrganisation,
    });
    writeNew(path.join(root, serverFiles.caKey), ca.privateKeyPem, true);
    writeNew(caFile, ca.certificatePem, false);
  }
  if (!fs.existsSync(path.join(root, serverFiles.tlsCertificate))) {
    const tls = await createServerCertificate({
      ca: readCa(root),
      hostNames: parsed.http.hostNames,
      organisation: printingOrganisation,
      days: 5 * 365,
    });
    writeNew(path.join(root, serverFiles.tlsKey), tls.privateKeyPem, true);
    writeNew(path.join(root, serverFiles.tlsCertificate), tls.certificatePem, false);
  }
  initGatewayDataDir(path.join(root, serverFiles.designs));
  for (const sub of [serverFiles.secrets, serverFiles.printers]) {
    fs.mkdirSync(path.join(root, sub), { recursive: true, mode: 0o700 });
  }
  const configFile = path.join(root, serverFiles.config);
  writeNew(configFile, `${JSON.stringify(config, null, 2)}\n`, false);
  return { configFile, caFile, server: key.address, created };
}

/** The O of the print server's CA, server and printer certificates. */
export const printingOrganisation = 'Coffer Printing';

function readSecretPem(file: string, what: string): string {
  const read = readSmallFile(file, { bytesMax: 64 * 1024, secret: true });
  if ('problem' in read) throw new PrintServerConfigError(`${what}: ${read.problem}`);
  return read.text;
}

function readPem(file: string, what: string): string {
  const read = readSmallFile(file, { bytesMax: 64 * 1024 });
  if ('problem' in read) throw new PrintServerConfigError(`${what}: ${read.problem}`);
  return read.text;
}

export function readCa(dataDir: string): KeyAndCertificate {
  return {
    certificatePem: readPem(path.join(dataDir, serverFiles.caCertificate), 'ca.pem'),
    privateKeyPem: readSecretPem(path.join(dataDir, serverFiles.caKey), 'ca.key'),
  };
}

export function readTls(dataDir: string): KeyAndCertificate {
  return {
    certificatePem: readPem(path.join(dataDir, serverFiles.tlsCertificate), 'tls.pem'),
    privateKeyPem: readSecretPem(path.join(dataDir, serverFiles.tlsKey), 'tls.key'),
  };
}

export function readServerKey(dataDir: string) {
  try {
    return readKeyFile(path.join(dataDir, serverFiles.key), 'server.key');
  } catch (error) {
    if (error instanceof AuthorityConfigError) throw new PrintServerConfigError(error.message);
    throw error;
  }
}

/** 32 random bytes as hex: a registration secret or a printer id's body. */
export const randomHex = (bytes: number) => crypto.randomBytes(bytes).toString('hex');
