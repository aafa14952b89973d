// `npm run bench -- iot`: IoT payments end to end over MQTT (issue 20): bills per second from a
// service device's publish to its result on the device, against two baselines measured in the
// same run on the same processes. Not a test: it measures; it asserts only that every bill was
// paid and every baseline round trip completed.
//
// 1. Starts the e2e world (test/support/iot-world.ts): mosquitto with TLS and the ACL, a built
//    node (20 ms blocks while txs wait), the chain-side setup by txs, and the payment service
//    process (`coffer iot serve`).
// 2. Baseline A, MQTT alone: BENCH_IOT_BILLS (500) QoS 1 round trips, charger-1 publishing on
//    its bills topic to an echo client holding the service's certificate, which publishes each
//    back on charger-1's results topic; BENCH_IOT_WINDOW (32) in flight. (The service process is
//    stopped meanwhile, so the echo is the only reader.)
// 3. Baseline B, the ledger alone: as many transfers from one key, ?wait=commit, one after
//    another: the service relays one message at a time (mqtt.js holds its packet stream until
//    each PUBACK), so a bill's floor is one committed tx.
// 4. Bills: one charging session of as many bills (25 Wh each, 5 s periods: 500 of them start
//    42 minutes back, within the chain's hour for a late start), published with
//    BENCH_IOT_WINDOW in flight; the clock stops when the charger has every result.
// Prints bills/s, the two baselines, and the ratios.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import type { IotResult } from '../src/modules/iot/service/messages.js';
import { billMessage, billsFor, startMessage } from '../src/modules/iot/sim/billing.js';
import { billsTopic } from '../src/modules/iot/sim/session.js';
import { generateKey, txs } from '../src/sdk/index.js';
import { chargerTariff, connectParty, startIotWorld } from '../test/support/iot-world.js';

function positive(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive integer`);
  return value;
}

const billsCount = positive('BENCH_IOT_BILLS', 500);
const window = positive('BENCH_IOT_WINDOW', 32);
const billPeriodMs = 5_000;
const billUsageWh = 25;

/** Runs `count` jobs with `window` in flight; answers the seconds taken. */
async function windowed(count: number, job: (index: number) => Promise<void>): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(window, count) }, async () => {
      while (next < count) await job(next++);
    }),
  );
  return (performance.now() - started) / 1_000;
}

const world = await startIotWorld();
try {
  const charger = await world.connect('charger-1');

  // ---- baseline A: MQTT QoS 1 round trips through an echo -------------------------------------
  const echo = await connectParty(world.broker, world.pki, world.pki.service, {
    subscribeResults: false,
    clientId: 'bench-echo',
  });
  await echo.subscribe('coffer/iot/charger-1/bills');
  echo.client.on('message', (_topic, payload) => {
    void echo.client.publishAsync('coffer/iot/charger-1/results', payload, { qos: 1 });
  });
  const mqttSeconds = await windowed(billsCount, async (index) => {
    await charger.publish(billsTopic('charger-1'), { kind: 'echo', sessionId: 'echo', seq: index });
    await charger.nextResult((r) => r.sessionId === 'echo' && r.seq === index);
  });
  await echo.close();

  // ---- baseline B: committed transfers, one after another ---------------------------------------
  const payer = generateKey();
  await world.chain.client.send(
    world.chain.dev,
    txs.transfer({ to: payer.address, asset: 'USD', amount: '100000' }),
    { wait: 'commit' },
  );
  const sink = generateKey();
  const ledgerStarted = performance.now();
  for (let i = 0; i < billsCount; i++) {
    await world.chain.client.send(
      payer,
      txs.transfer({ to: sink.address, asset: 'USD', amount: '1' }),
      {
        wait: 'commit',
      },
    );
  }
  const ledgerSeconds = (performance.now() - ledgerStarted) / 1_000;

  // ---- bills ----------------------------------------------------------------------------------
  await world.startService();
  const sessionId = 'bench-1';
  const startedAt = Date.now() - billsCount * billPeriodMs;
  const key = world.pki.party('charger-1').privateKeyPem;
  await charger.publish(
    'coffer/iot/charger-1/sessions',
    startMessage(
      world.chainId,
      {
        serviceDevice: 'charger-1',
        iotDevice: 'car-1',
        sessionId,
        meterStart: 0,
        startedAt,
        authorisation: world.authorisation('charger-1', 'car-1', sessionId),
      },
      key,
    ),
  );
  const start = await charger.nextResult(
    (r) => r.kind === 'start' && r.sessionId === sessionId,
    60_000,
  );
  if (start.status !== 'started')
    throw new Error(`the session did not start: ${JSON.stringify(start)}`);
  const readings = Array.from({ length: billsCount + 1 }, (_, i) => i * billUsageWh);
  const bills = billsFor({
    serviceDevice: 'charger-1',
    iotDevice: 'car-1',
    sessionId,
    tariff: chargerTariff,
    readings,
    periodMs: billPeriodMs,
    startedAt,
  }).map((bill) => billMessage(world.chainId, bill, key));
  // Published in seq order (a bill overtaking its predecessor is refused), `window` in flight.
  let done = 0;
  const pending: Promise<IotResult>[] = [];
  const billStarted = performance.now();
  for (const [index, message] of bills.entries()) {
    while (index - done >= window) await sleep(1);
    await charger.publish(billsTopic('charger-1'), message);
    pending.push(
      charger
        .nextResult((r) => r.sessionId === sessionId && r.seq === index + 1, 120_000)
        .then((result) => {
          done++;
          return result;
        }),
    );
  }
  const results = await Promise.all(pending);
  const billSeconds = (performance.now() - billStarted) / 1_000;
  const unpaid = results.filter((r) => r.status !== 'paid');
  if (unpaid.length > 0)
    throw new Error(`${unpaid.length} bills not paid: ${JSON.stringify(unpaid[0])}`);

  const rate = (seconds: number) => billsCount / seconds;
  console.log(`iot bench: ${billsCount} bills, window ${window}`);
  console.log(`  bills end to end over MQTT   ${rate(billSeconds).toFixed(1)} /s`);
  console.log(`  baseline MQTT QoS 1 echo     ${rate(mqttSeconds).toFixed(1)} /s`);
  console.log(
    `  baseline committed transfers ${rate(ledgerSeconds).toFixed(1)} /s (one at a time)`,
  );
  console.log(`  bills / MQTT echo            ${(mqttSeconds / billSeconds).toFixed(3)}`);
  console.log(`  bills / committed transfers  ${(ledgerSeconds / billSeconds).toFixed(3)}`);
} finally {
  await world.close();
}
