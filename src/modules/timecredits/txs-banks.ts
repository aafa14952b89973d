import { defineTxOf, reject, type TxContext, type TxDefinition } from '../../chain/index.js';
import type { TimecreditsRejection } from './rejections.js';
import { bankIdOf, coordinatorsMax, timecreditsPayloads } from './schema.js';
import {
  appendBank,
  deleteMember,
  readAlliance,
  readBank,
  readMember,
  readUserAccount,
  writeAlliance,
  writeBank,
  writeMember,
  writeUserAccount,
  type AllianceRecord,
  type MemberRecord,
  type TimebankRecord,
} from './state.js';

/*
 * The txs that run a bank: its creation and policy, its coordinators, its members (applications,
 * approvals, rejections) and its alliances with other banks. Issuance, exchanges, listings and
 * payments are in txs-credits.ts.
 */

/** The bank `bankId` if the sender coordinates it, or why not. */
export function coordinatedBank(
  ctx: TxContext,
  bankId: string,
): TimebankRecord | TimecreditsRejection {
  const bank = readBank(ctx.state, bankId);
  if (!bank) return 'timebank_not_found';
  if (!bank.coordinators.includes(ctx.sender)) return 'not_coordinator';
  return bank;
}

/** The approved member `account` of a bank, or why not. */
export function approvedMember(
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

/** A bank and another bank: the payload of the alliance txs. */
interface AlliancePayload {
  bankId: string;
  partnerBankId: string;
}

/** Two different banks: a bank allies with, or transfers to, another bank only. */
export function otherBank<K extends 'partnerBankId' | 'toBankId'>(key: K) {
  return (p: { bankId: string } & Record<K, string>) =>
    p.bankId === p[key] ? reject('invalid_partner_bank', key) : undefined;
}

export const bankTxs: Record<string, TxDefinition<never>> = {
  'timebank.create': defineTxOf(timecreditsPayloads['timebank.create'], {
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
  'timebank.setPolicy': defineTxOf(timecreditsPayloads['timebank.setPolicy'], {
    check: (p) =>
      p.policy === undefined && p.creditLimitMinutes === undefined
        ? reject('invalid_policy_change')
        : undefined,
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
  'timebank.addCoordinator': defineTxOf(timecreditsPayloads['timebank.addCoordinator'], {
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
  'timebank.removeCoordinator': defineTxOf(timecreditsPayloads['timebank.removeCoordinator'], {
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
  'timebank.addMember': defineTxOf(timecreditsPayloads['timebank.addMember'], {
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
  'timebank.approveMember': defineTxOf(timecreditsPayloads['timebank.approveMember'], {
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
  'timebank.rejectMember': defineTxOf(timecreditsPayloads['timebank.rejectMember'], {
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
  'timebank.proposeAlliance': defineTxOf(timecreditsPayloads['timebank.proposeAlliance'], {
    check: otherBank('partnerBankId'),
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
  'timebank.acceptAlliance': defineTxOf(timecreditsPayloads['timebank.acceptAlliance'], {
    check: otherBank('partnerBankId'),
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
  'timebank.endAlliance': defineTxOf(timecreditsPayloads['timebank.endAlliance'], {
    check: otherBank('partnerBankId'),
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
};
