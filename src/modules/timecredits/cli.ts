import { randomBytes } from 'node:crypto';
import {
  accountOrOnlyKey,
  pageLimitOption,
  parseWholeNumber,
  requiredOption,
  stringOption,
  type Command,
} from '../../cli/context.js';
import { CliError, usageError } from '../../cli/errors.js';
import { json, table } from '../../cli/output.js';
import { assertNotPayer, memoOf, report, submitTx, txOptions } from '../../cli/payments.js';
import { CofferError } from '../../sdk/errors.js';
import {
  formatMinutes,
  hashUserId,
  isRequestId,
  paymentsMax,
  timebankIdOf,
  timebankTxs,
  type IssuanceRequestResult,
  type Listing,
  type ListingQuery,
} from './client.js';

import {
  allianceCommand,
  bankOf,
  bankTxCommand,
  createPolicySynopsis,
  describeBank,
  describeIssuance,
  describePolicy,
  describeStatement,
  eventData,
  listingCommand,
  minutesOf,
  numberFromEvent,
  paymentOf,
  policyOf,
  policyOptions,
  policySynopsis,
  sameIssuance,
  userIdOf,
} from './cli-common.js';

/**
 * Time banks (issue 5) from the command line: create and run a bank, members who join with a user
 * identifier (hashed with the bank's salt before it leaves this process), issuance through the
 * node's issuance-request route signed by a coordinator, exchanges both parties confirm, listings,
 * payments to many, alliances, transfers across allied banks and statements.
 *
 * HOURS are written `10` (hours), `2:30` (hours and minutes), `90m` (minutes) or `1.5` (decimal
 * hours that make whole minutes); the CLI prints them as H:MM. A malformed HOURS, BANK or number
 * is a bad command line (exit 2); what the node refuses exits 1 with the node's code.
 */
export const timebankCommands: Command[] = [
  {
    name: 'timebank create',
    synopsis: `NAME ${createPolicySynopsis} [--credit-limit HOURS] [--coordinators A,B,...] --from NAME`,
    summary:
      'create a time bank; its coordinators (default: the --from key) issue credits, approve ' +
      'members and change its policy; --credit-limit is how far below zero a member may go ' +
      '(default 0)',
    options: {
      ...txOptions,
      'expiry-days': policyOptions['expiry-days'],
      'notice-days': policyOptions['notice-days'],
      'demurrage-bp': policyOptions['demurrage-bp'],
      'period-days': policyOptions['period-days'],
      'credit-limit': { type: 'string' },
      coordinators: { type: 'string' },
    },
    positionals: { min: 1, max: 1 },
    async run(ctx, [name], values) {
      const policy = policyOf(values) ?? { kind: 'none' };
      const limitText = stringOption(values, 'credit-limit');
      const creditLimitMinutes =
        limitText === undefined ? 0n : minutesOf(limitText, '--credit-limit', false);
      const from = requiredOption(values, 'from');
      const listed = stringOption(values, 'coordinators');
      const coordinators =
        listed === undefined
          ? [ctx.keystore.get(from).address]
          : listed.split(',').map((entry) => {
              if (entry === '') throw usageError('--coordinators has an empty entry');
              return ctx.resolveAddress(entry, '--coordinators');
            });
      const key = await ctx.unlock(from);
      const result = await submitTx(
        ctx,
        key,
        timebankTxs.create({ name: name!, coordinators, policy, creditLimitMinutes }),
        memoOf(values),
      );
      const bankId = result.outcome.status === 'ok' ? timebankIdOf(result.outcome.hash) : '';
      report(
        ctx,
        result,
        `created time bank ${bankId} (${name!})`,
        [
          ['bank', bankId],
          ['coordinators', coordinators.join(', ')],
          ['policy', describePolicy(policy)],
          ['credit limit', formatMinutes(creditLimitMinutes)],
        ],
        { bankId },
      );
    },
  },
  {
    name: 'timebank list',
    synopsis: '[--coordinator ACCOUNT] [--before N] [--limit N]',
    summary:
      'time banks, newest first (--coordinator: those ACCOUNT coordinates); --before N continues',
    options: {
      coordinator: { type: 'string' },
      before: { type: 'string' },
      limit: { type: 'string' },
    },
    positionals: { min: 0, max: 0 },
    async run(ctx, _positionals, values) {
      const coordinatorText = stringOption(values, 'coordinator');
      const beforeText = stringOption(values, 'before');
      const limit = pageLimitOption(values);
      const page = await ctx.client.timebanks.list({
        coordinator:
          coordinatorText === undefined
            ? undefined
            : ctx.resolveAddress(coordinatorText, '--coordinator'),
        before: beforeText === undefined ? undefined : parseWholeNumber(beforeText, '--before'),
        limit,
      });
      if (ctx.json) {
        ctx.print(json(page));
        return;
      }
      const more = page.next === null ? '' : `more: coffer timebank list --before ${page.next}\n`;
      if (page.banks.length === 0) {
        ctx.print(`no time banks\n${more}`);
        return;
      }
      const rows = page.banks.map((b) => [
        String(b.number),
        b.id,
        String(b.memberCount),
        formatMinutes(b.issuedMinutes),
        b.name,
        describePolicy(b.policy),
      ]);
      ctx.print(
        table(['#', 'BANK', 'MEMBERS', 'ISSUED', 'NAME', 'POLICY'], rows, [0, 2, 3]) + more,
      );
    },
  },
  {
    name: 'timebank show',
    synopsis: 'BANK',
    summary:
      'a time bank: name, coordinators, policy, credit limit, members, minutes issued, pooled and owed, and its identifier salt',
    positionals: { min: 1, max: 1 },
    async run(ctx, [bankText]) {
      const bank = await ctx.client.timebanks.get(bankOf(bankText!));
      ctx.print(ctx.json ? json(bank) : describeBank(bank));
    },
  },
  {
    name: 'timebank members',
    synopsis: 'BANK [--status pending|approved] [--after ACCOUNT] [--limit N]',
    summary: "a bank's members and applicants in account order; --after ACCOUNT continues",
    options: { status: { type: 'string' }, after: { type: 'string' }, limit: { type: 'string' } },
    positionals: { min: 1, max: 1 },
    async run(ctx, [bankText], values) {
      const bankId = bankOf(bankText!);
      const status = stringOption(values, 'status');
      if (status !== undefined && status !== 'pending' && status !== 'approved') {
        throw usageError(`--status is pending or approved, got "${status}"`);
      }
      const afterText = stringOption(values, 'after');
      const limit = pageLimitOption(values);
      const page = await ctx.client.timebanks.members(bankId, {
        status,
        after: afterText === undefined ? undefined : ctx.resolveAddress(afterText, '--after'),
        limit,
      });
      if (ctx.json) {
        ctx.print(json(page));
        return;
      }
      const more =
        page.next === null ? '' : `more: coffer timebank members ${bankId} --after ${page.next}\n`;
      if (page.members.length === 0) {
        ctx.print(`no members\n${more}`);
        return;
      }
      const rows = page.members.map((m) => [
        m.account,
        m.status,
        formatMinutes(m.balanceMinutes),
        formatMinutes(m.debtMinutes),
      ]);
      ctx.print(table(['ACCOUNT', 'STATUS', 'BALANCE', 'DEBT'], rows, [2, 3]) + more);
    },
  },
  bankTxCommand({
    name: 'timebank add-coordinator',
    synopsis: 'BANK ACCOUNT',
    summary: 'a coordinator makes ACCOUNT a coordinator too',
    positionals: { min: 2, max: 2 },
    build(ctx, [bankText, who]) {
      const bankId = bankOf(bankText!);
      const account = ctx.resolveAddress(who!, 'ACCOUNT');
      return {
        tx: timebankTxs.addCoordinator({ bankId, account }),
        title: `${account} coordinates bank ${bankId}`,
      };
    },
  }),
  bankTxCommand({
    name: 'timebank remove-coordinator',
    synopsis: 'BANK ACCOUNT',
    summary: 'a coordinator removes a coordinator (a bank keeps at least one)',
    positionals: { min: 2, max: 2 },
    build(ctx, [bankText, who]) {
      const bankId = bankOf(bankText!);
      const account = ctx.resolveAddress(who!, 'ACCOUNT');
      return {
        tx: timebankTxs.removeCoordinator({ bankId, account }),
        title: `${account} no longer coordinates bank ${bankId}`,
      };
    },
  }),
  bankTxCommand({
    name: 'timebank join',
    synopsis: 'BANK --user-id ID',
    summary:
      'apply to join a bank as the --from key; ID (a handle or email, taken as written) is sent ' +
      "only as a hash with the bank's salt; a coordinator then approves",
    options: { 'user-id': { type: 'string' } },
    positionals: { min: 1, max: 1 },
    async build(ctx, [bankText], values) {
      const bankId = bankOf(bankText!);
      const userId = userIdOf(values);
      const { salt } = await ctx.client.timebanks.get(bankId);
      return {
        tx: timebankTxs.addMember({ bankId, userIdHash: hashUserId(salt, userId) }),
        title: `applied to join bank ${bankId}; a coordinator approves with coffer timebank approve`,
      };
    },
  }),
  bankTxCommand({
    name: 'timebank add-member',
    synopsis: 'BANK ACCOUNT --user-id ID',
    summary: 'a coordinator adds ACCOUNT as a member, approved at once, known by ID (hashed)',
    options: { 'user-id': { type: 'string' } },
    positionals: { min: 2, max: 2 },
    async build(ctx, [bankText, who], values) {
      const bankId = bankOf(bankText!);
      const account = ctx.resolveAddress(who!, 'ACCOUNT');
      const userId = userIdOf(values);
      const { salt } = await ctx.client.timebanks.get(bankId);
      return {
        tx: timebankTxs.addMember({ bankId, account, userIdHash: hashUserId(salt, userId) }),
        title: `${account} is a member of bank ${bankId}`,
      };
    },
  }),
  bankTxCommand({
    name: 'timebank approve',
    synopsis: 'BANK ACCOUNT',
    summary: "a coordinator approves a member's application",
    positionals: { min: 2, max: 2 },
    build(ctx, [bankText, who]) {
      const bankId = bankOf(bankText!);
      const account = ctx.resolveAddress(who!, 'ACCOUNT');
      return {
        tx: timebankTxs.approveMember({ bankId, account }),
        title: `approved ${account} in bank ${bankId}`,
      };
    },
  }),
  bankTxCommand({
    name: 'timebank reject',
    synopsis: 'BANK ACCOUNT',
    summary:
      'a coordinator turns down a pending application (it never held the identifier: only approval claims it)',
    positionals: { min: 2, max: 2 },
    build(ctx, [bankText, who]) {
      const bankId = bankOf(bankText!);
      const account = ctx.resolveAddress(who!, 'ACCOUNT');
      return {
        tx: timebankTxs.rejectMember({ bankId, account }),
        title: `rejected the application of ${account} to bank ${bankId}`,
      };
    },
  }),
  {
    name: 'timebank issue',
    synopsis: 'BANK HOURS --user-id ID --key NAME [--request-id ID]',
    summary:
      'issue HOURS to the member known by ID through an issuance request signed by the ' +
      'coordinator NAME; the node records them as a lot based now. The request id (default: a ' +
      'random one, printed) makes a retry safe: the same request again (same BANK, HOURS and ' +
      '--user-id) answers its record and issues nothing more, and another request under the ' +
      "id is refused (duplicate_request); --json prints the request's record",
    options: {
      key: { type: 'string' },
      'user-id': { type: 'string' },
      'request-id': { type: 'string' },
    },
    positionals: { min: 2, max: 2 },
    async run(ctx, [bankText, hoursText], values) {
      const bankId = bankOf(bankText!);
      const minutes = minutesOf(hoursText!, 'HOURS');
      const userId = userIdOf(values);
      const keyName = requiredOption(values, 'key');
      const requestId =
        stringOption(values, 'request-id') ?? `req-${randomBytes(8).toString('hex')}`;
      if (!isRequestId(requestId)) {
        throw usageError('--request-id must be 1 to 64 characters: A-Z, a-z, 0-9, "-" and "_"');
      }
      const key = await ctx.unlock(keyName);
      let result: IssuanceRequestResult;
      let retried = false;
      try {
        result = await ctx.client.timebanks.requestIssuance(key, {
          bankId,
          requestId,
          userId,
          minutes,
        });
      } catch (error) {
        if (!(error instanceof CofferError)) throw error;
        if (error.code === 'duplicate_request') {
          // The node refuses a request id it already recorded when its own relay of this very
          // request lost the race to another (another node of a cluster, a concurrent retry):
          // a retry of the same request is done, and only another request under the id is not.
          result = await sameIssuance(ctx, { bankId, requestId, userId, minutes }, error);
          retried = true;
        } else {
          // Name the request: after a network error it may still be recorded, and a retry with
          // the same id is safe.
          const retry =
            error.code === 'network_error' || error.status >= 500
              ? `; retry with --request-id ${requestId}`
              : '';
          throw new CliError(error.code, `${error.message} (request ${requestId}${retry})`);
        }
      }
      if (ctx.json) {
        ctx.print(json(result));
        return;
      }
      const title = retried
        ? `issued ${formatMinutes(minutes)} in bank ${bankId} once: request ${requestId} was ` +
          'already recorded, and this retry added nothing'
        : result.status === 'recorded'
          ? `issued ${formatMinutes(minutes)} in bank ${bankId}`
          : `issuance of ${formatMinutes(minutes)} in bank ${bankId} is pending; check with ` +
            `coffer timebank issuance ${bankId} ${requestId}`;
      ctx.print(`${title}\n${describeIssuance(result)}`);
    },
  },
  {
    name: 'timebank issuance',
    synopsis: 'BANK REQUEST_ID',
    summary: 'where an issuance request stands: pending, recorded (account, hours, lot) or failed',
    positionals: { min: 2, max: 2 },
    async run(ctx, [bankText, requestId]) {
      const bankId = bankOf(bankText!);
      if (!isRequestId(requestId)) {
        throw usageError('REQUEST_ID must be 1 to 64 characters: A-Z, a-z, 0-9, "-" and "_"');
      }
      const result = await ctx.client.timebanks.issuance(bankId, requestId!);
      ctx.print(ctx.json ? json(result) : describeIssuance(result));
    },
  },
  {
    name: 'timebank exchange',
    synopsis: 'BANK HOURS --to RECIPIENT [--offer TEXT] [--listing N] --from PROVIDER',
    summary:
      'the provider records HOURS of help given to RECIPIENT (optionally answering listing N); ' +
      'once the recipient confirms, the hours move from recipient to provider',
    options: {
      ...txOptions,
      to: { type: 'string' },
      offer: { type: 'string' },
      listing: { type: 'string' },
    },
    positionals: { min: 2, max: 2 },
    async run(ctx, [bankText, hoursText], values) {
      const bankId = bankOf(bankText!);
      const minutes = minutesOf(hoursText!, 'HOURS');
      const recipient = ctx.resolveAddress(requiredOption(values, 'to'), '--to');
      const offer = stringOption(values, 'offer');
      const listingText = stringOption(values, 'listing');
      const listing =
        listingText === undefined ? undefined : parseWholeNumber(listingText, '--listing');
      const from = requiredOption(values, 'from');
      assertNotPayer(ctx, from, recipient);
      const key = await ctx.unlock(from);
      const result = await submitTx(
        ctx,
        key,
        timebankTxs.recordExchange({ bankId, recipient, minutes, offer, listing }),
        memoOf(values),
      );
      const exchange = await numberFromEvent(
        ctx,
        result.outcome,
        'timecredits.exchangeRecorded',
        'exchange',
      );
      report(
        ctx,
        result,
        `recorded exchange ${exchange ?? ''}: ${formatMinutes(minutes)} from ${key.address} to ${recipient}; ` +
          `the recipient confirms with coffer timebank confirm ${bankId} ${exchange ?? ''}`,
        [['exchange', String(exchange)]],
        { exchange },
      );
    },
  },
  {
    name: 'timebank confirm',
    synopsis: 'BANK EXCHANGE --from NAME',
    summary: 'a party confirms an exchange; at the second confirmation the hours move',
    options: txOptions,
    positionals: { min: 2, max: 2 },
    async run(ctx, [bankText, exchangeText], values) {
      const bankId = bankOf(bankText!);
      const exchange = parseWholeNumber(exchangeText!, 'EXCHANGE');
      const key = await ctx.unlock(requiredOption(values, 'from'));
      const result = await submitTx(
        ctx,
        key,
        timebankTxs.confirmExchange({ bankId, exchange }),
        memoOf(values),
      );
      const data = await eventData(ctx, result.outcome, 'timecredits.exchangeConfirmed');
      const completed = data?.completed === true;
      report(
        ctx,
        result,
        completed
          ? `confirmed exchange ${exchange}: both parties confirmed, the hours moved`
          : `confirmed exchange ${exchange}: waiting for the other party`,
        [],
        { exchange, completed },
      );
    },
  },
  {
    name: 'timebank pay',
    synopsis: 'BANK ACCOUNT=HOURS... --from NAME',
    summary: `a coordinator pays up to ${paymentsMax} members from its own credits in one tx (all or none)`,
    options: txOptions,
    positionals: { min: 2, max: paymentsMax + 1 },
    async run(ctx, [bankText, ...paymentTexts], values) {
      const bankId = bankOf(bankText!);
      const payments = paymentTexts.map((text) => paymentOf(ctx, text));
      const total = payments.reduce((sum, p) => sum + p.minutes, 0n);
      const from = requiredOption(values, 'from');
      for (const [i, payment] of payments.entries()) {
        assertNotPayer(ctx, from, payment.account, paymentTexts[i]!.split('=')[0]);
      }
      const key = await ctx.unlock(from);
      const result = await submitTx(
        ctx,
        key,
        timebankTxs.payMany({ bankId, payments }),
        memoOf(values),
      );
      report(
        ctx,
        result,
        `paid ${formatMinutes(total)} to ${payments.length} member${payments.length === 1 ? '' : 's'} of bank ${bankId}`,
        payments.map((p): [string, string] => [p.account, formatMinutes(p.minutes)]),
      );
    },
  },
  listingCommand('offer'),
  listingCommand('request'),
  {
    name: 'timebank listings',
    synopsis:
      'BANK [--kind offer|request] [--category SLUG] [--status open|closed] [--after N] [--limit N]',
    summary: "a bank's offers and requests, newest first; --after N continues after a page",
    options: {
      kind: { type: 'string' },
      category: { type: 'string' },
      status: { type: 'string' },
      after: { type: 'string' },
      limit: { type: 'string' },
    },
    positionals: { min: 1, max: 1 },
    async run(ctx, [bankText], values) {
      const bankId = bankOf(bankText!);
      const kind = stringOption(values, 'kind');
      if (kind !== undefined && kind !== 'offer' && kind !== 'request') {
        throw usageError(`--kind is offer or request, got "${kind}"`);
      }
      const status = stringOption(values, 'status');
      if (status !== undefined && status !== 'open' && status !== 'closed') {
        throw usageError(`--status is open or closed, got "${status}"`);
      }
      const afterText = stringOption(values, 'after');
      const limit = pageLimitOption(values);
      const query: ListingQuery = {
        kind,
        category: stringOption(values, 'category'),
        status,
        after: afterText === undefined ? undefined : parseWholeNumber(afterText, '--after'),
        limit,
      };
      const page = await ctx.client.timebanks.listings(bankId, query);
      if (ctx.json) {
        ctx.print(json(page));
        return;
      }
      const more =
        page.next === null ? '' : `more: coffer timebank listings ${bankId} --after ${page.next}\n`;
      if (page.listings.length === 0) {
        ctx.print(`no listings\n${more}`);
        return;
      }
      ctx.print(
        table(
          ['#', 'KIND', 'HOURS', 'CATEGORY', 'STATUS', 'TITLE', 'OWNER'],
          page.listings.map((l: Listing) => [
            String(l.number),
            l.kind,
            formatMinutes(l.minutes),
            l.category,
            l.status,
            l.title,
            l.owner,
          ]),
          [0, 2],
        ) + more,
      );
    },
  },
  bankTxCommand({
    name: 'timebank close-listing',
    synopsis: 'BANK LISTING',
    summary: 'its owner or a coordinator closes a listing',
    positionals: { min: 2, max: 2 },
    build(_ctx, [bankText, listingText]) {
      const bankId = bankOf(bankText!);
      const listing = parseWholeNumber(listingText!, 'LISTING');
      return {
        tx: timebankTxs.closeListing({ bankId, listing }),
        title: `closed listing ${listing} of bank ${bankId}`,
      };
    },
  }),
  {
    name: 'timebank statement',
    synopsis: 'BANK [ACCOUNT] [--csv]',
    summary:
      "a member's lots with base time, age, expiry and value after demurrage; balance, debt, " +
      "hours given and received (ACCOUNT: default the keystore's only key; --csv: the node's CSV)",
    options: { csv: { type: 'boolean' } },
    positionals: { min: 1, max: 2 },
    async run(ctx, [bankText, who], values) {
      const bankId = bankOf(bankText!);
      const csv = values.csv === true;
      if (csv && ctx.json) throw usageError('give one of --csv and --json');
      const account = accountOrOnlyKey(ctx, who);
      if (csv) {
        ctx.print(await ctx.client.timebanks.statementCsv(bankId, account));
        return;
      }
      const statement = await ctx.client.timebanks.statement(bankId, account);
      ctx.print(ctx.json ? json(statement) : describeStatement(statement));
    },
  },
  bankTxCommand({
    name: 'timebank set-policy',
    synopsis: `BANK ${policySynopsis} [--credit-limit HOURS]`,
    summary:
      "a coordinator changes the bank's policy (for lots created from now on) or credit limit",
    options: { ...policyOptions, 'credit-limit': { type: 'string' } },
    positionals: { min: 1, max: 1 },
    build(_ctx, [bankText], values) {
      const bankId = bankOf(bankText!);
      const policy = policyOf(values);
      const limitText = stringOption(values, 'credit-limit');
      const creditLimitMinutes =
        limitText === undefined ? undefined : minutesOf(limitText, '--credit-limit', false);
      if (policy === undefined && creditLimitMinutes === undefined) {
        throw usageError(
          `give a policy or --credit-limit; usage: coffer timebank set-policy BANK ${policySynopsis} [--credit-limit HOURS] --from NAME`,
        );
      }
      const changes = [
        policy === undefined ? '' : `policy: ${describePolicy(policy)}`,
        creditLimitMinutes === undefined ? '' : `credit limit ${formatMinutes(creditLimitMinutes)}`,
      ].filter((text) => text !== '');
      return {
        tx: timebankTxs.setPolicy({ bankId, policy, creditLimitMinutes }),
        title: `bank ${bankId}: ${changes.join('; ')}`,
      };
    },
  }),
  allianceCommand('propose'),
  allianceCommand('accept'),
  allianceCommand('end'),
  bankTxCommand({
    name: 'timebank send-across',
    synopsis: 'BANK TO_BANK HOURS --to ACCOUNT',
    summary:
      'send HOURS from your credits in BANK to a member of the allied TO_BANK, 1:1, lots keeping their base times',
    options: { to: { type: 'string' } },
    positionals: { min: 3, max: 3 },
    build(ctx, [bankText, toBankText, hoursText], values) {
      const bankId = bankOf(bankText!);
      const toBankId = bankOf(toBankText!, 'TO_BANK');
      if (bankId === toBankId) throw usageError('TO_BANK must be another bank than BANK');
      const minutes = minutesOf(hoursText!, 'HOURS');
      const to = ctx.resolveAddress(requiredOption(values, 'to'), '--to');
      return {
        tx: timebankTxs.transferAcross({ bankId, toBankId, to, minutes }),
        title: `sent ${formatMinutes(minutes)} from bank ${bankId} to ${to} in bank ${toBankId}`,
      };
    },
  }),
];
