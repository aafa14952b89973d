// The expiry and notice indexes under load: thousands of lots due on one day cost each block a
// bounded number of state reads, and still lapse (and get their notices) in index order; each lot
// is one key per index, so what a tx writes does not grow with what the index holds.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';

import {
  ModuleTestHarness,
  testAccount,
  type ModuleTestChain,
} from '../../../test/support/module-chain.js';
import {
  ledgerModule,
  ModuleRegistry,
  type ChainModule,
  type CommittedBlock,
  type DecodedTx,
} from '../../chain/index.js';
import type { RangeBounds } from '../../state/index.js';
import {
  dayMs,
  getMember,
  getTimebank,
  hashUserId,
  lapsesPerBlockMax,
  noticesPerBlockMax,
  timecreditsKeys,
  timecreditsModule,
} from './index.js';

/**
 * State reads of the last `beginBlock` of the module: lots, index entries (read in order through
 * `range`), and everything.
 */
const reads = { lots: 0, entries: 0, all: 0 };

/** The module, with its `beginBlock` counting the reads it makes through the block's state view. */
const countingModule: ChainModule = {
  ...timecreditsModule,
  beginBlock: (ctx) => {
    const view = ctx.state;
    const get = view.get.bind(view);
    const range = view.range.bind(view);
    reads.lots = 0;
    reads.entries = 0;
    reads.all = 0;
    view.get = (key: string) => {
      reads.all += 1;
      if (key.startsWith('timecredits/lot/')) reads.lots += 1;
      return get(key);
    };
    view.range = (prefix: string, limit: number, bounds?: RangeBounds) => {
      const entries = range(prefix, limit, bounds);
      reads.entries += entries.length;
      reads.all += entries.length;
      return entries;
    };
    try {
      timecreditsModule.beginBlock!(ctx);
    } finally {
      Reflect.deleteProperty(view, 'get');
      Reflect.deleteProperty(view, 'range');
    }
  },
};

const harness = new ModuleTestHarness({
  name: 'timecredits-index',
  chainId: 'coffer-timecredits',
  registry: new ModuleRegistry([ledgerModule, countingModule]),
});
after(() => harness.close());

const coordinator = testAccount(1);
const members = Array.from({ length: 8 }, (_, i) => testAccount(20 + i));

/** Creates a bank (expiry 2 days, notice 1 day ahead) whose coordinator adds the members. */
function bank(node: ModuleTestChain): string {
  const create = node.tx(coordinator, 'timebank.create', {
    name: 'Busy bank',
    coordinators: [coordinator.address],
    policy: { kind: 'expiry', expiryDays: 2, noticeDays: 1 },
    creditLimitMinutes: '0',
  });
  assert.equal(node.produce([create]).receipts[0]!.status, 'ok');
  const bankId = create.hash.slice(0, 16);
  const salt = getTimebank(node.store, bankId)!.salt;
  const offsets = new Map<string, number>();
  const adds = members.map((m, i) =>
    node.tx(
      coordinator,
      'timebank.addMember',
      { bankId, account: m.address, userIdHash: hashUserId(salt, `member-${i}`) },
      offsets,
    ),
  );
  assert.ok(node.produce(adds).receipts.every((r) => r.status === 'ok'));
  return bankId;
}

let requests = 0;
/** A block at `at` issuing `count` one-minute lots, spread over the members. */
function issueMany(node: ModuleTestChain, bankId: string, count: number, at: number): number[] {
  const offsets = new Map<string, number>();
  const first = getTimebank(node.store, bankId)!.nextLotNumber;
  const txs: DecodedTx[] = Array.from({ length: count }, (_, i) => {
    requests += 1;
    return node.tx(
      coordinator,
      'timecredits.issue',
      {
        bankId,
        account: members[(first + i) % members.length]!.address,
        minutes: '1',
        requestId: `many-${requests}`,
      },
      offsets,
    );
  });
  assert.ok(node.produce(txs, at).receipts.every((r) => r.status === 'ok'));
  return Array.from({ length: count }, (_, i) => first + i);
}

const lotsOf = (block: CommittedBlock, type: string) =>
  block.blockEvents.filter((e) => e.type === type).map((e) => e.data.lot as number);

/** The keys of an index (`timecreditsKeys.expiries` or `.notices`), in order. */
const indexKeys = (node: ModuleTestChain, prefix: string) =>
  [...node.store.scan(prefix)].map(([key]) => key);

describe('expiry and notice indexes under load', () => {
  it('bound the reads of every block, and lapse thousands of same-day lots in order', () => {
    const node = harness.open(harness.genesis({ assets: [], balances: [] }));
    const bankId = bank(node);
    // Day 0 starts at the first UTC midnight after genesis; the lots are issued that day, get
    // their notices on day 1 and expire on day 2.
    const day0 = Math.ceil(node.time / dayMs) * dayMs;
    const hour = 3_600_000;
    const batchTimes = [
      day0 + hour, // b0 and b1 share a minute: 1,000 refs in four pages
      day0 + hour + 20_000,
      day0 + 3 * hour,
      day0 + 3 * hour + 61_000, // the next minute
      day0 + 10 * hour + 59_000,
      day0 + dayMs - 30_000, // the last minute of the day
    ];
    const batches = batchTimes.map((at) => issueMany(node, bankId, 500, at));
    const total = 3_000;

    // One key per lot in each index, in expiry order, then bank, then lot number.
    const expiries = indexKeys(node, timecreditsKeys.expiries);
    assert.equal(expiries.length, total);
    assert.deepEqual(expiries, [...expiries].sort());
    assert.equal(
      expiries[0],
      timecreditsKeys.expiry(batchTimes[0]! + 2 * dayMs, bankId, batches[0]![0]!),
    );
    assert.equal(indexKeys(node, timecreditsKeys.notices).length, total);

    // Each lot lapsed reads its lot, member and bank (the member and bank once per block).
    const readsMax = 2 * (lapsesPerBlockMax + noticesPerBlockMax) + 4 * members.length;
    const noticed: number[] = [];
    const lapsed: number[] = [];
    /** A block at `at`: its reads are bounded; returns its notices and lapses. */
    const block = (at: number) => {
      const produced = node.produce([], at);
      assert.ok(
        reads.lots <= lapsesPerBlockMax + noticesPerBlockMax,
        `${reads.lots} lot reads in one block`,
      );
      assert.ok(
        reads.entries <= lapsesPerBlockMax + noticesPerBlockMax,
        `${reads.entries} index entries read in one block`,
      );
      assert.ok(reads.all <= readsMax + 32, `${reads.all} state reads in one block`);
      const notices = lotsOf(produced, 'timecredits.expiring');
      const lapses = lotsOf(produced, 'timecredits.expired');
      noticed.push(...notices);
      lapsed.push(...lapses);
      return { notices, lapses, reads: { ...reads } };
    };

    // Day 1. Inside the first notice minute, b0 is due and b1 (20 s later) is not.
    assert.deepEqual(block(day0 + dayMs + hour + 10_000).notices, batches[0]);
    assert.deepEqual(block(day0 + dayMs + hour + 20_001).notices, batches[1]);
    // The other 2,000 are due at the day's last millisecond: 1,000 refs a block.
    assert.deepEqual(block(day0 + 2 * dayMs - 1).notices, [...batches[2]!, ...batches[3]!]);
    assert.deepEqual(block(day0 + 2 * dayMs).notices, [...batches[4]!, ...batches[5]!]);
    assert.deepEqual(indexKeys(node, timecreditsKeys.notices), [], 'every notice is out');

    // Day 2, before the first expiry: the blocks of the day read next to nothing.
    for (const at of [day0 + 2 * dayMs + 1_000, day0 + 2 * dayMs + hour - 1]) {
      const quiet = block(at);
      assert.deepEqual(quiet.lapses, []);
      assert.ok(quiet.reads.all <= 8, `${quiet.reads.all} reads in a quiet block`);
    }
    // Inside the first expiry minute: b0 lapses at the first block past its expiry, b1 waits.
    const first = block(day0 + 2 * dayMs + hour + 1);
    assert.deepEqual(first.lapses, batches[0]);
    const waiting = block(day0 + 2 * dayMs + hour + 20_000);
    assert.deepEqual(waiting.lapses, [], 'b1 is spendable up to its expiry instant');
    // b1's entries are not due: the walk reads none of them, and no lot.
    assert.equal(waiting.reads.lots, 0);
    assert.equal(waiting.reads.entries, 0);
    assert.deepEqual(block(day0 + 2 * dayMs + hour + 20_001).lapses, batches[1]);
    // The rest lapse 1,000 a block, in index order.
    assert.equal(block(day0 + 3 * dayMs).lapses.length, lapsesPerBlockMax);
    assert.equal(block(day0 + 3 * dayMs + 1_000).lapses.length, lapsesPerBlockMax);
    assert.deepEqual(block(day0 + 3 * dayMs + 2_000).lapses, []);

    const inOrder = Array.from({ length: total }, (_, i) => batches[0]![0]! + i);
    assert.deepEqual(noticed, inOrder, 'one notice per lot, in index order');
    assert.deepEqual(lapsed, inOrder, 'every lot lapses once, in index order');
    assert.equal(getTimebank(node.store, bankId)!.poolMinutes, String(total));
    for (const m of members) {
      assert.deepEqual(getMember(node.store, bankId, m.address)!.lots, []);
    }
    // The walked index is gone.
    assert.deepEqual(indexKeys(node, timecreditsKeys.expiries), []);
  });

  it('property: under the budget, each lot gets its notice and lapses at the first block due', () => {
    const batch = fc.record({
      gapMs: fc.integer({ min: 1, max: 90_000 }),
      count: fc.integer({ min: 1, max: 120 }),
    });
    fc.assert(
      fc.property(
        fc.array(batch, { minLength: 1, maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: 30_000 }), { minLength: 40, maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 30_000 }), { minLength: 40, maxLength: 40 }),
        (batches, noticeGaps, expiryGaps) => {
          const node = harness.open(harness.genesis({ assets: [], balances: [] }));
          const bankId = bank(node);
          const due = new Map<number, { noticeAt: number; expiresAt: number }>();
          let at = node.time + 60_000;
          for (const { gapMs, count } of batches) {
            at += gapMs;
            for (const lot of issueMany(node, bankId, count, at)) {
              due.set(lot, { noticeAt: at + dayMs, expiresAt: at + 2 * dayMs });
            }
          }
          const noticedAt = new Map<number, number>();
          const lapsedAt = new Map<number, number>();
          /** Empty blocks from `start` at the gaps, then one past `last`: their times. */
          const run = (start: number, gaps: number[], last: number) => {
            const times: number[] = [];
            let time = start;
            for (const gap of [...gaps, Math.max(1, last + 1 - (start + sum(gaps)))]) {
              time += gap;
              times.push(time);
              const block = node.produce([], time);
              for (const lot of lotsOf(block, 'timecredits.expiring')) {
                assert.ok(!noticedAt.has(lot), `lot ${lot} noticed twice`);
                noticedAt.set(lot, time);
              }
              for (const lot of lotsOf(block, 'timecredits.expired')) lapsedAt.set(lot, time);
            }
            return times;
          };
          const sum = (gaps: number[]) => gaps.reduce((a, b) => a + b, 0);
          const times = [...due.values()];
          const noticeFirst = Math.min(...times.map((d) => d.noticeAt));
          const noticeLast = Math.max(...times.map((d) => d.noticeAt));
          const noticeBlocks = run(noticeFirst - 30_000, noticeGaps, noticeLast);
          const expiryFirst = Math.min(...times.map((d) => d.expiresAt));
          const expiryLast = Math.max(...times.map((d) => d.expiresAt));
          const expiryBlocks = run(expiryFirst - 30_000, expiryGaps, expiryLast + 1);
          for (const [lot, { noticeAt, expiresAt }] of due) {
            const firstAtOrPast = (blocks: number[], time: number) => blocks.find((t) => t >= time);
            assert.equal(noticedAt.get(lot), firstAtOrPast(noticeBlocks, noticeAt), `lot ${lot}`);
            assert.equal(
              lapsedAt.get(lot),
              firstAtOrPast(expiryBlocks, expiresAt + 1),
              `lot ${lot}`,
            );
          }
        },
      ),
      { numRuns: 8 },
    );
  });

  it('an idle chain: a lot due 600 days on lapses at the first block past it', () => {
    const node = harness.open(harness.genesis({ assets: [], balances: [] }));
    const bankId = bank(node);
    const [soon] = issueMany(node, bankId, 1, node.time + 1_000);
    const policy = { kind: 'expiry', expiryDays: 600, noticeDays: 0 };
    assert.equal(node.run(coordinator, 'timebank.setPolicy', { bankId, policy }), 'ok');
    const [late] = issueMany(node, bankId, 1, node.time + 1_000);
    const lateAt = node.time + 600 * dayMs;
    node.produce([], node.time + 3 * dayMs);
    assert.deepEqual(indexKeys(node, timecreditsKeys.expiries), [
      timecreditsKeys.expiry(lateAt, bankId, late!),
    ]);
    // The block at its expiry instant reads no entry: the lot is spendable until then.
    assert.deepEqual(lotsOf(node.produce([], lateAt), 'timecredits.expired'), []);
    assert.equal(reads.entries, 0);
    const first = node.produce([], lateAt + 1);
    assert.deepEqual(lotsOf(first, 'timecredits.expired'), [late]);
    assert.ok(reads.all <= 8, `${reads.all} reads`);
    assert.notEqual(soon, late);
    assert.equal(getTimebank(node.store, bankId)!.poolMinutes, '2');
  });

  it('an issue writes as much into a minute holding 1,000 lots as into an empty one', () => {
    const node = harness.open(harness.genesis({ assets: [], balances: [] }));
    const bankId = bank(node);
    const at = node.time + 60_000;
    /** Bytes (keys and values) a block at `at` issuing one lot to the first member would write. */
    const bytes = (blockAt: number) => {
      requests += 1;
      const issue = node.tx(coordinator, 'timecredits.issue', {
        bankId,
        account: members[0]!.address,
        minutes: '1',
        requestId: `probe-${String(requests).padStart(6, '0')}`,
      });
      const result = node.chain.execute([issue], blockAt);
      assert.equal(result.receipts[0]!.status, 'ok');
      let total = 0;
      for (const [key, value] of result.writes) {
        // The member's record lists its lots: it grows with the member, not with the index.
        if (key.startsWith('timecredits/member/')) continue;
        total += key.length + (value?.length ?? 0);
      }
      return total;
    };
    const empty = bytes(at);
    // 1,000 lots issued in the same block, to the other members: all expire in one minute.
    const offsets = new Map<string, number>();
    const txs = Array.from({ length: 1_000 }, (_, i) => {
      requests += 1;
      return node.tx(
        coordinator,
        'timecredits.issue',
        {
          bankId,
          account: members[1 + (i % (members.length - 1))]!.address,
          minutes: '1',
          requestId: `probe-${String(requests).padStart(6, '0')}`,
        },
        offsets,
      );
    });
    assert.ok(node.produce(txs, at).receipts.every((r) => r.status === 'ok'));
    const busy = bytes(at + 1);
    // The coordinator's nonce and the bank's counters gain a few digits; the index nothing.
    assert.ok(busy <= empty + 32, `${busy} bytes beside 1,000 lots, ${empty} alone`);
  });

  it('a lot deleted (spent whole to repay a debt) takes its index entries with it', () => {
    const node = harness.open(harness.genesis({ assets: [], balances: [] }));
    const create = node.tx(coordinator, 'timebank.create', {
      name: 'Credit bank',
      coordinators: [coordinator.address],
      policy: { kind: 'expiry', expiryDays: 30, noticeDays: 7 },
      creditLimitMinutes: '600',
    });
    assert.equal(node.produce([create]).receipts[0]!.status, 'ok');
    const bankId = create.hash.slice(0, 16);
    const salt = getTimebank(node.store, bankId)!.salt;
    const [a, b] = [members[0]!, members[1]!];
    const offsets = new Map<string, number>();
    const adds = [a, b].map((m, i) =>
      node.tx(
        coordinator,
        'timebank.addMember',
        { bankId, account: m.address, userIdHash: hashUserId(salt, `credit-${i}`) },
        offsets,
      ),
    );
    assert.ok(node.produce(adds).receipts.every((r) => r.status === 'ok'));
    /** `provider` records 60 minutes for `recipient`, who confirms: recipient pays provider. */
    const exchange = (provider: typeof a, recipient: typeof a) => {
      const number = getTimebank(node.store, bankId)!.nextExchangeNumber;
      const recorded = node.run(provider, 'timecredits.recordExchange', {
        bankId,
        recipient: recipient.address,
        minutes: '60',
      });
      assert.equal(recorded, 'ok');
      assert.equal(
        node.run(recipient, 'timecredits.confirmExchange', { bankId, exchange: number }),
        'ok',
      );
    };
    // a pays b on credit: b holds a new lot of 60, indexed for expiry and notice.
    exchange(b, a);
    const [lot] = getMember(node.store, bankId, b.address)!.lots;
    const entriesOf = (number: number) =>
      [timecreditsKeys.expiries, timecreditsKeys.notices].flatMap((prefix) =>
        indexKeys(node, prefix).filter((key) =>
          key.endsWith(`/${bankId}/${String(number).padStart(16, '0')}`),
        ),
      );
    assert.equal(entriesOf(lot!).length, 2);
    // b pays a back with that very lot: it repays a's debt whole and is gone, entries and all.
    exchange(a, b);
    assert.equal(getMember(node.store, bankId, a.address)!.debtMinutes, '0');
    assert.equal(node.store.get(timecreditsKeys.lot(bankId, lot!)), undefined);
    assert.deepEqual(entriesOf(lot!), []);
  });
});
