import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { CommandContext } from '../../cli/context.js';
import { CliError } from '../../cli/errors.js';
import { iotServiceCommands } from './cli-service.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-iot-cli-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs a command with a context that only prints (none of these talks to a node). */
async function run(name: string, values: Record<string, string>): Promise<string> {
  let printed = '';
  const ctx = {
    json: true,
    print: (text: string) => (printed += text),
  } as unknown as CommandContext;
  const command = iotServiceCommands.find((c) => c.name === name);
  assert.ok(command, name);
  await command.run(ctx, [], values);
  return printed;
}

const mode = (file: string) => fs.statSync(file).mode & 0o777;

describe('coffer iot PKI commands', () => {
  it('make a CA, a device key and CSR, its certificate and the broker’s, keys 0600', async () => {
    const ca = path.join(dir, 'ca');
    const init = JSON.parse(await run('iot ca-init', { dir: ca, name: 'Demo CA' })) as {
      fingerprint: string;
    };
    assert.match(init.fingerprint, /^[0-9a-f]{64}$/);
    assert.equal(mode(path.join(ca, 'ca.key')), 0o600);

    const devices = path.join(dir, 'devices');
    await run('iot csr', { id: 'charger-1', role: 'service-device', out: devices });
    assert.equal(mode(path.join(devices, 'charger-1.key')), 0o600);
    const issued = JSON.parse(
      await run('iot issue', {
        ca,
        csr: path.join(devices, 'charger-1.csr'),
        out: path.join(devices, 'charger-1.pem'),
        days: '90',
      }),
    ) as { deviceId: string; role: string };
    assert.deepEqual([issued.deviceId, issued.role], ['charger-1', 'service-device']);
    const cert = new X509Certificate(fs.readFileSync(path.join(devices, 'charger-1.pem')));
    assert.ok(cert.checkIssued(new X509Certificate(fs.readFileSync(path.join(ca, 'ca.pem')))));

    const broker = path.join(dir, 'broker');
    await run('iot server-cert', { ca, out: broker });
    assert.equal(mode(path.join(broker, 'server.key')), 0o600);
    const config = JSON.parse(
      await run('iot broker-config', { ca, server: broker, dir: broker, port: '8883' }),
    ) as { config: string };
    const text = fs.readFileSync(config.config, 'utf8');
    assert.match(text, /^require_certificate true$/m);
    assert.match(text, /^use_identity_as_username true$/m);
    assert.match(text, /^allow_anonymous false$/m);
    assert.match(
      fs.readFileSync(path.join(broker, 'acl'), 'utf8'),
      /^pattern read coffer\/iot\/%u\/results$/m,
    );
  });

  it('never overwrites a key, and refuses a bad role as invalid_input', async () => {
    const ca = path.join(dir, 'ca-twice');
    await run('iot ca-init', { dir: ca, name: 'Twice' });
    const before = fs.readFileSync(path.join(ca, 'ca.key'), 'utf8');
    await assert.rejects(run('iot ca-init', { dir: ca, name: 'Twice' }), (error: unknown) => {
      assert.ok(error instanceof CliError);
      assert.equal(error.code, 'file_exists');
      return true;
    });
    assert.equal(fs.readFileSync(path.join(ca, 'ca.key'), 'utf8'), before);
    await assert.rejects(
      run('iot csr', { id: 'car-1', role: 'admin', out: path.join(dir, 'x') }),
      (error: unknown) => error instanceof CliError && error.code === 'invalid_input',
    );
  });
});
