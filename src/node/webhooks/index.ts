import type { BlockStore } from '../../state/index.js';
import type { NodeConfig } from '../config.js';
import type { WebhookRouteDeps } from './routes.js';
import { WebhookStore } from './store.js';
import { WebhookWatcher, type WebhookWatcherDeps } from './watcher.js';

export { registerWebhookRoutes } from './routes.js';
export { adminTokenFile, loadAdminToken } from './admin-token.js';

/** A node's webhooks: the store of subscriptions, the watcher that delivers, what the routes need. */
export interface NodeWebhooks {
  store: WebhookStore;
  watcher: WebhookWatcher;
  routes: WebhookRouteDeps;
  /** Stops delivering (an attempt in flight is aborted and repeated after the next start). */
  close(): Promise<void>;
}

/**
 * Opens the webhook tables in the node's database `file` and the watcher over them; the node
 * calls `watcher.wake()` for each final block and `watcher.start()` once it is up.
 */
export function openWebhooks(deps: {
  config: NodeConfig;
  /** The operator's admin token (`loadAdminToken`, read before the node opens anything else). */
  adminToken: string;
  file: string;
  blocks: Pick<BlockStore, 'getBlock' | 'getTxHashes' | 'lastHeight'>;
  chainId: string;
  finalHeight: () => number;
  now: () => number;
  namespaceKnown: (namespace: string) => boolean;
  log: WebhookWatcherDeps['log'];
  onAttempt?: WebhookWatcherDeps['onAttempt'];
}): NodeWebhooks {
  const { config, adminToken } = deps;
  const store = new WebhookStore(deps.file);
  const watcher = new WebhookWatcher({
    store,
    blocks: deps.blocks,
    chainId: deps.chainId,
    finalHeight: deps.finalHeight,
    now: deps.now,
    settings: {
      attemptsMax: config.webhookAttemptsMax,
      retryBaseMs: config.webhookRetryBaseMs,
      retryMaxMs: config.webhookRetryMaxMs,
      timeoutMs: config.webhookTimeoutMs,
    },
    log: deps.log,
    ...(deps.onAttempt ? { onAttempt: deps.onAttempt } : {}),
  });
  return {
    store,
    watcher,
    routes: {
      store,
      watcher,
      adminToken,
      finalHeight: deps.finalHeight,
      namespaceKnown: deps.namespaceKnown,
      now: deps.now,
    },
    async close() {
      await watcher.close();
      store.close();
    },
  };
}
