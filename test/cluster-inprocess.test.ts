// A cluster of three validators in one process, on one real nats-server: what every node decides
// from the block stream alone. (test/cluster.test.ts runs node processes on three servers.)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import {
  decodeTx,
  isRejection,
  signBlockHeader,
  signTx,
  type BlockHeader,
  type DecodedTx,
} from '../src/chain/index.js';
import { clusterNames } from '../src/consensus/index.js';
import { ledgerKeys } from '../src/ledger/index.js';
import {
  CofferNode,
  initCluster,
  parseNodeConfig,
  type ClusterInitResult,
} from '../src/node/index.js';
import { TestBlockSigner } from './support/block-signer.js';
import { NatsCluster } from './support/nats.js';

const chainId = 'inproc';
const names = clusterNames(chainId);

async function until(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('a cluster in one process', { timeout: 120_000 }, () => {
  let nats: NatsCluster;
  let dir: string;
  let cluster: ClusterInitResult;
  let nodes: CofferNode[] = [];
  let nc: NatsConnection;
  let nonce = 0;

  function transfer(amount: string, memo?: string) {
    const dev = cluster.devAccount;
    return signTx(
      {
        chainId,
        type: 'ledger.transfer',
        sender: dev.address,
        nonce: nonce++,
        payload: { to: cluster.validators[0]!.operator, asset: 'USD', amount },
        ...(memo === undefined ? {} : { memo }),
      },
      dev.secretKey,
    );
  }

  function agree(height: number): void {
    for (let h = 1; h <= height; h++) {
      const hashes = nodes.map((n) => n.store.getBlock(h)?.hash);
      assert.equal(new Set(hashes).size, 1, `height ${h}: ${hashes.join(' ')}`);
    }
  }

  /**
   * A block by `liar` (a registered producer, its own key and committed nonce) on the quiet head,
   * its roots from executing `txs` at `time` unless `header` says otherwise.
   */
  async function liarsBlock(
    liar: CofferNode,
    txs: DecodedTx[],
    time: (headTime: number) => number,
    header: Partial<BlockHeader> = {},
  ) {
    await until('a quiet head', () => nodes.every((n) => n.chain.height() === liar.chain.height()));
    const head = liar.chain.latest();
    const at = time(head.header.time);
    const result = liar.chain.execute(txs, at, false);
    const full: BlockHeader = {
      ...head.header,
      height: head.header.height + 1,
      prevHash: head.hash,
      time: at,
      txCount: result.txs.length,
      txRoot: result.txRoot,
      receiptRoot: result.receiptRoot,
      stateRoot: result.stateRoot,
      producer: liar.signer.producer,
      ...header,
    };
    return signBlockHeader(full, liar.signer);
  }

  /** Publishes a block message straight to the block stream (no guard), then commits one tx. */
  async function publishThenCommit(message: unknown) {
    await jetstream(nc).publish(
      names.blockSubject,
      new TextEncoder().encode(JSON.stringify(message)),
    );
    const [after] = await nodes[0]!.submit([transfer('2')], true);
    assert.equal(after?.status, 'ok');
    await until('every node final past it', () =>
      nodes.every((n) => n.consensus.finalizedHeight >= after.height!),
    );
    agree(after.height!);
    return after.height!;
  }

  before(async () => {
    nats = await NatsCluster.start({ servers: 1 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-inproc-'));
    cluster = initCluster({ dir: path.join(dir, 'c'), validators: 3, chainId, now: Date.now() });
    for (const validator of cluster.validators) {
      const config = parseNodeConfig(
        {
          dataDir: validator.dataDir,
          port: 0,
          logLevel: 'silent',
          cluster: nats.urls.join(','),
          validator: validator.name,
          producerTimeoutMs: 300,
          idleBlockIntervalMs: 200,
          blockIntervalMs: 20,
          verifyWorkers: 1,
          commitWaitMs: 4_000,
          mempoolPerSenderMax: 10_000,
        },
        {},
      );
      nodes.push(await CofferNode.open(config));
    }
    await Promise.all(nodes.map((n) => n.startProducing()));
    nc = await connect({ servers: nats.urls });
  });

  after(async () => {
    await nc?.close();
    for (const node of nodes) await node.close();
    nodes = [];
    await nats?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('txs submitted to each node commit once, in one order, and become final everywhere', async () => {
    const txs = Array.from({ length: 30 }, (_, i) => transfer(String(i + 1)));
    const results = await Promise.all(txs.map((tx, i) => nodes[i % 3]!.submit([tx], true)));
    for (const [result] of results) assert.equal(result?.status, 'ok', JSON.stringify(result));
    const top = Math.max(...results.map(([r]) => r!.height!));
    await until('every node at the top height, final', () =>
      nodes.every((n) => n.chain.height() >= top && n.consensus.finalizedHeight >= top),
    );
    agree(top);
    const operator = cluster.validators[0]!.operator;
    const accounts = nodes.map((n) => n.store.get(ledgerKeys.account(operator)));
    assert.equal(new Set(accounts).size, 1);
    const { balances } = JSON.parse(accounts[0]!) as { balances: Record<string, string> };
    // Funded with its bond (all in escrow), then 1 + 2 + ... + 30 cents.
    assert.equal(balances.USD, String(465));
  });

  it('skips, on every node alike, stream messages that are not a valid next block', async () => {
    const js = jetstream(nc);
    const head = nodes[0]!.chain.latest();
    // Junk, a block from a producer that is not registered, and one that does not extend the head.
    const outsider = new TestBlockSigner(new Uint8Array(32).fill(42), chainId);
    const header: BlockHeader = {
      ...head.header,
      height: head.header.height + 1,
      prevHash: head.hash,
      producer: outsider.producer,
    };
    const forged = signBlockHeader(header, outsider);
    const stale = { ...head, header: { ...head.header } };
    const next = head.header.height + 1;
    for (const body of [
      'not json',
      JSON.stringify({ block: forged, txs: [] }),
      JSON.stringify({ block: stale, txs: [] }),
      // No signature needed to send this: it must not stop anyone (1e999 parses as Infinity).
      `{"block":{"header":{"chainId":"${chainId}","height":${next},"prevHash":"${head.hash}","time":1e999},"hash":"x","signature":{}},"hashes":[],"txs":[]}`,
      JSON.stringify({
        block: { ...forged, header: { ...forged.header, txRoot: { deep: [1] } } },
        hashes: [],
        txs: [],
      }),
    ]) {
      await js.publish(names.blockSubject, new TextEncoder().encode(body));
    }
    const [result] = await nodes[1]!.submit([transfer('7')], true);
    assert.equal(result?.status, 'ok');
    await until('every node past the junk, final', () =>
      nodes.every(
        (n) => n.chain.height() >= result.height! && n.consensus.finalizedHeight >= result.height!,
      ),
    );
    agree(result.height!);
    for (const node of nodes) {
      assert.equal(node.healthy, true);
      const producers = [];
      for (let h = head.header.height + 1; h <= node.chain.height(); h++) {
        producers.push((JSON.parse(node.store.getBlock(h)!.header) as BlockHeader).producer);
      }
      assert.ok(!producers.includes(outsider.producer));
    }
  });

  it("skips alike a registered producer's block whose state root is wrong, and goes on", async () => {
    // Valid but for its state root.
    const forged = await liarsBlock(nodes[2]!, [], (t) => t + 1, { stateRoot: 'ab'.repeat(32) });
    const height = await publishThenCommit({ block: forged, hashes: [], txs: [] });
    assert.ok(height >= forged.header.height);
    for (const node of nodes) {
      assert.equal(node.healthy, true, node.faultMessage());
      assert.notEqual(node.store.getBlock(forged.header.height)!.hash, forged.hash);
    }
  });

  it('skips alike a validly signed block that moves time more than ten minutes', async () => {
    const day = 24 * 60 * 60 * 1000;
    const ahead = await liarsBlock(nodes[1]!, [], (t) => t + day);
    await publishThenCommit({ block: ahead, hashes: [], txs: [] });
    for (const node of nodes) {
      assert.notEqual(node.store.getBlock(ahead.header.height)!.hash, ahead.hash);
      assert.ok(node.chain.latest().header.time < ahead.header.time - 60 * 60 * 1000);
    }
  });

  it('skips alike a block carrying a held tx with another signature (the hash leaves it out)', async () => {
    // Every node holds T as one it published itself (checked then), and no producer includes it.
    const dev = cluster.devAccount;
    // The next nonce, not taken from the counter: the transfer after this test uses it instead.
    const tx = signTx(
      {
        chainId,
        type: 'ledger.transfer',
        sender: dev.address,
        nonce,
        payload: { to: cluster.validators[0]!.operator, asset: 'USD', amount: '5' },
      },
      dev.secretKey,
    );
    const decoded = decodeTx(tx, chainId, nodes[0]!.chain.registry.parserFor);
    assert.ok(!isRejection(decoded));
    const held = (node: CofferNode) =>
      (node.consensus as unknown as { published: Map<string, DecodedTx> }).published;
    for (const node of nodes) held(node).set(decoded.hash, decoded);
    try {
      const block = await liarsBlock(nodes[2]!, [decoded], (t) => t + 1);
      const badSignature = (tx.signature.startsWith('0') ? '1' : '0') + tx.signature.slice(1);
      await publishThenCommit({
        block,
        hashes: [decoded.hash],
        txs: [{ ...tx, signature: badSignature }],
      });
      for (const node of nodes) {
        assert.equal(node.healthy, true, node.faultMessage());
        assert.notEqual(node.store.getBlock(block.header.height)!.hash, block.hash);
      }
    } finally {
      for (const node of nodes) held(node).delete(decoded.hash);
    }
  });

  it('cuts blocks to what a NATS message holds (6,000 txs in one batch, blocks of at most 1 MB)', async () => {
    // A memo of 80 euro signs: 80 characters, 240 bytes (the budget counts bytes).
    const batch = Array.from({ length: 6_000 }, () => transfer('1', '€'.repeat(80)));
    // Not waited for per tx (a loaded machine may take longer than commitWaitMs here).
    const results = await nodes[0]!.submit(batch, false);
    assert.deepEqual([...new Set(results.map((r) => r.status ?? r.error?.code))], ['pending']);
    const hashes = results.map((r) => r.hash!);
    await until(
      'all 6,000 committed on every node',
      () => nodes.every((n) => n.store.getTx(hashes.at(-1)!) !== undefined),
      60_000,
    );
    const committed = hashes.map((hash) => nodes[0]!.store.getTx(hash));
    const statuses = committed.map((tx) => (JSON.parse(tx!.receipt) as { status: string }).status);
    assert.deepEqual([...new Set(statuses)], ['ok']);
    const heights = [...new Set(committed.map((tx) => tx!.height))];
    assert.ok(
      heights.length >= 3,
      `6,000 txs of ~650 bytes fit in no fewer than 3 blocks, got ${heights.length}`,
    );
    await until('every node at the top', () =>
      nodes.every((n) => n.chain.height() >= Math.max(...heights)),
    );
    agree(Math.max(...heights));
  });

  it('answers wait=final once a quorum attested, and tells final_timeout when one cannot form', async () => {
    const heard: number[] = [];
    const unsubscribe = nodes[0]!.hub.subscribe({
      filter: { types: ['final'] },
      send: (message) => {
        if (message.kind === 'final') heard.push(message.height);
      },
    });
    const [final] = await nodes[2]!.submit([transfer('3')], 'final');
    assert.equal(final?.status, 'ok');
    assert.equal(final?.final, true);
    assert.ok(nodes[2]!.consensus.finalizedHeight >= final.height!);
    await until('the final event on node 1', () => heard.some((h) => h >= final.height!));
    unsubscribe();
    // With one of three validators gone, more than two thirds cannot attest: blocks go on
    // (its turns are skipped after the producer timeout), finality waits.
    const gone = nodes.pop()!;
    await gone.close();
    const [late] = await nodes[0]!.submit([transfer('4')], 'final');
    assert.equal(late?.status, 'ok');
    assert.equal(late?.error?.code, 'final_timeout');
    assert.ok(late.height! > final.height!);
    assert.ok(nodes[0]!.consensus.finalizedHeight < late.height!);
    agree(late.height!);
  });
});
