import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateSecret } from '../../../node/webhooks/signing.js';
import type { PayoutState } from '../engine/ledgers.js';
import { ProviderHttpLedger, ProviderLedgerError } from './provider-ledger.js';
import { startProviderSimulator, type ProviderSimulator } from './simulator.js';

const apiKey = 'sk_test_engine';
const webhookSecret = generateSecret();

/**
 * A real HTTP server in front of `target`. `fault(n, request)` for the n-th request (1-based)
 * says what to do: `forward` relays it; `drop-after` relays it to the provider, then drops the
 * connection without an answer (the payout is made, its answer lost); `status` answers that
 * status itself with `body`; `hang` never answers.
 */
type Fault =
  | { kind: 'forward' }
  | { kind: 'drop-after' }
  | { kind: 'status'; status: number; body?: string }
  | { kind: 'hang' };

async function startProxy(target: () => string, fault: (n: number, method: string) => Fault) {
  let count = 0;
  const seen: { method: string; path: string; key: string | undefined }[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      count += 1;
      const method = request.method ?? 'GET';
      const key = request.headers['idempotency-key'];
      seen.push({
        method,
        path: request.url ?? '',
        key: typeof key === 'string' ? key : undefined,
      });
      const decision = fault(count, method);
      if (decision.kind === 'hang') return;
      if (decision.kind === 'status') {
        response.writeHead(decision.status, { 'content-type': 'application/json' });
        response.end(decision.body ?? '');
        return;
      }
      const headers: Record<string, string> = {};
      for (const name of ['authorization', 'content-type', 'idempotency-key']) {
        const value = request.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const body = Buffer.concat(chunks);
      void fetch(target() + (request.url ?? ''), {
        method,
        headers,
        ...(body.length > 0 ? { body } : {}),
      }).then(async (answer) => {
        const text = await answer.text();
        if (decision.kind === 'drop-after') {
          request.socket.destroy();
          return;
        }
        response.writeHead(answer.status, { 'content-type': 'application/json' });
        response.end(text);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function settle(ledger: ProviderHttpLedger, state: PayoutState): Promise<PayoutState> {
  let current = state;
  for (let i = 0; i < 200 && current.state === 'pending'; i += 1) {
    await sleep(10);
    current = await ledger.payoutState(current.payoutId);
  }
  return current;
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<ProviderLedgerError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ProviderLedgerError, String(error));
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}`);
}

const fast = { retryBaseMs: 5, retryMaxMs: 20 };

describe('ProviderHttpLedger against the simulator', () => {
  let simulator: ProviderSimulator;
  let ledger: ProviderHttpLedger;
  before(async () => {
    simulator = await startProviderSimulator({
      webhookSecret,
      apiKey,
      accounts: { engine: { EUR: 10_000n } },
      completionDelayMs: 30,
    });
    ledger = new ProviderHttpLedger({ url: simulator.url, apiKey, account: 'engine', ...fast });
  });
  after(async () => {
    await ledger.close();
    await simulator.stop();
  });

  it('is an http ledger for the engine account and reads its balance as bigint', async () => {
    assert.equal(ledger.kind, 'http');
    assert.equal(ledger.engineAddress, 'engine');
    assert.equal(await ledger.balance('EUR'), simulator.balances('engine').EUR);
    assert.equal(await ledger.balance('JPY'), 0n, 'an asset not held is 0');
  });

  it('pays out pending, then completed when polled; the recipient is paid', async () => {
    const state = await ledger.payout({
      key: 'fwd-1',
      asset: 'EUR',
      amount: 250n,
      recipient: 'bob',
    });
    assert.equal(state.state, 'pending');
    assert.match(state.payoutId, /^po_/);
    assert.deepEqual(await settle(ledger, state), { state: 'completed', payoutId: state.payoutId });
    assert.equal(simulator.balances('bob').EUR, 250n);
  });

  it('pays once when the engine asks twice with one key', async () => {
    const request = { key: 'fwd-2', asset: 'EUR', amount: 100n, recipient: 'carol' };
    const first = await ledger.payout(request);
    const second = await ledger.payout(request);
    assert.equal(second.payoutId, first.payoutId);
    await settle(ledger, first);
    await ledger.payout(request);
    assert.equal(simulator.balances('carol').EUR, 100n);
    assert.equal(simulator.payouts().filter((p) => p.idempotencyKey === 'fwd-2').length, 1);
  });

  it('gives a failed payout its reason: injected, and insufficient funds', async () => {
    simulator.failPayouts('all');
    const rejected = await ledger.payout({
      key: 'fwd-3',
      asset: 'EUR',
      amount: 1n,
      recipient: 'bob',
    });
    assert.deepEqual(await settle(ledger, rejected), {
      state: 'failed',
      payoutId: rejected.payoutId,
      reason: 'payout_rejected',
    });
    simulator.failPayouts('none');
    const broke = await ledger.payout({
      key: 'fwd-4',
      asset: 'EUR',
      amount: 10n ** 9n,
      recipient: 'bob',
    });
    assert.deepEqual(broke, {
      state: 'failed',
      payoutId: broke.payoutId,
      reason: 'insufficient_funds',
    });
  });

  it("throws the provider's refusals with their codes, at once", async () => {
    await ledger.payout({ key: 'fwd-5', asset: 'EUR', amount: 1n, recipient: 'bob' });
    const reused = await rejectsWith(
      ledger.payout({ key: 'fwd-5', asset: 'EUR', amount: 2n, recipient: 'bob' }),
      'idempotency_key_reused',
    );
    assert.equal(reused.status, 422);
    await rejectsWith(ledger.payoutState('po_missing'), 'payout_not_found');
    const stranger = new ProviderHttpLedger({
      url: simulator.url,
      apiKey: 'wrong',
      account: 'engine',
    });
    await rejectsWith(stranger.balance('EUR'), 'unauthorized');
    const other = new ProviderHttpLedger({ url: simulator.url, apiKey, account: 'bob' });
    await rejectsWith(other.balance('EUR'), 'forbidden');
  });

  it('refuses malformed arguments before any request, naming the field', async () => {
    const good = { key: 'k', asset: 'EUR', amount: 1n, recipient: 'bob' };
    await assert.rejects(ledger.payout({ ...good, key: 'a b' }), /payout key/);
    await assert.rejects(ledger.payout({ ...good, key: 'x'.repeat(65) }), /payout key/);
    await assert.rejects(ledger.payout({ ...good, amount: 0n }), /payout amount/);
    await assert.rejects(ledger.payout({ ...good, amount: -5n }), /payout amount/);
    await assert.rejects(ledger.payout({ ...good, recipient: '' }), /payout recipient/);
    await assert.rejects(ledger.payoutState('../x'), /payoutId/);
    await assert.rejects(ledger.balance(''), /balance asset/);
    assert.throws(() => new ProviderHttpLedger({ url: 'ftp://x', apiKey, account: 'e' }), /url/);
    assert.throws(() => new ProviderHttpLedger({ url: 'x', apiKey, account: 'e' }), /url/);
    assert.throws(
      () => new ProviderHttpLedger({ url: simulator.url, apiKey: '', account: 'e' }),
      /apiKey/,
    );
    assert.throws(
      () => new ProviderHttpLedger({ url: simulator.url, apiKey, account: 'e', attemptsMax: 0 }),
      /attemptsMax/,
    );
  });
});

describe('ProviderHttpLedger: faults between it and the provider', () => {
  let simulator: ProviderSimulator;
  before(async () => {
    simulator = await startProviderSimulator({
      webhookSecret,
      apiKey,
      accounts: { engine: { EUR: 1000n } },
      completionDelayMs: 10,
    });
  });
  after(() => simulator.stop());

  it('retries a payout whose answer was lost with the same key: paid once', async () => {
    const proxy = await startProxy(
      () => simulator.url,
      (n) => (n <= 2 ? { kind: 'drop-after' } : { kind: 'forward' }),
    );
    try {
      const ledger = new ProviderHttpLedger({ url: proxy.url, apiKey, account: 'engine', ...fast });
      const state = await ledger.payout({
        key: 'lost-1',
        asset: 'EUR',
        amount: 70n,
        recipient: 'dora',
      });
      assert.equal(proxy.seen.length, 3, 'two lost answers, then one delivered');
      assert.deepEqual(
        proxy.seen.map((s) => s.key),
        ['lost-1', 'lost-1', 'lost-1'],
      );
      assert.equal(simulator.payouts().filter((p) => p.idempotencyKey === 'lost-1').length, 1);
      await settle(ledger, state);
      assert.equal(simulator.balances('dora').EUR, 70n, 'paid once');
    } finally {
      await proxy.stop();
    }
  });

  it('retries a 5xx or 429 and gives up with provider_unavailable after attemptsMax', async () => {
    const flaky = await startProxy(
      () => simulator.url,
      (n): Fault =>
        n === 1
          ? { kind: 'status', status: 502, body: 'bad gateway' }
          : n === 2
            ? { kind: 'status', status: 429 }
            : { kind: 'forward' },
    );
    const down = await startProxy(
      () => simulator.url,
      () => ({ kind: 'status', status: 503, body: '{"error":{"code":"internal","message":"x"}}' }),
    );
    try {
      const ledger = new ProviderHttpLedger({ url: flaky.url, apiKey, account: 'engine', ...fast });
      assert.equal(await ledger.balance('EUR'), simulator.balances('engine').EUR);
      assert.equal(flaky.seen.length, 3, 'a 502 and a 429 retried');
      const failing = new ProviderHttpLedger({
        url: down.url,
        apiKey,
        account: 'engine',
        attemptsMax: 3,
        ...fast,
      });
      const error = await rejectsWith(
        failing.payout({ key: 'down-1', asset: 'EUR', amount: 1n, recipient: 'bob' }),
        'provider_unavailable',
      );
      assert.equal(error.status, 503);
      assert.equal(down.seen.length, 3);
      assert.ok(down.seen.every((s) => s.key === 'down-1'));
    } finally {
      await flaky.stop();
      await down.stop();
    }
  });

  it('says provider_unreachable when nothing answers: refused, or no answer in time', async () => {
    const gone = await startProxy(
      () => simulator.url,
      () => ({ kind: 'forward' }),
    );
    await gone.stop();
    const refused = new ProviderHttpLedger({
      url: gone.url,
      apiKey,
      account: 'engine',
      attemptsMax: 2,
      ...fast,
    });
    await rejectsWith(refused.balance('EUR'), 'provider_unreachable');

    const hanging = await startProxy(
      () => simulator.url,
      () => ({ kind: 'hang' }),
    );
    try {
      const slow = new ProviderHttpLedger({
        url: hanging.url,
        apiKey,
        account: 'engine',
        attemptsMax: 2,
        timeoutMs: 50,
        ...fast,
      });
      const error = await rejectsWith(slow.balance('EUR'), 'provider_unreachable');
      assert.match(error.message, /no answer within 50 ms/);
      assert.equal(hanging.seen.length, 2);
    } finally {
      await hanging.stop();
    }
  });

  it('refuses answers that are not the protocol or not the payout asked for', async () => {
    const answers = [
      { body: 'not json', code: 'invalid_answer' },
      { body: '{"id":"po_1","status":"settled"}', code: 'invalid_answer' },
      {
        body: '{"id":"po_1","status":"pending","asset":"EUR","amount":"999","recipient":"bob"}',
        code: 'answer_mismatch',
      },
      {
        body: '{"id":"po_1","status":"pending","asset":"EUR","amount":1,"recipient":"bob"}',
        code: 'invalid_answer',
      },
    ];
    for (const { body, code } of answers) {
      const fake = await startProxy(
        () => simulator.url,
        () => ({ kind: 'status', status: 201, body }),
      );
      try {
        const ledger = new ProviderHttpLedger({
          url: fake.url,
          apiKey,
          account: 'engine',
          ...fast,
        });
        await rejectsWith(
          ledger.payout({ key: 'odd-1', asset: 'EUR', amount: 1n, recipient: 'bob' }),
          code,
        );
      } finally {
        await fake.stop();
      }
    }
    const teapot = await startProxy(
      () => simulator.url,
      () => ({
        kind: 'status',
        status: 418,
        body: '{"error":{"code":"teapot","message":"short"}}',
      }),
    );
    try {
      const ledger = new ProviderHttpLedger({ url: teapot.url, apiKey, account: 'engine' });
      const error = await rejectsWith(ledger.balance('EUR'), 'provider_rejected');
      assert.equal(error.providerCode, 'teapot');
      assert.equal(error.status, 418);
    } finally {
      await teapot.stop();
    }
  });

  it('fails calls in flight and later ones with ledger_closed once closed', async () => {
    const hanging = await startProxy(
      () => simulator.url,
      () => ({ kind: 'hang' }),
    );
    try {
      const ledger = new ProviderHttpLedger({ url: hanging.url, apiKey, account: 'engine' });
      const inFlight = ledger.balance('EUR');
      await sleep(30);
      await ledger.close();
      await rejectsWith(inFlight, 'ledger_closed');
      await rejectsWith(ledger.balance('EUR'), 'ledger_closed');
    } finally {
      await hanging.stop();
    }
  });
});
