import fs from 'node:fs';
import {
  requiredOption,
  stringOption,
  parseWholeNumber,
  type Command,
  type CommandContext,
  type OptionValues,
} from './context.js';
import { CliError, usageError } from './errors.js';
import { fields, json, table } from './output.js';
import type {
  CreatedWebhookJson,
  DeadLetterListJson,
  WebhookJson,
} from '../node/webhooks/schema.js';

/**
 * `coffer webhooks add|list|remove|replay|dead-letters`: the node operator's webhook
 * subscriptions (src/node/webhooks). Every one needs the node's admin token, from
 * COFFER_ADMIN_TOKEN or --admin-token-file (the node writes one to <data dir>/admin-token).
 */

/** A token file holds one short line; anything larger is not one. */
const tokenFileBytesMax = 1_024;
/** How long one request to the node may take. */
const requestTimeoutMs = 30_000;

const tokenOption = { 'admin-token-file': { type: 'string' } } as const;

function adminToken(ctx: CommandContext, values: OptionValues): string {
  const file = stringOption(values, 'admin-token-file');
  if (file !== undefined) {
    let text: string;
    try {
      const stat = fs.statSync(file);
      if (stat.size > tokenFileBytesMax) throw new Error(`larger than ${tokenFileBytesMax} bytes`);
      text = fs.readFileSync(file, 'utf8').trim();
    } catch (error) {
      throw new CliError('invalid_file', `--admin-token-file ${file}: ${(error as Error).message}`);
    }
    if (text === '') throw new CliError('invalid_file', `--admin-token-file ${file} is empty`);
    return text;
  }
  if (ctx.env.adminToken !== undefined) return ctx.env.adminToken;
  throw new CliError(
    'admin_token_missing',
    'no admin token: set COFFER_ADMIN_TOKEN or pass --admin-token-file DATA_DIR/admin-token',
  );
}

/** A secret file holds one short line (`whsec_` and base64 of at most 64 bytes). */
const secretFileBytesMax = 1_024;

/**
 * The secret to subscribe with: --secret (seen by other users in the process list and kept in
 * shell history), --secret-file FILE (its one line), or COFFER_WEBHOOK_SECRET; none: the node
 * generates one. The node checks the secret's form.
 */
function webhookSecret(ctx: CommandContext, values: OptionValues): string | undefined {
  const given = stringOption(values, 'secret');
  const file = stringOption(values, 'secret-file');
  if (given !== undefined && file !== undefined) {
    throw usageError('--secret and --secret-file go alone: pass one');
  }
  if (given !== undefined) return given;
  if (file !== undefined) {
    let text: string;
    try {
      const stat = fs.statSync(file);
      if (stat.size > secretFileBytesMax) {
        throw new Error(`larger than ${secretFileBytesMax} bytes`);
      }
      text = fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw new CliError('invalid_file', `--secret-file ${file}: ${(error as Error).message}`);
    }
    if (text === '') throw new CliError('invalid_file', `--secret-file ${file} is empty`);
    return text;
  }
  return ctx.env.webhookSecret;
}

/** One admin request; the node's error answers become a CliError with the node's code. */
async function admin<T>(
  ctx: CommandContext,
  values: OptionValues,
  method: string,
  route: string,
  body?: unknown,
): Promise<T> {
  const token = adminToken(ctx, values);
  let response: Response;
  try {
    response = await fetch(`${ctx.nodeUrl.replace(/\/$/, '')}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(requestTimeoutMs),
    });
  } catch (error) {
    throw new CliError(
      'network_error',
      `${ctx.nodeUrl}: ${(error as Error).message}; start a node with coffer start, or pass --node URL`,
    );
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(
      'unexpected_answer',
      `${method} ${route} answered ${response.status}: ${text.slice(0, 200)}`,
    );
  }
  const error = (parsed as { error?: { code?: unknown; message?: unknown } }).error;
  if (!response.ok || error !== undefined) {
    throw new CliError(
      typeof error?.code === 'string' ? error.code : 'unexpected_answer',
      typeof error?.message === 'string' ? error.message : `${method} ${route}: ${response.status}`,
    );
  }
  return parsed as T;
}

function cursorText(webhook: WebhookJson): string {
  const { height, txIndex } = webhook.cursor;
  return txIndex === 2 ** 31 - 1 ? `through height ${height}` : `height ${height} tx ${txIndex}`;
}

function webhookId(text: string): string {
  if (!/^wh_[0-9a-f]{16}$/.test(text))
    throw usageError(`ID must be wh_ and 16 hex digits, got "${text}"`);
  return text;
}

export const webhookCommands: Command[] = [
  {
    name: 'webhooks add',
    synopsis:
      'URL --events TYPES [--secret-file F | --secret whsec_...] [--from-height H] [--admin-token-file F]',
    summary:
      "operator: POST this node's final events of TYPES (comma-separated: campaign.payout, token.*, *) " +
      'to URL, signed (Standard Webhooks); prints the secret, shown this once',
    options: {
      ...tokenOption,
      events: { type: 'string' },
      secret: { type: 'string' },
      'secret-file': { type: 'string' },
      'from-height': { type: 'string' },
    },
    positionals: { min: 1, max: 1 },
    async run(ctx, [url], values) {
      const events = requiredOption(values, 'events')
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean);
      const fromText = stringOption(values, 'from-height');
      const secret = webhookSecret(ctx, values);
      const created = await admin<CreatedWebhookJson>(ctx, values, 'POST', '/v1/webhooks', {
        url,
        events,
        ...(secret === undefined ? {} : { secret }),
        ...(fromText === undefined
          ? {}
          : { fromHeight: parseWholeNumber(fromText, '--from-height') }),
      });
      ctx.print(
        ctx.json
          ? json(created)
          : fields([
              ['id', created.id],
              ['url', created.url],
              ['events', created.events.join(', ')],
              ['secret', `${created.secret}  (shown this once: keep it to verify signatures)`],
              ['from', cursorText(created)],
            ]),
      );
    },
  },
  {
    name: 'webhooks list',
    synopsis: '[--admin-token-file F]',
    summary: "operator: this node's webhook subscriptions, how far each delivered, failures",
    options: tokenOption,
    positionals: { min: 0, max: 0 },
    async run(ctx, _positionals, values) {
      const { webhooks } = await admin<{ webhooks: WebhookJson[] }>(
        ctx,
        values,
        'GET',
        '/v1/webhooks',
      );
      if (ctx.json) {
        ctx.print(json({ webhooks }));
        return;
      }
      ctx.print(
        table(
          ['ID', 'URL', 'EVENTS', 'DELIVERED', 'FAILING', 'DEAD'],
          webhooks.map((w) => [
            w.id,
            w.url,
            w.events.join(','),
            cursorText(w),
            w.attempts > 0 ? `${w.attempts}x: ${w.lastError ?? ''}` : '',
            String(w.deadLetters),
          ]),
          [5],
        ),
      );
    },
  },
  {
    name: 'webhooks remove',
    synopsis: 'ID [--admin-token-file F]',
    summary: 'operator: remove a webhook subscription and its dead letters',
    options: tokenOption,
    positionals: { min: 1, max: 1 },
    async run(ctx, [id], values) {
      const answer = await admin<{ id: string }>(
        ctx,
        values,
        'DELETE',
        `/v1/webhooks/${webhookId(id!)}`,
      );
      ctx.print(ctx.json ? json(answer) : `removed ${answer.id}\n`);
    },
  },
  {
    name: 'webhooks replay',
    synopsis: 'ID --from-height H [--admin-token-file F]',
    summary:
      'operator: deliver again every matching event from height H on, with the same webhook-ids ' +
      '(re-drives the dead letters from there)',
    options: { ...tokenOption, 'from-height': { type: 'string' } },
    positionals: { min: 1, max: 1 },
    async run(ctx, [id], values) {
      const fromHeight = parseWholeNumber(requiredOption(values, 'from-height'), '--from-height');
      const answer = await admin<{ id: string; fromHeight: number }>(
        ctx,
        values,
        'POST',
        `/v1/webhooks/${webhookId(id!)}/replay`,
        { fromHeight },
      );
      ctx.print(
        ctx.json ? json(answer) : `${answer.id} replays from height ${answer.fromHeight}\n`,
      );
    },
  },
  {
    name: 'webhooks dead-letters',
    synopsis: 'ID [--admin-token-file F]',
    summary: 'operator: the events a subscription gave up on, newest first',
    options: tokenOption,
    positionals: { min: 1, max: 1 },
    async run(ctx, [id], values) {
      const answer = await admin<DeadLetterListJson>(
        ctx,
        values,
        'GET',
        `/v1/webhooks/${webhookId(id!)}/dead-letters`,
      );
      if (ctx.json) {
        ctx.print(json(answer));
        return;
      }
      ctx.print(
        table(
          ['HEIGHT', 'TYPE', 'WEBHOOK-ID', 'TRIES', 'LAST ERROR'],
          answer.deadLetters.map((l) => [
            String(l.height),
            l.type,
            l.webhookId,
            String(l.attempts),
            l.lastError,
          ]),
          [0, 3],
        ),
      );
    },
  },
];
