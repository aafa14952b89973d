import assert from 'node:assert/strict';

import { TestBlockSigner } from '../../../test/support/block-signer.js';
import { toHex } from '../../crypto/index.js';
import { Ledger } from '../../ledger/index.js';
import { StateView } from '../../state/index.js';
import { writeParams, type ProducerRecord, type RegistryParams } from './state.js';
import { account, type World } from './txs-fixture.js';

export { account, type World };

/*
 * Test support for block-rules.test.ts and begin-block.test.ts (block-rules.ts against a bare
 * state view and ledger): four producers with their signers and operators, the registry's
 * parameters, a world and a record. Nothing on chain imports it.
 */

export const chainId = 'coffer-rules';
export const issuer = account(1);
export const operators = [10, 11, 12, 13].map(account);
export const signers = [60, 61, 62, 63].map(
  (seed) => new TestBlockSigner(new Uint8Array(32).fill(seed), chainId, 16),
);
export const ids = signers.map((s) => s.producer);
export const root = 'cd'.repeat(32);

export const params: RegistryParams = {
  bondAsset: 'USD',
  bondMin: '1000',
  unbondingPeriodHeights: 10,
  evidenceWindowHeights: 5,
  slashBurnBasisPoints: 2_500,
  nonceRangeHeightsMax: 64,
  nonceRangesAheadMax: 2,
  activeProducersMax: 4,
  downtimeWindowHeights: 20,
  downtimeJailHeights: 7,
};

export function world(registry: Partial<RegistryParams> | false = {}): World {
  const state = new StateView({ get: () => undefined });
  const ledger = new Ledger(state);
  assert.equal(ledger.createAsset(issuer, { symbol: 'USD', decimals: 2 }), undefined);
  if (registry) writeParams(state, { ...params, ...registry });
  return { state, ledger, events: [] };
}

export function record(i: number, fields: Partial<ProducerRecord> = {}): ProducerRecord {
  return {
    id: ids[i]!,
    publicKey: toHex(signers[i]!.key.publicKey),
    operator: operators[i]!,
    hiddenInfo: 'aa'.repeat(40),
    commitment: 'bb'.repeat(32),
    bond: '0',
    status: 'active',
    registeredAtHeight: 0,
    nonceRanges: [{ fromHeight: 0, count: 16, root }],
    activatedAtHeight: 0,
    ...fields,
  };
}
