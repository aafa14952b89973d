import type { z } from 'zod';
import {
  blockHash,
  blockSigningMessage,
  defineTxOf,
  reject,
  type TxDefinition,
} from '../../chain/index.js';
import {
  extractSecret,
  publicKeyFromAddress,
  revealHiddenInfo,
  verifyAtHeight,
} from '../../crypto/index.js';
import { evidenceHalfSchema, producerEscrowAddress, producerPayloads } from './schema.js';
import { hasEvidence, markEvidence, readParams, readProducer, writeProducer } from './state.js';

/*
 * Equivocation evidence: two headers one producer signed at one height reveal its secret key,
 * and with it its hidden information; the tx jails the producer and slashes its bond (part
 * burned, the rest to the reporter).
 */

/** One half of an equivocation, parsed: a header and its accountable signature `{height, R, s}`. */
export type SignedHeader = z.output<typeof evidenceHalfSchema>;

/** Evidence as the tx handler gets it: both halves parsed. */
export type EquivocationEvidence = z.output<(typeof producerPayloads)['evidence.equivocation']>;

const basisPointsWhole = 10_000n;

/**
 * The stateless checks of evidence, shared by the API (before it submits) and the tx: one
 * producer, one height, different headers, both signatures valid. Returns a rejection code.
 */
export function checkEvidence(evidence: EquivocationEvidence): string | undefined {
  const { a, b } = evidence;
  if (a.header.chainId !== b.header.chainId) return 'invalid_evidence';
  if (a.header.producer !== b.header.producer) return 'invalid_evidence';
  if (a.header.height !== b.header.height) return 'invalid_evidence';
  const hashA = blockHash(a.header);
  const hashB = blockHash(b.header);
  if (hashA === hashB) return 'invalid_evidence';
  const key = publicKeyFromAddress(a.header.producer);
  for (const { header, signature } of [a, b]) {
    if (signature.height !== header.height) return 'evidence_bad_signature';
    if (!verifyAtHeight(key, blockSigningMessage(blockHash(header)), signature)) {
      return 'evidence_bad_signature';
    }
  }
  return undefined;
}

/** The secret scalar two signed headers reveal, or undefined (no shared nonce). */
export function evidenceSecret(evidence: EquivocationEvidence): bigint | undefined {
  const { a, b } = evidence;
  return extractSecret(
    publicKeyFromAddress(a.header.producer),
    blockSigningMessage(blockHash(a.header)),
    a.signature,
    blockSigningMessage(blockHash(b.header)),
    b.signature,
  );
}

export const evidenceTxs: Record<string, TxDefinition<never>> = {
  'evidence.equivocation': defineTxOf(producerPayloads['evidence.equivocation'], {
    check: (evidence) => {
      const rejection = checkEvidence(evidence);
      return rejection ? reject(rejection) : undefined;
    },
    execute: (ctx, evidence) => {
      const params = readParams(ctx.state);
      if (!params) return 'registry_not_initialized';
      const { header } = evidence.a;
      if (header.chainId !== ctx.chainId) return 'evidence_wrong_chain';
      const record = readProducer(ctx.state, header.producer);
      if (!record) return 'producer_not_found';
      if (header.height + params.evidenceWindowHeights < ctx.height) return 'evidence_too_old';
      if (hasEvidence(ctx.state, record.id, header.height)) return 'evidence_duplicate';
      // A second equivocation at another height must not overwrite the first slashing's record.
      if (record.equivocation) return 'producer_already_jailed';
      // Re-derived here, not trusted from the submitter: execution is the same on every node.
      const secret = evidenceSecret(evidence);
      if (secret === undefined) return 'evidence_no_secret';
      const revealed = revealHiddenInfo(secret, record.hiddenInfo, record.commitment);
      const bond = BigInt(record.bond);
      const burned = (bond * BigInt(params.slashBurnBasisPoints)) / basisPointsWhole;
      const reward = bond - burned;
      const escrow = producerEscrowAddress(record.id);
      if (reward > 0n) {
        const moved = ctx.ledger.transfer(escrow, ctx.sender, params.bondAsset, reward);
        if (moved) return moved;
      }
      if (burned > 0n) {
        const retired = ctx.ledger.retire(escrow, params.bondAsset, burned);
        if (retired) return retired;
      }
      const hashes = [blockHash(evidence.a.header), blockHash(evidence.b.header)].sort() as [
        string,
        string,
      ];
      record.status = 'jailed';
      record.bond = '0';
      record.equivocation = {
        height: header.height,
        headerHashes: hashes,
        info: revealed?.info ?? null,
        infoRevealed: revealed !== undefined,
        recordedAtHeight: ctx.height,
        reporter: ctx.sender,
        slashed: bond.toString(),
        burned: burned.toString(),
        reward: reward.toString(),
      };
      delete record.unbondAtHeight;
      delete record.approvals;
      delete record.jail;
      writeProducer(ctx.state, record);
      markEvidence(ctx.state, record.id, header.height, ctx.txHash);
      ctx.emit('producer.equivocated', {
        producer: record.id,
        height: header.height,
        headerHashes: hashes,
        info: revealed?.info ?? null,
        infoRevealed: revealed !== undefined,
        reporter: ctx.sender,
        slashed: bond.toString(),
        burned: burned.toString(),
        reward: reward.toString(),
      });
      return undefined;
    },
  }),
};
