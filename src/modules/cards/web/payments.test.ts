import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { CardDeviceRecord, CardRecord } from '../client.js';
import {
  paymentTxsReadMax,
  paymentsShownMax,
  recentPayments,
  type BlockReader,
} from './payments.js';

/*
 * The device screen's walk back through the chain, against a chain in memory: each block's txs
 * and each tx's events, and a count of what the walk read.
 */

const card = { card: 'card-1', linkedAtHeight: 10 } as CardRecord;
const device = 'cof1device';

type Event = { type: string; data: Record<string, unknown> };

function chain(tip: number, events: Map<number, Event[][]>) {
  const read = { pages: [] as [number, number][], txs: 0 };
  const txsOf = (height: number) => (events.get(height) ?? []).map((_, i) => `tx-${height}-${i}`);
  const reader = {
    getBlocks: (from: number, to: number) => {
      read.pages.push([from, to]);
      const blocks = [];
      for (let h = from; h <= Math.min(to, tip); h++) {
        blocks.push({ height: h, txCount: txsOf(h).length });
      }
      return Promise.resolve({ from, to, blocks });
    },
    getBlock: (height: number) => Promise.resolve({ height, txs: txsOf(height) }),
    getTx: (hash: string) => {
      read.txs += 1;
      const [, height, index] = hash.split('-').map(Number) as [number, number, number];
      return Promise.resolve({
        hash,
        height,
        receipt: { status: 'ok', events: events.get(height)![index]! },
      });
    },
  } as unknown as BlockReader;
  return { reader, read };
}

const payment = (amount: string, over: Record<string, unknown> = {}): Event[] => [
  {
    type: 'card.authorised',
    data: {
      card: 'card-1',
      device,
      token: 'ab'.repeat(16),
      acquirer: 'cof1acq',
      merchantId: 'm-1',
      amount,
      currency: 'USD',
      counter: 1,
      holdId: `hold-${amount}`,
      ...over,
    },
  },
];

const link = (consumed: number) => ({ device, consumed }) as CardDeviceRecord;

describe('recentPayments', () => {
  it("finds the device's payments newest first, skipping others', and stops once all are found", async () => {
    const events = new Map<number, Event[][]>([
      [500, [payment('1'), payment('2')]],
      [420, [payment('9', { device: 'cof1other' })]],
      [300, [payment('3', { card: 'card-2' })]],
      [250, [[{ type: 'ledger.transferred', data: { card: 'card-1', device } }], payment('4')]],
      [
        40,
        [
          [
            {
              type: 'card.declined',
              data: { ...payment('5')[0]!.data, holdId: undefined, code: 'insufficient_funds' },
            },
          ],
        ],
      ],
    ]);
    const { reader, read } = chain(600, events);
    const scan = await recentPayments(reader, card, link(3), 600);
    assert.deepEqual(
      scan.payments.map((p) => [p.height, p.amount, p.outcome]),
      [
        [500, '2', 'authorised'],
        [500, '1', 'authorised'],
        [250, '4', 'authorised'],
      ],
    );
    assert.equal(scan.complete, true);
    assert.equal(scan.payments[0]!.holdId, 'hold-2');
    // Heights 600 down to 201 only: the block at 40 was never read.
    assert.deepEqual(read.pages, [
      [501, 600],
      [401, 500],
      [301, 400],
      [201, 300],
    ]);

    const all = await recentPayments(reader, card, link(4), 600);
    const declined = all.payments[3]!;
    assert.deepEqual(
      [declined.outcome, declined.code, declined.holdId],
      ['declined', 'insufficient_funds', undefined],
    );
  });

  it('never reads below the block the card was linked in', async () => {
    const { reader, read } = chain(150, new Map([[5, [payment('1')]]]));
    const scan = await recentPayments(reader, card, link(1), 150);
    assert.deepEqual(scan.payments, []);
    assert.equal(scan.complete, false);
    assert.equal(scan.fromHeight, 10);
    assert.deepEqual(read.pages, [
      [51, 150],
      [10, 50],
    ]);
  });

  it(`shows the newest ${paymentsShownMax} of more`, async () => {
    const events = new Map<number, Event[][]>();
    for (let h = 11; h <= 40; h++) events.set(h, [payment(String(h))]);
    const { reader } = chain(40, events);
    const scan = await recentPayments(reader, card, link(30), 40);
    assert.equal(scan.payments.length, paymentsShownMax);
    assert.equal(scan.payments[0]!.amount, '40');
    assert.equal(scan.payments.at(-1)!.amount, String(40 - paymentsShownMax + 1));
    assert.equal(scan.complete, true);
  });

  it(`reads at most ${paymentTxsReadMax} txs and says how far it got`, async () => {
    // 200 blocks of 2 unrelated txs above the one payment.
    const other = [{ type: 'ledger.transferred', data: {} }];
    const events = new Map<number, Event[][]>([[20, [payment('7')]]]);
    for (let h = 100; h < 300; h++) events.set(h, [other, other]);
    const { reader, read } = chain(299, events);
    const scan = await recentPayments(reader, card, link(1), 299);
    assert.equal(read.txs, paymentTxsReadMax);
    assert.deepEqual(scan.payments, []);
    assert.equal(scan.complete, false);
    // 150 blocks of 2 txs: 299 down to 150.
    assert.equal(scan.fromHeight, 150);
  });

  it('a walk resumed from an earlier one reads only the newer blocks, and keeps its payments', async () => {
    const events = new Map<number, Event[][]>([[30, [payment('1')]]]);
    const { reader, read } = chain(60, events);
    const first = await recentPayments(reader, card, link(1), 60);
    assert.deepEqual(
      first.payments.map((p) => p.amount),
      ['1'],
    );
    events.set(70, [payment('2')]);
    const later = chain(80, events);
    const resumed = await recentPayments(later.reader, card, link(2), 80, first);
    assert.deepEqual(later.read.pages, [[61, 80]]);
    assert.equal(later.read.txs, 1);
    assert.deepEqual(
      resumed.payments.map((p) => p.amount),
      ['2', '1'],
    );
    assert.deepEqual(
      [resumed.tip, resumed.fromHeight, resumed.complete],
      [80, first.fromHeight, true],
    );
    // Nothing new: nothing read.
    const again = chain(80, events);
    const same = await recentPayments(again.reader, card, link(2), 80, resumed);
    assert.deepEqual([again.read.pages, same.payments.length], [[], 2]);
    assert.equal(read.txs, 1);
  });
});
