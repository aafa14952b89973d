import {
  createClient,
  CofferError,
  trustFromProducers,
  type ProducerTrust,
} from '../../src/sdk/index.js';

/*
 * The node this page came from: the SDK's client on the page's own origin (the console is served
 * by the node it shows), and the producers' keys the page verifies blocks against.
 */

export const client = createClient(location.origin);
export type Client = typeof client;

/** A person-readable line for a failed call: the API's code and message. */
export function describeError(error: unknown): { code: string; message: string } {
  if (error instanceof CofferError) return { code: error.code, message: error.message };
  if (error instanceof Error) return { code: 'error', message: error.message };
  return { code: 'error', message: String(error) };
}

let trust: Promise<ProducerTrust> | undefined;

/**
 * The producers' public keys and committed nonce ranges, fetched once per page load. A check of
 * a block is only as good as this list: it comes from the node's genesis and producer registry.
 */
export function producerTrust(refresh = false): Promise<ProducerTrust> {
  if (!trust || refresh) {
    trust = client.listProducers().then((list) => trustFromProducers(list.producers));
    trust.catch(() => (trust = undefined));
  }
  return trust;
}
