import {
  addressFromPublicKey,
  fromHex,
  generateKeyPair,
  keyPairFromSecret,
  toHex,
} from '../../crypto/index.js';
import {
  boxPublicKey,
  cardTokenKeyHash,
  cryptogram,
  newBoxKeyPair,
  openTokenKeys,
  signCardRequest,
} from './crypto.js';
import {
  cardsPerElementMax,
  consumedKeptMax,
  createElementFile,
  fail,
  paymentTimesKeptMax,
  withElement,
  type CardEntry,
  type ElementContents,
  type ElementOptions,
  type HeldToken,
  type PendingPayment,
} from './device-element.js';
import { z } from 'zod';
import {
  boxKeySignedFields,
  cardDevicesMax,
  cardFaceSchema,
  cardFields,
  cardStatuses,
  cardTokensMaxLimit,
  isCardTokenId,
  terminalRequestSchema,
  type CardRecord,
  type DeviceAnswer,
  type MintResult,
  type TerminalRequest,
} from './schema.js';

export * from './device-element.js';

/*
 * The payment device's operations (issue 18) on its secure element (device-element.ts): each
 * opens the element with the PIN, does its work and writes the element once. A card is selected,
 * a token activated, and a payment consumes it: the element writes that the token is consumed
 * before it computes the cryptogram, so whatever the crash point, no token backs two cryptograms.
 */
// ---- operations ------------------------------------------------------------------------------------

export interface DeviceInfo {
  device: string;
  boxKey: string;
  boxKeySignature: string;
  chainId: string;
  /** The node URL stored at init, if one was. */
  nodeUrl?: string;
}

function deviceIdOf(contents: ElementContents): string {
  return addressFromPublicKey(keyPairFromSecret(fromHex(contents.deviceSecretKey)).publicKey);
}

/** Writes a new element: fresh device and box keys, no cards. Never overwrites a file. */
export function initElement(
  file: string,
  pin: string,
  chainId: string,
  options: ElementOptions & { scryptLogN?: number; nodeUrl?: string } = {},
): DeviceInfo {
  if (typeof chainId !== 'string' || chainId.length === 0 || chainId.length > 64) {
    throw new RangeError('chainId must be 1 to 64 characters');
  }
  const contents: ElementContents = {
    chainId,
    ...(options.nodeUrl !== undefined && { nodeUrl: options.nodeUrl }),
    deviceSecretKey: toHex(generateKeyPair().secretKey),
    boxSecretKey: toHex(newBoxKeyPair().secretKey),
    counter: 0,
    cards: {},
  };
  createElementFile(file, pin, contents, options);
  return infoOf(contents);
}

function infoOf(contents: ElementContents): DeviceInfo {
  const device = deviceIdOf(contents);
  const boxKey = toHex(boxPublicKey(fromHex(contents.boxSecretKey)));
  return {
    device,
    boxKey,
    boxKeySignature: signCardRequest(
      'deviceBoxKey',
      contents.chainId,
      boxKeySignedFields({ device, boxKey }),
      fromHex(contents.deviceSecretKey),
    ),
    chainId: contents.chainId,
    ...(contents.nodeUrl !== undefined && { nodeUrl: contents.nodeUrl }),
  };
}

/** What the issuer needs to provision the device: its id, box key and the signature over both. */
export function deviceInfo(file: string, pin: string, options: ElementOptions = {}): DeviceInfo {
  return withElement(file, pin, options, (contents) => ({ answer: () => infoOf(contents) }));
}

/** A card with its usable tokens at `now`: what the list and the display show. */
export interface CardSummary {
  card: string;
  issuerName: string;
  product: string;
  art: string;
  colour: string;
  last4: string;
  expiry: string;
  asset: string;
  status: string;
  /** Unconsumed tokens that are not expired at `now`. */
  tokens: number;
  selected: boolean;
}

function usable(entry: CardEntry, now: number): HeldToken[] {
  return entry.tokens.filter((t) => t.expiresAt > now);
}

function summary(contents: ElementContents, entry: CardEntry, now: number): CardSummary {
  const { record } = entry;
  return {
    card: record.card,
    ...record.face,
    last4: record.last4,
    expiry: record.expiry,
    asset: record.asset,
    status: record.status,
    tokens: usable(entry, now).length,
    selected: contents.selected === record.card,
  };
}

function entryOf(contents: ElementContents, card: string): CardEntry {
  return contents.cards[card] ?? fail('unknown_card', `the element holds no card ${card}`);
}

/**
 * A card record as the device keeps it: the node's answer checked with the rules its tx payload
 * was checked with (`card.link`), not the loose schema the node's reads are parsed with. The node
 * is not trusted with the element: face text reaches the terminal (no control bytes), each field
 * is bounded (the element does not grow), `tokensMax` stays within the issuer's limit (the
 * replenishment forecast counts on it) and `asset` is an asset symbol (every payment compares it).
 * Unknown fields are dropped.
 */
const deviceCardSchema = z.object({
  card: cardFields.card,
  issuer: cardFields.address,
  token: cardFields.vaultToken,
  account: cardFields.address,
  asset: cardFields.asset,
  face: cardFaceSchema,
  last4: z.string().regex(/^[0-9]{4}$/),
  /** The vault token's expiry, YYYY-MM. */
  expiry: z.string().regex(/^[0-9]{4}-(0[1-9]|1[0-2])$/),
  status: z.enum(cardStatuses),
  tokensMax: cardFields.tokensMax,
  tokenLifeMs: cardFields.tokenLifeMs,
  devices: z.array(cardFields.device).max(cardDevicesMax),
  linkedAtHeight: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});

/**
 * Adds (or refreshes) card `card` as `GET /v1/cards/{card}` answers it (`record`, untrusted: it
 * comes from the node). The record must be the card asked for (`card_mismatch`), valid by the
 * payload rules (`invalid_card`, naming the field) and list the device.
 */
export function addCard(
  file: string,
  pin: string,
  card: string,
  record: unknown,
  now: number,
  options: ElementOptions = {},
): CardSummary {
  const parsed = deviceCardSchema.safeParse(record);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || 'record';
    return fail('invalid_card', `the node's record of card ${card} is not valid: ${field}`);
  }
  if (parsed.data.card !== card) {
    return fail('card_mismatch', `the node answered a record for another card than ${card}`);
  }
  return addCardRecord(file, pin, parsed.data, now, options);
}

function addCardRecord(
  file: string,
  pin: string,
  card: CardRecord,
  now: number,
  options: ElementOptions,
): CardSummary {
  return withElement(file, pin, options, (contents) => {
    if (!card.devices.includes(deviceIdOf(contents))) {
      fail('invalid_card', `card ${card.card} is not provisioned on this device`);
    }
    if (card.status === 'closed') fail('card_closed', `card ${card.card} is closed`);
    const held = contents.cards[card.card];
    if (!held && Object.keys(contents.cards).length >= cardsPerElementMax) fail('too_many_cards');
    const entry = { tokens: [], consumed: [], payments: [], ...held, record: card };
    const next = { ...contents, cards: { ...contents.cards, [card.card]: entry } };
    return { next, answer: () => summary(next, entry, now) };
  });
}

/** Every card, with its usable token count at `now`. */
export function listCards(
  file: string,
  pin: string,
  now: number,
  options: ElementOptions = {},
): CardSummary[] {
  return withElement(file, pin, options, (contents) => ({
    answer: () => Object.values(contents.cards).map((entry) => summary(contents, entry, now)),
  }));
}

/** The replenishment inputs of one card: its unconsumed tokens and its payment times. */
export interface CardTokenState {
  card: string;
  device: string;
  chainId: string;
  nodeUrl?: string;
  deviceSecretKey: Uint8Array;
  tokensMax: number;
  held: { token: string; expiresAt: number }[];
  consumed: string[];
  payments: number[];
}

/** What `replenish` needs from the element, read under the PIN (the secret key included). */
export function cardTokenState(
  file: string,
  pin: string,
  card: string,
  options: ElementOptions = {},
): CardTokenState {
  return withElement(file, pin, options, (contents) => {
    const entry = entryOf(contents, card);
    return {
      answer: () => ({
        card,
        device: deviceIdOf(contents),
        chainId: contents.chainId,
        ...(contents.nodeUrl !== undefined && { nodeUrl: contents.nodeUrl }),
        deviceSecretKey: fromHex(contents.deviceSecretKey),
        tokensMax: entry.record.tokensMax,
        held: entry.tokens.map(({ token, expiresAt }) => ({ token, expiresAt })),
        consumed: [...entry.consumed],
        payments: [...entry.payments],
      }),
    };
  });
}

export interface ImportResult {
  card: string;
  imported: number;
  /** Tokens of the batch left out: already held, already consumed, or expired at `now`. */
  skipped: number;
  tokens: number;
}

/**
 * Imports a batch: opens its keys with the box key (all or nothing), checks each key against the
 * ledger's hash when `keyHashes` names it, and keeps the tokens not already held, not consumed
 * and not expired at `now`. Expired held tokens are dropped at the same time.
 */
export function importBatch(
  file: string,
  pin: string,
  batch: MintResult,
  now: number,
  options: ElementOptions & { keyHashes?: Readonly<Record<string, string>> } = {},
): ImportResult {
  return withElement(file, pin, options, (contents) => {
    const entry = entryOf(contents, batch.card);
    const device = deviceIdOf(contents);
    if (batch.device !== device) fail('batch_mismatch', 'the batch is for another device');
    if (!batch.tokens.every((t) => isCardTokenId(t.token) && Number.isSafeInteger(t.expiresAt))) {
      fail('batch_mismatch', 'the batch holds a malformed token');
    }
    let opened: { token: string; key: Uint8Array }[];
    try {
      opened = openTokenKeys(
        fromHex(contents.boxSecretKey),
        contents.chainId,
        batch.card,
        device,
        batch,
      );
    } catch {
      return fail('batch_unopened');
    }
    for (const { token, key } of opened) {
      const expected = options.keyHashes?.[token];
      if (expected !== undefined && expected !== cardTokenKeyHash(key)) {
        fail('key_hash_mismatch', `token ${token}: its key is not the one the ledger recorded`);
      }
    }
    const known = new Set([...entry.tokens.map((t) => t.token), ...entry.consumed]);
    const fresh: HeldToken[] = [];
    batch.tokens.forEach((t, i) => {
      if (known.has(t.token) || t.expiresAt <= now) return;
      known.add(t.token);
      fresh.push({ token: t.token, key: toHex(opened[i]!.key), expiresAt: t.expiresAt });
    });
    const tokens = [...usable(entry, now), ...fresh].sort(byExpiry);
    if (tokens.length > cardTokensMaxLimit) fail('too_many_tokens');
    // An activated token of this card that expired is dropped with it.
    const current = contents.activated;
    const activated =
      current?.card === batch.card && !tokens.some((t) => t.token === current.token)
        ? undefined
        : current;
    const next: ElementContents = {
      ...contents,
      activated,
      cards: { ...contents.cards, [batch.card]: { ...entry, tokens } },
    };
    const answer = {
      card: batch.card,
      imported: fresh.length,
      skipped: batch.tokens.length - fresh.length,
      tokens: tokens.length,
    };
    return { next, answer: () => answer };
  });
}

function byExpiry(a: HeldToken, b: HeldToken): number {
  return a.expiresAt - b.expiresAt || (a.token < b.token ? -1 : a.token > b.token ? 1 : 0);
}

/**
 * Selects a card and answers the display. A token activated for another card is released (it
 * backed no cryptogram, so it goes back among the unconsumed).
 */
export function selectCard(
  file: string,
  pin: string,
  card: string,
  now: number,
  options: ElementOptions = {},
): CardSummary {
  return withElement(file, pin, options, (contents) => {
    const entry = entryOf(contents, card);
    const activated = contents.activated?.card === card ? contents.activated : undefined;
    const next = { ...contents, selected: card, activated };
    return { next, answer: () => summary(next, entry, now) };
  });
}

/** The earliest-expiring usable token of the selected card, or a refusal. */
function nextToken(contents: ElementContents, now: number): { entry: CardEntry; token: HeldToken } {
  if (contents.selected === undefined) return fail('no_card_selected');
  const entry = entryOf(contents, contents.selected);
  const current = contents.activated;
  const held =
    current?.card === contents.selected
      ? usable(entry, now).find((t) => t.token === current.token)
      : undefined;
  const token = held ?? usable(entry, now)[0] ?? fail('no_tokens');
  return { entry, token };
}

/**
 * Activates a token of the selected card for the next payment: the activated one if it is still
 * unexpired, else the earliest-expiring usable one. Answers the token id.
 */
export function activate(
  file: string,
  pin: string,
  now: number,
  options: ElementOptions = {},
): { card: string; token: string; expiresAt: number } {
  return withElement(file, pin, options, (contents) => {
    const { entry, token } = nextToken(contents, now);
    const next = { ...contents, activated: { card: entry.record.card, token: token.token } };
    return {
      next,
      answer: () => ({ card: entry.record.card, token: token.token, expiresAt: token.expiresAt }),
    };
  });
}

/**
 * Pays a terminal's request with the selected card. With no token activated (or the activated one
 * expired) it activates the earliest-expiring usable one itself, so a payment needs one tap.
 *
 * Write-ahead: the element is written with the token consumed (its key gone from the file), the
 * counter advanced and `pending` describing the payment, and only then is the cryptogram computed
 * from the key held in memory. A crash before that write changes nothing; a crash after it loses
 * the token (it is consumed and never used again).
 */
export function pay(
  file: string,
  pin: string,
  request: TerminalRequest,
  now: number,
  options: ElementOptions = {},
): DeviceAnswer {
  const parsed = terminalRequestSchema.safeParse(request);
  if (!parsed.success) return fail('invalid_terminal_request');
  const terminal = parsed.data;
  return withElement<DeviceAnswer>(file, pin, options, (contents) => {
    const { entry, token } = nextToken(contents, now);
    if (terminal.currency !== entry.record.asset) {
      fail('currency_mismatch', `the card pays in ${entry.record.asset}, not ${terminal.currency}`);
    }
    if (contents.counter >= Number.MAX_SAFE_INTEGER) fail('counter_exhausted');
    const counter = contents.counter + 1;
    const card = entry.record.card;
    const spent: CardEntry = {
      ...entry,
      tokens: entry.tokens.filter((t) => t.token !== token.token),
      consumed: [...entry.consumed, token.token].slice(-consumedKeptMax),
      payments: [...entry.payments, now].slice(-paymentTimesKeptMax),
    };
    const next: ElementContents = {
      ...contents,
      counter,
      cards: { ...contents.cards, [card]: spent },
      activated: undefined,
      pending: { card, token: token.token, counter, request: terminal, at: now },
    };
    const payment = { token: token.token, counter, ...terminal };
    return {
      next,
      // Runs after the write above is durable: the cryptogram is computed only now.
      answer: () => ({
        ...payment,
        cryptogram: cryptogram(fromHex(token.key), contents.chainId, payment),
      }),
    };
  });
}

/** What the element holds, without a key: for `status`. */
export interface ElementStatus {
  device: string;
  chainId: string;
  nodeUrl?: string;
  counter: number;
  selected?: string;
  activated?: { card: string; token: string };
  /** The last payment: its token was consumed before its cryptogram was computed. */
  lastPayment?: PendingPayment;
  cards: CardSummary[];
}

export function elementStatus(
  file: string,
  pin: string,
  now: number,
  options: ElementOptions = {},
): ElementStatus {
  return withElement(file, pin, options, (contents) => ({
    answer: () => ({
      device: deviceIdOf(contents),
      chainId: contents.chainId,
      ...(contents.nodeUrl !== undefined && { nodeUrl: contents.nodeUrl }),
      counter: contents.counter,
      ...(contents.selected !== undefined && { selected: contents.selected }),
      ...(contents.activated !== undefined && { activated: contents.activated }),
      ...(contents.pending !== undefined && { lastPayment: contents.pending }),
      cards: Object.values(contents.cards).map((entry) => summary(contents, entry, now)),
    }),
  }));
}

/**
 * The whole contents, keys included: for tests that compare states across crashes. No command
 * prints it.
 */
export function readElementContents(file: string, pin: string): ElementContents {
  return withElement(file, pin, {}, (contents) => ({ answer: () => structuredClone(contents) }));
}
