import os from 'node:os';
import { Worker } from 'node:worker_threads';

import { CryptoInputError } from './errors.js';
import { verify } from './keys.js';

/** One ed25519 signature to check. */
export interface SignatureCheck {
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}

const PUBLIC_KEY_LENGTH = 32;
const SIGNATURE_LENGTH = 64;
// Chunk layout (little-endian): u32 count, then per check u32 messageLength, 32-byte public
// key, 64-byte signature, message bytes.
const CHUNK_HEADER_BYTES = 4;
const CHECK_HEADER_BYTES = 4 + PUBLIC_KEY_LENGTH + SIGNATURE_LENGTH;

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
 * Plain CommonJS run with `new Worker(source, { eval: true, execArgv: [] })`, so the pool works
 * the same under tsx and from compiled JavaScript (no loader, no file path to resolve).
 * `execArgv: []` matters: a worker inherits the parent's flags by default, and a parent run with
 * `--input-type=module` would make this source ESM, where `require` does not exist (and
 * `--import tsx` would load tsx into every worker). The getBuiltinModule fallback (Node >= 20.16)
 * covers any other way the source might end up evaluated as a module.
 */
const WORKER_SOURCE = `
'use strict';
const loadBuiltin = typeof require === 'function' ? require : process.getBuiltinModule;
const crypto = loadBuiltin('node:crypto');
const { parentPort } = loadBuiltin('node:worker_threads');

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const KEY_CACHE_ENTRIES_MAX = 100000;
const keyObjects = new Map();

function publicKeyObject(publicKey) {
  const cacheKey = publicKey.toString('hex');
  let keyObject = keyObjects.get(cacheKey);
  if (keyObject === undefined) {
    keyObject = crypto.createPublicKey({
      key: Buffer.concat([SPKI_PREFIX, publicKey]),
      format: 'der',
      type: 'spki',
    });
    if (keyObjects.size >= KEY_CACHE_ENTRIES_MAX) {
      keyObjects.delete(keyObjects.keys().next().value);
    }
    keyObjects.set(cacheKey, keyObject);
  }
  return keyObject;
}

parentPort.on('message', (job) => {
  const bytes = Buffer.from(job.buffer);
  const count = bytes.readUInt32LE(0);
  const results = new Uint8Array(count);
  let offset = ${CHUNK_HEADER_BYTES};
  for (let index = 0; index < count; index++) {
    const messageLength = bytes.readUInt32LE(offset);
    offset += 4;
    const publicKey = bytes.subarray(offset, offset + ${PUBLIC_KEY_LENGTH});
    offset += ${PUBLIC_KEY_LENGTH};
    const signature = bytes.subarray(offset, offset + ${SIGNATURE_LENGTH});
    offset += ${SIGNATURE_LENGTH};
    const message = bytes.subarray(offset, offset + messageLength);
    offset += messageLength;
    let valid = false;
    try {
      valid = crypto.verify(null, message, publicKeyObject(publicKey), signature);
    } catch {
      valid = false;
    }
    results[index] = valid ? 1 : 0;
  }
  parentPort.postMessage({ id: job.id, results: results.buffer }, [results.buffer]);
});
`;

interface BatchState {
  results: boolean[];
  jobsRemaining: number;
  settled: boolean;
  resolve: (results: boolean[]) => void;
  reject: (error: Error) => void;
}

interface Job {
  batch: BatchState;
  /** Position in the batch of each check in the chunk, in chunk order. */
  indices: number[];
  bytes: number;
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

function packChunk(checks: SignatureCheck[], indices: number[], byteLength: number): ArrayBuffer {
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

/**
 * ed25519 signature checks spread over worker threads.
 *
 * Workers start on the first batch that needs them and are unref()'d while idle, so an unused
 * or forgotten pool never keeps the process alive; they are ref()'d only while they hold work,
 * so awaiting a batch keeps the process up until it is answered. A worker that crashes or
 * exits rejects the batches it held (with an Error, never a hang) and is replaced on the next
 * batch. Work not yet answered is bounded (QUEUED_CHECKS_MAX, QUEUED_BYTES_MAX): past the
 * bound verifyBatch rejects instead of queueing.
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
   * (wrong lengths, non-byte fields) are false, as with keys.verify.
   */
  verifyBatch(checks: SignatureCheck[]): Promise<boolean[]> {
    try {
      return this.startBatch(checks);
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

  private startBatch(checks: SignatureCheck[]): Promise<boolean[]> {
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

    if (wellFormed.length <= INLINE_CHECKS_MAX) {
      for (const index of wellFormed) {
        const check = checks[index]!;
        results[index] = verify(check.signature, check.message, check.publicKey);
      }
      return Promise.resolve(results);
    }

    if (batchBytes > QUEUED_BYTES_MAX) {
      throw new CryptoInputError(
        'checks',
        `checks must total at most ${QUEUED_BYTES_MAX} bytes, got ${batchBytes}`,
      );
    }
    if (
      this.queuedChecks + wellFormed.length > QUEUED_CHECKS_MAX ||
      this.queuedBytes + batchBytes > QUEUED_BYTES_MAX
    ) {
      throw new Error(
        `VerifyPool queue is full (${this.queuedChecks} checks, ${this.queuedBytes} bytes queued; ` +
          `limits ${QUEUED_CHECKS_MAX} checks, ${QUEUED_BYTES_MAX} bytes)`,
      );
    }

    // Enough chunks to give every worker a share, each at most CHUNK_CHECKS_MAX checks.
    const chunkChecks = Math.min(
      CHUNK_CHECKS_MAX,
      Math.max(INLINE_CHECKS_MAX + 1, Math.ceil(wellFormed.length / this.size)),
    );
    const chunks: { indices: number[]; bytes: number }[] = [];
    let indices: number[] = [];
    let bytes = CHUNK_HEADER_BYTES;
    for (const index of wellFormed) {
      const checkBytes = CHECK_HEADER_BYTES + checks[index]!.message.length;
      if (
        indices.length > 0 &&
        (indices.length >= chunkChecks || bytes + checkBytes > CHUNK_BYTES_MAX)
      ) {
        chunks.push({ indices, bytes });
        indices = [];
        bytes = CHUNK_HEADER_BYTES;
      }
      indices.push(index);
      bytes += checkBytes;
    }
    chunks.push({ indices, bytes });

    return new Promise<boolean[]>((resolve, reject) => {
      const batch: BatchState = {
        results,
        jobsRemaining: chunks.length,
        settled: false,
        resolve,
        reject,
      };
      for (const chunk of chunks) {
        const position = this.leastLoadedSlot();
        const slot = this.slotAt(position);
        const id = this.nextJobId++;
        const buffer = packChunk(checks, chunk.indices, chunk.bytes);
        const job: Job = { batch, indices: chunk.indices, bytes: chunk.bytes };
        if (slot.jobs.size === 0) slot.worker.ref();
        slot.jobs.set(id, job);
        slot.queuedChecks += chunk.indices.length;
        this.queuedChecks += chunk.indices.length;
        this.queuedBytes += chunk.bytes;
        slot.worker.postMessage({ id, buffer }, [buffer]);
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
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
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
    const answers = new Uint8Array(reply.results);
    const { batch } = job;
    if (batch.settled) return;
    if (answers.length !== job.indices.length) {
      batch.settled = true;
      batch.reject(new Error('verify worker answered with the wrong number of results'));
      return;
    }
    for (let item = 0; item < answers.length; item++) {
      batch.results[job.indices[item]!] = answers[item] === 1;
    }
    batch.jobsRemaining--;
    if (batch.jobsRemaining === 0) {
      batch.settled = true;
      batch.resolve(batch.results);
    }
  }

  private finishJob(slot: WorkerSlot, id: number, job: Job): void {
    slot.jobs.delete(id);
    slot.queuedChecks -= job.indices.length;
    this.queuedChecks -= job.indices.length;
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
