import { TxWorld, key, type TestKey } from '../tokens/txs-fixture.js';
import type { PairSide } from './schema.js';
import { conversionTxs } from './txs.js';

export { key, type TestKey };

/*
 * The registry's handlers in process (the token vault's TxWorld: a tx is parsed by its type's
 * parser and executed against one state view, a rejected one reverted), with an operator whose
 * engine the tests configure, a second operator and payloads that pass, to vary one field at a
 * time. Test support only.
 */

export const operator = key(31);
export const otherOperator = key(32);
/** An EVM address with a valid EIP-55 checksum (the EIP's own example). */
export const evmAddress = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';

export function conversionWorld(): TxWorld {
  return new TxWorld([], conversionTxs);
}

export function expectOk(result: string, what: string): void {
  if (result !== 'ok') throw new Error(`${what}: ${result}`);
}

export const enginePayload = {
  name: 'Harbour FX',
  quoteTtlSeconds: 30,
  hopsMax: 2,
  slippageBpsMax: 100,
  status: 'active',
};

export function cofferEcosystem(ecosystem = 'home', extra: Record<string, unknown> = {}) {
  return {
    ecosystem,
    kind: 'coffer',
    network: 'coffer-main',
    engineAddress: operator.address,
    blockMsMin: 500,
    blockMsMax: 5000,
    status: 'active',
    ...extra,
  };
}

export function evmEcosystem(ecosystem = 'base', extra: Record<string, unknown> = {}) {
  return {
    ecosystem,
    kind: 'evm',
    network: '8453',
    engineAddress: evmAddress,
    status: 'active',
    ...extra,
  };
}

export function assetPayload(
  ecosystem: string,
  asset: string,
  extra: Record<string, unknown> = {},
) {
  return {
    ecosystem,
    asset,
    decimals: 6,
    currency: 'USD',
    liquidityLow: '1000000',
    liquidityHigh: '50000000',
    ...extra,
  };
}

export function pairPayload(from: PairSide, to: PairSide, extra: Record<string, unknown> = {}) {
  return {
    from,
    to,
    spreadBps: 25,
    feeBps: 10,
    feeFixed: '100',
    min: '100',
    max: '100000000',
    status: 'active',
    ...extra,
  };
}

export const homeUsd = { ecosystem: 'home', asset: 'USD' };
export const baseUsdc = { ecosystem: 'base', asset: 'USDC' };

/**
 * The operator's engine with a Coffer and an EVM ecosystem, USD on the first, USDC on the
 * second and a pair each way.
 */
export function configuredWorld(by: TestKey = operator): TxWorld {
  const w = conversionWorld();
  expectOk(w.run(by, 'conversion.setEngine', enginePayload), 'engine.set');
  expectOk(w.run(by, 'conversion.setEcosystem', cofferEcosystem()), 'ecosystem.set home');
  expectOk(w.run(by, 'conversion.setEcosystem', evmEcosystem()), 'ecosystem.set base');
  expectOk(
    w.run(by, 'conversion.setAsset', assetPayload('home', 'USD', { decimals: 2 })),
    'asset.set USD',
  );
  expectOk(w.run(by, 'conversion.setAsset', assetPayload('base', 'USDC')), 'asset.set USDC');
  expectOk(w.run(by, 'conversion.setPair', pairPayload(homeUsd, baseUsdc)), 'pair.set');
  expectOk(w.run(by, 'conversion.setPair', pairPayload(baseUsdc, homeUsd)), 'pair.set back');
  return w;
}
