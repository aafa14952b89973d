import { defineTxOf, type TxDefinition } from '../../chain/index.js';
import { readToken } from '../tokens/api.js';
import { cardRequestSigned, isBoxKey } from './crypto.js';
import type { CardsRejection } from './rejections.js';
import { boxKeySignedFields, cardDevicesMax, cardsPayloads, type CardRecord } from './schema.js';
import {
  deleteCardToken,
  readCard,
  readCardDevice,
  readCardOfVaultToken,
  writeCard,
  writeCardDevice,
  writeCardOfVaultToken,
} from './state.js';
import { paymentTxs } from './txs-payments.js';

export { cardsRejections, type CardsRejection } from './rejections.js';

/*
 * A card's own txs: the issuer links it (a vault token it issued, an account, an asset, the face),
 * the cardholder (the account) accepts it, either closes it; the issuer adds it to devices, the
 * issuer or the cardholder removes it from one. Token batches and authorisations, which only a
 * validator's node relays, are in txs-payments.ts.
 */

/** The card's issuer or its account. */
function isCardParty(card: CardRecord, sender: string): boolean {
  return sender === card.issuer || sender === card.account;
}

const cardTxs: Record<string, TxDefinition<never>> = {
  'card.link': defineTxOf(cardsPayloads['card.link'], {
    execute: (ctx, p): CardsRejection | undefined => {
      if (readCard(ctx.state, p.card)) return 'card_exists';
      const token = readToken(ctx.state, p.token);
      if (!token) return 'token_not_found';
      if (token.issuer !== ctx.sender) return 'not_card_issuer';
      if (token.status !== 'active') return 'token_not_active';
      // One card per vault token at a time: an issuer cannot multiply cards (and their devices
      // and batches) behind one token.
      const linked = readCardOfVaultToken(ctx.state, p.token);
      if (linked !== undefined && readCard(ctx.state, linked)?.status !== 'closed') {
        return 'token_linked';
      }
      if (!ctx.ledger.asset(p.asset)) return 'asset_not_found';
      const record: CardRecord = {
        card: p.card,
        issuer: ctx.sender,
        token: p.token,
        account: p.account,
        asset: p.asset,
        face: p.face,
        last4: token.last4,
        expiry: token.expiry,
        status: 'pending',
        tokensMax: p.tokensMax,
        tokenLifeMs: p.tokenLifeMs,
        devices: [],
        linkedAtHeight: ctx.height,
      };
      writeCard(ctx.state, record);
      writeCardOfVaultToken(ctx.state, p.token, p.card);
      ctx.emit('card.linked', {
        card: p.card,
        issuer: ctx.sender,
        account: p.account,
        asset: p.asset,
        last4: token.last4,
        expiry: token.expiry,
        tokensMax: p.tokensMax,
        tokenLifeMs: p.tokenLifeMs,
      });
      return undefined;
    },
  }),
  'card.accept': defineTxOf(cardsPayloads['card.accept'], {
    execute: (ctx, p): CardsRejection | undefined => {
      const card = readCard(ctx.state, p.card);
      if (!card) return 'card_not_found';
      if (ctx.sender !== card.account) return 'not_cardholder';
      if (card.status !== 'pending') return 'card_not_pending';
      writeCard(ctx.state, { ...card, status: 'active' });
      ctx.emit('card.accepted', { card: p.card, account: card.account });
      return undefined;
    },
  }),
  'card.close': defineTxOf(cardsPayloads['card.close'], {
    execute: (ctx, p): CardsRejection | undefined => {
      const card = readCard(ctx.state, p.card);
      if (!card) return 'card_not_found';
      if (!isCardParty(card, ctx.sender)) return 'not_card_party';
      if (card.status === 'closed') return 'card_closed';
      writeCard(ctx.state, { ...card, status: 'closed' });
      ctx.emit('card.closed', { card: p.card, by: ctx.sender });
      return undefined;
    },
  }),
  'card.addDevice': defineTxOf(cardsPayloads['card.addDevice'], {
    execute: (ctx, p): CardsRejection | undefined => {
      const card = readCard(ctx.state, p.card);
      if (!card) return 'card_not_found';
      if (ctx.sender !== card.issuer) return 'not_card_issuer';
      if (card.status === 'closed') return 'card_closed';
      const signed = cardRequestSigned(
        'deviceBoxKey',
        ctx.chainId,
        boxKeySignedFields(p),
        p.device,
        p.boxKeySignature,
      );
      if (!signed) return 'box_key_signature_invalid';
      if (!isBoxKey(p.boxKey)) return 'invalid_box_key';
      const existing = readCardDevice(ctx.state, p.card, p.device);
      if (existing !== undefined && existing.status !== 'removed') return 'device_exists';
      if (card.devices.length >= cardDevicesMax) return 'card_devices_full';
      // A device added again keeps its request numbers (a batch request signed for the earlier
      // provisioning is never answered again) and starts a new epoch (tokens minted before its
      // removal never pay). It is pending until the cardholder approves it.
      writeCardDevice(ctx.state, {
        card: p.card,
        device: p.device,
        boxKey: p.boxKey,
        status: 'pending',
        epoch: (existing?.epoch ?? 0) + 1,
        nextRequest: existing?.nextRequest ?? 1,
        outstanding: [],
        minted: existing?.minted ?? 0,
        consumed: existing?.consumed ?? 0,
        addedAtHeight: ctx.height,
      });
      writeCard(ctx.state, { ...card, devices: [...card.devices, p.device] });
      ctx.emit('card.deviceAdded', { card: p.card, device: p.device, boxKey: p.boxKey });
      return undefined;
    },
  }),
  'card.approveDevice': defineTxOf(cardsPayloads['card.approveDevice'], {
    execute: (ctx, p): CardsRejection | undefined => {
      const card = readCard(ctx.state, p.card);
      if (!card) return 'card_not_found';
      if (ctx.sender !== card.account) return 'not_cardholder';
      const link = readCardDevice(ctx.state, p.card, p.device);
      if (!link) return 'device_not_found';
      if (link.status !== 'pending') return 'device_not_pending';
      writeCardDevice(ctx.state, { ...link, status: 'active' });
      ctx.emit('card.deviceApproved', { card: p.card, device: p.device, account: card.account });
      return undefined;
    },
  }),
  'card.removeDevice': defineTxOf(cardsPayloads['card.removeDevice'], {
    execute: (ctx, p): CardsRejection | undefined => {
      const card = readCard(ctx.state, p.card);
      if (!card) return 'card_not_found';
      if (!isCardParty(card, ctx.sender)) return 'not_card_party';
      const link = readCardDevice(ctx.state, p.card, p.device);
      if (!link) return 'device_not_found';
      if (link.status === 'removed') return 'device_removed';
      // Its unconsumed tokens die with it (an authorisation checks the device and the token's
      // epoch), and their records go: they can never pay.
      for (const entry of link.outstanding) deleteCardToken(ctx.state, entry.token);
      writeCardDevice(ctx.state, { ...link, status: 'removed', outstanding: [] });
      writeCard(ctx.state, { ...card, devices: card.devices.filter((d) => d !== p.device) });
      ctx.emit('card.deviceRemoved', {
        card: p.card,
        device: p.device,
        by: ctx.sender,
        tokensDropped: link.outstanding.length,
      });
      return undefined;
    },
  }),
};

/** The module's tx types, in the order of the payload schemas. */
export const cardsTxs: Record<string, TxDefinition<never>> = Object.fromEntries(
  Object.keys(cardsPayloads).map((type) => {
    const definition = cardTxs[type] ?? paymentTxs[type];
    if (definition === undefined) throw new Error(`cards: no handler for ${type}`);
    return [type, definition];
  }),
);
