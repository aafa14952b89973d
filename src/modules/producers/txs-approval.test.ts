import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { deriveAddress } from '../../crypto/index.js';
import { Ledger } from '../../ledger/index.js';
import { StateView } from '../../state/index.js';
import { producerEscrowAddress } from './schema.js';
import {
  readActiveMembers,
  readProducer,
  readProducerCount,
  readSeen,
  writeParams,
  writeProducer,
  type ProducerRecord,
  type RegistryParams,
} from './state.js';
import { approvalsReachQuorum } from './txs.js';
import { account, executeTx, root, txContext, txParams, type World } from './txs-fixture.js';

/*
 * txs.ts on its own, against a bare state view and ledger: approval into the validator set (the
 * two-thirds threshold at its bound), withdrawal of a pending registration, unjailing after
 * downtime and the claim of a bond a freeze kept back. Records and events read whole.
 */

const params: RegistryParams = { ...txParams, activeProducersMax: 5 };
const issuer = account(1);
const alice = account(2);
const outsider = account(3);
/** Operators of the validators v0..v4 (producers `validator/<i>`). */
const operators = [10, 11, 12, 13, 14].map(account);
const validatorIds = operators.map((_, i) => deriveAddress('test/validator', String(i)));
const producer = deriveAddress('test/producer', 'candidate');
const escrow = producerEscrowAddress(producer);

function record(id: string, operator: string, fields: Partial<ProducerRecord>): ProducerRecord {
  return {
    id,
    publicKey: 'ee'.repeat(32),
    operator,
    hiddenInfo: 'aa'.repeat(40),
    commitment: 'bb'.repeat(32),
    bond: '0',
    status: 'active',
    registeredAtHeight: 0,
    nonceRanges: [{ fromHeight: 0, count: 64, root }],
    activatedAtHeight: 0,
    ...fields,
  };
}

/**
 * A registry with `validators` active validators (v0.. operated by operators[i]) and alice's
 * candidate as `candidate` says (bond 4000 in escrow), or no candidate.
 */
function world(
  validators: number,
  candidate?: Partial<ProducerRecord>,
  options: { registry?: boolean; activeProducersMax?: number } = {},
): World {
  const state = new StateView({ get: () => undefined });
  const ledger = new Ledger(state);
  assert.equal(ledger.createAsset(issuer, { symbol: 'USD', decimals: 2 }), undefined);
  if (options.registry !== false) {
    writeParams(state, { ...params, activeProducersMax: options.activeProducersMax ?? 5 });
  }
  for (let i = 0; i < validators; i++) {
    writeProducer(state, record(validatorIds[i]!, operators[i]!, {}));
  }
  if (candidate) {
    assert.equal(ledger.mint(issuer, 'USD', escrow, 4_000n), undefined);
    writeProducer(state, record(producer, alice, { bond: '4000', ...candidate }));
  }
  return { state, ledger, events: [] };
}

function run(w: World, type: string, sender: string, height = 20): string {
  return executeTx(type, { producer }, txContext(w, height, sender));
}

const pending = (approvals: string[] = []) => ({
  status: 'pending' as const,
  approvals,
  activatedAtHeight: undefined,
});

describe('approvalsReachQuorum', () => {
  it('is more than two thirds of the validators’ operators: 3 of 4, not 2 of 3', () => {
    const set = (n: number) => new Set(operators.slice(0, n));
    assert.equal(approvalsReachQuorum(operators.slice(0, 2), set(3)), false);
    assert.equal(approvalsReachQuorum(operators.slice(0, 3), set(3)), true);
    assert.equal(approvalsReachQuorum(operators.slice(0, 2), set(4)), false);
    assert.equal(approvalsReachQuorum(operators.slice(0, 3), set(4)), true);
    assert.equal(approvalsReachQuorum(operators.slice(0, 1), set(1)), true);
    assert.equal(approvalsReachQuorum([], set(1)), false);
    // With no validators nothing activates: 0 is not more than 0.
    assert.equal(approvalsReachQuorum([], new Set()), false);
  });

  it('counts only approvals of current operators', () => {
    const set = new Set(operators.slice(0, 3));
    assert.equal(approvalsReachQuorum([operators[0]!, operators[1]!, outsider], set), false);
    assert.equal(approvalsReachQuorum([outsider, account(4), account(5)], set), false);
  });

  it('agrees with the exact rule 3 * counted > 2 * validators for any approvals', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }),
        fc.subarray(operators),
        fc.integer({ min: 0, max: 3 }),
        (size, approving, strangers) => {
          const set = new Set(operators.slice(0, size));
          const approvals = [...approving, ...[4, 5, 6].slice(0, strangers).map(account)];
          const counted = approving.filter((o) => set.has(o)).length;
          assert.equal(approvalsReachQuorum(approvals, set), 3 * counted > 2 * size);
        },
      ),
    );
  });
});

describe('producer.approve', () => {
  it('records an approval below the threshold, sorted, and says how far it got', () => {
    // The approver sorts before the approval already recorded: appended, then sorted.
    const [first, second] = [operators[0]!, operators[3]!].sort();
    const w = world(4, pending([second!]));
    assert.equal(run(w, 'producer.approve', first!), 'ok');
    const stored = readProducer(w.state, producer)!;
    assert.equal(stored.status, 'pending');
    assert.deepEqual(stored.approvals, [first, second]);
    assert.deepEqual(w.events, [
      {
        type: 'producer.approved',
        data: { producer, approver: first, approvals: 2, validators: 4 },
      },
    ]);
    assert.equal(readSeen(w.state, producer), undefined);
  });

  it('a pending record with no approvals field (written before approvals) starts from none', () => {
    const w = world(4, { status: 'pending', activatedAtHeight: undefined });
    assert.equal(readProducer(w.state, producer)!.approvals, undefined);
    assert.equal(run(w, 'producer.approve', operators[2]!), 'ok');
    assert.deepEqual(readProducer(w.state, producer)!.approvals, [operators[2]]);
    assert.deepEqual(w.events, [
      {
        type: 'producer.approved',
        data: { producer, approver: operators[2], approvals: 1, validators: 4 },
      },
    ]);
  });

  it('activates at more than two thirds: the record, the active set, the downtime start', () => {
    const w = world(4, pending([operators[1]!, operators[2]!]));
    assert.equal(run(w, 'producer.approve', operators[0]!, 17), 'ok');
    assert.deepEqual(
      readProducer(w.state, producer),
      record(producer, alice, { bond: '4000', activatedAtHeight: 17 }),
    );
    assert.equal(readSeen(w.state, producer), 17);
    assert.deepEqual(
      readActiveMembers(w.state).map((m) => m.producer),
      [...validatorIds.slice(0, 4), producer].sort(),
    );
    assert.deepEqual(w.events, [
      {
        type: 'producer.activated',
        data: { producer, approver: operators[0], approvals: 3, validators: 4 },
      },
    ]);
  });

  it('approvals of operators who are no longer validators are not counted', () => {
    const w = world(3, pending([outsider, operators[1]!]));
    assert.equal(run(w, 'producer.approve', operators[0]!), 'ok');
    assert.equal(readProducer(w.state, producer)?.status, 'pending');
    assert.equal(w.events[0]?.data.approvals, 2);
    assert.deepEqual(readProducer(w.state, producer)?.approvals, [
      ...[outsider, operators[0]!, operators[1]!].sort(),
    ]);
  });

  it('a repeat is refused, unless the approvals recorded already reach the threshold', () => {
    const refused = world(4, pending([operators[0]!, operators[1]!]));
    assert.equal(run(refused, 'producer.approve', operators[0]!), 'approval_duplicate');
    // Three validators left, two of whom approved: not more than two thirds.
    const notYet = world(3, pending([operators[0]!, operators[1]!]));
    assert.equal(run(notYet, 'producer.approve', operators[1]!), 'approval_duplicate');
    // The set shrank to two: both approved, and the repeat activates without a new approval.
    const shrunk = world(2, pending([operators[0]!, operators[1]!]));
    assert.equal(run(shrunk, 'producer.approve', operators[1]!), 'ok');
    assert.equal(readProducer(shrunk.state, producer)?.status, 'active');
    assert.deepEqual(shrunk.events[0], {
      type: 'producer.activated',
      data: { producer, approver: operators[1], approvals: 2, validators: 2 },
    });
  });

  it('the active set is full at activeProducersMax, not one below', () => {
    const full = world(3, pending(), { activeProducersMax: 3 });
    assert.equal(run(full, 'producer.approve', operators[0]!), 'active_set_full');
    const room = world(3, pending([operators[1]!]), { activeProducersMax: 4 });
    assert.equal(run(room, 'producer.approve', operators[0]!), 'ok');
  });

  it('rejections, in precedence order, each with the later faults present', () => {
    const cases: [string, World, string][] = [
      ['registry_not_initialized', world(3, { status: 'active' }, { registry: false }), outsider],
      ['producer_not_found', world(3, undefined, { activeProducersMax: 3 }), outsider],
      ['producer_not_pending', world(3, { status: 'active' }, { activeProducersMax: 3 }), outsider],
      [
        'not_validator_operator',
        world(3, pending([outsider]), { activeProducersMax: 3 }),
        outsider,
      ],
      [
        'approval_duplicate',
        world(3, pending([operators[0]!]), { activeProducersMax: 3 }),
        operators[0]!,
      ],
      ['active_set_full', world(3, pending(), { activeProducersMax: 3 }), operators[0]!],
    ];
    for (const [code, w, sender] of cases) {
      const before = readProducer(w.state, producer);
      assert.equal(run(w, 'producer.approve', sender), code, code);
      assert.deepEqual(w.events, [], code);
      assert.deepEqual(readProducer(w.state, producer), before, code);
    }
  });
});

describe('producer.withdraw', () => {
  it('returns the bond at once to the operator and deletes the record, freeing its slot', () => {
    const w = world(1, pending([operators[0]!]));
    assert.equal(readProducerCount(w.state), 2);
    assert.equal(run(w, 'producer.withdraw', alice), 'ok');
    assert.equal(readProducer(w.state, producer), undefined);
    assert.equal(readProducerCount(w.state), 1);
    assert.equal(w.ledger.balance(alice, 'USD'), 4_000n);
    assert.equal(w.ledger.balance(escrow, 'USD'), 0n);
    assert.deepEqual(w.events, [
      { type: 'producer.withdrawn', data: { producer, operator: alice, bond: '4000' } },
    ]);
  });

  it('a zero bond moves nothing', () => {
    const w = world(1, { ...pending(), bond: '0' });
    assert.equal(run(w, 'producer.withdraw', alice), 'ok');
    assert.equal(w.ledger.balance(escrow, 'USD'), 4_000n);
    assert.equal(w.events[0]?.data.bond, '0');
  });

  it('rejections, in precedence order: not initialized, not found, not operator, not pending, frozen', () => {
    const frozen = world(1, pending());
    assert.equal(frozen.ledger.setFrozen(issuer, 'USD', alice, true), undefined);
    const cases: [string, World, string][] = [
      ['registry_not_initialized', world(1, { status: 'active' }, { registry: false }), outsider],
      ['producer_not_found', world(1), outsider],
      ['not_producer_operator', world(1, { status: 'active' }), outsider],
      ['producer_not_pending', world(1, { status: 'active' }), alice],
      ['account_frozen', frozen, alice],
    ];
    for (const [code, w, sender] of cases) {
      const before = readProducer(w.state, producer);
      assert.equal(run(w, 'producer.withdraw', sender), code, code);
      assert.deepEqual(w.events, [], code);
      assert.deepEqual(readProducer(w.state, producer), before, code);
    }
  });
});

describe('producer.unjail', () => {
  const jail = {
    reason: 'downtime' as const,
    jailedAtHeight: 8,
    lastSeenHeight: 2,
    releaseHeight: 20,
  };
  const jailed = { status: 'jailed' as const, jail, activatedAtHeight: 1 };

  it('from the release height: active again, its downtime window starting now', () => {
    const w = world(1, jailed);
    assert.equal(run(w, 'producer.unjail', alice, 20), 'ok');
    assert.deepEqual(
      readProducer(w.state, producer),
      record(producer, alice, { bond: '4000', activatedAtHeight: 20 }),
    );
    assert.equal(readSeen(w.state, producer), 20);
    assert.deepEqual(w.events, [
      { type: 'producer.unjailed', data: { producer, operator: alice } },
    ]);
  });

  it('one height before the release height is too early', () => {
    const w = world(1, jailed);
    assert.equal(run(w, 'producer.unjail', alice, 19), 'jail_not_expired');
  });

  it('the active set is full at activeProducersMax, not one below', () => {
    const full = world(2, jailed, { activeProducersMax: 2 });
    assert.equal(run(full, 'producer.unjail', alice), 'active_set_full');
    const room = world(2, jailed, { activeProducersMax: 3 });
    assert.equal(run(room, 'producer.unjail', alice), 'ok');
  });

  it('rejections, in precedence order', () => {
    const equivocation = {
      height: 4,
      headerHashes: ['11'.repeat(32), '22'.repeat(32)] as [string, string],
      info: null,
      infoRevealed: false,
      recordedAtHeight: 6,
      reporter: outsider,
      slashed: '0',
      burned: '0',
      reward: '0',
    };
    const full = { activeProducersMax: 1 };
    const cases: [string, World, string, number][] = [
      ['registry_not_initialized', world(1, jailed, { registry: false }), outsider, 5],
      ['producer_not_found', world(1), outsider, 5],
      ['not_producer_operator', world(1, { status: 'active' }, full), outsider, 5],
      ['producer_not_jailed', world(1, { status: 'active' }, full), alice, 5],
      [
        'jailed_for_equivocation',
        world(1, { status: 'jailed', equivocation, jail }, full),
        alice,
        5,
      ],
      ['jailed_for_equivocation', world(1, { status: 'jailed' }, full), alice, 5],
      ['jail_not_expired', world(1, jailed, full), alice, 5],
      ['active_set_full', world(1, jailed, full), alice, 25],
    ];
    for (const [code, w, sender, height] of cases) {
      const before = readProducer(w.state, producer);
      assert.equal(run(w, 'producer.unjail', sender, height), code, code);
      assert.deepEqual(w.events, [], code);
      assert.deepEqual(readProducer(w.state, producer), before, code);
    }
  });
});

describe('producer.claimBond', () => {
  it('pays the owed bond from escrow to the operator, once', () => {
    const w = world(1, { status: 'unbonded', bond: '0', bondOwed: '4000' });
    assert.equal(run(w, 'producer.claimBond', alice), 'ok');
    assert.equal(w.ledger.balance(alice, 'USD'), 4_000n);
    assert.equal(w.ledger.balance(escrow, 'USD'), 0n);
    assert.deepEqual(
      readProducer(w.state, producer),
      record(producer, alice, { status: 'unbonded', bond: '0' }),
    );
    assert.deepEqual(w.events, [
      { type: 'producer.bondClaimed', data: { producer, operator: alice, bond: '4000' } },
    ]);
    assert.equal(run(w, 'producer.claimBond', alice), 'no_bond_owed');
  });

  it('rejections, in precedence order', () => {
    const frozen = world(1, { status: 'unbonded', bond: '0', bondOwed: '4000' });
    assert.equal(frozen.ledger.setFrozen(issuer, 'USD', alice, true), undefined);
    const owed = { status: 'unbonded' as const, bond: '0', bondOwed: '4000' };
    const cases: [string, World, string][] = [
      ['registry_not_initialized', world(1, owed, { registry: false }), outsider],
      ['producer_not_found', world(1), outsider],
      ['not_producer_operator', world(1, { status: 'unbonded' }), outsider],
      ['no_bond_owed', world(1, { status: 'unbonded' }), alice],
      ['account_frozen', frozen, alice],
    ];
    for (const [code, w, sender] of cases) {
      const before = readProducer(w.state, producer);
      assert.equal(run(w, 'producer.claimBond', sender), code, code);
      assert.deepEqual(w.events, [], code);
      assert.deepEqual(readProducer(w.state, producer), before, code);
    }
  });
});
