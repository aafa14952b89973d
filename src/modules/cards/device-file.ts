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
 *
 * `beforeReplace` runs just before the rename (after the `beforeRename` crash point): the caller
 * checks there that the file is still the one it read, and throws to leave it alone. It narrows,
 * it cannot close, the window in which another writer could get in (see `withElementLock`).
 */
export function writeElementFile(
  file: string,
  text: string,
  options: { exclusive?: boolean; hooks?: ElementWriteHooks; beforeReplace?: () => void } = {},
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
    options.beforeReplace?.();
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

/** What a lock file holds: the holder's pid and a nonce of its own, `"<pid> <nonce>"`. */
const lockPattern = /^([1-9][0-9]{0,9}) ([0-9a-f]{16})$/;

/** The pid a lock file names, or undefined when its text is not a lock this code writes. */
function lockHolder(text: string): number | undefined {
  const match = lockPattern.exec(text);
  const pid = match ? Number(match[1]) : NaN;
  return Number.isSafeInteger(pid) ? pid : undefined;
}

/** Crash and race points a test may inject into the lock. */
export interface ElementLockHooks {
  /** The lock was read as a dead process's, not yet renamed away: another process may act here. */
  beforeTakeover?(): void;
}

/** At most this many stale locks taken over in one acquisition (each a crashed holder). */
const takeoversMax = 3;

/**
 * Runs `work` holding `file.lock`, and answers `undefined` (`work` does not run) when another
 * live process holds it. The lock serialises processes on one machine; the element is not meant to
 * be shared further.
 *
 * - Taking it: this process's pid and a random nonce are written to a temporary file that is
 *   hard-linked to the lock path. The link is atomic and fails when the path exists, so a lock is
 *   never seen empty or half-written (an empty file would read as a dead holder's).
 * - A lock whose text is not `"<pid> <nonce>"` is held: only this code writes locks, and it never
 *   leaves one unfinished, so such a file is someone else's (or an older version's) and is not taken.
 * - A lock whose pid is dead (a crash) is taken over by renaming it to a name of our own and
 *   reading it again: only if it still holds the dead holder's text is it deleted and the lock
 *   taken afresh. If another process took it over first, the rename moved that process's live
 *   lock: it is linked back (never over a lock someone else took since) and we answer busy.
 * - Releasing: the lock is deleted only if it still holds our pid and nonce.
 *
 * What remains: in the moment a live lock is moved aside and linked back, a third process may
 * take the lock, and two processes then work at once. `writeElementFile`'s check that the element
 * is unchanged since it was read (`unchanged`) refuses the second writer's rename in that case.
 */
export function withElementLock<T>(
  file: string,
  work: () => T,
  hooks: ElementLockHooks = {},
): { done: true; value: T } | undefined {
  const lock = `${file}.lock`;
  const nonce = toHex(randomBytes(8));
  const ours = `${process.pid} ${nonce}`;
  let taken = false;
  for (let attempt = 0; attempt <= takeoversMax && !taken; attempt += 1) {
    if (linkNew(lock, ours, nonce)) {
      taken = true;
      break;
    }
    const seen = readSmall(lock);
    if (seen === undefined) continue; // released in between: try again
    const holder = lockHolder(seen);
    if (holder === undefined || processAlive(holder)) return undefined;
    hooks.beforeTakeover?.();
    const aside = `${lock}.stale-${nonce}`;
    try {
      fs.renameSync(lock, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // another took it over
      throw error;
    }
    const moved = readSmall(aside);
    if (moved !== seen) {
      // Not the dead holder's lock any more: a live process's, put back where it was.
      try {
        fs.linkSync(aside, lock);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      } finally {
        fs.rmSync(aside, { force: true });
      }
      return undefined;
    }
    fs.rmSync(aside, { force: true });
  }
  if (!taken) return undefined;
  try {
    removeTemporaryFiles(file);
    return { done: true, value: work() };
  } finally {
    if (readSmall(lock) === ours) fs.rmSync(lock, { force: true });
  }
}

/** Links a new lock holding `text` at `lock`; false when a lock is already there. */
function linkNew(lock: string, text: string, nonce: string): boolean {
  const temp = `${lock}.new-${nonce}`;
  const fd = fs.openSync(temp, 'wx', 0o600);
  try {
    try {
      fs.writeFileSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.linkSync(temp, lock);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/** The start of a small file's text, or undefined when it is not there. */
function readSmall(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').slice(0, 64);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
