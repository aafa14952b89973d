import crypto from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { isAddress } from '../../crypto/index.js';
import type { ModuleHost } from '../../node/module-host.js';
import type { SubmitResult } from '../../node/node.js';
import { errorSchema, sendError, sendRelayFailure, stringParams } from '../../node/routes.js';
import { jsonSchema } from '../../protocol/schema.js';
import { getParticipant, getToken, getTokenService } from './queries.js';
import {
  bodyRefusal,
  detokeniseBodySchema,
  panUpdateBodySchema,
  provisionBodySchema,
  relayBodyBytesMax,
  rewrapBodySchema,
} from './routes-bodies.js';
import {
  detokeniseResultSchema,
  detokeniseSignedFields,
  isCardNumber,
  panCommitment,
  panUpdateSignedFields,
  participantSchema,
  provisionSignedFields,
  relayErrorSchema,
  relayResultSchema,
  rewrapResultSchema,
  tokenRequestHash,
  tokenServiceSchema,
  tokenViewSchema,
  type DetokeniseBody,
  type PanUpdateBody,
  type ProvisionRequestBody,
  type RewrapBody,
  type TokenDomain,
} from './schema.js';
import {
  hasRole,
  readBinOwner,
  readRequest,
  readToken,
  tokensKeys,
  type TokenRecord,
} from './state.js';
import { isTokenService } from './txs-service.js';
import { acquirerRefusal, detokeniseParty, domainRefusal, requestSigned } from './txs-tokens.js';
import {
  openPan,
  panFingerprint,
  randomToken,
  readVaultKeyFile,
  rewrapEnvelope,
  sealPan,
  type VaultKeys,
} from './vault.js';

/** Token records one re-wrap call reads at most, looking for envelopes under an older KEK. */
export const rewrapScanMax = 2_000;
/**
 * Tries at drawing a token number not issued yet. A token has its PAN's length: 6 BIN digits, a
 * Luhn check digit and 6 (13-digit PANs) to 12 random digits, so a try clashes with probability
 * (tokens issued in the BIN) / 10^6 for a 13-digit PAN (1 in 10^12 at 19 digits): a busy token BIN
 * for 13-digit PANs refuses provisions once it nears a million tokens (add token BINs before).
 */
const tokenDrawsMax = 8;

/**
 * The token service's routes (issue 17). Reads answer committed state. The three relays
 * (`POST /v1/tokens`, `.../pan-update`, `.../detokenise`) take a participant's signed request,
 * check the signature and the role against committed state BEFORE the node signs anything, do
 * the randomness and the vault's cryptography, and submit the node's own tx carrying the
 * participant's signature, which every node checks again. Lifecycle events (suspend, resume,
 * delete) are ordinary txs a participant sends to `POST /v1/txs`.
 */
export function tokensRoutes(node: ModuleHost): void {
  const { app, store, chain } = node;
  // A bad key file stops the node at start (a fault of its configuration, named with its path).
  const vault: VaultKeys | undefined =
    node.config.vaultKeyFile === undefined ? undefined : readVaultKeyFile(node.config.vaultKeyFile);
  /**
   * The node's own tx for `participant`'s request, through the node's relay gate (its caps:
   * `mempool_full`, `relays_busy`); a request joining an identical one in flight (`key`) takes no
   * room.
   */
  const relay = (
    key: string | undefined,
    participant: string,
    type: string,
    payload: Record<string, unknown>,
  ): Promise<SubmitResult> => node.relays.run(key, participant, type, payload);

  const relayFailure = sendRelayFailure;

  /** The relays' common preconditions: a ready node holding the vault key, and room. */
  function relayRefusal(reply: FastifyReply): FastifyReply | undefined {
    if (!node.healthy) return sendError(reply, 'not_ready');
    if (!vault) return sendError(reply, 'vault_key_missing');
    if (node.relays.full) return sendError(reply, 'mempool_full');
    return undefined;
  }

  /**
   * The token a relay on one token (PAN update, detokenisation) acts on, once the relay may run,
   * the token exists and the body's fields pass; otherwise undefined, the refusal answered.
   */
  function relayedToken(
    reply: FastifyReply,
    token: string,
    kind: 'panUpdate' | 'detokenise',
    body: object,
  ): TokenRecord | undefined {
    if (relayRefusal(reply)) return undefined;
    const refuse = (code: string, field: string) => void sendError(reply, code, field);
    if (!isCardNumber(token)) return refuse('invalid_token', 'token');
    const record = readToken(store, token);
    if (!record) return refuse('token_not_found', 'token');
    const bad = bodyRefusal(kind, body as Record<string, unknown>);
    if (bad) return refuse(bad.code, bad.field);
    return record;
  }

  const relayResponses = (ok: z.ZodType) => ({
    200: jsonSchema(ok),
    '4xx': jsonSchema(relayErrorSchema),
    '5xx': jsonSchema(relayErrorSchema),
  });

  app.get(
    '/v1/token-service',
    {
      schema: {
        summary: 'The token service: the BINs tokens are issued in',
        tags: ['tokens'],
        response: { 200: jsonSchema(tokenServiceSchema), '4xx': errorSchema },
      },
    },
    async (_request, reply) =>
      getTokenService(store) ?? sendError(reply, 'token_bins_not_configured'),
  );

  app.get<{ Params: { address: string } }>(
    '/v1/token-participants/:address',
    {
      schema: {
        summary: 'A participant of the token service: its roles and (issuers) BINs',
        tags: ['tokens'],
        params: stringParams('address'),
        response: { 200: jsonSchema(participantSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { address } = request.params;
      if (!isAddress(address)) return sendError(reply, 'invalid_address', 'address');
      return getParticipant(store, address) ?? sendError(reply, 'participant_not_found', 'address');
    },
  );

  app.get<{ Params: { token: string } }>(
    '/v1/tokens/:token',
    {
      schema: {
        summary:
          "A token: status, sequence number, requestor, issuer, domain restrictions, assurance level, the PAN's BIN, last four digits (never the PAN, nor its fingerprint)",
        tags: ['tokens'],
        params: stringParams('token'),
        response: { 200: jsonSchema(tokenViewSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { token } = request.params;
      if (!isCardNumber(token)) return sendError(reply, 'invalid_token', 'token');
      return getToken(store, token) ?? sendError(reply, 'token_not_found', 'token');
    },
  );

  app.post<{ Body: ProvisionRequestBody }>(
    '/v1/tokens',
    {
      bodyLimit: relayBodyBytesMax,
      schema: {
        summary:
          "A token requestor's signed request for a token for a PAN: the node checks the PAN (Luhn, length, an issuer's BIN), draws a token in a token BIN, seals the PAN in the vault and submits token.provision; answers once final",
        tags: ['tokens'],
        body: jsonSchema(provisionBodySchema, 'input'),
        response: relayResponses(relayResultSchema),
      },
    },
    async (request, reply) => {
      const refused = relayRefusal(reply);
      if (refused) return refused;
      const body = request.body;
      const bad = bodyRefusal('provision', body as unknown as Record<string, unknown>);
      if (bad) return sendError(reply, bad.code, bad.field);
      const domain = body.domain as TokenDomain;
      const commitment = panCommitment(body.pan, body.panSalt);
      const signed = { ...body, domain, commitment };
      const signedFields = provisionSignedFields(signed);
      if (
        !requestSigned('provision', chain.chainId, signedFields, body.requestor, body.signature)
      ) {
        return sendError(reply, 'token_request_signature_invalid', 'signature');
      }
      if (!hasRole(store, body.requestor, 'requestor')) {
        return sendError(reply, 'not_requestor', 'requestor');
      }
      if (body.wallet !== undefined && !hasRole(store, body.wallet, 'wallet')) {
        return sendError(reply, 'not_wallet', 'wallet');
      }
      const service = getTokenService(store);
      if (!service) return sendError(reply, 'token_bins_not_configured');
      if (readBinOwner(store, body.pan.slice(0, 6))?.kind !== 'issuer') {
        return sendError(reply, 'issuer_not_found', 'pan');
      }
      const recorded = readRequest(store, body.requestor, body.requestId);
      if (recorded !== undefined) {
        // A retry of the same request answers its token; another request under its id is refused.
        const token = getToken(store, recorded);
        if (token?.commitment === commitment) {
          return { status: 'recorded', txHash: token.provisionTxHash, token };
        }
        return sendError(reply, 'token_request_duplicate', 'requestId');
      }
      let token = '';
      for (
        let draw = 0;
        draw < tokenDrawsMax && (token === '' || readToken(store, token));
        draw++
      ) {
        const tokenBin = service.tokenBins[crypto.randomInt(service.tokenBins.length)]!;
        token = randomToken(tokenBin, body.pan.length);
      }
      // Only the same signed request joins one in flight: another request under the same id (say,
      // another PAN) gets its own tx, which the handler refuses as token_request_duplicate.
      const requestHash = tokenRequestHash('provision', chain.chainId, signedFields);
      const result = await relay(
        `provision/${body.requestor}/${body.requestId}/${requestHash}`,
        body.requestor,
        'token.provision',
        {
          requestor: body.requestor,
          requestId: body.requestId,
          token,
          bin: body.pan.slice(0, 6),
          last4: body.pan.slice(-4),
          expiry: body.expiry,
          domain,
          assuranceLevel: body.assuranceLevel,
          ...(body.wallet === undefined ? {} : { wallet: body.wallet }),
          commitment,
          fingerprint: panFingerprint(vault!, body.pan),
          vault: sealPan(vault!, chain.chainId, token, body.pan),
          signature: body.signature,
        },
      );
      const failed = relayFailure(reply, result);
      if (failed) return failed;
      const provisioned = getToken(store, readRequest(store, body.requestor, body.requestId)!);
      return {
        status: 'recorded',
        txHash: result.hash!,
        height: result.height,
        token: provisioned,
      };
    },
  );

  app.post<{ Params: { token: string }; Body: PanUpdateBody }>(
    '/v1/tokens/:token/pan-update',
    {
      bodyLimit: relayBodyBytesMax,
      schema: {
        summary:
          "The token's issuer's signed PAN update: a new expiry, or a re-issued card's PAN (sealed in the vault) behind the same token; submits token.updatePan and answers once final",
        tags: ['tokens'],
        params: stringParams('token'),
        body: jsonSchema(panUpdateBodySchema, 'input'),
        response: relayResponses(relayResultSchema),
      },
    },
    async (request, reply) => {
      const { token } = request.params;
      const body = request.body;
      const record = relayedToken(reply, token, 'panUpdate', body);
      if (!record) return reply;
      if ((body.pan === undefined) !== (body.panSalt === undefined)) {
        return sendError(reply, 'invalid_pan_salt', 'panSalt');
      }
      if (body.issuer !== record.issuer) return sendError(reply, 'not_token_issuer', 'issuer');
      const commitment =
        body.pan === undefined ? undefined : panCommitment(body.pan, body.panSalt!);
      const fields = panUpdateSignedFields({ ...body, token, commitment });
      if (!requestSigned('panUpdate', chain.chainId, fields, body.issuer, body.signature)) {
        return sendError(reply, 'token_request_signature_invalid', 'signature');
      }
      if (body.pan !== undefined) {
        const owner = readBinOwner(store, body.pan.slice(0, 6));
        if (owner?.kind !== 'issuer' || owner.issuer !== record.issuer) {
          return sendError(reply, 'pan_issuer_mismatch', 'pan');
        }
      }
      const requestHash = tokenRequestHash('panUpdate', chain.chainId, fields);
      const result = await relay(
        `pan-update/${token}/${body.seq}/${requestHash}`,
        body.issuer,
        'token.updatePan',
        {
          token,
          seq: body.seq,
          reason: body.reason,
          expiry: body.expiry,
          ...(body.pan === undefined
            ? {}
            : {
                pan: {
                  bin: body.pan.slice(0, 6),
                  last4: body.pan.slice(-4),
                  commitment,
                  fingerprint: panFingerprint(vault!, body.pan),
                  vault: sealPan(vault!, chain.chainId, token, body.pan),
                },
              }),
          signature: body.signature,
        },
      );
      const failed = relayFailure(reply, result);
      if (failed) return failed;
      return {
        status: 'recorded',
        txHash: result.hash!,
        height: result.height,
        token: getToken(store, token),
      };
    },
  );

  app.post<{ Params: { token: string }; Body: DetokeniseBody }>(
    '/v1/tokens/:token/detokenise',
    {
      bodyLimit: relayBodyBytesMax,
      schema: {
        summary:
          "The PAN behind an active token, for its issuer or an acquirer (signed request, within the token's domain restrictions); recorded on the ledger (who, when, why; never the PAN) and final before the PAN is answered",
        tags: ['tokens'],
        params: stringParams('token'),
        body: jsonSchema(detokeniseBodySchema, 'input'),
        response: relayResponses(detokeniseResultSchema),
      },
    },
    async (request, reply) => {
      const { token } = request.params;
      const body = request.body;
      const record = relayedToken(reply, token, 'detokenise', body);
      if (!record) return reply;
      const fields = detokeniseSignedFields({ ...body, token });
      if (!requestSigned('detokenise', chain.chainId, fields, body.party, body.signature)) {
        return sendError(reply, 'token_request_signature_invalid', 'signature');
      }
      const party = detokeniseParty(store, record, body.party);
      if (party === undefined) return sendError(reply, 'not_detokenise_party', 'party');
      const time = chain.latest().header.time;
      const outside =
        domainRefusal(record, body.channel, body.merchantId, time) ??
        acquirerRefusal(party, record, body.merchantId);
      if (outside) return sendError(reply, outside);
      if (body.n !== record.detokenisations + 1) {
        return sendError(reply, 'detokenisation_out_of_order', 'n');
      }
      // No single flight: each request is its own tx, so a replay racing its original fails.
      const result = await relay(undefined, body.party, 'token.detokenise', { ...body, token });
      const failed = relayFailure(reply, result);
      if (failed) return failed;
      const sealed = readToken(store, token)!;
      let pan: string;
      try {
        pan = openPan(vault!, chain.chainId, token, sealed.vault);
      } catch (error) {
        app.log.error({ token, code: (error as { code?: string }).code }, 'vault open failed');
        return sendError(reply, 'vault_open_failed');
      }
      void reply.header('cache-control', 'no-store');
      return {
        token,
        pan,
        expiry: sealed.expiry,
        n: body.n,
        txHash: result.hash!,
        height: result.height!,
      };
    },
  );

  app.post<{ Body: RewrapBody }>(
    '/v1/token-service/rewrap',
    {
      bodyLimit: relayBodyBytesMax,
      schema: {
        summary:
          "Key rotation: a validator operator's signed request to re-wrap up to `limit` data keys still wrapped by an older key-encryption key under the current one (token.rewrap); `next` continues",
        tags: ['tokens'],
        body: jsonSchema(rewrapBodySchema, 'input'),
        response: relayResponses(rewrapResultSchema),
      },
    },
    async (request, reply) => {
      const refused = relayRefusal(reply);
      if (refused) return refused;
      const body = request.body;
      const bad = bodyRefusal('rewrap', body as unknown as Record<string, unknown>);
      if (bad) return sendError(reply, bad.code, bad.field);
      const kekId = body.kekId;
      const fields = {
        operator: body.operator,
        kekId,
        after: body.after,
        limit: String(body.limit),
      };
      if (!requestSigned('rewrap', chain.chainId, fields, body.operator, body.signature)) {
        return sendError(reply, 'token_request_signature_invalid', 'signature');
      }
      if (!isTokenService({ state: store, sender: body.operator })) {
        return sendError(reply, 'not_token_service', 'operator');
      }
      if (kekId !== vault!.currentKekId) return sendError(reply, 'vault_key_mismatch', 'kekId');
      const scanned = store.range(tokensKeys.token(''), rewrapScanMax, {
        ...(body.after === undefined ? {} : { after: tokensKeys.token(body.after) }),
      });
      const entries: { token: string; kekId: string; wrappedKey: string }[] = [];
      let last: string | undefined;
      for (const [, value] of scanned) {
        const record = JSON.parse(value) as TokenRecord;
        last = record.token;
        if (record.vault.kekId === kekId) continue;
        let wrappedKey: string;
        try {
          ({ wrappedKey } = rewrapEnvelope(vault!, record.token, record.vault));
        } catch (error) {
          app.log.error({ token: record.token, code: (error as { code?: string }).code }, 'rewrap');
          return sendError(reply, 'vault_open_failed');
        }
        entries.push({ token: record.token, kekId, wrappedKey });
        if (entries.length === body.limit) break;
      }
      const next =
        scanned.length === rewrapScanMax || entries.length === body.limit ? last : undefined;
      if (entries.length === 0) return { kekId, rewrapped: 0, ...(next ? { next } : {}) };
      const result = await relay(undefined, body.operator, 'token.rewrap', { entries });
      const failed = relayFailure(reply, result);
      if (failed) return failed;
      return {
        kekId,
        rewrapped: entries.length,
        txHash: result.hash!,
        height: result.height!,
        ...(next ? { next } : {}),
      };
    },
  );
}
