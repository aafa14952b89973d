import { defineTxOf, reject, type TxContext, type TxDefinition } from '../../chain/index.js';
import { minorUnitsMax } from '../../protocol/schema.js';
import {
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
  deleteMember,
  duePeriods,
  poolAvailable,
  poolEscrow,
  poolsOfManager,
  poolsOfMember,
  readDonor,
  readMember,
  readMentorship,
  readPool,
  writeDonor,
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
 * funds), then the ledger's own checks as money moves. A rejection restores the state the tx found.
 *
 * Money: a pool's escrow (`poolEscrow`) receives every funding and pays every payout, so it holds
 * `funded - paidAnswers - paidStipends`; a mentorship reserves `stipend x periods` when it starts
 * (refused unless the unreserved funds cover it), so a stipend, once promised, is always there,
 * and an accepted answer is paid only from what no mentorship reserved. Nothing pays past zero.
 *
 * Who may do what, thinking of an outsider with a fresh key: it may create pools (16 per manager,
 * each a bounded record), fund any pool once it has funds (one aggregate record per donor and
 * pool), leave a pool it was made a member of, and claim a mentorship's due stipends (they go to
 * the apprentice, never to the sender). It cannot add members to another's pool, start or end
 * another's mentorships, or make a payout happen (only an award or close of a question does,
 * txs.ts). A member is in at most 8 pools, so the payout an award triggers visits at most 8.
 *
 * Trust: donors trust the manager, who chooses the members and the mentorships. A member who asks
 * questions from a second key and awards itself is paid by the pool for each; `perMemberMax`
 * bounds what one member can take that way, and the manager removes it.
 */

const big = (text: string): bigint => BigInt(text);

function isManager(ctx: TxContext, pool: PoolRecord): boolean {
  return pool.manager === ctx.sender;
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
      const cohort = p.cohort ?? [];
      for (const member of cohort) {
        if (poolsOfMember(ctx.state, member, poolsPerMemberMax).length >= poolsPerMemberMax) {
          return 'member_pool_limit_reached';
        }
      }
      const escrow = poolEscrow(p.poolId);
      writePool(ctx.state, {
        poolId: p.poolId,
        manager: ctx.sender,
        asset: p.asset,
        ...(p.subject === undefined ? {} : { subject: p.subject }),
        escrow,
        perAcceptedAnswer: p.perAcceptedAnswer,
        ...(p.perMemberMax === undefined ? {} : { perMemberMax: p.perMemberMax }),
        funded: '0',
        paidAnswers: '0',
        paidStipends: '0',
        reserved: '0',
        answersPaid: 0,
        donors: 0,
        members: cohort.length,
        mentorships: 0,
        createdAt: ctx.time,
        height: ctx.height,
        tx: ctx.txHash,
      });
      for (const member of cohort) {
        writeMember(ctx.state, {
          poolId: p.poolId,
          member,
          earned: '0',
          answers: 0,
          addedAt: ctx.height,
        });
      }
      ctx.emit('pool.created', {
        poolId: p.poolId,
        manager: ctx.sender,
        asset: p.asset,
        subject: p.subject ?? null,
        escrow,
        perAcceptedAnswer: p.perAcceptedAnswer,
        perMemberMax: p.perMemberMax ?? null,
        cohort,
      });
      return undefined;
    },
  }),

  'pool.fund': defineTxOf(poolPayloads['pool.fund'], {
    execute: (ctx, p): string | undefined => {
      const pool = readPool(ctx.state, p.poolId);
      if (!pool) return 'pool_not_found';
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
      if (pool.members >= membersPerPoolMax) return 'pool_full';
      if (poolsOfMember(ctx.state, p.member, poolsPerMemberMax).length >= poolsPerMemberMax) {
        return 'member_pool_limit_reached';
      }
      writeMember(ctx.state, {
        poolId: p.poolId,
        member: p.member,
        earned: '0',
        answers: 0,
        addedAt: ctx.height,
      });
      writePool(ctx.state, { ...pool, members: pool.members + 1 });
      ctx.emit('pool.memberAdded', { poolId: p.poolId, member: p.member });
      return undefined;
    },
  }),

  'pool.removeMember': defineTxOf(poolPayloads['pool.removeMember'], {
    execute: (ctx, p): PoolRejection | undefined => {
      const pool = readPool(ctx.state, p.poolId);
      if (!pool) return 'pool_not_found';
      // A member may leave: pools it never asked to join cannot hold its slots.
      if (!isManager(ctx, pool) && ctx.sender !== p.member) return 'not_pool_manager_or_member';
      if (!readMember(ctx.state, p.poolId, p.member)) return 'pool_member_not_found';
      deleteMember(ctx.state, p.poolId, p.member);
      writePool(ctx.state, { ...pool, members: pool.members - 1 });
      ctx.emit('pool.memberRemoved', { poolId: p.poolId, member: p.member, by: ctx.sender });
      return undefined;
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
      if (mentorship.status !== 'active') return 'mentorship_not_active';
      const due = duePeriods(mentorship, ctx.height);
      if (due === 0) return 'stipend_not_due';
      return settle(ctx, mentorship, due, 'active');
    },
  }),

  'mentorship.end': defineTxOf(poolPayloads['mentorship.end'], {
    execute: (ctx, p): string | undefined => {
      const mentorship = readMentorship(ctx.state, p.mentorshipId);
      if (!mentorship) return 'mentorship_not_found';
      const pool = readPool(ctx.state, mentorship.poolId);
      if (ctx.sender !== mentorship.mentor && ctx.sender !== pool?.manager) {
        return 'not_mentor_or_manager';
      }
      if (mentorship.status !== 'active') return 'mentorship_not_active';
      return settle(ctx, mentorship, duePeriods(mentorship, ctx.height), 'ended');
    },
  }),
};

/**
 * Pays the apprentice `due` periods' stipends from the pool's escrow (one transfer: the work is
 * the same for 1 period or 52) and, when `ending` or when the last period is paid, closes the
 * mentorship and releases what it still reserved.
 */
function settle(
  ctx: TxContext,
  mentorship: MentorshipRecord,
  due: number,
  next: 'active' | 'ended',
): string | undefined {
  const pool = readPool(ctx.state, mentorship.poolId);
  // A mentorship's pool is never deleted.
  if (!pool) return 'pool_not_found';
  const stipend = big(mentorship.stipend);
  const amount = stipend * BigInt(due);
  if (amount > 0n) {
    const moved = ctx.ledger.transfer(pool.escrow, mentorship.apprentice, pool.asset, amount);
    if (moved) return moved;
    addToRecipient(ctx.state, pool.poolId, mentorship.apprentice, { stipends: amount }, ctx.height);
  }
  const claimed = mentorship.claimed + due;
  const status =
    next === 'ended' ? 'ended' : claimed === mentorship.periods ? 'completed' : 'active';
  // On ending, the periods never paid go back to the pool's unreserved funds.
  const released = status === 'ended' ? stipend * BigInt(mentorship.periods - claimed) : 0n;
  const paid = big(mentorship.paid) + amount;
  writeMentorship(ctx.state, {
    ...mentorship,
    claimed,
    paid: paid.toString(),
    status,
    ...(status === 'ended' ? { endedHeight: ctx.height, endedBy: ctx.sender } : {}),
  });
  writePool(ctx.state, {
    ...pool,
    paidStipends: (big(pool.paidStipends) + amount).toString(),
    reserved: (big(pool.reserved) - amount - released).toString(),
    mentorships: pool.mentorships - (status === 'active' ? 0 : 1),
  });
  if (amount > 0n) {
    ctx.emit('mentorship.claimed', {
      mentorshipId: mentorship.mentorshipId,
      poolId: mentorship.poolId,
      apprentice: mentorship.apprentice,
      asset: pool.asset,
      periods: due,
      amount: amount.toString(),
      claimed,
    });
  }
  if (status !== 'active') {
    ctx.emit(status === 'ended' ? 'mentorship.ended' : 'mentorship.completed', {
      mentorshipId: mentorship.mentorshipId,
      poolId: mentorship.poolId,
      by: ctx.sender,
      claimed,
      paid: paid.toString(),
      released: released.toString(),
    });
  }
  return undefined;
}

/** An answer accepted by an award or a close: what the pool payout needs of it. */
export interface AcceptedAnswer {
  subject: string;
  author: string;
  questionId: string;
  answerId: string;
}

/**
 * Pays an accepted answer's author from each pool it is a member of whose subject covers the
 * question's (a pool without a subject covers all), `perAcceptedAnswer` each (capped by the pool's
 * `perMemberMax` less what the member earned). Called by `question.award` and `question.close` in
 * the same tx, once per accepted answer. Never refuses: a pool whose unreserved funds fall short
 * pays nothing (all or nothing, event `pool.payoutSkipped`) and the award goes on. The work is
 * bounded: a member is in at most `poolsPerMemberMax` pools, each visited once, in poolId order.
 */
export function payAcceptedAnswer(ctx: TxContext, accepted: AcceptedAnswer): PoolPayout[] {
  const payouts: PoolPayout[] = [];
  for (const poolId of poolsOfMember(ctx.state, accepted.author, poolsPerMemberMax)) {
    const pool = readPool(ctx.state, poolId);
    const member = readMember(ctx.state, poolId, accepted.author);
    if (!pool || !member) continue;
    if (pool.subject !== undefined && !withinSubject(accepted.subject, pool.subject)) continue;
    let amount = big(pool.perAcceptedAnswer);
    if (pool.perMemberMax !== undefined) {
      const left = big(pool.perMemberMax) - big(member.earned);
      if (left < amount) amount = left > 0n ? left : 0n;
    }
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
    if (poolAvailable(pool) < amount) {
      skipped('pool_underfunded');
      continue;
    }
    const moved = ctx.ledger.transfer(pool.escrow, accepted.author, pool.asset, amount);
    if (moved) {
      // The ledger refused (a frozen asset or account): the award still stands.
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
