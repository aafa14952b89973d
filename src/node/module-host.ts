import type { CofferNode } from './node.js';

/**
 * What the node hands to every module's routes (`CofferModule.routes`): the Fastify instance to
 * register on, the committed store, the chain, the consensus, finality and the node's own
 * submissions and relays (`RelayGate`, caps shared by all modules), and the node's configuration (read-only). With the helpers of ./routes.ts (`sendError`, `stringParams`, `errorSchema`) and
 * `jsonSchema` (src/protocol) a module's routes need nothing else of the node.
 */
export type ModuleHost = Pick<
  CofferNode,
  | 'app'
  | 'store'
  | 'chain'
  | 'consensus'
  | 'healthy'
  | 'submitOwn'
  | 'relays'
  | 'operator'
  | 'onFinalBlock'
  | 'config'
>;
