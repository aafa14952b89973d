import type { CommittedNonceRange } from '../../chain/index.js';
import { canonicalize } from '../../crypto/index.js';
import type { StateReader, StateView } from '../../state/index.js';

/** The module's name and state namespace: every key below starts with `producers/`. */
export const producersModuleName = 'producers';

/** Chain parameters of the registry, fixed at genesis (identical on every node). */
export interface ProducerParams {
  /** The asset bonds are posted in. */
  bondAsset: string;
  /** Smallest bond `producer.register` accepts, minor units. Genesis producers may bond less. */
  bondMin: string;
  /** Blocks between `producer.unbond` and the bond's return; must exceed the evidence window. */
  unbondingPeriodHeights: number;
  /** Evidence about a height older than this many blocks is refused. */
  evidenceWindowHeights: number;
  /** Share of a slashed bond that is burned, in basis points; the rest goes to the reporter. */
  slashBurnBasisPoints: number;
  /** Most heights in one nonce commitment. */
  nonceRangeHeightsMax: number;
  /** Most committed ranges that may still lie wholly ahead of the current height. */
  nonceRangesAheadMax: number;
}

export type ProducerStatus = 'active' | 'jailed' | 'unbonding' | 'unbonded';

export interface EquivocationRecord {
  height: number;
  /** The two header hashes the producer signed at `height`, sorted. */
  headerHashes: [string, string];
  /** The decrypted identity information, or null when the hidden info did not open. */
  info: unknown;
  infoRevealed: boolean;
  /** Height of the block that executed the evidence. */
  recordedAtHeight: number;
  reporter: string;
  slashed: string;
  burned: string;
  reward: string;
}

export interface ProducerRecord {
  /** The address of the accountable public key: what headers name as `producer`. */
  id: string;
  /** The accountable public key P, hex. */
  publicKey: string;
  /** The account that registered the producer, commits its nonces and gets its bond back. */
  operator: string;
  hiddenInfo: string;
  /** Commitment to the identity information (hidden-info.ts). */
  commitment: string;
  /** Bond held in escrow, minor units of the params' bond asset. */
  bond: string;
  status: ProducerStatus;
  registeredAtHeight: number;
  /** Committed nonce ranges, contiguous and ascending; ranges long past are pruned. */
  nonceRanges: CommittedNonceRange[];
  unbondAtHeight?: number;
  equivocation?: EquivocationRecord;
}

/** Most producers the registry holds (the id list is one state value). */
export const producersMax = 1_000;

export const producerKeys = {
  params: 'producers/params',
  ids: 'producers/ids',
  producer: (id: string) => `producers/producer/${id}`,
  unbonding: (height: number) => `producers/unbond/${height}`,
  evidence: (id: string, height: number) => `producers/evidence/${id}/${height}`,
  /**
   * One key per committed range, kept for good (the record prunes past ranges): the history a
   * verifier of old headers needs. The height is zero-padded so keys sort by height.
   */
  nonceRange: (id: string, fromHeight: number) =>
    `producers/nonce-range/${id}/${String(fromHeight).padStart(16, '0')}`,
  nonceRanges: (id: string) => `producers/nonce-range/${id}/`,
};

/**
 * A committed nonce range with where it was committed: the tx (register or commitNonces) and the
 * height of its block, or `tx: null` and height 0 for a genesis producer's first range.
 */
export interface NonceRangeEntry extends CommittedNonceRange {
  tx: string | null;
  committedAtHeight: number;
}

function readJson<T>(state: StateReader, key: string): T | undefined {
  const text = state.get(key);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

function writeJson(state: StateView, key: string, value: unknown): void {
  state.set(key, canonicalize(value));
}

export function readParams(state: StateReader): ProducerParams | undefined {
  return readJson<ProducerParams>(state, producerKeys.params);
}

export function writeParams(state: StateView, params: ProducerParams): void {
  writeJson(state, producerKeys.params, params);
}

export function readProducer(state: StateReader, id: string): ProducerRecord | undefined {
  return readJson<ProducerRecord>(state, producerKeys.producer(id));
}

export function readProducerIds(state: StateReader): string[] {
  return readJson<string[]>(state, producerKeys.ids) ?? [];
}

/** Writes a producer, adding its id to the sorted id list when it is new. */
export function writeProducer(state: StateView, record: ProducerRecord): void {
  const key = producerKeys.producer(record.id);
  if (state.get(key) === undefined) {
    const ids = readProducerIds(state);
    ids.push(record.id);
    ids.sort();
    writeJson(state, producerKeys.ids, ids);
  }
  writeJson(state, key, record);
}

export function readUnbonding(state: StateReader, height: number): string[] {
  return readJson<string[]>(state, producerKeys.unbonding(height)) ?? [];
}

export function writeUnbonding(state: StateView, height: number, ids: string[]): void {
  if (ids.length === 0) state.delete(producerKeys.unbonding(height));
  else writeJson(state, producerKeys.unbonding(height), ids);
}

export function writeNonceRange(state: StateView, id: string, entry: NonceRangeEntry): void {
  writeJson(state, producerKeys.nonceRange(id, entry.fromHeight), entry);
}

export function hasEvidence(state: StateReader, id: string, height: number): boolean {
  return state.get(producerKeys.evidence(id, height)) !== undefined;
}

export function markEvidence(state: StateView, id: string, height: number, txHash: string): void {
  writeJson(state, producerKeys.evidence(id, height), { tx: txHash });
}
