import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';

import {
  allianceOrigin,
  lotsOf,
  newLot,
  partOf,
  settleDemurrage,
  spend,
  spendableMinutes,
} from './lots.js';
import {
  bank,
  bankId,
  clone,
  emptyState,
  lot,
  member,
  onePercentDaily,
  stored,
  t0,
  written,
} from './lots-fixture.js';
import { dayMs, readLot, timecreditsKeys, type LotRecord } from './state.js';

/*
 * lots.ts against its own functions, on a state view over empty committed state: the money path
 * (demurrage settled, lots spent in order and split, new lots and parts, alliance origins) with
 * exact amounts, each bound at the bound and one past it, and what is written to state.
 */

describe('lotsOf', () => {
  it("reads a member's lots in the order its record lists them", () => {
    const state = emptyState();
    const [a, b] = stored(state, lot(1, 10), lot(2, 20));
    const records = lotsOf({ state }, bankId, member('ann', [b!, a!]));
    assert.deepEqual(records, [b, a]);
  });

  it('throws, naming the lot and its owner, when a listed lot is missing (a bug, not input)', () => {
    const state = emptyState();
    stored(state, lot(1, 10));
    const ann = member('ann', [lot(1, 10), lot(7, 5)]);
    assert.throws(() => lotsOf({ state }, bankId, ann), {
      message: `timecredits: lot ${bankId}/7 of ann is missing`,
    });
  });
});

describe('settleDemurrage', () => {
  const demurring = (number: number, amount: number, fields: Partial<LotRecord> = {}) =>
    lot(number, amount, { demurrage: { ...onePercentDaily }, ...fields });

  it('charges nothing and writes nothing until a whole period has passed; at the period it does', () => {
    const state = emptyState();
    const l = demurring(1, 999);
    const theBank = bank();
    const ann = member('ann', [l]);
    const early = settleDemurrage({ state, time: t0 + dayMs - 1 }, theBank, ann, [l]);
    assert.deepEqual(early, [demurring(1, 999)]);
    assert.deepEqual(written(state), []);
    assert.equal(theBank.poolMinutes, '0');

    // 999 * 0.99 = 989.01: floor keeps 989, 10 minutes go to the pool (ceiling would take 9).
    const due = settleDemurrage({ state, time: t0 + dayMs }, theBank, ann, [l]);
    const expected = demurring(1, 989, { demurragePeriodsCharged: 1 });
    assert.deepEqual(due, [expected]);
    assert.deepEqual(readLot(state, bankId, 1), expected);
    assert.equal(theBank.poolMinutes, '10');
    assert.equal(ann.balanceMinutes, '989');
  });

  it('charges only the periods not yet charged, each floored on what is left', () => {
    const state = emptyState();
    // Charged 1 of 3 periods: 2 more, 989 -> floor(979.11) = 979 -> floor(969.21) = 969.
    const l = demurring(1, 989, { demurragePeriodsCharged: 1 });
    const theBank = bank({ poolMinutes: '10' });
    const ann = member('ann', [l]);
    const kept = settleDemurrage({ state, time: t0 + 3 * dayMs + 5 }, theBank, ann, [l]);
    assert.deepEqual(kept, [demurring(1, 969, { demurragePeriodsCharged: 3 })]);
    assert.equal(theBank.poolMinutes, '30');
    assert.equal(ann.balanceMinutes, '969');
  });

  it('leaves a lot whose periods are all charged untouched and unwritten', () => {
    const state = emptyState();
    const l = demurring(1, 989, { demurragePeriodsCharged: 1 });
    const theBank = bank();
    const ann = member('ann', [l]);
    const kept = settleDemurrage({ state, time: t0 + 2 * dayMs - 1 }, theBank, ann, [l]);
    assert.deepEqual(kept, [demurring(1, 989, { demurragePeriodsCharged: 1 })]);
    assert.deepEqual(written(state), []);
    assert.equal(theBank.poolMinutes, '0');
    assert.equal(ann.balanceMinutes, '989');
  });

  it('leaves lots without demurrage untouched, whatever the time', () => {
    const state = emptyState();
    const l = lot(1, 500);
    const theBank = bank();
    const ann = member('ann', [l]);
    assert.deepEqual(settleDemurrage({ state, time: t0 + 900 * dayMs }, theBank, ann, [l]), [
      lot(1, 500),
    ]);
    assert.deepEqual(written(state), []);
    assert.equal(theBank.poolMinutes, '0');
  });

  it('deletes a lot taken to zero (and its index entries), keeping the others in order', () => {
    const state = emptyState();
    const gone = lot(1, 3, { demurrage: { ratePerPeriodBasisPoints: 5_000, periodDays: 1 } });
    const lots = stored(
      state,
      demurring(2, 100, { expiresAt: t0 + 9 * dayMs, noticeAt: t0 + 8 * dayMs }),
      { ...gone, expiresAt: t0 + 9 * dayMs, noticeAt: t0 + 8 * dayMs },
      lot(3, 40),
    );
    const theBank = bank({ poolMinutes: '7' });
    const ann = member('ann', lots);
    // Two periods: 100 -> 99 -> 98 (2 to the pool); 3 -> 1 -> 0 (3 to the pool); 40 unchanged.
    const kept = settleDemurrage({ state, time: t0 + 2 * dayMs }, theBank, ann, lots);
    assert.deepEqual(
      kept.map((l) => [l.number, l.amount, l.demurragePeriodsCharged]),
      [
        [2, '98', 2],
        [3, '40', 0],
      ],
    );
    assert.equal(readLot(state, bankId, 1), undefined);
    assert.equal(state.get(timecreditsKeys.expiry(t0 + 9 * dayMs, bankId, 1)), undefined);
    assert.equal(state.get(timecreditsKeys.notice(t0 + 8 * dayMs, bankId, 1)), undefined);
    assert.equal(readLot(state, bankId, 2)!.amount, '98');
    assert.equal(theBank.poolMinutes, '12');
    assert.equal(ann.balanceMinutes, '138');
  });

  it('moves exactly what the lots lose to the pool (a property, against floor per period)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            amount: fc.integer({ min: 1, max: 1_000_000 }),
            rate: fc.integer({ min: 0, max: 10_000 }),
            periodDays: fc.integer({ min: 1, max: 30 }),
            charged: fc.integer({ min: 0, max: 5 }),
          }),
          { maxLength: 6 },
        ),
        fc.integer({ min: 0, max: 200 * dayMs }),
        (specs, elapsed) => {
          const state = emptyState();
          const lots = specs.map((s, i) =>
            lot(i + 1, s.amount, {
              demurrage: { ratePerPeriodBasisPoints: s.rate, periodDays: s.periodDays },
              demurragePeriodsCharged: s.charged,
            }),
          );
          const theBank = bank();
          const ann = member('ann', lots);
          const total = BigInt(ann.balanceMinutes);
          const kept = settleDemurrage({ state, time: t0 + elapsed }, theBank, ann, clone(lots));
          // The reference: each period keeps floor(value * (10000 - rate) / 10000), in numbers.
          const expected = specs.flatMap((s, i) => {
            const periods = Math.floor(elapsed / (s.periodDays * dayMs));
            let value = s.amount;
            for (let p = s.charged; p < periods; p += 1) {
              value = Math.floor((value * (10_000 - s.rate)) / 10_000);
            }
            const charged = Math.max(periods, s.charged);
            return value === 0 ? [] : [[i + 1, String(value), charged]];
          });
          assert.deepEqual(
            kept.map((l) => [l.number, l.amount, l.demurragePeriodsCharged]),
            expected,
          );
          const left = kept.reduce((sum, l) => sum + BigInt(l.amount), 0n);
          assert.equal(ann.balanceMinutes, left.toString());
          assert.equal(BigInt(theBank.poolMinutes), total - left);
        },
      ),
    );
  });
});

describe('spendableMinutes', () => {
  it('counts a lot up to and including its expiry instant, and lots that never expire', () => {
    const lots = [lot(1, 30, { expiresAt: t0 }), lot(2, 50, { expiresAt: t0 + 1 }), lot(3, 7)];
    assert.equal(spendableMinutes(lots, t0), 87n);
    assert.equal(spendableMinutes(lots, t0 + 1), 57n);
    assert.equal(spendableMinutes(lots, t0 + 2), 7n);
    assert.equal(spendableMinutes([], t0), 0n);
  });
});

describe('spend', () => {
  /** Earliest expiry first, as a member's record lists them: 30 (t0+10), 50 (t0+20), 20 (never). */
  const three = () => [
    lot(1, 30, { expiresAt: t0 + 10 }),
    lot(2, 50, { expiresAt: t0 + 20 }),
    lot(3, 20),
  ];
  const summary = (r: ReturnType<typeof spend>) => ({
    kept: r.kept.map((l) => [l.number, l.amount]),
    taken: r.taken.map((t) => [t.lot.number, t.minutes, t.whole]),
    left: r.left,
  });

  it('takes a lot of exactly the minutes whole, writing nothing', () => {
    const state = emptyState();
    assert.deepEqual(summary(spend({ state, time: t0 }, three(), 30n)), {
      kept: [
        [2, '50'],
        [3, '20'],
      ],
      taken: [[1, 30n, true]],
      left: 0n,
    });
    assert.deepEqual(written(state), []);
  });

  it('splits the lot that covers more than is left, writing back its rest', () => {
    const state = emptyState();
    assert.deepEqual(summary(spend({ state, time: t0 }, three(), 31n)), {
      kept: [
        [2, '49'],
        [3, '20'],
      ],
      taken: [
        [1, 30n, true],
        [2, 1n, false],
      ],
      left: 0n,
    });
    assert.deepEqual(written(state), [timecreditsKeys.lot(bankId, 2)]);
    assert.equal(readLot(state, bankId, 2)!.amount, '49');
  });

  it('splits the first lot when it alone covers the minutes', () => {
    const state = emptyState();
    assert.deepEqual(summary(spend({ state, time: t0 }, three(), 29n)), {
      kept: [
        [1, '1'],
        [2, '50'],
        [3, '20'],
      ],
      taken: [[1, 29n, false]],
      left: 0n,
    });
  });

  it('returns what the lots do not cover, and takes nothing for zero minutes', () => {
    const state = emptyState();
    const all = spend({ state, time: t0 }, three(), 130n);
    assert.deepEqual(summary(all), {
      kept: [],
      taken: [
        [1, 30n, true],
        [2, 50n, true],
        [3, 20n, true],
      ],
      left: 30n,
    });
    assert.deepEqual(summary(spend({ state, time: t0 }, three(), 0n)), {
      kept: [
        [1, '30'],
        [2, '50'],
        [3, '20'],
      ],
      taken: [],
      left: 0n,
    });
  });

  it('spends a lot at its expiry instant, skips it (keeping it) one millisecond past', () => {
    const state = emptyState();
    assert.deepEqual(summary(spend({ state, time: t0 + 10 }, three(), 35n)).taken, [
      [1, 30n, true],
      [2, 5n, false],
    ]);
    assert.deepEqual(summary(spend({ state, time: t0 + 11 }, three(), 55n)), {
      kept: [
        [1, '30'],
        [3, '15'],
      ],
      taken: [
        [2, 50n, true],
        [3, 5n, false],
      ],
      left: 0n,
    });
  });

  it('takes in the given order, and the parts add up to the whole (a property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            amount: fc.integer({ min: 1, max: 1_000 }),
            expires: fc.option(fc.integer({ min: 0, max: 20 }), { nil: null }),
          }),
          { maxLength: 8 },
        ),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 5_000 }),
        (specs, at, minutes) => {
          const lots = specs.map((s, i) =>
            lot(i + 1, s.amount, { expiresAt: s.expires === null ? null : t0 + s.expires }),
          );
          const time = t0 + at;
          // The reference: walk the lots, take min(amount, still needed) from each unexpired one.
          let need = minutes;
          const taken: [number, bigint, boolean][] = [];
          const kept: [number, string][] = [];
          for (const [i, s] of specs.entries()) {
            const live = s.expires === null || at <= s.expires;
            const take = live ? Math.min(s.amount, need) : 0;
            need -= take;
            if (take > 0) taken.push([i + 1, BigInt(take), take === s.amount]);
            if (take < s.amount) kept.push([i + 1, String(s.amount - take)]);
          }
          const result = spend({ state: emptyState(), time }, lots, BigInt(minutes));
          assert.deepEqual(summary(result), { kept, taken, left: BigInt(need) });
          const takenSum = result.taken.reduce((sum, t) => sum + t.minutes, 0n);
          assert.equal(takenSum + result.left, BigInt(minutes));
        },
      ),
    );
  });
});

describe('newLot and partOf', () => {
  it('numbers a new lot from the bank and copies the terms, not sharing the demurrage object', () => {
    const theBank = bank({ nextLotNumber: 41 });
    const terms = { ...onePercentDaily };
    const made = newLot(theBank, 'ben', 75n, t0 + 5, {
      expiresAt: t0 + 90,
      noticeAt: t0 + 80,
      demurrage: terms,
      demurragePeriodsCharged: 2,
      origin: 'credit:3',
    });
    assert.deepEqual(made, {
      bankId,
      number: 41,
      owner: 'ben',
      amount: '75',
      baseTime: t0 + 5,
      expiresAt: t0 + 90,
      noticeAt: t0 + 80,
      demurrage: { ratePerPeriodBasisPoints: 100, periodDays: 1 },
      demurragePeriodsCharged: 2,
      origin: 'credit:3',
    });
    assert.equal(theBank.nextLotNumber, 42);
    terms.ratePerPeriodBasisPoints = 9_999;
    assert.equal(made.demurrage?.ratePerPeriodBasisPoints, 100);
    const plain = newLot(theBank, 'ben', 1n, t0, { ...lot(0, 1), origin: 'o' });
    assert.equal(plain.number, 42);
    assert.equal(plain.demurrage, null);
  });

  it("makes a part with the lot's base time, terms and charged periods, and a given origin", () => {
    const theBank = bank({ nextLotNumber: 7 });
    const source = lot(3, 90, {
      baseTime: t0 - 50,
      expiresAt: t0 + 90,
      noticeAt: t0 + 80,
      demurrage: { ...onePercentDaily },
      demurragePeriodsCharged: 4,
    });
    assert.deepEqual(partOf(theBank, 'cat', source, 12n, 'alliance:x/issue:req-3'), {
      ...source,
      number: 7,
      owner: 'cat',
      amount: '12',
      origin: 'alliance:x/issue:req-3',
    });
  });
});

describe('allianceOrigin', () => {
  const from = '0123456789abcdef';
  it('prefixes the sending bank once, however many banks the minutes went through', () => {
    assert.equal(allianceOrigin(from, 'issue:req-1'), `alliance:${from}/issue:req-1`);
    assert.equal(
      allianceOrigin(from, 'alliance:fedcba9876543210/issue:req-1'),
      `alliance:${from}/issue:req-1`,
    );
  });

  it('strips only a whole prefix at the start: 16 lowercase hex digits and a slash', () => {
    for (const origin of [
      'x:alliance:fedcba9876543210/issue:req-1',
      'alliance:fedcba987654321/issue:req-1',
      'alliance:fedcba98765432100/issue:req-1',
      'alliance:FEDCBA9876543210/issue:req-1',
      'alliance:fedcba987654321g/issue:req-1',
      'alliance:fedcba9876543210-issue:req-1',
    ]) {
      assert.equal(allianceOrigin(from, origin), `alliance:${from}/${origin}`, origin);
    }
  });
});
