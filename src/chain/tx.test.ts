import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { addressFromPublicKey, fromHex, toHex } from '../crypto/index.js';
import { ledgerModule } from './ledger-module.js';
import { decodeTx, isRejection } from './tx.js';

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
});
