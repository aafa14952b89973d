import type { ClientCore } from '../../sdk/client.js';
import type {
  DesignPage,
  DesignRecord,
  DesignStatus,
  HwidRecord,
  Price,
  PrinterPage,
  PrinterRecord,
  PrintingPayload,
  RevocationPage,
  PrintTokenPage,
  PrintTokenRecord,
} from './schema.js';

export * from './schema.js';

/*
 * The printing module from a client's side: reads and the builders of its txs, as
 * `{type, payload}` for `signTx` / `client.send`. Pure (the schema and the SDK core), so it runs
 * in browsers.
 */

function query(params: Record<string, string | number | undefined>): string {
  const entries = Object.entries(params).filter(
    (entry): entry is [string, string | number] => entry[1] !== undefined,
  );
  if (entries.length === 0) return '';
  return `?${new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v)])).toString()}`;
}

export interface PrintingPageOptions {
  after?: string;
  limit?: number;
}

export interface DesignListOptions extends PrintingPageOptions {
  status?: DesignStatus;
  server?: string;
}

/** The printing namespace of a client. */
export function printingClient(core: ClientCore) {
  const { request, segment } = core;
  const base = '/v1/printing';
  return {
    printing: {
      /** A hardware id's record (404 `hwid_not_found` when unknown). */
      hwid: (hardwareId: string) =>
        request<HwidRecord>('GET', `${base}/hwids/${segment(hardwareId)}`),
      /** A printer's record. */
      printer: (printerId: string) =>
        request<PrinterRecord>('GET', `${base}/printers/${segment(printerId)}`),
      /** An owner's printers (active and revoked), a page at a time. */
      printersOf: (owner: string, options: PrintingPageOptions = {}) =>
        request<PrinterPage>('GET', `${base}/printers${query({ owner, ...options })}`),
      /** The store: designs by status and server, a page at a time. */
      designs: (options: DesignListOptions = {}) =>
        request<DesignPage>('GET', `${base}/designs${query({ ...options })}`),
      /** A design's record. */
      design: (designId: string) =>
        request<DesignRecord>('GET', `${base}/designs/${segment(designId)}`),
      /** A print token's record (its status and progress). */
      token: (tokenId: string) =>
        request<PrintTokenRecord>('GET', `${base}/tokens/${segment(tokenId)}`),
      /** A buyer's tokens, a page at a time. */
      tokensOf: (buyer: string, options: PrintingPageOptions = {}) =>
        request<PrintTokenPage>('GET', `${base}/tokens${query({ buyer, ...options })}`),
      /** A server's revoked printers after the seq `after` (its CRL), a page at a time. */
      revocations: (server: string, options: { after?: number; limit?: number } = {}) =>
        request<RevocationPage>(
          'GET',
          `${base}/servers/${segment(server)}/revocations${query({ ...options })}`,
        ),
    },
  };
}

type Tx<T extends string> = { type: T; payload: Record<string, unknown> };

/** The printing module's txs as `{type, payload}` for `signTx`. */
export const printingTxBuilders = {
  /** Sent by a hardware-id authority: `hardwareId = hardwareIdOf(authority, deviceKeyHash)`. */
  hwid: (payload: PrintingPayload<'printing.hwid'>): Tx<'printing.hwid'> => ({
    type: 'printing.hwid',
    payload,
  }),
  /**
   * Sent by the print server; `ownerProof` signs printerRegistrationMessage (by the owner),
   * `deviceProof` signs printerDeviceMessage (by the SBC's `deviceKey`).
   */
  registerPrinter: (payload: PrintingPayload<'printer.register'>): Tx<'printer.register'> => ({
    type: 'printer.register',
    payload,
  }),
  /** Sent by the printer's server or owner. */
  revokePrinter: (printerId: string): Tx<'printer.revoke'> => ({
    type: 'printer.revoke',
    payload: { printerId },
  }),
  /** Sent by the designer, with what the server answered the upload with. */
  listDesign: (payload: PrintingPayload<'design.list'>): Tx<'design.list'> => ({
    type: 'design.list',
    payload,
  }),
  /** Sent by the designer: a new price, a new status, or both. */
  updateDesign: (
    designId: string,
    change: { price?: Price; status?: DesignStatus },
  ): Tx<'design.update'> => ({
    type: 'design.update',
    payload: {
      designId,
      ...(change.price === undefined ? {} : { price: change.price }),
      ...(change.status === undefined ? {} : { status: change.status }),
    },
  }),
  /**
   * Sent by the printer's owner at the price it saw (`price_changed` otherwise); the token id is
   * this tx's hash.
   */
  buy: (designId: string, printerId: string, price: Price): Tx<'print.buy'> => ({
    type: 'print.buy',
    payload: { designId, printerId, price: { asset: price.asset, amount: price.amount } },
  }),
  /** Sent by the token's server when the printer redeems it. */
  start: (tokenId: string, watermarkCommitment: string): Tx<'print.start'> => ({
    type: 'print.start',
    payload: { tokenId, watermarkCommitment },
  }),
  /**
   * Sent by the token's server: percent and delivered (the share of the adapted lines the server
   * wrote to the stream) never decrease within an attempt.
   */
  progress: (tokenId: string, percent: number, delivered: number): Tx<'print.progress'> => ({
    type: 'print.progress',
    payload: { tokenId, percent, delivered },
  }),
  /** Sent by the token's server: pays the designer and the server from the escrow. */
  finish: (tokenId: string): Tx<'print.finish'> => ({
    type: 'print.finish',
    payload: { tokenId },
  }),
  /**
   * Sent by the token's server: the first failure re-issues, the second refunds the undelivered
   * share.
   */
  fail: (
    tokenId: string,
    percent: number,
    reason: string,
    delivered: number,
  ): Tx<'print.fail'> => ({
    type: 'print.fail',
    payload: { tokenId, percent, reason, delivered },
  }),
  /** Sent by the buyer: an expired issued token, or a print silent for 24 h. */
  cancel: (tokenId: string): Tx<'print.cancel'> => ({
    type: 'print.cancel',
    payload: { tokenId },
  }),
};
