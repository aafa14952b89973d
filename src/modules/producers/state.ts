import type { CommittedNonceRange } from '../../chain/index.js';
import { canonicalize } from '../../crypto/index.js';
import type { OrderedStateReader, StateReader, StateView } from '../../state/index.js';
import type { z } from 'zod';
import type {
  DowntimeJail,
  Equivocation,
  ProducerParams as WireProducerParams,
  ProducerStatus,
  producerRecordSchema,
} from './schema.js';

/** The module's name and state namespace: every key below starts with `producers/`. */
export const producersModuleName = 'producers';

/**
 * The registry's parameters as a genesis gives them: those added after the first genesis format
 * may be left out (`producerParamDefaults`). The fields are described in schema.ts.
 */
export type ProducerParams = Omit<RegistryParams, keyof typeof producerParamDefaults> &
  Partial<Pick<RegistryParams, keyof typeof producerParamDefaults>>;

/** The parameters a chain runs with: the genesis's, and the defaults of those it left out. */
export type RegistryParams = WireProducerParams;

/**
 * The values of parameters added after the first genesis format: a genesis (or the stored state
 * of a chain) without them gets these.
 */
export const producerParamDefaults: Pick<
  RegistryParams,
  'activeProducersMax' | 'downtimeWindowHeights' | 'downtimeJailHeights'
> = {
  activeProducersMax: 100,
  // Must stay well above (active producers x producer term heights): a live producer produces at
  // least one term per round; 10,000 heights is ~14 h of idle 5 s blocks, ~17 min at 100 ms.
  downtimeWindowHeights: 10_000,
  downtimeJailHeights: 1_000,
};

/** A producer's record as the registry stores it (schema.ts, `producerRecordSchema`). */
export type ProducerRecord = z.output<typeof producerRecordSchema>;
/** What the registry recorded when the producer was punished for equivocating. */
export type EquivocationRecord = Equivocation;
export type { DowntimeJail, ProducerStatus };

/**
 * Most producers the registry holds: bounds `listProducers` (one page, read in id order) and the
 * records a node keeps for producers that may never produce.
 */
export const producersMax = 1_000;

export const producerKeys = {
  params: 'producers/params',
  /** How many producer records there are (`producersMax` bounds it). */
  count: 'producers/count',
  /**
   * The id list of a chain written before the count: read once for the count, then deleted. Never
   * written now (one list of every producer grew with each registration).
   */
  legacyIds: 'producers/ids',
  /** The ids of the active producers, sorted (at most `activeProducersMax`). */
  active: 'producers/active',
  producer: (id: string) => `producers/producer/${id}`,
  /** The producer records, one key each: a range over it lists them in id order. */
  producers: 'producers/producer/',
  /** The last height an active producer produced a block or was activated at (downtime). */
  seen: (id: string) => `producers/seen/${id}`,
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

/** The registry's parameters, with the defaults of parameters the stored ones predate. */
export function readParams(state: StateReader): RegistryParams | undefined {
  const stored = readJson<ProducerParams>(state, producerKeys.params);
  return stored && resolveParams(stored);
}

export function resolveParams(params: ProducerParams): RegistryParams {
  return {
    ...params,
    activeProducersMax: params.activeProducersMax ?? producerParamDefaults.activeProducersMax,
    downtimeWindowHeights:
      params.downtimeWindowHeights ?? producerParamDefaults.downtimeWindowHeights,
    downtimeJailHeights: params.downtimeJailHeights ?? producerParamDefaults.downtimeJailHeights,
  };
}

export function writeParams(state: StateView, params: RegistryParams): void {
  writeJson(state, producerKeys.params, params);
}

export function readProducer(state: StateReader, id: string): ProducerRecord | undefined {
  return readJson<ProducerRecord>(state, producerKeys.producer(id));
}

/** Up to `limit` producers in id order, after `afterId` when given: one key read per producer. */
export function readProducers(
  state: OrderedStateReader,
  limit = producersMax,
  afterId?: string,
): ProducerRecord[] {
  return state
    .range(
      producerKeys.producers,
      limit,
      afterId === undefined ? {} : { after: producerKeys.producer(afterId) },
    )
    .map(([, text]) => JSON.parse(text) as ProducerRecord);
}

/** The id list of a chain written before the count (empty on any other). */
function readLegacyIds(state: StateReader): string[] {
  return readJson<string[]>(state, producerKeys.legacyIds) ?? [];
}

/** How many producer records the registry holds. */
export function readProducerCount(state: StateReader): number {
  return readJson<number>(state, producerKeys.count) ?? readLegacyIds(state).length;
}

/** Writes the count, and drops the id list of an older chain once the count replaces it. */
function writeProducerCount(state: StateView, count: number): void {
  if (state.get(producerKeys.legacyIds) !== undefined) state.delete(producerKeys.legacyIds);
  writeJson(state, producerKeys.count, count);
}

/**
 * Deletes a producer that never was active (a withdrawn registration): its record, counted no
 * more, so the registry's slots (`producersMax`) are held only by producers that count. Its
 * nonce-range history stays.
 */
export function deleteProducer(state: StateView, id: string): void {
  if (state.get(producerKeys.producer(id)) === undefined) return;
  writeProducerCount(state, readProducerCount(state) - 1);
  state.delete(producerKeys.producer(id));
}

/** An active producer and its operator: one entry of the active index. */
export interface ActiveMember {
  producer: string;
  operator: string;
}

/**
 * The active producers with their operators, sorted by producer id. A chain whose state predates
 * the index derives it from the records (the first change of the set writes it).
 */
export function readActiveMembers(state: StateReader): ActiveMember[] {
  return (
    readJson<ActiveMember[]>(state, producerKeys.active) ??
    readLegacyIds(state).flatMap((id) => {
      const record = readProducer(state, id);
      return record?.status === 'active' ? [{ producer: id, operator: record.operator }] : [];
    })
  );
}

/**
 * Writes a producer, counting it when it is new and keeping the active index in step with its
 * status: every change of the active set goes through here.
 */
export function writeProducer(state: StateView, record: ProducerRecord): void {
  const key = producerKeys.producer(record.id);
  if (state.get(key) === undefined) writeProducerCount(state, readProducerCount(state) + 1);
  const active = readActiveMembers(state);
  const listed = active.some((m) => m.producer === record.id);
  if (listed !== (record.status === 'active')) {
    const next = listed
      ? active.filter((m) => m.producer !== record.id)
      : [...active, { producer: record.id, operator: record.operator }].sort((a, b) =>
          a.producer < b.producer ? -1 : 1,
        );
    writeJson(state, producerKeys.active, next);
  }
  writeJson(state, key, record);
}

/**
 * The validator set committed state names: the active producers (sorted by id), their operators
 * (distinct: an operator's key signs its attestations and approvals, and counts once) and who
 * operates which.
 */
export interface ValidatorSet {
  producers: string[];
  operators: ReadonlySet<string>;
  members: ActiveMember[];
}

export function readValidatorSet(state: StateReader): ValidatorSet {
  const members = readActiveMembers(state);
  return {
    producers: members.map((m) => m.producer),
    operators: new Set(members.map((m) => m.operator)),
    members,
  };
}

export function readSeen(state: StateReader, id: string): number | undefined {
  return readJson<number>(state, producerKeys.seen(id));
}

export function writeSeen(state: StateView, id: string, height: number): void {
  writeJson(state, producerKeys.seen(id), height);
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
