import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressFromPublicKey } from '../crypto/address.js';
import { generateKeyPair } from '../crypto/keys.js';
import { assetSymbolPattern, decimalsMax, ledgerPayloads } from './ledger.js';
import { rejectionCodeFor } from './schema.js';

/** The code the core parser gives `payload` of `type`, or the parsed payload. */
function parse(type: keyof typeof ledgerPayloads, payload: unknown) {
  const schema = ledgerPayloads[type];
  const result = schema.safeParse(payload);
  return result.success
    ? { value: result.data as unknown }
    : { code: rejectionCodeFor(schema, result.error, 'invalid_payload') };
}

const to = addressFromPublicKey(generateKeyPair().publicKey);
const hash = 'ab'.repeat(32);

describe('core payloads: asset symbols', () => {
  it('an uppercase letter then 1 to 11 uppercase letters or digits, the whole string', () => {
    for (const good of ['AB', 'A1', 'USD', 'EUR2', 'ABCDEFGHIJKL', 'Z00000000000']) {
      assert.equal(assetSymbolPattern.test(good), true, good);
    }
    // One past each bound, each class and each anchor: 1 character, 13 characters, a leading
    // digit, a lowercase letter first or later, a symbol before or after a good one.
    for (const bad of [
      'A',
      'ABCDEFGHIJKLM',
      '1AB',
      'aBC',
      'AbC',
      'A-B',
      ' USD',
      'USD ',
      'xUSD',
      'USDx',
    ]) {
      assert.equal(assetSymbolPattern.test(bad), false, bad);
    }
  });

  it('a bad symbol in any core payload is invalid_symbol', () => {
    assert.deepEqual(parse('asset.create', { symbol: 'usd', decimals: 2 }), {
      code: 'invalid_symbol',
    });
    assert.deepEqual(parse('ledger.transfer', { to, asset: 'U', amount: '1' }), {
      code: 'invalid_symbol',
    });
  });
});

describe('core payloads: fields and their codes', () => {
  it('decimals: 0 to decimalsMax (18) whole numbers, else invalid_decimals', () => {
    assert.equal(decimalsMax, 18);
    for (const decimals of [0, 2, 18]) {
      assert.deepEqual(parse('asset.create', { symbol: 'USD', decimals }), {
        value: { symbol: 'USD', decimals },
      });
    }
    for (const decimals of [-1, 19, 1.5, '2']) {
      assert.deepEqual(parse('asset.create', { symbol: 'USD', decimals }), {
        code: 'invalid_decimals',
      });
    }
  });

  it('amounts, caps, addresses, expiries, hold ids and conditions each name their field', () => {
    const transfer = { to, asset: 'USD', amount: '5' };
    assert.deepEqual(parse('ledger.transfer', transfer), { value: { ...transfer, amount: 5n } });
    assert.deepEqual(parse('ledger.transfer', { ...transfer, amount: '0' }), {
      code: 'invalid_amount',
    });
    assert.deepEqual(parse('ledger.transfer', { ...transfer, to: 'cof1nope' }), {
      code: 'invalid_address',
    });
    assert.deepEqual(parse('asset.create', { symbol: 'USD', decimals: 2, maxSupply: '0' }), {
      code: 'invalid_max_supply',
    });
    const hold = { ...transfer, expiresAtHeight: 10 };
    assert.deepEqual(parse('hold.create', { ...hold, expiresAtHeight: 0 }), {
      code: 'invalid_hold_expiry',
    });
    assert.deepEqual(parse('hold.create', { ...hold, condition: 'AB'.repeat(32) }), {
      code: 'invalid_condition',
    });
    assert.deepEqual(parse('hold.create', { ...hold, condition: hash }), {
      value: { ...hold, amount: 5n, condition: hash },
    });
    assert.deepEqual(parse('hold.void', { holdId: hash.slice(2) }), { code: 'invalid_hold_id' });
    assert.deepEqual(parse('asset.freeze', { symbol: 'USD', account: 'x' }), {
      code: 'invalid_address',
    });
  });

  it('payloads are strict: an unknown field is refused, not dropped', () => {
    const result = ledgerPayloads['asset.burn'].safeParse({ symbol: 'USD', amount: '1', x: 1 });
    assert.equal(result.success, false);
  });
});

describe('core payloads: hash-lock preimages', () => {
  const release = (preimage: unknown) => parse('hold.release', { holdId: hash, preimage });

  it('1 to 256 bytes of lowercase hex, whole bytes', () => {
    for (const preimage of ['00', 'c0ffee', 'ab'.repeat(256), '0123456789abcdef']) {
      assert.deepEqual(release(preimage), { value: { holdId: hash, preimage } });
    }
  });

  it('refuses an empty, odd-length, uppercase, non-hex or 257-byte preimage as invalid_preimage', () => {
    // Node's hex decoding is lenient ('C0FFEE', 'c0ffee0' and 'c0ffeezz' all decode): the
    // format check is what refuses them.
    for (const preimage of [
      '',
      'c0ffee0',
      'C0FFEE',
      'c0ffeezz',
      'zzc0ffee',
      'ab'.repeat(257),
      'gg',
      5,
    ]) {
      assert.deepEqual(release(preimage), { code: 'invalid_preimage' }, String(preimage));
    }
  });
});
