/*
 * What the hardware-id authority and the print server need from the chain (docs/printing.md):
 * submit the printing txs from their own Coffer key and learn how each ended, and read the
 * printing routes (`GET /v1/printing/...`). A thin fetch adapter over the generic tx format
 * (src/sdk/tx.ts), as the iot payment service's and the licensing gateway's are.
 *
 * Nonces are kept here so several txs can be in flight (the servers take concurrent requests):
 * each submit takes the next nonce and posts with `?wait=commit`; the mempool holds a tx whose
 * predecessor has not arrived yet. A tx refused at admission (its nonce unused) or lost to the
 * network makes the counter stale: the next submit waits for the others to settle and reads the
 * nonce again from the node.
 */
import { signTx } from '../../../sdk/tx.js';
import type { SigningKey } from '../../../sdk/keys.js';
import type {
  DesignRecord,
  HwidRecord,
  PrinterRecord,
  RevocationPage,
  PrintTokenRecord,
} from '../schema.js';

/** The txs the authority and the server send. */
export type ServerTxType =
  | 'printing.hwid'
  | 'printer.register'
  | 'print.start'
  | 'print.progress'
  | 'print.finish'
  | 'print.fail';

export type SubmitOutcome =
  | { status: 'ok'; tx: string; height: number }
  /** Refused for good: in its block (`tx`, `height` set: nonce spent) or at admission. */
  | { status: 'rejected'; code: string; message: string; tx?: string; height?: number };

/** A fault that may pass (node unreachable, mempool full): the caller answers 503, retry later. */
export class ChainUnavailableError extends Error {
  readonly code = 'chain_unavailable';
}

/** Admission refusals that say nothing about the tx itself: sent again with a fresh nonce. */
const transientAdmissionCodes = new Set([
  'nonce_too_low',
  'nonce_too_high',
  'duplicate_tx',
  'mempool_full',
  'sender_queue_full',
  'sender_gap_limit',
  'gapped_pool_full',
  'sender_rate_limited',
  'gapped_rate_limited',
  'node_halted',
  'not_ready',
  'final_timeout',
]);
/** A nonce raced: submitted again at once (a few times) before the caller hears of it. */
const nonceRetriesMax = 3;

/** One HTTP request's limit: a commit takes a block or two, a read a few ms. */
const requestTimeoutMs = 30_000;
/** How often a stale nonce waits for the txs in flight to settle. */
const settlePollMs = 5;

export interface PrintChain {
  readonly address: string;
  chainId(): Promise<string>;
  /** Signs with the key, submits and waits for the commit. */
  submit(type: ServerTxType, payload: Record<string, unknown>): Promise<SubmitOutcome>;
  hwid(hardwareId: string): Promise<HwidRecord | undefined>;
  printer(printerId: string): Promise<PrinterRecord | undefined>;
  design(designId: string): Promise<DesignRecord | undefined>;
  token(tokenId: string): Promise<PrintTokenRecord | undefined>;
  /** This server's revoked printers after `after` (a page's `next`), oldest first. */
  revocations(server: string, after?: string): Promise<RevocationPage>;
}

interface HttpAnswer {
  status: number;
  body: Record<string, unknown> | undefined;
}

/**
 * A route answers a record either bare or under its name (`{printer: {...}}`): the record is the
 * object that carries `idField`.
 */
function recordOf<T>(body: Record<string, unknown>, name: string, idField: string): T | undefined {
  if (typeof body[idField] === 'string') return body as T;
  const inner = body[name];
  if (
    typeof inner === 'object' &&
    inner !== null &&
    typeof (inner as Record<string, unknown>)[idField] === 'string'
  ) {
    return inner as T;
  }
  return undefined;
}

export function createPrintChain(nodeUrl: string, key: SigningKey): PrintChain {
  const base = nodeUrl.replace(/\/+$/, '');
  let chainIdCache: string | undefined;
  let next: number | undefined;
  let inFlight = 0;

  async function call(method: string, route: string, body?: unknown): Promise<HttpAnswer> {
    let response: Response;
    try {
      response = await fetch(base + route, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
    } catch (error) {
      throw new ChainUnavailableError(
        `${method} ${route}: cannot reach the node: ${(error as Error).message}`,
      );
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const object =
      typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
        ? (parsed as Record<string, unknown>)
        : undefined;
    if (response.status >= 500 && response.status !== 503) {
      throw new ChainUnavailableError(`${method} ${route}: the node answered ${response.status}`);
    }
    return { status: response.status, body: object };
  }

  async function read(route: string): Promise<Record<string, unknown> | undefined> {
    const answer = await call('GET', route);
    if (answer.status === 404) return undefined;
    if (answer.status >= 400 || !answer.body) {
      throw new ChainUnavailableError(`GET ${route}: the node answered ${answer.status}`);
    }
    return answer.body;
  }

  async function readRecord<T>(route: string, name: string, idField: string) {
    const body = await read(route);
    if (!body) return undefined;
    const record = recordOf<T>(body, name, idField);
    if (!record) throw new ChainUnavailableError(`GET ${route}: no ${name} in the answer`);
    return record;
  }

  async function chainId(): Promise<string> {
    if (chainIdCache === undefined) {
      const health = await read('/health');
      const id = health?.chainId;
      if (typeof id !== 'string') throw new ChainUnavailableError('GET /health: no chainId');
      chainIdCache = id;
    }
    return chainIdCache;
  }

  async function takeNonce(): Promise<number> {
    while (next === undefined) {
      if (inFlight > 0) {
        await new Promise((resolve) => setTimeout(resolve, settlePollMs));
        continue;
      }
      const account = await read(`/v1/accounts/${encodeURIComponent(key.address)}`);
      const nonce = account?.nonce;
      // An account the node has never seen starts at nonce 0.
      next = typeof nonce === 'number' ? nonce : 0;
    }
    return next++;
  }

  async function submitOnce(
    type: ServerTxType,
    payload: Record<string, unknown>,
  ): Promise<SubmitOutcome | 'again'> {
    const id = await chainId();
    const nonce = await takeNonce();
    const signed = signTx({ chainId: id, sender: key.address, nonce, type, payload }, key);
    inFlight++;
    let answer: HttpAnswer;
    try {
      answer = await call('POST', '/v1/txs?wait=commit', signed);
    } catch (error) {
      next = undefined; // it may or may not have been admitted
      throw error;
    } finally {
      inFlight--;
    }
    const body = answer.body ?? {};
    if (answer.status < 300 && typeof body.hash === 'string') {
      return { status: 'ok', tx: body.hash, height: Number(body.height) };
    }
    const error = (body.error ?? {}) as { code?: unknown; message?: unknown };
    const code = typeof error.code === 'string' ? error.code : `http_${answer.status}`;
    const message = typeof error.message === 'string' ? error.message : code;
    if (typeof body.height === 'number') {
      // Committed, failed: the nonce is spent and the receipt names the rejection.
      return {
        status: 'rejected',
        code,
        message,
        ...(typeof body.hash === 'string' ? { tx: body.hash } : {}),
        height: body.height,
      };
    }
    next = undefined; // refused at admission: this nonce was not used
    if (code === 'nonce_too_low' || code === 'nonce_too_high' || code === 'duplicate_tx') {
      return 'again';
    }
    if (transientAdmissionCodes.has(code) || answer.status === 503) {
      throw new ChainUnavailableError(`${type}: the node refused it for now (${code})`);
    }
    return { status: 'rejected', code, message };
  }

  const segment = (value: string) => encodeURIComponent(value);

  return {
    address: key.address,
    chainId,
    async submit(type, payload) {
      for (let attempt = 0; ; attempt++) {
        const outcome = await submitOnce(type, payload);
        if (outcome !== 'again') return outcome;
        if (attempt >= nonceRetriesMax) {
          throw new ChainUnavailableError(`${type}: the sender's nonce kept racing: retry`);
        }
      }
    },
    hwid: (hardwareId) =>
      readRecord<HwidRecord>(`/v1/printing/hwids/${segment(hardwareId)}`, 'hwid', 'hardwareId'),
    printer: (printerId) =>
      readRecord<PrinterRecord>(
        `/v1/printing/printers/${segment(printerId)}`,
        'printer',
        'printerId',
      ),
    design: (designId) =>
      readRecord<DesignRecord>(`/v1/printing/designs/${segment(designId)}`, 'design', 'designId'),
    token: (tokenId) =>
      readRecord<PrintTokenRecord>(`/v1/printing/tokens/${segment(tokenId)}`, 'token', 'tokenId'),
    async revocations(server, after) {
      const query = after === undefined ? '' : `?after=${segment(after)}`;
      const route = `/v1/printing/servers/${segment(server)}/revocations${query}`;
      const body = await read(route);
      if (!body) return { revocations: [], next: null };
      if (!Array.isArray(body.revocations)) {
        throw new ChainUnavailableError(`GET ${route}: no revocations in the answer`);
      }
      return body as unknown as RevocationPage;
    },
  };
}
