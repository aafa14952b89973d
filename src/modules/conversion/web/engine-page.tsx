import { useEventsAbout } from '../../../../web/src/live.js';
import { client } from '../../../../web/src/node.js';
import { Fields, HashLink, Scroll, Show, useLoad } from '../../../../web/src/ui.js';
import type {
  ConversionAssetRecord,
  EcosystemRecord,
  EngineConfiguration,
  EngineRecord,
  PairRecord,
} from '../client.js';
import { sideKey } from './paths.js';
import { RouteExplorer } from './route-explorer.js';
import { StatusText } from './shared.js';
import {
  blockIntervalText,
  bpsText,
  countText,
  engineNotFoundText,
  kindText,
  networkText,
  percentFromBps,
  sideText,
  unitsText,
} from './words.js';

/* One engine's configuration as its operator published it (`GET /v1/conversion/engines/{address}`:
   its settings, ecosystems, assets and pairs, at most 16, 256 and 128, in key order), followed
   live by the engine's events, and a route explorer over its pairs (route-explorer.tsx). */

/** The engine's events (each names the engine in `engine`): any change reloads the page. */
const engineEventTypes = ['conversion.'];

export function EnginePage(props: { address: string }) {
  const [view, reload] = useLoad(() => client.conversion.engine(props.address), [props.address]);
  const live = useEventsAbout(engineEventTypes, 'engine', props.address, reload);
  const name = view.state === 'ok' ? view.value.engine.name : undefined;
  return (
    <section>
      <h1>
        {name === undefined ? 'Conversion engine' : `Conversion engine ${name}`}{' '}
        <span class={live ? 'live on' : 'live'}>{live ? '● live' : '○ connecting'}</span>
      </h1>
      <p>
        <a href="/conversion">All engines</a>
      </p>
      {view.state === 'error' && view.code === 'engine_not_found' ? (
        <div class="error break" role="alert" data-testid="engine-not-found">
          {engineNotFoundText(props.address)}
        </div>
      ) : (
        <Show result={view} what="the engine">
          {(configuration) => <EngineBody configuration={configuration} />}
        </Show>
      )}
    </section>
  );
}

function EngineBody(props: { configuration: EngineConfiguration }) {
  const { engine, ecosystems, assets, pairs } = props.configuration;
  const assetByKey = new Map(assets.map((a) => [sideKey(a), a]));
  return (
    <>
      <Settings engine={engine} />
      <Ecosystems ecosystems={ecosystems} />
      <Assets assets={assets} />
      <Pairs pairs={pairs} assetByKey={assetByKey} />
      <RouteExplorer configuration={props.configuration} />
    </>
  );
}

function Settings(props: { engine: EngineRecord }) {
  const { engine } = props;
  return (
    <section aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      <Fields
        rows={[
          ['Status', <StatusText status={engine.status} />],
          [
            'Operator',
            <span class="mono break" data-testid="engine-operator">
              {engine.address}
            </span>,
          ],
          [
            'Quote TTL',
            <span data-testid="engine-quote-ttl">
              {countText(engine.quoteTtlSeconds, 'second')}: how long a quote holds
            </span>,
          ],
          [
            'Hop limit',
            <span data-testid="engine-hops-max">
              {countText(engine.hopsMax, 'hop')} at most in a route
            </span>,
          ],
          [
            'Slippage ceiling',
            <span data-testid="engine-slippage">{bpsText(engine.slippageBpsMax)}</span>,
          ],
          ['Created in block', <HashLink kind="block" value={engine.createdAtHeight} />],
          ['Last changed in block', <HashLink kind="block" value={engine.updatedAtHeight} />],
        ]}
      />
    </section>
  );
}

function Ecosystems(props: { ecosystems: EcosystemRecord[] }) {
  return (
    <section aria-labelledby="ecosystems-title">
      <h2 id="ecosystems-title">Ecosystems ({props.ecosystems.length})</h2>
      {props.ecosystems.length === 0 ? (
        <p class="muted" data-testid="no-ecosystems">
          The engine lists no ecosystem yet.
        </p>
      ) : (
        <Scroll label="Ecosystems table">
          <table>
            <thead>
              <tr>
                <th scope="col">Ecosystem</th>
                <th scope="col">Kind</th>
                <th scope="col">Network</th>
                <th scope="col">The engine's address there</th>
                <th scope="col">Block interval</th>
                <th scope="col" class="num">
                  Assets
                </th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {props.ecosystems.map((e) => (
                <tr key={e.ecosystem} data-ecosystem={e.ecosystem}>
                  <th scope="row">{e.ecosystem}</th>
                  <td data-kind={e.kind}>{kindText[e.kind]}</td>
                  <td data-testid="network">{networkText(e)}</td>
                  <td>
                    <span class="mono" data-testid="engine-address">
                      {e.engineAddress}
                    </span>
                  </td>
                  <td data-testid="block-interval">{blockIntervalText(e)}</td>
                  <td class="num">{e.assetCount}</td>
                  <td>
                    <StatusText status={e.status} />
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

function Assets(props: { assets: ConversionAssetRecord[] }) {
  return (
    <section aria-labelledby="assets-title">
      <h2 id="assets-title">Assets ({props.assets.length})</h2>
      {props.assets.length === 0 ? (
        <p class="muted" data-testid="no-assets">
          The engine lists no asset yet.
        </p>
      ) : (
        <>
          <p class="muted">
            The liquidity the engine aims to keep of each asset on its ecosystem, in the asset's
            units.
          </p>
          <Scroll label="Assets table">
            <table>
              <thead>
                <tr>
                  <th scope="col">Asset</th>
                  <th scope="col">Ecosystem</th>
                  <th scope="col" class="num">
                    Decimals
                  </th>
                  <th scope="col">Currency</th>
                  <th scope="col" class="num">
                    Liquidity low
                  </th>
                  <th scope="col" class="num">
                    Liquidity high
                  </th>
                  <th scope="col" class="num">
                    Pairs
                  </th>
                </tr>
              </thead>
              <tbody>
                {props.assets.map((a) => (
                  <tr key={sideKey(a)} data-asset={sideKey(a)}>
                    <th scope="row">{a.asset}</th>
                    <td>{a.ecosystem}</td>
                    <td class="num" data-testid="decimals">
                      {a.decimals}
                    </td>
                    <td>{a.currency}</td>
                    <td class="num" data-testid="liquidity-low">
                      {unitsText(a.liquidityLow, a)}
                    </td>
                    <td class="num" data-testid="liquidity-high">
                      {unitsText(a.liquidityHigh, a)}
                    </td>
                    <td class="num">{a.pairCount}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Scroll>
        </>
      )}
    </section>
  );
}

function Pairs(props: { pairs: PairRecord[]; assetByKey: Map<string, ConversionAssetRecord> }) {
  const { assetByKey } = props;
  return (
    <section aria-labelledby="pairs-title">
      <h2 id="pairs-title">Pairs ({props.pairs.length})</h2>
      {props.pairs.length === 0 ? (
        <p class="muted" data-testid="no-pairs">
          The engine lists no pair yet.
        </p>
      ) : (
        <>
          <p class="muted">
            Each pair converts one way, at the engine's mid rate less the spread, less the fee (a
            percentage of the output) and the fixed fee (in the output asset). Min and max bound the
            input, in the input asset.
          </p>
          <Scroll label="Pairs table">
            <table>
              <thead>
                <tr>
                  <th scope="col">From</th>
                  <th scope="col">To</th>
                  <th scope="col" class="num">
                    Spread
                  </th>
                  <th scope="col" class="num">
                    Fee
                  </th>
                  <th scope="col" class="num">
                    Fixed fee
                  </th>
                  <th scope="col" class="num">
                    Min
                  </th>
                  <th scope="col" class="num">
                    Max
                  </th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {props.pairs.map((p) => {
                  const from = assetByKey.get(sideKey(p.from));
                  const to = assetByKey.get(sideKey(p.to));
                  const key = `${sideKey(p.from)}>${sideKey(p.to)}`;
                  return (
                    <tr key={key} data-pair={key}>
                      <td>{sideText(p.from)}</td>
                      <td>
                        <span aria-hidden="true">→ </span>
                        {sideText(p.to)}
                      </td>
                      <td class="num" data-testid="spread" title={`${p.spreadBps} bps`}>
                        {percentFromBps(p.spreadBps)}
                      </td>
                      <td class="num" data-testid="fee" title={`${p.feeBps} bps`}>
                        {percentFromBps(p.feeBps)}
                      </td>
                      <td class="num" data-testid="fee-fixed">
                        {unitsText(p.feeFixed, to)}
                      </td>
                      <td class="num" data-testid="min">
                        {unitsText(p.min, from)}
                      </td>
                      <td class="num" data-testid="max">
                        {unitsText(p.max, from)}
                      </td>
                      <td>
                        <StatusText status={p.status} />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </Scroll>
        </>
      )}
    </section>
  );
}
