import type { ChainModule } from '../../chain/index.js';
import type { CofferModule } from '../manifest.js';
import { agentCommands } from './cli-agent.js';
import { printingCommands } from './cli.js';
import { printServerCommands } from './cli-servers.js';
import { virtualPrinterCommands } from './gcode/cli-virtual-printer.js';
import { printingRoutes } from './routes.js';
import { printingModuleName } from './state.js';
import { printingRejections, printingTxs } from './txs.js';

export * from './schema.js';
export * from './state.js';
export * from './queries.js';
export { printingRejections, type PrintingRejection } from './txs.js';
export { printingCommands } from './cli.js';

/**
 * 3D design DRM (issue 23): hardware-id authorities record the ids they issue to SBCs; a print
 * server registers an SBC as its owner's printer (with the owner's signed consent and the
 * printer's profile) and revokes it; designers list designs their server holds (with its signed
 * statement); a printer's owner buys a print, its price held in escrow under a single-use,
 * printer-bound token (the tx hash); the server starts the print, reports its progress, and
 * finishes it (the escrow pays designer and server by largest remainder) or fails it (re-issued
 * once, then refunded pro rata to the undelivered share); the buyer takes back an expired or
 * stalled token's price (the same pro-rata refund).
 */
export const printingModule: ChainModule = {
  name: printingModuleName,
  txs: printingTxs,
  rejections: printingRejections,
};

/** HTTP statuses of the module's codes (not listed: 400). */
export const printingHttpStatuses: Readonly<Record<string, number>> = {
  owner_proof_invalid: 403,
  device_key_mismatch: 403,
  device_proof_invalid: 403,
  server_proof_invalid: 403,
  not_printer_server_or_owner: 403,
  not_designer: 403,
  not_printer_owner: 403,
  not_token_server: 403,
  not_buyer: 403,
  hwid_not_found: 404,
  printer_not_found: 404,
  design_not_found: 404,
  print_token_not_found: 404,
  hwid_exists: 409,
  hwid_registered: 409,
  printer_exists: 409,
  design_exists: 409,
  printer_revoked: 409,
  token_redeemed: 409,
  token_closed: 409,
  token_expired: 409,
  token_not_printing: 409,
  token_not_cancellable: 409,
  progress_backwards: 409,
  delivered_backwards: 409,
  price_changed: 409,
  design_unlisted: 409,
  sold_out: 409,
  design_id_mismatch: 422,
  hwid_mismatch: 422,
  owner_printers_full: 422,
  tokens_full: 422,
  printer_other_server: 422,
  design_does_not_fit: 422,
};

/** The printing module: chain, routes, codes and commands (src/modules/manifest.ts). */
export const printing: CofferModule = {
  chain: printingModule,
  routes: printingRoutes,
  tag: {
    name: 'printing',
    description:
      '3D design DRM: hardware ids, registered printers with their profiles, the design store, single-use printer-bound print tokens with escrowed prices, print progress and the refund rule.',
  },
  httpStatuses: printingHttpStatuses,
  commands: [
    ...printingCommands,
    ...printServerCommands,
    ...agentCommands,
    ...virtualPrinterCommands,
  ],
  cliNotes:
    'print buy answers the token id (the tx hash); the print server redeems it when the printer\n' +
    'asks; print cancel takes back the price of an expired token, a print silent for 24 h or one\n' +
    'started 7 days ago (less the share the server delivered).',
};
