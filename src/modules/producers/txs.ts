import {
  accountablePart,
  blockHash,
  blockHeaderFields,
  blockSigningMessage,
  defineTx,
  payloadParser,
  payloadReaders,
  reject,
  type BlockHeader,
  type CommittedNonceRange,
  type Rejection,
  type TxContext,
  type TxDefinition,
} from '../../chain/index.js';
import {
  extractSecret,
  fromHex,
  hiddenInfoCiphertextBytesMax,
  isAccountablePublicKey,
  isAddress,
  addressFromPublicKey,
  publicKeyFromAddress,
  revealHiddenInfo,
  verifyAtHeight,
  type AccountableSignature,
} from '../../crypto/index.js';
import { escrowAddress } from '../../ledger/index.js';
import {
  hasEvidence,
  markEvidence,
  producersMax,
  producersModuleName,
  readParams,
  readProducer,
  readProducerCount,
  readUnbonding,
  readValidatorSet,
  deleteProducer,
  writeNonceRange,
  writeProducer,
  writeSeen,
  writeUnbonding,
  type ProducerRecord,
  type RegistryParams,
} from './state.js';

/** Rejections of the registry, in the precedence the handlers check them. */
export const producerRejections = {
  invalid_public_key:
    'publicKey must be 64 lowercase hex digits of a point in the prime-order subgroup.',
  invalid_hidden_info:
    'hiddenInfo must be lowercase hex of an encrypted identity, within size limits.',
  invalid_commitment: 'commitment must be 64 lowercase hex digits.',
  invalid_nonce_range:
    'nonces must be {fromHeight, count, root} with count at least 1 and a hex root.',
  invalid_producer: 'producer must be a producer id (the address of its accountable key).',
  registry_not_initialized: 'This chain has no producer registry in its genesis.',
  producer_exists: 'A producer with this public key is already registered.',
  too_many_producers: 'The producer registry is full.',
  bond_too_low: 'The bond is below the minimum, or not in the bond asset.',
  producer_not_found: 'No producer has this id.',
  not_producer_operator: 'Only the account that registered the producer may do this.',
  producer_not_active:
    'The producer is not active (pending, jailed, unbonding or unbonded); a pending producer is taken back with producer.withdraw.',
  producer_not_pending:
    'Only a pending producer (registered, not yet approved) can be approved or withdrawn.',
  not_validator_operator:
    'Only the operator of an active producer (a validator) may approve a producer.',
  approval_duplicate: 'This validator operator has already approved this producer.',
  active_set_full: 'The active producer set holds as many producers as the chain allows.',
  producer_not_jailed: 'The producer is not jailed.',
  jailed_for_equivocation:
    'The producer was jailed for equivocating: its bond is slashed and it never returns.',
  jail_not_expired: 'The producer is jailed for downtime until its release height.',
  no_bond_owed: "No refused bond return is owed to this producer's operator.",
  nonce_range_in_past: 'A nonce range must start above the current height.',
  nonce_range_not_contiguous: 'A nonce range must start where the last committed range ends.',
  nonce_range_too_large: 'A nonce range holds more heights than the chain allows.',
  too_many_nonce_ranges: 'The producer has committed as many ranges ahead as the chain allows.',
  invalid_evidence:
    'Evidence must be two headers of one chain, producer and height, with different hashes, each with its {height, R, s} signature.',
  evidence_wrong_chain: 'The evidence headers belong to another chain.',
  evidence_bad_signature: 'A signature in the evidence does not verify for its header.',
  evidence_too_old: 'The evidence is about a height older than the evidence window.',
  evidence_duplicate: 'This producer was already slashed for equivocating at this height.',
  producer_already_jailed:
    'This producer is already jailed for an earlier equivocation; its bond is slashed and its information revealed.',
  evidence_no_secret:
    'The two signatures do not share a nonce, so they reveal nothing (and one of them is not a valid block signature).',
} as const;

const hexPattern = /^[0-9a-f]{64}$/;
const hiddenInfoPattern = /^([0-9a-f]{2})+$/;
const basisPointsWhole = 10_000n;

const readers = {
  ...payloadReaders,
  publicKey: (v: unknown) =>
    typeof v === 'string' && hexPattern.test(v) && isAccountablePublicKey(fromHex(v, 'publicKey'))
      ? v
      : reject('invalid_public_key'),
  hiddenInfo: (v: unknown) =>
    typeof v === 'string' &&
    v.length <= 2 * hiddenInfoCiphertextBytesMax &&
    hiddenInfoPattern.test(v)
      ? v
      : reject('invalid_hidden_info'),
  commitment: (v: unknown) =>
    typeof v === 'string' && hexPattern.test(v) ? v : reject('invalid_commitment'),
  nonceRange: (v: unknown): CommittedNonceRange | Rejection => {
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      return reject('invalid_nonce_range');
    const { fromHeight, count, root, ...rest } = v as Record<string, unknown>;
    if (Object.keys(rest).length > 0) return reject('invalid_nonce_range');
    if (!Number.isSafeInteger(fromHeight) || (fromHeight as number) < 0)
      return reject('invalid_nonce_range');
    if (!Number.isSafeInteger(count) || (count as number) < 1) return reject('invalid_nonce_range');
    if (typeof root !== 'string' || !hexPattern.test(root)) return reject('invalid_nonce_range');
    return { fromHeight: fromHeight as number, count: count as number, root };
  },
  producer: (v: unknown) => (isAddress(v) ? v : reject('invalid_producer')),
  evidenceHalf: (v: unknown): SignedHeader | Rejection =>
    parseSignedHeader(v) ?? reject('invalid_evidence'),
};

/** One half of an equivocation: a header and its accountable signature. */
export interface SignedHeader {
  header: BlockHeader;
  signature: AccountableSignature;
}

function parseSignedHeader(value: unknown): SignedHeader | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { header, signature, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return undefined;
  if (typeof header !== 'object' || header === null) return undefined;
  const h = header as Record<string, unknown>;
  if (
    Object.keys(h).length !== blockHeaderFields.length ||
    !blockHeaderFields.every((f) => Object.hasOwn(h, f))
  )
    return undefined;
  if (typeof h.chainId !== 'string' || !Number.isSafeInteger(h.height) || (h.height as number) < 0)
    return undefined;
  if (!Number.isSafeInteger(h.time)) return undefined;
  if (!Number.isSafeInteger(h.txCount) || (h.txCount as number) < 0) return undefined;
  for (const field of ['prevHash', 'txRoot', 'receiptRoot', 'stateRoot']) {
    if (typeof h[field] !== 'string' || !hexPattern.test(h[field])) return undefined;
  }
  if (!isAddress(h.producer)) return undefined;
  if (typeof signature !== 'object' || signature === null) return undefined;
  const s = signature as Record<string, unknown>;
  // A full block signature (with its nonce proof) is accepted; only {height, R, s} counts here.
  if (typeof s.height !== 'number' || typeof s.R !== 'string' || typeof s.s !== 'string')
    return undefined;
  return {
    header: h as unknown as BlockHeader,
    signature: accountablePart(s as unknown as AccountableSignature),
  };
}

export interface EquivocationEvidence {
  a: SignedHeader;
  b: SignedHeader;
}

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

function paramsOf(ctx: TxContext): RegistryParams | undefined {
  return readParams(ctx.state);
}

/** The producer `id` when the sender operates it, or the rejection. */
function ownProducer(ctx: TxContext, id: string): ProducerRecord | string {
  const record = readProducer(ctx.state, id);
  if (!record) return 'producer_not_found';
  if (record.operator !== ctx.sender) return 'not_producer_operator';
  return record;
}

/** Jailed for downtime (it may come back), not for equivocation (it never does). */
function jailedForDowntime(record: ProducerRecord): boolean {
  return record.status === 'jailed' && record.equivocation === undefined;
}

/**
 * Whether `approvals` (operators) are more than two thirds of the validators' operators: the
 * threshold that activates a pending producer. Approvals of operators who are no longer
 * validators do not count.
 */
export function approvalsReachQuorum(
  approvals: readonly string[],
  operators: ReadonlySet<string>,
): boolean {
  const counted = approvals.filter((operator) => operators.has(operator)).length;
  return 3 * counted > 2 * operators.size;
}

/** Makes a producer active (approved, or unjailed) at the context's height. */
function activate(ctx: Pick<TxContext, 'state' | 'height'>, record: ProducerRecord): void {
  record.status = 'active';
  record.activatedAtHeight = ctx.height;
  delete record.approvals;
  delete record.jail;
  writeProducer(ctx.state, record);
  // Its downtime window starts now: it has not had a turn yet.
  writeSeen(ctx.state, record.id, ctx.height);
}

/** Ranges ending before `height` are pruned: nothing signs there any more. */
function pruneRanges(ranges: CommittedNonceRange[], height: number): CommittedNonceRange[] {
  const kept = ranges.filter((r) => r.fromHeight + r.count > height);
  // Keep the last range even when past, so contiguity is still checked against it.
  return kept.length > 0 ? kept : ranges.slice(-1);
}

export function escrowOf(id: string): string {
  return escrowAddress(producersModuleName, id);
}

export interface RegisterPayload {
  publicKey: string;
  hiddenInfo: string;
  commitment: string;
  bond: bigint;
  nonces: CommittedNonceRange;
}

/**
 * Registers a producer, `pending` until validators approve it (also the genesis step, with
 * `genesis` true: active at once, no minimum bond, and the first range may start at 0). Returns a
 * rejection code or undefined.
 */
export function registerProducer(
  ctx: Pick<TxContext, 'state' | 'ledger' | 'sender' | 'height'> & { txHash: string | null },
  payload: RegisterPayload,
  genesis = false,
): string | undefined {
  const params = readParams(ctx.state);
  if (!params) return 'registry_not_initialized';
  const id = addressFromPublicKey(fromHex(payload.publicKey, 'publicKey', 32));
  if (readProducer(ctx.state, id)) return 'producer_exists';
  if (readProducerCount(ctx.state) >= producersMax) return 'too_many_producers';
  if (!genesis && payload.bond < BigInt(params.bondMin)) return 'bond_too_low';
  if (payload.nonces.count > params.nonceRangeHeightsMax) return 'nonce_range_too_large';
  if (!genesis && payload.nonces.fromHeight <= ctx.height) return 'nonce_range_in_past';
  if (payload.bond > 0n) {
    const moved = ctx.ledger.transfer(ctx.sender, escrowOf(id), params.bondAsset, payload.bond);
    if (moved) return moved;
  }
  writeProducer(ctx.state, {
    id,
    publicKey: payload.publicKey,
    operator: ctx.sender,
    hiddenInfo: payload.hiddenInfo,
    commitment: payload.commitment,
    bond: payload.bond.toString(),
    status: genesis ? 'active' : 'pending',
    registeredAtHeight: ctx.height,
    nonceRanges: [payload.nonces],
    ...(genesis ? { activatedAtHeight: 0 } : { approvals: [] }),
  });
  writeNonceRange(ctx.state, id, {
    ...payload.nonces,
    tx: ctx.txHash,
    committedAtHeight: ctx.height,
  });
  return undefined;
}

export const producerTxs: Record<string, TxDefinition<never>> = {
  'producer.register': defineTx<RegisterPayload>({
    parse: payloadParser({
      publicKey: readers.publicKey,
      hiddenInfo: readers.hiddenInfo,
      commitment: readers.commitment,
      bond: readers.amount,
      nonces: readers.nonceRange,
    }),
    execute: (ctx, p) => {
      const rejection = registerProducer(ctx, p);
      if (rejection) return rejection;
      const id = addressFromPublicKey(fromHex(p.publicKey, 'publicKey', 32));
      ctx.emit('producer.registered', {
        producer: id,
        operator: ctx.sender,
        bond: p.bond.toString(),
        status: 'pending',
      });
      return undefined;
    },
  }),
  'producer.commitNonces': defineTx<{ producer: string } & CommittedNonceRange>({
    parse: payloadParser({
      producer: readers.producer,
      fromHeight: (v: unknown) =>
        Number.isSafeInteger(v) && (v as number) >= 0
          ? (v as number)
          : reject('invalid_nonce_range'),
      count: (v: unknown) =>
        Number.isSafeInteger(v) && (v as number) >= 1
          ? (v as number)
          : reject('invalid_nonce_range'),
      root: (v: unknown) =>
        typeof v === 'string' && hexPattern.test(v) ? v : reject('invalid_nonce_range'),
    }),
    execute: (ctx, p) => {
      const params = paramsOf(ctx);
      if (!params) return 'registry_not_initialized';
      const record = ownProducer(ctx, p.producer);
      if (typeof record === 'string') return record;
      // A pending producer keeps its nonces ahead for the day it is approved; one jailed for
      // downtime for the day it is unjailed.
      if (record.status !== 'active' && record.status !== 'pending' && !jailedForDowntime(record))
        return 'producer_not_active';
      if (p.count > params.nonceRangeHeightsMax) return 'nonce_range_too_large';
      if (p.fromHeight <= ctx.height) return 'nonce_range_in_past';
      const last = record.nonceRanges[record.nonceRanges.length - 1];
      // Contiguous with the last range; once that range has ended (a producer left without nonces
      // while pending or jailed), anywhere above the current height. Ranges never overlap either
      // way, so every height keeps at most one committed nonce and two signatures there reveal
      // the key.
      if (last && last.fromHeight + last.count > ctx.height) {
        if (p.fromHeight !== last.fromHeight + last.count) return 'nonce_range_not_contiguous';
      }
      const ahead = record.nonceRanges.filter((r) => r.fromHeight > ctx.height).length;
      if (ahead >= params.nonceRangesAheadMax) return 'too_many_nonce_ranges';
      const range = { fromHeight: p.fromHeight, count: p.count, root: p.root };
      record.nonceRanges = pruneRanges([...record.nonceRanges, range], ctx.height);
      writeProducer(ctx.state, record);
      writeNonceRange(ctx.state, record.id, {
        ...range,
        tx: ctx.txHash,
        committedAtHeight: ctx.height,
      });
      ctx.emit('producer.noncesCommitted', { producer: record.id, ...range });
      return undefined;
    },
  }),
  'producer.unbond': defineTx<{ producer: string }>({
    parse: payloadParser({ producer: readers.producer }),
    execute: (ctx, p) => {
      const params = paramsOf(ctx);
      if (!params) return 'registry_not_initialized';
      const record = ownProducer(ctx, p.producer);
      if (typeof record === 'string') return record;
      if (record.status !== 'active' && !jailedForDowntime(record)) return 'producer_not_active';
      const at = ctx.height + params.unbondingPeriodHeights;
      record.status = 'unbonding';
      record.unbondAtHeight = at;
      delete record.jail;
      writeProducer(ctx.state, record);
      writeUnbonding(ctx.state, at, [...readUnbonding(ctx.state, at), record.id].sort());
      ctx.emit('producer.unbonding', { producer: record.id, unbondAtHeight: at });
      return undefined;
    },
  }),
  'producer.approve': defineTx<{ producer: string }>({
    parse: payloadParser({ producer: readers.producer }),
    execute: (ctx, p) => {
      const params = paramsOf(ctx);
      if (!params) return 'registry_not_initialized';
      const record = readProducer(ctx.state, p.producer);
      if (!record) return 'producer_not_found';
      if (record.status !== 'pending') return 'producer_not_pending';
      const validators = readValidatorSet(ctx.state);
      if (!validators.operators.has(ctx.sender)) return 'not_validator_operator';
      const approvals = record.approvals ?? [];
      // A repeat counts once. It is let through only when the approvals already recorded reach
      // the threshold because the set shrank since (jailing, unbonding): then it activates.
      const repeat = approvals.includes(ctx.sender);
      if (repeat && !approvalsReachQuorum(approvals, validators.operators))
        return 'approval_duplicate';
      if (validators.producers.length >= params.activeProducersMax) return 'active_set_full';
      const next = repeat ? approvals : [...approvals, ctx.sender].sort();
      const counted = next.filter((operator) => validators.operators.has(operator)).length;
      const progress = {
        producer: record.id,
        approver: ctx.sender,
        approvals: counted,
        validators: validators.operators.size,
      };
      if (approvalsReachQuorum(next, validators.operators)) {
        activate(ctx, record);
        ctx.emit('producer.activated', progress);
      } else {
        record.approvals = next;
        writeProducer(ctx.state, record);
        ctx.emit('producer.approved', progress);
      }
      return undefined;
    },
  }),
  'producer.withdraw': defineTx<{ producer: string }>({
    parse: payloadParser({ producer: readers.producer }),
    execute: (ctx, p) => {
      const params = paramsOf(ctx);
      if (!params) return 'registry_not_initialized';
      const record = ownProducer(ctx, p.producer);
      if (typeof record === 'string') return record;
      if (record.status !== 'pending') return 'producer_not_pending';
      // Returned at once: a pending producer never had a valid block, so nothing is left to
      // punish (evidence needs two blocks it could have made count).
      const bond = BigInt(record.bond);
      if (bond > 0n) {
        const moved = ctx.ledger.transfer(escrowOf(record.id), ctx.sender, params.bondAsset, bond);
        if (moved) return moved;
      }
      // Deleted, not kept as a record: a kept one would hold a registry slot for good, and a
      // loop of register and withdraw (the bond back each time) would fill the registry for free.
      deleteProducer(ctx.state, record.id);
      ctx.emit('producer.withdrawn', {
        producer: record.id,
        operator: ctx.sender,
        bond: bond.toString(),
      });
      return undefined;
    },
  }),
  'producer.unjail': defineTx<{ producer: string }>({
    parse: payloadParser({ producer: readers.producer }),
    execute: (ctx, p) => {
      const params = paramsOf(ctx);
      if (!params) return 'registry_not_initialized';
      const record = ownProducer(ctx, p.producer);
      if (typeof record === 'string') return record;
      if (record.status !== 'jailed') return 'producer_not_jailed';
      if (record.equivocation || !record.jail) return 'jailed_for_equivocation';
      if (ctx.height < record.jail.releaseHeight) return 'jail_not_expired';
      if (readValidatorSet(ctx.state).producers.length >= params.activeProducersMax)
        return 'active_set_full';
      activate(ctx, record);
      ctx.emit('producer.unjailed', { producer: record.id, operator: ctx.sender });
      return undefined;
    },
  }),
  'producer.claimBond': defineTx<{ producer: string }>({
    parse: payloadParser({ producer: readers.producer }),
    execute: (ctx, p) => {
      const params = paramsOf(ctx);
      if (!params) return 'registry_not_initialized';
      const record = ownProducer(ctx, p.producer);
      if (typeof record === 'string') return record;
      if (record.bondOwed === undefined) return 'no_bond_owed';
      const owed = BigInt(record.bondOwed);
      const moved = ctx.ledger.transfer(escrowOf(record.id), ctx.sender, params.bondAsset, owed);
      if (moved) return moved;
      delete record.bondOwed;
      writeProducer(ctx.state, record);
      ctx.emit('producer.bondClaimed', {
        producer: record.id,
        operator: ctx.sender,
        bond: owed.toString(),
      });
      return undefined;
    },
  }),
  'evidence.equivocation': defineTx<EquivocationEvidence>({
    parse: (payload) => {
      const parsed = payloadParser({ a: readers.evidenceHalf, b: readers.evidenceHalf })(payload);
      if ('code' in parsed) return parsed;
      const rejection = checkEvidence(parsed.value);
      return rejection ? reject(rejection) : parsed;
    },
    execute: (ctx, evidence) => {
      const params = paramsOf(ctx);
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
      const escrow = escrowOf(record.id);
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
