import { z } from 'zod';
import { canonicalBytes, concatBytes, sha256, utf8 } from '../../crypto/index.js';
import { committedTxSchema, type CommittedTx } from '../../protocol/api.js';
import { coded, hexOf, wire } from '../../protocol/schema.js';
import { policyActions, policyLimits, policySchema, type Action, type Policy } from './policy.js';

export {
  parsePolicy,
  policyActions,
  policyLimits,
  policySchema,
  toOdrl,
  usageDecision,
  withinParent,
  type Action,
  type Constraint,
  type Permission,
  type Policy,
  type UsageDecision,
  type UsageRefusal,
  type UsageRequest,
} from './policy.js';

/*
 * The licensing module's wire contract (issue 21; /work/licensing-spec.md): tx payloads whose
 * fields carry their rejection codes, the records the routes answer, and the pure helpers a
 * client needs. Pure (zod, src/protocol, policy.ts), so the SDK and the console load it.
 *
 * Words: *content* is a work registered by the SHA-256 of its clear bytes; its *owner* registered
 * it (the creator), its *holder* holds the rights now; an *assignment* passes the rights on and
 * keeps a *share* of every later payment for the assigner; the assignments form the *chain of
 * title*. An *offer* is a policy a holder (or a licensee allowed to sublicense) proposes; an
 * *agreement* is an accepted offer, named by the accept tx's hash; a *sublicence* is an agreement
 * whose offer named a *parent* agreement. The content's *gateway account* is the address of its
 * public key: the gateway holding that key reports usage from it.
 */

// ---- limits --------------------------------------------------------------------------------------

export const contentTitleLengthMax = 200;
export const revokeReasonLengthMax = 200;
/** Assignments on one chain of title: each one is a split of every payment. */
export const titleChainMax = 16;
/** The whole, in basis points: the shares on a chain of title add up to this at most. */
export const shareWhole = 10_000;
/** Open offers one offerer has on one content: bounds what a sublicensee can crowd a catalogue with. */
export const openOffersPerOffererMax = 64;
/** Uses of one action one `licence.usage` reports at the most (a gateway flushes often). */
export const usesPerTxMax = 10_000;
/** A content's size in bytes: 1 TiB. */
export const contentSizeMax = 2 ** 40;

export const contentIdPattern = /^[0-9a-f]{64}$/;
export const offerIdPattern = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const mediaTypePattern = /^[a-z]+\/[a-z0-9.+-]+$/;
const mediaTypeLengthMax = 100;
/**
 * A text a person reads: no control characters, and no bidirectional overrides or isolates
 * (U+200E, U+200F, U+202A..U+202E, U+2066..U+2069), with which a catalogue title could show
 * another title's text reversed (a spoof).
 */
const textPattern = /^[^\p{Cc}\u200E\u200F\u202A-\u202E\u2066-\u2069]+$/u;

export function isContentId(value: unknown): value is string {
  return typeof value === 'string' && contentIdPattern.test(value);
}

export function isOfferId(value: unknown): value is string {
  return typeof value === 'string' && offerIdPattern.test(value);
}

/** An agreement id is a tx hash: 64 lowercase hex, like a content id. */
export const isAgreementId = isContentId;

// ---- the registration proof ----------------------------------------------------------------------

/** The domain of a content key's registration proof: it signs nothing else with this prefix. */
export const registrationDomain = 'coffer/licensing/register/v1';

/**
 * What the content's key signs so that `owner` may register the content on chain `chainId`:
 * `registrationDomain` ‖ SHA-256(canonical {chainId, contentId, owner}). The gateway that made
 * the key signs it for the uploader, so nobody who merely saw a `content.register` (in the pool)
 * can register the content first under its own account.
 */
export function registrationMessage(chainId: string, contentId: string, owner: string): Uint8Array {
  return concatBytes(
    utf8(registrationDomain),
    sha256(canonicalBytes({ chainId, contentId, owner })),
  );
}

// ---- field schemas -------------------------------------------------------------------------------

export const licensingFields = {
  contentId: coded(
    hexOf(32).meta({
      description: "A content id: the lowercase hex SHA-256 of the content's bytes",
    }),
    'invalid_content_id',
  ),
  title: coded(
    z.string().min(1).max(contentTitleLengthMax).regex(textPattern).meta({
      description: 'A title: 1 to 200 characters, no control or bidirectional control characters',
    }),
    'invalid_content_title',
  ),
  mediaType: coded(
    z
      .string()
      .max(mediaTypeLengthMax)
      .regex(mediaTypePattern)
      .meta({ description: 'A media type, e.g. video/webm' }),
    'invalid_media_type',
  ),
  size: coded(
    z
      .number()
      .int()
      .min(1)
      .max(contentSizeMax)
      .meta({ description: 'The content size in bytes: 1 to 2^40' }),
    'invalid_size',
  ),
  publicKey: coded(
    hexOf(32).meta({
      description: "The content's ed25519 public key (64 hex): it signs access tokens",
    }),
    'invalid_content_key',
  ),
  registrationProof: coded(
    z
      .string()
      .regex(/^[0-9a-f]{128}$/)
      .meta({
        description:
          "The content key's ed25519 signature (128 hex) of registrationMessage(chainId, contentId, sender)",
      }),
    'invalid_registration_proof',
  ),
  address: coded(wire.address, 'invalid_address'),
  share: coded(
    z
      .number()
      .int()
      .min(0)
      .max(shareWhole)
      .meta({ description: 'Basis points of every later payment the assigner keeps: 0 to 10000' }),
    'invalid_share',
  ),
  titleIndex: coded(
    z
      .number()
      .int()
      .min(1)
      .max(titleChainMax + 1)
      .meta({ description: "The assignment's position on the chain of title: its length + 1" }),
    'title_index_mismatch',
  ),
  offerId: coded(
    z.string().regex(offerIdPattern).meta({
      description: "An offer id: 1 to 63 of a-z, 0-9 and '-', not first; unique per content",
    }),
    'invalid_offer_id',
  ),
  agreementId: coded(
    hexOf(32).meta({ description: 'An agreement id: the hash of its licence.accept tx' }),
    'invalid_agreement_id',
  ),
  maxAmount: coded(wire.minorUnitsText, 'invalid_amount'),
  reason: coded(
    z
      .string()
      .min(1)
      .max(revokeReasonLengthMax)
      .regex(textPattern)
      .meta({ description: 'Why: 1 to 200 characters, no control characters' }),
    'invalid_revocation_reason',
  ),
  deviceHash: z.string().regex(/^[0-9a-f]{64}$/),
};

/** Uses per action in one `licence.usage`: 1 to 10,000 each. */
export const usesSchema = coded(
  z
    .strictObject(
      Object.fromEntries(
        policyActions.map((a) => [a, z.number().int().min(1).max(usesPerTxMax).optional()]),
      ) as Record<Action, z.ZodOptional<z.ZodNumber>>,
    )
    .refine((uses) => Object.keys(uses).length > 0, 'invalid_uses'),
  'invalid_uses',
);

// ---- tx payloads ---------------------------------------------------------------------------------

export const licensingPayloads = {
  /** Anyone registers content; the sender becomes its owner and holder. Once per contentId. */
  'content.register': z.strictObject({
    contentId: licensingFields.contentId,
    title: licensingFields.title,
    mediaType: licensingFields.mediaType,
    size: licensingFields.size,
    publicKey: licensingFields.publicKey,
    proof: licensingFields.registrationProof,
  }),
  /**
   * The holder assigns the rights to `to`, keeping `share` basis points of every later payment.
   * `index` is the assignment's position on the chain of title (its length + 1): a verifier checks
   * each signed tx's index against its position, so no assignment can be left out of a title.
   */
  'content.assign': z.strictObject({
    contentId: licensingFields.contentId,
    to: licensingFields.address,
    share: licensingFields.share,
    index: licensingFields.titleIndex,
  }),
  /** The holder (or, with `parent`, a licensee allowed to sublicense) offers a licence. */
  'licence.offer': z.strictObject({
    contentId: licensingFields.contentId,
    offerId: licensingFields.offerId,
    policy: policySchema,
    parent: licensingFields.agreementId.optional(),
  }),
  'licence.withdraw': z.strictObject({
    contentId: licensingFields.contentId,
    offerId: licensingFields.offerId,
  }),
  /** Anyone but the offerer accepts an open offer, paying its duty (if any) in this tx. */
  'licence.accept': z.strictObject({
    contentId: licensingFields.contentId,
    offerId: licensingFields.offerId,
    /** The most the licensee agrees to pay (refused above it: the offer is read at execution). */
    maxAmount: licensingFields.maxAmount.optional(),
  }),
  /** The offerer or the content's holder revokes an agreement. */
  'licence.revoke': z.strictObject({
    agreementId: licensingFields.agreementId,
    reason: licensingFields.reason,
  }),
  /** The content's gateway account reports uses and devices served under an agreement. */
  'licence.usage': z.strictObject({
    agreementId: licensingFields.agreementId,
    uses: usesSchema,
    devices: coded(
      z
        .array(licensingFields.deviceHash)
        .max(policyLimits.deviceCountMax)
        .refine((list) => new Set(list).size === list.length),
      'invalid_devices',
    ).optional(),
  }),
};

export type LicensingPayload<T extends keyof typeof licensingPayloads> = z.infer<
  (typeof licensingPayloads)[T]
>;

// ---- records -------------------------------------------------------------------------------------

export const offerStatuses = ['open', 'withdrawn'] as const;
export const agreementStatuses = ['active', 'revoked'] as const;
export const splitRoles = ['title', 'offerer'] as const;

export const contentSchema = z.object({
  contentId: z.string(),
  title: z.string(),
  mediaType: z.string(),
  size: z.number().int(),
  /** The registrant: the creator. */
  owner: z.string(),
  /** The current rights holder. */
  holder: z.string(),
  publicKey: z.string(),
  /** The content's gateway account: the address of its public key. */
  gateway: z.string(),
  /** Assignments on its chain of title. */
  titleLength: z.number().int(),
  /** The sum of the assignments' shares, basis points. */
  sharesTotal: z.number().int(),
  registeredAt: z.number().int(),
  height: z.number().int(),
  tx: z.string(),
});
export type ContentRecord = z.infer<typeof contentSchema>;

export const assignmentSchema = z.object({
  contentId: z.string(),
  index: z.number().int(),
  from: z.string(),
  to: z.string(),
  share: z.number().int(),
  time: z.number().int(),
  height: z.number().int(),
  tx: z.string(),
});
export type AssignmentRecord = z.infer<typeof assignmentSchema>;

/** Policies as stored and answered: the same schema as the payloads'. */
const policyOutSchema = policySchema;

export const offerSchema = z.object({
  contentId: z.string(),
  offerId: z.string(),
  offerer: z.string(),
  parent: z.string().optional(),
  policy: policyOutSchema,
  status: z.enum(offerStatuses),
  time: z.number().int(),
  height: z.number().int(),
  tx: z.string(),
  withdrawnAt: z.number().int().optional(),
});
export type OfferRecord = z.infer<typeof offerSchema>;

export const splitSchema = z.object({
  to: z.string(),
  amount: z.string(),
  role: z.enum(splitRoles),
});
export type Split = z.infer<typeof splitSchema>;

export const agreementSchema = z.object({
  agreementId: z.string(),
  contentId: z.string(),
  offerId: z.string(),
  offerer: z.string(),
  licensee: z.string(),
  parent: z.string().optional(),
  policy: policyOutSchema,
  acceptedAt: z.number().int(),
  expiresAt: z.number().int().optional(),
  used: z.record(z.string(), z.number().int()),
  devices: z.array(z.string()),
  /** Uses reported beyond an action's count (recorded, not refused: they were served). */
  overuse: z.record(z.string(), z.number().int()).optional(),
  /** Devices reported beyond the device limit (not added to `devices`). */
  overuseDevices: z.number().int().optional(),
  paid: z
    .object({ asset: z.string(), amount: z.string(), splits: z.array(splitSchema) })
    .optional(),
  status: z.enum(agreementStatuses),
  revokedAt: z.number().int().optional(),
  revokeReason: z.string().optional(),
  revokedBy: z.string().optional(),
  height: z.number().int(),
  tx: z.string(),
});
export type AgreementRecord = Omit<
  z.infer<typeof agreementSchema>,
  'used' | 'overuse' | 'policy'
> & {
  policy: Policy;
  used: Partial<Record<Action, number>>;
  overuse?: Partial<Record<Action, number>>;
};

// ---- route answers -------------------------------------------------------------------------------

const odrlSchema = z.record(z.string(), z.unknown()).meta({
  description: 'The policy as ODRL 2.2 JSON-LD',
});

export const contentSummarySchema = contentSchema.extend({ openOffers: z.number().int() });
export type ContentSummary = z.infer<typeof contentSummarySchema>;

export const contentPageSchema = z.object({
  content: z.array(contentSummarySchema),
  next: z.string().nullable(),
});
export type ContentPage = z.infer<typeof contentPageSchema>;

export const contentViewSchema = z.object({
  content: contentSchema,
  openOffers: z.number().int(),
  /** The holder's open offers in offerId order (all: at most 64); `openOffers` counts all. */
  offers: z.array(offerSchema),
});
export type ContentView = z.infer<typeof contentViewSchema>;

export const offerViewSchema = z.object({ offer: offerSchema, odrl: odrlSchema });
export type OfferView = Omit<z.infer<typeof offerViewSchema>, 'offer'> & { offer: OfferRecord };

export const agreementViewSchema = z.object({
  agreement: agreementSchema,
  odrl: odrlSchema,
  parent: agreementSchema.optional(),
});
export type AgreementView = {
  agreement: AgreementRecord;
  odrl: Record<string, unknown>;
  parent?: AgreementRecord;
};

export const agreementPageSchema = z.object({
  agreements: z.array(agreementSchema),
  next: z.string().nullable(),
});
export type AgreementPage = { agreements: AgreementRecord[]; next: string | null };

/** The chain of title: each tx as `GET /v1/txs/{hash}` answers it (with its Merkle proofs). */
export const titleSchema = z.object({
  contentId: z.string(),
  holder: z.string(),
  registration: committedTxSchema,
  assignments: z.array(
    z.object({
      index: z.number().int(),
      from: z.string(),
      to: z.string(),
      share: z.number().int(),
      tx: committedTxSchema,
    }),
  ),
});

export interface TitleView {
  contentId: string;
  holder: string;
  registration: CommittedTx;
  assignments: { index: number; from: string; to: string; share: number; tx: CommittedTx }[];
}

// ---- events --------------------------------------------------------------------------------------

export const licensingEvents = [
  'content.registered',
  'content.assigned',
  'licence.offered',
  'licence.withdrawn',
  'licence.accepted',
  'licence.revoked',
  'licence.used',
] as const;
