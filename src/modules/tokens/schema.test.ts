import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';

import { CryptoInputError } from '../../crypto/index.js';
import {
  isCardNumber,
  luhnCheckDigit,
  luhnValid,
  panCommitment,
  tokenRequestHash,
  tokensPayloads,
} from './schema.js';

describe('Luhn', () => {
  it('knows the standard test numbers', () => {
    for (const pan of ['4111111111111111', '5555555555554444', '378282246310005', '79927398713']) {
      assert.ok(luhnValid(pan), pan);
    }
    assert.equal(luhnValid('4111111111111112'), false);
    assert.equal(luhnValid('41111111111111a1'), false);
    assert.equal(luhnValid(''), false);
  });

  it('the check digit makes any body valid, and any other last digit invalid', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9]{12,18}$/),
        fc.integer({ min: 1, max: 9 }),
        (body, d) => {
          const check = luhnCheckDigit(body);
          assert.ok(luhnValid(body + check));
          const other = String((Number(check) + d) % 10);
          assert.equal(luhnValid(body + other), false);
        },
      ),
    );
  });

  it('a card number is 13 to 19 digits passing Luhn', () => {
    assert.ok(isCardNumber('4111111111111111'));
    assert.equal(isCardNumber('79927398713'), false, 'too short');
    const long = '4'.repeat(19);
    assert.equal(isCardNumber(long + luhnCheckDigit(long)), false, 'too long');
    assert.equal(isCardNumber(4111111111111111), false);
  });
});

describe('the PAN commitment and the request hash', () => {
  const salt = 'ab'.repeat(32);

  it('pins the commitment and the request hash (vectors checked with sha256sum)', () => {
    // printf 'coffer/tokens/pan-commitment/v1|<ab x 32>|4111111111111111' | sha256sum
    assert.equal(
      panCommitment('4111111111111111', salt),
      '020116e669c11dd944cc2a36d9319332c10291e7e9d8714fab59f9958ab4c43e',
    );
    // The canonical JSON, keys sorted:
    // {"chainId":"coffer-test","channel":"ecommerce","kind":"detokenise","n":"1","party":"p",
    //  "purpose":"refund","token":"4111111111111111"}
    const fields = {
      token: '4111111111111111',
      party: 'p',
      n: '1',
      purpose: 'refund',
      channel: 'ecommerce',
      merchantId: undefined,
    };
    assert.equal(
      tokenRequestHash('detokenise', 'coffer-test', fields),
      'a7187386973267a60e87a96e672e23bbf9b1686c2dc69786dcac0b5e756292bf',
    );
  });

  it('differs by salt, PAN, kind and chain', () => {
    const a = panCommitment('4111111111111111', salt);
    assert.notEqual(a, panCommitment('4111111111111111', 'cd'.repeat(32)));
    assert.notEqual(a, panCommitment('5555555555554444', salt));
    assert.ok(!a.includes('4111111111111111'));
    const fields = { token: '1' };
    assert.notEqual(
      tokenRequestHash('provision', 'c', fields),
      tokenRequestHash('detokenise', 'c', fields),
    );
    assert.notEqual(
      tokenRequestHash('provision', 'c', fields),
      tokenRequestHash('provision', 'd', fields),
    );
  });

  it('refuses what it cannot commit to, naming the field', () => {
    assert.throws(
      () => panCommitment('4111111111111112', salt),
      (e: CryptoInputError) => e.field === 'pan',
    );
    assert.throws(() => panCommitment('4111111111111111', 'AB'.repeat(32)), CryptoInputError);
    assert.throws(() => tokenRequestHash('provision', '', {}), CryptoInputError);
  });
});

describe('the lifecycle payload', () => {
  it('refuses in field order with the codes', () => {
    const parse = (p: unknown) => tokensPayloads['token.suspend'].safeParse(p).success;
    assert.ok(
      parse({ token: '4111111111111111', seq: 1, initiator: 'wallet', reason: 'device_lost' }),
    );
    assert.equal(
      parse({ token: '4111111111111111', seq: 0, initiator: 'wallet', reason: 'other' }),
      false,
    );
    assert.equal(
      parse({ token: '4111111111111111', seq: 1, initiator: 'bank', reason: 'other' }),
      false,
    );
    assert.equal(
      parse({ token: '4111111111111111', seq: 1, initiator: 'wallet', reason: 'x' }),
      false,
    );
  });
});
