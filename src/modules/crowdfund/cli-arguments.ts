import { readJsonFile as readJsonFileOfSize } from '../../cli/files.js';
import { checkAmountSyntax, assetDecimals, toMinorUnits } from '../../cli/amounts.js';
import {
  parseWholeNumber,
  stringOption,
  type CommandContext,
  type OptionValues,
} from '../../cli/context.js';
import { CliError, usageError } from '../../cli/errors.js';
import { json } from '../../cli/output.js';
import { CryptoInputError } from '../../crypto/errors.js';
import {
  basisPointsWhole,
  capPrincipalBasisPointsMax,
  isCampaignId,
  recoupWaterfall,
  reportersMax,
  type Campaign,
  type DistributionRule,
  type SchedulePoint,
} from './schema.js';

/*
 * Off the chain: `Date` here parses the ISO times a user types (the lint's determinism rule
 * is for code the chain runs).
 *
 * The command line's arguments of the campaign commands (cli.ts): campaign ids, basis points,
 * schedule POINTs, cancel windows, the distribution options and files, reporters and amounts in
 * the campaign asset's units. A malformed one is a bad command line (exit 2).
 */

/** A distribution file is a few tranches: 64 KiB is far more than 8 tranches of 8 recipients. */
export const distributionFileBytesMax = 64 * 1024;

export const durationUnitsMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

// ---- arguments -----------------------------------------------------------------------------

export function campaignOf(text: string): string {
  if (!isCampaignId(text)) {
    throw usageError(`CAMPAIGN must be a campaign id: 16 lowercase hex digits, got "${text}"`);
  }
  return text;
}

/** Basis points from `min` to `max` (10000 is 100%). */
export function basisPointsOf(text: string, what: string, min: number, max: number): number {
  const value = parseWholeNumber(text, what);
  if (value < min || value > max) {
    throw usageError(`${what} must be from ${min} to ${max} basis points (100 is 1%), got ${text}`);
  }
  return value;
}

/** `BP:ADDRESS` (a key name is accepted for the address). */
export function shareTo(
  ctx: CommandContext,
  text: string,
  what: string,
  max: number,
): { basisPoints: number; to: string } {
  const at = text.indexOf(':');
  if (at <= 0 || at === text.length - 1) {
    throw usageError(`${what} is BP:ADDRESS (250:distributor is 2.5%), got "${text}"`);
  }
  return {
    basisPoints: basisPointsOf(text.slice(0, at), what, 1, max),
    to: ctx.resolveAddress(text.slice(at + 1), what),
  };
}

export const isoPattern =
  /^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,3})?)?(Z|[+-][0-9]{2}:[0-9]{2}))?$/;

/** Unix ms of an ISO date (UTC midnight) or an ISO time with its zone. */
export function isoTimeOf(text: string, what: string): number {
  const ms = isoPattern.test(text) ? Date.parse(text) : NaN;
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw usageError(
      `${what} must be an ISO date or a time with its zone (2026-03-01 or 2026-03-01T18:00:00Z), got "${text}"`,
    );
  }
  return ms;
}

/** A POINT: `height:N`, `+N` blocks from `currentHeight()`, or an ISO date or time. */
export async function pointOf(
  text: string,
  what: string,
  currentHeight: () => Promise<number>,
): Promise<SchedulePoint> {
  let match: RegExpExecArray | null;
  if ((match = /^height:(.*)$/.exec(text))) {
    const height = parseWholeNumber(match[1]!, what);
    if (height < 1) throw usageError(`${what}: a height is from 1`);
    return { height };
  }
  if ((match = /^\+(.*)$/.exec(text))) {
    const blocks = parseWholeNumber(match[1]!, what);
    if (blocks < 1) throw usageError(`${what}: +N is at least one block ahead`);
    return { height: (await currentHeight()) + blocks };
  }
  if (/^[0-9]{4}-/.test(text)) return { time: isoTimeOf(text, what) };
  throw usageError(
    `${what} is height:N, +N (blocks from now) or an ISO date or time (2026-03-01T18:00:00Z), got "${text}"`,
  );
}

/**
 * `--cancel-window`: blocks (`N`) before a height deadline, or a duration (`48h`, `2d`, `30m`,
 * `90s`, `500ms`) before a time deadline; the module counts it in the deadline's unit.
 */
export function cancelWindowOf(text: string, deadline: SchedulePoint): number {
  const match = /^([0-9]{1,15})(ms|s|m|h|d)?$/.exec(text);
  if (!match) {
    throw usageError(
      `--cancel-window is N blocks (height deadline) or a duration such as 48h or 2d (time deadline), got "${text}"`,
    );
  }
  const unit = match[2] as keyof typeof durationUnitsMs | undefined;
  const count = Number(match[1]);
  if ('height' in deadline) {
    if (unit !== undefined) {
      throw usageError(
        '--cancel-window before a height deadline is a number of blocks, such as 10',
      );
    }
    return count;
  }
  if (unit === undefined) {
    throw usageError('--cancel-window before a time deadline is a duration, such as 48h or 2d');
  }
  const ms = count * durationUnitsMs[unit];
  if (!Number.isSafeInteger(ms)) throw usageError('--cancel-window is too long');
  return ms;
}

/** Reads and parses a small JSON file; every failure is `invalid_file` naming the file. */
export function readJsonFile(file: string, what: string): unknown {
  return readJsonFileOfSize(file, what, distributionFileBytesMax);
}

/** The waterfall options, shared by create and amend. */
export const distributionOptions = {
  distribution: { type: 'string' },
  'investor-share': { type: 'string' },
  'distribution-fee': { type: 'string' },
  premium: { type: 'string' },
  recoup: { type: 'string' },
} as const;

export const distributionSynopsis =
  '(--distribution FILE.json | --investor-share BP [--distribution-fee BP:ADDRESS] [--premium BP] [--recoup BP])';

/**
 * The distribution rule: a JSON file (`{"tranches": [...]}`, sent as written: the node checks
 * it), or the preset of `recoupWaterfall`. Undefined when no option names one.
 */
export function distributionOf(
  ctx: CommandContext,
  values: OptionValues,
): DistributionRule | undefined {
  const file = stringOption(values, 'distribution');
  const share = stringOption(values, 'investor-share');
  const fee = stringOption(values, 'distribution-fee');
  const premium = stringOption(values, 'premium');
  const recoup = stringOption(values, 'recoup');
  const presetGiven = [share, fee, premium, recoup].some((v) => v !== undefined);
  if (file !== undefined) {
    if (presetGiven) {
      throw usageError(
        'give --distribution FILE or the preset options (--investor-share, --distribution-fee, --premium, --recoup), not both',
      );
    }
    const rule = readJsonFile(file, 'distribution file');
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
      throw new CliError('invalid_file', `distribution file ${file} is not {"tranches": [...]}`);
    }
    return rule as DistributionRule;
  }
  if (!presetGiven) return undefined;
  if (share === undefined) {
    throw usageError(
      "--investor-share BP is required with the preset: the investors' share of the rest (the producer takes the remainder)",
    );
  }
  try {
    return recoupWaterfall({
      investorsShareBasisPoints: basisPointsOf(share, '--investor-share', 0, basisPointsWhole),
      distributionFee:
        fee === undefined
          ? undefined
          : shareTo(ctx, fee, '--distribution-fee', basisPointsWhole - 1),
      premiumBasisPoints:
        premium === undefined
          ? undefined
          : basisPointsOf(premium, '--premium', 0, capPrincipalBasisPointsMax),
      recoupBasisPoints:
        recoup === undefined
          ? undefined
          : basisPointsOf(recoup, '--recoup', 1, capPrincipalBasisPointsMax),
    });
  } catch (error) {
    if (error instanceof CryptoInputError) throw usageError(error.message);
    throw error;
  }
}

/** `--reporter` is repeatable; parseArgs gives a list (see `reporterOption`). */
export function reportersOf(ctx: CommandContext, values: OptionValues): string[] | undefined {
  const raw = values.reporter;
  const listed = Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : [];
  if (listed.length === 0) return undefined;
  if (listed.length > reportersMax) {
    throw usageError(`at most ${reportersMax} --reporter accounts`);
  }
  return listed.map((entry) => {
    if (entry === '') throw usageError('--reporter is empty');
    return ctx.resolveAddress(entry, '--reporter');
  });
}

/** `--reporter`, repeatable. */
export const reporterOption = { type: 'string', multiple: true } as const;

/** Prints a campaign read: as the node's JSON with --json, else described in the asset's units. */
export async function printInAssetUnits<T extends { asset: string }>(
  ctx: CommandContext,
  answer: Promise<T>,
  describe: (value: T, decimals: number) => string,
): Promise<void> {
  const value = await answer;
  if (ctx.json) {
    ctx.print(json(value));
    return;
  }
  ctx.print(describe(value, await assetDecimals(ctx.client, value.asset)));
}

/** Amounts in the asset's units; checks syntax first so a typo fails without a round trip. */
export function minorOf(text: string, decimals: number, symbol: string): string {
  checkAmountSyntax(text);
  return toMinorUnits(text, decimals, symbol);
}

/** The campaign and its asset's decimals: what every amount in and out is converted with. */
export async function campaignWithDecimals(
  ctx: CommandContext,
  id: string,
): Promise<{ campaign: Campaign; decimals: number }> {
  const campaign = await ctx.client.campaigns.get(id);
  return { campaign, decimals: await assetDecimals(ctx.client, campaign.asset) };
}

export function currentHeightOf(ctx: CommandContext): () => Promise<number> {
  let height: number | undefined;
  return async () => (height ??= (await ctx.client.health()).height);
}
