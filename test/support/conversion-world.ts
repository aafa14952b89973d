/*
 * The conversion engine's world, all real: two Coffer node processes (chain-a, the home chain
 * holding the registry, and chain-b, each its own chain id and store), ganache with the
 * StableToken (USDC) and HashTimeLock contracts, the reference payment provider (the simulator of
 * the HTTP protocol) and the bridge process (`coffer bridge start`, the built CLI). The registry
 * is set up as the operator would, by txs; rates come from a file in the ECB reference format.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { conversionTxBuilders as conv } from '../../src/modules/conversion/client.js';
import { deployContracts, type Deployment } from '../../src/modules/conversion/evm/deploy.js';
import { startGanache, type Ganache } from '../../src/modules/conversion/evm/ganache.js';
import {
  startProviderSimulator,
  type ProviderSimulator,
} from '../../src/modules/conversion/provider/simulator.js';
import { generateSecret } from '../../src/node/webhooks/signing.js';
import { generateKey, txs, type SigningKey } from '../../src/sdk/index.js';
import { cliPath } from './cli.js';
import {
  blockMsMax,
  blockMsMin,
  BridgeProcess,
  ecbFile,
  eurUsd,
  pair,
  startBridgeProcess,
  startCofferChain,
  writeSecret,
  type CofferChain,
} from './coffer-chains.js';
import { assertBuilt } from './node-process.js';

export { blockMsMax, blockMsMin, BridgeProcess, eurUsd, type CofferChain };

export interface ConversionWorld {
  dir: string;
  a: CofferChain;
  b: CofferChain;
  ganache: Ganache;
  evm: Deployment;
  /** The engine's EVM account and a user's. */
  engineEvm: { address: `0x${string}`; privateKey: `0x${string}` };
  userEvm: { address: `0x${string}`; privateKey: `0x${string}` };
  provider: ProviderSimulator;
  providerSecret: string;
  /** The engine's Coffer key (its id on the home chain, and its account on both chains). */
  engine: SigningKey;
  configFile: string;
  /** The bridge operator's token (the routes that show every forward want it). */
  operatorToken: string;
  bridge: BridgeProcess | undefined;
  startBridge(env?: Record<string, string>): Promise<BridgeProcess>;
  close(): Promise<void>;
}

export async function startConversionWorld(options: {
  destinationMs: number;
  claimMarginMs: number;
}): Promise<ConversionWorld> {
  assertBuilt(cliPath);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-conversion-'));
  const [a, b, ganache] = await Promise.all([
    startCofferChain(dir, 'chain-a'),
    startCofferChain(dir, 'chain-b'),
    startGanache({ accountCount: 3 }),
  ]);
  const [deployer, engineAccount, userAccount] = ganache.accounts as [
    { address: `0x${string}`; privateKey: `0x${string}` },
    { address: `0x${string}`; privateKey: `0x${string}` },
    { address: `0x${string}`; privateKey: `0x${string}` },
  ];
  const evm = await deployContracts({
    rpcUrl: ganache.url,
    privateKey: deployer.privateKey,
    mint: [
      { to: engineAccount.address, amount: 1_000_000_000_000n },
      { to: userAccount.address, amount: 500_000_000n },
    ],
  });
  const providerSecret = generateSecret();
  const provider = await startProviderSimulator({
    webhookSecret: providerSecret,
    apiKey: 'sk_test_bridge',
    accounts: { engine: { USD: 10_000_000n }, alice: { USD: 1_000_000n } },
    completionDelayMs: 50,
  });

  // The engine: funded on both chains; its registry on the home chain, chain-a.
  const engine = generateKey();
  const send = async (
    chain: CofferChain,
    key: SigningKey,
    build: { type: string; payload: unknown },
  ) => chain.client.send(key, build as never, { wait: 'commit' });
  await send(a, a.dev, txs.transfer({ to: engine.address, asset: 'USD', amount: '5000000' }));
  await send(b, b.dev, txs.createAsset({ symbol: 'EUR', decimals: 2 }));
  await send(b, b.dev, txs.mint({ symbol: 'EUR', to: engine.address, amount: '5000000' }));
  const registry = [
    conv.engineSet({
      name: 'Test bridge',
      quoteTtlSeconds: 5,
      hopsMax: 3,
      slippageBpsMax: 500,
      status: 'active',
    }),
    conv.ecosystemSet({
      ecosystem: 'chain-a',
      kind: 'coffer',
      network: 'chain-a',
      engineAddress: engine.address,
      blockMsMin,
      blockMsMax,
      status: 'active',
    }),
    conv.ecosystemSet({
      ecosystem: 'chain-b',
      kind: 'coffer',
      network: 'chain-b',
      engineAddress: engine.address,
      blockMsMin,
      blockMsMax,
      status: 'active',
    }),
    conv.ecosystemSet({
      ecosystem: 'evm',
      kind: 'evm',
      network: String(ganache.chainId),
      engineAddress: engineAccount.address,
      status: 'active',
    }),
    conv.ecosystemSet({
      ecosystem: 'bank',
      kind: 'http',
      network: 'simulator',
      engineAddress: 'engine',
      status: 'active',
    }),
    conv.assetSet({
      ecosystem: 'chain-a',
      asset: 'USD',
      decimals: 2,
      currency: 'USD',
      liquidityLow: '100000',
      liquidityHigh: '4000000',
    }),
    conv.assetSet({
      ecosystem: 'chain-b',
      asset: 'EUR',
      decimals: 2,
      currency: 'EUR',
      liquidityLow: '100000',
      liquidityHigh: '4000000',
    }),
    conv.assetSet({
      ecosystem: 'evm',
      asset: 'USDC',
      decimals: 6,
      currency: 'USD',
      liquidityLow: '100000000',
      liquidityHigh: '2000000000000',
    }),
    conv.assetSet({
      ecosystem: 'bank',
      asset: 'USD',
      decimals: 2,
      currency: 'USD',
      liquidityLow: '100000',
      liquidityHigh: '20000000',
    }),
    // Direct USD -> USDC is dear; through EUR on chain-b it is cheaper: the best route has two hops.
    pair('chain-a', 'USD', 'evm', 'USDC', 300),
    pair('chain-a', 'USD', 'chain-b', 'EUR', 10),
    pair('chain-b', 'EUR', 'evm', 'USDC', 10),
    pair('evm', 'USDC', 'chain-a', 'USD', 20),
    pair('chain-a', 'USD', 'bank', 'USD', 15),
    pair('bank', 'USD', 'chain-a', 'USD', 15),
  ];
  for (const build of registry) await send(a, engine, build);

  const configFile = path.join(dir, 'bridge.json');
  const operatorToken = `op_${randomBytes(24).toString('hex')}`;
  fs.writeFileSync(
    configFile,
    JSON.stringify(
      {
        port: 0,
        dataDir: 'bridge-data',
        home: { url: a.url, keyFile: writeSecret(path.join(dir, 'engine.key'), engine.secretKey) },
        ecosystems: {
          'chain-a': { kind: 'coffer', url: a.url },
          'chain-b': { kind: 'coffer', url: b.url },
          evm: {
            kind: 'evm',
            rpcUrl: ganache.url,
            privateKeyFile: writeSecret(path.join(dir, 'engine-evm.key'), engineAccount.privateKey),
            htlc: evm.htlc,
            tokens: { USDC: evm.token },
            fromBlock: Number(evm.htlcBlock),
          },
          bank: {
            kind: 'http',
            url: provider.url,
            apiKeyFile: writeSecret(path.join(dir, 'provider.key'), 'sk_test_bridge'),
            account: 'engine',
            webhookSecretFile: writeSecret(
              path.join(dir, 'provider-webhook.secret'),
              providerSecret,
            ),
          },
        },
        rates: { ecbFile: ecbFile(path.join(dir, 'eurofxref-daily.xml')) },
        operatorTokenFile: writeSecret(path.join(dir, 'operator.token'), operatorToken),
        timing: {
          destinationMs: options.destinationMs,
          claimMarginMs: options.claimMarginMs,
          tickMs: 50,
          registryRefreshMs: 500,
        },
      },
      null,
      2,
    ),
  );

  const world: ConversionWorld = {
    dir,
    operatorToken,
    a,
    b,
    ganache,
    evm,
    engineEvm: engineAccount,
    userEvm: userAccount,
    provider,
    providerSecret,
    engine,
    configFile,
    bridge: undefined,
    async startBridge(env = {}) {
      const bridge = await startBridgeProcess(configFile, env);
      world.bridge = bridge;
      return bridge;
    },
    async close() {
      await world.bridge?.stop().catch(() => undefined);
      await provider.stop();
      await ganache.stop();
      await Promise.all([a.process.kill(), b.process.kill()]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

/** The JSON of a bridge route, or its error body with the status. */
export async function bridgeCall<T>(
  url: string,
  method: string,
  route: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${url}${route}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as T };
}
