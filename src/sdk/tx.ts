import { signingMessage } from '../crypto/domains.js';
import { CryptoInputError, canonicalBytes, fromHex, sha256, sign, toHex } from '../crypto/index.js';
import type { SignedTx, TxBody } from '../protocol/core.js';
import type { SigningKey } from './keys.js';
import type {
  ApproveProducerPayload,
  ClaimBondPayload,
  CommitNoncesPayload,
  EquivocationEvidence,
  RegisterProducerPayload,
  UnbondProducerPayload,
  UnjailProducerPayload,
  WithdrawProducerPayload,
} from '../modules/producers/schema.js';

/** The fields a sender signs (see docs/architecture.md, "Transactions"): src/protocol's `TxBody`. */
export type UnsignedTx = TxBody;
export type { SignedTx };

function body(tx: UnsignedTx): UnsignedTx {
  const out: UnsignedTx = {
    chainId: tx.chainId,
    type: tx.type,
    sender: tx.sender,
    nonce: tx.nonce,
    payload: tx.payload,
  };
  if (tx.expiresAt !== undefined) out.expiresAt = tx.expiresAt;
  if (tx.memo !== undefined) out.memo = tx.memo;
  return out;
}

/** SHA-256 of the canonical (RFC 8785) body: the tx's id. */
export function hashTx(tx: UnsignedTx): string {
  return toHex(sha256(canonicalBytes(body(tx))));
}

export function signTx(tx: UnsignedTx, key: SigningKey): SignedTx {
  if (tx.sender !== key.address) {
    throw new CryptoInputError('sender', `signTx: the key is ${key.address}, not the sender`);
  }
  const hash = hashTx(tx);
  const signature = sign(signingMessage('tx', hash), fromHex(key.secretKey, 'secretKey', 32));
  return { ...body(tx), signature: toHex(signature) };
}

/** Builders for the core tx types; amounts are decimal strings of minor units. */
export const txs = {
  createAsset: (p: { symbol: string; decimals: number; maxSupply?: string }) => ({
    type: 'asset.create',
    payload: p,
  }),
  mint: (p: { symbol: string; to: string; amount: string }) => ({ type: 'asset.mint', payload: p }),
  burn: (p: { symbol: string; amount: string }) => ({ type: 'asset.burn', payload: p }),
  freeze: (p: { symbol: string; account: string }) => ({ type: 'asset.freeze', payload: p }),
  unfreeze: (p: { symbol: string; account: string }) => ({ type: 'asset.unfreeze', payload: p }),
  transfer: (p: { to: string; asset: string; amount: string }) => ({
    type: 'ledger.transfer',
    payload: p,
  }),
  createHold: (p: {
    to: string;
    asset: string;
    amount: string;
    expiresAtHeight: number;
    arbiter?: string;
    condition?: string;
  }) => ({ type: 'hold.create', payload: p }),
  postHold: (p: { holdId: string; amount?: string }) => ({ type: 'hold.post', payload: p }),
  voidHold: (p: { holdId: string }) => ({ type: 'hold.void', payload: p }),
  releaseHold: (p: { holdId: string; preimage: string }) => ({ type: 'hold.release', payload: p }),
  /** Build the payload with `prepareProducerRegistration`; the sender becomes the operator. */
  registerProducer: (p: RegisterProducerPayload) => ({ type: 'producer.register', payload: p }),
  /** Build the payload with `prepareNonceCommitment`; only the operator may send it. */
  commitNonces: (p: CommitNoncesPayload) => ({ type: 'producer.commitNonces', payload: p }),
  unbondProducer: (p: UnbondProducerPayload) => ({ type: 'producer.unbond', payload: p }),
  /** By a validator's operator: activates the pending producer at more than two thirds. */
  approveProducer: (p: ApproveProducerPayload) => ({ type: 'producer.approve', payload: p }),
  /** By the operator of a pending producer: the registration and its bond come back at once. */
  withdrawProducer: (p: WithdrawProducerPayload) => ({ type: 'producer.withdraw', payload: p }),
  /** By the operator of a producer jailed for downtime, from its release height. */
  unjailProducer: (p: UnjailProducerPayload) => ({ type: 'producer.unjail', payload: p }),
  /** By the operator: takes the bond a freeze kept from returning (`bondOwed`). */
  claimProducerBond: (p: ClaimBondPayload) => ({ type: 'producer.claimBond', payload: p }),
  /** Anyone may report; the sender takes the reporter's share of the slashed bond. */
  reportEquivocation: (p: EquivocationEvidence) => ({
    type: 'evidence.equivocation',
    payload: p,
  }),
} satisfies Record<string, (payload: never) => { type: string; payload: Record<string, unknown> }>;
