import { z } from 'zod';
import { isAddress } from '../../crypto/index.js';
import type { ModuleHost } from '../../node/module-host.js';
import { errorSchema, sendError, stringParams } from '../../node/routes.js';
import { jsonSchema } from '../../protocol/schema.js';
import {
  listBuyerTokens,
  listDesigns,
  listOwnerPrinters,
  listRevocations,
  printingPageDefault,
  printingPageMax,
} from './queries.js';
import {
  designPageSchema,
  designSchema,
  designStatuses,
  hwidSchema,
  isDesignId,
  isHardwareId,
  isPrinterId,
  isTokenId,
  printerPageSchema,
  printerSchema,
  revocationPageSchema,
  printTokenPageSchema,
  printTokenSchema,
  type DesignStatus,
} from './schema.js';
import { activePrinterOf, readDesign, readHwid, readPrinter, readToken } from './state.js';

const limitPattern = /^[1-9][0-9]{0,2}$/;
/** A revocation cursor: a sequence number (0 from the start). */
const seqPattern = /^(0|[1-9][0-9]{0,11})$/;
const tags = ['printing'];

function pageQuery(...names: string[]) {
  return jsonSchema(
    z.strictObject({
      ...Object.fromEntries(names.map((name) => [name, z.string().optional()])),
      after: z.string().optional(),
      limit: z.string().optional(),
    }),
    'input',
  );
}

function pageLimit(limit: string | undefined): number | undefined {
  if (limit === undefined) return printingPageDefault;
  if (!limitPattern.test(limit)) return undefined;
  const count = Number(limit);
  return count > printingPageMax ? undefined : count;
}

function isDesignStatus(value: string): value is DesignStatus {
  return (designStatuses as readonly string[]).includes(value);
}

/**
 * The printing module's reads (issue 23), from committed state: a hardware id, a printer, an
 * owner's printers, the store's designs (by status and server), a design, a print token, a
 * buyer's tokens, and a server's revoked printers (its CRL's source). Lists are pages (`limit` 1
 * to 100, default 50; `next` continues as `after`).
 */
export function printingRoutes(host: ModuleHost): void {
  const { app, store } = host;
  const base = '/v1/printing';

  app.get<{ Params: { hardwareId: string } }>(
    `${base}/hwids/:hardwareId`,
    {
      schema: {
        summary:
          'A hardware id: the authority that issued it, the hash of its device key and its active printer',
        tags,
        params: stringParams('hardwareId'),
        response: { 200: jsonSchema(hwidSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { hardwareId } = request.params;
      if (!isHardwareId(hardwareId)) return sendError(reply, 'invalid_hardware_id', 'hardwareId');
      const hwid = readHwid(store, hardwareId);
      if (!hwid) return sendError(reply, 'hwid_not_found', 'hardwareId');
      // A print server refuses a board that is a printer already before any secret or tx.
      const printerId = activePrinterOf(store, hardwareId);
      return printerId === undefined ? hwid : { ...hwid, printerId };
    },
  );

  app.get<{ Params: { printerId: string } }>(
    `${base}/printers/:printerId`,
    {
      schema: {
        summary:
          'A printer: its owner, server, client id, certificate fingerprint, profile, status',
        tags,
        params: stringParams('printerId'),
        response: { 200: jsonSchema(printerSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { printerId } = request.params;
      if (!isPrinterId(printerId)) return sendError(reply, 'invalid_printer_id', 'printerId');
      return readPrinter(store, printerId) ?? sendError(reply, 'printer_not_found', 'printerId');
    },
  );

  app.get<{ Querystring: { owner?: string; after?: string; limit?: string } }>(
    `${base}/printers`,
    {
      schema: {
        summary: "An owner's printers (active and revoked) in printerId order",
        tags,
        querystring: pageQuery('owner'),
        response: { 200: jsonSchema(printerPageSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { owner, after, limit } = request.query;
      if (owner === undefined || !isAddress(owner))
        return sendError(reply, 'invalid_address', 'owner');
      if (after !== undefined && !isPrinterId(after)) {
        return sendError(reply, 'invalid_printer_id', 'after');
      }
      const count = pageLimit(limit);
      if (count === undefined) return sendError(reply, 'invalid_request', 'limit');
      return listOwnerPrinters(store, owner, {
        ...(after === undefined ? {} : { after }),
        limit: count,
      });
    },
  );

  app.get<{ Querystring: { status?: string; server?: string; after?: string; limit?: string } }>(
    `${base}/designs`,
    {
      schema: {
        summary:
          "The store: designs in designId order, by status ('listed', 'unlisted') and server",
        tags,
        querystring: pageQuery('status', 'server'),
        response: { 200: jsonSchema(designPageSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { status, server, after, limit } = request.query;
      if (status !== undefined && !isDesignStatus(status)) {
        return sendError(reply, 'invalid_design_status', 'status');
      }
      if (server !== undefined && !isAddress(server)) {
        return sendError(reply, 'invalid_address', 'server');
      }
      if (after !== undefined && !isDesignId(after)) {
        return sendError(reply, 'invalid_design_id', 'after');
      }
      const count = pageLimit(limit);
      if (count === undefined) return sendError(reply, 'invalid_request', 'limit');
      return listDesigns(
        store,
        {
          ...(status === undefined ? {} : { status }),
          ...(server === undefined ? {} : { server }),
        },
        { ...(after === undefined ? {} : { after }), limit: count },
      );
    },
  );

  app.get<{ Params: { designId: string } }>(
    `${base}/designs/:designId`,
    {
      schema: {
        summary: 'A design: designer, server, G-code hash, extent, price, prints sold, licence',
        tags,
        params: stringParams('designId'),
        response: { 200: jsonSchema(designSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { designId } = request.params;
      if (!isDesignId(designId)) return sendError(reply, 'invalid_design_id', 'designId');
      return readDesign(store, designId) ?? sendError(reply, 'design_not_found', 'designId');
    },
  );

  app.get<{ Params: { tokenId: string } }>(
    `${base}/tokens/:tokenId`,
    {
      schema: {
        summary: 'A print token: its design, printer, buyer, price in escrow, status and progress',
        tags,
        params: stringParams('tokenId'),
        response: { 200: jsonSchema(printTokenSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { tokenId } = request.params;
      if (!isTokenId(tokenId)) return sendError(reply, 'invalid_token_id', 'tokenId');
      return readToken(store, tokenId) ?? sendError(reply, 'print_token_not_found', 'tokenId');
    },
  );

  app.get<{ Querystring: { buyer?: string; after?: string; limit?: string } }>(
    `${base}/tokens`,
    {
      schema: {
        summary: "A buyer's print tokens (all statuses) in tokenId order",
        tags,
        querystring: pageQuery('buyer'),
        response: { 200: jsonSchema(printTokenPageSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { buyer, after, limit } = request.query;
      if (buyer === undefined || !isAddress(buyer))
        return sendError(reply, 'invalid_address', 'buyer');
      if (after !== undefined && !isTokenId(after)) {
        return sendError(reply, 'invalid_token_id', 'after');
      }
      const count = pageLimit(limit);
      if (count === undefined) return sendError(reply, 'invalid_request', 'limit');
      return listBuyerTokens(store, buyer, {
        ...(after === undefined ? {} : { after }),
        limit: count,
      });
    },
  );

  app.get<{ Params: { address: string }; Querystring: { after?: string; limit?: string } }>(
    `${base}/servers/:address/revocations`,
    {
      schema: {
        summary:
          "A print server's revoked printers with their certificate fingerprints, in revocation order (its CRL); after = the last seq seen",
        tags,
        params: stringParams('address'),
        querystring: pageQuery(),
        response: { 200: jsonSchema(revocationPageSchema), '4xx': errorSchema },
      },
    },
    async (request, reply) => {
      const { address } = request.params;
      const { after, limit } = request.query;
      if (!isAddress(address)) return sendError(reply, 'invalid_address', 'address');
      if (after !== undefined && !seqPattern.test(after)) {
        return sendError(reply, 'invalid_request', 'after');
      }
      const count = pageLimit(limit);
      if (count === undefined) return sendError(reply, 'invalid_request', 'limit');
      return listRevocations(store, address, {
        ...(after === undefined ? {} : { after: Number(after) }),
        limit: count,
      });
    },
  );
}
