import { canonicalize } from '../../crypto/index.js';
import type { OrderedStateReader, StateReader, StateView } from '../../state/index.js';
import type {
  Alliance,
  DemurrageTerms,
  Listing,
  TimeExchange,
  TimeLot,
  Timebank,
  TimebankMember,
  TimebankPolicyRecord,
} from './schema.js';

/**
 * The module's name and state namespace: every key below starts with `timecredits/`.
 *
 * Time credits live in this module's state, not as a ledger asset. A lot (an amount with a base
 * time) is the unit of account, and a member's balance is the sum of its lots: if the credits
 * were also a ledger asset, any holder could move them with a plain `ledger.transfer` that
 * bypasses the lots, and "the sum of a member's lots equals its balance" could not hold. Each
 * member record keeps a running `balanceMinutes` counter that every write path updates together
 * with the lots, so the equality is an invariant the tests check, not a definition.
 */
export const timecreditsModuleName = 'timecredits';

export const minuteMs = 60_000;
export const dayMs = 86_400_000;
export const minutesPerDay = 1_440;
/** 100% in basis points: a demurrage rate is a share of this per period. */
export const basisPointsWhole = 10_000n;

/** Limits: each bounds a record that is one state value, or the work of one block. */
export const lotsPerMemberMax = 500;
/**
 * Expiry-index entries one block's `beginBlock` reads: the lots lapsed (or found gone) in one
 * block. The entries are in expiry order and the walk stops at the first not yet due, so it reads
 * no other; what is due past this many carries over to the next block, in index order.
 */
export const lapsesPerBlockMax = 1_000;
/** Notice-index entries one block's `beginBlock` reads (as `lapsesPerBlockMax`). */
export const noticesPerBlockMax = 1_000;
/** The bounds of one `listListings` call. */
export const listingsPageMax = 100;
export const listingsScannedPerCallMax = 1_000;

/*
 * The records this module stores are the records its routes answer: their schemas and types are
 * the wire contract's (schema.ts), named here by their role in state. A policy is one of three.
 * `expiry`: a lot lapses into the bank's pool at the first block whose time is past `baseTime +
 * expiryDays` days, and `timecredits.expiring` fires `noticeDays` days before that. `demurrage`:
 * each full period since the lot's base time takes `ratePerPeriodBasisPoints` of what is left,
 * rounded down per lot per period (see `demurredValue`); the minutes taken go to the pool.
 * `none`: neither. A coordinator may change the policy (`timebank.setPolicy`), but only forward:
 * a lot carries the terms it was created under (`LotRecord.expiresAt`, `noticeAt`, `demurrage`),
 * so a change applies to lots created afterwards (issued, or created on credit), never to lots
 * that exist.
 */
export type TimebankRecord = Timebank;
export type MemberRecord = TimebankMember;
export type LotRecord = TimeLot;
export type ExchangeRecord = TimeExchange;
export type ListingRecord = Listing;
export type AllianceRecord = Alliance;

export interface IssuanceRecord {
  requestId: string;
  txHash: string;
  account: string;
  minutes: string;
  /** The lot the issuance created, or null when it all went to repay a debt. */
  lot: number | null;
  repaidMinutes: string;
  /** The coordinator who authorized it: the sender, or the signer of `authorization`. */
  authorizedBy: string;
  /** The tx sender: the coordinator itself, or the service that relayed a signed request. */
  relayedBy: string;
}

export const timecreditsKeys = {
  bank: (id: string) => `timecredits/bank/${id}`,
  /** How many banks exist; bank `n` (from 0, in creation order) is `bankByNumber(n)`. */
  bankCount: 'timecredits/bank-count',
  bankByNumber: (number: number) => `timecredits/bank-number/${number}`,
  member: (bankId: string, account: string) => `timecredits/member/${bankId}/${account}`,
  /** The approved member holding an identifier hash: written at approval, never at application. */
  user: (bankId: string, userIdHash: string) => `timecredits/user/${bankId}/${userIdHash}`,
  lot: (bankId: string, number: number) => `timecredits/lot/${bankId}/${number}`,
  request: (bankId: string, requestId: string) => `timecredits/request/${bankId}/${requestId}`,
  exchange: (bankId: string, number: number) => `timecredits/exchange/${bankId}/${number}`,
  /**
   * The expiry index: one key per lot that expires, `<expiresAt>/<bankId>/<lot number>` with the
   * time (Unix ms) and the number zero-padded to 16 digits, so key order is expiry order (then
   * bank, then lot); value `true`. Indexing or unindexing a lot writes one key, whatever the index
   * holds; `beginBlock` reads the first entries in order and deletes those it settles.
   */
  expiries: 'timecredits/expiry-index/',
  expiry: (at: number, bankId: string, number: number) =>
    `timecredits/expiry-index/${padded(at)}/${bankId}/${padded(number)}`,
  /** The notice index (`noticeAt`), laid out as the expiry index. */
  notices: 'timecredits/notice-index/',
  notice: (at: number, bankId: string, number: number) =>
    `timecredits/notice-index/${padded(at)}/${bankId}/${padded(number)}`,
  listing: (bankId: string, number: number) => `timecredits/listing/${bankId}/${number}`,
  /** One key per unordered pair of banks: the two ids sorted. */
  alliance: (a: string, b: string) =>
    a < b ? `timecredits/alliance/${a}/${b}` : `timecredits/alliance/${b}/${a}`,
};

/** Digits of a time (Unix ms) or a lot number in an index key: any safe integer fits. */
const indexDigits = 16;

function padded(value: number): string {
  return String(value).padStart(indexDigits, '0');
}

/** The two indexes of lots by time: expiries (`expiresAt`) and notices (`noticeAt`). */
export type LotIndex = 'expiry' | 'notice';

/** One index entry: the lot `bankId/number`, due at `at`. */
export interface IndexEntry {
  key: string;
  at: number;
  bankId: string;
  number: number;
}

function indexKey(index: LotIndex, at: number, bankId: string, number: number): string {
  return index === 'expiry'
    ? timecreditsKeys.expiry(at, bankId, number)
    : timecreditsKeys.notice(at, bankId, number);
}

/** The time a lot is indexed at in `index`, or null when it is not (no expiry, or no notice). */
export function indexTime(index: LotIndex, lot: LotRecord): number | null {
  return index === 'expiry' ? lot.expiresAt : lot.noticeAt;
}

/** The first `limit` entries of an index due before `before` (exclusive), in due order. */
export function readIndex(
  state: OrderedStateReader,
  index: LotIndex,
  limit: number,
  before: number,
): IndexEntry[] {
  const prefix = index === 'expiry' ? timecreditsKeys.expiries : timecreditsKeys.notices;
  return state.range(prefix, limit, { before: prefix + padded(before) }).map(([key]) => {
    const [at, bankId, number] = key.slice(prefix.length).split('/') as [string, string, string];
    return { key, at: Number(at), bankId, number: Number(number) };
  });
}

/** Adds a lot to the indexes it belongs in (its expiry, its notice): a key each. */
export function indexLot(state: StateView, lot: LotRecord): void {
  for (const index of ['expiry', 'notice'] as const) {
    const at = indexTime(index, lot);
    if (at !== null) writeJson(state, indexKey(index, at, lot.bankId, lot.number), true);
  }
}

function unindexLot(state: StateView, lot: LotRecord): void {
  for (const index of ['expiry', 'notice'] as const) {
    const at = indexTime(index, lot);
    if (at !== null) state.delete(indexKey(index, at, lot.bankId, lot.number));
  }
}

function readJson<T>(state: StateReader, key: string): T | undefined {
  const text = state.get(key);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

function writeJson(state: StateView, key: string, value: unknown): void {
  state.set(key, canonicalize(value));
}

/** Banks created so far; they are numbered 0 to count - 1 in creation order. */
export function readBankCount(state: StateReader): number {
  return readJson<number>(state, timecreditsKeys.bankCount) ?? 0;
}

export function readBankIdByNumber(state: StateReader, number: number): string | undefined {
  return readJson<string>(state, timecreditsKeys.bankByNumber(number));
}

/** Numbers a new bank: the next number, then the count. */
export function appendBank(state: StateView, id: string): void {
  const number = readBankCount(state);
  writeJson(state, timecreditsKeys.bankByNumber(number), id);
  writeJson(state, timecreditsKeys.bankCount, number + 1);
}

export function readBank(state: StateReader, id: string): TimebankRecord | undefined {
  return readJson(state, timecreditsKeys.bank(id));
}

export function writeBank(state: StateView, bank: TimebankRecord): void {
  writeJson(state, timecreditsKeys.bank(bank.id), bank);
}

export function readMember(
  state: StateReader,
  bankId: string,
  account: string,
): MemberRecord | undefined {
  return readJson(state, timecreditsKeys.member(bankId, account));
}

export function writeMember(state: StateView, bankId: string, member: MemberRecord): void {
  writeJson(state, timecreditsKeys.member(bankId, member.account), member);
}

export function deleteMember(state: StateView, bankId: string, account: string): void {
  state.delete(timecreditsKeys.member(bankId, account));
}

/** The approved member holding an identifier hash (pending applicants hold none), or undefined. */
export function readUserAccount(
  state: StateReader,
  bankId: string,
  userIdHash: string,
): string | undefined {
  return readJson<{ account: string }>(state, timecreditsKeys.user(bankId, userIdHash))?.account;
}

export function writeUserAccount(
  state: StateView,
  bankId: string,
  userIdHash: string,
  account: string,
): void {
  writeJson(state, timecreditsKeys.user(bankId, userIdHash), { account });
}

export function readLot(state: StateReader, bankId: string, number: number): LotRecord | undefined {
  return readJson(state, timecreditsKeys.lot(bankId, number));
}

export function writeLot(state: StateView, lot: LotRecord): void {
  writeJson(state, timecreditsKeys.lot(lot.bankId, lot.number), lot);
}

/** Deletes a lot and its index entries (a lot's terms never change, so neither do its keys). */
export function deleteLot(state: StateView, lot: LotRecord): void {
  state.delete(timecreditsKeys.lot(lot.bankId, lot.number));
  unindexLot(state, lot);
}

export function readIssuance(
  state: StateReader,
  bankId: string,
  requestId: string,
): IssuanceRecord | undefined {
  return readJson(state, timecreditsKeys.request(bankId, requestId));
}

export function writeIssuance(state: StateView, bankId: string, record: IssuanceRecord): void {
  writeJson(state, timecreditsKeys.request(bankId, record.requestId), record);
}

export function readExchange(
  state: StateReader,
  bankId: string,
  number: number,
): ExchangeRecord | undefined {
  return readJson(state, timecreditsKeys.exchange(bankId, number));
}

export function writeExchange(state: StateView, record: ExchangeRecord): void {
  writeJson(state, timecreditsKeys.exchange(record.bankId, record.number), record);
}

export function readListing(
  state: StateReader,
  bankId: string,
  number: number,
): ListingRecord | undefined {
  return readJson(state, timecreditsKeys.listing(bankId, number));
}

export function writeListing(state: StateView, record: ListingRecord): void {
  writeJson(state, timecreditsKeys.listing(record.bankId, record.number), record);
}

export function readAlliance(state: StateReader, a: string, b: string): AllianceRecord | undefined {
  return readJson(state, timecreditsKeys.alliance(a, b));
}

export function writeAlliance(state: StateView, record: AllianceRecord): void {
  writeJson(state, timecreditsKeys.alliance(record.banks[0], record.banks[1]), record);
}

/**
 * The value of `amount` minutes after `periods` demurrage periods at `rateBasisPoints`, with the
 * named rounding "floor per lot per period": each period keeps
 * `floor(value * (10000 - rate) / 10000)`. It never exceeds the exact value
 * `amount * (1 - rate)^periods` and falls short of it by less than one minute per period (each
 * floor loses less than one, and later periods only shrink earlier losses). Stops at zero.
 */
export function demurredValue(amount: bigint, rateBasisPoints: number, periods: number): bigint {
  const keep = basisPointsWhole - BigInt(rateBasisPoints);
  let value = amount;
  for (let period = 0; period < periods && value > 0n; period += 1) {
    value = (value * keep) / basisPointsWhole;
  }
  return value;
}

/** Whole demurrage periods between a lot's base time and `time` under its terms (0: none). */
export function periodsAt(terms: DemurrageTerms | null, baseTime: number, time: number): number {
  if (terms === null || time <= baseTime) return 0;
  return Math.floor((time - baseTime) / (terms.periodDays * dayMs));
}

/** A lot's value at `time`: its stored amount less the demurrage (of its own terms) not charged. */
export function effectiveValue(lot: LotRecord, time: number): bigint {
  if (lot.demurrage === null) return BigInt(lot.amount);
  const due = periodsAt(lot.demurrage, lot.baseTime, time) - lot.demurragePeriodsCharged;
  return due > 0
    ? demurredValue(BigInt(lot.amount), lot.demurrage.ratePerPeriodBasisPoints, due)
    : BigInt(lot.amount);
}

/** The terms a lot created at `time` under `policy` carries for life. */
export function lotTerms(
  policy: TimebankPolicyRecord,
  time: number,
): Pick<LotRecord, 'expiresAt' | 'noticeAt' | 'demurrage'> {
  if (policy.kind === 'expiry') {
    const expiresAt = time + policy.expiryDays * dayMs;
    // A notice of 0 days would fire only at a block exactly at the expiry instant: no notice.
    const noticeAt = policy.noticeDays === 0 ? null : expiresAt - policy.noticeDays * dayMs;
    return { expiresAt, noticeAt, demurrage: null };
  }
  if (policy.kind === 'demurrage') {
    const { ratePerPeriodBasisPoints, periodDays } = policy;
    return { expiresAt: null, noticeAt: null, demurrage: { ratePerPeriodBasisPoints, periodDays } };
  }
  return { expiresAt: null, noticeAt: null, demurrage: null };
}

/** True when two lots carry the same terms, base time and origin (so they may be one lot). */
export function sameTerms(a: LotRecord, b: LotRecord): boolean {
  return (
    a.baseTime === b.baseTime &&
    a.expiresAt === b.expiresAt &&
    a.noticeAt === b.noticeAt &&
    a.demurragePeriodsCharged === b.demurragePeriodsCharged &&
    a.origin === b.origin &&
    a.demurrage?.ratePerPeriodBasisPoints === b.demurrage?.ratePerPeriodBasisPoints &&
    a.demurrage?.periodDays === b.demurrage?.periodDays
  );
}

/** Spending order: earliest expiry first (never-expiring last), then oldest base time, then number. */
export function compareLots(a: LotRecord, b: LotRecord): number {
  const ea = a.expiresAt ?? Number.MAX_SAFE_INTEGER;
  const eb = b.expiresAt ?? Number.MAX_SAFE_INTEGER;
  if (ea !== eb) return ea - eb;
  if (a.baseTime !== b.baseTime) return a.baseTime - b.baseTime;
  return a.number - b.number;
}
