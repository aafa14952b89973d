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
import { isAddress, sha256Hex } from '../../crypto/index.js';
import {
  bankNameBytesMax,
  compareLots,
  coordinatorsMax,
  dayMs,
  deleteLot,
  demurragePeriodDaysMax,
  demurredValue,
  expiryDaysMax,
  expiryDaysScannedPerBlockMax,
  lapsesPerBlockMax,
  lotsPerMemberMax,
  offerBytesMax,
  periodsAt,
  readBank,
  readExchange,
  readExpiryCursor,
  readExpiryDay,
  readIssuance,
  readLot,
  readMember,
  readUserAccount,
  writeBank,
  writeExchange,
  writeExpiryCursor,
  writeExpiryDay,
  writeIssuance,
  writeLot,
  writeMember,
  writeUserAccount,
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
    'policy must be {kind: "none"}, {kind: "expiry", expiryDays} (1 to 36500) or {kind: "demurrage", ratePerPeriodBasisPoints (1 to 10000), periodDays (1 to 3650)}.',
  invalid_minutes: 'Minutes are a whole number from 1 to 1,000,000,000, as a decimal string.',
  invalid_credit_limit:
    'creditLimitMinutes is a whole number from 0 to 1,000,000,000, as a decimal string.',
  invalid_user_id_hash:
    'userIdHash must be the 64 lowercase hex digits of SHA-256 over the bank salt and the identifier.',
  invalid_request_id: 'requestId must be 1 to 64 characters: A-Z, a-z, 0-9, "-" and "_".',
  invalid_issue_target: 'Name the member by exactly one of account and userIdHash.',
  invalid_offer: 'offer must be 1 to 200 bytes of text.',
  invalid_exchange_id: 'exchange must be the whole number of an exchange of this bank.',
  timebank_exists: 'A time bank with this id already exists.',
  timebank_not_found: 'No time bank has this id.',
  not_coordinator: 'Only a coordinator of the time bank may do this.',
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
  not_exchange_party: 'Only the provider and the recipient of an exchange may confirm it.',
  already_confirmed: 'This party has already confirmed the exchange.',
  credit_limit_exceeded:
    "The recipient's unexpired credits and remaining credit limit do not cover the minutes.",
} as const;

export type TimecreditsRejection = keyof typeof timecreditsRejections;

/** Minutes in one tx: about 1,900 years of hours, far beyond any exchange. */
export const minutesMax = 1_000_000_000n;

const bankIdPattern = /^[0-9a-f]{16}$/;
const hashPattern = /^[0-9a-f]{64}$/;
const requestIdPattern = /^[A-Za-z0-9_-]{1,64}$/;
const minutesPattern = /^(0|[1-9][0-9]{0,9})$/;

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

function parsePolicy(v: unknown): TimebankPolicy | Rejection {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return reject('invalid_policy');
  const { kind, ...rest } = v as Record<string, unknown>;
  const keys = Object.keys(rest).sort().join(',');
  if (kind === 'none' && keys === '') return { kind: 'none' };
  if (kind === 'expiry' && keys === 'expiryDays' && wholeIn(rest.expiryDays, 1, expiryDaysMax)) {
    return { kind: 'expiry', expiryDays: rest.expiryDays };
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

const readers = {
  bankId: (v: unknown) =>
    typeof v === 'string' && bankIdPattern.test(v) ? v : reject('invalid_bank_id'),
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

const big = (s: string) => BigInt(s);
const plus = (s: string, d: bigint) => (BigInt(s) + d).toString();

function lotsOf(ctx: Pick<TxContext, 'state'>, bankId: string, member: MemberRecord): LotRecord[] {
  return member.lots.map((n) => {
    const lot = readLot(ctx.state, bankId, n);
    if (!lot) throw new Error(`timecredits: lot ${bankId}/${n} of ${member.account} is missing`);
    return lot;
  });
}

function indexExpiry(ctx: Pick<TxContext, 'state'>, lot: LotRecord): void {
  if (lot.expiresAt === null) return;
  const day = Math.floor(lot.expiresAt / dayMs);
  writeExpiryDay(ctx.state, day, [...readExpiryDay(ctx.state, day), `${lot.bankId}/${lot.number}`]);
  const cursor = readExpiryCursor(ctx.state);
  if (cursor === undefined || day < cursor) writeExpiryCursor(ctx.state, day);
}

/**
 * Charges the demurrage due on each of a member's lots up to `time` (floor per lot per period),
 * moving the minutes taken to the pool. Lots that reach zero are deleted. Returns the lots left.
 */
function settleDemurrage(
  ctx: Pick<TxContext, 'state' | 'time'>,
  bank: TimebankRecord,
  member: MemberRecord,
  lots: LotRecord[],
): LotRecord[] {
  const { policy } = bank;
  if (policy.kind !== 'demurrage') return lots;
  const kept: LotRecord[] = [];
  for (const lot of lots) {
    const periods = periodsAt(policy, lot.baseTime, ctx.time);
    const due = periods - lot.demurragePeriodsCharged;
    if (due <= 0) {
      kept.push(lot);
      continue;
    }
    const before = big(lot.amount);
    const after = demurredValue(before, policy.ratePerPeriodBasisPoints, due);
    bank.poolMinutes = plus(bank.poolMinutes, before - after);
    member.balanceMinutes = plus(member.balanceMinutes, after - before);
    lot.demurragePeriodsCharged = periods;
    lot.amount = after.toString();
    if (after === 0n) deleteLot(ctx.state, bank.id, lot.number);
    else {
      writeLot(ctx.state, lot);
      kept.push(lot);
    }
  }
  return kept;
}

function expiresAtFor(policy: TimebankPolicy, baseTime: number): number | null {
  return policy.kind === 'expiry' ? baseTime + policy.expiryDays * dayMs : null;
}

function spendable(lot: LotRecord, time: number): boolean {
  // A lot is spendable up to and including its expiry instant; past it, it lapses at the next
  // beginBlock (or a later one, if the lapse work carried over) and is never spent meanwhile.
  return lot.expiresAt === null || time <= lot.expiresAt;
}

/**
 * Credits incoming lots to a member: they repay its debt first (earliest-expiring minutes first),
 * then join its lots, merging into a lot of the same base time, expiry, charged periods and
 * origin. `fresh` lots are new records; the others exist in state and change owner.
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
      if (!fresh) deleteLot(ctx.state, bank.id, lot.number);
      continue;
    }
    lot.amount = amount.toString();
    lot.owner = member.account;
    const twin = lots.find(
      (l) =>
        l.baseTime === lot.baseTime &&
        l.expiresAt === lot.expiresAt &&
        l.demurragePeriodsCharged === lot.demurragePeriodsCharged &&
        l.origin === lot.origin,
    );
    if (twin && fresh === false) {
      twin.amount = plus(twin.amount, amount);
      writeLot(ctx.state, twin);
      deleteLot(ctx.state, bank.id, lot.number);
      result.push(twin.number);
    } else if (twin) {
      twin.amount = plus(twin.amount, amount);
      writeLot(ctx.state, twin);
      result.push(twin.number);
    } else {
      writeLot(ctx.state, lot);
      if (fresh) indexExpiry(ctx, lot);
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

function newLot(
  bank: TimebankRecord,
  owner: string,
  amount: bigint,
  baseTime: number,
  from: Pick<LotRecord, 'expiresAt' | 'demurragePeriodsCharged' | 'origin'>,
): LotRecord {
  const number = bank.nextLotNumber;
  bank.nextLotNumber += 1;
  return { bankId: bank.id, number, owner, amount: amount.toString(), baseTime, ...from };
}

/**
 * Moves `minutes` from one member to another: the payer's unexpired lots are spent earliest-
 * expiring first (a lot moves whole, keeping its number, or is split, the moved part keeping its
 * base time), and what they do not cover is borrowed within the bank's credit limit, reaching the
 * payee as a new lot based now. Returns a rejection or what moved.
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
  const usable = payerLots
    .filter((l) => spendable(l, ctx.time))
    .reduce((sum, l) => sum + big(l.amount), 0n);
  const creditLeft = big(bank.creditLimitMinutes) - big(payer.debtMinutes);
  if (minutes > usable + creditLeft) return 'credit_limit_exceeded';

  let left = minutes;
  const kept: LotRecord[] = [];
  const incoming: { lot: LotRecord; fresh: boolean }[] = [];
  for (const lot of payerLots) {
    if (left === 0n || !spendable(lot, ctx.time)) {
      kept.push(lot);
      continue;
    }
    const amount = big(lot.amount);
    if (amount <= left) {
      left -= amount;
      incoming.push({ lot, fresh: false });
    } else {
      lot.amount = (amount - left).toString();
      writeLot(ctx.state, lot);
      kept.push(lot);
      const part = newLot(bank, payee.account, left, lot.baseTime, {
        expiresAt: lot.expiresAt,
        demurragePeriodsCharged: lot.demurragePeriodsCharged,
        origin: lot.origin,
      });
      incoming.push({ lot: part, fresh: true });
      left = 0n;
    }
  }
  payer.balanceMinutes = plus(payer.balanceMinutes, left - minutes);
  payer.lots = kept.map((l) => l.number);
  if (left > 0n) {
    payer.debtMinutes = plus(payer.debtMinutes, left);
    bank.debtMinutes = plus(bank.debtMinutes, left);
    const origin = { expiresAt: expiresAtFor(bank.policy, ctx.time), origin: creditOrigin };
    incoming.push({
      lot: newLot(bank, payee.account, left, ctx.time, { ...origin, demurragePeriodsCharged: 0 }),
      fresh: true,
    });
  }
  const received = receive(ctx, bank, payee, payeeLots, incoming);
  if (typeof received === 'string') return received;
  return { onCredit: left, repaid: received.repaid };
}

/**
 * Lapses lots whose expiry is before the block time into their banks' pools. The expiry index is
 * one key per UTC day; a cursor marks the first day not yet finished, so no block scans more than
 * `expiryDaysScannedPerBlockMax` days or lapses more than `lapsesPerBlockMax` lots. What is left
 * carries over to the next block in index order; meanwhile spending skips expired lots anyway.
 */
export function lapseExpiredLots(ctx: BlockContext): void {
  const cursor = readExpiryCursor(ctx.state);
  if (cursor === undefined) return;
  const today = Math.floor(ctx.time / dayMs);
  let budget = lapsesPerBlockMax;
  let day = cursor;
  const banks = new Map<string, TimebankRecord>();
  const members = new Map<string, MemberRecord>();
  for (let scanned = 0; day <= today && scanned < expiryDaysScannedPerBlockMax; scanned += 1) {
    const refs = readExpiryDay(ctx.state, day);
    const remaining: string[] = [];
    for (const ref of refs) {
      const [bankId, numberText] = ref.split('/') as [string, string];
      const lot = readLot(ctx.state, bankId, Number(numberText));
      // Merged into another lot, spent whole or used to repay a debt: nothing left to lapse.
      if (!lot) continue;
      if (lot.expiresAt === null || lot.expiresAt >= ctx.time || budget === 0) {
        remaining.push(ref);
        continue;
      }
      budget -= 1;
      const bank = banks.get(bankId) ?? readBank(ctx.state, bankId)!;
      banks.set(bankId, bank);
      const memberKey = `${bankId}/${lot.owner}`;
      const member = members.get(memberKey) ?? readMember(ctx.state, bankId, lot.owner)!;
      members.set(memberKey, member);
      member.lots = member.lots.filter((n) => n !== lot.number);
      member.balanceMinutes = plus(member.balanceMinutes, -big(lot.amount));
      bank.poolMinutes = plus(bank.poolMinutes, big(lot.amount));
      deleteLot(ctx.state, bankId, lot.number);
      ctx.emit('timecredits.expired', {
        bankId,
        lot: lot.number,
        owner: lot.owner,
        minutes: lot.amount,
        baseTime: lot.baseTime,
        expiresAt: lot.expiresAt,
      });
    }
    if (remaining.length !== refs.length) writeExpiryDay(ctx.state, day, remaining);
    if (day === today || remaining.length > 0) break;
    day += 1;
  }
  if (day !== cursor) writeExpiryCursor(ctx.state, day);
  for (const bank of [...banks.values()].sort((a, b) => a.id.localeCompare(b.id))) {
    writeBank(ctx.state, bank);
  }
  for (const [key, member] of [...members.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    writeMember(ctx.state, key.split('/')[0]!, member);
  }
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
        nextLotNumber: 0,
        nextExchangeNumber: 0,
        memberCount: 0,
      };
      writeBank(ctx.state, bank);
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
  // An account applies for itself (pending), or a coordinator adds an account (approved at once).
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
      });
      writeUserAccount(ctx.state, bank.id, p.userIdHash, account);
      bank.memberCount += 1;
      writeBank(ctx.state, bank);
      ctx.emit('timebank.memberAdded', { bankId: bank.id, account, status });
      return undefined;
    },
  }),
  'timebank.approveMember': defineTx<{ bankId: string; account: string }>({
    parse: payloadParser({ bankId: readers.bankId, account: payloadReaders.address }),
    execute: (ctx, p) => {
      const bank = coordinatedBank(ctx, p.bankId);
      if (typeof bank === 'string') return bank;
      const member = readMember(ctx.state, bank.id, p.account);
      if (!member) return 'member_not_found';
      if (member.status === 'approved') return 'member_already_approved';
      member.status = 'approved';
      writeMember(ctx.state, bank.id, member);
      ctx.emit('timebank.memberApproved', { bankId: bank.id, account: p.account });
      return undefined;
    },
  }),
  'timecredits.issue': defineTx<IssuePayload>({
    parse: (payload) => {
      const parsed = payloadParser({
        bankId: readers.bankId,
        account: payloadReaders.optionalAddress,
        userIdHash: readers.optionalUserIdHash,
        minutes: readers.minutes,
        requestId: readers.requestId,
      })(payload);
      if ('code' in parsed) return parsed;
      const { account, userIdHash } = parsed.value;
      return (account === undefined) === (userIdHash === undefined)
        ? reject('invalid_issue_target')
        : parsed;
    },
    execute: (ctx, p) => {
      const bank = coordinatedBank(ctx, p.bankId);
      if (typeof bank === 'string') return bank;
      if (readIssuance(ctx.state, bank.id, p.requestId)) return 'duplicate_request';
      const account = p.account ?? readUserAccount(ctx.state, bank.id, p.userIdHash!);
      if (account === undefined) return 'user_not_found';
      const member = approvedMember(ctx, bank.id, account);
      if (typeof member === 'string') return member;
      const held = settleDemurrage(ctx, bank, member, lotsOf(ctx, bank.id, member));
      const lot = newLot(bank, account, p.minutes, ctx.time, {
        expiresAt: expiresAtFor(bank.policy, ctx.time),
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
      });
      return undefined;
    },
  }),
  'timecredits.recordExchange': defineTx<{
    bankId: string;
    recipient: string;
    minutes: bigint;
    offer?: string;
  }>({
    parse: payloadParser({
      bankId: readers.bankId,
      recipient: payloadReaders.address,
      minutes: readers.minutes,
      offer: readers.optionalOffer,
    }),
    execute: (ctx, p) => {
      const bank = readBank(ctx.state, p.bankId);
      if (!bank) return 'timebank_not_found';
      if (p.recipient === ctx.sender) return 'accounts_must_be_different';
      const provider = approvedMember(ctx, bank.id, ctx.sender);
      if (typeof provider === 'string') return provider;
      const recipient = approvedMember(ctx, bank.id, p.recipient);
      if (typeof recipient === 'string') return recipient;
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
};
