import fs from 'node:fs';
import { gcm } from '@noble/ciphers/aes.js';
import { scrypt } from '@noble/hashes/scrypt.js';
import { canonicalBytes, fromHex, toHex, utf8 } from '../../crypto/index.js';
import { randomBytes } from './crypto.js';
import {
  removeTemporaryFiles,
  withElementLock,
  writeElementFile,
  type ElementWriteHooks,
} from './device-file.js';
import { cardTokensMaxLimit, type CardRecord, type TerminalRequest } from './schema.js';

export type { ElementWriteHooks } from './device-file.js';

/*
 * The payment device's secure element (issue 18), in software: one file holding the device's keys
 * and its card tokens, sealed under the cardholder's PIN. This file holds its format, the PIN
 * check and the one way every operation opens and writes it (`withElement`); device.ts holds the
 * operations.
 *
 * The file is a JSON header in clear, {format, salt, N, r, p, failedPins, wiped, iv, ciphertext},
 * and the ciphertext is AES-256-GCM under scrypt(PIN, salt, N, r, p) of the contents' JSON, with
 * the header's fixed fields as associated data (`aad`).
 *
 * What a software element cannot do: a real secure element enforces its PIN retry counter in
 * hardware. Here `failedPins` is a field in clear in the file (it cannot be under the PIN's key:
 * it must be written when the PIN is wrong), so whoever can edit or copy the file can reset it and
 * keep guessing PINs offline at scrypt's price. The counter stops a thief at the device's own
 * interface, not one who has the file. Likewise a wipe replaces the file; it cannot promise that
 * the old bytes are gone from a journal or an SSD's spare blocks.
 */

export const elementFormat = 'coffer-card-element/v1';
/** scrypt's cost: 2^15 (32 MiB with r = 8) in use; tests may go down to 2^10. */
export const scryptLogNDefault = 15;
export const scryptLogNMin = 10;
const scryptLogNMax = 20;
export const pinTriesMax = 10;
/** Consumed token ids kept per card, so a re-imported batch cannot bring one back. */
export const consumedKeptMax = 1000;
/** Payment times kept per card for the replenishment forecast. */
export const paymentTimesKeptMax = 200;
export const cardsPerElementMax = 20;
const saltBytes = 16;
const ivBytes = 12;
const pinPattern = /^[0-9]{4,12}$/;

/** The element's refusals and faults, each a stable code (the CLI turns them into `CliError`s). */
export const deviceErrors = {
  invalid_pin: 'A PIN is 4 to 12 digits.',
  wrong_pin: 'The PIN is wrong.',
  element_wiped: `The element was wiped after ${pinTriesMax} wrong PINs; initialise a new one.`,
  element_exists: 'A file is already there; an element is never written over another file.',
  element_missing: 'No element at this path.',
  element_damaged: 'The file is not a card element, or it was altered.',
  element_busy: 'Another process is using the element.',
  invalid_card: 'The card record is not one the issuer serves.',
  card_closed: 'The card is closed.',
  too_many_cards: `An element holds at most ${cardsPerElementMax} cards.`,
  unknown_card: 'The element holds no such card.',
  batch_mismatch: 'The batch is for another card, device or chain.',
  batch_unopened: "The batch's keys do not open with this device's box key.",
  key_hash_mismatch: "A token's key is not the one the ledger recorded.",
  too_many_tokens: `A card holds at most ${cardTokensMaxLimit} unconsumed tokens.`,
  no_card_selected: 'No card is selected.',
  no_tokens: 'The selected card has no unconsumed, unexpired token.',
  invalid_terminal_request: "The terminal's request is not valid.",
  currency_mismatch: "The request's currency is not the card's asset.",
  counter_exhausted: "The device's transaction counter is at its end.",
} as const;
export type DeviceErrorCode = keyof typeof deviceErrors;

export class CardDeviceError extends Error {
  constructor(
    readonly code: DeviceErrorCode,
    message: string = deviceErrors[code],
    /** For `wrong_pin`: the tries left before the element is wiped. */
    readonly triesLeft?: number,
  ) {
    super(message);
  }
}

export const fail = (code: DeviceErrorCode, message?: string): never => {
  throw new CardDeviceError(code, message);
};

// ---- the contents ----------------------------------------------------------------------------------

export interface HeldToken {
  token: string;
  /** The token's 32-byte key, hex: only ever inside the ciphertext. */
  key: string;
  expiresAt: number;
}

export interface CardEntry {
  record: CardRecord;
  /** Unconsumed tokens, by expiry (earliest first). */
  tokens: HeldToken[];
  /** The last `consumedKeptMax` consumed token ids, oldest first. */
  consumed: string[];
  /** The last `paymentTimesKeptMax` payment times (ms), oldest first. */
  payments: number[];
}

/** The write-ahead record of the last payment: written before its cryptogram was computed. */
export interface PendingPayment {
  card: string;
  token: string;
  counter: number;
  request: TerminalRequest;
  at: number;
}

export interface ElementContents {
  chainId: string;
  nodeUrl?: string;
  deviceSecretKey: string;
  boxSecretKey: string;
  /** The application transaction counter: the last payment's (0 before any). */
  counter: number;
  cards: Record<string, CardEntry>;
  selected?: string;
  activated?: { card: string; token: string };
  pending?: PendingPayment;
}

/** The file: a header in clear and the contents sealed under the PIN. */
interface ElementFile {
  format: typeof elementFormat;
  salt: string;
  N: number;
  r: number;
  p: number;
  failedPins: number;
  wiped: boolean;
  iv?: string;
  ciphertext?: string;
}

/**
 * The associated data: the header fields that never change (format, salt, scrypt parameters), so
 * none can be swapped without the contents failing to open. `failedPins` and `wiped` are left
 * out on purpose: they are written when the PIN is wrong, without the key.
 */
function aad(file: ElementFile): Uint8Array {
  return canonicalBytes({
    format: file.format,
    salt: file.salt,
    N: String(file.N),
    r: String(file.r),
    p: String(file.p),
  });
}

function pinKey(pin: string, file: ElementFile): Uint8Array {
  return scrypt(utf8(pin), fromHex(file.salt, 'salt', saltBytes), {
    N: file.N,
    r: file.r,
    p: file.p,
    dkLen: 32,
  });
}

export function checkPin(pin: string): void {
  if (typeof pin !== 'string' || !pinPattern.test(pin)) fail('invalid_pin');
}

function parseElementFile(text: string): ElementFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return fail('element_damaged', 'the element file is not JSON');
  }
  const f = json as Partial<ElementFile> | null;
  const power = typeof f?.N === 'number' ? Math.log2(f.N) : NaN;
  const ok =
    f !== null &&
    typeof f === 'object' &&
    f.format === elementFormat &&
    typeof f.salt === 'string' &&
    /^[0-9a-f]{32}$/.test(f.salt) &&
    Number.isInteger(power) &&
    power >= scryptLogNMin &&
    power <= scryptLogNMax &&
    f.r === 8 &&
    f.p === 1 &&
    Number.isSafeInteger(f.failedPins) &&
    f.failedPins! >= 0 &&
    typeof f.wiped === 'boolean' &&
    (f.wiped ||
      (typeof f.iv === 'string' &&
        /^[0-9a-f]{24}$/.test(f.iv) &&
        typeof f.ciphertext === 'string' &&
        /^([0-9a-f]{2})+$/.test(f.ciphertext)));
  if (!ok) fail('element_damaged', 'the element file is not a coffer-card-element/v1 element');
  return f as ElementFile;
}

function readElementFile(file: string): ElementFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fail('element_missing');
    throw error;
  }
  return parseElementFile(text);
}

function seal(header: ElementFile, key: Uint8Array, contents: ElementContents): string {
  const iv = randomBytes(ivBytes);
  const ciphertext = gcm(key, iv, aad(header)).encrypt(utf8(JSON.stringify(contents)));
  const sealed: ElementFile = { ...header, iv: toHex(iv), ciphertext: toHex(ciphertext) };
  return JSON.stringify(sealed, null, 2) + '\n';
}

/** Options every operation takes: the crash points a test injects. */
export interface ElementOptions {
  hooks?: ElementWriteHooks;
}

/**
 * Opens the element with `pin` under its lock, lets `work` compute the next contents (or none:
 * nothing to write), writes the contents once, and only then computes the answer. A wrong PIN is counted durably
 * before it is answered; the `pinTriesMax`-th wipes the element.
 */
export function withElement<T>(
  file: string,
  pin: string,
  options: ElementOptions,
  work: (contents: ElementContents) => { next?: ElementContents; answer(): T },
): T {
  checkPin(pin);
  const locked = withElementLock(file, () => {
    const header = readElementFile(file);
    if (header.wiped || header.failedPins >= pinTriesMax) {
      if (!header.wiped) wipe(file, header, options);
      return fail('element_wiped');
    }
    const key = pinKey(pin, header);
    let plain: Uint8Array;
    try {
      plain = gcm(key, fromHex(header.iv!, 'iv', ivBytes), aad(header)).decrypt(
        fromHex(header.ciphertext!, 'ciphertext', header.ciphertext!.length / 2),
      );
    } catch {
      const failedPins = header.failedPins + 1;
      if (failedPins >= pinTriesMax) {
        wipe(file, header, options);
        return fail('element_wiped');
      }
      writeElementFile(file, JSON.stringify({ ...header, failedPins }, null, 2) + '\n', options);
      throw new CardDeviceError(
        'wrong_pin',
        `the PIN is wrong: ${pinTriesMax - failedPins} tries left before the element is wiped`,
        pinTriesMax - failedPins,
      );
    }
    const contents = JSON.parse(new TextDecoder().decode(plain)) as ElementContents;
    // A right PIN resets the count, even when the operation itself is refused.
    const cleanHeader = { ...header, failedPins: 0 };
    let result: ReturnType<typeof work>;
    try {
      result = work(contents);
    } catch (error) {
      if (header.failedPins !== 0)
        writeElementFile(file, seal(cleanHeader, key, contents), options);
      throw error;
    }
    if (result.next !== undefined || header.failedPins !== 0) {
      writeElementFile(file, seal(cleanHeader, key, result.next ?? contents), options);
    }
    // The answer is computed only once the write is durable (see `pay`).
    return result.answer();
  });
  if (!locked) {
    return fail(
      'element_busy',
      `another process is using the element (${file}.lock); if none is running, remove that file`,
    );
  }
  return locked.value;
}

function wipe(file: string, header: ElementFile, options: ElementOptions): void {
  const wiped: ElementFile = {
    format: header.format,
    salt: header.salt,
    N: header.N,
    r: header.r,
    p: header.p,
    failedPins: Math.max(header.failedPins, pinTriesMax),
    wiped: true,
  };
  writeElementFile(file, JSON.stringify(wiped, null, 2) + '\n', options);
}

/**
 * Writes a new element holding `contents` under `pin`, scrypt at 2^`scryptLogN`. Never overwrites
 * a file (`element_exists`).
 */
export function createElementFile(
  file: string,
  pin: string,
  contents: ElementContents,
  options: ElementOptions & { scryptLogN?: number } = {},
): void {
  checkPin(pin);
  const logN = options.scryptLogN ?? scryptLogNDefault;
  if (!Number.isInteger(logN) || logN < scryptLogNMin || logN > scryptLogNMax) {
    throw new RangeError(`scryptLogN must be from ${scryptLogNMin} to ${scryptLogNMax}`);
  }
  if (fs.existsSync(file)) fail('element_exists');
  const header: ElementFile = {
    format: elementFormat,
    salt: toHex(randomBytes(saltBytes)),
    N: 2 ** logN,
    r: 8,
    p: 1,
    failedPins: 0,
    wiped: false,
  };
  const text = seal(header, pinKey(pin, header), contents);
  try {
    writeElementFile(file, text, { ...options, exclusive: true });
  } catch (error) {
    removeTemporaryFiles(file);
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') fail('element_exists');
    throw error;
  }
}
