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
} from '../../chain/index.js';
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
});
