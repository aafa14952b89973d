/*
 * What other modules may use of the token vault (DESIGN.md: a module never imports another's
 * internals). Pure chain-side reads and rules, and the vault key file reader for routes; nothing
 * here loads the node. The cards module (issue 18) builds on it: a card is a vault token, its
 * lifecycle (suspend, resume, delete) and domain are the card's, acquirers are the vault's.
 */
export { hasRole, readParticipant, readToken, type TokenRecord } from './state.js';
export { domainRefusal } from './txs-tokens.js';
export { isTokenService } from './txs-service.js';
export { readVaultKeyFile, type VaultKeys } from './vault.js';
