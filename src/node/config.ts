import path from 'node:path';
import { z } from 'zod';

/** What an admin token must be, in COFFER_ADMIN_TOKEN and in the data directory's admin-token file. */
export const adminTokenPattern = /^[A-Za-z0-9_\-.~+/=]{32,256}$/;

/**
 * The node's one configuration schema. It is parsed once at start-up from defaults, `COFFER_*`
 * environment variables and command-line flags (flags win), then frozen; nothing else in Coffer
 * reads `process.env`.
 */
/** What goes into a Content-Security-Policy source list: a plain host name or address, a port. */
const originPattern = /^https?:\/\/(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:[0-9]{1,5})?$/;

export const nodeConfigSchema = z.object({
  dataDir: z.string().min(1).default('.coffer'),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65_535).default(7420),
  chainId: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/)
    .default('coffer-dev'),
  /**
   * How often a block is cut while txs are ready. Unset: 50 ms for a solo node (its commit runs
   * on the writer thread, so the tick is most of a tx's wait: p99 at half load 159-267 ms with 50,
   * 270-499 ms with 100; issue 24), 100 ms for a cluster's producers.
   */
  blockIntervalMs: z.coerce.number().int().min(1).max(60_000).optional(),
  blockTxsMax: z.coerce.number().int().min(1).max(50_000).default(5_000),
  idleBlockIntervalMs: z.coerce.number().int().min(0).max(3_600_000).default(5_000),
  /** User txs pending in all (the system lane is bounded apart). */
  mempoolTxsMax: z.coerce.number().int().min(1).max(10_000_000).default(200_000),
  /** Pending txs per sender, and how far past its next nonce a sender may queue. */
  mempoolPerSenderMax: z.coerce.number().int().min(1).max(100_000).default(1_000),
  /**
   * Gapped txs (waiting for an earlier nonce of their sender) in all: they cost their sender
   * nothing, so they get a small share of the pool. Default: a tenth of mempoolTxsMax.
   */
  mempoolGappedTxsMax: z.coerce.number().int().min(0).max(10_000_000).optional(),
  /**
   * Gapped txs per sender: an honest client has only so many requests in flight at once (a
   * burst spread over a cluster's validators interleaves in the tx stream: room for that).
   */
  mempoolGappedPerSenderMax: z.coerce.number().int().min(0).max(100_000).default(64),
  /** How long a gapped tx waits for the nonces before it, then it is dropped. */
  mempoolGappedExpiryMs: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  /**
   * The node's own txs (nonce commitments, evidence, relays) pending at once, in a lane of their
   * own that user load never fills (in a cluster, per active producer operator).
   */
  mempoolSystemTxsMax: z.coerce.number().int().min(16).max(100_000).default(1_000),
  /** Txs a sender may have admitted per second (a one-second burst); 0: no limit. */
  mempoolSenderTxsPerSecondMax: z.coerce.number().int().min(0).max(1_000_000).default(0),
  /**
   * Gapped txs of senders without an account whose signatures are checked per second, all such
   * senders together: bounds the verify work a flood from fresh unfunded keys takes from ready
   * txs; 0: no limit.
   */
  mempoolGappedAdmissionsPerSecondMax: z.coerce.number().int().min(0).max(1_000_000).default(100),
  /** How long `?wait=commit` waits before answering `commit_timeout`. */
  commitWaitMs: z.coerce.number().int().min(1).max(600_000).default(30_000),
  verifyWorkers: z.coerce.number().int().min(0).max(64).optional(),
  /**
   * How far V8 lets the heap grow past the live set before its next full collection, in percent
   * (V8's `--heap-growing-percent`, set at start); 0 leaves V8's own factor, which let the
   * garbage of requests waiting for their commit pile up to 3-4 times the live set under load
   * (issue 24: peak RSS 567 MB with V8's factor, 356 MB with 25, same load, same run).
   */
  heapGrowingPercent: z.coerce.number().int().min(0).max(1_000).default(25),
  /** Heights per nonce commitment the producer publishes (each costs ~2 ms to compute). */
  nonceRangeHeights: z.coerce.number().int().min(16).max(100_000).default(1_000),
  /** Commit the next range when fewer than this many committed heights remain. */
  nonceRangeLeadHeights: z.coerce.number().int().min(8).max(100_000).default(200),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * Join a cluster: comma-separated NATS server URLs of the ordering cluster (nats://host:port).
   * Without it the node orders alone (solo).
   */
  cluster: z
    .string()
    .min(1)
    .transform((v) =>
      v
        .split(',')
        .map((url) => url.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^(nats|tls):\/\/[^\s,]+$/, 'nats://host:port[,...]')).min(1))
    .optional(),
  /** The validator this node is in a cluster (its name from `coffer cluster init`). */
  validator: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'a-z, 0-9 and -, up to 32 characters')
    .optional(),
  /** How long the producer in turn has for a height before the next one may take it. */
  producerTimeoutMs: z.coerce.number().int().min(50).max(600_000).default(2_000),
  /**
   * Consecutive heights a cluster producer cuts before the next one's turn: it builds on its own
   * block at once instead of waiting for another node to execute it.
   */
  producerTermHeights: z.coerce.number().int().min(1).max(10_000).default(10),
  /** Txs per message in the cluster's tx stream. */
  envelopeTxsMax: z.coerce.number().int().min(1).max(1_000).default(100),
  /** Stream replicas on a clustered NATS (a stream survives losing fewer than half). */
  natsReplicas: z.coerce.number().int().min(1).max(5).default(3),
  /**
   * Development only: `POST /v1/dev/clock` moves the node's block clock forward (and cuts a block),
   * so expiries and demurrage can be tried without waiting days. Never on a shared chain.
   */
  devClock: z
    .union([z.boolean(), z.enum(['1', 'true', '0', 'false'])])
    .transform((v) => v === true || v === '1' || v === 'true')
    .default(false),
  /**
   * The web console's built files, served at `/`: by default dist/web when `npm run build` made
   * it; `off` serves the API alone.
   */
  consoleDir: z.string().min(1).optional(),
  /**
   * Other origins the console's pages may call and play media from (a licensing content
   * gateway), comma-separated `http(s)://host[:port]`: added to the console's
   * Content-Security-Policy (connect-src, media-src). Unset: the node's own origin only.
   */
  consoleMediaOrigins: z
    .string()
    .max(2_000)
    .transform((text, context) => {
      const origins: string[] = [];
      for (const item of text.split(',').map((part) => part.trim())) {
        if (item === '') continue;
        let origin: string | undefined;
        try {
          const url = new URL(item);
          if (url.protocol === 'http:' || url.protocol === 'https:') origin = url.origin;
        } catch {
          origin = undefined;
        }
        if (origin === undefined || origin !== item || !originPattern.test(origin)) {
          context.addIssue({
            code: 'custom',
            message: `${JSON.stringify(item.slice(0, 80))} is not an origin (http(s)://host[:port], no path)`,
          });
          return z.NEVER;
        }
        origins.push(origin);
      }
      return origins;
    })
    .optional(),
  /**
   * The operator's token for the admin routes (webhook subscriptions): `Authorization: Bearer
   * <token>`. Unset, the node uses the `admin-token` file in its data directory, generated at the
   * first start (owner-only).
   */
  adminToken: z
    .string()
    .regex(adminTokenPattern, '32 to 256 characters of A-Z a-z 0-9 _ - . ~ + / =')
    .optional(),
  /** Tries of one webhook event before it goes to the dead letters. */
  webhookAttemptsMax: z.coerce.number().int().min(1).max(100).default(8),
  /** The wait after a webhook's first failed try; it doubles with each further one. */
  webhookRetryBaseMs: z.coerce.number().int().min(1).max(3_600_000).default(1_000),
  /** The longest wait between two tries of a webhook. */
  webhookRetryMaxMs: z.coerce.number().int().min(1).max(86_400_000).default(300_000),
  /** How long one webhook request may take, answer included. */
  webhookTimeoutMs: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /**
   * The token vault's key file (tokens module, issue 17): JSON with the PAN fingerprint key and
   * the key-encryption keys, every node of a consortium holding the same (docs/architecture.md,
   * "tokens"). Without it the routes that need the vault answer `vault_key_missing`.
   */
  vaultKeyFile: z.string().min(1).optional(),
  /**
   * The scholarship module's closer (src/modules/scholarship/service.ts): on each final block this
   * node produced, it sends `question.close` for questions past their deadline and grace, 16 a
   * block. `0` switches it off (a consortium may run it on some validators only).
   */
  scholarshipAutoclose: z
    .union([z.boolean(), z.enum(['1', 'true', '0', 'false'])])
    .transform((v) => v === true || v === '1' || v === 'true')
    .default(true),
});

export type NodeConfig = Readonly<
  Omit<z.infer<typeof nodeConfigSchema>, 'mempoolGappedTxsMax'> & { mempoolGappedTxsMax: number }
>;

export class ConfigError extends Error {
  readonly code = 'invalid_config';
}

const envNames: Record<string, keyof NodeConfig> = {
  COFFER_DATA_DIR: 'dataDir',
  COFFER_HOST: 'host',
  COFFER_PORT: 'port',
  COFFER_CHAIN_ID: 'chainId',
  COFFER_BLOCK_INTERVAL_MS: 'blockIntervalMs',
  COFFER_BLOCK_TXS_MAX: 'blockTxsMax',
  COFFER_IDLE_BLOCK_INTERVAL_MS: 'idleBlockIntervalMs',
  COFFER_MEMPOOL_TXS_MAX: 'mempoolTxsMax',
  COFFER_MEMPOOL_PER_SENDER_MAX: 'mempoolPerSenderMax',
  COFFER_MEMPOOL_GAPPED_TXS_MAX: 'mempoolGappedTxsMax',
  COFFER_MEMPOOL_GAPPED_PER_SENDER_MAX: 'mempoolGappedPerSenderMax',
  COFFER_MEMPOOL_GAPPED_EXPIRY_MS: 'mempoolGappedExpiryMs',
  COFFER_MEMPOOL_SYSTEM_TXS_MAX: 'mempoolSystemTxsMax',
  COFFER_MEMPOOL_SENDER_TXS_PER_SECOND_MAX: 'mempoolSenderTxsPerSecondMax',
  COFFER_MEMPOOL_GAPPED_ADMISSIONS_PER_SECOND_MAX: 'mempoolGappedAdmissionsPerSecondMax',
  COFFER_COMMIT_WAIT_MS: 'commitWaitMs',
  COFFER_VERIFY_WORKERS: 'verifyWorkers',
  COFFER_HEAP_GROWING_PERCENT: 'heapGrowingPercent',
  COFFER_NONCE_RANGE_HEIGHTS: 'nonceRangeHeights',
  COFFER_NONCE_RANGE_LEAD_HEIGHTS: 'nonceRangeLeadHeights',
  COFFER_LOG_LEVEL: 'logLevel',
  COFFER_DEV_CLOCK: 'devClock',
  COFFER_CLUSTER: 'cluster',
  COFFER_VALIDATOR: 'validator',
  COFFER_PRODUCER_TIMEOUT_MS: 'producerTimeoutMs',
  COFFER_ENVELOPE_TXS_MAX: 'envelopeTxsMax',
  COFFER_PRODUCER_TERM_HEIGHTS: 'producerTermHeights',
  COFFER_NATS_REPLICAS: 'natsReplicas',
  COFFER_CONSOLE_DIR: 'consoleDir',
  COFFER_CONSOLE_MEDIA_ORIGINS: 'consoleMediaOrigins',
  COFFER_ADMIN_TOKEN: 'adminToken',
  COFFER_WEBHOOK_ATTEMPTS_MAX: 'webhookAttemptsMax',
  COFFER_WEBHOOK_RETRY_BASE_MS: 'webhookRetryBaseMs',
  COFFER_WEBHOOK_RETRY_MAX_MS: 'webhookRetryMaxMs',
  COFFER_WEBHOOK_TIMEOUT_MS: 'webhookTimeoutMs',
  COFFER_VAULT_KEY_FILE: 'vaultKeyFile',
  COFFER_SCHOLARSHIP_AUTOCLOSE: 'scholarshipAutoclose',
};

export function parseNodeConfig(
  flags: Partial<Record<keyof NodeConfig, unknown>> = {},
  env: NodeJS.ProcessEnv = process.env,
): NodeConfig {
  const input: Record<string, unknown> = {};
  // Where each value came from, so a bad one is named as the user wrote it.
  const source = new Map<string, string>();
  for (const [name, key] of Object.entries(envNames)) {
    if (env[name] !== undefined && env[name] !== '') {
      input[key] = env[name];
      source.set(key, `${name}=${JSON.stringify(env[name]).slice(0, 80)} (environment)`);
    }
  }
  for (const [key, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    input[key] = value;
    source.set(key, `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  }
  const parsed = nodeConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join('.');
    const from = source.get(key);
    throw new ConfigError(`config ${key}${from ? ` (${from})` : ''}: ${issue.message}`);
  }
  if ((parsed.data.cluster === undefined) !== (parsed.data.validator === undefined)) {
    throw new ConfigError('config cluster: --cluster and --validator go together');
  }
  if (parsed.data.cluster && parsed.data.devClock) {
    throw new ConfigError('config devClock: the dev clock is for a solo node, never a cluster');
  }
  if (parsed.data.nonceRangeLeadHeights >= parsed.data.nonceRangeHeights) {
    throw new ConfigError('config nonceRangeLeadHeights: must be below nonceRangeHeights');
  }
  if (parsed.data.webhookRetryBaseMs > parsed.data.webhookRetryMaxMs) {
    throw new ConfigError('config webhookRetryBaseMs: must not exceed webhookRetryMaxMs');
  }
  const mempoolGappedTxsMax =
    parsed.data.mempoolGappedTxsMax ?? Math.max(1, Math.floor(parsed.data.mempoolTxsMax / 10));
  if (mempoolGappedTxsMax > parsed.data.mempoolTxsMax) {
    throw new ConfigError('config mempoolGappedTxsMax: must not exceed mempoolTxsMax');
  }
  return Object.freeze({
    ...parsed.data,
    mempoolGappedTxsMax,
    dataDir: path.resolve(parsed.data.dataDir),
  });
}
