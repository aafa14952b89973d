import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestNode, type TestNode } from '../../../../test/support/test-node.js';
import { generateKey } from '../../../sdk/index.js';
import { deviceKeyHashOf, hardwareIdOf } from '../schema.js';
import { createCa, createServerCertificate } from '../../iot/pki/certificates.js';
import { deviceKey, httpsRequest, hwidRequest } from '../server/fixture.js';
import { initAuthority, loadAuthorityConfig, parseAuthorityConfig } from './config.js';
import { startAuthority, type RunningAuthority } from './server.js';

/*
 * The hardware-id authority over a real socket against a real node in this process: it records
 * `printing.hwid` from its key, answers the recorded id again without a second tx, and refuses a
 * stale, forged or malformed request and a flood from one address.
 */

interface ErrorBody {
  error: { code: string; message: string };
}

describe('hardware-id authority', () => {
  let t: TestNode;
  let dir: string;
  let running: RunningAuthority;
  let clock = Date.now();

  before(async () => {
    t = await startTestNode('print-authority');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-print-authority-'));
    const init = initAuthority(dir, { nodeUrl: t.url, port: 0 });
    assert.equal(init.created, true);
    assert.equal(fs.statSync(init.keyFile).mode & 0o777, 0o600);
    // A second init keeps the key (and says so).
    assert.equal(initAuthority(dir, { nodeUrl: t.url, port: 0 }).authority, init.authority);
    const config = parseAuthorityConfig(
      {
        ...(JSON.parse(fs.readFileSync(init.configFile, 'utf8')) as object),
        limits: { requestsPerMinutePerAddress: 12 },
      },
      dir,
    );
    assert.equal(loadAuthorityConfig(init.configFile).keyFile, init.keyFile);
    running = await startAuthority(config, { now: () => clock, log: () => {} });
    assert.equal(running.authority, init.authority);
  });

  after(async () => {
    await running?.close();
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const post = async (body: unknown) => {
    const response = await fetch(`${running.url}/v1/hwids`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const nonce = async () => (await t.client.getAccount(running.authority)).nonce;

  it('issues an id on chain, once per device key', async () => {
    const device = deviceKey();
    const first = await post(hwidRequest(device, running.authority, clock));
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const hardwareId = hardwareIdOf(running.authority, deviceKeyHashOf(device.publicKey));
    assert.deepEqual(first.body, {
      hardwareId,
      txHash: first.body.txHash,
      authority: running.authority,
    });
    const record = await t.client.printing.hwid(hardwareId);
    assert.equal(record.authority, running.authority);
    assert.equal(record.deviceKeyHash, deviceKeyHashOf(device.publicKey));
    assert.equal(record.tx, first.body.txHash);

    // Asked again (a new request, a new signature): the recorded id, and no second tx.
    const sent = await nonce();
    clock += 1;
    const again = await post(hwidRequest(device, running.authority, clock));
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, first.body);
    assert.equal(await nonce(), sent);
  });

  it('sends one tx for the same key asked twice at once', async () => {
    const device = deviceKey();
    const sent = await nonce();
    const [a, b] = await Promise.all([
      post(hwidRequest(device, running.authority, clock)),
      post(hwidRequest(device, running.authority, clock + 1)),
    ]);
    assert.deepEqual([a.status, b.status].sort(), [200, 201]);
    assert.equal(a.body.hardwareId, b.body.hardwareId);
    assert.equal(a.body.txHash, b.body.txHash);
    assert.equal(await nonce(), sent + 1);
  });

  it('refuses a stale, forged, weak or malformed request and sends nothing', async () => {
    const device = deviceKey();
    const sent = await nonce();
    const stale = await post(hwidRequest(device, running.authority, clock - 5 * 60_000 - 1));
    assert.equal(stale.status, 401);
    assert.equal((stale.body as unknown as ErrorBody).error.code, 'request_stale');

    // Signed for another authority: not a request to this one.
    const otherAuthority = generateKey().address;
    const forged = await post({ ...hwidRequest(device, otherAuthority, clock) });
    assert.equal(forged.status, 401);
    assert.equal((forged.body as unknown as ErrorBody).error.code, 'signature_invalid');

    // Another device's signature over this device's key.
    const other = deviceKey();
    const swapped = {
      ...hwidRequest(other, running.authority, clock),
      deviceKey: device.publicKey,
    };
    assert.equal((await post(swapped)).status, 401);

    // A small-order point as the device key.
    const weak = await post({
      ...hwidRequest(device, running.authority, clock),
      deviceKey: '01' + '00'.repeat(31),
    });
    assert.equal(weak.status, 400);
    assert.equal((weak.body as unknown as ErrorBody).error.code, 'device_key_invalid');

    const malformed = await post({ deviceKey: 'zz', timestamp: clock, signature: '00' });
    assert.equal(malformed.status, 400);
    assert.equal((malformed.body as unknown as ErrorBody).error.code, 'invalid_request');
    assert.equal(await nonce(), sent);
  });

  it('answers its address and chain id', async () => {
    const response = await fetch(`${running.url}/v1/authority`);
    const body = (await response.json()) as { authority: string; chainId: string };
    assert.equal(body.authority, running.authority);
    assert.equal(body.chainId, (await t.client.health()).chainId);
  });

  it('speaks TLS when given a certificate', async () => {
    const ca = await createCa({ name: 'Authority CA' });
    const certificate = await createServerCertificate({ ca });
    fs.writeFileSync(path.join(dir, 'tls.pem'), certificate.certificatePem);
    fs.writeFileSync(path.join(dir, 'tls.key'), certificate.privateKeyPem, { mode: 0o600 });
    const secure = await startAuthority(
      parseAuthorityConfig(
        {
          node: { url: t.url },
          keyFile: 'authority.key',
          http: { port: 0 },
          tls: { certFile: 'tls.pem', keyFile: 'tls.key' },
        },
        dir,
      ),
      { now: () => clock, log: () => {} },
    );
    try {
      assert.match(secure.url, /^https:/);
      const device = deviceKey();
      const answer = await httpsRequest(
        `${secure.url.replace('127.0.0.1', 'localhost')}/v1/hwids`,
        { ca: ca.certificatePem },
        { body: hwidRequest(device, secure.authority, clock) },
      );
      assert.equal(answer.status, 201, answer.text);
      assert.equal(
        (JSON.parse(answer.text) as { hardwareId: string }).hardwareId,
        hardwareIdOf(secure.authority, deviceKeyHashOf(device.publicKey)),
      );
    } finally {
      await secure.close();
    }
  });

  it('limits requests per address', async () => {
    // The bucket holds 12 a minute; the clock stands still, so it never refills here.
    const codes: number[] = [];
    for (let i = 0; i < 14; i++) {
      codes.push((await post({ deviceKey: 'bad' })).status);
    }
    assert.ok(codes.includes(429), `a 429 among ${codes.join(',')}`);
    assert.equal(codes.at(-1), 429);
    // A minute later the address may ask again.
    clock += 60_000;
    assert.equal((await post({ deviceKey: 'bad' })).status, 400);
  });
});
