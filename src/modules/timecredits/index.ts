import type { CofferModule } from '../manifest.js';
import { timecreditsRoutes } from './routes.js';
import { timebankCommands } from './cli.js';
import type { ChainModule } from '../../chain/index.js';
import { timecreditsModuleName } from './state.js';
import { timecreditsBeginBlock, timecreditsRejections, timecreditsTxs } from './txs.js';

export * from './schema.js';
export * from './state.js';
export * from './queries.js';
export { allianceOrigin, timecreditsRejections, type TimecreditsRejection } from './txs.js';

/**
 * Time banks and time credits (issue 5): banks with coordinators and a policy (expiry, demurrage
 * or neither) that changes only forward (each lot keeps its terms), members known by a salted
 * identifier hash, issuance of lots with a base time (by a coordinator, or relayed with a
 * coordinator's signed authorization), offers and requests, exchanges confirmed by both parties,
 * one-to-many payments, transfers between allied banks, and in `beginBlock` eager expiry and
 * expiry notices.
 */
export const timecreditsModule: ChainModule = {
  name: timecreditsModuleName,
  txs: timecreditsTxs,
  rejections: timecreditsRejections,
  beginBlock: timecreditsBeginBlock,
};

/** The timecredits module: chain, routes, codes and commands (src/modules/manifest.ts). */
export const timecredits: CofferModule = {
  chain: timecreditsModule,
  routes: timecreditsRoutes,
  tag: {
    name: 'timecredits',
    description:
      'Time banks and time credits: banks, members, lots, exchanges, listings, alliances, statements and issuance requests.',
  },
  apiErrors: {
    invalid_user_id:
      'userId must be 1 to 254 bytes of text: the handle or email the member joined with.',
    invalid_lot: 'The lot must be the whole number of a lot of this time bank.',
    lot_not_found:
      'No lot of this time bank has this number (it may have been spent, merged or lapsed).',
    issuance_request_not_found:
      'No issuance request of this time bank has this id (a failed one may be posted again).',
  },
  httpStatuses: {
    not_coordinator: 403,
    issuance_signature_invalid: 403,
    lot_not_found: 404,
    issuance_request_not_found: 404,
    partner_bank_not_found: 404,
    listing_not_found: 404,
    alliance_not_found: 404,
    not_listing_owner: 403,
    alliance_exists: 409,
    listing_closed: 422,
    alliance_not_proposed: 422,
    own_alliance_proposal: 422,
    alliance_not_active: 422,
    insufficient_credits: 422,
    not_exchange_party: 403,
    timebank_not_found: 404,
    member_not_found: 404,
    user_not_found: 404,
    exchange_not_found: 404,
    timebank_exists: 409,
    coordinator_exists: 409,
    member_exists: 409,
    user_id_taken: 409,
    duplicate_request: 409,
    already_confirmed: 409,
    member_already_approved: 409,
    coordinator_not_found: 422,
    too_many_coordinators: 422,
    last_coordinator: 422,
    member_not_approved: 422,
    too_many_lots: 422,
    credit_limit_exceeded: 422,
  },
  commands: timebankCommands,
  cliNotes:
    'With --json, timebank create adds "bankId", timebank exchange "exchange", timebank confirm\n' +
    '"exchange" and "completed", timebank offer and request "listing". timebank issue sends no tx\n' +
    "itself: --json prints the issuance request's record.\n" +
    'HOURS are H (10), H:MM (2:30), minutes (90m) or decimal hours (1.5); time banks print H:MM.',
};
