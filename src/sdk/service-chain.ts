/*
 * The node HTTP client of the off-chain services (the iot payment service, the licensing content
 * gateway, the printing authority and print server): a thin fetch adapter over the node's routes
 * and the generic tx format (./tx.ts), so that a service does not depend on its module's SDK
 * namespace. Each module's service keeps its own reads on top of `call` and `read`.
 *
 * `createServiceChain` adds a sender: nonces are kept here so several txs can be in flight (a
 * service takes concurrent requests): each submit takes the next nonce and posts with
 * `?wait=commit`; the mempool holds a tx whose predecessor has not arrived yet. A tx refused at
 * admission (its nonce unused) or lost to the network makes the counter stale: the next submit
 * waits for the others to settle and reads the nonce again from the node.
 */
import { signTx } from './tx.js';
import type { SigningKey } from './keys.js';

/** A fault that may pass (node unreachable, mempool full): the caller answers 503, retry later. */
export class ChainUnavailableError extends Error {
  readonly code = 'chain_unavailable';
}

/** How a submitted tx ended. */
export type SubmitOutcome =
  | { status: 'ok'; tx: string; height: number }
  /** Refused for good: in its block (`tx`, `height` set: nonce spent) or at admission. */
  | { status: 'rejected'; code: string; message: string; tx?: string; height?: number };

export interface HttpAnswer {
  status: number;
  /** The answer's JSON object; undefined when empty, not JSON or not an object. */
  body: Record<string, unknown> | undefined;
}

/** Plain functions (no `this`): a service takes them apart to build its own reads. */
export interface NodeHttp {
  /**
   * One request to the node. Unreachable or a 5xx other than 503: `ChainUnavailableError`;
   * any other status is the caller's to read.
   */
  call: (method: string, route: string, body?: unknown) => Promise<HttpAnswer>;
  /** `GET route`: undefined on 404, the answer's object on success, else `ChainUnavailableError`. */
  read: (route: string) => Promise<Record<string, unknown> | undefined>;
}

export interface ServiceChain<TxType extends string = string> extends NodeHttp {
  readonly address: string;
  /** The node's chain id (`GET /health`, read once). */
  chainId: () => Promise<string>;
  /** Signs with the key, submits and waits for the commit. */
  submit: (type: TxType, payload: Record<string, unknown>) => Promise<SubmitOutcome>;
}

export interface ServiceChainOptions {
  /**
   * How many times a tx whose nonce raced (`nonce_too_low`, `nonce_too_high`, `duplicate_tx`) is
   * submitted again at once with a fresh nonce before the caller hears of it (default 0: the
   * race is a `ChainUnavailableError` like any transient refusal).
   */
  nonceRetries?: number;
}

/** Admission refusals that say nothing about the tx itself: a nonce raced, a queue was full. */
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
/** The refusals of a raced nonce, which a fresh nonce can cure. */
const nonceRaceCodes = new Set(['nonce_too_low', 'nonce_too_high', 'duplicate_tx']);

/** One HTTP request's limit: a commit takes a block or two, a read a few ms. */
const requestTimeoutMs = 30_000;
/** How often a stale nonce waits for the txs in flight to settle. */
const settlePollMs = 5;

export function createNodeHttp(nodeUrl: string): NodeHttp {
  const base = nodeUrl.replace(/\/+$/, '');

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

  return { call, read };
}

export function createServiceChain<TxType extends string>(
  nodeUrl: string,
  key: SigningKey,
  options: ServiceChainOptions = {},
): ServiceChain<TxType> {
  const { call, read } = createNodeHttp(nodeUrl);
  const nonceRetries = options.nonceRetries ?? 0;
  let chainIdCache: string | undefined;
  let next: number | undefined;
  let inFlight = 0;

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

  async function submitOnce(
    type: TxType,
    payload: Record<string, unknown>,
  ): Promise<SubmitOutcome | 'again'> {
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
    if (nonceRetries > 0 && nonceRaceCodes.has(code)) return 'again';
    if (transientAdmissionCodes.has(code) || answer.status === 503) {
      throw new ChainUnavailableError(`${type}: the node refused it for now (${code})`);
    }
    return { status: 'rejected', code, message };
  }

  return {
    address: key.address,
    call,
    read,
    chainId,
    async submit(type, payload) {
      for (let attempt = 0; ; attempt++) {
        const outcome = await submitOnce(type, payload);
        if (outcome !== 'again') return outcome;
        if (attempt >= nonceRetries) {
          throw new ChainUnavailableError(`${type}: the sender's nonce kept racing: retry`);
        }
      }
    },
  };
}
