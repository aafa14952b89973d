import type { BlockContext, TxContext } from '../../chain/index.js';
import type { TimecreditsRejection } from './rejections.js';
import {
  compareLots,
  deleteLot,
  demurredValue,
  indexLot,
  lapsesPerBlockMax,
  lotsPerMemberMax,
  lotTerms,
  noticesPerBlockMax,
  periodsAt,
  readBank,
  readIndex,
  readLot,
  readMember,
  sameTerms,
  writeBank,
  writeLot,
  writeMember,
  type LotIndex,
  type LotRecord,
  type MemberRecord,
  type TimebankRecord,
} from './state.js';

/*
 * Lots, the unit of account: spending them (earliest expiry first, a lot split when only part of
 * it is needed), receiving them (repaying debt first, merging lots of the same terms), moving
 * minutes between members on credit, demurrage settled when a lot is touched, and in `beginBlock`
 * the lapse of expired lots and the notice of expiring ones.
 */

export const big = (s: string) => BigInt(s);
export const plus = (s: string, d: bigint) => (BigInt(s) + d).toString();

export function lotsOf(
  ctx: Pick<TxContext, 'state'>,
  bankId: string,
  member: MemberRecord,
): LotRecord[] {
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
export function settleDemurrage(
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

export function spendableMinutes(lots: LotRecord[], time: number): bigint {
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
export function spend(
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
export function receive(
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
export function newLot(
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
export function partOf(
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
  // Each record to its own key, once: the order is free (a block's writes are sorted at commit).
  for (const bank of banks.values()) writeBank(ctx.state, bank);
  for (const [key, member] of members) writeMember(ctx.state, key.split('/')[0]!, member);
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
