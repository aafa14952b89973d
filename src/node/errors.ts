import {
  chainRejections,
  knownRejectionCodes,
  registerRejections,
  rejectionMessage,
} from '../chain/index.js';
import { ledgerRejections } from '../ledger/index.js';
import { producerRejections } from '../modules/producers/index.js';
import { crowdfundRejections } from '../modules/crowdfund/index.js';
import { timecreditsRejections } from '../modules/timecredits/index.js';

// The registry, the time banks and the campaigns are part of every node, so their codes are part of the API
// whatever else is loaded.
registerRejections(producerRejections);
registerRejections(timecreditsRejections);
registerRejections(crowdfundRejections);

/** API-level codes that are not tx rejections. */
export const apiErrors = {
  invalid_request: 'The request does not match the endpoint schema.',
  body_too_large: 'The request body is too large.',
  tx_not_found: 'No committed or pending transaction has this hash.',
  block_not_found: 'No block has this height.',
  account_not_found: 'No account has this address.',
  route_not_found: 'No route matches this method and path.',
  invalid_event_type:
    'A type to subscribe to must be a tx type, an event type, a prefix ending in a dot, block or final.',
  uri_too_long: 'A path parameter is longer than any this API accepts (100 characters).',
  headers_too_large: 'The request headers are larger than the node accepts (16 KiB).',
  websocket_required:
    'This endpoint is a websocket: connect with an Upgrade: websocket request (for example new WebSocket(url)).',
  invalid_range: 'The range must have 0 <= from <= to and at most 100 blocks.',
  commit_timeout: 'The transaction was accepted but not committed in time; it is still pending.',
  final_timeout:
    'The transaction committed at the height given, but that height was not final in time (a validator may be down); it may still become final.',
  not_ready: 'The node is not ready.',
  invalid_user_id:
    'userId must be 1 to 254 bytes of text: the handle or email the member joined with.',
  invalid_lot: 'The lot must be the whole number of a lot of this time bank.',
  lot_not_found:
    'No lot of this time bank has this number (it may have been spent, merged or lapsed).',
  issuance_request_not_found:
    'No issuance request of this time bank has this id (a failed one may be posted again).',
  dev_clock_disabled:
    'The dev clock is off: start the node with --dev-clock (never on a shared chain).',
  invalid_clock_advance: 'advanceMs must be a whole number of milliseconds from 1 to 3,650 days.',
  internal_error: 'The node hit an internal error.',
} as const;

/**
 * The one table from code to HTTP status. Anything not listed is a 400: the caller's input was
 * wrong. Execution-time rejections (a committed tx that failed) answer 422.
 */
const statusByCode: Record<string, number> = {
  uri_too_long: 414,
  headers_too_large: 431,
  websocket_required: 426,
  bad_signature: 401,
  not_issuer: 403,
  hold_forbidden: 403,
  not_producer_operator: 403,
  not_validator_operator: 403,
  producer_not_found: 404,
  producer_exists: 409,
  evidence_duplicate: 409,
  producer_already_jailed: 409,
  approval_duplicate: 409,
  bond_too_low: 422,
  producer_not_active: 422,
  producer_not_pending: 422,
  producer_not_jailed: 422,
  jailed_for_equivocation: 422,
  jail_not_expired: 422,
  active_set_full: 422,
  no_bond_owed: 422,
  too_many_producers: 422,
  nonce_range_in_past: 422,
  nonce_range_not_contiguous: 422,
  nonce_range_too_large: 422,
  too_many_nonce_ranges: 422,
  evidence_wrong_chain: 422,
  evidence_too_old: 422,
  evidence_no_secret: 422,
  evidence_bad_signature: 422,
  registry_not_initialized: 422,
  not_coordinator: 403,
  issuance_signature_invalid: 403,
  lot_not_found: 404,
  issuance_request_not_found: 404,
  dev_clock_disabled: 404,
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
  campaign_not_found: 404,
  position_not_found: 404,
  not_producer: 403,
  not_reporter: 403,
  campaign_exists: 409,
  duplicate_report: 409,
  campaign_not_funding: 422,
  campaign_not_open: 422,
  deadline_passed: 422,
  reconfirmation_open: 422,
  investment_below_minimum: 422,
  investment_above_maximum: 422,
  too_many_investors: 422,
  cancel_window_closed: 422,
  nothing_to_reconfirm: 422,
  reconfirmation_closed: 422,
  position_outside_terms: 422,
  campaign_not_succeeded: 422,
  campaign_not_closed: 422,
  too_many_reports: 422,
  revenue_too_large: 422,
  no_investors: 422,
  nothing_to_claim: 422,
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
  account_frozen: 403,
  tx_not_found: 404,
  block_not_found: 404,
  account_not_found: 404,
  asset_not_found: 404,
  hold_not_found: 404,
  route_not_found: 404,
  duplicate_tx: 409,
  nonce_too_low: 409,
  asset_exists: 409,
  hold_exists: 409,
  tx_too_large: 413,
  body_too_large: 413,
  batch_too_large: 413,
  insufficient_funds: 422,
  max_supply_exceeded: 422,
  hold_amount_exceeded: 422,
  hold_hash_locked: 422,
  hold_not_hash_locked: 422,
  preimage_mismatch: 422,
  too_many_holds: 422,
  accounts_must_be_different: 422,
  tx_expired: 422,
  mempool_full: 429,
  sender_queue_full: 429,
  sender_gap_limit: 429,
  gapped_pool_full: 429,
  sender_rate_limited: 429,
  gapped_rate_limited: 429,
  gapped_tx_evicted: 429,
  gapped_tx_expired: 409,
  internal_error: 500,
  not_ready: 503,
  ordering_unavailable: 503,
  commit_timeout: 504,
  final_timeout: 504,
};

export function httpStatus(code: string): number {
  return statusByCode[code] ?? 400;
}

export function errorMessage(code: string): string {
  return (apiErrors as Record<string, string>)[code] ?? rejectionMessage(code);
}

export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

export function errorBody(code: string, field?: string, message?: string): ErrorBody {
  const error: ErrorBody['error'] = { code, message: message ?? errorMessage(code) };
  if (field !== undefined) error.field = field;
  return { error };
}

/** Every code the API can answer with, for docs/errors.md and the tests that check it. */
export function allErrorCodes(): { code: string; status: number; message: string }[] {
  const codes = new Set([
    ...Object.keys(apiErrors),
    ...Object.keys(chainRejections),
    ...Object.keys(ledgerRejections),
    ...knownRejectionCodes(),
  ]);
  return [...codes]
    .sort()
    .map((code) => ({ code, status: httpStatus(code), message: errorMessage(code) }));
}
