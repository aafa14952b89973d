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
import { backend } from './backend.js';
import { concatBytes, fromHex, toHex, utf8 } from './bytes.js';
import { CryptoInputError } from './errors.js';
import { inclusionProof, leafHash, merkleRoot, nodeHash } from './merkle.js';
import {
  commitNonces,
  nonceCommitmentCountMax,
  nonceProof,
  nonceProofMatchesSignature,
  verifyNonceProof,
  type NonceCommitment,
  type NonceProof,
} from './nonce-commitment.js';

const CHAIN = 'coffer-dev';
const L = ed25519.Point.Fn.ORDER;

function assertInputError(action: () => unknown, field: string, message?: string): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof CryptoInputError, String(error));
    assert.equal(error.field, field);
    if (message !== undefined) assert.equal(error.message, message);
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

/** `items` as an array that records which of its elements are read. */
function watchedPath(items: string[]): { path: string[]; read: number[] } {
  const read: number[] = [];
  const path = new Proxy(items.slice(), {
    get(target, key, receiver) {
      if (typeof key === 'string' && /^\d+$/.test(key)) read.push(Number(key));
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  return { path, read };
}

/** How many SHA-256 hashes `action` computes (the backend's hash is wrapped, then restored). */
function sha256Count(action: () => unknown): number {
  const descriptor = Object.getOwnPropertyDescriptor(backend, 'sha256')!;
  const sha256 = descriptor.value as (data: Uint8Array | string) => Uint8Array;
  let count = 0;
  const counting = (data: Uint8Array | string): Uint8Array => {
    count += 1;
    return sha256(data);
  };
  Object.defineProperty(backend, 'sha256', { ...descriptor, value: counting });
  try {
    action();
  } finally {
    Object.defineProperty(backend, 'sha256', descriptor);
  }
  return count;
}

/**
 * The proof of the first height of a commitment of `count` heights, with any 32-byte R and
 * path, and the root they give. Leaf 0's path climbs the left edge, so the root is the leaf
 * hash folded with each path hash on its right; the tree's other leaves are whatever hashes to
 * those. Cheap where a real commitment of many heights is not.
 */
function firstLeafProof(fromHeight: number, count: number): { root: string; proof: NonceProof } {
  const R = new Uint8Array(32).fill(9);
  const depth = Math.ceil(Math.log2(count));
  const path = Array.from({ length: depth }, (_, level) => new Uint8Array(32).fill(level + 1));
  let hash = leafHash(leaf(fromHeight, R));
  for (const sibling of path) hash = nodeHash(hash, sibling);
  const proof = {
    height: fromHeight,
    R: toHex(R),
    index: 0,
    treeSize: count,
    path: path.map(toHex),
  };
  return { root: toHex(hash), proof };
}

describe('the range of a commitment', () => {
  const secret = KEY.nonceSecret;

  it('is at most nonceCommitmentCountMax = 100000 heights: 100000 passes, 100001 does not', () => {
    const max = nonceCommitmentCountMax;
    assert.equal(max, 100_000);
    // commitNonces would take minutes for 100000 heights. The verifier checks the bound...
    const { root, proof } = firstLeafProof(7, max);
    assert.equal(proof.path.length, 17);
    assert.equal(verifyNonceProof(root, 7, max, proof), true);
    const past = firstLeafProof(7, max + 1);
    assert.equal(past.proof.path.length, 17);
    assert.equal(verifyNonceProof(past.root, 7, max + 1, past.proof), false);
    // ...and so does nonceProof: with 100000 heights the next check (the root) refuses.
    const malformedRoot = (count: number): NonceCommitment => ({
      fromHeight: 7,
      count,
      root: 'not hex',
      nonces: new Array<Uint8Array>(count).fill(new Uint8Array(32)),
    });
    assertInputError(() => nonceProof(malformedRoot(max), 7), 'commitment.root');
    const message = 'count must be an integer in [1, 100000]';
    assertInputError(() => nonceProof(malformedRoot(max + 1), 7), 'count', message);
  });

  it('may end at Number.MAX_SAFE_INTEGER, and not one past it', () => {
    const top = Number.MAX_SAFE_INTEGER;
    const commitment = commitNonces(secret, CHAIN, top - 1, 2);
    const proof = nonceProof(commitment, top);
    assert.equal(proof.index, 1);
    assert.equal(verifyNonceProof(commitment.root, top - 1, 2, proof), true);
    const message = 'fromHeight + count - 1 must be a safe integer';
    assertInputError(() => commitNonces(secret, CHAIN, top - 1, 3), 'count', message);
    assertInputError(() => commitNonces(secret, CHAIN, top, 2), 'count', message);
    assert.equal(verifyNonceProof(commitment.root, top - 1, 3, proof), false);
  });

  it('refuses each bad fromHeight and count with its message', () => {
    const fromHeight = 'fromHeight must be a non-negative safe integer';
    const count = 'count must be an integer in [1, 100000]';
    for (const bad of [-1, 0.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN, '0', null]) {
      assertInputError(
        () => commitNonces(secret, CHAIN, bad as number, 1),
        'fromHeight',
        fromHeight,
      );
    }
    for (const bad of [0, -1, 1.5, nonceCommitmentCountMax + 1, Number.POSITIVE_INFINITY, '1']) {
      assertInputError(() => commitNonces(secret, CHAIN, 0, bad as number), 'count', count);
    }
    // At the lower bounds: height 0 and a single height are a commitment.
    const single = commitNonces(secret, CHAIN, 0, 1);
    assert.deepEqual(nonceProof(single, 0).path, []);
    assert.equal(verifyNonceProof(single.root, 0, 1, nonceProof(single, 0)), true);
  });

  it('is refused exactly when it leaves [0, 2^53 - 1] or holds 0 or over 100000 heights', () => {
    // A commitment whose root is malformed: its range is checked first, so the error tells
    // whether the range passed.
    const top = Number.MAX_SAFE_INTEGER;
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: -3, max: 3 }), fc.integer({ min: top - 200_000, max: top })),
        fc.integer({ min: -2, max: nonceCommitmentCountMax + 2 }),
        (fromHeight, count) => {
          const commitment = { fromHeight, count, root: 'not hex', nonces: [] };
          const field =
            fromHeight < 0
              ? 'fromHeight'
              : count < 1 || count > nonceCommitmentCountMax || fromHeight + (count - 1) > top
                ? 'count'
                : 'commitment.root';
          assertInputError(() => nonceProof(commitment, fromHeight), field);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('nonceProof: the commitment it is given', () => {
  it('names each malformed part with its message', () => {
    const commitment = 'commitment must be a NonceCommitment';
    for (const bad of [null, undefined, 5, 'commitment', true]) {
      assertInputError(() => nonceProof(bad as never, FROM), 'commitment', commitment);
    }
    const root = 'commitment.root must be 64 lowercase hex digits';
    for (const bad of [
      'xyz',
      COMMITMENT.root.toUpperCase(),
      `${COMMITMENT.root}0`,
      COMMITMENT.root.slice(1),
      `x${COMMITMENT.root}`,
      `${COMMITMENT.root}\n`,
      [COMMITMENT.root],
    ]) {
      const copy = { ...COMMITMENT, root: bad as string };
      assertInputError(() => nonceProof(copy, FROM), 'commitment.root', root);
    }
    assertInputError(
      () => nonceProof({ ...COMMITMENT, nonces: COMMITMENT.nonces.slice(1) }, FROM),
      'commitment.nonces',
      'commitment.nonces must hold count nonces',
    );
    assertInputError(
      () => nonceProof({ ...COMMITMENT, nonces: 'x'.repeat(COUNT) as never }, FROM),
      'commitment.nonces',
    );
  });

  it('names the height range in its message, and refuses a height that is not an integer', () => {
    const message = `height must be an integer in [${FROM}, ${FROM + COUNT})`;
    assert.equal(message, 'height must be an integer in [1000, 1037)');
    for (const bad of [FROM - 1, FROM + COUNT, FROM + 0.5, Number.NaN, String(FROM)]) {
      assertInputError(() => nonceProof(COMMITMENT, bad as number), 'height', message);
    }
  });

  it('names a nonce that is not 32 bytes, the one it needs first', () => {
    const copy = structuredClone(COMMITMENT);
    copy.nonces[3] = new Uint8Array(33);
    copy.nonces[5] = COMMITMENT.nonces[5]!.slice(0, 31);
    assertInputError(
      () => nonceProof(copy, FROM + 5),
      'commitment.nonces[5]',
      'commitment.nonces[5] must be 32 bytes',
    );
    // The nonce of the height is fine; another is not, and the tree is rebuilt from all.
    assertInputError(
      () => nonceProof(copy, FROM + 4),
      'commitment.nonces[3]',
      'commitment.nonces[3] must be 32 bytes',
    );
    const notBytes = structuredClone(COMMITMENT);
    notBytes.nonces[6] = Array.from(COMMITMENT.nonces[6]!) as never;
    assertInputError(
      () => nonceProof(notBytes, FROM + 6),
      'commitment.nonces[6]',
      'commitment.nonces[6] must be 32 bytes',
    );
    assertInputError(
      () => nonceProof(notBytes, FROM),
      'commitment.nonces[6]',
      'commitment.nonces[6] must be 32 bytes',
    );
  });

  it('refuses nonces that are not those of the root, with its message', () => {
    const copy = structuredClone(COMMITMENT);
    copy.nonces[4] = COMMITMENT.nonces[5]!;
    assertInputError(
      () => nonceProof(copy, FROM + 4),
      'commitment.root',
      'commitment.root is not the root of its nonces',
    );
  });

  it('takes a proof from the cached tree: one hash, to check the nonce of the height', () => {
    const commitment = commitNonces(KEY.nonceSecret, CHAIN, FROM, COUNT);
    for (const index of [0, 1, 17, COUNT - 1]) {
      let proof: NonceProof | undefined;
      assert.equal(
        sha256Count(() => (proof = nonceProof(commitment, FROM + index))),
        1,
      );
      assert.equal(verifyNonceProof(commitment.root, FROM, COUNT, proof!), true);
    }
    // A copy (as read back from storage) has no cached tree: the first proof builds it, one hash
    // for each leaf and each node after the check.
    const copy = structuredClone(commitment);
    assert.equal(
      sha256Count(() => nonceProof(copy, FROM + 9)),
      1 + COUNT + (COUNT - 1),
    );
    assert.equal(
      sha256Count(() => nonceProof(copy, FROM + 10)),
      1,
    );
  });

  it('does not use the cached tree once the commitment no longer matches it', () => {
    // Another root: refused, as a copy with that root is.
    const reRooted = commitNonces(KEY.nonceSecret, CHAIN, 0, 4);
    reRooted.root = COMMITMENT.root;
    assertInputError(() => nonceProof(reRooted, 0), 'commitment.root');
    // Another nonce for the height.
    const reNonced = commitNonces(KEY.nonceSecret, CHAIN, 0, 4);
    reNonced.nonces[2] = reNonced.nonces[3]!;
    assertInputError(() => nonceProof(reNonced, 2), 'commitment.root');
    // Another range start: every leaf hashes its height.
    const moved = commitNonces(KEY.nonceSecret, CHAIN, 0, 4);
    moved.fromHeight = 1;
    assertInputError(() => nonceProof(moved, 1), 'commitment.root');
    // Another count, with a nonce added or taken away to match: the cached tree has 4 leaves.
    // (It was once used all the same: the proof claimed the new count and never verified, and a
    // proof of the added height threw on a leaf the tree does not have.)
    const grown = commitNonces(KEY.nonceSecret, CHAIN, 0, 4);
    grown.nonces.push(nonceFor(KEY.nonceSecret, CHAIN, 4).R);
    grown.count = 5;
    assertInputError(() => nonceProof(grown, 0), 'commitment.root');
    assertInputError(() => nonceProof(grown, 4), 'commitment.root');
    const shrunk = commitNonces(KEY.nonceSecret, CHAIN, 0, 4);
    shrunk.nonces.pop();
    shrunk.count = 3;
    assertInputError(() => nonceProof(shrunk, 0), 'commitment.root');
  });
});

describe('verifyNonceProof: each guard', () => {
  const root = COMMITMENT.root;
  const proof = nonceProof(COMMITMENT, FROM + 6);
  const verifies = (candidate: unknown, r: unknown = root, from = FROM, count = COUNT): boolean =>
    verifyNonceProof(r as string, from, count, candidate as NonceProof);

  it('accepts the proof the guards are tried on', () => {
    assert.equal(verifies(proof), true);
    assert.equal(verifies({ ...proof }), true);
  });

  it('refuses a root, R or path hash that is not 64 lowercase hex digits, though it decodes', () => {
    // Uppercase hex decodes to the same bytes, so each of these would verify but for the check.
    assert.equal(verifies(proof, root.toUpperCase()), false);
    assert.equal(verifies({ ...proof, R: proof.R.toUpperCase() }), false);
    const path = proof.path.slice();
    path[1] = path[1]!.toUpperCase();
    assert.equal(verifies({ ...proof, path }), false);
    for (const R of [proof.R.slice(1), `${proof.R}0`, `x${proof.R}`, `${proof.R}x`, [proof.R], 7]) {
      assert.equal(verifies({ ...proof, R }), false, String(R));
    }
    for (const bad of [root.slice(1), `${root}0`, `x${root}`, [root], null]) {
      assert.equal(verifies(proof, bad), false, String(bad));
    }
  });

  it('refuses a path that is not an array, though it holds the right hashes', () => {
    assert.equal(verifies({ ...proof, path: new Set(proof.path) }), false);
    assert.equal(verifies({ ...proof, path: { ...proof.path, length: proof.path.length } }), false);
    assert.equal(verifies({ ...proof, path: proof.path.join('') }), false);
  });

  it('refuses a proof that is not a plain object, though it carries the right fields', () => {
    assert.equal(verifies(Object.assign(() => undefined, proof)), false);
    assert.equal(verifies(null), false);
    assert.equal(verifies(JSON.stringify(proof)), false);
  });

  it('refuses a height that is not a safe integer', () => {
    for (const height of [String(proof.height), proof.height + 0.5, 2 ** 53, Number.NaN]) {
      assert.equal(verifies({ ...proof, height }), false, String(height));
    }
  });

  it('returns false, never throws, for a bad range around a good proof', () => {
    for (const [from, count] of [
      [-1, COUNT],
      [0.5, COUNT],
      [FROM, 0],
      [FROM, nonceCommitmentCountMax + 1],
      [Number.MAX_SAFE_INTEGER, COUNT],
    ] as const) {
      assert.equal(verifies(proof, root, from, count), false, `${from}, ${count}`);
    }
  });

  it('refuses a bad root, range, index, size, R or path length before reading the path', () => {
    const tries: [string, (path: string[]) => boolean][] = [
      ['uppercase root', (path) => verifies({ ...proof, path }, root.toUpperCase())],
      ['root in an array', (path) => verifies({ ...proof, path }, [root])],
      ['height below', (path) => verifies({ ...proof, path, height: FROM - 1, index: -1 })],
      [
        'height at the end',
        (path) => verifies({ ...proof, path, height: FROM + COUNT, index: COUNT }),
      ],
      ['index', (path) => verifies({ ...proof, path, index: proof.index + 1 })],
      ['tree size', (path) => verifies({ ...proof, path, treeSize: COUNT + 1 })],
      ['R', (path) => verifies({ ...proof, path, R: proof.R.toUpperCase() })],
    ];
    for (const [name, attempt] of tries) {
      const { path, read } = watchedPath(proof.path);
      assert.equal(attempt(path), false, name);
      assert.deepEqual(read, [], name);
    }
    // The watcher sees a path that is read.
    const { path, read } = watchedPath(proof.path);
    assert.equal(verifies({ ...proof, path }), true);
    assert.notDeepEqual(read, []);
  });

  it('reads a path of up to 64 hashes, and refuses 65 unread', () => {
    const padded = (length: number): string[] =>
      Array.from({ length }, (_, index) => proof.path[index % proof.path.length]!);
    const atBound = watchedPath(padded(64));
    assert.equal(verifies({ ...proof, path: atBound.path }), false);
    assert.notDeepEqual(atBound.read, []);
    const past = watchedPath(padded(65));
    assert.equal(verifies({ ...proof, path: past.path }), false);
    assert.deepEqual(past.read, []);
  });
});

describe('nonceProofMatchesSignature: each guard', () => {
  const signature = signAtHeight(KEY, CHAIN, FROM + 2, utf8('header'));
  const proof = nonceProof(COMMITMENT, FROM + 2);

  it('matches the proof of the signature', () => {
    assert.equal(nonceProofMatchesSignature(proof, signature), true);
  });

  it('never throws on a missing proof or signature', () => {
    for (const bad of [null, undefined, 0, 'proof']) {
      assert.equal(nonceProofMatchesSignature(bad as never, signature), false);
      assert.equal(nonceProofMatchesSignature(proof, bad as never), false);
    }
  });

  it('refuses fields that are equal but not a height and a lowercase hex R', () => {
    const match = (p: unknown, s: unknown): boolean =>
      nonceProofMatchesSignature(p as NonceProof, s as typeof signature);
    assert.equal(
      match(
        Object.assign(() => undefined, proof),
        signature,
      ),
      false,
    );
    const height = String(signature.height);
    assert.equal(match({ ...proof, height }, { ...signature, height }), false);
    const R = [signature.R];
    assert.equal(match({ ...proof, R }, { ...signature, R }), false);
    for (const text of [
      `x${signature.R}`,
      `${signature.R}x`,
      signature.R.toUpperCase(),
      signature.R.slice(2),
    ]) {
      assert.equal(match({ ...proof, R: text }, { ...signature, R: text }), false, text);
    }
  });
});
