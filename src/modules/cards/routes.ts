import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { isAddress, toHex } from '../../crypto/index.js';
import { errorBody, httpStatus } from '../../node/errors.js';
import type { ModuleHost } from '../../node/module-host.js';
import type { SubmitResult } from '../../node/node.js';
import { errorSchema, sendError, sendRelayFailure, stringParams } from '../../node/routes.js';
import { SingleFlight } from '../../node/single-flight.js';
import { jsonSchema, rejectionCodeFor } from '../../protocol/schema.js';
import { relaysPerParticipantMax } from '../../node/relay-gate.js';
import { isTokenService, readVaultKeyFile } from '../tokens/api.js';
import {
  cardMasterKey,
  cardRequestHash,
  cardRequestSigned,
  cardTokenKeyHash,
  deriveCardTokenKey,
  randomBytes,
  sealTokenKeys,
} from './crypto.js';
import {
  authorisationSchema,
  authoriseBodySchema,
  cardDeviceSchema,
  cardSchema,
  cardTokenSchema,
  holdBlocksDefault,
  isCardId,
  isCardTokenId,
  mintBodySchema,
  mintSignedFields,
  mintResultSchema,
  authoriseSignedFields,
  type Authorisation,
  type AuthoriseBody,
  type CardTokenRecord,
  type MintBody,
  type MintResult,
} from './schema.js';
import { readCard, readCardDevice, readCardToken } from './state.js';
import { checkAuthorisation, holdRefusal, mintRefusal } from './txs-payments.js';

/** Bytes of a relay body: an authorisation is about 1 KiB. */
export const cardsBodyBytesMax = 8 * 1024;
/**
 * Authorisations one acquirer has in flight on a node: a quarter of the node's relays (25 of 100),
 * and never fewer than the vault's 8 per participant, so a busy acquirer is not throttled to 8 and
 * three acquirers still leave room for everyone else.
 */
export function acquirerRelaysMax(inFlightMax: number): number {
  return Math.max(relaysPerParticipantMax, Math.floor(inFlightMax / 4));
}

/** The loose shape Fastify documents; each field is then checked with its own code. */
const looseMintBody = z.object({
  n: z.number(),
  count: z.number(),
  by: z.string(),
  signature: z.string(),
});
const looseAuthoriseBody = z.object({
  acquirer: z.string(),
  terminal: z.record(z.string(), z.unknown()),
  answer: z.record(z.string(), z.unknown()),
  holdBlocks: z.number().optional(),
  signature: z.string(),
});

/** The first field a strict body schema refuses, with its code; undefined when it passes. */
function bodyRefusal(
  schema: z.ZodObject,
  body: unknown,
): { code: string; field?: string } | undefined {
  if (typeof body !== 'object' || body === null) return { code: 'invalid_request' };
  const unknown = Object.keys(body).find((key) => !(key in schema.shape));
  if (unknown !== undefined) return { code: 'unknown_field', field: unknown };
  for (const [key, field] of Object.entries(schema.shape) as [string, z.ZodType][]) {
    const result = field.safeParse((body as Record<string, unknown>)[key]);
    if (!result.success) {
      return { code: rejectionCodeFor(field, result.error, 'invalid_request'), field: key };
    }
  }
  return undefined;
}

/**
 * The cards module's routes (issue 18). Reads answer committed state. The two relays take a
 * signed request, check it against committed state BEFORE the node signs anything, do what only a
 * node holding the vault key can (draw token ids and derive their keys; derive a used token's key
 * and check its cryptogram), submit the node's own tx through the node's relay gate, and answer
 * once it is final.
 */
export function cardsRoutes(node: ModuleHost): void {
  const { app, store, chain } = node;
  const vault =
    node.config.vaultKeyFile === undefined ? undefined : readVaultKeyFile(node.config.vaultKeyFile);
  const master = vault === undefined ? undefined : cardMasterKey(vault.fingerprintKey);
  const latestTime = () => chain.latest()?.header.time ?? 0;
  const batches = new SingleFlight<{ result: SubmitResult; ids: string[] }>();
  const keyOf = (token: string) => deriveCardTokenKey(master!, chain.chainId, token);

  const relayFailure = sendRelayFailure;

  function relayRefusal(reply: FastifyReply): FastifyReply | undefined {
    if (!node.healthy) return sendError(reply, 'not_ready');
    if (!master) return sendError(reply, 'vault_key_missing');
    // A node whose operator is not an active validator (jailed, leaving, not approved yet) would
    // have its relays fail in every handler: it relays nothing.
    if (!isTokenService({ state: store, sender: node.operator })) {
      return sendError(reply, 'relay_not_validator');
    }
    if (node.relays.full) return sendError(reply, 'mempool_full');
    return undefined;
  }

  /** Tokens of a batch with their keys sealed to the device's box key, from their records. */
  function sealedBatch(
    card: string,
    device: string,
    n: number,
    boxKey: string,
    tokens: readonly string[],
  ): MintResult {
    const sealed = sealTokenKeys(
      boxKey,
      chain.chainId,
      card,
      device,
      tokens.map((token) => ({ token, key: keyOf(token) })),
    );
    return {
      card,
      device,
      n,
      ephemeralKey: sealed.ephemeralKey,
      tokens: sealed.tokens.map((entry) => ({
        ...entry,
        expiresAt: readCardToken(store, entry.token)!.expiresAt,
      })),
    };
  }

  /** The answer of an approved authorisation, from the used token's record. */
  function approval(used: CardTokenRecord, txHash: string): Authorisation {
    const consumed = used.consumed!;
    const card = readCard(store, used.card)!;
    return {
      approved: true,
      holdId: consumed.holdId!,
      card: used.card,
      device: used.device,
      token: used.token,
      acquirer: consumed.acquirer,
      merchantId: consumed.merchantId,
      amount: consumed.amount,
      currency: card.asset,
      expiresAtHeight: consumed.holdExpiresAtHeight!,
      txHash,
      height: consumed.height,
    };
  }

  /**
   * The approval again for a retry of an authorisation that went through (the acquirer's signed
   * request, its token used by this very payment): after a timeout an acquirer learns the sale
   * stands instead of `card_token_consumed`. Undefined for anything else.
   */
  function repeatedApproval(body: AuthoriseBody & { holdBlocks: number }) {
    const used = readCardToken(store, body.answer.token);
    const consumed = used?.consumed;
    // The very request that was approved, to the byte of what the acquirer signed (terminal
    // request, device answer with its cryptogram, hold life): a token's public id and counter with
    // a fresh unpredictable number or a made-up cryptogram is not a retry, it is refused below.
    if (
      used === undefined ||
      consumed?.holdId === undefined ||
      consumed.requestHash !==
        cardRequestHash('authorise', chain.chainId, authoriseSignedFields(body)) ||
      !cardRequestSigned(
        'authorise',
        chain.chainId,
        authoriseSignedFields(body),
        body.acquirer,
        body.signature,
      )
    ) {
      return undefined;
    }
    return approval(used, consumed.holdId);
  }

  const relayResponses = (ok: z.ZodType) => ({
    200: jsonSchema(ok),
    '4xx': errorSchema,
    '5xx': errorSchema,
  });

  app.get<{ Params: { card: string } }>(
    '/v1/cards/:card',
    {
      schema: {
        summary: 'A linked card: its face, account, asset, status and devices',
        tags: ['cards'],
        params: stringParams('card'),
        response: { 200: jsonSchema(cardSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      if (!isCardId(request.params.card)) return sendError(reply, 'invalid_card_id', 'card');
      return readCard(store, request.params.card) ?? sendError(reply, 'card_not_found', 'card');
    },
  );

  app.get<{ Params: { card: string; device: string } }>(
    '/v1/cards/:card/devices/:device',
    {
      schema: {
        summary:
          'A card on one device: its box key, the next batch request number, the unconsumed card tokens',
        tags: ['cards'],
        params: stringParams('card', 'device'),
        response: { 200: jsonSchema(cardDeviceSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { card, device } = request.params;
      if (!isCardId(card)) return sendError(reply, 'invalid_card_id', 'card');
      if (!isAddress(device)) return sendError(reply, 'invalid_device', 'device');
      return readCardDevice(store, card, device) ?? sendError(reply, 'device_not_found', 'device');
    },
  );

  app.get<{ Params: { token: string } }>(
    '/v1/card-tokens/:token',
    {
      schema: {
        summary:
          'A card token as the ledger records it: card, device, expiry, its use; never its key',
        tags: ['cards'],
        params: stringParams('token'),
        response: { 200: jsonSchema(cardTokenSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      if (!isCardTokenId(request.params.token)) {
        return sendError(reply, 'invalid_card_token', 'token');
      }
      return (
        readCardToken(store, request.params.token) ??
        sendError(reply, 'card_token_not_found', 'token')
      );
    },
  );

  app.post<{ Params: { card: string; device: string }; Body: MintBody }>(
    '/v1/cards/:card/devices/:device/tokens',
    {
      bodyLimit: cardsBodyBytesMax,
      schema: {
        summary:
          "A batch of card tokens for a card on a device, requested by the issuer or the device (signed, numbered n): the node draws the tokens, derives their keys, submits card.mintTokens and answers, once final, the keys sealed to the device's box key",
        tags: ['cards'],
        params: stringParams('card', 'device'),
        body: jsonSchema(looseMintBody, 'input'),
        response: relayResponses(mintResultSchema),
      },
    },
    async (request, reply) => {
      const refused = relayRefusal(reply);
      if (refused) return refused;
      const { card, device } = request.params;
      if (!isCardId(card)) return sendError(reply, 'invalid_card_id', 'card');
      if (!isAddress(device)) return sendError(reply, 'invalid_device', 'device');
      const bad = bodyRefusal(mintBodySchema, request.body);
      if (bad) return sendError(reply, bad.code, bad.field);
      const body = request.body;
      const request_ = { card, device, ...body };
      const link = readCardDevice(store, card, device);
      const cardRecord = readCard(store, card);
      // A retry of the latest batch's signed request answers the same tokens again (sealed
      // afresh), while the card and the device may still mint.
      if (link && cardRecord && link.lastBatch?.n === body.n && link.nextRequest === body.n + 1) {
        if (cardRecord.status === 'closed') return sendError(reply, 'card_closed');
        if (link.status === 'removed') return sendError(reply, 'device_removed');
        const signer = body.by === 'issuer' ? cardRecord.issuer : device;
        const signed = cardRequestSigned(
          'mint',
          chain.chainId,
          mintSignedFields(request_),
          signer,
          body.signature,
        );
        if (!signed) return sendError(reply, 'mint_request_signature_invalid', 'signature');
        return sealedBatch(card, device, body.n, link.boxKey, link.lastBatch.tokens);
      }
      const refusal = mintRefusal(store, chain.chainId, latestTime(), request_);
      if (refusal) return sendError(reply, refusal);
      // Identical requests in flight share one batch: the ids are drawn inside the shared run,
      // so every caller answers the tokens that batch minted. Batches count against the card's
      // issuer in the relay gate, whoever signed them (an issuer with many device keys still has
      // the gate's 8 in flight).
      const { result, ids } = await batches.run(
        `${card}/${device}/${body.n}/${body.signature}`,
        async () => {
          const tokens = Array.from({ length: body.count }, () => {
            const token = toHex(randomBytes(16));
            return { token, keyHash: cardTokenKeyHash(keyOf(token)) };
          });
          const submitted = await node.relays.run(
            undefined,
            cardRecord!.issuer,
            'card.mintTokens',
            {
              ...request_,
              tokens,
            },
          );
          return { result: submitted, ids: tokens.map((entry) => entry.token) };
        },
      );
      const failed = relayFailure(reply, result);
      if (failed) return failed;
      // Sealed from the tokens this batch minted, not the latest batch (another may follow).
      return {
        ...sealedBatch(card, device, body.n, link!.boxKey, ids),
        txHash: result.hash,
        height: result.height,
      };
    },
  );

  app.post<{ Body: AuthoriseBody }>(
    '/v1/cards/authorisations',
    {
      bodyLimit: cardsBodyBytesMax,
      schema: {
        summary:
          "An acquirer's signed authorisation: the terminal's request and the device's answer. The node checks the cryptogram under the card token's key, the token (never used, not expired), the card, its device and vault token, then submits card.authorise, which uses the token and places a hold from the card's account to the acquirer in one tx; answers the hold once final",
        tags: ['cards'],
        body: jsonSchema(looseAuthoriseBody, 'input'),
        response: relayResponses(authorisationSchema),
      },
    },
    async (request, reply) => {
      const refused = relayRefusal(reply);
      if (refused) return refused;
      const bad = bodyRefusal(authoriseBodySchema, request.body);
      if (bad) return sendError(reply, bad.code, bad.field);
      const body = { ...request.body, holdBlocks: request.body.holdBlocks ?? holdBlocksDefault };
      const key = keyOf(body.answer.token);
      const repeated = repeatedApproval(body);
      if (repeated) return repeated;
      const outcome = checkAuthorisation(store, chain.chainId, latestTime(), body, key, true);
      // Checked against committed state, the ledger's hold included: nothing is submitted (nor
      // the token used) for a request that would fail or be declined now. Only a race (the same
      // token at two nodes, a suspension or a payment in the same block) leaves a tx to decline.
      if (outcome.kind !== 'approved') return sendError(reply, outcome.code);
      const holdRefused = holdRefusal(
        store,
        outcome.card,
        body.acquirer,
        BigInt(body.terminal.amount),
      );
      if (holdRefused) return sendError(reply, holdRefused);
      const result = await node.relays.run(
        `authorise/${body.answer.token}/${body.signature}`,
        body.acquirer,
        'card.authorise',
        { ...body, key: toHex(key) },
        acquirerRelaysMax(node.relays.inFlightMax),
      );
      const failed = relayFailure(reply, result);
      if (failed) return failed;
      const used = readCardToken(store, body.answer.token);
      if (used?.consumed?.holdId === undefined) {
        const code = used?.consumed?.declined ?? 'internal_error';
        return reply
          .code(httpStatus(code))
          .send({ ...errorBody(code), txHash: result.hash, height: result.height });
      }
      return approval(used, result.hash!);
    },
  );
}
