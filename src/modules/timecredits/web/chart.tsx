import uPlot from 'uplot';
import { useEffect, useRef } from 'preact/hooks';

import { drawChart } from '../../../../web/src/chart.js';

import type { StatementLot, Timebank } from '../client.js';

/*
 * A bank's minutes issued, pooled and expiring on one time axis. The API keeps no history of a
 * bank's totals, so issued and pooled are known at zero at its creation and at each time the page
 * read them. Expiring looks ahead: the pool as it will grow when the lots shown lapse (the
 * lots of the members this page read), day by day of expiry.
 */

export interface ChartPoints {
  times: number[];
  issued: (number | null)[];
  pooled: (number | null)[];
  expiring: (number | null)[];
}

/**
 * The series, in seconds and minutes; `now` is the statement time (the latest block), `samples`
 * the totals this page has read, by block time.
 */
export function chartPoints(
  bank: Timebank,
  lots: StatementLot[],
  now: number,
  samples: Map<number, { issued: string; pooled: string }>,
): ChartPoints {
  const pooled = Number(bank.poolMinutes);
  const points: ChartPoints = { times: [], issued: [], pooled: [], expiring: [] };
  const past = new Map(samples);
  past.set(now, { issued: bank.issuedMinutes, pooled: bank.poolMinutes });
  if (bank.createdAt < now) past.set(bank.createdAt, { issued: '0', pooled: '0' });
  for (const at of [...past.keys()].sort((a, b) => a - b)) {
    if (at > now) continue;
    const sample = past.get(at)!;
    points.times.push(at / 1000);
    points.issued.push(Number(sample.issued));
    points.pooled.push(Number(sample.pooled));
    points.expiring.push(at === now ? pooled : null);
  }
  const ahead = new Map<number, number>();
  for (const lot of lots) {
    if (lot.expiresAt === null || lot.expiresAt <= now) continue;
    ahead.set(lot.expiresAt, (ahead.get(lot.expiresAt) ?? 0) + Number(lot.minutes));
  }
  let lapsed = pooled;
  for (const at of [...ahead.keys()].sort((a, b) => a - b)) {
    lapsed += ahead.get(at)!;
    points.times.push(at / 1000);
    points.issued.push(null);
    points.pooled.push(null);
    points.expiring.push(lapsed);
  }
  return points;
}

export function BankChart(props: { points: ChartPoints; description: string }) {
  const box = useRef<HTMLDivElement>(null);
  const { points } = props;
  useEffect(() => {
    if (!box.current) return;
    return drawChart(
      box.current,
      {
        height: 240,
        axes: [{}, { label: 'minutes' }],
        series: [
          { label: 'time' },
          {
            label: 'issued',
            stroke: '#2563eb',
            width: 2,
            points: { show: true, size: 7 },
            paths: uPlot.paths.stepped!({ align: 1 }),
          },
          {
            label: 'pooled',
            stroke: '#d97706',
            width: 2,
            points: { show: true, size: 7 },
            paths: uPlot.paths.stepped!({ align: 1 }),
          },
          {
            label: 'pooled once expiring lots lapse',
            stroke: '#b91c1c',
            dash: [6, 4],
            width: 2,
            points: { show: true, size: 7 },
            paths: uPlot.paths.stepped!({ align: 1 }),
          },
        ],
      },
      [points.times, points.issued, points.pooled, points.expiring],
    );
  }, [points]);
  return <div ref={box} class="chart" role="img" aria-label={props.description} />;
}
