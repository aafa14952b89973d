import { z } from 'zod';
import { assetSymbolPattern } from '../../protocol/ledger.js';
import { coded, rejectionCodeFor, wire } from '../../protocol/schema.js';

/*
 * Licences as ODRL 2.2 shaped policies (issue 21): permissions of actions under constraints,
 * prohibitions, and at most one duty (a payment). Pure (zod only): the tx handlers, the gateway
 * and the SDK all decide with these same functions, so the chain and the gateway never disagree
 * on what a licence allows.
 *
 * Times are Unix milliseconds. An agreement's validity windows are half-open: it is valid from
 * `dateTime gteq` (inclusive) until the first of `dateTime lt`, acceptance + `elapsedTime` and its
 * parent's end (all exclusive). For `elapsedTime lteq d` that ends one millisecond early, which
 * only ever allows less, never more.
 */

export const policyActions = [
  'play',
  'display',
  'download',
  'print',
  'distribute',
  'sublicense',
] as const;
export type Action = (typeof policyActions)[number];

/** Limits of a policy, each with its reason. */
export const policyLimits = {
  /** Uses of one action one agreement allows at the most (a count constraint's range). */
  countMax: 1_000_000,
  /** The shortest duration after acceptance: below a minute a licence would expire in transit. */
  elapsedMinMs: 60_000,
  /** The longest: ten years of 365.25 days. A longer licence is one without elapsedTime. */
  elapsedMaxMs: 315_576_000_000,
  /** Territories in one spatial constraint: enough for a region, few enough to check per request. */
  territoriesMax: 64,
  /** Devices one agreement may be used on (the `devices` list of an agreement is this long at most). */
  deviceCountMax: 16,
} as const;

const territoryPattern = /^[A-Z]{2}$/;
const timeMs = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const countConstraint = z.strictObject({
  leftOperand: z.literal('count'),
  operator: z.literal('lteq'),
  rightOperand: z.number().int().min(1).max(policyLimits.countMax),
});
const dateTimeConstraint = z.strictObject({
  leftOperand: z.literal('dateTime'),
  operator: z.enum(['gteq', 'lt']),
  rightOperand: timeMs,
});
const elapsedTimeConstraint = z.strictObject({
  leftOperand: z.literal('elapsedTime'),
  operator: z.literal('lteq'),
  rightOperand: z.number().int().min(policyLimits.elapsedMinMs).max(policyLimits.elapsedMaxMs),
});
const spatialConstraint = z.strictObject({
  leftOperand: z.literal('spatial'),
  operator: z.literal('isAnyOf'),
  rightOperand: z
    .array(z.string().regex(territoryPattern))
    .min(1)
    .max(policyLimits.territoriesMax)
    .refine((list) => new Set(list).size === list.length, 'policy_territory_duplicate'),
});
const deviceCountConstraint = z.strictObject({
  leftOperand: z.literal('deviceCount'),
  operator: z.literal('lteq'),
  rightOperand: z.number().int().min(1).max(policyLimits.deviceCountMax),
});

export const constraintSchema = z.discriminatedUnion('leftOperand', [
  countConstraint,
  dateTimeConstraint,
  elapsedTimeConstraint,
  spatialConstraint,
  deviceCountConstraint,
]);
export type Constraint = z.infer<typeof constraintSchema>;

/** The key a constraint may appear once under: its leftOperand (dateTime: per operator). */
function constraintSlot(c: Constraint): string {
  return c.leftOperand === 'dateTime' ? `dateTime/${c.operator}` : c.leftOperand;
}

export const permissionSchema = z.strictObject({
  action: z.enum(policyActions),
  constraint: z
    .array(constraintSchema)
    // Six slots: count, dateTime gteq, dateTime lt, elapsedTime, spatial, deviceCount.
    .max(6)
    .refine(
      (list) => new Set(list.map(constraintSlot)).size === list.length,
      'policy_constraint_duplicate',
    )
    .refine((list) => {
      const from = list.find((c) => c.leftOperand === 'dateTime' && c.operator === 'gteq');
      const until = list.find((c) => c.leftOperand === 'dateTime' && c.operator === 'lt');
      return from === undefined || until === undefined || from.rightOperand < until.rightOperand;
    }, 'policy_window_empty')
    .optional(),
});
export type Permission = z.infer<typeof permissionSchema>;

export const dutySchema = z.strictObject({
  action: z.literal('compensate'),
  payAmount: wire.minorUnitsText.refine((text) => text !== '0', 'invalid_pay_amount'),
  unit: z.string().regex(assetSymbolPattern),
});
export type Duty = z.infer<typeof dutySchema>;

export const policySchema = coded(
  z
    .strictObject({
      permission: z
        .array(permissionSchema)
        .min(1)
        .max(policyActions.length)
        .refine(
          (list) => new Set(list.map((p) => p.action)).size === list.length,
          'policy_action_duplicate',
        ),
      prohibition: z
        .array(z.strictObject({ action: z.enum(policyActions) }))
        .max(policyActions.length)
        .refine(
          (list) => new Set(list.map((p) => p.action)).size === list.length,
          'policy_action_duplicate',
        )
        .optional(),
      duty: coded(z.tuple([dutySchema]), 'invalid_duty').optional(),
    })
    .refine(
      (p) => !(p.prohibition ?? []).some((x) => p.permission.some((y) => y.action === x.action)),
      'policy_prohibition_conflict',
    ),
  'invalid_licence_policy',
);
export type Policy = z.infer<typeof policySchema>;

/** A policy from untrusted JSON, or the rejection code of its first problem. */
export function parsePolicy(json: unknown): Policy | { code: string } {
  const parsed = policySchema.safeParse(json);
  if (parsed.success) return parsed.data;
  return { code: rejectionCodeFor(policySchema, parsed.error, 'invalid_licence_policy') };
}

// ---- the parts of an agreement the decisions read -------------------------------------------------

/**
 * What `usageDecision` and `withinParent` read of an agreement (the full record is in schema.ts:
 * `AgreementRecord` satisfies this).
 */
export interface AgreementTerms {
  policy: Policy;
  acceptedAt: number;
  expiresAt?: number | undefined;
  used: Partial<Record<Action, number>>;
  devices: string[];
  status: 'active' | 'revoked';
  parent?: string | undefined;
}

export function permissionOf(policy: Policy, action: Action): Permission | undefined {
  return policy.permission.find((p) => p.action === action);
}

type ConstraintOf<L extends Constraint['leftOperand']> = Extract<Constraint, { leftOperand: L }>;

function constraintOf<L extends Constraint['leftOperand']>(
  permission: Permission,
  leftOperand: L,
  operator?: string,
): ConstraintOf<L> | undefined {
  return (permission.constraint ?? []).find(
    (c) => c.leftOperand === leftOperand && (operator === undefined || c.operator === operator),
  ) as ConstraintOf<L> | undefined;
}

/** Where one permission of an accepted policy starts (inclusive) and ends (exclusive). */
export function permissionWindow(
  permission: Permission,
  acceptedAt: number,
): { from?: number; until?: number } {
  const from = constraintOf(permission, 'dateTime', 'gteq')?.rightOperand;
  const lt = constraintOf(permission, 'dateTime', 'lt')?.rightOperand;
  const elapsed = constraintOf(permission, 'elapsedTime')?.rightOperand;
  const ends = [lt, elapsed === undefined ? undefined : acceptedAt + elapsed].filter(
    (t): t is number => t !== undefined,
  );
  return {
    ...(from === undefined ? {} : { from }),
    ...(ends.length === 0 ? {} : { until: Math.min(...ends) }),
  };
}

/**
 * When an agreement accepted at `acceptedAt` ends (exclusive), or undefined when never: the last
 * of its permissions' ends (none if one of them has no end), and no later than its parent's end.
 */
export function agreementExpiry(
  policy: Policy,
  acceptedAt: number,
  parentExpiresAt?: number,
): number | undefined {
  let last: number | undefined = 0;
  for (const permission of policy.permission) {
    const { until } = permissionWindow(permission, acceptedAt);
    if (until === undefined) {
      last = undefined;
      break;
    }
    last = Math.max(last, until);
  }
  if (parentExpiresAt === undefined) return last;
  return last === undefined ? parentExpiresAt : Math.min(last, parentExpiresAt);
}

/**
 * The most devices an agreement may record: the largest deviceCount among its permissions (of
 * `actions` only, when given: devices count only for actions whose permission has deviceCount).
 */
export function deviceLimitOf(policy: Policy, actions?: readonly Action[]): number | undefined {
  const limits = policy.permission
    .filter((p) => actions === undefined || actions.includes(p.action))
    .map((p) => constraintOf(p, 'deviceCount')?.rightOperand)
    .filter((n): n is number => n !== undefined);
  return limits.length === 0 ? undefined : Math.max(...limits);
}

/** The count constraint of an action (uses allowed), or undefined when uncounted. */
export function countLimitOf(policy: Policy, action: Action): number | undefined {
  const permission = permissionOf(policy, action);
  return permission === undefined ? undefined : constraintOf(permission, 'count')?.rightOperand;
}

// ---- sublicences ----------------------------------------------------------------------------------

/**
 * Whether `child` (a sublicence offer's policy) stays within the rights of `parent` (the offerer's
 * agreement) at `time` (default: the parent's acceptance): `exceeds_parent` unless every child
 * action is permitted by the parent, none is `sublicense` (a sublicence never sublicenses again),
 * and each constraint of the parent's permission for that action is in the child's and no looser:
 * count <=, the dateTime window inside, elapsedTime <= what remains of the parent's, spatial a
 * subset, deviceCount <=.
 */
export function withinParent(
  child: Policy,
  parent: AgreementTerms,
  time: number = parent.acceptedAt,
): 'exceeds_parent' | undefined {
  for (const permission of child.permission) {
    if (permission.action === 'sublicense') return 'exceeds_parent';
    const granted = permissionOf(parent.policy, permission.action);
    if (granted === undefined) return 'exceeds_parent';
    for (const limit of granted.constraint ?? []) {
      if (!noLooser(limit, permission, parent.acceptedAt, time)) return 'exceeds_parent';
    }
  }
  return undefined;
}

function noLooser(limit: Constraint, child: Permission, acceptedAt: number, time: number): boolean {
  switch (limit.leftOperand) {
    case 'count': {
      const c = constraintOf(child, 'count');
      return c !== undefined && c.rightOperand <= limit.rightOperand;
    }
    case 'dateTime': {
      const c = constraintOf(child, 'dateTime', limit.operator);
      if (c === undefined) return false;
      return limit.operator === 'gteq'
        ? c.rightOperand >= limit.rightOperand
        : c.rightOperand <= limit.rightOperand;
    }
    case 'elapsedTime': {
      const c = constraintOf(child, 'elapsedTime');
      const remaining = acceptedAt + limit.rightOperand - time;
      return c !== undefined && c.rightOperand <= remaining;
    }
    case 'spatial': {
      const c = constraintOf(child, 'spatial');
      return c !== undefined && c.rightOperand.every((t) => limit.rightOperand.includes(t));
    }
    case 'deviceCount': {
      const c = constraintOf(child, 'deviceCount');
      return c !== undefined && c.rightOperand <= limit.rightOperand;
    }
  }
}

// ---- usage ----------------------------------------------------------------------------------------

export const usageRefusals = [
  'agreement_revoked',
  'parent_invalid',
  'action_not_permitted',
  'action_prohibited',
  'not_yet_valid',
  'agreement_expired',
  'territory_not_allowed',
  'device_limit_reached',
  'count_exhausted',
] as const;
export type UsageRefusal = (typeof usageRefusals)[number];

export interface UsageRequest {
  action: Action;
  /** Unix ms: the block's time on the chain, the gateway's clock off it. */
  time: number;
  /** ISO 3166-1 alpha-2 of the client; undefined (unknown) is no territory a spatial list allows. */
  territory?: string | undefined;
  /** The device's hash (64 hex, as `devices` records it); required where deviceCount applies. */
  device?: string | undefined;
  /** Uses of this action served but not yet recorded on the chain. */
  pendingUses: number;
  /** Devices served but not yet recorded on the chain (hashes). */
  pendingDevices: string[];
}

export type UsageDecision =
  { ok: true; remaining: number | null } | { ok: false; code: UsageRefusal };

/** Whether the parent still backs `action` at `time`. */
function parentAllows(parent: AgreementTerms | undefined, action: Action, time: number): boolean {
  if (parent === undefined || parent.status !== 'active') return false;
  if (parent.expiresAt !== undefined && time >= parent.expiresAt) return false;
  const granted = permissionOf(parent.policy, action);
  if (granted === undefined) return false;
  if ((parent.policy.prohibition ?? []).some((p) => p.action === action)) return false;
  const { from, until } = permissionWindow(granted, parent.acceptedAt);
  return !(from !== undefined && time < from) && !(until !== undefined && time >= until);
}

/**
 * Whether one more use of `request.action` is allowed under `agreement` (with its `parent` when it
 * is a sublicence), checked in this order: revoked, parent, permitted, prohibited, not yet valid,
 * expired, territory, devices, count. `remaining` is what the count allows after this use (null
 * when the action is not counted).
 */
export function usageDecision(
  agreement: AgreementTerms,
  parent: AgreementTerms | undefined,
  request: UsageRequest,
): UsageDecision {
  const refuse = (code: UsageRefusal): UsageDecision => ({ ok: false, code });
  const { action, time } = request;
  if (agreement.status !== 'active') return refuse('agreement_revoked');
  if (agreement.parent !== undefined && !parentAllows(parent, action, time)) {
    return refuse('parent_invalid');
  }
  const permission = permissionOf(agreement.policy, action);
  if (permission === undefined) return refuse('action_not_permitted');
  if ((agreement.policy.prohibition ?? []).some((p) => p.action === action)) {
    return refuse('action_prohibited');
  }
  const { from, until } = permissionWindow(permission, agreement.acceptedAt);
  if (from !== undefined && time < from) return refuse('not_yet_valid');
  if (until !== undefined && time >= until) return refuse('agreement_expired');
  if (agreement.expiresAt !== undefined && time >= agreement.expiresAt) {
    return refuse('agreement_expired');
  }
  const spatial = constraintOf(permission, 'spatial');
  if (
    spatial !== undefined &&
    (request.territory === undefined || !spatial.rightOperand.includes(request.territory))
  ) {
    return refuse('territory_not_allowed');
  }
  const deviceCount = constraintOf(permission, 'deviceCount');
  if (deviceCount !== undefined) {
    if (request.device === undefined) return refuse('device_limit_reached');
    // The agreement's devices are one list for all its actions: an action limited to n devices
    // is refused once the agreement has been used on more than n, whichever action used them.
    const known = new Set([...agreement.devices, ...request.pendingDevices, request.device]);
    if (known.size > deviceCount.rightOperand) return refuse('device_limit_reached');
  }
  const count = constraintOf(permission, 'count');
  if (count === undefined) return { ok: true, remaining: null };
  const used = (agreement.used[action] ?? 0) + Math.max(0, request.pendingUses);
  if (used + 1 > count.rightOperand) return refuse('count_exhausted');
  return { ok: true, remaining: count.rightOperand - used - 1 };
}

// ---- ODRL JSON-LD -----------------------------------------------------------------------------------

export const odrlContext = 'http://www.w3.org/ns/odrl.jsonld';

export interface OdrlParties {
  uid: string;
  type: 'Offer' | 'Agreement';
  /** The content id: the target is `urn:coffer:content:<id>`. */
  target: string;
  assigner: string;
  assignee?: string | undefined;
}

function isoTime(ms: number): string {
  // Civil date from days (no Date: the handlers and the gateway render the same text).
  const days = Math.floor(ms / 86_400_000);
  const rest = ms - days * 86_400_000;
  const z0 = days + 719_468;
  const era = Math.floor(z0 / 146_097);
  const doe = z0 - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const h = Math.floor(rest / 3_600_000);
  const min = Math.floor((rest % 3_600_000) / 60_000);
  const s = Math.floor((rest % 60_000) / 1000);
  const msPart = rest % 1000;
  return `${pad(y, 4)}-${pad(m)}-${pad(d)}T${pad(h)}:${pad(min)}:${pad(s)}.${pad(msPart, 3)}Z`;
}

/** An ISO 8601 duration of whole seconds (ms rounded down: a rendering, not the rule). */
function isoDuration(ms: number): string {
  return `PT${Math.floor(ms / 1000)}S`;
}

function odrlConstraint(c: Constraint): Record<string, unknown> {
  switch (c.leftOperand) {
    case 'dateTime':
      return {
        leftOperand: 'dateTime',
        operator: c.operator,
        rightOperand: { '@value': isoTime(c.rightOperand), '@type': 'xsd:dateTime' },
      };
    case 'elapsedTime':
      return {
        leftOperand: 'elapsedTime',
        operator: c.operator,
        rightOperand: { '@value': isoDuration(c.rightOperand), '@type': 'xsd:duration' },
      };
    case 'spatial':
      return {
        leftOperand: 'spatial',
        operator: 'isAnyOf',
        rightOperand: c.rightOperand.map((t) => `urn:iso:std:iso:3166:-1:alpha-2:${t}`),
      };
    case 'count':
    case 'deviceCount':
      return {
        leftOperand: c.leftOperand === 'count' ? 'count' : 'deviceQuantity',
        operator: c.operator,
        rightOperand: { '@value': c.rightOperand, '@type': 'xsd:integer' },
      };
  }
}

/** The policy rendered as ODRL 2.2 JSON-LD (an Offer or an Agreement). */
export function toOdrl(policy: Policy, parties: OdrlParties): Record<string, unknown> {
  const target = `urn:coffer:content:${parties.target}`;
  const assigner = `urn:coffer:account:${parties.assigner}`;
  const document: Record<string, unknown> = {
    '@context': odrlContext,
    '@type': parties.type,
    uid: `urn:coffer:${parties.type === 'Offer' ? 'offer' : 'agreement'}:${parties.uid}`,
    profile: 'urn:coffer:licensing:v1',
    permission: policy.permission.map((p) => {
      const rule: Record<string, unknown> = { target, assigner, action: p.action };
      if (parties.assignee !== undefined) {
        rule.assignee = `urn:coffer:account:${parties.assignee}`;
      }
      if (p.constraint !== undefined && p.constraint.length > 0) {
        rule.constraint = p.constraint.map(odrlConstraint);
      }
      if (policy.duty !== undefined) {
        rule.duty = policy.duty.map((d) => ({
          action: [
            {
              'rdf:value': { '@id': 'odrl:compensate' },
              refinement: [
                {
                  leftOperand: 'payAmount',
                  operator: 'eq',
                  rightOperand: { '@value': d.payAmount, '@type': 'xsd:decimal' },
                  unit: `urn:coffer:asset:${d.unit}`,
                },
              ],
            },
          ],
        }));
      }
      return rule;
    }),
  };
  if (policy.prohibition !== undefined && policy.prohibition.length > 0) {
    document.prohibition = policy.prohibition.map((p) => ({ target, assigner, action: p.action }));
  }
  return document;
}
