import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';

import { CofferError, createClient, type CofferClient, type TxResponse } from './client.js';
import { generateKey, type SigningKey } from './keys.js';
import { hashTx, signTx, txs, type SignedTx, type UnsignedTx } from './tx.js';
import { trustFromProducers, verifyHeaderChain, verifyTxInclusion } from './verify.js';
import { rejection, startTestNode, type TestNode } from '../../test/support/test-node.js';

let testNode: TestNode;
let client: CofferClient;
let dev: SigningKey;
let chainId: string;

before(async () => {
  testNode = await startTestNode('sdk');
  ({ client, dev } = testNode);
  chainId = (await client.health()).chainId;
});

after(async () => {
  await testNode.close();
});

/** A signed transfer from the dev account at its next nonce (or `nonce`). */
async function transfer(to: string, amount: string, nonce?: number): Promise<SignedTx> {
  const next = nonce ?? (await client.getAccount(dev.address)).nonce;
  const unsigned: UnsignedTx = {
    chainId,
    sender: dev.address,
    nonce: next,
    ...txs.transfer({ to, asset: 'USD', amount }),
  };
  return signTx(unsigned, dev);
}

/** Polls `getTx` until the tx is committed; the node cuts a block every 5 ms. */
async function committedTx(hash: string): Promise<TxResponse> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const lookup = await client.getTx(hash);
    if (lookup.status !== 'pending') return lookup;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`tx ${hash} did not commit`);
}

describe('typed calls against a real node', { timeout: 20_000 }, () => {
  it('health, assets and the dev account', async () => {
    const health = await client.health();
    assert.equal(health.status, 'ok');
    assert.equal(health.chainId, 'coffer-dev');
    assert.equal(typeof health.height, 'number');
    assert.match(health.blockHash, /^[0-9a-f]{64}$/);
    assert.equal(health.fault, undefined);

    const usd = await client.getAsset('USD');
    assert.deepEqual(
      { symbol: usd.symbol, decimals: usd.decimals, issuer: usd.issuer },
      { symbol: 'USD', decimals: 2, issuer: dev.address },
    );
    const { assets } = await client.getAssets();
    assert.deepEqual(
      assets.map((a) => a.symbol),
      ['USD'],
    );

    const account = await client.getAccount(dev.address);
    assert.equal(account.address, dev.address);
    const usdBalance = account.balances.find((b) => b.asset === 'USD')!;
    assert.equal(usdBalance.decimals, 2);
    assert.equal(BigInt(usdBalance.balance) > 0n, true);
    assert.equal(usdBalance.frozen, false);
    assert.deepEqual(account.holds, []);

    const fresh = await client.getAccount(generateKey().address);
    assert.deepEqual(fresh.balances, []);
    assert.equal(fresh.nonce, 0);
  });

  it('submit without wait answers pending; the tx then commits with its proof', async () => {
    const alice = generateKey();
    const tx = await transfer(alice.address, '7450');
    const result = await client.submit(tx);
    assert.deepEqual(result, { hash: hashTx(tx), status: 'pending' });
    const found = await committedTx(result.hash);
    assert.equal(found.hash, result.hash);
    assert.deepEqual(found.tx, tx);
    assert.equal(found.receipt.status, 'ok');
    assert.deepEqual(found.receipt.events, [
      {
        type: 'ledger.transferred',
        data: { from: dev.address, to: alice.address, asset: 'USD', amount: '7450' },
      },
    ]);
    const trust = trustFromProducers((await client.listProducers()).producers);
    assert.deepEqual(verifyTxInclusion(found, trust), {
      ok: true,
      problems: [],
      failures: [],
      outcome: 'ok',
    });
    const account = await client.getAccount(alice.address);
    assert.deepEqual(account.balances, [
      {
        asset: 'USD',
        decimals: 2,
        balance: '7450',
        held: '0',
        formatted: { balance: '74.50', held: '0.00' },
        frozen: false,
      },
    ]);
  });

  it('submit with wait answers the receipt status and where the tx landed', async () => {
    const tx = await transfer(generateKey().address, '1');
    const result = await client.submit(tx, { wait: 'commit' });
    assert.equal(result.hash, hashTx(tx));
    assert.equal(result.status, 'ok');
    assert.equal(typeof result.height, 'number');
    assert.equal(result.index, 0);

    const block = await client.getBlock(result.height!);
    assert.deepEqual(block.txs, [result.hash]);
    assert.equal(block.txCount, 1);
    assert.equal(block.header.height, result.height);
    const latest = await client.latestBlock();
    assert.ok(latest.height >= result.height!);
    const page = await client.getBlocks(0, latest.height);
    assert.equal(page.from, 0);
    assert.equal(page.blocks.length, latest.height + 1);
    const trust = trustFromProducers((await client.listProducers()).producers);
    assert.deepEqual(verifyHeaderChain(page.blocks, { trust }), {
      ok: true,
      problems: [],
      failures: [],
    });
  });

  it('send reads the chain id and nonce, signs and waits for the commit', async () => {
    const bob = generateKey();
    const result = await client.send(
      dev,
      txs.transfer({ to: bob.address, asset: 'USD', amount: '5' }),
    );
    assert.equal(result.status, 'ok');
    const found = await client.getTx(result.hash);
    assert.equal(found.tx?.sender, dev.address);
    assert.equal(found.height, result.height);
  });

  it('a batch answers per tx: accepted, rejected with its code, committed', async () => {
    const { nonce } = await client.getAccount(dev.address);
    const good = await transfer(generateKey().address, '2', nonce);
    const badSignature = { ...(await transfer(generateKey().address, '3', nonce + 1)) };
    badSignature.signature = 'ff' + badSignature.signature.slice(2);
    const otherChain = signTx(
      { ...(await transfer(generateKey().address, '4', nonce + 1)), chainId: 'elsewhere' },
      dev,
    );
    const answer = await client.submitBatch([good, badSignature, otherChain], { wait: 'commit' });
    assert.equal(answer.accepted, 1);
    assert.equal(answer.rejected, 2);
    const [first, second, third] = answer.results;
    assert.ok(first && !('error' in first));
    assert.equal(first.status, 'ok');
    assert.equal(typeof first.height, 'number');
    assert.ok(second && 'error' in second);
    assert.equal(second.status, 'rejected');
    assert.equal(second.error.code, 'bad_signature');
    assert.equal(second.error.field, 'signature');
    assert.equal(second.hash, hashTx(badSignature));
    assert.ok(third && 'error' in third);
    assert.equal(third.error.code, 'wrong_chain');
  });

  it('openApi and metrics answer the node documents', async () => {
    const document = await client.openApi();
    assert.ok(Object.keys(document.paths as object).includes('/v1/txs'));
    const metrics = await client.metrics();
    assert.match(metrics, /^coffer_block_height \d+$/m);
  });
});

describe('errors carry the API code, field and status', { timeout: 20_000 }, () => {
  it('bad input: code, field, HTTP status and the body', async () => {
    const cases: [Promise<unknown>, string, number, string | undefined][] = [
      [client.getAccount('not-an-address'), 'invalid_address', 400, 'address'],
      [client.getBlock(1e12), 'block_not_found', 404, 'height'],
      [client.getBlock(-1), 'invalid_request', 400, 'height'],
      [client.getTx('00'.repeat(32)), 'tx_not_found', 404, 'hash'],
      [client.getTx('nope'), 'invalid_request', 400, 'hash'],
      [client.getAsset('EUR'), 'asset_not_found', 404, 'symbol'],
      [client.getBlocks(5, 2), 'invalid_range', 400, 'from'],
      [client.getBlocks(0, 500), 'invalid_range', 400, 'to'],
    ];
    for (const [call, code, status, field] of cases) {
      const error = await rejection(call);
      assert.deepEqual(
        { code: error.code, status: error.status, field: error.field },
        { code, status, field },
      );
      assert.ok(error.message.length > 0);
      assert.equal(error.name, 'CofferError');
      assert.deepEqual((error.body as { error: { code: string } }).error.code, code);
      assert.equal(error.committed, false);
    }
  });

  it('a refused tx carries its hash: duplicate, stale nonce', async () => {
    const tx = await transfer(generateKey().address, '1');
    await client.submit(tx, { wait: 'commit' });
    const duplicate = await rejection(client.submit(tx, { wait: 'commit' }));
    assert.equal(duplicate.code, 'duplicate_tx');
    assert.equal(duplicate.status, 409);
    assert.equal(duplicate.hash, hashTx(tx));
    assert.equal(duplicate.height, undefined);

    const stale = await transfer(generateKey().address, '1', tx.nonce);
    const tooLow = await rejection(client.submit(stale));
    assert.deepEqual(
      { code: tooLow.code, status: tooLow.status, field: tooLow.field, hash: tooLow.hash },
      { code: 'nonce_too_low', status: 409, field: 'nonce', hash: hashTx(stale) },
    );
  });

  it('a committed tx that failed throws with its code, hash and height; its nonce is spent', async () => {
    const before = await client.getAccount(dev.address);
    const balance = BigInt(before.balances.find((b) => b.asset === 'USD')!.balance);
    const tx = await transfer(generateKey().address, String(balance + 1n), before.nonce);
    const error = await rejection(client.submit(tx, { wait: 'commit' }));
    assert.equal(error.code, 'insufficient_funds');
    assert.equal(error.status, 422);
    assert.equal(error.hash, hashTx(tx));
    assert.equal(typeof error.height, 'number');
    assert.equal(error.index, 0);
    assert.equal(error.txStatus, 'insufficient_funds');
    assert.equal(error.committed, true);

    const found = await client.getTx(error.hash);
    assert.equal(found.receipt?.status, 'insufficient_funds');
    assert.equal(found.height, error.height);
    const after = await client.getAccount(dev.address);
    assert.equal(after.nonce, before.nonce + 1);
    assert.deepEqual(after.balances, before.balances);

    // send() throws the same way.
    const viaSend = await rejection(
      client.send(dev, txs.transfer({ to: dev.address, asset: 'USD', amount: '1' })),
    );
    assert.equal(viaSend.code, 'accounts_must_be_different');
    assert.equal(viaSend.committed, true);
  });

  it('a closed port is a network_error with status 0 naming the node', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const dead = createClient(`http://127.0.0.1:${port}`);
    const error = await rejection(dead.health());
    assert.equal(error.code, 'network_error');
    assert.equal(error.status, 0);
    assert.match(
      error.message,
      new RegExp(`cannot reach the node at http://127\\.0\\.0\\.1:${port}`),
    );
    assert.match(error.message, /ECONNREFUSED/);
    assert.ok(error.cause instanceof Error);
    const submitted = await rejection(dead.submit(await transfer(dev.address, '1')));
    assert.equal(submitted.code, 'network_error');
  });

  it('a node that never answers is a network_error after timeoutMs', async () => {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const slow = createClient(`http://127.0.0.1:${port}`, { timeoutMs: 100 });
      const error = await rejection(slow.submit(await transfer(dev.address, '1')));
      assert.equal(error.code, 'network_error');
      assert.equal(error.status, 0);
      assert.match(error.message, /did not answer POST \/v1\/txs within 100 ms/);
      assert.match(error.message, /may still commit/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('an answer that is not the API: http_error or invalid_response', async () => {
    const server = http.createServer((request, response) => {
      if (request.url === '/health') {
        response.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad Gateway</h1>');
      } else {
        response.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const proxy = createClient(`http://127.0.0.1:${port}/`);
      const gateway = await rejection(proxy.health());
      assert.deepEqual([gateway.code, gateway.status], ['http_error', 502]);
      assert.match(gateway.message, /Bad Gateway/);
      const text = await rejection(proxy.getAssets());
      assert.deepEqual([text.code, text.status], ['invalid_response', 200]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('createClient checks its arguments', () => {
    for (const [baseUrl, options, field] of [
      ['127.0.0.1:7420', {}, 'baseUrl'],
      ['ftp://x', {}, 'baseUrl'],
      ['http://x', { timeoutMs: 0 }, 'timeoutMs'],
      ['http://x', { timeoutMs: 1.5 }, 'timeoutMs'],
    ] as const) {
      assert.throws(
        () => createClient(baseUrl, options),
        (error: unknown) =>
          error instanceof CofferError && error.code === 'invalid_input' && error.field === field,
      );
    }
  });
});
