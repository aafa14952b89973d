import type { ChainModule } from '../../chain/index.js';
import type { CofferModule } from '../manifest.js';
import { tokensCommands } from './cli.js';
import { tokensRoutes } from './routes.js';
import { tokensModuleName } from './state.js';
import { tokensRejections, tokensTxs } from './txs.js';

export * from './schema.js';
export * from './state.js';
export * from './queries.js';
export { isTokenService, tokensRejections, type TokensRejection } from './txs.js';
export { domainRefusal } from './txs-tokens.js';
export { readVaultKeyFile, type VaultKeys } from './vault.js';

/**
 * The token vault (issue 17): participants (issuers with their BINs, token requestors, acquirers,
 * wallets) registered by the consortium, tokens in the service's token BINs provisioned for a PAN
 * that the ledger holds only encrypted under the consortium's vault key, the token lifecycle
 * (provision makes a token active; suspend, resume, delete, PAN update) with a per-token sequence number, and recorded
 * detokenisations.
 */
export const tokensModule: ChainModule = {
  name: tokensModuleName,
  txs: tokensTxs,
  rejections: tokensRejections,
};

/** The tokens module: chain, routes, codes and commands (src/modules/manifest.ts). */
export const tokens: CofferModule = {
  chain: tokensModule,
  routes: tokensRoutes,
  tag: {
    name: 'tokens',
    description:
      'Payment tokens: the token service, its participants, provisioning, lifecycle and detokenisation.',
  },
  apiErrors: {
    invalid_pan: 'The PAN must be 13 to 19 digits passing Luhn.',
    invalid_pan_salt:
      'panSalt must be 32 random bytes as 64 lowercase hex digits, given with a PAN and only then.',
    vault_key_missing:
      'This node has no vault key (COFFER_VAULT_KEY_FILE): it cannot seal or open PANs.',
    invalid_kek_id: 'kekId must be 1 to 32 characters: A-Z, a-z, 0-9, "-" and "_".',
    invalid_rewrap_limit: 'limit must be a whole number from 1 to 100.',
    vault_key_mismatch:
      "The request names another key-encryption key than this node's current one (COFFER_VAULT_KEY_FILE).",
    relays_busy:
      'This participant already has 8 requests in flight on this node: retry once they are answered.',
    vault_open_failed:
      "The PAN's envelope does not open with this node's vault keys (a key-encryption key missing?).",
  },
  httpStatuses: {
    not_token_service: 403,
    not_requestor: 403,
    not_wallet: 403,
    not_token_issuer: 403,
    not_token_party: 403,
    not_detokenise_party: 403,
    acquirer_merchant_refused: 403,
    token_not_merchant_scoped: 403,
    initiator_not_allowed: 403,
    resume_by_issuer_only: 403,
    token_request_signature_invalid: 403,
    participant_not_found: 404,
    token_not_found: 404,
    token_bins_not_configured: 409,
    participant_exists: 409,
    bin_taken: 409,
    token_request_duplicate: 409,
    token_exists: 409,
    sequence_out_of_order: 409,
    detokenisation_out_of_order: 409,
    issuer_bins_required: 422,
    acquirer_merchants_required: 422,
    token_bin_invalid: 422,
    issuer_not_found: 422,
    token_deleted: 422,
    transition_not_allowed: 422,
    pan_issuer_mismatch: 422,
    token_not_active: 422,
    domain_channel_refused: 422,
    domain_merchant_refused: 422,
    token_domain_expired: 422,
    vault_key_missing: 503,
    relays_busy: 429,
    vault_key_mismatch: 409,
    vault_open_failed: 500,
  },
  commands: tokensCommands,
  cliNotes:
    'tokens provision, pan-update and detokenise sign a request the node relays (a provisioned\n' +
    'token is active at once); tokens suspend, resume and delete send a lifecycle tx with the next sequence number (read it with\n' +
    'tokens show). detokenise prints the PAN: keep its output out of logs.',
};
