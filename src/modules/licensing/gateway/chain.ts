/*
 * What the gateway reads from and sends to the chain (the node's HTTP API, docs/licensing-spec):
 *
 * - the node's latest height (`GET /health`), asked at most every `heightFreshMs` with one
 *   request in flight: every answer about an agreement or a content is cached under the height
 *   it was read at and thrown away when the height moves, so a revocation (a tx, hence a block)
 *   stops serving as soon as the gateway sees that block;
 * - `GET /v1/licensing/agreements/{id}` (the agreement and its parent) and
 *   `GET /v1/licensing/content/{id}` (its record: holder, publicKey);
 * - `licence.usage` txs, signed by a content's key (its gateway account), `?wait=commit`.
 *
 * The caches are bounded (`cacheEntriesMax`): an attacker asking for many ids grows nothing past
 * it. Its reads over the services' node client (src/sdk/service-chain.ts), as the iot service's
 * chain.ts, so the gateway does not depend on the SDK namespace of the module beyond its record
 * types.
 */
import { hashTx, signTx, type SignedTx } from '../../../sdk/tx.js';
import type { SigningKey } from '../../../sdk/keys.js';
import { ChainUnavailableError, createNodeHttp } from '../../../sdk/service-chain.js';
import type { AgreementRecord, ContentRecord } from '../schema.js';

export { ChainUnavailableError };

export interface AgreementAtHeight {
  agreement: AgreementRecord;
  parent?: AgreementRecord | undefined;
}

export type UsageOutcome =
  | { status: 'ok'; tx: string; height: number }
  | { status: 'rejected'; code: string; message: string }
  | { status: 'retry'; code: string };

export type TxStatus =
  { status: 'ok' | 'pending' | 'unknown' } | { status: 'failed'; code: string };

export interface UsageBatch {
  key: SigningKey;
  usages: { agreementId: string; uses: Record<string, number>; devices: string[] }[];
}

export interface SignedUsage {
  agreementId: string;
  hash: string;
  tx: SignedTx;
}

export interface GatewayChain {
  /** The node's chain id (read once). */
  chainId(): Promise<string>;
  /** The latest height (possibly `heightFreshMs` old). */
  height(): Promise<number>;
  agreement(agreementId: string): Promise<AgreementAtHeight | undefined>;
  /** An account's spendable balance of `asset`, minor units (0 for an account never seen). */
  balance(address: string, asset: string): Promise<bigint>;
  content(contentId: string): Promise<ContentRecord | undefined>;
  /**
   * Signs `licence.usage` txs, one per usage, each with its content's key and consecutive nonces
   * from that key's account nonce; nothing is sent yet (the caller records the hashes first).
   */
  signUsage(batches: UsageBatch[]): Promise<SignedUsage[]>;
  /** Sends signed usage txs in one batch (`POST /v1/txs/batch?wait=commit`); outcomes in order. */
  submitUsage(signed: SignedUsage[]): Promise<UsageOutcome[]>;
  /** How a tx sent earlier ended: committed `ok`, committed `failed` (its code), `pending`, or `unknown`. */
  txStatus(hash: string): Promise<TxStatus>;
}

class HeightCache<V> {
  private entries = new Map<string, { height: number; value: Promise<V> }>();
  constructor(private readonly max: number) {}
  get(key: string, height: number, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.height >= height) return hit.value;
    const value = load();
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    this.entries.delete(key);
    if (this.entries.size >= this.max) {
      // Oldest first: a Map iterates in insertion order.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { height, value });
    return value;
  }
}

export function createGatewayChain(
  nodeUrl: string,
  options: { heightFreshMs: number; cacheEntriesMax: number; now?: () => number },
): GatewayChain {
  const now = options.now ?? (() => Date.now());
  let chainIdCache: string | undefined;
  let latest: { height: number; at: number } | undefined;
  let heightInFlight: Promise<number> | undefined;
  const agreements = new HeightCache<AgreementAtHeight | undefined>(options.cacheEntriesMax);
  const contents = new HeightCache<ContentRecord | undefined>(options.cacheEntriesMax);

  const { call, read } = createNodeHttp(nodeUrl);

  async function health(): Promise<Record<string, unknown>> {
    const body = await read('/health');
    if (!body || typeof body.height !== 'number' || typeof body.chainId !== 'string') {
      throw new ChainUnavailableError('GET /health: no height');
    }
    chainIdCache = body.chainId;
    return body;
  }

  function height(): Promise<number> {
    if (latest && now() - latest.at <= options.heightFreshMs) return Promise.resolve(latest.height);
    heightInFlight ??= health()
      .then((body) => {
        const value = body.height as number;
        // Heights only grow; a lagging answer never takes the gateway back.
        latest = { height: Math.max(value, latest?.height ?? 0), at: now() };
        return latest.height;
      })
      .finally(() => (heightInFlight = undefined));
    return heightInFlight;
  }

  async function nonceOf(address: string): Promise<number> {
    const account = await read(`/v1/accounts/${encodeURIComponent(address)}`);
    return typeof account?.nonce === 'number' ? account.nonce : 0;
  }

  return {
    async chainId() {
      if (chainIdCache === undefined) await health();
      return chainIdCache!;
    },
    height,
    async agreement(agreementId) {
      const at = await height();
      return agreements.get(agreementId, at, async () => {
        const body = await read(`/v1/licensing/agreements/${agreementId}`);
        if (!body) return undefined;
        return {
          agreement: body.agreement as AgreementRecord,
          parent: body.parent as AgreementRecord | undefined,
        };
      });
    },
    async balance(address, asset) {
      const account = await read(`/v1/accounts/${encodeURIComponent(address)}`);
      const balances = Array.isArray(account?.balances) ? (account.balances as unknown[]) : [];
      const entry = balances.find(
        (b): b is { asset: string; balance: string } =>
          typeof b === 'object' && b !== null && (b as { asset?: unknown }).asset === asset,
      );
      return entry && /^\d{1,40}$/.test(entry.balance) ? BigInt(entry.balance) : 0n;
    },
    async content(contentId) {
      const at = await height();
      return contents.get(contentId, at, async () => {
        const body = await read(`/v1/licensing/content/${contentId}`);
        return body ? (body.content as ContentRecord) : undefined;
      });
    },
    async signUsage(batches) {
      if (chainIdCache === undefined) await health();
      const chainId = chainIdCache!;
      const signed: SignedUsage[] = [];
      for (const { key, usages } of batches) {
        const first = await nonceOf(key.address);
        usages.forEach((usage, index) => {
          const body = {
            chainId,
            sender: key.address,
            nonce: first + index,
            type: 'licence.usage',
            payload: {
              agreementId: usage.agreementId,
              uses: usage.uses,
              ...(usage.devices.length > 0 ? { devices: usage.devices } : {}),
            },
          };
          signed.push({
            agreementId: usage.agreementId,
            hash: hashTx(body),
            tx: signTx(body, key),
          });
        });
      }
      return signed;
    },
    async submitUsage(signed) {
      if (signed.length === 0) return [];
      const answer = await call('POST', '/v1/txs/batch?wait=commit', {
        txs: signed.map((item) => item.tx),
      });
      const results = answer.body?.results;
      if (answer.status >= 300 || !Array.isArray(results) || results.length !== signed.length) {
        throw new ChainUnavailableError(`POST /v1/txs/batch: the node answered ${answer.status}`);
      }
      return (results as Record<string, unknown>[]).map((result): UsageOutcome => {
        const error = result.error as { code?: unknown; message?: unknown } | undefined;
        if (error || typeof result.height !== 'number') {
          // Not in a block (yet): the caller asks again by hash before sending anything again.
          const code = typeof error?.code === 'string' ? error.code : 'not_committed';
          return { status: 'retry', code };
        }
        if (result.status === 'ok') {
          return { status: 'ok', tx: String(result.hash), height: result.height };
        }
        const code = typeof result.status === 'string' ? result.status : 'failed';
        return { status: 'rejected', code, message: code };
      });
    },
    async txStatus(hash) {
      const answer = await call('GET', `/v1/txs/${hash}`);
      if (answer.status === 404) return { status: 'unknown' };
      if (answer.status === 202) return { status: 'pending' };
      const receipt = answer.body?.receipt as { status?: unknown } | undefined;
      if (answer.status !== 200 || !receipt) {
        throw new ChainUnavailableError(`GET /v1/txs/${hash}: the node answered ${answer.status}`);
      }
      if (receipt.status === 'ok') return { status: 'ok' };
      // A failed receipt's status is its rejection code.
      return {
        status: 'failed',
        code: typeof receipt.status === 'string' ? receipt.status : 'failed',
      };
    },
  };
}
