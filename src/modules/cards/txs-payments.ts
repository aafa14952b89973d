import { defineTxOf, type TxContext, type TxDefinition } from '../../chain/index.js';
import { fromHex } from '../../crypto/index.js';
import { holdsPerAccountMax, ledgerKeys, type AccountRecord } from '../../ledger/index.js';
import type { StateReader } from '../../state/index.js';
import { domainRefusal, isTokenService, readParticipant, readToken } from '../tokens/api.js';
import { cardRequestHash, cardRequestSigned, cardTokenKeyHash, cryptogramValid } from './crypto.js';
import type { CardsRejection } from './rejections.js';
import {
  authoriseSignedFields,
  cardsPayloads,
  mintSignedFields,
  type CardDeviceRecord,
  type CardRecord,
  type CardTokenRecord,
  type CardsPayload,
} from './schema.js';
import {
  deleteCardToken,
  readCard,
  readCardDevice,
  readCardToken,
  writeCardDevice,
  writeCardToken,
} from './state.js';

/*
 * What only a validator operator's node relays: token batches (the node draws the ids and derives
 * the keys from the consortium's master key, which no handler may read) and authorisations (the
 * node reveals the used token's key, so every node checks the cryptogram from the payload).
 */

/** Unconsumed tokens of a card on a device still good at `time`: expired ones are dropped. */
export function liveTokens(link: CardDeviceRecord, time: number): CardDeviceRecord['outstanding'] {
  return link.outstanding.filter((entry) => entry.expiresAt >= time);
}

/**
 * Why a batch request cannot be minted now, or undefined: the checks of `card.mintTokens` short of
 * the token ids (the relay route runs them on committed state before it draws ids). Only for an
 * accepted card on a device its cardholder approved.
 */
export function mintRefusal(
  state: StateReader,
  chainId: string,
  time: number,
  p: Omit<CardsPayload<'card.mintTokens'>, 'tokens'>,
): CardsRejection | undefined {
  const card = readCard(state, p.card);
  if (!card) return 'card_not_found';
  if (card.status === 'closed') return 'card_closed';
  if (card.status === 'pending') return 'card_not_accepted';
  const link = readCardDevice(state, p.card, p.device);
  if (!link) return 'device_not_found';
  if (link.status === 'removed') return 'device_removed';
  if (link.status === 'pending') return 'device_not_approved';
  const signer = p.by === 'issuer' ? card.issuer : p.device;
  if (!cardRequestSigned('mint', chainId, mintSignedFields(p), signer, p.signature)) {
    return 'mint_request_signature_invalid';
  }
  if (p.n !== link.nextRequest) return 'request_out_of_order';
  if (liveTokens(link, time).length + p.count > card.tokensMax) return 'card_tokens_limit';
  return undefined;
}

/** What an authorisation does, once its payload is checked against state. */
export type AuthorisationOutcome =
  /**
   * Nothing changes: no such token, a key that is not its key (so nothing secret was revealed),
   * or a token used already.
   */
  | { kind: 'refused'; code: CardsRejection }
  /**
   * Anything else that fails once the key is the token's own: the token is used all the same,
   * since the key is in the tx and public from then on.
   */
  | { kind: 'declined'; code: string; token: CardTokenRecord }
  | { kind: 'approved'; token: CardTokenRecord; card: CardRecord; link: CardDeviceRecord };

/**
 * Checks an authorisation against state, in a fixed precedence: the token, its key, its use
 * (refusals: nothing is revealed or the token is gone), then, declines: the relay (`relayed`:
 * sent by a validator operator), the acquirer for the merchant, its signature, the device's
 * answer against the terminal's request, the cryptogram, the token's expiry, the card, the
 * device (approved, the token of its current epoch) and the vault token (status, domain), the
 * currency. The ledger's hold comes after, in the handler (and, read only, at the route).
 */
export function checkAuthorisation(
  state: StateReader,
  chainId: string,
  time: number,
  p: Omit<CardsPayload<'card.authorise'>, 'key'>,
  key: Uint8Array,
  relayed: boolean,
): AuthorisationOutcome {
  const { terminal, answer } = p;
  const token = readCardToken(state, answer.token);
  if (!token) return { kind: 'refused', code: 'card_token_not_found' };
  if (cardTokenKeyHash(key) !== token.keyHash) {
    return { kind: 'refused', code: 'card_token_key_invalid' };
  }
  if (token.status === 'consumed') return { kind: 'refused', code: 'card_token_consumed' };
  const declined = (code: string) => ({ kind: 'declined', code, token }) as const;
  if (!relayed) return declined('not_card_relay');
  const acquirer = readParticipant(state, p.acquirer);
  if (!acquirer?.roles.includes('acquirer')) return declined('not_acquirer');
  if (!(acquirer.merchantIds ?? []).includes(terminal.merchantId)) {
    return declined('acquirer_merchant_refused');
  }
  const fields = authoriseSignedFields(p);
  if (!cardRequestSigned('authorise', chainId, fields, p.acquirer, p.signature)) {
    return declined('authorisation_signature_invalid');
  }
  if (answer.amount !== terminal.amount) return declined('amount_mismatch');
  if (answer.currency !== terminal.currency) return declined('currency_mismatch');
  if (answer.merchantId !== terminal.merchantId) return declined('merchant_mismatch');
  if (answer.unpredictableNumber !== terminal.unpredictableNumber) {
    return declined('unpredictable_number_mismatch');
  }
  if (!cryptogramValid(key, chainId, answer, answer.cryptogram)) {
    return declined('cryptogram_invalid');
  }
  if (time > token.expiresAt) return declined('card_token_expired');
  const card = readCard(state, token.card)!;
  if (card.status === 'closed') return declined('card_closed');
  if (card.status === 'pending') return declined('card_not_accepted');
  const link = readCardDevice(state, token.card, token.device)!;
  if (link.status !== 'active' || link.epoch !== token.epoch) return declined('device_removed');
  const vaultToken = readToken(state, card.token);
  if (!vaultToken) return declined('token_not_found');
  if (vaultToken.status === 'suspended') return declined('card_suspended');
  if (vaultToken.status === 'deleted') return declined('card_deleted');
  const domain = domainRefusal(vaultToken, 'contactless', terminal.merchantId, time);
  if (domain) return declined(domain);
  if (terminal.currency !== card.asset) return declined('card_currency_mismatch');
  return { kind: 'approved', token, card, link };
}

/**
 * Why the ledger would not hold `amount` of the card's account for `payee` now (read only: the
 * route's check before it relays; the handler's `createHold` decides), or undefined.
 */
export function holdRefusal(
  state: StateReader,
  card: CardRecord,
  payee: string,
  amount: bigint,
): string | undefined {
  if (card.account === payee) return 'accounts_must_be_different';
  const read = (address: string) => {
    const text = state.get(ledgerKeys.account(address));
    return text === undefined ? undefined : (JSON.parse(text) as AccountRecord);
  };
  const payer = read(card.account);
  if (payer?.frozen.includes(card.asset) || read(payee)?.frozen.includes(card.asset)) {
    return 'account_frozen';
  }
  if ((payer?.holds.length ?? 0) >= holdsPerAccountMax) return 'too_many_holds';
  if (BigInt(payer?.balances[card.asset] ?? '0') < amount) return 'insufficient_funds';
  return undefined;
}

/** Records the token's use, approved (with its hold) or declined, and drops it from its device. */
function consume(
  ctx: TxContext,
  p: CardsPayload<'card.authorise'>,
  token: CardTokenRecord,
  outcome:
    { holdId: string; requestHash: string; holdExpiresAtHeight: number } | { declined: string },
): void {
  writeCardToken(ctx.state, {
    ...token,
    status: 'consumed',
    consumed: {
      height: ctx.height,
      acquirer: p.acquirer,
      merchantId: p.terminal.merchantId,
      amount: p.terminal.amount,
      counter: p.answer.counter,
      ...outcome,
    },
  });
  const link = readCardDevice(ctx.state, token.card, token.device)!;
  writeCardDevice(ctx.state, {
    ...link,
    outstanding: link.outstanding.filter((entry) => entry.token !== token.token),
    consumed: link.consumed + 1,
  });
}

export const paymentTxs: Record<string, TxDefinition<never>> = {
  'card.mintTokens': defineTxOf(cardsPayloads['card.mintTokens'], {
    execute: (ctx, p): CardsRejection | undefined => {
      if (!isTokenService(ctx)) return 'not_card_relay';
      const refusal = mintRefusal(ctx.state, ctx.chainId, ctx.time, p);
      if (refusal) return refusal;
      if (p.tokens.length !== p.count) return 'token_count_mismatch';
      const ids = p.tokens.map((entry) => entry.token);
      if (new Set(ids).size !== ids.length) return 'card_token_exists';
      for (const id of ids) if (readCardToken(ctx.state, id)) return 'card_token_exists';
      const card = readCard(ctx.state, p.card)!;
      const link = readCardDevice(ctx.state, p.card, p.device)!;
      const expiresAt = ctx.time + card.tokenLifeMs;
      // Expired unused tokens can never pay: their records go, so batches grow no state for good.
      for (const entry of link.outstanding) {
        if (entry.expiresAt < ctx.time) deleteCardToken(ctx.state, entry.token);
      }
      for (const entry of p.tokens) {
        writeCardToken(ctx.state, {
          token: entry.token,
          card: p.card,
          device: p.device,
          keyHash: entry.keyHash,
          expiresAt,
          epoch: link.epoch,
          mintedAtHeight: ctx.height,
          status: 'unused',
        });
      }
      writeCardDevice(ctx.state, {
        ...link,
        nextRequest: link.nextRequest + 1,
        outstanding: [...liveTokens(link, ctx.time), ...ids.map((token) => ({ token, expiresAt }))],
        lastBatch: { n: p.n, tokens: ids },
        minted: link.minted + ids.length,
      });
      ctx.emit('card.tokensMinted', {
        card: p.card,
        device: p.device,
        n: p.n,
        by: p.by,
        tokens: ids,
        expiresAt,
      });
      return undefined;
    },
  }),
  'card.authorise': defineTxOf(cardsPayloads['card.authorise'], {
    execute: (ctx, p): string | undefined => {
      const key = fromHex(p.key, 'key', 32);
      const outcome = checkAuthorisation(
        ctx.state,
        ctx.chainId,
        ctx.time,
        p,
        key,
        isTokenService(ctx),
      );
      if (outcome.kind === 'refused') return outcome.code;
      const { terminal, answer } = p;
      const base = {
        token: answer.token,
        card: outcome.token.card,
        device: outcome.token.device,
        acquirer: p.acquirer,
        merchantId: terminal.merchantId,
        amount: terminal.amount,
        currency: terminal.currency,
        counter: answer.counter,
      };
      let declined: string | undefined = outcome.kind === 'declined' ? outcome.code : undefined;
      if (outcome.kind === 'approved') {
        const expiresAtHeight = ctx.height + p.holdBlocks;
        declined = ctx.ledger.createHold(
          {
            id: ctx.txHash,
            payer: outcome.card.account,
            payee: p.acquirer,
            asset: outcome.card.asset,
            amount: BigInt(terminal.amount),
            expiresAtHeight,
          },
          ctx.height,
        );
        if (declined === undefined) {
          consume(ctx, p, outcome.token, {
            holdId: ctx.txHash,
            requestHash: cardRequestHash('authorise', ctx.chainId, authoriseSignedFields(p)),
            holdExpiresAtHeight: expiresAtHeight,
          });
          ctx.emit('card.authorised', { ...base, holdId: ctx.txHash, expiresAtHeight });
          return undefined;
        }
      }
      // The cryptogram checked: the token is used, declined or not, so its key (now in this
      // payload, public) can never pay.
      consume(ctx, p, outcome.token, { declined: declined! });
      ctx.emit('card.declined', { ...base, code: declined });
      return undefined;
    },
  }),
};
