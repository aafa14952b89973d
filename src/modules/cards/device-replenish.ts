import { CliError } from '../../cli/errors.js';
import type { CofferClient } from '../../sdk/index.js';
import { signMintRequest } from './client.js';
import { CardDeviceError, cardTokenState, importBatch, type ImportResult } from './device.js';
import { paymentHalfLifeMsDefault, replenishmentCount } from './device-forecast.js';
import type { MintResult } from './schema.js';

/*
 * The device's side of replenishment over the node's API, for `coffer card-device replenish` and
 * `import`: a signed batch request, the ledger's key hashes checked, the batch imported, and a
 * batch whose answer never reached the element fetched again.
 */

/** Runs an element operation, turning the element's refusals into the CLI's one error. */
export function element<T>(operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    if (error instanceof CardDeviceError) throw new CliError(error.code, error.message);
    throw error;
  }
}

/**
 * Fetches the ledger's record of each token of a batch and answers its key hash, refusing a token
 * the ledger does not record for this card, device and expiry (`batch_mismatch`) and a token the
 * ledger records as consumed (`card_token_consumed`). The element remembers only its last
 * `consumedKeptMax` consumed tokens per card, so an older one in a replayed batch would otherwise
 * come back; the ledger remembers them all.
 *
 * What this check is worth: the records (the key hashes, the statuses) are read from the same
 * node that sent the batch. It catches a node whose batch and ledger disagree (a bug, a batch from
 * a fork or a stale file), not a malicious node, which can answer records to match any batch it
 * sends. Against that node the device has only the box key (a batch it cannot open is refused)
 * and the ledger itself: a token the ledger never minted, or already consumed, cannot pay there.
 */
export async function ledgerKeyHashes(
  client: CofferClient,
  batch: MintResult,
): Promise<Record<string, string>> {
  const records = await Promise.all(batch.tokens.map((t) => client.cards.token(t.token)));
  return Object.fromEntries(
    records.map((record, i) => {
      const token = batch.tokens[i]!.token;
      if (
        record.token !== token ||
        record.card !== batch.card ||
        record.device !== batch.device ||
        record.expiresAt !== batch.tokens[i]!.expiresAt
      ) {
        throw new CliError(
          'batch_mismatch',
          `token ${token}: the ledger records it for another card, device or expiry`,
        );
      }
      if (record.status === 'consumed') {
        throw new CliError(
          'card_token_consumed',
          `token ${token}: the ledger records it as consumed; it is never imported again`,
        );
      }
      return [token, record.keyHash];
    }),
  );
}

/**
 * Imports a batch into the element after checking each token against the ledger's record
 * (`ledgerKeyHashes`: its card, device, expiry, status and key hash, all as the same node answers
 * them).
 */
export async function importVerified(
  client: CofferClient,
  file: string,
  pin: string,
  batch: MintResult,
  now: number,
): Promise<ImportResult> {
  const keyHashes = await ledgerKeyHashes(client, batch);
  return element(() => importBatch(file, pin, batch, now, { keyHashes }));
}

export interface ReplenishRequest {
  /** The client to use, given the node URL stored in the element (if any). */
  clientFor(stored: string | undefined): CofferClient;
  file: string;
  pin: string;
  card: string;
  now(): number;
  threshold: number;
  leadTimeMs: number;
  /** Exactly this many (1 to what the issuer's limit leaves), instead of the forecast. */
  count?: number;
  /** As many as the issuer's limit leaves, instead of the forecast. */
  force: boolean;
}

export interface ReplenishOutcome {
  requested: number;
  imported: number;
  /** Unconsumed, unexpired tokens the element holds for the card now. */
  tokens: number;
  /** More tokens the issuer's limit allows, by the ledger's count. */
  room: number;
  /** A lost batch fetched again first: its request number and the tokens it brought. */
  recovered?: { n: number; imported: number };
}

/**
 * Replenishes one card: the forecast's count (device-forecast.ts) from the element's unconsumed
 * tokens and payment times, capped by the room the ledger's count leaves under the issuer's
 * limit; or `count`; or, `force`, all the room. The request is signed by the device with the
 * ledger's next request number.
 */
export async function replenishCard(request: ReplenishRequest): Promise<ReplenishOutcome> {
  const { file, pin, card } = request;
  let state = element(() => cardTokenState(file, pin, card));
  const client = request.clientFor(state.nodeUrl);
  const [record, onLedger] = await Promise.all([
    client.cards.get(card),
    client.cards.device(card, state.device),
  ]);
  if (onLedger.status !== 'active' || record.status === 'closed') {
    throw new CliError(
      'device_removed',
      `card ${card} is closed or no longer on this device; no tokens can be minted`,
    );
  }
  const sign = (n: number, count: number) =>
    signMintRequest(state.deviceSecretKey, state.chainId, {
      card,
      device: state.device,
      n,
      count,
      by: 'device',
    });
  // A batch the node minted whose answer never reached the element (a crash, a lost answer) is
  // asked for again with its own request number, and the node answers it again. Only tokens the
  // ledger still counts as unconsumed and unexpired are worth fetching.
  const known = new Set([...state.held.map((t) => t.token), ...state.consumed]);
  const live = new Set(
    onLedger.outstanding.filter((t) => t.expiresAt > request.now()).map((t) => t.token),
  );
  const last = onLedger.lastBatch;
  let recovered: ReplenishOutcome['recovered'];
  if (last && last.tokens.some((token) => live.has(token) && !known.has(token))) {
    const again = await client.cards.mint(card, state.device, sign(last.n, last.tokens.length));
    const result = await importVerified(client, file, pin, again, request.now());
    recovered = { n: last.n, imported: result.imported };
    state = element(() => cardTokenState(file, pin, card));
  }
  const now = request.now();
  const outstanding = onLedger.outstanding.filter((t) => t.expiresAt > now).length;
  const room = Math.max(0, record.tokensMax - outstanding);
  const usable = state.held.filter((t) => t.expiresAt > now).length;
  let count: number;
  if (request.count !== undefined || request.force) {
    count = request.count ?? room;
    if (count < 1 || count > room) {
      throw new CliError(
        'token_limit_reached',
        `the issuer lets this device hold ${record.tokensMax} unconsumed tokens of card ${card} ` +
          `and the ledger counts ${outstanding}: ask for 1 to ${room}`,
      );
    }
  } else {
    const forecast = replenishmentCount({
      unconsumed: usable,
      threshold: Math.min(request.threshold, record.tokensMax),
      tokensMax: record.tokensMax,
      paymentTimes: state.payments,
      now,
      leadTimeMs: request.leadTimeMs,
      halfLifeMs: paymentHalfLifeMsDefault,
    });
    count = Math.min(forecast, room);
  }
  const outcome = {
    requested: count,
    imported: 0,
    tokens: usable,
    room,
    ...(recovered && { recovered }),
  };
  if (count === 0) return outcome;
  const batch = await client.cards.mint(card, state.device, sign(onLedger.nextRequest, count));
  const result = await importVerified(client, file, pin, batch, now);
  return { ...outcome, imported: result.imported, tokens: result.tokens, room: room - count };
}
