/*
 * What the payment service needs from the chain: submit an `iot.*` tx from its own Coffer key and
 * learn how it ended, and read the iot routes (`GET /v1/iot/...`, docs/iot-spec). The iot reads
 * over the services' node client (src/sdk/service-chain.ts: fetch, the generic tx format and a
 * nonce kept for txs in flight), so that it does not depend on the chain half's SDK namespace
 * (`client.iot`); it can become a wrapper of that one once both are merged.
 */
import type { SigningKey } from '../../../sdk/keys.js';
import { createServiceChain, type ServiceChain } from '../../../sdk/service-chain.js';

export { ChainUnavailableError, type SubmitOutcome } from '../../../sdk/service-chain.js';

/** The three txs the service relays. */
export type RelayTxType = 'iot.startSession' | 'iot.bill' | 'iot.endSession';

export interface IotChain extends Pick<
  ServiceChain<RelayTxType>,
  'address' | 'chainId' | 'submit'
> {
  /** `GET /v1/iot/devices/{id}`; undefined when the node answers 404. */
  device(deviceId: string): Promise<Record<string, unknown> | undefined>;
  session(serviceDevice: string, sessionId: string): Promise<Record<string, unknown> | undefined>;
  bill(
    serviceDevice: string,
    sessionId: string,
    seq: number,
  ): Promise<Record<string, unknown> | undefined>;
  health(): Promise<Record<string, unknown>>;
}

export function createIotChain(nodeUrl: string, key: SigningKey): IotChain {
  // A raced nonce is a transient refusal here: the payment flow retries the whole step.
  const chain = createServiceChain<RelayTxType>(nodeUrl, key);
  const { read } = chain;
  const segment = (value: string | number) => encodeURIComponent(String(value));

  return {
    address: chain.address,
    chainId: chain.chainId,
    submit: chain.submit,
    device: (deviceId) => read(`/v1/iot/devices/${segment(deviceId)}`),
    session: (serviceDevice, sessionId) =>
      read(`/v1/iot/sessions/${segment(serviceDevice)}/${segment(sessionId)}`),
    bill: (serviceDevice, sessionId, seq) =>
      read(`/v1/iot/sessions/${segment(serviceDevice)}/${segment(sessionId)}/bills/${seq}`),
    async health() {
      return (await read('/health')) ?? {};
    },
  };
}
