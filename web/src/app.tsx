import type { ComponentChildren } from 'preact';

import { AccountPage, AssetsPage, ProducersPage } from './pages/ledger.js';
import { BlockPage, ExplorerPage, Search, TxPage } from './pages/explorer.js';
import { NodePage } from './pages/node.js';
import { WalletPage } from './pages/wallet.js';
import { modulePages } from './modules.js';
import { match, usePath } from './router.js';

/* The console's frame: a header with the sections, the page of the current path. */

type Route = [pattern: string, page: (params: Record<string, string>) => ComponentChildren];

const routes: Route[] = [
  ['/', () => <NodePage />],
  ['/explorer', () => <ExplorerPage />],
  ['/explorer/block/:height', (p) => <BlockPage height={p.height!} />],
  ['/explorer/tx/:hash', (p) => <TxPage hash={p.hash!} />],
  ['/explorer/account/:address', (p) => <AccountPage address={p.address!} />],
  ['/explorer/assets', () => <AssetsPage />],
  ['/explorer/producers', () => <ProducersPage />],
  ['/wallet', () => <WalletPage />],
  ...modulePages.flatMap((m) => m.routes),
];

const sections: [href: string, label: string][] = [
  ['/', 'Node'],
  ['/explorer', 'Blocks'],
  ['/explorer/assets', 'Assets'],
  ['/explorer/producers', 'Producers'],
  ...modulePages.map((m): [string, string] => [m.section.href, m.section.label]),
  ['/wallet', 'Wallet'],
];

function current(path: string, href: string): boolean {
  if (href === '/') return path === '/';
  if (href === '/explorer')
    return path === '/explorer' || /^\/explorer\/(block|tx|account)\//.test(path);
  return path.startsWith(href);
}

export function App() {
  const path = usePath();
  let page: ComponentChildren = (
    <section>
      <h1>Not found</h1>
      <p>
        No page at <code>{path}</code>. <a href="/">Back to the node</a>.
      </p>
    </section>
  );
  for (const [pattern, render] of routes) {
    const params = match(pattern, path);
    if (params) {
      page = render(params);
      break;
    }
  }
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a href="/" class="brand">
          Coffer
        </a>
        <nav aria-label="Sections">
          <ul>
            {sections.map(([href, label]) => (
              <li key={href}>
                <a href={href} aria-current={current(path, href) ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <Search />
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </>
  );
}
