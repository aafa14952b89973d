import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { StateView } from '../../state/index.js';
import { listSessions, sessionScanMax } from './queries.js';
import type { SessionRecord } from './schema.js';
import { writeSession } from './state.js';

/*
 * The session list's bound: a page reads at most `sessionScanMax` index entries whatever the
 * filters leave of them, so a filter that matches little answers pages that may be empty, with
 * `next` set, until the index is read through.
 */

function session(n: number, status: SessionRecord['status']): SessionRecord {
  return {
    serviceDevice: 'charger-1',
    iotDevice: 'car-1',
    sessionId: `s${String(n).padStart(4, '0')}`,
    wallet: 'wallet-1',
    payer: 'payer',
    provider: 'provider',
    asset: 'USD',
    tariff: { unit: 'kWh', unitPrice: '1', unitsPer: 1, maxRatePerHour: 1 },
    holdId: n.toString(16).padStart(64, '0'),
    held: '1',
    expiresAtHeight: 1_000,
    day: '2026-01-01',
    meterStart: 0,
    startedAt: 0,
    lastSeq: 0,
    meter: 0,
    periodTo: 0,
    usage: '0',
    billed: '0',
    captured: '0',
    unpaid: '0',
    status,
    startTx: n.toString(16).padStart(64, '0'),
    startedAtHeight: 1,
  };
}

describe('listSessions', () => {
  it('reads at most sessionScanMax entries a page: sparse matches come over several pages', () => {
    const state = new StateView({ get: () => undefined, range: () => [] });
    const total = sessionScanMax + 100;
    for (let n = 0; n < total; n += 1)
      writeSession(state, session(n, n === 550 ? 'ended' : 'open'));
    const first = listSessions(state, { iotDevice: 'car-1', status: 'ended' }, { limit: 10 }, 1);
    assert.deepEqual(first.sessions, []);
    assert.equal(first.next, `charger-1/s${String(sessionScanMax - 1).padStart(4, '0')}`);
    const second = listSessions(
      state,
      { iotDevice: 'car-1', status: 'ended' },
      { limit: 10, after: first.next },
      1,
    );
    assert.deepEqual(
      second.sessions.map((s) => s.sessionId),
      ['s0550'],
    );
    assert.equal(second.next, null);
    // Unfiltered, a page is `limit` sessions and the cursor is the last one's.
    const page = listSessions(state, {}, { limit: 3 }, 1);
    assert.deepEqual(
      page.sessions.map((s) => s.sessionId),
      ['s0000', 's0001', 's0002'],
    );
    assert.equal(page.next, 'charger-1/s0002');
    assert.throws(() => listSessions(state, {}, { limit: 101 }, 1), RangeError);
  });
});
