// Policy changes and per-lot terms, expiry notices, listings, one-to-many payments, alliances
// between banks and signed issuance requests. The harness mirrors timecredits.test.ts, with two
// banks run by different coordinators, each coordinator also an approved member of its bank.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';

import {
  ModuleTestHarness,
  testAccount,
  type ModuleTestChain,
  type TestAccount,
} from '../../../test/support/module-chain.js';
import { ledgerModule, ModuleRegistry, type ChainEvent } from '../../chain/index.js';
import {
  CryptoInputError,
  canonicalize,
  sign,
  signingDomains,
  signingMessage,
  toHex,
  utf8,
} from '../../crypto/index.js';
import {
  dayMs,
  effectiveValue,
  getAlliance,
  getExchange,
  getIssuance,
  getListing,
  getLot,
  getMember,
  getTimebank,
  hashUserId,
  issuanceRequestHash,
  lapsesPerBlockMax,
  listListings,
  lotTerms,
  memberStatement,
  statementCsv,
  timecreditsModule,
  type LotRecord,
  type TimebankPolicy,
} from './index.js';

const chainId = 'coffer-timecredits';
const harness = new ModuleTestHarness({
  name: 'timecredits-ext',
  chainId,
  registry: new ModuleRegistry([ledgerModule, timecreditsModule]),
});
after(() => harness.close());

const coordA = testAccount(1);
const ann = testAccount(2);
const ben = testAccount(3);
const cat = testAccount(4);
const outsider = testAccount(5);
const coordB = testAccount(6);
const members = [ann, ben, cat];

const genesis = harness.genesis({ assets: [], balances: [] });
const newChain = () => harness.open(genesis);
type Node = ModuleTestChain;

/** Runs one tx in its own block; returns its receipt and the block's own events. */
function runBlock(
  node: Node,
  sender: TestAccount,
  type: string,
  payload: Record<string, unknown>,
  at?: number,
): { tx: string; status: string; events: ChainEvent[]; blockEvents: ChainEvent[] } {
  const block = node.produce([node.tx(sender, type, payload)], at);
  return { ...block.receipts[0]!, blockEvents: block.blockEvents };
}

const userId = (a: TestAccount) => `user-${a.address.slice(-8)}@example.org`;

type PolicyInput = TimebankPolicy | { kind: 'expiry'; expiryDays: number };
interface Bank {
  id: string;
  coord: TestAccount;
}

/** A bank run by `coord`, with ann, ben and cat approved and `coord` an approved member too. */
function bankWith(node: Node, policy: PolicyInput, creditLimitMinutes = '0', coord = coordA): Bank {
  const create = node.tx(coord, 'timebank.create', {
    name: 'Riverside time bank',
    coordinators: [coord.address],
    policy,
    creditLimitMinutes,
  });
  assert.equal(node.produce([create]).receipts[0]!.status, 'ok');
  const id = create.hash.slice(0, 16);
  const salt = getTimebank(node.store, id)!.salt;
  const offsets = new Map<string, number>();
  const txs = members.map((m) =>
    node.tx(
      coord,
      'timebank.addMember',
      { bankId: id, account: m.address, userIdHash: hashUserId(salt, userId(m)) },
      offsets,
    ),
  );
  txs.push(
    node.tx(
      coord,
      'timebank.addMember',
      { bankId: id, userIdHash: hashUserId(salt, userId(coord)) },
      offsets,
    ),
    node.tx(coord, 'timebank.approveMember', { bankId: id, account: coord.address }, offsets),
  );
  assert.ok(node.produce(txs).receipts.every((r) => r.status === 'ok'));
  return { id, coord };
}

let requests = 0;
function issue(node: Node, bank: Bank, to: TestAccount, minutes: bigint | number): string {
  requests += 1;
  return node.run(bank.coord, 'timecredits.issue', {
    bankId: bank.id,
    account: to.address,
    minutes: minutes.toString(),
    requestId: `req-${requests}`,
  });
}

function exchange(
  node: Node,
  bank: Bank,
  provider: TestAccount,
  recipient: TestAccount,
  minutes: bigint | number,
): string {
  const number = getTimebank(node.store, bank.id)!.nextExchangeNumber;
  const recorded = node.run(provider, 'timecredits.recordExchange', {
    bankId: bank.id,
    recipient: recipient.address,
    minutes: minutes.toString(),
  });
  assert.equal(recorded, 'ok');
  return node.run(recipient, 'timecredits.confirmExchange', { bankId: bank.id, exchange: number });
}

/** A bank's and its partner's coordinators propose and accept an alliance. */
function ally(node: Node, a: Bank, b: Bank): void {
  const pair = (x: Bank, y: Bank) => ({ bankId: x.id, partnerBankId: y.id });
  assert.equal(node.run(a.coord, 'timebank.proposeAlliance', pair(a, b)), 'ok');
  assert.equal(node.run(b.coord, 'timebank.acceptAlliance', pair(b, a)), 'ok');
}

function lotsOf(node: Node, bankId: string, who: TestAccount): LotRecord[] {
  const member = getMember(node.store, bankId, who.address)!;
  return member.lots.map((n) => getLot(node.store, bankId, n)!);
}

const everyone = [...members, coordA, coordB];

/**
 * Invariants over committed state: each member's lots exist, are its own, positive, and sum to
 * its balance; debts sum to the bank's; lots + pool - debts = issued + allianceIn - allianceOut.
 */
function audit(node: Node, bankId: string): void {
  const bank = getTimebank(node.store, bankId)!;
  let lots = 0n;
  let debts = 0n;
  for (const m of everyone) {
    const member = getMember(node.store, bankId, m.address);
    if (!member) continue;
    let sum = 0n;
    for (const lot of lotsOf(node, bankId, m)) {
      assert.equal(lot.owner, m.address, 'a listed lot belongs to its member');
      assert.equal(lot.bankId, bankId);
      assert.ok(BigInt(lot.amount) > 0n, 'lots are positive');
      assert.ok(effectiveValue(lot, node.time) <= BigInt(lot.amount), 'demurrage only takes');
      sum += BigInt(lot.amount);
    }
    assert.equal(sum, BigInt(member.balanceMinutes), 'the sum of the lots is the balance');
    lots += sum;
    debts += BigInt(member.debtMinutes);
  }
  assert.equal(debts, BigInt(bank.debtMinutes), 'member debts add up to the bank total');
  assert.equal(
    lots + BigInt(bank.poolMinutes) - debts,
    BigInt(bank.issuedMinutes) + BigInt(bank.allianceInMinutes) - BigInt(bank.allianceOutMinutes),
    'lots + pool - debts = issued + alliance in - alliance out',
  );
}

const demurrage10 = { kind: 'demurrage', ratePerPeriodBasisPoints: 1_000, periodDays: 1 } as const;
const terms = (l: LotRecord) => ({
  expiresAt: l.expiresAt,
  noticeAt: l.noticeAt,
  demurrage: l.demurrage,
});

describe('timebank.setPolicy', () => {
  it('only coordinators change the policy; a change names something', () => {
    const node = newChain();
    const bank = bankWith(node, { kind: 'none' });
    const change = { bankId: bank.id, policy: demurrage10 };
    assert.equal(node.run(ann, 'timebank.setPolicy', change), 'not_coordinator');
    assert.equal(node.run(outsider, 'timebank.setPolicy', change), 'not_coordinator');
    assert.deepEqual(getTimebank(node.store, bank.id)!.policy, { kind: 'none' });
    const ok = runBlock(node, coordA, 'timebank.setPolicy', change);
    assert.equal(ok.status, 'ok');
    assert.deepEqual(ok.events, [
      {
        type: 'timebank.policyChanged',
        data: {
          bankId: bank.id,
          policy: demurrage10,
          creditLimitMinutes: '0',
          by: coordA.address,
        },
      },
    ]);
    assert.deepEqual(getTimebank(node.store, bank.id)!.policy, demurrage10);
    const cases: [string, Record<string, unknown>][] = [
      ['invalid_policy_change', { bankId: bank.id }],
      [
        'invalid_policy',
        { bankId: bank.id, policy: { kind: 'expiry', expiryDays: 3, noticeDays: 366 } },
      ],
      [
        'invalid_policy',
        { bankId: bank.id, policy: { kind: 'expiry', expiryDays: 3, noticeDays: -1 } },
      ],
      ['invalid_policy', { bankId: bank.id, policy: { kind: 'none', noticeDays: 3 } }],
      ['invalid_credit_limit', { bankId: bank.id, creditLimitMinutes: '-5' }],
    ];
    for (const [code, payload] of cases)
      assert.equal(harness.parseStatus('timebank.setPolicy', payload), code);
    assert.equal(
      harness.parseStatus('timebank.setPolicy', {
        bankId: bank.id,
        policy: { kind: 'expiry', expiryDays: 3, noticeDays: 0 },
      }),
      undefined,
    );
  });

  it('is forward-only: each lot keeps the demurrage or expiry it was created under', () => {
    const node = newChain();
    const bank = bankWith(node, demurrage10);
    assert.equal(issue(node, bank, ann, 1000), 'ok');
    const old = lotsOf(node, bank.id, ann)[0]!;
    assert.deepEqual(old.demurrage, { ratePerPeriodBasisPoints: 1_000, periodDays: 1 });
    const expiry = { kind: 'expiry', expiryDays: 30, noticeDays: 5 } as const;
    assert.equal(node.run(coordA, 'timebank.setPolicy', { bankId: bank.id, policy: expiry }), 'ok');
    assert.equal(issue(node, bank, ann, 500), 'ok');
    const fresh = lotsOf(node, bank.id, ann).find((l) => l.number !== old.number)!;
    assert.equal(fresh.demurrage, null);
    assert.equal(fresh.expiresAt, fresh.baseTime + 30 * dayMs);
    assert.equal(fresh.noticeAt, fresh.baseTime + 25 * dayMs);
    // Two days on, the old lot has lost 19% under its own terms; the new one nothing.
    const later = old.baseTime + 2 * dayMs + 1;
    node.produce([], later);
    const statement = memberStatement(node.store, bank.id, ann.address, later)!;
    const byNumber = new Map(statement.lots.map((l) => [l.lot, l]));
    assert.equal(byNumber.get(old.number)!.effectiveMinutes, '810');
    assert.equal(byNumber.get(fresh.number)!.effectiveMinutes, '500');
    assert.deepEqual(byNumber.get(old.number)!.demurrage, old.demurrage);
    assert.equal(byNumber.get(fresh.number)!.noticeAt, fresh.noticeAt);
    assert.equal(getLot(node.store, bank.id, old.number)!.expiresAt, null, 'no expiry added');
    // Ann pays ben 1,000: the new-policy lot expires first so goes first, then 500 of the old
    // one (demurrage settled: 810 -> 310 left). Each part keeps its own terms at ben's.
    assert.equal(exchange(node, bank, ben, ann, 1000), 'ok');
    const bens = lotsOf(node, bank.id, ben);
    assert.deepEqual(
      bens.map(terms).sort((a, b) => (a.expiresAt ?? 0) - (b.expiresAt ?? 0)),
      [terms(old), terms(fresh)],
    );
    assert.equal(getTimebank(node.store, bank.id)!.poolMinutes, '190');
    assert.equal(getMember(node.store, bank.id, ann.address)!.balanceMinutes, '310');
    audit(node, bank.id);
  });

  it('a lot created on credit takes the current policy', () => {
    const node = newChain();
    const bank = bankWith(node, { kind: 'none' }, '100');
    assert.equal(
      node.run(coordA, 'timebank.setPolicy', { bankId: bank.id, policy: demurrage10 }),
      'ok',
    );
    assert.equal(exchange(node, bank, ben, ann, 60), 'ok');
    const [lot] = lotsOf(node, bank.id, ben);
    assert.equal(lot!.origin, 'credit:0');
    assert.deepEqual(lot!.demurrage, { ratePerPeriodBasisPoints: 1_000, periodDays: 1 });
    audit(node, bank.id);
  });

  it('a lowered credit limit applies at once: debts stay, no new borrowing', () => {
    const node = newChain();
    const bank = bankWith(node, { kind: 'none' }, '120');
    assert.equal(exchange(node, bank, ben, ann, 100), 'ok');
    const lower = { bankId: bank.id, creditLimitMinutes: '50' };
    assert.equal(node.run(coordA, 'timebank.setPolicy', lower), 'ok');
    assert.equal(getTimebank(node.store, bank.id)!.creditLimitMinutes, '50');
    assert.deepEqual(getTimebank(node.store, bank.id)!.policy, { kind: 'none' }, 'policy kept');
    assert.equal(getMember(node.store, bank.id, ann.address)!.debtMinutes, '100');
    assert.equal(exchange(node, bank, cat, ann, 1), 'credit_limit_exceeded');
    // cat (no debt) may borrow up to the new limit only.
    assert.equal(exchange(node, bank, ann, cat, 51), 'credit_limit_exceeded');
    assert.equal(exchange(node, bank, ann, cat, 50), 'ok');
    const raise = { bankId: bank.id, creditLimitMinutes: '300' };
    assert.equal(node.run(coordA, 'timebank.setPolicy', raise), 'ok');
    assert.equal(exchange(node, bank, cat, ann, 200), 'ok');
    assert.equal(getMember(node.store, bank.id, ann.address)!.debtMinutes, '250');
    audit(node, bank.id);
  });
});

/** The `timecredits.expiring` events of a block, as `bankId/lot`. */
function notices(block: { blockEvents: ChainEvent[] }): string[] {
  return block.blockEvents
    .filter((e) => e.type === 'timecredits.expiring')
    .map((e) => `${String(e.data.bankId)}/${String(e.data.lot)}`);
}

describe('timecredits.expiring', () => {
  it('fires once, noticeDays before expiry, with the lot and its owner', () => {
    const node = newChain();
    const bank = bankWith(node, { kind: 'expiry', expiryDays: 10, noticeDays: 3 });
    assert.equal(issue(node, bank, ann, 90), 'ok');
    const lot = lotsOf(node, bank.id, ann)[0]!;
    assert.equal(lot.noticeAt, lot.expiresAt! - 3 * dayMs);
    assert.deepEqual(notices(node.produce([], lot.noticeAt - 1)), []);
    const due = node.produce([], lot.noticeAt);
    assert.deepEqual(due.blockEvents, [
      {
        type: 'timecredits.expiring',
        data: {
          bankId: bank.id,
          lot: lot.number,
          owner: ann.address,
          minutes: '90',
          baseTime: lot.baseTime,
          expiresAt: lot.expiresAt,
        },
      },
    ]);
    assert.deepEqual(notices(node.produce([])), []);
    assert.deepEqual(notices(node.produce([], lot.expiresAt! + 1)), []);
    assert.equal(getLot(node.store, bank.id, lot.number), undefined, 'lapsed');
  });

  it('defaults to 7 days; a notice of 0 days means none', () => {
    const node = newChain();
    const bank = bankWith(node, { kind: 'expiry', expiryDays: 10 });
    assert.equal(issue(node, bank, ann, 5), 'ok');
    const lot = lotsOf(node, bank.id, ann)[0]!;
    assert.equal(lot.noticeAt, lot.baseTime + 3 * dayMs);
    const none = { kind: 'expiry', expiryDays: 10, noticeDays: 0 } as const;
    assert.equal(node.run(coordA, 'timebank.setPolicy', { bankId: bank.id, policy: none }), 'ok');
    assert.equal(issue(node, bank, ben, 5), 'ok');
    const silent = lotsOf(node, bank.id, ben)[0]!;
    assert.equal(silent.noticeAt, null);
    assert.deepEqual(notices(node.produce([], lot.noticeAt)), [`${bank.id}/${lot.number}`]);
    assert.deepEqual(notices(node.produce([], silent.expiresAt! - 1)), []);
    assert.deepEqual(notices(node.produce([], silent.expiresAt!)), []);
  });

  it('a split part gets its own notice; merged and lapsed lots never fire', () => {
    const node = newChain();
    const bank = bankWith(node, { kind: 'expiry', expiryDays: 10, noticeDays: 3 });
    assert.equal(issue(node, bank, ann, 100), 'ok');
    const lot = lotsOf(node, bank.id, ann)[0]!;
    // Two payments to ben: the second part merges into the first at ben's.
    assert.equal(exchange(node, bank, ben, ann, 10), 'ok');
    assert.equal(exchange(node, bank, ben, ann, 10), 'ok');
    const [part] = lotsOf(node, bank.id, ben);
    assert.equal(lotsOf(node, bank.id, ben).length, 1);
    assert.equal(part!.amount, '20');
    // cat gets a part, then gives it back whole: it merges into ann's lot and is gone.
    assert.equal(exchange(node, bank, cat, ann, 5), 'ok');
    const catPart = lotsOf(node, bank.id, cat)[0]!;
    assert.equal(exchange(node, bank, ann, cat, 5), 'ok');
    assert.equal(getLot(node.store, bank.id, catPart.number), undefined);
    const due = node.produce([], lot.noticeAt!);
    assert.deepEqual(
      notices(due).sort(),
      [`${bank.id}/${lot.number}`, `${bank.id}/${part!.number}`].sort(),
    );
    // After the notice, ann splits her lot again: the new part at cat's gets its own notice at
    // the next block, since its notice time has passed; ann's lot does not fire again.
    assert.equal(exchange(node, bank, cat, ann, 7), 'ok');
    const late = lotsOf(node, bank.id, cat)[0]!;
    assert.equal(late.noticeAt, lot.noticeAt, 'the part carries the notice time');
    const fired = [node.produce([]), node.produce([])].map(notices);
    assert.deepEqual(fired, [[`${bank.id}/${late.number}`], []]);
    // A lot whose notice time passes while it already expired gets no notice, only the lapse.
    const bank2 = bankWith(node, { kind: 'expiry', expiryDays: 1, noticeDays: 7 });
    assert.equal(issue(node, bank2, ann, 3), 'ok');
    const short = lotsOf(node, bank2.id, ann)[0]!;
    const lapse = node.produce([], short.expiresAt! + 1);
    assert.deepEqual(notices(lapse), []);
    assert.equal(lapse.blockEvents.filter((e) => e.type === 'timecredits.expired').length, 1);
  });
});

describe('timecredits.expiring under load', () => {
  it('never notices a lot that expired while its lapse carries over to a later block', () => {
    const node = newChain();
    const bank = bankWith(node, { kind: 'expiry', expiryDays: 1, noticeDays: 7 });
    // 1,001 lots whose notice time is already past (7 > 1 days) and which expire together.
    const split = [400, 400, lapsesPerBlockMax + 1 - 800];
    const offsets = new Map<string, number>();
    const txs = members.flatMap((m, i) =>
      Array.from({ length: split[i]! }, () => {
        requests += 1;
        return node.tx(
          coordA,
          'timecredits.issue',
          { bankId: bank.id, account: m.address, minutes: '1', requestId: `bulk-${requests}` },
          offsets,
        );
      }),
    );
    assert.ok(node.produce(txs).receipts.every((r) => r.status === 'ok'));
    const expiresAt = lotsOf(node, bank.id, cat)[0]!.expiresAt!;
    // The first block past expiry lapses 1,000 lots; one expired lot waits for the next block.
    const first = node.produce([], expiresAt + 1);
    const lapsed = first.blockEvents.filter((e) => e.type === 'timecredits.expired');
    assert.equal(lapsed.length, lapsesPerBlockMax);
    assert.deepEqual(notices(first), [], 'an expired lot gets no notice, lapsed or not');
    const second = node.produce([]);
    assert.equal(second.blockEvents.filter((e) => e.type === 'timecredits.expired').length, 1);
    assert.deepEqual(notices(second), []);
    audit(node, bank.id);
  });
});

describe('listings', () => {
  const listing = (bankId: string, over: Record<string, unknown> = {}) => ({
    bankId,
    kind: 'offer',
    title: 'Bike repairs, Saturdays',
    category: 'repairs',
    minutes: '90',
    ...over,
  });

  it('approved members post their own; others are rejected; payloads are checked', () => {
    const node = newChain();
    const bank = bankWith(node, { kind: 'none' });
    const posted = runBlock(node, ann, 'timecredits.postListing', listing(bank.id));
    assert.equal(posted.status, 'ok');
    assert.deepEqual(getListing(node.store, bank.id, 0), {
      bankId: bank.id,
      number: 0,
      kind: 'offer',
      owner: ann.address,
      title: 'Bike repairs, Saturdays',
      category: 'repairs',
      minutes: '90',
      status: 'open',
      postedAt: node.time,
    });
    assert.equal(posted.events[0]!.type, 'timecredits.listingPosted');
    assert.equal(getTimebank(node.store, bank.id)!.nextListingNumber, 1);
    assert.equal(
      node.run(outsider, 'timecredits.postListing', listing(bank.id)),
      'member_not_found',
    );
    const salt = getTimebank(node.store, bank.id)!.salt;
    const apply = { bankId: bank.id, userIdHash: hashUserId(salt, 'dana@example.org') };
    assert.equal(node.run(outsider, 'timebank.addMember', apply), 'ok');
    assert.equal(
      node.run(outsider, 'timecredits.postListing', listing(bank.id)),
      'member_not_approved',
    );
    const cases: [string, Record<string, unknown>][] = [
      ['invalid_listing_kind', { kind: 'gift' }],
      ['invalid_listing_title', { title: '' }],
      ['invalid_listing_title', { title: 'é'.repeat(61) }],
      ['invalid_listing_title', { title: 'a\nb' }],
      ['invalid_category', { category: 'Repairs' }],
      ['invalid_category', { category: '-repairs' }],
      ['invalid_category', { category: 'r'.repeat(41) }],
      ['invalid_minutes', { minutes: '0' }],
    ];
    for (const [code, over] of cases) {
      assert.equal(harness.parseStatus('timecredits.postListing', listing(bank.id, over)), code);
    }
    assert.equal(
      harness.parseStatus(
        'timecredits.postListing',
        listing(bank.id, { title: 'é'.repeat(60), category: 'r'.repeat(40) }),
      ),
      undefined,
    );
  });

  it('the owner or a coordinator closes a listing, a stranger cannot; exchanges cite open ones', () => {
    const node = newChain();
    const bank = bankWith(node, { kind: 'none' });
    assert.equal(node.run(ann, 'timecredits.postListing', listing(bank.id)), 'ok');
    assert.equal(
      node.run(ben, 'timecredits.postListing', listing(bank.id, { kind: 'request' })),
      'ok',
    );
    const close = (n: number) => ({ bankId: bank.id, listing: n });
    assert.equal(node.run(ben, 'timecredits.closeListing', close(0)), 'not_listing_owner');
    assert.equal(node.run(outsider, 'timecredits.closeListing', close(0)), 'not_listing_owner');
    assert.equal(node.run(ann, 'timecredits.closeListing', close(9)), 'listing_not_found');
    assert.equal(getListing(node.store, bank.id, 0)!.status, 'open');
    // An exchange may name an open listing; it is stored on the exchange.
    const record = (n: number) => ({
      bankId: bank.id,
      recipient: ben.address,
      minutes: '90',
      listing: n,
    });
    assert.equal(node.run(ann, 'timecredits.recordExchange', record(0)), 'ok');
    assert.equal(getExchange(node.store, bank.id, 0)!.listing, 0);
    assert.equal(node.run(ann, 'timecredits.recordExchange', record(7)), 'listing_not_found');
    const closed = runBlock(node, ann, 'timecredits.closeListing', close(0));
    assert.equal(closed.status, 'ok');
    assert.deepEqual(closed.events, [
      { type: 'timecredits.listingClosed', data: { bankId: bank.id, listing: 0, by: ann.address } },
    ]);
    assert.equal(getListing(node.store, bank.id, 0)!.closedAt, node.time);
    assert.equal(node.run(ann, 'timecredits.closeListing', close(0)), 'listing_closed');
    assert.equal(node.run(ann, 'timecredits.recordExchange', record(0)), 'listing_closed');
    assert.equal(node.run(coordA, 'timecredits.closeListing', close(1)), 'ok');
    assert.equal(getListing(node.store, bank.id, 1)!.status, 'closed');
    assert.equal(
      harness.parseStatus('timecredits.recordExchange', record(-1)),
      'invalid_listing_id',
    );
    assert.equal(
      harness.parseStatus('timecredits.closeListing', { bankId: bank.id, listing: '1' }),
      'invalid_listing_id',
    );
  });

  it('listListings walks newest first, filters, pages with a cursor and bounds its scan', () => {
    const node = newChain();
    const bank = bankWith(node, { kind: 'none' });
    const offsets = new Map<string, number>();
    // Listing 0 is the only request; 1,001 offers follow, 1..1001, category by parity.
    const txs = [
      node.tx(ann, 'timecredits.postListing', listing(bank.id, { kind: 'request' }), offsets),
    ];
    for (let i = 1; i <= 1001; i += 1) {
      const category = i % 2 === 0 ? 'garden' : 'repairs';
      txs.push(node.tx(ann, 'timecredits.postListing', listing(bank.id, { category }), offsets));
    }
    assert.ok(node.produce(txs).receipts.every((r) => r.status === 'ok'));
    assert.equal(
      node.run(ann, 'timecredits.closeListing', { bankId: bank.id, listing: 1000 }),
      'ok',
    );
    const first = listListings(node.store, bank.id, { limit: 3 });
    assert.deepEqual(
      first.listings.map((l) => l.number),
      [1001, 1000, 999],
    );
    assert.equal(first.next, 999);
    const second = listListings(node.store, bank.id, { limit: 3, after: first.next });
    assert.deepEqual(
      second.listings.map((l) => l.number),
      [998, 997, 996],
    );
    const garden = listListings(node.store, bank.id, {
      limit: 2,
      category: 'garden',
      status: 'open',
    });
    assert.deepEqual(
      garden.listings.map((l) => l.number),
      [998, 996],
    );
    // The only request is 1,002 numbers down: the first call stops after 1,000 numbers.
    const requestsPage = listListings(node.store, bank.id, { limit: 10, kind: 'request' });
    assert.deepEqual(requestsPage.listings, []);
    assert.equal(requestsPage.next, 2);
    const rest = listListings(node.store, bank.id, { limit: 10, kind: 'request', after: 2 });
    assert.deepEqual(
      rest.listings.map((l) => l.number),
      [0],
    );
    assert.equal(rest.next, null);
    assert.throws(() => listListings(node.store, bank.id, { limit: 101 }), RangeError);
    assert.throws(() => listListings(node.store, bank.id, { limit: 0 }), RangeError);
    assert.deepEqual(listListings(node.store, 'ffffffffffffffff', { limit: 5 }), {
      listings: [],
      next: null,
    });
  });
});

describe('timecredits.payMany', () => {
  const pay = (bankId: string, payments: [TestAccount, number][]) => ({
    bankId,
    payments: payments.map(([a, minutes]) => ({ account: a.address, minutes: String(minutes) })),
  });

  it('a coordinator who is a member pays several members from its lots, all or nothing', () => {
    const node = newChain();
    const bank = bankWith(node, { kind: 'expiry', expiryDays: 30 });
    assert.equal(issue(node, bank, coordA, 250), 'ok');
    const source = lotsOf(node, bank.id, coordA)[0]!;
    // 100 + 200 > 250 with no credit: the first payment would fit, but nothing moves.
    assert.equal(
      node.run(
        coordA,
        'timecredits.payMany',
        pay(bank.id, [
          [ann, 100],
          [ben, 200],
        ]),
      ),
      'credit_limit_exceeded',
    );
    assert.equal(getMember(node.store, bank.id, ann.address)!.balanceMinutes, '0');
    assert.equal(getMember(node.store, bank.id, coordA.address)!.balanceMinutes, '250');
    const paid = runBlock(
      node,
      coordA,
      'timecredits.payMany',
      pay(bank.id, [
        [ann, 100],
        [ben, 120],
      ]),
    );
    assert.equal(paid.status, 'ok');
    assert.deepEqual(paid.events, [
      {
        type: 'timecredits.transferred',
        data: {
          bankId: bank.id,
          from: coordA.address,
          to: ann.address,
          minutes: '100',
          onCreditMinutes: '0',
          repaidMinutes: '0',
          payment: 0,
        },
      },
      {
        type: 'timecredits.transferred',
        data: {
          bankId: bank.id,
          from: coordA.address,
          to: ben.address,
          minutes: '120',
          onCreditMinutes: '0',
          repaidMinutes: '0',
          payment: 1,
        },
      },
    ]);
    for (const [who, minutes] of [
      [ann, '100'],
      [ben, '120'],
    ] as const) {
      const [lot] = lotsOf(node, bank.id, who);
      assert.equal(lot!.amount, minutes);
      assert.deepEqual(
        { ...terms(lot!), baseTime: lot!.baseTime },
        { ...terms(source), baseTime: source.baseTime },
      );
      assert.equal(getMember(node.store, bank.id, who.address)!.gotMinutes, minutes);
    }
    const statement = memberStatement(node.store, bank.id, coordA.address, node.time)!;
    assert.equal(statement.sentMinutes, '220');
    assert.equal(statement.balanceMinutes, '30');
    assert.equal(statement.givenMinutes, '0', 'exchanges are counted apart');
    assert.equal(memberStatement(node.store, bank.id, ann.address, node.time)!.gotMinutes, '100');
    audit(node, bank.id);
  });

  it('borrows within the credit limit past the payer lots, like an exchange', () => {
    const node = newChain();
    const bank = bankWith(node, { kind: 'none' }, '100');
    const paid = runBlock(
      node,
      coordA,
      'timecredits.payMany',
      pay(bank.id, [
        [ann, 40],
        [ben, 60],
      ]),
    );
    assert.equal(paid.status, 'ok');
    assert.equal(getMember(node.store, bank.id, coordA.address)!.debtMinutes, '100');
    assert.equal(lotsOf(node, bank.id, ben)[0]!.origin, `credit:pay:${paid.tx}/1`);
    assert.equal(
      node.run(coordA, 'timecredits.payMany', pay(bank.id, [[cat, 1]])),
      'credit_limit_exceeded',
    );
    audit(node, bank.id);
  });

  it('rejects a sender that is not a coordinator or not a member, and bad payees', () => {
    const node = newChain();
    const bank = bankWith(node, { kind: 'none' }, '100');
    assert.equal(issue(node, bank, ann, 100), 'ok');
    assert.equal(
      node.run(ann, 'timecredits.payMany', pay(bank.id, [[ben, 10]])),
      'not_coordinator',
    );
    assert.equal(getMember(node.store, bank.id, ben.address)!.balanceMinutes, '0');
    // coordB coordinates bank B but is no member of bank A... make it a coordinator of A.
    assert.equal(
      node.run(coordA, 'timebank.addCoordinator', { bankId: bank.id, account: coordB.address }),
      'ok',
    );
    assert.equal(
      node.run(coordB, 'timecredits.payMany', pay(bank.id, [[ben, 10]])),
      'member_not_found',
    );
    assert.equal(
      node.run(
        coordA,
        'timecredits.payMany',
        pay(bank.id, [
          [ben, 10],
          [coordA, 10],
        ]),
      ),
      'accounts_must_be_different',
    );
    assert.equal(
      node.run(
        coordA,
        'timecredits.payMany',
        pay(bank.id, [
          [ben, 10],
          [outsider, 10],
        ]),
      ),
      'member_not_found',
    );
    assert.equal(getMember(node.store, bank.id, ben.address)!.balanceMinutes, '0');
    const many = Array.from(
      { length: 101 },
      (_, i) => [testAccount(100 + i), 1] as [TestAccount, number],
    );
    const cases: [string, unknown][] = [
      ['invalid_payments', []],
      ['invalid_payments', pay(bank.id, many).payments],
      [
        'invalid_payments',
        pay(bank.id, [
          [ann, 1],
          [ann, 2],
        ]).payments,
      ],
      ['invalid_payments', [{ account: ann.address, minutes: '0' }]],
      ['invalid_payments', [{ account: ann.address, minutes: '1', memo: 'x' }]],
      ['invalid_payments', [{ account: 'cof1nope', minutes: '1' }]],
      ['invalid_payments', { account: ann.address, minutes: '1' }],
    ];
    for (const [code, payments] of cases) {
      assert.equal(harness.parseStatus('timecredits.payMany', { bankId: bank.id, payments }), code);
    }
    assert.equal(
      harness.parseStatus('timecredits.payMany', pay(bank.id, many.slice(1))),
      undefined,
    );
  });
});

describe('alliances', () => {
  const pair = (x: Bank, y: Bank | string) => ({
    bankId: x.id,
    partnerBankId: typeof y === 'string' ? y : y.id,
  });

  it('one bank proposes, the other accepts; either ends; proposals may follow an end', () => {
    const node = newChain();
    const a = bankWith(node, { kind: 'none' });
    const b = bankWith(node, { kind: 'none' }, '0', coordB);
    assert.equal(node.run(ann, 'timebank.proposeAlliance', pair(a, b)), 'not_coordinator');
    assert.equal(node.run(coordB, 'timebank.proposeAlliance', pair(a, b)), 'not_coordinator');
    assert.equal(
      node.run(coordA, 'timebank.proposeAlliance', pair(a, 'ffffffffffffffff')),
      'partner_bank_not_found',
    );
    assert.equal(
      harness.parseStatus('timebank.proposeAlliance', pair(a, a)),
      'invalid_partner_bank',
    );
    assert.equal(node.run(coordB, 'timebank.acceptAlliance', pair(b, a)), 'alliance_not_found');
    const proposed = runBlock(node, coordA, 'timebank.proposeAlliance', pair(a, b));
    assert.equal(proposed.status, 'ok');
    assert.equal(proposed.events[0]!.type, 'timebank.allianceProposed');
    const sorted = [a.id, b.id].sort();
    assert.deepEqual(getAlliance(node.store, b.id, a.id), {
      banks: sorted,
      status: 'proposed',
      proposedBy: a.id,
      proposedAt: node.time,
    });
    assert.equal(node.run(coordA, 'timebank.proposeAlliance', pair(a, b)), 'alliance_exists');
    assert.equal(node.run(coordB, 'timebank.proposeAlliance', pair(b, a)), 'alliance_exists');
    // The proposing side cannot accept its own proposal, nor accept for the other bank.
    assert.equal(node.run(coordA, 'timebank.acceptAlliance', pair(a, b)), 'own_alliance_proposal');
    assert.equal(node.run(coordA, 'timebank.acceptAlliance', pair(b, a)), 'not_coordinator');
    assert.equal(
      node.run(ann, 'timecredits.transferAcross', {
        bankId: a.id,
        toBankId: b.id,
        to: ben.address,
        minutes: '1',
      }),
      'alliance_not_active',
    );
    assert.equal(node.run(coordB, 'timebank.acceptAlliance', pair(b, a)), 'ok');
    assert.equal(getAlliance(node.store, a.id, b.id)!.status, 'active');
    assert.equal(getAlliance(node.store, a.id, b.id)!.activeAt, node.time);
    assert.equal(node.run(coordB, 'timebank.acceptAlliance', pair(b, a)), 'alliance_not_proposed');
    assert.equal(node.run(ann, 'timebank.endAlliance', pair(a, b)), 'not_coordinator');
    assert.equal(node.run(coordB, 'timebank.endAlliance', pair(b, a)), 'ok');
    assert.equal(getAlliance(node.store, a.id, b.id)!.status, 'ended');
    assert.equal(node.run(coordA, 'timebank.endAlliance', pair(a, b)), 'alliance_not_found');
    assert.equal(node.run(coordB, 'timebank.proposeAlliance', pair(b, a)), 'ok');
    const again = getAlliance(node.store, a.id, b.id)!;
    assert.equal(again.status, 'proposed');
    assert.equal(again.proposedBy, b.id);
    assert.equal(again.endedAt, undefined);
    assert.equal(node.run(coordA, 'timebank.acceptAlliance', pair(a, b)), 'ok');
  });

  it('transferAcross moves lots 1:1 with their terms, repays debt there, and keeps both invariants', () => {
    const node = newChain();
    const a = bankWith(node, { kind: 'expiry', expiryDays: 30, noticeDays: 5 });
    const b = bankWith(node, demurrage10, '50', coordB);
    const across = (from: Bank, to: Bank, who: TestAccount, minutes: number) => ({
      bankId: from.id,
      toBankId: to.id,
      to: who.address,
      minutes: String(minutes),
    });
    assert.equal(issue(node, a, ann, 100), 'ok');
    const source = lotsOf(node, a.id, ann)[0]!;
    assert.equal(
      node.run(ann, 'timecredits.transferAcross', across(a, b, ben, 10)),
      'alliance_not_active',
    );
    ally(node, a, b);
    // ben owes 30 in bank B.
    assert.equal(exchange(node, b, cat, ben, 30), 'ok');
    assert.equal(
      node.run(ann, 'timecredits.transferAcross', across(a, b, ben, 101)),
      'insufficient_credits',
    );
    assert.equal(
      node.run(outsider, 'timecredits.transferAcross', across(a, b, ben, 1)),
      'member_not_found',
    );
    assert.equal(
      node.run(ann, 'timecredits.transferAcross', across(a, b, outsider, 1)),
      'member_not_found',
    );
    const moved = runBlock(node, ann, 'timecredits.transferAcross', across(a, b, ben, 60));
    assert.equal(moved.status, 'ok');
    assert.equal(getMember(node.store, a.id, ann.address)!.balanceMinutes, '40');
    const ben2 = getMember(node.store, b.id, ben.address)!;
    assert.equal(ben2.debtMinutes, '0');
    assert.equal(ben2.balanceMinutes, '30');
    assert.equal(ben2.gotMinutes, '60');
    assert.equal(getMember(node.store, a.id, ann.address)!.sentMinutes, '60');
    const [arrived] = lotsOf(node, b.id, ben);
    assert.equal(arrived!.bankId, b.id);
    assert.equal(arrived!.baseTime, source.baseTime);
    assert.deepEqual(terms(arrived!), terms(source), "bank A's terms, not bank B's demurrage");
    assert.equal(arrived!.origin, `alliance:${a.id}/${source.origin}`);
    assert.deepEqual(moved.events, [
      {
        type: 'timecredits.transferredAcross',
        data: {
          bankId: a.id,
          toBankId: b.id,
          from: ann.address,
          to: ben.address,
          minutes: '60',
          lots: [arrived!.number],
          repaidMinutes: '30',
        },
      },
    ]);
    assert.equal(getTimebank(node.store, a.id)!.allianceOutMinutes, '60');
    assert.equal(getTimebank(node.store, b.id)!.allianceInMinutes, '60');
    audit(node, a.id);
    audit(node, b.id);
    // Back to bank A: one alliance prefix, never nested; the whole lot leaves bank B.
    assert.equal(node.run(ben, 'timecredits.transferAcross', across(b, a, cat, 30)), 'ok');
    assert.equal(getLot(node.store, b.id, arrived!.number), undefined);
    const [home] = lotsOf(node, a.id, cat);
    assert.equal(home!.origin, `alliance:${b.id}/${source.origin}`);
    assert.deepEqual(terms(home!), terms(source));
    // The arriving lots give notice in their new bank, once each.
    const due = node.produce([], source.noticeAt!);
    assert.deepEqual(
      notices(due).sort(),
      [`${a.id}/${source.number}`, `${a.id}/${home!.number}`].sort(),
    );
    // No credit across banks, and no expired lot crosses.
    assert.equal(
      node.run(cat, 'timecredits.transferAcross', across(a, b, ben, 31)),
      'insufficient_credits',
    );
    assert.equal(
      node.run(ann, 'timecredits.transferAcross', across(a, b, ben, 1), source.expiresAt! + 1),
      'insufficient_credits',
    );
    audit(node, a.id);
    audit(node, b.id);
    assert.equal(
      harness.parseStatus('timecredits.transferAcross', across(a, a, ben, 1)),
      'invalid_partner_bank',
    );
  });
});

/** The `authorization` of an issuance payload, signed by `by`. */
function authorize(
  by: TestAccount,
  request: {
    chainId?: string;
    bankId: string;
    requestId: string;
    account?: string;
    userIdHash?: string;
    minutes: string;
  },
  coordinator = by,
) {
  const hash = issuanceRequestHash({ chainId, ...request });
  const signature = toHex(sign(signingMessage('issuanceRequest', hash), by.secretKey));
  return { coordinator: coordinator.address, signature };
}

describe('issuance authorized by a coordinator signature', () => {
  it('hashes a fixed request to a fixed value (the one definition, in schema.ts)', () => {
    const request = {
      chainId: 'coffer-test',
      bankId: '0123456789abcdef',
      requestId: 'req-42',
      userIdHash: 'ab'.repeat(32),
      minutes: '600',
    };
    assert.equal(
      issuanceRequestHash(request),
      'ff2822f68ec1810ffb90b45ac8c76b2cf47e27e352df489e9f21afac261e6930',
    );
    assert.equal(issuanceRequestHash({ ...request, minutes: 600n }), issuanceRequestHash(request));
    const { userIdHash: _hash, ...byAccount } = request;
    assert.equal(
      issuanceRequestHash({ ...byAccount, account: coordA.address }),
      'a811905b18decd9aa187c875a9dbfc022f1fb7f7b5dff8604e577c89e12e4a59',
    );
    assert.equal(signingDomains.issuanceRequest, 'coffer/timecredits/issuance-request/v1');
    const message = signingMessage('issuanceRequest', issuanceRequestHash(request));
    assert.deepEqual(message.slice(0, 38), utf8('coffer/timecredits/issuance-request/v1'));
    assert.throws(() => issuanceRequestHash({ ...request, minutes: '01' }), CryptoInputError);
  });

  it('a relay with a valid authorization issues, linked request -> tx -> lot', () => {
    const node = newChain();
    const bank = bankWith(node, { kind: 'none' });
    const salt = getTimebank(node.store, bank.id)!.salt;
    const request = {
      bankId: bank.id,
      requestId: 'signed-1',
      userIdHash: hashUserId(salt, userId(ann)),
      minutes: '600',
    };
    const relayed = node.tx(outsider, 'timecredits.issue', {
      ...request,
      authorization: authorize(coordA, request),
    });
    const block = node.produce([relayed]);
    assert.equal(block.receipts[0]!.status, 'ok');
    const record = getIssuance(node.store, bank.id, 'signed-1')!;
    assert.equal(record.txHash, relayed.hash);
    assert.equal(record.authorizedBy, coordA.address);
    assert.equal(record.relayedBy, outsider.address);
    assert.equal(record.account, ann.address);
    const lot = getLot(node.store, bank.id, record.lot!)!;
    assert.equal(lot.owner, ann.address);
    assert.equal(lot.origin, 'issue:signed-1');
    assert.equal(lot.baseTime, block.block.header.time);
    assert.equal(block.receipts[0]!.events[0]!.data.authorizedBy, coordA.address);
    // A plain coordinator issuance records the coordinator as both.
    assert.equal(issue(node, bank, ben, 5), 'ok');
    const plain = getIssuance(node.store, bank.id, `req-${requests}`)!;
    assert.equal(plain.authorizedBy, coordA.address);
    assert.equal(plain.relayedBy, coordA.address);
  });

  it('rejects forged, altered, other-bank, other-chain and stale authorizations', () => {
    const node = newChain();
    const a = bankWith(node, { kind: 'none' });
    const b = bankWith(node, { kind: 'none' }, '0', coordB);
    const request = { bankId: a.id, requestId: 'r-1', account: ann.address, minutes: '60' };
    const relay = (authorization: Record<string, unknown>, over: Record<string, unknown> = {}) =>
      node.run(outsider, 'timecredits.issue', { ...request, ...over, authorization });
    // Signed by ann, who is no coordinator, in her own name or in the coordinator's.
    assert.equal(relay(authorize(ann, request)), 'not_coordinator');
    assert.equal(relay(authorize(ann, request, coordA)), 'issuance_signature_invalid');
    // Signed for other minutes, another request id, another bank or another chain.
    assert.equal(
      relay(authorize(coordA, request), { minutes: '61' }),
      'issuance_signature_invalid',
    );
    assert.equal(
      relay(authorize(coordA, request), { requestId: 'r-2' }),
      'issuance_signature_invalid',
    );
    assert.equal(
      relay(authorize(coordA, { ...request, bankId: b.id })),
      'issuance_signature_invalid',
    );
    assert.equal(
      relay(authorize(coordA, { ...request, chainId: 'other-chain' })),
      'issuance_signature_invalid',
    );
    // Naming the member by hash where the signature named the account changes the hash.
    const salt = getTimebank(node.store, a.id)!.salt;
    const { account: _account, ...rest } = request;
    assert.equal(
      node.run(outsider, 'timecredits.issue', {
        ...rest,
        userIdHash: hashUserId(salt, userId(ann)),
        authorization: authorize(coordA, request),
      }),
      'issuance_signature_invalid',
    );
    // bank B's coordinator has no say over bank A.
    assert.equal(relay(authorize(coordB, request)), 'not_coordinator');
    assert.equal(getMember(node.store, a.id, ann.address)!.balanceMinutes, '0');
    // A signature by a coordinator removed since then is void.
    const valid = authorize(coordA, request);
    assert.equal(
      node.run(coordA, 'timebank.addCoordinator', { bankId: a.id, account: cat.address }),
      'ok',
    );
    assert.equal(
      node.run(cat, 'timebank.removeCoordinator', { bankId: a.id, account: coordA.address }),
      'ok',
    );
    assert.equal(relay(valid), 'not_coordinator');
    assert.equal(getIssuance(node.store, a.id, 'r-1'), undefined);
    const malformed: Record<string, unknown>[] = [
      { coordinator: coordA.address },
      { coordinator: coordA.address, signature: valid.signature.toUpperCase() },
      { coordinator: coordA.address, signature: valid.signature.slice(2) },
      { coordinator: 'cof1nope', signature: valid.signature },
      { ...valid, extra: 1 },
    ];
    for (const authorization of malformed) {
      assert.equal(
        harness.parseStatus('timecredits.issue', { ...request, authorization }),
        'invalid_authorization',
      );
    }
  });
});

describe('statementCsv', () => {
  it('writes RFC 4180 rows: header, one per lot, then the summary', () => {
    const node = newChain();
    const bank = bankWith(node, demurrage10, '100');
    assert.equal(issue(node, bank, ann, 1000), 'ok');
    const lot = lotsOf(node, bank.id, ann)[0]!;
    const at = lot.baseTime + 2 * dayMs;
    const statement = memberStatement(node.store, bank.id, ann.address, at)!;
    const iso = (ms: number) => new Date(ms).toISOString();
    assert.equal(
      statementCsv(statement),
      [
        'lot,origin,baseTime,ageDays,expiresAt,minutes,effectiveMinutes,hours,expired',
        `${lot.number},${lot.origin},${iso(lot.baseTime)},2,,1000,810,13:30,false`,
        ',balance,,,,1000,810,13:30,',
        ',debt,,,,0,0,0:00,',
        ',net,,,,810,810,13:30,',
        ',given,,,,0,0,0:00,',
        ',received,,,,0,0,0:00,',
        ',sent,,,,0,0,0:00,',
        ',got,,,,0,0,0:00,',
        '',
      ].join('\r\n'),
    );
    const quoted = statementCsv({
      ...statement,
      lots: [{ ...statement.lots[0]!, origin: 'a "b", c\nd', expiresAt: 0, expired: true }],
      netMinutes: '-75',
    });
    const rows = quoted.split('\r\n');
    assert.equal(
      rows[1],
      `${lot.number},"a ""b"", c\nd",${iso(lot.baseTime)},2,1970-01-01T00:00:00.000Z,1000,810,13:30,true`,
    );
    assert.equal(rows[4], ',net,,,,-75,-75,-1:15,');
  });
});

const policyArb: fc.Arbitrary<TimebankPolicy> = fc.oneof(
  fc.constant({ kind: 'none' } as const),
  fc
    .record({
      expiryDays: fc.integer({ min: 1, max: 4 }),
      noticeDays: fc.integer({ min: 0, max: 3 }),
    })
    .map((p) => ({ kind: 'expiry', ...p }) as const),
  fc
    .record({
      ratePerPeriodBasisPoints: fc.integer({ min: 1, max: 5_000 }),
      periodDays: fc.integer({ min: 1, max: 2 }),
    })
    .map((d) => ({ kind: 'demurrage', ...d }) as const),
);

const who = fc.integer({ min: 0, max: 3 });
type Op =
  | { kind: 'issue'; bank: number; to: number; minutes: number }
  | { kind: 'exchange'; bank: number; provider: number; recipient: number; minutes: number }
  | { kind: 'payMany'; bank: number; payments: { to: number; minutes: number }[] }
  | { kind: 'setPolicy'; bank: number; policy: TimebankPolicy | null; limit: number | null }
  /** The richest member of `bank` sends `percent` of its balance (over 100: more than it has). */
  | { kind: 'across'; bank: number; to: number; percent: number }
  | { kind: 'wait'; hours: number };

const bankIndex = fc.integer({ min: 0, max: 1 });
const minutesArb = fc.integer({ min: 1, max: 600 });
// Weighted so that transfers find credits to move: issuance and alliance transfers come often.
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('issue' as const),
      bank: bankIndex,
      to: who,
      minutes: minutesArb,
    }),
  },
  fc
    .record({
      kind: fc.constant('exchange' as const),
      bank: bankIndex,
      provider: who,
      recipient: who,
      minutes: minutesArb,
    })
    .filter((o) => o.provider !== o.recipient),
  fc.record({
    kind: fc.constant('payMany' as const),
    bank: bankIndex,
    payments: fc.uniqueArray(
      fc.record({ to: fc.integer({ min: 0, max: 2 }), minutes: fc.integer({ min: 1, max: 150 }) }),
      {
        minLength: 1,
        maxLength: 3,
        selector: (p) => p.to,
      },
    ),
  }),
  fc.record({
    kind: fc.constant('setPolicy' as const),
    bank: bankIndex,
    policy: fc.option(policyArb),
    limit: fc.option(fc.integer({ min: 0, max: 300 })),
  }),
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('across' as const),
      bank: bankIndex,
      to: who,
      percent: fc.integer({ min: 1, max: 120 }),
    }),
  },
  fc.record({ kind: fc.constant('wait' as const), hours: fc.integer({ min: 1, max: 60 }) }),
);

describe('properties over random histories of two allied banks', () => {
  it('invariants, per-lot terms, and expiry notices hold under any history', () => {
    fc.assert(
      fc.property(
        policyArb,
        policyArb,
        fc.integer({ min: 0, max: 300 }),
        fc.array(opArb, { minLength: 1, maxLength: 18 }),
        (policyA, policyB, limit, history) => {
          const node = newChain();
          const banks = [
            bankWith(node, policyA, String(limit)),
            bankWith(node, policyB, String(limit), coordB),
          ] as const;
          ally(node, banks[0], banks[1]);
          // Each member of a bank: ann, ben, cat, then the bank's coordinator.
          const memberOf = (bank: Bank, i: number) => (i === 3 ? bank.coord : members[i]!);

          const allLots = () =>
            banks.flatMap((bank) =>
              everyone.flatMap((m) =>
                getMember(node.store, bank.id, m.address) ? lotsOf(node, bank.id, m) : [],
              ),
            );
          // Watch every block: `expiring` fires at most once per lot, and only for a lot that
          // exists, unexpired, with that owner and amount when the block begins.
          const noticed = new Set<string>();
          const produce = node.produce.bind(node);
          node.produce = (txs, at) => {
            const before = new Map(allLots().map((l) => [`${l.bankId}/${l.number}`, l]));
            const block = produce(txs, at);
            for (const event of block.blockEvents) {
              if (event.type !== 'timecredits.expiring') continue;
              const key = `${String(event.data.bankId)}/${String(event.data.lot)}`;
              assert.ok(!noticed.has(key), `notice for ${key} fired twice`);
              noticed.add(key);
              const lot = before.get(key);
              assert.ok(lot, `notice for ${key}, a lot that is gone`);
              assert.equal(event.data.owner, lot.owner);
              assert.equal(event.data.minutes, lot.amount);
              assert.ok(lot.noticeAt !== null && lot.noticeAt <= node.time);
              assert.ok(lot.expiresAt !== null && node.time <= lot.expiresAt, 'not yet expired');
            }
            return block;
          };

          const termsByBaseTime = new Map<number, string>();
          const pools = banks.map(() => 0n);
          for (const op of history) {
            const bank = op.kind === 'wait' ? banks[0] : banks[op.bank]!;
            let status = 'ok';
            if (op.kind === 'issue') status = issue(node, bank, memberOf(bank, op.to), op.minutes);
            else if (op.kind === 'wait') node.produce([], node.time + op.hours * 3_600_000);
            else if (op.kind === 'exchange') {
              status = exchange(
                node,
                bank,
                memberOf(bank, op.provider),
                memberOf(bank, op.recipient),
                op.minutes,
              );
            } else if (op.kind === 'payMany') {
              status = node.run(bank.coord, 'timecredits.payMany', {
                bankId: bank.id,
                payments: op.payments.map((p) => ({
                  account: members[p.to]!.address,
                  minutes: String(p.minutes),
                })),
              });
            } else if (op.kind === 'setPolicy') {
              if (op.policy === null && op.limit === null) continue;
              status = node.run(bank.coord, 'timebank.setPolicy', {
                bankId: bank.id,
                ...(op.policy === null ? {} : { policy: op.policy }),
                ...(op.limit === null ? {} : { creditLimitMinutes: String(op.limit) }),
              });
            } else {
              const toBank = banks[1 - op.bank]!;
              const balance = (m: TestAccount) =>
                BigInt(getMember(node.store, bank.id, m.address)!.balanceMinutes);
              const richest = [0, 1, 2, 3]
                .map((i) => memberOf(bank, i))
                .reduce((x, y) => (balance(y) > balance(x) ? y : x));
              const minutes = (balance(richest) * BigInt(op.percent)) / 100n;
              status = node.run(richest, 'timecredits.transferAcross', {
                bankId: bank.id,
                toBankId: toBank.id,
                to: memberOf(toBank, op.to).address,
                minutes: String(minutes > 0n ? minutes : 1n),
              });
            }
            assert.ok(
              ['ok', 'credit_limit_exceeded', 'insufficient_credits'].includes(status),
              `${op.kind}: ${status}`,
            );
            for (const [i, b] of banks.entries()) {
              audit(node, b.id);
              const pool = BigInt(getTimebank(node.store, b.id)!.poolMinutes);
              assert.ok(pool >= pools[i]!, 'the pool never gives back');
              pools[i] = pool;
            }
            // A lot's terms are fixed at its creation, under the policy of that moment, and
            // survive later policy changes, transfers, splits and moves to the other bank.
            for (const lot of allLots()) {
              const seen = termsByBaseTime.get(lot.baseTime);
              const mine = canonicalize(terms(lot));
              if (seen !== undefined) {
                assert.equal(mine, seen, 'a lot keeps its terms');
                continue;
              }
              assert.equal(lot.baseTime, node.time, 'a lot not seen before was created now');
              const policy = getTimebank(node.store, lot.bankId)!.policy;
              assert.equal(mine, canonicalize(lotTerms(policy, lot.baseTime)));
              termsByBaseTime.set(lot.baseTime, mine);
            }
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
