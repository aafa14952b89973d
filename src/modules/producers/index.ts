import {
  blockNonceIsCommitted,
  GenesisError,
  verifyBlockSignature,
  type BlockContext,
  type ChainModule,
  type GenesisContext,
  type SignedBlock,
} from '../../chain/index.js';
import { parsePositiveAmount } from '../../ledger/index.js';
import type { StateReader } from '../../state/index.js';
import {
  producersModuleName,
  readParams,
  readProducer,
  readUnbonding,
  writeParams,
  writeProducer,
  writeUnbonding,
  type ProducerParams,
} from './state.js';
import { escrowOf, producerRejections, producerTxs, registerProducer } from './txs.js';

export * from './state.js';
export * from './queries.js';
export {
  checkEvidence,
  escrowOf,
  evidenceSecret,
  producerRejections,
  type EquivocationEvidence,
  type SignedHeader,
} from './txs.js';

/** A producer registered in genesis. Amounts are decimal strings of minor units. */
export interface GenesisProducer {
  operator: string;
  publicKey: string;
  hiddenInfo: string;
  commitment: string;
  bond: string;
  nonces: { fromHeight: number; count: number; root: string };
}

/** `genesis.modules.producers`. */
export interface ProducersGenesis {
  params: ProducerParams;
  producers: GenesisProducer[];
}

/** Throws unless the unbonding period exceeds the evidence window (checked at genesis and start). */
export function checkProducerParams(params: ProducerParams): void {
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
}

function applyGenesis(context: GenesisContext, section: unknown): void {
  const { params, producers } = section as ProducersGenesis;
  checkProducerParams(params);
  if (!context.ledger.asset(params.bondAsset)) {
    throw new GenesisError(`producers.params.bondAsset: no asset ${params.bondAsset}`);
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

/** Returns bonds whose unbonding period ends at this height to their operators. */
function releaseBonds(ctx: BlockContext): void {
  const ids = readUnbonding(ctx.state, ctx.height);
  if (ids.length === 0) return;
  const params = readParams(ctx.state)!;
  for (const id of ids) {
    const record = readProducer(ctx.state, id);
    // Jailed meanwhile: the bond was slashed and nothing is left to return.
    if (!record || record.status !== 'unbonding') continue;
    const bond = BigInt(record.bond);
    if (bond > 0n) {
      const rejection = ctx.ledger.transfer(escrowOf(id), record.operator, params.bondAsset, bond);
      if (rejection) throw new Error(`releasing the bond of ${id}: ${rejection}`);
    }
    record.status = 'unbonded';
    record.bond = '0';
    writeProducer(ctx.state, record);
    ctx.emit('producer.unbonded', {
      producer: id,
      operator: record.operator,
      bond: bond.toString(),
    });
  }
  writeUnbonding(ctx.state, ctx.height, []);
}

/**
 * The block producer registry (issue 4): registration with a bond and hidden information, nonce
 * commitments, unbonding, and equivocation evidence that jails and slashes.
 */
export const producersModule: ChainModule = {
  name: producersModuleName,
  txs: producerTxs,
  rejections: producerRejections,
  beginBlock: releaseBonds,
  genesis: applyGenesis,
};

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
