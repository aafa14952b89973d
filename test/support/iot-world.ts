/*
 * The IoT payments world of issue 20, all real: a CA and the parties' certificates made with the
 * PKI the operators use (src/modules/iot/pki), a mosquitto broker with TLS and the ACL
 * (support/mosquitto.ts), a Coffer node process, the chain-side setup done by txs as the owners
 * would send them (register the CA, enrol the devices, link the car to its wallet with a mandate,
 * set the charger's tariff), and the payment service as its own process (`coffer iot serve`, the
 * built CLI), which the tests kill with SIGKILL and start again.
 *
 * The txs are built by type name through the generic SDK (`client.send`), as the spec names them,
 * so this file needs only the chain half's txs and routes, not its SDK namespace.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  createCa,
  createServerCertificate,
  issueParty,
  serviceClientId,
  type IotCertificateRole,
  type KeyAndCertificate,
} from '../../src/modules/iot/pki/certificates.js';
import { possessionProof } from '../../src/modules/iot/crypto.js';
import { adminTokenFile } from '../../src/node/webhooks/index.js';
import { authorise } from '../../src/modules/iot/sim/billing.js';
import { DeviceConnection } from '../../src/modules/iot/sim/device.js';
import { generateKey, txs, type SigningKey } from '../../src/sdk/index.js';
import { childEnv, cliPath } from './cli.js';
import { startCofferChain, writeSecret, type CofferChain } from './coffer-chains.js';
import { killedOnExit } from './exit-hooks.js';
import { Mosquitto } from './mosquitto.js';
import { assertBuilt } from './node-process.js';

export interface Party extends KeyAndCertificate {
  deviceId: string;
  role: IotCertificateRole;
  certificateFile: string;
  keyFile: string;
}

export interface IotPki {
  dir: string;
  ca: KeyAndCertificate;
  caFile: string;
  server: KeyAndCertificate;
  /** The payment service's client certificate (CN coffer-iot-service). */
  service: Party;
  parties: Map<string, Party>;
  party(deviceId: string): Party;
  /** A party with a certificate from this CA, made now. */
  add(deviceId: string, role: IotCertificateRole): Promise<Party>;
}

/** The devices every world has: a charger, a car and its owner's wallet, and a second car. */
export const worldDevices: readonly [string, IotCertificateRole][] = [
  ['charger-1', 'service-device'],
  ['car-1', 'iot-device'],
  ['wallet-1', 'wallet'],
  ['car-2', 'iot-device'],
  ['wallet-2', 'wallet'],
];

function writePem(file: string, text: string, secret: boolean): string {
  fs.writeFileSync(file, text, { mode: secret ? 0o600 : 0o644 });
  return file;
}

export async function createIotPki(dir: string): Promise<IotPki> {
  fs.mkdirSync(dir, { recursive: true });
  const ca = await createCa({ name: 'Coffer Test IoT CA' });
  const caFile = writePem(path.join(dir, 'ca.pem'), ca.certificatePem, false);
  const server = await createServerCertificate({ ca });
  writePem(path.join(dir, 'server.pem'), server.certificatePem, false);
  writePem(path.join(dir, 'server.key'), server.privateKeyPem, true);
  const parties = new Map<string, Party>();
  const add = async (deviceId: string, role: IotCertificateRole): Promise<Party> => {
    const made = await issueParty({ ca, deviceId, role });
    const party: Party = {
      ...made,
      deviceId,
      role,
      certificateFile: writePem(path.join(dir, `${deviceId}.pem`), made.certificatePem, false),
      keyFile: writePem(path.join(dir, `${deviceId}.key`), made.privateKeyPem, true),
    };
    parties.set(deviceId, party);
    return party;
  };
  const service = await add(serviceClientId, 'service');
  for (const [deviceId, role] of worldDevices) await add(deviceId, role);
  return {
    dir,
    ca,
    caFile,
    server,
    service,
    parties,
    add,
    party(deviceId) {
      const party = parties.get(deviceId);
      if (!party) throw new Error(`no party ${deviceId}`);
      return party;
    },
  };
}

export function startBroker(pki: IotPki): Promise<Mosquitto> {
  return Mosquitto.start({
    dir: path.join(pki.dir, 'broker'),
    caFile: pki.caFile,
    certFile: path.join(pki.dir, 'server.pem'),
    keyFile: path.join(pki.dir, 'server.key'),
  });
}

export function connectParty(
  broker: Mosquitto,
  pki: IotPki,
  party: Party,
  options: { subscribeResults?: boolean; clientId?: string } = {},
): Promise<DeviceConnection> {
  return DeviceConnection.connect({
    url: broker.url,
    deviceId: party.deviceId,
    tls: { ca: pki.ca.certificatePem, ...party },
    ...options,
  });
}

// ---- the payment service as a process ---------------------------------------------------------

let liveServices: Set<ServiceProcess> | undefined;

export class ServiceProcess {
  output = '';
  readonly exited: Promise<void>;
  private done = false;

  constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {
    this.exited = once(child, 'exit').then(() => {
      this.done = true;
    });
  }

  killNow(): void {
    if (!this.done) this.child.kill('SIGKILL');
  }

  /** SIGKILL: no chance to acknowledge anything in progress. */
  async kill(): Promise<void> {
    this.killNow();
    await this.exited;
    liveServices?.delete(this);
  }

  async stop(): Promise<void> {
    if (!this.done) this.child.kill('SIGTERM');
    await this.exited;
    liveServices?.delete(this);
  }
}

/** `coffer iot serve --config FILE`, waiting for its "listening on" line. */
export async function startServiceProcess(
  configFile: string,
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  assertBuilt(cliPath);
  const child = spawn(process.execPath, [cliPath, 'iot', 'serve', '--config', configFile], {
    env: { ...childEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the iot service did not start:\n${output}`)),
      30_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the iot service exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
  const service = new ServiceProcess(child, url);
  service.output = output;
  const keep = (chunk: Buffer) => {
    service.output = (service.output + chunk.toString('utf8')).slice(-32 * 1024);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  liveServices ??= killedOnExit<ServiceProcess>();
  liveServices.add(service);
  return service;
}

// ---- the whole world ---------------------------------------------------------------------------

/** The charger's tariff: 0.30 per kWh, up to 22 kW (the simulator's charger profile). */
export const chargerTariff = { unit: 'Wh', unitPrice: '30', unitsPer: 1_000 } as const;
export const chargerRatePerHourMax = 22_000;
/** car-1's mandate: a session may take 50.00, a day 2,000.00 (USD minor units). */
export const car1Mandate = { sessionMax: '5000', dayMax: '200000', sessionBlocks: 100_000 };
/** car-2's mandate: a session may take only 2.00: its second bill is capped. */
export const car2Mandate = { sessionMax: '200', dayMax: '1000', sessionBlocks: 100_000 };

export interface IotWorld {
  dir: string;
  pki: IotPki;
  broker: Mosquitto;
  chain: CofferChain;
  chainId: string;
  /** Accounts: the CA's operator, the car owner (payer), the charger's owner (provider). */
  operator: SigningKey;
  driver: SigningKey;
  provider: SigningKey;
  /** The service's Coffer key (the relayed txs' sender). */
  relayer: SigningKey;
  configFile: string;
  service: ServiceProcess | undefined;
  startService(): Promise<ServiceProcess>;
  connect(deviceId: string, options?: { subscribeResults?: boolean }): Promise<DeviceConnection>;
  /** The IoT device's authorisation of a session (its key, the chain id). */
  authorisation(serviceDevice: string, iotDevice: string, sessionId: string): string;
  send(key: SigningKey, type: string, payload: Record<string, unknown>): Promise<unknown>;
  /** `iot.enrol` of the party's certificate by `key`, with the proof that it holds the key. */
  enrol(key: SigningKey, party: Party): Promise<unknown>;
  /** The node's admin token (its data directory's admin-token file): manages its webhooks. */
  adminToken(): string;
  close(): Promise<void>;
}

export async function startIotWorld(): Promise<IotWorld> {
  assertBuilt(cliPath);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-iot-'));
  const pki = await createIotPki(path.join(dir, 'pki'));
  const [broker, chain] = await Promise.all([startBroker(pki), startCofferChain(dir, 'iot-chain')]);
  const { chainId } = await chain.client.health();
  const operator = generateKey();
  const driver = generateKey();
  const provider = generateKey();
  const relayer = generateKey();
  const send = (key: SigningKey, type: string, payload: Record<string, unknown>) =>
    chain.client.send(key, { type, payload }, { wait: 'commit' });
  for (const key of [operator, driver, provider, relayer]) {
    await chain.client.send(
      chain.dev,
      txs.transfer({ to: key.address, asset: 'USD', amount: key === driver ? '500000' : '1000' }),
      { wait: 'commit' },
    );
  }
  const enrol = (key: SigningKey, party: Party) =>
    send(key, 'iot.enrol', {
      certificate: party.certificatePem,
      proof: possessionProof(
        'enrol',
        chainId,
        party.certificatePem,
        party.privateKeyPem,
        key.address,
      ),
    });
  await send(operator, 'iot.registerCa', {
    name: 'Coffer Test IoT CA',
    certificate: pki.ca.certificatePem,
    proof: possessionProof(
      'registerCa',
      chainId,
      pki.ca.certificatePem,
      pki.ca.privateKeyPem,
      operator.address,
    ),
  });
  await enrol(provider, pki.party('charger-1'));
  for (const id of ['car-1', 'wallet-1', 'car-2', 'wallet-2']) {
    await enrol(driver, pki.party(id));
  }
  await send(driver, 'iot.link', {
    iotDevice: 'car-1',
    wallet: 'wallet-1',
    asset: 'USD',
    mandate: { ...car1Mandate, merchants: ['charger-1'] },
  });
  await send(driver, 'iot.link', {
    iotDevice: 'car-2',
    wallet: 'wallet-2',
    asset: 'USD',
    mandate: { ...car2Mandate, merchants: ['charger-1'] },
  });
  await send(provider, 'iot.setTariff', {
    serviceDevice: 'charger-1',
    asset: 'USD',
    ...chargerTariff,
    maxRatePerHour: chargerRatePerHourMax,
  });

  const configFile = path.join(dir, 'iot-service.json');
  fs.writeFileSync(
    configFile,
    JSON.stringify(
      {
        node: { url: chain.url },
        keyFile: writeSecret(path.join(dir, 'relayer.key'), relayer.secretKey),
        mqtt: {
          url: broker.url,
          caFile: pki.caFile,
          certFile: pki.service.certificateFile,
          keyFile: pki.service.keyFile,
        },
        http: { port: 0 },
      },
      null,
      2,
    ),
  );

  const connections: DeviceConnection[] = [];
  const world: IotWorld = {
    dir,
    pki,
    broker,
    chain,
    chainId,
    operator,
    driver,
    provider,
    relayer,
    configFile,
    service: undefined,
    enrol,
    async startService() {
      world.service = await startServiceProcess(configFile);
      return world.service;
    },
    async connect(deviceId, options = {}) {
      const connection = await connectParty(broker, pki, pki.party(deviceId), options);
      connections.push(connection);
      return connection;
    },
    authorisation(serviceDevice, iotDevice, sessionId) {
      return authorise(
        chainId,
        { serviceDevice, iotDevice, sessionId },
        pki.party(iotDevice).privateKeyPem,
      );
    },
    send,
    adminToken() {
      return fs.readFileSync(path.join(dir, chain.id, adminTokenFile), 'utf8').trim();
    },
    async close() {
      await Promise.all(connections.map((c) => c.close().catch(() => undefined)));
      await world.service?.stop();
      await broker.stop();
      await chain.process.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}
