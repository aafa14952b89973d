import fs from 'node:fs';
import path from 'node:path';
import { toHex } from '../../crypto/index.js';
import { randomBytes } from './crypto.js';

/*
 * The card element's file I/O (device.ts holds its logic): durable replacement of the one file,
 * and a lock so that two device processes never work on one element at once (two `pay` commands
 * reading the same activated token would otherwise both compute a cryptogram with it).
 */

/** Crash points a test may inject: a hook that throws stops the operation there, as a kill would. */
export interface ElementWriteHooks {
  /** The new element is written and fsynced in its temporary file, not yet renamed over. */
  beforeRename?(): void;
  /** The new element has replaced the old one durably (renamed, directory fsynced). */
  afterWrite?(): void;
}

function fsyncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = fs.openSync(dir, 'r');
  } catch {
    // A directory that cannot be opened for fsync (some platforms): the rename is still atomic.
    return;
  }
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

const temporarySuffix = '.tmp-';

/**
 * Replaces `file` with `text` so that a crash at any point leaves the old file or the new one,
 * never a mix: a temporary file in the same directory (mode 0600), fsync, rename over `file` (or,
 * `exclusive`, link to it, which fails when `file` exists), fsync of the directory.
 */
export function writeElementFile(
  file: string,
  text: string,
  options: { exclusive?: boolean; hooks?: ElementWriteHooks } = {},
): void {
  const temp = `${file}${temporarySuffix}${toHex(randomBytes(6))}`;
  const fd = fs.openSync(temp, 'wx', 0o600);
  try {
    try {
      fs.writeFileSync(fd, text);
      // The umask cannot widen 0600, but an odd platform or a reused inode might: chmod again.
      fs.fchmodSync(fd, 0o600);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    options.hooks?.beforeRename?.();
    if (options.exclusive) fs.linkSync(temp, file);
    else fs.renameSync(temp, file);
  } finally {
    fs.rmSync(temp, { force: true });
  }
  fsyncDirectory(path.dirname(file));
  options.hooks?.afterWrite?.();
}

/** Temporary files a crash left beside `file` (each a whole old or new element, or less). */
export function removeTemporaryFiles(file: string): void {
  const dir = path.dirname(file);
  const prefix = path.basename(file) + temporarySuffix;
  for (const name of fs.readdirSync(dir)) {
    if (name.startsWith(prefix)) fs.rmSync(path.join(dir, name), { force: true });
  }
}

/** True when process `pid` is alive on this machine. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `work` holding `file.lock` (created exclusively, holding this process's id). A lock whose
 * process is gone (a crash) is taken over; a live one answers `undefined` and `work` does not run.
 * The lock serialises processes on one machine; the element is not meant to be shared further.
 */
export function withElementLock<T>(
  file: string,
  work: () => T,
): { done: true; value: T } | undefined {
  const lock = `${file}.lock`;
  let fd: number | undefined;
  for (let attempt = 0; attempt < 2 && fd === undefined; attempt += 1) {
    try {
      fd = fs.openSync(lock, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(readSmall(lock), 10);
      if (Number.isSafeInteger(holder) && holder > 0 && processAlive(holder)) return undefined;
      fs.rmSync(lock, { force: true });
    }
  }
  if (fd === undefined) return undefined;
  try {
    fs.writeFileSync(fd, String(process.pid));
  } finally {
    fs.closeSync(fd);
  }
  try {
    removeTemporaryFiles(file);
    return { done: true, value: work() };
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

function readSmall(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').slice(0, 32);
  } catch {
    return '';
  }
}
