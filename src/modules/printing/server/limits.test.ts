import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { generateKey } from '../../../sdk/keys.js';
import { deviceKeyHashOf, hardwareIdOf } from '../schema.js';
import { ChainUnavailableError, type PrintChain } from './chain.js';
import { initPrintServerDataDir, parsePrintServerConfig } from './config.js';
import {
  designUploadHeaders,
  deviceKey,
  httpsRequest,
  registrationRequest,
  sampleDesign,
  sampleProfile,
  type HttpsAnswer,
} from './fixture.js';
import { createRegistrationSecret, registrationAttemptsMax } from './records.js';
import { chainReason, clientNetworkOf, createPrintServer, type PrintServer } from './server.js';

/*
 * The print server's limits against a fake chain (no node): what one client, one key or one
 * printer can hold (the attack review's findings 2, 4, 5 and 10): one upload in flight per client
 * network, an upload's deadline from its size, unlisted uploads per network; one stream per
 * printer, an idle stream cut; the share the server delivered sent with progress and fail (and
 * recorded when a stream closes); a registration secret spent by a refusal, given back only after
 * a transient failure, and at most three times.
 */

const codeOf = (answer: HttpsAnswer) =>
  (JSON.parse(answer.text) as { error?: { code: string } }).error?.code;

interface Submitted {
  type: string;
  payload: Record<string, unknown>;
}

interface World {
  dir: string;
  server: PrintServer;
  url: string;
  printsPort: number;
  ca: string;
  address: string;
  submitted: Submitted[];
  chain: PrintChain & Record<string, unknown>;
  authority: string;
}

const worlds: World[] = [];
after(async () => {
  for (const world of worlds) await world.server.close();
});

async function boot(
  overrides: { uploads?: object; limits?: object } = {},
  chainOverrides: Partial<PrintChain> = {},
): Promise<World> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-print-limits-'));
  const authority = generateKey().address;
  const init = await initPrintServerDataDir(dir, {
    nodeUrl: 'http://127.0.0.1:1',
    port: 0,
    printsPort: 0,
    trustedAuthorities: [authority],
  });
  const base = JSON.parse(fs.readFileSync(init.configFile, 'utf8')) as object;
  const config = parsePrintServerConfig({ ...base, dataDir: dir, ...overrides }, dir);
  const submitted: Submitted[] = [];
  const chain = {
    address: init.server,
    chainId: () => Promise.resolve('coffer-test'),
    submit: (type: string, payload: Record<string, unknown>) => {
      submitted.push({ type, payload });
      return Promise.resolve({ status: 'ok' as const, tx: '00'.repeat(32), height: 1 });
    },
    hwid: () => Promise.resolve(undefined),
    printer: () => Promise.resolve(undefined),
    design: () => Promise.resolve(undefined),
    token: () => Promise.resolve(undefined),
    revocations: () => Promise.resolve({ revocations: [], next: null }),
    ...chainOverrides,
  } as unknown as World['chain'];
  const server = await createPrintServer(config, {
    chain,
    timers: false,
    log: () => {},
  });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  await server.prints.listen({ host: '127.0.0.1', port: 0 });
  const portOf = (listening: typeof server.app) =>
    (listening.server.address() as { port: number }).port;
  const world: World = {
    dir,
    server,
    url: `https://127.0.0.1:${portOf(server.app)}`,
    printsPort: portOf(server.prints),
    ca: fs.readFileSync(init.caFile, 'utf8'),
    address: init.server,
    submitted,
    chain,
    authority,
  };
  worlds.push(world);
  return world;
}

function upload(world: World, body: Buffer, designer = generateKey()) {
  return httpsRequest(
    `${world.url}/v1/printing/designs`,
    { ca: world.ca },
    { body, headers: designUploadHeaders(designer, body, world.address) },
  );
}

/** An upload that sends its first bytes and stalls; resolves once the server took it. */
async function stalledUpload(world: World, designer = generateKey()) {
  const body = Buffer.from(sampleDesign({ comment: `stalled ${Math.random()}` }));
  const request = https.request({
    host: '127.0.0.1',
    port: Number(new URL(world.url).port),
    path: '/v1/printing/designs',
    method: 'POST',
    ca: world.ca,
    agent: false,
    headers: designUploadHeaders(designer, body, world.address),
  });
  const closed = new Promise<void>((resolve) => {
    request.on('error', () => resolve());
    request.on('close', () => resolve());
    request.on('response', (response) => {
      response.resume();
      response.on('end', () => resolve());
    });
  });
  request.write(body.subarray(0, 10));
  await new Promise((resolve) => setTimeout(resolve, 200));
  return { request, closed };
}

/** A registered printer (fake chain), its client credentials and its printer id. */
async function withPrinter(world: World) {
  const device = deviceKey();
  const hardwareId = hardwareIdOf(world.authority, deviceKeyHashOf(device.publicKey));
  world.chain.hwid = () =>
    Promise.resolve({
      hardwareId,
      authority: world.authority,
      deviceKeyHash: deviceKeyHashOf(device.publicKey),
      issuedAt: 0,
      height: 1,
      tx: 'aa'.repeat(32),
    });
  const answer = await httpsRequest(
    `${world.url}/v1/printing/registrations`,
    { ca: world.ca },
    {
      body: registrationRequest({
        device,
        hardwareId,
        owner: generateKey(),
        server: world.address,
        chainId: 'coffer-test',
        profile: sampleProfile,
        secret: createRegistrationSecret(world.dir),
      }),
    },
  );
  assert.equal(answer.status, 201, answer.text);
  const printer = JSON.parse(answer.text) as {
    printerId: string;
    certificate: string;
    key: string;
  };
  world.chain.printer = () =>
    Promise.resolve({
      printerId: printer.printerId,
      status: 'active',
      profile: sampleProfile,
      server: world.address,
    } as never);
  return printer;
}

/** Tokens of this printer: `status` as given, on a design of `contentHash`. */
function tokensOf(
  world: World,
  printerId: string,
  contentHash: string,
  status: () => string,
  extra: () => Record<string, unknown> = () => ({}),
) {
  world.chain.design = () =>
    Promise.resolve({ designId: 'd', contentHash, server: world.address } as never);
  world.chain.token = (tokenId: string) =>
    Promise.resolve({
      tokenId,
      printerId,
      server: world.address,
      status: status(),
      expiresAt: Date.now() + 86_400_000,
      designId: 'd',
      buyer: 'b',
      percent: 0,
      ...extra(),
    } as never);
}

/** Redeems and holds the answer unread; resolves with the response once its head arrived. */
function heldRedeem(world: World, printer: { certificate: string; key: string }, tokenId: string) {
  const raw = JSON.stringify({ tokenId });
  return new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
    const request = https.request(
      {
        host: '127.0.0.1',
        port: world.printsPort,
        path: '/v1/printing/prints',
        method: 'POST',
        ca: world.ca,
        cert: printer.certificate,
        key: printer.key,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': String(raw.length) },
      },
      (response) => {
        response.pause();
        resolve(response);
      },
    );
    request.on('error', reject);
    request.end(raw);
  });
}

const tokenOf = (n: number) => n.toString(16).padStart(64, '0');

describe('print server limits: uploads', () => {
  it('takes one upload at a time from one client, whatever its keys', async () => {
    const world = await boot();
    const stalled = await stalledUpload(world);
    const body = Buffer.from(sampleDesign({ comment: 'second' }));
    const second = await upload(world, body);
    assert.equal(second.status, 429, second.text);
    assert.equal(codeOf(second), 'upload_in_progress');
    stalled.request.destroy();
    await stalled.closed;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await upload(world, body)).status, 201);
  });

  it('cuts an upload slower than the floor rate, and frees its slot', async () => {
    const world = await boot({ uploads: { floorBytesPerSecond: 1024 * 1024 } });
    // A few KiB at 1 MiB/s: the deadline is the 10 s grace, not the old flat 5 minutes.
    const started = Date.now();
    const stalled = await stalledUpload(world);
    await stalled.closed;
    const took = Date.now() - started;
    assert.ok(took >= 10_000 && took < 14_000, `cut after ${took} ms`);
    const body = Buffer.from(sampleDesign({ comment: 'after' }));
    assert.equal((await upload(world, body)).status, 201);
  });

  it('limits unlisted uploads per client network, so fresh keys do not reset it', async () => {
    const world = await boot({ uploads: { pendingPerAddressMax: 3 } });
    for (let i = 0; i < 3; i++) {
      const answer = await upload(world, Buffer.from(sampleDesign({ comment: `junk ${i}` })));
      assert.equal(answer.status, 201, answer.text);
    }
    const fresh = await upload(world, Buffer.from(sampleDesign({ comment: 'fresh key' })));
    assert.equal(fresh.status, 429, fresh.text);
    assert.equal(codeOf(fresh), 'pending_uploads_exceeded');
  });

  it('names a client network: an IPv4 address or an IPv6 /64', () => {
    assert.equal(clientNetworkOf('203.0.113.7'), '203.0.113.7');
    assert.equal(clientNetworkOf('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(clientNetworkOf('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(clientNetworkOf('2001:db8:1:2:bbbb:cccc:dddd:1'), '2001:db8:1:2::/64');
    assert.equal(clientNetworkOf('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(clientNetworkOf('::1'), '0:0:0:0::/64');
  });
});

describe('print server limits: streams', () => {
  it('streams one print per printer at a time, and cuts a stream its printer does not read', async () => {
    const world = await boot({ limits: { streamIdleMs: 1_000 } });
    const printer = await withPrinter(world);
    const body = Buffer.from(sampleDesign({ layers: 1200, perimeters: 20 }));
    const uploaded = await upload(world, body);
    assert.equal(uploaded.status, 201, uploaded.text);
    const { contentHash } = JSON.parse(uploaded.text) as { contentHash: string };
    tokensOf(world, printer.printerId, contentHash, () => 'issued');

    const held = await heldRedeem(world, printer, tokenOf(1));
    assert.equal(held.statusCode, 200);

    const second = await httpsRequest(
      `https://127.0.0.1:${world.printsPort}/v1/printing/prints`,
      { ca: world.ca, cert: printer.certificate, key: printer.key },
      { body: { tokenId: tokenOf(2) } },
    );
    assert.equal(second.status, 409, second.text);
    assert.equal(codeOf(second), 'print_in_progress');

    // Not read for the idle time: cut (the server's side: a paused client hears nothing), and
    // the printer may redeem again.
    const inFlight = async () =>
      (
        JSON.parse((await httpsRequest(`${world.url}/health`, { ca: world.ca })).text) as {
          streamsInFlight: number;
        }
      ).streamsInFlight;
    const started = Date.now();
    while ((await inFlight()) > 0) {
      // A wait, not a timing: the stream goes idle once the socket buffers are full, which takes
      // longer on a loaded machine (the CI runs two test files at once on two cores).
      assert.ok(Date.now() - started < 60_000, 'the idle stream is cut');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(held.complete, false, 'cut, never ended');
    held.destroy();
    const again = await heldRedeem(world, printer, tokenOf(3));
    assert.equal(again.statusCode, 200);
    again.destroy();
  });

  it('sends the share it delivered with progress and fail, and records it when a stream closes', async () => {
    const world = await boot();
    const printer = await withPrinter(world);
    const body = Buffer.from(sampleDesign({ layers: 40 }));
    const uploaded = await upload(world, body);
    const { contentHash } = JSON.parse(uploaded.text) as { contentHash: string };
    // Printing once the server sent its print.start, as on chain.
    tokensOf(world, printer.printerId, contentHash, () =>
      world.submitted.some((tx) => tx.type === 'print.start') ? 'printing' : 'issued',
    );
    const asPrinter = { ca: world.ca, cert: printer.certificate, key: printer.key };
    const prints = `https://127.0.0.1:${world.printsPort}/v1/printing/prints`;
    const tokenId = tokenOf(7);
    const whole = await httpsRequest(prints, asPrinter, { body: { tokenId } });
    assert.equal(whole.status, 200);
    // The stream closed whole: a print.progress records delivered 100 though the printer said
    // nothing.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const recorded = world.submitted.filter((tx) => tx.type === 'print.progress');
    assert.deepEqual(recorded.at(-1)?.payload, { tokenId, percent: 0, delivered: 100 });

    const progress = await httpsRequest(`${prints}/${tokenId}/progress`, asPrinter, {
      body: { percent: 10 },
    });
    assert.equal(progress.status, 200, progress.text);
    assert.deepEqual(world.submitted.at(-1)?.payload, { tokenId, percent: 10, delivered: 100 });

    // The printer's word for the failure; the server's for the share; the reason made one the
    // chain takes.
    const fail = await httpsRequest(`${prints}/${tokenId}/fail`, asPrinter, {
      body: { percent: 12, reason: 'nozzle\nclog\u202e' },
    });
    assert.equal(fail.status, 200, fail.text);
    assert.deepEqual(world.submitted.at(-1), {
      type: 'print.fail',
      payload: { tokenId, percent: 12, reason: 'nozzle clog', delivered: 100 },
    });
  });

  it('makes any reason one the chain takes', () => {
    assert.equal(chainReason('ok reason'), 'ok reason');
    assert.equal(chainReason('a\u0000b\tc'), 'a b c');
    assert.equal(chainReason('\n\u2066'), 'print_failed');
  });
});

describe('print server limits: registration secrets', () => {
  async function registrationWorld(chain: Partial<PrintChain>, active = false) {
    const world = await boot({}, chain);
    const device = deviceKey();
    const hardwareId = hardwareIdOf(world.authority, deviceKeyHashOf(device.publicKey));
    world.chain.hwid = () =>
      Promise.resolve({
        hardwareId,
        authority: world.authority,
        deviceKeyHash: deviceKeyHashOf(device.publicKey),
        issuedAt: 0,
        height: 1,
        tx: 'aa'.repeat(32),
        // The hwid route names the board's active printer, if any.
        ...(active ? { printerId: `pr_${'1'.repeat(32)}` } : {}),
      });
    const owner = generateKey();
    const register = (secret: string) =>
      httpsRequest(
        `${world.url}/v1/printing/registrations`,
        { ca: world.ca },
        {
          body: registrationRequest({
            device,
            hardwareId,
            owner,
            server: world.address,
            chainId: 'coffer-test',
            profile: sampleProfile,
            secret,
          }),
        },
      );
    return { world, register };
  }

  it('refuses a board that is a printer already before taking the secret or sending a tx', async () => {
    const { world, register } = await registrationWorld({}, true);
    const secret = createRegistrationSecret(world.dir);
    const answer = await register(secret);
    assert.equal(answer.status, 409, answer.text);
    assert.equal(codeOf(answer), 'hwid_registered');
    assert.equal(world.submitted.length, 0);
    assert.ok(
      fs.readdirSync(path.join(world.dir, 'secrets')).some((f) => /^[0-9a-f]{64}$/.test(f)),
    );
  });

  it('spends the secret on a refusal: one secret, one refused tx', async () => {
    let submits = 0;
    const { world, register } = await registrationWorld({
      submit: () => {
        submits++;
        return Promise.resolve({
          status: 'rejected' as const,
          code: 'hwid_registered',
          message: 'an active printer has this hardware id',
          tx: 'ab'.repeat(32),
          height: submits,
        });
      },
    });
    const secret = createRegistrationSecret(world.dir);
    const first = await register(secret);
    assert.equal(codeOf(first), 'hwid_registered');
    for (let i = 0; i < 5; i++) {
      assert.equal(codeOf(await register(secret)), 'registration_secret_invalid');
    }
    assert.equal(submits, 1);
  });

  it('gives the secret back after a transient failure, three attempts at most', async () => {
    let submits = 0;
    const { world, register } = await registrationWorld({
      submit: () => {
        submits++;
        return Promise.reject(new ChainUnavailableError('the node is not reachable'));
      },
    });
    const secret = createRegistrationSecret(world.dir);
    for (let i = 0; i < registrationAttemptsMax; i++) {
      const answer = await register(secret);
      assert.equal(answer.status, 503, answer.text);
    }
    assert.equal(codeOf(await register(secret)), 'registration_secret_invalid');
    assert.equal(submits, registrationAttemptsMax);
  });
});
