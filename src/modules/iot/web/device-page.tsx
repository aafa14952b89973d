import { client } from '../../../../web/src/node.js';
import { Fields, HashLink, Show, useLoad } from '../../../../web/src/ui.js';
import type { DeviceView, LinkRecord, TariffRecord } from '../client.js';
import { useIotEvents } from './live.js';
import { DeviceLink, DeviceStatusText, LiveNote, assetsOf } from './shared.js';
import {
  deviceNotFoundText,
  fingerprintText,
  mandateText,
  roleText,
  tariffText,
  usageText,
  validityText,
  type AssetDecimals,
} from './words.js';

/* One device (`GET /v1/iot/devices/{deviceId}`): its certificate record as enrolled (role, owner,
   CA, fingerprint, validity, status, the revocation), and what ties it to payments: an iot
   device's link to the wallet paying under a mandate, a service device's tariff. Followed live by
   the iot events that name it. */

interface DevicePageView {
  view: DeviceView;
  asset: AssetDecimals | undefined;
}

async function loadDevice(deviceId: string): Promise<DevicePageView> {
  const view = await client.iot.device(deviceId);
  const symbol = view.link?.asset ?? view.tariff?.asset;
  const assets = symbol === undefined ? new Map<string, AssetDecimals>() : await assetsOf([symbol]);
  return { view, asset: symbol === undefined ? undefined : assets.get(symbol) };
}

/** The fields of an iot event that name a device. */
const deviceFields = ['deviceId', 'iotDevice', 'serviceDevice', 'wallet'];

export function DevicePage(props: { deviceId: string }) {
  const { deviceId } = props;
  const [view, reload] = useLoad(() => loadDevice(deviceId), [deviceId]);
  const live = useIotEvents(
    `device ${deviceId}`,
    (data) => deviceFields.some((field) => data[field] === deviceId),
    reload,
  );
  return (
    <section>
      <h1>
        Device {deviceId} <LiveNote live={live} />
      </h1>
      <p>
        <a href="/iot">All sessions</a>
      </p>
      {view.state === 'error' && view.code === 'iot_device_not_found' ? (
        <div class="error break" role="alert" data-testid="device-not-found">
          {deviceNotFoundText(deviceId)}
        </div>
      ) : (
        <Show result={view} what="the device">
          {(v) => <DeviceBody view={v} />}
        </Show>
      )}
    </section>
  );
}

function DeviceBody(props: { view: DevicePageView }) {
  const { view, asset } = props.view;
  const { device: d } = view;
  return (
    <>
      <section aria-labelledby="certificate-title">
        <h2 id="certificate-title">Certificate</h2>
        <Fields
          rows={[
            ['Role', <span data-testid="device-role">{roleText[d.role]}</span>],
            ['Status', <DeviceStatusText status={d.status} />],
            ['Owner', <HashLink kind="account" value={d.owner} />],
            [
              'CA',
              <span data-testid="device-ca">
                <span class="mono" title={d.ca}>
                  {fingerprintText(d.ca).slice(0, 19)}…
                </span>{' '}
                ({view.caStatus === 'active' ? 'active' : 'revoked: its devices are refused'})
              </span>,
            ],
            ['Subject', <span class="break">{d.subject}</span>],
            [
              'Fingerprint',
              <span class="mono break" data-testid="device-fingerprint">
                {fingerprintText(d.fingerprint)}
              </span>,
            ],
            ['Key', d.keyType],
            ['Valid', <span data-testid="device-validity">{validityText(d)}</span>],
            [
              'Enrolled',
              <span>
                in block <HashLink kind="block" value={d.enrolledAtHeight} /> by{' '}
                <HashLink kind="tx" value={d.enrolTx} />
                {d.renewals > 0 && `, renewed ${d.renewals} ${d.renewals === 1 ? 'time' : 'times'}`}
              </span>,
            ],
            [
              'Revocation',
              d.revoked ? (
                <span data-testid="device-revocation">
                  “{d.revoked.reason}” by <HashLink kind="account" value={d.revoked.by} /> in block{' '}
                  <HashLink kind="block" value={d.revoked.height} /> by{' '}
                  <HashLink kind="tx" value={d.revoked.tx} />
                </span>
              ) : (
                <span data-testid="device-revocation">None</span>
              ),
            ],
          ]}
        />
      </section>
      {d.role === 'iot-device' && <Link link={view.link} asset={asset} />}
      {d.role === 'service-device' && <Tariff tariff={view.tariff} asset={asset} />}
      {d.role === 'wallet' && (
        <p class="muted" data-testid="device-wallet">
          A wallet pays for the iot devices its owner links to it; each link's mandate is on the iot
          device's page.
        </p>
      )}
    </>
  );
}

function Link(props: { link: LinkRecord | undefined; asset: AssetDecimals | undefined }) {
  const { link, asset } = props;
  return (
    <section aria-labelledby="link-title">
      <h2 id="link-title">Link and mandate</h2>
      {link === undefined ? (
        <p data-testid="no-link">
          Not linked to a wallet: the device starts no session until its owner links it with
          iot.link.
        </p>
      ) : (
        <Fields
          rows={[
            ['Wallet', <DeviceLink deviceId={link.wallet} />],
            ['Payer', <HashLink kind="account" value={link.payer} />],
            ['Asset', link.asset],
            [
              'Mandate',
              <span data-testid="device-mandate">
                {mandateText(link.mandate, link.asset, asset)}
              </span>,
            ],
            [
              'Merchants',
              <ul class="plain" aria-label="Service devices the mandate allows">
                {link.mandate.merchants.map((m) => (
                  <li key={m}>
                    <DeviceLink deviceId={m} />
                  </li>
                ))}
              </ul>,
            ],
            [
              'Linked',
              <span>
                in block <HashLink kind="block" value={link.linkedAtHeight} /> by{' '}
                <HashLink kind="tx" value={link.linkTx} />
              </span>,
            ],
          ]}
        />
      )}
    </section>
  );
}

function Tariff(props: { tariff: TariffRecord | undefined; asset: AssetDecimals | undefined }) {
  const { tariff, asset } = props;
  return (
    <section aria-labelledby="tariff-title">
      <h2 id="tariff-title">Tariff</h2>
      {tariff === undefined ? (
        <p data-testid="no-tariff">
          No tariff: the device starts no session until its owner prices its unit with
          iot.setTariff.
        </p>
      ) : (
        <Fields
          rows={[
            [
              'Price',
              <span data-testid="device-tariff">{tariffText(tariff, tariff.asset, asset)}</span>,
            ],
            ['Meter sanity', `at most ${usageText(tariff.maxRatePerHour, tariff.unit)} an hour`],
            ['Provider', <HashLink kind="account" value={tariff.provider} />],
            ['Set in block', <HashLink kind="block" value={tariff.setAtHeight} />],
          ]}
        />
      )}
    </section>
  );
}
