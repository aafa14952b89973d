import type { ModulePages } from '../../../../web/src/module-pages.js';
import { client } from '../../../../web/src/node.js';
import { Show, useLoad } from '../../../../web/src/ui.js';
import { CampaignPage } from './campaign-page.js';
import './campaigns.css';
import { StatusBadge, assetDecimals, percent, units } from './shared.js';
import { WaterfallPage } from './waterfall-page.js';

/* Film campaigns in the console (issue 16): the campaigns, newest first; a campaign (progress,
   terms, investors, your position, invest); its revenue (statement, chart, simulator). */

function CampaignsPage() {
  const [page] = useLoad(async () => {
    const { campaigns } = await client.campaigns.list();
    const symbols = [...new Set(campaigns.map((c) => c.asset))];
    const decimals = new Map(
      await Promise.all(symbols.map(async (s) => [s, await assetDecimals(s)] as const)),
    );
    return { campaigns, decimals };
  }, []);
  return (
    <section class="campaign">
      <h1>Campaigns</h1>
      <Show result={page} what="the campaigns">
        {({ campaigns, decimals }) =>
          campaigns.length === 0 ? (
            <p class="muted">No campaign on this chain yet.</p>
          ) : (
            <ul class="cards">
              {campaigns.map((c) => {
                const d = decimals.get(c.asset) ?? 0;
                const share = percent(c.raised, c.target);
                return (
                  <li key={c.id} class="card" data-campaign={c.id}>
                    <h2>
                      <a href={`/campaigns/${c.id}`}>{c.title}</a>
                    </h2>
                    <p>
                      <StatusBadge status={c.status} /> raised {units(c.raised, d)} of{' '}
                      {units(c.target, d)} {c.asset} ({share}%)
                    </p>
                    <div class="campaign-progress" aria-hidden="true">
                      <div
                        class="campaign-progress-fill"
                        style={{ width: `${Math.min(100, share)}%` }}
                      />
                    </div>
                  </li>
                );
              })}
            </ul>
          )
        }
      </Show>
    </section>
  );
}

export const pages: ModulePages = {
  section: { href: '/campaigns', label: 'Campaigns' },
  routes: [
    ['/campaigns', () => <CampaignsPage />],
    ['/campaigns/:id', (p) => <CampaignPage id={p.id!} />],
    ['/campaigns/:id/waterfall', (p) => <WaterfallPage id={p.id!} />],
  ],
};
