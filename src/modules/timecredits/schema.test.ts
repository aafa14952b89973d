import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';
import type { z } from 'zod';

import { ModuleRegistry, reject, type Rejection } from '../../chain/index.js';
import { isAddress } from '../../crypto/index.js';
import { testAccount } from '../../../test/support/module-chain.js';
import { rejectionCodeFor } from '../../protocol/schema.js';
import { issuanceRequestBodySchema, timecreditsModule, timecreditsPayloads } from './index.js';

/*
 * The payload schemas against the parser they replaced: the hand-written readers of the module
 * before issue 15, kept here as the reference model (the same precedence: an unknown field first,
 * then each field in order, then the checks across fields). For random payloads, valid and not,
 * the node's parser (schema.ts through defineTxOf) must accept what the reference accepted, with
 * the same parsed value, and refuse what it refused, with the same code and field.
 */

// ---- the reference model: the readers as they were -----------------------------------------------

const referenceMinutesMax = 1_000_000_000n;

const wholeIn = (v: unknown, min: number, max: number): v is number =>
  Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;

const text = (v: unknown, bytesMax: number): v is string =>
  typeof v === 'string' &&
  v.trim().length > 0 &&
  Buffer.byteLength(v, 'utf8') <= bytesMax &&
  // eslint-disable-next-line no-control-regex
  !/[\u0000-\u001f\u007f]/.test(v);

function parseMinutes(v: unknown, allowZero: boolean): bigint | undefined {
  if (typeof v !== 'string' || !/^(0|[1-9][0-9]{0,9})$/.test(v)) return undefined;
  const minutes = BigInt(v);
  if (minutes > referenceMinutesMax || (!allowZero && minutes === 0n)) return undefined;
  return minutes;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function parsePolicy(v: unknown): unknown {
  if (!isRecord(v)) return reject('invalid_policy');
  const { kind, ...rest } = v;
  const keys = Object.keys(rest).sort().join(',');
  if (kind === 'none' && keys === '') return { kind: 'none' };
  if (
    kind === 'expiry' &&
    (keys === 'expiryDays' || keys === 'expiryDays,noticeDays') &&
    wholeIn(rest.expiryDays, 1, 36_500)
  ) {
    const noticeDays = rest.noticeDays ?? 7;
    if (!wholeIn(noticeDays, 0, 365)) return reject('invalid_policy');
    return { kind: 'expiry', expiryDays: rest.expiryDays, noticeDays };
  }
  if (
    kind === 'demurrage' &&
    keys === 'periodDays,ratePerPeriodBasisPoints' &&
    wholeIn(rest.ratePerPeriodBasisPoints, 1, 10_000) &&
    wholeIn(rest.periodDays, 1, 3_650)
  ) {
    return {
      kind: 'demurrage',
      ratePerPeriodBasisPoints: rest.ratePerPeriodBasisPoints,
      periodDays: rest.periodDays,
    };
  }
  return reject('invalid_policy');
}

function parsePayments(v: unknown): unknown {
  if (!Array.isArray(v) || v.length < 1 || v.length > 100) return reject('invalid_payments');
  const payments: { account: string; minutes: bigint }[] = [];
  for (const item of v as unknown[]) {
    if (!isRecord(item) || Object.keys(item).sort().join(',') !== 'account,minutes') {
      return reject('invalid_payments');
    }
    const minutes = parseMinutes(item.minutes, false);
    if (!isAddress(item.account) || minutes === undefined) return reject('invalid_payments');
    payments.push({ account: item.account, minutes });
  }
  if (new Set(payments.map((p) => p.account)).size !== payments.length) {
    return reject('invalid_payments');
  }
  return payments;
}

type Reader = (v: unknown) => unknown;
const optional =
  (read: Reader): Reader =>
  (v) =>
    v === undefined ? undefined : read(v);
const matching =
  (pattern: RegExp, code: string): Reader =>
  (v) =>
    typeof v === 'string' && pattern.test(v) ? v : reject(code);

const r = {
  bankId: matching(/^[0-9a-f]{16}$/, 'invalid_bank_id'),
  address: (v: unknown) => (isAddress(v) ? v : reject('invalid_address')),
  name: (v: unknown) => (text(v, 80) ? v : reject('invalid_bank_name')),
  coordinators: (v: unknown) =>
    Array.isArray(v) &&
    v.length >= 1 &&
    v.length <= 20 &&
    v.every((a) => isAddress(a)) &&
    new Set(v).size === v.length
      ? [...v].sort()
      : reject('invalid_coordinators'),
  policy: parsePolicy,
  minutes: (v: unknown) => parseMinutes(v, false) ?? reject('invalid_minutes'),
  creditLimit: (v: unknown) => parseMinutes(v, true) ?? reject('invalid_credit_limit'),
  userIdHash: matching(/^[0-9a-f]{64}$/, 'invalid_user_id_hash'),
  requestId: matching(/^[A-Za-z0-9_-]{1,64}$/, 'invalid_request_id'),
  authorization: (v: unknown) =>
    !isRecord(v) ||
    Object.keys(v).sort().join(',') !== 'coordinator,signature' ||
    !isAddress(v.coordinator) ||
    typeof v.signature !== 'string' ||
    !/^[0-9a-f]{128}$/.test(v.signature)
      ? reject('invalid_authorization')
      : { coordinator: v.coordinator, signature: v.signature },
  payments: parsePayments,
  kind: (v: unknown) => (v === 'offer' || v === 'request' ? v : reject('invalid_listing_kind')),
  title: (v: unknown) => (text(v, 120) ? v : reject('invalid_listing_title')),
  category: matching(/^[a-z0-9][a-z0-9-]{0,39}$/, 'invalid_category'),
  listing: (v: unknown) =>
    wholeIn(v, 0, Number.MAX_SAFE_INTEGER) ? v : reject('invalid_listing_id'),
  exchange: (v: unknown) =>
    wholeIn(v, 0, Number.MAX_SAFE_INTEGER) ? v : reject('invalid_exchange_id'),
  offer: (v: unknown) => (text(v, 200) ? v : reject('invalid_offer')),
};

const isRejection = (v: unknown): v is Rejection =>
  typeof v === 'object' && v !== null && 'code' in v && 'message' in v;

function referenceParser(
  fields: Record<string, Reader>,
  check?: (value: Record<string, unknown>) => Rejection | undefined,
) {
  return (payload: Record<string, unknown>): { value: Record<string, unknown> } | Rejection => {
    for (const key of Object.keys(payload)) {
      if (!Object.hasOwn(fields, key)) return reject('unknown_field', key);
    }
    const value: Record<string, unknown> = {};
    for (const [key, read] of Object.entries(fields)) {
      const result = read(payload[key]);
      if (isRejection(result)) return { ...result, field: key };
      if (result !== undefined) value[key] = result;
    }
    return check?.(value) ?? { value };
  };
}

const otherBank = (key: string) => (value: Record<string, unknown>) =>
  value.bankId === value[key] ? reject('invalid_partner_bank', key) : undefined;

const alliance = referenceParser(
  { bankId: r.bankId, partnerBankId: r.bankId },
  otherBank('partnerBankId'),
);
const bankAndAccount = referenceParser({ bankId: r.bankId, account: r.address });

const reference: Record<string, ReturnType<typeof referenceParser>> = {
  'timebank.create': referenceParser({
    name: r.name,
    coordinators: r.coordinators,
    policy: r.policy,
    creditLimitMinutes: r.creditLimit,
  }),
  'timebank.setPolicy': referenceParser(
    { bankId: r.bankId, policy: optional(r.policy), creditLimitMinutes: optional(r.creditLimit) },
    (v) =>
      v.policy === undefined && v.creditLimitMinutes === undefined
        ? reject('invalid_policy_change')
        : undefined,
  ),
  'timebank.addCoordinator': bankAndAccount,
  'timebank.removeCoordinator': bankAndAccount,
  'timebank.addMember': referenceParser({
    bankId: r.bankId,
    account: optional(r.address),
    userIdHash: r.userIdHash,
  }),
  'timebank.approveMember': bankAndAccount,
  'timebank.rejectMember': bankAndAccount,
  'timecredits.issue': referenceParser(
    {
      bankId: r.bankId,
      account: optional(r.address),
      userIdHash: optional(r.userIdHash),
      minutes: r.minutes,
      requestId: r.requestId,
      authorization: optional(r.authorization),
    },
    (v) =>
      (v.account === undefined) === (v.userIdHash === undefined)
        ? reject('invalid_issue_target')
        : undefined,
  ),
  'timecredits.postListing': referenceParser({
    bankId: r.bankId,
    kind: r.kind,
    title: r.title,
    category: r.category,
    minutes: r.minutes,
  }),
  'timecredits.closeListing': referenceParser({ bankId: r.bankId, listing: r.listing }),
  'timecredits.recordExchange': referenceParser({
    bankId: r.bankId,
    recipient: r.address,
    minutes: r.minutes,
    offer: optional(r.offer),
    listing: optional(r.listing),
  }),
  'timecredits.confirmExchange': referenceParser({ bankId: r.bankId, exchange: r.exchange }),
  'timecredits.payMany': referenceParser({ bankId: r.bankId, payments: r.payments }),
  'timebank.proposeAlliance': alliance,
  'timebank.acceptAlliance': alliance,
  'timebank.endAlliance': alliance,
  'timecredits.transferAcross': referenceParser(
    { bankId: r.bankId, toBankId: r.bankId, to: r.address, minutes: r.minutes },
    otherBank('toBankId'),
  ),
};

// ---- random payloads, mostly valid -----------------------------------------------------------------

const addresses = [1, 2, 3, 4].map((seed) => testAccount(seed).address);
const anyJunk = fc.oneof(
  fc.constant(null),
  fc.constant(true),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 6 }),
  fc.constant([]),
  fc.constant({}),
);
const sometimes = <T>(valid: fc.Arbitrary<T>, ...invalid: fc.Arbitrary<unknown>[]) =>
  fc.oneof({ arbitrary: valid, weight: 6 }, ...invalid.map((a) => ({ arbitrary: a, weight: 1 })));

const bankIds = ['0123456789abcdef', 'fedcba9876543210'];
const bankId = sometimes(
  fc.constantFrom(...bankIds),
  fc.constantFrom('0123456789ABCDEF', '0123456789abcde', 'xyz'),
  anyJunk,
);
const address = sometimes(fc.constantFrom(...addresses), fc.constantFrom('cof1nope', ''), anyJunk);
const minutesOf = (min: bigint) =>
  sometimes(
    fc.bigInt({ min, max: referenceMinutesMax }).map(String),
    fc.constantFrom('0', '01', '1.5', '-1', '1000000001', '99999999999', ' 5', ''),
    fc.bigInt({ min: 0n, max: 2_000_000_000n }).map(String),
    fc.integer({ min: 0, max: 100 }),
    anyJunk,
  );
const textOf = (bytesMax: number) =>
  sometimes(
    fc.string({ minLength: 1, maxLength: Math.floor(bytesMax / 4) }).filter((s) => s.trim() !== ''),
    fc.constantFrom(' ', '', 'a\nb', 'x\u007f', 'x'.repeat(bytesMax), 'x'.repeat(bytesMax + 1)),
    fc.constantFrom('é'.repeat(bytesMax / 2), 'é'.repeat(bytesMax / 2 + 1), '\ud800'),
    fc.string({ unit: 'grapheme', maxLength: bytesMax }),
    anyJunk,
  );
const hex = (bytes: number) =>
  fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('hex'));
const userIdHash = sometimes(
  hex(32),
  hex(31),
  hex(32).map((h) => h.toUpperCase()),
  anyJunk,
);
const requestId = sometimes(
  fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
  fc.constantFrom('a b', '', 'r'.repeat(65), 'é'),
  anyJunk,
);
const whole = sometimes(
  fc.integer({ min: 0, max: 1_000 }),
  fc.constantFrom(-1, 1.5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, -0),
  fc.constantFrom('3', Infinity, NaN),
  anyJunk,
);
const days = (max: number) =>
  sometimes(fc.integer({ min: 0, max: max + 1 }), fc.constantFrom(-1, 1.5, '30', null));
const policy = sometimes(
  fc.oneof(
    fc.constant({ kind: 'none' }),
    fc.record({ kind: fc.constant('expiry'), expiryDays: days(36_500) }),
    fc.record({
      kind: fc.constant('expiry'),
      expiryDays: days(36_500),
      noticeDays: sometimes(days(365), fc.constant(null)),
    }),
    fc.record({
      kind: fc.constant('demurrage'),
      ratePerPeriodBasisPoints: days(10_000),
      periodDays: days(3_650),
    }),
  ),
  fc.constantFrom(
    { kind: 'none', expiryDays: 3 },
    { kind: 'expiry' },
    { kind: 'demurrage', ratePerPeriodBasisPoints: 10 },
    { kind: 'gift' },
    { expiryDays: 30 },
  ),
  fc.record({ kind: fc.constant('expiry'), expiryDays: days(10), extra: fc.constant(1) }),
  anyJunk,
);
const coordinators = sometimes(
  fc.uniqueArray(fc.constantFrom(...addresses), { minLength: 1, maxLength: 4 }),
  fc.array(address, { maxLength: 4 }),
  fc.constant(Array.from({ length: 21 }, (_, i) => testAccount(100 + i).address)),
  anyJunk,
);
const authorization = sometimes(
  fc.record({ coordinator: fc.constantFrom(...addresses), signature: hex(64) }),
  fc.record({ coordinator: address, signature: sometimes(hex(64), hex(63), anyJunk) }),
  fc.record({ coordinator: fc.constantFrom(...addresses) }),
  fc.record({ coordinator: fc.constantFrom(...addresses), signature: hex(64), by: fc.constant(1) }),
  anyJunk,
);
const payment = sometimes(
  fc.record({ account: fc.constantFrom(...addresses), minutes: minutesOf(1n) }),
  fc.record({ account: address }),
  fc.record({ account: address, minutes: minutesOf(1n), memo: fc.constant('x') }),
  anyJunk,
);
const payments = sometimes(
  fc.array(payment, { minLength: 1, maxLength: 4 }),
  fc.constant([]),
  fc.constant(
    Array.from({ length: 101 }, (_, i) => ({
      account: testAccount(i).address,
      minutes: '1',
    })),
  ),
  anyJunk,
);

const fieldValues: Record<string, fc.Arbitrary<unknown>> = {
  bankId,
  partnerBankId: bankId,
  toBankId: bankId,
  account: address,
  recipient: address,
  to: address,
  name: textOf(80),
  title: textOf(120),
  offer: textOf(200),
  coordinators,
  policy,
  creditLimitMinutes: minutesOf(0n),
  minutes: minutesOf(1n),
  userIdHash,
  requestId,
  authorization,
  payments,
  kind: sometimes(fc.constantFrom('offer', 'request'), fc.constantFrom('gift', 'Offer'), anyJunk),
  category: sometimes(
    fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,39}$/),
    fc.constantFrom('-x', 'Garden', 'x'.repeat(41), ''),
    anyJunk,
  ),
  listing: whole,
  exchange: whole,
};

/** A payload of `type`: its schema's fields (now and then a few left out), now and then an unknown one. */
function payloadOf(type: keyof typeof timecreditsPayloads) {
  const keys = Object.keys(timecreditsPayloads[type].shape);
  const all = fc.record(Object.fromEntries(keys.map((key) => [key, fieldValues[key]!])));
  // Mostly every field, so that the later fields' checks are reached too.
  const leftOut = fc.oneof(
    { arbitrary: fc.constant([] as string[]), weight: 4 },
    { arbitrary: fc.constantFrom(...keys).map((key) => [key]), weight: 2 },
    { arbitrary: fc.subarray(keys), weight: 1 },
  );
  const extra = fc.oneof(
    { arbitrary: fc.constant(null), weight: 8 },
    { arbitrary: fc.constantFrom('memo', 'constructor', 'amount', 'bankid'), weight: 1 },
  );
  return fc.tuple(all, leftOut, extra).map(([payload, out, unknown]) => {
    const value = Object.fromEntries(Object.entries(payload).filter(([key]) => !out.includes(key)));
    if (unknown !== null) value[unknown] = 'x';
    return value;
  });
}

/** JSON of a parse result: bigints written with an `n`, the message left out (same code). */
function show(result: unknown): string {
  return JSON.stringify(result, (key, v: unknown) =>
    key === 'message' ? undefined : typeof v === 'bigint' ? `${v}n` : v,
  );
}

const registry = new ModuleRegistry([timecreditsModule]);

describe('payload schemas against the readers they replaced', () => {
  it('every tx type of the module has a schema and a reference parser', () => {
    assert.deepEqual(Object.keys(timecreditsModule.txs), Object.keys(timecreditsPayloads));
    assert.deepEqual(Object.keys(reference).sort(), Object.keys(timecreditsPayloads).sort());
  });

  for (const type of Object.keys(timecreditsPayloads) as (keyof typeof timecreditsPayloads)[]) {
    it(`property: ${type} accepts and refuses as before, with the same value, code and field`, () => {
      const parse = registry.parserFor(type)!;
      let accepted = 0;
      fc.assert(
        fc.property(payloadOf(type), (payload) => {
          // As the node sees it: after a JSON round trip.
          const sent = JSON.parse(JSON.stringify(payload)) as Record<string, unknown>;
          const expected = reference[type]!(sent);
          const actual = parse(sent);
          assert.equal(show(actual), show(expected), JSON.stringify(sent));
          if ('value' in actual) accepted += 1;
        }),
        { numRuns: 400 },
      );
      // A property that only ever saw refusals would say little about accepted values.
      assert.ok(accepted > 0, `${type}: some random payloads parse`);
    });
  }

  it('the refusals of the old tests, in precedence order, keep their codes and fields', () => {
    const parse = (type: string, payload: Record<string, unknown>) => {
      const result = registry.parserFor(type)!(payload);
      return 'code' in result ? [result.code, result.field] : 'ok';
    };
    const bank = bankIds[0]!;
    const cases: [string, Record<string, unknown>, unknown][] = [
      [
        'timebank.addCoordinator',
        { bankId: bank, account: addresses[0], x: 1 },
        ['unknown_field', 'x'],
      ],
      [
        'timebank.addCoordinator',
        { bankId: 'XYZ', account: 'nope' },
        ['invalid_bank_id', 'bankId'],
      ],
      ['timebank.addCoordinator', { bankId: bank }, ['invalid_address', 'account']],
      ['timebank.setPolicy', { bankId: bank }, ['invalid_policy_change', undefined]],
      [
        'timebank.setPolicy',
        { bankId: bank, policy: { kind: 'expiry', expiryDays: 30, noticeDays: null } },
        'ok',
      ],
      [
        'timecredits.issue',
        { bankId: bank, minutes: '5', requestId: 'r' },
        ['invalid_issue_target', undefined],
      ],
      [
        'timebank.proposeAlliance',
        { bankId: bank, partnerBankId: bank },
        ['invalid_partner_bank', 'partnerBankId'],
      ],
      [
        'timecredits.transferAcross',
        { bankId: bank, toBankId: bank, to: addresses[0], minutes: '1' },
        ['invalid_partner_bank', 'toBankId'],
      ],
      [
        'timecredits.payMany',
        { bankId: bank, payments: [{ account: addresses[0], minutes: '0' }] },
        ['invalid_payments', 'payments'],
      ],
    ];
    for (const [type, payload, expected] of cases) {
      assert.deepEqual(parse(type, payload), expected, `${type} ${JSON.stringify(payload)}`);
    }
  });
});

describe('the issuance request body against the checks the route made by hand', () => {
  // The route's checks before issue 15, field by field, in the order it made them.
  const before: Record<string, (v: string) => boolean> = {
    requestId: (v) => /^[A-Za-z0-9_-]{1,64}$/.test(v),
    userId: (v) =>
      v.trim().length > 0 &&
      Buffer.byteLength(v, 'utf8') <= 254 &&
      // eslint-disable-next-line no-control-regex
      !/[\u0000-\u001f\u007f]/.test(v),
    minutes: (v) => /^[1-9][0-9]{0,9}$/.test(v) && BigInt(v) <= 1_000_000_000n,
    coordinator: (v) => isAddress(v),
    signature: (v) => /^[0-9a-f]{128}$/.test(v),
  };
  const codes: Record<string, string> = {
    requestId: 'invalid_request_id',
    userId: 'invalid_user_id',
    minutes: 'invalid_minutes',
    coordinator: 'invalid_address',
    signature: 'invalid_authorization',
  };
  const strings = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: 'grapheme', maxLength: 130 }),
    fc.stringMatching(/^[0-9.]{0,12}$/),
    fc.bigInt({ min: 0n, max: 2_000_000_000n }).map(String),
    hex(64),
    fc.constantFrom(...addresses, 'x'.repeat(254), 'x'.repeat(255), 'é'.repeat(127)),
  );

  const bodyFields: Record<string, z.ZodType> = issuanceRequestBodySchema.shape;

  it('lists the fields in the order the route checks them', () => {
    assert.deepEqual(Object.keys(issuanceRequestBodySchema.shape), Object.keys(before));
  });

  it('property: each field accepts what the route accepted and refuses the rest with its code, never throwing', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(before)), strings, (key, value) => {
        const field = bodyFields[key]!;
        const result = field.safeParse(value);
        assert.equal(result.success, before[key]!(value), `${key} ${JSON.stringify(value)}`);
        if (!result.success) {
          assert.equal(rejectionCodeFor(field, result.error, 'invalid_request'), codes[key]);
        }
      }),
      { numRuns: 2_000 },
    );
  });
});
