import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ModuleRegistry,
  decodeTx,
  isRejection,
  ledgerModule,
  signTx,
  type DecodedTx,
  type MempoolLimits,
  type Rejection,
} from '../../chain/index.js';
import { fromHex, sha256Hex } from '../../crypto/index.js';
import { testAccount } from '../../../test/support/module-chain.js';
import { TxPool } from './pool.js';

const chainId = 'pool-test';
const registry = new ModuleRegistry([ledgerModule]);
const accounts = [1, 2, 3].map((seed) => testAccount(seed));

function tx(from: number, nonce: number, amount = '1'): DecodedTx {
  const sender = accounts[from]!;
  const signed = signTx(
    {
      chainId,
      type: 'ledger.transfer',
      sender: sender.address,
      nonce,
      payload: { to: accounts[(from + 1) % 3]!.address, asset: 'USD', amount },
    },
    sender.secretKey,
  );
  const decoded = decodeTx(signed, chainId, registry.parserFor);
  assert.ok(!isRejection(decoded));
  return decoded;
}

function pool(committed: Map<string, number>, limits = { txsMax: 100, perSenderMax: 10 }) {
  return new TxPool((sender) => committed.get(sender) ?? 0, limits);
}

describe('cluster tx pool', () => {
  it('selects each sender from its committed nonce without gaps, oldest sender first', () => {
    const committed = new Map<string, number>();
    const p = pool(committed);
    assert.equal(p.add(tx(1, 1), 1), undefined); // waits for nonce 0
    assert.equal(p.add(tx(0, 0), 2), undefined);
    assert.equal(p.add(tx(0, 1), 2), undefined);
    assert.equal(p.hasReady(), true);
    assert.deepEqual(
      p.select(10).map((d) => [d.tx.sender, d.tx.nonce]),
      [
        [accounts[0]!.address, 0],
        [accounts[0]!.address, 1],
      ],
    );
    assert.equal(p.add(tx(1, 0), 3), undefined);
    assert.deepEqual(
      p.select(10).map((d) => [d.tx.sender, d.tx.nonce]),
      [
        [accounts[1]!.address, 0],
        [accounts[1]!.address, 1],
        [accounts[0]!.address, 0],
        [accounts[0]!.address, 1],
      ],
    );
    assert.equal(p.select(3).length, 3);
    assert.equal(p.select(10, () => false).length, 0);
  });

  it('selecting removes nothing; settling removes what a block included and what went stale', () => {
    const committed = new Map<string, number>();
    const p = pool(committed);
    const txs = [tx(0, 0), tx(0, 1), tx(0, 2), tx(2, 0)];
    txs.forEach((d, i) => p.add(d, 10 + i));
    assert.equal(p.select(2).length, 2);
    assert.equal(p.size, 4);
    assert.equal(p.lowestSeq(), 10);
    // A block (perhaps another producer's) included nonces 0 and 1 of sender 0.
    committed.set(accounts[0]!.address, 2);
    p.settle([txs[0]!, txs[1]!]);
    assert.equal(p.size, 2);
    assert.equal(p.has(txs[0]!.hash), false);
    assert.equal(p.lowestSeq(), 12);
    assert.deepEqual(
      p.select(10).map((d) => d.hash),
      [txs[2]!.hash, txs[3]!.hash],
    );
    // Another copy of nonce 2 (a different tx) committed instead: ours went stale.
    committed.set(accounts[0]!.address, 3);
    p.settle([tx(0, 2, '5')]);
    assert.equal(p.has(txs[2]!.hash), false);
    assert.equal(p.size, 1);
  });

  it('refuses duplicates, stale and far nonces, a full pool and a full sender queue', () => {
    const committed = new Map([[accounts[0]!.address, 5]]);
    const p = pool(committed, { txsMax: 4, perSenderMax: 3 });
    assert.equal(p.check(tx(0, 4))?.code, 'nonce_too_low');
    assert.equal(p.check(tx(0, 8))?.code, 'nonce_too_high');
    assert.equal(p.add(tx(0, 5), 1), undefined);
    assert.equal(p.add(tx(0, 5), 1)?.code, 'duplicate_tx');
    assert.equal(p.add(tx(0, 5, '2'), 1)?.code, 'duplicate_tx'); // same nonce, other tx
    p.add(tx(0, 6), 1);
    p.add(tx(0, 7), 1);
    assert.equal(p.add(tx(1, 0), 1), undefined);
    assert.equal(p.add(tx(2, 0), 1)?.code, 'mempool_full');
    assert.equal(p.size, 4);
  });

  it('whatever arrives in whatever order, a selection is runnable in order and settles to empty', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 5 })), {
          maxLength: 30,
        }),
        (arrivals) => {
          const committed = new Map<string, number>();
          const p = pool(committed);
          arrivals.forEach(([from, nonce], i) => p.add(tx(from, nonce), i + 1));
          // Repeatedly "commit" whatever is selected, as blocks would.
          for (let round = 0; round < 10; round++) {
            const selected = p.select(4);
            if (selected.length === 0) break;
            const next = new Map(committed);
            for (const d of selected) {
              const expected = next.get(d.tx.sender) ?? 0;
              if (d.tx.nonce !== expected) return false;
              next.set(d.tx.sender, expected + 1);
            }
            for (const [k, v] of next) committed.set(k, v);
            p.settle(selected);
          }
          // Left over: only txs waiting behind a gap.
          return p.select(100).length === 0 && !p.hasReady();
        },
      ),
      { numRuns: 60 },
    );
  });

  describe('bounds: gapped txs, the system lane, the rate limit', () => {
    /** The pool reads a tx's sender, nonce and hash only: a labelled stand-in is enough. */
    function pending(sender: string, nonce: number, salt = ''): DecodedTx {
      const hash = sha256Hex(`${sender}/${nonce}/${salt}`);
      return {
        tx: { chainId, type: 'ledger.transfer', sender, nonce, payload: {}, signature: '' },
        hash,
        hashBytes: fromHex(hash, 'hash', 32),
        publicKey: new Uint8Array(32),
        signatureBytes: new Uint8Array(64),
        parsed: {},
      };
    }
    const label = (txs: DecodedTx[]) => txs.map((d) => `${d.tx.sender}${d.tx.nonce}`);

    function policed(limits: Partial<MempoolLimits> = {}) {
      const committed = new Map<string, number>();
      const clock = { now: 5_000 };
      const drops: string[] = [];
      const p = new TxPool(
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
          isSystemSender: (sender) => sender === 'op',
          onDrop: (d, reason: Rejection) =>
            drops.push(`${d.tx.sender}${d.tx.nonce}:${reason.code}`),
        },
      );
      /** Commits what a block included: nonces advance, then the pool settles. */
      const commit = (txs: DecodedTx[]) => {
        for (const d of txs) committed.set(d.tx.sender, d.tx.nonce + 1);
        p.settle(txs);
      };
      return { p, clock, drops, committed, commit };
    }

    it("caps gapped txs per sender and in all; evicts the biggest holder's highest nonce", () => {
      const { p, drops } = policed();
      for (const nonce of [4, 5, 6]) assert.equal(p.add(pending('m', nonce), 1), undefined);
      assert.equal(p.check(pending('m', 7))?.code, 'sender_gap_limit');
      assert.equal(p.precheck([pending('m', 8)])[0]?.code, 'sender_gap_limit');
      assert.equal(p.add(pending('s', 2), 1), undefined);
      assert.equal(p.gappedCount, 4);
      assert.equal(p.add(pending('t', 1), 2), undefined);
      assert.deepEqual(drops, ['m6:gapped_tx_evicted']);
      assert.equal(p.add(pending('t', 3), 2), undefined); // m 2, s 1, t 1: m gives up m5
      assert.deepEqual(drops, ['m6:gapped_tx_evicted', 'm5:gapped_tx_evicted']);
      // m, s, t hold 1, 1, 2: t is the biggest holder and cannot push others out for itself.
      assert.equal(p.add(pending('t', 5), 3)?.code, 'gapped_pool_full');
      assert.equal(p.has(pending('m', 6).hash), false);
      assert.equal(p.hasReady(), false);
    });

    it('gapped txs expire by the node clock; a filled gap makes them ready, and then they stay', () => {
      const { p, clock, drops } = policed();
      assert.equal(p.add(pending('a', 1), 1), undefined);
      assert.equal(p.add(pending('b', 1), 1), undefined);
      clock.now += 500;
      assert.equal(p.add(pending('a', 0), 2), undefined); // a1 is ready now
      assert.equal(p.gappedCount, 1);
      clock.now += 600;
      assert.deepEqual(label(p.select(10)), ['a0', 'a1']);
      assert.deepEqual(drops, ['b1:gapped_tx_expired']);
      assert.equal(p.size, 2);
    });

    it('a full pool: a ready tx evicts a gapped one, a gapped tx is refused', () => {
      const { p, drops } = policed({ txsMax: 3, gappedTxsMax: 2 });
      assert.equal(p.add(pending('a', 0), 1), undefined);
      assert.equal(p.add(pending('g', 3), 1), undefined);
      assert.equal(p.add(pending('g', 4), 1), undefined);
      assert.equal(p.add(pending('h', 1), 1)?.code, 'mempool_full');
      assert.equal(p.check(pending('b', 0)), undefined, 'room can be made');
      assert.equal(p.add(pending('b', 0), 2), undefined);
      assert.deepEqual(drops, ['g4:gapped_tx_evicted']);
      assert.deepEqual(label(p.select(10)), ['a0', 'b0']);
    });

    it('the system lane: past a full pool, selected first, bounded on its own', () => {
      const { p, commit } = policed({ txsMax: 2, systemTxsMax: 3 });
      assert.equal(p.add(pending('a', 0), 1), undefined);
      assert.equal(p.add(pending('a', 1), 1), undefined);
      assert.equal(p.check(pending('b', 0))?.code, 'mempool_full');
      for (const nonce of [0, 2, 1]) assert.equal(p.add(pending('op', nonce), 2), undefined);
      // systemTxsMax bounds the lane's window past the committed nonce as well as its count.
      assert.equal(p.check(pending('op', 3))?.code, 'nonce_too_high');
      assert.deepEqual(label(p.select(2)), ['op0', 'op1']);
      const block = p.select(10);
      assert.deepEqual(label(block), ['op0', 'op1', 'op2', 'a0', 'a1']);
      commit(block);
      assert.equal(p.size, 0);
      assert.equal(p.hasReady(), false);
    });

    it('precheck, before any signature: pooled duplicates, gapped txs that cannot fit, the gapped budget', () => {
      const { p } = policed({ gappedPerSenderMax: 1, gappedAdmissionsPerSecondMax: 2 });
      assert.equal(p.add(pending('a', 0), 1), undefined);
      assert.equal(p.precheck([pending('a', 0)])[0]?.code, 'duplicate_tx');
      assert.equal(
        p.precheck([pending('a', 1)])[0],
        undefined,
        'ready from the run: no budget spent',
      );
      assert.equal(p.precheck([pending('b', 2)])[0], undefined);
      assert.equal(p.add(pending('b', 2), 2), undefined);
      assert.equal(p.precheck([pending('b', 3)])[0]?.code, 'sender_gap_limit');
      assert.equal(p.precheck([pending('c', 3)])[0], undefined);
      assert.equal(p.precheck([pending('d', 3)])[0]?.code, 'gapped_rate_limited');
    });

    it('sender_rate_limited at submission only; copies from the stream are pooled whatever the rate', () => {
      const { p, clock } = policed({ senderTxsPerSecondMax: 1 });
      assert.equal(p.check(pending('a', 0)), undefined);
      assert.equal(p.check(pending('a', 1))?.code, 'sender_rate_limited');
      assert.equal(p.precheck([pending('a', 1)])[0]?.code, 'sender_rate_limited');
      for (const nonce of [0, 1, 2]) assert.equal(p.add(pending('a', nonce), 1), undefined);
      assert.equal(p.check(pending('op', 0)), undefined, 'the system lane is not rate limited');
      clock.now += 1_000;
      assert.equal(p.check(pending('a', 3)), undefined);
    });

    it('never exceeds its bounds, never drops a ready tx, and selects every ready one (property)', () => {
      const limits = {
        txsMax: 10,
        perSenderMax: 8,
        gappedTxsMax: 4,
        gappedPerSenderMax: 2,
        gappedExpiryMs: 50,
        systemTxsMax: 4,
      };
      const op = fc.oneof(
        {
          weight: 6,
          arbitrary: fc.record({ kind: fc.constant('honest' as const), who: fc.nat(3) }),
        },
        {
          weight: 6,
          arbitrary: fc.record({
            kind: fc.constant('flood' as const),
            who: fc.nat(9),
            ahead: fc.integer({ min: 1, max: 7 }),
          }),
        },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('system' as const) }) },
        {
          weight: 2,
          arbitrary: fc.record({ kind: fc.constant('block' as const), size: fc.nat(3) }),
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
          const p = new TxPool((sender) => committed.get(sender) ?? 0, limits, {
            now: () => now,
            isSystemSender: (sender) => sender === 'op',
            onDrop: (d) => dropped.push(d),
          });
          const sent = new Map<string, number>();
          const admittedReady = new Set<string>();
          ops.forEach((o, seq) => {
            if (o.kind === 'honest' || o.kind === 'system') {
              const sender = o.kind === 'system' ? 'op' : `h${o.who}`;
              const nonce = sent.get(sender) ?? 0;
              const tx = pending(sender, nonce);
              const gappedBefore = p.gappedCount;
              const result = p.add(tx, seq);
              if (result === undefined) {
                sent.set(sender, nonce + 1);
                admittedReady.add(tx.hash);
              } else if (o.kind === 'system') {
                // Its own bound only (systemTxsMax counts and windows the lane alike).
                assert.ok(
                  ['sender_queue_full', 'nonce_too_high'].includes(result.code),
                  result.code,
                );
                assert.equal(p.size - p.userCount, limits.systemTxsMax);
              } else if (result.code === 'mempool_full') {
                assert.equal(gappedBefore, 0, 'a ready tx is refused only with no gapped tx');
              } else {
                // perSenderMax past the committed nonce: the window and the queue are one bound.
                assert.ok(
                  ['sender_queue_full', 'nonce_too_high'].includes(result.code),
                  result.code,
                );
              }
            } else if (o.kind === 'flood') {
              const sender = `f${o.who}`;
              p.add(pending(sender, (committed.get(sender) ?? 0) + o.ahead), seq);
            } else if (o.kind === 'block') {
              const block = p.select(o.size);
              // A block runs in nonce order from each sender's committed nonce.
              for (const d of block) {
                assert.equal(d.tx.nonce, committed.get(d.tx.sender) ?? 0);
                committed.set(d.tx.sender, d.tx.nonce + 1);
                admittedReady.delete(d.hash);
              }
              p.settle(block);
            } else {
              now += o.ms;
            }
            assert.ok(p.userCount <= limits.txsMax, 'txsMax');
            assert.ok(p.gappedCount <= limits.gappedTxsMax, 'gappedTxsMax');
            assert.ok(p.size - p.userCount <= limits.systemTxsMax, 'systemTxsMax');
            assert.equal(p.hasReady(), p.select(1).length > 0, 'hasReady agrees with select');
            for (const d of dropped) {
              assert.ok(d.tx.sender.startsWith('f'), `ready ${d.tx.sender}${d.tx.nonce} dropped`);
            }
          });
          // What was admitted ready all leaves, in order, block after block.
          for (let block = p.select(5); block.length > 0; block = p.select(5)) {
            for (const d of block) {
              assert.equal(d.tx.nonce, committed.get(d.tx.sender) ?? 0);
              committed.set(d.tx.sender, d.tx.nonce + 1);
              admittedReady.delete(d.hash);
            }
            p.settle(block);
          }
          assert.equal(admittedReady.size, 0, 'every admitted ready tx was selected');
        }),
        { numRuns: 400 },
      );
    });
  });
});
