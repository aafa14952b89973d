import { useState } from 'preact/hooks';

import type { EngineConfiguration, PairSide } from '../client.js';
import { listPaths, pathsShownMax, sideKey, sideOfKey, type ConversionPath } from './paths.js';
import { bpsText, countText, percentFromBps, sideText, unitsText } from './words.js';

/*
 * The route explorer: pick an asset to convert from and one to convert to, and see the paths
 * through the engine's active pairs of at most its hop limit (paths.ts, in the page: the chain
 * holds the pairs, not the rates). What a path would pay depends on rates only the engine's
 * bridge has, so the explorer names each hop's terms and sends the reader to a quote.
 */

export function RouteExplorer(props: { configuration: EngineConfiguration }) {
  const { engine, assets, ecosystems, pairs } = props.configuration;
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const fromSide = sideOfKey(from);
  const toSide = sideOfKey(to);
  const assetByKey = new Map(assets.map((a) => [sideKey(a), a]));
  const paused = new Set(ecosystems.filter((e) => e.status === 'paused').map((e) => e.ecosystem));
  return (
    <section aria-labelledby="routes-title">
      <h2 id="routes-title">Route explorer</h2>
      <p>
        The paths from one asset to another through the engine's active pairs, of at most{' '}
        {countText(engine.hopsMax, 'hop')} (its hop limit), fewer hops first. No rates are on the
        chain: a quote, with the rates and the path the engine picks (the one that pays the most),
        comes from the engine's bridge: <code>coffer bridge quote</code>.
      </p>
      {assets.length < 2 ? (
        <p class="muted" data-testid="no-routes">
          A route joins two assets: the engine lists {countText(assets.length, 'asset')}.
        </p>
      ) : (
        <>
          <form class="conversion-explorer" onSubmit={(e) => e.preventDefault()}>
            <AssetSelect
              id="route-from"
              label="From asset"
              value={from}
              onChange={setFrom}
              assets={assets}
            />
            <AssetSelect
              id="route-to"
              label="To asset"
              value={to}
              onChange={setTo}
              assets={assets}
            />
          </form>
          <div aria-live="polite" data-testid="routes">
            {fromSide && toSide && (
              <Paths
                from={fromSide}
                to={toSide}
                paths={listPaths(pairs, fromSide, toSide, engine.hopsMax)}
                hopsMax={engine.hopsMax}
                engineActive={engine.status === 'active'}
                paused={paused}
                units={(minor, side) => unitsText(minor, assetByKey.get(sideKey(side)))}
              />
            )}
          </div>
        </>
      )}
    </section>
  );
}

function AssetSelect(props: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  assets: EngineConfiguration['assets'];
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select
        id={props.id}
        value={props.value}
        onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}
      >
        <option value="">Choose an asset</option>
        {props.assets.map((a) => (
          <option key={sideKey(a)} value={sideKey(a)}>
            {sideText(a)}
          </option>
        ))}
      </select>
    </div>
  );
}

function Paths(props: {
  from: PairSide;
  to: PairSide;
  paths: ConversionPath[];
  hopsMax: number;
  engineActive: boolean;
  /** The engine's paused ecosystems: it takes no forwards there now. */
  paused: Set<string>;
  units: (minor: string, side: PairSide) => string;
}) {
  const { paths } = props;
  if (sideKey(props.from) === sideKey(props.to)) {
    return <p data-testid="routes-same">Pick two different assets.</p>;
  }
  if (paths.length === 0) {
    return (
      <p data-testid="routes-none">
        No path of at most {countText(props.hopsMax, 'hop')} through active pairs leads from{' '}
        {sideText(props.from)} to {sideText(props.to)}.
      </p>
    );
  }
  const shown = paths.slice(0, pathsShownMax);
  return (
    <>
      <p data-testid="routes-count">
        {countText(paths.length, 'path')} from {sideText(props.from)} to {sideText(props.to)}
        {paths.length > shown.length ? ` (the first ${shown.length} shown)` : ''}.
      </p>
      {!props.engineActive && (
        <p class="badge pending">The engine is paused: it takes no conversion now.</p>
      )}
      <ol class="conversion-paths" aria-label="Paths">
        {shown.map((path) => {
          const key = path.nodes.map(sideKey).join('>');
          const crossesPaused = [...new Set(path.nodes.map((n) => n.ecosystem))].filter((e) =>
            props.paused.has(e),
          );
          return (
            <li key={key} data-path={key} data-bps={path.bps}>
              <p class="conversion-route">{path.nodes.map(sideText).join(' → ')}</p>
              <p data-testid="path-summary">
                {countText(path.pairs.length, 'hop')}, spread and fee together {bpsText(path.bps)},
                before fixed fees
              </p>
              {crossesPaused.length > 0 && (
                <p class="badge pending">
                  Crosses {crossesPaused.join(', ')}, paused: the engine takes no forwards there
                  now.
                </p>
              )}
              <ol aria-label={`Hops of ${path.nodes.map(sideText).join(' to ')}`}>
                {path.pairs.map((pair) => (
                  <li key={`${sideKey(pair.from)}>${sideKey(pair.to)}`} data-testid="hop">
                    {sideText(pair.from)} → {sideText(pair.to)}: spread{' '}
                    {percentFromBps(pair.spreadBps)}, fee {percentFromBps(pair.feeBps)}, fixed fee{' '}
                    {props.units(pair.feeFixed, pair.to)}; input {props.units(pair.min, pair.from)}{' '}
                    to {props.units(pair.max, pair.from)}
                  </li>
                ))}
              </ol>
            </li>
          );
        })}
      </ol>
    </>
  );
}
