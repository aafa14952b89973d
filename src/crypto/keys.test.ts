import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';

import { fromHex, toHex, utf8 } from './bytes.js';
import { CryptoInputError } from './errors.js';
import { generateKeyPair, isWeakPublicKey, keyPairFromSecret, sign, verify } from './keys.js';

// RFC 8032 section 7.1, TEST 1 to TEST 3.
const RFC_8032_VECTORS = [
  {
    secretKey: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155' +
      '5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    secretKey: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da' +
      '085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    secretKey: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    publicKey: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature:
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac' +
      '18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
];

const seed = fc.uint8Array({ minLength: 32, maxLength: 32 });
const message = fc.uint8Array({ maxLength: 300 });

function flipped(bytes: Uint8Array, position: number, mask: number): Uint8Array {
  const copy = bytes.slice();
  copy[position % copy.length]! ^= mask;
  return copy;
}

function assertInputError(action: () => unknown, field: string): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof CryptoInputError);
    assert.equal(error.field, field);
    return true;
  });
}

describe('ed25519 keys', () => {
  it('matches the RFC 8032 test vectors', () => {
    for (const vector of RFC_8032_VECTORS) {
      const pair = keyPairFromSecret(fromHex(vector.secretKey));
      assert.equal(toHex(pair.publicKey), vector.publicKey);
      const signature = sign(fromHex(vector.message), pair.secretKey);
      assert.equal(toHex(signature), vector.signature);
      assert.equal(verify(signature, fromHex(vector.message), pair.publicKey), true);
    }
  });

  it('verify(sign(m)) holds for random keys and messages, and agrees with noble', () => {
    fc.assert(
      fc.property(seed, message, (secretKey, text) => {
        const pair = keyPairFromSecret(secretKey);
        const signature = sign(text, secretKey);
        assert.equal(signature.length, 64);
        assert.equal(verify(signature, text, pair.publicKey), true);
        assert.deepEqual(pair.publicKey, ed25519.getPublicKey(secretKey));
        assert.deepEqual(signature, ed25519.sign(text, secretKey));
      }),
      { numRuns: 200 },
    );
  });

  it('flipping any one byte of the signature, message or key makes verify fail', () => {
    fc.assert(
      fc.property(
        seed,
        fc.uint8Array({ minLength: 1, maxLength: 100 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (secretKey, text, position, mask) => {
          const { publicKey } = keyPairFromSecret(secretKey);
          const signature = sign(text, secretKey);
          assert.equal(verify(flipped(signature, position, mask), text, publicKey), false);
          assert.equal(verify(signature, flipped(text, position, mask), publicKey), false);
          assert.equal(verify(signature, text, flipped(publicKey, position, mask)), false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('every byte position of a signature and key is covered', () => {
    const pair = keyPairFromSecret(fromHex(RFC_8032_VECTORS[1]!.secretKey));
    const text = fromHex('72');
    const signature = sign(text, pair.secretKey);
    for (let position = 0; position < 64; position++) {
      for (const mask of [0x01, 0x80]) {
        assert.equal(verify(flipped(signature, position, mask), text, pair.publicKey), false);
        if (position < 32) {
          assert.equal(verify(signature, text, flipped(pair.publicKey, position, mask)), false);
        }
      }
    }
  });

  it('refuses small-order and non-canonical keys, for which R = identity, s = 0 forges anything', () => {
    const identity = '01' + '00'.repeat(31);
    const weak = [
      identity,
      '0100000000000000000000000000000000000000000000000000000000000080', // identity, x sign set
      'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // identity, y = p + 1
      'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // order 2
      'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
      '00'.repeat(32), // order 4
    ];
    // The forgery: R = identity, s = 0.
    const forged = Uint8Array.from([...fromHex(identity), ...new Uint8Array(32)]);
    for (const hex of weak) {
      const key = fromHex(hex);
      assert.equal(isWeakPublicKey(key), true, hex);
      assert.equal(verify(forged, utf8('pay mallory'), key), false, hex);
    }
    const honest = generateKeyPair();
    assert.equal(isWeakPublicKey(honest.publicKey), false);
    assert.equal(isWeakPublicKey(new Uint8Array(31)), true, 'wrong length');
    // Every small-order point, found by noble, in every encoding it has: all weak.
    const small = [...Array(8).keys()].map((i) =>
      ed25519.Point.fromHex(
        'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
      ).multiply(BigInt(i + 1)),
    );
    for (const point of small) {
      assert.ok(point.isSmallOrder());
      assert.equal(isWeakPublicKey(point.toBytes()), true, point.toHex());
    }
    // Property: a key is weak exactly when noble finds it non-canonical or of small order.
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        let expected: boolean | undefined;
        try {
          const point = ed25519.Point.fromBytes(bytes, true);
          expected = point.isSmallOrder() || toHex(point.toBytes()) !== toHex(bytes);
        } catch {
          return true; // not a point: verify fails on it anyway, weak or not
        }
        return isWeakPublicKey(bytes) === expected;
      }),
      { numRuns: 300 },
    );
    for (const y of [...Array(19).keys()]) {
      // y = p + k, k < 19: non-canonical whenever it decodes at all.
      const bytes = fromHex('ed' + 'ff'.repeat(30) + '7f');
      bytes[0] = 0xed + y;
      assert.equal(isWeakPublicKey(bytes), true, `p + ${y}`);
    }
  });

  it('verify returns false, never throws, for wrong lengths or garbage', () => {
    const pair = generateKeyPair();
    const text = Uint8Array.from([1, 2, 3]);
    const signature = sign(text, pair.secretKey);
    assert.equal(verify(signature.subarray(0, 63), text, pair.publicKey), false);
    assert.equal(verify(new Uint8Array(65), text, pair.publicKey), false);
    assert.equal(verify(signature, text, pair.publicKey.subarray(0, 31)), false);
    assert.equal(verify(signature, text, new Uint8Array(33)), false);
    assert.equal(verify(new Uint8Array(64), text, new Uint8Array(32)), false);
    assert.equal(verify(new Uint8Array(64).fill(0xff), text, new Uint8Array(32).fill(0xff)), false);
    const garbage: unknown[] = [undefined, null, 'abc', 42, {}, [1, 2], new ArrayBuffer(64)];
    for (const bad of garbage) {
      assert.equal(verify(bad as Uint8Array, text, pair.publicKey), false);
      assert.equal(verify(signature, bad as Uint8Array, pair.publicKey), false);
      assert.equal(verify(signature, text, bad as Uint8Array), false);
    }
  });

  it('verifies views into larger buffers', () => {
    const pair = generateKeyPair();
    const text = Uint8Array.from([9, 8, 7]);
    const signature = sign(text, pair.secretKey);
    const packed = new Uint8Array(1 + 64 + 32 + 3);
    packed.set(signature, 1);
    packed.set(pair.publicKey, 65);
    packed.set(text, 97);
    assert.equal(
      verify(packed.subarray(1, 65), packed.subarray(97), packed.subarray(65, 97)),
      true,
    );
  });

  it('generateKeyPair gives distinct 32-byte keys that sign', () => {
    const first = generateKeyPair();
    const second = generateKeyPair();
    assert.equal(first.publicKey.length, 32);
    assert.equal(first.secretKey.length, 32);
    assert.notDeepEqual(first.secretKey, second.secretKey);
    assert.deepEqual(keyPairFromSecret(first.secretKey), first);
  });

  it('returns copies, so mutating a result cannot corrupt the key cache', () => {
    const secretKey = fromHex(RFC_8032_VECTORS[0]!.secretKey);
    const pair = keyPairFromSecret(secretKey);
    pair.publicKey.fill(0);
    pair.secretKey.fill(0);
    assert.equal(toHex(keyPairFromSecret(secretKey).publicKey), RFC_8032_VECTORS[0]!.publicKey);
  });

  it('sign and keyPairFromSecret name the bad field', () => {
    const { secretKey } = generateKeyPair();
    assertInputError(() => sign('hello' as unknown as Uint8Array, secretKey), 'message');
    assertInputError(() => sign(new Uint8Array(1), secretKey.subarray(0, 31)), 'secretKey');
    assertInputError(() => sign(new Uint8Array(1), 'x' as unknown as Uint8Array), 'secretKey');
    assertInputError(() => keyPairFromSecret(new Uint8Array(64)), 'secretKey');
  });
});
