/*
 * What the hardware-id authority and the print server need from the chain (docs/printing.md):
 * submit the printing txs from their own Coffer key and learn how each ended, and read the
 * printing routes (`GET /v1/printing/...`). The printing reads over the services' node client
 * (src/sdk/service-chain.ts: fetch, the generic tx format and a nonce kept for txs in flight,
 * since the servers take concurrent requests), as the iot payment service's and the licensing
 * gateway's are.
 */
import type { SigningKey } from '../../../sdk/keys.js';
import {
  ChainUnavailableError,
  createServiceChain,
  type ServiceChain,
} from '../../../sdk/service-chain.js';
import type {
  DesignRecord,
  HwidRecord,
  PrinterRecord,
  RevocationPage,
  PrintTokenRecord,
} from '../schema.js';

export { ChainUnavailableError, type SubmitOutcome } from '../../../sdk/service-chain.js';

/** The txs the authority and the server send. */
export type ServerTxType =
  | 'printing.hwid'
  | 'printer.register'
  | 'print.start'
  | 'print.progress'
  | 'print.finish'
  | 'print.fail';

/** A nonce raced: submitted again at once (a few times) before the caller hears of it. */
const nonceRetriesMax = 3;

export interface PrintChain extends Pick<
  ServiceChain<ServerTxType>,
  'address' | 'chainId' | 'submit'
> {
  hwid(hardwareId: string): Promise<HwidRecord | undefined>;
  printer(printerId: string): Promise<PrinterRecord | undefined>;
  design(designId: string): Promise<DesignRecord | undefined>;
  token(tokenId: string): Promise<PrintTokenRecord | undefined>;
  /** This server's revoked printers after `after` (a page's `next`), oldest first. */
  revocations(server: string, after?: string): Promise<RevocationPage>;
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
  const chain = createServiceChain<ServerTxType>(nodeUrl, key, { nonceRetries: nonceRetriesMax });
  const { read } = chain;

  async function readRecord<T>(route: string, name: string, idField: string) {
    const body = await read(route);
    if (!body) return undefined;
    const record = recordOf<T>(body, name, idField);
    if (!record) throw new ChainUnavailableError(`GET ${route}: no ${name} in the answer`);
    return record;
  }

  const segment = (value: string) => encodeURIComponent(value);

  return {
    address: chain.address,
    chainId: chain.chainId,
    submit: chain.submit,
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
