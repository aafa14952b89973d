import { canonicalize } from '../../crypto/index.js';
import type { StateReader, StateView } from '../../state/index.js';

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
/** 100% in basis points: a demurrage rate is a share of this per period. */
export const basisPointsWhole = 10_000n;

/** Limits: each bounds a record that is one state value, or the work of one block. */
export const coordinatorsMax = 20;
export const lotsPerMemberMax = 500;
export const bankNameBytesMax = 80;
export const offerBytesMax = 200;
export const expiryDaysMax = 36_500;
export const demurragePeriodDaysMax = 3_650;
/** Lots lapsed by one block's `beginBlock`; the rest carry over to the next block, in order. */
export const lapsesPerBlockMax = 1_000;
/** Empty expiry days skipped by one `beginBlock` (an idle chain catches up over a few blocks). */
export const expiryDaysScannedPerBlockMax = 400;

/**
 * One of three policies, fixed at creation. `expiry`: a lot lapses into the bank's pool at the
 * first block whose time is past `baseTime + expiryDays` days. `demurrage`: each full period
 * since the lot's base time takes `ratePerPeriodBasisPoints` of what is left, rounded down per
 * lot per period (see `demurredValue`); the minutes taken go to the pool. `none`: neither.
 */
export type TimebankPolicy =
  | { kind: 'none' }
  | { kind: 'expiry'; expiryDays: number }
  | { kind: 'demurrage'; ratePerPeriodBasisPoints: number; periodDays: number };

export interface TimebankRecord {
  id: string;
  name: string;
  /** Sorted accounts that issue credits, approve members and change coordinators. */
  coordinators: string[];
  policy: TimebankPolicy;
  /** How far below zero a member may go, in minutes (a debt, see `MemberRecord.debtMinutes`). */
  creditLimitMinutes: string;
  /** Salt of the members' identifier hashes: the hash of the tx that created the bank. */
  salt: string;
  createdAt: number;
  createdAtHeight: number;
  /** Minutes ever issued by coordinators. */
  issuedMinutes: string;
  /** Minutes lapsed at expiry or taken by demurrage. */
  poolMinutes: string;
  /** Sum of the members' debts. Invariant: sum of lots + pool - debts = issued. */
  debtMinutes: string;
  nextLotNumber: number;
  nextExchangeNumber: number;
  memberCount: number;
}

export type MemberStatus = 'pending' | 'approved';

export interface MemberRecord {
  account: string;
  /** SHA-256 of the bank's salt and the user identifier (`hashUserId`); never the identifier. */
  userIdHash: string;
  status: MemberStatus;
  joinedAt: number;
  /** Lot numbers this member holds, in spending order (earliest expiry, then oldest base time). */
  lots: number[];
  /** Sum of the amounts of `lots` (as stored; demurrage is settled when a lot is touched). */
  balanceMinutes: string;
  /**
   * A member below zero: minutes it received on credit, within the bank's credit limit. Its net
   * balance is `balanceMinutes - debtMinutes`; minutes it receives repay the debt first.
   */
  debtMinutes: string;
  /** Minutes given to others through exchanges (as provider), and received (as recipient). */
  givenMinutes: string;
  receivedMinutes: string;
}

export interface LotRecord {
  bankId: string;
  number: number;
  owner: string;
  /** Minutes left, as of `demurragePeriodsCharged` periods (always positive). */
  amount: string;
  /** Block time of the issuance record, Unix ms; kept through transfers and splits. */
  baseTime: number;
  /** Unix ms; the lot lapses at the first block whose time is past it. Null: never. */
  expiresAt: number | null;
  demurragePeriodsCharged: number;
  /**
   * Where its minutes came from: `issue:<requestId>`, or `credit:<exchange number>` for minutes a
   * member received from a recipient who paid on credit. Kept through transfers and splits.
   */
  origin: string;
}

export type ExchangeStatus = 'pending' | 'completed';

export interface ExchangeRecord {
  bankId: string;
  number: number;
  provider: string;
  recipient: string;
  minutes: string;
  offer?: string;
  status: ExchangeStatus;
  /** Parties that confirmed; the provider's record is its confirmation. */
  confirmedBy: string[];
  recordedAt: number;
  completedAt?: number;
}

export interface IssuanceRecord {
  requestId: string;
  txHash: string;
  account: string;
  minutes: string;
  /** The lot the issuance created, or null when it all went to repay a debt. */
  lot: number | null;
  repaidMinutes: string;
}

export const timecreditsKeys = {
  bank: (id: string) => `timecredits/bank/${id}`,
  member: (bankId: string, account: string) => `timecredits/member/${bankId}/${account}`,
  user: (bankId: string, userIdHash: string) => `timecredits/user/${bankId}/${userIdHash}`,
  lot: (bankId: string, number: number) => `timecredits/lot/${bankId}/${number}`,
  request: (bankId: string, requestId: string) => `timecredits/request/${bankId}/${requestId}`,
  exchange: (bankId: string, number: number) => `timecredits/exchange/${bankId}/${number}`,
  /** Lots expiring during one UTC day (`expiresAt / dayMs`), as `bankId/number`. */
  expiryDay: (day: number) => `timecredits/expiry/${day}`,
  /** The first expiry day `beginBlock` has not finished. */
  expiryCursor: 'timecredits/expiry-cursor',
};

function readJson<T>(state: StateReader, key: string): T | undefined {
  const text = state.get(key);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

function writeJson(state: StateView, key: string, value: unknown): void {
  state.set(key, canonicalize(value));
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

export function deleteLot(state: StateView, bankId: string, number: number): void {
  state.delete(timecreditsKeys.lot(bankId, number));
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

export function readExpiryDay(state: StateReader, day: number): string[] {
  return readJson<string[]>(state, timecreditsKeys.expiryDay(day)) ?? [];
}

export function writeExpiryDay(state: StateView, day: number, refs: string[]): void {
  if (refs.length === 0) state.delete(timecreditsKeys.expiryDay(day));
  else writeJson(state, timecreditsKeys.expiryDay(day), refs);
}

export function readExpiryCursor(state: StateReader): number | undefined {
  return readJson<number>(state, timecreditsKeys.expiryCursor);
}

export function writeExpiryCursor(state: StateView, day: number): void {
  writeJson(state, timecreditsKeys.expiryCursor, day);
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

/** Whole demurrage periods between a lot's base time and `time` (0 under other policies). */
export function periodsAt(policy: TimebankPolicy, baseTime: number, time: number): number {
  if (policy.kind !== 'demurrage' || time <= baseTime) return 0;
  return Math.floor((time - baseTime) / (policy.periodDays * dayMs));
}

/** A lot's value at `time`: its stored amount less the demurrage not yet charged. */
export function effectiveValue(policy: TimebankPolicy, lot: LotRecord, time: number): bigint {
  if (policy.kind !== 'demurrage') return BigInt(lot.amount);
  const due = periodsAt(policy, lot.baseTime, time) - lot.demurragePeriodsCharged;
  return due > 0
    ? demurredValue(BigInt(lot.amount), policy.ratePerPeriodBasisPoints, due)
    : BigInt(lot.amount);
}

/** Spending order: earliest expiry first (never-expiring last), then oldest base time, then number. */
export function compareLots(a: LotRecord, b: LotRecord): number {
  const ea = a.expiresAt ?? Number.MAX_SAFE_INTEGER;
  const eb = b.expiresAt ?? Number.MAX_SAFE_INTEGER;
  if (ea !== eb) return ea - eb;
  if (a.baseTime !== b.baseTime) return a.baseTime - b.baseTime;
  return a.number - b.number;
}
