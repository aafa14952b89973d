import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { SessionView } from '../client.js';
import {
  amountText,
  countText,
  devicePath,
  fingerprintText,
  mandateText,
  meterText,
  noSessionsText,
  periodText,
  sessionPath,
  tariffText,
  timeText,
  usageText,
  usedPercent,
  validityText,
} from './words.js';

const evc = { symbol: 'EVC', decimals: 2 };

const session = (captured: string, held: string): SessionView => ({
  serviceDevice: 'charger-1',
  iotDevice: 'car-1',
  sessionId: 's-1',
  wallet: 'wallet-1',
  payer: 'payer',
  provider: 'provider',
  asset: 'EVC',
  tariff: { unit: 'kWh', unitPrice: '250', unitsPer: 1, maxRatePerHour: 3600 },
  holdId: 'hold',
  held,
  expiresAtHeight: 100,
  day: '2026-12-05',
  meterStart: 0,
  startedAt: 0,
  lastSeq: 0,
  meter: 0,
  periodTo: 0,
  usage: '0',
  billed: captured,
  captured,
  unpaid: '0',
  status: 'open',
  startTx: 'tx',
  startedAtHeight: 1,
  remaining: (BigInt(held) - BigInt(captured)).toString(),
});

describe('the iot pages in words', () => {
  it("minor units in the asset's units, every decimal kept, BigInt beyond Number", () => {
    assert.equal(amountText('750', 'EVC', evc), '7.50 EVC');
    assert.equal(amountText('5', 'EVC', evc), '0.05 EVC');
    assert.equal(amountText('0', 'EVC', evc), '0.00 EVC');
    assert.equal(amountText('7', 'PTS', { symbol: 'PTS', decimals: 0 }), '7 PTS');
    assert.equal(
      amountText('123456789012345678901', 'USD', { symbol: 'USD', decimals: 2 }),
      '1234567890123456789.01 USD',
    );
    assert.equal(
      amountText('1000000000000000001', 'ETH', { symbol: 'ETH', decimals: 18 }),
      '1.000000000000000001 ETH',
    );
    // The asset's record did not load: the minor units, named as such.
    assert.equal(amountText('42', 'EVC', undefined), '42 minor units of EVC');
  });

  it('usage with its unit, and a tariff per unit or per several units', () => {
    assert.equal(usageText('12', 'kWh'), '12 kWh');
    assert.equal(usageText(0, 'min'), '0 min');
    assert.equal(
      tariffText({ unit: 'kWh', unitPrice: '250', unitsPer: 1 }, 'EVC', evc),
      '2.50 EVC per kWh',
    );
    assert.equal(
      tariffText({ unit: 'min', unitPrice: '25', unitsPer: 10 }, 'EVC', evc),
      '0.25 EVC per 10 min',
    );
  });

  it("the hold's meter: whole percent rounded down, 0 to 100, integer arithmetic", () => {
    assert.equal(usedPercent('0', '5000'), 0);
    assert.equal(usedPercent('750', '5000'), 15);
    assert.equal(usedPercent('4999', '5000'), 99, 'never full before it is');
    assert.equal(usedPercent('5000', '5000'), 100);
    assert.equal(usedPercent('1', '0'), 0);
    assert.equal(usedPercent('99999999999999999999', '100000000000000000000'), 99);
    assert.equal(
      meterText(session('750', '5000'), evc),
      '7.50 EVC captured of 50.00 EVC held (15%)',
    );
  });

  it('times, periods and validity in UTC without Date', () => {
    assert.equal(timeText(0), '1970-01-01 00:00:00');
    assert.equal(timeText(Date.UTC(2026, 11, 5, 18, 0, 30, 999)), '2026-12-05 18:00:30');
    assert.equal(timeText(Date.UTC(2028, 1, 29, 23, 59, 59)), '2028-02-29 23:59:59');
    for (const ms of [1, 86_399_999, 951_782_400_000, 4_102_444_800_000, 1_733_400_000_123]) {
      assert.equal(timeText(ms), new Date(ms).toISOString().replace('T', ' ').slice(0, 19));
    }
    const from = Date.UTC(2026, 11, 5, 18, 0, 0);
    assert.equal(periodText({ from, to: from + 30_000 }), '2026-12-05 18:00:00 to 18:00:30 UTC');
    assert.equal(
      periodText({ from, to: from + 86_400_000 }),
      '2026-12-05 18:00:00 to 2026-12-06 18:00:00 UTC',
    );
    assert.equal(
      validityText({ validFrom: from, validTo: Date.UTC(2027, 11, 5, 18, 0, 0) }),
      '2026-12-05 18:00:00 to 2027-12-05 18:00:00 UTC',
    );
  });

  it('a fingerprint in groups of four; counts; paths', () => {
    assert.equal(fingerprintText('0123456789abcdef01'), '0123 4567 89ab cdef 01');
    assert.equal(countText(1, 'block'), '1 block');
    assert.equal(countText(1000, 'block'), '1000 blocks');
    assert.equal(sessionPath('charger-1', 'a.b_c'), '/iot/sessions/charger-1/a.b_c');
    assert.equal(devicePath('car-1'), '/iot/devices/car-1');
  });

  it("a mandate's limits", () => {
    assert.equal(
      mandateText({ sessionMax: '5000', dayMax: '20000', sessionBlocks: 1000 }, 'EVC', evc),
      "at most 50.00 EVC a session and 200.00 EVC a UTC day; a session's hold lives 1000 blocks",
    );
  });

  it('an empty list says how sessions start', () => {
    assert.match(noSessionsText('open'), /^No open session on this chain\. A session starts when/);
    assert.match(noSessionsText('all'), /^No session on this chain yet\. A session starts when/);
    assert.match(noSessionsText('all'), /iot\.startSession/);
  });
});
