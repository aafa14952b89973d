import uPlot from 'uplot';

/* What every chart of the console shares: its width follows its box (a phone turned, a window
   resized), up to a most that keeps it readable. */

/** The widest a chart is drawn, in CSS pixels. */
export const chartWidthMaxPx = 900;
/** The width a chart is drawn at before its box has one (a hidden tab). */
const chartWidthFallbackPx = 600;

/** The width a chart in `box` is drawn at now. */
export function chartWidth(box: HTMLElement): number {
  return Math.min(box.clientWidth || chartWidthFallbackPx, chartWidthMaxPx);
}

/**
 * Draws `options` and `data` as a uPlot chart in `box`, at the box's width and again whenever that
 * width changes; returns what removes it.
 */
export function drawChart(
  box: HTMLElement,
  options: Omit<uPlot.Options, 'width'>,
  data: uPlot.AlignedData,
): () => void {
  const chart = new uPlot({ ...options, width: chartWidth(box) }, data, box);
  const observer = new ResizeObserver(() => {
    const width = chartWidth(box);
    if (width !== chart.width) chart.setSize({ width, height: chart.height });
  });
  observer.observe(box);
  return () => {
    observer.disconnect();
    chart.destroy();
  };
}
