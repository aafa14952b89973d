import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { deriveAddress, sha256Hex, toHex } from '../crypto/index.js';
import {
  genesisParentRoot,
  nextStateRoot,
  ParsedRecordCache,
  StateView,
  type OrderedStateReader,
  type RangeBounds,
} from '../state/index.js';
import { conservationViolations, recordConservationViolations } from './invariants.js';
import { Ledger } from './ledger.js';
import { ledgerKeys, textState, type KeyValueState } from './records.js';

// The ledger over the state view's records (parsed once, serialised once, a parsed cache kept
// across blocks) against the ledger over the same view read and written as text only, as before
// records: the same random blocks of ledger ops, failing txs among them, must write the same
// text, byte for byte, and so give the same state root.

const users = Array.from({ length: 5 }, (_, i) => deriveAddress('parsed-test', String(i)));
const [usdIssuer, eurIssuer] = users as [string, string];
const preimage = 'c0ffee';
const condition = sha256Hex(Buffer.from(preimage, 'hex'));

/** Committed state: a map, ranged by sorting (what the stores answer from an index). */
class Committed implements OrderedStateReader {
  readonly map = new Map<string, string>();
  get(key: string): string | undefined {
    return this.map.get(key);
  }
  range(prefix: string, limit: number, { after, before }: RangeBounds = {}): [string, string][] {
    return [...this.map]
      .filter(
        ([key]) =>
          key.startsWith(prefix) &&
          (after === undefined || key > after) &&
          (before === undefined || key < before),
      )
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, limit);
  }
}

const user = fc.nat(users.length - 1);
const symbol = fc.constantFrom('USD', 'EUR', 'GBP');
const amount = fc.oneof(fc.bigInt({ min: 1n, max: 300n }), fc.constant(0n));
const holdIndex = fc.nat(7);

const ledgerOp = fc.oneof(
  fc.record({ op: fc.constant('transfer' as const), from: user, to: user, symbol, amount }),
  fc.record({ op: fc.constant('mint' as const), issuer: user, symbol, to: user, amount }),
  fc.record({ op: fc.constant('burn' as const), issuer: user, symbol, amount }),
  fc.record({ op: fc.constant('retire' as const), holder: user, symbol, amount }),
  fc.record({
    op: fc.constant('freeze' as const),
    issuer: user,
    symbol,
    who: user,
    frozen: fc.boolean(),
  }),
  fc.record({
    op: fc.constant('hold' as const),
    id: holdIndex,
    payer: user,
    payee: user,
    symbol,
    amount,
    blocks: fc.integer({ min: 1, max: 3 }),
    locked: fc.boolean(),
  }),
  fc.record({
    op: fc.constant('post' as const),
    actor: user,
    id: holdIndex,
    part: fc.option(amount),
  }),
  fc.record({ op: fc.constant('capture' as const), actor: user, id: holdIndex, amount }),
  fc.record({ op: fc.constant('void' as const), actor: user, id: holdIndex }),
  fc.record({ op: fc.constant('release' as const), id: holdIndex }),
  fc.record({ op: fc.constant('nonce' as const), who: user }),
  // A module rewriting an account as text (same content, not canonical): read back as a record.
  fc.record({ op: fc.constant('rewrite' as const), who: user }),
);
type LedgerOp = typeof ledgerOp extends fc.Arbitrary<infer T> ? T : never;

/** A tx: some ops, then success or failure (its writes reverted, as executeBlock does). */
const tx = fc.record({ ops: fc.array(ledgerOp, { maxLength: 4 }), fails: fc.boolean() });
const block = fc.array(tx, { maxLength: 6 });
type Block = typeof block extends fc.Arbitrary<infer T> ? T : never;

function apply(ledger: Ledger, state: KeyValueState, op: LedgerOp, height: number): unknown {
  const id = (index: number) => `hold-${index}`;
  switch (op.op) {
    case 'transfer':
      return ledger.transfer(users[op.from]!, users[op.to]!, op.symbol, op.amount);
    case 'mint':
      return ledger.mint(users[op.issuer]!, op.symbol, users[op.to]!, op.amount);
    case 'burn':
      return ledger.burn(users[op.issuer]!, op.symbol, op.amount);
    case 'retire':
      return ledger.retire(users[op.holder]!, op.symbol, op.amount);
    case 'freeze':
      return ledger.setFrozen(users[op.issuer]!, op.symbol, users[op.who]!, op.frozen);
    case 'hold':
      return ledger.createHold(
        {
          id: id(op.id),
          payer: users[op.payer]!,
          payee: users[op.payee]!,
          asset: op.symbol,
          amount: op.amount,
          expiresAtHeight: height + op.blocks,
          ...(op.locked ? { condition } : {}),
        },
        height,
      );
    case 'post':
      return ledger.postHold(users[op.actor]!, id(op.id), op.part ?? undefined);
    case 'capture':
      return ledger.captureHold(users[op.actor]!, id(op.id), op.amount);
    case 'void':
      return ledger.voidHold(users[op.actor]!, id(op.id));
    case 'release':
      return ledger.releaseHold(id(op.id), preimage);
    case 'nonce':
      ledger.incrementNonce(users[op.who]!);
      return undefined;
    case 'rewrite': {
      const key = ledgerKeys.account(users[op.who]!);
      const text = state.get(key);
      if (text !== undefined) state.set(key, JSON.stringify(JSON.parse(text), null, 1));
      return undefined;
    }
  }
}

/** One side: a ledger over a view of `committed`, records or text only. */
function runBlock(
  committed: Committed,
  txs: Block,
  height: number,
  parsed: ParsedRecordCache | undefined,
) {
  const view = new StateView(committed, parsed);
  const state: KeyValueState = parsed === undefined ? textState(view) : view;
  const events: unknown[] = [];
  const ledger = new Ledger(state, (type, data) => events.push([type, data]));
  ledger.expireHolds(height);
  view.release();
  const results: unknown[] = [];
  for (const { ops, fails } of txs) {
    for (const op of ops) results.push(apply(ledger, state, op, height));
    if (fails) view.revert(0);
    view.release();
  }
  const violations =
    parsed === undefined
      ? conservationViolations(
          view.writtenKeys(),
          (key) => view.getCommitted(key),
          (key) => view.get(key),
        )
      : recordConservationViolations(
          view.writtenKeys(),
          (key) => view.getCommittedRecord(key),
          (key) => view.getRecord(key),
        );
  return { writes: view.writes(), events, results, violations };
}

describe('ledger over parsed records', () => {
  it('writes the same text and state root as the ledger over text only, block after block (property)', () => {
    fc.assert(
      // Each block may follow one executed at the same height and never committed (a proposal
      // that lost): its writes went into the parsed cache and must not be read as committed.
      fc.property(
        fc.array(fc.tuple(block, fc.option(block)), { minLength: 1, maxLength: 5 }),
        (blocks) => {
          const withRecords = new Committed();
          const textual = new Committed();
          // Genesis, through the text path on both sides.
          const genesis = new StateView(new Committed());
          const ledger = new Ledger(textState(genesis));
          assert.equal(ledger.createAsset(usdIssuer, { symbol: 'USD', decimals: 2 }), undefined);
          assert.equal(
            ledger.createAsset(eurIssuer, { symbol: 'EUR', decimals: 2, maxSupply: 1000n }),
            undefined,
          );
          for (const address of users) {
            assert.equal(ledger.mint(usdIssuer, 'USD', address, 500n), undefined);
            assert.equal(ledger.mint(eurIssuer, 'EUR', address, 100n), undefined);
          }
          for (const [key, value] of genesis.writes()) {
            withRecords.map.set(key, value!);
            textual.map.set(key, value!);
          }
          // Small, so entries are evicted and parsed again on the way.
          const parsed = new ParsedRecordCache(6);
          let rootA: Uint8Array = genesisParentRoot;
          let rootB: Uint8Array = genesisParentRoot;
          for (const [index, [txs, abandoned]] of blocks.entries()) {
            const height = index + 1;
            if (abandoned !== null) runBlock(withRecords, abandoned, height, parsed);
            const a = runBlock(withRecords, txs, height, parsed);
            const b = runBlock(textual, txs, height, undefined);
            assert.deepEqual(a.results, b.results, `block ${height}: results`);
            assert.deepEqual(a.events, b.events, `block ${height}: events`);
            assert.deepEqual(a.violations, [], `block ${height}: conservation`);
            assert.deepEqual(b.violations, []);
            assert.deepEqual([...a.writes], [...b.writes], `block ${height}: writes`);
            rootA = nextStateRoot(rootA, a.writes);
            rootB = nextStateRoot(rootB, b.writes);
            assert.equal(toHex(rootA), toHex(rootB));
            for (const [committed, writes] of [
              [withRecords, a.writes],
              [textual, b.writes],
            ] as const) {
              for (const [key, value] of writes) {
                if (value === null) committed.map.delete(key);
                else committed.map.set(key, value);
              }
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
