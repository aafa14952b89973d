import { backend } from './backend.js';
import { CryptoInputError } from './errors.js';

/**
 * Merkle trees as RFC 6962 section 2.1 defines them (kept in RFC 9162 section 2.1):
 * domain-separated leaf and node hashes, a tree of n leaves split at the largest power of two
 * smaller than n, and the empty tree hashing to SHA-256("").
 *
 * Built bottom up: pair nodes left to right and carry an unpaired last node up one level
 * unchanged. That gives exactly the recursive RFC 6962 tree, without recursion.
 */

const HASH_LENGTH = 32;
const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;
// A proof has at most one hash per level; 2^64 leaves would need 64.
const PROOF_LENGTH_MAX = 64;

// Scratch for node hashing: 0x01 || left || right, filled in place to avoid an allocation.
const nodeScratch = new Uint8Array(1 + 2 * HASH_LENGTH);
nodeScratch[0] = NODE_PREFIX;

function digest(data: Uint8Array): Uint8Array {
  return backend.sha256(data);
}

function hashLeaf(leaf: Uint8Array): Uint8Array {
  const data = new Uint8Array(1 + leaf.length);
  data[0] = LEAF_PREFIX;
  data.set(leaf, 1);
  return digest(data);
}

function hashNode(left: Uint8Array, right: Uint8Array): Uint8Array {
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 1 + HASH_LENGTH);
  return digest(nodeScratch);
}

function assertHash(value: unknown, field: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new CryptoInputError(field, `${field} must be a Uint8Array`);
  }
  if (value.length !== HASH_LENGTH) {
    throw new CryptoInputError(field, `${field} must be ${HASH_LENGTH} bytes, got ${value.length}`);
  }
}

function hashLeaves(leaves: Uint8Array[]): Uint8Array[] {
  if (!Array.isArray(leaves)) {
    throw new CryptoInputError('leaves', 'leaves must be an array of Uint8Array');
  }
  const level = new Array<Uint8Array>(leaves.length);
  for (let index = 0; index < leaves.length; index++) {
    const leaf = leaves[index];
    if (!(leaf instanceof Uint8Array)) {
      throw new CryptoInputError(`leaves[${index}]`, `leaves[${index}] must be a Uint8Array`);
    }
    level[index] = hashLeaf(leaf);
  }
  return level;
}

/** Replaces `level` in place by its parent level and returns the new length. */
function reduceLevel(level: Uint8Array[], length: number): number {
  let parent = 0;
  for (let index = 0; index + 1 < length; index += 2) {
    level[parent++] = hashNode(level[index]!, level[index + 1]!);
  }
  if (length % 2 === 1) level[parent++] = level[length - 1]!;
  return parent;
}

/** SHA-256(0x00 || leaf). */
export function leafHash(leaf: Uint8Array): Uint8Array {
  if (!(leaf instanceof Uint8Array)) {
    throw new CryptoInputError('leaf', 'leaf must be a Uint8Array');
  }
  return hashLeaf(leaf);
}

/** SHA-256(0x01 || left || right), for 32-byte child hashes. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  assertHash(left, 'left');
  assertHash(right, 'right');
  return hashNode(left, right);
}

/** The RFC 6962 Merkle tree hash of `leaves` (raw leaf data, hashed here with leafHash). */
export function merkleRoot(leaves: Uint8Array[]): Uint8Array {
  const level = hashLeaves(leaves);
  if (level.length === 0) return digest(new Uint8Array(0));
  let length = level.length;
  while (length > 1) length = reduceLevel(level, length);
  return level[0]!;
}

/**
 * The audit path of leaf `index` (RFC 6962 2.1.1): sibling hashes from the leaf's level up to
 * the root's children, skipping levels where the node has no sibling.
 */
export function inclusionProof(leaves: Uint8Array[], index: number): Uint8Array[] {
  const level = hashLeaves(leaves);
  if (!Number.isSafeInteger(index) || index < 0 || index >= level.length) {
    throw new CryptoInputError(
      'index',
      `index must be an integer in [0, ${level.length}), got ${String(index)}`,
    );
  }
  const proof: Uint8Array[] = [];
  let position = index;
  let length = level.length;
  while (length > 1) {
    const sibling = position ^ 1;
    if (sibling < length) proof.push(level[sibling]!);
    length = reduceLevel(level, length);
    position >>= 1;
  }
  return proof;
}

/**
 * Every leaf's audit path at once (as `inclusionProof` gives each): the tree's levels are built
 * once, so n proofs cost O(n log n) hashes instead of n trees.
 */
export function inclusionProofs(leaves: Uint8Array[]): Uint8Array[][] {
  const levels: Uint8Array[][] = [hashLeaves(leaves)];
  for (let level = levels[0]!; level.length > 1;) {
    const parent = [...level];
    parent.length = reduceLevel(parent, level.length);
    levels.push(parent);
    level = parent;
  }
  return levels[0]!.map((_, index) => {
    const proof: Uint8Array[] = [];
    let position = index;
    for (const level of levels) {
      if (level.length === 1) break;
      const sibling = position ^ 1;
      if (sibling < level.length) proof.push(level[sibling]!);
      position >>= 1;
    }
    return proof;
  });
}

/**
 * True when `proof` shows that `leaf` (raw data) is leaf `index` of the tree of `treeSize`
 * leaves whose root is `root` (RFC 9162 2.1.3.2). Any malformed input gives false.
 */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  treeSize: number,
  proof: Uint8Array[],
  root: Uint8Array,
): boolean {
  if (
    !(leaf instanceof Uint8Array) ||
    !(root instanceof Uint8Array) ||
    root.length !== HASH_LENGTH ||
    !Number.isSafeInteger(index) ||
    !Number.isSafeInteger(treeSize) ||
    index < 0 ||
    index >= treeSize ||
    !Array.isArray(proof) ||
    proof.length > PROOF_LENGTH_MAX
  ) {
    return false;
  }
  // RFC 9162 calls these fn and sn. Plain arithmetic rather than >> so sizes above 2^31 work.
  let position = index;
  let lastPosition = treeSize - 1;
  let hash = hashLeaf(leaf);
  for (const sibling of proof as unknown[]) {
    if (!(sibling instanceof Uint8Array) || sibling.length !== HASH_LENGTH) return false;
    if (lastPosition === 0) return false;
    if (position % 2 === 1 || position === lastPosition) {
      hash = hashNode(sibling, hash);
      if (position % 2 === 0) {
        while (position % 2 === 0 && position !== 0) {
          position /= 2;
          lastPosition = Math.floor(lastPosition / 2);
        }
      }
    } else {
      hash = hashNode(hash, sibling);
    }
    position = Math.floor(position / 2);
    lastPosition = Math.floor(lastPosition / 2);
  }
  if (lastPosition !== 0) return false;
  for (let byte = 0; byte < HASH_LENGTH; byte++) {
    if (hash[byte] !== root[byte]) return false;
  }
  return true;
}
