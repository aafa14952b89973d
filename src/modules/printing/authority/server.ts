/*
 * The hardware-id authority (issue 23, docs/printing.md): the first server an SBC meets. The SBC
 * presents its device key (ed25519) and a signature of a fresh request with it; the authority
 * records `printing.hwid {hardwareId, deviceKeyHash}` on chain from its own key and answers the
 * id. One device key has one id per authority (`hardwareIdOf(authority, deviceKeyHash)`, the
 * chain recomputes it from the sender), so asking again answers the recorded id and sends
 * nothing: the chain is the authority's only memory.
 *
 *   POST /v1/hwids      {deviceKey, timestamp, signature} -> {hardwareId, txHash, authority}
 *   GET  /v1/authority  {authority, chainId}
 *   GET  /health
 */
import fs from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { fromHex, isWeakPublicKey } from '../../../crypto/index.js';
import type { SigningKey } from '../../../sdk/keys.js';
import { deviceKeyHashOf, hardwareIdOf } from '../schema.js';
import { createPrintChain, type PrintChain } from '../server/chain.js';
import {
  commonHttpErrors,
  createRateLimiter,
  installErrorHandler,
  invalidRequest,
  jsonLog,
  orClose,
  Refusal,
  type HttpLog,
} from '../server/http.js';
import { AuthorityConfigError, readKeyFile, type AuthorityConfig } from './config.js';
import {
  deviceKeyPattern,
  hwidRequestMessage,
  requestSkewMs,
  signatureHexPattern,
  verifyMessageHex,
} from './messages.js';

/** Every code the authority answers, with its HTTP status. */
export const authorityErrors = {
  ...commonHttpErrors,
  request_stale: 401,
  signature_invalid: 401,
  device_key_invalid: 400,
  /** The id is recorded on chain for another key or authority (a SHA-256 prefix collision). */
  hwid_conflict: 409,
  /** The chain refused the `printing.hwid` (its code is in the message). */
  hwid_refused: 422,
} as const;
export type AuthorityErrorCode = keyof typeof authorityErrors;

const requestBytesMax = 2 * 1024;

const hwidRequestSchema = z.strictObject({
  deviceKey: z.string().regex(deviceKeyPattern, 'deviceKey must be 64 lowercase hex digits'),
  timestamp: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  signature: z.string().regex(signatureHexPattern, 'signature must be 128 lowercase hex digits'),
});

export interface HwidAnswer {
  hardwareId: string;
  txHash: string;
  authority: string;
}

export interface AuthorityStats {
  issued: number;
  answeredRecorded: number;
  refused: number;
}

export interface HwidAuthority {
  app: FastifyInstance;
  address: string;
  chain: PrintChain;
  stats: AuthorityStats;
  close(): Promise<void>;
}

export interface AuthorityOptions {
  /** The signing key (tests); read from `config.keyFile` otherwise. */
  key?: SigningKey;
  chain?: PrintChain;
  now?: () => number;
  log?: HttpLog;
}

export async function createAuthority(
  config: Readonly<AuthorityConfig>,
  options: AuthorityOptions = {},
): Promise<HwidAuthority> {
  const now = options.now ?? (() => Date.now());
  const log = options.log ?? jsonLog;
  const key = options.key ?? readKeyFile(config.keyFile, 'keyFile');
  const chain = options.chain ?? createPrintChain(config.node.url, key);
  const stats: AuthorityStats = { issued: 0, answeredRecorded: 0, refused: 0 };
  const spend = createRateLimiter({
    perMinute: config.limits.requestsPerMinutePerAddress,
    addressesMax: config.limits.addressesMax,
    now,
  });
  /** Requests being served, by device key: the same key twice at once shares one tx. */
  const inFlight = new Map<string, Promise<{ answer: HwidAnswer; created: boolean }>>();

  const tls = config.tls
    ? {
        https: {
          cert: fs.readFileSync(config.tls.certFile),
          key: fs.readFileSync(config.tls.keyFile),
        },
      }
    : {};
  const app = Fastify({
    logger: false,
    bodyLimit: requestBytesMax,
    trustProxy: config.http.trustedProxies.length > 0 ? config.http.trustedProxies : false,
    ...tls,
  }) as unknown as FastifyInstance;
  installErrorHandler(app, authorityErrors, log, () => stats.refused++);

  app.get('/health', () => ({
    status: 'ok',
    authority: key.address,
    inFlight: inFlight.size,
    ...stats,
  }));
  app.get('/v1/authority', async () => ({
    authority: key.address,
    chainId: await chain.chainId(),
  }));

  async function issue(deviceKey: string): Promise<{ answer: HwidAnswer; created: boolean }> {
    const deviceKeyHash = deviceKeyHashOf(deviceKey);
    const hardwareId = hardwareIdOf(key.address, deviceKeyHash);
    const recorded = async () => {
      const record = await chain.hwid(hardwareId);
      if (!record) return undefined;
      if (record.authority !== key.address || record.deviceKeyHash !== deviceKeyHash) {
        throw new Refusal('hwid_conflict', 'this hardware id is recorded for another device key');
      }
      return { hardwareId, txHash: record.tx, authority: key.address };
    };
    const known = await recorded();
    if (known) return { answer: known, created: false };
    const outcome = await chain.submit('printing.hwid', { hardwareId, deviceKeyHash });
    if (outcome.status === 'ok') {
      log('info', 'hwid_issued', { hardwareId, tx: outcome.tx });
      return { answer: { hardwareId, txHash: outcome.tx, authority: key.address }, created: true };
    }
    if (outcome.code === 'hwid_exists') {
      // Recorded meanwhile (another instance of this authority, or a retry): answer that one.
      const raced = await recorded();
      if (raced) return { answer: raced, created: false };
    }
    throw new Refusal(
      'hwid_refused',
      `the chain refused printing.hwid: ${outcome.code}: ${outcome.message}`,
    );
  }

  app.post('/v1/hwids', async (request, reply) => {
    spend(request.ip);
    const parsed = hwidRequestSchema.safeParse(request.body);
    if (!parsed.success) throw invalidRequest(parsed.error.issues);
    const { deviceKey, timestamp, signature } = parsed.data;
    if (Math.abs(now() - timestamp) > requestSkewMs) {
      throw new Refusal('request_stale', 'timestamp must be Unix ms within 5 minutes of now');
    }
    if (isWeakPublicKey(fromHex(deviceKey))) {
      throw new Refusal('device_key_invalid', 'deviceKey is not a usable ed25519 public key');
    }
    const message = hwidRequestMessage({ authority: key.address, deviceKey, timestamp });
    if (!verifyMessageHex(signature, message, deviceKey)) {
      throw new Refusal(
        'signature_invalid',
        "signature is not the device key's signature of this request for this authority",
      );
    }
    let pending = inFlight.get(deviceKey);
    // A request that joins one in flight for the same key waits for its tx: the id is not new to it.
    const joined = pending !== undefined;
    if (!pending) {
      if (inFlight.size >= config.limits.inFlightMax) {
        throw new Refusal('busy', 'too many ids being issued: retry shortly');
      }
      pending = issue(deviceKey).finally(() => inFlight.delete(deviceKey));
      inFlight.set(deviceKey, pending);
    }
    const outcome = await pending;
    const answer = outcome.answer;
    const created = outcome.created && !joined;
    if (created) stats.issued++;
    else stats.answeredRecorded++;
    return reply
      .code(created ? 201 : 200)
      .header('cache-control', 'no-store')
      .send(answer);
  });

  await app.ready();
  return { app, address: key.address, chain, stats, close: () => app.close() };
}

export interface RunningAuthority {
  url: string;
  /** The authority's address: the account its `printing.hwid` txs come from. */
  authority: string;
  server: HwidAuthority;
  close(): Promise<void>;
}

/** Starts the authority and listens; fails early when the node cannot be reached. */
export async function startAuthority(
  config: Readonly<AuthorityConfig>,
  options: AuthorityOptions = {},
): Promise<RunningAuthority> {
  const server = await createAuthority(config, options);
  await orClose(
    server,
    () => server.chain.chainId(),
    (error) => new AuthorityConfigError(`node.url ${config.node.url}: ${(error as Error).message}`),
  );
  const url = await server.app.listen({ host: config.http.host, port: config.http.port });
  return { url, authority: server.address, server, close: () => server.close() };
}
