import {
  defineTxOf,
  type CommittedNonceRange,
  type TxContext,
  type TxDefinition,
} from '../../chain/index.js';
import { evidenceTxs } from './evidence.js';
import { producerEscrowAddress, producerIdOfPublicKey, producerPayloads } from './schema.js';
import {
  deleteProducer,
  producersMax,
  readParams,
  readProducer,
  readProducerCount,
  readUnbonding,
  readValidatorSet,
  writeNonceRange,
  writeProducer,
  writeSeen,
  writeUnbonding,
  type ProducerRecord,
  type RegistryParams,
} from './state.js';

/*
 * The registry's txs: register (pending), approve into the validator set, withdraw a pending
 * registration, commit nonces, unbond, unjail after downtime and claim a bond a freeze kept back.
 * Evidence is in evidence.ts, the rejections in rejections.ts, the payloads in schema.ts.
 */

function paramsOf(ctx: TxContext): RegistryParams | undefined {
  return readParams(ctx.state);
}

/** The producer `id` when the sender operates it, or the rejection. */
function ownProducer(ctx: TxContext, id: string): ProducerRecord | string {
  const record = readProducer(ctx.state, id);
  if (!record) return 'producer_not_found';
  if (record.operator !== ctx.sender) return 'not_producer_operator';
  return record;
}

/** Jailed for downtime (it may come back), not for equivocation (it never does). */
function jailedForDowntime(record: ProducerRecord): boolean {
  return record.status === 'jailed' && record.equivocation === undefined;
}

/**
 * Whether `approvals` (operators) are more than two thirds of the validators' operators: the
 * threshold that activates a pending producer. Approvals of operators who are no longer
 * validators do not count.
 */
export function approvalsReachQuorum(
  approvals: readonly string[],
  operators: ReadonlySet<string>,
): boolean {
  const counted = approvals.filter((operator) => operators.has(operator)).length;
  return 3 * counted > 2 * operators.size;
}

/** Makes a producer active (approved, or unjailed) at the context's height. */
function activate(ctx: Pick<TxContext, 'state' | 'height'>, record: ProducerRecord): void {
  record.status = 'active';
  record.activatedAtHeight = ctx.height;
  delete record.approvals;
  delete record.jail;
  writeProducer(ctx.state, record);
  // Its downtime window starts now: it has not had a turn yet.
  writeSeen(ctx.state, record.id, ctx.height);
}

/** Ranges ending before `height` are pruned: nothing signs there any more. */
function pruneRanges(ranges: CommittedNonceRange[], height: number): CommittedNonceRange[] {
  const kept = ranges.filter((r) => r.fromHeight + r.count > height);
  // Keep the last range even when past, so contiguity is still checked against it.
  return kept.length > 0 ? kept : ranges.slice(-1);
}

/** A parsed `producer.register` payload (the bond a bigint). */
export interface RegisterPayload {
  publicKey: string;
  hiddenInfo: string;
  commitment: string;
  bond: bigint;
  nonces: CommittedNonceRange;
}

/**
 * Registers a producer, `pending` until validators approve it (also the genesis step, with
 * `genesis` true: active at once, no minimum bond, and the first range may start at 0). Returns a
 * rejection code or undefined.
 */
export function registerProducer(
  ctx: Pick<TxContext, 'state' | 'ledger' | 'sender' | 'height'> & { txHash: string | null },
  payload: RegisterPayload,
  genesis = false,
): string | undefined {
  const params = readParams(ctx.state);
  if (!params) return 'registry_not_initialized';
  const id = producerIdOfPublicKey(payload.publicKey);
  if (readProducer(ctx.state, id)) return 'producer_exists';
  if (readProducerCount(ctx.state) >= producersMax) return 'too_many_producers';
  if (!genesis && payload.bond < BigInt(params.bondMin)) return 'bond_too_low';
  if (payload.nonces.count > params.nonceRangeHeightsMax) return 'nonce_range_too_large';
  if (!genesis && payload.nonces.fromHeight <= ctx.height) return 'nonce_range_in_past';
  if (payload.bond > 0n) {
    const moved = ctx.ledger.transfer(
      ctx.sender,
      producerEscrowAddress(id),
      params.bondAsset,
      payload.bond,
    );
    if (moved) return moved;
  }
  writeProducer(ctx.state, {
    id,
    publicKey: payload.publicKey,
    operator: ctx.sender,
    hiddenInfo: payload.hiddenInfo,
    commitment: payload.commitment,
    bond: payload.bond.toString(),
    status: genesis ? 'active' : 'pending',
    registeredAtHeight: ctx.height,
    nonceRanges: [payload.nonces],
    ...(genesis ? { activatedAtHeight: 0 } : { approvals: [] }),
  });
  writeNonceRange(ctx.state, id, {
    ...payload.nonces,
    tx: ctx.txHash,
    committedAtHeight: ctx.height,
  });
  return undefined;
}

export const producerTxs: Record<string, TxDefinition<never>> = {
  'producer.register': defineTxOf(producerPayloads['producer.register'], {
    execute: (ctx, p) => {
      const rejection = registerProducer(ctx, p);
      if (rejection) return rejection;
      const id = producerIdOfPublicKey(p.publicKey);
      ctx.emit('producer.registered', {
        producer: id,
        operator: ctx.sender,
        bond: p.bond.toString(),
        status: 'pending',
      });
      return undefined;
    },
  }),
  'producer.commitNonces': defineTxOf(producerPayloads['producer.commitNonces'], {
    execute: (ctx, p) => {
      const params = paramsOf(ctx);
      if (!params) return 'registry_not_initialized';
      const record = ownProducer(ctx, p.producer);
      if (typeof record === 'string') return record;
      // A pending producer keeps its nonces ahead for the day it is approved; one jailed for
      // downtime for the day it is unjailed.
      if (record.status !== 'active' && record.status !== 'pending' && !jailedForDowntime(record))
        return 'producer_not_active';
      if (p.count > params.nonceRangeHeightsMax) return 'nonce_range_too_large';
      if (p.fromHeight <= ctx.height) return 'nonce_range_in_past';
      const last = record.nonceRanges[record.nonceRanges.length - 1];
      // Contiguous with the last range; once that range has ended (a producer left without nonces
      // while pending or jailed), anywhere above the current height. Ranges never overlap either
      // way, so every height keeps at most one committed nonce and two signatures there reveal
      // the key.
      if (last && last.fromHeight + last.count > ctx.height) {
        if (p.fromHeight !== last.fromHeight + last.count) return 'nonce_range_not_contiguous';
      }
      const ahead = record.nonceRanges.filter((r) => r.fromHeight > ctx.height).length;
      if (ahead >= params.nonceRangesAheadMax) return 'too_many_nonce_ranges';
      const range = { fromHeight: p.fromHeight, count: p.count, root: p.root };
      record.nonceRanges = pruneRanges([...record.nonceRanges, range], ctx.height);
      writeProducer(ctx.state, record);
      writeNonceRange(ctx.state, record.id, {
        ...range,
        tx: ctx.txHash,
        committedAtHeight: ctx.height,
      });
      ctx.emit('producer.noncesCommitted', { producer: record.id, ...range });
      return undefined;
    },
  }),
  'producer.unbond': defineTxOf(producerPayloads['producer.unbond'], {
    execute: (ctx, p) => {
      const params = paramsOf(ctx);
      if (!params) return 'registry_not_initialized';
      const record = ownProducer(ctx, p.producer);
      if (typeof record === 'string') return record;
      if (record.status !== 'active' && !jailedForDowntime(record)) return 'producer_not_active';
      const at = ctx.height + params.unbondingPeriodHeights;
      record.status = 'unbonding';
      record.unbondAtHeight = at;
      delete record.jail;
      writeProducer(ctx.state, record);
      writeUnbonding(ctx.state, at, [...readUnbonding(ctx.state, at), record.id].sort());
      ctx.emit('producer.unbonding', { producer: record.id, unbondAtHeight: at });
      return undefined;
    },
  }),
  'producer.approve': defineTxOf(producerPayloads['producer.approve'], {
    execute: (ctx, p) => {
      const params = paramsOf(ctx);
      if (!params) return 'registry_not_initialized';
      const record = readProducer(ctx.state, p.producer);
      if (!record) return 'producer_not_found';
      if (record.status !== 'pending') return 'producer_not_pending';
      const validators = readValidatorSet(ctx.state);
      if (!validators.operators.has(ctx.sender)) return 'not_validator_operator';
      const approvals = record.approvals ?? [];
      // A repeat counts once. It is let through only when the approvals already recorded reach
      // the threshold because the set shrank since (jailing, unbonding): then it activates.
      const repeat = approvals.includes(ctx.sender);
      if (repeat && !approvalsReachQuorum(approvals, validators.operators))
        return 'approval_duplicate';
      if (validators.producers.length >= params.activeProducersMax) return 'active_set_full';
      const next = repeat ? approvals : [...approvals, ctx.sender].sort();
      const counted = next.filter((operator) => validators.operators.has(operator)).length;
      const progress = {
        producer: record.id,
        approver: ctx.sender,
        approvals: counted,
        validators: validators.operators.size,
      };
      if (approvalsReachQuorum(next, validators.operators)) {
        activate(ctx, record);
        ctx.emit('producer.activated', progress);
      } else {
        record.approvals = next;
        writeProducer(ctx.state, record);
        ctx.emit('producer.approved', progress);
      }
      return undefined;
    },
  }),
  'producer.withdraw': defineTxOf(producerPayloads['producer.withdraw'], {
    execute: (ctx, p) => {
      const params = paramsOf(ctx);
      if (!params) return 'registry_not_initialized';
      const record = ownProducer(ctx, p.producer);
      if (typeof record === 'string') return record;
      if (record.status !== 'pending') return 'producer_not_pending';
      // Returned at once: a pending producer never had a valid block, so nothing is left to
      // punish (evidence needs two blocks it could have made count).
      const bond = BigInt(record.bond);
      if (bond > 0n) {
        const moved = ctx.ledger.transfer(
          producerEscrowAddress(record.id),
          ctx.sender,
          params.bondAsset,
          bond,
        );
        if (moved) return moved;
      }
      // Deleted, not kept as a record: a kept one would hold a registry slot for good, and a
      // loop of register and withdraw (the bond back each time) would fill the registry for free.
      deleteProducer(ctx.state, record.id);
      ctx.emit('producer.withdrawn', {
        producer: record.id,
        operator: ctx.sender,
        bond: bond.toString(),
      });
      return undefined;
    },
  }),
  'producer.unjail': defineTxOf(producerPayloads['producer.unjail'], {
    execute: (ctx, p) => {
      const params = paramsOf(ctx);
      if (!params) return 'registry_not_initialized';
      const record = ownProducer(ctx, p.producer);
      if (typeof record === 'string') return record;
      if (record.status !== 'jailed') return 'producer_not_jailed';
      if (record.equivocation || !record.jail) return 'jailed_for_equivocation';
      if (ctx.height < record.jail.releaseHeight) return 'jail_not_expired';
      if (readValidatorSet(ctx.state).producers.length >= params.activeProducersMax)
        return 'active_set_full';
      activate(ctx, record);
      ctx.emit('producer.unjailed', { producer: record.id, operator: ctx.sender });
      return undefined;
    },
  }),
  'producer.claimBond': defineTxOf(producerPayloads['producer.claimBond'], {
    execute: (ctx, p) => {
      const params = paramsOf(ctx);
      if (!params) return 'registry_not_initialized';
      const record = ownProducer(ctx, p.producer);
      if (typeof record === 'string') return record;
      if (record.bondOwed === undefined) return 'no_bond_owed';
      const owed = BigInt(record.bondOwed);
      const moved = ctx.ledger.transfer(
        producerEscrowAddress(record.id),
        ctx.sender,
        params.bondAsset,
        owed,
      );
      if (moved) return moved;
      delete record.bondOwed;
      writeProducer(ctx.state, record);
      ctx.emit('producer.bondClaimed', {
        producer: record.id,
        operator: ctx.sender,
        bond: owed.toString(),
      });
      return undefined;
    },
  }),
  ...evidenceTxs,
};
