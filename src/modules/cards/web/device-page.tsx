import { useRef } from 'preact/hooks';

import { useEventsAbout } from '../../../../web/src/live.js';
import { client } from '../../../../web/src/node.js';
import { Fields, HashLink, Scroll, Show, Time, short, useLoad } from '../../../../web/src/ui.js';
import { formatUnits } from '../../../sdk/index.js';
import type { CardDeviceRecord, CardRecord } from '../client.js';
import { CardFace } from './card-face.js';
import {
  paymentBlocksScannedMax,
  paymentTxsReadMax,
  recentPayments,
  type DevicePayment,
  type PaymentScan,
} from './payments.js';
import {
  cardEventTypes,
  declineText,
  deviceStatusText,
  paymentsLeft,
  statusText,
} from './words.js';
import { LiveNote } from './shared.js';

/* The device screen: what a payment device's display shows for one card (the face, how many
   payments its tokens still make, when the next one expires, whether it can pay at all), then the
   device's recent payments for the card as the chain's events record them. */

interface DeviceView {
  card: CardRecord;
  link: CardDeviceRecord;
  /** The latest block's time: tokens that expired by then cannot pay. */
  time: number;
  scan: PaymentScan;
  /** Decimals of each asset a payment is in. */
  decimals: Map<string, number>;
}

async function loadDevice(id: string, device: string, since?: PaymentScan): Promise<DeviceView> {
  const [card, link] = await Promise.all([client.cards.get(id), client.cards.device(id, device)]);
  // The head after the device's record: every payment it counts is at or below it.
  const health = await client.health();
  const scan = await recentPayments(client, card, link, health.height, since);
  const symbols = [...new Set([card.asset, ...scan.payments.map((p) => p.currency)])];
  const assets = await Promise.all(symbols.map((symbol) => client.getAsset(symbol)));
  return {
    card,
    link,
    time: health.blockTime,
    scan,
    decimals: new Map(assets.map((a) => [a.symbol, a.decimals])),
  };
}

export function DevicePage(props: { card: string; device: string }) {
  // The last walk through the blocks: a reload (an event about the card) reads only newer ones.
  const walked = useRef<{ key: string; scan: PaymentScan }>();
  const key = `${props.card}/${props.device}`;
  const [view, reload] = useLoad(async () => {
    const since = walked.current?.key === key ? walked.current.scan : undefined;
    const loaded = await loadDevice(props.card, props.device, since);
    walked.current = { key, scan: loaded.scan };
    return loaded;
  }, [props.card, props.device]);
  const live = useEventsAbout(cardEventTypes, 'card', props.card, reload);
  return (
    <section>
      <h1>
        Device screen <LiveNote live={live} />
      </h1>
      <p>
        Card <a href={`/cards/${encodeURIComponent(props.card)}`}>{props.card}</a> on device{' '}
        <HashLink kind="account" value={props.device} />
      </p>
      <Show result={view} what="the device">
        {(v) => (
          <>
            <Screen view={v} />
            <Fields
              rows={[
                ['Card status', statusText[v.card.status]],
                [
                  'On this device',
                  <span data-testid="device-status" data-status={v.link.status}>
                    {deviceStatusText[v.link.status]}
                  </span>,
                ],
                ['Next batch request', String(v.link.nextRequest)],
                ['Tokens minted', String(v.link.minted)],
                ['Tokens used', String(v.link.consumed)],
                ['Box key', <code title={v.link.boxKey}>{short(v.link.boxKey)}</code>],
                ['Added in block', <HashLink kind="block" value={v.link.addedAtHeight} />],
              ]}
            />
            <Payments view={v} />
          </>
        )}
      </Show>
    </section>
  );
}

/** The display: the card, what it can pay, or plainly why it cannot. */
function Screen(props: { view: DeviceView }) {
  const { card, link, time } = props.view;
  const left = paymentsLeft(link, time);
  const nextExpiry = left.reduce<number | undefined>(
    (soonest, entry) =>
      soonest === undefined ? entry.expiresAt : Math.min(soonest, entry.expiresAt),
    undefined,
  );
  const blocked =
    link.status === 'removed'
      ? 'This card was removed from this device: it cannot pay here.'
      : card.status === 'closed'
        ? 'This card is closed: it cannot pay.'
        : card.status === 'pending'
          ? 'Waiting for the cardholder to accept the card: it cannot pay yet.'
          : link.status === 'pending'
            ? "Waiting for the cardholder's approval of this device: it cannot pay yet."
            : undefined;
  return (
    <section class="cards-device" aria-label="The device's display" data-testid="device-screen">
      <CardFace card={card} />
      {blocked ? (
        <p class="cards-warning" role="note" data-testid="device-blocked">
          {blocked}
        </p>
      ) : (
        <>
          <p class="cards-left" data-testid="payments-left" data-count={left.length}>
            {left.length} {left.length === 1 ? 'payment' : 'payments'} left
          </p>
          <p class="cards-quiet">
            {nextExpiry === undefined ? (
              'No token: the device asks for a batch before it can pay.'
            ) : (
              <>
                Next token expires <Time ms={nextExpiry} />
              </>
            )}
          </p>
        </>
      )}
    </section>
  );
}

function Amount(props: { payment: DevicePayment; decimals: Map<string, number> }) {
  const { amount, currency } = props.payment;
  const decimals = props.decimals.get(currency);
  return (
    <span data-amount={amount}>
      {decimals === undefined ? amount : formatUnits(BigInt(amount), decimals)} {currency}
    </span>
  );
}

function Payments(props: { view: DeviceView }) {
  const { scan, link, decimals } = props.view;
  return (
    <section aria-labelledby="payments-title">
      <h2 id="payments-title">Recent payments</h2>
      <p class="muted">
        From the chain's events (card.authorised, card.declined), newest first: the device has used{' '}
        {link.consumed} {link.consumed === 1 ? 'token' : 'tokens'}, each for one payment.
        {!scan.complete &&
          ` Only blocks ${scan.fromHeight} and later were read (this page reads at most the newest ${paymentBlocksScannedMax} blocks and ${paymentTxsReadMax} transactions).`}
      </p>
      {scan.payments.length === 0 ? (
        <p class="muted">No payment found.</p>
      ) : (
        <Scroll label="Payments table">
          <table>
            <thead>
              <tr>
                <th scope="col">Block</th>
                <th scope="col">Outcome</th>
                <th scope="col" class="num">
                  Amount
                </th>
                <th scope="col">Merchant</th>
                <th scope="col">Hold or reason</th>
                <th scope="col" class="num">
                  Counter
                </th>
              </tr>
            </thead>
            <tbody>
              {scan.payments.map((p) => (
                <tr key={p.tx} data-payment={p.tx} data-outcome={p.outcome}>
                  <td>
                    <HashLink kind="block" value={p.height} />
                  </td>
                  <td class={p.outcome === 'authorised' ? 'ok-text' : 'bad-text'}>
                    {p.outcome === 'authorised' ? 'Approved' : 'Declined'}
                  </td>
                  <td class="num">
                    <Amount payment={p} decimals={decimals} />
                  </td>
                  <td>{p.merchantId}</td>
                  <td>
                    {p.holdId ? (
                      // A hold's id is the hash of the tx that placed it: the explorer shows that tx.
                      <>
                        Hold <HashLink kind="tx" value={p.holdId} />
                      </>
                    ) : (
                      <span data-code={p.code}>
                        {declineText(p.code ?? '')} (<code>{p.code}</code>)
                      </span>
                    )}
                  </td>
                  <td class="num">{p.counter}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
    </section>
  );
}
