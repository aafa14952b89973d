import {
  pageLimitOption,
  parseWholeNumber,
  requiredOption,
  stringOption,
  type Command,
  type CommandContext,
  type OptionValues,
} from '../../cli/context.js';
import { usageError } from '../../cli/errors.js';
import { fields, json, table } from '../../cli/output.js';
import { report, submitTx } from '../../cli/payments.js';
import { CofferError } from '../../sdk/index.js';
import {
  conversionTxBuilders,
  ecosystemKinds,
  conversionStatuses,
  type ConversionStatus,
  type EcosystemKind,
  type EngineConfiguration,
  type EngineRecord,
  type PairSide,
} from './client.js';

/*
 * `coffer conversion ...`: an engine's operator publishes its configuration (each command sends
 * one tx signed by --from, which acts on that key's own engine) and anyone reads it. Amounts are
 * minor units of the asset (the engine's configuration is read by programs, not typed by hand
 * often); a pair's side is ECOSYSTEM:ASSET.
 */

const fromOption = { from: { type: 'string' } } as const;
const statusOption = { status: { type: 'string' } } as const;

/** Defaults of a new engine (an existing one keeps what it has for anything not given). */
const engineDefaults = { quoteTtlSeconds: 30, hopsMax: 2, slippageBpsMax: 100 };

function statusOf(values: OptionValues): ConversionStatus {
  const text = stringOption(values, 'status') ?? 'active';
  if (!(conversionStatuses as readonly string[]).includes(text)) {
    throw usageError('--status must be active or paused');
  }
  return text as ConversionStatus;
}

function wholeOption(values: OptionValues, name: string): number | undefined {
  const text = stringOption(values, name);
  return text === undefined ? undefined : parseWholeNumber(text, `--${name}`);
}

function requiredWhole(values: OptionValues, name: string): number {
  return parseWholeNumber(requiredOption(values, name), `--${name}`);
}

/** `ECOSYSTEM:ASSET`, a side of a pair. */
export function parsePairSide(text: string, what: string): PairSide {
  const match = /^([^:]+):([^:]+)$/.exec(text);
  if (!match) throw usageError(`${what} must be ECOSYSTEM:ASSET (base:USDC), got "${text}"`);
  return { ecosystem: match[1]!, asset: match[2]! };
}

const sideText = (side: PairSide) => `${side.ecosystem}:${side.asset}`;

/** The engine of `address`, or undefined when it has none. */
async function engineOf(ctx: CommandContext, address: string): Promise<EngineRecord | undefined> {
  try {
    return (await ctx.client.conversion.engine(address)).engine;
  } catch (error) {
    if (error instanceof CofferError && error.code === 'engine_not_found') return undefined;
    throw error;
  }
}

async function send(
  ctx: CommandContext,
  values: OptionValues,
  tx: { type: string; payload: Record<string, unknown> },
  title: string,
): Promise<void> {
  const key = await ctx.unlock(requiredOption(values, 'from'));
  report(ctx, await submitTx(ctx, key, tx, undefined), title);
}

export function describeConfiguration(configuration: EngineConfiguration): string {
  const { engine, ecosystems, assets, pairs } = configuration;
  const head = fields([
    ['engine', engine.address],
    ['name', engine.name],
    ['status', engine.status],
    ['quote ttl', `${engine.quoteTtlSeconds} s`],
    ['hops', `at most ${engine.hopsMax}`],
    ['slippage', `at most ${engine.slippageBpsMax} bps`],
    ['updated at height', engine.updatedAtHeight],
  ]);
  const ecosystemTable = table(
    ['ecosystem', 'kind', 'network', 'engine address', 'block ms', 'status'],
    ecosystems.map((e) => [
      e.ecosystem,
      e.kind,
      e.network,
      e.engineAddress,
      e.blockMsMin === undefined ? '' : `${e.blockMsMin}..${e.blockMsMax}`,
      e.status,
    ]),
  );
  const assetTable = table(
    ['asset', 'decimals', 'currency', 'liquidity low', 'liquidity high', 'pairs'],
    assets.map((a) => [
      `${a.ecosystem}:${a.asset}`,
      String(a.decimals),
      a.currency,
      a.liquidityLow,
      a.liquidityHigh,
      String(a.pairCount),
    ]),
    [1, 3, 4, 5],
  );
  const pairTable = table(
    ['from', 'to', 'spread bps', 'fee bps', 'fee fixed', 'min', 'max', 'status'],
    pairs.map((p) => [
      sideText(p.from),
      sideText(p.to),
      String(p.spreadBps),
      String(p.feeBps),
      p.feeFixed,
      p.min,
      p.max,
      p.status,
    ]),
    [2, 3, 4, 5, 6],
  );
  return `${head}\n${ecosystemTable}\n${assetTable}\n${pairTable}`;
}

export const conversionCommands: Command[] = [
  {
    name: 'conversion engine-set',
    synopsis:
      '--name TEXT [--quote-ttl SECONDS] [--hops-max N] [--slippage-bps-max BPS] [--status active|paused] --from NAME',
    summary:
      "create or update the sender's conversion engine (its id is the sender's address); an existing engine keeps what is not given",
    options: {
      ...fromOption,
      ...statusOption,
      name: { type: 'string' },
      'quote-ttl': { type: 'string' },
      'hops-max': { type: 'string' },
      'slippage-bps-max': { type: 'string' },
    },
    positionals: { min: 0, max: 0 },
    async run(ctx, _positionals, values) {
      const from = requiredOption(values, 'from');
      const existing = await engineOf(ctx, ctx.resolveAddress(from, '--from'));
      const base = existing ?? engineDefaults;
      const name = stringOption(values, 'name') ?? existing?.name;
      if (name === undefined) throw usageError('--name is required for a new engine');
      const tx = conversionTxBuilders.engineSet({
        name,
        quoteTtlSeconds: wholeOption(values, 'quote-ttl') ?? base.quoteTtlSeconds,
        hopsMax: wholeOption(values, 'hops-max') ?? base.hopsMax,
        slippageBpsMax: wholeOption(values, 'slippage-bps-max') ?? base.slippageBpsMax,
        status:
          stringOption(values, 'status') === undefined && existing
            ? existing.status
            : statusOf(values),
      });
      await send(ctx, values, tx, existing ? 'engine updated' : 'engine created');
    },
  },
  {
    name: 'conversion ecosystem-set',
    synopsis:
      'ECOSYSTEM --kind coffer|evm|http --network NETWORK --engine-address ADDRESS|NAME [--block-ms-min MS --block-ms-max MS] [--status active|paused] --from NAME',
    summary:
      "add or update an ecosystem of the sender's engine (coffer: a chain id and its block interval bounds; evm: a chain id; http: a provider)",
    options: {
      ...fromOption,
      ...statusOption,
      kind: { type: 'string' },
      network: { type: 'string' },
      'engine-address': { type: 'string' },
      'block-ms-min': { type: 'string' },
      'block-ms-max': { type: 'string' },
    },
    positionals: { min: 1, max: 1 },
    async run(ctx, [ecosystem], values) {
      const kind = requiredOption(values, 'kind');
      if (!(ecosystemKinds as readonly string[]).includes(kind)) {
        throw usageError('--kind must be coffer, evm or http');
      }
      const blockMsMin = wholeOption(values, 'block-ms-min');
      const blockMsMax = wholeOption(values, 'block-ms-max');
      const tx = conversionTxBuilders.ecosystemSet({
        ecosystem: ecosystem!,
        kind: kind as EcosystemKind,
        network: requiredOption(values, 'network'),
        // On a Coffer chain a key name stands for its address, as everywhere in coffer.
        engineAddress:
          kind === 'coffer'
            ? ctx.resolveAddress(requiredOption(values, 'engine-address'), '--engine-address')
            : requiredOption(values, 'engine-address'),
        ...(blockMsMin === undefined ? {} : { blockMsMin }),
        ...(blockMsMax === undefined ? {} : { blockMsMax }),
        status: statusOf(values),
      });
      await send(ctx, values, tx, `ecosystem ${ecosystem} set`);
    },
  },
  {
    name: 'conversion ecosystem-remove',
    synopsis: 'ECOSYSTEM --from NAME',
    summary: "remove an ecosystem of the sender's engine that holds no asset",
    options: fromOption,
    positionals: { min: 1, max: 1 },
    async run(ctx, [ecosystem], values) {
      const tx = conversionTxBuilders.ecosystemRemove(ecosystem!);
      await send(ctx, values, tx, `ecosystem ${ecosystem} removed`);
    },
  },
  {
    name: 'conversion asset-set',
    synopsis:
      'ECOSYSTEM ASSET --decimals N --currency CUR --liquidity-low MINOR --liquidity-high MINOR --from NAME',
    summary:
      "add or update an asset on an ecosystem of the sender's engine: decimals, the currency it is worth, the liquidity band (minor units)",
    options: {
      ...fromOption,
      decimals: { type: 'string' },
      currency: { type: 'string' },
      'liquidity-low': { type: 'string' },
      'liquidity-high': { type: 'string' },
    },
    positionals: { min: 2, max: 2 },
    async run(ctx, [ecosystem, asset], values) {
      const tx = conversionTxBuilders.assetSet({
        ecosystem: ecosystem!,
        asset: asset!,
        decimals: requiredWhole(values, 'decimals'),
        currency: requiredOption(values, 'currency'),
        liquidityLow: requiredOption(values, 'liquidity-low'),
        liquidityHigh: requiredOption(values, 'liquidity-high'),
      });
      await send(ctx, values, tx, `asset ${ecosystem}:${asset} set`);
    },
  },
  {
    name: 'conversion asset-remove',
    synopsis: 'ECOSYSTEM ASSET --from NAME',
    summary: "remove an asset of the sender's engine that no pair uses",
    options: fromOption,
    positionals: { min: 2, max: 2 },
    async run(ctx, [ecosystem, asset], values) {
      const tx = conversionTxBuilders.assetRemove(ecosystem!, asset!);
      await send(ctx, values, tx, `asset ${ecosystem}:${asset} removed`);
    },
  },
  {
    name: 'conversion pair-set',
    synopsis:
      'FROM TO --spread-bps BPS --fee-bps BPS --fee-fixed MINOR --min MINOR --max MINOR [--status active|paused] --from NAME',
    summary:
      "add or update a pair of the sender's engine, FROM and TO as ECOSYSTEM:ASSET; fee-fixed in the output asset's minor units, min and max in the input's",
    options: {
      ...fromOption,
      ...statusOption,
      'spread-bps': { type: 'string' },
      'fee-bps': { type: 'string' },
      'fee-fixed': { type: 'string' },
      min: { type: 'string' },
      max: { type: 'string' },
    },
    positionals: { min: 2, max: 2 },
    async run(ctx, [fromText, toText], values) {
      const from = parsePairSide(fromText!, 'FROM');
      const to = parsePairSide(toText!, 'TO');
      const tx = conversionTxBuilders.pairSet({
        from,
        to,
        spreadBps: requiredWhole(values, 'spread-bps'),
        feeBps: requiredWhole(values, 'fee-bps'),
        feeFixed: requiredOption(values, 'fee-fixed'),
        min: requiredOption(values, 'min'),
        max: requiredOption(values, 'max'),
        status: statusOf(values),
      });
      await send(ctx, values, tx, `pair ${fromText} -> ${toText} set`);
    },
  },
  {
    name: 'conversion pair-remove',
    synopsis: 'FROM TO --from NAME',
    summary: "remove a pair of the sender's engine (FROM and TO as ECOSYSTEM:ASSET)",
    options: fromOption,
    positionals: { min: 2, max: 2 },
    async run(ctx, [fromText, toText], values) {
      const tx = conversionTxBuilders.pairRemove(
        parsePairSide(fromText!, 'FROM'),
        parsePairSide(toText!, 'TO'),
      );
      await send(ctx, values, tx, `pair ${fromText} -> ${toText} removed`);
    },
  },
  {
    name: 'conversion show',
    synopsis: 'ENGINE',
    summary: "an engine's whole configuration (ENGINE: its operator's address or key name)",
    positionals: { min: 1, max: 1 },
    async run(ctx, [engine]) {
      const configuration = await ctx.client.conversion.engine(
        ctx.resolveAddress(engine!, 'ENGINE'),
      );
      ctx.print(ctx.json ? json(configuration) : describeConfiguration(configuration));
    },
  },
  {
    name: 'conversion list',
    synopsis: '[--after ADDRESS] [--limit N]',
    summary: 'conversion engines in address order; --after continues from the last one shown',
    options: { after: { type: 'string' }, limit: { type: 'string' } },
    positionals: { min: 0, max: 0 },
    async run(ctx, _positionals, values) {
      const after = stringOption(values, 'after');
      const limit = pageLimitOption(values);
      const page = await ctx.client.conversion.engines({
        ...(after === undefined ? {} : { after: ctx.resolveAddress(after, '--after') }),
        ...(limit === undefined ? {} : { limit }),
      });
      if (ctx.json) {
        ctx.print(json(page));
        return;
      }
      const more = page.next === null ? '' : `more: coffer conversion list --after ${page.next}\n`;
      if (page.engines.length === 0) {
        ctx.print(`no conversion engines\n${more}`);
        return;
      }
      ctx.print(
        table(
          ['engine', 'name', 'status', 'ecosystems', 'pairs'],
          page.engines.map((e) => [
            e.address,
            e.name,
            e.status,
            String(e.ecosystemCount),
            String(e.pairCount),
          ]),
          [3, 4],
        ) + more,
      );
    },
  },
];
