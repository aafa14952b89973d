import {
  blockHash,
  blockSigningMessage,
  type BlockHeader,
  type BlockSignature,
  type BlockSigner,
  type CommittedNonceRange,
  type SignedBlock,
} from '../../src/chain/index.js';
import {
  addressFromPublicKey,
  commitNonces,
  deriveAccountableKey,
  nonceProof,
  signAtHeight,
  type AccountableKey,
  type NonceCommitment,
} from '../../src/crypto/index.js';

// Commitments are deterministic, so tests share them per (seed, chain, range).
const commitments = new Map<string, NonceCommitment>();

/**
 * A block signer for tests of the chain itself: the accountable key of `seed`, nonces committed in
 * ranges of `rangeHeights` computed on demand, and no safety store (tests that need one use the
 * node's). Not for producing blocks a registry checks, unless its ranges are registered.
 */
export class TestBlockSigner implements BlockSigner {
  readonly key: AccountableKey;
  readonly producer: string;

  constructor(
    readonly seed: Uint8Array,
    readonly chainId: string,
    readonly rangeHeights = 64,
  ) {
    this.key = deriveAccountableKey(seed);
    this.producer = addressFromPublicKey(this.key.publicKey);
  }

  commitment(fromHeight: number, count = this.rangeHeights): NonceCommitment {
    const id = `${Buffer.from(this.seed).toString('hex')}/${this.chainId}/${fromHeight}/${count}`;
    let commitment = commitments.get(id);
    if (!commitment) {
      commitment = commitNonces(this.key.nonceSecret, this.chainId, fromHeight, count);
      commitments.set(id, commitment);
    }
    return commitment;
  }

  /** The range (as the registry stores it) that covers `height`. */
  range(height: number): CommittedNonceRange {
    const fromHeight = Math.floor(height / this.rangeHeights) * this.rangeHeights;
    const { root, count } = this.commitment(fromHeight);
    return { fromHeight, count, root };
  }

  sign(header: BlockHeader, hash: string): BlockSignature {
    const fromHeight = Math.floor(header.height / this.rangeHeights) * this.rangeHeights;
    const commitment = this.commitment(fromHeight);
    const signature = signAtHeight(
      this.key,
      this.chainId,
      header.height,
      blockSigningMessage(hash),
    );
    return { ...signature, nonceProof: nonceProof(commitment, header.height) };
  }
}

/**
 * TEST ONLY: signs a header with a producer's accountable key and committed nonce, bypassing any
 * signer's safety store. A real producer can never do this twice at one height; tests do it on
 * purpose, to equivocate.
 */
export function signBypassingSafety(
  key: AccountableKey,
  commitment: NonceCommitment,
  chainId: string,
  header: BlockHeader,
): SignedBlock {
  const hash = blockHash(header);
  const signature: BlockSignature = {
    ...signAtHeight(key, chainId, header.height, blockSigningMessage(hash)),
    nonceProof: nonceProof(commitment, header.height),
  };
  return { header, hash, signature };
}
