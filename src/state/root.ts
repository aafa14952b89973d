import { concatBytes, merkleRoot, sha256, utf8 } from '../crypto/index.js';
import type { WriteSet } from './view.js';

const stateRootDomain = utf8('coffer/state-root/v1');

export const genesisParentRoot = new Uint8Array(32);

/** Merkle root (RFC 6962) over the block's writes, each leaf the canonical `[key, value|null]`. */
export function writeSetRoot(writes: WriteSet): Uint8Array {
  const leaves: Uint8Array[] = [];
  // The canonical (RFC 8785) form of `[key, value]`: JSON.stringify of a string is exactly the
  // RFC 8785 string form, so no generic canonicalization is needed for this hot loop.
  for (const [key, value] of writes) {
    leaves.push(
      utf8(`[${JSON.stringify(key)},${value === null ? 'null' : JSON.stringify(value)}]`),
    );
  }
  return merkleRoot(leaves);
}

/**
 * The state root chains each block's write-set root onto the previous root:
 * `root_h = SHA-256("coffer/state-root/v1" || root_{h-1} || writeSetRoot_h)`. Any replay of the
 * same blocks reproduces it, and two nodes whose roots agree applied identical writes at every
 * height. It commits to history rather than to a key's current value, so it cannot prove one key
 * (see docs/architecture.md, "State root").
 */
export function nextStateRoot(previous: Uint8Array, writes: WriteSet): Uint8Array {
  return sha256(concatBytes(stateRootDomain, previous, writeSetRoot(writes)));
}
