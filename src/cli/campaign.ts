import fs from 'node:fs';
import {
  CryptoInputError,
  campaignEscrow,
  campaignIdOf,
  campaignTxs,
  formatUnits,
  isCampaignId,
  isReportId,
  recoupWaterfall,
  type Campaign,
  type CampaignChart,
  type CampaignPosition,
  type CampaignSimulation,
  type CampaignStatus,
  type CampaignStatement,
  type CampaignTermsInput,
  type DistributionRule,
  type PlatformFee,
  type SchedulePoint,
  type TranchePosition,
  type WaterfallTranche,
} from '../sdk/index.js';
import { assetDecimals, checkAmountSyntax, toMinorUnits } from './amounts.js';
import {
  parseWholeNumber,
  requiredOption,
  stringOption,
  type Command,
  type CommandContext,
  type OptionValues,
} from './context.js';
import { CliError, usageError } from './errors.js';
import { fields, json, table } from './output.js';
import { memoOf, report, submitTx, txOptions, type TxOutcome } from './payments.js';

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

/** A distribution file is a few tranches: 64 KiB is far more than 8 tranches of 8 recipients. */
const distributionFileBytesMax = 64 * 1024;
/** The module's `reportersMax`. */
const reportersMax = 10;
const basisPointsWhole = 10_000;

const durationUnitsMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

// ---- arguments -----------------------------------------------------------------------------

function campaignOf(text: string): string {
  if (!isCampaignId(text)) {
    throw usageError(`CAMPAIGN must be a campaign id: 16 lowercase hex digits, got "${text}"`);
  }
  return text;
}

/** Basis points from `min` to `max` (10000 is 100%). */
function basisPointsOf(text: string, what: string, min: number, max: number): number {
  const value = parseWholeNumber(text, what);
  if (value < min || value > max) {
    throw usageError(`${what} must be from ${min} to ${max} basis points (100 is 1%), got ${text}`);
  }
  return value;
}

/** `BP:ADDRESS` (a key name is accepted for the address). */
function shareTo(
  ctx: CommandContext,
  text: string,
  what: string,
  max: number,
): { basisPoints: number; to: string } {
  const at = text.indexOf(':');
  if (at <= 0 || at === text.length - 1) {
    throw usageError(`${what} is BP:ADDRESS (250:distributor is 2.5%), got "${text}"`);
  }
  return {
    basisPoints: basisPointsOf(text.slice(0, at), what, 1, max),
    to: ctx.resolveAddress(text.slice(at + 1), what),
  };
}

const isoPattern =
  /^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,3})?)?(Z|[+-][0-9]{2}:[0-9]{2}))?$/;

/** Unix ms of an ISO date (UTC midnight) or an ISO time with its zone. */
function isoTimeOf(text: string, what: string): number {
  const ms = isoPattern.test(text) ? Date.parse(text) : NaN;
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw usageError(
      `${what} must be an ISO date or a time with its zone (2026-03-01 or 2026-03-01T18:00:00Z), got "${text}"`,
    );
  }
  return ms;
}

/** A POINT: `height:N`, `+N` blocks from `currentHeight()`, or an ISO date or time. */
async function pointOf(
  text: string,
  what: string,
  currentHeight: () => Promise<number>,
): Promise<SchedulePoint> {
  let match: RegExpExecArray | null;
  if ((match = /^height:(.*)$/.exec(text))) {
    const height = parseWholeNumber(match[1]!, what);
    if (height < 1) throw usageError(`${what}: a height is from 1`);
    return { height };
  }
  if ((match = /^\+(.*)$/.exec(text))) {
    const blocks = parseWholeNumber(match[1]!, what);
    if (blocks < 1) throw usageError(`${what}: +N is at least one block ahead`);
    return { height: (await currentHeight()) + blocks };
  }
  if (/^[0-9]{4}-/.test(text)) return { time: isoTimeOf(text, what) };
  throw usageError(
    `${what} is height:N, +N (blocks from now) or an ISO date or time (2026-03-01T18:00:00Z), got "${text}"`,
  );
}

function describePoint(point: SchedulePoint): string {
  return 'height' in point ? `height ${point.height}` : new Date(point.time).toISOString();
}

/**
 * `--cancel-window`: blocks (`N`) before a height deadline, or a duration (`48h`, `2d`, `30m`,
 * `90s`, `500ms`) before a time deadline; the module counts it in the deadline's unit.
 */
function cancelWindowOf(text: string, deadline: SchedulePoint): number {
  const match = /^([0-9]{1,15})(ms|s|m|h|d)?$/.exec(text);
  if (!match) {
    throw usageError(
      `--cancel-window is N blocks (height deadline) or a duration such as 48h or 2d (time deadline), got "${text}"`,
    );
  }
  const unit = match[2] as keyof typeof durationUnitsMs | undefined;
  const count = Number(match[1]);
  if ('height' in deadline) {
    if (unit !== undefined) {
      throw usageError(
        '--cancel-window before a height deadline is a number of blocks, such as 10',
      );
    }
    return count;
  }
  if (unit === undefined) {
    throw usageError('--cancel-window before a time deadline is a duration, such as 48h or 2d');
  }
  const ms = count * durationUnitsMs[unit];
  if (!Number.isSafeInteger(ms)) throw usageError('--cancel-window is too long');
  return ms;
}

function describeWindow(window: number, deadline: SchedulePoint): string {
  if (window === 0) return 'the deadline';
  if ('height' in deadline) return `${window} block${window === 1 ? '' : 's'} before the deadline`;
  // The largest unit that divides it: 48h stays 48h (not 2d), as people write cancel windows.
  const units: (keyof typeof durationUnitsMs)[] = ['h', 'm', 's', 'ms'];
  const unit = units.find((u) => window % durationUnitsMs[u] === 0) ?? 'ms';
  return `${window / durationUnitsMs[unit]}${unit} before the deadline`;
}

/** Basis points as a percentage: 3000 is `30%`, 2550 `25.5%`, 1 `0.01%`. */
function percent(basisPoints: number): string {
  const whole = Math.floor(basisPoints / 100);
  const fraction = String(basisPoints % 100)
    .padStart(2, '0')
    .replace(/0+$/, '');
  return `${whole}${fraction === '' ? '' : `.${fraction}`}%`;
}

function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    const { size } = fs.statSync(file);
    if (size > distributionFileBytesMax) {
      throw new CliError(
        'invalid_file',
        `${what} ${file} is ${size} bytes; at most ${distributionFileBytesMax} are accepted`,
      );
    }
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError('invalid_file', `cannot read ${what} ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CliError('invalid_file', `${what} ${file} is not JSON: ${(error as Error).message}`);
  }
}

/** The waterfall options, shared by create and amend. */
const distributionOptions = {
  distribution: { type: 'string' },
  'investor-share': { type: 'string' },
  'distribution-fee': { type: 'string' },
  premium: { type: 'string' },
  recoup: { type: 'string' },
} as const;

const distributionSynopsis =
  '(--distribution FILE.json | --investor-share BP [--distribution-fee BP:ADDRESS] [--premium BP] [--recoup BP])';

/**
 * The distribution rule: a JSON file (`{"tranches": [...]}`, sent as written: the node checks
 * it), or the preset of `recoupWaterfall`. Undefined when no option names one.
 */
function distributionOf(ctx: CommandContext, values: OptionValues): DistributionRule | undefined {
  const file = stringOption(values, 'distribution');
  const share = stringOption(values, 'investor-share');
  const fee = stringOption(values, 'distribution-fee');
  const premium = stringOption(values, 'premium');
  const recoup = stringOption(values, 'recoup');
  const presetGiven = [share, fee, premium, recoup].some((v) => v !== undefined);
  if (file !== undefined) {
    if (presetGiven) {
      throw usageError(
        'give --distribution FILE or the preset options (--investor-share, --distribution-fee, --premium, --recoup), not both',
      );
    }
    const rule = readJsonFile(file, 'distribution file');
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
      throw new CliError('invalid_file', `distribution file ${file} is not {"tranches": [...]}`);
    }
    return rule as DistributionRule;
  }
  if (!presetGiven) return undefined;
  if (share === undefined) {
    throw usageError(
      "--investor-share BP is required with the preset: the investors' share of the rest (the producer takes the remainder)",
    );
  }
  try {
    return recoupWaterfall({
      investorsShareBasisPoints: basisPointsOf(share, '--investor-share', 0, basisPointsWhole),
      distributionFee:
        fee === undefined
          ? undefined
          : shareTo(ctx, fee, '--distribution-fee', basisPointsWhole - 1),
      premiumBasisPoints:
        premium === undefined ? undefined : basisPointsOf(premium, '--premium', 0, 1_000_000),
      recoupBasisPoints:
        recoup === undefined ? undefined : basisPointsOf(recoup, '--recoup', 1, 1_000_000),
    });
  } catch (error) {
    if (error instanceof CryptoInputError) throw usageError(error.message);
    throw error;
  }
}

/** `--reporter` is repeatable; parseArgs gives a list (see `reporterOption`). */
function reportersOf(ctx: CommandContext, values: OptionValues): string[] | undefined {
  const raw = values.reporter;
  const listed = Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : [];
  if (listed.length === 0) return undefined;
  if (listed.length > reportersMax) {
    throw usageError(`at most ${reportersMax} --reporter accounts`);
  }
  return listed.map((entry) => {
    if (entry === '') throw usageError('--reporter is empty');
    return ctx.resolveAddress(entry, '--reporter');
  });
}

/** `--reporter`, repeatable. */
const reporterOption = { type: 'string', multiple: true } as const;

/** Prints a campaign read: as the node's JSON with --json, else described in the asset's units. */
async function printInAssetUnits<T extends { asset: string }>(
  ctx: CommandContext,
  answer: Promise<T>,
  describe: (value: T, decimals: number) => string,
): Promise<void> {
  const value = await answer;
  if (ctx.json) {
    ctx.print(json(value));
    return;
  }
  ctx.print(describe(value, await assetDecimals(ctx.client, value.asset)));
}

/** Amounts in the asset's units; checks syntax first so a typo fails without a round trip. */
function minorOf(text: string, decimals: number, symbol: string): string {
  checkAmountSyntax(text);
  return toMinorUnits(text, decimals, symbol);
}

function units(amount: string | bigint, decimals: number, symbol?: string): string {
  const text = formatUnits(BigInt(amount), decimals);
  return symbol === undefined ? text : `${text} ${symbol}`;
}

/** The campaign and its asset's decimals: what every amount in and out is converted with. */
async function campaignWithDecimals(
  ctx: CommandContext,
  id: string,
): Promise<{ campaign: Campaign; decimals: number }> {
  const campaign = await ctx.client.campaigns.get(id);
  return { campaign, decimals: await assetDecimals(ctx.client, campaign.asset) };
}

function currentHeightOf(ctx: CommandContext): () => Promise<number> {
  let height: number | undefined;
  return async () => (height ??= (await ctx.client.health()).height);
}

// ---- descriptions ------------------------------------------------------------------------------

function describeTranche(tranche: WaterfallTranche, decimals: number, asset: string): string {
  const cap =
    tranche.cap === undefined
      ? ''
      : 'amount' in tranche.cap
        ? `, up to ${units(tranche.cap.amount, decimals, asset)}`
        : `, up to ${percent(tranche.cap.principalBasisPoints)} of principal`;
  const to = tranche.recipients
    .map((r) => {
      const who = r.kind === 'account' ? r.address : r.kind;
      return r.weightBasisPoints === basisPointsWhole
        ? who
        : `${who} ${percent(r.weightBasisPoints)}`;
    })
    .join(', ');
  const share =
    tranche.shareBasisPoints === basisPointsWhole
      ? 'all that remains'
      : `${percent(tranche.shareBasisPoints)} of what remains`;
  return `${tranche.name}: ${share}${cap} -> ${to}`;
}

function describeCampaign(campaign: Campaign, decimals: number): string {
  const money = (amount: string | null) =>
    amount === null ? undefined : units(amount, decimals, campaign.asset);
  const round = campaign.reconfirmation;
  return (
    fields([
      ['campaign', campaign.id],
      ['title', campaign.title],
      ['status', campaign.status + (campaign.releaseBlocked ? ' (release blocked: claim)' : '')],
      ['producer', campaign.producer],
      ['target', money(campaign.target)],
      ['raised', money(campaign.raised)],
      ['investors', campaign.investorCount],
      ['per investor', `${money(campaign.minInvestment)} to ${money(campaign.maxInvestment)}`],
      ['opens', describePoint(campaign.opensAt)],
      ['deadline', describePoint(campaign.deadline)],
      ['cancel until', describeWindow(campaign.cancelWindow, campaign.deadline)],
      ['early close', campaign.earlyClose ? 'yes, at the target' : 'no'],
      [
        'platform fee',
        campaign.platformFee === null
          ? 'none'
          : `${percent(campaign.platformFee.basisPoints)} to ${campaign.platformFee.to}`,
      ],
      ['reporters', campaign.reporters.join(', ')],
      ['escrow', campaign.escrow],
      [
        'reconfirmation',
        round === null
          ? undefined
          : `terms version ${round.version}: ${round.pending} pending, by ${describePoint(round.by)}`,
      ],
      ['principal', money(campaign.principal)],
      ['fee', money(campaign.fee)],
      ['owed', campaign.owed === '0' ? undefined : `${money(campaign.owed)} (refunds to claim)`],
      ['revenue', money(campaign.revenue)],
      ['reports', campaign.reportCount],
      [
        'created',
        `${new Date(campaign.createdAt).toISOString()} at height ${campaign.createdAtHeight}`,
      ],
    ]) +
    'distribution:\n' +
    campaign.distribution.tranches
      .map((t, i) => `  ${i + 1}. ${describeTranche(t, decimals, campaign.asset)}\n`)
      .join('')
  );
}

function trancheTable(tranches: TranchePosition[], decimals: number, withAmount: boolean): string {
  const header = withAmount
    ? ['#', 'TRANCHE', 'AMOUNT', 'FILL', 'CAP', 'CAP LEFT']
    : ['#', 'TRANCHE', 'FILL', 'CAP', 'CAP LEFT'];
  return table(
    header,
    tranches.map((t) => [
      String(t.index + 1),
      t.name,
      ...(withAmount ? [units(t.amount, decimals)] : []),
      units(t.fill, decimals),
      t.cap === null ? '-' : units(t.cap, decimals),
      t.capRemaining === null ? '-' : units(t.capRemaining, decimals),
    ]),
    withAmount ? [0, 2, 3, 4, 5] : [0, 2, 3, 4],
  );
}

function describePosition(position: CampaignPosition, decimals: number, asset: string): string {
  const money = (amount: string) => units(amount, decimals, asset);
  const owedPayouts = position.payoutOwed !== '0';
  let text =
    `position of ${position.investor} in campaign ${position.campaignId}\n` +
    fields([
      ['status', position.status],
      ['principal', money(position.principal)],
      ['invested', money(position.invested)],
      ['refunded', money(position.refunded)],
      ['owed', position.owed === '0' ? undefined : `${money(position.owed)} (to claim)`],
      [
        'reconfirmation',
        position.reconfirmation === 'pending' && position.reconfirmBy !== null
          ? `pending, by ${describePoint(position.reconfirmBy)}`
          : position.reconfirmation,
      ],
      ['paid out', money(position.paidOut)],
      [
        'owed payouts',
        owedPayouts
          ? `${money(position.payoutOwed)} (the account was frozen; to claim: coffer campaign claim ${position.campaignId})`
          : undefined,
      ],
      ['net', money(position.net)],
    ]);
  if (position.payouts.length === 0) return text + 'no payouts\n';
  // A report that found the account frozen left its payout in the escrow: while it is owed (a
  // claim pays every owed payout at once), its rows say `owed`.
  const anyBlocked = owedPayouts && position.payouts.some((p) => p.blocked);
  const owedByTranche = new Map(position.payoutOwedByTranche.map((t) => [t.tranche, t.amount]));
  text +=
    '\n' +
    table(
      ['REPORT', 'REPORT ID', 'TRANCHE', 'AMOUNT', ...(anyBlocked ? ['OWED'] : [])],
      position.payouts.flatMap((p) =>
        p.tranches.map((t) => [
          String(p.report),
          p.reportId,
          t.name,
          units(t.amount, decimals),
          ...(anyBlocked ? [p.blocked ? 'owed' : ''] : []),
        ]),
      ),
      [0, 3],
    ) +
    '\n' +
    table(
      ['TRANCHE', 'PAID OUT', ...(owedPayouts ? ['OWED'] : [])],
      position.paidOutByTranche.map((t) => [
        t.name,
        units(t.amount, decimals),
        ...(owedPayouts ? [units(owedByTranche.get(t.tranche) ?? '0', decimals)] : []),
      ]),
      owedPayouts ? [1, 2] : [1],
    );
  return text;
}

function describeStatement(statement: CampaignStatement, decimals: number): string {
  const money = (amount: string | null) =>
    amount === null ? undefined : units(amount, decimals, statement.asset);
  const owed = (amount: string) => (amount === '0' ? undefined : `${money(amount)} (to claim)`);
  let text =
    `statement of campaign ${statement.campaignId} (${statement.title})\n` +
    fields([
      ['status', statement.status],
      ['target', money(statement.target)],
      ['raised', money(statement.raised)],
      ['principal', money(statement.principal)],
      ['fee', money(statement.fee)],
      ['investors', statement.investors],
      ['revenue', money(statement.cumulativeRevenue)],
      ['owed refunds', owed(statement.refundsOwed)],
      ['owed payouts', owed(statement.payoutsOwed)],
    ]);
  if (statement.reports.length === 0) {
    text += 'no revenue reports\n';
  } else {
    // A report that found a recipient frozen kept its share in the escrow: the OWED column says
    // how much, shown while the campaign owes payouts.
    const anyBlocked =
      statement.payoutsOwed !== '0' && statement.reports.some((r) => r.blocked !== '0');
    text +=
      '\n' +
      table(
        [
          '#',
          'REPORT ID',
          'PERIOD',
          'GROSS',
          'CUMULATIVE',
          'INVESTORS',
          'PRODUCER',
          'ACCOUNTS',
          ...(anyBlocked ? ['OWED'] : []),
        ],
        statement.reports.map((r) => [
          String(r.report),
          r.reportId,
          `${new Date(r.periodStart).toISOString().slice(0, 10)}..${new Date(r.periodEnd).toISOString().slice(0, 10)}`,
          units(r.grossRevenue, decimals),
          units(r.cumulativeRevenue, decimals),
          units(r.byClass.investors, decimals),
          units(r.byClass.producer, decimals),
          units(r.byClass.accounts, decimals),
          ...(anyBlocked ? [r.blocked === '0' ? '' : units(r.blocked, decimals)] : []),
        ]),
        [0, 3, 4, 5, 6, 7, 8],
      );
  }
  text += '\nwaterfall position\n' + trancheTable(statement.tranches, decimals, false);
  if (statement.owedPayouts.length > 0) {
    text +=
      `\nowed (recipients frozen at a report; each claims with coffer campaign claim ${statement.campaignId})\n` +
      table(
        ['ADDRESS', 'OWED', 'AS INVESTOR', 'OTHER'],
        statement.owedPayouts.map((o) => [
          o.address,
          units(o.amount, decimals),
          units(o.investor, decimals),
          units(o.other, decimals),
        ]),
        [1, 2, 3],
      );
  }
  return text;
}

function describeChart(chart: CampaignChart, decimals: number): string {
  if (chart.series.length === 0) return `campaign ${chart.campaignId}: no revenue reports yet\n`;
  return table(
    [
      '#',
      'PERIOD END',
      'CUMULATIVE',
      ...chart.trancheNames.map((n) => n.toUpperCase()),
      'INVESTORS',
      'PRODUCER',
      'ACCOUNTS',
    ],
    chart.series.map((p) => {
      const cumulative = p.tranches.reduce((sum, fill) => sum + BigInt(fill), 0n);
      return [
        String(p.report),
        new Date(p.periodEnd).toISOString().slice(0, 10),
        units(cumulative, decimals),
        ...p.tranches.map((fill) => units(fill, decimals)),
        units(p.classes.investors, decimals),
        units(p.classes.producer, decimals),
        units(p.classes.accounts, decimals),
      ];
    }),
    [0, ...Array.from({ length: chart.trancheNames.length + 4 }, (_, i) => i + 2)],
  );
}

function describeSimulation(
  simulation: CampaignSimulation,
  campaign: Campaign,
  decimals: number,
  revenue: string,
): string {
  const money = (amount: string) => units(amount, decimals, campaign.asset);
  const names = campaign.distribution.tranches.map((t) => t.name);
  return (
    `a report of ${money(revenue)} on campaign ${campaign.id} now would pay (no tx sent):\n` +
    fields([
      ['principal', money(simulation.principal)],
      [
        'revenue',
        `${money(simulation.cumulativeBefore)} -> ${money(simulation.cumulativeAfter)} cumulative`,
      ],
      ['investors', money(simulation.byClass.investors)],
      ['producer', money(simulation.byClass.producer)],
      ['accounts', money(simulation.byClass.accounts)],
    ]) +
    '\n' +
    trancheTable(simulation.tranches, decimals, true) +
    '\n' +
    table(
      ['#', 'TRANCHE', 'TO', 'ADDRESS', 'AMOUNT'],
      simulation.lines.map((l) => [
        String(l.tranche + 1),
        names[l.tranche] ?? '',
        l.recipient,
        l.address,
        units(l.amount, decimals),
      ]),
      [0, 4],
    )
  );
}

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
      const limitText = stringOption(values, 'limit');
      const limit = limitText === undefined ? undefined : parseWholeNumber(limitText, '--limit');
      if (limit !== undefined && (limit < 1 || limit > 100)) {
        throw usageError('--limit must be from 1 to 100');
      }
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
      const account = accountOf(ctx, who);
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

/** The account of `campaign position CAMPAIGN [ACCOUNT]`: given, or the keystore's only key. */
function accountOf(ctx: CommandContext, given: string | undefined): string {
  if (given !== undefined) return ctx.resolveAddress(given, 'ACCOUNT');
  const keys = ctx.keystore.list();
  if (keys.length !== 1) {
    throw usageError(
      `name the ACCOUNT (the keystore holds ${keys.length} keys; without ACCOUNT it must hold one)`,
    );
  }
  return keys[0]!.address;
}
