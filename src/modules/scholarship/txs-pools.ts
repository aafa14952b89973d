import { defineTxOf, reject, type TxContext, type TxDefinition } from '../../chain/index.js';
import { minorUnitsMax } from '../../protocol/schema.js';
import {
  invitationsPerPoolMax,
  membersPerPoolMax,
  mentorshipsPerPoolMax,
  poolPayloads,
  poolsPerManagerMax,
  poolsPerMemberMax,
  type MentorshipRecord,
  type PoolPayout,
  type PoolRecord,
  type PoolRejection,
} from './pools.js';
import {
  addToRecipient,
  deleteInvitation,
  deleteMember,
  duePeriods,
  poolAvailable,
  poolEscrow,
  poolsOfManager,
  poolsOfMember,
  readDonor,
  readInvitation,
  readMember,
  readMentorship,
  readPool,
  readRecipient,
  writeDonor,
  writeInvitation,
  writeMember,
  writeMentorship,
  writePool,
} from './pools-state.js';
import { isSubject, withinSubject } from './subjects.js';

export { poolHttpStatuses, poolRejections, type PoolPayout, type PoolRejection } from './pools.js';
export {
  donorStatement,
  mentorshipView,
  poolEscrow,
  poolRecipients,
  poolStatement,
  poolView,
} from './pools-state.js';

/*
 * Scholarship pools and mentorships (issue 22), the handlers. Deterministic: heights and times are
 * the block's, amounts bigints, no iteration over anything unordered or unbounded. Checks run in a
 * fixed precedence: the payload's records, then the sender's authority, then the state (limits,
 * funds, frozen accounts), then the ledger's own checks as money moves. A rejection restores the
 * state the tx found.
 *
 * Money: a pool's escrow (`poolEscrow`) receives every funding and pays every payout, so it holds
 * `funded - paidAnswers - paidStipends`; a mentorship reserves `stipend x periods` when it starts
 * (refused unless the unreserved funds cover it), so a stipend, once promised, is always there,
 * and an accepted answer is paid only from what no mentorship reserved. Nothing pays past zero.
 * Ending a mentorship always releases its unaccrued periods; what fell due and cannot be paid
 * (the apprentice's account or the escrow frozen in the asset, checked before any transfer) stays
 * reserved as `held` until `mentorship.claim` pays it.
 *
 * Membership is by consent: the manager invites (pool.addMember, the cohort of pool.create), the
 * address joins (pool.join); an invitation takes none of the address's 8 pool slots, so pools it
 * never chose cannot crowd them, and only joined members are paid.
 *
 * Who may do what, thinking of an outsider with a fresh key and no funds (docs/architecture.md,
 * pools): it may create pools (16 per key, each a bounded record with at most 64 invitations),
 * under any free pool id, in any asset (so a well-known name too: a donor names the manager it
 * means in `pool.fund {manager}`), join a pool only when invited, leave its own pools and decline
 * its own invitations, and claim a mentorship's due or held stipends (they go to the apprentice,
 * never to the sender). With an asset of its own making (`asset.create`, `asset.mint` need no
 * funds) it may fund its own pools and start mentorships from them; in a real asset it has nothing
 * to fund with (`insufficient_funds`). It cannot invite to or remove from another's pool, start or
 * end another's mentorships, or make another's pool pay: only an award or close of a question pays
 * (txs.ts), in the pool's asset, and only for an answer paid at least the pool's `minReward`.
 *
 * Trust: donors trust the manager, who chooses whom to invite and the mentorships. A member who
 * asks questions from a second key in the pool's asset and awards itself is paid by the pool for
 * each; `perMemberMax` (required) bounds what one address takes that way, ever (leaving and
 * rejoining does not reset it), `minReward` makes each paid answer tie up that much of its
 * asker's capital in that very answer's part (a reward split into crumbs pays no pool), and the
 * manager removes the member.
 */

const big = (text: string): bigint => BigInt(text);

function isManager(ctx: TxContext, pool: PoolRecord): boolean {
  return pool.manager === ctx.sender;
}

/**
 * Whether the ledger would refuse a payout of the pool to `payee` because the payee or the pool's
 * escrow is frozen in the pool's asset: checked before the transfer, never caught after it.
 */
function payoutFrozen(ctx: TxContext, pool: PoolRecord, payee: string): boolean {
  const frozen = (address: string) => ctx.ledger.account(address).frozen.includes(pool.asset);
  return frozen(pool.escrow) || frozen(payee);
}

export const poolTxs: Record<string, TxDefinition<never>> = {
  'pool.create': defineTxOf(poolPayloads['pool.create'], {
    execute: (ctx, p): PoolRejection | undefined => {
      if (p.subject !== undefined && !isSubject(p.subject)) return 'pool_subject_unknown';
      if (readPool(ctx.state, p.poolId)) return 'pool_exists';
      if (!ctx.ledger.asset(p.asset)) return 'asset_not_found';
      if (poolsOfManager(ctx.state, ctx.sender, poolsPerManagerMax) >= poolsPerManagerMax) {
        return 'pool_limit_reached';
      }
      // The cohort is invited, not enrolled: each joins if it wants to (<= 64 <= 256 invitations).
      const cohort = p.cohort ?? [];
      const minReward = p.minReward ?? '1';
      const escrow = poolEscrow(p.poolId);
      writePool(ctx.state, {
        poolId: p.poolId,
        manager: ctx.sender,
        asset: p.asset,
        ...(p.subject === undefined ? {} : { subject: p.subject }),
        escrow,
        perAcceptedAnswer: p.perAcceptedAnswer,
        perMemberMax: p.perMemberMax,
        minReward,
        funded: '0',
        paidAnswers: '0',
        paidStipends: '0',
        reserved: '0',
        answersPaid: 0,
        donors: 0,
        members: 0,
        invitations: cohort.length,
        mentorships: 0,
        createdAt: ctx.time,
        height: ctx.height,
        tx: ctx.txHash,
      });
      for (const member of cohort) {
        writeInvitation(ctx.state, { poolId: p.poolId, member, invitedAt: ctx.height });
      }
      ctx.emit('pool.created', {
        poolId: p.poolId,
        manager: ctx.sender,
        asset: p.asset,
        subject: p.subject ?? null,
        escrow,
        perAcceptedAnswer: p.perAcceptedAnswer,
        perMemberMax: p.perMemberMax,
        minReward,
        cohort,
      });
      for (const member of cohort) {
        ctx.emit('pool.memberInvited', { poolId: p.poolId, member, by: ctx.sender });
      }
      return undefined;
    },
  }),

  'pool.fund': defineTxOf(poolPayloads['pool.fund'], {
    execute: (ctx, p): string | undefined => {
      const pool = readPool(ctx.state, p.poolId);
      if (!pool) return 'pool_not_found';
      // The donor's word on whose pool this is: a squatted or front-run id funds nobody.
      if (p.manager !== undefined && p.manager !== pool.manager) return 'pool_manager_mismatch';
      const funded = big(pool.funded) + p.amount;
      // The pool's books stay within the ledger's range (the ledger checks the balance itself).
      if (funded > minorUnitsMax) return 'invalid_amount';
      const moved = ctx.ledger.transfer(ctx.sender, pool.escrow, pool.asset, p.amount);
      if (moved) return moved;
      const before = readDonor(ctx.state, p.poolId, ctx.sender);
      const donor = {
        poolId: p.poolId,
        donor: ctx.sender,
        funded: ((before ? big(before.funded) : 0n) + p.amount).toString(),
        fundings: (before?.fundings ?? 0) + 1,
        firstHeight: before?.firstHeight ?? ctx.height,
        lastHeight: ctx.height,
      };
      writeDonor(ctx.state, donor);
      writePool(ctx.state, {
        ...pool,
        funded: funded.toString(),
        donors: pool.donors + (before ? 0 : 1),
      });
      ctx.emit('pool.funded', {
        poolId: p.poolId,
        donor: ctx.sender,
        asset: pool.asset,
        amount: p.amount.toString(),
        donorFunded: donor.funded,
        poolFunded: funded.toString(),
      });
      return undefined;
    },
  }),

  'pool.addMember': defineTxOf(poolPayloads['pool.addMember'], {
    execute: (ctx, p): PoolRejection | undefined => {
      const pool = readPool(ctx.state, p.poolId);
      if (!pool) return 'pool_not_found';
      if (!isManager(ctx, pool)) return 'not_pool_manager';
      if (readMember(ctx.state, p.poolId, p.member)) return 'pool_member_exists';
      if (readInvitation(ctx.state, p.poolId, p.member)) return 'pool_invitation_exists';
      if (pool.invitations >= invitationsPerPoolMax) return 'invitations_full';
      writeInvitation(ctx.state, { poolId: p.poolId, member: p.member, invitedAt: ctx.height });
      writePool(ctx.state, { ...pool, invitations: pool.invitations + 1 });
      ctx.emit('pool.memberInvited', { poolId: p.poolId, member: p.member, by: ctx.sender });
      return undefined;
    },
  }),

  'pool.removeMember': defineTxOf(poolPayloads['pool.removeMember'], {
    execute: (ctx, p): PoolRejection | undefined => {
      const pool = readPool(ctx.state, p.poolId);
      if (!pool) return 'pool_not_found';
      if (!isManager(ctx, pool)) return 'not_pool_manager';
      return dropMembership(ctx, pool, p.member, 'pool.memberRemoved');
    },
  }),

  'pool.join': defineTxOf(poolPayloads['pool.join'], {
    execute: (ctx, p): PoolRejection | undefined => {
      const pool = readPool(ctx.state, p.poolId);
      if (!pool) return 'pool_not_found';
      if (readMember(ctx.state, p.poolId, ctx.sender)) return 'pool_member_exists';
      if (!readInvitation(ctx.state, p.poolId, ctx.sender)) return 'not_invited';
      if (pool.members >= membersPerPoolMax) return 'pool_full';
      if (poolsOfMember(ctx.state, ctx.sender, poolsPerMemberMax).length >= poolsPerMemberMax) {
        return 'member_pool_limit_reached';
      }
      deleteInvitation(ctx.state, p.poolId, ctx.sender);
      writeMember(ctx.state, {
        poolId: p.poolId,
        member: ctx.sender,
        earned: '0',
        answers: 0,
        addedAt: ctx.height,
      });
      writePool(ctx.state, {
        ...pool,
        members: pool.members + 1,
        invitations: pool.invitations - 1,
      });
      ctx.emit('pool.memberJoined', { poolId: p.poolId, member: ctx.sender });
      return undefined;
    },
  }),

  'pool.leave': defineTxOf(poolPayloads['pool.leave'], {
    execute: (ctx, p): PoolRejection | undefined => {
      const pool = readPool(ctx.state, p.poolId);
      if (!pool) return 'pool_not_found';
      return dropMembership(ctx, pool, ctx.sender, 'pool.memberLeft');
    },
  }),

  'mentorship.start': defineTxOf(poolPayloads['mentorship.start'], {
    check: (p) => {
      if (p.mentor === p.apprentice) return reject('mentor_is_apprentice', 'apprentice');
      if (p.stipend * BigInt(p.periods) > minorUnitsMax)
        return reject('invalid_stipend', 'stipend');
      return undefined;
    },
    execute: (ctx, p): PoolRejection | undefined => {
      const pool = readPool(ctx.state, p.poolId);
      if (!pool) return 'pool_not_found';
      if (!isManager(ctx, pool)) return 'not_pool_manager';
      // The escrow cannot pay itself: such a mentorship could never pay nor end.
      if (p.apprentice === pool.escrow) return 'invalid_address';
      if (readMentorship(ctx.state, p.mentorshipId)) return 'mentorship_exists';
      if (pool.mentorships >= mentorshipsPerPoolMax) return 'mentorship_limit_reached';
      const total = p.stipend * BigInt(p.periods);
      if (poolAvailable(pool) < total) return 'pool_underfunded';
      writeMentorship(ctx.state, {
        mentorshipId: p.mentorshipId,
        poolId: p.poolId,
        mentor: p.mentor,
        apprentice: p.apprentice,
        stipend: p.stipend.toString(),
        periodBlocks: p.periodBlocks,
        periods: p.periods,
        startHeight: ctx.height,
        startedAt: ctx.time,
        claimed: 0,
        paid: '0',
        held: '0',
        status: 'active',
        tx: ctx.txHash,
      });
      writePool(ctx.state, {
        ...pool,
        reserved: (big(pool.reserved) + total).toString(),
        mentorships: pool.mentorships + 1,
      });
      ctx.emit('mentorship.started', {
        mentorshipId: p.mentorshipId,
        poolId: p.poolId,
        mentor: p.mentor,
        apprentice: p.apprentice,
        asset: pool.asset,
        stipend: p.stipend.toString(),
        periodBlocks: p.periodBlocks,
        periods: p.periods,
        reserved: total.toString(),
      });
      return undefined;
    },
  }),

  'mentorship.claim': defineTxOf(poolPayloads['mentorship.claim'], {
    execute: (ctx, p): string | undefined => {
      const mentorship = readMentorship(ctx.state, p.mentorshipId);
      if (!mentorship) return 'mentorship_not_found';
      const pool = readPool(ctx.state, mentorship.poolId);
      // A mentorship's pool is never deleted.
      if (!pool) return 'pool_not_found';
      if (mentorship.status !== 'active') {
        if (big(mentorship.held) === 0n) return 'mentorship_not_active';
        if (payoutFrozen(ctx, pool, mentorship.apprentice)) return 'account_frozen';
        return payHeld(ctx, pool, mentorship);
      }
      const due = duePeriods(mentorship, ctx.height);
      if (due === 0) return 'stipend_not_due';
      if (payoutFrozen(ctx, pool, mentorship.apprentice)) return 'account_frozen';
      return settle(ctx, pool, mentorship, due, 'active');
    },
  }),

  'mentorship.end': defineTxOf(poolPayloads['mentorship.end'], {
    execute: (ctx, p): string | undefined => {
      const mentorship = readMentorship(ctx.state, p.mentorshipId);
      if (!mentorship) return 'mentorship_not_found';
      const pool = readPool(ctx.state, mentorship.poolId);
      if (!pool) return 'pool_not_found';
      if (ctx.sender !== mentorship.mentor && ctx.sender !== pool.manager) {
        return 'not_mentor_or_manager';
      }
      if (mentorship.status !== 'active') return 'mentorship_not_active';
      return settle(ctx, pool, mentorship, duePeriods(mentorship, ctx.height), 'ended');
    },
  }),
};

/**
 * Ends `address`'s membership of the pool, or its pending invitation (the manager's
 * pool.removeMember, the address's own pool.leave); `pool_member_not_found` when it has neither.
 */
function dropMembership(
  ctx: TxContext,
  pool: PoolRecord,
  address: string,
  event: 'pool.memberRemoved' | 'pool.memberLeft',
): PoolRejection | undefined {
  const data = { poolId: pool.poolId, member: address, by: ctx.sender };
  if (readMember(ctx.state, pool.poolId, address)) {
    deleteMember(ctx.state, pool.poolId, address);
    writePool(ctx.state, { ...pool, members: pool.members - 1 });
    ctx.emit(event, { ...data, invitation: false });
    return undefined;
  }
  if (readInvitation(ctx.state, pool.poolId, address)) {
    deleteInvitation(ctx.state, pool.poolId, address);
    writePool(ctx.state, { ...pool, invitations: pool.invitations - 1 });
    ctx.emit(event, { ...data, invitation: true });
    return undefined;
  }
  return 'pool_member_not_found';
}

/**
 * Settles `due` periods' stipends (one transfer: the work is the same for 1 period or 52) and,
 * when `ending` or when the last period is paid, closes the mentorship and releases what it still
 * reserved for periods that never fell due. The caller refuses a claim while a payout would meet
 * a frozen account; an ending never fails on one: the due stipends are then held for the
 * apprentice (still reserved) and the mentorship ends anyway.
 */
function settle(
  ctx: TxContext,
  pool: PoolRecord,
  mentorship: MentorshipRecord,
  due: number,
  next: 'active' | 'ended',
): string | undefined {
  const stipend = big(mentorship.stipend);
  const amount = stipend * BigInt(due);
  const hold = amount > 0n && next === 'ended' && payoutFrozen(ctx, pool, mentorship.apprentice);
  const paidNow = hold ? 0n : amount;
  const heldNow = hold ? amount : 0n;
  if (paidNow > 0n) {
    const moved = ctx.ledger.transfer(pool.escrow, mentorship.apprentice, pool.asset, paidNow);
    if (moved) return moved;
    addToRecipient(
      ctx.state,
      pool.poolId,
      mentorship.apprentice,
      { stipends: paidNow },
      ctx.height,
    );
  }
  const claimed = mentorship.claimed + due;
  const status =
    next === 'ended' ? 'ended' : claimed === mentorship.periods ? 'completed' : 'active';
  // On ending, the periods that never fell due go back to the pool's unreserved funds.
  const released = status === 'ended' ? stipend * BigInt(mentorship.periods - claimed) : 0n;
  const paid = big(mentorship.paid) + paidNow;
  const held = big(mentorship.held) + heldNow;
  writeMentorship(ctx.state, {
    ...mentorship,
    claimed,
    paid: paid.toString(),
    held: held.toString(),
    status,
    ...(status === 'ended' ? { endedHeight: ctx.height, endedBy: ctx.sender } : {}),
  });
  writePool(ctx.state, {
    ...pool,
    paidStipends: (big(pool.paidStipends) + paidNow).toString(),
    // What is held stays reserved: it is the apprentice's, not the pool's to spend.
    reserved: (big(pool.reserved) - paidNow - released).toString(),
    mentorships: pool.mentorships - (status === 'active' ? 0 : 1),
  });
  const about = {
    mentorshipId: mentorship.mentorshipId,
    poolId: mentorship.poolId,
    apprentice: mentorship.apprentice,
    asset: pool.asset,
    periods: due,
  };
  if (paidNow > 0n) {
    ctx.emit('mentorship.claimed', { ...about, amount: paidNow.toString(), claimed });
  }
  if (heldNow > 0n) {
    ctx.emit('mentorship.held', { ...about, amount: heldNow.toString(), reason: 'account_frozen' });
  }
  if (status !== 'active') {
    ctx.emit(status === 'ended' ? 'mentorship.ended' : 'mentorship.completed', {
      mentorshipId: mentorship.mentorshipId,
      poolId: mentorship.poolId,
      by: ctx.sender,
      claimed,
      paid: paid.toString(),
      held: held.toString(),
      released: released.toString(),
    });
  }
  return undefined;
}

/** Pays an ended mentorship's held stipends to its apprentice (the caller checked frozen). */
function payHeld(
  ctx: TxContext,
  pool: PoolRecord,
  mentorship: MentorshipRecord,
): string | undefined {
  const amount = big(mentorship.held);
  const moved = ctx.ledger.transfer(pool.escrow, mentorship.apprentice, pool.asset, amount);
  if (moved) return moved;
  addToRecipient(ctx.state, pool.poolId, mentorship.apprentice, { stipends: amount }, ctx.height);
  const paid = big(mentorship.paid) + amount;
  writeMentorship(ctx.state, { ...mentorship, paid: paid.toString(), held: '0' });
  writePool(ctx.state, {
    ...pool,
    paidStipends: (big(pool.paidStipends) + amount).toString(),
    reserved: (big(pool.reserved) - amount).toString(),
  });
  ctx.emit('mentorship.heldPaid', {
    mentorshipId: mentorship.mentorshipId,
    poolId: mentorship.poolId,
    apprentice: mentorship.apprentice,
    asset: pool.asset,
    amount: amount.toString(),
    paid: paid.toString(),
  });
  return undefined;
}

/** An answer accepted by an award or a close: what the pool payout needs of it. */
export interface AcceptedAnswer {
  subject: string;
  author: string;
  questionId: string;
  answerId: string;
  /** The question's reward asset: only a pool in the same asset pays. */
  asset: string;
  /**
   * This answer's own part of the reward (minor units, > 0; not the whole reward): a pool pays
   * only from its `minReward` up, so one large reward split into crumbs pays no pool per crumb.
   */
  amount: bigint;
}

/**
 * Pays an accepted answer's author from each pool it joined whose asset is the question's reward
 * asset and whose subject covers the question's (a pool without a subject covers all),
 * `perAcceptedAnswer` each, capped by the pool's `perMemberMax` less what the pool paid this
 * address for answers ever (the recipient aggregate: leaving and rejoining does not reset it).
 * Called by `question.award` and `question.close` in the same tx, once per accepted answer (a
 * best answer paid a part > 0). Never refuses: a pool pays nothing (all or nothing, event
 * `pool.payoutSkipped` with the reason) when the answer's own part of the reward is below its
 * `minReward`, its unreserved funds fall short, or the member or its escrow is frozen in the
 * asset (checked before the transfer), and the award goes on. The work is bounded: a member is
 * in at most `poolsPerMemberMax` pools, each visited once, in poolId order.
 */
export function payAcceptedAnswer(ctx: TxContext, accepted: AcceptedAnswer): PoolPayout[] {
  const payouts: PoolPayout[] = [];
  for (const poolId of poolsOfMember(ctx.state, accepted.author, poolsPerMemberMax)) {
    const pool = readPool(ctx.state, poolId);
    const member = readMember(ctx.state, poolId, accepted.author);
    if (!pool || !member) continue;
    // A question in another asset (a junk asset its asker minted) is not this pool's business.
    if (pool.asset !== accepted.asset) continue;
    if (pool.subject !== undefined && !withinSubject(accepted.subject, pool.subject)) continue;
    const earnedEver = big(readRecipient(ctx.state, poolId, accepted.author)?.paidAnswers ?? '0');
    const left = big(pool.perMemberMax) - earnedEver;
    let amount = big(pool.perAcceptedAnswer);
    if (left < amount) amount = left > 0n ? left : 0n;
    if (amount === 0n) continue;
    const skipped = (reason: string) =>
      ctx.emit('pool.payoutSkipped', {
        poolId,
        member: accepted.author,
        questionId: accepted.questionId,
        answerId: accepted.answerId,
        amount: amount.toString(),
        reason,
      });
    if (accepted.amount < big(pool.minReward)) {
      skipped('reward_below_min');
      continue;
    }
    if (poolAvailable(pool) < amount) {
      skipped('pool_underfunded');
      continue;
    }
    if (payoutFrozen(ctx, pool, accepted.author)) {
      skipped('account_frozen');
      continue;
    }
    const moved = ctx.ledger.transfer(pool.escrow, accepted.author, pool.asset, amount);
    if (moved) {
      // Another refusal of the ledger (none is known once the checks above passed): the award
      // still stands. The transfer refuses before it writes anything.
      skipped(moved);
      continue;
    }
    writePool(ctx.state, {
      ...pool,
      paidAnswers: (big(pool.paidAnswers) + amount).toString(),
      answersPaid: pool.answersPaid + 1,
    });
    writeMember(ctx.state, {
      ...member,
      earned: (big(member.earned) + amount).toString(),
      answers: member.answers + 1,
    });
    addToRecipient(ctx.state, poolId, accepted.author, { answer: amount }, ctx.height);
    ctx.emit('pool.paid', {
      poolId,
      member: accepted.author,
      questionId: accepted.questionId,
      answerId: accepted.answerId,
      asset: pool.asset,
      amount: amount.toString(),
    });
    payouts.push({ poolId, asset: pool.asset, amount: amount.toString() });
  }
  return payouts;
}
