import {
  ledgerModule,
  ModuleRegistry,
  type BlockValidator,
  type ChainModule,
} from '../chain/index.js';
import { validateBlockSignature } from '../modules/producers/index.js';
import { cofferModules } from '../modules/registry.js';

/*
 * The rules of a node's chain, in one place: the node runs them, and `coffer audit` replays a
 * node's chain with them. Two copies could drift apart, and an audit with other rules than the
 * node's proves nothing.
 */

/**
 * The modules a node runs: the core ledger first, then those of src/modules/registry.ts, then
 * `extra` (a node's options add them).
 */
export function nodeModuleRegistry(extra: readonly ChainModule[] = []): ModuleRegistry {
  return new ModuleRegistry([ledgerModule, ...cofferModules.map((m) => m.chain), ...extra]);
}

/**
 * The check a block must pass, against the state before it, to be stored: its producer is active
 * in the registry, the signature verifies and R is the nonce the producer committed.
 */
export const nodeBlockValidator: BlockValidator = validateBlockSignature;
