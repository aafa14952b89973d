import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import { fromHex, verify } from '../../../crypto/index.js';
import { generateKey } from '../../../sdk/index.js';
import { hwidRequestMessage } from '../authority/messages.js';
import { deviceKeyHashOf, hardwareIdOf } from '../schema.js';
import { AgentDataDir, AgentError, agentFiles } from './data-dir.js';
import { requestHardwareId } from './enrol.js';

/*
 * The agent's data directory (modes, a key never replaced, a registration never replaced, a
 * damaged key noticed) and its hardware-id request against a fake authority in this process: the
 * request is signed by the device key for that authority, and an answer naming another id than
 * the key's is refused and not kept.
 */

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-print-agent-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => new AgentDataDir(path.join(root, `agent-${++dirs}`));
const modeOf = (file: string) => fs.statSync(file).mode & 0o777;

function expectAgentError(code: string) {
  return (error: unknown) => {
    assert.ok(error instanceof AgentError, `an AgentError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  };
}

describe('print agent data directory', () => {
  it('makes the directory 0700 and the device key 0600, and keeps the key on a second init', () => {
    const dir = freshDir();
    const first = dir.initDeviceKey();
    assert.equal(first.created, true);
    assert.equal(modeOf(dir.dir), 0o700);
    assert.equal(modeOf(dir.file('deviceKey')), 0o600);
    assert.match(first.key.publicKey, /^[0-9a-f]{64}$/);
    const second = dir.initDeviceKey();
    assert.equal(second.created, false);
    assert.deepEqual(second.key, first.key);
    assert.deepEqual(
      fs.readdirSync(dir.dir),
      [agentFiles.deviceKey],
      'no temporary file is left behind',
    );
  });

  it('notices a device key whose public key is not its secret key’s', () => {
    const dir = freshDir();
    const { key } = dir.initDeviceKey();
    const other = freshDir().initDeviceKey().key;
    fs.writeFileSync(
      dir.file('deviceKey'),
      JSON.stringify({ publicKey: other.publicKey, secretKey: key.secretKey }),
    );
    assert.throws(() => dir.deviceKey(), expectAgentError('agent_file_corrupt'));
    fs.writeFileSync(dir.file('deviceKey'), 'not json');
    assert.throws(() => dir.deviceKey(), expectAgentError('agent_file_corrupt'));
    assert.throws(() => freshDir().deviceKey(), expectAgentError('agent_not_ready'));
  });

  it('keeps a registration once: the client key 0600, never replaced', () => {
    const dir = freshDir();
    dir.initDeviceKey();
    const input = {
      registration: {
        printerId: `pr_${'1'.repeat(32)}`,
        clientId: 'bench-1',
        serverUrl: 'https://127.0.0.1:1',
        printsUrl: 'https://127.0.0.1:2',
        server: generateKey().address,
        owner: generateKey().address,
        profileHash: 'a'.repeat(64),
      },
      profile: { firmware: 'marlin' },
      certificatePem: '-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n',
      keyPem: '-----BEGIN PRIVATE KEY-----\nB\n-----END PRIVATE KEY-----\n',
      caCertificatePem: '-----BEGIN CERTIFICATE-----\nC\n-----END CERTIFICATE-----\n',
    };
    dir.writeRegistration(input);
    assert.equal(modeOf(dir.file('clientKey')), 0o600);
    assert.deepEqual(dir.registration(), input.registration);
    assert.deepEqual(dir.tlsCredentials(), {
      cert: input.certificatePem,
      key: input.keyPem,
      ca: input.caCertificatePem,
    });
    assert.throws(
      () => dir.writeRegistration({ ...input, keyPem: 'another key' }),
      expectAgentError('already_registered'),
    );
    assert.equal(fs.readFileSync(dir.file('clientKey'), 'utf8'), input.keyPem);
  });
});

/** A fake authority: checks the device's signature and answers `answerId(deviceKey)`. */
async function fakeAuthority(answerId: (authority: string, deviceKey: string) => string) {
  const authority = generateKey().address;
  const requests: { deviceKey: string; timestamp: number; signature: string }[] = [];
  const server = http.createServer((request, response) => {
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.method === 'GET' && request.url === '/v1/authority') {
      return reply(200, { authority, chainId: 'test-chain' });
    }
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    request.on('end', () => {
      const body = JSON.parse(text) as { deviceKey: string; timestamp: number; signature: string };
      requests.push(body);
      const signed = verify(
        fromHex(body.signature),
        hwidRequestMessage({ authority, deviceKey: body.deviceKey, timestamp: body.timestamp }),
        fromHex(body.deviceKey),
      );
      if (!signed) return reply(403, { error: { code: 'signature_invalid', message: 'no' } });
      reply(201, {
        hardwareId: answerId(authority, body.deviceKey),
        txHash: 'f'.repeat(64),
        authority,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    authority,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('print agent hardware id', () => {
  it('asks with a signed, timestamped request and keeps the id the key and authority give', async () => {
    const fake = await fakeAuthority((authority, key) =>
      hardwareIdOf(authority, deviceKeyHashOf(key)),
    );
    try {
      const dir = freshDir();
      const { key } = dir.initDeviceKey();
      const identity = await requestHardwareId(dir, {
        authorityUrl: `${fake.url}/`,
        now: () => 1234,
      });
      assert.deepEqual(identity, {
        hardwareId: hardwareIdOf(fake.authority, deviceKeyHashOf(key.publicKey)),
        authority: fake.authority,
        authorityUrl: fake.url,
        txHash: 'f'.repeat(64),
      });
      assert.deepEqual(dir.identity(), identity);
      assert.equal(fake.requests.length, 1);
      assert.equal(fake.requests[0]!.deviceKey, key.publicKey);
      assert.equal(fake.requests[0]!.timestamp, 1234);
    } finally {
      await fake.close();
    }
  });

  it('refuses an id that is not its key’s (an authority answering another board’s) and keeps none', async () => {
    const fake = await fakeAuthority((authority) => hardwareIdOf(authority, 'ab'.repeat(32)));
    try {
      const dir = freshDir();
      dir.initDeviceKey();
      await assert.rejects(
        requestHardwareId(dir, { authorityUrl: fake.url }),
        expectAgentError('unexpected_answer'),
      );
      assert.equal(dir.has('identity'), false);
    } finally {
      await fake.close();
    }
  });

  it('keeps the authority’s refusal code', async () => {
    const fake = await fakeAuthority((authority, key) =>
      hardwareIdOf(authority, deviceKeyHashOf(key)),
    );
    try {
      const dir = freshDir();
      dir.initDeviceKey();
      // A device key that is not the one the file's secret signs with: the signature fails.
      const file = dir.file('deviceKey');
      const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as { publicKey: string };
      const forged = new AgentDataDir(dir.dir);
      forged.deviceKey = () => ({ publicKey: stored.publicKey, secretKey: '11'.repeat(32) });
      await assert.rejects(
        requestHardwareId(forged, { authorityUrl: fake.url }),
        expectAgentError('signature_invalid'),
      );
    } finally {
      await fake.close();
    }
  });
});
