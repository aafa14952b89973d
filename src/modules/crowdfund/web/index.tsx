import type { ModulePages } from '../../../../web/src/module-pages.js';
import { client } from '../../../../web/src/node.js';
import { Show, useLoad } from '../../../../web/src/ui.js';

/* Film campaigns in the console (issue 16): the campaigns, newest first. */

function CampaignsPage() {
  const [page] = useLoad(() => client.campaigns.list(), []);
  return (
    <section>
      <h1>Campaigns</h1>
      <Show result={page} what="the campaigns">
        {({ campaigns }) =>
          campaigns.length === 0 ? (
            <p class="muted">No campaign on this chain yet.</p>
          ) : (
            <ul class="cards">
              {campaigns.map((c) => (
                <li key={c.id} class="card" data-campaign={c.id}>
                  <h2>
                    <a href={`/campaigns/${c.id}`}>{c.title}</a>
                  </h2>
                  <p>
                    {c.status} · raised {c.raised} of {c.target} {c.asset} (minor units)
                  </p>
                </li>
              ))}
            </ul>
          )
        }
      </Show>
    </section>
  );
}

export const pages: ModulePages = {
  section: { href: '/campaigns', label: 'Campaigns' },
  routes: [['/campaigns', () => <CampaignsPage />]],
};
