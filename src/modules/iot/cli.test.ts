import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';

import { startTestNode, type TestNode } from '../../../test/support/test-node.js';
import { createCli } from '../../cli/app.js';
import type { CliIo } from '../../cli/terminal.js';
import {
  iotTxBuilders,
  type CaPage,
  type DeviceView,
  type SessionDetail,
  type SessionPage,
} from './client.js';
import { signIotRequest } from './crypto.js';
import { authoriseFields, type BillRequest, type StartRequest } from './schema.js';
import { issue, makeCa } from './txs-fixture.js';

/*
 * `coffer iot ...` through the CLI's own entry point against a real node in this process (its
 * block time is the real clock, so the openssl certificates made now are valid): a CA operator
 * registers its CA, owners enrol their devices from PEM files, the payer links its car, the
 * provider sets its tariff; a session then runs by the devices' signed messages relayed through
 * the SDK, and the CLI reads it back. Refusals exit 1 with the node's code, bad command lines 2.
 */

const passphrase = 'iot cli test passphrase';
const words = (line: string) => line.split(' ');

describe('coffer iot', () => {
  let t: TestNode;
  let home: string;
  const saved = { home: process.env.COFFER_HOME, passphrase: process.env.COFFER_PASSPHRASE };
  const cli = createCli();
  const addresses: Record<string, string> = {};
  const ca = makeCa('CLI Test CA');
  const car = issue(ca, 'iot-device', 'car-1');
  const wallet = issue(ca, 'wallet', 'wallet-1');
  const charger = issue(ca, 'service-device', 'charger-1');
  const pem = (name: string, text: string) => {
    const file = path.join(home, `${name}.pem`);
    fs.writeFileSync(file, text);
    return file;
  };

  async function run(args: string[]) {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const io = { stdin: new PassThrough(), stdout, stderr } as unknown as CliIo;
    const code = await cli.run([...args, '--node', t.url], io);
    return { code, out, err };
  }

  async function ok(args: string[]) {
    const result = await run(args);
    assert.equal(result.code, 0, `coffer ${args.join(' ')}: ${result.err}`);
    return result.out;
  }

  before(async () => {
    t = await startTestNode('iot-cli');
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-iot-cli-home-'));
    process.env.COFFER_HOME = home;
    process.env.COFFER_PASSPHRASE = passphrase;
    for (const name of ['op', 'owner', 'prov', 'eve']) {
      const stdout = new PassThrough();
      let out = '';
      stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const io = {
        stdin: new PassThrough(),
        stdout,
        stderr: new PassThrough(),
      } as unknown as CliIo;
      assert.equal(await cli.run(['keys', 'new', name, '--json'], io), 0);
      addresses[name] = (JSON.parse(out) as { address: string }).address;
    }
  });

  after(async () => {
    await t.close();
    fs.rmSync(home, { recursive: true, force: true });
    for (const [key, value] of [
      ['COFFER_HOME', saved.home],
      ['COFFER_PASSPHRASE', saved.passphrase],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('registers a CA, enrols devices, links and prices them; a session runs and reads back', async () => {
    const caKey = ['--key', ca.keyFile];
    await ok([
      'iot',
      'ca-register',
      pem('ca', ca.pem),
      ...caKey,
      '--name',
      'Consortium',
      '--from',
      'op',
    ]);
    const cas = JSON.parse(await ok(['iot', 'cas', '--json'])) as CaPage;
    assert.equal(cas.cas.length, 1);
    assert.equal(cas.cas[0]?.operator, addresses.op);
    assert.match(await ok(['iot', 'cas', cas.cas[0]!.ca]), /^name +Consortium$/m);

    const keyOf = (name: string, cert: typeof car) => [
      '--key',
      pem(`${name}-key`, cert.key.export({ type: 'pkcs8', format: 'pem' }).toString()),
    ];
    await ok(['iot', 'enrol', pem('car', car.pem), ...keyOf('car', car), '--from', 'owner']);
    await ok([
      'iot',
      'enrol',
      pem('wallet', wallet.pem),
      ...keyOf('wallet', wallet),
      '--from',
      'owner',
    ]);
    // The provider's key does not prove the car's: the certificate's own key must sign.
    const stolen = await run([
      'iot',
      'enrol',
      pem('car', car.pem),
      ...keyOf('w', wallet),
      '--from',
      'prov',
    ]);
    assert.equal(stolen.code, 1);
    assert.match(stolen.err, /proof_invalid/);
    await ok([
      'iot',
      'enrol',
      pem('charger', charger.pem),
      ...keyOf('charger', charger),
      '--from',
      'prov',
    ]);
    await ok(words('asset create EVC --decimals 2 --from owner'));
    await ok(['mint', '1000.00', 'EVC', '--to', 'owner', '--from', 'owner']);
    await ok(
      words(
        'iot link car-1 --wallet wallet-1 --asset EVC --session-max 5000 --day-max 20000 --session-blocks 1000 --merchant charger-1 --from owner',
      ),
    );
    await ok(
      words(
        'iot tariff charger-1 --asset EVC --unit kWh --unit-price 250 --max-rate 3600 --from prov',
      ),
    );
    const shown = JSON.parse(await ok(['iot', 'device', 'car-1', '--json'])) as DeviceView;
    assert.equal(shown.link?.payer, addresses.owner);
    assert.match(await ok(['iot', 'device', 'charger-1']), /^tariff +250 EVC per 1 kWh$/m);
    assert.match(await ok(['iot', 'device', '--owner', 'owner']), /car-1 +iot-device +active/);

    // An outsider cannot set the charger's tariff or revoke the car: exit 1 with the node's code.
    const refused = await run(
      words('iot tariff charger-1 --asset EVC --unit kWh --unit-price 1 --max-rate 50 --from eve'),
    );
    assert.equal(refused.code, 1);
    assert.match(refused.err, /not_device_owner/);
    const revoke = await run(words('iot revoke car-1 --reason mine --from eve'));
    assert.equal(revoke.code, 1);
    assert.match(revoke.err, /not_device_owner_or_ca_operator/);
    assert.equal((await run(words('iot revoke Car_1 --reason x --from owner'))).code, 2);

    // A session by the devices' signed messages, relayed through the SDK.
    const { chainId } = await t.client.health();
    const ids = { serviceDevice: 'charger-1', iotDevice: 'car-1', sessionId: 'cli-1' };
    const startedAt = Date.now() - 60_000;
    const start: StartRequest = {
      ...ids,
      meterStart: 0,
      startedAt,
      authorisation: signIotRequest('authorise', chainId, authoriseFields(ids), car.key),
    };
    const started = await t.client.send(
      t.dev,
      iotTxBuilders.startSession(start, signIotRequest('start', chainId, start, charger.key)),
    );
    assert.equal(started.status, 'ok');
    const bill: BillRequest = {
      ...ids,
      seq: 1,
      detail: {
        usage: 1,
        unit: 'kWh',
        unitPrice: '250',
        meterStart: 0,
        meterEnd: 1,
        period: { from: startedAt, to: startedAt + 30_000 },
      },
      amount: '250',
    };
    const billed = await t.client.send(
      t.dev,
      iotTxBuilders.bill(bill, signIotRequest('bill', chainId, { ...bill }, charger.key)),
    );
    assert.equal(billed.status, 'ok');

    const sessions = JSON.parse(
      await ok(['iot', 'sessions', '--payer', 'owner', '--json']),
    ) as SessionPage;
    assert.deepEqual(
      sessions.sessions.map((s) => [s.sessionId, s.status, s.captured, s.remaining]),
      [['cli-1', 'open', '250', '4750']],
    );
    const detail = JSON.parse(
      await ok(['iot', 'session', 'charger-1', 'cli-1', '--json']),
    ) as SessionDetail;
    assert.equal(detail.bills[0]?.billTx, billed.hash);
    assert.match(await ok(['iot', 'session', 'charger-1', 'cli-1']), /^1 +250 +250 +paid/m);
    const account = await t.client.getAccount(addresses.prov!);
    assert.equal(account.balances.find((b) => b.asset === 'EVC')?.balance, '250');
    const payer = await t.client.getAccount(addresses.owner!);
    assert.equal(payer.balances.find((b) => b.asset === 'EVC')?.held, '4750');
  });
});
