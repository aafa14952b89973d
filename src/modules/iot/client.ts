import type { ClientCore } from '../../sdk/client.js';
import type {
  BillRequest,
  BillResult,
  CaPage,
  CaRecord,
  DevicePage,
  DeviceView,
  EndRequest,
  IotPayload,
  Mandate,
  SessionDetail,
  SessionPage,
  SessionStatus,
  StartRequest,
} from './schema.js';

export * from './schema.js';

/*
 * The iot module from a client's side: reads and the builders of its txs, as `{type, payload}`
 * for `signTx`. Pure (the schema and the SDK core), so it runs in browsers: the devices' own
 * signatures (`signIotRequest`, node:crypto) are made by the device programs with
 * `src/modules/iot/crypto.ts`, and the relayed txs take them as they come.
 */

function query(params: Record<string, string | number | undefined>): string {
  const entries = Object.entries(params).filter(
    (entry): entry is [string, string | number] => entry[1] !== undefined,
  );
  if (entries.length === 0) return '';
  return `?${new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v)])).toString()}`;
}

export interface PageOptions {
  after?: string;
  limit?: number;
}

export interface SessionQuery extends PageOptions {
  serviceDevice?: string;
  iotDevice?: string;
  payer?: string;
  status?: SessionStatus;
}

/** The iot namespace of a client. */
export function iotClient(core: ClientCore) {
  const { request, segment } = core;
  return {
    iot: {
      /** Registered CAs, a page at a time. */
      cas: (options: PageOptions = {}) =>
        request<CaPage>('GET', `/v1/iot/cas${query({ ...options })}`),
      /** One registered CA by its id (the fingerprint of its certificate). */
      ca: (ca: string) => request<CaRecord>('GET', `/v1/iot/cas/${segment(ca)}`),
      /** A device's certificate record, its CA's status, and its link or tariff. */
      device: (deviceId: string) =>
        request<DeviceView>('GET', `/v1/iot/devices/${segment(deviceId)}`),
      /** The devices an account owns, a page at a time. */
      devices: (owner: string, options: PageOptions = {}) =>
        request<DevicePage>('GET', `/v1/iot/devices${query({ owner, ...options })}`),
      /** Sessions by service device, iot device, payer and status, a page at a time. */
      sessions: (filter: SessionQuery = {}) =>
        request<SessionPage>('GET', `/v1/iot/sessions${query({ ...filter })}`),
      /** One session with its bills' results. */
      session: (serviceDevice: string, sessionId: string) =>
        request<SessionDetail>(
          'GET',
          `/v1/iot/sessions/${segment(serviceDevice)}/${segment(sessionId)}`,
        ),
      /** One bill's result (the bill tx that paid it, the amounts, the status). */
      bill: (serviceDevice: string, sessionId: string, seq: number) =>
        request<BillResult>(
          'GET',
          `/v1/iot/sessions/${segment(serviceDevice)}/${segment(sessionId)}/bills/${seq}`,
        ),
    },
  };
}

/** The iot module's txs as `{type, payload}` for `signTx`. */
export const iotTxBuilders = {
  /** `proof`: the CA key's `signIotRequest('registerCa', chainId, possessionFields(fp, sender))`. */
  registerCa: (name: string, certificate: string, proof: string) => ({
    type: 'iot.registerCa',
    payload: { name, certificate, proof },
  }),
  revokeCa: (ca: string) => ({ type: 'iot.revokeCa', payload: { ca } }),
  /** `proof`: the device key's `signIotRequest('enrol', chainId, possessionFields(fp, sender))`. */
  enrol: (certificate: string, proof: string) => ({
    type: 'iot.enrol',
    payload: { certificate, proof },
  }),
  revoke: (deviceId: string, reason: string) => ({
    type: 'iot.revoke',
    payload: { deviceId, reason },
  }),
  link: (iotDevice: string, wallet: string, asset: string, mandate: Mandate) => ({
    type: 'iot.link',
    payload: { iotDevice, wallet, asset, mandate },
  }),
  unlink: (iotDevice: string) => ({ type: 'iot.unlink', payload: { iotDevice } }),
  setTariff: (payload: IotPayload<'iot.setTariff'>) => ({ type: 'iot.setTariff', payload }),
  /** A service device's signed start (with the iot device's authorisation inside), relayed. */
  startSession: (start: StartRequest, signature: string) => ({
    type: 'iot.startSession',
    payload: { start, signature },
  }),
  /** A service device's signed bill, relayed. */
  bill: (bill: BillRequest, signature: string) => ({
    type: 'iot.bill',
    payload: { bill, signature },
  }),
  /** A service device's signed end, relayed. */
  endSession: (end: EndRequest, signature: string) => ({
    type: 'iot.endSession',
    payload: { end, signature },
  }),
};
