import { z } from 'zod';
import { assetSymbolPattern } from '../../protocol/ledger.js';
import { coded, rejectionCodeFor, wire } from '../../protocol/schema.js';
import {
  campaignIdPattern,
  distributionRuleSchema,
  isPlainObject,
  isPositiveMinorUnits,
  isText,
  minorUnitsPattern,
  parseDistribution,
  platformFeeSchema,
  reportersMax,
  reportIdPattern,
  schedulePointSchema,
  titleBytesMax,
  whole,
} from './schema-terms.js';

/*
 * The crowdfund module's wire contract (issue 6: movie investment campaigns): each tx payload,
 * each record the `/v1/campaigns` routes answer, and the pure helpers both the node and a client
 * need (the campaign id and escrow, the distribution rule's checks, schedule points, the
 * waterfall builders). The node parses payloads with these schemas (txs.ts), the routes answer
 * through them (routes.ts), and the SDK takes its types and helpers from here (client.ts).
 *
 * Amounts travel as decimal strings of minor units (`"7450"` is 74.50 of a 2-decimal asset).
 * This file has the payloads; the terms and the waterfall are in schema-terms.ts, the records the
 * routes answer in schema-records.ts, both exported from here.
 */

export * from './schema-terms.js';
export * from './schema-records.js';

// ---- tx payloads -------------------------------------------------------------------------------

/**
 * A field whose value `parse` checks and puts in canonical form, answering the rule it breaks as
 * the rejection code; `shape` gives its type and its JSON Schema. For fields whose codes follow a
 * precedence of their own (the distribution rule's, an amendment's unknown terms first).
 */
function parsedBy<S extends z.ZodType>(shape: S, parse: (v: unknown) => z.output<S> | string) {
  return z
    .custom<z.input<S>>()
    .transform((v, ctx): z.output<S> => {
      const result = parse(v);
      if (typeof result === 'string') {
        ctx.issues.push({ code: 'custom', message: result, input: v });
        return z.NEVER;
      }
      return result;
    })
    .meta(jsonSchemaOf(shape));
}

/** The JSON Schema (input) of `shape`, as metadata for a field zod cannot describe itself. */
function jsonSchemaOf(shape: z.ZodType): Record<string, unknown> {
  const document = z.toJSONSchema(shape, {
    target: 'openapi-3.0',
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  delete document.$schema;
  return document;
}

/** What a payload's fields are, each refused with its code. */
const field = {
  campaignId: coded(z.string().regex(campaignIdPattern), 'invalid_campaign_id'),
  title: coded(
    z.string().refine((v) => isText(v, titleBytesMax)),
    'invalid_title',
  ),
  asset: coded(z.string().regex(assetSymbolPattern), 'invalid_symbol'),
  /** A positive amount, kept as its decimal string. */
  amount: coded(
    // Not `wire.minorUnitsText`: its range check runs BigInt on text that failed the pattern.
    z
      .string()
      .regex(minorUnitsPattern)
      .refine(isPositiveMinorUnits)
      .meta({ description: 'A positive amount of minor units as a decimal string' }),
    'invalid_amount',
  ),
  point: coded(schedulePointSchema, 'invalid_schedule_point'),
  cancelWindow: coded(whole(0), 'invalid_cancel_window'),
  earlyClose: coded(z.boolean(), 'invalid_early_close'),
  platformFee: coded(platformFeeSchema.nullable(), 'invalid_platform_fee'),
  /** Sorted, so the same set of reporters is one value. */
  reporters: coded(
    z
      .array(wire.address)
      .min(1)
      .max(reportersMax)
      .refine((list) => new Set(list).size === list.length)
      .transform((list) => [...list].sort()),
    'invalid_reporters',
  ),
  distribution: coded(parsedBy(distributionRuleSchema, parseDistribution), 'invalid_distribution'),
  reportId: coded(z.string().regex(reportIdPattern), 'invalid_report_id'),
  periodTime: coded(whole(0), 'invalid_period'),
};

/** The terms a producer sets at creation and may amend while funding, in their wire order. */
const termFields = {
  title: field.title,
  target: field.amount,
  minInvestment: field.amount,
  maxInvestment: field.amount,
  opensAt: field.point,
  deadline: field.point,
  cancelWindow: field.cancelWindow,
  earlyClose: field.earlyClose,
  /** Absent at creation is no fee (null). */
  platformFee: field.platformFee.optional().transform((fee) => fee ?? null),
  reporters: field.reporters,
  distribution: field.distribution,
};

/** The amendable terms (all but the asset), each optional; `platformFee: null` removes the fee. */
export const campaignAmendTermsSchema = z.strictObject({
  title: field.title.optional(),
  target: field.amount.optional(),
  minInvestment: field.amount.optional(),
  maxInvestment: field.amount.optional(),
  opensAt: field.point.optional(),
  deadline: field.point.optional(),
  cancelWindow: field.cancelWindow.optional(),
  earlyClose: field.earlyClose.optional(),
  platformFee: field.platformFee.optional(),
  reporters: field.reporters.optional(),
  distribution: field.distribution.optional(),
});

/**
 * An amendment's terms: an object naming at least one term (`invalid_amendment`), no other key
 * (`unknown_field`, before any term is read), then each term as at creation.
 */
function parseAmendTerms(v: unknown): z.output<typeof campaignAmendTermsSchema> | string {
  if (!isPlainObject(v) || Object.keys(v).length === 0) return 'invalid_amendment';
  for (const key of Object.keys(v)) {
    if (!Object.hasOwn(campaignAmendTermsSchema.shape, key)) return 'unknown_field';
  }
  const parsed = campaignAmendTermsSchema.safeParse(v);
  return parsed.success
    ? parsed.data
    : rejectionCodeFor(campaignAmendTermsSchema, parsed.error, 'invalid_amendment');
}

/**
 * The campaign tx types' payloads (see index.ts for who sends each). Each field is refused with
 * its code in the order listed; `check` in txs.ts adds the checks across fields
 * (`invalid_investment_limits` on minInvestment, `invalid_period` on periodEnd).
 */
export const crowdfundPayloads = {
  'campaign.create': z.strictObject({ ...termFields, asset: field.asset }),
  'campaign.invest': z.strictObject({ campaignId: field.campaignId, amount: field.amount }),
  'campaign.cancelInvestment': z.strictObject({ campaignId: field.campaignId }),
  'campaign.amend': z.strictObject({
    campaignId: field.campaignId,
    terms: coded(parsedBy(campaignAmendTermsSchema, parseAmendTerms), 'invalid_amendment'),
    reconfirmBy: field.point.optional(),
  }),
  'campaign.reconfirm': z.strictObject({ campaignId: field.campaignId }),
  'campaign.claim': z.strictObject({ campaignId: field.campaignId }),
  'campaign.reportRevenue': z.strictObject({
    campaignId: field.campaignId,
    reportId: field.reportId,
    periodStart: field.periodTime,
    periodEnd: field.periodTime,
    grossRevenue: field.amount,
  }),
};

/** A campaign payload as sent (what a client signs). */
export type CrowdfundPayload<T extends keyof typeof crowdfundPayloads> = z.input<
  (typeof crowdfundPayloads)[T]
>;
/** A campaign payload as the node reads it (reporters sorted, the fee null when absent). */
export type CrowdfundPayloadValue<T extends keyof typeof crowdfundPayloads> = z.output<
  (typeof crowdfundPayloads)[T]
>;

/** The terms as the node keeps them: amounts as decimal strings, the fee null when none. */
export type CampaignTerms = Omit<CrowdfundPayloadValue<'campaign.create'>, 'asset'>;
