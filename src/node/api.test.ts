import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import WebSocket from 'ws';

import { fromHex, sha256Hex, toHex, verifyInclusion } from '../crypto/index.js';
import {
  generateKey,
  hashTx,
  importKey,
  signTx,
  txs,
  type SignedTx,
  type SigningKey,
} from '../sdk/index.js';
import {
  genesisWrites,
  verifyBlockSignature,
  type BlockSignature,
  type Genesis,
} from '../chain/index.js';
import { genesisParentRoot, nextStateRoot } from '../state/index.js';
import { nodeModuleRegistry } from './chain-rules.js';
import { parseNodeConfig, type NodeConfig } from './config.js';
import { CofferNode } from './node.js';

// ---- response shapes ----------------------------------------------------------------------

interface ErrorJson {
  code: string;
  message: string;
  field?: string;
}

interface ErrorReply {
  error: ErrorJson;
  hash?: string;
  status?: string;
  height?: number;
  index?: number;
}

interface TxReply {
  hash: string;
  status: string;
  height?: number;
  index?: number;
  error?: ErrorJson;
}

interface BatchReply {
  accepted: number;
  rejected: number;
  results: TxReply[];
}

interface BalanceJson {
  asset: string;
  decimals: number;
  balance: string;
  held: string;
  formatted: { balance: string; held: string };
  frozen: boolean;
}

interface HoldJson {
  id: string;
  payer: string;
  payee: string;
  asset: string;
  amount: string;
  expiresAtHeight: number;
  createdAtHeight: number;
  arbiter?: string;
  condition?: string;
}

interface AccountReply {
  address: string;
  nonce: number;
  balances: BalanceJson[];
  frozen: string[];
  holds: HoldJson[];
}

interface HeaderJson {
  chainId: string;
  height: number;
  prevHash: string;
  time: number;
  txCount: number;
  txRoot: string;
  receiptRoot: string;
  stateRoot: string;
  producer: string;
}

interface BlockReply {
  height: number;
  hash: string;
  header: HeaderJson;
  signature: BlockSignature;
  txCount: number;
  txs?: string[];
}

interface EventJson {
  type: string;
  data: Record<string, unknown>;
}

interface TxDetailReply {
  hash: string;
  height: number;
  index: number;
  tx: SignedTx;
  receipt: { tx: string; status: string; events: EventJson[] };
  block: { hash: string; header: HeaderJson; signature: BlockSignature };
  proof: { leafIndex: number; treeSize: number; path: string[] };
}

interface AssetJson {
  symbol: string;
  decimals: number;
  issuer: string;
  supply: string;
  maxSupply: string | null;
}

interface HubMessageJson {
  kind: 'block' | 'receipt' | 'event' | 'final';
  height: number;
  hash?: string;
  tx?: string | null;
  type?: string;
  sender?: string;
  status?: string;
  data?: Record<string, unknown>;
  error?: ErrorJson;
}

type TxBuild = { type: string; payload: Record<string, unknown> };
type Flags = Partial<Record<keyof NodeConfig, unknown>>;

// ---- a node in a temporary data directory ---------------------------------------------------

interface TestNode {
  node: CofferNode;
  dev: SigningKey;
  chainId: string;
  close(): Promise<void>;
}

async function openNode(flags: Flags = {}): Promise<TestNode> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-api-'));
  const config = parseNodeConfig(
    { dataDir, logLevel: 'silent', blockIntervalMs: 5, idleBlockIntervalMs: 0, ...flags },
    {},
  );
  const node = await CofferNode.open(config);
  return {
    node,
    dev: importKey(toHex(node.init.devAccount!.secretKey)),
    chainId: node.chain.chainId,
    close: async () => {
      await node.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function inject(node: CofferNode, options: InjectOptions): Promise<LightMyRequestResponse> {
  return node.app.inject(options);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function randomHex(bytes: number): string {
  return crypto.randomBytes(bytes).toString('hex');
}

function balanceOf(account: AccountReply, asset: string): bigint {
  return BigInt(account.balances.find((b) => b.asset === asset)?.balance ?? '0');
}

function heldOf(account: AccountReply, asset: string): bigint {
  return BigInt(account.balances.find((b) => b.asset === asset)?.held ?? '0');
}

/** The account JSON without its nonce: what a failed tx must leave untouched. */
function withoutNonce(account: AccountReply): Omit<AccountReply, 'nonce'> {
  const { nonce: _nonce, ...rest } = account;
  return rest;
}

// ---- the main node ----------------------------------------------------------------------------

describe('node API', () => {
  let t: TestNode;
  let node: CofferNode;
  let baseUrl: string;
  let dev: SigningKey;
  const alice = generateKey();
  const bob = generateKey();
  const carol = generateKey();
  const eve = generateKey();

  /** Committed txs that failed, per sender: each spent a nonce and nothing else. */
  const failedCommits = new Map<string, number>();

  before(async () => {
    t = await openNode({ port: 0 });
    node = t.node;
    dev = t.dev;
    // listen() also starts the solo producer; everything but the websocket uses inject().
    baseUrl = await node.listen();
  });

  after(async () => {
    await t.close();
  });

  const get = (url: string) => inject(node, { method: 'GET', url });
  const post = (url: string, payload: unknown) =>
    inject(node, { method: 'POST', url, payload: payload as InjectOptions['payload'] });

  async function account(address: string): Promise<AccountReply> {
    const res = await get(`/v1/accounts/${address}`);
    assert.equal(res.statusCode, 200, res.body);
    return res.json<AccountReply>();
  }

  async function lastHeight(): Promise<number> {
    return (await get('/v1/blocks/latest')).json<BlockReply>().height;
  }

  /** Signs `build` from `key`; the nonce is the account's committed one unless given. */
  async function sign(
    key: SigningKey,
    build: TxBuild,
    extra: { nonce?: number; expiresAt?: number; memo?: string } = {},
  ): Promise<SignedTx> {
    const nonce = extra.nonce ?? (await account(key.address)).nonce;
    return signTx(
      {
        chainId: t.chainId,
        sender: key.address,
        nonce,
        ...build,
        ...(extra.expiresAt === undefined ? {} : { expiresAt: extra.expiresAt }),
        ...(extra.memo === undefined ? {} : { memo: extra.memo }),
      },
      key,
    );
  }

  /** Submits and waits for the commit; the tx must succeed. */
  async function commit(tx: SignedTx): Promise<TxReply> {
    const res = await post('/v1/txs?wait=commit', tx);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<TxReply>();
    assert.equal(body.status, 'ok');
    assert.equal(body.hash, hashTx(tx));
    return body;
  }

  async function send(key: SigningKey, build: TxBuild): Promise<TxReply> {
    return commit(await sign(key, build));
  }

  async function detail(hash: string): Promise<TxDetailReply> {
    const res = await get(`/v1/txs/${hash}`);
    assert.equal(res.statusCode, 200, res.body);
    return res.json<TxDetailReply>();
  }

  /** Polls GET /v1/txs/:hash while it answers 202 pending, until the tx is committed. */
  async function committedDetail(hash: string): Promise<TxDetailReply> {
    for (let attempt = 0; attempt < 400; attempt++) {
      const res = await get(`/v1/txs/${hash}`);
      if (res.statusCode === 200) return res.json<TxDetailReply>();
      assert.equal(res.statusCode, 202, res.body);
      assert.deepEqual(res.json(), { hash, status: 'pending' });
      await sleep(5);
    }
    assert.fail(`tx ${hash} did not commit`);
  }

  /** A tx refused at admission: nothing committed, no nonce spent. */
  async function refused(
    input: unknown,
    status: number,
    code: string,
    field?: string,
  ): Promise<ErrorReply> {
    const res = await post('/v1/txs?wait=commit', input);
    assert.equal(res.statusCode, status, `${code}: ${res.body}`);
    const body = res.json<ErrorReply>();
    assert.equal(body.error.code, code);
    assert.equal(body.error.field, field);
    assert.equal(typeof body.error.message, 'string');
    assert.ok(body.error.message.length > 0);
    assert.equal(body.status, undefined, 'a refused tx has no receipt status');
    assert.equal(body.height, undefined, 'a refused tx has no height');
    return body;
  }

  /** A tx that was included in a block and failed: 422, its receipt says why, its nonce is spent. */
  async function failsInBlock(tx: SignedTx, code: string): Promise<ErrorReply> {
    const res = await post('/v1/txs?wait=commit', tx);
    assert.equal(res.statusCode, 422, `${code}: ${res.body}`);
    const body = res.json<ErrorReply>();
    assert.equal(body.error.code, code);
    assert.equal(body.status, code);
    assert.equal(body.hash, hashTx(tx));
    assert.ok(Number.isInteger(body.height) && body.height! > 0);
    assert.equal(body.index, 0);
    const stored = await detail(body.hash);
    assert.equal(stored.height, body.height);
    assert.equal(stored.receipt.status, code);
    assert.deepEqual(stored.receipt.events, [], 'a failed tx emits no events');
    failedCommits.set(tx.sender, (failedCommits.get(tx.sender) ?? 0) + 1);
    return body;
  }

  // Holds made during setup, used by the rejection tests and settled by the happy paths.
  let plainHold = '';
  let lockedHold = '';
  const preimage = randomHex(32);

  describe('setup through the API', () => {
    it('funds accounts, creates a capped asset, freezes carol and opens two holds', async () => {
      await send(dev, txs.transfer({ to: alice.address, asset: 'USD', amount: '100000' }));
      await send(dev, txs.transfer({ to: bob.address, asset: 'USD', amount: '50000' }));
      await send(dev, txs.transfer({ to: carol.address, asset: 'USD', amount: '30000' }));
      await send(dev, txs.createAsset({ symbol: 'CAP', decimals: 0, maxSupply: '1000' }));
      await send(dev, txs.mint({ symbol: 'CAP', to: alice.address, amount: '900' }));
      await send(dev, txs.freeze({ symbol: 'USD', account: carol.address }));
      const far = (await lastHeight()) + 1000;
      plainHold = (
        await send(
          alice,
          txs.createHold({ to: bob.address, asset: 'USD', amount: '100', expiresAtHeight: far }),
        )
      ).hash;
      lockedHold = (
        await send(
          alice,
          txs.createHold({
            to: bob.address,
            asset: 'USD',
            amount: '200',
            expiresAtHeight: far,
            condition: sha256Hex(fromHex(preimage)),
          }),
        )
      ).hash;

      const a = await account(alice.address);
      assert.equal(balanceOf(a, 'USD'), 100000n - 300n);
      assert.equal(heldOf(a, 'USD'), 300n);
      assert.equal(balanceOf(a, 'CAP'), 900n);
      assert.deepEqual(a.holds.map((h) => h.id).sort(), [plainHold, lockedHold].sort());
      const c = await account(carol.address);
      assert.deepEqual(c.frozen, ['USD']);
      assert.equal(c.balances.find((b) => b.asset === 'USD')?.frozen, true);
    });
  });

  describe('POST /v1/txs', () => {
    it('answers 202 pending without wait, and the tx then commits', async () => {
      const tx = await sign(dev, txs.transfer({ to: eve.address, asset: 'USD', amount: '7' }));
      const res = await post('/v1/txs', tx);
      assert.equal(res.statusCode, 202, res.body);
      assert.deepEqual(res.json(), { hash: hashTx(tx), status: 'pending' });
      const committed = await committedDetail(hashTx(tx));
      assert.equal(committed.receipt.status, 'ok');
      assert.equal(balanceOf(await account(eve.address), 'USD'), 7n);
    });

    it('answers 200 with the receipt status, height and index with ?wait=commit', async () => {
      const tx = await sign(dev, txs.transfer({ to: eve.address, asset: 'USD', amount: '3' }), {
        memo: 'x'.repeat(256),
      });
      const res = await post('/v1/txs?wait=commit', tx);
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json<TxReply>();
      assert.deepEqual(body, {
        hash: hashTx(tx),
        status: 'ok',
        height: await lastHeight(),
        index: 0,
      });
      assert.equal(balanceOf(await account(eve.address), 'USD'), 10n);
    });

    it('answers final: true with ?wait=final (a solo node: every committed block is final)', async () => {
      const tx = await sign(dev, txs.transfer({ to: eve.address, asset: 'USD', amount: '1' }));
      const res = await post('/v1/txs?wait=final', tx);
      assert.equal(res.statusCode, 200, res.body);
      const height = await lastHeight();
      assert.deepEqual(res.json(), {
        hash: hashTx(tx),
        status: 'ok',
        height,
        index: 0,
        final: true,
      });
      const block = (await get(`/v1/blocks/${height}`)).json<{ final: boolean }>();
      assert.equal(block.final, true);
      const transfer = await sign(
        eve,
        txs.transfer({ to: dev.address, asset: 'USD', amount: '1' }),
      );
      assert.equal((await post('/v1/txs?wait=final', transfer)).statusCode, 200);
      assert.equal(balanceOf(await account(eve.address), 'USD'), 10n);
    });

    it('answers 422 for a committed tx that failed, with the receipt status as error.code and hash/height', async () => {
      const before = await account(eve.address);
      const tx = await sign(eve, txs.transfer({ to: bob.address, asset: 'USD', amount: '11' }));
      const body = await failsInBlock(tx, 'insufficient_funds');
      assert.equal(body.height, await lastHeight());
      const after = await account(eve.address);
      assert.equal(after.nonce, before.nonce + 1, 'the failed tx spent its nonce');
      assert.deepEqual(withoutNonce(after), withoutNonce(before));
    });

    it('answers 422 even for codes whose admission status differs (not_issuer is 403 at admission)', async () => {
      await failsInBlock(
        await sign(eve, txs.mint({ symbol: 'USD', to: eve.address, amount: '1' })),
        'not_issuer',
      );
    });

    it('refuses duplicate_tx while the tx is pending and after it committed', async () => {
      const nonce = (await account(dev.address)).nonce;
      // nonce + 1 waits in the mempool until nonce arrives, so it stays pending for certain.
      const later = await sign(dev, txs.transfer({ to: eve.address, asset: 'USD', amount: '2' }), {
        nonce: nonce + 1,
      });
      const first = await post('/v1/txs', later);
      assert.equal(first.statusCode, 202, first.body);
      const pending = await get(`/v1/txs/${hashTx(later)}`);
      assert.equal(pending.statusCode, 202);
      assert.deepEqual(pending.json(), { hash: hashTx(later), status: 'pending' });

      const again = await refused(later, 409, 'duplicate_tx');
      assert.equal(again.hash, hashTx(later));
      // Another tx for the same waiting nonce is a duplicate of that nonce.
      const rival = await sign(dev, txs.transfer({ to: eve.address, asset: 'USD', amount: '99' }), {
        nonce: nonce + 1,
      });
      await refused(rival, 409, 'duplicate_tx', 'nonce');

      await commit(
        await sign(dev, txs.transfer({ to: eve.address, asset: 'USD', amount: '1' }), { nonce }),
      );
      assert.equal((await committedDetail(hashTx(later))).receipt.status, 'ok');

      const committed = await refused(later, 409, 'duplicate_tx');
      assert.equal(committed.hash, hashTx(later));
      assert.equal((await account(dev.address)).nonce, nonce + 2);
      assert.equal(balanceOf(await account(eve.address), 'USD'), 13n);
    });

    it('answers 400 invalid_request for a body that is not an object, bad JSON or a bad wait', async () => {
      const notObject = await post('/v1/txs', [1, 2]);
      assert.equal(notObject.statusCode, 400);
      assert.equal(notObject.json<ErrorReply>().error.code, 'invalid_request');

      const badJson = await inject(node, {
        method: 'POST',
        url: '/v1/txs',
        payload: '{"chainId": ',
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(badJson.statusCode, 400);
      assert.equal(badJson.json<ErrorReply>().error.code, 'invalid_request');

      const badWait = await post(
        '/v1/txs?wait=forever',
        await sign(dev, txs.burn({ symbol: 'USD', amount: '1' })),
      );
      assert.equal(badWait.statusCode, 400);
      assert.deepEqual(
        {
          code: badWait.json<ErrorReply>().error.code,
          field: badWait.json<ErrorReply>().error.field,
        },
        { code: 'invalid_request', field: 'wait' },
      );
    });

    it('answers 413 body_too_large for a body over 64 KiB', async () => {
      const tx = await sign(dev, txs.transfer({ to: eve.address, asset: 'USD', amount: '1' }));
      const res = await post('/v1/txs', { ...tx, memo: 'm'.repeat(70 * 1024) });
      assert.equal(res.statusCode, 413);
      assert.equal(res.json<ErrorReply>().error.code, 'body_too_large');
    });
  });

  describe('POST /v1/txs/batch', () => {
    let batchHashes: string[] = [];

    it('gives each item its own result: ok, refused, and committed-but-failed', async () => {
      const nonce = (await account(dev.address)).nonce;
      const ok1 = await sign(dev, txs.transfer({ to: alice.address, asset: 'USD', amount: '10' }), {
        nonce,
      });
      const ok2 = await sign(dev, txs.transfer({ to: bob.address, asset: 'USD', amount: '20' }), {
        nonce: nonce + 1,
      });
      const tampered = {
        ...(await sign(alice, txs.transfer({ to: bob.address, asset: 'USD', amount: '1' }))),
        payload: { to: bob.address, asset: 'USD', amount: '1000' },
      };
      const poor = await sign(
        eve,
        txs.transfer({ to: bob.address, asset: 'USD', amount: '1000000' }),
      );
      const items = [ok1, { ...ok1, chainId: 'elsewhere' }, tampered, poor, ok2, 42];
      const res = await post('/v1/txs/batch?wait=commit', { txs: items });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json<BatchReply>();
      assert.equal(body.results.length, items.length);
      assert.equal(body.accepted, 3);
      assert.equal(body.rejected, 3);
      const [r0, r1, r2, r3, r4, r5] = body.results;
      assert.deepEqual(Object.keys(r0!).sort(), ['hash', 'height', 'index', 'status']);
      assert.equal(r0!.hash, hashTx(ok1));
      assert.equal(r0!.status, 'ok');
      assert.ok(r0!.height! > 0);
      assert.deepEqual(r1, {
        status: 'rejected',
        error: { code: 'wrong_chain', message: r1!.error!.message, field: 'chainId' },
      });
      assert.equal(r2!.status, 'rejected');
      assert.equal(r2!.hash, hashTx(tampered));
      assert.deepEqual(
        { code: r2!.error!.code, field: r2!.error!.field },
        { code: 'bad_signature', field: 'signature' },
      );
      assert.equal(r3!.hash, hashTx(poor));
      assert.equal(r3!.status, 'insufficient_funds');
      assert.equal(r3!.error, undefined);
      assert.equal(r4!.hash, hashTx(ok2));
      assert.equal(r4!.status, 'ok');
      assert.equal(r5!.status, 'rejected');
      assert.equal(r5!.error!.code, 'invalid_tx');
      assert.equal(r5!.error!.field, undefined);
      failedCommits.set(eve.address, (failedCommits.get(eve.address) ?? 0) + 1);
      // Submitted together, the three admitted txs share one block.
      assert.equal(r0!.height, r3!.height);
      assert.equal(r0!.height, r4!.height);
      batchHashes = [r0!.hash, r3!.hash, r4!.hash];
    });

    it('answers 202-style pending results without wait, and flags a duplicate within the batch', async () => {
      const tx = await sign(dev, txs.transfer({ to: alice.address, asset: 'USD', amount: '1' }));
      const res = await post('/v1/txs/batch', { txs: [tx, tx] });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json<BatchReply>();
      assert.equal(body.accepted, 1);
      assert.equal(body.rejected, 1);
      assert.deepEqual(body.results[0], { hash: hashTx(tx), status: 'pending' });
      assert.equal(body.results[1]!.hash, hashTx(tx));
      assert.equal(body.results[1]!.error!.code, 'duplicate_tx');
      assert.equal((await committedDetail(hashTx(tx))).receipt.status, 'ok');
    });

    it('refuses more than 10,000 txs with 413 batch_too_large', async () => {
      const res = await post('/v1/txs/batch', { txs: new Array<number>(10_001).fill(0) });
      assert.equal(res.statusCode, 413);
      assert.deepEqual(
        { code: res.json<ErrorReply>().error.code, field: res.json<ErrorReply>().error.field },
        { code: 'batch_too_large', field: 'txs' },
      );
    });

    it('refuses with 503 node_busy past the txs being admitted at once, taking none of them', async () => {
      const bound = CofferNode.admissionTxsMax;
      const nonce = (await account(dev.address)).nonce;
      const [t0, t1, t2, t3] = (await Promise.all(
        [0, 1, 2, 3].map((i) =>
          sign(dev, txs.transfer({ to: alice.address, asset: 'USD', amount: '1' }), {
            nonce: nonce + i,
          }),
        ),
      )) as [SignedTx, SignedTx, SignedTx, SignedTx];
      try {
        CofferNode.admissionTxsMax = 3;
        // The first call holds 2 of the 3 while its hashes are computed in the workers.
        const first = node.submit([t0, t1], false);
        const busy = await node.submit([t2, t3], false);
        assert.deepEqual(
          busy.map((r) => r.error?.code),
          ['node_busy', 'node_busy'],
        );
        assert.deepEqual(
          (await first).map((r) => r.status),
          ['pending', 'pending'],
        );
        CofferNode.admissionTxsMax = 1;
        const res = await post('/v1/txs/batch', { txs: [t2, t3] });
        assert.equal(res.statusCode, 503, res.body);
        assert.equal(res.json<ErrorReply>().error.code, 'node_busy');
        CofferNode.admissionTxsMax = 0;
        const busyOne = await post('/v1/txs', t3);
        assert.equal(busyOne.statusCode, 503, busyOne.body);
        assert.equal(busyOne.json<ErrorReply>().error.code, 'node_busy');
        CofferNode.admissionTxsMax = 1;
        const single = await post('/v1/txs', t2);
        assert.equal(single.statusCode, 202, single.body);
        assert.equal((await get(`/v1/txs/${hashTx(t3)}`)).statusCode, 404, 'nothing was taken');
      } finally {
        CofferNode.admissionTxsMax = bound;
      }
      // Sent again once the node has room, the rest is taken.
      const again = await post('/v1/txs/batch', { txs: [t3] });
      assert.equal(again.statusCode, 200, again.body);
      assert.equal(again.json<BatchReply>().accepted, 1);
      assert.equal((await committedDetail(hashTx(t3))).receipt.status, 'ok');
    });

    it('answers 503 node_busy without reading the body while 32 MiB of batch bodies are in flight', async () => {
      const { hostname, port } = new URL(baseUrl);
      // Two clients each start a 16 MiB batch and stall: the node holds their reservations.
      const stalled = [0, 1].map(() => {
        const socket = net.connect(Number(port), hostname);
        socket.on('error', () => {});
        socket.write(
          'POST /v1/txs/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
            `Content-Length: ${16 * 1024 * 1024}\r\n\r\n{"txs":[`,
        );
        return socket;
      });
      const tx = await sign(
        dev,
        txs.transfer({ to: generateKey().address, asset: 'USD', amount: '1' }),
      );
      try {
        // Nothing else in flight meanwhile: the stalled requests reach the node and reserve.
        await sleep(500);
        const busy = await post('/v1/txs/batch', { txs: [tx] });
        assert.equal(busy.statusCode, 503, busy.body);
        assert.equal(busy.json<ErrorReply>().error.code, 'node_busy');
        assert.equal((await get(`/v1/txs/${hashTx(tx)}`)).statusCode, 404, 'nothing was taken');
      } finally {
        for (const socket of stalled) socket.destroy();
      }
      // The clients went away: their reservations are released, and the batch is taken.
      let taken: LightMyRequestResponse | undefined;
      for (let attempt = 0; attempt < 100; attempt++) {
        taken = await post('/v1/txs/batch', { txs: [tx] });
        if (taken.statusCode === 200) break;
        await sleep(20);
      }
      assert.equal(taken!.statusCode, 200, taken!.body);
      assert.equal(taken!.json<BatchReply>().accepted, 1);
    });

    it('refuses a body over 16 MiB with 413 body_too_large', async () => {
      const res = await inject(node, {
        method: 'POST',
        url: '/v1/txs/batch',
        payload: `{"txs":["${'x'.repeat(16 * 1024 * 1024)}"]}`,
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(res.statusCode, 413);
      assert.equal(res.json<ErrorReply>().error.code, 'body_too_large');
    });

    it('answers 400 invalid_request naming txs when it is missing or not an array', async () => {
      for (const payload of [{}, { txs: 5 }, { txs: 'abc' }, { txs: { chainId: 'x' } }]) {
        const res = await post('/v1/txs/batch', payload);
        assert.equal(res.statusCode, 400, JSON.stringify(payload));
        const { error } = res.json<ErrorReply>();
        assert.deepEqual(
          { code: error.code, field: error.field },
          { code: 'invalid_request', field: 'txs' },
        );
      }
    });

    describe('GET /v1/txs/:hash', () => {
      it('returns the tx, its receipt, its block header and a proof that verifies against txRoot', async () => {
        assert.equal(batchHashes.length, 3);
        for (const hash of batchHashes) {
          const body = await detail(hash);
          assert.equal(body.hash, hash);
          assert.equal(body.receipt.tx, hash);
          assert.equal(hashTx(body.tx), hash);
          const block = (await get(`/v1/blocks/${body.height}`)).json<BlockReply>();
          assert.equal(body.block.hash, block.hash);
          assert.deepEqual(body.block.header, block.header);
          assert.deepEqual(body.block.signature, block.signature);
          assert.equal(block.txs![body.index], hash);
          assert.equal(body.proof.leafIndex, body.index);
          assert.equal(body.proof.treeSize, block.txCount);
          assert.ok(body.proof.treeSize >= 3);
          const pathBytes = body.proof.path.map((h) => fromHex(h));
          const root = fromHex(body.block.header.txRoot);
          assert.ok(
            verifyInclusion(
              fromHex(hash),
              body.proof.leafIndex,
              body.proof.treeSize,
              pathBytes,
              root,
            ),
          );
          // The same proof does not verify another leaf.
          assert.ok(
            !verifyInclusion(
              fromHex(randomHex(32)),
              body.proof.leafIndex,
              body.proof.treeSize,
              pathBytes,
              root,
            ),
          );
        }
        assert.equal((await detail(batchHashes[1]!)).receipt.status, 'insufficient_funds');
        assert.deepEqual(
          (await detail(batchHashes[0]!)).receipt.events.map((e) => e.type),
          ['ledger.transferred'],
        );
      });

      it('answers 400 invalid_request for a malformed hash and 404 tx_not_found for an unknown one', async () => {
        for (const bad of ['xyz', 'A'.repeat(64), '0'.repeat(63)]) {
          const res = await get(`/v1/txs/${bad}`);
          assert.equal(res.statusCode, 400, bad);
          assert.deepEqual(res.json<ErrorReply>().error.code, 'invalid_request');
          assert.deepEqual(res.json<ErrorReply>().error.field, 'hash');
        }
        const res = await get(`/v1/txs/${randomHex(32)}`);
        assert.equal(res.statusCode, 404);
        assert.equal(res.json<ErrorReply>().error.code, 'tx_not_found');
        assert.equal(res.json<ErrorReply>().error.field, 'hash');
      });
    });
  });

  describe('rejections', () => {
    const snapshot = new Map<string, AccountReply>();
    let assetsBefore: unknown;
    const people = () => [dev, alice, bob, carol, eve];

    before(async () => {
      for (const key of people()) snapshot.set(key.address, await account(key.address));
      assetsBefore = (await get('/v1/assets')).json();
      failedCommits.clear();
    });

    /** A valid tx from alice to mutate; alice's nonce only moves when a tx commits. */
    const base = () => sign(alice, txs.transfer({ to: bob.address, asset: 'USD', amount: '5' }));

    describe('at admission (stateless, in decodeTx precedence, then signature, then mempool)', () => {
      it('invalid_tx: not a tx object, or a field of the wrong type', async () => {
        const tx = await base();
        await refused({}, 400, 'invalid_tx', 'chainId');
        await refused({ ...tx, chainId: 7 }, 400, 'invalid_tx', 'chainId');
        await refused({ ...tx, memo: 5 }, 400, 'invalid_tx', 'memo');
        const res = await post('/v1/txs/batch', { txs: [42, null, [], 'tx'] });
        const body = res.json<BatchReply>();
        assert.equal(body.rejected, 4);
        for (const result of body.results) {
          assert.deepEqual(result, {
            status: 'rejected',
            error: { code: 'invalid_tx', message: result.error!.message },
          });
        }
      });

      it('unknown_field: at the top level and in the payload', async () => {
        const tx = await base();
        await refused({ ...tx, fee: '1' }, 400, 'unknown_field', 'fee');
        await refused(
          { ...tx, payload: { ...tx.payload, note: 'x' } },
          400,
          'unknown_field',
          'payload.note',
        );
      });

      it('wrong_chain', async () => {
        await refused({ ...(await base()), chainId: 'other-chain' }, 400, 'wrong_chain', 'chainId');
      });

      it('unknown_tx_type: malformed or unregistered', async () => {
        const tx = await base();
        await refused({ ...tx, type: 'transfer' }, 400, 'unknown_tx_type', 'type');
        await refused({ ...tx, type: 'ledger.teleport' }, 400, 'unknown_tx_type', 'type');
        await refused({ ...tx, type: 3 }, 400, 'unknown_tx_type', 'type');
      });

      it('invalid_sender', async () => {
        const tx = await base();
        await refused({ ...tx, sender: 'cof1notanaddress' }, 400, 'invalid_sender', 'sender');
        await refused({ ...tx, sender: tx.sender.toUpperCase() }, 400, 'invalid_sender', 'sender');
      });

      it('invalid_nonce', async () => {
        const tx = await base();
        for (const nonce of [-1, 1.5, '0', 2 ** 53]) {
          await refused({ ...tx, nonce }, 400, 'invalid_nonce', 'nonce');
        }
      });

      it('invalid_expiry (tx expiresAt)', async () => {
        const tx = await base();
        for (const expiresAt of [-1, 1.5, '1']) {
          await refused({ ...tx, expiresAt }, 400, 'invalid_expiry', 'expiresAt');
        }
      });

      it('memo_too_long: over 256 UTF-8 bytes, counted in bytes', async () => {
        await refused(
          await sign(alice, txs.burn({ symbol: 'USD', amount: '1' }), { memo: 'a'.repeat(257) }),
          400,
          'memo_too_long',
          'memo',
        );
        // 129 characters, 258 bytes.
        await refused(
          await sign(alice, txs.burn({ symbol: 'USD', amount: '1' }), { memo: 'é'.repeat(129) }),
          400,
          'memo_too_long',
          'memo',
        );
      });

      it('invalid_payload', async () => {
        const tx = await base();
        for (const payload of [[], 'x', null, 5]) {
          await refused({ ...tx, payload }, 400, 'invalid_payload', 'payload');
        }
      });

      it('tx_too_large: a tx over 16 KiB inside a body under 64 KiB', async () => {
        const tx = await base();
        await refused(
          { ...tx, payload: { ...tx.payload, to: 'x'.repeat(17 * 1024) } },
          413,
          'tx_too_large',
        );
      });

      it('payload rules of each tx type name the payload field', async () => {
        const transfer = (payload: Record<string, unknown>) =>
          sign(alice, {
            type: 'ledger.transfer',
            payload: { to: bob.address, asset: 'USD', amount: '5', ...payload },
          });
        for (const amount of ['0', '-1', '1.5', '01', 5, '1'.repeat(40)]) {
          await refused(await transfer({ amount }), 400, 'invalid_amount', 'payload.amount');
        }
        await refused(await transfer({ asset: 'usd' }), 400, 'invalid_symbol', 'payload.asset');
        await refused(await transfer({ to: 'cof1nope' }), 400, 'invalid_address', 'payload.to');
        await refused(await transfer({ to: undefined }), 400, 'invalid_address', 'payload.to');

        const create = (payload: Record<string, unknown>) =>
          sign(alice, {
            type: 'asset.create',
            payload: { symbol: 'NEW', decimals: 2, ...payload },
          });
        for (const symbol of ['A', 'new', '1AB', 'ABCDEFGHIJKLM']) {
          await refused(await create({ symbol }), 400, 'invalid_symbol', 'payload.symbol');
        }
        for (const decimals of [19, -1, 1.5, '2']) {
          await refused(await create({ decimals }), 400, 'invalid_decimals', 'payload.decimals');
        }
        await refused(
          await create({ maxSupply: '0' }),
          400,
          'invalid_max_supply',
          'payload.maxSupply',
        );

        const hold = (payload: Record<string, unknown>) =>
          sign(alice, {
            type: 'hold.create',
            payload: {
              to: bob.address,
              asset: 'USD',
              amount: '5',
              expiresAtHeight: 1_000_000,
              ...payload,
            },
          });
        await refused(
          await hold({ condition: 'abc' }),
          400,
          'invalid_condition',
          'payload.condition',
        );
        await refused(
          await hold({ condition: 'A'.repeat(64) }),
          400,
          'invalid_condition',
          'payload.condition',
        );
        await refused(
          await hold({ arbiter: 'cof1nope' }),
          400,
          'invalid_address',
          'payload.arbiter',
        );
        for (const expiresAtHeight of [0, -3, 2.5]) {
          await refused(
            await hold({ expiresAtHeight }),
            400,
            'invalid_hold_expiry',
            'payload.expiresAtHeight',
          );
        }
        // A malformed hold id or preimage is refused on arrival, naming the field.
        await refused(
          await sign(bob, txs.postHold({ holdId: 'xyz' })),
          400,
          'invalid_hold_id',
          'payload.holdId',
        );
        await refused(
          await sign(bob, txs.releaseHold({ holdId: lockedHold, preimage: 'zz' })),
          400,
          'invalid_preimage',
          'payload.preimage',
        );
      });

      it('bad_signature (401): malformed, by another key, or a payload tampered with after signing', async () => {
        const tx = await base();
        const malformed = await refused(
          { ...tx, signature: 'ab' },
          401,
          'bad_signature',
          'signature',
        );
        assert.equal(malformed.hash, undefined);
        const tampered = { ...tx, payload: { ...tx.payload, amount: '5000' } };
        const body = await refused(tampered, 401, 'bad_signature', 'signature');
        assert.equal(body.hash, hashTx(tampered));
        const byMallory = signTx({ ...tx, sender: eve.address }, eve);
        await refused({ ...byMallory, sender: alice.address }, 401, 'bad_signature', 'signature');
        assert.equal((await get(`/v1/txs/${hashTx(tampered)}`)).statusCode, 404);
      });

      it("nonce_too_low (409) and nonce_too_high (400) against the sender's next nonce", async () => {
        const next = (await account(dev.address)).nonce;
        assert.ok(next > 0);
        const low = await sign(dev, txs.transfer({ to: bob.address, asset: 'USD', amount: '1' }), {
          nonce: next - 1,
        });
        await refused(low, 409, 'nonce_too_low', 'nonce');
        // The default mempoolPerSenderMax is 1,000: a sender may queue that far ahead.
        const high = await sign(dev, txs.transfer({ to: bob.address, asset: 'USD', amount: '1' }), {
          nonce: next + 1000,
        });
        await refused(high, 400, 'nonce_too_high', 'nonce');
      });
    });

    describe('in the block (committed, 422, nonce spent)', () => {
      it('tx_expired: the API admits an expired tx and the block fails it, by block time', async () => {
        // The API does not read a clock for admission: expiry is judged by the block's time, the
        // one clock every node agrees on. So an already-expired tx is included and fails.
        const tx = await sign(alice, txs.transfer({ to: bob.address, asset: 'USD', amount: '5' }), {
          expiresAt: 1,
        });
        await failsInBlock(tx, 'tx_expired');
      });

      it('insufficient_funds', async () => {
        await failsInBlock(
          await sign(alice, txs.transfer({ to: bob.address, asset: 'USD', amount: '100000000' })),
          'insufficient_funds',
        );
        await failsInBlock(
          await sign(dev, txs.burn({ symbol: 'USD', amount: '100000000' })),
          'insufficient_funds',
        );
        await failsInBlock(
          await sign(
            alice,
            txs.createHold({
              to: bob.address,
              asset: 'USD',
              amount: '100000000',
              expiresAtHeight: (await lastHeight()) + 10,
            }),
          ),
          'insufficient_funds',
        );
      });

      it('asset_exists', async () => {
        await failsInBlock(
          await sign(alice, txs.createAsset({ symbol: 'USD', decimals: 2 })),
          'asset_exists',
        );
      });

      it('asset_not_found', async () => {
        await failsInBlock(
          await sign(alice, txs.transfer({ to: bob.address, asset: 'NOPE', amount: '1' })),
          'asset_not_found',
        );
        await failsInBlock(
          await sign(dev, txs.mint({ symbol: 'NOPE', to: bob.address, amount: '1' })),
          'asset_not_found',
        );
      });

      it('not_issuer', async () => {
        await failsInBlock(
          await sign(alice, txs.mint({ symbol: 'USD', to: alice.address, amount: '1' })),
          'not_issuer',
        );
        await failsInBlock(
          await sign(alice, txs.burn({ symbol: 'CAP', amount: '1' })),
          'not_issuer',
        );
        await failsInBlock(
          await sign(alice, txs.unfreeze({ symbol: 'USD', account: carol.address })),
          'not_issuer',
        );
      });

      it('max_supply_exceeded', async () => {
        await failsInBlock(
          await sign(dev, txs.mint({ symbol: 'CAP', to: alice.address, amount: '101' })),
          'max_supply_exceeded',
        );
      });

      it('accounts_must_be_different', async () => {
        await failsInBlock(
          await sign(alice, txs.transfer({ to: alice.address, asset: 'USD', amount: '1' })),
          'accounts_must_be_different',
        );
        await failsInBlock(
          await sign(
            alice,
            txs.createHold({
              to: alice.address,
              asset: 'USD',
              amount: '1',
              expiresAtHeight: (await lastHeight()) + 10,
            }),
          ),
          'accounts_must_be_different',
        );
      });

      it('account_frozen: the frozen account can neither send, receive, be minted to nor be paid a hold', async () => {
        await failsInBlock(
          await sign(carol, txs.transfer({ to: bob.address, asset: 'USD', amount: '1' })),
          'account_frozen',
        );
        await failsInBlock(
          await sign(alice, txs.transfer({ to: carol.address, asset: 'USD', amount: '1' })),
          'account_frozen',
        );
        await failsInBlock(
          await sign(dev, txs.mint({ symbol: 'USD', to: carol.address, amount: '1' })),
          'account_frozen',
        );
        await failsInBlock(
          await sign(
            alice,
            txs.createHold({
              to: carol.address,
              asset: 'USD',
              amount: '1',
              expiresAtHeight: (await lastHeight()) + 10,
            }),
          ),
          'account_frozen',
        );
      });

      it('invalid_hold_expiry: at or below the current height, or too far ahead', async () => {
        await failsInBlock(
          await sign(
            alice,
            txs.createHold({ to: bob.address, asset: 'USD', amount: '1', expiresAtHeight: 1 }),
          ),
          'invalid_hold_expiry',
        );
        const next = (await lastHeight()) + 1;
        await failsInBlock(
          await sign(
            alice,
            txs.createHold({ to: bob.address, asset: 'USD', amount: '1', expiresAtHeight: next }),
          ),
          'invalid_hold_expiry',
        );
        const tooFar = (await lastHeight()) + 1 + 10_000_001;
        await failsInBlock(
          await sign(
            alice,
            txs.createHold({ to: bob.address, asset: 'USD', amount: '1', expiresAtHeight: tooFar }),
          ),
          'invalid_hold_expiry',
        );
      });

      it('hold_not_found', async () => {
        await failsInBlock(
          await sign(bob, txs.postHold({ holdId: randomHex(32) })),
          'hold_not_found',
        );
        await failsInBlock(
          await sign(bob, txs.voidHold({ holdId: randomHex(32) })),
          'hold_not_found',
        );
        await failsInBlock(
          await sign(bob, txs.releaseHold({ holdId: randomHex(32), preimage: preimage })),
          'hold_not_found',
        );
      });

      it('hold_forbidden: only the payee (or arbiter) posts or voids', async () => {
        await failsInBlock(
          await sign(alice, txs.postHold({ holdId: plainHold })),
          'hold_forbidden',
        );
        await failsInBlock(
          await sign(alice, txs.voidHold({ holdId: plainHold })),
          'hold_forbidden',
        );
        await failsInBlock(
          await sign(dev, txs.postHold({ holdId: plainHold, amount: '1' })),
          'hold_forbidden',
        );
      });

      it('hold_amount_exceeded', async () => {
        await failsInBlock(
          await sign(bob, txs.postHold({ holdId: plainHold, amount: '101' })),
          'hold_amount_exceeded',
        );
      });

      it('hold_hash_locked: a hash-locked hold is neither posted nor voided', async () => {
        await failsInBlock(
          await sign(bob, txs.postHold({ holdId: lockedHold })),
          'hold_hash_locked',
        );
        await failsInBlock(
          await sign(bob, txs.voidHold({ holdId: lockedHold })),
          'hold_hash_locked',
        );
      });

      it('hold_not_hash_locked', async () => {
        await failsInBlock(
          await sign(dev, txs.releaseHold({ holdId: plainHold, preimage })),
          'hold_not_hash_locked',
        );
      });

      it('preimage_mismatch', async () => {
        await failsInBlock(
          await sign(dev, txs.releaseHold({ holdId: lockedHold, preimage: randomHex(32) })),
          'preimage_mismatch',
        );
      });
    });

    it('left every balance, hold, frozen flag and asset as it was; only nonces moved', async () => {
      assert.ok(failedCommits.size >= 4);
      for (const key of people()) {
        const before = snapshot.get(key.address)!;
        const now = await account(key.address);
        assert.deepEqual(withoutNonce(now), withoutNonce(before), key.address);
        assert.equal(
          now.nonce,
          before.nonce + (failedCommits.get(key.address) ?? 0),
          `nonce of ${key.address}`,
        );
      }
      assert.deepEqual((await get('/v1/assets')).json(), assetsBefore);
    });
  });

  describe('holds through the API', () => {
    it('hold.post in part pays the payee and returns the rest to the payer', async () => {
      const payer0 = await account(alice.address);
      const payee0 = await account(bob.address);
      const created = await send(
        alice,
        txs.createHold({
          to: bob.address,
          asset: 'USD',
          amount: '1000',
          expiresAtHeight: (await lastHeight()) + 50,
        }),
      );
      const open = await account(alice.address);
      assert.equal(balanceOf(open, 'USD'), balanceOf(payer0, 'USD') - 1000n);
      assert.equal(heldOf(open, 'USD'), heldOf(payer0, 'USD') + 1000n);
      const hold = open.holds.find((h) => h.id === created.hash)!;
      assert.deepEqual(hold, {
        id: created.hash,
        payer: alice.address,
        payee: bob.address,
        asset: 'USD',
        amount: '1000',
        expiresAtHeight: hold.expiresAtHeight,
        createdAtHeight: created.height,
      });

      const posted = await send(bob, txs.postHold({ holdId: created.hash, amount: '400' }));
      const payer = await account(alice.address);
      const payee = await account(bob.address);
      assert.equal(balanceOf(payer, 'USD'), balanceOf(payer0, 'USD') - 400n);
      assert.equal(heldOf(payer, 'USD'), heldOf(payer0, 'USD'));
      assert.ok(!payer.holds.some((h) => h.id === created.hash));
      assert.equal(balanceOf(payee, 'USD'), balanceOf(payee0, 'USD') + 400n);
      const events = (await detail(posted.hash)).receipt.events;
      assert.deepEqual(
        events.map((e) => [e.type, e.data.paid, e.data.returned]),
        [['hold.posted', '400', '600']],
      );
      await failsInBlock(await sign(bob, txs.postHold({ holdId: created.hash })), 'hold_not_found');
    });

    it('hold.void returns everything to the payer', async () => {
      const payer0 = await account(alice.address);
      const created = await send(
        alice,
        txs.createHold({
          to: bob.address,
          asset: 'USD',
          amount: '500',
          expiresAtHeight: (await lastHeight()) + 50,
        }),
      );
      const voided = await send(bob, txs.voidHold({ holdId: created.hash }));
      const payer = await account(alice.address);
      assert.deepEqual(payer.balances, payer0.balances);
      assert.deepEqual(payer.holds, payer0.holds);
      assert.deepEqual(
        (await detail(voided.hash)).receipt.events.map((e) => e.type),
        ['hold.voided'],
      );
    });

    it('an arbiter, not the payee, posts a hold that names one', async () => {
      const payee0 = await account(bob.address);
      const created = await send(
        alice,
        txs.createHold({
          to: bob.address,
          asset: 'USD',
          amount: '250',
          expiresAtHeight: (await lastHeight()) + 50,
          arbiter: eve.address,
        }),
      );
      await failsInBlock(await sign(bob, txs.postHold({ holdId: created.hash })), 'hold_forbidden');
      await send(eve, txs.postHold({ holdId: created.hash }));
      assert.equal(balanceOf(await account(bob.address), 'USD'), balanceOf(payee0, 'USD') + 250n);
    });

    it('hold.release with the real SHA-256 preimage pays the payee, whoever sends it', async () => {
      const payee0 = await account(bob.address);
      const before = await get(`/v1/holds/${lockedHold}`);
      assert.equal(before.statusCode, 200);
      const open = before.json<{
        payer: string;
        condition: string;
        amount: string;
        open: boolean;
      }>();
      assert.deepEqual(
        [open.payer, open.condition, open.amount, open.open],
        [alice.address, sha256Hex(fromHex(preimage)), '200', true],
      );
      const released = await send(dev, txs.releaseHold({ holdId: lockedHold, preimage }));
      const after = await get(`/v1/holds/${lockedHold}`);
      assert.equal(after.statusCode, 404);
      assert.equal(after.json<ErrorReply>().error.code, 'hold_not_found');
      // The release is found afterwards in the committed events, with its preimage and tx.
      const page = (
        await get(`/v1/events?from=${released.height}&type=hold.released&address=${bob.address}`)
      ).json<{
        events: {
          height: number;
          tx: string;
          type: string;
          data: { id: string; preimage: string };
        }[];
      }>();
      assert.deepEqual(
        page.events.map((e) => [e.height, e.tx, e.type, e.data.id, e.data.preimage]),
        [[released.height, released.hash, 'hold.released', lockedHold, preimage]],
      );
      assert.equal(balanceOf(await account(bob.address), 'USD'), balanceOf(payee0, 'USD') + 200n);
      const alicesHolds = (await account(alice.address)).holds.map((h) => h.id);
      assert.ok(!alicesHolds.includes(lockedHold));
      const [event] = (await detail(released.hash)).receipt.events;
      assert.equal(event!.type, 'hold.released');
      assert.equal(event!.data.preimage, preimage);
      // The plain hold from setup, posted whole.
      await send(bob, txs.postHold({ holdId: plainHold }));
      assert.equal(balanceOf(await account(bob.address), 'USD'), balanceOf(payee0, 'USD') + 300n);
      assert.equal(heldOf(await account(alice.address), 'USD'), 0n);
    });

    it('a hold that reaches its expiry height is refunded to the payer in the next block', async () => {
      const payer0 = await account(alice.address);
      const created = await send(
        alice,
        txs.createHold({
          to: bob.address,
          asset: 'USD',
          amount: '300',
          expiresAtHeight: (await lastHeight()) + 3,
        }),
      );
      const expiry = created.height! + 2;
      const filler = () => send(dev, txs.transfer({ to: eve.address, asset: 'USD', amount: '1' }));
      // Blocks created+1 and created+2 (the expiry height itself): the hold is still open.
      assert.equal((await filler()).height, created.height! + 1);
      assert.equal((await filler()).height, expiry);
      let payer = await account(alice.address);
      assert.ok(payer.holds.some((h) => h.id === created.hash));
      assert.equal(heldOf(payer, 'USD'), 300n);
      // The first block past the expiry height refunds it before any tx.
      assert.equal((await filler()).height, expiry + 1);
      payer = await account(alice.address);
      assert.deepEqual(payer.balances, payer0.balances);
      assert.deepEqual(payer.holds, []);
      await failsInBlock(await sign(bob, txs.postHold({ holdId: created.hash })), 'hold_not_found');
      // The refund is the block's own event (no tx), found in the committed events.
      const page = (
        await get(
          `/v1/events?from=${expiry + 1}&to=${expiry + 1}&type=hold.&address=${alice.address}`,
        )
      ).json<{
        from: number;
        to: number;
        events: { tx: string | null; type: string; data: { id: string } }[];
      }>();
      assert.deepEqual([page.from, page.to], [expiry + 1, expiry + 1]);
      assert.deepEqual(
        page.events.map((e) => [e.tx, e.type, e.data.id]),
        [[null, 'hold.expired', created.hash]],
      );
    });

    it('GET /v1/events without a websocket reads committed events, refusing bad ranges and filters', async () => {
      const code = async (query: string) => {
        const res = await get(`/v1/events${query}`);
        return [res.statusCode, res.json<ErrorReply>().error.code];
      };
      assert.deepEqual(await code(''), [426, 'websocket_required']);
      assert.deepEqual(await code('?from=5&to=4'), [400, 'invalid_range']);
      assert.deepEqual(await code('?from=1&to=101'), [400, 'invalid_range']);
      assert.deepEqual(await code('?from=1&after=x'), [400, 'invalid_event_cursor']);
      assert.deepEqual(await code('?from=10&after=3:0:0'), [400, 'invalid_event_cursor']);
      assert.deepEqual(await code('?from=1&type=nothing.here'), [400, 'invalid_event_type']);
      assert.deepEqual(await code('?from=1&address=coffer1nope'), [400, 'invalid_address']);
      // A range past the head is clipped to it and empty; a whole range has no next.
      const head = await lastHeight();
      const beyond = (await get(`/v1/events?from=${head + 5}`)).json<{
        events: unknown[];
        next?: string;
      }>();
      assert.deepEqual(beyond.events, []);
      assert.equal(beyond.next, undefined);
      // Events of the first 100 blocks, each once, in chain order; every tx event names its tx.
      const all = (await get('/v1/events?from=0')).json<{
        events: { height: number; tx: string | null }[];
      }>();
      assert.ok(all.events.length > 0);
      const heights = all.events.map((e) => e.height);
      assert.deepEqual(
        heights,
        [...heights].sort((a, b) => a - b),
      );
    });

    it('too_many_holds: a payer has at most 1,000 open holds', async () => {
      const frank = generateKey();
      await send(dev, txs.transfer({ to: frank.address, asset: 'USD', amount: '2000' }));
      const expiresAtHeight = (await lastHeight()) + 1000;
      const batch: SignedTx[] = [];
      for (let nonce = 0; nonce < 1000; nonce++) {
        batch.push(
          signTx(
            {
              chainId: t.chainId,
              sender: frank.address,
              nonce,
              ...txs.createHold({ to: bob.address, asset: 'USD', amount: '1', expiresAtHeight }),
            },
            frank,
          ),
        );
      }
      const res = await post('/v1/txs/batch?wait=commit', { txs: batch });
      assert.equal(res.statusCode, 200);
      const body = res.json<BatchReply>();
      assert.equal(body.accepted, 1000);
      assert.ok(body.results.every((r) => r.status === 'ok'));
      await failsInBlock(
        await sign(
          frank,
          txs.createHold({ to: bob.address, asset: 'USD', amount: '1', expiresAtHeight }),
        ),
        'too_many_holds',
      );
      const account1 = await account(frank.address);
      assert.equal(account1.holds.length, 1000);
      assert.equal(heldOf(account1, 'USD'), 1000n);
    });
  });

  describe('reads', () => {
    it('GET /v1/blocks/latest and /v1/blocks/:height', async () => {
      const latest = await get('/v1/blocks/latest');
      assert.equal(latest.statusCode, 200);
      const head = latest.json<BlockReply>();
      assert.equal(head.height, node.chain.height());
      assert.equal(head.hash, node.chain.latest().hash);
      assert.equal(head.header.height, head.height);
      assert.equal(head.header.chainId, t.chainId);
      assert.equal(head.txs!.length, head.txCount);
      // The accountable signature at the header's height, with the proof of its committed nonce.
      assert.equal(head.signature.height, head.height);
      assert.match(head.signature.R, /^[0-9a-f]{64}$/);
      assert.match(head.signature.s, /^[0-9a-f]{64}$/);
      assert.equal(head.signature.nonceProof.R, head.signature.R);
      assert.ok(
        verifyBlockSignature({ header: head.header, hash: head.hash, signature: head.signature }),
      );

      const byHeight = (await get(`/v1/blocks/${head.height}`)).json<BlockReply>();
      assert.deepEqual(byHeight, head);
      const genesis = (await get('/v1/blocks/0')).json<BlockReply>();
      assert.equal(genesis.header.prevHash, '0'.repeat(64));
      assert.deepEqual(genesis.txs, []);
      const one = (await get('/v1/blocks/1')).json<BlockReply>();
      assert.equal(one.header.prevHash, genesis.hash);

      const missing = await get(`/v1/blocks/${head.height + 1000}`);
      assert.equal(missing.statusCode, 404);
      assert.deepEqual(missing.json(), {
        error: {
          code: 'block_not_found',
          message: missing.json<ErrorReply>().error.message,
          field: 'height',
        },
      });
      for (const bad of ['abc', '-1', '01', '1.5', '1e3']) {
        const res = await get(`/v1/blocks/${bad}`);
        assert.equal(res.statusCode, 400, bad);
        assert.equal(res.json<ErrorReply>().error.code, 'invalid_request');
        assert.equal(res.json<ErrorReply>().error.field, 'height');
      }
    });

    it('GET /v1/blocks?from=&to= pages up to 100 linked headers and refuses bad ranges', async () => {
      const last = node.chain.height();
      const range = (await get('/v1/blocks?from=1&to=3')).json<{
        from: number;
        to: number;
        blocks: BlockReply[];
      }>();
      assert.equal(range.from, 1);
      assert.equal(range.to, 3);
      assert.deepEqual(
        range.blocks.map((b) => b.height),
        [1, 2, 3],
      );
      assert.equal(range.blocks[1]!.header.prevHash, range.blocks[0]!.hash);
      assert.equal(range.blocks[2]!.header.prevHash, range.blocks[1]!.hash);
      assert.equal(range.blocks[0]!.txs, undefined, 'a range carries headers, not tx lists');

      const tail = (await get('/v1/blocks')).json<{
        from: number;
        to: number;
        blocks: BlockReply[];
      }>();
      assert.equal(tail.to, last);
      assert.equal(tail.from, Math.max(0, last - 99));
      assert.equal(tail.blocks.length, tail.to - tail.from + 1);
      const head = (await get('/v1/blocks?from=0')).json<{
        from: number;
        to: number;
        blocks: BlockReply[];
      }>();
      assert.equal(head.from, 0);
      assert.equal(head.to, Math.min(99, last));
      const upTo = (await get('/v1/blocks?to=2')).json<{
        from: number;
        to: number;
        blocks: BlockReply[];
      }>();
      assert.deepEqual(
        upTo.blocks.map((b) => b.height),
        [0, 1, 2],
      );
      // Past the head: an empty page, whether or not `to` is given.
      for (const url of [
        `/v1/blocks?from=${last + 5}`,
        `/v1/blocks?from=${last + 5}&to=${last + 10}`,
      ]) {
        const res = await get(url);
        assert.equal(res.statusCode, 200, url);
        assert.deepEqual(res.json<{ blocks: unknown[] }>().blocks, []);
      }
      const full = await get('/v1/blocks?from=0&to=99');
      assert.equal(full.statusCode, 200);

      const cases: [string, number, string, string][] = [
        ['/v1/blocks?from=3&to=1', 400, 'invalid_range', 'from'],
        ['/v1/blocks?from=0&to=100', 400, 'invalid_range', 'to'],
        ['/v1/blocks?from=abc', 400, 'invalid_request', 'from'],
        ['/v1/blocks?to=-1', 400, 'invalid_request', 'to'],
      ];
      for (const [url, status, code, field] of cases) {
        const res = await get(url);
        assert.equal(res.statusCode, status, url);
        assert.deepEqual(
          { code: res.json<ErrorReply>().error.code, field: res.json<ErrorReply>().error.field },
          { code, field },
          url,
        );
      }
    });

    it('GET /v1/accounts/:address: balances with decimals, unknown accounts, bad addresses', async () => {
      const a = await account(alice.address);
      assert.equal(a.address, alice.address);
      assert.ok(a.nonce > 0);
      assert.deepEqual(
        a.balances.map((b) => b.asset),
        ['CAP', 'USD'],
      );
      const cap = a.balances.find((b) => b.asset === 'CAP')!;
      assert.deepEqual(cap, {
        asset: 'CAP',
        decimals: 0,
        balance: '900',
        held: '0',
        formatted: { balance: '900', held: '0' },
        frozen: false,
      });
      const usd = a.balances.find((b) => b.asset === 'USD')!;
      assert.equal(usd.decimals, 2);
      assert.equal(
        usd.formatted.balance,
        `${BigInt(usd.balance) / 100n}.${(BigInt(usd.balance) % 100n).toString().padStart(2, '0')}`,
      );

      const stranger = generateKey().address;
      assert.deepEqual(await account(stranger), {
        address: stranger,
        nonce: 0,
        balances: [],
        frozen: [],
        holds: [],
      });

      for (const bad of [
        'cof1nope',
        alice.address.toUpperCase(),
        alice.address.slice(0, -1) + (alice.address.endsWith('q') ? 'p' : 'q'),
      ]) {
        const res = await get(`/v1/accounts/${bad}`);
        assert.equal(res.statusCode, 400, bad);
        assert.deepEqual(
          { code: res.json<ErrorReply>().error.code, field: res.json<ErrorReply>().error.field },
          { code: 'invalid_address', field: 'address' },
        );
      }
    });

    it('GET /v1/assets and /v1/assets/:symbol', async () => {
      const list = await get('/v1/assets');
      assert.equal(list.statusCode, 200);
      const { assets } = list.json<{ assets: AssetJson[] }>();
      assert.deepEqual(assets.map((a) => a.symbol).sort(), ['CAP', 'USD']);
      const usd = (await get('/v1/assets/USD')).json<AssetJson>();
      assert.deepEqual(usd, {
        symbol: 'USD',
        decimals: 2,
        issuer: dev.address,
        supply: '100000000',
        maxSupply: null,
      });
      const cap = (await get('/v1/assets/CAP')).json<AssetJson>();
      assert.deepEqual(cap, {
        symbol: 'CAP',
        decimals: 0,
        issuer: dev.address,
        supply: '900',
        maxSupply: '1000',
      });

      const missing = await get('/v1/assets/NOPE');
      assert.equal(missing.statusCode, 404);
      assert.deepEqual(
        {
          code: missing.json<ErrorReply>().error.code,
          field: missing.json<ErrorReply>().error.field,
        },
        { code: 'asset_not_found', field: 'symbol' },
      );
      for (const bad of ['usd', 'U', 'TOOLONGSYMBOL1']) {
        const res = await get(`/v1/assets/${bad}`);
        assert.equal(res.statusCode, 400, bad);
        assert.deepEqual(
          { code: res.json<ErrorReply>().error.code, field: res.json<ErrorReply>().error.field },
          { code: 'invalid_symbol', field: 'symbol' },
        );
      }
    });

    it('GET /health', async () => {
      const res = await get('/health');
      assert.equal(res.statusCode, 200);
      const head = node.chain.latest();
      // The producer's committed nonces, as its registry record holds them.
      const producer = (await get(`/v1/producers/${node.signer.producer}`)).json<{
        nonceRanges: { fromHeight: number; count: number }[];
      }>();
      const last = producer.nonceRanges.at(-1)!;
      assert.deepEqual(res.json(), {
        status: 'ok',
        chainId: t.chainId,
        height: head.header.height,
        blockHash: head.hash,
        blockTime: head.header.time,
        finalizedHeight: head.header.height,
        consensus: 'solo',
        pendingTxs: 0,
        nonceRunway: {
          heightsLeft: last.fromHeight + last.count - (head.header.height + 1),
          lastHeight: last.fromHeight + last.count - 1,
        },
      });
    });

    it('GET /metrics is Prometheus text with the block height and counters', async () => {
      const res = await get('/metrics');
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/plain/);
      assert.ok(res.body.includes('# TYPE coffer_block_height gauge'));
      assert.match(res.body, new RegExp(`^coffer_block_height ${node.chain.height()}$`, 'm'));
      assert.match(res.body, /^coffer_txs_rejected_total\{code="bad_signature"\} [1-9]/m);
      assert.match(res.body, /^coffer_txs_committed_total\{status="insufficient_funds"\} [1-9]/m);
      assert.match(
        res.body,
        /^coffer_http_requests_total\{route="\/v1\/txs",status="422"\} [1-9]/m,
      );
      // Process metrics under one prefix, never doubled.
      assert.match(res.body, /^coffer_process_cpu_user_seconds_total /m);
      assert.match(res.body, /^coffer_nodejs_heap_size_used_bytes /m);
      assert.doesNotMatch(res.body, /process_process|nodejs_nodejs/);
    });

    it('GET /v1/genesis answers the stored genesis, from which block 0 state root is recomputed', async () => {
      const res = await get('/v1/genesis');
      assert.equal(res.statusCode, 200);
      const genesis = res.json<Genesis>();
      const block0 = (await get('/v1/blocks/0')).json<BlockReply>();
      const writes = genesisWrites(genesis, nodeModuleRegistry().modules);
      assert.equal(toHex(nextStateRoot(genesisParentRoot, writes)), block0.header.stateRoot);
    });

    it("GET /v1/producers/{id}/nonce-ranges lists a producer's committed ranges with their origin", async () => {
      const { producers } = (await get('/v1/producers')).json<{ producers: { id: string }[] }>();
      const id = producers[0]!.id;
      const res = await get(`/v1/producers/${id}/nonce-ranges`);
      assert.equal(res.statusCode, 200);
      const body = res.json<{
        producer: string;
        ranges: {
          fromHeight: number;
          count: number;
          tx: string | null;
          committedAtHeight: number;
        }[];
        more: boolean;
      }>();
      assert.equal(body.producer, id);
      assert.equal(body.more, false);
      assert.deepEqual(
        body.ranges.map((r) => [r.fromHeight, r.tx, r.committedAtHeight]),
        [[0, null, 0]],
        'the genesis range, committed by no tx',
      );
      const invalid = await get('/v1/producers/nope/nonce-ranges');
      assert.equal(invalid.statusCode, 400);
      assert.equal(invalid.json<{ error: { code: string } }>().error.code, 'invalid_producer');
      const unknown = await get(`/v1/producers/${generateKey().address}/nonce-ranges`);
      assert.equal(unknown.statusCode, 404);
      assert.equal(unknown.json<{ error: { code: string } }>().error.code, 'producer_not_found');
      const badFrom = await get(`/v1/producers/${id}/nonce-ranges?from=-1`);
      assert.equal(badFrom.statusCode, 400);
    });

    it('GET /openapi.json is an OpenAPI 3 document listing every /v1 path', async () => {
      const res = await get('/openapi.json');
      assert.equal(res.statusCode, 200);
      const doc = res.json<{
        openapi: string;
        info: { title: string };
        paths: Record<string, Record<string, unknown>>;
      }>();
      assert.match(doc.openapi, /^3\./);
      assert.equal(doc.info.title, 'Coffer node API');
      const expected: [string, string][] = [
        ['/v1/txs', 'post'],
        ['/v1/txs/batch', 'post'],
        ['/v1/txs/{hash}', 'get'],
        ['/v1/blocks/latest', 'get'],
        ['/v1/blocks/{height}', 'get'],
        ['/v1/blocks', 'get'],
        ['/v1/finality', 'get'],
        ['/v1/accounts/{address}', 'get'],
        ['/v1/holds/{id}', 'get'],
        ['/v1/assets', 'get'],
        ['/v1/assets/{symbol}', 'get'],
        ['/v1/events', 'get'],
        ['/v1/producers', 'get'],
        ['/v1/producers/{id}', 'get'],
        ['/v1/producers/{id}/nonce-ranges', 'get'],
        ['/v1/genesis', 'get'],
        ['/v1/evidence', 'post'],
        ['/v1/timebanks', 'get'],
        ['/v1/timebanks/{id}', 'get'],
        ['/v1/timebanks/{id}/members', 'get'],
        ['/v1/timebanks/{id}/members/{account}', 'get'],
        ['/v1/timebanks/{id}/members/{account}/statement', 'get'],
        ['/v1/timebanks/{id}/lots/{n}', 'get'],
        ['/v1/timebanks/{id}/exchanges/{n}', 'get'],
        ['/v1/timebanks/{id}/listings', 'get'],
        ['/v1/timebanks/{id}/listings/{n}', 'get'],
        ['/v1/timebanks/{id}/alliances/{partnerId}', 'get'],
        ['/v1/timebanks/{id}/issuance-requests', 'post'],
        ['/v1/timebanks/{id}/issuance-requests/{requestId}', 'get'],
        ['/v1/campaigns', 'get'],
        ['/v1/campaigns/{id}', 'get'],
        ['/v1/campaigns/{id}/investors', 'get'],
        ['/v1/campaigns/{id}/investors/{address}', 'get'],
        ['/v1/campaigns/{id}/statement', 'get'],
        ['/v1/campaigns/{id}/chart', 'get'],
        ['/v1/campaigns/{id}/simulate', 'post'],
        ['/v1/token-service', 'get'],
        ['/v1/token-service/rewrap', 'post'],
        ['/v1/token-participants/{address}', 'get'],
        ['/v1/tokens', 'post'],
        ['/v1/tokens/{token}', 'get'],
        ['/v1/tokens/{token}/pan-update', 'post'],
        ['/v1/tokens/{token}/detokenise', 'post'],
        ['/v1/cards/{card}', 'get'],
        ['/v1/cards/{card}/devices/{device}', 'get'],
        ['/v1/cards/{card}/devices/{device}/tokens', 'post'],
        ['/v1/card-tokens/{token}', 'get'],
        ['/v1/cards/authorisations', 'post'],
        ['/v1/conversion/engines', 'get'],
        ['/v1/conversion/engines/{address}', 'get'],
        ['/v1/iot/cas', 'get'],
        ['/v1/iot/cas/{ca}', 'get'],
        ['/v1/iot/devices', 'get'],
        ['/v1/iot/devices/{deviceId}', 'get'],
        ['/v1/iot/sessions', 'get'],
        ['/v1/iot/sessions/{serviceDevice}/{sessionId}', 'get'],
        ['/v1/iot/sessions/{serviceDevice}/{sessionId}/bills/{seq}', 'get'],
        ['/v1/licensing/content', 'get'],
        ['/v1/licensing/content/{contentId}', 'get'],
        ['/v1/licensing/content/{contentId}/offers/{offerId}', 'get'],
        ['/v1/licensing/content/{contentId}/agreements', 'get'],
        ['/v1/licensing/content/{contentId}/title', 'get'],
        ['/v1/licensing/agreements/{agreementId}', 'get'],
        ['/v1/licensing/accounts/{address}/agreements', 'get'],
        ['/v1/licensing/accounts/{address}/content', 'get'],
        ['/v1/scholarship/subjects', 'get'],
        ['/v1/scholarship/profiles/{address}', 'get'],
        ['/v1/scholarship/questions', 'get'],
        ['/v1/scholarship/questions/{questionId}', 'get'],
        ['/v1/scholarship/questions/{questionId}/record', 'get'],
        ['/v1/scholarship/difficulty', 'get'],
        ['/v1/scholarship/bodies', 'post'],
        ['/v1/scholarship/bodies/{hash}', 'get'],
        ['/v1/scholarship/pools/{poolId}', 'get'],
        ['/v1/scholarship/pools/{poolId}/statement', 'get'],
        ['/v1/scholarship/pools/{poolId}/recipients', 'get'],
        ['/v1/scholarship/mentorships/{mentorshipId}', 'get'],
        ['/v1/printing/hwids/{hardwareId}', 'get'],
        ['/v1/printing/printers/{printerId}', 'get'],
        ['/v1/printing/printers', 'get'],
        ['/v1/printing/designs', 'get'],
        ['/v1/printing/designs/{designId}', 'get'],
        ['/v1/printing/tokens/{tokenId}', 'get'],
        ['/v1/printing/tokens', 'get'],
        ['/v1/printing/servers/{address}/revocations', 'get'],
        ['/v1/dev/clock', 'post'],
        ['/v1/webhooks', 'post'],
        ['/v1/webhooks', 'get'],
        ['/v1/webhooks/{id}', 'get'],
        ['/v1/webhooks/{id}', 'delete'],
        ['/v1/webhooks/{id}/replay', 'post'],
        ['/v1/webhooks/{id}/dead-letters', 'get'],
        ['/health', 'get'],
        ['/metrics', 'get'],
      ];
      for (const [route, method] of expected) {
        assert.ok(doc.paths[route]?.[method], `${method.toUpperCase()} ${route} is documented`);
      }
      assert.deepEqual(
        Object.keys(doc.paths)
          .filter((p) => p.startsWith('/v1'))
          .sort(),
        [...new Set(expected.map(([p]) => p))].filter((p) => p.startsWith('/v1')).sort(),
      );
      assert.equal(doc.paths['/openapi.json'], undefined);
    });

    it('answers 404 route_not_found for an unknown route or method', async () => {
      for (const [method, url] of [
        ['GET', '/v2/nothing'],
        ['DELETE', '/v1/txs'],
        ['GET', '/v1/txs'],
      ] as const) {
        const res = await inject(node, { method, url });
        assert.equal(res.statusCode, 404, `${method} ${url}`);
        assert.equal(res.json<ErrorReply>().error.code, 'route_not_found');
      }
    });

    it('answers in the error shape what fails before routing: a long path parameter, huge headers, a plain GET of the websocket', async () => {
      const long = await inject(node, { method: 'GET', url: `/v1/accounts/${'a'.repeat(200)}` });
      assert.equal(long.statusCode, 414);
      assert.equal(long.json<ErrorReply>().error.code, 'uri_too_long');
      assert.match(long.json<ErrorReply>().error.message, /longer than any this API accepts/);

      const plain = await inject(node, { method: 'GET', url: '/v1/events' });
      assert.equal(plain.statusCode, 426);
      assert.equal(plain.json<ErrorReply>().error.code, 'websocket_required');

      // Headers over Node's limit are refused by the HTTP parser itself: a real socket.
      const { hostname, port } = new URL(baseUrl);
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(port), hostname, () => {
          socket.write(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`);
        });
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      assert.match(answer, /^HTTP\/1\.1 431 /);
      const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
      assert.equal((JSON.parse(body) as ErrorReply).error.code, 'headers_too_large');
    });
  });

  describe('WS /v1/events', () => {
    class Subscription {
      readonly messages: HubMessageJson[] = [];
      closeCode: number | undefined;
      private notify: (() => void) | undefined;

      private constructor(readonly socket: WebSocket) {
        socket.on('message', (data: Buffer) => {
          this.messages.push(JSON.parse(data.toString('utf8')) as HubMessageJson);
          this.notify?.();
        });
        socket.on('close', (code: number) => {
          this.closeCode = code;
          this.notify?.();
        });
      }

      static async open(query: string): Promise<Subscription> {
        const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/v1/events${query}`);
        const subscription = new Subscription(socket);
        await new Promise<void>((resolve, reject) => {
          socket.once('open', () => resolve());
          socket.once('error', reject);
        });
        return subscription;
      }

      async until(done: (s: Subscription) => boolean, what: string): Promise<void> {
        const deadline = Date.now() + 5000;
        while (!done(this)) {
          assert.ok(
            Date.now() < deadline,
            `timed out waiting for ${what}; got ${JSON.stringify(this.messages)}`,
          );
          await new Promise<void>((resolve) => {
            this.notify = resolve;
            setTimeout(resolve, 50);
          });
        }
      }

      async close(): Promise<void> {
        if (this.socket.readyState === WebSocket.CLOSED) return;
        const closed = new Promise((resolve) => this.socket.once('close', resolve));
        this.socket.close();
        await closed;
      }
    }

    it('without a filter, sends block, receipt and event messages for each committed block', async () => {
      const sub = await Subscription.open('');
      try {
        const sent = await send(
          dev,
          txs.transfer({ to: alice.address, asset: 'USD', amount: '1' }),
        );
        await sub.until(
          (s) => s.messages.some((m) => m.kind === 'event' && m.tx === sent.hash),
          'the transfer event',
        );
        const block = sub.messages.find((m) => m.kind === 'block' && m.height === sent.height)!;
        assert.equal(block.hash, (await get(`/v1/blocks/${sent.height}`)).json<BlockReply>().hash);
        const receipt = sub.messages.find((m) => m.kind === 'receipt' && m.tx === sent.hash)!;
        assert.deepEqual(receipt, {
          kind: 'receipt',
          height: sent.height,
          tx: sent.hash,
          type: 'ledger.transfer',
          sender: dev.address,
          status: 'ok',
        });
        const event = sub.messages.find((m) => m.kind === 'event' && m.tx === sent.hash)!;
        assert.equal(event.type, 'ledger.transferred');
        assert.deepEqual(event.data, {
          from: dev.address,
          to: alice.address,
          asset: 'USD',
          amount: '1',
        });
      } finally {
        await sub.close();
      }
    });

    it('type=final adds finality messages to what the other types select (everything, alone)', async () => {
      const alone = await Subscription.open('?type=final');
      const withTransfers = await Subscription.open('?type=ledger.transfer,final');
      try {
        const sent = await send(
          dev,
          txs.transfer({ to: alice.address, asset: 'USD', amount: '1' }),
        );
        for (const sub of [alone, withTransfers]) {
          await sub.until(
            (s) =>
              s.messages.some((m) => m.kind === 'final' && m.height >= sent.height!) &&
              s.messages.some((m) => m.kind === 'receipt' && m.tx === sent.hash),
            'the receipt and the final message',
          );
        }
        assert.ok(alone.messages.some((m) => m.kind === 'block' && m.height === sent.height));
        assert.ok(alone.messages.some((m) => m.kind === 'event' && m.tx === sent.hash));
        // With another type, that type still narrows: no blocks, no events of other types.
        assert.equal(withTransfers.messages.filter((m) => m.kind === 'block').length, 0);
        assert.equal(withTransfers.messages.filter((m) => m.kind === 'event').length, 0);
      } finally {
        await alone.close();
        await withTransfers.close();
      }
    });

    it('refuses a type no tx or event has, naming it, and closes with 1008', async () => {
      for (const query of [
        '?type=nope',
        '?type=ledger.transfer,lederg.',
        '?type=a..b',
        `?type=${'ledger.x,'.repeat(40)}`,
      ]) {
        const sub = await Subscription.open(query);
        await sub.until((s) => s.closeCode !== undefined, 'the close');
        assert.equal(sub.closeCode, 1008, query);
        const [refusal] = sub.messages as unknown as ErrorReply[];
        assert.equal(refusal?.error.code, 'invalid_event_type', query);
        assert.equal(refusal?.error.field, 'type');
      }
      // Known ones are taken: a tx type, an event type, prefixes, a module's events.
      const ok = await Subscription.open(
        '?type=ledger.transfer,hold.created,campaign.,timecredits.,block',
      );
      try {
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.equal(ok.closeCode, undefined);
      } finally {
        await ok.close();
      }
    });

    it('with an address filter, sends only what involves that address, and no block messages', async () => {
      const watched = generateKey();
      const sub = await Subscription.open(`?address=${watched.address}`);
      try {
        const other = await send(
          dev,
          txs.transfer({ to: alice.address, asset: 'USD', amount: '1' }),
        );
        const mine = await send(
          dev,
          txs.transfer({ to: watched.address, asset: 'USD', amount: '1' }),
        );
        await sub.until(
          (s) => s.messages.some((m) => m.kind === 'event' && m.tx === mine.hash),
          'the watched transfer',
        );
        assert.ok(
          sub.messages.every((m) => m.tx === mine.hash),
          JSON.stringify(sub.messages),
        );
        assert.ok(!sub.messages.some((m) => m.tx === other.hash || m.kind === 'block'));
        assert.deepEqual(
          sub.messages.map((m) => m.kind),
          ['receipt', 'event'],
        );
      } finally {
        await sub.close();
      }
    });

    it('with a type filter, sends only those types (exact, or a prefix ending in a dot)', async () => {
      const blocks = await Subscription.open('?type=block');
      const holds = await Subscription.open('?type=hold.');
      try {
        const transfer = await send(
          dev,
          txs.transfer({ to: alice.address, asset: 'USD', amount: '1' }),
        );
        const hold = await send(
          dev,
          txs.createHold({
            to: alice.address,
            asset: 'USD',
            amount: '1',
            expiresAtHeight: (await lastHeight()) + 100,
          }),
        );
        await blocks.until(
          (s) => s.messages.some((m) => m.height === hold.height),
          'the hold block',
        );
        assert.ok(blocks.messages.every((m) => m.kind === 'block'));
        assert.ok(blocks.messages.some((m) => m.height === transfer.height));

        await holds.until(
          (s) => s.messages.some((m) => m.kind === 'event' && m.tx === hold.hash),
          'the hold event',
        );
        assert.deepEqual(
          holds.messages.map((m) => [m.kind, m.type, m.tx]),
          [
            ['receipt', 'hold.create', hold.hash],
            ['event', 'hold.created', hold.hash],
          ],
        );
      } finally {
        await blocks.close();
        await holds.close();
      }
    });

    it('refuses an invalid address filter with an invalid_address message and close code 1008', async () => {
      const sub = await Subscription.open('?address=cof1nope');
      await sub.until((s) => s.closeCode !== undefined, 'the close');
      assert.equal(sub.closeCode, 1008);
      assert.equal(sub.messages[0]?.error?.code, 'invalid_address');
      assert.equal(sub.messages[0]?.error?.field, 'address');
    });

    it('drops subscribers that disconnect', async () => {
      for (let i = 0; i < 100 && node.hub.size > 0; i++) await sleep(5);
      assert.equal(node.hub.size, 0);
    });
  });
});

// ---- a node that does not produce blocks: mempool limits, commit timeouts, a halt ------------

describe('node API under load and after a fault', () => {
  let t: TestNode;
  const b = generateKey();
  const c = generateKey();

  before(async () => {
    // No producer: nothing commits, so the mempool fills deterministically.
    t = await openNode({ mempoolTxsMax: 3, mempoolPerSenderMax: 2, commitWaitMs: 50 });
  });

  after(async () => {
    await t.close();
  });

  const submit = (tx: unknown, url = '/v1/txs') =>
    inject(t.node, { method: 'POST', url, payload: tx as InjectOptions['payload'] });
  const transfer = (key: SigningKey, nonce: number) =>
    signTx(
      {
        chainId: t.chainId,
        sender: key.address,
        nonce,
        ...txs.transfer({ to: c.address, asset: 'USD', amount: '1' }),
      },
      key,
    );
  const expectError = (
    res: LightMyRequestResponse,
    status: number,
    code: string,
    field?: string,
  ) => {
    assert.equal(res.statusCode, status, res.body);
    const { error } = res.json<ErrorReply>();
    assert.equal(error.code, code);
    assert.equal(error.field, field);
  };

  it('answers 504 commit_timeout with the hash when the tx does not commit in time; it stays pending', async () => {
    const tx = transfer(t.dev, 0);
    // The node's commit-wait timer is unref'd and this node has no socket: keep the loop alive.
    const keepAlive = setInterval(() => {}, 1000);
    const res = await submit(tx, '/v1/txs?wait=commit').finally(() => clearInterval(keepAlive));
    expectError(res, 504, 'commit_timeout');
    assert.equal(res.json<ErrorReply>().hash, hashTx(tx));
    const pending = await inject(t.node, { method: 'GET', url: `/v1/txs/${hashTx(tx)}` });
    assert.equal(pending.statusCode, 202);
    assert.deepEqual(pending.json(), { hash: hashTx(tx), status: 'pending' });
  });

  it('nonce_too_high past mempoolPerSenderMax, sender_queue_full, then mempool_full', async () => {
    assert.equal((await submit(transfer(t.dev, 1))).statusCode, 202);
    // Next is 2 and a sender may queue 2 ahead: nonce 4 is too far.
    expectError(await submit(transfer(t.dev, 4)), 400, 'nonce_too_high', 'nonce');
    expectError(await submit(transfer(t.dev, 2)), 429, 'sender_queue_full');
    assert.equal((await submit(transfer(b, 0))).statusCode, 202);
    expectError(await submit(transfer(c, 0)), 429, 'mempool_full');
    const health = (await inject(t.node, { method: 'GET', url: '/health' })).json<{
      pendingTxs: number;
    }>();
    assert.equal(health.pendingTxs, 3);
  });

  it('after a fault: /health answers 503 halted, and submissions 503 not_ready', async () => {
    t.node.halt(new Error('disk on fire'));
    const health = await inject(t.node, { method: 'GET', url: '/health' });
    assert.equal(health.statusCode, 503);
    assert.equal(health.json<{ status: string }>().status, 'halted');
    assert.equal(health.json<{ fault: string }>().fault, 'disk on fire');
    expectError(await submit(transfer(c, 0)), 503, 'not_ready');
    expectError(await submit({ txs: [transfer(c, 0)] }, '/v1/txs/batch'), 503, 'not_ready');
    // Reads still work.
    assert.equal(
      (await inject(t.node, { method: 'GET', url: '/v1/blocks/latest' })).statusCode,
      200,
    );
  });
});
