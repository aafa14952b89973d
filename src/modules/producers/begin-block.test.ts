import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { BlockContext } from '../../chain/index.js';
import { producersBeginBlock } from './block-rules.js';
import { producerEscrowAddress } from './schema.js';
import {
  producerKeys,
  readActiveMembers,
  readProducer,
  readProducerCount,
  readSeen,
  readUnbonding,
  writeProducer,
  type ProducerRecord,
  type RegistryParams,
} from './state.js';
import {
  chainId,
  ids,
  issuer,
  operators,
  record,
  world,
  type World,
} from './block-rules-fixture.js';

/*
 * block-rules.ts's begin-block steps on their own, against a bare state view and ledger: bond
 * returns at the end of the unbonding period (a freeze makes them owed, any other refusal stops
 * the block), liveness and downtime jailing at the window's edge and the two-thirds proviso.
 * Records and events read whole. block-rules.test.ts has the params, genesis and block checks.
 */

function beginBlock(w: World, height: number, previousProducer = ids[0]!): void {
  const ctx: BlockContext = {
    chainId,
    height,
    time: 1_700_000_000_000,
    previousProducer,
    previousHash: '00'.repeat(32),
    state: w.state,
    ledger: w.ledger,
    emit: (type, data) => w.events.push({ type, data }),
  };
  producersBeginBlock(ctx);
}

describe('begin block: bond returns at the end of the unbonding period', () => {
  const escrow = producerEscrowAddress(ids[1]!);

  /** v1 unbonding until height 30 with a bond of 4000 in escrow (`held`, when short). */
  function unbonding(fields: Partial<ProducerRecord> = {}, held = 4_000n): World {
    const w = world({ downtimeWindowHeights: 0 });
    if (held > 0n) assert.equal(w.ledger.mint(issuer, 'USD', escrow, held), undefined);
    writeProducer(
      w.state,
      record(1, { status: 'unbonding', bond: '4000', unbondAtHeight: 30, ...fields }),
    );
    w.state.set(producerKeys.unbonding(30), JSON.stringify([ids[1]]));
    return w;
  }

  it('returns the bond to the operator at the height, and clears the list', () => {
    const w = unbonding();
    beginBlock(w, 29);
    assert.equal(w.ledger.balance(operators[1]!, 'USD'), 0n, 'not the height before');
    beginBlock(w, 30);
    assert.equal(w.ledger.balance(operators[1]!, 'USD'), 4_000n);
    assert.equal(w.ledger.balance(escrow, 'USD'), 0n);
    assert.deepEqual(
      readProducer(w.state, ids[1]!),
      record(1, { status: 'unbonded', bond: '0', unbondAtHeight: 30 }),
    );
    assert.deepEqual(w.events, [
      {
        type: 'producer.unbonded',
        data: { producer: ids[1], operator: operators[1], bond: '4000' },
      },
    ]);
    assert.equal(w.state.get(producerKeys.unbonding(30)), undefined);
    assert.deepEqual(readUnbonding(w.state, 30), []);
  });

  it('a zero bond moves nothing and still ends the unbonding', () => {
    const w = unbonding({ bond: '0' }, 0n);
    beginBlock(w, 30);
    assert.equal(readProducer(w.state, ids[1]!)?.status, 'unbonded');
    assert.deepEqual(w.events[0]?.data, { producer: ids[1], operator: operators[1], bond: '0' });
  });

  it('a frozen operator: the bond stays in escrow, owed (added to what was owed before)', () => {
    const w = unbonding({ bondOwed: '100' });
    assert.equal(w.ledger.setFrozen(issuer, 'USD', operators[1]!, true), undefined);
    beginBlock(w, 30);
    assert.equal(w.ledger.balance(escrow, 'USD'), 4_000n);
    assert.deepEqual(
      readProducer(w.state, ids[1]!),
      record(1, { status: 'unbonded', bond: '0', unbondAtHeight: 30, bondOwed: '4100' }),
    );
    assert.deepEqual(w.events, [
      {
        type: 'producer.bondBlocked',
        data: { producer: ids[1], operator: operators[1], bond: '4000', code: 'account_frozen' },
      },
    ]);
  });

  it('any other refusal is a bug: the block stops', () => {
    const w = unbonding({}, 3_999n);
    assert.throws(
      () => beginBlock(w, 30),
      (error: unknown) => {
        assert.ok(error instanceof assert.AssertionError);
        assert.equal(error.message, `releasing the bond of ${ids[1]}: insufficient_funds`);
        return true;
      },
    );
  });

  it('skips a producer jailed meanwhile, and one no longer registered', () => {
    const w = unbonding({ status: 'jailed' });
    w.state.set(producerKeys.unbonding(30), JSON.stringify([ids[0], ids[1]]));
    beginBlock(w, 30);
    assert.equal(readProducer(w.state, ids[1]!)?.status, 'jailed');
    assert.equal(w.ledger.balance(escrow, 'USD'), 4_000n);
    assert.deepEqual(w.events, []);
    assert.equal(w.state.get(producerKeys.unbonding(30)), undefined);
  });

  it('a height with no bonds to return (and liveness off) writes nothing', () => {
    const w = world({ downtimeWindowHeights: 0 });
    const before = [...w.state.writtenKeys()];
    beginBlock(w, 30, operators[0]);
    assert.deepEqual([...w.state.writtenKeys()], before);
  });

  it('does nothing on a chain without a registry', () => {
    const w = world(false);
    w.state.set(producerKeys.unbonding(30), JSON.stringify([ids[1]]));
    beginBlock(w, 30);
    assert.equal(w.state.get(producerKeys.unbonding(30)), JSON.stringify([ids[1]]));
  });
});

describe('begin block: liveness and downtime jailing', () => {
  /** `count` active validators, each last seen at `seen[i]` (never seen when undefined). */
  function validators(
    count: number,
    seen: (number | undefined)[],
    fields: Partial<RegistryParams> = {},
  ): World {
    const w = world(fields);
    for (let i = 0; i < count; i++) {
      writeProducer(w.state, record(i, { activatedAtHeight: 2 }));
      const height = seen[i];
      if (height !== undefined) w.state.set(producerKeys.seen(ids[i]!), String(height));
    }
    return w;
  }

  it('records the previous block’s producer as seen at the previous height', () => {
    const w = validators(2, [1, 1]);
    beginBlock(w, 9, ids[1]);
    assert.equal(readSeen(w.state, ids[1]!), 8);
    assert.equal(readSeen(w.state, ids[0]!), 1);
  });

  it('not at height 1 (block 0 is the genesis), and not for a producer outside the set', () => {
    const w = validators(2, [0, 0]);
    beginBlock(w, 1, ids[1]);
    assert.equal(readSeen(w.state, ids[1]!), 0);
    beginBlock(w, 2, ids[1]);
    assert.equal(readSeen(w.state, ids[1]!), 1);
    beginBlock(w, 3, ids[3]);
    assert.equal(readSeen(w.state, ids[3]!), undefined);
  });

  it('at height 1 the genesis producer is not recorded as seen at 0', () => {
    const w = validators(2, [undefined, undefined], { downtimeWindowHeights: 0 });
    beginBlock(w, 1, ids[1]);
    assert.equal(readSeen(w.state, ids[1]!), undefined);
    beginBlock(w, 2, ids[1]);
    assert.equal(readSeen(w.state, ids[1]!), 1);
  });

  it('a producer never seen counts from its activation, or from now when it has none', () => {
    const w = validators(2, [undefined, undefined]);
    writeProducer(w.state, record(1, { activatedAtHeight: undefined }));
    beginBlock(w, 9, ids[3]);
    assert.equal(readSeen(w.state, ids[0]!), 2);
    assert.equal(readSeen(w.state, ids[1]!), 8);
  });

  it('jails one of four whose last block is more than the window behind, not at the window', () => {
    // Window 20: at height 31 (previous 30) v3 seen at 10 is exactly 20 behind: not down.
    const w = validators(4, [30, 30, 30, 10]);
    beginBlock(w, 31, ids[0]);
    assert.equal(readProducer(w.state, ids[3]!)?.status, 'active');
    assert.deepEqual(w.events, []);
    // At height 32 (previous 31) it is 21 behind: jailed until 32 + 7.
    const late = validators(4, [31, 31, 31, 10]);
    beginBlock(late, 32, ids[0]);
    assert.deepEqual(
      readProducer(late.state, ids[3]!),
      record(3, {
        activatedAtHeight: 2,
        status: 'jailed',
        jail: { reason: 'downtime', jailedAtHeight: 32, lastSeenHeight: 10, releaseHeight: 39 },
      }),
    );
    assert.deepEqual(late.events, [
      {
        type: 'producer.jailed',
        data: {
          producer: ids[3],
          operator: operators[3],
          reason: 'downtime',
          lastSeenHeight: 10,
          releaseHeight: 39,
        },
      },
    ]);
    assert.deepEqual(
      readActiveMembers(late.state).map((m) => m.producer),
      ids.slice(0, 3).sort(),
    );
  });

  it('a producer exactly at the window counts as live for the two-thirds proviso', () => {
    // v2 is 20 behind (live, just), v3 21 (down): three of four live, so v3 is jailed.
    const w = validators(4, [31, 31, 11, 10]);
    beginBlock(w, 32, ids[0]);
    assert.equal(readProducer(w.state, ids[2]!)?.status, 'active');
    assert.equal(readProducer(w.state, ids[3]!)?.status, 'jailed');
    assert.deepEqual(
      w.events.map((e) => e.data.producer),
      [ids[3]],
    );
  });

  it('never jails when those seen are not more than two thirds: one of three down', () => {
    const w = validators(3, [31, 31, 10]);
    beginBlock(w, 32, ids[0]);
    assert.equal(readProducer(w.state, ids[2]!)?.status, 'active');
    assert.deepEqual(w.events, []);
  });

  it('a window of 0 turns the check off, and writes no first sighting', () => {
    const w = validators(4, [31, 31, 31, undefined], { downtimeWindowHeights: 0 });
    writeProducer(w.state, record(3, { activatedAtHeight: 0 }));
    beginBlock(w, 500, ids[0]);
    assert.equal(readProducer(w.state, ids[3]!)?.status, 'active');
    assert.equal(readSeen(w.state, ids[3]!), undefined);
    assert.equal(readSeen(w.state, ids[0]!), 499);
    assert.equal(readProducerCount(w.state), 4);
  });
});
