import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import {
  Chain,
  decodeTx,
  defineTx,
  isRejection,
  ledgerModule,
  ModuleRegistry,
  signBlockHeader,
  signTx,
  type ChainModule,
  type CommittedBlock,
  type DecodedTx,
  type Genesis,
  type Rejection,
} from '../chain/index.js';
import { addressFromPublicKey, keyPairFromSecret } from '../crypto/index.js';
import { SqliteBlockStore } from '../state/index.js';
import { TestBlockSigner } from '../../test/support/block-signer.js';
import { SoloConsensus, type NonceRunway, type SoloOptions } from './solo.js';

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-solo-'));
after(() => fs.rmSync(directory, { recursive: true, force: true }));
let files = 0;

function account(seed: number) {
  const pair = keyPairFromSecret(new Uint8Array(32).fill(seed));
  return { ...pair, address: addressFromPublicKey(pair.publicKey) };
}
const alice = account(1);
const bob = account(2);
const producer = new TestBlockSigner(new Uint8Array(32).fill(99), 'coffer-solo');
const chainId = 'coffer-solo';
const genesisTime = 1_700_000_000_000;
const genesis: Genesis = {
  chainId,
  time: genesisTime,
  producer: producer.producer,
  assets: [{ symbol: 'USD', decimals: 2, issuer: alice.address }],
  balances: [{ address: alice.address, asset: 'USD', amount: '1000' }],
};

/** A tx type whose handler fails an assertion: a bug in the state machine. */
const brokenModule: ChainModule = {
  name: 'broken',
  txs: {
    'broken.run': defineTx<Record<string, never>>({
      parse: () => ({ value: {} }),
      execute: () => assert.fail('broken handler'),
    }),
  },
};
const registry = new ModuleRegistry([ledgerModule, brokenModule]);

function transfer(nonce: number, amount = '1', type = 'ledger.transfer'): DecodedTx {
  const payload = type === 'ledger.transfer' ? { to: bob.address, asset: 'USD', amount } : {};
  const tx = signTx({ chainId, type, sender: alice.address, nonce, payload }, alice.secretKey);
  const decoded = decodeTx(tx, chainId, registry.parserFor);
  if (isRejection(decoded)) assert.fail(decoded.code);
  return decoded;
}

function solo(options: Partial<SoloOptions> = {}) {
  files += 1;
  const store = new SqliteBlockStore(path.join(directory, `solo-${files}.db`));
  Chain.initialize(store, genesis, producer);
  const chain = new Chain(store, registry);
  let clock = genesisTime;
  const errors: unknown[] = [];
  const consensus = new SoloConsensus(chain, {
    blockIntervalMs: 60_000,
    blockTxsMax: 100,
    idleBlockIntervalMs: 0,
    mempool: { txsMax: 100, perSenderMax: 10 },
    producer,
    now: () => (clock += 1000),
    onError: (error) => errors.push(error),
    ...options,
  });
  const committed: CommittedBlock[] = [];
  consensus.onCommit((block) => committed.push(block));
  return { store, chain, consensus, committed, errors, clockNow: () => clock };
}

function nextCommit(consensus: SoloConsensus): Promise<CommittedBlock> {
  return new Promise((resolve) => consensus.onCommit(resolve));
}

describe('SoloConsensus', () => {
  it('orders out-of-order submissions by nonce and tells listeners about each block', () => {
    const { consensus, committed, chain, store, clockNow } = solo();
    const txs = [transfer(2), transfer(0), transfer(1)];
    assert.deepEqual(consensus.submit(txs), [undefined, undefined, undefined]);
    assert.equal(consensus.pendingCount(), 3);
    assert.ok(consensus.isPending(txs[0]!.hash));

    const block = consensus.produceBlock()!;
    assert.deepEqual(
      block.txs.map((d) => d.tx.nonce),
      [0, 1, 2],
    );
    assert.deepEqual(
      block.receipts.map((r) => r.status),
      ['ok', 'ok', 'ok'],
    );
    assert.deepEqual(committed, [block]);
    // The mempool reads the same clock (for gapped txs' expiry): the time is one it handed out.
    const { time } = block.block.header;
    assert.ok(
      time > genesisTime && time <= clockNow() && (time - genesisTime) % 1000 === 0,
      'the block time comes from the injected clock',
    );
    assert.equal(consensus.pendingCount(), 0);
    assert.equal(consensus.isPending(txs[0]!.hash), false);
    assert.equal(chain.nonceOf(alice.address), 3);
    assert.equal(consensus.submit([transfer(1, '2')])[0]?.code, 'nonce_too_low');
    store.close();
  });

  it('caps a block at blockTxsMax and leaves the rest for the next', () => {
    const { consensus, store } = solo({ blockTxsMax: 2 });
    consensus.submit([0, 1, 2, 3, 4].map((n) => transfer(n)));
    assert.deepEqual(
      consensus.produceBlock()!.txs.map((d) => d.tx.nonce),
      [0, 1],
    );
    assert.deepEqual(
      consensus.produceBlock()!.txs.map((d) => d.tx.nonce),
      [2, 3],
    );
    assert.deepEqual(
      consensus.produceBlock()!.txs.map((d) => d.tx.nonce),
      [4],
    );
    assert.equal(consensus.pendingCount(), 0);
    assert.equal(store.lastHeight(), 3);
    store.close();
  });

  it('cuts a block at once when blockTxsMax txs are ready, without waiting for the interval', async () => {
    const { consensus, store } = solo({ blockTxsMax: 2 });
    consensus.start();
    try {
      const commit = nextCommit(consensus);
      consensus.submit([transfer(0), transfer(1)]);
      assert.deepEqual(
        (await commit).txs.map((d) => d.tx.nonce),
        [0, 1],
      );
    } finally {
      await consensus.stop();
      store.close();
    }
  });

  it('cuts blocks on its interval while txs are ready, and idle blocks when asked', async () => {
    const { consensus, store } = solo({ blockIntervalMs: 5, idleBlockIntervalMs: 1 });
    consensus.start();
    try {
      const commit = nextCommit(consensus);
      consensus.submit([transfer(0)]);
      assert.deepEqual(
        (await commit).txs.map((d) => d.tx.nonce),
        [0],
      );
      const idle = await nextCommit(consensus);
      assert.deepEqual(idle.txs, []);
      assert.ok(idle.block.header.height >= 2);
    } finally {
      await consensus.stop();
      store.close();
    }
  });

  it('stops producing and reports the error when a block breaks an invariant', async () => {
    const { consensus, store, errors, committed } = solo({ blockTxsMax: 1, blockIntervalMs: 5 });
    consensus.start();
    try {
      consensus.submit([transfer(0, '1', 'broken.run')]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(errors.length, 1);
      assert.ok(errors[0] instanceof assert.AssertionError);
      assert.equal(store.lastHeight(), 0, 'nothing was committed');
      consensus.submit([transfer(1)]);
      await new Promise((resolve) => setTimeout(resolve, 30));
      assert.equal(store.lastHeight(), 0, 'no block after the failure');
      assert.deepEqual(committed, []);
    } finally {
      await consensus.stop();
      store.close();
    }
  });

  describe('the nonce reserve: the last committed height only for the block that renews', () => {
    /** Bob (no funds) is a user; Alice is the system sender, her transfer of '1' the "renewal". */
    function bobTransfer(nonce: number): DecodedTx {
      const tx = signTx(
        {
          chainId,
          type: 'ledger.transfer',
          sender: bob.address,
          nonce,
          payload: { to: alice.address, asset: 'USD', amount: '1' },
        },
        bob.secretKey,
      );
      const decoded = decodeTx(tx, chainId, registry.parserFor);
      if (isRejection(decoded)) assert.fail(decoded.code);
      return decoded;
    }

    function reserved() {
      const runway = { end: 3 }; // committed heights 1 and 2; height 2 is the reserve
      const nonceRunway: NonceRunway = {
        heightsLeft: (height) => Math.max(0, runway.end - height),
        reserveHeights: 1,
        renewalLength: (txs) => txs.findIndex((d) => d.tx.sender === alice.address) + 1,
        renews: (result) => {
          const at = result.txs.findIndex((d) => d.tx.sender === alice.address);
          const status = at < 0 ? 'nonce_too_low' : result.receipts[at]!.status;
          return status === 'ok' ? undefined : { code: status, message: status };
        },
      };
      const context = solo({
        isSystemSender: (sender) => sender === alice.address,
        nonceRunway,
        blockIntervalMs: 5,
        blockTxsMax: 5, // fewer than the user txs the timer test submits
      });
      const drops: string[] = [];
      context.consensus.onDropped((hash, reason: Rejection) =>
        drops.push(`${hash}:${reason.code}`),
      );
      return { ...context, runway, drops };
    }

    it('waits at the reserved height until a renewal is ready, then cuts it alone', () => {
      const { consensus, chain, runway, store } = reserved();
      consensus.submit([bobTransfer(0)]);
      assert.deepEqual(
        consensus.produceBlock()!.txs.map((d) => d.tx.sender),
        [bob.address],
      );
      consensus.submit([bobTransfer(1)]);
      assert.equal(consensus.produceBlock(), undefined, 'height 2 is kept for the renewal');
      assert.equal(chain.height(), 1);
      const renewal = transfer(0);
      consensus.submit([renewal]);
      const block = consensus.produceBlock()!;
      assert.equal(block.block.header.height, 2);
      assert.deepEqual(
        block.txs.map((d) => d.hash),
        [renewal.hash],
        'the renewal block holds the system lane up to the renewal, no user tx',
      );
      runway.end = 20; // the renewal committed the next range
      assert.deepEqual(
        consensus.produceBlock()!.txs.map((d) => d.tx.sender),
        [bob.address],
      );
      store.close();
    });

    it('never signs the reserved height on a block whose renewal fails; drops the renewal and says why', () => {
      const { consensus, chain, drops, store } = reserved();
      consensus.produceBlock(); // height 1
      const failing = transfer(0, '5000'); // Alice holds 1000: insufficient_funds
      const after = transfer(1);
      consensus.submit([failing, after]);
      assert.equal(consensus.produceBlock(), undefined);
      assert.equal(chain.height(), 1, 'the reserved height is still unsigned');
      assert.deepEqual(drops, [
        `${failing.hash}:insufficient_funds`,
        `${after.hash}:insufficient_funds`,
      ]);
      assert.equal(consensus.pendingCount(), 0);
      // The node tries again with a renewal that works.
      const renewal = transfer(0, '1');
      assert.equal(consensus.submit([renewal])[0], undefined);
      assert.equal(consensus.produceBlock()!.block.header.height, 2);
      store.close();
    });

    it('the timer leaves a waiting reserve idle instead of spinning on ready user txs', async () => {
      const { consensus, chain, store } = reserved();
      consensus.produceBlock();
      consensus.start();
      try {
        consensus.submit(Array.from({ length: 10 }, (_, n) => bobTransfer(n)));
        // More than blockTxsMax are ready, yet no block can be cut: the loop must stay idle.
        const start = performance.eventLoopUtilization();
        await new Promise((resolve) => setTimeout(resolve, 100));
        const busy = performance.eventLoopUtilization(start).utilization;
        assert.ok(busy < 0.5, `the event loop was busy ${busy.toFixed(2)} of the time`);
        assert.equal(chain.height(), 1);
        consensus.submit([transfer(0)]);
        const committed = await nextCommit(consensus);
        assert.equal(committed.block.header.height, 2);
      } finally {
        await consensus.stop();
        store.close();
      }
    });
  });
});

describe('SoloConsensus on a store with a writer thread (the pipelined commit)', () => {
  function pipelined(options: Partial<SoloOptions> = {}) {
    const made = solo({ blockIntervalMs: 5, blockTxsMax: 3, ...options });
    made.store.startWriter();
    return made;
  }

  it('executes the next block on the one being stored and announces each once it is durable', async () => {
    const { consensus, chain, store, committed, errors } = pipelined();
    const durableAtAnnounce: number[] = [];
    consensus.onCommit((block) => durableAtAnnounce.push(block.block.header.height));
    // Listeners hear of a block only when the store has it: every announced height is readable.
    consensus.onCommit((block) => assert.ok(store.getBlock(block.block.header.height)));
    consensus.start();
    try {
      consensus.submit([0, 1, 2, 3, 4, 5, 6, 7, 8].map((n) => transfer(n)));
      const deadline = Date.now() + 20_000;
      while (committed.flatMap((b) => b.txs).length < 9 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } finally {
      await consensus.stop();
    }
    assert.deepEqual(errors, []);
    // Blocks of three, in order, each announced once, after the one below it.
    assert.deepEqual(
      committed.map((b) => b.txs.map((d) => d.tx.nonce)),
      [
        [0, 1, 2],
        [3, 4, 5],
        [6, 7, 8],
      ],
    );
    assert.deepEqual(durableAtAnnounce, [1, 2, 3]);
    assert.equal(chain.height(), 3);
    assert.equal(chain.tip(), chain.latest());
    assert.equal(chain.nonceOf(alice.address), 9);
    assert.equal(store.lastHeight(), 3);
    store.close();
  });

  it('keeps a block being stored out of reach until durable; its txs stay pending meanwhile', () => {
    const { consensus, chain, store, committed } = pipelined();
    const first = [transfer(0), transfer(1)];
    consensus.submit(first);
    // produceBlock returns durable; the chain's own pipelined step is what the timer uses.
    const result = chain.execute(first, genesisTime + 10_000);
    const header = chain.nextHeader(result, producer.producer);
    const block = signBlockHeader(header, producer);
    chain.commitLater(block, result);
    // Not announced yet (the writer answers by message, and this test has not yielded): the
    // chain builds on it, its head is the block below, and its txs are pending, not unknown.
    assert.equal(chain.tip(), block);
    assert.equal(chain.height(), 0);
    assert.equal(chain.nonceOf(alice.address), 2, 'the next block sees the pending writes');
    assert.equal(consensus.isPending(first[0]!.hash), true);
    const next = chain.execute([transfer(2)], genesisTime + 20_000);
    assert.deepEqual(
      next.receipts.map((r) => r.status),
      ['ok'],
    );
    chain.flush();
    assert.equal(chain.height(), 1);
    assert.equal(chain.latest(), block);
    assert.ok(store.getBlock(1));
    assert.deepEqual(
      committed.map((b) => b.block.hash),
      [block.hash],
    );
    store.close();
  });
});
