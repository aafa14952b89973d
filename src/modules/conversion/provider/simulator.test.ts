import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateSecret } from '../../../node/webhooks/signing.js';
import { verifyDepositNotification } from './protocol.js';
import { startProviderSimulator, type ProviderSimulator } from './simulator.js';

const apiKey = 'sk_test_engine';
const webhookSecret = generateSecret();

/** A real HTTP server standing in for the engine: records each request, answers `statuses` in turn (then 204). */
async function startReceiver(statuses: number[] = []) {
  const received: { headers: http.IncomingHttpHeaders; body: Buffer }[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks) });
      response.writeHead(statuses.shift() ?? 204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/provider`,
    received,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function api(
  simulator: ProviderSimulator,
  method: string,
  path: string,
  options: { body?: unknown; key?: string; auth?: string; raw?: string } = {},
) {
  const headers: Record<string, string> = { authorization: options.auth ?? `Bearer ${apiKey}` };
  if (options.body !== undefined || options.raw !== undefined) {
    headers['content-type'] = 'application/json';
  }
  if (options.key !== undefined) headers['idempotency-key'] = options.key;
  const response = await fetch(simulator.url + path, {
    method,
    headers,
    ...(options.raw !== undefined
      ? { body: options.raw }
      : options.body !== undefined
        ? { body: JSON.stringify(options.body) }
        : {}),
  });
  return {
    status: response.status,
    replayed: response.headers.get('idempotent-replayed'),
    json: (await response.json()) as Record<string, unknown> & {
      error?: { code: string; field?: string };
    },
  };
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('provider simulator: payouts', () => {
  let simulator: ProviderSimulator;
  before(async () => {
    simulator = await startProviderSimulator({
      webhookSecret,
      apiKey,
      accounts: { engine: { EUR: 1000n, USD: 50n } },
      completionDelayMs: 40,
    });
  });
  after(() => simulator.stop());

  it('answers a payout pending, draws the engine account at once and completes it later', async (t) => {
    // Its own simulator, slow enough that the poll surely comes before completion.
    const slow = await startProviderSimulator({
      webhookSecret,
      apiKey,
      accounts: { engine: { USD: 50n } },
      completionDelayMs: 400,
    });
    t.after(() => slow.stop());
    const simulator = slow;
    const answer = await api(simulator, 'POST', '/v1/payouts', {
      key: 'async-1',
      body: { asset: 'USD', amount: '20', recipient: 'carol' },
    });
    assert.equal(answer.status, 201);
    assert.equal(answer.json.status, 'pending');
    assert.deepEqual(simulator.balances('engine').USD, 30n);
    assert.equal(simulator.balances('carol').USD, undefined, 'not yet paid');
    const id = answer.json.id as string;
    const polled = await api(simulator, 'GET', `/v1/payouts/${id}`);
    assert.equal(polled.json.status, 'pending');
    await waitFor(
      async () => (await api(simulator, 'GET', `/v1/payouts/${id}`)).json.status === 'completed',
    );
    assert.equal(simulator.balances('carol').USD, 20n);
    assert.deepEqual((await api(simulator, 'GET', `/v1/payouts/${id}`)).json, {
      id,
      status: 'completed',
      asset: 'USD',
      amount: '20',
      recipient: 'carol',
    });
  });

  it('pays once for one Idempotency-Key: the same body gets the same payout back', async () => {
    const body = { asset: 'EUR', amount: '100', recipient: 'bob', reference: 'fwd 1' };
    const first = await api(simulator, 'POST', '/v1/payouts', { key: 'fwd:1', body });
    const second = await api(simulator, 'POST', '/v1/payouts', { key: 'fwd:1', body });
    assert.equal(first.status, 201);
    assert.equal(second.status, 201);
    assert.equal(first.replayed, null);
    assert.equal(second.replayed, 'true');
    assert.equal(second.json.id, first.json.id);
    assert.equal(simulator.payouts().filter((p) => p.idempotencyKey === 'fwd:1').length, 1);
    assert.equal(simulator.balances('engine').EUR, 900n, 'drawn once');
    await waitFor(() => simulator.balances('bob').EUR === 100n);
    const third = await api(simulator, 'POST', '/v1/payouts', { key: 'fwd:1', body });
    assert.equal(third.json.id, first.json.id);
    assert.equal(third.json.status, 'completed', 'a later repeat shows the current status');
    await sleep(80);
    assert.equal(simulator.balances('bob').EUR, 100n, 'paid once');
    assert.equal(simulator.balances('engine').EUR, 900n);
  });

  it('refuses the same key with another body: 422 idempotency_key_reused, nothing moves', async () => {
    const body = { asset: 'EUR', amount: '10', recipient: 'bob' };
    await api(simulator, 'POST', '/v1/payouts', { key: 'reuse-1', body });
    const before = simulator.balances('engine').EUR;
    for (const other of [
      { ...body, amount: '11' },
      { ...body, recipient: 'dave' },
      { ...body, reference: 'added' },
    ]) {
      const answer = await api(simulator, 'POST', '/v1/payouts', { key: 'reuse-1', body: other });
      assert.equal(answer.status, 422);
      assert.equal(answer.json.error?.code, 'idempotency_key_reused');
    }
    assert.equal(simulator.balances('engine').EUR, before);
    assert.equal(simulator.payouts().filter((p) => p.idempotencyKey === 'reuse-1').length, 1);
  });

  it('answers a payout the account cannot cover failed (insufficient_funds), stored under its key', async () => {
    const body = { asset: 'USD', amount: '1000000', recipient: 'bob' };
    const answer = await api(simulator, 'POST', '/v1/payouts', { key: 'broke-1', body });
    assert.equal(answer.status, 201);
    assert.equal(answer.json.status, 'failed');
    assert.equal(answer.json.reason, 'insufficient_funds');
    simulator.credit('engine', 'USD', 2_000_000n);
    const again = await api(simulator, 'POST', '/v1/payouts', { key: 'broke-1', body });
    assert.equal(again.json.status, 'failed', 'the key keeps its answer after funds arrive');
    assert.equal(again.json.id, answer.json.id);
  });

  it('fails payouts on demand, all or to one recipient, and gives the funds back', async () => {
    simulator.failPayouts({ recipient: 'mallory' });
    const toMallory = await api(simulator, 'POST', '/v1/payouts', {
      key: 'inject-1',
      body: { asset: 'EUR', amount: '5', recipient: 'mallory' },
    });
    const toBob = await api(simulator, 'POST', '/v1/payouts', {
      key: 'inject-2',
      body: { asset: 'EUR', amount: '5', recipient: 'bob' },
    });
    const engineBefore = simulator.balances('engine').EUR!;
    await sleep(100);
    const state = async (id: unknown) =>
      (await api(simulator, 'GET', `/v1/payouts/${String(id)}`)).json;
    assert.deepEqual(await state(toMallory.json.id), {
      id: toMallory.json.id,
      status: 'failed',
      reason: 'payout_rejected',
      asset: 'EUR',
      amount: '5',
      recipient: 'mallory',
    });
    assert.equal((await state(toBob.json.id)).status, 'completed');
    assert.equal(simulator.balances('engine').EUR, engineBefore + 5n, 'the failed one refunded');
    assert.equal(simulator.balances('mallory').EUR, undefined);

    simulator.failPayouts('all');
    const any = await api(simulator, 'POST', '/v1/payouts', {
      key: 'inject-3',
      body: { asset: 'EUR', amount: '5', recipient: 'bob' },
    });
    await sleep(100);
    assert.equal((await state(any.json.id)).status, 'failed');
    simulator.failPayouts('none');
    const ok = await api(simulator, 'POST', '/v1/payouts', {
      key: 'inject-4',
      body: { asset: 'EUR', amount: '5', recipient: 'bob' },
    });
    await sleep(100);
    assert.equal((await state(ok.json.id)).status, 'completed');
  });

  it('answers the engine its balances and no one else', async () => {
    const answer = await api(simulator, 'GET', '/v1/accounts/engine/balances');
    assert.equal(answer.status, 200);
    assert.equal(answer.json.account, 'engine');
    const eur = (answer.json.balances as { asset: string; amount: string }[]).find(
      (b) => b.asset === 'EUR',
    );
    assert.equal(eur?.amount, String(simulator.balances('engine').EUR));
    const other = await api(simulator, 'GET', '/v1/accounts/bob/balances');
    assert.equal(other.status, 403);
    assert.equal(other.json.error?.code, 'forbidden');
  });

  it('refuses bad requests with their codes', async () => {
    const body = { asset: 'EUR', amount: '1', recipient: 'bob' };
    const cases: [Parameters<typeof api>, number, string][] = [
      [
        [simulator, 'POST', '/v1/payouts', { key: 'k', body, auth: 'Bearer wrong' }],
        401,
        'unauthorized',
      ],
      [[simulator, 'POST', '/v1/payouts', { key: 'k', body, auth: '' }], 401, 'unauthorized'],
      [[simulator, 'POST', '/v1/payouts', { body }], 400, 'invalid_idempotency_key'],
      [[simulator, 'POST', '/v1/payouts', { key: 'a b', body }], 400, 'invalid_idempotency_key'],
      [
        [simulator, 'POST', '/v1/payouts', { key: 'x'.repeat(65), body }],
        400,
        'invalid_idempotency_key',
      ],
      [
        [simulator, 'POST', '/v1/payouts', { key: 'k', body: { ...body, amount: 1 } }],
        400,
        'invalid_request',
      ],
      [
        [simulator, 'POST', '/v1/payouts', { key: 'k', body: { ...body, amount: '0.5' } }],
        400,
        'invalid_request',
      ],
      [[simulator, 'POST', '/v1/payouts', { key: 'k', raw: '{' }], 400, 'invalid_request'],
      [
        [simulator, 'POST', '/v1/payouts', { key: 'k', raw: 'x'.repeat(20_000) }],
        413,
        'body_too_large',
      ],
      [[simulator, 'GET', '/v1/payouts/po_unknown'], 404, 'payout_not_found'],
      [[simulator, 'GET', '/v1/payouts'], 405, 'method_not_allowed'],
      [[simulator, 'GET', '/v2/anything'], 404, 'not_found'],
    ];
    for (const [args, status, code] of cases) {
      const answer = await api(...args);
      assert.equal(answer.status, status, `${code}: ${JSON.stringify(args[3] ?? {}).slice(0, 80)}`);
      assert.equal(answer.json.error?.code, code);
    }
    const field = await api(simulator, 'POST', '/v1/payouts', {
      key: 'k',
      body: { ...body, recipient: 'has space' },
    });
    assert.equal(field.json.error?.field, 'recipient');
    assert.equal(
      simulator.payouts().filter((p) => p.idempotencyKey === 'k').length,
      0,
      'no refused request stores its key',
    );
  });

  it('refuses a body that is not JSON-typed: 415', async () => {
    const response = await fetch(`${simulator.url}/v1/payouts`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${apiKey}`,
        'idempotency-key': 'k',
        'content-type': 'text/plain',
      },
      body: '{}',
    });
    assert.equal(response.status, 415);
  });
});

describe('provider simulator: bounds', () => {
  it('stores at most payoutsMax payouts and then answers 503 payouts_full', async () => {
    const simulator = await startProviderSimulator({
      webhookSecret,
      apiKey,
      accounts: { engine: { EUR: 100n } },
      payoutsMax: 2,
    });
    try {
      const body = { asset: 'EUR', amount: '1', recipient: 'bob' };
      assert.equal((await api(simulator, 'POST', '/v1/payouts', { key: 'a', body })).status, 201);
      assert.equal((await api(simulator, 'POST', '/v1/payouts', { key: 'b', body })).status, 201);
      const full = await api(simulator, 'POST', '/v1/payouts', { key: 'c', body });
      assert.equal(full.status, 503);
      assert.equal(full.json.error?.code, 'payouts_full');
      const repeat = await api(simulator, 'POST', '/v1/payouts', { key: 'a', body });
      assert.equal(repeat.status, 201, 'a stored key is still answered');
    } finally {
      await simulator.stop();
    }
  });

  it('refuses a malformed secret or an empty API key at start', async () => {
    await assert.rejects(startProviderSimulator({ webhookSecret: 'nope', apiKey }), /whsec_/);
    await assert.rejects(startProviderSimulator({ webhookSecret, apiKey: '' }), /apiKey/);
  });
});

describe('provider simulator: deposit notifications', () => {
  it('moves the deposit and delivers it signed; the receiver verifies it', async () => {
    const receiver = await startReceiver();
    const simulator = await startProviderSimulator({
      webhookUrl: receiver.url,
      webhookSecret,
      apiKey,
      accounts: { alice: { EUR: 500n } },
    });
    try {
      const depositId = await simulator.deposit({
        asset: 'EUR',
        amount: 120n,
        sender: 'alice',
        reference: 'quote q_7',
      });
      assert.equal(simulator.balances('alice').EUR, 380n);
      assert.equal(simulator.balances('engine').EUR, 120n);
      assert.equal(receiver.received.length, 1);
      const [request] = receiver.received;
      assert.equal(request!.headers['content-type'], 'application/json');
      const seen = new Set<string>();
      const result = verifyDepositNotification({
        headers: request!.headers,
        rawBody: request!.body,
        secret: webhookSecret,
        now: new Date(),
        seen,
        account: 'engine',
      });
      assert.ok(result.ok, result.ok ? '' : result.message);
      assert.deepEqual(result.deposit, {
        depositId,
        asset: 'EUR',
        amount: 120n,
        sender: 'alice',
        reference: 'quote q_7',
      });
      const wrongSecret = verifyDepositNotification({
        headers: request!.headers,
        rawBody: request!.body,
        secret: generateSecret(),
        now: new Date(),
        seen,
      });
      assert.equal(wrongSecret.ok, false);
      assert.deepEqual(simulator.deliveries(), [
        { depositId, webhookId: result.webhookId, attempts: [{ status: 204 }], delivered: true },
      ]);
      await assert.rejects(
        simulator.deposit({ asset: 'EUR', amount: 1000n, sender: 'alice', reference: '' }),
        /holds less than/,
      );
      assert.equal(simulator.balances('alice').EUR, 380n, 'a refused deposit moves nothing');
    } finally {
      await simulator.stop();
      await receiver.stop();
    }
  });

  it('retries on a 500 with the same webhook-id and a fresh signature, then succeeds', async () => {
    const receiver = await startReceiver([500, 503]);
    const simulator = await startProviderSimulator({
      webhookUrl: receiver.url,
      webhookSecret,
      apiKey,
      accounts: { alice: { EUR: 10n } },
      deliveryRetryBaseMs: 10,
    });
    try {
      const depositId = await simulator.deposit({
        asset: 'EUR',
        amount: 10n,
        sender: 'alice',
        reference: 'r',
      });
      assert.equal(receiver.received.length, 3);
      const ids = new Set(receiver.received.map((r) => r.headers['webhook-id']));
      assert.equal(ids.size, 1, 'one event, one webhook-id on every try');
      assert.equal(new Set(receiver.received.map((r) => r.body.toString())).size, 1);
      for (const request of receiver.received) {
        const result = verifyDepositNotification({
          headers: request.headers,
          rawBody: request.body,
          secret: webhookSecret,
          now: new Date(),
          seen: new Set(),
        });
        assert.ok(result.ok);
      }
      const [delivery] = simulator.deliveries();
      assert.equal(delivery!.depositId, depositId);
      assert.deepEqual(delivery!.attempts, [
        { status: 500, error: 'the receiver answered 500' },
        { status: 503, error: 'the receiver answered 503' },
        { status: 204 },
      ]);
      assert.equal(delivery!.delivered, true);
    } finally {
      await simulator.stop();
      await receiver.stop();
    }
  });

  it('gives up after deliveryAttemptsMax tries and says so; an unreachable receiver too', async () => {
    const receiver = await startReceiver();
    await receiver.stop();
    const unreachable = await startProviderSimulator({
      webhookUrl: receiver.url, // closed now: connection refused
      webhookSecret,
      apiKey,
      accounts: { alice: { EUR: 10n } },
      deliveryAttemptsMax: 2,
      deliveryRetryBaseMs: 5,
    });
    try {
      const refused = await unreachable.deposit({
        asset: 'EUR',
        amount: 1n,
        sender: 'alice',
        reference: 'r',
      });
      const [delivery] = unreachable.deliveries();
      assert.equal(delivery!.depositId, refused);
      assert.equal(delivery!.delivered, false);
      assert.equal(delivery!.attempts.length, 2);
      assert.match(delivery!.attempts[0]!.error ?? '', /request failed/);
      assert.equal(unreachable.balances('engine').EUR, 1n, 'the funds moved all the same');
    } finally {
      await unreachable.stop();
    }
    const failing = await startReceiver([500, 500, 500, 500]);
    const limited = await startProviderSimulator({
      webhookUrl: failing.url,
      webhookSecret,
      apiKey,
      accounts: { alice: { EUR: 10n } },
      deliveryAttemptsMax: 3,
      deliveryRetryBaseMs: 5,
    });
    try {
      await limited.deposit({ asset: 'EUR', amount: 1n, sender: 'alice', reference: 'r' });
      assert.equal(failing.received.length, 3);
      assert.equal(limited.deliveries()[0]!.delivered, false);
    } finally {
      await limited.stop();
      await failing.stop();
    }
  });
});

describe('provider simulator: against a reference model', () => {
  it('property: any sequence of payouts pays once per key, and no money is made or lost', async () => {
    const opening = 200n;
    const operation = fc.record({
      key: fc.constantFrom('k1', 'k2', 'k3', 'k4', 'k5'),
      amount: fc.bigInt({ min: 1n, max: 80n }),
      recipient: fc.constantFrom('bob', 'carol', 'mallory'),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(operation, { maxLength: 12 }),
        fc.boolean(),
        async (operations, failMallory) => {
          const simulator = await startProviderSimulator({
            webhookSecret,
            apiKey,
            accounts: { engine: { EUR: opening } },
            completionDelayMs: 1,
          });
          try {
            if (failMallory) simulator.failPayouts({ recipient: 'mallory' });
            // The model: each key's first request and payout id, and the engine's funds.
            const model = new Map<string, { amount: bigint; recipient: string; id: string }>();
            let available = opening;
            for (const op of operations) {
              const body = { asset: 'EUR', amount: String(op.amount), recipient: op.recipient };
              const answer = await api(simulator, 'POST', '/v1/payouts', { key: op.key, body });
              const first = model.get(op.key);
              if (first === undefined) {
                assert.equal(answer.status, 201);
                const covered = op.amount <= available;
                assert.equal(answer.json.status, covered ? 'pending' : 'failed');
                const refused = failMallory && op.recipient === 'mallory';
                if (covered && !refused) available -= op.amount;
                model.set(op.key, {
                  amount: op.amount,
                  recipient: op.recipient,
                  id: answer.json.id as string,
                });
              } else if (first.amount === op.amount && first.recipient === op.recipient) {
                assert.equal(answer.json.id, first.id, 'a repeat answers the first payout');
              } else {
                assert.equal(answer.json.error?.code, 'idempotency_key_reused');
              }
              // Each payout settles before the next request, so the model knows the funds exactly.
              await waitFor(() => simulator.payouts().every((p) => p.status !== 'pending'));
              assert.equal(simulator.balances('engine').EUR ?? 0n, available);
            }
            await waitFor(() => simulator.payouts().every((p) => p.status !== 'pending'));
            const payouts = simulator.payouts();
            assert.equal(payouts.length, model.size, 'one payout per key');
            const paid = (recipient: string) =>
              payouts
                .filter((p) => p.status === 'completed' && p.recipient === recipient)
                .reduce((sum, p) => sum + BigInt(p.amount), 0n);
            for (const recipient of ['bob', 'carol', 'mallory']) {
              assert.equal(simulator.balances(recipient).EUR ?? 0n, paid(recipient), recipient);
            }
            if (failMallory) assert.equal(paid('mallory'), 0n);
            const total = ['engine', 'bob', 'carol', 'mallory'].reduce(
              (sum, account) => sum + (simulator.balances(account).EUR ?? 0n),
              0n,
            );
            assert.equal(total, opening, 'debits equal credits');
          } finally {
            await simulator.stop();
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});
