import type { OpenSocket } from './event-socket.js';

/** The part of the DOM's WebSocket used here (the project's types are Node's, without the DOM). */
interface BrowserWebSocket {
  readonly readyState: number;
  binaryType: 'arraybuffer' | 'blob';
  onopen: (() => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: (() => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  close(code?: number, reason?: string): void;
}
interface BrowserWebSocketClass {
  new (url: string): BrowserWebSocket;
  readonly CONNECTING: number;
  readonly OPEN: number;
}

/**
 * The browser's websocket for the event subscription (see event-socket.ts). A page cannot send
 * pings (the browser answers the node's) or read the HTTP status of a refused upgrade; the
 * handshake timeout and the payload limit are kept here by hand.
 */
export const openSocket: OpenSocket = (url, options, handlers) => {
  const WebSocket = (globalThis as unknown as { WebSocket: BrowserWebSocketClass }).WebSocket;
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  let failure: Error | undefined;
  const handshake = setTimeout(() => {
    if (ws.readyState !== WebSocket.CONNECTING) return;
    failure = new Error(`Opening handshake has timed out (${options.handshakeTimeoutMs} ms)`);
    handlers.error(failure);
    ws.close();
  }, options.handshakeTimeoutMs);
  ws.onopen = () => {
    clearTimeout(handshake);
    handlers.open();
  };
  ws.onmessage = (event) => {
    const binary = typeof event.data !== 'string';
    const text = binary
      ? new TextDecoder().decode(event.data as ArrayBuffer)
      : (event.data as string);
    if (text.length > options.maxPayloadBytes) {
      failure = new Error(`Max payload size exceeded (${options.maxPayloadBytes} bytes)`);
      handlers.error(failure);
      ws.close(1000, 'message too big');
      return;
    }
    handlers.message(text, binary);
  };
  ws.onerror = () => {
    if (!failure) handlers.error(new Error(`websocket error (${url})`));
  };
  ws.onclose = (event) => {
    clearTimeout(handshake);
    // A payload refused above is reported as ws reports it: 1009, message too big.
    handlers.close(failure?.message.startsWith('Max payload') ? 1009 : event.code, event.reason);
  };
  return {
    canPing: false,
    ping: () => undefined,
    close(code, reason) {
      if (ws.readyState === WebSocket.CONNECTING) ws.close();
      else if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
    },
    terminate: () => ws.close(),
  };
};
