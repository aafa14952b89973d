import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import {
  agreementExpiry,
  odrlContext,
  parsePolicy,
  policyActions,
  toOdrl,
  usageDecision,
  withinParent,
  type Action,
  type AgreementTerms,
  type Constraint,
  type Permission,
  type Policy,
  type UsageRequest,
} from './policy.js';

/*
 * Policies: parsing with codes, the ODRL rendering, the decisions in their order, and three
 * properties over random policies: `usageDecision` never allows a use beyond a count, a time
 * window, a territory or a device limit (also over request sequences, as a gateway counts
 * pending uses); `withinParent` accepts only children whose every allowed use the parent allows.
 */

const t0 = 1_750_000_000_000;
const hour = 3_600_000;

function terms(policy: Policy, extra: Partial<AgreementTerms> = {}): AgreementTerms {
  return {
    policy,
    acceptedAt: t0,
    expiresAt: agreementExpiry(policy, t0),
    used: {},
    devices: [],
    status: 'active',
    ...extra,
  };
}

const request = (extra: Partial<UsageRequest> = {}): UsageRequest => ({
  action: 'play',
  time: t0 + 1000,
  territory: 'FR',
  device: 'd'.repeat(64),
  pendingUses: 0,
  pendingDevices: [],
  ...extra,
});

const full: Policy = {
  permission: [
    {
      action: 'play',
      constraint: [
        { leftOperand: 'count', operator: 'lteq', rightOperand: 2 },
        { leftOperand: 'dateTime', operator: 'gteq', rightOperand: t0 },
        { leftOperand: 'dateTime', operator: 'lt', rightOperand: t0 + 10 * hour },
        { leftOperand: 'elapsedTime', operator: 'lteq', rightOperand: hour },
        { leftOperand: 'spatial', operator: 'isAnyOf', rightOperand: ['FR', 'DE'] },
        { leftOperand: 'deviceCount', operator: 'lteq', rightOperand: 1 },
      ],
    },
  ],
  prohibition: [{ action: 'download' }],
  duty: [{ action: 'compensate', payAmount: '250', unit: 'USD' }],
};

describe('parsePolicy', () => {
  it('parses a full policy and names the problem of a bad one', () => {
    assert.deepEqual(parsePolicy(full), full);
    const cases: [unknown, string][] = [
      [null, 'invalid_licence_policy'],
      [{ permission: [{ action: 'stream' }] }, 'invalid_licence_policy'],
      [{ permission: [{ action: 'play' }], extra: 1 }, 'invalid_licence_policy'],
      [{ permission: [{ action: 'play' }, { action: 'play' }] }, 'policy_action_duplicate'],
      [
        { permission: [{ action: 'play' }], prohibition: [{ action: 'play' }] },
        'policy_prohibition_conflict',
      ],
      [
        {
          permission: [
            {
              action: 'play',
              constraint: [
                { leftOperand: 'dateTime', operator: 'gteq', rightOperand: t0 },
                { leftOperand: 'dateTime', operator: 'lt', rightOperand: t0 },
              ],
            },
          ],
        },
        'policy_window_empty',
      ],
      [
        {
          permission: [
            {
              action: 'play',
              constraint: [
                { leftOperand: 'spatial', operator: 'isAnyOf', rightOperand: ['FR', 'FR'] },
              ],
            },
          ],
        },
        'policy_territory_duplicate',
      ],
      [
        {
          permission: [
            {
              action: 'play',
              constraint: [{ leftOperand: 'count', operator: 'lteq', rightOperand: 0 }],
            },
          ],
        },
        'invalid_licence_policy',
      ],
      [
        {
          permission: [
            {
              action: 'play',
              constraint: [{ leftOperand: 'elapsedTime', operator: 'lteq', rightOperand: 59_999 }],
            },
          ],
        },
        'invalid_licence_policy',
      ],
      [
        {
          permission: [{ action: 'play' }],
          duty: [
            { action: 'compensate', payAmount: '1', unit: 'USD' },
            { action: 'compensate', payAmount: '1', unit: 'USD' },
          ],
        },
        'invalid_duty',
      ],
      [
        {
          permission: [{ action: 'play' }],
          duty: [{ action: 'compensate', payAmount: '1.5', unit: 'USD' }],
        },
        'invalid_duty',
      ],
    ];
    for (const [json, code] of cases) {
      assert.deepEqual(parsePolicy(json), { code }, JSON.stringify(json));
    }
  });
});

describe('toOdrl', () => {
  it('renders an agreement as ODRL 2.2 JSON-LD', () => {
    const odrl = toOdrl(full, {
      uid: 'ab'.repeat(32),
      type: 'Agreement',
      target: 'cd'.repeat(32),
      assigner: 'cof1holder',
      assignee: 'cof1licensee',
    });
    assert.equal(odrl['@context'], odrlContext);
    assert.equal(odrl['@type'], 'Agreement');
    const [permission] = odrl.permission as Record<string, unknown>[];
    assert.equal(permission!.target, `urn:coffer:content:${'cd'.repeat(32)}`);
    assert.equal(permission!.assignee, 'urn:coffer:account:cof1licensee');
    const constraints = permission!.constraint as Record<string, unknown>[];
    assert.deepEqual(constraints[1], {
      leftOperand: 'dateTime',
      operator: 'gteq',
      rightOperand: { '@value': '2025-06-15T15:06:40.000Z', '@type': 'xsd:dateTime' },
    });
    assert.deepEqual(constraints[3]!.rightOperand, {
      '@value': 'PT3600S',
      '@type': 'xsd:duration',
    });
    assert.deepEqual(odrl.prohibition, [
      {
        target: `urn:coffer:content:${'cd'.repeat(32)}`,
        assigner: 'urn:coffer:account:cof1holder',
        action: 'download',
      },
    ]);
  });
});

describe('usageDecision', () => {
  it('checks in order: revoked, parent, permitted, prohibited, not yet, expired, territory, device, count', () => {
    const a = terms(full);
    assert.deepEqual(usageDecision(a, undefined, request()), { ok: true, remaining: 1 });
    const refusals: [AgreementTerms, AgreementTerms | undefined, Partial<UsageRequest>, string][] =
      [
        [{ ...a, status: 'revoked' }, undefined, { action: 'download' }, 'agreement_revoked'],
        [{ ...a, parent: 'p' }, undefined, {}, 'parent_invalid'],
        [{ ...a, parent: 'p' }, { ...a, status: 'revoked' }, {}, 'parent_invalid'],
        [{ ...a, parent: 'p' }, a, { time: t0 + hour }, 'parent_invalid'],
        [a, undefined, { action: 'print' }, 'action_not_permitted'],
        [a, undefined, { time: t0 - 1 }, 'not_yet_valid'],
        [a, undefined, { time: t0 + hour }, 'agreement_expired'],
        [a, undefined, { territory: 'US' }, 'territory_not_allowed'],
        [a, undefined, { territory: undefined }, 'territory_not_allowed'],
        [a, undefined, { device: undefined }, 'device_limit_reached'],
        [a, undefined, { pendingDevices: ['e'.repeat(64)] }, 'device_limit_reached'],
        [{ ...a, used: { play: 1 } }, undefined, { pendingUses: 1 }, 'count_exhausted'],
      ];
    for (const [agreement, parent, extra, code] of refusals) {
      assert.deepEqual(usageDecision(agreement, parent, request(extra)), { ok: false, code }, code);
    }
    // A known device is no new device; an uncounted action has no remaining count.
    assert.deepEqual(usageDecision({ ...a, devices: ['d'.repeat(64)] }, undefined, request()), {
      ok: true,
      remaining: 1,
    });
    assert.deepEqual(
      usageDecision(
        terms({ permission: [{ action: 'display' }] }),
        undefined,
        request({ action: 'display' }),
      ),
      { ok: true, remaining: null },
    );
  });
});

// ---- properties -----------------------------------------------------------------------------------

const territories = ['FR', 'DE', 'US', 'JP', 'BE'];
const devicePool = ['a', 'b', 'c', 'd'].map((c) => c.repeat(64));
const actions = fc.constantFrom(...policyActions);

const constraintArb: fc.Arbitrary<Constraint[]> = fc
  .record(
    {
      count: fc.integer({ min: 1, max: 6 }),
      from: fc.integer({ min: -3, max: 3 }),
      until: fc.integer({ min: 1, max: 6 }),
      elapsed: fc.integer({ min: 1, max: 6 }),
      spatial: fc.uniqueArray(fc.constantFrom(...territories), { minLength: 1, maxLength: 5 }),
      devices: fc.integer({ min: 1, max: 3 }),
    },
    { requiredKeys: [] },
  )
  .map((c) => {
    const list: Constraint[] = [];
    if (c.count !== undefined)
      list.push({ leftOperand: 'count', operator: 'lteq', rightOperand: c.count });
    const from = c.from === undefined ? undefined : t0 + c.from * hour;
    if (from !== undefined)
      list.push({ leftOperand: 'dateTime', operator: 'gteq', rightOperand: from });
    if (c.until !== undefined) {
      const until = t0 + c.until * hour;
      if (from === undefined || from < until) {
        list.push({ leftOperand: 'dateTime', operator: 'lt', rightOperand: until });
      }
    }
    if (c.elapsed !== undefined) {
      list.push({ leftOperand: 'elapsedTime', operator: 'lteq', rightOperand: c.elapsed * hour });
    }
    if (c.spatial !== undefined) {
      list.push({ leftOperand: 'spatial', operator: 'isAnyOf', rightOperand: c.spatial });
    }
    if (c.devices !== undefined) {
      list.push({ leftOperand: 'deviceCount', operator: 'lteq', rightOperand: c.devices });
    }
    return list;
  });

const permissionArb = (action: fc.Arbitrary<Action>): fc.Arbitrary<Permission> =>
  fc.record({ action, constraint: constraintArb });

const policyArb: fc.Arbitrary<Policy> = fc
  .uniqueArray(permissionArb(actions), { minLength: 1, maxLength: 6, selector: (p) => p.action })
  .map((permission) => ({ permission }));

const requestArb: fc.Arbitrary<UsageRequest> = fc.record({
  action: actions,
  time: fc.integer({ min: -4 * hour, max: 8 * hour }).map((d) => t0 + d),
  territory: fc.option(fc.constantFrom(...territories), { nil: undefined }),
  device: fc.option(fc.constantFrom(...devicePool), { nil: undefined }),
  pendingUses: fc.integer({ min: 0, max: 8 }),
  pendingDevices: fc.uniqueArray(fc.constantFrom(...devicePool), { maxLength: 3 }),
});

function constraintsOf(policy: Policy, action: Action): Constraint[] {
  return policy.permission.find((p) => p.action === action)?.constraint ?? [];
}

/** Every constraint of the permission holds for this one more use (the reference model). */
function allowedByModel(a: AgreementTerms, r: UsageRequest): boolean {
  const permission = a.policy.permission.find((p) => p.action === r.action);
  if (permission === undefined || a.status !== 'active') return false;
  for (const c of permission.constraint ?? []) {
    switch (c.leftOperand) {
      case 'count':
        if ((a.used[r.action] ?? 0) + r.pendingUses + 1 > c.rightOperand) return false;
        break;
      case 'dateTime':
        if (c.operator === 'gteq' ? r.time < c.rightOperand : r.time >= c.rightOperand)
          return false;
        break;
      case 'elapsedTime':
        if (r.time - a.acceptedAt > c.rightOperand) return false;
        break;
      case 'spatial':
        if (r.territory === undefined || !c.rightOperand.includes(r.territory)) return false;
        break;
      case 'deviceCount': {
        if (r.device === undefined) return false;
        const known = new Set([...a.devices, ...r.pendingDevices, r.device]);
        if (known.size > c.rightOperand) return false;
        break;
      }
    }
  }
  return true;
}

describe('properties', () => {
  it('usageDecision never allows a use beyond the count, time, territory or device constraints', () => {
    fc.assert(
      fc.property(
        policyArb,
        requestArb,
        fc.integer({ min: 0, max: 6 }),
        fc.uniqueArray(fc.constantFrom(...devicePool), { maxLength: 3 }),
        (policy, r, usedCount, devices) => {
          const a = terms(policy, { used: { [r.action]: usedCount }, devices });
          const decision = usageDecision(a, undefined, r);
          if (decision.ok) {
            assert.ok(
              allowedByModel(a, r),
              `allowed beyond the policy: ${JSON.stringify({ policy, r })}`,
            );
            const count = constraintsOf(policy, r.action).find((c) => c.leftOperand === 'count');
            assert.equal(
              decision.remaining,
              count === undefined ? null : count.rightOperand - usedCount - r.pendingUses - 1,
            );
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('a gateway counting pending uses never serves more than the count, on any device sequence', () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.array(fc.record({ action: actions, device: fc.constantFrom(...devicePool) }), {
          maxLength: 30,
        }),
        (policy, requests) => {
          const a = terms(policy);
          const served = new Map<Action, number>();
          const seen = new Set<string>();
          for (const { action, device } of requests) {
            const decision = usageDecision(a, undefined, {
              action,
              time: t0 + 1000,
              territory: 'FR',
              device,
              pendingUses: served.get(action) ?? 0,
              pendingDevices: [...seen],
            });
            if (!decision.ok) continue;
            served.set(action, (served.get(action) ?? 0) + 1);
            const deviceLimit = constraintsOf(policy, action).find(
              (c) => c.leftOperand === 'deviceCount',
            );
            // A device is recorded where the permission counts devices.
            if (deviceLimit !== undefined) {
              seen.add(device);
              assert.ok(seen.size <= deviceLimit.rightOperand);
            }
          }
          for (const [action, n] of served) {
            const count = constraintsOf(policy, action).find((c) => c.leftOperand === 'count');
            if (count !== undefined) assert.ok(n <= count.rightOperand, `${action}: ${n}`);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('withinParent accepts only children whose every allowed use the parent allows too', () => {
    fc.assert(
      fc.property(
        policyArb,
        policyArb,
        fc.integer({ min: 0, max: 2 * hour }),
        requestArb,
        (parentPolicy, childPolicy, offset, r) => {
          const parent = terms(parentPolicy);
          const offeredAt = t0 + offset;
          if (withinParent(childPolicy, parent, offeredAt) !== undefined) return;
          assert.ok(!childPolicy.permission.some((p) => p.action === 'sublicense'));
          // The child accepted at the offer: what it allows alone, the parent allows too (same
          // uses and devices so far), whatever the request.
          const child = terms(childPolicy, {
            acceptedAt: offeredAt,
            expiresAt: agreementExpiry(childPolicy, offeredAt),
          });
          const childDecision = usageDecision(child, undefined, r);
          if (childDecision.ok) {
            assert.ok(
              allowedByModel(parent, r),
              `child allows what the parent does not: ${JSON.stringify({ parentPolicy, childPolicy, offset, r })}`,
            );
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('withinParent refuses a child that drops or loosens any parent constraint', () => {
    fc.assert(
      fc.property(policyArb, (parentPolicy) => {
        const parent = terms(parentPolicy);
        for (const permission of parentPolicy.permission) {
          if (permission.action === 'sublicense') continue;
          const constraints = permission.constraint ?? [];
          // The same permission: within (elapsedTime remains whole at acceptance).
          assert.equal(withinParent({ permission: [permission] }, parent), undefined);
          for (let i = 0; i < constraints.length; i++) {
            const dropped = constraints.filter((_, j) => j !== i);
            assert.equal(
              withinParent(
                { permission: [{ action: permission.action, constraint: dropped }] },
                parent,
              ),
              'exceeds_parent',
            );
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
