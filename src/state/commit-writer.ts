import { Worker } from 'node:worker_threads';
import type { BlockCommit } from './store.js';

/** Slots of the shared state: the last durable height, and 1 once a commit failed. */
const DURABLE = 0;
const FAILED = 1;
/** How long `waitFor` waits for the writer before it calls the writer stuck. */
const waitMsMax = 120_000;

/** The message the writer thread answers each block with. */
interface WriterReply {
  height: number;
  error?: string;
}

/**
 * Starts the worker threads' entry: the compiled `.js` next to this file, or under tsx (tests,
 * `npm start`) the `.ts` source, which a worker can load only once tsx's loader is registered in
 * it (an `--import tsx` in a worker's execArgv does not register it on Node 20).
 */
function startWorker(workerData: Record<string, unknown>): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./commit-writer-worker.js', import.meta.url), { workerData });
  }
  const entry = new URL('./commit-writer-worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap =
    `import(${JSON.stringify(tsx)}).then((api) => { api.register(); ` +
    `return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData, execArgv: [] });
}

/**
 * The main thread's side of the pipelined commit (issue 24): a writer thread with its own SQLite
 * connection stores each block in one transaction (`synchronous = FULL`: durable when it
 * answers), and between commits a second connection of that thread copies the WAL back into the
 * database (PASSIVE: it never blocks the writer or a reader). (A thread of its own for the
 * checkpoints was one more V8 isolate for no measurable gain: the writer idles ~80%.)
 *
 * The writer publishes the last durable height in shared memory as well as by message, so the
 * main thread can wait for it synchronously (`waitFor`, Atomics.wait) where it must: before it
 * signs the next height (a signature leaves the process only with a durable block) and on close.
 */
export class CommitWriter {
  private readonly shared = new Int32Array(new SharedArrayBuffer(8));
  private readonly writer: Worker;
  private failure: string | undefined;
  private closed = false;

  constructor(
    readonly file: string,
    private readonly onDurable: (height: number) => void,
    private readonly onFailure: (message: string) => void = () => {},
  ) {
    this.shared[DURABLE] = -1;
    this.writer = startWorker({ file, shared: this.shared.buffer });
    // Idle threads never keep the process alive; `commit` refs the writer while it holds work.
    this.writer.unref();
    this.writer.on('message', (reply: WriterReply) => {
      if (reply.error !== undefined) this.fail(`store: the writer thread failed: ${reply.error}`);
      else this.onDurable(reply.height);
      if (this.pending === 0) this.writer.unref();
    });
    this.writer.on('error', (error) =>
      this.fail(`store: the writer thread failed: ${error.message}`),
    );
    this.writer.on('exit', (code) => {
      if (!this.closed) this.fail(`store: the writer thread exited with code ${code}`);
    });
  }

  private lastQueued = -1;

  private get pending(): number {
    return this.lastQueued - Atomics.load(this.shared, DURABLE);
  }

  /** Hands a block to the writer thread (a structured clone: the caller may drop its copy). */
  commit(commit: BlockCommit): void {
    if (this.failure !== undefined) throw new Error(this.failure);
    if (this.closed) throw new Error('store: the writer thread is closed');
    this.lastQueued = commit.block.height;
    this.writer.ref();
    this.writer.postMessage(commit);
  }

  /** The last height the writer made durable (-1 before its first). */
  durableHeight(): number {
    return Atomics.load(this.shared, DURABLE);
  }

  /** Blocks the calling thread until `height` is durable; throws if the writer failed. */
  waitFor(height: number): void {
    const deadline = Date.now() + waitMsMax;
    for (;;) {
      if (Atomics.load(this.shared, FAILED) === 1) {
        throw new Error(this.failure ?? 'store: the writer thread failed to commit a block');
      }
      const durable = Atomics.load(this.shared, DURABLE);
      if (durable >= height) return;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`store: block ${height} not durable after ${waitMsMax} ms`);
      Atomics.wait(this.shared, DURABLE, durable, Math.min(left, 1_000));
    }
  }

  private fail(message: string): void {
    if (this.failure !== undefined) return;
    this.failure = message;
    Atomics.store(this.shared, FAILED, 1);
    this.onFailure(message);
  }

  /** Stops the thread (after `waitFor` the last height, if its blocks must be durable). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.writer.postMessage({ close: true });
  }
}
