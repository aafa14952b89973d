import { z } from 'zod';
import {
  CryptoInputError,
  canonicalBytes,
  isAddress,
  sha256Hex,
  utf8,
} from '../../crypto/index.js';
import { coded, hexOf, wire } from '../../protocol/schema.js';
import { listingKindSchema } from './records.js';

export * from './records.js';

/*
 * The time banks' wire contract (issue 5), one definition for the node, the OpenAPI document, the
 * SDK and the CLI: each tx payload as a zod schema whose fields carry their rejection codes, each
 * record a `/v1/timebanks` route answers, and the pure helpers both sides need (the salted user
 * identifier hash, the issuance request hash, hours written as `H:MM`). Pure: zod, src/crypto and
 * src/protocol only, so a browser bundle of the SDK loads nothing of the node.
 *
 * Minutes travel as decimal strings of whole minutes (`"150"`); a payload's minutes become bigints
 * when the node parses them.
 */

// ---- limits --------------------------------------------------------------------------------------

/** Minutes in one tx or request: about 1,900 years of hours, far beyond any exchange. */
export const minutesMax = 1_000_000_000n;
/** Coordinators of one bank: the bank record is one state value. */
export const coordinatorsMax = 20;
export const bankNameBytesMax = 80;
export const offerBytesMax = 200;
export const listingTitleBytesMax = 120;
export const expiryDaysMax = 36_500;
export const demurragePeriodDaysMax = 3_650;
/** 100% in basis points: the highest demurrage rate per period. */
export const demurrageRateMax = 10_000;
/** Default and bounds of an expiry policy's notice: how many days ahead `expiring` fires. */
export const noticeDaysDefault = 7;
export const noticeDaysMax = 365;
/** Payments in one `timecredits.payMany` (each may touch a payee's 500 lots). */
export const paymentsMax = 100;
/** A user identifier (handle or email) as an issuance request carries it, in UTF-8 bytes. */
export const userIdBytesMax = 254;

// ---- identifiers and patterns --------------------------------------------------------------------

const bankIdPattern = /^[0-9a-f]{16}$/;
const hashPattern = /^[0-9a-f]{64}$/;
const requestIdPattern = /^[A-Za-z0-9_-]{1,64}$/;
const categoryPattern = /^[a-z0-9][a-z0-9-]{0,39}$/;
/** Minutes as a payload writes them: no leading zero, at most 10 digits (then at most the max). */
const payloadMinutesPattern = /^(0|[1-9][0-9]{0,9})$/;

/** True for a time bank id: 16 lowercase hex digits. */
export function isTimebankId(value: unknown): boolean {
  return typeof value === 'string' && bankIdPattern.test(value);
}

/** True for an issuance request id: 1 to 64 characters A-Z, a-z, 0-9, `-` and `_`. */
export function isRequestId(value: unknown): boolean {
  return typeof value === 'string' && requestIdPattern.test(value);
}

/**
 * True for text a record may hold: not blank, at most `bytesMax` bytes of UTF-8, no control
 * characters (names, titles, offers, user identifiers).
 */
function isText(value: unknown, bytesMax: number): boolean {
  return (
    typeof value === 'string' &&
    value.trim().length > 0 &&
    utf8(value).length <= bytesMax &&
    // eslint-disable-next-line no-control-regex
    !/[\u0000-\u001f\u007f]/.test(value)
  );
}

/** True for a user identifier as an issuance request carries it (1 to 254 bytes of text). */
export function isUserId(value: unknown): boolean {
  return isText(value, userIdBytesMax);
}

/** A bank's id: the first 16 hex digits of the hash of the `timebank.create` tx. */
export function timebankIdOf(createTxHash: string): string {
  if (typeof createTxHash !== 'string' || !hashPattern.test(createTxHash)) {
    throw new CryptoInputError('createTxHash', 'createTxHash must be 64 lowercase hex digits');
  }
  return createTxHash.slice(0, 16);
}

/** The module's name for `timebankIdOf`: the same function. */
export const bankIdOf = timebankIdOf;

/**
 * The salted hash a member's user identifier (handle or email) is stored as; `salt` is the bank's
 * (`Timebank.salt`, the hash of the tx that created it). Clients hash before they submit, so the
 * identifier never reaches the ledger in clear. The identifier is hashed as given: normalize it
 * (case, spaces) first.
 */
export function hashUserId(salt: string, userId: string): string {
  if (typeof salt !== 'string' || !hashPattern.test(salt)) {
    throw new CryptoInputError('salt', "salt must be the bank's salt: 64 lowercase hex digits");
  }
  if (typeof userId !== 'string' || userId.length === 0) {
    throw new CryptoInputError('userId', 'userId must be a non-empty string');
  }
  return sha256Hex(`coffer/timecredits/user/v1\0${salt}\0${userId}`);
}

// ---- minutes and hours ---------------------------------------------------------------------------

const minutesTextPattern = /^(0|[1-9][0-9]*)$/;

/** A whole number of minutes as a bigint, or a decimal string of one. */
export type Minutes = bigint | string;

/** The decimal string of whole `minutes` (0 allowed); a `CryptoInputError` naming `field` else. */
export function minutesText(minutes: Minutes, field = 'minutes'): string {
  const text = typeof minutes === 'bigint' ? minutes.toString() : minutes;
  if (typeof text !== 'string' || !minutesTextPattern.test(text)) {
    throw new CryptoInputError(
      field,
      `${field} must be a whole number of minutes, as a bigint or a decimal string such as "150"`,
    );
  }
  return text;
}

const hoursPatterns = {
  /** `10`: whole hours. */
  hours: /^([0-9]{1,10})$/,
  /** `2:30`: hours and minutes, the minutes two digits below 60. */
  clock: /^([0-9]{1,10}):([0-5][0-9])$/,
  /** `90m`: minutes. */
  minutes: /^([0-9]{1,12})m$/,
  /** `1.5`: decimal hours that make whole minutes. */
  decimal: /^([0-9]{1,10})\.([0-9]{1,9})$/,
};

/**
 * Hours as people write them, to whole minutes: `10` (hours), `2:30` (hours and minutes), `90m`
 * (minutes) or `1.5` (decimal hours, which must make whole minutes: `0.1` is 6 minutes, `0.01` is
 * refused). Zero is allowed (`0`, `0:00`: a credit limit); nothing above `minutesMax`. Anything
 * else throws a `CryptoInputError` naming `field`, with the accepted forms in its message.
 */
export function parseHours(text: string, field = 'hours'): bigint {
  const refuse = (why: string) =>
    new CryptoInputError(field, `${field} ${JSON.stringify(text)} ${why}`);
  if (typeof text !== 'string') {
    throw new CryptoInputError(field, `${field} must be a string such as "2:30"`);
  }
  let minutes: bigint;
  let match: RegExpExecArray | null;
  if ((match = hoursPatterns.hours.exec(text))) {
    minutes = BigInt(match[1]!) * 60n;
  } else if ((match = hoursPatterns.clock.exec(text))) {
    minutes = BigInt(match[1]!) * 60n + BigInt(match[2]!);
  } else if ((match = hoursPatterns.minutes.exec(text))) {
    minutes = BigInt(match[1]!);
  } else if ((match = hoursPatterns.decimal.exec(text))) {
    const fraction = match[2]!;
    const scale = 10n ** BigInt(fraction.length);
    const sixtieths = BigInt(fraction) * 60n;
    if (sixtieths % scale !== 0n) {
      throw refuse(
        'is not a whole number of minutes; write H:MM (such as 1:20) or minutes (such as 80m)',
      );
    }
    minutes = BigInt(match[1]!) * 60n + sixtieths / scale;
  } else {
    throw refuse('is not hours: write H (10), H:MM (2:30), minutes (90m) or decimal hours (1.5)');
  }
  if (minutes > minutesMax) throw refuse(`is more than ${minutesMax} minutes`);
  return minutes;
}

/** Minutes as `H:MM` (`150n` is `2:30`, `-90n` is `-1:30`); takes a bigint or a decimal string. */
export function formatMinutes(minutes: Minutes): string {
  const value =
    typeof minutes === 'bigint'
      ? minutes
      : typeof minutes === 'string' && /^-?(0|[1-9][0-9]*)$/.test(minutes)
        ? BigInt(minutes)
        : undefined;
  if (value === undefined) {
    throw new CryptoInputError('minutes', 'minutes must be a bigint or a decimal string');
  }
  const prefix = value < 0n ? '-' : '';
  const magnitude = value < 0n ? -value : value;
  return `${prefix}${magnitude / 60n}:${String(magnitude % 60n).padStart(2, '0')}`;
}

// ---- issuance requests ---------------------------------------------------------------------------

/**
 * The fields an issuance authorization covers: those of the `timecredits.issue` payload, the
 * member named by exactly one of `userIdHash` (what the issuance-request route uses) and `account`.
 */
export interface IssuanceRequestFields {
  chainId: string;
  bankId: string;
  requestId: string;
  userIdHash?: string;
  account?: string;
  /** Whole minutes, 1 to `minutesMax`; hashed as a decimal string. */
  minutes: Minutes;
}

/** The module's name for `IssuanceRequestFields`. */
export type IssuanceRequest = IssuanceRequestFields;

function checkRequestFields(fields: IssuanceRequestFields): Record<string, string> {
  const { chainId, bankId, requestId, userIdHash, account } = fields;
  if (typeof chainId !== 'string' || chainId.length === 0) {
    throw new CryptoInputError('chainId', 'chainId must be a non-empty string');
  }
  if (!isTimebankId(bankId)) {
    throw new CryptoInputError('bankId', 'bankId must be 16 lowercase hex digits');
  }
  if (!isRequestId(requestId)) {
    throw new CryptoInputError(
      'requestId',
      'requestId must be 1 to 64 characters: A-Z, a-z, 0-9, "-" and "_"',
    );
  }
  if ((userIdHash === undefined) === (account === undefined)) {
    throw new CryptoInputError(
      'userIdHash',
      'name the member by exactly one of userIdHash and account',
    );
  }
  if (
    userIdHash !== undefined &&
    (typeof userIdHash !== 'string' || !hashPattern.test(userIdHash))
  ) {
    throw new CryptoInputError('userIdHash', 'userIdHash must be 64 lowercase hex digits');
  }
  if (account !== undefined && !isAddress(account)) {
    throw new CryptoInputError('account', 'account must be a Coffer address');
  }
  const minutes = minutesText(fields.minutes);
  if (minutes === '0' || BigInt(minutes) > minutesMax) {
    throw new CryptoInputError('minutes', `minutes must be from 1 to ${minutesMax}`);
  }
  return {
    chainId,
    bankId,
    requestId,
    ...(userIdHash === undefined ? {} : { userIdHash }),
    ...(account === undefined ? {} : { account }),
    minutes,
  };
}

/**
 * The hash a coordinator signs to authorize an issuance that anyone may relay:
 *
 *   hex(SHA-256(UTF-8(RFC 8785 canonical JSON of
 *     {chainId, bankId, requestId, userIdHash?, account?, minutes})))
 *
 * with exactly the fields present in the `timecredits.issue` payload (`userIdHash` or `account`,
 * whichever names the member; an absent field is left out, never null), every value a JSON
 * string, `minutes` as its decimal string without leading zeros ("600"), and `chainId` the chain
 * the tx is for (so an authorization for one chain cannot be replayed on another). Canonical JSON
 * sorts keys by UTF-16 code units and adds no whitespace, e.g.
 * `{"bankId":"…","chainId":"…","minutes":"600","requestId":"r-1","userIdHash":"…"}`.
 * The signature is ed25519 by the coordinator's key (the public key inside its address) over
 * `signingMessage('issuanceRequest', hash)`: the UTF-8 domain tag
 * `coffer/timecredits/issuance-request/v1` followed by the 32 hash bytes.
 *
 * A field that cannot be part of an issue payload throws a `CryptoInputError` naming it.
 *
 * Test vector (pinned in timecredits-extensions.test.ts): `{chainId: "coffer-test", bankId:
 * "0123456789abcdef", requestId: "req-42", userIdHash: "ab" x 32, minutes: "600"}` hashes to
 * `ff2822f68ec1810ffb90b45ac8c76b2cf47e27e352df489e9f21afac261e6930`.
 */
export function issuanceRequestHash(fields: IssuanceRequestFields): string {
  return sha256Hex(canonicalBytes(checkRequestFields(fields)));
}

// ---- tx payloads ---------------------------------------------------------------------------------

/** A whole number from `min` to `max` (JSON numbers; no fractions, no strings). */
const whole = (min: number, max: number) => z.number().int().min(min).max(max);

/** Text of at most `bytesMax` bytes of UTF-8, not blank, without control characters. */
const text = (bytesMax: number) =>
  z
    .string()
    .refine((value) => isText(value, bytesMax))
    .meta({
      description: `Text: not blank, at most ${bytesMax} bytes of UTF-8, no control characters`,
    });

/** Minutes as a decimal string, parsed to a bigint: `min` (0 or 1) to `minutesMax`. */
const minutesFrom = (min: 0n | 1n) =>
  z
    .string()
    .regex(payloadMinutesPattern)
    .transform((value) => BigInt(value))
    .refine((minutes) => minutes >= min && minutes <= minutesMax)
    .meta({ description: `Whole minutes as a decimal string, ${min} to ${minutesMax}` });

const field = {
  bankId: coded(
    z
      .string()
      .regex(bankIdPattern)
      .meta({ description: 'A time bank id: 16 lowercase hex digits' }),
    'invalid_bank_id',
  ),
  address: coded(wire.address, 'invalid_address'),
  name: coded(text(bankNameBytesMax), 'invalid_bank_name'),
  minutes: coded(minutesFrom(1n), 'invalid_minutes'),
  creditLimit: coded(minutesFrom(0n), 'invalid_credit_limit'),
  userIdHash: coded(
    hexOf(32).meta({ description: "SHA-256 of the bank's salt and the user identifier" }),
    'invalid_user_id_hash',
  ),
  requestId: coded(z.string().regex(requestIdPattern), 'invalid_request_id'),
  offer: coded(text(offerBytesMax), 'invalid_offer'),
  listing: coded(wire.count, 'invalid_listing_id'),
  exchange: coded(wire.count, 'invalid_exchange_id'),
  kind: coded(listingKindSchema, 'invalid_listing_kind'),
  title: coded(text(listingTitleBytesMax), 'invalid_listing_title'),
  category: coded(z.string().regex(categoryPattern), 'invalid_category'),
};

/**
 * A bank's policy as a payload gives it. `expiry`: credits lapse `expiryDays` after their base
 * time (a `timecredits.expiring` event fires `noticeDays` ahead, 7 when not given); `demurrage`:
 * each full period takes `ratePerPeriodBasisPoints` (1 to 10000) of what is left; `none`: neither.
 * Parsed into its record form: an expiry policy always says its `noticeDays`.
 */
export const timebankPolicySchema = coded(
  z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('none') }),
    z.strictObject({
      kind: z.literal('expiry'),
      expiryDays: whole(1, expiryDaysMax),
      // Absent (the shape before notices existed) or null: the default.
      noticeDays: whole(0, noticeDaysMax)
        .nullish()
        .transform((days) => days ?? noticeDaysDefault),
    }),
    z.strictObject({
      kind: z.literal('demurrage'),
      ratePerPeriodBasisPoints: whole(1, demurrageRateMax),
      periodDays: whole(1, demurragePeriodDaysMax),
    }),
  ]),
  'invalid_policy',
);

const distinct = (values: readonly string[]) => new Set(values).size === values.length;

/** One payment of `timecredits.payMany`. */
const paymentSchema = z.strictObject({ account: wire.address, minutes: minutesFrom(1n) });

/** A coordinator's signed authorization of an issuance another account relays. */
export const issuanceAuthorizationSchema = z.strictObject({
  coordinator: wire.address,
  /** ed25519 signature, 128 lowercase hex digits, over `issuanceRequestHash` (see there). */
  signature: hexOf(64),
});

const allianceShape = { bankId: field.bankId, partnerBankId: field.bankId };

/**
 * The payload of each tx type, in the field order the node checks (the first bad field is the one
 * named). The checks across fields (two different banks, exactly one member) are the node's
 * (txs.ts).
 */
export const timecreditsPayloads = {
  'timebank.create': z.strictObject({
    name: field.name,
    coordinators: coded(
      z
        .array(wire.address)
        .min(1)
        .max(coordinatorsMax)
        .refine(distinct)
        // The record keeps them sorted, whatever order the payload gave.
        .transform((accounts) => [...accounts].sort()),
      'invalid_coordinators',
    ),
    policy: timebankPolicySchema,
    creditLimitMinutes: field.creditLimit,
  }),
  'timebank.setPolicy': z.strictObject({
    bankId: field.bankId,
    policy: timebankPolicySchema.optional(),
    creditLimitMinutes: field.creditLimit.optional(),
  }),
  'timebank.addCoordinator': z.strictObject({ bankId: field.bankId, account: field.address }),
  'timebank.removeCoordinator': z.strictObject({ bankId: field.bankId, account: field.address }),
  'timebank.addMember': z.strictObject({
    bankId: field.bankId,
    account: field.address.optional(),
    userIdHash: field.userIdHash,
  }),
  'timebank.approveMember': z.strictObject({ bankId: field.bankId, account: field.address }),
  'timebank.rejectMember': z.strictObject({ bankId: field.bankId, account: field.address }),
  'timecredits.issue': z.strictObject({
    bankId: field.bankId,
    account: field.address.optional(),
    userIdHash: field.userIdHash.optional(),
    minutes: field.minutes,
    requestId: field.requestId,
    authorization: coded(issuanceAuthorizationSchema, 'invalid_authorization').optional(),
  }),
  'timecredits.postListing': z.strictObject({
    bankId: field.bankId,
    kind: field.kind,
    title: field.title,
    category: field.category,
    minutes: field.minutes,
  }),
  'timecredits.closeListing': z.strictObject({ bankId: field.bankId, listing: field.listing }),
  'timecredits.recordExchange': z.strictObject({
    bankId: field.bankId,
    recipient: field.address,
    minutes: field.minutes,
    offer: field.offer.optional(),
    listing: field.listing.optional(),
  }),
  'timecredits.confirmExchange': z.strictObject({ bankId: field.bankId, exchange: field.exchange }),
  'timecredits.payMany': z.strictObject({
    bankId: field.bankId,
    payments: coded(
      z
        .array(paymentSchema)
        .min(1)
        .max(paymentsMax)
        .refine((payments) => distinct(payments.map((payment) => payment.account))),
      'invalid_payments',
    ),
  }),
  'timebank.proposeAlliance': z.strictObject(allianceShape),
  'timebank.acceptAlliance': z.strictObject(allianceShape),
  'timebank.endAlliance': z.strictObject(allianceShape),
  'timecredits.transferAcross': z.strictObject({
    bankId: field.bankId,
    toBankId: field.bankId,
    to: field.address,
    minutes: field.minutes,
  }),
};

export type TimecreditsTxType = keyof typeof timecreditsPayloads;

/** A payload as sent (minutes as decimal strings). */
export type TimecreditsPayload<T extends TimecreditsTxType> = z.input<
  (typeof timecreditsPayloads)[T]
>;

/** A payload as the node parsed it (minutes as bigints, an expiry policy with its notice). */
export type ParsedTimecreditsPayload<T extends TimecreditsTxType> = z.output<
  (typeof timecreditsPayloads)[T]
>;

/** A bank's policy as a payload may give it (`noticeDays` optional). */
export type TimebankPolicy = z.input<typeof timebankPolicySchema>;
/** A coordinator's authorization of a relayed issuance. */
export type IssuanceAuthorization = z.output<typeof issuanceAuthorizationSchema>;
/** One payment of `timecredits.payMany`, parsed. */
export type Payment = z.output<typeof paymentSchema>;

/**
 * The body of `POST /v1/timebanks/{id}/issuance-requests`, with the code each field is refused
 * with, in the order the route checks them.
 */
export const issuanceRequestBodySchema = z.strictObject({
  requestId: field.requestId,
  /** In clear: the node hashes it with the bank's salt to find the member. */
  userId: coded(
    z
      .string()
      .refine(isUserId)
      .meta({ description: `1 to ${userIdBytesMax} bytes of text: the member's handle or email` }),
    'invalid_user_id',
  ),
  minutes: coded(
    z
      .string()
      // abort: the range check reads only what the pattern let through (BigInt throws on others).
      .regex(payloadMinutesPattern, { abort: true })
      .refine((minutes) => minutes !== '0' && BigInt(minutes) <= minutesMax)
      .meta({ description: `Whole minutes as a decimal string, 1 to ${minutesMax}` }),
    'invalid_minutes',
  ),
  coordinator: coded(wire.address, 'invalid_address'),
  signature: coded(hexOf(64), 'invalid_authorization'),
});

/** The body of `POST /v1/timebanks/{id}/issuance-requests`. */
export type IssuanceRequestBody = z.input<typeof issuanceRequestBodySchema>;
