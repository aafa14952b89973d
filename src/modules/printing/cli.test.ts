import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';

import { inProcessCli } from '../../../test/support/in-process-cli.js';
import { startTestNode, type TestNode } from '../../../test/support/test-node.js';
import { createCli } from '../../cli/app.js';
import type { CliIo } from '../../cli/terminal.js';
import { fromHex, publicKeyFromAddress, sha256Hex, sign, toHex, utf8 } from '../../crypto/index.js';
import { generateKey, type SigningKey } from '../../sdk/index.js';
import {
  designIdOf,
  designUploadMessage,
  deviceKeyHashOf,
  hardwareIdOf,
  printerDeviceMessage,
  printerRegistrationMessage,
  printingTxBuilders as build,
  profileHashOf,
  type DesignPage,
  type DesignRecord,
  type PrinterPage,
  type PrinterProfile,
  type PrintTokenRecord,
} from './client.js';

/*
 * `coffer printer ...`, `coffer design ...` and `coffer print ...` through the CLI's own entry
 * point against a real node in this process: an SBC's printer registered for the owner (through
 * the SDK, as the print server does), the designer publishes a design from the server's upload
 * answer and changes its price, the owner lists its printers, buys a print (the token id is
 * printed), reads it, cannot cancel it before its time, and revokes its printer; codes of refused
 * txs and bad arguments.
 */

const passphrase = 'printing cli test passphrase';

describe('coffer printer, design and print', () => {
  let t: TestNode;
  let home: string;
  let chainId: string;
  const saved = { home: process.env.COFFER_HOME, passphrase: process.env.COFFER_PASSPHRASE };
  const cli = createCli();
  const authority = generateKey();
  const server = generateKey();
  const designer = generateKey();
  const owner = generateKey();
  const device = generateKey();
  const deviceKey = toHex(publicKeyFromAddress(device.address));
  const hardwareId = hardwareIdOf(authority.address, deviceKeyHashOf(deviceKey));
  const printerId = `pr_${'a'.repeat(32)}`;
  const profile: PrinterProfile = {
    firmware: 'marlin',
    bed: { x: 200_000, y: 200_000, z: 180_000 },
    nozzleUm: 400,
    filament: 'abs',
    hotendC: 250,
    bedC: 100,
    flowPct: 100,
    startGcode: 'G28',
    endGcode: 'M84',
  };
  const contentHash = sha256Hex(utf8('G1 X5 Y5\n'));
  const designId = designIdOf(server.address, designer.address, contentHash);

  const { run, ok } = inProcessCli(() => t.url);

  async function send(key: SigningKey, tx: { type: string; payload: Record<string, unknown> }) {
    const result = await t.client.send(key, tx, { wait: 'commit' });
    assert.equal(result.status, 'ok', tx.type);
    return result.hash;
  }

  before(async () => {
    t = await startTestNode('printing-cli');
    ({ chainId } = await t.client.health());
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-printing-cli-home-'));
    process.env.COFFER_HOME = home;
    process.env.COFFER_PASSPHRASE = passphrase;
    for (const [name, key] of [
      ['designer', designer],
      ['owner', owner],
    ] as const) {
      assert.equal(
        await cli.run(['keys', 'import', name, '--secret', key.secretKey], {
          stdin: new PassThrough(),
          stdout: new PassThrough(),
          stderr: new PassThrough(),
        } as unknown as CliIo),
        0,
      );
    }
    await send(t.dev, {
      type: 'ledger.transfer',
      payload: { to: owner.address, asset: 'USD', amount: '100000' },
    });
    await send(authority, build.hwid({ hardwareId, deviceKeyHash: deviceKeyHashOf(deviceKey) }));
    const proof = sign(
      printerRegistrationMessage(chainId, hardwareId, server.address, profileHashOf(profile)),
      fromHex(owner.secretKey),
    );
    await send(
      server,
      build.registerPrinter({
        printerId,
        hardwareId,
        owner: owner.address,
        clientId: 'garage-printer',
        certFingerprint: sha256Hex(utf8('a client certificate')),
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

  it("lists and shows the owner's printers", async () => {
    const page = JSON.parse(
      await ok(['printer', 'list', '--owner', 'owner', '--json']),
    ) as PrinterPage;
    assert.deepEqual(
      page.printers.map((p) => [p.printerId, p.clientId, p.status]),
      [[printerId, 'garage-printer', 'active']],
    );
    const text = await ok(['printer', 'show', printerId]);
    assert.match(text, /bed\s+200\.000 mm × 200\.000 mm × 180\.000 mm/);
    assert.match(text, /abs, hotend 250 °C, bed 100 °C/);
  });

  it('publishes a design from the upload answer, updates it, and the owner buys a print', async () => {
    const bbox = { x: 5_000, y: 5_000, z: 200 };
    const message = designUploadMessage(
      chainId,
      designId,
      designer.address,
      contentHash,
      1,
      9,
      bbox,
      1000,
    );
    const upload = path.join(home, 'upload.json');
    fs.writeFileSync(
      upload,
      JSON.stringify({
        designId,
        contentHash,
        sizeBytes: 9,
        lines: 1,
        bbox,
        platformShareBp: 1000,
        serverProof: toHex(sign(message, fromHex(server.secretKey))),
        server: server.address,
      }),
    );
    // Only the uploader's account can list it (the id names the designer).
    const stranger = await run([
      ...'design publish'.split(' '),
      upload,
      '--title',
      'Hook',
      '--price',
      '12.50',
      '--asset',
      'USD',
      '--prints-max',
      '3',
      '--from',
      'owner',
    ]);
    assert.equal(stranger.code, 1);
    assert.match(stranger.err, /design_id_mismatch/);
    await ok([
      ...'design publish'.split(' '),
      upload,
      '--title',
      'Hook',
      '--price',
      '12.50',
      '--asset',
      'USD',
      '--prints-max',
      '3',
      '--remix',
      '--from',
      'designer',
    ]);
    let design = JSON.parse(await ok(['design', 'show', designId, '--json'])) as DesignRecord;
    assert.deepEqual(design.price, { asset: 'USD', amount: '1250' });
    assert.deepEqual(design.licence, { commercial: false, remix: true });
    assert.equal(design.printsMax, 3);
    await ok([
      'design',
      'update',
      designId,
      '--price',
      '10',
      '--asset',
      'USD',
      '--from',
      'designer',
    ]);
    design = JSON.parse(await ok(['design', 'show', designId, '--json'])) as DesignRecord;
    assert.deepEqual(design.price, { asset: 'USD', amount: '1000' });
    const store = JSON.parse(
      await ok(['design', 'list', '--status', 'listed', '--json']),
    ) as DesignPage;
    assert.deepEqual(
      store.designs.map((d) => d.designId),
      [designId],
    );

    const buy = (price: string) => [
      ...['print', 'buy', designId, '--printer', printerId],
      ...['--price', price, '--asset', 'USD', '--from', 'owner'],
    ];
    // The price seen before the update: refused, nothing paid.
    const stale = await run(buy('12.50'));
    assert.equal(stale.code, 1);
    assert.match(stale.err, /price_changed/);
    const bought = await ok(buy('10'));
    const tokenId = /token ([0-9a-f]{64})/.exec(bought)?.[1];
    assert.ok(tokenId, bought);
    const token = JSON.parse(await ok(['print', 'show', tokenId, '--json'])) as PrintTokenRecord;
    assert.equal(token.status, 'issued');
    assert.deepEqual(token.price, { asset: 'USD', amount: '1000' });
    const listed = await ok(['print', 'list', '--buyer', 'owner']);
    assert.match(listed, new RegExp(tokenId));
    // Not cancellable before its expiry: the chain's code, exit 1.
    const early = await run(['print', 'cancel', tokenId, '--from', 'owner']);
    assert.equal(early.code, 1);
    assert.match(early.err, /token_not_cancellable/);
    // Once the printer is revoked, the token can no longer print: the buyer takes the price back.
    await ok(['printer', 'revoke', printerId, '--from', 'owner']);
    await ok(['print', 'cancel', tokenId, '--from', 'owner']);
    const refunded = JSON.parse(await ok(['print', 'show', tokenId, '--json'])) as PrintTokenRecord;
    assert.equal(refunded.status, 'refunded');
    const account = await t.client.getAccount(owner.address);
    assert.equal(account.balances.find((b) => b.asset === 'USD')?.balance, '100000');
  });

  it('refuses bad arguments before anything is signed', async () => {
    const cases: [string[], RegExp][] = [
      [['printer', 'show', 'pr_1'], /PRINTER_ID must be pr_/],
      [['design', 'show', 'nope'], /DESIGN_ID must be 32/],
      [['print', 'show', 'ab'], /TOKEN_ID must be 64/],
      [['design', 'list', '--status', 'sold'], /--status is listed or unlisted/],
      [['design', 'update', designId, '--from', 'designer'], /say what changes/],
      [
        [
          'print',
          'buy',
          designId,
          '--printer',
          'x',
          '--price',
          '1',
          '--asset',
          'USD',
          '--from',
          'owner',
        ],
        /--printer must be pr_/,
      ],
      [['print', 'buy', designId, '--printer', printerId, '--from', 'owner'], /--price/],
    ];
    for (const [args, message] of cases) {
      const result = await run(args);
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.err, message);
    }
  });
});
