import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { sign, signingMessage, toHex } from '../../crypto/index.js';
import { issuanceRequestHash, type IssuanceRequestFields } from './schema.js';
import {
  dayMs,
  readBank,
  readExchange,
  readIssuance,
  readListing,
  readLot,
  readMember,
  timecreditsKeys,
  writeExchange,
  writeMember,
} from './state.js';
import {
  ann,
  bankIn,
  ben,
  cat,
  chainId,
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
 * txs-credits.ts, each handler run directly: issuance (by a coordinator, or relayed with a
 * signature over exactly the request), listings and exchanges; records and events read whole,
 * rejections in precedence order.
 */

const noBank = 'f'.repeat(16);
const stranger = key(6).address;

function signed(signer: TestKey, fields: IssuanceRequestFields) {
  const hash = issuanceRequestHash(fields);
  return toHex(sign(signingMessage('issuanceRequest', hash), signer.secretKey));
}

describe('timecredits.issue', () => {
  it('names the member by exactly one of account and userIdHash', () => {
    const w = new TxWorld();
    const bankId = bankIn(w);
    const base = { bankId, minutes: '5', requestId: 'r1' };
    assert.equal(w.run(coordinator, 'timecredits.issue', base), 'invalid_issue_target');
    assert.equal(
      w.run(coordinator, 'timecredits.issue', {
        ...base,
        account: ann.address,
        userIdHash: userHash(2),
      }),
      'invalid_issue_target',
    );
  });

  it('issues a lot under the current policy: record, member, bank and event', () => {
    const w = new TxWorld();
    const bankId = bankIn(w, { kind: 'expiry', expiryDays: 10, noticeDays: 2 });
    w.time = startTime + 77;
    const payload = { bankId, userIdHash: userHash(2), minutes: '90', requestId: 'r-1' };
    const txHash = w.nextHash();
    assert.equal(w.run(coordinator, 'timecredits.issue', payload), 'ok');
    const lot = readMember(w.state, bankId, ann.address)!.lots[0]!;
    assert.deepEqual(readLot(w.state, bankId, lot), {
      bankId,
      number: lot,
      owner: ann.address,
      amount: '90',
      baseTime: startTime + 77,
      expiresAt: startTime + 77 + 10 * dayMs,
      noticeAt: startTime + 77 + 8 * dayMs,
      demurrage: null,
      demurragePeriodsCharged: 0,
      origin: 'issue:r-1',
    });
    assert.equal(readMember(w.state, bankId, ann.address)!.balanceMinutes, '90');
    // Indexed, so it lapses at its expiry and gets its notice.
    const expiry = timecreditsKeys.expiry(startTime + 77 + 10 * dayMs, bankId, lot);
    assert.equal(w.state.get(expiry), 'true');
    assert.equal(
      w.state.get(timecreditsKeys.notice(startTime + 77 + 8 * dayMs, bankId, lot)),
      'true',
    );
    assert.equal(readBank(w.state, bankId)!.issuedMinutes, '90');
    const record = {
      requestId: 'r-1',
      txHash,
      account: ann.address,
      minutes: '90',
      lot,
      repaidMinutes: '0',
      authorizedBy: coordinator.address,
      relayedBy: coordinator.address,
    };
    assert.deepEqual(readIssuance(w.state, bankId, 'r-1'), record);
    assert.deepEqual(w.events, [
      {
        type: 'timecredits.issued',
        data: {
          bankId,
          requestId: 'r-1',
          account: ann.address,
          minutes: '90',
          lot,
          baseTime: startTime + 77,
          expiresAt: startTime + 77 + 10 * dayMs,
          repaidMinutes: '0',
          authorizedBy: coordinator.address,
          relayedBy: coordinator.address,
        },
      },
    ]);
    assert.equal(w.run(coordinator, 'timecredits.issue', payload), 'duplicate_request');
    assert.equal(issueTo(w, bankId, ann, 10), 'ok');
    assert.equal(readBank(w.state, bankId)!.issuedMinutes, '100');
  });

  it('refuses in precedence: no bank, not a coordinator, duplicate, unknown user, not approved', () => {
    const w = new TxWorld();
    const bankId = bankIn(w);
    assert.equal(w.run(outsider, 'timebank.addMember', { bankId, userIdHash: userHash(5) }), 'ok');
    const issue = (sender: TestKey, fields: Record<string, unknown>) =>
      w.run(sender, 'timecredits.issue', { bankId, minutes: '5', requestId: 'r1', ...fields });
    assert.equal(
      issue(coordinator, { bankId: noBank, account: ann.address }),
      'timebank_not_found',
    );
    assert.equal(issue(ann, { account: ann.address }), 'not_coordinator');
    assert.equal(issue(coordinator, { userIdHash: userHash(5) }), 'user_not_found');
    assert.equal(issue(coordinator, { account: outsider.address }), 'member_not_approved');
    assert.equal(issue(coordinator, { account: stranger }), 'member_not_found');
    assert.equal(issue(coordinator, { account: ann.address }), 'ok');
    assert.equal(issue(ann, { account: ann.address }), 'not_coordinator');
    assert.equal(issue(coordinator, { account: stranger }), 'duplicate_request');
  });

  it("a relayed issuance needs a coordinator's signature over exactly this request", () => {
    const w = new TxWorld();
    const bankId = bankIn(w);
    const byHash = { chainId, bankId, requestId: 'r-h', userIdHash: userHash(3), minutes: 40n };
    const relay = (
      fields: Record<string, unknown>,
      signer: TestKey,
      signedFields: IssuanceRequestFields,
    ) =>
      w.run(outsider, 'timecredits.issue', {
        bankId,
        minutes: '40',
        ...fields,
        authorization: { coordinator: signer.address, signature: signed(signer, signedFields) },
      });
    const target = { userIdHash: userHash(3), requestId: 'r-h' };
    assert.equal(
      relay(target, ann, byHash),
      'not_coordinator',
      'signed by a member, not a coordinator',
    );
    assert.equal(
      relay(target, coordinator, { ...byHash, minutes: 41n }),
      'issuance_signature_invalid',
    );
    assert.equal(
      relay(target, coordinator, { ...byHash, chainId: 'other' }),
      'issuance_signature_invalid',
    );
    assert.equal(
      relay(target, coordinator, { ...byHash, requestId: 'r-x' }),
      'issuance_signature_invalid',
    );
    assert.equal(
      relay(target, coordinator, { ...byHash, userIdHash: userHash(4) }),
      'issuance_signature_invalid',
    );
    assert.equal(
      relay(target, coordinator, { ...byHash, userIdHash: undefined, account: ben.address }),
      'issuance_signature_invalid',
    );
    assert.equal(relay(target, coordinator, byHash), 'ok');
    assert.deepEqual(
      [w.events[0]!.data.authorizedBy, w.events[0]!.data.relayedBy, w.events[0]!.data.account],
      [coordinator.address, outsider.address, ben.address],
    );
    assert.equal(readIssuance(w.state, bankId, 'r-h')!.relayedBy, outsider.address);

    const byAccount = { chainId, bankId, requestId: 'r-a', account: cat.address, minutes: 40n };
    const target2 = { account: cat.address, requestId: 'r-a' };
    assert.equal(
      relay(target2, coordinator, { ...byAccount, account: ben.address }),
      'issuance_signature_invalid',
    );
    assert.equal(
      relay(target2, coordinator, { ...byAccount, bankId: noBank }),
      'issuance_signature_invalid',
    );
    assert.equal(relay(target2, coordinator, byAccount), 'ok');
    assert.equal(readMember(w.state, bankId, cat.address)!.balanceMinutes, '40');
  });

  it('repays a debt first: the record and event say how much, and name no lot when all went to it', () => {
    const w = new TxWorld();
    const bankId = bankIn(w, { kind: 'none' }, '100');
    assert.equal(
      w.run(ben, 'timecredits.recordExchange', { bankId, recipient: ann.address, minutes: '30' }),
      'ok',
    );
    assert.equal(w.run(ann, 'timecredits.confirmExchange', { bankId, exchange: 0 }), 'ok');
    assert.equal(readMember(w.state, bankId, ann.address)!.debtMinutes, '30');
    assert.equal(
      w.run(coordinator, 'timecredits.issue', {
        bankId,
        account: ann.address,
        minutes: '30',
        requestId: 'all',
      }),
      'ok',
    );
    assert.deepEqual(
      [readIssuance(w.state, bankId, 'all')!.lot, w.events[0]!.data.lot],
      [null, null],
    );
    assert.equal(readIssuance(w.state, bankId, 'all')!.repaidMinutes, '30');
    assert.equal(w.events[0]!.data.repaidMinutes, '30');
    assert.deepEqual(readMember(w.state, bankId, ann.address)!.lots, []);
    assert.equal(readBank(w.state, bankId)!.debtMinutes, '0');
  });

  it("settles the member's demurrage before adding the new lot", () => {
    const w = new TxWorld();
    const bankId = bankIn(w, { kind: 'demurrage', ratePerPeriodBasisPoints: 1_000, periodDays: 1 });
    assert.equal(issueTo(w, bankId, ann, 100), 'ok');
    w.time = startTime + dayMs;
    assert.equal(issueTo(w, bankId, ann, 100), 'ok');
    assert.equal(readMember(w.state, bankId, ann.address)!.balanceMinutes, '190');
    assert.equal(readBank(w.state, bankId)!.poolMinutes, '10');
  });
});

describe('listings', () => {
  it('an approved member posts a numbered listing; its owner or a coordinator closes it once', () => {
    const w = new TxWorld();
    const bankId = bankIn(w);
    const post = { bankId, kind: 'offer', title: 'Gardening', category: 'garden', minutes: '60' };
    assert.equal(
      w.run(ann, 'timecredits.postListing', { ...post, bankId: noBank }),
      'timebank_not_found',
    );
    assert.equal(w.run(outsider, 'timecredits.postListing', post), 'member_not_found');
    w.time = startTime + 3;
    for (const number of [0, 1]) {
      assert.equal(w.run(ann, 'timecredits.postListing', post), 'ok');
      assert.deepEqual(readListing(w.state, bankId, number), {
        bankId,
        number,
        kind: 'offer',
        owner: ann.address,
        title: 'Gardening',
        category: 'garden',
        minutes: '60',
        status: 'open',
        postedAt: startTime + 3,
      });
      assert.deepEqual(w.events, [
        {
          type: 'timecredits.listingPosted',
          data: {
            bankId,
            listing: number,
            kind: 'offer',
            owner: ann.address,
            title: 'Gardening',
            category: 'garden',
            minutes: '60',
          },
        },
      ]);
    }
    assert.equal(readBank(w.state, bankId)!.nextListingNumber, 2);

    const close = (sender: TestKey, listing: number, id = bankId) =>
      w.run(sender, 'timecredits.closeListing', { bankId: id, listing });
    assert.equal(close(ann, 0, noBank), 'timebank_not_found');
    assert.equal(close(ann, 2), 'listing_not_found');
    assert.equal(close(ben, 0), 'not_listing_owner');
    w.time = startTime + 9;
    assert.equal(close(ann, 0), 'ok');
    assert.equal(readListing(w.state, bankId, 0)!.status, 'closed');
    assert.equal(readListing(w.state, bankId, 0)!.closedAt, startTime + 9);
    assert.deepEqual(w.events, [
      { type: 'timecredits.listingClosed', data: { bankId, listing: 0, by: ann.address } },
    ]);
    assert.equal(close(ann, 0), 'listing_closed');
    assert.equal(close(coordinator, 1), 'ok');
    assert.equal(close(coordinator, 1), 'listing_closed');
  });
});

describe('exchanges', () => {
  it('records an exchange: rejections in precedence, then the record and its event', () => {
    const w = new TxWorld();
    const bankId = bankIn(w);
    assert.equal(w.run(outsider, 'timebank.addMember', { bankId, userIdHash: userHash(5) }), 'ok');
    assert.equal(
      w.run(ann, 'timecredits.postListing', {
        bankId,
        kind: 'request',
        title: 'Help',
        category: 'help',
        minutes: '30',
      }),
      'ok',
    );
    assert.equal(w.run(ann, 'timecredits.closeListing', { bankId, listing: 0 }), 'ok');
    assert.equal(
      w.run(ann, 'timecredits.postListing', {
        bankId,
        kind: 'request',
        title: 'Help',
        category: 'help',
        minutes: '30',
      }),
      'ok',
    );
    const record = (sender: TestKey, fields: Record<string, unknown>) =>
      w.run(sender, 'timecredits.recordExchange', {
        bankId,
        recipient: ann.address,
        minutes: '30',
        ...fields,
      });
    assert.equal(record(ben, { bankId: noBank }), 'timebank_not_found');
    assert.equal(record(ann, {}), 'accounts_must_be_different');
    assert.equal(record(outsider, {}), 'member_not_approved');
    assert.equal(record(ben, { recipient: stranger }), 'member_not_found');
    assert.equal(record(ben, { recipient: outsider.address }), 'member_not_approved');
    assert.equal(record(ben, { listing: 2 }), 'listing_not_found');
    assert.equal(record(ben, { listing: 0 }), 'listing_closed');
    w.time = startTime + 4;
    assert.equal(record(ben, { listing: 1, offer: 'Two hours of help' }), 'ok');
    assert.deepEqual(readExchange(w.state, bankId, 0), {
      bankId,
      number: 0,
      provider: ben.address,
      recipient: ann.address,
      minutes: '30',
      offer: 'Two hours of help',
      listing: 1,
      status: 'pending',
      confirmedBy: [ben.address],
      recordedAt: startTime + 4,
    });
    assert.deepEqual(w.events, [
      {
        type: 'timecredits.exchangeRecorded',
        data: {
          bankId,
          exchange: 0,
          provider: ben.address,
          recipient: ann.address,
          minutes: '30',
          listing: 1,
        },
      },
    ]);
    assert.equal(record(cat, {}), 'ok');
    assert.deepEqual(readExchange(w.state, bankId, 1), {
      bankId,
      number: 1,
      provider: cat.address,
      recipient: ann.address,
      minutes: '30',
      status: 'pending',
      confirmedBy: [cat.address],
      recordedAt: startTime + 4,
    });
    assert.deepEqual(w.events[0]!.data, {
      bankId,
      exchange: 1,
      provider: cat.address,
      recipient: ann.address,
      minutes: '30',
    });
    assert.equal(readBank(w.state, bankId)!.nextExchangeNumber, 2);
  });

  it("the recipient's confirmation moves the minutes (on credit past its lots) and completes it", () => {
    const w = new TxWorld();
    const bankId = bankIn(w, { kind: 'none' }, '50');
    assert.equal(issueTo(w, bankId, ann, 20), 'ok');
    assert.equal(
      w.run(ben, 'timecredits.recordExchange', { bankId, recipient: ann.address, minutes: '71' }),
      'ok',
    );
    assert.equal(
      w.run(ben, 'timecredits.recordExchange', { bankId, recipient: ann.address, minutes: '70' }),
      'ok',
    );
    const confirm = (sender: TestKey, exchange: number, id = bankId) =>
      w.run(sender, 'timecredits.confirmExchange', { bankId: id, exchange });
    assert.equal(confirm(ann, 0, noBank), 'timebank_not_found');
    assert.equal(confirm(ann, 2), 'exchange_not_found');
    assert.equal(confirm(cat, 0), 'not_exchange_party');
    assert.equal(confirm(ben, 0), 'already_confirmed');
    assert.equal(confirm(ann, 0), 'credit_limit_exceeded', '20 held + 50 of credit is one short');
    assert.equal(readExchange(w.state, bankId, 0)!.status, 'pending');
    w.time = startTime + 8;
    assert.equal(confirm(ann, 1), 'ok');
    assert.deepEqual(w.events, [
      {
        type: 'timecredits.transferred',
        data: {
          bankId,
          exchange: 1,
          from: ann.address,
          to: ben.address,
          minutes: '70',
          onCreditMinutes: '50',
          repaidMinutes: '0',
        },
      },
      {
        type: 'timecredits.exchangeConfirmed',
        data: { bankId, exchange: 1, by: ann.address, completed: true },
      },
    ]);
    const exchange = readExchange(w.state, bankId, 1)!;
    assert.deepEqual(
      [exchange.status, exchange.completedAt, exchange.confirmedBy],
      ['completed', startTime + 8, [ann.address, ben.address].sort()],
    );
    const annRecord = readMember(w.state, bankId, ann.address)!;
    const benRecord = readMember(w.state, bankId, ben.address)!;
    assert.deepEqual(
      [
        annRecord.balanceMinutes,
        annRecord.debtMinutes,
        annRecord.receivedMinutes,
        annRecord.givenMinutes,
      ],
      ['0', '50', '70', '0'],
    );
    assert.deepEqual(
      [
        benRecord.balanceMinutes,
        benRecord.debtMinutes,
        benRecord.givenMinutes,
        benRecord.receivedMinutes,
      ],
      ['70', '0', '70', '0'],
    );
    assert.equal(readBank(w.state, bankId)!.debtMinutes, '50');
    const origins = benRecord.lots.map((n) => readLot(w.state, bankId, n)!.origin);
    assert.ok(origins.includes('credit:1'), 'the minutes lent name the exchange');
    assert.equal(confirm(ann, 1), 'already_confirmed');
  });

  it('keeps the confirming parties sorted, whoever confirms last', () => {
    const w = new TxWorld();
    const bankId = bankIn(w, { kind: 'none' }, '50');
    // ann's address sorts after ben's: her record lists her first until ben's confirmation.
    assert.ok(ben.address < ann.address);
    assert.equal(
      w.run(ann, 'timecredits.recordExchange', { bankId, recipient: ben.address, minutes: '5' }),
      'ok',
    );
    assert.deepEqual(readExchange(w.state, bankId, 0)!.confirmedBy, [ann.address]);
    assert.equal(w.run(ben, 'timecredits.confirmExchange', { bankId, exchange: 0 }), 'ok');
    assert.deepEqual(readExchange(w.state, bankId, 0)!.confirmedBy, [ben.address, ann.address]);
  });

  it('a first confirmation of two records it without moving minutes', () => {
    const w = new TxWorld();
    const bankId = bankIn(w);
    writeExchange(w.state, {
      bankId,
      number: 0,
      provider: ben.address,
      recipient: ann.address,
      minutes: '10',
      status: 'pending',
      confirmedBy: [],
      recordedAt: startTime,
    });
    assert.equal(w.run(ben, 'timecredits.confirmExchange', { bankId, exchange: 0 }), 'ok');
    assert.deepEqual(w.events, [
      {
        type: 'timecredits.exchangeConfirmed',
        data: { bankId, exchange: 0, by: ben.address, completed: false },
      },
    ]);
    assert.deepEqual(readExchange(w.state, bankId, 0)!.confirmedBy, [ben.address]);
    assert.equal(readExchange(w.state, bankId, 0)!.status, 'pending');
    assert.equal(readMember(w.state, bankId, ben.address)!.balanceMinutes, '0');
  });

  it('completing needs both parties still approved members', () => {
    for (const party of [ann, ben]) {
      const w = new TxWorld();
      const bankId = bankIn(w, { kind: 'none' }, '50');
      assert.equal(
        w.run(ben, 'timecredits.recordExchange', { bankId, recipient: ann.address, minutes: '10' }),
        'ok',
      );
      writeMember(w.state, bankId, {
        ...readMember(w.state, bankId, party.address)!,
        status: 'pending',
      });
      assert.equal(
        w.run(ann, 'timecredits.confirmExchange', { bankId, exchange: 0 }),
        'member_not_approved',
      );
    }
  });
});
