import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';

import {
  ModuleTestHarness,
  testAccount,
  type ModuleTestChain,
  type TestAccount,
} from '../../../test/support/module-chain.js';
import { ledgerModule, ModuleRegistry, type DecodedTx } from '../../chain/index.js';
import {
  dayMs,
  demurredValue,
  getExchange,
  getIssuance,
  getMember,
  getTimebank,
  hashUserId,
  lapsesPerBlockMax,
  memberStatement,
  readLot,
  timecreditsKeys,
  timecreditsModule,
  type LotRecord,
  type TimebankPolicy,
} from './index.js';

const harness = new ModuleTestHarness({
  name: 'timecredits',
  chainId: 'coffer-timecredits',
  registry: new ModuleRegistry([ledgerModule, timecreditsModule]),
});
after(() => harness.close());

const coordinator = testAccount(1);
const ann = testAccount(2);
const ben = testAccount(3);
const cat = testAccount(4);
const outsider = testAccount(5);
const members = [ann, ben, cat];

const genesis = harness.genesis({ assets: [], balances: [] });
const newChain = () => harness.open(genesis);
type Node = ModuleTestChain;

const userId = (a: TestAccount) => `user-${a.address.slice(-8)}@example.org`;

/** A policy as a payload carries it: an expiry policy may leave out `noticeDays` (default 7). */
type PolicyInput = TimebankPolicy | { kind: 'expiry'; expiryDays: number };

/** Creates a bank whose coordinator adds (and so approves) ann, ben and cat. */
function bankWith(node: Node, policy: PolicyInput, creditLimitMinutes = '0'): string {
  const create = node.tx(coordinator, 'timebank.create', {
    name: 'Riverside time bank',
    coordinators: [coordinator.address],
    policy,
    creditLimitMinutes,
  });
  assert.equal(node.produce([create]).receipts[0]!.status, 'ok');
  const bankId = create.hash.slice(0, 16);
  const salt = getTimebank(node.store, bankId)!.salt;
  const offsets = new Map<string, number>();
  const adds = members.map((m) =>
    node.tx(
      coordinator,
      'timebank.addMember',
      { bankId, account: m.address, userIdHash: hashUserId(salt, userId(m)) },
      offsets,
    ),
  );
  assert.deepEqual(
    node.produce(adds).receipts.map((r) => r.status),
    ['ok', 'ok', 'ok'],
  );
  return bankId;
}

let requests = 0;
function issue(node: Node, bankId: string, to: TestAccount, minutes: bigint | number): DecodedTx {
  requests += 1;
  return node.tx(coordinator, 'timecredits.issue', {
    bankId,
    account: to.address,
    minutes: minutes.toString(),
    requestId: `req-${requests}`,
  });
}

/** Records an exchange (provider -> recipient) in one block and confirms it in the next. */
function exchange(
  node: Node,
  bankId: string,
  provider: TestAccount,
  recipient: TestAccount,
  minutes: bigint | number,
  at?: number,
): string {
  const number = getTimebank(node.store, bankId)!.nextExchangeNumber;
  const recorded = node.run(provider, 'timecredits.recordExchange', {
    bankId,
    recipient: recipient.address,
    minutes: minutes.toString(),
  });
  assert.equal(recorded, 'ok');
  return node.run(recipient, 'timecredits.confirmExchange', { bankId, exchange: number }, at);
}

function lotsOf(node: Node, bankId: string, who: TestAccount): LotRecord[] {
  const member = getMember(node.store, bankId, who.address)!;
  return member.lots.map((n) => readLot(node.store, bankId, n)!);
}

function net(node: Node, bankId: string, who: TestAccount): bigint {
  const member = getMember(node.store, bankId, who.address)!;
  return BigInt(member.balanceMinutes) - BigInt(member.debtMinutes);
}

/**
 * The module's invariants over committed state: each member's lots exist, are its own, are
 * positive and sum to its balance; debts sum to the bank's; lots + pool - debts = issued.
 */
function audit(node: Node, bankId: string): void {
  const bank = getTimebank(node.store, bankId)!;
  let lots = 0n;
  let debts = 0n;
  for (const m of members) {
    const member = getMember(node.store, bankId, m.address)!;
    let sum = 0n;
    for (const lot of lotsOf(node, bankId, m)) {
      assert.equal(lot.owner, m.address, 'a listed lot belongs to its member');
      assert.ok(BigInt(lot.amount) > 0n, 'lots are positive');
      sum += BigInt(lot.amount);
    }
    assert.equal(sum, BigInt(member.balanceMinutes), 'the sum of the lots is the balance');
    assert.ok(BigInt(member.debtMinutes) <= BigInt(bank.creditLimitMinutes));
    lots += sum;
    debts += BigInt(member.debtMinutes);
  }
  assert.equal(debts, BigInt(bank.debtMinutes), 'member debts add up to the bank total');
  assert.equal(lots + BigInt(bank.poolMinutes) - debts, BigInt(bank.issuedMinutes));
}

const policies: fc.Arbitrary<PolicyInput> = fc.oneof(
  fc.constant({ kind: 'none' } as const),
  fc.integer({ min: 1, max: 5 }).map((expiryDays) => ({ kind: 'expiry', expiryDays }) as const),
  fc
    .record({
      ratePerPeriodBasisPoints: fc.integer({ min: 1, max: 5_000 }),
      periodDays: fc.integer({ min: 1, max: 3 }),
    })
    .map((d) => ({ kind: 'demurrage', ...d }) as const),
);

type Op =
  | { kind: 'issue'; to: number; minutes: number }
  | { kind: 'exchange'; provider: number; recipient: number; minutes: number }
  | { kind: 'wait'; hours: number };

const ops: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('issue' as const),
    to: fc.integer({ min: 0, max: 2 }),
    minutes: fc.integer({ min: 1, max: 600 }),
  }),
  fc
    .record({
      kind: fc.constant('exchange' as const),
      provider: fc.integer({ min: 0, max: 2 }),
      recipient: fc.integer({ min: 0, max: 2 }),
      minutes: fc.integer({ min: 1, max: 900 }),
    })
    .filter((o) => o.provider !== o.recipient),
  fc.record({ kind: fc.constant('wait' as const), hours: fc.integer({ min: 1, max: 72 }) }),
);

describe('timebank.create and coordinators', () => {
  it('creates a bank with its coordinators, policy, limit and salt', () => {
    const node = newChain();
    const bankId = bankWith(node, { kind: 'expiry', expiryDays: 30 }, '120');
    const bank = getTimebank(node.store, bankId)!;
    assert.equal(bank.name, 'Riverside time bank');
    assert.deepEqual(bank.coordinators, [coordinator.address]);
    // The old shape without noticeDays is accepted and stored with the default made explicit.
    assert.deepEqual(bank.policy, { kind: 'expiry', expiryDays: 30, noticeDays: 7 });
    assert.equal(bank.creditLimitMinutes, '120');
    assert.equal(bank.salt.slice(0, 16), bankId);
    assert.equal(bank.memberCount, 3);
  });

  it('rejects bad payloads at admission, naming the rule', () => {
    const good = {
      name: 'B',
      coordinators: [coordinator.address],
      policy: { kind: 'none' },
      creditLimitMinutes: '0',
    };
    const cases: [string, Record<string, unknown>][] = [
      ['invalid_bank_name', { name: '' }],
      ['invalid_bank_name', { name: 'x'.repeat(81) }],
      ['invalid_coordinators', { coordinators: [] }],
      ['invalid_coordinators', { coordinators: [coordinator.address, coordinator.address] }],
      ['invalid_policy', { policy: { kind: 'expiry', expiryDays: 0 } }],
      ['invalid_policy', { policy: { kind: 'expiry', expiryDays: 1.5 } }],
      ['invalid_policy', { policy: { kind: 'demurrage', ratePerPeriodBasisPoints: 10 } }],
      ['invalid_policy', { policy: { kind: 'none', expiryDays: 3 } }],
      ['invalid_credit_limit', { creditLimitMinutes: '-1' }],
      ['invalid_credit_limit', { creditLimitMinutes: '1000000001' }],
    ];
    for (const [code, override] of cases) {
      assert.equal(harness.parseStatus('timebank.create', { ...good, ...override }), code);
    }
    assert.equal(harness.parseStatus('timebank.create', good), undefined);
  });

  it('only coordinators change coordinators, and a bank keeps at least one', () => {
    const node = newChain();
    const bankId = bankWith(node, { kind: 'none' });
    const add = { bankId, account: ann.address };
    const byAnn = { bankId, account: ben.address, minutes: '60', requestId: 'by-ann' };
    assert.equal(node.run(ann, 'timecredits.issue', byAnn), 'not_coordinator');
    assert.equal(node.run(ann, 'timebank.addCoordinator', add), 'not_coordinator');
    assert.equal(node.run(coordinator, 'timebank.addCoordinator', add), 'ok');
    assert.equal(node.run(coordinator, 'timebank.addCoordinator', add), 'coordinator_exists');
    // The new coordinator may now issue and remove the first one.
    assert.equal(
      node.run(ann, 'timecredits.issue', {
        bankId,
        account: ben.address,
        minutes: '60',
        requestId: 'by-ann',
      }),
      'ok',
    );
    const remove = (who: TestAccount) => ({ bankId, account: who.address });
    assert.equal(node.run(ben, 'timebank.removeCoordinator', remove(ann)), 'not_coordinator');
    assert.equal(node.run(ann, 'timebank.removeCoordinator', remove(ben)), 'coordinator_not_found');
    assert.equal(node.run(ann, 'timebank.removeCoordinator', remove(coordinator)), 'ok');
    assert.equal(node.run(ann, 'timebank.removeCoordinator', remove(ann)), 'last_coordinator');
    assert.equal(
      node.run(coordinator, 'timebank.addCoordinator', remove(coordinator)),
      'not_coordinator',
    );
    assert.deepEqual(getTimebank(node.store, bankId)!.coordinators, [ann.address]);
  });
});

describe('members', () => {
  it('an applicant waits for a coordinator; only coordinators approve', () => {
    const node = newChain();
    const bankId = bankWith(node, { kind: 'none' });
    const salt = getTimebank(node.store, bankId)!.salt;
    const apply = { bankId, userIdHash: hashUserId(salt, 'dana@example.org') };
    assert.equal(node.run(outsider, 'timebank.addMember', apply), 'ok');
    assert.equal(getMember(node.store, bankId, outsider.address)!.status, 'pending');
    assert.equal(node.run(outsider, 'timebank.addMember', apply), 'member_exists');
    // Nobody but a coordinator adds someone else.
    assert.equal(
      node.run(ann, 'timebank.addMember', { ...apply, account: testAccount(9).address }),
      'not_coordinator',
    );
    assert.equal(
      node.produce([issue(node, bankId, outsider, 30)]).receipts[0]!.status,
      'member_not_approved',
    );
    const approve = { bankId, account: outsider.address };
    assert.equal(node.run(ann, 'timebank.approveMember', approve), 'not_coordinator');
    assert.equal(node.run(coordinator, 'timebank.approveMember', approve), 'ok');
    assert.equal(
      node.run(coordinator, 'timebank.approveMember', approve),
      'member_already_approved',
    );
    assert.equal(
      node.run(coordinator, 'timebank.approveMember', { bankId, account: testAccount(9).address }),
      'member_not_found',
    );
    assert.equal(node.produce([issue(node, bankId, outsider, 30)]).receipts[0]!.status, 'ok');
  });

  it('stores the identifier only as a salted hash, unique per bank', () => {
    const node = newChain();
    const bankId = bankWith(node, { kind: 'none' });
    const bank = getTimebank(node.store, bankId)!;
    const member = getMember(node.store, bankId, ann.address)!;
    assert.equal(member.userIdHash, hashUserId(bank.salt, userId(ann)));
    assert.ok(!JSON.stringify(member).includes(userId(ann)));
    assert.ok(!node.store.get(timecreditsKeys.user(bankId, member.userIdHash))!.includes('@'));
    // Another bank has another salt, so the same identifier hashes differently there.
    const other = bankWith(node, { kind: 'none' });
    assert.notEqual(getTimebank(node.store, other)!.salt, bank.salt);
    assert.notEqual(
      getMember(node.store, other, ann.address)!.userIdHash,
      member.userIdHash,
      'the same identifier hashes differently in another bank',
    );
    assert.equal(
      node.run(outsider, 'timebank.addMember', { bankId, userIdHash: member.userIdHash }),
      'user_id_taken',
    );
    // Issuance may name the member by the hash.
    const byHash = node.tx(coordinator, 'timecredits.issue', {
      bankId,
      userIdHash: member.userIdHash,
      minutes: '45',
      requestId: 'by-hash',
    });
    assert.equal(node.produce([byHash]).receipts[0]!.status, 'ok');
    assert.equal(getMember(node.store, bankId, ann.address)!.balanceMinutes, '45');
    const unknown = node.tx(coordinator, 'timecredits.issue', {
      bankId,
      userIdHash: hashUserId(bank.salt, 'nobody'),
      minutes: '45',
      requestId: 'nobody',
    });
    assert.equal(node.produce([unknown]).receipts[0]!.status, 'user_not_found');
  });
});

describe('identifiers are claimed at approval, not at application', () => {
  // dana is a newcomer whose email anyone can hash with the bank's public salt.
  const dana = testAccount(9);
  function bankForDana(node: Node): { bankId: string; danaHash: string } {
    const bankId = bankWith(node, { kind: 'none' });
    const salt = getTimebank(node.store, bankId)!.salt;
    return { bankId, danaHash: hashUserId(salt, 'dana@example.org') };
  }

  it('a squatter applying with dana hash does not stop the coordinator adding dana', () => {
    const node = newChain();
    const { bankId, danaHash } = bankForDana(node);
    assert.equal(node.run(outsider, 'timebank.addMember', { bankId, userIdHash: danaHash }), 'ok');
    assert.equal(node.store.get(timecreditsKeys.user(bankId, danaHash)), undefined);
    // Issuance by the hash does not reach the pending squatter.
    const byHash = node.tx(coordinator, 'timecredits.issue', {
      bankId,
      userIdHash: danaHash,
      minutes: '30',
      requestId: 'to-squatter',
    });
    assert.equal(node.produce([byHash]).receipts[0]!.status, 'user_not_found');
    // A second applicant with the same hash is fine while both are pending.
    assert.equal(
      node.run(testAccount(10), 'timebank.addMember', { bankId, userIdHash: danaHash }),
      'ok',
    );
    assert.equal(
      node.run(coordinator, 'timebank.addMember', {
        bankId,
        account: dana.address,
        userIdHash: danaHash,
      }),
      'ok',
    );
    assert.equal(getMember(node.store, bankId, dana.address)!.status, 'approved');
    assert.equal(getTimebank(node.store, bankId)!.memberCount, 6);
    // Approving a squatter afterwards is refused: dana holds the identifier.
    const approve = { bankId, account: outsider.address };
    assert.equal(node.run(coordinator, 'timebank.approveMember', approve), 'user_id_taken');
    assert.equal(getMember(node.store, bankId, outsider.address)!.status, 'pending');
    const again = node.tx(coordinator, 'timecredits.issue', {
      bankId,
      userIdHash: danaHash,
      minutes: '30',
      requestId: 'to-dana',
    });
    assert.equal(node.produce([again]).receipts[0]!.status, 'ok');
    assert.equal(getMember(node.store, bankId, dana.address)!.balanceMinutes, '30');
    assert.equal(getMember(node.store, bankId, outsider.address)!.balanceMinutes, '0');
  });

  it('approving the first of two applicants claims the hash; the second is refused', () => {
    const node = newChain();
    const { bankId, danaHash } = bankForDana(node);
    const other = testAccount(11);
    assert.equal(node.run(outsider, 'timebank.addMember', { bankId, userIdHash: danaHash }), 'ok');
    assert.equal(node.run(other, 'timebank.addMember', { bankId, userIdHash: danaHash }), 'ok');
    const approve = (a: TestAccount) =>
      node.run(coordinator, 'timebank.approveMember', { bankId, account: a.address });
    assert.equal(approve(other), 'ok');
    assert.equal(approve(outsider), 'user_id_taken');
    // Now the identifier is held: a new application with it is refused at once.
    assert.equal(
      node.run(testAccount(12), 'timebank.addMember', { bankId, userIdHash: danaHash }),
      'user_id_taken',
    );
    const byHash = node.tx(coordinator, 'timecredits.issue', {
      bankId,
      userIdHash: danaHash,
      minutes: '15',
      requestId: 'to-approved',
    });
    assert.equal(node.produce([byHash]).receipts[0]!.status, 'ok');
    assert.equal(getMember(node.store, bankId, other.address)!.balanceMinutes, '15');
  });

  it('rejectMember: coordinators remove a pending applicant, never an approved member', () => {
    const node = newChain();
    const { bankId, danaHash } = bankForDana(node);
    assert.equal(node.run(outsider, 'timebank.addMember', { bankId, userIdHash: danaHash }), 'ok');
    assert.equal(getTimebank(node.store, bankId)!.memberCount, 4);
    const reject = { bankId, account: outsider.address };
    assert.equal(node.run(ann, 'timebank.rejectMember', reject), 'not_coordinator');
    assert.equal(node.run(outsider, 'timebank.rejectMember', reject), 'not_coordinator');
    assert.equal(
      node.run(coordinator, 'timebank.rejectMember', { bankId, account: ann.address }),
      'member_already_approved',
    );
    assert.equal(
      node.run(coordinator, 'timebank.rejectMember', { bankId, account: dana.address }),
      'member_not_found',
    );
    assert.equal(
      node.run(coordinator, 'timebank.rejectMember', { ...reject, bankId: '0123456789abcdef' }),
      'timebank_not_found',
    );
    const rejected = node.produce([node.tx(coordinator, 'timebank.rejectMember', reject)]);
    assert.equal(rejected.receipts[0]!.status, 'ok');
    assert.deepEqual(rejected.receipts[0]!.events, [
      {
        type: 'timebank.memberRejected',
        data: { bankId, account: outsider.address, by: coordinator.address },
      },
    ]);
    assert.equal(getMember(node.store, bankId, outsider.address), undefined);
    assert.equal(getTimebank(node.store, bankId)!.memberCount, 3);
    assert.equal(node.run(coordinator, 'timebank.rejectMember', reject), 'member_not_found');
    // The account may apply again, and be approved.
    assert.equal(node.run(outsider, 'timebank.addMember', { bankId, userIdHash: danaHash }), 'ok');
    assert.equal(node.run(coordinator, 'timebank.approveMember', reject), 'ok');
    assert.equal(getTimebank(node.store, bankId)!.memberCount, 4);
    assert.equal(harness.parseStatus('timebank.rejectMember', { bankId }), 'invalid_address');
  });
});

describe('timecredits.issue', () => {
  it('creates a lot based at the block time, linked to its request and tx', () => {
    const node = newChain();
    const bankId = bankWith(node, { kind: 'expiry', expiryDays: 10 });
    const issued = issue(node, bankId, ann, 600);
    const requestId = (issued.tx.payload as { requestId: string }).requestId;
    assert.equal(node.produce([issued]).receipts[0]!.status, 'ok');
    const record = getIssuance(node.store, bankId, requestId)!;
    assert.equal(record.txHash, issued.hash);
    assert.equal(record.account, ann.address);
    const lot = readLot(node.store, bankId, record.lot!)!;
    assert.equal(lot.amount, '600');
    assert.equal(lot.baseTime, node.time);
    assert.equal(lot.expiresAt, node.time + 10 * dayMs);
    assert.equal(lot.origin, `issue:${requestId}`);
  });

  it('a duplicate requestId is rejected and issues nothing', () => {
    const node = newChain();
    const bankId = bankWith(node, { kind: 'none' });
    const payload = { bankId, account: ann.address, minutes: '60', requestId: 'r-1' };
    assert.equal(node.run(coordinator, 'timecredits.issue', payload), 'ok');
    assert.equal(node.run(coordinator, 'timecredits.issue', payload), 'duplicate_request');
    assert.equal(
      node.run(coordinator, 'timecredits.issue', { ...payload, account: ben.address }),
      'duplicate_request',
    );
    assert.equal(getTimebank(node.store, bankId)!.issuedMinutes, '60');
    assert.equal(getMember(node.store, bankId, ben.address)!.balanceMinutes, '0');
  });

  it('only a coordinator issues; payload rules are checked at admission', () => {
    const node = newChain();
    const bankId = bankWith(node, { kind: 'none' });
    const good = { bankId, account: ann.address, minutes: '60', requestId: 'x' };
    assert.equal(node.run(ann, 'timecredits.issue', good), 'not_coordinator');
    assert.equal(node.run(outsider, 'timecredits.issue', good), 'not_coordinator');
    const cases: [string, Record<string, unknown>][] = [
      ['invalid_bank_id', { bankId: 'XYZ' }],
      ['invalid_minutes', { minutes: '0' }],
      ['invalid_minutes', { minutes: '1.5' }],
      ['invalid_minutes', { minutes: '1000000001' }],
      ['invalid_request_id', { requestId: 'a b' }],
      ['invalid_request_id', { requestId: 'r'.repeat(65) }],
      ['invalid_issue_target', { userIdHash: '0'.repeat(64) }],
    ];
    for (const [code, override] of cases) {
      assert.equal(harness.parseStatus('timecredits.issue', { ...good, ...override }), code);
    }
    const { account: _account, ...neither } = good;
    assert.equal(harness.parseStatus('timecredits.issue', neither), 'invalid_issue_target');
  });
});

describe('exchanges', () => {
  it('moves minutes from recipient to provider once both confirmed', () => {
    const node = newChain();
    const bankId = bankWith(node, { kind: 'none' });
    node.produce([issue(node, bankId, ann, 600)]);
    // ben provides 3 hours to ann.
    assert.equal(
      node.run(ben, 'timecredits.recordExchange', {
        bankId,
        recipient: ann.address,
        minutes: '180',
        offer: 'Gardening',
      }),
      'ok',
    );
    assert.equal(getMember(node.store, bankId, ben.address)!.balanceMinutes, '0');
    const confirm = (who: TestAccount) =>
      node.run(who, 'timecredits.confirmExchange', { bankId, exchange: 0 });
    assert.equal(confirm(ben), 'already_confirmed', "the provider's record is its confirmation");
    assert.equal(confirm(cat), 'not_exchange_party');
    assert.equal(confirm(ann), 'ok');
    assert.equal(confirm(ann), 'already_confirmed');
    assert.equal(getExchange(node.store, bankId, 0)!.status, 'completed');
    assert.equal(net(node, bankId, ann), 420n);
    assert.equal(net(node, bankId, ben), 180n);
    const statement = memberStatement(node.store, bankId, ben.address, node.time)!;
    assert.equal(statement.givenMinutes, '180');
    assert.equal(
      memberStatement(node.store, bankId, ann.address, node.time)!.receivedMinutes,
      '180',
    );
    assert.equal(statement.lots[0]!.baseTime, lotsOf(node, bankId, ann)[0]!.baseTime);
    assert.equal(
      node.run(ann, 'timecredits.confirmExchange', { bankId, exchange: 7 }),
      'exchange_not_found',
    );
    assert.equal(
      node.run(ann, 'timecredits.recordExchange', {
        bankId,
        recipient: ann.address,
        minutes: '1',
      }),
      'accounts_must_be_different',
    );
    audit(node, bankId);
  });

  it('the recipient may go below zero down to the credit limit, and repays first', () => {
    const node = newChain();
    const bankId = bankWith(node, { kind: 'none' }, '120');
    node.produce([issue(node, bankId, ann, 30)]);
    assert.equal(exchange(node, bankId, ben, ann, 151), 'credit_limit_exceeded');
    assert.equal(net(node, bankId, ann), 30n, 'a failed confirmation moves nothing');
    assert.equal(exchange(node, bankId, ben, ann, 150), 'ok');
    assert.equal(net(node, bankId, ann), -120n);
    assert.equal(getMember(node.store, bankId, ann.address)!.debtMinutes, '120');
    assert.equal(exchange(node, bankId, cat, ann, 1), 'credit_limit_exceeded');
    // Minutes ann earns repay her debt before they become lots.
    assert.equal(exchange(node, bankId, ann, ben, 100), 'ok');
    assert.equal(getMember(node.store, bankId, ann.address)!.debtMinutes, '20');
    assert.deepEqual(lotsOf(node, bankId, ann), []);
    node.produce([issue(node, bankId, ann, 50)]);
    assert.equal(net(node, bankId, ann), 30n);
    audit(node, bankId);
  });
});

describe('expiry', () => {
  it('a lot lapses into the pool at the first block past its expiry, not before', () => {
    const node = newChain();
    const bankId = bankWith(node, { kind: 'expiry', expiryDays: 1 });
    node.produce([issue(node, bankId, ann, 90)]);
    const [lot] = lotsOf(node, bankId, ann);
    const receipts = node.produce([], lot!.expiresAt!).receipts;
    assert.equal(receipts.length, 0);
    assert.equal(getMember(node.store, bankId, ann.address)!.balanceMinutes, '90');
    // Still spendable at its expiry instant... but not one millisecond later.
    const expired = node.produce([], lot!.expiresAt! + 1);
    assert.deepEqual(expired.blockEvents, [
      {
        type: 'timecredits.expired',
        data: {
          bankId,
          lot: lot!.number,
          owner: ann.address,
          minutes: '90',
          baseTime: lot!.baseTime,
          expiresAt: lot!.expiresAt,
        },
      },
    ]);
    assert.equal(getMember(node.store, bankId, ann.address)!.balanceMinutes, '0');
    assert.equal(getTimebank(node.store, bankId)!.poolMinutes, '90');
    assert.equal(readLot(node.store, bankId, lot!.number), undefined);
  });

  it('carries lapses over to the next block past the per-block bound, never spending them', () => {
    const node = newChain();
    const bankId = bankWith(node, { kind: 'expiry', expiryDays: 1 }, '0');
    // 1,001 lots expiring together: 400 + 400 + 201 (a member holds at most 500).
    const split = [400, 400, lapsesPerBlockMax + 1 - 800];
    const offsets = new Map<string, number>();
    const txs = members.flatMap((m, i) =>
      Array.from({ length: split[i]! }, () => {
        requests += 1;
        return node.tx(
          coordinator,
          'timecredits.issue',
          { bankId, account: m.address, minutes: '1', requestId: `bulk-${requests}` },
          offsets,
        );
      }),
    );
    assert.ok(node.produce(txs).receipts.every((r) => r.status === 'ok'));
    const expiresAt = lotsOf(node, bankId, cat)[0]!.expiresAt!;
    // ben provides to cat in the block where the lots are expired but one has not lapsed yet.
    node.run(ben, 'timecredits.recordExchange', { bankId, recipient: cat.address, minutes: '1' });
    const number = getTimebank(node.store, bankId)!.nextExchangeNumber - 1;
    const confirm = node.tx(cat, 'timecredits.confirmExchange', { bankId, exchange: number });
    const receipts = node.produce([confirm], expiresAt + 1).receipts;
    assert.equal(receipts[0]!.status, 'credit_limit_exceeded', 'an expired lot is not spent');
    const pool = BigInt(getTimebank(node.store, bankId)!.poolMinutes);
    assert.equal(pool, BigInt(lapsesPerBlockMax));
    const left = members.reduce((sum, m) => sum + lotsOf(node, bankId, m).length, 0);
    assert.equal(left, 1);
    audit(node, bankId);
    node.produce([]);
    assert.equal(getTimebank(node.store, bankId)!.poolMinutes, String(lapsesPerBlockMax + 1));
    audit(node, bankId);
  });

  it('property: an expired lot is never spent, whatever the order of txs in the block', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 3 * dayMs }),
        fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 0, max: 1000 }),
        (old, fresh, late, payments, seed) => {
          const node = newChain();
          const bankId = bankWith(node, { kind: 'expiry', expiryDays: 1 });
          node.produce([issue(node, bankId, ann, old)]);
          const oldLot = lotsOf(node, bankId, ann)[0]!;
          node.produce([issue(node, bankId, ann, fresh)], node.time + dayMs / 2);
          const numbers = payments.map((minutes) => {
            const n = getTimebank(node.store, bankId)!.nextExchangeNumber;
            node.run(ben, 'timecredits.recordExchange', {
              bankId,
              recipient: ann.address,
              minutes: String(minutes),
            });
            return n;
          });
          const offsets = new Map<string, number>();
          // Rotate the confirmations by the seed: the order in the block varies.
          const order = numbers.map((_, i) => numbers[(i + seed) % numbers.length]!);
          const txs = order.map((n) =>
            node.tx(ann, 'timecredits.confirmExchange', { bankId, exchange: n }, offsets),
          );
          const time = oldLot.expiresAt! + late;
          node.produce(txs, time);
          const freshLeft = time > oldLot.baseTime + dayMs / 2 + dayMs ? 0 : fresh;
          // ben received only minutes based at the fresh lot's time, never the old lot's.
          for (const lot of lotsOf(node, bankId, ben)) {
            assert.notEqual(lot.baseTime, oldLot.baseTime);
          }
          const bank = getTimebank(node.store, bankId)!;
          assert.ok(BigInt(bank.poolMinutes) >= BigInt(old));
          assert.ok(net(node, bankId, ben) <= BigInt(freshLeft));
          audit(node, bankId);
        },
      ),
      { numRuns: 15 },
    );
  });
});

describe('demurrage', () => {
  it('property: never creates credit, and loses under one minute per lot per period', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 1_000_000_000n }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 120 }),
        (amount, rate, periods) => {
          const value = demurredValue(amount, rate, periods);
          const scale = 10_000n ** BigInt(periods);
          const exact = amount * (10_000n - BigInt(rate)) ** BigInt(periods);
          assert.ok(value >= 0n && value <= amount);
          // value <= exact value, and exact - value <= periods (in minutes).
          assert.ok(value * scale <= exact, 'never above the exact value');
          assert.ok(exact - value * scale <= BigInt(periods) * scale, 'at most 1 minute a period');
        },
      ),
      { numRuns: 500 },
    );
  });

  it('charges a lot at spend time; statements show the effective value', () => {
    const node = newChain();
    const policy = { kind: 'demurrage', ratePerPeriodBasisPoints: 1_000, periodDays: 1 } as const;
    const bankId = bankWith(node, policy);
    node.produce([issue(node, bankId, ann, 1000)]);
    const lot = lotsOf(node, bankId, ann)[0]!;
    const later = lot.baseTime + 2 * dayMs + 5;
    node.produce([], later);
    const statement = memberStatement(node.store, bankId, ann.address, later)!;
    assert.equal(statement.lots[0]!.effectiveMinutes, '810');
    assert.equal(statement.lots[0]!.ageDays, 2);
    assert.equal(statement.balanceMinutes, '1000', 'not charged until touched');
    assert.equal(exchange(node, bankId, ben, ann, 10), 'ok');
    assert.equal(getMember(node.store, bankId, ann.address)!.balanceMinutes, '800');
    assert.equal(getTimebank(node.store, bankId)!.poolMinutes, '190');
    const moved = lotsOf(node, bankId, ben)[0]!;
    assert.equal(moved.baseTime, lot.baseTime);
    assert.equal(moved.demurragePeriodsCharged, 2);
    audit(node, bankId);
  });
});

describe('properties over random histories', () => {
  it('lots sum to balances and credits are conserved under any policy and history', () => {
    fc.assert(
      fc.property(
        policies,
        fc.integer({ min: 0, max: 300 }),
        fc.array(ops, { minLength: 1, maxLength: 14 }),
        (policy, limit, history) => {
          const node = newChain();
          const bankId = bankWith(node, policy, String(limit));
          for (const op of history) {
            if (op.kind === 'issue')
              node.produce([issue(node, bankId, members[op.to]!, op.minutes)]);
            else if (op.kind === 'wait') node.produce([], node.time + op.hours * 3_600_000);
            else {
              const status = exchange(
                node,
                bankId,
                members[op.provider]!,
                members[op.recipient]!,
                op.minutes,
              );
              assert.ok(status === 'ok' || status === 'credit_limit_exceeded', status);
            }
            audit(node, bankId);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('base times survive any sequence of transfers and splits', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            to: fc.integer({ min: 0, max: 2 }),
            minutes: fc.integer({ min: 1, max: 500 }),
          }),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        fc.array(
          ops.filter((o) => o.kind === 'exchange'),
          { maxLength: 12 },
        ),
        (issues, history) => {
          const node = newChain();
          const bankId = bankWith(node, { kind: 'none' });
          const byBaseTime = new Map<number, bigint>();
          for (const { to, minutes } of issues) {
            node.produce([issue(node, bankId, members[to]!, minutes)]);
            byBaseTime.set(node.time, BigInt(minutes));
          }
          for (const op of history) {
            if (op.kind !== 'exchange') continue;
            exchange(node, bankId, members[op.provider]!, members[op.recipient]!, op.minutes);
          }
          const found = new Map<number, bigint>();
          for (const m of members) {
            for (const lot of lotsOf(node, bankId, m)) {
              found.set(lot.baseTime, (found.get(lot.baseTime) ?? 0n) + BigInt(lot.amount));
            }
          }
          // Without credit, expiry or demurrage every minute keeps the base time it was issued at.
          assert.deepEqual(
            [...found.entries()].sort(([a], [b]) => a - b),
            [...byBaseTime.entries()].sort(([a], [b]) => a - b),
          );
          audit(node, bankId);
        },
      ),
      { numRuns: 25 },
    );
  });
});
