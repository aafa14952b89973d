/**
 * Concurrent calls under one key share one run, as Go's singleflight does: the node signs and
 * submits a relay tx (evidence, an issuance) once however many identical requests arrive
 * together, instead of signing junk txs from its own account that fail as duplicates. A key is
 * forgotten as soon as its run settles; later calls see its effect in committed state.
 */
export class SingleFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  /** Runs in flight now. */
  get size(): number {
    return this.running.size;
  }

  run(key: string, task: () => Promise<T>): Promise<T> {
    const existing = this.running.get(key);
    if (existing !== undefined) return existing;
    const started = task().finally(() => this.running.delete(key));
    this.running.set(key, started);
    return started;
  }
}
