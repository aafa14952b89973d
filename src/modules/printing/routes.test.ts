import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { fromHex, publicKeyFromAddress, sha256Hex, sign, toHex, utf8 } from '../../crypto/index.js';
import { CofferError, type CofferClient } from '../../sdk/client.js';
import { generateKey, type SigningKey } from '../../sdk/keys.js';
import { startTestNode, type TestNode } from '../../../test/support/test-node.js';
import { printingTxBuilders as build } from './client.js';
import {
  designIdOf,
  designUploadMessage,
  deviceKeyHashOf,
  hardwareIdOf,
  printerDeviceMessage,
  printerRegistrationMessage,
  profileHashOf,
  type PrinterProfile,
} from './schema.js';

/*
 * The printing routes on a node in this process, through the SDK: a hardware id, a printer and
 * an owner's printers, the store's designs by status and server with paging, a design, a token
 * and a buyer's tokens as the print goes, a server's revocations (its CRL's source); the error
 * codes and statuses of bad and unknown ids; a refused tx over HTTP.
 */

let testNode: TestNode;
let client: CofferClient;
let dev: SigningKey;
let chainId: string;
const authority = generateKey();
const server = generateKey();
const designer = generateKey();
const owner = generateKey();
const device = generateKey();
const deviceKey = toHex(publicKeyFromAddress(device.address));
const hardwareId = hardwareIdOf(authority.address, deviceKeyHashOf(deviceKey));
const printerId = `pr_${'1'.repeat(32)}`;
const price = { asset: 'USD', amount: '2500' };
let staleBuy: [string, number];
const profile: PrinterProfile = {
  firmware: 'klipper',
  bed: { x: 235_000, y: 235_000, z: 250_000 },
  nozzleUm: 400,
  filament: 'petg',
  hotendC: 240,
  bedC: 80,
  flowPct: 95,
  startGcode: 'PRINT_START',
  endGcode: 'PRINT_END',
};
const bbox = { x: 50_000, y: 50_000, z: 20_000 };
let designIds: string[];
let tokenId: string;

type Tx = { type: string; payload: Record<string, unknown> };

async function ok(key: SigningKey, tx: Tx): Promise<string> {
  const result = await client.send(key, tx, { wait: 'commit' });
  assert.equal(result.status, 'ok', `${tx.type}: ${JSON.stringify(result)}`);
  return result.hash;
}

async function codeOf(promise: Promise<unknown>): Promise<[string, number]> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CofferError);
    return [error.code, error.status];
  }
  assert.fail('expected a CofferError');
}

function listing(title: string, g: string) {
  const contentHash = sha256Hex(utf8(g));
  const designId = designIdOf(server.address, designer.address, contentHash);
  const message = designUploadMessage(
    chainId,
    designId,
    designer.address,
    contentHash,
    10,
    g.length,
    bbox,
    2000,
  );
  return build.listDesign({
    designId,
    server: server.address,
    title,
    contentHash,
    sizeBytes: g.length,
    lines: 10,
    bbox,
    price: { asset: 'USD', amount: '2500' },
    printsMax: 5,
    platformShareBp: 2000,
    licence: { commercial: true, remix: false },
    serverProof: toHex(sign(message, fromHex(server.secretKey))),
  });
}

before(async () => {
  testNode = await startTestNode('printing-routes');
  ({ client, dev } = testNode);
  ({ chainId } = await client.health());
  await ok(dev, {
    type: 'ledger.transfer',
    payload: { to: owner.address, asset: 'USD', amount: '50000' },
  });
  await ok(authority, build.hwid({ hardwareId, deviceKeyHash: deviceKeyHashOf(deviceKey) }));
  const proof = sign(
    printerRegistrationMessage(chainId, hardwareId, server.address, profileHashOf(profile)),
    fromHex(owner.secretKey),
  );
  await ok(
    server,
    build.registerPrinter({
      printerId,
      hardwareId,
      owner: owner.address,
      clientId: 'printer-1',
      certFingerprint: sha256Hex(utf8('certificate')),
      profile,
      ownerProof: toHex(proof),
      deviceKey,
      deviceProof: toHex(
        sign(
          printerDeviceMessage(
            chainId,
            hardwareId,
            server.address,
            owner.address,
            profileHashOf(profile),
          ),
          fromHex(device.secretKey),
        ),
      ),
    }),
  );
  const first = listing('Benchy', 'G1 X1\n');
  const second = listing('Cube', 'G1 X2\n');
  await ok(designer, first);
  await ok(designer, second);
  designIds = [first.payload.designId as string, second.payload.designId as string].sort();
  await ok(designer, build.updateDesign(designIds[1]!, { status: 'unlisted' }));
  staleBuy = await codeOf(
    client.send(owner, build.buy(designIds[0]!, printerId, { ...price, amount: '2400' }), {
      wait: 'commit',
    }),
  );
  tokenId = await ok(owner, build.buy(designIds[0]!, printerId, price));
  await ok(server, build.start(tokenId, sha256Hex(utf8('watermark'))));
  await ok(server, build.progress(tokenId, 45, 50));
});

after(async () => {
  await testNode.close();
});

describe('printing routes', () => {
  it('a hardware id, a printer and an owner’s printers', async () => {
    const hwid = await client.printing.hwid(hardwareId);
    assert.equal(hwid.authority, authority.address);
    assert.equal(hwid.deviceKeyHash, deviceKeyHashOf(deviceKey));
    assert.equal(hwid.printerId, printerId, 'the active printer of the id');
    const printer = await client.printing.printer(printerId);
    assert.equal(printer.owner, owner.address);
    assert.equal(printer.server, server.address);
    assert.equal(printer.status, 'active');
    assert.deepEqual(printer.profile, profile);
    const mine = await client.printing.printersOf(owner.address);
    assert.deepEqual(
      mine.printers.map((p) => p.printerId),
      [printerId],
    );
    assert.equal(mine.next, null);
  });

  it('the store: designs by status and server, paged', async () => {
    const all = await client.printing.designs();
    assert.deepEqual(
      all.designs.map((d) => d.designId),
      designIds,
    );
    const listed = await client.printing.designs({ status: 'listed' });
    assert.deepEqual(
      listed.designs.map((d) => d.designId),
      [designIds[0]],
    );
    assert.equal(listed.designs[0]!.sold, 1);
    const unlisted = await client.printing.designs({ status: 'unlisted', server: server.address });
    assert.deepEqual(
      unlisted.designs.map((d) => d.designId),
      [designIds[1]],
    );
    const elsewhere = await client.printing.designs({ server: designer.address });
    assert.deepEqual(elsewhere.designs, []);
    const first = await client.printing.designs({ server: server.address, limit: 1 });
    assert.equal(first.next, designIds[0]);
    const next = await client.printing.designs({
      server: server.address,
      after: first.next ?? undefined,
    });
    assert.deepEqual(
      next.designs.map((d) => d.designId),
      [designIds[1]],
    );
    assert.equal(next.next, null);
    const design = await client.printing.design(designIds[0]!);
    assert.equal(design.designer, designer.address);
    assert.deepEqual(design.licence, { commercial: true, remix: false });
  });

  it("a token as it prints, a buyer's tokens, the escrow", async () => {
    const token = await client.printing.token(tokenId);
    assert.equal(token.status, 'printing');
    assert.equal(token.percent, 45);
    assert.equal(token.delivered, 50);
    assert.equal(token.attempts, 1);
    assert.equal(token.buyer, owner.address);
    assert.deepEqual(token.price, { asset: 'USD', amount: '2500' });
    const mine = await client.printing.tokensOf(owner.address);
    assert.deepEqual(
      mine.tokens.map((t) => t.tokenId),
      [tokenId],
    );
    await ok(server, build.finish(tokenId));
    const done = await client.printing.token(tokenId);
    assert.equal(done.status, 'finished');
    assert.deepEqual(done.paid, { platform: '500', designer: '2000' });
    const account = await client.getAccount(designer.address);
    assert.equal(account.balances.find((b) => b.asset === 'USD')?.balance, '2000');
  });

  it("a server's revocations in order, from a cursor", async () => {
    assert.deepEqual((await client.printing.revocations(server.address)).revocations, []);
    await ok(owner, build.revokePrinter(printerId));
    const page = await client.printing.revocations(server.address);
    assert.deepEqual(
      page.revocations.map((r) => [r.seq, r.printerId, r.certFingerprint]),
      [[1, printerId, sha256Hex(utf8('certificate'))]],
    );
    assert.deepEqual(
      (await client.printing.revocations(server.address, { after: 1 })).revocations,
      [],
    );
    assert.equal((await client.printing.printer(printerId)).status, 'revoked');
  });

  it('answers codes with their statuses for bad and unknown ids', async () => {
    assert.deepEqual(await codeOf(client.printing.hwid('hw_x')), ['invalid_hardware_id', 400]);
    assert.deepEqual(await codeOf(client.printing.hwid(`hw_${'0'.repeat(32)}`)), [
      'hwid_not_found',
      404,
    ]);
    assert.deepEqual(await codeOf(client.printing.printer('nope')), ['invalid_printer_id', 400]);
    assert.deepEqual(await codeOf(client.printing.printer(`pr_${'0'.repeat(32)}`)), [
      'printer_not_found',
      404,
    ]);
    assert.deepEqual(await codeOf(client.printing.design('0'.repeat(32))), [
      'design_not_found',
      404,
    ]);
    assert.deepEqual(await codeOf(client.printing.token('0'.repeat(64))), [
      'print_token_not_found',
      404,
    ]);
    assert.deepEqual(await codeOf(client.printing.token('0'.repeat(63))), [
      'invalid_token_id',
      400,
    ]);
    assert.deepEqual(await codeOf(client.printing.printersOf('cof1nope')), [
      'invalid_address',
      400,
    ]);
    assert.deepEqual(await codeOf(client.printing.tokensOf('cof1nope')), ['invalid_address', 400]);
    assert.deepEqual(await codeOf(client.printing.designs({ limit: 101 })), [
      'invalid_request',
      400,
    ]);
    assert.deepEqual(await codeOf(client.printing.designs({ status: 'sold' as 'listed' })), [
      'invalid_design_status',
      400,
    ]);
    assert.deepEqual(await codeOf(client.printing.revocations(server.address, { after: -1 })), [
      'invalid_request',
      400,
    ]);
  });

  it('a refused tx answers its code: a second start, a buy for another’s printer, a stale price', async () => {
    assert.deepEqual(
      await codeOf(
        client.send(server, build.start(tokenId, sha256Hex(utf8('again'))), { wait: 'commit' }),
      ),
      ['token_redeemed', 422],
    );
    const stranger = generateKey();
    assert.deepEqual(
      await codeOf(
        client.send(stranger, build.buy(designIds[0]!, printerId, price), { wait: 'commit' }),
      ),
      ['not_printer_owner', 422],
    );
    // Sent while the printer was active (before): refused in its block, nothing paid.
    assert.deepEqual(staleBuy, ['price_changed', 422]);
    // The stateless parse refuses at admission with its 400.
    assert.deepEqual(
      await codeOf(client.send(server, build.progress(tokenId, 101, 0), { wait: 'commit' })),
      ['invalid_percent', 400],
    );
  });
});
