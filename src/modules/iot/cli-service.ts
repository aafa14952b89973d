import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
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
import type { IotKeyType } from './pki/certificates.js';

/*
 * `coffer iot ...`, the transport half (docs/iot-operators.md): the PKI (`ca-init`, `csr`,
 * `issue`, `server-cert`), the broker's configuration (`broker-config`), the payment service
 * (`serve`) and the device simulators (`simulate`). Keys are written with mode 0600 and never
 * printed; an existing key file is never overwritten.
 */

const keyTypeOption = { 'key-type': { type: 'string' } } as const;

function keyTypeOf(values: OptionValues): IotKeyType {
  const given = stringOption(values, 'key-type') ?? 'ed25519';
  if (given !== 'ed25519' && given !== 'p256') throw usageError('--key-type is ed25519 or p256');
  return given;
}

function daysOf(values: OptionValues): number | undefined {
  const given = stringOption(values, 'days');
  return given === undefined ? undefined : parseWholeNumber(given, '--days');
}

function readText(file: string, what: string): string {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile() || stat.size > 64 * 1024) {
      throw new CliError('invalid_file', `${what}: ${file} is not a small file`);
    }
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError('invalid_file', `${what}: cannot read ${file}: ${(error as Error).message}`);
  }
}

/** Writes a new file: `secret` ones with mode 0600, and an existing one is never replaced. */
function writeNew(file: string, text: string, secret: boolean): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text, { flag: 'wx', mode: secret ? 0o600 : 0o644 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'EEXIST' ? 'file_exists' : 'invalid_file',
      code === 'EEXIST'
        ? `${file} exists: choose another place (a key is never overwritten)`
        : `cannot write ${file}: ${(error as Error).message}`,
    );
  }
}

/** PKI input errors become the CLI's `invalid_input`, naming the field. */
async function pki<T>(work: () => Promise<T>): Promise<T> {
  const { PkiInputError } = await import('./pki/certificates.js');
  try {
    return await work();
  } catch (error) {
    if (error instanceof PkiInputError) throw new CliError('invalid_input', error.message);
    throw error;
  }
}

function caFiles(dir: string) {
  return { certificate: path.join(dir, 'ca.pem'), key: path.join(dir, 'ca.key') };
}

function loadCaDir(dir: string) {
  const files = caFiles(dir);
  return {
    certificatePem: readText(files.certificate, '--ca'),
    privateKeyPem: readText(files.key, '--ca'),
  };
}

/** The CN of a certificate: a device's id. */
function commonName(certificatePem: string): string {
  const match = /^CN=(.+)$/m.exec(new X509Certificate(certificatePem).subject);
  if (!match) throw new CliError('invalid_input', 'the certificate has no CN');
  return match[1]!;
}

function printResult(ctx: CommandContext, value: Record<string, unknown>): void {
  ctx.print(ctx.json ? json(value) : `${JSON.stringify(value)}\n`);
}

export const iotServiceCommands: Command[] = [
  {
    name: 'iot ca-init',
    synopsis: '--dir DIR --name NAME [--days N] [--key-type ed25519|p256]',
    summary: 'create a CA: DIR/ca.pem and DIR/ca.key (mode 0600)',
    options: {
      dir: { type: 'string' },
      name: { type: 'string' },
      days: { type: 'string' },
      ...keyTypeOption,
    },
    positionals: { min: 0, max: 0 },
    usesNode: false,
    async run(ctx, _positionals, values) {
      const dir = requiredOption(values, 'dir');
      const { createCa, certificateFingerprint } = await import('./pki/certificates.js');
      const days = daysOf(values);
      const ca = await pki(() =>
        createCa({
          name: requiredOption(values, 'name'),
          keyType: keyTypeOf(values),
          ...(days === undefined ? {} : { days }),
        }),
      );
      const files = caFiles(dir);
      writeNew(files.key, ca.privateKeyPem, true);
      writeNew(files.certificate, ca.certificatePem, false);
      const fingerprint = certificateFingerprint(ca.certificatePem);
      ctx.print(
        ctx.json
          ? json({ certificate: files.certificate, key: files.key, fingerprint })
          : fields([
              ['certificate', files.certificate],
              ['key', files.key],
              ['fingerprint', fingerprint],
            ]),
      );
    },
  },
  {
    name: 'iot csr',
    synopsis: '--id ID --role iot-device|service-device|wallet|service --out DIR [--key-type ...]',
    summary: "make a device's key (DIR/ID.key, mode 0600) and its CSR (DIR/ID.csr)",
    options: {
      id: { type: 'string' },
      role: { type: 'string' },
      out: { type: 'string' },
      ...keyTypeOption,
    },
    positionals: { min: 0, max: 0 },
    usesNode: false,
    async run(ctx, _positionals, values) {
      const id = requiredOption(values, 'id');
      const out = requiredOption(values, 'out');
      const { createCsr } = await import('./pki/certificates.js');
      const made = await pki(() =>
        createCsr({
          deviceId: id,
          role: requiredOption(values, 'role'),
          keyType: keyTypeOf(values),
        }),
      );
      const keyFile = path.join(out, `${id}.key`);
      const csrFile = path.join(out, `${id}.csr`);
      writeNew(keyFile, made.privateKeyPem, true);
      writeNew(csrFile, made.csrPem, false);
      ctx.print(
        ctx.json
          ? json({ csr: csrFile, key: keyFile })
          : fields([
              ['csr', csrFile],
              ['key', keyFile],
            ]),
      );
    },
  },
  {
    name: 'iot issue',
    synopsis: '--ca DIR --csr FILE --out FILE [--days N]',
    summary: "issue a device's certificate from its CSR (signature and subject checked)",
    options: {
      ca: { type: 'string' },
      csr: { type: 'string' },
      out: { type: 'string' },
      days: { type: 'string' },
    },
    positionals: { min: 0, max: 0 },
    usesNode: false,
    async run(ctx, _positionals, values) {
      const { issueCertificate, certificateFingerprint } = await import('./pki/certificates.js');
      const days = daysOf(values);
      const issued = await pki(() =>
        issueCertificate({
          ca: loadCaDir(requiredOption(values, 'ca')),
          csrPem: readText(requiredOption(values, 'csr'), '--csr'),
          ...(days === undefined ? {} : { days }),
        }),
      );
      const out = requiredOption(values, 'out');
      writeNew(out, issued.certificatePem, false);
      const summary = {
        certificate: out,
        deviceId: issued.deviceId,
        role: issued.role,
        fingerprint: certificateFingerprint(issued.certificatePem),
        notAfter: new X509Certificate(issued.certificatePem).validTo,
      };
      ctx.print(ctx.json ? json(summary) : fields(Object.entries(summary)));
    },
  },
  {
    name: 'iot server-cert',
    synopsis: '--ca DIR --out DIR [--days N]',
    summary:
      "the broker's certificate (CN and SAN localhost, 127.0.0.1): DIR/server.pem, DIR/server.key",
    options: { ca: { type: 'string' }, out: { type: 'string' }, days: { type: 'string' } },
    positionals: { min: 0, max: 0 },
    usesNode: false,
    async run(ctx, _positionals, values) {
      const { createServerCertificate } = await import('./pki/certificates.js');
      const days = daysOf(values);
      const made = await pki(() =>
        createServerCertificate({
          ca: loadCaDir(requiredOption(values, 'ca')),
          ...(days === undefined ? {} : { days }),
        }),
      );
      const out = requiredOption(values, 'out');
      const keyFile = path.join(out, 'server.key');
      const certificateFile = path.join(out, 'server.pem');
      writeNew(keyFile, made.privateKeyPem, true);
      writeNew(certificateFile, made.certificatePem, false);
      ctx.print(
        ctx.json
          ? json({ certificate: certificateFile, key: keyFile })
          : fields([
              ['certificate', certificateFile],
              ['key', keyFile],
            ]),
      );
    },
  },
  {
    name: 'iot broker-config',
    synopsis: '--ca DIR --server DIR --dir DIR [--port N] [--host H] [--persistence DIR]',
    summary: 'write mosquitto.conf and its ACL for the IoT broker (TLS, client certificates)',
    options: {
      ca: { type: 'string' },
      server: { type: 'string' },
      dir: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      persistence: { type: 'string' },
    },
    positionals: { min: 0, max: 0 },
    usesNode: false,
    async run(ctx, _positionals, values) {
      const { writeBrokerConfig } = await import('./service/broker-config.js');
      const server = requiredOption(values, 'server');
      const persistence = stringOption(values, 'persistence');
      const host = stringOption(values, 'host');
      const file = writeBrokerConfig({
        dir: requiredOption(values, 'dir'),
        port: parseWholeNumber(stringOption(values, 'port') ?? '8883', '--port'),
        ...(host === undefined ? {} : { host }),
        caFile: caFiles(requiredOption(values, 'ca')).certificate,
        certFile: path.join(server, 'server.pem'),
        keyFile: path.join(server, 'server.key'),
        ...(persistence === undefined ? {} : { persistenceDir: persistence }),
      });
      ctx.print(ctx.json ? json({ config: file }) : `${file}\nrun: mosquitto -c ${file}\n`);
    },
  },
  {
    name: 'iot serve',
    synopsis: '--config FILE',
    summary: 'run the IoT payment service (MQTT and HTTP) until stopped',
    options: { config: { type: 'string' } },
    positionals: { min: 0, max: 0 },
    usesNode: false,
    async run(ctx, _positionals, values) {
      const { loadIotServiceConfig, IotServiceConfigError } = await import('./service/config.js');
      const { startIotService } = await import('./service/server.js');
      let service;
      try {
        service = await startIotService(loadIotServiceConfig(requiredOption(values, 'config')));
      } catch (error) {
        if (error instanceof IotServiceConfigError) throw new CliError(error.code, error.message);
        throw error;
      }
      ctx.print(`iot service listening on ${service.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await service.close();
    },
  },
  {
    name: 'iot simulate',
    synopsis:
      'charger|parking|scooter|car --broker URL --ca FILE --cert FILE --key FILE [--chain-id ID] ' +
      '(a service device: --iot-device ID --session ID --authorisation SIG [--period-ms N]; ' +
      'car: --service ID --session ID [--results N])',
    summary: 'play a device on the broker: a service device runs a session, a car authorises one',
    options: {
      broker: { type: 'string' },
      ca: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      'chain-id': { type: 'string' },
      'iot-device': { type: 'string' },
      service: { type: 'string' },
      session: { type: 'string' },
      authorisation: { type: 'string' },
      'period-ms': { type: 'string' },
      results: { type: 'string' },
    },
    positionals: { min: 1, max: 1 },
    async run(ctx, positionals, values) {
      const role = positionals[0]!;
      if (!['charger', 'parking', 'scooter', 'car'].includes(role)) {
        throw usageError('simulate charger, parking, scooter or car');
      }
      const { DeviceConnection } = await import('./sim/device.js');
      const billing = await import('./sim/billing.js');
      const certificatePem = readText(requiredOption(values, 'cert'), '--cert');
      const privateKeyPem = readText(requiredOption(values, 'key'), '--key');
      const deviceId = commonName(certificatePem);
      const chainId = stringOption(values, 'chain-id') ?? (await ctx.client.health()).chainId;
      const sessionId = requiredOption(values, 'session');
      const device = await DeviceConnection.connect({
        url: requiredOption(values, 'broker'),
        deviceId,
        tls: { ca: readText(requiredOption(values, 'ca'), '--ca'), certificatePem, privateKeyPem },
      });
      try {
        if (role === 'car') {
          const serviceDevice = requiredOption(values, 'service');
          const authorisation = billing.authorise(
            chainId,
            { serviceDevice, iotDevice: deviceId, sessionId },
            privateKeyPem,
          );
          printResult(ctx, { iotDevice: deviceId, serviceDevice, sessionId, authorisation });
          const wanted = parseWholeNumber(stringOption(values, 'results') ?? '5', '--results');
          for (let i = 0; i < wanted; i++) {
            printResult(
              ctx,
              await device.nextResult((r) => r.sessionId === sessionId, 10 * 60_000),
            );
          }
          return;
        }
        const profile = billing.simulatorProfiles[role as 'charger' | 'parking' | 'scooter'];
        const { runServiceSession } = await import('./sim/session.js');
        await runServiceSession({
          chainId,
          device,
          key: privateKeyPem,
          iotDevice: requiredOption(values, 'iot-device'),
          sessionId,
          authorisation: requiredOption(values, 'authorisation'),
          tariff: profile.tariff,
          meterStart: profile.meterStart,
          steps: profile.steps,
          periodMs: parseWholeNumber(stringOption(values, 'period-ms') ?? '900000', '--period-ms'),
          onResult: (result) => printResult(ctx, result),
        });
      } finally {
        await device.close();
      }
    },
  },
];
