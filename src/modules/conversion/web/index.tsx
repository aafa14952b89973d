import { useState } from 'preact/hooks';

import type { ModulePages } from '../../../../web/src/module-pages.js';
import { client } from '../../../../web/src/node.js';
import { Show, useLoad } from '../../../../web/src/ui.js';
import type { EngineRecord } from '../client.js';
import { EnginePage } from './engine-page.js';
import { StatusText } from './shared.js';
import { countText, enginesShownMax } from './words.js';

/*
 * Conversion engines in the console (issue 19): the registry's engines a page at a time, in
 * address order (`GET /v1/conversion/engines`), and one engine's configuration with a route
 * explorer over its pairs (engine-page.tsx). The pages only read: an engine's operator changes
 * its configuration with `coffer conversion` (its txs act on the sender's own engine).
 */

function EnginesPage() {
  // The `after` cursor of each page walked past the first; empty on the first page.
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors.at(-1);
  const [page] = useLoad(
    () =>
      client.conversion.engines(
        after === undefined ? { limit: enginesShownMax } : { limit: enginesShownMax, after },
      ),
    [after],
  );
  return (
    <section>
      <h1>Conversion engines</h1>
      <p>
        A conversion engine forwards value between ecosystems: other Coffer chains, EVM chains and
        payment providers. Its operator publishes on this chain what it converts and on what terms
        (its ecosystems, their assets and the pairs with their spreads, fees and limits), so every
        node and every user reads the same. The engine itself runs off the chain.
      </p>
      <p class="muted">
        Engines in the order of their operators' addresses, {enginesShownMax} a page.
      </p>
      <Show result={page} what="the engines">
        {({ engines, next }) => (
          <>
            {engines.length === 0 ? (
              <p data-testid="no-engines">
                No conversion engine on this chain yet: an operator creates one with{' '}
                <code>coffer conversion engine-set</code>.
              </p>
            ) : (
              <ul class="cards" aria-label="Conversion engines">
                {engines.map((engine) => (
                  <EngineItem key={engine.address} engine={engine} />
                ))}
              </ul>
            )}
            {(cursors.length > 0 || next !== null) && (
              <nav class="toolbar" aria-label="Pages of engines">
                <button
                  type="button"
                  disabled={cursors.length === 0}
                  onClick={() => setCursors(cursors.slice(0, -1))}
                >
                  Previous engines
                </button>
                <span class="muted" aria-live="polite" data-testid="engines-page">
                  Page {cursors.length + 1}
                </span>
                <button
                  type="button"
                  disabled={next === null}
                  onClick={() => next !== null && setCursors([...cursors, next])}
                >
                  Next engines
                </button>
              </nav>
            )}
          </>
        )}
      </Show>
    </section>
  );
}

function EngineItem(props: { engine: EngineRecord }) {
  const { engine } = props;
  return (
    <li class="card" data-engine={engine.address}>
      <h2>
        <a href={`/conversion/engines/${engine.address}`}>{engine.name}</a>
      </h2>
      <p>
        <StatusText status={engine.status} /> ·{' '}
        <span data-testid="engine-counts">
          {countText(engine.ecosystemCount, 'ecosystem')} · {countText(engine.pairCount, 'pair')}
        </span>
      </p>
      <p>
        Operator <span class="mono break">{engine.address}</span>
      </p>
    </li>
  );
}

export const pages: ModulePages = {
  section: { href: '/conversion', label: 'Conversion' },
  routes: [
    ['/conversion', () => <EnginesPage />],
    ['/conversion/engines/:address', (p) => <EnginePage address={p.address!} />],
  ],
};
