import { z } from 'zod';
import { assetSymbolPattern } from '../../protocol/ledger.js';
import { coded, wire } from '../../protocol/schema.js';
import { subjectIdPattern } from './subjects.js';

/*
 * Scholarship pools and mentorships (issue 22), the wire contract: tx payloads whose fields carry
 * their rejection codes, the records the routes answer, the limits, the rejections and their HTTP
 * statuses. Pure (zod and src/protocol), so the SDK and the console load it.
 *
 * Words: a *pool* is money donors gave for a subject (or for a cohort), held in the pool's escrow
 * account and run by its *manager* (its creator). Its *members* are the students it backs: the
 * manager *invites* an address (pool.addMember, or the cohort of pool.create) and the address
 * *joins* (pool.join) if it wants to: nobody is made a member without its consent. When an answer
 * by a member in the pool's subject is accepted (awarded, or auto-awarded at close) on a question
 * whose reward is in the pool's asset, with a part of that reward of at least the pool's
 * `minReward` paid to that answer itself, the pool pays the member `perAcceptedAnswer` in the same
 * tx, up to `perMemberMax` per address, ever. A donor may name the manager it means to fund
 * (`pool.fund {manager}`): a pool id is whoever created it first, so that binds the funding. A
 * *mentorship* pairs a mentor and an apprentice with a *stipend* paid to the apprentice every
 * `periodBlocks` blocks for `periods` periods, from money the pool *reserves* when the mentorship
 * starts; stipends that fell due but could not be paid when it ended (a frozen account) are
 * *held* for the apprentice. A *donor statement* is the aggregate of one donor's fundings of one
 * pool (one record per donor, never one per funding).
 */

// ---- limits --------------------------------------------------------------------------------------

/** Pools one manager creates, ever: each is a record and an escrow account. */
export const poolsPerManagerMax = 16;
/** Members of one pool at a time (joined members; invitations are counted apart). */
export const membersPerPoolMax = 64;
/**
 * Pending invitations of one pool (the cohort of pool.create counts): each is a record, and the
 * pool view lists them all.
 */
export const invitationsPerPoolMax = 256;
/**
 * Pools one address is a member of at a time: the payout of an accepted answer visits each of
 * them, so this bounds the work an award adds. Only pools the address joined take a slot (an
 * invitation takes none), so a stranger's pools cannot crowd the slots.
 */
export const poolsPerMemberMax = 8;
/** Active mentorships of one pool: each one reserves money and lists in the pool's view. */
export const mentorshipsPerPoolMax = 64;
/** Stipend periods of one mentorship (a year of weeks). */
export const periodsMax = 52;
/** Blocks in one stipend period, at most (about a year at one block a second). */
export const periodBlocksMax = 31_536_000;
/** Donors one statement page lists at most. */
export const statementPageMax = 100;

export const poolIdPattern = /^[a-z0-9][a-z0-9-]{0,62}$/;

// ---- rejections ----------------------------------------------------------------------------------

/**
 * Rejections of the pool and mentorship txs, with the sentence a person reads. Codes shared with
 * the ledger (`invalid_address`, `invalid_amount`, `asset_not_found`, `insufficient_funds`,
 * `account_frozen`) keep the ledger's messages.
 */
export const poolRejections = {
  invalid_pool_id:
    'A poolId is 1 to 63 characters: a-z, 0-9 and "-", starting with a letter or digit.',
  invalid_pool_subject: 'subject must be a subject id such as math or math.algebra.',
  pool_subject_unknown: 'The subject is not in the scholarship taxonomy.',
  invalid_cohort: `cohort must be at most ${membersPerPoolMax} distinct addresses.`,
  invalid_per_accepted_answer:
    'perAcceptedAnswer must be a whole number of minor units (0: the pool pays stipends only).',
  invalid_per_member_max:
    'perMemberMax is required: a positive whole number of minor units (the most one address earns from the pool for answers, ever).',
  invalid_min_reward:
    "minReward must be a positive whole number of minor units (the least part of a question's reward, in the pool's asset, an accepted answer must be paid itself for the pool to pay it).",
  invalid_mentorship_id:
    'A mentorshipId is 1 to 63 characters: a-z, 0-9 and "-", starting with a letter or digit.',
  invalid_stipend: `stipend must be a positive whole number of minor units, and stipend x periods at most 2^127 - 1.`,
  invalid_period_blocks: `periodBlocks must be a whole number of blocks from 1 to ${periodBlocksMax}.`,
  invalid_periods: `periods must be a whole number from 1 to ${periodsMax}.`,
  pool_exists: 'A pool with this id exists already (pool ids are never reused).',
  pool_not_found: 'No pool has this id.',
  pool_manager_mismatch:
    'The pool with this id is managed by another address than the manager named: check the pool id (pool ids go to whoever creates them first).',
  pool_limit_reached: `The manager has created ${poolsPerManagerMax} pools already.`,
  not_pool_manager: "Only the pool's manager may do this.",
  pool_member_exists: 'The address is a member of this pool already.',
  pool_member_not_found: 'The address is neither a member of this pool nor invited to it.',
  pool_invitation_exists: 'The address is invited to this pool already.',
  not_invited: 'Only an address the manager invited may join this pool.',
  invitations_full: `The pool has ${invitationsPerPoolMax} pending invitations already.`,
  pool_full: `The pool has ${membersPerPoolMax} members already.`,
  member_pool_limit_reached: `The address is a member of ${poolsPerMemberMax} pools already (it may leave one).`,
  pool_underfunded:
    "The pool's unreserved funds do not cover the mentorship's stipends (stipend x periods).",
  mentorship_exists: 'A mentorship with this id exists already (ids are never reused).',
  mentorship_not_found: 'No mentorship has this id.',
  mentorship_limit_reached: `The pool has ${mentorshipsPerPoolMax} active mentorships already.`,
  mentor_is_apprentice: 'The mentor and the apprentice must be different addresses.',
  mentorship_not_active:
    'The mentorship has ended or is completed, and nothing is held for its apprentice.',
  not_mentor_or_manager: "Only the mentorship's mentor or the pool's manager may end it.",
  stipend_not_due: 'No stipend period has passed since the last claim.',
} as const;

export type PoolRejection =
  | keyof typeof poolRejections
  | 'asset_not_found'
  | 'invalid_address'
  | 'invalid_amount'
  | 'insufficient_funds';

/** HTTP statuses of the pool codes (not listed: 400). */
export const poolHttpStatuses: Readonly<Record<string, number>> = {
  not_pool_manager: 403,
  not_invited: 403,
  not_mentor_or_manager: 403,
  pool_not_found: 404,
  pool_member_not_found: 404,
  mentorship_not_found: 404,
  pool_exists: 409,
  pool_member_exists: 409,
  pool_invitation_exists: 409,
  pool_manager_mismatch: 409,
  mentorship_exists: 409,
  pool_subject_unknown: 422,
  pool_limit_reached: 422,
  invitations_full: 422,
  pool_full: 422,
  member_pool_limit_reached: 422,
  pool_underfunded: 422,
  mentorship_limit_reached: 422,
  mentor_is_apprentice: 422,
  mentorship_not_active: 422,
  stipend_not_due: 422,
};

// ---- field schemas -------------------------------------------------------------------------------

const slug = z.string().regex(poolIdPattern);

export const poolFields = {
  poolId: coded(
    slug.meta({ description: "A pool id: 1 to 63 of a-z, 0-9 and '-', not first; unique" }),
    'invalid_pool_id',
  ),
  asset: coded(z.string().regex(assetSymbolPattern), 'invalid_symbol'),
  subject: coded(
    z.string().regex(subjectIdPattern).meta({ description: 'A subject id, e.g. math.algebra' }),
    'invalid_pool_subject',
  ),
  cohort: coded(
    z
      .array(wire.address)
      .max(membersPerPoolMax)
      .refine((list) => new Set(list).size === list.length, 'duplicate address')
      .meta({ description: 'The first members: at most 64 distinct addresses' }),
    'invalid_cohort',
  ),
  perAcceptedAnswer: coded(wire.minorUnitsText, 'invalid_per_accepted_answer'),
  perMemberMax: coded(
    wire.minorUnitsText.refine((text) => text !== '0', 'not positive'),
    'invalid_per_member_max',
  ),
  minReward: coded(
    wire.minorUnitsText.refine((text) => text !== '0', 'not positive'),
    'invalid_min_reward',
  ),
  amount: coded(wire.positiveAmount, 'invalid_amount'),
  address: coded(wire.address, 'invalid_address'),
  mentorshipId: coded(
    slug.meta({ description: "A mentorship id: 1 to 63 of a-z, 0-9 and '-'; unique" }),
    'invalid_mentorship_id',
  ),
  stipend: coded(wire.positiveAmount, 'invalid_stipend'),
  periodBlocks: coded(z.number().int().min(1).max(periodBlocksMax), 'invalid_period_blocks'),
  periods: coded(z.number().int().min(1).max(periodsMax), 'invalid_periods'),
};

// ---- tx payloads ---------------------------------------------------------------------------------

export const poolPayloads = {
  /** Anyone creates a pool and manages it; `cohort` are invited (each joins with pool.join). */
  'pool.create': z.strictObject({
    poolId: poolFields.poolId,
    asset: poolFields.asset,
    subject: poolFields.subject.optional(),
    cohort: poolFields.cohort.optional(),
    perAcceptedAnswer: poolFields.perAcceptedAnswer,
    /** The most one address earns from the pool's answer payouts, ever (required: the bound on farming). */
    perMemberMax: poolFields.perMemberMax,
    /** The least part of the reward an accepted answer must be paid itself (absent: 1). */
    minReward: poolFields.minReward.optional(),
  }),
  /**
   * Anyone funds a pool in its asset; the donor's statement adds it up. `manager`, when given,
   * must be the pool's manager (`pool_manager_mismatch`): a donor funds the pool it was told of,
   * not one that took its id first.
   */
  'pool.fund': z.strictObject({
    poolId: poolFields.poolId,
    amount: poolFields.amount,
    manager: poolFields.address.optional(),
  }),
  /** The manager invites an address; it becomes a member when it joins (pool.join). */
  'pool.addMember': z.strictObject({ poolId: poolFields.poolId, member: poolFields.address }),
  /** The manager removes a member or withdraws an invitation. */
  'pool.removeMember': z.strictObject({ poolId: poolFields.poolId, member: poolFields.address }),
  /** An invited address accepts: it becomes a member (one of its 8 pool slots). */
  'pool.join': z.strictObject({ poolId: poolFields.poolId }),
  /** A member leaves the pool, or an invited address declines its invitation. */
  'pool.leave': z.strictObject({ poolId: poolFields.poolId }),
  /** The manager starts a mentorship paid from the pool, reserving stipend x periods. */
  'mentorship.start': z.strictObject({
    mentorshipId: poolFields.mentorshipId,
    poolId: poolFields.poolId,
    mentor: poolFields.address,
    apprentice: poolFields.address,
    stipend: poolFields.stipend,
    periodBlocks: poolFields.periodBlocks,
    periods: poolFields.periods,
  }),
  /**
   * Anyone (the apprentice, usually) pays the apprentice the stipends due so far, or, once the
   * mentorship ended, what was held for it.
   */
  'mentorship.claim': z.strictObject({ mentorshipId: poolFields.mentorshipId }),
  /**
   * The mentor or the manager ends it: the due stipends are paid (held for the apprentice when
   * its account or the pool's escrow is frozen), the rest is unreserved.
   */
  'mentorship.end': z.strictObject({ mentorshipId: poolFields.mentorshipId }),
};

export type PoolPayload<T extends keyof typeof poolPayloads> = z.output<(typeof poolPayloads)[T]>;

// ---- records -------------------------------------------------------------------------------------

const amountText = z.string().meta({ description: 'Minor units, decimal' });

export const poolSchema = z.object({
  poolId: z.string(),
  manager: z.string(),
  asset: z.string(),
  /** Absent: the pool pays for accepted answers in any subject. */
  subject: z.string().optional(),
  /** The escrow account holding the pool's money. */
  escrow: z.string(),
  perAcceptedAnswer: amountText,
  /** The most one address earns from the pool's answer payouts, ever. */
  perMemberMax: amountText,
  /**
   * The least part of a question's reward (in the pool's asset) an accepted answer must be paid
   * itself for the pool to pay it.
   */
  minReward: amountText,
  /** All fundings, ever. */
  funded: amountText,
  /** Paid for accepted answers, ever. */
  paidAnswers: amountText,
  /** Paid in stipends, ever. */
  paidStipends: amountText,
  /**
   * Owed to active mentorships' future periods and held for apprentices of ended ones: not
   * available to answers.
   */
  reserved: amountText,
  answersPaid: z.number().int(),
  donors: z.number().int(),
  /** Joined members. */
  members: z.number().int(),
  /** Pending invitations. */
  invitations: z.number().int(),
  mentorships: z.number().int(),
  createdAt: z.number().int(),
  height: z.number().int(),
  tx: z.string(),
});
export type PoolRecord = z.infer<typeof poolSchema>;

export const memberSchema = z.object({
  poolId: z.string(),
  member: z.string(),
  /** Earned from accepted answers since it joined. */
  earned: amountText,
  answers: z.number().int(),
  /** The height it joined at. */
  addedAt: z.number().int(),
});
export type MemberRecord = z.infer<typeof memberSchema>;

/** An address the manager invited and that has not joined (nor declined) yet. */
export const invitationSchema = z.object({
  poolId: z.string(),
  member: z.string(),
  invitedAt: z.number().int(),
});
export type InvitationRecord = z.infer<typeof invitationSchema>;

export const donorSchema = z.object({
  poolId: z.string(),
  donor: z.string(),
  funded: amountText,
  fundings: z.number().int(),
  firstHeight: z.number().int(),
  lastHeight: z.number().int(),
});
export type DonorRecord = z.infer<typeof donorSchema>;

export const mentorshipStatuses = ['active', 'completed', 'ended'] as const;

export const mentorshipSchema = z.object({
  mentorshipId: z.string(),
  poolId: z.string(),
  mentor: z.string(),
  apprentice: z.string(),
  stipend: amountText,
  periodBlocks: z.number().int(),
  periods: z.number().int(),
  startHeight: z.number().int(),
  startedAt: z.number().int(),
  /** Periods settled: paid, or held when it ended. */
  claimed: z.number().int(),
  paid: amountText,
  /**
   * Stipends that fell due but could not be paid when it ended (the apprentice's account or the
   * pool's escrow was frozen): still reserved in the pool, paid by mentorship.claim.
   */
  held: amountText,
  status: z.enum(mentorshipStatuses),
  endedHeight: z.number().int().optional(),
  endedBy: z.string().optional(),
  tx: z.string(),
});
export type MentorshipRecord = z.infer<typeof mentorshipSchema>;

/**
 * What a pool paid one recipient, ever: accepted answers (as a member) and stipends (as an
 * apprentice). One aggregate per recipient, so a donor sees to whom the money went.
 */
export const recipientSchema = z.object({
  poolId: z.string(),
  recipient: z.string(),
  answers: z.number().int(),
  paidAnswers: amountText,
  paidStipends: amountText,
  lastHeight: z.number().int(),
});
export type RecipientRecord = z.infer<typeof recipientSchema>;

export const poolRecipientsSchema = z.object({
  poolId: z.string(),
  asset: z.string(),
  /** One aggregate per recipient, in address order. */
  recipientList: z.array(recipientSchema),
  next: z.string().nullable(),
});
export type PoolRecipients = z.infer<typeof poolRecipientsSchema>;

/** What a payout of an accepted answer paid from one pool. */
export interface PoolPayout {
  poolId: string;
  asset: string;
  amount: string;
}

// ---- views ---------------------------------------------------------------------------------------

export const poolViewSchema = poolSchema.extend({
  /** funded - paid: what the escrow holds for the pool. */
  balance: amountText,
  /** balance - reserved: what accepted answers and new mentorships may use. */
  available: amountText,
  memberList: z.array(memberSchema),
  /** Pending invitations, in address order (at most 256). */
  invitationList: z.array(invitationSchema),
  activeMentorships: z.array(z.string()),
});
export type PoolView = z.infer<typeof poolViewSchema>;

export const poolStatementSchema = z.object({
  poolId: z.string(),
  asset: z.string(),
  funded: amountText,
  paidAnswers: amountText,
  paidStipends: amountText,
  reserved: amountText,
  balance: amountText,
  donors: z.number().int(),
  /** One aggregate per donor, in address order. */
  donorList: z.array(
    donorSchema.extend({
      /**
       * The donor's pro-rata part of what the pool paid: paid x funded(donor) / funded, rounded
       * down (an attribution for the statement, not an account).
       */
      attributedPaid: amountText,
    }),
  ),
  next: z.string().nullable(),
});
export type PoolStatement = z.infer<typeof poolStatementSchema>;

export const mentorshipViewSchema = mentorshipSchema.extend({
  /** Periods due and not claimed at `height`. */
  duePeriods: z.number().int(),
  dueAmount: amountText,
  height: z.number().int(),
});
export type MentorshipView = z.infer<typeof mentorshipViewSchema>;
