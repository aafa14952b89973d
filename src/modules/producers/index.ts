import type { ChainModule } from '../../chain/index.js';
import type { CofferModule } from '../manifest.js';
import { applyProducersGenesis, producersBeginBlock } from './block-rules.js';
import { producerCommands } from './cli.js';
import { producerRejections } from './rejections.js';
import { producerRoutes } from './routes.js';
import { producersModuleName } from './state.js';
import { producerTxs } from './txs.js';

export * from './state.js';
export * from './queries.js';
export {
  checkProducerParams,
  validateBlockSignature,
  type GenesisProducer,
  type ProducersGenesis,
} from './block-rules.js';
export {
  checkEvidence,
  evidenceSecret,
  type EquivocationEvidence,
  type SignedHeader,
} from './evidence.js';
export { producerRejections } from './rejections.js';
export { producerEscrowAddress, producerEscrowAddress as escrowOf } from './schema.js';
export { approvalsReachQuorum } from './txs.js';

/**
 * The block producer registry (issue 4): registration with a bond and hidden information,
 * approval by the validators (issue 13), nonce commitments, downtime jailing, unbonding, and
 * equivocation evidence that jails and slashes.
 */
export const producersModule: ChainModule = {
  name: producersModuleName,
  txs: producerTxs,
  rejections: producerRejections,
  beginBlock: producersBeginBlock,
  genesis: applyProducersGenesis,
};

/** The producers module: chain, routes, codes and commands (src/modules/manifest.ts). */
export const producers: CofferModule = {
  chain: producersModule,
  routes: producerRoutes,
  tag: {
    name: 'producers',
    description:
      'The block producer registry: producers, validators, nonce ranges and equivocation evidence.',
  },
  httpStatuses: {
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
  },
  commands: producerCommands,
  cliNotes:
    'With --json, producer register adds "producer", producer unbond "unbondAtHeight", producer\n' +
    'approve "producerStatus" and "approvals", producer claim-bond "bond".',
};
