import { ChainUnavailableError, type IotChain, type RelayTxType } from './chain.js';
import { verifyIotRequest, type IotFields } from '../crypto.js';
import type { IotMessage, IotMessageKind, IotResult } from './messages.js';

/*
 * The payment supporting service's core, without a transport: relay a message as its tx, wait for
 * the commit, and make the result and the parties it goes to (the service device, the IoT device
 * and the wallet the chain links to the IoT device). A replay (`bill_duplicate`) gets the stored
 * result of the first payment, never a second one. MQTT and HTTP (server.ts) both call `relay`.
 */

const txTypes: Record<IotMessageKind, RelayTxType> = {
  start: 'iot.startSession',
  bill: 'iot.bill',
  end: 'iot.endSession',
};

/** How long a looked-up device record is reused: a relink takes effect within this. */
const deviceCacheMs = 5_000;
/** Wallet links remembered at once. */
const deviceCacheEntriesMax = 10_000;
/** Backoff while the node is unreachable: from the first to the last, doubling. */
const retryMsFirst = 100;
const retryMsLast = 5_000;

/** The fields of a bill's stored result (docs/iot-spec, "bill") copied into the published one. */
const billResultFields = [
  'billTx',
  'amount',
  'captured',
  'unpaid',
  'status',
  'remaining',
  'payer',
  'provider',
  'asset',
  'height',
] as const;

/** The chain's code for a start whose session exists: a redelivered start, when it is ours. */
const sessionExistsCode = 'session_exists';
/** The chain's code for an end of a closed session: a redelivered end, when it ended. */
const sessionClosedCode = 'session_closed';

/** What a message refused before any tx is told (no tx: the relayer signed nothing). */
const forgeryMessages: Record<string, string> = {
  signature_invalid:
    "The signature is not the service device's, by its certificate on the chain: nothing was relayed.",
  iot_device_not_found: 'No service device is enrolled with this id: nothing was relayed.',
};

export type ServiceLog = (
  level: 'info' | 'warn' | 'error',
  event: string,
  fields?: Record<string, unknown>,
) => void;

export interface RelayOutcome {
  result: IotResult;
  /** Device ids whose results topic gets the result, the service device first. */
  recipients: string[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringField(record: Record<string, unknown> | undefined, key: string) {
  const value = record?.[key];
  return typeof value === 'string' ? value : undefined;
}

export function createPaymentRelay(deps: { chain: IotChain; log: ServiceLog }) {
  const { chain, log } = deps;
  const devices = new Map<string, { record: Record<string, unknown> | undefined; atMs: number }>();

  /** `GET /v1/iot/devices/{id}` ({device, caStatus, link?, tariff?}), reused for 5 s. */
  async function deviceRecord(deviceId: string, fresh = false) {
    const cached = devices.get(deviceId);
    if (!fresh && cached && Date.now() - cached.atMs < deviceCacheMs) return cached.record;
    const record = await chain.device(deviceId);
    if (devices.size >= deviceCacheEntriesMax) devices.clear();
    devices.set(deviceId, { record, atMs: Date.now() });
    return record;
  }

  async function walletOf(iotDevice: string): Promise<string | undefined> {
    const record = await deviceRecord(iotDevice);
    return stringField(isObject(record?.link) ? record.link : {}, 'wallet');
  }

  /**
   * Checks the message's signature against the service device's certificate on the chain before
   * anything is relayed, so that a forged message (anyone may POST one) costs no tx: the relayer
   * signs only messages a registered service device signed. What the certificate's status, the
   * session and the mandate allow stays the chain's to say. A failed check reads the certificate
   * again once (it may have been renewed within the cache's 5 s).
   */
  async function forgery(message: IotMessage): Promise<string | undefined> {
    const fields = message.payload[message.kind];
    const signature = message.payload.signature;
    if (!isObject(fields) || typeof signature !== 'string') return 'signature_invalid';
    const chainId = await chain.chainId();
    for (const fresh of [false, true]) {
      const record = await deviceRecord(message.serviceDevice, fresh);
      const certificate = stringField(isObject(record?.device) ? record.device : {}, 'certificate');
      if (certificate === undefined) {
        if (fresh) return 'iot_device_not_found';
        continue;
      }
      const signed = verifyIotRequest(
        message.kind,
        chainId,
        fields as IotFields,
        signature,
        certificate,
      );
      if (signed) return undefined;
    }
    return 'signature_invalid';
  }

  function storedBill(record: Record<string, unknown>): Record<string, unknown> {
    // `GET /v1/iot/sessions/{sd}/{sid}/bills/{seq}` answers the bill's result record itself.
    const bill = record;
    const fields: Record<string, unknown> = {};
    for (const name of billResultFields) if (bill[name] !== undefined) fields[name] = bill[name];
    if (typeof fields.billTx === 'string') fields.tx = fields.billTx;
    return fields;
  }

  async function relayOnce(message: IotMessage): Promise<RelayOutcome> {
    const { kind, serviceDevice, sessionId, seq } = message;
    const forged = await forgery(message);
    if (forged !== undefined) {
      log('info', 'message_refused', { kind, serviceDevice, sessionId, seq, code: forged });
      // Told to the service device alone: the message may name parties it has nothing to do with.
      return {
        result: {
          kind,
          serviceDevice,
          ...(message.iotDevice === undefined ? {} : { iotDevice: message.iotDevice }),
          sessionId,
          ...(seq === undefined ? {} : { seq }),
          status: 'rejected',
          code: forged,
          message: forgeryMessages[forged],
        },
        recipients: [serviceDevice],
      };
    }
    const outcome = await chain.submit(txTypes[kind], message.payload);
    let iotDevice = message.iotDevice;
    let session: Record<string, unknown> | undefined;
    if (kind !== 'bill') {
      // `GET /v1/iot/sessions/{sd}/{sid}` answers {session, bills, billsNext}.
      const detail = await chain.session(serviceDevice, sessionId);
      session = isObject(detail?.session) ? detail.session : undefined;
      iotDevice ??= stringField(session, 'iotDevice');
    }
    const wallet = iotDevice === undefined ? undefined : await walletOf(iotDevice);
    const recipients = [...new Set([serviceDevice, iotDevice, wallet])].filter(
      (id): id is string => id !== undefined,
    );
    const base: IotResult = {
      kind,
      serviceDevice,
      ...(iotDevice === undefined ? {} : { iotDevice }),
      sessionId,
      ...(seq === undefined ? {} : { seq }),
      status: 'rejected',
    };

    if (outcome.status === 'ok') {
      if (kind === 'bill') {
        const record = await chain.bill(serviceDevice, sessionId, seq!);
        const stored = record ? storedBill(record) : {};
        return {
          result: {
            ...base,
            status: 'paid',
            ...stored,
            tx: outcome.tx,
            height: outcome.height,
          },
          recipients,
        };
      }
      return {
        result: {
          ...base,
          status: kind === 'start' ? 'started' : 'ended',
          tx: outcome.tx,
          height: outcome.height,
          ...(session && kind === 'start' ? { session } : {}),
        },
        recipients,
      };
    }

    const { code } = outcome;
    if (kind === 'bill' && code === 'bill_duplicate') {
      const record = await chain.bill(serviceDevice, sessionId, seq!);
      if (record) {
        log('info', 'bill_replayed', { serviceDevice, sessionId, seq });
        return { result: { ...base, ...storedBill(record), replay: true }, recipients };
      }
    }
    if (kind === 'start' && code === sessionExistsCode && session) {
      if (stringField(session, 'iotDevice') === message.iotDevice) {
        return { result: { ...base, status: 'started', session, replay: true }, recipients };
      }
    }
    if (
      kind === 'end' &&
      code === sessionClosedCode &&
      stringField(session, 'status') === 'ended'
    ) {
      return { result: { ...base, status: 'ended', replay: true }, recipients };
    }
    log('info', 'message_refused', { kind, serviceDevice, sessionId, seq, code });
    return {
      result: {
        ...base,
        status: 'rejected',
        code,
        message: outcome.message,
        ...(outcome.tx === undefined ? {} : { tx: outcome.tx, height: outcome.height }),
      },
      recipients,
    };
  }

  return {
    /**
     * Relays `message` until the chain answers, retrying while it is unreachable; `isStopping`
     * ends the retries (the message then stays unacknowledged, for the next run).
     */
    async relay(message: IotMessage, isStopping: () => boolean): Promise<RelayOutcome | undefined> {
      let waitMs = retryMsFirst;
      for (;;) {
        try {
          return await relayOnce(message);
        } catch (error) {
          if (!(error instanceof ChainUnavailableError)) throw error;
          log('warn', 'chain_unavailable', { reason: error.message, retryMs: waitMs });
        }
        if (isStopping()) return undefined;
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        if (isStopping()) return undefined;
        waitMs = Math.min(retryMsLast, waitMs * 2);
      }
    },
  };
}

export type PaymentRelay = ReturnType<typeof createPaymentRelay>;
