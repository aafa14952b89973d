import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { sha256Hex, utf8 } from '../../crypto/index.js';
import type { Policy } from './policy.js';
import type { AgreementRecord, ContentRecord, OfferRecord } from './schema.js';
import { contentView } from './queries.js';
import { openOffersBy, readAgreement, readContent, readOffer } from './state.js';
import {
  asset,
  buyer,
  buyer2,
  contentId,
  contentKey,
  creator,
  distributor,
  expectOk,
  funds,
  key,
  licensingWorld,
  outsider,
  paidPolicy,
  publisher,
  registerPayload,
  registration,
  registrationProof,
  type LicensingWorld,
  type TestKey,
} from './txs-fixture.js';

/*
 * The licensing txs in process: the happy path (register, assign along a chain of title, offer,
 * accept paying royalties in the same tx, usage, revoke), and the forbidden cases in the order the
 * handlers check them, each leaving the state byte-identical.
 */

function refused(
  w: LicensingWorld,
  sender: TestKey | string,
  type: string,
  payload: object,
): string {
  const before = w.contents();
  const result = w.run(sender, type, payload as Record<string, unknown>);
  assert.notEqual(result, 'ok', `${type} should be refused`);
  assert.deepEqual(w.contents(), before, `${type} refused with ${result} changed nothing`);
  return result;
}

function content(w: LicensingWorld): ContentRecord {
  return readContent(w.state, contentId)!;
}

function agreement(w: LicensingWorld, id: string): AgreementRecord {
  return readAgreement(w.state, id)!;
}

function offer(w: LicensingWorld, offerId: string): OfferRecord {
  return readOffer(w.state, contentId, offerId)!;
}

const freePlay: Policy = { permission: [{ action: 'play' }] };
const sublicensable: Policy = {
  permission: [
    {
      action: 'play',
      constraint: [
        { leftOperand: 'count', operator: 'lteq', rightOperand: 100 },
        { leftOperand: 'spatial', operator: 'isAnyOf', rightOperand: ['FR', 'DE', 'BE'] },
      ],
    },
    {
      action: 'sublicense',
      constraint: [{ leftOperand: 'count', operator: 'lteq', rightOperand: 2 }],
    },
  ],
  duty: [{ action: 'compensate', payAmount: '5000', unit: asset }],
};

describe('content.register', () => {
  it('records the content with the sender as owner and holder and the key address as gateway', () => {
    const w = licensingWorld();
    const c = content(w);
    assert.equal(c.owner, creator.address);
    assert.equal(c.holder, creator.address);
    assert.equal(c.gateway, contentKey.address);
    assert.equal(c.titleLength, 0);
    assert.equal(c.registeredAt, w.time - w.blockMs);
  });

  it('refuses a content id twice, a registration the content key did not sign for the sender, a bad key, bad fields', () => {
    const w = licensingWorld();
    assert.equal(refused(w, outsider, 'content.register', registerPayload), 'content_exists');
    const otherId = sha256Hex(utf8('other'));
    // Front-running: the creator's payload for a new content, sent first by someone else.
    const creators = registration(creator, otherId);
    assert.equal(refused(w, outsider, 'content.register', creators), 'registration_proof_invalid');
    // A proof by another key than the one registered.
    assert.equal(
      refused(w, outsider, 'content.register', {
        ...registration(outsider, otherId),
        proof: registrationProof(otherId, outsider.address, key(92)),
      }),
      'registration_proof_invalid',
    );
    assert.equal(
      refused(w, outsider, 'content.register', { ...creators, proof: 'zz' }),
      'invalid_registration_proof',
    );
    const other = registration(outsider, otherId);
    // The identity point (small order) and a non-canonical encoding are not keys.
    assert.equal(
      refused(w, outsider, 'content.register', { ...other, publicKey: '01'.padEnd(64, '0') }),
      'invalid_content_key',
    );
    assert.equal(
      refused(w, outsider, 'content.register', { ...other, publicKey: 'ff'.repeat(32) }),
      'invalid_content_key',
    );
    assert.equal(
      refused(w, outsider, 'content.register', { ...other, title: 'x'.repeat(201) }),
      'invalid_content_title',
    );
    assert.equal(
      refused(w, outsider, 'content.register', { ...other, title: 'a\u0000b' }),
      'invalid_content_title',
    );
    assert.equal(
      refused(w, outsider, 'content.register', { ...other, title: 'Film \u202Eevil' }),
      'invalid_content_title',
    );
    assert.equal(
      refused(w, outsider, 'content.register', { ...other, size: 2 ** 40 + 1 }),
      'invalid_size',
    );
    assert.equal(
      refused(w, outsider, 'content.register', { ...other, mediaType: 'Video/WEBM' }),
      'invalid_media_type',
    );
    assert.equal(
      refused(w, outsider, 'content.register', { ...other, contentId: 'AB'.repeat(32) }),
      'invalid_content_id',
    );
    expectOk(w.run(outsider, 'content.register', other), 'another content');
    expectOk(
      w.run(creator, 'content.register', registration(creator, sha256Hex(utf8('third')))),
      'a third',
    );
  });
});

describe('content.assign', () => {
  it('moves the rights along a chain of title and keeps the shares', () => {
    const w = licensingWorld();
    expectOk(
      w.run(creator, 'content.assign', { contentId, to: publisher.address, share: 1000, index: 1 }),
      'a1',
    );
    expectOk(
      w.run(publisher, 'content.assign', {
        contentId,
        to: distributor.address,
        share: 2500,
        index: 2,
      }),
      'a2',
    );
    const c = content(w);
    assert.equal(c.holder, distributor.address);
    assert.equal(c.owner, creator.address);
    assert.equal(c.titleLength, 2);
    assert.equal(c.sharesTotal, 3500);
    assert.deepEqual(w.events[0], {
      type: 'content.assigned',
      data: { contentId, index: 2, from: publisher.address, to: distributor.address, share: 2500 },
    });
  });

  it('refuses: not the holder, to the holder, shares over 10000, more than 16 links', () => {
    const w = licensingWorld();
    const assign = (to: string, share: number, index = content(w).titleLength + 1) => ({
      contentId,
      to,
      share,
      index,
    });
    assert.equal(refused(w, outsider, 'content.assign', assign(outsider.address, 0)), 'not_holder');
    assert.equal(
      refused(w, creator, 'content.assign', assign(creator.address, 0)),
      'assign_to_holder',
    );
    assert.equal(
      refused(w, creator, 'content.assign', assign(publisher.address, 10_001)),
      'invalid_share',
    );
    assert.equal(
      refused(w, creator, 'content.assign', {
        contentId: sha256Hex(utf8('none')),
        to: publisher.address,
        share: 1,
        index: 1,
      }),
      'content_not_found',
    );
    // The index signed must be the next position: a stale or skipping one changes nothing.
    for (const index of [2, 3]) {
      assert.equal(
        refused(w, creator, 'content.assign', assign(publisher.address, 0, index)),
        'title_index_mismatch',
      );
    }
    for (const index of [0, 18, 1.5]) {
      assert.equal(
        refused(w, creator, 'content.assign', assign(publisher.address, 0, index)),
        'title_index_mismatch',
      );
    }
    expectOk(w.run(creator, 'content.assign', assign(publisher.address, 6000)), 'a1');
    assert.equal(
      refused(w, publisher, 'content.assign', assign(distributor.address, 0, 1)),
      'title_index_mismatch',
    );
    assert.equal(
      refused(w, publisher, 'content.assign', assign(distributor.address, 4001)),
      'shares_exceed_whole',
    );
    // The old holder has no say any more.
    assert.equal(
      refused(w, creator, 'content.assign', assign(distributor.address, 0)),
      'not_holder',
    );
    let holder = publisher;
    for (let i = 0; i < 15; i++) {
      const next = key(100 + i);
      expectOk(w.run(holder, 'content.assign', assign(next.address, 0)), `link ${i}`);
      holder = next;
    }
    assert.equal(content(w).titleLength, 16);
    assert.equal(
      refused(w, holder, 'content.assign', assign(creator.address, 0)),
      'title_chain_too_long',
    );
  });
});

describe('licence.offer and licence.withdraw', () => {
  it('the holder offers and withdraws; ids are never reused', () => {
    const w = licensingWorld();
    const o = { contentId, offerId: 'paid-1', policy: paidPolicy };
    expectOk(w.run(creator, 'licence.offer', o), 'offer');
    assert.equal(offer(w, 'paid-1').status, 'open');
    assert.equal(refused(w, creator, 'licence.offer', o), 'offer_exists');
    assert.equal(refused(w, outsider, 'licence.offer', { ...o, offerId: 'x' }), 'not_holder');
    assert.equal(
      refused(w, outsider, 'licence.withdraw', { contentId, offerId: 'paid-1' }),
      'not_offerer',
    );
    expectOk(w.run(creator, 'licence.withdraw', { contentId, offerId: 'paid-1' }), 'withdraw');
    assert.equal(offer(w, 'paid-1').status, 'withdrawn');
    assert.equal(
      refused(w, creator, 'licence.withdraw', { contentId, offerId: 'paid-1' }),
      'offer_not_open',
    );
    assert.equal(refused(w, creator, 'licence.offer', o), 'offer_exists');
    assert.equal(
      refused(w, creator, 'licence.withdraw', { contentId, offerId: 'nope' }),
      'offer_not_found',
    );
  });

  it('refuses bad policies with their codes', () => {
    const w = licensingWorld();
    const offerWith = (policy: unknown) =>
      refused(w, creator, 'licence.offer', { contentId, offerId: 'bad', policy });
    assert.equal(offerWith({ permission: [] }), 'invalid_licence_policy');
    assert.equal(
      offerWith({ permission: [{ action: 'play' }, { action: 'play' }] }),
      'policy_action_duplicate',
    );
    assert.equal(
      offerWith({ permission: [{ action: 'play' }], prohibition: [{ action: 'play' }] }),
      'policy_prohibition_conflict',
    );
    assert.equal(
      offerWith({
        permission: [
          {
            action: 'play',
            constraint: [
              { leftOperand: 'count', operator: 'lteq', rightOperand: 1 },
              { leftOperand: 'count', operator: 'lteq', rightOperand: 2 },
            ],
          },
        ],
      }),
      'policy_constraint_duplicate',
    );
    assert.equal(
      offerWith({
        permission: [{ action: 'play' }],
        duty: [{ action: 'compensate', payAmount: '0', unit: asset }],
      }),
      'invalid_pay_amount',
    );
    assert.equal(
      offerWith({
        permission: [{ action: 'play' }],
        duty: [{ action: 'compensate', payAmount: '1', unit: 'NOPE' }],
      }),
      'asset_not_found',
    );
  });

  it('caps the open offers of one offerer on one content at 64', () => {
    const w = licensingWorld();
    for (let i = 0; i < 64; i++) {
      expectOk(
        w.run(creator, 'licence.offer', { contentId, offerId: `o-${i}`, policy: freePlay }),
        `offer ${i}`,
      );
    }
    assert.equal(openOffersBy(w.state, contentId, creator.address), 64);
    assert.equal(
      refused(w, creator, 'licence.offer', { contentId, offerId: 'o-64', policy: freePlay }),
      'offer_limit_reached',
    );
    expectOk(w.run(creator, 'licence.withdraw', { contentId, offerId: 'o-0' }), 'withdraw');
    expectOk(
      w.run(creator, 'licence.offer', { contentId, offerId: 'o-64', policy: freePlay }),
      'offer after withdraw',
    );
  });
});

describe('licence.accept', () => {
  it('pays the duty in the same tx, split along a three-step chain of title to the unit', () => {
    const w = licensingWorld();
    const third = key(90);
    expectOk(
      w.run(creator, 'content.assign', { contentId, to: publisher.address, share: 1000, index: 1 }),
      'a1',
    );
    expectOk(
      w.run(publisher, 'content.assign', {
        contentId,
        to: distributor.address,
        share: 333,
        index: 2,
      }),
      'a2',
    );
    expectOk(
      w.run(distributor, 'content.assign', { contentId, to: third.address, share: 1, index: 3 }),
      'a3',
    );
    const policy: Policy = {
      permission: [{ action: 'play' }],
      duty: [{ action: 'compensate', payAmount: '1001', unit: asset }],
    };
    expectOk(w.run(third, 'licence.offer', { contentId, offerId: 'p', policy }), 'offer');
    const before = {
      buyer: w.balance(buyer.address),
      creator: w.balance(creator.address),
      publisher: w.balance(publisher.address),
      distributor: w.balance(distributor.address),
      third: w.balance(third.address),
    };
    const id = w.accept(buyer, 'p', { maxAmount: '1001' });
    // 1001 * 1000 / 10000 = 100.1, * 333 = 33.3333, * 1 = 0.1001: floors 100, 33, 0 (133);
    // title whole floor(1001 * 1334 / 10000) = 133: nothing left over; the offerer 868.
    const a = agreement(w, id);
    assert.deepEqual(a.paid, {
      asset,
      amount: '1001',
      splits: [
        { to: creator.address, amount: '100', role: 'title' },
        { to: publisher.address, amount: '33', role: 'title' },
        { to: distributor.address, amount: '0', role: 'title' },
        { to: third.address, amount: '868', role: 'offerer' },
      ],
    });
    assert.equal(w.balance(buyer.address), before.buyer - 1001n);
    assert.equal(w.balance(creator.address), before.creator + 100n);
    assert.equal(w.balance(publisher.address), before.publisher + 33n);
    assert.equal(w.balance(distributor.address), before.distributor);
    assert.equal(w.balance(third.address), before.third + 868n);
    assert.equal(a.licensee, buyer.address);
    assert.equal(a.status, 'active');
    assert.equal(w.events.at(-1)?.type, 'licence.accepted');
  });

  it('sets expiresAt from elapsedTime and refuses what the licensee did not agree to', () => {
    const w = licensingWorld();
    expectOk(w.run(creator, 'licence.offer', { contentId, offerId: 'p', policy: paidPolicy }), 'o');
    assert.equal(
      refused(w, buyer, 'licence.accept', { contentId, offerId: 'p', maxAmount: '999' }),
      'price_above_max',
    );
    assert.equal(refused(w, creator, 'licence.accept', { contentId, offerId: 'p' }), 'own_offer');
    assert.equal(
      refused(w, outsider, 'licence.accept', { contentId, offerId: 'p' }),
      'insufficient_funds',
    );
    assert.equal(
      refused(w, buyer, 'licence.accept', { contentId, offerId: 'q' }),
      'offer_not_found',
    );
    const t = w.time;
    const id = w.accept(buyer, 'p');
    assert.equal(agreement(w, id).expiresAt, t + 3_600_000);
    expectOk(w.run(creator, 'licence.withdraw', { contentId, offerId: 'p' }), 'withdraw');
    assert.equal(
      refused(w, buyer2, 'licence.accept', { contentId, offerId: 'p' }),
      'offer_not_open',
    );
  });

  it('refuses an offer whose offerer assigned the rights on, and one over before it starts', () => {
    const w = licensingWorld();
    expectOk(w.run(creator, 'licence.offer', { contentId, offerId: 'p', policy: freePlay }), 'o');
    const past: Policy = {
      permission: [
        {
          action: 'play',
          constraint: [{ leftOperand: 'dateTime', operator: 'lt', rightOperand: w.time + 1500 }],
        },
      ],
    };
    expectOk(w.run(creator, 'licence.offer', { contentId, offerId: 'past', policy: past }), 'o2');
    w.advance(10_000);
    assert.equal(
      refused(w, buyer, 'licence.accept', { contentId, offerId: 'past' }),
      'agreement_expired',
    );
    expectOk(
      w.run(creator, 'content.assign', { contentId, to: publisher.address, share: 0, index: 1 }),
      'a',
    );
    assert.equal(
      refused(w, buyer, 'licence.accept', { contentId, offerId: 'p' }),
      'offerer_not_holder',
    );
  });
});

describe('sublicences', () => {
  function withParent() {
    const w = licensingWorld();
    expectOk(
      w.run(creator, 'licence.offer', { contentId, offerId: 'dist', policy: sublicensable }),
      'offer',
    );
    const parentId = w.accept(distributor, 'dist');
    return { w, parentId };
  }

  const within: Policy = {
    permission: [
      {
        action: 'play',
        constraint: [
          { leftOperand: 'count', operator: 'lteq', rightOperand: 10 },
          { leftOperand: 'spatial', operator: 'isAnyOf', rightOperand: ['FR'] },
        ],
      },
    ],
    duty: [{ action: 'compensate', payAmount: '200', unit: asset }],
  };

  it('a licensee allowed to sublicense offers within its rights; acceptance pays along the title', () => {
    const { w, parentId } = withParent();
    expectOk(
      w.run(distributor, 'licence.offer', {
        contentId,
        offerId: 'sub',
        policy: within,
        parent: parentId,
      }),
      'sub offer',
    );
    // An offer uses none of the sublicense count; the acceptance does.
    assert.equal(agreement(w, parentId).used.sublicense, undefined);
    const creatorBefore = w.balance(creator.address);
    const id = w.accept(buyer, 'sub');
    assert.equal(agreement(w, parentId).used.sublicense, 1);
    const a = agreement(w, id);
    assert.equal(a.parent, parentId);
    assert.equal(a.offerer, distributor.address);
    assert.equal(w.balance(creator.address), creatorBefore);
    assert.deepEqual(a.paid?.splits, [{ to: distributor.address, amount: '200', role: 'offerer' }]);
  });

  it('counts each acceptance of a sublicence offer against the parent: one free offer, one sublicence', () => {
    const w = licensingWorld();
    const parentPolicy: Policy = {
      permission: [
        {
          action: 'play',
          constraint: [{ leftOperand: 'count', operator: 'lteq', rightOperand: 1 }],
        },
        {
          action: 'sublicense',
          constraint: [{ leftOperand: 'count', operator: 'lteq', rightOperand: 1 }],
        },
      ],
    };
    expectOk(
      w.run(creator, 'licence.offer', { contentId, offerId: 'pp', policy: parentPolicy }),
      'o',
    );
    const parentId = w.accept(distributor, 'pp');
    const free: Policy = {
      permission: [
        {
          action: 'play',
          constraint: [{ leftOperand: 'count', operator: 'lteq', rightOperand: 1 }],
        },
      ],
    };
    expectOk(
      w.run(distributor, 'licence.offer', {
        contentId,
        offerId: 'free',
        policy: free,
        parent: parentId,
      }),
      'free sub-offer',
    );
    w.accept(buyer, 'free');
    assert.equal(agreement(w, parentId).used.sublicense, 1);
    for (const other of [buyer2, outsider, key(96)]) {
      assert.equal(
        refused(w, other, 'licence.accept', { contentId, offerId: 'free' }),
        'count_exhausted',
      );
    }
    // A sublicense use reported by the gateway is no way around it.
    assert.equal(
      refused(w, contentKey, 'licence.usage', { agreementId: parentId, uses: { sublicense: 1 } }),
      'action_not_permitted',
    );
  });

  it("sublicensees' offers cannot crowd the holder's out of the content's view", () => {
    const { w, parentId } = withParent();
    expectOk(
      w.run(creator, 'licence.offer', { contentId, offerId: 'zz-holder', policy: freePlay }),
      'h',
    );
    expectOk(
      w.run(distributor, 'licence.offer', {
        contentId,
        offerId: '0-first',
        policy: within,
        parent: parentId,
      }),
      'sub',
    );
    const view = contentView(w.state, contentId)!;
    assert.deepEqual(
      view.offers.map((o) => o.offerId),
      ['dist', 'zz-holder'],
    );
    assert.equal(view.openOffers, 3);
  });

  it('refuses: beyond the parent, not the licensee, no sublicense right, another content, revoked parent, sublicence of a sublicence', () => {
    const { w, parentId } = withParent();
    const sub = (policy: Policy, offerId = 'sub', parent = parentId) => ({
      contentId,
      offerId,
      policy,
      parent,
    });
    const beyond: Policy[] = [
      { permission: [{ action: 'download' }] },
      { permission: [{ action: 'play' }] },
      {
        permission: [
          {
            action: 'play',
            constraint: [
              { leftOperand: 'count', operator: 'lteq', rightOperand: 101 },
              { leftOperand: 'spatial', operator: 'isAnyOf', rightOperand: ['FR'] },
            ],
          },
        ],
      },
      {
        permission: [
          {
            action: 'play',
            constraint: [
              { leftOperand: 'count', operator: 'lteq', rightOperand: 10 },
              { leftOperand: 'spatial', operator: 'isAnyOf', rightOperand: ['FR', 'US'] },
            ],
          },
        ],
      },
      { permission: [...within.permission, { action: 'sublicense' }] },
    ];
    for (const policy of beyond) {
      assert.equal(refused(w, distributor, 'licence.offer', sub(policy)), 'exceeds_parent');
    }
    assert.equal(refused(w, buyer, 'licence.offer', sub(within)), 'not_licensee');
    assert.equal(
      refused(w, distributor, 'licence.offer', sub(within, 'sub', 'ab'.repeat(32))),
      'agreement_not_found',
    );
    // A plain licence does not permit sublicense.
    expectOk(
      w.run(creator, 'licence.offer', { contentId, offerId: 'plain', policy: freePlay }),
      'o',
    );
    const plainId = w.accept(buyer, 'plain');
    assert.equal(
      refused(w, buyer, 'licence.offer', sub(freePlay, 'sub', plainId)),
      'sublicense_not_permitted',
    );
    // The sublicense count (2 sublicences granted) is used up by two acceptances.
    expectOk(w.run(distributor, 'licence.offer', sub(within, 's1')), 's1');
    expectOk(w.run(distributor, 'licence.offer', sub(within, 's2')), 's2');
    expectOk(w.run(distributor, 'licence.offer', sub(within, 's3')), 's3');
    const subId = w.accept(buyer, 's1');
    w.accept(buyer2, 's3');
    assert.equal(
      refused(w, outsider, 'licence.accept', { contentId, offerId: 's2' }),
      'count_exhausted',
    );
    assert.equal(
      refused(w, distributor, 'licence.offer', sub(within, 's5')),
      'sublicense_not_permitted',
    );
    // A sublicence cannot sublicense again (its policy never permits it, nor can its parent be one).
    assert.equal(
      refused(w, buyer, 'licence.offer', sub(within, 's4', subId)),
      'sublicense_not_permitted',
    );
    // Another content's agreement is no parent here.
    const otherId = sha256Hex(utf8('other film'));
    expectOk(
      w.run(distributor, 'content.register', registration(distributor, otherId, key(91))),
      'other',
    );
    assert.equal(
      refused(w, distributor, 'licence.offer', { ...sub(within, 'x'), contentId: otherId }),
      'parent_content_mismatch',
    );
    // The parent revoked: its open sublicence offers cannot be accepted (parent_invalid comes
    // before count_exhausted).
    expectOk(w.run(creator, 'licence.revoke', { agreementId: parentId, reason: 'unpaid' }), 'rv');
    assert.equal(
      refused(w, buyer2, 'licence.accept', { contentId, offerId: 's2' }),
      'parent_invalid',
    );
  });
});

describe('licence.revoke', () => {
  it('by the offerer or the holder only, once', () => {
    const w = licensingWorld();
    expectOk(w.run(creator, 'licence.offer', { contentId, offerId: 'p', policy: freePlay }), 'o');
    const id = w.accept(buyer, 'p');
    const revoke = { agreementId: id, reason: 'terms broken' };
    assert.equal(refused(w, buyer, 'licence.revoke', revoke), 'not_offerer_or_holder');
    assert.equal(refused(w, outsider, 'licence.revoke', revoke), 'not_offerer_or_holder');
    assert.equal(
      refused(w, creator, 'licence.revoke', { ...revoke, reason: '' }),
      'invalid_revocation_reason',
    );
    assert.equal(
      refused(w, creator, 'licence.revoke', { ...revoke, agreementId: 'cd'.repeat(32) }),
      'agreement_not_found',
    );
    expectOk(w.run(creator, 'licence.revoke', revoke), 'revoke');
    const a = agreement(w, id);
    assert.equal(a.status, 'revoked');
    assert.equal(a.revokeReason, 'terms broken');
    assert.equal(a.revokedBy, creator.address);
    assert.equal(refused(w, creator, 'licence.revoke', revoke), 'agreement_revoked');
  });
});

describe('licence.usage', () => {
  function played() {
    const w = licensingWorld();
    expectOk(w.run(creator, 'licence.offer', { contentId, offerId: 'p', policy: paidPolicy }), 'o');
    const id = w.accept(buyer, 'p');
    return { w, id };
  }
  const device = (n: number) => sha256Hex(utf8(`device-${n}`));

  it("records uses and devices from the content's gateway account, within the limits", () => {
    const { w, id } = played();
    expectOk(
      w.run(contentKey, 'licence.usage', {
        agreementId: id,
        uses: { play: 2 },
        devices: [device(1)],
      }),
      'usage',
    );
    assert.deepEqual(w.events[0]?.data, {
      agreementId: id,
      contentId,
      licensee: buyer.address,
      uses: { play: 2 },
      used: { play: 2 },
      devices: 1,
      overuse: {},
      overuseDevices: 0,
    });
    // A device already recorded is not counted twice.
    expectOk(
      w.run(contentKey, 'licence.usage', {
        agreementId: id,
        uses: { play: 1 },
        devices: [device(1), device(2)],
      }),
      'usage 2',
    );
    const a = agreement(w, id);
    assert.deepEqual(a.used, { play: 3 });
    assert.deepEqual(a.devices, [device(1), device(2)]);
    assert.equal(a.overuse, undefined);
    assert.equal(a.overuseDevices, undefined);
  });

  it('records uses beyond the count and devices beyond the limit as overuse, never losing them', () => {
    const { w, id } = played();
    expectOk(
      w.run(contentKey, 'licence.usage', {
        agreementId: id,
        uses: { play: 2 },
        devices: [device(1)],
      }),
      'usage',
    );
    // Two more plays where one is left, three fresh devices where one is left: recorded, clamped.
    expectOk(
      w.run(contentKey, 'licence.usage', {
        agreementId: id,
        uses: { play: 2 },
        devices: [device(2), device(3), device(4)],
      }),
      'over',
    );
    let a = agreement(w, id);
    assert.deepEqual(a.used, { play: 3 });
    assert.deepEqual(a.devices, [device(1), device(2)]);
    assert.deepEqual(a.overuse, { play: 1 });
    assert.equal(a.overuseDevices, 2);
    assert.deepEqual(w.events[0]?.data, {
      agreementId: id,
      contentId,
      licensee: buyer.address,
      uses: { play: 2 },
      used: { play: 3 },
      devices: 2,
      overuse: { play: 1 },
      overuseDevices: 2,
    });
    // Once exhausted, every further use is overuse; the overuse adds up.
    expectOk(w.run(contentKey, 'licence.usage', { agreementId: id, uses: { play: 5 } }), 'more');
    a = agreement(w, id);
    assert.deepEqual(a.used, { play: 3 });
    assert.deepEqual(a.overuse, { play: 6 });
    assert.equal(a.overuseDevices, 2);
  });

  it('counts devices only for actions whose permission has a deviceCount (as usageDecision)', () => {
    const w = licensingWorld();
    const policy: Policy = {
      permission: [
        { action: 'display' },
        {
          action: 'play',
          constraint: [{ leftOperand: 'deviceCount', operator: 'lteq', rightOperand: 1 }],
        },
      ],
    };
    expectOk(w.run(creator, 'licence.offer', { contentId, offerId: 'd', policy }), 'o');
    const id = w.accept(buyer, 'd');
    // Devices on display (no deviceCount) are neither recorded nor overuse: they were not limited.
    expectOk(
      w.run(contentKey, 'licence.usage', {
        agreementId: id,
        uses: { display: 4 },
        devices: [device(1), device(2)],
      }),
      'display',
    );
    let a = agreement(w, id);
    assert.deepEqual(a.devices, []);
    assert.equal(a.overuseDevices, undefined);
    expectOk(
      w.run(contentKey, 'licence.usage', {
        agreementId: id,
        uses: { play: 1 },
        devices: [device(3), device(4)],
      }),
      'play',
    );
    a = agreement(w, id);
    assert.deepEqual(a.devices, [device(3)]);
    assert.equal(a.overuseDevices, 1);
  });

  it('refuses any sender but the gateway account, unpermitted actions, and unbounded reports', () => {
    const { w, id } = played();
    for (const sender of [buyer, creator, outsider]) {
      assert.equal(
        refused(w, sender, 'licence.usage', { agreementId: id, uses: { play: 1 } }),
        'not_gateway_account',
      );
    }
    assert.equal(
      refused(w, contentKey, 'licence.usage', { agreementId: id, uses: { download: 1 } }),
      'action_not_permitted',
    );
    // One unpermitted action refuses the whole report (the permitted play is not recorded).
    assert.equal(
      refused(w, contentKey, 'licence.usage', {
        agreementId: id,
        uses: { play: 1, display: 1 },
      }),
      'action_not_permitted',
    );
    assert.equal(
      refused(w, contentKey, 'licence.usage', { agreementId: id, uses: {} }),
      'invalid_uses',
    );
    assert.equal(
      refused(w, contentKey, 'licence.usage', { agreementId: id, uses: { play: 10_001 } }),
      'invalid_uses',
    );
    assert.equal(
      refused(w, contentKey, 'licence.usage', { agreementId: id, uses: { skip: 1 } }),
      'invalid_uses',
    );
    assert.equal(
      refused(w, contentKey, 'licence.usage', {
        agreementId: id,
        uses: { play: 1 },
        devices: Array.from({ length: 17 }, (_, i) => device(i)),
      }),
      'invalid_devices',
    );
    assert.equal(
      refused(w, contentKey, 'licence.usage', {
        agreementId: id,
        uses: { play: 1 },
        devices: [device(1), device(1)],
      }),
      'invalid_devices',
    );
  });

  it('still records usage served before a revocation', () => {
    const { w, id } = played();
    expectOk(w.run(creator, 'licence.revoke', { agreementId: id, reason: 'x' }), 'revoke');
    expectOk(
      w.run(contentKey, 'licence.usage', {
        agreementId: id,
        uses: { play: 1 },
        devices: [device(1)],
      }),
      'late usage',
    );
    assert.deepEqual(agreement(w, id).used, { play: 1 });
  });
});

describe('the ledger stays whole', () => {
  it('a failed payment half-way pays no one', () => {
    const w = licensingWorld();
    const poor = key(95);
    const ledger = w.ledger();
    // Enough for the first split only.
    assert.equal(ledger.transfer(buyer.address, poor.address, asset, 150n), undefined);
    w.state.release();
    expectOk(
      w.run(creator, 'content.assign', { contentId, to: publisher.address, share: 1500, index: 1 }),
      'a',
    );
    expectOk(
      w.run(publisher, 'licence.offer', { contentId, offerId: 'p', policy: paidPolicy }),
      'o',
    );
    assert.equal(
      refused(w, poor, 'licence.accept', { contentId, offerId: 'p' }),
      'insufficient_funds',
    );
    assert.equal(w.balance(poor.address), 150n);
    assert.equal(w.balance(buyer.address), funds - 150n);
  });
});
