import { useEffect, useRef, useState } from 'preact/hooks';

import { drawChart } from '../chart.js';
import { client } from '../node.js';
import { Fields, HashLink, Show, Time, useLoad } from '../ui.js';
import { LatestBlocks } from './explorer.js';

/* The node: its health, finality, and block times and txs per block as charts. */

const chartBlocks = 100;

export function NodePage() {
  const [health] = useLoad(() => client.health(), []);
  return (
    <section>
      <h1>Node</h1>
      <Show result={health} what="the node's health">
        {(h) => (
          <Fields
            rows={[
              ['Chain', <code>{h.chainId}</code>],
              ['Status', <span class={`status ${h.status}`}>{h.status}</span>],
              ['Height', <HashLink kind="block" value={h.height} />],
              ['Last block', <Time ms={h.blockTime} />],
              ['Final up to', String(h.finalizedHeight)],
              ['Consensus', h.consensus + (h.validator ? ` (validator ${h.validator})` : '')],
              ['Pending txs', String(h.pendingTxs)],
            ]}
          />
        )}
      </Show>
      <BlockCharts />
      <LatestBlocks />
    </section>
  );
}

/** Seconds between blocks and txs per block, over the last blocks. */
function BlockCharts() {
  const box = useRef<HTMLDivElement>(null);
  const [summary, setSummary] = useState<string>('Loading the last blocks…');
  useEffect(() => {
    let remove: (() => void) | undefined;
    let stopped = false;
    (async () => {
      const { height } = await client.health();
      const page = await client.getBlocks(Math.max(1, height - chartBlocks + 1), height);
      if (stopped || !box.current) return;
      const blocks = page.blocks;
      const heights = blocks.map((b) => b.height);
      const gaps = blocks.map((b, i) =>
        i === 0 ? null : (b.header.time - blocks[i - 1]!.header.time) / 1000,
      );
      const txs = blocks.map((b) => b.txCount);
      const total = txs.reduce((a, b) => a + b, 0);
      setSummary(`${blocks.length} blocks, ${total} txs.`);
      remove = drawChart(
        box.current,
        {
          height: 220,
          scales: { x: { time: false } },
          axes: [
            { label: 'height' },
            { label: 'seconds' },
            { side: 1, scale: 'txs', label: 'txs', grid: { show: false } },
          ],
          series: [
            { label: 'height' },
            { label: 'seconds since the previous block', stroke: '#2563eb', width: 2 },
            { label: 'txs in the block', stroke: '#d97706', width: 2, scale: 'txs' },
          ],
        },
        [heights, gaps, txs],
      );
    })().catch((error: unknown) => setSummary(`Could not load the blocks: ${String(error)}`));
    return () => {
      stopped = true;
      remove?.();
    };
  }, []);
  return (
    <section aria-labelledby="charts-title">
      <h2 id="charts-title">Block times and throughput</h2>
      <p class="muted">{summary}</p>
      <div
        ref={box}
        class="chart"
        role="img"
        aria-label="Seconds between blocks and txs per block"
      />
    </section>
  );
}
