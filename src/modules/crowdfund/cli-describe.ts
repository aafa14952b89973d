import { formatUnits } from '../../ledger/amount.js';
import { fields, table } from '../../cli/output.js';
import { durationUnitsMs } from './cli-arguments.js';
import {
  basisPointsWhole,
  type Campaign,
  type CampaignChart,
  type CampaignPosition,
  type CampaignSimulation,
  type CampaignStatement,
  type SchedulePoint,
  type TranchePosition,
  type WaterfallTranche,
} from './schema.js';

/*
 * How the campaign commands (cli.ts) describe what the node answers, without --json: amounts in
 * the campaign asset's units, points as heights or ISO times, basis points as percentages.
 */

export function describePoint(point: SchedulePoint): string {
  return 'height' in point ? `height ${point.height}` : new Date(point.time).toISOString();
}

export function describeWindow(window: number, deadline: SchedulePoint): string {
  if (window === 0) return 'the deadline';
  if ('height' in deadline) return `${window} block${window === 1 ? '' : 's'} before the deadline`;
  // The largest unit that divides it: 48h stays 48h (not 2d), as people write cancel windows.
  const units: (keyof typeof durationUnitsMs)[] = ['h', 'm', 's', 'ms'];
  const unit = units.find((u) => window % durationUnitsMs[u] === 0) ?? 'ms';
  return `${window / durationUnitsMs[unit]}${unit} before the deadline`;
}

/** Basis points as a percentage: 3000 is `30%`, 2550 `25.5%`, 1 `0.01%`. */
export function percent(basisPoints: number): string {
  const whole = Math.floor(basisPoints / 100);
  const fraction = String(basisPoints % 100)
    .padStart(2, '0')
    .replace(/0+$/, '');
  return `${whole}${fraction === '' ? '' : `.${fraction}`}%`;
}

export function units(amount: string | bigint, decimals: number, symbol?: string): string {
  const text = formatUnits(BigInt(amount), decimals);
  return symbol === undefined ? text : `${text} ${symbol}`;
}

export function describeTranche(
  tranche: WaterfallTranche,
  decimals: number,
  asset: string,
): string {
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

export function describeCampaign(campaign: Campaign, decimals: number): string {
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

export function trancheTable(
  tranches: TranchePosition[],
  decimals: number,
  withAmount: boolean,
): string {
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

export function describePosition(
  position: CampaignPosition,
  decimals: number,
  asset: string,
): string {
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

export function describeStatement(statement: CampaignStatement, decimals: number): string {
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

export function describeChart(chart: CampaignChart, decimals: number): string {
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

export function describeSimulation(
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
