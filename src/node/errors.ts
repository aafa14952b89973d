import {
  chainRejections,
  knownRejectionCodes,
  registerRejections,
  rejectionMessage,
} from '../chain/index.js';
import { ledgerRejections } from '../ledger/index.js';

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
  invalid_event_cursor:
    "after must be a page's next (height:tx:event), within the range from..to asked.",
  commit_timeout: 'The transaction was accepted but not committed in time; it is still pending.',
  final_timeout:
    'The transaction committed at the height given, but that height was not final in time (a validator may be down); it may still become final.',
  not_ready: 'The node is not ready.',
  node_busy:
    'The node is admitting as many transactions as it holds at once (50,000 txs, or 32 MiB of batch bodies, across requests); none of these was taken: send them again shortly.',
  dev_clock_disabled:
    'The dev clock is off: start the node with --dev-clock (never on a shared chain).',
  invalid_clock_advance: 'advanceMs must be a whole number of milliseconds from 1 to 3,650 days.',
  internal_error: 'The node hit an internal error.',
  admin_token_required:
    "This route is for the node's operator: send Authorization: Bearer <token>, the node's COFFER_ADMIN_TOKEN or the admin-token file in its data directory.",
  admin_token_invalid: "The bearer token is not this node's admin token.",
  invalid_webhook_url:
    'A webhook URL is an http or https URL of at most 2,048 characters, without a user or password.',
  invalid_webhook_events:
    'List 1 to 16 event types: an exact type (campaign.payout), a prefix ending in .* (token.*) or *.',
  invalid_webhook_secret:
    'A webhook secret is whsec_ followed by 24 to 64 bytes in base64 (leave it out to get one generated).',
  invalid_from_height:
    'fromHeight must be a whole number from 1 to one above the final height of this node.',
  webhook_limit_reached: 'This node holds as many webhook subscriptions as it allows (100).',
  webhook_not_found: 'No webhook subscription of this node has this id.',
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
  admin_token_required: 401,
  admin_token_invalid: 401,
  webhook_not_found: 404,
  webhook_limit_reached: 409,
  not_issuer: 403,
  hold_forbidden: 403,
  dev_clock_disabled: 404,
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
  node_busy: 503,
  ordering_unavailable: 503,
  commit_timeout: 504,
  final_timeout: 504,
};

/** API codes of the modules' routes (`CofferModule.apiErrors`), registered with the modules. */
const moduleApiErrors: Record<string, string> = {};

/**
 * Adds a module's codes to the API: its tx rejections, the codes its routes answer and their
 * HTTP statuses (src/modules/registry.ts calls it for every module it lists). A code already
 * known with another status or message is a programming error.
 */
export function registerModuleErrors(module: {
  chain: { name: string; rejections?: Record<string, string> };
  apiErrors?: Readonly<Record<string, string>>;
  httpStatuses?: Readonly<Record<string, number>>;
}): void {
  if (module.chain.rejections) registerRejections(module.chain.rejections);
  for (const [code, message] of Object.entries(module.apiErrors ?? {})) {
    const known = (apiErrors as Record<string, string>)[code] ?? moduleApiErrors[code];
    if (known !== undefined && known !== message) {
      throw new Error(`API code ${code} of ${module.chain.name} is registered twice`);
    }
    moduleApiErrors[code] = message;
  }
  for (const [code, status] of Object.entries(module.httpStatuses ?? {})) {
    if (statusByCode[code] !== undefined && statusByCode[code] !== status) {
      throw new Error(`the status of ${code} (${module.chain.name}) is registered twice`);
    }
    statusByCode[code] = status;
  }
}

export function httpStatus(code: string): number {
  return statusByCode[code] ?? 400;
}

export function errorMessage(code: string): string {
  return (
    (apiErrors as Record<string, string>)[code] ?? moduleApiErrors[code] ?? rejectionMessage(code)
  );
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
    ...Object.keys(moduleApiErrors),
    ...Object.keys(chainRejections),
    ...Object.keys(ledgerRejections),
    ...knownRejectionCodes(),
  ]);
  return [...codes]
    .sort()
    .map((code) => ({ code, status: httpStatus(code), message: errorMessage(code) }));
}
