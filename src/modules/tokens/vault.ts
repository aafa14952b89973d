import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  binLength,
  dataKeyBytes,
  gcmIvBytes,
  gcmTagBytes,
  luhnCheckDigit,
  type VaultEnvelope,
} from './schema.js';

/*
 * The token vault's cryptography, run by the node's routes only (never by a tx handler: it needs
 * randomness and the key). A PAN is sealed in an envelope:
 *
 *   data key   32 random bytes, one per token (and per PAN update)
 *   ciphertext AES-256-GCM(data key, iv, PAN digits, aad = `coffer/tokens/pan/v1|<chainId>|<token>`)
 *   wrappedKey AES-256-GCM(KEK, wrap iv, data key, aad = `coffer/tokens/dek/v1|<kekId>|<token>`)
 *
 * The associated data binds an envelope to its token (and chain): an envelope copied onto another
 * token does not open. Rotation adds a KEK with a new id; `rewrap` unwraps a data key with its
 * old KEK and wraps it with the current one (the ciphertext does not change). The fingerprint of a
 * PAN is HMAC-SHA-256 under a key of its own that rotation keeps, so one PAN keeps one
 * fingerprint.
 */

/** Bytes of a vault key (KEK or fingerprint key): AES-256 and HMAC-SHA-256 keys. */
export const vaultKeyBytes = 32;
/** The key file is a few keys: a bigger file is not one. */
const vaultKeyFileBytesMax = 64 * 1024;
/** KEKs one key file holds (the current one and those still wrapping some data keys). */
export const vaultKeksMax = 16;
const kekIdPattern = /^[A-Za-z0-9_-]{1,32}$/;
const hexKeyPattern = /^[0-9a-f]{64}$/;

/** The keys of a vault: all nodes of a consortium hold the same. */
export interface VaultKeys {
  readonly fingerprintKey: Buffer;
  /** The KEK new envelopes are wrapped with. */
  readonly currentKekId: string;
  readonly keks: ReadonlyMap<string, Buffer>;
}

/** A vault key file that cannot be used (its path and what is wrong; never a key). */
export class VaultKeyError extends Error {
  readonly code = 'invalid_vault_key';
}

/** A sealed PAN that does not open: a wrong key, an unknown KEK id or a tampered envelope. */
export class VaultOpenError extends Error {
  readonly code = 'vault_open_failed';
}

/**
 * Reads a vault key file: JSON `{"fingerprintKey": hex, "keks": [{"id", "key": hex}, ...],
 * "current": id}` with 32-byte keys as 64 lowercase hex digits; `current` defaults to the last
 * KEK listed.
 */
export function readVaultKeyFile(file: string): VaultKeys {
  return parseVaultKeys(readVaultKeyJson(file), file);
}

/**
 * The JSON of a vault key file, refused (`invalid_vault_key`) when group or others may read it
 * (it must be mode 0600: `chmod 600 FILE`), when too large, or when not JSON. No message quotes
 * the file: a JSON parser's message holds a fragment of it, so a parse failure says "not JSON".
 */
export function readVaultKeyJson(file: string): unknown {
  let text: string;
  let mode: number;
  try {
    const stat = fs.statSync(file);
    if (stat.size > vaultKeyFileBytesMax) throw new Error('too large');
    mode = stat.mode & 0o777;
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new VaultKeyError(`vault key file ${file}: ${(error as Error).message}`);
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new VaultKeyError(
      `vault key file ${file} may be read by group or others (mode ${mode.toString(8)}): chmod 600 ${file}`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new VaultKeyError(`vault key file ${file}: not JSON`);
  }
}

/**
 * Writes a vault key document readable by its owner only, atomically: a temporary file in the
 * same directory (mode 0600, chmod again in case the umask or an old file interfered), fsync,
 * then rename over `file` (or, `exclusive`, link it to `file`, which fails if `file` exists).
 */
export function writeVaultKeyFile(file: string, document: unknown, exclusive: boolean): void {
  const temp = `${file}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`;
  const fd = fs.openSync(temp, 'wx', 0o600);
  try {
    try {
      fs.writeFileSync(fd, JSON.stringify(document, null, 2) + '\n');
      fs.fchmodSync(fd, 0o600);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (exclusive) fs.linkSync(temp, file);
    else fs.renameSync(temp, file);
  } finally {
    fs.rmSync(temp, { force: true });
  }
  fs.chmodSync(file, 0o600);
  try {
    const dir = fs.openSync(path.dirname(file), 'r');
    try {
      fs.fsyncSync(dir);
    } finally {
      fs.closeSync(dir);
    }
  } catch {
    // A directory that cannot be opened for fsync (some platforms): the rename is still atomic.
  }
}

/** Checks a parsed vault key document (see `readVaultKeyFile`). */
export function parseVaultKeys(json: unknown, what = 'vault keys'): VaultKeys {
  const bad = (detail: string) => new VaultKeyError(`${what}: ${detail}`);
  if (typeof json !== 'object' || json === null) throw bad('not an object');
  const { fingerprintKey, keks, current } = json as Record<string, unknown>;
  if (typeof fingerprintKey !== 'string' || !hexKeyPattern.test(fingerprintKey)) {
    throw bad('fingerprintKey must be 64 lowercase hex digits');
  }
  if (!Array.isArray(keks) || keks.length === 0 || keks.length > vaultKeksMax) {
    throw bad(`keks must list 1 to ${vaultKeksMax} keys`);
  }
  const map = new Map<string, Buffer>();
  for (const [index, entry] of keks.entries()) {
    const { id, key } = (entry ?? {}) as Record<string, unknown>;
    if (typeof id !== 'string' || !kekIdPattern.test(id) || map.has(id)) {
      throw bad(`keks[${index}].id must be a distinct id of 1 to 32 characters A-Z a-z 0-9 - _`);
    }
    if (typeof key !== 'string' || !hexKeyPattern.test(key)) {
      throw bad(`keks[${index}].key must be 64 lowercase hex digits`);
    }
    map.set(id, Buffer.from(key, 'hex'));
  }
  const currentKekId = current === undefined ? [...map.keys()].at(-1)! : current;
  if (typeof currentKekId !== 'string' || !map.has(currentKekId)) {
    throw bad('current must be the id of one of keks');
  }
  return { fingerprintKey: Buffer.from(fingerprintKey, 'hex'), currentKekId, keks: map };
}

/** A new vault key document with fresh random keys (for `coffer tokens vault-key` and tests). */
export function newVaultKeyDocument(kekId = 'k1'): {
  fingerprintKey: string;
  keks: { id: string; key: string }[];
  current: string;
} {
  const random = () => crypto.randomBytes(vaultKeyBytes).toString('hex');
  return { fingerprintKey: random(), keks: [{ id: kekId, key: random() }], current: kekId };
}

/** HMAC-SHA-256 of a PAN under the fingerprint key, 64 hex digits. */
export function panFingerprint(keys: VaultKeys, pan: string): string {
  return crypto
    .createHmac('sha256', keys.fingerprintKey)
    .update(`coffer/tokens/pan-fingerprint/v1|${pan}`)
    .digest('hex');
}

function gcmSeal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const iv = crypto.randomBytes(gcmIvBytes);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

function gcmOpen(key: Buffer, iv: Buffer, sealed: Buffer, aad: string): Buffer {
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.subarray(sealed.length - gcmTagBytes));
  return Buffer.concat([
    decipher.update(sealed.subarray(0, sealed.length - gcmTagBytes)),
    decipher.final(),
  ]);
}

const panAad = (chainId: string, token: string) => `coffer/tokens/pan/v1|${chainId}|${token}`;
const keyAad = (kekId: string, token: string) => `coffer/tokens/dek/v1|${kekId}|${token}`;

function wrapDataKey(keys: VaultKeys, token: string, dataKey: Buffer): string {
  const kek = keys.keks.get(keys.currentKekId)!;
  return gcmSeal(kek, dataKey, keyAad(keys.currentKekId, token)).toString('hex');
}

function unwrapDataKey(keys: VaultKeys, token: string, envelope: VaultEnvelope): Buffer {
  const kek = keys.keks.get(envelope.kekId);
  if (!kek) throw new VaultOpenError(`the vault holds no key-encryption key ${envelope.kekId}`);
  const wrapped = Buffer.from(envelope.wrappedKey, 'hex');
  try {
    return gcmOpen(
      kek,
      wrapped.subarray(0, gcmIvBytes),
      wrapped.subarray(gcmIvBytes),
      keyAad(envelope.kekId, token),
    );
  } catch {
    throw new VaultOpenError('the data key does not unwrap');
  }
}

/** Seals a PAN for a token under a fresh data key wrapped by the current KEK. */
export function sealPan(
  keys: VaultKeys,
  chainId: string,
  token: string,
  pan: string,
): VaultEnvelope {
  const dataKey = crypto.randomBytes(dataKeyBytes);
  try {
    const sealed = gcmSeal(dataKey, Buffer.from(pan, 'utf8'), panAad(chainId, token));
    return {
      kekId: keys.currentKekId,
      wrappedKey: wrapDataKey(keys, token, dataKey),
      iv: sealed.subarray(0, gcmIvBytes).toString('hex'),
      ciphertext: sealed.subarray(gcmIvBytes).toString('hex'),
    };
  } finally {
    dataKey.fill(0);
  }
}

/** Opens a token's envelope: the PAN, or a `VaultOpenError` (never a partial result). */
export function openPan(
  keys: VaultKeys,
  chainId: string,
  token: string,
  envelope: VaultEnvelope,
): string {
  const dataKey = unwrapDataKey(keys, token, envelope);
  try {
    return gcmOpen(
      dataKey,
      Buffer.from(envelope.iv, 'hex'),
      Buffer.from(envelope.ciphertext, 'hex'),
      panAad(chainId, token),
    ).toString('utf8');
  } catch {
    throw new VaultOpenError('the PAN does not decrypt');
  } finally {
    dataKey.fill(0);
  }
}

/** The envelope with its data key wrapped by the current KEK (rotation); the ciphertext stays. */
export function rewrapEnvelope(
  keys: VaultKeys,
  token: string,
  envelope: VaultEnvelope,
): VaultEnvelope {
  const dataKey = unwrapDataKey(keys, token, envelope);
  try {
    return { ...envelope, kekId: keys.currentKekId, wrappedKey: wrapDataKey(keys, token, dataKey) };
  } finally {
    dataKey.fill(0);
  }
}

/**
 * A random token of `length` digits in `tokenBin`: the BIN, random digits, a Luhn check digit.
 * The token BIN is never an issuer's BIN (the registry refuses the overlap), so a token never
 * equals a PAN the service holds.
 */
export function randomToken(tokenBin: string, length: number): string {
  let body = tokenBin;
  // Rejection sampling: a byte of 250 or more would favour some digits.
  while (body.length < length - 1) {
    for (const byte of crypto.randomBytes(length)) {
      if (byte < 250 && body.length < length - 1) body += String(byte % 10);
    }
  }
  if (tokenBin.length !== binLength) throw new Error('a token BIN is 6 digits');
  return body + luhnCheckDigit(body);
}
