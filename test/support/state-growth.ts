// A loop of user txs against a module test chain, and the check that no single state value grows
// without bound (issue 13): the txs a user may send, drawn at random from funded and unfunded
// accounts, and after N and again after 4N txs the largest value of each kind of key.
//
// A value that is one list grown by user txs (a due index kept as one value, a per-campaign
// investor list) grows with the txs: its largest size after 4N txs is about four times that after
// N. A record of fixed fields only gains digits. A list bounded by a module limit (a member's lots,
// an account's open holds) is declared with that limit, and must stay under it.
import assert from 'node:assert/strict';

import { isRejection, type CommittedBlock, type DecodedTx } from '../../src/chain/index.js';
import type { BlockStore } from '../../src/state/index.js';
import { testAccount, type ModuleTestChain, type TestAccount } from './module-chain.js';
import type { Prng } from './prng.js';

/** One user tx the loop sends. */
export interface DrawnTx {
  sender: TestAccount;
  type: string;
  payload: Record<string, unknown>;
}

/** What a module's loop does: draw the next tx, and learn ids from what committed. */
export interface UserLoop {
  draw(rng: Prng, node: ModuleTestChain): DrawnTx;
  /**
   * Each committed block with the txs the loop sent in it, in block order (`block.txs[i]` and
   * `block.receipts[i]` are those of `txs[i]`).
   */
  observe?(block: CommittedBlock, txs: DrawnTx[], node: ModuleTestChain): void;
}

/**
 * A kind of key whose value is bounded by a module limit rather than fixed: its values must stay
 * under `bytesMax`, however many txs run. `shape` as `keyShape` gives it.
 */
export interface DeclaredBound {
  shape: string;
  bytesMax: number;
  why: string;
}

/**
 * How much the largest value of an undeclared kind of key may gain between N and 4N txs: a
 * record of fixed fields gains digits in its counters and amounts, never a list's worth.
 */
export const fixedRecordGrowthBytesMax = 96;
/** The largest any undeclared value may be: a record of fixed fields, with room for its text. */
export const fixedRecordBytesMax = 4_096;

/**
 * The kind of a key: its first two segments (module and record) and how many segments it has,
 * e.g. `crowdfund/due/*4` for `crowdfund/due/height/<point>/<id>/<kind>`.
 */
export function keyShape(key: string): string {
  const parts = key.split('/');
  return `${parts.slice(0, 2).join('/')}/*${parts.length - 2}`;
}

export interface Largest {
  key: string;
  bytes: number;
}

/** The largest value (in UTF-8 bytes) of each kind of key in committed state. */
export function largestByShape(
  store: BlockStore,
  prefixes: readonly string[],
): Map<string, Largest> {
  const largest = new Map<string, Largest>();
  for (const prefix of prefixes) {
    for (const [key, value] of store.scan(prefix)) {
      const shape = keyShape(key);
      const bytes = Buffer.byteLength(value, 'utf8');
      if (bytes > (largest.get(shape)?.bytes ?? -1)) largest.set(shape, { key, bytes });
    }
  }
  return largest;
}

/**
 * What breaks the bounds between two measures, after N and after 4N txs: a declared kind over its
 * `bytesMax`; an undeclared one over `fixedRecordBytesMax` or grown by more than
 * `fixedRecordGrowthBytesMax`. Empty when nothing does.
 */
export function growthProblems(
  atN: Map<string, Largest>,
  at4N: Map<string, Largest>,
  declared: readonly DeclaredBound[],
): string[] {
  const problems: string[] = [];
  const bounds = new Map(declared.map((d) => [d.shape, d]));
  for (const [shape, after] of [...at4N.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const before = atN.get(shape);
    const bound = bounds.get(shape);
    const where = `${shape}: ${after.bytes} bytes at ${after.key} (after N: ${before?.bytes ?? 0})`;
    if (bound) {
      if (after.bytes > bound.bytesMax || (before?.bytes ?? 0) > bound.bytesMax) {
        problems.push(`${where}, over its bound of ${bound.bytesMax} (${bound.why})`);
      }
    } else if (after.bytes > fixedRecordBytesMax) {
      problems.push(`${where}, over ${fixedRecordBytesMax} for a record of fixed fields`);
    } else if (after.bytes - (before?.bytes ?? 0) > fixedRecordGrowthBytesMax) {
      problems.push(`${where}: grew with the txs`);
    }
  }
  return problems;
}

/** A key nobody holds: seed bytes `0xee` then a counter, for senders with nothing at all. */
export function freshAccount(counter: number): TestAccount {
  const secret = new Uint8Array(32).fill(0xee);
  new DataView(secret.buffer).setUint32(0, counter);
  return testAccount(secret);
}

let freshCounter = 0;

/** The accounts a loop draws senders from: funded ones (in genesis) and fresh unfunded ones. */
export class Accounts {
  readonly funded: TestAccount[];
  private readonly known = new Map<string, TestAccount>();

  constructor(seedByte: number, count: number) {
    this.funded = Array.from({ length: count }, (_, i) => {
      const secret = new Uint8Array(32).fill(seedByte);
      new DataView(secret.buffer).setUint32(0, i);
      return testAccount(secret);
    });
    for (const account of this.funded) this.known.set(account.address, account);
  }

  /** A funded account most of the time, else a fresh one that holds nothing. */
  any(rng: Prng, fundedShare = 0.75): TestAccount {
    if (rng.chance(fundedShare)) return rng.pick(this.funded);
    const fresh = freshAccount((freshCounter += 1));
    this.known.set(fresh.address, fresh);
    return fresh;
  }

  /** The account (with its key) of an address this pool gave out. */
  byAddress(address: string): TestAccount | undefined {
    return this.known.get(address);
  }
}

export interface LoopRun {
  /** Txs admitted and included, and how many of them succeeded. */
  included: number;
  succeeded: number;
  /** Draws admission refused (a malformed payload the loop drew on purpose, or by chance). */
  refused: number;
}

/**
 * Runs `txs` drawn txs, `blockTxs` a block, each block `blockIntervalMs` after the last. Every
 * block must commit: a block hook that throws fails the loop.
 */
export function runUserLoop(
  node: ModuleTestChain,
  loop: UserLoop,
  rng: Prng,
  options: { txs: number; blockTxs: number; blockIntervalMs: number },
): LoopRun {
  const run: LoopRun = { included: 0, succeeded: 0, refused: 0 };
  for (let sent = 0; sent < options.txs;) {
    const offsets = new Map<string, number>();
    const drawn: DrawnTx[] = [];
    const decoded: DecodedTx[] = [];
    for (let i = 0; i < options.blockTxs && sent < options.txs; i++, sent++) {
      const tx = loop.draw(rng, node);
      const offset = offsets.get(tx.sender.address) ?? 0;
      const admitted = node.admit(tx.sender, tx.type, tx.payload, offset);
      if (isRejection(admitted)) {
        run.refused += 1;
        continue;
      }
      offsets.set(tx.sender.address, offset + 1);
      drawn.push(tx);
      decoded.push(admitted);
    }
    const block = node.produce(decoded, node.time + options.blockIntervalMs);
    assert.equal(block.txs.length, decoded.length, 'every admitted tx is included');
    run.included += block.receipts.length;
    run.succeeded += block.receipts.filter((r) => r.status === 'ok').length;
    loop.observe?.(block, drawn, node);
  }
  return run;
}
