import { useState } from 'preact/hooks';

import type { ModulePages } from '../../../../web/src/module-pages.js';
import { client } from '../../../../web/src/node.js';
import { Fields, HashLink, Show, useLoad } from '../../../../web/src/ui.js';
import type { ContentSummary } from '../client.js';
import { ContentPage } from './content-page.js';
import { DashboardPage } from './dashboard-page.js';
import { PlayPage } from './play-page.js';
import { contentPath, contentShownMax, dashboardPath, sizeText } from './words.js';

/*
 * Content licensing in the console (issue 21): the catalogue of registered content
 * (`GET /v1/licensing/content`, a page at a time in content id order); one content with its
 * offers, bought from this browser's wallet (content-page.tsx); a bought licence played from the
 * content gateway (play-page.tsx); a rights holder's content, agreements and royalties
 * (dashboard-page.tsx).
 */

function CataloguePage() {
  // The `after` cursor of each page walked past the first; empty on the first page.
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors.at(-1);
  const [page] = useLoad(
    () =>
      client.licensing.catalogue({
        limit: contentShownMax,
        ...(after === undefined ? {} : { after }),
      }),
    [after],
  );
  return (
    <section>
      <h1>Content catalogue</h1>
      <p>
        Each work is registered on the chain by the SHA-256 of its bytes, with the public key of the
        gateway that stores it encrypted. Its rights holder offers licences (what you may do, where,
        for how long, at what price); buying one pays the holders along its chain of title in the
        same transaction. <a href={dashboardPath}>Your rights and royalties</a>.
      </p>
      <Show result={page} what="the catalogue">
        {({ content, next }) => (
          <>
            {content.length === 0 ? (
              <p data-testid="no-content">No content is registered yet.</p>
            ) : (
              <ul class="cards" aria-label="Content">
                {content.map((c) => (
                  <ContentItem key={c.contentId} content={c} />
                ))}
              </ul>
            )}
            {(cursors.length > 0 || next !== null) && (
              <nav class="toolbar" aria-label="Pages of the catalogue">
                <button
                  type="button"
                  disabled={cursors.length === 0}
                  onClick={() => setCursors(cursors.slice(0, -1))}
                >
                  Previous
                </button>
                <span class="muted" aria-live="polite">
                  Page {cursors.length + 1}
                </span>
                <button
                  type="button"
                  disabled={next === null}
                  onClick={() => next !== null && setCursors([...cursors, next])}
                >
                  Next
                </button>
              </nav>
            )}
          </>
        )}
      </Show>
    </section>
  );
}

function ContentItem(props: { content: ContentSummary }) {
  const { content: c } = props;
  return (
    <li class="card" data-content={c.contentId}>
      <h2>
        <a href={contentPath(c.contentId)}>{c.title}</a>
      </h2>
      <Fields
        rows={[
          ['Type', `${c.mediaType}, ${sizeText(c.size)}`],
          ['Rights holder', <HashLink kind="account" value={c.holder} />],
          [
            'Offers',
            <span data-testid="open-offers">
              {c.openOffers === 0 ? 'None open' : `${c.openOffers} open`}
            </span>,
          ],
        ]}
      />
    </li>
  );
}

export const pages: ModulePages = {
  section: { href: '/licensing', label: 'Licensing' },
  routes: [
    ['/licensing', () => <CataloguePage />],
    ['/licensing/dashboard', () => <DashboardPage />],
    ['/licensing/content/:contentId', (p) => <ContentPage contentId={p.contentId!} />],
    ['/licensing/play/:agreementId', (p) => <PlayPage agreementId={p.agreementId!} />],
  ],
};
