import { z } from 'zod';
import { assetSymbolPattern, holdDurationBlocksMax } from '../../protocol/ledger.js';
import { coded, hexOf, wire } from '../../protocol/schema.js';
import { tokenFields } from '../tokens/schema.js';

export * from './crypto.js';

/*
 * The cards module's wire contract (issue 18), one definition for the node, the OpenAPI document,
 * the SDK, the CLI and the device program: tx payloads as zod schemas whose fields carry their
 * rejection codes, the records the routes answer and the relay bodies. Pure (zod, src/protocol).
 *
 * Words: a *card* is an issuer's card linked to a ledger account and asset and to a payment token
 * of the vault (tokens module); a *device* is a payment device (an ed25519 key, its id the address
 * of that key, and an X25519 box key); a *card token* is a limited-use key minted for one card on
 * one device, good for one payment before its expiry. The ledger keeps a card token's id, card,
 * device, expiry and the SHA-256 of its key; the key exists only in the device (and, derived from
 * the consortium's master key, in each node's memory while it checks a cryptogram).
 */

// ---- limits --------------------------------------------------------------------------------------

/** Unconsumed card tokens one device may hold for one card: the issuer's limit, at most. */
export const cardTokensMaxLimit = 100;
export const cardTokensMaxDefault = 10;
/** A card token's life from its minting, by the issuer's choice. */
export const tokenLifeMsMin = 60_000;
export const tokenLifeMsMax = 90 * 24 * 3_600_000;
export const tokenLifeMsDefault = 30 * 24 * 3_600_000;
/** Devices one card is provisioned on (each a state value of its own). */
export const cardDevicesMax = 10;
/** Blocks an authorisation's hold lives before it returns to the cardholder. */
export const holdBlocksMin = 10;
export const holdBlocksDefault = 100_000;
export const holdBlocksMax = holdDurationBlocksMax;

const cardIdPattern = /^[A-Za-z0-9_-]{3,64}$/;
/** Names on a card's face: letters, digits, spaces and a little punctuation, no control bytes. */
const faceTextPattern = /^[\p{L}\p{N}][\p{L}\p{N} .,'&()/-]{0,39}$/u;
const artPattern = /^[a-z0-9-]{1,32}$/;
const colourPattern = /^#[0-9a-f]{6}$/;
const unpredictableNumberPattern = /^[0-9a-f]{8}$/;

export function isCardId(value: unknown): value is string {
  return typeof value === 'string' && cardIdPattern.test(value);
}

export function isCardTokenId(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{32}$/.test(value);
}

// ---- field schemas -------------------------------------------------------------------------------

export const cardFields = {
  card: coded(z.string().regex(cardIdPattern), 'invalid_card_id').meta({
    description: 'A card id: 3 to 64 of A-Z, a-z, 0-9, "-" and "_"',
  }),
  cardToken: coded(hexOf(16), 'invalid_card_token').meta({
    description: 'A card token id: 16 bytes, 32 lowercase hex digits',
  }),
  vaultToken: tokenFields.token,
  address: tokenFields.address,
  device: coded(wire.address, 'invalid_device').meta({
    description: "A device id: the address of the device's ed25519 key",
  }),
  asset: coded(z.string().regex(assetSymbolPattern), 'invalid_symbol'),
  boxKey: coded(hexOf(32), 'invalid_box_key').meta({
    description: "The device's X25519 public key, 64 hex digits",
  }),
  signature: tokenFields.signature,
  hash: tokenFields.hash,
  n: coded(z.number().int().min(1).max(Number.MAX_SAFE_INTEGER), 'invalid_request_number'),
  count: coded(z.number().int().min(1).max(cardTokensMaxLimit), 'invalid_token_count'),
  tokensMax: coded(z.number().int().min(1).max(cardTokensMaxLimit), 'invalid_tokens_max'),
  tokenLifeMs: coded(
    z.number().int().min(tokenLifeMsMin).max(tokenLifeMsMax),
    'invalid_token_life',
  ),
  holdBlocks: coded(z.number().int().min(holdBlocksMin).max(holdBlocksMax), 'invalid_hold_blocks'),
  merchantId: tokenFields.merchantId,
  amount: coded(
    wire.minorUnitsText.refine((text) => text !== '0' && !/^0/.test(text)),
    'invalid_amount',
  ),
  counter: coded(z.number().int().min(1).max(Number.MAX_SAFE_INTEGER), 'invalid_counter'),
  unpredictableNumber: coded(
    z.string().regex(unpredictableNumberPattern),
    'invalid_unpredictable_number',
  ),
};

/** What a card shows on the device's display, besides what the vault token gives (last four, expiry). */
export const cardFaceSchema = coded(
  z.strictObject({
    issuerName: z.string().regex(faceTextPattern),
    product: z.string().regex(faceTextPattern),
    /** The id of the card's art, as the issuer's app names it. */
    art: z.string().regex(artPattern),
    colour: z.string().regex(colourPattern),
  }),
  'invalid_card_face',
);
export type CardFace = z.infer<typeof cardFaceSchema>;

/** A terminal's request to the device (EMV's amount, currency, merchant, unpredictable number). */
export const terminalRequestSchema = coded(
  z.strictObject({
    amount: cardFields.amount,
    currency: cardFields.asset,
    merchantId: cardFields.merchantId,
    unpredictableNumber: cardFields.unpredictableNumber,
  }),
  'invalid_terminal_request',
);
export type TerminalRequest = z.infer<typeof terminalRequestSchema>;

/** The device's answer: what it paid (as it read the request), the token, its counter, the cryptogram. */
export const deviceAnswerSchema = coded(
  z.strictObject({
    token: cardFields.cardToken,
    counter: cardFields.counter,
    amount: cardFields.amount,
    currency: cardFields.asset,
    merchantId: cardFields.merchantId,
    unpredictableNumber: cardFields.unpredictableNumber,
    cryptogram: coded(hexOf(32), 'invalid_cryptogram'),
  }),
  'invalid_device_answer',
);
export type DeviceAnswer = z.infer<typeof deviceAnswerSchema>;

// ---- tx payloads ---------------------------------------------------------------------------------

export const mintRequesters = ['issuer', 'device'] as const;
export type MintRequester = (typeof mintRequesters)[number];

export const cardsPayloads = {
  /** An issuer links a card: a vault token it issued, the cardholder's account and asset, the face. */
  'card.link': z.strictObject({
    card: cardFields.card,
    token: cardFields.vaultToken,
    account: cardFields.address,
    asset: cardFields.asset,
    face: cardFaceSchema,
    tokensMax: cardFields.tokensMax,
    tokenLifeMs: cardFields.tokenLifeMs,
  }),
  /** The cardholder (the account) accepts the card: its payments may now hold the account's funds. */
  'card.accept': z.strictObject({ card: cardFields.card }),
  /** The issuer or the cardholder closes the card for good. */
  'card.close': z.strictObject({ card: cardFields.card }),
  /** The issuer provisions the card on a device, with the device's signed box key. */
  'card.addDevice': z.strictObject({
    card: cardFields.card,
    device: cardFields.device,
    boxKey: cardFields.boxKey,
    /** The device's signature over its box key (`cardRequestHash('deviceBoxKey', ...)`). */
    boxKeySignature: cardFields.signature,
  }),
  /**
   * The cardholder (the account) approves a device the issuer added: only then may tokens be
   * minted for it, so no device pays from the account without the account's consent.
   */
  'card.approveDevice': z.strictObject({ card: cardFields.card, device: cardFields.device }),
  /** The issuer or the cardholder removes the card from a device: its card tokens die. */
  'card.removeDevice': z.strictObject({ card: cardFields.card, device: cardFields.device }),
  /**
   * A node relays a batch of card tokens (a validator operator), for the issuer's or the device's
   * signed request number `n`; each token's id drawn by the node, its key's hash recorded.
   */
  'card.mintTokens': z.strictObject({
    card: cardFields.card,
    device: cardFields.device,
    n: cardFields.n,
    count: cardFields.count,
    by: coded(z.enum(mintRequesters), 'invalid_requester'),
    signature: cardFields.signature,
    tokens: coded(
      z
        .array(z.strictObject({ token: cardFields.cardToken, keyHash: cardFields.hash }))
        .min(1)
        .max(cardTokensMaxLimit),
      'invalid_card_tokens',
    ),
  }),
  /**
   * A node relays an acquirer's authorisation (a validator operator): the terminal's request, the
   * device's answer, the acquirer's signature over both, and the card token's key, revealed now
   * that this tx consumes the token, so every node checks the cryptogram.
   */
  'card.authorise': z.strictObject({
    acquirer: cardFields.address,
    terminal: terminalRequestSchema,
    answer: deviceAnswerSchema,
    holdBlocks: cardFields.holdBlocks,
    signature: cardFields.signature,
    key: coded(hexOf(32), 'invalid_card_token_key'),
  }),
};

export type CardsPayload<T extends keyof typeof cardsPayloads> = z.infer<(typeof cardsPayloads)[T]>;

/** The fields an acquirer signs for an authorisation (`cardRequestHash('authorise', ...)`). */
export function authoriseSignedFields(p: {
  acquirer: string;
  terminal: TerminalRequest;
  answer: DeviceAnswer;
  holdBlocks: number;
}) {
  return {
    acquirer: p.acquirer,
    holdBlocks: String(p.holdBlocks),
    terminal: { ...p.terminal },
    answer: { ...p.answer, counter: String(p.answer.counter) },
  };
}

/** The fields a batch request signs (`cardRequestHash('mint', ...)`), by the issuer or the device. */
export function mintSignedFields(p: {
  card: string;
  device: string;
  n: number;
  count: number;
  by: MintRequester;
}) {
  return { card: p.card, device: p.device, n: String(p.n), count: String(p.count), by: p.by };
}

/** The fields a device signs to certify its box key (`cardRequestHash('deviceBoxKey', ...)`). */
export function boxKeySignedFields(p: { device: string; boxKey: string }) {
  return { device: p.device, boxKey: p.boxKey };
}

// ---- records -------------------------------------------------------------------------------------

export const cardStatuses = ['pending', 'active', 'closed'] as const;
export type CardStatus = (typeof cardStatuses)[number];

/** A linked card. `last4` and `expiry` are the vault token's, read when it was linked. */
export const cardSchema = z.object({
  card: z.string(),
  issuer: z.string(),
  token: z.string(),
  account: z.string(),
  asset: z.string(),
  face: z.object({
    issuerName: z.string(),
    product: z.string(),
    art: z.string(),
    colour: z.string(),
  }),
  last4: z.string(),
  expiry: z.string(),
  status: z.enum(cardStatuses),
  tokensMax: z.number().int(),
  tokenLifeMs: z.number().int(),
  devices: z.array(z.string()),
  linkedAtHeight: z.number().int(),
});
export type CardRecord = z.infer<typeof cardSchema>;

/** A card on one device: its box key, the next request number, the unconsumed tokens. */
export const cardDeviceSchema = z.object({
  card: z.string(),
  device: z.string(),
  boxKey: z.string(),
  /** pending: added by the issuer, not yet approved by the cardholder. */
  status: z.enum(['pending', 'active', 'removed']),
  /**
   * How many times the card was added to this device: each token records the epoch it was minted
   * in, so tokens minted before a removal never pay after the device is added again.
   */
  epoch: z.number().int(),
  /** The number the next batch request must carry. */
  nextRequest: z.number().int(),
  /** Unconsumed card tokens, by expiry (expired ones dropped at the next batch). */
  outstanding: z.array(z.object({ token: z.string(), expiresAt: z.number().int() })),
  /** The latest batch: its request number and tokens, so a retried request is answered again. */
  lastBatch: z.object({ n: z.number().int(), tokens: z.array(z.string()) }).optional(),
  minted: z.number().int(),
  consumed: z.number().int(),
  addedAtHeight: z.number().int(),
});
export type CardDeviceRecord = z.infer<typeof cardDeviceSchema>;

export const cardTokenStatuses = ['unused', 'consumed'] as const;

/** A card token as the ledger records it: never its key, only the key's hash. */
export const cardTokenSchema = z.object({
  token: z.string(),
  card: z.string(),
  device: z.string(),
  keyHash: z.string(),
  expiresAt: z.number().int(),
  /** The card device's epoch it was minted in (`cardDeviceSchema.epoch`). */
  epoch: z.number().int(),
  mintedAtHeight: z.number().int(),
  status: z.enum(cardTokenStatuses),
  /**
   * Set by the authorisation that consumed it: approved (the hold it placed) or declined (the
   * code; a declined authorisation the device signed uses its token too, as EMV's counter moves on).
   */
  consumed: z
    .object({
      height: z.number().int(),
      acquirer: z.string(),
      merchantId: z.string(),
      amount: z.string(),
      counter: z.number().int(),
      holdId: z.string().optional(),
      /**
       * The approved request's hash (`cardRequestHash('authorise', ...)` of what the acquirer
       * signed): a retry of exactly it answers the approval again.
       */
      requestHash: z.string().optional(),
      /** The height the hold returns to the cardholder at, if not captured or voided before. */
      holdExpiresAtHeight: z.number().int().optional(),
      declined: z.string().optional(),
    })
    .optional(),
});
export type CardTokenRecord = z.infer<typeof cardTokenSchema>;

// ---- relay bodies and answers --------------------------------------------------------------------

/** `POST /v1/cards/{card}/devices/{device}/tokens`: a signed batch request. */
export const mintBodySchema = z.strictObject({
  n: cardFields.n,
  count: cardFields.count,
  by: coded(z.enum(mintRequesters), 'invalid_requester'),
  signature: cardFields.signature,
});
export type MintBody = z.infer<typeof mintBodySchema>;

/** A batch's answer: the tokens with expiries, their keys sealed to the device's box key. */
export const mintResultSchema = z.object({
  card: z.string(),
  device: z.string(),
  n: z.number().int(),
  ephemeralKey: z.string(),
  tokens: z.array(
    z.object({
      token: z.string(),
      expiresAt: z.number().int(),
      iv: z.string(),
      sealedKey: z.string(),
    }),
  ),
  txHash: z.string().optional(),
  height: z.number().int().optional(),
});
export type MintResult = z.infer<typeof mintResultSchema>;

/** `POST /v1/cards/authorisations`: an acquirer's signed authorisation request. */
export const authoriseBodySchema = z.strictObject({
  acquirer: cardFields.address,
  terminal: terminalRequestSchema,
  answer: deviceAnswerSchema,
  holdBlocks: cardFields.holdBlocks.optional(),
  signature: cardFields.signature,
});
export type AuthoriseBody = z.infer<typeof authoriseBodySchema>;

/** An approved authorisation: the hold placed for the acquirer to capture or void. */
export const authorisationSchema = z.object({
  approved: z.literal(true),
  holdId: z.string(),
  card: z.string(),
  device: z.string(),
  token: z.string(),
  acquirer: z.string(),
  merchantId: z.string(),
  amount: z.string(),
  currency: z.string(),
  expiresAtHeight: z.number().int(),
  txHash: z.string(),
  height: z.number().int(),
});
export type Authorisation = z.infer<typeof authorisationSchema>;
