import os from 'node:os';
import { Worker } from 'node:worker_threads';

import { CryptoInputError } from './errors.js';
import { verify } from './keys.js';
import {
  CHECK_HEADER_BYTES,
  CHUNK_HEADER_BYTES,
  HASH_LENGTH,
  PUBLIC_KEY_LENGTH,
  SIGNATURE_LENGTH,
  TX_HEADER_BYTES,
  TX_RESULT_BYTES,
  TxStatus,
} from './verify-pool-layout.js';

/** One ed25519 signature to check. */
export interface SignatureCheck {
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}

// Below this many checks, posting to a worker and back costs more than verifying here
// (one ed25519 verify is ~50-100 µs; a round trip through a worker is of the same order).
const INLINE_CHECKS_MAX = 15;
// A chunk is one postMessage each way. 1024 checks is ~50-100 ms of work: big enough that the
// message cost vanishes, small enough that a batch still spreads over every worker.
const CHUNK_CHECKS_MAX = 1024;
const CHUNK_BYTES_MAX = 4 * 1024 * 1024;
// Bounds on work handed to the pool and not yet answered. A block or a mempool sweep is far
// below these; beyond them the caller is flooding us and should hear so rather than queue.
const BATCH_CHECKS_MAX = 131_072;
const QUEUED_CHECKS_MAX = 262_144;
const QUEUED_BYTES_MAX = 256 * 1024 * 1024;
const POOL_SIZE_MAX = 256;

/**
 * The worker is a module of its own (tx-check-worker.ts), so it runs the very code the main
 * thread runs for canonical JSON and hashes. From compiled JavaScript (dist/) that is the .js
 * file next to this one. Under tsx (tests, `npm start`) this file is .ts and so is the worker,
 * which needs tsx's loader: a worker does not inherit the parent's loader hooks, and on Node 20
 * `execArgv: ['--import', 'tsx']` does not reach a worker's entry module, so a two-line bootstrap
 * registers tsx (its API, resolved from here) and then imports the worker. execArgv is empty
 * either way: a worker otherwise inherits the parent's flags, such as `--input-type=module`.
 */
const underTsx = import.meta.url.endsWith('.ts');

function startWorker(): Worker {
  if (!underTsx) {
    return new Worker(new URL('./tx-check-worker.js', import.meta.url), { execArgv: [] });
  }
  const api = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./tx-check-worker.ts', import.meta.url).href;
  const bootstrap =
    `import(${JSON.stringify(api)}).then((tsx) => tsx.register())` +
    `.then(() => import(${JSON.stringify(entry)}));`;
  return new Worker(bootstrap, { eval: true, execArgv: [] });
}

/** What a worker made of one tx given as JSON text (`VerifyPool.digestTxs`). */
export interface TxDigest {
  /**
   * `ok`; `unreadable` (not a JSON object); `invalid_body` (the body has no canonical form);
   * `bad_signature_text` (the signature is not 128 lowercase hex digits).
   */
  status: 'ok' | 'unreadable' | 'invalid_body' | 'bad_signature_text';
  /** Length in bytes of the canonical body (0 unless computed). */
  bodyLength: number;
  /** SHA-256 of the canonical body: the tx hash (empty unless computed). */
  hashBytes: Uint8Array;
  /** The signature's 64 bytes (empty unless status is ok). */
  signatureBytes: Uint8Array;
  /** With `verify`: whether the signature is valid for the sender's key; else false. */
  valid: boolean;
}

const txStatusNames: TxDigest['status'][] = [];
txStatusNames[TxStatus.ok] = 'ok';
txStatusNames[TxStatus.unreadable] = 'unreadable';
txStatusNames[TxStatus.invalidBody] = 'invalid_body';
txStatusNames[TxStatus.badSignatureText] = 'bad_signature_text';

const emptyBytes = new Uint8Array(0);

interface BatchState {
  jobsRemaining: number;
  settled: boolean;
  resolve: () => void;
  reject: (error: Error) => void;
}

interface Job {
  batch: BatchState;
  /** How many items (checks or txs) the chunk holds. */
  items: number;
  bytes: number;
  /** Takes the worker's answer; false when it is not the size the chunk asks for. */
  answer: (answers: Uint8Array) => boolean;
}

/** A packed chunk ready to post, and how to read its answer. */
interface Chunk {
  kind: 'verify' | 'txs';
  verify?: boolean;
  items: number;
  buffer: ArrayBuffer;
  answer: (answers: Uint8Array) => boolean;
}

interface WorkerSlot {
  worker: Worker;
  jobs: Map<number, Job>;
  queuedChecks: number;
  alive: boolean;
}

interface WorkerReply {
  id: number;
  results: ArrayBuffer;
}

function isWorkerReply(value: unknown): value is WorkerReply {
  if (typeof value !== 'object' || value === null) return false;
  const reply = value as Partial<WorkerReply>;
  return typeof reply.id === 'number' && reply.results instanceof ArrayBuffer;
}

function isWellFormed(check: SignatureCheck): boolean {
  return (
    check.publicKey instanceof Uint8Array &&
    check.publicKey.length === PUBLIC_KEY_LENGTH &&
    check.signature instanceof Uint8Array &&
    check.signature.length === SIGNATURE_LENGTH &&
    check.message instanceof Uint8Array
  );
}

function packChecks(checks: SignatureCheck[], indices: number[], byteLength: number): ArrayBuffer {
  const buffer = new ArrayBuffer(byteLength);
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  view.setUint32(0, indices.length, true);
  let offset = CHUNK_HEADER_BYTES;
  for (const index of indices) {
    const check = checks[index]!;
    view.setUint32(offset, check.message.length, true);
    offset += 4;
    bytes.set(check.publicKey, offset);
    offset += PUBLIC_KEY_LENGTH;
    bytes.set(check.signature, offset);
    offset += SIGNATURE_LENGTH;
    bytes.set(check.message, offset);
    offset += check.message.length;
  }
  return buffer;
}

function packTexts(
  texts: string[],
  lengths: number[],
  indices: number[],
  byteLength: number,
): ArrayBuffer {
  const buffer = Buffer.allocUnsafeSlow(byteLength);
  buffer.writeUInt32LE(indices.length, 0);
  let offset = CHUNK_HEADER_BYTES;
  for (const index of indices) {
    buffer.writeUInt32LE(lengths[index]!, offset);
    offset += TX_HEADER_BYTES;
    offset += buffer.write(texts[index]!, offset, 'utf8');
  }
  return buffer.buffer;
}

/**
 * Groups items into chunks of at most `perChunk` items and CHUNK_BYTES_MAX bytes (one item may
 * exceed the byte bound alone). `sizes[i]` is item i's packed size.
 */
function chunkIndices(
  indices: number[],
  sizes: (index: number) => number,
  perChunk: number,
): { indices: number[]; bytes: number }[] {
  const chunks: { indices: number[]; bytes: number }[] = [];
  let current: number[] = [];
  let bytes = CHUNK_HEADER_BYTES;
  for (const index of indices) {
    const size = sizes(index);
    if (current.length > 0 && (current.length >= perChunk || bytes + size > CHUNK_BYTES_MAX)) {
      chunks.push({ indices: current, bytes });
      current = [];
      bytes = CHUNK_HEADER_BYTES;
    }
    current.push(index);
    bytes += size;
  }
  if (current.length > 0) chunks.push({ indices: current, bytes });
  return chunks;
}

/**
 * ed25519 signature checks, and tx digests (canonical body, hash, signature bytes, optionally
 * the verdict), spread over worker threads.
 *
 * Workers start on the first batch that needs them and are unref()'d while idle, so an unused
 * or forgotten pool never keeps the process alive; they are ref()'d only while they hold work,
 * so awaiting a batch keeps the process up until it is answered. A worker that crashes or
 * exits rejects the batches it held (with an Error, never a hang) and is replaced on the next
 * batch. Work not yet answered is bounded (QUEUED_CHECKS_MAX, QUEUED_BYTES_MAX): past the
 * bound a batch is rejected instead of queued.
 */
export class VerifyPool {
  private readonly size: number;
  private readonly slots: (WorkerSlot | undefined)[];
  private nextJobId = 1;
  private queuedChecks = 0;
  private queuedBytes = 0;
  private closed = false;

  constructor(options?: { size?: number }) {
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw new CryptoInputError('options', 'options must be an object');
    }
    const size = options?.size ?? os.availableParallelism();
    if (!Number.isSafeInteger(size) || size < 1 || size > POOL_SIZE_MAX) {
      throw new CryptoInputError(
        'options.size',
        `options.size must be an integer in [1, ${POOL_SIZE_MAX}], got ${String(size)}`,
      );
    }
    this.size = size;
    this.slots = new Array<WorkerSlot | undefined>(size).fill(undefined);
  }

  /**
   * One boolean per check, in input order: true when the signature is valid. Malformed checks
   * (wrong lengths, non-byte fields) are false, as with keys.verify. Up to INLINE_CHECKS_MAX
   * checks are verified on the calling thread unless `inline` is false (a node's main thread,
   * whose time is the scarce one, sends every check to the workers).
   */
  verifyBatch(checks: SignatureCheck[], options?: { inline?: boolean }): Promise<boolean[]> {
    try {
      return this.startVerify(checks, options?.inline !== false);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * Txs given as their JSON text (any spacing and key order), digested in the workers: per tx,
   * in input order, the hash of its canonical body (the same bytes as txHashBytes), the body's
   * length, the signature's bytes and, with `verify`, whether the signature is valid for the
   * sender's key. The worker checks nothing else: the caller runs the tx's stateless checks.
   */
  digestTxs(texts: string[], options: { verify: boolean }): Promise<TxDigest[]> {
    try {
      return this.startDigest(texts, options.verify);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Stops every worker. Batches still pending are rejected; later batches are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const exits: Promise<number>[] = [];
    for (let position = 0; position < this.slots.length; position++) {
      const slot = this.slots[position];
      if (slot === undefined) continue;
      this.retire(position, slot, new Error('VerifyPool was closed before the batch finished'));
      exits.push(slot.worker.terminate());
    }
    await Promise.all(exits);
  }

  private startVerify(checks: SignatureCheck[], inline: boolean): Promise<boolean[]> {
    if (this.closed) throw new Error('VerifyPool is closed');
    if (!Array.isArray(checks)) {
      throw new CryptoInputError('checks', 'checks must be an array');
    }
    if (checks.length > BATCH_CHECKS_MAX) {
      throw new CryptoInputError(
        'checks',
        `checks must hold at most ${BATCH_CHECKS_MAX} entries, got ${checks.length}`,
      );
    }
    const results = new Array<boolean>(checks.length).fill(false);
    const wellFormed: number[] = [];
    let batchBytes = 0;
    for (let index = 0; index < checks.length; index++) {
      const check: unknown = checks[index];
      if (typeof check !== 'object' || check === null) {
        throw new CryptoInputError(`checks[${index}]`, `checks[${index}] must be an object`);
      }
      if (isWellFormed(check as SignatureCheck)) {
        wellFormed.push(index);
        batchBytes += CHECK_HEADER_BYTES + (check as SignatureCheck).message.length;
      }
    }

    if (wellFormed.length === 0 || (inline && wellFormed.length <= INLINE_CHECKS_MAX)) {
      for (const index of wellFormed) {
        const check = checks[index]!;
        results[index] = verify(check.signature, check.message, check.publicKey);
      }
      return Promise.resolve(results);
    }
    this.admit(wellFormed.length, batchBytes, 'checks');

    const chunks = chunkIndices(
      wellFormed,
      (index) => CHECK_HEADER_BYTES + checks[index]!.message.length,
      this.chunkSize(wellFormed.length),
    ).map((chunk): Chunk => ({
      kind: 'verify',
      items: chunk.indices.length,
      buffer: packChecks(checks, chunk.indices, chunk.bytes),
      answer: (answers) => {
        if (answers.length !== chunk.indices.length) return false;
        for (let item = 0; item < answers.length; item++) {
          results[chunk.indices[item]!] = answers[item] === 1;
        }
        return true;
      },
    }));
    return this.run(chunks).then(() => results);
  }

  private startDigest(texts: string[], withVerify: boolean): Promise<TxDigest[]> {
    if (this.closed) throw new Error('VerifyPool is closed');
    if (!Array.isArray(texts)) throw new CryptoInputError('texts', 'texts must be an array');
    if (texts.length > BATCH_CHECKS_MAX) {
      throw new CryptoInputError(
        'texts',
        `texts must hold at most ${BATCH_CHECKS_MAX} entries, got ${texts.length}`,
      );
    }
    const lengths = new Array<number>(texts.length);
    const all = new Array<number>(texts.length);
    let batchBytes = 0;
    for (let index = 0; index < texts.length; index++) {
      const text: unknown = texts[index];
      if (typeof text !== 'string') {
        throw new CryptoInputError(`texts[${index}]`, `texts[${index}] must be a string`);
      }
      lengths[index] = Buffer.byteLength(text, 'utf8');
      all[index] = index;
      batchBytes += TX_HEADER_BYTES + lengths[index]!;
    }
    const results = new Array<TxDigest>(texts.length);
    if (texts.length === 0) return Promise.resolve(results);
    this.admit(texts.length, batchBytes, 'texts');

    const chunks = chunkIndices(
      all,
      (index) => TX_HEADER_BYTES + lengths[index]!,
      this.chunkSize(texts.length),
    ).map((chunk): Chunk => ({
      kind: 'txs',
      verify: withVerify,
      items: chunk.indices.length,
      buffer: packTexts(texts, lengths, chunk.indices, chunk.bytes),
      answer: (answers) => {
        if (answers.length !== chunk.indices.length * TX_RESULT_BYTES) return false;
        const view = new DataView(answers.buffer, answers.byteOffset, answers.byteLength);
        for (let item = 0; item < chunk.indices.length; item++) {
          const at = item * TX_RESULT_BYTES;
          const status = txStatusNames[answers[at]!] ?? 'unreadable';
          const computed = status === 'ok' || status === 'bad_signature_text';
          results[chunk.indices[item]!] = {
            status,
            valid: status === 'ok' && answers[at + 1] === 1,
            bodyLength: computed ? view.getUint32(at + 4, true) : 0,
            hashBytes: computed ? answers.subarray(at + 8, at + 8 + HASH_LENGTH) : emptyBytes,
            signatureBytes:
              status === 'ok'
                ? answers.subarray(at + 8 + HASH_LENGTH, at + TX_RESULT_BYTES)
                : emptyBytes,
          };
        }
        return true;
      },
    }));
    return this.run(chunks).then(() => results);
  }

  /** Throws unless `items` more items of `bytes` bytes fit under the queue's bounds. */
  private admit(items: number, bytes: number, field: string): void {
    if (bytes > QUEUED_BYTES_MAX) {
      throw new CryptoInputError(
        field,
        `${field} must total at most ${QUEUED_BYTES_MAX} bytes, got ${bytes}`,
      );
    }
    if (
      this.queuedChecks + items > QUEUED_CHECKS_MAX ||
      this.queuedBytes + bytes > QUEUED_BYTES_MAX
    ) {
      throw new Error(
        `VerifyPool queue is full (${this.queuedChecks} checks, ${this.queuedBytes} bytes queued; ` +
          `limits ${QUEUED_CHECKS_MAX} checks, ${QUEUED_BYTES_MAX} bytes)`,
      );
    }
  }

  /** Enough chunks to give every worker a share, each at most CHUNK_CHECKS_MAX items. */
  private chunkSize(items: number): number {
    return Math.min(CHUNK_CHECKS_MAX, Math.max(1, Math.ceil(items / this.size)));
  }

  private run(chunks: Chunk[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const batch: BatchState = { jobsRemaining: chunks.length, settled: false, resolve, reject };
      for (const chunk of chunks) {
        const position = this.leastLoadedSlot();
        const slot = this.slotAt(position);
        const id = this.nextJobId++;
        const bytes = chunk.buffer.byteLength;
        const job: Job = { batch, items: chunk.items, bytes, answer: chunk.answer };
        if (slot.jobs.size === 0) slot.worker.ref();
        slot.jobs.set(id, job);
        slot.queuedChecks += chunk.items;
        this.queuedChecks += chunk.items;
        this.queuedBytes += bytes;
        slot.worker.postMessage(
          { id, kind: chunk.kind, verify: chunk.verify, buffer: chunk.buffer },
          [chunk.buffer],
        );
      }
    });
  }

  private leastLoadedSlot(): number {
    let best = 0;
    let bestLoad = Number.POSITIVE_INFINITY;
    for (let position = 0; position < this.slots.length; position++) {
      const load = this.slots[position]?.queuedChecks ?? 0;
      if (load < bestLoad) {
        best = position;
        bestLoad = load;
      }
    }
    return best;
  }

  private slotAt(position: number): WorkerSlot {
    const existing = this.slots[position];
    if (existing !== undefined) return existing;
    const worker = startWorker();
    worker.unref();
    const slot: WorkerSlot = { worker, jobs: new Map(), queuedChecks: 0, alive: true };
    worker.on('message', (reply: unknown) => this.onReply(position, slot, reply));
    worker.on('error', (error: Error) => {
      this.retire(
        position,
        slot,
        new Error(`verify worker failed: ${error.message}`, { cause: error }),
      );
    });
    worker.on('messageerror', (error: Error) => {
      this.retire(
        position,
        slot,
        new Error(`verify worker sent an unreadable message: ${error.message}`),
      );
      void worker.terminate();
    });
    worker.on('exit', (exitCode: number) => {
      this.retire(position, slot, new Error(`verify worker exited with code ${exitCode}`));
    });
    this.slots[position] = slot;
    return slot;
  }

  private onReply(position: number, slot: WorkerSlot, reply: unknown): void {
    if (!slot.alive) return;
    const job = isWorkerReply(reply) ? slot.jobs.get(reply.id) : undefined;
    if (!isWorkerReply(reply) || job === undefined) {
      this.retire(position, slot, new Error('verify worker sent a reply for no pending job'));
      void slot.worker.terminate();
      return;
    }
    this.finishJob(slot, reply.id, job);
    const { batch } = job;
    if (batch.settled) return;
    if (!job.answer(new Uint8Array(reply.results))) {
      batch.settled = true;
      batch.reject(new Error('verify worker answered with the wrong number of results'));
      return;
    }
    batch.jobsRemaining--;
    if (batch.jobsRemaining === 0) {
      batch.settled = true;
      batch.resolve();
    }
  }

  private finishJob(slot: WorkerSlot, id: number, job: Job): void {
    slot.jobs.delete(id);
    slot.queuedChecks -= job.items;
    this.queuedChecks -= job.items;
    this.queuedBytes -= job.bytes;
    if (slot.jobs.size === 0) slot.worker.unref();
  }

  /** Takes a worker out of service and rejects every batch it held. Idempotent. */
  private retire(position: number, slot: WorkerSlot, error: Error): void {
    if (!slot.alive) return;
    slot.alive = false;
    if (this.slots[position] === slot) this.slots[position] = undefined;
    for (const [id, job] of [...slot.jobs]) {
      this.finishJob(slot, id, job);
      if (!job.batch.settled) {
        job.batch.settled = true;
        job.batch.reject(error);
      }
    }
    slot.worker.unref();
  }
}
