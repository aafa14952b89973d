import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { BlockContext } from '../../chain/index.js';
import { Ledger } from '../../ledger/index.js';
import type { StateView } from '../../state/index.js';
import { lapseExpiredLots, noticeExpiringLots, timecreditsBeginBlock } from './lots.js';
import { bank, bankId, emptyState, lot, member, stored, t0, written } from './lots-fixture.js';
import {
  lapsesPerBlockMax,
  noticesPerBlockMax,
  readBank,
  readLot,
  readMember,
  timecreditsKeys,
  writeBank,
  writeMember,
  type LotRecord,
} from './state.js';

/*
 * lots.ts in `beginBlock`: lots lapse at the first block past their expiry (not at it) into their
 * bank's pool, a notice fires at the first block at or past its time (never for a lot past its
 * expiry), each read bounded per block, and the events carry the lot.
 */

interface Event {
  type: string;
  data: Record<string, unknown>;
}

function block(state: StateView, time: number, run: (ctx: BlockContext) => void): Event[] {
  const events: Event[] = [];
  run({
    chainId: 'coffer-test',
    height: 2,
    time,
    previousProducer: 'producer',
    previousHash: '00'.repeat(32),
    state,
    ledger: new Ledger(state),
    emit: (type, data) => events.push({ type, data }),
  });
  return events;
}

const otherBankId = '00000000000000bb';
const expiresAt = t0 + 1_000;
const noticeAt = t0 + 900;
const expiring = (number: number, amount: number, fields: Partial<LotRecord> = {}) =>
  lot(number, amount, { expiresAt, noticeAt, ...fields });

/** The bank and its members, written with the lots they hold (and a lot that never expires). */
function world() {
  const state = emptyState();
  const annLots = stored(state, expiring(1, 30), expiring(2, 12), lot(3, 5));
  const benLots = stored(state, expiring(4, 7, { owner: 'ben' }));
  const otherLots = stored(state, expiring(1, 9, { bankId: otherBankId, owner: 'ann' }));
  writeBank(state, bank({ poolMinutes: '100' }));
  writeBank(state, bank({ id: otherBankId, poolMinutes: '1' }));
  writeMember(state, bankId, member('ann', annLots));
  writeMember(state, bankId, member('ben', benLots));
  writeMember(state, otherBankId, member('ann', otherLots));
  return state;
}

const expiredEvent = (l: LotRecord) => ({
  type: 'timecredits.expired',
  data: {
    bankId: l.bankId,
    lot: l.number,
    owner: l.owner,
    minutes: l.amount,
    baseTime: l.baseTime,
    expiresAt: l.expiresAt,
  },
});
const expiringEvent = (l: LotRecord) => ({ ...expiredEvent(l), type: 'timecredits.expiring' });

describe('lapseExpiredLots', () => {
  it('keeps a lot spendable at its expiry instant: nothing lapses, nothing is written', () => {
    const state = world();
    const before = written(state);
    assert.deepEqual(block(state, expiresAt, lapseExpiredLots), []);
    assert.deepEqual(written(state), before);
    assert.equal(readLot(state, bankId, 1)!.amount, '30');
  });

  it("lapses it one millisecond past into its own bank's pool, each member and bank once", () => {
    const state = world();
    const events = block(state, expiresAt + 1, lapseExpiredLots);
    assert.deepEqual(events, [
      expiredEvent(expiring(1, 30)),
      expiredEvent(expiring(2, 12)),
      expiredEvent(expiring(4, 7, { owner: 'ben' })),
      expiredEvent(expiring(1, 9, { bankId: otherBankId })),
    ]);
    assert.equal(readBank(state, bankId)!.poolMinutes, '149');
    assert.equal(readBank(state, otherBankId)!.poolMinutes, '10');
    assert.deepEqual(readMember(state, bankId, 'ann'), member('ann', [lot(3, 5)]));
    assert.deepEqual(readMember(state, bankId, 'ben'), member('ben', []));
    assert.deepEqual(readMember(state, otherBankId, 'ann'), member('ann', []));
    for (const [id, number] of [
      [bankId, 1],
      [bankId, 2],
      [bankId, 4],
      [otherBankId, 1],
    ] as const) {
      assert.equal(readLot(state, id, number), undefined);
      assert.equal(state.get(timecreditsKeys.expiry(expiresAt, id, number)), undefined);
      assert.equal(state.get(timecreditsKeys.notice(noticeAt, id, number)), undefined);
    }
    assert.equal(readLot(state, bankId, 3)!.amount, '5');
    assert.deepEqual(block(state, expiresAt + 2, lapseExpiredLots), [], 'each lot lapses once');
  });

  it('drops an index entry whose lot is gone, touching no bank or member', () => {
    const state = emptyState();
    const entry = timecreditsKeys.expiry(expiresAt, bankId, 9);
    state.set(entry, 'true');
    assert.deepEqual(block(state, expiresAt + 1, lapseExpiredLots), []);
    assert.equal(state.get(entry), undefined);
    assert.deepEqual(written(state), [entry]);
  });

  it(`lapses at most ${lapsesPerBlockMax} lots a block, the earliest first; the rest next block`, () => {
    const state = emptyState();
    const lots = Array.from({ length: lapsesPerBlockMax + 1 }, (_, i) =>
      lot(i + 1, 1, { expiresAt: t0 + 1 + i }),
    );
    stored(state, ...lots);
    writeBank(state, bank());
    writeMember(state, bankId, member('ann', lots));
    const first = block(state, t0 + 5_000, lapseExpiredLots);
    assert.equal(first.length, lapsesPerBlockMax);
    assert.deepEqual(first.at(-1), expiredEvent(lots[lapsesPerBlockMax - 1]!));
    assert.deepEqual(readMember(state, bankId, 'ann')!.lots, [lapsesPerBlockMax + 1]);
    assert.equal(readBank(state, bankId)!.poolMinutes, String(lapsesPerBlockMax));
    assert.deepEqual(block(state, t0 + 5_001, lapseExpiredLots), [
      expiredEvent(lots[lapsesPerBlockMax]!),
    ]);
  });
});

describe('noticeExpiringLots', () => {
  it('gives notice at the first block at its time, not before, and once', () => {
    const state = world();
    assert.deepEqual(block(state, noticeAt - 1, noticeExpiringLots), []);
    assert.deepEqual(block(state, noticeAt, noticeExpiringLots), [
      expiringEvent(expiring(1, 30)),
      expiringEvent(expiring(2, 12)),
      expiringEvent(expiring(4, 7, { owner: 'ben' })),
      expiringEvent(expiring(1, 9, { bankId: otherBankId })),
    ]);
    assert.equal(state.get(timecreditsKeys.notice(noticeAt, bankId, 1)), undefined);
    assert.equal(state.get(timecreditsKeys.expiry(expiresAt, bankId, 1)), 'true');
    assert.deepEqual(block(state, noticeAt + 1, noticeExpiringLots), []);
  });

  it('still gives a late notice at the expiry instant, none one millisecond past it', () => {
    const at = emptyState();
    stored(at, expiring(1, 30));
    assert.deepEqual(block(at, expiresAt, noticeExpiringLots), [expiringEvent(expiring(1, 30))]);
    const past = emptyState();
    stored(past, expiring(1, 30));
    assert.deepEqual(block(past, expiresAt + 1, noticeExpiringLots), []);
    assert.equal(past.get(timecreditsKeys.notice(noticeAt, bankId, 1)), undefined);
    assert.equal(readLot(past, bankId, 1)!.amount, '30', 'a notice never lapses a lot');
  });

  it('drops an entry whose lot is gone', () => {
    const state = emptyState();
    const entry = timecreditsKeys.notice(noticeAt, bankId, 9);
    state.set(entry, 'true');
    assert.deepEqual(block(state, noticeAt, noticeExpiringLots), []);
    assert.equal(state.get(entry), undefined);
  });

  it(`gives at most ${noticesPerBlockMax} notices a block, the earliest first`, () => {
    const state = emptyState();
    const lots = Array.from({ length: noticesPerBlockMax + 1 }, (_, i) =>
      lot(i + 1, 1, { noticeAt: t0 + i, expiresAt: t0 + 10_000 }),
    );
    stored(state, ...lots);
    const first = block(state, t0 + 5_000, noticeExpiringLots);
    assert.equal(first.length, noticesPerBlockMax);
    assert.deepEqual(first[0], expiringEvent(lots[0]!));
    assert.deepEqual(block(state, t0 + 5_001, noticeExpiringLots), [
      expiringEvent(lots[noticesPerBlockMax]!),
    ]);
  });
});

describe('timecreditsBeginBlock', () => {
  it('lapses what expired, then gives notice of what expires soon', () => {
    const state = emptyState();
    const gone = lot(1, 30, { expiresAt: t0 - 1, noticeAt: t0 - 10 });
    const soon = lot(2, 40, { expiresAt: t0 + 50, noticeAt: t0 });
    stored(state, gone, soon);
    writeBank(state, bank());
    writeMember(state, bankId, member('ann', [gone, soon]));
    assert.deepEqual(block(state, t0, timecreditsBeginBlock), [
      expiredEvent(gone),
      expiringEvent(soon),
    ]);
    assert.equal(readBank(state, bankId)!.poolMinutes, '30');
  });
});
