import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { fromHex, sha256Hex } from '../crypto/index.js';
import { Mempool, type MempoolLimits } from './mempool.js';
import type { Rejection } from './rejections.js';
import type { DecodedTx } from './tx.js';

/**
 * The mempool reads only a tx's sender, nonce and hash; the rest is filler. `salt` makes a second,
 * different tx with the same sender and nonce.
 */
function pending(sender: string, nonce: number, salt = ''): DecodedTx {
  const hash = sha256Hex(`${sender}/${nonce}/${salt}`);
  return {
    tx: {
      chainId: 'test',
      type: 'ledger.transfer',
      sender,
      nonce,
      payload: {},
      signature: '00'.repeat(64),
    },
    hash,
    hashBytes: fromHex(hash, 'hash', 32),
    publicKey: new Uint8Array(32),
    signatureBytes: new Uint8Array(64),
    parsed: {},
  };
}

/** A mempool over a mutable table of committed nonces. */
function mempool(
  limits: MempoolLimits = { txsMax: 100, perSenderMax: 10 },
  committed = new Map<string, number>(),
) {
  return { pool: new Mempool((sender) => committed.get(sender) ?? 0, limits), committed };
}

const label = (txs: DecodedTx[]) => txs.map((d) => `${d.tx.sender}${d.tx.nonce}`);

describe('Mempool', () => {
  it('releases out-of-order arrivals in nonce order, once the gap closes', () => {
    const { pool } = mempool();
    assert.equal(pool.add(pending('a', 2)), undefined);
    assert.equal(pool.add(pending('a', 1)), undefined);
    assert.equal(pool.readyCount, 0, 'nothing is ready while nonce 0 is missing');
    assert.deepEqual(pool.take(10), []);
    assert.equal(pool.add(pending('b', 0)), undefined);
    assert.equal(pool.add(pending('a', 0)), undefined);
    assert.equal(pool.readyCount, 4);
    assert.deepEqual(label(pool.take(10)), ['b0', 'a0', 'a1', 'a2']);
  });

  it('starts each sender at its committed nonce', () => {
    const { pool } = mempool(undefined, new Map([['a', 5]]));
    assert.equal(pool.add(pending('a', 6)), undefined);
    assert.equal(pool.readyCount, 0);
    assert.equal(pool.add(pending('a', 5)), undefined);
    assert.deepEqual(label(pool.take(10)), ['a5', 'a6']);
  });

  describe('rejections, in precedence order', () => {
    it('duplicate_tx: the same tx twice, even when its nonce is also too low now', () => {
      const { pool } = mempool();
      assert.equal(pool.add(pending('a', 0)), undefined);
      pool.take(1);
      assert.deepEqual(pool.add(pending('a', 0)), {
        code: 'duplicate_tx',
        message: 'This transaction was already received.',
      });
    });

    it('nonce_too_low: below the committed nonce, or a second tx for a nonce already ready', () => {
      const { pool } = mempool(undefined, new Map([['a', 3]]));
      assert.equal(pool.add(pending('a', 2))?.code, 'nonce_too_low');
      assert.equal(pool.add(pending('a', 2))?.field, 'nonce');
      assert.equal(pool.add(pending('a', 3)), undefined);
      assert.equal(pool.add(pending('a', 3, 'other'))?.code, 'nonce_too_low');
    });

    it('nonce_too_high: perSenderMax or more past the next nonce, checked before fullness', () => {
      const { pool } = mempool({ txsMax: 1, perSenderMax: 4 });
      assert.equal(pool.add(pending('a', 4))?.code, 'nonce_too_high');
      assert.equal(pool.add(pending('a', 3)), undefined);
      assert.equal(pool.add(pending('b', 4))?.code, 'nonce_too_high', 'before mempool_full');
    });

    it('duplicate_tx (field nonce): another tx for a nonce that is waiting', () => {
      const { pool } = mempool({ txsMax: 1, perSenderMax: 4 });
      assert.equal(pool.add(pending('a', 2)), undefined);
      assert.deepEqual(pool.add(pending('a', 2, 'other')), {
        code: 'duplicate_tx',
        message: 'This transaction was already received.',
        field: 'nonce',
      });
    });

    it('mempool_full: txsMax pending in all, before sender_queue_full', () => {
      const { pool } = mempool({ txsMax: 3, perSenderMax: 3 });
      for (const nonce of [0, 1, 2]) assert.equal(pool.add(pending('a', nonce)), undefined);
      assert.equal(pool.add(pending('b', 0))?.code, 'mempool_full');
      assert.equal(
        pool.add(pending('a', 3))?.code,
        'mempool_full',
        'full wins over the sender queue',
      );
      assert.equal(pool.size, 3);
    });

    it('sender_queue_full: perSenderMax ready, taken or waiting txs of one sender', () => {
      const { pool } = mempool({ txsMax: 100, perSenderMax: 3 });
      assert.equal(pool.add(pending('a', 0)), undefined);
      assert.equal(pool.add(pending('a', 1)), undefined);
      assert.equal(pool.take(2).length, 2);
      assert.equal(pool.add(pending('a', 3)), undefined); // waiting
      assert.equal(pool.add(pending('a', 2))?.code, 'sender_queue_full');
      assert.equal(pool.add(pending('b', 0)), undefined, 'other senders are unaffected');
    });

    it('a rejected tx is not remembered', () => {
      const { pool } = mempool({ txsMax: 1, perSenderMax: 2 });
      assert.equal(pool.add(pending('a', 0)), undefined);
      const rejected = pending('b', 0);
      assert.equal(pool.add(rejected)?.code, 'mempool_full');
      assert.equal(pool.has(rejected.hash), false);
      assert.equal(pool.size, 1);
    });
  });

  it('take and settle keep the books: size, readiness and the next nonce', () => {
    const { pool, committed } = mempool({ txsMax: 100, perSenderMax: 5 });
    const txs = [pending('a', 0), pending('a', 1), pending('b', 0), pending('a', 3)];
    for (const t of txs) assert.equal(pool.add(t), undefined);
    assert.equal(pool.size, 4);
    assert.equal(pool.readyCount, 3);

    const first = pool.take(2);
    assert.deepEqual(label(first), ['a0', 'a1']);
    assert.equal(pool.readyCount, 1);
    assert.equal(pool.size, 4, 'taken txs stay known until settled');
    assert.ok(pool.has(txs[0]!.hash));
    assert.equal(
      pool.add(pending('a', 1, 'again'))?.code,
      'nonce_too_low',
      'a taken nonce stays used',
    );

    committed.set('a', 2);
    pool.settle(first);
    assert.equal(pool.size, 2);
    assert.equal(pool.has(txs[0]!.hash), false);
    // a's queue survives (nonce 3 waits), so its next nonce is still 2.
    assert.equal(pool.add(pending('a', 2)), undefined);
    assert.deepEqual(label(pool.take(10)), ['b0', 'a2', 'a3']);
    assert.deepEqual(pool.take(10), []);

    committed.set('a', 4);
    committed.set('b', 1);
    pool.settle([pending('b', 0), pending('a', 2), txs[3]!]);
    assert.equal(pool.size, 0);
    assert.equal(pool.readyCount, 0);
    // Queues are gone: the next nonce comes from committed state again.
    assert.equal(pool.add(pending('a', 3, 'late'))?.code, 'nonce_too_low');
    assert.equal(pool.add(pending('a', 4)), undefined);
    assert.equal(pool.add(pending('b', 1)), undefined);
    assert.deepEqual(label(pool.take(10)), ['a4', 'b1']);
  });

  it('resetSender hands back waiting txs and rereads the next nonce from committed state', () => {
    const { pool, committed } = mempool();
    assert.equal(pool.add(pending('a', 0)), undefined);
    assert.equal(pool.add(pending('a', 2)), undefined);
    const [taken] = pool.take(1);
    committed.set('a', 0); // the block dropped it: nonce 0 is still free
    pool.settle([taken!]);
    const orphans = pool.resetSender('a');
    assert.deepEqual(label(orphans), ['a2']);
    assert.equal(pool.size, 0);
    assert.equal(pool.add(pending('a', 0, 'retry')), undefined);
    assert.deepEqual(label(pool.take(1)), ['a0']);
  });

  it('take of many blocks keeps arrival order across compaction of the ready queue', () => {
    const { pool } = mempool({ txsMax: 20_000, perSenderMax: 10_000 });
    for (let nonce = 0; nonce < 9000; nonce++)
      assert.equal(pool.add(pending('a', nonce)), undefined);
    const nonces: number[] = [];
    for (let block = 0; block < 10; block++) nonces.push(...pool.take(1000).map((d) => d.tx.nonce));
    assert.deepEqual(
      nonces,
      Array.from({ length: 9000 }, (_, n) => n),
    );
  });

  it('whatever order txs arrive in, each sender leaves in strictly consecutive nonce order (property)', () => {
    const senders = ['s0', 's1', 's2', 's3'];
    const plan = fc
      .tuple(
        fc.array(fc.integer({ min: 0, max: 8 }), {
          minLength: senders.length,
          maxLength: senders.length,
        }),
        fc.array(fc.integer({ min: 0, max: 3 }), {
          minLength: senders.length,
          maxLength: senders.length,
        }),
      )
      .chain(([counts, starts]) => {
        const txs = senders.flatMap((sender, i) =>
          Array.from({ length: counts[i]! }, (_, k) => ({ sender, nonce: starts[i]! + k })),
        );
        return fc.record({
          starts: fc.constant(starts),
          counts: fc.constant(counts),
          // Arrival order, each tx possibly sent twice, with takes of random size in between.
          arrivals: fc.shuffledSubarray([...txs, ...txs], {
            minLength: txs.length * 2,
            maxLength: txs.length * 2,
          }),
          takes: fc.array(fc.integer({ min: 0, max: 5 }), {
            minLength: txs.length * 2,
            maxLength: txs.length * 2,
          }),
        });
      });
    fc.assert(
      fc.property(plan, ({ starts, counts, arrivals, takes }) => {
        const committed = new Map(senders.map((s, i) => [s, starts[i]!]));
        const { pool } = mempool({ txsMax: 1000, perSenderMax: 16 }, committed);
        const taken: DecodedTx[] = [];
        const seen = new Set<string>();
        arrivals.forEach((a, i) => {
          const result = pool.add(pending(a.sender, a.nonce));
          const key = `${a.sender}/${a.nonce}`;
          assert.equal(result?.code, seen.has(key) ? 'duplicate_tx' : undefined);
          seen.add(key);
          taken.push(...pool.take(takes[i]!));
        });
        taken.push(...pool.take(1000));
        assert.equal(pool.readyCount, 0);
        senders.forEach((sender, i) => {
          const nonces = taken.filter((d) => d.tx.sender === sender).map((d) => d.tx.nonce);
          assert.deepEqual(
            nonces,
            Array.from({ length: counts[i]! }, (_, k) => starts[i]! + k),
            sender,
          );
        });
        pool.settle(taken);
        assert.equal(pool.size, 0);
      }),
      { numRuns: 300 },
    );
  });

  describe('gapped txs, the system lane and the rate limit', () => {
    /** A pool with a clock the test moves, the system sender `node`, and every drop recorded. */
    function policed(limits: Partial<MempoolLimits> = {}, committed = new Map<string, number>()) {
      const clock = { now: 1_000_000 };
      const drops: string[] = [];
      const pool = new Mempool(
        (sender) => committed.get(sender) ?? 0,
        {
          txsMax: 20,
          perSenderMax: 50,
          gappedTxsMax: 4,
          gappedPerSenderMax: 3,
          gappedExpiryMs: 1_000,
          systemTxsMax: 5,
          ...limits,
        },
        {
          now: () => clock.now,
          isSystemSender: (sender) => sender === 'node',
          // Senders named "funded..." hold an account in committed state.
          hasAccount: (sender) => sender.startsWith('funded'),
          onDrop: (d, reason: Rejection) =>
            drops.push(`${d.tx.sender}${d.tx.nonce}:${reason.code}`),
        },
      );
      return { pool, clock, drops, committed };
    }
    const code = (r: Rejection | undefined) => r?.code;

    it('sender_gap_limit: a sender holds at most gappedPerSenderMax gapped txs; its ready ones still come in', () => {
      const { pool } = policed();
      for (const nonce of [5, 6, 7]) assert.equal(pool.add(pending('x', nonce)), undefined);
      assert.deepEqual(pool.add(pending('x', 8)), {
        code: 'sender_gap_limit',
        message:
          'This sender has as many transactions waiting for an earlier nonce as a sender may; send the missing nonces first.',
        field: 'nonce',
      });
      assert.equal(
        code(pool.precheck([pending('x', 9)])[0]),
        'sender_gap_limit',
        'also before any signature',
      );
      assert.equal(
        pool.precheck([pending('x', 0)])[0],
        undefined,
        'a ready nonce passes the precheck',
      );
      assert.equal(pool.add(pending('x', 0)), undefined, 'its next nonce is ready, not gapped');
      assert.equal(pool.gappedCount, 3);
      assert.equal(pool.readyCount, 1);
    });

    it('gapped txs expire after gappedExpiryMs; ready txs never do', () => {
      const { pool, clock, drops } = policed();
      assert.equal(pool.add(pending('a', 0)), undefined);
      assert.equal(pool.add(pending('b', 2)), undefined);
      clock.now += 600;
      assert.equal(pool.add(pending('c', 1)), undefined);
      clock.now += 600; // b2 is 1,200 ms old, c1 600 ms
      assert.deepEqual(label(pool.take(10)), ['a0']);
      assert.deepEqual(drops, ['b2:gapped_tx_expired']);
      assert.equal(pool.size, 2, 'a0 (taken) and c1');
      clock.now += 600;
      assert.equal(pool.add(pending('d', 0)), undefined); // admission sweeps as well
      assert.deepEqual(drops, ['b2:gapped_tx_expired', 'c1:gapped_tx_expired']);
      assert.equal(pool.gappedCount, 0);
      // Gone means gone: the same tx may come again, and b may now send nonce 0 and 1 to fill in.
      assert.equal(pool.add(pending('b', 2)), undefined);
      assert.equal(pool.add(pending('b', 0)), undefined);
      assert.equal(pool.add(pending('b', 1)), undefined);
      assert.deepEqual(label(pool.take(10)), ['d0', 'b0', 'b1', 'b2']);
    });

    it('a full gapped share evicts the highest nonce of the sender holding the most, or refuses', () => {
      const { pool, drops } = policed();
      for (const [sender, nonce] of [
        ['m', 3],
        ['m', 4],
        ['m', 9],
        ['s', 1],
      ] as const) {
        assert.equal(pool.add(pending(sender, nonce)), undefined);
      }
      assert.equal(pool.gappedCount, 4, 'the gapped share (4) is full');
      // A sender with no gap yet gets in: m holds the most and gives up its highest nonce.
      assert.equal(pool.add(pending('t', 2)), undefined);
      assert.deepEqual(drops, ['m9:gapped_tx_evicted']);
      // m and s hold 2 and 1: s gets in too (m holds more than s), evicting m4.
      assert.equal(pool.add(pending('s', 2)), undefined);
      assert.deepEqual(drops, ['m9:gapped_tx_evicted', 'm4:gapped_tx_evicted']);
      // Now m, s hold 1 and 2 (t 1): s is the biggest holder; it cannot evict others for itself.
      assert.equal(code(pool.add(pending('s', 5))), 'gapped_pool_full');
      assert.equal(pool.gappedCount, 4);
      // A ready tx needs no gapped room at all.
      assert.equal(pool.add(pending('m', 0)), undefined);
      assert.equal(pool.gappedCount, 4);
    });

    it('a full pool: a ready tx takes the place of a gapped one; a gapped tx is refused', () => {
      const { pool, drops } = policed({ txsMax: 4, gappedTxsMax: 2 });
      assert.equal(pool.add(pending('a', 0)), undefined);
      assert.equal(pool.add(pending('a', 1)), undefined);
      assert.equal(pool.add(pending('g', 5)), undefined);
      assert.equal(pool.add(pending('g', 6)), undefined);
      assert.equal(pool.userCount, 4);
      assert.equal(code(pool.add(pending('h', 3))), 'mempool_full', 'gapped never displaces');
      assert.equal(pool.add(pending('b', 0)), undefined);
      assert.deepEqual(drops, ['g6:gapped_tx_evicted']);
      assert.equal(pool.add(pending('c', 0)), undefined);
      assert.deepEqual(drops, ['g6:gapped_tx_evicted', 'g5:gapped_tx_evicted']);
      assert.equal(code(pool.add(pending('d', 0))), 'mempool_full', 'no gapped tx left to evict');
      assert.deepEqual(label(pool.take(10)), ['a0', 'a1', 'b0', 'c0']);
    });

    it('the system lane: never refused by user load, taken first, bounded on its own', () => {
      const { pool } = policed({ txsMax: 2, systemTxsMax: 3 });
      assert.equal(pool.add(pending('a', 0)), undefined);
      assert.equal(pool.add(pending('a', 1)), undefined);
      assert.equal(code(pool.add(pending('b', 0))), 'mempool_full');
      assert.equal(pool.add(pending('node', 0)), undefined, 'the node gets in past a full pool');
      assert.equal(pool.add(pending('node', 2)), undefined, 'out of order, it waits (no gap cap)');
      assert.equal(pool.add(pending('node', 1)), undefined);
      assert.equal(code(pool.add(pending('node', 3))), 'sender_queue_full', 'systemTxsMax');
      assert.deepEqual(label(pool.take(2)), ['node0', 'node1'], 'first, whatever came before');
      assert.deepEqual(label(pool.take(10)), ['node2', 'a0', 'a1']);
    });

    it('precheck, before any signature: pending duplicates, gapped txs that cannot fit, the gapped budget', () => {
      const { pool, clock } = policed({ gappedTxsMax: 2, gappedAdmissionsPerSecondMax: 3 });
      const held = pending('a', 0);
      assert.equal(pool.add(held), undefined);
      assert.equal(code(pool.precheck([pending('a', 0)])[0]), 'duplicate_tx', 'by hash');
      assert.equal(pool.precheck([pending('a', 1)])[0], undefined, 'ready: no budget spent');
      // Three gapped txs pass (the budget), the fourth in the same second does not.
      assert.equal(pool.precheck([pending('b', 1)])[0], undefined);
      assert.equal(pool.add(pending('b', 1)), undefined);
      assert.equal(pool.precheck([pending('b', 2)])[0], undefined);
      assert.equal(pool.add(pending('b', 2)), undefined);
      // The share (2) is full and b holds the most: b cannot get in, c (none yet) could.
      assert.equal(code(pool.precheck([pending('b', 3)])[0]), 'gapped_pool_full');
      assert.equal(pool.precheck([pending('c', 5)])[0], undefined);
      assert.equal(code(pool.precheck([pending('d', 5)])[0]), 'gapped_rate_limited');
      assert.equal(
        pool.precheck([pending('node', 9)])[0],
        undefined,
        'the system lane has no budget',
      );
      clock.now += 400; // 1.2 gapped checks earned back
      assert.equal(pool.precheck([pending('d', 5)])[0], undefined);
      assert.equal(code(pool.precheck([pending('e', 5)])[0]), 'gapped_rate_limited');
    });

    it('precheck reads a batch in order, and only senders without an account spend the gapped budget', () => {
      const { pool } = policed({ gappedTxsMax: 10, gappedAdmissionsPerSecondMax: 2 });
      // A client's batch of its next nonces, in order: nothing in it is gapped, whatever its size.
      const batch = [0, 1, 2, 3, 4, 5].map((n) => pending('fresh', n));
      assert.deepEqual(
        pool.precheck(batch),
        batch.map(() => undefined),
      );
      // Gapped txs of a funded sender (a client pipelining batches) spend no budget either.
      const ahead = [7, 8, 9].map((n) => pending('funded', n));
      assert.deepEqual(
        pool.precheck(ahead),
        ahead.map(() => undefined),
      );
      // A key with no account: two gapped checks a second, then gapped_rate_limited.
      assert.deepEqual(pool.precheck([2, 3, 4].map((n) => pending('outsider', n))).map(code), [
        undefined,
        undefined,
        'gapped_rate_limited',
      ]);
    });

    it('prefilter: the same checks on senders and nonces as sent, spending nothing', () => {
      const { pool } = policed({ gappedTxsMax: 10, gappedAdmissionsPerSecondMax: 1 });
      const outsider = [3, 4].map((nonce) => ({ sender: 'outsider', nonce }));
      // Reading only: both pass, however often, while the budget (1) is unspent.
      assert.deepEqual(pool.prefilter(outsider), [undefined, undefined]);
      assert.deepEqual(pool.prefilter(outsider), [undefined, undefined]);
      assert.deepEqual(pool.precheck([pending('outsider', 3)]), [undefined], 'spends it');
      assert.deepEqual(
        pool.prefilter([...outsider, undefined, { sender: 'outsider', nonce: 0 }]).map(code),
        ['gapped_rate_limited', 'gapped_rate_limited', undefined, undefined],
        'then refuses, before any decode; an item it cannot read, and a ready nonce, go on',
      );
    });

    it('sender_rate_limited: senderTxsPerSecondMax per sender, refilled over a second; 0 is off', () => {
      const { pool, clock } = policed({ senderTxsPerSecondMax: 2 });
      assert.equal(pool.add(pending('a', 0)), undefined);
      assert.equal(pool.add(pending('a', 1)), undefined);
      assert.equal(code(pool.add(pending('a', 2))), 'sender_rate_limited');
      assert.equal(code(pool.precheck([pending('a', 2)])[0]), 'sender_rate_limited');
      assert.equal(pool.add(pending('b', 0)), undefined, 'per sender');
      assert.equal(pool.add(pending('node', 0)), undefined);
      clock.now += 500; // one more token
      assert.equal(pool.add(pending('a', 2)), undefined);
      assert.equal(code(pool.add(pending('a', 3))), 'sender_rate_limited');
      const { pool: open } = policed();
      for (let nonce = 0; nonce < 15; nonce++)
        assert.equal(open.add(pending('a', nonce)), undefined);
    });
  });

  it('never exceeds its bounds, and never drops or refuses a ready tx while it holds a gapped one (property)', () => {
    const limits = {
      txsMax: 10,
      perSenderMax: 8,
      gappedTxsMax: 4,
      gappedPerSenderMax: 2,
      gappedExpiryMs: 50,
      systemTxsMax: 4,
    };
    // Honest senders send contiguous runs from their committed nonce; flooders send gapped nonces.
    const op = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          kind: fc.constant('honest' as const),
          who: fc.integer({ min: 0, max: 3 }),
        }),
      },
      {
        weight: 6,
        arbitrary: fc.record({
          kind: fc.constant('flood' as const),
          who: fc.integer({ min: 0, max: 9 }),
          ahead: fc.integer({ min: 1, max: 7 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('system' as const) }) },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('block' as const),
          size: fc.integer({ min: 0, max: 3 }),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('wait' as const),
          ms: fc.integer({ min: 1, max: 40 }),
        }),
      },
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 120, size: 'max' }), (ops) => {
        const committed = new Map<string, number>();
        let now = 0;
        const dropped: DecodedTx[] = [];
        const pool = new Mempool((sender) => committed.get(sender) ?? 0, limits, {
          now: () => now,
          isSystemSender: (sender) => sender === 'node',
          onDrop: (d) => dropped.push(d),
        });
        const sent = new Map<string, number>(); // honest and system: the next nonce to send
        const admittedReady = new Set<string>();
        const taken = new Set<string>();
        for (const o of ops) {
          if (o.kind === 'honest' || o.kind === 'system') {
            const sender = o.kind === 'system' ? 'node' : `h${o.who}`;
            const nonce = sent.get(sender) ?? 0;
            const tx = pending(sender, nonce);
            const gappedBefore = pool.gappedCount;
            const result = pool.add(tx);
            if (result === undefined) {
              sent.set(sender, nonce + 1);
              admittedReady.add(tx.hash);
            } else if (o.kind === 'system') {
              assert.equal(result.code, 'sender_queue_full', 'user load never refuses the node');
              assert.equal(pool.size - pool.userCount, limits.systemTxsMax);
            } else if (result.code === 'mempool_full') {
              assert.equal(
                gappedBefore,
                0,
                'a ready tx is refused only with no gapped tx to evict',
              );
            } else {
              assert.ok(['sender_queue_full', 'mempool_full'].includes(result.code), result.code);
            }
          } else if (o.kind === 'flood') {
            const sender = `f${o.who}`;
            pool.add(pending(sender, (committed.get(sender) ?? 0) + o.ahead));
          } else if (o.kind === 'block') {
            const block = pool.take(o.size);
            for (const d of block) {
              taken.add(d.hash);
              committed.set(d.tx.sender, d.tx.nonce + 1);
            }
            pool.settle(block);
          } else {
            now += o.ms;
          }
          assert.ok(pool.userCount <= limits.txsMax, 'txsMax');
          assert.ok(pool.gappedCount <= limits.gappedTxsMax, 'gappedTxsMax');
          assert.ok(pool.size - pool.userCount <= limits.systemTxsMax, 'systemTxsMax');
          for (const d of dropped) {
            assert.ok(!admittedReady.has(d.hash), `ready ${d.tx.sender}${d.tx.nonce} dropped`);
            assert.ok(d.tx.sender.startsWith('f'), 'only gapped txs are dropped');
          }
        }
        // Every admitted ready tx leaves in a block, each sender in nonce order.
        const rest = pool.take(1_000);
        for (const d of rest) taken.add(d.hash);
        for (const hash of admittedReady) assert.ok(taken.has(hash), 'an admitted ready tx left');
      }),
      { numRuns: 400 },
    );
  });
});
