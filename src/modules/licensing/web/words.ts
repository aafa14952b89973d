import { formatUnits } from '../../../sdk/index.js';
import type { AgreementRecord, Constraint, Policy } from '../client.js';

/* What the licensing pages say, apart from the components so it is tested without a browser: a
   policy in words, prices in the asset's units (BigInt, never a float), sizes, the paths of the
   pages, the royalties an account received, and the gateway's address kept by this browser. */

/** Content in a page of the catalogue (the API gives 1 to 100 a page). */
export const contentShownMax = 20;

/** An asset's symbol and decimals, as the ledger's asset record gives them. */
export interface AssetDecimals {
  symbol: string;
  decimals: number;
}

export const contentPath = (contentId: string) => `/licensing/content/${contentId}`;
export const playPath = (agreementId: string) => `/licensing/play/${agreementId}`;
export const dashboardPath = '/licensing/dashboard';

/** An amount of minor units in the asset's units, with its symbol (raw units when unknown). */
export function amountText(
  minor: string,
  symbol: string,
  asset: AssetDecimals | undefined,
): string {
  if (!asset) return `${minor} ${symbol} (minor units)`;
  return `${formatUnits(BigInt(minor), asset.decimals)} ${symbol}`;
}

export function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

export function timeText(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

export function durationText(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 120) return `${minutes} minutes`;
  const hours = Math.floor(minutes / 60);
  if (hours < 72) return `${hours} hours`;
  return `${Math.floor(hours / 24)} days`;
}

export function constraintText(c: Constraint): string {
  switch (c.leftOperand) {
    case 'count':
      return c.rightOperand === 1 ? 'once' : `at most ${c.rightOperand} times`;
    case 'dateTime':
      return `${c.operator === 'gteq' ? 'from' : 'until'} ${timeText(c.rightOperand)}`;
    case 'elapsedTime':
      return `for ${durationText(c.rightOperand)} after purchase`;
    case 'spatial':
      return `in ${c.rightOperand.join(', ')}`;
    case 'deviceCount':
      return c.rightOperand === 1 ? 'on one device' : `on up to ${c.rightOperand} devices`;
  }
}

export const actionText: Record<Policy['permission'][number]['action'], string> = {
  play: 'Play',
  display: 'Display',
  download: 'Download',
  print: 'Print',
  distribute: 'Distribute',
  sublicense: 'Sublicense',
};

/** Each permission in a sentence: "Play at most 3 times, in FR, DE". */
export function permissionLines(policy: Policy): string[] {
  const lines = policy.permission.map((p) =>
    [actionText[p.action], ...(p.constraint ?? []).map(constraintText)].join(' '),
  );
  for (const p of policy.prohibition ?? []) lines.push(`Never ${p.action}`);
  return lines;
}

/** The offer's price (its duty), or undefined when it is free. */
export function priceOf(policy: Policy): { amount: string; asset: string } | undefined {
  const duty = policy.duty?.[0];
  return duty ? { amount: duty.payAmount, asset: duty.unit } : undefined;
}

export function permits(policy: Policy, action: Policy['permission'][number]['action']): boolean {
  return policy.permission.some((p) => p.action === action);
}

/** The uses left of `action` under an agreement's count constraint (null: no count limit). */
export function usesLeft(
  agreement: Pick<AgreementRecord, 'policy' | 'used'>,
  action: Policy['permission'][number]['action'],
): number | null {
  const permission = agreement.policy.permission.find((p) => p.action === action);
  const count = permission?.constraint?.find((c) => c.leftOperand === 'count');
  if (!count) return null;
  return Math.max(0, count.rightOperand - (agreement.used[action] ?? 0));
}

/** An agreement's state in words at `now` (the page's clock, as the gateway's is its own). */
export function agreementStateText(
  agreement: Pick<AgreementRecord, 'status' | 'expiresAt'>,
  now: number,
): string {
  if (agreement.status === 'revoked') return 'Revoked';
  if (agreement.expiresAt !== undefined && now >= agreement.expiresAt) return 'Expired';
  if (agreement.expiresAt !== undefined) return `Active until ${timeText(agreement.expiresAt)}`;
  return 'Active';
}

/**
 * What `account` received from the agreements' payments, per asset, summed in BigInt: the splits
 * paid to it as a holder on the chain of title (role `title`) and as the offerer.
 */
export function royaltiesOf(
  agreements: readonly Pick<AgreementRecord, 'paid'>[],
  account: string,
): { asset: string; title: bigint; offerer: bigint }[] {
  const totals = new Map<string, { title: bigint; offerer: bigint }>();
  for (const a of agreements) {
    if (!a.paid) continue;
    for (const split of a.paid.splits) {
      if (split.to !== account) continue;
      const total = totals.get(a.paid.asset) ?? { title: 0n, offerer: 0n };
      total[split.role] += BigInt(split.amount);
      totals.set(a.paid.asset, total);
    }
  }
  return [...totals.entries()]
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
    .map(([asset, t]) => ({ asset, ...t }));
}

/** Where this browser keeps the gateway's address between visits. */
export const gatewayStorageKey = 'coffer.licensing.gateway';

/** An http(s) origin, without a trailing slash; undefined when `text` is not one. */
export function gatewayOrigin(text: string): string | undefined {
  try {
    const url = new URL(text.trim());
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}
