import path from 'node:path';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import {
  Chain,
  ModuleRegistry,
  batchLengthMax,
  decodeTx,
  isRejection,
  ledgerModule,
  reject,
  txSigningMessage,
  type ChainModule,
  type CommittedBlock,
  type DecodedTx,
  type Genesis,
  type Rejection,
} from '../chain/index.js';
import { SoloConsensus } from '../consensus/index.js';
import { VerifyPool } from '../crypto/index.js';
import { SqliteBlockStore } from '../state/index.js';
import { registerApi } from './api.js';
import type { NodeConfig } from './config.js';
import { dataFiles, initDataDir, type InitResult } from './data-dir.js';
import { EventHub } from './event-hub.js';
import { createMetrics, type NodeMetrics } from './metrics.js';

export interface SubmitResult {
  hash?: string;
  /** `pending` when accepted and not awaited, else the receipt status once committed. */
  status?: string;
  height?: number;
  index?: number;
  error?: Rejection;
}

interface CommitOutcome {
  status?: string;
  height?: number;
  index?: number;
  error?: Rejection;
}

export interface NodeOptions {
  /** Modules besides the core ledger. */
  modules?: ChainModule[];
  /** A genesis to use when the data directory is new (the dev genesis otherwise). */
  genesis?: Genesis;
  now?: () => number;
}

/**
 * The composition root: one node with the embedded store, the solo consensus, the verify pool,
 * the HTTP API and the event hub. `open` creates or resumes the data directory.
 */
export class CofferNode {
  readonly app: FastifyInstance;
  readonly hub = new EventHub();
  readonly metrics: NodeMetrics;
  private readonly waiters = new Map<string, ((outcome: CommitOutcome) => void)[]>();
  private fault: unknown;
  private closed = false;

  private constructor(
    readonly config: NodeConfig,
    readonly init: InitResult,
    readonly store: SqliteBlockStore,
    readonly chain: Chain,
    readonly consensus: SoloConsensus,
    readonly verifyPool: VerifyPool,
  ) {
    this.metrics = createMetrics();
    this.app = Fastify({
      logger: config.logLevel === 'silent' ? false : { level: config.logLevel },
      // Request lines would log tx bodies and cost throughput; errors are logged where they occur.
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: 64 * 1024,
    });
    consensus.onCommit((committed) => this.committed(committed));
    this.metrics.height.set(chain.height());
  }

  static async open(config: NodeConfig, options: NodeOptions = {}): Promise<CofferNode> {
    const now = options.now ?? Date.now;
    const init = initDataDir({
      dataDir: config.dataDir,
      chainId: config.chainId,
      now: now(),
      ...(options.genesis ? { genesis: options.genesis } : {}),
    });
    const store = new SqliteBlockStore(path.join(config.dataDir, dataFiles.database));
    const registry = new ModuleRegistry([ledgerModule, ...(options.modules ?? [])]);
    // The chain and the consensus report faults to the node, which exists only once they do.
    const ref: { node?: CofferNode } = {};
    const chain = new Chain(store, registry, (message, error) =>
      ref.node?.app.log.error({ err: error }, message),
    );
    const consensus = new SoloConsensus(chain, {
      blockIntervalMs: config.blockIntervalMs,
      blockTxsMax: config.blockTxsMax,
      idleBlockIntervalMs: config.idleBlockIntervalMs,
      mempool: { txsMax: config.mempoolTxsMax, perSenderMax: config.mempoolPerSenderMax },
      producer: init.producer,
      now,
      onError: (error) => ref.node?.halt(error),
    });
    const verifyPool = new VerifyPool(
      config.verifyWorkers === undefined ? {} : { size: config.verifyWorkers },
    );
    const node = new CofferNode(config, init, store, chain, consensus, verifyPool);
    ref.node = node;
    await registerApi(node);
    return node;
  }

  get healthy(): boolean {
    return this.fault === undefined && !this.closed;
  }

  /** Starts producing blocks and serving HTTP; resolves with the base URL. */
  async listen(): Promise<string> {
    this.consensus.start();
    const address = await this.app.listen({ host: this.config.host, port: this.config.port });
    return address.replace('[::1]', '127.0.0.1');
  }

  /** Starts block production without a socket (tests drive the API with `app.inject`). */
  startProducing(): void {
    this.consensus.start();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.consensus.stop();
    for (const [, waiting] of this.waiters) {
      for (const resolve of waiting) resolve({ error: reject('not_ready') });
    }
    this.waiters.clear();
    await this.app.close();
    await this.verifyPool.close();
    this.store.close();
  }

  /**
   * Admits txs: stateless checks, a committed-duplicate check, signatures on the worker pool, then
   * the consensus (mempool). With `wait`, resolves once every admitted tx has committed.
   */
  async submit(inputs: unknown[], wait: boolean): Promise<SubmitResult[]> {
    if (!this.healthy) return inputs.map(() => ({ error: reject('not_ready') }));
    if (inputs.length > batchLengthMax) return [{ error: reject('batch_too_large') }];
    const results: SubmitResult[] = new Array<SubmitResult>(inputs.length);
    const candidates: { index: number; decoded: DecodedTx }[] = [];
    const registry = this.chain.registry;
    inputs.forEach((input, index) => {
      const decoded = decodeTx(input, this.chain.chainId, registry.parserFor);
      if (isRejection(decoded)) {
        results[index] = { error: decoded };
      } else if (this.store.getTx(decoded.hash)) {
        results[index] = { hash: decoded.hash, error: reject('duplicate_tx') };
      } else {
        candidates.push({ index, decoded });
      }
    });
    const valid = await this.verifyPool.verifyBatch(
      candidates.map(({ decoded }) => ({
        publicKey: decoded.publicKey,
        message: txSigningMessage(decoded.hashBytes),
        signature: decoded.signatureBytes,
      })),
    );
    const admitted: { index: number; decoded: DecodedTx }[] = [];
    candidates.forEach((candidate, i) => {
      if (valid[i]) admitted.push(candidate);
      else
        results[candidate.index] = {
          hash: candidate.decoded.hash,
          error: reject('bad_signature', 'signature'),
        };
    });
    if (!this.healthy) return inputs.map(() => ({ error: reject('not_ready') }));

    const admissions = this.consensus.submit(admitted.map((a) => a.decoded));
    // Waiters are registered only for txs this call got admitted, and only now: the consensus
    // never commits synchronously inside submit, so no commit can be missed.
    const waits: Promise<void>[] = [];
    admissions.forEach((rejection, i) => {
      const { index, decoded } = admitted[i]!;
      if (rejection) {
        results[index] = { hash: decoded.hash, error: rejection };
      } else if (wait) {
        waits.push(
          this.waitForCommit(decoded.hash).then((outcome) => {
            results[index] = { hash: decoded.hash, ...outcome };
          }),
        );
      } else {
        results[index] = { hash: decoded.hash, status: 'pending' };
      }
    });
    for (const result of results) {
      if (result?.error) this.metrics.rejected.inc({ code: result.error.code });
    }
    this.metrics.mempool.set(this.consensus.pendingCount());
    await Promise.all(waits);
    return results;
  }

  private waitForCommit(hash: string): Promise<CommitOutcome> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const list = this.waiters.get(hash);
        if (list) {
          const rest = list.filter((r) => r !== done);
          if (rest.length) this.waiters.set(hash, rest);
          else this.waiters.delete(hash);
        }
        resolve({ status: 'pending', error: reject('commit_timeout') });
      }, this.config.commitWaitMs);
      timer.unref();
      const done = (outcome: CommitOutcome) => {
        clearTimeout(timer);
        resolve(outcome);
      };
      const list = this.waiters.get(hash);
      if (list) list.push(done);
      else this.waiters.set(hash, [done]);
    });
  }

  private resolveWaiters(hash: string, outcome: CommitOutcome): void {
    const list = this.waiters.get(hash);
    if (!list) return;
    this.waiters.delete(hash);
    for (const resolve of list) resolve(outcome);
  }

  private committed(committed: CommittedBlock): void {
    const height = committed.block.header.height;
    committed.txs.forEach((decoded, index) => {
      const status = committed.receipts[index]!.status;
      this.metrics.txs.inc({ status });
      this.resolveWaiters(decoded.hash, { status, height, index });
    });
    for (const dropped of committed.dropped) {
      this.resolveWaiters(dropped.hash, { error: reject('nonce_too_low', 'nonce') });
    }
    this.metrics.blocks.inc();
    this.metrics.height.set(height);
    this.metrics.blockTxs.observe(committed.txs.length);
    this.metrics.mempool.set(this.consensus.pendingCount());
    try {
      this.hub.publish(committed);
    } catch (error) {
      this.app.log.error({ err: error }, 'event hub failed');
    }
  }

  /** Stops producing after a fault the node cannot recover from, and says so on /health. */
  halt(error: unknown): void {
    this.fault = error;
    this.app.log.fatal({ err: error }, 'block production stopped');
  }

  faultMessage(): string | undefined {
    return this.fault === undefined
      ? undefined
      : String((this.fault as Error).message ?? this.fault);
  }
}
