import { z } from 'zod';
import { deriveAddress, isAddress } from '../../crypto/index.js';
import { CryptoInputError } from '../../crypto/errors.js';
import { minorUnitsMax, wire } from '../../protocol/schema.js';

/*
 * The terms of a campaign's wire contract (schema.ts): limits, amounts, the campaign id and
 * escrow, schedule points, the platform fee and the distribution waterfall with its checks and
 * builders. Pure: zod, src/crypto and src/protocol only.
 */

export { minorUnitsMax };

/** The module's name and state namespace; its escrows are derived under `escrow/crowdfund`. */
export const crowdfundModuleName = 'crowdfund';

// ---- limits of a payload (state.ts has the limits of state and work) ---------------------------

/** Accounts allowed to report revenue for one campaign. */
export const reportersMax = 10;
/** Tranches of one distribution rule. */
export const tranchesMax = 8;
/** Recipients of one tranche (investors, the producer and fixed accounts, each at most once). */
export const recipientsPerTrancheMax = 8;
export const titleBytesMax = 120;
export const trancheNameBytesMax = 40;
/** A cap in basis points of principal: at most 100 times the principal. */
export const capPrincipalBasisPointsMax = 1_000_000;
/** 100% in basis points. */
export const basisPointsWhole = 10_000;

// ---- amounts, ids and schedule points ----------------------------------------------------------

/** An amount of minor units as a bigint, or a decimal string of one. */
export type MinorUnits = bigint | string;

export const minorUnitsPattern = /^(0|[1-9][0-9]{0,38})$/;
export const campaignIdPattern = /^[0-9a-f]{16}$/;
const hashPattern = /^[0-9a-f]{64}$/;
export const reportIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

/** True for a decimal string of a positive amount of minor units up to 2^127 - 1. */
export function isPositiveMinorUnits(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    minorUnitsPattern.test(value) &&
    BigInt(value) > 0n &&
    BigInt(value) <= minorUnitsMax
  );
}

/**
 * The decimal string of a positive amount of minor units; a `CryptoInputError` naming `field`.
 * (Generic, not the campaigns' own: it belongs in src/protocol.)
 */
export function minorUnitsText(amount: MinorUnits, field = 'amount'): string {
  const text = typeof amount === 'bigint' ? amount.toString() : amount;
  if (!isPositiveMinorUnits(text)) {
    throw new CryptoInputError(
      field,
      `${field} must be a positive whole number of minor units up to 2^127 - 1, as a bigint or a decimal string such as "7450"`,
    );
  }
  return text;
}

/** True for a campaign id: 16 lowercase hex digits. */
export function isCampaignId(value: unknown): boolean {
  return typeof value === 'string' && campaignIdPattern.test(value);
}

/** True for a revenue report id: 1 to 64 characters A-Z, a-z, 0-9, `-` and `_`. */
export function isReportId(value: unknown): boolean {
  return typeof value === 'string' && reportIdPattern.test(value);
}

/** A campaign's id: the first 16 hex digits of the hash of its `campaign.create` tx. */
export function campaignIdOf(createTxHash: string): string {
  if (typeof createTxHash !== 'string' || !hashPattern.test(createTxHash)) {
    throw new CryptoInputError('createTxHash', 'createTxHash must be 64 lowercase hex digits');
  }
  return createTxHash.slice(0, 16);
}

/** `campaignId` if it is a campaign id, else a `CryptoInputError` naming `field`. */
export function checkCampaignId(campaignId: unknown, field = 'campaignId'): string {
  if (!isCampaignId(campaignId)) {
    throw new CryptoInputError(field, `${field} must be 16 lowercase hex digits`);
  }
  return campaignId as string;
}

/**
 * The campaign's escrow account, which no key controls: it holds the investments until the
 * outcome, and revenue in transit. The ledger's `escrowAddress('crowdfund', id)`, that is
 * `deriveAddress('escrow/crowdfund', id)`.
 */
export function campaignEscrow(campaignId: string): string {
  return deriveAddress(`escrow/${crowdfundModuleName}`, checkCampaignId(campaignId));
}

/** Text of 1 to `bytesMax` UTF-8 bytes, not blank, without control characters. */
export function isText(v: unknown, bytesMax: number): v is string {
  return (
    typeof v === 'string' &&
    v.trim().length > 0 &&
    new TextEncoder().encode(v).length <= bytesMax &&
    // eslint-disable-next-line no-control-regex
    !/[\u0000-\u001f\u007f]/.test(v)
  );
}

export const whole = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.number().int().min(min).max(max);

/**
 * A point on one of the chain's two clocks. `{height}`: reached at the block of that height.
 * `{time}` (Unix ms, block time): reached at the first block whose time is at or past it.
 */
export const schedulePointSchema = z
  .union([z.strictObject({ height: wire.height }), z.strictObject({ time: wire.time })])
  .meta({ description: '{height} (a block height from 1) or {time} (Unix ms, block time)' });
export type SchedulePoint = z.infer<typeof schedulePointSchema>;

/** The point at block `height`. */
export function atHeight(height: number): SchedulePoint {
  if (!Number.isSafeInteger(height) || height < 1) {
    throw new CryptoInputError('height', 'height must be a whole number from 1');
  }
  return { height };
}

/** The point at block time `time` (a Date or Unix milliseconds). */
// A client's helper: the Date is one the caller names, not a clock read.
export function atTime(time: Date | number): SchedulePoint {
  // eslint-disable-next-line no-restricted-globals
  const ms = time instanceof Date ? time.getTime() : time;
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new CryptoInputError('time', 'time must be a valid Date or whole Unix milliseconds');
  }
  return { time: ms };
}

// ---- the distribution waterfall ----------------------------------------------------------------

const basisPoints = whole(1, basisPointsWhole);

/**
 * A tranche's cap: a share of the campaign's total principal in basis points (10000 is the
 * principal itself, rounded down), or an absolute amount of minor units.
 */
export const trancheCapSchema = z.union([
  z.strictObject({ principalBasisPoints: whole(1, capPrincipalBasisPointsMax) }),
  z.strictObject({ amount: wire.minorUnitsText }),
]);
export type TrancheCap = z.infer<typeof trancheCapSchema>;

/**
 * Who shares a tranche, with a weight in basis points (a tranche's weights sum to 10000).
 * `investors`: all investors, pro rata to principal. `producer`: the campaign's producer.
 * `account`: a fixed account (a distributor, a sales agent).
 */
export const waterfallRecipientSchema = z.union([
  z.strictObject({ kind: z.literal('investors'), weightBasisPoints: basisPoints }),
  z.strictObject({ kind: z.literal('producer'), weightBasisPoints: basisPoints }),
  z.strictObject({
    kind: z.literal('account'),
    address: wire.address,
    weightBasisPoints: basisPoints,
  }),
]);
export type WaterfallRecipient = z.infer<typeof waterfallRecipientSchema>;

export const waterfallTrancheSchema = z.strictObject({
  /** 1 to 40 bytes. */
  name: z.string(),
  /** Share of what remains of cumulative revenue when this tranche is reached, 1 to 10000. */
  shareBasisPoints: basisPoints,
  cap: trancheCapSchema.optional(),
  recipients: z.array(waterfallRecipientSchema).min(1).max(recipientsPerTrancheMax),
});
export type WaterfallTranche = z.infer<typeof waterfallTrancheSchema>;

/**
 * A waterfall over cumulative revenue (1 to 8 tranches): tranche by tranche, each takes its share
 * of what is left, up to its cap. The last tranche must take all that remains (share 10000, no
 * cap), so no revenue is unassigned. `parseDistribution` checks every rule of it.
 */
export const distributionRuleSchema = z.strictObject({
  tranches: z.array(waterfallTrancheSchema).min(1).max(tranchesMax),
});
export type DistributionRule = z.infer<typeof distributionRuleSchema>;

/** The distribution rules a payload can break, in the order `parseDistribution` checks them. */
export type DistributionRejection =
  | 'invalid_distribution'
  | 'invalid_tranche_count'
  | 'invalid_tranche_share'
  | 'invalid_tranche_cap'
  | 'invalid_tranche_recipients'
  | 'invalid_tranche_weights'
  | 'unreachable_tranche'
  | 'distribution_leaves_remainder';

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hasOnly(v: Record<string, unknown>, allowed: string[]): boolean {
  return Object.keys(v).every((k) => allowed.includes(k));
}

function wholeIn(v: unknown, min: number, max: number): v is number {
  return Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;
}

function parseCap(v: unknown): TrancheCap | undefined {
  if (!isPlainObject(v)) return undefined;
  const keys = Object.keys(v);
  if (keys.length !== 1) return undefined;
  if (keys[0] === 'principalBasisPoints') {
    return wholeIn(v.principalBasisPoints, 1, capPrincipalBasisPointsMax)
      ? { principalBasisPoints: v.principalBasisPoints }
      : undefined;
  }
  // The one key is not principalBasisPoints: only `amount` leaves `v.amount` defined.
  return isPositiveMinorUnits(v.amount) ? { amount: v.amount } : undefined;
}

function parseRecipients(v: unknown): WaterfallRecipient[] | DistributionRejection {
  if (!Array.isArray(v) || v.length < 1 || v.length > recipientsPerTrancheMax) {
    return 'invalid_tranche_recipients';
  }
  const recipients: WaterfallRecipient[] = [];
  const seen = new Set<string>();
  let weights = 0;
  for (const entry of v as unknown[]) {
    if (!isPlainObject(entry)) return 'invalid_tranche_recipients';
    const { kind, address, weightBasisPoints } = entry;
    let recipient: WaterfallRecipient;
    if (kind === 'investors' || kind === 'producer') {
      if (!hasOnly(entry, ['kind', 'weightBasisPoints'])) return 'invalid_tranche_recipients';
      recipient = { kind, weightBasisPoints: weightBasisPoints as number };
    } else if (kind === 'account') {
      if (!hasOnly(entry, ['kind', 'address', 'weightBasisPoints']) || !isAddress(address)) {
        return 'invalid_tranche_recipients';
      }
      recipient = { kind, address, weightBasisPoints: weightBasisPoints as number };
    } else {
      return 'invalid_tranche_recipients';
    }
    const identity = kind === 'account' ? `account:${address as string}` : kind;
    if (seen.has(identity)) return 'invalid_tranche_recipients';
    seen.add(identity);
    recipients.push(recipient);
  }
  for (const recipient of recipients) {
    if (!wholeIn(recipient.weightBasisPoints, 1, basisPointsWhole)) {
      return 'invalid_tranche_weights';
    }
    weights += recipient.weightBasisPoints;
  }
  if (weights !== basisPointsWhole) return 'invalid_tranche_weights';
  return recipients;
}

/**
 * Validates a distribution rule (stateless), returning it in canonical form or the first rule it
 * breaks, in this order: shape, tranche count, then per tranche in order: share, cap, recipients,
 * weights; then reachability and the last tranche. The node's check at `campaign.create` and
 * `campaign.amend`, and the simulation's.
 */
export function parseDistribution(v: unknown): DistributionRule | DistributionRejection {
  if (!isPlainObject(v) || !hasOnly(v, ['tranches']) || !Array.isArray(v.tranches)) {
    return 'invalid_distribution';
  }
  const entries = v.tranches as unknown[];
  if (entries.length < 1 || entries.length > tranchesMax) return 'invalid_tranche_count';
  const tranches: WaterfallTranche[] = [];
  for (const entry of entries) {
    if (!isPlainObject(entry) || !hasOnly(entry, ['name', 'shareBasisPoints', 'cap', 'recipients']))
      return 'invalid_distribution';
    if (!isText(entry.name, trancheNameBytesMax)) return 'invalid_distribution';
    if (!wholeIn(entry.shareBasisPoints, 1, basisPointsWhole)) return 'invalid_tranche_share';
    let cap: TrancheCap | undefined;
    if (entry.cap !== undefined) {
      cap = parseCap(entry.cap);
      if (!cap) return 'invalid_tranche_cap';
    }
    const recipients = parseRecipients(entry.recipients);
    if (typeof recipients === 'string') return recipients;
    tranches.push({
      name: entry.name,
      shareBasisPoints: entry.shareBasisPoints,
      ...(cap ? { cap } : {}),
      recipients,
    });
  }
  const takesAll = (t: WaterfallTranche) =>
    t.shareBasisPoints === basisPointsWhole && t.cap === undefined;
  if (tranches.slice(0, -1).some(takesAll)) return 'unreachable_tranche';
  if (!takesAll(tranches[tranches.length - 1]!)) return 'distribution_leaves_remainder';
  return { tranches };
}

/** `Array.isArray` without narrowing a typed array to `any[]`. */
function isList(value: unknown): boolean {
  return Array.isArray(value);
}

function checkBasisPoints(value: unknown, field: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
    throw new CryptoInputError(
      field,
      `${field} must be a whole number of basis points from ${min} to ${max}`,
    );
  }
  return value as number;
}

/**
 * A distribution rule from its tranches, copied as data, for a client to send. Only the form is
 * checked here (an array of tranches with integer basis points), throwing a `CryptoInputError`
 * that names the field; whether the rule holds (weights that sum to 10000, a last tranche that
 * takes the rest) is `parseDistribution`'s, which the node runs at `campaign.create` and answers
 * with the rule broken (`invalid_tranche_weights`, `distribution_leaves_remainder`, ...).
 */
export function waterfall(tranches: readonly WaterfallTranche[]): DistributionRule {
  if (!isList(tranches) || tranches.length === 0) {
    throw new CryptoInputError('tranches', 'tranches must be a non-empty array');
  }
  return {
    tranches: tranches.map((t, i) => {
      const field = `tranches[${i}]`;
      if (typeof t !== 'object' || t === null || typeof t.name !== 'string') {
        throw new CryptoInputError(`${field}.name`, `${field} must be a tranche with a name`);
      }
      checkBasisPoints(t.shareBasisPoints, `${field}.shareBasisPoints`, 1, basisPointsWhole);
      if (!isList(t.recipients)) {
        throw new CryptoInputError(`${field}.recipients`, `${field}.recipients must be an array`);
      }
      const recipients = t.recipients.map((r, k): WaterfallRecipient => {
        const weight = checkBasisPoints(
          r.weightBasisPoints,
          `${field}.recipients[${k}].weightBasisPoints`,
          1,
          basisPointsWhole,
        );
        if (r.kind === 'account') {
          if (!isAddress(r.address)) {
            throw new CryptoInputError(
              `${field}.recipients[${k}].address`,
              'an account recipient needs a Coffer address',
            );
          }
          return { kind: 'account', address: r.address, weightBasisPoints: weight };
        }
        if (r.kind !== 'investors' && r.kind !== 'producer') {
          throw new CryptoInputError(
            `${field}.recipients[${k}].kind`,
            'a recipient kind is investors, producer or account',
          );
        }
        return { kind: r.kind, weightBasisPoints: weight };
      });
      const cap =
        t.cap === undefined
          ? undefined
          : 'amount' in t.cap
            ? { amount: minorUnitsText(t.cap.amount, `${field}.cap.amount`) }
            : {
                principalBasisPoints: checkBasisPoints(
                  t.cap.principalBasisPoints,
                  `${field}.cap.principalBasisPoints`,
                  1,
                  capPrincipalBasisPointsMax,
                ),
              };
      return {
        name: t.name,
        shareBasisPoints: t.shareBasisPoints,
        ...(cap === undefined ? {} : { cap }),
        recipients,
      };
    }),
  };
}

/** The terms of `recoupWaterfall`: the collection-account waterfall of a film, in basis points. */
export interface RecoupWaterfallTerms {
  /** Taken first from revenue (a distribution fee), to a fixed account. */
  distributionFee?: { basisPoints: number; to: string };
  /** How much of their principal investors recoup, pro rata, before anyone else: default 10000. */
  recoupBasisPoints?: number;
  /** Then a premium to investors, pro rata, as a share of principal: 0 (the default) for none. */
  premiumBasisPoints?: number;
  /** The rest: investors' share (pro rata), the producer taking the remainder. */
  investorsShareBasisPoints: number;
}

/**
 * The usual film waterfall as data: a distribution fee (a share of revenue) to an account; then
 * investors recoup their principal pro rata (capped at `recoupBasisPoints` of principal); then a
 * premium (capped at `premiumBasisPoints` of principal); then the rest split between investors
 * (pro rata) and the producer. The example, a 30% fee, 100% recoup, a 20% premium and
 * 50/50, is `recoupWaterfall({distributionFee: {basisPoints: 3000, to}, premiumBasisPoints: 2000,
 * investorsShareBasisPoints: 5000})`.
 */
export function recoupWaterfall(terms: RecoupWaterfallTerms): DistributionRule {
  const tranches: WaterfallTranche[] = [];
  if (terms.distributionFee !== undefined) {
    const { basisPoints, to } = terms.distributionFee;
    checkBasisPoints(basisPoints, 'distributionFee.basisPoints', 1, basisPointsWhole - 1);
    if (!isAddress(to)) {
      throw new CryptoInputError(
        'distributionFee.to',
        'distributionFee.to must be a Coffer address',
      );
    }
    tranches.push({
      name: 'distribution fee',
      shareBasisPoints: basisPoints,
      recipients: [{ kind: 'account', address: to, weightBasisPoints: basisPointsWhole }],
    });
  }
  const recoup = checkBasisPoints(
    terms.recoupBasisPoints ?? basisPointsWhole,
    'recoupBasisPoints',
    1,
    capPrincipalBasisPointsMax,
  );
  tranches.push({
    name: 'recoup',
    shareBasisPoints: basisPointsWhole,
    cap: { principalBasisPoints: recoup },
    recipients: [{ kind: 'investors', weightBasisPoints: basisPointsWhole }],
  });
  const premium = checkBasisPoints(
    terms.premiumBasisPoints ?? 0,
    'premiumBasisPoints',
    0,
    capPrincipalBasisPointsMax,
  );
  if (premium > 0) {
    tranches.push({
      name: 'premium',
      shareBasisPoints: basisPointsWhole,
      cap: { principalBasisPoints: premium },
      recipients: [{ kind: 'investors', weightBasisPoints: basisPointsWhole }],
    });
  }
  const investors = checkBasisPoints(
    terms.investorsShareBasisPoints,
    'investorsShareBasisPoints',
    0,
    basisPointsWhole,
  );
  const producer = basisPointsWhole - investors;
  tranches.push({
    name: 'profit',
    shareBasisPoints: basisPointsWhole,
    recipients: [
      ...(investors > 0 ? [{ kind: 'investors' as const, weightBasisPoints: investors }] : []),
      ...(producer > 0 ? [{ kind: 'producer' as const, weightBasisPoints: producer }] : []),
    ],
  });
  return { tranches };
}

export const platformFeeSchema = z.strictObject({
  /** 1 to 10000 of the principal raised, taken at success. */
  basisPoints: basisPoints,
  to: wire.address,
});
export type PlatformFee = z.infer<typeof platformFeeSchema>;
