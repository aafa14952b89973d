import { nonceFor, type AccountableSignature } from './accountable.js';
import { bytesEqual, concatBytes, fromHex, toHex, utf8 } from './bytes.js';
import { CryptoInputError } from './errors.js';
import { leafHash, nodeHash, verifyInclusion } from './merkle.js';

/**
 * Committed randomness. Accountability needs the nonce of a height fixed before the producer
 * sees any header of that height: otherwise a cheating producer signs its second header with
 * a fresh nonce and nothing leaks. So a producer publishes, by tx, a Merkle root over its public
 * nonces R_h for a range of heights, and a header signature is valid only with the committed
 * R_h and the proof that it is in that tree.
 *
 *   leaf_h = "coffer/nonce-commitment/leaf/v1" || h (8 bytes BE) || R_h
 *   root   = RFC 6962 Merkle tree hash (merkle.ts) of leaf_from .. leaf_(from + count - 1)
 *
 * Leaf i is height from + i, so a proof's index and tree size follow from the range.
 */

/**
 * Most heights in one commitment. It bounds proof length (17 hashes) and the producer's work:
 * each R_h is one constant-time scalar multiplication (0.8 to 1.5 ms on one core), so a full
 * commitment takes about two minutes. Ranges of 1k to 10k heights are the practical size.
 */
export const nonceCommitmentCountMax = 100_000;

export const nonceCommitmentDomains = {
  leaf: 'coffer/nonce-commitment/leaf/v1',
} as const;

const LEAF_DOMAIN = utf8(nonceCommitmentDomains.leaf);
const POINT_LENGTH = 32;
// The path of a tree of nonceCommitmentCountMax leaves has at most 17 hashes.
const PROOF_PATH_LENGTH_MAX = 64;
const LOWERCASE_HEX_64 = /^[0-9a-f]{64}$/;

/** A producer's commitment to its nonces for heights [fromHeight, fromHeight + count). */
export interface NonceCommitment {
  fromHeight: number;
  count: number;
  /** Merkle root, lowercase hex: what the commit tx publishes. */
  root: string;
  /** R_h for each height, in order: nonces[i] is R at fromHeight + i. Public. */
  nonces: Uint8Array[];
}

/** The proof that `R` is the committed nonce of `height`. All hex is lowercase. */
export interface NonceProof {
  height: number;
  R: string;
  /** height - fromHeight. */
  index: number;
  /** The commitment's count. */
  treeSize: number;
  /** RFC 6962 audit path, leaf level first. */
  path: string[];
}

// Every level of the tree of a commitment, leaf hashes first, so a proof costs no hashing.
// Weak: the levels go when the commitment does.
const treeLevels = new WeakMap<NonceCommitment, Uint8Array[][]>();

function nonceLeaf(height: number, R: Uint8Array): Uint8Array {
  const heightBytes = new Uint8Array(8);
  new DataView(heightBytes.buffer).setBigUint64(0, BigInt(height), false);
  return concatBytes(LEAF_DOMAIN, heightBytes, R);
}

function buildLevels(leaves: Uint8Array[]): Uint8Array[][] {
  const levels: Uint8Array[][] = [leaves.map((leaf) => leafHash(leaf))];
  let level = levels[0]!;
  // Pair left to right and carry an unpaired last node up unchanged: RFC 6962's tree.
  while (level.length > 1) {
    const parent: Uint8Array[] = [];
    for (let index = 0; index + 1 < level.length; index += 2) {
      parent.push(nodeHash(level[index]!, level[index + 1]!));
    }
    if (level.length % 2 === 1) parent.push(level[level.length - 1]!);
    levels.push(parent);
    level = parent;
  }
  return levels;
}

function assertRange(fromHeight: unknown, count: unknown): void {
  if (typeof fromHeight !== 'number' || !Number.isSafeInteger(fromHeight) || fromHeight < 0) {
    throw new CryptoInputError('fromHeight', 'fromHeight must be a non-negative safe integer');
  }
  if (
    typeof count !== 'number' ||
    !Number.isSafeInteger(count) ||
    count < 1 ||
    count > nonceCommitmentCountMax
  ) {
    throw new CryptoInputError(
      'count',
      `count must be an integer in [1, ${nonceCommitmentCountMax}]`,
    );
  }
  // Written so that no intermediate sum can leave the safe range and round.
  if (count - 1 > Number.MAX_SAFE_INTEGER - fromHeight) {
    throw new CryptoInputError('count', 'fromHeight + count - 1 must be a safe integer');
  }
}

/**
 * The producer's nonces R_h for heights [fromHeight, fromHeight + count) on `chainId` and their
 * Merkle root. Deterministic: the same inputs give the same root, so a producer can rebuild a
 * commitment (for its proofs) from its nonce secret after a restart.
 */
export function commitNonces(
  nonceSecret: Uint8Array,
  chainId: string,
  fromHeight: number,
  count: number,
): NonceCommitment {
  assertRange(fromHeight, count);
  const nonces: Uint8Array[] = [];
  const leaves: Uint8Array[] = [];
  for (let index = 0; index < count; index++) {
    const height = fromHeight + index;
    const { R } = nonceFor(nonceSecret, chainId, height);
    nonces.push(R);
    leaves.push(nonceLeaf(height, R));
  }
  const levels = buildLevels(leaves);
  const commitment: NonceCommitment = {
    fromHeight,
    count,
    root: toHex(levels[levels.length - 1]![0]!),
    nonces,
  };
  treeLevels.set(commitment, levels);
  return commitment;
}

function assertCommitment(commitment: unknown): asserts commitment is NonceCommitment {
  if (typeof commitment !== 'object' || commitment === null) {
    throw new CryptoInputError('commitment', 'commitment must be a NonceCommitment');
  }
  const { fromHeight, count, root, nonces } = commitment as Partial<NonceCommitment>;
  assertRange(fromHeight, count);
  if (typeof root !== 'string' || !LOWERCASE_HEX_64.test(root)) {
    throw new CryptoInputError(
      'commitment.root',
      'commitment.root must be 64 lowercase hex digits',
    );
  }
  if (!Array.isArray(nonces) || nonces.length !== count) {
    throw new CryptoInputError('commitment.nonces', 'commitment.nonces must hold count nonces');
  }
}

/** The tree of `commitment`, from the cache when it still matches the commitment's data. */
function levelsOf(commitment: NonceCommitment, index: number): Uint8Array[][] {
  const cached = treeLevels.get(commitment);
  const nonce = commitment.nonces[index];
  if (!(nonce instanceof Uint8Array) || nonce.length !== POINT_LENGTH) {
    throw new CryptoInputError(
      `commitment.nonces[${index}]`,
      `commitment.nonces[${index}] must be ${POINT_LENGTH} bytes`,
    );
  }
  const leaf = leafHash(nonceLeaf(commitment.fromHeight + index, nonce));
  if (
    cached !== undefined &&
    // A tree of another size would give proofs that do not verify against the count.
    cached[0]!.length === commitment.count &&
    bytesEqual(cached[0]![index]!, leaf) &&
    toHex(cached[cached.length - 1]![0]!) === commitment.root
  ) {
    return cached;
  }
  const leaves = commitment.nonces.map((R, position) => {
    if (!(R instanceof Uint8Array) || R.length !== POINT_LENGTH) {
      throw new CryptoInputError(
        `commitment.nonces[${position}]`,
        `commitment.nonces[${position}] must be ${POINT_LENGTH} bytes`,
      );
    }
    return nonceLeaf(commitment.fromHeight + position, R);
  });
  const levels = buildLevels(leaves);
  if (toHex(levels[levels.length - 1]![0]!) !== commitment.root) {
    throw new CryptoInputError('commitment.root', 'commitment.root is not the root of its nonces');
  }
  treeLevels.set(commitment, levels);
  return levels;
}

/** The proof that the committed nonce of `height` is in `commitment`'s tree. */
export function nonceProof(commitment: NonceCommitment, height: number): NonceProof {
  assertCommitment(commitment);
  const { fromHeight, count } = commitment;
  if (
    typeof height !== 'number' ||
    !Number.isSafeInteger(height) ||
    height < fromHeight ||
    height >= fromHeight + count
  ) {
    throw new CryptoInputError(
      'height',
      `height must be an integer in [${fromHeight}, ${fromHeight + count})`,
    );
  }
  const index = height - fromHeight;
  const levels = levelsOf(commitment, index);
  const path: string[] = [];
  let position = index;
  for (let depth = 0; depth < levels.length - 1; depth++) {
    const level = levels[depth]!;
    const sibling = position ^ 1;
    if (sibling < level.length) path.push(toHex(level[sibling]!));
    position >>= 1;
  }
  return { height, R: toHex(commitment.nonces[index]!), index, treeSize: count, path };
}

/**
 * True when `proof` shows that `proof.R` is the nonce committed for `proof.height` under
 * `root`, a commitment to heights [fromHeight, fromHeight + count): the height is in range,
 * index = height - fromHeight, treeSize = count, and the Merkle path leads to the root.
 * Never throws: malformed input of any kind gives false.
 */
export function verifyNonceProof(
  root: string,
  fromHeight: number,
  count: number,
  proof: NonceProof,
): boolean {
  try {
    if (typeof root !== 'string' || !LOWERCASE_HEX_64.test(root)) return false;
    assertRange(fromHeight, count);
    if (typeof proof !== 'object' || proof === null) return false;
    const { height, R, index, treeSize, path } = proof as Partial<
      Record<keyof NonceProof, unknown>
    >;
    if (typeof height !== 'number' || !Number.isSafeInteger(height)) return false;
    if (height < fromHeight || height >= fromHeight + count) return false;
    if (index !== height - fromHeight || treeSize !== count) return false;
    if (typeof R !== 'string' || !LOWERCASE_HEX_64.test(R)) return false;
    if (!Array.isArray(path) || path.length > PROOF_PATH_LENGTH_MAX) return false;
    const pathBytes: Uint8Array[] = [];
    for (const node of path as unknown[]) {
      if (typeof node !== 'string' || !LOWERCASE_HEX_64.test(node)) return false;
      pathBytes.push(fromHex(node, 'path', 32));
    }
    return verifyInclusion(
      nonceLeaf(height, fromHex(R, 'R', POINT_LENGTH)),
      height - fromHeight,
      count,
      pathBytes,
      fromHex(root, 'root', 32),
    );
  } catch {
    return false;
  }
}

/**
 * True when `signature` uses the nonce `proof` proves: same height, same R. A header signature
 * is valid only when this, verifyNonceProof and verifyAtHeight all hold. Never throws.
 */
export function nonceProofMatchesSignature(
  proof: NonceProof,
  signature: AccountableSignature,
): boolean {
  if (typeof proof !== 'object' || proof === null) return false;
  if (typeof signature !== 'object' || signature === null) return false;
  return (
    typeof proof.height === 'number' &&
    proof.height === signature.height &&
    typeof proof.R === 'string' &&
    LOWERCASE_HEX_64.test(proof.R) &&
    proof.R === signature.R
  );
}
