import fs from 'node:fs';

import {
  pageLimitOption,
  parseWholeNumber,
  requiredOption,
  stringOption,
  type Command,
  type CommandContext,
  type OptionValues,
} from '../../cli/context.js';
import { CliError, usageError } from '../../cli/errors.js';
import { fields, json, table } from '../../cli/output.js';
import { amountOf, report, submitTx } from '../../cli/payments.js';
import {
  designStatuses,
  designTitleLengthMax,
  isDesignId,
  isPrinterId,
  isTokenId,
  platformShareBpMax,
  printingTxBuilders,
  printsMaxLimit,
  type DesignRecord,
  type DesignStatus,
  type PrinterRecord,
  type PrintTokenRecord,
} from './client.js';

/*
 * `coffer printer ...`, `coffer design ...` and `coffer print ...` (issue 23): read printers (an
 * owner's, one), revoke one (its owner or server); read the store and a design, publish a design
 * from the print server's upload answer, change its price or list / unlist it (its designer); buy a
 * print for one of your printers (the token id is the tx hash), read tokens, cancel an expired or
 * stalled one. The SBC's own commands are `coffer print-agent ...` (cli-agent.ts).
 */

/** A print server's upload answer is a few hundred bytes; a large file is a mistake. */
const uploadFileBytesMax = 64 * 1024;

type Tx = { type: string; payload: Record<string, unknown> };

const fromOption = { from: { type: 'string' } } as const;
const pageOptionSpecs = { after: { type: 'string' }, limit: { type: 'string' } } as const;

function printerArgument(text: string, what = 'PRINTER_ID'): string {
  if (!isPrinterId(text)) throw usageError(`${what} must be pr_ and 32 lowercase hex digits`);
  return text;
}

function designArgument(text: string, what = 'DESIGN_ID'): string {
  if (!isDesignId(text)) throw usageError(`${what} must be 32 lowercase hex digits`);
  return text;
}

function tokenArgument(text: string, what = 'TOKEN_ID'): string {
  if (!isTokenId(text)) {
    throw usageError(`${what} must be 64 lowercase hex digits (the print buy tx hash)`);
  }
  return text;
}

function statusOption(values: OptionValues): DesignStatus | undefined {
  const status = stringOption(values, 'status');
  if (status === undefined) return undefined;
  if (!(designStatuses as readonly string[]).includes(status)) {
    throw usageError(`--status is ${designStatuses.join(' or ')}`);
  }
  return status as DesignStatus;
}

function pageOptions(values: OptionValues): { after?: string; limit?: number } {
  const after = stringOption(values, 'after');
  const limit = pageLimitOption(values);
  return {
    ...(after === undefined ? {} : { after }),
    ...(limit === undefined ? {} : { limit }),
  };
}

async function sendTx(ctx: CommandContext, from: string, tx: Tx, title: string): Promise<string> {
  const key = await ctx.unlock(from);
  const result = await submitTx(ctx, key, tx, undefined);
  report(ctx, result, title);
  return result.outcome.hash;
}

const time = (ms: number | undefined) =>
  ms === undefined ? undefined : new Date(ms).toISOString();
const mm = (um: number) => `${(um / 1000).toFixed(3)} mm`;
const box = (b: { x: number; y: number; z: number }) => `${mm(b.x)} × ${mm(b.y)} × ${mm(b.z)}`;

function describePrinter(p: PrinterRecord): string {
  return fields([
    ['printer', p.printerId],
    ['status', p.status],
    ['owner', p.owner],
    ['server', p.server],
    ['client id', p.clientId],
    ['hardware id', p.hardwareId],
    ['certificate', p.certFingerprint],
    ['firmware', p.profile.firmware],
    ['bed', box(p.profile.bed)],
    ['nozzle', mm(p.profile.nozzleUm)],
    [
      'filament',
      `${p.profile.filament}, hotend ${p.profile.hotendC} °C, bed ${p.profile.bedC} °C, flow ${p.profile.flowPct} %`,
    ],
    ['registered', `${time(p.registeredAt)} at height ${p.height} (tx ${p.tx})`],
    ['revoked', p.revokedAt === undefined ? undefined : `${time(p.revokedAt)} by ${p.revokedBy}`],
  ]);
}

function describeDesign(d: DesignRecord): string {
  return fields([
    ['design', d.designId],
    ['title', d.title],
    ['status', d.status],
    ['designer', d.designer],
    ['server', d.server],
    ['price', `${d.price.amount} ${d.price.asset} (minor units)`],
    ['sold', `${d.sold} of ${d.printsMax}`],
    ['platform share', `${d.platformShareBp} basis points`],
    [
      'licence',
      `${d.licence.commercial ? 'commercial use' : 'no commercial use'}, ${d.licence.remix ? 'remix allowed' : 'no remix'}`,
    ],
    ['extent', box(d.bbox)],
    ['g-code', `${d.lines} lines, ${d.sizeBytes} bytes, sha256 ${d.contentHash}`],
    ['listed', `${time(d.listedAt)} at height ${d.height} (tx ${d.tx})`],
  ]);
}

function describeToken(t: PrintTokenRecord): string {
  return fields([
    ['token', t.tokenId],
    ['status', t.status],
    ['design', t.designId],
    ['printer', t.printerId],
    ['buyer', t.buyer],
    ['server', t.server],
    ['price', `${t.price.amount} ${t.price.asset} (minor units, in escrow until the end)`],
    ['progress', `${t.percent} %`],
    ['attempts', `${t.attempts} started, ${t.failures} failed`],
    ['bought', time(t.boughtAt)],
    ['expires', time(t.expiresAt)],
    ['started', time(t.startedAt)],
    ['ended', time(t.endedAt)],
    [
      'last failure',
      t.failReason === undefined ? undefined : `${t.failReason} at ${t.failPercent} %`,
    ],
    [
      'paid',
      t.paid === undefined ? undefined : `designer ${t.paid.designer}, platform ${t.paid.platform}`,
    ],
  ]);
}

/** The print server's answer to an upload (POST /v1/printing/designs), as a saved JSON file. */
function readUpload(file: string): Record<string, unknown> {
  let text: string;
  try {
    if (fs.statSync(file).size > uploadFileBytesMax) throw new Error('larger than 64 KiB');
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError('invalid_file', `cannot read ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError('invalid_file', `${file} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CliError('invalid_file', `${file} is not the JSON object a print server answers`);
  }
  const upload = parsed as Record<string, unknown>;
  const names = ['designId', 'server', 'contentHash', 'sizeBytes', 'lines', 'bbox'];
  for (const name of [...names, 'platformShareBp', 'serverProof']) {
    if (!(name in upload)) {
      throw new CliError(
        'invalid_file',
        `${file} has no ${name}: is it a print server's upload answer?`,
      );
    }
  }
  return upload;
}

/** `<noun> show ID`: one record, described or as JSON. */
function showCommand<T>(
  spec: Pick<Command, 'name' | 'synopsis' | 'summary'>,
  read: (ctx: CommandContext, id: string) => Promise<T>,
  describe: (record: T) => string,
): Command {
  return {
    ...spec,
    positionals: { min: 1, max: 1 },
    async run(ctx, [id]) {
      const record = await read(ctx, id!);
      ctx.print(ctx.json ? json(record) : describe(record));
    },
  };
}

/** A page of a list: as JSON, or a table and the option that reads the next page. */
function printPage<P extends { next?: string | null | undefined }>(
  ctx: CommandContext,
  page: P,
  headers: string[],
  rows: (page: P) => string[][],
): void {
  if (ctx.json) return ctx.print(json(page));
  ctx.print(table(headers, rows(page)));
  if (page.next) ctx.print(`more: --after ${page.next}\n`);
}

export const printingCommands: Command[] = [
  showCommand(
    {
      name: 'printer show',
      synopsis: 'PRINTER_ID',
      summary: 'show a printer: owner, server, status, profile',
    },
    (ctx, id) => ctx.client.printing.printer(printerArgument(id)),
    describePrinter,
  ),
  {
    name: 'printer list',
    synopsis: '--owner ACCOUNT [--after PRINTER_ID] [--limit N]',
    summary: "an owner's printers, active and revoked",
    options: { owner: { type: 'string' }, ...pageOptionSpecs },
    positionals: { min: 0, max: 0 },
    async run(ctx, _positionals, values) {
      const owner = ctx.resolveAddress(requiredOption(values, 'owner'), '--owner');
      const page = await ctx.client.printing.printersOf(owner, pageOptions(values));
      printPage(
        ctx,
        page,
        ['printer', 'status', 'firmware', 'bed (mm)', 'server'],
        ({ printers }) =>
          printers.map((p) => [
            p.printerId,
            p.status,
            p.profile.firmware,
            `${p.profile.bed.x / 1000}×${p.profile.bed.y / 1000}×${p.profile.bed.z / 1000}`,
            p.server,
          ]),
      );
    },
  },
  {
    name: 'printer revoke',
    synopsis: 'PRINTER_ID --from NAME',
    summary:
      'revoke a printer (its owner or its print server): final; the server refuses its certificate from then on',
    options: fromOption,
    positionals: { min: 1, max: 1 },
    async run(ctx, [id], values) {
      const tx = printingTxBuilders.revokePrinter(printerArgument(id!));
      await sendTx(ctx, requiredOption(values, 'from'), tx, `printer ${id} revoked`);
    },
  },
  {
    name: 'design list',
    synopsis: '[--status listed|unlisted] [--server ADDRESS] [--after DESIGN_ID] [--limit N]',
    summary:
      "the store: designs (by default all; --status listed: those for sale), or one server's",
    options: { status: { type: 'string' }, server: { type: 'string' }, ...pageOptionSpecs },
    positionals: { min: 0, max: 0 },
    async run(ctx, _positionals, values) {
      const status = statusOption(values);
      const server = stringOption(values, 'server');
      const page = await ctx.client.printing.designs({
        ...(status === undefined ? {} : { status }),
        ...(server === undefined ? {} : { server: ctx.resolveAddress(server, '--server') }),
        ...pageOptions(values),
      });
      printPage(ctx, page, ['design', 'title', 'price', 'sold', 'status'], ({ designs }) =>
        designs.map((d) => [
          d.designId,
          d.title,
          `${d.price.amount} ${d.price.asset}`,
          `${d.sold}/${d.printsMax}`,
          d.status,
        ]),
      );
    },
  },
  showCommand(
    {
      name: 'design show',
      synopsis: 'DESIGN_ID',
      summary: 'show a design: designer, server, price, prints sold, licence, extent',
    },
    (ctx, id) => ctx.client.printing.design(designArgument(id)),
    describeDesign,
  ),
  {
    name: 'design publish',
    synopsis:
      'UPLOAD_FILE --title TEXT --price AMOUNT --asset SYMBOL --prints-max N [--commercial] [--remix] --from NAME',
    summary:
      "list a design for sale: UPLOAD_FILE is the print server's JSON answer to your upload (designId, serverProof, ...); --price in the asset's units; --from must be the account that uploaded",
    options: {
      ...fromOption,
      title: { type: 'string' },
      price: { type: 'string' },
      asset: { type: 'string' },
      'prints-max': { type: 'string' },
      commercial: { type: 'boolean' },
      remix: { type: 'boolean' },
    },
    positionals: { min: 1, max: 1 },
    async run(ctx, [file], values) {
      const upload = readUpload(file!);
      const title = requiredOption(values, 'title');
      if (title.length > designTitleLengthMax) {
        throw usageError(`--title is ${designTitleLengthMax} characters at most`);
      }
      const printsMax = parseWholeNumber(requiredOption(values, 'prints-max'), '--prints-max');
      if (printsMax < 1 || printsMax > printsMaxLimit) {
        throw usageError(`--prints-max is from 1 to ${printsMaxLimit}`);
      }
      if (
        typeof upload.platformShareBp === 'number' &&
        upload.platformShareBp > platformShareBpMax
      ) {
        throw new CliError(
          'invalid_platform_share',
          `the server asks ${upload.platformShareBp} basis points, more than ${platformShareBpMax}`,
        );
      }
      const asset = requiredOption(values, 'asset');
      const { minor } = await amountOf(ctx, requiredOption(values, 'price'), asset);
      const tx = printingTxBuilders.listDesign({
        designId: upload.designId as string,
        server: upload.server as string,
        title,
        contentHash: upload.contentHash as string,
        sizeBytes: upload.sizeBytes as number,
        lines: upload.lines as number,
        bbox: upload.bbox as { x: number; y: number; z: number },
        price: { asset, amount: minor },
        printsMax,
        platformShareBp: upload.platformShareBp as number,
        licence: { commercial: values.commercial === true, remix: values.remix === true },
        serverProof: upload.serverProof as string,
      });
      await sendTx(
        ctx,
        requiredOption(values, 'from'),
        tx,
        `design ${String(upload.designId)} listed`,
      );
    },
  },
  {
    name: 'design update',
    synopsis: 'DESIGN_ID [--price AMOUNT --asset SYMBOL] [--status listed|unlisted] --from NAME',
    summary: "change a design's price (in the asset's units) or list / unlist it (its designer)",
    options: {
      ...fromOption,
      price: { type: 'string' },
      asset: { type: 'string' },
      status: { type: 'string' },
    },
    positionals: { min: 1, max: 1 },
    async run(ctx, [id], values) {
      const designId = designArgument(id!);
      const status = statusOption(values);
      const priceText = stringOption(values, 'price');
      if (priceText === undefined && status === undefined) {
        throw usageError('say what changes: --price AMOUNT --asset SYMBOL, --status, or both');
      }
      let price: { asset: string; amount: string } | undefined;
      if (priceText !== undefined) {
        const asset = requiredOption(values, 'asset');
        price = { asset, amount: (await amountOf(ctx, priceText, asset)).minor };
      }
      const tx = printingTxBuilders.updateDesign(designId, {
        ...(price === undefined ? {} : { price }),
        ...(status === undefined ? {} : { status }),
      });
      await sendTx(ctx, requiredOption(values, 'from'), tx, `design ${designId} updated`);
    },
  },
  {
    name: 'print buy',
    synopsis: 'DESIGN_ID --printer PRINTER_ID --price AMOUNT --asset SYMBOL --from NAME',
    summary:
      "buy one print of a design for one of your printers at the price you saw (design show; in the asset's units: refused with price_changed if the design's price is another): the price goes to escrow until the print finishes (or is refunded); answers the token id (the tx hash) the print agent redeems",
    options: {
      ...fromOption,
      printer: { type: 'string' },
      price: { type: 'string' },
      asset: { type: 'string' },
    },
    positionals: { min: 1, max: 1 },
    async run(ctx, [id], values) {
      const designId = designArgument(id!);
      const printerId = printerArgument(requiredOption(values, 'printer'), '--printer');
      const priceText = requiredOption(values, 'price');
      const asset = requiredOption(values, 'asset');
      const price = { asset, amount: (await amountOf(ctx, priceText, asset)).minor };
      const tx = printingTxBuilders.buy(designId, printerId, price);
      const hash = await sendTx(ctx, requiredOption(values, 'from'), tx, `print of ${id} bought`);
      if (!ctx.json) ctx.print(`token ${hash}\n`);
    },
  },
  showCommand(
    {
      name: 'print show',
      synopsis: 'TOKEN_ID',
      summary: 'show a print token: status, progress, attempts, escrow, payout',
    },
    (ctx, id) => ctx.client.printing.token(tokenArgument(id)),
    describeToken,
  ),
  {
    name: 'print list',
    synopsis: '--buyer ACCOUNT [--after TOKEN_ID] [--limit N]',
    summary: "a buyer's print tokens",
    options: { buyer: { type: 'string' }, ...pageOptionSpecs },
    positionals: { min: 0, max: 0 },
    async run(ctx, _positionals, values) {
      const buyer = ctx.resolveAddress(requiredOption(values, 'buyer'), '--buyer');
      const page = await ctx.client.printing.tokensOf(buyer, pageOptions(values));
      printPage(
        ctx,
        page,
        ['token', 'design', 'printer', 'status', 'progress', 'expires'],
        ({ tokens }) =>
          tokens.map((t) => [
            t.tokenId,
            t.designId,
            t.printerId,
            t.status,
            `${t.percent} %`,
            time(t.expiresAt) ?? '',
          ]),
      );
    },
  },
  {
    name: 'print cancel',
    synopsis: 'TOKEN_ID --from NAME',
    summary:
      "take back a token's price (its buyer) less the share its server delivered to the printer: an issued token after its expiry or once its printer is revoked, a printing one after 24 h without progress or 7 days after its start",
    options: fromOption,
    positionals: { min: 1, max: 1 },
    async run(ctx, [id], values) {
      const tx = printingTxBuilders.cancel(tokenArgument(id!));
      await sendTx(ctx, requiredOption(values, 'from'), tx, `token ${id} cancelled and refunded`);
    },
  },
];
