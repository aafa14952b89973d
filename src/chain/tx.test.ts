import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { addressFromPublicKey, fromHex, keyPairFromSecret, toHex } from '../crypto/index.js';
import { ledgerModule } from './ledger-module.js';
import { reject } from './rejections.js';
import { decodeTx, isRejection, signTx } from './tx.js';

const chainId = 'coffer-test';
const parserFor = (type: string) => ledgerModule.txs[type]?.parse;

describe('decodeTx', () => {
  it('refuses a sender whose key is weak: anyone could sign as the identity point', () => {
    const identity = fromHex('01' + '00'.repeat(31));
    const forged = {
      chainId,
      type: 'ledger.transfer',
      sender: addressFromPublicKey(identity),
      nonce: 0,
      payload: {
        to: addressFromPublicKey(fromHex('03' + '00'.repeat(31))),
        asset: 'USD',
        amount: '1',
      },
      // R = identity, s = 0: a valid ed25519 signature of every message under a small-order key.
      signature: toHex(identity) + '00'.repeat(32),
    };
    const decoded = decodeTx(forged, chainId, parserFor);
    assert.ok(isRejection(decoded));
    assert.deepEqual([decoded.code, decoded.field], ['invalid_sender', 'sender']);
  });

  it("gives the payload's check the tx's sender, so a check over the sender runs at admission", () => {
    const pair = keyPairFromSecret(new Uint8Array(32).fill(9));
    const sender = addressFromPublicKey(pair.publicKey);
    const seen: (string | undefined)[] = [];
    const parser = (payload: Record<string, unknown>, by?: string) => {
      seen.push(by);
      return by === payload.refuse ? reject('sender_refused') : { value: payload };
    };
    const body = { chainId, type: 'test.check', sender, nonce: 0 };
    const accepted = decodeTx(
      signTx({ ...body, payload: { refuse: 'someone else' } }, pair.secretKey),
      chainId,
      () => parser,
    );
    assert.ok(!isRejection(accepted));
    const refused = decodeTx(
      signTx({ ...body, payload: { refuse: sender } }, pair.secretKey),
      chainId,
      () => parser,
    );
    assert.ok(isRejection(refused));
    assert.equal(refused.code, 'sender_refused');
    assert.deepEqual(seen, [sender, sender]);
  });
});
