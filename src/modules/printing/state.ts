import { canonicalize } from '../../crypto/index.js';
import { escrowAddress } from '../../ledger/index.js';
import type { StateReader, StateView } from '../../state/index.js';
import type {
  DesignRecord,
  DesignStatus,
  HwidRecord,
  PrinterRecord,
  RevocationRecord,
  PrintTokenRecord,
  PrintTokenStatus,
} from './schema.js';

/**
 * The module's name and state namespace: every key below starts with `printing/`. Records are
 * canonical JSON, one bounded value each (a profile's G-code is 2 × 2048 characters at most);
 * indexes are empty values under keys that sort the way the routes list them; counters are
 * decimal text (absent when 0).
 */
export const printingModuleName = 'printing';

/** Digits of a revocation's sequence number in its key, so keys sort in revocation order. */
const seqDigits = 12;

export const printingKeys = {
  hwid: (hardwareId: string) => `printing/hwid/${hardwareId}`,
  /** The active printer of a hardware id (absent when none: the id may register again). */
  hwidPrinter: (hardwareId: string) => `printing/hwid-printer/${hardwareId}`,
  printer: (printerId: string) => `printing/printer/${printerId}`,
  /** An owner's printers (active and revoked), in printerId order. */
  byOwner: (owner: string, printerId: string) => `printing/by-owner/${owner}/${printerId}`,
  byOwnerPrefix: (owner: string) => `printing/by-owner/${owner}/`,
  /** How many active printers an owner has (`printersPerOwnerMax`). */
  ownerActive: (owner: string) => `printing/owner-active/${owner}`,
  /** A server's revoked printers in revocation order (its CRL's source). */
  revocation: (server: string, seq: number) =>
    `printing/revocation/${server}/${String(seq).padStart(seqDigits, '0')}`,
  revocationPrefix: (server: string) => `printing/revocation/${server}/`,
  revocationCount: (server: string) => `printing/revocation-count/${server}`,
  design: (designId: string) => `printing/design/${designId}`,
  designPrefix: 'printing/design/',
  /** Designs by status, in designId order (the store lists the 'listed' ones). */
  designByStatus: (status: DesignStatus, designId: string) =>
    `printing/designs/${status}/${designId}`,
  designByStatusPrefix: (status: DesignStatus) => `printing/designs/${status}/`,
  /** A server's designs (all, and by status), in designId order. */
  serverDesign: (server: string, designId: string) =>
    `printing/server-designs/${server}/all/${designId}`,
  serverDesignPrefix: (server: string) => `printing/server-designs/${server}/all/`,
  serverDesignByStatus: (server: string, status: DesignStatus, designId: string) =>
    `printing/server-designs/${server}/${status}/${designId}`,
  serverDesignByStatusPrefix: (server: string, status: DesignStatus) =>
    `printing/server-designs/${server}/${status}/`,
  token: (tokenId: string) => `printing/token/${tokenId}`,
  tokenPrefix: 'printing/token/',
  /** A buyer's tokens (all statuses), in tokenId order. */
  byBuyer: (buyer: string, tokenId: string) => `printing/by-buyer/${buyer}/${tokenId}`,
  byBuyerPrefix: (buyer: string) => `printing/by-buyer/${buyer}/`,
  /** How many outstanding ('issued' or 'printing') tokens a buyer holds (`tokensPerBuyerMax`). */
  buyerOutstanding: (buyer: string) => `printing/buyer-open/${buyer}`,
};

/** The escrow account of a token's price: no key controls it. */
export function tokenEscrow(tokenId: string): string {
  return escrowAddress(printingModuleName, tokenId);
}

function readJson<T>(state: StateReader, key: string): T | undefined {
  const text = state.get(key);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

function writeJson(state: StateView, key: string, value: unknown): void {
  state.set(key, canonicalize(value));
}

function readCount(state: StateReader, key: string): number {
  return Number(state.get(key) ?? '0');
}

function writeCount(state: StateView, key: string, count: number): void {
  if (count === 0) state.delete(key);
  else state.set(key, String(count));
}

// ---- hardware ids --------------------------------------------------------------------------------

export function readHwid(state: StateReader, hardwareId: string): HwidRecord | undefined {
  return readJson(state, printingKeys.hwid(hardwareId));
}

export function writeHwid(state: StateView, record: HwidRecord): void {
  writeJson(state, printingKeys.hwid(record.hardwareId), record);
}

/** The active printer of a hardware id, if any. */
export function activePrinterOf(state: StateReader, hardwareId: string): string | undefined {
  return state.get(printingKeys.hwidPrinter(hardwareId));
}

// ---- printers ------------------------------------------------------------------------------------

export function readPrinter(state: StateReader, printerId: string): PrinterRecord | undefined {
  return readJson(state, printingKeys.printer(printerId));
}

export function activePrintersOf(state: StateReader, owner: string): number {
  return readCount(state, printingKeys.ownerActive(owner));
}

/**
 * Writes a printer, keeping its indexes in step with its status: the owner index always, the
 * hardware id's active printer and the owner's active count while active; a revocation (the
 * status turning 'revoked') appends it to its server's revocation list.
 */
export function writePrinter(state: StateView, record: PrinterRecord): void {
  const before = readPrinter(state, record.printerId);
  writeJson(state, printingKeys.printer(record.printerId), record);
  state.set(printingKeys.byOwner(record.owner, record.printerId), '');
  const wasActive = before?.status === 'active';
  const isActive = record.status === 'active';
  if (wasActive === isActive) return;
  const active = printingKeys.ownerActive(record.owner);
  writeCount(state, active, readCount(state, active) + (isActive ? 1 : -1));
  if (isActive) {
    state.set(printingKeys.hwidPrinter(record.hardwareId), record.printerId);
    return;
  }
  state.delete(printingKeys.hwidPrinter(record.hardwareId));
  const countKey = printingKeys.revocationCount(record.server);
  const seq = readCount(state, countKey) + 1;
  writeCount(state, countKey, seq);
  const revocation: RevocationRecord = {
    seq,
    printerId: record.printerId,
    clientId: record.clientId,
    certFingerprint: record.certFingerprint,
    revokedAt: record.revokedAt ?? 0,
  };
  writeJson(state, printingKeys.revocation(record.server, seq), revocation);
}

// ---- designs -------------------------------------------------------------------------------------

export function readDesign(state: StateReader, designId: string): DesignRecord | undefined {
  return readJson(state, printingKeys.design(designId));
}

/** Writes a design and moves its status indexes when its status changed. */
export function writeDesign(state: StateView, record: DesignRecord): void {
  const before = readDesign(state, record.designId);
  writeJson(state, printingKeys.design(record.designId), record);
  state.set(printingKeys.serverDesign(record.server, record.designId), '');
  if (before?.status === record.status) return;
  if (before) {
    state.delete(printingKeys.designByStatus(before.status, record.designId));
    state.delete(printingKeys.serverDesignByStatus(record.server, before.status, record.designId));
  }
  state.set(printingKeys.designByStatus(record.status, record.designId), '');
  state.set(printingKeys.serverDesignByStatus(record.server, record.status, record.designId), '');
}

// ---- tokens --------------------------------------------------------------------------------------

export function readToken(state: StateReader, tokenId: string): PrintTokenRecord | undefined {
  return readJson(state, printingKeys.token(tokenId));
}

export function isOutstanding(status: PrintTokenStatus): boolean {
  return status === 'issued' || status === 'printing';
}

export function outstandingTokensOf(state: StateReader, buyer: string): number {
  return readCount(state, printingKeys.buyerOutstanding(buyer));
}

/** Writes a token, keeping the buyer index and the buyer's outstanding count in step. */
export function writeToken(state: StateView, record: PrintTokenRecord): void {
  const before = readToken(state, record.tokenId);
  writeJson(state, printingKeys.token(record.tokenId), record);
  state.set(printingKeys.byBuyer(record.buyer, record.tokenId), '');
  const was = before !== undefined && isOutstanding(before.status);
  const is = isOutstanding(record.status);
  if (was === is) return;
  const key = printingKeys.buyerOutstanding(record.buyer);
  writeCount(state, key, readCount(state, key) + (is ? 1 : -1));
}
