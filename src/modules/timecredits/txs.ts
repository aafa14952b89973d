import {
  defineTx,
  payloadParser,
  payloadReaders,
  reject,
  type BlockContext,
  type Rejection,
  type TxContext,
  type TxDefinition,
} from '../../chain/index.js';
import {
  canonicalBytes,
  fromHex,
  isAddress,
  publicKeyFromAddress,
  sha256Hex,
  signingMessage,
  verify,
} from '../../crypto/index.js';
import {
  appendBank,
  bankNameBytesMax,
  compareLots,
  coordinatorsMax,
  deleteLot,
  deleteMember,
  demurragePeriodDaysMax,
  demurredValue,
  expiryDaysMax,
  indexLot,
  lapsesPerBlockMax,
  listingTitleBytesMax,
  lotsPerMemberMax,
  lotTerms,
  noticeDaysDefault,
  noticeDaysMax,
  noticesPerBlockMax,
  offerBytesMax,
  paymentsMax,
  periodsAt,
  readAlliance,
  readBank,
  readExchange,
  readIndex,
  readIssuance,
  readListing,
  readLot,
  readMember,
  readUserAccount,
  sameTerms,
  writeAlliance,
  writeBank,
  writeExchange,
  writeIssuance,
  writeListing,
  writeLot,
  writeMember,
  writeUserAccount,
  type ListingKind,
  type LotIndex,
  type AllianceRecord,
  type LotRecord,
  type MemberRecord,
  type TimebankPolicy,
  type TimebankRecord,
} from './state.js';

/** Rejections of the module, in the precedence the handlers check them. */
export const timecreditsRejections = {
  invalid_bank_id: 'bankId must be the 16 lowercase hex digits of a time bank id.',
  invalid_bank_name: 'name must be 1 to 80 bytes of text.',
  invalid_coordinators: 'coordinators must be 1 to 20 distinct Coffer addresses.',
  invalid_policy:
    'policy must be {kind: "none"}, {kind: "expiry", expiryDays (1 to 36500), noticeDays? (0 to 365, default 7)} or {kind: "demurrage", ratePerPeriodBasisPoints (1 to 10000), periodDays (1 to 3650)}.',
  invalid_minutes: 'Minutes are a whole number from 1 to 1,000,000,000, as a decimal string.',
  invalid_credit_limit:
    'creditLimitMinutes is a whole number from 0 to 1,000,000,000, as a decimal string.',
  invalid_policy_change: 'A policy change names a policy, a creditLimitMinutes, or both.',
  invalid_user_id_hash:
    'userIdHash must be the 64 lowercase hex digits of SHA-256 over the bank salt and the identifier.',
  invalid_request_id: 'requestId must be 1 to 64 characters: A-Z, a-z, 0-9, "-" and "_".',
  invalid_authorization:
    'authorization must be {coordinator: a Coffer address, signature: 128 lowercase hex digits (ed25519)}.',
  invalid_issue_target: 'Name the member by exactly one of account and userIdHash.',
  invalid_offer: 'offer must be 1 to 200 bytes of text.',
  invalid_listing_id: 'listing must be the whole number of a listing of this bank.',
  invalid_exchange_id: 'exchange must be the whole number of an exchange of this bank.',
  invalid_listing_kind: 'kind must be "offer" or "request".',
  invalid_listing_title: 'title must be 1 to 120 bytes of text.',
  invalid_category:
    'category must be 1 to 40 characters: a-z, 0-9 and "-", starting with a letter or digit.',
  invalid_payments:
    'payments must be 1 to 100 entries {account, minutes} with distinct Coffer addresses and minutes from 1 to 1,000,000,000.',
  invalid_partner_bank: 'The partner bank must be another time bank (a 16-hex-digit id).',
  timebank_exists: 'A time bank with this id already exists.',
  timebank_not_found: 'No time bank has this id.',
  partner_bank_not_found: 'No time bank has the partner (or destination) bank id.',
  not_coordinator: 'Only a coordinator of the time bank may do this.',
  issuance_signature_invalid:
    "The authorization signature does not verify with the coordinator's key over this issuance request.",
  coordinator_exists: 'This account is already a coordinator of the time bank.',
  coordinator_not_found: 'This account is not a coordinator of the time bank.',
  too_many_coordinators: 'The time bank has as many coordinators as it may have.',
  last_coordinator: 'A time bank keeps at least one coordinator.',
  member_exists: 'This account is already a member (or applicant) of the time bank.',
  user_id_taken: 'Another account of the time bank holds this user identifier.',
  member_not_found: 'This account is not a member of the time bank.',
  user_not_found: 'No member of the time bank has this user identifier.',
  member_not_approved: 'The member has not been approved by a coordinator yet.',
  member_already_approved: 'The member is already approved.',
  duplicate_request: 'An issuance with this requestId was already recorded for the time bank.',
  too_many_lots: 'The member holds as many lots as a member may hold.',
  exchange_not_found: 'No exchange of this time bank has this number.',
  listing_not_found: 'No listing of this time bank has this number.',
  not_listing_owner: 'Only the owner of the listing or a coordinator may close it.',
  listing_closed: 'The listing is closed.',
  not_exchange_party: 'Only the provider and the recipient of an exchange may confirm it.',
  already_confirmed: 'This party has already confirmed the exchange.',
  alliance_exists: 'The two banks already have a proposed or active alliance.',
  alliance_not_found: 'The two banks have no proposed or active alliance.',
  alliance_not_proposed: 'The alliance is already active: there is no proposal to accept.',
  own_alliance_proposal: 'The other bank accepts a proposal, not the bank that made it.',
  alliance_not_active: 'The two banks have no active alliance.',
  credit_limit_exceeded:
    "The payer's unexpired credits and remaining credit limit do not cover the minutes.",
  insufficient_credits:
    "The sender's unexpired credits do not cover the minutes (there is no credit across banks).",
} as const;

export type TimecreditsRejection = keyof typeof timecreditsRejections;

/** Minutes in one tx: about 1,900 years of hours, far beyond any exchange. */
export const minutesMax = 1_000_000_000n;

const bankIdPattern = /^[0-9a-f]{16}$/;
const hashPattern = /^[0-9a-f]{64}$/;
const requestIdPattern = /^[A-Za-z0-9_-]{1,64}$/;
const minutesPattern = /^(0|[1-9][0-9]{0,9})$/;
const categoryPattern = /^[a-z0-9][a-z0-9-]{0,39}$/;
const signaturePattern = /^[0-9a-f]{128}$/;

function wholeIn(v: unknown, min: number, max: number): v is number {
  return Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;
}

function text(v: unknown, bytesMax: number): v is string {
  return (
    typeof v === 'string' &&
    v.trim().length > 0 &&
    Buffer.byteLength(v, 'utf8') <= bytesMax &&
    // eslint-disable-next-line no-control-regex
    !/[\u0000-\u001f\u007f]/.test(v)
  );
}

function parseMinutes(v: unknown, allowZero: boolean): bigint | undefined {
  if (typeof v !== 'string' || !minutesPattern.test(v)) return undefined;
  const minutes = BigInt(v);
  if (minutes > minutesMax || (!allowZero && minutes === 0n)) return undefined;
  return minutes;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses a policy into its explicit record form: an expiry policy without `noticeDays` (the shape
 * before notices existed) gets the default of 7, so the stored record always says it.
 */
function parsePolicy(v: unknown): TimebankPolicy | Rejection {
  if (!isRecord(v)) return reject('invalid_policy');
  const { kind, ...rest } = v;
  const keys = Object.keys(rest).sort().join(',');
  if (kind === 'none' && keys === '') return { kind: 'none' };
  if (
    kind === 'expiry' &&
    (keys === 'expiryDays' || keys === 'expiryDays,noticeDays') &&
    wholeIn(rest.expiryDays, 1, expiryDaysMax)
  ) {
    const noticeDays = rest.noticeDays ?? noticeDaysDefault;
    if (!wholeIn(noticeDays, 0, noticeDaysMax)) return reject('invalid_policy');
    return { kind: 'expiry', expiryDays: rest.expiryDays, noticeDays };
  }
  if (
    kind === 'demurrage' &&
    keys === 'periodDays,ratePerPeriodBasisPoints' &&
    wholeIn(rest.ratePerPeriodBasisPoints, 1, 10_000) &&
    wholeIn(rest.periodDays, 1, demurragePeriodDaysMax)
  ) {
    return {
      kind: 'demurrage',
      ratePerPeriodBasisPoints: rest.ratePerPeriodBasisPoints,
      periodDays: rest.periodDays,
    };
  }
  return reject('invalid_policy');
}

export interface Payment {
  account: string;
  minutes: bigint;
}

function parsePayments(v: unknown): Payment[] | Rejection {
  if (!Array.isArray(v) || v.length < 1 || v.length > paymentsMax) {
    return reject('invalid_payments');
  }
  const payments: Payment[] = [];
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

export interface IssuanceAuthorization {
  coordinator: string;
  /** ed25519 signature, 128 lowercase hex digits, over `issuanceRequestHash` (see there). */
  signature: string;
}

function parseAuthorization(v: unknown): IssuanceAuthorization | Rejection | undefined {
  if (v === undefined) return undefined;
  if (
    !isRecord(v) ||
    Object.keys(v).sort().join(',') !== 'coordinator,signature' ||
    !isAddress(v.coordinator) ||
    typeof v.signature !== 'string' ||
    !signaturePattern.test(v.signature)
  ) {
    return reject('invalid_authorization');
  }
  return { coordinator: v.coordinator, signature: v.signature };
}

const readers = {
  bankId: (v: unknown) =>
    typeof v === 'string' && bankIdPattern.test(v) ? v : reject('invalid_bank_id'),
  optionalPolicy: (v: unknown) => (v === undefined ? undefined : parsePolicy(v)),
  optionalCreditLimit: (v: unknown) =>
    v === undefined ? undefined : (parseMinutes(v, true) ?? reject('invalid_credit_limit')),
  authorization: parseAuthorization,
  payments: parsePayments,
  listingKind: (v: unknown) =>
    v === 'offer' || v === 'request' ? v : reject('invalid_listing_kind'),
  title: (v: unknown) => (text(v, listingTitleBytesMax) ? v : reject('invalid_listing_title')),
  category: (v: unknown) =>
    typeof v === 'string' && categoryPattern.test(v) ? v : reject('invalid_category'),
  listing: (v: unknown) =>
    wholeIn(v, 0, Number.MAX_SAFE_INTEGER) ? v : reject('invalid_listing_id'),
  optionalListing: (v: unknown) =>
    v === undefined
      ? undefined
      : wholeIn(v, 0, Number.MAX_SAFE_INTEGER)
        ? v
        : reject('invalid_listing_id'),
  name: (v: unknown) => (text(v, bankNameBytesMax) ? v : reject('invalid_bank_name')),
  coordinators: (v: unknown) =>
    Array.isArray(v) &&
    v.length >= 1 &&
    v.length <= coordinatorsMax &&
    v.every((a) => isAddress(a)) &&
    new Set(v).size === v.length
      ? [...v].sort()
      : reject('invalid_coordinators'),
  policy: parsePolicy,
  minutes: (v: unknown) => parseMinutes(v, false) ?? reject('invalid_minutes'),
  creditLimit: (v: unknown) => parseMinutes(v, true) ?? reject('invalid_credit_limit'),
  userIdHash: (v: unknown) =>
    typeof v === 'string' && hashPattern.test(v) ? v : reject('invalid_user_id_hash'),
  optionalUserIdHash: (v: unknown) =>
    v === undefined
      ? undefined
      : typeof v === 'string' && hashPattern.test(v)
        ? v
        : reject('invalid_user_id_hash'),
  requestId: (v: unknown) =>
    typeof v === 'string' && requestIdPattern.test(v) ? v : reject('invalid_request_id'),
  optionalOffer: (v: unknown) =>
    v === undefined ? undefined : text(v, offerBytesMax) ? v : reject('invalid_offer'),
  exchange: (v: unknown) =>
    wholeIn(v, 0, Number.MAX_SAFE_INTEGER) ? v : reject('invalid_exchange_id'),
};

/**
 * The salted hash a member's user identifier (handle or email) is stored as. The salt is the
 * bank's (`TimebankRecord.salt`); clients hash before they submit, so the identifier never
 * reaches the ledger in clear. Identifiers are compared as given (normalize before hashing).
 */
export function hashUserId(salt: string, userId: string): string {
  return sha256Hex(`coffer/timecredits/user/v1\0${salt}\0${userId}`);
}

/** A bank's id: the first 16 hex digits of the hash of the tx that created it. */
export function bankIdOf(txHash: string): string {
  return txHash.slice(0, 16);
}

function coordinatedBank(ctx: TxContext, bankId: string): TimebankRecord | TimecreditsRejection {
  const bank = readBank(ctx.state, bankId);
  if (!bank) return 'timebank_not_found';
  if (!bank.coordinators.includes(ctx.sender)) return 'not_coordinator';
  return bank;
}

function approvedMember(
  ctx: Pick<TxContext, 'state'>,
  bankId: string,
  account: string,
): MemberRecord | TimecreditsRejection {
  const member = readMember(ctx.state, bankId, account);
  if (!member) return 'member_not_found';
  if (member.status !== 'approved') return 'member_not_approved';
  return member;
}

/** A pending application to a bank the sender coordinates (approve or reject it), or why not. */
function pendingApplication(
  ctx: TxContext,
  bankId: string,
  account: string,
): { bank: TimebankRecord; member: MemberRecord } | TimecreditsRejection {
  const bank = coordinatedBank(ctx, bankId);
  if (typeof bank === 'string') return bank;
  const member = readMember(ctx.state, bank.id, account);
  if (!member) return 'member_not_found';
  if (member.status === 'approved') return 'member_already_approved';
  return { bank, member };
}

const big = (s: string) => BigInt(s);
const plus = (s: string, d: bigint) => (BigInt(s) + d).toString();

function lotsOf(ctx: Pick<TxContext, 'state'>, bankId: string, member: MemberRecord): LotRecord[] {
  return member.lots.map((n) => {
    const lot = readLot(ctx.state, bankId, n);
    if (!lot) throw new Error(`timecredits: lot ${bankId}/${n} of ${member.account} is missing`);
    return lot;
  });
}

/**
 * Charges the demurrage due on each of a member's lots up to `time`, under each lot's own terms
 * (floor per lot per period), moving the minutes taken to the pool. Lots that reach zero are
 * deleted. Returns the lots left.
 */
function settleDemurrage(
  ctx: Pick<TxContext, 'state' | 'time'>,
  bank: TimebankRecord,
  member: MemberRecord,
  lots: LotRecord[],
): LotRecord[] {
  const kept: LotRecord[] = [];
  for (const lot of lots) {
    const periods = periodsAt(lot.demurrage, lot.baseTime, ctx.time);
    const due = periods - lot.demurragePeriodsCharged;
    if (lot.demurrage === null || due <= 0) {
      kept.push(lot);
      continue;
    }
    const before = big(lot.amount);
    const after = demurredValue(before, lot.demurrage.ratePerPeriodBasisPoints, due);
    bank.poolMinutes = plus(bank.poolMinutes, before - after);
    member.balanceMinutes = plus(member.balanceMinutes, after - before);
    lot.demurragePeriodsCharged = periods;
    lot.amount = after.toString();
    if (after === 0n) deleteLot(ctx.state, lot);
    else {
      writeLot(ctx.state, lot);
      kept.push(lot);
    }
  }
  return kept;
}

function spendable(lot: LotRecord, time: number): boolean {
  // A lot is spendable up to and including its expiry instant; past it, it lapses at the next
  // beginBlock (or a later one, if the lapse work carried over) and is never spent meanwhile.
  return lot.expiresAt === null || time <= lot.expiresAt;
}

function spendableMinutes(lots: LotRecord[], time: number): bigint {
  return lots.filter((l) => spendable(l, time)).reduce((sum, l) => sum + big(l.amount), 0n);
}

/** What `spend` took from one lot: all of it (`whole`), or `minutes` of it (the lot was split). */
interface Taken {
  lot: LotRecord;
  minutes: bigint;
  whole: boolean;
}

/**
 * Takes up to `minutes` from a member's lots (in spending order, skipping expired ones): a lot
 * taken whole is listed as such; the last one may be split, its rest written back. Returns the
 * lots kept, what was taken and the minutes the lots did not cover.
 */
function spend(
  ctx: Pick<TxContext, 'state' | 'time'>,
  lots: LotRecord[],
  minutes: bigint,
): { kept: LotRecord[]; taken: Taken[]; left: bigint } {
  let left = minutes;
  const kept: LotRecord[] = [];
  const taken: Taken[] = [];
  for (const lot of lots) {
    if (left === 0n || !spendable(lot, ctx.time)) {
      kept.push(lot);
      continue;
    }
    const amount = big(lot.amount);
    if (amount <= left) {
      left -= amount;
      taken.push({ lot, minutes: amount, whole: true });
    } else {
      lot.amount = (amount - left).toString();
      writeLot(ctx.state, lot);
      kept.push(lot);
      taken.push({ lot, minutes: left, whole: false });
      left = 0n;
    }
  }
  return { kept, taken, left };
}

/**
 * Credits incoming lots to a member: they repay its debt first (earliest-expiring minutes first),
 * then join its lots, merging into a lot of the same terms, base time, charged periods and origin.
 * `fresh` lots are new records (indexed for expiry and notice here); the others exist in state and
 * change owner.
 */
function receive(
  ctx: Pick<TxContext, 'state' | 'time'>,
  bank: TimebankRecord,
  member: MemberRecord,
  held: LotRecord[],
  incoming: { lot: LotRecord; fresh: boolean }[],
): TimecreditsRejection | { repaid: bigint; lots: number[] } {
  let debt = big(member.debtMinutes);
  const repaid0 = debt;
  const result: number[] = [];
  const lots = [...held];
  for (const { lot, fresh } of [...incoming].sort((a, b) => compareLots(a.lot, b.lot))) {
    let amount = big(lot.amount);
    const repay = amount < debt ? amount : debt;
    debt -= repay;
    amount -= repay;
    if (amount === 0n) {
      if (!fresh) deleteLot(ctx.state, lot);
      continue;
    }
    lot.amount = amount.toString();
    lot.owner = member.account;
    const twin = lots.find((l) => sameTerms(l, lot));
    if (twin) {
      twin.amount = plus(twin.amount, amount);
      writeLot(ctx.state, twin);
      if (!fresh) deleteLot(ctx.state, lot);
      result.push(twin.number);
    } else {
      writeLot(ctx.state, lot);
      if (fresh) indexLot(ctx.state, lot);
      lots.push(lot);
      result.push(lot.number);
    }
    member.balanceMinutes = plus(member.balanceMinutes, amount);
  }
  if (lots.length > lotsPerMemberMax) return 'too_many_lots';
  const repaid = repaid0 - debt;
  member.debtMinutes = debt.toString();
  bank.debtMinutes = plus(bank.debtMinutes, -repaid);
  member.lots = lots.sort(compareLots).map((l) => l.number);
  return { repaid, lots: [...new Set(result)] };
}

/** A new lot of `bank` (the next lot number) with the given terms and origin. */
function newLot(
  bank: TimebankRecord,
  owner: string,
  amount: bigint,
  baseTime: number,
  from: Pick<
    LotRecord,
    'expiresAt' | 'noticeAt' | 'demurrage' | 'demurragePeriodsCharged' | 'origin'
  >,
): LotRecord {
  const number = bank.nextLotNumber;
  bank.nextLotNumber += 1;
  return {
    bankId: bank.id,
    number,
    owner,
    amount: amount.toString(),
    baseTime,
    expiresAt: from.expiresAt,
    noticeAt: from.noticeAt,
    demurrage: from.demurrage === null ? null : { ...from.demurrage },
    demurragePeriodsCharged: from.demurragePeriodsCharged,
    origin: from.origin,
  };
}

/** A part of `lot` (split or moved to another bank): same base time, terms and charged periods. */
function partOf(
  bank: TimebankRecord,
  owner: string,
  lot: LotRecord,
  minutes: bigint,
  origin: string,
): LotRecord {
  return newLot(bank, owner, minutes, lot.baseTime, { ...lot, origin });
}

/**
 * Moves `minutes` from one member to another: the payer's unexpired lots are spent earliest-
 * expiring first (a lot moves whole, keeping its number, or is split, the moved part keeping its
 * base time and terms), and what they do not cover is borrowed within the bank's credit limit,
 * reaching the payee as a new lot based now under the bank's current policy. A debt above a
 * lowered limit stays, but leaves no room to borrow. Returns a rejection or what moved.
 */
export function moveMinutes(
  ctx: Pick<TxContext, 'state' | 'time'>,
  bank: TimebankRecord,
  payer: MemberRecord,
  payee: MemberRecord,
  minutes: bigint,
  creditOrigin: string,
): TimecreditsRejection | { onCredit: bigint; repaid: bigint } {
  const payerLots = settleDemurrage(ctx, bank, payer, lotsOf(ctx, bank.id, payer));
  const payeeLots = settleDemurrage(ctx, bank, payee, lotsOf(ctx, bank.id, payee));
  const room = big(bank.creditLimitMinutes) - big(payer.debtMinutes);
  const creditLeft = room > 0n ? room : 0n;
  if (minutes > spendableMinutes(payerLots, ctx.time) + creditLeft) return 'credit_limit_exceeded';

  const { kept, taken, left } = spend(ctx, payerLots, minutes);
  const incoming = taken.map(({ lot, minutes: part, whole }) =>
    whole
      ? { lot, fresh: false }
      : { lot: partOf(bank, payee.account, lot, part, lot.origin), fresh: true },
  );
  payer.balanceMinutes = plus(payer.balanceMinutes, left - minutes);
  payer.lots = kept.map((l) => l.number);
  if (left > 0n) {
    payer.debtMinutes = plus(payer.debtMinutes, left);
    bank.debtMinutes = plus(bank.debtMinutes, left);
    const terms = lotTerms(bank.policy, ctx.time);
    incoming.push({
      lot: newLot(bank, payee.account, left, ctx.time, {
        ...terms,
        demurragePeriodsCharged: 0,
        origin: creditOrigin,
      }),
      fresh: true,
    });
  }
  const received = receive(ctx, bank, payee, payeeLots, incoming);
  if (typeof received === 'string') return received;
  return { onCredit: left, repaid: received.repaid };
}

/** The origin of a lot arriving from `fromBankId`: one `alliance:` prefix, however it travelled. */
export function allianceOrigin(fromBankId: string, origin: string): string {
  return `alliance:${fromBankId}/${origin.replace(/^alliance:[0-9a-f]{16}\//, '')}`;
}

/**
 * Reads the first entries of an index in due order that are due before `before` (exclusive), at
 * most `budget`: so a block reads only entries it settles, never one beyond. Each entry's lot is
 * passed to `visit` if it still exists (an entry outlives its lot only within a block: deleting a
 * lot deletes its entries) and the entry is then deleted. What is due past the budget carries
 * over to the next block, in index order.
 */
function walkLotIndex(
  ctx: BlockContext,
  index: LotIndex,
  budget: number,
  before: number,
  visit: (lot: LotRecord) => void,
): void {
  for (const entry of readIndex(ctx.state, index, budget, before)) {
    const lot = readLot(ctx.state, entry.bankId, entry.number);
    if (lot) visit(lot);
    ctx.state.delete(entry.key);
  }
}

/**
 * Lapses lots whose expiry is before the block time into their banks' pools, reading at most
 * `lapsesPerBlockMax` index refs a block (see `walkLotIndex`): a lot lapses at the first block past
 * its expiry unless that work carries over, and meanwhile spending skips expired lots anyway.
 */
export function lapseExpiredLots(ctx: BlockContext): void {
  const banks = new Map<string, TimebankRecord>();
  const members = new Map<string, MemberRecord>();
  // A lot is spendable up to and including its expiry instant: it lapses once the time is past.
  walkLotIndex(ctx, 'expiry', lapsesPerBlockMax, ctx.time, (lot) => {
    const bankId = lot.bankId;
    const bank = banks.get(bankId) ?? readBank(ctx.state, bankId)!;
    banks.set(bankId, bank);
    const memberKey = `${bankId}/${lot.owner}`;
    const member = members.get(memberKey) ?? readMember(ctx.state, bankId, lot.owner)!;
    members.set(memberKey, member);
    member.lots = member.lots.filter((n) => n !== lot.number);
    member.balanceMinutes = plus(member.balanceMinutes, -big(lot.amount));
    bank.poolMinutes = plus(bank.poolMinutes, big(lot.amount));
    deleteLot(ctx.state, lot);
    ctx.emit('timecredits.expired', {
      bankId,
      lot: lot.number,
      owner: lot.owner,
      minutes: lot.amount,
      baseTime: lot.baseTime,
      expiresAt: lot.expiresAt,
    });
  });
  for (const bank of [...banks.values()].sort((a, b) => a.id.localeCompare(b.id))) {
    writeBank(ctx.state, bank);
  }
  for (const [key, member] of [...members.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    writeMember(ctx.state, key.split('/')[0]!, member);
  }
}

/**
 * Emits `timecredits.expiring` once per lot at the first block at or past its `noticeAt` (or a
 * later one, when the work carries over), reading at most `noticesPerBlockMax` index refs a block
 * (see `walkLotIndex`). A lot already past its expiry gets no notice
 * (it lapses instead); a lot gone (merged, spent to repay a debt, lapsed) is never visited.
 */
export function noticeExpiringLots(ctx: BlockContext): void {
  // Notices are due at their instant, so those before the next millisecond.
  walkLotIndex(ctx, 'notice', noticesPerBlockMax, ctx.time + 1, (lot) => {
    if (lot.expiresAt !== null && ctx.time > lot.expiresAt) return;
    ctx.emit('timecredits.expiring', {
      bankId: lot.bankId,
      lot: lot.number,
      owner: lot.owner,
      minutes: lot.amount,
      baseTime: lot.baseTime,
      expiresAt: lot.expiresAt,
    });
  });
}

/** The module's `beginBlock`: lapse what expired, then give notice of what expires soon. */
export function timecreditsBeginBlock(ctx: BlockContext): void {
  lapseExpiredLots(ctx);
  noticeExpiringLots(ctx);
}

/** The fields an issuance request signature covers (see `issuanceRequestHash`). */
export interface IssuanceRequest {
  chainId: string;
  bankId: string;
  requestId: string;
  userIdHash?: string;
  account?: string;
  /** Whole minutes; hashed as a decimal string. */
  minutes: bigint | string;
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
 * the tx is for. Canonical JSON sorts keys by UTF-16 code units and adds no whitespace, e.g.
 * `{"bankId":"…","chainId":"…","minutes":"600","requestId":"r-1","userIdHash":"…"}`.
 * The signature is ed25519 by the coordinator's key (the public key inside its address) over
 * `signingMessage('issuanceRequest', hash)`: the UTF-8 domain tag
 * `coffer/timecredits/issuance-request/v1` followed by the 32 hash bytes.
 *
 * Test vector (pinned in timecredits-extensions.test.ts): `{chainId: "coffer-test", bankId:
 * "0123456789abcdef", requestId: "req-42", userIdHash: "ab" x 32, minutes: "600"}` hashes to
 * `ff2822f68ec1810ffb90b45ac8c76b2cf47e27e352df489e9f21afac261e6930`.
 */
export function issuanceRequestHash(request: IssuanceRequest): string {
  const minutes =
    typeof request.minutes === 'bigint' ? request.minutes.toString() : request.minutes;
  if (!/^(0|[1-9][0-9]*)$/.test(minutes)) {
    throw new TypeError('minutes must be a whole number (a bigint or a decimal string)');
  }
  for (const field of ['chainId', 'bankId', 'requestId'] as const) {
    if (typeof request[field] !== 'string') throw new TypeError(`${field} must be a string`);
  }
  const fields: Record<string, string> = {
    chainId: request.chainId,
    bankId: request.bankId,
    requestId: request.requestId,
    minutes,
  };
  for (const field of ['userIdHash', 'account'] as const) {
    const value = request[field];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new TypeError(`${field} must be a string`);
    fields[field] = value;
  }
  return sha256Hex(canonicalBytes(fields));
}

interface CreatePayload {
  name: string;
  coordinators: string[];
  policy: TimebankPolicy;
  creditLimitMinutes: bigint;
}

interface IssuePayload {
  bankId: string;
  account?: string;
  userIdHash?: string;
  minutes: bigint;
  requestId: string;
  authorization?: IssuanceAuthorization;
}

interface AlliancePayload {
  bankId: string;
  partnerBankId: string;
}

/** Two different banks: a bank allies with, or transfers to, another bank only. */
function twoBanks<T extends Record<string, unknown>>(
  fields: Parameters<typeof payloadParser<T>>[0],
  a: keyof T,
  b: keyof T,
) {
  const parse = payloadParser<T>(fields);
  return (payload: Record<string, unknown>) => {
    const parsed = parse(payload);
    if ('code' in parsed) return parsed;
    return parsed.value[a] === parsed.value[b] ? reject('invalid_partner_bank', String(b)) : parsed;
  };
}

/** The payload of the three alliance txs (propose, accept, end): a bank and another bank. */
const parseAlliance = twoBanks<AlliancePayload & Record<string, unknown>>(
  { bankId: readers.bankId, partnerBankId: readers.bankId },
  'bankId',
  'partnerBankId',
);

/**
 * Checks an issuance's authority: without `authorization` the sender must be a coordinator; with
 * it, any sender may relay, and the signature must verify by a coordinator of the bank (at
 * execution time) over the request. Returns the authorizing coordinator or a rejection.
 */
function issuanceAuthority(
  ctx: TxContext,
  bank: TimebankRecord,
  p: IssuePayload,
): string | { rejection: TimecreditsRejection } {
  if (p.authorization === undefined) {
    return bank.coordinators.includes(ctx.sender) ? ctx.sender : { rejection: 'not_coordinator' };
  }
  const { coordinator, signature } = p.authorization;
  if (!bank.coordinators.includes(coordinator)) return { rejection: 'not_coordinator' };
  const hash = issuanceRequestHash({
    chainId: ctx.chainId,
    bankId: bank.id,
    requestId: p.requestId,
    ...(p.userIdHash === undefined ? {} : { userIdHash: p.userIdHash }),
    ...(p.account === undefined ? {} : { account: p.account }),
    minutes: p.minutes,
  });
  const valid = verify(
    fromHex(signature, 'signature', 64),
    signingMessage('issuanceRequest', hash),
    publicKeyFromAddress(coordinator, 'coordinator'),
  );
  return valid ? coordinator : { rejection: 'issuance_signature_invalid' };
}

/** The proposed or active alliance of a coordinator's bank with its partner, or a rejection. */
function openAlliance(
  ctx: TxContext,
  p: AlliancePayload,
): { bank: TimebankRecord; alliance: AllianceRecord } | TimecreditsRejection {
  const bank = coordinatedBank(ctx, p.bankId);
  if (typeof bank === 'string') return bank;
  const alliance = readAlliance(ctx.state, bank.id, p.partnerBankId);
  if (!alliance || alliance.status === 'ended') return 'alliance_not_found';
  return { bank, alliance };
}

function emitAlliance(ctx: TxContext, type: string, p: AlliancePayload): void {
  ctx.emit(type, { bankId: p.bankId, partnerBankId: p.partnerBankId, by: ctx.sender });
}

export const timecreditsTxs: Record<string, TxDefinition<never>> = {
  'timebank.create': defineTx<CreatePayload>({
    parse: payloadParser({
      name: readers.name,
      coordinators: readers.coordinators,
      policy: readers.policy,
      creditLimitMinutes: readers.creditLimit,
    }),
    execute: (ctx, p) => {
      const id = bankIdOf(ctx.txHash);
      if (readBank(ctx.state, id)) return 'timebank_exists';
      const bank: TimebankRecord = {
        id,
        name: p.name,
        coordinators: p.coordinators,
        policy: p.policy,
        creditLimitMinutes: p.creditLimitMinutes.toString(),
        salt: ctx.txHash,
        createdAt: ctx.time,
        createdAtHeight: ctx.height,
        issuedMinutes: '0',
        poolMinutes: '0',
        debtMinutes: '0',
        allianceInMinutes: '0',
        allianceOutMinutes: '0',
        nextLotNumber: 0,
        nextExchangeNumber: 0,
        nextListingNumber: 0,
        memberCount: 0,
      };
      writeBank(ctx.state, bank);
      appendBank(ctx.state, id);
      ctx.emit('timebank.created', {
        bankId: id,
        name: p.name,
        coordinators: p.coordinators,
        policy: p.policy,
        creditLimitMinutes: bank.creditLimitMinutes,
        salt: bank.salt,
      });
      return undefined;
    },
  }),
  // Forward only: lots keep the terms they were created under; the credit limit applies at once.
  'timebank.setPolicy': defineTx<{
    bankId: string;
    policy?: TimebankPolicy;
    creditLimitMinutes?: bigint;
  }>({
    parse: (payload) => {
      const parsed = payloadParser<{
        bankId: string;
        policy?: TimebankPolicy;
        creditLimitMinutes?: bigint;
      }>({
        bankId: readers.bankId,
        policy: readers.optionalPolicy,
        creditLimitMinutes: readers.optionalCreditLimit,
      })(payload);
      if ('code' in parsed) return parsed;
      const { policy, creditLimitMinutes } = parsed.value;
      return policy === undefined && creditLimitMinutes === undefined
        ? reject('invalid_policy_change')
        : parsed;
    },
    execute: (ctx, p) => {
      const bank = coordinatedBank(ctx, p.bankId);
      if (typeof bank === 'string') return bank;
      if (p.policy !== undefined) bank.policy = p.policy;
      if (p.creditLimitMinutes !== undefined) {
        bank.creditLimitMinutes = p.creditLimitMinutes.toString();
      }
      writeBank(ctx.state, bank);
      ctx.emit('timebank.policyChanged', {
        bankId: bank.id,
        policy: bank.policy,
        creditLimitMinutes: bank.creditLimitMinutes,
        by: ctx.sender,
      });
      return undefined;
    },
  }),
  'timebank.addCoordinator': defineTx<{ bankId: string; account: string }>({
    parse: payloadParser({ bankId: readers.bankId, account: payloadReaders.address }),
    execute: (ctx, p) => {
      const bank = coordinatedBank(ctx, p.bankId);
      if (typeof bank === 'string') return bank;
      if (bank.coordinators.includes(p.account)) return 'coordinator_exists';
      if (bank.coordinators.length >= coordinatorsMax) return 'too_many_coordinators';
      bank.coordinators = [...bank.coordinators, p.account].sort();
      writeBank(ctx.state, bank);
      ctx.emit('timebank.coordinatorAdded', { bankId: bank.id, account: p.account });
      return undefined;
    },
  }),
  'timebank.removeCoordinator': defineTx<{ bankId: string; account: string }>({
    parse: payloadParser({ bankId: readers.bankId, account: payloadReaders.address }),
    execute: (ctx, p) => {
      const bank = coordinatedBank(ctx, p.bankId);
      if (typeof bank === 'string') return bank;
      if (!bank.coordinators.includes(p.account)) return 'coordinator_not_found';
      if (bank.coordinators.length === 1) return 'last_coordinator';
      bank.coordinators = bank.coordinators.filter((c) => c !== p.account);
      writeBank(ctx.state, bank);
      ctx.emit('timebank.coordinatorRemoved', { bankId: bank.id, account: p.account });
      return undefined;
    },
  }),
  /**
   * An account applies for itself (pending), or a coordinator adds an account (approved at once).
   * Only an approved member holds its identifier: the `user` mapping (identifier hash -> account)
   * is written when the member is approved, here or by `approveMember`, and `user_id_taken` is
   * decided then. An application claims nothing (the salt is public, so anyone can compute the
   * hash of a known email): two applicants may hold the same hash while pending, and approving
   * the second is refused. An application whose hash an approved member already holds is refused
   * at once, since it could never be approved.
   */
  'timebank.addMember': defineTx<{ bankId: string; account?: string; userIdHash: string }>({
    parse: payloadParser({
      bankId: readers.bankId,
      account: payloadReaders.optionalAddress,
      userIdHash: readers.userIdHash,
    }),
    execute: (ctx, p) => {
      const bank = readBank(ctx.state, p.bankId);
      if (!bank) return 'timebank_not_found';
      const account = p.account ?? ctx.sender;
      const byCoordinator = bank.coordinators.includes(ctx.sender);
      if (account !== ctx.sender && !byCoordinator) return 'not_coordinator';
      if (readMember(ctx.state, bank.id, account)) return 'member_exists';
      if (readUserAccount(ctx.state, bank.id, p.userIdHash) !== undefined) return 'user_id_taken';
      const status = byCoordinator && account !== ctx.sender ? 'approved' : 'pending';
      writeMember(ctx.state, bank.id, {
        account,
        userIdHash: p.userIdHash,
        status,
        joinedAt: ctx.time,
        lots: [],
        balanceMinutes: '0',
        debtMinutes: '0',
        givenMinutes: '0',
        receivedMinutes: '0',
        sentMinutes: '0',
        gotMinutes: '0',
      });
      if (status === 'approved') writeUserAccount(ctx.state, bank.id, p.userIdHash, account);
      bank.memberCount += 1;
      writeBank(ctx.state, bank);
      ctx.emit('timebank.memberAdded', { bankId: bank.id, account, status });
      return undefined;
    },
  }),
  // Approval claims the member's identifier: refused if another approved member holds it.
  'timebank.approveMember': defineTx<{ bankId: string; account: string }>({
    parse: payloadParser({ bankId: readers.bankId, account: payloadReaders.address }),
    execute: (ctx, p) => {
      const application = pendingApplication(ctx, p.bankId, p.account);
      if (typeof application === 'string') return application;
      const { bank, member } = application;
      if (readUserAccount(ctx.state, bank.id, member.userIdHash) !== undefined) {
        return 'user_id_taken';
      }
      member.status = 'approved';
      writeMember(ctx.state, bank.id, member);
      writeUserAccount(ctx.state, bank.id, member.userIdHash, member.account);
      ctx.emit('timebank.memberApproved', { bankId: bank.id, account: p.account });
      return undefined;
    },
  }),
  /**
   * A coordinator turns down a pending application: the member record goes, and the account may
   * apply again. A pending member holds no lots, debt, listings or exchanges (all of those need an
   * approved member) and no identifier, so nothing else changes. Removing an approved member is
   * out of scope here (its lots, debt, listings and open exchanges would need settling first):
   * it is refused with `member_already_approved`.
   */
  'timebank.rejectMember': defineTx<{ bankId: string; account: string }>({
    parse: payloadParser({ bankId: readers.bankId, account: payloadReaders.address }),
    execute: (ctx, p) => {
      const application = pendingApplication(ctx, p.bankId, p.account);
      if (typeof application === 'string') return application;
      const { bank, member } = application;
      deleteMember(ctx.state, bank.id, member.account);
      bank.memberCount -= 1;
      writeBank(ctx.state, bank);
      ctx.emit('timebank.memberRejected', { bankId: bank.id, account: p.account, by: ctx.sender });
      return undefined;
    },
  }),
  // From a coordinator, or relayed by anyone with a coordinator's signed authorization.
  'timecredits.issue': defineTx<IssuePayload>({
    parse: (payload) => {
      const parsed = payloadParser<IssuePayload & Record<string, unknown>>({
        bankId: readers.bankId,
        account: payloadReaders.optionalAddress,
        userIdHash: readers.optionalUserIdHash,
        minutes: readers.minutes,
        requestId: readers.requestId,
        authorization: readers.authorization,
      })(payload);
      if ('code' in parsed) return parsed;
      const { account, userIdHash } = parsed.value;
      return (account === undefined) === (userIdHash === undefined)
        ? reject('invalid_issue_target')
        : parsed;
    },
    execute: (ctx, p) => {
      const bank = readBank(ctx.state, p.bankId);
      if (!bank) return 'timebank_not_found';
      const authorizedBy = issuanceAuthority(ctx, bank, p);
      if (typeof authorizedBy !== 'string') return authorizedBy.rejection;
      if (readIssuance(ctx.state, bank.id, p.requestId)) return 'duplicate_request';
      const account = p.account ?? readUserAccount(ctx.state, bank.id, p.userIdHash!);
      if (account === undefined) return 'user_not_found';
      const member = approvedMember(ctx, bank.id, account);
      if (typeof member === 'string') return member;
      const held = settleDemurrage(ctx, bank, member, lotsOf(ctx, bank.id, member));
      const lot = newLot(bank, account, p.minutes, ctx.time, {
        ...lotTerms(bank.policy, ctx.time),
        demurragePeriodsCharged: 0,
        origin: `issue:${p.requestId}`,
      });
      const received = receive(ctx, bank, member, held, [{ lot, fresh: true }]);
      if (typeof received === 'string') return received;
      bank.issuedMinutes = plus(bank.issuedMinutes, p.minutes);
      writeBank(ctx.state, bank);
      writeMember(ctx.state, bank.id, member);
      const lotNumber = received.lots[0] ?? null;
      writeIssuance(ctx.state, bank.id, {
        requestId: p.requestId,
        txHash: ctx.txHash,
        account,
        minutes: p.minutes.toString(),
        lot: lotNumber,
        repaidMinutes: received.repaid.toString(),
        authorizedBy,
        relayedBy: ctx.sender,
      });
      ctx.emit('timecredits.issued', {
        bankId: bank.id,
        requestId: p.requestId,
        account,
        minutes: p.minutes.toString(),
        lot: lotNumber,
        baseTime: ctx.time,
        expiresAt: lot.expiresAt,
        repaidMinutes: received.repaid.toString(),
        authorizedBy,
        relayedBy: ctx.sender,
      });
      return undefined;
    },
  }),
  'timecredits.postListing': defineTx<{
    bankId: string;
    kind: ListingKind;
    title: string;
    category: string;
    minutes: bigint;
  }>({
    parse: payloadParser({
      bankId: readers.bankId,
      kind: readers.listingKind,
      title: readers.title,
      category: readers.category,
      minutes: readers.minutes,
    }),
    execute: (ctx, p) => {
      const bank = readBank(ctx.state, p.bankId);
      if (!bank) return 'timebank_not_found';
      const owner = approvedMember(ctx, bank.id, ctx.sender);
      if (typeof owner === 'string') return owner;
      const number = bank.nextListingNumber;
      bank.nextListingNumber += 1;
      writeBank(ctx.state, bank);
      writeListing(ctx.state, {
        bankId: bank.id,
        number,
        kind: p.kind,
        owner: ctx.sender,
        title: p.title,
        category: p.category,
        minutes: p.minutes.toString(),
        status: 'open',
        postedAt: ctx.time,
      });
      ctx.emit('timecredits.listingPosted', {
        bankId: bank.id,
        listing: number,
        kind: p.kind,
        owner: ctx.sender,
        title: p.title,
        category: p.category,
        minutes: p.minutes.toString(),
      });
      return undefined;
    },
  }),
  'timecredits.closeListing': defineTx<{ bankId: string; listing: number }>({
    parse: payloadParser({ bankId: readers.bankId, listing: readers.listing }),
    execute: (ctx, p) => {
      const bank = readBank(ctx.state, p.bankId);
      if (!bank) return 'timebank_not_found';
      const listing = readListing(ctx.state, bank.id, p.listing);
      if (!listing) return 'listing_not_found';
      if (listing.owner !== ctx.sender && !bank.coordinators.includes(ctx.sender)) {
        return 'not_listing_owner';
      }
      if (listing.status === 'closed') return 'listing_closed';
      listing.status = 'closed';
      listing.closedAt = ctx.time;
      writeListing(ctx.state, listing);
      ctx.emit('timecredits.listingClosed', {
        bankId: bank.id,
        listing: listing.number,
        by: ctx.sender,
      });
      return undefined;
    },
  }),
  'timecredits.recordExchange': defineTx<{
    bankId: string;
    recipient: string;
    minutes: bigint;
    offer?: string;
    listing?: number;
  }>({
    parse: payloadParser({
      bankId: readers.bankId,
      recipient: payloadReaders.address,
      minutes: readers.minutes,
      offer: readers.optionalOffer,
      listing: readers.optionalListing,
    }),
    execute: (ctx, p) => {
      const bank = readBank(ctx.state, p.bankId);
      if (!bank) return 'timebank_not_found';
      if (p.recipient === ctx.sender) return 'accounts_must_be_different';
      const provider = approvedMember(ctx, bank.id, ctx.sender);
      if (typeof provider === 'string') return provider;
      const recipient = approvedMember(ctx, bank.id, p.recipient);
      if (typeof recipient === 'string') return recipient;
      if (p.listing !== undefined) {
        const listing = readListing(ctx.state, bank.id, p.listing);
        if (!listing) return 'listing_not_found';
        if (listing.status !== 'open') return 'listing_closed';
      }
      const number = bank.nextExchangeNumber;
      bank.nextExchangeNumber += 1;
      writeBank(ctx.state, bank);
      writeExchange(ctx.state, {
        bankId: bank.id,
        number,
        provider: ctx.sender,
        recipient: p.recipient,
        minutes: p.minutes.toString(),
        ...(p.offer === undefined ? {} : { offer: p.offer }),
        ...(p.listing === undefined ? {} : { listing: p.listing }),
        status: 'pending',
        confirmedBy: [ctx.sender],
        recordedAt: ctx.time,
      });
      ctx.emit('timecredits.exchangeRecorded', {
        bankId: bank.id,
        exchange: number,
        provider: ctx.sender,
        recipient: p.recipient,
        minutes: p.minutes.toString(),
        ...(p.listing === undefined ? {} : { listing: p.listing }),
      });
      return undefined;
    },
  }),
  'timecredits.confirmExchange': defineTx<{ bankId: string; exchange: number }>({
    parse: payloadParser({ bankId: readers.bankId, exchange: readers.exchange }),
    execute: (ctx, p) => {
      const bank = readBank(ctx.state, p.bankId);
      if (!bank) return 'timebank_not_found';
      const exchange = readExchange(ctx.state, bank.id, p.exchange);
      if (!exchange) return 'exchange_not_found';
      if (ctx.sender !== exchange.provider && ctx.sender !== exchange.recipient) {
        return 'not_exchange_party';
      }
      if (exchange.confirmedBy.includes(ctx.sender)) return 'already_confirmed';
      exchange.confirmedBy = [...exchange.confirmedBy, ctx.sender].sort();
      const both =
        exchange.confirmedBy.includes(exchange.provider) &&
        exchange.confirmedBy.includes(exchange.recipient);
      if (both) {
        const recipient = approvedMember(ctx, bank.id, exchange.recipient);
        if (typeof recipient === 'string') return recipient;
        const provider = approvedMember(ctx, bank.id, exchange.provider);
        if (typeof provider === 'string') return provider;
        const minutes = big(exchange.minutes);
        const moved = moveMinutes(
          ctx,
          bank,
          recipient,
          provider,
          minutes,
          `credit:${exchange.number}`,
        );
        if (typeof moved === 'string') return moved;
        recipient.receivedMinutes = plus(recipient.receivedMinutes, minutes);
        provider.givenMinutes = plus(provider.givenMinutes, minutes);
        writeMember(ctx.state, bank.id, recipient);
        writeMember(ctx.state, bank.id, provider);
        writeBank(ctx.state, bank);
        exchange.status = 'completed';
        exchange.completedAt = ctx.time;
        ctx.emit('timecredits.transferred', {
          bankId: bank.id,
          exchange: exchange.number,
          from: exchange.recipient,
          to: exchange.provider,
          minutes: exchange.minutes,
          onCreditMinutes: moved.onCredit.toString(),
          repaidMinutes: moved.repaid.toString(),
        });
      }
      writeExchange(ctx.state, exchange);
      ctx.emit('timecredits.exchangeConfirmed', {
        bankId: bank.id,
        exchange: exchange.number,
        by: ctx.sender,
        completed: both,
      });
      return undefined;
    },
  }),
  // A coordinator who is also an approved member pays several members from its own lots (then on
  // credit, like an exchange); all payments or none.
  'timecredits.payMany': defineTx<{ bankId: string; payments: Payment[] }>({
    parse: payloadParser({ bankId: readers.bankId, payments: readers.payments }),
    execute: (ctx, p) => {
      const bank = coordinatedBank(ctx, p.bankId);
      if (typeof bank === 'string') return bank;
      const payer = approvedMember(ctx, bank.id, ctx.sender);
      if (typeof payer === 'string') return payer;
      if (p.payments.some((payment) => payment.account === ctx.sender)) {
        return 'accounts_must_be_different';
      }
      const payees: MemberRecord[] = [];
      for (const payment of p.payments) {
        const payee = approvedMember(ctx, bank.id, payment.account);
        if (typeof payee === 'string') return payee;
        payees.push(payee);
      }
      const moves: { onCredit: bigint; repaid: bigint }[] = [];
      for (const [index, payment] of p.payments.entries()) {
        const payee = payees[index]!;
        const origin = `credit:pay:${ctx.txHash}/${index}`;
        const moved = moveMinutes(ctx, bank, payer, payee, payment.minutes, origin);
        if (typeof moved === 'string') return moved;
        moves.push(moved);
        payer.sentMinutes = plus(payer.sentMinutes, payment.minutes);
        payee.gotMinutes = plus(payee.gotMinutes, payment.minutes);
      }
      writeBank(ctx.state, bank);
      writeMember(ctx.state, bank.id, payer);
      for (const payee of payees) writeMember(ctx.state, bank.id, payee);
      for (const [index, payment] of p.payments.entries()) {
        ctx.emit('timecredits.transferred', {
          bankId: bank.id,
          from: ctx.sender,
          to: payment.account,
          minutes: payment.minutes.toString(),
          onCreditMinutes: moves[index]!.onCredit.toString(),
          repaidMinutes: moves[index]!.repaid.toString(),
          payment: index,
        });
      }
      return undefined;
    },
  }),
  'timebank.proposeAlliance': defineTx<AlliancePayload>({
    parse: parseAlliance,
    execute: (ctx, p) => {
      const bank = coordinatedBank(ctx, p.bankId);
      if (typeof bank === 'string') return bank;
      if (!readBank(ctx.state, p.partnerBankId)) return 'partner_bank_not_found';
      const existing = readAlliance(ctx.state, bank.id, p.partnerBankId);
      if (existing && existing.status !== 'ended') return 'alliance_exists';
      writeAlliance(ctx.state, {
        banks: [bank.id, p.partnerBankId].sort() as [string, string],
        status: 'proposed',
        proposedBy: bank.id,
        proposedAt: ctx.time,
      });
      emitAlliance(ctx, 'timebank.allianceProposed', p);
      return undefined;
    },
  }),
  'timebank.acceptAlliance': defineTx<AlliancePayload>({
    parse: parseAlliance,
    execute: (ctx, p) => {
      const found = openAlliance(ctx, p);
      if (typeof found === 'string') return found;
      const { bank, alliance } = found;
      if (alliance.status === 'active') return 'alliance_not_proposed';
      if (alliance.proposedBy === bank.id) return 'own_alliance_proposal';
      alliance.status = 'active';
      alliance.activeAt = ctx.time;
      writeAlliance(ctx.state, alliance);
      emitAlliance(ctx, 'timebank.allianceAccepted', p);
      return undefined;
    },
  }),
  // Withdraws a proposal, declines it, or ends an active alliance: either bank may.
  'timebank.endAlliance': defineTx<AlliancePayload>({
    parse: parseAlliance,
    execute: (ctx, p) => {
      const found = openAlliance(ctx, p);
      if (typeof found === 'string') return found;
      const { alliance } = found;
      alliance.status = 'ended';
      alliance.endedAt = ctx.time;
      writeAlliance(ctx.state, alliance);
      emitAlliance(ctx, 'timebank.allianceEnded', p);
      return undefined;
    },
  }),
  /**
   * Moves minutes 1:1 to a member of an allied bank, only from the sender's unexpired lots (no
   * credit across banks), demurrage settled first under each lot's terms. Each lot taken (whole
   * or split) arrives as a new lot of the other bank with the same base time, expiry, notice time,
   * demurrage terms and charged periods; it repays the recipient's debt there first.
   */
  'timecredits.transferAcross': defineTx<{
    bankId: string;
    toBankId: string;
    to: string;
    minutes: bigint;
  }>({
    parse: twoBanks<{ bankId: string; toBankId: string; to: string; minutes: bigint }>(
      {
        bankId: readers.bankId,
        toBankId: readers.bankId,
        to: payloadReaders.address,
        minutes: readers.minutes,
      },
      'bankId',
      'toBankId',
    ),
    execute: (ctx, p) => {
      const bank = readBank(ctx.state, p.bankId);
      if (!bank) return 'timebank_not_found';
      const toBank = readBank(ctx.state, p.toBankId);
      if (!toBank) return 'partner_bank_not_found';
      if (readAlliance(ctx.state, bank.id, toBank.id)?.status !== 'active') {
        return 'alliance_not_active';
      }
      const sender = approvedMember(ctx, bank.id, ctx.sender);
      if (typeof sender === 'string') return sender;
      const recipient = approvedMember(ctx, toBank.id, p.to);
      if (typeof recipient === 'string') return recipient;
      const held = settleDemurrage(ctx, bank, sender, lotsOf(ctx, bank.id, sender));
      if (p.minutes > spendableMinutes(held, ctx.time)) return 'insufficient_credits';
      const { kept, taken } = spend(ctx, held, p.minutes);
      sender.lots = kept.map((l) => l.number);
      sender.balanceMinutes = plus(sender.balanceMinutes, -p.minutes);
      const incoming = taken.map(({ lot, minutes, whole }) => {
        if (whole) deleteLot(ctx.state, lot);
        const origin = allianceOrigin(bank.id, lot.origin);
        return { lot: partOf(toBank, p.to, lot, minutes, origin), fresh: true };
      });
      const recipientLots = settleDemurrage(
        ctx,
        toBank,
        recipient,
        lotsOf(ctx, toBank.id, recipient),
      );
      const received = receive(ctx, toBank, recipient, recipientLots, incoming);
      if (typeof received === 'string') return received;
      bank.allianceOutMinutes = plus(bank.allianceOutMinutes, p.minutes);
      toBank.allianceInMinutes = plus(toBank.allianceInMinutes, p.minutes);
      sender.sentMinutes = plus(sender.sentMinutes, p.minutes);
      recipient.gotMinutes = plus(recipient.gotMinutes, p.minutes);
      writeBank(ctx.state, bank);
      writeBank(ctx.state, toBank);
      writeMember(ctx.state, bank.id, sender);
      writeMember(ctx.state, toBank.id, recipient);
      ctx.emit('timecredits.transferredAcross', {
        bankId: bank.id,
        toBankId: toBank.id,
        from: ctx.sender,
        to: p.to,
        minutes: p.minutes.toString(),
        lots: received.lots,
        repaidMinutes: received.repaid.toString(),
      });
      return undefined;
    },
  }),
};
