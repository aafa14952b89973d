import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalize } from '../../crypto/index.js';
import { Ledger, holdsPerAccountMax, ledgerKeys, type AccountRecord } from '../../ledger/index.js';
import { provisioned } from '../tokens/txs-fixture.js';
import { readToken } from '../tokens/api.js';
import { readCard, readCardDevice, readCardToken } from './state.js';
import { holdRefusal, liveTokens } from './txs-payments.js';
import {
  acquirer,
  addDevicePayload,
  answer,
  approvedDevice,
  asset,
  authorisePayload,
  cardsWorld,
  device,
  funds,
  holder,
  issuer,
  linkedCard,
  mintPayload,
  minted,
  terminal,
  tsp,
} from './txs-fixture.js';

/*
 * The edges of the cards handlers: expiry at the exact millisecond, batches on a closed card or a
 * removed device, a batch naming one token twice, the counts and events each tx leaves, and the
 * ledger's hold as the route checks it before relaying (`holdRefusal`).
 */

const life = 3_600_000;

function withDevice() {
  const w = cardsWorld();
  const { card, token } = linkedCard(w, 'card-1', { tokenLifeMs: life });
  const d = device(40);
  approvedDevice(w, card, d);
  return { w, card, token, d };
}

describe('expiry, to the millisecond', () => {
  it('a token is live, kept and paid at its expiry, gone one millisecond after', () => {
    const { w, card, d } = withDevice();
    const [a, b] = minted(w, card, d, 2);
    const expiresAt = readCardToken(w.state, a!)!.expiresAt;
    const link = readCardDevice(w.state, card, d.address)!;
    assert.equal(liveTokens(link, expiresAt).length, 2);
    assert.equal(liveTokens(link, expiresAt + 1).length, 0);
    w.time = expiresAt;
    minted(w, card, d, 1);
    assert.ok(readCardToken(w.state, b!), 'not deleted at its expiry');
    const t = terminal('100');
    assert.equal(w.run(tsp, 'card.authorise', authorisePayload(t, answer(a!, t))), 'ok');
    assert.ok(readCardToken(w.state, a!)!.consumed!.holdId, 'paid at its expiry');
    w.time = expiresAt + 1;
    const t2 = terminal('200');
    assert.equal(w.run(tsp, 'card.authorise', authorisePayload(t2, answer(b!, t2))), 'ok');
    assert.equal(readCardToken(w.state, b!)!.consumed!.declined, 'card_token_expired');
  });
});

describe('batches', () => {
  it('refuses a closed card and a removed device', () => {
    const { w, card, d } = withDevice();
    assert.equal(w.run(holder, 'card.removeDevice', { card, device: d.address }), 'ok');
    assert.equal(w.run(tsp, 'card.mintTokens', mintPayload(w, card, d, 1)), 'device_removed');
    assert.equal(w.run(issuer, 'card.close', { card }), 'ok');
    assert.equal(w.run(tsp, 'card.mintTokens', mintPayload(w, card, d, 1)), 'card_closed');
  });

  it('refuses a batch naming one token twice; counts what it mints and says so', () => {
    const { w, card, d } = withDevice();
    const payload = mintPayload(w, card, d, 2);
    const twice = { ...payload, tokens: [payload.tokens[0]!, payload.tokens[0]!] };
    assert.equal(w.run(tsp, 'card.mintTokens', twice), 'card_token_exists');
    assert.equal(w.run(tsp, 'card.mintTokens', payload), 'ok');
    assert.equal(readCardDevice(w.state, card, d.address)!.minted, 2);
    minted(w, card, d, 3);
    assert.equal(readCardDevice(w.state, card, d.address)!.minted, 5);
    const [event] = w.events;
    assert.equal(event!.type, 'card.tokensMinted');
    assert.equal(event!.data.card, card);
    assert.equal(event!.data.device, d.address);
    assert.equal(event!.data.n, 2);
    assert.equal(event!.data.by, 'device');
    assert.equal((event!.data.tokens as string[]).length, 3);
    assert.equal(event!.data.expiresAt, w.time + life);
  });
});

describe('authorisation events', () => {
  it('says who, where, what and the hold; a decline says its code', () => {
    const { w, card, d } = withDevice();
    const [a, b] = minted(w, card, d, 2);
    const t = terminal('1250');
    assert.equal(w.run(tsp, 'card.authorise', authorisePayload(t, answer(a!, t, 7))), 'ok');
    const [approved] = w.events;
    assert.deepEqual(approved, {
      type: 'card.authorised',
      data: {
        token: a,
        card,
        device: d.address,
        acquirer: acquirer.address,
        merchantId: 'm-1',
        amount: '1250',
        currency: asset,
        counter: 7,
        holdId: readCardToken(w.state, a!)!.consumed!.holdId,
        expiresAtHeight: readCardToken(w.state, a!)!.consumed!.holdExpiresAtHeight,
      },
    });
    const other = { ...t, merchantId: 'm-1' };
    const paid = answer(b!, other, 8);
    assert.equal(
      w.run(tsp, 'card.authorise', authorisePayload(other, { ...paid, merchantId: 'm-2' })),
      'ok',
    );
    const [declined] = w.events;
    assert.equal(declined!.type, 'card.declined');
    assert.equal(declined!.data.code, 'merchant_mismatch');
    assert.equal(declined!.data.token, b);
    assert.equal(declined!.data.amount, '1250');
  });

  it('declines a card whose vault token was deleted', () => {
    const { w, card, token, d } = withDevice();
    const [a] = minted(w, card, d, 1);
    assert.equal(
      w.run(issuer, 'token.delete', {
        token,
        seq: 1,
        initiator: 'issuer',
        reason: 'account_closed',
      }),
      'ok',
    );
    const t = terminal('100');
    assert.equal(w.run(tsp, 'card.authorise', authorisePayload(t, answer(a!, t))), 'ok');
    assert.equal(readCardToken(w.state, a!)!.consumed!.declined, 'card_deleted');
  });
});

describe('holdRefusal: the ledger hold as the route checks it', () => {
  function account(w: ReturnType<typeof cardsWorld>, address: string): AccountRecord {
    return new Ledger(w.state).account(address);
  }

  it('answers what createHold would, in its order', () => {
    const { w, card } = withDevice();
    const record = readCard(w.state, card)!;
    assert.equal(holdRefusal(w.state, record, acquirer.address, funds), undefined, 'all of it');
    assert.equal(holdRefusal(w.state, record, acquirer.address, funds + 1n), 'insufficient_funds');
    assert.equal(holdRefusal(w.state, record, holder.address, 1n), 'accounts_must_be_different');
    const full = { ...account(w, holder.address) };
    full.holds = Array.from({ length: holdsPerAccountMax }, (_, i) =>
      i.toString(16).padStart(64, '0'),
    );
    w.state.set(ledgerKeys.account(holder.address), canonicalize(full));
    assert.equal(holdRefusal(w.state, record, acquirer.address, 1n), 'too_many_holds');
    full.holds = full.holds.slice(1);
    w.state.set(ledgerKeys.account(holder.address), canonicalize(full));
    assert.equal(holdRefusal(w.state, record, acquirer.address, 1n), undefined);
    assert.equal(
      new Ledger(w.state).setFrozen(tsp.address, asset, acquirer.address, true),
      undefined,
    );
    assert.equal(holdRefusal(w.state, record, acquirer.address, 1n), 'account_frozen');
    assert.equal(
      new Ledger(w.state).setFrozen(tsp.address, asset, acquirer.address, false),
      undefined,
    );
    assert.equal(
      new Ledger(w.state).setFrozen(tsp.address, asset, holder.address, true),
      undefined,
    );
    assert.equal(holdRefusal(w.state, record, acquirer.address, 1n), 'account_frozen');
  });
});

describe("a card's own txs: what each says and keeps", () => {
  it('emits each event with its fields; a closed card takes no device; removal frees its place', () => {
    const w = cardsWorld();
    const { card } = linkedCard(w, 'card-e', { tokenLifeMs: life });
    // linkedCard ran card.link then card.accept: the last events are accept's.
    assert.deepEqual(w.events, [
      { type: 'card.accepted', data: { card, account: holder.address } },
    ]);
    const d = device(46);
    const payload = {
      card,
      device: d.address,
      boxKey: d.boxKey,
      boxKeySignature: addDevicePayload(card, d).boxKeySignature,
    };
    assert.equal(w.run(issuer, 'card.addDevice', payload), 'ok');
    assert.deepEqual(w.events, [
      { type: 'card.deviceAdded', data: { card, device: d.address, boxKey: d.boxKey } },
    ]);
    assert.equal(w.run(holder, 'card.approveDevice', { card, device: d.address }), 'ok');
    assert.deepEqual(w.events, [
      {
        type: 'card.deviceApproved',
        data: { card, device: d.address, account: holder.address },
      },
    ]);
    const other = device(47);
    approvedDevice(w, card, other);
    assert.equal(w.run(issuer, 'card.removeDevice', { card, device: d.address }), 'ok');
    assert.deepEqual(w.events, [
      {
        type: 'card.deviceRemoved',
        data: { card, device: d.address, by: issuer.address, tokensDropped: 0 },
      },
    ]);
    assert.deepEqual(
      readCard(w.state, card)!.devices,
      [other.address],
      'only the removed one goes',
    );
    assert.equal(w.run(holder, 'card.close', { card }), 'ok');
    assert.deepEqual(w.events, [{ type: 'card.closed', data: { card, by: holder.address } }]);
    assert.equal(w.run(issuer, 'card.addDevice', payload), 'card_closed');
  });

  it('says what it linked', () => {
    const w = cardsWorld();
    const token = provisioned(w);
    const link = {
      card: 'card-l',
      token,
      account: holder.address,
      asset,
      face: { issuerName: 'Bank', product: 'Debit', art: 'blue', colour: '#1f4e79' },
      tokensMax: 4,
      tokenLifeMs: life,
    };
    assert.equal(w.run(issuer, 'card.link', link), 'ok');
    const vault = readToken(w.state, token)!;
    assert.deepEqual(w.events, [
      {
        type: 'card.linked',
        data: {
          card: 'card-l',
          issuer: issuer.address,
          account: holder.address,
          asset,
          last4: vault.last4,
          expiry: vault.expiry,
          tokensMax: 4,
          tokenLifeMs: life,
        },
      },
    ]);
  });
});
