import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { coordinatorsMax } from './schema.js';
import {
  readAlliance,
  readBank,
  readBankCount,
  readBankIdByNumber,
  readMember,
  readUserAccount,
} from './state.js';
import { approvedMember } from './txs-banks.js';
import { key, startTime, TxWorld } from './txs-fixture.js';

/*
 * txs-banks.ts, each handler run directly (parsed, executed, reverted when it rejects): the bank
 * record and its events read whole, every rejection in precedence order, each limit at the bound
 * and one past it.
 */

const coordinator = key(1);
const ann = key(2);
const ben = key(3);
const outsider = key(4);
const hash = (n: number) => n.toString(16).padStart(64, '0');
const none = { kind: 'none' };

/** A world with one bank coordinated by `coordinator`, ann approved and ben pending. */
function world() {
  const w = new TxWorld();
  const bankId = w.nextHash().slice(0, 16);
  assert.equal(
    w.run(coordinator, 'timebank.create', {
      name: 'Riverside',
      coordinators: [coordinator.address],
      policy: none,
      creditLimitMinutes: '60',
    }),
    'ok',
  );
  assert.equal(
    w.run(coordinator, 'timebank.addMember', { bankId, account: ann.address, userIdHash: hash(2) }),
    'ok',
  );
  assert.equal(w.run(ben, 'timebank.addMember', { bankId, userIdHash: hash(3) }), 'ok');
  return { w, bankId };
}

describe('timebank.create', () => {
  it('creates the bank under the first 16 hex digits of its tx hash, numbered, with its event', () => {
    const w = new TxWorld();
    w.time = startTime + 5;
    w.height = 7;
    const txHash = 'ab'.repeat(32);
    const payload = {
      name: 'Riverside',
      coordinators: [ann.address, coordinator.address],
      policy: { kind: 'expiry', expiryDays: 30 },
      creditLimitMinutes: '120',
    };
    assert.equal(w.run(outsider, 'timebank.create', payload, txHash), 'ok');
    const coordinators = [ann.address, coordinator.address].sort();
    const policy = { kind: 'expiry', expiryDays: 30, noticeDays: 7 };
    assert.deepEqual(readBank(w.state, 'abababababababab'), {
      id: 'abababababababab',
      name: 'Riverside',
      coordinators,
      policy,
      creditLimitMinutes: '120',
      salt: txHash,
      createdAt: startTime + 5,
      createdAtHeight: 7,
      issuedMinutes: '0',
      poolMinutes: '0',
      debtMinutes: '0',
      allianceInMinutes: '0',
      allianceOutMinutes: '0',
      nextLotNumber: 0,
      nextExchangeNumber: 0,
      nextListingNumber: 0,
      memberCount: 0,
    });
    assert.equal(readBankCount(w.state), 1);
    assert.equal(readBankIdByNumber(w.state, 0), 'abababababababab');
    assert.deepEqual(w.events, [
      {
        type: 'timebank.created',
        data: {
          bankId: 'abababababababab',
          name: 'Riverside',
          coordinators,
          policy,
          creditLimitMinutes: '120',
          salt: txHash,
        },
      },
    ]);
    assert.equal(w.run(outsider, 'timebank.create', payload, txHash), 'timebank_exists');
    assert.equal(readBankCount(w.state), 1);
  });
});

describe('timebank.setPolicy', () => {
  it('refuses a change that names nothing, before reading any bank', () => {
    const w = new TxWorld();
    assert.equal(
      w.run(outsider, 'timebank.setPolicy', { bankId: 'f'.repeat(16) }),
      'invalid_policy_change',
    );
    assert.equal(w.field, undefined);
  });

  it('changes only what it names, by a coordinator of an existing bank', () => {
    const { w, bankId } = world();
    assert.equal(
      w.run(coordinator, 'timebank.setPolicy', { bankId: 'f'.repeat(16), policy: none }),
      'timebank_not_found',
    );
    assert.equal(w.run(ann, 'timebank.setPolicy', { bankId, policy: none }), 'not_coordinator');

    const demurrage = { kind: 'demurrage', ratePerPeriodBasisPoints: 50, periodDays: 30 };
    assert.equal(w.run(coordinator, 'timebank.setPolicy', { bankId, policy: demurrage }), 'ok');
    assert.deepEqual(readBank(w.state, bankId)!.policy, demurrage);
    assert.equal(readBank(w.state, bankId)!.creditLimitMinutes, '60');
    assert.deepEqual(w.events, [
      {
        type: 'timebank.policyChanged',
        data: { bankId, policy: demurrage, creditLimitMinutes: '60', by: coordinator.address },
      },
    ]);

    assert.equal(
      w.run(coordinator, 'timebank.setPolicy', { bankId, creditLimitMinutes: '0' }),
      'ok',
    );
    assert.deepEqual(readBank(w.state, bankId)!.policy, demurrage);
    assert.equal(readBank(w.state, bankId)!.creditLimitMinutes, '0');
    assert.deepEqual(w.events[0]!.data, {
      bankId,
      policy: demurrage,
      creditLimitMinutes: '0',
      by: coordinator.address,
    });
  });
});

describe('timebank.addCoordinator and removeCoordinator', () => {
  it(`adds coordinators in sorted order up to ${coordinatorsMax}, refusing one more`, () => {
    const { w, bankId } = world();
    assert.equal(
      w.run(ann, 'timebank.addCoordinator', { bankId, account: ben.address }),
      'not_coordinator',
    );
    assert.equal(
      w.run(coordinator, 'timebank.addCoordinator', { bankId, account: coordinator.address }),
      'coordinator_exists',
    );
    const added = Array.from({ length: coordinatorsMax - 1 }, (_, i) => key(10 + i).address);
    for (const account of added) {
      assert.equal(w.run(coordinator, 'timebank.addCoordinator', { bankId, account }), 'ok');
      assert.deepEqual(w.events, [
        { type: 'timebank.coordinatorAdded', data: { bankId, account } },
      ]);
    }
    assert.deepEqual(
      readBank(w.state, bankId)!.coordinators,
      [coordinator.address, ...added].sort(),
    );
    assert.equal(
      w.run(coordinator, 'timebank.addCoordinator', { bankId, account: ann.address }),
      'too_many_coordinators',
    );
    // Already one of the full list: that is said first.
    assert.equal(
      w.run(coordinator, 'timebank.addCoordinator', { bankId, account: added[0]! }),
      'coordinator_exists',
    );
  });

  it('removes a coordinator but never the last one', () => {
    const { w, bankId } = world();
    assert.equal(
      w.run(coordinator, 'timebank.addCoordinator', { bankId, account: ann.address }),
      'ok',
    );
    assert.equal(
      w.run(ben, 'timebank.removeCoordinator', { bankId, account: ann.address }),
      'not_coordinator',
    );
    assert.equal(
      w.run(coordinator, 'timebank.removeCoordinator', { bankId, account: ben.address }),
      'coordinator_not_found',
    );
    assert.equal(
      w.run(ann, 'timebank.removeCoordinator', { bankId, account: coordinator.address }),
      'ok',
    );
    assert.deepEqual(readBank(w.state, bankId)!.coordinators, [ann.address]);
    assert.deepEqual(w.events, [
      { type: 'timebank.coordinatorRemoved', data: { bankId, account: coordinator.address } },
    ]);
    assert.equal(
      w.run(ann, 'timebank.removeCoordinator', { bankId, account: ann.address }),
      'last_coordinator',
    );
    assert.deepEqual(readBank(w.state, bankId)!.coordinators, [ann.address]);
  });
});

describe('timebank.addMember', () => {
  it('an applicant is pending and holds no identifier; a coordinator adds approved members', () => {
    const { w, bankId } = world();
    w.time = startTime + 9;
    assert.equal(w.run(outsider, 'timebank.addMember', { bankId, userIdHash: hash(4) }), 'ok');
    assert.deepEqual(readMember(w.state, bankId, outsider.address), {
      account: outsider.address,
      userIdHash: hash(4),
      status: 'pending',
      joinedAt: startTime + 9,
      lots: [],
      balanceMinutes: '0',
      debtMinutes: '0',
      givenMinutes: '0',
      receivedMinutes: '0',
      sentMinutes: '0',
      gotMinutes: '0',
    });
    assert.equal(readUserAccount(w.state, bankId, hash(4)), undefined);
    assert.deepEqual(w.events, [
      {
        type: 'timebank.memberAdded',
        data: { bankId, account: outsider.address, status: 'pending' },
      },
    ]);
    assert.equal(readMember(w.state, bankId, ann.address)!.status, 'approved');
    assert.equal(readUserAccount(w.state, bankId, hash(2)), ann.address);
    assert.equal(readBank(w.state, bankId)!.memberCount, 3);
  });

  it('a coordinator applying for itself is pending like anyone', () => {
    const { w, bankId } = world();
    assert.equal(w.run(coordinator, 'timebank.addMember', { bankId, userIdHash: hash(1) }), 'ok');
    assert.equal(readMember(w.state, bankId, coordinator.address)!.status, 'pending');
    assert.equal(readUserAccount(w.state, bankId, hash(1)), undefined);
  });

  it('refuses in precedence: no bank, not a coordinator, a member already, the identifier held', () => {
    const { w, bankId } = world();
    const add = (sender: typeof ann, account: string, userIdHash: string, id = bankId) =>
      w.run(sender, 'timebank.addMember', { bankId: id, account, userIdHash });
    assert.equal(add(ann, outsider.address, hash(2), 'f'.repeat(16)), 'timebank_not_found');
    assert.equal(add(ann, outsider.address, hash(2)), 'not_coordinator');
    assert.equal(add(coordinator, ann.address, hash(2)), 'member_exists');
    assert.equal(add(ben, ben.address, hash(9)), 'member_exists');
    assert.equal(add(coordinator, outsider.address, hash(2)), 'user_id_taken');
    // A pending applicant's identifier is not held: another may apply with it.
    assert.equal(add(outsider, outsider.address, hash(3)), 'ok');
    assert.equal(readBank(w.state, bankId)!.memberCount, 3);
  });
});

describe('timebank.approveMember and rejectMember', () => {
  it('approves a pending member, who then holds its identifier', () => {
    const { w, bankId } = world();
    assert.equal(
      w.run(coordinator, 'timebank.approveMember', { bankId, account: ben.address }),
      'ok',
    );
    assert.equal(readMember(w.state, bankId, ben.address)!.status, 'approved');
    assert.equal(readUserAccount(w.state, bankId, hash(3)), ben.address);
    assert.deepEqual(w.events, [
      { type: 'timebank.memberApproved', data: { bankId, account: ben.address } },
    ]);
  });

  it('refuses in precedence: no bank, not a coordinator, no member, approved, identifier taken', () => {
    const { w, bankId } = world();
    const approve = (sender: typeof ann, account: string, id = bankId) =>
      w.run(sender, 'timebank.approveMember', { bankId: id, account });
    assert.equal(approve(coordinator, ben.address, 'f'.repeat(16)), 'timebank_not_found');
    assert.equal(approve(ann, ben.address), 'not_coordinator');
    assert.equal(approve(coordinator, outsider.address), 'member_not_found');
    assert.equal(approve(coordinator, ann.address), 'member_already_approved');
    assert.equal(w.run(outsider, 'timebank.addMember', { bankId, userIdHash: hash(3) }), 'ok');
    assert.equal(approve(coordinator, ben.address), 'ok');
    assert.equal(approve(coordinator, outsider.address), 'user_id_taken');
    assert.equal(readMember(w.state, bankId, outsider.address)!.status, 'pending');
  });

  it('rejects a pending application: the record goes, the count drops, the account may apply again', () => {
    const { w, bankId } = world();
    assert.equal(
      w.run(ann, 'timebank.rejectMember', { bankId, account: ben.address }),
      'not_coordinator',
    );
    assert.equal(
      w.run(coordinator, 'timebank.rejectMember', { bankId, account: ann.address }),
      'member_already_approved',
    );
    assert.equal(
      w.run(coordinator, 'timebank.rejectMember', { bankId, account: ben.address }),
      'ok',
    );
    assert.equal(readMember(w.state, bankId, ben.address), undefined);
    assert.equal(readBank(w.state, bankId)!.memberCount, 1);
    assert.deepEqual(w.events, [
      {
        type: 'timebank.memberRejected',
        data: { bankId, account: ben.address, by: coordinator.address },
      },
    ]);
    assert.equal(
      w.run(coordinator, 'timebank.rejectMember', { bankId, account: ben.address }),
      'member_not_found',
    );
    assert.equal(w.run(ben, 'timebank.addMember', { bankId, userIdHash: hash(3) }), 'ok');
  });
});

describe('alliances', () => {
  /** Two banks: `bankId` coordinated by `coordinator`, `partnerId` by ann. */
  function two() {
    const { w, bankId } = world();
    const partnerId = w.nextHash().slice(0, 16);
    const create = {
      name: 'Hillside',
      coordinators: [ann.address],
      policy: none,
      creditLimitMinutes: '0',
    };
    assert.equal(w.run(ann, 'timebank.create', create), 'ok');
    return { w, bankId, partnerId };
  }
  const pair = (a: string, b: string) => (a < b ? [a, b] : [b, a]);

  it('refuses a bank allying with itself, naming partnerBankId', () => {
    const w = new TxWorld();
    const bankId = 'a'.repeat(16);
    for (const type of [
      'timebank.proposeAlliance',
      'timebank.acceptAlliance',
      'timebank.endAlliance',
    ]) {
      assert.equal(
        w.run(coordinator, type, { bankId, partnerBankId: bankId }),
        'invalid_partner_bank',
      );
      assert.equal(w.field, 'partnerBankId');
    }
  });

  it('proposes, accepts and ends, each with its record and event', () => {
    const { w, bankId, partnerId } = two();
    w.time = startTime + 100;
    assert.equal(
      w.run(coordinator, 'timebank.proposeAlliance', { bankId, partnerBankId: partnerId }),
      'ok',
    );
    assert.deepEqual(readAlliance(w.state, bankId, partnerId), {
      banks: pair(bankId, partnerId),
      status: 'proposed',
      proposedBy: bankId,
      proposedAt: startTime + 100,
    });
    const data = (by: string, from = bankId, to = partnerId) => ({
      bankId: from,
      partnerBankId: to,
      by,
    });
    assert.deepEqual(w.events, [
      { type: 'timebank.allianceProposed', data: data(coordinator.address) },
    ]);

    w.time = startTime + 200;
    assert.equal(
      w.run(ann, 'timebank.acceptAlliance', { bankId: partnerId, partnerBankId: bankId }),
      'ok',
    );
    assert.deepEqual(readAlliance(w.state, bankId, partnerId), {
      banks: pair(bankId, partnerId),
      status: 'active',
      proposedBy: bankId,
      proposedAt: startTime + 100,
      activeAt: startTime + 200,
    });
    assert.deepEqual(w.events, [
      { type: 'timebank.allianceAccepted', data: data(ann.address, partnerId, bankId) },
    ]);

    w.time = startTime + 300;
    assert.equal(
      w.run(coordinator, 'timebank.endAlliance', { bankId, partnerBankId: partnerId }),
      'ok',
    );
    assert.deepEqual(readAlliance(w.state, bankId, partnerId), {
      banks: pair(bankId, partnerId),
      status: 'ended',
      proposedBy: bankId,
      proposedAt: startTime + 100,
      activeAt: startTime + 200,
      endedAt: startTime + 300,
    });
    assert.deepEqual(w.events, [
      { type: 'timebank.allianceEnded', data: data(coordinator.address) },
    ]);
    // Ended: either bank may propose again; nothing is left to accept or end.
    assert.equal(
      w.run(ann, 'timebank.acceptAlliance', { bankId: partnerId, partnerBankId: bankId }),
      'alliance_not_found',
    );
    assert.equal(
      w.run(coordinator, 'timebank.endAlliance', { bankId, partnerBankId: partnerId }),
      'alliance_not_found',
    );
    assert.equal(
      w.run(ann, 'timebank.proposeAlliance', { bankId: partnerId, partnerBankId: bankId }),
      'ok',
    );
    assert.equal(readAlliance(w.state, bankId, partnerId)!.proposedBy, partnerId);
  });

  it('refuses a proposal in precedence: no bank, not a coordinator, no partner, one open', () => {
    const { w, bankId, partnerId } = two();
    const propose = (sender: typeof ann, from: string, to: string) =>
      w.run(sender, 'timebank.proposeAlliance', { bankId: from, partnerBankId: to });
    assert.equal(propose(coordinator, 'f'.repeat(16), partnerId), 'timebank_not_found');
    assert.equal(propose(ann, bankId, partnerId), 'not_coordinator');
    assert.equal(propose(coordinator, bankId, 'f'.repeat(16)), 'partner_bank_not_found');
    assert.equal(propose(coordinator, bankId, partnerId), 'ok');
    assert.equal(propose(coordinator, bankId, partnerId), 'alliance_exists');
    assert.equal(propose(ann, partnerId, bankId), 'alliance_exists');
    assert.equal(
      w.run(ann, 'timebank.acceptAlliance', { bankId: partnerId, partnerBankId: bankId }),
      'ok',
    );
    assert.equal(propose(ann, partnerId, bankId), 'alliance_exists');
  });

  it('refuses an acceptance: none open, by the proposer, already active, by a non-coordinator', () => {
    const { w, bankId, partnerId } = two();
    const accept = (sender: typeof ann, from: string, to: string) =>
      w.run(sender, 'timebank.acceptAlliance', { bankId: from, partnerBankId: to });
    assert.equal(accept(ann, partnerId, bankId), 'alliance_not_found');
    assert.equal(
      w.run(coordinator, 'timebank.proposeAlliance', { bankId, partnerBankId: partnerId }),
      'ok',
    );
    assert.equal(accept(coordinator, partnerId, bankId), 'not_coordinator');
    assert.equal(accept(coordinator, 'f'.repeat(16), bankId), 'timebank_not_found');
    assert.equal(accept(coordinator, bankId, partnerId), 'own_alliance_proposal');
    assert.equal(accept(ann, partnerId, bankId), 'ok');
    assert.equal(accept(ann, partnerId, bankId), 'alliance_not_proposed');
    assert.equal(accept(coordinator, bankId, partnerId), 'alliance_not_proposed');
  });

  it('either bank ends a proposal (withdrawn or declined); a non-coordinator may not', () => {
    const { w, bankId, partnerId } = two();
    assert.equal(
      w.run(coordinator, 'timebank.proposeAlliance', { bankId, partnerBankId: partnerId }),
      'ok',
    );
    assert.equal(
      w.run(ben, 'timebank.endAlliance', { bankId, partnerBankId: partnerId }),
      'not_coordinator',
    );
    assert.equal(
      w.run(ann, 'timebank.endAlliance', { bankId: partnerId, partnerBankId: bankId }),
      'ok',
    );
    assert.equal(readAlliance(w.state, bankId, partnerId)!.status, 'ended');
    assert.equal(readAlliance(w.state, bankId, partnerId)!.activeAt, undefined);
  });
});

describe('approvedMember (what every member-only tx asks first)', () => {
  it('the record of an approved member; member_not_approved for a pending one; not_found else', () => {
    const { w, bankId } = world();
    const found = approvedMember({ state: w.state }, bankId, ann.address);
    assert.equal(typeof found === 'string' ? found : found.status, 'approved');
    assert.equal(approvedMember({ state: w.state }, bankId, ben.address), 'member_not_approved');
    assert.equal(approvedMember({ state: w.state }, bankId, outsider.address), 'member_not_found');
  });
});
