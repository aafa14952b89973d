import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import {
  addressFromPublicKey,
  deriveAddress,
  isAddress,
  keyPairFromSecret,
  sha256Hex,
} from '../crypto/index.js';
import { StateView, type RangeBounds } from '../state/index.js';
import { amountMax } from './amount.js';
import { auditLedger, conservationViolations } from './invariants.js';
import {
  escrowAddress,
  holdDurationBlocksMax,
  holdExpiriesPerBlockMax,
  holdsPerAccountMax,
  Ledger,
} from './ledger.js';
import {
  ledgerKeys,
  type AccountRecord,
  type AssetRecord,
  type HoldRecord,
  type KeyValueState,
} from './records.js';
import type { LedgerRejection } from './rejections.js';

// ---- fixtures ------------------------------------------------------------------------------

function addressOf(seed: number): string {
  return addressFromPublicKey(keyPairFromSecret(new Uint8Array(32).fill(seed)).publicKey);
}

const alice = addressOf(1); // issues USD in most fixtures
const bob = addressOf(2);
const carol = addressOf(3);
const dave = addressOf(4);
const notAnAddress = 'cof1not-an-address';

const preimage = 'c0ffee';
const condition = sha256Hex(Buffer.from(preimage, 'hex'));

/** A plain in-memory KeyValueState, also readable as the base of a StateView. */
class MapState implements KeyValueState {
  constructor(readonly map = new Map<string, string>()) {}
  get(key: string): string | undefined {
    return this.map.get(key);
  }
  set(key: string, value: string): void {
    this.map.set(key, value);
  }
  delete(key: string): void {
    this.map.delete(key);
  }
  entries(): [string, string][] {
    return [...this.map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
  scan = (prefix: string): [string, string][] =>
    this.entries().filter(([key]) => key.startsWith(prefix));
  range(prefix: string, limit: number, bounds: RangeBounds = {}): [string, string][] {
    return rangeOf(this.map, prefix, limit, bounds);
  }
}

/** `range` over a plain map, by sorting: what the stores answer from an index. */
function rangeOf(
  map: Map<string, string>,
  prefix: string,
  limit: number,
  { after, before }: RangeBounds,
): [string, string][] {
  return [...map.entries()]
    .filter(
      ([key]) =>
        key.startsWith(prefix) &&
        (after === undefined || key > after) &&
        (before === undefined || key < before),
    )
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, limit);
}

interface Recorded {
  type: string;
  data: Record<string, unknown>;
}

function ledgerOver(state: KeyValueState): { ledger: Ledger; events: Recorded[] } {
  const events: Recorded[] = [];
  return { ledger: new Ledger(state, (type, data) => events.push({ type, data })), events };
}

function ok(result: LedgerRejection | undefined): void {
  assert.equal(result, undefined, `expected success, got ${result}`);
}

function parsed<T>(state: KeyValueState, key: string): T | undefined {
  const text = state.get(key);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

// ---- rejections in precedence order --------------------------------------------------------

/**
 * One operation's rejections in the order the ledger checks them. `bad` breaks every rule; row i
 * applies the first i fixes, so it still breaks rule i and every later one, and must get rule i's
 * code: an earlier rule always wins. The last row applies every fix and must succeed. A rejected
 * row must leave state byte-identical and emit nothing.
 */
interface PrecedenceTable<Input> {
  setup(ledger: Ledger, height: number): void;
  bad: Input;
  steps: { expect: LedgerRejection; because: string; fix(input: Input, ledger: Ledger): Input }[];
  run(ledger: Ledger, input: Input, height: number): LedgerRejection | undefined;
  /** Checks on the state after the fully fixed input succeeded. */
  after(ledger: Ledger): void;
}

function precedenceTable<Input>(table: PrecedenceTable<Input>): void {
  const height = 5;
  let base: Map<string, string> | undefined;
  const fresh = () => {
    if (!base) {
      const state = new MapState();
      table.setup(new Ledger(state), height);
      base = state.map;
    }
    return new MapState(new Map(base));
  };
  for (let row = 0; row <= table.steps.length; row++) {
    const step = table.steps[row];
    const name = step ? `${step.expect} (${step.because})` : 'succeeds once every rule is met';
    it(name, () => {
      const state = fresh();
      const { ledger, events } = ledgerOver(state);
      let input = table.bad;
      for (const fix of table.steps.slice(0, row)) input = fix.fix(input, ledger);
      events.length = 0;
      const before = state.entries();
      const result = table.run(ledger, input, height);
      if (step) {
        assert.equal(result, step.expect);
        assert.deepEqual(state.entries(), before, 'a rejection changes no state');
        assert.deepEqual(events, [], 'a rejection emits no event');
      } else {
        ok(result);
        assert.notDeepEqual(state.entries(), before);
        assert.equal(events.length, 1);
        table.after(ledger);
      }
      assert.deepEqual(auditLedger(state.scan).problems, []);
    });
  }
}

describe('Ledger.createAsset rejections, in precedence order', () => {
  precedenceTable({
    setup: (ledger) => ok(ledger.createAsset(alice, { symbol: 'USD', decimals: 2 })),
    bad: { symbol: 'usd', decimals: 19, maxSupply: 0n },
    steps: [
      { expect: 'invalid_symbol', because: 'lowercase', fix: (i) => ({ ...i, symbol: 'USD' }) },
      { expect: 'invalid_decimals', because: 'above 18', fix: (i) => ({ ...i, decimals: 18 }) },
      {
        expect: 'invalid_max_supply',
        because: 'zero',
        fix: (i) => ({ ...i, maxSupply: amountMax }),
      },
      { expect: 'asset_exists', because: 'USD exists', fix: (i) => ({ ...i, symbol: 'EUR' }) },
    ],
    run: (ledger, input) => ledger.createAsset(bob, input),
    after: (ledger) =>
      assert.deepEqual(ledger.asset('EUR'), {
        symbol: 'EUR',
        decimals: 18,
        issuer: bob,
        supply: '0',
        maxSupply: amountMax.toString(),
      }),
  });

  const cases: [
    string,
    { symbol: string; decimals: number; maxSupply?: bigint },
    LedgerRejection | undefined,
  ][] = [
    ['one letter', { symbol: 'A', decimals: 0 }, 'invalid_symbol'],
    ['13 characters', { symbol: 'ABCDEFGHIJKLM', decimals: 0 }, 'invalid_symbol'],
    ['leading digit', { symbol: '1AB', decimals: 0 }, 'invalid_symbol'],
    ['12 characters', { symbol: 'ABCDEFGHIJK9', decimals: 0 }, undefined],
    ['negative decimals', { symbol: 'AB', decimals: -1 }, 'invalid_decimals'],
    ['fractional decimals', { symbol: 'AB', decimals: 1.5 }, 'invalid_decimals'],
    [
      'max supply past amountMax',
      { symbol: 'AB', decimals: 2, maxSupply: amountMax + 1n },
      'invalid_max_supply',
    ],
    ['negative max supply', { symbol: 'AB', decimals: 2, maxSupply: -1n }, 'invalid_max_supply'],
    ['max supply 1', { symbol: 'AB', decimals: 2, maxSupply: 1n }, undefined],
  ];
  for (const [name, spec, expected] of cases) {
    it(`${name}: ${expected ?? 'ok'}`, () => {
      const { ledger } = ledgerOver(new MapState());
      assert.equal(ledger.createAsset(alice, spec), expected);
    });
  }
});

describe('Ledger.mint rejections, in precedence order', () => {
  precedenceTable({
    setup: (ledger) => {
      ok(ledger.createAsset(alice, { symbol: 'USD', decimals: 2, maxSupply: 1000n }));
      ok(ledger.mint(alice, 'USD', alice, 900n));
      ok(ledger.setFrozen(alice, 'USD', bob, true));
    },
    bad: { issuer: bob, symbol: 'NOPE', to: notAnAddress, amount: 0n },
    steps: [
      { expect: 'invalid_amount', because: 'zero', fix: (i) => ({ ...i, amount: 101n }) },
      { expect: 'invalid_address', because: 'bad recipient', fix: (i) => ({ ...i, to: bob }) },
      {
        expect: 'asset_not_found',
        because: 'unknown symbol',
        fix: (i) => ({ ...i, symbol: 'USD' }),
      },
      {
        expect: 'not_issuer',
        because: 'bob did not issue USD',
        fix: (i) => ({ ...i, issuer: alice }),
      },
      // 900 + 100 is exactly the cap: allowed.
      {
        expect: 'max_supply_exceeded',
        because: '900 + 101 > 1000',
        fix: (i) => ({ ...i, amount: 100n }),
      },
      {
        expect: 'account_frozen',
        because: 'bob is frozen',
        fix: (i, ledger) => {
          ok(ledger.setFrozen(alice, 'USD', bob, false));
          return i;
        },
      },
    ],
    run: (ledger, i) => ledger.mint(i.issuer, i.symbol, i.to, i.amount),
    after: (ledger) => {
      assert.equal(ledger.balance(bob, 'USD'), 100n);
      assert.equal(ledger.asset('USD')?.supply, '1000');
    },
  });

  it('caps an asset without max supply at amountMax', () => {
    const { ledger } = ledgerOver(new MapState());
    ok(ledger.createAsset(alice, { symbol: 'USD', decimals: 2 }));
    ok(ledger.mint(alice, 'USD', bob, amountMax));
    assert.equal(ledger.mint(alice, 'USD', bob, 1n), 'max_supply_exceeded');
    assert.equal(ledger.mint(alice, 'USD', bob, amountMax + 1n), 'invalid_amount');
  });
});

describe('Ledger.burn rejections, in precedence order', () => {
  precedenceTable({
    setup: (ledger) => {
      ok(ledger.createAsset(alice, { symbol: 'USD', decimals: 2 }));
      ok(ledger.mint(alice, 'USD', alice, 50n));
      ok(ledger.mint(alice, 'USD', bob, 500n));
    },
    bad: { issuer: bob, symbol: 'NOPE', amount: -1n },
    steps: [
      { expect: 'invalid_amount', because: 'negative', fix: (i) => ({ ...i, amount: 51n }) },
      {
        expect: 'asset_not_found',
        because: 'unknown symbol',
        fix: (i) => ({ ...i, symbol: 'USD' }),
      },
      {
        expect: 'not_issuer',
        because: 'bob holds USD but did not issue it',
        fix: (i) => ({ ...i, issuer: alice }),
      },
      {
        expect: 'insufficient_funds',
        because: 'alice holds 50',
        fix: (i) => ({ ...i, amount: 50n }),
      },
    ],
    run: (ledger, i) => ledger.burn(i.issuer, i.symbol, i.amount),
    after: (ledger) => {
      assert.equal(ledger.balance(alice, 'USD'), 0n);
      assert.equal(ledger.balance(bob, 'USD'), 500n);
      assert.equal(ledger.asset('USD')?.supply, '500');
    },
  });
});

describe('Ledger.retire rejections, in precedence order', () => {
  const escrow = escrowAddress('crowdfund', 'c1');
  precedenceTable({
    setup: (ledger) => {
      ok(ledger.createAsset(alice, { symbol: 'USD', decimals: 2 }));
      ok(ledger.mint(alice, 'USD', escrow, 50n));
      ok(ledger.mint(alice, 'USD', bob, 500n));
    },
    bad: { holder: escrow, symbol: 'NOPE', amount: 0n },
    steps: [
      { expect: 'invalid_amount', because: 'zero', fix: (i) => ({ ...i, amount: 51n }) },
      {
        expect: 'asset_not_found',
        because: 'unknown symbol',
        fix: (i) => ({ ...i, symbol: 'USD' }),
      },
      {
        expect: 'insufficient_funds',
        because: 'the escrow holds 50',
        fix: (i) => ({ ...i, amount: 50n }),
      },
    ],
    run: (ledger, i) => ledger.retire(i.holder, i.symbol, i.amount),
    after: (ledger) => {
      // Any holder retires (the calling module is the authority): no issuer check.
      assert.equal(ledger.balance(escrow, 'USD'), 0n);
      assert.deepEqual(ledger.account(escrow).balances, {});
      assert.equal(ledger.balance(bob, 'USD'), 500n);
      assert.equal(ledger.asset('USD')?.supply, '500');
    },
  });

  const amounts: [string, bigint, LedgerRejection | undefined][] = [
    ['zero', 0n, 'invalid_amount'],
    ['negative', -1n, 'invalid_amount'],
    ['one past the maximum', amountMax + 1n, 'invalid_amount'],
    ['the maximum, above the balance', amountMax, 'insufficient_funds'],
    ['one above the balance', 51n, 'insufficient_funds'],
    ['the whole balance', 50n, undefined],
    ['one', 1n, undefined],
  ];
  for (const [name, amount, expected] of amounts) {
    it(`retiring ${name}: ${expected ?? 'ok'}`, () => {
      const state = new MapState();
      const { ledger, events } = ledgerOver(state);
      ok(ledger.createAsset(alice, { symbol: 'USD', decimals: 2 }));
      ok(ledger.mint(alice, 'USD', escrow, 50n));
      events.length = 0;
      const before = state.entries();
      assert.equal(ledger.retire(escrow, 'USD', amount), expected);
      if (expected !== undefined) {
        assert.deepEqual(state.entries(), before, 'a rejection changes no state');
        assert.deepEqual(events, []);
      } else {
        assert.equal(ledger.balance(escrow, 'USD'), 50n - amount);
        assert.equal(ledger.asset('USD')?.supply, String(50n - amount));
        assert.deepEqual(events, [
          {
            type: 'asset.burned',
            data: { asset: 'USD', from: escrow, amount: amount.toString() },
          },
        ]);
      }
      assert.deepEqual(auditLedger(state.scan).problems, []);
    });
  }
});

describe('Ledger hash-locked holds: the formats of condition and preimage', () => {
  /** A hold of 10 USD from bob to carol locked by `lock`, or the rejection of creating it. */
  function lockedHold(lock: string): { ledger: Ledger; state: MapState; created: unknown } {
    const state = new MapState();
    const { ledger } = ledgerOver(state);
    ok(ledger.createAsset(alice, { symbol: 'USD', decimals: 2 }));
    ok(ledger.mint(alice, 'USD', bob, 10n));
    const created = ledger.createHold(
      {
        id: 'locked',
        payer: bob,
        payee: carol,
        asset: 'USD',
        amount: 10n,
        expiresAtHeight: 10,
        condition: lock,
      },
      5,
    );
    return { ledger, state, created };
  }

  const conditions: [string, string, LedgerRejection | undefined][] = [
    ['64 lowercase hex digits', condition, undefined],
    ['63 hex digits', condition.slice(1), 'invalid_condition'],
    ['65 hex digits', `${condition}0`, 'invalid_condition'],
    ['uppercase hex', condition.toUpperCase(), 'invalid_condition'],
    ['a non-hex digit', `${condition.slice(1)}g`, 'invalid_condition'],
    ['text before', `x${condition}`, 'invalid_condition'],
    ['text after', `${condition}x`, 'invalid_condition'],
    ['a newline after', `${condition}\n`, 'invalid_condition'],
    ['empty', '', 'invalid_condition'],
  ];
  for (const [name, lock, expected] of conditions) {
    it(`a condition of ${name}: ${expected ?? 'ok'}`, () => {
      assert.equal(lockedHold(lock).created, expected);
    });
  }

  // Node decodes hex leniently (uppercase, a dangling digit and anything after a bad digit are
  // accepted or dropped): each of these decodes to the bytes c0ffee and would release the hold
  // without the format check.
  const lenient = [
    ['uppercase', 'C0FFEE'],
    ['odd length', 'c0ffee0'],
    ['non-hex digits after', 'c0ffeezz'],
    ['a space after', 'c0ffee '],
    ['non-hex digits, then hex', 'c0ffeezzc0'],
  ];
  for (const [name, preimageHex] of lenient) {
    it(`a preimage in ${name} hex (${preimageHex}) is refused, though Node decodes it to c0ffee`, () => {
      assert.deepEqual(Buffer.from(preimageHex!, 'hex'), Buffer.from(preimage, 'hex'));
      const { ledger, state, created } = lockedHold(condition);
      ok(created as LedgerRejection | undefined);
      const before = state.entries();
      assert.equal(ledger.releaseHold('locked', preimageHex!), 'preimage_mismatch');
      assert.deepEqual(state.entries(), before);
      ok(ledger.releaseHold('locked', preimage));
      assert.equal(ledger.balance(carol, 'USD'), 10n);
    });
  }

  const lengths: [string, string, LedgerRejection | undefined][] = [
    ['1 byte', 'ab', undefined],
    ['256 bytes', 'ab'.repeat(256), undefined],
    ['257 bytes', 'ab'.repeat(257), 'preimage_mismatch'],
    ['0 bytes', '', 'preimage_mismatch'],
  ];
  for (const [name, preimageHex, expected] of lengths) {
    it(`a preimage of ${name} whose digest is the condition: ${expected ?? 'released'}`, () => {
      const { ledger, created } = lockedHold(sha256Hex(Buffer.from(preimageHex, 'hex')));
      ok(created as LedgerRejection | undefined);
      assert.equal(ledger.releaseHold('locked', preimageHex), expected);
      assert.equal(ledger.balance(carol, 'USD'), expected === undefined ? 10n : 0n);
    });
  }

  it('a release emits hold.released with the preimage and the amounts', () => {
    const state = new MapState();
    const { ledger, events } = ledgerOver(state);
    ok(ledger.createAsset(alice, { symbol: 'USD', decimals: 2 }));
    ok(ledger.mint(alice, 'USD', bob, 10n));
    const spec = { id: 'h', payer: bob, payee: carol, asset: 'USD', amount: 10n };
    ok(ledger.createHold({ ...spec, expiresAtHeight: 10, condition }, 5));
    events.length = 0;
    ok(ledger.releaseHold('h', preimage));
    assert.deepEqual(events, [
      {
        type: 'hold.released',
        data: {
          id: 'h',
          payer: bob,
          payee: carol,
          asset: 'USD',
          paid: '10',
          returned: '0',
          preimage,
        },
      },
    ]);
  });
});

describe('Ledger.transfer rejections, in precedence order', () => {
  precedenceTable({
    setup: (ledger) => {
      ok(ledger.createAsset(alice, { symbol: 'USD', decimals: 2 }));
      ok(ledger.mint(alice, 'USD', bob, 100n));
      ok(ledger.setFrozen(alice, 'USD', bob, true));
      ok(ledger.setFrozen(alice, 'USD', carol, true));
    },
    bad: { from: bob, to: notAnAddress, symbol: 'NOPE', amount: amountMax + 1n },
    steps: [
      { expect: 'invalid_amount', because: 'past amountMax', fix: (i) => ({ ...i, amount: 101n }) },
      { expect: 'invalid_address', because: 'bad payee', fix: (i) => ({ ...i, to: bob }) },
      {
        expect: 'accounts_must_be_different',
        because: 'to self',
        fix: (i) => ({ ...i, to: carol }),
      },
      {
        expect: 'asset_not_found',
        because: 'unknown symbol',
        fix: (i) => ({ ...i, symbol: 'USD' }),
      },
      {
        expect: 'account_frozen',
        because: 'payer frozen',
        fix: (i, ledger) => {
          ok(ledger.setFrozen(alice, 'USD', bob, false));
          return i;
        },
      },
      {
        expect: 'account_frozen',
        because: 'payee frozen',
        fix: (i, ledger) => {
          ok(ledger.setFrozen(alice, 'USD', carol, false));
          return i;
        },
      },
      {
        expect: 'insufficient_funds',
        because: 'bob holds 100',
        fix: (i) => ({ ...i, amount: 100n }),
      },
    ],
    run: (ledger, i) => ledger.transfer(i.from, i.to, i.symbol, i.amount),
    after: (ledger) => {
      assert.equal(ledger.balance(bob, 'USD'), 0n);
      assert.equal(ledger.balance(carol, 'USD'), 100n);
      // A balance that reaches zero leaves the record rather than being stored as "0".
      assert.deepEqual(ledger.account(bob).balances, {});
    },
  });
});

describe('Ledger.setFrozen rejections, in precedence order', () => {
  precedenceTable({
    setup: (ledger) => ok(ledger.createAsset(alice, { symbol: 'USD', decimals: 2 })),
    bad: { issuer: bob, symbol: 'NOPE', address: notAnAddress },
    steps: [
      { expect: 'invalid_address', because: 'bad account', fix: (i) => ({ ...i, address: carol }) },
      {
        expect: 'asset_not_found',
        because: 'unknown symbol',
        fix: (i) => ({ ...i, symbol: 'USD' }),
      },
      {
        expect: 'not_issuer',
        because: 'bob did not issue USD',
        fix: (i) => ({ ...i, issuer: alice }),
      },
    ],
    run: (ledger, i) => ledger.setFrozen(i.issuer, i.symbol, i.address, true),
    after: (ledger) => assert.deepEqual(ledger.account(carol).frozen, ['USD']),
  });

  it('is idempotent: freezing twice or unfreezing an unfrozen account writes and emits nothing', () => {
    const state = new MapState();
    const { ledger, events } = ledgerOver(state);
    ok(ledger.createAsset(alice, { symbol: 'USD', decimals: 2 }));
    ok(ledger.createAsset(alice, { symbol: 'EUR', decimals: 2 }));
    ok(ledger.setFrozen(alice, 'USD', carol, true));
    ok(ledger.setFrozen(alice, 'EUR', carol, true));
    assert.deepEqual(ledger.account(carol).frozen, ['EUR', 'USD'], 'kept sorted');
    const before = state.entries();
    events.length = 0;
    ok(ledger.setFrozen(alice, 'USD', carol, true));
    ok(ledger.setFrozen(alice, 'USD', dave, false));
    assert.deepEqual(state.entries(), before);
    assert.equal(events.length, 0);
    ok(ledger.setFrozen(alice, 'USD', carol, false));
    assert.deepEqual(ledger.account(carol).frozen, ['EUR']);
    assert.deepEqual(
      events.map((e) => e.type),
      ['account.unfrozen'],
    );
  });
});

describe('Ledger.createHold rejections, in precedence order', () => {
  type Spec = Parameters<Ledger['createHold']>[0];
  precedenceTable<Spec>({
    setup: (ledger, height) => {
      ok(ledger.createAsset(alice, { symbol: 'USD', decimals: 2 }));
      ok(ledger.mint(alice, 'USD', bob, BigInt(holdsPerAccountMax)));
      for (let n = 0; n < holdsPerAccountMax; n++) {
        const spec = {
          id: `h${n}`,
          payer: bob,
          payee: dave,
          asset: 'USD',
          amount: 1n,
          expiresAtHeight: height + 100,
        };
        ok(ledger.createHold(spec, height));
      }
      ok(ledger.setFrozen(alice, 'USD', bob, true));
      ok(ledger.setFrozen(alice, 'USD', carol, true));
    },
    bad: {
      id: 'h0',
      payer: bob,
      payee: notAnAddress,
      asset: 'NOPE',
      amount: 0n,
      expiresAtHeight: 5,
      arbiter: notAnAddress,
      condition: 'C0FFEE',
    },
    steps: [
      { expect: 'invalid_amount', because: 'zero', fix: (i) => ({ ...i, amount: 5n }) },
      { expect: 'invalid_address', because: 'bad payee', fix: (i) => ({ ...i, payee: bob }) },
      { expect: 'invalid_address', because: 'bad arbiter', fix: (i) => ({ ...i, arbiter: dave }) },
      {
        expect: 'accounts_must_be_different',
        because: 'payee is payer',
        fix: (i) => ({ ...i, payee: carol }),
      },
      { expect: 'invalid_condition', because: 'uppercase hex', fix: (i) => ({ ...i, condition }) },
      {
        expect: 'invalid_hold_expiry',
        because: 'at the current height',
        fix: (i) => ({ ...i, expiresAtHeight: 6 }),
      },
      {
        expect: 'asset_not_found',
        because: 'unknown symbol',
        fix: (i) => ({ ...i, asset: 'USD' }),
      },
      { expect: 'hold_exists', because: 'h0 is open', fix: (i) => ({ ...i, id: 'fresh' }) },
      {
        expect: 'account_frozen',
        because: 'payer frozen',
        fix: (i, ledger) => {
          ok(ledger.setFrozen(alice, 'USD', bob, false));
          return i;
        },
      },
      {
        expect: 'account_frozen',
        because: 'payee frozen',
        fix: (i, ledger) => {
          ok(ledger.setFrozen(alice, 'USD', carol, false));
          return i;
        },
      },
      {
        expect: 'too_many_holds',
        because: `bob pays ${holdsPerAccountMax} open holds`,
        fix: (i, ledger) => {
          ok(ledger.voidHold(dave, 'h1'));
          return i;
        },
      },
      {
        expect: 'insufficient_funds',
        because: 'bob has 1 left',
        fix: (i, ledger) => {
          ok(ledger.mint(alice, 'USD', bob, 4n));
          return i;
        },
      },
    ],
    run: (ledger, spec, height) => ledger.createHold(spec, height),
    after: (ledger) => {
      assert.deepEqual(ledger.hold('fresh'), {
        id: 'fresh',
        payer: bob,
        payee: carol,
        asset: 'USD',
        amount: '5',
        expiresAtHeight: 6,
        arbiter: dave,
        condition,
        createdAtHeight: 5,
      });
      const payer = ledger.account(bob);
      assert.equal(payer.balances.USD, undefined);
      assert.equal(payer.held.USD, String(holdsPerAccountMax - 1 + 5));
      assert.equal(payer.holds.length, holdsPerAccountMax);
      assert.equal(payer.holds.at(-1), 'fresh');
    },
  });

  const expiries: [string, number, LedgerRejection | undefined][] = [
    ['below the height', 4, 'invalid_hold_expiry'],
    ['the next height', 6, undefined],
    ['the farthest allowed', 5 + holdDurationBlocksMax, undefined],
    ['one past the farthest', 5 + holdDurationBlocksMax + 1, 'invalid_hold_expiry'],
    ['fractional', 6.5, 'invalid_hold_expiry'],
    ['NaN', Number.NaN, 'invalid_hold_expiry'],
  ];
  for (const [name, expiresAtHeight, expected] of expiries) {
    it(`expiry ${name}: ${expected ?? 'ok'}`, () => {
      const { ledger } = ledgerOver(new MapState());
      ok(ledger.createAsset(alice, { symbol: 'USD', decimals: 2 }));
      ok(ledger.mint(alice, 'USD', bob, 10n));
      const spec = {
        id: 'h',
        payer: bob,
        payee: carol,
        asset: 'USD',
        amount: 10n,
        expiresAtHeight,
      };
      assert.equal(ledger.createHold(spec, 5), expected);
    });
  }
});

/** USD by alice; bob pays three holds to carol: plain (40), arbitrated by dave (30), hash-locked (10). */
function holdFixture(ledger: Ledger): void {
  ok(ledger.createAsset(alice, { symbol: 'USD', decimals: 2 }));
  ok(ledger.mint(alice, 'USD', bob, 100n));
  const base = { payer: bob, payee: carol, asset: 'USD', expiresAtHeight: 10 };
  ok(ledger.createHold({ ...base, id: 'plain', amount: 40n }, 5));
  ok(ledger.createHold({ ...base, id: 'arb', amount: 30n, arbiter: dave }, 5));
  ok(ledger.createHold({ ...base, id: 'locked', amount: 10n, condition }, 5));
}

describe('Ledger.postHold rejections, in precedence order', () => {
  precedenceTable({
    setup: (ledger) => {
      holdFixture(ledger);
      ok(ledger.setFrozen(alice, 'USD', carol, true));
    },
    bad: { actor: bob, id: 'missing', amount: 0n },
    steps: [
      { expect: 'invalid_amount', because: 'zero', fix: (i) => ({ ...i, amount: 41n }) },
      { expect: 'hold_not_found', because: 'no such hold', fix: (i) => ({ ...i, id: 'locked' }) },
      { expect: 'hold_hash_locked', because: 'hash-locked', fix: (i) => ({ ...i, id: 'plain' }) },
      {
        expect: 'hold_forbidden',
        because: 'the payer posts',
        fix: (i) => ({ ...i, actor: carol }),
      },
      { expect: 'hold_amount_exceeded', because: '41 > 40', fix: (i) => ({ ...i, amount: 25n }) },
      {
        expect: 'account_frozen',
        because: 'payee frozen',
        fix: (i, ledger) => {
          ok(ledger.setFrozen(alice, 'USD', carol, false));
          return i;
        },
      },
    ],
    run: (ledger, i) => ledger.postHold(i.actor, i.id, i.amount),
    after: (ledger) => {
      // A partial post pays 25 and returns the other 15 to the payer; the hold is closed.
      assert.equal(ledger.hold('plain'), undefined);
      assert.equal(ledger.balance(carol, 'USD'), 25n);
      assert.equal(ledger.balance(bob, 'USD'), 100n - 80n + 15n);
      assert.equal(ledger.account(bob).held.USD, '40');
      assert.deepEqual(ledger.account(bob).holds, ['arb', 'locked']);
    },
  });

  it('an arbitrated hold is posted by its arbiter, not its payee; no amount posts all', () => {
    const { ledger, events } = ledgerOver(new MapState());
    holdFixture(ledger);
    assert.equal(ledger.postHold(carol, 'arb'), 'hold_forbidden');
    assert.equal(ledger.postHold(bob, 'arb'), 'hold_forbidden');
    events.length = 0;
    ok(ledger.postHold(dave, 'arb'));
    assert.equal(ledger.balance(carol, 'USD'), 30n);
    assert.equal(ledger.balance(dave, 'USD'), 0n);
    assert.deepEqual(events, [
      {
        type: 'hold.posted',
        data: { id: 'arb', payer: bob, payee: carol, asset: 'USD', paid: '30', returned: '0' },
      },
    ]);
    assert.equal(ledger.postHold(dave, 'arb'), 'hold_not_found', 'a posted hold is closed');
  });
});

describe('Ledger.captureHold rejections, in precedence order', () => {
  precedenceTable({
    setup: (ledger) => {
      holdFixture(ledger);
      ok(ledger.setFrozen(alice, 'USD', carol, true));
    },
    bad: { actor: bob, id: 'missing', amount: 0n },
    steps: [
      { expect: 'invalid_amount', because: 'zero', fix: (i) => ({ ...i, amount: 41n }) },
      { expect: 'hold_not_found', because: 'no such hold', fix: (i) => ({ ...i, id: 'locked' }) },
      { expect: 'hold_hash_locked', because: 'hash-locked', fix: (i) => ({ ...i, id: 'plain' }) },
      {
        expect: 'hold_forbidden',
        because: 'the payer captures',
        fix: (i) => ({ ...i, actor: carol }),
      },
      { expect: 'hold_amount_exceeded', because: '41 > 40', fix: (i) => ({ ...i, amount: 25n }) },
      {
        expect: 'account_frozen',
        because: 'payee frozen',
        fix: (i, ledger) => {
          ok(ledger.setFrozen(alice, 'USD', carol, false));
          return i;
        },
      },
    ],
    run: (ledger, i) => ledger.captureHold(i.actor, i.id, i.amount),
    after: (ledger) => {
      // A capture pays 25 and keeps the other 15 held: the hold stays open with the rest.
      assert.equal(ledger.hold('plain')?.amount, '15');
      assert.equal(ledger.balance(carol, 'USD'), 25n);
      assert.equal(ledger.balance(bob, 'USD'), 100n - 80n);
      assert.equal(ledger.account(bob).held.USD, '55');
      assert.deepEqual(ledger.account(bob).holds, ['plain', 'arb', 'locked']);
    },
  });

  it('captures bill by bill, closes the hold when nothing is left, and only the arbiter captures an arbitrated hold', () => {
    const { ledger, events } = ledgerOver(new MapState());
    holdFixture(ledger);
    assert.equal(ledger.captureHold(carol, 'arb', 1n), 'hold_forbidden');
    events.length = 0;
    ok(ledger.captureHold(dave, 'arb', 10n));
    ok(ledger.captureHold(dave, 'arb', 20n));
    assert.deepEqual(events, [
      {
        type: 'hold.captured',
        data: { id: 'arb', payer: bob, payee: carol, asset: 'USD', paid: '10', remaining: '20' },
      },
      {
        type: 'hold.captured',
        data: { id: 'arb', payer: bob, payee: carol, asset: 'USD', paid: '20', remaining: '0' },
      },
    ]);
    assert.equal(ledger.hold('arb'), undefined, 'a hold captured whole is closed');
    assert.equal(ledger.balance(carol, 'USD'), 30n);
    assert.deepEqual(ledger.account(bob).holds, ['plain', 'locked']);
    assert.equal(ledger.captureHold(dave, 'arb', 1n), 'hold_not_found');
  });

  it('what is left after captures returns to the payer at expiry, and supply stays balanced', () => {
    const state = new MapState();
    const { ledger } = ledgerOver(state);
    holdFixture(ledger);
    ok(ledger.captureHold(carol, 'plain', 15n));
    ledger.expireHolds(11);
    assert.equal(ledger.hold('plain'), undefined);
    assert.equal(ledger.balance(carol, 'USD'), 15n);
    assert.equal(ledger.balance(bob, 'USD'), 100n - 15n);
    assert.equal(ledger.captureHold(carol, 'plain', 1n), 'hold_not_found');
    assert.deepEqual(auditLedger(state.scan).problems, []);
  });
});

describe('Ledger.voidHold rejections, in precedence order', () => {
  precedenceTable({
    setup: holdFixture,
    bad: { actor: bob, id: 'missing' },
    steps: [
      { expect: 'hold_not_found', because: 'no such hold', fix: (i) => ({ ...i, id: 'locked' }) },
      { expect: 'hold_hash_locked', because: 'hash-locked', fix: (i) => ({ ...i, id: 'arb' }) },
      {
        expect: 'hold_forbidden',
        because: 'the payer cannot take it back',
        fix: (i) => ({ ...i, actor: dave }),
      },
    ],
    run: (ledger, i) => ledger.voidHold(i.actor, i.id),
    after: (ledger) => {
      assert.equal(ledger.hold('arb'), undefined);
      assert.equal(ledger.balance(bob, 'USD'), 100n - 80n + 30n);
      assert.equal(ledger.balance(carol, 'USD'), 0n);
    },
  });

  it('the payee may void an arbitrated hold (declining it); a stranger may not', () => {
    const { ledger } = ledgerOver(new MapState());
    holdFixture(ledger);
    assert.equal(ledger.voidHold(alice, 'arb'), 'hold_forbidden');
    ok(ledger.voidHold(carol, 'arb'));
    assert.equal(ledger.balance(bob, 'USD'), 50n);
  });
});

describe('Ledger.releaseHold rejections, in precedence order', () => {
  precedenceTable({
    setup: (ledger) => {
      holdFixture(ledger);
      ok(ledger.setFrozen(alice, 'USD', carol, true));
    },
    // c0ffee0 decodes (leniently) to the right preimage: only the format check refuses it.
    bad: { id: 'missing', preimage: 'c0ffee0' },
    steps: [
      { expect: 'hold_not_found', because: 'no such hold', fix: (i) => ({ ...i, id: 'plain' }) },
      {
        expect: 'hold_not_hash_locked',
        because: 'plain hold',
        fix: (i) => ({ ...i, id: 'locked' }),
      },
      {
        expect: 'preimage_mismatch',
        because: 'odd-length hex',
        fix: (i) => ({ ...i, preimage: 'c0ffef' }),
      },
      { expect: 'preimage_mismatch', because: 'wrong preimage', fix: (i) => ({ ...i, preimage }) },
      {
        expect: 'account_frozen',
        because: 'payee frozen',
        fix: (i, ledger) => {
          ok(ledger.setFrozen(alice, 'USD', carol, false));
          return i;
        },
      },
    ],
    run: (ledger, i) => ledger.releaseHold(i.id, i.preimage),
    after: (ledger) => {
      assert.equal(ledger.hold('locked'), undefined);
      assert.equal(ledger.balance(carol, 'USD'), 10n);
      assert.deepEqual(ledger.account(bob).holds, ['plain', 'arb']);
    },
  });
});

describe('Ledger holds over heights', () => {
  it('a hold is usable up to its expiry height and refunded in the next block', () => {
    const state = new MapState();
    const { ledger, events } = ledgerOver(state);
    holdFixture(ledger); // expiresAtHeight 10
    ledger.expireHolds(10);
    assert.ok(ledger.hold('plain'), 'still open at its expiry height');
    ok(ledger.postHold(carol, 'plain', 15n));
    events.length = 0;
    ledger.expireHolds(11);
    assert.deepEqual(
      events.map((e) => [e.type, e.data.id, e.data.returned]),
      [
        ['hold.expired', 'arb', '30'],
        ['hold.expired', 'locked', '10'],
      ],
    );
    assert.equal(ledger.hold('arb'), undefined);
    assert.equal(ledger.hold('locked'), undefined);
    assert.deepEqual(state.scan(ledgerKeys.holdExpiries), [], 'the expiry index entries are gone');
    assert.deepEqual(ledger.account(bob), {
      nonce: 0,
      balances: { USD: '85' },
      held: {},
      frozen: [],
      holds: [],
    });
    assert.equal(ledger.releaseHold('locked', preimage), 'hold_not_found');
    assert.deepEqual(auditLedger(state.scan).problems, []);
  });

  it('a settled hold leaves the expiry index, and expiring an empty height does nothing', () => {
    const state = new MapState();
    const { ledger } = ledgerOver(state);
    holdFixture(ledger);
    ok(ledger.postHold(carol, 'plain'));
    ok(ledger.voidHold(dave, 'arb'));
    ok(ledger.releaseHold('locked', preimage));
    assert.deepEqual(state.scan(ledgerKeys.holdExpiries), []);
    const before = state.entries();
    ledger.expireHolds(11);
    ledger.expireHolds(12);
    assert.deepEqual(state.entries(), before);
  });

  it('the expiry index stores "true" under each key: its values are state, hashed into the root', () => {
    const state = new MapState();
    holdFixture(new Ledger(state));
    assert.deepEqual(state.scan(ledgerKeys.holdExpiries), [
      ['ledger/hold-expiry/0000000000000010/arb', 'true'],
      ['ledger/hold-expiry/0000000000000010/locked', 'true'],
      ['ledger/hold-expiry/0000000000000010/plain', 'true'],
    ]);
  });

  it('an expiry index entry naming no hold is a bug: the ledger stops, naming the entry', () => {
    const state = new MapState();
    const { ledger } = ledgerOver(state);
    holdFixture(ledger);
    state.delete(ledgerKeys.hold('arb'));
    assert.throws(
      () => ledger.expireHolds(11),
      (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.equal(
          error.message,
          'ledger: expiry index entry ledger/hold-expiry/0000000000000010/arb names no open hold',
        );
        return true;
      },
    );
  });

  it('posting, voiding or releasing a hold deletes its one expiry index key', () => {
    const state = new MapState();
    const { ledger } = ledgerOver(state);
    holdFixture(ledger);
    const keys = () => state.scan(ledgerKeys.holdExpiries).map(([key]) => key);
    assert.deepEqual(keys(), [
      'ledger/hold-expiry/0000000000000010/arb',
      'ledger/hold-expiry/0000000000000010/locked',
      'ledger/hold-expiry/0000000000000010/plain',
    ]);
    ok(ledger.postHold(carol, 'plain', 5n));
    assert.deepEqual(keys(), [
      ledgerKeys.holdExpiry(10, 'arb'),
      ledgerKeys.holdExpiry(10, 'locked'),
    ]);
    ok(ledger.voidHold(dave, 'arb'));
    assert.deepEqual(keys(), [ledgerKeys.holdExpiry(10, 'locked')]);
    ok(ledger.releaseHold('locked', preimage));
    assert.deepEqual(keys(), []);
  });

  it(`a block refunds at most ${holdExpiriesPerBlockMax} holds; the rest follow in the next blocks in expiry order`, () => {
    const harness = new Harness();
    const ledger = () => harness.ledger;
    ok(ledger().createAsset(alice, { symbol: 'USD', decimals: 0 }));
    const holds = holdExpiriesPerBlockMax * 2 + 10;
    // Payers hold at most holdsPerAccountMax each: spread the holds over fresh payers.
    const payers = Array.from({ length: Math.ceil(holds / holdsPerAccountMax) }, (_, i) =>
      addressOf(100 + i),
    );
    ok(ledger().mint(alice, 'USD', bob, BigInt(payers.length * holdsPerAccountMax)));
    for (const payer of payers)
      ok(ledger().transfer(bob, payer, 'USD', BigInt(holdsPerAccountMax)));
    // Height 1: most holds expire at 2, the last ten at 3 (after the block-2 backlog).
    const ids: string[] = [];
    for (let i = 0; i < holds; i++) {
      const id = `h${String(i).padStart(5, '0')}`;
      ids.push(id);
      const expiresAtHeight = i < holds - 10 ? 2 : 3;
      const payer = payers[Math.floor(i / holdsPerAccountMax)]!;
      ok(
        ledger().createHold(
          { id, payer, payee: carol, asset: 'USD', amount: 1n, expiresAtHeight },
          1,
        ),
      );
    }
    const expiredIn = (): string[] =>
      harness.events.filter((e) => e.type === 'hold.expired').map((e) => e.data.id as string);

    harness.events = [];
    harness.nextBlock(); // height 2: nothing has passed its expiry height yet
    assert.deepEqual(expiredIn(), []);

    harness.events = [];
    harness.nextBlock(); // height 3: the first budget of the holds that expired at 2
    assert.deepEqual(expiredIn(), ids.slice(0, holdExpiriesPerBlockMax));
    // One left over from height 2 is expired already: post and void refuse it, as a refunded hold.
    const late = ids[holdExpiriesPerBlockMax]!;
    assert.ok(ledger().hold(late), 'not refunded yet');
    assert.equal(ledger().postHold(carol, late), 'hold_not_found');
    assert.equal(ledger().voidHold(carol, late), 'hold_not_found');
    // One that expires at 3 is still usable at height 3.
    ok(ledger().voidHold(carol, ids[holds - 1]!));

    harness.events = [];
    harness.nextBlock(); // height 4: the next budget, still those of height 2 first
    assert.deepEqual(expiredIn(), ids.slice(holdExpiriesPerBlockMax, 2 * holdExpiriesPerBlockMax));

    harness.events = [];
    harness.nextBlock(); // height 5: the rest of height 2's, then height 3's (less the voided one)
    assert.deepEqual(expiredIn(), ids.slice(2 * holdExpiriesPerBlockMax, holds - 1));
    assert.deepEqual(
      harness.contents().filter(([key]) => key.startsWith(ledgerKeys.holdExpiries)),
      [],
    );
    assert.deepEqual(
      harness.contents().filter(([key]) => key.startsWith('ledger/hold/')),
      [],
      'every hold is closed',
    );
    assert.equal(ledger().balance(carol, 'USD'), 0n);
    for (const payer of payers) assert.deepEqual(ledger().account(payer).holds, []);
    const contents = harness.contents();
    assert.deepEqual(
      auditLedger((prefix) => contents.filter(([key]) => key.startsWith(prefix))).problems,
      [],
    );
  });

  it('a per-height list of a chain written before the per-hold index is still refunded, then deleted', () => {
    const state = new MapState();
    const { ledger, events } = ledgerOver(state);
    holdFixture(ledger); // expiresAtHeight 10, indexed one key per hold
    // As the old code wrote them: no per-hold keys, one list at the expiry height.
    for (const [key] of state.scan(ledgerKeys.holdExpiries)) state.delete(key);
    state.set(ledgerKeys.legacyHoldExpiry(10), JSON.stringify(['plain', 'arb', 'locked']));
    ok(ledger.voidHold(dave, 'arb'));
    events.length = 0;
    ledger.expireHolds(10);
    assert.equal(events.length, 0, 'nothing refunded at the expiry height itself');
    ledger.expireHolds(11);
    assert.deepEqual(
      events.map((e) => [e.type, e.data.id]),
      [
        ['hold.expired', 'plain'],
        ['hold.expired', 'locked'],
      ],
    );
    assert.deepEqual(state.scan(ledgerKeys.holdExpiries), []);
    assert.deepEqual(ledger.account(bob).holds, []);
    assert.deepEqual(auditLedger(state.scan).problems, []);
  });

  it('incrementNonce counts and touches nothing else', () => {
    const { ledger } = ledgerOver(new MapState());
    holdFixture(ledger);
    const before = ledger.account(bob);
    ledger.incrementNonce(bob);
    ledger.incrementNonce(bob);
    assert.deepEqual(ledger.account(bob), { ...before, nonce: 2 });
    assert.equal(ledger.nonce(carol), 0);
  });

  it('escrow addresses are valid, deterministic and distinct per module and id', () => {
    const a = escrowAddress('market', '1');
    assert.ok(isAddress(a));
    assert.equal(escrowAddress('market', '1'), a);
    assert.notEqual(escrowAddress('market', '2'), a);
    assert.notEqual(escrowAddress('other', '1'), a);
  });
});

describe('Ledger amount bounds, in every operation that takes an amount', () => {
  // 0, -1 and amountMax + 1 are invalid; amountMax itself is a valid amount, refused (if at
  // all) by a later rule. The operation runs on a ledger where bob holds 100 USD, 40 in a hold.
  const operations: [
    string,
    (ledger: Ledger, amount: bigint) => LedgerRejection | undefined,
    LedgerRejection | undefined,
  ][] = [
    ['mint', (ledger, amount) => ledger.mint(alice, 'USD', carol, amount), 'max_supply_exceeded'],
    ['burn', (ledger, amount) => ledger.burn(alice, 'USD', amount), 'insufficient_funds'],
    ['retire', (ledger, amount) => ledger.retire(bob, 'USD', amount), 'insufficient_funds'],
    [
      'transfer',
      (ledger, amount) => ledger.transfer(bob, carol, 'USD', amount),
      'insufficient_funds',
    ],
    [
      'createHold',
      (ledger, amount) =>
        ledger.createHold(
          { id: 'new', payer: bob, payee: carol, asset: 'USD', amount, expiresAtHeight: 10 },
          5,
        ),
      'insufficient_funds',
    ],
    [
      'postHold',
      (ledger, amount) => ledger.postHold(carol, 'plain', amount),
      'hold_amount_exceeded',
    ],
  ];
  for (const [name, run, atMax] of operations) {
    for (const [label, amount, expected] of [
      ['zero', 0n, 'invalid_amount'],
      ['negative', -1n, 'invalid_amount'],
      ['one past the maximum', amountMax + 1n, 'invalid_amount'],
      ['the maximum', amountMax, atMax],
    ] as const) {
      it(`${name} of ${label}: ${expected}`, () => {
        const state = new MapState();
        const ledger = new Ledger(state);
        ok(ledger.createAsset(alice, { symbol: 'USD', decimals: 2 }));
        ok(ledger.mint(alice, 'USD', bob, 100n));
        const hold = { payer: bob, payee: carol, asset: 'USD', expiresAtHeight: 10 };
        ok(ledger.createHold({ ...hold, id: 'plain', amount: 40n }, 5));
        const before = state.entries();
        assert.equal(run(ledger, amount), expected);
        assert.deepEqual(state.entries(), before);
      });
    }
  }
});

describe('Ledger events: each change emits one event with its whole payload', () => {
  it('asset.created, asset.minted, ledger.transferred, asset.burned, account.frozen and unfrozen', () => {
    const state = new MapState();
    const { ledger, events } = ledgerOver(state);
    ok(ledger.createAsset(alice, { symbol: 'USD', decimals: 2, maxSupply: 1000n }));
    ok(ledger.createAsset(bob, { symbol: 'EUR', decimals: 0 }));
    ok(ledger.mint(alice, 'USD', bob, 100n));
    ok(ledger.transfer(bob, carol, 'USD', 30n));
    ok(ledger.mint(alice, 'USD', alice, 20n));
    ok(ledger.burn(alice, 'USD', 5n));
    ok(ledger.setFrozen(alice, 'USD', dave, true));
    ok(ledger.setFrozen(bob, 'EUR', dave, true));
    ok(ledger.setFrozen(alice, 'USD', dave, false));
    assert.deepEqual(events, [
      {
        type: 'asset.created',
        data: { symbol: 'USD', decimals: 2, issuer: alice, supply: '0', maxSupply: '1000' },
      },
      { type: 'asset.created', data: { symbol: 'EUR', decimals: 0, issuer: bob, supply: '0' } },
      { type: 'asset.minted', data: { asset: 'USD', to: bob, amount: '100' } },
      { type: 'ledger.transferred', data: { from: bob, to: carol, asset: 'USD', amount: '30' } },
      { type: 'asset.minted', data: { asset: 'USD', to: alice, amount: '20' } },
      { type: 'asset.burned', data: { asset: 'USD', from: alice, amount: '5' } },
      { type: 'account.frozen', data: { address: dave, asset: 'USD' } },
      { type: 'account.frozen', data: { address: dave, asset: 'EUR' } },
      { type: 'account.unfrozen', data: { address: dave, asset: 'USD' } },
    ]);
    // The records as stored: no maxSupply unless one was given.
    assert.deepEqual(parsed<AssetRecord>(state, ledgerKeys.asset('EUR')), {
      symbol: 'EUR',
      decimals: 0,
      issuer: bob,
      supply: '0',
    });
    assert.deepEqual(ledger.asset('USD'), {
      symbol: 'USD',
      decimals: 2,
      issuer: alice,
      supply: '115',
      maxSupply: '1000',
    });
  });

  it('frozen assets are listed in symbol order, whatever the order of freezing', () => {
    const { ledger } = ledgerOver(new MapState());
    for (const symbol of ['USD', 'EUR', 'JPY']) {
      ok(ledger.createAsset(alice, { symbol, decimals: 2 }));
      ok(ledger.setFrozen(alice, symbol, dave, true));
    }
    assert.deepEqual(ledger.account(dave).frozen, ['EUR', 'JPY', 'USD']);
    ok(ledger.setFrozen(alice, 'JPY', dave, false));
    assert.deepEqual(ledger.account(dave).frozen, ['EUR', 'USD']);
  });

  it('hold.created, hold.voided, hold.posted in part and hold.expired', () => {
    const state = new MapState();
    const { ledger, events } = ledgerOver(state);
    ok(ledger.createAsset(alice, { symbol: 'USD', decimals: 2 }));
    ok(ledger.mint(alice, 'USD', bob, 100n));
    events.length = 0;
    const base = { payer: bob, payee: carol, asset: 'USD', expiresAtHeight: 10 };
    ok(ledger.createHold({ ...base, id: 'v', amount: 10n, arbiter: dave }, 5));
    ok(ledger.createHold({ ...base, id: 'p', amount: 20n }, 5));
    ok(ledger.createHold({ ...base, id: 'e', amount: 30n, condition }, 5));
    ok(ledger.voidHold(dave, 'v'));
    ok(ledger.postHold(carol, 'p', 15n));
    ledger.expireHolds(11);
    const parties = { payer: bob, payee: carol, asset: 'USD' };
    assert.deepEqual(events, [
      {
        type: 'hold.created',
        data: {
          id: 'v',
          ...parties,
          amount: '10',
          expiresAtHeight: 10,
          createdAtHeight: 5,
          arbiter: dave,
        },
      },
      {
        type: 'hold.created',
        data: { id: 'p', ...parties, amount: '20', expiresAtHeight: 10, createdAtHeight: 5 },
      },
      {
        type: 'hold.created',
        data: {
          id: 'e',
          ...parties,
          amount: '30',
          expiresAtHeight: 10,
          createdAtHeight: 5,
          condition,
        },
      },
      { type: 'hold.voided', data: { id: 'v', ...parties, paid: '0', returned: '10' } },
      { type: 'hold.posted', data: { id: 'p', ...parties, paid: '15', returned: '5' } },
      { type: 'hold.expired', data: { id: 'e', ...parties, paid: '0', returned: '30' } },
    ]);
    // Nothing paid to the payee writes nothing to its account: only the post created it.
    assert.equal(ledger.balance(carol, 'USD'), 15n);
    assert.equal(ledger.balance(bob, 'USD'), 85n);
    assert.deepEqual(ledger.account(bob).held, {});
    assert.deepEqual(ledger.account(bob).holds, []);
    assert.deepEqual(auditLedger(state.scan).problems, []);
  });

  it('a void pays nothing, so it writes no account record for the payee', () => {
    const state = new MapState();
    const { ledger } = ledgerOver(state);
    ok(ledger.createAsset(alice, { symbol: 'USD', decimals: 2 }));
    ok(ledger.mint(alice, 'USD', bob, 10n));
    ok(
      ledger.createHold(
        { id: 'v', payer: bob, payee: carol, asset: 'USD', amount: 10n, expiresAtHeight: 10 },
        5,
      ),
    );
    ok(ledger.voidHold(carol, 'v'));
    assert.equal(state.get(ledgerKeys.account(carol)), undefined);
  });

  it('escrow addresses are derived in the escrow/<module> namespace', () => {
    assert.equal(escrowAddress('market', '1'), deriveAddress('escrow/market', '1'));
  });
});

describe('invariant checks catch broken state', () => {
  it('auditLedger reports supply, negative and held mismatches', () => {
    const state = new MapState();
    const { ledger } = ledgerOver(state);
    holdFixture(ledger);
    assert.deepEqual(auditLedger(state.scan), { assets: 1, accounts: 1, holds: 3, problems: [] });

    const asset = parsed<AssetRecord>(state, ledgerKeys.asset('USD'))!;
    state.set(ledgerKeys.asset('USD'), JSON.stringify({ ...asset, supply: '99' }));
    assert.deepEqual(auditLedger(state.scan).problems, [
      'supply of USD is 99 but balances and holds sum to 100',
    ]);
    state.set(ledgerKeys.asset('USD'), JSON.stringify(asset));

    const account = parsed<AccountRecord>(state, ledgerKeys.account(bob))!;
    state.set(
      ledgerKeys.account(bob),
      JSON.stringify({ ...account, balances: { USD: '-1' }, held: { USD: '101' } }),
    );
    assert.deepEqual(auditLedger(state.scan).problems, [
      `negative balance ${bob} USD`,
      `held amount differs from open holds: ${bob} USD`,
    ]);
    state.set(ledgerKeys.account(bob), JSON.stringify(account));

    const hold = parsed<HoldRecord>(state, ledgerKeys.hold('plain'))!;
    state.set(ledgerKeys.hold('plain'), JSON.stringify({ ...hold, amount: '39' }));
    assert.deepEqual(auditLedger(state.scan).problems, [
      `held amount differs from open holds: ${bob} USD`,
    ]);
  });

  it('conservationViolations names the asset whose supply and balances moved apart', () => {
    const base = new MapState();
    holdFixture(new Ledger(base));
    const view = new StateView(base);
    const ledger = new Ledger(view);
    ok(ledger.transfer(bob, carol, 'USD', 5n));
    const check = () =>
      conservationViolations(
        view.writtenKeys(),
        (key) => base.get(key),
        (key) => view.get(key),
      );
    assert.deepEqual(check(), []);
    const account = JSON.parse(view.get(ledgerKeys.account(carol))!) as AccountRecord;
    view.set(ledgerKeys.account(carol), JSON.stringify({ ...account, balances: { USD: '6' } }));
    assert.deepEqual(check(), ['USD']);
  });
});

// ---- the ledger against a reference model ---------------------------------------------------

const accounts = [alice, bob, carol, dave];
const symbols = ['USD', 'EUR', 'JPY'];
const holdIds = ['h1', 'h2', 'h3', 'h4'];
const preimages = ['aa', 'bbcc'];

interface ModelAsset {
  issuer: string;
  decimals: number;
  supply: bigint;
  maxSupply?: bigint;
}

interface ModelHold {
  id: string;
  payer: string;
  payee: string;
  asset: string;
  amount: bigint;
  expiresAtHeight: number;
  createdAtHeight: number;
  arbiter?: string;
  condition?: string;
}

/**
 * The ledger's rules restated over plain maps, from the documentation (docs/architecture.md and the
 * rejection messages), without the ledger's record encoding.
 */
class ReferenceLedger {
  readonly assets = new Map<string, ModelAsset>();
  readonly balances = new Map<string, bigint>();
  readonly frozen = new Set<string>();
  /** Open holds, in the order they were created. */
  readonly holds = new Map<string, ModelHold>();

  balance(address: string, symbol: string): bigint {
    return this.balances.get(`${address} ${symbol}`) ?? 0n;
  }
  private credit(address: string, symbol: string, amount: bigint): void {
    this.balances.set(`${address} ${symbol}`, this.balance(address, symbol) + amount);
  }
  isFrozen(address: string, symbol: string): boolean {
    return this.frozen.has(`${address} ${symbol}`);
  }
  private static badAmount(amount: bigint): boolean {
    return amount < 1n || amount > amountMax;
  }

  createAsset(
    issuer: string,
    symbol: string,
    decimals: number,
    maxSupply?: bigint,
  ): LedgerRejection | undefined {
    if (!/^[A-Z][A-Z0-9]{1,11}$/.test(symbol)) return 'invalid_symbol';
    if (!Number.isInteger(decimals) || decimals < 0 || decimals > 18) return 'invalid_decimals';
    if (maxSupply !== undefined && ReferenceLedger.badAmount(maxSupply))
      return 'invalid_max_supply';
    if (this.assets.has(symbol)) return 'asset_exists';
    this.assets.set(symbol, {
      issuer,
      decimals,
      supply: 0n,
      ...(maxSupply === undefined ? {} : { maxSupply }),
    });
    return undefined;
  }

  mint(issuer: string, symbol: string, to: string, amount: bigint): LedgerRejection | undefined {
    if (ReferenceLedger.badAmount(amount)) return 'invalid_amount';
    if (!isAddress(to)) return 'invalid_address';
    const asset = this.assets.get(symbol);
    if (!asset) return 'asset_not_found';
    if (asset.issuer !== issuer) return 'not_issuer';
    if (asset.supply + amount > (asset.maxSupply ?? amountMax)) return 'max_supply_exceeded';
    if (this.isFrozen(to, symbol)) return 'account_frozen';
    asset.supply += amount;
    this.credit(to, symbol, amount);
    return undefined;
  }

  burn(issuer: string, symbol: string, amount: bigint): LedgerRejection | undefined {
    if (ReferenceLedger.badAmount(amount)) return 'invalid_amount';
    const asset = this.assets.get(symbol);
    if (!asset) return 'asset_not_found';
    if (asset.issuer !== issuer) return 'not_issuer';
    if (this.balance(issuer, symbol) < amount) return 'insufficient_funds';
    asset.supply -= amount;
    this.credit(issuer, symbol, -amount);
    return undefined;
  }

  transfer(from: string, to: string, symbol: string, amount: bigint): LedgerRejection | undefined {
    if (ReferenceLedger.badAmount(amount)) return 'invalid_amount';
    if (!isAddress(to)) return 'invalid_address';
    if (from === to) return 'accounts_must_be_different';
    if (!this.assets.has(symbol)) return 'asset_not_found';
    if (this.isFrozen(from, symbol) || this.isFrozen(to, symbol)) return 'account_frozen';
    if (this.balance(from, symbol) < amount) return 'insufficient_funds';
    this.credit(from, symbol, -amount);
    this.credit(to, symbol, amount);
    return undefined;
  }

  setFrozen(
    issuer: string,
    symbol: string,
    address: string,
    frozen: boolean,
  ): LedgerRejection | undefined {
    if (!isAddress(address)) return 'invalid_address';
    const asset = this.assets.get(symbol);
    if (!asset) return 'asset_not_found';
    if (asset.issuer !== issuer) return 'not_issuer';
    if (frozen) this.frozen.add(`${address} ${symbol}`);
    else this.frozen.delete(`${address} ${symbol}`);
    return undefined;
  }

  createHold(
    hold: Omit<ModelHold, 'createdAtHeight'>,
    height: number,
  ): LedgerRejection | undefined {
    if (ReferenceLedger.badAmount(hold.amount)) return 'invalid_amount';
    if (!isAddress(hold.payee)) return 'invalid_address';
    if (hold.arbiter !== undefined && !isAddress(hold.arbiter)) return 'invalid_address';
    if (hold.payer === hold.payee) return 'accounts_must_be_different';
    if (hold.condition !== undefined && !/^[0-9a-f]{64}$/.test(hold.condition))
      return 'invalid_condition';
    const e = hold.expiresAtHeight;
    if (!Number.isSafeInteger(e) || e <= height || e > height + holdDurationBlocksMax)
      return 'invalid_hold_expiry';
    if (!this.assets.has(hold.asset)) return 'asset_not_found';
    if (this.holds.has(hold.id)) return 'hold_exists';
    if (this.isFrozen(hold.payer, hold.asset) || this.isFrozen(hold.payee, hold.asset))
      return 'account_frozen';
    if (
      [...this.holds.values()].filter((h) => h.payer === hold.payer).length >= holdsPerAccountMax
    ) {
      return 'too_many_holds';
    }
    if (this.balance(hold.payer, hold.asset) < hold.amount) return 'insufficient_funds';
    this.credit(hold.payer, hold.asset, -hold.amount);
    this.holds.set(hold.id, { ...hold, createdAtHeight: height });
    return undefined;
  }

  private close(hold: ModelHold, paid: bigint): void {
    this.credit(hold.payee, hold.asset, paid);
    this.credit(hold.payer, hold.asset, hold.amount - paid);
    this.holds.delete(hold.id);
  }

  postHold(actor: string, id: string, amount: bigint | undefined): LedgerRejection | undefined {
    if (amount !== undefined && ReferenceLedger.badAmount(amount)) return 'invalid_amount';
    const hold = this.holds.get(id);
    if (!hold) return 'hold_not_found';
    if (hold.condition !== undefined) return 'hold_hash_locked';
    if (actor !== (hold.arbiter ?? hold.payee)) return 'hold_forbidden';
    if (amount !== undefined && amount > hold.amount) return 'hold_amount_exceeded';
    if (this.isFrozen(hold.payee, hold.asset)) return 'account_frozen';
    this.close(hold, amount ?? hold.amount);
    return undefined;
  }

  captureHold(actor: string, id: string, amount: bigint): LedgerRejection | undefined {
    if (ReferenceLedger.badAmount(amount)) return 'invalid_amount';
    const hold = this.holds.get(id);
    if (!hold) return 'hold_not_found';
    if (hold.condition !== undefined) return 'hold_hash_locked';
    if (actor !== (hold.arbiter ?? hold.payee)) return 'hold_forbidden';
    if (amount > hold.amount) return 'hold_amount_exceeded';
    if (this.isFrozen(hold.payee, hold.asset)) return 'account_frozen';
    this.credit(hold.payee, hold.asset, amount);
    hold.amount -= amount;
    if (hold.amount === 0n) this.holds.delete(hold.id);
    return undefined;
  }

  voidHold(actor: string, id: string): LedgerRejection | undefined {
    const hold = this.holds.get(id);
    if (!hold) return 'hold_not_found';
    if (hold.condition !== undefined) return 'hold_hash_locked';
    if (actor !== hold.payee && actor !== hold.arbiter) return 'hold_forbidden';
    this.close(hold, 0n);
    return undefined;
  }

  releaseHold(id: string, preimageHex: string): LedgerRejection | undefined {
    const hold = this.holds.get(id);
    if (!hold) return 'hold_not_found';
    if (hold.condition === undefined) return 'hold_not_hash_locked';
    if (!/^([0-9a-f]{2})+$/.test(preimageHex)) return 'preimage_mismatch';
    if (sha256Hex(Buffer.from(preimageHex, 'hex')) !== hold.condition) return 'preimage_mismatch';
    if (this.isFrozen(hold.payee, hold.asset)) return 'account_frozen';
    this.close(hold, hold.amount);
    return undefined;
  }

  /** At the start of block `height`, every hold whose expiry height has passed goes back. */
  expireHolds(height: number): string[] {
    const expired = [...this.holds.values()].filter((h) => h.expiresAtHeight < height);
    for (const hold of expired) this.close(hold, 0n);
    return expired.map((h) => h.id);
  }
}

type Command =
  | {
      op: 'createAsset';
      issuer: number;
      symbol: string;
      decimals: number;
      maxSupply: bigint | undefined;
    }
  | { op: 'mint'; issuer: number; symbol: string; to: number; amount: bigint }
  | { op: 'burn'; issuer: number; symbol: string; amount: bigint }
  | { op: 'transfer'; from: number; to: number; symbol: string; amount: bigint }
  | {
      op: 'createHold';
      id: string;
      payer: number;
      payee: number;
      symbol: string;
      amount: bigint;
      expiryOffset: number;
      arbiter: number | undefined;
      condition: string | undefined;
    }
  | { op: 'postHold'; actor: number; id: string; amount: bigint | undefined }
  | { op: 'captureHold'; actor: number; id: string; amount: bigint }
  | { op: 'voidHold'; actor: number; id: string }
  | { op: 'releaseHold'; id: string; preimage: string }
  | { op: 'setFrozen'; issuer: number; symbol: string; address: number; frozen: boolean }
  | { op: 'nextBlock' };

/** Index into `accounts`; the index past the end stands for a malformed address (rarely). */
const actor = fc.integer({ min: 0, max: accounts.length - 1 });
const party = fc.oneof(
  { weight: 15, arbitrary: actor },
  { weight: 1, arbitrary: fc.constant(accounts.length) },
);
const addressAt = (index: number): string => accounts[index] ?? notAnAddress;
const symbol = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('USD', 'EUR') },
  { weight: 1, arbitrary: fc.constantFrom('JPY', 'usd') },
);
const amount = fc.oneof(
  { weight: 15, arbitrary: fc.bigInt({ min: 1n, max: 250n }) },
  { weight: 1, arbitrary: fc.constantFrom(0n, -1n, amountMax, amountMax + 1n) },
);
const holdId = fc.constantFrom(...holdIds);
const conditions = preimages.map((p) => sha256Hex(Buffer.from(p, 'hex')));

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('createAsset' as const),
      issuer: actor,
      symbol: fc.constantFrom(...symbols, 'usd'),
      decimals: fc.constantFrom(0, 2, 18, 19, -1, 1.5),
      maxSupply: fc.option(fc.constantFrom(0n, 400n, 5000n, amountMax, amountMax + 1n), {
        nil: undefined,
      }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('mint' as const),
      issuer: actor,
      symbol,
      to: party,
      amount,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('burn' as const), issuer: actor, symbol, amount }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('transfer' as const),
      from: actor,
      to: party,
      symbol,
      amount,
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('createHold' as const),
      id: holdId,
      payer: actor,
      payee: party,
      symbol,
      amount,
      expiryOffset: fc.oneof(
        { weight: 8, arbitrary: fc.integer({ min: 1, max: 4 }) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(-1, 0, holdDurationBlocksMax, holdDurationBlocksMax + 1),
        },
      ),
      arbiter: fc.option(party, { nil: undefined, freq: 2 }),
      condition: fc.option(fc.constantFrom(...conditions, ...conditions, 'not-hex'), {
        nil: undefined,
        freq: 2,
      }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('postHold' as const),
      actor,
      id: holdId,
      amount: fc.option(amount, { nil: undefined }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant('captureHold' as const), actor, id: holdId, amount }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('voidHold' as const), actor, id: holdId }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('releaseHold' as const),
      id: holdId,
      preimage: fc.constantFrom(...preimages, ...preimages, 'dd', 'abc'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('setFrozen' as const),
      issuer: actor,
      symbol,
      address: party,
      frozen: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ op: 'nextBlock' as const }) },
);

/** A few steps every run starts with, so that most random commands meet an asset with balances. */
const prelude: Command[] = [
  { op: 'createAsset', issuer: 0, symbol: 'USD', decimals: 2, maxSupply: undefined },
  { op: 'createAsset', issuer: 1, symbol: 'EUR', decimals: 2, maxSupply: 1000n },
  { op: 'mint', issuer: 0, symbol: 'USD', to: 0, amount: 300n },
  { op: 'mint', issuer: 0, symbol: 'USD', to: 1, amount: 500n },
  { op: 'mint', issuer: 0, symbol: 'USD', to: 2, amount: 500n },
  { op: 'mint', issuer: 0, symbol: 'USD', to: 3, amount: 500n },
  { op: 'mint', issuer: 1, symbol: 'EUR', to: 2, amount: 300n },
  { op: 'mint', issuer: 1, symbol: 'EUR', to: 3, amount: 500n },
];

/** A chain-like harness: a StateView per block over committed state kept in a plain Map. */
class Harness {
  readonly committed = new Map<string, string>();
  view = this.newView();
  events: Recorded[] = [];
  ledger = this.newLedger();
  height = 1;

  private newView(): StateView {
    return new StateView({
      get: (key) => this.committed.get(key),
      range: (prefix, limit, bounds) => rangeOf(this.committed, prefix, limit, bounds ?? {}),
    });
  }

  private newLedger(): Ledger {
    return new Ledger(this.view, (type, data) => this.events.push({ type, data }));
  }

  /** Commits this block's writes and starts the next block with its expiries. */
  nextBlock(): void {
    for (const [key, value] of this.view.writes()) {
      if (value === null) this.committed.delete(key);
      else this.committed.set(key, value);
    }
    this.view = this.newView();
    this.ledger = this.newLedger();
    this.height += 1;
    this.ledger.expireHolds(this.height);
  }

  /** Every key the state holds now, with its value, sorted by key. */
  contents(): [string, string][] {
    const keys = new Set([...this.committed.keys(), ...this.view.writtenKeys()]);
    const entries: [string, string][] = [];
    for (const key of [...keys].sort()) {
      const value = this.view.get(key);
      if (value !== undefined) entries.push([key, value]);
    }
    return entries;
  }
}

/** Applies one command to both; returns the rejection (both must agree on it). */
function apply(harness: Harness, model: ReferenceLedger, c: Command): LedgerRejection | undefined {
  const { ledger, height } = harness;
  let actual: LedgerRejection | undefined;
  let expected: LedgerRejection | undefined;
  let eventType: string;
  switch (c.op) {
    case 'nextBlock': {
      harness.events = [];
      harness.nextBlock();
      const expired = model.expireHolds(harness.height);
      assert.deepEqual(
        harness.events.map((e) => [e.type, e.data.id]).sort(),
        expired.map((id) => ['hold.expired', id]).sort(),
      );
      return undefined;
    }
    case 'createAsset': {
      const spec = {
        symbol: c.symbol,
        decimals: c.decimals,
        ...(c.maxSupply === undefined ? {} : { maxSupply: c.maxSupply }),
      };
      actual = ledger.createAsset(addressAt(c.issuer), spec);
      expected = model.createAsset(addressAt(c.issuer), c.symbol, c.decimals, c.maxSupply);
      eventType = 'asset.created';
      break;
    }
    case 'mint':
      actual = ledger.mint(addressAt(c.issuer), c.symbol, addressAt(c.to), c.amount);
      expected = model.mint(addressAt(c.issuer), c.symbol, addressAt(c.to), c.amount);
      eventType = 'asset.minted';
      break;
    case 'burn':
      actual = ledger.burn(addressAt(c.issuer), c.symbol, c.amount);
      expected = model.burn(addressAt(c.issuer), c.symbol, c.amount);
      eventType = 'asset.burned';
      break;
    case 'transfer':
      actual = ledger.transfer(addressAt(c.from), addressAt(c.to), c.symbol, c.amount);
      expected = model.transfer(addressAt(c.from), addressAt(c.to), c.symbol, c.amount);
      eventType = 'ledger.transferred';
      break;
    case 'createHold': {
      const spec = {
        id: c.id,
        payer: addressAt(c.payer),
        payee: addressAt(c.payee),
        asset: c.symbol,
        amount: c.amount,
        expiresAtHeight: height + c.expiryOffset,
        ...(c.arbiter === undefined ? {} : { arbiter: addressAt(c.arbiter) }),
        ...(c.condition === undefined ? {} : { condition: c.condition }),
      };
      actual = ledger.createHold(spec, height);
      expected = model.createHold(spec, height);
      eventType = 'hold.created';
      break;
    }
    case 'postHold':
      actual = ledger.postHold(addressAt(c.actor), c.id, c.amount);
      expected = model.postHold(addressAt(c.actor), c.id, c.amount);
      eventType = 'hold.posted';
      break;
    case 'captureHold':
      actual = ledger.captureHold(addressAt(c.actor), c.id, c.amount);
      expected = model.captureHold(addressAt(c.actor), c.id, c.amount);
      eventType = 'hold.captured';
      break;
    case 'voidHold':
      actual = ledger.voidHold(addressAt(c.actor), c.id);
      expected = model.voidHold(addressAt(c.actor), c.id);
      eventType = 'hold.voided';
      break;
    case 'releaseHold':
      actual = ledger.releaseHold(c.id, c.preimage);
      expected = model.releaseHold(c.id, c.preimage);
      eventType = 'hold.released';
      break;
    case 'setFrozen': {
      const wasFrozen = model.isFrozen(addressAt(c.address), c.symbol);
      actual = ledger.setFrozen(addressAt(c.issuer), c.symbol, addressAt(c.address), c.frozen);
      expected = model.setFrozen(addressAt(c.issuer), c.symbol, addressAt(c.address), c.frozen);
      eventType = wasFrozen === c.frozen ? '' : c.frozen ? 'account.frozen' : 'account.unfrozen';
      break;
    }
  }
  assert.equal(actual, expected, `${c.op}: ledger said ${actual}, model said ${expected}`);
  assert.deepEqual(
    harness.events.map((e) => e.type),
    actual !== undefined || eventType === '' ? [] : [eventType],
  );
  return actual;
}

function assertMatches(harness: Harness, model: ReferenceLedger): void {
  const contents = harness.contents();
  const scan = (prefix: string) => contents.filter(([key]) => key.startsWith(prefix));
  assert.deepEqual(auditLedger(scan).problems, []);
  const { ledger } = harness;

  for (const [symbol, asset] of model.assets) {
    const expected: AssetRecord = {
      symbol,
      decimals: asset.decimals,
      issuer: asset.issuer,
      supply: asset.supply.toString(),
    };
    if (asset.maxSupply !== undefined) expected.maxSupply = asset.maxSupply.toString();
    assert.deepEqual(ledger.asset(symbol), expected);
  }
  assert.equal(scan('ledger/asset/').length, model.assets.size);

  for (const address of accounts) {
    const account = ledger.account(address);
    assert.equal(account.nonce, 0);
    const open = [...model.holds.values()].filter((h) => h.payer === address);
    assert.deepEqual(
      account.holds,
      open.map((h) => h.id),
    );
    assert.deepEqual(account.frozen, symbols.filter((s) => model.isFrozen(address, s)).sort());
    for (const symbol of symbols) {
      const balance = ledger.balance(address, symbol);
      assert.ok(balance >= 0n, `negative balance ${address} ${symbol}`);
      assert.equal(balance, model.balance(address, symbol), `balance of ${address} in ${symbol}`);
      const held = open.filter((h) => h.asset === symbol).reduce((sum, h) => sum + h.amount, 0n);
      assert.equal(BigInt(account.held[symbol] ?? '0'), held);
      assert.notEqual(account.balances[symbol], '0', 'zero balances are not stored');
    }
  }

  for (const id of holdIds) {
    const hold = model.holds.get(id);
    if (!hold) {
      assert.equal(ledger.hold(id), undefined);
      continue;
    }
    const expected: HoldRecord = {
      id,
      payer: hold.payer,
      payee: hold.payee,
      asset: hold.asset,
      amount: hold.amount.toString(),
      expiresAtHeight: hold.expiresAtHeight,
      createdAtHeight: hold.createdAtHeight,
    };
    if (hold.arbiter !== undefined) expected.arbiter = hold.arbiter;
    if (hold.condition !== undefined) expected.condition = hold.condition;
    assert.deepEqual(ledger.hold(id), expected);
  }

  // The expiry index holds one key per open hold, by expiry height.
  const index = [...model.holds.values()]
    .map((hold) => ledgerKeys.holdExpiry(hold.expiresAtHeight, hold.id))
    .sort();
  assert.deepEqual(
    scan(ledgerKeys.holdExpiries).map(([key]) => key),
    index,
  );
}

describe('Ledger against a reference model (property)', () => {
  it('agrees with the model after every step, keeps supply conserved and rejects without a trace', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 10, maxLength: 80, size: 'max' }), (commands) => {
        const harness = new Harness();
        const model = new ReferenceLedger();
        for (const c of [...prelude, ...commands]) {
          const before = harness.contents();
          harness.events = [];
          const rejection = apply(harness, model, c);
          if (rejection !== undefined)
            assert.deepEqual(harness.contents(), before, `${rejection} changed state`);
          assertMatches(harness, model);
        }
      }),
      { numRuns: 200 },
    );
  });
});
