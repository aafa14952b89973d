import uPlot from 'uplot';
import { useEffect, useRef } from 'preact/hooks';

import type { CampaignChart, TranchePosition } from '../../../sdk/index.js';
import { drawChart } from '../../../../web/src/chart.js';
import { percent, units } from './shared.js';

/* The campaign's charts: cumulative revenue by tranche after each report (uPlot), and what a
   simulated report adds to each tranche (bars). Each is an image with a label and the same
   numbers in words beside it. */

/** One color a tranche, readable on the light and the dark background. */
const palette = [
  '#2563eb',
  '#d97706',
  '#059669',
  '#db2777',
  '#7c3aed',
  '#0891b2',
  '#dc2626',
  '#65a30d',
];
const chartHeightPx = 260;

export function RevenueChart(props: { chart: CampaignChart; decimals: number }) {
  const { chart, decimals } = props;
  const box = useRef<HTMLDivElement>(null);
  const last = chart.series[chart.series.length - 1];
  useEffect(() => {
    const element = box.current;
    if (!element || chart.series.length === 0) return;
    // Chart values in the asset's units (a chart needs numbers; the tables keep the exact ones).
    const value = (minor: string) => Number(units(minor, decimals));
    // Zero before the first report, then 1, 2, ... after each (`report` counts from 0).
    const x = [0, ...chart.series.map((_, i) => i + 1)];
    // Each tranche's fill in minor units (exact, for the legend), then as a plot coordinate.
    const minorFills = chart.trancheNames.map((_, i) => [
      '0',
      ...chart.series.map((p) => p.tranches[i] ?? '0'),
    ]);
    const fills = minorFills.map((row) => row.map(value));
    // Stacked bands: tranche k is drawn from the sum of the tranches before it to that sum plus
    // its own fill, so the top edge is the cumulative revenue (the last tranche takes all that
    // remains). Drawn top first, each filled down to zero, so each lower band paints over it.
    const stacks = fills.map((_, k) =>
      x.map((__, point) => fills.slice(0, k + 1).reduce((sum, f) => sum + (f[point] ?? 0), 0)),
    );
    const order = chart.trancheNames.map((_, k) => k).reverse();
    return drawChart(
      element,
      {
        height: chartHeightPx,
        scales: { x: { time: false, range: [0, chart.series.length] } },
        axes: [
          { label: 'reports', incrs: [1, 2, 5, 10, 20, 50, 100] },
          { label: chart.asset, size: 70 },
        ],
        series: [
          { label: 'report' },
          ...order.map((k) => ({
            label: chart.trancheNames[k]!,
            stroke: palette[k % palette.length]!,
            fill: `${palette[k % palette.length]!}66`,
            width: 2,
            // The legend shows the tranche's own fill, not the stack's top.
            value: (_: uPlot, __: number | null, ___: number, index: number | null) =>
              index === null ? '--' : units(minorFills[k]![index] ?? '0', decimals),
          })),
        ],
      },
      [x, ...order.map((k) => stacks[k]!)],
    );
  }, [chart, decimals]);

  const summary = last
    ? `After ${chart.series.length} report${chart.series.length === 1 ? '' : 's'}, cumulative revenue ${units(
        last.cumulativeRevenue,
        decimals,
      )} ${chart.asset}: ${chart.trancheNames
        .map((name, i) => `${name} ${units(last.tranches[i] ?? '0', decimals)}`)
        .join(', ')}.`
    : 'No revenue reported yet: the chart starts with the first report.';
  return (
    <>
      <p class="muted" data-testid="chart-summary">
        {summary}
      </p>
      {last && (
        <div
          ref={box}
          class="chart"
          role="img"
          aria-label={`Cumulative revenue by tranche after each report, stacked. ${summary}`}
          data-testid="revenue-chart"
        />
      )}
    </>
  );
}

/** Horizontal bars: what each tranche gets of `total`, with the amounts as text. */
export function TrancheBars(props: {
  tranches: TranchePosition[];
  total: bigint;
  decimals: number;
  asset: string;
  label: string;
}) {
  const { tranches, total, decimals, asset } = props;
  const words = tranches
    .map((t) => `${t.name} ${units(t.amount, decimals)} ${asset} (${percent(t.amount, total)}%)`)
    .join('; ');
  return (
    <figure class="tranche-bars" role="img" aria-label={`${props.label}: ${words}.`}>
      {tranches.map((t, i) => (
        <div class="tranche-bar" key={t.index} aria-hidden="true">
          <span class="tranche-bar-name">{t.name}</span>
          <span class="tranche-bar-track">
            <span
              class="tranche-bar-fill"
              style={{
                width: `${percent(t.amount, total)}%`,
                background: palette[i % palette.length],
              }}
            />
          </span>
          <span class="tranche-bar-value">
            {units(t.amount, decimals)} ({percent(t.amount, total)}%)
          </span>
        </div>
      ))}
      <figcaption class="muted">{props.label}.</figcaption>
    </figure>
  );
}
