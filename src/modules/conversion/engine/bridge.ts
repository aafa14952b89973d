/*
 * `coffer bridge start`: the conversion engine as a service. It reads its configuration file
 * (bridge.json: where each ecosystem is and the files holding the engine's keys there, the rate
 * source, timings, webhooks), reads its registry from the home chain (`GET
 * /v1/conversion/engines/{address}`, refreshed every few seconds: pairs, spreads, fees, limits are
 * txs every node agrees on), opens its store and serves its HTTP API.
 *
 * Secrets live in files the configuration names (a Coffer key as 64 hex digits, an EVM private
 * key as 0x and 64 hex digits, a provider API key, a webhook secret); a file any other user may
 * read is refused. Nothing secret is logged.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { readSmallFile } from '../../../cli/files.js';
import { createClient } from '../../../sdk/client.js';
import { importKey, type SigningKey } from '../../../sdk/keys.js';
import { postWebhook } from '../../../node/webhooks/delivery.js';
import { signWebhook } from '../../../node/webhooks/signing.js';
import { createEvmLedger } from '../evm/evm-ledger.js';
import { ecbRates, fetchRates, tableRates, type RateSource } from '../pricing/index.js';
import { ProviderHttpLedger } from '../provider/provider-ledger.js';
import { verifyDepositNotification } from '../provider/protocol.js';
import type { EngineConfiguration } from '../schema.js';
import { CofferLedger } from './coffer-ledger.js';
import { Engine, EngineError } from './engine.js';
import type { EcosystemLedger } from './ledgers.js';
import { registryPricer } from './pricer.js';
import type { ForwardState } from './records.js';
import { createBridgeServer, type DepositVerifier } from './server.js';
import { EngineStore } from './store.js';

const ecosystemId = z.string().regex(/^[a-z0-9][a-z0-9-]{1,31}$/);
const fileName = z.string().min(1).max(4096);

export const bridgeConfigSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65_535).default(8790),
  /** The engine's store (bridge.sqlite); relative paths are relative to the config file. */
  dataDir: fileName,
  /** The Coffer chain holding the registry, and the engine's key there (its id, the quote signer). */
  home: z.strictObject({ url: z.url(), keyFile: fileName }),
  ecosystems: z.record(
    ecosystemId,
    z.discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('coffer'), url: z.url(), keyFile: fileName.optional() }),
      z.strictObject({
        kind: z.literal('evm'),
        rpcUrl: z.url(),
        privateKeyFile: fileName,
        htlc: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
        tokens: z.record(z.string(), z.string().regex(/^0x[0-9a-fA-F]{40}$/)),
        fromBlock: z.number().int().min(0).optional(),
      }),
      z.strictObject({
        kind: z.literal('http'),
        url: z.url(),
        apiKeyFile: fileName,
        account: z.string().min(1).max(64),
        webhookSecretFile: fileName,
      }),
    ]),
  ),
  rates: z.union([
    z.strictObject({ table: z.record(z.string(), z.string()) }),
    z.strictObject({ ecbFile: fileName }),
    z.strictObject({ url: z.url(), refreshMs: z.number().int().min(1_000).default(60_000) }),
  ]),
  /** Rates older than this are refused (ECB's daily rates are dated at midnight: a weekend is 3 days). */
  ratesAgeMaxMs: z
    .number()
    .int()
    .min(1_000)
    .default(5 * 86_400_000),
  timing: z
    .strictObject({
      destinationMs: z.number().int().min(1_000).default(120_000),
      claimMarginMs: z.number().int().min(500).default(60_000),
      tickMs: z.number().int().min(10).max(60_000).default(250),
      registryRefreshMs: z.number().int().min(100).default(5_000),
    })
    .prefault({}),
  webhooks: z
    .array(z.strictObject({ url: z.url(), secretFile: fileName }))
    .max(8)
    .default([]),
  /** The operator's bearer token (a file): guards the routes that show every forward. */
  operatorTokenFile: fileName.optional(),
});
export type BridgeConfig = z.infer<typeof bridgeConfigSchema>;

/** Reads a secret file: refused when group or others may read it. */
export function readSecretFile(file: string, what: string): string {
  const read = readSmallFile(file, { bytesMax: 4096, secret: true });
  if ('problem' in read) throw new EngineError('invalid_config', `${what}: ${read.problem}`);
  return read.text.trim();
}

export function loadBridgeConfig(file: string): BridgeConfig {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new EngineError('invalid_config', `cannot read ${file}: ${(error as Error).message}`);
  }
  const parsed = bridgeConfigSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new EngineError(
      'invalid_config',
      `${file}: ${issue.path.join('.') || '(top)'}: ${issue.message}`,
    );
  }
  const base = path.dirname(path.resolve(file));
  const resolve = (name: string) => path.resolve(base, name);
  const config = parsed.data;
  config.dataDir = resolve(config.dataDir);
  config.home.keyFile = resolve(config.home.keyFile);
  for (const ecosystem of Object.values(config.ecosystems)) {
    if (ecosystem.kind === 'coffer' && ecosystem.keyFile)
      ecosystem.keyFile = resolve(ecosystem.keyFile);
    if (ecosystem.kind === 'evm') ecosystem.privateKeyFile = resolve(ecosystem.privateKeyFile);
    if (ecosystem.kind === 'http') {
      ecosystem.apiKeyFile = resolve(ecosystem.apiKeyFile);
      ecosystem.webhookSecretFile = resolve(ecosystem.webhookSecretFile);
    }
  }
  if ('ecbFile' in config.rates) config.rates.ecbFile = resolve(config.rates.ecbFile);
  for (const hook of config.webhooks) hook.secretFile = resolve(hook.secretFile);
  if (config.operatorTokenFile) config.operatorTokenFile = resolve(config.operatorTokenFile);
  return config;
}

function cofferKey(file: string, what: string): SigningKey {
  const text = readSecretFile(file, what);
  if (!/^[0-9a-fA-F]{64}$/.test(text))
    throw new EngineError('invalid_config', `${what}: ${file} must hold 64 hex digits`);
  return importKey(text);
}

export interface RunningBridge {
  url: string;
  engine: Engine;
  /** True when no operator token guards the routes that show every forward. */
  open: boolean;
  close(): Promise<void>;
}

/** Starts the bridge; `crashAfter` is the crash tests' fault injection (COFFER_BRIDGE_CRASH_AFTER). */
export async function startBridge(
  config: BridgeConfig,
  options: { crashAfter?: ForwardState } = {},
): Promise<RunningBridge> {
  const homeKey = cofferKey(config.home.keyFile, 'home.keyFile');
  const home = createClient(config.home.url, { timeoutMs: 10_000 });
  const store = new EngineStore(config.dataDir);

  // The registry: read now (the bridge does not start without it), then refreshed.
  let configuration: EngineConfiguration = await home.conversion
    .engine(homeKey.address)
    .catch((error: unknown) => {
      store.close();
      throw new EngineError(
        'registry_unavailable',
        `cannot read engine ${homeKey.address} from ${config.home.url}: ${(error as Error).message} (register it with coffer conversion engine-set)`,
      );
    });
  const ledgers = new Map<string, EcosystemLedger>();
  const verifiers = new Map<string, DepositVerifier>();
  for (const [id, ecosystem] of Object.entries(config.ecosystems)) {
    const registered = configuration.ecosystems.find((e) => e.ecosystem === id);
    if (!registered || registered.kind !== ecosystem.kind) {
      store.close();
      throw new EngineError(
        'invalid_config',
        `ecosystem ${id} is not registered as ${ecosystem.kind} for engine ${homeKey.address}`,
      );
    }
    let ledger: EcosystemLedger;
    if (ecosystem.kind === 'coffer') {
      ledger = new CofferLedger({
        ecosystem: id,
        url: ecosystem.url,
        key: ecosystem.keyFile ? cofferKey(ecosystem.keyFile, `${id}.keyFile`) : homeKey,
        blockMsMin: registered.blockMsMin ?? 1,
        blockMsMax: registered.blockMsMax ?? 5_000,
        journal: store,
      });
    } else if (ecosystem.kind === 'evm') {
      const privateKey = readSecretFile(ecosystem.privateKeyFile, `${id}.privateKeyFile`);
      if (!/^0x[0-9a-fA-F]{64}$/.test(privateKey))
        throw new EngineError(
          'invalid_config',
          `${id}.privateKeyFile must hold 0x and 64 hex digits`,
        );
      ledger = await createEvmLedger({
        rpcUrl: ecosystem.rpcUrl,
        privateKey: privateKey as `0x${string}`,
        htlcAddress: ecosystem.htlc as `0x${string}`,
        tokens: ecosystem.tokens as Record<string, `0x${string}`>,
        ...(ecosystem.fromBlock === undefined ? {} : { fromBlock: BigInt(ecosystem.fromBlock) }),
      });
    } else {
      const secret = readSecretFile(ecosystem.webhookSecretFile, `${id}.webhookSecretFile`);
      ledger = new ProviderHttpLedger({
        url: ecosystem.url,
        apiKey: readSecretFile(ecosystem.apiKeyFile, `${id}.apiKeyFile`),
        account: ecosystem.account,
      });
      verifiers.set(id, depositVerifier(secret, ecosystem.account));
    }
    if (ledger.engineAddress.toLowerCase() !== registered.engineAddress.toLowerCase()) {
      store.close();
      throw new EngineError(
        'invalid_config',
        `ecosystem ${id}: the engine's address there is ${ledger.engineAddress}, the registry says ${registered.engineAddress}`,
      );
    }
    ledgers.set(id, ledger);
  }

  let rates = await loadRates(config);
  const engine = new Engine({
    store,
    key: homeKey,
    registry: () => configuration,
    ledgers,
    price: registryPricer({
      configuration: () => configuration,
      // A configured table is the operator's own rates: as of every quote.
      rates: () =>
        'table' in config.rates ? unwrap(tableRates(config.rates.table, Date.now())) : rates,
      ratesAgeMaxMs: config.ratesAgeMaxMs,
      now: Date.now,
    }),
    timing: config.timing,
    ...(options.crashAfter ? { crashAfter: options.crashAfter } : {}),
  });
  await engine.start();

  const timers: NodeJS.Timeout[] = [];
  timers.push(
    setInterval(() => {
      home.conversion.engine(homeKey.address).then(
        (next) => (configuration = next),
        () => undefined, // the last configuration read stays until the home chain answers again
      );
    }, config.timing.registryRefreshMs),
  );
  if ('url' in config.rates) {
    timers.push(
      setInterval(
        () =>
          void loadRates(config).then(
            (next) => (rates = next),
            () => undefined,
          ),
        config.rates.refreshMs,
      ),
    );
  }
  const stopWebhooks = deliverWebhooks(
    store,
    config.webhooks.map((w) => ({
      url: w.url,
      secret: readSecretFile(w.secretFile, 'webhooks.secretFile'),
    })),
  );

  const operatorToken = config.operatorTokenFile
    ? readSecretFile(config.operatorTokenFile, 'operatorTokenFile')
    : undefined;
  if (operatorToken !== undefined && operatorToken.length < 16) {
    throw new EngineError('invalid_config', 'operatorTokenFile must hold at least 16 characters');
  }
  const app = await createBridgeServer({
    engine,
    store,
    depositVerifiers: verifiers,
    ...(operatorToken === undefined ? {} : { operatorToken }),
  });
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  return {
    url: `http://${config.host}:${port}`,
    engine,
    open: operatorToken === undefined,
    async close() {
      for (const timer of timers) clearInterval(timer);
      stopWebhooks();
      await app.close();
      await engine.stop();
      for (const ledger of ledgers.values()) await ledger.close();
      store.close();
    },
  };
}

async function loadRates(config: BridgeConfig): Promise<RateSource> {
  if ('table' in config.rates) return unwrap(tableRates(config.rates.table, Date.now()));
  if ('ecbFile' in config.rates)
    return unwrap(ecbRates(fs.readFileSync(config.rates.ecbFile, 'utf8')));
  return fetchRates(config.rates.url, { timeoutMs: 10_000 });
}

function unwrap(
  result: { ok: true; source: RateSource } | { ok: false; code: string; message: string },
): RateSource {
  if (!result.ok)
    throw new EngineError('invalid_config', `rates: ${result.code}: ${result.message}`);
  return result.source;
}

function depositVerifier(secret: string, account: string): DepositVerifier {
  // Replays are not refused here: a notification delivered again is verified again and the engine
  // takes each deposit id once (store.ts), so a delivery retried after a crash is never lost.
  const seen = { has: () => false };
  return ({ headers, rawBody }) => {
    const result = verifyDepositNotification({
      headers,
      rawBody,
      secret,
      now: new Date(),
      seen,
      account,
    });
    if (!result.ok) return { code: result.code, message: result.message };
    return result.deposit;
  };
}

/** Delivers the engine's events to its webhooks (Standard Webhooks signed), from a durable cursor. */
function deliverWebhooks(store: EngineStore, hooks: { url: string; secret: string }[]): () => void {
  if (hooks.length === 0) return () => undefined;
  const stop = new AbortController();
  const loop = async () => {
    while (!stop.signal.aborted) {
      for (const [index, hook] of hooks.entries()) {
        const cursorKey = `webhook/${index}`;
        const after = Number(store.getMeta(cursorKey) ?? '0');
        for (const { seq, event } of store.events(after, 50)) {
          const body = JSON.stringify({
            type: event.type,
            timestamp: new Date(event.at).toISOString(),
            data: { seq, ...event },
          });
          const id = `evt_${seq}`;
          const timestamp = Math.floor(Date.now() / 1000);
          const outcome = await postWebhook(
            hook.url,
            {
              'content-type': 'application/json',
              'webhook-id': id,
              'webhook-timestamp': String(timestamp),
              'webhook-signature': signWebhook(hook.secret, id, timestamp, body),
            },
            body,
            5_000,
            stop.signal,
          );
          if (!outcome.ok) break;
          store.setMeta(cursorKey, String(seq));
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };
  void loop().catch(() => undefined);
  return () => stop.abort();
}
