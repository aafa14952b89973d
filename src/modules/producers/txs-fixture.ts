import { isRejection, type TxContext } from '../../chain/index.js';
import { addressFromPublicKey, keyPairFromSecret } from '../../crypto/index.js';
import type { Ledger } from '../../ledger/index.js';
import type { StateView } from '../../state/index.js';
import type { RegistryParams } from './state.js';
import { producerTxs } from './txs.js';

/*
 * Test support for the module's unit tests (txs, txs-approval, block-rules, begin-block): a
 * bare state view and ledger, the registry's parameters, a tx context and a tx run as the chain
 * runs it (parsed, then executed). Nothing on chain imports it.
 */

/** The address of the ed25519 key whose 32 secret bytes are all `seed`. */
export const account = (seed: number) =>
  addressFromPublicKey(keyPairFromSecret(new Uint8Array(32).fill(seed)).publicKey);

export const txHash = 'ab'.repeat(32);
export const root = 'cd'.repeat(32);

/** The registry's parameters of the tx tests (each file changes what it needs). */
export const txParams: RegistryParams = {
  bondAsset: 'USD',
  bondMin: '1000',
  unbondingPeriodHeights: 10,
  evidenceWindowHeights: 5,
  slashBurnBasisPoints: 2_500,
  nonceRangeHeightsMax: 64,
  nonceRangesAheadMax: 2,
  activeProducersMax: 3,
  downtimeWindowHeights: 100,
  downtimeJailHeights: 10,
};

export interface World {
  state: StateView;
  ledger: Ledger;
  events: { type: string; data: Record<string, unknown> }[];
}

export function txContext(w: World, height: number, sender: string): TxContext {
  return {
    chainId: 'coffer-txs',
    height,
    time: 1_700_000_000_000,
    txHash,
    txIndex: 0,
    sender,
    state: w.state,
    ledger: w.ledger,
    emit: (type, data) => w.events.push({ type, data }),
  };
}

/** Parses `payload` as the tx does, then executes it: the rejection code, or 'ok'. */
export function executeTx(type: string, payload: Record<string, unknown>, ctx: TxContext): string {
  const definition = producerTxs[type]!;
  const parsed = definition.parse(payload);
  if (isRejection(parsed)) return parsed.code;
  return definition.execute(ctx, parsed.value as never) ?? 'ok';
}
