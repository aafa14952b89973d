/** What a validator attests for one height: the block it executed and the state it reached. */
export interface AttestedState {
  height: number;
  blockHash: string;
  stateRoot: string;
}

/** More than two thirds of `validators`: the smallest count that is a quorum. */
export function quorumOf(validators: number): number {
  return Math.floor((2 * validators) / 3) + 1;
}

/**
 * The attestations a height needs from `validators` (the distinct operators of the active
 * producers, whose keys sign attestations): more than two thirds. The one function the tracker
 * and `GET /v1/finality` count with.
 */
export function validatorQuorum(validators: ReadonlySet<string>): number {
  return quorumOf(validators.size);
}

/**
 * How many validators attesting a state prove it is not a Byzantine invention: more than a third
 * (n - quorum + 1), so at least one of them is honest while fewer than a third are faulty.
 */
export function proofOf(validators: number): number {
  return validators - quorumOf(validators) + 1;
}

/**
 * How many validators attesting a state this node did not reach show that this node diverged:
 * a proof (at least one honest among them), and never a single validator when there are three or
 * more, so one faulty validator attesting its own block cannot stop a small cluster's honest
 * nodes. They must also outnumber those attesting this node's own state at the height.
 */
export function divergenceOf(validators: number): number {
  return validators >= 3 ? Math.max(proofOf(validators), 2) : proofOf(validators);
}

export type FinalityOutcome =
  | { kind: 'none' }
  /** A quorum agrees with this node's own block and state: final up to `height`. */
  | { kind: 'final'; height: number }
  /**
   * Enough validators to include an honest one (see `proofOf`) attest a block or state this node
   * did not reach: this node has diverged. `local` says what it has instead.
   */
  | { kind: 'conflict'; height: number; attested: AttestedState; voters: number; local: string };

/**
 * Counts attestations per height and decides finality. A height is final when more than two
 * thirds of that height's validators attested the block hash and state root this node committed for it;
 * finality of a height implies every height below it (each block names its parent). A node learns
 * it has diverged when enough validators (`divergenceOf`), more than attest its own state, attest
 * a state it did not reach: a block it committed with another state root, or one it rejected. Pure: the caller supplies the validator set, its
 * committed states and the blocks it rejected.
 */
export class FinalityTracker {
  private finalized: number;
  /** height -> "blockHash stateRoot" -> attesting validators. */
  private readonly votes = new Map<number, Map<string, Set<string>>>();

  constructor(
    finalizedHeight: number,
    /**
     * The validator ids whose attestations count at a height: the active set in the state that
     * height's block executed on.
     */
    private readonly validators: (height: number) => ReadonlySet<string>,
    /** This node's committed state at a height, or undefined above its head. */
    private readonly local: (height: number) => AttestedState | undefined,
    /** Why this node rejected block `blockHash` at `height`, if it did. */
    private readonly rejected: (height: number, blockHash: string) => string | undefined = () =>
      undefined,
    /** Heights with attestations kept at most (the newest). */
    private readonly windowHeights = 10_000,
  ) {
    this.finalized = finalizedHeight;
  }

  get finalizedHeight(): number {
    return this.finalized;
  }

  /** Records one attestation; answers what it decided. Repeats and non-validators count nothing. */
  add(validator: string, attested: AttestedState): FinalityOutcome {
    const { height } = attested;
    if (height <= this.finalized) return { kind: 'none' };
    if (!this.validators(height).has(validator)) return { kind: 'none' };
    let byState = this.votes.get(height);
    if (!byState) {
      byState = new Map();
      this.votes.set(height, byState);
      // Keep the newest heights (a quorum at any height finalizes all below it); dropping new
      // ones instead would leave a node that fell far behind unable to finalize ever again.
      if (this.votes.size > this.windowHeights) this.dropLowest();
    }
    const key = `${attested.blockHash} ${attested.stateRoot}`;
    // One vote per validator per height: a second, different attestation does not count twice.
    for (const [other, voters] of byState) {
      if (other !== key && voters.has(validator)) return { kind: 'none' };
    }
    let voters = byState.get(key);
    if (!voters) {
      voters = new Set();
      byState.set(key, voters);
    }
    voters.add(validator);
    return this.evaluate(height);
  }

  /** Re-decides a height after this node committed or rejected a block there. */
  evaluate(height: number): FinalityOutcome {
    if (height <= this.finalized) return { kind: 'none' };
    const byState = this.votes.get(height);
    if (!byState) return { kind: 'none' };
    const validators = this.validators(height);
    const counted = (voters: Set<string>) => {
      let count = 0;
      for (const voter of voters) if (validators.has(voter)) count += 1;
      return count;
    };
    const local = this.local(height);
    const localKey = local && `${local.blockHash} ${local.stateRoot}`;
    const localVotes = localKey === undefined ? 0 : counted(byState.get(localKey) ?? new Set());
    if (local && localVotes >= validatorQuorum(validators)) {
      this.finalized = height;
      for (const h of this.votes.keys()) if (h <= height) this.votes.delete(h);
      return { kind: 'final', height };
    }
    const needed = divergenceOf(validators.size);
    for (const [key, voters] of byState) {
      if (key === localKey) continue;
      const count = counted(voters);
      // Outvoted by enough validators that one of them is honest (and never by one alone).
      if (count < needed || count <= localVotes) continue;
      const [blockHash, stateRoot] = key.split(' ') as [string, string];
      const attested = { height, blockHash, stateRoot };
      if (local) {
        const description = `block ${local.blockHash} with state ${local.stateRoot}`;
        return { kind: 'conflict', height, attested, voters: count, local: description };
      }
      const reason = this.rejected(height, blockHash);
      if (reason !== undefined) {
        return {
          kind: 'conflict',
          height,
          attested,
          voters: count,
          local: `rejected it: ${reason}`,
        };
      }
    }
    return { kind: 'none' };
  }

  private dropLowest(): void {
    let lowest = Infinity;
    for (const h of this.votes.keys()) if (h < lowest) lowest = h;
    this.votes.delete(lowest);
  }

  /** Heights with attestations waiting (tests, and the pending-votes metric). */
  get pendingHeights(): number {
    return this.votes.size;
  }
}
