import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { sha256, sha256Hex, toHex, utf8 } from '../../crypto/index.js';
import {
  designIdOf,
  deviceKeyHashOf,
  hardwareIdOf,
  parsePrinterProfile,
  printMaxMs,
  PrinterProfileError,
  printersPerOwnerMax,
  profileHashOf,
  progressStaleMs,
  tokenLifetimeMs,
  tokensPerBuyerMax,
  type DesignRecord,
  type PrinterRecord,
  type PrintTokenRecord,
} from './schema.js';
import { listRevocations } from './queries.js';
import {
  activePrintersOf,
  outstandingTokensOf,
  readDesign,
  readHwid,
  readPrinter,
  readToken,
  tokenEscrow,
} from './state.js';
import {
  asset,
  authority,
  bbox,
  contentHash,
  designer,
  designId,
  device,
  device2,
  expectOk,
  funds,
  hardwareId,
  hardwareId2,
  hardwareIdFor,
  hwidPayload,
  key,
  listing,
  otherServer,
  outsider,
  owner,
  owner2,
  printerId,
  printerIdOf,
  printingWorld,
  profile,
  registration,
  server,
  startTime,
  watermark,
  type PrintingWorld,
  type TestKey,
} from './txs-fixture.js';
import { refundParts } from './txs.js';

/*
 * The printing txs in process: the happy path (a hardware id, a printer registered with its
 * owner's consent, a design listed with its server's, a print bought into escrow, started,
 * progressing and finished with the payout split; the refund rule) and the forbidden cases in the
 * order the handlers check them, each leaving the state byte-identical.
 */

function refused(
  w: PrintingWorld,
  sender: TestKey | string,
  type: string,
  payload: object,
): string {
  const before = w.contents();
  const result = w.run(sender, type, payload as Record<string, unknown>);
  assert.notEqual(result, 'ok', `${type} should be refused`);
  assert.deepEqual(w.contents(), before, `${type} refused with ${result} changed nothing`);
  assert.deepEqual(w.events, [], 'a refused tx emits nothing');
  return result;
}

function printer(w: PrintingWorld, id = printerId): PrinterRecord {
  return readPrinter(w.state, id)!;
}

function design(w: PrintingWorld, id = designId): DesignRecord {
  return readDesign(w.state, id)!;
}

function token(w: PrintingWorld, id: string): PrintTokenRecord {
  return readToken(w.state, id)!;
}

const start = (tokenId: string) => ({ tokenId, watermarkCommitment: watermark });

/** A token bought and started (printing). */
function printing(w: PrintingWorld): string {
  const tokenId = w.buy();
  expectOk(w.run(server, 'print.start', start(tokenId)), 'start');
  return tokenId;
}

describe('printing.hwid', () => {
  it('records the id with the sender as its authority, the device key hash and the time', () => {
    const w = printingWorld();
    const hwid = readHwid(w.state, hardwareId)!;
    assert.equal(hwid.authority, authority.address);
    assert.equal(hwid.deviceKeyHash, sha256Hex(device.publicKey));
    assert.equal(
      hwid.hardwareId,
      `hw_${sha256Hex(new Uint8Array([...utf8(authority.address), ...sha256(device.publicKey)])).slice(0, 32)}`,
    );
    assert.equal(hwid.issuedAt, startTime, 'the first tx of the world');
    expectOk(
      w.run(outsider, 'printing.hwid', hwidPayload(device2, outsider)),
      'anyone is an authority',
    );
    assert.deepEqual(w.events, [
      {
        type: 'printing.hwidIssued',
        data: {
          hardwareId: hardwareIdFor(device2, outsider),
          authority: outsider.address,
          deviceKeyHash: sha256Hex(device2.publicKey),
        },
      },
    ]);
  });

  it('refuses an id twice (whoever sends it) and bad fields', () => {
    const w = printingWorld();
    assert.equal(refused(w, authority, 'printing.hwid', hwidPayload()), 'hwid_exists');
    // An id is derived from its sender: another account cannot record the authority's id.
    assert.equal(refused(w, outsider, 'printing.hwid', hwidPayload()), 'hwid_mismatch');
    const good = hwidPayload(device2);
    assert.equal(
      refused(w, authority, 'printing.hwid', {
        ...good,
        hardwareId: good.hardwareId.toUpperCase(),
      }),
      'invalid_hardware_id',
    );
    assert.equal(
      refused(w, authority, 'printing.hwid', { ...good, hardwareId: good.hardwareId.slice(3) }),
      'invalid_hardware_id',
    );
    assert.equal(
      refused(w, authority, 'printing.hwid', { ...good, deviceKeyHash: 'ab' }),
      'invalid_device_key_hash',
    );
    assert.equal(refused(w, authority, 'printing.hwid', { ...good, extra: 1 }), 'unknown_field');
  });
});

describe('printer.register', () => {
  it('records the printer with the sender as its server, the profile and its hash; counts it', () => {
    const w = printingWorld();
    const p = printer(w);
    assert.equal(p.server, server.address);
    assert.equal(p.owner, owner.address);
    assert.equal(p.hardwareId, hardwareId);
    assert.equal(p.status, 'active');
    assert.deepEqual(p.profile, profile);
    assert.equal(p.profileHash, profileHashOf(profile));
    assert.equal(activePrintersOf(w.state, owner.address), 1);
  });

  it('refuses bad fields: ids, client id, fingerprint, every profile bound, the proof format', () => {
    const w = printingWorld();
    expectOk(w.run(authority, 'printing.hwid', hwidPayload(device2)), 'hwid 2');
    const good = registration(printerIdOf(2), { hardwareId: hardwareId2 });
    const cases: [Record<string, unknown>, string][] = [
      [{ printerId: 'pr_' + 'A'.repeat(32) }, 'invalid_printer_id'],
      [{ hardwareId: 'hw_123' }, 'invalid_hardware_id'],
      [{ owner: 'cof1nope' }, 'invalid_address'],
      [{ clientId: 'Upper' }, 'invalid_client_id'],
      [{ clientId: 'a'.repeat(65) }, 'invalid_client_id'],
      [{ certFingerprint: 'f'.repeat(63) }, 'invalid_cert_fingerprint'],
      [{ profile: { ...profile, firmware: 'reprap' } }, 'invalid_profile'],
      [{ profile: { ...profile, bed: { x: 9_999, y: 200_000, z: 200_000 } } }, 'invalid_profile'],
      [
        { profile: { ...profile, bed: { x: 200_000, y: 200_000, z: 2_000_001 } } },
        'invalid_profile',
      ],
      [{ profile: { ...profile, nozzleUm: 99 } }, 'invalid_profile'],
      [{ profile: { ...profile, hotendC: 205.5 } }, 'invalid_profile'],
      [{ profile: { ...profile, hotendC: 301 } }, 'invalid_profile'],
      [{ profile: { ...profile, bedC: -1 } }, 'invalid_profile'],
      [{ profile: { ...profile, flowPct: 151 } }, 'invalid_profile'],
      [{ profile: { ...profile, filament: 'nylon' } }, 'invalid_profile'],
      [{ profile: { ...profile, startGcode: 'G28*12' } }, 'invalid_profile'],
      [{ profile: { ...profile, startGcode: 'G28\u0000' } }, 'invalid_profile'],
      [{ profile: { ...profile, endGcode: 'M84\n'.repeat(513) } }, 'invalid_profile'],
      [{ profile: { ...profile, extra: true } }, 'invalid_profile'],
      [{ profile: { ...profile, startGcode: 'M140 S0\nM28 X1' } }, 'invalid_profile'],
      [{ profile: { ...profile, endGcode: 'M29' } }, 'invalid_profile'],
      [{ profile: { ...profile, endGcode: 'M928 log' } }, 'invalid_profile'],
      [{ profile: { ...profile, endGcode: 'M500' } }, 'invalid_profile'],
      [{ profile: { ...profile, endGcode: 'm997' } }, 'invalid_profile'],
      [{ profile: { ...profile, startGcode: 'PRINT_START' } }, 'invalid_profile'],
      [{ ownerProof: 'ab' }, 'invalid_owner_proof'],
      [{ deviceKey: 'ab' }, 'invalid_device_key'],
      [{ deviceProof: 'ab' }, 'invalid_device_proof'],
    ];
    for (const [change, code] of cases) {
      assert.equal(
        refused(w, server, 'printer.register', { ...good, ...change }),
        code,
        JSON.stringify(change),
      );
    }
    assert.equal(w.field, 'deviceProof');
    expectOk(w.run(server, 'printer.register', good), 'the good one');
    assert.deepEqual(w.events[0], {
      type: 'printer.registered',
      data: {
        printerId: printerIdOf(2),
        hardwareId: hardwareId2,
        owner: owner.address,
        server: server.address,
        clientId: good.clientId,
        certFingerprint: good.certFingerprint,
        profileHash: profileHashOf(profile),
      },
    });
  });

  it('refuses an unknown hwid, a used printer id, a registered hwid, a proof the owner did not sign for this server and profile', () => {
    const w = printingWorld();
    const unknown = hardwareIdFor(key(99));
    assert.equal(
      refused(w, server, 'printer.register', registration(printerIdOf(2), { hardwareId: unknown })),
      'hwid_not_found',
    );
    expectOk(w.run(authority, 'printing.hwid', hwidPayload(device2)), 'hwid 2');
    assert.equal(
      refused(w, server, 'printer.register', registration(printerId, { hardwareId: hardwareId2 })),
      'printer_exists',
    );
    assert.equal(
      refused(w, server, 'printer.register', registration(printerIdOf(2))),
      'hwid_registered',
    );
    const fresh = registration(printerIdOf(2), { hardwareId: hardwareId2 });
    // Another server sends the proofs the owner and the device gave `server`.
    assert.equal(refused(w, otherServer, 'printer.register', fresh), 'device_proof_invalid');
    const forOther = registration(printerIdOf(2), { hardwareId: hardwareId2, to: otherServer });
    assert.equal(
      refused(w, otherServer, 'printer.register', { ...fresh, deviceProof: forOther.deviceProof }),
      'owner_proof_invalid',
      'the device consented to otherServer, the owner only to server: each proof names its server',
    );
    // The server binds the SBC to an account that did not sign (the outsider's proof, the owner named).
    assert.equal(
      refused(
        w,
        server,
        'printer.register',
        registration(printerIdOf(2), { hardwareId: hardwareId2, signer: outsider }),
      ),
      'owner_proof_invalid',
    );
    // The server changes the profile the owner and the device signed.
    assert.equal(
      refused(w, server, 'printer.register', { ...fresh, profile: { ...profile, flowPct: 120 } }),
      'device_proof_invalid',
    );
    // The proof for another hardware id.
    assert.equal(
      refused(w, server, 'printer.register', {
        ...fresh,
        ownerProof: registration(printerIdOf(2)).ownerProof,
      }),
      'owner_proof_invalid',
    );
    expectOk(w.run(server, 'printer.register', fresh), 'the owner asked');
  });

  it('refuses a 17th active printer for one owner; a revocation makes room', () => {
    const w = printingWorld();
    for (let n = 2; n <= printersPerOwnerMax + 1; n += 1) {
      const sbc = key(100 + n);
      expectOk(w.run(authority, 'printing.hwid', hwidPayload(sbc)), `hwid ${n}`);
      const id = hardwareIdFor(sbc);
      const payload = registration(printerIdOf(n), { hardwareId: id, device: sbc });
      if (n <= printersPerOwnerMax) expectOk(w.run(server, 'printer.register', payload), `${n}`);
      else {
        assert.equal(refused(w, server, 'printer.register', payload), 'owner_printers_full');
        expectOk(w.run(owner, 'printer.revoke', { printerId: printerIdOf(2) }), 'revoke one');
        expectOk(w.run(server, 'printer.register', payload), 'room again');
      }
    }
    assert.equal(activePrintersOf(w.state, owner.address), printersPerOwnerMax);
  });
});

describe('hardware ids and the device consent (attack findings 1 and 11)', () => {
  it("refuses an id recorded under another authority's name (front-running a printing.hwid)", () => {
    const w = printingWorld();
    const dev = key(77);
    const victim = hardwareIdFor(dev);
    const squatter = key(200);
    assert.equal(
      refused(w, squatter, 'printing.hwid', { hardwareId: victim, deviceKeyHash: 'ab'.repeat(32) }),
      'hwid_mismatch',
    );
    assert.equal(
      refused(w, squatter, 'printing.hwid', hwidPayload(dev)),
      'hwid_mismatch',
      'even with the right key hash',
    );
    expectOk(w.run(authority, 'printing.hwid', hwidPayload(dev)), 'the authority records it');
    assert.equal(hardwareIdOf(authority.address, deviceKeyHashOf(toHex(dev.publicKey))), victim);
  });

  it('refuses an outsider registering a recorded id as its own printer without the device key', () => {
    const w = printingWorld();
    const dev = key(55);
    expectOk(w.run(authority, 'printing.hwid', hwidPayload(dev)), 'hwid');
    const hw = hardwareIdFor(dev);
    const squatter = key(201);
    assert.equal(w.balance(squatter.address), 0n);
    const own = { hardwareId: hw, who: squatter, to: squatter };
    // Its own key as the device key: not the recorded hash.
    assert.equal(
      refused(
        w,
        squatter,
        'printer.register',
        registration(printerIdOf(0x5a), { ...own, device: squatter }),
      ),
      'device_key_mismatch',
    );
    // The real device key (it is public), but a proof it signed itself.
    assert.equal(
      refused(
        w,
        squatter,
        'printer.register',
        registration(printerIdOf(0x5a), { ...own, device: dev, deviceSigner: squatter }),
      ),
      'device_proof_invalid',
    );
    // The device's consent for another owner does not transfer.
    const forOwner2 = registration(printerIdOf(0x5b), { hardwareId: hw, who: owner2, device: dev });
    assert.equal(
      refused(w, server, 'printer.register', {
        ...registration(printerIdOf(0x5b), { hardwareId: hw, device: dev }),
        deviceProof: forOwner2.deviceProof,
      }),
      'device_proof_invalid',
    );
    expectOk(w.run(server, 'printer.register', forOwner2), 'the real server registers the board');
  });
});

describe('printer.revoke', () => {
  it("refuses anyone but the printer's server or owner, an unknown printer, a second revocation", () => {
    const w = printingWorld();
    assert.equal(
      refused(w, outsider, 'printer.revoke', { printerId }),
      'not_printer_server_or_owner',
    );
    assert.equal(
      refused(w, otherServer, 'printer.revoke', { printerId }),
      'not_printer_server_or_owner',
    );
    assert.equal(
      refused(w, owner, 'printer.revoke', { printerId: printerIdOf(9) }),
      'printer_not_found',
    );
    expectOk(w.run(owner, 'printer.revoke', { printerId }), 'the owner revokes');
    assert.equal(refused(w, server, 'printer.revoke', { printerId }), 'printer_revoked');
    const p = printer(w);
    assert.equal(p.status, 'revoked');
    assert.equal(p.revokedBy, owner.address);
    assert.equal(activePrintersOf(w.state, owner.address), 0);
  });

  it('lists revocations per server in order with their fingerprints; the hwid may register again', () => {
    const w = printingWorld();
    expectOk(w.run(server, 'printer.revoke', { printerId }), 'the server revokes');
    const first = printer(w);
    expectOk(w.run(server, 'printer.register', registration(printerIdOf(2))), 're-register');
    expectOk(w.run(owner, 'printer.revoke', { printerId: printerIdOf(2) }), 'revoke again');
    const page = listRevocations(w.state, server.address, { limit: 1 });
    assert.deepEqual(page.revocations, [
      {
        seq: 1,
        printerId,
        clientId: first.clientId,
        certFingerprint: first.certFingerprint,
        revokedAt: first.revokedAt,
      },
    ]);
    assert.equal(page.next, '1');
    const rest = listRevocations(w.state, server.address, { after: 1, limit: 10 });
    assert.deepEqual(
      rest.revocations.map((r) => [r.seq, r.printerId]),
      [[2, printerIdOf(2)]],
    );
    assert.equal(rest.next, null);
    assert.deepEqual(listRevocations(w.state, otherServer.address, { limit: 10 }).revocations, []);
  });
});

describe('design.list and design.update', () => {
  it('records the design with the sender as designer, sold 0, listed', () => {
    const w = printingWorld();
    const d = design(w);
    assert.equal(d.designer, designer.address);
    assert.equal(d.server, server.address);
    assert.equal(d.status, 'listed');
    assert.equal(d.sold, 0);
    assert.deepEqual(d.bbox, bbox);
    assert.deepEqual(d.price, { asset, amount: '1000' });
    assert.equal(d.designId, designIdOf(server.address, designer.address, contentHash));
  });

  it('refuses bad fields, a designId not of (server, sender, hash), a design twice, a proof the server did not give, an unknown asset', () => {
    const w = printingWorld();
    const other = listing({ hash: sha256Hex(utf8('another design')) });
    const cases: [Record<string, unknown>, string][] = [
      [{ designId: 'x' }, 'invalid_design_id'],
      [{ title: '' }, 'invalid_design_title'],
      [{ title: 'x'.repeat(121) }, 'invalid_design_title'],
      [{ title: 'cube\nrm' }, 'invalid_design_title'],
      [{ title: 'cube \u202Eevil' }, 'invalid_design_title'],
      [{ contentHash: 'AB'.repeat(32) }, 'invalid_content_hash'],
      [{ sizeBytes: 64 * 1024 * 1024 + 1 }, 'invalid_design_size'],
      [{ lines: 0 }, 'invalid_lines'],
      [{ bbox: { x: -1, y: 0, z: 0 } }, 'invalid_bbox'],
      [{ bbox: { x: 1.5, y: 0, z: 0 } }, 'invalid_bbox'],
      [{ price: { asset, amount: '0' } }, 'invalid_design_price'],
      [{ price: { asset, amount: '-1' } }, 'invalid_design_price'],
      [{ price: { asset: 'usd', amount: '1' } }, 'invalid_design_price'],
      [{ printsMax: 0 }, 'invalid_prints_max'],
      [{ printsMax: 1_000_001 }, 'invalid_prints_max'],
      [{ platformShareBp: 5001 }, 'invalid_platform_share'],
      [{ licence: { commercial: 'yes', remix: true } }, 'invalid_licence'],
      [{ serverProof: 'zz' }, 'invalid_server_proof'],
    ];
    for (const [change, code] of cases) {
      assert.equal(
        refused(w, designer, 'design.list', { ...other, ...change }),
        code,
        JSON.stringify(change),
      );
    }
    // Front-running: another account sends the designer's listing (the id names the designer).
    assert.equal(refused(w, outsider, 'design.list', other), 'design_id_mismatch');
    assert.equal(refused(w, designer, 'design.list', listing()), 'design_exists');
    // A proof by another key than the server's, or for another share than the one signed.
    assert.equal(
      refused(
        w,
        designer,
        'design.list',
        listing({ hash: sha256Hex(utf8('x')), signer: outsider }),
      ),
      'server_proof_invalid',
    );
    assert.equal(
      refused(w, designer, 'design.list', { ...other, platformShareBp: 0 }),
      'server_proof_invalid',
    );
    assert.equal(
      refused(w, designer, 'design.list', { ...other, bbox: { ...bbox, z: 1 } }),
      'server_proof_invalid',
    );
    assert.equal(
      refused(w, designer, 'design.list', { ...other, price: { asset: 'GBP', amount: '5' } }),
      'asset_not_found',
    );
    expectOk(w.run(designer, 'design.list', other), 'the other design');
  });

  it('lets only the designer change the price and status; refuses an empty change, an unknown asset', () => {
    const w = printingWorld();
    assert.equal(
      refused(w, outsider, 'design.update', { designId, status: 'unlisted' }),
      'not_designer',
    );
    assert.equal(
      refused(w, server, 'design.update', { designId, status: 'unlisted' }),
      'not_designer',
    );
    assert.equal(
      refused(w, designer, 'design.update', { designId: '0'.repeat(32), status: 'unlisted' }),
      'design_not_found',
    );
    assert.equal(refused(w, designer, 'design.update', { designId }), 'invalid_design_update');
    assert.equal(
      refused(w, designer, 'design.update', { designId, status: 'sold' }),
      'invalid_design_status',
    );
    assert.equal(
      refused(w, designer, 'design.update', { designId, price: { asset: 'GBP', amount: '5' } }),
      'asset_not_found',
    );
    expectOk(
      w.run(designer, 'design.update', { designId, price: { asset: 'EUR', amount: '700' } }),
      'price',
    );
    expectOk(w.run(designer, 'design.update', { designId, status: 'unlisted' }), 'unlist');
    const d = design(w);
    assert.deepEqual(d.price, { asset: 'EUR', amount: '700' });
    assert.equal(d.status, 'unlisted');
    assert.equal(d.updatedAt, w.time - w.blockMs);
  });
});

describe('print.buy', () => {
  it('moves the price into the token escrow and issues a token named by the tx hash', () => {
    const w = printingWorld();
    const tokenId = w.buy();
    const t = token(w, tokenId);
    assert.equal(t.status, 'issued');
    assert.equal(t.buyer, owner.address);
    assert.equal(t.server, server.address);
    assert.equal(t.designer, designer.address);
    assert.equal(t.expiresAt, w.time - w.blockMs + tokenLifetimeMs);
    assert.equal(t.attempts, 0);
    assert.equal(w.balance(tokenEscrow(tokenId)), 1000n);
    assert.equal(w.balance(owner.address), funds - 1000n);
    assert.equal(design(w).sold, 1);
    assert.equal(outstandingTokensOf(w.state, owner.address), 1);
    assert.equal(w.events.at(-1)?.type, 'print.bought');
  });

  it('refuses in order: unknown design/printer, not the owner, a revoked printer, another server, unlisted, sold out, too big, too many tokens, no funds', () => {
    const w = printingWorld();
    const buy = { designId, printerId, price: { asset, amount: '1000' } };
    assert.equal(
      refused(w, owner, 'print.buy', { ...buy, designId: 'f'.repeat(32) }),
      'design_not_found',
    );
    assert.equal(
      refused(w, owner, 'print.buy', { ...buy, printerId: printerIdOf(7) }),
      'printer_not_found',
    );
    assert.equal(refused(w, owner2, 'print.buy', buy), 'not_printer_owner');
    assert.equal(refused(w, server, 'print.buy', buy), 'not_printer_owner');
    // A design of another server.
    const elsewhere = listing({ via: otherServer });
    expectOk(w.run(designer, 'design.list', elsewhere), 'list elsewhere');
    assert.equal(
      refused(w, owner, 'print.buy', { ...buy, designId: elsewhere.designId }),
      'printer_other_server',
    );
    // Too big for the bed (220 × 220 × 250 mm).
    const tall = listing({
      hash: sha256Hex(utf8('tall')),
      box: { x: 10_000, y: 10_000, z: 250_001 },
    });
    expectOk(w.run(designer, 'design.list', tall), 'list tall');
    assert.equal(
      refused(w, owner, 'print.buy', { ...buy, designId: tall.designId }),
      'design_does_not_fit',
    );
    // Sold out.
    const one = listing({ hash: sha256Hex(utf8('one')), printsMax: 1 });
    expectOk(w.run(designer, 'design.list', one), 'list one');
    w.buy(owner, one.designId as string);
    assert.equal(refused(w, owner, 'print.buy', { ...buy, designId: one.designId }), 'sold_out');
    // Unlisted.
    expectOk(w.run(designer, 'design.update', { designId, status: 'unlisted' }), 'unlist');
    assert.equal(refused(w, owner, 'print.buy', buy), 'design_unlisted');
    expectOk(w.run(designer, 'design.update', { designId, status: 'listed' }), 'list again');
    // Too expensive.
    const dear = listing({ hash: sha256Hex(utf8('dear')), amount: (funds * 2n).toString() });
    expectOk(w.run(designer, 'design.list', dear), 'list dear');
    assert.equal(
      refused(w, owner, 'print.buy', {
        ...buy,
        designId: dear.designId,
        price: w.priceOf(dear.designId as string),
      }),
      'insufficient_funds',
    );
    // Revoked printer.
    expectOk(w.run(owner, 'printer.revoke', { printerId }), 'revoke');
    assert.equal(refused(w, owner, 'print.buy', buy), 'printer_revoked');
  });

  it('refuses a price that is not the current one (finding 7): the price changed under a pending buy', () => {
    const w = printingWorld();
    const seen = { asset, amount: '1000' };
    expectOk(
      w.run(designer, 'design.update', { designId, price: { asset, amount: '900000' } }),
      'the designer raises the price',
    );
    assert.equal(
      refused(w, owner, 'print.buy', { designId, printerId, price: seen }),
      'price_changed',
    );
    expectOk(
      w.run(designer, 'design.update', { designId, price: { asset: 'EUR', amount: '1000' } }),
      'the designer swaps the asset',
    );
    assert.equal(
      refused(w, owner, 'print.buy', { designId, printerId, price: seen }),
      'price_changed',
    );
    assert.equal(
      refused(w, owner, 'print.buy', { designId, printerId, price: { asset, amount: '01000' } }),
      'invalid_design_price',
    );
    assert.equal(
      refused(w, owner, 'print.buy', { designId, printerId }),
      'invalid_design_price',
      'the price is required',
    );
    expectOk(
      w.run(designer, 'design.update', { designId, price: { asset, amount: '1200' } }),
      'a new price',
    );
    expectOk(
      w.run(owner, 'print.buy', { designId, printerId, price: { asset, amount: '1200' } }),
      'at the price seen',
    );
    assert.equal(w.balance(owner.address), funds - 1200n);
  });

  it('refuses a 65th outstanding token; a finished one makes room', () => {
    const w = printingWorld();
    const many = listing({ hash: sha256Hex(utf8('many')), printsMax: 1000, amount: '1' });
    expectOk(w.run(designer, 'design.list', many), 'list');
    const tokens = Array.from({ length: tokensPerBuyerMax }, () =>
      w.buy(owner, many.designId as string),
    );
    assert.equal(
      refused(w, owner, 'print.buy', {
        designId: many.designId,
        printerId,
        price: w.priceOf(many.designId as string),
      }),
      'tokens_full',
    );
    expectOk(w.run(server, 'print.start', start(tokens[0]!)), 'start');
    assert.equal(outstandingTokensOf(w.state, owner.address), tokensPerBuyerMax);
    expectOk(w.run(server, 'print.finish', { tokenId: tokens[0]! }), 'finish');
    assert.equal(outstandingTokensOf(w.state, owner.address), tokensPerBuyerMax - 1);
    w.buy(owner, many.designId as string);
  });
});

describe('print.start, progress, finish', () => {
  it('starts, progresses and finishes, paying designer and server by largest remainder from the escrow', () => {
    const w = printingWorld();
    // 999 at 15 %: 149.85 to the platform, 849.15 to the designer: the platform's .85 is the
    // larger remainder, so 150 and 849.
    const odd = listing({ hash: sha256Hex(utf8('odd')), amount: '999' });
    expectOk(w.run(designer, 'design.list', odd), 'list');
    const tokenId = w.buy(owner, odd.designId as string);
    expectOk(w.run(server, 'print.start', start(tokenId)), 'start');
    let t = token(w, tokenId);
    assert.equal(t.status, 'printing');
    assert.equal(t.attempts, 1);
    assert.equal(t.watermarkCommitment, watermark);
    assert.equal(t.startedAt, w.time - w.blockMs);
    expectOk(w.run(server, 'print.progress', { tokenId, percent: 40, delivered: 0 }), '40');
    expectOk(
      w.run(server, 'print.progress', { tokenId, percent: 40, delivered: 0 }),
      'a heartbeat',
    );
    assert.equal(token(w, tokenId).percent, 40);
    const designerBefore = w.balance(designer.address);
    const serverBefore = w.balance(server.address);
    expectOk(w.run(server, 'print.finish', { tokenId }), 'finish');
    t = token(w, tokenId);
    assert.equal(t.status, 'finished');
    assert.equal(t.percent, 100);
    assert.deepEqual(t.paid, { platform: '150', designer: '849' });
    assert.equal(w.balance(server.address) - serverBefore, 150n);
    assert.equal(w.balance(designer.address) - designerBefore, 849n);
    assert.equal(w.balance(tokenEscrow(tokenId)), 0n);
    assert.equal(outstandingTokensOf(w.state, owner.address), 0);
    assert.deepEqual(w.events.at(-1), {
      type: 'print.finished',
      data: {
        tokenId,
        designId: odd.designId,
        printerId,
        buyer: owner.address,
        designer: designer.address,
        server: server.address,
        asset,
        designerAmount: '849',
        platformAmount: '150',
      },
    });
  });

  it('a zero platform share pays the designer all (no zero transfer)', () => {
    const w = printingWorld();
    const free = listing({ hash: sha256Hex(utf8('no share')), platformShareBp: 0, amount: '7' });
    expectOk(w.run(designer, 'design.list', free), 'list');
    const tokenId = w.buy(owner, free.designId as string);
    expectOk(w.run(server, 'print.start', start(tokenId)), 'start');
    expectOk(w.run(server, 'print.finish', { tokenId }), 'finish');
    assert.deepEqual(token(w, tokenId).paid, { platform: '0', designer: '7' });
    assert.equal(w.balance(designer.address), 7n);
  });

  it("refuses a start by another server, a second start, an expired token, a revoked printer's", () => {
    const w = printingWorld();
    const tokenId = w.buy();
    assert.equal(refused(w, server, 'print.start', start('e'.repeat(64))), 'print_token_not_found');
    assert.equal(refused(w, otherServer, 'print.start', start(tokenId)), 'not_token_server');
    assert.equal(refused(w, owner, 'print.start', start(tokenId)), 'not_token_server');
    assert.equal(
      refused(w, server, 'print.start', { ...start(tokenId), watermarkCommitment: 'x' }),
      'invalid_watermark_commitment',
    );
    expectOk(w.run(server, 'print.start', start(tokenId)), 'start');
    assert.equal(refused(w, server, 'print.start', start(tokenId)), 'token_redeemed');
    expectOk(w.run(server, 'print.finish', { tokenId }), 'finish');
    assert.equal(refused(w, server, 'print.start', start(tokenId)), 'token_redeemed');

    const late = w.buy();
    w.advance(tokenLifetimeMs);
    assert.equal(refused(w, server, 'print.start', start(late)), 'token_expired');

    const w2 = printingWorld();
    const orphan = w2.buy();
    expectOk(w2.run(owner, 'printer.revoke', { printerId }), 'revoke');
    assert.equal(refused(w2, server, 'print.start', start(orphan)), 'printer_revoked');
  });

  it('refuses progress and finish by another server, before a start, backwards, out of range, after the end', () => {
    const w = printingWorld();
    const tokenId = w.buy();
    assert.equal(
      refused(w, server, 'print.progress', { tokenId, percent: 10, delivered: 0 }),
      'token_not_printing',
    );
    assert.equal(refused(w, server, 'print.finish', { tokenId }), 'token_not_printing');
    expectOk(w.run(server, 'print.start', start(tokenId)), 'start');
    assert.equal(
      refused(w, otherServer, 'print.progress', { tokenId, percent: 10, delivered: 0 }),
      'not_token_server',
    );
    assert.equal(refused(w, owner, 'print.finish', { tokenId }), 'not_token_server');
    assert.equal(
      refused(w, owner, 'print.fail', { tokenId, percent: 1, reason: 'x', delivered: 0 }),
      'not_token_server',
    );
    assert.equal(
      refused(w, server, 'print.progress', { tokenId, percent: 101, delivered: 0 }),
      'invalid_percent',
    );
    assert.equal(
      refused(w, server, 'print.progress', { tokenId, percent: 12.5, delivered: 0 }),
      'invalid_percent',
    );
    expectOk(w.run(server, 'print.progress', { tokenId, percent: 30, delivered: 0 }), '30');
    assert.equal(
      refused(w, server, 'print.progress', { tokenId, percent: 29, delivered: 0 }),
      'progress_backwards',
    );
    expectOk(w.run(server, 'print.finish', { tokenId }), 'finish');
    assert.equal(refused(w, server, 'print.finish', { tokenId }), 'token_closed');
    assert.equal(
      refused(w, server, 'print.progress', { tokenId, percent: 100, delivered: 0 }),
      'token_closed',
    );
    assert.equal(
      refused(w, server, 'print.fail', { tokenId, percent: 100, reason: 'late', delivered: 0 }),
      'token_closed',
    );
  });
});

describe('the refund rule (print.fail)', () => {
  it('re-issues the token on the first failure and refunds the buyer on the second', () => {
    const w = printingWorld();
    const tokenId = printing(w);
    expectOk(w.run(server, 'print.progress', { tokenId, percent: 35, delivered: 0 }), '35');
    w.advance(3 * 24 * 60 * 60 * 1000);
    expectOk(
      w.run(server, 'print.fail', { tokenId, percent: 37, reason: 'nozzle clogged', delivered: 0 }),
      'fail 1',
    );
    let t = token(w, tokenId);
    assert.equal(t.status, 'issued');
    assert.equal(t.failures, 1);
    assert.equal(t.failPercent, 37);
    assert.equal(t.failReason, 'nozzle clogged');
    assert.equal(t.percent, 0);
    assert.equal(t.expiresAt, w.time - w.blockMs + tokenLifetimeMs, 'seven more days');
    assert.equal(w.balance(tokenEscrow(tokenId)), 1000n, 'the price stays in escrow');
    assert.equal(w.events[0]?.data.outcome, 'reissued');
    // The same token prints again.
    expectOk(w.run(server, 'print.start', start(tokenId)), 'start 2');
    assert.equal(token(w, tokenId).attempts, 2);
    expectOk(
      w.run(server, 'print.fail', { tokenId, percent: 80, reason: 'power cut', delivered: 0 }),
      'fail 2',
    );
    t = token(w, tokenId);
    assert.equal(t.status, 'refunded');
    assert.equal(t.failures, 2);
    assert.equal(w.balance(tokenEscrow(tokenId)), 0n);
    assert.equal(w.balance(owner.address), funds);
    assert.equal(outstandingTokensOf(w.state, owner.address), 0);
    assert.deepEqual(
      w.events.map((e) => e.type),
      ['print.failed', 'print.refunded'],
    );
    assert.equal(refused(w, server, 'print.start', start(tokenId)), 'token_closed');
  });

  it('refunds only the undelivered share (finding 2): a whole stream then two failures pays the designer and the platform', () => {
    const w = printingWorld();
    const tokenId = printing(w);
    const fail = (percent: number, delivered: number) =>
      w.run(server, 'print.fail', { tokenId, percent, reason: 'printer_timeout', delivered });
    expectOk(fail(99, 100), 'fail 1 after the whole stream');
    assert.equal(token(w, tokenId).delivered, 100);
    expectOk(w.run(server, 'print.start', start(tokenId)), 'start 2');
    assert.equal(token(w, tokenId).attemptDelivered, 0, 'a new attempt starts at 0');
    expectOk(fail(5, 10), 'fail 2, early in the second stream');
    const t = token(w, tokenId);
    assert.equal(t.status, 'refunded');
    assert.equal(t.delivered, 100, 'the largest over the attempts');
    assert.deepEqual(t.refund, { buyer: '0', designer: '850', platform: '150' });
    assert.equal(w.balance(owner.address), funds - 1000n);
    assert.equal(w.balance(designer.address), 850n);
    assert.equal(w.balance(tokenEscrow(tokenId)), 0n);
    assert.equal(design(w).sold, 0, 'a refund gives the print back');
  });

  it('refuses a delivered share that goes backwards within an attempt', () => {
    const w = printingWorld();
    const tokenId = printing(w);
    expectOk(w.run(server, 'print.progress', { tokenId, percent: 10, delivered: 60 }), 'progress');
    assert.equal(
      refused(w, server, 'print.progress', { tokenId, percent: 11, delivered: 59 }),
      'delivered_backwards',
    );
    assert.equal(
      refused(w, server, 'print.fail', { tokenId, percent: 11, reason: 'jam', delivered: 10 }),
      'delivered_backwards',
    );
    assert.equal(
      refused(w, server, 'print.progress', { tokenId, percent: 11, delivered: 101 }),
      'invalid_delivered',
    );
    expectOk(
      w.run(server, 'print.fail', { tokenId, percent: 11, reason: 'jam', delivered: 60 }),
      'fail',
    );
    expectOk(w.run(server, 'print.start', start(tokenId)), 'start 2');
    expectOk(
      w.run(server, 'print.progress', { tokenId, percent: 1, delivered: 20 }),
      'a new attempt counts from 0',
    );
    assert.equal(token(w, tokenId).delivered, 60);
  });

  it('splits every refund into parts that add up to the price (property)', () => {
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 2000; i += 1) {
      const price = BigInt(1 + next(1_000_000)) * BigInt(1 + next(1000));
      const delivered = next(101);
      const bp = next(5001);
      const parts = refundParts(price, delivered, bp);
      assert.equal(parts.buyer + parts.designer + parts.platform, price);
      assert.equal(parts.buyer, (price * BigInt(100 - delivered)) / 100n);
      for (const part of Object.values(parts)) assert.ok(part >= 0n);
      const rest = price - parts.buyer;
      assert.ok(parts.platform * 10_000n - rest * BigInt(bp) <= 10_000n);
      assert.ok(rest * BigInt(bp) - parts.platform * 10_000n <= 10_000n);
    }
    assert.deepEqual(refundParts(1000n, 0, 1500), { buyer: 1000n, designer: 0n, platform: 0n });
    assert.deepEqual(refundParts(1000n, 37, 1500), { buyer: 630n, designer: 315n, platform: 55n });
  });

  it('refuses a bad reason, a fail before a start', () => {
    const w = printingWorld();
    const tokenId = w.buy();
    assert.equal(
      refused(w, server, 'print.fail', { tokenId, percent: 0, reason: 'jam', delivered: 0 }),
      'token_not_printing',
    );
    expectOk(w.run(server, 'print.start', start(tokenId)), 'start');
    for (const reason of ['', 'r'.repeat(201), 'bad\u0007bell']) {
      assert.equal(
        refused(w, server, 'print.fail', { tokenId, percent: 0, reason, delivered: 0 }),
        'invalid_fail_reason',
      );
    }
  });
});

describe('print.cancel', () => {
  it('refunds an issued token after its expiry, and not before; only the buyer', () => {
    const w = printingWorld();
    const tokenId = w.buy();
    assert.equal(refused(w, owner, 'print.cancel', { tokenId }), 'token_not_cancellable');
    w.advance(tokenLifetimeMs - 2 * w.blockMs);
    assert.equal(refused(w, owner, 'print.cancel', { tokenId }), 'token_not_cancellable');
    w.advance(w.blockMs);
    assert.equal(refused(w, outsider, 'print.cancel', { tokenId }), 'not_buyer');
    assert.equal(refused(w, server, 'print.cancel', { tokenId }), 'not_buyer');
    expectOk(w.run(owner, 'print.cancel', { tokenId }), 'cancel');
    assert.equal(token(w, tokenId).status, 'refunded');
    assert.equal(w.balance(owner.address), funds);
    assert.deepEqual(w.events.at(-1), {
      type: 'print.refunded',
      data: {
        tokenId,
        designId,
        printerId,
        buyer: owner.address,
        asset,
        amount: '1000',
        designerAmount: '0',
        platformAmount: '0',
        delivered: 0,
        why: 'cancelled',
      },
    });
    assert.equal(refused(w, owner, 'print.cancel', { tokenId }), 'token_closed');
    assert.equal(
      refused(w, owner, 'print.cancel', { tokenId: 'c'.repeat(64) }),
      'print_token_not_found',
    );
  });

  it('refunds an issued token at once when its printer is revoked', () => {
    const w = printingWorld();
    const tokenId = w.buy();
    expectOk(w.run(server, 'printer.revoke', { printerId }), 'revoke');
    expectOk(w.run(owner, 'print.cancel', { tokenId }), 'cancel');
    assert.equal(w.balance(owner.address), funds);
    assert.equal(design(w).sold, 0);
  });

  it('a revoked printer after a whole stream and one failure refunds only the undelivered share (finding 2a)', () => {
    const w = printingWorld();
    const tokenId = printing(w);
    expectOk(
      w.run(server, 'print.fail', { tokenId, percent: 99, reason: 'x', delivered: 100 }),
      'fail',
    );
    expectOk(w.run(owner, 'printer.revoke', { printerId }), 'the owner revokes its printer');
    expectOk(w.run(owner, 'print.cancel', { tokenId }), 'cancel');
    assert.equal(w.balance(owner.address), funds - 1000n);
    assert.deepEqual(token(w, tokenId).refund, { buyer: '0', designer: '850', platform: '150' });
  });

  it('a silent printer after the stream refunds only the undelivered share (finding 2c)', () => {
    const w = printingWorld();
    const tokenId = printing(w);
    expectOk(
      w.run(server, 'print.progress', { tokenId, percent: 3, delivered: 75 }),
      'the server wrote three quarters',
    );
    w.advance(progressStaleMs);
    expectOk(w.run(owner, 'print.cancel', { tokenId }), 'cancel');
    assert.equal(w.balance(owner.address), funds - 750n);
    assert.deepEqual(w.events.at(-1)?.data, {
      tokenId,
      designId,
      printerId,
      buyer: owner.address,
      asset,
      amount: '250',
      designerAmount: '638',
      platformAmount: '112',
      delivered: 75,
      why: 'cancelled',
    });
  });

  it('refunded purchases do not count toward printsMax (finding 8)', () => {
    const w = printingWorld();
    const tokens = Array.from({ length: 10 }, () => w.buy());
    assert.equal(design(w).sold, 10);
    expectOk(w.run(owner, 'printer.revoke', { printerId }), 'revoke');
    for (const tokenId of tokens) expectOk(w.run(owner, 'print.cancel', { tokenId }), 'cancel');
    assert.equal(design(w).sold, 0);
    const dev = key(99);
    expectOk(w.run(authority, 'printing.hwid', hwidPayload(dev)), 'hwid');
    expectOk(
      w.run(
        server,
        'printer.register',
        registration(printerIdOf(2), { hardwareId: hardwareIdFor(dev), who: owner2, device: dev }),
      ),
      'register',
    );
    w.buy(owner2, designId, printerIdOf(2));
  });

  it('a printing token is cancellable 7 days after its start whatever the heartbeats (finding 9)', () => {
    const w = printingWorld();
    const tokenId = printing(w);
    const started = token(w, tokenId).startedAt!;
    while (w.time + progressStaleMs / 2 < started + printMaxMs) {
      w.advance(progressStaleMs / 2);
      expectOk(w.run(server, 'print.progress', { tokenId, percent: 0, delivered: 0 }), 'heartbeat');
    }
    if (w.time < started + printMaxMs) {
      assert.equal(refused(w, owner, 'print.cancel', { tokenId }), 'token_not_cancellable');
      w.advance(started + printMaxMs - w.time);
    }
    expectOk(w.run(owner, 'print.cancel', { tokenId }), 'cancel after 7 days');
    assert.equal(w.balance(owner.address), funds);
  });

  it('refunds a printing token after 24 h without progress, not while it progresses; never a finished one', () => {
    const w = printingWorld();
    const tokenId = printing(w);
    w.advance(progressStaleMs - w.blockMs);
    expectOk(
      w.run(server, 'print.progress', { tokenId, percent: 50, delivered: 0 }),
      'still alive',
    );
    w.advance(progressStaleMs - 2 * w.blockMs);
    assert.equal(refused(w, owner, 'print.cancel', { tokenId }), 'token_not_cancellable');
    w.advance(w.blockMs);
    expectOk(w.run(owner, 'print.cancel', { tokenId }), 'the server vanished');
    assert.equal(w.balance(owner.address), funds);
    assert.equal(refused(w, server, 'print.finish', { tokenId }), 'token_closed');

    const done = printing(w);
    expectOk(w.run(server, 'print.finish', { tokenId: done }), 'finish');
    w.advance(tokenLifetimeMs);
    assert.equal(refused(w, owner, 'print.cancel', { tokenId: done }), 'token_closed');
  });
});

describe('parsePrinterProfile', () => {
  it('answers the profile, or throws naming the field', () => {
    assert.deepEqual(parsePrinterProfile(JSON.parse(JSON.stringify(profile))), profile);
    assert.throws(
      () => parsePrinterProfile({ ...profile, bed: { ...profile.bed, y: 5 } }),
      (error: unknown) =>
        error instanceof PrinterProfileError &&
        error.field === 'profile.bed.y' &&
        error.code === 'invalid_profile',
    );
    assert.throws(() => parsePrinterProfile(null), PrinterProfileError);
  });

  it('allows only motion, homing, levelling, temperature, fan, mode, feed/flow, dwell and stepper-off commands (finding 3)', () => {
    const withStart = (startGcode: string, firmware: 'marlin' | 'klipper' = 'marlin') => ({
      ...profile,
      firmware,
      startGcode,
    });
    const allowed =
      'G28 ; home\nG29\nM420 S1\nG90\nM83\nG92 E0\nM104 S200\nM109 S205\nM140 S60\nM190 S60\n' +
      'M106 S255\nM107\nM220 S100\nM221 S100\nG4 P500\nG1 Z5 F3000\nG0 X0 Y0\nM400\nM84\nM18\n\n';
    assert.equal(parsePrinterProfile(withStart(allowed)).startGcode, allowed);
    const macros = 'PRINT_START BED=60 EXTRUDER=205\nBED_MESH_CALIBRATE\nEND_PRINT';
    assert.equal(parsePrinterProfile(withStart(macros, 'klipper')).startGcode, macros);
    for (const [text, firmware] of [
      ['M140 S0\nM28 X1', 'marlin'],
      ['M20', 'marlin'],
      ['M23 X1\nM24', 'marlin'],
      ['M32 X1', 'marlin'],
      ['M928 log', 'marlin'],
      ['M500', 'marlin'],
      ['M502', 'marlin'],
      ['M504', 'marlin'],
      ['M997', 'marlin'],
      ['M999', 'marlin'],
      ['M303 E0', 'marlin'],
      ['PRINT_START', 'marlin'],
      ['SAVE_CONFIG', 'klipper'],
      ['FIRMWARE_RESTART', 'klipper'],
      ['SDCARD_PRINT_FILE FILENAME=x', 'klipper'],
      ['PRINT_START X=$(y)', 'klipper'],
      ['M28', 'klipper'],
    ] as const) {
      assert.throws(
        () => parsePrinterProfile(withStart(text, firmware)),
        (error: unknown) =>
          error instanceof PrinterProfileError && error.field === 'profile.startGcode',
        text,
      );
    }
    assert.throws(
      () => parsePrinterProfile({ ...profile, endGcode: 'M104 S0\nM29' }),
      (error: unknown) =>
        error instanceof PrinterProfileError &&
        error.field === 'profile.endGcode' &&
        /line 2: M29/.test(error.message),
    );
  });
});
