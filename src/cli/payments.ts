import {
  CofferError,
  formatUnits,
  hashTx,
  signTx,
  txs,
  type SigningKey,
  type TxLookup,
  type UnsignedTx,
} from '../sdk/index.js';
import { assetDecimals, checkAmountSyntax, toMinorUnits } from './amounts.js';
import {
  parseHex,
  parseWholeNumber,
  requiredOption,
  stringOption,
  type Command,
  type CommandContext,
  type OptionValues,
} from './context.js';
import { CliError, usageError } from './errors.js';
import { fields, json } from './output.js';

/** What a tx command prints with `--json`; `height` is null when the tx never reached a block. */
export interface TxOutcome {
  hash: string;
  status: string;
  height: number | null;
}

const decimalsMax = 18;
export const txOptions = {
  from: { type: 'string' },
  memo: { type: 'string' },
} as const;

/**
 * Signs `tx` with the chain id from /health and the sender's next nonce, submits it and waits for
 * the commit. A tx that committed but failed (HTTP 422) and one refused before any block (4xx)
 * both come back as an outcome whose status is the node's code, so the caller prints one shape.
 */
export async function submitTx(
  ctx: CommandContext,
  key: SigningKey,
  tx: { type: string; payload: Record<string, unknown> },
  memo: string | undefined,
): Promise<{ outcome: TxOutcome; reason?: string }> {
  const [{ chainId }, { nonce }] = await Promise.all([
    ctx.client.health(),
    ctx.client.getAccount(key.address),
  ]);
  const unsigned: UnsignedTx = {
    chainId,
    type: tx.type,
    sender: key.address,
    nonce,
    payload: tx.payload,
    ...(memo === undefined ? {} : { memo }),
  };
  const hash = hashTx(unsigned);
  try {
    const result = await ctx.client.submit(signTx(unsigned, key), { wait: 'commit' });
    return { outcome: { hash: result.hash, status: result.status, height: result.height ?? null } };
  } catch (error) {
    if (!(error instanceof CofferError)) throw error;
    // The POST may have reached the node, so the tx may still commit: name it.
    if (error.code === 'network_error') {
      throw new CliError(error.code, `${error.message} (tx ${hash})`);
    }
    const outcome: TxOutcome = error.committed
      ? { hash: error.hash ?? hash, status: error.txStatus ?? error.code, height: error.height! }
      : { hash: error.hash ?? hash, status: error.code, height: null };
    const reason =
      error.code === 'commit_timeout'
        ? `${error.message} Check it later with coffer tx show ${outcome.hash}.`
        : error.message;
    return { outcome, reason };
  }
}

/**
 * Prints the outcome; a failed tx becomes the error main prints, with its code as the reason.
 * `jsonExtra` adds fields to the `--json` line of a tx that succeeded (a producer id).
 */
export function report(
  ctx: CommandContext,
  result: { outcome: TxOutcome; reason?: string },
  title: string,
  extra: [string, string][] = [],
  jsonExtra: Record<string, unknown> = {},
): void {
  const { outcome } = result;
  if (ctx.json) ctx.print(json(outcome.status === 'ok' ? { ...outcome, ...jsonExtra } : outcome));
  if (outcome.status !== 'ok') {
    const where =
      outcome.height !== null
        ? `included at height ${outcome.height}; its nonce is spent`
        : outcome.status === 'commit_timeout'
          ? 'accepted, not yet in a block'
          : 'not included in any block';
    throw new CliError(
      outcome.status,
      `${result.reason ?? outcome.status} (tx ${outcome.hash}, ${where})`,
    );
  }
  if (!ctx.json) {
    ctx.print(
      `${title}\n` +
        fields([
          ...extra,
          ['tx', outcome.hash],
          ['status', outcome.status],
          ['height', outcome.height ?? undefined],
        ]),
    );
  }
}

export async function amountOf(
  ctx: CommandContext,
  amount: string,
  symbol: string,
): Promise<{ minor: string; shown: string }> {
  // The syntax is checked before asking the node, so a typo fails without a round trip.
  checkAmountSyntax(amount);
  const decimals = await assetDecimals(ctx.client, symbol);
  const minor = toMinorUnits(amount, decimals, symbol);
  return { minor, shown: `${formatUnits(BigInt(minor), decimals)} ${symbol}` };
}

/**
 * Refuses a payment to the payer itself before anything is unlocked, signed or sent, with the
 * ledger's own code for it: the payer is the key `fromName`, the payee `to` (given as `what`).
 */
export function assertNotPayer(
  ctx: CommandContext,
  fromName: string,
  to: string,
  what = '--to',
): void {
  if (ctx.keystore.get(fromName).address !== to) return;
  throw new CliError(
    'accounts_must_be_different',
    `${what} is ${to}, the address of --from ${fromName} itself: the payer and the payee must ` +
      'be different accounts',
  );
}

export function memoOf(values: OptionValues): string | undefined {
  return stringOption(values, 'memo');
}

export const paymentCommands: Command[] = [
  {
    name: 'asset create',
    synopsis: 'SYMBOL --decimals N [--max-supply X] --from NAME',
    summary: 'create an asset; NAME becomes its issuer (max supply in the asset units)',
    options: { ...txOptions, decimals: { type: 'string' }, 'max-supply': { type: 'string' } },
    positionals: { min: 1, max: 1 },
    async run(ctx, [symbol], values) {
      const decimals = parseWholeNumber(requiredOption(values, 'decimals'), '--decimals');
      if (decimals > decimalsMax) throw usageError(`--decimals must be from 0 to ${decimalsMax}`);
      const maxSupplyText = stringOption(values, 'max-supply');
      const maxSupply =
        maxSupplyText === undefined ? undefined : toMinorUnits(maxSupplyText, decimals, symbol!);
      const key = await ctx.unlock(requiredOption(values, 'from'));
      const result = await submitTx(
        ctx,
        key,
        txs.createAsset({
          symbol: symbol!,
          decimals,
          ...(maxSupply === undefined ? {} : { maxSupply }),
        }),
        memoOf(values),
      );
      report(ctx, result, `created asset ${symbol!} with ${decimals} decimals`, [
        ['issuer', key.address],
      ]);
    },
  },
  amountToCommand(
    'mint',
    'issue new units of an asset NAME issues',
    'minted',
    (to, symbol, amount) => txs.mint({ symbol, to, amount }),
  ),
  amountToCommand('send', 'transfer an amount', 'sent', (to, asset, amount) =>
    txs.transfer({ to, asset, amount }),
  ),
  {
    name: 'hold create',
    synopsis:
      'AMOUNT SYMBOL --to ADDRESS --from NAME (--expires-at-height H | --expires-in-blocks N) ' +
      '[--arbiter ADDRESS] [--condition SHA256HEX]',
    summary: 'put an amount on hold for a payee; the hold id is the tx hash',
    options: {
      ...txOptions,
      to: { type: 'string' },
      'expires-at-height': { type: 'string' },
      'expires-in-blocks': { type: 'string' },
      arbiter: { type: 'string' },
      condition: { type: 'string' },
    },
    positionals: { min: 2, max: 2 },
    async run(ctx, [amount, symbol], values) {
      const to = ctx.resolveAddress(requiredOption(values, 'to'), '--to');
      const from = requiredOption(values, 'from');
      assertNotPayer(ctx, from, to);
      const atHeight = stringOption(values, 'expires-at-height');
      const inBlocks = stringOption(values, 'expires-in-blocks');
      if ((atHeight === undefined) === (inBlocks === undefined)) {
        throw usageError('give one of --expires-at-height H and --expires-in-blocks N');
      }
      const blocksAhead =
        inBlocks === undefined ? undefined : parseWholeNumber(inBlocks, '--expires-in-blocks');
      const fixedHeight =
        atHeight === undefined ? undefined : parseWholeNumber(atHeight, '--expires-at-height');
      const arbiterText = stringOption(values, 'arbiter');
      const arbiter =
        arbiterText === undefined ? undefined : ctx.resolveAddress(arbiterText, '--arbiter');
      const conditionText = stringOption(values, 'condition');
      const condition =
        conditionText === undefined ? undefined : parseHex(conditionText, '--condition', 32);
      const { minor, shown } = await amountOf(ctx, amount!, symbol!);
      const expiresAtHeight = fixedHeight ?? (await ctx.client.health()).height + blocksAhead!;
      const key = await ctx.unlock(from);
      const result = await submitTx(
        ctx,
        key,
        txs.createHold({
          to,
          asset: symbol!,
          amount: minor,
          expiresAtHeight,
          ...(arbiter === undefined ? {} : { arbiter }),
          ...(condition === undefined ? {} : { condition }),
        }),
        memoOf(values),
      );
      report(ctx, result, `held ${shown} for ${to}`, [
        ['hold id', result.outcome.hash],
        ['expires', `at height ${expiresAtHeight}`],
      ]);
    },
  },
  {
    name: 'hold post',
    synopsis: 'HOLD_ID [AMOUNT SYMBOL] --from NAME',
    summary: 'capture a hold (all of it, or AMOUNT; the rest returns to the payer)',
    options: txOptions,
    positionals: { min: 1, max: 3 },
    async run(ctx, [holdIdText, amount, symbol], values) {
      const holdId = parseHex(holdIdText!, 'HOLD_ID', 32);
      if (amount !== undefined && symbol === undefined) {
        throw usageError('an amount needs its SYMBOL: coffer hold post HOLD_ID AMOUNT SYMBOL');
      }
      const from = requiredOption(values, 'from');
      let minor: string | undefined;
      let shown = 'all';
      if (amount !== undefined) {
        await assertHoldAsset(ctx, holdId, symbol!);
        ({ minor, shown } = await amountOf(ctx, amount, symbol!));
      }
      const key = await ctx.unlock(from);
      const result = await submitTx(
        ctx,
        key,
        txs.postHold({ holdId, ...(minor === undefined ? {} : { amount: minor }) }),
        memoOf(values),
      );
      report(ctx, result, `posted ${shown} of hold ${holdId}`);
    },
  },
  {
    name: 'hold void',
    synopsis: 'HOLD_ID --from NAME',
    summary: 'decline a hold; it returns to the payer',
    options: txOptions,
    positionals: { min: 1, max: 1 },
    async run(ctx, [holdIdText], values) {
      const holdId = parseHex(holdIdText!, 'HOLD_ID', 32);
      const key = await ctx.unlock(requiredOption(values, 'from'));
      const result = await submitTx(ctx, key, txs.voidHold({ holdId }), memoOf(values));
      report(ctx, result, `voided hold ${holdId}`);
    },
  },
  {
    name: 'hold release',
    synopsis: 'HOLD_ID --preimage HEX --from NAME',
    summary: 'release a hash-locked hold to its payee with the preimage',
    options: { ...txOptions, preimage: { type: 'string' } },
    positionals: { min: 1, max: 1 },
    async run(ctx, [holdIdText], values) {
      const holdId = parseHex(holdIdText!, 'HOLD_ID', 32);
      const preimage = parseHex(requiredOption(values, 'preimage'), '--preimage', 256, true);
      const key = await ctx.unlock(requiredOption(values, 'from'));
      const result = await submitTx(
        ctx,
        key,
        txs.releaseHold({ holdId, preimage }),
        memoOf(values),
      );
      report(ctx, result, `released hold ${holdId}`);
    },
  },
];

/**
 * A partial post scales AMOUNT with SYMBOL's decimals, so a SYMBOL other than the hold's asset
 * would post a wrong amount: check it against the tx that created the hold.
 */
/** `NAME AMOUNT SYMBOL --to ADDRESS --from NAME`: mint and send differ only in the tx they build. */
function amountToCommand(
  name: string,
  summary: string,
  verb: string,
  build: (
    to: string,
    symbol: string,
    amount: string,
  ) => { type: string; payload: Record<string, unknown> },
): Command {
  return {
    name,
    synopsis: 'AMOUNT SYMBOL --to ADDRESS --from NAME',
    summary,
    options: { ...txOptions, to: { type: 'string' } },
    positionals: { min: 2, max: 2 },
    async run(ctx, [amount, symbol], values) {
      const to = ctx.resolveAddress(requiredOption(values, 'to'), '--to');
      const from = requiredOption(values, 'from');
      // An issuer may mint to itself; a transfer needs two accounts.
      if (name === 'send') assertNotPayer(ctx, from, to);
      const { minor, shown } = await amountOf(ctx, amount!, symbol!);
      const key = await ctx.unlock(from);
      const result = await submitTx(ctx, key, build(to, symbol!, minor), memoOf(values));
      report(ctx, result, `${verb} ${shown} to ${to}`);
    },
  };
}

async function assertHoldAsset(ctx: CommandContext, holdId: string, symbol: string): Promise<void> {
  let created: TxLookup;
  try {
    created = await ctx.client.getTx(holdId);
  } catch (error) {
    if (error instanceof CofferError && error.code === 'tx_not_found') {
      throw new CliError('hold_not_found', `no tx ${holdId} created a hold`);
    }
    throw error;
  }
  if (created.tx?.type !== 'hold.create') {
    throw new CliError('hold_not_found', `tx ${holdId} is not a hold.create`);
  }
  const asset = created.tx.payload?.asset;
  if (asset !== symbol) {
    throw new CliError('asset_mismatch', `hold ${holdId} holds ${String(asset)}, not ${symbol}`);
  }
}
