import { defineTxOf, reject, type TxContext, type TxDefinition } from '../../chain/index.js';
import { fromHex, publicKeyFromAddress, signingMessage, verify } from '../../crypto/index.js';
import {
  allianceOrigin,
  big,
  lotsOf,
  moveMinutes,
  newLot,
  partOf,
  plus,
  receive,
  settleDemurrage,
  spend,
  spendableMinutes,
} from './lots.js';
import type { TimecreditsRejection } from './rejections.js';
import {
  issuanceRequestHash,
  timecreditsPayloads,
  type ParsedTimecreditsPayload,
} from './schema.js';
import {
  deleteLot,
  lotTerms,
  readAlliance,
  readBank,
  readExchange,
  readIssuance,
  readListing,
  readUserAccount,
  writeBank,
  writeExchange,
  writeIssuance,
  writeListing,
  writeMember,
  type MemberRecord,
  type TimebankRecord,
} from './state.js';
import { approvedMember, coordinatedBank, otherBank } from './txs-banks.js';

/*
 * The txs that move time credits: issuance (by a coordinator, or relayed with a coordinator's
 * signed authorization), listings, exchanges both parties confirm, payments to many and transfers
 * across allied banks.
 */

type IssuePayload = ParsedTimecreditsPayload<'timecredits.issue'>;

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

export const creditTxs: Record<string, TxDefinition<never>> = {
  // From a coordinator, or relayed by anyone with a coordinator's signed authorization.
  'timecredits.issue': defineTxOf(timecreditsPayloads['timecredits.issue'], {
    check: (p) =>
      (p.account === undefined) === (p.userIdHash === undefined)
        ? reject('invalid_issue_target')
        : undefined,
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
  'timecredits.postListing': defineTxOf(timecreditsPayloads['timecredits.postListing'], {
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
  'timecredits.closeListing': defineTxOf(timecreditsPayloads['timecredits.closeListing'], {
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
  'timecredits.recordExchange': defineTxOf(timecreditsPayloads['timecredits.recordExchange'], {
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
  'timecredits.confirmExchange': defineTxOf(timecreditsPayloads['timecredits.confirmExchange'], {
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
  'timecredits.payMany': defineTxOf(timecreditsPayloads['timecredits.payMany'], {
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
  /**
   * Moves minutes 1:1 to a member of an allied bank, only from the sender's unexpired lots (no
   * credit across banks), demurrage settled first under each lot's terms. Each lot taken (whole
   * or split) arrives as a new lot of the other bank with the same base time, expiry, notice time,
   * demurrage terms and charged periods; it repays the recipient's debt there first.
   */
  'timecredits.transferAcross': defineTxOf(timecreditsPayloads['timecredits.transferAcross'], {
    check: otherBank('toBankId'),
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
