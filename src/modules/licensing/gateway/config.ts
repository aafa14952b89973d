import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { parseConfigFile, parseConfigValue } from '../../../cli/config-file.js';

/*
 * `coffer content gateway serve --config FILE`: the content gateway's configuration
 * (docs/licensing-gateway.md), one JSON file parsed once at start and frozen. Relative paths are
 * relative to the file. The master key lives in the data directory, mode 0600.
 */

const cidrPattern = /^[0-9a-fA-F:.]{2,45}\/\d{1,3}$/;

export const territoryRuleSchema = z.strictObject({
  /** An IPv4 or IPv6 block: `10.1.0.0/16`, `2001:db8::/32`. */
  cidr: z.string().regex(cidrPattern, 'cidr must be ADDRESS/PREFIX'),
  /** ISO 3166-1 alpha-2. */
  country: z.string().regex(/^[A-Z]{2}$/, 'country must be ISO 3166-1 alpha-2 (two capitals)'),
});
export type TerritoryRule = z.infer<typeof territoryRuleSchema>;

export const gatewayConfigSchema = z.strictObject({
  /** The Coffer node whose state every request is checked against. */
  node: z.strictObject({ url: z.url() }),
  /** Where the master key and the encrypted content live. */
  dataDir: z.string().min(1).max(4096),
  http: z
    .strictObject({
      host: z.string().min(1).max(253).default('127.0.0.1'),
      port: z.number().int().min(0).max(65_535).default(8792),
      /**
       * Behind a reverse proxy, the client address comes from `X-Forwarded-For` set by these
       * proxies only (Fastify's trustProxy); empty: the socket's address, nothing else.
       */
      trustedProxies: z.array(z.string().min(1).max(64)).max(16).default([]),
    })
    .prefault({}),
  /**
   * Client address -> country, first match wins (most specific first is the operator's job).
   * An address in no block has no territory: a licence with a `spatial` constraint refuses it.
   */
  territories: z.array(territoryRuleSchema).max(10_000).default([]),
  uploads: z
    .strictObject({
      /** One upload's body; the route refuses more with 413 before reading it all. */
      bytesMax: z
        .number()
        .int()
        .min(1)
        .max(2 ** 34)
        .default(64 * 1024 * 1024),
      /** Uploads not yet registered on chain, per owner. */
      pendingPerOwnerMax: z.number().int().min(1).max(1_000).default(4),
      /**
       * Uploads not yet registered, all owners together, and their bytes: keys cost nothing, so
       * the per-owner bound alone would not keep a crowd of fresh keys from filling the disk.
       */
      pendingTotalMax: z.number().int().min(1).max(100_000).default(64),
      pendingBytesMax: z
        .number()
        .int()
        .min(1)
        .max(2 ** 40)
        .default(1024 * 1024 * 1024),
      /**
       * Everything one owner may have stored here, registered or not. Registering costs a tx and
       * txs cost nothing on a chain without fees: without this, one key could upload, register
       * and upload again until the disk is full.
       */
      ownerBytesMax: z
        .number()
        .int()
        .min(1)
        .max(2 ** 50)
        .default(4 * 1024 * 1024 * 1024),
      /**
       * Everything stored here, all owners together: past it the gateway takes no more uploads
       * (a crowd of keys can then block uploads, never fill the disk).
       */
      storedBytesMax: z
        .number()
        .int()
        .min(1)
        .max(2 ** 50)
        .default(64 * 1024 * 1024 * 1024),
      /**
       * Contents one owner may have here, and all owners together: bytes alone would let a key
       * store millions of one-byte contents (a directory and a record each).
       */
      ownerContentsMax: z.number().int().min(1).max(10_000_000).default(1_000),
      storedContentsMax: z.number().int().min(1).max(10_000_000).default(100_000),
      /** An upload not registered on chain within this time is deleted. */
      pendingExpiryMs: z
        .number()
        .int()
        .min(1_000)
        .max(7 * 86_400_000)
        .default(3_600_000),
      /**
       * When set, an owner must hold at least this much of `asset` (minor units, a decimal
       * string) to upload: a fresh key with no funds uploads nothing.
       */
      minimumBalance: z
        .strictObject({
          asset: z.string().regex(/^[A-Z][A-Z0-9]{0,11}$/, 'asset must be an asset symbol'),
          amount: z.string().regex(/^[1-9]\d{0,38}$/, 'amount must be a positive integer string'),
        })
        .optional(),
      /** When set, only these addresses may upload (the operator's own publishers). */
      allowedOwners: z.array(z.string().min(1).max(100)).max(10_000).optional(),
    })
    .prefault({}),
  tokens: z
    .strictObject({
      /** An access token's life; at most 5 minutes (the spec's bound). */
      ttlMs: z.number().int().min(1_000).max(300_000).default(300_000),
    })
    .prefault({}),
  usage: z
    .strictObject({
      /** Counted uses are sent as `licence.usage`, one tx per agreement, this often. */
      flushIntervalMs: z.number().int().min(10).max(3_600_000).default(10_000),
    })
    .prefault({}),
  limits: z
    .strictObject({
      /**
       * How long the node's latest height is reused before it is asked again. Below the node's
       * block interval (100 ms by default), so a revocation stops serving within one block.
       */
      heightFreshMs: z.number().int().min(0).max(10_000).default(50),
      /** Agreements and content records held (per height); the oldest go first. */
      cacheEntriesMax: z.number().int().min(16).max(1_000_000).default(10_000),
      /** Agreements with uses counted but not yet sent; more are answered 503 `busy`. */
      pendingAgreementsMax: z.number().int().min(1).max(1_000_000).default(10_000),
      /** Token requests remembered (replay guard) for their 5-minute window. */
      replayEntriesMax: z.number().int().min(16).max(10_000_000).default(100_000),
      /**
       * Of those, one licensee's key (only requests that got a token are remembered): one key
       * with a free agreement cannot fill the guard for everyone. More are 429 `rate_limited`.
       */
      replayEntriesPerLicenseeMax: z.number().int().min(1).max(1_000_000).default(1_000),
      /**
       * Token requests and uploads per client address per minute (a token bucket): each costs
       * the node a read or two, and a signature costs the sender nothing.
       */
      requestsPerMinutePerAddress: z.number().int().min(1).max(1_000_000).default(600),
      /** Client addresses whose buckets are held; the oldest go first. */
      addressesMax: z.number().int().min(16).max(10_000_000).default(100_000),
      /** Requests for content bytes in progress; more are answered 503 `busy`. */
      streamsInFlightMax: z.number().int().min(1).max(100_000).default(256),
      /** Uploads being received at once (each is held in memory up to uploads.bytesMax). */
      uploadsInFlightMax: z.number().int().min(1).max(64).default(2),
      /** Of those, from one client address (one address cannot hold every slot). */
      uploadsInFlightPerAddressMax: z.number().int().min(1).max(64).default(1),
    })
    .prefault({}),
});
export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

/** A configuration or key file that cannot be used: the gateway does not start. */
export class GatewayConfigError extends Error {
  readonly code = 'invalid_config';
}

export function parseGatewayConfig(value: unknown, base = process.cwd()): Readonly<GatewayConfig> {
  const config = parseConfigValue(gatewayConfigSchema, value, GatewayConfigError);
  config.dataDir = path.resolve(base, config.dataDir);
  for (const [index, rule] of config.territories.entries()) {
    try {
      parseCidr(rule.cidr);
    } catch (error) {
      throw new GatewayConfigError(`territories.${index}.cidr: ${(error as Error).message}`);
    }
  }
  return Object.freeze(config);
}

export function loadGatewayConfig(file: string): Readonly<GatewayConfig> {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new GatewayConfigError(`cannot read ${file}: ${(error as Error).message}`);
  }
  return parseConfigFile(file, value, parseGatewayConfig, GatewayConfigError);
}

function parseCidr(cidr: string): { family: 'ipv4' | 'ipv6'; address: string; prefix: number } {
  const [address, prefixText] = cidr.split('/') as [string, string];
  const family = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : undefined;
  if (!family) throw new Error(`${address} is not an IP address`);
  const prefix = Number(prefixText);
  if (prefix > (family === 'ipv4' ? 32 : 128)) throw new Error(`prefix /${prefix} is too long`);
  return { family, address, prefix };
}

/** Client address -> country by the config's CIDR map (IPv4-mapped IPv6 is read as IPv4). */
export function createTerritoryMap(
  rules: readonly TerritoryRule[],
): (ip: string) => string | undefined {
  const blocks = new net.BlockList();
  const lists = rules.map((rule) => {
    const { family, address, prefix } = parseCidr(rule.cidr);
    const list = new net.BlockList();
    list.addSubnet(address, prefix, family);
    blocks.addSubnet(address, prefix, family);
    return { list, country: rule.country };
  });
  return (ip) => {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
    const address = mapped ? mapped[1]! : ip;
    const family = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : undefined;
    if (!family || !blocks.check(address, family)) return undefined;
    return lists.find((entry) => entry.list.check(address, family))?.country;
  };
}
