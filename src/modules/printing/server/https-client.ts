/*
 * One HTTPS request over its own connection, trusting the print server's CA and presenting a
 * client certificate when given (fetch can do neither): the CLI's `design upload` and the tests.
 */
import https from 'node:https';

/** The longest a request waits for its answer to start. */
const answerTimeoutMs = 30_000;

export interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  trailers: Record<string, string | undefined>;
  text: string;
}

export interface TlsIdentity {
  /** The server CA's PEM. */
  ca: string;
  /** A client certificate and key (PEM), for the prints port. */
  cert?: string;
  key?: string;
}

/**
 * One HTTPS request with its own connection (no agent: a client certificate belongs to one
 * connection). Rejects with the socket's error when the handshake is refused.
 */
export function httpsRequest(
  url: string,
  identity: TlsIdentity,
  request: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpsAnswer> {
  const raw =
    request.body === undefined
      ? undefined
      : Buffer.isBuffer(request.body)
        ? request.body
        : Buffer.from(JSON.stringify(request.body));
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        method: request.method ?? (raw === undefined ? 'GET' : 'POST'),
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        ca: identity.ca,
        ...(identity.cert === undefined ? {} : { cert: identity.cert, key: identity.key }),
        agent: false,
        headers: {
          ...(raw !== undefined && !Buffer.isBuffer(request.body)
            ? { 'content-type': 'application/json' }
            : {}),
          ...request.headers,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            trailers: response.trailers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.setTimeout(answerTimeoutMs, () =>
      req.destroy(new Error(`no answer from ${target.host} within ${answerTimeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end(raw);
  });
}
