// `npm run bench -- licensing`: authorised range requests per second through the content gateway
// (issue 21), against a baseline measured in the same run on the same machine: the same ranges of
// the same bytes read from a plain file by a bare Fastify route (no token, no proof, no chain, no
// decryption). Not a test: it measures; it asserts only that every answer was a 206 with the
// right bytes.
//
// 1. A node in this process (test/support/test-node.ts, 5 ms blocks while txs wait), the gateway
//    (`createGateway` with its real chain adapter: height fresh for 50 ms, agreements cached per
//    height) on a loopback port, a BENCH_LICENSING_MIB (8) MiB content uploaded, registered,
//    offered (play, no count) and bought by txs; one access token for the licensee.
// 2. BENCH_LICENSING_REQUESTS (4000) ranges of BENCH_LICENSING_RANGE_KIB (64) KiB at random
//    offsets (most cross a chunk boundary: two chunks decrypted), BENCH_LICENSING_WINDOW (32) in
//    flight over keep-alive HTTP. Each gateway request carries the Bearer token and a fresh proof
//    of possession (signed before the clock starts: the client's signing is not the gateway's
//    cost), and is checked against the chain's state at the latest height.
// 3. The baseline: the same ranges, the same window, from the bare route over the clear file.
//    Both warmed, then three rounds of (baseline, gateway), the best of each.
// Prints both rates, MiB/s and the ratio.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Fastify from 'fastify';

import { publicKeyFromAddress, toHex } from '../src/crypto/index.js';
import { licensingTxBuilders } from '../src/modules/licensing/client.js';
import {
  popFor,
  tempDataDir,
  testConfig,
  tokenRequest,
  uploadHeaders,
} from '../src/modules/licensing/gateway/fixture.js';
import { createGateway } from '../src/modules/licensing/gateway/server.js';
import { generateKey } from '../src/sdk/index.js';
import { startTestNode } from '../test/support/test-node.js';

function positive(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive integer`);
  return value;
}

const contentBytes = positive('BENCH_LICENSING_MIB', 8) * 1024 * 1024;
const requests = positive('BENCH_LICENSING_REQUESTS', 4000);
const rangeBytes = positive('BENCH_LICENSING_RANGE_KIB', 64) * 1024;
const window = positive('BENCH_LICENSING_WINDOW', 32);

const agent = new http.Agent({ keepAlive: true, maxSockets: window });

function get(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent, headers }, (response) => {
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('end', () =>
        resolve({ status: response.statusCode!, body: Buffer.concat(parts) }),
      );
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

/** Runs `count` jobs with `window` in flight; answers the seconds taken. */
async function windowed(count: number, job: (index: number) => Promise<void>): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(window, count) }, async () => {
      while (next < count) await job(next++);
    }),
  );
  return (performance.now() - started) / 1_000;
}

const body = crypto.randomBytes(contentBytes);
const starts = Array.from({ length: requests }, () =>
  crypto.randomInt(0, contentBytes - rangeBytes),
);
const node = await startTestNode('bench-licensing');
const dataDir = tempDataDir('bench');
const plainDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-bench-plain-'));
const gateway = await createGateway(testConfig(dataDir, { node: { url: node.url } }), {
  log: () => {},
});
const bare = Fastify({ logger: false });
try {
  const owner = generateKey();
  const licensee = generateKey();
  const licenseeKey = { ...licensee, publicKey: toHex(publicKeyFromAddress(licensee.address)) };
  const uploaded = (
    await gateway.app.inject({
      method: 'POST',
      url: '/v1/gateway/uploads',
      headers: uploadHeaders(owner, body, Date.now()),
      payload: body,
    })
  ).json<{ contentId: string; publicKey: string; proof: string }>();
  const { contentId } = uploaded;
  const send = async (
    key: typeof owner,
    tx: { type: string; payload: Record<string, unknown> },
  ) => {
    const result = await node.client.send(key, tx);
    if (result.status !== 'ok') throw new Error(`${tx.type}: ${JSON.stringify(result)}`);
    return result.hash;
  };
  await send(
    owner,
    licensingTxBuilders.register({
      contentId,
      title: 'Bench',
      mediaType: 'video/webm',
      size: contentBytes,
      publicKey: uploaded.publicKey,
      proof: uploaded.proof,
    }),
  );
  await send(
    owner,
    licensingTxBuilders.offer(contentId, 'bench', { permission: [{ action: 'play' }] }),
  );
  const agreementId = await send(licensee, licensingTxBuilders.accept(contentId, 'bench'));
  const issued = (
    await gateway.app.inject({
      method: 'POST',
      url: '/v1/gateway/tokens',
      payload: tokenRequest(licensee, agreementId, Date.now()),
    })
  ).json<{ token: string; jti: string }>();
  const gatewayUrl = await gateway.app.listen({ host: '127.0.0.1', port: 0 });

  // The baseline: a bare route over the clear file, the same Range handling in spirit.
  const plainFile = path.join(plainDir, 'content.bin');
  fs.writeFileSync(plainFile, body);
  bare.get('/plain', async (request, reply) => {
    const match = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? '')!;
    const start = Number(match[1]);
    const end = Number(match[2]);
    return reply
      .code(206)
      .header('content-range', `bytes ${start}-${end}/${contentBytes}`)
      .send(fs.createReadStream(plainFile, { start, end }));
  });
  const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });

  const pathOf = `/content/${contentId}`;
  const ranges = starts.map((start) => `bytes=${start}-${start + rangeBytes - 1}`);
  const check = (status: number, got: Buffer, index: number) => {
    const start = starts[index]!;
    if (status !== 206 || !got.equals(body.subarray(start, start + rangeBytes))) {
      throw new Error(`request ${index}: status ${status}, ${got.length} bytes`);
    }
  };

  // Both are warmed first (connections, JIT), then measured interleaved (below).
  const runBaseline = () =>
    windowed(requests, async (index) => {
      const answer = await get(`${bareUrl}/plain`, { range: ranges[index]! });
      check(answer.status, answer.body, index);
    });
  const runGateway = async () => {
    const now = Date.now();
    const headers = ranges.map((range) => ({
      authorization: `Bearer ${issued.token}`,
      'x-coffer-pop': popFor(licenseeKey, { path: pathOf, range, time: now, jti: issued.jti }),
      range,
    }));
    return windowed(requests, async (index) => {
      const answer = await get(`${gatewayUrl}${pathOf}`, headers[index]!);
      check(answer.status, answer.body, index);
    });
  };
  await runBaseline();
  await runGateway();
  // Interleaved, three of each, the best of each: the shared machine's load drifts, and a drift
  // should hit both sides alike.
  let baselineSeconds = Infinity;
  let gatewaySeconds = Infinity;
  for (let round = 0; round < 3; round++) {
    baselineSeconds = Math.min(baselineSeconds, await runBaseline());
    gatewaySeconds = Math.min(gatewaySeconds, await runGateway());
  }
  const rate = (seconds: number) => requests / seconds;
  const mib = (seconds: number) => (requests * rangeBytes) / seconds / 1024 / 1024;
  console.log(
    [
      `content ${contentBytes / 1024 / 1024} MiB, ${requests} ranges of ${rangeBytes / 1024} KiB, ${window} in flight`,
      `baseline (bare Fastify, clear file):   ${rate(baselineSeconds).toFixed(0)} req/s, ${mib(baselineSeconds).toFixed(0)} MiB/s`,
      `gateway (token + PoP + chain + AES-GCM): ${rate(gatewaySeconds).toFixed(0)} req/s, ${mib(gatewaySeconds).toFixed(0)} MiB/s`,
      `ratio gateway/baseline: ${(baselineSeconds / gatewaySeconds).toFixed(2)}`,
      `node reads: height at most every 50 ms; gateway stats ${JSON.stringify(gateway.stats)}`,
    ].join('\n'),
  );
} finally {
  agent.destroy();
  await bare.close();
  await gateway.close();
  await node.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(plainDir, { recursive: true, force: true });
}
