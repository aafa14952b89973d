import type { ModulePages } from '../../../../web/src/module-pages.js';
import { client } from '../../../../web/src/node.js';
import { HashLink, Show, useLoad } from '../../../../web/src/ui.js';
import { BankPage } from './bank.js';
import { MemberPage } from './member.js';

/*
 * Time banks in the console (issue 16): the banks, newest first; a bank (bank.tsx: figures,
 * chart, members, offers and requests, exchanges, and posting and recording from the wallet); a
 * member's statement (member.tsx: lots, totals, CSV, exchanges to confirm).
 */

function BanksPage() {
  const [page] = useLoad(() => client.timebanks.list(), []);
  return (
    <section>
      <h1>Time banks</h1>
      <Show result={page} what="the time banks">
        {({ banks }) =>
          banks.length === 0 ? (
            <p class="muted">No time bank on this chain yet.</p>
          ) : (
            <ul class="cards">
              {banks.map((bank) => (
                <li key={bank.id} class="card" data-bank={bank.id}>
                  <h2>
                    <a href={`/timebanks/${bank.id}`}>{bank.name}</a>
                  </h2>
                  <p>
                    {bank.memberCount} members · {bank.issuedMinutes} minutes issued · coordinated
                    by{' '}
                    {bank.coordinators.map((c) => (
                      <HashLink key={c} kind="account" value={c} />
                    ))}
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
  section: { href: '/timebanks', label: 'Time banks' },
  routes: [
    ['/timebanks', () => <BanksPage />],
    ['/timebanks/:id', (p) => <BankPage id={p.id!} />],
    ['/timebanks/:id/members/:account', (p) => <MemberPage id={p.id!} account={p.account!} />],
  ],
};
