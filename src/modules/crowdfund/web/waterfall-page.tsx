import { useState } from 'preact/hooks';

import {
  parseUnits,
  type CampaignChart,
  type CampaignSimulation,
  type CampaignStatement,
  type TranchePosition,
} from '../../../sdk/index.js';
import { client, describeError } from '../../../../web/src/node.js';
import { ErrorBox, Field, Fields, HashLink, Show, Time, useLoad } from '../../../../web/src/ui.js';
import { RevenueChart, TrancheBars } from './charts.js';
import {
  CampaignTabs,
  LiveMark,
  Money,
  Scroll,
  StatusBadge,
  loadCampaign,
  units,
  useCampaignEvents,
  type CampaignView,
} from './shared.js';

/* A campaign's revenue: cumulative revenue by tranche after each report (a chart and its series),
   the statement (the waterfall position now and after each report), and the simulator: what a
   report of some revenue would pay now, by the very function a report runs. */

interface Revenue {
  view: CampaignView;
  statement: CampaignStatement;
  chart: CampaignChart;
}

async function loadRevenue(id: string): Promise<Revenue> {
  const [view, statement, chart] = await Promise.all([
    loadCampaign(id),
    client.campaigns.statement(id),
    client.campaigns.chart(id),
  ]);
  return { view, statement, chart };
}

export function WaterfallPage(props: { id: string }) {
  const [round, setRound] = useState(0);
  const live = useCampaignEvents(props.id, () => setRound((r) => r + 1));
  const [revenue] = useLoad(() => loadRevenue(props.id), [props.id, round]);
  const title = revenue.state === 'ok' ? revenue.value.view.campaign.title : `Campaign ${props.id}`;
  return (
    <section class="campaign">
      <CampaignTabs id={props.id} current="waterfall" />
      <h1>{title}: revenue and waterfall</h1>
      <Show result={revenue} what="the statement">
        {(r) => (
          <>
            <p>
              <StatusBadge status={r.statement.status} /> <LiveMark live={live} />{' '}
              <span data-testid="cumulative-revenue">
                Cumulative revenue{' '}
                <Money
                  minor={r.statement.cumulativeRevenue}
                  decimals={r.view.decimals}
                  asset={r.statement.asset}
                />{' '}
                from {r.statement.reports.length} report
                {r.statement.reports.length === 1 ? '' : 's'}.
              </span>
            </p>
            <section aria-labelledby="chart-title">
              <h2 id="chart-title">Cumulative revenue by tranche</h2>
              <RevenueChart chart={r.chart} decimals={r.view.decimals} />
              <ChartSeries chart={r.chart} decimals={r.view.decimals} />
            </section>
            <Statement statement={r.statement} decimals={r.view.decimals} />
            <Simulator view={r.view} revenue={r.statement.cumulativeRevenue} />
          </>
        )}
      </Show>
    </section>
  );
}

/** The chart's numbers as a table: cumulative revenue and each tranche's fill after each report. */
function ChartSeries(props: { chart: CampaignChart; decimals: number }) {
  const { chart, decimals } = props;
  if (chart.series.length === 0) return null;
  return (
    <Scroll label="The chart's series">
      <table data-testid="chart-series">
        <caption>
          The chart&apos;s series: cumulative amounts ({chart.asset}) after each report
        </caption>
        <thead>
          <tr>
            <th scope="col">Report</th>
            <th scope="col">Period end</th>
            <th scope="col" class="num">
              Revenue
            </th>
            {chart.trancheNames.map((name) => (
              <th key={name} scope="col" class="num">
                {name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {chart.series.map((p) => (
            <tr key={p.report} data-report={p.reportId}>
              <th scope="row">{p.reportId}</th>
              <td>
                <Time ms={p.periodEnd} />
              </td>
              <td class="num" data-field="cumulativeRevenue">
                {units(p.cumulativeRevenue, decimals)}
              </td>
              {p.tranches.map((fill, i) => (
                <td key={i} class="num" data-field={`tranche-${i}`}>
                  {units(fill, decimals)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </Scroll>
  );
}

function TranchesTable(props: {
  tranches: TranchePosition[];
  decimals: number;
  caption: string;
  testId: string;
  /** The heading of each tranche's `amount`, or nothing to leave the column out. */
  amountLabel?: string;
}) {
  const { decimals } = props;
  const cell = (minor: string | null) => (minor === null ? '—' : units(minor, decimals));
  return (
    <Scroll label={props.caption}>
      <table data-testid={props.testId}>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">Tranche</th>
            {props.amountLabel && (
              <th scope="col" class="num">
                {props.amountLabel}
              </th>
            )}
            <th scope="col" class="num">
              Filled
            </th>
            <th scope="col" class="num">
              Cap
            </th>
            <th scope="col" class="num">
              Cap left
            </th>
          </tr>
        </thead>
        <tbody>
          {props.tranches.map((t) => (
            <tr key={t.index} data-tranche={t.index}>
              <th scope="row">{t.name}</th>
              {props.amountLabel && (
                <td class="num" data-field="amount">
                  {cell(t.amount)}
                </td>
              )}
              <td class="num" data-field="fill">
                {cell(t.fill)}
              </td>
              <td class="num">{cell(t.cap)}</td>
              <td class="num">{cell(t.capRemaining)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Scroll>
  );
}

function Statement(props: { statement: CampaignStatement; decimals: number }) {
  const { statement: s, decimals } = props;
  const money = (minor: string | null) =>
    minor === null ? 'not yet' : <Money minor={minor} decimals={decimals} asset={s.asset} />;
  return (
    <section aria-labelledby="statement-title">
      <h2 id="statement-title">Statement</h2>
      <Fields
        rows={[
          ['Principal', money(s.principal)],
          ['Platform fee', money(s.fee)],
          ['Investors', String(s.investors)],
          ['Cumulative revenue', money(s.cumulativeRevenue)],
          ['Refunds owed', money(s.refundsOwed)],
          ['Payouts owed', money(s.payoutsOwed)],
        ]}
      />
      <TranchesTable
        tranches={s.tranches}
        decimals={decimals}
        caption={`The waterfall now (${s.asset})`}
        testId="tranches-now"
      />
      <h3 id="reports-title">Reports</h3>
      {s.reports.length === 0 ? (
        <p class="muted">
          No revenue reported yet. The campaign&apos;s reporters report it once the campaign has
          succeeded.
        </p>
      ) : (
        <Scroll label="Reports">
          <table aria-labelledby="reports-title" data-testid="reports">
            <thead>
              <tr>
                <th scope="col">Report</th>
                <th scope="col">Period</th>
                <th scope="col">Block</th>
                <th scope="col" class="num">
                  Gross ({s.asset})
                </th>
                <th scope="col" class="num">
                  Cumulative
                </th>
                <th scope="col" class="num">
                  To investors
                </th>
                <th scope="col" class="num">
                  To the producer
                </th>
                <th scope="col" class="num">
                  To accounts
                </th>
                <th scope="col" class="num">
                  Held as owed
                </th>
              </tr>
            </thead>
            <tbody>
              {s.reports.map((r) => (
                <tr key={r.report} data-report={r.reportId}>
                  <th scope="row">
                    {r.reportId}
                    <br />
                    <span class="muted">
                      by <HashLink kind="account" value={r.reporter} />
                    </span>
                  </th>
                  <td>
                    <Time ms={r.periodStart} /> to <Time ms={r.periodEnd} />
                  </td>
                  <td>
                    <HashLink kind="block" value={r.height} />
                  </td>
                  <td class="num" data-field="grossRevenue">
                    {units(r.grossRevenue, decimals)}
                  </td>
                  <td class="num" data-field="cumulativeRevenue">
                    {units(r.cumulativeRevenue, decimals)}
                  </td>
                  <td class="num" data-field="investors">
                    {units(r.byClass.investors, decimals)}
                  </td>
                  <td class="num" data-field="producer">
                    {units(r.byClass.producer, decimals)}
                  </td>
                  <td class="num" data-field="accounts">
                    {units(r.byClass.accounts, decimals)}
                  </td>
                  <td class="num" data-field="blocked">
                    {units(r.blocked, decimals)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
    </section>
  );
}

/** `revenue`: the cumulative revenue now; a simulation made before it changed is dropped. */
function Simulator(props: { view: CampaignView; revenue: string }) {
  const { campaign: c, decimals } = props.view;
  const [revenue, setRevenue] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<{ code: string; message: string } | undefined>();
  const [result, setResult] = useState<{ simulation: CampaignSimulation; revenue: bigint }>();
  const stale = result !== undefined && result.simulation.cumulativeBefore !== props.revenue;
  const simulate = async (event: Event) => {
    event.preventDefault();
    setProblem(undefined);
    const minor = parseUnits(revenue.trim(), decimals);
    if (minor === undefined || minor <= 0n) {
      return setProblem({
        code: 'invalid_amount',
        message: `Write a positive amount with at most ${decimals} decimals, such as 1000.00.`,
      });
    }
    setBusy(true);
    try {
      setResult({ simulation: await client.campaigns.simulate(c.id, minor), revenue: minor });
    } catch (error) {
      setResult(undefined);
      setProblem(describeError(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="simulator-title">
      <h2 id="simulator-title">Simulate a report</h2>
      <p class="muted">
        Who would get what if a report of this revenue were applied now: the same waterfall a report
        runs, with no tx.
      </p>
      <form onSubmit={(e) => void simulate(e)}>
        <Field
          id="simulate-revenue"
          label={`Revenue (${c.asset}, up to ${decimals} decimals)`}
          value={revenue}
          onInput={setRevenue}
        />
        {problem && <ErrorBox {...problem} />}
        <button type="submit" disabled={busy}>
          {busy ? 'Simulating…' : 'Simulate'}
        </button>
      </form>
      {stale && (
        <p class="badge pending" role="status">
          A report has been applied since: simulate again to see what one would pay now.
        </p>
      )}
      {result && !stale && (
        <SimulationView
          simulation={result.simulation}
          revenue={result.revenue}
          decimals={decimals}
          asset={c.asset}
        />
      )}
    </section>
  );
}

function SimulationView(props: {
  simulation: CampaignSimulation;
  revenue: bigint;
  decimals: number;
  asset: string;
}) {
  const { simulation: s, decimals, asset } = props;
  const money = (minor: string) => <Money minor={minor} decimals={decimals} asset={asset} />;
  return (
    <div data-testid="simulation" aria-live="polite">
      <h3>
        A report of {units(props.revenue, decimals)} {asset}
      </h3>
      <TrancheBars
        tranches={s.tranches}
        total={props.revenue}
        decimals={decimals}
        asset={asset}
        label={`What a report of ${units(props.revenue, decimals)} ${asset} would add to each tranche`}
      />
      <Fields
        rows={[
          [
            'Cumulative revenue',
            <>
              {money(s.cumulativeBefore)} → {money(s.cumulativeAfter)}
            </>,
          ],
          ['To investors', money(s.byClass.investors)],
          ['To the producer', money(s.byClass.producer)],
          ['To fixed accounts', money(s.byClass.accounts)],
        ]}
      />
      <TranchesTable
        tranches={s.tranches}
        decimals={decimals}
        caption={`The waterfall after this report (${asset})`}
        testId="simulated-tranches"
        amountLabel="This report adds"
      />
      <Scroll label="Who would receive what">
        <table>
          <caption>Who would receive what ({asset})</caption>
          <thead>
            <tr>
              <th scope="col">Account</th>
              <th scope="col" class="num">
                Amount
              </th>
            </tr>
          </thead>
          <tbody>
            {s.transfers.map((t) => (
              <tr key={t.address}>
                <td>
                  <HashLink kind="account" value={t.address} />
                </td>
                <td class="num">{units(t.amount, decimals)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
    </div>
  );
}
