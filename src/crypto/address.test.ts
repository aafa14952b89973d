import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { bech32, bech32m } from '@scure/base';
import fc from 'fast-check';

import {
  ADDRESS_PREFIX,
  addressFromPublicKey,
  deriveAddress,
  isAddress,
  publicKeyFromAddress,
} from './address.js';
import { concatBytes, fromHex, utf8 } from './bytes.js';
import { CryptoInputError } from './errors.js';
import { sha256 } from './hash.js';
import { keyPairFromSecret, sign, verify } from './keys.js';

const BECH32_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const publicKeyBytes = fc.uint8Array({ minLength: 32, maxLength: 32 });

function assertInputError(action: () => unknown, field: string): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof CryptoInputError);
    assert.equal(error.field, field);
    return true;
  });
}

describe('address', () => {
  it('publicKeyFromAddress(addressFromPublicKey(k)) equals k', () => {
    fc.assert(
      fc.property(publicKeyBytes, (publicKey) => {
        const address = addressFromPublicKey(publicKey);
        assert.ok(address.startsWith(`${ADDRESS_PREFIX}1`));
        assert.equal(address.length, 62);
        assert.deepEqual(publicKeyFromAddress(address), publicKey);
        assert.equal(isAddress(address), true);
      }),
    );
  });

  it('keeps a pinned known answer (the RFC 8032 TEST 1 key)', () => {
    const publicKey = fromHex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    assert.equal(
      addressFromPublicKey(publicKey),
      'cof16adfsqvzky9t042tlmfujeq88g8wzuhnm2nzxfd0qgdx3ac82ydq6x6xhv',
    );
  });

  it('a sender address yields the key that verifies its signatures', () => {
    const pair = keyPairFromSecret(new Uint8Array(32).fill(7));
    const text = utf8('transfer');
    const signature = sign(text, pair.secretKey);
    const address = addressFromPublicKey(pair.publicKey);
    assert.equal(verify(signature, text, publicKeyFromAddress(address)), true);
  });

  it('one changed character fails the checksum', () => {
    fc.assert(
      fc.property(
        publicKeyBytes,
        fc.nat(),
        fc.integer({ min: 1, max: 31 }),
        (publicKey, at, step) => {
          const address = addressFromPublicKey(publicKey);
          const position = 4 + (at % (address.length - 4));
          const current = BECH32_CHARSET.indexOf(address[position]!);
          const replacement = BECH32_CHARSET[(current + step) % 32]!;
          const changed = address.slice(0, position) + replacement + address.slice(position + 1);
          assert.notEqual(changed, address);
          assertInputError(() => publicKeyFromAddress(changed, 'payload.to'), 'payload.to');
          assert.equal(isAddress(changed), false);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('rejects the wrong prefix, case, encoding or length, naming the field', () => {
    const publicKey = new Uint8Array(32).fill(1);
    const words = bech32m.toWords(publicKey);
    const address = addressFromPublicKey(publicKey);
    const rejected = [
      bech32m.encode('cog', words),
      bech32.encode(ADDRESS_PREFIX, words),
      bech32m.encode(ADDRESS_PREFIX, bech32m.toWords(new Uint8Array(20))),
      bech32m.encode(ADDRESS_PREFIX, bech32m.toWords(new Uint8Array(33))),
      address.toUpperCase(),
      `${address}q`,
      address.slice(0, -1),
      '',
      'cof1',
      `${address.slice(0, 10)}b${address.slice(11)}`,
    ];
    for (const bad of rejected) {
      assertInputError(() => publicKeyFromAddress(bad, 'sender'), 'sender');
      assert.equal(isAddress(bad), false, bad);
    }
    assertInputError(() => publicKeyFromAddress(7 as unknown as string), 'address');
    assertInputError(() => addressFromPublicKey(new Uint8Array(31)), 'publicKey');
    assertInputError(() => addressFromPublicKey('cof1' as unknown as Uint8Array), 'publicKey');
    for (const notString of [undefined, null, 5, {}, publicKey]) {
      assert.equal(isAddress(notString), false);
    }
  });

  it('returns a copy of the cached key', () => {
    const publicKey = new Uint8Array(32).fill(3);
    const address = addressFromPublicKey(publicKey);
    publicKeyFromAddress(address).fill(0);
    assert.deepEqual(publicKeyFromAddress(address), publicKey);
  });
});

describe('deriveAddress', () => {
  it('is bech32m over SHA-256 of the domain, namespace and id', () => {
    const expected = addressFromPublicKey(
      sha256(
        concatBytes(
          utf8('coffer/derived/v1'),
          Uint8Array.of(0),
          utf8('staking'),
          Uint8Array.of(0),
          utf8('pool-1'),
        ),
      ),
    );
    assert.equal(deriveAddress('staking', 'pool-1'), expected);
    assert.equal(
      deriveAddress('staking', 'pool-1'),
      'cof1hh0vux7alqdrjh8nclvl6qnwyxkazaqw25zf24qjh6vun03mhtxs6pgzvu',
    );
    assert.equal(isAddress(expected), true);
  });

  it('is deterministic and distinct for different ids and namespaces', () => {
    const part = fc.string({ minLength: 1, maxLength: 20 }).filter((text) => !text.includes('\0'));
    fc.assert(
      fc.property(part, part, part, (namespace, id, otherId) => {
        assert.equal(deriveAddress(namespace, id), deriveAddress(namespace, id));
        if (id !== otherId) {
          assert.notEqual(deriveAddress(namespace, id), deriveAddress(namespace, otherId));
        }
      }),
    );
    // The NUL separator keeps the boundary between namespace and id.
    assert.notEqual(deriveAddress('ab', 'c'), deriveAddress('a', 'bc'));
    assert.notEqual(deriveAddress('a', 'b'), deriveAddress('b', 'a'));
  });

  it('rejects empty parts, NUL, lone surrogates and overlong parts', () => {
    assertInputError(() => deriveAddress('', 'x'), 'namespace');
    assertInputError(() => deriveAddress('x', ''), 'id');
    assertInputError(() => deriveAddress('a\0b', 'x'), 'namespace');
    assertInputError(() => deriveAddress('x', 'a\0'), 'id');
    assertInputError(() => deriveAddress('x', 'a\ud800'), 'id');
    assertInputError(() => deriveAddress('\udc00', 'x'), 'namespace');
    assertInputError(() => deriveAddress('x', 'a'.repeat(1025)), 'id');
    assertInputError(() => deriveAddress(1 as unknown as string, 'x'), 'namespace');
    assert.ok(isAddress(deriveAddress('x', '\ud83d\ude00')));
  });
});
