import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';

import Fastify from 'fastify';

import '../registry.js';
import type { ModuleHost } from '../../node/module-host.js';
import { iotRoutes } from './routes.js';
import type {
  BillResult,
  CaPage,
  DevicePage,
  DeviceView,
  SessionDetail,
  SessionPage,
} from './schema.js';
import {
  billPayload,
  caOperator,
  chainId,
  expectOk,
  iotWorld,
  makeCa,
  owner,
  provider,
  relay,
  startPayload,
} from './txs-fixture.js';
import { fingerprintOf } from './x509.js';

/*
 * The iot reads over HTTP, in process (`app.inject`), on a world with a CA, a car, a wallet and a
 * charger, three sessions (one billed, one expired): the answers, the filters, the pages and the
 * error codes with their statuses.
 */

const hour = 3_600_000;

async function host() {
  const world = iotWorld();
  const { w } = world;
  const t0 = w.time;
  for (const id of ['s1', 's2', 's3']) {
    expectOk(w.run(relay, 'iot.startSession', startPayload(world, id, { time: w.time })), id);
  }
  w.advance(1, hour);
  expectOk(
    w.run(
      relay,
      'iot.bill',
      billPayload(world, 's1', 1, {
        meterStart: 1000,
        usage: 4,
        from: t0,
        to: t0 + hour,
        amount: '1000',
      }),
    ),
    'bill',
  );
  const app = Fastify();
  iotRoutes({
    app,
    store: w.state,
    chain: { chainId, latest: () => ({ header: { time: w.time, height: w.height - 1 } }) },
  } as unknown as ModuleHost);
  await app.ready();
  const get = async <T>(url: string) => {
    const response = await app.inject({ method: 'GET', url });
    return {
      status: response.statusCode,
      body: JSON.parse(response.body) as T & { error?: { code: string; field?: string } },
    };
  };
  return { ...world, app, get };
}

describe('iot routes', () => {
  it('CAs: the list, one CA, and the codes of bad or unknown ids', async () => {
    const h = await host();
    const id = fingerprintOf(new X509Certificate(makeCa('Coffer Test CA').pem));
    const page = await h.get<CaPage>('/v1/iot/cas');
    assert.equal(page.status, 200);
    assert.deepEqual(
      page.body.cas.map((c) => c.ca),
      [id],
    );
    assert.equal(page.body.next, null);
    const one = await h.get<{ operator: string }>(`/v1/iot/cas/${id}`);
    assert.equal(one.body.operator, caOperator.address);
    assert.equal((await h.get(`/v1/iot/cas/${'0'.repeat(64)}`)).status, 404);
    const bad = await h.get('/v1/iot/cas/XYZ');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error?.code, 'invalid_ca');
    assert.equal((await h.get('/v1/iot/cas?limit=0')).body.error?.code, 'invalid_request');
    assert.equal((await h.get('/v1/iot/cas?limit=101')).body.error?.code, 'invalid_request');
  });

  it('devices: one with its link or tariff, an owner’s devices a page at a time', async () => {
    const h = await host();
    const car = await h.get<DeviceView>('/v1/iot/devices/car-1');
    assert.equal(car.status, 200);
    assert.equal(car.body.device.role, 'iot-device');
    assert.equal(car.body.caStatus, 'active');
    assert.equal(car.body.link?.wallet, 'wallet-1');
    assert.equal(car.body.tariff, undefined);
    const charger = await h.get<DeviceView>('/v1/iot/devices/charger-1');
    assert.equal(charger.body.tariff?.provider, provider.address);
    const missing = await h.get('/v1/iot/devices/ghost');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error?.code, 'iot_device_not_found');
    assert.equal((await h.get('/v1/iot/devices/Bad_Id')).body.error?.code, 'invalid_device_id');
    const first = await h.get<DevicePage>(`/v1/iot/devices?owner=${owner.address}&limit=1`);
    assert.deepEqual(
      first.body.devices.map((d) => d.deviceId),
      ['car-1'],
    );
    assert.equal(first.body.next, 'car-1');
    const second = await h.get<DevicePage>(`/v1/iot/devices?owner=${owner.address}&after=car-1`);
    assert.deepEqual(
      second.body.devices.map((d) => d.deviceId),
      ['wallet-1'],
    );
    assert.equal(second.body.next, null);
    assert.equal(
      (await h.get('/v1/iot/devices?owner=cof1nope')).body.error?.code,
      'invalid_address',
    );
  });

  it('sessions: filters by service device, iot device, payer and status; pages', async () => {
    const h = await host();
    const all = await h.get<SessionPage>('/v1/iot/sessions');
    assert.deepEqual(
      all.body.sessions.map((s) => s.sessionId),
      ['s1', 's2', 's3'],
    );
    const s1 = all.body.sessions[0]!;
    assert.equal(s1.remaining, '9000');
    assert.equal(s1.captured, '1000');
    for (const query of [
      'serviceDevice=charger-1',
      'iotDevice=car-1',
      `payer=${owner.address}`,
      'status=open',
    ]) {
      const page = await h.get<SessionPage>(`/v1/iot/sessions?${query}`);
      assert.equal(page.body.sessions.length, 3, query);
    }
    assert.equal(
      (await h.get<SessionPage>('/v1/iot/sessions?iotDevice=car-2')).body.sessions.length,
      0,
    );
    assert.equal(
      (await h.get<SessionPage>(`/v1/iot/sessions?payer=${provider.address}`)).body.sessions.length,
      0,
    );
    assert.equal(
      (await h.get<SessionPage>('/v1/iot/sessions?status=ended')).body.sessions.length,
      0,
    );
    const page1 = await h.get<SessionPage>('/v1/iot/sessions?serviceDevice=charger-1&limit=2');
    assert.deepEqual(
      page1.body.sessions.map((s) => s.sessionId),
      ['s1', 's2'],
    );
    assert.equal(page1.body.next, 'charger-1/s2');
    const page2 = await h.get<SessionPage>(
      `/v1/iot/sessions?serviceDevice=charger-1&after=${page1.body.next}`,
    );
    assert.deepEqual(
      page2.body.sessions.map((s) => s.sessionId),
      ['s3'],
    );
    assert.equal(page2.body.next, null);
    assert.equal((await h.get('/v1/iot/sessions?status=done')).body.error?.code, 'invalid_request');
    assert.equal((await h.get('/v1/iot/sessions?after=nope')).body.error?.code, 'invalid_request');
    // Past the holds' expiry every open session reads expired, with nothing left.
    h.w.advance(200);
    const expired = await h.get<SessionPage>('/v1/iot/sessions?status=expired');
    assert.equal(expired.body.sessions.length, 3);
    assert.ok(expired.body.sessions.every((s) => s.remaining === '0'));
  });

  it("a session with its bills' results, and one bill", async () => {
    const h = await host();
    const detail = await h.get<SessionDetail>('/v1/iot/sessions/charger-1/s1');
    assert.equal(detail.status, 200);
    assert.equal(detail.body.session.status, 'open');
    assert.equal(detail.body.bills.length, 1);
    assert.equal(detail.body.bills[0]?.captured, '1000');
    assert.equal(detail.body.billsNext, null);
    const bill = await h.get<BillResult>('/v1/iot/sessions/charger-1/s1/bills/1');
    assert.equal(bill.body.status, 'paid');
    assert.equal(bill.body.payer, owner.address);
    assert.match(bill.body.billTx, /^[0-9a-f]{64}$/);
    const codes: [string, number, string][] = [
      ['/v1/iot/sessions/charger-1/nope', 404, 'session_not_found'],
      ['/v1/iot/sessions/charger-1/s1/bills/2', 404, 'bill_not_found'],
      ['/v1/iot/sessions/charger-1/s1/bills/0', 400, 'invalid_seq'],
      ['/v1/iot/sessions/charger-1/a%20b', 400, 'invalid_session_id'],
      ['/v1/iot/sessions/Charger/s1', 400, 'invalid_device_id'],
    ];
    for (const [url, status, code] of codes) {
      const answer = await h.get(url);
      assert.equal(answer.status, status, url);
      assert.equal(answer.body.error?.code, code, url);
    }
  });
});
