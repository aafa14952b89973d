import type { ChainEvent, TxContext, TxDefinition } from '../../src/chain/index.js';
import { Ledger } from '../../src/ledger/index.js';
import type { StateView } from '../../src/state/index.js';

/** What `runTx` answers: `ok` with the tx's events, or the rejection code (and its field). */
export type TxRunResult =
  | { status: 'ok'; events: ChainEvent[]; field?: undefined }
  | { status: string; events: []; field?: string };

/** The block and sender one tx runs in. */
export interface TxRunInput {
  chainId: string;
  height: number;
  time: number;
  txHash: string;
  sender: string;
  state: StateView;
  /** The ledger over `state`; by default a new one. */
  ledger?: Ledger;
}

/**
 * One tx through its module's handler in process, as the chain runs it: the stateless parse, then
 * `execute` inside a snapshot of the state that a rejection reverts (so a refused tx leaves the
 * state as it was and no events). The modules' tx fixtures (`txs-fixture.ts`) keep their worlds'
 * clocks, heights and tx ids; this is the step they share.
 */
export function runTx(
  definitions: Readonly<Record<string, TxDefinition<never>>>,
  input: TxRunInput,
  type: string,
  payload: Record<string, unknown>,
): TxRunResult {
  const definition = definitions[type];
  if (definition === undefined) throw new Error(`no tx type ${type}`);
  const parsed = definition.parse(payload, input.sender);
  if ('code' in parsed) {
    return {
      status: parsed.code,
      events: [],
      ...(parsed.field === undefined ? {} : { field: parsed.field }),
    };
  }
  const events: ChainEvent[] = [];
  const { state } = input;
  const ctx: TxContext = {
    chainId: input.chainId,
    height: input.height,
    time: input.time,
    txHash: input.txHash,
    txIndex: 0,
    sender: input.sender,
    state,
    ledger: input.ledger ?? new Ledger(state),
    emit: (type, data) => events.push({ type, data }),
  };
  const snapshot = state.snapshot();
  const rejection = definition.execute(ctx, parsed.value as never);
  if (rejection !== undefined) {
    state.revert(snapshot);
    return { status: rejection, events: [] };
  }
  state.release();
  return { status: 'ok', events };
}
