import { z } from 'zod';

/*
 * The chain's wire types, once: a tx, an event, a receipt, a block header and its signature, an
 * inclusion proof. The chain (src/chain), the node's API and the SDK all take them from here; the
 * bytes they hash and sign are specified in docs/protocol.md.
 */

const hex32 = z.string().regex(/^[0-9a-f]{64}$/);

/** What a sender signs. `type` is `<module>.<action>`. */
export const txBodySchema = z.object({
  chainId: z.string(),
  type: z.string(),
  sender: z.string().meta({ description: 'The sender: a Coffer address' }),
  nonce: z.number().int(),
  /** Unix milliseconds after which no block may include the tx. */
  expiresAt: z.number().int().optional(),
  payload: z.record(z.string(), z.unknown()),
  memo: z.string().optional(),
});
export type TxBody = z.infer<typeof txBodySchema>;

/** A tx with its ed25519 signature over `"coffer/tx/v1" || SHA-256(canonical body)`, hex. */
export const signedTxSchema = txBodySchema.extend({ signature: z.string() });
export type SignedTx = z.infer<typeof signedTxSchema>;

/** An event a tx or a block step emitted. */
export const chainEventSchema = z.object({
  type: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type ChainEvent = z.infer<typeof chainEventSchema>;

/** What a tx did: `ok` or its rejection code, and its events. */
export const receiptSchema = z.object({
  tx: z.string(),
  /** `ok` or the rejection code. */
  status: z.string(),
  events: z.array(chainEventSchema),
});
export type Receipt = z.infer<typeof receiptSchema>;

export const blockHeaderSchema = z.object({
  chainId: z.string(),
  height: z.number().int(),
  /** Hex hash of the previous header; 64 zeros at genesis. */
  prevHash: z.string(),
  /** Unix milliseconds, never less than the previous block's. */
  time: z.number().int(),
  /** How many txs the block holds: the leaf count of both txRoot and receiptRoot. */
  txCount: z.number().int(),
  /** Merkle root (RFC 6962) over the raw 32-byte tx hashes, in block order. */
  txRoot: z.string(),
  /** Merkle root over the SHA-256 of each canonical receipt, in block order. */
  receiptRoot: z.string(),
  stateRoot: z.string(),
  /** The producer's id: the address of its accountable public key. */
  producer: z.string(),
});
export type BlockHeader = z.infer<typeof blockHeaderSchema>;

/** That R is the nonce the producer committed for the height (docs/protocol.md). */
export const nonceProofSchema = z.object({
  height: z.number().int(),
  R: z.string(),
  /** height - fromHeight. */
  index: z.number().int(),
  /** The commitment's count. */
  treeSize: z.number().int(),
  /** RFC 6962 audit path, leaf level first. */
  path: z.array(z.string()),
});

/** The accountable signature of a header: `{height, R, s}` and the nonce proof of R. */
export const headerSignatureSchema = z.object({
  height: z.number().int(),
  R: z.string(),
  s: z.string(),
  nonceProof: nonceProofSchema.optional(),
});
export type HeaderSignature = z.infer<typeof headerSignatureSchema>;

/** A header with its hash and signature. */
export const signedHeaderSchema = z.object({
  hash: z.string(),
  header: blockHeaderSchema,
  signature: headerSignatureSchema,
});
export type SignedHeader = z.infer<typeof signedHeaderSchema>;

/** An RFC 6962 inclusion proof: the leaf's index, the tree's size, the audit path. */
export const inclusionProofSchema = z.object({
  leafIndex: z.number().int(),
  treeSize: z.number().int(),
  path: z.array(z.string()),
});
export type InclusionProof = z.infer<typeof inclusionProofSchema>;

/** A committed tx with everything `verifyTxInclusion` checks. */
export const txWithProofSchema = z.object({
  hash: z.string(),
  height: z.number().int().optional(),
  index: z.number().int(),
  tx: signedTxSchema,
  block: signedHeaderSchema,
  proof: inclusionProofSchema,
  receipt: receiptSchema.optional(),
  receiptProof: inclusionProofSchema.optional(),
});
export type TxWithProof = z.infer<typeof txWithProofSchema>;

/** A 32-byte hash, lowercase hex. */
export const hashSchema = hex32;
