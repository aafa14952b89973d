import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import type { PayoutState, ProviderLedger } from '../engine/ledgers.js';
import {
  accountSchema,
  assetSchema,
  balanceAnswerSchema,
  errorAnswerSchema,
  formatAmount,
  idempotencyKeyHeader,
  idempotencyKeySchema,
  idSchema,
  payoutAnswerSchema,
  payoutStateOf,
  providerApiErrors,
  type PayoutRequest,
  type ProviderApiErrorCode,
} from './protocol.js';

/*
 * The engine's client of a payment provider (docs/bridge-http.md). Every call is safe to repeat:
 * a payout carries the engine's key as its Idempotency-Key, so a request whose answer was lost
 * (connection reset, timeout, 5xx) is sent again with the same key and pays once. Off chain: it
 * sleeps between tries (node:timers/promises; see simulator.ts on the determinism lint rule).
 */

/** Faults of the client itself; a provider's refusal keeps the provider's code (protocol.ts). */
export type ProviderLedgerFaultCode =
  /** No answer after every try: connection refused or reset, DNS, timeout. */
  | 'provider_unreachable'
  /** 5xx (or 408, 429) after every try. */
  | 'provider_unavailable'
  /** A 2xx answer that is not the protocol's shape. */
  | 'invalid_answer'
  /** A payout answer for another asset, amount or recipient than asked. */
  | 'answer_mismatch'
  /** A refusal with a code the protocol does not list (its code is in `providerCode`). */
  | 'provider_rejected'
  /** The ledger was closed. */
  | 'ledger_closed';

export type ProviderLedgerErrorCode = ProviderLedgerFaultCode | ProviderApiErrorCode;

export class ProviderLedgerError extends Error {
  override readonly name = 'ProviderLedgerError';
  constructor(
    readonly code: ProviderLedgerErrorCode,
    message: string,
    /** The provider's HTTP status, when it answered. */
    readonly status?: number,
    /** The provider's own code, when it is not one the protocol lists. */
    readonly providerCode?: string,
  ) {
    super(message);
  }
}

export interface ProviderHttpLedgerOptions {
  /** The provider's base URL, e.g. `https://provider.example/` (paths `/v1/...` go under it). */
  url: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey: string;
  /** The engine's account at the provider. */
  account: string;
  /** Tries of one call when no answer, a 5xx, 408 or 429 comes. Default 4. */
  attemptsMax?: number;
  /** The wait after the first failed try; it doubles after each further one. Default 100 ms. */
  retryBaseMs?: number;
  /** The longest wait between two tries. Default 2000 ms. */
  retryMaxMs?: number;
  /** How long one request may take, answer included. Default 10,000 ms. */
  timeoutMs?: number;
}

/** Bytes of an answer read: a payout or a balance list is far smaller. */
const answerBytesMax = 64 * 1024;
const protocolCodes: ReadonlySet<string> = new Set(Object.keys(providerApiErrors));

/** Reads at most `answerBytesMax` of a body as text; more is a fault. */
async function readBounded(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const chunk = (await reader.read()) as { done: boolean; value?: Uint8Array };
    if (chunk.done || chunk.value === undefined) break;
    size += chunk.value.byteLength;
    if (size > answerBytesMax) {
      await reader.cancel();
      throw new ProviderLedgerError(
        'invalid_answer',
        `the answer is over ${answerBytesMax} bytes`,
        response.status,
      );
    }
    chunks.push(chunk.value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string, status: number): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ProviderLedgerError('invalid_answer', 'the answer is not JSON', status);
  }
}

function parseAnswer<T extends z.ZodType>(schema: T, json: unknown, status: number): z.infer<T> {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ProviderLedgerError(
      'invalid_answer',
      `the answer's ${issue?.path.join('.') ?? ''} is invalid: ${issue?.message ?? ''}`,
      status,
    );
  }
  return parsed.data;
}

export class ProviderHttpLedger implements ProviderLedger {
  readonly kind = 'http' as const;
  readonly engineAddress: string;
  private readonly base: URL;
  private readonly apiKey: string;
  private readonly attemptsMax: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly timeoutMs: number;
  private readonly closing = new AbortController();

  constructor(options: ProviderHttpLedgerOptions) {
    let base: URL;
    try {
      base = new URL(options.url);
    } catch {
      throw new RangeError(`ProviderHttpLedger url: not a URL: ${options.url}`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new RangeError(`ProviderHttpLedger url: http or https, got ${base.protocol}`);
    }
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    if (!accountSchema.safeParse(options.account).success) {
      throw new RangeError(`ProviderHttpLedger account: malformed: ${options.account}`);
    }
    if (options.apiKey.length === 0 || /[\s]/.test(options.apiKey)) {
      throw new RangeError('ProviderHttpLedger apiKey: non-empty, no white space');
    }
    const positive = (value: number | undefined, fallback: number, field: string): number => {
      const chosen = value ?? fallback;
      if (!Number.isSafeInteger(chosen) || chosen < 1) {
        throw new RangeError(`ProviderHttpLedger ${field}: a positive integer, got ${chosen}`);
      }
      return chosen;
    };
    this.base = base;
    this.apiKey = options.apiKey;
    this.engineAddress = options.account;
    this.attemptsMax = positive(options.attemptsMax, 4, 'attemptsMax');
    this.retryBaseMs = positive(options.retryBaseMs, 100, 'retryBaseMs');
    this.retryMaxMs = positive(options.retryMaxMs, 2000, 'retryMaxMs');
    this.timeoutMs = positive(options.timeoutMs, 10_000, 'timeoutMs');
  }

  async balance(asset: string): Promise<bigint> {
    if (!assetSchema.safeParse(asset).success) {
      throw new RangeError(`ProviderHttpLedger.balance asset: malformed: ${asset}`);
    }
    const path = `v1/accounts/${encodeURIComponent(this.engineAddress)}/balances`;
    const { status, json } = await this.call('GET', path);
    const answer = parseAnswer(balanceAnswerSchema, json, status);
    if (answer.account !== this.engineAddress) {
      throw new ProviderLedgerError(
        'answer_mismatch',
        `balances of ${answer.account}, asked for ${this.engineAddress}`,
        status,
      );
    }
    const entry = answer.balances.find((b) => b.asset === asset);
    return entry === undefined ? 0n : BigInt(entry.amount);
  }

  async payout(request: {
    key: string;
    asset: string;
    amount: bigint;
    recipient: string;
  }): Promise<PayoutState> {
    const field = (name: string, ok: boolean, value: unknown): void => {
      if (!ok)
        throw new RangeError(`ProviderHttpLedger.payout ${name}: malformed: ${String(value)}`);
    };
    field('key', idempotencyKeySchema.safeParse(request.key).success, request.key);
    field('asset', assetSchema.safeParse(request.asset).success, request.asset);
    field('recipient', accountSchema.safeParse(request.recipient).success, request.recipient);
    field('amount', typeof request.amount === 'bigint' && request.amount > 0n, request.amount);
    const body: PayoutRequest = {
      asset: request.asset,
      amount: formatAmount(request.amount, 'ProviderHttpLedger.payout amount'),
      recipient: request.recipient,
    };
    const { status, json } = await this.call('POST', 'v1/payouts', body, request.key);
    const answer = parseAnswer(payoutAnswerSchema, json, status);
    if (
      answer.asset !== body.asset ||
      answer.amount !== body.amount ||
      answer.recipient !== body.recipient
    ) {
      throw new ProviderLedgerError(
        'answer_mismatch',
        `payout ${answer.id} is ${answer.amount} ${answer.asset} to ${answer.recipient}, asked ${body.amount} ${body.asset} to ${body.recipient}`,
        status,
      );
    }
    return payoutStateOf(answer);
  }

  async payoutState(payoutId: string): Promise<PayoutState> {
    if (!idSchema.safeParse(payoutId).success) {
      throw new RangeError(`ProviderHttpLedger.payoutState payoutId: malformed: ${payoutId}`);
    }
    const { status, json } = await this.call('GET', `v1/payouts/${encodeURIComponent(payoutId)}`);
    const answer = parseAnswer(payoutAnswerSchema, json, status);
    if (answer.id !== payoutId) {
      throw new ProviderLedgerError(
        'answer_mismatch',
        `payout ${answer.id}, asked ${payoutId}`,
        status,
      );
    }
    return payoutStateOf(answer);
  }

  /** Aborts calls in flight (they fail with `ledger_closed`); later calls fail the same way. */
  close(): Promise<void> {
    this.closing.abort();
    return Promise.resolve();
  }

  /**
   * One call, tried again (same method, body and Idempotency-Key) while no answer, a 5xx, 408 or 429 comes,
   * up to `attemptsMax` tries. Resolves with a 2xx answer's JSON; throws the provider's refusal
   * (4xx) at once with its code.
   */
  private async call(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    idempotencyKey?: string,
  ): Promise<{ status: number; json: unknown }> {
    const url = new URL(path, this.base);
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.apiKey}`,
      accept: 'application/json',
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (idempotencyKey !== undefined) headers[idempotencyKeyHeader] = idempotencyKey;
    const text = body === undefined ? undefined : JSON.stringify(body);
    let lastFault: ProviderLedgerError | undefined;
    for (let attempt = 1; attempt <= this.attemptsMax; attempt += 1) {
      if (this.closing.signal.aborted) {
        throw new ProviderLedgerError('ledger_closed', 'the ledger is closed');
      }
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers,
          ...(text === undefined ? {} : { body: text }),
          redirect: 'manual',
          signal: AbortSignal.any([this.closing.signal, AbortSignal.timeout(this.timeoutMs)]),
        });
      } catch (error) {
        if (this.closing.signal.aborted) {
          throw new ProviderLedgerError('ledger_closed', 'the ledger is closed');
        }
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        const reason =
          (error as Error).name === 'TimeoutError'
            ? `no answer within ${this.timeoutMs} ms`
            : (cause?.code ?? cause?.message ?? (error as Error).message);
        lastFault = new ProviderLedgerError(
          'provider_unreachable',
          `${method} ${url.pathname}: ${reason}`,
        );
        await this.backoff(attempt);
        continue;
      }
      const status = response.status;
      let answerText: string;
      try {
        answerText = await readBounded(response);
      } catch (error) {
        if (error instanceof ProviderLedgerError) throw error;
        // The connection dropped mid-answer: as good as no answer.
        lastFault = new ProviderLedgerError(
          'provider_unreachable',
          `${method} ${url.pathname}: the answer broke off`,
        );
        await this.backoff(attempt);
        continue;
      }
      if (status >= 200 && status < 300) return { status, json: parseJson(answerText, status) };
      // 408 and 429 say "not now" as a 5xx does: the same request later (same key) is safe.
      if (status >= 500 || status === 408 || status === 429) {
        lastFault = new ProviderLedgerError(
          'provider_unavailable',
          `${method} ${url.pathname}: the provider answered ${status}`,
          status,
        );
        await this.backoff(attempt);
        continue;
      }
      throw this.refusal(status, answerText, method, url.pathname);
    }
    throw lastFault ?? new ProviderLedgerError('provider_unreachable', 'no try was made');
  }

  private refusal(status: number, text: string, method: string, path: string): ProviderLedgerError {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = errorAnswerSchema.safeParse(json);
    if (!parsed.success) {
      return new ProviderLedgerError(
        'provider_rejected',
        `${method} ${path}: the provider answered ${status} without an error body`,
        status,
      );
    }
    const { code, message } = parsed.data.error;
    if (protocolCodes.has(code)) {
      return new ProviderLedgerError(code as ProviderApiErrorCode, message, status);
    }
    return new ProviderLedgerError('provider_rejected', `${code}: ${message}`, status, code);
  }

  private async backoff(attempt: number): Promise<void> {
    if (attempt >= this.attemptsMax) return;
    const waitMs = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** Math.min(attempt - 1, 40));
    try {
      await sleep(waitMs, undefined, { signal: this.closing.signal });
    } catch {
      // Closed while waiting: the next round of the loop says so.
    }
  }
}
