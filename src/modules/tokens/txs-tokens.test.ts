import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { readRequest, readToken } from './state.js';
import {
  acquirer,
  chainId,
  detokenisePayload,
  issuer,
  issuerBin,
  nextToken,
  otherIssuer,
  otherIssuerBin,
  otherPan,
  outsider,
  pan,
  panUpdatePayload,
  provisioned,
  provisionPayload,
  requestor,
  serviceIn,
  tokenBin,
  tsp,
  TxWorld,
  vaultKeys,
  wallet,
  withCheckDigit,
} from './txs-fixture.js';
import { openPan, parseVaultKeys, rewrapEnvelope } from './vault.js';

function world(): TxWorld {
  const w = new TxWorld();
  serviceIn(w);
  return w;
}

const lifecycle = (token: string, seq: number, initiator = 'issuer', reason = 'verified') => ({
  token,
  seq,
  initiator,
  reason,
});

describe('token.provision', () => {
  it('records an active token with its envelope, never the PAN', () => {
    const w = world();
    const payload = provisionPayload({ wallet: wallet.address });
    assert.equal(w.run(tsp, 'token.provision', payload), 'ok');
    const token = payload.token as string;
    const record = readToken(w.state, token)!;
    assert.equal(record.status, 'active');
    assert.equal(record.seq, 0);
    assert.equal(record.issuer, issuer.address);
    assert.equal(record.wallet, wallet.address);
    assert.equal(record.bin, issuerBin);
    assert.equal(record.last4, pan.slice(-4));
    assert.equal(openPan(vaultKeys, chainId, token, record.vault), pan);
    assert.equal(readRequest(w.state, requestor.address, payload.requestId as string), token);
    assert.equal(w.events[0]?.type, 'token.provisioned');
    const written = JSON.stringify([...w.state.writes()]) + JSON.stringify(w.events);
    assert.equal(written.includes(pan), false, 'no PAN in state or events');
  });

  it('refuses in precedence, each case leaving state as it was', () => {
    const w = world();
    const used = provisioned(w, { requestId: 'used' });
    const cases: [string | { address: string }, Record<string, unknown>, string][] = [
      [requestor, provisionPayload(), 'not_token_service'],
      [outsider, provisionPayload(), 'not_token_service'],
      [
        tsp,
        provisionPayload({ requestorAddress: outsider.address, signer: outsider }),
        'not_requestor',
      ],
      [
        tsp,
        provisionPayload({ requestorAddress: acquirer.address, signer: acquirer }),
        'not_requestor',
      ],
      [tsp, provisionPayload({ wallet: outsider.address }), 'not_wallet'],
      [tsp, provisionPayload({ token: withCheckDigit('990002000000001') }), 'token_bin_invalid'],
      [tsp, provisionPayload({ token: pan }), 'token_bin_invalid'],
      [tsp, provisionPayload({ cardPan: withCheckDigit('700000000000001') }), 'issuer_not_found'],
      [
        tsp,
        provisionPayload({ cardPan: withCheckDigit(tokenBin + '000000001') }),
        'issuer_not_found',
      ],
      [tsp, provisionPayload({ signer: outsider }), 'token_request_signature_invalid'],
      [tsp, provisionPayload({ requestId: 'used' }), 'token_request_duplicate'],
      [tsp, provisionPayload({ token: used }), 'token_exists'],
    ];
    for (const [sender, payload, code] of cases) {
      const before = JSON.stringify([...w.state.writes()]);
      assert.equal(w.run(sender as never, 'token.provision', payload), code);
      assert.equal(JSON.stringify([...w.state.writes()]), before);
    }
  });

  it('refuses before the service is configured', () => {
    const w = new TxWorld();
    w.run(tsp, 'tokens.registerParticipant', {
      address: requestor.address,
      name: 'Pay',
      roles: ['requestor'],
    });
    assert.equal(w.run(tsp, 'token.provision', provisionPayload()), 'token_bins_not_configured');
  });

  it('a signature binds every signed field: a changed domain or commitment fails', () => {
    const w = world();
    const payload = provisionPayload();
    const widened = { ...payload, domain: { channels: ['ecommerce'], merchantIds: ['m1'] } };
    assert.equal(w.run(tsp, 'token.provision', widened), 'token_request_signature_invalid');
    const swapped = { ...payload, commitment: 'cd'.repeat(32) };
    assert.equal(w.run(tsp, 'token.provision', swapped), 'token_request_signature_invalid');
  });

  it('refuses bad fields with their codes', () => {
    const w = world();
    const good = provisionPayload();
    const cases: [Record<string, unknown>, string][] = [
      [{ token: '4111111111111112' }, 'invalid_token'],
      [{ token: '12345' }, 'invalid_token'],
      [{ requestId: 'a b' }, 'invalid_request_id'],
      [{ bin: '4111' }, 'invalid_bin'],
      [{ last4: '12a4' }, 'invalid_last4'],
      [{ expiry: '2030-13' }, 'invalid_card_expiry'],
      [{ domain: { channels: [], merchantIds: [] } }, 'invalid_domain'],
      [{ domain: { channels: ['ecommerce'], merchantIds: Array(21).fill('m') } }, 'invalid_domain'],
      [{ assuranceLevel: 'total' }, 'invalid_assurance_level'],
      [{ commitment: 'x' }, 'invalid_hash'],
      [{ vault: { kekId: 'k1' } }, 'invalid_vault_envelope'],
      [{ signature: 'ab' }, 'invalid_signature'],
    ];
    for (const [change, code] of cases) {
      assert.equal(
        w.run(tsp, 'token.provision', { ...good, ...change }),
        code,
        JSON.stringify(change),
      );
    }
  });
});

describe('lifecycle events', () => {
  it('suspend, resume and delete move the token with its sequence number', () => {
    const w = world();
    const token = provisioned(w, { wallet: wallet.address });
    assert.equal(readToken(w.state, token)?.status, 'active');
    assert.equal(
      w.run(wallet, 'token.suspend', lifecycle(token, 1, 'wallet', 'device_lost')),
      'ok',
    );
    assert.deepEqual(w.events[0], {
      type: 'token.suspended',
      data: {
        token,
        seq: 1,
        status: 'suspended',
        initiator: 'wallet',
        by: wallet.address,
        reason: 'device_lost',
      },
    });
    assert.equal(readToken(w.state, token)?.suspendedBy, 'wallet');
    assert.equal(w.run(requestor, 'token.resume', lifecycle(token, 2, 'requestor')), 'ok');
    assert.equal(readToken(w.state, token)?.suspendedBy, undefined);
    assert.equal(w.run(requestor, 'token.delete', lifecycle(token, 3, 'requestor')), 'ok');
    assert.equal(readToken(w.state, token)?.status, 'deleted');
    assert.equal(readToken(w.state, token)?.seq, 3);
    // There is no activation step any more.
    assert.throws(() => w.run(issuer, 'token.activate', lifecycle(token, 4)), /no tx type/);
  });

  it('refuses a party that is not the one it names, and initiators the table does not allow', () => {
    const w = world();
    const token = provisioned(w);
    assert.equal(w.run(outsider, 'token.suspend', lifecycle(token, 1)), 'not_token_party');
    assert.equal(w.run(otherIssuer, 'token.suspend', lifecycle(token, 1)), 'not_token_party');
    assert.equal(w.run(acquirer, 'token.suspend', lifecycle(token, 1)), 'not_token_party');
    // No wallet was named at provision: nobody is its wallet.
    assert.equal(w.run(wallet, 'token.delete', lifecycle(token, 1, 'wallet')), 'not_token_party');
    assert.equal(readToken(w.state, token)?.status, 'active');
    assert.equal(
      w.run(issuer, 'token.suspend', lifecycle(token, 5, 'requestor')),
      'not_token_party',
    );
  });

  it('refuses out-of-order events, events for a deleted token and transitions outside the table', () => {
    const w = world();
    const token = provisioned(w);
    assert.equal(w.run(issuer, 'token.suspend', lifecycle(token, 2)), 'sequence_out_of_order');
    assert.equal(w.run(issuer, 'token.resume', lifecycle(token, 1)), 'transition_not_allowed');
    assert.equal(
      w.run(issuer, 'token.suspend', lifecycle(token, 1, 'issuer', 'fraud_suspected')),
      'ok',
    );
    assert.equal(w.run(issuer, 'token.suspend', lifecycle(token, 1)), 'sequence_out_of_order');
    assert.equal(w.run(issuer, 'token.suspend', lifecycle(token, 2)), 'transition_not_allowed');
    assert.equal(
      w.run(requestor, 'token.resume', lifecycle(token, 2, 'requestor')),
      'resume_by_issuer_only',
    );
    assert.equal(w.run(issuer, 'token.delete', lifecycle(token, 2)), 'ok');
    assert.equal(w.run(issuer, 'token.resume', lifecycle(token, 3)), 'token_deleted');
    assert.equal(w.run(issuer, 'token.updatePan', panUpdatePayload(token, 3)), 'not_token_service');
    assert.equal(w.run(tsp, 'token.updatePan', panUpdatePayload(token, 3)), 'token_deleted');
    assert.equal(w.run(issuer, 'token.suspend', lifecycle(nextToken(), 1)), 'token_not_found');
  });
});

describe('token.updatePan', () => {
  it("changes the expiry, or the PAN of the same issuer, keeping the token's status", () => {
    const w = world();
    const token = provisioned(w);
    assert.equal(w.run(tsp, 'token.updatePan', panUpdatePayload(token, 1)), 'ok');
    assert.equal(readToken(w.state, token)?.expiry, '2031-06');
    assert.equal(w.run(tsp, 'token.updatePan', panUpdatePayload(token, 2, otherPan)), 'ok');
    const record = readToken(w.state, token)!;
    assert.equal(record.status, 'active');
    assert.equal(record.seq, 2);
    assert.equal(record.last4, otherPan.slice(-4));
    assert.equal(openPan(vaultKeys, chainId, token, record.vault), otherPan);
    assert.equal(w.events[0]?.data.panChanged, true);
  });

  it('refuses a signature not by the issuer, and a PAN of another issuer', () => {
    const w = world();
    const token = provisioned(w);
    assert.equal(
      w.run(tsp, 'token.updatePan', panUpdatePayload(token, 1, undefined, requestor)),
      'token_request_signature_invalid',
    );
    const foreign = withCheckDigit(otherIssuerBin + '000000001');
    assert.equal(
      w.run(tsp, 'token.updatePan', panUpdatePayload(token, 1, foreign)),
      'pan_issuer_mismatch',
    );
    assert.equal(
      w.run(tsp, 'token.updatePan', panUpdatePayload(token, 1, withCheckDigit('700000000000001'))),
      'pan_issuer_mismatch',
    );
    assert.equal(readToken(w.state, token)?.seq, 0);
  });
});

describe('token.detokenise', () => {
  function activeToken(w: TxWorld, domain?: Parameters<typeof provisionPayload>[0]) {
    return provisioned(w, domain);
  }

  it('records who, why and the count, without the PAN', () => {
    const w = world();
    const token = activeToken(w, { domain: { channels: ['ecommerce'], merchantIds: ['m-1'] } });
    const m1 = { merchantId: 'm-1' };
    assert.equal(w.run(tsp, 'token.detokenise', detokenisePayload(token, 1, acquirer, m1)), 'ok');
    assert.deepEqual(w.events[0], {
      type: 'token.detokenised',
      data: {
        token,
        party: acquirer.address,
        n: 1,
        purpose: 'authorization',
        channel: 'ecommerce',
        merchantId: 'm-1',
      },
    });
    assert.equal(w.run(tsp, 'token.detokenise', detokenisePayload(token, 2, issuer, m1)), 'ok');
    assert.equal(readToken(w.state, token)?.detokenisations, 2);
  });

  it('limits an acquirer to its own merchants, on tokens scoped to them', () => {
    const w = world();
    // A token of another issuer, for any merchant: its issuer's only.
    const open = provisioned(w, { cardPan: withCheckDigit('520000000012345') });
    const scoped = activeToken(w, {
      domain: { channels: ['ecommerce'], merchantIds: ['m-1', 'm-2'] },
    });
    const as = (token: string, merchantId?: string) =>
      w.run(
        tsp,
        'token.detokenise',
        detokenisePayload(token, 1, acquirer, merchantId === undefined ? {} : { merchantId }),
      );
    assert.equal(as(open), 'token_not_merchant_scoped');
    assert.equal(as(open, 'm-1'), 'token_not_merchant_scoped');
    assert.equal(as(scoped), 'domain_merchant_refused');
    assert.equal(as(scoped, 'm-2'), 'acquirer_merchant_refused');
    assert.equal(as(scoped, 'm-1'), 'ok');
    // The issuer detokenises its own unscoped token.
    assert.equal(w.run(tsp, 'token.detokenise', detokenisePayload(open, 1, otherIssuer)), 'ok');
  });

  it('refuses each forbidden case', () => {
    const w = world();
    const token = activeToken(w);
    const limited = activeToken(w, {
      domain: { channels: ['in_app'], merchantIds: ['m-1'], expiresAt: w.time + 1000 },
    });
    const cases: [unknown, Record<string, unknown>, string][] = [
      [acquirer, detokenisePayload(token, 1), 'not_token_service'],
      [tsp, detokenisePayload(nextToken(), 1), 'token_not_found'],
      [tsp, detokenisePayload(token, 1, outsider), 'not_detokenise_party'],
      [tsp, detokenisePayload(token, 1, requestor), 'not_detokenise_party'],
      [tsp, detokenisePayload(token, 1, otherIssuer), 'not_detokenise_party'],
      [
        tsp,
        detokenisePayload(token, 1, acquirer, { signer: outsider }),
        'token_request_signature_invalid',
      ],
      [tsp, detokenisePayload(limited, 1, acquirer), 'domain_channel_refused'],
      [
        tsp,
        detokenisePayload(limited, 1, acquirer, { channel: 'in_app' }),
        'domain_merchant_refused',
      ],
      [
        tsp,
        detokenisePayload(limited, 1, acquirer, { channel: 'in_app', merchantId: 'm-2' }),
        'domain_merchant_refused',
      ],
      [tsp, detokenisePayload(token, 2, issuer), 'detokenisation_out_of_order'],
    ];
    for (const [sender, payload, code] of cases) {
      assert.equal(w.run(sender as never, 'token.detokenise', payload), code);
    }
    const ok = detokenisePayload(limited, 1, acquirer, { channel: 'in_app', merchantId: 'm-1' });
    assert.equal(w.run(tsp, 'token.detokenise', ok), 'ok');
    // A recorded request is answered once: its replay is out of order.
    assert.equal(w.run(tsp, 'token.detokenise', ok), 'detokenisation_out_of_order');
    w.time += 2000;
    const late = detokenisePayload(limited, 2, acquirer, { channel: 'in_app', merchantId: 'm-1' });
    assert.equal(w.run(tsp, 'token.detokenise', late), 'token_domain_expired');
    assert.equal(w.run(issuer, 'token.suspend', lifecycle(token, 1)), 'ok');
    assert.equal(w.run(tsp, 'token.detokenise', detokenisePayload(token, 1)), 'token_not_active');
  });
});

describe('token.rewrap', () => {
  it('moves data keys to a new KEK by a validator operator; the PAN opens with the new key', () => {
    const w = world();
    const token = provisioned(w);
    const rotated = parseVaultKeys({
      fingerprintKey: '11'.repeat(32),
      keks: [
        { id: 'k1', key: '22'.repeat(32) },
        { id: 'k2', key: '44'.repeat(32) },
      ],
      current: 'k2',
    });
    const before = readToken(w.state, token)!.vault;
    const { wrappedKey } = rewrapEnvelope(rotated, token, before);
    const entries = [{ token, kekId: 'k2', wrappedKey }];
    assert.equal(w.run(acquirer, 'token.rewrap', { entries }), 'not_token_service');
    assert.equal(w.run(issuer, 'token.rewrap', { entries }), 'not_token_service');
    const missing = [...entries, { token: nextToken(), kekId: 'k2', wrappedKey }];
    assert.equal(w.run(tsp, 'token.rewrap', { entries: missing }), 'token_not_found');
    assert.deepEqual(readToken(w.state, token)!.vault, before, 'a refused rewrap changed nothing');
    assert.equal(w.run(tsp, 'token.rewrap', { entries }), 'ok');
    const after = readToken(w.state, token)!.vault;
    assert.equal(after.kekId, 'k2');
    assert.equal(after.ciphertext, before.ciphertext);
    assert.equal(after.iv, before.iv);
    const only2 = parseVaultKeys({
      fingerprintKey: '11'.repeat(32),
      keks: [{ id: 'k2', key: '44'.repeat(32) }],
    });
    assert.equal(openPan(only2, chainId, token, after), pan);
  });

  it('refuses bad entry lists', () => {
    const w = world();
    const token = provisioned(w);
    const entry = { token, kekId: 'k2', wrappedKey: 'ab'.repeat(60) };
    for (const entries of [
      [],
      [entry, entry],
      [{ ...entry, wrappedKey: 'ab' }],
      Array(101).fill(entry),
    ]) {
      assert.equal(w.run(tsp, 'token.rewrap', { entries }), 'invalid_rewrap_entries');
    }
  });
});
