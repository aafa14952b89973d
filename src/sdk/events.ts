import { isAddress } from '../crypto/index.js';
import { CofferError } from './errors.js';
import type { EventSocket } from './event-socket.js';
import { openSocket } from './event-socket-node.js';

// ---- messages (what src/node/event-hub.ts sends) -------------------------------------------

/** A committed block. Sent only to subscriptions without an address filter. */
export interface BlockMessage {
  kind: 'block';
  height: number;
  hash: string;
  time: number;
  txCount: number;
}

/** A committed tx's outcome: `status` is `ok` or the rejection code its receipt holds. */
export interface ReceiptMessage {
  kind: 'receipt';
  height: number;
  tx: string;
  type: string;
  sender: string;
  status: string;
}

/** A fact a tx (`tx` its hash) or a block (`tx` null, e.g. `hold.expired`) emitted. */
export interface EventMessage {
  kind: 'event';
  height: number;
  tx: string | null;
  type: string;
  data: Record<string, unknown>;
}

/** What a subscription delivers; switch on `kind`. */
export type SubscriptionMessage = BlockMessage | ReceiptMessage | EventMessage;

export interface SubscriptionFilter {
  /** Only what involves this address: txs it sent, events naming it. Drops block messages. */
  address?: string;
  /**
   * Only these tx or event types (`ledger.transfer`, `ledger.transferred`), or `block`; one
   * ending in a dot matches a prefix (`hold.`). Empty or absent: everything.
   */
  types?: string[];
}

export interface SubscribeOptions {
  /** Each time the socket opens; `reconnect` is false the first time only. */
  onOpen?: (info: { reconnect: boolean }) => void;
  /**
   * A dropped or refused connection (`network_error`, then a retry in `retryInMs`), a refusal
   * by the node (its code; `fatal`: the subscription has ended), a message that is not the
   * API's (`invalid_response`), or an error thrown by `onMessage` (as thrown). Without this
   * hook, connection errors are retried silently and an `onMessage` error is rethrown.
   */
  onError?: (error: Error, info: { fatal: boolean; retryInMs?: number }) => void;
  /** The first reconnect delay; it doubles after each failed attempt. */
  reconnectDelayMs?: number;
  /** The cap on the reconnect delay. */
  reconnectDelayMaxMs?: number;
  /**
   * How often to ping the node; a socket that has not answered the previous ping by the next is
   * taken as dropped (a peer gone without a FIN never closes it otherwise).
   */
  heartbeatIntervalMs?: number;
}

/**
 * A live subscription. Messages a node commits while the socket is down are not replayed: on
 * `onOpen({ reconnect: true })`, read the blocks since the last height seen with `getBlocks`.
 */
export interface Subscription {
  /** Stops for good: no more messages or reconnects, and nothing left to keep Node running. */
  close(): void;
  readonly closed: boolean;
  /** Resolves once the subscription has ended (by `close()` or a fatal refusal). */
  readonly finished: Promise<void>;
}

const reconnectDelayMsDefault = 100;
const reconnectDelayMaxMsDefault = 5_000;
const heartbeatIntervalMsDefault = 30_000;
/** A handshake that takes longer is abandoned and retried. */
const handshakeTimeoutMs = 10_000;
/** How long `close()` waits for the node's close frame before destroying the socket. */
const closeTimeoutMs = 1_000;
/** A message larger than this is not one of the hub's, which are a few hundred bytes. */
const messagePayloadBytesMax = 1024 * 1024;
/** The node closes with this when the subscription itself is invalid: retrying cannot help. */
const policyViolationCloseCode = 1008;

function positiveInteger(value: number | undefined, fallback: number, field: string): number {
  const chosen = value ?? fallback;
  if (!Number.isSafeInteger(chosen) || chosen <= 0) {
    throw new CofferError(
      'invalid_input',
      `${field} must be a positive integer, got ${String(value)}`,
      0,
      field,
    );
  }
  return chosen;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The message if it has the shape its kind promises, else undefined. */
function asMessage(value: unknown): SubscriptionMessage | undefined {
  if (!isRecord(value) || typeof value.height !== 'number') return undefined;
  switch (value.kind) {
    case 'block':
      return typeof value.hash === 'string' &&
        typeof value.time === 'number' &&
        typeof value.txCount === 'number'
        ? (value as unknown as BlockMessage)
        : undefined;
    case 'receipt':
      return typeof value.tx === 'string' &&
        typeof value.type === 'string' &&
        typeof value.sender === 'string' &&
        typeof value.status === 'string'
        ? (value as unknown as ReceiptMessage)
        : undefined;
    case 'event':
      return (typeof value.tx === 'string' || value.tx === null) &&
        typeof value.type === 'string' &&
        isRecord(value.data)
        ? (value as unknown as EventMessage)
        : undefined;
    default:
      return undefined;
  }
}

/** The websocket URL of `/v1/events` on the node at `baseUrl`, with the filter as its query. */
export function eventsUrl(baseUrl: string, filter: SubscriptionFilter = {}): string {
  let url: URL;
  try {
    url = new URL(baseUrl.replace(/\/+$/, '') + '/v1/events');
  } catch {
    throw new CofferError('invalid_input', `baseUrl is not a URL: ${baseUrl}`, 0, 'baseUrl');
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  else if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new CofferError(
      'invalid_input',
      `baseUrl must be http(s) or ws(s), got ${url.protocol}`,
      0,
      'baseUrl',
    );
  }
  if (filter.address !== undefined) {
    if (!isAddress(filter.address)) {
      throw new CofferError(
        'invalid_address',
        `filter.address is not a Coffer address: ${JSON.stringify(filter.address)}`,
        0,
        'filter.address',
      );
    }
    url.searchParams.set('address', filter.address);
  }
  if (filter.types !== undefined) {
    if (
      !Array.isArray(filter.types) ||
      filter.types.some((t) => typeof t !== 'string' || t.length === 0 || t.includes(','))
    ) {
      throw new CofferError(
        'invalid_input',
        'filter.types must be an array of non-empty type names without commas',
        0,
        'filter.types',
      );
    }
    if (filter.types.length > 0) url.searchParams.set('type', filter.types.join(','));
  }
  return url.toString();
}

/**
 * Subscribes to the node's committed blocks, receipts and events (`WS /v1/events`).
 *
 * When the socket drops, it reconnects after `reconnectDelayMs`, doubling after each failed
 * attempt up to `reconnectDelayMaxMs`, and back to the start once a socket opens; it keeps
 * trying until `close()` or until the node refuses the subscription itself (a fatal error).
 * While it is not closed, the subscription keeps Node running (a pending reconnect too); after
 * `close()` nothing of it does.
 */
export function subscribeEvents(
  baseUrl: string,
  filter: SubscriptionFilter,
  onMessage: (message: SubscriptionMessage) => void,
  options: SubscribeOptions = {},
): Subscription {
  const url = eventsUrl(baseUrl, filter);
  if (typeof onMessage !== 'function') {
    throw new CofferError('invalid_input', 'onMessage must be a function', 0, 'onMessage');
  }
  const delayFirstMs = positiveInteger(
    options.reconnectDelayMs,
    reconnectDelayMsDefault,
    'reconnectDelayMs',
  );
  const delayMaxMs = Math.max(
    delayFirstMs,
    positiveInteger(options.reconnectDelayMaxMs, reconnectDelayMaxMsDefault, 'reconnectDelayMaxMs'),
  );
  const heartbeatMs = positiveInteger(
    options.heartbeatIntervalMs,
    heartbeatIntervalMsDefault,
    'heartbeatIntervalMs',
  );

  let closed = false;
  let everOpened = false;
  let failedAttempts = 0;
  let socket: EventSocket | undefined;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let resolveFinished!: () => void;
  const finished = new Promise<void>((resolve) => {
    resolveFinished = resolve;
  });

  function report(error: Error, info: { fatal: boolean; retryInMs?: number }): void {
    options.onError?.(error, info);
  }

  function stop(): void {
    closed = true;
    if (reconnectTimer) clearTimeout(reconnectTimer);
    reconnectTimer = undefined;
  }

  function scheduleReconnect(error: CofferError): void {
    const delayMs = Math.min(delayMaxMs, delayFirstMs * 2 ** Math.min(failedAttempts, 30));
    failedAttempts++;
    report(error, { fatal: false, retryInMs: delayMs });
    if (closed) return; // onError may have called close()
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      if (!closed) connect();
    }, delayMs);
  }

  const socketOptions = {
    handshakeTimeoutMs,
    closeTimeoutMs,
    maxPayloadBytes: messagePayloadBytesMax,
  };

  function connect(): void {
    let lastError: Error | undefined;
    let refusal: CofferError | undefined;
    let awaitingPong = false;
    let heartbeat: ReturnType<typeof setInterval> | undefined;

    const ws: EventSocket = openSocket(url, socketOptions, {
      open() {
        if (closed) return;
        failedAttempts = 0;
        const reconnect = everOpened;
        everOpened = true;
        if (ws.canPing) {
          heartbeat = setInterval(() => {
            if (awaitingPong) {
              lastError = new Error(`no pong within ${heartbeatMs} ms`);
              ws.terminate();
              return;
            }
            awaitingPong = true;
            ws.ping();
          }, heartbeatMs);
          // The socket keeps Node running while open; the heartbeat alone must not.
          (heartbeat as { unref?: () => void }).unref?.();
        }
        options.onOpen?.({ reconnect });
      },
      pong() {
        awaitingPong = false;
      },
      message(text, binary) {
        if (closed) return;
        let parsed: unknown;
        try {
          parsed = binary ? undefined : JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        const message = asMessage(parsed);
        if (message) {
          try {
            onMessage(message);
          } catch (error) {
            if (!options.onError) throw error;
            report(error instanceof Error ? error : new Error(String(error)), { fatal: false });
          }
          return;
        }
        const apiError = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : undefined;
        if (apiError && typeof apiError.code === 'string') {
          // The node refuses the subscription, then closes the socket with 1008.
          refusal = new CofferError(
            apiError.code,
            typeof apiError.message === 'string' ? apiError.message : apiError.code,
            0,
            typeof apiError.field === 'string' ? apiError.field : undefined,
            parsed,
          );
          return;
        }
        report(
          new CofferError(
            'invalid_response',
            `the event stream sent a message that is not one of the API's: ${text.slice(0, 200)}`,
            0,
          ),
          { fatal: false },
        );
      },
      error(error) {
        lastError = error;
      },
      close(code, reason) {
        if (heartbeat) clearInterval(heartbeat);
        if (socket === ws) socket = undefined;
        if (closed) {
          resolveFinished();
          return;
        }
        const httpStatus = /Unexpected server response: (\d+)/.exec(lastError?.message ?? '');
        const status = httpStatus ? Number(httpStatus[1]) : 0;
        // The node answering 4xx to the upgrade (a wrong path or query) will answer it again.
        const refusedByHttp = status >= 400 && status < 500 && status !== 408 && status !== 429;
        if (refusal || code === policyViolationCloseCode || refusedByHttp) {
          const error =
            refusal ??
            new CofferError(
              'http_error',
              `the node refused the event stream ${url}: ${lastError?.message ?? `closed with ${code} ${reason}`}`,
              status,
            );
          stop();
          resolveFinished();
          report(error, { fatal: true });
          return;
        }
        const why = lastError
          ? lastError.message
          : `the socket closed (code ${code}${reason ? `, ${reason}` : ''})`;
        scheduleReconnect(
          new CofferError(
            'network_error',
            `event stream ${url}: ${why}; reconnecting`,
            0,
            undefined,
            undefined,
            lastError ? { cause: lastError } : undefined,
          ),
        );
      },
    });
    socket = ws;
  }

  connect();

  return {
    close(): void {
      if (closed) return;
      stop();
      const ws = socket;
      if (!ws) {
        resolveFinished();
        return;
      }
      // `finished` then resolves on the socket's close event: the socket is gone too.
      ws.close(1000, 'client closed');
    },
    get closed() {
      return closed;
    },
    finished,
  };
}
