import fs from 'node:fs';
import { gcm } from '@noble/ciphers/aes.js';
import { scrypt } from '@noble/hashes/scrypt.js';
import { canonicalBytes, fromHex, toHex, utf8 } from '../../crypto/index.js';
import { randomBytes } from './crypto.js';
import {
  removeTemporaryFiles,
  withElementLock,
  writeElementFile,
  type ElementLockHooks,
  type ElementWriteHooks,
} from './device-file.js';
import { cardTokensMaxLimit, type CardRecord, type TerminalRequest } from './schema.js';

export type { ElementLockHooks, ElementWriteHooks } from './device-file.js';

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
 *
 * At the device's interface the count holds whatever the crash point: it is raised durably before
 * scrypt runs and lowered only after the PIN opened the contents, as a smart card decrements its
 * retry counter before it compares the PIN, so killing the process once the PIN was tried never
 * saves a try. The element's path must be a regular file with one link: through a symbolic link
 * or a second hard link, the rename that writes the count or the wipe would replace the link and
 * leave the real file, with its count and contents, where it was (`element_not_regular`).
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
  element_not_regular:
    'The element path is a symbolic link, has more than one hard link or is not a file.',
  invalid_card: 'The card record is not one the issuer serves.',
  card_mismatch: 'The node answered a record for another card.',
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

const notRegular = (file: string): never =>
  fail(
    'element_not_regular',
    `${file} is a symbolic link, has more than one hard link or is not a file: ` +
      'the element must be one regular file (its count and wipe replace that path)',
  );

/** Refuses a path that is not a regular file with one link (a symbolic link, a hard link). */
function checkRegular(file: string, stat: fs.Stats): void {
  if (stat.isSymbolicLink() || !stat.isFile() || stat.nlink !== 1) notRegular(file);
}

/**
 * The element file's text, read from a regular file with one link: checked with `lstat` (a
 * symbolic link is never followed), then opened with O_NOFOLLOW where the platform has it and
 * checked again on the open descriptor, so a link swapped in between is refused too.
 */
function readElementText(file: string): string {
  let fd: number;
  try {
    checkRegular(file, fs.lstatSync(file));
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return fail('element_missing');
    if (code === 'ELOOP') return notRegular(file);
    throw error;
  }
  try {
    checkRegular(file, fs.fstatSync(fd));
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}

function headerText(header: ElementFile): string {
  return JSON.stringify(header, null, 2) + '\n';
}

function seal(header: ElementFile, key: Uint8Array, contents: ElementContents): string {
  const iv = randomBytes(ivBytes);
  const ciphertext = gcm(key, iv, aad(header)).encrypt(utf8(JSON.stringify(contents)));
  const sealed: ElementFile = { ...header, iv: toHex(iv), ciphertext: toHex(ciphertext) };
  return JSON.stringify(sealed, null, 2) + '\n';
}

/** Options every operation takes: the crash and race points a test injects. */
export interface ElementOptions {
  /**
   * Crash points of the writes after the PIN was tried: the operation's write (which resets the
   * retry count), the reset of a read-only or refused operation, or the wipe.
   */
  hooks?: ElementWriteHooks;
  /** Crash points of the write that counts the try, before the PIN is tried. */
  countHooks?: ElementWriteHooks;
  lockHooks?: ElementLockHooks;
}

/**
 * Opens the element with `pin` under its lock, lets `work` compute the next contents (or none:
 * nothing to write), writes the contents once, and only then computes the answer.
 *
 * The PIN retry count, in the order a smart card keeps it: the count is raised and written
 * durably before scrypt runs (it is outside the associated data, so the ciphertext stays valid);
 * a PIN that opens the contents lowers it to 0 in the write the operation does (or, for a
 * read-only operation or a refused one, a write of its own); a wrong one leaves it raised. So a
 * process killed at any point after the PIN was tried has counted the try. An element whose count
 * reached `pinTriesMax` before a try (a process killed before its wipe) is wiped unopened, and the
 * `pinTriesMax`-th wrong PIN wipes it at once: ten wrong PINs wipe it, a right one after nine
 * opens it and resets the count.
 *
 * Every write checks first that the file is still the one this call read or last wrote
 * (`element_busy` otherwise: another writer got in).
 */
export function withElement<T>(
  file: string,
  pin: string,
  options: ElementOptions,
  work: (contents: ElementContents) => { next?: ElementContents; answer(): T },
): T {
  checkPin(pin);
  const locked = withElementLock(
    file,
    () => {
      let current = readElementText(file);
      const header = parseElementFile(current);
      const write = (text: string, hooks: ElementWriteHooks | undefined): void => {
        const expected = current;
        writeElementFile(file, text, {
          ...(hooks !== undefined && { hooks }),
          beforeReplace: () => {
            if (readElementText(file) !== expected) {
              fail(
                'element_busy',
                `the element ${file} changed since it was read: another process wrote it`,
              );
            }
          },
        });
        current = text;
      };
      const wipe = (): never => {
        write(wipedText(header), options.hooks);
        return fail('element_wiped');
      };
      if (header.wiped) return fail('element_wiped');
      if (header.failedPins >= pinTriesMax) return wipe();
      // The try is counted before the PIN is: a process killed after scrypt has paid for it.
      const failedPins = header.failedPins + 1;
      write(headerText({ ...header, failedPins }), options.countHooks);
      const key = pinKey(pin, header);
      let plain: Uint8Array;
      try {
        plain = gcm(key, fromHex(header.iv!, 'iv', ivBytes), aad(header)).decrypt(
          fromHex(header.ciphertext!, 'ciphertext', header.ciphertext!.length / 2),
        );
      } catch {
        if (failedPins >= pinTriesMax) return wipe();
        throw new CardDeviceError(
          'wrong_pin',
          `the PIN is wrong: ${pinTriesMax - failedPins} tries left before the element is wiped`,
          pinTriesMax - failedPins,
        );
      }
      const contents = JSON.parse(new TextDecoder().decode(plain)) as ElementContents;
      // A right PIN resets the count, even when the operation itself is refused. With nothing
      // new to seal, the same ciphertext is kept and only the count is written.
      const clean: ElementFile = { ...header, failedPins: 0 };
      let result: ReturnType<typeof work>;
      try {
        result = work(contents);
      } catch (error) {
        write(headerText(clean), options.hooks);
        throw error;
      }
      write(
        result.next === undefined ? headerText(clean) : seal(clean, key, result.next),
        options.hooks,
      );
      // The answer is computed only once the write is durable (see `pay`).
      return result.answer();
    },
    options.lockHooks,
  );
  if (!locked) {
    return fail(
      'element_busy',
      `another process is using the element (${file}.lock); if none is running, remove that file`,
    );
  }
  return locked.value;
}

function wipedText(header: ElementFile): string {
  const wiped: ElementFile = {
    format: header.format,
    salt: header.salt,
    N: header.N,
    r: header.r,
    p: header.p,
    failedPins: Math.max(header.failedPins, pinTriesMax),
    wiped: true,
  };
  return headerText(wiped);
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
  let existing: fs.Stats | undefined;
  try {
    existing = fs.lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  // A symbolic link (even a dangling one) is refused as such: an element is never written
  // through one.
  if (existing?.isSymbolicLink()) notRegular(file);
  if (existing) fail('element_exists');
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
