import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

import { client } from '../../../../web/src/node.js';
import { Fields, HashLink, Show, useLoad } from '../../../../web/src/ui.js';
import { TxReview, WithWallet } from '../../../../web/src/wallet/session.js';
import { licensingTxBuilders, type ContentView, type OfferRecord } from '../client.js';
import { assetsOf } from './shared.js';
import {
  amountText,
  dashboardPath,
  permissionLines,
  permits,
  playPath,
  priceOf,
  sizeText,
  timeText,
  type AssetDecimals,
} from './words.js';

/* One content (`GET /v1/licensing/content/{id}`): its record, its chain of title in short, and
   its open offers, each with what it permits in words and its price; "Buy" accepts an offer from
   this browser's wallet (`licence.accept`, paying the price in the same tx, never more than the
   price shown: it is the tx's maxAmount) and links to the player. */

interface ContentPageView {
  view: ContentView;
  assets: Map<string, AssetDecimals>;
}

async function loadContent(contentId: string): Promise<ContentPageView> {
  const view = await client.licensing.content(contentId);
  const symbols = view.offers.flatMap((o) => {
    const price = priceOf(o.policy);
    return price ? [price.asset] : [];
  });
  return { view, assets: await assetsOf(symbols) };
}

export function ContentPage(props: { contentId: string }) {
  const { contentId } = props;
  const [loaded, reload] = useLoad(() => loadContent(contentId), [contentId]);
  return (
    <section>
      <p>
        <a href="/licensing">The catalogue</a> · <a href={dashboardPath}>Your rights</a>
      </p>
      <Show result={loaded} what="the content">
        {({ view, assets }) => (
          <>
            <h1>{view.content.title}</h1>
            <Fields
              rows={[
                ['Content id', <span class="mono break">{view.content.contentId}</span>],
                ['Type', `${view.content.mediaType}, ${sizeText(view.content.size)}`],
                ['Registered by', <HashLink kind="account" value={view.content.owner} />],
                ['Rights holder', <HashLink kind="account" value={view.content.holder} />],
                [
                  'Chain of title',
                  <span data-testid="title-length">
                    {view.content.titleLength === 0
                      ? 'Never assigned'
                      : `${view.content.titleLength} assignments; ${view.content.sharesTotal / 100}% of every payment goes to earlier holders`}
                  </span>,
                ],
                [
                  'Registered',
                  <span>
                    {timeText(view.content.registeredAt)} by{' '}
                    <HashLink kind="tx" value={view.content.tx} />
                  </span>,
                ],
              ]}
            />
            <h2>Offers</h2>
            {view.offers.length === 0 ? (
              <p data-testid="no-offers">No offer is open.</p>
            ) : (
              <ul class="cards" aria-label="Offers">
                {view.offers.map((o) => (
                  <Offer key={o.offerId} offer={o} assets={assets} onBought={reload} />
                ))}
              </ul>
            )}
          </>
        )}
      </Show>
    </section>
  );
}

function Offer(props: {
  offer: OfferRecord;
  assets: Map<string, AssetDecimals>;
  onBought: () => void;
}) {
  const { offer: o, assets } = props;
  const price = priceOf(o.policy);
  const priceText = price ? amountText(price.amount, price.asset, assets.get(price.asset)) : 'Free';
  return (
    <li class="card licensing-offer" data-offer={o.offerId}>
      <h3>Offer {o.offerId}</h3>
      <ul aria-label={`What offer ${o.offerId} permits`}>
        {permissionLines(o.policy).map((line) => (
          <li key={line}>{line}</li>
        ))}
      </ul>
      <Fields
        rows={[
          ['Price', <strong data-testid="offer-price">{priceText}</strong>],
          ['Offered by', <HashLink kind="account" value={o.offerer} />],
          ...(o.parent
            ? ([['Sublicence of', <span class="mono break">{o.parent}</span>]] as [
                string,
                ComponentChildren,
              ][])
            : []),
        ]}
      />
      <WithWallet what="buy this licence">
        {(addresses) => (
          <Buy offer={o} priceText={priceText} addresses={addresses} onBought={props.onBought} />
        )}
      </WithWallet>
    </li>
  );
}

function Buy(props: {
  offer: OfferRecord;
  priceText: string;
  addresses: string[];
  onBought: () => void;
}) {
  const { offer: o } = props;
  const buyers = props.addresses.filter((a) => a !== o.offerer);
  const [reviewing, setReviewing] = useState(false);
  const [bought, setBought] = useState<string>();
  if (buyers.length === 0) {
    return <p class="muted">This is your own offer: another account buys it.</p>;
  }
  const buyer = buyers[0]!;
  if (bought) {
    return (
      <p class="badge ok" role="status" data-testid="bought">
        Licence bought: agreement <HashLink kind="tx" value={bought} />.{' '}
        {permits(o.policy, 'play') && <a href={playPath(bought)}>Play it</a>}
      </p>
    );
  }
  if (reviewing) {
    const price = priceOf(o.policy);
    return (
      <TxReview
        sender={buyer}
        tx={licensingTxBuilders.accept(o.contentId, o.offerId, price?.amount)}
        summary={
          <>
            Buy the licence <strong>{o.offerId}</strong> for <strong>{props.priceText}</strong> from{' '}
            <span class="mono break">{buyer}</span>: the price is paid in this transaction, split
            between the holders on the content&apos;s chain of title and the offerer.
          </>
        }
        onDone={(hash) => {
          setReviewing(false);
          setBought(hash);
          props.onBought();
        }}
        onCancel={() => setReviewing(false)}
      />
    );
  }
  return (
    <button type="button" onClick={() => setReviewing(true)}>
      Buy for {props.priceText}
    </button>
  );
}
