/*
 * What the payment service needs from the chain: submit an `iot.*` tx from its own Coffer key and
 * learn how it ended, and read the iot routes (`GET /v1/iot/...`, docs/iot-spec). A thin adapter
 * over the generic tx format (src/sdk/tx.ts) and fetch, so that it does not depend on the chain
 * half's SDK namespace (`client.iot`); it can become a wrapper of that one once both are merged.
 *
 * Nonces are kept here so several txs can be in flight (the HTTP route takes concurrent
 * requests): each submit takes the next nonce and posts with `?wait=commit`; the mempool holds a
 * tx whose predecessor has not arrived yet. A tx refused at admission (its nonce unused) or lost
 * to the network makes the counter stale: the next submit waits for the others to settle and
 * reads the nonce again from the node.
 */
import { signTx } from '../../../sdk/tx.js';
import type { SigningKey } from '../../../sdk/keys.js';

/** The three txs the service relays. */
export type RelayTxType = 'iot.startSession' | 'iot.bill' | 'iot.endSession';

/** How a relayed tx ended. */
export type SubmitOutcome =
  | { status: 'ok'; tx: string; height: number }
  /** Refused for good: in its block (`tx`, `height` set: nonce spent) or at admission. */
  | { status: 'rejected'; code: string; message: string; tx?: string; height?: number };

/** A fault that may pass (node unreachable, mempool full): the caller retries later. */
export class ChainUnavailableError extends Error {
  readonly code = 'chain_unavailable';
}

/**
 * Admission refusals that say nothing about the tx itself: a nonce raced, a queue was full. The
 * same message is submitted again with a fresh nonce.
 */
const transientAdmissionCodes = new Set([
  'nonce_too_low',
  'nonce_too_high',
  'duplicate_tx',
  'mempool_full',
  'sender_queue_full',
  'sender_gap_limit',
  'gapped_pool_full',
  'sender_rate_limited',
  'gapped_rate_limited',
  'node_halted',
  'not_ready',
  'final_timeout',
]);

/** One HTTP request's limit: a commit takes a block or two, a read a few ms. */
const requestTimeoutMs = 30_000;
/** How often a stale nonce waits for the txs in flight to settle. */
const settlePollMs = 5;

export interface IotChain {
  readonly address: string;
  chainId(): Promise<string>;
  submit(type: RelayTxType, payload: Record<string, unknown>): Promise<SubmitOutcome>;
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

interface HttpAnswer {
  status: number;
  body: Record<string, unknown> | undefined;
}

export function createIotChain(nodeUrl: string, key: SigningKey): IotChain {
  const base = nodeUrl.replace(/\/+$/, '');
  let chainIdCache: string | undefined;
  let next: number | undefined;
  let inFlight = 0;

  async function call(method: string, route: string, body?: unknown): Promise<HttpAnswer> {
    let response: Response;
    try {
      response = await fetch(base + route, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
    } catch (error) {
      throw new ChainUnavailableError(
        `${method} ${route}: cannot reach the node: ${(error as Error).message}`,
      );
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const object =
      typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
        ? (parsed as Record<string, unknown>)
        : undefined;
    if (response.status >= 500 && response.status !== 503) {
      throw new ChainUnavailableError(`${method} ${route}: the node answered ${response.status}`);
    }
    return { status: response.status, body: object };
  }

  async function read(route: string): Promise<Record<string, unknown> | undefined> {
    const answer = await call('GET', route);
    if (answer.status === 404) return undefined;
    if (answer.status >= 400 || !answer.body) {
      throw new ChainUnavailableError(`GET ${route}: the node answered ${answer.status}`);
    }
    return answer.body;
  }

  async function chainId(): Promise<string> {
    if (chainIdCache === undefined) {
      const health = await read('/health');
      const id = health?.chainId;
      if (typeof id !== 'string') throw new ChainUnavailableError('GET /health: no chainId');
      chainIdCache = id;
    }
    return chainIdCache;
  }

  async function takeNonce(): Promise<number> {
    while (next === undefined) {
      if (inFlight > 0) {
        await new Promise((resolve) => setTimeout(resolve, settlePollMs));
        continue;
      }
      const account = await read(`/v1/accounts/${encodeURIComponent(key.address)}`);
      const nonce = account?.nonce;
      // An account the node has never seen starts at nonce 0.
      next = typeof nonce === 'number' ? nonce : 0;
    }
    return next++;
  }

  const segment = (value: string | number) => encodeURIComponent(String(value));

  return {
    address: key.address,
    chainId,
    async submit(type, payload) {
      const id = await chainId();
      const nonce = await takeNonce();
      const signed = signTx({ chainId: id, sender: key.address, nonce, type, payload }, key);
      inFlight++;
      let answer: HttpAnswer;
      try {
        answer = await call('POST', '/v1/txs?wait=commit', signed);
      } catch (error) {
        next = undefined; // it may or may not have been admitted
        throw error;
      } finally {
        inFlight--;
      }
      const body = answer.body ?? {};
      if (answer.status < 300 && typeof body.hash === 'string') {
        return { status: 'ok', tx: body.hash, height: Number(body.height) };
      }
      const error = (body.error ?? {}) as { code?: unknown; message?: unknown };
      const code = typeof error.code === 'string' ? error.code : `http_${answer.status}`;
      const message = typeof error.message === 'string' ? error.message : code;
      if (typeof body.height === 'number') {
        // Committed, failed: the nonce is spent and the receipt names the rejection.
        return {
          status: 'rejected',
          code,
          message,
          ...(typeof body.hash === 'string' ? { tx: body.hash } : {}),
          height: body.height,
        };
      }
      next = undefined; // refused at admission: this nonce was not used
      if (transientAdmissionCodes.has(code) || answer.status === 503) {
        throw new ChainUnavailableError(`${type}: the node refused it for now (${code})`);
      }
      return { status: 'rejected', code, message };
    },
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
