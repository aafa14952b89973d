// The writer and checkpointer threads of the pipelined commit (src/state/commit-writer.ts).
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { SqliteBlockStore } from './sqlite-store.js';
import type { BlockCommit } from './store.js';

const { role, file, shared } = workerData as {
  role: 'writer' | 'checkpointer';
  file: string;
  shared?: SharedArrayBuffer;
};
const port = parentPort!;
/** How often the checkpointer copies the WAL back into the database. */
const checkpointIntervalMs = 200;

if (role === 'writer') {
  // The same store code as the main thread's: one transaction per block, synchronous = FULL.
  const store = new SqliteBlockStore(file, { writerThread: true });
  const state = new Int32Array(shared!);
  port.on('message', (message: BlockCommit | { close: true }) => {
    if ('close' in message) {
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
} else {
  const db = new Database(file, { timeout: 10_000 });
  const timer = setInterval(() => {
    try {
      // PASSIVE: copies what no reader still needs, waits for no one; the writer restarts the
      // WAL from its start once everything in it is copied.
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Busy or failed: the next round tries again; the WAL only grows meanwhile.
    }
  }, checkpointIntervalMs);
  port.on('message', () => {
    clearInterval(timer);
    db.close();
    port.close();
  });
}
