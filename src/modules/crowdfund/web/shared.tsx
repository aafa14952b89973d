import {
  CofferError,
  formatUnits,
  type Campaign,
  type CampaignStatus,
  type SchedulePoint,
} from '../../../sdk/index.js';
import { useEventsAbout } from '../../../../web/src/live.js';
import { client } from '../../../../web/src/node.js';
import { Time } from '../../../../web/src/ui.js';

/* What the campaign pages share: amounts in the asset's units, schedule points, the status, the
   campaign with what it needs to be shown (its asset's decimals, the chain's height), and a live
   reload when the chain says something about the campaign. */

/** The campaign with its asset's decimals and where the chain was when it was read. */
export interface CampaignView {
  campaign: Campaign;
  decimals: number;
  height: number;
  blockTime: number;
}

/** Decimals per asset symbol: an asset's decimals never change once it is issued. */
const decimalsOf = new Map<string, Promise<number>>();

export function assetDecimals(symbol: string): Promise<number> {
  let known = decimalsOf.get(symbol);
  if (!known) {
    known = client.getAsset(symbol).then((asset) => asset.decimals);
    known.catch(() => decimalsOf.delete(symbol));
    decimalsOf.set(symbol, known);
  }
  return known;
}

export async function loadCampaign(id: string): Promise<CampaignView> {
  const [campaign, health] = await Promise.all([client.campaigns.get(id), client.health()]);
  return {
    campaign,
    decimals: await assetDecimals(campaign.asset),
    height: health.height,
    blockTime: health.blockTime,
  };
}

/** `minor` (a decimal string of minor units) in the asset's units: 12345 with 2 decimals is 123.45. */
export function units(minor: string | bigint, decimals: number): string {
  return formatUnits(typeof minor === 'bigint' ? minor : BigInt(minor), decimals);
}

/** An amount in the asset's units; `data-units` keeps the minor units for tests and tools. */
export function Money(props: { minor: string; decimals: number; asset?: string }) {
  return (
    <span class="money" data-units={props.minor}>
      {units(props.minor, props.decimals)}
      {props.asset ? ` ${props.asset}` : ''}
    </span>
  );
}

/** `part` of `whole` in percent with one decimal, rounded down (0 when `whole` is 0). */
export function percent(part: string | bigint, whole: string | bigint): number {
  const w = BigInt(whole);
  if (w === 0n) return 0;
  return Number((BigInt(part) * 1000n) / w) / 10;
}

/** Basis points as a percentage: 2500 is 25%. */
export const basisPointsText = (bp: number): string => `${bp / 100}%`;

const statusWords: Record<CampaignStatus, string> = {
  funding: 'Funding',
  succeeded: 'Succeeded',
  refunding: 'Refunding',
  failed: 'Failed',
};

export function StatusBadge(props: { status: CampaignStatus }) {
  return (
    <span class={`campaign-status ${props.status}`} data-status={props.status}>
      {statusWords[props.status]}
    </span>
  );
}

/** A schedule point and how far it is from where the chain was. */
export function Point(props: { point: SchedulePoint; height: number; blockTime: number }) {
  const { point } = props;
  if ('height' in point) {
    const left = point.height - props.height;
    return (
      <>
        block {point.height}{' '}
        <span class="muted">
          ({left > 0 ? `in ${left} block${left === 1 ? '' : 's'}` : 'reached'})
        </span>
      </>
    );
  }
  return (
    <>
      <Time ms={point.time} />{' '}
      <span class="muted">({point.time > props.blockTime ? 'ahead' : 'reached'})</span>
    </>
  );
}

/** True when the API answered `code` (a position that does not exist, a campaign without investors). */
export const isCode = (error: unknown, code: string): boolean =>
  error instanceof CofferError && error.code === code;

/**
 * Calls `onChange` when a committed block carries an event about campaign `id` (an investment, the
 * outcome at the deadline, a revenue report); returns whether the event stream is connected.
 */
export function useCampaignEvents(id: string, onChange: () => void): boolean {
  return useEventsAbout(campaignEventTypes, 'campaignId', id, onChange);
}

const campaignEventTypes = ['campaign.'];

export function LiveMark(props: { live: boolean }) {
  return (
    <span class={props.live ? 'live on' : 'live'}>{props.live ? '● live' : '○ connecting'}</span>
  );
}

/** The campaign's two pages. */
export function CampaignTabs(props: { id: string; current: 'overview' | 'waterfall' }) {
  const tabs: [href: string, label: string, key: typeof props.current][] = [
    [`/campaigns/${props.id}`, 'Overview and invest', 'overview'],
    [`/campaigns/${props.id}/waterfall`, 'Revenue and waterfall', 'waterfall'],
  ];
  return (
    <nav aria-label="Campaign" class="campaign-tabs">
      <ul>
        <li>
          <a href="/campaigns">All campaigns</a>
        </li>
        {tabs.map(([href, label, key]) => (
          <li key={key}>
            <a href={href} aria-current={props.current === key ? 'page' : undefined}>
              {label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

export { Scroll } from '../../../../web/src/ui.js';
