import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { readBinOwner, readParticipant, readService } from './state.js';
import {
  issuer,
  issuerBin,
  outsider,
  requestor,
  serviceIn,
  tokenBin,
  tsp,
  TxWorld,
  wallet,
} from './txs-fixture.js';

const register = (fields: Record<string, unknown> = {}) => ({
  address: outsider.address,
  name: 'New',
  roles: ['wallet'],
  ...fields,
});

describe('tokens.configure', () => {
  it('sets the token BINs, from a validator operator only', () => {
    const w = new TxWorld();
    assert.equal(
      w.run(outsider, 'tokens.configure', { tokenBins: [tokenBin] }),
      'not_token_service',
    );
    assert.equal(readService(w.state), undefined);
    assert.equal(w.run(tsp, 'tokens.configure', { tokenBins: [tokenBin] }), 'ok');
    assert.deepEqual(readService(w.state), { tokenBins: [tokenBin] });
    assert.deepEqual(readBinOwner(w.state, tokenBin), { kind: 'token' });
    assert.deepEqual(w.events[0]?.data, { tokenBins: [tokenBin], by: tsp.address });
  });

  it('replaces the list: a dropped token BIN stays reserved, never an issuer BIN', () => {
    const w = new TxWorld();
    assert.equal(w.run(tsp, 'tokens.configure', { tokenBins: [tokenBin] }), 'ok');
    assert.equal(w.run(tsp, 'tokens.configure', { tokenBins: ['990002'] }), 'ok');
    assert.deepEqual(readBinOwner(w.state, tokenBin), { kind: 'retiredToken' });
    assert.deepEqual(readBinOwner(w.state, '990002'), { kind: 'token' });
    const asIssuer = { address: outsider.address, name: 'B', roles: ['issuer'] };
    assert.equal(
      w.run(tsp, 'tokens.registerParticipant', { ...asIssuer, bins: [tokenBin] }),
      'bin_taken',
    );
    // The service may take a retired BIN back as a token BIN, never an issuer.
    assert.equal(w.run(tsp, 'tokens.configure', { tokenBins: [tokenBin] }), 'ok');
    assert.deepEqual(readBinOwner(w.state, tokenBin), { kind: 'token' });
    assert.deepEqual(readBinOwner(w.state, '990002'), { kind: 'retiredToken' });
  });

  it('refuses an issuer BIN as a token BIN, and bad lists', () => {
    const w = new TxWorld();
    serviceIn(w);
    assert.equal(w.run(tsp, 'tokens.configure', { tokenBins: [issuerBin] }), 'bin_taken');
    assert.deepEqual(readService(w.state), { tokenBins: [tokenBin] });
    for (const tokenBins of [[], ['12345'], ['1234567'], [tokenBin, tokenBin], ['abcdef']]) {
      assert.equal(w.run(tsp, 'tokens.configure', { tokenBins }), 'invalid_token_bins');
    }
    const many = Array.from({ length: 21 }, (_, i) => String(980000 + i));
    assert.equal(w.run(tsp, 'tokens.configure', { tokenBins: many }), 'invalid_token_bins');
  });
});

describe('tokens.registerParticipant', () => {
  it('registers a participant with roles and BINs, by a validator operator', () => {
    const w = new TxWorld();
    serviceIn(w);
    const record = readParticipant(w.state, issuer.address);
    assert.deepEqual(record?.roles, ['issuer']);
    assert.deepEqual(record?.bins, [issuerBin]);
    assert.equal(record?.registeredBy, tsp.address);
    assert.deepEqual(readBinOwner(w.state, issuerBin), { kind: 'issuer', issuer: issuer.address });
    assert.deepEqual(readParticipant(w.state, wallet.address)?.bins, []);
  });

  it('refuses a fresh key registering itself or anyone, and a participant registering others', () => {
    const w = new TxWorld();
    serviceIn(w);
    assert.equal(w.run(outsider, 'tokens.registerParticipant', register()), 'not_token_service');
    assert.equal(w.run(requestor, 'tokens.registerParticipant', register()), 'not_token_service');
    assert.equal(w.run(issuer, 'tokens.registerParticipant', register()), 'not_token_service');
    assert.equal(readParticipant(w.state, outsider.address), undefined);
  });

  it('refuses in precedence: BINs only for issuers, once per address, BINs not taken', () => {
    const w = new TxWorld();
    serviceIn(w);
    assert.equal(
      w.run(tsp, 'tokens.registerParticipant', register({ roles: ['issuer'] })),
      'issuer_bins_required',
    );
    assert.equal(
      w.run(tsp, 'tokens.registerParticipant', register({ bins: ['123456'] })),
      'issuer_bins_required',
    );
    assert.equal(
      w.run(tsp, 'tokens.registerParticipant', register({ roles: ['acquirer'] })),
      'acquirer_merchants_required',
    );
    assert.equal(
      w.run(tsp, 'tokens.registerParticipant', register({ merchantIds: ['m-1'] })),
      'acquirer_merchants_required',
    );
    assert.equal(
      w.run(tsp, 'tokens.registerParticipant', register({ address: requestor.address })),
      'participant_exists',
    );
    for (const bins of [[issuerBin], [tokenBin], ['333333', issuerBin]]) {
      assert.equal(
        w.run(tsp, 'tokens.registerParticipant', register({ roles: ['issuer'], bins })),
        'bin_taken',
      );
    }
    assert.equal(readBinOwner(w.state, '333333'), undefined, 'a refused tx wrote nothing');
    assert.equal(readParticipant(w.state, outsider.address), undefined);
  });

  it('refuses bad payloads with their codes and fields', () => {
    const w = new TxWorld();
    const cases: [Record<string, unknown>, string, string][] = [
      [register({ address: 'cof1nope' }), 'invalid_address', 'address'],
      [register({ name: '' }), 'invalid_participant_name', 'name'],
      [register({ name: 'x'.repeat(81) }), 'invalid_participant_name', 'name'],
      [register({ name: 'a\u0000b' }), 'invalid_participant_name', 'name'],
      [register({ roles: [] }), 'invalid_roles', 'roles'],
      [register({ roles: ['king'] }), 'invalid_roles', 'roles'],
      [register({ roles: ['wallet', 'wallet'] }), 'invalid_roles', 'roles'],
      [register({ roles: ['issuer'], bins: [] }), 'invalid_bins', 'bins'],
      [register({ roles: ['acquirer'], merchantIds: [] }), 'invalid_merchant_ids', 'merchantIds'],
      [
        register({ roles: ['acquirer'], merchantIds: ['m'.repeat(33)] }),
        'invalid_merchant_ids',
        'merchantIds',
      ],
      [
        register({
          roles: ['acquirer'],
          merchantIds: Array.from({ length: 101 }, (_, i) => `m${i}`),
        }),
        'invalid_merchant_ids',
        'merchantIds',
      ],
      [register({ extra: 1 }), 'unknown_field', 'extra'],
    ];
    for (const [payload, code, field] of cases) {
      assert.equal(
        w.run(tsp, 'tokens.registerParticipant', payload),
        code,
        JSON.stringify(payload),
      );
      assert.equal(w.field, field);
    }
  });
});
