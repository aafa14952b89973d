import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ledger } from '../../ledger/index.js';
import { auditLedger } from '../../ledger/invariants.js';
import { otherIssuer, outsider, provisioned, requestor } from '../tokens/txs-fixture.js';
import { readToken } from '../tokens/state.js';
import { readCard, readCardDevice, readCardToken } from './state.js';
import {
  acquirer,
  addDevicePayload,
  approvedDevice,
  answer,
  asset,
  authorisePayload,
  cardsWorld,
  device,
  face,
  funds,
  holder,
  issuer,
  linkedCard,
  mintPayload,
  minted,
  otherAcquirer,
  terminal,
  tsp,
} from './txs-fixture.js';

function withDevice(tokensMax = 10) {
  const w = cardsWorld();
  const { card, token } = linkedCard(w, 'card-1', { tokensMax });
  const d = device(40);
  approvedDevice(w, card, d);
  return { w, card, token, d };
}

describe('card.link, accept, close', () => {
  it('links a vault token its issuer issued, pending until the account accepts', () => {
    const w = cardsWorld();
    const token = provisioned(w);
    const link = {
      card: 'c-1',
      token,
      account: holder.address,
      asset,
      face,
      tokensMax: 5,
      tokenLifeMs: 3_600_000,
    };
    assert.equal(w.run(otherIssuer, 'card.link', link), 'not_card_issuer');
    assert.equal(w.run(issuer, 'card.link', { ...link, asset: 'EUR' }), 'asset_not_found');
    assert.equal(
      w.run(issuer, 'card.link', { ...link, token: '9900010000000000' }),
      'invalid_token',
    );
    assert.equal(w.run(issuer, 'card.link', link), 'ok');
    assert.deepEqual(
      w.events.map((e) => e.type),
      ['card.linked'],
    );
    const card = readCard(w.state, 'c-1')!;
    assert.equal(card.status, 'pending');
    const vault = readToken(w.state, token)!;
    assert.deepEqual(
      [card.last4, card.expiry],
      [vault.last4, vault.expiry],
      'from the vault token',
    );
    assert.match(card.last4, /^[0-9]{4}$/);
    assert.equal(w.run(issuer, 'card.link', link), 'card_exists');
    assert.equal(w.run(issuer, 'card.accept', { card: 'c-1' }), 'not_cardholder');
    assert.equal(w.run(holder, 'card.accept', { card: 'c-1' }), 'ok');
    assert.equal(readCard(w.state, 'c-1')!.status, 'active');
    assert.equal(w.run(holder, 'card.accept', { card: 'c-1' }), 'card_not_pending');
    assert.equal(w.run(outsider, 'card.close', { card: 'c-1' }), 'not_card_party');
    assert.equal(w.run(holder, 'card.close', { card: 'c-1' }), 'ok');
    assert.equal(w.run(issuer, 'card.close', { card: 'c-1' }), 'card_closed');
  });

  it('refuses a suspended vault token and a face with control characters', () => {
    const w = cardsWorld();
    const token = provisioned(w);
    const base = {
      card: 'c-2',
      token,
      account: holder.address,
      asset,
      tokensMax: 5,
      tokenLifeMs: 60_000,
    };
    assert.equal(
      w.run(issuer, 'card.link', { ...base, face: { ...face, product: 'Debit\u0007' } }),
      'invalid_card_face',
    );
    assert.equal(
      w.run(requestor, 'token.suspend', {
        token,
        seq: 1,
        initiator: 'requestor',
        reason: 'fraud_suspected',
      }),
      'ok',
    );
    assert.equal(w.run(issuer, 'card.link', { ...base, face }), 'token_not_active');
  });
});

describe('card.addDevice and removeDevice', () => {
  it("takes the device's signed box key from the issuer only", () => {
    const w = cardsWorld();
    const { card } = linkedCard(w);
    const d = device(41);
    const other = device(42);
    assert.equal(w.run(holder, 'card.addDevice', addDevicePayload(card, d)), 'not_card_issuer');
    const forged = { ...addDevicePayload(card, d), boxKey: other.boxKey };
    assert.equal(w.run(issuer, 'card.addDevice', forged), 'box_key_signature_invalid');
    const otherChain = addDevicePayload(card, d, 'another-chain');
    assert.equal(w.run(issuer, 'card.addDevice', otherChain), 'box_key_signature_invalid');
    approvedDevice(w, card, d);
    assert.equal(w.run(issuer, 'card.addDevice', addDevicePayload(card, d)), 'device_exists');
    assert.deepEqual(readCard(w.state, card)!.devices, [d.address]);
  });

  it('caps a card at 10 devices; a removed device frees its place and keeps its request numbers', () => {
    const w = cardsWorld();
    const { card } = linkedCard(w);
    const devices = Array.from({ length: 11 }, (_, i) => device(50 + i));
    for (const d of devices.slice(0, 10)) {
      approvedDevice(w, card, d);
    }
    assert.equal(
      w.run(issuer, 'card.addDevice', addDevicePayload(card, devices[10]!)),
      'card_devices_full',
    );
    const first = devices[0]!;
    minted(w, card, first, 2);
    assert.equal(
      w.run(outsider, 'card.removeDevice', { card, device: first.address }),
      'not_card_party',
    );
    assert.equal(w.run(holder, 'card.removeDevice', { card, device: first.address }), 'ok');
    assert.equal(w.events[0]!.data.tokensDropped, 2);
    assert.equal(
      w.run(holder, 'card.removeDevice', { card, device: first.address }),
      'device_removed',
    );
    assert.equal(w.run(issuer, 'card.addDevice', addDevicePayload(card, devices[10]!)), 'ok');
    assert.equal(w.run(issuer, 'card.removeDevice', { card, device: devices[10]!.address }), 'ok');
    assert.equal(w.run(issuer, 'card.addDevice', addDevicePayload(card, first)), 'ok');
    assert.equal(readCardDevice(w.state, card, first.address)!.nextRequest, 2);
  });

  it('needs the cardholder to approve a device before it mints: the issuer alone cannot spend', () => {
    const w = cardsWorld();
    const { card } = linkedCard(w);
    const rogue = device(43); // a key the issuer made itself
    assert.equal(w.run(issuer, 'card.addDevice', addDevicePayload(card, rogue)), 'ok');
    assert.equal(readCardDevice(w.state, card, rogue.address)!.status, 'pending');
    assert.equal(
      w.run(tsp, 'card.mintTokens', mintPayload(w, card, rogue, 1, 'issuer')),
      'device_not_approved',
    );
    assert.equal(
      w.run(issuer, 'card.approveDevice', { card, device: rogue.address }),
      'not_cardholder',
    );
    assert.equal(w.run(holder, 'card.approveDevice', { card, device: rogue.address }), 'ok');
    assert.deepEqual(
      w.events.map((e) => e.type),
      ['card.deviceApproved'],
    );
    assert.equal(
      w.run(holder, 'card.approveDevice', { card, device: rogue.address }),
      'device_not_pending',
    );
  });

  it('refuses a low-order box key, even signed by the device', () => {
    const w = cardsWorld();
    const { card } = linkedCard(w);
    const d = { ...device(44), boxKey: '00'.repeat(32) };
    assert.equal(w.run(issuer, 'card.addDevice', addDevicePayload(card, d)), 'invalid_box_key');
  });

  it('never lets tokens minted before a removal pay after the device is added again', () => {
    const { w, card, d } = withDevice();
    const [old] = minted(w, card, d, 1);
    assert.equal(w.run(holder, 'card.removeDevice', { card, device: d.address }), 'ok');
    approvedDevice(w, card, d);
    const link = readCardDevice(w.state, card, d.address)!;
    assert.deepEqual([link.epoch, link.status, link.outstanding], [2, 'active', []]);
    assert.equal(readCardToken(w.state, old!), undefined, 'removed with its device');
    const t = terminal('300');
    assert.equal(
      w.run(tsp, 'card.authorise', authorisePayload(t, answer(old!, t))),
      'card_token_not_found',
    );
    const [fresh] = minted(w, card, d, 1);
    assert.equal(readCardToken(w.state, fresh!)!.epoch, 2);
  });
});

describe('one card per vault token', () => {
  it('refuses a second live card on a vault token, allows one once the first is closed', () => {
    const w = cardsWorld();
    const { card, token } = linkedCard(w, 'card-a');
    const again = {
      card: 'card-b',
      token,
      account: holder.address,
      asset,
      face,
      tokensMax: 5,
      tokenLifeMs: 60_000,
    };
    assert.equal(w.run(issuer, 'card.link', again), 'token_linked');
    assert.equal(w.run(issuer, 'card.close', { card }), 'ok');
    assert.equal(w.run(issuer, 'card.link', again), 'ok');
  });

  it('mints only for an accepted card, and deletes the records of expired unused tokens', () => {
    const w = cardsWorld();
    const token = provisioned(w);
    const link = {
      card: 'c-p',
      token,
      account: holder.address,
      asset,
      face,
      tokensMax: 5,
      tokenLifeMs: 60_000,
    };
    assert.equal(w.run(issuer, 'card.link', link), 'ok');
    const d = device(45);
    assert.equal(w.run(issuer, 'card.addDevice', addDevicePayload('c-p', d)), 'ok');
    assert.equal(w.run(holder, 'card.approveDevice', { card: 'c-p', device: d.address }), 'ok');
    assert.equal(w.run(tsp, 'card.mintTokens', mintPayload(w, 'c-p', d, 1)), 'card_not_accepted');
    assert.equal(w.run(holder, 'card.accept', { card: 'c-p' }), 'ok');
    const [first] = minted(w, 'c-p', d, 2);
    w.time += 60_001;
    minted(w, 'c-p', d, 1);
    assert.equal(readCardToken(w.state, first!), undefined, 'expired and unused: gone');
  });
});

describe('card.mintTokens', () => {
  it("is relayed by a validator operator for the issuer's or the device's signed request, in order", () => {
    const { w, card, d } = withDevice(4);
    const payload = mintPayload(w, card, d, 2);
    assert.equal(w.run(issuer, 'card.mintTokens', payload), 'not_card_relay');
    assert.equal(w.run(outsider, 'card.mintTokens', payload), 'not_card_relay');
    const forged = {
      ...payload,
      count: 3,
      tokens: [...payload.tokens, mintPayload(w, card, d, 1).tokens[0]!],
    };
    assert.equal(w.run(tsp, 'card.mintTokens', forged), 'mint_request_signature_invalid');
    assert.equal(
      w.run(tsp, 'card.mintTokens', { ...payload, tokens: payload.tokens.slice(1) }),
      'token_count_mismatch',
    );
    assert.equal(
      w.run(tsp, 'card.mintTokens', mintPayload(w, card, d, 1, 'device', 2)),
      'request_out_of_order',
    );
    assert.equal(w.run(tsp, 'card.mintTokens', payload), 'ok');
    assert.equal(w.run(tsp, 'card.mintTokens', payload), 'request_out_of_order', 'a replay');
    const link = readCardDevice(w.state, card, d.address)!;
    assert.equal(link.nextRequest, 2);
    assert.deepEqual(link.lastBatch, { n: 1, tokens: payload.tokens.map((t) => t.token) });
    const record = readCardToken(w.state, payload.tokens[0]!.token)!;
    assert.equal(record.status, 'unused');
    assert.equal(record.expiresAt, w.time + 3_600_000);
    assert.equal(w.run(tsp, 'card.mintTokens', mintPayload(w, card, d, 2, 'issuer')), 'ok');
    assert.equal(
      w.run(tsp, 'card.mintTokens', mintPayload(w, card, d, 1)),
      'card_tokens_limit',
      'the issuer allows 4 unused tokens on the device',
    );
  });

  it('counts only live tokens against the limit, and refuses a token id twice', () => {
    const { w, card, d } = withDevice(2);
    const first = mintPayload(w, card, d, 2);
    assert.equal(w.run(tsp, 'card.mintTokens', first), 'ok');
    w.time += 3_600_001;
    const again = mintPayload(w, card, d, 2);
    assert.equal(
      w.run(tsp, 'card.mintTokens', { ...again, tokens: [again.tokens[0]!, first.tokens[0]!] }),
      'card_token_exists',
    );
    assert.equal(w.run(tsp, 'card.mintTokens', again), 'ok');
    assert.deepEqual(
      readCardDevice(w.state, card, d.address)!.outstanding.map((e) => e.token),
      again.tokens.map((t) => t.token),
    );
  });
});

describe('card.authorise', () => {
  it('uses the token and holds the amount for the acquirer in one tx; capture goes through the hold', () => {
    const { w, card, d } = withDevice();
    const [token] = minted(w, card, d, 1);
    const t = terminal('1250');
    assert.equal(w.run(tsp, 'card.authorise', authorisePayload(t, answer(token!, t))), 'ok');
    const holdId = readCardToken(w.state, token!)!.consumed!.holdId!;
    const ledger = new Ledger(w.state);
    assert.equal(ledger.balance(holder.address, asset), funds - 1250n);
    assert.equal(ledger.hold(holdId)!.payee, acquirer.address);
    assert.deepEqual(
      w.events.map((e) => e.type),
      ['card.authorised'],
    );
    assert.equal(readCardDevice(w.state, card, d.address)!.outstanding.length, 0);
    assert.equal(readCardDevice(w.state, card, d.address)!.consumed, 1);
    assert.equal(ledger.postHold(acquirer.address, holdId), undefined);
    assert.equal(ledger.balance(acquirer.address, asset), 1250n);
    assert.deepEqual(auditLedger((prefix) => w.state.range(prefix, 1_000_000)).problems, []);
  });

  it('refuses a token that paid once, however it comes back (a replay, a copied device)', () => {
    const { w, card, d } = withDevice();
    const [token] = minted(w, card, d, 1);
    const t = terminal('500');
    const first = authorisePayload(t, answer(token!, t));
    assert.equal(w.run(tsp, 'card.authorise', first), 'ok');
    assert.equal(w.run(tsp, 'card.authorise', first), 'card_token_consumed');
    const elsewhere = terminal('700', 'm-2');
    const copy = authorisePayload(elsewhere, answer(token!, elsewhere, 1), otherAcquirer);
    assert.equal(w.run(tsp, 'card.authorise', copy), 'card_token_consumed');
    assert.equal(new Ledger(w.state).balance(holder.address, asset), funds - 500n);
  });

  it('refuses, changing nothing, only a missing token, a key that is not its key, a used token', () => {
    const { w, card, d } = withDevice();
    const [token] = minted(w, card, d, 1);
    const t = terminal('1000');
    const signed = authorisePayload(t, answer(token!, t));
    const run = (payload: Record<string, unknown>) => w.run(tsp, 'card.authorise', payload);
    assert.equal(run({ ...signed, key: '00'.repeat(32) }), 'card_token_key_invalid');
    assert.equal(
      run(authorisePayload(t, { ...answer(token!, t), token: '0'.repeat(31) + 'f' })),
      'card_token_not_found',
    );
    assert.equal(readCardToken(w.state, token!)!.status, 'unused');
    assert.equal(run(signed), 'ok');
    assert.equal(run(signed), 'card_token_consumed');
  });

  it('declines, using the token, what the device did not sign or the acquirer may not ask', () => {
    const { w, card, d } = withDevice();
    const tokens = minted(w, card, d, 7);
    const t = terminal('1000');
    const cases: [string, (token: string) => Record<string, unknown>][] = [
      ['amount_mismatch', (k) => authorisePayload(terminal('9000'), answer(k, t))],
      [
        'cryptogram_invalid',
        (k) => authorisePayload(terminal('9000'), { ...answer(k, t), amount: '9000' }),
      ],
      [
        'unpredictable_number_mismatch',
        (k) => authorisePayload({ ...t, unpredictableNumber: 'ffffffff' }, answer(k, t)),
      ],
      ['acquirer_merchant_refused', (k) => authorisePayload(terminal('1000', 'm-2'), answer(k, t))],
      ['not_acquirer', (k) => authorisePayload(t, answer(k, t), outsider)],
      [
        'authorisation_signature_invalid',
        (k) => ({ ...authorisePayload(t, answer(k, t)), holdBlocks: 200 }),
      ],
      ['currency_mismatch', (k) => authorisePayload(t, { ...answer(k, t), currency: 'EUR' })],
    ];
    cases.forEach(([code, payload], i) => {
      assert.equal(w.run(tsp, 'card.authorise', payload(tokens[i]!)), 'ok', code);
      assert.equal(readCardToken(w.state, tokens[i]!)!.consumed!.declined, code);
    });
    assert.equal(new Ledger(w.state).balance(holder.address, asset), funds);
  });

  it('declines, using the token, a payment the cryptogram proves but the card cannot make', () => {
    const { w, card, token: vaultToken, d } = withDevice();
    const tokens = minted(w, card, d, 4);
    const decline = (token: string, t = terminal()) => {
      assert.equal(w.run(tsp, 'card.authorise', authorisePayload(t, answer(token, t))), 'ok');
      const used = readCardToken(w.state, token)!;
      assert.equal(used.status, 'consumed');
      assert.equal(used.consumed!.holdId, undefined);
      return used.consumed!.declined;
    };
    assert.equal(decline(tokens[0]!, terminal(String(funds + 1n))), 'insufficient_funds');
    assert.equal(
      w.run(issuer, 'token.suspend', {
        token: vaultToken,
        seq: 1,
        initiator: 'issuer',
        reason: 'fraud_suspected',
      }),
      'ok',
    );
    assert.equal(decline(tokens[1]!), 'card_suspended');
    assert.equal(
      w.run(issuer, 'token.resume', {
        token: vaultToken,
        seq: 2,
        initiator: 'issuer',
        reason: 'verified',
      }),
      'ok',
    );
    w.time += 3_600_001;
    assert.equal(decline(tokens[2]!), 'card_token_expired');
    assert.equal(new Ledger(w.state).balance(holder.address, asset), funds);
    assert.deepEqual(auditLedger((prefix) => w.state.range(prefix, 1_000_000)).problems, []);
  });

  it('uses up a token whose real key reached a tx, whatever fails after (a relay by a non-validator)', () => {
    const { w, card, d } = withDevice();
    const [token] = minted(w, card, d, 1);
    const t = terminal('100');
    const payload = authorisePayload(t, answer(token!, t));
    assert.equal(w.run(outsider, 'card.authorise', payload), 'ok');
    assert.equal(readCardToken(w.state, token!)!.consumed!.declined, 'not_card_relay');
    // The key is public now: a forged payment with it is refused, the token being used.
    assert.equal(w.run(tsp, 'card.authorise', payload), 'card_token_consumed');
    assert.equal(new Ledger(w.state).balance(holder.address, asset), funds);
  });

  it('declines another currency and a closed card; a removed device has no tokens left', () => {
    const { w, card, d } = withDevice();
    const [a, b, c] = minted(w, card, d, 3);
    const t = terminal();
    const eur = { ...t, currency: 'EUR' };
    assert.equal(w.run(tsp, 'card.authorise', authorisePayload(eur, answer(a!, eur))), 'ok');
    assert.equal(readCardToken(w.state, a!)!.consumed!.declined, 'card_currency_mismatch');
    assert.equal(w.run(holder, 'card.close', { card }), 'ok');
    assert.equal(w.run(tsp, 'card.authorise', authorisePayload(t, answer(b!, t))), 'ok');
    assert.equal(readCardToken(w.state, b!)!.consumed!.declined, 'card_closed');
    assert.equal(w.run(holder, 'card.removeDevice', { card, device: d.address }), 'ok');
    assert.equal(
      w.run(tsp, 'card.authorise', authorisePayload(t, answer(c!, t))),
      'card_token_not_found',
      "a removed device's unused tokens are gone",
    );
  });
});
