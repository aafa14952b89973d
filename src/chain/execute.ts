import assert from 'node:assert/strict';
import { canonicalize, fromHex, merkleRoot, sha256, toHex } from '../crypto/index.js';
import { Ledger, recordConservationViolations } from '../ledger/index.js';
import {
  nextStateRoot,
  StateView,
  type ParsedRecordCache,
  type StateReader,
  type WriteSet,
} from '../state/index.js';
import type { Receipt } from './block.js';
import type { BlockContext, ChainEvent, TxContext } from './module.js';
import type { ModuleRegistry } from './registry.js';
import type { DecodedTx } from './tx.js';

export interface ExecutionInput {
  chainId: string;
  height: number;
  time: number;
  previousStateRoot: string;
  /** The producer of the block below (its header's `producer`), for modules' liveness records. */
  previousProducer: string;
  /** The hash of the block below (block 0's for block 1), for modules that accept recent-block proofs of work. */
  previousHash: string;
  txs: DecodedTx[];
  /**
   * The producer building a block drops txs whose nonce is not the sender's next one; a node
   * executing someone else's block treats such a tx as a bug in that block.
   */
  dropStaleNonces: boolean;
}

export interface ExecutionResult {
  txs: DecodedTx[];
  dropped: DecodedTx[];
  receipts: Receipt[];
  /** Each receipt's canonical JSON, computed once for the root and the store. */
  receiptTexts: string[];
  /** Events of the block itself (beginBlock), stored with tx index -1. */
  blockEvents: ChainEvent[];
  writes: WriteSet;
  txRoot: string;
  receiptRoot: string;
  stateRoot: string;
}

export interface ExecutionOptions {
  /**
   * Committed records already parsed, kept by the caller across blocks (the chain): the block
   * reads hot accounts and assets from it instead of parsing their text again, and leaves its own
   * writes in it. Entries are used only while the committed text matches (ParsedRecordCache).
   */
  parsed?: ParsedRecordCache;
}

export class InvalidBlockError extends Error {
  readonly code = 'invalid_block';
}

/**
 * Runs a block's txs against a fresh view of committed state. Deterministic: the result depends
 * only on committed state and the input, never on a clock, randomness or I/O. Each tx consumes its
 * sender's nonce and then runs inside a snapshot that is restored if it rejects, so a failed tx
 * leaves nothing but its receipt and the nonce.
 */
export function executeBlock(
  committed: StateReader,
  registry: ModuleRegistry,
  input: ExecutionInput,
  log: (message: string, error: unknown) => void = () => {},
  options: ExecutionOptions = {},
): ExecutionResult {
  const view = new StateView(committed, options.parsed);
  let sink: ChainEvent[] = [];
  const emit = (type: string, data: Record<string, unknown>) => {
    sink.push({ type, data });
  };
  const ledger = new Ledger(view, emit);

  const blockEvents: ChainEvent[] = [];
  sink = blockEvents;
  const blockContext: BlockContext = {
    chainId: input.chainId,
    height: input.height,
    time: input.time,
    previousProducer: input.previousProducer,
    previousHash: input.previousHash,
    state: view,
    ledger,
    emit,
  };
  for (const module of registry.modules) module.beginBlock?.(blockContext);
  view.release();

  const included: DecodedTx[] = [];
  const dropped: DecodedTx[] = [];
  const receipts: Receipt[] = [];
  const receiptTexts: string[] = [];
  for (const decoded of input.txs) {
    const { tx } = decoded;
    if (tx.nonce !== ledger.nonce(tx.sender)) {
      if (!input.dropStaleNonces) {
        throw new InvalidBlockError(
          `tx ${decoded.hash} has nonce ${tx.nonce}, expected ${ledger.nonce(tx.sender)}`,
        );
      }
      dropped.push(decoded);
      continue;
    }
    const definition = registry.definition(tx.type);
    if (!definition) throw new InvalidBlockError(`tx ${decoded.hash} has unknown type ${tx.type}`);
    ledger.incrementNonce(tx.sender);
    view.release();

    const events: ChainEvent[] = [];
    sink = events;
    const context: TxContext = {
      chainId: input.chainId,
      height: input.height,
      time: input.time,
      txHash: decoded.hash,
      txIndex: included.length,
      sender: tx.sender,
      state: view,
      ledger,
      emit,
    };
    let status: string | undefined;
    if (tx.expiresAt !== undefined && tx.expiresAt < input.time) {
      status = 'tx_expired';
    } else {
      try {
        status = definition.execute(context, decoded.parsed as never);
        // The receipt is canonicalized here, while a bad event (a bigint, an undefined) can still
        // be pinned on this tx rather than fail the whole block.
        if (status === undefined)
          receiptTexts.push(canonicalize({ tx: decoded.hash, status: 'ok', events }));
      } catch (error) {
        // A failed assertion is a bug in the state machine: stop rather than commit bad state.
        if (error instanceof assert.AssertionError) throw error;
        log(`tx ${decoded.hash} (${tx.type}) threw; recorded as internal_error`, error);
        status = 'internal_error';
      }
    }
    if (status !== undefined) {
      view.revert(0);
      events.length = 0;
      receiptTexts.push(canonicalize({ tx: decoded.hash, status, events }));
    }
    view.release();
    included.push(decoded);
    receipts.push({ tx: decoded.hash, status: status ?? 'ok', events });
  }

  // Records as the view holds them, before and after: no text is parsed again.
  const violations = recordConservationViolations(
    view.writtenKeys(),
    (key) => view.getCommittedRecord(key),
    (key) => view.getRecord(key),
  );
  assert.deepEqual(
    violations,
    [],
    `block ${input.height} breaks conservation for ${violations.join(', ')}`,
  );

  const writes = view.writes();
  return {
    txs: included,
    dropped,
    receipts,
    blockEvents,
    writes,
    txRoot: toHex(merkleRoot(included.map((d) => d.hashBytes))),
    receiptTexts,
    receiptRoot: toHex(merkleRoot(receiptTexts.map((text) => sha256(text)))),
    stateRoot: toHex(nextStateRoot(fromHex(input.previousStateRoot, 'stateRoot', 32), writes)),
  };
}
