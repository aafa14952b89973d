// A real HTTP receiver of webhooks on loopback for the webhook tests: it records every request
// (path, headers, body) and answers what `respond` says (200 unless told). It can go down (the
// port closed: connections refused) and come back on the same port.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  path: string;
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** The answer's status. */
  status: number;
}

/** Bytes of a request body kept (webhook bodies are small). */
const bodyBytesMax = 1024 * 1024;

export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** The status to answer a request with; 200 unless replaced. */
  respond: (request: Omit<ReceivedWebhook, 'status'>) => number = () => 200;
  /**
   * Milliseconds to hold a request on `path` before answering (0: at once). A held request is
   * recorded when it arrives, so a test sees a delivery in flight.
   */
  holdMs: (path: string) => number = () => 0;
  private server: http.Server | undefined;
  private port = 0;

  static async start(): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    await receiver.up();
    return receiver;
  }

  /** The base URL (http://127.0.0.1:PORT). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Listens (again, on the same port once it had one). */
  async up(): Promise<void> {
    const server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      request.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= bodyBytesMax) chunks.push(chunk);
      });
      request.on('end', () => {
        const header = (name: string) => String(request.headers[name] ?? '');
        const got = {
          path: request.url ?? '',
          id: header('webhook-id'),
          timestamp: header('webhook-timestamp'),
          signature: header('webhook-signature'),
          body: Buffer.concat(chunks).toString('utf8'),
        };
        const status = this.respond(got);
        this.received.push({ ...got, status });
        const answer = () => response.writeHead(status, { 'content-type': 'text/plain' }).end('ok');
        const hold = this.holdMs(got.path);
        if (hold > 0) setTimeout(answer, hold);
        else answer();
      });
    });
    server.keepAliveTimeout = 1;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and drops open connections: requests are refused until `up`. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The requests answered 2xx on `path`. */
  delivered(path: string): ReceivedWebhook[] {
    return this.received.filter((r) => r.path === path && r.status >= 200 && r.status < 300);
  }
}

/** Checks a request with the independent Standard Webhooks verifier; answers the parsed body. */
export function verifyWebhook(secret: string, received: ReceivedWebhook): unknown {
  return new Webhook(secret).verify(received.body, {
    'webhook-id': received.id,
    'webhook-timestamp': received.timestamp,
    'webhook-signature': received.signature,
  });
}
