import { z } from 'zod';
import { wire } from '../../protocol/schema.js';

/*
 * The records the `/v1/timebanks` routes answer, as zod schemas with their types: the routes'
 * response schemas (so an answer serializes through them and nothing unlisted leaks), the SDK's
 * types and, under their state names (state.ts), what the module stores. Part of the wire
 * contract: schema.ts exports them all.
 */

const minutesRecord = z
  .string()
  .regex(/^-?(0|[1-9][0-9]*)$/)
  .meta({ description: 'Whole minutes as a decimal string' });
const time = wire.time.meta({ description: 'Unix milliseconds' });
const number = wire.count;

/** Demurrage terms a lot carries for life. */
export const demurrageTermsSchema = z.strictObject({
  ratePerPeriodBasisPoints: number,
  periodDays: number,
});

/** A policy as a bank record holds it: an expiry policy always says its `noticeDays`. */
export const timebankPolicyRecordSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('none') }),
  z.strictObject({ kind: z.literal('expiry'), expiryDays: number, noticeDays: number }),
  z.strictObject({
    kind: z.literal('demurrage'),
    ratePerPeriodBasisPoints: number,
    periodDays: number,
  }),
]);

/** `GET /v1/timebanks/{id}`. Minutes are decimal strings; times Unix ms. */
export const timebankSchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  /** Sorted accounts that issue credits, approve members and change coordinators. */
  coordinators: z.array(z.string()),
  /** Applies to lots created from now on; a lot keeps the terms it was created under. */
  policy: timebankPolicyRecordSchema,
  /** How far below zero a member may go, in minutes. */
  creditLimitMinutes: minutesRecord,
  /** Salt of the members' identifier hashes (`hashUserId`): the hash of the creating tx. */
  salt: z.string(),
  createdAt: time,
  createdAtHeight: number,
  /** Minutes ever issued by coordinators. */
  issuedMinutes: minutesRecord,
  /** Minutes lapsed at expiry or taken by demurrage. */
  poolMinutes: minutesRecord,
  /**
   * Sum of the members' debts. Invariant:
   * sum of lots + pool - debts = issued + allianceIn - allianceOut.
   */
  debtMinutes: minutesRecord,
  /** Minutes received from, and sent to, allied banks (`timecredits.transferAcross`). */
  allianceInMinutes: minutesRecord,
  allianceOutMinutes: minutesRecord,
  nextLotNumber: number,
  nextExchangeNumber: number,
  nextListingNumber: number,
  memberCount: number,
});

export const memberStatusSchema = z.enum(['pending', 'approved']);

/** `GET /v1/timebanks/{id}/members/{account}`. */
export const timebankMemberSchema = z.strictObject({
  account: z.string(),
  /** SHA-256 of the bank's salt and the user identifier (`hashUserId`); never the identifier. */
  userIdHash: z.string(),
  status: memberStatusSchema,
  joinedAt: time,
  /** Lot numbers held, in spending order (earliest expiry, then oldest base time). */
  lots: z.array(number),
  /** Sum of the amounts of `lots` (as stored; demurrage is settled when a lot is touched). */
  balanceMinutes: minutesRecord,
  /**
   * Minutes received on credit, within the bank's credit limit: the net balance is
   * `balanceMinutes - debtMinutes`; minutes the member receives repay the debt first.
   */
  debtMinutes: minutesRecord,
  /** Minutes given to others through exchanges (as provider), and received (as recipient). */
  givenMinutes: minutesRecord,
  receivedMinutes: minutesRecord,
  /**
   * Minutes sent and got by direct transfer: `timecredits.payMany` and `transferAcross` (the
   * latter counted in the sender's bank as sent and in the recipient's bank as got).
   */
  sentMinutes: minutesRecord,
  gotMinutes: minutesRecord,
});

/** `GET /v1/timebanks/{id}/lots/{n}`. */
export const timeLotSchema = z.strictObject({
  bankId: z.string(),
  number,
  owner: z.string(),
  /** Minutes left, as of `demurragePeriodsCharged` periods (always positive). */
  amount: minutesRecord,
  /** Block time of the issuance record; kept through transfers and splits. */
  baseTime: time,
  /** The lot lapses at the first block whose time is past it. Null: never. */
  expiresAt: time.nullable(),
  /** When `timecredits.expiring` fires for it; null: never. */
  noticeAt: time.nullable(),
  /** The demurrage terms the lot was created under (null: none); a policy change keeps them. */
  demurrage: demurrageTermsSchema.nullable(),
  demurragePeriodsCharged: number,
  /**
   * Where its minutes came from: `issue:<requestId>`, `credit:<exchange>`,
   * `credit:pay:<tx hash>/<index>` or `alliance:<bank id>/<origin>`. Kept through transfers.
   */
  origin: z.string(),
});

export const exchangeStatusSchema = z.enum(['pending', 'completed']);

/** `GET /v1/timebanks/{id}/exchanges/{n}`. */
export const timeExchangeSchema = z.strictObject({
  bankId: z.string(),
  number,
  provider: z.string(),
  recipient: z.string(),
  minutes: minutesRecord,
  offer: z.string().optional(),
  /** The number of the open listing (offer or request) the exchange answers, if any. */
  listing: number.optional(),
  status: exchangeStatusSchema,
  /** Parties that confirmed; the provider's record is its confirmation. */
  confirmedBy: z.array(z.string()),
  recordedAt: time,
  completedAt: time.optional(),
});

export const listingStatusSchema = z.enum(['open', 'closed']);
export const listingKindSchema = z.enum(['offer', 'request']);

/** `GET /v1/timebanks/{id}/listings/{n}`: an offer of, or a request for, some hours of help. */
export const listingSchema = z.strictObject({
  bankId: z.string(),
  number,
  kind: listingKindSchema,
  owner: z.string(),
  title: z.string(),
  /** A lowercase slug: `^[a-z0-9][a-z0-9-]{0,39}$`. */
  category: z.string(),
  /** The time asked or offered, in minutes. */
  minutes: minutesRecord,
  status: listingStatusSchema,
  postedAt: time,
  closedAt: time.optional(),
});

export const allianceStatusSchema = z.enum(['proposed', 'active', 'ended']);

/**
 * `GET /v1/timebanks/{id}/alliances/{partnerId}`: one record per pair of banks (`banks` sorted).
 * One proposes, the other accepts; either may end it, and either may propose again.
 */
export const allianceSchema = z.strictObject({
  banks: z.tuple([z.string(), z.string()]),
  status: allianceStatusSchema,
  /** The bank that made the latest proposal. */
  proposedBy: z.string(),
  proposedAt: time,
  activeAt: time.optional(),
  endedAt: time.optional(),
});

/** One line of `GET /v1/timebanks`. */
export const timebankSummarySchema = z.strictObject({
  number,
  id: z.string(),
  name: z.string(),
  coordinators: z.array(z.string()),
  policy: timebankPolicyRecordSchema,
  memberCount: number,
  issuedMinutes: minutesRecord,
  createdAt: time,
});

/** `GET /v1/timebanks`: newest first; pass `next` as `before` for the next (older) page. */
export const timebankPageSchema = z.strictObject({
  banks: z.array(timebankSummarySchema),
  next: number.nullable(),
});

/**
 * `GET /v1/timebanks/{id}/listings`, newest first: `next` is the `after` of the next page, null at
 * the end. A page may hold fewer than `limit` listings and still have a `next` (a call scans at
 * most 1,000 numbers).
 */
export const listingPageSchema = z.strictObject({
  listings: z.array(listingSchema),
  next: number.nullable(),
});

/**
 * `GET /v1/timebanks/{id}/members`, in account order: `next` is the `after` of the next page (the
 * last account looked at), null at the end. Filtered by status, a page may hold fewer than `limit`
 * members and still have a `next` (a call looks at most at 1,000 members).
 */
export const memberPageSchema = z.strictObject({
  members: z.array(timebankMemberSchema),
  next: z.string().nullable(),
});

/** One lot of a statement. */
export const statementLotSchema = z.strictObject({
  lot: number,
  origin: z.string(),
  /** Minutes as stored (demurrage charged up to the lot's charged periods). */
  minutes: minutesRecord,
  /** After the demurrage due at the statement's time (floor per lot per period). */
  effectiveMinutes: minutesRecord,
  baseTime: time,
  /** Whole days since the base time, at the statement's time. */
  ageDays: number,
  expiresAt: time.nullable(),
  /** When `timecredits.expiring` fires for the lot (null: never). */
  noticeAt: time.nullable(),
  /** The demurrage terms the lot was created under (null: none). */
  demurrage: demurrageTermsSchema.nullable(),
  /** Past its expiry, waiting for the next block to lapse it: never spendable. */
  expired: z.boolean(),
});

/** `GET /v1/timebanks/{id}/members/{account}/statement`, as of the latest block time. */
export const memberStatementSchema = z.strictObject({
  bankId: z.string(),
  account: z.string(),
  status: memberStatusSchema,
  /** The time the statement is computed at: the latest block time. */
  asOf: time,
  lots: z.array(statementLotSchema),
  balanceMinutes: minutesRecord,
  effectiveBalanceMinutes: minutesRecord,
  debtMinutes: minutesRecord,
  /** Effective balance less debt: below zero while in debt. */
  netMinutes: minutesRecord,
  givenMinutes: minutesRecord,
  receivedMinutes: minutesRecord,
  /** By direct transfer (`payMany`, `transferAcross`). */
  sentMinutes: minutesRecord,
  gotMinutes: minutesRecord,
});

/**
 * `POST /v1/timebanks/{id}/issuance-requests` and `GET .../issuance-requests/{requestId}`:
 * `pending` until the issuance tx is in a block, then `recorded` with where the credits went, or
 * (a lookup only) `failed` with the receipt's `code`: the request may then be posted again.
 * Posting a recorded request again (same member and minutes) answers its record.
 */
export const issuanceRequestResultSchema = z.strictObject({
  requestId: z.string(),
  bankId: z.string().optional(),
  status: z.enum(['pending', 'recorded', 'failed']),
  /** The rejection code of a `failed` request's instruction tx. */
  code: z.string().optional(),
  txHash: z.string(),
  height: wire.height.optional(),
  account: z.string().optional(),
  minutes: minutesRecord.optional(),
  /** The lot created; null when it all went to repay a debt. */
  lot: number.nullable().optional(),
  repaidMinutes: minutesRecord.optional(),
});

/**
 * A refusal of an issuance request: the API's error, with the instruction tx's hash (and its
 * height) when there is one (a duplicate request, a tx the chain refused).
 */
export const issuanceRequestErrorSchema = z.strictObject({
  error: z.strictObject({ code: z.string(), message: z.string(), field: z.string().optional() }),
  txHash: z.string().optional(),
  height: wire.height.optional(),
});

/** The query of `GET /v1/timebanks`. */
export interface TimebankListQuery {
  /** Only the banks this address coordinates. */
  coordinator?: string;
  before?: number;
  /** 1 to 100 (default 20). */
  limit?: number;
}

/** The query of `GET /v1/timebanks/{id}/listings`. */
export interface ListingQuery {
  kind?: ListingKind;
  category?: string;
  status?: ListingStatus;
  /** Listings numbered below this one (the `next` of the previous page): pages go newest first. */
  after?: number;
  /** 1 to 100; the node's default is 20. */
  limit?: number;
}

/** The query of `GET /v1/timebanks/{id}/members` (`client.timebanks.members`). */
export interface MemberListQuery {
  status?: MemberStatus;
  /** Members whose account sorts after this one (the `next` of the previous page). */
  after?: string;
  /** 1 to 100; the node's default is 50. */
  limit?: number;
}

export type TimebankPolicyRecord = z.output<typeof timebankPolicyRecordSchema>;
export type DemurrageTerms = z.output<typeof demurrageTermsSchema>;
export type Timebank = z.output<typeof timebankSchema>;
export type MemberStatus = z.output<typeof memberStatusSchema>;
export type TimebankMember = z.output<typeof timebankMemberSchema>;
export type TimeLot = z.output<typeof timeLotSchema>;
export type ExchangeStatus = z.output<typeof exchangeStatusSchema>;
export type TimeExchange = z.output<typeof timeExchangeSchema>;
export type ListingStatus = z.output<typeof listingStatusSchema>;
export type ListingKind = z.output<typeof listingKindSchema>;
export type Listing = z.output<typeof listingSchema>;
export type AllianceStatus = z.output<typeof allianceStatusSchema>;
export type Alliance = z.output<typeof allianceSchema>;
export type TimebankSummary = z.output<typeof timebankSummarySchema>;
export type TimebankPage = z.output<typeof timebankPageSchema>;
export type ListingPage = z.output<typeof listingPageSchema>;
export type MemberPage = z.output<typeof memberPageSchema>;
export type StatementLot = z.output<typeof statementLotSchema>;
export type MemberStatement = z.output<typeof memberStatementSchema>;
export type IssuanceRequestResult = z.output<typeof issuanceRequestResultSchema>;
