import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ed25519, ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';
import fc from 'fast-check';

import {
  accountableSignedMessage,
  bytesToScalar,
  challenge,
  chainIdBytesMax,
  deriveAccountableKey,
  extractSecret,
  isAccountablePublicKey,
  nonceFor,
  scalarToBytes,
  secretKeyBytes,
  signAtHeight,
  verifyAtHeight,
  type AccountableSignature,
} from './accountable.js';
import { concatBytes, fromHex, toHex, utf8 } from './bytes.js';
import { CryptoInputError } from './errors.js';
import { L, Point, reference } from './accountable-fixture.js';

const CHAIN = 'coffer-dev';

const seedArbitrary = fc.uint8Array({ minLength: 32, maxLength: 32 });
const heightArbitrary = fc.nat({ max: Number.MAX_SAFE_INTEGER });
const messageArbitrary = fc.uint8Array({ maxLength: 200 });
const chainArbitrary = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,62}$/);
const distinctMessages = fc
  .tuple(messageArbitrary, messageArbitrary)
  .filter(([a, b]) => toHex(a) !== toHex(b));

function assertInputError(action: () => unknown, field: string): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof CryptoInputError, String(error));
    assert.equal(error.field, field);
    return true;
  });
}

function flipped(bytes: Uint8Array, position: number, mask: number): Uint8Array {
  const copy = bytes.slice();
  copy[position % copy.length]! ^= mask;
  return copy;
}

function flippedHex(hex: string, position: number, mask: number): string {
  return toHex(flipped(fromHex(hex), position, mask));
}

describe('accountable keys', () => {
  it('derives x, P and the nonce secret as specified, deterministically', () => {
    fc.assert(
      fc.property(seedArbitrary, (seed) => {
        const key = deriveAccountableKey(seed);
        assert.equal(key.secretScalar, reference.secretScalar(seed));
        assert.ok(key.secretScalar > 0n && key.secretScalar < L);
        assert.deepEqual(key.publicKey, Point.BASE.multiply(key.secretScalar).toBytes());
        assert.deepEqual(key.nonceSecret, reference.nonceSecret(seed));
        assert.deepEqual(deriveAccountableKey(seed), key);
        assert.equal(isAccountablePublicKey(key.publicKey), true);
      }),
      { numRuns: 50 },
    );
  });

  it('pins one key and one signature (a change of format shows up here)', () => {
    const key = deriveAccountableKey(
      fromHex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'),
    );
    assert.equal(
      toHex(key.publicKey),
      '830bae573ae958514ac50fb6958a4d9500424a103f8c2c52f0fa81289573e9ed',
    );
    assert.deepEqual(signAtHeight(key, CHAIN, 42, utf8('header')), {
      height: 42,
      R: '1e8bedf910500485c3c6d6010f338fc78af96ed379d7dbf9adf2ea00ba9429d0',
      s: '75fd5349c4105e74dc7c70645093fb1bd74b1d91ff020a116e4510033814d002',
    });
  });

  it('rejects a seed that is not 32 bytes', () => {
    assertInputError(() => deriveAccountableKey(new Uint8Array(31)), 'secretSeed');
    assertInputError(() => deriveAccountableKey('seed' as unknown as Uint8Array), 'secretSeed');
  });

  it('round-trips scalars through 32-byte little-endian encodings', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: L - 1n }), (scalar) => {
        const bytes = scalarToBytes(scalar);
        assert.equal(bytes.length, 32);
        assert.deepEqual(bytes, numberToBytesLE(scalar, 32));
        assert.equal(bytesToScalar(bytes), scalar);
      }),
    );
    assertInputError(() => scalarToBytes(L), 'scalar');
    assertInputError(() => scalarToBytes(-1n), 'scalar');
    assertInputError(() => bytesToScalar(numberToBytesLE(L, 32)), 'bytes');
    assertInputError(() => bytesToScalar(new Uint8Array(31)), 'bytes');
  });

  it('secretKeyBytes encodes x and rejects zero and out-of-range scalars', () => {
    assert.deepEqual(secretKeyBytes(5n), scalarToBytes(5n));
    assertInputError(() => secretKeyBytes(0n), 'secretScalar');
    assertInputError(() => secretKeyBytes(L), 'secretScalar');
    assertInputError(() => secretKeyBytes(1 as unknown as bigint), 'secretScalar');
  });
});

describe('nonceFor', () => {
  it('is k = H(domain || nonceSecret || chainId || height) mod L and R = k * G', () => {
    fc.assert(
      fc.property(
        seedArbitrary,
        chainArbitrary,
        heightArbitrary,
        (nonceSecret, chainId, height) => {
          const { k, R } = nonceFor(nonceSecret, chainId, height);
          assert.equal(k, reference.nonce(nonceSecret, chainId, height));
          assert.deepEqual(R, Point.BASE.multiply(k).toBytes());
        },
      ),
      { numRuns: 50 },
    );
  });

  it('differs between heights, chains and nonce secrets', () => {
    const secret = new Uint8Array(32).fill(1);
    const base = toHex(nonceFor(secret, CHAIN, 10).R);
    assert.notEqual(toHex(nonceFor(secret, CHAIN, 11).R), base);
    assert.notEqual(toHex(nonceFor(secret, 'coffer-test', 10).R), base);
    assert.notEqual(toHex(nonceFor(new Uint8Array(32).fill(2), CHAIN, 10).R), base);
  });

  it('names the bad input', () => {
    const secret = new Uint8Array(32);
    assertInputError(() => nonceFor(new Uint8Array(16), CHAIN, 1), 'nonceSecret');
    assertInputError(() => nonceFor(secret, '', 1), 'chainId');
    assertInputError(() => nonceFor(secret, 'x'.repeat(chainIdBytesMax + 1), 1), 'chainId');
    assertInputError(() => nonceFor(secret, CHAIN, -1), 'height');
    assertInputError(() => nonceFor(secret, CHAIN, 1.5), 'height');
    assertInputError(() => nonceFor(secret, CHAIN, 2 ** 53), 'height');
  });
});

describe('signAtHeight and verifyAtHeight', () => {
  it('verify(sign(m)) holds, and the signature is s = k + c * x as specified', () => {
    fc.assert(
      fc.property(
        seedArbitrary,
        chainArbitrary,
        heightArbitrary,
        messageArbitrary,
        (seed, chainId, height, message) => {
          const key = deriveAccountableKey(seed);
          const signature = signAtHeight(key, chainId, height, message);
          assert.equal(verifyAtHeight(key.publicKey, message, signature), true);
          const k = reference.nonce(key.nonceSecret, chainId, height);
          const R = Point.BASE.multiply(k).toBytes();
          const c = reference.challenge(R, key.publicKey, height, message);
          assert.equal(c, challenge(R, key.publicKey, height, message));
          assert.deepEqual(signature, {
            height,
            R: toHex(R),
            s: toHex(numberToBytesLE((k + c * key.secretScalar) % L, 32)),
          });
          assert.equal(reference.equationHolds(key.publicKey, message, signature), true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('is a plain RFC 8032 ed25519 signature of the domain-tagged message', () => {
    fc.assert(
      fc.property(seedArbitrary, heightArbitrary, messageArbitrary, (seed, height, message) => {
        const key = deriveAccountableKey(seed);
        const signature = signAtHeight(key, CHAIN, height, message);
        const rs = fromHex(signature.R + signature.s);
        const signed = accountableSignedMessage(height, message);
        assert.equal(ed25519.verify(rs, signed, key.publicKey, { zip215: false }), true);
      }),
      { numRuns: 30 },
    );
  });

  it('re-signing the same message at the same height is byte-identical', () => {
    fc.assert(
      fc.property(seedArbitrary, heightArbitrary, messageArbitrary, (seed, height, message) => {
        const key = deriveAccountableKey(seed);
        assert.deepEqual(
          signAtHeight(key, CHAIN, height, message),
          signAtHeight(key, CHAIN, height, message.slice()),
        );
      }),
      { numRuns: 30 },
    );
  });

  it('fails when a byte of R, s, the message or the key is flipped, or the height changes', () => {
    fc.assert(
      fc.property(
        seedArbitrary,
        heightArbitrary,
        messageArbitrary,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (seed, height, message, position, mask) => {
          const key = deriveAccountableKey(seed);
          const signature = signAtHeight(key, CHAIN, height, message);
          const P = key.publicKey;
          const badR = { ...signature, R: flippedHex(signature.R, position, mask) };
          const badS = { ...signature, s: flippedHex(signature.s, position, mask) };
          assert.equal(verifyAtHeight(P, message, badR), false);
          assert.equal(verifyAtHeight(P, message, badS), false);
          assert.equal(verifyAtHeight(flipped(P, position, mask), message, signature), false);
          const longer = concatBytes(message, new Uint8Array([mask]));
          assert.equal(verifyAtHeight(P, longer, signature), false);
          if (message.length > 0) {
            assert.equal(verifyAtHeight(P, flipped(message, position, mask), signature), false);
          }
          const otherHeight = height === 0 ? 1 : height - 1;
          assert.equal(verifyAtHeight(P, message, { ...signature, height: otherHeight }), false);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('rejects a non-canonical s (s + L), though the group equation still holds for it', () => {
    const key = deriveAccountableKey(new Uint8Array(32).fill(3));
    const message = utf8('header');
    const signature = signAtHeight(key, CHAIN, 7, message);
    const s = bytesToNumberLE(fromHex(signature.s));
    const malleated = { ...signature, s: toHex(numberToBytesLE(s + L, 32)) };
    assert.equal(reference.equationHolds(key.publicKey, message, malleated), true);
    assert.equal(verifyAtHeight(key.publicKey, message, malleated), false);
    assert.equal(verifyAtHeight(key.publicKey, message, signature), true);
  });

  it('rejects uppercase hex: a signature has one encoding', () => {
    const key = deriveAccountableKey(new Uint8Array(32).fill(4));
    const message = utf8('header');
    const signature = signAtHeight(key, CHAIN, 7, message);
    const upperR = { ...signature, R: signature.R.toUpperCase() };
    const upperS = { ...signature, s: signature.s.toUpperCase() };
    assert.notEqual(upperR.R, signature.R);
    assert.equal(verifyAtHeight(key.publicKey, message, upperR), false);
    assert.equal(verifyAtHeight(key.publicKey, message, upperS), false);
  });

  it('rejects R = identity (k = 0), though the group equation holds for it', () => {
    const key = deriveAccountableKey(new Uint8Array(32).fill(5));
    const message = utf8('header');
    const identity = Point.ZERO.toBytes();
    const c = challenge(identity, key.publicKey, 9, message);
    const forged = {
      height: 9,
      R: toHex(identity),
      s: toHex(numberToBytesLE((c * key.secretScalar) % L, 32)),
    };
    assert.equal(reference.equationHolds(key.publicKey, message, forged), true);
    assert.equal(verifyAtHeight(key.publicKey, message, forged), false);
  });

  it('rejects non-canonical encodings of the identity as R, though the equation holds', () => {
    const key = deriveAccountableKey(new Uint8Array(32).fill(6));
    const message = utf8('header');
    const encodings = [
      numberToBytesLE(2n ** 255n - 19n + 1n, 32), // y = p + 1, not reduced
      numberToBytesLE(2n ** 255n + 1n, 32), // y = 1 with the sign bit set though x = 0
    ];
    for (const R of encodings) {
      const c = challenge(R, key.publicKey, 3, message);
      const forged = {
        height: 3,
        R: toHex(R),
        s: toHex(numberToBytesLE((c * key.secretScalar) % L, 32)),
      };
      assert.equal(reference.equationHolds(key.publicKey, message, forged), true);
      assert.equal(verifyAtHeight(key.publicKey, message, forged), false);
    }
  });

  it('rejects keys with a torsion component: a ground signature passes the bare equation', () => {
    // P' = x * G + T with T of order 8. When 8 divides c, s = k + c * x satisfies
    // s * G = R + c * P', yet no scalar has P' as its multiple of G, so equivocation with P'
    // would reveal nothing. Keys like P' must never verify.
    const key = deriveAccountableKey(new Uint8Array(32).fill(7));
    const torsion = Point.fromBytes(fromHex(ED25519_TORSION_SUBGROUP[1]!));
    const twisted = Point.fromBytes(key.publicKey).add(torsion).toBytes();
    assert.equal(isAccountablePublicKey(twisted), false);
    let found = 0;
    for (let attempt = 0; found < 2 && attempt < 400; attempt++) {
      const message = utf8(`header ${attempt}`);
      const { k, R } = nonceFor(key.nonceSecret, CHAIN, 1);
      const c = challenge(R, twisted, 1, message);
      if (c % 8n !== 0n) continue;
      found++;
      const forged = {
        height: 1,
        R: toHex(R),
        s: toHex(numberToBytesLE((k + c * key.secretScalar) % L, 32)),
      };
      assert.equal(reference.equationHolds(twisted, message, forged), true);
      assert.equal(verifyAtHeight(twisted, message, forged), false);
    }
    assert.equal(found, 2);
  });

  it('rejects small-order and non-canonical public keys', () => {
    for (const encoding of ED25519_TORSION_SUBGROUP) {
      assert.equal(isAccountablePublicKey(fromHex(encoding)), false, encoding);
    }
    // y = p (not reduced) encodes the same point as y = 0.
    const nonCanonical = numberToBytesLE(2n ** 255n - 19n, 32);
    assert.equal(isAccountablePublicKey(nonCanonical), false);
    assert.equal(isAccountablePublicKey(new Uint8Array(31)), false);
    assert.equal(isAccountablePublicKey('ab' as unknown as Uint8Array), false);
  });

  it('never throws on garbage, and returns false', () => {
    const key = deriveAccountableKey(new Uint8Array(32).fill(8));
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (publicKey, message, signature) => {
        assert.equal(
          verifyAtHeight(
            publicKey as Uint8Array,
            message as Uint8Array,
            signature as AccountableSignature,
          ),
          false,
        );
        assert.equal(
          verifyAtHeight(key.publicKey, utf8('m'), signature as AccountableSignature),
          false,
        );
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.record({
          height: fc.oneof(fc.nat(), fc.double()),
          R: fc.oneof(
            fc.stringMatching(/^[0-9a-fA-F]{0,70}$/),
            fc.uint8Array({ minLength: 32, maxLength: 32 }).map(toHex),
          ),
          s: fc.oneof(
            fc.stringMatching(/^[0-9a-fA-F]{0,70}$/),
            fc.uint8Array({ minLength: 32, maxLength: 32 }).map(toHex),
          ),
        }),
        (publicKey, signature) => {
          assert.equal(verifyAtHeight(publicKey, utf8('m'), signature), false);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('names the bad input when signing', () => {
    const key = deriveAccountableKey(new Uint8Array(32).fill(9));
    const other = deriveAccountableKey(new Uint8Array(32).fill(10));
    const message = utf8('m');
    assertInputError(
      () => signAtHeight({ ...key, publicKey: other.publicKey }, CHAIN, 1, message),
      'key.publicKey',
    );
    assertInputError(
      () => signAtHeight({ ...key, secretScalar: 0n }, CHAIN, 1, message),
      'key.secretScalar',
    );
    assertInputError(
      () => signAtHeight({ ...key, nonceSecret: new Uint8Array(1) }, CHAIN, 1, message),
      'key.nonceSecret',
    );
    assertInputError(() => signAtHeight(null as unknown as typeof key, CHAIN, 1, message), 'key');
    assertInputError(() => signAtHeight(key, CHAIN, -1, message), 'height');
    assertInputError(() => signAtHeight(key, '', 1, message), 'chainId');
    assertInputError(() => signAtHeight(key, CHAIN, 1, 'm' as unknown as Uint8Array), 'message');
  });
});

describe('extractSecret', () => {
  it('two signatures at one height on different messages always yield x, with x * G = P', () => {
    fc.assert(
      fc.property(
        seedArbitrary,
        chainArbitrary,
        heightArbitrary,
        distinctMessages,
        (seed, chainId, height, [messageA, messageB]) => {
          const key = deriveAccountableKey(seed);
          const signatureA = signAtHeight(key, chainId, height, messageA);
          const signatureB = signAtHeight(key, chainId, height, messageB);
          assert.equal(signatureA.R, signatureB.R);
          const x = extractSecret(key.publicKey, messageA, signatureA, messageB, signatureB);
          assert.equal(x, key.secretScalar);
          assert.deepEqual(Point.BASE.multiply(x).toBytes(), key.publicKey);
          // Order does not matter.
          assert.equal(
            extractSecret(key.publicKey, messageB, signatureB, messageA, signatureA),
            key.secretScalar,
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('signatures at different heights never yield it', () => {
    fc.assert(
      fc.property(
        seedArbitrary,
        fc.uniqueArray(heightArbitrary, { minLength: 2, maxLength: 2 }),
        messageArbitrary,
        messageArbitrary,
        (seed, [heightA, heightB], messageA, messageB) => {
          const key = deriveAccountableKey(seed);
          const signatureA = signAtHeight(key, CHAIN, heightA!, messageA);
          const signatureB = signAtHeight(key, CHAIN, heightB!, messageB);
          assert.equal(
            extractSecret(key.publicKey, messageA, signatureA, messageB, signatureB),
            undefined,
          );
          // Relabelling a height does not help: the R still differ.
          assert.equal(
            extractSecret(key.publicKey, messageA, signatureA, messageB, {
              ...signatureB,
              height: heightA!,
            }),
            undefined,
          );
        },
      ),
      { numRuns: 40 },
    );
  });

  it('returns undefined for identical messages, even as separate arrays', () => {
    const key = deriveAccountableKey(new Uint8Array(32).fill(11));
    const message = utf8('header');
    const signature = signAtHeight(key, CHAIN, 5, message);
    assert.equal(
      extractSecret(key.publicKey, message, signature, message.slice(), { ...signature }),
      undefined,
    );
  });

  it('returns undefined for the wrong public key, and for one tampered signature', () => {
    const key = deriveAccountableKey(new Uint8Array(32).fill(12));
    const other = deriveAccountableKey(new Uint8Array(32).fill(13));
    const messageA = utf8('header a');
    const messageB = utf8('header b');
    const signatureA = signAtHeight(key, CHAIN, 5, messageA);
    const signatureB = signAtHeight(key, CHAIN, 5, messageB);
    assert.equal(
      extractSecret(other.publicKey, messageA, signatureA, messageB, signatureB),
      undefined,
    );
    const tampered = { ...signatureB, s: flippedHex(signatureB.s, 0, 1) };
    assert.equal(extractSecret(key.publicKey, messageA, signatureA, messageB, tampered), undefined);
    // A signature by another key with the same R label cannot be combined either.
    const foreign = signAtHeight(other, CHAIN, 5, messageB);
    assert.equal(
      extractSecret(key.publicKey, messageA, signatureA, messageB, { ...foreign, R: signatureA.R }),
      undefined,
    );
  });

  it('never throws on garbage', () => {
    const key = deriveAccountableKey(new Uint8Array(32).fill(14));
    const signature = signAtHeight(key, CHAIN, 1, utf8('a'));
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (a, b, c) => {
        assert.equal(
          extractSecret(
            a as Uint8Array,
            b as Uint8Array,
            c as AccountableSignature,
            utf8('b'),
            signature,
          ),
          undefined,
        );
        assert.equal(
          extractSecret(
            key.publicKey,
            utf8('a'),
            signature,
            b as Uint8Array,
            c as AccountableSignature,
          ),
          undefined,
        );
      }),
      { numRuns: 200 },
    );
  });
});
