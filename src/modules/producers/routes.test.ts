import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import Fastify from 'fastify';

import { TestBlockSigner } from '../../../test/support/block-signer.js';
import {
  genesisTime,
  ModuleTestHarness,
  testAccount,
  type ModuleTestChain,
  type TestAccount,
} from '../../../test/support/module-chain.js';
import {
  blockHash,
  blockSigningMessage,
  isRejection,
  ledgerModule,
  ModuleRegistry,
  zeroHash,
} from '../../chain/index.js';
import { commitNonces, encryptHiddenInfo, signAtHeight, toHex } from '../../crypto/index.js';
import type { ModuleHost } from '../../node/module-host.js';
import {
  getProducer,
  listProducers,
  nonceRangeHistory,
  producersModule,
  readParams,
  validateBlockSignature,
  type ProducersGenesis,
} from './index.js';
import { producerRoutes } from './routes.js';
import { nonceRangeHistorySchema, producerListSchema, producerSchema } from './schema.js';

/*
 * The routes answer through their response schemas (fast-json-stringify drops what a schema does
 * not list): each answer must be the query's result, field for field, and parse strictly as the
 * record schema the SDK's types come from.
 */

const chainId = 'coffer-producer-routes';
const harness = new ModuleTestHarness({
  name: 'producer-routes',
  chainId,
  registry: new ModuleRegistry([ledgerModule, producersModule]),
  validateBlock: validateBlockSignature,
});
after(() => harness.close());

const alice = testAccount(1);
const bob = testAccount(2);
const solo = harness.signer;
const second = new TestBlockSigner(new Uint8Array(32).fill(7), chainId, 16);

function newChain(): ModuleTestChain {
  const hidden = encryptHiddenInfo(solo.key.secretScalar, { name: 'solo' });
  const section: ProducersGenesis = {
    params: {
      bondAsset: 'USD',
      bondMin: '1000',
      unbondingPeriodHeights: 10,
      evidenceWindowHeights: 5,
      slashBurnBasisPoints: 2_500,
      nonceRangeHeightsMax: 64,
      nonceRangesAheadMax: 2,
    },
    producers: [
      {
        operator: bob.address,
        publicKey: toHex(solo.key.publicKey),
        hiddenInfo: hidden.hiddenInfo,
        commitment: hidden.commitment,
        bond: '0',
        nonces: solo.range(0),
      },
    ],
  };
  return harness.open(
    harness.genesis({
      assets: [{ symbol: 'USD', decimals: 2, issuer: alice.address }],
      balances: [{ address: alice.address, asset: 'USD', amount: '100000' }],
      modules: { producers: section },
    }),
  );
}

function run(node: ModuleTestChain, sender: TestAccount, type: string, payload: object): void {
  const decoded = node.admit(sender, type, payload as Record<string, unknown>);
  assert.ok(!isRejection(decoded), isRejection(decoded) ? decoded.code : '');
  assert.equal(node.produce([decoded]).receipts[0]!.status, 'ok');
}

function signedHeader(height: number, stateRoot: string) {
  const header = {
    chainId,
    height,
    prevHash: zeroHash,
    time: genesisTime,
    txCount: 0,
    txRoot: zeroHash,
    receiptRoot: zeroHash,
    stateRoot,
    producer: second.producer,
  };
  const message = blockSigningMessage(blockHash(header));
  return { header, signature: signAtHeight(second.key, chainId, height, message) };
}

async function routesOver(node: ModuleTestChain) {
  const app = Fastify();
  producerRoutes({ app, store: node.store, chain: node.chain } as unknown as ModuleHost);
  await app.ready();
  const get = async (url: string) => {
    const response = await app.inject({ method: 'GET', url });
    assert.equal(response.statusCode, 200, response.body);
    return JSON.parse(response.body) as unknown;
  };
  return { app, get };
}

/** JSON as a handler's value would serialize without a schema. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('producer routes answer every field of their records', () => {
  it('a pending, an active and a jailed producer with its equivocation; the list, params and nonce ranges', async () => {
    const node = newChain();
    const { app, get } = await routesOver(node);
    try {
      // Pending: approvals listed.
      const hidden = encryptHiddenInfo(second.key.secretScalar, { name: 'Second Ltd' });
      const from = node.chain.height() + 2;
      run(node, alice, 'producer.register', {
        publicKey: toHex(second.key.publicKey),
        hiddenInfo: hidden.hiddenInfo,
        commitment: hidden.commitment,
        bond: '4000',
        nonces: {
          fromHeight: from,
          count: 16,
          root: commitNonces(second.key.nonceSecret, chainId, from, 16).root,
        },
      });
      const pending = await get(`/v1/producers/${second.producer}`);
      assert.deepEqual(pending, plain(getProducer(node.store, second.producer)));
      assert.deepEqual((pending as { approvals: string[] }).approvals, []);
      producerSchema.strict().parse(pending);

      // Active with lastSeenHeight (the genesis producer, once a block is made).
      node.produce([]);
      const active = await get(`/v1/producers/${solo.producer}`);
      assert.deepEqual(active, plain(getProducer(node.store, solo.producer)));
      assert.equal(typeof (active as { lastSeenHeight?: number }).lastSeenHeight, 'number');

      // Approved, then jailed for equivocating: the equivocation record with the revealed info.
      run(node, bob, 'producer.approve', { producer: second.producer });
      const height = node.chain.height() + 1;
      run(node, bob, 'evidence.equivocation', {
        a: signedHeader(height, 'aa'.repeat(32)),
        b: signedHeader(height, 'bb'.repeat(32)),
      });
      const jailed = await get(`/v1/producers/${second.producer}`);
      assert.deepEqual(jailed, plain(getProducer(node.store, second.producer)));
      assert.deepEqual((jailed as { equivocation: { info: unknown } }).equivocation.info, {
        name: 'Second Ltd',
      });
      producerSchema.strict().parse(jailed);

      const list = await get('/v1/producers');
      assert.deepEqual(
        list,
        plain({ producers: listProducers(node.store), params: readParams(node.store) }),
      );
      producerListSchema.strict().parse(list);

      const ranges = await get(`/v1/producers/${second.producer}/nonce-ranges?from=0`);
      assert.deepEqual(ranges, {
        producer: second.producer,
        ranges: plain(nonceRangeHistory(node.store, second.producer)),
        more: false,
      });
      nonceRangeHistorySchema.strict().parse(ranges);
    } finally {
      await app.close();
    }
  });

  it('errors keep their shape: invalid_producer and producer_not_found name the id', async () => {
    const node = newChain();
    const { app } = await routesOver(node);
    try {
      const bad = await app.inject({ method: 'GET', url: '/v1/producers/nope' });
      assert.equal(bad.statusCode, 400);
      assert.equal((JSON.parse(bad.body) as { error: { field: string } }).error.field, 'id');
      const missing = await app.inject({
        method: 'GET',
        url: `/v1/producers/${second.producer}/nonce-ranges`,
      });
      const { error } = JSON.parse(missing.body) as { error: { code: string; field: string } };
      assert.deepEqual([error.code, error.field], ['producer_not_found', 'id']);
    } finally {
      await app.close();
    }
  });

  it("POST /v1/evidence: the body must hold objects a and b (others dropped); the halves are the parser's", async () => {
    const node = newChain();
    const app = Fastify();
    let healthy = false;
    producerRoutes({
      app,
      store: node.store,
      chain: node.chain,
      get healthy() {
        return healthy;
      },
    } as unknown as ModuleHost);
    // As the node's error handler (src/node/api.ts) reads a validation error: the first issue.
    let issue: Record<string, unknown> | undefined;
    app.setErrorHandler(
      (error: { validation?: Record<string, unknown>[]; message: string }, _request, reply) => {
        issue = error.validation?.[0];
        return reply.code(400).send({ error: { code: 'invalid_request', message: error.message } });
      },
    );
    await app.ready();
    const post = async (payload: unknown) => {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/evidence',
        payload: payload as object,
      });
      return {
        status: response.statusCode,
        body: JSON.parse(response.body) as {
          error: { code: string; message: string; field?: string };
        },
      };
    };
    try {
      const missing = await post({ a: {} });
      assert.equal(missing.status, 400);
      assert.match(missing.body.error.message, /body must have required property 'b'/);
      assert.deepEqual([issue?.keyword, issue?.params], ['required', { missingProperty: 'b' }]);
      const notObject = await post({ a: [], b: {} });
      assert.equal(notObject.status, 400);
      assert.match(notObject.body.error.message, /body\/a must be object/);
      assert.deepEqual([issue?.keyword, issue?.instancePath], ['type', '/a']);
      assert.equal((await post([])).status, 400);
      // A well-formed envelope reaches the handler: not ready first, then the tx parser.
      assert.equal((await post({ a: {}, b: {} })).body.error.code, 'not_ready');
      healthy = true;
      const halves = await post({ a: {}, b: {}, extra: 1 });
      assert.equal(halves.status, 400);
      assert.deepEqual(
        [halves.body.error.code, halves.body.error.field],
        ['invalid_evidence', 'a'],
      );
    } finally {
      await app.close();
    }
  });
});
