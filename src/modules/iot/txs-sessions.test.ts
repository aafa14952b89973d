import assert from 'node:assert/strict';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { auditLedger } from '../../ledger/index.js';
import { sessionView } from './queries.js';
import { billAmount, priceOf, utcDay } from './schema.js';
import { iotKeys, readBill, readSession } from './state.js';
import {
  asset,
  billPayload,
  caOperator,
  endPayload,
  expectOk,
  funds,
  iotWorld,
  issue,
  mandate,
  outsider,
  owner,
  provider,
  relay,
  startPayload,
  tariff,
  type Parties,
  type IotWorld,
} from './txs-fixture.js';
import { iotArbiter } from './txs.js';
import { fingerprintOf } from './x509.js';

/*
 * Sessions: the start (the service device's signature, the iot device's authorisation, the link
 * and its mandate, the tariff, the hold), the bills (sequence, tariff, meter and period sanity,
 * the amount, the partial capture, the cap), the end (the rest voided), the hold's expiry, and
 * what an outsider, the payer and the provider cannot do to the session's hold.
 */

const hour = 3_600_000;
const day = 86_400_000;

type Started = Parties & { w: IotWorld; startedAt: number; holdId: string };

function started(sessionId = 's1', options: Parameters<typeof iotWorld>[0] = {}): Started {
  const world = iotWorld(options);
  const { w } = world;
  const startedAt = w.time;
  const holdId = w.nextTxHash();
  expectOk(
    w.run(relay, 'iot.startSession', startPayload(world, sessionId, { time: w.time })),
    'start',
  );
  return { ...world, startedAt, holdId };
}

/** The first bill of a started session: `usage` kWh over the hour after the start. */
function firstBill(
  s: Started,
  usage: number,
  extra: Partial<Parameters<typeof billPayload>[3]> = {},
) {
  return billPayload(s, 's1', 1, {
    meterStart: 1000,
    usage,
    from: s.startedAt,
    to: s.startedAt + hour,
    amount: String(250 * usage),
    ...extra,
  });
}

function audit(w: IotWorld): void {
  const entries = w.contents();
  const scan = (prefix: string) => entries.filter(([key]) => key.startsWith(prefix));
  assert.deepEqual(auditLedger(scan).problems, []);
}

describe('iot.startSession', () => {
  it('holds min(sessionMax, dayMax - reserved) from the payer for the provider, arbitrated by the module', () => {
    const s = started();
    const { w } = s;
    const session = readSession(w.state, 'charger-1', 's1')!;
    assert.equal(session.status, 'open');
    assert.equal(session.held, '10000');
    assert.equal(session.payer, owner.address);
    assert.equal(session.provider, provider.address);
    assert.equal(session.holdId, s.holdId);
    const hold = w.ledger().hold(s.holdId)!;
    assert.equal(hold.arbiter, iotArbiter);
    assert.equal(hold.payee, provider.address);
    assert.equal(hold.expiresAtHeight, session.startedAtHeight + mandate.sessionBlocks);
    assert.equal(w.balance(owner.address), funds - 10_000n);
    assert.equal(w.state.get(iotKeys.day('wallet-1', 'car-1', utcDay(s.startedAt))), '10000');
    audit(w);
  });

  it('refuses, each for its reason', () => {
    const world = iotWorld();
    const { w } = world;
    const start = (sessionId: string, extra: Partial<Parameters<typeof startPayload>[2]> = {}) =>
      w.run(relay, 'iot.startSession', startPayload(world, sessionId, { time: w.time, ...extra }));
    const fresh = generateKeyPairSync('ed25519').privateKey;
    assert.equal(start('a b'), 'invalid_session_id');
    assert.equal(start('s', { serviceDevice: 'ghost' }), 'iot_device_not_found');
    assert.equal(start('s', { iotDevice: 'ghost' }), 'iot_device_not_found');
    assert.equal(start('s', { serviceDevice: 'car-1' }), 'device_role_mismatch');
    assert.equal(start('s', { iotDevice: 'wallet-1' }), 'device_role_mismatch');
    // A forged start (a fresh key, not the charger's certificate key).
    assert.equal(start('s', { serviceKey: fresh }), 'signature_invalid');
    // Without the car's authorisation: the charger (or an outsider) cannot authorise for it.
    assert.equal(start('s', { iotKey: world.charger.key }), 'authorisation_invalid');
    assert.equal(start('s', { iotKey: fresh }), 'authorisation_invalid');
    assert.equal(start('s', { startedAt: w.time + 60_001 }), 'time_in_future');
    const before = w.contents();
    assert.equal(
      w.run(relay, 'iot.startSession', {
        ...startPayload(world, 's', { time: w.time }),
        signature: 'A'.repeat(86),
      }),
      'signature_invalid',
    );
    assert.deepEqual(w.contents(), before, 'a refused start changes nothing');
    expectOk(start('s1'), 'start');
    assert.equal(start('s1'), 'session_exists');
  });

  it('needs the link, the merchant in the mandate, a tariff in the link asset and the funds', () => {
    const world = iotWorld();
    const { w, ca } = world;
    const start = (sessionId: string, serviceDevice = 'charger-1', key = world.charger.key) =>
      w.run(
        relay,
        'iot.startSession',
        startPayload(world, sessionId, { time: w.time, serviceDevice, serviceKey: key }),
      );
    const charger2 = issue(ca, 'service-device', 'charger-2');
    const charger3 = issue(ca, 'service-device', 'charger-3');
    expectOk(w.run(provider, 'iot.enrol', { certificate: charger2.pem }), 'charger-2');
    expectOk(w.run(provider, 'iot.enrol', { certificate: charger3.pem }), 'charger-3');
    expectOk(w.run(provider, 'iot.setTariff', { ...tariff, serviceDevice: 'charger-2' }), 't2');
    assert.equal(start('s', 'charger-2', charger2.key), 'merchant_not_allowed');
    const link = { iotDevice: 'car-1', wallet: 'wallet-1', asset };
    expectOk(
      w.run(owner, 'iot.link', {
        ...link,
        mandate: { ...mandate, merchants: ['charger-1', 'charger-3'] },
      }),
      'relink',
    );
    assert.equal(start('s', 'charger-3', charger3.key), 'tariff_not_found');
    expectOk(
      w.run(provider, 'iot.setTariff', { ...tariff, serviceDevice: 'charger-3', asset: 'EUR' }),
      't3',
    );
    assert.equal(start('s', 'charger-3', charger3.key), 'tariff_asset_mismatch');
    const ledger = w.ledger();
    assert.equal(
      ledger.transfer(owner.address, outsider.address, asset, funds - 9_999n),
      undefined,
    );
    assert.equal(start('s'), 'insufficient_funds');
    expectOk(w.run(owner, 'iot.unlink', { iotDevice: 'car-1' }), 'unlink');
    assert.equal(start('s'), 'link_not_found');
  });

  it('a revoked device, wallet or CA, or an expired certificate, starts nothing', () => {
    const cases: [string, (s: ReturnType<typeof iotWorld>) => void][] = [
      [
        'device_revoked',
        (s) =>
          expectOk(s.w.run(provider, 'iot.revoke', { deviceId: 'charger-1', reason: 'x' }), 'r'),
      ],
      [
        'device_revoked',
        (s) => expectOk(s.w.run(owner, 'iot.revoke', { deviceId: 'car-1', reason: 'x' }), 'r'),
      ],
      [
        'device_revoked',
        (s) => expectOk(s.w.run(owner, 'iot.revoke', { deviceId: 'wallet-1', reason: 'x' }), 'r'),
      ],
      [
        'ca_revoked',
        (s) =>
          expectOk(
            s.w.run(caOperator, 'iot.revokeCa', {
              ca: fingerprintOf(new X509Certificate(s.ca.pem)),
            }),
            'r',
          ),
      ],
      ['certificate_expired', (s) => s.w.advance(1, 366 * day)],
    ];
    for (const [code, breakIt] of cases) {
      const world = iotWorld();
      breakIt(world);
      assert.equal(
        world.w.run(relay, 'iot.startSession', startPayload(world, 's', { time: world.w.time })),
        code,
      );
    }
  });

  it('the day cap holds across sessions; an end gives back what it returns; a new UTC day starts afresh', () => {
    const world = iotWorld();
    const { w } = world;
    // Stay within one UTC day however late the test runs: start at the next day's 01:00.
    w.time = (Math.floor(w.time / day) + 1) * day + hour;
    const start = (sessionId: string) =>
      w.run(relay, 'iot.startSession', startPayload(world, sessionId, { time: w.time }));
    expectOk(start('d1'), 'd1');
    expectOk(start('d2'), 'd2');
    expectOk(start('d3'), 'd3');
    assert.equal(readSession(w.state, 'charger-1', 'd3')?.held, '5000', 'dayMax 25000 - 20000');
    assert.equal(start('d4'), 'day_cap_reached');
    expectOk(
      w.run(relay, 'iot.endSession', endPayload(world, 'd1', { meterEnd: 1000, endedAt: w.time })),
      'end d1',
    );
    expectOk(start('d5'), 'd5');
    assert.equal(readSession(w.state, 'charger-1', 'd5')?.held, '10000');
    assert.equal(start('d6'), 'day_cap_reached');
    w.advance(1, day);
    expectOk(start('d7'), 'the next day');
    audit(w);
  });
});

describe('the session hold: nobody moves it by the core hold txs', () => {
  it('an outsider, the payer and the provider cannot post it; only the provider may decline (void) it', () => {
    const s = started();
    const { w } = s;
    assert.equal(w.run(outsider, 'hold.post', { holdId: s.holdId }), 'hold_forbidden');
    assert.equal(w.run(outsider, 'hold.void', { holdId: s.holdId }), 'hold_forbidden');
    assert.equal(w.run(owner, 'hold.post', { holdId: s.holdId }), 'hold_forbidden');
    assert.equal(w.run(owner, 'hold.void', { holdId: s.holdId }), 'hold_forbidden');
    assert.equal(w.run(provider, 'hold.post', { holdId: s.holdId, amount: '1' }), 'hold_forbidden');
    assert.equal(w.ledger().hold(s.holdId)?.amount, '10000');
    // The payee may decline: the money goes back to the payer, and the session pays no more.
    expectOk(w.run(provider, 'hold.void', { holdId: s.holdId }), 'decline');
    w.advance(1, hour);
    expectOk(w.run(relay, 'iot.bill', firstBill(s, 4)), 'bill');
    const result = readBill(w.state, 'charger-1', 's1', 1)!;
    assert.equal(result.status, 'capped');
    assert.equal(result.captured, '0');
    assert.equal(w.balance(owner.address), funds);
  });
});

describe('iot.bill', () => {
  it('pays each bill from the hold (a partial capture) and registers its result with the bill tx', () => {
    const s = started();
    const { w } = s;
    w.advance(1, hour);
    const billTx = w.nextTxHash();
    expectOk(w.run(relay, 'iot.bill', firstBill(s, 10)), 'bill 1');
    assert.deepEqual(
      w.events.map((e) => e.type),
      ['iot.billPaid'],
    );
    assert.equal(w.events[0]?.data.payer, owner.address);
    assert.equal(w.events[0]?.data.provider, provider.address);
    const first = readBill(w.state, 'charger-1', 's1', 1)!;
    assert.equal(first.billTx, billTx);
    assert.equal(first.status, 'paid');
    assert.equal(first.amount, '2500');
    assert.equal(first.captured, '2500');
    assert.equal(first.remaining, '7500');
    assert.equal(w.ledger().hold(s.holdId)?.amount, '7500', 'the hold stays open with the rest');
    w.advance(1, hour);
    expectOk(
      w.run(
        relay,
        'iot.bill',
        billPayload(s, 's1', 2, {
          meterStart: 1010,
          usage: 12,
          from: s.startedAt + hour,
          to: s.startedAt + 2 * hour,
          amount: '3000',
        }),
      ),
      'bill 2',
    );
    assert.equal(w.balance(provider.address), 5500n);
    assert.equal(w.balance(owner.address), funds - 10_000n);
    const session = readSession(w.state, 'charger-1', 's1')!;
    assert.equal(session.lastSeq, 2);
    assert.equal(session.usage, '22');
    assert.equal(session.captured, '5500');
    assert.equal(session.meter, 1022);
    audit(w);
  });

  it('a replayed bill is bill_duplicate and changes nothing; a skipped seq is bill_out_of_order', () => {
    const s = started();
    const { w } = s;
    w.advance(1, hour);
    assert.equal(
      w.run(
        relay,
        'iot.bill',
        billPayload(s, 's1', 2, {
          meterStart: 1000,
          usage: 1,
          from: s.startedAt,
          to: s.startedAt + hour,
          amount: '250',
        }),
      ),
      'bill_out_of_order',
    );
    const bill = firstBill(s, 10);
    expectOk(w.run(relay, 'iot.bill', bill), 'bill');
    const before = w.contents();
    const balance = w.balance(provider.address);
    assert.equal(w.run(relay, 'iot.bill', bill), 'bill_duplicate');
    assert.equal(w.run(outsider, 'iot.bill', bill), 'bill_duplicate');
    assert.deepEqual(w.contents(), before);
    assert.equal(w.balance(provider.address), balance, 'paid once');
  });

  it('refuses forged and insane bills, each for its reason', () => {
    const s = started();
    const { w } = s;
    w.advance(1, hour);
    const fresh = generateKeyPairSync('ed25519').privateKey;
    const t0 = s.startedAt;
    const cases: [string, ReturnType<typeof billPayload>][] = [
      [
        'session_not_found',
        billPayload(s, 'other', 1, {
          meterStart: 1000,
          usage: 1,
          from: t0,
          to: t0 + hour,
          amount: '250',
        }),
      ],
      ['session_device_mismatch', firstBill(s, 1, { iotDevice: 'car-2' })],
      ['signature_invalid', firstBill(s, 1, { serviceKey: fresh })],
      [
        'signature_invalid',
        { ...firstBill(s, 1), bill: { ...firstBill(s, 1).bill, amount: '25' } },
      ],
      ['tariff_mismatch', firstBill(s, 1, { unitPrice: '200', amount: '200' })],
      ['tariff_mismatch', firstBill(s, 1, { unit: 'Wh' })],
      ['meter_negative', firstBill(s, 10, { meterEnd: 990 })],
      ['usage_mismatch', firstBill(s, 5, { meterEnd: 1010, amount: '1250' })],
      ['usage_mismatch', firstBill(s, 0, { amount: '0' })],
      ['meter_reset', firstBill(s, 10, { meterStart: 0 })],
      ['meter_gap', firstBill(s, 10, { meterStart: 1005 })],
      ['period_overlap', firstBill(s, 10, { from: t0 - 1 })],
      ['period_invalid', firstBill(s, 10, { from: t0 + hour, to: t0 + hour })],
      ['time_in_future', firstBill(s, 10, { to: w.time + 60_001 })],
      ['meter_rate_impossible', firstBill(s, 51)],
      ['meter_rate_impossible', firstBill(s, 25, { to: t0 + hour / 2 - 1 })],
      ['amount_mismatch', firstBill(s, 10, { amount: '2499' })],
    ];
    const before = w.contents();
    for (const [code, payload] of cases) {
      assert.equal(w.run(relay, 'iot.bill', payload), code, code);
      assert.deepEqual(w.contents(), before, `${code} changed state`);
    }
    // At exactly the rate limit it passes.
    expectOk(w.run(relay, 'iot.bill', firstBill(s, 25, { to: t0 + hour / 2 })), 'at the limit');
  });

  it('refuses malformed bills by their fields', () => {
    const s = started();
    const { w } = s;
    const good = firstBill(s, 1);
    const withBill = (bill: Record<string, unknown>) => ({
      ...good,
      bill: { ...good.bill, ...bill },
    });
    const detail = (d: Record<string, unknown>) =>
      withBill({ detail: { ...good.bill.detail, ...d } });
    const cases: [string, Record<string, unknown>][] = [
      ['invalid_seq', withBill({ seq: 0 })],
      ['invalid_seq', withBill({ seq: 100_001 })],
      ['invalid_bill_amount', withBill({ amount: '01' })],
      ['invalid_meter', detail({ meterStart: -1 })],
      ['invalid_price', detail({ unitPrice: 'x' })],
      ['invalid_bill_period', detail({ period: 'x' })],
      ['invalid_time', detail({ period: { from: -1, to: 2 } })],
      ['invalid_detail', detail({ extra: 1 })],
      ['invalid_bill', withBill({ extra: 1 })],
      ['invalid_device_signature', { ...good, signature: 'x' }],
      ['unknown_field', { ...good, extra: 1 }],
    ];
    for (const [code, payload] of cases)
      assert.equal(w.run(relay, 'iot.bill', payload), code, code);
    const end = endPayload(s, 's1', { meterEnd: 1000, endedAt: w.time });
    assert.equal(
      w.run(relay, 'iot.endSession', { ...end, end: { ...end.end, x: 1 } }),
      'invalid_end',
    );
    const start = startPayload(s, 's9', { time: w.time });
    assert.equal(
      w.run(relay, 'iot.startSession', { ...start, start: { ...start.start, x: 1 } }),
      'invalid_start',
    );
  });

  it('a revoked service or IoT device, a revoked CA or an expired certificate bills nothing', () => {
    const breakers: [string, (s: Started) => void][] = [
      [
        'device_revoked',
        (s) =>
          expectOk(s.w.run(caOperator, 'iot.revoke', { deviceId: 'charger-1', reason: 'x' }), 'r'),
      ],
      [
        'device_revoked',
        (s) => expectOk(s.w.run(owner, 'iot.revoke', { deviceId: 'car-1', reason: 'stolen' }), 'r'),
      ],
      [
        'ca_revoked',
        (s) =>
          expectOk(
            s.w.run(caOperator, 'iot.revokeCa', {
              ca: fingerprintOf(new X509Certificate(s.ca.pem)),
            }),
            'r',
          ),
      ],
    ];
    for (const [code, breakIt] of breakers) {
      const s = started();
      s.w.advance(1, hour);
      breakIt(s);
      assert.equal(s.w.run(relay, 'iot.bill', firstBill(s, 1)), code);
    }
    // A certificate that expires during a (long) session: its bills stop.
    const s = started('s1', { mandate: { ...mandate, sessionBlocks: 1000 } });
    s.w.advance(1, 366 * day);
    assert.equal(s.w.run(relay, 'iot.bill', firstBill(s, 1)), 'certificate_expired');
  });

  it('a bill over what is left captures the rest: status capped, the session closed', () => {
    const s = started();
    const { w } = s;
    w.advance(1, hour);
    expectOk(w.run(relay, 'iot.bill', firstBill(s, 45)), 'capped bill');
    const result = readBill(w.state, 'charger-1', 's1', 1)!;
    assert.equal(result.status, 'capped');
    assert.equal(result.amount, '11250');
    assert.equal(result.captured, '10000');
    assert.equal(result.unpaid, '1250');
    assert.equal(result.remaining, '0');
    assert.equal(readSession(w.state, 'charger-1', 's1')?.status, 'capped');
    assert.equal(w.ledger().hold(s.holdId), undefined, 'the hold is used up');
    assert.equal(w.balance(provider.address), 10_000n);
    w.advance(1, hour);
    const next = billPayload(s, 's1', 2, {
      meterStart: 1045,
      usage: 1,
      from: s.startedAt + hour,
      to: s.startedAt + 2 * hour,
      amount: '250',
    });
    assert.equal(w.run(relay, 'iot.bill', next), 'session_closed');
    assert.equal(
      w.run(relay, 'iot.endSession', endPayload(s, 's1', { meterEnd: 1045, endedAt: w.time })),
      'session_closed',
    );
    audit(w);
  });
});

describe('iot.endSession and the hold expiry', () => {
  it('the end voids the rest of the hold and closes the session', () => {
    const s = started();
    const { w } = s;
    w.advance(1, hour);
    expectOk(w.run(relay, 'iot.bill', firstBill(s, 10)), 'bill');
    const end = endPayload(s, 's1', { meterEnd: 1010, endedAt: w.time });
    assert.equal(
      w.run(relay, 'iot.endSession', {
        ...end,
        signature: endPayload(s, 's1', { meterEnd: 1011, endedAt: w.time }).signature,
      }),
      'signature_invalid',
    );
    assert.equal(
      w.run(relay, 'iot.endSession', endPayload(s, 'nope', { meterEnd: 1010, endedAt: w.time })),
      'session_not_found',
    );
    assert.equal(
      w.run(relay, 'iot.endSession', endPayload(s, 's1', { meterEnd: 1009, endedAt: w.time })),
      'meter_reset',
    );
    assert.equal(
      w.run(relay, 'iot.endSession', endPayload(s, 's1', { meterEnd: 1010, endedAt: s.startedAt })),
      'period_overlap',
    );
    assert.equal(
      w.run(
        relay,
        'iot.endSession',
        endPayload(s, 's1', { meterEnd: 1010, endedAt: w.time + 60_001 }),
      ),
      'time_in_future',
    );
    expectOk(w.run(relay, 'iot.endSession', end), 'end');
    assert.equal(w.events[0]?.type, 'iot.sessionEnded');
    assert.equal(w.events[0]?.data.returned, '7500');
    const session = readSession(w.state, 'charger-1', 's1')!;
    assert.equal(session.status, 'ended');
    assert.equal(session.end?.returned, '7500');
    assert.equal(w.ledger().hold(s.holdId), undefined);
    assert.equal(w.balance(owner.address), funds - 2500n);
    assert.equal(w.balance(provider.address), 2500n);
    assert.equal(w.run(relay, 'iot.endSession', end), 'session_closed');
    audit(w);
  });

  it('past its expiry the hold returns to the payer: the session reads expired and takes no bill or end', () => {
    const s = started();
    const { w } = s;
    const session = readSession(w.state, 'charger-1', 's1')!;
    w.advance(session.expiresAtHeight - w.height + 1, hour);
    assert.equal(sessionView(w.state, session, w.height).status, 'expired');
    assert.equal(w.run(relay, 'iot.bill', firstBill(s, 1)), 'session_expired');
    assert.equal(w.balance(owner.address), funds, 'the block refunded the hold');
    assert.equal(
      w.run(relay, 'iot.endSession', endPayload(s, 's1', { meterEnd: 1000, endedAt: w.time })),
      'session_expired',
    );
  });

  it('a revoked service device may still end its session (an end only returns money)', () => {
    const s = started();
    const { w } = s;
    expectOk(w.run(provider, 'iot.revoke', { deviceId: 'charger-1', reason: 'x' }), 'revoke');
    expectOk(
      w.run(relay, 'iot.endSession', endPayload(s, 's1', { meterEnd: 1000, endedAt: w.time })),
      'end',
    );
    assert.equal(w.balance(owner.address), funds);
  });
});

describe('amounts add up exactly (property)', () => {
  it('any sequence of usages bills exactly price(total usage); captured + returned == held', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 999 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 20_000 }),
        (usages, unitPrice, unitsPer, sessionMax) => {
          const s = started('s1', {
            mandate: { ...mandate, sessionMax: String(sessionMax), dayMax: String(sessionMax) },
            tariff: { unitPrice: String(unitPrice), unitsPer, maxRatePerHour: 1000 },
          });
          const { w } = s;
          let meter = 1000;
          let total = 0n;
          let billed = 0n;
          let captured = 0n;
          let seq = 0;
          for (const usage of usages) {
            w.advance(1, hour);
            const amount = billAmount(total, BigInt(usage), BigInt(unitPrice), BigInt(unitsPer));
            const payload = billPayload(s, 's1', seq + 1, {
              meterStart: meter,
              usage,
              from: s.startedAt + seq * hour,
              to: s.startedAt + (seq + 1) * hour,
              amount: amount.toString(),
              unitPrice: String(unitPrice),
            });
            const result = w.run(relay, 'iot.bill', payload);
            if (result === 'session_closed') break;
            assert.equal(result, 'ok');
            seq += 1;
            meter += usage;
            total += BigInt(usage);
            billed += amount;
            captured += BigInt(readBill(w.state, 'charger-1', 's1', seq)!.captured);
          }
          assert.equal(billed, priceOf(total, BigInt(unitPrice), BigInt(unitsPer)));
          const session = readSession(w.state, 'charger-1', 's1')!;
          assert.equal(BigInt(session.billed), billed);
          assert.equal(BigInt(session.captured), captured);
          assert.equal(BigInt(session.captured) + BigInt(session.unpaid), billed);
          let returned = 0n;
          if (session.status === 'open') {
            expectOk(
              w.run(
                relay,
                'iot.endSession',
                endPayload(s, 's1', { meterEnd: meter, endedAt: w.time }),
              ),
              'end',
            );
            returned = BigInt(readSession(w.state, 'charger-1', 's1')!.end!.returned);
          }
          assert.equal(captured + returned, BigInt(session.held));
          assert.equal(w.balance(provider.address), captured);
          assert.equal(w.balance(owner.address), funds - captured);
          audit(w);
        },
      ),
      { numRuns: 40 },
    );
  });
});
