import type { z } from 'zod';
import type { Ledger } from '../ledger/index.js';
import type { StateView } from '../state/index.js';
import type { PayloadParser } from './tx.js';

export type { ChainEvent } from '../protocol/core.js';

/** What a tx handler sees. Time is the block's; there is no other clock. */
export interface TxContext {
  readonly chainId: string;
  readonly height: number;
  /** Block time, Unix milliseconds. */
  readonly time: number;
  readonly txHash: string;
  readonly txIndex: number;
  readonly sender: string;
  readonly state: StateView;
  readonly ledger: Ledger;
  emit(type: string, data: Record<string, unknown>): void;
}

export interface BlockContext {
  readonly chainId: string;
  readonly height: number;
  readonly time: number;
  /** The producer named by the previous block's header (block 0's: the genesis producer). */
  readonly previousProducer: string;
  /** The hash of the block below: a module keeps the recent ones when its txs must name one. */
  readonly previousHash: string;
  readonly state: StateView;
  readonly ledger: Ledger;
  emit(type: string, data: Record<string, unknown>): void;
}

/**
 * One tx type: `parse` is the stateless check (run at the API and again at execution) and
 * `execute` the deterministic handler. `execute` returns a rejection code or nothing; when it
 * rejects, the chain restores the state it had before the tx.
 */
export interface TxDefinition<Payload = unknown> {
  parse: PayloadParser;
  /** The payload's schema, when the type is defined from one (`defineTxOf`): for the OpenAPI document. */
  payload?: z.ZodType;
  execute(context: TxContext, payload: Payload): string | undefined;
}

export interface ChainModule {
  /** Owns the state namespace `<name>/`; unique among modules (asserted at boot). */
  readonly name: string;
  /** Keyed by the full tx type, `<noun>.<action>`. */
  readonly txs: Record<string, TxDefinition<never>>;
  /** Rejection codes this module may return, with their messages. */
  readonly rejections?: Record<string, string>;
  /** Runs first in every block, before any tx (expiries and other height-driven work). */
  beginBlock?(context: BlockContext): void;
  /**
   * Writes the module's genesis state from `genesis.modules[name]` (absent: nothing to write).
   * Throws on a bad genesis section.
   */
  genesis?(context: GenesisContext, section: unknown, genesis: { chainId: string }): void;
}

/** What a module's genesis step sees: the state and ledger of block 0. */
export interface GenesisContext {
  readonly state: StateView;
  readonly ledger: Ledger;
}

export function defineTx<Payload>(definition: TxDefinition<Payload>): TxDefinition<never> {
  return definition;
}
