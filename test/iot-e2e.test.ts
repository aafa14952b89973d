// IoT payments over MQTT end to end, as issue 20 asks: a real mosquitto with TLS and client
// certificates from the PKI operators use, the broker ACL, a Coffer node process and the payment
// service. The first part needs no chain module: the broker's refusals (another CA, another
// device's topic) and the service's own bounds (malformed, oversized, misaddressed messages),
// with the service in this process. The second runs the payments with the service as its own
// process (`coffer iot serve`): a charging session with three bills whose results reach all three
// parties, a revoked device, a forged signature, a replayed bill, a meter reset, a mandate cap and
// the service killed with SIGKILL mid-session. Build first (npm test does):
// npx tsc -p tsconfig.build.json.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';

import { createCa, issueParty } from '../src/modules/iot/pki/certificates.js';
import {
  billMessage,
  billsFor,
  endMessage,
  price,
  startMessage,
} from '../src/modules/iot/sim/billing.js';
import type { DeviceConnection } from '../src/modules/iot/sim/device.js';
import { billsTopic, runServiceSession, sessionTopic } from '../src/modules/iot/sim/session.js';
import type { IotResult } from '../src/modules/iot/service/messages.js';
import { startIotService, type RunningIotService } from '../src/modules/iot/service/server.js';
import { iotServiceConfigSchema } from '../src/modules/iot/service/config.js';
import type { BillResult } from '../src/modules/iot/schema.js';
import type { WebhookPayload } from '../src/node/webhooks/watcher.js';
import { generateKey } from '../src/sdk/index.js';
import { childEnv, cliPath, describeRun, runCli } from './support/cli.js';
import { startCofferChain, writeSecret, type CofferChain } from './support/coffer-chains.js';
import {
  car2Mandate,
  chargerRatePerHourMax,
  chargerTariff,
  connectParty,
  createIotPki,
  startBroker,
  startIotWorld,
  type IotPki,
  type IotWorld,
} from './support/iot-world.js';
import type { Mosquitto } from './support/mosquitto.js';
import { WebhookReceiver, verifyWebhook } from './support/webhook-receiver.js';

const suiteTimeoutMs = 300_000;
/** A quiet period long enough for a message to cross a local broker and the service. */
const settleMs = 500;
/** 15-minute billing periods, back-dated so the last ends now (the charger's 22 kW allows it). */
const periodMs = 15 * 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('iot transport: the broker and the service bounds', { timeout: suiteTimeoutMs }, () => {
  let dir: string;
  let pki: IotPki;
  let broker: Mosquitto;
  let chain: CofferChain;
  let service: RunningIotService;
  const events: { event: string; fields: Record<string, unknown> }[] = [];
  const connections: DeviceConnection[] = [];

  const connect = async (deviceId: string, options: { subscribeResults?: boolean } = {}) => {
    const connection = await connectParty(broker, pki, pki.party(deviceId), options);
    connections.push(connection);
    return connection;
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-iot-transport-'));
    pki = await createIotPki(path.join(dir, 'pki'));
    [broker, chain] = await Promise.all([startBroker(pki), startCofferChain(dir, 'iot-transport')]);
    const config = iotServiceConfigSchema.parse({
      node: { url: chain.url },
      keyFile: writeSecret(path.join(dir, 'relayer.key'), generateKey().secretKey),
      mqtt: {
        url: broker.url,
        caFile: pki.caFile,
        certFile: pki.service.certificateFile,
        keyFile: pki.service.keyFile,
      },
      http: { port: 0 },
    });
    service = await startIotService(config, {
      log: (_level, event, fields = {}) => events.push({ event, fields }),
    });
    // The subscription is made on connect: wait until the service is subscribed.
    for (let i = 0; i < 100 && !events.some((e) => e.event === 'mqtt_connected'); i++) {
      await sleep(20);
    }
    await sleep(100);
  });

  after(async () => {
    await Promise.all(connections.map((c) => c.close().catch(() => undefined)));
    await service?.close();
    await broker?.stop();
    await chain?.process.kill();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('delivers a device nothing of another device’s topics, whatever it subscribes to', async () => {
    // mosquitto 2's acl_file never refuses a SUBSCRIBE (SUBACK grants it, 3.1.1 and 5 alike: see
    // eclipse-mosquitto/mosquitto#2042); its read rules refuse the delivery of each message. So
    // the property to hold is that nothing arrives, checked here with a message to every party.
    const car = await connect('car-1', { subscribeResults: false });
    const heard: string[] = [];
    car.client.on('message', (topic, payload) => heard.push(`${topic} ${payload.toString()}`));
    for (const topic of [
      'coffer/iot/wallet-1/results',
      'coffer/iot/+/results',
      'coffer/iot/charger-1/bills',
      '#',
    ]) {
      assert.notEqual(await car.subscribe(topic), 128, `mosquitto 2 grants ${topic}`);
    }
    const service = await connectParty(broker, pki, pki.service, { subscribeResults: false });
    connections.push(service);
    const charger = await connect('charger-1', { subscribeResults: false });
    await service.publish('coffer/iot/wallet-1/results', { to: 'wallet-1' });
    await charger.publish(billsTopic('charger-1'), { to: 'the service' });
    await service.publish('coffer/iot/car-1/results', { to: 'car-1' });
    for (let i = 0; i < 100 && heard.length === 0; i++) await sleep(20);
    await sleep(settleMs);
    assert.deepEqual(heard, ['coffer/iot/car-1/results {"to":"car-1"}']);
  });

  it('refuses a device publishing on another device’s topic: dropped (3.1.1), reason 135 (MQTT 5)', async () => {
    const party = pki.party('car-2');
    const v5 = await mqtt.connectAsync(broker.url, {
      ca: pki.ca.certificatePem,
      cert: party.certificatePem,
      key: party.privateKeyPem,
      servername: 'localhost',
      protocolVersion: 5,
      clientId: 'car-2-v5',
      reconnectPeriod: 0,
    });
    try {
      const refused = await v5.publishAsync(billsTopic('charger-1'), '{}', { qos: 1 }).then(
        (packet) => (packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0,
        (error: { code?: number }) => error.code ?? -1,
      );
      assert.equal(refused, 135, 'PUBACK 0x87 not authorized');
    } finally {
      await v5.endAsync(true);
    }
  });

  it('drops a bill published on another device’s topic: nothing reaches the service', async () => {
    // An observer with the service's certificate under another client id sees what the service
    // would see.
    const observer = await connectParty(broker, pki, pki.service, {
      subscribeResults: false,
      clientId: 'coffer-iot-observer',
    });
    connections.push(observer);
    assert.equal(await observer.subscribe('coffer/iot/+/bills'), 1);
    const seen: string[] = [];
    observer.client.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
    const car = await connect('car-2', { subscribeResults: false });
    const charger = await connect('charger-1', { subscribeResults: false });
    // mosquitto acknowledges a QoS 1 publish it refuses (3.1.1 has no way to say no) and drops it.
    await car.publish(billsTopic('charger-1'), { forged: 'by car-2' });
    await charger.publish(billsTopic('charger-1'), { control: 'by charger-1' });
    for (let i = 0; i < 100 && seen.length === 0; i++) await sleep(20);
    await sleep(settleMs);
    assert.deepEqual(seen, ['coffer/iot/charger-1/bills {"control":"by charger-1"}']);
  });

  it('refuses at the TLS handshake a client whose certificate another CA issued', async () => {
    const otherCa = await createCa({ name: 'Rogue CA' });
    const rogue = await issueParty({ ca: otherCa, deviceId: 'charger-1', role: 'service-device' });
    await assert.rejects(
      mqtt.connectAsync(broker.url, {
        ca: pki.ca.certificatePem,
        cert: rogue.certificatePem,
        key: rogue.privateKeyPem,
        servername: 'localhost',
        reconnectPeriod: 0,
        connectTimeout: 5_000,
      }),
    );
  });

  it('answers a malformed message invalid_message on the sender’s topic only, and goes on', async () => {
    const charger = await connect('charger-1');
    const car = await connect('car-1');
    await charger.publish(billsTopic('charger-1'), { bill: { seq: 'one' }, signature: 'x' });
    const answer = await charger.nextResult((r) => r.code === 'invalid_message', 10_000);
    assert.equal(answer.status, 'rejected');
    assert.match(String(answer.message), /bill/);
    // Not JSON at all.
    await charger.client.publishAsync(billsTopic('charger-1'), 'not json', { qos: 1 });
    await charger.nextResult((r) => r.code === 'invalid_message', 10_000);
    // A start on the bills topic, and a message about another service device.
    const start = startMessage(
      'any-chain',
      {
        serviceDevice: 'charger-1',
        iotDevice: 'car-1',
        sessionId: 's-1',
        meterStart: 0,
        startedAt: 1,
        authorisation: 'x'.repeat(86),
      },
      pki.party('charger-1').privateKeyPem,
    );
    await charger.publish(billsTopic('charger-1'), start);
    assert.match(
      String((await charger.nextResult((r) => r.code === 'invalid_message', 10_000)).message),
      /does not belong on bills/,
    );
    await charger.publish(sessionTopic('charger-1'), {
      ...start,
      start: { ...start.start, serviceDevice: 'charger-9' },
    });
    assert.match(
      String((await charger.nextResult((r) => r.code === 'invalid_message', 10_000)).message),
      /names service device charger-9/,
    );
    await sleep(settleMs);
    assert.deepEqual(car.results, [], 'the car hears nothing of messages that name no session');
    assert.ok(events.some((e) => e.event === 'invalid_message'));

    // And it still relays: a well-formed start goes to the chain, whose answer comes back (here a
    // refusal: this world has no devices enrolled).
    await charger.publish(sessionTopic('charger-1'), start);
    const relayed = await charger.nextResult((r) => r.kind === 'start' && r.sessionId === 's-1');
    assert.equal(relayed.status, 'rejected');
    assert.equal(typeof relayed.code, 'string');
    assert.notEqual(relayed.code, 'invalid_message');
  });

  it('drops a message over 16 KiB with a logged code, unanswered', async () => {
    const charger = await connect('charger-1');
    const before = service.stats.tooLarge;
    await charger.publish(billsTopic('charger-1'), { padding: 'x'.repeat(17 * 1024) });
    for (let i = 0; i < 100 && service.stats.tooLarge === before; i++) await sleep(20);
    assert.equal(service.stats.tooLarge, before + 1);
    assert.ok(
      events.some((e) => e.event === 'message_too_large' && Number(e.fields.bytes) > 16 * 1024),
    );
    await sleep(settleMs);
    assert.deepEqual(charger.results, []);
  });

  it('serves GET /health and refuses a malformed POST /v1/iot/messages with 400', async () => {
    const health = (await (await fetch(`${service.url}/health`)).json()) as Record<string, unknown>;
    assert.equal(health.status, 'ok');
    const refused = await fetch(`${service.url}/v1/iot/messages`, {
      method: 'POST',
      body: JSON.stringify({ bill: {} }),
    });
    assert.equal(refused.status, 400);
    assert.equal(
      ((await refused.json()) as { error: { code: string } }).error.code,
      'invalid_message',
    );
    const large = await fetch(`${service.url}/v1/iot/messages`, {
      method: 'POST',
      body: 'x'.repeat(17 * 1024),
    });
    assert.equal(large.status, 413);
  });
});

// ---- payments ----------------------------------------------------------------------------------

describe('iot payments over MQTT end to end', { timeout: suiteTimeoutMs }, () => {
  let world: IotWorld;

  before(async () => {
    world = await startIotWorld();
    await world.startService();
  });

  after(async () => {
    await world?.close();
  });

  async function ownedUsd(address: string): Promise<bigint> {
    const entry = (await world.chain.client.getAccount(address)).balances.find(
      (x) => x.asset === 'USD',
    );
    return BigInt(entry?.balance ?? '0') + BigInt(entry?.held ?? '0');
  }

  async function sessionRecord(sessionId: string): Promise<Record<string, unknown>> {
    const response = await fetch(`${world.chain.url}/v1/iot/sessions/charger-1/${sessionId}`);
    assert.equal(response.status, 200);
    return (await response.json()) as Record<string, unknown>;
  }

  /** Starts a session of charger-1 for `car` and waits for its result. */
  async function start(charger: DeviceConnection, car: string, sessionId: string, meter = 0) {
    const serviceDevice = charger.deviceId;
    await charger.publish(
      sessionTopic(serviceDevice),
      startMessage(
        world.chainId,
        {
          serviceDevice,
          iotDevice: car,
          sessionId,
          meterStart: meter,
          startedAt: Date.now() - 3 * periodMs,
          authorisation: world.authorisation(serviceDevice, car, sessionId),
        },
        world.pki.party(serviceDevice).privateKeyPem,
      ),
    );
    const result = await charger.nextResult((r) => r.kind === 'start' && r.sessionId === sessionId);
    assert.equal(result.status, 'started', JSON.stringify(result));
    return result;
  }

  function bills(car: string, sessionId: string, readings: number[], serviceDevice = 'charger-1') {
    return billsFor({
      serviceDevice,
      iotDevice: car,
      sessionId,
      tariff: chargerTariff,
      readings,
      periodMs,
      startedAt: Date.now() - 3 * periodMs,
    });
  }

  const chargerKey = () => world.pki.party('charger-1').privateKeyPem;

  it('runs a charging session: start, three bills, end, every result to all three parties', async () => {
    const charger = await world.connect('charger-1');
    const car = await world.connect('car-1');
    const wallet = await world.connect('wallet-1');
    const providerBefore = await ownedUsd(world.provider.address);
    const sessionId = 'charge-1';
    const results = await runServiceSession({
      chainId: world.chainId,
      device: charger,
      key: chargerKey(),
      iotDevice: 'car-1',
      sessionId,
      authorisation: world.authorisation('charger-1', 'car-1', sessionId),
      tariff: chargerTariff,
      meterStart: 1_254_300,
      steps: [3_500, 4_200, 3_900],
      periodMs,
    });
    assert.deepEqual(
      results.map((r) => `${r.kind}:${r.status}`),
      ['start:started', 'bill:paid', 'bill:paid', 'bill:paid', 'end:ended'],
      JSON.stringify(results),
    );
    const paid = results.filter((r) => r.kind === 'bill');
    const total = paid.reduce((sum, r) => sum + BigInt(String(r.amount)), 0n);
    assert.equal(total, price(11_600n, chargerTariff), 'the bills sum to the price of 11.6 kWh');
    for (const party of [car, wallet]) {
      const heard = await Promise.all(
        results.map((r) =>
          party.nextResult(
            (x) => x.sessionId === sessionId && x.kind === r.kind && x.seq === r.seq,
          ),
        ),
      );
      assert.deepEqual(
        heard.map((r) => r.tx),
        results.map((r) => r.tx),
        `${party.deviceId} heard every result`,
      );
    }
    assert.equal((await ownedUsd(world.provider.address)) - providerBefore, total);
    const session = await sessionRecord(sessionId);
    assert.match(JSON.stringify(session), /"ended"/);
  });

  it('pays a replayed bill once and republishes its stored result', async () => {
    const charger = await world.connect('charger-1');
    const sessionId = 'replay-1';
    await start(charger, 'car-1', sessionId);
    const [bill] = bills('car-1', sessionId, [0, 2_000]);
    const message = billMessage(world.chainId, bill!, chargerKey());
    const providerBefore = await ownedUsd(world.provider.address);
    await charger.publish(billsTopic('charger-1'), message);
    const first = await charger.nextResult((r) => r.sessionId === sessionId && r.seq === 1);
    await charger.publish(billsTopic('charger-1'), message);
    const second = await charger.nextResult((r) => r.sessionId === sessionId && r.seq === 1);
    assert.equal(first.status, 'paid');
    assert.equal(first.replay, undefined);
    assert.equal(second.replay, true);
    assert.equal(second.tx, first.tx, 'the same payment');
    assert.equal(second.amount, first.amount);
    assert.equal(
      (await ownedUsd(world.provider.address)) - providerBefore,
      BigInt(String(first.amount)),
      'paid once',
    );
  });

  it('refuses a bill with a forged signature', async () => {
    const charger = await world.connect('charger-1');
    const sessionId = 'forged-1';
    await start(charger, 'car-1', sessionId);
    const [bill] = bills('car-1', sessionId, [0, 2_000]);
    // Signed by the car's key: a bill in the charger's name that the charger never made.
    const forged = billMessage(world.chainId, bill!, world.pki.party('car-1').privateKeyPem);
    await charger.publish(billsTopic('charger-1'), forged);
    const result = await charger.nextResult((r) => r.sessionId === sessionId && r.seq === 1);
    assert.equal(result.status, 'rejected');
    assert.match(String(result.code), /signature/);
    const stored = await fetch(`${world.chain.url}/v1/iot/sessions/charger-1/${sessionId}/bills/1`);
    assert.equal(stored.status, 404, 'nothing stored, nothing paid');
  });

  it('refuses a meter reset', async () => {
    const charger = await world.connect('charger-1');
    const sessionId = 'reset-1';
    await start(charger, 'car-1', sessionId, 5_000);
    const [first] = bills('car-1', sessionId, [5_000, 6_000]);
    await charger.publish(
      billsTopic('charger-1'),
      billMessage(world.chainId, first!, chargerKey()),
    );
    assert.equal(
      (await charger.nextResult((r) => r.sessionId === sessionId && r.seq === 1)).status,
      'paid',
    );
    // The meter restarted at 0: bill 2 would count 0..1000 as new usage.
    const [, reset] = bills('car-1', sessionId, [5_000, 6_000, 1_000]);
    const resetBill = {
      ...reset!,
      detail: { ...reset!.detail, meterStart: 0, meterEnd: 1_000, usage: 1_000 },
      // The amount the chain would compute if it counted the reset as 1 kWh more.
      amount: (price(2_000n, chargerTariff) - price(1_000n, chargerTariff)).toString(),
    };
    await charger.publish(
      billsTopic('charger-1'),
      billMessage(world.chainId, resetBill, chargerKey()),
    );
    const refused = await charger.nextResult((r) => r.sessionId === sessionId && r.seq === 2);
    assert.equal(refused.status, 'rejected');
    assert.equal(refused.code, 'meter_reset');
  });

  it('stops a session at the mandate cap', async () => {
    const charger = await world.connect('charger-1');
    const wallet = await world.connect('wallet-2');
    const sessionId = 'cap-1';
    await start(charger, 'car-2', sessionId);
    // 105 + 126 = 231 minor units against a session cap of 200.
    const [one, two, three] = bills('car-2', sessionId, [0, 3_500, 7_700, 11_600]);
    const results: IotResult[] = [];
    for (const bill of [one!, two!, three!]) {
      await charger.publish(
        billsTopic('charger-1'),
        billMessage(world.chainId, bill, chargerKey()),
      );
      results.push(
        await charger.nextResult((r) => r.sessionId === sessionId && r.seq === bill.seq),
      );
    }
    assert.equal(results[0]!.status, 'paid');
    assert.equal(results[1]!.status, 'capped');
    assert.equal(
      BigInt(String(results[0]!.captured)) + BigInt(String(results[1]!.captured)),
      BigInt(car2Mandate.sessionMax),
    );
    assert.equal(results[1]!.unpaid, '31');
    assert.equal(results[2]!.status, 'rejected');
    assert.equal(results[2]!.code, 'session_closed');
    const heard = await wallet.nextResult((r) => r.sessionId === sessionId && r.seq === 2);
    assert.equal(heard.status, 'capped', 'the wallet hears of the cap');
  });

  it('refuses a revoked device’s bill', async () => {
    // The bill's signer is the service device: charger-2, revoked by its owner mid-session.
    const charger2 = await world.pki.add('charger-2', 'service-device');
    const car = await world.pki.add('car-3', 'iot-device');
    const walletParty = await world.pki.add('wallet-3', 'wallet');
    await world.enrol(world.provider, charger2);
    await world.send(world.provider, 'iot.setTariff', {
      serviceDevice: 'charger-2',
      asset: 'USD',
      ...chargerTariff,
      maxRatePerHour: chargerRatePerHourMax,
    });
    await world.enrol(world.driver, car);
    await world.enrol(world.driver, walletParty);
    await world.send(world.driver, 'iot.link', {
      iotDevice: 'car-3',
      wallet: 'wallet-3',
      asset: 'USD',
      mandate: {
        sessionMax: '5000',
        dayMax: '10000',
        sessionBlocks: 100_000,
        merchants: ['charger-2'],
      },
    });
    const charger = await world.connect('charger-2');
    const wallet = await world.connect('wallet-3');
    const sessionId = 'revoked-1';
    await start(charger, 'car-3', sessionId);
    const [one, two] = bills('car-3', sessionId, [0, 1_000, 2_000], 'charger-2');
    const key = charger2.privateKeyPem;
    await charger.publish(billsTopic('charger-2'), billMessage(world.chainId, one!, key));
    assert.equal(
      (await charger.nextResult((r) => r.sessionId === sessionId && r.seq === 1)).status,
      'paid',
    );
    await world.send(world.provider, 'iot.revoke', { deviceId: 'charger-2', reason: 'stolen' });
    await charger.publish(billsTopic('charger-2'), billMessage(world.chainId, two!, key));
    const refused = await charger.nextResult((r) => r.sessionId === sessionId && r.seq === 2);
    assert.equal(refused.status, 'rejected');
    assert.equal(refused.code, 'device_revoked');
    const heard = await wallet.nextResult((r) => r.sessionId === sessionId && r.seq === 2);
    assert.equal(heard.code, 'device_revoked', 'the wallet hears of the refusal');
  });

  it('loses no bill and pays none twice when the service is killed mid-session', async () => {
    const charger = await world.connect('charger-1');
    const car = await world.connect('car-1');
    const sessionId = 'crash-1';
    await start(charger, 'car-1', sessionId);
    const [one, two, three] = bills('car-1', sessionId, [0, 3_500, 7_700, 11_600]);
    const providerBefore = await ownedUsd(world.provider.address);
    const publishBill = (bill: typeof one) =>
      charger.publish(billsTopic('charger-1'), billMessage(world.chainId, bill!, chargerKey()));
    await publishBill(one);
    await charger.nextResult((r) => r.sessionId === sessionId && r.seq === 1);
    // Bill 2 is in flight when the service dies: received and submitted, its tx held at a node
    // that is stopped (SIGSTOP), so it cannot have been answered, let alone acknowledged.
    assert.ok(world.chain.process.signal('SIGSTOP'));
    try {
      await publishBill(two);
      await sleep(settleMs);
      assert.deepEqual(
        charger.results.filter((r) => r.sessionId === sessionId && r.seq === 2),
        [],
        'bill 2 is still in progress',
      );
      await world.service!.kill();
    } finally {
      world.chain.process.signal('SIGCONT');
    }
    // Bill 3 arrives while no service runs: the broker keeps it for the persistent session.
    await publishBill(three);
    await world.startService();
    const second = await charger.nextResult((r) => r.sessionId === sessionId && r.seq === 2);
    const third = await charger.nextResult((r) => r.sessionId === sessionId && r.seq === 3);
    assert.equal(second.status, 'paid', JSON.stringify(second));
    assert.equal(third.status, 'paid', JSON.stringify(third));
    await sleep(settleMs);
    // Bill 2's result may come twice (published before the kill, then replayed): one payment.
    const extra = charger.results.filter((r) => r.sessionId === sessionId && r.seq === 2);
    for (const again of extra) assert.equal(again.tx, second.tx);
    assert.equal(
      (await ownedUsd(world.provider.address)) - providerBefore,
      price(11_600n, chargerTariff),
      'the three bills paid, each once',
    );
    const car1Bills = car.results.filter((r) => r.sessionId === sessionId && r.kind === 'bill');
    assert.deepEqual(
      [...new Set(car1Bills.map((r) => r.seq))].sort(),
      [1, 2, 3],
      'the car heard all three',
    );
  });

  it('runs the simulators as a user would: the car authorises, the charger bills it', async () => {
    const sessionId = 'sim-1';
    const device = (id: string) => [
      '--broker',
      world.broker.url,
      '--ca',
      world.pki.caFile,
      '--cert',
      world.pki.party(id).certificateFile,
      '--key',
      world.pki.party(id).keyFile,
      '--node',
      world.chain.url,
      '--session',
      sessionId,
    ];
    const car = spawn(
      process.execPath,
      [cliPath, 'iot', 'simulate', 'car', ...device('car-1'), '--service', 'charger-1'],
      { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let carOutput = '';
    car.stdout.on('data', (chunk: Buffer) => (carOutput += chunk.toString('utf8')));
    car.stderr.on('data', (chunk: Buffer) => (carOutput += chunk.toString('utf8')));
    const carDone = once(car, 'exit');
    try {
      for (let i = 0; i < 200 && !carOutput.includes('\n'); i++) await sleep(50);
      const { authorisation } = JSON.parse(carOutput.split('\n')[0]!) as {
        authorisation: string;
      };
      const charger = await runCli(
        [
          'iot',
          'simulate',
          'charger',
          ...device('charger-1'),
          '--iot-device',
          'car-1',
          '--authorisation',
          authorisation,
        ],
        { env: childEnv, timeoutMs: 60_000 },
      );
      assert.equal(charger.code, 0, describeRun(['iot', 'simulate', 'charger'], charger));
      const chargerResults = charger.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as IotResult);
      assert.deepEqual(
        chargerResults.map((r) => `${r.kind}:${r.status}`),
        ['start:started', 'bill:paid', 'bill:paid', 'bill:paid', 'end:ended'],
      );
      const [code] = (await carDone) as [number | null];
      assert.equal(code, 0, carOutput);
      const carResults = carOutput
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => JSON.parse(line) as IotResult);
      assert.deepEqual(
        carResults.map((r) => r.tx),
        chargerResults.map((r) => r.tx),
        'the car heard what the charger heard',
      );
    } finally {
      car.kill('SIGKILL');
    }
  });

  it('answers a message sent over HTTP with its result, and still tells the parties', async () => {
    const car = await world.connect('car-1');
    const sessionId = 'http-1';
    const response = await fetch(`${world.service!.url}/v1/iot/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(
        startMessage(
          world.chainId,
          {
            serviceDevice: 'charger-1',
            iotDevice: 'car-1',
            sessionId,
            meterStart: 0,
            startedAt: Date.now() - periodMs,
            authorisation: world.authorisation('charger-1', 'car-1', sessionId),
          },
          chargerKey(),
        ),
      ),
    });
    assert.equal(response.status, 200);
    const result = (await response.json()) as IotResult;
    assert.equal(result.status, 'started');
    const heard = await car.nextResult((r) => r.sessionId === sessionId);
    assert.equal(heard.tx, result.tx);
  });

  it('tells a wallet not on MQTT its results: webhooks on iot.* and the read routes over HTTP', async () => {
    // The node's operator subscribes the wallet's backend to iot.* (the node's own webhooks,
    // Standard Webhooks signatures); the wallet is never connected to the broker.
    const receiver = await WebhookReceiver.start();
    const secret = `whsec_${Buffer.alloc(32, 20).toString('base64')}`;
    const added = await fetch(`${world.chain.url}/v1/webhooks`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${world.adminToken()}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ url: `${receiver.url}/wallet-1`, events: ['iot.*'], secret }),
    });
    assert.equal(added.status, 201, 'iot.* is a pattern the node accepts');
    const { id: webhookId } = (await added.json()) as { id: string };
    try {
      const charger = await world.connect('charger-1');
      const sessionId = 'webhook-1';
      const started = await start(charger, 'car-1', sessionId);
      // 3.5 kWh then 4.2 kWh: 105 and 126 minor units at 0.30 per kWh.
      const sent = bills('car-1', sessionId, [0, 3_500, 7_700]);
      assert.deepEqual(
        sent.map((b) => b.amount),
        ['105', '126'],
      );
      const paid: IotResult[] = [];
      for (const bill of sent) {
        await charger.publish(
          billsTopic('charger-1'),
          billMessage(world.chainId, bill, chargerKey()),
        );
        const result = await charger.nextResult(
          (r) => r.sessionId === sessionId && r.seq === bill.seq,
        );
        assert.equal(result.status, 'paid', JSON.stringify(result));
        paid.push(result);
      }
      await charger.publish(
        sessionTopic('charger-1'),
        endMessage(
          world.chainId,
          { serviceDevice: 'charger-1', sessionId, meterEnd: 7_700, endedAt: Date.now() },
          chargerKey(),
        ),
      );
      const ended = await charger.nextResult((r) => r.kind === 'end' && r.sessionId === sessionId);
      assert.equal(ended.status, 'ended', JSON.stringify(ended));

      // Every delivery verifies (verifyWebhook throws on a bad signature); the session's four
      // events arrive once the blocks are final.
      const ours = () =>
        receiver
          .delivered('/wallet-1')
          .map((r) => verifyWebhook(secret, r) as WebhookPayload)
          .filter((p) => (p.data as { sessionId?: unknown }).sessionId === sessionId);
      const deadline = performance.now() + 20_000;
      while (ours().length < 4 && performance.now() < deadline) await sleep(20);
      const events = ours();
      assert.deepEqual(
        events.map((p) => p.type),
        ['iot.sessionStarted', 'iot.billPaid', 'iot.billPaid', 'iot.sessionEnded'],
        JSON.stringify(events),
      );
      const [startedEvent, first, second, endedEvent] = events as [
        WebhookPayload,
        WebhookPayload,
        WebhookPayload,
        WebhookPayload,
      ];
      const parties = {
        serviceDevice: 'charger-1',
        iotDevice: 'car-1',
        sessionId,
        payer: world.driver.address,
        provider: world.provider.address,
        asset: 'USD',
      };
      assert.equal(startedEvent.tx, started.tx);
      assert.equal(startedEvent.chainId, world.chainId);
      const startData = startedEvent.data as Record<string, unknown>;
      for (const [field, value] of Object.entries({ ...parties, wallet: 'wallet-1' })) {
        assert.equal(startData[field], value, `iot.sessionStarted ${field}`);
      }
      for (const [i, event] of [first, second].entries()) {
        const data = event.data as Record<string, unknown>;
        const amount = sent[i]!.amount;
        assert.equal(event.tx, paid[i]!.tx, `bill ${i + 1}'s tx`);
        assert.deepEqual(
          {
            ...parties,
            seq: i + 1,
            status: 'paid',
            amount,
            captured: amount,
            unpaid: '0',
          },
          {
            serviceDevice: data.serviceDevice,
            iotDevice: data.iotDevice,
            sessionId: data.sessionId,
            payer: data.payer,
            provider: data.provider,
            asset: data.asset,
            seq: data.seq,
            status: data.status,
            amount: data.amount,
            captured: data.captured,
            unpaid: data.unpaid,
          },
        );
        assert.equal(data.remaining, paid[i]!.remaining);

        // The same result from the node's read route, over plain HTTP.
        const response = await fetch(
          `${world.chain.url}/v1/iot/sessions/charger-1/${sessionId}/bills/${i + 1}`,
        );
        assert.equal(response.status, 200);
        const stored = (await response.json()) as BillResult;
        assert.equal(stored.billTx, event.tx);
        assert.equal(stored.height, event.height);
        for (const field of [
          'serviceDevice',
          'iotDevice',
          'sessionId',
          'seq',
          'status',
          'amount',
          'captured',
          'unpaid',
          'remaining',
          'payer',
          'provider',
          'asset',
        ] as const) {
          assert.equal(stored[field], data[field], `bill ${i + 1}: ${field}`);
        }
      }
      assert.equal(endedEvent.tx, ended.tx);
      const endData = endedEvent.data as Record<string, unknown>;
      assert.equal(endData.status, 'ended');
      assert.equal(endData.captured, price(7_700n, chargerTariff).toString());
      assert.equal(endData.payer, world.driver.address);
    } finally {
      await fetch(`${world.chain.url}/v1/webhooks/${webhookId}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${world.adminToken()}` },
      });
      await receiver.down();
    }
  });
});
