import type { z } from 'zod';
import { defineTxOf, reject, type TxContext, type TxDefinition } from '../../chain/index.js';
import { fromHex, publicKeyFromAddress, verify } from '../../crypto/index.js';
import { splitByWeights } from '../../ledger/split.js';
import type { PrintingRejection } from './rejections.js';
import {
  platformShareWhole,
  designFits,
  designIdOf,
  designUploadMessage,
  deviceKeyHashOf,
  failuresBeforeRefund,
  hardwareIdOf,
  printerDeviceMessage,
  printerRegistrationMessage,
  printMaxMs,
  printersPerOwnerMax,
  printingPayloads,
  profileHashOf,
  progressStaleMs,
  tokenLifetimeMs,
  tokensPerBuyerMax,
  type PrinterRecord,
  type PrintTokenRecord,
} from './schema.js';
import {
  activePrinterOf,
  activePrintersOf,
  outstandingTokensOf,
  readDesign,
  readHwid,
  readPrinter,
  readToken,
  tokenEscrow,
  writeDesign,
  writeHwid,
  writePrinter,
  writeToken,
} from './state.js';

export { printingRejections, type PrintingRejection } from './rejections.js';

/*
 * The printing module's handlers (issue 23). Deterministic: time is the block's (`ctx.time`), a
 * token's id is its print.buy tx hash, amounts are bigints, the payout split is by largest
 * remainder (src/ledger/split.ts). Checks run in a fixed precedence: the records the payload
 * names, then the sender's authority, then the state (limits, windows), then the ledger's own
 * checks as money moves. A rejection restores the state the tx found (the chain's snapshot).
 *
 * Who may do what, thinking of an outsider with a fresh key and no funds: it may record hardware
 * ids under its own name (each id once; an id says which authority issued it, and servers trust
 * the authorities they choose), list designs only with a server's signed consent, and register
 * printers only as a server, and only for an owner that signed for it; it cannot revoke another's
 * printer, update another's design, buy for another's printer, report on another server's
 * prints, or cancel another's token. What one account can grow is bounded: 16 active printers
 * per owner, 64 outstanding tokens per buyer, every string by its schema.
 *
 * The refund rule: a token buys one successful print. The first failed print re-issues it (the
 * buyer prints again with the same token, for 7 more days); the second refunds the escrow to the
 * buyer. The buyer may take the price back from a token that can no longer print: issued and
 * expired (or its printer revoked), or printing and silent for 24 h (its server vanished).
 */

/** Whether `signature` (hex) is the ed25519 signature of `message` by the key of `address`. */
function signedBy(address: string, signature: string, message: Uint8Array): boolean {
  return verify(fromHex(signature), message, publicKeyFromAddress(address));
}

/**
 * The designer's and the platform's parts of `amount`: largest remainder between the designer
 * (first: a tie goes to the designer) and the platform, so the parts add up to `amount` and the
 * platform's is within 1 unit of amount × bp / 10000.
 */
function designerAndPlatform(amount: bigint, platformShareBp: number): [bigint, bigint] {
  return splitByWeights(amount, [platformShareWhole - platformShareBp, platformShareBp]) as [
    bigint,
    bigint,
  ];
}

/** What a refund pays: the undelivered share to the buyer, the rest split as a finish splits. */
export interface RefundParts {
  buyer: bigint;
  designer: bigint;
  platform: bigint;
}

/**
 * The parts of a refund of `price` after `delivered` percent of the print was written to the
 * printer: the buyer gets floor(price × (100 − delivered) / 100), the designer and the platform
 * share the rest by the token's platform share. The parts add up to the price.
 */
export function refundParts(
  price: bigint,
  delivered: number,
  platformShareBp: number,
): RefundParts {
  const buyer = (price * BigInt(100 - delivered)) / 100n;
  const [designer, platform] = designerAndPlatform(price - buyer, platformShareBp);
  return { buyer, designer, platform };
}

/** Pays `parts` out of `token`'s escrow (zero parts skipped); a ledger refusal is returned. */
function payOut(
  ctx: TxContext,
  token: PrintTokenRecord,
  parts: readonly (readonly [string, bigint])[],
): string | undefined {
  const escrow = tokenEscrow(token.tokenId);
  for (const [to, part] of parts) {
    if (part === 0n) continue;
    const paid = ctx.ledger.transfer(escrow, to, token.price.asset, part);
    if (paid) return paid;
  }
  return undefined;
}

/** What every event about a print token starts with: the token, its design, printer and buyer. */
function tokenFacts(token: PrintTokenRecord) {
  return {
    tokenId: token.tokenId,
    designId: token.designId,
    printerId: token.printerId,
    buyer: token.buyer,
  };
}

/**
 * Refunds `token` (refund rule): the buyer gets the undelivered share of the escrow, the designer
 * and the platform the delivered share; the design gets the print back (`sold` − 1). A ledger
 * refusal (never expected) is returned.
 */
function refunded(
  ctx: TxContext,
  token: PrintTokenRecord,
  why: 'failed' | 'cancelled',
): string | undefined {
  const parts = refundParts(BigInt(token.price.amount), token.delivered, token.platformShareBp);
  const moved = payOut(ctx, token, [
    [token.buyer, parts.buyer],
    [token.designer, parts.designer],
    [token.server, parts.platform],
  ]);
  if (moved) return moved;
  const refund = {
    buyer: parts.buyer.toString(),
    designer: parts.designer.toString(),
    platform: parts.platform.toString(),
  };
  writeToken(ctx.state, { ...token, status: 'refunded', endedAt: ctx.time, refund });
  const design = readDesign(ctx.state, token.designId);
  if (design && design.sold > 0) writeDesign(ctx.state, { ...design, sold: design.sold - 1 });
  ctx.emit('print.refunded', {
    ...tokenFacts(token),
    asset: token.price.asset,
    amount: refund.buyer,
    designerAmount: refund.designer,
    platformAmount: refund.platform,
    delivered: token.delivered,
    why,
  });
  return undefined;
}

/** The token named, and whether the sender is its server. */
function serverToken(
  ctx: TxContext,
  tokenId: string,
): PrintTokenRecord | 'print_token_not_found' | 'not_token_server' {
  const token = readToken(ctx.state, tokenId);
  if (!token) return 'print_token_not_found';
  if (token.server !== ctx.sender) return 'not_token_server';
  return token;
}

/**
 * The token a print report names, if the sender is its server and it is printing; else why not
 * (the report of a print needs one that is).
 */
function printingToken(ctx: TxContext, tokenId: string): PrintTokenRecord | PrintingRejection {
  const token = serverToken(ctx, tokenId);
  if (typeof token === 'string') return token;
  if (token.status === 'printing') return token;
  return token.status === 'issued' ? 'token_not_printing' : 'token_closed';
}

/** `token` with `delivered` as its attempt's share, and the largest share over its attempts. */
function delivering(token: PrintTokenRecord, delivered: number): PrintTokenRecord {
  return {
    ...token,
    attemptDelivered: delivered,
    delivered: Math.max(token.delivered, delivered),
  };
}

type ReportType = 'print.progress' | 'print.finish' | 'print.fail';

/** A print server's report on a print (progress, finish, fail): about a printing token of its own. */
function reportTx<T extends ReportType>(
  type: T,
  execute: (
    ctx: TxContext,
    p: z.output<(typeof printingPayloads)[T]>,
    token: PrintTokenRecord,
  ) => string | undefined,
): TxDefinition<never> {
  return defineTxOf(printingPayloads[type], {
    execute: (ctx, p) => {
      const token = printingToken(ctx, p.tokenId);
      if (typeof token === 'string') return token;
      return execute(ctx, p, token);
    },
  });
}

const printerTxs: Record<string, TxDefinition<never>> = {
  'printing.hwid': defineTxOf(printingPayloads['printing.hwid'], {
    execute: (ctx, p): PrintingRejection | undefined => {
      if (p.hardwareId !== hardwareIdOf(ctx.sender, p.deviceKeyHash)) return 'hwid_mismatch';
      if (readHwid(ctx.state, p.hardwareId)) return 'hwid_exists';
      writeHwid(ctx.state, {
        hardwareId: p.hardwareId,
        authority: ctx.sender,
        deviceKeyHash: p.deviceKeyHash,
        issuedAt: ctx.time,
        height: ctx.height,
        tx: ctx.txHash,
      });
      ctx.emit('printing.hwidIssued', {
        hardwareId: p.hardwareId,
        authority: ctx.sender,
        deviceKeyHash: p.deviceKeyHash,
      });
      return undefined;
    },
  }),
  'printer.register': defineTxOf(printingPayloads['printer.register'], {
    execute: (ctx, p): PrintingRejection | undefined => {
      const hwid = readHwid(ctx.state, p.hardwareId);
      if (!hwid) return 'hwid_not_found';
      if (readPrinter(ctx.state, p.printerId)) return 'printer_exists';
      // The device's consent: only the holder of the SBC's key may have its id registered.
      if (deviceKeyHashOf(p.deviceKey) !== hwid.deviceKeyHash) return 'device_key_mismatch';
      const profileHash = profileHashOf(p.profile);
      const deviceMessage = printerDeviceMessage(
        ctx.chainId,
        p.hardwareId,
        ctx.sender,
        p.owner,
        profileHash,
      );
      if (!verify(fromHex(p.deviceProof), deviceMessage, fromHex(p.deviceKey))) {
        return 'device_proof_invalid';
      }
      if (activePrinterOf(ctx.state, p.hardwareId) !== undefined) return 'hwid_registered';
      const message = printerRegistrationMessage(
        ctx.chainId,
        p.hardwareId,
        ctx.sender,
        profileHash,
      );
      if (!signedBy(p.owner, p.ownerProof, message)) return 'owner_proof_invalid';
      if (activePrintersOf(ctx.state, p.owner) >= printersPerOwnerMax) return 'owner_printers_full';
      const record: PrinterRecord = {
        printerId: p.printerId,
        hardwareId: p.hardwareId,
        owner: p.owner,
        server: ctx.sender,
        clientId: p.clientId,
        certFingerprint: p.certFingerprint,
        profile: p.profile,
        profileHash,
        status: 'active',
        registeredAt: ctx.time,
        height: ctx.height,
        tx: ctx.txHash,
      };
      writePrinter(ctx.state, record);
      ctx.emit('printer.registered', {
        printerId: p.printerId,
        hardwareId: p.hardwareId,
        owner: p.owner,
        server: ctx.sender,
        clientId: p.clientId,
        certFingerprint: p.certFingerprint,
        profileHash,
      });
      return undefined;
    },
  }),
  'printer.revoke': defineTxOf(printingPayloads['printer.revoke'], {
    execute: (ctx, p): PrintingRejection | undefined => {
      const printer = readPrinter(ctx.state, p.printerId);
      if (!printer) return 'printer_not_found';
      if (ctx.sender !== printer.server && ctx.sender !== printer.owner) {
        return 'not_printer_server_or_owner';
      }
      if (printer.status === 'revoked') return 'printer_revoked';
      writePrinter(ctx.state, {
        ...printer,
        status: 'revoked',
        revokedAt: ctx.time,
        revokedBy: ctx.sender,
      });
      ctx.emit('printer.revoked', {
        printerId: p.printerId,
        hardwareId: printer.hardwareId,
        owner: printer.owner,
        server: printer.server,
        certFingerprint: printer.certFingerprint,
        by: ctx.sender,
      });
      return undefined;
    },
  }),
};

const designTxs: Record<string, TxDefinition<never>> = {
  'design.list': defineTxOf(printingPayloads['design.list'], {
    execute: (ctx, p): PrintingRejection | undefined => {
      if (p.designId !== designIdOf(p.server, ctx.sender, p.contentHash)) {
        return 'design_id_mismatch';
      }
      if (readDesign(ctx.state, p.designId)) return 'design_exists';
      const message = designUploadMessage(
        ctx.chainId,
        p.designId,
        ctx.sender,
        p.contentHash,
        p.lines,
        p.sizeBytes,
        p.bbox,
        p.platformShareBp,
      );
      if (!signedBy(p.server, p.serverProof, message)) return 'server_proof_invalid';
      if (!ctx.ledger.asset(p.price.asset)) return 'asset_not_found';
      writeDesign(ctx.state, {
        designId: p.designId,
        designer: ctx.sender,
        server: p.server,
        title: p.title,
        contentHash: p.contentHash,
        sizeBytes: p.sizeBytes,
        lines: p.lines,
        bbox: p.bbox,
        price: p.price,
        printsMax: p.printsMax,
        sold: 0,
        platformShareBp: p.platformShareBp,
        licence: p.licence,
        status: 'listed',
        listedAt: ctx.time,
        height: ctx.height,
        tx: ctx.txHash,
      });
      ctx.emit('design.listed', {
        designId: p.designId,
        designer: ctx.sender,
        server: p.server,
        title: p.title,
        contentHash: p.contentHash,
        asset: p.price.asset,
        amount: p.price.amount,
        printsMax: p.printsMax,
        platformShareBp: p.platformShareBp,
      });
      return undefined;
    },
  }),
  'design.update': defineTxOf(printingPayloads['design.update'], {
    check: (value) =>
      value.price === undefined && value.status === undefined
        ? reject('invalid_design_update', 'price')
        : undefined,
    execute: (ctx, p): PrintingRejection | undefined => {
      const design = readDesign(ctx.state, p.designId);
      if (!design) return 'design_not_found';
      if (design.designer !== ctx.sender) return 'not_designer';
      if (p.price !== undefined && !ctx.ledger.asset(p.price.asset)) return 'asset_not_found';
      const price = p.price ?? design.price;
      const status = p.status ?? design.status;
      writeDesign(ctx.state, { ...design, price, status, updatedAt: ctx.time });
      ctx.emit('design.updated', {
        designId: p.designId,
        designer: ctx.sender,
        asset: price.asset,
        amount: price.amount,
        status,
      });
      return undefined;
    },
  }),
};

const printTxs: Record<string, TxDefinition<never>> = {
  'print.buy': defineTxOf(printingPayloads['print.buy'], {
    execute: (ctx, p): string | undefined => {
      const design = readDesign(ctx.state, p.designId);
      if (!design) return 'design_not_found';
      const printer = readPrinter(ctx.state, p.printerId);
      if (!printer) return 'printer_not_found';
      if (printer.owner !== ctx.sender) return 'not_printer_owner';
      if (printer.status !== 'active') return 'printer_revoked';
      if (printer.server !== design.server) return 'printer_other_server';
      if (design.status !== 'listed') return 'design_unlisted';
      if (p.price.asset !== design.price.asset || p.price.amount !== design.price.amount) {
        return 'price_changed';
      }
      if (design.sold >= design.printsMax) return 'sold_out';
      if (!designFits(design.bbox, printer.profile)) return 'design_does_not_fit';
      if (outstandingTokensOf(ctx.state, ctx.sender) >= tokensPerBuyerMax) return 'tokens_full';
      const tokenId = ctx.txHash;
      const amount = BigInt(design.price.amount);
      const paid = ctx.ledger.transfer(
        ctx.sender,
        tokenEscrow(tokenId),
        design.price.asset,
        amount,
      );
      if (paid) return paid;
      writeDesign(ctx.state, { ...design, sold: design.sold + 1 });
      const token: PrintTokenRecord = {
        tokenId,
        designId: p.designId,
        printerId: p.printerId,
        buyer: ctx.sender,
        server: design.server,
        designer: design.designer,
        price: design.price,
        platformShareBp: design.platformShareBp,
        boughtAt: ctx.time,
        expiresAt: ctx.time + tokenLifetimeMs,
        status: 'issued',
        attempts: 0,
        failures: 0,
        percent: 0,
        delivered: 0,
        attemptDelivered: 0,
        height: ctx.height,
        tx: ctx.txHash,
      };
      writeToken(ctx.state, token);
      ctx.emit('print.bought', {
        tokenId,
        designId: p.designId,
        printerId: p.printerId,
        buyer: ctx.sender,
        server: design.server,
        asset: design.price.asset,
        amount: design.price.amount,
        expiresAt: token.expiresAt,
      });
      return undefined;
    },
  }),
  'print.start': defineTxOf(printingPayloads['print.start'], {
    execute: (ctx, p): PrintingRejection | undefined => {
      const token = serverToken(ctx, p.tokenId);
      if (typeof token === 'string') return token;
      if (token.status === 'printing' || token.status === 'finished') return 'token_redeemed';
      if (token.status === 'refunded') return 'token_closed';
      if (ctx.time >= token.expiresAt) return 'token_expired';
      if (readPrinter(ctx.state, token.printerId)?.status !== 'active') return 'printer_revoked';
      writeToken(ctx.state, {
        ...token,
        status: 'printing',
        attempts: token.attempts + 1,
        percent: 0,
        attemptDelivered: 0,
        startedAt: ctx.time,
        progressAt: ctx.time,
        watermarkCommitment: p.watermarkCommitment,
      });
      ctx.emit('print.started', {
        ...tokenFacts(token),
        attempt: token.attempts + 1,
        watermarkCommitment: p.watermarkCommitment,
      });
      return undefined;
    },
  }),
  'print.progress': reportTx('print.progress', (ctx, p, token): PrintingRejection | undefined => {
    if (p.percent < token.percent) return 'progress_backwards';
    if (p.delivered < token.attemptDelivered) return 'delivered_backwards';
    writeToken(ctx.state, {
      ...delivering(token, p.delivered),
      percent: p.percent,
      progressAt: ctx.time,
    });
    ctx.emit('print.progress', {
      tokenId: p.tokenId,
      printerId: token.printerId,
      buyer: token.buyer,
      percent: p.percent,
      delivered: p.delivered,
    });
    return undefined;
  }),
  'print.finish': reportTx('print.finish', (ctx, p, token): string | undefined => {
    const [designerPart, platformPart] = designerAndPlatform(
      BigInt(token.price.amount),
      token.platformShareBp,
    );
    const moved = payOut(ctx, token, [
      [token.designer, designerPart],
      [token.server, platformPart],
    ]);
    if (moved) return moved;
    const paid = { platform: platformPart.toString(), designer: designerPart.toString() };
    writeToken(ctx.state, {
      ...token,
      status: 'finished',
      percent: 100,
      endedAt: ctx.time,
      progressAt: ctx.time,
      paid,
    });
    ctx.emit('print.finished', {
      ...tokenFacts(token),
      designer: token.designer,
      server: token.server,
      asset: token.price.asset,
      designerAmount: paid.designer,
      platformAmount: paid.platform,
    });
    return undefined;
  }),
  'print.fail': reportTx('print.fail', (ctx, p, token): string | undefined => {
    if (p.delivered < token.attemptDelivered) return 'delivered_backwards';
    const failures = token.failures + 1;
    const failed: PrintTokenRecord = {
      ...delivering(token, p.delivered),
      failures,
      failReason: p.reason,
      failPercent: p.percent,
      progressAt: ctx.time,
    };
    const refunds = failures >= failuresBeforeRefund;
    ctx.emit('print.failed', {
      ...tokenFacts(token),
      percent: p.percent,
      delivered: p.delivered,
      reason: p.reason,
      failures,
      outcome: refunds ? 'refunded' : 'reissued',
    });
    if (refunds) return refunded(ctx, failed, 'failed');
    writeToken(ctx.state, {
      ...failed,
      status: 'issued',
      percent: 0,
      expiresAt: ctx.time + tokenLifetimeMs,
    });
    return undefined;
  }),
  'print.cancel': defineTxOf(printingPayloads['print.cancel'], {
    execute: (ctx, p): string | undefined => {
      const token = readToken(ctx.state, p.tokenId);
      if (!token) return 'print_token_not_found';
      if (token.buyer !== ctx.sender) return 'not_buyer';
      if (token.status === 'finished' || token.status === 'refunded') return 'token_closed';
      const cancellable =
        token.status === 'issued'
          ? ctx.time >= token.expiresAt ||
            readPrinter(ctx.state, token.printerId)?.status !== 'active'
          : ctx.time >= (token.progressAt ?? token.boughtAt) + progressStaleMs ||
            ctx.time >= (token.startedAt ?? token.boughtAt) + printMaxMs;
      if (!cancellable) return 'token_not_cancellable';
      return refunded(ctx, token, 'cancelled');
    },
  }),
};

/** The module's tx types, in the order of the payload schemas. */
export const printingTxs: Record<string, TxDefinition<never>> = Object.fromEntries(
  Object.keys(printingPayloads).map((type) => {
    const definition = printerTxs[type] ?? designTxs[type] ?? printTxs[type];
    if (definition === undefined) throw new Error(`printing: no handler for ${type}`);
    return [type, definition];
  }),
);
