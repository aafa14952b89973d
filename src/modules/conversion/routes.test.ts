import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { rejection, startTestNode, type TestNode } from '../../../test/support/test-node.js';
import { generateKey, type SigningKey } from '../../sdk/keys.js';
import { conversionTxBuilders as build, type EngineConfiguration } from './client.js';
import { enginePageSchema } from './schema.js';

/*
 * The registry's routes and SDK namespace against a real node in this process (SQLite on disk,
 * blocks cut every 5 ms): txs sent as an operator would, then the reads, their shapes and their
 * errors, and a refused tx's code as the API answers it.
 */

describe('conversion registry routes', () => {
  let t: TestNode;
  const operator = generateKey();
  const others = [generateKey(), generateKey(), generateKey()];
  const usd = { ecosystem: 'home', asset: 'USD' };
  const usdc = { ecosystem: 'base', asset: 'USDC' };

  const send = (key: SigningKey, tx: { type: string; payload: Record<string, unknown> }) =>
    t.client.send(key, tx);
  const get = (url: string) => t.node.app.inject({ method: 'GET', url });

  before(async () => {
    t = await startTestNode('conversion-routes');
    const steps = [
      build.engineSet({
        name: 'Harbour FX',
        quoteTtlSeconds: 30,
        hopsMax: 2,
        slippageBpsMax: 100,
        status: 'active',
      }),
      build.ecosystemSet({
        ecosystem: 'home',
        kind: 'coffer',
        network: t.node.chain.chainId,
        engineAddress: operator.address,
        blockMsMin: 5,
        blockMsMax: 60_000,
        status: 'active',
      }),
      build.ecosystemSet({
        ecosystem: 'base',
        kind: 'evm',
        network: '8453',
        engineAddress: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
        status: 'active',
      }),
      build.assetSet({
        ...usd,
        decimals: 2,
        currency: 'USD',
        liquidityLow: '100000',
        liquidityHigh: '10000000',
      }),
      build.assetSet({
        ...usdc,
        decimals: 6,
        currency: 'USD',
        liquidityLow: '1000000000',
        liquidityHigh: '100000000000',
      }),
      build.pairSet({
        from: usd,
        to: usdc,
        spreadBps: 20,
        feeBps: 5,
        feeFixed: '10000',
        min: '100',
        max: '1000000',
        status: 'active',
      }),
    ];
    for (const step of steps) {
      const result = await send(operator, step);
      assert.equal(result.status, 'ok', step.type);
    }
    for (const [i, other] of others.entries()) {
      const result = await send(
        other,
        build.engineSet({
          name: `Other ${i}`,
          quoteTtlSeconds: 60,
          hopsMax: 1,
          slippageBpsMax: 0,
          status: 'paused',
        }),
      );
      assert.equal(result.status, 'ok');
    }
  });

  after(() => t.close());

  it('GET /v1/conversion/engines/{address} answers the whole configuration', async () => {
    const res = await get(`/v1/conversion/engines/${operator.address}`);
    assert.equal(res.statusCode, 200, res.body);
    const configuration = res.json<EngineConfiguration>();
    assert.deepEqual(
      { ...configuration.engine, createdAtHeight: 0, updatedAtHeight: 0 },
      {
        address: operator.address,
        name: 'Harbour FX',
        quoteTtlSeconds: 30,
        hopsMax: 2,
        slippageBpsMax: 100,
        status: 'active',
        ecosystemCount: 2,
        pairCount: 1,
        createdAtHeight: 0,
        updatedAtHeight: 0,
      },
    );
    assert.ok(configuration.engine.updatedAtHeight > configuration.engine.createdAtHeight);
    assert.deepEqual(
      configuration.ecosystems.map((e) => [e.ecosystem, e.kind, e.assetCount, e.blockMsMax]),
      [
        ['base', 'evm', 1, undefined],
        ['home', 'coffer', 1, 60_000],
      ],
    );
    assert.deepEqual(
      configuration.assets.map((a) => [a.ecosystem, a.asset, a.decimals, a.pairCount]),
      [
        ['base', 'USDC', 6, 1],
        ['home', 'USD', 2, 1],
      ],
    );
    assert.equal(configuration.pairs.length, 1);
    assert.deepEqual(
      { ...configuration.pairs[0]!, updatedAtHeight: 0 },
      {
        from: usd,
        to: usdc,
        spreadBps: 20,
        feeBps: 5,
        feeFixed: '10000',
        min: '100',
        max: '1000000',
        status: 'active',
        updatedAtHeight: 0,
      },
    );
    // The SDK reads the same.
    assert.deepEqual(await t.client.conversion.engine(operator.address), configuration);
  });

  it('answers engine_not_found and invalid_address', async () => {
    const missing = await get(`/v1/conversion/engines/${generateKey().address}`);
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(
      missing.json<{ error: { code: string; field: string } }>().error.code,
      'engine_not_found',
    );
    const bad = await get('/v1/conversion/engines/cof1nothing');
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json<{ error: { code: string } }>().error.code, 'invalid_address');
    const sdk = await rejection(t.client.conversion.engine(generateKey().address));
    assert.deepEqual([sdk.code, sdk.status], ['engine_not_found', 404]);
  });

  it('GET /v1/conversion/engines pages through every engine in address order', async () => {
    const all = [operator, ...others].map((k) => k.address).sort();
    const first = await get('/v1/conversion/engines?limit=3');
    assert.equal(first.statusCode, 200, first.body);
    const page = enginePageSchema.parse(first.json());
    assert.deepEqual(
      page.engines.map((e) => e.address),
      all.slice(0, 3),
    );
    assert.equal(page.next, all[2]);
    const rest = await t.client.conversion.engines({ after: page.next, limit: 3 });
    assert.deepEqual(
      rest.engines.map((e) => e.address),
      all.slice(3),
    );
    assert.equal(rest.next, null);
    const whole = await t.client.conversion.engines();
    assert.equal(whole.engines.length, 4);
    assert.equal(whole.next, null);
    for (const url of [
      '/v1/conversion/engines?limit=0',
      '/v1/conversion/engines?limit=101',
      '/v1/conversion/engines?limit=x',
      '/v1/conversion/engines?after=someone',
    ]) {
      const res = await get(url);
      assert.equal(res.statusCode, 400, url);
    }
  });

  it('answers a refused tx with its code and status, changing nothing', async () => {
    const before = await t.client.conversion.engine(operator.address);
    const same = await rejection(
      send(
        operator,
        build.pairSet({
          from: usd,
          to: usd,
          spreadBps: 0,
          feeBps: 0,
          feeFixed: '0',
          min: '1',
          max: '1',
          status: 'active',
        }),
      ),
    );
    assert.deepEqual([same.code, same.field, same.status], ['pair_same_asset', 'payload.to', 400]);
    const inUse = await rejection(send(operator, build.assetRemove('home', 'USD')));
    assert.deepEqual([inUse.code, inUse.status], ['asset_in_use', 422]);
    const none = await rejection(send(others[0]!, build.pairRemove(usd, usdc)));
    assert.equal(none.code, 'pair_not_found');
    assert.deepEqual(await t.client.conversion.engine(operator.address), before);
  });

  it('lists the routes in the OpenAPI document with their shapes', async () => {
    const doc = (await get('/openapi.json')).json<{
      paths: Record<string, { get?: { responses: Record<string, unknown>; tags: string[] } }>;
    }>();
    const one = doc.paths['/v1/conversion/engines/{address}']?.get;
    const list = doc.paths['/v1/conversion/engines']?.get;
    assert.deepEqual(one?.tags, ['conversion']);
    assert.deepEqual(list?.tags, ['conversion']);
    assert.match(JSON.stringify(one?.responses['200']), /ecosystems.*assets.*pairs/);
  });
});
