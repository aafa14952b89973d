import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import {
  parseWholeNumber,
  requiredOption,
  stringOption,
  type Command,
  type CommandContext,
  type OptionValues,
} from '../../cli/context.js';
import { CliError, usageError } from '../../cli/errors.js';
import { fields, json, table } from '../../cli/output.js';
import { submitTx } from '../../cli/payments.js';
import { sha256Hex } from '../../crypto/index.js';
import { formatUnits, parseUnits } from '../../ledger/amount.js';
import { txs } from '../../sdk/tx.js';

/*
 * `coffer bridge ...`: the conversion engine. `start` runs it (a service, with its own HTTP API);
 * `quote`, `send`, `status`, `liquidity` and `reconcile` talk to a running one at --bridge (or
 * COFFER_BRIDGE_URL). `send` pays a quote from a Coffer chain (the --node): a hash-locked hold for
 * the engine under a fresh secret (kept in a file, never printed), or a plain hold when the
 * destination is a payment provider; the recipient releases the destination lock with
 * `coffer hold release LOCK --preimage $(cat FILE)` on the destination chain.
 */

const bridgeOption = { bridge: { type: 'string' } } as const;
const bridgeUrlDefault = 'http://127.0.0.1:8790';
/** How long `--wait` waits for a forward's state. */
const waitMsMax = 10 * 60_000;

interface BridgeQuote {
  id: string;
  engine: string;
  from: { ecosystem: string; asset: string; amount: string; decimals: number };
  to: { ecosystem: string; asset: string; amount: string; decimals: number };
  rate: string;
  mode: 'htlc' | 'hold' | 'deposit';
  payTo: string;
  sourceExpiryAtLeast?: number;
  expiresAt: number;
  route: {
    from: { ecosystem: string; asset: string };
    to: { ecosystem: string; asset: string };
    fee: string;
  }[];
}

interface BridgeForward {
  id: string;
  state: string;
  mode: string;
  from: { ecosystem: string; asset: string; amount: string; decimals: number };
  to: { ecosystem: string; asset: string; amount: string; decimals: number };
  recipient: string;
  source: Record<string, unknown>;
  destination: Record<string, unknown>;
  error?: { code: string; message: string };
  history: { state: string; at: number; note?: string }[];
}

function bridgeUrl(ctx: CommandContext, values: OptionValues): string {
  const url = stringOption(values, 'bridge') ?? ctx.env.bridgeUrl ?? bridgeUrlDefault;
  if (!/^https?:\/\/[^\s]{1,200}$/.test(url)) throw usageError('--bridge must be an http(s) URL');
  return url.replace(/\/+$/, '');
}

/** A request to the bridge: its JSON, or a CliError with the bridge's code and message. */
async function bridgeRequest<T>(
  base: string,
  method: string,
  route: string,
  body?: unknown,
  token?: string,
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${base}${route}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new CliError(
      'bridge_unreachable',
      `cannot reach the bridge at ${base}: ${(error as Error).message}`,
    );
  }
  const text = await response.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CliError('invalid_response', `the bridge answered ${response.status} without JSON`);
  }
  if (!response.ok) {
    const error = (value as { error?: { code?: string; message?: string } }).error;
    throw new CliError(
      error?.code ?? 'http_error',
      error?.message ?? `the bridge answered ${response.status}`,
    );
  }
  return value as T;
}

/** `ECOSYSTEM:ASSET[:AMOUNT]` (the amount in units, as 12.50). */
function parseSide(
  text: string,
  what: string,
): { ecosystem: string; asset: string; amount?: string } {
  const match =
    /^([a-z0-9][a-z0-9-]{1,31}):([A-Za-z0-9]{2,12})(?::([0-9]{1,30}(?:\.[0-9]{1,18})?))?$/.exec(
      text,
    );
  if (!match)
    throw usageError(`${what} is ECOSYSTEM:ASSET or ECOSYSTEM:ASSET:AMOUNT (chain-a:USD:12.50)`);
  return {
    ecosystem: match[1]!,
    asset: match[2]!,
    ...(match[3] === undefined ? {} : { amount: match[3] }),
  };
}

/** Decimals of an asset in the engine's registry (on the home chain, the --node). */
async function decimalsOf(
  ctx: CommandContext,
  engine: string,
  side: { ecosystem: string; asset: string },
): Promise<number> {
  const configuration = await ctx.client.conversion.engine(engine);
  const asset = configuration.assets.find(
    (a) => a.ecosystem === side.ecosystem && a.asset === side.asset,
  );
  if (!asset)
    throw new CliError(
      'asset_not_registered',
      `engine ${engine} has no asset ${side.ecosystem}:${side.asset}`,
    );
  return asset.decimals;
}

function shown(side: {
  amount: string;
  decimals: number;
  asset: string;
  ecosystem: string;
}): string {
  return `${formatUnits(BigInt(side.amount), side.decimals)} ${side.asset} on ${side.ecosystem}`;
}

function printForward(ctx: CommandContext, forward: BridgeForward): void {
  if (ctx.json) return ctx.print(json(forward));
  ctx.print(
    fields([
      ['forward', forward.id],
      ['state', forward.state],
      ['from', shown({ ...forward.from })],
      ['to', `${shown({ ...forward.to })} for ${forward.recipient}`],
      ['source lock', forward.source.lockId as string | undefined],
      ['destination lock', forward.destination.lockId as string | undefined],
      ['error', forward.error ? `${forward.error.code}: ${forward.error.message}` : undefined],
    ]),
  );
}

async function waitForState(
  base: string,
  id: string,
  states: string[],
  ms: number,
): Promise<BridgeForward> {
  const end = Date.now() + ms;
  for (;;) {
    const forward = await bridgeRequest<BridgeForward>(
      base,
      'GET',
      `/v1/conversion/forwards/${id}`,
    );
    if (states.includes(forward.state)) return forward;
    if (Date.now() > end)
      throw new CliError('wait_timeout', `forward ${id} is still ${forward.state}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export const bridgeCommands: Command[] = [
  {
    name: 'bridge start',
    synopsis: '--config FILE',
    summary: 'run the conversion engine (its HTTP API, its worker) until stopped',
    options: { config: { type: 'string' } },
    positionals: { min: 0, max: 0 },
    usesNode: false,
    async run(ctx, _positionals, values) {
      const { loadBridgeConfig, startBridge } = await import('./engine/bridge.js');
      const config = loadBridgeConfig(requiredOption(values, 'config'));
      const crash = ctx.env.bridgeCrashAfter;
      const bridge = await startBridge(config, crash ? { crashAfter: crash as never } : {});
      if (bridge.open) {
        ctx.warn(
          'no operatorTokenFile: the forward list, reconciliation, events and liquidity are open to anyone who reaches the port',
        );
      }
      ctx.print(`bridge ${bridge.engine.address} listening on ${bridge.url}`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await bridge.close();
    },
  },
  {
    name: 'bridge quote',
    synopsis: '--from ECO:ASSET[:AMOUNT] --to ECO:ASSET[:AMOUNT] [--slippage-bps N] [--bridge URL]',
    summary: 'ask the engine for a quote (give the amount on exactly one side, in units)',
    options: {
      ...bridgeOption,
      from: { type: 'string' },
      to: { type: 'string' },
      'slippage-bps': { type: 'string' },
    },
    positionals: { min: 0, max: 0 },
    async run(ctx, _positionals, values) {
      const base = bridgeUrl(ctx, values);
      const from = parseSide(requiredOption(values, 'from'), '--from');
      const to = parseSide(requiredOption(values, 'to'), '--to');
      if ((from.amount === undefined) === (to.amount === undefined)) {
        throw usageError(
          'give the amount on exactly one side: --from chain-a:USD:10 or --to evm:USDC:10',
        );
      }
      const { engine } = await bridgeRequest<{ engine: string }>(base, 'GET', '/health');
      const minor = async (side: { ecosystem: string; asset: string; amount?: string }) => {
        if (side.amount === undefined) return { ecosystem: side.ecosystem, asset: side.asset };
        const decimals = await decimalsOf(ctx, engine, side);
        const amount = parseUnits(side.amount, decimals);
        if (amount === undefined || amount <= 0n)
          throw usageError(
            `${side.amount} is not an amount of ${side.asset} (${decimals} decimals)`,
          );
        return { ecosystem: side.ecosystem, asset: side.asset, amount: amount.toString() };
      };
      const slippage = stringOption(values, 'slippage-bps');
      const quote = await bridgeRequest<BridgeQuote>(base, 'POST', '/v1/conversion/quotes', {
        from: await minor(from),
        to: await minor(to),
        ...(slippage === undefined
          ? {}
          : { slippageBps: parseWholeNumber(slippage, '--slippage-bps') }),
      });
      if (ctx.json) return ctx.print(json(quote));
      ctx.print(
        fields([
          ['quote', quote.id],
          ['pay', shown(quote.from)],
          ['receive', shown(quote.to)],
          ['rate', quote.rate],
          [
            'route',
            quote.route
              .map((h) => `${h.from.ecosystem}:${h.from.asset}`)
              .concat(`${quote.to.ecosystem}:${quote.to.asset}`)
              .join(' -> '),
          ],
          ['mode', quote.mode],
          ['pay to', quote.payTo],
          [
            'lock until',
            quote.sourceExpiryAtLeast === undefined
              ? undefined
              : `at least ${quote.sourceExpiryAtLeast}`,
          ],
          ['expires', new Date(quote.expiresAt).toISOString()],
        ]),
      );
    },
  },
  {
    name: 'bridge send',
    synopsis:
      'QUOTE_ID --from NAME --recipient ACCOUNT [--secret-file FILE] [--wait] [--bridge URL]',
    summary: 'pay a quote from the Coffer chain at --node and ask the engine to forward it',
    options: {
      ...bridgeOption,
      from: { type: 'string' },
      recipient: { type: 'string' },
      'secret-file': { type: 'string' },
      wait: { type: 'boolean' },
    },
    positionals: { min: 1, max: 1 },
    async run(ctx, [quoteId], values) {
      const base = bridgeUrl(ctx, values);
      if (!/^[0-9a-f]{32}$/.test(quoteId!))
        throw usageError('QUOTE_ID is the 32 hex digits `bridge quote` gave');
      const quote = await bridgeRequest<BridgeQuote>(
        base,
        'GET',
        `/v1/conversion/quotes/${quoteId}`,
      );
      if (quote.mode === 'deposit') {
        throw new CliError(
          'deposit_quote',
          `pay this quote at the provider, with reference "${quote.id} RECIPIENT"`,
        );
      }
      // The hold goes on the chain the registry names for the source, never on another.
      const configuration = await ctx.client.conversion.engine(quote.engine).catch(() => undefined);
      const { chainId } = await ctx.client.health();
      const network = configuration?.ecosystems.find(
        (e) => e.ecosystem === quote.from.ecosystem,
      )?.network;
      if (network !== chainId) {
        throw new CliError(
          'wrong_chain',
          `the quote pays on ${quote.from.ecosystem} (chain ${network ?? '?'}), but --node is chain ${chainId}`,
        );
      }
      const recipient = requiredOption(values, 'recipient');
      const key = await ctx.unlock(requiredOption(values, 'from'));
      let condition: string | undefined;
      let secretFile: string | undefined;
      if (quote.mode === 'htlc') {
        const preimage = randomBytes(32).toString('hex');
        condition = sha256Hex(Buffer.from(preimage, 'hex'));
        secretFile = stringOption(values, 'secret-file') ?? `forward-${quote.id}.secret`;
        // Written before anything is locked, readable by its owner only: without it the
        // recipient cannot release, and the hold comes back only at its expiry.
        fs.writeFileSync(secretFile, `${preimage}\n`, { mode: 0o600, flag: 'wx' });
      }
      const hold = await submitTx(
        ctx,
        key,
        txs.createHold({
          to: quote.payTo,
          asset: quote.from.asset,
          amount: quote.from.amount,
          expiresAtHeight: quote.sourceExpiryAtLeast!,
          ...(condition === undefined ? {} : { condition }),
        }),
        undefined,
      );
      let forward = await bridgeRequest<BridgeForward>(base, 'POST', '/v1/conversion/forwards', {
        quoteId: quote.id,
        lockId: hold.outcome.hash,
        recipient,
      });
      if (values.wait === true) {
        forward = await waitForState(
          base,
          forward.id,
          ['locked', 'paying', 'completed', 'refunding', 'refunded'],
          waitMsMax,
        );
      }
      printForward(ctx, forward);
      if (!ctx.json && secretFile !== undefined) {
        ctx.print(`secret in ${secretFile}: the recipient releases with`);
        ctx.print(
          `  coffer hold release ${(forward.destination.lockId as string | undefined) ?? 'DESTINATION_LOCK'} --preimage $(cat ${secretFile}) --from RECIPIENT --node DESTINATION_NODE`,
        );
      }
    },
  },
  {
    name: 'bridge status',
    synopsis: 'FORWARD_ID [--wait STATE[,STATE]] [--bridge URL]',
    summary: "a forward's state, legs and history",
    options: { ...bridgeOption, wait: { type: 'string' } },
    positionals: { min: 1, max: 1 },
    async run(ctx, [id], values) {
      const base = bridgeUrl(ctx, values);
      if (!/^[0-9a-f]{32}$/.test(id!)) throw usageError('FORWARD_ID is 32 hex digits');
      const wait = stringOption(values, 'wait');
      const forward = wait
        ? await waitForState(base, id!, wait.split(','), waitMsMax)
        : await bridgeRequest<BridgeForward>(base, 'GET', `/v1/conversion/forwards/${id}`);
      printForward(ctx, forward);
      if (!ctx.json) {
        ctx.print(
          table(
            ['state', 'at', 'note'],
            forward.history.map((h) => [h.state, new Date(h.at).toISOString(), h.note ?? '']),
          ),
        );
      }
    },
  },
  {
    name: 'bridge liquidity',
    synopsis: '[--bridge URL]',
    summary:
      "the engine's balance of each asset against its low and high marks, with rebalancing advice",
    options: bridgeOption,
    positionals: { min: 0, max: 0 },
    async run(ctx, _positionals, values) {
      const report = await bridgeRequest<{
        assets: {
          ecosystem: string;
          asset: string;
          decimals: number;
          balance: string;
          promised: string;
          low: string;
          high: string;
          status: string;
        }[];
        suggestions: {
          from: { ecosystem: string; asset: string };
          to: { ecosystem: string; asset: string };
          amount: string;
        }[];
      }>(bridgeUrl(ctx, values), 'GET', '/v1/conversion/liquidity', undefined, ctx.env.bridgeToken);
      if (ctx.json) return ctx.print(json(report));
      const units = (amount: string, decimals: number) => formatUnits(BigInt(amount), decimals);
      ctx.print(
        table(
          ['ecosystem', 'asset', 'balance', 'promised', 'low', 'high', 'status'],
          report.assets.map((a) => [
            a.ecosystem,
            a.asset,
            units(a.balance, a.decimals),
            units(a.promised, a.decimals),
            units(a.low, a.decimals),
            units(a.high, a.decimals),
            a.status,
          ]),
          [2, 3, 4, 5],
        ),
      );
      for (const s of report.suggestions) {
        ctx.print(
          `move ${s.amount} (minor units) from ${s.from.ecosystem}:${s.from.asset} to ${s.to.ecosystem}:${s.to.asset}`,
        );
      }
    },
  },
  {
    name: 'bridge reconcile',
    synopsis: '[--bridge URL]',
    summary: 'every forward tied to both ledgers, and what came in and went out per asset',
    options: bridgeOption,
    positionals: { min: 0, max: 0 },
    async run(ctx, _positionals, values) {
      const report = await bridgeRequest<{
        forwards: { id: string; state: string; tied: boolean }[];
        totals: { ecosystem: string; asset: string; in: string; out: string }[];
        counts: Record<string, number>;
      }>(
        bridgeUrl(ctx, values),
        'GET',
        '/v1/conversion/reconciliation',
        undefined,
        ctx.env.bridgeToken,
      );
      if (ctx.json) return ctx.print(json(report));
      ctx.print(
        table(
          ['ecosystem', 'asset', 'in', 'out'],
          report.totals.map((t) => [t.ecosystem, t.asset, t.in, t.out]),
          [2, 3],
        ),
      );
      ctx.print(
        Object.entries(report.counts)
          .map(([state, n]) => `${state}: ${n}`)
          .join(', ') || 'no forwards',
      );
      const untied = report.forwards.filter((f) => !f.tied);
      if (untied.length > 0)
        throw new CliError(
          'reconciliation_failed',
          `${untied.length} forwards are not tied to both ledgers: ${untied.map((f) => f.id).join(', ')}`,
        );
    },
  },
];
