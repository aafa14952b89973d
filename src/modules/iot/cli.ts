import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import {
  pageLimitOption,
  parseWholeNumber,
  requiredOption,
  stringOption,
  type Command,
  type CommandContext,
} from '../../cli/context.js';
import { CliError, usageError } from '../../cli/errors.js';
import { fields, json, table } from '../../cli/output.js';
import { report, submitTx } from '../../cli/payments.js';
import {
  certificatePemBytesMax,
  iotTxBuilders,
  isDeviceId,
  isFingerprint,
  isSessionId,
  sessionStatuses,
  type CaRecord,
  type DeviceView,
  type SessionStatus,
  type SessionView,
} from './client.js';
import { possessionProof } from './crypto.js';

/*
 * `coffer iot ...`, the chain's side of IoT payments (issue 20): CAs (register, revoke, list),
 * device certificates (enrol, revoke, show), links and tariffs, sessions (list, show). The
 * transport's commands (`iot ca-init|csr|issue|serve|simulate`) are its own file's. Starting,
 * billing and ending a session are the devices' signed messages, relayed by the payment service.
 */

const fromOption = { from: { type: 'string' } } as const;

function readPem(file: string, what: string): string {
  try {
    if (fs.statSync(file).size > certificatePemBytesMax) throw new Error('larger than 4096 bytes');
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError('invalid_file', `cannot read ${what} ${file}: ${(error as Error).message}`);
  }
}

function deviceIdArgument(text: string, what: string): string {
  if (!isDeviceId(text)) throw usageError(`${what} must be a deviceId (a-z, 0-9, "-")`);
  return text;
}

function describeCa(ca: CaRecord): string {
  return fields([
    ['ca', ca.ca],
    ['name', ca.name],
    ['status', ca.status],
    ['operator', ca.operator],
    ['subject', ca.subject.replaceAll('\n', ', ')],
    ['key', ca.keyType],
    ['valid', `${new Date(ca.validFrom).toISOString()} to ${new Date(ca.validTo).toISOString()}`],
    ['registered at', ca.registeredAtHeight],
  ]);
}

function describeDevice(view: DeviceView): string {
  const { device } = view;
  const rows: [string, string | number | undefined][] = [
    ['device', device.deviceId],
    ['role', device.role],
    ['status', device.status],
    ['owner', device.owner],
    ['ca', `${device.ca} (${view.caStatus})`],
    ['fingerprint', device.fingerprint],
    ['valid to', new Date(device.validTo).toISOString()],
    ['renewals', device.renewals],
  ];
  if (device.revoked) rows.push(['revoked', `${device.revoked.reason} (by ${device.revoked.by})`]);
  if (view.link) {
    const m = view.link.mandate;
    rows.push(['wallet', `${view.link.wallet} (payer ${view.link.payer}, ${view.link.asset})`]);
    rows.push(['mandate', `session ${m.sessionMax}, day ${m.dayMax}, ${m.sessionBlocks} blocks`]);
    rows.push(['merchants', m.merchants.join(', ')]);
  }
  if (view.tariff) {
    const t = view.tariff;
    rows.push(['tariff', `${t.unitPrice} ${t.asset} per ${t.unitsPer} ${t.unit}`]);
    rows.push(['max rate', `${t.maxRatePerHour} ${t.unit}/h`]);
    rows.push(['provider', t.provider]);
  }
  return fields(rows);
}

function sessionRow(s: SessionView): string[] {
  return [
    `${s.serviceDevice}/${s.sessionId}`,
    s.iotDevice,
    s.status,
    `${s.captured}/${s.held} ${s.asset}`,
    s.remaining,
    String(s.lastSeq),
  ];
}

/**
 * Sends `iot.enrol` or `iot.registerCa` from `from` with the proof that it holds the certificate's
 * key (KEY.pem, PKCS#8): the key signs the certificate's fingerprint and the sender's address.
 */
async function sendWithProof(
  ctx: CommandContext,
  from: string,
  kind: 'enrol' | 'registerCa',
  certificate: string,
  keyFile: string,
  build: (proof: string) => { type: string; payload: Record<string, unknown> },
  title: string,
): Promise<void> {
  let privateKey: string;
  try {
    new X509Certificate(certificate);
    privateKey = fs.readFileSync(keyFile, 'utf8');
  } catch (error) {
    throw new CliError(
      'invalid_file',
      `cannot read the certificate or KEY: ${(error as Error).message}`,
    );
  }
  const key = await ctx.unlock(from);
  const { chainId } = await ctx.client.health();
  let proof: string;
  try {
    proof = possessionProof(kind, chainId, certificate, privateKey, key.address);
  } catch (error) {
    throw new CliError('invalid_file', `KEY cannot sign: ${(error as Error).message}`);
  }
  report(ctx, await submitTx(ctx, key, build(proof), undefined), title);
}

async function sendTx(
  ctx: CommandContext,
  from: string,
  tx: { type: string; payload: Record<string, unknown> },
  title: string,
): Promise<void> {
  const key = await ctx.unlock(from);
  report(ctx, await submitTx(ctx, key, tx, undefined), title);
}

export const iotCommands: Command[] = [
  {
    name: 'iot ca-register',
    synopsis: 'CERT.pem --key KEY.pem --name NAME --from NAME',
    summary:
      'register a self-signed CA certificate (KEY.pem, its key, proves possession); the --from account becomes its operator',
    options: { ...fromOption, name: { type: 'string' }, key: { type: 'string' } },
    positionals: { min: 1, max: 1 },
    async run(ctx, [file], values) {
      const name = requiredOption(values, 'name');
      const certificate = readPem(file!, 'CERT');
      await sendWithProof(
        ctx,
        requiredOption(values, 'from'),
        'registerCa',
        certificate,
        requiredOption(values, 'key'),
        (proof) => iotTxBuilders.registerCa(name, certificate, proof),
        `CA registered`,
      );
    },
  },
  {
    name: 'iot ca-revoke',
    synopsis: 'CA --from NAME',
    summary: 'revoke a CA (its operator): none of its devices starts or bills again',
    options: fromOption,
    positionals: { min: 1, max: 1 },
    async run(ctx, [ca], values) {
      if (!isFingerprint(ca)) throw usageError('CA must be 64 lowercase hex digits');
      await sendTx(ctx, requiredOption(values, 'from'), iotTxBuilders.revokeCa(ca), `CA revoked`);
    },
  },
  {
    name: 'iot cas',
    synopsis: '[CA] [--after CA] [--limit N]',
    summary: 'list registered CAs, or show one',
    options: { after: { type: 'string' }, limit: { type: 'string' } },
    positionals: { min: 0, max: 1 },
    async run(ctx, [ca], values) {
      if (ca !== undefined) {
        const record = await ctx.client.iot.ca(ca);
        ctx.print(ctx.json ? json(record) : describeCa(record));
        return;
      }
      const after = stringOption(values, 'after');
      const limit = pageLimitOption(values);
      const page = await ctx.client.iot.cas({
        ...(after === undefined ? {} : { after }),
        ...(limit === undefined ? {} : { limit }),
      });
      if (ctx.json) return ctx.print(json(page));
      ctx.print(
        table(
          ['ca', 'name', 'status', 'operator'],
          page.cas.map((c) => [c.ca.slice(0, 16), c.name, c.status, c.operator]),
        ),
      );
      if (page.next) ctx.print(`more: --after ${page.next}\n`);
    },
  },
  {
    name: 'iot enrol',
    synopsis: 'CERT.pem --key KEY.pem --from NAME',
    summary:
      'enrol (or renew) a device certificate a registered CA issued (KEY.pem, its key, proves possession); the --from account owns the device',
    options: { ...fromOption, key: { type: 'string' } },
    positionals: { min: 1, max: 1 },
    async run(ctx, [file], values) {
      const certificate = readPem(file!, 'CERT');
      await sendWithProof(
        ctx,
        requiredOption(values, 'from'),
        'enrol',
        certificate,
        requiredOption(values, 'key'),
        (proof) => iotTxBuilders.enrol(certificate, proof),
        `device enrolled`,
      );
    },
  },
  {
    name: 'iot revoke',
    synopsis: 'DEVICE --reason TEXT --from NAME',
    summary: "revoke a device's certificate (its owner or its CA's operator)",
    options: { ...fromOption, reason: { type: 'string' } },
    positionals: { min: 1, max: 1 },
    async run(ctx, [device], values) {
      const tx = iotTxBuilders.revoke(
        deviceIdArgument(device!, 'DEVICE'),
        requiredOption(values, 'reason'),
      );
      await sendTx(ctx, requiredOption(values, 'from'), tx, `device ${device} revoked`);
    },
  },
  {
    name: 'iot device',
    synopsis: 'DEVICE | --owner ADDRESS [--after DEVICE] [--limit N]',
    summary: "show a device (certificate, link or tariff), or list an account's devices",
    options: { owner: { type: 'string' }, after: { type: 'string' }, limit: { type: 'string' } },
    positionals: { min: 0, max: 1 },
    async run(ctx, [device], values) {
      if (device !== undefined) {
        const view = await ctx.client.iot.device(deviceIdArgument(device, 'DEVICE'));
        ctx.print(ctx.json ? json(view) : describeDevice(view));
        return;
      }
      const owner = ctx.resolveAddress(requiredOption(values, 'owner'), '--owner');
      const after = stringOption(values, 'after');
      const limit = pageLimitOption(values);
      const page = await ctx.client.iot.devices(owner, {
        ...(after === undefined ? {} : { after }),
        ...(limit === undefined ? {} : { limit }),
      });
      if (ctx.json) return ctx.print(json(page));
      ctx.print(
        table(
          ['device', 'role', 'status', 'valid to'],
          page.devices.map((d) => [
            d.deviceId,
            d.role,
            d.status,
            new Date(d.validTo).toISOString(),
          ]),
        ),
      );
      if (page.next) ctx.print(`more: --after ${page.next}\n`);
    },
  },
  {
    name: 'iot link',
    synopsis:
      'IOT-DEVICE --wallet DEVICE --asset SYMBOL --session-max N --day-max N --session-blocks N --merchant DEVICE... --from NAME',
    summary:
      'link an iot device to your wallet under a mandate (the owner of both): you pay its sessions',
    options: {
      ...fromOption,
      wallet: { type: 'string' },
      asset: { type: 'string' },
      'session-max': { type: 'string' },
      'day-max': { type: 'string' },
      'session-blocks': { type: 'string' },
      merchant: { type: 'string', multiple: true },
    },
    positionals: { min: 1, max: 1 },
    async run(ctx, [iotDevice], values) {
      const merchants = values.merchant;
      if (!Array.isArray(merchants) || merchants.length === 0) {
        throw usageError('name at least one --merchant (a service device)');
      }
      const tx = iotTxBuilders.link(
        deviceIdArgument(iotDevice!, 'IOT-DEVICE'),
        deviceIdArgument(requiredOption(values, 'wallet'), '--wallet'),
        requiredOption(values, 'asset'),
        {
          sessionMax: requiredOption(values, 'session-max'),
          dayMax: requiredOption(values, 'day-max'),
          sessionBlocks: parseWholeNumber(
            requiredOption(values, 'session-blocks'),
            '--session-blocks',
          ),
          merchants: merchants.map((m) => deviceIdArgument(String(m), '--merchant')),
        },
      );
      await sendTx(ctx, requiredOption(values, 'from'), tx, `${iotDevice} linked`);
    },
  },
  {
    name: 'iot unlink',
    synopsis: 'IOT-DEVICE --from NAME',
    summary: 'remove the link of an iot device (its payer): it starts no more sessions',
    options: fromOption,
    positionals: { min: 1, max: 1 },
    async run(ctx, [iotDevice], values) {
      const tx = iotTxBuilders.unlink(deviceIdArgument(iotDevice!, 'IOT-DEVICE'));
      await sendTx(ctx, requiredOption(values, 'from'), tx, `${iotDevice} unlinked`);
    },
  },
  {
    name: 'iot tariff',
    synopsis:
      'SERVICE-DEVICE --asset SYMBOL --unit UNIT --unit-price N [--units-per N] --max-rate N [--provider ADDRESS] --from NAME',
    summary:
      "set a service device's tariff (its owner): price = floor(usage * unit-price / units-per)",
    options: {
      ...fromOption,
      asset: { type: 'string' },
      unit: { type: 'string' },
      'unit-price': { type: 'string' },
      'units-per': { type: 'string' },
      'max-rate': { type: 'string' },
      provider: { type: 'string' },
    },
    positionals: { min: 1, max: 1 },
    async run(ctx, [serviceDevice], values) {
      const provider = stringOption(values, 'provider');
      const unitsPer = stringOption(values, 'units-per');
      const tx = iotTxBuilders.setTariff({
        serviceDevice: deviceIdArgument(serviceDevice!, 'SERVICE-DEVICE'),
        asset: requiredOption(values, 'asset'),
        unit: requiredOption(values, 'unit'),
        unitPrice: requiredOption(values, 'unit-price'),
        unitsPer: unitsPer === undefined ? 1 : parseWholeNumber(unitsPer, '--units-per'),
        maxRatePerHour: parseWholeNumber(requiredOption(values, 'max-rate'), '--max-rate'),
        ...(provider === undefined ? {} : { provider: ctx.resolveAddress(provider, '--provider') }),
      });
      await sendTx(ctx, requiredOption(values, 'from'), tx, `tariff of ${serviceDevice} set`);
    },
  },
  {
    name: 'iot sessions',
    synopsis:
      '[--service-device DEVICE] [--iot-device DEVICE] [--payer ADDRESS] [--status open|capped|ended|expired] [--after CURSOR] [--limit N]',
    summary: 'list sessions by service device, iot device, payer and status',
    options: {
      'service-device': { type: 'string' },
      'iot-device': { type: 'string' },
      payer: { type: 'string' },
      status: { type: 'string' },
      after: { type: 'string' },
      limit: { type: 'string' },
    },
    positionals: { min: 0, max: 0 },
    async run(ctx, _positionals, values) {
      const serviceDevice = stringOption(values, 'service-device');
      const iotDevice = stringOption(values, 'iot-device');
      const payer = stringOption(values, 'payer');
      const status = stringOption(values, 'status');
      if (status !== undefined && !(sessionStatuses as readonly string[]).includes(status)) {
        throw usageError(`--status must be one of ${sessionStatuses.join(', ')}`);
      }
      const after = stringOption(values, 'after');
      const limit = pageLimitOption(values);
      const page = await ctx.client.iot.sessions({
        ...(serviceDevice === undefined
          ? {}
          : { serviceDevice: deviceIdArgument(serviceDevice, '--service-device') }),
        ...(iotDevice === undefined
          ? {}
          : { iotDevice: deviceIdArgument(iotDevice, '--iot-device') }),
        ...(payer === undefined ? {} : { payer: ctx.resolveAddress(payer, '--payer') }),
        ...(status === undefined ? {} : { status: status as SessionStatus }),
        ...(after === undefined ? {} : { after }),
        ...(limit === undefined ? {} : { limit }),
      });
      if (ctx.json) return ctx.print(json(page));
      ctx.print(
        table(
          ['session', 'iot device', 'status', 'captured/held', 'remaining', 'bills'],
          page.sessions.map(sessionRow),
        ),
      );
      if (page.next) ctx.print(`more: --after ${page.next}\n`);
    },
  },
  {
    name: 'iot session',
    synopsis: 'SERVICE-DEVICE SESSION',
    summary: "show a session and its bills' results",
    positionals: { min: 2, max: 2 },
    async run(ctx, [serviceDevice, sessionId]) {
      if (!isSessionId(sessionId)) throw usageError('SESSION must be a session id');
      const detail = await ctx.client.iot.session(
        deviceIdArgument(serviceDevice!, 'SERVICE-DEVICE'),
        sessionId,
      );
      if (ctx.json) return ctx.print(json(detail));
      const s = detail.session;
      ctx.print(
        fields([
          ['session', `${s.serviceDevice}/${s.sessionId}`],
          ['iot device', s.iotDevice],
          ['status', s.status],
          ['payer', s.payer],
          ['provider', s.provider],
          ['held', `${s.held} ${s.asset} (hold ${s.holdId}, expires at ${s.expiresAtHeight})`],
          ['captured', s.captured],
          ['unpaid', s.unpaid],
          ['remaining', s.remaining],
          ['usage', `${s.usage} ${s.tariff.unit}`],
        ]),
      );
      ctx.print(
        table(
          ['seq', 'amount', 'captured', 'status', 'bill tx'],
          detail.bills.map((b) => [String(b.seq), b.amount, b.captured, b.status, b.billTx]),
        ),
      );
    },
  },
];
