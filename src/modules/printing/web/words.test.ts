import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { PrinterProfile, PrinterRecord } from '../schema.js';
import {
  amountText,
  boxText,
  canCancel,
  isLive,
  licenceText,
  mmText,
  printerChoices,
  printsLeftText,
  profileText,
  printMaxMs,
  progressStaleMs,
  refundToBuyer,
  tokenStateText,
  unfitReason,
} from './words.js';

const profile: PrinterProfile = {
  firmware: 'marlin',
  bed: { x: 220_000, y: 220_000, z: 250_000 },
  nozzleUm: 400,
  filament: 'pla',
  hotendC: 205,
  bedC: 60,
  flowPct: 100,
  startGcode: 'G28',
  endGcode: 'M84',
};

function printer(overrides: Partial<PrinterRecord> = {}): PrinterRecord {
  return {
    printerId: `pr_${'1'.repeat(32)}`,
    hardwareId: `hw_${'2'.repeat(32)}`,
    owner: 'cof1owner',
    server: 'cof1server',
    clientId: 'bench-1',
    certFingerprint: 'a'.repeat(64),
    profile,
    profileHash: 'b'.repeat(64),
    status: 'active',
    registeredAt: 0,
    height: 1,
    tx: 'c'.repeat(64),
    ...overrides,
  };
}

describe('printing console words', () => {
  it('writes micrometres as exact millimetres, without floats or trailing zeros', () => {
    assert.equal(mmText(220_000), '220');
    assert.equal(mmText(400), '0.4');
    assert.equal(mmText(1), '0.001');
    assert.equal(mmText(12_340), '12.34');
    assert.equal(mmText(0), '0');
    assert.equal(mmText(-1_500), '-1.5');
    assert.equal(boxText({ x: 120_000, y: 80_500, z: 45_000 }), '120 × 80.5 × 45 mm');
  });

  it('writes prices in the asset units with BigInt', () => {
    assert.equal(
      amountText('123456789012345678901', 'USD', { symbol: 'USD', decimals: 2 }),
      '1234567890123456789.01 USD',
    );
    assert.equal(amountText('500', 'USD', undefined), '500 USD (minor units)');
  });

  it('says the licence, the profile and the prints left', () => {
    assert.equal(
      licenceText({ commercial: false, remix: true }),
      'Personal use only, remixes allowed',
    );
    assert.equal(
      licenceText({ commercial: true, remix: false }),
      'Commercial use allowed, no remixes',
    );
    assert.equal(
      profileText(profile),
      'Marlin, bed 220 × 220 × 250 mm, 0.4 mm nozzle, PLA at 205 °C / 60 °C, flow 100 %',
    );
    assert.equal(printsLeftText({ sold: 3, printsMax: 10 }), '7 of 10 left');
    assert.equal(printsLeftText({ sold: 10, printsMax: 10 }), 'Sold out');
  });

  it('offers only the printers the chain would accept for a design', () => {
    const design = { server: 'cof1server', bbox: { x: 220_000, y: 100_000, z: 250_000 } };
    assert.equal(unfitReason(design, printer()), undefined, 'exactly the bed fits');
    assert.equal(unfitReason(design, printer({ status: 'revoked' })), 'revoked');
    assert.equal(
      unfitReason(design, printer({ server: 'cof1other' })),
      'registered with another print server',
    );
    assert.match(
      unfitReason({ ...design, bbox: { x: 220_001, y: 1, z: 1 } }, printer())!,
      /too small/,
    );
    assert.match(
      unfitReason({ ...design, bbox: { x: 1, y: 220_001, z: 1 } }, printer())!,
      /too small/,
    );
    assert.match(
      unfitReason({ ...design, bbox: { x: 1, y: 1, z: 250_001 } }, printer())!,
      /too small/,
    );
    const small = printer({
      printerId: `pr_${'3'.repeat(32)}`,
      profile: { ...profile, bed: { x: 100_000, y: 100_000, z: 100_000 } },
    });
    const choices = printerChoices(design, [printer(), small]);
    assert.deepEqual(
      choices.usable.map((p) => p.printerId),
      [printer().printerId],
    );
    assert.deepEqual(
      choices.unusable.map((u) => u.printer.printerId),
      [small.printerId],
    );
  });

  it('lets the buyer cancel only an expired issued token or a print silent for 24 hours', () => {
    const issued = {
      status: 'issued' as const,
      expiresAt: 1_000,
      percent: 0,
      attempts: 0,
      failures: 0,
    };
    assert.equal(canCancel(issued, 999), false);
    assert.equal(canCancel(issued, 1_000), true);
    assert.equal(canCancel(issued, 0, true), true, 'its printer revoked');
    const printing = {
      ...issued,
      status: 'printing' as const,
      percent: 40,
      startedAt: 500,
      progressAt: 2_000,
    };
    assert.equal(canCancel(printing, 2_000 + progressStaleMs - 1), false);
    assert.equal(canCancel(printing, 2_000 + progressStaleMs), true);
    assert.equal(canCancel({ ...printing, progressAt: undefined }, 500 + progressStaleMs), true);
    assert.equal(canCancel(printing, 2_000, true), false, 'a revoked printer may still report');
    const heartbeats = { ...printing, progressAt: 500 + printMaxMs - 1 };
    assert.equal(canCancel(heartbeats, 500 + printMaxMs - 1), false);
    assert.equal(canCancel(heartbeats, 500 + printMaxMs), true, '7 days after the start');
    assert.equal(refundToBuyer({ price: { asset: 'USD', amount: '1250' }, delivered: 0 }), '1250');
    assert.equal(refundToBuyer({ price: { asset: 'USD', amount: '1250' }, delivered: 45 }), '687');
    assert.equal(refundToBuyer({ price: { asset: 'USD', amount: '1250' }, delivered: 100 }), '0');
    assert.equal(canCancel({ ...printing, status: 'finished' as const }, 10 ** 12), false);
    assert.equal(canCancel({ ...printing, status: 'refunded' as const }, 10 ** 12), false);
    assert.equal(isLive(issued), true);
    assert.equal(isLive(printing), true);
    assert.equal(isLive({ status: 'finished' }), false);
    assert.equal(isLive({ status: 'refunded' }), false);
  });

  it("says a token's state", () => {
    const issued = {
      status: 'issued' as const,
      expiresAt: Date.UTC(2030, 0, 2, 3, 4),
      percent: 0,
      attempts: 0,
      failures: 0,
    };
    assert.equal(tokenStateText(issued, 0), 'Ready to print until 2030-01-02 03:04 UTC');
    assert.match(tokenStateText({ ...issued, failures: 1 }, 0), /^Re-issued/);
    assert.match(tokenStateText(issued, issued.expiresAt), /^Expired/);
    const printing = { ...issued, status: 'printing' as const, percent: 45, progressAt: 0 };
    assert.equal(tokenStateText(printing, 1), 'Printing: 45 %');
    assert.match(tokenStateText(printing, progressStaleMs), /^Stalled at 45 %/);
    assert.equal(tokenStateText({ ...issued, status: 'finished' }, 0), 'Printed');
    assert.equal(tokenStateText({ ...issued, status: 'refunded' }, 0), 'Refunded');
  });
});
