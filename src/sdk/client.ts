import type {
  Campaign,
  CampaignChart,
  CampaignInvestors,
  CampaignListQuery,
  CampaignPage,
  CampaignPosition,
  CampaignSimulation,
  CampaignStatement,
  MinorUnits,
} from './crowdfund.js';
import { minorUnitsText } from './crowdfund.js';
import { CofferError } from './errors.js';
import {
  subscribeEvents,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionFilter,
  type SubscriptionMessage,
} from './events.js';
import type { SigningKey } from './keys.js';
import type {
  EquivocationEvidence,
  EvidenceResult,
  NonceRangeHistory,
  Producer,
  ProducerList,
} from './producers.js';
import {
  signIssuanceRequest,
  type Alliance,
  type IssuanceRequestResult,
  type Listing,
  type ListingPage,
  type ListingQuery,
  type MemberStatement,
  type Minutes,
  type TimeExchange,
  type TimeLot,
  type Timebank,
  type TimebankListQuery,
  type TimebankMember,
  type TimebankPage,
} from './timecredits.js';
import { signTx, type SignedTx } from './tx.js';
import type { SignedHeader, TxWithProof } from './verify.js';

export { CofferError } from './errors.js';

// ---- what the API answers (src/node/api.ts) -------------------------------------------------

/** The body of every API error: `{ "error": { code, message, field? } }`. */
export interface ApiError {
  code: string;
  message: string;
  field?: string;
}

/** `POST /v1/txs`: `pending` without `wait`; with `wait: 'commit'`, `ok` and where it landed. */
export interface TxResult {
  hash: string;
  status: string;
  height?: number;
  index?: number;
  /** With `wait: 'final'`: the block is attested by more than two thirds of the validators. */
  final?: boolean;
}

/** One tx of a batch the node refused (a committed tx that failed is a `TxResult` instead). */
export interface BatchRejection {
  /** Set when the tx was well-formed enough to hash. */
  hash?: string;
  status: 'rejected';
  error: ApiError;
}

/** `POST /v1/txs/batch`: a result per tx, in order; tell them apart with `'error' in result`. */
export interface BatchResult {
  accepted: number;
  rejected: number;
  results: (TxResult | BatchRejection)[];
}

export interface ChainEvent {
  type: string;
  data: Record<string, unknown>;
}

export interface Receipt {
  tx: string;
  /** `ok` or the rejection code. */
  status: string;
  events: ChainEvent[];
}

/**
 * `GET /v1/txs/{hash}` of a committed tx: the tx, its receipt, its block's signed header and the
 * Merkle proof that `verifyTxInclusion` checks. The receipt is the node's word: no proof of it.
 */
export interface TxResponse extends TxWithProof {
  height: number;
  index: number;
  receipt: Receipt;
  /** Absent: only a pending answer has a status (see `TxLookup`). */
  status?: undefined;
}

/** `GET /v1/txs/{hash}` of a tx still in the mempool (HTTP 202). */
export interface PendingTx {
  hash: string;
  status: 'pending';
  // Absent, so that `lookup.tx` and the rest read as possibly undefined without narrowing.
  height?: undefined;
  index?: undefined;
  tx?: undefined;
  receipt?: undefined;
  block?: undefined;
  proof?: undefined;
}

/** Narrow with `lookup.status === 'pending'`. */
export type TxLookup = TxResponse | PendingTx;

/** A signed header as `GET /v1/blocks` lists it. */
export interface Block extends SignedHeader {
  height: number;
  txCount: number;
  /** Attested by more than two thirds of the validators (on a solo node: every block). */
  final: boolean;
}

/** One block with the hashes of its txs, in order (`/v1/blocks/latest`, `/v1/blocks/{height}`). */
export interface BlockWithTxs extends Block {
  txs: string[];
}

/** `GET /v1/blocks?from=&to=`: at most 100 blocks, clipped to the committed ones. */
export interface BlockPage {
  from: number;
  to: number;
  blocks: Block[];
}

export interface Balance {
  asset: string;
  decimals: number;
  /** Spendable, in minor units. */
  balance: string;
  /** In this account's open holds as payer, in minor units. */
  held: string;
  /** Both in the asset's units, as `formatUnits` writes them. */
  formatted: { balance: string; held: string };
  frozen: boolean;
}

export interface Hold {
  id: string;
  payer: string;
  payee: string;
  asset: string;
  /** What is left to post, in minor units. */
  amount: string;
  expiresAtHeight: number;
  arbiter?: string;
  /** Hex SHA-256 digest the releasing preimage must hash to. */
  condition?: string;
  createdAtHeight: number;
}

/** `GET /v1/accounts/{address}`; an address never used answers nonce 0 and nothing else. */
export interface Account {
  address: string;
  nonce: number;
  balances: Balance[];
  frozen: string[];
  holds: Hold[];
}

export interface Asset {
  symbol: string;
  decimals: number;
  issuer: string;
  supply: string;
  /** Minor units; null when the supply is unlimited. */
  maxSupply: string | null;
}

export interface AssetList {
  assets: Asset[];
}

/** `GET /health`; a halted node answers 503 with this body too, which `health()` returns. */
export interface Health {
  /**
   * `degraded`: still producing, but `reason` says what will stop it (the producer's committed
   * nonces running low); `halted`: not producing (a `fault`, or `reason`).
   */
  status: 'ok' | 'degraded' | 'halted';
  chainId: string;
  height: number;
  blockHash: string;
  blockTime: number;
  /** The highest final height (see `finality()`). */
  finalizedHeight: number;
  /** `solo` or `jetstream`. */
  consensus: string;
  /** This node's validator name, in a cluster. */
  validator?: string;
  pendingTxs: number;
  /** This node's producer's committed nonces ahead (when it is an active producer). */
  nonceRunway?: {
    /** Heights from the next one on it can sign (0: not the next one). */
    heightsLeft: number;
    lastHeight: number;
    renewingFromHeight?: number;
  };
  /** Why the node is degraded or cannot produce (its producer's nonces). */
  reason?: string;
  /** Why block production stopped, when halted. */
  fault?: string;
}

export interface SubmitOptions {
  /**
   * `commit`: answer once the tx is in a block (a tx that failed there throws); `final`: once
   * that block is final too (a participant that runs no node acts on final state only).
   */
  wait?: 'commit' | 'final';
}

/** `GET /v1/finality`. */
export interface Finality {
  consensus: string;
  height: number;
  finalizedHeight: number;
  /** The active producers of the next heights; their operators' attestations count. */
  validators: { producer: string; operator: string }[];
  /**
   * Attestations needed: more than two thirds of the validators' distinct operators (an operator
   * of two producers attests once). The very number the cluster's finality counts with.
   */
  quorum: number;
}

export interface ClientOptions {
  /** How long one HTTP request may take, answer included. */
  timeoutMs?: number;
}

// ---- the client ---------------------------------------------------------------------------

const timeoutMsDefault = 60_000;

function describeCause(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause;
  const inner = cause instanceof Error ? cause : error;
  return inner instanceof Error ? inner.message : String(inner);
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A typed client for one node's HTTP API. Every method resolves with the API's JSON and rejects
 * with a `CofferError`: the API's code, message, field and HTTP status, or `network_error`
 * (status 0) when the node could not be reached or did not answer within `timeoutMs`.
 */
export function createClient(baseUrl: string, options: ClientOptions = {}) {
  let parsedUrl: URL | undefined;
  try {
    parsedUrl = new URL(baseUrl);
  } catch {
    parsedUrl = undefined;
  }
  if (!parsedUrl || (parsedUrl.protocol !== 'http:' && parsedUrl.protocol !== 'https:')) {
    throw new CofferError(
      'invalid_input',
      `baseUrl must be an http(s) URL such as http://127.0.0.1:7420, got ${JSON.stringify(baseUrl)}`,
      0,
      'baseUrl',
    );
  }
  const base = baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? timeoutMsDefault;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
    throw new CofferError(
      'invalid_input',
      `timeoutMs must be a positive integer, got ${String(timeoutMs)}`,
      0,
      'timeoutMs',
    );
  }

  function networkError(method: string, path: string, error: unknown): CofferError {
    const what = `${method} ${path}`;
    const message = isTimeout(error)
      ? `the node at ${base} did not answer ${what} within ${timeoutMs} ms` +
        (method === 'POST' ? ' (a submitted tx may still commit: look it up by its hash)' : '')
      : `cannot reach the node at ${base} (${what}): ${describeCause(error)}`;
    return new CofferError('network_error', message, 0, undefined, undefined, { cause: error });
  }

  async function fetchText(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; text: string }> {
    try {
      const response = await fetch(base + path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      return { status: response.status, text: await response.text() };
    } catch (error) {
      throw networkError(method, path, error);
    }
  }

  /** The `CofferError` of an answer with status 400 or above. */
  function httpError(method: string, path: string, status: number, text: string): CofferError {
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    const error = isObject(parsed) && isObject(parsed.error) ? parsed.error : undefined;
    if (error && typeof error.code === 'string') {
      return new CofferError(
        error.code,
        typeof error.message === 'string' ? error.message : `HTTP ${status}`,
        status,
        typeof error.field === 'string' ? error.field : undefined,
        parsed,
      );
    }
    return new CofferError(
      'http_error',
      `${method} ${path}: the node answered HTTP ${status} without an API error` +
        (text ? `: ${text.slice(0, 200)}` : ''),
      status,
      undefined,
      parsed ?? text,
    );
  }

  /** JSON of a 2xx answer (or of a status in `alsoOk`); a `CofferError` for anything else. */
  async function request<T>(
    method: string,
    path: string,
    body?: unknown,
    alsoOk: number[] = [],
  ): Promise<T> {
    const { status, text } = await fetchText(method, path, body);
    if (status >= 400 && !alsoOk.includes(status)) throw httpError(method, path, status, text);
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!isObject(parsed)) {
      throw new CofferError(
        'invalid_response',
        `${method} ${path}: the node answered HTTP ${status} with a body that is not a JSON object`,
        status,
        undefined,
        text,
      );
    }
    return parsed as T;
  }

  /** The text of a 2xx answer (CSV); a `CofferError` for anything else. */
  async function requestText(method: string, path: string): Promise<string> {
    const { status, text } = await fetchText(method, path);
    if (status >= 400) throw httpError(method, path, status, text);
    return text;
  }

  const waitQuery = (opts: SubmitOptions) => (opts.wait ? `?wait=${opts.wait}` : '');
  const segment = (value: string | number) => encodeURIComponent(String(value));
  /** `?a=1&b=2` of the defined values, or nothing. */
  const search = (query: object) => {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) params.set(name, String(value as string | number));
    }
    const text = params.toString();
    return text === '' ? '' : `?${text}`;
  };

  const client = {
    /** Liveness and head of chain; a halted node answers too, with `status: 'halted'`. */
    health: () => request<Health>('GET', '/health', undefined, [503]),
    /** How far the chain is final, and the validators that attest. */
    finality: () => request<Finality>('GET', '/v1/finality'),
    /**
     * Submits a signed tx; with `wait: 'commit'` resolves once it is in a block. A tx the node
     * refuses throws its rejection; one committed but failed throws with `hash` and `height`.
     */
    submit: (tx: SignedTx, opts: SubmitOptions = {}) =>
      request<TxResult>('POST', `/v1/txs${waitQuery(opts)}`, tx),
    /** Up to 10,000 txs in one request; each gets its own result, and only a bad batch throws. */
    submitBatch: (txs: SignedTx[], opts: SubmitOptions = {}) =>
      request<BatchResult>('POST', `/v1/txs/batch${waitQuery(opts)}`, { txs }),
    /** A committed tx with its proof, or `{ status: 'pending' }` while it waits in the mempool. */
    getTx: (hash: string) => request<TxLookup>('GET', `/v1/txs/${segment(hash)}`),
    latestBlock: () => request<BlockWithTxs>('GET', '/v1/blocks/latest'),
    getBlock: (height: number) => request<BlockWithTxs>('GET', `/v1/blocks/${segment(height)}`),
    /** Blocks `from..to`, at most 100, clipped to the committed ones. */
    getBlocks: (from: number, to: number) =>
      request<BlockPage>('GET', `/v1/blocks?from=${segment(from)}&to=${segment(to)}`),
    getAccount: (address: string) => request<Account>('GET', `/v1/accounts/${segment(address)}`),
    getAssets: () => request<AssetList>('GET', '/v1/assets'),
    getAsset: (symbol: string) => request<Asset>('GET', `/v1/assets/${segment(symbol)}`),
    /** Every registered producer, sorted by id. */
    listProducers: () => request<ProducerList>('GET', '/v1/producers'),
    /** One producer; with `equivocation` (and the revealed info) once it was jailed. */
    getProducer: (id: string) => request<Producer>('GET', `/v1/producers/${segment(id)}`),
    /**
     * A producer's committed nonce ranges from height `from` on (all of them, pruned or not), with
     * the tx and height that committed each; at most 1,000 a call (`more` says there are others).
     */
    getNonceRanges: (id: string, from = 0) =>
      request<NonceRangeHistory>(
        'GET',
        `/v1/producers/${segment(id)}/nonce-ranges?from=${segment(from)}`,
      ),
    /** The genesis document, as the node stored it. */
    getGenesis: () => request<Record<string, unknown>>('GET', '/v1/genesis'),
    /**
     * Reports two headers one producer signed at one height. The node checks them, reveals the
     * producer's identity information and commits an `evidence.equivocation` tx signed by its own
     * account; it answers once that tx is in a block, or throws the rejection
     * (`evidence_duplicate`, `invalid_evidence`, `evidence_too_old`, ...).
     */
    submitEvidence: (evidence: EquivocationEvidence) =>
      request<EvidenceResult>('POST', '/v1/evidence', evidence),
    /** The OpenAPI 3 document of the node's API. */
    openApi: () => request<Record<string, unknown>>('GET', '/openapi.json'),
    /** The Prometheus text exposition. */
    async metrics(): Promise<string> {
      const { status, text } = await fetchText('GET', '/metrics');
      if (status >= 400) {
        throw new CofferError(
          'http_error',
          `GET /metrics: HTTP ${status}`,
          status,
          undefined,
          text,
        );
      }
      return text;
    },

    /** Time banks (issue 5): reads, and issuance requests signed by a coordinator. */
    timebanks: {
      /** Time banks newest first, optionally those one account coordinates, a page at a time. */
      list: (query: TimebankListQuery = {}) =>
        request<TimebankPage>('GET', `/v1/timebanks${search(query)}`),
      /** The bank record, with the `salt` of its members' identifier hashes. */
      get: (id: string) => request<Timebank>('GET', `/v1/timebanks/${segment(id)}`),
      member: (id: string, account: string) =>
        request<TimebankMember>('GET', `/v1/timebanks/${segment(id)}/members/${segment(account)}`),
      /** As of the latest block time: lots with base time, age, expiry and effective value. */
      statement: (id: string, account: string) =>
        request<MemberStatement>(
          'GET',
          `/v1/timebanks/${segment(id)}/members/${segment(account)}/statement`,
        ),
      /** The same statement as CSV text. */
      statementCsv: (id: string, account: string) =>
        requestText(
          'GET',
          `/v1/timebanks/${segment(id)}/members/${segment(account)}/statement?format=csv`,
        ),
      lot: (id: string, number: number) =>
        request<TimeLot>('GET', `/v1/timebanks/${segment(id)}/lots/${segment(number)}`),
      exchange: (id: string, number: number) =>
        request<TimeExchange>('GET', `/v1/timebanks/${segment(id)}/exchanges/${segment(number)}`),
      /** One page of offers and requests; pass the answer's `next` as `after` for the next. */
      listings: (id: string, query: ListingQuery = {}) =>
        request<ListingPage>('GET', `/v1/timebanks/${segment(id)}/listings${search(query)}`),
      listing: (id: string, number: number) =>
        request<Listing>('GET', `/v1/timebanks/${segment(id)}/listings/${segment(number)}`),
      alliance: (id: string, partnerBankId: string) =>
        request<Alliance>(
          'GET',
          `/v1/timebanks/${segment(id)}/alliances/${segment(partnerBankId)}`,
        ),
      /**
       * Asks the node to issue `minutes` to the member known by `userId`, signed by the
       * coordinator `key` (reads the bank's salt and the chain id first). With `wait: 'commit'`
       * (the default) it answers once the issuance is recorded; without, `pending` and the tx
       * hash. A `requestId` is recorded once: a retry with the same id is `duplicate_request`.
       */
      async requestIssuance(
        key: SigningKey,
        input: { bankId: string; requestId: string; userId: string; minutes: Minutes },
        opts: SubmitOptions = { wait: 'commit' },
      ): Promise<IssuanceRequestResult> {
        const [{ chainId }, bank] = await Promise.all([
          client.health(),
          client.timebanks.get(input.bankId),
        ]);
        const body = signIssuanceRequest(key, {
          chainId,
          bank,
          requestId: input.requestId,
          userId: input.userId,
          minutes: input.minutes,
        });
        return request<IssuanceRequestResult>(
          'POST',
          `/v1/timebanks/${segment(input.bankId)}/issuance-requests${waitQuery(opts)}`,
          body,
        );
      },
      /** Where an issuance request stands: `pending`, or `recorded` with its account and lot. */
      issuance: (id: string, requestId: string) =>
        request<IssuanceRequestResult>(
          'GET',
          `/v1/timebanks/${segment(id)}/issuance-requests/${segment(requestId)}`,
        ),
    },

    /**
     * Movie investment campaigns (issue 6): reads and the payout simulation. Amounts are decimal
     * strings of minor units; writes are txs (`campaignTxs`) sent with `send`.
     */
    campaigns: {
      /** Campaigns newest first, by producer or status, a page at a time. */
      list: (query: CampaignListQuery = {}) =>
        request<CampaignPage>('GET', `/v1/campaigns${search(query)}`),
      /** The campaign's terms, status and totals, with its `escrow` account. */
      get: (id: string) => request<Campaign>('GET', `/v1/campaigns/${segment(id)}`),
      /** Addresses with an active position, sorted (the payout list once it succeeded). */
      investors: (id: string) =>
        request<CampaignInvestors>('GET', `/v1/campaigns/${segment(id)}/investors`),
      /** One investor's position: invested, refunded, owed, each payout by report and tranche. */
      position: (id: string, address: string) =>
        request<CampaignPosition>(
          'GET',
          `/v1/campaigns/${segment(id)}/investors/${segment(address)}`,
        ),
      /** The waterfall position now and after each revenue report. */
      statement: (id: string) =>
        request<CampaignStatement>('GET', `/v1/campaigns/${segment(id)}/statement`),
      /** Chart-ready series: per report, cumulative revenue per tranche and per class. */
      chart: (id: string) => request<CampaignChart>('GET', `/v1/campaigns/${segment(id)}/chart`),
      /**
       * Who would get what if a report of `revenue` (minor units) were applied now, without a tx.
       * A revenue that is not a positive amount throws the SDK's `CryptoInputError` first.
       */
      simulate: async (id: string, revenue: MinorUnits) =>
        request<CampaignSimulation>('POST', `/v1/campaigns/${segment(id)}/simulate`, {
          revenue: minorUnitsText(revenue, 'revenue'),
        }),
    },

    /**
     * Committed blocks, receipts and events over the websocket, reconnecting until `close()`.
     * See `subscribeEvents`.
     */
    subscribe: (
      filter: SubscriptionFilter,
      onMessage: (message: SubscriptionMessage) => void,
      subscribeOptions: SubscribeOptions = {},
    ): Subscription => subscribeEvents(base, filter, onMessage, subscribeOptions),

    /**
     * Builds, signs and submits a tx from `key`, reading the chain id and the sender's next nonce
     * from the node. Sequential use only: concurrent sends from one key need explicit nonces.
     */
    async send(
      key: SigningKey,
      tx: { type: string; payload: Record<string, unknown>; memo?: string },
      opts: SubmitOptions = { wait: 'commit' },
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
