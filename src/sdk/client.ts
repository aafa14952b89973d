import type { SigningKey } from './keys.js';
import { signTx, type SignedTx } from './tx.js';

/** An error the node answered with; `code` is the API's snake_case code. */
export class CofferError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly field?: string,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

export interface TxResult {
  hash: string;
  status: string;
  height?: number;
  index?: number;
}

type Json = Record<string, unknown>;

/** A typed client for one node's HTTP API. */
export function createClient(baseUrl: string, options: { timeoutMs?: number } = {}) {
  const base = baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 60_000;

  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(base + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    const parsed = (text ? JSON.parse(text) : {}) as Json;
    if (response.status >= 400) {
      const error = (parsed.error ?? {}) as { code?: string; message?: string; field?: string };
      throw new CofferError(
        error.code ?? 'http_error',
        error.message ?? `HTTP ${response.status}`,
        response.status,
        error.field,
        parsed,
      );
    }
    return parsed as T;
  }

  const client = {
    health: () => request<{ status: string; chainId: string; height: number }>('GET', '/health'),
    /** Submits a signed tx; with `wait: 'commit'` resolves with its receipt status and height. */
    submit: (tx: SignedTx, opts: { wait?: 'commit' } = {}) =>
      request<TxResult>('POST', `/v1/txs${opts.wait ? '?wait=commit' : ''}`, tx),
    submitBatch: (txs: SignedTx[], opts: { wait?: 'commit' } = {}) =>
      request<{
        accepted: number;
        rejected: number;
        results: (TxResult | { status: 'rejected'; error: Json })[];
      }>('POST', `/v1/txs/batch${opts.wait ? '?wait=commit' : ''}`, { txs }),
    getTx: (hash: string) => request<Json>('GET', `/v1/txs/${hash}`),
    latestBlock: () => request<Json>('GET', '/v1/blocks/latest'),
    getBlock: (height: number) => request<Json>('GET', `/v1/blocks/${height}`),
    getBlocks: (from: number, to: number) =>
      request<{ blocks: Json[] }>('GET', `/v1/blocks?from=${from}&to=${to}`),
    getAccount: (address: string) =>
      request<{
        address: string;
        nonce: number;
        balances: {
          asset: string;
          decimals: number;
          balance: string;
          held: string;
          frozen: boolean;
        }[];
        holds: Json[];
      }>('GET', `/v1/accounts/${address}`),
    getAssets: () => request<{ assets: Json[] }>('GET', '/v1/assets'),
    getAsset: (symbol: string) => request<Json>('GET', `/v1/assets/${symbol}`),

    /**
     * Builds, signs and submits a tx from `key`, reading the chain id and the sender's next nonce
     * from the node. Sequential use only: concurrent sends from one key need explicit nonces.
     */
    async send(
      key: SigningKey,
      tx: { type: string; payload: Record<string, unknown>; memo?: string },
      opts: { wait?: 'commit' } = { wait: 'commit' },
    ) {
      const [{ chainId }, { nonce }] = await Promise.all([
        client.health(),
        client.getAccount(key.address),
      ]);
      const signed = signTx({ chainId, sender: key.address, nonce, ...tx }, key);
      return client.submit(signed, opts);
    },
  };
  return client;
}

export type CofferClient = ReturnType<typeof createClient>;
