// The writer thread of the pipelined commit (src/state/commit-writer.ts).
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { SqliteBlockStore } from './sqlite-store.js';
import type { BlockCommit } from './store.js';

const { file, shared } = workerData as { file: string; shared: SharedArrayBuffer };
const port = parentPort!;
/** How often the second connection copies the WAL back into the database. */
const checkpointIntervalMs = 200;

// The same store code as the main thread's: one transaction per block, synchronous = FULL.
const store = new SqliteBlockStore(file, { writerThread: true });
const state = new Int32Array(shared);

// Checkpoints run on a second connection between commits (neither the writer connection nor the
// main one checkpoints: wal_autocheckpoint = 0), never on the main thread. PASSIVE copies what no
// reader still needs and waits for no one; the writer restarts the WAL from its start once all
// of it is copied.
const checkpointer = new Database(file, { timeout: 10_000 });
const timer = setInterval(() => {
  try {
    checkpointer.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or failed: the next round tries again; the WAL only grows meanwhile.
  }
}, checkpointIntervalMs);

port.on('message', (message: BlockCommit | { close: true }) => {
  if ('close' in message) {
    clearInterval(timer);
    checkpointer.close();
    store.close();
    port.close();
    return;
  }
  const height = message.block.height;
  try {
    store.commitBlock(message);
  } catch (error) {
    Atomics.store(state, 1, 1);
    Atomics.notify(state, 0);
    port.postMessage({ height, error: error instanceof Error ? error.message : String(error) });
    return;
  }
  Atomics.store(state, 0, height);
  Atomics.notify(state, 0);
  port.postMessage({ height });
});
