import type { ClientCore } from '../../sdk/client.js';
import type { SigningKey } from '../../sdk/keys.js';
import { fromHex } from '../../crypto/index.js';
import {
  authoriseSignedFields,
  holdBlocksDefault,
  mintSignedFields,
  signCardRequest,
  type Authorisation,
  type AuthoriseBody,
  type CardDeviceRecord,
  type CardRecord,
  type CardTokenRecord,
  type CardsPayload,
  type DeviceAnswer,
  type MintBody,
  type MintRequester,
  type MintResult,
  type TerminalRequest,
} from './schema.js';

export * from './schema.js';

/*
 * Cards from a client's side: reads, the two relays (a batch of card tokens, an acquirer's
 * authorisation) with their signers, and the builders of the txs an issuer or a cardholder signs
 * itself. Pure (the schema and the SDK core), so it runs in browsers and in the device program.
 */

/** The cards namespace of a client. */
export function cardsClient(core: ClientCore) {
  const { request, segment } = core;
  return {
    cards: {
      /** A linked card: face, account, asset, status, devices. */
      get: (card: string) => request<CardRecord>('GET', `/v1/cards/${segment(card)}`),
      /** A card on one device: box key, next request number, unconsumed tokens. */
      device: (card: string, device: string) =>
        request<CardDeviceRecord>('GET', `/v1/cards/${segment(card)}/devices/${segment(device)}`),
      /** A card token as the ledger records it (never its key). */
      token: (token: string) =>
        request<CardTokenRecord>('GET', `/v1/card-tokens/${segment(token)}`),
      /** A signed batch request (`signMintRequest`); answers the sealed keys once final. */
      mint: (card: string, device: string, body: MintBody) =>
        request<MintResult>(
          'POST',
          `/v1/cards/${segment(card)}/devices/${segment(device)}/tokens`,
          body,
        ),
      /** An acquirer's signed authorisation (`signAuthorisation`); answers the hold once final. */
      authorise: (body: AuthoriseBody) =>
        request<Authorisation>('POST', '/v1/cards/authorisations', body),
    },
  };
}

/** A batch request for `count` card tokens, signed by the issuer's account key or the device's key. */
export function signMintRequest(
  secretKey: Uint8Array,
  chainId: string,
  request: { card: string; device: string; n: number; count: number; by: MintRequester },
): MintBody {
  return {
    n: request.n,
    count: request.count,
    by: request.by,
    signature: signCardRequest('mint', chainId, mintSignedFields(request), secretKey),
  };
}

/** An acquirer's authorisation request for a terminal's request and the device's answer. */
export function signAuthorisation(
  key: SigningKey,
  chainId: string,
  terminal: TerminalRequest,
  answer: DeviceAnswer,
  holdBlocks = holdBlocksDefault,
): AuthoriseBody {
  const fields = authoriseSignedFields({ acquirer: key.address, terminal, answer, holdBlocks });
  return {
    acquirer: key.address,
    terminal,
    answer,
    holdBlocks,
    signature: signCardRequest(
      'authorise',
      chainId,
      fields,
      fromHex(key.secretKey, 'secretKey', 32),
    ),
  };
}

/** The txs an issuer or cardholder signs itself, as `{type, payload}` for `signTx`. */
export const cardTxs = {
  link: (payload: CardsPayload<'card.link'>) => ({ type: 'card.link', payload }),
  accept: (card: string) => ({ type: 'card.accept', payload: { card } }),
  close: (card: string) => ({ type: 'card.close', payload: { card } }),
  addDevice: (payload: CardsPayload<'card.addDevice'>) => ({ type: 'card.addDevice', payload }),
  approveDevice: (card: string, device: string) => ({
    type: 'card.approveDevice',
    payload: { card, device },
  }),
  removeDevice: (card: string, device: string) => ({
    type: 'card.removeDevice',
    payload: { card, device },
  }),
};
