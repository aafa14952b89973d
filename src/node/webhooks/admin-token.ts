import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The file in a data directory that holds the operator's admin token when none is configured. */
export const adminTokenFile = 'admin-token';
const generatedTokenBytes = 32;

/**
 * The operator's admin token: `configured` (COFFER_ADMIN_TOKEN) when given, else the one in
 * `<dataDir>/admin-token`, written owner-only at the first start. Only who can read the data
 * directory (or was given the token) manages the node's webhooks.
 */
export function loadAdminToken(dataDir: string, configured: string | undefined): string {
  if (configured !== undefined) return configured;
  const file = path.join(dataDir, adminTokenFile);
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const token = crypto.randomBytes(generatedTokenBytes).toString('base64url');
  fs.writeFileSync(file, token + '\n', { mode: 0o600, flag: 'wx' });
  return token;
}

/** Whether `given` is `token`, compared in constant time (digests of equal length). */
export function tokenMatches(given: string, token: string): boolean {
  const digest = (text: string) => crypto.createHash('sha256').update(text).digest();
  return crypto.timingSafeEqual(digest(given), digest(token));
}
