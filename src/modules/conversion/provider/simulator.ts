import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
// The node's bounded webhook POST (no redirects, a timeout, at most 4 KiB of the answer read):
// the simulator delivers notifications the way the node delivers its own. See protocol.ts on
// importing from src/node.
import { postWebhook } from '../../../node/webhooks/delivery.js';
import {
  accountSchema,
  assetSchema,
  bodyBytesMax,
  depositNotificationType,
  errorAnswer,
  formatAmount,
  idempotencyKeyHeader,
  idempotencyKeySchema,
  idSchema,
  payoutRequestSchema,
  providerApiErrors,
  referenceSchema,
  signNotification,
  type BalanceAnswer,
  type DepositNotification,
  type PayoutAnswer,
  type PayoutRequest,
  type ProviderApiErrorCode,
} from './protocol.js';

/*
 * The reference provider: a real HTTP server on 127.0.0.1 speaking the provider protocol
 * (docs/bridge-http.md), for the engine's tests and for a provider to compare its answers with.
 * Accounts and balances live in memory. Payouts are accepted `pending` and complete (or fail)
 * `completionDelayMs` later, so a client has to poll. Deposits move funds from a sender's account
 * to the engine's and are notified, signed, to `webhookUrl`, retried with backoff.
 *
 * Off chain, this file reads the wall clock and sleeps. eslint.config.js bans the timer and clock
 * globals in src/modules/** (for code that runs in blocks); the provider folder is I/O like a
 * module's service.ts and should be exempted there the same way. Until then the clock is an
 * option (one marked line) and sleeping comes from node:timers/promises.
 *
 * Insufficient funds: a payout the engine's account cannot cover is answered 201 with status
 * `failed` and reason `insufficient_funds`, and stored under its Idempotency-Key like any other.
 * Not a 409: a refusal that is not stored would let the same key pay later, after the engine has
 * given up on it and refunded the payer, so a retry by a restarted engine could pay twice.
 */

export interface ProviderSimulatorOptions {
  /** Where deposit notifications go; none: deposits move funds and are only recorded. */
  webhookUrl?: string;
  /** The `whsec_` secret notifications are signed with. */
  webhookSecret: string;
  /** The bearer token the engine sends. */
  apiKey: string;
  /** The account `apiKey` owns: payouts are drawn from it, deposits go to it. Default `engine`. */
  engineAccount?: string;
  /** Opening balances, minor units. */
  accounts?: Record<string, Record<string, bigint>>;
  /** How long a payout stays pending. Default 50 ms. */
  completionDelayMs?: number;
  /** Tries of one notification before it is given up (recorded as undelivered). Default 5. */
  deliveryAttemptsMax?: number;
  /** The wait after the first failed try; it doubles after each further one. Default 20 ms. */
  deliveryRetryBaseMs?: number;
  /** The longest wait between two tries. Default 1000 ms. */
  deliveryRetryMaxMs?: number;
  /** How long one notification POST may take. Default 5000 ms. */
  deliveryTimeoutMs?: number;
  /** Payouts stored (each with its Idempotency-Key); past it new ones get 503. Default 10,000. */
  payoutsMax?: number;
  /** Port on 127.0.0.1; default 0 (any free one). */
  port?: number;
  /** Wall clock, Unix ms: webhook-timestamp and receivedAt. Default Date.now. */
  clock?: () => number;
}

export type PayoutFailureMode = 'none' | 'all' | { recipient: string };

export interface SimulatedPayout extends PayoutAnswer {
  idempotencyKey: string;
  reference?: string;
}

export interface NotificationDelivery {
  depositId: string;
  webhookId: string;
  /** Each try's outcome: the receiver's status, or why no answer came. */
  attempts: { status?: number; error?: string }[];
  delivered: boolean;
}

export interface ProviderSimulator {
  /** The base URL, `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The engine's account at the simulated provider. */
  readonly engineAccount: string;
  /** Stops the server, pending completions and deliveries. */
  stop(): Promise<void>;
  /** Adds funds to an account (minted by the simulator: a test's setup). */
  credit(account: string, asset: string, amount: bigint): void;
  /**
   * Moves `amount` from `sender` to `to` (the engine's account) and notifies the engine, signed,
   * retrying on failure. Resolves with the deposit id when the notification was delivered or given up
   * (`deliveries()` says which). Throws when `sender` cannot cover it.
   */
  deposit(input: {
    to?: string;
    asset: string;
    amount: bigint;
    sender: string;
    reference: string;
  }): Promise<string>;
  /** Makes payouts that complete from now on fail (`payout_rejected`), all or to one recipient. */
  failPayouts(mode: PayoutFailureMode): void;
  /** Where notifications go from now on (an engine started after the provider). */
  setWebhookUrl(url: string): void;
  /** Every stored payout, oldest first. */
  payouts(): SimulatedPayout[];
  /** Every notification delivery, oldest first (the last `deliveriesKept`). */
  deliveries(): NotificationDelivery[];
  /** An account's balances (assets with a non-zero balance). */
  balances(account: string): Record<string, bigint>;
}

/** Notification deliveries remembered for `deliveries()`. */
const deliveriesKept = 1000;
/** A request must arrive whole within this (slow-loris bound). */
const requestTimeoutMs = 10_000;

class HttpError extends Error {
  constructor(
    readonly code: ProviderApiErrorCode,
    message?: string,
    readonly field?: string,
  ) {
    super(message ?? providerApiErrors[code].message);
  }
}

function randomId(prefix: string): string {
  return `${prefix}_${crypto.randomBytes(12).toString('hex')}`;
}

/** The request fields an Idempotency-Key is bound to, in a fixed order. */
function fingerprint(request: PayoutRequest): string {
  return JSON.stringify([request.asset, request.amount, request.recipient, request.reference]);
}

export async function startProviderSimulator(
  options: ProviderSimulatorOptions,
): Promise<ProviderSimulator> {
  const engineAccount = accountSchema.parse(options.engineAccount ?? 'engine');
  const completionDelayMs = options.completionDelayMs ?? 50;
  const deliveryAttemptsMax = options.deliveryAttemptsMax ?? 5;
  const retryBaseMs = options.deliveryRetryBaseMs ?? 20;
  const retryMaxMs = options.deliveryRetryMaxMs ?? 1000;
  const deliveryTimeoutMs = options.deliveryTimeoutMs ?? 5000;
  const payoutsMax = options.payoutsMax ?? 10_000;

  const clock = options.clock ?? Date.now;
  if (options.apiKey.length === 0) throw new RangeError('startProviderSimulator apiKey: empty');
  // Signing once checks the secret now rather than at the first deposit.
  signNotification(options.webhookSecret, 'check', 0, '');

  const balances = new Map<string, Map<string, bigint>>();
  const payouts = new Map<string, SimulatedPayout>();
  const payoutByKey = new Map<string, { fingerprint: string; payoutId: string }>();
  const deliveries: NotificationDelivery[] = [];
  let failureMode: PayoutFailureMode = 'none';
  const stopping = new AbortController();
  const timers = new Set<Promise<void>>();

  const balanceOf = (account: string, asset: string): bigint =>
    balances.get(account)?.get(asset) ?? 0n;
  const move = (account: string, asset: string, delta: bigint): void => {
    const next = balanceOf(account, asset) + delta;
    assert.ok(next >= 0n, `balance of ${account} in ${asset} would go negative`);
    let assets = balances.get(account);
    if (!assets) balances.set(account, (assets = new Map<string, bigint>()));
    if (next === 0n) assets.delete(asset);
    else assets.set(asset, next);
  };
  const credit = (account: string, asset: string, amount: bigint): void => {
    accountSchema.parse(account);
    assetSchema.parse(asset);
    if (amount <= 0n) throw new RangeError(`credit amount: positive, got ${amount}`);
    move(account, asset, amount);
  };
  for (const [account, assets] of Object.entries(options.accounts ?? {})) {
    for (const [asset, amount] of Object.entries(assets))
      if (amount > 0n) credit(account, asset, amount);
  }

  /** Runs `task` after `ms` unless the simulator stops first; stop() waits for none of them. */
  const later = (ms: number, task: () => void): void => {
    const timer = sleep(ms, undefined, { signal: stopping.signal }).then(task, () => undefined);
    timers.add(timer);
    void timer.finally(() => timers.delete(timer));
  };

  const fails = (payout: SimulatedPayout): boolean =>
    failureMode === 'all' ||
    (typeof failureMode === 'object' && failureMode.recipient === payout.recipient);

  /** Pending -> completed (the recipient credited) or failed (the engine refunded). */
  const complete = (payout: SimulatedPayout): void => {
    if (payout.status !== 'pending') return;
    const amount = BigInt(payout.amount);
    if (fails(payout)) {
      payout.status = 'failed';
      payout.reason = 'payout_rejected';
      move(engineAccount, payout.asset, amount);
    } else {
      payout.status = 'completed';
      move(payout.recipient, payout.asset, amount);
    }
  };

  const publicPayout = (p: SimulatedPayout): PayoutAnswer => ({
    id: p.id,
    status: p.status,
    ...(p.reason === undefined ? {} : { reason: p.reason }),
    asset: p.asset,
    amount: p.amount,
    recipient: p.recipient,
  });

  const createPayout = (
    key: string,
    request: PayoutRequest,
  ): { status: number; body: PayoutAnswer; replayed: boolean } => {
    const print = fingerprint(request);
    const earlier = payoutByKey.get(key);
    if (earlier) {
      if (earlier.fingerprint !== print) {
        throw new HttpError(
          'idempotency_key_reused',
          `Idempotency-Key ${key} was used with another body`,
        );
      }
      const payout = payouts.get(earlier.payoutId);
      assert.ok(payout, 'a stored key names a stored payout');
      return { status: 201, body: publicPayout(payout), replayed: true };
    }
    if (payouts.size >= payoutsMax) throw new HttpError('payouts_full');
    const amount = BigInt(request.amount);
    const covered = balanceOf(engineAccount, request.asset) >= amount;
    const payout: SimulatedPayout = {
      id: randomId('po'),
      status: covered ? 'pending' : 'failed',
      ...(covered ? {} : { reason: 'insufficient_funds' }),
      asset: request.asset,
      amount: request.amount,
      recipient: request.recipient,
      idempotencyKey: key,
      ...(request.reference === undefined ? {} : { reference: request.reference }),
    };
    payouts.set(payout.id, payout);
    payoutByKey.set(key, { fingerprint: print, payoutId: payout.id });
    if (covered) {
      move(engineAccount, request.asset, -amount);
      later(completionDelayMs, () => complete(payout));
    }
    return { status: 201, body: publicPayout(payout), replayed: false };
  };

  const authorise = (request: http.IncomingMessage): void => {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer (.+)$/.exec(header);
    const given = Buffer.from(match?.[1] ?? '');
    const expected = Buffer.from(options.apiKey);
    const ok = given.length === expected.length && crypto.timingSafeEqual(given, expected);
    if (!ok) throw new HttpError('unauthorized');
  };

  const readBody = async (request: http.IncomingMessage): Promise<unknown> => {
    const type = request.headers['content-type'] ?? '';
    if (!/^application\/json\s*(;|$)/i.test(type)) throw new HttpError('unsupported_media_type');
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > bodyBytesMax) throw new HttpError('body_too_large');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > bodyBytesMax) throw new HttpError('body_too_large');
      chunks.push(chunk);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    } catch {
      throw new HttpError('invalid_request', 'The body is not JSON.');
    }
  };

  const route = async (
    request: http.IncomingMessage,
  ): Promise<{ status: number; body: unknown; headers?: Record<string, string> }> => {
    const path = new URL(request.url ?? '/', 'http://simulator').pathname;
    const method = request.method ?? 'GET';
    const parts = path
      .split('/')
      .filter((p) => p.length > 0)
      .map(decodeURIComponent);

    if (parts.length === 2 && parts[0] === 'v1' && parts[1] === 'payouts') {
      if (method !== 'POST') throw new HttpError('method_not_allowed');
      authorise(request);
      const keyHeader = request.headers[idempotencyKeyHeader];
      const key = idempotencyKeySchema.safeParse(keyHeader);
      if (!key.success)
        throw new HttpError('invalid_idempotency_key', undefined, 'Idempotency-Key');
      const parsed = payoutRequestSchema.safeParse(await readBody(request));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = issue?.path.join('.');
        throw new HttpError('invalid_request', `${field ?? ''}: ${issue?.message ?? ''}`, field);
      }
      const answer = createPayout(key.data, parsed.data);
      return {
        status: answer.status,
        body: answer.body,
        ...(answer.replayed ? { headers: { 'idempotent-replayed': 'true' } } : {}),
      };
    }
    if (parts.length === 3 && parts[0] === 'v1' && parts[1] === 'payouts') {
      if (method !== 'GET') throw new HttpError('method_not_allowed');
      authorise(request);
      const id = idSchema.safeParse(parts[2]);
      const payout = id.success ? payouts.get(id.data) : undefined;
      if (!payout) throw new HttpError('payout_not_found');
      return { status: 200, body: publicPayout(payout) };
    }
    if (
      parts.length === 4 &&
      parts[0] === 'v1' &&
      parts[1] === 'accounts' &&
      parts[3] === 'balances'
    ) {
      if (method !== 'GET') throw new HttpError('method_not_allowed');
      authorise(request);
      const account = parts[2] ?? '';
      if (!accountSchema.safeParse(account).success) throw new HttpError('account_not_found');
      // One API key, one account: a real provider scopes its keys the same way.
      if (account !== engineAccount) throw new HttpError('forbidden');
      const answer: BalanceAnswer = {
        account,
        balances: [...(balances.get(account) ?? new Map<string, bigint>())].map(
          ([asset, amount]) => ({ asset, amount: formatAmount(amount) }),
        ),
      };
      return { status: 200, body: answer };
    }
    throw new HttpError('not_found');
  };

  const server = http.createServer((request, response) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      const text = JSON.stringify(body);
      response.writeHead(status, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(text)),
        ...headers,
      });
      response.end(text);
    };
    route(request).then(
      (answer) => send(answer.status, answer.body, answer.headers),
      (error: unknown) => {
        if (error instanceof HttpError) {
          const { status } = providerApiErrors[error.code];
          // An unread body would keep the socket busy: close it after a refused upload.
          const headers: Record<string, string> = status === 413 ? { connection: 'close' } : {};
          send(status, errorAnswer(error.code, error.message, error.field), headers);
        } else {
          send(500, errorAnswer('internal'));
        }
      },
    );
  });
  server.requestTimeout = requestTimeoutMs;
  server.headersTimeout = requestTimeoutMs;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  let webhookTarget = options.webhookUrl;
  const deliver = async (record: NotificationDelivery, body: string): Promise<void> => {
    const webhookUrl = webhookTarget;
    if (webhookUrl === undefined) return;
    for (let attempt = 1; attempt <= deliveryAttemptsMax; attempt += 1) {
      if (stopping.signal.aborted) return;
      // Signed afresh on each try: the timestamp is the try's, the id the event's.
      const timestampSeconds = Math.floor(clock() / 1000);
      const headers = {
        'content-type': 'application/json',
        ...signNotification(options.webhookSecret, record.webhookId, timestampSeconds, body),
      };
      const outcome = await postWebhook(
        webhookUrl,
        headers,
        body,
        deliveryTimeoutMs,
        stopping.signal,
      );
      record.attempts.push({
        ...(outcome.status === undefined ? {} : { status: outcome.status }),
        ...(outcome.error === undefined ? {} : { error: outcome.error }),
      });
      if (outcome.ok) {
        record.delivered = true;
        return;
      }
      if (attempt < deliveryAttemptsMax) {
        const waitMs = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(attempt - 1, 40));
        try {
          await sleep(waitMs, undefined, { signal: stopping.signal });
        } catch {
          return; // stopped
        }
      }
    }
  };

  return {
    url,
    engineAccount,
    async stop() {
      stopping.abort();
      await Promise.allSettled([...timers]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    credit,
    async deposit(input) {
      const to = accountSchema.parse(input.to ?? engineAccount);
      const asset = assetSchema.parse(input.asset);
      const sender = accountSchema.parse(input.sender);
      const reference = referenceSchema.parse(input.reference);
      const amount = formatAmount(input.amount, 'deposit amount');
      if (input.amount <= 0n) throw new RangeError('deposit amount: positive');
      if (balanceOf(sender, asset) < input.amount) {
        throw new RangeError(`deposit: ${sender} holds less than ${amount} ${asset}`);
      }
      move(sender, asset, -input.amount);
      move(to, asset, input.amount);
      const depositId = randomId('dep');
      const notification: DepositNotification = {
        type: depositNotificationType,
        deposit: {
          id: depositId,
          account: to,
          asset,
          amount,
          sender,
          reference,

          receivedAt: new Date(clock()).toISOString(),
        },
      };
      const record: NotificationDelivery = {
        depositId,
        webhookId: `msg_${depositId}`,
        attempts: [],
        delivered: false,
      };
      deliveries.push(record);
      if (deliveries.length > deliveriesKept) deliveries.shift();
      await deliver(record, JSON.stringify(notification));
      return depositId;
    },
    failPayouts(mode) {
      failureMode = mode;
    },
    setWebhookUrl(target) {
      webhookTarget = target;
    },
    payouts: () => [...payouts.values()].map((p) => ({ ...p })),
    deliveries: () => deliveries.map((d) => ({ ...d, attempts: [...d.attempts] })),
    balances(account) {
      return Object.fromEntries(balances.get(account) ?? []);
    },
  };
}
