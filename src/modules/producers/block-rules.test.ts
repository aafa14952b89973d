import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { GenesisError, signBlockHeader, zeroHash, type BlockHeader } from '../../chain/index.js';
import { toHex } from '../../crypto/index.js';
import { StateView } from '../../state/index.js';
import {
  applyProducersGenesis,
  checkProducerParams,
  validateBlockSignature,
  type GenesisProducer,
} from './block-rules.js';
import { producerEscrowAddress } from './schema.js';
import {
  producerKeys,
  readParams,
  readProducer,
  writeProducer,
  type ProducerParams,
  type ProducerRecord,
} from './state.js';
import {
  chainId,
  ids,
  issuer,
  operators,
  params,
  record,
  root,
  signers,
  world,
  type World,
} from './block-rules-fixture.js';

/*
 * block-rules.ts on its own, against a bare state view and ledger: the parameter checks at each
 * bound and one past, the genesis section and the check of a block's signature against the
 * registry. Exact messages and records. begin-block.test.ts has the begin-block steps.
 */

function throwsGenesis(action: () => unknown, message: string): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof GenesisError, String(error));
    assert.equal(error.message, message);
    return true;
  });
}

describe('checkProducerParams', () => {
  const given: ProducerParams = { ...params };

  it('takes the bounds themselves, and the defaults of parameters left out', () => {
    const bounds: Partial<ProducerParams>[] = [
      { unbondingPeriodHeights: 6, evidenceWindowHeights: 5 },
      { unbondingPeriodHeights: 1, evidenceWindowHeights: 0 },
      { slashBurnBasisPoints: 0 },
      { slashBurnBasisPoints: 10_000 },
      { nonceRangeHeightsMax: 1, nonceRangesAheadMax: 1 },
      { bondMin: '0' },
      { bondMin: '1' },
      { activeProducersMax: 1 },
      { activeProducersMax: 1_000 },
      { downtimeWindowHeights: 0, downtimeJailHeights: 0 },
    ];
    for (const fields of bounds) {
      assert.doesNotThrow(
        () => checkProducerParams({ ...given, ...fields }),
        JSON.stringify(fields),
      );
    }
    const {
      activeProducersMax: _a,
      downtimeWindowHeights: _w,
      downtimeJailHeights: _j,
      ...old
    } = params;
    assert.doesNotThrow(() => checkProducerParams(old));
  });

  it('refuses one past each bound, with the message naming the parameter', () => {
    const heights = 'producers.params: heights must be whole numbers';
    const order =
      'producers.params: unbondingPeriodHeights must exceed evidenceWindowHeights, or a producer could leave before its equivocation is punished';
    const downtime =
      'producers.params: downtimeWindowHeights and downtimeJailHeights must be whole numbers';
    const cases: [Partial<ProducerParams>, string][] = [
      [{ unbondingPeriodHeights: -1, evidenceWindowHeights: -2 }, heights],
      [{ unbondingPeriodHeights: 10.5 }, heights],
      [{ evidenceWindowHeights: -1 }, heights],
      [{ evidenceWindowHeights: 2 ** 53 }, heights],
      [{ unbondingPeriodHeights: 5, evidenceWindowHeights: 5 }, order],
      [{ unbondingPeriodHeights: 4, evidenceWindowHeights: 5 }, order],
      [{ slashBurnBasisPoints: 10_001 }, 'producers.params.slashBurnBasisPoints: 0 to 10000'],
      [{ slashBurnBasisPoints: -1 }, 'producers.params.slashBurnBasisPoints: 0 to 10000'],
      [{ nonceRangeHeightsMax: 0 }, 'producers.params.nonceRangeHeightsMax: at least 1'],
      [{ nonceRangeHeightsMax: 1.5 }, 'producers.params.nonceRangeHeightsMax: at least 1'],
      [{ nonceRangesAheadMax: 0 }, 'producers.params.nonceRangesAheadMax: at least 1'],
      [{ nonceRangesAheadMax: 1.5 }, 'producers.params.nonceRangesAheadMax: at least 1'],
      [{ bondMin: '-1' }, 'producers.params.bondMin: an amount'],
      [{ bondMin: '00' }, 'producers.params.bondMin: an amount'],
      [{ activeProducersMax: 0 }, 'producers.params.activeProducersMax: 1 to 1000'],
      [{ activeProducersMax: 1_001 }, 'producers.params.activeProducersMax: 1 to 1000'],
      [{ activeProducersMax: 2.5 }, 'producers.params.activeProducersMax: 1 to 1000'],
      [{ downtimeWindowHeights: -1 }, downtime],
      [{ downtimeJailHeights: -1 }, downtime],
    ];
    for (const [fields, message] of cases) {
      throwsGenesis(() => checkProducerParams({ ...given, ...fields }), message);
    }
  });
});

describe('applyProducersGenesis', () => {
  const genesisProducer = (i: number, fields: Partial<GenesisProducer> = {}): GenesisProducer => ({
    operator: operators[i]!,
    publicKey: toHex(signers[i]!.key.publicKey),
    hiddenInfo: 'aa'.repeat(40),
    commitment: 'bb'.repeat(32),
    bond: '0',
    nonces: { fromHeight: 0, count: 16, root },
    ...fields,
  });

  function apply(w: World, producers: GenesisProducer[], given: Partial<ProducerParams> = {}) {
    applyProducersGenesis(
      { state: w.state, ledger: w.ledger },
      { params: { ...params, ...given }, producers },
    );
  }

  it('writes the params and registers each producer active, bonded from its operator', () => {
    const w = world(false);
    assert.equal(w.ledger.mint(issuer, 'USD', operators[1]!, 500n), undefined);
    const { activeProducersMax: _a, ...withoutMax } = params;
    applyProducersGenesis(
      { state: w.state, ledger: w.ledger },
      { params: withoutMax, producers: [genesisProducer(0), genesisProducer(1, { bond: '500' })] },
    );
    assert.deepEqual(readParams(w.state), { ...params, activeProducersMax: 100 });
    assert.deepEqual(readProducer(w.state, ids[0]!), record(0));
    assert.deepEqual(readProducer(w.state, ids[1]!), record(1, { bond: '500' }));
    assert.equal(w.ledger.balance(producerEscrowAddress(ids[1]!), 'USD'), 500n);
    assert.equal(
      w.state.get(producerKeys.nonceRange(ids[0]!, 0)),
      JSON.stringify({ committedAtHeight: 0, count: 16, fromHeight: 0, root, tx: null }),
    );
  });

  it('takes as many producers as activeProducersMax, not one more', () => {
    const four = [0, 1, 2, 3].map((i) => genesisProducer(i));
    apply(world(false), four, { activeProducersMax: 4 });
    throwsGenesis(
      () => apply(world(false), four, { activeProducersMax: 3 }),
      'producers.producers: 4 genesis producers, more than activeProducersMax (3)',
    );
  });

  it('refuses bad params, an unknown bond asset, a bad bond and a rejected registration', () => {
    throwsGenesis(
      () => apply(world(false), [], { slashBurnBasisPoints: 10_001 }),
      'producers.params.slashBurnBasisPoints: 0 to 10000',
    );
    throwsGenesis(
      () => apply(world(false), [], { bondAsset: 'EUR' }),
      'producers.params.bondAsset: no asset EUR',
    );
    for (const bond of ['-1', 'x', '00']) {
      throwsGenesis(
        () => apply(world(false), [genesisProducer(0), genesisProducer(1, { bond })]),
        'producers.producers[1].bond',
      );
    }
    throwsGenesis(
      () => apply(world(false), [genesisProducer(0), genesisProducer(0)]),
      'producers.producers[1]: producer_exists',
    );
    throwsGenesis(
      () => apply(world(false), [genesisProducer(0, { bond: '1' })]),
      'producers.producers[0]: insufficient_funds',
    );
  });
});

describe('validateBlockSignature', () => {
  const signer = signers[0]!;
  const header = (height: number): BlockHeader => ({
    chainId,
    height,
    prevHash: zeroHash,
    time: 1_700_000_000_000,
    txCount: 0,
    txRoot: zeroHash,
    receiptRoot: zeroHash,
    stateRoot: zeroHash,
    producer: signer.producer,
  });
  const block = signBlockHeader(header(3), signer);

  function registry(fields: Partial<ProducerRecord> = {}): StateView {
    const w = world();
    writeProducer(w.state, record(0, { nonceRanges: [signer.range(0)], ...fields }));
    return w.state;
  }

  it('accepts a block of an active producer, signed with the nonce it committed', () => {
    assert.equal(validateBlockSignature(block, registry()), undefined);
  });

  it('names why a block is invalid, in this order', () => {
    assert.equal(validateBlockSignature(block, world().state), 'the producer is not registered');
    const pending = registry({ status: 'pending', approvals: [] });
    const forged = { ...block, signature: { ...block.signature, s: block.signature.R } };
    assert.equal(validateBlockSignature(forged, pending), 'the producer is pending');
    assert.equal(
      validateBlockSignature(forged, registry({ status: 'jailed' })),
      'the producer is jailed',
    );
    const elsewhere = registry({ nonceRanges: [signer.range(16)] });
    assert.equal(validateBlockSignature(forged, elsewhere), 'the signature does not verify');
    assert.equal(
      validateBlockSignature(block, elsewhere),
      'R is not the nonce the producer committed for this height',
    );
  });
});
