import type { OrderedStateReader } from '../../state/index.js';
import type {
  DesignPage,
  DesignRecord,
  DesignStatus,
  PrinterPage,
  PrinterRecord,
  RevocationPage,
  RevocationRecord,
  PrintTokenPage,
  PrintTokenRecord,
} from './schema.js';
import { printingKeys, readDesign, readPrinter, readToken } from './state.js';

/*
 * The module's reads, from committed state, for the routes and the tests. Lists are pages in key
 * order: `next` is the cursor of the last entry while more may follow (pass it as `after`).
 */

export const printingPageDefault = 50;
export const printingPageMax = 100;

export interface PrintingPage {
  after?: string;
  limit: number;
}

function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > printingPageMax) {
    throw new RangeError(`limit must be a whole number from 1 to ${printingPageMax}`);
  }
}

/** Up to `limit` ids under an index prefix after `after`, and the cursor when more follow. */
function idPage(state: OrderedStateReader, prefix: string, page: PrintingPage) {
  checkLimit(page.limit);
  const entries = state.range(
    prefix,
    page.limit + 1,
    page.after === undefined ? {} : { after: prefix + page.after },
  );
  const ids = entries.slice(0, page.limit).map(([key]) => key.slice(prefix.length));
  return { ids, next: entries.length > page.limit ? (ids.at(-1) ?? null) : null };
}

function present<T>(value: T | undefined): value is T {
  return value !== undefined;
}

/** An owner's printers (active and revoked) in printerId order. */
export function listOwnerPrinters(
  state: OrderedStateReader,
  owner: string,
  page: PrintingPage,
): PrinterPage {
  const { ids, next } = idPage(state, printingKeys.byOwnerPrefix(owner), page);
  const printers = ids.map((id) => readPrinter(state, id)).filter(present<PrinterRecord>);
  return { printers, next };
}

export interface DesignFilter {
  status?: DesignStatus;
  server?: string;
}

/** Designs in designId order: all, or by status, by server, or both. */
export function listDesigns(
  state: OrderedStateReader,
  filter: DesignFilter,
  page: PrintingPage,
): DesignPage {
  const { status, server } = filter;
  const prefix =
    server === undefined
      ? status === undefined
        ? printingKeys.designPrefix
        : printingKeys.designByStatusPrefix(status)
      : status === undefined
        ? printingKeys.serverDesignPrefix(server)
        : printingKeys.serverDesignByStatusPrefix(server, status);
  const { ids, next } = idPage(state, prefix, page);
  const designs = ids.map((id) => readDesign(state, id)).filter(present<DesignRecord>);
  return { designs, next };
}

/** A buyer's tokens (all statuses) in tokenId order. */
export function listBuyerTokens(
  state: OrderedStateReader,
  buyer: string,
  page: PrintingPage,
): PrintTokenPage {
  const { ids, next } = idPage(state, printingKeys.byBuyerPrefix(buyer), page);
  const tokens = ids.map((id) => readToken(state, id)).filter(present<PrintTokenRecord>);
  return { tokens, next };
}

/**
 * A server's revoked printers in revocation order, from after the `seq` `after` (0: from the
 * first): what its CRL holds. `next` is the last `seq` answered while more may follow; a server
 * polls with the last seq it saw.
 */
export function listRevocations(
  state: OrderedStateReader,
  server: string,
  page: { after?: number; limit: number },
): RevocationPage {
  checkLimit(page.limit);
  const prefix = printingKeys.revocationPrefix(server);
  const entries = state.range(
    prefix,
    page.limit + 1,
    page.after === undefined || page.after === 0
      ? {}
      : { after: printingKeys.revocation(server, page.after) },
  );
  const revocations = entries
    .slice(0, page.limit)
    .map(([, value]) => JSON.parse(value) as RevocationRecord);
  const last = revocations.at(-1);
  return {
    revocations,
    next: entries.length > page.limit && last !== undefined ? String(last.seq) : null,
  };
}
