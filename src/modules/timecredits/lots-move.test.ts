import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { moveMinutes, receive } from './lots.js';
import {
  bank,
  bankId,
  emptyState,
  lot,
  member,
  onePercentDaily,
  stored,
  t0,
  written,
} from './lots-fixture.js';
import {
  dayMs,
  lotsPerMemberMax,
  readLot,
  timecreditsKeys,
  writeMember,
  type LotRecord,
} from './state.js';

/*
 * lots.ts: receiving lots (debt repaid first, earliest-expiring minutes first; merged into a lot
 * of the same terms; the lot limit at the bound and one past) and moving minutes between members
 * (the credit limit at the bound and one past, lots moved whole or split, the rest on credit).
 */

const expiring = (
  number: number,
  amount: number,
  expiresAt: number,
  fields: Partial<LotRecord> = {},
) => lot(number, amount, { expiresAt, noticeAt: expiresAt - 5, ...fields });

describe('receive', () => {
  it('adds a fresh lot: written, indexed, owned, listed in spending order, balance counted', () => {
    const state = emptyState();
    const [held] = stored(state, expiring(1, 40, t0 + 300, { owner: 'ben' }));
    const theBank = bank();
    const ben = member('ben', [held!]);
    const fresh = expiring(9, 25, t0 + 100, { owner: 'ann' });
    const result = receive(
      { state, time: t0 },
      theBank,
      ben,
      [held!],
      [{ lot: fresh, fresh: true }],
    );
    assert.deepEqual(result, { repaid: 0n, lots: [9] });
    assert.deepEqual(ben.lots, [9, 1]);
    assert.equal(ben.balanceMinutes, '65');
    assert.deepEqual(readLot(state, bankId, 9), { ...fresh, owner: 'ben' });
    assert.equal(state.get(timecreditsKeys.expiry(t0 + 100, bankId, 9)), 'true');
    assert.equal(state.get(timecreditsKeys.notice(t0 + 95, bankId, 9)), 'true');
  });

  it('moves an existing lot to its new owner, rewriting only the lot (its index keys stay)', () => {
    const state = emptyState();
    const [moving] = stored(emptyState(), expiring(4, 30, t0 + 100));
    const ben = member('ben', []);
    const result = receive({ state, time: t0 }, bank(), ben, [], [{ lot: moving!, fresh: false }]);
    assert.deepEqual(result, { repaid: 0n, lots: [4] });
    assert.deepEqual(written(state), [timecreditsKeys.lot(bankId, 4)]);
    assert.equal(readLot(state, bankId, 4)!.owner, 'ben');
    assert.deepEqual(ben.lots, [4]);
  });

  it('repays the debt first from the earliest-expiring lot, whatever the order they came in', () => {
    const state = emptyState();
    const [late, early] = stored(state, expiring(5, 50, t0 + 200), expiring(6, 30, t0 + 100));
    const theBank = bank({ debtMinutes: '70' });
    const ben = member('ben', [], { debtMinutes: '40' });
    const result = receive(
      { state, time: t0 },
      theBank,
      ben,
      [],
      [
        { lot: late!, fresh: false },
        { lot: early!, fresh: false },
      ],
    );
    // 30 of the early lot, then 10 of the late one: the early lot is gone, 40 of the late stay.
    assert.deepEqual(result, { repaid: 40n, lots: [5] });
    assert.equal(ben.debtMinutes, '0');
    assert.equal(theBank.debtMinutes, '30');
    assert.equal(ben.balanceMinutes, '40');
    assert.deepEqual(ben.lots, [5]);
    assert.equal(readLot(state, bankId, 6), undefined);
    assert.equal(state.get(timecreditsKeys.expiry(t0 + 100, bankId, 6)), undefined);
    assert.equal(state.get(timecreditsKeys.notice(t0 + 95, bankId, 6)), undefined);
    assert.equal(readLot(state, bankId, 5)!.amount, '40');
  });

  it('a lot of exactly the debt repays it all and is not kept; one minute more is kept', () => {
    const exact = emptyState();
    const ben = member('ben', [], { debtMinutes: '30' });
    const fresh = expiring(9, 30, t0 + 100);
    const all = receive(
      { state: exact, time: t0 },
      bank({ debtMinutes: '30' }),
      ben,
      [],
      [{ lot: fresh, fresh: true }],
    );
    assert.deepEqual(all, { repaid: 30n, lots: [] });
    assert.deepEqual(written(exact), [], 'a fresh lot spent on debt is never written');
    assert.deepEqual([ben.lots, ben.balanceMinutes, ben.debtMinutes], [[], '0', '0']);

    const more = emptyState();
    const cat = member('cat', [], { debtMinutes: '30' });
    const theBank = bank({ debtMinutes: '30' });
    const result = receive(
      { state: more, time: t0 },
      theBank,
      cat,
      [],
      [{ lot: expiring(9, 31, t0 + 100), fresh: true }],
    );
    assert.deepEqual(result, { repaid: 30n, lots: [9] });
    assert.deepEqual([cat.lots, cat.balanceMinutes, cat.debtMinutes], [[9], '1', '0']);
    assert.equal(theBank.debtMinutes, '0');
  });

  it('leaves the rest of a debt larger than what arrives', () => {
    const ben = member('ben', [], { debtMinutes: '100' });
    const theBank = bank({ debtMinutes: '150' });
    const result = receive(
      { state: emptyState(), time: t0 },
      theBank,
      ben,
      [],
      [{ lot: lot(9, 30), fresh: true }],
    );
    assert.deepEqual(result, { repaid: 30n, lots: [] });
    assert.equal(ben.debtMinutes, '70');
    assert.equal(theBank.debtMinutes, '120');
  });

  it('merges into a held lot of the same terms, deleting a moved one; listed once', () => {
    const state = emptyState();
    const [twin, other] = stored(
      state,
      expiring(1, 40, t0 + 100),
      expiring(2, 5, t0 + 100, { origin: 'credit:1' }),
    );
    const [moved] = stored(state, expiring(7, 12, t0 + 100, { origin: 'issue:req-1' }));
    state.release();
    const ben = member('ben', [twin!, other!]);
    const result = receive(
      { state, time: t0 },
      bank(),
      ben,
      [twin!, other!],
      [
        { lot: moved!, fresh: false },
        { lot: expiring(8, 3, t0 + 100, { origin: 'issue:req-1' }), fresh: true },
      ],
    );
    assert.deepEqual(result, { repaid: 0n, lots: [1] });
    assert.deepEqual(ben.lots, [1, 2]);
    assert.equal(ben.balanceMinutes, '60');
    assert.equal(readLot(state, bankId, 1)!.amount, '55');
    assert.equal(readLot(state, bankId, 7), undefined);
    assert.equal(state.get(timecreditsKeys.expiry(t0 + 100, bankId, 7)), undefined);
    assert.equal(readLot(state, bankId, 8), undefined, 'a fresh lot merged is never written');
  });

  it('a fresh lot merged writes only its twin', () => {
    const state = emptyState();
    const [twin] = stored(state, expiring(1, 40, t0 + 100));
    const writesBefore = written(state);
    const ben = member('ben', [twin!]);
    receive(
      { state, time: t0 },
      bank(),
      ben,
      [twin!],
      [{ lot: expiring(8, 3, t0 + 100, { origin: 'issue:req-1' }), fresh: true }],
    );
    assert.deepEqual(written(state), writesBefore);
    assert.equal(state.get(timecreditsKeys.expiry(t0 + 100, bankId, 8)), undefined);
  });

  it(`holds at most ${lotsPerMemberMax} lots: the last one fits, one more is refused`, () => {
    const held = Array.from({ length: lotsPerMemberMax - 1 }, (_, i) =>
      lot(i + 1, 1, { baseTime: t0 + i }),
    );
    const ben = member('ben', held);
    const fits = receive({ state: emptyState(), time: t0 }, bank(), ben, held, [
      { lot: lot(1_000, 1, { baseTime: t0 - 1 }), fresh: true },
    ]);
    assert.deepEqual(fits, { repaid: 0n, lots: [1_000] });
    assert.equal(ben.lots.length, lotsPerMemberMax);
    assert.equal(ben.lots[0], 1_000);

    const full = [...held, lot(999, 1, { baseTime: t0 + 999 })];
    const cat = member('cat', full);
    const refused = receive({ state: emptyState(), time: t0 }, bank(), cat, full, [
      { lot: lot(1_001, 1, { baseTime: t0 - 1 }), fresh: true },
    ]);
    assert.equal(refused, 'too_many_lots');
    const merged = receive({ state: emptyState(), time: t0 }, bank(), cat, full, [
      { lot: lot(1_002, 1, { baseTime: t0 + 5, origin: 'issue:req-6' }), fresh: true },
    ]);
    assert.deepEqual(merged, { repaid: 0n, lots: [6] }, 'a merged lot takes no new place');
  });
});

describe('moveMinutes', () => {
  /** ann holds 30 (expires t0+100) and 50 (t0+200); ben nothing; the bank lends up to `limit`. */
  function setup(limit: string, annDebt = '0', benFields = {}) {
    const state = emptyState();
    const lots = stored(state, expiring(1, 30, t0 + 100), expiring(2, 50, t0 + 200));
    const theBank = bank({ creditLimitMinutes: limit, debtMinutes: annDebt, nextLotNumber: 10 });
    const ann = member('ann', lots, { debtMinutes: annDebt });
    const ben = member('ben', [], benFields);
    writeMember(state, bankId, ann);
    writeMember(state, bankId, ben);
    return { state, theBank, ann, ben };
  }

  it('moves up to the lots plus the credit left, and refuses one minute more', () => {
    const ok = setup('20');
    assert.deepEqual(
      moveMinutes({ state: ok.state, time: t0 }, ok.theBank, ok.ann, ok.ben, 100n, 'credit:1'),
      {
        onCredit: 20n,
        repaid: 0n,
      },
    );
    const over = setup('20');
    assert.equal(
      moveMinutes(
        { state: over.state, time: t0 },
        over.theBank,
        over.ann,
        over.ben,
        101n,
        'credit:1',
      ),
      'credit_limit_exceeded',
    );
  });

  it('counts only the credit left below the limit, and none when a debt is above a lowered limit', () => {
    const partly = setup('20', '15');
    assert.equal(
      moveMinutes(
        { state: partly.state, time: t0 },
        partly.theBank,
        partly.ann,
        partly.ben,
        86n,
        'c',
      ),
      'credit_limit_exceeded',
    );
    const atLimit = setup('20', '20');
    assert.equal(
      moveMinutes(
        { state: atLimit.state, time: t0 },
        atLimit.theBank,
        atLimit.ann,
        atLimit.ben,
        81n,
        'c',
      ),
      'credit_limit_exceeded',
    );
    const above = setup('20', '30');
    assert.equal(
      moveMinutes({ state: above.state, time: t0 }, above.theBank, above.ann, above.ben, 81n, 'c'),
      'credit_limit_exceeded',
    );
    const all = setup('20', '30');
    assert.deepEqual(
      moveMinutes({ state: all.state, time: t0 }, all.theBank, all.ann, all.ben, 80n, 'c'),
      { onCredit: 0n, repaid: 0n },
    );
    assert.equal(all.ann.debtMinutes, '30');
  });

  it('does not count an expired lot: refused at one past its expiry what passed at it', () => {
    const at = setup('0');
    assert.deepEqual(
      moveMinutes({ state: at.state, time: t0 + 100 }, at.theBank, at.ann, at.ben, 80n, 'c'),
      {
        onCredit: 0n,
        repaid: 0n,
      },
    );
    const past = setup('0');
    assert.equal(
      moveMinutes(
        { state: past.state, time: t0 + 101 },
        past.theBank,
        past.ann,
        past.ben,
        51n,
        'c',
      ),
      'credit_limit_exceeded',
    );
  });

  it('moves the earliest-expiring lot whole and splits the next, the part keeping its terms', () => {
    const { state, theBank, ann, ben } = setup('0');
    assert.deepEqual(moveMinutes({ state, time: t0 + 7 }, theBank, ann, ben, 40n, 'credit:1'), {
      onCredit: 0n,
      repaid: 0n,
    });
    assert.deepEqual([ann.lots, ann.balanceMinutes, ann.debtMinutes], [[2], '40', '0']);
    assert.deepEqual([ben.lots, ben.balanceMinutes], [[1, 10], '40']);
    assert.deepEqual(readLot(state, bankId, 1), { ...expiring(1, 30, t0 + 100), owner: 'ben' });
    assert.deepEqual(readLot(state, bankId, 2), expiring(2, 40, t0 + 200));
    assert.deepEqual(readLot(state, bankId, 10), {
      ...expiring(2, 10, t0 + 200),
      number: 10,
      owner: 'ben',
    });
    assert.equal(state.get(timecreditsKeys.expiry(t0 + 200, bankId, 10)), 'true');
    assert.equal(theBank.nextLotNumber, 11);
  });

  it('lends what the lots do not cover: a new lot based now under the current policy', () => {
    const { state, theBank, ann, ben } = setup('50');
    theBank.policy = { kind: 'expiry', expiryDays: 30, noticeDays: 2 };
    const now = t0 + 50;
    assert.deepEqual(moveMinutes({ state, time: now }, theBank, ann, ben, 95n, 'credit:pay:h/0'), {
      onCredit: 15n,
      repaid: 0n,
    });
    assert.deepEqual([ann.lots, ann.balanceMinutes, ann.debtMinutes], [[], '0', '15']);
    assert.equal(theBank.debtMinutes, '15');
    assert.deepEqual(ben.lots, [1, 2, 10]);
    assert.equal(ben.balanceMinutes, '95');
    assert.deepEqual(readLot(state, bankId, 10), {
      bankId,
      number: 10,
      owner: 'ben',
      amount: '15',
      baseTime: now,
      expiresAt: now + 30 * dayMs,
      noticeAt: now + 28 * dayMs,
      demurrage: null,
      demurragePeriodsCharged: 0,
      origin: 'credit:pay:h/0',
    });
    // A new lot: indexed, so it lapses and gets its notice.
    assert.equal(state.get(timecreditsKeys.expiry(now + 30 * dayMs, bankId, 10)), 'true');
    assert.equal(state.get(timecreditsKeys.notice(now + 28 * dayMs, bankId, 10)), 'true');
  });

  it("repays the payee's debt first and says how much", () => {
    const { state, theBank, ann, ben } = setup('0', '0', { debtMinutes: '35' });
    theBank.debtMinutes = '35';
    assert.deepEqual(moveMinutes({ state, time: t0 }, theBank, ann, ben, 40n, 'c'), {
      onCredit: 0n,
      repaid: 35n,
    });
    assert.deepEqual([ben.lots, ben.balanceMinutes, ben.debtMinutes], [[10], '5', '0']);
    assert.equal(theBank.debtMinutes, '0');
    // Lot 1 moved whole and went on the debt: it is gone from state, with its index entries.
    assert.equal(readLot(state, bankId, 1), undefined);
    assert.equal(state.get(timecreditsKeys.expiry(t0 + 100, bankId, 1)), undefined);
    assert.equal(state.get(timecreditsKeys.notice(t0 + 95, bankId, 1)), undefined);
    assert.deepEqual(readLot(state, bankId, 10), {
      ...expiring(2, 5, t0 + 200),
      number: 10,
      owner: 'ben',
    });
  });

  it("settles both members' demurrage before counting and moving", () => {
    const state = emptyState();
    const demurring = { demurrage: { ...onePercentDaily } };
    const annLots = stored(state, lot(1, 100, demurring));
    const benLots = stored(state, lot(2, 200, { ...demurring, baseTime: t0 + 1 }));
    const theBank = bank();
    const ann = member('ann', annLots);
    const ben = member('ben', benLots);
    const time = t0 + 2 * dayMs;
    // ann: 100 -> 99 -> 98; ben (based 1 ms later): one period, 200 -> 198.
    assert.equal(
      moveMinutes({ state, time }, theBank, ann, ben, 99n, 'c'),
      'credit_limit_exceeded',
    );
    assert.deepEqual(moveMinutes({ state, time }, theBank, ann, ben, 98n, 'c'), {
      onCredit: 0n,
      repaid: 0n,
    });
    assert.equal(theBank.poolMinutes, '4');
    assert.deepEqual([ben.lots, ben.balanceMinutes], [[1, 2], '296']);
  });

  it('passes on a refusal to receive: the payee holds too many lots', () => {
    const { state, theBank, ann } = setup('0');
    const full = Array.from({ length: lotsPerMemberMax }, (_, i) =>
      lot(100 + i, 1, { owner: 'ben', baseTime: t0 + i }),
    );
    stored(state, ...full);
    const ben = member('ben', full);
    assert.equal(moveMinutes({ state, time: t0 }, theBank, ann, ben, 30n, 'c'), 'too_many_lots');
  });
});
