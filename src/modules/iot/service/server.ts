/*
 * `coffer iot serve`: the payment supporting service of issue 20 (docs/iot-operators.md). It
 * holds two MQTT connections to the broker with its own certificate (CN coffer-iot-service):
 *
 * - the subscriber (MQTT 5), a persistent session (clean false, a fixed client id) on the service
 *   devices' `sessions` and `bills` topics at QoS 1. mqtt.js's `customHandleAcks` holds each
 *   message's PUBACK until its tx has committed (or was refused) and its results were published,
 *   so a message in progress when the service dies is delivered again to the next run, where the
 *   chain's idempotency (`bill_duplicate`) turns it into a republished result, never a second
 *   payment. mqtt.js handles one incoming packet at a time until it is acknowledged, so messages
 *   are relayed in arrival order, one at a time: a session's bills never overtake each other.
 * - the publisher (its own client id), which sends the results. Results go out on a second
 *   connection because the subscriber's packet stream is held while a message is in progress:
 *   the PUBACKs of results published on it could not be read, and the wait would never end.
 *
 * And an HTTP server: `POST /v1/iot/messages` (the same signed JSON, for devices not on MQTT,
 * answered with the result) and `GET /health`. Nothing secret is logged: not the keys, not the
 * messages' signatures.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { importKey } from '../../../sdk/keys.js';
import { createIotChain } from './chain.js';
import { readConfigFile, IotServiceConfigError, type IotServiceConfig } from './config.js';
import {
  InvalidMessage,
  messageBytesMax,
  messageTopicPattern,
  parseIotMessage,
  resultsTopic,
  type IotMessage,
  type IotResult,
} from './messages.js';
import { createPaymentRelay, type RelayOutcome, type ServiceLog } from './payments.js';

/** Topics the subscriber takes: every service device's sessions and bills (the ACL allows it). */
export const serviceSubscriptions = ['coffer/iot/+/sessions', 'coffer/iot/+/bills'] as const;
/** An unexpected failure of one message is retried this often before it is answered and acked. */
const faultAttemptsMax = 5;
const faultRetryMs = 1_000;
/** How long the publisher may take to get a result's PUBACK before the message is retried. */
const publishTimeoutMs = 30_000;
/**
 * How long the broker keeps the subscriber's session (and the messages queued for it) while the
 * service is down: a week, time to notice and restart it.
 */
const sessionExpirySeconds = 7 * 86_400;
/** How long start-up waits for the broker to confirm the subscription. */
const subscribeWaitMs = 10_000;

export interface IotServiceStats {
  received: number;
  relayed: number;
  invalid: number;
  tooLarge: number;
  resultsPublished: number;
}

export interface RunningIotService {
  url: string;
  stats: Readonly<IotServiceStats>;
  close(): Promise<void>;
}

/** One JSON line per event on stderr; callers may pass their own. */
export const jsonLog: ServiceLog = (level, event, fields = {}) => {
  process.stderr.write(`${JSON.stringify({ level, event, ...fields })}\n`);
};

function tlsOptions(config: IotServiceConfig): IClientOptions {
  const { mqtt: broker } = config;
  return {
    ca: readConfigFile(broker.caFile, 'mqtt.caFile', false),
    cert: readConfigFile(broker.certFile, 'mqtt.certFile', false),
    key: readConfigFile(broker.keyFile, 'mqtt.keyFile', true),
    servername: broker.servername,
    rejectUnauthorized: true,
    protocolVersion: 4,
    reconnectPeriod: 1_000,
    connectTimeout: 10_000,
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export async function startIotService(
  config: Readonly<IotServiceConfig>,
  options: { log?: ServiceLog } = {},
): Promise<RunningIotService> {
  const log = options.log ?? jsonLog;
  const secret = readConfigFile(config.keyFile, 'keyFile', true).trim();
  if (!/^[0-9a-fA-F]{64}$/.test(secret)) {
    throw new IotServiceConfigError(`keyFile: ${config.keyFile} must hold 64 hex digits`);
  }
  const chain = createIotChain(config.node.url, importKey(secret));
  await chain.chainId(); // fail early on a wrong node URL
  const relay = createPaymentRelay({ chain, log });
  const stats: IotServiceStats = {
    received: 0,
    relayed: 0,
    invalid: 0,
    tooLarge: 0,
    resultsPublished: 0,
  };
  let stopping = false;
  const isStopping = () => stopping;
  const tls = tlsOptions(config);

  const publisher: MqttClient = mqtt.connect(config.mqtt.url, {
    ...tls,
    clientId: `${config.mqtt.clientId}-results`,
    clean: true,
  });
  publisher.on('error', (error) =>
    log('warn', 'mqtt_error', { client: 'publisher', reason: error.message }),
  );

  async function publish(result: IotResult, recipients: readonly string[]): Promise<void> {
    const payload = JSON.stringify(result);
    await withTimeout(
      Promise.all(
        recipients.map((id) => publisher.publishAsync(resultsTopic(id), payload, { qos: 1 })),
      ),
      publishTimeoutMs,
      'publishing a result',
    );
    stats.resultsPublished += recipients.length;
  }

  /** Relays a parsed message and publishes its result; undefined when stopping. */
  async function handle(message: IotMessage): Promise<RelayOutcome | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await relay.relay(message, isStopping);
        if (!outcome) return undefined;
        await publish(outcome.result, outcome.recipients);
        stats.relayed++;
        return outcome;
      } catch (error) {
        log('error', 'relay_fault', {
          kind: message.kind,
          serviceDevice: message.serviceDevice,
          sessionId: message.sessionId,
          attempt,
          reason: (error as Error).message,
        });
        if (stopping) return undefined;
        if (attempt >= faultAttemptsMax) {
          const result: IotResult = {
            kind: message.kind,
            serviceDevice: message.serviceDevice,
            sessionId: message.sessionId,
            ...(message.seq === undefined ? {} : { seq: message.seq }),
            status: 'rejected',
            code: 'service_fault',
            message: 'the service could not relay this message; send it again',
          };
          await publish(result, [message.serviceDevice]).catch(() => undefined);
          return { result, recipients: [message.serviceDevice] };
        }
        await new Promise((resolve) => setTimeout(resolve, faultRetryMs));
      }
    }
  }

  async function onMqttMessage(topic: string, payload: Buffer): Promise<boolean> {
    stats.received++;
    const match = messageTopicPattern.exec(topic);
    if (!match) {
      log('warn', 'unexpected_topic', { topic });
      return true;
    }
    const topicDevice = match[1]!;
    if (payload.length > messageBytesMax) {
      stats.tooLarge++;
      log('warn', 'message_too_large', { topic, bytes: payload.length });
      return true;
    }
    let message: IotMessage;
    try {
      message = parseIotMessage(payload, {
        topicDevice,
        topicKind: match[2] as 'sessions' | 'bills',
      });
    } catch (error) {
      if (!(error instanceof InvalidMessage)) throw error;
      stats.invalid++;
      log('info', 'invalid_message', { topic, reason: error.message });
      const result: IotResult = {
        status: 'rejected',
        code: 'invalid_message',
        message: error.message,
      };
      await publish(result, [topicDevice]).catch((reason: unknown) =>
        log('warn', 'publish_failed', { topic, reason: (reason as Error).message }),
      );
      return true;
    }
    return (await handle(message)) !== undefined;
  }

  const subscriber: MqttClient = mqtt.connect(config.mqtt.url, {
    ...tls,
    // mqtt.js honours customHandleAcks with MQTT 5 only; a v5 session outlives its connection
    // for sessionExpiryInterval (a week here), a v3.1.1 one for ever.
    protocolVersion: 5,
    properties: { sessionExpiryInterval: sessionExpirySeconds },
    clientId: config.mqtt.clientId,
    clean: false,
    customHandleAcks(topic, payload, _packet, done) {
      onMqttMessage(topic, payload).then(
        (acknowledge) => {
          // Not acknowledged (stopping): the broker delivers it again to the next run.
          if (acknowledge) done(0);
        },
        (error: unknown) => {
          log('error', 'message_fault', { topic, reason: (error as Error).message });
          done(0);
        },
      );
    },
  });
  subscriber.on('error', (error) =>
    log('warn', 'mqtt_error', { client: 'subscriber', reason: error.message }),
  );
  let markSubscribed: () => void = () => {};
  const subscribed = new Promise<void>((resolve) => (markSubscribed = resolve));
  subscriber.on('connect', (connack) => {
    log('info', 'mqtt_connected', { sessionPresent: connack.sessionPresent });
    subscriber
      .subscribeAsync([...serviceSubscriptions], { qos: 1 })
      .then((granted) => {
        const refused = granted.filter((grant) => grant.qos >= 128);
        if (refused.length > 0) {
          log('error', 'subscription_refused', { topics: refused.map((g) => g.topic) });
        } else {
          markSubscribed();
        }
      })
      .catch((error: unknown) =>
        log('warn', 'subscribe_failed', { reason: (error as Error).message }),
      );
  });
  subscriber.on('offline', () => log('warn', 'mqtt_offline'));

  // Until the first subscription exists the broker keeps nothing for the service: wait for it
  // (a message published before a service ever subscribed is lost, as MQTT has it), but not for
  // ever: a broker that is down must not keep the HTTP route from serving.
  let waited: NodeJS.Timeout | undefined;
  await Promise.race([
    subscribed,
    new Promise<void>((resolve) => {
      waited = setTimeout(() => {
        log('warn', 'not_subscribed_yet', { waitedMs: subscribeWaitMs });
        resolve();
      }, subscribeWaitMs);
    }),
  ]);
  clearTimeout(waited);

  // ---- HTTP ----------------------------------------------------------------------------------
  let httpInFlight = 0;
  const server = http.createServer((request, response) => {
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    const error = (status: number, code: string, message: string) =>
      send(status, { error: { code, message } });
    const route = (request.url ?? '').split('?')[0];
    if (request.method === 'GET' && route === '/health') {
      send(200, {
        status: subscriber.connected && publisher.connected ? 'ok' : 'degraded',
        mqtt: { subscriber: subscriber.connected, publisher: publisher.connected },
        sender: chain.address,
        ...stats,
      });
      return;
    }
    if (route !== '/v1/iot/messages') return error(404, 'not_found', 'no such route');
    if (request.method !== 'POST') return error(405, 'method_not_allowed', 'POST only');
    if (httpInFlight >= config.limits.httpInFlightMax) {
      return error(503, 'busy', 'too many messages in progress: retry shortly');
    }
    httpInFlight++;
    let released = false;
    const release = () => {
      if (!released) httpInFlight--;
      released = true;
    };
    const chunks: Buffer[] = [];
    let bytes = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > messageBytesMax) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on('end', () => {
      const finish = async () => {
        if (tooLarge) {
          stats.tooLarge++;
          return error(413, 'message_too_large', `a message is at most ${messageBytesMax} bytes`);
        }
        let message: IotMessage;
        try {
          message = parseIotMessage(Buffer.concat(chunks));
        } catch (reason) {
          if (!(reason instanceof InvalidMessage)) throw reason;
          stats.invalid++;
          return error(400, 'invalid_message', reason.message);
        }
        stats.received++;
        const outcome = await handle(message);
        if (!outcome) return error(503, 'stopping', 'the service is stopping');
        send(200, outcome.result);
      };
      finish()
        .catch((reason: unknown) => {
          log('error', 'http_fault', { reason: (reason as Error).message });
          if (!response.headersSent) error(500, 'internal_error', 'the service failed');
        })
        .finally(release);
    });
    request.on('error', release);
  });
  server.listen(config.http.port, config.http.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    stats,
    async close() {
      stopping = true;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([subscriber.endAsync(true), publisher.endAsync()]);
    },
  };
}
