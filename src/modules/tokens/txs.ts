import { defineTxOf, type TxDefinition } from '../../chain/index.js';
import { isTokenService } from './txs-service.js';
import type { TokensRejection } from './rejections.js';
import { tokensPayloads } from './schema.js';
import {
  readBinOwner,
  readParticipant,
  readService,
  writeBinOwner,
  writeParticipant,
  writeService,
} from './state.js';
import { tokenTxs } from './txs-tokens.js';

export { tokensRejections, type TokensRejection } from './rejections.js';
export { isTokenService } from './txs-service.js';

/*
 * The token service's own txs: its token BINs and its participants. The token service provider
 * is the consortium: any validator operator (the accounts whose keys sign the cluster's
 * attestations; a solo node's own key) configures the service and registers participants, and
 * only a validator operator's node relays provisions, PAN updates and detokenisations (they carry
 * vault envelopes only a node holding the vault key can make). Tokens' lifecycle is in
 * txs-tokens.ts.
 */

const serviceTxs: Record<string, TxDefinition<never>> = {
  'tokens.configure': defineTxOf(tokensPayloads['tokens.configure'], {
    execute: (ctx, p): TokensRejection | undefined => {
      if (!isTokenService(ctx)) return 'not_token_service';
      for (const bin of p.tokenBins) {
        if (readBinOwner(ctx.state, bin)?.kind === 'issuer') return 'bin_taken';
      }
      // Tokens issued in a BIN dropped here keep their numbers; no new ones are issued in it, and
      // it stays reserved (`retiredToken`) so no issuer can ever register it (`bin_taken`).
      for (const bin of readService(ctx.state)?.tokenBins ?? []) {
        if (!p.tokenBins.includes(bin)) writeBinOwner(ctx.state, bin, { kind: 'retiredToken' });
      }
      for (const bin of p.tokenBins) writeBinOwner(ctx.state, bin, { kind: 'token' });
      writeService(ctx.state, { tokenBins: p.tokenBins });
      ctx.emit('tokens.configured', { tokenBins: p.tokenBins, by: ctx.sender });
      return undefined;
    },
  }),
  'tokens.registerParticipant': defineTxOf(tokensPayloads['tokens.registerParticipant'], {
    execute: (ctx, p): TokensRejection | undefined => {
      if (!isTokenService(ctx)) return 'not_token_service';
      const issuer = p.roles.includes('issuer');
      if (issuer !== (p.bins !== undefined)) return 'issuer_bins_required';
      const acquirer = p.roles.includes('acquirer');
      if (acquirer !== (p.merchantIds !== undefined)) return 'acquirer_merchants_required';
      if (readParticipant(ctx.state, p.address)) return 'participant_exists';
      const bins = p.bins ?? [];
      // Issuer BINs and token BINs never overlap: a token can never equal a PAN of the service.
      for (const bin of bins) if (readBinOwner(ctx.state, bin)) return 'bin_taken';
      for (const bin of bins) writeBinOwner(ctx.state, bin, { kind: 'issuer', issuer: p.address });
      writeParticipant(ctx.state, {
        address: p.address,
        name: p.name,
        roles: p.roles,
        bins,
        ...(p.merchantIds === undefined ? {} : { merchantIds: p.merchantIds }),
        registeredBy: ctx.sender,
        registeredAtHeight: ctx.height,
      });
      ctx.emit('tokens.participantRegistered', {
        address: p.address,
        roles: p.roles,
        bins,
        ...(p.merchantIds === undefined ? {} : { merchantIds: p.merchantIds }),
        by: ctx.sender,
      });
      return undefined;
    },
  }),
};

/** The module's tx types, in the order of the payload schemas. */
export const tokensTxs: Record<string, TxDefinition<never>> = Object.fromEntries(
  Object.keys(tokensPayloads).map((type) => {
    const definition = serviceTxs[type] ?? tokenTxs[type];
    if (definition === undefined) throw new Error(`tokens: no handler for ${type}`);
    return [type, definition];
  }),
);
