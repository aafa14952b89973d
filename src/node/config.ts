import path from 'node:path';
import { z } from 'zod';

/**
 * The node's one configuration schema. It is parsed once at start-up from defaults, `COFFER_*`
 * environment variables and command-line flags (flags win), then frozen; nothing else in Coffer
 * reads `process.env`.
 */
export const nodeConfigSchema = z.object({
  dataDir: z.string().min(1).default('.coffer'),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65_535).default(7420),
  chainId: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/)
    .default('coffer-dev'),
  blockIntervalMs: z.coerce.number().int().min(1).max(60_000).default(100),
  blockTxsMax: z.coerce.number().int().min(1).max(50_000).default(5_000),
  idleBlockIntervalMs: z.coerce.number().int().min(0).max(3_600_000).default(5_000),
  mempoolTxsMax: z.coerce.number().int().min(1).max(10_000_000).default(200_000),
  mempoolPerSenderMax: z.coerce.number().int().min(1).max(100_000).default(1_000),
  /** How long `?wait=commit` waits before answering `commit_timeout`. */
  commitWaitMs: z.coerce.number().int().min(1).max(600_000).default(30_000),
  verifyWorkers: z.coerce.number().int().min(0).max(64).optional(),
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
});

export type NodeConfig = Readonly<z.infer<typeof nodeConfigSchema>>;

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
  COFFER_COMMIT_WAIT_MS: 'commitWaitMs',
  COFFER_VERIFY_WORKERS: 'verifyWorkers',
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
};

export function parseNodeConfig(
  flags: Partial<Record<keyof NodeConfig, unknown>> = {},
  env: NodeJS.ProcessEnv = process.env,
): NodeConfig {
  const input: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(envNames)) {
    if (env[name] !== undefined && env[name] !== '') input[key] = env[name];
  }
  for (const [key, value] of Object.entries(flags)) if (value !== undefined) input[key] = value;
  const parsed = nodeConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`config ${issue.path.join('.')}: ${issue.message}`);
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
  return Object.freeze({ ...parsed.data, dataDir: path.resolve(parsed.data.dataDir) });
}
