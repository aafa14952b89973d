import { defineTxOf, type TxContext, type TxDefinition } from '../../chain/index.js';
import { fromHex, publicKeyFromAddress, signingMessage, verify } from '../../crypto/index.js';
import type { TokensRejection } from './rejections.js';
import {
  detokeniseSignedFields,
  lifecycleStep,
  panUpdateSignedFields,
  provisionSignedFields,
  tokenRequestHash,
  tokensPayloads,
  type LifecycleEvent,
  type TokenRequestKind,
} from './schema.js';
import type { StateReader } from '../../state/index.js';
import {
  hasRole,
  readBinOwner,
  readParticipant,
  readRequest,
  readService,
  readToken,
  writeRequest,
  writeToken,
  type ParticipantRecord,
  type TokenRecord,
} from './state.js';
import { isTokenService } from './txs-service.js';

/*
 * Tokens: provision (relayed by a node with the requestor's signed request), the lifecycle events
 * participants send themselves (suspend, resume, delete; a provisioned token is active at once), the PAN update (relayed with
 * the issuer's signature) and detokenisation records. Every handler is deterministic: the node's
 * route did the randomness and the encryption; here only roles, signatures, sequence numbers and
 * the transition table (lifecycle.ts) are checked.
 */

/** True when `signature` is `signer`'s over the request (see `tokenRequestHash`). */
export function requestSigned(
  kind: TokenRequestKind,
  chainId: string,
  fields: Record<string, string | undefined>,
  signer: string,
  signature: string,
): boolean {
  return verify(
    fromHex(signature, 'signature', 64),
    signingMessage('tokenRequest', tokenRequestHash(kind, chainId, fields)),
    publicKeyFromAddress(signer),
  );
}

/** The past tense of each lifecycle event, as its chain event names it. */
const eventNames: Record<LifecycleEvent, string> = {
  'token.suspend': 'token.suspended',
  'token.resume': 'token.resumed',
  'token.delete': 'token.deleted',
  'token.updatePan': 'token.panUpdated',
};

/** Applies a lifecycle step to a token record, or answers why not. */
function stepToken(
  ctx: TxContext,
  token: TokenRecord,
  event: LifecycleEvent,
  initiator: 'issuer' | 'requestor' | 'wallet',
  seq: number,
  reason: string,
): TokenRecord | TokensRejection {
  const next = lifecycleStep(token, event, initiator, seq);
  if (typeof next === 'string') return next;
  const { suspendedBy: _previous, ...rest } = token;
  return {
    ...rest,
    status: next.status,
    seq: next.seq,
    ...(next.suspendedBy === undefined ? {} : { suspendedBy: next.suspendedBy }),
    lastReason: reason,
    updatedAtHeight: ctx.height,
  };
}

function lifecycleTx(event: Exclude<LifecycleEvent, 'token.updatePan'>) {
  return defineTxOf(tokensPayloads[event], {
    execute: (ctx, p): TokensRejection | undefined => {
      const token = readToken(ctx.state, p.token);
      if (!token) return 'token_not_found';
      // The sender is the party it names: the token's issuer, requestor or wallet.
      if (token[p.initiator] !== ctx.sender) return 'not_token_party';
      const next = stepToken(ctx, token, event, p.initiator, p.seq, p.reason);
      if (typeof next === 'string') return next;
      writeToken(ctx.state, next);
      ctx.emit(eventNames[event], {
        token: p.token,
        seq: p.seq,
        status: next.status,
        initiator: p.initiator,
        by: ctx.sender,
        reason: p.reason,
      });
      return undefined;
    },
  });
}

export const tokenTxs: Record<string, TxDefinition<never>> = {
  // Rotation: only the wrapped data key and its KEK id change, never the IV or the ciphertext, so
  // a re-wrap cannot put another PAN behind a token (a data key wrapped wrongly fails to open).
  'token.rewrap': defineTxOf(tokensPayloads['token.rewrap'], {
    execute: (ctx, p): TokensRejection | undefined => {
      if (!isTokenService(ctx)) return 'not_token_service';
      for (const entry of p.entries) {
        const token = readToken(ctx.state, entry.token);
        if (!token) return 'token_not_found';
        writeToken(ctx.state, {
          ...token,
          vault: { ...token.vault, kekId: entry.kekId, wrappedKey: entry.wrappedKey },
        });
      }
      ctx.emit('tokens.rewrapped', {
        tokens: p.entries.map((entry) => entry.token),
        kekIds: [...new Set(p.entries.map((entry) => entry.kekId))].sort(),
        by: ctx.sender,
      });
      return undefined;
    },
  }),
  'token.provision': defineTxOf(tokensPayloads['token.provision'], {
    execute: (ctx, p): TokensRejection | undefined => {
      if (!isTokenService(ctx)) return 'not_token_service';
      if (!hasRole(ctx.state, p.requestor, 'requestor')) return 'not_requestor';
      if (p.wallet !== undefined && !hasRole(ctx.state, p.wallet, 'wallet')) return 'not_wallet';
      if (!readService(ctx.state)) return 'token_bins_not_configured';
      if (readBinOwner(ctx.state, p.token.slice(0, 6))?.kind !== 'token') {
        return 'token_bin_invalid';
      }
      const owner = readBinOwner(ctx.state, p.bin);
      if (owner?.kind !== 'issuer') return 'issuer_not_found';
      const signed = requestSigned(
        'provision',
        ctx.chainId,
        provisionSignedFields(p),
        p.requestor,
        p.signature,
      );
      if (!signed) return 'token_request_signature_invalid';
      if (readRequest(ctx.state, p.requestor, p.requestId) !== undefined) {
        return 'token_request_duplicate';
      }
      if (readToken(ctx.state, p.token)) return 'token_exists';
      const record: TokenRecord = {
        token: p.token,
        status: 'active',
        seq: 0,
        requestor: p.requestor,
        requestId: p.requestId,
        issuer: owner.issuer,
        ...(p.wallet === undefined ? {} : { wallet: p.wallet }),
        bin: p.bin,
        last4: p.last4,
        expiry: p.expiry,
        domain: p.domain,
        assuranceLevel: p.assuranceLevel,
        fingerprint: p.fingerprint,
        commitment: p.commitment,
        detokenisations: 0,
        provisionTxHash: ctx.txHash,
        provisionedAtHeight: ctx.height,
        provisionedAt: ctx.time,
        updatedAtHeight: ctx.height,
        vault: p.vault,
      };
      writeToken(ctx.state, record);
      writeRequest(ctx.state, p.requestor, p.requestId, p.token);
      ctx.emit('token.provisioned', {
        token: p.token,
        seq: 0,
        status: 'active',
        requestor: p.requestor,
        requestId: p.requestId,
        issuer: owner.issuer,
        ...(p.wallet === undefined ? {} : { wallet: p.wallet }),
        bin: p.bin,
        last4: p.last4,
        expiry: p.expiry,
        domain: p.domain,
        assuranceLevel: p.assuranceLevel,
        by: ctx.sender,
      });
      return undefined;
    },
  }),
  'token.suspend': lifecycleTx('token.suspend'),
  'token.resume': lifecycleTx('token.resume'),
  'token.delete': lifecycleTx('token.delete'),
  'token.updatePan': defineTxOf(tokensPayloads['token.updatePan'], {
    execute: (ctx, p): TokensRejection | undefined => {
      if (!isTokenService(ctx)) return 'not_token_service';
      const token = readToken(ctx.state, p.token);
      if (!token) return 'token_not_found';
      const fields = panUpdateSignedFields({ ...p, commitment: p.pan?.commitment });
      if (!requestSigned('panUpdate', ctx.chainId, fields, token.issuer, p.signature)) {
        return 'token_request_signature_invalid';
      }
      const next = stepToken(ctx, token, 'token.updatePan', 'issuer', p.seq, p.reason);
      if (typeof next === 'string') return next;
      if (p.pan) {
        const owner = readBinOwner(ctx.state, p.pan.bin);
        if (owner?.kind !== 'issuer' || owner.issuer !== token.issuer) return 'pan_issuer_mismatch';
      }
      writeToken(ctx.state, { ...next, expiry: p.expiry, ...(p.pan ?? {}) });
      ctx.emit('token.panUpdated', {
        token: p.token,
        seq: p.seq,
        status: next.status,
        initiator: 'issuer',
        by: token.issuer,
        reason: p.reason,
        expiry: p.expiry,
        panChanged: p.pan !== undefined,
        ...(p.pan ? { bin: p.pan.bin, last4: p.pan.last4 } : {}),
      });
      return undefined;
    },
  }),
  'token.detokenise': defineTxOf(tokensPayloads['token.detokenise'], {
    execute: (ctx, p): TokensRejection | undefined => {
      if (!isTokenService(ctx)) return 'not_token_service';
      const token = readToken(ctx.state, p.token);
      if (!token) return 'token_not_found';
      const party = detokeniseParty(ctx.state, token, p.party);
      if (party === undefined) return 'not_detokenise_party';
      if (
        !requestSigned('detokenise', ctx.chainId, detokeniseSignedFields(p), p.party, p.signature)
      ) {
        return 'token_request_signature_invalid';
      }
      const refusal =
        domainRefusal(token, p.channel, p.merchantId, ctx.time) ??
        acquirerRefusal(party, token, p.merchantId);
      if (refusal) return refusal;
      if (p.n !== token.detokenisations + 1) return 'detokenisation_out_of_order';
      writeToken(ctx.state, { ...token, detokenisations: p.n });
      // Who, when (the block's time) and why; never the PAN.
      ctx.emit('token.detokenised', {
        token: p.token,
        party: p.party,
        n: p.n,
        purpose: p.purpose,
        channel: p.channel,
        ...(p.merchantId === undefined ? {} : { merchantId: p.merchantId }),
      });
      return undefined;
    },
  }),
};

/**
 * In what capacity `address` may detokenise `token`: as its issuer, as a registered acquirer
 * (its participant record, with the merchant ids it acquires for), or not at all (undefined).
 */
export function detokeniseParty(
  state: StateReader,
  token: Pick<TokenRecord, 'issuer'>,
  address: string,
): 'issuer' | ParticipantRecord | undefined {
  const participant = readParticipant(state, address);
  if (!participant) return undefined;
  if (address === token.issuer && participant.roles.includes('issuer')) return 'issuer';
  return participant.roles.includes('acquirer') ? participant : undefined;
}

/**
 * Why an acquirer may not detokenise a token for `merchantId`, or undefined (the issuer always
 * may, within the domain): an acquirer names one of the merchants it is registered for, and the
 * token must be scoped to named merchants including it. A token whose `merchantIds` is empty is
 * its issuer's only: otherwise any acquirer could claim any merchant and read its PAN.
 */
export function acquirerRefusal(
  party: 'issuer' | ParticipantRecord,
  token: Pick<TokenRecord, 'domain'>,
  merchantId: string | undefined,
): TokensRejection | undefined {
  if (party === 'issuer') return undefined;
  if (token.domain.merchantIds.length === 0) return 'token_not_merchant_scoped';
  if (merchantId === undefined || !(party.merchantIds ?? []).includes(merchantId)) {
    return 'acquirer_merchant_refused';
  }
  if (!token.domain.merchantIds.includes(merchantId)) return 'domain_merchant_refused';
  return undefined;
}

/**
 * Why a token may not be detokenised for this use now (`time`: the block's, or at the route the
 * latest block's), or undefined: it must be active, and the channel, the merchant and the time
 * within its domain restrictions.
 */
export function domainRefusal(
  token: Pick<TokenRecord, 'status' | 'domain'>,
  channel: string,
  merchantId: string | undefined,
  time: number,
): TokensRejection | undefined {
  if (token.status !== 'active') return 'token_not_active';
  if (!token.domain.channels.includes(channel)) return 'domain_channel_refused';
  const merchants = token.domain.merchantIds;
  if (merchants.length > 0 && (merchantId === undefined || !merchants.includes(merchantId))) {
    return 'domain_merchant_refused';
  }
  if (token.domain.expiresAt !== undefined && time > token.domain.expiresAt) {
    return 'token_domain_expired';
  }
  return undefined;
}
