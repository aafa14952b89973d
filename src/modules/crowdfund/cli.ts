import { assetDecimals, checkAmountSyntax } from '../../cli/amounts.js';
import {
  accountOrOnlyKey,
  pageLimitOption,
  parseWholeNumber,
  requiredOption,
  stringOption,
  type Command,
  type CommandContext,
  type OptionValues,
} from '../../cli/context.js';
import { usageError } from '../../cli/errors.js';
import { json, table } from '../../cli/output.js';
import { memoOf, report, submitTx, txOptions, type TxOutcome } from '../../cli/payments.js';
import {
  campaignOf,
  campaignWithDecimals,
  cancelWindowOf,
  currentHeightOf,
  distributionOf,
  distributionOptions,
  distributionSynopsis,
  isoTimeOf,
  minorOf,
  pointOf,
  printInAssetUnits,
  reporterOption,
  reportersOf,
  shareTo,
} from './cli-arguments.js';
import {
  describeCampaign,
  describeChart,
  describePoint,
  describePosition,
  describeSimulation,
  describeStatement,
  units,
} from './cli-describe.js';
import { campaignTxs, type CampaignTermsInput } from './client.js';
import {
  basisPointsWhole,
  campaignEscrow,
  campaignIdOf,
  isReportId,
  type Campaign,
  type CampaignStatus,
  type PlatformFee,
} from './schema.js';

/**
 * Movie investment campaigns (issue 6) from the command line: a producer creates an all-or-nothing
 * campaign with a distribution waterfall and its revenue reporters; investors invest, cancel,
 * reconfirm amended terms and claim; reporters report box-office revenue, which the waterfall
 * pays out; anyone reads the campaign, a position, the statement, the chart and a simulation.
 *
 * AMOUNTs are in the campaign asset's units (`74.50` USD), converted exactly with the asset's
 * decimals (too many fraction digits is `invalid_amount`, never a rounding); every amount printed
 * is in those units too. A POINT is `height:N`, `+N` (N blocks after the current height) or an ISO
 * date or time with its zone (`2026-03-01`, `2026-03-01T18:00:00Z`). A malformed POINT, campaign
 * id, basis points or period is a bad command line (exit 2); what the node refuses exits 1 with
 * the node's code.
 */

/** The lines of `coffer --help` about the campaign commands (src/modules/manifest.ts). */
export const campaignCliNotes =
  'With --json, campaign create adds "campaignId" and "escrow", campaign invest "total" and\n' +
  '"raised", campaign report "report" and "byClass"; campaign simulate sends no tx. Campaigns\n' +
  "print amounts in their asset's units, and --json in minor units. A POINT is height:N, +N (N\n" +
  'blocks after the current height) or an ISO date or time with its zone (2026-03-01,\n' +
  '2026-03-01T18:00:00Z). BP are basis points: 10000 is 100%, 250 is 2.5%.';

// ---- commands ----------------------------------------------------------------------------------

/** The events of a committed tx, by type (the first of each); empty for a tx that failed. */
async function eventsOf(
  ctx: CommandContext,
  outcome: TxOutcome,
): Promise<Map<string, Record<string, unknown>>> {
  const events = new Map<string, Record<string, unknown>>();
  if (outcome.status !== 'ok') return events;
  const found = await ctx.client.getTx(outcome.hash);
  for (const event of found.receipt?.events ?? []) {
    if (!events.has(event.type)) events.set(event.type, event.data);
  }
  return events;
}

/** A command that sends one tx about a campaign from `--from` and prints the usual outcome. */
function campaignTxCommand(spec: {
  name: string;
  synopsis: string;
  summary: string;
  build(campaignId: string): { type: string; payload: Record<string, unknown> };
  done: string;
}): Command {
  return {
    name: spec.name,
    synopsis: `${spec.synopsis} --from NAME`,
    summary: spec.summary,
    options: txOptions,
    positionals: { min: 1, max: 1 },
    async run(ctx, [idText], values) {
      const campaignId = campaignOf(idText!);
      const key = await ctx.unlock(requiredOption(values, 'from'));
      const result = await submitTx(ctx, key, spec.build(campaignId), memoOf(values));
      report(ctx, result, `${spec.done} (campaign ${campaignId})`);
    },
  };
}

/** The terms options of `campaign amend`, all optional. */
async function amendedTerms(
  ctx: CommandContext,
  campaign: Campaign,
  decimals: number,
  values: OptionValues,
): Promise<Partial<CampaignTermsInput>> {
  const height = currentHeightOf(ctx);
  const amount = (name: string) => {
    const text = stringOption(values, name);
    return text === undefined ? undefined : minorOf(text, decimals, campaign.asset);
  };
  const point = async (name: string) => {
    const text = stringOption(values, name);
    return text === undefined ? undefined : pointOf(text, `--${name}`, height);
  };
  const deadline = await point('deadline');
  const windowText = stringOption(values, 'cancel-window');
  if (values['early-close'] === true && values['no-early-close'] === true) {
    throw usageError('give one of --early-close and --no-early-close');
  }
  const feeText = stringOption(values, 'fee');
  if (feeText !== undefined && values['no-fee'] === true) {
    throw usageError('give one of --fee and --no-fee');
  }
  return {
    title: stringOption(values, 'title'),
    target: amount('target'),
    minInvestment: amount('min'),
    maxInvestment: amount('max'),
    opensAt: await point('opens-at'),
    deadline,
    cancelWindow:
      windowText === undefined
        ? undefined
        : cancelWindowOf(windowText, deadline ?? campaign.deadline),
    earlyClose:
      values['early-close'] === true ? true : values['no-early-close'] === true ? false : undefined,
    platformFee:
      values['no-fee'] === true
        ? null
        : feeText === undefined
          ? undefined
          : (shareTo(ctx, feeText, '--fee', basisPointsWhole) satisfies PlatformFee),
    reporters: reportersOf(ctx, values),
    distribution: distributionOf(ctx, values),
  };
}

export const campaignCommands: Command[] = [
  {
    name: 'campaign create',
    synopsis:
      'TITLE --asset SYMBOL --target AMOUNT --min AMOUNT --max AMOUNT --deadline POINT ' +
      '[--opens-at POINT] [--cancel-window N|DURATION] [--early-close] [--fee BP:ADDRESS] ' +
      `--reporter ADDRESS [--reporter ADDRESS]... ${distributionSynopsis} --from NAME`,
    summary:
      'create an all-or-nothing campaign; the --from key is its producer. Investors may hold ' +
      '--min to --max each; at the deadline the escrow goes to the producer (less --fee) if the ' +
      'target is reached (at once with --early-close), else back to every investor. Cancelling ' +
      'stops --cancel-window before the deadline (blocks, or 48h for a time deadline; default ' +
      '0). Opens now unless --opens-at. Revenue is paid out by the waterfall in FILE.json, or by ' +
      'the preset: --distribution-fee to an account, investors recoup --recoup (default 10000 = ' +
      '100%) of principal, a --premium (of principal), then --investor-share of the rest, the ' +
      'producer the remainder. --json adds "campaignId" and "escrow"',
    options: {
      ...txOptions,
      ...distributionOptions,
      asset: { type: 'string' },
      target: { type: 'string' },
      min: { type: 'string' },
      max: { type: 'string' },
      'opens-at': { type: 'string' },
      deadline: { type: 'string' },
      'cancel-window': { type: 'string' },
      'early-close': { type: 'boolean' },
      fee: { type: 'string' },
      reporter: reporterOption,
    },
    positionals: { min: 1, max: 1 },
    async run(ctx, [title], values) {
      const asset = requiredOption(values, 'asset');
      const targetText = requiredOption(values, 'target');
      const minText = requiredOption(values, 'min');
      const maxText = requiredOption(values, 'max');
      const from = requiredOption(values, 'from');
      const reporters = reportersOf(ctx, values);
      if (reporters === undefined) {
        throw usageError('--reporter ADDRESS is required: who may report revenue (repeatable)');
      }
      const distribution = distributionOf(ctx, values);
      if (distribution === undefined) {
        throw usageError(`give the distribution: ${distributionSynopsis}`);
      }
      const feeText = stringOption(values, 'fee');
      const platformFee =
        feeText === undefined ? undefined : shareTo(ctx, feeText, '--fee', basisPointsWhole);
      for (const text of [targetText, minText, maxText]) checkAmountSyntax(text);
      const health = await ctx.client.health();
      const height = () => Promise.resolve(health.height);
      const deadline = await pointOf(requiredOption(values, 'deadline'), '--deadline', height);
      const opensText = stringOption(values, 'opens-at');
      const opensAt =
        opensText !== undefined
          ? await pointOf(opensText, '--opens-at', height)
          : 'height' in deadline
            ? { height: Math.max(1, health.height) }
            : { time: health.blockTime };
      const windowText = stringOption(values, 'cancel-window');
      const cancelWindow = windowText === undefined ? 0 : cancelWindowOf(windowText, deadline);
      const decimals = await assetDecimals(ctx.client, asset);
      const key = await ctx.unlock(from);
      const result = await submitTx(
        ctx,
        key,
        campaignTxs.create({
          title: title!,
          asset,
          target: minorOf(targetText, decimals, asset),
          minInvestment: minorOf(minText, decimals, asset),
          maxInvestment: minorOf(maxText, decimals, asset),
          opensAt,
          deadline,
          cancelWindow,
          earlyClose: values['early-close'] === true,
          platformFee,
          reporters,
          distribution,
        }),
        memoOf(values),
      );
      const campaignId = result.outcome.status === 'ok' ? campaignIdOf(result.outcome.hash) : '';
      const escrow = campaignId === '' ? '' : campaignEscrow(campaignId);
      report(
        ctx,
        result,
        `created campaign ${campaignId} (${title!})`,
        [
          ['campaign', campaignId],
          ['target', units(minorOf(targetText, decimals, asset), decimals, asset)],
          ['deadline', describePoint(deadline)],
          ['escrow', escrow],
        ],
        { campaignId, escrow },
      );
    },
  },
  {
    name: 'campaign invest',
    synopsis: 'CAMPAIGN AMOUNT --from NAME',
    summary:
      "invest AMOUNT (in the campaign's asset) from the --from key into the campaign's escrow; " +
      'it also accepts amended terms. --json adds "total" and "raised" (minor units)',
    options: txOptions,
    positionals: { min: 2, max: 2 },
    async run(ctx, [idText, amountText], values) {
      const campaignId = campaignOf(idText!);
      checkAmountSyntax(amountText!);
      const { campaign, decimals } = await campaignWithDecimals(ctx, campaignId);
      const amount = minorOf(amountText!, decimals, campaign.asset);
      const key = await ctx.unlock(requiredOption(values, 'from'));
      const result = await submitTx(
        ctx,
        key,
        campaignTxs.invest({ campaignId, amount }),
        memoOf(values),
      );
      const events = await eventsOf(ctx, result.outcome);
      const data = events.get('campaign.invested');
      const total = typeof data?.total === 'string' ? data.total : undefined;
      const raised = typeof data?.raised === 'string' ? data.raised : undefined;
      // Early close: this investment reached the target and the block released the escrow.
      const closed = events.has('campaign.succeeded')
        ? '; the target is reached: the campaign closed and the escrow went to the producer'
        : '';
      report(
        ctx,
        result,
        `invested ${units(amount, decimals, campaign.asset)} in campaign ${campaignId}${closed}`,
        [
          ['your total', total === undefined ? '' : units(total, decimals, campaign.asset)],
          [
            'raised',
            raised === undefined
              ? ''
              : `${units(raised, decimals, campaign.asset)} of ${units(campaign.target, decimals, campaign.asset)}`,
          ],
        ],
        { total, raised },
      );
    },
  },
  campaignTxCommand({
    name: 'campaign cancel',
    synopsis: 'CAMPAIGN',
    summary:
      'take your whole investment back from the escrow, until the cancel window before the deadline',
    build: (campaignId) => campaignTxs.cancelInvestment({ campaignId }),
    done: 'cancelled your investment; the escrow refunded it',
  }),
  {
    name: 'campaign amend',
    synopsis:
      'CAMPAIGN [--title T] [--target AMOUNT] [--min AMOUNT] [--max AMOUNT] [--opens-at POINT] ' +
      '[--deadline POINT] [--cancel-window N|DURATION] [--early-close | --no-early-close] ' +
      '[--fee BP:ADDRESS | --no-fee] [--reporter ADDRESS]... [--distribution FILE.json | ' +
      '--investor-share BP [--distribution-fee BP:ADDRESS] [--premium BP] [--recoup BP]] ' +
      '[--reconfirm-by POINT] --from NAME',
    summary:
      'the producer changes terms while funding; once anyone has invested, --reconfirm-by (on the ' +
      "deadline's clock, before it) is required and investors who have not reconfirmed by then " +
      'are refunded',
    options: {
      ...txOptions,
      ...distributionOptions,
      title: { type: 'string' },
      target: { type: 'string' },
      min: { type: 'string' },
      max: { type: 'string' },
      'opens-at': { type: 'string' },
      deadline: { type: 'string' },
      'cancel-window': { type: 'string' },
      'early-close': { type: 'boolean' },
      'no-early-close': { type: 'boolean' },
      fee: { type: 'string' },
      'no-fee': { type: 'boolean' },
      reporter: reporterOption,
      'reconfirm-by': { type: 'string' },
    },
    positionals: { min: 1, max: 1 },
    async run(ctx, [idText], values) {
      const campaignId = campaignOf(idText!);
      const from = requiredOption(values, 'from');
      const { campaign, decimals } = await campaignWithDecimals(ctx, campaignId);
      const terms = await amendedTerms(ctx, campaign, decimals, values);
      const named = Object.keys(terms).filter((k) => terms[k as keyof typeof terms] !== undefined);
      if (named.length === 0) throw usageError('name at least one term to amend');
      const byText = stringOption(values, 'reconfirm-by');
      const reconfirmBy =
        byText === undefined
          ? undefined
          : await pointOf(byText, '--reconfirm-by', currentHeightOf(ctx));
      const key = await ctx.unlock(from);
      const result = await submitTx(
        ctx,
        key,
        campaignTxs.amend({ campaignId, terms, reconfirmBy }),
        memoOf(values),
      );
      report(ctx, result, `amended ${named.sort().join(', ')} of campaign ${campaignId}`, [
        [
          'reconfirm by',
          reconfirmBy === undefined ? 'not needed (no investors)' : describePoint(reconfirmBy),
        ],
      ]);
    },
  },
  campaignTxCommand({
    name: 'campaign reconfirm',
    synopsis: 'CAMPAIGN',
    summary: 'an investor accepts the amended terms (else refunded at the reconfirmation point)',
    build: (campaignId) => campaignTxs.reconfirm({ campaignId }),
    done: 'reconfirmed the amended terms',
  }),
  campaignTxCommand({
    name: 'campaign claim',
    synopsis: 'CAMPAIGN',
    summary:
      'claim what a block could not pay because an account was frozen: an investor its refund, ' +
      'the producer its release',
    build: (campaignId) => campaignTxs.claim({ campaignId }),
    done: 'claimed',
  }),
  {
    name: 'campaign report',
    synopsis: 'CAMPAIGN GROSS --report-id ID --period FROM..TO --from NAME',
    summary:
      'a reporter reports GROSS box-office revenue (in the asset) for the period FROM..TO (ISO ' +
      'dates or times) and deposits it; the waterfall pays it out at once. A report id is applied ' +
      'once (a retry is duplicate_report). --json adds "report" and "byClass" (minor units)',
    options: { ...txOptions, 'report-id': { type: 'string' }, period: { type: 'string' } },
    positionals: { min: 2, max: 2 },
    async run(ctx, [idText, grossText], values) {
      const campaignId = campaignOf(idText!);
      const reportId = requiredOption(values, 'report-id');
      if (!isReportId(reportId)) {
        throw usageError('--report-id must be 1 to 64 characters: A-Z, a-z, 0-9, "-" and "_"');
      }
      const period = requiredOption(values, 'period');
      const parts = period.split('..');
      if (parts.length !== 2) {
        throw usageError(`--period is FROM..TO (2026-01-02..2026-01-05), got "${period}"`);
      }
      const periodStart = isoTimeOf(parts[0]!, '--period FROM');
      const periodEnd = isoTimeOf(parts[1]!, '--period TO');
      if (periodStart >= periodEnd) throw usageError('--period FROM must be before TO');
      const from = requiredOption(values, 'from');
      checkAmountSyntax(grossText!);
      const { campaign, decimals } = await campaignWithDecimals(ctx, campaignId);
      const grossRevenue = minorOf(grossText!, decimals, campaign.asset);
      const key = await ctx.unlock(from);
      const result = await submitTx(
        ctx,
        key,
        campaignTxs.reportRevenue({ campaignId, reportId, periodStart, periodEnd, grossRevenue }),
        memoOf(values),
      );
      const data = (await eventsOf(ctx, result.outcome)).get('campaign.revenueReported');
      const byClass = data?.byClass as
        { investors: string; producer: string; accounts: string } | undefined;
      const money = (amount: string | undefined) =>
        amount === undefined ? '' : units(amount, decimals, campaign.asset);
      report(
        ctx,
        result,
        `reported ${money(grossRevenue)} for campaign ${campaignId} (${reportId}) and paid it out`,
        [
          ['report', String(data?.report)],
          ['cumulative', money(data?.cumulativeRevenue as string | undefined)],
          ['investors', money(byClass?.investors)],
          ['producer', money(byClass?.producer)],
          ['accounts', money(byClass?.accounts)],
        ],
        { report: data?.report, byClass },
      );
    },
  },
  {
    name: 'campaign show',
    synopsis: 'CAMPAIGN',
    summary: 'a campaign: terms, status, raised and revenue, reporters, escrow and its waterfall',
    positionals: { min: 1, max: 1 },
    async run(ctx, [idText]) {
      const { campaign, decimals } = await campaignWithDecimals(ctx, campaignOf(idText!));
      ctx.print(ctx.json ? json(campaign) : describeCampaign(campaign, decimals));
    },
  },
  {
    name: 'campaign list',
    synopsis:
      '[--producer ADDRESS] [--status funding|succeeded|refunding|failed] [--before N] [--limit N]',
    summary: 'campaigns, newest first; --before N continues with older ones',
    options: {
      producer: { type: 'string' },
      status: { type: 'string' },
      before: { type: 'string' },
      limit: { type: 'string' },
    },
    positionals: { min: 0, max: 0 },
    async run(ctx, _positionals, values) {
      const status = stringOption(values, 'status');
      const statuses: CampaignStatus[] = ['funding', 'succeeded', 'refunding', 'failed'];
      if (status !== undefined && !statuses.includes(status as CampaignStatus)) {
        throw usageError(`--status is one of ${statuses.join(', ')}, got "${status}"`);
      }
      const producerText = stringOption(values, 'producer');
      const beforeText = stringOption(values, 'before');
      const limit = pageLimitOption(values);
      const page = await ctx.client.campaigns.list({
        producer:
          producerText === undefined ? undefined : ctx.resolveAddress(producerText, '--producer'),
        status: status as CampaignStatus | undefined,
        before: beforeText === undefined ? undefined : parseWholeNumber(beforeText, '--before'),
        limit,
      });
      if (ctx.json) {
        ctx.print(json(page));
        return;
      }
      const more = page.next === null ? '' : `more: coffer campaign list --before ${page.next}\n`;
      if (page.campaigns.length === 0) {
        ctx.print(`no campaigns\n${more}`);
        return;
      }
      const decimals = new Map<string, number>();
      for (const asset of new Set(page.campaigns.map((c) => c.asset))) {
        decimals.set(asset, await assetDecimals(ctx.client, asset));
      }
      const rows = page.campaigns.map((c) => {
        const places = decimals.get(c.asset)!;
        return [
          String(c.number),
          c.id,
          c.status,
          units(c.raised, places),
          units(c.target, places, c.asset),
          c.title,
        ];
      });
      ctx.print(
        table(['#', 'CAMPAIGN', 'STATUS', 'RAISED', 'TARGET', 'TITLE'], rows, [0, 3, 4]) + more,
      );
    },
  },
  {
    name: 'campaign investors',
    synopsis: 'CAMPAIGN',
    summary: 'the addresses with an active position, in address order',
    positionals: { min: 1, max: 1 },
    async run(ctx, [idText]) {
      const list = await ctx.client.campaigns.investors(campaignOf(idText!));
      if (ctx.json) ctx.print(json(list));
      else
        ctx.print(
          list.investors.length === 0 ? 'no investors\n' : list.investors.join('\n') + '\n',
        );
    },
  },
  {
    name: 'campaign position',
    synopsis: 'CAMPAIGN [ACCOUNT]',
    summary:
      "an investor's position: invested, refunded, owed, reconfirmation, each payout by report " +
      'and tranche, totals, payouts owed while the account was frozen (ACCOUNT: default the ' +
      "keystore's only key)",
    positionals: { min: 1, max: 2 },
    async run(ctx, [idText, who]) {
      const campaignId = campaignOf(idText!);
      const account = accountOrOnlyKey(ctx, who);
      const { campaign, decimals } = await campaignWithDecimals(ctx, campaignId);
      const position = await ctx.client.campaigns.position(campaignId, account);
      ctx.print(ctx.json ? json(position) : describePosition(position, decimals, campaign.asset));
    },
  },
  {
    name: 'campaign statement',
    synopsis: 'CAMPAIGN',
    summary:
      "the campaign's revenue reports, what each paid to investors, producer and accounts, and " +
      "the waterfall's position: each tranche's fill and cap left, and who is owed what a " +
      'frozen account could not be paid (to claim)',
    positionals: { min: 1, max: 1 },
    run: (ctx, [idText]) =>
      printInAssetUnits(
        ctx,
        ctx.client.campaigns.statement(campaignOf(idText!)),
        describeStatement,
      ),
  },
  {
    name: 'campaign chart',
    synopsis: 'CAMPAIGN',
    summary:
      'per report, cumulative revenue, each tranche and each class of recipient (--json: the ' +
      "console's chart series, minor units)",
    positionals: { min: 1, max: 1 },
    run: (ctx, [idText]) =>
      printInAssetUnits(ctx, ctx.client.campaigns.chart(campaignOf(idText!)), describeChart),
  },
  {
    name: 'campaign simulate',
    synopsis: 'CAMPAIGN REVENUE',
    summary:
      'who would get what, per tranche, if a report of REVENUE (in the asset) were applied now; ' +
      'sends no tx',
    positionals: { min: 2, max: 2 },
    async run(ctx, [idText, revenueText]) {
      const campaignId = campaignOf(idText!);
      checkAmountSyntax(revenueText!);
      const { campaign, decimals } = await campaignWithDecimals(ctx, campaignId);
      const revenue = minorOf(revenueText!, decimals, campaign.asset);
      const simulation = await ctx.client.campaigns.simulate(campaignId, revenue);
      ctx.print(
        ctx.json ? json(simulation) : describeSimulation(simulation, campaign, decimals, revenue),
      );
    },
  },
];
