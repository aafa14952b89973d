/** Something a test started that must not outlive the test process. */
export interface Killable {
  killNow(): void;
}

/**
 * A set of live processes (clusters, servers) killed when the test process exits or gets SIGINT
 * or SIGTERM, so nothing outlives a crashed test. Add what starts, delete what stops.
 */
export function killedOnExit<T extends Killable>(): Set<T> {
  const live = new Set<T>();
  process.on('exit', () => {
    for (const item of live) item.killNow();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const item of live) item.killNow();
      // Die of the signal as we would have without this hook, unless someone else handles it.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
  return live;
}
