import { canonicalize } from '../../crypto/index.js';
import { escrowAddress } from '../../ledger/index.js';
import type { OrderedStateReader, StateReader, StateView } from '../../state/index.js';
import {
  invitationsPerPoolMax,
  membersPerPoolMax,
  mentorshipsPerPoolMax,
  statementPageMax,
  type DonorRecord,
  type InvitationRecord,
  type MemberRecord,
  type MentorshipRecord,
  type MentorshipView,
  type PoolRecipients,
  type PoolRecord,
  type PoolStatement,
  type RecipientRecord,
  type PoolView,
} from './pools.js';

/*
 * The state of scholarship pools and mentorships: every key lives under `scholarship/pools/` or
 * `scholarship/mentorships/` (the rest of `scholarship/` is the questions' state.ts). Each record
 * is one bounded value; indexes are empty values under keys that sort the way the reads list them.
 * Money is decimal text of minor units; a pool's escrow holds `funded - paidAnswers - paidStipends`
 * of its asset (more only if someone transferred to the escrow directly: a gift no statement
 * counts and no tx spends).
 */

const moduleName = 'scholarship';

export const poolKeys = {
  pool: (poolId: string) => `scholarship/pools/pool/${poolId}`,
  /** A manager's pools (`poolsPerManagerMax`). */
  byManager: (manager: string, poolId: string) =>
    `scholarship/pools/by-manager/${manager}/${poolId}`,
  byManagerPrefix: (manager: string) => `scholarship/pools/by-manager/${manager}/`,
  /** A pool's members, in address order (`membersPerPoolMax`). */
  member: (poolId: string, member: string) => `scholarship/pools/member/${poolId}/${member}`,
  memberPrefix: (poolId: string) => `scholarship/pools/member/${poolId}/`,
  /** A member's pools, in poolId order (`poolsPerMemberMax`): what a payout visits. */
  memberOf: (member: string, poolId: string) => `scholarship/pools/member-of/${member}/${poolId}`,
  memberOfPrefix: (member: string) => `scholarship/pools/member-of/${member}/`,
  /**
   * A pool's pending invitations, in address order (`invitationsPerPoolMax`). No index by the
   * invited address: any number of pools may invite one, and an invitation takes none of its slots.
   */
  invitation: (poolId: string, member: string) =>
    `scholarship/pools/invitation/${poolId}/${member}`,
  invitationPrefix: (poolId: string) => `scholarship/pools/invitation/${poolId}/`,
  /** One aggregate per donor of a pool, in address order. */
  donor: (poolId: string, donor: string) => `scholarship/pools/donor/${poolId}/${donor}`,
  donorPrefix: (poolId: string) => `scholarship/pools/donor/${poolId}/`,
  /** One aggregate per recipient of a pool's payouts, in address order. */
  recipient: (poolId: string, recipient: string) =>
    `scholarship/pools/recipient/${poolId}/${recipient}`,
  recipientPrefix: (poolId: string) => `scholarship/pools/recipient/${poolId}/`,
  /** A pool's active mentorships, in id order (`mentorshipsPerPoolMax`). */
  activeMentorship: (poolId: string, mentorshipId: string) =>
    `scholarship/pools/mentorship/${poolId}/${mentorshipId}`,
  activeMentorshipPrefix: (poolId: string) => `scholarship/pools/mentorship/${poolId}/`,
  mentorship: (mentorshipId: string) => `scholarship/mentorships/${mentorshipId}`,
};

/** The escrow account of a pool: no key controls it. */
export function poolEscrow(poolId: string): string {
  return escrowAddress(moduleName, `pool/${poolId}`);
}

function readJson<T>(state: StateReader, key: string): T | undefined {
  const text = state.get(key);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

function writeJson(state: StateView, key: string, value: unknown): void {
  state.set(key, canonicalize(value));
}

export function readPool(state: StateReader, poolId: string): PoolRecord | undefined {
  return readJson(state, poolKeys.pool(poolId));
}

export function writePool(state: StateView, record: PoolRecord): void {
  writeJson(state, poolKeys.pool(record.poolId), record);
  state.set(poolKeys.byManager(record.manager, record.poolId), '');
}

/** How many pools `manager` created, counting up to `limit` (the cap: never the whole list). */
export function poolsOfManager(state: OrderedStateReader, manager: string, limit: number): number {
  return state.range(poolKeys.byManagerPrefix(manager), limit).length;
}

export function readMember(
  state: StateReader,
  poolId: string,
  member: string,
): MemberRecord | undefined {
  return readJson(state, poolKeys.member(poolId, member));
}

export function writeMember(state: StateView, record: MemberRecord): void {
  writeJson(state, poolKeys.member(record.poolId, record.member), record);
  state.set(poolKeys.memberOf(record.member, record.poolId), '');
}

export function deleteMember(state: StateView, poolId: string, member: string): void {
  state.delete(poolKeys.member(poolId, member));
  state.delete(poolKeys.memberOf(member, poolId));
}

export function readInvitation(
  state: StateReader,
  poolId: string,
  member: string,
): InvitationRecord | undefined {
  return readJson(state, poolKeys.invitation(poolId, member));
}

export function writeInvitation(state: StateView, record: InvitationRecord): void {
  writeJson(state, poolKeys.invitation(record.poolId, record.member), record);
}

export function deleteInvitation(state: StateView, poolId: string, member: string): void {
  state.delete(poolKeys.invitation(poolId, member));
}

/** The pools `member` belongs to, in poolId order, at most `limit`. */
export function poolsOfMember(state: OrderedStateReader, member: string, limit: number): string[] {
  const prefix = poolKeys.memberOfPrefix(member);
  return state.range(prefix, limit).map(([key]) => key.slice(prefix.length));
}

export function readDonor(
  state: StateReader,
  poolId: string,
  donor: string,
): DonorRecord | undefined {
  return readJson(state, poolKeys.donor(poolId, donor));
}

export function writeDonor(state: StateView, record: DonorRecord): void {
  writeJson(state, poolKeys.donor(record.poolId, record.donor), record);
}

export function readRecipient(
  state: StateReader,
  poolId: string,
  recipient: string,
): RecipientRecord | undefined {
  return readJson(state, poolKeys.recipient(poolId, recipient));
}

/** Adds a payout to its recipient's aggregate (one record per recipient and pool). */
export function addToRecipient(
  state: StateView,
  poolId: string,
  recipient: string,
  paid: { answer: bigint } | { stipends: bigint },
  height: number,
): void {
  const key = poolKeys.recipient(poolId, recipient);
  const before = readJson<RecipientRecord>(state, key);
  const answer = 'answer' in paid ? paid.answer : 0n;
  const stipends = 'stipends' in paid ? paid.stipends : 0n;
  writeJson(state, key, {
    poolId,
    recipient,
    answers: (before?.answers ?? 0) + ('answer' in paid ? 1 : 0),
    paidAnswers: (BigInt(before?.paidAnswers ?? '0') + answer).toString(),
    paidStipends: (BigInt(before?.paidStipends ?? '0') + stipends).toString(),
    lastHeight: height,
  } satisfies RecipientRecord);
}

export function readMentorship(
  state: StateReader,
  mentorshipId: string,
): MentorshipRecord | undefined {
  return readJson(state, poolKeys.mentorship(mentorshipId));
}

/** Writes a mentorship, keeping the pool's active index in step with its status. */
export function writeMentorship(state: StateView, record: MentorshipRecord): void {
  writeJson(state, poolKeys.mentorship(record.mentorshipId), record);
  const index = poolKeys.activeMentorship(record.poolId, record.mentorshipId);
  if (record.status === 'active') state.set(index, '');
  else state.delete(index);
}

// ---- money ---------------------------------------------------------------------------------------

/** What the pool's escrow holds for it: funded less everything paid. */
export function poolBalance(pool: PoolRecord): bigint {
  return BigInt(pool.funded) - BigInt(pool.paidAnswers) - BigInt(pool.paidStipends);
}

/** What accepted answers and new mentorships may use: the balance less the reservations. */
export function poolAvailable(pool: PoolRecord): bigint {
  return poolBalance(pool) - BigInt(pool.reserved);
}

/** Stipend periods of a mentorship due at `height` and not claimed yet. */
export function duePeriods(mentorship: MentorshipRecord, height: number): number {
  if (mentorship.status !== 'active') return 0;
  const elapsed = Math.max(0, height - mentorship.startHeight);
  const passed = Math.min(mentorship.periods, Math.floor(elapsed / mentorship.periodBlocks));
  return Math.max(0, passed - mentorship.claimed);
}

// ---- queries -------------------------------------------------------------------------------------

/**
 * A pool with its balance, its members (at most 64), its pending invitations (at most 256) and its
 * active mentorships (at most 64).
 */
export function poolView(state: OrderedStateReader, poolId: string): PoolView | undefined {
  const pool = readPool(state, poolId);
  if (pool === undefined) return undefined;
  const memberList = state
    .range(poolKeys.memberPrefix(poolId), membersPerPoolMax)
    .map(([, value]) => JSON.parse(value) as MemberRecord);
  const invitationList = state
    .range(poolKeys.invitationPrefix(poolId), invitationsPerPoolMax)
    .map(([, value]) => JSON.parse(value) as InvitationRecord);
  const prefix = poolKeys.activeMentorshipPrefix(poolId);
  const activeMentorships = state
    .range(prefix, mentorshipsPerPoolMax)
    .map(([key]) => key.slice(prefix.length));
  return {
    ...pool,
    balance: poolBalance(pool).toString(),
    available: poolAvailable(pool).toString(),
    memberList,
    invitationList,
    activeMentorships,
  };
}

/**
 * The donors' statement of a pool: its totals and a page of donor aggregates in address order
 * (`limit` 1 to 100; `next` continues as `after`). Each donor's `attributedPaid` is its pro-rata
 * part of everything paid, rounded down.
 */
export function poolStatement(
  state: OrderedStateReader,
  poolId: string,
  page: { after?: string; limit: number },
): PoolStatement | undefined {
  checkPageLimit(page.limit);
  const pool = readPool(state, poolId);
  if (pool === undefined) return undefined;
  const prefix = poolKeys.donorPrefix(poolId);
  const entries = state.range(
    prefix,
    page.limit + 1,
    page.after === undefined ? {} : { after: prefix + page.after },
  );
  const funded = BigInt(pool.funded);
  const paid = BigInt(pool.paidAnswers) + BigInt(pool.paidStipends);
  const donorList = entries.slice(0, page.limit).map(([, value]) => {
    const donor = JSON.parse(value) as DonorRecord;
    const attributed = funded === 0n ? 0n : (paid * BigInt(donor.funded)) / funded;
    return { ...donor, attributedPaid: attributed.toString() };
  });
  return {
    poolId,
    asset: pool.asset,
    funded: pool.funded,
    paidAnswers: pool.paidAnswers,
    paidStipends: pool.paidStipends,
    reserved: pool.reserved,
    balance: poolBalance(pool).toString(),
    donors: pool.donors,
    donorList,
    next: entries.length > page.limit ? (donorList.at(-1)?.donor ?? null) : null,
  };
}

function checkPageLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > statementPageMax) {
    throw new RangeError(`limit must be a whole number from 1 to ${statementPageMax}`);
  }
}

/**
 * To whom a pool paid: a page of recipient aggregates in address order (`limit` 1 to 100; `next`
 * continues as `after`).
 */
export function poolRecipients(
  state: OrderedStateReader,
  poolId: string,
  page: { after?: string; limit: number },
): PoolRecipients | undefined {
  checkPageLimit(page.limit);
  const pool = readPool(state, poolId);
  if (pool === undefined) return undefined;
  const prefix = poolKeys.recipientPrefix(poolId);
  const entries = state.range(
    prefix,
    page.limit + 1,
    page.after === undefined ? {} : { after: prefix + page.after },
  );
  const recipientList = entries
    .slice(0, page.limit)
    .map(([, value]) => JSON.parse(value) as RecipientRecord);
  return {
    poolId,
    asset: pool.asset,
    recipientList,
    next: entries.length > page.limit ? (recipientList.at(-1)?.recipient ?? null) : null,
  };
}

/** One donor's aggregate for one pool. */
export function donorStatement(
  state: StateReader,
  poolId: string,
  donor: string,
): DonorRecord | undefined {
  return readDonor(state, poolId, donor);
}

/** A mentorship with what is due at `height` (the latest committed height, for the routes). */
export function mentorshipView(
  state: StateReader,
  mentorshipId: string,
  height: number,
): MentorshipView | undefined {
  const mentorship = readMentorship(state, mentorshipId);
  if (mentorship === undefined) return undefined;
  const due = duePeriods(mentorship, height);
  return {
    ...mentorship,
    duePeriods: due,
    dueAmount: (BigInt(mentorship.stipend) * BigInt(due)).toString(),
    height,
  };
}
