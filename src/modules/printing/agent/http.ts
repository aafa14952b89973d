import http from 'node:http';
import https from 'node:https';

import { AgentError } from './data-dir.js';

/*
 * The agent's HTTP(S) calls: JSON requests to the authority and the print server, and the one
 * streaming request of a print. TLS trusts only the CA it is given (the print server's own CA,
 * never the system's list) and, with mTLS, presents the printer's client certificate. Answers are
 * read up to a bound; the print's G-code answer is handed over unread, as a stream, so the caller
 * pulls it at the printer's pace.
 */

export interface TlsOptions {
  /** The CA (PEM) the server's certificate must chain to; the system's CAs are not used. */
  ca?: string;
  /** The client certificate and key (PEM) for mTLS. */
  cert?: string;
  key?: string;
}

/** A JSON answer is at most this long (the registration's, with its PEM, is a few KiB). */
const answerBytesMax = 256 * 1024;
/** A request with no answer in this long fails (`server_unreachable`). */
export const requestTimeoutMsDefault = 30_000;

function send(
  url: string,
  options: {
    method: 'GET' | 'POST';
    body?: unknown;
    tls?: TlsOptions;
    timeoutMs?: number;
  },
): Promise<http.IncomingMessage> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new AgentError('invalid_url', `${url} is not a URL`);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new AgentError('invalid_url', `${url}: only http and https are spoken`);
  }
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { accept: 'application/json, text/plain' };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  const timeoutMs = options.timeoutMs ?? requestTimeoutMsDefault;
  return new Promise((resolve, reject) => {
    const common = { method: options.method, headers, timeout: timeoutMs };
    const onAnswer = (response: http.IncomingMessage) => resolve(response);
    const request =
      target.protocol === 'https:'
        ? https.request(
            target,
            {
              ...common,
              // A fresh connection per request: a pooled one could outlive a revoked certificate.
              agent: false,
              ...(options.tls?.ca !== undefined ? { ca: options.tls.ca } : {}),
              ...(options.tls?.cert !== undefined ? { cert: options.tls.cert } : {}),
              ...(options.tls?.key !== undefined ? { key: options.tls.key } : {}),
            },
            onAnswer,
          )
        : http.request(target, { ...common, agent: false }, onAnswer);
    request.on('timeout', () =>
      request.destroy(
        new AgentError('server_unreachable', `${url} did not answer within ${timeoutMs} ms`),
      ),
    );
    request.on('error', (error: Error & { code?: string }) => {
      if (error instanceof AgentError) return reject(error);
      reject(
        new AgentError(
          target.protocol === 'https:' && tlsRefusal(error) ? 'tls_refused' : 'server_unreachable',
          `${options.method} ${url}: ${error.message}${error.code ? ` (${error.code})` : ''}`,
        ),
      );
    });
    request.end(body);
  });
}

/**
 * Whether an HTTPS socket error is the TLS handshake's refusal: a certificate either side
 * rejected. Under TLS 1.3 the server judges the client's certificate after the client thinks the
 * handshake done, so a refusal arrives as an alert on the first read (`certificate required`) or,
 * when the server drops the connection at once, as a reset before any answer: both count.
 */
export function tlsRefusal(error: Error & { code?: string }): boolean {
  return (
    /alert|certificate|handshake|SSL|TLS/i.test(error.message) ||
    (error.code ?? '').startsWith('ERR_SSL') ||
    [
      'ECONNRESET',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'CERT_HAS_EXPIRED',
      'ERR_TLS_CERT_ALTNAME_INVALID',
    ].includes(error.code ?? '')
  );
}

async function readBounded(response: http.IncomingMessage, url: string): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > answerBytesMax) {
      response.destroy();
      throw new AgentError(
        'unexpected_answer',
        `${url} answered more than ${answerBytesMax} bytes`,
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The API's refusal `{error: {code, message}}` as an AgentError (its code kept). */
async function refusal(response: http.IncomingMessage, url: string): Promise<AgentError> {
  const text = await readBounded(response, url).catch(() => '');
  try {
    const answer = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof answer.error?.code === 'string') {
      return new AgentError(
        answer.error.code,
        typeof answer.error.message === 'string' ? answer.error.message : text,
      );
    }
  } catch {
    // not JSON: the status says it
  }
  return new AgentError(`http_${response.statusCode}`, `${url} answered ${response.statusCode}`);
}

/** A JSON request; a non-2xx answer throws its `{error: {code, message}}` as an AgentError. */
export async function requestJson<T>(
  url: string,
  options: { method: 'GET' | 'POST'; body?: unknown; tls?: TlsOptions; timeoutMs?: number },
): Promise<T> {
  const response = await send(url, options);
  const status = response.statusCode ?? 0;
  if (status < 200 || status > 299) throw await refusal(response, url);
  const text = await readBounded(response, url);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new AgentError('unexpected_answer', `${url} answered something that is not JSON`);
  }
}

/**
 * A POST whose 200 answer is a stream (the print's G-code): answered unread, with its headers. A
 * non-2xx answer throws its code. The caller must consume or destroy the stream.
 */
export async function requestStream(
  url: string,
  options: { body: unknown; tls: TlsOptions; timeoutMs?: number },
): Promise<http.IncomingMessage> {
  const response = await send(url, { method: 'POST', ...options });
  const status = response.statusCode ?? 0;
  if (status < 200 || status > 299) throw await refusal(response, url);
  return response;
}
