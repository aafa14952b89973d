import type { ClientCore } from '../../sdk/client.js';
import type { SigningKey } from '../../sdk/keys.js';
import { fromHex, sign, signingMessage, toHex } from '../../crypto/index.js';
import {
  detokeniseSignedFields,
  panCommitment,
  panUpdateSignedFields,
  provisionSignedFields,
  tokenRequestHash,
  type DetokeniseBody,
  type DetokeniseResult,
  type LifecycleEvent,
  type PanUpdateBody,
  type Participant,
  type ProvisionRequestBody,
  type RelayResult,
  type RewrapBody,
  type RewrapResult,
  type TokenDomain,
  type TokenInitiator,
  type TokenService,
  type TokenView,
  type TokensPayload,
} from './schema.js';

export * from './schema.js';

/*
 * The token service from a client's side: reads, the three signed relays (provision, PAN update,
 * detokenisation) and the builders of the lifecycle txs a participant signs itself. Pure (the
 * schema and the SDK core), so it runs in browsers.
 */

/** The token service's namespace of a client. */
export function tokensClient(core: ClientCore) {
  const { request, segment } = core;
  return {
    tokens: {
      /** The token BINs (`token_bins_not_configured` before the service is configured). */
      service: () => request<TokenService>('GET', '/v1/token-service'),
      /** A participant: roles and, for an issuer, its BINs. */
      participant: (address: string) =>
        request<Participant>('GET', `/v1/token-participants/${segment(address)}`),
      /** A token's record (never its PAN). */
      get: (token: string) => request<TokenView>('GET', `/v1/tokens/${segment(token)}`),
      /** A signed provision request (`signProvisionRequest`); answers once final. */
      provision: (body: ProvisionRequestBody) => request<RelayResult>('POST', '/v1/tokens', body),
      /** A signed PAN update by the token's issuer (`signPanUpdate`). */
      updatePan: (token: string, body: PanUpdateBody) =>
        request<RelayResult>('POST', `/v1/tokens/${segment(token)}/pan-update`, body),
      /** A signed detokenisation request (`signDetokenise`): the PAN, once recorded. */
      detokenise: (token: string, body: DetokeniseBody) =>
        request<DetokeniseResult>('POST', `/v1/tokens/${segment(token)}/detokenise`, body),
      /** A validator operator's signed re-wrap request (`signRewrap`): key rotation, a page. */
      rewrap: (body: RewrapBody) => request<RewrapResult>('POST', '/v1/token-service/rewrap', body),
    },
  };
}

function signRequest(
  key: SigningKey,
  kind: 'provision' | 'panUpdate' | 'detokenise' | 'rewrap',
  chainId: string,
  fields: Record<string, string | undefined>,
): string {
  const message = signingMessage('tokenRequest', tokenRequestHash(kind, chainId, fields));
  return toHex(sign(message, fromHex(key.secretKey, 'secretKey', 32)));
}

/** 32 random bytes as hex: a PAN commitment's salt (WebCrypto, in browsers and Node). */
export function newPanSalt(): string {
  return toHex(globalThis.crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * A provision request signed by the requestor `key`, with a fresh `panSalt` from the CSPRNG
 * (WebCrypto): the salt is what hides the PAN behind the ledger's commitment, so no caller may
 * choose it.
 */
export function signProvisionRequest(
  key: SigningKey,
  chainId: string,
  request: {
    requestId: string;
    pan: string;
    expiry: string;
    domain: TokenDomain;
    assuranceLevel: string;
    wallet?: string;
  },
): ProvisionRequestBody {
  const panSalt = newPanSalt();
  const commitment = panCommitment(request.pan, panSalt);
  const fields = provisionSignedFields({ ...request, requestor: key.address, commitment });
  return {
    requestor: key.address,
    requestId: request.requestId,
    pan: request.pan,
    panSalt,
    expiry: request.expiry,
    domain: request.domain,
    assuranceLevel: request.assuranceLevel,
    ...(request.wallet === undefined ? {} : { wallet: request.wallet }),
    signature: signRequest(key, 'provision', chainId, fields),
  };
}

/** A PAN update signed by the token's issuer `key`: a new expiry, and a new PAN if given. */
export function signPanUpdate(
  key: SigningKey,
  chainId: string,
  token: string,
  update: { seq: number; reason: string; expiry: string; pan?: string },
): PanUpdateBody {
  const panSalt = update.pan === undefined ? undefined : newPanSalt();
  const commitment = update.pan === undefined ? undefined : panCommitment(update.pan, panSalt!);
  const fields = panUpdateSignedFields({ ...update, token, commitment });
  return {
    issuer: key.address,
    seq: update.seq,
    reason: update.reason,
    expiry: update.expiry,
    ...(update.pan === undefined ? {} : { pan: update.pan, panSalt: panSalt! }),
    signature: signRequest(key, 'panUpdate', chainId, fields),
  };
}

/** A detokenisation request signed by `key` (the issuer or an acquirer). */
export function signDetokenise(
  key: SigningKey,
  chainId: string,
  token: string,
  request: { n: number; purpose: string; channel: string; merchantId?: string },
): DetokeniseBody {
  const fields = detokeniseSignedFields({ ...request, token, party: key.address });
  return {
    party: key.address,
    n: request.n,
    purpose: request.purpose,
    channel: request.channel,
    ...(request.merchantId === undefined ? {} : { merchantId: request.merchantId }),
    signature: signRequest(key, 'detokenise', chainId, fields),
  };
}

/** A re-wrap request signed by a validator operator `key`, for the node's current KEK `kekId`. */
export function signRewrap(
  key: SigningKey,
  chainId: string,
  request: { kekId: string; limit: number; after?: string },
): RewrapBody {
  const fields = {
    operator: key.address,
    kekId: request.kekId,
    after: request.after,
    limit: String(request.limit),
  };
  return {
    operator: key.address,
    kekId: request.kekId,
    ...(request.after === undefined ? {} : { after: request.after }),
    limit: request.limit,
    signature: signRequest(key, 'rewrap', chainId, fields),
  };
}

/** A lifecycle tx a participant signs and sends to `POST /v1/txs`. */
export function lifecycleTx(
  event: Exclude<LifecycleEvent, 'token.updatePan'>,
  payload: { token: string; seq: number; initiator: TokenInitiator; reason: string },
): { type: string; payload: TokensPayload<'token.suspend'> } {
  return {
    type: event,
    payload: {
      token: payload.token,
      seq: payload.seq,
      initiator: payload.initiator,
      reason: payload.reason as TokensPayload<'token.suspend'>['reason'],
    },
  };
}

/** The txs of the service's configuration, sent by a validator operator. */
export const tokenServiceTxs = {
  configure: (tokenBins: string[]) => ({
    type: 'tokens.configure',
    payload: { tokenBins },
  }),
  registerParticipant: (payload: TokensPayload<'tokens.registerParticipant'>) => ({
    type: 'tokens.registerParticipant',
    payload,
  }),
};
