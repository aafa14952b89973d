import type { ChainModule } from '../../chain/index.js';
import type { CofferModule } from '../manifest.js';
import { gatewayCommands } from './cli-gateway.js';
import { licensingCommands } from './cli.js';
import { licensingRoutes } from './routes.js';
import { licensingModuleName } from './state.js';
import { licensingRejections, licensingTxs } from './txs.js';

export * from './schema.js';
export * from './state.js';
export * from './queries.js';
export {
  agreementExpiry,
  countLimitOf,
  deviceLimitOf,
  permissionOf,
  permissionWindow,
  usageRefusals,
} from './policy.js';
export { royaltySplits, type TitleShare } from './royalties.js';
export { licensingRejections, type LicensingRejection } from './txs.js';
export { licensingCommands } from './cli.js';
export { gatewayCommands } from './cli-gateway.js';

/**
 * Content contracts (issue 21): anyone registers content by the SHA-256 of its bytes with the
 * public key its gateway signs access tokens with; the holder assigns the rights on (each
 * assigner keeps a share of every later payment: the chain of title), offers licences as
 * ODRL-shaped policies, and a licensee's acceptance pays the offer's duty in the same tx, split
 * along the chain of title; a licensee allowed to sublicense offers within its own rights; the
 * offerer or the holder revokes; the content's gateway account reports the uses it served.
 */
export const licensingModule: ChainModule = {
  name: licensingModuleName,
  txs: licensingTxs,
  rejections: licensingRejections,
};

/** HTTP statuses of the module's codes (not listed: 400). */
export const licensingHttpStatuses: Readonly<Record<string, number>> = {
  not_holder: 403,
  not_offerer: 403,
  not_offerer_or_holder: 403,
  not_licensee: 403,
  not_gateway_account: 403,
  registration_proof_invalid: 403,
  own_offer: 403,
  agreement_revoked: 403,
  parent_invalid: 403,
  action_not_permitted: 403,
  action_prohibited: 403,
  not_yet_valid: 403,
  agreement_expired: 403,
  territory_not_allowed: 403,
  device_limit_reached: 403,
  count_exhausted: 403,
  content_not_found: 404,
  offer_not_found: 404,
  agreement_not_found: 404,
  content_exists: 409,
  offer_exists: 409,
  title_index_mismatch: 409,
  assign_to_holder: 422,
  shares_exceed_whole: 422,
  title_chain_too_long: 422,
  offer_limit_reached: 422,
  offer_not_open: 422,
  offerer_not_holder: 422,
  parent_content_mismatch: 422,
  sublicense_not_permitted: 422,
  exceeds_parent: 422,
  price_above_max: 422,
};

/** The licensing module: chain, routes, codes and commands (src/modules/manifest.ts). */
export const licensing: CofferModule = {
  chain: licensingModule,
  routes: licensingRoutes,
  tag: {
    name: 'licensing',
    description:
      'Content contracts: registered content, the chain of title with proofs, ODRL-shaped offers and agreements, royalties and usage.',
  },
  httpStatuses: licensingHttpStatuses,
  commands: [...licensingCommands, ...gatewayCommands],
  cliNotes:
    'content register takes the contentId and publicKey the content gateway answered an upload\n' +
    "with; licence accept pays the offer's duty in the same tx, split along the chain of title.",
};
