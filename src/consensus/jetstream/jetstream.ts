import {
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import {
  InvalidBlockError,
  blockHash,
  decodeTxs,
  isRejection,
  reject,
  signBlockHeader,
  txSigningMessage,
  type BlockHeader,
  type BlockSigner,
  type Chain,
  type CommittedBlock,
  type DecodedTx,
  type ExecutionResult,
  type MempoolLimits,
  type PrecheckItem,
  type Rejection,
  type SignedBlock,
  verifyBlockSignature,
} from '../../chain/index.js';
import { sha256Hex } from '../../crypto/index.js';
import type { VerifyPool } from '../../crypto/verify-pool.js';
import type { Consensus } from '../consensus.js';
import {
  FinalityTracker,
  validatorQuorum,
  type AttestedState,
  type FinalityOutcome,
} from './finality.js';
import { TxPool } from './pool.js';
import {
  blockShapeProblem,
  clusterNames,
  equivocation,
  readAttestation,
  readProposal,
  signAttestation,
  storedSignedBlock,
  type Attestation,
  type BlockMessage,
  type ClusterNames,
} from './wire.js';

/** The validator set as committed state says: active producers (sorted by id) and their operators. */
/** No NATS server of the cluster answered at start-up: an operational fault, with the URLs. */
export class ClusterUnreachableError extends Error {
  readonly code = 'cluster_unreachable';
}

export interface ValidatorSet {
  producers: string[];
  operators: ReadonlySet<string>;
}

export interface JetStreamOptions {
  /** NATS server URLs of the ordering cluster. */
  servers: string[];
  /** This validator's name: its subjects, and in logs. */
  validatorName: string;
  /** Stream replicas on a clustered NATS (1 on a single server). */
  replicas: number;
  blockIntervalMs: number;
  blockTxsMax: number;
  idleBlockIntervalMs: number;
  /** How long the producer of a height has before the next producer in turn may take it. */
  producerTimeoutMs: number;
  /** Consecutive heights one producer cuts before the next one's turn. */
  termHeights: number;
  /** Txs per tx-stream message. */
  envelopeTxsMax: number;
  /** How long a publish is retried (a leader election takes seconds) before it is given up. */
  publishRetryMs: number;
  mempool: MempoolLimits;
  /** Whether a sender has an account in committed state (see `MempoolOptions.hasAccount`). */
  hasAccount?: (sender: string) => boolean;
  producer: BlockSigner & { canSign(height: number): boolean };
  /** The key attestations are signed with: the producer record's operator key. */
  attestationKey: { address: string; secretKey: Uint8Array };
  verifyPool: VerifyPool;
  validators: () => ValidatorSet;
  now: () => number;
  /** The node stops for good: a block it cannot accept, or state the quorum does not share. */
  halt: (reason: Error) => void;
  /**
   * Files an equivocation the node saw (two blocks one producer signed at one height); resolves
   * whether the evidence tx was admitted.
   */
  fileEvidence: (evidence: NonNullable<ReturnType<typeof equivocation>>) => Promise<boolean>;
  log: {
    info(message: string): void;
    warn(message: string, error?: unknown): void;
    error(message: string, error?: unknown): void;
  };
  onFinal?: (height: number) => void;
  onMismatch?: () => void;
}

/** A block this node signed for a height on a head, ready to publish (again). */
interface BlockOffer {
  height: number;
  prevHash: string;
  block: SignedBlock;
  data: Uint8Array;
}

/** The block stream refused a publish because another block already took the height. */
const wrongLastSequence = 10071;

const metaKeys = {
  blockSeq: 'cluster.blockSeq',
  txSeq: 'cluster.txSeq',
  attestationSeq: 'cluster.attestationSeq',
  finalizedHeight: 'cluster.finalizedHeight',
};

/** A stream this node reads, and how far it got. */
interface Follower {
  stream: string;
  nextSeq: () => number;
  progressAt: number;
  messages: ConsumerMessages | undefined;
}

/**
 * How far past its parent's time a block may put the clock: a producer with a fast clock (or a
 * Byzantine one) moves time by at most this per block; after a long outage the chain's time
 * catches up with the wall clock in steps of this size.
 */
export const blockTimeStepMaxMs = 10 * 60 * 1000;

/** A consumer that has not delivered for this long while its stream has more is made again. */
const stallMs = 3_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const day = 24 * 60 * 60 * 1e9; // nanoseconds, as stream configs count

export class ClusterHaltError extends Error {
  readonly code = 'cluster_halted';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Consensus for a consortium: NATS JetStream orders, Coffer holds validators accountable
 * (docs/cluster.md). Txs go into a tx stream in envelopes; the producer of a height, in turn over
 * the active producers, cuts a block from its pool and publishes it to the block stream with an
 * expected-last-sequence guard, so one block per height; every node executes every block from
 * the stream, checks it, commits it and attests `(height, blockHash, stateRoot)`. A height is final
 * when more than two thirds of the validators attested what this node committed.
 */
export class JetStreamConsensus implements Consensus {
  readonly kind = 'jetstream';
  private readonly pool: TxPool;
  private readonly names: ClusterNames;
  private readonly listeners: ((committed: CommittedBlock) => void)[] = [];
  /** `considerBlock`s waiting for the block being stored (see `untilDurable`). */
  private durableWaiters: (() => void)[] = [];
  private readonly finalListeners: ((height: number) => void)[] = [];
  private readonly dropListeners: ((hash: string, reason: Rejection) => void)[] = [];
  private readonly finality: FinalityTracker;
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private readonly followers: Follower[] = [];
  private jsm: JetStreamManager | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private watching = false;
  private proposals: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private halted = false;
  private producing = false;
  /** Txs this node published and has not yet seen come back through the tx stream (checked). */
  private readonly published = new Map<string, DecodedTx>();
  /** Blocks this node produced, by hash, with their execution (reused when they come back). */
  private readonly ownBlocks = new Map<
    string,
    { height: number; result: ExecutionResult & { time: number } }
  >();
  /** Signed blocks seen on the proposal subject, by height, for equivocation checks. */
  private readonly seenProposals = new Map<number, SignedBlock[]>();
  private readonly evidenceFiled = new Set<string>();
  /** Blocks this node skipped, by height and hash, with the reason (for conflict reports). */
  private readonly rejected = new Map<number, Map<string, string>>();
  /** The last block-stream sequence this node has decided on (committed or skipped). */
  private lastBlockSeq = 0;
  /** Block-stream messages known to follow the last one handled: catching up while above 0. */
  private blockBacklog = 0;
  private headCommittedAt = 0;
  /** When the pool first had something ready since the head was committed. */
  private readySince: number | undefined;
  private lastTxSeq = 0;
  private lastAttestationSeq = 0;
  private progressSavedAt = 0;
  private validatorCache: { height: number; set: ValidatorSet } | undefined;
  /**
   * The validator set of each height above the finalized one that this node committed the block
   * below of: the set committed state named after that block (the one that admitted the height's
   * producer). Heights not here (above the head, or committed before a restart) use the head's.
   */
  private readonly setsByHeight = new Map<number, ValidatorSet>();
  private batch: { txs: DecodedTx[]; done: Promise<boolean>; flush: () => void } | undefined;
  private maxPayload = 1024 * 1024;
  private blockBytesMax = 1024 * 1024 - 16 * 1024;
  /** The block this node signed last and may still have to publish. */
  private offer: BlockOffer | undefined;

  constructor(
    private readonly chain: Chain,
    private readonly options: JetStreamOptions,
  ) {
    this.names = clusterNames(chain.chainId);
    // A block is committed (attested, announced, settled in the pool) once it is durable: the
    // store may commit it on its writer thread while this node follows the stream.
    chain.onDurable((committed) => this.committedBlock(committed));
    this.pool = new TxPool((sender) => chain.nonceOf(sender), options.mempool, {
      now: options.now,
      // The system lane: the active producers' operators (nonce commitments, evidence).
      isSystemSender: (sender) => this.validatorSet().operators.has(sender),
      ...(options.hasAccount ? { hasAccount: options.hasAccount } : {}),
      onDrop: (decoded, reason) => {
        for (const listener of this.dropListeners) listener(decoded.hash, reason);
      },
    });
    const stored = Number(chain.store.getMeta(metaKeys.finalizedHeight) ?? '0');
    this.finality = new FinalityTracker(
      Math.min(stored, chain.height()),
      (height) => this.validatorsAt(height).operators,
      (height) => this.localState(height),
      (height, hash) => this.rejected.get(height)?.get(hash),
    );
  }

  get finalizedHeight(): number {
    return this.finality.finalizedHeight;
  }

  /** The validators whose attestations count at `height` (see `setsByHeight`). */
  validatorsAt(height: number): ValidatorSet {
    return this.setsByHeight.get(height) ?? this.validatorSet();
  }

  /** The attestations `height` needs to be final: `validatorQuorum` over its validators. */
  quorumAt(height: number): number {
    return validatorQuorum(this.validatorsAt(height).operators);
  }

  get isHalted(): boolean {
    return this.halted;
  }

  onCommit(listener: (committed: CommittedBlock) => void): void {
    this.listeners.push(listener);
  }

  onFinal(listener: (height: number) => void): void {
    this.finalListeners.push(listener);
  }

  onDropped(listener: (hash: string, reason: Rejection) => void): void {
    this.dropListeners.push(listener);
  }

  precheck(txs: DecodedTx[]): (Rejection | undefined)[] {
    return this.pool.precheck(txs);
  }

  prefilter(items: (PrecheckItem | undefined)[]): (Rejection | undefined)[] {
    return this.pool.prefilter(items);
  }

  isPending(hash: string): boolean {
    return this.pool.has(hash) || this.published.has(hash);
  }

  pendingCount(): number {
    return this.pool.size;
  }

  /** Connects, makes sure the streams exist, and follows them from where this node's store is. */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: this.options.servers,
        name: `coffer-${this.chain.chainId}-${this.options.validatorName}`,
        reconnectTimeWait: 250,
        maxReconnectAttempts: -1,
      });
    } catch (error) {
      this.stopped = true;
      const servers = this.options.servers.join(', ');
      throw new ClusterUnreachableError(
        `cannot reach any NATS server of ${servers} (${(error as Error).message}): is ` +
          `nats-server running and listening there? (docs/cluster.md, "A three-host deployment")`,
      );
    }
    this.nc = nc;
    this.maxPayload = nc.info?.max_payload ?? 1024 * 1024;
    this.blockBytesMax = Math.max(32 * 1024, this.maxPayload - 16 * 1024);
    const jsm = await this.retrying('reach JetStream', () =>
      jetstreamManager(nc, { timeout: 5_000 }),
    );
    this.jsm = jsm;
    const replicas = nc.info?.cluster ? this.options.replicas : 1;
    await this.ensureStreams(jsm, replicas);
    this.js = jetstream(nc, { timeout: 5_000 });
    this.proposals = nc.subscribe(this.names.proposalSubject, {
      callback: (error, message) => {
        if (!error) this.proposalSeen(message.data);
      },
    });
    this.headCommittedAt = this.options.now();
    this.lastTxSeq = Number(this.chain.store.getMeta(metaKeys.txSeq) ?? '0');
    this.lastBlockSeq = Number(this.chain.store.getMeta(metaKeys.blockSeq) ?? '0');
    this.follow(
      this.names.blockStream,
      () => this.lastBlockSeq + 1,
      (seq, data, pending) => {
        this.blockBacklog = pending;
        return this.applyBlock(seq, data);
      },
      8,
    );
    this.follow(
      this.names.txStream,
      () => this.lastTxSeq + 1,
      (seq, data) => this.ingestEnvelope(seq, data),
    );
    this.lastAttestationSeq = Number(this.chain.store.getMeta(metaKeys.attestationSeq) ?? '0');
    this.follow(
      this.names.attestationStream,
      () => this.lastAttestationSeq + 1,
      (seq, data) => {
        this.attestationSeen(seq, data);
        return Promise.resolve();
      },
    );
    this.timer = setInterval(() => this.tick(), this.options.blockIntervalMs);
    this.watchdog = setInterval(() => void this.watchFollowers(), 1_000);
    this.options.log.info(
      `cluster: validator ${this.options.validatorName} following ${this.options.servers.join(',')} from height ${this.chain.height()}`,
    );
  }

  /** Retries `attempt` for up to 30 s (a NATS server may be down, a leader being elected). */
  private async retrying<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        if (this.stopped || Date.now() >= deadline) {
          throw new Error(`cannot ${what}`, { cause: error });
        }
        await sleep(250);
      }
    }
  }

  private async ensureStreams(jsm: JetStreamManager, replicas: number): Promise<void> {
    const common: Partial<StreamConfig> = {
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: replicas,
      discard: DiscardPolicy.Old,
    };
    const streams: (Partial<StreamConfig> & { name: string })[] = [
      {
        ...common,
        name: this.names.txStream,
        subjects: [this.names.txSubject('*')],
        max_age: day,
        duplicate_window: 2 * 60 * 1e9,
      },
      {
        ...common,
        name: this.names.blockStream,
        subjects: [this.names.blockSubject],
        deny_delete: true,
        deny_purge: true,
        duplicate_window: 2 * 60 * 1e9,
      },
      {
        ...common,
        name: this.names.attestationStream,
        subjects: [this.names.attestationSubject('*')],
        max_age: day,
      },
    ];
    for (const config of streams) {
      // Validators starting together race to create the streams; creation of a replicated stream
      // can answer an error while another's request is in flight. Retry until it is there.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const exists = await jsm.streams.info(config.name).then(
          () => true,
          () => false,
        );
        if (exists) break;
        const error = await jsm.streams.add(config).then(
          () => undefined,
          (error: unknown) => error,
        );
        if (error === undefined) break;
        if (Date.now() >= deadline) {
          throw new Error(`cannot create stream ${config.name}`, { cause: error });
        }
        await sleep(250);
      }
    }
  }

  /**
   * Reads a stream in order through an ordered consumer, one message at a time, from `nextSeq()`.
   * When the consumer fails or stalls (a server died, a leader moved: the watchdog sees the stream
   * ahead of this node and no progress), it is made again from where this node is; until it can
   * be made (a server down at start-up), it is retried. A handler that throws stops the node
   * instead (its state may be half way).
   */
  private follow(
    stream: string,
    nextSeq: () => number,
    handle: (seq: number, data: Uint8Array, pending: number) => Promise<void>,
    /** Messages fetched ahead: few for blocks (each up to the payload limit), more otherwise. */
    bufferMessages = 256,
  ): void {
    const follower: Follower = { stream, nextSeq, progressAt: Date.now(), messages: undefined };
    this.followers.push(follower);
    const open = async () => {
      const consumer = await this.js!.consumers.get(stream, {
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: Math.max(1, nextSeq()),
      });
      const messages = await consumer.consume({ max_messages: bufferMessages });
      follower.messages = messages;
      follower.progressAt = Date.now();
      return messages;
    };
    void (async () => {
      while (!this.stopped && !this.halted) {
        let messages: ConsumerMessages;
        try {
          messages = await open();
        } catch (error) {
          this.options.log.warn(`cluster: cannot follow ${stream} yet`, error);
          await sleep(500);
          continue;
        }
        try {
          for await (const message of messages) {
            if (this.halted || this.stopped) break;
            try {
              await handle(message.seq, message.data, message.info.pending);
            } catch (error) {
              this.fail(
                new Error(`handling ${stream} message ${message.seq} failed`, { cause: error }),
              );
              break;
            }
            follower.progressAt = Date.now();
          }
        } catch (error) {
          this.options.log.warn(`cluster: reading ${stream} failed; following again`, error);
        }
        follower.messages = undefined;
        messages.stop();
        if (!this.stopped && !this.halted) await sleep(250);
      }
    })();
  }

  /** Re-makes a consumer that has not moved for a while although its stream has more. */
  private async watchFollowers(): Promise<void> {
    if (!this.jsm || this.stopped || this.watching) return;
    this.watching = true;
    try {
      for (const follower of this.followers) {
        if (!follower.messages || Date.now() - follower.progressAt < stallMs) continue;
        const info = await this.jsm.streams.info(follower.stream).catch(() => undefined);
        if (!info) continue;
        if (follower.stream === this.names.blockStream && info.state.last_seq < this.lastBlockSeq) {
          // The guard could never be met again: publishes would be refused forever.
          this.fail(
            new ClusterHaltError(
              `the block stream holds ${info.state.last_seq} messages, this node has decided ${this.lastBlockSeq}: the stream was lost or made anew`,
            ),
          );
          return;
        }
        if (info.state.last_seq < follower.nextSeq()) {
          follower.progressAt = Date.now(); // idle, not stalled
          continue;
        }
        this.options.log.warn(
          `cluster: following ${follower.stream} stalled at ${follower.nextSeq() - 1} of ${info.state.last_seq}; following again`,
        );
        follower.progressAt = Date.now();
        follower.messages?.stop();
      }
    } finally {
      this.watching = false;
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    // The block still being stored is announced (and its position saved with it) first.
    this.chain.flush();
    this.progressSavedAt = 0;
    this.saveProgress();
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.watchdog) clearInterval(this.watchdog);
    for (const follower of this.followers) follower.messages?.stop();
    this.followers.length = 0;
    this.proposals?.unsubscribe();
    const nc = this.nc;
    this.nc = undefined;
    if (nc) await nc.drain().catch(() => nc.close());
  }

  // ---- Admission -------------------------------------------------------------------------------

  /**
   * Admits txs (signatures already checked by the node) by storing them in the tx stream: resolves
   * once JetStream acknowledged them, so an admitted tx survives this node. Txs from concurrent
   * calls share envelopes.
   */
  async submit(txs: DecodedTx[]): Promise<(Rejection | undefined)[]> {
    if (this.stopped || this.halted || !this.js) return txs.map(() => reject('not_ready'));
    const results: (Rejection | undefined)[] = txs.map((decoded) =>
      this.published.has(decoded.hash) ? reject('duplicate_tx') : this.pool.check(decoded),
    );
    const admitted = txs.filter((_, i) => results[i] === undefined);
    for (const decoded of admitted) this.published.set(decoded.hash, decoded);
    // One promise per admitted tx: whether the envelope it went into was stored.
    const stored = await Promise.all(this.envelopesFor(admitted));
    let index = 0;
    txs.forEach((decoded, i) => {
      if (results[i] !== undefined) return;
      if (!stored[index++]) {
        // Not confirmed stored: not admitted here, and free to be submitted again.
        this.published.delete(decoded.hash);
        results[i] = reject('ordering_unavailable');
      }
    });
    return results;
  }

  /**
   * Puts txs into envelopes, joining the one being filled (txs of concurrent calls share
   * envelopes); answers, per tx, whether its envelope was stored. An envelope is published once:
   * when it is full, or on the next turn of the event loop.
   */
  private envelopesFor(txs: DecodedTx[]): Promise<boolean>[] {
    const done: Promise<boolean>[] = [];
    for (const decoded of txs) {
      let batch = this.batch;
      if (!batch) {
        const batchTxs: DecodedTx[] = [];
        let flushed = false;
        let flush = () => {};
        const stored = new Promise<boolean>((resolve) => {
          flush = () => {
            if (flushed) return;
            flushed = true;
            if (this.batch?.txs === batchTxs) this.batch = undefined;
            this.publishEnvelope(batchTxs).then(resolve, () => resolve(false));
          };
        });
        batch = { txs: batchTxs, done: stored, flush };
        this.batch = batch;
        setImmediate(flush);
      }
      batch.txs.push(decoded);
      done.push(batch.done);
      if (batch.txs.length >= this.options.envelopeTxsMax) batch.flush();
    }
    return done;
  }

  private async publishEnvelope(txs: DecodedTx[]): Promise<boolean> {
    if (txs.length === 0) return true;
    // The hashes let a node that has a tx already (its own, or pooled) skip decoding it again.
    const hashes = txs.map((d) => `"${d.hash}"`).join(',');
    const body = `{"hashes":[${hashes}],"txs":[${txs.map((d) => JSON.stringify(d.tx)).join(',')}]}`;
    const data = encoder.encode(body);
    const msgID = sha256Hex(data);
    const deadline = Date.now() + this.options.publishRetryMs;
    for (;;) {
      if (!this.js || this.stopped) return false;
      try {
        await this.js.publish(this.names.txSubject(this.options.validatorName), data, { msgID });
        return true;
      } catch (error) {
        if (Date.now() >= deadline) {
          this.options.log.warn('cluster: an envelope could not be stored in time', error);
          return false;
        }
        await sleep(200);
      }
    }
  }

  /** An envelope from the tx stream (any node's, this one's too) into the pool. */
  private async ingestEnvelope(seq: number, data: Uint8Array): Promise<void> {
    this.lastTxSeq = seq;
    let envelope: { hashes?: unknown; txs?: unknown };
    try {
      envelope = JSON.parse(decoder.decode(data)) as typeof envelope;
    } catch {
      return; // not ours to judge: a malformed envelope holds nothing to order
    }
    if (!Array.isArray(envelope?.txs)) return;
    const hashes: unknown[] = Array.isArray(envelope.hashes) ? envelope.hashes : [];
    // This node's own txs were checked when it admitted them; the others are decoded and their
    // signatures verified in the workers, in one pass (nothing needs to come between).
    const own: (DecodedTx | undefined)[] = [];
    const toDecode = envelope.txs.map((input: unknown, index) => {
      const hash = hashes[index];
      own[index] = typeof hash === 'string' ? this.published.get(hash) : undefined;
      if (own[index] || (typeof hash === 'string' && this.pool.has(hash))) return undefined;
      return input;
    });
    const decodedAll = await decodeTxs(
      toDecode,
      this.chain.chainId,
      this.chain.registry.parserFor,
      this.options.verifyPool,
      true,
    );
    const candidates: DecodedTx[] = [];
    toDecode.forEach((_, index) => {
      const mine = own[index];
      if (mine) {
        candidates.push(mine);
        return;
      }
      const decoded = decodedAll[index];
      // Refused (a bad signature included), or held already.
      if (decoded === undefined || isRejection(decoded) || this.pool.has(decoded.hash)) return;
      // A committed tx has a nonce below its sender's: the pool refuses it without a lookup.
      if (decoded.tx.nonce < this.chain.nonceOf(decoded.tx.sender)) return;
      candidates.push(decoded);
    });
    for (const decoded of candidates) {
      const own = this.published.delete(decoded.hash);
      const refused = this.pool.add(decoded, seq);
      // A tx this node admitted that its pool no longer takes (it filled up meanwhile): say so.
      if (own && refused && refused.code !== 'duplicate_tx') {
        for (const listener of this.dropListeners) listener(decoded.hash, refused);
      }
    }
    if (this.readySince === undefined && this.pool.hasReady()) this.readySince = this.options.now();
  }

  private verify(txs: DecodedTx[]): Promise<boolean[]> {
    if (txs.length === 0) return Promise.resolve([]);
    return this.options.verifyPool.verifyBatch(
      txs.map((d) => ({
        publicKey: d.publicKey,
        message: txSigningMessage(d.hashBytes),
        signature: d.signatureBytes,
      })),
      // Every check to the workers, even a handful: this thread's time is the scarce one.
      { inline: false },
    );
  }

  // ---- Producing -------------------------------------------------------------------------------

  private validatorSet(): ValidatorSet {
    const height = this.chain.height();
    if (this.validatorCache?.height !== height) {
      this.validatorCache = { height, set: this.options.validators() };
    }
    return this.validatorCache.set;
  }

  /**
   * Who may produce the next height now. Producers take turns of `termHeights` heights, in id
   * order; after each `producerTimeoutMs` that passes with a block due and none committed, the next
   * one in order may take the height, and keeps the rest of the turn (so a producer that is down
   * costs one timeout per turn, not one per height). A liveness convention, not a validity rule:
   * the guard on the block stream decides which block is next.
   */
  scheduledProducer(now: number): string | undefined {
    const { producers } = this.validatorSet();
    const count = producers.length;
    if (count === 0) return undefined;
    let dueSince: number | undefined;
    if (this.readySince !== undefined && this.pool.hasReady()) {
      dueSince = Math.max(this.readySince, this.headCommittedAt);
    } else if (this.options.idleBlockIntervalMs > 0) {
      dueSince = this.headCommittedAt + this.options.idleBlockIntervalMs;
    }
    if (dueSince === undefined || now < dueSince) return undefined;
    const round = Math.floor((now - dueSince) / this.options.producerTimeoutMs);
    const head = this.chain.latest().header;
    const turn = Math.floor((head.height + 1) / this.options.termHeights);
    let taken = 0;
    if (head.height > 0 && Math.floor(head.height / this.options.termHeights) === turn) {
      const at = producers.indexOf(head.producer);
      if (at >= 0) taken = (at - (turn % count) + count) % count;
    }
    return producers[(turn + taken + round) % count];
  }

  private tick(): void {
    // A node catching up would only sign blocks for heights long decided; a block being stored
    // is the head's successor already.
    if (this.stopped || this.halted || this.producing || this.blockBacklog > 0) return;
    if (this.chain.tip() !== this.chain.latest()) return;
    const height = this.chain.height() + 1;
    if (this.scheduledProducer(this.options.now()) !== this.options.producer.producer) return;
    const offered =
      this.offer?.height === height && this.offer.prevHash === this.chain.latest().hash;
    if (!offered && !this.options.producer.canSign(height)) return;
    this.producing = true;
    this.produce(height)
      .catch((error: unknown) =>
        this.options.log.error(`cluster: producing ${height} failed`, error),
      )
      .finally(() => {
        this.producing = false;
      });
  }

  /**
   * Produces `height`: builds, executes and signs a block on the head (or takes the one this node
   * signed already for this head: a height is signed once, and a block the stream did not take yet
   * is offered again as it is), announces it and publishes it behind the guard.
   */
  private async produce(height: number): Promise<void> {
    const head = this.chain.latest();
    let offer = this.offer;
    if (offer?.height !== height || offer.prevHash !== head.hash) {
      offer = this.buildBlock(height);
      if (!offer) return;
      this.offer = offer;
      this.nc?.publish(this.names.proposalSubject, encoder.encode(JSON.stringify(offer.block)));
    }
    const { block, data } = offer;
    const deadline = Date.now() + this.options.publishRetryMs;
    for (;;) {
      if (this.stopped || this.halted || this.chain.height() >= height) return;
      try {
        await this.js!.publish(this.names.blockSubject, data, {
          msgID: `block-${height}-${block.hash}`,
          // Refused unless this node has seen the whole stream: one block per height goes in.
          expect: { lastSequence: this.lastBlockSeq },
        });
        return;
      } catch (error) {
        // Something came in first: another producer's block for the height (then this offer is
        // moot once it is committed), or a message every node skips (then it is offered again).
        if (error instanceof JetStreamApiError && error.code === wrongLastSequence) return;
        if (Date.now() >= deadline) {
          this.options.log.warn(`cluster: block ${height} could not be published yet`, error);
          return;
        }
        await sleep(200);
      }
    }
  }

  private buildBlock(height: number): BlockOffer | undefined {
    // The message is {"block":...,"hashes":[...],"txs":[...]}: a tx costs its JSON in UTF-8 bytes,
    // its quoted hash and two commas. The header, signature and framing (under 4 KiB) fit in the
    // margin between blockBytesMax and the server's max_payload.
    const bodies: string[] = [];
    let bytes = 0;
    const txs = this.pool.select(this.options.blockTxsMax, (decoded) => {
      const body = JSON.stringify(decoded.tx);
      const cost = Buffer.byteLength(body) + decoded.hash.length + 4;
      if (bytes + cost > this.blockBytesMax) return false;
      bytes += cost;
      bodies.push(body);
      return true;
    });
    const head = this.chain.latest();
    const time = Math.min(this.options.now(), head.header.time + blockTimeStepMaxMs);
    const result = this.chain.execute(txs, time, true);
    const header = this.chain.nextHeader(result, this.options.producer.producer);
    // Produced on the durable head only (`tick`): the height asked for is the head's next.
    if (header.height !== height) return undefined;
    // The signer records the height before it signs: this node never signs another block here.
    const block = signBlockHeader(header, this.options.producer);
    this.ownBlocks.set(block.hash, { height, result });
    const message: BlockMessage = {
      block,
      hashes: result.txs.map((d) => d.hash),
      txs: result.txs.map((d) => d.tx),
    };
    const data = encoder.encode(JSON.stringify(message));
    if (data.length > this.maxPayload) {
      // Cannot happen with the budget above; if it did, the height is left to the next producer.
      this.options.log.error(
        `cluster: block ${height} is ${data.length} bytes, over the server's ${this.maxPayload}`,
      );
      return undefined;
    }
    return { height, prevHash: head.hash, block, data };
  }

  // ---- Following the block stream -------------------------------------------------------------

  private fail(error: Error): void {
    if (this.halted || this.stopped) return;
    this.halted = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.options.halt(error);
  }

  /**
   * One message of the block stream. Every node takes the same decision on the same message from
   * the same state, so a message that is not a valid next block (malformed, not extending the head,
   * a bad signature, a producer not active, a tx that does not verify or run, roots that do not
   * match) is skipped by every honest node alike, and a Byzantine producer cannot stop the chain.
   * A node whose own state is wrong skips a block the others accept; their attestations then show
   * it, and it halts (`decided`).
   */
  private async applyBlock(seq: number, data: Uint8Array): Promise<void> {
    const outcome = await this.considerBlock(seq, data);
    // Stopped or halted half way: this message is not decided, and a restart must see it again.
    if (outcome.kind === 'interrupted') return;
    this.lastBlockSeq = seq;
    this.saveProgress();
    if (outcome.kind === 'committed') return;
    if (outcome.kind === 'rejected') {
      this.options.log.warn(
        `cluster: block stream message ${seq} (block ${outcome.hash ?? '?'} at height ${outcome.height ?? '?'}) skipped: ${outcome.reason}`,
      );
      // Only a candidate for the next height can be what the others commit there.
      if (outcome.height === this.chain.height() + 1 && outcome.hash !== undefined) {
        this.rememberRejected(outcome.height, outcome.hash, outcome.reason);
        this.decided(this.finality.evaluate(outcome.height));
      }
    }
  }

  private rememberRejected(height: number, hash: string, reason: string): void {
    let atHeight = this.rejected.get(height);
    if (!atHeight) {
      atHeight = new Map();
      this.rejected.set(height, atHeight);
    }
    if (atHeight.size < 16) atHeight.set(hash, reason);
    for (const h of this.rejected.keys()) if (h + 10_000 < height) this.rejected.delete(h);
  }

  private async considerBlock(
    seq: number,
    data: Uint8Array,
  ): Promise<
    | { kind: 'committed' | 'old' | 'interrupted' }
    | { kind: 'rejected'; reason: string; height?: number; hash?: string }
  > {
    let message: BlockMessage;
    try {
      message = JSON.parse(decoder.decode(data)) as BlockMessage;
    } catch {
      return { kind: 'rejected', reason: 'not JSON' };
    }
    const shape = blockShapeProblem(message?.block);
    if (shape !== undefined || !Array.isArray(message.txs)) {
      return { kind: 'rejected', reason: `not a block message (${shape ?? 'no txs'})` };
    }
    const { block } = message;
    const { header } = block;
    const rejected = (reason: string) =>
      ({ kind: 'rejected', reason, height: header.height, hash: block.hash }) as const;
    // Every check below reads durable state (the validator set, the head): the block before this
    // one must be stored first. Its commit overlaps this message's decoding and signature checks.
    await this.untilDurable();
    if (this.halted || this.stopped) return { kind: 'interrupted' };
    const head = this.chain.latest();
    if (header.height <= head.header.height) {
      // A late candidate for a height already decided; if its producer also signed the block
      // committed there, that is an equivocation.
      this.checkCandidate(block);
      return { kind: 'old' };
    }
    if (header.chainId !== this.chain.chainId) return rejected('another chain');
    if (header.height !== head.header.height + 1 || header.prevHash !== head.hash) {
      return rejected(`does not extend the head (${head.header.height}, ${head.hash})`);
    }
    if (blockHash(header) !== block.hash) return rejected("the hash is not its header's");
    if (header.time < head.header.time) return rejected('goes back in time');
    if (header.time > head.header.time + blockTimeStepMaxMs) {
      return rejected(`moves time more than ${blockTimeStepMaxMs} ms past its parent`);
    }
    // Checked again (with the producer's registry record) at commit; here before any execution.
    if (!verifyBlockSignature(block)) return rejected('the signature does not verify');
    if (this.validatorSet().producers.indexOf(header.producer) < 0) {
      return rejected('its producer is not an active producer');
    }
    // Every tx is decoded and must hash to its listed hash (the tx root binds the block to the
    // hashes); a tx this node holds already by that hash was checked once and is not checked again.
    const hashes: unknown[] = Array.isArray(message.hashes) ? message.hashes : [];
    if (hashes.length !== message.txs.length) return rejected('its tx hashes do not match its txs');
    const decoded: DecodedTx[] = [];
    const unchecked: DecodedTx[] = [];
    // Hashes computed in the workers; only the txs not held already are verified after.
    const decodedAll = await decodeTxs(
      message.txs,
      this.chain.chainId,
      this.chain.registry.parserFor,
      this.options.verifyPool,
      false,
    );
    for (const [index, tx] of decodedAll.entries()) {
      if (tx === undefined) return rejected('holds an invalid tx (invalid_tx)');
      if (isRejection(tx)) return rejected(`holds an invalid tx (${tx.code})`);
      if (tx.hash !== hashes[index]) return rejected(`tx ${index} does not hash to its hash`);
      // The hash leaves the signature out: a held copy counts only with the very same signature.
      const held = this.pool.get(tx.hash) ?? this.published.get(tx.hash);
      const same = held !== undefined && held.tx.signature === tx.tx.signature;
      decoded.push(same ? held : tx);
      if (!same) unchecked.push(tx);
    }
    if ((await this.verify(unchecked)).some((ok) => !ok)) {
      return rejected('holds a tx with a bad signature');
    }
    if (this.halted || this.stopped) return { kind: 'interrupted' };
    if (this.chain.height() !== header.height - 1) return rejected('the head moved');
    const own = this.ownBlocks.get(block.hash);
    let result: ExecutionResult & { time: number };
    try {
      result =
        own && own.height === header.height
          ? own.result
          : this.chain.execute(decoded, header.time, false);
    } catch (error) {
      if (error instanceof InvalidBlockError) return rejected(error.message);
      throw error; // a broken invariant in execution: a bug, and the node must stop
    }
    if (result.stateRoot !== header.stateRoot) {
      this.options.onMismatch?.();
      return rejected(
        `state root mismatch: this node computed ${result.stateRoot}, the block says ${header.stateRoot}`,
      );
    }
    if (
      result.txs.length !== header.txCount ||
      result.txRoot !== header.txRoot ||
      result.receiptRoot !== header.receiptRoot
    ) {
      return rejected('its roots do not match its txs');
    }
    try {
      // Where this node is in the block stream goes with the block, atomically: a restart never
      // decides again, against a newer head, a message it decided against an older one.
      // Handed to the store; `committedBlock` runs once it is durable.
      this.chain.commitLater(block, result, { [metaKeys.blockSeq]: String(seq) });
    } catch (error) {
      if (error instanceof InvalidBlockError) return rejected(error.message);
      throw error;
    }
    return { kind: 'committed' };
  }

  /** Resolves once no block is being stored (at once when none is). */
  private untilDurable(): Promise<void> {
    if (this.chain.tip() === this.chain.latest()) return Promise.resolve();
    return new Promise((resolve) => this.durableWaiters.push(resolve));
  }

  private committedBlock(committed: CommittedBlock): void {
    const { block } = committed;
    const { height } = block.header;
    for (const [hash, entry] of this.ownBlocks) {
      if (entry.height <= height) this.ownBlocks.delete(hash);
    }
    this.rejected.delete(height);
    this.pool.settle(committed.txs);
    this.rememberValidators(height);
    this.headCommittedAt = this.options.now();
    this.readySince = this.pool.hasReady() ? this.headCommittedAt : undefined;
    // As before the pipelined commit: a cluster block's listeners hear of no dropped txs.
    const announced: CommittedBlock = { ...committed, dropped: [] };
    for (const listener of this.listeners) listener(announced);
    this.checkEquivocation(height);
    this.attest({ height, blockHash: block.hash, stateRoot: block.header.stateRoot });
    this.decided(this.finality.evaluate(height));
    const waiters = this.durableWaiters;
    this.durableWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /**
   * Remembers (about once a second) where a restart resumes the streams: the block stream after
   * the last message decided (messages decided again are old heights, skipped), the tx stream
   * before the oldest tx still pending here, so nothing that may still be ordered is missed.
   */
  private saveProgress(): void {
    const now = Date.now();
    if (now - this.progressSavedAt < 1_000) return;
    this.progressSavedAt = now;
    const resumeAfter = (this.pool.lowestSeq() ?? this.lastTxSeq + 1) - 1;
    this.chain.store.setMeta(metaKeys.txSeq, String(resumeAfter));
    this.chain.store.setMeta(metaKeys.blockSeq, String(this.lastBlockSeq));
  }

  // ---- Attestations and finality --------------------------------------------------------------

  private localState(height: number): AttestedState | undefined {
    if (height > this.chain.height()) return undefined;
    const stored = this.chain.store.getBlock(height);
    if (!stored) return undefined;
    const header = JSON.parse(stored.header) as BlockHeader;
    return { height, blockHash: stored.hash, stateRoot: header.stateRoot };
  }

  /** Keeps the set committed state names after block `height` as the set of `height + 1`. */
  private rememberValidators(height: number): void {
    this.setsByHeight.set(height + 1, this.validatorSet());
    const finalized = this.finality.finalizedHeight;
    // Heights went in ascending: drop from the front what is final, or older than the newest
    // 10,000 heights (the most the tracker keeps votes of).
    for (const h of this.setsByHeight.keys()) {
      if (h > finalized && h + 10_000 >= height) break;
      this.setsByHeight.delete(h);
    }
  }

  private attest(state: AttestedState): void {
    const key = this.options.attestationKey;
    if (!this.validatorsAt(state.height).operators.has(key.address) || this.halted) return;
    const attestation = signAttestation(this.chain.chainId, state, key);
    const data = encoder.encode(JSON.stringify(attestation));
    const publish = async () => {
      const deadline = Date.now() + this.options.publishRetryMs;
      while (this.js && !this.stopped) {
        try {
          await this.js.publish(this.names.attestationSubject(this.options.validatorName), data, {
            msgID: `attest-${state.height}-${key.address}`,
          });
          return;
        } catch (error) {
          if (Date.now() >= deadline) throw error;
          await sleep(200);
        }
      }
    };
    publish().catch((error: unknown) =>
      this.options.log.warn(`cluster: attestation of ${state.height} not published`, error),
    );
  }

  private attestationSeen(seq: number, data: Uint8Array): void {
    this.lastAttestationSeq = seq;
    const attestation: Attestation | undefined = readAttestation(data, this.chain.chainId);
    if (seq % 64 === 0) this.chain.store.setMeta(metaKeys.attestationSeq, String(seq));
    if (!attestation) return;
    this.decided(this.finality.add(attestation.validator, attestation));
  }

  private decided(outcome: FinalityOutcome): void {
    if (outcome.kind === 'conflict') {
      this.options.onMismatch?.();
      const { attested } = outcome;
      this.fail(
        new ClusterHaltError(
          `state root mismatch at height ${outcome.height}: ${outcome.voters} validators attest block ${attested.blockHash} with state ${attested.stateRoot}, this node ${outcome.local}; it stops producing and attesting`,
        ),
      );
      return;
    }
    if (outcome.kind !== 'final') return;
    this.chain.store.setMeta(metaKeys.finalizedHeight, String(outcome.height));
    for (const listener of this.finalListeners) listener(outcome.height);
  }

  // ---- Evidence --------------------------------------------------------------------------------

  private proposalSeen(data: Uint8Array): void {
    const block = readProposal(data, this.chain.chainId);
    if (!block) return;
    this.remember(block);
    if (block.header.height <= this.chain.height()) this.checkEquivocation(block.header.height);
  }

  /** Keeps a signed block seen outside the committed chain, for equivocation checks. */
  private remember(block: SignedBlock): void {
    const { height } = block.header;
    const head = this.chain.height();
    if (height + 1_000 < head || height > head + 1_000) return;
    const seen = this.seenProposals.get(height) ?? [];
    if (seen.some((b) => b.hash === block.hash) || seen.length >= 8) return;
    seen.push(block);
    this.seenProposals.set(height, seen);
    for (const h of this.seenProposals.keys()) {
      if (h + 1_000 < head) this.seenProposals.delete(h);
    }
  }

  /** A candidate from the block stream for a decided height: evidence if its producer equivocated. */
  private checkCandidate(block: SignedBlock): void {
    const stored = this.chain.store.getBlock(block.header.height);
    if (!stored || stored.hash === block.hash) return;
    if (!verifyBlockSignature(block)) return;
    this.remember(block);
    this.checkEquivocation(block.header.height);
  }

  /** Files evidence when a proposal at `height` and the committed block there share a producer. */
  private checkEquivocation(height: number): void {
    const proposals = this.seenProposals.get(height);
    const stored = proposals && this.chain.store.getBlock(height);
    if (!proposals || !stored) return;
    const committed = storedSignedBlock(stored);
    for (const proposal of proposals) {
      const evidence = equivocation(committed, proposal);
      if (!evidence) continue;
      const id = `${height}/${committed.header.producer}`;
      if (this.evidenceFiled.has(id)) continue;
      this.evidenceFiled.add(id);
      this.options.log.warn(
        `cluster: producer ${committed.header.producer} signed two blocks at height ${height} (${committed.hash}, ${proposal.hash}); filing evidence`,
      );
      void this.options.fileEvidence(evidence).then(
        (filed) => {
          if (!filed) this.evidenceFiled.delete(id); // tried again when either block is seen again
        },
        () => this.evidenceFiled.delete(id),
      );
    }
  }
}
