import { useState } from 'preact/hooks';

import { client } from '../../../../web/src/node.js';
import { Field, HashLink, Scroll, Show, short, useLoad } from '../../../../web/src/ui.js';
import { walletAddresses } from '../../../../web/src/wallet/session.js';
import type { AgreementRecord, ContentRecord } from '../client.js';
import { AgreementState, assetsOf } from './shared.js';
import { amountText, contentPath, royaltiesOf, type AssetDecimals } from './words.js';

/* A rights holder's dashboard: the content an account holds (`GET /v1/licensing/accounts/{a}/
   content`) and the content it registered and assigned on, each content's agreements
   (`GET /v1/licensing/content/{id}/agreements`), and the royalties the account received from
   their payments, summed per asset in BigInt (as a holder on the chain of title, and as the
   offerer). The account is the page's `?account=`, or this browser's wallet's first. */

/** Pages of the catalogue read to find the content an account registered (100 each). */
const cataloguePagesMax = 5;
/** Agreements read per content (one page). */
const agreementsPerContentMax = 100;

interface Holding {
  content: ContentRecord;
  role: 'holder' | 'creator';
  agreements: AgreementRecord[];
  more: boolean;
}

async function loadDashboard(account: string): Promise<{
  holdings: Holding[];
  assets: Map<string, AssetDecimals>;
}> {
  const held = await client.licensing.contentOf(account, { limit: 100 });
  const byId = new Map<string, { content: ContentRecord; role: Holding['role'] }>();
  for (const c of held.content) byId.set(c.contentId, { content: c, role: 'holder' });
  // The content it registered and assigned on: the catalogue is read a bounded number of pages.
  let after: string | undefined;
  for (let i = 0; i < cataloguePagesMax; i++) {
    const page = await client.licensing.catalogue({
      limit: 100,
      ...(after === undefined ? {} : { after }),
    });
    for (const c of page.content) {
      if (c.owner === account && !byId.has(c.contentId)) {
        byId.set(c.contentId, { content: c, role: 'creator' });
      }
    }
    if (page.next === null) break;
    after = page.next;
  }
  const holdings = await Promise.all(
    [...byId.values()].map(async ({ content, role }): Promise<Holding> => {
      const page = await client.licensing.contentAgreements(content.contentId, {
        limit: agreementsPerContentMax,
      });
      return { content, role, agreements: page.agreements, more: page.next !== null };
    }),
  );
  const symbols = holdings.flatMap((h) =>
    h.agreements.flatMap((a) => (a.paid ? [a.paid.asset] : [])),
  );
  return { holdings, assets: await assetsOf(symbols) };
}

export function DashboardPage() {
  const given = new URLSearchParams(location.search).get('account');
  const [account, setAccount] = useState(given ?? walletAddresses()[0] ?? '');
  const [shown, setShown] = useState(account);
  return (
    <section>
      <h1>Your rights and royalties</h1>
      <p>
        <a href="/licensing">The catalogue</a>
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setShown(account.trim());
        }}
      >
        <Field id="dashboard-account" label="Account" value={account} onInput={setAccount} />
        <div class="toolbar">
          <button type="submit">Show</button>
        </div>
      </form>
      {shown === '' ? (
        <p class="muted">Name an account, or unlock your wallet.</p>
      ) : (
        <Dashboard account={shown} />
      )}
    </section>
  );
}

function Dashboard(props: { account: string }) {
  const [loaded] = useLoad(() => loadDashboard(props.account), [props.account]);
  return (
    <Show result={loaded} what="the account's content">
      {({ holdings, assets }) => {
        const royalties = royaltiesOf(
          holdings.flatMap((h) => h.agreements),
          props.account,
        );
        return (
          <>
            <h2>Royalties received</h2>
            {royalties.length === 0 ? (
              <p data-testid="no-royalties">No payment has reached this account yet.</p>
            ) : (
              <ul aria-label="Royalties by asset" data-testid="royalties">
                {royalties.map((r) => (
                  <li key={r.asset} data-asset={r.asset}>
                    <strong>
                      {amountText((r.title + r.offerer).toString(), r.asset, assets.get(r.asset))}
                    </strong>{' '}
                    ({amountText(r.title.toString(), r.asset, assets.get(r.asset))} on the chain of
                    title, {amountText(r.offerer.toString(), r.asset, assets.get(r.asset))} as the
                    offerer)
                  </li>
                ))}
              </ul>
            )}
            <h2>Content</h2>
            {holdings.length === 0 ? (
              <p data-testid="no-holdings">This account holds and registered no content.</p>
            ) : (
              holdings.map((h) => (
                <HoldingPart
                  key={h.content.contentId}
                  holding={h}
                  account={props.account}
                  assets={assets}
                />
              ))
            )}
          </>
        );
      }}
    </Show>
  );
}

function HoldingPart(props: {
  holding: Holding;
  account: string;
  assets: Map<string, AssetDecimals>;
}) {
  const { content: c, role, agreements, more } = props.holding;
  return (
    <section class="card" data-content={c.contentId} aria-label={c.title}>
      <h3>
        <a href={contentPath(c.contentId)}>{c.title}</a>{' '}
        <span class="muted">({role === 'holder' ? 'you hold it' : 'you registered it'})</span>
      </h3>
      {agreements.length === 0 ? (
        <p class="muted">No licence bought yet.</p>
      ) : (
        <Scroll label={`Agreements on ${c.title}`}>
          <table>
            <caption>Agreements{more ? ` (the first ${agreements.length})` : ''}</caption>
            <thead>
              <tr>
                <th scope="col">Agreement</th>
                <th scope="col">Licensee</th>
                <th scope="col">State</th>
                <th scope="col" class="num">
                  Paid
                </th>
                <th scope="col" class="num">
                  To you
                </th>
              </tr>
            </thead>
            <tbody>
              {agreements.map((a) => {
                const toYou = (a.paid?.splits ?? [])
                  .filter((s) => s.to === props.account)
                  .reduce((sum, s) => sum + BigInt(s.amount), 0n);
                const asset = a.paid ? props.assets.get(a.paid.asset) : undefined;
                return (
                  <tr key={a.agreementId}>
                    <td class="mono" title={a.agreementId}>
                      {short(a.agreementId)}
                    </td>
                    <td>
                      <HashLink kind="account" value={a.licensee} />
                    </td>
                    <td>
                      <AgreementState agreement={a} />
                    </td>
                    <td class="num">
                      {a.paid ? amountText(a.paid.amount, a.paid.asset, asset) : 'Free'}
                    </td>
                    <td class="num" data-testid="to-you">
                      {a.paid ? amountText(toYou.toString(), a.paid.asset, asset) : '-'}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </Scroll>
      )}
    </section>
  );
}
