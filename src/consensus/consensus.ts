import type { CommittedBlock, DecodedTx, PrecheckItem, Rejection } from '../chain/index.js';

/**
 * The seam between the node and ordering. The node hands over txs that passed every stateless
 * check and the signature check; the consensus orders them into blocks, has the chain execute and
 * commit them, and tells listeners about each committed block and each newly final height.
 * `solo` does it in-process; `jetstream` (src/consensus/jetstream) orders through a NATS JetStream
 * cluster of validators.
 */
export interface Consensus {
  readonly kind: string;
  /**
   * Admits each tx or says why not, in input order. Never commits synchronously; a caller that
   * waits for commits registers before it submits (an asynchronous admission may race a commit).
   */
  submit(txs: DecodedTx[]): (Rejection | undefined)[] | Promise<(Rejection | undefined)[]>;
  /**
   * The admission checks that need no signature (a duplicate, a sender over its rate, a gapped
   * tx that cannot fit or over the gapped budget), run over a batch, in order, before its
   * signatures are verified, so a flood that fails them costs no verify.
   */
  precheck?(txs: DecodedTx[]): (Rejection | undefined)[];
  /**
   * The same checks, reading only, on the senders and nonces of a batch as sent (an item left
   * undefined where they are not a string and a whole number), before anything is decoded.
   */
  prefilter?(items: (PrecheckItem | undefined)[]): (Rejection | undefined)[];
  /** Called with each admitted tx dropped before any block took it (expired or evicted). */
  onDropped?(listener: (hash: string, reason: Rejection) => void): void;
  /** Whether a tx with this hash is waiting to be ordered. */
  isPending(hash: string): boolean;
  pendingCount(): number;
  onCommit(listener: (committed: CommittedBlock) => void): void;
  /** Called with the new finalized height whenever it grows. */
  onFinal(listener: (height: number) => void): void;
  /** The highest height known final: attested by a quorum (solo: every committed block). */
  readonly finalizedHeight: number;
  start(): void | Promise<void>;
  stop(): Promise<void>;
}
