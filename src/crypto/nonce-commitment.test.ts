import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ed25519 } from '@noble/curves/ed25519.js';
import { numberToBytesLE } from '@noble/curves/utils.js';
import fc from 'fast-check';

import {
  challenge,
  deriveAccountableKey,
  heightBytes,
  nonceFor,
  signAtHeight,
  verifyAtHeight,
} from './accountable.js';
import { concatBytes, fromHex, toHex, utf8 } from './bytes.js';
import { CryptoInputError } from './errors.js';
import { inclusionProof, merkleRoot } from './merkle.js';
import {
  commitNonces,
  nonceCommitmentCountMax,
  nonceProof,
  nonceProofMatchesSignature,
  verifyNonceProof,
  type NonceProof,
} from './nonce-commitment.js';

const CHAIN = 'coffer-dev';
const L = ed25519.Point.Fn.ORDER;

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

function leaf(height: number, R: Uint8Array): Uint8Array {
  return concatBytes(utf8('coffer/nonce-commitment/leaf/v1'), heightBytes(height), R);
}

// One commitment shared by the tests that only read it: 37 heights is an unbalanced tree.
const KEY = deriveAccountableKey(new Uint8Array(32).fill(21));
const FROM = 1_000;
const COUNT = 37;
const COMMITMENT = commitNonces(KEY.nonceSecret, CHAIN, FROM, COUNT);

describe('commitNonces', () => {
  it('commits to R_h = nonceFor(h).R, leaf h = domain || h || R_h, in an RFC 6962 tree', () => {
    assert.equal(COMMITMENT.fromHeight, FROM);
    assert.equal(COMMITMENT.count, COUNT);
    assert.equal(COMMITMENT.nonces.length, COUNT);
    const leaves: Uint8Array[] = [];
    for (let index = 0; index < COUNT; index++) {
      const R = nonceFor(KEY.nonceSecret, CHAIN, FROM + index).R;
      assert.deepEqual(COMMITMENT.nonces[index], R);
      leaves.push(leaf(FROM + index, R));
    }
    assert.equal(COMMITMENT.root, toHex(merkleRoot(leaves)));
  });

  it('is deterministic, and differs by range, chain and nonce secret', () => {
    const again = commitNonces(KEY.nonceSecret, CHAIN, FROM, COUNT);
    assert.equal(again.root, COMMITMENT.root);
    assert.notEqual(commitNonces(KEY.nonceSecret, CHAIN, FROM + 1, COUNT).root, COMMITMENT.root);
    assert.notEqual(commitNonces(KEY.nonceSecret, CHAIN, FROM, COUNT - 1).root, COMMITMENT.root);
    assert.notEqual(commitNonces(KEY.nonceSecret, 'other', FROM, COUNT).root, COMMITMENT.root);
    const other = deriveAccountableKey(new Uint8Array(32).fill(22));
    assert.notEqual(commitNonces(other.nonceSecret, CHAIN, FROM, COUNT).root, COMMITMENT.root);
  });

  it('names the bad input', () => {
    const secret = KEY.nonceSecret;
    assertInputError(() => commitNonces(secret, CHAIN, -1, 1), 'fromHeight');
    assertInputError(() => commitNonces(secret, CHAIN, 0.5, 1), 'fromHeight');
    assertInputError(() => commitNonces(secret, CHAIN, 0, 0), 'count');
    assertInputError(() => commitNonces(secret, CHAIN, 0, nonceCommitmentCountMax + 1), 'count');
    assertInputError(() => commitNonces(secret, CHAIN, Number.MAX_SAFE_INTEGER, 2), 'count');
    assertInputError(() => commitNonces(new Uint8Array(3), CHAIN, 0, 1), 'nonceSecret');
    assertInputError(() => commitNonces(secret, '', 0, 1), 'chainId');
  });
});

describe('nonceProof and verifyNonceProof', () => {
  it('proves every height, with the path merkle.ts gives', () => {
    const leaves = COMMITMENT.nonces.map((R, index) => leaf(FROM + index, R));
    for (let index = 0; index < COUNT; index++) {
      const proof = nonceProof(COMMITMENT, FROM + index);
      assert.equal(proof.height, FROM + index);
      assert.equal(proof.index, index);
      assert.equal(proof.treeSize, COUNT);
      assert.equal(proof.R, toHex(COMMITMENT.nonces[index]!));
      assert.deepEqual(proof.path, inclusionProof(leaves, index).map(toHex));
      assert.equal(verifyNonceProof(COMMITMENT.root, FROM, COUNT, proof), true);
    }
  });

  it('proves every height of trees of any size from 1 to 20', () => {
    for (let count = 1; count <= 20; count++) {
      const commitment = commitNonces(KEY.nonceSecret, CHAIN, 5, count);
      for (let height = 5; height < 5 + count; height++) {
        const proof = nonceProof(commitment, height);
        assert.equal(
          verifyNonceProof(commitment.root, 5, count, proof),
          true,
          `${count}/${height}`,
        );
      }
    }
  });

  it('works on a copy of the commitment (as read back from storage)', () => {
    const copy = structuredClone(COMMITMENT);
    assert.deepEqual(nonceProof(copy, FROM + 3), nonceProof(COMMITMENT, FROM + 3));
  });

  it('refuses a commitment whose nonces do not match its root', () => {
    const copy = structuredClone(COMMITMENT);
    copy.nonces[4] = COMMITMENT.nonces[5]!;
    assertInputError(() => nonceProof(copy, FROM + 4), 'commitment.root');
    // Changed after the tree was cached: the cache is checked, not trusted.
    const fresh = commitNonces(KEY.nonceSecret, CHAIN, 0, 4);
    fresh.nonces[1] = fresh.nonces[2]!;
    assertInputError(() => nonceProof(fresh, 1), 'commitment.root');
  });

  it('names the bad input', () => {
    assertInputError(() => nonceProof(COMMITMENT, FROM - 1), 'height');
    assertInputError(() => nonceProof(COMMITMENT, FROM + COUNT), 'height');
    assertInputError(() => nonceProof({ ...COMMITMENT, root: 'xyz' }, FROM), 'commitment.root');
    assertInputError(
      () => nonceProof({ ...COMMITMENT, nonces: COMMITMENT.nonces.slice(1) }, FROM),
      'commitment.nonces',
    );
    assertInputError(() => nonceProof(null as never, FROM), 'commitment');
  });

  it('rejects an R that is not the committed nonce of the height', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: COUNT - 1 }),
        fc.integer({ min: 1, max: COUNT - 1 }),
        (index, shift) => {
          const proof = nonceProof(COMMITMENT, FROM + index);
          // Another height's committed nonce, with this height's path.
          const otherR = toHex(COMMITMENT.nonces[(index + shift) % COUNT]!);
          assert.equal(
            verifyNonceProof(COMMITMENT.root, FROM, COUNT, { ...proof, R: otherR }),
            false,
          );
          // A nonce of this height under another nonce secret.
          const foreign = toHex(nonceFor(new Uint8Array(32).fill(shift), CHAIN, FROM + index).R);
          assert.equal(
            verifyNonceProof(COMMITMENT.root, FROM, COUNT, { ...proof, R: foreign }),
            false,
          );
        },
      ),
      { numRuns: 40 },
    );
  });

  it('rejects a proof with any field or path byte changed, or against another range', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: COUNT - 1 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (index, position, mask) => {
          const proof = nonceProof(COMMITMENT, FROM + index);
          const root = COMMITMENT.root;
          const verifies = (candidate: NonceProof, r = root, from = FROM, count = COUNT): boolean =>
            verifyNonceProof(r, from, count, candidate);
          assert.equal(verifies(proof), true);
          assert.equal(verifies({ ...proof, R: flippedHex(proof.R, position, mask) }), false);
          const path = proof.path.slice();
          const at = position % path.length;
          path[at] = flippedHex(path[at]!, position >> 5, mask);
          assert.equal(verifies({ ...proof, path }), false);
          assert.equal(verifies({ ...proof, path: proof.path.slice(1) }), false);
          assert.equal(verifies({ ...proof, path: [...proof.path, proof.path[0]!] }), false);
          assert.equal(verifies({ ...proof, index: index + 1 }), false);
          assert.equal(verifies({ ...proof, treeSize: COUNT + 1 }), false);
          assert.equal(verifies({ ...proof, height: proof.height + 1 }), false);
          assert.equal(verifies(proof, flippedHex(root, position, mask)), false);
          assert.equal(verifies(proof, root.toUpperCase()), false);
          assert.equal(verifies(proof, root, FROM + 1), false);
          assert.equal(verifies(proof, root, FROM, COUNT + 1), false);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('rejects heights outside the committed range', () => {
    const proof = nonceProof(COMMITMENT, FROM);
    const before = { ...proof, height: FROM - 1, index: -1 };
    const after = { ...proof, height: FROM + COUNT, index: COUNT };
    assert.equal(verifyNonceProof(COMMITMENT.root, FROM, COUNT, before), false);
    assert.equal(verifyNonceProof(COMMITMENT.root, FROM, COUNT, after), false);
  });

  it('never throws on garbage', () => {
    fc.assert(
      fc.property(
        fc.anything(),
        fc.anything(),
        fc.anything(),
        fc.anything(),
        (root, from, count, proof) => {
          assert.equal(
            verifyNonceProof(root as string, from as number, count as number, proof as NonceProof),
            false,
          );
          assert.equal(verifyNonceProof(COMMITMENT.root, FROM, COUNT, proof as NonceProof), false);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('committed nonces and header signatures', () => {
  it('an honest signature at a committed height matches its proof', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: FROM, max: FROM + COUNT - 1 }),
        fc.uint8Array({ maxLength: 64 }),
        (height, header) => {
          const signature = signAtHeight(KEY, CHAIN, height, header);
          const proof = nonceProof(COMMITMENT, height);
          assert.equal(verifyAtHeight(KEY.publicKey, header, signature), true);
          assert.equal(verifyNonceProof(COMMITMENT.root, FROM, COUNT, proof), true);
          assert.equal(nonceProofMatchesSignature(proof, signature), true);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('a signature with a fresh, uncommitted nonce verifies alone but is caught', () => {
    // The cheat that committed randomness exists to stop: a second header at a signed height,
    // signed with a new nonce so the two signatures share no R.
    fc.assert(
      fc.property(
        fc.integer({ min: FROM, max: FROM + COUNT - 1 }),
        fc.bigInt({ min: 1n, max: L - 1n }),
        fc.uint8Array({ maxLength: 64 }),
        (height, freshK, header) => {
          const R = ed25519.Point.BASE.multiply(freshK).toBytes();
          const c = challenge(R, KEY.publicKey, height, header);
          const signature = {
            height,
            R: toHex(R),
            s: toHex(numberToBytesLE((freshK + c * KEY.secretScalar) % L, 32)),
          };
          assert.equal(verifyAtHeight(KEY.publicKey, header, signature), true);
          const committed = nonceProof(COMMITMENT, height);
          // The committed proof does not match the signature's R...
          assert.equal(nonceProofMatchesSignature(committed, signature), false);
          // ...and no proof for the fresh R verifies under the committed root.
          const forged = { ...committed, R: signature.R };
          assert.equal(verifyNonceProof(COMMITMENT.root, FROM, COUNT, forged), false);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('a proof of another height does not match the signature', () => {
    const signature = signAtHeight(KEY, CHAIN, FROM + 2, utf8('header'));
    const proof = nonceProof(COMMITMENT, FROM + 3);
    assert.equal(nonceProofMatchesSignature(proof, signature), false);
    assert.equal(nonceProofMatchesSignature(proof, { ...signature, R: proof.R }), false);
    assert.equal(nonceProofMatchesSignature(null as never, signature), false);
    assert.equal(nonceProofMatchesSignature(proof, undefined as never), false);
  });
});
