import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { generateSecret } from '../../../node/webhooks/signing.js';
import {
  balanceAnswerSchema,
  bodyBytesMax,
  formatAmount,
  idempotencyKeySchema,
  payoutAnswerSchema,
  payoutRequestSchema,
  providerApiErrors,
  signNotification,
  verifyDepositNotification,
  type DepositNotification,
} from './protocol.js';

const secret = generateSecret();
const now = new Date('2026-12-05T12:00:00Z');
const nowSeconds = now.getTime() / 1000;
const nothingSeen = { has: () => false };

function notification(overrides: Partial<DepositNotification['deposit']> = {}): string {
  const body: DepositNotification = {
    type: 'deposit.received',
    deposit: {
      id: 'dep_1',
      account: 'engine',
      asset: 'EUR',
      amount: '12345',
      sender: 'alice',
      reference: 'quote q_42',
      receivedAt: '2026-12-05T11:59:58Z',
      ...overrides,
    },
  };
  return JSON.stringify(body);
}

function signed(body: string, options: { id?: string; at?: number; key?: string } = {}) {
  return {
    headers: signNotification(
      options.key ?? secret,
      options.id ?? 'msg_1',
      options.at ?? nowSeconds,
      body,
    ),
    rawBody: body,
  };
}

function verify(
  input: { headers: Record<string, string>; rawBody: string | Uint8Array },
  extra: { seen?: { has(id: string): boolean }; account?: string; at?: Date } = {},
) {
  return verifyDepositNotification({
    ...input,
    secret,
    now: extra.at ?? now,
    seen: extra.seen ?? nothingSeen,
    ...(extra.account === undefined ? {} : { account: extra.account }),
  });
}

function rejection(result: ReturnType<typeof verify>): string {
  assert.equal(result.ok, false, 'expected a rejection');
  return result.ok ? '' : result.code;
}

describe('deposit notifications: signing and verification', () => {
  it('verifies what it signs and gives the deposit with a bigint amount', () => {
    const result = verify(signed(notification()), { account: 'engine' });
    assert.deepEqual(result, {
      ok: true,
      deposit: {
        depositId: 'dep_1',
        asset: 'EUR',
        amount: 12345n,
        sender: 'alice',
        reference: 'quote q_42',
      },
      account: 'engine',
      receivedAt: '2026-12-05T11:59:58Z',
      webhookId: 'msg_1',
    });
  });

  it('signs the bytes the independent Standard Webhooks library signs and verifies', () => {
    const body = notification();
    const { headers } = signed(body, { at: Math.floor(Date.now() / 1000) });
    // npm standardwebhooks checks against the real clock, hence the real time here.
    assert.doesNotThrow(() => new Webhook(secret).verify(body, headers));
    const theirs = new Webhook(secret).sign('msg_2', now, body);
    const result = verify({
      headers: {
        'webhook-id': 'msg_2',
        'webhook-timestamp': String(nowSeconds),
        'webhook-signature': theirs,
      },
      rawBody: body,
    });
    assert.equal(result.ok, true);
  });

  it('accepts raw bytes and headers in any case or as fetch Headers', () => {
    const body = notification();
    const { headers } = signed(body);
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
    assert.equal(verify({ headers: upper, rawBody: Buffer.from(body) }).ok, true);
    const fetchHeaders = new Headers(headers);
    const result = verifyDepositNotification({
      headers: fetchHeaders,
      rawBody: new TextEncoder().encode(body),
      secret,
      now,
      seen: nothingSeen,
    });
    assert.equal(result.ok, true);
  });

  it('refuses a tampered body, a wrong secret, a changed id or timestamp: invalid_signature', () => {
    const body = notification();
    const good = signed(body);
    assert.equal(
      rejection(verify({ ...good, rawBody: notification({ amount: '99999' }) })),
      'invalid_signature',
    );
    assert.equal(rejection(verify(signed(body, { key: generateSecret() }))), 'invalid_signature');
    assert.equal(
      rejection(verify({ ...good, headers: { ...good.headers, 'webhook-id': 'msg_9' } })),
      'invalid_signature',
    );
    assert.equal(
      rejection(
        verify({
          ...good,
          headers: { ...good.headers, 'webhook-timestamp': String(nowSeconds + 1) },
        }),
      ),
      'invalid_signature',
    );
  });

  it('refuses missing or malformed webhook headers as invalid_signature, naming the header', () => {
    const good = signed(notification());
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const headers: Record<string, string> = { ...good.headers };
      delete headers[name];
      const result = verify({ ...good, headers });
      assert.equal(rejection(result), 'invalid_signature');
      assert.match(result.ok ? '' : result.message, new RegExp(name));
    }
    const badTime = { ...good.headers, 'webhook-timestamp': '12.5' };
    assert.equal(rejection(verify({ ...good, headers: badTime })), 'invalid_signature');
    const badId = { ...good.headers, 'webhook-id': 'msg 1' };
    assert.equal(rejection(verify({ ...good, headers: badId })), 'invalid_signature');
  });

  it('accepts any of several space-separated signatures and skips other schemes', () => {
    const body = notification();
    const good = signed(body);
    const other = signed(body, { key: generateSecret() }).headers['webhook-signature']!;
    const mine = good.headers['webhook-signature']!;
    for (const header of [`${other} ${mine}`, `${mine} ${other}`, `v1a,abcd ${mine}`]) {
      const result = verify({ ...good, headers: { ...good.headers, 'webhook-signature': header } });
      assert.equal(result.ok, true, header);
    }
    const none = `${other} v1a,${mine.slice(3)}`;
    assert.equal(
      rejection(verify({ ...good, headers: { ...good.headers, 'webhook-signature': none } })),
      'invalid_signature',
    );
    const tooMany = Array.from({ length: 9 }, () => other).join(' ') + ` ${mine}`;
    assert.equal(
      rejection(verify({ ...good, headers: { ...good.headers, 'webhook-signature': tooMany } })),
      'invalid_signature',
    );
  });

  it('refuses a timestamp more than 5 minutes off either way: stale_timestamp', () => {
    const body = notification();
    const fiveMinutes = 5 * 60;
    assert.equal(verify(signed(body, { at: nowSeconds - fiveMinutes })).ok, true, 'at the edge');
    assert.equal(verify(signed(body, { at: nowSeconds + fiveMinutes })).ok, true, 'at the edge');
    assert.equal(
      rejection(verify(signed(body, { at: nowSeconds - fiveMinutes - 1 }))),
      'stale_timestamp',
    );
    assert.equal(
      rejection(verify(signed(body, { at: nowSeconds + fiveMinutes + 1 }))),
      'stale_timestamp',
    );
  });

  it('refuses a webhook-id it has seen: replayed_notification', () => {
    const delivery = signed(notification());
    const seen = new Set<string>();
    const first = verify(delivery, { seen });
    assert.equal(first.ok, true);
    if (first.ok) seen.add(first.webhookId);
    assert.equal(rejection(verify(delivery, { seen })), 'replayed_notification');
    // Verification records nothing itself: an id the caller did not add is accepted again.
    assert.equal(verify(delivery, { seen: new Set() }).ok, true);
  });

  it('refuses a signed body that is not a deposit notification: invalid_notification', () => {
    const bodies = [
      'not json',
      JSON.stringify({ type: 'deposit.reversed', deposit: {} }),
      notification({ amount: '12.5' }),
      notification({ amount: '-1' }),
      notification({ amount: '0' }),
      notification({ amount: '012' }),
      notification({ amount: '1'.repeat(79) }),
      notification({ id: '' }),
      notification({ reference: 'line\nbreak' }),
      notification({ receivedAt: 'yesterday' }),
    ];
    for (const body of bodies) {
      assert.equal(rejection(verify(signed(body))), 'invalid_notification', body);
    }
    const large = 'x'.repeat(bodyBytesMax + 1);
    assert.equal(rejection(verify(signed(large))), 'invalid_notification');
    const notUtf8 = new Uint8Array([0x7b, 0xff, 0x7d]);
    assert.equal(
      rejection(verify({ headers: signed('{}').headers, rawBody: notUtf8 })),
      'invalid_notification',
    );
  });

  it('refuses a deposit to another account when the engine names its own: account_mismatch', () => {
    const delivery = signed(notification({ account: 'someone-else' }));
    assert.equal(rejection(verify(delivery, { account: 'engine' })), 'account_mismatch');
  });

  it('checks in a fixed order: signature, then timestamp, then replay, then body', () => {
    const stale = nowSeconds - 3600;
    const seenAll = { has: () => true };
    assert.equal(
      rejection(
        verify(signed('not json', { at: stale, key: generateSecret() }), { seen: seenAll }),
      ),
      'invalid_signature',
    );
    assert.equal(
      rejection(verify(signed('not json', { at: stale }), { seen: seenAll })),
      'stale_timestamp',
    );
    assert.equal(rejection(verify(signed('not json'), { seen: seenAll })), 'replayed_notification');
    assert.equal(rejection(verify(signed('not json'))), 'invalid_notification');
  });

  it('throws on a malformed secret or an invalid now, naming the field', () => {
    const delivery = signed(notification());
    assert.throws(
      () => verifyDepositNotification({ ...delivery, secret: 'abc', now, seen: nothingSeen }),
      /secret: a secret starts with whsec_/,
    );
    assert.throws(
      () =>
        verifyDepositNotification({
          ...delivery,
          secret,
          now: new Date(Number.NaN),
          seen: nothingSeen,
        }),
      /now/,
    );
  });

  it('property: any flipped byte of the body or signature fails verification', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 30n }),
        // eslint-disable-next-line no-control-regex -- the reference refuses control characters
        fc.string({ maxLength: 40 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s)),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (amount, reference, position, bit) => {
          const body = notification({ amount: formatAmount(amount), reference });
          const delivery = signed(body);
          const result = verify(delivery);
          assert.equal(result.ok, true);
          if (result.ok) assert.equal(result.deposit.amount, amount);

          const bytes = Buffer.from(body);
          bytes[position % bytes.length]! ^= 1 << bit;
          assert.equal(verify({ ...delivery, rawBody: bytes }).ok, false);

          const signature = Buffer.from(delivery.headers['webhook-signature']!.slice(3), 'base64');
          signature[position % signature.length]! ^= 1 << bit;
          const flipped = `v1,${signature.toString('base64')}`;
          const headers = { ...delivery.headers, 'webhook-signature': flipped };
          assert.equal(rejection(verify({ ...delivery, headers })), 'invalid_signature');
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('wire schemas', () => {
  it('takes idempotency keys of 1 to 64 of A-Z a-z 0-9 _ - : .', () => {
    for (const key of ['a', 'fwd:q_1.payout-2', 'x'.repeat(64)]) {
      assert.ok(idempotencyKeySchema.safeParse(key).success, key);
    }
    for (const key of ['', 'x'.repeat(65), 'a b', 'a/b', 'é']) {
      assert.ok(!idempotencyKeySchema.safeParse(key).success, key);
    }
  });

  it('refuses payout requests with floats, zero, unknown fields or long references', () => {
    const good = { asset: 'EUR', amount: '100', recipient: 'bob' };
    assert.ok(payoutRequestSchema.safeParse(good).success);
    assert.ok(payoutRequestSchema.safeParse({ ...good, reference: 'r' }).success);
    for (const bad of [
      { ...good, amount: 100 },
      { ...good, amount: '1.5' },
      { ...good, amount: '0' },
      { ...good, amount: '1e3' },
      { ...good, extra: true },
      { ...good, reference: 'r'.repeat(141) },
      { asset: 'EUR', amount: '1' },
    ]) {
      assert.ok(!payoutRequestSchema.safeParse(bad).success, JSON.stringify(bad));
    }
  });

  it('wants a reason on a failed payout and only there', () => {
    const payout = { id: 'po_1', asset: 'EUR', amount: '1', recipient: 'bob' };
    assert.ok(payoutAnswerSchema.safeParse({ ...payout, status: 'pending' }).success);
    assert.ok(
      payoutAnswerSchema.safeParse({ ...payout, status: 'failed', reason: 'closed' }).success,
    );
    assert.ok(!payoutAnswerSchema.safeParse({ ...payout, status: 'failed' }).success);
    assert.ok(
      !payoutAnswerSchema.safeParse({ ...payout, status: 'completed', reason: 'x' }).success,
    );
    assert.ok(!payoutAnswerSchema.safeParse({ ...payout, status: 'settled' }).success);
  });

  it('formats bigint amounts as decimal strings and refuses negative or oversized ones', () => {
    assert.equal(formatAmount(0n), '0');
    assert.equal(formatAmount(2n ** 256n - 1n), (2n ** 256n - 1n).toString());
    assert.throws(() => formatAmount(-1n, 'payout amount'), /payout amount: a non-negative/);
    assert.throws(() => formatAmount(10n ** 78n), /at most 78 digits/);
    assert.ok(balanceAnswerSchema.safeParse({ account: 'engine', balances: [] }).success);
  });
});

describe('docs/bridge-http.md', () => {
  const doc = fs.readFileSync(new URL('../../../../docs/bridge-http.md', import.meta.url), 'utf8');

  it('lists every error code with its HTTP status', () => {
    for (const [code, { status }] of Object.entries(providerApiErrors)) {
      assert.match(doc, new RegExp(`\\| \`${code}\`\\s+\\| ${status}\\s+\\|`), code);
    }
  });

  it('shows a signed example that verifies', () => {
    const block = (label: string) => {
      const start = doc.indexOf('```text', doc.indexOf(label));
      return doc.slice(doc.indexOf('\n', start) + 1, doc.indexOf('\n```', start));
    };
    const exampleSecret = /Secret `(whsec_[^`]+)`/.exec(doc)![1]!;
    const body = block('body (exactly these bytes)');
    const headers = Object.fromEntries(
      block('and headers')
        .split('\n')
        .map((line) => line.split(': ') as [string, string]),
    );
    const result = verifyDepositNotification({
      headers,
      rawBody: body,
      secret: exampleSecret,
      now: new Date(Number(headers['webhook-timestamp']) * 1000),
      seen: nothingSeen,
    });
    assert.ok(result.ok, result.ok ? '' : result.message);
    assert.equal(result.deposit.amount, 125000n);
  });
});
