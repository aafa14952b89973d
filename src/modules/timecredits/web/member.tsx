import { useEffect, useMemo, useState } from 'preact/hooks';

import { client } from '../../../../web/src/node.js';
import { Fields, HashLink, Show, Time, short, useLoad } from '../../../../web/src/ui.js';
import type { MemberStatement, TimeExchange, Timebank, TimebankMember } from '../client.js';
import { Exchanges } from './bank.js';
import { statementCsv, statementFileName } from '../statement-csv.js';
import { Hours, Scroll, SentNote, latestExchanges, useBankEvents } from './shared.js';

/* A member's page: the statement as of the latest block (lots with base time and expiry, the
   totals), the CSV of it made in this browser, and the member's exchanges to confirm. */

interface MemberView {
  bank: Timebank;
  member: TimebankMember;
  statement: MemberStatement;
  exchanges: TimeExchange[];
}

async function loadMember(id: string, account: string): Promise<MemberView> {
  const [bank, member, statement] = await Promise.all([
    client.timebanks.get(id),
    client.timebanks.member(id, account),
    client.timebanks.statement(id, account),
  ]);
  const exchanges = (await latestExchanges(id, bank.nextExchangeNumber)).filter(
    (e) => e.provider === account || e.recipient === account,
  );
  return { bank, member, statement, exchanges };
}

export function MemberPage(props: { id: string; account: string }) {
  const [view, reload] = useLoad(
    () => loadMember(props.id, props.account),
    [props.id, props.account],
  );
  useBankEvents(props.id, reload);
  const [sent, setSent] = useState<string>();
  return (
    <section>
      <h1>
        Statement of <span class="mono">{short(props.account)}</span>
      </h1>
      <p>
        <a href={`/timebanks/${props.id}`}>
          {view.state === 'ok' ? view.value.bank.name : 'The time bank'}
        </a>{' '}
        · <HashLink kind="account" value={props.account} />
      </p>
      <Show result={view} what="the statement">
        {(v) => (
          <>
            <SentNote hash={sent} what="Your confirmation" />
            <Statement view={v} />
            <Exchanges
              bank={v.bank}
              exchanges={v.exchanges}
              title="Exchanges of this member"
              onDone={(hash) => {
                setSent(hash);
                reload();
              }}
            />
          </>
        )}
      </Show>
    </section>
  );
}

function Statement(props: { view: MemberView }) {
  const { statement: s, member } = props.view;
  return (
    <>
      <Fields
        rows={[
          ['Status', <span data-testid="member-status">{s.status}</span>],
          ['Joined', <Time ms={member.joinedAt} />],
          ['As of', <Time ms={s.asOf} />],
          [
            'Balance',
            <span data-testid="balance" data-minutes={s.balanceMinutes}>
              <Hours minutes={s.balanceMinutes} />
            </span>,
          ],
          ['After demurrage', <Hours minutes={s.effectiveBalanceMinutes} />],
          ['Debt', <Hours minutes={s.debtMinutes} />],
          ['Net', <Hours minutes={s.netMinutes} />],
          ['Given in exchanges', <Hours minutes={s.givenMinutes} />],
          ['Received in exchanges', <Hours minutes={s.receivedMinutes} />],
          ['Sent directly', <Hours minutes={s.sentMinutes} />],
          ['Got directly', <Hours minutes={s.gotMinutes} />],
        ]}
      />
      <CsvLink statement={s} />
      <section aria-labelledby="lots-title">
        <h2 id="lots-title">Lots</h2>
        <p class="muted">
          Spent earliest expiry first; a lot keeps the base time and terms it was issued with.
        </p>
        {s.lots.length === 0 ? (
          <p class="muted">No lot: this member holds no minutes.</p>
        ) : (
          <Scroll label="Lots">
            <table>
              <thead>
                <tr>
                  <th scope="col">Lot</th>
                  <th scope="col">Origin</th>
                  <th scope="col" class="num">
                    Minutes
                  </th>
                  <th scope="col" class="num">
                    After demurrage
                  </th>
                  <th scope="col">Base time</th>
                  <th scope="col" class="num">
                    Age (days)
                  </th>
                  <th scope="col">Expires</th>
                  <th scope="col">State</th>
                </tr>
              </thead>
              <tbody>
                {s.lots.map((lot) => (
                  <tr key={lot.lot} data-lot={lot.lot}>
                    <td>{lot.lot}</td>
                    <td class="mono">{lot.origin}</td>
                    <td class="num">
                      <Hours minutes={lot.minutes} />
                    </td>
                    <td class="num">
                      <Hours minutes={lot.effectiveMinutes} />
                    </td>
                    <td>
                      <Time ms={lot.baseTime} />
                    </td>
                    <td class="num">{lot.ageDays}</td>
                    <td>{lot.expiresAt === null ? 'never' : <Time ms={lot.expiresAt} />}</td>
                    <td>{lot.expired ? 'expired' : 'spendable'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Scroll>
        )}
      </section>
    </>
  );
}

/** The statement as CSV, built here from the JSON statement shown, saved through a Blob. */
function CsvLink(props: { statement: MemberStatement }) {
  const href = useMemo(
    () => URL.createObjectURL(new Blob([statementCsv(props.statement)], { type: 'text/csv' })),
    [props.statement],
  );
  useEffect(() => () => URL.revokeObjectURL(href), [href]);
  return (
    <p>
      <a href={href} download={statementFileName(props.statement)} class="button-link">
        Download the statement (CSV)
      </a>
    </p>
  );
}
