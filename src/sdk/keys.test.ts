import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { CryptoInputError, isAddress, toHex } from '../crypto/index.js';
import { exportKey, generateKey, importKey } from './keys.js';
import { hashTx, signTx, txs } from './tx.js';

const secretBytes = fc.uint8Array({ minLength: 32, maxLength: 32 });

function fieldError(field: string) {
  return (error: unknown) => error instanceof CryptoInputError && error.field === field;
}

describe('keys', () => {
  it('property: importKey(exportKey(key)) is the key, for any 32-byte secret', () => {
    fc.assert(
      fc.property(secretBytes, (bytes) => {
        const key = importKey(toHex(bytes));
        assert.equal(exportKey(key), toHex(bytes));
        assert.deepEqual(importKey(exportKey(key)), key);
        assert.ok(isAddress(key.address));
      }),
      { numRuns: 100 },
    );
  });

  it('generateKey makes distinct keys that export and import back', () => {
    const a = generateKey();
    const b = generateKey();
    assert.notEqual(a.address, b.address);
    assert.deepEqual(importKey(exportKey(a)), a);
  });

  it('importKey takes either case and exports lowercase', () => {
    const key = generateKey();
    const imported = importKey(key.secretKey.toUpperCase());
    assert.deepEqual(imported, key);
    assert.equal(exportKey(imported), key.secretKey);
  });

  it('bad secrets and a key whose address is not its secret name the field', () => {
    const key = generateKey();
    assert.throws(() => importKey('abc'), fieldError('secretKey'));
    assert.throws(() => importKey('zz'.repeat(32)), fieldError('secretKey'));
    assert.throws(() => importKey(key.secretKey + '00'), fieldError('secretKey'));
    assert.throws(
      () => exportKey({ ...key, address: generateKey().address }),
      fieldError('key.address'),
    );
    assert.throws(() => exportKey({ ...key, secretKey: 'nope' }), fieldError('secretKey'));
    assert.throws(() => exportKey(null as never), fieldError('key'));
  });

  it('signTx refuses a key that is not the sender, naming sender', () => {
    const key = generateKey();
    const tx = {
      chainId: 'coffer-dev',
      sender: generateKey().address,
      nonce: 0,
      ...txs.transfer({ to: key.address, asset: 'USD', amount: '1' }),
    };
    assert.throws(() => signTx(tx, key), fieldError('sender'));
    const own = signTx({ ...tx, sender: key.address }, key);
    assert.match(own.signature, /^[0-9a-f]{128}$/);
    assert.equal(hashTx(own), hashTx({ ...tx, sender: key.address }));
  });
});
