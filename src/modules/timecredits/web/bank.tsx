import { useMemo, useRef, useState } from 'preact/hooks';

import { Field, Fields, HashLink, Show, Time, short, useLoad } from '../../../../web/src/ui.js';
import { WithWallet } from '../../../../web/src/wallet/session.js';
import {
  formatMinutes,
  parseHours,
  timebankTxs,
  type Listing,
  type ListingKind,
  type MemberPage,
  type MemberStatement,
  type TimeExchange,
  type Timebank,
} from '../client.js';
import { client } from '../../../../web/src/node.js';
import { BankChart, chartPoints } from './chart.js';
import { Members, firstMembers } from './members.js';
import {
  Hours,
  MemberLink,
  Scroll,
  SentNote,
  TxButton,
  TxReview,
  latestExchanges,
  statementsOf,
  policyText,
  useBankEvents,
  walletAddresses,
} from './shared.js';

/* One time bank: its figures and policy, a chart, members, offers and requests, exchanges, and
   what a member of it does from this browser's wallet (post, record, confirm). */

interface BankView {
  bank: Timebank;
  listings: Listing[];
  exchanges: TimeExchange[];
  /** The first page of members, and their statements (their lots draw the chart). */
  members: MemberPage;
  statements: MemberStatement[];
  /** More listings than shown. */
  moreListings: boolean;
  /** The latest block time when read. */
  asOf: number;
}

const listingsShownMax = 50;

async function loadBank(id: string): Promise<BankView> {
  const [bank, { blockTime: asOf }] = await Promise.all([
    client.timebanks.get(id),
    client.health(),
  ]);
  const [listingPage, exchanges, members] = await Promise.all([
    client.timebanks.listings(id, { limit: listingsShownMax }),
    latestExchanges(id, bank.nextExchangeNumber),
    firstMembers(id),
  ]);
  // The chart's lots: those of the first page of members.
  const statements = await statementsOf(
    id,
    members.members.map((m) => m.account),
  );
  return {
    bank,
    listings: listingPage.listings,
    exchanges,
    members,
    statements,
    asOf,
    moreListings: listingPage.next !== null,
  };
}

export function BankPage(props: { id: string }) {
  const [view, reload] = useLoad(() => loadBank(props.id), [props.id]);
  useBankEvents(props.id, reload);
  const title = view.state === 'ok' ? view.value.bank.name : 'Time bank';
  return (
    <section>
      <h1>{title}</h1>
      <p>
        <a href="/timebanks">All time banks</a>
      </p>
      <Show result={view} what="the time bank">
        {(v) => <BankBody view={v} reload={reload} />}
      </Show>
    </section>
  );
}

function BankBody(props: { view: BankView; reload: () => void }) {
  const { bank, listings, exchanges, members, statements } = props.view;
  const [sent, setSent] = useState<string>();
  const done = (hash: string) => {
    setSent(hash);
    props.reload();
  };
  const now = props.view.asOf;
  const lots = statements.flatMap((s) => s.lots);
  // The totals each time this page read them: the chart's history since the page opened.
  const samples = useRef(new Map<number, { issued: string; pooled: string }>());
  const points = useMemo(() => {
    samples.current.set(now, { issued: bank.issuedMinutes, pooled: bank.poolMinutes });
    return chartPoints(bank, lots, now, samples.current);
  }, [props.view]);
  return (
    <>
      <Fields
        rows={[
          ['Bank id', <code>{bank.id}</code>],
          ['Policy', policyText(bank.policy)],
          ['Credit limit', <Hours minutes={bank.creditLimitMinutes} />],
          ['Members', String(bank.memberCount)],
          [
            'Coordinators',
            <span class="toolbar">
              {bank.coordinators.map((c) => (
                <HashLink key={c} kind="account" value={c} />
              ))}
            </span>,
          ],
          ['Minutes issued', <Hours minutes={bank.issuedMinutes} />],
          ['Minutes pooled (lapsed or demurrage)', <Hours minutes={bank.poolMinutes} />],
          ['Minutes of debt', <Hours minutes={bank.debtMinutes} />],
          ['Created', <Time ms={bank.createdAt} />],
        ]}
      />
      <SentNote hash={sent} what="Your transaction" />

      <section aria-labelledby="chart-title">
        <h2 id="chart-title">Minutes issued, pooled and expiring</h2>
        <p class="muted">
          Issued and pooled at the bank's creation and each time this page read them (it follows the
          bank's events); ahead, the pool as the lots of the first {statements.length} members
          lapse.
        </p>
        <BankChart
          points={points}
          description={`Minutes issued (${bank.issuedMinutes}), pooled (${bank.poolMinutes}) and expiring over time`}
        />
      </section>

      <Members bank={bank} first={members} onDone={done} />
      <Listings bank={bank} listings={listings} more={props.view.moreListings} onDone={done} />
      <Exchanges bank={bank} exchanges={exchanges} onDone={done} />

      <section aria-labelledby="act-title">
        <h2 id="act-title">Take part</h2>
        <WithWallet what="post an offer or record an exchange">
          {(addresses) => (
            <ActAs bank={bank} listings={listings} addresses={addresses} onDone={done} />
          )}
        </WithWallet>
      </section>
    </>
  );
}

function Listings(props: {
  bank: Timebank;
  listings: Listing[];
  more: boolean;
  onDone: (hash: string) => void;
}) {
  const mine = walletAddresses();
  const [chosen, setChosen] = useState<Listing>();
  /** Who in this wallet may close `l`: its owner, else a coordinator. */
  const closer = (l: Listing) =>
    mine.find((a) => a === l.owner) ?? mine.find((a) => props.bank.coordinators.includes(a));
  const chosenCloser = chosen && closer(chosen);
  return (
    <section aria-labelledby="listings-title">
      <h2 id="listings-title">Offers and requests</h2>
      {props.more && <p class="muted">The newest {listingsShownMax} are shown.</p>}
      {props.listings.length === 0 ? (
        <p class="muted">No offer or request yet.</p>
      ) : (
        <Scroll label="Offers and requests">
          <table>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Kind</th>
                <th scope="col">Title</th>
                <th scope="col">Category</th>
                <th scope="col" class="num">
                  Time
                </th>
                <th scope="col">By</th>
                <th scope="col">State</th>
                <th scope="col">Posted</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {props.listings.map((l) => (
                <tr key={l.number} data-listing={l.number} data-status={l.status}>
                  <td>{l.number}</td>
                  <td>{l.kind}</td>
                  <td>{l.title}</td>
                  <td>{l.category}</td>
                  <td class="num">
                    <Hours minutes={l.minutes} />
                  </td>
                  <td>
                    <MemberLink bankId={props.bank.id} account={l.owner} />
                  </td>
                  <td>{l.status}</td>
                  <td>
                    <Time ms={l.postedAt} />
                  </td>
                  <td>
                    {l.status === 'open' && closer(l) ? (
                      <button
                        type="button"
                        class="secondary"
                        aria-pressed={chosen?.number === l.number}
                        onClick={() => setChosen(l)}
                      >
                        Close #{l.number}
                      </button>
                    ) : (
                      ''
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
      {chosen && chosenCloser && (
        <TxReview
          key={chosen.number}
          sender={chosenCloser}
          tx={timebankTxs.closeListing({ bankId: props.bank.id, listing: chosen.number })}
          summary={`Close the ${chosen.kind} #${chosen.number} "${chosen.title}".`}
          onDone={(hash) => {
            setChosen(undefined);
            props.onDone(hash);
          }}
          onCancel={() => setChosen(undefined)}
        />
      )}
    </section>
  );
}

/** Exchanges with the confirmations they have; a party that has not confirmed can, here. */
export function Exchanges(props: {
  bank: Timebank;
  exchanges: TimeExchange[];
  onDone: (hash: string) => void;
  title?: string;
}) {
  const mine = walletAddresses();
  const [chosen, setChosen] = useState<TimeExchange>();
  const partyOf = (e: TimeExchange) =>
    [e.provider, e.recipient].find((a) => mine.includes(a) && !e.confirmedBy.includes(a));
  const chosenParty = chosen && partyOf(chosen);
  return (
    <section aria-labelledby="exchanges-title">
      <h2 id="exchanges-title">{props.title ?? 'Exchanges'}</h2>
      {props.exchanges.length === 0 ? (
        <p class="muted">No exchange yet.</p>
      ) : (
        <Scroll label="Exchanges">
          <table>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Provider</th>
                <th scope="col">Recipient</th>
                <th scope="col" class="num">
                  Time
                </th>
                <th scope="col">For</th>
                <th scope="col">State</th>
                <th scope="col">Recorded</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {props.exchanges.map((e) => {
                const party = partyOf(e);
                return (
                  <tr key={e.number} data-exchange={e.number} data-status={e.status}>
                    <td>{e.number}</td>
                    <td>
                      <MemberLink bankId={props.bank.id} account={e.provider} />
                    </td>
                    <td>
                      <MemberLink bankId={props.bank.id} account={e.recipient} />
                    </td>
                    <td class="num">
                      <Hours minutes={e.minutes} />
                    </td>
                    <td>
                      {e.offer ?? ''}
                      {e.listing === undefined ? '' : ` (listing #${e.listing})`}
                    </td>
                    <td>
                      {e.status === 'completed'
                        ? 'completed'
                        : `waiting for ${e.confirmedBy.includes(e.recipient) ? 'the provider' : 'the recipient'}`}
                    </td>
                    <td>
                      <Time ms={e.recordedAt} />
                    </td>
                    <td>
                      {e.status === 'pending' && party ? (
                        <button
                          type="button"
                          aria-pressed={chosen?.number === e.number}
                          onClick={() => setChosen(e)}
                        >
                          Confirm #{e.number}
                        </button>
                      ) : (
                        ''
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </Scroll>
      )}
      {chosen && chosenParty && (
        <TxReview
          key={chosen.number}
          sender={chosenParty}
          tx={timebankTxs.confirmExchange({ bankId: props.bank.id, exchange: chosen.number })}
          summary={`Confirm exchange #${chosen.number}: ${chosen.minutes} minutes (${formatMinutes(chosen.minutes)} h) move from the recipient to the provider once both confirmed.`}
          onDone={(hash) => {
            setChosen(undefined);
            props.onDone(hash);
          }}
          onCancel={() => setChosen(undefined)}
        />
      )}
    </section>
  );
}

/** Hours typed as `2:30`, `90m` or `1.5`, as whole minutes; a problem with its code otherwise. */
function minutesOf(hours: string): string | { code: string; message: string } {
  try {
    const minutes = parseHours(hours.trim());
    if (minutes < 1n) return { code: 'invalid_minutes', message: 'At least one minute.' };
    return minutes.toString();
  } catch (error) {
    return { code: 'invalid_minutes', message: (error as Error).message };
  }
}

function ActAs(props: {
  bank: Timebank;
  listings: Listing[];
  addresses: string[];
  onDone: (hash: string) => void;
}) {
  const [sender, setSender] = useState(props.addresses[0] ?? '');
  const [kind, setKind] = useState<ListingKind>('offer');
  const [title, setTitle] = useState('');
  const [category, setCategory] = useState('');
  const [listingHours, setListingHours] = useState('');
  const [recipient, setRecipient] = useState('');
  const [exchangeHours, setExchangeHours] = useState('');
  const [offer, setOffer] = useState('');
  const [listing, setListing] = useState('');
  const open = props.listings.filter((l) => l.status === 'open');
  const bankId = props.bank.id;
  return (
    <>
      <div class="field">
        <label for="act-sender">Your account</label>
        <select
          id="act-sender"
          value={sender}
          onChange={(e) => setSender((e.target as HTMLSelectElement).value)}
        >
          {props.addresses.map((a) => (
            <option key={a} value={a}>
              {short(a)}
            </option>
          ))}
        </select>
      </div>
      <div class="grid">
        <form aria-labelledby="post-title" onSubmit={(e) => e.preventDefault()}>
          <h3 id="post-title">Post an offer or a request</h3>
          <div class="field">
            <label for="post-kind">Kind</label>
            <select
              id="post-kind"
              value={kind}
              onChange={(e) => setKind((e.target as HTMLSelectElement).value as ListingKind)}
            >
              <option value="offer">Offer (I can help)</option>
              <option value="request">Request (I need help)</option>
            </select>
          </div>
          <Field id="post-title-input" label="Title" value={title} onInput={setTitle} />
          <Field
            id="post-category"
            label="Category"
            value={category}
            onInput={setCategory}
            hint="Lowercase letters, digits and dashes: gardening, repairs, lessons."
          />
          <Field
            id="post-hours"
            label="Hours"
            value={listingHours}
            onInput={setListingHours}
            hint="2:30, 90m or 1.5"
          />
          <TxButton
            label="Review the listing"
            sender={sender}
            tx={() => {
              const minutes = minutesOf(listingHours);
              if (typeof minutes !== 'string') return minutes;
              return timebankTxs.postListing({
                bankId,
                kind,
                title: title.trim(),
                category: category.trim(),
                minutes,
              });
            }}
            summary={`Post the ${kind} "${title.trim()}" in ${props.bank.name}.`}
            onDone={props.onDone}
          />
        </form>
        <form aria-labelledby="record-title" onSubmit={(e) => e.preventDefault()}>
          <h3 id="record-title">Record an exchange you provided</h3>
          <p class="muted">The recipient confirms it; then the minutes move from them to you.</p>
          <Field
            id="record-recipient"
            label="Recipient (address)"
            value={recipient}
            onInput={setRecipient}
          />
          <Field
            id="record-hours"
            label="Hours given"
            value={exchangeHours}
            onInput={setExchangeHours}
            hint="2:30, 90m or 1.5"
          />
          <Field
            id="record-offer"
            label="What you did (optional)"
            value={offer}
            onInput={setOffer}
          />
          <div class="field">
            <label for="record-listing">For a listing (optional)</label>
            <select
              id="record-listing"
              value={listing}
              onChange={(e) => setListing((e.target as HTMLSelectElement).value)}
            >
              <option value="">None</option>
              {open.map((l) => (
                <option key={l.number} value={String(l.number)}>
                  #{l.number} {l.kind}: {l.title}
                </option>
              ))}
            </select>
          </div>
          <TxButton
            label="Review the exchange"
            sender={sender}
            tx={() => {
              const minutes = minutesOf(exchangeHours);
              if (typeof minutes !== 'string') return minutes;
              return timebankTxs.recordExchange({
                bankId,
                recipient: recipient.trim(),
                minutes,
                ...(offer.trim() === '' ? {} : { offer: offer.trim() }),
                ...(listing === '' ? {} : { listing: Number(listing) }),
              });
            }}
            summary={`Record that you gave ${exchangeHours.trim()} h to ${recipient.trim()}; they confirm it.`}
            onDone={props.onDone}
          />
        </form>
      </div>
    </>
  );
}
