import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { sha256Hex, utf8 } from '../../crypto/index.js';
import { auditLedger } from '../../ledger/index.js';
import {
  printersPerOwnerMax,
  progressStaleMs,
  tokenLifetimeMs,
  tokensPerBuyerMax,
  type DesignRecord,
  type PrinterProfile,
  type PrinterRecord,
  type PrintTokenRecord,
} from './schema.js';
import {
  activePrintersOf,
  isOutstanding,
  outstandingTokensOf,
  printingKeys,
  tokenEscrow,
} from './state.js';
import {
  authority,
  designer,
  device,
  expectOk,
  funds,
  hardwareIdFor,
  hwidPayload,
  key,
  listing,
  otherServer,
  outsider,
  owner,
  owner2,
  printerIdOf,
  printingWorld,
  profile,
  registration,
  server,
  watermark,
  type PrintingWorld,
  type TestKey,
} from './txs-fixture.js';

/*
 * Random operations, valid and invalid, from random senders (the simulation operations of the
 * module): whatever succeeds or fails, the invariants hold after every tx. Money is conserved
 * (the ledger's audit: supply = balances, none negative), a refused tx leaves the state
 * byte-identical, each token's escrow holds its price while it is outstanding and nothing after
 * (never negative), a finished token paid out exactly its price and a refunded one too (the
 * buyer exactly the undelivered share), the counters match the records and stay within their
 * limits, no design sells more than its printsMax (refunds give prints back). At the end, every
 * outstanding token can be cancelled by its buyer once its time is up: no money stays stuck.
 */

const devices = [device, key(101), key(102), key(103)];
const small: PrinterProfile = { ...profile, bed: { x: 60_000, y: 60_000, z: 60_000 } };
const hashes = ['a', 'b', 'c'].map((t) => sha256Hex(utf8(t)));

const anyone = fc.constantFrom(authority, server, otherServer, designer, owner, owner2, outsider);
const aServer = fc.constantFrom(server, server, server, otherServer, outsider);
const aBuyer = fc.constantFrom(owner, owner, owner2, outsider);

type World = { w: PrintingWorld; tokens: string[]; designs: string[] };
type Op = { sender: TestKey; type: string; payload: (world: World) => Record<string, unknown> };

const pick = <T>(list: readonly T[], n: number, fallback: T): T =>
  list[n % list.length] ?? fallback;
/** One of the latest entries (the later a token, the likelier it is still open). */
const recent = <T>(list: readonly T[], n: number, fallback: T): T =>
  list[list.length - 1 - (n % 3)] ?? list.at(-1) ?? fallback;
/** The owner's first printer (registered by the world) more often than the others. */
const aPrinter = fc.constantFrom(1, 1, 1, 2, 3, 4, 5, 6);

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ sender: fc.constantFrom(authority, outsider), d: fc.nat() }).map(({ sender, d }) => ({
    sender,
    type: 'printing.hwid',
    payload: () => hwidPayload(pick(devices, d, device), sender),
  })),
  fc
    .record({
      sender: aServer,
      who: fc.constantFrom(owner, owner2),
      d: fc.nat(),
      n: fc.integer({ min: 1, max: 6 }),
      bed: fc.boolean(),
      // Now and then another board's key (or its consent signed by another key).
      wrong: fc.constantFrom(0, 0, 0, 0, 1, 2),
    })
    .map(({ sender, who, d, n, bed, wrong }) => ({
      sender,
      type: 'printer.register',
      payload: () => {
        const sbc = pick(devices, d, device);
        const other = pick(devices, d + 1, device);
        return registration(printerIdOf(n), {
          hardwareId: hardwareIdFor(sbc),
          who,
          to: sender,
          p: bed ? profile : small,
          device: wrong === 1 ? other : sbc,
          deviceSigner: wrong === 2 ? other : sbc,
        });
      },
    })),
  fc.record({ sender: anyone, n: fc.integer({ min: 1, max: 6 }) }).map(({ sender, n }) => ({
    sender,
    type: 'printer.revoke',
    payload: () => ({ printerId: printerIdOf(n) }),
  })),
  fc
    .record({
      who: fc.constantFrom(designer, designer, outsider),
      via: fc.constantFrom(server, server, otherServer),
      h: fc.nat(),
      amount: fc.constantFrom('1', '999', '1000', '3'),
      bp: fc.constantFrom(0, 1500, 3333, 5000),
      big: fc.boolean(),
      printsMax: fc.integer({ min: 1, max: 3 }),
    })
    .map(({ who, via, h, amount, bp, big, printsMax }) => ({
      sender: who,
      type: 'design.list',
      payload: () =>
        listing({
          who,
          via,
          hash: pick(hashes, h, hashes[0]!),
          amount,
          platformShareBp: bp,
          printsMax,
          box: big ? { x: 100_000, y: 100_000, z: 100_000 } : { x: 1000, y: 1000, z: 1000 },
        }),
    })),
  fc
    .record({
      sender: fc.constantFrom(designer, designer, outsider),
      n: fc.nat(),
      listed: fc.constantFrom(true, true, false),
      amount: fc.option(fc.constantFrom('2', '1001'), { nil: undefined }),
    })
    .map(({ sender, n, listed, amount }) => ({
      sender,
      type: 'design.update',
      payload: ({ designs }: World) => ({
        designId: pick(designs, n, '0'.repeat(32)),
        status: listed ? 'listed' : 'unlisted',
        ...(amount === undefined ? {} : { price: { asset: 'USD', amount } }),
      }),
    })),
  {
    // Buying is drawn often: every later report needs a token.
    weight: 4,
    arbitrary: fc
      .record({
        sender: aBuyer,
        n: fc.nat(),
        p: aPrinter,
        stale: fc.constantFrom(false, false, true),
      })
      .map(({ sender, n, p, stale }) => ({
        sender,
        type: 'print.buy',
        payload: ({ w, designs }: World) => {
          // Half the time the world's design (10 prints, fits every bed).
          const designId = n % 2 === 0 ? designs[0]! : pick(designs, n >> 1, '0'.repeat(32));
          // Now and then a price seen before an update.
          const price = stale ? { asset: 'USD', amount: '1000' } : w.priceOf(designId);
          return { designId, printerId: printerIdOf(p), price };
        },
      })),
  },
  ...(['print.start', 'print.progress', 'print.finish', 'print.fail'] as const).map((type) => ({
    // A print's reports are drawn more often: each needs a bought (and started) token.
    weight: 2,
    arbitrary: fc
      .record({
        sender: aServer,
        n: fc.nat(),
        percent: fc.integer({ min: 0, max: 100 }),
        delivered: fc.integer({ min: 0, max: 100 }),
      })
      .map(({ sender, n, percent, delivered }) => ({
        sender,
        type,
        payload: ({ tokens }: World) => {
          const tokenId = recent(tokens, n, 'e'.repeat(64));
          if (type === 'print.start') return { tokenId, watermarkCommitment: watermark };
          if (type === 'print.finish') return { tokenId };
          if (type === 'print.fail') {
            return { tokenId, percent, reason: 'sim failure', delivered };
          }
          return { tokenId, percent, delivered };
        },
      })),
  })),
  {
    weight: 3,
    arbitrary: fc.record({ sender: aBuyer, n: fc.nat() }).map(({ sender, n }) => ({
      sender,
      type: 'print.cancel',
      payload: ({ tokens }: World) => ({ tokenId: recent(tokens, n, 'e'.repeat(64)) }),
    })),
  },
  {
    // Time passes: an hour, a day (a print goes stale), a week (a token expires).
    weight: 2,
    arbitrary: fc.constantFrom(60 * 60 * 1000, progressStaleMs, tokenLifetimeMs).map((ms) => ({
      sender: outsider,
      type: 'advance',
      payload: ({ w }: World) => {
        w.advance(ms);
        return {};
      },
    })),
  },
);

function records<T>(w: PrintingWorld, prefix: string): T[] {
  return w.state.range(prefix, 1_000_000).map(([, value]) => JSON.parse(value) as T);
}

function checkInvariants(world: World): void {
  const { w } = world;
  const audit = auditLedger((prefix) => w.state.range(prefix, 1_000_000));
  assert.deepEqual(audit.problems, [], 'the ledger audit');
  const tokens = records<PrintTokenRecord>(w, printingKeys.tokenPrefix);
  const outstanding = new Map<string, number>();
  for (const t of tokens) {
    const escrow = w.balance(tokenEscrow(t.tokenId), t.price.asset);
    if (isOutstanding(t.status)) {
      assert.equal(escrow, BigInt(t.price.amount), `escrow of ${t.status} token holds its price`);
      outstanding.set(t.buyer, (outstanding.get(t.buyer) ?? 0) + 1);
    } else {
      assert.equal(escrow, 0n, `escrow of a ${t.status} token is empty`);
    }
    if (t.status === 'finished') {
      assert.equal(BigInt(t.paid!.platform) + BigInt(t.paid!.designer), BigInt(t.price.amount));
    }
    if (t.status === 'refunded') {
      const { buyer, designer: d, platform } = t.refund!;
      assert.equal(BigInt(buyer) + BigInt(d) + BigInt(platform), BigInt(t.price.amount));
      assert.equal(BigInt(buyer), (BigInt(t.price.amount) * BigInt(100 - t.delivered)) / 100n);
    }
    assert.ok(t.attemptDelivered <= t.delivered && t.delivered <= 100);
    if (t.status === 'printing') assert.ok(t.attempts >= 1);
    assert.ok(t.failures <= 2 && t.attempts <= 2 && t.failures <= t.attempts);
  }
  for (const buyer of [owner, owner2, outsider]) {
    const count = outstanding.get(buyer.address) ?? 0;
    assert.equal(outstandingTokensOf(w.state, buyer.address), count);
    assert.ok(count <= tokensPerBuyerMax);
  }
  const printers = records<PrinterRecord>(w, 'printing/printer/');
  for (const who of [owner, owner2]) {
    const active = printers.filter((p) => p.owner === who.address && p.status === 'active').length;
    assert.equal(activePrintersOf(w.state, who.address), active);
    assert.ok(active <= printersPerOwnerMax);
  }
  const activeHwids = printers.filter((p) => p.status === 'active').map((p) => p.hardwareId);
  assert.equal(new Set(activeHwids).size, activeHwids.length, 'one active printer per hwid');
  for (const d of records<DesignRecord>(w, printingKeys.designPrefix)) {
    assert.ok(d.sold <= d.printsMax);
    const kept = tokens.filter((t) => t.designId === d.designId && t.status !== 'refunded');
    assert.equal(d.sold, kept.length, 'sold counts the purchases not refunded');
  }
}

describe('random operations', () => {
  it('keep money whole, escrows exact, refusals traceless, counters true; no money stays stuck', () => {
    const succeeded = new Set<string>();
    fc.assert(
      fc.property(fc.array(op, { minLength: 10, maxLength: 80 }), (ops) => {
        const world: World = { w: printingWorld(), tokens: [], designs: [] };
        const { w } = world;
        world.designs.push(listing().designId as string);
        for (const { sender, type, payload } of ops) {
          if (type === 'advance') {
            payload(world);
            continue;
          }
          const before = w.contents();
          const next = w.nextTxHash();
          const body = payload(world);
          const result = w.run(sender, type, body);
          if (result !== 'ok') {
            assert.deepEqual(w.contents(), before, `${type} refused (${result}) left a trace`);
            continue;
          }
          succeeded.add(type);
          if (type === 'print.buy') world.tokens.push(next);
          if (type === 'design.list') world.designs.push(body.designId as string);
          checkInvariants(world);
        }
        // Liveness: once time is up, every outstanding token is cancellable by its buyer.
        w.advance(tokenLifetimeMs + progressStaleMs);
        for (const t of records<PrintTokenRecord>(w, printingKeys.tokenPrefix)) {
          if (!isOutstanding(t.status)) continue;
          const buyer = [owner, owner2, outsider].find((k) => k.address === t.buyer)!;
          expectOk(w.run(buyer, 'print.cancel', { tokenId: t.tokenId }), 'the final cancel');
        }
        checkInvariants(world);
        const total = [owner, owner2, outsider, designer, server, otherServer].reduce(
          (sum, k) => sum + w.balance(k.address),
          0n,
        );
        assert.equal(total, 3n * funds, 'every unit is back in an account');
      }),
      { numRuns: 400 },
    );
    // Not a vacuous run: every tx type succeeded somewhere.
    assert.deepEqual([...succeeded].sort(), [
      'design.list',
      'design.update',
      'print.buy',
      'print.cancel',
      'print.fail',
      'print.finish',
      'print.progress',
      'print.start',
      'printer.register',
      'printer.revoke',
      'printing.hwid',
    ]);
  });
});
