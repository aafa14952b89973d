import fs from 'node:fs';
import path from 'node:path';

import {
  requiredOption,
  stringOption,
  type Command,
  type CommandContext,
} from '../../cli/context.js';
import { CliError, usageError } from '../../cli/errors.js';
import { createProgress, fields, json } from '../../cli/output.js';
import { importKey } from '../../sdk/index.js';
import { AgentDataDir, AgentError } from './agent/data-dir.js';

/*
 * `coffer print-agent init|register|print|status` (docs/printing.md, "The SBC"): the agent a
 * single-board computer beside the printer runs. Its data directory (`--data-dir`, default
 * `COFFER_HOME/print-agent`) holds the device key (0600), the hardware id, the printer's client
 * certificate and key (0600) and the server's CA; never G-code. The agent's modules load lazily,
 * so other commands do not load `serialport`.
 */

/** The most a profile, a CA or an owner key file may weigh (each is a few KiB). */
const inputFileBytesMax = 64 * 1024;
/** The registration secret as `coffer print-server secret create` prints it. */
const secretPattern = /^[A-Za-z0-9_-]{16,128}$/;

function dataDirOf(ctx: CommandContext, values: Record<string, unknown>): AgentDataDir {
  const given = typeof values['data-dir'] === 'string' ? values['data-dir'] : undefined;
  return new AgentDataDir(given ?? path.join(ctx.env.home, 'print-agent'));
}

function readInput(file: string, what: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    throw new CliError('invalid_file', `cannot read ${what} ${file}: ${(error as Error).message}`);
  }
  if (!stat.isFile() || stat.size > inputFileBytesMax) {
    throw new CliError('invalid_file', `${what} ${file} is not a file of at most 64 KiB`);
  }
  return fs.readFileSync(file, 'utf8');
}

function readJsonInput(file: string, what: string): unknown {
  try {
    return JSON.parse(readInput(file, what)) as unknown;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError('invalid_file', `${what} ${file} is not JSON`);
  }
}

/** Agent faults keep their code on the command line (`token_redeemed`, `tls_refused`, ...). */
async function asCli<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof AgentError) throw new CliError(error.code, error.message);
    throw error;
  }
}

const dataDirOption = { 'data-dir': { type: 'string' } } as const;

export const agentCommands: Command[] = [
  {
    name: 'print-agent init',
    synopsis: '--authority URL [--data-dir D] [--authority-ca FILE]',
    summary:
      "make this board's device key (0600) and ask the hardware-id authority for its hardware id",
    options: {
      ...dataDirOption,
      authority: { type: 'string' },
      'authority-ca': { type: 'string' },
    },
    positionals: { min: 0, max: 0 },
    usesNode: false,
    async run(ctx, _positionals, values) {
      const authorityUrl = requiredOption(values, 'authority');
      const caFile = stringOption(values, 'authority-ca');
      const dir = dataDirOf(ctx, values);
      const { requestHardwareId } = await import('./agent/enrol.js');
      const identity = await asCli(async () => {
        const { key, created } = dir.initDeviceKey();
        if (!created) ctx.warn(`${dir.file('deviceKey')} exists: its key is kept`);
        const tls = caFile === undefined ? {} : { ca: readInput(caFile, 'the authority CA') };
        const answer = await requestHardwareId(dir, { authorityUrl, tls });
        return { ...answer, deviceKey: key.publicKey };
      });
      ctx.print(
        ctx.json
          ? json({ ...identity, dataDir: dir.dir })
          : fields([
              ['hardware id', identity.hardwareId],
              ['authority', identity.authority],
              ['device key', identity.deviceKey],
              ['recorded by', identity.txHash],
              ['data dir', dir.dir],
            ]),
      );
    },
  },
  {
    name: 'print-agent register',
    synopsis:
      '--server URL --ca-file FILE --profile FILE (--secret S | --secret-file F) ' +
      '(--owner-key FILE | --owner KEY) [--chain-id ID] [--data-dir D]',
    summary:
      'register the printer with a print server: the owner signs its consent; keeps the client certificate and key (0600)',
    options: {
      ...dataDirOption,
      server: { type: 'string' },
      'ca-file': { type: 'string' },
      profile: { type: 'string' },
      secret: { type: 'string' },
      'secret-file': { type: 'string' },
      'owner-key': { type: 'string' },
      owner: { type: 'string' },
      'chain-id': { type: 'string' },
    },
    positionals: { min: 0, max: 0 },
    async run(ctx, _positionals, values) {
      const serverUrl = requiredOption(values, 'server');
      const ca = readInput(requiredOption(values, 'ca-file'), 'the server CA');
      const profile = readJsonInput(requiredOption(values, 'profile'), 'the profile');
      const secretGiven = stringOption(values, 'secret');
      const secretFile = stringOption(values, 'secret-file');
      if ((secretGiven === undefined) === (secretFile === undefined)) {
        throw usageError('give one of --secret S and --secret-file F');
      }
      const secret = secretGiven ?? readInput(secretFile!, 'the secret').trim();
      if (!secretPattern.test(secret)) {
        throw usageError(
          'the registration secret is 16 to 128 characters of A-Z, a-z, 0-9, _ and -',
        );
      }
      const ownerKeyFile = stringOption(values, 'owner-key');
      const ownerName = stringOption(values, 'owner');
      if ((ownerKeyFile === undefined) === (ownerName === undefined)) {
        throw usageError('give one of --owner-key FILE and --owner KEY');
      }
      let owner;
      if (ownerKeyFile !== undefined) {
        const record = readJsonInput(ownerKeyFile, 'the owner key') as { secretKey?: unknown };
        if (typeof record.secretKey !== 'string') {
          throw new CliError('invalid_file', `${ownerKeyFile} has no secretKey`);
        }
        try {
          owner = importKey(record.secretKey);
        } catch {
          throw new CliError(
            'invalid_secret_key',
            `${ownerKeyFile}: secretKey is not 64 hex digits`,
          );
        }
      } else {
        owner = await ctx.unlock(ownerName!);
      }
      const dir = dataDirOf(ctx, values);
      const { registerPrinter } = await import('./agent/enrol.js');
      let chainId = stringOption(values, 'chain-id');
      const registered = await asCli(async () => {
        try {
          return await registerPrinter(dir, {
            serverUrl,
            ca,
            secret,
            profile,
            owner,
            ...(chainId ? { chainId } : {}),
          });
        } catch (error) {
          if (!(error instanceof AgentError) || error.code !== 'chain_id_unknown') throw error;
          // The server does not say its chain: the node does.
          chainId = (await ctx.client.health()).chainId;
          return registerPrinter(dir, { serverUrl, ca, secret, profile, owner, chainId });
        }
      });
      ctx.print(
        ctx.json
          ? json({ ...registered, owner: owner.address, dataDir: dir.dir })
          : fields([
              ['printer id', registered.printerId],
              ['client id', registered.clientId],
              ['server', registered.server],
              ['owner', owner.address],
              ['prints at', registered.printsUrl],
              ['certificate', dir.file('clientCertificate')],
            ]),
      );
    },
  },
  {
    name: 'print-agent print',
    synopsis: 'TOKEN-ID --port PATH [--baud N] [--data-dir D]',
    summary:
      'redeem a print token and stream its G-code to the printer on PATH as it prints (nothing written to disk)',
    options: { ...dataDirOption, port: { type: 'string' }, baud: { type: 'string' } },
    positionals: { min: 1, max: 1 },
    usesNode: false,
    async run(ctx, positionals, values) {
      const tokenId = positionals[0]!;
      const portPath = requiredOption(values, 'port');
      const baudText = stringOption(values, 'baud');
      const baud = baudText === undefined ? undefined : Number(baudText);
      const dir = dataDirOf(ctx, values);
      const { printToken } = await import('./agent/print.js');
      const { openPrinterPort, closePrinterPort } = await import('./agent/serial.js');
      const abort = new AbortController();
      const stop = () => abort.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const bar = createProgress(process.stderr, {
        label: 'printing',
        total: 100,
        enabled: !ctx.json && process.stderr.isTTY === true,
      });
      try {
        const outcome = await asCli(async () => {
          dir.registration();
          const port = await openPrinterPort(portPath, baud);
          try {
            return await printToken(dir, {
              tokenId,
              port,
              signal: abort.signal,
              log: (line) => ctx.warn(line),
              onPercent: (percent) => bar.update(percent),
            });
          } finally {
            await closePrinterPort(port);
          }
        });
        bar.finish();
        ctx.print(
          ctx.json
            ? json(outcome)
            : fields([
                ['token', outcome.tokenId],
                ['outcome', outcome.outcome],
                ['lines', `${outcome.linesSent} of ${outcome.linesTotal}`],
                ['resends', outcome.resends],
                ['percent', outcome.percent],
                [
                  'error',
                  outcome.error ? `${outcome.error.code}: ${outcome.error.message}` : undefined,
                ],
              ]),
        );
        if (outcome.outcome === 'failed') {
          throw new CliError(
            outcome.error?.code ?? 'print_failed',
            outcome.error?.message ?? 'the print failed',
          );
        }
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    },
  },
  {
    name: 'print-agent status',
    synopsis: '[--data-dir D]',
    summary:
      "this board's hardware id, its printer's registration and chain status, the last print",
    options: { ...dataDirOption },
    positionals: { min: 0, max: 0 },
    async run(ctx, _positionals, values) {
      const dir = dataDirOf(ctx, values);
      const status = await asCli(async () => {
        const device = dir.has('deviceKey') ? dir.deviceKey() : undefined;
        const identity = dir.has('identity') ? dir.identity() : undefined;
        const registration = dir.has('registration') ? dir.registration() : undefined;
        let chain: { status: string } | { unreachable: string } | undefined;
        if (registration) {
          try {
            const printer = await ctx.client.printing.printer(registration.printerId);
            chain = { status: printer.status };
          } catch (error) {
            chain = { unreachable: (error as Error).message };
          }
        }
        return {
          dataDir: dir.dir,
          deviceKey: device?.publicKey ?? null,
          identity: identity ?? null,
          registration: registration ?? null,
          chain: chain ?? null,
          lastPrint: dir.lastPrint() ?? null,
        };
      });
      if (ctx.json) {
        ctx.print(json(status));
        return;
      }
      const { identity, registration, chain, lastPrint } = status;
      ctx.print(
        fields([
          ['data dir', status.dataDir],
          ['device key', status.deviceKey ?? 'none (run coffer print-agent init)'],
          ['hardware id', identity?.hardwareId ?? 'none'],
          ['authority', identity?.authority],
          ['printer id', registration?.printerId ?? 'not registered'],
          ['client id', registration?.clientId],
          ['server', registration?.serverUrl],
          ['owner', registration?.owner],
          [
            'on chain',
            chain === null
              ? undefined
              : 'status' in chain
                ? chain.status
                : `unknown (${chain.unreachable})`,
          ],
          [
            'last print',
            lastPrint
              ? `${lastPrint.tokenId} ${lastPrint.outcome} at ${lastPrint.percent}%` +
                (lastPrint.error ? ` (${lastPrint.error.code})` : '')
              : 'none',
          ],
        ]),
      );
    },
  },
];
