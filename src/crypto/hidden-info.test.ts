import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { deriveAccountableKey, extractSecret, signAtHeight } from './accountable.js';
import { fromHex, toHex, utf8 } from './bytes.js';
import { canonicalBytes, canonicalize } from './canonical.js';
import { CryptoInputError } from './errors.js';
import {
  commitInfo,
  encryptHiddenInfo,
  hiddenInfoBytesMax,
  hiddenInfoCiphertextBytesMax,
  revealHiddenInfo,
} from './hidden-info.js';

const CHAIN = 'coffer-dev';

const seedArbitrary = fc.uint8Array({ minLength: 32, maxLength: 32 });
const messageArbitrary = fc.uint8Array({ maxLength: 200 });
const infoArbitrary = fc
  .jsonValue({ maxDepth: 3 })
  .filter((info) => canonicalBytes(info).length <= hiddenInfoBytesMax);
const identityArbitrary = fc.record({
  name: fc.string({ maxLength: 40 }),
  contact: fc.emailAddress(),
  legalEntity: fc.string({ maxLength: 40 }),
});

const SAMPLE_INFO = { name: 'Producer One', contact: 'ops@example.org', legalEntity: 'P1 GmbH' };

function assertInputError(action: () => unknown, field: string): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof CryptoInputError, String(error));
    assert.equal(error.field, field);
    return true;
  });
}

function flippedHex(hex: string, position: number, mask: number): string {
  const bytes = fromHex(hex);
  bytes[position % bytes.length]! ^= mask;
  return toHex(bytes);
}

describe('hidden information', () => {
  it('reveals what was encrypted, and the revealed salt opens the commitment', () => {
    fc.assert(
      fc.property(seedArbitrary, infoArbitrary, (seed, info) => {
        const { secretScalar } = deriveAccountableKey(seed);
        const { hiddenInfo, commitment } = encryptHiddenInfo(secretScalar, info);
        assert.match(commitment, /^[0-9a-f]{64}$/);
        assert.match(hiddenInfo, /^([0-9a-f]{2})+$/);
        const revealed = revealHiddenInfo(secretScalar, hiddenInfo, commitment);
        assert.ok(revealed !== undefined);
        assert.equal(canonicalize(revealed.info), canonicalize(info));
        assert.equal(commitInfo(revealed.info, fromHex(revealed.salt)), commitment);
      }),
      { numRuns: 60 },
    );
  });

  it('uses a fresh salt: the same info gives unlinkable commitments', () => {
    const { secretScalar } = deriveAccountableKey(new Uint8Array(32).fill(1));
    const first = encryptHiddenInfo(secretScalar, SAMPLE_INFO);
    const second = encryptHiddenInfo(secretScalar, SAMPLE_INFO);
    assert.notEqual(first.commitment, second.commitment);
    assert.notEqual(first.hiddenInfo, second.hiddenInfo);
  });

  it('does not reveal with the wrong key', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(seedArbitrary, { minLength: 2, maxLength: 2, selector: toHex }),
        identityArbitrary,
        ([seed, otherSeed], info) => {
          const { secretScalar } = deriveAccountableKey(seed!);
          const wrong = deriveAccountableKey(otherSeed!).secretScalar;
          const { hiddenInfo, commitment } = encryptHiddenInfo(secretScalar, info);
          assert.equal(revealHiddenInfo(wrong, hiddenInfo, commitment), undefined);
          assert.ok(revealHiddenInfo(secretScalar, hiddenInfo, commitment) !== undefined);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('does not reveal against another commitment', () => {
    const { secretScalar } = deriveAccountableKey(new Uint8Array(32).fill(2));
    const { hiddenInfo, commitment } = encryptHiddenInfo(secretScalar, SAMPLE_INFO);
    const other = encryptHiddenInfo(secretScalar, SAMPLE_INFO).commitment;
    assert.equal(revealHiddenInfo(secretScalar, hiddenInfo, other), undefined);
    assert.equal(
      revealHiddenInfo(secretScalar, hiddenInfo, flippedHex(commitment, 5, 1)),
      undefined,
    );
    assert.equal(revealHiddenInfo(secretScalar, hiddenInfo, commitment.toUpperCase()), undefined);
    assert.ok(revealHiddenInfo(secretScalar, hiddenInfo, commitment) !== undefined);
  });

  it('does not reveal a tampered ciphertext (any byte: IV, body or tag)', () => {
    const { secretScalar } = deriveAccountableKey(new Uint8Array(32).fill(3));
    const { hiddenInfo, commitment } = encryptHiddenInfo(secretScalar, SAMPLE_INFO);
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), (position, mask) => {
        const tampered = flippedHex(hiddenInfo, position, mask);
        assert.equal(revealHiddenInfo(secretScalar, tampered, commitment), undefined);
      }),
      { numRuns: 200 },
    );
    assert.equal(revealHiddenInfo(secretScalar, hiddenInfo.slice(0, -2), commitment), undefined);
  });

  it('never throws on garbage', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (scalar, hiddenInfo, commitment) => {
        assert.equal(
          revealHiddenInfo(scalar as bigint, hiddenInfo as string, commitment as string),
          undefined,
        );
      }),
      { numRuns: 200 },
    );
    assert.equal(
      revealHiddenInfo(5n, 'ab'.repeat(hiddenInfoCiphertextBytesMax + 1), 'ab'.repeat(32)),
      undefined,
    );
  });

  it('accepts info up to hiddenInfoBytesMax bytes of canonical JSON, and no more', () => {
    const { secretScalar } = deriveAccountableKey(new Uint8Array(32).fill(4));
    // {"name":"aaa..."} is 11 bytes around the string.
    const largest = { name: 'a'.repeat(hiddenInfoBytesMax - 11) };
    assert.equal(canonicalBytes(largest).length, hiddenInfoBytesMax);
    const { hiddenInfo, commitment } = encryptHiddenInfo(secretScalar, largest);
    assert.ok(hiddenInfo.length <= 2 * hiddenInfoCiphertextBytesMax);
    assert.deepEqual(revealHiddenInfo(secretScalar, hiddenInfo, commitment)?.info, largest);
    const tooLarge = { name: 'a'.repeat(hiddenInfoBytesMax - 10) };
    assertInputError(() => encryptHiddenInfo(secretScalar, tooLarge), 'info');
    assertInputError(() => commitInfo(tooLarge, new Uint8Array(32)), 'info');
  });

  it('names the bad input', () => {
    const { secretScalar } = deriveAccountableKey(new Uint8Array(32).fill(5));
    assertInputError(() => encryptHiddenInfo(secretScalar, 1n), 'info');
    assertInputError(() => encryptHiddenInfo(secretScalar, { name: 1n }), 'info.name');
    assertInputError(() => encryptHiddenInfo(secretScalar, [1, undefined]), 'info[1]');
    assertInputError(() => encryptHiddenInfo(0n, SAMPLE_INFO), 'secretScalar');
    assertInputError(() => commitInfo(SAMPLE_INFO, new Uint8Array(31)), 'salt');
  });

  it('commitInfo is deterministic and depends on the salt and the info', () => {
    const salt = new Uint8Array(32).fill(9);
    const commitment = commitInfo(SAMPLE_INFO, salt);
    assert.equal(commitInfo({ ...SAMPLE_INFO }, salt.slice()), commitment);
    assert.notEqual(commitInfo(SAMPLE_INFO, new Uint8Array(32).fill(8)), commitment);
    assert.notEqual(commitInfo({ ...SAMPLE_INFO, name: 'Producer Two' }, salt), commitment);
    // Key order does not matter: the commitment is over canonical JSON.
    const reordered = {
      legalEntity: SAMPLE_INFO.legalEntity,
      contact: SAMPLE_INFO.contact,
      name: SAMPLE_INFO.name,
    };
    assert.equal(commitInfo(reordered, salt), commitment);
  });
});

describe('equivocation reveals the hidden information', () => {
  it('two signatures at one height on different headers always yield x and the info', () => {
    fc.assert(
      fc.property(
        seedArbitrary,
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.tuple(messageArbitrary, messageArbitrary).filter(([a, b]) => toHex(a) !== toHex(b)),
        identityArbitrary,
        (seed, height, [headerA, headerB], info) => {
          const key = deriveAccountableKey(seed);
          const registered = encryptHiddenInfo(key.secretScalar, info);
          const signatureA = signAtHeight(key, CHAIN, height, headerA);
          const signatureB = signAtHeight(key, CHAIN, height, headerB);
          const x = extractSecret(key.publicKey, headerA, signatureA, headerB, signatureB);
          assert.ok(x !== undefined);
          const revealed = revealHiddenInfo(x, registered.hiddenInfo, registered.commitment);
          assert.ok(revealed !== undefined);
          assert.equal(canonicalize(revealed.info), canonicalize(info));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('signatures at different heights reveal nothing', () => {
    fc.assert(
      fc.property(
        seedArbitrary,
        fc.uniqueArray(fc.nat({ max: 1_000_000 }), { minLength: 2, maxLength: 2 }),
        (seed, [heightA, heightB]) => {
          const key = deriveAccountableKey(seed);
          const headerA = utf8('header a');
          const headerB = utf8('header b');
          const signatureA = signAtHeight(key, CHAIN, heightA!, headerA);
          const signatureB = signAtHeight(key, CHAIN, heightB!, headerB);
          assert.equal(
            extractSecret(key.publicKey, headerA, signatureA, headerB, signatureB),
            undefined,
          );
        },
      ),
      { numRuns: 20 },
    );
  });
});
