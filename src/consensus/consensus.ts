import type { CommittedBlock, DecodedTx, Rejection } from '../chain/index.js';

/**
 * The seam between the node and ordering. The node hands over txs that passed every stateless
 * check and the signature check; the consensus orders them into blocks, has the chain execute and
 * commit them, and tells listeners about each committed block. `solo` does it in-process; the
 * cluster implementation (NATS JetStream) plugs in here without the node changing.
 */
export interface Consensus {
  readonly kind: string;
  /**
   * Admits each tx or says why not, in input order. Never commits synchronously: a caller may
   * register for the commit of what was admitted right after this returns.
   */
  submit(txs: DecodedTx[]): (Rejection | undefined)[];
  /** Whether a tx with this hash is waiting to be ordered. */
  isPending(hash: string): boolean;
  pendingCount(): number;
  onCommit(listener: (committed: CommittedBlock) => void): void;
  start(): void;
  stop(): Promise<void>;
}
