import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assetsPerEcosystemMax,
  ecosystemsPerEngineMax,
  isEvmAddress,
  pairsPerEngineMax,
} from './schema.js';
import {
  conversionKeys,
  readAsset,
  readEcosystem,
  readEngine,
  readPair,
  readPairs,
} from './state.js';
import {
  assetPayload,
  baseUsdc,
  cofferEcosystem,
  configuredWorld,
  conversionWorld,
  enginePayload,
  evmAddress,
  evmEcosystem,
  expectOk,
  homeUsd,
  key,
  operator,
  otherOperator,
  pairPayload,
} from './txs-fixture.js';

type World = ReturnType<typeof conversionWorld>;

/** Every value under conversion/, to show a tx changed nothing. */
function registryState(w: World): [string, string][] {
  return w.state.range('conversion/', 100_000);
}

/** Runs a tx expected to be refused: its code, the field it names, and no state change. */
function refused(
  w: World,
  sender: typeof operator,
  type: string,
  payload: Record<string, unknown>,
) {
  const before = registryState(w);
  const code = w.run(sender, type, payload);
  assert.deepEqual(registryState(w), before, `${type} refused with ${code} changed nothing`);
  assert.deepEqual(w.events, []);
  return { code, field: w.field };
}

describe('conversion.setEngine', () => {
  it('creates the sender’s engine, keyed by its address, then updates it keeping counts', () => {
    const w = conversionWorld();
    assert.equal(w.run(operator, 'conversion.setEngine', enginePayload), 'ok');
    assert.deepEqual(w.events, [
      {
        type: 'conversion.engineSet',
        data: { engine: operator.address, ...enginePayload, created: true },
      },
    ]);
    const created = readEngine(w.state, operator.address)!;
    assert.deepEqual(created, {
      address: operator.address,
      ...enginePayload,
      ecosystemCount: 0,
      pairCount: 0,
      createdAtHeight: 1,
      updatedAtHeight: 1,
    });
    expectOk(w.run(operator, 'conversion.setEcosystem', cofferEcosystem()), 'ecosystem');
    const update = { ...enginePayload, name: 'Harbour FX 2', status: 'paused', hopsMax: 4 };
    assert.equal(w.run(operator, 'conversion.setEngine', update), 'ok');
    assert.equal(w.events[0]!.data.created, false);
    assert.deepEqual(readEngine(w.state, operator.address), {
      address: operator.address,
      ...update,
      ecosystemCount: 1,
      pairCount: 0,
      createdAtHeight: 1,
      updatedAtHeight: 3,
    });
  });

  it('refuses each bad field with its code, naming the field', () => {
    const w = conversionWorld();
    const cases: [Record<string, unknown>, string, string][] = [
      [{ name: '' }, 'invalid_engine_name', 'name'],
      [{ name: ' padded' }, 'invalid_engine_name', 'name'],
      [{ name: 'x'.repeat(65) }, 'invalid_engine_name', 'name'],
      [{ name: 'tab\there' }, 'invalid_engine_name', 'name'],
      [{ name: 'é' }, 'invalid_engine_name', 'name'],
      [{ quoteTtlSeconds: 4 }, 'invalid_quote_ttl', 'quoteTtlSeconds'],
      [{ quoteTtlSeconds: 3601 }, 'invalid_quote_ttl', 'quoteTtlSeconds'],
      [{ quoteTtlSeconds: 30.5 }, 'invalid_quote_ttl', 'quoteTtlSeconds'],
      [{ hopsMax: 0 }, 'invalid_hops_max', 'hopsMax'],
      [{ hopsMax: 5 }, 'invalid_hops_max', 'hopsMax'],
      [{ slippageBpsMax: -1 }, 'invalid_slippage_bps_max', 'slippageBpsMax'],
      [{ slippageBpsMax: 10_001 }, 'invalid_slippage_bps_max', 'slippageBpsMax'],
      [{ status: 'closed' }, 'invalid_conversion_status', 'status'],
      [{ owner: operator.address }, 'unknown_field', 'owner'],
    ];
    for (const [change, code, field] of cases) {
      assert.deepEqual(
        refused(w, operator, 'conversion.setEngine', { ...enginePayload, ...change }),
        { code, field },
        JSON.stringify(change),
      );
    }
    for (const edge of [
      { name: 'x'.repeat(64), quoteTtlSeconds: 5, hopsMax: 1, slippageBpsMax: 0 },
      { name: 'a b', quoteTtlSeconds: 3600, hopsMax: 4, slippageBpsMax: 10_000 },
    ]) {
      assert.equal(w.run(operator, 'conversion.setEngine', { ...enginePayload, ...edge }), 'ok');
    }
  });
});

describe('who may change an engine', () => {
  it('no account reaches another’s engine: its txs act on its own, or find none', () => {
    const w = configuredWorld();
    const before = registryState(w);
    // Without an engine of its own, every tx of another account is engine_not_found.
    const attempts: [string, Record<string, unknown>][] = [
      ['conversion.setEcosystem', cofferEcosystem('home', { network: 'evil' })],
      ['conversion.removeEcosystem', { ecosystem: 'home' }],
      ['conversion.setAsset', assetPayload('home', 'USD', { liquidityLow: '0' })],
      ['conversion.removeAsset', { ecosystem: 'home', asset: 'USD' }],
      ['conversion.setPair', pairPayload(homeUsd, baseUsdc, { feeBps: 5000 })],
      ['conversion.removePair', { from: homeUsd, to: baseUsdc }],
    ];
    for (const [type, payload] of attempts) {
      assert.equal(w.run(otherOperator, type, payload), 'engine_not_found', type);
    }
    // With one, its engine.set writes its own record only.
    assert.equal(
      w.run(otherOperator, 'conversion.setEngine', { ...enginePayload, name: 'Other' }),
      'ok',
    );
    assert.equal(readEngine(w.state, otherOperator.address)!.name, 'Other');
    assert.equal(
      w.run(otherOperator, 'conversion.removePair', { from: homeUsd, to: baseUsdc }),
      'pair_not_found',
    );
    assert.equal(
      w.run(otherOperator, 'conversion.setAsset', assetPayload('home', 'USD')),
      'ecosystem_not_found',
    );
    const after = registryState(w).filter(([k]) => !k.includes(otherOperator.address));
    assert.deepEqual(after, before, "the operator's engine is as it was");
  });
});

describe('conversion.setEcosystem and remove', () => {
  function withEngine() {
    const w = conversionWorld();
    expectOk(w.run(operator, 'conversion.setEngine', enginePayload), 'engine');
    return w;
  }

  it('needs the sender’s engine', () => {
    const w = conversionWorld();
    assert.equal(w.run(operator, 'conversion.setEcosystem', cofferEcosystem()), 'engine_not_found');
    assert.equal(
      w.run(operator, 'conversion.removeEcosystem', { ecosystem: 'home' }),
      'engine_not_found',
    );
  });

  it('adds each kind, counting it on the engine, and emits the change', () => {
    const w = withEngine();
    assert.equal(w.run(operator, 'conversion.setEcosystem', cofferEcosystem()), 'ok');
    assert.deepEqual(w.events, [
      {
        type: 'conversion.ecosystemSet',
        data: { engine: operator.address, ...cofferEcosystem(), created: true },
      },
    ]);
    assert.equal(w.run(operator, 'conversion.setEcosystem', evmEcosystem()), 'ok');
    const http = {
      ecosystem: 'acme-pay',
      kind: 'http',
      network: 'acme',
      engineAddress: 'acct_8f2K:main@eu-1',
      status: 'paused',
    };
    assert.equal(w.run(operator, 'conversion.setEcosystem', http), 'ok');
    assert.deepEqual(readEcosystem(w.state, operator.address, 'acme-pay'), {
      ...http,
      assetCount: 0,
      updatedAtHeight: 4,
    });
    assert.deepEqual(readEcosystem(w.state, operator.address, 'home'), {
      ...cofferEcosystem(),
      assetCount: 0,
      updatedAtHeight: 2,
    });
    const engine = readEngine(w.state, operator.address)!;
    assert.equal(engine.ecosystemCount, 3);
    assert.equal(engine.updatedAtHeight, 4);
    // An update counts nothing new.
    assert.equal(
      w.run(operator, 'conversion.setEcosystem', evmEcosystem('base', { network: '1' })),
      'ok',
    );
    assert.equal(w.events[0]!.data.created, false);
    assert.equal(readEngine(w.state, operator.address)!.ecosystemCount, 3);
    assert.equal(readEcosystem(w.state, operator.address, 'base')!.network, '1');
  });

  it('checks the network, the engine address and the block interval by kind', () => {
    const w = withEngine();
    const cases: [Record<string, unknown>, string, string][] = [
      [cofferEcosystem('Home'), 'invalid_ecosystem', 'ecosystem'],
      [cofferEcosystem('h'), 'invalid_ecosystem', 'ecosystem'],
      [cofferEcosystem('a'.repeat(33)), 'invalid_ecosystem', 'ecosystem'],
      [cofferEcosystem('home', { kind: 'ibc' }), 'invalid_ecosystem_kind', 'kind'],
      [cofferEcosystem('home', { network: '' }), 'invalid_network', 'network'],
      [cofferEcosystem('home', { network: 'x'.repeat(65) }), 'invalid_network', 'network'],
      [cofferEcosystem('home', { network: 'Coffer_Main' }), 'invalid_network', 'network'],
      [evmEcosystem('base', { network: '0' }), 'invalid_network', 'network'],
      [evmEcosystem('base', { network: '01' }), 'invalid_network', 'network'],
      [evmEcosystem('base', { network: 'base' }), 'invalid_network', 'network'],
      [evmEcosystem('base', { network: '18446744073709551616' }), 'invalid_network', 'network'],
      [{ ...evmEcosystem(), kind: 'http', network: 'Acme Pay' }, 'invalid_network', 'network'],
      [
        cofferEcosystem('home', { engineAddress: evmAddress }),
        'invalid_engine_address',
        'engineAddress',
      ],
      [
        cofferEcosystem('home', { engineAddress: operator.address.slice(0, -1) + 'q' }),
        'invalid_engine_address',
        'engineAddress',
      ],
      [
        evmEcosystem('base', { engineAddress: operator.address }),
        'invalid_engine_address',
        'engineAddress',
      ],
      [
        evmEcosystem('base', { engineAddress: evmAddress.slice(0, 41) }),
        'invalid_engine_address',
        'engineAddress',
      ],
      [
        // The checksummed address with one letter's case flipped.
        evmEcosystem('base', { engineAddress: evmAddress.replace('aA', 'AA') }),
        'invalid_engine_address',
        'engineAddress',
      ],
      [
        { ...evmEcosystem(), kind: 'http', network: 'acme', engineAddress: 'has space' },
        'invalid_engine_address',
        'engineAddress',
      ],
      [cofferEcosystem('home', { engineAddress: '' }), 'invalid_engine_address', 'engineAddress'],
      [cofferEcosystem('home', { blockMsMin: undefined }), 'invalid_block_interval', 'blockMsMin'],
      [cofferEcosystem('home', { blockMsMax: undefined }), 'invalid_block_interval', 'blockMsMax'],
      [cofferEcosystem('home', { blockMsMin: 0 }), 'invalid_block_interval', 'blockMsMin'],
      [cofferEcosystem('home', { blockMsMax: 600_001 }), 'invalid_block_interval', 'blockMsMax'],
      [
        cofferEcosystem('home', { blockMsMin: 2000, blockMsMax: 1999 }),
        'invalid_block_interval',
        'blockMsMax',
      ],
      [evmEcosystem('base', { blockMsMin: 1000 }), 'invalid_block_interval', 'blockMsMin'],
      [evmEcosystem('base', { blockMsMax: 1000 }), 'invalid_block_interval', 'blockMsMax'],
      [cofferEcosystem('home', { status: 'off' }), 'invalid_conversion_status', 'status'],
    ];
    for (const [payload, code, field] of cases) {
      const clean = Object.fromEntries(Object.entries(payload).filter(([, v]) => v !== undefined));
      assert.deepEqual(
        refused(w, operator, 'conversion.setEcosystem', clean),
        { code, field },
        JSON.stringify(payload),
      );
    }
    const accepted = [
      cofferEcosystem('home', { blockMsMin: 1000, blockMsMax: 1000 }),
      cofferEcosystem('edge', { blockMsMin: 1, blockMsMax: 600_000, network: 'x'.repeat(63) }),
      evmEcosystem('lower', { engineAddress: evmAddress.toLowerCase() }),
      evmEcosystem('upper', { engineAddress: '0x' + evmAddress.slice(2).toUpperCase() }),
      evmEcosystem('big-id', { network: '18446744073709551615' }),
    ];
    for (const payload of accepted) {
      assert.equal(w.run(operator, 'conversion.setEcosystem', payload), 'ok', payload.ecosystem);
    }
  });

  it('changes an ecosystem’s kind only while it holds no asset', () => {
    const w = withEngine();
    expectOk(w.run(operator, 'conversion.setEcosystem', evmEcosystem('chain')), 'evm');
    expectOk(w.run(operator, 'conversion.setAsset', assetPayload('chain', 'USDC')), 'asset');
    const asCoffer = cofferEcosystem('chain');
    assert.deepEqual(
      refused(w, operator, 'conversion.setEcosystem', asCoffer).code,
      'ecosystem_in_use',
    );
    // Same kind, other settings: fine.
    assert.equal(
      w.run(operator, 'conversion.setEcosystem', evmEcosystem('chain', { status: 'paused' })),
      'ok',
    );
    assert.equal(readEcosystem(w.state, operator.address, 'chain')!.assetCount, 1, 'kept');
    expectOk(
      w.run(operator, 'conversion.removeAsset', { ecosystem: 'chain', asset: 'USDC' }),
      'rm',
    );
    assert.equal(w.run(operator, 'conversion.setEcosystem', asCoffer), 'ok');
    assert.equal(readEcosystem(w.state, operator.address, 'chain')!.kind, 'coffer');
  });

  it('removes an empty ecosystem only', () => {
    const w = configuredWorld();
    assert.equal(
      refused(w, operator, 'conversion.removeEcosystem', { ecosystem: 'nowhere' }).code,
      'ecosystem_not_found',
    );
    assert.equal(
      refused(w, operator, 'conversion.removeEcosystem', { ecosystem: 'base' }).code,
      'ecosystem_in_use',
    );
    expectOk(w.run(operator, 'conversion.removePair', { from: homeUsd, to: baseUsdc }), 'p1');
    expectOk(w.run(operator, 'conversion.removePair', { from: baseUsdc, to: homeUsd }), 'p2');
    expectOk(w.run(operator, 'conversion.removeAsset', baseUsdc), 'asset');
    assert.equal(w.run(operator, 'conversion.removeEcosystem', { ecosystem: 'base' }), 'ok');
    assert.deepEqual(w.events, [
      {
        type: 'conversion.ecosystemRemoved',
        data: { engine: operator.address, ecosystem: 'base' },
      },
    ]);
    assert.equal(readEcosystem(w.state, operator.address, 'base'), undefined);
    assert.equal(readEngine(w.state, operator.address)!.ecosystemCount, 1);
  });

  it(`holds at most ${ecosystemsPerEngineMax} ecosystems an engine`, () => {
    const w = withEngine();
    for (let i = 0; i < ecosystemsPerEngineMax; i += 1) {
      expectOk(w.run(operator, 'conversion.setEcosystem', evmEcosystem(`e-${i}`)), `e-${i}`);
    }
    assert.equal(
      refused(w, operator, 'conversion.setEcosystem', evmEcosystem('one-more')).code,
      'too_many_ecosystems',
    );
    // An update at the bound is no new ecosystem.
    assert.equal(
      w.run(operator, 'conversion.setEcosystem', evmEcosystem('e-3', { status: 'paused' })),
      'ok',
    );
    expectOk(w.run(operator, 'conversion.removeEcosystem', { ecosystem: 'e-0' }), 'remove');
    assert.equal(w.run(operator, 'conversion.setEcosystem', evmEcosystem('one-more')), 'ok');
    assert.equal(readEngine(w.state, operator.address)!.ecosystemCount, ecosystemsPerEngineMax);
  });
});

describe('conversion.setAsset and remove', () => {
  it('adds an asset to an ecosystem of the engine and updates it', () => {
    const w = conversionWorld();
    assert.equal(
      w.run(operator, 'conversion.setAsset', assetPayload('base', 'USDC')),
      'engine_not_found',
    );
    expectOk(w.run(operator, 'conversion.setEngine', enginePayload), 'engine');
    assert.equal(
      refused(w, operator, 'conversion.setAsset', assetPayload('base', 'USDC')).code,
      'ecosystem_not_found',
    );
    expectOk(w.run(operator, 'conversion.setEcosystem', evmEcosystem()), 'base');
    assert.equal(w.run(operator, 'conversion.setAsset', assetPayload('base', 'USDC')), 'ok');
    assert.deepEqual(w.events, [
      {
        type: 'conversion.assetSet',
        data: { engine: operator.address, ...assetPayload('base', 'USDC'), created: true },
      },
    ]);
    assert.deepEqual(readAsset(w.state, operator.address, 'base', 'USDC'), {
      ...assetPayload('base', 'USDC'),
      pairCount: 0,
      updatedAtHeight: 3,
    });
    assert.equal(readEcosystem(w.state, operator.address, 'base')!.assetCount, 1);
    const update = assetPayload('base', 'USDC', { decimals: 8, liquidityHigh: '70000000' });
    assert.equal(w.run(operator, 'conversion.setAsset', update), 'ok');
    assert.equal(w.events[0]!.data.created, false);
    assert.equal(readEcosystem(w.state, operator.address, 'base')!.assetCount, 1);
    assert.equal(readAsset(w.state, operator.address, 'base', 'USDC')!.decimals, 8);
    // Symbols are case-sensitive: cUSDC and CUSDC are two assets.
    assert.equal(w.run(operator, 'conversion.setAsset', assetPayload('base', 'cUSDC')), 'ok');
    assert.equal(w.run(operator, 'conversion.setAsset', assetPayload('base', 'CUSDC')), 'ok');
    assert.equal(readEcosystem(w.state, operator.address, 'base')!.assetCount, 3);
  });

  it('refuses each bad field with its code', () => {
    const w = configuredWorld();
    const cases: [Record<string, unknown>, string, string][] = [
      [{ ecosystem: 'B' }, 'invalid_ecosystem', 'ecosystem'],
      [{ asset: 'U' }, 'invalid_conversion_asset', 'asset'],
      [{ asset: 'USD.e' }, 'invalid_conversion_asset', 'asset'],
      [{ asset: 'A'.repeat(13) }, 'invalid_conversion_asset', 'asset'],
      [{ decimals: 19 }, 'invalid_decimals', 'decimals'],
      [{ decimals: -1 }, 'invalid_decimals', 'decimals'],
      [{ currency: 'usd' }, 'invalid_currency', 'currency'],
      [{ currency: 'US' }, 'invalid_currency', 'currency'],
      [{ currency: 'USDOLL' }, 'invalid_currency', 'currency'],
      [{ liquidityLow: '01' }, 'invalid_liquidity', 'liquidityLow'],
      [{ liquidityLow: '-1' }, 'invalid_liquidity', 'liquidityLow'],
      [{ liquidityLow: 5 }, 'invalid_liquidity', 'liquidityLow'],
      [{ liquidityHigh: '1.5' }, 'invalid_liquidity', 'liquidityHigh'],
      [{ liquidityHigh: (2n ** 127n).toString() }, 'invalid_liquidity', 'liquidityHigh'],
      [{ liquidityLow: '10', liquidityHigh: '9' }, 'invalid_liquidity', 'liquidityHigh'],
    ];
    for (const [change, code, field] of cases) {
      assert.deepEqual(
        refused(w, operator, 'conversion.setAsset', assetPayload('base', 'EURC', change)),
        { code, field },
        JSON.stringify(change),
      );
    }
    for (const change of [
      { liquidityLow: '0', liquidityHigh: '0', decimals: 0, currency: 'EUR' },
      { liquidityLow: '7', liquidityHigh: '7', decimals: 18, currency: 'XAUUS' },
    ]) {
      assert.equal(
        w.run(operator, 'conversion.setAsset', assetPayload('base', 'EURC', change)),
        'ok',
      );
    }
  });

  it('keeps an asset a pair uses: no removal, no new decimals', () => {
    const w = configuredWorld();
    assert.equal(readAsset(w.state, operator.address, 'base', 'USDC')!.pairCount, 2);
    assert.equal(refused(w, operator, 'conversion.removeAsset', baseUsdc).code, 'asset_in_use');
    assert.equal(
      refused(w, operator, 'conversion.setAsset', assetPayload('base', 'USDC', { decimals: 18 }))
        .code,
      'asset_in_use',
    );
    // Its other settings may change.
    assert.equal(
      w.run(operator, 'conversion.setAsset', assetPayload('base', 'USDC', { liquidityLow: '0' })),
      'ok',
    );
    assert.equal(readAsset(w.state, operator.address, 'base', 'USDC')!.pairCount, 2, 'kept');
    assert.equal(
      refused(w, operator, 'conversion.removeAsset', { ecosystem: 'base', asset: 'DAI' }).code,
      'asset_not_registered',
    );
    assert.equal(
      refused(w, operator, 'conversion.removeAsset', { ecosystem: 'nowhere', asset: 'DAI' }).code,
      'ecosystem_not_found',
    );
    expectOk(w.run(operator, 'conversion.removePair', { from: homeUsd, to: baseUsdc }), 'p1');
    assert.equal(refused(w, operator, 'conversion.removeAsset', baseUsdc).code, 'asset_in_use');
    expectOk(w.run(operator, 'conversion.removePair', { from: baseUsdc, to: homeUsd }), 'p2');
    assert.equal(w.run(operator, 'conversion.removeAsset', baseUsdc), 'ok');
    assert.deepEqual(w.events, [
      {
        type: 'conversion.assetRemoved',
        data: { engine: operator.address, ecosystem: 'base', asset: 'USDC' },
      },
    ]);
    assert.equal(readAsset(w.state, operator.address, 'base', 'USDC'), undefined);
    assert.equal(readEcosystem(w.state, operator.address, 'base')!.assetCount, 0);
  });

  it(`holds at most ${assetsPerEcosystemMax} assets an ecosystem`, () => {
    const w = configuredWorld();
    for (let i = 1; i < assetsPerEcosystemMax; i += 1) {
      expectOk(w.run(operator, 'conversion.setAsset', assetPayload('base', `A${i}`)), `A${i}`);
    }
    assert.equal(
      readEcosystem(w.state, operator.address, 'base')!.assetCount,
      assetsPerEcosystemMax,
    );
    assert.equal(
      refused(w, operator, 'conversion.setAsset', assetPayload('base', 'ONEMORE')).code,
      'too_many_assets',
    );
    // Another ecosystem has its own bound; an update at the bound is no new asset.
    assert.equal(w.run(operator, 'conversion.setAsset', assetPayload('home', 'ONEMORE')), 'ok');
    assert.equal(
      w.run(operator, 'conversion.setAsset', assetPayload('base', 'A3', { currency: 'EUR' })),
      'ok',
    );
    expectOk(w.run(operator, 'conversion.removeAsset', { ecosystem: 'base', asset: 'A1' }), 'rm');
    assert.equal(w.run(operator, 'conversion.setAsset', assetPayload('base', 'ONEMORE')), 'ok');
  });
});

describe('conversion.setPair and remove', () => {
  it('adds a pair of two registered assets, counting it on both and on the engine', () => {
    const w = configuredWorld();
    const engine = readEngine(w.state, operator.address)!;
    assert.equal(engine.pairCount, 2);
    assert.deepEqual(readPair(w.state, operator.address, homeUsd, baseUsdc), {
      ...pairPayload(homeUsd, baseUsdc),
      updatedAtHeight: 6,
    });
    assert.equal(readAsset(w.state, operator.address, 'home', 'USD')!.pairCount, 2);
    // An update: new terms, no new counts.
    const update = pairPayload(homeUsd, baseUsdc, {
      spreadBps: 5000,
      feeBps: 0,
      feeFixed: '0',
      min: '1',
      max: '1',
      status: 'paused',
    });
    assert.equal(w.run(operator, 'conversion.setPair', update), 'ok');
    assert.deepEqual(w.events, [
      {
        type: 'conversion.pairSet',
        data: { engine: operator.address, ...update, created: false },
      },
    ]);
    assert.equal(readPair(w.state, operator.address, homeUsd, baseUsdc)!.status, 'paused');
    assert.equal(readEngine(w.state, operator.address)!.pairCount, 2);
    assert.equal(readAsset(w.state, operator.address, 'home', 'USD')!.pairCount, 2);
    assert.equal(readAsset(w.state, operator.address, 'base', 'USDC')!.pairCount, 2);
    // Two assets of one ecosystem make a pair too.
    expectOk(w.run(operator, 'conversion.setAsset', assetPayload('base', 'EURC')), 'EURC');
    const eurc = { ecosystem: 'base', asset: 'EURC' };
    assert.equal(w.run(operator, 'conversion.setPair', pairPayload(eurc, baseUsdc)), 'ok');
    assert.equal(w.events[0]!.data.created, true);
    assert.equal(readEngine(w.state, operator.address)!.pairCount, 3);
    assert.equal(readAsset(w.state, operator.address, 'base', 'USDC')!.pairCount, 3);
    assert.equal(readAsset(w.state, operator.address, 'base', 'EURC')!.pairCount, 1);
  });

  it('refuses bad terms, the same asset twice, and what the engine lacks', () => {
    const w = configuredWorld();
    const eurc = { ecosystem: 'base', asset: 'EURC' };
    const cases: [Record<string, unknown>, string, string][] = [
      [pairPayload(homeUsd, homeUsd), 'pair_same_asset', 'to'],
      [pairPayload({ ecosystem: 'home' } as never, baseUsdc), 'invalid_conversion_asset', 'from'],
      [pairPayload({ ...homeUsd, extra: 1 } as never, baseUsdc), 'invalid_pair_side', 'from'],
      [pairPayload({ ecosystem: 'HOME', asset: 'USD' }, baseUsdc), 'invalid_ecosystem', 'from'],
      [pairPayload(homeUsd, { ecosystem: 'base', asset: 'U' }), 'invalid_conversion_asset', 'to'],
      [pairPayload(homeUsd, 'base:USDC' as never), 'invalid_pair_side', 'to'],
      [pairPayload(homeUsd, baseUsdc, { spreadBps: 5001 }), 'invalid_pair_bps', 'spreadBps'],
      [pairPayload(homeUsd, baseUsdc, { feeBps: -1 }), 'invalid_pair_bps', 'feeBps'],
      [pairPayload(homeUsd, baseUsdc, { feeFixed: '-1' }), 'invalid_fee_fixed', 'feeFixed'],
      [pairPayload(homeUsd, baseUsdc, { min: '0' }), 'invalid_pair_limits', 'min'],
      [pairPayload(homeUsd, baseUsdc, { max: '0' }), 'invalid_pair_limits', 'max'],
      [pairPayload(homeUsd, baseUsdc, { min: '11', max: '10' }), 'invalid_pair_limits', 'max'],
      [pairPayload(homeUsd, baseUsdc, { status: 'on' }), 'invalid_conversion_status', 'status'],
    ];
    for (const [payload, code, field] of cases) {
      assert.deepEqual(
        refused(w, operator, 'conversion.setPair', payload),
        { code, field },
        JSON.stringify(payload),
      );
    }
    const missing: [Record<string, unknown>, string][] = [
      [pairPayload({ ecosystem: 'nowhere', asset: 'USD' }, baseUsdc), 'ecosystem_not_found'],
      [pairPayload(homeUsd, { ecosystem: 'nowhere', asset: 'USD' }), 'ecosystem_not_found'],
      [pairPayload(eurc, homeUsd), 'asset_not_registered'],
      [pairPayload(homeUsd, eurc), 'asset_not_registered'],
      [pairPayload({ ecosystem: 'base', asset: 'usdc' }, homeUsd), 'asset_not_registered'],
    ];
    for (const [payload, code] of missing) {
      assert.equal(refused(w, operator, 'conversion.setPair', payload).code, code);
    }
  });

  it('removes a pair, uncounting it', () => {
    const w = configuredWorld();
    assert.equal(
      refused(w, operator, 'conversion.removePair', { from: homeUsd, to: homeUsd }).code,
      'pair_not_found',
    );
    assert.equal(w.run(operator, 'conversion.removePair', { from: baseUsdc, to: homeUsd }), 'ok');
    assert.deepEqual(w.events, [
      {
        type: 'conversion.pairRemoved',
        data: { engine: operator.address, from: baseUsdc, to: homeUsd },
      },
    ]);
    assert.equal(readPair(w.state, operator.address, baseUsdc, homeUsd), undefined);
    assert.ok(readPair(w.state, operator.address, homeUsd, baseUsdc), 'the other way stays');
    assert.equal(readEngine(w.state, operator.address)!.pairCount, 1);
    assert.equal(readAsset(w.state, operator.address, 'home', 'USD')!.pairCount, 1);
    assert.equal(readAsset(w.state, operator.address, 'base', 'USDC')!.pairCount, 1);
    assert.equal(
      refused(w, operator, 'conversion.removePair', { from: baseUsdc, to: homeUsd }).code,
      'pair_not_found',
    );
  });

  it(`holds at most ${pairsPerEngineMax} pairs an engine`, () => {
    const w = configuredWorld();
    // 12 assets on one ecosystem make 132 ordered pairs.
    const sides = Array.from({ length: 12 }, (_, i) => ({ ecosystem: 'base', asset: `T${i}` }));
    for (const side of sides) {
      expectOk(
        w.run(operator, 'conversion.setAsset', assetPayload('base', side.asset)),
        side.asset,
      );
    }
    let added = 2;
    outer: for (const from of sides) {
      for (const to of sides) {
        if (from === to) continue;
        if (added === pairsPerEngineMax) break outer;
        expectOk(w.run(operator, 'conversion.setPair', pairPayload(from, to)), 'pair');
        added += 1;
      }
    }
    assert.equal(readEngine(w.state, operator.address)!.pairCount, pairsPerEngineMax);
    assert.equal(readPairs(w.state, operator.address).length, pairsPerEngineMax);
    const last = pairPayload(sides[11]!, sides[10]!);
    assert.equal(refused(w, operator, 'conversion.setPair', last).code, 'too_many_pairs');
    // An update at the bound is no new pair.
    assert.equal(
      w.run(operator, 'conversion.setPair', pairPayload(homeUsd, baseUsdc, { feeBps: 1 })),
      'ok',
    );
    expectOk(w.run(operator, 'conversion.removePair', { from: homeUsd, to: baseUsdc }), 'rm');
    assert.equal(w.run(operator, 'conversion.setPair', last), 'ok');
    // Another engine has its own bound.
    const other = key(33);
    expectOk(w.run(other, 'conversion.setEngine', enginePayload), 'other engine');
    assert.equal(readEngine(w.state, other.address)!.pairCount, 0);
  });
});

describe('isEvmAddress', () => {
  it('takes EIP-55 checksums and single-case addresses, refuses a wrong checksum', () => {
    // The EIP's test vectors.
    for (const address of [
      '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
      '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
      '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
      '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
    ]) {
      assert.ok(isEvmAddress(address), address);
      assert.ok(isEvmAddress(address.toLowerCase()));
      assert.ok(
        !isEvmAddress(address.replace(/[a-f]/, (c) => c.toUpperCase())),
        `${address} flipped`,
      );
    }
    assert.ok(!isEvmAddress('5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'));
    assert.ok(!isEvmAddress('0x' + 'g'.repeat(40)));
    assert.ok(!isEvmAddress(`${evmAddress}00`));
  });
});

describe('state keys', () => {
  it('keeps every record under conversion/ and one engine’s entries apart from another’s', () => {
    const w = configuredWorld();
    expectOk(w.run(otherOperator, 'conversion.setEngine', enginePayload), 'other');
    for (const [k] of registryState(w)) assert.ok(k.startsWith('conversion/'), k);
    assert.equal(w.state.range(conversionKeys.pairs(otherOperator.address), 10).length, 0);
    assert.equal(w.state.range(conversionKeys.pairs(operator.address), 10).length, 2);
  });
});
