/*
 * The print server (issue 23, docs/printing.md): it registers SBCs as printers and gives them
 * client certificates from its own CA, holds designers' G-code encrypted, and streams each bought
 * print, adapted to the printer's profile and watermarked, over mutual TLS to the printer's SBC.
 *
 * Two HTTPS listeners: a client without a certificate cannot pass a handshake that requires one,
 * so what an SBC needs before it has one is on the public port.
 *
 *   public (server certificate only)
 *     GET  /health
 *     GET  /v1/printing/server           {server, chainId, caCertificate, printsUrl, platformShareBp}
 *     POST /v1/printing/registrations    an SBC's signed registration + a one-time secret
 *                                        -> {printerId, clientId, certificate, key, caCertificate, printsUrl}
 *     POST /v1/printing/designs          a designer's G-code -> what its `design.list` needs
 *   prints (client certificate required: this CA's, not revoked; the CRL follows the chain)
 *     GET  /health
 *     POST /v1/printing/prints                       {tokenId} -> the adapted G-code, streamed
 *     POST /v1/printing/prints/{tokenId}/progress    {percent}
 *     POST /v1/printing/prints/{tokenId}/finish      {}
 *     POST /v1/printing/prints/{tokenId}/fail        {percent, reason}
 *
 * Every refusal is `{error: {code, message}}` with a code of `printServerErrors`. Nothing secret is
 * logged: no key, no secret, no signature, no G-code.
 */
import crypto from 'node:crypto';
import type https from 'node:https';
import { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { publicKeyFromAddress, isAddress, toHex } from '../../../crypto/index.js';
import type { SigningKey } from '../../../sdk/keys.js';
import {
  certificateFingerprint,
  certificateSerial,
  createCrl,
  issueParty,
  type KeyAndCertificate,
  type PartyProfile,
} from '../../iot/pki/certificates.js';
import {
  GatewayStoreError,
  openContentStore,
  type ContentStore,
} from '../../licensing/gateway/storage.js';
import { AdaptError, adaptGcode, watermarkBytes } from '../gcode/adapter.js';
import { measureGcode } from '../gcode/measure.js';
import { GcodeParseError, linesOf } from '../gcode/parse.js';
import {
  deviceKeyHashOf,
  designIdOf,
  designUploadMessage,
  failReasonLengthMax,
  hardwareIdOf,
  hardwareIdPattern,
  printerDeviceMessage,
  printerRegistrationMessage,
  printerProfileSchema,
  profileHashOf,
  tokenIdPattern,
  bedAxisUmMax,
  type DesignBox,
  type PrinterProfile,
  type PrintTokenRecord,
} from '../schema.js';
import {
  deviceKeyPattern,
  signatureHexPattern,
  verifyMessageHex,
  requestSkewMs,
} from '../authority/messages.js';
import {
  createPrintChain,
  ChainUnavailableError,
  type PrintChain,
  type ServerTxType,
} from './chain.js';
import {
  PrintServerConfigError,
  printingOrganisation,
  randomHex,
  readCa,
  readServerKey,
  readTls,
  serverFiles,
  type PrintServerConfig,
} from './config.js';
import {
  commonHttpErrors,
  createRateLimiter,
  installErrorHandler,
  invalidRequest,
  jsonLog,
  orClose,
  Refusal,
  type HttpLog,
} from './http.js';
import { designUploadAuthorisationMessage, registrationRequestMessage } from './messages.js';
import {
  PrinterFiles,
  appendWatermark,
  readMeasure,
  removeMeasure,
  writeMeasure,
  takeRegistrationSecret,
  watermarkCommitmentOf,
} from './records.js';
import path from 'node:path';
import { signMessageHex } from '../authority/messages.js';

/** Every code the print server answers, with its HTTP status (docs/printing.md). */
export const printServerErrors = {
  ...commonHttpErrors,
  request_stale: 401,
  signature_invalid: 401,
  length_required: 411,
  upload_too_large: 413,
  content_hash_mismatch: 400,
  gcode_invalid: 422,
  design_does_not_fit: 422,
  design_exists: 409,
  design_not_found: 404,
  pending_uploads_exceeded: 429,
  storage_quota_exceeded: 429,
  content_corrupt: 500,
  registration_secret_invalid: 403,
  hwid_unknown: 404,
  authority_not_trusted: 403,
  owner_proof_invalid: 403,
  device_proof_invalid: 403,
  printer_unknown: 403,
  printer_revoked: 409,
  token_printer_mismatch: 403,
  not_token_server: 403,
  print_token_not_found: 404,
  token_redeemed: 409,
  token_closed: 409,
  token_expired: 409,
  token_not_printing: 409,
  progress_backwards: 409,
  print_in_progress: 409,
  upload_in_progress: 429,
  // The chain's refusals of a registration, passed on with the chain's statuses.
  hwid_registered: 409,
  hwid_not_found: 404,
  hwid_mismatch: 422,
  device_key_mismatch: 403,
  owner_printers_full: 422,
  printer_exists: 409,
  chain_refused: 422,
} as const;
export type PrintServerErrorCode = keyof typeof printServerErrors;

/** The identity a printer's client certificate carries: CN = its printer id, OU = printer. */
export const printerPartyProfile: PartyProfile<'printer'> = {
  organisation: printingOrganisation,
  idPattern: /^pr_[0-9a-f]{32}$/,
  roles: ['printer'],
};

const registrationBytesMax = 16 * 1024;
const reportBytesMax = 1024;
/** The longest any upload may take (the per-upload deadline is its size at the floor rate). */
const uploadReceiveMs = 5 * 60_000;
/** An upload's deadline: this much, plus its Content-Length at `uploads.floorBytesPerSecond`. */
const uploadGraceMs = 10_000;
const sweepIntervalMs = 60_000;
/** The CRL is valid this long and signed again a day before it would lapse. */
const crlDays = 7;
const crlRefreshMs = (crlDays - 1) * 86_400_000;
/** The adapted G-code goes out in chunks of about this many bytes. */
const streamChunkBytes = 16 * 1024;
/** Tokens whose last recorded progress is kept (the rest read it from the chain). */
const progressEntriesMax = 100_000;
/** A progress report becomes a `print.progress` tx at most once per this many percent. */
const progressStepPct = 5;

const registrationSchema = z.strictObject({
  hardwareId: z.string().regex(hardwareIdPattern, 'hardwareId must be hw_ and 32 hex digits'),
  deviceKey: z.string().regex(deviceKeyPattern, 'deviceKey must be 64 lowercase hex digits'),
  owner: z.string().refine(isAddress, 'owner must be a Coffer address'),
  ownerProof: z.string().regex(signatureHexPattern, 'ownerProof must be 128 hex digits'),
  deviceProof: z.string().regex(signatureHexPattern, 'deviceProof must be 128 hex digits'),
  profile: printerProfileSchema,
  timestamp: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  signature: z.string().regex(signatureHexPattern, 'signature must be 128 hex digits'),
  secret: z.string().min(1).max(128),
});
const redeemSchema = z.strictObject({
  tokenId: z.string().regex(tokenIdPattern, 'tokenId must be 64 lowercase hex digits'),
});
const progressSchema = z.strictObject({ percent: z.number().int().min(0).max(100) });
const finishSchema = z.strictObject({}).or(z.undefined());
const failSchema = z.strictObject({
  percent: z.number().int().min(0).max(100),
  reason: z.string().min(1).max(failReasonLengthMax),
});

/** What the chain refuses in a reason (control and bidi characters): replaced before relaying. */
const reasonUnsafe = /[\p{Cc}\u200E\u200F\u202A-\u202E\u2066-\u2069]+/gu;
/** A printer's reason, made one the chain takes: a real failure is never lost to its wording. */
export function chainReason(reason: string): string {
  const clean = reason.replace(reasonUnsafe, ' ').trim().slice(0, failReasonLengthMax);
  return clean === '' ? 'print_failed' : clean;
}

/**
 * The client's network, for the per-client limits: an IPv4 address, or an IPv6 address's /64
 * (one host usually holds a whole /64).
 */
export function clientNetworkOf(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!ip.includes(':')) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::')
    ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

export interface PrintServerStats {
  registrations: number;
  uploads: number;
  prints: number;
  printedLines: number;
  progressTxs: number;
  refused: number;
  /** Handshakes the prints port refused (no certificate, another CA's, a revoked one). */
  tlsRefused: number;
  revocations: number;
}

export interface PrintServerOptions {
  /** The server's Coffer key (tests); `<dataDir>/server.key` otherwise. */
  key?: SigningKey;
  chain?: PrintChain;
  now?: () => number;
  log?: HttpLog;
  /** Start the revocation poll and the upload sweep (default true). */
  timers?: boolean;
}

export interface PrintServer {
  /** The public app (registrations, uploads). */
  app: FastifyInstance<https.Server>;
  /** The mTLS app (prints). */
  prints: FastifyInstance<https.Server>;
  address: string;
  chain: PrintChain;
  store: ContentStore;
  printers: PrinterFiles;
  stats: PrintServerStats;
  caCertificate: string;
  /** Reads the chain's revocations now and, when there are new ones, swaps in a new CRL. */
  refreshRevocations(): Promise<number>;
  /** Marks uploads listed on chain, deletes the expired ones. */
  sweepUploads(): Promise<void>;
  /** Where printers reach the prints port (set once it listens). */
  printsUrl: string;
  close(): Promise<void>;
}

type Refused = Refusal;
const refuse = (code: PrintServerErrorCode, message: string): Refused => new Refusal(code, message);

export async function createPrintServer(
  config: Readonly<PrintServerConfig>,
  options: PrintServerOptions = {},
): Promise<PrintServer> {
  const now = options.now ?? (() => Date.now());
  const log = options.log ?? jsonLog;
  const dataDir = config.dataDir;
  const key = options.key ?? readServerKey(dataDir);
  const chain = options.chain ?? createPrintChain(config.node.url, key);
  const ca: KeyAndCertificate = readCa(dataDir);
  const tls = readTls(dataDir);
  let store: ContentStore;
  try {
    store = openContentStore(path.join(dataDir, serverFiles.designs));
  } catch (error) {
    if (error instanceof GatewayStoreError) throw new PrintServerConfigError(error.message);
    throw error;
  }
  const printers = new PrinterFiles(dataDir);
  const trusted = new Set(config.trustedAuthorities);
  const stats: PrintServerStats = {
    registrations: 0,
    uploads: 0,
    prints: 0,
    printedLines: 0,
    progressTxs: 0,
    refused: 0,
    tlsRefused: 0,
    revocations: 0,
  };
  const spend = createRateLimiter({
    perMinute: config.limits.requestsPerMinutePerAddress,
    addressesMax: config.limits.addressesMax,
    now,
  });
  const serverKeyHex = Buffer.from(key.secretKey, 'hex').toString('hex');

  // ---- the CRL -----------------------------------------------------------------------------------
  // Its validity is read by OpenSSL against the real clock: it is signed with Date.now(), never
  // with the injectable `now` (a clock moved by a test must not make every handshake fail).

  const revokedSerials = new Set<string>();
  const revokedFingerprints = new Set<string>();
  let revocationCursor: string | undefined;
  let crlPem = await createCrl({ ca, serials: [], days: crlDays, nowMs: Date.now() });
  let crlSignedAt = Date.now();
  const mtlsOptions = () => ({
    key: tls.privateKeyPem,
    cert: tls.certificatePem,
    ca: ca.certificatePem,
    crl: crlPem,
    requestCert: true,
    rejectUnauthorized: true,
  });

  // ---- the two apps ------------------------------------------------------------------------------

  const app = Fastify({
    logger: false,
    https: { key: tls.privateKeyPem, cert: tls.certificatePem },
    bodyLimit: registrationBytesMax,
    requestTimeout: uploadReceiveMs,
  });
  const prints = Fastify({ logger: false, https: mtlsOptions(), bodyLimit: reportBytesMax });
  installErrorHandler(app, printServerErrors, log, () => stats.refused++);
  installErrorHandler(prints, printServerErrors, log, () => stats.refused++);

  /** Open connections of the prints port by certificate fingerprint: a revocation closes them. */
  const socketsByFingerprint = new Map<string, Set<TLSSocket>>();
  prints.server.on('secureConnection', (socket: TLSSocket) => {
    const certificate = socket.getPeerX509Certificate();
    if (!certificate) return;
    const fingerprint = crypto.createHash('sha256').update(certificate.raw).digest('hex');
    let sockets = socketsByFingerprint.get(fingerprint);
    if (!sockets) {
      sockets = new Set();
      socketsByFingerprint.set(fingerprint, sockets);
    }
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      if (sockets.size === 0) socketsByFingerprint.delete(fingerprint);
    });
  });
  prints.server.on('tlsClientError', (error: Error & { code?: string }) => {
    stats.tlsRefused++;
    log('info', 'tls_refused', { reason: error.code ?? error.message });
  });

  let printsUrl = config.http.printsUrl ?? '';

  app.get('/health', () => ({
    status: 'ok',
    server: key.address,
    designs: store.all().length,
    printers: printers.size,
    streamsInFlight,
    ...stats,
  }));
  app.get('/v1/printing/server', async () => ({
    server: key.address,
    chainId: await chain.chainId(),
    caCertificate: ca.certificatePem,
    printsUrl,
    platformShareBp: config.platformShareBp,
  }));
  prints.get('/health', () => ({ status: 'ok', server: key.address }));

  // ---- registrations -----------------------------------------------------------------------------

  let registrationsInFlight = 0;

  app.post('/v1/printing/registrations', async (request, reply) => {
    spend(request.ip);
    const parsed = registrationSchema.safeParse(request.body);
    if (!parsed.success) throw invalidRequest(parsed.error.issues);
    const body = parsed.data;
    const profile: PrinterProfile = body.profile;
    if (Math.abs(now() - body.timestamp) > requestSkewMs) {
      throw refuse('request_stale', 'timestamp must be Unix ms within 5 minutes of now');
    }
    const message = registrationRequestMessage({
      server: key.address,
      hardwareId: body.hardwareId,
      deviceKey: body.deviceKey,
      owner: body.owner,
      ownerProof: body.ownerProof,
      deviceProof: body.deviceProof,
      profile,
      timestamp: body.timestamp,
    });
    if (!verifyMessageHex(body.signature, message, body.deviceKey)) {
      throw refuse(
        'signature_invalid',
        "signature is not the device key's signature of this registration for this server",
      );
    }
    const hwid = await chain.hwid(body.hardwareId);
    if (
      !hwid ||
      hwid.deviceKeyHash !== deviceKeyHashOf(body.deviceKey) ||
      hardwareIdOf(hwid.authority, hwid.deviceKeyHash) !== body.hardwareId
    ) {
      throw refuse(
        'hwid_unknown',
        'no hardware id like this is recorded on chain for this device key',
      );
    }
    if (!trusted.has(hwid.authority)) {
      throw refuse(
        'authority_not_trusted',
        'this server does not take hardware ids of that authority',
      );
    }
    const chainId = await chain.chainId();
    const ownerKey = toHex(publicKeyFromAddress(body.owner, 'owner'));
    const consent = printerRegistrationMessage(
      chainId,
      body.hardwareId,
      key.address,
      profileHashOf(profile),
    );
    if (!verifyMessageHex(body.ownerProof, consent, ownerKey)) {
      throw refuse(
        'owner_proof_invalid',
        "ownerProof is not the owner's signature of printerRegistrationMessage(chainId, hardwareId, server, profileHash)",
      );
    }
    const deviceConsent = printerDeviceMessage(
      chainId,
      body.hardwareId,
      key.address,
      body.owner,
      profileHashOf(profile),
    );
    if (!verifyMessageHex(body.deviceProof, deviceConsent, body.deviceKey)) {
      throw refuse(
        'device_proof_invalid',
        "deviceProof is not the device key's signature of printerDeviceMessage(chainId, hardwareId, server, owner, profileHash)",
      );
    }
    // A board that is a printer already is refused before any secret, certificate or tx.
    if (hwid.printerId !== undefined) {
      throw refuse('hwid_registered', 'this hardware id is an active printer already');
    }
    if (registrationsInFlight >= config.limits.registrationsInFlightMax) {
      throw refuse('busy', 'too many registrations in progress: retry shortly');
    }
    const secret = takeRegistrationSecret(dataDir, body.secret);
    if (!secret) {
      throw refuse(
        'registration_secret_invalid',
        'the registration secret is unknown or used already: ask the operator for a new one',
      );
    }
    registrationsInFlight++;
    try {
      const printerId = `pr_${randomHex(16)}`;
      const clientId = `printer-${randomHex(8)}`;
      const issued = await issueParty({
        ca,
        deviceId: printerId,
        role: 'printer',
        keyType: 'p256',
        days: config.limits.certificateDays,
        profile: printerPartyProfile,
      });
      const certFingerprint = certificateFingerprint(issued.certificatePem);
      const record = {
        printerId,
        clientId,
        hardwareId: body.hardwareId,
        owner: body.owner,
        certFingerprint,
        serial: certificateSerial(issued.certificatePem),
        createdAt: now(),
        state: 'pending' as const,
      };
      printers.write(record);
      let outcome;
      try {
        outcome = await chain.submit('printer.register', {
          printerId,
          hardwareId: body.hardwareId,
          owner: body.owner,
          clientId,
          certFingerprint,
          profile,
          ownerProof: body.ownerProof,
          deviceKey: body.deviceKey,
          deviceProof: body.deviceProof,
        });
      } catch (error) {
        // The node was not reached, or did not answer: the secret goes back (a transient failure,
        // counted: at most registrationAttemptsMax per secret). The record stays pending; should
        // the tx commit after all, the board is an active printer and a retry is refused.
        log('warn', 'registration_unsettled', { printerId, reason: (error as Error).message });
        throw error;
      }
      if (outcome.status !== 'ok') {
        // A refusal is final: the secret is spent (no loop of refused txs on one secret).
        printers.remove(printerId);
        secret.consume();
        const code =
          outcome.code in printServerErrors
            ? (outcome.code as PrintServerErrorCode)
            : 'chain_refused';
        throw refuse(
          code,
          `the chain refused printer.register: ${outcome.code}: ${outcome.message}`,
        );
      }
      secret.consume();
      printers.write({ ...record, state: 'registered', tx: outcome.tx });
      stats.registrations++;
      log('info', 'printer_registered', { printerId, owner: body.owner, tx: outcome.tx });
      return reply.code(201).header('cache-control', 'no-store').send({
        printerId,
        clientId,
        certificate: issued.certificatePem,
        key: issued.privateKeyPem,
        caCertificate: ca.certificatePem,
        printsUrl,
        tx: outcome.tx,
      });
    } catch (error) {
      if (!(error instanceof Refusal)) secret.giveBack();
      throw error;
    } finally {
      registrationsInFlight--;
    }
  });

  // ---- design uploads ----------------------------------------------------------------------------

  let uploadsInFlight = 0;
  /** Client networks with an upload being received (one each). */
  const uploadingNetworks = new Set<string>();
  /** The client network each unlisted upload came from (since start; the sweep forgets them). */
  const uploaderNetwork = new Map<string, string>();
  const pendingOfNetwork = (network: string) => {
    let count = 0;
    for (const [contentHash, from] of uploaderNetwork) {
      if (from === network && store.meta(contentHash)?.registered === false) count++;
    }
    return count;
  };
  /** Bytes of uploads being received, reserved before their body is read. */
  const reserved = { count: 0, bytes: 0, byDesigner: new Map<string, number>() };

  function usageOf(designer: string) {
    const all = store.all();
    const pending = all.filter((meta) => !meta.registered);
    const mine = all.filter((meta) => meta.owner === designer);
    return {
      stored: all.length + reserved.count,
      storedBytes: all.reduce((sum, meta) => sum + meta.size, 0) + reserved.bytes,
      designerBytes:
        mine.reduce((sum, meta) => sum + meta.size, 0) + (reserved.byDesigner.get(designer) ?? 0),
      pending: pending.length + reserved.count,
      designerPending: pending.filter((meta) => meta.owner === designer).length,
    };
  }

  const measure = async (lines: AsyncIterable<string>) => {
    try {
      return await measureGcode(lines);
    } catch (error) {
      if (error instanceof GcodeParseError || error instanceof AdaptError) {
        throw refuse('gcode_invalid', `the G-code does not parse: ${error.message}`);
      }
      if (error instanceof GatewayStoreError) {
        throw refuse('content_corrupt', 'the stored design fails its integrity check');
      }
      throw error;
    }
  };

  async function uploadAnswer(contentHash: string, designer: string, body: Buffer) {
    const measured = await measure(linesOf([body]));
    const { min } = measured;
    if (min.x < 0 || min.y < 0 || min.z < 0) {
      throw refuse(
        'design_does_not_fit',
        'the toolpath goes below 0 on an axis: it leaves any bed',
      );
    }
    const bbox: DesignBox = { x: measured.bbox.x, y: measured.bbox.y, z: measured.bbox.z };
    if (bbox.x > bedAxisUmMax || bbox.y > bedAxisUmMax || bbox.z > bedAxisUmMax) {
      throw refuse(
        'design_does_not_fit',
        'the toolpath reaches past 2 m on an axis: no bed fits it',
      );
    }
    if (measured.lines < 1) throw refuse('gcode_invalid', 'the G-code has no lines');
    if (!readMeasure(dataDir, contentHash)) writeMeasure(dataDir, contentHash, measured);
    const designId = designIdOf(key.address, designer, contentHash);
    const serverProof = signMessageHex(
      designUploadMessage(
        await chain.chainId(),
        designId,
        designer,
        contentHash,
        measured.lines,
        body.length,
        bbox,
        config.platformShareBp,
      ),
      serverKeyHex,
    );
    return {
      designId,
      contentHash,
      sizeBytes: body.length,
      lines: measured.lines,
      bbox,
      platformShareBp: config.platformShareBp,
      serverProof,
      server: key.address,
      travelMoves: measured.travelMoves,
    };
  }

  type UploadRequest = FastifyRequest & { release?: () => void };

  await app.register((uploads, _options, done) => {
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: config.uploads.bytesMax },
      (_request, body, parsed) => parsed(null, body),
    );
    uploads.post(
      '/v1/printing/designs',
      {
        bodyLimit: config.uploads.bytesMax,
        // Everything refusable without the body is refused before it is read, and its room is
        // reserved: a crowd of keys cannot fill the memory or the disk.
        onRequest: async (request, reply) => {
          spend(request.ip);
          const designer = request.headers['x-coffer-designer'];
          if (typeof designer !== 'string' || !isAddress(designer)) {
            throw refuse('invalid_request', 'x-coffer-designer must be the designer address');
          }
          const length = Number(request.headers['content-length']);
          if (!Number.isSafeInteger(length) || length <= 0) {
            throw refuse('length_required', 'an upload needs a Content-Length (not chunked)');
          }
          if (length > config.uploads.bytesMax) {
            throw refuse(
              'upload_too_large',
              `an upload is at most ${config.uploads.bytesMax} bytes`,
            );
          }
          const time = Number(request.headers['x-coffer-time']);
          if (!Number.isSafeInteger(time) || Math.abs(now() - time) > requestSkewMs) {
            throw refuse('request_stale', 'x-coffer-time must be Unix ms within 5 minutes of now');
          }
          const contentHash = request.headers['x-coffer-content-hash'];
          if (typeof contentHash !== 'string' || !/^[0-9a-f]{64}$/.test(contentHash)) {
            throw refuse(
              'invalid_request',
              'x-coffer-content-hash must be the SHA-256 (hex) of the body',
            );
          }
          const authorisation = request.headers['x-coffer-upload-authorisation'];
          const designerKey = toHex(publicKeyFromAddress(designer, 'designer'));
          const message = designUploadAuthorisationMessage({
            server: key.address,
            designer,
            contentHash,
            sizeBytes: length,
            timestamp: time,
          });
          if (
            typeof authorisation !== 'string' ||
            !verifyMessageHex(authorisation, message, designerKey)
          ) {
            throw refuse(
              'signature_invalid',
              "x-coffer-upload-authorisation must be the designer's signature of (server, designer, contentHash, size, time)",
            );
          }
          const network = clientNetworkOf(request.ip);
          if (uploadingNetworks.has(network)) {
            throw refuse(
              'upload_in_progress',
              'an upload from this address is in progress: one at a time',
            );
          }
          if (uploadsInFlight >= config.limits.uploadsInFlightMax) {
            throw refuse('busy', 'too many uploads in progress: retry shortly');
          }
          const existing = store.meta(contentHash);
          if (!existing) {
            const networkPending = pendingOfNetwork(network);
            if (networkPending >= config.uploads.pendingPerAddressMax) {
              throw refuse(
                'pending_uploads_exceeded',
                `this address has ${networkPending} uploads not listed yet: list them (design.list) or wait for their expiry`,
              );
            }
            const usage = usageOf(designer);
            if (usage.designerPending >= config.uploads.pendingPerDesignerMax) {
              throw refuse(
                'pending_uploads_exceeded',
                `this designer has ${usage.designerPending} uploads not listed yet: list them (design.list) or wait for their expiry`,
              );
            }
            if (usage.pending >= config.uploads.pendingTotalMax) {
              throw refuse(
                'pending_uploads_exceeded',
                'the server holds too many unlisted uploads: retry later',
              );
            }
            if (usage.designerBytes + length > config.uploads.designerBytesMax) {
              throw refuse(
                'storage_quota_exceeded',
                'this designer has used the quota of this server',
              );
            }
            if (
              usage.stored >= config.uploads.storedDesignsMax ||
              usage.storedBytes + length > config.uploads.storedBytesMax
            ) {
              throw refuse(
                'storage_quota_exceeded',
                'this server is full: it takes no more uploads',
              );
            }
          }
          if (request.raw.destroyed || reply.raw.destroyed) {
            throw refuse('invalid_request', 'the client went before its upload started');
          }
          uploadsInFlight++;
          uploadingNetworks.add(network);
          // The deadline follows the size: a slow sender is cut, not waited for.
          const deadline = setTimeout(
            () => {
              log('info', 'upload_too_slow', { designer, size: length });
              request.raw.destroy();
              reply.raw.destroy();
            },
            uploadGraceMs + Math.ceil((length * 1000) / config.uploads.floorBytesPerSecond),
          );
          deadline.unref();
          reserved.count++;
          reserved.bytes += length;
          reserved.byDesigner.set(designer, (reserved.byDesigner.get(designer) ?? 0) + length);
          let released = false;
          const release = () => {
            if (released) return;
            released = true;
            clearTimeout(deadline);
            uploadsInFlight--;
            uploadingNetworks.delete(network);
            reserved.count--;
            reserved.bytes -= length;
            const left = (reserved.byDesigner.get(designer) ?? length) - length;
            if (left > 0) reserved.byDesigner.set(designer, left);
            else reserved.byDesigner.delete(designer);
          };
          reply.raw.once('close', release);
          (request as UploadRequest).release = release;
        },
      },
      async (request, reply) => {
        const release = (request as UploadRequest).release;
        try {
          const body = request.body;
          if (!Buffer.isBuffer(body) || body.length === 0) {
            throw refuse('invalid_request', "the body is the design's G-code");
          }
          const designer = request.headers['x-coffer-designer'] as string;
          const contentHash = request.headers['x-coffer-content-hash'] as string;
          if (crypto.createHash('sha256').update(body).digest('hex') !== contentHash) {
            throw refuse(
              'content_hash_mismatch',
              'the body is not the one x-coffer-content-hash names',
            );
          }
          const existing = store.meta(contentHash);
          if (existing) {
            if (existing.owner !== designer) {
              throw refuse('design_exists', 'this G-code is stored here for another designer');
            }
            return reply.code(200).send({
              ...(await uploadAnswer(contentHash, designer, body)),
              expiresAt: existing.registered
                ? null
                : existing.uploadedAt + config.uploads.pendingExpiryMs,
            });
          }
          const answer = await uploadAnswer(contentHash, designer, body);
          // The same bytes may have arrived meanwhile (two uploads racing).
          const raced = store.meta(contentHash);
          if (raced) {
            if (raced.owner !== designer) {
              throw refuse('design_exists', 'this G-code is stored here for another designer');
            }
          } else {
            store.put({ body, owner: designer, mediaType: 'text/x-gcode', now: now() });
            uploaderNetwork.set(contentHash, clientNetworkOf(request.ip));
            stats.uploads++;
            log('info', 'design_uploaded', {
              designId: answer.designId,
              designer,
              size: body.length,
            });
          }
          const meta = store.meta(contentHash)!;
          return reply
            .code(raced ? 200 : 201)
            .send({ ...answer, expiresAt: meta.uploadedAt + config.uploads.pendingExpiryMs });
        } finally {
          release?.();
        }
      },
    );
    done();
  });

  async function sweepUploads() {
    for (const meta of store.all()) {
      if (meta.registered) continue;
      try {
        const design = await chain.design(designIdOf(key.address, meta.owner, meta.contentId));
        if (design && design.contentHash === meta.contentId && design.server === key.address) {
          store.markRegistered(meta.contentId);
          uploaderNetwork.delete(meta.contentId);
          continue;
        }
      } catch (error) {
        log('warn', 'sweep_chain_unavailable', { reason: (error as Error).message });
        return;
      }
      if (now() - meta.uploadedAt > config.uploads.pendingExpiryMs) {
        store.remove(meta.contentId);
        uploaderNetwork.delete(meta.contentId);
        removeMeasure(dataDir, meta.contentId);
        log('info', 'upload_expired', { contentHash: meta.contentId, designer: meta.owner });
      }
    }
  }

  // ---- the printer behind a request (prints port) ------------------------------------------------

  interface PrinterRequest {
    printerId: string;
    fingerprint: string;
  }
  const printerOf = new WeakMap<FastifyRequest, PrinterRequest>();

  /** The registered, unrevoked printer a request's client certificate names; throws a Refusal. */
  function identify(request: FastifyRequest): PrinterRequest {
    const socket = request.raw.socket as TLSSocket;
    const certificate = socket.authorized ? socket.getPeerX509Certificate() : undefined;
    if (!certificate) {
      throw refuse('printer_unknown', 'a printer certificate of this server is required');
    }
    const fingerprint = crypto.createHash('sha256').update(certificate.raw).digest('hex');
    if (revokedFingerprints.has(fingerprint)) {
      socket.destroySoon();
      throw refuse('printer_revoked', 'this printer is revoked');
    }
    const record = printers.byCertFingerprint(fingerprint);
    if (record?.state !== 'registered') {
      throw refuse('printer_unknown', 'this certificate names no printer registered here');
    }
    return { printerId: record.printerId, fingerprint };
  }

  /** Each printer's requests per minute: every report costs a chain read, and a tx at a step. */
  const spendPrinter = createRateLimiter({
    perMinute: config.limits.requestsPerMinutePerAddress,
    addressesMax: config.limits.addressesMax,
    now,
  });

  prints.addHook('onRequest', (request, _reply, done) => {
    try {
      const printer = identify(request);
      spendPrinter(printer.printerId);
      printerOf.set(request, printer);
      done();
    } catch (error) {
      done(error as Error);
    }
  });

  function printerFor(request: FastifyRequest): PrinterRequest {
    const printer = printerOf.get(request);
    if (!printer) throw refuse('printer_unknown', 'no printer certificate');
    return printer;
  }

  /** The token, checked to be this server's and this printer's. */
  async function tokenFor(tokenId: string, printerId: string): Promise<PrintTokenRecord> {
    if (!tokenIdPattern.test(tokenId))
      throw refuse('invalid_request', 'tokenId must be 64 lowercase hex digits');
    const token = await chain.token(tokenId);
    if (!token) throw refuse('print_token_not_found', 'no print token has this id');
    if (token.server !== key.address) {
      throw refuse('not_token_server', 'this token is for another print server');
    }
    if (token.printerId !== printerId) {
      throw refuse('token_printer_mismatch', 'this token was bought for another printer');
    }
    return token;
  }

  function closedOrNotPrinting(token: PrintTokenRecord): Refused | undefined {
    if (token.status === 'finished' || token.status === 'refunded') {
      return refuse('token_closed', `the token is ${token.status}`);
    }
    if (token.status !== 'printing')
      return refuse('token_not_printing', 'no print was started with this token');
    return undefined;
  }

  /** A report's tx: the chain's refusal passed on with its code. */
  async function send(type: ServerTxType, payload: Record<string, unknown>) {
    const outcome = await chain.submit(type, payload);
    if (outcome.status === 'ok') return outcome;
    const code =
      outcome.code in printServerErrors ? (outcome.code as PrintServerErrorCode) : 'chain_refused';
    throw refuse(code, `the chain refused ${type}: ${outcome.message}`);
  }

  // ---- redeem and stream -------------------------------------------------------------------------

  let streamsInFlight = 0;
  const redeeming = new Set<string>();
  /** Printers with a stream open: a printer prints one thing at a time. */
  const streamingPrinters = new Set<string>();
  /**
   * The share (0..100) of each print's adapted lines this server wrote to its stream, for the
   * attempt under way: what `print.progress` and `print.fail` carry as `delivered` (the chain's
   * refund follows it, never the printer's word). Bounded like `progressSent`.
   */
  const delivered = new Map<string, number>();
  const setDelivered = (tokenId: string, percent: number) => {
    delivered.set(tokenId, Math.max(delivered.get(tokenId) ?? 0, percent));
    if (delivered.size > progressEntriesMax) {
      const oldest = delivered.keys().next().value;
      if (oldest !== undefined) delivered.delete(oldest);
    }
  };

  /** Decrypted lines of a stored design, read lazily chunk by chunk. */
  function designLines(contentHash: string) {
    const meta = store.meta(contentHash);
    if (!meta) throw refuse('design_not_found', 'this server no longer holds the design');
    return linesOf(store.readRange(contentHash, 0, meta.size - 1));
  }

  /**
   * At most how many lines the design adapted to the profile has: the body's commands (measured
   * at upload) and the most the profile's start and end add (the heating, the flow and the modes
   * the adapter writes around them). An upper bound, known before the first line is adapted; the
   * exact count follows the last line as a trailer. No full pass over the design before it
   * streams: a 64 MiB design would keep its printer waiting for the count.
   */
  async function linesAtMost(contentHash: string, profile: PrinterProfile): Promise<number> {
    let measured = readMeasure(dataDir, contentHash);
    if (!measured) {
      measured = await measure(designLines(contentHash));
      writeMeasure(dataDir, contentHash, measured);
    }
    const commandLines = (code: string) => code.split('\n').filter((l) => l.trim() !== '').length;
    const heating = 4;
    const flowAndModes = 4;
    return (
      heating +
      Math.max(1, commandLines(profile.startGcode)) +
      flowAndModes +
      measured.bodyCommands +
      Math.max(4, commandLines(profile.endGcode))
    );
  }

  prints.post('/v1/printing/prints', async (request, reply) => {
    const { printerId } = printerFor(request);
    const parsed = redeemSchema.safeParse(request.body);
    if (!parsed.success) throw invalidRequest(parsed.error.issues);
    const { tokenId } = parsed.data;
    if (redeeming.has(tokenId))
      throw refuse('token_redeemed', 'this token is being redeemed already');
    if (streamingPrinters.has(printerId)) {
      throw refuse('print_in_progress', 'this printer has a print streaming already');
    }
    if (streamsInFlight >= config.limits.streamsInFlightMax) {
      throw refuse('busy', 'too many prints streaming: retry shortly');
    }
    // The slot, the printer and the token are held until the response closes, however it ends.
    redeeming.add(tokenId);
    streamingPrinters.add(printerId);
    streamsInFlight++;
    let released = false;
    let idle: NodeJS.Timeout | undefined;
    let streaming = false;
    const release = () => {
      if (released) return;
      released = true;
      clearInterval(idle);
      redeeming.delete(tokenId);
      streamingPrinters.delete(printerId);
      streamsInFlight--;
      // What went out is on chain even if the printer never reports again.
      if (streaming) void recordDelivered(tokenId);
    };
    reply.raw.once('close', release);
    try {
      const token = await tokenFor(tokenId, printerId);
      if (token.status === 'printing')
        throw refuse('token_redeemed', 'the token was redeemed already');
      if (token.status !== 'issued') throw refuse('token_closed', `the token is ${token.status}`);
      if (token.expiresAt <= now()) {
        throw refuse(
          'token_expired',
          'the token has expired: its buyer may cancel it for a refund',
        );
      }
      const printer = await chain.printer(printerId);
      if (!printer || printer.status !== 'active')
        throw refuse('printer_revoked', 'this printer is revoked');
      const design = await chain.design(token.designId);
      if (!design || design.server !== key.address) {
        throw refuse('design_not_found', 'this server holds no such design');
      }
      const lines = await linesAtMost(design.contentHash, printer.profile);

      const watermark = crypto.randomBytes(watermarkBytes);
      const salt = crypto.randomBytes(16).toString('hex');
      const watermarkHex = watermark.toString('hex');
      const watermarkCommitment = watermarkCommitmentOf(watermarkHex, salt);
      appendWatermark(dataDir, {
        watermark: watermarkHex,
        salt,
        commitment: watermarkCommitment,
        tokenId,
        printerId,
        designId: token.designId,
        contentHash: design.contentHash,
        buyer: token.buyer,
        at: now(),
      });
      const started = await send('print.start', { tokenId, watermarkCommitment });
      stats.prints++;
      progressSent.delete(tokenId);
      delivered.set(tokenId, 0);
      log('info', 'print_started', { tokenId, printerId, tx: started.tx });
      if (reply.raw.destroyed || request.raw.socket.destroyed) {
        // Started on chain, nobody to stream to: the printer reports the failure (or the buyer
        // cancels after 24 h without progress).
        return reply.hijack();
      }
      const source = adaptGcode(designLines(design.contentHash), printer.profile, { watermark });
      streaming = true;
      let sent = 0;
      const body = Readable.from(
        (async function* () {
          let batch = '';
          try {
            // What was handed to the socket: at most 99 % until the last line went.
            const wrote = () =>
              setDelivered(tokenId, Math.min(99, Math.floor((sent * 100) / lines)));
            let batchLines = 0;
            for await (const line of source) {
              batch += `${line}\n`;
              batchLines++;
              stats.printedLines++;
              if (batch.length >= streamChunkBytes) {
                yield batch;
                sent += batchLines;
                batchLines = 0;
                wrote();
                batch = '';
              }
            }
            if (batch !== '') yield batch;
            sent += batchLines;
            setDelivered(tokenId, 100);
          } catch (error) {
            log('error', 'stream_failed', { tokenId, reason: (error as Error).message });
            throw error;
          }
        })(),
        { objectMode: false, highWaterMark: streamChunkBytes },
      );
      // No byte written for streamIdleMs (the printer reads nothing): the stream is cut and the
      // slot freed. Checked a few times per period against the socket's written bytes.
      const socket = request.raw.socket;
      let lastWritten = socket.bytesWritten;
      let lastWriteAt = Date.now();
      const idleMs = config.limits.streamIdleMs;
      idle = setInterval(
        () => {
          if (released) {
            clearInterval(idle);
          } else if (socket.bytesWritten !== lastWritten) {
            lastWritten = socket.bytesWritten;
            lastWriteAt = Date.now();
          } else if (Date.now() - lastWriteAt >= idleMs) {
            log('info', 'stream_idle', { tokenId, printerId });
            clearInterval(idle);
            socket.destroy();
          }
        },
        Math.max(25, Math.floor(idleMs / 4)),
      );
      idle.unref();
      // A stream that fails after the status went out is cut (the socket destroyed), never ended:
      // a cut print is never taken for a whole one. A whole one ends with its count as a trailer.
      return reply
        .code(200)
        .trailer('x-coffer-print-lines-sent', (_reply, _payload, done) => done(null, String(sent)))
        .header('content-type', 'text/plain; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('x-coffer-print-lines', String(lines))
        .header('x-coffer-token-id', tokenId)
        .send(body);
    } catch (error) {
      release();
      throw error;
    }
  });

  // ---- progress, finish, fail --------------------------------------------------------------------

  /** The last percent sent as `print.progress`, per token (bounded: the oldest go first). */
  const progressSent = new Map<string, number>();
  /** The last `delivered` the chain took, per token. */
  const deliveredSent = new Map<string, number>();
  const deliveredOf = (token: PrintTokenRecord) =>
    Math.max(
      delivered.get(token.tokenId) ?? 0,
      (token as { attemptDelivered?: number }).attemptDelivered ?? 0,
    );
  const noteDelivered = (tokenId: string, value: number) => {
    deliveredSent.set(tokenId, value);
    if (deliveredSent.size > progressEntriesMax) {
      const oldest = deliveredSent.keys().next().value;
      if (oldest !== undefined) deliveredSent.delete(oldest);
    }
  };

  /**
   * A stream closed: when more of it went out than the chain knows, a `print.progress` records
   * it (at the percent the chain has), so a printer that reads everything and then says nothing
   * cannot make its buyer's refund whole.
   */
  async function recordDelivered(tokenId: string): Promise<void> {
    const value = delivered.get(tokenId) ?? 0;
    if (value <= (deliveredSent.get(tokenId) ?? 0)) return;
    try {
      const token = await chain.token(tokenId);
      if (token?.status !== 'printing') return;
      if (value <= ((token as { attemptDelivered?: number }).attemptDelivered ?? 0)) return;
      const outcome = await chain.submit('print.progress', {
        tokenId,
        percent: Math.max(token.percent, progressSent.get(tokenId) ?? 0),
        delivered: value,
      });
      if (outcome.status === 'ok') {
        noteDelivered(tokenId, value);
        stats.progressTxs++;
      } else {
        log('warn', 'delivered_refused', { tokenId, code: outcome.code });
      }
    } catch (error) {
      log('warn', 'delivered_unrecorded', { tokenId, reason: (error as Error).message });
    }
  }

  prints.post<{ Params: { tokenId: string } }>(
    '/v1/printing/prints/:tokenId/progress',
    async (request) => {
      const { printerId } = printerFor(request);
      const parsed = progressSchema.safeParse(request.body);
      if (!parsed.success) throw invalidRequest(parsed.error.issues);
      const { percent } = parsed.data;
      const { tokenId } = request.params;
      const token = await tokenFor(tokenId, printerId);
      const refusal = closedOrNotPrinting(token);
      if (refusal) throw refusal;
      const last = Math.max(progressSent.get(tokenId) ?? 0, token.percent);
      if (percent < last) {
        throw refuse('progress_backwards', `percent is below the last reported ${last}`);
      }
      if (
        Math.floor(percent / progressStepPct) <= Math.floor(last / progressStepPct) &&
        percent !== 100
      ) {
        return { tokenId, percent, recorded: false };
      }
      if (percent === last) return { tokenId, percent, recorded: false };
      progressSent.set(tokenId, percent);
      if (progressSent.size > progressEntriesMax) {
        const oldest = progressSent.keys().next().value;
        if (oldest !== undefined) progressSent.delete(oldest);
      }
      const sharePut = deliveredOf(token);
      const outcome = await send('print.progress', { tokenId, percent, delivered: sharePut });
      noteDelivered(tokenId, sharePut);
      stats.progressTxs++;
      return { tokenId, percent, recorded: true, tx: outcome.tx };
    },
  );

  prints.post<{ Params: { tokenId: string } }>(
    '/v1/printing/prints/:tokenId/finish',
    async (request) => {
      const { printerId } = printerFor(request);
      const parsed = finishSchema.safeParse(request.body ?? undefined);
      if (!parsed.success) throw invalidRequest(parsed.error.issues);
      const { tokenId } = request.params;
      const token = await tokenFor(tokenId, printerId);
      const refusal = closedOrNotPrinting(token);
      if (refusal) throw refusal;
      const outcome = await send('print.finish', { tokenId });
      progressSent.delete(tokenId);
      delivered.delete(tokenId);
      deliveredSent.delete(tokenId);
      log('info', 'print_finished', { tokenId, printerId, tx: outcome.tx });
      return { tokenId, status: 'finished', tx: outcome.tx };
    },
  );

  prints.post<{ Params: { tokenId: string } }>(
    '/v1/printing/prints/:tokenId/fail',
    async (request) => {
      const { printerId } = printerFor(request);
      const parsed = failSchema.safeParse(request.body);
      if (!parsed.success) throw invalidRequest(parsed.error.issues);
      const { tokenId } = request.params;
      const token = await tokenFor(tokenId, printerId);
      const refusal = closedOrNotPrinting(token);
      if (refusal) throw refusal;
      const outcome = await send('print.fail', {
        tokenId,
        percent: parsed.data.percent,
        reason: chainReason(parsed.data.reason),
        delivered: deliveredOf(token),
      });
      progressSent.delete(tokenId);
      delivered.delete(tokenId);
      deliveredSent.delete(tokenId);
      const after = await chain.token(tokenId);
      log('info', 'print_failed', { tokenId, printerId, status: after?.status, tx: outcome.tx });
      return { tokenId, status: after?.status ?? 'issued', tx: outcome.tx };
    },
  );

  // ---- revocations -------------------------------------------------------------------------------

  async function swapCrl() {
    crlPem = await createCrl({
      ca,
      serials: [...revokedSerials],
      days: crlDays,
      nowMs: Date.now(),
    });
    crlSignedAt = Date.now();
    prints.server.setSecureContext(mtlsOptions());
  }

  async function refreshRevocations(): Promise<number> {
    let added = 0;
    for (;;) {
      const page = await chain.revocations(key.address, revocationCursor);
      for (const revocation of page.revocations) {
        revocationCursor = String(revocation.seq);
        if (revokedFingerprints.has(revocation.certFingerprint)) continue;
        revokedFingerprints.add(revocation.certFingerprint);
        const record = printers.byCertFingerprint(revocation.certFingerprint);
        if (record) revokedSerials.add(record.serial);
        for (const socket of socketsByFingerprint.get(revocation.certFingerprint) ?? []) {
          socket.destroy();
        }
        added++;
        log('info', 'printer_revoked', { printerId: revocation.printerId });
      }
      if (page.next === null || page.revocations.length === 0) break;
      revocationCursor = page.next;
    }
    if (added > 0 || Date.now() - crlSignedAt > crlRefreshMs) {
      stats.revocations += added;
      await swapCrl();
    }
    return added;
  }

  // ---- timers and life -------------------------------------------------------------------------

  const logged = (task: () => Promise<unknown>, event: string) => (): Promise<void> =>
    task().then(
      () => undefined,
      (error: unknown) =>
        log('error', event, { reason: error instanceof Error ? error.message : String(error) }),
    );
  const timers: NodeJS.Timeout[] = [];
  let polling: Promise<void> | undefined;
  if (options.timers ?? true) {
    const poll = logged(refreshRevocations, 'revocations_failed');
    timers.push(
      setInterval(() => {
        polling ??= poll().finally(() => (polling = undefined));
      }, config.limits.revocationPollMs).unref(),
    );
    const sweep = logged(sweepUploads, 'sweep_failed');
    timers.push(setInterval(() => void sweep(), sweepIntervalMs).unref());
  }

  await app.ready();
  await prints.ready();
  const server: PrintServer = {
    app,
    prints,
    address: key.address,
    chain,
    store,
    printers,
    stats,
    caCertificate: ca.certificatePem,
    refreshRevocations,
    sweepUploads,
    get printsUrl() {
      return printsUrl;
    },
    set printsUrl(url: string) {
      printsUrl = url;
    },
    async close() {
      for (const timer of timers) clearInterval(timer);
      await polling;
      await Promise.all([app.close(), prints.close()]);
    },
  };
  return server;
}

export interface RunningPrintServer {
  /** The public HTTPS URL (registrations, uploads). */
  url: string;
  /** The mTLS URL (prints). */
  printsUrl: string;
  /** The server's address: the sender of its txs, the `server` of its printers and designs. */
  address: string;
  server: PrintServer;
  close(): Promise<void>;
}

/** Starts both listeners; reads the chain's revocations first (no revoked printer ever passes). */
export async function startPrintServer(
  config: Readonly<PrintServerConfig>,
  options: PrintServerOptions = {},
): Promise<RunningPrintServer> {
  const server = await createPrintServer(config, options);
  await orClose(
    server,
    async () => {
      await server.chain.chainId();
      await server.refreshRevocations();
      await server.sweepUploads();
    },
    (error) =>
      error instanceof ChainUnavailableError
        ? new PrintServerConfigError(`node.url ${config.node.url}: ${error.message}`)
        : error,
  );
  const hostName = config.http.hostNames[0]!;
  const urlOf = (port: number) =>
    `https://${hostName.includes(':') ? `[${hostName}]` : hostName}:${port}`;
  await orClose(server, async () => {
    await server.app.listen({ host: config.http.host, port: config.http.port });
    await server.prints.listen({ host: config.http.host, port: config.http.printsPort });
  });
  const portOf = (app: FastifyInstance<https.Server>) => {
    const address = app.server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  };
  const url = urlOf(portOf(server.app));
  const printsUrl = config.http.printsUrl ?? urlOf(portOf(server.prints));
  server.printsUrl = printsUrl;
  return { url, printsUrl, address: server.address, server, close: () => server.close() };
}
