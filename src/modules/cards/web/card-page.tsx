import { useState } from 'preact/hooks';

import { useEventsAbout } from '../../../../web/src/live.js';
import { client } from '../../../../web/src/node.js';
import { Fields, HashLink, Scroll, Show, short, useLoad } from '../../../../web/src/ui.js';
import { TxButton, TxReview, walletAddresses } from '../../../../web/src/wallet/session.js';
import { cardTxs, type CardDeviceRecord, type CardRecord } from '../client.js';
import { CardFace } from './card-face.js';
import {
  cardEventTypes,
  deviceStatusText,
  durationText,
  paymentsLeft,
  statusText,
} from './words.js';
import { LiveNote } from './shared.js';

/* One card: its face, status and terms, the devices it is on, and what the cardholder (accept,
   close, approve or remove a device) or the issuer (close, remove a device) does from this
   browser's wallet. */

interface CardView {
  card: CardRecord;
  devices: CardDeviceRecord[];
  /** The latest block's time: tokens that expired by then cannot pay. */
  time: number;
}

async function loadCard(id: string): Promise<CardView> {
  const [card, health] = await Promise.all([client.cards.get(id), client.health()]);
  // At most `cardDevicesMax` (10) devices: one request each.
  const devices = await Promise.all(card.devices.map((d) => client.cards.device(id, d)));
  return { card, devices, time: health.blockTime };
}

export function CardPage(props: { card: string }) {
  const [view, reload] = useLoad(() => loadCard(props.card), [props.card]);
  const live = useEventsAbout(cardEventTypes, 'card', props.card, reload);
  return (
    <section>
      <h1>
        Card {props.card} <LiveNote live={live} />
      </h1>
      <p>
        <a href="/cards">Open another card</a>
      </p>
      <Show result={view} what="the card">
        {(v) => <CardBody view={v} reload={reload} />}
      </Show>
    </section>
  );
}

function CardBody(props: { view: CardView; reload: () => void }) {
  const { card, devices, time } = props.view;
  const [sent, setSent] = useState<string>();
  const done = (hash: string) => {
    setSent(hash);
    props.reload();
  };
  const mine = walletAddresses();
  const holder = mine.includes(card.account) ? card.account : undefined;
  const issuer = mine.includes(card.issuer) ? card.issuer : undefined;
  // Either may close the card or remove a device (card.close, card.removeDevice).
  const party = holder ?? issuer;
  return (
    <>
      <CardFace card={card} />
      <Fields
        rows={[
          [
            'Status',
            <span data-testid="card-status" data-status={card.status}>
              {statusText[card.status]}
            </span>,
          ],
          [
            'Issuer',
            <>
              {card.face.issuerName} (<HashLink kind="account" value={card.issuer} />)
            </>,
          ],
          ['Account', <HashLink kind="account" value={card.account} />],
          ['Asset', card.asset],
          ['Tokens per device', `at most ${card.tokensMax} unused at a time`],
          ['Token life', `${durationText(card.tokenLifeMs)} from minting`],
          ['Linked in block', <HashLink kind="block" value={card.linkedAtHeight} />],
        ]}
      />
      {sent && (
        <p class="badge ok" role="status">
          Your transaction is in a block: <HashLink kind="tx" value={sent} />
        </p>
      )}
      {party && card.status !== 'closed' && (
        <section aria-labelledby="act-title">
          <h2 id="act-title">{holder ? 'Your card' : 'As its issuer'}</h2>
          {/* One above the other: a button opens its confirmation where it stands. */}
          <div class="cards-actions">
            {holder && card.status === 'pending' && (
              <div>
                <TxButton
                  label="Accept the card"
                  sender={holder}
                  tx={() => cardTxs.accept(card.card)}
                  summary={`Accept card ${card.card} (${card.face.issuerName} ${card.face.product}, ending ${card.last4}): its payments may then hold ${card.asset} from your account.`}
                  onDone={done}
                />
              </div>
            )}
            <div>
              <TxButton
                label="Close the card"
                sender={party}
                secondary
                tx={() => cardTxs.close(card.card)}
                summary={`Close card ${card.card} for good: no device can pay with it again.`}
                onDone={done}
              />
            </div>
          </div>
        </section>
      )}
      <Devices
        card={card}
        devices={devices}
        time={time}
        approver={card.status === 'closed' ? undefined : holder}
        remover={party}
        onDone={done}
      />
    </>
  );
}

function Devices(props: {
  card: CardRecord;
  devices: CardDeviceRecord[];
  time: number;
  /**
   * The wallet's address that may approve a pending device: the card's account only, never its
   * issuer (a device the issuer alone approved could be a key of its own spending the account).
   */
  approver: string | undefined;
  /** The wallet's address that may remove a device, if any. */
  remover: string | undefined;
  onDone: (hash: string) => void;
}) {
  const [chosen, setChosen] = useState<{
    action: 'approve' | 'remove';
    device: CardDeviceRecord;
  }>();
  const { card } = props;
  const acting = props.approver ?? props.remover;
  return (
    <section aria-labelledby="devices-title">
      <h2 id="devices-title">Devices</h2>
      {props.devices.length === 0 ? (
        <p class="muted">The card is on no device: its issuer adds it to one.</p>
      ) : (
        <Scroll label="Devices table">
          <table>
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">Status</th>
                <th scope="col">What it shows</th>
                <th scope="col" class="num">
                  Unused tokens
                </th>
                <th scope="col" class="num">
                  Next request
                </th>
                <th scope="col" class="num">
                  Minted
                </th>
                <th scope="col" class="num">
                  Used
                </th>
                <th scope="col">Added in block</th>
                {acting && <th scope="col">Action</th>}
              </tr>
            </thead>
            <tbody>
              {props.devices.map((d) => {
                const left = paymentsLeft(d, props.time).length;
                const expired = d.outstanding.length - left;
                return (
                  <tr key={d.device} data-device={d.device}>
                    <td>
                      <span class="mono" title={d.device}>
                        {short(d.device)}
                      </span>
                    </td>
                    <td data-status={d.status}>{deviceStatusText[d.status]}</td>
                    <td>
                      <a
                        href={`/cards/${encodeURIComponent(card.card)}/devices/${d.device}`}
                        aria-label={`Screen of device ${d.device}`}
                      >
                        Screen
                      </a>
                    </td>
                    <td class="num" data-unused={left}>
                      {left}
                      {expired > 0 ? ` (${expired} expired)` : ''}
                    </td>
                    <td class="num" data-next-request={d.nextRequest}>
                      {d.nextRequest}
                    </td>
                    <td class="num" data-minted={d.minted}>
                      {d.minted}
                    </td>
                    <td class="num" data-used={d.consumed}>
                      {d.consumed}
                    </td>
                    <td>
                      <HashLink kind="block" value={d.addedAtHeight} />
                    </td>
                    {acting && (
                      <td>
                        <div class="toolbar">
                          {props.approver && d.status === 'pending' && (
                            <button
                              type="button"
                              aria-label={`Approve device ${d.device}`}
                              aria-pressed={
                                chosen?.action === 'approve' && chosen.device.device === d.device
                              }
                              onClick={() => setChosen({ action: 'approve', device: d })}
                            >
                              Approve
                            </button>
                          )}
                          {props.remover && (
                            <button
                              type="button"
                              class="secondary"
                              aria-label={`Remove the card from device ${d.device}`}
                              aria-pressed={
                                chosen?.action === 'remove' && chosen.device.device === d.device
                              }
                              onClick={() => setChosen({ action: 'remove', device: d })}
                            >
                              Remove
                            </button>
                          )}
                        </div>
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </Scroll>
      )}
      {chosen?.action === 'approve' && props.approver && (
        <TxReview
          key={`approve/${chosen.device.device}`}
          sender={props.approver}
          tx={cardTxs.approveDevice(card.card, chosen.device.device)}
          summary={<ApproveSummary card={card} device={chosen.device} />}
          onDone={(hash) => {
            setChosen(undefined);
            props.onDone(hash);
          }}
          onCancel={() => setChosen(undefined)}
        />
      )}
      {chosen?.action === 'remove' && props.remover && (
        <TxReview
          key={`remove/${chosen.device.device}`}
          sender={props.remover}
          tx={cardTxs.removeDevice(card.card, chosen.device.device)}
          summary={`Remove card ${card.card} from device ${chosen.device.device}: its unused tokens can no longer pay.`}
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

/**
 * What approving a device means, with the device's whole id and box key so the cardholder can
 * compare them with what `coffer card-device info` prints on the device itself. The tx names the
 * device id only, and that is the check that matters; the box key is the node's record of the key
 * the device signed when the issuer added it (`box_key_signature_invalid` otherwise), a second one.
 */
function ApproveSummary(props: { card: CardRecord; device: CardDeviceRecord }) {
  const { card, device } = props;
  return (
    <>
      Approve device{' '}
      <code class="break" data-testid="approve-device">
        {device.device}
      </code>{' '}
      with box key{' '}
      <code class="break" data-testid="approve-box-key">
        {device.boxKey}
      </code>{' '}
      for card {card.card} ({card.face.issuerName} {card.face.product}, ending {card.last4}): it may
      then ask for card tokens and pay from your account in {card.asset}. Approve it only if{' '}
      <code>coffer card-device info</code> on your device prints this same device id and box key.
    </>
  );
}
