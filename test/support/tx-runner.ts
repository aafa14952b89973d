import type { ChainEvent, TxContext, TxDefinition } from '../../src/chain/index.js';
import { addressFromPublicKey, keyPairFromSecret } from '../../src/crypto/index.js';
import { Ledger } from '../../src/ledger/index.js';
import { StateView } from '../../src/state/index.js';

/** A test account: the key pair of a seed (32 times one byte) and its address. */
export interface TestKey {
  address: string;
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

export function testKey(seed: number): TestKey {
  const pair = keyPairFromSecret(new Uint8Array(32).fill(seed));
  return {
    secretKey: pair.secretKey,
    publicKey: pair.publicKey,
    address: addressFromPublicKey(pair.publicKey),
  };
}

/** An event a tx emitted, as the fixtures' worlds keep the last tx's. */
export interface TxEvent {
  type: string;
  data: Record<string, unknown>;
}

/** Fails the test (throws) unless a world's `run` answered 'ok'. */
export function expectOk(result: string, what: string): void {
  if (result !== 'ok') throw new Error(`${what}: ${result}`);
}

/** The id the fixtures' worlds give their `count`th tx: the count in hex, 64 digits. */
export function txHashOf(count: number): string {
  return count.toString(16).padStart(64, '0');
}

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

/** What a `BlockPerTxWorld` runs: its chain id, tx types, start time, state prefix and asset. */
export interface BlockPerTxWorldOptions {
  chainId: string;
  txs: Readonly<Record<string, TxDefinition<never>>>;
  startTime: number;
  /** The module's state prefix (`printing/`): `contents()` lists it and the ledger's. */
  prefix: string;
  /** The asset `balance` reads by default. */
  asset: string;
}

/**
 * A module's handlers in process: a chain in miniature where each successful tx is a block
 * (`closeBlock`: height + 1, time + `blockMs`) and the txs are numbered (`txHashOf`), over an
 * empty in-memory state. The world's clock starts at `startTime`: nothing here reads the real
 * clock. A module's fixture extends it with its own steps.
 */
export class BlockPerTxWorld {
  readonly state = new StateView({ get: () => undefined, range: () => [] });
  time: number;
  height = 1;
  blockMs = 1000;
  protected count = 0;
  /** The events of the last tx (empty after a rejection). */
  events: TxEvent[] = [];
  field: string | undefined;

  constructor(private readonly options: BlockPerTxWorldOptions) {
    this.time = options.startTime;
  }

  ledger(): Ledger {
    return new Ledger(this.state);
  }

  /** Runs one tx: 'ok', or the rejection code (the state as it was, no events). */
  run(sender: TestKey | string, type: string, payload: Record<string, unknown>): string {
    this.count += 1;
    const result = runTx(
      this.options.txs,
      {
        chainId: this.options.chainId,
        height: this.height,
        time: this.time,
        txHash: txHashOf(this.count),
        sender: typeof sender === 'string' ? sender : sender.address,
        state: this.state,
      },
      type,
      payload,
    );
    this.events = result.events;
    this.field = result.field;
    if (result.status !== 'ok') return result.status;
    this.closeBlock();
    return 'ok';
  }

  /** After a successful tx: its block is closed and the next one opens. */
  protected closeBlock(): void {
    this.height += 1;
    this.time += this.blockMs;
  }

  /** The hash the next tx will have (the id of what it creates, in most modules). */
  nextTxHash(): string {
    return txHashOf(this.count + 1);
  }

  /** Moves to the next block, `ms` later. */
  advance(ms: number): void {
    this.height += 1;
    this.time += ms;
  }

  /** Every key and value of the module's and the ledger's state (a rejection changes none). */
  contents(): [string, string][] {
    return [
      ...this.state.range(this.options.prefix, 1_000_000),
      ...this.state.range('ledger/', 1_000_000),
    ];
  }

  balance(address: string, symbol = this.options.asset): bigint {
    return this.ledger().balance(address, symbol);
  }
}
