/*
 * The seam between the event subscription (events.ts) and a websocket implementation:
 * `event-socket-node.ts` (the `ws` package: handshake timeout, payload limit, pings) under Node,
 * `event-socket-browser.ts` (the browser's own WebSocket) in a bundle for the browser, swapped by
 * package.json's "browser" field as the crypto backends are.
 */

export interface SocketOptions {
  /** A socket not open by then fails (an `error`, then `close`). */
  handshakeTimeoutMs: number;
  /** After `close()`, how long to wait for the node's close frame before dropping the socket. */
  closeTimeoutMs: number;
  /** A larger message closes the socket (1009). */
  maxPayloadBytes: number;
}

export interface SocketHandlers {
  open(): void;
  /** The answer to `ping()`. */
  pong(): void;
  /** A message, decoded as UTF-8; `binary` when the node sent a binary frame. */
  message(text: string, binary: boolean): void;
  /** Before `close`, what went wrong; the message may name an HTTP status the upgrade got. */
  error(error: Error): void;
  /** Once, when the socket is gone. */
  close(code: number, reason: string): void;
}

export interface EventSocket {
  /** Whether `ping()` sends a ping frame (a browser's WebSocket cannot; it answers the node's). */
  readonly canPing: boolean;
  ping(): void;
  /** Closes with a close frame when open; when still connecting, drops the attempt. */
  close(code: number, reason: string): void;
  /** Drops the socket without a close handshake. */
  terminate(): void;
}

export type OpenSocket = (
  url: string,
  options: SocketOptions,
  handlers: SocketHandlers,
) => EventSocket;
