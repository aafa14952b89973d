import { client } from '../../../../web/src/node.js';
import { Fields, HashLink, Scroll, Show, Time, useLoad } from '../../../../web/src/ui.js';
import type { BillResult, SessionDetail } from '../client.js';
import { useIotEvents } from './live.js';
import { DeviceLink, HoldMeter, LiveNote, SessionStatusText, assetsOf } from './shared.js';
import {
  amountText,
  billStatusText,
  countText,
  periodText,
  sessionNotFoundText,
  tariffText,
  usageText,
  type AssetDecimals,
} from './words.js';

/* One session (`GET /v1/iot/sessions/{serviceDevice}/{sessionId}`): its parties, the tariff it
   started under, its hold and what is left of it, and its bills' results (the node gives the first
   bills, and `billsNext` when more follow), followed live until the session ends. */

interface SessionPageView {
  detail: SessionDetail;
  asset: AssetDecimals | undefined;
}

async function loadSession(serviceDevice: string, sessionId: string): Promise<SessionPageView> {
  const detail = await client.iot.session(serviceDevice, sessionId);
  const assets = await assetsOf([detail.session.asset]);
  return { detail, asset: assets.get(detail.session.asset) };
}

export function SessionPage(props: { serviceDevice: string; sessionId: string }) {
  const { serviceDevice, sessionId } = props;
  const [view, reload] = useLoad(
    () => loadSession(serviceDevice, sessionId),
    [serviceDevice, sessionId],
  );
  // An ended session changes no more; any other (open, capped or expired) may still end.
  const ended = view.state === 'ok' && view.value.detail.session.status === 'ended';
  const live = useIotEvents(
    `session ${serviceDevice}/${sessionId}`,
    (data) => data.serviceDevice === serviceDevice && data.sessionId === sessionId,
    reload,
    !ended,
  );
  return (
    <section>
      <h1>
        Session {sessionId} at {serviceDevice} <LiveNote live={live} closed={ended} />
      </h1>
      <p>
        <a href="/iot">All sessions</a>
      </p>
      {view.state === 'error' && view.code === 'session_not_found' ? (
        <div class="error break" role="alert" data-testid="session-not-found">
          {sessionNotFoundText(serviceDevice, sessionId)}
        </div>
      ) : (
        <Show result={view} what="the session">
          {(v) => <SessionBody view={v} />}
        </Show>
      )}
    </section>
  );
}

function SessionBody(props: { view: SessionPageView }) {
  const { detail, asset } = props.view;
  const { session: s, bills, billsNext } = detail;
  const money = (minor: string) => amountText(minor, s.asset, asset);
  return (
    <>
      <section aria-labelledby="session-title">
        <h2 id="session-title">The session</h2>
        <Fields
          rows={[
            ['Status', <SessionStatusText status={s.status} />],
            ['Service device', <DeviceLink deviceId={s.serviceDevice} />],
            ['IoT device', <DeviceLink deviceId={s.iotDevice} />],
            ['Wallet', <DeviceLink deviceId={s.wallet} />],
            ['Payer', <HashLink kind="account" value={s.payer} />],
            ['Provider', <HashLink kind="account" value={s.provider} />],
            [
              'Tariff',
              <span data-testid="session-tariff">
                {tariffText(s.tariff, s.asset, asset)}, at most{' '}
                {usageText(s.tariff.maxRatePerHour, s.tariff.unit)} an hour
              </span>,
            ],
            [
              'Hold',
              <span data-testid="session-held">
                {money(s.held)}, placed by <HashLink kind="tx" value={s.holdId} />
              </span>,
            ],
            ['Usage', <span data-testid="session-usage">{usageText(s.usage, s.tariff.unit)}</span>],
            ['Billed', <span data-testid="session-billed">{money(s.billed)}</span>],
            ['Captured', <span data-testid="session-captured">{money(s.captured)}</span>],
            ['Unpaid', <span data-testid="session-unpaid">{money(s.unpaid)}</span>],
            ['Remaining', <span data-testid="session-remaining">{money(s.remaining)}</span>],
            ['Hold used', <HoldMeter session={s} asset={asset} />],
            [
              'Hold expires at block',
              <span data-testid="session-expiry">{s.expiresAtHeight}</span>,
            ],
            [
              'Started',
              <span data-testid="session-started">
                <Time ms={s.startedAt} /> UTC, meter {s.meterStart}, in block{' '}
                <HashLink kind="block" value={s.startedAtHeight} /> by{' '}
                <HashLink kind="tx" value={s.startTx} />
              </span>,
            ],
            [
              'Ended',
              s.end ? (
                <span data-testid="session-ended">
                  <Time ms={s.end.endedAt} /> UTC, meter {s.end.meterEnd}, {money(s.end.returned)}{' '}
                  returned to the payer, in block <HashLink kind="block" value={s.end.height} /> by{' '}
                  <HashLink kind="tx" value={s.end.tx} />
                </span>
              ) : (
                <span data-testid="session-ended">Not yet: the meter reads {s.meter}</span>
              ),
            ],
          ]}
        />
      </section>
      <Bills bills={bills} billsNext={billsNext} asset={asset} />
    </>
  );
}

function Bills(props: {
  bills: BillResult[];
  billsNext: number | null;
  asset: AssetDecimals | undefined;
}) {
  const { bills, asset } = props;
  return (
    <section aria-labelledby="bills-title">
      <h2 id="bills-title">Bills ({bills.length})</h2>
      {bills.length === 0 ? (
        <p class="muted" data-testid="no-bills">
          No bill yet: the service device bills the usage it measures, each bill signed and paid
          from the hold in one transaction.
        </p>
      ) : (
        <>
          <p class="muted">
            Each bill's transaction both registered the bill and paid it from the hold; a bill
            larger than what was left is capped and its rest unpaid.
            {props.billsNext !== null &&
              ` The first ${countText(bills.length, 'bill')} are shown; later ones from bill ${props.billsNext} are read one by one through the API.`}
          </p>
          <Scroll label="Bills table">
            <table>
              <thead>
                <tr>
                  <th scope="col" class="num">
                    Seq
                  </th>
                  <th scope="col">Period</th>
                  <th scope="col" class="num">
                    Meter start
                  </th>
                  <th scope="col" class="num">
                    Meter end
                  </th>
                  <th scope="col" class="num">
                    Usage
                  </th>
                  <th scope="col" class="num">
                    Amount
                  </th>
                  <th scope="col" class="num">
                    Captured
                  </th>
                  <th scope="col" class="num">
                    Unpaid
                  </th>
                  <th scope="col">Status</th>
                  <th scope="col">Bill tx</th>
                </tr>
              </thead>
              <tbody>
                {bills.map((b) => (
                  <tr key={b.seq} data-bill={b.seq}>
                    <th scope="row" class="num">
                      {b.seq}
                    </th>
                    <td>{periodText(b.detail.period)}</td>
                    <td class="num">{b.detail.meterStart}</td>
                    <td class="num">{b.detail.meterEnd}</td>
                    <td class="num">{usageText(b.detail.usage, b.detail.unit)}</td>
                    <td class="num">{amountText(b.amount, b.asset, asset)}</td>
                    <td class="num">{amountText(b.captured, b.asset, asset)}</td>
                    <td class="num">{amountText(b.unpaid, b.asset, asset)}</td>
                    <td class={b.status === 'paid' ? 'ok-text' : 'bad-text'} data-status={b.status}>
                      {billStatusText[b.status]}
                    </td>
                    <td>
                      <HashLink kind="tx" value={b.billTx} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Scroll>
        </>
      )}
    </section>
  );
}
