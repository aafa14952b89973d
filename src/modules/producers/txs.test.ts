import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { TxContext } from '../../chain/index.js';
import { addressFromPublicKey, deriveAccountableKey, toHex } from '../../crypto/index.js';
import { Ledger } from '../../ledger/index.js';
import { StateView } from '../../state/index.js';
import { producerEscrowAddress } from './schema.js';
import {
  producerKeys,
  producersMax,
  readProducer,
  readProducerCount,
  readUnbonding,
  writeParams,
  writeProducer,
  type ProducerRecord,
} from './state.js';
import { registerProducer } from './txs.js';
import {
  account,
  executeTx,
  root,
  txContext,
  txHash,
  txParams,
  type World,
} from './txs-fixture.js';

/*
 * txs.ts on its own, against a bare state view and ledger (no chain, no blocks): registration
 * (as a tx and as the genesis step), nonce commitments and unbonding. Each bound at the bound and
 * one past, each rejection in precedence order, records and events read whole.
 * txs-approval.test.ts has approval, withdrawal, unjailing and bond claims.
 */

const params = txParams;
const context = (w: World, height: number, sender = alice) => txContext(w, height, sender);
const run = (w: World, type: string, payload: Record<string, unknown>, ctx: TxContext) =>
  executeTx(type, payload, ctx);
const issuer = account(1);
const alice = account(2);
const bob = account(3);
const key = deriveAccountableKey(new Uint8Array(32).fill(40));
const publicKey = toHex(key.publicKey);
const producer = addressFromPublicKey(key.publicKey);
const escrow = producerEscrowAddress(producer);

/** A registry with `params`, the USD asset, and 10000 USD for alice and bob. */
function world(registry = true): World {
  const state = new StateView({ get: () => undefined });
  const ledger = new Ledger(state);
  assert.equal(ledger.createAsset(issuer, { symbol: 'USD', decimals: 2 }), undefined);
  for (const holder of [alice, bob]) {
    assert.equal(ledger.mint(issuer, 'USD', holder, 10_000n), undefined);
  }
  if (registry) writeParams(state, params);
  return { state, ledger, events: [] };
}

/** The producer as registered by alice at height 1, then changed by `fields`. */
function producerRecord(fields: Partial<ProducerRecord> = {}): ProducerRecord {
  return {
    id: producer,
    publicKey,
    operator: alice,
    hiddenInfo: 'aa'.repeat(40),
    commitment: 'bb'.repeat(32),
    bond: '0',
    status: 'active',
    registeredAtHeight: 1,
    nonceRanges: [{ fromHeight: 2, count: 16, root }],
    activatedAtHeight: 1,
    ...fields,
  };
}

/** What a producer jailed for equivocating has on its record. */
const equivocation = {
  height: 4,
  headerHashes: ['11'.repeat(32), '22'.repeat(32)] as [string, string],
  info: null,
  infoRevealed: false,
  recordedAtHeight: 6,
  reporter: bob,
  slashed: '0',
  burned: '0',
  reward: '0',
};

const registerPayload = (fields: Record<string, unknown> = {}) => ({
  publicKey,
  hiddenInfo: 'aa'.repeat(40),
  commitment: 'bb'.repeat(32),
  bond: '4000',
  nonces: { fromHeight: 6, count: 16, root },
  ...fields,
});

describe('producer.register', () => {
  it('holds the bond in escrow and records the producer pending, with its first range', () => {
    const w = world();
    assert.equal(run(w, 'producer.register', registerPayload(), context(w, 5)), 'ok');
    assert.deepEqual(readProducer(w.state, producer), {
      id: producer,
      publicKey,
      operator: alice,
      hiddenInfo: 'aa'.repeat(40),
      commitment: 'bb'.repeat(32),
      bond: '4000',
      status: 'pending',
      registeredAtHeight: 5,
      nonceRanges: [{ fromHeight: 6, count: 16, root }],
      approvals: [],
    });
    assert.equal(w.ledger.balance(escrow, 'USD'), 4_000n);
    assert.equal(w.ledger.balance(alice, 'USD'), 6_000n);
    assert.equal(readProducerCount(w.state), 1);
    assert.equal(
      w.state.get(producerKeys.nonceRange(producer, 6)),
      JSON.stringify({ committedAtHeight: 5, count: 16, fromHeight: 6, root, tx: txHash }),
    );
    assert.deepEqual(w.events, [
      {
        type: 'producer.registered',
        data: { producer, operator: alice, bond: '4000', status: 'pending' },
      },
    ]);
    // Pending: not in the active set.
    assert.equal(w.state.get(producerKeys.active), undefined);
  });

  it('takes a bond of exactly bondMin, a range of nonceRangeHeightsMax from the next height', () => {
    const w = world();
    const payload = registerPayload({ bond: '1000', nonces: { fromHeight: 6, count: 64, root } });
    assert.equal(run(w, 'producer.register', payload, context(w, 5)), 'ok');
    assert.equal(readProducer(w.state, producer)?.bond, '1000');
  });

  it('rejections, in precedence order, each with the later faults present', () => {
    const tooLarge = { fromHeight: 5, count: 65, root };
    const cases: [string, World, Record<string, unknown>][] = [
      ['registry_not_initialized', world(false), registerPayload({ bond: '1' })],
      ['producer_exists', registeredWorld(), registerPayload({ bond: '1', nonces: tooLarge })],
      ['too_many_producers', fullWorld(producersMax), registerPayload({ bond: '999' })],
      ['bond_too_low', world(), registerPayload({ bond: '999', nonces: tooLarge })],
      ['nonce_range_too_large', world(), registerPayload({ bond: '20000', nonces: tooLarge })],
      [
        'nonce_range_in_past',
        world(),
        registerPayload({ bond: '20000', nonces: { fromHeight: 5, count: 64, root } }),
      ],
      ['insufficient_funds', world(), registerPayload({ bond: '10001' })],
    ];
    for (const [code, w, payload] of cases) {
      const count = readProducerCount(w.state);
      assert.equal(run(w, 'producer.register', payload, context(w, 5)), code, code);
      assert.deepEqual(w.events, [], code);
      assert.equal(readProducerCount(w.state), count, code);
    }
    // One below the bound on producers is room for one more.
    const room = fullWorld(producersMax - 1);
    assert.equal(run(room, 'producer.register', registerPayload(), context(room, 5)), 'ok');
    assert.equal(readProducerCount(room.state), producersMax);
  });

  function registeredWorld(): World {
    const w = world();
    writeProducer(w.state, producerRecord());
    return w;
  }

  function fullWorld(count: number): World {
    const w = world();
    w.state.set(producerKeys.count, String(count));
    return w;
  }
});

describe('registerProducer as the genesis step', () => {
  const genesisContext = (w: World) => ({
    state: w.state,
    ledger: w.ledger,
    sender: bob,
    height: 0,
    txHash: null,
  });

  it('is active at once from height 0, with a zero bond and no transfer', () => {
    const w = world();
    const payload = { ...registerPayload(), bond: 0n, nonces: { fromHeight: 0, count: 64, root } };
    assert.equal(registerProducer(genesisContext(w), payload, true), undefined);
    assert.deepEqual(readProducer(w.state, producer), {
      id: producer,
      publicKey,
      operator: bob,
      hiddenInfo: 'aa'.repeat(40),
      commitment: 'bb'.repeat(32),
      bond: '0',
      status: 'active',
      registeredAtHeight: 0,
      nonceRanges: [{ fromHeight: 0, count: 64, root }],
      activatedAtHeight: 0,
    });
    assert.equal(w.ledger.balance(bob, 'USD'), 10_000n);
    assert.equal(w.ledger.balance(escrow, 'USD'), 0n);
    assert.equal(
      w.state.get(producerKeys.nonceRange(producer, 0)),
      JSON.stringify({ committedAtHeight: 0, count: 64, fromHeight: 0, root, tx: null }),
    );
    assert.equal(w.state.get(producerKeys.active), JSON.stringify([{ operator: bob, producer }]));
  });

  it('takes a bond below bondMin, and still bounds the range', () => {
    const w = world();
    const payload = { ...registerPayload(), bond: 1n, nonces: { fromHeight: 0, count: 64, root } };
    assert.equal(registerProducer(genesisContext(w), payload, true), undefined);
    assert.equal(w.ledger.balance(escrow, 'USD'), 1n);
    const large = world();
    const tooLarge = { ...payload, nonces: { fromHeight: 0, count: 65, root } };
    assert.equal(registerProducer(genesisContext(large), tooLarge, true), 'nonce_range_too_large');
  });

  it('as a tx (not genesis), the same payload is refused below bondMin and from height 0', () => {
    const w = world();
    const base = { ...registerPayload(), nonces: { fromHeight: 0, count: 64, root } };
    const ctx = genesisContext(w);
    assert.equal(registerProducer(ctx, { ...base, bond: 999n }), 'bond_too_low');
    assert.equal(registerProducer(ctx, { ...base, bond: 1000n }), 'nonce_range_in_past');
  });
});

describe('producer.commitNonces', () => {
  /** alice's producer with the range [2, 18) committed, in `status`. */
  function committed(fields: Partial<ProducerRecord> = {}): World {
    const w = world();
    writeProducer(w.state, producerRecord(fields));
    return w;
  }

  const range = (fromHeight: number, count = 16) => ({ producer, fromHeight, count, root });

  it('appends a contiguous range, writes its history entry and says so', () => {
    const w = committed();
    assert.equal(run(w, 'producer.commitNonces', range(18), context(w, 10)), 'ok');
    assert.deepEqual(readProducer(w.state, producer)?.nonceRanges, [
      { fromHeight: 2, count: 16, root },
      { fromHeight: 18, count: 16, root },
    ]);
    assert.equal(
      w.state.get(producerKeys.nonceRange(producer, 18)),
      JSON.stringify({ committedAtHeight: 10, count: 16, fromHeight: 18, root, tx: txHash }),
    );
    assert.deepEqual(w.events, [
      {
        type: 'producer.noncesCommitted',
        data: { producer, fromHeight: 18, count: 16, root },
      },
    ]);
  });

  it('is open to active and pending producers and to those jailed for downtime only', () => {
    const jail = {
      reason: 'downtime' as const,
      jailedAtHeight: 8,
      lastSeenHeight: 2,
      releaseHeight: 20,
    };
    const cases: [Partial<ProducerRecord>, string][] = [
      [{ status: 'active' }, 'ok'],
      [{ status: 'pending', approvals: [] }, 'ok'],
      [{ status: 'jailed', jail }, 'ok'],
      [{ status: 'jailed', equivocation }, 'producer_not_active'],
      [{ status: 'unbonding', unbondAtHeight: 20 }, 'producer_not_active'],
      [{ status: 'unbonded' }, 'producer_not_active'],
    ];
    for (const [fields, code] of cases) {
      const w = committed(fields);
      assert.equal(run(w, 'producer.commitNonces', range(18), context(w, 10)), code, fields.status);
    }
  });

  it('rejections, in precedence order, each with the later faults present', () => {
    const cases: [string, World, Record<string, unknown>, string][] = [
      ['registry_not_initialized', world(false), range(19, 65), bob],
      ['producer_not_found', world(), range(19, 65), bob],
      ['not_producer_operator', committed({ status: 'unbonded' }), range(19, 65), bob],
      ['producer_not_active', committed({ status: 'unbonded' }), range(19, 65), alice],
      ['nonce_range_too_large', committed(), { ...range(10, 65) }, alice],
      ['nonce_range_in_past', committed(), range(10), alice],
      ['nonce_range_not_contiguous', committed(), range(19), alice],
      ['ok', committed(), range(18, 64), alice],
    ];
    for (const [code, w, payload, sender] of cases) {
      assert.equal(run(w, 'producer.commitNonces', payload, context(w, 10, sender)), code, code);
    }
  });

  it('a range starts above the current height: at height + 1, not at height', () => {
    // The last range [2, 18) ended at 17: any start above the height is contiguous enough.
    const w = committed();
    assert.equal(run(w, 'producer.commitNonces', range(20), context(w, 20)), 'nonce_range_in_past');
    assert.equal(run(w, 'producer.commitNonces', range(21), context(w, 20)), 'ok');
  });

  it('contiguity binds while the last range lasts: up to its last height, not after', () => {
    // [2, 18): height 17 is its last; at 17 a range must start at 18, at 18 anywhere above.
    const lasting = committed();
    const ctx17 = context(lasting, 17);
    assert.equal(
      run(lasting, 'producer.commitNonces', range(19), ctx17),
      'nonce_range_not_contiguous',
    );
    const ended = committed();
    assert.equal(run(ended, 'producer.commitNonces', range(19), context(ended, 18)), 'ok');
    assert.deepEqual(readProducer(ended.state, producer)?.nonceRanges, [
      { fromHeight: 19, count: 16, root },
    ]);
  });

  it('a producer left with no range commits anywhere above the height', () => {
    const w = committed({ nonceRanges: [] });
    assert.equal(run(w, 'producer.commitNonces', range(40), context(w, 10)), 'ok');
    assert.deepEqual(readProducer(w.state, producer)?.nonceRanges, [
      { fromHeight: 40, count: 16, root },
    ]);
  });

  it('counts the ranges wholly ahead of the height against nonceRangesAheadMax (2)', () => {
    const w = committed();
    assert.equal(run(w, 'producer.commitNonces', range(18), context(w, 1)), 'ok');
    // At height 1 both [2, 18) and [18, 34) lie ahead: a third is one too many.
    assert.equal(
      run(w, 'producer.commitNonces', range(34), context(w, 1)),
      'too_many_nonce_ranges',
    );
    // At height 2 the first has begun: one range ahead, room for another.
    assert.equal(run(w, 'producer.commitNonces', range(34), context(w, 2)), 'ok');
    assert.equal(
      run(w, 'producer.commitNonces', range(50), context(w, 2)),
      'too_many_nonce_ranges',
    );
  });

  it('prunes ranges that ended before the height, keeping the last one', () => {
    const w = committed({
      nonceRanges: [
        { fromHeight: 2, count: 16, root },
        { fromHeight: 18, count: 16, root },
      ],
    });
    // At height 18 the range [2, 18) has ended; [18, 34) is current.
    assert.equal(run(w, 'producer.commitNonces', range(34), context(w, 18)), 'ok');
    assert.deepEqual(
      readProducer(w.state, producer)?.nonceRanges.map((r) => r.fromHeight),
      [18, 34],
    );
    // At height 17 nothing has ended yet.
    const early = committed({
      nonceRanges: [
        { fromHeight: 2, count: 16, root },
        { fromHeight: 18, count: 16, root },
      ],
    });
    assert.equal(run(early, 'producer.commitNonces', range(34), context(early, 17)), 'ok');
    assert.deepEqual(
      readProducer(early.state, producer)?.nonceRanges.map((r) => r.fromHeight),
      [2, 18, 34],
    );
  });
});

describe('producer.unbond', () => {
  function bonded(fields: Partial<ProducerRecord> = {}): World {
    const w = world();
    writeProducer(w.state, producerRecord({ bond: '4000', ...fields }));
    return w;
  }

  it('starts the unbonding period: out of the active set, listed for its end height', () => {
    const w = bonded();
    // Listed first though it sorts after the producer: the list is kept sorted.
    const other = [7, 8, 9, 10, 11].map(account).find((a) => a > producer)!;
    w.state.set(producerKeys.unbonding(30), JSON.stringify([other]));
    assert.equal(run(w, 'producer.unbond', { producer }, context(w, 20)), 'ok');
    assert.deepEqual(
      readProducer(w.state, producer),
      producerRecord({
        bond: '4000',
        status: 'unbonding',
        unbondAtHeight: 30,
      }),
    );
    assert.deepEqual(readUnbonding(w.state, 30), [producer, other]);
    assert.equal(w.state.get(producerKeys.active), '[]');
    assert.deepEqual(w.events, [
      { type: 'producer.unbonding', data: { producer, unbondAtHeight: 30 } },
    ]);
  });

  it('a producer jailed for downtime may unbond, and its jail ends', () => {
    const jail = {
      reason: 'downtime' as const,
      jailedAtHeight: 8,
      lastSeenHeight: 2,
      releaseHeight: 20,
    };
    const w = bonded({ status: 'jailed', jail });
    assert.equal(run(w, 'producer.unbond', { producer }, context(w, 12)), 'ok');
    const record = readProducer(w.state, producer)!;
    assert.equal(record.status, 'unbonding');
    assert.equal(record.unbondAtHeight, 22);
    assert.equal('jail' in record, false);
  });

  it('rejections, in precedence order', () => {
    const cases: [string, World, string][] = [
      ['registry_not_initialized', world(false), bob],
      ['producer_not_found', world(), bob],
      ['not_producer_operator', bonded({ status: 'pending' }), bob],
      ['producer_not_active', bonded({ status: 'pending' }), alice],
      ['producer_not_active', bonded({ status: 'unbonding', unbondAtHeight: 25 }), alice],
      ['producer_not_active', bonded({ status: 'unbonded' }), alice],
      ['producer_not_active', bonded({ status: 'jailed', equivocation }), alice],
    ];
    for (const [code, w, sender] of cases) {
      assert.equal(run(w, 'producer.unbond', { producer }, context(w, 20, sender)), code, code);
      assert.deepEqual(w.events, []);
    }
  });
});
