import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { adminTokenPattern, ConfigError } from '../config.js';

/** The file in a data directory that holds the operator's admin token when none is configured. */
export const adminTokenFile = 'admin-token';
const generatedTokenBytes = 32;

/** The operator's admin token and what the operator should be told about its file. */
export interface AdminToken {
  token: string;
  /** Warnings to log (never holding the token), e.g. a file that others may read. */
  warnings: string[];
}

/**
 * The operator's admin token: `configured` (COFFER_ADMIN_TOKEN) when given, else the one in
 * `<dataDir>/admin-token`, written owner-only at the first start. Only who can read the data
 * directory (or was given the token) manages the node's webhooks. A file whose token breaks the
 * rule of COFFER_ADMIN_TOKEN (empty, whitespace, too short) is refused with a ConfigError: the
 * node does not start rather than accept a token anyone could send.
 */
export function loadAdminToken(dataDir: string, configured: string | undefined): AdminToken {
  if (configured !== undefined) return { token: configured, warnings: [] };
  const file = path.join(dataDir, adminTokenFile);
  let text: string | undefined;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (text !== undefined) {
    // One line: the token and, as written by the node, a final newline (LF or CRLF).
    const token = text.replace(/\r?\n$/, '');
    if (!adminTokenPattern.test(token)) {
      throw new ConfigError(
        `${file}: the admin token must be 32 to 256 characters of A-Z a-z 0-9 _ - . ~ + / = on one line; fix the file or remove it (a new one is generated at the next start)`,
      );
    }
    const warnings: string[] = [];
    const mode = fs.statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      warnings.push(
        `${file} is readable or writable by group or others (mode ${mode.toString(8).padStart(4, '0')}): whoever reads it manages this node's webhooks; chmod 600 it`,
      );
    }
    return { token, warnings };
  }
  const token = crypto.randomBytes(generatedTokenBytes).toString('base64url');
  writeOwnerOnly(file, token + '\n');
  return { token, warnings: [] };
}

/**
 * Writes `file` whole or not at all, owner-only: a temp file (0600) in the same directory,
 * fsynced, renamed over `file`, and the directory fsynced, so a crash never leaves an empty or
 * partial token file behind.
 */
function writeOwnerOnly(file: string, text: string): void {
  const temp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  const fd = fs.openSync(temp, 'wx', 0o600);
  try {
    fs.fchmodSync(fd, 0o600); // whatever the umask
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(temp, { force: true });
    throw error;
  }
  fs.closeSync(fd);
  fs.renameSync(temp, file);
  const dir = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(dir);
  } finally {
    fs.closeSync(dir);
  }
}

/**
 * The token an `Authorization` header carries: the exact characters after `Bearer ` (the scheme,
 * any case, and one space), nothing trimmed: `Bearer <NBSP>` carries a NBSP, never an empty token.
 * Undefined when the header is not a Bearer one.
 */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined || !/^Bearer /i.test(header)) return undefined;
  return header.slice('Bearer '.length);
}

/** Whether `given` is `token`, compared in constant time (digests of equal length). */
export function tokenMatches(given: string, token: string): boolean {
  const digest = (text: string) => crypto.createHash('sha256').update(text).digest();
  return crypto.timingSafeEqual(digest(given), digest(token));
}
