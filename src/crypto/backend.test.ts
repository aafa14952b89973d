import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';
import fc from 'fast-check';

import { backend } from './backend.js';
import { backend as nodeBackend } from './backend-node.js';
import { backend as portableBackend } from './backend-portable.js';
import { concatBytes, fromHex, toHex, utf8 } from './bytes.js';
import { isWeakPublicKey } from './keys.js';

// The node:crypto and the portable (noble, for browsers) backends must give the same bytes and
// the same verdicts for every input, or a browser wallet and the node would disagree.

const Point = ed25519.Point;
const L = Point.Fn.ORDER;
const backends = [nodeBackend, portableBackend] as const;

interface Vectors {
  keys: { secretKey: string; publicKey: string; message: string; signature: string }[];
  txs: {
    secretKey: string;
    canonical: string;
    hash: string;
    signingMessage: string;
    signature: string;
  }[];
  hiddenInfo: { secretScalar: string; commitmentInput: string; commitment: string; key: string };
  accountable: { key: { seed: string; keyHashInput: string; secretScalar: string } };
}

const vectors = JSON.parse(
  fs.readFileSync(path.resolve(import.meta.dirname, '../../docs/test-vectors.json'), 'utf8'),
) as Vectors;

const seed = fc.uint8Array({ minLength: 32, maxLength: 32 });
const message = fc.uint8Array({ maxLength: 300 });
// Any UTF-16 code unit, so lone surrogates (which both must encode as U+FFFD) come up too.
const anyString = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
  maxLength: 40,
});

/** The points of small order (the torsion subgroup), the identity excluded. */
const torsionPoints = [
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  '0000000000000000000000000000000000000000000000000000000000000000',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
  '0000000000000000000000000000000000000000000000000000000000000080',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
].map((hex) => Point.fromHex(hex));

function scalarOf(bytes: Uint8Array): bigint {
  return (bytesToNumberLE(bytes) % (L - 1n)) + 1n;
}

function challengeOf(R: Uint8Array, A: Uint8Array, data: Uint8Array): bigint {
  return bytesToNumberLE(nodeBackend.sha512(concatBytes(R, A, data))) % L;
}

/**
 * A Schnorr signature (R, s) over the ed25519 group with a secret scalar and a nonce chosen
 * directly, so public keys and R can carry a small-order part: the inputs where a cofactored
 * check (noble's `verify`) and OpenSSL's cofactorless one disagree.
 */
function schnorr(
  secret: bigint,
  nonce: bigint,
  data: Uint8Array,
  keyTorsion: number | undefined,
  nonceTorsion: number | undefined,
): { signature: Uint8Array; publicKey: Uint8Array } {
  let A = Point.BASE.multiply(secret);
  if (keyTorsion !== undefined) A = A.add(torsionPoints[keyTorsion]!);
  let R = Point.BASE.multiply(nonce);
  if (nonceTorsion !== undefined) R = R.add(torsionPoints[nonceTorsion]!);
  const publicKey = A.toBytes();
  const rBytes = R.toBytes();
  const s = (nonce + challengeOf(rBytes, publicKey, data) * secret) % L;
  return { signature: concatBytes(rBytes, numberToBytesLE(s, 32)), publicKey };
}

describe('crypto backends', () => {
  it('the node picks node:crypto (the portable one is for browser bundles only)', () => {
    assert.equal(backend, nodeBackend);
    assert.equal(nodeBackend.name, 'node');
    assert.equal(portableBackend.name, 'portable');
  });

  it('hash SHA-256 and SHA-512 alike, of bytes and of strings with lone surrogates', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), anyString, (bytes, text) => {
        for (const data of [bytes, text]) {
          assert.deepEqual(portableBackend.sha256(data), nodeBackend.sha256(data));
          assert.equal(portableBackend.sha256Hex(data), nodeBackend.sha256Hex(data));
          assert.equal(nodeBackend.sha256Hex(data), toHex(nodeBackend.sha256(data)));
        }
        assert.deepEqual(portableBackend.sha512(bytes), nodeBackend.sha512(bytes));
      }),
      { numRuns: 300 },
    );
    // The string form hashes UTF-8 with U+FFFD for a lone surrogate, like utf8().
    for (const each of backends)
      assert.deepEqual(each.sha256('a\ud800b'), each.sha256(utf8('a\ufffdb')));
  });

  it('derive HKDF-SHA256 alike, an empty salt included', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.uint8Array({ maxLength: 64 }),
        fc.uint8Array({ maxLength: 64 }),
        fc.integer({ min: 1, max: 255 }),
        (ikm, salt, info, length) => {
          const expected = nodeBackend.hkdfSha256(ikm, salt, info, length);
          assert.equal(expected.length, length);
          assert.deepEqual(portableBackend.hkdfSha256(ikm, salt, info, length), expected);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('derive public keys and sign alike, and both verify each signature', () => {
    fc.assert(
      fc.property(seed, message, (secretKey, data) => {
        const publicKey = nodeBackend.ed25519PublicKey(secretKey);
        assert.deepEqual(portableBackend.ed25519PublicKey(secretKey), publicKey);
        const signature = nodeBackend.ed25519Sign(data, secretKey);
        assert.deepEqual(portableBackend.ed25519Sign(data, secretKey), signature);
        for (const each of backends)
          assert.equal(each.ed25519Verify(signature, data, publicKey), true);
      }),
      { numRuns: 100 },
    );
  });

  it('refuse alike a signature with any one bit flipped, and s + L', () => {
    fc.assert(
      fc.property(seed, message, fc.nat({ max: 64 * 8 - 1 }), (secretKey, data, bit) => {
        const publicKey = nodeBackend.ed25519PublicKey(secretKey);
        const signature = nodeBackend.ed25519Sign(data, secretKey);
        const flipped = signature.slice();
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        for (const each of backends)
          assert.equal(each.ed25519Verify(flipped, data, publicKey), false);
        // s + L is the same scalar written a second way; OpenSSL refuses it, so must noble.
        const s = bytesToNumberLE(signature.subarray(32));
        if (s + L < 2n ** 256n) {
          const malleable = concatBytes(signature.subarray(0, 32), numberToBytesLE(s + L, 32));
          for (const each of backends) {
            assert.equal(each.ed25519Verify(malleable, data, publicKey), false);
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('agree on random signatures by random non-weak keys (nearly all refused)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        message,
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (signature, data, publicKey) => {
          fc.pre(!isWeakPublicKey(publicKey));
          assert.equal(
            portableBackend.ed25519Verify(signature, data, publicKey),
            nodeBackend.ed25519Verify(signature, data, publicKey),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('check cofactorless like OpenSSL where R or the key has a small-order part', () => {
    let cofactoredOnly = 0;
    let acceptedWithTorsion = 0;
    fc.assert(
      fc.property(
        seed,
        seed,
        message,
        fc.option(fc.nat({ max: torsionPoints.length - 1 }), { nil: undefined }),
        fc.option(fc.nat({ max: torsionPoints.length - 1 }), { nil: undefined }),
        (secretBytes, nonceBytes, data, keyTorsion, nonceTorsion) => {
          const { signature, publicKey } = schnorr(
            scalarOf(secretBytes),
            scalarOf(nonceBytes),
            data,
            keyTorsion,
            nonceTorsion,
          );
          fc.pre(!isWeakPublicKey(publicKey));
          const expected = nodeBackend.ed25519Verify(signature, data, publicKey);
          assert.equal(portableBackend.ed25519Verify(signature, data, publicKey), expected);
          if (keyTorsion === undefined && nonceTorsion === undefined) assert.equal(expected, true);
          // sB - kA = R - kT_key: a small-order part in R alone is never cancelled.
          if (nonceTorsion !== undefined && keyTorsion === undefined) {
            assert.equal(expected, false);
          }
          if (keyTorsion !== undefined && expected) acceptedWithTorsion++;
          // zip215: false is RFC 8032 decoding, but noble's check stays cofactored.
          if (!expected && ed25519.verify(signature, data, publicKey, { zip215: false })) {
            cofactoredOnly++;
          }
        },
      ),
      { numRuns: 300 },
    );
    // The cases above must really occur, or this test could not tell the two checks apart.
    assert.ok(cofactoredOnly > 0, 'no signature that only a cofactored check accepts');
    assert.ok(acceptedWithTorsion > 0, 'no key with a torsion part whose k killed it');
  });

  it('turn hex into bytes and back alike', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const hex = nodeBackend.toHex(bytes);
        assert.equal(portableBackend.toHex(bytes), hex);
        assert.deepEqual(portableBackend.fromCheckedHex(hex), bytes);
        assert.deepEqual(nodeBackend.fromCheckedHex(hex), bytes);
        assert.deepEqual(portableBackend.fromCheckedHex(hex.toUpperCase()), bytes);
      }),
    );
  });

  it('draw random bytes of the length asked, past WebCrypto 64 KiB per call', () => {
    for (const each of backends) {
      for (const length of [0, 1, 32, 65_536, 70_000]) {
        const bytes = each.randomBytes(length);
        assert.ok(bytes instanceof Uint8Array);
        assert.equal(bytes.length, length);
      }
      // 70,000 zero bytes from a CSPRNG would be a broken generator (or an unfilled tail).
      assert.ok(
        each
          .randomBytes(70_000)
          .subarray(65_536)
          .some((byte) => byte !== 0),
      );
      assert.notDeepEqual(each.randomBytes(32), each.randomBytes(32));
    }
  });

  it('AES-256-GCM: both backends seal alike, open what the other sealed, refuse a flipped bit', () => {
    const node = nodeBackend.aes256Gcm!;
    const portable = portableBackend.aes256Gcm!;
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.nat(),
        (key, iv, plaintext, aad, flip) => {
          const sealed = node.encrypt(key, iv, plaintext, aad);
          assert.deepEqual(portable.encrypt(key, iv, plaintext, aad), sealed);
          assert.deepEqual(portable.decrypt(key, iv, sealed, aad), plaintext);
          assert.deepEqual(node.decrypt(key, iv, sealed, aad), plaintext);
          const tampered = sealed.slice();
          const bit = flip % (tampered.length * 8);
          tampered[bit >> 3]! ^= 1 << (bit & 7);
          assert.equal(portable.decrypt(key, iv, tampered, aad), undefined);
          assert.equal(node.decrypt(key, iv, tampered, aad), undefined);
        },
      ),
      { numRuns: 200 },
    );
  });

  for (const each of backends) {
    it(`${each.name}: matches docs/test-vectors.json`, () => {
      for (const vector of vectors.keys) {
        const secretKey = fromHex(vector.secretKey);
        const data = fromHex(vector.message);
        const signature = fromHex(vector.signature);
        assert.equal(toHex(each.ed25519PublicKey(secretKey)), vector.publicKey);
        assert.equal(toHex(each.ed25519Sign(data, secretKey)), vector.signature);
        assert.equal(each.ed25519Verify(signature, data, fromHex(vector.publicKey)), true);
      }
      for (const vector of vectors.txs) {
        assert.equal(each.sha256Hex(vector.canonical), vector.hash);
        const signingMessage = fromHex(vector.signingMessage);
        assert.equal(
          toHex(each.ed25519Sign(signingMessage, fromHex(vector.secretKey))),
          vector.signature,
        );
      }
      const hidden = vectors.hiddenInfo;
      assert.equal(each.sha256Hex(fromHex(hidden.commitmentInput)), hidden.commitment);
      const key = each.hkdfSha256(
        fromHex(hidden.secretScalar),
        new Uint8Array(0),
        utf8('coffer/hidden-info/key/v1'),
        32,
      );
      assert.equal(toHex(key), hidden.key);
      const accountable = vectors.accountable.key;
      const wide = bytesToNumberLE(each.sha512(fromHex(accountable.keyHashInput)));
      assert.equal(toHex(numberToBytesLE(wide % L, 32)), accountable.secretScalar);
    });
  }
});
