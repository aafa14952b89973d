import assert from 'node:assert/strict';
import {
  blockNonceIsCommitted,
  GenesisError,
  verifyBlockSignature,
  type BlockContext,
  type GenesisContext,
  type SignedBlock,
} from '../../chain/index.js';
import { parsePositiveAmount } from '../../ledger/index.js';
import type { StateReader } from '../../state/index.js';
import { producerEscrowAddress } from './schema.js';
import {
  producersMax,
  readActiveMembers,
  readParams,
  readProducer,
  readSeen,
  readUnbonding,
  writeParams,
  writeProducer,
  writeSeen,
  writeUnbonding,
  resolveParams,
  type ProducerParams,
  type RegistryParams,
} from './state.js';
import { registerProducer } from './txs.js';

/*
 * The registry's rules outside its txs: the genesis section, the begin-block steps (liveness and
 * downtime jailing, bond returns) and the check of a block's signature against committed state.
 */

/** A producer registered in genesis. Amounts are decimal strings of minor units. */
export interface GenesisProducer {
  operator: string;
  publicKey: string;
  hiddenInfo: string;
  commitment: string;
  bond: string;
  nonces: { fromHeight: number; count: number; root: string };
}

/** `genesis.modules.producers`. Parameters left out take `producerParamDefaults`. */
export interface ProducersGenesis {
  params: ProducerParams;
  producers: GenesisProducer[];
}

/** Throws unless the unbonding period exceeds the evidence window (checked at genesis and start). */
export function checkProducerParams(given: ProducerParams): void {
  const params = resolveParams(given);
  const whole = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  if (!whole(params.unbondingPeriodHeights) || !whole(params.evidenceWindowHeights)) {
    throw new GenesisError('producers.params: heights must be whole numbers');
  }
  if (params.unbondingPeriodHeights <= params.evidenceWindowHeights) {
    throw new GenesisError(
      'producers.params: unbondingPeriodHeights must exceed evidenceWindowHeights, or a producer could leave before its equivocation is punished',
    );
  }
  if (!whole(params.slashBurnBasisPoints) || params.slashBurnBasisPoints > 10_000) {
    throw new GenesisError('producers.params.slashBurnBasisPoints: 0 to 10000');
  }
  if (!whole(params.nonceRangeHeightsMax) || params.nonceRangeHeightsMax < 1) {
    throw new GenesisError('producers.params.nonceRangeHeightsMax: at least 1');
  }
  if (!whole(params.nonceRangesAheadMax) || params.nonceRangesAheadMax < 1) {
    throw new GenesisError('producers.params.nonceRangesAheadMax: at least 1');
  }
  if (params.bondMin !== '0' && parsePositiveAmount(params.bondMin) === undefined) {
    throw new GenesisError('producers.params.bondMin: an amount');
  }
  if (
    !whole(params.activeProducersMax) ||
    params.activeProducersMax < 1 ||
    params.activeProducersMax > producersMax
  ) {
    throw new GenesisError(`producers.params.activeProducersMax: 1 to ${producersMax}`);
  }
  if (!whole(params.downtimeWindowHeights) || !whole(params.downtimeJailHeights)) {
    throw new GenesisError(
      'producers.params: downtimeWindowHeights and downtimeJailHeights must be whole numbers',
    );
  }
}

export function applyProducersGenesis(context: GenesisContext, section: unknown): void {
  const { producers } = section as ProducersGenesis;
  const params = resolveParams((section as ProducersGenesis).params);
  checkProducerParams(params);
  if (!context.ledger.asset(params.bondAsset)) {
    throw new GenesisError(`producers.params.bondAsset: no asset ${params.bondAsset}`);
  }
  if (producers.length > params.activeProducersMax) {
    throw new GenesisError(
      `producers.producers: ${producers.length} genesis producers, more than activeProducersMax (${params.activeProducersMax})`,
    );
  }
  writeParams(context.state, params);
  for (const [index, producer] of producers.entries()) {
    const bond = producer.bond === '0' ? 0n : parsePositiveAmount(producer.bond);
    if (bond === undefined) throw new GenesisError(`producers.producers[${index}].bond`);
    const rejection = registerProducer(
      {
        state: context.state,
        ledger: context.ledger,
        sender: producer.operator,
        height: 0,
        txHash: null,
      },
      { ...producer, bond },
      true,
    );
    if (rejection) throw new GenesisError(`producers.producers[${index}]: ${rejection}`);
  }
}

/**
 * Returns bonds whose unbonding period ends at this height to their operators. A return the
 * ledger refuses (the bond asset's issuer froze the operator) is recorded as owed, and the bond
 * stays in escrow until the operator takes it with `producer.claimBond`: a user's action never
 * stops a block.
 */
function releaseBonds(ctx: BlockContext, params: RegistryParams): void {
  const ids = readUnbonding(ctx.state, ctx.height);
  if (ids.length === 0) return;
  for (const id of ids) {
    const record = readProducer(ctx.state, id);
    // Jailed meanwhile: the bond was slashed and nothing is left to return.
    if (!record || record.status !== 'unbonding') continue;
    const bond = BigInt(record.bond);
    const refused =
      bond > 0n
        ? ctx.ledger.transfer(producerEscrowAddress(id), record.operator, params.bondAsset, bond)
        : undefined;
    // The escrow holds the bond (only this module moves it), so only a freeze can refuse it.
    assert.ok(
      refused === undefined || refused === 'account_frozen',
      `releasing the bond of ${id}: ${refused}`,
    );
    record.status = 'unbonded';
    record.bond = '0';
    if (refused) record.bondOwed = (BigInt(record.bondOwed ?? '0') + bond).toString();
    writeProducer(ctx.state, record);
    ctx.emit(refused ? 'producer.bondBlocked' : 'producer.unbonded', {
      producer: id,
      operator: record.operator,
      bond: bond.toString(),
      ...(refused ? { code: refused } : {}),
    });
  }
  writeUnbonding(ctx.state, ctx.height, []);
}

/**
 * Liveness, from chain state alone: records the height the previous block's producer produced
 * at, then jails for downtime every active producer whose last block (or activation) lies more
 * than `downtimeWindowHeights` behind, provided the producers seen within the window are operated
 * by more than two thirds of the validators. That proviso keeps a minority that produces every
 * block itself (round robin is not a validity rule) from jailing the others; with three
 * validators one down is therefore never jailed (two of three is not more than two thirds).
 */
function recordLiveness(ctx: BlockContext, params: RegistryParams): void {
  const previous = ctx.height - 1;
  const members = readActiveMembers(ctx.state);
  // Block 0 is the genesis: nobody produced it in turn.
  if (previous >= 1 && members.some((m) => m.producer === ctx.previousProducer)) {
    writeSeen(ctx.state, ctx.previousProducer, previous);
  }
  const window = params.downtimeWindowHeights;
  if (window === 0) return;
  const seen = new Map<string, number>();
  for (const { producer } of members) {
    let height = readSeen(ctx.state, producer);
    if (height === undefined) {
      // Never seen: a genesis producer counts from 0; one active since before liveness was
      // recorded (an older chain's) from now.
      height = readProducer(ctx.state, producer)?.activatedAtHeight ?? previous;
      writeSeen(ctx.state, producer, height);
    }
    seen.set(producer, height);
  }
  const down = members.filter((m) => previous - seen.get(m.producer)! > window);
  if (down.length === 0) return;
  const operators = new Set(members.map((m) => m.operator));
  const live = new Set(
    members.filter((m) => previous - seen.get(m.producer)! <= window).map((m) => m.operator),
  );
  if (3 * live.size <= 2 * operators.size) return;
  for (const { producer } of down) {
    const record = readProducer(ctx.state, producer)!;
    const lastSeenHeight = seen.get(producer)!;
    record.status = 'jailed';
    record.jail = {
      reason: 'downtime',
      jailedAtHeight: ctx.height,
      lastSeenHeight,
      releaseHeight: ctx.height + params.downtimeJailHeights,
    };
    writeProducer(ctx.state, record);
    ctx.emit('producer.jailed', {
      producer,
      operator: record.operator,
      reason: 'downtime',
      lastSeenHeight,
      releaseHeight: record.jail.releaseHeight,
    });
  }
}

export function producersBeginBlock(ctx: BlockContext): void {
  const params = readParams(ctx.state);
  if (!params) return;
  recordLiveness(ctx, params);
  releaseBonds(ctx, params);
}

/**
 * Checks a block's signature against committed state: the producer is registered and active,
 * `{height, R, s}` verifies for the header, and R is the nonce committed for the height. Returns
 * the reason the block is invalid, or undefined. The chain calls it before storing a block.
 */
export function validateBlockSignature(block: SignedBlock, state: StateReader): string | undefined {
  const record = readProducer(state, block.header.producer);
  if (!record) return 'the producer is not registered';
  if (record.status !== 'active') return `the producer is ${record.status}`;
  if (!verifyBlockSignature(block)) return 'the signature does not verify';
  if (!blockNonceIsCommitted(block.signature, record.nonceRanges)) {
    return 'R is not the nonce the producer committed for this height';
  }
  return undefined;
}
