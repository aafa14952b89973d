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
import { fields, json } from '../../cli/output.js';
import { report, submitTx } from '../../cli/payments.js';
import { fromHex } from '../../crypto/index.js';
import {
  cardTokensMaxDefault,
  cardTxs,
  deviceAnswerSchema,
  holdBlocksDefault,
  signAuthorisation,
  signMintRequest,
  terminalRequestSchema,
  tokenLifeMsDefault,
  tokenLifeMsMax,
  tokenLifeMsMin,
  type CardRecord,
} from './client.js';

/*
 * `coffer cards ...`: the issuer's side (link a card, add it to a device, mint card tokens), the
 * cardholder's (accept, close, remove a device), the acquirer's (authorise a device's answer) and
 * reads. Capture and void are the ledger's: `coffer hold post HOLD` and `coffer hold void HOLD` by
 * the acquirer. The device itself is `coffer card-device ...`.
 */

const fromOption = { from: { type: 'string' } } as const;
/** A JSON argument or file (`@FILE`) is a small document: anything bigger is not one. */
const jsonInputBytesMax = 64 * 1024;

/** Reads a JSON value given inline or as `@FILE`. */
export function jsonArgument(text: string, what: string): unknown {
  let source = text;
  if (text.startsWith('@')) {
    const file = text.slice(1);
    try {
      if (fs.statSync(file).size > jsonInputBytesMax) throw new Error('too large');
      source = fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw new CliError(
        'invalid_file',
        `cannot read ${what} ${file}: ${(error as Error).message}`,
      );
    }
  }
  try {
    return JSON.parse(source) as unknown;
  } catch {
    throw usageError(`${what} is not JSON (give the JSON itself or @FILE)`);
  }
}

/** A duration: whole minutes (`90m`), hours (`12h`) or days (`30d`), in milliseconds. */
export function parseDuration(text: string, what: string): number {
  const match = /^([0-9]{1,6})(m|h|d)$/.exec(text);
  if (!match)
    throw usageError(`${what} must be a whole number of minutes, hours or days: 90m, 12h, 30d`);
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/**
 * `--token-life`: a duration within the ledger's bounds (a minute to 90 days), checked here as
 * `--lead-time` is in cli-device.ts, so `0d` or `91d` is a bad command line (exit 2), not a tx
 * the node refuses.
 */
function tokenLifeOf(text: string): number {
  const ms = parseDuration(text, '--token-life');
  if (ms < tokenLifeMsMin || ms > tokenLifeMsMax) {
    throw usageError('--token-life must be from 1m to 90d');
  }
  return ms;
}

async function chainIdOf(ctx: CommandContext): Promise<string> {
  return (await ctx.client.health()).chainId;
}

function describeCard(card: CardRecord): string {
  return fields([
    ['card', card.card],
    ['status', card.status],
    [
      'face',
      `${card.face.issuerName} ${card.face.product} •••• ${card.last4}, expires ${card.expiry}`,
    ],
    ['issuer', card.issuer],
    ['account', `${card.account} (${card.asset})`],
    ['vault token', card.token],
    ['tokens per device', card.tokensMax],
    ['token life', `${card.tokenLifeMs / 60_000} min`],
    ['devices', card.devices.join(', ') || 'none'],
  ]);
}

function wholeOption(values: OptionValues, name: string, fallback: number): number {
  const text = stringOption(values, name);
  return text === undefined ? fallback : parseWholeNumber(text, `--${name}`);
}

export const cardsCommands: Command[] = [
  {
    name: 'cards link',
    synopsis:
      'CARD --token TOKEN --account ADDRESS --asset SYMBOL --issuer-name TEXT --product TEXT [--art ID] [--colour #RRGGBB] [--tokens-max N] [--token-life 30d] --from NAME',
    summary:
      "link a card (the issuer): a vault token it issued, the cardholder's account and asset, the card's face",
    options: {
      ...fromOption,
      token: { type: 'string' },
      account: { type: 'string' },
      asset: { type: 'string' },
      'issuer-name': { type: 'string' },
      product: { type: 'string' },
      art: { type: 'string' },
      colour: { type: 'string' },
      'tokens-max': { type: 'string' },
      'token-life': { type: 'string' },
    },
    positionals: { min: 1, max: 1 },
    async run(ctx, [card], values) {
      const lifeText = stringOption(values, 'token-life');
      const tx = cardTxs.link({
        card: card!,
        token: requiredOption(values, 'token'),
        account: ctx.resolveAddress(requiredOption(values, 'account'), '--account'),
        asset: requiredOption(values, 'asset'),
        face: {
          issuerName: requiredOption(values, 'issuer-name'),
          product: requiredOption(values, 'product'),
          art: stringOption(values, 'art') ?? 'default',
          colour: stringOption(values, 'colour') ?? '#1f4e79',
        },
        tokensMax: wholeOption(values, 'tokens-max', cardTokensMaxDefault),
        tokenLifeMs: lifeText === undefined ? tokenLifeMsDefault : tokenLifeOf(lifeText),
      });
      const key = await ctx.unlock(requiredOption(values, 'from'));
      report(ctx, await submitTx(ctx, key, tx, undefined), `card ${card} linked`);
    },
  },
  {
    name: 'cards accept',
    synopsis: 'CARD --from NAME',
    summary:
      "accept a card (the cardholder's account): its payments may now hold the account's funds",
    options: fromOption,
    positionals: { min: 1, max: 1 },
    async run(ctx, [card], values) {
      const key = await ctx.unlock(requiredOption(values, 'from'));
      report(
        ctx,
        await submitTx(ctx, key, cardTxs.accept(card!), undefined),
        `card ${card} accepted`,
      );
    },
  },
  {
    name: 'cards close',
    synopsis: 'CARD --from NAME',
    summary: 'close a card for good (its issuer or its account)',
    options: fromOption,
    positionals: { min: 1, max: 1 },
    async run(ctx, [card], values) {
      const key = await ctx.unlock(requiredOption(values, 'from'));
      report(ctx, await submitTx(ctx, key, cardTxs.close(card!), undefined), `card ${card} closed`);
    },
  },
  {
    name: 'cards add-device',
    synopsis: 'CARD --device-info JSON|@FILE --from NAME',
    summary:
      "provision a card on a device (the issuer), from the device's info (coffer card-device info)",
    options: { ...fromOption, 'device-info': { type: 'string' } },
    positionals: { min: 1, max: 1 },
    async run(ctx, [card], values) {
      const info = jsonArgument(requiredOption(values, 'device-info'), '--device-info') as Record<
        string,
        unknown
      >;
      const { device, boxKey, boxKeySignature } = info;
      if (
        typeof device !== 'string' ||
        typeof boxKey !== 'string' ||
        typeof boxKeySignature !== 'string'
      ) {
        throw usageError(
          '--device-info must be {device, boxKey, boxKeySignature} (coffer card-device info)',
        );
      }
      const key = await ctx.unlock(requiredOption(values, 'from'));
      const tx = cardTxs.addDevice({ card: card!, device, boxKey, boxKeySignature });
      report(
        ctx,
        await submitTx(ctx, key, tx, undefined),
        `card ${card} added to device ${device}`,
      );
    },
  },
  {
    name: 'cards approve-device',
    synopsis: 'CARD DEVICE --from NAME',
    summary:
      "approve a device the issuer added (the cardholder's account): only then can it get card tokens",
    options: fromOption,
    positionals: { min: 2, max: 2 },
    async run(ctx, [card, device], values) {
      const key = await ctx.unlock(requiredOption(values, 'from'));
      const tx = cardTxs.approveDevice(card!, device!);
      report(ctx, await submitTx(ctx, key, tx, undefined), `device ${device} approved for ${card}`);
    },
  },
  {
    name: 'cards remove-device',
    synopsis: 'CARD DEVICE --from NAME',
    summary: 'remove a card from a device (its issuer or its account): its unused tokens die',
    options: fromOption,
    positionals: { min: 2, max: 2 },
    async run(ctx, [card, device], values) {
      const key = await ctx.unlock(requiredOption(values, 'from'));
      const tx = cardTxs.removeDevice(card!, device!);
      report(ctx, await submitTx(ctx, key, tx, undefined), `card ${card} removed from ${device}`);
    },
  },
  {
    name: 'cards show',
    synopsis: 'CARD',
    summary: 'a card: face, status, account, devices',
    positionals: { min: 1, max: 1 },
    async run(ctx, [card]) {
      const record = await ctx.client.cards.get(card!);
      ctx.print(ctx.json ? json(record) : describeCard(record));
    },
  },
  {
    name: 'cards device',
    synopsis: 'CARD DEVICE',
    summary: 'a card on one device: next request number, unused tokens, counts',
    positionals: { min: 2, max: 2 },
    async run(ctx, [card, device]) {
      const link = await ctx.client.cards.device(card!, device!);
      ctx.print(
        ctx.json
          ? json(link)
          : fields([
              ['card', link.card],
              ['device', link.device],
              ['status', link.status],
              ['next request', link.nextRequest],
              ['unused tokens', link.outstanding.length],
              ['minted', link.minted],
              ['used', link.consumed],
            ]),
      );
    },
  },
  {
    name: 'cards token',
    synopsis: 'TOKEN',
    summary: 'a card token as the ledger records it (never its key)',
    positionals: { min: 1, max: 1 },
    async run(ctx, [token]) {
      const record = await ctx.client.cards.token(token!);
      ctx.print(
        ctx.json
          ? json(record)
          : fields([
              ['token', record.token],
              ['card', record.card],
              ['device', record.device],
              ['status', record.status],
              ['expires', new Date(record.expiresAt).toISOString()],
              ['hold', record.consumed?.holdId],
              ['declined', record.consumed?.declined],
            ]),
      );
    },
  },
  {
    name: 'cards mint',
    synopsis: 'CARD DEVICE --count N --from NAME [--out FILE]',
    summary:
      'mint card tokens for a card on a device (the issuer): prints the batch, its keys sealed to the device (coffer card-device import)',
    options: { ...fromOption, count: { type: 'string' }, out: { type: 'string' } },
    positionals: { min: 2, max: 2 },
    async run(ctx, [card, device], values) {
      const count = parseWholeNumber(requiredOption(values, 'count'), '--count');
      const key = await ctx.unlock(requiredOption(values, 'from'));
      const [chainId, link] = await Promise.all([
        chainIdOf(ctx),
        ctx.client.cards.device(card!, device!),
      ]);
      const body = signMintRequest(fromHex(key.secretKey, 'secretKey', 32), chainId, {
        card: card!,
        device: device!,
        n: link.nextRequest,
        count,
        by: 'issuer',
      });
      const batch = await ctx.client.cards.mint(card!, device!, body);
      const out = stringOption(values, 'out');
      if (out !== undefined) {
        // The keys are sealed to the device; the file is the device's all the same.
        fs.writeFileSync(out, json(batch), { mode: 0o600 });
      }
      ctx.print(
        ctx.json || out === undefined
          ? json(batch)
          : `${batch.tokens.length} card tokens minted (request ${batch.n}), written to ${out}\n`,
      );
    },
  },
  {
    name: 'cards authorise',
    synopsis: '--terminal JSON|@FILE --answer JSON|@FILE [--hold-blocks N] --from NAME',
    summary:
      "authorise a payment (an acquirer): the terminal's request and the device's answer; the hold is the acquirer's to capture (coffer hold post) or void",
    options: {
      ...fromOption,
      terminal: { type: 'string' },
      answer: { type: 'string' },
      'hold-blocks': { type: 'string' },
    },
    positionals: { min: 0, max: 0 },
    async run(ctx, _args, values) {
      const terminal = terminalRequestSchema.safeParse(
        jsonArgument(requiredOption(values, 'terminal'), '--terminal'),
      );
      if (!terminal.success) {
        throw usageError('--terminal must be {amount, currency, merchantId, unpredictableNumber}');
      }
      const answer = deviceAnswerSchema.safeParse(
        jsonArgument(requiredOption(values, 'answer'), '--answer'),
      );
      if (!answer.success) {
        throw usageError("--answer must be the device's answer (coffer card-device pay)");
      }
      const key = await ctx.unlock(requiredOption(values, 'from'));
      const body = signAuthorisation(
        key,
        await chainIdOf(ctx),
        terminal.data,
        answer.data,
        wholeOption(values, 'hold-blocks', holdBlocksDefault),
      );
      const result = await ctx.client.cards.authorise(body);
      ctx.print(
        ctx.json
          ? json(result)
          : `approved: hold ${result.holdId}\n` +
              fields([
                ['card', result.card],
                ['amount', `${result.amount} ${result.currency}`],
                ['merchant', result.merchantId],
                ['capture by height', result.expiresAtHeight],
                ['tx', result.txHash],
              ]),
      );
    },
  },
];
