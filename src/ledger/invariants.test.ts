import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { canonicalize } from '../crypto/index.js';
import { auditLedger, conservationViolations } from './invariants.js';
import { ledgerKeys, type AccountRecord, type AssetRecord, type HoldRecord } from './records.js';

// Records written by hand, so that each test breaks exactly one thing. Addresses need not be
// valid: the checks read records, not signatures.

function accountText(balances: Record<string, string>, held: Record<string, string> = {}): string {
  const record: AccountRecord = { nonce: 0, balances, held, frozen: [], holds: [] };
  return canonicalize(record);
}

function assetText(symbol: string, supply: string): string {
  const record: AssetRecord = { symbol, decimals: 2, issuer: 'issuer', supply };
  return canonicalize(record);
}

function holdText(id: string, payer: string, asset: string, amount: string): string {
  const record: HoldRecord = {
    id,
    payer,
    payee: 'payee',
    asset,
    amount,
    expiresAtHeight: 10,
    createdAtHeight: 1,
  };
  return canonicalize(record);
}

type Entries = Record<string, string>;

/** conservationViolations over the keys that differ between `before` and `after`. */
function violations(before: Entries, after: Entries, written?: string[]): string[] {
  const keys = written ?? [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return conservationViolations(
    keys,
    (key) => before[key],
    (key) => after[key],
  );
}

const usd = ledgerKeys.asset('USD');
const eur = ledgerKeys.asset('EUR');
const a = ledgerKeys.account('a');
const b = ledgerKeys.account('b');

describe('conservationViolations', () => {
  /** a has 100 USD and 50 EUR, b nothing; supplies match. */
  const start: Entries = {
    [usd]: assetText('USD', '100'),
    [eur]: assetText('EUR', '50'),
    [a]: accountText({ USD: '100', EUR: '50' }),
  };

  it('a sound transfer breaks nothing', () => {
    const after = {
      ...start,
      [a]: accountText({ USD: '60', EUR: '50' }),
      [b]: accountText({ USD: '40' }),
    };
    assert.deepEqual(violations(start, after, [a, b]), []);
  });

  it('flags money created: a balance raised with no mint', () => {
    const after = { ...start, [a]: accountText({ USD: '101', EUR: '50' }) };
    assert.deepEqual(violations(start, after, [a]), ['USD']);
  });

  it('flags money destroyed: a balance lowered with no burn', () => {
    const after = { ...start, [a]: accountText({ USD: '99', EUR: '50' }) };
    assert.deepEqual(violations(start, after, [a]), ['USD']);
  });

  it('flags money destroyed: a transfer that credits less than it debits', () => {
    const after = {
      ...start,
      [a]: accountText({ USD: '60', EUR: '50' }),
      [b]: accountText({ USD: '39' }),
    };
    assert.deepEqual(violations(start, after, [a, b]), ['USD']);
  });

  it('a mint (supply and balance up alike) and a burn (both down) break nothing', () => {
    const minted = { ...start, [usd]: assetText('USD', '130'), [b]: accountText({ USD: '30' }) };
    assert.deepEqual(violations(start, minted, [usd, b]), []);
    const burned = {
      ...start,
      [usd]: assetText('USD', '90'),
      [a]: accountText({ USD: '90', EUR: '50' }),
    };
    assert.deepEqual(violations(start, burned, [usd, a]), []);
  });

  it('flags supply changed without balances, up or down', () => {
    assert.deepEqual(violations(start, { ...start, [usd]: assetText('USD', '101') }, [usd]), [
      'USD',
    ]);
    assert.deepEqual(violations(start, { ...start, [usd]: assetText('USD', '99') }, [usd]), [
      'USD',
    ]);
  });

  it('flags a mint that credits more, or less, than the supply grew', () => {
    const more = { ...start, [usd]: assetText('USD', '130'), [b]: accountText({ USD: '31' }) };
    assert.deepEqual(violations(start, more, [usd, b]), ['USD']);
    const less = { ...start, [usd]: assetText('USD', '130'), [b]: accountText({ USD: '29' }) };
    assert.deepEqual(violations(start, less, [usd, b]), ['USD']);
  });

  it('counts held amounts: moving a balance into a hold breaks nothing, losing it does', () => {
    const held = { ...start, [a]: accountText({ USD: '70', EUR: '50' }, { USD: '30' }) };
    assert.deepEqual(violations(start, held, [a]), []);
    const lost = { ...start, [a]: accountText({ USD: '70', EUR: '50' }, { USD: '29' }) };
    assert.deepEqual(violations(start, lost, [a]), ['USD']);
    // Released from the hold to b: held down, b's balance up by the same.
    const released = {
      ...held,
      [a]: accountText({ USD: '70', EUR: '50' }),
      [b]: accountText({ USD: '30' }),
    };
    assert.deepEqual(violations(held, released, [a, b]), []);
  });

  it('a new asset with a first mint, and a new account, are counted from zero', () => {
    const before: Entries = {};
    const after = { [usd]: assetText('USD', '5'), [a]: accountText({ USD: '5' }) };
    assert.deepEqual(violations(before, after), []);
    const created = { [usd]: assetText('USD', '5'), [a]: accountText({ USD: '6' }) };
    assert.deepEqual(violations(before, created), ['USD']);
  });

  it('a deleted account or asset counts as zero after', () => {
    // a's 100 USD vanish with its record: money destroyed.
    const { [a]: _gone, ...withoutA } = start;
    assert.deepEqual(violations(start, withoutA, [a]), ['EUR', 'USD']);
    // The asset record gone with its whole supply, and every balance gone too: nothing broken.
    const empty: Entries = { [eur]: start[eur]! };
    const beforeUsdOnly: Entries = {
      [usd]: assetText('USD', '100'),
      [a]: accountText({ USD: '100' }),
    };
    assert.deepEqual(violations({ ...beforeUsdOnly, ...empty }, empty, [usd, a]), []);
  });

  it('flags balances of an asset whose supply never moved (an unknown asset)', () => {
    const after = { ...start, [b]: accountText({ GHOST: '7' }) };
    assert.deepEqual(violations(start, after, [b]), ['GHOST']);
  });

  it('lists every broken asset once, sorted', () => {
    const after = {
      ...start,
      [a]: accountText({ USD: '101', EUR: '49' }),
      [b]: accountText({ ZED: '1', EUR: '2', AAA: '3' }),
    };
    assert.deepEqual(violations(start, after, [b, a]), ['AAA', 'EUR', 'USD', 'ZED']);
  });

  it('reads only the written keys, and only account and asset records', () => {
    // A change to a key not in the written set is not seen.
    const after = { ...start, [a]: accountText({ USD: '101', EUR: '50' }) };
    assert.deepEqual(violations(start, after, []), []);
    // Hold records and other keys are not balances (the held amount is on the account).
    const hold = ledgerKeys.hold('h');
    const other = 'other/ledger/account/x';
    const withHold = { ...start, [hold]: holdText('h', 'a', 'USD', '30'), [other]: 'not json' };
    assert.deepEqual(violations(start, withHold, [hold, other]), []);
  });

  it('a random sequence of sound transfers, mints and burns never violates; any single unit off always does', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            kind: fc.constantFrom('transfer', 'mint', 'burn'),
            from: fc.constantFrom('a', 'b', 'c'),
            to: fc.constantFrom('a', 'b', 'c'),
            amount: fc.bigInt({ min: 1n, max: 1000n }),
          }),
          { maxLength: 20 },
        ),
        fc.constantFrom('a', 'b', 'c'),
        fc.constantFrom(-1n, 1n),
        (ops, victim, off) => {
          const balances = new Map<string, bigint>([['a', 10_000n]]);
          let supply = 10_000n;
          const record = (): Entries => {
            const entries: Entries = { [usd]: assetText('USD', supply.toString()) };
            for (const [who, amount] of balances)
              entries[ledgerKeys.account(who)] = accountText({ USD: amount.toString() });
            return entries;
          };
          const before = record();
          for (const op of ops) {
            const from = balances.get(op.from) ?? 0n;
            if (op.kind === 'mint') {
              balances.set(op.to, (balances.get(op.to) ?? 0n) + op.amount);
              supply += op.amount;
            } else if (from >= op.amount && op.kind === 'burn') {
              balances.set(op.from, from - op.amount);
              supply -= op.amount;
            } else if (from >= op.amount && op.from !== op.to) {
              balances.set(op.from, from - op.amount);
              balances.set(op.to, (balances.get(op.to) ?? 0n) + op.amount);
            }
          }
          assert.deepEqual(violations(before, record()), []);
          balances.set(victim, (balances.get(victim) ?? 0n) + off);
          assert.deepEqual(violations(before, record()), ['USD']);
        },
      ),
    );
  });
});

/** A scan over a plain object of entries, in key order, as the stores give it. */
function scanOf(entries: Entries): (prefix: string) => [string, string][] {
  return (prefix) =>
    Object.entries(entries)
      .filter(([key]) => key.startsWith(prefix))
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
}

describe('auditLedger', () => {
  /** USD supply 100: a holds 60 and has 30 in two open holds to b (10 and 20), b holds 10. */
  const sound: Entries = {
    [usd]: assetText('USD', '100'),
    [a]: accountText({ USD: '60' }, { USD: '30' }),
    [b]: accountText({ USD: '10' }),
    [ledgerKeys.hold('h1')]: holdText('h1', 'a', 'USD', '10'),
    [ledgerKeys.hold('h2')]: holdText('h2', 'a', 'USD', '20'),
    // Keys outside the scanned prefixes are not records of the audit.
    [ledgerKeys.holdExpiry(10, 'h1')]: 'true',
  };

  it('counts assets, accounts and holds of a sound ledger and finds no problem', () => {
    assert.deepEqual(auditLedger(scanOf(sound)), {
      assets: 1,
      accounts: 2,
      holds: 2,
      problems: [],
    });
  });

  it('an empty ledger is sound, and an asset with no holders and no supply is sound', () => {
    assert.deepEqual(auditLedger(scanOf({})), { assets: 0, accounts: 0, holds: 0, problems: [] });
    assert.deepEqual(auditLedger(scanOf({ [eur]: assetText('EUR', '0') })).problems, []);
  });

  it('a zero balance or zero held amount is not negative', () => {
    const zeros = {
      ...sound,
      [b]: accountText({ USD: '10', EUR: '0' }, { EUR: '0' }),
      [eur]: assetText('EUR', '0'),
    };
    assert.deepEqual(auditLedger(scanOf(zeros)).problems, []);
  });

  it('reports a supply that differs from balances and holds, above or below', () => {
    assert.deepEqual(auditLedger(scanOf({ ...sound, [usd]: assetText('USD', '99') })).problems, [
      'supply of USD is 99 but balances and holds sum to 100',
    ]);
    assert.deepEqual(auditLedger(scanOf({ ...sound, [usd]: assetText('USD', '101') })).problems, [
      'supply of USD is 101 but balances and holds sum to 100',
    ]);
  });

  it('reports the supply of an asset nobody holds', () => {
    assert.deepEqual(auditLedger(scanOf({ ...sound, [eur]: assetText('EUR', '5') })).problems, [
      'supply of EUR is 5 but balances and holds sum to 0',
    ]);
  });

  it('reports a negative balance and a negative held amount', () => {
    const broken = {
      ...sound,
      [b]: accountText({ USD: '-1', EUR: '-2' }, { EUR: '-3' }),
      [eur]: assetText('EUR', '-5'),
      [usd]: assetText('USD', '89'),
    };
    assert.deepEqual(auditLedger(scanOf(broken)).problems, [
      // Records are canonical JSON: an account's assets are read in symbol order.
      'negative balance b EUR',
      'negative balance b USD',
      'negative held b EUR',
      'held amount differs from open holds: b EUR',
    ]);
  });

  it('reports a held amount without its open holds, and open holds without the held amount', () => {
    const noHolds = { ...sound };
    delete noHolds[ledgerKeys.hold('h2')];
    assert.deepEqual(auditLedger(scanOf(noHolds)).problems, [
      'held amount differs from open holds: a USD',
    ]);
    const notHeld = {
      ...sound,
      [a]: accountText({ USD: '90' }),
    };
    assert.deepEqual(auditLedger(scanOf(notHeld)).problems, [
      'held amount differs from open holds: a USD',
    ]);
    // A hold of another payer does not count towards a's held amount.
    const otherPayer = { ...sound, [ledgerKeys.hold('h2')]: holdText('h2', 'b', 'USD', '20') };
    assert.deepEqual(auditLedger(scanOf(otherPayer)).problems, [
      'held amount differs from open holds: a USD',
      'held amount differs from open holds: b USD',
    ]);
  });

  it('reports balances of an unknown asset, held or spendable', () => {
    assert.deepEqual(
      auditLedger(scanOf({ ...sound, [b]: accountText({ USD: '10', GHOST: '7' }) })).problems,
      ['balances of unknown asset GHOST'],
    );
    const heldGhost = {
      ...sound,
      [b]: accountText({ USD: '10' }, { GHOST: '7' }),
      [ledgerKeys.hold('g')]: holdText('g', 'b', 'GHOST', '7'),
    };
    assert.deepEqual(auditLedger(scanOf(heldGhost)).problems, ['balances of unknown asset GHOST']);
  });
});
