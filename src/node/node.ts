import fs from 'node:fs';
import { RelayGate, relaysInFlightMax } from './relay-gate.js';
import path from 'node:path';
import v8 from 'node:v8';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import {
  Chain,
  batchLengthMax,
  decodeTxs,
  isRejection,
  reject,
  signTx,
  txSigningMessage,
  type CommittedBlock,
  type DecodedTx,
  type ExecutionResult,
  type Genesis,
  type PrecheckItem,
  type Rejection,
} from '../chain/index.js';
import { JetStreamConsensus, SoloConsensus, type Consensus } from '../consensus/index.js';
import { VerifyPool } from '../crypto/verify-pool.js';
import { ledgerKeys } from '../ledger/index.js';
import {
  activeValidatorSet,
  checkProducerParams,
  getProducer,
  producerParams,
} from '../modules/producers/index.js';
import { SqliteBlockStore } from '../state/index.js';
import { registerApi } from './api.js';
import type { CofferModule } from '../modules/manifest.js';
import { cofferModules } from '../modules/registry.js';
import { registerModuleErrors } from './errors.js';
import { nodeBlockValidator, nodeModuleRegistry } from './chain-rules.js';
import { ProducerSigner } from './producer-signer.js';
import { ConfigError, type NodeConfig } from './config.js';
import { readValidatorFile } from './cluster-init.js';
import {
  DataDirError,
  dataFiles,
  defaultGenesisNonceHeights,
  initDataDir,
  databaseModeWarning,
  lockDataDir,
  type DataDirLock,
  type InitResult,
} from './data-dir.js';
import { EventHub } from './event-hub.js';
import { answerClientError, sendError } from './routes.js';
import { createMetrics, type NodeMetrics } from './metrics.js';
import { loadAdminToken, openWebhooks, type NodeWebhooks } from './webhooks/index.js';

export interface SubmitResult {
  hash?: string;
  /** `pending` when accepted and not awaited, else the receipt status once committed. */
  status?: string;
  height?: number;
  index?: number;
  /** Set when the caller waited for finality and the tx's height is final. */
  final?: boolean;
  error?: Rejection;
}

interface CommitOutcome {
  status?: string;
  height?: number;
  index?: number;
  error?: Rejection;
}

/** The commits one submission waits for: `all` resolves once every outcome is in. */
interface CommitWait {
  outcomes: (CommitOutcome | undefined)[];
  all: Promise<void>;
  cancel(index: number): void;
}

/** A committed block that became final, as final-block listeners see it. */
export interface FinalBlock {
  height: number;
  /** Txs the producer left out of it (stale nonces): no receipt, not in the block. */
  dropped: string[];
  /** Its txs and their receipt status, read from the store when asked for. */
  receipts(): { hash: string; status: string }[];
}

/**
 * Committed heights a solo producer keeps for the block that commits its next nonce range. One is
 * enough: that block is executed before it is signed and signed only if the commitment succeeds
 * in it (`NonceRunway`), so the kept height is never spent on a block that does not renew.
 */
export const nonceReserveHeights = 1;

/** How often nonce maintenance runs besides after each block (no blocks come while it waits). */
const nonceMaintenanceMs = 1_000;

/** The producer's committed nonces ahead, as /health reports them. */
export interface NonceRunwayState {
  /** Heights from the next one on the producer can sign (0: not the next one). */
  heightsLeft: number;
  /** The last height with a committed nonce. */
  lastHeight: number;
  /** The first height of the range being computed or committed now, if any. */
  renewingFromHeight?: number;
}

export interface NodeOptions {
  /**
   * Modules besides those of src/modules/registry.ts (and the core ledger): their tx types,
   * routes and codes join the node's (a test's example module, a deployment's own).
   */
  modules?: CofferModule[];
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
  /** The modules whose routes the API serves: the registry's, then `NodeOptions.modules`. */
  modules: readonly CofferModule[] = cofferModules;
  readonly hub = new EventHub();
  readonly metrics: NodeMetrics;
  private readonly waiters = new Map<string, ((outcome: CommitOutcome) => void)[]>();
  private fault: unknown;
  private closed = false;
  /** Next nonce for txs the node signs itself (nonce commitments, evidence). */
  private ownNonce = 0;
  /** fromHeight of a nonce commitment computed or submitted and not yet on chain. */
  private nonceCommitFrom: number | undefined;
  /** Why nonce commitments keep failing, until one lands (for /health). */
  private nonceCommitFailure: { from: number; message: string; attempts: number } | undefined;
  private nonceTimer: NodeJS.Timeout | undefined;
  /** How far the dev clock was moved forward (always 0 unless `config.devClock`). */
  private clockOffset = { ms: 0 };
  /** Held from open to close: no second node on this data directory. */
  private dataDirLock: DataDirLock | undefined;
  /** The last height final-block listeners were told about. */
  private finalDelivered: number;
  /** Dropped txs of blocks not final yet (solo only drops; usually empty). */
  private readonly droppedAt = new Map<number, string[]>();
  private readonly finalBlockListeners: ((block: FinalBlock) => void)[] = [];
  private readonly finalWaiters = new Set<{ height: number; resolve: (final: boolean) => void }>();
  /** Webhook subscriptions and their watcher (src/node/webhooks): set by `open`. */
  webhooks: NodeWebhooks | undefined;
  /** The node's relays of participants' signed requests, one gate for every module. */
  readonly relays: RelayGate;

  private constructor(
    readonly config: NodeConfig,
    readonly init: InitResult,
    readonly store: SqliteBlockStore,
    readonly chain: Chain,
    readonly consensus: Consensus,
    readonly verifyPool: VerifyPool,
    readonly signer: ProducerSigner,
    /** The solo consensus, when this node orders alone (the dev clock cuts blocks through it). */
    readonly solo?: SoloConsensus,
  ) {
    this.metrics = createMetrics();
    this.relays = new RelayGate(
      (type, payload) => this.submitOwn(type, payload, 'final'),
      relaysInFlightMax(config.mempoolSystemTxsMax),
    );
    this.app = Fastify({
      logger: config.logLevel === 'silent' ? false : { level: config.logLevel },
      // Request lines would log tx bodies and cost throughput; errors are logged where they occur.
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: 64 * 1024,
      // Errors raised before routing (a path parameter over maxParamLength, a malformed URL)
      // answer in the API's one error shape too.
      frameworkErrors: (error, _request, reply) => {
        const code = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'uri_too_long' : 'invalid_request';
        void sendError(reply, code);
      },
      clientErrorHandler: answerClientError,
    });
    consensus.onCommit((committed) => this.committed(committed));
    consensus.onFinal((height) => this.finalized(height));
    consensus.onDropped?.((hash, reason) => {
      this.metrics.dropped.inc({ code: reason.code });
      this.resolveWaiters(hash, { error: reason });
    });
    this.metrics.height.set(chain.height());
    this.metrics.finalizedHeight.set(consensus.finalizedHeight);
    this.finalDelivered = consensus.finalizedHeight;
  }

  /**
   * Calls `listener` with each committed block once it is final, in height order: services that
   * act for participants (the issuance relay, webhooks) act on final state only.
   */
  onFinalBlock(listener: (block: FinalBlock) => void): void {
    this.finalBlockListeners.push(listener);
  }

  private finalized(height: number): void {
    this.metrics.finalizedHeight.set(height);
    for (const waiter of this.finalWaiters) {
      if (waiter.height > height) continue;
      this.finalWaiters.delete(waiter);
      waiter.resolve(true);
    }
    // Only heights are kept while finality lags: what a listener needs is read back from the store.
    for (let h = this.finalDelivered + 1; h <= height; h++) {
      const block: FinalBlock = {
        height: h,
        dropped: this.droppedAt.get(h) ?? [],
        receipts: () =>
          this.store.getTxs(h).map((tx) => ({
            hash: tx.hash,
            status: (JSON.parse(tx.receipt) as { status: string }).status,
          })),
      };
      this.droppedAt.delete(h);
      for (const listener of this.finalBlockListeners) {
        try {
          listener(block);
        } catch (error) {
          this.app.log.error({ err: error }, 'a final-block listener failed');
        }
      }
    }
    this.finalDelivered = Math.max(this.finalDelivered, height);
    const head = this.chain.latest();
    this.hub.publishFinal(height, height === head.header.height ? head.hash : undefined);
  }

  /**
   * Keeps the producer's nonces committed ahead: tells the signer which ranges the chain holds,
   * and when fewer than `nonceRangeLeadHeights` committed heights remain, computes the next range
   * in the background and submits `producer.commitNonces`.
   */
  private maintainNonces(): void {
    const record = getProducer(this.store, this.signer.producer);
    if (!record || record.status !== 'active') return;
    this.signer.activate(record.nonceRanges);
    const last = record.nonceRanges[record.nonceRanges.length - 1];
    if (!last) return;
    const end = last.fromHeight + last.count;
    this.metrics.nonceHeightsLeft.set(this.signer.heightsLeft(this.chain.height() + 1));
    if (this.nonceCommitFrom !== undefined && this.nonceCommitFrom < end) {
      this.nonceCommitFrom = undefined; // it landed
    }
    if (this.nonceCommitFailure !== undefined && this.nonceCommitFailure.from < end) {
      this.app.log.info(
        `nonce commitment landed after ${this.nonceCommitFailure.attempts} failures`,
      );
      this.nonceCommitFailure = undefined;
    }
    if (this.nonceCommitFrom !== undefined || this.closed) return;
    const next = this.chain.height() + 1;
    if (end - next >= this.config.nonceRangeLeadHeights) return;
    // A range that ran out (a cluster validator down while the others went on) cannot be
    // continued: the next starts a lead above the head, as the registry allows then.
    const fromHeight = end > next ? end : next + this.config.nonceRangeLeadHeights;
    const count = this.config.nonceRangeHeights;
    this.nonceCommitFrom = fromHeight;
    const failed = (reason: unknown) => {
      // Tried again every nonceMaintenanceMs: logged once per streak, reported on /health.
      const previous = this.nonceCommitFailure;
      if (previous?.from !== fromHeight) {
        this.app.log.warn({ err: reason }, `nonce commitment from height ${fromHeight} failed`);
      }
      const message = reason instanceof Error ? reason.message : String(reason);
      this.nonceCommitFailure = {
        from: fromHeight,
        message,
        attempts: previous?.from === fromHeight ? previous.attempts + 1 : 1,
      };
      if (this.nonceCommitFrom === fromHeight) this.nonceCommitFrom = undefined;
    };
    void this.signer
      .commitmentInBackground(fromHeight, count)
      .then((commitment) =>
        this.submitOwn(
          'producer.commitNonces',
          { producer: this.signer.producer, fromHeight, count, root: commitment.root },
          true,
        ),
      )
      .then((result) => {
        if (result.error || result.status !== 'ok') failed(result.error?.code ?? result.status);
      }, failed);
  }

  /** This node's producer's committed nonces ahead, or undefined when it is no active producer. */
  nonceRunway(): NonceRunwayState | undefined {
    const end = this.signer.committedEnd();
    const record = end === undefined ? undefined : getProducer(this.store, this.signer.producer);
    if (end === undefined || record?.status !== 'active') return undefined;
    return {
      heightsLeft: this.signer.heightsLeft(this.chain.height() + 1),
      lastHeight: end - 1,
      ...(this.nonceCommitFrom === undefined ? {} : { renewingFromHeight: this.nonceCommitFrom }),
    };
  }

  /**
   * What the producer's nonce runway means for /health: `degraded` from half the renewal lead
   * left (a renewal should have landed long before), `halted` when a solo producer cannot sign the
   * next height (down to the height it keeps for the renewal block, with no renewal under way). A
   * cluster node whose producer ran out is `degraded`: it still validates, others produce, and any
   * of them can include its commitment.
   */
  nonceHealth(): { status: 'ok' | 'degraded' | 'halted'; reason?: string } {
    const runway = this.nonceRunway();
    if (!runway) return { status: 'ok' };
    const next = this.chain.height() + 1;
    const failure = this.nonceCommitFailure;
    const renewal =
      runway.renewingFromHeight !== undefined
        ? `the commitment of the range from height ${runway.renewingFromHeight} is under way`
        : failure
          ? `committing the range from height ${failure.from} failed ${failure.attempts} times, last: ${failure.message}`
          : 'no commitment is under way';
    if (runway.heightsLeft === 0) {
      return {
        status: this.solo ? 'halted' : 'degraded',
        reason: `the producer holds no committed nonce for height ${next} (its nonces end at height ${runway.lastHeight}); ${renewal}`,
      };
    }
    if (
      this.solo &&
      runway.heightsLeft <= nonceReserveHeights &&
      runway.renewingFromHeight === undefined
    ) {
      return {
        status: 'halted',
        reason: `the producer's committed nonces end at height ${runway.lastHeight}, kept for the block that commits the next range; ${renewal}`,
      };
    }
    if (runway.heightsLeft <= Math.floor(this.config.nonceRangeLeadHeights / 2)) {
      return {
        status: 'degraded',
        reason: `${runway.heightsLeft} heights of committed nonces left (through height ${runway.lastHeight}); ${renewal}`,
      };
    }
    return { status: 'ok' };
  }

  private maintainNoncesSafely(): void {
    try {
      this.maintainNonces();
    } catch (error) {
      this.app.log.error({ err: error }, 'nonce maintenance failed');
    }
  }

  /** Signs a tx with the node's producer account key and submits it. */
  async submitOwn(
    type: string,
    payload: Record<string, unknown>,
    wait: boolean | 'final',
  ): Promise<SubmitResult> {
    const sender = this.init.producer.address;
    const nonce = Math.max(this.chain.nonceOf(sender), this.ownNonce);
    this.ownNonce = nonce + 1;
    const tx = signTx(
      { chainId: this.chain.chainId, type, sender, nonce, payload },
      this.init.producer.secretKey,
    );
    const [result] = await this.submit([tx], wait);
    if (result?.error && result.error.code !== 'commit_timeout') {
      // The nonce was not used: hand it out again.
      this.ownNonce = Math.min(this.ownNonce, nonce);
    }
    return result ?? { error: reject('internal_error') };
  }

  static async open(config: NodeConfig, options: NodeOptions = {}): Promise<CofferNode> {
    const clockOffset = { ms: 0 };
    const baseNow = options.now ?? Date.now;
    const now = config.devClock ? () => baseNow() + clockOffset.ms : baseNow;
    // Before anything reads or writes the directory: one node per data directory.
    const lock = lockDataDir(
      config.dataDir,
      config.cluster ? 'coffer start --cluster' : 'coffer start',
      new Date(baseNow()),
    );
    try {
      return await CofferNode.openLocked(config, options, lock, now, clockOffset);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  private static async openLocked(
    config: NodeConfig,
    options: NodeOptions,
    lock: DataDirLock,
    now: () => number,
    clockOffset: { ms: number },
  ): Promise<CofferNode> {
    if (config.cluster) checkValidatorDir(config);
    else refuseValidatorDirSolo(config);
    // Process-wide, read by V8 at each full collection: later heap limits follow it.
    if (config.heapGrowingPercent > 0) {
      v8.setFlagsFromString(`--heap-growing-percent=${config.heapGrowingPercent}`);
    }
    const init = initDataDir({
      dataDir: config.dataDir,
      chainId: config.chainId,
      now: now(),
      genesisNonceHeights: Math.min(defaultGenesisNonceHeights, config.nonceRangeHeights),
      ...(options.genesis ? { genesis: options.genesis } : {}),
    });
    // Before the store and workers open: a bad admin-token file stops the start with nothing to undo.
    const admin = loadAdminToken(config.dataDir, config.adminToken);
    const store = new SqliteBlockStore(path.join(config.dataDir, dataFiles.database));
    const extraModules = options.modules ?? [];
    for (const module of extraModules) registerModuleErrors(module);
    const registry = nodeModuleRegistry(extraModules.map((module) => module.chain));
    // The chain and the consensus report faults to the node, which exists only once they do.
    const ref: { node?: CofferNode } = {};
    const chain = new Chain(
      store,
      registry,
      (message, error) => ref.node?.app.log.error({ err: error }, message),
      nodeBlockValidator,
    );
    const signer = openSigner(config, init, store, chain);
    const verifyPool = new VerifyPool(
      config.verifyWorkers === undefined ? {} : { size: config.verifyWorkers },
    );
    // At the tip: a sender funded in the block still being stored has an account.
    const hasAccount = (sender: string) =>
      chain.state().get(ledgerKeys.account(sender)) !== undefined;
    const mempool = {
      txsMax: config.mempoolTxsMax,
      perSenderMax: config.mempoolPerSenderMax,
      gappedTxsMax: config.mempoolGappedTxsMax,
      gappedPerSenderMax: config.mempoolGappedPerSenderMax,
      gappedExpiryMs: config.mempoolGappedExpiryMs,
      systemTxsMax: config.mempoolSystemTxsMax,
      senderTxsPerSecondMax: config.mempoolSenderTxsPerSecondMax,
      gappedAdmissionsPerSecondMax: config.mempoolGappedAdmissionsPerSecondMax,
    };
    let consensus: Consensus;
    let solo: SoloConsensus | undefined;
    if (config.cluster && config.validator) {
      const log = () => ref.node?.app.log;
      consensus = new JetStreamConsensus(chain, {
        servers: config.cluster,
        validatorName: config.validator,
        replicas: config.natsReplicas,
        blockIntervalMs: config.blockIntervalMs ?? clusterBlockIntervalMs,
        blockTxsMax: config.blockTxsMax,
        idleBlockIntervalMs: config.idleBlockIntervalMs,
        producerTimeoutMs: config.producerTimeoutMs,
        termHeights: config.producerTermHeights,
        envelopeTxsMax: config.envelopeTxsMax,
        publishRetryMs: Math.min(config.commitWaitMs, 15_000),
        mempool,
        hasAccount,
        producer: signer,
        attestationKey: init.producer,
        verifyPool,
        // The same set GET /v1/finality shows.
        validators: () => activeValidatorSet(store),
        now,
        halt: (error) => ref.node?.halt(error),
        fileEvidence: async (evidence) => {
          const node = ref.node;
          if (!node) return false;
          const payload = evidence as unknown as Record<string, unknown>;
          const result = await node.submitOwn('evidence.equivocation', payload, false);
          if (result.error) log()?.warn(`evidence not admitted: ${result.error.code}`);
          return result.error === undefined;
        },
        log: {
          info: (message) => log()?.info(message),
          warn: (message, error) => log()?.warn({ err: error }, message),
          error: (message, error) => log()?.error({ err: error }, message),
        },
        onMismatch: () => ref.node?.metrics.stateRootMismatches.inc(),
      });
    } else {
      solo = new SoloConsensus(chain, {
        blockIntervalMs: config.blockIntervalMs ?? soloBlockIntervalMs,
        blockTxsMax: config.blockTxsMax,
        idleBlockIntervalMs: config.idleBlockIntervalMs,
        mempool,
        producer: signer,
        isSystemSender: (sender) => sender === init.producer.address,
        hasAccount,
        nonceRunway: {
          heightsLeft: (height) => signer.heightsLeft(height),
          reserveHeights: nonceReserveHeights,
          renewalLength: (txs) => {
            const at = txs.findIndex((tx) => renewsNonces(tx, signer, init.producer.address));
            return at + 1;
          },
          renews: (result) => renewalOutcome(result, signer, init.producer.address),
        },
        now,
        onError: (error) => ref.node?.halt(error),
      });
      consensus = solo;
    }
    // The pipelined commit (issue 24): blocks are stored by a writer thread while the node goes
    // on (solo: executes the next block; a validator: checks the next block message).
    store.startWriter();
    store.onWriterFailure((error) => ref.node?.halt(error));
    const node = new CofferNode(config, init, store, chain, consensus, verifyPool, signer, solo);
    node.modules = [...cofferModules, ...extraModules];
    // The dev clock's offset outlives a restart with --dev-clock (block time never goes back).
    if (config.devClock) clockOffset.ms = Number(store.getMeta(devClockMetaKey) ?? '0') || 0;
    node.clockOffset = clockOffset;
    node.dataDirLock = lock;
    ref.node = node;
    for (const warning of admin.warnings) node.app.log.warn(warning);
    const databaseWarning = databaseModeWarning(config.dataDir);
    if (databaseWarning !== undefined) node.app.log.warn(databaseWarning);
    node.webhooks = openWebhooks({
      config,
      adminToken: admin.token,
      file: path.join(config.dataDir, dataFiles.database),
      blocks: store,
      chainId: chain.chainId,
      finalHeight: () => node.consensus.finalizedHeight,
      // The wall clock, never the dev clock: receivers check webhook-timestamp against theirs.
      now: options.now ?? Date.now,
      namespaceKnown: eventNamespaceKnown(chain),
      log: {
        warn: (message) => node.app.log.warn(message),
        error: (message, error) => node.app.log.error({ err: error }, message),
      },
      onAttempt: (result) => node.metrics.webhookAttempts.inc({ result }),
    });
    node.onFinalBlock(() => node.webhooks?.watcher.wake());
    await registerApi(node);
    node.webhooks.watcher.start();
    node.maintainNonces();
    node.nonceTimer = setInterval(() => node.maintainNoncesSafely(), nonceMaintenanceMs);
    node.nonceTimer.unref();
    return node;
  }

  /**
   * What an operator should know at start: block time moved ahead of this machine's clock by an
   * earlier run's dev clock, which a start without --dev-clock cannot undo (time never goes back).
   */
  startupNotes(): string[] {
    const notes: string[] = [];
    const headTime = this.chain.latest().header.time;
    const clock = Date.now();
    if (this.config.devClock && this.clockOffset.ms > 0) {
      notes.push(
        `dev clock: block time resumes ${formatDuration(this.clockOffset.ms)} ahead of this ` +
          `machine's clock, where an earlier run moved it`,
      );
    } else if (!this.config.devClock && headTime > clock + devClockNoteAheadMs) {
      notes.push(
        `block time is ${formatDuration(headTime - clock)} ahead of this machine's clock (a dev ` +
          `clock moved it): new blocks keep time ${new Date(headTime).toISOString()} until the ` +
          `clock catches up; start with --dev-clock to go on from the moved time`,
      );
    }
    return notes;
  }

  /** Milliseconds the dev clock has been moved forward (0 without `config.devClock`). */
  get clockOffsetMs(): number {
    return this.clockOffset.ms;
  }

  /**
   * Development only (`config.devClock`): moves the block clock forward by `ms` and cuts a block
   * at once, so beginBlock work (expiries, demurrage periods) runs at the new time. Answers the
   * committed block, or undefined when the producer cannot sign the next height yet.
   */
  advanceClock(ms: number): CommittedBlock | undefined {
    if (!this.config.devClock) throw new Error('advanceClock needs config.devClock');
    this.clockOffset.ms += ms;
    this.store.setMeta(devClockMetaKey, String(this.clockOffset.ms));
    if (!this.solo || !this.healthy || !this.signer.canSign(this.chain.height() + 1)) {
      return undefined;
    }
    try {
      return this.solo.produceBlock();
    } catch (error) {
      this.halt(error);
      throw error;
    }
  }

  /** The address of the key the node signs its own txs with (its producer's operator account). */
  get operator(): string {
    return this.init.producer.address;
  }

  get healthy(): boolean {
    return this.fault === undefined && !this.closed;
  }

  /** Starts producing blocks and serving HTTP; resolves with the base URL. */
  async listen(): Promise<string> {
    try {
      await this.consensus.start();
      const address = await this.app.listen({ host: this.config.host, port: this.config.port });
      return address.replace('[::1]', '127.0.0.1');
    } catch (error) {
      // A node that could not start (no NATS server, the port taken) lets go of its directory.
      await this.close().catch(() => undefined);
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new ConfigError(
          `port ${this.config.port} on ${this.config.host} is in use (another coffer start, ` +
            `or another program): stop it, or start this node with --port`,
        );
      }
      throw error;
    }
  }

  /** Starts block production without a socket (tests drive the API with `app.inject`). */
  async startProducing(): Promise<void> {
    await this.consensus.start();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.nonceTimer) clearInterval(this.nonceTimer);
    await this.webhooks?.close();
    await this.consensus.stop();
    for (const [, waiting] of this.waiters) {
      for (const resolve of waiting) resolve({ error: reject('not_ready') });
    }
    this.waiters.clear();
    for (const waiter of this.finalWaiters) waiter.resolve(false);
    this.finalWaiters.clear();
    await this.app.close();
    await this.verifyPool.close();
    this.store.close();
    this.dataDirLock?.release();
  }

  /**
   * Admits txs: stateless checks, a committed-duplicate check, signatures on the worker pool, then
   * the consensus (mempool). With `wait`, resolves once every admitted tx has committed.
   *
   * The canonical body, its hash and the signature's hex decoding run in the verify workers
   * (`decodeTxs`); this thread keeps the shape checks, the payload parser, the mempool's caps and
   * the mempool. At most `CofferNode.admissionTxsMax` txs are being admitted at once across all calls: past
   * it every tx of the call is refused with `node_busy` (none of it was taken; send it again).
   */
  async submit(inputs: unknown[], wait: boolean | 'final'): Promise<SubmitResult[]> {
    if (!this.healthy) return inputs.map(() => ({ error: reject('not_ready') }));
    if (inputs.length > batchLengthMax) return [{ error: reject('batch_too_large') }];
    if (this.admittingTxs + inputs.length > CofferNode.admissionTxsMax) {
      this.metrics.rejected.inc({ code: 'node_busy' }, inputs.length);
      return inputs.map(() => ({ error: reject('node_busy') }));
    }
    this.admittingTxs += inputs.length;
    let checked: { admitted: { index: number; decoded: DecodedTx }[]; results: SubmitResult[] };
    try {
      checked = await this.admissionChecks(inputs);
    } finally {
      this.admittingTxs -= inputs.length;
    }
    const { admitted, results } = checked;
    if (!this.healthy) return inputs.map(() => ({ error: reject('not_ready') }));

    // Waiters are registered before the consensus sees the txs: a cluster admits asynchronously
    // (the tx stream acknowledges), and a commit must not slip in between.
    const waiting = wait
      ? this.waitForCommits(admitted.map(({ decoded }) => decoded.hash))
      : undefined;
    const admissions = await this.consensus.submit(admitted.map((a) => a.decoded));
    admissions.forEach((rejection, i) => {
      const { index, decoded } = admitted[i]!;
      if (rejection) {
        waiting?.cancel(i);
        results[index] = { hash: decoded.hash, error: rejection };
      } else if (!wait) {
        results[index] = { hash: decoded.hash, status: 'pending' };
      }
    });
    for (const result of results) {
      if (result?.error) this.metrics.rejected.inc({ code: result.error.code });
    }
    this.metrics.mempool.set(this.consensus.pendingCount());
    if (waiting) {
      await waiting.all;
      admitted.forEach(({ index, decoded }, i) => {
        if (admissions[i] === undefined) {
          results[index] = { hash: decoded.hash, ...waiting.outcomes[i]! };
        }
      });
    }
    if (wait === 'final') await this.awaitFinality(results);
    return results;
  }

  /**
   * Txs being admitted at once, across calls, from `submit`'s start until the consensus takes
   * them (waiting for a commit does not count). Bounds the memory a node holds for submissions
   * in flight: five full batches (10,000 txs each) at once, far above what keeps the workers
   * busy (docs/errors.md, `node_busy`). Not readonly so that a test can lower it.
   */
  static admissionTxsMax = 5 * batchLengthMax;

  /** Txs in `submit` between its start and the consensus taking them. */
  private admittingTxs = 0;

  /**
   * The checks of `submit` before the consensus, in order: the mempool's caps on sender and
   * nonce as sent (`prefilter`), decoding (hashes computed in the workers), the committed-
   * duplicate check, the mempool's caps on the decoded txs (`precheck`), then the signatures of
   * the txs left, in the workers. A flood that only hits the caps costs no verify.
   */
  private async admissionChecks(
    inputs: unknown[],
  ): Promise<{ admitted: { index: number; decoded: DecodedTx }[]; results: SubmitResult[] }> {
    const results: SubmitResult[] = new Array<SubmitResult>(inputs.length);
    const decodedTxs: { index: number; decoded: DecodedTx }[] = [];
    const registry = this.chain.registry;
    // On senders and nonces as sent: a flood past the gapped caps and budget costs no decode.
    const early = this.consensus.prefilter?.(inputs.map(senderAndNonce)) ?? [];
    const toDecode = inputs.map((input, index) => {
      const refused = early[index];
      if (refused) results[index] = { error: refused };
      return refused ? undefined : input;
    });
    // Hashes only (no verify yet): the caps below come first.
    const decodedAll = await decodeTxs(
      toDecode,
      this.chain.chainId,
      registry.parserFor,
      this.verifyPool,
      false,
    );
    decodedAll.forEach((decoded, index) => {
      if (decoded === undefined) return;
      if (isRejection(decoded)) {
        results[index] = { error: decoded };
      } else if (this.isCommittedTx(decoded)) {
        results[index] = { hash: decoded.hash, error: reject('duplicate_tx') };
      } else {
        decodedTxs.push({ index, decoded });
      }
    });
    // Caps that need no signature first: a flood that only hits them costs no verify.
    const capped = this.consensus.precheck?.(decodedTxs.map((c) => c.decoded)) ?? [];
    const candidates = decodedTxs.filter(({ index, decoded }, i) => {
      const refused = capped[i];
      if (refused) results[index] = { hash: decoded.hash, error: refused };
      return refused === undefined;
    });
    // Every check to the workers, even a handful: this thread's time is the scarce one.
    const valid = await this.verifyPool.verifyBatch(
      candidates.map(({ decoded }) => ({
        publicKey: decoded.publicKey,
        message: txSigningMessage(decoded.hashBytes),
        signature: decoded.signatureBytes,
      })),
      { inline: false },
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
    return { admitted, results };
  }

  /**
   * Whether this very tx is committed. Nonces only grow, so a tx whose nonce is at or past its
   * sender's committed nonce (read from the chain's cached account) cannot be: only a stale
   * nonce costs the store lookup, which tells `duplicate_tx` from `nonce_too_low` (the latter
   * is the mempool's to answer).
   */
  private isCommittedTx(decoded: DecodedTx): boolean {
    if (decoded.tx.nonce >= this.chain.nonceOf(decoded.tx.sender)) return false;
    return this.store.getTx(decoded.hash) !== undefined;
  }

  /** Waits (up to `commitWaitMs`) until every committed result's height is final, and says so. */
  private async awaitFinality(results: SubmitResult[]): Promise<void> {
    const heights = results.flatMap((r) => (r.error || r.height === undefined ? [] : [r.height]));
    if (heights.length === 0) return;
    const final = await this.untilFinal(Math.max(...heights));
    for (const result of results) {
      if (result.error || result.height === undefined) continue;
      if (final) result.final = true;
      else result.error = reject('final_timeout');
    }
  }

  /** Resolves true once `height` is final, false after `commitWaitMs`. */
  untilFinal(height: number): Promise<boolean> {
    if (this.consensus.finalizedHeight >= height) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = { height, resolve };
      this.finalWaiters.add(waiter);
      setTimeout(() => {
        if (this.finalWaiters.delete(waiter)) resolve(false);
      }, this.config.commitWaitMs).unref();
    });
  }

  /**
   * Waits for the commit of each of `hashes` (a submission's admitted txs), with one timer for
   * them all: past `commitWaitMs` the rest answer `commit_timeout` (still pending). One timer and
   * one promise per call, not per tx: a 2,000-tx batch held ~4,000 timers and promises while it
   * waited (issue 24, memory). `cancel(i)` drops a tx the consensus refused.
   */
  private waitForCommits(hashes: readonly string[]): CommitWait {
    const outcomes = new Array<CommitOutcome | undefined>(hashes.length);
    const callbacks = new Array<(outcome: CommitOutcome) => void>(hashes.length);
    let open = hashes.length;
    let finish = () => {};
    const all = new Promise<void>((resolve) => (finish = resolve));
    const settle = (i: number, outcome: CommitOutcome) => {
      if (outcomes[i] !== undefined) return;
      outcomes[i] = outcome;
      open -= 1;
      if (open === 0) {
        clearTimeout(timer);
        finish();
      }
    };
    const forget = (i: number) => {
      const list = this.waiters.get(hashes[i]!);
      if (!list) return;
      const rest = list.filter((callback) => callback !== callbacks[i]);
      if (rest.length) this.waiters.set(hashes[i]!, rest);
      else this.waiters.delete(hashes[i]!);
    };
    hashes.forEach((hash, i) => {
      const done = (outcome: CommitOutcome) => settle(i, outcome);
      callbacks[i] = done;
      const list = this.waiters.get(hash);
      if (list) list.push(done);
      else this.waiters.set(hash, [done]);
    });
    const timer = setTimeout(() => {
      for (let i = 0; i < hashes.length; i++) {
        if (outcomes[i] !== undefined) continue;
        forget(i);
        settle(i, { status: 'pending', error: reject('commit_timeout') });
      }
    }, this.config.commitWaitMs);
    timer.unref();
    if (open === 0) {
      clearTimeout(timer);
      finish();
    }
    return {
      outcomes,
      all,
      cancel: (i) => {
        if (outcomes[i] !== undefined) return;
        forget(i);
        settle(i, {});
      },
    };
  }

  private resolveWaiters(hash: string, outcome: CommitOutcome): void {
    const list = this.waiters.get(hash);
    if (!list) return;
    this.waiters.delete(hash);
    for (const resolve of list) resolve(outcome);
  }

  private committed(committed: CommittedBlock): void {
    const height = committed.block.header.height;
    this.maintainNoncesSafely();
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
    if (committed.dropped.length > 0) {
      this.droppedAt.set(
        height,
        committed.dropped.map((tx) => tx.hash),
      );
    }
    try {
      this.hub.publish(committed);
    } catch (error) {
      this.app.log.error({ err: error }, 'event hub failed');
    }
  }

  /** Stops producing after a fault the node cannot recover from, and says so on /health. */
  halt(error: unknown): void {
    this.fault = error;
    this.metrics.halted.set(1);
    this.app.log.fatal({ err: error }, 'block production stopped');
  }

  faultMessage(): string | undefined {
    return this.fault === undefined
      ? undefined
      : String((this.fault as Error).message ?? this.fault);
  }
}

/** A tx's sender and nonce as sent, when they are a string and a whole number (not yet checked). */
function senderAndNonce(input: unknown): PrecheckItem | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const { sender, nonce } = input as { sender?: unknown; nonce?: unknown };
  if (typeof sender !== 'string' || !Number.isSafeInteger(nonce)) return undefined;
  return { sender, nonce: nonce as number };
}

/** Whether a first word of an event type names a tx noun or a module of this chain. */
function eventNamespaceKnown(chain: Chain): (namespace: string) => boolean {
  const namespaces = new Set([
    ...chain.registry.txTypes().map((t) => t.split('.')[0]!),
    ...chain.registry.modules.map((m) => m.name),
  ]);
  return (namespace) => namespaces.has(namespace);
}

/** Whether `decoded` is the producer's commitment of the range that follows its committed ones. */
function renewsNonces(decoded: DecodedTx, signer: ProducerSigner, operator: string): boolean {
  if (decoded.tx.type !== 'producer.commitNonces' || decoded.tx.sender !== operator) return false;
  const payload = decoded.parsed as { producer?: unknown; fromHeight?: unknown };
  return payload.producer === signer.producer && payload.fromHeight === signer.committedEnd();
}

/** Whether an executed renewal block commits the producer's next range; if not, why not. */
function renewalOutcome(
  result: ExecutionResult,
  signer: ProducerSigner,
  operator: string,
): Rejection | undefined {
  const at = result.txs.findIndex((tx) => renewsNonces(tx, signer, operator));
  const status = at < 0 ? 'nonce_too_low' : result.receipts[at]!.status;
  return status === 'ok' ? undefined : reject(status);
}

/**
 * The producer's signer, checked against the chain at start-up: the registry's parameters hold
 * (the unbonding period exceeds the evidence window), and the nonces of every committed range the
 * producer still signs in are at hand (from the cache in the data directory, or computed).
 */
function openSigner(
  config: NodeConfig,
  init: InitResult,
  store: SqliteBlockStore,
  chain: Chain,
): ProducerSigner {
  const params = producerParams(store);
  if (!params) throw new ConfigError(`${config.dataDir}: the chain has no producer registry`);
  checkProducerParams(params);
  if (config.nonceRangeHeights > params.nonceRangeHeightsMax) {
    throw new ConfigError(
      `config nonceRangeHeights: the chain allows at most ${params.nonceRangeHeightsMax}`,
    );
  }
  const signer = ProducerSigner.open(chain.chainId, init.producer.secretKey, config.dataDir);
  // Solo releases a signature only by committing its block: one signed above the head never left.
  // A cluster producer publishes before it commits: what it signed may be in the stream already.
  if (!config.cluster) signer.store.discardUncommitted(chain.height());
  const record = getProducer(store, signer.producer);
  if (record) {
    for (const range of record.nonceRanges) {
      if (range.fromHeight + range.count <= chain.height() + 1) continue;
      const commitment = signer.commitment(range.fromHeight, range.count);
      if (commitment.root !== range.root) {
        throw new ConfigError(
          `the committed nonce range from ${range.fromHeight} is not this producer key's`,
        );
      }
    }
    signer.activate(record.nonceRanges);
  }
  return signer;
}

/** A cluster node runs on a validator's data directory from `coffer cluster init`, never a new one. */
/** Block intervals when the config sets none (src/node/config.ts says why they differ). */
const soloBlockIntervalMs = 50;
const clusterBlockIntervalMs = 100;

/** Where the dev clock's offset is kept (meta, never state: it is this node's, not the chain's). */
const devClockMetaKey = 'devClockOffsetMs';
/** Block time this far ahead of the clock at start is worth a note (clock skew stays below it). */
const devClockNoteAheadMs = 60_000;

/** `3d 4h`, `2h 5m`, `40s`: a rough duration for operator notes. */
function formatDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const [d, h, m, s] = [
    Math.floor(seconds / 86_400),
    Math.floor(seconds / 3600) % 24,
    Math.floor(seconds / 60) % 60,
    seconds % 60,
  ];
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  return m > 0 ? `${m}m ${s}s` : `${s}s`;
}

/**
 * A cluster validator's directory started alone would commit blocks of its own, and the next
 * cluster run would halt it on a state root the others never had: refused, saying how to start it.
 */
function refuseValidatorDirSolo(config: NodeConfig): void {
  const validator = fs.existsSync(config.dataDir) ? readValidatorFile(config.dataDir) : undefined;
  if (validator) {
    throw new DataDirError(
      `${config.dataDir} is the directory of cluster validator ${validator.name} (made by coffer ` +
        `cluster init): start it with --cluster nats://HOST:PORT[,...] --validator ` +
        `${validator.name}, never alone`,
    );
  }
}

function checkValidatorDir(config: NodeConfig): void {
  if (!fs.existsSync(path.join(config.dataDir, dataFiles.genesis))) {
    throw new DataDirError(
      `${config.dataDir}: no validator here; run coffer cluster init and start with --data-dir <dir>/${config.validator}`,
    );
  }
  const validator = readValidatorFile(config.dataDir);
  if (!validator) {
    throw new DataDirError(
      `${config.dataDir}: no validator.json (not a cluster validator's directory)`,
    );
  }
  if (validator.name !== config.validator) {
    throw new DataDirError(
      `${config.dataDir} holds validator ${validator.name}, not ${config.validator}`,
    );
  }
}
