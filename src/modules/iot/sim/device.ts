/*
 * A simulated device on the broker: its own client certificate (the CN is its device id and its
 * broker username), its results topic subscribed at QoS 1, and publishing at QoS 1 that resolves
 * once the broker has the message. The simulators, the end-to-end tests and the bench use it.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { IotResult } from '../service/messages.js';
import { resultsTopic } from '../service/messages.js';

export interface DeviceTls {
  /** PEM of the CA(s) the broker's certificate chains to. */
  ca: string;
  certificatePem: string;
  privateKeyPem: string;
  /** Checked against the broker's certificate; `localhost` by default. */
  servername?: string;
}

/** Results kept for `nextResult`: a device that never reads them does not grow without bound. */
const resultsKeptMax = 10_000;

export class DeviceConnection {
  readonly results: IotResult[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly deviceId: string,
    readonly client: MqttClient,
  ) {
    client.on('message', (topic, payload) => {
      if (topic !== resultsTopic(deviceId)) return;
      try {
        this.results.push(JSON.parse(payload.toString('utf8')) as IotResult);
        if (this.results.length > resultsKeptMax) this.results.shift();
      } catch {
        return;
      }
      for (const wake of this.waiters) wake();
    });
  }

  /**
   * Connects as `deviceId` (which must be the certificate's CN for the broker's ACL to match) and
   * subscribes to its results unless `subscribeResults` is false.
   */
  static async connect(options: {
    url: string;
    deviceId: string;
    tls: DeviceTls;
    clientId?: string;
    subscribeResults?: boolean;
    clean?: boolean;
  }): Promise<DeviceConnection> {
    const client = await mqtt.connectAsync(options.url, {
      ca: options.tls.ca,
      cert: options.tls.certificatePem,
      key: options.tls.privateKeyPem,
      servername: options.tls.servername ?? 'localhost',
      rejectUnauthorized: true,
      protocolVersion: 4,
      // A client id of its own per connection: two connections with one id take the session from
      // each other in turn.
      clientId: options.clientId ?? `${options.deviceId}-${randomBytes(6).toString('hex')}`,
      clean: options.clean ?? true,
      reconnectPeriod: 1_000,
      connectTimeout: 10_000,
    });
    const device = new DeviceConnection(options.deviceId, client);
    if (options.subscribeResults ?? true) {
      const granted = await client.subscribeAsync(resultsTopic(options.deviceId), { qos: 1 });
      if (granted[0]?.qos === 128) {
        await client.endAsync(true);
        throw new Error(`the broker refused ${options.deviceId}'s results subscription`);
      }
    }
    return device;
  }

  /** Subscribes to `topic`; answers the granted QoS (128: the broker refused it). */
  async subscribe(topic: string): Promise<number> {
    const granted = await this.client.subscribeAsync(topic, { qos: 1 });
    const grant = granted[0];
    // mqtt.js sends nothing for a topic this client already holds at this QoS.
    if (!grant) throw new Error(`${this.deviceId} is already subscribed to ${topic}`);
    return grant.qos;
  }

  /** Publishes JSON at QoS 1; resolves once the broker acknowledged it. */
  async publish(topic: string, message: unknown): Promise<void> {
    await this.client.publishAsync(topic, JSON.stringify(message), { qos: 1 });
  }

  /**
   * The first result received (from `from` on) that `match` accepts, removed from the list;
   * fails after `timeoutMs`.
   */
  async nextResult(match: (result: IotResult) => boolean, timeoutMs = 30_000): Promise<IotResult> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.results.findIndex(match);
      if (index >= 0) return this.results.splice(index, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `${this.deviceId}: no matching result within ${timeoutMs} ms; received: ${JSON.stringify(this.results).slice(0, 2_000)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
