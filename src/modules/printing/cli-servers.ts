import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  checkAddress,
  parseWholeNumber,
  requiredOption,
  stringOption,
  type Command,
  type CommandContext,
  type OptionValues,
} from '../../cli/context.js';
import { CliError, usageError } from '../../cli/errors.js';
import { fields, json } from '../../cli/output.js';
import { isDesignId } from './schema.js';

/*
 * The operators' commands of issue 23 (docs/printing.md): the hardware-id authority
 * (`coffer print-authority init|serve`), the print server (`coffer print-server init|serve|secret
 * create|trace`) and a designer's upload to a print server (`coffer design upload`), whose JSON
 * answer `coffer design publish` lists. Keys and secrets are written with mode 0600 and never
 * printed, but for a registration secret, which is printed once for the operator to hand over.
 */

/** A design's G-code: the print server's limit. */
const designFileBytesMax = 64 * 1024 * 1024;

/** Runs a server until SIGINT or SIGTERM, then closes it. */
async function untilStopped(close: () => Promise<void>): Promise<void> {
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await close();
}

function portOption(values: OptionValues, name: string): number | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  const port = parseWholeNumber(text, `--${name}`);
  if (port > 65_535) throw usageError(`--${name} is a TCP port: 0 to 65535`);
  return port;
}

function listOption(values: OptionValues, name: string): string[] | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value : [String(value)];
}

/** Turns the servers' configuration and store faults into the CLI's `invalid_config`. */
function asCliError(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (
    error instanceof Error &&
    (code === 'invalid_config' ||
      code === 'master_key_invalid' ||
      code === 'content_corrupt' ||
      code === 'secrets_full')
  ) {
    return new CliError(code === 'secrets_full' ? 'secrets_full' : 'invalid_config', error.message);
  }
  if (error instanceof Error && error.name === 'PkiInputError') {
    return new CliError('invalid_input', error.message);
  }
  return error;
}

export const printServerCommands: Command[] = [
  {
    name: 'print-authority init',
    synopsis: '--dir DIR [--port N] [--host H]',
    summary:
      'create a hardware-id authority: DIR/authority.key (mode 0600, never replaced) and DIR/authority.json',
    options: { dir: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' } },
    positionals: { min: 0, max: 0 },
    async run(ctx, _positionals, values) {
      const { initAuthority } = await import('./authority/config.js');
      const dir = path.resolve(requiredOption(values, 'dir'));
      const port = portOption(values, 'port');
      const host = stringOption(values, 'host');
      let made;
      try {
        made = initAuthority(dir, {
          nodeUrl: ctx.nodeUrl,
          ...(port === undefined ? {} : { port }),
          ...(host === undefined ? {} : { host }),
        });
      } catch (error) {
        throw asCliError(error);
      }
      ctx.print(
        ctx.json
          ? json({ config: made.configFile, keyFile: made.keyFile, authority: made.authority })
          : fields([
              ['authority', made.authority],
              ['config', made.configFile],
              ['key', `${made.keyFile}${made.created ? '' : ' (kept: it existed)'}`],
              ['run', `coffer print-authority serve --config ${made.configFile}`],
            ]),
      );
    },
  },
  {
    name: 'print-authority serve',
    synopsis: '--config FILE',
    summary: 'run the hardware-id authority (POST /v1/hwids records printing.hwid) until stopped',
    options: { config: { type: 'string' } },
    positionals: { min: 0, max: 0 },
    usesNode: false,
    async run(ctx, _positionals, values) {
      const { loadAuthorityConfig } = await import('./authority/config.js');
      const { startAuthority } = await import('./authority/server.js');
      let running;
      try {
        running = await startAuthority(loadAuthorityConfig(requiredOption(values, 'config')));
      } catch (error) {
        throw asCliError(error);
      }
      ctx.print(
        ctx.json
          ? `${JSON.stringify({ url: running.url, authority: running.authority })}\n`
          : `hardware-id authority ${running.authority} listening on ${running.url}\n`,
      );
      await untilStopped(() => running.close());
    },
  },
  {
    name: 'print-server init',
    synopsis:
      '--dir DIR [--host-name NAME ...] [--trusted-authority ADDRESS ...] [--platform-share-bp N] [--port N] [--prints-port N] [--host H]',
    summary:
      "create a print server's data directory: its key, CA (ca.pem: give it to the SBCs' owners), TLS certificate, encrypted design store and print-server.json",
    options: {
      dir: { type: 'string' },
      'host-name': { type: 'string', multiple: true },
      'trusted-authority': { type: 'string', multiple: true },
      'platform-share-bp': { type: 'string' },
      port: { type: 'string' },
      'prints-port': { type: 'string' },
      host: { type: 'string' },
    },
    positionals: { min: 0, max: 0 },
    async run(ctx, _positionals, values) {
      const { initPrintServerDataDir } = await import('./server/config.js');
      const dir = path.resolve(requiredOption(values, 'dir'));
      const trusted = listOption(values, 'trusted-authority')?.map((address) =>
        checkAddress(address, '--trusted-authority'),
      );
      const hostNames = listOption(values, 'host-name');
      const share = stringOption(values, 'platform-share-bp');
      const port = portOption(values, 'port');
      const printsPort = portOption(values, 'prints-port');
      const host = stringOption(values, 'host');
      let made;
      try {
        made = await initPrintServerDataDir(dir, {
          nodeUrl: ctx.nodeUrl,
          ...(hostNames === undefined ? {} : { hostNames }),
          ...(trusted === undefined ? {} : { trustedAuthorities: trusted }),
          ...(share === undefined
            ? {}
            : { platformShareBp: parseWholeNumber(share, '--platform-share-bp') }),
          ...(port === undefined ? {} : { port }),
          ...(printsPort === undefined ? {} : { printsPort }),
          ...(host === undefined ? {} : { host }),
        });
      } catch (error) {
        throw asCliError(error);
      }
      ctx.print(
        ctx.json
          ? json({ config: made.configFile, caFile: made.caFile, server: made.server })
          : fields([
              ['server', made.server],
              ['config', `${made.configFile}${made.created ? '' : ' (kept: it existed)'}`],
              ['CA', `${made.caFile} (give it to every SBC's owner)`],
              ['run', `coffer print-server serve --config ${made.configFile}`],
            ]),
      );
    },
  },
  {
    name: 'print-server serve',
    synopsis: '--config FILE',
    summary:
      'run the print server (registrations, design uploads, prints over mutual TLS) until stopped',
    options: { config: { type: 'string' } },
    positionals: { min: 0, max: 0 },
    usesNode: false,
    async run(ctx, _positionals, values) {
      const { loadPrintServerConfig } = await import('./server/config.js');
      const { startPrintServer } = await import('./server/server.js');
      let running;
      try {
        running = await startPrintServer(loadPrintServerConfig(requiredOption(values, 'config')));
      } catch (error) {
        throw asCliError(error);
      }
      ctx.print(
        ctx.json
          ? `${JSON.stringify({ url: running.url, printsUrl: running.printsUrl, server: running.address })}\n`
          : `print server ${running.address} listening on ${running.url} (prints: ${running.printsUrl})\n`,
      );
      await untilStopped(() => running.close());
    },
  },
  {
    name: 'print-server secret create',
    synopsis: '--dir DIR',
    summary:
      'make a one-time registration secret for one SBC (printed once; the server keeps only its hash)',
    options: { dir: { type: 'string' } },
    positionals: { min: 0, max: 0 },
    usesNode: false,
    async run(ctx, _positionals, values) {
      const { createRegistrationSecret } = await import('./server/records.js');
      const { serverFiles } = await import('./server/config.js');
      const dir = path.resolve(requiredOption(values, 'dir'));
      if (!fs.existsSync(path.join(dir, serverFiles.config))) {
        throw new CliError(
          'invalid_config',
          `${dir} is not a print server's data directory (run coffer print-server init)`,
        );
      }
      let secret: string;
      try {
        secret = createRegistrationSecret(dir);
      } catch (error) {
        throw asCliError(error);
      }
      ctx.print(ctx.json ? json({ secret }) : `${secret}\n`);
    },
  },
  {
    name: 'print-server trace',
    synopsis: 'FILE --dir DIR [--design DESIGN_ID]',
    summary:
      'read the watermark of a leaked G-code file and name the print it came from (token, printer, buyer)',
    options: { dir: { type: 'string' }, design: { type: 'string' } },
    positionals: { min: 1, max: 1 },
    usesNode: false,
    async run(ctx, [file], values) {
      const { traceLeak } = await import('./server/trace.js');
      const dir = path.resolve(requiredOption(values, 'dir'));
      const design = stringOption(values, 'design');
      if (design !== undefined && !isDesignId(design)) {
        throw usageError('--design must be a design id (32 lowercase hex digits)');
      }
      if (!fs.existsSync(file!)) throw new CliError('invalid_file', `cannot read ${file}`);
      let traced;
      try {
        traced = await traceLeak(dir, file!, design === undefined ? {} : { designId: design });
      } catch (error) {
        throw asCliError(error);
      }
      if (!traced) {
        throw new CliError(
          'watermark_not_found',
          `no design printed here matches ${file}: no watermark read`,
        );
      }
      if (ctx.json) {
        ctx.print(json(traced));
        return;
      }
      ctx.print(
        fields([
          ['watermark', traced.watermark],
          ['design', traced.designId],
          ['moves matched', traced.moves],
          ['dissenting votes', traced.dissent],
          ...(traced.print
            ? ([
                ['token', traced.print.tokenId],
                ['printer', traced.print.printerId],
                ['buyer', traced.print.buyer],
                ['printed at', new Date(traced.print.at).toISOString()],
              ] as [string, string][])
            : ([['print', 'none of this server has this watermark']] as [string, string][])),
        ]),
      );
    },
  },
  {
    name: 'design upload',
    synopsis: 'FILE --server URL --ca-file FILE --from NAME',
    summary:
      'upload G-code to a print server (encrypted there); prints the JSON answer that `coffer design publish` lists',
    options: {
      server: { type: 'string' },
      'ca-file': { type: 'string' },
      from: { type: 'string' },
    },
    positionals: { min: 1, max: 1 },
    usesNode: false,
    async run(ctx, [file], values) {
      await uploadDesign(ctx, file!, values);
    },
  },
];

async function uploadDesign(
  ctx: CommandContext,
  file: string,
  values: OptionValues,
): Promise<void> {
  const { httpsRequest } = await import('./server/https-client.js');
  const { designUploadAuthorisationMessage, signMessageHex } = await import('./server/messages.js');
  const server = requiredOption(values, 'server').replace(/\/+$/, '');
  if (!/^https:\/\/[^\s]+$/.test(server)) {
    throw usageError('--server must be the print server’s https URL');
  }
  const caFile = requiredOption(values, 'ca-file');
  let ca: string;
  let body: Buffer;
  try {
    ca = fs.readFileSync(caFile, 'utf8');
  } catch (error) {
    throw new CliError('invalid_file', `cannot read ${caFile}: ${(error as Error).message}`);
  }
  try {
    const size = fs.statSync(file).size;
    if (size > designFileBytesMax) {
      throw new CliError('invalid_file', `${file} is ${size} bytes; a design is 64 MiB at most`);
    }
    body = fs.readFileSync(file);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError('invalid_file', `cannot read ${file}: ${(error as Error).message}`);
  }
  if (body.length === 0) throw new CliError('invalid_file', `${file} is empty`);
  const call = async (route: string, request: Parameters<typeof httpsRequest>[2] = {}) => {
    let answer;
    try {
      answer = await httpsRequest(`${server}${route}`, { ca }, request);
    } catch (error) {
      throw new CliError(
        'server_unreachable',
        `cannot reach ${server} (or its certificate is not of ${caFile}): ${(error as Error).message}`,
      );
    }
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(answer.text) as Record<string, unknown>;
    } catch {
      // not JSON: said below
    }
    if (answer.status >= 300) {
      const error = (parsed.error ?? {}) as { code?: string; message?: string };
      throw new CliError(
        error.code ?? `http_${answer.status}`,
        error.message ?? `the print server answered ${answer.status}`,
      );
    }
    return parsed;
  };
  const facts = await call('/v1/printing/server');
  if (typeof facts.server !== 'string') {
    throw new CliError('unexpected_answer', `${server} did not say its address`);
  }
  const key = await ctx.unlock(requiredOption(values, 'from'));
  const timestamp = Date.now();
  const contentHash = crypto.createHash('sha256').update(body).digest('hex');
  const authorisation = signMessageHex(
    designUploadAuthorisationMessage({
      server: facts.server,
      designer: key.address,
      contentHash,
      sizeBytes: body.length,
      timestamp,
    }),
    key.secretKey,
  );
  const answer = await call('/v1/printing/designs', {
    body,
    headers: {
      'content-type': 'text/x-gcode',
      'content-length': String(body.length),
      'x-coffer-designer': key.address,
      'x-coffer-time': String(timestamp),
      'x-coffer-content-hash': contentHash,
      'x-coffer-upload-authorisation': authorisation,
    },
  });
  // Always JSON: the answer is the file `coffer design publish` reads.
  ctx.print(json(answer));
}
