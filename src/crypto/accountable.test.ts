import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';

import { ed25519, ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';
import { sha256 as nobleSha256, sha512 as nobleSha512 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';

import {
  accountableDomains,
  accountableMessageBytesMax,
  accountableSignedMessage,
  bytesToScalar,
  challenge,
  chainIdBytesMax,
  deriveAccountableKey,
  extractSecret,
  heightBytes,
  isAccountablePublicKey,
  nonceFor,
  scalarToBytes,
  secretKeyBytes,
  signAtHeight,
  verifyAtHeight,
  type AccountableKey,
  type AccountableSignature,
} from './accountable.js';
import { backend } from './backend.js';
import { concatBytes, fromHex, toHex, utf8 } from './bytes.js';
import { CryptoInputError } from './errors.js';

const Point = ed25519.Point;
const L = Point.Fn.ORDER;
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

/** The scheme written out from its definition, on noble's hashes rather than node:crypto. */
const reference = {
  wide(...parts: Uint8Array[]): bigint {
    return bytesToNumberLE(nobleSha512(concatBytes(...parts))) % L;
  },
  secretScalar(seed: Uint8Array): bigint {
    return reference.wide(utf8('coffer/accountable/key/v1'), seed);
  },
  nonceSecret(seed: Uint8Array): Uint8Array {
    return nobleSha256(concatBytes(utf8('coffer/accountable/nonce-secret/v1'), seed));
  },
  nonce(nonceSecret: Uint8Array, chainId: string, height: number): bigint {
    return reference.wide(
      utf8('coffer/accountable/nonce/v1'),
      nonceSecret,
      utf8(chainId),
      heightBytes(height),
    );
  },
  challenge(R: Uint8Array, P: Uint8Array, height: number, message: Uint8Array): bigint {
    return reference.wide(
      R,
      P,
      utf8('coffer/accountable/challenge/v1'),
      heightBytes(height),
      message,
    );
  },
  /** The bare group equation s * G = R + c * P, with no encoding or subgroup checks. */
  equationHolds(P: Uint8Array, message: Uint8Array, signature: AccountableSignature): boolean {
    const R = fromHex(signature.R);
    const s = bytesToNumberLE(fromHex(signature.s));
    const c = reference.challenge(R, P, signature.height, message);
    const left = Point.BASE.multiplyUnsafe(s % L);
    const right = Point.fromBytes(R, true).add(Point.fromBytes(P, true).multiplyUnsafe(c));
    return left.equals(right);
  },
};

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

function assertInputErrorMessage(action: () => unknown, field: string, message: string): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof CryptoInputError, String(error));
    assert.deepEqual([error.field, error.message], [field, message]);
    return true;
  });
}

/** A signature made from the scheme's definition, with no bound on the message. */
function signedByDefinition(
  key: AccountableKey,
  height: number,
  message: Uint8Array,
  nonceHeight = height,
): AccountableSignature {
  const k = reference.nonce(key.nonceSecret, CHAIN, nonceHeight);
  const R = Point.BASE.multiply(k).toBytes();
  const c = reference.challenge(R, key.publicKey, height, message);
  return {
    height,
    R: toHex(R),
    s: toHex(numberToBytesLE((k + c * key.secretScalar) % L, 32)),
  };
}

describe('bounds, each at the bound and one past', () => {
  const key = deriveAccountableKey(new Uint8Array(32).fill(15));

  it('pins the limits and the domain tags to their values', () => {
    assert.equal(chainIdBytesMax, 128);
    assert.equal(accountableMessageBytesMax, 65_536);
    assert.deepEqual(accountableDomains, {
      key: 'coffer/accountable/key/v1',
      nonceSecret: 'coffer/accountable/nonce-secret/v1',
      nonce: 'coffer/accountable/nonce/v1',
      challenge: 'coffer/accountable/challenge/v1',
    });
  });

  it('heights: 0 and 2^53 - 1 are 8 bytes big-endian; -1, 1.5, 2^53 and "1" are refused', () => {
    assert.deepEqual(heightBytes(0), new Uint8Array(8));
    assert.deepEqual(heightBytes(258), Uint8Array.of(0, 0, 0, 0, 0, 0, 1, 2));
    assert.deepEqual(
      heightBytes(Number.MAX_SAFE_INTEGER),
      Uint8Array.of(0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
    );
    for (const height of [-1, 1.5, 2 ** 53, '1' as unknown as number]) {
      assertInputErrorMessage(
        () => heightBytes(height),
        'height',
        'height must be a non-negative safe integer',
      );
    }
  });

  it('scalars: 0 and L - 1 encode, L and -1 do not; bytes of L - 1 decode, of L do not', () => {
    assert.deepEqual(scalarToBytes(0n), new Uint8Array(32));
    assert.deepEqual(scalarToBytes(L - 1n), numberToBytesLE(L - 1n, 32));
    assert.equal(bytesToScalar(numberToBytesLE(L - 1n, 32)), L - 1n);
    const message = 'scalar must be a bigint in [0, L)';
    for (const scalar of [L, -1n, 1 as unknown as bigint]) {
      assertInputErrorMessage(() => scalarToBytes(scalar), 'scalar', message);
    }
    assertInputErrorMessage(
      () => bytesToScalar(numberToBytesLE(L, 32)),
      'bytes',
      'bytes must encode a scalar below L',
    );
    assertInputErrorMessage(
      () => bytesToScalar(new Uint8Array(33)),
      'bytes',
      'bytes must be 32 bytes, got 33',
    );
    assertInputErrorMessage(
      () => bytesToScalar(Array.from(new Uint8Array(32)) as unknown as Uint8Array),
      'bytes',
      'bytes must be a Uint8Array',
    );
  });

  it('secret scalars: 1 and L - 1 are keys, 0 and L are not', () => {
    assert.deepEqual(secretKeyBytes(1n), scalarToBytes(1n));
    assert.deepEqual(secretKeyBytes(L - 1n), scalarToBytes(L - 1n));
    for (const scalar of [0n, L, -1n, 1 as unknown as bigint]) {
      assertInputErrorMessage(
        () => secretKeyBytes(scalar),
        'secretScalar',
        'secretScalar must be a bigint in [1, L)',
      );
    }
  });

  it('seeds: 32 bytes, as a Uint8Array', () => {
    assertInputErrorMessage(
      () => deriveAccountableKey(new Uint8Array(33)),
      'secretSeed',
      'secretSeed must be 32 bytes, got 33',
    );
    assertInputErrorMessage(
      () => deriveAccountableKey(Array.from(new Uint8Array(32)) as unknown as Uint8Array),
      'secretSeed',
      'secretSeed must be a Uint8Array',
    );
  });

  it('chain ids: 128 UTF-8 bytes are taken, 129 are not, counted in bytes not characters', () => {
    const secret = new Uint8Array(32).fill(1);
    for (const chainId of ['x'.repeat(128), 'é'.repeat(64)]) {
      assert.equal(nonceFor(secret, chainId, 1).k, reference.nonce(secret, chainId, 1));
    }
    assertInputErrorMessage(
      () => nonceFor(secret, 'x'.repeat(129), 1),
      'chainId',
      'chainId must be at most 128 UTF-8 bytes, got 129',
    );
    assertInputErrorMessage(
      () => nonceFor(secret, 'é'.repeat(65), 1),
      'chainId',
      'chainId must be at most 128 UTF-8 bytes, got 130',
    );
    for (const chainId of ['', 7 as unknown as string]) {
      assertInputErrorMessage(
        () => nonceFor(secret, chainId, 1),
        'chainId',
        'chainId must be a non-empty string',
      );
    }
    assertInputErrorMessage(
      () => nonceFor(new Uint8Array(31), CHAIN, 1),
      'nonceSecret',
      'nonceSecret must be 32 bytes, got 31',
    );
  });

  it('messages: 65536 bytes are signed, verified and extracted from; 65537 are not', () => {
    const longest = new Uint8Array(accountableMessageBytesMax).fill(1);
    const other = new Uint8Array(accountableMessageBytesMax).fill(2);
    const signature = signAtHeight(key, CHAIN, 4, longest);
    assert.deepEqual(signature, signedByDefinition(key, 4, longest));
    assert.equal(verifyAtHeight(key.publicKey, longest, signature), true);
    const otherSignature = signAtHeight(key, CHAIN, 4, other);
    assert.equal(
      extractSecret(key.publicKey, longest, signature, other, otherSignature),
      key.secretScalar,
    );
    const tooLong = new Uint8Array(accountableMessageBytesMax + 1).fill(1);
    const message = 'message must be at most 65536 bytes, got 65537';
    assertInputErrorMessage(() => signAtHeight(key, CHAIN, 4, tooLong), 'message', message);
    assertInputErrorMessage(() => accountableSignedMessage(4, tooLong), 'message', message);
    // A signature of the long message made by the definition holds, yet is refused.
    const tooLongSignature = signedByDefinition(key, 4, tooLong);
    assert.equal(reference.equationHolds(key.publicKey, tooLong, tooLongSignature), true);
    assert.equal(verifyAtHeight(key.publicKey, tooLong, tooLongSignature), false);
    assert.equal(
      extractSecret(key.publicKey, tooLong, tooLongSignature, other, otherSignature),
      undefined,
    );
    assert.equal(
      extractSecret(key.publicKey, other, otherSignature, tooLong, tooLongSignature),
      undefined,
    );
    assertInputErrorMessage(
      () => accountableSignedMessage(4, 'm' as unknown as Uint8Array),
      'message',
      'message must be a Uint8Array',
    );
  });

  it('a signature at height 0 verifies and yields the key', () => {
    const a = signAtHeight(key, CHAIN, 0, utf8('a'));
    const b = signAtHeight(key, CHAIN, 0, utf8('b'));
    assert.equal(verifyAtHeight(key.publicKey, utf8('a'), a), true);
    assert.equal(extractSecret(key.publicKey, utf8('a'), a, utf8('b'), b), key.secretScalar);
  });

  it('challenge names a point of the wrong length', () => {
    assertInputErrorMessage(
      () => challenge(new Uint8Array(31), key.publicKey, 1, utf8('m')),
      'R',
      'R must be 32 bytes, got 31',
    );
    assertInputErrorMessage(
      () => challenge(key.publicKey, new Uint8Array(33), 1, utf8('m')),
      'publicKey',
      'publicKey must be 32 bytes, got 33',
    );
  });
});

describe('signAtHeight checks its inputs in order, and each message says what is wrong', () => {
  const key = deriveAccountableKey(new Uint8Array(32).fill(16));
  const other = deriveAccountableKey(new Uint8Array(32).fill(17));
  const bad = 'm' as unknown as Uint8Array;

  it('the key, then the height, then the message, then the chain id', () => {
    assertInputErrorMessage(
      () => signAtHeight('key' as unknown as AccountableKey, CHAIN, -1, bad),
      'key',
      'key must be an AccountableKey',
    );
    assertInputErrorMessage(
      () => signAtHeight({ ...key, secretScalar: L }, CHAIN, -1, bad),
      'key.secretScalar',
      'key.secretScalar must be a bigint in [1, L)',
    );
    assertInputErrorMessage(
      () => signAtHeight({ ...key, publicKey: new Uint8Array(31) }, CHAIN, -1, bad),
      'key.publicKey',
      'key.publicKey must be 32 bytes, got 31',
    );
    assertInputErrorMessage(
      () => signAtHeight({ ...key, nonceSecret: new Uint8Array(33) }, CHAIN, -1, bad),
      'key.nonceSecret',
      'key.nonceSecret must be 32 bytes, got 33',
    );
    assertInputErrorMessage(
      () => signAtHeight({ ...key, publicKey: other.publicKey }, CHAIN, -1, bad),
      'key.publicKey',
      'key.publicKey is not secretScalar * G',
    );
    assertInputErrorMessage(
      () => signAtHeight(key, '', -1, bad),
      'height',
      'height must be a non-negative safe integer',
    );
    assertInputErrorMessage(
      () => signAtHeight(key, '', 1, bad),
      'message',
      'message must be a Uint8Array',
    );
  });

  it('a key checked once is not trusted with another public key or another scalar', () => {
    assert.equal(
      verifyAtHeight(key.publicKey, utf8('m'), signAtHeight(key, CHAIN, 1, utf8('m'))),
      true,
    );
    assertInputErrorMessage(
      () => signAtHeight({ ...key, publicKey: other.publicKey }, CHAIN, 1, utf8('m')),
      'key.publicKey',
      'key.publicKey is not secretScalar * G',
    );
    assertInputErrorMessage(
      () => signAtHeight({ ...key, secretScalar: other.secretScalar }, CHAIN, 1, utf8('m')),
      'key.publicKey',
      'key.publicKey is not secretScalar * G',
    );
  });

  it('a seed or nonce secret whose hash reduces to zero is refused (a SHA-512 stand-in)', () => {
    // No seed is known to hit x = 0 or k = 0 (probability 2^-252): a digest equal to L shows it.
    const digestOfL = numberToBytesLE(L, 64);
    mock.method(backend, 'sha512', () => digestOfL.slice());
    try {
      assertInputErrorMessage(
        () => deriveAccountableKey(new Uint8Array(32)),
        'secretSeed',
        'secretSeed derives the zero scalar',
      );
      assertInputErrorMessage(
        () => nonceFor(key.nonceSecret, CHAIN, 1),
        'nonceSecret',
        'nonceSecret derives the zero nonce at this height',
      );
    } finally {
      mock.restoreAll();
    }
    assert.equal(nonceFor(key.nonceSecret, CHAIN, 1).k, reference.nonce(key.nonceSecret, CHAIN, 1));
  });
});

describe('verifyAtHeight and extractSecret refuse what parses wrongly, though the equation holds', () => {
  const key = deriveAccountableKey(new Uint8Array(32).fill(18));
  const messageA = utf8('header a');
  const messageB = utf8('header b');
  const signatureA = signAtHeight(key, CHAIN, 6, messageA);
  const signatureB = signAtHeight(key, CHAIN, 6, messageB);
  const extract = (a: AccountableSignature, b: AccountableSignature, P = key.publicKey) =>
    extractSecret(P, messageA, a, messageB, b);

  it('the pair as signed yields the key', () => {
    assert.equal(extract(signatureA, signatureB), key.secretScalar);
  });

  it('a non-canonical s (s + L) on either side', () => {
    const s = bytesToNumberLE(fromHex(signatureB.s));
    const malleated = { ...signatureB, s: toHex(numberToBytesLE(s + L, 32)) };
    assert.equal(extract(signatureA, malleated), undefined);
    assert.equal(extract(malleated, signatureA), undefined);
  });

  it('s written as L (a second encoding of 0), though the pair would give x', () => {
    // Made up by x's holder: sA = 0 written as L, sB chosen so the formula gives x.
    const cA = challenge(fromHex(signatureA.R), key.publicKey, 6, messageA);
    const cB = challenge(fromHex(signatureB.R), key.publicKey, 6, messageB);
    const sB = (((-key.secretScalar * (cA - cB)) % L) + L) % L;
    const zero = { ...signatureA, s: toHex(numberToBytesLE(0n, 32)) };
    const asL = { ...signatureA, s: toHex(numberToBytesLE(L, 32)) };
    const madeUp = { ...signatureB, s: toHex(numberToBytesLE(sB, 32)) };
    assert.equal(extract(zero, madeUp), key.secretScalar);
    assert.equal(extract(asL, madeUp), undefined);
  });

  it('uppercase hex on either side', () => {
    const upper = { ...signatureB, R: signatureB.R.toUpperCase(), s: signatureB.s.toUpperCase() };
    assert.equal(extract(signatureA, upper), undefined);
    assert.equal(extract(upper, signatureA), undefined);
  });

  it('R = identity (k = 0) in both: the key would come out, but such R are never nonces', () => {
    const identity = toHex(Point.ZERO.toBytes());
    const forged = (message: Uint8Array) => {
      const c = challenge(Point.ZERO.toBytes(), key.publicKey, 6, message);
      return { height: 6, R: identity, s: toHex(numberToBytesLE((c * key.secretScalar) % L, 32)) };
    };
    assert.equal(extract(forged(messageA), forged(messageB)), undefined);
  });

  it('one nonce used at two heights: a valid signature each, but not one height', () => {
    // The signer's nonce of height 6 used for a signature at height 7 (only x's holder can).
    const atSeven = signedByDefinition(key, 7, messageB, 6);
    assert.equal(atSeven.R, signatureA.R);
    assert.equal(verifyAtHeight(key.publicKey, messageB, atSeven), true);
    assert.equal(extract(signatureA, atSeven), undefined);
  });

  it('heights that are not non-negative safe integers', () => {
    for (const height of [-1, 6.5, '6', 2 ** 53]) {
      const odd = { ...signatureB, height } as unknown as AccountableSignature;
      assert.equal(verifyAtHeight(key.publicKey, messageB, odd), false, String(height));
      assert.equal(extract(signatureA, odd), undefined, String(height));
    }
  });

  it('a public key of 33 bytes that begins with the key', () => {
    const longer = concatBytes(key.publicKey, Uint8Array.of(0));
    assert.equal(verifyAtHeight(longer, messageA, signatureA), false);
    assert.equal(extract(signatureA, signatureB, longer), undefined);
    assert.equal(isAccountablePublicKey(longer), false);
    assert.equal(isAccountablePublicKey(key.publicKey.subarray(0, 31)), false);
  });

  it('two signatures with different R, whatever their s, even when they would give x', () => {
    // s values made up so that (sA - sB) / (cA - cB) is x: only x's holder can, and different R
    // are not an equivocation, so nothing is extracted.
    const otherR = signAtHeight(key, CHAIN, 7, messageB).R;
    const cA = challenge(fromHex(signatureA.R), key.publicKey, 6, messageA);
    const cB = challenge(fromHex(otherR), key.publicKey, 6, messageB);
    const sA = bytesToNumberLE(fromHex(signatureA.s));
    const sB = (((sA - key.secretScalar * (cA - cB)) % L) + L) % L;
    const madeUp = { height: 6, R: otherR, s: toHex(numberToBytesLE(sB, 32)) };
    const inverse = Point.Fn.inv((((cA - cB) % L) + L) % L);
    assert.equal((((((sA - sB) % L) + L) % L) * inverse) % L, key.secretScalar);
    assert.equal(extract(signatureA, madeUp), undefined);
  });

  it('a signature whose fields throw when read gives false and undefined, not a throw', () => {
    const throwing = {
      get height(): number {
        throw new Error('read');
      },
      R: signatureA.R,
      s: signatureA.s,
    };
    assert.equal(verifyAtHeight(key.publicKey, messageA, throwing), false);
    assert.equal(extract(signatureA, throwing), undefined);
  });

  it('a public key checked once stays valid, and verifies again', () => {
    const fresh = deriveAccountableKey(new Uint8Array(32).fill(19));
    const signature = signAtHeight(fresh, CHAIN, 2, messageA);
    for (let round = 0; round < 2; round++) {
      assert.equal(isAccountablePublicKey(fresh.publicKey), true);
      assert.equal(verifyAtHeight(fresh.publicKey, messageA, signature), true);
    }
  });

  it('a public key given as a plain array of its bytes', () => {
    const array = Array.from(key.publicKey) as unknown as Uint8Array;
    assert.equal(verifyAtHeight(array, messageA, signatureA), false);
    assert.equal(extract(signatureA, signatureB, array), undefined);
    assert.equal(isAccountablePublicKey(array), false);
  });
});
