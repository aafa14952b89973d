import {
  decodeBlockSignature,
  type BlockHeader,
  type Receipt,
  type SignedTx,
} from '../chain/index.js';
import { fromHex, inclusionProof, sha256, toHex } from '../crypto/index.js';
import type { CommittedTx } from '../protocol/api.js';
import type { BlockStore } from '../state/index.js';

/**
 * A committed tx as `GET /v1/txs/{hash}` answers it: the signed tx, its receipt, its block's
 * header and signature, and the Merkle inclusion proofs of the tx and its receipt (checked by
 * `verifyTxInclusion` in the SDK). Undefined when no committed tx has that hash. Modules that
 * answer with proofs of their own txs (the licensing chain of title) use it too.
 */
export function committedTxWithProof(
  store: Pick<BlockStore, 'getTx' | 'getBlock' | 'getTxs'>,
  hash: string,
): CommittedTx | undefined {
  const stored = store.getTx(hash);
  if (!stored) return undefined;
  const block = store.getBlock(stored.height)!;
  const blockTxs = store.getTxs(stored.height);
  const leaves = blockTxs.map((t) => fromHex(t.hash));
  // Stored receipts are their canonical text: its SHA-256 is the receipt tree's leaf.
  const receiptLeaves = blockTxs.map((t) => sha256(t.receipt));
  return {
    hash,
    height: stored.height,
    index: stored.index,
    tx: JSON.parse(stored.body) as SignedTx,
    receipt: JSON.parse(stored.receipt) as Receipt,
    block: {
      hash: block.hash,
      header: JSON.parse(block.header) as BlockHeader,
      signature: decodeBlockSignature(block.signature),
    },
    proof: {
      leafIndex: stored.index,
      treeSize: leaves.length,
      path: inclusionProof(leaves, stored.index).map(toHex),
    },
    receiptProof: {
      leafIndex: stored.index,
      treeSize: receiptLeaves.length,
      path: inclusionProof(receiptLeaves, stored.index).map(toHex),
    },
  };
}
