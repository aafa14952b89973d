import './iot.css';

import { client } from '../../../../web/src/node.js';
import type { DeviceRecord, SessionStatus, SessionView } from '../client.js';
import {
  devicePath,
  meterText,
  sessionStatusText,
  usedPercent,
  deviceStatusText,
  type AssetDecimals,
} from './words.js';

/* The iot pages' shared pieces: the assets' decimals, statuses, device links, the hold's meter. */

/**
 * The decimals of the assets a page shows, from the ledger's asset records (an asset's decimals
 * never change, so each symbol is read once per page load; a failed read is not kept).
 */
const assetRecords = new Map<string, Promise<AssetDecimals>>();

export async function assetsOf(symbols: string[]): Promise<Map<string, AssetDecimals>> {
  const unique = [...new Set(symbols)];
  const records = await Promise.all(
    unique.map((symbol) => {
      let record = assetRecords.get(symbol);
      if (!record) {
        record = client.getAsset(symbol).then((a) => ({ symbol: a.symbol, decimals: a.decimals }));
        record.catch(() => assetRecords.delete(symbol));
        assetRecords.set(symbol, record);
      }
      return record;
    }),
  );
  return new Map(records.map((a) => [a.symbol, a]));
}

/** Whether the page follows the chain's iot events. */
export function LiveNote(props: { live: boolean; closed?: boolean }) {
  if (props.closed) return <span class="live">○ closed</span>;
  return (
    <span class={props.live ? 'live on' : 'live'}>{props.live ? '● live' : '○ connecting'}</span>
  );
}

/** A session's status in words, coloured by a class (the CSP allows no inline style). */
export function SessionStatusText(props: { status: SessionStatus }) {
  return (
    <span class={`iot-status ${props.status}`} data-status={props.status}>
      {sessionStatusText[props.status]}
    </span>
  );
}

export function DeviceStatusText(props: { status: DeviceRecord['status'] }) {
  return (
    <span class={`iot-status ${props.status}`} data-status={props.status}>
      {deviceStatusText[props.status]}
    </span>
  );
}

export function DeviceLink(props: { deviceId: string }) {
  return (
    <a href={devicePath(props.deviceId)} class="mono">
      {props.deviceId}
    </a>
  );
}

/** How much of the hold the bills captured: a meter, and the same in words. */
export function HoldMeter(props: { session: SessionView; asset: AssetDecimals | undefined }) {
  const { session } = props;
  const words = meterText(session, props.asset);
  return (
    <span class="iot-meter">
      <meter
        min={0}
        max={100}
        value={usedPercent(session.captured, session.held)}
        aria-label={`Hold used: ${words}`}
      />
      <span class="muted" data-testid="session-meter">
        {words}
      </span>
    </span>
  );
}
