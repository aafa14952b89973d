import {
  accountablePart,
  blockHash,
  blockHeaderFields,
  verifyBlockSignature,
  type BlockHeader,
  type SignedBlock,
} from '../../chain/index.js';
import {
  canonicalBytes,
  fromHex,
  isAddress,
  publicKeyFromAddress,
  sha256,
  sign,
  signingMessage,
  toHex,
  verify,
} from '../../crypto/index.js';
import type { AttestedState } from './finality.js';

/**
 * Names and messages on the NATS side of a cluster. Every chain gets streams and subjects of its
 * own (the chain id is a-z, 0-9 and -, valid in both), so several chains can share NATS servers.
 */
export function clusterNames(chainId: string) {
  return {
    txStream: `coffer-${chainId}-txs`,
    blockStream: `coffer-${chainId}-blocks`,
    attestationStream: `coffer-${chainId}-attestations`,
    txSubject: (validator: string) => `coffer.${chainId}.txs.${validator}`,
    blockSubject: `coffer.${chainId}.blocks`,
    attestationSubject: (validator: string) => `coffer.${chainId}.attest.${validator}`,
    /** Core NATS, not stored: every signed block a producer is about to publish, for evidence. */
    proposalSubject: `coffer.${chainId}.proposals`,
  };
}

export type ClusterNames = ReturnType<typeof clusterNames>;

/**
 * A block as it travels in the block stream: the signed header, its txs' hashes and the txs as
 * submitted (a node that holds a tx by its hash already need not decode it again).
 */
export interface BlockMessage {
  block: SignedBlock;
  hashes: string[];
  txs: unknown[];
}

/** A validator's signed statement that it executed `blockHash` at `height` and reached `stateRoot`. */
export interface Attestation extends AttestedState {
  chainId: string;
  /** The validator's operator address (its producer record's `operator`). */
  validator: string;
  /** Hex ed25519 signature of `attestationMessage`. */
  signature: string;
}

export function attestationMessage(chainId: string, state: AttestedState): Uint8Array {
  const digest = sha256(
    canonicalBytes({
      chainId,
      height: state.height,
      blockHash: state.blockHash,
      stateRoot: state.stateRoot,
    }),
  );
  return signingMessage('attestation', digest);
}

export function signAttestation(
  chainId: string,
  state: AttestedState,
  validator: { address: string; secretKey: Uint8Array },
): Attestation {
  return {
    chainId,
    height: state.height,
    blockHash: state.blockHash,
    stateRoot: state.stateRoot,
    validator: validator.address,
    signature: toHex(sign(attestationMessage(chainId, state), validator.secretKey)),
  };
}

const hex64 = /^[0-9a-f]{64}$/;

/** Parses and checks an attestation message; undefined unless well formed and signed by `validator`. */
export function readAttestation(data: Uint8Array, chainId: string): Attestation | undefined {
  try {
    const value = JSON.parse(new TextDecoder().decode(data)) as Partial<Attestation>;
    if (value.chainId !== chainId || typeof value.validator !== 'string') return undefined;
    if (!Number.isSafeInteger(value.height) || (value.height as number) < 1) return undefined;
    if (typeof value.blockHash !== 'string' || !hex64.test(value.blockHash)) return undefined;
    if (typeof value.stateRoot !== 'string' || !hex64.test(value.stateRoot)) return undefined;
    // Lowercase only, like every hex field of the protocol: one attestation, one encoding.
    if (typeof value.signature !== 'string' || !/^[0-9a-f]{128}$/.test(value.signature)) {
      return undefined;
    }
    const attestation = value as Attestation;
    const ok = verify(
      fromHex(attestation.signature, 'signature', 64),
      attestationMessage(chainId, attestation),
      publicKeyFromAddress(attestation.validator),
    );
    return ok ? attestation : undefined;
  } catch {
    return undefined;
  }
}

/** A signed block from the proposal subject, or undefined unless its signature verifies. */
export function readProposal(data: Uint8Array, chainId: string): SignedBlock | undefined {
  try {
    const block = JSON.parse(new TextDecoder().decode(data)) as SignedBlock;
    if (block?.header?.chainId !== chainId) return undefined;
    return verifyBlockSignature(block) ? block : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Two blocks one producer signed at one height, as the `evidence.equivocation` tx carries them;
 * undefined unless they are that.
 */
export function equivocation(a: SignedBlock, b: SignedBlock) {
  if (a.header.height !== b.header.height || a.header.producer !== b.header.producer) return;
  if (a.hash === b.hash) return;
  if (blockHash(a.header) !== a.hash || blockHash(b.header) !== b.hash) return;
  const half = (block: SignedBlock) => ({
    header: block.header,
    signature: accountablePart(block.signature),
  });
  return { a: half(a), b: half(b) };
}

/** The signed block stored at a height, as the store keeps it (canonical header, signature). */
export function storedSignedBlock(stored: {
  hash: string;
  header: string;
  signature: string;
}): SignedBlock {
  return {
    header: JSON.parse(stored.header) as BlockHeader,
    hash: stored.hash,
    signature: JSON.parse(stored.signature) as SignedBlock['signature'],
  };
}

/**
 * Why a block-stream message's block is not even shaped like a signed block, or undefined. Checked
 * before anything hashes or compares it, so a crafted message (a time of 1e999, a nested object
 * for a hash) is skipped like any other invalid block and never throws.
 */
export function blockShapeProblem(block: unknown): string | undefined {
  if (typeof block !== 'object' || block === null) return 'no block';
  const { header, hash, signature } = block as Record<string, unknown>;
  if (typeof hash !== 'string' || !hex64.test(hash)) return 'no block hash';
  if (typeof header !== 'object' || header === null) return 'no header';
  const h = header as Record<string, unknown>;
  if (
    Object.keys(h).length !== blockHeaderFields.length ||
    !blockHeaderFields.every((f) => Object.hasOwn(h, f))
  ) {
    return 'the header has other fields than a header';
  }
  if (typeof h.chainId !== 'string') return 'no chain id';
  if (!Number.isSafeInteger(h.height) || (h.height as number) < 1) return 'a bad height';
  if (!Number.isSafeInteger(h.time) || (h.time as number) < 0) return 'a bad time';
  if (!Number.isSafeInteger(h.txCount) || (h.txCount as number) < 0) return 'a bad tx count';
  for (const field of ['prevHash', 'txRoot', 'receiptRoot', 'stateRoot'] as const) {
    if (typeof h[field] !== 'string' || !hex64.test(h[field])) return `a bad ${field}`;
  }
  if (!isAddress(h.producer)) return 'a bad producer';
  if (typeof signature !== 'object' || signature === null) return 'no signature';
  return undefined;
}
