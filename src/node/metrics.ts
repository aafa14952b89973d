import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The node's Prometheus metrics, in a registry of its own so two nodes in one process stay apart. */
export function createMetrics() {
  const registry = new Registry();
  // The default metrics are already named process_* and nodejs_*: the prefix adds only `coffer_`
  // (coffer_process_cpu_user_seconds_total, coffer_nodejs_heap_size_used_bytes).
  collectDefaultMetrics({ register: registry, prefix: 'coffer_' });
  return {
    registry,
    height: new Gauge({
      name: 'coffer_block_height',
      help: 'Height of the last committed block',
      registers: [registry],
    }),
    blocks: new Counter({
      name: 'coffer_blocks_committed_total',
      help: 'Blocks committed',
      registers: [registry],
    }),
    txs: new Counter({
      name: 'coffer_txs_committed_total',
      help: 'Txs committed, by receipt status',
      labelNames: ['status'],
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'coffer_txs_rejected_total',
      help: 'Txs refused at admission, by code',
      labelNames: ['code'],
      registers: [registry],
    }),
    mempool: new Gauge({
      name: 'coffer_mempool_txs',
      help: 'Txs waiting to be ordered',
      registers: [registry],
    }),
    dropped: new Counter({
      name: 'coffer_txs_dropped_total',
      help: 'Admitted txs dropped before a block took them (gapped txs expired or evicted), by code',
      labelNames: ['code'],
      registers: [registry],
    }),
    nonceHeightsLeft: new Gauge({
      name: 'coffer_producer_nonce_heights_left',
      help: "Heights from the next one on that this node's producer holds committed nonces for (0: it cannot sign the next height)",
      registers: [registry],
    }),
    blockTxs: new Histogram({
      name: 'coffer_block_txs',
      help: 'Txs per committed block',
      buckets: [0, 1, 10, 100, 1000, 5000, 10000],
      registers: [registry],
    }),
    finalizedHeight: new Gauge({
      name: 'coffer_finalized_height',
      help: 'Highest height attested by more than two thirds of the validators (solo: the head)',
      registers: [registry],
    }),
    halted: new Gauge({
      name: 'coffer_halted',
      help: '1 when the node stopped producing and attesting after a fault (see /health)',
      registers: [registry],
    }),
    stateRootMismatches: new Counter({
      name: 'coffer_state_root_mismatch_total',
      help: 'Blocks whose state root this node computed differently from the block or the quorum',
      registers: [registry],
    }),
    webhookAttempts: new Counter({
      name: 'coffer_webhook_attempts_total',
      help: 'Webhook delivery attempts, by result: ok, failed (retried later) or dead_letter',
      labelNames: ['result'],
      registers: [registry],
    }),
    http: new Counter({
      name: 'coffer_http_requests_total',
      help: 'HTTP requests, by route and status',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
  };
}

export type NodeMetrics = ReturnType<typeof createMetrics>;
