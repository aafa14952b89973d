import { StateView } from '../../state/index.js';
import {
  indexLot,
  writeLot,
  type LotRecord,
  type MemberRecord,
  type TimebankRecord,
} from './state.js';

/*
 * Records for the unit tests of lots.ts (lots*.test.ts): a bank, members and lots on a state view
 * over empty committed state. Test support only; nothing on chain imports it.
 */

export const bankId = '00000000000000aa';
export const t0 = 1_700_000_000_000;

export function emptyState(): StateView {
  return new StateView({ get: () => undefined, range: () => [] });
}

export function bank(fields: Partial<TimebankRecord> = {}): TimebankRecord {
  return {
    id: bankId,
    name: 'Riverside',
    coordinators: ['coordinator'],
    policy: { kind: 'none' },
    creditLimitMinutes: '0',
    salt: 'salt',
    createdAt: t0,
    createdAtHeight: 1,
    issuedMinutes: '0',
    poolMinutes: '0',
    debtMinutes: '0',
    allianceInMinutes: '0',
    allianceOutMinutes: '0',
    nextLotNumber: 100,
    nextExchangeNumber: 0,
    nextListingNumber: 0,
    memberCount: 2,
    ...fields,
  };
}

export function member(account: string, lots: LotRecord[], fields: Partial<MemberRecord> = {}) {
  const record: MemberRecord = {
    account,
    userIdHash: `hash-${account}`,
    status: 'approved',
    joinedAt: t0,
    lots: lots.map((l) => l.number),
    balanceMinutes: lots.reduce((sum, l) => sum + BigInt(l.amount), 0n).toString(),
    debtMinutes: '0',
    givenMinutes: '0',
    receivedMinutes: '0',
    sentMinutes: '0',
    gotMinutes: '0',
    ...fields,
  };
  return record;
}

export function lot(number: number, amount: number, fields: Partial<LotRecord> = {}): LotRecord {
  return {
    bankId,
    number,
    owner: 'ann',
    amount: String(amount),
    baseTime: t0,
    expiresAt: null,
    noticeAt: null,
    demurrage: null,
    demurragePeriodsCharged: 0,
    origin: `issue:req-${number}`,
    ...fields,
  };
}

/** Lots written and indexed as the module writes a new one. */
export function stored(state: StateView, ...lots: LotRecord[]): LotRecord[] {
  for (const l of lots) {
    writeLot(state, l);
    indexLot(state, l);
  }
  return lots;
}

export const written = (state: StateView) => [...state.writtenKeys()].sort();
export const clone = <T>(value: T): T => structuredClone(value);
/** 1% a day. */
export const onePercentDaily = { ratePerPeriodBasisPoints: 100, periodDays: 1 };
