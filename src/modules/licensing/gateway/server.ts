/*
 * The content gateway (docs/licensing-gateway.md): an HTTP server (Fastify) beside a Coffer node
 * that stores content encrypted, issues access tokens for valid agreements and streams the bytes
 * those tokens allow, checking the chain's current state on every request.
 *
 *   POST /v1/gateway/uploads   the owner's signed upload -> {contentId, publicKey, size, mediaType}
 *   POST /v1/gateway/tokens    the licensee's signed request -> an access token (counts one use)
 *   GET  /content/{contentId}  the bytes (Range: 206/416; 200 whole), header or URL mode
 *   GET  /health
 *
 * Every refusal is `{error: {code, message}}` with a code of `gatewayErrors`. Nothing secret is
 * logged: not keys, not tokens, not signatures.
 */
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { addressFromPublicKey, isAddress, publicKeyFromAddress } from '../../../crypto/index.js';
import { permissionOf, usageDecision, type Action, type UsageRefusal } from '../policy.js';
import { mediaTypePattern, registrationMessage } from '../schema.js';
import { createGatewayChain, ChainUnavailableError, type GatewayChain } from './chain.js';
import { createTerritoryMap, GatewayConfigError, type GatewayConfig } from './config.js';
import {
  agreementIdPattern,
  contentIdPattern,
  devicePattern,
  gatewayActions,
  isServedAction,
  parsePopHeader,
  popMessage,
  publicKeyPattern,
  signHex,
  signaturePattern,
  tokenRequestMessage,
  uploadAuthorisationMessage,
  uploadMessage,
  urlPopMessage,
  verifyHex,
} from './messages.js';
import { parseRange } from './range.js';
import {
  GatewayStoreError,
  gatewayAccountOf,
  openContentStore,
  type ContentMeta,
  type ContentStore,
} from './storage.js';
import {
  cnfKeyHex,
  issueAccessToken,
  jwkOf,
  verifyAccessToken,
  type AccessClaims,
} from './tokens.js';
import { UsageLedger, type UsageLog } from './usage.js';

/** How far a signed request's time may be from the gateway's clock. */
const requestSkewMs = 5 * 60_000;
/** A header-mode proof of possession is fresh this long. */
const popSkewMs = 60_000;
const tokenRequestBytesMax = 4 * 1024;
const sweepIntervalMs = 60_000;
/** The longest an upload may take to arrive (64 MiB at ~250 KiB/s). */
const uploadReceiveMs = 5 * 60_000;

/** Every code the gateway answers with, and its HTTP status (docs/licensing-gateway.md). */
export const gatewayErrors = {
  invalid_request: 400,
  token_missing: 401,
  token_invalid: 401,
  token_expired: 401,
  pop_invalid: 401,
  token_key_mismatch: 401,
  signature_invalid: 401,
  request_stale: 401,
  request_replayed: 401,
  owner_not_allowed: 403,
  owner_unfunded: 403,
  agreement_revoked: 403,
  parent_invalid: 403,
  action_not_permitted: 403,
  action_prohibited: 403,
  action_not_served: 403,
  not_yet_valid: 403,
  agreement_expired: 403,
  territory_not_allowed: 403,
  device_limit_reached: 403,
  count_exhausted: 403,
  content_not_found: 404,
  agreement_not_found: 404,
  not_found: 404,
  content_exists: 409,
  length_required: 411,
  upload_too_large: 413,
  range_not_satisfiable: 416,
  pending_uploads_exceeded: 429,
  rate_limited: 429,
  storage_quota_exceeded: 429,
  content_corrupt: 500,
  internal_error: 500,
  chain_unavailable: 503,
  busy: 503,
} as const satisfies Record<string, number> & Record<UsageRefusal, number>;
export type GatewayErrorCode = keyof typeof gatewayErrors;

class Refusal extends Error {
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const refusalMessages: Record<UsageRefusal, string> = {
  agreement_revoked: 'the agreement was revoked on chain',
  parent_invalid: 'the parent licence of this sublicence no longer allows this action',
  action_not_permitted: 'the agreement does not permit this action',
  action_prohibited: 'the agreement prohibits this action',
  not_yet_valid: 'the agreement is not valid yet',
  agreement_expired: 'the agreement has expired',
  territory_not_allowed: 'the agreement does not cover the territory of this client address',
  device_limit_reached: 'the agreement allows no more devices (or this one needs a device id)',
  count_exhausted: 'the agreement has no uses of this action left',
};

const tokenRequestSchema = z.strictObject({
  agreementId: z.string().regex(agreementIdPattern),
  action: z.enum(gatewayActions),
  device: z.string().regex(devicePattern).optional(),
  time: z.number().int().min(0),
  publicKey: z.string().regex(publicKeyPattern),
  signature: z.string().regex(signaturePattern),
});

export interface GatewayStats {
  uploads: number;
  tokens: number;
  servedRequests: number;
  servedBytes: number;
  refused: number;
}

export interface Gateway {
  app: FastifyInstance;
  store: ContentStore;
  chain: GatewayChain;
  usage: UsageLedger;
  stats: GatewayStats;
  /** Sends pending uses now (the timer does it every `usage.flushIntervalMs`). */
  flushUsage(): Promise<void>;
  /** Marks uploads registered on chain, deletes expired ones. */
  sweepUploads(): Promise<void>;
  close(): Promise<void>;
}

export interface GatewayOptions {
  chain?: GatewayChain;
  /** The gateway's clock (tests move it); Date.now by default. */
  now?: () => number;
  log?: UsageLog;
  /** Start the flush and sweep timers (default true). */
  timers?: boolean;
}

export const jsonLog: UsageLog = (level, event, fields = {}) => {
  process.stderr.write(`${JSON.stringify({ level, event, ...fields })}\n`);
};

/** The device as the chain records it: a hash bound to the agreement (ids never leave here). */
export function deviceHash(agreementId: string, device: string): string {
  return crypto
    .createHash('sha256')
    .update(`coffer/licensing/device/v1\n${agreementId}\n${device}`)
    .digest('hex');
}

export async function createGateway(
  config: Readonly<GatewayConfig>,
  options: GatewayOptions = {},
): Promise<Gateway> {
  const now = options.now ?? (() => Date.now());
  const log = options.log ?? jsonLog;
  const store = openContentStore(config.dataDir);
  const chain =
    options.chain ??
    createGatewayChain(config.node.url, {
      heightFreshMs: config.limits.heightFreshMs,
      cacheEntriesMax: config.limits.cacheEntriesMax,
    });
  const territoryOf = createTerritoryMap(config.territories);
  const usage = new UsageLedger(config.limits.pendingAgreementsMax);
  const stats: GatewayStats = {
    uploads: 0,
    tokens: 0,
    servedRequests: 0,
    servedBytes: 0,
    refused: 0,
  };
  const allowedOwners = config.uploads.allowedOwners
    ? new Set(config.uploads.allowedOwners)
    : undefined;
  /**
   * Token requests that got a token, for the replay guard: per licensee, hash of the signature ->
   * its time. Bounded in all (`replayEntriesMax`) and per licensee (`replayEntriesPerLicenseeMax`).
   */
  const seenRequests = new Map<string, Map<string, number>>();
  let seenRequestsCount = 0;
  let streamsInFlight = 0;
  let uploadsInFlight = 0;
  /** Uploads being received, per client address. */
  const uploadsByAddress = new Map<string, number>();
  /** Bytes and counts of uploads being received, reserved before their body is read. */
  const reserved = {
    count: 0,
    bytes: 0,
    byOwner: new Map<string, number>(),
    bytesByOwner: new Map<string, number>(),
  };

  /** Per client address: a token bucket of `requestsPerMinutePerAddress`, bounded in addresses. */
  const buckets = new Map<string, { tokens: number; at: number }>();
  function spend(ip: string): void {
    const capacity = config.limits.requestsPerMinutePerAddress;
    const at = now();
    const bucket = buckets.get(ip) ?? { tokens: capacity, at };
    // A clock stepped back (NTP, or a test) refills nothing and takes nothing.
    const elapsedMs = Math.max(0, at - bucket.at);
    bucket.tokens = Math.min(capacity, bucket.tokens + (elapsedMs * capacity) / 60_000);
    bucket.at = Math.max(bucket.at, at);
    buckets.delete(ip);
    if (buckets.size >= config.limits.addressesMax) {
      const oldest = buckets.keys().next().value;
      if (oldest !== undefined) buckets.delete(oldest);
    }
    buckets.set(ip, bucket);
    if (bucket.tokens < 1) {
      throw new Refusal('rate_limited', 'too many requests from this address: slow down');
    }
    bucket.tokens -= 1;
  }

  const app = Fastify({
    logger: false,
    trustProxy: config.http.trustedProxies.length > 0 ? config.http.trustedProxies : false,
    bodyLimit: tokenRequestBytesMax,
    // A body that trickles in holds an upload slot: it gets this long in all.
    requestTimeout: uploadReceiveMs,
  });

  function send(reply: FastifyReply, code: GatewayErrorCode, message: string) {
    stats.refused++;
    return reply
      .code(gatewayErrors[code])
      .header('cache-control', 'no-store')
      .send({ error: { code, message } });
  }

  app.setErrorHandler((error: Error & { code?: string; statusCode?: number }, _request, reply) => {
    if (error instanceof Refusal) return send(reply, error.code, error.message);
    if (error instanceof ChainUnavailableError) {
      return send(reply, 'chain_unavailable', 'the gateway cannot read the chain now: retry');
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return send(reply, 'upload_too_large', 'the body is larger than this route takes');
    }
    if (error.statusCode !== undefined && error.statusCode < 500) {
      return send(reply, 'invalid_request', error.message);
    }
    log('error', 'request_failed', { reason: error.message });
    return send(reply, 'internal_error', 'the gateway failed');
  });
  app.setNotFoundHandler((_request, reply) => send(reply, 'not_found', 'no such route'));

  // CORS: the console's play page (another origin) asks for tokens and plays URL-mode links.
  // Every request is signed, so any origin may send one.
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('access-control-allow-origin', '*');
    reply.header(
      'access-control-expose-headers',
      'content-range, content-length, accept-ranges, content-disposition',
    );
  });
  app.options('*', async (_request, reply) =>
    reply
      .header('access-control-allow-methods', 'GET, POST, OPTIONS')
      .header(
        'access-control-allow-headers',
        'authorization, content-type, range, x-coffer-pop, x-coffer-owner, x-coffer-time, x-coffer-signature, x-coffer-upload-authorisation',
      )
      .header('access-control-max-age', '600')
      .code(204)
      .send(),
  );

  app.get('/health', () => ({
    status: 'ok',
    streamsInFlight,
    uploadsInFlight,
    contents: store.all().length,
    pendingUploads: store.all().filter((m) => !m.registered).length,
    pendingUsageAgreements: usage.size,
    usageTxs: usage.flushedTxs,
    ...stats,
  }));

  // ---- uploads ---------------------------------------------------------------------------------

  function pendingOf(owner?: string) {
    const all = store.all();
    const pending = all.filter((meta) => !meta.registered);
    return {
      stored: all.length + reserved.count,
      ownerStored:
        owner === undefined
          ? 0
          : all.filter((meta) => meta.owner === owner).length + (reserved.byOwner.get(owner) ?? 0),
      storedBytes: all.reduce((sum, meta) => sum + meta.size, 0) + reserved.bytes,
      ownerBytes:
        owner === undefined
          ? 0
          : all.filter((meta) => meta.owner === owner).reduce((sum, meta) => sum + meta.size, 0) +
            (reserved.bytesByOwner.get(owner) ?? 0),
      count: pending.length + reserved.count,
      bytes: pending.reduce((sum, meta) => sum + meta.size, 0) + reserved.bytes,
      owner:
        owner === undefined
          ? 0
          : pending.filter((meta) => meta.owner === owner).length +
            (reserved.byOwner.get(owner) ?? 0),
    };
  }

  /**
   * The content key's signature of (chain, content, owner) that `content.register` carries: only
   * the owner who uploaded here can register this key, so nobody copying a register tx from the
   * mempool can take the content id first.
   */
  async function proofOf(contentId: string, owner: string): Promise<string> {
    const message = registrationMessage(await chain.chainId(), contentId, owner);
    return signHex(message, Buffer.from(store.signingSecret(contentId)).toString('hex'));
  }

  const answerOf = (meta: ContentMeta, proof: string) => ({
    contentId: meta.contentId,
    publicKey: meta.publicKey,
    proof,
    gateway: gatewayAccountOf(meta.publicKey),
    size: meta.size,
    mediaType: meta.mediaType,
    expiresAt: meta.registered ? null : meta.uploadedAt + config.uploads.pendingExpiryMs,
  });

  app.register((uploads, _options, done) => {
    // Any media type is the content's bytes here, JSON and text included.
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: config.uploads.bytesMax },
      (_r, body, done) => done(null, body),
    );
    uploads.post(
      '/v1/gateway/uploads',
      {
        bodyLimit: config.uploads.bytesMax,
        // Everything that can be refused without the body is refused before it is read, and the
        // body's room is reserved: a crowd of fresh keys cannot fill the disk or the memory.
        onRequest: async (request, reply) => {
          spend(request.ip);
          const owner = request.headers['x-coffer-owner'];
          if (typeof owner !== 'string' || !isAddress(owner)) {
            throw new Refusal('invalid_request', 'x-coffer-owner must be the owner address');
          }
          if (allowedOwners && !allowedOwners.has(owner)) {
            throw new Refusal(
              'owner_not_allowed',
              'this gateway takes uploads from its publishers only',
            );
          }
          const length = Number(request.headers['content-length']);
          if (!Number.isSafeInteger(length) || length <= 0) {
            throw new Refusal('length_required', 'an upload needs a Content-Length (not chunked)');
          }
          if (length > config.uploads.bytesMax) {
            throw new Refusal(
              'upload_too_large',
              `an upload is at most ${config.uploads.bytesMax} bytes`,
            );
          }
          const time = Number(request.headers['x-coffer-time']);
          if (!Number.isSafeInteger(time) || Math.abs(now() - time) > requestSkewMs) {
            throw new Refusal(
              'request_stale',
              'x-coffer-time must be Unix ms within 5 minutes of now',
            );
          }
          // The owner's signature of (owner, time, length), checked before anything is reserved:
          // without it anyone could take the upload slots in any owner's name, with no key.
          const authorisation = request.headers['x-coffer-upload-authorisation'];
          const ownerKey = Buffer.from(publicKeyFromAddress(owner, 'owner')).toString('hex');
          if (
            typeof authorisation !== 'string' ||
            !verifyHex(authorisation, uploadAuthorisationMessage({ owner, time, length }), ownerKey)
          ) {
            throw new Refusal(
              'signature_invalid',
              'x-coffer-upload-authorisation must be the owner’s signature of (owner, time, Content-Length)',
            );
          }
          const minimum = config.uploads.minimumBalance;
          if (minimum && (await chain.balance(owner, minimum.asset)) < BigInt(minimum.amount)) {
            throw new Refusal(
              'owner_unfunded',
              `an owner needs ${minimum.amount} ${minimum.asset} (minor units) to upload here`,
            );
          }
          if (
            (uploadsByAddress.get(request.ip) ?? 0) >= config.limits.uploadsInFlightPerAddressMax
          ) {
            throw new Refusal(
              'rate_limited',
              'this client address has uploads in progress: wait for them to end',
            );
          }
          if (uploadsInFlight >= config.limits.uploadsInFlightMax) {
            throw new Refusal('busy', 'too many uploads in progress: retry shortly');
          }
          const pending = pendingOf(owner);
          if (pending.owner >= config.uploads.pendingPerOwnerMax) {
            throw new Refusal(
              'pending_uploads_exceeded',
              `this owner has ${pending.owner} uploads not registered yet: register them (content.register) or wait for their expiry`,
            );
          }
          if (
            pending.count >= config.uploads.pendingTotalMax ||
            pending.bytes + length > config.uploads.pendingBytesMax
          ) {
            throw new Refusal(
              'pending_uploads_exceeded',
              'the gateway holds too many unregistered uploads: retry later',
            );
          }
          if (pending.ownerBytes + length > config.uploads.ownerBytesMax) {
            throw new Refusal(
              'storage_quota_exceeded',
              `this owner has ${pending.ownerBytes} bytes stored here; the quota is ${config.uploads.ownerBytesMax}`,
            );
          }
          if (pending.ownerStored >= config.uploads.ownerContentsMax) {
            throw new Refusal(
              'storage_quota_exceeded',
              `this owner has ${pending.ownerStored} contents here; the quota is ${config.uploads.ownerContentsMax}`,
            );
          }
          if (
            pending.stored >= config.uploads.storedContentsMax ||
            pending.storedBytes + length > config.uploads.storedBytesMax
          ) {
            throw new Refusal(
              'storage_quota_exceeded',
              'this gateway is full: it takes no more uploads',
            );
          }
          // Gone while the chain was read: reserve nothing (a `close` listener would never run).
          if (request.raw.destroyed || reply.raw.destroyed) {
            throw new Refusal('invalid_request', 'the client went before its upload started');
          }
          const ip = request.ip;
          uploadsInFlight++;
          uploadsByAddress.set(ip, (uploadsByAddress.get(ip) ?? 0) + 1);
          reserved.count++;
          reserved.bytes += length;
          reserved.byOwner.set(owner, (reserved.byOwner.get(owner) ?? 0) + 1);
          reserved.bytesByOwner.set(owner, (reserved.bytesByOwner.get(owner) ?? 0) + length);
          let released = false;
          const release = () => {
            if (released) return;
            released = true;
            uploadsInFlight--;
            const fromAddress = (uploadsByAddress.get(ip) ?? 1) - 1;
            if (fromAddress > 0) uploadsByAddress.set(ip, fromAddress);
            else uploadsByAddress.delete(ip);
            reserved.count--;
            reserved.bytes -= length;
            const left = (reserved.byOwner.get(owner) ?? 1) - 1;
            if (left > 0) reserved.byOwner.set(owner, left);
            else reserved.byOwner.delete(owner);
            const bytesLeft = (reserved.bytesByOwner.get(owner) ?? length) - length;
            if (bytesLeft > 0) reserved.bytesByOwner.set(owner, bytesLeft);
            else reserved.bytesByOwner.delete(owner);
          };
          reply.raw.once('close', release);
          (request as FastifyRequest & { release?: () => void }).release = release;
        },
      },
      async (request, reply) => {
        const release = (request as FastifyRequest & { release?: () => void }).release;
        try {
          const body = request.body;
          if (!Buffer.isBuffer(body) || body.length === 0) {
            throw new Refusal('invalid_request', 'the body is the content’s bytes');
          }
          const owner = request.headers['x-coffer-owner'] as string;
          const time = Number(request.headers['x-coffer-time']);
          const signature = request.headers['x-coffer-signature'];
          const bodySha256 = crypto.createHash('sha256').update(body).digest('hex');
          const ownerKey = Buffer.from(publicKeyFromAddress(owner, 'owner')).toString('hex');
          if (
            typeof signature !== 'string' ||
            !verifyHex(signature, uploadMessage({ bodySha256, owner, time }), ownerKey)
          ) {
            throw new Refusal(
              'signature_invalid',
              'x-coffer-signature is not the owner’s signature of this upload',
            );
          }
          const mediaType = (request.headers['content-type'] ?? 'application/octet-stream')
            .split(';')[0]!
            .trim();
          if (!mediaTypePattern.test(mediaType) || mediaType.length > 100) {
            throw new Refusal('invalid_request', 'Content-Type must be a media type (video/webm)');
          }
          const existing = store.meta(bodySha256);
          if (existing) {
            if (existing.owner !== owner) {
              throw new Refusal('content_exists', 'this content is stored for another owner');
            }
            return answerOf(existing, await proofOf(existing.contentId, owner));
          }
          if (await chain.content(bodySha256)) {
            throw new Refusal(
              'content_exists',
              'this content is registered on chain already (with another key)',
            );
          }
          // The same bytes may have arrived meanwhile (two uploads racing): answer that one.
          const raced = store.meta(bodySha256);
          if (raced) {
            if (raced.owner !== owner) {
              throw new Refusal('content_exists', 'this content is stored for another owner');
            }
            return answerOf(raced, await proofOf(raced.contentId, owner));
          }
          const meta = store.put({ body, owner, mediaType, now: now() });
          stats.uploads++;
          log('info', 'uploaded', { contentId: meta.contentId, owner, size: meta.size });
          return reply.code(201).send(answerOf(meta, await proofOf(meta.contentId, owner)));
        } finally {
          release?.();
        }
      },
    );
    done();
  });

  // ---- chain checks ----------------------------------------------------------------------------

  /** The stored content registered on chain with this gateway's key, or a 404. */
  async function registered(contentId: string) {
    const meta = contentIdPattern.test(contentId) ? store.meta(contentId) : undefined;
    if (!meta) throw new Refusal('content_not_found', 'this gateway holds no such content');
    const record = await chain.content(contentId);
    if (!record || record.publicKey !== meta.publicKey || record.owner !== meta.owner) {
      throw new Refusal(
        'content_not_found',
        'this content is not registered on chain with this gateway’s key',
      );
    }
    if (!meta.registered) store.markRegistered(contentId);
    return meta;
  }

  async function decide(input: {
    agreementId: string;
    contentId?: string;
    licensee: string;
    action: Action;
    device?: string | undefined;
    territory: string | undefined;
    counting: boolean;
  }) {
    const found = await chain.agreement(input.agreementId);
    if (
      !found ||
      (input.contentId !== undefined && found.agreement.contentId !== input.contentId)
    ) {
      throw new Refusal('agreement_not_found', 'no such agreement on chain');
    }
    const { agreement, parent } = found;
    if (agreement.licensee !== input.licensee) {
      throw new Refusal('token_key_mismatch', 'this key is not the agreement’s licensee');
    }
    const pending = usage.of(agreement.agreementId);
    const decision = usageDecision(agreement, parent, {
      action: input.action,
      time: now(),
      territory: input.territory,
      device: input.device,
      pendingUses: pending.uses[input.action] ?? 0,
      pendingDevices: pending.devices,
    });
    if (!decision.ok) {
      // Serving the bytes of an issued token: its use (and its device) was counted when it was
      // issued, so only the checks before those two (revoked ... territory) can stop it now.
      const countedAtIssue =
        decision.code === 'device_limit_reached' || decision.code === 'count_exhausted';
      if (input.counting || !countedAtIssue)
        throw new Refusal(decision.code, refusalMessages[decision.code]);
    }
    return { agreement, decision };
  }

  // ---- tokens ----------------------------------------------------------------------------------

  const replayKeyOf = (signature: string) =>
    crypto.createHash('sha256').update(signature).digest('hex');

  function checkNotReplayed(licensee: string, signature: string): void {
    if (seenRequests.get(licensee)?.has(replayKeyOf(signature))) {
      throw new Refusal('request_replayed', 'this token request was used already: sign a new one');
    }
  }

  /** Forgets a licensee's requests older than the 5-minute window (they are stale anyway). */
  function forgetStale(licensee: string, seen: Map<string, number>): void {
    const horizon = now() - requestSkewMs;
    for (const [key, at] of seen) {
      if (at < horizon) {
        seen.delete(key);
        seenRequestsCount--;
      }
    }
    if (seen.size === 0) seenRequests.delete(licensee);
  }

  /**
   * Remembers a token request that got a positive decision (a refused one is not remembered: it
   * can be sent again, and strangers or refused licensees fill nothing). Synchronous, right after
   * the decision: the same request sent twice at once passes once.
   */
  function remember(licensee: string, signature: string, time: number): void {
    const key = replayKeyOf(signature);
    let seen = seenRequests.get(licensee);
    if (seen?.has(key)) {
      throw new Refusal('request_replayed', 'this token request was used already: sign a new one');
    }
    if (seen && seen.size >= config.limits.replayEntriesPerLicenseeMax) {
      forgetStale(licensee, seen);
      if (seen.size >= config.limits.replayEntriesPerLicenseeMax) {
        throw new Refusal(
          'rate_limited',
          'this key asked for too many tokens in the last 5 minutes: slow down',
        );
      }
    }
    if (seenRequestsCount >= config.limits.replayEntriesMax) {
      for (const [other, entries] of seenRequests) forgetStale(other, entries);
      if (seenRequestsCount >= config.limits.replayEntriesMax) {
        throw new Refusal('busy', 'too many token requests in the last 5 minutes: retry shortly');
      }
    }
    seen = seenRequests.get(licensee);
    if (!seen) {
      seen = new Map();
      seenRequests.set(licensee, seen);
    }
    seen.set(key, time);
    seenRequestsCount++;
  }

  app.post('/v1/gateway/tokens', async (request, reply) => {
    spend(request.ip);
    const parsed = tokenRequestSchema.safeParse(request.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Refusal('invalid_request', `${issue.path.join('.') || 'body'}: ${issue.message}`);
    }
    const body = parsed.data;
    if (!isServedAction(body.action)) {
      throw new Refusal(
        'action_not_served',
        `a token gives the content's bytes: ask for play, display, download or print, not ${body.action}`,
      );
    }
    if (Math.abs(now() - body.time) > requestSkewMs) {
      throw new Refusal('request_stale', 'time must be Unix ms within 5 minutes of now');
    }
    if (!verifyHex(body.signature, tokenRequestMessage(body), body.publicKey)) {
      throw new Refusal(
        'signature_invalid',
        'signature is not this key’s signature of the request',
      );
    }
    const licensee = addressFromPublicKey(Buffer.from(body.publicKey, 'hex'));
    const found = await chain.agreement(body.agreementId);
    if (!found) throw new Refusal('agreement_not_found', 'no such agreement on chain');
    const meta = await registered(found.agreement.contentId);
    const device =
      body.device === undefined ? undefined : deviceHash(body.agreementId, body.device);
    const territory = territoryOf(request.ip);
    if (found.agreement.licensee !== licensee) {
      throw new Refusal('token_key_mismatch', 'this key is not the agreement’s licensee');
    }
    checkNotReplayed(licensee, body.signature);
    const { agreement, decision } = await decide({
      agreementId: body.agreementId,
      licensee,
      action: body.action,
      device,
      territory,
      counting: true,
    });
    if (!usage.canCount(agreement.agreementId, body.action)) {
      throw new Refusal('busy', 'too many uses waiting to be recorded on chain: retry shortly');
    }
    remember(licensee, body.signature, body.time);
    // Counted now, with no await since the decision: two requests racing for the last use cannot
    // both pass. The device counts only for an action whose permission has a deviceCount (the
    // rule of usageDecision and of the chain). Given back if the token cannot be made.
    const countsDevice = (permissionOf(agreement.policy, body.action)?.constraint ?? []).some(
      (constraint) => constraint.leftOperand === 'deviceCount',
    );
    const reservation = usage.count(
      agreement.agreementId,
      meta.contentId,
      body.action,
      countsDevice ? device : undefined,
    );
    const secret = store.signingSecret(meta.contentId);
    let issued: Awaited<ReturnType<typeof issueAccessToken>>;
    try {
      issued = await issueAccessToken({
        contentId: meta.contentId,
        secret,
        publicKeyHex: meta.publicKey,
        claims: {
          iss: gatewayAccountOf(meta.publicKey),
          sub: licensee,
          agr: agreement.agreementId,
          act: body.action,
          ...(device === undefined ? {} : { dev: device }),
          rem: decision.ok ? decision.remaining : null,
          cnf: { jwk: jwkOf(body.publicKey) },
          cip: request.ip,
        },
        nowMs: now(),
        ttlMs: config.tokens.ttlMs,
      });
    } catch (error) {
      usage.giveBack(reservation);
      throw error;
    }
    stats.tokens++;
    return reply.code(201).send({
      token: issued.token,
      jti: issued.jti,
      expiresAt: issued.expiresAt,
      contentId: meta.contentId,
      mediaType: meta.mediaType,
      size: meta.size,
      remaining: decision.ok ? decision.remaining : null,
      url: `/content/${meta.contentId}?token=${issued.token}`,
    });
  });

  // ---- content ---------------------------------------------------------------------------------

  /**
   * A token's claims once its signature verified, kept by its exact string (and content) until
   * its `exp`: a player sends one token with many ranges, and each range needs only its proof of
   * possession checked. Bounded: the oldest entries go first.
   */
  const verifiedTokens = new Map<string, AccessClaims>();
  async function verifiedClaims(token: string, contentId: string, publicKey: string) {
    const key = `${contentId}.${token}`;
    const known = verifiedTokens.get(key);
    if (known && now() < known.exp * 1000) return known;
    const checked = await verifyAccessToken(token, contentId, publicKey, now());
    if (!checked.ok) {
      verifiedTokens.delete(key);
      throw new Refusal(checked.code, checked.message);
    }
    if (verifiedTokens.size >= config.limits.cacheEntriesMax) {
      const oldest = verifiedTokens.keys().next().value;
      if (oldest !== undefined) verifiedTokens.delete(oldest);
    }
    verifiedTokens.set(key, checked.claims);
    return checked.claims;
  }

  app.get<{ Params: { contentId: string }; Querystring: { token?: string; pop?: string } }>(
    '/content/:contentId',
    async (request, reply) => {
      // The stream slot and the chunk file are released when the response closes, however it
      // ends (finished, failed, or the client gone). The listener goes on before any await: a
      // client that resets while the chain is read has closed the response before the bytes
      // would start, and a listener attached then would never run (the slot and the file kept
      // for good; `streamsInFlightMax` such requests made every GET 503 until a restart).
      let clientGone = false;
      let slot: { chunks?: AsyncGenerator<Buffer> } | undefined;
      const release = () => {
        if (!slot) return;
        const { chunks } = slot;
        slot = undefined;
        streamsInFlight--;
        chunks?.return(undefined).catch(() => undefined);
      };
      reply.raw.once('close', () => {
        clientGone = true;
        release();
      });
      const { contentId } = request.params;
      const path = `/content/${contentId}`;
      const meta = contentIdPattern.test(contentId) ? store.meta(contentId) : undefined;
      if (!meta) throw new Refusal('content_not_found', 'this gateway holds no such content');

      const authorization = request.headers.authorization;
      const headerToken = /^Bearer ([A-Za-z0-9._-]{1,4096})$/.exec(authorization ?? '')?.[1];
      const token = headerToken ?? request.query.token;
      if (typeof token !== 'string' || token === '') {
        throw new Refusal(
          'token_missing',
          'an access token is needed: Authorization: Bearer, or ?token= and ?pop=',
        );
      }
      const claims = await verifiedClaims(token, contentId, meta.publicKey);
      if (!isServedAction(claims.act)) {
        throw new Refusal('action_not_served', `a ${claims.act} token gives no bytes`);
      }
      const holderKey = cnfKeyHex(claims)!;
      if (addressFromPublicKey(Buffer.from(holderKey, 'hex')) !== claims.sub) {
        throw new Refusal('token_invalid', 'the token’s key is not its subject’s');
      }
      const range = request.headers.range;
      if (headerToken !== undefined) {
        const pop = parsePopHeader(String(request.headers['x-coffer-pop'] ?? ''));
        if (!pop)
          throw new Refusal('pop_invalid', 'x-coffer-pop must be <publicKey>.<time>.<signature>');
        if (pop.publicKey !== holderKey) {
          throw new Refusal('token_key_mismatch', 'this token was issued to another key');
        }
        if (Math.abs(now() - pop.time) > popSkewMs) {
          throw new Refusal(
            'pop_invalid',
            'the proof of possession is more than 60 s from now: sign again',
          );
        }
        const message = popMessage({
          method: request.method,
          path,
          range,
          time: pop.time,
          jti: claims.jti,
        });
        if (!verifyHex(pop.signature, message, holderKey)) {
          throw new Refusal(
            'pop_invalid',
            'the proof of possession does not verify for this request',
          );
        }
      } else {
        const pop = request.query.pop;
        if (
          typeof pop !== 'string' ||
          !verifyHex(pop, urlPopMessage(path, claims.jti), holderKey)
        ) {
          throw new Refusal(
            'pop_invalid',
            'pop must be the licensee’s signature of the path and token id',
          );
        }
        if (request.ip !== claims.cip) {
          throw new Refusal('token_key_mismatch', 'this URL was issued to another client address');
        }
      }

      await registered(contentId);
      await decide({
        agreementId: claims.agr,
        contentId,
        licensee: claims.sub,
        action: claims.act,
        device: claims.dev,
        territory: territoryOf(request.ip),
        counting: false,
      });

      const answer = parseRange(range, meta.size);
      if (answer.kind === 'unsatisfiable') {
        reply.header('content-range', `bytes */${meta.size}`);
        throw new Refusal('range_not_satisfiable', `one range within 0-${meta.size - 1}, please`);
      }
      // Nobody to send to: take no slot, open no file (the response is already closed).
      if (clientGone || reply.raw.destroyed) return reply.hijack();
      if (streamsInFlight >= config.limits.streamsInFlightMax) {
        throw new Refusal('busy', 'too many streams in progress: retry shortly');
      }
      const start = answer.kind === 'partial' ? answer.start : 0;
      const end = answer.kind === 'partial' ? answer.end : meta.size - 1;
      streamsInFlight++;
      const chunks = store.readRange(contentId, start, end);
      slot = { chunks };
      // The first chunk is decrypted before the status goes out, so a corrupt one is a clean 500.
      let first: IteratorResult<Buffer>;
      try {
        first = await chunks.next();
      } catch (error) {
        release();
        if (error instanceof GatewayStoreError) {
          log('error', 'content_corrupt', { contentId, reason: error.message });
          throw new Refusal('content_corrupt', 'the stored content fails its integrity check');
        }
        throw error;
      }
      // Gone while the first chunk was read: `close` released the slot and closed the file.
      if (clientGone || reply.raw.destroyed) return reply.hijack();
      stats.servedRequests++;
      const body = Readable.from(
        (async function* () {
          try {
            if (!first.done) {
              stats.servedBytes += first.value.length;
              yield first.value;
            }
            for await (const chunk of chunks) {
              stats.servedBytes += chunk.length;
              yield chunk;
            }
          } catch (error) {
            log('error', 'stream_failed', { contentId, reason: (error as Error).message });
            throw error;
          }
        })(),
        { objectMode: false },
      );
      reply
        .code(answer.kind === 'partial' ? 206 : 200)
        .header('content-type', meta.mediaType)
        .header('accept-ranges', 'bytes')
        .header('cache-control', 'private, no-store')
        // What the tokens of the served actions differ in here: download saves, the rest show.
        .header('content-disposition', claims.act === 'download' ? 'attachment' : 'inline')
        .header('content-length', String(end - start + 1));
      if (answer.kind === 'partial')
        reply.header('content-range', `bytes ${start}-${end}/${meta.size}`);
      return reply.send(body);
    },
  );

  // ---- housekeeping ----------------------------------------------------------------------------

  async function sweepUploads() {
    for (const meta of store.all()) {
      if (meta.registered) continue;
      try {
        const record = await chain.content(meta.contentId);
        if (record && record.publicKey === meta.publicKey && record.owner === meta.owner) {
          store.markRegistered(meta.contentId);
          continue;
        }
      } catch (error) {
        log('warn', 'sweep_chain_unavailable', { reason: (error as Error).message });
        return;
      }
      if (now() - meta.uploadedAt > config.uploads.pendingExpiryMs) {
        store.remove(meta.contentId);
        log('info', 'upload_expired', { contentId: meta.contentId, owner: meta.owner });
      }
    }
  }

  const flushUsage = () => usage.flush(chain, store, log);
  /** A timer's task: a failure is logged, never an unhandled rejection (which ends the process). */
  const logged = (task: () => Promise<void>, event: string) => (): Promise<void> =>
    task().catch((error: unknown) =>
      log('error', event, { reason: error instanceof Error ? error.message : String(error) }),
    );
  const timers: NodeJS.Timeout[] = [];
  if (options.timers ?? true) {
    const flushLogged = logged(flushUsage, 'usage_flush_failed');
    const sweepLogged = logged(sweepUploads, 'sweep_failed');
    timers.push(setInterval(() => void flushLogged(), config.usage.flushIntervalMs).unref());
    timers.push(setInterval(() => void sweepLogged(), sweepIntervalMs).unref());
  }

  await app.ready();
  return {
    app,
    store,
    chain,
    usage,
    stats,
    flushUsage,
    sweepUploads,
    async close() {
      for (const timer of timers) clearInterval(timer);
      await app.close();
      await logged(flushUsage, 'usage_flush_failed')();
    },
  };
}

export interface RunningGateway {
  url: string;
  gateway: Gateway;
  close(): Promise<void>;
}

export async function startGateway(
  config: Readonly<GatewayConfig>,
  options: GatewayOptions = {},
): Promise<RunningGateway> {
  const gateway = await createGateway(config, options);
  try {
    await gateway.chain.chainId(); // fail early on a wrong node URL, as `coffer iot serve` does
  } catch (error) {
    await gateway.close();
    throw new GatewayConfigError(`node.url ${config.node.url}: ${(error as Error).message}`);
  }
  await gateway.sweepUploads();
  const address = await gateway.app.listen({ host: config.http.host, port: config.http.port });
  return { url: address, gateway, close: () => gateway.close() };
}
