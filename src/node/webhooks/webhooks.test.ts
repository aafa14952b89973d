// The webhook routes and delivery of a real node in this process (solo: a committed block is
// final), with a real HTTP receiver on loopback and the independent Standard Webhooks verifier.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebhookReceiver, verifyWebhook } from '../../../test/support/webhook-receiver.js';
import { toHex } from '../../crypto/index.js';
import {
  createClient,
  generateKey,
  importKey,
  txs,
  type CofferClient,
  type SigningKey,
} from '../../sdk/index.js';
import { parseNodeConfig } from '../config.js';
import { CofferNode } from '../node.js';
import { adminTokenFile } from './admin-token.js';
import { subscriptionsMax } from './routes.js';
import type { CreatedWebhookJson, DeadLetterListJson, WebhookJson } from './schema.js';
import type { WebhookPayload } from './watcher.js';

const settleTimeoutMs = 20_000;

interface Answer<T> {
  status: number;
  body: T & { error?: { code: string; message: string; field?: string } };
}

async function until<T>(probe: () => T | undefined | false, what: string): Promise<T> {
  const deadline = performance.now() + settleTimeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('webhooks of a node', { timeout: 120_000 }, () => {
  let node: CofferNode;
  let dataDir: string;
  let url: string;
  let token: string;
  let client: CofferClient;
  let dev: SigningKey;
  let receiver: WebhookReceiver;

  async function call<T>(
    method: string,
    route: string,
    body?: unknown,
    /** null: no Authorization header. */
    bearer: string | null = token,
  ): Promise<Answer<T>> {
    const response = await fetch(`${url}${route}`, {
      method,
      headers: {
        ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Answer<T>['body'] };
  }

  async function refused(answer: Promise<Answer<unknown>>, status: number, code: string) {
    const { status: got, body } = await answer;
    assert.equal(body.error?.code, code, JSON.stringify(body));
    assert.equal(got, status);
    assert.ok(body.error.message.length > 10);
  }

  async function transfer(amount: number): Promise<string> {
    const result = await client.send(
      dev,
      txs.transfer({ to: receiverAccount, asset: 'USD', amount: String(amount) }),
      { wait: 'commit' },
    );
    return result.hash;
  }
  const receiverAccount = generateKey().address;

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-webhooks-'));
    node = await CofferNode.open(
      parseNodeConfig(
        {
          dataDir,
          port: 0,
          logLevel: 'silent',
          blockIntervalMs: 5,
          idleBlockIntervalMs: 0,
          verifyWorkers: 1,
          webhookAttemptsMax: 2,
          webhookRetryBaseMs: 5,
          webhookRetryMaxMs: 10,
          webhookTimeoutMs: 2_000,
        },
        {},
      ),
    );
    url = await node.listen();
    token = fs.readFileSync(path.join(dataDir, adminTokenFile), 'utf8').trim();
    client = createClient(url);
    dev = importKey(toHex(node.init.devAccount!.secretKey));
    receiver = await WebhookReceiver.start();
  });
  after(async () => {
    await node.close();
    await receiver.down();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes an owner-only admin token at the first start', () => {
    const mode = fs.statSync(path.join(dataDir, adminTokenFile)).mode & 0o777;
    assert.equal(mode, 0o600);
    assert.ok(token.length >= 32);
  });

  it('answers only the operator: no token, a wrong token or another scheme are refused', async () => {
    const routes: [string, string, unknown?][] = [
      ['GET', '/v1/webhooks'],
      ['POST', '/v1/webhooks', { url: receiver.url, events: ['ledger.*'] }],
      ['GET', '/v1/webhooks/wh_0000000000000000'],
      ['DELETE', '/v1/webhooks/wh_0000000000000000'],
      ['POST', '/v1/webhooks/wh_0000000000000000/replay', { fromHeight: 1 }],
      ['GET', '/v1/webhooks/wh_0000000000000000/dead-letters'],
    ];
    for (const [method, route, body] of routes) {
      await refused(call(method, route, body, null), 401, 'admin_token_required');
      await refused(call(method, route, body, `${token}x`), 401, 'admin_token_invalid');
      await refused(call(method, route, body, 'x'), 401, 'admin_token_invalid');
    }
    const basic = await fetch(`${url}/v1/webhooks`, {
      headers: { authorization: `Basic ${token}` },
    });
    assert.equal(basic.status, 401);
    assert.equal(
      ((await basic.json()) as Answer<unknown>['body']).error?.code,
      'admin_token_required',
    );
    const list = await call<{ webhooks: WebhookJson[] }>('GET', '/v1/webhooks');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.webhooks, [], 'nothing was added by the refused requests');
  });

  it('compares the exact characters after "Bearer ": a NBSP is never trimmed away', async () => {
    // JS trim() removes U+00A0: trimmed, `Bearer <token><NBSP>` would match and `Bearer <NBSP>`
    // would equal an empty token.
    for (const bearer of ['\u00a0', `${token}\u00a0`, `\u00a0${token}`, ` ${token}`]) {
      const answer = await node.app.inject({
        method: 'GET',
        url: '/v1/webhooks',
        headers: { authorization: `Bearer ${bearer}` },
      });
      assert.equal(answer.statusCode, 401, JSON.stringify(bearer));
      assert.equal(answer.json<Answer<unknown>['body']>().error?.code, 'admin_token_invalid');
    }
    const exact = await node.app.inject({
      method: 'GET',
      url: '/v1/webhooks',
      headers: { authorization: `bearer ${token}` },
    });
    assert.equal(exact.statusCode, 200, 'the scheme is case-insensitive');
  });

  it('refuses bad URLs, event lists, secrets and heights, naming the field', async () => {
    const add = (body: Record<string, unknown>) =>
      call('POST', '/v1/webhooks', { url: receiver.url, events: ['ledger.*'], ...body });
    for (const bad of [
      'ftp://127.0.0.1/x',
      'file:///etc/passwd',
      'not a url',
      `http://user:pass@127.0.0.1:${1}/`,
      `http://127.0.0.1/${'a'.repeat(2_049 - 'http://127.0.0.1/'.length)}`,
    ]) {
      await refused(add({ url: bad }), 400, 'invalid_webhook_url');
    }
    for (const bad of [
      [],
      ['nosuchmodule.*'],
      ['Ledger.transferred'],
      ['ledger.'],
      ['ledger.**'],
      Array.from({ length: 17 }, (_, i) => `ledger.t${i}`),
    ]) {
      await refused(add({ events: bad }), 400, 'invalid_webhook_events');
    }
    await refused(add({ events: Array(1_000).fill('ledger.*') }), 400, 'invalid_request');
    for (const bad of ['secret', 'whsec_c2hvcnQ=', `whsec_${'A'.repeat(100)}`, 'whsec_!!!!']) {
      await refused(add({ secret: bad }), 400, 'invalid_webhook_secret');
    }
    const far = await add({ fromHeight: 1_000_000 });
    assert.equal(far.body.error?.code, 'invalid_from_height');
    assert.equal(far.body.error.field, 'fromHeight');
    assert.match(far.body.error.message, /Here: the final height is [0-9]+\.$/);
    await refused(add({ fromHeight: 0 }), 400, 'invalid_request');
    await refused(call('GET', '/v1/webhooks/wh_ffffffffffffffff'), 404, 'webhook_not_found');
    await refused(call('GET', '/v1/webhooks/nonsense'), 404, 'webhook_not_found');
    const list = await call<{ webhooks: WebhookJson[] }>('GET', '/v1/webhooks');
    assert.deepEqual(list.body.webhooks, []);
  });

  it(`keeps at most ${subscriptionsMax} subscriptions; the secret is answered once, then hinted`, async () => {
    const ids: string[] = [];
    for (let i = 0; i < subscriptionsMax; i++) {
      const created = await call<CreatedWebhookJson>('POST', '/v1/webhooks', {
        url: `${receiver.url}/unused-${i}`,
        events: ['campaign.payout'],
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.match(created.body.secret, /^whsec_/);
      ids.push(created.body.id);
    }
    await refused(
      call('POST', '/v1/webhooks', { url: receiver.url, events: ['ledger.*'] }),
      409,
      'webhook_limit_reached',
    );
    const list = await call<{ webhooks: WebhookJson[] }>('GET', '/v1/webhooks');
    assert.equal(list.body.webhooks.length, subscriptionsMax);
    assert.ok(!JSON.stringify(list.body).includes('"secret"'));
    for (const id of ids) {
      const removed = await call<{ removed: boolean }>('DELETE', `/v1/webhooks/${id}`);
      assert.equal(removed.status, 200);
    }
    await refused(call('DELETE', `/v1/webhooks/${ids[0]}`), 404, 'webhook_not_found');
  });

  it('delivers each matching final event once, in order, signed; replays with the same ids', async () => {
    const secret = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
    const created = await call<CreatedWebhookJson>('POST', '/v1/webhooks', {
      url: `${receiver.url}/ordered`,
      events: ['ledger.transferred'],
      secret,
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.secret, secret);
    assert.equal(created.body.secretHint, `whsec_…${secret.slice(-4)}`);
    const hashes: string[] = [];
    for (const amount of [1, 2, 3]) hashes.push(await transfer(amount));
    const delivered = await until(
      () => receiver.delivered('/ordered').length >= 3 && receiver.delivered('/ordered'),
      'three deliveries',
    );
    const payloads = delivered.map((r) => verifyWebhook(secret, r) as WebhookPayload);
    assert.deepEqual(
      payloads.map((p) => [p.type, p.tx, (p.data as { amount: string }).amount]),
      hashes.map((hash, i) => ['ledger.transferred', hash, String(i + 1)]),
    );
    assert.equal(new Set(delivered.map((r) => r.id)).size, 3);
    for (const p of payloads) {
      const block = await client.getBlock(p.height);
      assert.equal(p.blockHash, block.hash);
      assert.equal(p.timestamp, new Date(block.header.time).toISOString());
    }
    const replay = await call('POST', `/v1/webhooks/${created.body.id}/replay`, {
      fromHeight: payloads[0]!.height,
    });
    assert.equal(replay.status, 200);
    const again = await until(
      () => receiver.delivered('/ordered').length >= 6 && receiver.delivered('/ordered'),
      'three deliveries again',
    );
    assert.deepEqual(
      again.slice(3).map((r) => r.id),
      delivered.map((r) => r.id),
    );
    await refused(
      call('POST', `/v1/webhooks/${created.body.id}/replay`, { fromHeight: 1_000_000 }),
      400,
      'invalid_from_height',
    );
    await call('DELETE', `/v1/webhooks/${created.body.id}`);
  });

  it('dead-letters an event after attemptsMax failed tries and goes on with the next', async () => {
    const created = await call<CreatedWebhookJson>('POST', '/v1/webhooks', {
      url: `${receiver.url}/flaky`,
      events: ['ledger.*'],
    });
    const { id, secret } = created.body;
    let failing = true;
    receiver.respond = (got) => (got.path === '/flaky' && failing ? 503 : 200);
    const first = await transfer(5);
    const dead = await untilAsync(async () => {
      const answer = await call<DeadLetterListJson>('GET', `/v1/webhooks/${id}/dead-letters`);
      return answer.body.deadLetters.length > 0 && answer.body;
    });
    assert.equal(dead.deadLetters[0]!.attempts, 2);
    assert.equal(dead.deadLetters[0]!.type, 'ledger.transferred');
    assert.match(dead.deadLetters[0]!.lastError, /503/);
    const tries = receiver.received.filter((r) => r.path === '/flaky');
    assert.equal(tries.length, 2);
    assert.equal(tries[0]!.id, tries[1]!.id, 'a retry repeats the webhook-id');
    assert.equal(tries[0]!.id, dead.deadLetters[0]!.webhookId);
    failing = false;
    const second = await transfer(6);
    const ok = await until(() => receiver.delivered('/flaky')[0], 'the next event delivered');
    assert.equal((verifyWebhook(secret, ok) as WebhookPayload).tx, second);
    // Replay from the dead letter's height re-drives it, with its id, and drops the letter.
    await call('POST', `/v1/webhooks/${id}/replay`, { fromHeight: dead.deadLetters[0]!.height });
    const redriven = await until(
      () => receiver.delivered('/flaky').length >= 3 && receiver.delivered('/flaky'),
      'the dead letter re-driven',
    );
    assert.equal((verifyWebhook(secret, redriven[1]!) as WebhookPayload).tx, first);
    assert.equal(redriven[1]!.id, dead.deadLetters[0]!.webhookId);
    const after = await call<DeadLetterListJson>('GET', `/v1/webhooks/${id}/dead-letters`);
    assert.deepEqual(after.body.deadLetters, []);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /coffer_webhook_attempts_total\{result="dead_letter"\} 1/);
  });

  async function untilAsync<T>(probe: () => Promise<T | undefined | false>): Promise<T> {
    const deadline = performance.now() + settleTimeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      if (performance.now() > deadline) assert.fail('timed out');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
});
