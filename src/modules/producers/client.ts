import type { ClientCore } from '../../sdk/client.js';
import {
  CryptoInputError,
  addressFromPublicKey,
  commitNonces,
  deriveAccountableKey,
  encryptHiddenInfo,
  fromHex,
  toHex,
} from '../../crypto/index.js';
import { minorUnitsMax } from '../../protocol/schema.js';
import type {
  CommitNoncesPayload,
  EquivocationEvidence,
  EvidenceResult,
  NonceRangeHistory,
  Producer,
  ProducerList,
  RegisterProducerPayload,
} from './schema.js';

/*
 * The producer registry from a client's side (docs/architecture.md, "The producer registry"): the
 * registry's reads and evidence reports, and the off-chain work of registering: deriving the
 * accountable key from a secret seed, encrypting the identity information (hidden information,
 * HI) and committing the first range of nonces. The shapes and payloads are in schema.ts.
 */

/** The producer registry's reads and evidence reports, on the client's top level. */
export function producersClient(core: ClientCore) {
  const { request, segment } = core;
  return {
    /** Every registered producer, sorted by id. */
    listProducers: () => request<ProducerList>('GET', '/v1/producers'),
    /** One producer; with `equivocation` (and the revealed info) once it was jailed. */
    getProducer: (id: string) => request<Producer>('GET', `/v1/producers/${segment(id)}`),
    /**
     * A producer's committed nonce ranges from height `from` on (all of them, pruned or not), with
     * the tx and height that committed each; at most 1,000 a call (`more` says there are others).
     */
    getNonceRanges: (id: string, from = 0) =>
      request<NonceRangeHistory>(
        'GET',
        `/v1/producers/${segment(id)}/nonce-ranges?from=${segment(from)}`,
      ),
    /**
     * Reports two headers one producer signed at one height. The node checks them, reveals the
     * producer's identity information and commits an `evidence.equivocation` tx signed by its own
     * account; it answers once that tx is in a block, or throws the rejection
     * (`evidence_duplicate`, `invalid_evidence`, `evidence_too_old`, ...).
     */
    submitEvidence: (evidence: EquivocationEvidence) =>
      request<EvidenceResult>('POST', '/v1/evidence', evidence),
  };
}

// ---- off-chain work --------------------------------------------------------------------------

const seedBytes = 32;
const seedPattern = /^[0-9a-fA-F]{64}$/;
const amountPattern = /^[1-9][0-9]*$/;

/** A 32-byte seed given as 64 hex digits or bytes; a copy, so the caller may wipe its own. */
function seedOf(seed: unknown): Uint8Array {
  if (seed instanceof Uint8Array && seed.length === seedBytes) return new Uint8Array(seed);
  if (typeof seed === 'string' && seedPattern.test(seed)) {
    return fromHex(seed.toLowerCase(), 'seed', seedBytes);
  }
  throw new CryptoInputError(
    'seed',
    `seed must be ${seedBytes} bytes or ${2 * seedBytes} hex digits`,
  );
}

function bondOf(bond: unknown): string {
  const text = typeof bond === 'bigint' ? bond.toString() : bond;
  if (typeof text !== 'string' || !amountPattern.test(text) || BigInt(text) > minorUnitsMax) {
    throw new CryptoInputError(
      'bond',
      'bond must be a positive whole number of minor units (a decimal string or bigint) at most 2^127-1',
    );
  }
  return text;
}

/**
 * The producer id of a seed: the address of its accountable public key. The same seed as an
 * ed25519 key is an operator account; `deriveAccountableKey` makes the two keys independent.
 */
export function producerIdOf(seed: string | Uint8Array): string {
  return addressFromPublicKey(deriveAccountableKey(seedOf(seed)).publicKey);
}

export interface NonceCommitmentInput {
  /** The producer's secret seed (32 bytes, or 64 hex digits). */
  seed: string | Uint8Array;
  chainId: string;
  fromHeight: number;
  /** Heights in the range, at most the chain's `nonceRangeHeightsMax` (1 to 1.5 ms each). */
  count: number;
}

/** The `producer.commitNonces` payload of the range [fromHeight, fromHeight + count). */
export function prepareNonceCommitment(input: NonceCommitmentInput): {
  producer: string;
  payload: CommitNoncesPayload;
} {
  const key = deriveAccountableKey(seedOf(input.seed));
  const { root } = commitNonces(key.nonceSecret, input.chainId, input.fromHeight, input.count);
  const producer = addressFromPublicKey(key.publicKey);
  return {
    producer,
    payload: { producer, fromHeight: input.fromHeight, count: input.count, root },
  };
}

export interface ProducerRegistrationInput extends NonceCommitmentInput {
  /** The identity information (free JSON, at most `hiddenInfoBytesMax` bytes canonical). */
  info: unknown;
  /** Minor units of the bond asset, at least the chain's `bondMin`. */
  bond: string | bigint;
}

/**
 * Everything `producer.register` needs, computed off-chain from the seed: the accountable public
 * key, the hidden information and its commitment (random salt and IV: two calls differ), and the
 * root of the first nonce range, which must start above the chain's height when the tx executes.
 * Bad inputs throw a `CryptoInputError` naming the field.
 */
export function prepareProducerRegistration(input: ProducerRegistrationInput): {
  /** The producer id (address of the accountable key). */
  producer: string;
  payload: RegisterProducerPayload;
} {
  const bond = bondOf(input.bond);
  const key = deriveAccountableKey(seedOf(input.seed));
  const { hiddenInfo, commitment } = encryptHiddenInfo(key.secretScalar, input.info);
  const { root } = commitNonces(key.nonceSecret, input.chainId, input.fromHeight, input.count);
  return {
    producer: addressFromPublicKey(key.publicKey),
    payload: {
      publicKey: toHex(key.publicKey),
      hiddenInfo,
      commitment,
      bond,
      nonces: { fromHeight: input.fromHeight, count: input.count, root },
    },
  };
}

/** What the SDK publishes of this module (src/sdk/index.ts exports it through ../clients.ts). */
export * from './schema.js';
