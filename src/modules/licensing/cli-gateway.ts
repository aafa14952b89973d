import fs from 'node:fs';
import path from 'node:path';
import { parseWholeNumber, requiredOption, stringOption, type Command } from '../../cli/context.js';
import { CliError, usageError } from '../../cli/errors.js';
import { fields, json } from '../../cli/output.js';
import { sha256Hex } from '../../crypto/index.js';
import { signHex, uploadAuthorisationMessage, uploadMessage } from './gateway/messages.js';

/*
 * `coffer content gateway init|serve` and `coffer content upload` (docs/licensing-gateway.md):
 * the content gateway's operator commands, and an owner's upload, which answers the publicKey
 * that `content.register` names. The master key is written with mode 0600 and never printed; an
 * existing key or config is never overwritten.
 */

/** Media types of the files an owner usually uploads; anything else needs --type. */
const mediaTypes: Record<string, string> = {
  '.webm': 'video/webm',
  '.mp4': 'video/mp4',
  '.mkv': 'video/x-matroska',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.epub': 'application/epub+zip',
};

export const gatewayCommands: Command[] = [
  {
    name: 'content gateway init',
    synopsis: '--dir DIR [--port N] [--host H]',
    summary: 'create a gateway data directory: DIR/master.key (mode 0600) and DIR/gateway.json',
    options: { dir: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' } },
    positionals: { min: 0, max: 0 },
    async run(ctx, _positionals, values) {
      const dir = path.resolve(requiredOption(values, 'dir'));
      const { initGatewayDataDir } = await import('./gateway/storage.js');
      const { parseGatewayConfig } = await import('./gateway/config.js');
      const port = stringOption(values, 'port');
      const config = {
        node: { url: ctx.nodeUrl },
        dataDir: '.',
        http: {
          host: stringOption(values, 'host') ?? '127.0.0.1',
          port: port === undefined ? 8792 : parseWholeNumber(port, '--port'),
        },
        territories: [],
      };
      parseGatewayConfig(config, dir); // the file written is one `serve` takes
      const { masterKeyFile, created } = initGatewayDataDir(dir);
      const configFile = path.join(dir, 'gateway.json');
      try {
        fs.writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`, {
          flag: 'wx',
          mode: 0o644,
        });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if (created) throw new CliError('file_exists', `${configFile} exists: it is kept`);
        throw new CliError(
          'file_exists',
          `${dir} holds a gateway already (master.key, gateway.json)`,
        );
      }
      ctx.print(
        ctx.json
          ? json({ config: configFile, masterKey: masterKeyFile })
          : fields([
              ['config', configFile],
              ['master key', masterKeyFile],
              ['run', `coffer content gateway serve --config ${configFile}`],
            ]),
      );
    },
  },
  {
    name: 'content gateway serve',
    synopsis: '--config FILE',
    summary: 'run the content gateway (uploads, access tokens, encrypted streaming) until stopped',
    options: { config: { type: 'string' } },
    positionals: { min: 0, max: 0 },
    usesNode: false,
    async run(ctx, _positionals, values) {
      const { loadGatewayConfig, GatewayConfigError } = await import('./gateway/config.js');
      const { startGateway } = await import('./gateway/server.js');
      const { GatewayStoreError } = await import('./gateway/storage.js');
      let running;
      try {
        running = await startGateway(loadGatewayConfig(requiredOption(values, 'config')));
      } catch (error) {
        if (error instanceof GatewayConfigError) throw new CliError(error.code, error.message);
        if (error instanceof GatewayStoreError) throw new CliError('invalid_config', error.message);
        throw error;
      }
      ctx.print(`content gateway listening on ${running.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await running.close();
    },
  },
  {
    name: 'content upload',
    synopsis: 'FILE --gateway URL --from KEY [--type MEDIA-TYPE]',
    summary:
      "encrypt a file on the gateway as KEY's; prints the contentId and publicKey to register",
    options: {
      gateway: { type: 'string' },
      from: { type: 'string' },
      type: { type: 'string' },
    },
    positionals: { min: 1, max: 1 },
    usesNode: false,
    async run(ctx, positionals, values) {
      const file = positionals[0]!;
      const gateway = requiredOption(values, 'gateway').replace(/\/+$/, '');
      if (!/^https?:\/\/[^\s]+$/.test(gateway))
        throw usageError('--gateway must be an http(s) URL');
      const mediaType =
        stringOption(values, 'type') ?? mediaTypes[path.extname(file).toLowerCase()];
      if (mediaType === undefined) {
        throw usageError(
          `--type is needed: ${path.extname(file) || 'no extension'} names no media type`,
        );
      }
      let body: Buffer;
      try {
        body = fs.readFileSync(file);
      } catch (error) {
        throw new CliError('invalid_file', `cannot read ${file}: ${(error as Error).message}`);
      }
      if (body.length === 0) throw new CliError('invalid_file', `${file} is empty`);
      const key = await ctx.unlock(requiredOption(values, 'from'));
      const time = Date.now();
      const signature = signHex(
        uploadMessage({ bodySha256: sha256Hex(body), owner: key.address, time }),
        key.secretKey,
      );
      let response: Response;
      try {
        response = await fetch(`${gateway}/v1/gateway/uploads`, {
          method: 'POST',
          headers: {
            'content-type': mediaType,
            'x-coffer-owner': key.address,
            'x-coffer-time': String(time),
            'x-coffer-signature': signature,
            'x-coffer-upload-authorisation': signHex(
              uploadAuthorisationMessage({ owner: key.address, time, length: body.length }),
              key.secretKey,
            ),
          },
          body,
        });
      } catch (error) {
        throw new CliError(
          'gateway_unreachable',
          `cannot reach ${gateway}: ${(error as Error).message}`,
        );
      }
      const answer = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      if (!response.ok) {
        const error = (answer.error ?? {}) as { code?: string; message?: string };
        throw new CliError(
          error.code ?? `http_${response.status}`,
          error.message ?? `the gateway answered ${response.status}`,
        );
      }
      ctx.print(
        ctx.json
          ? json(answer)
          : fields([
              ['contentId', String(answer.contentId)],
              ['publicKey', String(answer.publicKey)],
              ['proof', String(answer.proof)],
              ['size', Number(answer.size)],
              ['mediaType', String(answer.mediaType)],
              [
                'next',
                'register it within the hour: content.register {contentId, title, mediaType, size, publicKey, proof}',
              ],
            ]),
      );
    },
  },
];
