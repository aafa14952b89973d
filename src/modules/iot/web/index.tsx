import { useState } from 'preact/hooks';

import type { ModulePages } from '../../../../web/src/module-pages.js';
import { client } from '../../../../web/src/node.js';
import { Fields, HashLink, Show, useLoad } from '../../../../web/src/ui.js';
import type { SessionView } from '../client.js';
import { DevicePage } from './device-page.js';
import { useIotEvents } from './live.js';
import { SessionPage } from './session-page.js';
import { DeviceLink, HoldMeter, LiveNote, SessionStatusText, assetsOf } from './shared.js';
import {
  amountText,
  filterText,
  noSessionsText,
  sessionFilters,
  sessionPath,
  sessionsShownMax,
  usageText,
  type AssetDecimals,
  type SessionFilter,
} from './words.js';

/*
 * IoT payments in the console (issue 20): the chain's sessions, open ones first (the status
 * filter starts on open), a page at a time in `<serviceDevice>/<sessionId>` order
 * (`GET /v1/iot/sessions`), reloaded when an `iot.` event arrives; one session with its bills
 * (session-page.tsx); one device's certificate record with its link or tariff (device-page.tsx).
 * The pages only read: devices act through their signed messages, owners with `coffer iot`.
 */

function SessionsPage() {
  const [filter, setFilter] = useState<SessionFilter>('open');
  // The `after` cursor of each page walked past the first; empty on the first page.
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors.at(-1);
  const [page, reload] = useLoad(async () => {
    const loaded = await client.iot.sessions({
      limit: sessionsShownMax,
      ...(filter === 'all' ? {} : { status: filter }),
      ...(after === undefined ? {} : { after }),
    });
    // Open sessions first within the page (the node answers in key order).
    const sessions = [...loaded.sessions].sort(
      (a, b) => Number(b.status === 'open') - Number(a.status === 'open'),
    );
    const assets = await assetsOf(sessions.map((s) => s.asset));
    return { sessions, next: loaded.next, assets };
  }, [filter, after]);
  // Any iot event may start, bill or close a session this list shows or should show.
  const live = useIotEvents('sessions', () => true, reload);
  const choose = (next: SessionFilter) => {
    setFilter(next);
    setCursors([]);
  };
  return (
    <section>
      <h1>
        IoT sessions <LiveNote live={live} />
      </h1>
      <p>
        A service device (a charger, a parking meter) serves an iot device (a car, a scooter) in a
        session: at its start a hold takes the most the iot device's mandate allows from the paying
        wallet's account, each bill the service device signs captures its price from the hold, and
        what is left returns to the payer when the session ends or its hold expires.
      </p>
      <div class="toolbar iot-filters" role="group" aria-label="Sessions by status">
        {sessionFilters.map((f) => (
          <button key={f} type="button" aria-pressed={filter === f} onClick={() => choose(f)}>
            {filterText[f]}
          </button>
        ))}
      </div>
      <p class="muted">
        Sessions in the order of their service devices and ids, {sessionsShownMax} a page; the list
        follows the chain while it is open.
      </p>
      <Show result={page} what="the sessions">
        {({ sessions, next, assets }) => (
          <>
            {sessions.length === 0 ? (
              next === null ? (
                <p data-testid="no-sessions">{noSessionsText(filter)}</p>
              ) : (
                <p class="muted" data-testid="no-sessions-here">
                  None on this page: the node reads a bounded number of sessions a page, and the
                  next page reads on.
                </p>
              )
            ) : (
              <ul class="cards" aria-label="IoT sessions">
                {sessions.map((s) => (
                  <SessionItem
                    key={`${s.serviceDevice}/${s.sessionId}`}
                    session={s}
                    asset={assets.get(s.asset)}
                  />
                ))}
              </ul>
            )}
            {(cursors.length > 0 || next !== null) && (
              <nav class="toolbar" aria-label="Pages of sessions">
                <button
                  type="button"
                  disabled={cursors.length === 0}
                  onClick={() => setCursors(cursors.slice(0, -1))}
                >
                  Previous sessions
                </button>
                <span class="muted" aria-live="polite" data-testid="sessions-page">
                  Page {cursors.length + 1}
                </span>
                <button
                  type="button"
                  disabled={next === null}
                  onClick={() => next !== null && setCursors([...cursors, next])}
                >
                  Next sessions
                </button>
              </nav>
            )}
          </>
        )}
      </Show>
    </section>
  );
}

function SessionItem(props: { session: SessionView; asset: AssetDecimals | undefined }) {
  const { session: s, asset } = props;
  const money = (minor: string) => amountText(minor, s.asset, asset);
  return (
    <li class="card" data-session={`${s.serviceDevice}/${s.sessionId}`}>
      <h2>
        <a href={sessionPath(s.serviceDevice, s.sessionId)}>
          Session {s.sessionId} at {s.serviceDevice}
        </a>
      </h2>
      <Fields
        rows={[
          ['Status', <SessionStatusText status={s.status} />],
          ['Service device', <DeviceLink deviceId={s.serviceDevice} />],
          ['IoT device', <DeviceLink deviceId={s.iotDevice} />],
          ['Payer', <HashLink kind="account" value={s.payer} />],
          ['Usage', <span data-testid="session-usage">{usageText(s.usage, s.tariff.unit)}</span>],
          [
            'Captured',
            <span data-testid="session-captured">
              {money(s.captured)} of {money(s.held)} held
            </span>,
          ],
          ['Remaining', <span data-testid="session-remaining">{money(s.remaining)}</span>],
          ['Hold used', <HoldMeter session={s} asset={asset} />],
        ]}
      />
    </li>
  );
}

export const pages: ModulePages = {
  section: { href: '/iot', label: 'IoT' },
  routes: [
    ['/iot', () => <SessionsPage />],
    [
      '/iot/sessions/:serviceDevice/:sessionId',
      (p) => <SessionPage serviceDevice={p.serviceDevice!} sessionId={p.sessionId!} />,
    ],
    ['/iot/devices/:deviceId', (p) => <DevicePage deviceId={p.deviceId!} />],
  ],
};
