import type { ChainModule } from '../../chain/index.js';
import type { CofferModule } from '../manifest.js';
import { scholarshipCommands } from './cli.js';
import { poolHttpStatuses, poolRejections } from './pools.js';
import { scholarshipRejections } from './rejections.js';
import { scholarshipRoutes } from './routes.js';
import { startQuestionCloser } from './service.js';
import { scholarshipModuleName } from './state.js';
import { payAcceptedAnswer, poolTxs } from './txs-pools.js';
import { scholarshipBeginBlock, scholarshipGenesis, scholarshipTxsWith } from './txs.js';

export * from './schema.js';
export * from './state.js';
export * from './queries.js';
export * from './record.js';
export { scholarshipRejections, type ScholarshipRejection } from './rejections.js';
export { scholarshipTxsWith } from './txs.js';
export { splitByWeights } from '../../ledger/split.js';
export { scholarshipCommands } from './cli.js';
export { closesInFlightMax, startQuestionCloser, type QuestionCloser } from './service.js';

/**
 * Peer-to-peer scholarship (issue 22): scholars write profiles (student, tutor, mentor, with
 * subjects of a small taxonomy); a question escrows its reward (and a tip budget for upvotes) and
 * carries a proof-of-work stamp whose difficulty rises with its sender's and its subject's recent
 * posts; tutors of the subject answer (stamped too); the asker splits the reward among best
 * answers, or after deadline + grace anyone closes it: auto-awarded by the tutors' reputation-
 * weighted votes, or refunded. Award and close write the Merkle root of the Q&A record. Pools
 * (txs-pools.ts) pay members for accepted answers and mentorship stipends.
 */
export const scholarshipTxs = { ...scholarshipTxsWith(payAcceptedAnswer), ...poolTxs };

export const scholarshipModule: ChainModule = {
  name: scholarshipModuleName,
  txs: scholarshipTxs,
  rejections: { ...scholarshipRejections, ...poolRejections },
  beginBlock: scholarshipBeginBlock,
  genesis: scholarshipGenesis,
};

/** HTTP statuses of the module's codes (not listed: 400). */
export const scholarshipHttpStatuses: Readonly<Record<string, number>> = {
  not_tutor: 403,
  not_asker: 403,
  own_question: 403,
  own_answer: 403,
  profile_required: 403,
  reputation_required: 403,
  question_not_found: 404,
  nothing_held: 404,
  answer_not_found: 404,
  profile_not_found: 404,
  record_not_found: 404,
  body_not_found: 404,
  body_not_referenced: 422,
  already_answered: 409,
  already_voted: 409,
  already_upvoted: 409,
  stamp_replayed: 409,
  question_closed: 422,
  question_deadline_passed: 422,
  answers_full: 422,
  answer_dismissed: 422,
  answer_not_endorsed: 422,
  dismissals_full: 422,
  grace_over: 422,
  votes_full: 422,
  upvotes_full: 422,
  auto_award_off: 422,
  voting_not_open: 422,
  grace_not_over: 422,
  stamp_block_unknown: 422,
  stamp_below_difficulty: 422,
  stamp_too_weak: 422,
  no_recent_block: 503,
  ...poolHttpStatuses,
};

/** The scholarship module: chain, routes, codes and commands (src/modules/manifest.ts). */
export const scholarship: CofferModule = {
  chain: scholarshipModule,
  // The routes, and the closer service where the node runs it (COFFER_SCHOLARSHIP_AUTOCLOSE).
  routes: (host) => {
    scholarshipRoutes(host);
    if (host.config.scholarshipAutoclose) startQuestionCloser(host);
  },
  tag: {
    name: 'scholarship',
    description:
      'Peer-to-peer scholarship: profiles, questions with escrowed rewards and proof-of-work stamps, answers, awards, votes, tips, Q&A records with proofs, pools and mentorships.',
  },
  apiErrors: {
    profile_not_found: 'This address has no scholarship profile.',
    record_not_found: 'The question is not closed yet: it has no Q&A record.',
    body_not_found: 'The node stores no body with this SHA-256.',
    body_not_referenced:
      "No committed question or answer names this body's SHA-256 as its bodyHash: the node stores only those.",
    no_recent_block: 'The chain has no block a stamp could name yet: wait for the next block.',
  },
  httpStatuses: scholarshipHttpStatuses,
  commands: scholarshipCommands,
  cliNotes:
    'ask and answer mint a proof-of-work stamp at the difficulty the node answers (GET\n' +
    '/v1/scholarship/difficulty) and post the body to the node; verify qa checks a record offline.',
};
