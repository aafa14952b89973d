import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { fromHex, sha256Hex } from '../crypto/index.js';
import { Mempool, type MempoolLimits } from './mempool.js';
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
});
