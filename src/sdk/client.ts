import { CofferError } from './errors.js';
import {
  subscribeEvents,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionFilter,
  type SubscriptionMessage,
} from './events.js';
import type { SigningKey } from './keys.js';
import { moduleClients } from '../modules/clients.js';
import { signTx, type SignedTx } from './tx.js';
import type { z } from 'zod';
import type {
  Account,
  Asset,
  AssetList,
  BatchResult,
  blockPageSchema,
  blockSchema,
  blockWithTxsSchema,
  EventPage,
  Finality,
  Health,
  OpenHold,
  TxResult,
} from '../protocol/api.js';
import type { Receipt, TxWithProof } from '../protocol/core.js';

export { CofferError } from './errors.js';

// What the core routes answer: one definition, in src/protocol.
export type {
  Account,
  ApiError,
  Asset,
  AssetList,
  Balance,
  BatchRejection,
  BatchResult,
  CommittedEvent,
  EventPage,
  Finality,
  Health,
  Hold,
  OpenHold,
  TxResult,
} from '../protocol/api.js';
export type { ChainEvent, Receipt } from '../protocol/core.js';

// ---- what the API answers (src/node/api.ts) -------------------------------------------------

/** A signed header as `GET /v1/blocks` lists it. */
export type Block = z.infer<typeof blockSchema>;
/** One block with the hashes of its txs, in order (`/v1/blocks/latest`, `/v1/blocks/{height}`). */
export type BlockWithTxs = z.infer<typeof blockWithTxsSchema>;
/** `GET /v1/blocks?from=&to=`: at most 100 blocks, clipped to the committed ones. */
export type BlockPage = z.infer<typeof blockPageSchema>;

/**
 * `GET /v1/txs/{hash}` of a committed tx: the tx, its receipt, its block's signed header and the
 * Merkle proof that `verifyTxInclusion` checks. The receipt is the node's word: no proof of it.
 */
export interface TxResponse extends TxWithProof {
  height: number;
  index: number;
  receipt: Receipt;
  /** Absent: only a pending answer has a status (see `TxLookup`). */
  status?: undefined;
}

/** `GET /v1/txs/{hash}` of a tx still in the mempool (HTTP 202). */
export interface PendingTx {
  hash: string;
  status: 'pending';
  // Absent, so that `lookup.tx` and the rest read as possibly undefined without narrowing.
  height?: undefined;
  index?: undefined;
  tx?: undefined;
  receipt?: undefined;
  block?: undefined;
  proof?: undefined;
}

/** Narrow with `lookup.status === 'pending'`. */
export type TxLookup = TxResponse | PendingTx;

export interface SubmitOptions {
  /**
   * `commit`: answer once the tx is in a block (a tx that failed there throws); `final`: once
   * that block is final too (a participant that runs no node acts on final state only).
   */
  wait?: 'commit' | 'final';
}

export interface ClientOptions {
  /** How long one HTTP request may take, answer included. */
  timeoutMs?: number;
}

// ---- the client ---------------------------------------------------------------------------

const timeoutMsDefault = 60_000;

function describeCause(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause;
  const inner = cause instanceof Error ? cause : error;
  return inner instanceof Error ? inner.message : String(inner);
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * What a module's client (src/modules/<name>/client.ts) builds its namespace from: the one way
 * to ask the node, and the core client (health, accounts, send) it may call.
 */
export interface ClientCore {
  /** JSON of a 2xx answer (or of a status in `alsoOk`); a `CofferError` for anything else. */
  request: <T>(method: string, path: string, body?: unknown, alsoOk?: number[]) => Promise<T>;
  /** The text of a 2xx answer (CSV); a `CofferError` for anything else. */
  requestText: (method: string, path: string) => Promise<string>;
  /** A path segment, percent-encoded. */
  segment: (value: string | number) => string;
  /** `?a=1&b=2` of the defined values of `query`, or nothing. */
  search: (query: object) => string;
  /** `?wait=...` of the submit options, or nothing. */
  waitQuery: (opts: SubmitOptions) => string;
  /** The core client: every method but the modules' namespaces. */
  readonly client: CoreClient;
}

/**
 * A typed client for one node's HTTP API. Every method resolves with the API's JSON and rejects
 * with a `CofferError`: the API's code, message, field and HTTP status, or `network_error`
 * (status 0) when the node could not be reached or did not answer within `timeoutMs`. The
 * modules' namespaces (`timebanks`, `campaigns`, the producer reads) come from their clients
 * (src/modules/clients.ts).
 */
export function createClient(baseUrl: string, options: ClientOptions = {}) {
  const core = createCoreClient(baseUrl, options);
  return Object.assign(core.client, moduleClients(core));
}

export type CofferClient = ReturnType<typeof createClient>;

/**
 * The client without the modules' namespaces, and the core a module's client builds on: for a
 * module outside src/modules/clients.ts, `myModuleClient(createCoreClient(url))`.
 */
export function createCoreClient(baseUrl: string, options: ClientOptions = {}) {
  let parsedUrl: URL | undefined;
  try {
    parsedUrl = new URL(baseUrl);
  } catch {
    parsedUrl = undefined;
  }
  if (!parsedUrl || (parsedUrl.protocol !== 'http:' && parsedUrl.protocol !== 'https:')) {
    throw new CofferError(
      'invalid_input',
      `baseUrl must be an http(s) URL such as http://127.0.0.1:7420, got ${JSON.stringify(baseUrl)}`,
      0,
      'baseUrl',
    );
  }
  const base = baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? timeoutMsDefault;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
    throw new CofferError(
      'invalid_input',
      `timeoutMs must be a positive integer, got ${String(timeoutMs)}`,
      0,
      'timeoutMs',
    );
  }

  function networkError(method: string, path: string, error: unknown): CofferError {
    const what = `${method} ${path}`;
    const message = isTimeout(error)
      ? `the node at ${base} did not answer ${what} within ${timeoutMs} ms` +
        (method === 'POST' ? ' (a submitted tx may still commit: look it up by its hash)' : '')
      : `cannot reach the node at ${base} (${what}): ${describeCause(error)}`;
    return new CofferError('network_error', message, 0, undefined, undefined, { cause: error });
  }

  async function fetchText(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; text: string }> {
    try {
      const response = await fetch(base + path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      return { status: response.status, text: await response.text() };
    } catch (error) {
      throw networkError(method, path, error);
    }
  }

  /** The `CofferError` of an answer with status 400 or above. */
  function httpError(method: string, path: string, status: number, text: string): CofferError {
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    const error = isObject(parsed) && isObject(parsed.error) ? parsed.error : undefined;
    if (error && typeof error.code === 'string') {
      return new CofferError(
        error.code,
        typeof error.message === 'string' ? error.message : `HTTP ${status}`,
        status,
        typeof error.field === 'string' ? error.field : undefined,
        parsed,
      );
    }
    return new CofferError(
      'http_error',
      `${method} ${path}: the node answered HTTP ${status} without an API error` +
        (text ? `: ${text.slice(0, 200)}` : ''),
      status,
      undefined,
      parsed ?? text,
    );
  }

  /** JSON of a 2xx answer (or of a status in `alsoOk`); a `CofferError` for anything else. */
  async function request<T>(
    method: string,
    path: string,
    body?: unknown,
    alsoOk: number[] = [],
  ): Promise<T> {
    const { status, text } = await fetchText(method, path, body);
    if (status >= 400 && !alsoOk.includes(status)) throw httpError(method, path, status, text);
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!isObject(parsed)) {
      throw new CofferError(
        'invalid_response',
        `${method} ${path}: the node answered HTTP ${status} with a body that is not a JSON object`,
        status,
        undefined,
        text,
      );
    }
    return parsed as T;
  }

  /** The text of a 2xx answer (CSV); a `CofferError` for anything else. */
  async function requestText(method: string, path: string): Promise<string> {
    const { status, text } = await fetchText(method, path);
    if (status >= 400) throw httpError(method, path, status, text);
    return text;
  }

  const waitQuery = (opts: SubmitOptions) => (opts.wait ? `?wait=${opts.wait}` : '');
  const segment = (value: string | number) => encodeURIComponent(String(value));
  /** `?a=1&b=2` of the defined values, or nothing. */
  const search = (query: object) => {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) params.set(name, String(value as string | number));
    }
    const text = params.toString();
    return text === '' ? '' : `?${text}`;
  };

  const client = {
    /** Liveness and head of chain; a halted node answers too, with `status: 'halted'`. */
    health: () => request<Health>('GET', '/health', undefined, [503]),
    /** How far the chain is final, and the validators that attest. */
    finality: () => request<Finality>('GET', '/v1/finality'),
    /**
     * Submits a signed tx; with `wait: 'commit'` resolves once it is in a block. A tx the node
     * refuses throws its rejection; one committed but failed throws with `hash` and `height`.
     */
    submit: (tx: SignedTx, opts: SubmitOptions = {}) =>
      request<TxResult>('POST', `/v1/txs${waitQuery(opts)}`, tx),
    /** Up to 10,000 txs in one request; each gets its own result, and only a bad batch throws. */
    submitBatch: (txs: SignedTx[], opts: SubmitOptions = {}) =>
      request<BatchResult>('POST', `/v1/txs/batch${waitQuery(opts)}`, { txs }),
    /** A committed tx with its proof, or `{ status: 'pending' }` while it waits in the mempool. */
    getTx: (hash: string) => request<TxLookup>('GET', `/v1/txs/${segment(hash)}`),
    latestBlock: () => request<BlockWithTxs>('GET', '/v1/blocks/latest'),
    getBlock: (height: number) => request<BlockWithTxs>('GET', `/v1/blocks/${segment(height)}`),
    /** Blocks `from..to`, at most 100, clipped to the committed ones. */
    getBlocks: (from: number, to: number) =>
      request<BlockPage>('GET', `/v1/blocks?from=${segment(from)}&to=${segment(to)}`),
    getAccount: (address: string) => request<Account>('GET', `/v1/accounts/${segment(address)}`),
    /** An open hold; `hold_not_found` once it is settled (its event says how: `getEvents`). */
    getHold: (id: string) => request<OpenHold>('GET', `/v1/holds/${segment(id)}`),
    /**
     * Committed events of heights from..to (at most 100 blocks, default the 100 from `from`),
     * filtered by type and by an address their data names; continue a range with its `next`.
     */
    getEvents: (query: {
      from: number;
      to?: number;
      after?: string;
      type?: string;
      address?: string;
    }) => request<EventPage>('GET', `/v1/events${search(query)}`),
    getAssets: () => request<AssetList>('GET', '/v1/assets'),
    getAsset: (symbol: string) => request<Asset>('GET', `/v1/assets/${segment(symbol)}`),
    /** The genesis document, as the node stored it. */
    getGenesis: () => request<Record<string, unknown>>('GET', '/v1/genesis'),
    /** The OpenAPI 3 document of the node's API. */
    openApi: () => request<Record<string, unknown>>('GET', '/openapi.json'),
    /** The Prometheus text exposition. */
    async metrics(): Promise<string> {
      const { status, text } = await fetchText('GET', '/metrics');
      if (status >= 400) {
        throw new CofferError(
          'http_error',
          `GET /metrics: HTTP ${status}`,
          status,
          undefined,
          text,
        );
      }
      return text;
    },

    /**
     * Committed blocks, receipts and events over the websocket, reconnecting until `close()`.
     * See `subscribeEvents`.
     */
    subscribe: (
      filter: SubscriptionFilter,
      onMessage: (message: SubscriptionMessage) => void,
      subscribeOptions: SubscribeOptions = {},
    ): Subscription => subscribeEvents(base, filter, onMessage, subscribeOptions),

    /**
     * Builds, signs and submits a tx from `key`, reading the chain id and the sender's next nonce
     * from the node. Sequential use only: concurrent sends from one key need explicit nonces.
     */
    async send(
      key: SigningKey,
      tx: { type: string; payload: Record<string, unknown>; memo?: string },
      opts: SubmitOptions = { wait: 'commit' },
    ) {
      const [{ chainId }, { nonce }] = await Promise.all([
        client.health(),
        client.getAccount(key.address),
      ]);
      const signed = signTx({ chainId, sender: key.address, nonce, ...tx }, key);
      return client.submit(signed, opts);
    },
  };
  return { request, requestText, segment, search, waitQuery, client };
}

/** The core client: every method but the modules' namespaces. */
export type CoreClient = ReturnType<typeof createCoreClient>['client'];
