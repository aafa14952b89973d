import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { toHex, utf8 } from './bytes.js';
import { CryptoInputError } from './errors.js';
import {
  inclusionProof,
  inclusionProofs,
  leafHash,
  merkleRoot,
  nodeHash,
  verifyInclusion,
} from './merkle.js';

function referenceSha256(...parts: Uint8Array[]): Uint8Array {
  const hash = crypto.createHash('sha256');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

function largestPowerOfTwoBelow(size: number): number {
  let power = 1;
  while (power * 2 < size) power *= 2;
  return power;
}

/** MTH exactly as RFC 6962 2.1 writes it, recursively. */
function referenceRoot(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return referenceSha256();
  if (leaves.length === 1) return referenceSha256(Uint8Array.of(0), leaves[0]!);
  const split = largestPowerOfTwoBelow(leaves.length);
  return referenceSha256(
    Uint8Array.of(1),
    referenceRoot(leaves.slice(0, split)),
    referenceRoot(leaves.slice(split)),
  );
}

/** PATH exactly as RFC 6962 2.1.1 writes it, recursively. */
function referencePath(index: number, leaves: Uint8Array[]): Uint8Array[] {
  if (leaves.length <= 1) return [];
  const split = largestPowerOfTwoBelow(leaves.length);
  if (index < split) {
    return [...referencePath(index, leaves.slice(0, split)), referenceRoot(leaves.slice(split))];
  }
  return [
    ...referencePath(index - split, leaves.slice(split)),
    referenceRoot(leaves.slice(0, split)),
  ];
}

function makeLeaves(count: number, salt = ''): Uint8Array[] {
  return Array.from({ length: count }, (_, index) => utf8(`${salt}leaf-${index}`));
}

function assertInputError(action: () => unknown, field: string, message?: string): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof CryptoInputError);
    assert.equal(error.field, field);
    if (message !== undefined) assert.equal(error.message, message);
    return true;
  });
}

describe('merkle (RFC 6962 / RFC 9162)', () => {
  it('the empty tree hashes to SHA-256("")', () => {
    assert.equal(
      toHex(merkleRoot([])),
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('leafHash and nodeHash are domain separated', () => {
    // The well-known RFC 6962 hash of an empty leaf: SHA-256(0x00).
    assert.equal(
      toHex(leafHash(new Uint8Array(0))),
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    );
    const left = new Uint8Array(32).fill(0xaa);
    const right = new Uint8Array(32).fill(0xbb);
    assert.deepEqual(nodeHash(left, right), referenceSha256(Uint8Array.of(1), left, right));
    assert.notDeepEqual(nodeHash(left, right), nodeHash(right, left));
  });

  it('a 1-leaf tree is the leaf hash, with an empty proof', () => {
    const leaf = utf8('only');
    const expected = referenceSha256(Uint8Array.of(0), leaf);
    assert.deepEqual(merkleRoot([leaf]), expected);
    assert.deepEqual(inclusionProof([leaf], 0), []);
    assert.equal(verifyInclusion(leaf, 0, 1, [], expected), true);
  });

  it('a 3-leaf tree is node(node(l0, l1), l2), by hand', () => {
    const leaves = [utf8('a'), utf8('b'), utf8('c')];
    const [hashA, hashB, hashC] = leaves.map((leaf) => referenceSha256(Uint8Array.of(0), leaf));
    const hashAB = referenceSha256(Uint8Array.of(1), hashA!, hashB!);
    const root = referenceSha256(Uint8Array.of(1), hashAB, hashC!);
    assert.deepEqual(merkleRoot(leaves), root);
    assert.deepEqual(inclusionProof(leaves, 0), [hashB, hashC]);
    assert.deepEqual(inclusionProof(leaves, 1), [hashA, hashC]);
    assert.deepEqual(inclusionProof(leaves, 2), [hashAB]);
    for (let index = 0; index < 3; index++) {
      assert.equal(
        verifyInclusion(leaves[index]!, index, 3, inclusionProof(leaves, index), root),
        true,
      );
    }
  });

  it('root and proofs match the recursive RFC 6962 definition for every size up to 70', () => {
    for (let size = 0; size <= 70; size++) {
      const leaves = makeLeaves(size);
      assert.deepEqual(merkleRoot(leaves), referenceRoot(leaves), `size ${size}`);
      const all = inclusionProofs(leaves);
      assert.equal(all.length, size);
      for (let index = 0; index < size; index++) {
        assert.deepEqual(inclusionProof(leaves, index), referencePath(index, leaves));
        assert.deepEqual(all[index], referencePath(index, leaves), `size ${size}, leaf ${index}`);
      }
    }
  });

  it('every leaf proof verifies in random trees of 1..300 leaves', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 300 }),
        (leaves) => {
          const root = merkleRoot(leaves);
          for (let index = 0; index < leaves.length; index++) {
            const proof = inclusionProof(leaves, index);
            assert.equal(verifyInclusion(leaves[index]!, index, leaves.length, proof, root), true);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('a wrong index, leaf, root, size or proof fails', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 300 }), fc.nat(), (size, pick) => {
        const leaves = makeLeaves(size, 'x');
        const index = pick % size;
        const root = merkleRoot(leaves);
        const proof = inclusionProof(leaves, index);
        const leaf = leaves[index]!;
        assert.equal(verifyInclusion(leaf, index, size, proof, root), true);
        assert.equal(verifyInclusion(leaf, (index + 1) % size, size, proof, root), false);
        assert.equal(verifyInclusion(utf8('not a leaf'), index, size, proof, root), false);
        const otherRoot = root.slice();
        otherRoot[pick % 32]! ^= 1;
        assert.equal(verifyInclusion(leaf, index, size, proof, otherRoot), false);
        // A wrong size fails when it changes the leaf's path: sizes where the path has the same
        // shape (3 and 4 for leaf 0) compute the same root from the same proof, as RFC 9162
        // intends; the root, not the size, is what commits to the tree. Doubling the size
        // always adds a level; a size at or below the index leaves the leaf outside the tree.
        assert.equal(verifyInclusion(leaf, index, size * 2 + 1, proof, root), false);
        assert.equal(verifyInclusion(leaf, index, index, proof, root), false);
        assert.equal(verifyInclusion(leaf, 0, 1, proof, root), false);
        if (proof.length > 0) {
          const tampered = proof.map((hash) => hash.slice());
          tampered[pick % tampered.length]![0]! ^= 1;
          assert.equal(verifyInclusion(leaf, index, size, tampered, root), false);
          assert.equal(verifyInclusion(leaf, index, size, proof.slice(1), root), false);
        }
        assert.equal(verifyInclusion(leaf, index, size, [...proof, root], root), false);
        // A leaf's hash passed as if it were the leaf must not verify (domain separation).
        assert.equal(verifyInclusion(leafHash(leaf), index, size, proof, root), false);
      }),
      { numRuns: 200 },
    );
  });

  it('verifyInclusion returns false for malformed input instead of throwing', () => {
    const leaves = makeLeaves(5);
    const root = merkleRoot(leaves);
    const proof = inclusionProof(leaves, 2);
    const leaf = leaves[2]!;
    assert.equal(verifyInclusion(leaf, 2, 5, proof, root), true);
    const cases: [unknown, unknown, unknown, unknown, unknown][] = [
      ['leaf', 2, 5, proof, root],
      [leaf, -1, 5, proof, root],
      [leaf, 2.5, 5, proof, root],
      [leaf, 5, 5, proof, root],
      [leaf, 2, 0, proof, root],
      [leaf, 2, Number.NaN, proof, root],
      [leaf, 2, 5, 'proof', root],
      [leaf, 2, 5, [...proof.slice(0, -1), 'x'], root],
      [leaf, 2, 5, [proof[0]!.subarray(0, 31), ...proof.slice(1)], root],
      [leaf, 2, 5, proof, root.subarray(0, 31)],
      [leaf, 2, 5, proof, null],
      [leaf, 2, 5, new Array<Uint8Array>(65).fill(root), root],
    ];
    for (const [caseLeaf, index, size, caseProof, caseRoot] of cases) {
      assert.equal(
        verifyInclusion(
          caseLeaf as Uint8Array,
          index as number,
          size as number,
          caseProof as Uint8Array[],
          caseRoot as Uint8Array,
        ),
        false,
      );
    }
  });

  // Each case below would verify but for the one guard it names: the proof, leaf and root are
  // otherwise right, so the case fails only while its guard is there.
  describe('verifyInclusion guards: inputs that would verify without their guard', () => {
    const leaves = makeLeaves(4);
    const root = merkleRoot(leaves);
    const leaf0 = leaves[0]!;
    const proof0 = inclusionProof(leaves, 0);
    const leaf3 = leaves[3]!;
    const proof3 = inclusionProof(leaves, 3);
    const verify = (...args: unknown[]) =>
      verifyInclusion(...(args as [Uint8Array, number, number, Uint8Array[], Uint8Array]));

    it('the unguarded inputs verify', () => {
      assert.equal(verify(leaf0, 0, 4, proof0, root), true);
      assert.equal(verify(leaf3, 3, 4, proof3, root), true);
    });

    it('index -1: leaf 0 of any power-of-two tree with its own proof', () => {
      for (const size of [1, 2, 4, 8, 16, 64]) {
        const tree = makeLeaves(size, 'p');
        const proof = inclusionProof(tree, 0);
        assert.equal(verify(tree[0], 0, size, proof, merkleRoot(tree)), true);
        assert.equal(verify(tree[0], -1, size, proof, merkleRoot(tree)), false, `size ${size}`);
      }
    });

    it('an index at the tree size: the last leaf of 4 as if the tree had 3', () => {
      assert.equal(verify(leaf3, 3, 3, proof3, root), false);
    });

    it('a root of 33 bytes whose first 32 are the root', () => {
      const longRoot = new Uint8Array(33);
      longRoot.set(root);
      assert.equal(verify(leaf0, 0, 4, proof0, longRoot), false);
    });

    it('a sibling of 33 bytes whose first 32 are the sibling, on the left and on the right', () => {
      const long = (hash: Uint8Array) => {
        const bytes = new Uint8Array(33);
        bytes.set(hash);
        return bytes;
      };
      // Leaf 3's first sibling (leaf 2) is on its left; leaf 0's first sibling is on its right.
      assert.equal(verify(leaf3, 3, 4, [long(proof3[0]!), proof3[1]], root), false);
      assert.equal(verify(leaf0, 0, 4, [long(proof0[0]!), proof0[1]], root), false);
      assert.equal(verify(leaf0, 0, 4, [proof0[0], long(proof0[1]!)], root), false);
    });

    it('byte arrays that are not Uint8Arrays: the leaf, the root, a sibling', () => {
      assert.equal(verify(Array.from(leaf0), 0, 4, proof0, root), false);
      assert.equal(verify(leaf0, 0, 4, proof0, Array.from(root)), false);
      assert.equal(verify(leaf0, 0, 4, [Array.from(proof0[0]!), proof0[1]], root), false);
      assert.equal(verify(leaf0, 0, 4, [proof0[0], Array.from(proof0[1]!)], root), false);
    });

    it('an index or size given as a numeric string', () => {
      assert.equal(verify(leaf0, '0', 4, proof0, root), false);
      assert.equal(verify(leaf3, '3', 4, proof3, root), false);
      assert.equal(verify(leaf0, 0, '4', proof0, root), false);
    });

    it('a proof that is iterable but not an array', () => {
      assert.equal(verify(leaf0, 0, 4, new Set(proof0), root), false);
    });

    it('a proof that stops below the root: the root of the first two leaves as the root', () => {
      const subtreeRoot = merkleRoot(leaves.slice(0, 2));
      assert.equal(verify(leaf0, 0, 2, proof0.slice(0, 1), subtreeRoot), true);
      assert.equal(verify(leaf0, 0, 4, proof0.slice(0, 1), subtreeRoot), false);
    });

    it('a null root, leaf or sibling gives false, never a throw', () => {
      assert.equal(verify(leaf0, 0, 4, proof0, null), false);
      assert.equal(verify(null, 0, 4, proof0, root), false);
      assert.equal(verify(leaf0, 0, 4, [null, proof0[1]], root), false);
      assert.equal(verify(leaf0, 0, 4, null, root), false);
    });

    it('a proof longer than 64 hashes is refused without reading it; 64 are read', () => {
      const reads = (length: number) => {
        let count = 0;
        const proxy = new Proxy(new Array<Uint8Array>(length).fill(proof0[0]!), {
          get(target, key, receiver) {
            if (typeof key === 'string' && /^[0-9]+$/.test(key)) count += 1;
            return Reflect.get(target, key, receiver) as unknown;
          },
        });
        assert.equal(verify(leaf0, 0, 2 ** 53 - 1, proxy, root), false);
        return count;
      };
      assert.equal(reads(65), 0);
      assert.ok(reads(64) > 0);
    });
  });

  it('computes 10,000-leaf roots iteratively, matching the recursive definition', () => {
    const leaves = makeLeaves(10_000);
    assert.deepEqual(merkleRoot(leaves), referenceRoot(leaves));
    const proof = inclusionProof(leaves, 9_999);
    assert.equal(verifyInclusion(leaves[9_999]!, 9_999, 10_000, proof, merkleRoot(leaves)), true);
  });

  it('says what is wrong with the bad field', () => {
    assertInputError(
      () => merkleRoot('x' as unknown as Uint8Array[]),
      'leaves',
      'leaves must be an array of Uint8Array',
    );
    assertInputError(
      () => inclusionProof([new Uint8Array(1), 'x' as unknown as Uint8Array], 0),
      'leaves[1]',
      'leaves[1] must be a Uint8Array',
    );
    assertInputError(
      () => inclusionProof(makeLeaves(3), 3),
      'index',
      'index must be an integer in [0, 3), got 3',
    );
    assertInputError(
      () => leafHash('x' as unknown as Uint8Array),
      'leaf',
      'leaf must be a Uint8Array',
    );
    assertInputError(
      () => nodeHash([] as unknown as Uint8Array, new Uint8Array(32)),
      'left',
      'left must be a Uint8Array',
    );
    assertInputError(
      () => nodeHash(new Uint8Array(32), new Uint8Array(33)),
      'right',
      'right must be 32 bytes, got 33',
    );
  });

  it('names the bad field', () => {
    assertInputError(() => merkleRoot('x' as unknown as Uint8Array[]), 'leaves');
    assertInputError(
      () => merkleRoot([new Uint8Array(1), 'x' as unknown as Uint8Array]),
      'leaves[1]',
    );
    assertInputError(() => inclusionProof(makeLeaves(3), 3), 'index');
    assertInputError(() => inclusionProof(makeLeaves(3), -1), 'index');
    assertInputError(() => inclusionProof([], 0), 'index');
    assertInputError(() => inclusionProof(makeLeaves(3), 0.5), 'index');
    assertInputError(() => leafHash('x' as unknown as Uint8Array), 'leaf');
    assertInputError(() => nodeHash(new Uint8Array(31), new Uint8Array(32)), 'left');
    assertInputError(() => nodeHash(new Uint8Array(32), new Uint8Array(33)), 'right');
  });
});
