import {
  expectOk,
  runTx,
  testKey as key,
  txHashOf,
  type TestKey,
  type TxEvent,
} from '../../../test/support/tx-runner.js';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ledgerModule, type TxDefinition } from '../../chain/index.js';
import { Ledger } from '../../ledger/index.js';
import { StateView } from '../../state/index.js';
import {
  possessionProof as cryptoPossessionProof,
  signIotRequest,
  type IotFields,
} from './crypto.js';
import {
  authoriseFields,
  type BillRequest,
  type EndRequest,
  type Mandate,
  type StartRequest,
} from './schema.js';
import { iotTxs } from './txs.js';

/*
 * The iot module's handlers in process. Certificates come from the `openssl` CLI (node cannot
 * make them), into one temporary directory per test process, each made once and cached: a CA is
 * self-signed with cA=true, a party certificate is issued from a CSR with subject
 * `/O=Coffer IoT/OU=<role>/CN=<deviceId>` and clientAuth. The world's clock starts now (the
 * certificates' validity starts at the real clock), and its ledger refunds expired holds at the
 * start of each tx, as a block would.
 */

export const chainId = 'coffer-iot-unit';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-iot-certs-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

let files = 0;
function file(name: string): string {
  files += 1;
  return path.join(dir, `${files}-${name}`);
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export type KeyAlgorithm = 'ed25519' | 'p256' | 'ed448';

function newKey(algorithm: KeyAlgorithm): string {
  const out = file('key.pem');
  if (algorithm === 'p256') {
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', out]);
  } else openssl(['genpkey', '-algorithm', algorithm, '-out', out]);
  return out;
}

export interface TestCa {
  name: string;
  pem: string;
  certFile: string;
  keyFile: string;
}

export interface TestCert {
  deviceId: string;
  role: string;
  pem: string;
  key: KeyObject;
}

const cache = new Map<string, TestCa | TestCert>();

/** Every key made here, by its public key's SPKI DER (hex): the world signs possession proofs. */
const keysByPublic = new Map<string, KeyObject>();

function remember(privateKey: KeyObject): KeyObject {
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).toString('hex');
  keysByPublic.set(spki, privateKey);
  return privateKey;
}

/**
 * The possession proof of `certificate` for `sender` (`kind`), signed with the key the fixture
 * made for it; a well-formed but wrong signature when the certificate does not parse or its key
 * is not one of ours.
 */
export function possessionProof(
  kind: 'enrol' | 'registerCa',
  certificate: string,
  sender: string,
): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certificate);
  } catch {
    return 'A'.repeat(86);
  }
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' }).toString('hex');
  const privateKey = keysByPublic.get(spki);
  // An ed448 key (unsupported) signs nothing the schema takes.
  if (privateKey === undefined || privateKey.asymmetricKeyType === 'ed448') return 'A'.repeat(86);
  return cryptoPossessionProof(kind, chainId, certificate, privateKey, sender);
}

/** A self-signed CA certificate (`/O=Coffer IoT/OU=ca/CN=<name>`), made once per `tag`. */
export function makeCa(
  name: string,
  options: { days?: number; algorithm?: KeyAlgorithm; tag?: string } = {},
): TestCa {
  const tag = `ca:${options.tag ?? name}`;
  const cached = cache.get(tag) as TestCa | undefined;
  if (cached) return cached;
  const keyFile = newKey(options.algorithm ?? 'ed25519');
  const certFile = file('ca.pem');
  openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    keyFile,
    '-subj',
    `/O=Coffer IoT/OU=ca/CN=${name}`,
    '-days',
    String(options.days ?? 3650),
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    certFile,
  ]);
  remember(createPrivateKey(fs.readFileSync(keyFile, 'utf8')));
  const ca = { name, pem: fs.readFileSync(certFile, 'utf8'), certFile, keyFile };
  cache.set(tag, ca);
  return ca;
}

let serial = 0;

/** A party certificate the CA issues from a CSR, made once per `tag` (default: the subject). */
export function issue(
  ca: TestCa,
  role: string,
  deviceId: string,
  options: {
    days?: number;
    algorithm?: KeyAlgorithm;
    tag?: string;
    extensions?: string;
    subject?: string;
  } = {},
): TestCert {
  const tag = `cert:${ca.certFile}:${options.tag ?? `${role}/${deviceId}`}`;
  const cached = cache.get(tag) as TestCert | undefined;
  if (cached) return cached;
  const keyFile = newKey(options.algorithm ?? 'ed25519');
  const csr = file('csr.pem');
  openssl([
    'req',
    '-new',
    '-key',
    keyFile,
    '-subj',
    options.subject ?? `/O=Coffer IoT/OU=${role}/CN=${deviceId}`,
    '-out',
    csr,
  ]);
  const ext = file('ext.cnf');
  fs.writeFileSync(
    ext,
    options.extensions ?? 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n',
  );
  const out = file('cert.pem');
  serial += 1;
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.certFile,
    '-CAkey',
    ca.keyFile,
    '-set_serial',
    String(1000 + serial),
    '-days',
    String(options.days ?? 365),
    '-extfile',
    ext,
    '-out',
    out,
  ]);
  const cert = {
    deviceId,
    role,
    pem: fs.readFileSync(out, 'utf8'),
    key: remember(createPrivateKey(fs.readFileSync(keyFile, 'utf8'))),
  };
  cache.set(tag, cert);
  return cert;
}

// ---- accounts and the world ---------------------------------------------------------------------

export { expectOk, key, type TestKey, type TxEvent };

export const issuer = key(60);
export const caOperator = key(61);
/** Owns the car (iot device) and the wallet: the payer. */
export const owner = key(62);
/** Owns the charger (service device): the provider. */
export const provider = key(63);
export const outsider = key(64);
export const relay = key(65);
export const asset = 'USD';
export const funds = 1_000_000n;

const txs: Record<string, TxDefinition<never>> = { ...ledgerModule.txs, ...iotTxs };

/** A chain in miniature: each successful tx is a block (height + 1, time + `blockMs`). */
export class IotWorld {
  readonly state = new StateView({ get: () => undefined, range: () => [] });
  /** Just after the real clock: the certificates made now are valid. */
  // eslint-disable-next-line no-restricted-globals -- a test fixture: openssl dates certificates by the real clock
  time = Math.ceil(Date.now() / 1000) * 1000 + 1000;
  height = 1;
  blockMs = 1000;
  private count = 0;
  events: TxEvent[] = [];
  field: string | undefined;

  ledger(): Ledger {
    return new Ledger(this.state);
  }

  /** Runs one tx: 'ok', or the rejection code (the state as it was, no events). */
  run(sender: TestKey | string, type: string, payload: Record<string, unknown>): string {
    this.count += 1;
    const ledger = new Ledger(this.state);
    ledger.expireHolds(this.height);
    this.state.release();
    const senderAddress = typeof sender === 'string' ? sender : sender.address;
    // Enrolments and CA registrations without a proof get the right one, when the key is ours.
    const kind = { 'iot.enrol': 'enrol', 'iot.registerCa': 'registerCa' } as const;
    if ((type === 'iot.enrol' || type === 'iot.registerCa') && !('proof' in payload)) {
      const certificate = String(payload.certificate);
      payload = { ...payload, proof: possessionProof(kind[type], certificate, senderAddress) };
    }
    const result = runTx(
      txs,
      {
        chainId,
        height: this.height,
        time: this.time,
        txHash: txHashOf(this.count),
        sender: senderAddress,
        state: this.state,
        ledger,
      },
      type,
      payload,
    );
    this.events = result.events;
    this.field = result.field;
    if (result.status !== 'ok') return result.status;
    this.height += 1;
    this.time += this.blockMs;
    return 'ok';
  }

  /** The hash the next tx will have (a session's hold id is its start tx's hash). */
  nextTxHash(): string {
    return txHashOf(this.count + 1);
  }

  /** Moves the chain on by empty blocks. */
  advance(blocks: number, ms = blocks * this.blockMs): void {
    this.height += blocks;
    this.time += ms;
  }

  /** Every key and value of the state, sorted (to show that a rejection changed nothing). */
  contents(): [string, string][] {
    return [...this.state.range('iot/', 1_000_000), ...this.state.range('ledger/', 1_000_000)];
  }

  balance(address: string): bigint {
    return this.ledger().balance(address, asset);
  }
}

// ---- a world with a CA, a car, a wallet and a charger -------------------------------------------

export const mandate: Mandate = {
  sessionMax: '10000',
  dayMax: '25000',
  sessionBlocks: 100,
  merchants: ['charger-1'],
};

/** kWh at 250 minor units each, at most 50 kWh an hour. */
export const tariff = {
  serviceDevice: 'charger-1',
  asset,
  unit: 'kWh',
  unitPrice: '250',
  unitsPer: 1,
  maxRatePerHour: 50,
};

export interface Parties {
  ca: TestCa;
  car: TestCert;
  wallet: TestCert;
  charger: TestCert;
}

export function parties(): Parties {
  const ca = makeCa('Coffer Test CA');
  return {
    ca,
    car: issue(ca, 'iot-device', 'car-1'),
    wallet: issue(ca, 'wallet', 'wallet-1'),
    charger: issue(ca, 'service-device', 'charger-1'),
  };
}

/** A world with USD, the payer's funds, the CA, the three devices enrolled, the link and tariff. */
export function iotWorld(options: { mandate?: Mandate; tariff?: Partial<typeof tariff> } = {}) {
  const w = new IotWorld();
  const p = parties();
  const ledger = w.ledger();
  if (ledger.createAsset(issuer.address, { symbol: asset, decimals: 2 })) throw new Error('asset');
  if (ledger.createAsset(issuer.address, { symbol: 'EUR', decimals: 2 })) throw new Error('asset');
  if (ledger.mint(issuer.address, asset, owner.address, funds)) throw new Error('mint');
  expectOk(w.run(caOperator, 'iot.registerCa', { name: 'Test CA', certificate: p.ca.pem }), 'ca');
  expectOk(w.run(owner, 'iot.enrol', { certificate: p.car.pem }), 'enrol car');
  expectOk(w.run(owner, 'iot.enrol', { certificate: p.wallet.pem }), 'enrol wallet');
  expectOk(w.run(provider, 'iot.enrol', { certificate: p.charger.pem }), 'enrol charger');
  expectOk(
    w.run(owner, 'iot.link', {
      iotDevice: 'car-1',
      wallet: 'wallet-1',
      asset,
      mandate: options.mandate ?? mandate,
    }),
    'link',
  );
  expectOk(w.run(provider, 'iot.setTariff', { ...tariff, ...options.tariff }), 'tariff');
  return { w, ...p };
}

// ---- signed messages ----------------------------------------------------------------------------

function sign(kind: 'authorise' | 'start' | 'bill' | 'end', fields: object, k: KeyObject): string {
  return signIotRequest(kind, chainId, fields as IotFields, k);
}

/** An `iot.startSession` payload: the charger signs, the car authorises. */
export function startPayload(
  p: Parties,
  sessionId: string,
  options: {
    startedAt?: number;
    meterStart?: number;
    serviceKey?: KeyObject;
    iotKey?: KeyObject;
    serviceDevice?: string;
    iotDevice?: string;
    time: number;
  },
) {
  const ids = {
    serviceDevice: options.serviceDevice ?? 'charger-1',
    iotDevice: options.iotDevice ?? 'car-1',
    sessionId,
  };
  const start: StartRequest = {
    ...ids,
    meterStart: options.meterStart ?? 1000,
    startedAt: options.startedAt ?? options.time,
    authorisation: sign('authorise', authoriseFields(ids), options.iotKey ?? p.car.key),
  };
  return { start, signature: sign('start', start, options.serviceKey ?? p.charger.key) };
}

/** An `iot.bill` payload for `usage` units from `meterStart` over [from, to], priced as given. */
export function billPayload(
  p: Parties,
  sessionId: string,
  seq: number,
  options: {
    meterStart: number;
    usage: number;
    from: number;
    to: number;
    amount: string;
    meterEnd?: number;
    unitPrice?: string;
    unit?: string;
    serviceKey?: KeyObject;
    iotDevice?: string;
  },
) {
  const bill: BillRequest = {
    serviceDevice: 'charger-1',
    iotDevice: options.iotDevice ?? 'car-1',
    sessionId,
    seq,
    detail: {
      usage: options.usage,
      unit: options.unit ?? 'kWh',
      unitPrice: options.unitPrice ?? '250',
      meterStart: options.meterStart,
      meterEnd: options.meterEnd ?? options.meterStart + options.usage,
      period: { from: options.from, to: options.to },
    },
    amount: options.amount,
  };
  return { bill, signature: sign('bill', bill, options.serviceKey ?? p.charger.key) };
}

export function endPayload(
  p: Parties,
  sessionId: string,
  options: { meterEnd: number; endedAt: number; serviceKey?: KeyObject },
) {
  const end: EndRequest = {
    serviceDevice: 'charger-1',
    sessionId,
    meterEnd: options.meterEnd,
    endedAt: options.endedAt,
  };
  return { end, signature: sign('end', end, options.serviceKey ?? p.charger.key) };
}
