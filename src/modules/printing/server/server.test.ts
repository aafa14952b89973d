import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { startTestNode, type TestNode } from '../../../../test/support/test-node.js';
import { generateKey, txs, type SigningKey } from '../../../sdk/index.js';
import { createCa, issueParty } from '../../iot/pki/certificates.js';
import { printingTxBuilders } from '../client.js';
import { linesOf } from '../gcode/parse.js';
import { recoverWatermark } from '../gcode/watermark.js';
import { deviceKeyHashOf, hardwareIdOf, profileHashOf, type PrintTokenRecord } from '../schema.js';
import {
  initPrintServerDataDir,
  loadPrintServerConfig,
  parsePrintServerConfig,
  serverFiles,
} from './config.js';
import {
  designUploadHeaders,
  deviceKey,
  httpsRequest,
  registrationRequest,
  sampleDesign,
  sampleProfile,
  type DeviceKey,
  type HttpsAnswer,
} from './fixture.js';
import { createRegistrationSecret, readWatermarks, watermarkCommitmentOf } from './records.js';
import {
  printServerErrors,
  printerPartyProfile,
  startPrintServer,
  type RunningPrintServer,
} from './server.js';
import { authorityErrors } from '../authority/server.js';
import { traceLeak } from './trace.js';
import { chunkBytes, chunkStride } from '../../licensing/gateway/storage.js';

/*
 * The print server over real TLS sockets against a real node in this process (5 ms blocks): an
 * SBC registers with a one-time secret and gets a client certificate; a designer uploads G-code
 * and lists it; an owner buys a print; the printer redeems the token over mutual TLS and receives
 * the G-code adapted and watermarked, streamed; progress, finish and fail go to the chain. The
 * forbidden cases: another CA's or a revoked certificate refused in the handshake, another
 * printer's token, a token redeemed twice, a used secret, a forged consent, an untrusted authority.
 */

interface ErrorBody {
  error: { code: string; message: string };
}
const codeOf = (answer: HttpsAnswer) => (JSON.parse(answer.text) as ErrorBody).error?.code;

interface Printer {
  printerId: string;
  clientId: string;
  certificate: string;
  key: string;
  owner: SigningKey;
  device: DeviceKey;
  hardwareId: string;
}

describe('print server', () => {
  let t: TestNode;
  let dir: string;
  let running: RunningPrintServer;
  let ca: string;
  let chainId: string;
  let clock = Date.now();
  const authority = generateKey();
  const strangerAuthority = generateKey();
  const designer = generateKey();
  const owner = generateKey();
  const owner2 = generateKey();
  let printerA: Printer;
  let printerB: Printer;
  let designId: string;
  const design = Buffer.from(sampleDesign({ layers: 40 }));

  const send = async (key: SigningKey, tx: { type: string; payload: Record<string, unknown> }) => {
    const result = await t.client.send(key, tx);
    assert.equal(result.status, 'ok', JSON.stringify(result));
    return result;
  };

  async function recordHwid(by: SigningKey): Promise<{ device: DeviceKey; hardwareId: string }> {
    const device = deviceKey();
    const hardwareId = hardwareIdOf(by.address, deviceKeyHashOf(device.publicKey));
    await send(
      by,
      printingTxBuilders.hwid({ hardwareId, deviceKeyHash: deviceKeyHashOf(device.publicKey) }),
    );
    return { device, hardwareId };
  }

  const register = (body: unknown) =>
    httpsRequest(`${running.url}/v1/printing/registrations`, { ca }, { body });

  const asPrinter = (printer: Printer) => ({ ca, cert: printer.certificate, key: printer.key });
  const printsUrl = (route: string) => `${running.printsUrl}${route}`;
  const redeem = (printer: Printer, tokenId: string) =>
    httpsRequest(printsUrl('/v1/printing/prints'), asPrinter(printer), { body: { tokenId } });
  const report = (printer: Printer, tokenId: string, what: string, body: unknown = {}) =>
    httpsRequest(printsUrl(`/v1/printing/prints/${tokenId}/${what}`), asPrinter(printer), {
      body,
    });
  const token = (tokenId: string): Promise<PrintTokenRecord> => t.client.printing.token(tokenId);

  async function upload(
    by: SigningKey,
    body: Buffer,
    headers = designUploadHeaders(by, body, running.address, clock),
  ) {
    return httpsRequest(`${running.url}/v1/printing/designs`, { ca }, { body, headers });
  }

  async function uploadAndList(by: SigningKey, body: Buffer, price = '1000') {
    const answer = await upload(by, body);
    assert.ok(answer.status === 201 || answer.status === 200, answer.text);
    const uploaded = JSON.parse(answer.text) as Record<string, unknown> & {
      designId: string;
      contentHash: string;
      sizeBytes: number;
      lines: number;
      bbox: { x: number; y: number; z: number };
      platformShareBp: number;
      serverProof: string;
      server: string;
    };
    await send(
      by,
      printingTxBuilders.listDesign({
        designId: uploaded.designId,
        server: uploaded.server,
        title: 'A calibration cube',
        contentHash: uploaded.contentHash,
        sizeBytes: uploaded.sizeBytes,
        lines: uploaded.lines,
        bbox: uploaded.bbox,
        price: { asset: 'USD', amount: price },
        printsMax: 100,
        platformShareBp: uploaded.platformShareBp,
        licence: { commercial: false, remix: false },
        serverProof: uploaded.serverProof,
      }),
    );
    return uploaded;
  }

  async function buy(buyer: SigningKey, forDesign: string, printer: Printer): Promise<string> {
    const { price } = await t.client.printing.design(forDesign);
    const bought = await send(buyer, printingTxBuilders.buy(forDesign, printer.printerId, price));
    return bought.hash;
  }

  before(async () => {
    t = await startTestNode('print-server');
    chainId = (await t.client.health()).chainId;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-print-server-'));
    const init = await initPrintServerDataDir(dir, {
      nodeUrl: t.url,
      port: 0,
      printsPort: 0,
      trustedAuthorities: [authority.address],
      platformShareBp: 1500,
    });
    for (const file of [serverFiles.key, serverFiles.caKey, serverFiles.tlsKey]) {
      assert.equal(fs.statSync(path.join(dir, file)).mode & 0o777, 0o600, file);
    }
    // A second init keeps every key and the CA.
    const caBefore = fs.readFileSync(init.caFile, 'utf8');
    const again = await initPrintServerDataDir(dir, { nodeUrl: t.url });
    assert.equal(again.server, init.server);
    assert.equal(fs.readFileSync(init.caFile, 'utf8'), caBefore);
    ca = caBefore;
    const written = loadPrintServerConfig(init.configFile);
    const config = parsePrintServerConfig(
      {
        ...(JSON.parse(fs.readFileSync(init.configFile, 'utf8')) as object),
        dataDir: written.dataDir,
        uploads: { bytesMax: 16 * 1024 * 1024 },
        limits: { revocationPollMs: 50 },
      },
      dir,
    );
    running = await startPrintServer(config, {
      now: () => clock,
      log: process.env.P3_DEBUG ? (l, e, f) => console.error(l, e, f) : () => {},
    });
    assert.equal(running.address, init.server);
    for (const who of [owner, owner2]) {
      await send(t.dev, txs.transfer({ to: who.address, asset: 'USD', amount: '100000' }));
    }
  });

  after(async () => {
    await running?.close();
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers what an SBC needs before it registers', async () => {
    const answer = await httpsRequest(`${running.url}/v1/printing/server`, { ca });
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.text), {
      server: running.address,
      chainId,
      caCertificate: ca,
      printsUrl: running.printsUrl,
      platformShareBp: 1500,
    });
  });

  it('registers an SBC with a one-time secret and refuses every forbidden registration', async () => {
    const { device, hardwareId } = await recordHwid(authority);
    const secret = createRegistrationSecret(dir);
    const request = (overrides: Partial<Parameters<typeof registrationRequest>[0]> = {}) =>
      registrationRequest({
        device,
        hardwareId,
        owner,
        server: running.address,
        chainId,
        profile: sampleProfile,
        secret,
        timestamp: clock,
        ...overrides,
      });
    const refusedWith = async (body: unknown, status: number, code: string) => {
      const answer = await register(body);
      assert.equal(answer.status, status, answer.text);
      assert.equal(codeOf(answer), code);
    };

    // An id from an authority this server does not trust.
    const stranger = await recordHwid(strangerAuthority);
    await refusedWith(
      request({ device: stranger.device, hardwareId: stranger.hardwareId }),
      403,
      'authority_not_trusted',
    );
    // An id never issued, and an id issued for another device key.
    const unknown = deviceKey();
    await refusedWith(
      request({
        device: unknown,
        hardwareId: hardwareIdOf(authority.address, deviceKeyHashOf(unknown.publicKey)),
      }),
      404,
      'hwid_unknown',
    );
    // This id with another device's key (its own signature), and another key's signature.
    await refusedWith(request({ device: unknown }), 404, 'hwid_unknown');
    await refusedWith(
      { ...request(), signature: request({ device: unknown }).signature },
      401,
      'signature_invalid',
    );
    // A consent the owner never gave: another key's signature, and a proof for another server.
    await refusedWith(
      request({
        ownerProof: registrationRequest({
          device,
          hardwareId,
          owner: owner2,
          server: running.address,
          chainId,
          profile: sampleProfile,
          secret,
        }).ownerProof,
      }),
      403,
      'owner_proof_invalid',
    );
    await refusedWith(
      request({
        ownerProof: registrationRequest({
          device,
          hardwareId,
          owner,
          server: owner2.address,
          chainId,
          profile: sampleProfile,
          secret,
        }).ownerProof,
      }),
      403,
      'owner_proof_invalid',
    );
    // A signed request from more than 5 minutes ago, a made-up secret.
    await refusedWith(request({ timestamp: clock - 5 * 60_000 - 1 }), 401, 'request_stale');
    await refusedWith(
      request({ secret: crypto.randomBytes(32).toString('hex') }),
      403,
      'registration_secret_invalid',
    );
    // A device's signature does not cover another profile.
    const tampered = { ...request(), profile: { ...sampleProfile, hotendC: 250 } };
    await refusedWith(tampered, 401, 'signature_invalid');

    // The refusals above took nothing: the secret still registers the printer.
    const answer = await register(request());
    assert.equal(answer.status, 201, answer.text);
    const body = JSON.parse(answer.text) as Record<string, string>;
    assert.match(body.printerId!, /^pr_[0-9a-f]{32}$/);
    assert.equal(body.caCertificate, ca);
    assert.equal(body.printsUrl, running.printsUrl);
    const certificate = new crypto.X509Certificate(body.certificate!);
    assert.equal(
      certificate.subject.split('\n').find((l) => l.startsWith('CN='))!,
      `CN=${body.printerId}`,
    );
    assert.ok(certificate.checkIssued(new crypto.X509Certificate(ca)));
    assert.ok(certificate.checkPrivateKey(crypto.createPrivateKey(body.key!)));
    assert.equal(crypto.createPrivateKey(body.key!).asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const record = await t.client.printing.printer(body.printerId!);
    assert.equal(record.owner, owner.address);
    assert.equal(record.server, running.address);
    assert.equal(record.hardwareId, hardwareId);
    assert.equal(record.clientId, body.clientId);
    assert.equal(record.profileHash, profileHashOf(sampleProfile));
    assert.equal(
      record.certFingerprint,
      crypto.createHash('sha256').update(certificate.raw).digest('hex'),
    );
    printerA = { ...(body as unknown as Printer), owner, device, hardwareId };

    // The secret is spent: another SBC cannot use it.
    const next = await recordHwid(authority);
    await refusedWith(
      request({ device: next.device, hardwareId: next.hardwareId }),
      403,
      'registration_secret_invalid',
    );
    // The same SBC again with a fresh secret: refused (one printer per hardware id, read from
    // the chain's hwid answer) before the secret is taken, so it registers another SBC. (A
    // refusal by the chain itself spends the secret: limits.test.ts.)
    const fresh = createRegistrationSecret(dir);
    await refusedWith(request({ secret: fresh }), 409, 'hwid_registered');
    const other = await register(
      request({ device: next.device, hardwareId: next.hardwareId, owner: owner2, secret: fresh }),
    );
    assert.equal(other.status, 201, other.text);
    printerB = {
      ...(JSON.parse(other.text) as Printer),
      owner: owner2,
      device: next.device,
      hardwareId: next.hardwareId,
    };
  });

  it('lets a registered certificate through the handshake and refuses another CA’s', async () => {
    const ok = await httpsRequest(printsUrl('/health'), asPrinter(printerA));
    assert.equal(ok.status, 200);

    const refusedBefore = running.server.stats.tlsRefused;
    // No certificate.
    await assert.rejects(httpsRequest(printsUrl('/health'), { ca }));
    // A certificate of the same shape (CN = a printer id) from a CA of the attacker's own.
    const rogueCa = await createCa({ name: 'Rogue CA', keyType: 'p256' });
    const rogue = await issueParty({
      ca: rogueCa,
      deviceId: printerA.printerId,
      role: 'printer',
      keyType: 'p256',
      profile: printerPartyProfile,
    });
    await assert.rejects(
      httpsRequest(
        printsUrl('/v1/printing/prints'),
        {
          ca,
          cert: rogue.certificatePem,
          key: rogue.privateKeyPem,
        },
        { body: { tokenId: '00'.repeat(32) } },
      ),
    );
    // Printer A's certificate with another key: the handshake's proof of possession fails.
    const otherKey = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    await assert.rejects(
      httpsRequest(printsUrl('/health'), {
        ca,
        cert: printerA.certificate,
        key: otherKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      }),
    );
    // The server saw the handshakes fail (no HTTP request ever reached it).
    await waitFor(() => running.server.stats.tlsRefused >= refusedBefore + 2);
  });

  it('takes a designer’s G-code, encrypted, with what design.list needs', async () => {
    // Refused before the body is read: a forged authorisation, a stale one.
    const forged = designUploadHeaders(owner, design, running.address, clock);
    forged['x-coffer-designer'] = designer.address;
    const refused = await upload(designer, design, forged);
    assert.equal(refused.status, 401);
    assert.equal(codeOf(refused), 'signature_invalid');
    const stale = await upload(
      designer,
      design,
      designUploadHeaders(designer, design, running.address, clock - 6 * 60_000),
    );
    assert.equal(codeOf(stale), 'request_stale');
    // A body that is not the one announced.
    const other = Buffer.from(sampleDesign({ layers: 40, comment: 'other' }));
    const swapped = await upload(designer, other, {
      ...designUploadHeaders(designer, design, running.address, clock),
      'content-length': String(other.length),
    });
    assert.equal(swapped.status, 401, 'the authorisation names the size and hash');
    const big = Buffer.alloc(16 * 1024 * 1024 + 1, 0x20);
    const tooBig = await upload(designer, big);
    assert.equal(tooBig.status, 413);
    assert.equal(codeOf(tooBig), 'upload_too_large');
    const garbage = Buffer.from('G1 X\u0000\n');
    assert.equal(codeOf(await upload(designer, garbage)), 'gcode_invalid');
    const offBed = Buffer.from('; coffer:start\nG90\nG0 X-5 Y10\nG0 X10 Y10\n');
    assert.equal(codeOf(await upload(designer, offBed)), 'design_does_not_fit');

    const uploaded = await uploadAndList(designer, design);
    designId = uploaded.designId;
    assert.equal(uploaded.server, running.address);
    assert.equal(uploaded.sizeBytes, design.length);
    assert.equal(uploaded.contentHash, crypto.createHash('sha256').update(design).digest('hex'));
    assert.equal(uploaded.lines, design.toString().split('\n').length - 1);
    assert.deepEqual(uploaded.bbox, { x: 110_000, y: 110_000, z: 8_000 });
    assert.equal(uploaded.platformShareBp, 1500);
    const listed = await t.client.printing.design(designId);
    assert.equal(listed.designer, designer.address);

    // Nothing of the G-code is in clear on disk.
    const stored = fs.readFileSync(running.server.store.chunksFile(uploaded.contentHash));
    assert.equal(stored.includes(Buffer.from('G1 X90.000')), false);
    assert.equal(stored.includes(Buffer.from('coffer:start')), false);

    // The same bytes by another designer are refused; by the same one, answered again.
    assert.equal(codeOf(await upload(owner, design)), 'design_exists');
    const again = await upload(designer, design);
    assert.equal(again.status, 200);
    assert.equal((JSON.parse(again.text) as { designId: string }).designId, designId);
  });

  let receivedA = '';
  let tokenA = '';

  it('streams a bought print to its printer only, adapted and watermarked, and once', async () => {
    tokenA = await buy(owner, designId, printerA);

    // Printer B presents its own valid certificate with printer A's token.
    const stolen = await redeem(printerB, tokenA);
    assert.equal(stolen.status, 403);
    assert.equal(codeOf(stolen), 'token_printer_mismatch');
    assert.equal((await token(tokenA)).status, 'issued');
    // A token that does not exist.
    assert.equal(codeOf(await redeem(printerA, '11'.repeat(32))), 'print_token_not_found');

    const answer = await redeem(printerA, tokenA);
    assert.equal(answer.status, 200, answer.text.slice(0, 300));
    assert.match(String(answer.headers['content-type']), /^text\/plain/);
    receivedA = answer.text;
    const lines = receivedA.split('\n').slice(0, -1);
    // The header says at most how many lines come (before the first is adapted); the trailer
    // after the last says exactly how many came.
    assert.ok(Number(answer.headers['x-coffer-print-lines']) >= lines.length);
    assert.ok(Number(answer.headers['x-coffer-print-lines']) <= lines.length + 16);
    assert.equal(answer.trailers['x-coffer-print-lines-sent'], String(lines.length));
    assert.equal(answer.headers['x-coffer-token-id'], tokenA);
    // Adapted: the profile's temperatures and start code, no comment, no designer's start block.
    assert.ok(lines.includes('M104 S205') || lines.includes('M109 S205'), 'the profile hotend');
    assert.ok(!lines.some((line) => line.includes(';')), 'no comments');
    assert.ok(!lines.includes('M104 S215'), 'no designer temperature');
    assert.ok(lines.includes('G1 Z5.000 F3000'), 'the profile start code');

    const started = await token(tokenA);
    assert.equal(started.status, 'printing');
    assert.equal(started.attempts, 1);
    const [record] = readWatermarks(dir).filter((r) => r.tokenId === tokenA);
    assert.ok(record);
    assert.equal(started.watermarkCommitment, watermarkCommitmentOf(record.watermark, record.salt));
    assert.equal(record.printerId, printerA.printerId);
    const read = await recoverWatermark(linesOf([design]), lines);
    assert.equal(Buffer.from(read.watermark).toString('hex'), record.watermark);

    // Redeemed again (a replay of the same request): refused, nothing streams.
    const replay = await redeem(printerA, tokenA);
    assert.equal(replay.status, 409);
    assert.equal(codeOf(replay), 'token_redeemed');
  });

  it('records progress at most once per 5 % step, then the finish and its payment', async () => {
    const progress = async (percent: number) => {
      const answer = await report(printerA, tokenA, 'progress', { percent });
      return { status: answer.status, body: JSON.parse(answer.text) as Record<string, unknown> };
    };
    assert.equal((await progress(3)).body.recorded, false);
    assert.equal((await progress(5)).body.recorded, true);
    assert.equal((await progress(7)).body.recorded, false);
    const backwards = await progress(4);
    assert.equal(backwards.status, 409);
    assert.equal((backwards.body as unknown as ErrorBody).error.code, 'progress_backwards');
    assert.equal((await progress(12)).body.recorded, true);
    assert.equal((await token(tokenA)).percent, 10 + 2);
    // Another printer cannot report on this print.
    const foreign = await report(printerB, tokenA, 'progress', { percent: 50 });
    assert.equal(codeOf(foreign), 'token_printer_mismatch');
    assert.equal(codeOf(await report(printerB, tokenA, 'finish')), 'token_printer_mismatch');

    const serverBefore = await balance(running.address);
    const designerBefore = await balance(designer.address);
    const finished = await report(printerA, tokenA, 'finish');
    assert.equal(finished.status, 200, finished.text);
    assert.equal((JSON.parse(finished.text) as { status: string }).status, 'finished');
    const done = await token(tokenA);
    assert.equal(done.status, 'finished');
    // 10.00 USD at 15 %: 1.50 to the server, 8.50 to the designer.
    assert.equal((await balance(running.address)) - serverBefore, 150n);
    assert.equal((await balance(designer.address)) - designerBefore, 850n);

    // A finished token redeems nothing, reports nothing.
    assert.equal(codeOf(await redeem(printerA, tokenA)), 'token_closed');
    assert.equal(codeOf(await report(printerA, tokenA, 'finish')), 'token_closed');
  });

  async function balance(address: string): Promise<bigint> {
    const account = await t.client.getAccount(address);
    const entry = account.balances.find((b) => b.asset === 'USD');
    return BigInt(entry?.balance ?? '0');
  }

  it('names the print a leaked copy came from', async () => {
    const leak = path.join(dir, 'leak.gcode');
    fs.writeFileSync(leak, receivedA);
    const traced = await traceLeak(dir, leak);
    assert.equal(traced?.print?.tokenId, tokenA);
    assert.equal(traced?.print?.printerId, printerA.printerId);
    assert.equal(traced?.print?.buyer, owner.address);
    fs.rmSync(leak);
  });

  it('follows the refund rule: re-issued once, then refunded for what the server did not deliver', async () => {
    const tokenId = await buy(owner, designId, printerA);
    const paid = await balance(owner.address);
    assert.equal((await redeem(printerA, tokenId)).status, 200);
    const first = await report(printerA, tokenId, 'fail', { percent: 40, reason: 'nozzle clog' });
    assert.equal(first.status, 200, first.text);
    assert.equal((JSON.parse(first.text) as { status: string }).status, 'issued');
    assert.equal(
      codeOf(await report(printerA, tokenId, 'fail', { percent: 1, reason: 'x' })),
      'token_not_printing',
    );

    const second = await redeem(printerA, tokenId);
    assert.equal(second.status, 200);
    assert.equal((await token(tokenId)).attempts, 2);
    const watermarks = readWatermarks(dir).filter((r) => r.tokenId === tokenId);
    assert.equal(watermarks.length, 2);
    assert.notEqual(watermarks[0]!.watermark, watermarks[1]!.watermark, 'each print its own id');
    const last = await report(printerA, tokenId, 'fail', {
      percent: 70,
      reason: 'thermal runaway',
    });
    assert.equal((JSON.parse(last.text) as { status: string }).status, 'refunded');
    // Both redeems read the whole G-code: the server wrote every line, so the refund is nothing
    // whatever the printer says (the price went to the designer and the platform).
    assert.equal((await token(tokenId)).delivered, 100);
    assert.equal((await balance(owner.address)) - paid, 0n);
    assert.equal(codeOf(await redeem(printerA, tokenId)), 'token_closed');
  });

  it('refuses an expired token', async () => {
    const tokenId = await buy(owner, designId, printerA);
    const saved = clock;
    clock += 8 * 86_400_000;
    try {
      const answer = await redeem(printerA, tokenId);
      assert.equal(answer.status, 409);
      assert.equal(codeOf(answer), 'token_expired');
    } finally {
      clock = saved;
    }
    assert.equal((await token(tokenId)).status, 'issued');
  });

  it('cuts the stream, never ends it, when the stored design fails its check half way', async () => {
    const body = Buffer.from(sampleDesign({ layers: 150, perimeters: 4, comment: 'to corrupt' }));
    assert.ok(body.length > 3 * chunkBytes);
    const uploaded = await uploadAndList(designer, body, '100');
    const tokenId = await buy(owner, uploaded.designId, printerA);
    // One byte of the third sealed chunk flipped on disk: its tag fails when it is reached.
    const file = running.server.store.chunksFile(uploaded.contentHash);
    const handle = fs.openSync(file, 'r+');
    const at = 2 * chunkStride + 100;
    const byte = Buffer.alloc(1);
    fs.readSync(handle, byte, 0, 1, at);
    byte[0] = byte[0]! ^ 0xff;
    fs.writeSync(handle, byte, 0, 1, at);
    fs.closeSync(handle);
    // The first lines went out with a 200; the connection is then reset, not ended.
    await assert.rejects(redeem(printerA, tokenId), (error: Error & { code?: string }) => {
      assert.match(`${error.code} ${error.message}`, /ECONNRESET|aborted/);
      return true;
    });
    assert.equal((await token(tokenId)).status, 'printing');
    assert.equal(
      (await report(printerA, tokenId, 'fail', { percent: 0, reason: 'stream cut' })).status,
      200,
    );
  });

  it('adapts lazily: a printer that stops reading stops the adapter', async () => {
    const large = Buffer.from(sampleDesign({ layers: 1200, perimeters: 24, comment: 'large' }));
    const uploaded = await uploadAndList(designer, large, '100');
    const tokenId = await buy(owner, uploaded.designId, printerA);
    const before = running.server.stats.printedLines;
    const { response, request } = await openStream(printerA, tokenId);
    const atMost = Number(response.headers['x-coffer-print-lines']);
    assert.ok(atMost > 300_000, `a large print (${atMost} lines)`);
    response.pause();
    // Wait until the socket buffers are full and the server has stopped producing.
    let produced = -1;
    for (;;) {
      await delay(100);
      const now = running.server.stats.printedLines - before;
      if (now === produced) break;
      produced = now;
    }
    // Loopback TCP and TLS buffers hold a few MiB (about 4 here) of the ~10 MiB print.
    assert.ok(
      produced < atMost * 0.6,
      `only what the buffers hold is adapted (${produced} of ${atMost})`,
    );
    let received = 0;
    let tail = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      const text = tail + chunk;
      const parts = text.split('\n');
      tail = parts.pop()!;
      received += parts.length;
    });
    response.resume();
    await new Promise((resolve) => response.once('end', resolve));
    assert.ok(received > produced && received <= atMost);
    assert.equal(response.trailers['x-coffer-print-lines-sent'], String(received));
    request.destroy();
  });

  function openStream(printer: Printer, tokenId: string) {
    return new Promise<{
      response: import('node:http').IncomingMessage;
      request: import('node:http').ClientRequest;
    }>((resolve, reject) => {
      const target = new URL(printsUrl('/v1/printing/prints'));
      const body = JSON.stringify({ tokenId });
      const request = https.request(
        {
          method: 'POST',
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          ca,
          cert: printer.certificate,
          key: printer.key,
          agent: false,
          headers: { 'content-type': 'application/json' },
        },
        (response) => {
          if (response.statusCode !== 200) reject(new Error(`status ${response.statusCode}`));
          else resolve({ response, request });
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  it('refuses a revoked printer in the handshake and closes its open connections', async () => {
    const before = await httpsRequest(printsUrl('/health'), asPrinter(printerB));
    assert.equal(before.status, 200);
    // A connection open before the revocation.
    const socket = tls.connect({
      host: new URL(running.printsUrl).hostname,
      port: Number(new URL(running.printsUrl).port),
      ca,
      cert: printerB.certificate,
      key: printerB.key,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});

    await send(owner2, printingTxBuilders.revokePrinter(printerB.printerId));
    await waitFor(() => running.server.stats.revocations >= 1);
    await closed;

    const refusedBefore = running.server.stats.tlsRefused;
    await assert.rejects(httpsRequest(printsUrl('/health'), asPrinter(printerB)));
    await waitFor(() => running.server.stats.tlsRefused > refusedBefore);
    // Printer A is not revoked: still through.
    assert.equal((await httpsRequest(printsUrl('/health'), asPrinter(printerA))).status, 200);
  });
});

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail('timed out waiting');
    await delay(20);
  }
}

describe('the servers’ codes', () => {
  it('docs/printing.md lists every code the authority and the print server answer', () => {
    const doc = fs.readFileSync(
      path.join(import.meta.dirname, '../../../../docs/printing.md'),
      'utf8',
    );
    const codes = [...Object.keys(authorityErrors), ...Object.keys(printServerErrors)];
    const missing = codes.filter((code) => !doc.includes(`\`${code}\``));
    assert.deepEqual(missing, []);
  });
});
