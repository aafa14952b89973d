import type { StateReader } from '../../state/index.js';
import {
  dayMs,
  effectiveValue,
  readBank,
  readExchange,
  readIssuance,
  readLot,
  readMember,
  type ExchangeRecord,
  type IssuanceRecord,
  type MemberRecord,
  type TimebankRecord,
} from './state.js';

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

export interface StatementLot {
  lot: number;
  origin: string;
  /** Minutes as stored (demurrage charged up to `demurragePeriodsCharged`). */
  minutes: string;
  /** Minutes after the demurrage due at the statement's time (floor per lot per period). */
  effectiveMinutes: string;
  baseTime: number;
  /** Whole days since the base time, at the statement's time. */
  ageDays: number;
  expiresAt: number | null;
  /** Past its expiry and waiting for the next block to lapse it: never spendable. */
  expired: boolean;
}

export interface MemberStatement {
  bankId: string;
  account: string;
  status: MemberRecord['status'];
  /** The time the statement is computed at: the latest block time. */
  asOf: number;
  lots: StatementLot[];
  balanceMinutes: string;
  effectiveBalanceMinutes: string;
  debtMinutes: string;
  /** `effectiveBalanceMinutes - debtMinutes`: below zero while the member is in debt. */
  netMinutes: string;
  givenMinutes: string;
  receivedMinutes: string;
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
    const value = effectiveValue(bank.policy, lot, time);
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
  };
}
