import {
  CryptoInputError,
  canonicalBytes,
  fromHex,
  isAddress,
  sha256,
  sha256Hex,
  sign,
  signingMessage,
  toHex,
} from '../crypto/index.js';
import type { SigningKey } from './keys.js';

/**
 * Time banks and time credits (issue 5) from a client's side: the tx builders, the salted user
 * identifier hash, the coordinator's signed issuance request, hours written as `H:MM`, and the
 * shapes the `/v1/timebanks` routes answer. The SDK imports no module code, so the few functions
 * the module also has (`hashUserId`, `issuanceRequestHash`) are written again here; the tests
 * check that both give the same results.
 *
 * Minutes travel as decimal strings of whole minutes (`"150"`); the builders take a string or a
 * bigint and write the string.
 */

// ---- minutes and hours -------------------------------------------------------------------------

/** Minutes in one tx or request, as the module allows: about 1,900 years of hours. */
export const minutesMax = 1_000_000_000n;

const minutesPattern = /^(0|[1-9][0-9]*)$/;

/** A whole number of minutes as a bigint, or a decimal string of one. */
export type Minutes = bigint | string;

/** The decimal string of whole `minutes` (0 allowed); a `CryptoInputError` naming `field` else. */
export function minutesText(minutes: Minutes, field = 'minutes'): string {
  const text = typeof minutes === 'bigint' ? minutes.toString() : minutes;
  if (typeof text !== 'string' || !minutesPattern.test(text)) {
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

// ---- identifiers -----------------------------------------------------------------------------

const bankIdPattern = /^[0-9a-f]{16}$/;
const hashPattern = /^[0-9a-f]{64}$/;
const requestIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

/** True for a time bank id: 16 lowercase hex digits. */
export function isTimebankId(value: unknown): boolean {
  return typeof value === 'string' && bankIdPattern.test(value);
}

/** True for an issuance request id: 1 to 64 characters A-Z, a-z, 0-9, `-` and `_`. */
export function isRequestId(value: unknown): boolean {
  return typeof value === 'string' && requestIdPattern.test(value);
}

/** A bank's id: the first 16 hex digits of the hash of the `timebank.create` tx. */
export function timebankIdOf(createTxHash: string): string {
  if (typeof createTxHash !== 'string' || !hashPattern.test(createTxHash)) {
    throw new CryptoInputError('createTxHash', 'createTxHash must be 64 lowercase hex digits');
  }
  return createTxHash.slice(0, 16);
}

/**
 * The salted hash a member's user identifier (handle or email) is stored as; `salt` is the
 * bank's (`Timebank.salt`). The identifier is hashed as given: normalize it (case, spaces) first.
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
  minutes: Minutes;
}

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
 * What a coordinator signs to authorize an issuance: hex SHA-256 of the RFC 8785 canonical JSON of
 * `{chainId, bankId, requestId, userIdHash | account, minutes}`, every value a string (minutes
 * in decimal). The chain id keeps an authorization for one chain from being replayed on another.
 * The signed message is `signingMessage('issuanceRequest', hash)` (src/crypto/domains.ts).
 */
export function issuanceRequestHash(fields: IssuanceRequestFields): string {
  return toHex(sha256(canonicalBytes(checkRequestFields(fields))));
}

function checkKey(key: SigningKey): void {
  if (typeof key !== 'object' || key === null || !isAddress(key.address)) {
    throw new CryptoInputError('key', 'key must be a signing key { address, secretKey }');
  }
}

/**
 * A coordinator's `authorization` of a `timecredits.issue` that another account relays (put it in
 * `timebankTxs.issue`). The node's issuance-request route makes one itself from a signed request:
 * most callers want `signIssuanceRequest`.
 */
export function authorizeIssuance(
  key: SigningKey,
  fields: IssuanceRequestFields,
): { coordinator: string; signature: string } {
  checkKey(key);
  const hash = issuanceRequestHash(fields);
  const signature = sign(
    signingMessage('issuanceRequest', hash),
    fromHex(key.secretKey, 'secretKey', 32),
  );
  return { coordinator: key.address, signature: toHex(signature) };
}

/** The body of `POST /v1/timebanks/{id}/issuance-requests`. */
export interface IssuanceRequestBody {
  requestId: string;
  /** In clear: the node hashes it with the bank's salt to find the member. */
  userId: string;
  minutes: string;
  coordinator: string;
  signature: string;
}

export interface IssuanceRequestInput {
  chainId: string;
  /** The bank, as `GET /v1/timebanks/{id}` answers it (its id and salt are used). */
  bank: Pick<Timebank, 'id' | 'salt'>;
  requestId: string;
  userId: string;
  minutes: Minutes;
}

/**
 * Signs an issuance request with a coordinator's key, fetching nothing: the bank's salt and the
 * chain id are given. The node checks the signature and that the key is a coordinator.
 */
export function signIssuanceRequest(
  key: SigningKey,
  input: IssuanceRequestInput,
): IssuanceRequestBody {
  checkKey(key);
  if (typeof input.bank !== 'object' || input.bank === null) {
    throw new CryptoInputError('bank', 'bank must be the time bank record, with id and salt');
  }
  const { coordinator, signature } = authorizeIssuance(key, {
    chainId: input.chainId,
    bankId: input.bank.id,
    requestId: input.requestId,
    userIdHash: hashUserId(input.bank.salt, input.userId),
    minutes: input.minutes,
  });
  return {
    requestId: input.requestId,
    userId: input.userId,
    minutes: minutesText(input.minutes),
    coordinator,
    signature,
  };
}

// ---- tx payloads and builders ------------------------------------------------------------------

/**
 * A bank's policy. `expiry`: credits lapse `expiryDays` after their base time (a
 * `timecredits.expiring` event fires `noticeDays` ahead); `demurrage`: each full period takes
 * `ratePerPeriodBasisPoints` (1 to 10000) of what is left; `none`: neither.
 */
export type TimebankPolicy =
  | { kind: 'none' }
  | { kind: 'expiry'; expiryDays: number; noticeDays?: number }
  | { kind: 'demurrage'; ratePerPeriodBasisPoints: number; periodDays: number };

export type ListingKind = 'offer' | 'request';

/** Drops undefined fields: the node refuses none, but a signed payload should say only what is. */
function defined<T extends Record<string, unknown>>(payload: T): T {
  return Object.fromEntries(Object.entries(payload).filter(([, v]) => v !== undefined)) as T;
}

function tx<T extends Record<string, unknown>>(type: string, payload: T) {
  return { type, payload: defined(payload) };
}

/**
 * Builders for the time bank tx types: `{type, payload}`, ready for `client.send(key, ...)` or
 * `signTx`. Who may send each is the module's rule: any account creates a bank and applies to
 * join one; its coordinators manage coordinators, approve members, issue, pay many, change the
 * policy and make alliances; approved members exchange, post listings and send across.
 */
export const timebankTxs = {
  /** Any account; the bank id is `timebankIdOf(hash of this tx)`. */
  create: (p: {
    name: string;
    coordinators: string[];
    policy: TimebankPolicy;
    creditLimitMinutes: Minutes;
  }) =>
    tx('timebank.create', {
      name: p.name,
      coordinators: p.coordinators,
      policy: p.policy,
      creditLimitMinutes: minutesText(p.creditLimitMinutes, 'creditLimitMinutes'),
    }),
  addCoordinator: (p: { bankId: string; account: string }) => tx('timebank.addCoordinator', p),
  removeCoordinator: (p: { bankId: string; account: string }) =>
    tx('timebank.removeCoordinator', p),
  /** Without `account`: the sender applies (pending). A coordinator adding another: approved. */
  addMember: (p: { bankId: string; account?: string; userIdHash: string }) =>
    tx('timebank.addMember', p),
  approveMember: (p: { bankId: string; account: string }) => tx('timebank.approveMember', p),
  /** A coordinator turns down a pending application (an approved member stays). */
  rejectMember: (p: { bankId: string; account: string }) => tx('timebank.rejectMember', p),
  /** Coordinators; either field or both. */
  setPolicy: (p: { bankId: string; policy?: TimebankPolicy; creditLimitMinutes?: Minutes }) =>
    tx('timebank.setPolicy', {
      bankId: p.bankId,
      policy: p.policy,
      creditLimitMinutes:
        p.creditLimitMinutes === undefined
          ? undefined
          : minutesText(p.creditLimitMinutes, 'creditLimitMinutes'),
    }),
  proposeAlliance: (p: { bankId: string; partnerBankId: string }) =>
    tx('timebank.proposeAlliance', p),
  acceptAlliance: (p: { bankId: string; partnerBankId: string }) =>
    tx('timebank.acceptAlliance', p),
  endAlliance: (p: { bankId: string; partnerBankId: string }) => tx('timebank.endAlliance', p),
  /**
   * A coordinator issues to a member named by exactly one of `account` and `userIdHash`. The node
   * builds this tx itself for an issuance request, with the coordinator's `authorization`.
   */
  issue: (p: {
    bankId: string;
    account?: string;
    userIdHash?: string;
    minutes: Minutes;
    requestId: string;
    authorization?: { coordinator: string; signature: string };
  }) =>
    tx('timecredits.issue', {
      bankId: p.bankId,
      account: p.account,
      userIdHash: p.userIdHash,
      minutes: minutesText(p.minutes),
      requestId: p.requestId,
      authorization: p.authorization,
    }),
  /** The sender is the provider; the recipient pays once both confirmed. */
  recordExchange: (p: {
    bankId: string;
    recipient: string;
    minutes: Minutes;
    offer?: string;
    listing?: number;
  }) =>
    tx('timecredits.recordExchange', {
      bankId: p.bankId,
      recipient: p.recipient,
      minutes: minutesText(p.minutes),
      offer: p.offer,
      listing: p.listing,
    }),
  confirmExchange: (p: { bankId: string; exchange: number }) =>
    tx('timecredits.confirmExchange', p),
  postListing: (p: {
    bankId: string;
    kind: ListingKind;
    title: string;
    category: string;
    minutes: Minutes;
  }) =>
    tx('timecredits.postListing', {
      bankId: p.bankId,
      kind: p.kind,
      title: p.title,
      category: p.category,
      minutes: minutesText(p.minutes),
    }),
  closeListing: (p: { bankId: string; listing: number }) => tx('timecredits.closeListing', p),
  /** A coordinator who is an approved member pays several members from its credits, in one tx. */
  payMany: (p: { bankId: string; payments: { account: string; minutes: Minutes }[] }) =>
    tx('timecredits.payMany', {
      bankId: p.bankId,
      payments: p.payments.map((payment, i) => ({
        account: payment.account,
        minutes: minutesText(payment.minutes, `payments[${i}].minutes`),
      })),
    }),
  /** To a member `to` of an allied bank `toBankId`, 1:1 in minutes, lots keeping base times. */
  transferAcross: (p: { bankId: string; toBankId: string; to: string; minutes: Minutes }) =>
    tx('timecredits.transferAcross', {
      bankId: p.bankId,
      toBankId: p.toBankId,
      to: p.to,
      minutes: minutesText(p.minutes),
    }),
} satisfies Record<string, (payload: never) => { type: string; payload: Record<string, unknown> }>;

// ---- what the API answers (src/node/timecredits-api.ts) ----------------------------------------

/** A policy as a bank record holds it: an expiry policy always says its `noticeDays`. */
export type TimebankPolicyRecord =
  | { kind: 'none' }
  | { kind: 'expiry'; expiryDays: number; noticeDays: number }
  | { kind: 'demurrage'; ratePerPeriodBasisPoints: number; periodDays: number };

/** `GET /v1/timebanks/{id}`. Minutes are decimal strings; times Unix ms. */
export interface Timebank {
  id: string;
  name: string;
  coordinators: string[];
  /** Applies to lots created from now on; a lot keeps the terms it was created under. */
  policy: TimebankPolicyRecord;
  creditLimitMinutes: string;
  /** Salt of the members' identifier hashes (`hashUserId`). */
  salt: string;
  createdAt: number;
  createdAtHeight: number;
  issuedMinutes: string;
  /** Minutes lapsed at expiry or taken by demurrage. */
  poolMinutes: string;
  debtMinutes: string;
  /** Minutes received from, and sent to, allied banks. */
  allianceInMinutes: string;
  allianceOutMinutes: string;
  nextLotNumber: number;
  nextExchangeNumber: number;
  nextListingNumber: number;
  memberCount: number;
}

export type MemberStatus = 'pending' | 'approved';

/** `GET /v1/timebanks/{id}/members/{account}`. */
export interface TimebankMember {
  account: string;
  userIdHash: string;
  status: MemberStatus;
  joinedAt: number;
  /** Lot numbers held, in spending order. */
  lots: number[];
  balanceMinutes: string;
  /** Minutes received on credit, repaid first from what the member receives. */
  debtMinutes: string;
  givenMinutes: string;
  receivedMinutes: string;
  /** Minutes sent and got by direct transfer (`payMany`, `transferAcross`). */
  sentMinutes: string;
  gotMinutes: string;
}

/** Demurrage terms a lot carries for life. */
export interface DemurrageTerms {
  ratePerPeriodBasisPoints: number;
  periodDays: number;
}

/** `GET /v1/timebanks/{id}/lots/{n}`. */
export interface TimeLot {
  bankId: string;
  number: number;
  owner: string;
  amount: string;
  /** Block time of the issuance record; kept through transfers and splits. */
  baseTime: number;
  expiresAt: number | null;
  /** When `timecredits.expiring` fires for it; null: never. */
  noticeAt: number | null;
  demurrage: DemurrageTerms | null;
  demurragePeriodsCharged: number;
  /** `issue:<requestId>`, `credit:...` or `alliance:<bank>/...`. */
  origin: string;
}

/** `GET /v1/timebanks/{id}/exchanges/{n}`. */
export interface TimeExchange {
  bankId: string;
  number: number;
  provider: string;
  recipient: string;
  minutes: string;
  offer?: string;
  listing?: number;
  status: 'pending' | 'completed';
  confirmedBy: string[];
  recordedAt: number;
  completedAt?: number;
}

/** One lot of a statement. */
export interface StatementLot {
  lot: number;
  origin: string;
  minutes: string;
  /** After the demurrage due at the statement's time. */
  effectiveMinutes: string;
  baseTime: number;
  ageDays: number;
  expiresAt: number | null;
  /** Past its expiry, waiting for the next block to lapse it. */
  expired: boolean;
}

/** `GET /v1/timebanks/{id}/members/{account}/statement`, as of the latest block time. */
export interface MemberStatement {
  bankId: string;
  account: string;
  status: MemberStatus;
  asOf: number;
  lots: StatementLot[];
  balanceMinutes: string;
  effectiveBalanceMinutes: string;
  debtMinutes: string;
  /** Effective balance less debt: below zero while in debt. */
  netMinutes: string;
  givenMinutes: string;
  receivedMinutes: string;
  /** By direct transfer (`payMany`, `transferAcross`). */
  sentMinutes: string;
  gotMinutes: string;
}

/** `GET /v1/timebanks/{id}/listings/{n}`: an offer or a request of hours. */
export interface Listing {
  bankId: string;
  number: number;
  kind: ListingKind;
  owner: string;
  title: string;
  /** A lowercase slug: `^[a-z0-9][a-z0-9-]{0,39}$`. */
  category: string;
  minutes: string;
  status: ListingStatus;
  postedAt: number;
  closedAt?: number;
}

export type ListingStatus = 'open' | 'closed';

export interface ListingQuery {
  kind?: ListingKind;
  category?: string;
  status?: ListingStatus;
  /** Listings numbered below this one (the `next` of the previous page): pages go newest first. */
  after?: number;
  /** 1 to 100; the node's default is 20. */
  limit?: number;
}

/**
 * `GET /v1/timebanks/{id}/listings`, newest first: `next` is the `after` of the next page, null at
 * the end. A page may hold fewer than `limit` listings and still have a `next` (a call scans at
 * most 1,000 numbers).
 */
/** One line of `GET /v1/timebanks`. */
export interface TimebankSummary {
  number: number;
  id: string;
  name: string;
  coordinators: string[];
  policy: TimebankPolicyRecord;
  memberCount: number;
  issuedMinutes: string;
  createdAt: number;
}

/** `GET /v1/timebanks`: newest first; pass `next` as `before` for the next page. */
export interface TimebankPage {
  banks: TimebankSummary[];
  next: number | null;
}

export interface TimebankListQuery {
  /** Only the banks this address coordinates. */
  coordinator?: string;
  before?: number;
  /** 1 to 100 (default 20). */
  limit?: number;
}

export interface ListingPage {
  listings: Listing[];
  next: number | null;
}

/**
 * `GET /v1/timebanks/{id}/alliances/{partnerId}`: one record per pair of banks (`banks` sorted).
 * One proposes, the other accepts; either may end it.
 */
export interface Alliance {
  banks: [string, string];
  status: 'proposed' | 'active' | 'ended';
  /** The bank that made the latest proposal. */
  proposedBy: string;
  proposedAt: number;
  activeAt?: number;
  endedAt?: number;
}

/**
 * `POST /v1/timebanks/{id}/issuance-requests` and `GET .../issuance-requests/{requestId}`:
 * `pending` until the issuance tx is in a block, then `recorded` with where the credits went, or
 * (a lookup only) `failed` with the receipt's `code`: the request may then be posted again.
 * Posting a recorded request again (same member and minutes) answers its record.
 */
export interface IssuanceRequestResult {
  requestId: string;
  bankId?: string;
  status: 'pending' | 'recorded' | 'failed';
  /** The rejection code of a `failed` request's instruction tx. */
  code?: string;
  txHash: string;
  height?: number;
  account?: string;
  minutes?: string;
  /** The lot created; null when it all went to repay a debt. */
  lot?: number | null;
  repaidMinutes?: string;
}
