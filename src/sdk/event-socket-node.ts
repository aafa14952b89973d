import WebSocket, { type RawData } from 'ws';

import type { OpenSocket } from './event-socket.js';

/** Node's websocket for the event subscription: the `ws` package (see event-socket.ts). */

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

export const openSocket: OpenSocket = (url, options, handlers) => {
  // ws (^8.23) honours `closeTimeout`, which @types/ws lacks: hence the wider type.
  const socketOptions: WebSocket.ClientOptions & { closeTimeout: number } = {
    handshakeTimeout: options.handshakeTimeoutMs,
    closeTimeout: options.closeTimeoutMs,
    maxPayload: options.maxPayloadBytes,
  };
  const ws = new WebSocket(url, socketOptions);
  ws.on('open', () => handlers.open());
  ws.on('pong', () => handlers.pong());
  ws.on('message', (data, isBinary) => handlers.message(rawText(data), isBinary));
  ws.on('error', (error) => handlers.error(error));
  ws.on('close', (code, reason) => handlers.close(code, reason.toString('utf8')));
  return {
    canPing: true,
    ping: () => ws.ping(),
    close(code, reason) {
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
    },
    terminate: () => ws.terminate(),
  };
};
