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
import { createClient, type CofferClient } from '../../sdk/index.js';
import {
  activate,
  addCard,
  deviceInfo,
  elementStatus,
  initElement,
  listCards,
  pay,
  selectCard,
  type CardSummary,
} from './device.js';
import { jsonArgument, parseDuration } from './cli.js';
import { leadTimeMsDefault, tokenThresholdDefault } from './device-forecast.js';
import { element, importVerified, replenishCard } from './device-replenish.js';
import { cardTokensMaxLimit, mintResultSchema, type TerminalRequest } from './schema.js';

/*
 * `coffer card-device ...`: the payment device of issue 18 as a command line over its element
 * (device.ts). The PIN comes from `--pin-file FILE` (its first line) or COFFER_CARD_PIN, never
 * from an argument, which shell history and the process list would keep. No output or message
 * holds the PIN, a key or a token's key.
 */

/** What the commands need besides the context: the clock, the PIN variable, a client per URL. */
export interface CardDeviceDeps {
  now(): number;
  /** COFFER_CARD_PIN. */
  pinFromEnv(): string | undefined;
  /** The client of the node URL stored in the element, used when no --node is given. */
  clientFor(nodeUrl: string): CofferClient;
  /** scrypt's cost for `init` (2^15 by default; tests use 2^10). */
  scryptLogN?: number;
}

/** A PIN file holds a PIN and a newline; anything bigger is not one. */
const pinFileBytesMax = 64;
/** A batch file holds at most 100 tokens of a few hundred bytes each. */
const batchFileBytesMax = 256 * 1024;
/** The longest lead time a forecast looks ahead. */
const leadTimeMsMax = 366 * 86_400_000;

function readSmallFile(file: string, bytesMax: number, what: string): string {
  try {
    if (fs.statSync(file).size > bytesMax) throw new Error(`larger than ${bytesMax} bytes`);
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError('invalid_file', `cannot read ${what} ${file}: ${(error as Error).message}`);
  }
}

/** A PIN file others may read is refused, as the vault key file is (docs/architecture.md). */
function readPinFile(file: string): string {
  let mode: number;
  try {
    mode = fs.statSync(file).mode;
  } catch (error) {
    throw new CliError(
      'invalid_file',
      `cannot read --pin-file ${file}: ${(error as Error).message}`,
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new CliError(
      'invalid_file',
      `--pin-file ${file} is open to its group or others: chmod 600 ${file}`,
    );
  }
  return readSmallFile(file, pinFileBytesMax, '--pin-file').split(/\r?\n/)[0] ?? '';
}

function pinOf(values: OptionValues, deps: CardDeviceDeps): string {
  const file = stringOption(values, 'pin-file');
  const pin = file !== undefined ? readPinFile(file) : deps.pinFromEnv();
  if (pin === undefined || pin === '') {
    throw new CliError(
      'pin_required',
      'no PIN: pass --pin-file FILE (the PIN on its first line) or set COFFER_CARD_PIN',
    );
  }
  // The message never quotes what was read.
  if (!/^[0-9]{4,12}$/.test(pin)) throw new CliError('invalid_pin', 'a PIN is 4 to 12 digits');
  return pin;
}

/** The client: --node when given, else the element's stored node URL, else the default. */
function clientOf(
  ctx: CommandContext,
  values: OptionValues,
  deps: CardDeviceDeps,
  stored: string | undefined,
): CofferClient {
  return values.node === undefined && stored !== undefined ? deps.clientFor(stored) : ctx.client;
}

function leadTimeOf(values: OptionValues): number {
  const text = stringOption(values, 'lead-time');
  if (text === undefined) return leadTimeMsDefault;
  const ms = parseDuration(text, '--lead-time');
  if (ms === 0 || ms > leadTimeMsMax) {
    throw usageError('--lead-time must be a duration such as 2d, 12h or 90m (at most 366d)');
  }
  return ms;
}

function describeCard(card: CardSummary): string {
  return fields([
    ['card', card.card],
    ['issuer', card.issuerName],
    ['product', card.product],
    ['number', `•••• ${card.last4}`],
    ['expires', card.expiry],
    ['asset', card.asset],
    ['status', card.status],
    ['tokens', card.tokens],
  ]);
}

function iso(ms: number): string {
  // A date for a person to read, at the user's (see `cardDeviceCommands` on the rule).
  return new Date(ms).toISOString();
}

const elementOptions = {
  element: { type: 'string' },
  'pin-file': { type: 'string' },
} as const;
const elementSynopsis = '--element FILE [--pin-file FILE]';

export function createCardDeviceCommands(deps: CardDeviceDeps): Command[] {
  const fileOf = (values: OptionValues) => requiredOption(values, 'element');

  return [
    {
      name: 'card-device init',
      synopsis: `${elementSynopsis} [--chain-id ID]`,
      summary:
        "create a device's element: fresh device and box keys sealed under the PIN (the chain id from the node's /health unless given)",
      options: { ...elementOptions, 'chain-id': { type: 'string' } },
      positionals: { min: 0, max: 0 },
      async run(ctx, _positionals, values) {
        const file = fileOf(values);
        const pin = pinOf(values, deps);
        const chainId = stringOption(values, 'chain-id') ?? (await ctx.client.health()).chainId;
        const nodeUrl = typeof values.node === 'string' ? ctx.nodeUrl : undefined;
        const info = element(() =>
          initElement(file, pin, chainId, {
            ...(deps.scryptLogN !== undefined && { scryptLogN: deps.scryptLogN }),
            ...(nodeUrl !== undefined && { nodeUrl }),
          }),
        );
        ctx.print(
          ctx.json
            ? json({ element: file, device: info.device, chainId })
            : `element ${file}\ndevice ${info.device}\n` +
                'give coffer card-device info to the issuer to provision cards on it\n',
        );
      },
    },
    {
      name: 'card-device info',
      synopsis: elementSynopsis,
      summary:
        "print the device id, box key and box-key signature (JSON) the issuer's coffer cards add-device takes",
      options: elementOptions,
      positionals: { min: 0, max: 0 },
      usesNode: false,
      run(ctx, _positionals, values) {
        const info = element(() => deviceInfo(fileOf(values), pinOf(values, deps)));
        ctx.print(
          json({
            device: info.device,
            boxKey: info.boxKey,
            boxKeySignature: info.boxKeySignature,
            chainId: info.chainId,
          }),
        );
        return Promise.resolve();
      },
    },
    {
      name: 'card-device add-card',
      synopsis: `CARD ${elementSynopsis}`,
      summary: 'add a card the issuer provisioned on this device (read from the node)',
      options: elementOptions,
      positionals: { min: 1, max: 1 },
      async run(ctx, [card], values) {
        const file = fileOf(values);
        const pin = pinOf(values, deps);
        const info = element(() => deviceInfo(file, pin));
        const record = await clientOf(ctx, values, deps, info.nodeUrl).cards.get(card!);
        if (!record.devices.includes(info.device)) {
          throw new CliError(
            'device_not_on_card',
            `card ${card} is not provisioned on device ${info.device}: the issuer adds it with ` +
              'coffer cards add-device and the output of coffer card-device info',
          );
        }
        const summary = element(() => addCard(file, pin, card!, record, deps.now()));
        ctx.print(ctx.json ? json(summary) : describeCard(summary));
      },
    },
    {
      name: 'card-device cards',
      synopsis: elementSynopsis,
      summary: "list the element's cards with their unconsumed, unexpired tokens",
      options: elementOptions,
      positionals: { min: 0, max: 0 },
      usesNode: false,
      run(ctx, _positionals, values) {
        const cards = element(() => listCards(fileOf(values), pinOf(values, deps), deps.now()));
        ctx.print(
          ctx.json
            ? json(cards)
            : cards.length === 0
              ? 'no cards (coffer card-device add-card CARD)\n'
              : table(
                  ['', 'CARD', 'PRODUCT', 'NUMBER', 'EXPIRES', 'ASSET', 'TOKENS'],
                  cards.map((c) => [
                    c.selected ? '*' : '',
                    c.card,
                    c.product,
                    `•••• ${c.last4}`,
                    c.expiry,
                    c.asset,
                    String(c.tokens),
                  ]),
                  [6],
                ),
        );
        return Promise.resolve();
      },
    },
    {
      name: 'card-device select',
      synopsis: `CARD ${elementSynopsis}`,
      summary: 'select the card the next payment uses, and show its display',
      options: elementOptions,
      positionals: { min: 1, max: 1 },
      usesNode: false,
      run(ctx, [card], values) {
        const shown = element(() =>
          selectCard(fileOf(values), pinOf(values, deps), card!, deps.now()),
        );
        ctx.print(ctx.json ? json(shown) : describeCard(shown));
        return Promise.resolve();
      },
    },
    {
      name: 'card-device activate',
      synopsis: elementSynopsis,
      summary: "activate the selected card's earliest-expiring token for the next payment",
      options: elementOptions,
      positionals: { min: 0, max: 0 },
      usesNode: false,
      run(ctx, _positionals, values) {
        const active = element(() => activate(fileOf(values), pinOf(values, deps), deps.now()));
        ctx.print(
          ctx.json
            ? json(active)
            : `card ${active.card}: token ${active.token} ready for the next payment ` +
                `(expires ${iso(active.expiresAt)})\n`,
        );
        return Promise.resolve();
      },
    },
    {
      name: 'card-device pay',
      synopsis: `--request JSON|@FILE ${elementSynopsis}`,
      summary:
        "answer a terminal's request {amount, currency, merchantId, unpredictableNumber} with the selected card: prints the device's answer (JSON) with its cryptogram",
      options: { ...elementOptions, request: { type: 'string' } },
      positionals: { min: 0, max: 0 },
      usesNode: false,
      run(ctx, _positionals, values) {
        const request = jsonArgument(requiredOption(values, 'request'), '--request');
        const answer = element(() =>
          pay(fileOf(values), pinOf(values, deps), request as TerminalRequest, deps.now()),
        );
        ctx.print(json(answer));
        return Promise.resolve();
      },
    },
    {
      name: 'card-device replenish',
      synopsis: `[--card CARD] [--force] [--count N] [--threshold N] [--lead-time 2d] ${elementSynopsis}`,
      summary:
        'ask the node for card tokens (the selected card by default, else the only one): as many as the forecast of payments over the lead time needs, or --count N, or --force up to the issuer limit',
      options: {
        ...elementOptions,
        card: { type: 'string' },
        force: { type: 'boolean' },
        count: { type: 'string' },
        threshold: { type: 'string' },
        'lead-time': { type: 'string' },
      },
      positionals: { min: 0, max: 0 },
      async run(ctx, _positionals, values) {
        const file = fileOf(values);
        const pin = pinOf(values, deps);
        const countText = stringOption(values, 'count');
        if (countText !== undefined && values.force === true) {
          throw usageError('--count and --force cannot be given together');
        }
        const threshold = parseWholeNumber(
          stringOption(values, 'threshold') ?? String(tokenThresholdDefault),
          '--threshold',
        );
        if (threshold > cardTokensMaxLimit) {
          throw usageError(`--threshold must be at most ${cardTokensMaxLimit}`);
        }
        const leadTimeMs = leadTimeOf(values);
        // The named card, else the selected one, else the element's only card (the README's
        // walk-through replenishes right after add-card, before any select).
        const card =
          stringOption(values, 'card') ??
          (() => {
            const status = element(() => elementStatus(file, pin, deps.now()));
            const only = status.cards.length === 1 ? status.cards[0]!.card : undefined;
            return status.selected ?? only;
          })() ??
          (() => {
            throw usageError('name the card with --card CARD (no card is selected)');
          })();
        const outcome = await replenishCard({
          clientFor: (stored) => clientOf(ctx, values, deps, stored),
          file,
          pin,
          card,
          now: () => deps.now(),
          threshold,
          leadTimeMs,
          ...(countText !== undefined && { count: parseWholeNumber(countText, '--count') }),
          force: values.force === true,
        });
        if (outcome.recovered) {
          ctx.warn(
            `batch ${outcome.recovered.n} had not reached the element: ` +
              `${outcome.recovered.imported} tokens now`,
          );
        }
        ctx.print(
          ctx.json
            ? json({
                card,
                requested: outcome.requested,
                imported: outcome.imported,
                tokens: outcome.tokens,
              })
            : outcome.requested === 0
              ? `card ${card}: no tokens needed (${outcome.tokens} held, ${outcome.room} more allowed)\n`
              : `card ${card}: ${outcome.imported} tokens received, ${outcome.tokens} held\n`,
        );
      },
    },
    {
      name: 'card-device import',
      synopsis: `--card CARD --batch FILE ${elementSynopsis}`,
      summary:
        "import a batch of card tokens the issuer fetched (coffer cards mint), its keys checked against the ledger's hashes",
      options: { ...elementOptions, card: { type: 'string' }, batch: { type: 'string' } },
      positionals: { min: 0, max: 0 },
      async run(ctx, _positionals, values) {
        const file = fileOf(values);
        const pin = pinOf(values, deps);
        const card = requiredOption(values, 'card');
        const batchFile = requiredOption(values, 'batch');
        let parsed: unknown;
        try {
          parsed = JSON.parse(readSmallFile(batchFile, batchFileBytesMax, '--batch'));
        } catch (error) {
          if (error instanceof CliError) throw error;
          throw new CliError('invalid_file', `--batch ${batchFile} is not JSON`);
        }
        const batch = mintResultSchema.safeParse(parsed);
        if (!batch.success) {
          throw new CliError('invalid_file', `--batch ${batchFile} is not a batch of card tokens`);
        }
        if (batch.data.card !== card) {
          throw new CliError(
            'batch_mismatch',
            `the batch is for card ${batch.data.card}, not ${card}`,
          );
        }
        const stored = element(() => deviceInfo(file, pin)).nodeUrl;
        const client = clientOf(ctx, values, deps, stored);
        const result = await importVerified(client, file, pin, batch.data, deps.now());
        ctx.print(
          ctx.json
            ? json(result)
            : `card ${card}: ${result.imported} tokens imported, ${result.skipped} skipped ` +
                `(held, consumed or expired), ${result.tokens} held\n`,
        );
      },
    },
    {
      name: 'card-device status',
      synopsis: elementSynopsis,
      summary: 'show the element: device, counter, selected card, activated token, last payment',
      options: elementOptions,
      positionals: { min: 0, max: 0 },
      usesNode: false,
      run(ctx, _positionals, values) {
        const status = element(() =>
          elementStatus(fileOf(values), pinOf(values, deps), deps.now()),
        );
        const last = status.lastPayment;
        ctx.print(
          ctx.json
            ? json(status)
            : fields([
                ['device', status.device],
                ['chain', status.chainId],
                ['node', status.nodeUrl],
                ['counter', status.counter],
                [
                  'cards',
                  status.cards.map((c) => `${c.card} (${c.tokens} tokens)`).join(', ') || 'none',
                ],
                ['selected', status.selected],
                ['activated', status.activated?.token],
                [
                  'last payment',
                  last &&
                    `${last.request.amount} ${last.request.currency} at ${last.request.merchantId}, ` +
                      `card ${last.card}, token ${last.token}, counter ${last.counter}, ${iso(last.at)}`,
                ],
              ]),
        );
        return Promise.resolve();
      },
    },
  ];
}

/** The commands on this process: its clock, COFFER_CARD_PIN, scrypt at full cost. */
export const cardDeviceCommands: Command[] = createCardDeviceCommands({
  // The device program runs at the user's, never in a block: it reads the wall clock. (The
  // determinism rule covers src/modules/** but exempts only cli.ts and cli-*.ts by name.)
  now: () => Date.now(),
  // CliEnv (src/cli/env.ts) has no field for it yet; read here, at the command's run only.
  pinFromEnv: () => process.env.COFFER_CARD_PIN,
  clientFor: (nodeUrl) => createClient(nodeUrl),
});
