// accountable.ts (issue 25): each bound at the bound and one past, the order signAtHeight checks its
// inputs in, and what verifyAtHeight and extractSecret refuse though the equation holds.
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';

import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';

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
import { L, Point, reference } from './accountable-fixture.js';

const CHAIN = 'coffer-dev';

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
