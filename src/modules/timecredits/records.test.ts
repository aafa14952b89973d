import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import type { z } from 'zod';

import {
  ModuleTestHarness,
  testAccount,
  type TestAccount,
} from '../../../test/support/module-chain.js';
import { ledgerModule, ModuleRegistry } from '../../chain/index.js';
import { sign, signingMessage, toHex } from '../../crypto/index.js';
import {
  allianceSchema,
  dayMs,
  getAlliance,
  getExchange,
  getIssuance,
  getListing,
  getLot,
  getMember,
  getTimebank,
  hashUserId,
  issuanceRequestHash,
  issuanceRequestResultSchema,
  listingPageSchema,
  listingSchema,
  listListings,
  listTimebanks,
  memberStatement,
  memberStatementSchema,
  timebankMemberSchema,
  timebankPageSchema,
  timebankSchema,
  timecreditsModule,
  timeExchangeSchema,
  timeLotSchema,
} from './index.js';
import { issuanceJson } from './routes.js';

/*
 * The routes answer through their records' schemas (records.ts): fast-json-stringify drops a
 * field its schema does not list, so each schema must list every field the query functions
 * return. Strict schemas refuse an unlisted field: every record a history of all the tx types
 * leaves must parse, and the parse must give it back unchanged (nothing added, nothing dropped).
 */

const chainId = 'coffer-records';
const harness = new ModuleTestHarness({
  name: 'timecredits-records',
  chainId,
  registry: new ModuleRegistry([ledgerModule, timecreditsModule]),
});
after(() => harness.close());

const coordA = testAccount(1);
const coordB = testAccount(2);
const ann = testAccount(3);
const ben = testAccount(4);
const dan = testAccount(5);

/** Parses `record` strictly and checks the parse gives back the same JSON. */
function answers(schema: z.ZodType, record: unknown, what: string): void {
  assert.ok(record !== undefined, `${what} exists`);
  const parsed = schema.safeParse(record);
  assert.ok(parsed.success, `${what}: ${parsed.error?.message}`);
  assert.deepEqual(JSON.parse(JSON.stringify(parsed.data)), JSON.parse(JSON.stringify(record)));
}

describe('the records the routes answer list every field the module returns', () => {
  const node = harness.open(harness.genesis({ assets: [], balances: [] }));
  const ok = (sender: TestAccount, type: string, payload: Record<string, unknown>, at?: number) =>
    assert.equal(node.run(sender, type, payload, at), 'ok', type);

  /** A bank of `coord` with ann and ben approved, `coord` a member too; dan only applied. */
  function bank(coord: TestAccount, policy: Record<string, unknown>, creditLimitMinutes: string) {
    const create = node.tx(coord, 'timebank.create', {
      name: `Bank of ${coord.address.slice(-4)}`,
      coordinators: [coord.address],
      policy,
      creditLimitMinutes,
    });
    assert.equal(node.produce([create]).receipts[0]!.status, 'ok');
    const id = create.hash.slice(0, 16);
    const salt = getTimebank(node.store, id)!.salt;
    for (const member of [ann, ben, coord]) {
      ok(coord, 'timebank.addMember', {
        bankId: id,
        ...(member === coord ? {} : { account: member.address }),
        userIdHash: hashUserId(salt, `user-${member.address}`),
      });
    }
    ok(coord, 'timebank.approveMember', { bankId: id, account: coord.address });
    ok(dan, 'timebank.addMember', { bankId: id, userIdHash: hashUserId(salt, 'dan') });
    return id;
  }

  const a = bank(coordA, { kind: 'expiry', expiryDays: 30 }, '600');
  const b = bank(coordB, { kind: 'demurrage', ratePerPeriodBasisPoints: 100, periodDays: 1 }, '0');

  // Issuance: by the coordinator, and relayed with its signed authorization.
  ok(coordA, 'timecredits.issue', {
    bankId: a,
    account: ann.address,
    minutes: '300',
    requestId: 'r-1',
  });
  ok(coordB, 'timecredits.issue', {
    bankId: b,
    account: ben.address,
    minutes: '300',
    requestId: 'r-1',
  });
  const request = {
    bankId: a,
    userIdHash: hashUserId(getTimebank(node.store, a)!.salt, `user-${ben.address}`),
    minutes: '120',
    requestId: 'r-2',
  };
  const signature = toHex(
    sign(
      signingMessage('issuanceRequest', issuanceRequestHash({ chainId, ...request })),
      coordA.secretKey,
    ),
  );
  ok(dan, 'timecredits.issue', {
    ...request,
    authorization: { coordinator: coordA.address, signature },
  });

  // Listings (one closed), an exchange answering one, with an offer, confirmed by both.
  ok(ann, 'timecredits.postListing', {
    bankId: a,
    kind: 'offer',
    title: 'Garden help',
    category: 'garden',
    minutes: '60',
  });
  ok(ben, 'timecredits.postListing', {
    bankId: a,
    kind: 'request',
    title: 'A lift',
    category: 'transport',
    minutes: '30',
  });
  ok(ben, 'timecredits.closeListing', { bankId: a, listing: 1 });
  ok(ann, 'timecredits.recordExchange', {
    bankId: a,
    recipient: ben.address,
    minutes: '60',
    offer: 'Two hours of weeding',
    listing: 0,
  });
  ok(ben, 'timecredits.confirmExchange', { bankId: a, exchange: 0 });
  ok(ann, 'timecredits.recordExchange', { bankId: a, recipient: ben.address, minutes: '15' });
  // The coordinator pays on credit: a debt, and a lot created on credit.
  ok(coordA, 'timecredits.payMany', {
    bankId: a,
    payments: [
      { account: ann.address, minutes: '30' },
      { account: ben.address, minutes: '45' },
    ],
  });

  // An alliance, credits sent across it, another one proposed and ended.
  ok(coordA, 'timebank.proposeAlliance', { bankId: a, partnerBankId: b });
  ok(coordB, 'timebank.acceptAlliance', { bankId: b, partnerBankId: a });
  ok(ann, 'timecredits.transferAcross', { bankId: a, toBankId: b, to: ben.address, minutes: '50' });
  const c = bank(testAccount(6), { kind: 'none' }, '0');
  ok(coordA, 'timebank.proposeAlliance', { bankId: a, partnerBankId: c });
  ok(coordA, 'timebank.endAlliance', { bankId: a, partnerBankId: c });
  // Time passes: demurrage is due in bank b, an expiry of bank a comes closer.
  node.produce([], node.time + 3 * dayMs);

  it('banks and their pages', () => {
    for (const id of [a, b, c]) answers(timebankSchema, getTimebank(node.store, id), `bank ${id}`);
    const page = listTimebanks(node.store, { limit: 2 });
    assert.notEqual(page.next, null, 'a page with a next');
    answers(timebankPageSchema, page, 'a page of banks');
    answers(timebankPageSchema, listTimebanks(node.store, { limit: 100 }), 'the last page');
  });

  it('members, pending and approved, and their statements', () => {
    for (const [id, who] of [
      [a, ann],
      [a, ben],
      [a, coordA],
      [a, dan],
      [b, ben],
    ] as const) {
      answers(timebankMemberSchema, getMember(node.store, id, who.address), `member ${id}`);
      const statement = memberStatement(node.store, id, who.address, node.time);
      answers(memberStatementSchema, statement, `statement ${id}`);
    }
    const debtor = memberStatement(node.store, a, coordA.address, node.time)!;
    assert.ok(BigInt(debtor.netMinutes) < 0n, 'a statement below zero');
    const demurred = memberStatement(node.store, b, ben.address, node.time)!;
    assert.ok(
      demurred.lots.some((lot) => lot.demurrage !== null),
      'a lot with demurrage terms',
    );
  });

  it('lots of every origin', () => {
    const origins = new Set<string>();
    for (const id of [a, b]) {
      const next = getTimebank(node.store, id)!.nextLotNumber;
      for (let n = 0; n < next; n += 1) {
        const lot = getLot(node.store, id, n);
        if (lot === undefined) continue;
        answers(timeLotSchema, lot, `lot ${id}/${n}`);
        origins.add(lot.origin.split(':')[0]!);
      }
    }
    assert.deepEqual([...origins].sort(), ['alliance', 'credit', 'issue']);
  });

  it('exchanges, listings and their pages, alliances', () => {
    answers(timeExchangeSchema, getExchange(node.store, a, 0), 'a completed exchange');
    answers(timeExchangeSchema, getExchange(node.store, a, 1), 'a pending exchange');
    answers(listingSchema, getListing(node.store, a, 0), 'an open listing');
    answers(listingSchema, getListing(node.store, a, 1), 'a closed listing');
    answers(listingPageSchema, listListings(node.store, a, { limit: 1 }), 'a page of listings');
    answers(listingPageSchema, listListings(node.store, a, { limit: 20 }), 'every listing');
    answers(allianceSchema, getAlliance(node.store, a, b), 'an active alliance');
    answers(allianceSchema, getAlliance(node.store, c, a), 'an ended alliance');
  });

  it('issuance records, as the issuance-request routes answer them', () => {
    for (const requestId of ['r-1', 'r-2']) {
      const record = getIssuance(node.store, a, requestId)!;
      answers(issuanceRequestResultSchema, issuanceJson(a, record), requestId);
      answers(issuanceRequestResultSchema, issuanceJson(a, record, 7), `${requestId} at a height`);
    }
  });
});
