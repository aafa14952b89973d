import type { OrderedStateReader, StateReader } from '../../state/index.js';
import {
  dayMs,
  effectiveValue,
  listingsPageMax,
  listingsScannedPerCallMax,
  readAlliance,
  readBank,
  readBankCount,
  readBankIdByNumber,
  readExchange,
  readIssuance,
  readListing,
  readLot,
  readMember,
  timecreditsKeys,
  type AllianceRecord,
  type ExchangeRecord,
  type IssuanceRecord,
  type ListingRecord,
  type LotRecord,
  type MemberRecord,
  type TimebankRecord,
} from './state.js';
import {
  type ListingKind,
  type ListingPage,
  type ListingStatus,
  type MemberPage,
  type MemberStatement,
  type MemberStatus,
  type StatementLot,
  type TimebankPage,
  type TimebankSummary,
} from './schema.js';

/** Banks looked at by one `listTimebanks` call at the most, matching or not. */
export const banksScannedMax = 1_000;
export const banksPageMax = 100;

/**
 * Time banks newest first, optionally only those `coordinator` coordinates, `limit` at the most,
 * from bank number `before - 1` down. One call looks at no more than `banksScannedMax` banks, so
 * a filtered page may be short and still have a `next`.
 */
export function listTimebanks(
  state: StateReader,
  options: { coordinator?: string; before?: number; limit: number },
): TimebankPage {
  const { coordinator, limit } = options;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > banksPageMax) {
    throw new RangeError(`limit: 1 to ${banksPageMax}`);
  }
  const count = readBankCount(state);
  let number = Math.min(options.before ?? count, count) - 1;
  const banks: TimebankSummary[] = [];
  for (let scanned = 0; number >= 0 && banks.length < limit; number -= 1, scanned += 1) {
    if (scanned === banksScannedMax) break;
    const bank = readBank(state, readBankIdByNumber(state, number)!)!;
    if (coordinator !== undefined && !bank.coordinators.includes(coordinator)) continue;
    banks.push({
      number,
      id: bank.id,
      name: bank.name,
      coordinators: bank.coordinators,
      policy: bank.policy,
      memberCount: bank.memberCount,
      issuedMinutes: bank.issuedMinutes,
      createdAt: bank.createdAt,
    });
  }
  return { banks, next: number >= 0 ? number + 1 : null };
}

/** One time bank, or undefined. */
export function getTimebank(state: StateReader, id: string): TimebankRecord | undefined {
  return readBank(state, id);
}

export function getMember(
  state: StateReader,
  bankId: string,
  account: string,
): MemberRecord | undefined {
  return readMember(state, bankId, account);
}

export function getIssuance(
  state: StateReader,
  bankId: string,
  requestId: string,
): IssuanceRecord | undefined {
  return readIssuance(state, bankId, requestId);
}

export function getExchange(
  state: StateReader,
  bankId: string,
  number: number,
): ExchangeRecord | undefined {
  return readExchange(state, bankId, number);
}

/** One lot of a bank by its number, or undefined (spent whole into a debt, merged or lapsed). */
export function getLot(state: StateReader, bankId: string, number: number): LotRecord | undefined {
  return readLot(state, bankId, number);
}

export function getListing(
  state: StateReader,
  bankId: string,
  number: number,
): ListingRecord | undefined {
  return readListing(state, bankId, number);
}

/** The alliance of two banks (either order), or undefined if neither ever proposed one. */
export function getAlliance(state: StateReader, a: string, b: string): AllianceRecord | undefined {
  return readAlliance(state, a, b);
}

export interface ListingsFilter {
  kind?: ListingKind;
  category?: string;
  status?: ListingStatus;
  /** A cursor: list only numbers below it (pass the `next` of the previous page). */
  after?: number;
  /** Listings in the page, 1 to 100. */
  limit: number;
}

/** A page of `listListings` (`next`: where to continue, pass it as `after`). */
export type ListingsPage = ListingPage;

/**
 * A bank's listings that match the filter, newest first: numbers walk downward from the newest
 * (or from just below `after`), at most `listingsScannedPerCallMax` numbers per call, so the cost
 * of a call is bounded whatever the filter matches. Throws RangeError on a bad `limit`/`after`.
 */
export function listListings(
  state: StateReader,
  bankId: string,
  filter: ListingsFilter,
): ListingsPage {
  const { limit, after } = filter;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > listingsPageMax) {
    throw new RangeError(`limit must be a whole number from 1 to ${listingsPageMax}`);
  }
  if (after !== undefined && (!Number.isSafeInteger(after) || after < 0)) {
    throw new RangeError('after must be a whole number (a listing number)');
  }
  const bank = readBank(state, bankId);
  if (!bank) return { listings: [], next: null };
  const start = Math.min(after ?? bank.nextListingNumber, bank.nextListingNumber);
  const listings: ListingRecord[] = [];
  let number = start;
  while (number > 0 && listings.length < limit && start - number < listingsScannedPerCallMax) {
    number -= 1;
    const listing = readListing(state, bankId, number);
    if (
      listing &&
      (filter.kind === undefined || listing.kind === filter.kind) &&
      (filter.category === undefined || listing.category === filter.category) &&
      (filter.status === undefined || listing.status === filter.status)
    ) {
      listings.push(listing);
    }
  }
  return { listings, next: number > 0 ? number : null };
}

/** Members in one page of `listMembers` at the most, and members one call looks at. */
export const membersPageMax = 100;
export const membersScannedPerCallMax = 1_000;

/**
 * A bank's members (applicants included) in account order, from just after `after`, optionally
 * only those of one status. One call reads at most `membersScannedPerCallMax` member keys, so its
 * cost is bounded however few match; `next` is the last account read while more may follow.
 * Throws RangeError on a bad `limit`.
 */
export function listMembers(
  state: OrderedStateReader,
  bankId: string,
  options: { status?: MemberStatus; after?: string; limit: number },
): MemberPage {
  const { status, after, limit } = options;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > membersPageMax) {
    throw new RangeError(`limit must be a whole number from 1 to ${membersPageMax}`);
  }
  const prefix = timecreditsKeys.member(bankId, '');
  const read = status === undefined ? limit : membersScannedPerCallMax;
  // One entry more than a page tells whether another page follows.
  const entries = state.range(
    prefix,
    read + 1,
    after === undefined ? {} : { after: prefix + after },
  );
  const members: MemberRecord[] = [];
  let last: string | undefined;
  for (const [key, value] of entries.slice(0, read)) {
    if (members.length === limit) break;
    last = key.slice(prefix.length);
    const member = JSON.parse(value) as MemberRecord;
    if (status === undefined || member.status === status) members.push(member);
  }
  const more = last !== undefined && entries.some(([key]) => key > prefix + last);
  return { members, next: more ? last! : null };
}

/** A member's statement as of `time` (the latest block time), or undefined. */
export function memberStatement(
  state: StateReader,
  bankId: string,
  account: string,
  time: number,
): MemberStatement | undefined {
  const bank = readBank(state, bankId);
  const member = readMember(state, bankId, account);
  if (!bank || !member) return undefined;
  let effective = 0n;
  const lots = member.lots.flatMap((number): StatementLot[] => {
    const lot = readLot(state, bankId, number);
    if (!lot) return [];
    const value = effectiveValue(lot, time);
    effective += value;
    return [
      {
        lot: lot.number,
        origin: lot.origin,
        minutes: lot.amount,
        effectiveMinutes: value.toString(),
        baseTime: lot.baseTime,
        ageDays: Math.floor(Math.max(0, time - lot.baseTime) / dayMs),
        expiresAt: lot.expiresAt,
        noticeAt: lot.noticeAt,
        demurrage: lot.demurrage,
        expired: lot.expiresAt !== null && time > lot.expiresAt,
      },
    ];
  });
  return {
    bankId,
    account,
    status: member.status,
    asOf: time,
    lots,
    balanceMinutes: member.balanceMinutes,
    effectiveBalanceMinutes: effective.toString(),
    debtMinutes: member.debtMinutes,
    netMinutes: (effective - BigInt(member.debtMinutes)).toString(),
    givenMinutes: member.givenMinutes,
    receivedMinutes: member.receivedMinutes,
    sentMinutes: member.sentMinutes,
    gotMinutes: member.gotMinutes,
  };
}

export { statementCsv, statementCsvHeader } from './statement-csv.js';
