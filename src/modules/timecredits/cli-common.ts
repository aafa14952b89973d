import { CryptoInputError } from '../../crypto/index.js';
import {
  parseWholeNumber,
  requiredOption,
  stringOption,
  type Command,
  type CommandContext,
  type OptionValues,
} from '../../cli/context.js';
import { CliError, usageError } from '../../cli/errors.js';
import { fields, table } from '../../cli/output.js';
import { memoOf, report, submitTx, txOptions, type TxOutcome } from '../../cli/payments.js';
import { CofferError } from '../../sdk/errors.js';
import {
  formatMinutes,
  hashUserId,
  isTimebankId,
  isUserId,
  parseHours,
  timebankTxs,
  userIdBytesMax,
  type IssuanceRequestResult,
  type ListingKind,
  type MemberStatement,
  type Timebank,
  type TimebankPolicy,
  type TimebankPolicyRecord,
} from './client.js';

/*
 * What the `coffer timebank` commands (cli.ts) share: reading BANK, HOURS, user identifiers,
 * policies and payments from the command line, the shapes of the commands that send one tx, and
 * printing banks, statements and issuance records.
 */

export function isoTime(milliseconds: number): string {
  // Formats a given instant (a block time); reads no clock.
  return new Date(milliseconds).toISOString();
}

/** A time bank id argument. */
export function bankOf(text: string, what = 'BANK'): string {
  if (!isTimebankId(text)) {
    throw usageError(`${what} must be a time bank id: 16 lowercase hex digits, got "${text}"`);
  }
  return text;
}

/** Whole minutes from HOURS; `positive` refuses zero. */
export function minutesOf(text: string, what: string, positive = true): bigint {
  let minutes: bigint;
  try {
    minutes = parseHours(text, what);
  } catch (error) {
    if (error instanceof CryptoInputError) throw usageError(error.message);
    throw error;
  }
  if (positive && minutes === 0n) throw usageError(`${what} must be more than 0:00`);
  return minutes;
}

/** A user identifier (handle or email), hashed as given: no trimming, no case folding. */
export function userIdOf(values: OptionValues): string {
  const userId = requiredOption(values, 'user-id');
  if (!isUserId(userId)) {
    throw usageError(
      `--user-id must be 1 to ${userIdBytesMax} bytes of text without control characters`,
    );
  }
  return userId;
}

export const policyOptions = {
  'expiry-days': { type: 'string' },
  'notice-days': { type: 'string' },
  'demurrage-bp': { type: 'string' },
  'period-days': { type: 'string' },
  'no-policy': { type: 'boolean' },
} as const;

export const createPolicySynopsis =
  '[--expiry-days N [--notice-days N] | --demurrage-bp BP --period-days N]';
export const policySynopsis =
  '[--expiry-days N [--notice-days N] | --demurrage-bp BP --period-days N | --no-policy]';

/** The policy the options describe; undefined when they name none. */
export function policyOf(values: OptionValues): TimebankPolicy | undefined {
  const expiry = stringOption(values, 'expiry-days');
  const notice = stringOption(values, 'notice-days');
  const rate = stringOption(values, 'demurrage-bp');
  const period = stringOption(values, 'period-days');
  const none = values['no-policy'] === true;
  const chosen = [expiry !== undefined, rate !== undefined, none].filter(Boolean).length;
  if (chosen > 1) {
    throw usageError('give one policy: --expiry-days, --demurrage-bp or --no-policy');
  }
  if (notice !== undefined && expiry === undefined) {
    throw usageError('--notice-days goes with --expiry-days');
  }
  if ((rate === undefined) !== (period === undefined)) {
    throw usageError('--demurrage-bp and --period-days go together');
  }
  if (none) return { kind: 'none' };
  if (expiry !== undefined) {
    const expiryDays = parseWholeNumber(expiry, '--expiry-days');
    if (expiryDays < 1) throw usageError('--expiry-days must be at least 1');
    return notice === undefined
      ? { kind: 'expiry', expiryDays }
      : { kind: 'expiry', expiryDays, noticeDays: parseWholeNumber(notice, '--notice-days') };
  }
  if (rate !== undefined) {
    const ratePerPeriodBasisPoints = parseWholeNumber(rate, '--demurrage-bp');
    if (ratePerPeriodBasisPoints < 1 || ratePerPeriodBasisPoints > 10_000) {
      throw usageError('--demurrage-bp must be from 1 to 10000 (100 is 1% per period)');
    }
    const periodDays = parseWholeNumber(period!, '--period-days');
    if (periodDays < 1) throw usageError('--period-days must be at least 1');
    return { kind: 'demurrage', ratePerPeriodBasisPoints, periodDays };
  }
  return undefined;
}

export function describePolicy(policy: TimebankPolicyRecord | TimebankPolicy): string {
  if (policy.kind === 'expiry') {
    const notice =
      policy.noticeDays === undefined ? '' : `, notice ${policy.noticeDays} days ahead`;
    return `credits expire ${policy.expiryDays} days after issue${notice}`;
  }
  if (policy.kind === 'demurrage') {
    const percent = `${Math.floor(policy.ratePerPeriodBasisPoints / 100)}.${String(
      policy.ratePerPeriodBasisPoints % 100,
    ).padStart(2, '0')}`;
    return `demurrage ${percent}% every ${policy.periodDays} days`;
  }
  return 'none (credits never lapse)';
}

/** The events of a committed tx, to read the number a tx gave (an exchange, a listing). */
export async function eventData(
  ctx: CommandContext,
  outcome: TxOutcome,
  type: string,
): Promise<Record<string, unknown> | undefined> {
  if (outcome.status !== 'ok') return undefined;
  const found = await ctx.client.getTx(outcome.hash);
  return found.receipt?.events.find((event) => event.type === type)?.data;
}

export async function numberFromEvent(
  ctx: CommandContext,
  outcome: TxOutcome,
  type: string,
  field: string,
): Promise<number | undefined> {
  if (outcome.status !== 'ok') return undefined;
  const value = (await eventData(ctx, outcome, type))?.[field];
  if (typeof value !== 'number') {
    throw new CliError(
      'unexpected_answer',
      `tx ${outcome.hash} committed without a ${type} event naming the ${field}`,
    );
  }
  return value;
}

export interface BuiltTx {
  tx: { type: string; payload: Record<string, unknown> };
  title: string;
}

/** A command that sends one tx from `--from` about a bank and prints the usual outcome. */
export function bankTxCommand(spec: {
  name: string;
  synopsis: string;
  summary: string;
  positionals: { min: number; max: number };
  options?: Command['options'];
  build(
    ctx: CommandContext,
    positionals: string[],
    values: OptionValues,
  ): BuiltTx | Promise<BuiltTx>;
}): Command {
  return {
    name: spec.name,
    synopsis: `${spec.synopsis} --from NAME`,
    summary: spec.summary,
    options: { ...txOptions, ...spec.options },
    positionals: spec.positionals,
    async run(ctx, positionals, values) {
      const from = requiredOption(values, 'from');
      const { tx, title } = await spec.build(ctx, positionals, values);
      const key = await ctx.unlock(from);
      report(ctx, await submitTx(ctx, key, tx, memoOf(values)), title);
    },
  };
}

export function allianceCommand(verb: 'propose' | 'accept' | 'end'): Command {
  const builders = {
    propose: timebankTxs.proposeAlliance,
    accept: timebankTxs.acceptAlliance,
    end: timebankTxs.endAlliance,
  };
  const summaries = {
    propose:
      'a coordinator of BANK proposes an alliance with PARTNER: once accepted, members send ' +
      'hours across, 1:1, keeping base times',
    accept: "a coordinator of BANK accepts PARTNER's proposal",
    end: 'a coordinator of either bank ends the alliance',
  };
  const done = {
    propose: 'proposed an alliance',
    accept: 'accepted the alliance',
    end: 'ended the alliance',
  };
  return bankTxCommand({
    name: `timebank alliance ${verb}`,
    synopsis: 'BANK PARTNER',
    summary: summaries[verb],
    positionals: { min: 2, max: 2 },
    build(_ctx, [bankText, partnerText]) {
      const bankId = bankOf(bankText!);
      const partnerBankId = bankOf(partnerText!, 'PARTNER');
      if (bankId === partnerBankId) throw usageError('PARTNER must be another bank than BANK');
      return {
        tx: builders[verb]({ bankId, partnerBankId }),
        title: `${done[verb]} of bank ${bankId} with bank ${partnerBankId}`,
      };
    },
  });
}

export function listingCommand(kind: ListingKind): Command {
  return {
    name: `timebank ${kind}`,
    synopsis: 'BANK TITLE --hours HOURS --category SLUG --from NAME',
    summary:
      kind === 'offer'
        ? 'post an offer of HOURS of help (category a lowercase slug such as gardening)'
        : 'post a request for HOURS of help (category a lowercase slug such as transport)',
    options: { ...txOptions, hours: { type: 'string' }, category: { type: 'string' } },
    positionals: { min: 2, max: 2 },
    async run(ctx, [bankText, title], values) {
      const bankId = bankOf(bankText!);
      const minutes = minutesOf(requiredOption(values, 'hours'), '--hours');
      const category = requiredOption(values, 'category');
      if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(category)) {
        throw usageError(
          `--category must be a lowercase slug of 1 to 40 characters (a-z, 0-9, -), got "${category}"`,
        );
      }
      const key = await ctx.unlock(requiredOption(values, 'from'));
      const result = await submitTx(
        ctx,
        key,
        timebankTxs.postListing({ bankId, kind, title: title!, category, minutes }),
        memoOf(values),
      );
      const listing = await numberFromEvent(
        ctx,
        result.outcome,
        'timecredits.listingPosted',
        'listing',
      );
      report(
        ctx,
        result,
        `posted ${kind} ${listing ?? ''} in bank ${bankId}: ${formatMinutes(minutes)} of ${title!}`,
        [['listing', String(listing)]],
        { listing },
      );
    },
  };
}

export function describeBank(bank: Timebank): string {
  return fields([
    ['bank', bank.id],
    ['name', bank.name],
    ['coordinators', bank.coordinators.join(', ')],
    ['policy', describePolicy(bank.policy)],
    ['credit limit', formatMinutes(bank.creditLimitMinutes)],
    ['members', bank.memberCount],
    ['issued', formatMinutes(bank.issuedMinutes)],
    ['pool', `${formatMinutes(bank.poolMinutes)} (lapsed or taken by demurrage)`],
    ['owed', `${formatMinutes(bank.debtMinutes)} (members below zero)`],
    [
      'alliances',
      `${formatMinutes(bank.allianceInMinutes)} in, ${formatMinutes(bank.allianceOutMinutes)} out`,
    ],
    ['created', `${isoTime(bank.createdAt)} at height ${bank.createdAtHeight}`],
    ['salt', bank.salt],
  ]);
}

export function describeStatement(statement: MemberStatement): string {
  let text =
    `statement of ${statement.account} in bank ${statement.bankId} as of ${isoTime(statement.asOf)}\n` +
    fields([
      ['status', statement.status],
      ['balance', formatMinutes(statement.effectiveBalanceMinutes)],
      [
        'stored',
        statement.effectiveBalanceMinutes === statement.balanceMinutes
          ? undefined
          : `${formatMinutes(statement.balanceMinutes)} (before the demurrage due)`,
      ],
      ['debt', formatMinutes(statement.debtMinutes)],
      ['net', formatMinutes(statement.netMinutes)],
      ['given', formatMinutes(statement.givenMinutes)],
      ['received', formatMinutes(statement.receivedMinutes)],
      ['sent', formatMinutes(statement.sentMinutes)],
      ['got', formatMinutes(statement.gotMinutes)],
    ]);
  if (statement.lots.length === 0) return text + 'no lots\n';
  text +=
    '\n' +
    table(
      ['LOT', 'HOURS', 'BASE TIME', 'AGE', 'EXPIRES', 'ORIGIN'],
      statement.lots.map((lot) => [
        String(lot.lot),
        formatMinutes(lot.effectiveMinutes) +
          (lot.effectiveMinutes === lot.minutes ? '' : ` (of ${formatMinutes(lot.minutes)})`),
        isoTime(lot.baseTime),
        `${lot.ageDays}d`,
        lot.expiresAt === null ? 'never' : isoTime(lot.expiresAt) + (lot.expired ? ' expired' : ''),
        lot.origin,
      ]),
      [0, 1, 3],
    );
  return text;
}

export function describeIssuance(result: IssuanceRequestResult): string {
  return fields([
    ['request id', result.requestId],
    ['status', result.status],
    ['account', result.account],
    ['hours', result.minutes === undefined ? undefined : formatMinutes(result.minutes)],
    ['lot', result.lot === undefined ? undefined : result.lot === null ? 'none' : result.lot],
    [
      'repaid',
      result.repaidMinutes === undefined || result.repaidMinutes === '0'
        ? undefined
        : `${formatMinutes(result.repaidMinutes)} of debt`,
    ],
    ['code', result.code],
    ['tx', result.txHash],
    ['height', result.height],
  ]);
}

/**
 * After `duplicate_request`: the request recorded under the id, if it is this very request (the
 * same member, by the hash of the user id with the bank's salt, and the same minutes); otherwise
 * `duplicate_request`, saying what the id already holds.
 */
export async function sameIssuance(
  ctx: CommandContext,
  asked: { bankId: string; requestId: string; userId: string; minutes: bigint },
  refusal: CofferError,
): Promise<IssuanceRequestResult> {
  const { bankId, requestId } = asked;
  const record = await ctx.client.timebanks.issuance(bankId, requestId);
  if (record.status !== 'recorded' || record.account === undefined) {
    throw new CliError('duplicate_request', `${refusal.message} (request ${requestId})`);
  }
  const [bank, member] = await Promise.all([
    ctx.client.timebanks.get(bankId),
    ctx.client.timebanks.member(bankId, record.account).catch((error: unknown) => {
      if (error instanceof CofferError && error.status === 404) return undefined;
      throw error;
    }),
  ]);
  const sameMember = member?.userIdHash === hashUserId(bank.salt, asked.userId);
  if (sameMember && record.minutes === asked.minutes.toString()) return record;
  const differs = [
    sameMember ? undefined : 'another member',
    record.minutes === asked.minutes.toString()
      ? undefined
      : `${formatMinutes(record.minutes ?? '0')}, not ${formatMinutes(asked.minutes)}`,
  ].filter((part) => part !== undefined);
  throw new CliError(
    'duplicate_request',
    `request ${requestId} is already recorded in bank ${bankId} for ${differs.join(' and ')} ` +
      `(tx ${record.txHash}): a retry must repeat the same --user-id and HOURS, and another ` +
      'issuance needs another --request-id',
  );
}

/** `ACCOUNT=HOURS` of `timebank pay`. */
export function paymentOf(ctx: CommandContext, text: string): { account: string; minutes: bigint } {
  const at = text.indexOf('=');
  if (at <= 0) throw usageError(`a payment is ACCOUNT=HOURS (alice=2:30), got "${text}"`);
  return {
    account: ctx.resolveAddress(text.slice(0, at), 'ACCOUNT'),
    minutes: minutesOf(text.slice(at + 1), `the hours of ${text.slice(0, at)}`),
  };
}
