import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/*
 * The web console (web/, built by `npm run build` into dist/web) served at `/`. The API keeps
 * /v1, /health, /metrics and /openapi.json; any other GET that accepts HTML gets the console's
 * index.html (its router shows the page for the path). The pages hold a wallet's keys, so they
 * are served with a strict Content-Security-Policy (own origin only: no CDN, no inline script)
 * and may not be framed.
 */

const here = path.dirname(fileURLToPath(import.meta.url));

/** dist/web from the sources (src/node, run with tsx) or from the build (dist/src/node). */
export function defaultConsoleDir(): string | undefined {
  const candidates = [path.resolve(here, '../../dist/web'), path.resolve(here, '../../web')];
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'index.html')));
}

/**
 * The console's headers. `mediaOrigins` are other origins its pages may call and play media from
 * (a licensing content gateway, config `consoleMediaOrigins`); by default none.
 */
export function consoleSecurityHeaders(
  mediaOrigins: readonly string[] = [],
): Record<string, string> {
  const others = mediaOrigins.map((origin) => ` ${origin}`).join('');
  return {
    'content-security-policy': [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      `connect-src 'self' ws: wss:${others}`,
      `media-src 'self'${others}`,
      "object-src 'none'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
      "form-action 'self'",
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  };
}

/** Paths that belong to the API: never answered with the console's page. */
function isApiPath(url: string): boolean {
  const pathname = url.split('?')[0]!;
  return (
    pathname.startsWith('/v1/') ||
    pathname === '/v1' ||
    pathname === '/health' ||
    pathname === '/metrics' ||
    pathname === '/openapi.json'
  );
}

/**
 * Serves `dir` at `/`; returns the handler for requests no route matched, which answers a page
 * request with index.html and leaves the rest to `notFound` (the API's JSON 404).
 */
export async function registerConsole(
  app: FastifyInstance,
  dir: string,
  mediaOrigins: readonly string[] = [],
): Promise<(request: FastifyRequest, reply: FastifyReply) => boolean> {
  const securityHeaders = consoleSecurityHeaders(mediaOrigins);
  const index = fs.readFileSync(path.join(dir, 'index.html'));
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    index: false,
    wildcard: false,
    cacheControl: false,
    // Hashed file names under assets/ never change; index.html is revalidated.
    setHeaders: (res, filePath) => {
      for (const [name, value] of Object.entries(securityHeaders)) res.setHeader(name, value);
      res.setHeader(
        'cache-control',
        filePath.includes(`${path.sep}assets${path.sep}`)
          ? 'public, max-age=31536000, immutable'
          : 'no-cache',
      );
    },
  });
  const sendIndex = (reply: FastifyReply) =>
    reply
      .headers(securityHeaders)
      .header('cache-control', 'no-cache')
      .type('text/html; charset=utf-8')
      .send(index);
  app.get('/', { schema: { hide: true } }, (_request, reply) => sendIndex(reply));
  return (request, reply) => {
    const wantsPage =
      (request.method === 'GET' || request.method === 'HEAD') &&
      !isApiPath(request.url) &&
      (request.headers.accept ?? '').includes('text/html');
    if (!wantsPage) return false;
    void sendIndex(reply);
    return true;
  };
}
