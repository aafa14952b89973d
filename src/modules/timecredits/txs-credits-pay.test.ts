import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  dayMs,
  lotsPerMemberMax,
  readBank,
  readLot,
  readMember,
  timecreditsKeys,
  writeLot,
  writeMember,
} from './state.js';
import {
  ann,
  bankIn,
  ben,
  cat,
  coordinator,
  issueTo,
  key,
  outsider,
  startTime,
  TxWorld,
  userHash,
  type TestKey,
} from './txs-fixture.js';

/*
 * txs-credits.ts: payments to many members (all or none, on credit past the payer's lots) and
 * transfers across allied banks (no credit; the lots arrive with their terms and an alliance
 * origin); records and events read whole, rejections in precedence order.
 */

const noBank = 'f'.repeat(16);
const stranger = key(6).address;
const member = (w: TxWorld, bankId: string, who: TestKey) =>
  readMember(w.state, bankId, who.address)!;

describe('timecredits.payMany', () => {
  /** A bank with credit limit 100 whose coordinator is also an approved member holding 50. */
  function world() {
    const w = new TxWorld();
    const bankId = bankIn(w, { kind: 'none' }, '100');
    // A coordinator applying for itself is pending until a coordinator (itself) approves it.
    assert.equal(
      w.run(coordinator, 'timebank.addMember', { bankId, userIdHash: userHash(1) }),
      'ok',
    );
    const self = { bankId, account: coordinator.address };
    assert.equal(w.run(coordinator, 'timebank.approveMember', self), 'ok');
    assert.equal(issueTo(w, bankId, coordinator, 50), 'ok');
    return { w, bankId };
  }
  const pay = (
    w: TxWorld,
    sender: TestKey,
    bankId: string,
    payments: [TestKey | string, number][],
  ) =>
    w.run(sender, 'timecredits.payMany', {
      bankId,
      payments: payments.map(([to, minutes]) => ({
        account: typeof to === 'string' ? to : to.address,
        minutes: String(minutes),
      })),
    });

  it('refuses in precedence: no bank, not a coordinator, not a member, itself, a payee not approved', () => {
    const { w, bankId } = world();
    assert.equal(w.run(outsider, 'timebank.addMember', { bankId, userIdHash: userHash(5) }), 'ok');
    assert.equal(pay(w, coordinator, noBank, [[ann, 1]]), 'timebank_not_found');
    assert.equal(pay(w, ann, bankId, [[ben, 1]]), 'not_coordinator');
    assert.equal(
      pay(w, coordinator, bankId, [
        [ann, 1],
        [coordinator, 1],
      ]),
      'accounts_must_be_different',
    );
    assert.equal(
      pay(w, coordinator, bankId, [
        [ann, 1],
        [stranger, 1],
      ]),
      'member_not_found',
    );
    assert.equal(
      pay(w, coordinator, bankId, [
        [ann, 1],
        [outsider, 1],
      ]),
      'member_not_approved',
    );
    const other = new TxWorld();
    const unpaid = bankIn(other);
    assert.equal(pay(other, coordinator, unpaid, [[ann, 1]]), 'member_not_found');
  });

  it('pays each in order from the lots, then on credit, with one event per payment', () => {
    const { w, bankId } = world();
    const txHash = w.nextHash();
    assert.equal(
      pay(w, coordinator, bankId, [
        [ben, 30],
        [ann, 45],
      ]),
      'ok',
    );
    assert.deepEqual(w.events, [
      {
        type: 'timecredits.transferred',
        data: {
          bankId,
          from: coordinator.address,
          to: ben.address,
          minutes: '30',
          onCreditMinutes: '0',
          repaidMinutes: '0',
          payment: 0,
        },
      },
      {
        type: 'timecredits.transferred',
        data: {
          bankId,
          from: coordinator.address,
          to: ann.address,
          minutes: '45',
          onCreditMinutes: '25',
          repaidMinutes: '0',
          payment: 1,
        },
      },
    ]);
    const payer = member(w, bankId, coordinator);
    assert.deepEqual(
      [payer.balanceMinutes, payer.debtMinutes, payer.sentMinutes],
      ['0', '25', '75'],
    );
    assert.deepEqual(
      [member(w, bankId, ben).balanceMinutes, member(w, bankId, ben).gotMinutes],
      ['30', '30'],
    );
    assert.deepEqual(
      [member(w, bankId, ann).balanceMinutes, member(w, bankId, ann).gotMinutes],
      ['45', '45'],
    );
    const credit = readLot(w.state, bankId, member(w, bankId, ann).lots.at(-1)!)!;
    assert.deepEqual([credit.amount, credit.origin], ['25', `credit:pay:${txHash}/1`]);
    assert.equal(readBank(w.state, bankId)!.debtMinutes, '25');
  });

  it('pays all or none: a payment past the credit limit undoes the earlier ones', () => {
    const { w, bankId } = world();
    assert.equal(
      pay(w, coordinator, bankId, [
        [ben, 100],
        [ann, 51],
      ]),
      'credit_limit_exceeded',
    );
    assert.equal(member(w, bankId, ben).balanceMinutes, '0');
    assert.equal(member(w, bankId, coordinator).balanceMinutes, '50');
    assert.equal(
      pay(w, coordinator, bankId, [
        [ben, 100],
        [ann, 50],
      ]),
      'ok',
    );
  });
});

describe('timecredits.transferAcross', () => {
  /** Two allied banks; ann holds 30 (expires day 10) and 50 (day 20) in the first. */
  function world(status: 'active' | 'proposed' | 'none' = 'active') {
    const w = new TxWorld();
    const bankId = bankIn(w, { kind: 'expiry', expiryDays: 10, noticeDays: 1 });
    const toBankId = bankIn(w, { kind: 'none' }, '100');
    assert.equal(issueTo(w, bankId, ann, 30), 'ok');
    w.time = startTime + 10 * dayMs;
    assert.equal(issueTo(w, bankId, ann, 50), 'ok');
    if (status !== 'none') {
      const alliance = { bankId, partnerBankId: toBankId };
      assert.equal(w.run(coordinator, 'timebank.proposeAlliance', alliance), 'ok');
      if (status === 'active') {
        const accept = { bankId: toBankId, partnerBankId: bankId };
        assert.equal(w.run(coordinator, 'timebank.acceptAlliance', accept), 'ok');
      }
    }
    return { w, bankId, toBankId };
  }
  const send = (w: TxWorld, sender: TestKey, fields: Record<string, unknown>) =>
    w.run(sender, 'timecredits.transferAcross', { to: ben.address, minutes: '10', ...fields });

  it('refuses in precedence: same bank, no bank, no partner, no active alliance, members', () => {
    const { w, bankId, toBankId } = world();
    assert.equal(send(w, ann, { bankId, toBankId: bankId }), 'invalid_partner_bank');
    assert.equal(w.field, 'toBankId');
    assert.equal(send(w, ann, { bankId: noBank, toBankId }), 'timebank_not_found');
    assert.equal(send(w, ann, { bankId, toBankId: noBank }), 'partner_bank_not_found');
    assert.equal(send(world('none').w, ann, { bankId, toBankId }), 'alliance_not_active');
    assert.equal(send(world('proposed').w, ann, { bankId, toBankId }), 'alliance_not_active');
    assert.equal(send(w, outsider, { bankId, toBankId }), 'member_not_found');
    assert.equal(send(w, ann, { bankId, toBankId, to: stranger }), 'member_not_found');
  });

  it('moves at most the unexpired lots: all of them, not one minute more, and no expired ones', () => {
    const { w, bankId, toBankId } = world();
    assert.equal(send(w, ann, { bankId, toBankId, minutes: '81' }), 'insufficient_credits');
    w.time = startTime + 10 * dayMs + 1;
    assert.equal(send(w, ann, { bankId, toBankId, minutes: '51' }), 'insufficient_credits');
    w.time = startTime + 10 * dayMs;
    assert.equal(send(w, ann, { bankId, toBankId, minutes: '80' }), 'ok');
    assert.deepEqual(member(w, bankId, ann).lots, []);
    assert.equal(member(w, toBankId, ben).balanceMinutes, '80');
  });

  it('sends lots as new lots of the other bank with their terms, repaying a debt there first', () => {
    const { w, bankId, toBankId } = world();
    // ben owes 15 in the other bank.
    assert.equal(
      w.run(cat, 'timecredits.recordExchange', {
        bankId: toBankId,
        recipient: ben.address,
        minutes: '15',
      }),
      'ok',
    );
    assert.equal(
      w.run(ben, 'timecredits.confirmExchange', { bankId: toBankId, exchange: 0 }),
      'ok',
    );
    const [first, second] = member(w, bankId, ann).lots.map((n) => readLot(w.state, bankId, n)!);
    const nextNumber = readBank(w.state, toBankId)!.nextLotNumber;
    assert.equal(send(w, ann, { bankId, toBankId, minutes: '40' }), 'ok');
    // 30 (whole) then 10 of the 50; the first 15 repay ben's debt, so 15 + 10 arrive.
    assert.equal(readLot(w.state, bankId, first!.number), undefined);
    assert.equal(readLot(w.state, bankId, second!.number)!.amount, '40');
    assert.deepEqual(member(w, bankId, ann).lots, [second!.number]);
    const arrived = member(w, toBankId, ben).lots.map((n) => readLot(w.state, toBankId, n)!);
    const origin = (o: string) => `alliance:${bankId}/${o}`;
    assert.deepEqual(arrived, [
      {
        ...first!,
        bankId: toBankId,
        number: nextNumber,
        owner: ben.address,
        amount: '15',
        origin: origin(first!.origin),
      },
      {
        ...second!,
        bankId: toBankId,
        number: nextNumber + 1,
        owner: ben.address,
        amount: '10',
        origin: origin(second!.origin),
      },
    ]);
    // New lots of the other bank: indexed there, so they lapse at their expiry.
    assert.equal(
      w.state.get(timecreditsKeys.expiry(first!.expiresAt!, toBankId, nextNumber)),
      'true',
    );
    assert.deepEqual(w.events, [
      {
        type: 'timecredits.transferredAcross',
        data: {
          bankId,
          toBankId,
          from: ann.address,
          to: ben.address,
          minutes: '40',
          lots: [nextNumber, nextNumber + 1],
          repaidMinutes: '15',
        },
      },
    ]);
    const [from, to] = [readBank(w.state, bankId)!, readBank(w.state, toBankId)!];
    assert.deepEqual([from.allianceOutMinutes, from.allianceInMinutes], ['40', '0']);
    assert.deepEqual(
      [to.allianceInMinutes, to.allianceOutMinutes, to.debtMinutes],
      ['40', '0', '0'],
    );
    const [sender, recipient] = [member(w, bankId, ann), member(w, toBankId, ben)];
    assert.deepEqual([sender.balanceMinutes, sender.sentMinutes], ['40', '40']);
    assert.deepEqual(
      [recipient.balanceMinutes, recipient.debtMinutes, recipient.gotMinutes],
      ['25', '0', '40'],
    );
  });

  it("settles demurrage in both banks first, under each lot's terms", () => {
    const w = new TxWorld();
    const demurrage = { kind: 'demurrage', ratePerPeriodBasisPoints: 1_000, periodDays: 1 };
    const bankId = bankIn(w, demurrage);
    const toBankId = bankIn(w, demurrage);
    assert.equal(
      w.run(coordinator, 'timebank.proposeAlliance', { bankId, partnerBankId: toBankId }),
      'ok',
    );
    assert.equal(
      w.run(coordinator, 'timebank.acceptAlliance', { bankId: toBankId, partnerBankId: bankId }),
      'ok',
    );
    assert.equal(issueTo(w, bankId, ann, 100), 'ok');
    assert.equal(issueTo(w, toBankId, ben, 200), 'ok');
    w.time = startTime + dayMs;
    assert.equal(send(w, ann, { bankId, toBankId, minutes: '91' }), 'insufficient_credits');
    assert.equal(send(w, ann, { bankId, toBankId, minutes: '90' }), 'ok');
    assert.equal(readBank(w.state, bankId)!.poolMinutes, '10');
    assert.equal(readBank(w.state, toBankId)!.poolMinutes, '20');
    assert.equal(member(w, toBankId, ben).balanceMinutes, '270');
  });

  it('passes on a refusal to receive, undoing the send: the recipient holds too many lots', () => {
    const { w, bankId, toBankId } = world();
    const lots = Array.from({ length: lotsPerMemberMax }, (_, i) => ({
      bankId: toBankId,
      number: 1_000 + i,
      owner: ben.address,
      amount: '1',
      baseTime: startTime + i,
      expiresAt: null,
      noticeAt: null,
      demurrage: null,
      demurragePeriodsCharged: 0,
      origin: `issue:r${i}`,
    }));
    for (const lot of lots) writeLot(w.state, lot);
    const benRecord = member(w, toBankId, ben);
    writeMember(w.state, toBankId, {
      ...benRecord,
      lots: lots.map((l) => l.number),
      balanceMinutes: String(lotsPerMemberMax),
    });
    assert.equal(send(w, ann, { bankId, toBankId }), 'too_many_lots');
    assert.equal(member(w, bankId, ann).balanceMinutes, '80');
    assert.equal(member(w, bankId, ann).lots.length, 2);
  });
});
