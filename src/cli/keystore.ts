import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { importKey, type SigningKey } from '../sdk/index.js';
import { CliError } from './errors.js';

/**
 * The encrypted keystore: one JSON file per key in `<home>/keys/<name>.json` (mode 0600, in a
 * directory of mode 0700). The secret key is encrypted with AES-256-GCM under a key derived from
 * the passphrase with scrypt; the address is the GCM additional data, so a file whose address was
 * edited, or whose ciphertext was swapped in from another file, does not decrypt.
 */

const keyNamePattern = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/** Addresses start with this; a name may not, so that any argument is one or the other. */
const addressPrefix = 'cof1';

/** 1 to 32 characters of a-z, 0-9, _ and -, starting with a-z or 0-9, and not with `cof1`. */
export function isKeyName(text: string): boolean {
  return keyNamePattern.test(text) && !text.startsWith(addressPrefix);
}

export function assertKeyName(name: string): void {
  if (!isKeyName(name)) {
    throw new CliError(
      'invalid_key_name',
      `"${name}" is not a key name: 1 to 32 characters of a-z, 0-9, _ and -, starting with a-z or 0-9 (and not with cof1)`,
    );
  }
}

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/**
 * N = 2^15 costs ~170 ms on the 2-core machine the tests run on (2^14 is ~100 ms) and about 100 ms
 * on a laptop: slow enough to make guessing expensive, fast enough that every tx command can
 * unlock its key. The parameters are stored in each file, so raising them later only changes new
 * keys.
 */
export const defaultScryptParams: Readonly<ScryptParams> = Object.freeze({
  N: 2 ** 15,
  r: 8,
  p: 1,
});

/**
 * What a key file may ask of scrypt: at most 1 GiB (128 * N * r bytes) and 16 lanes, so a damaged
 * or hostile file cannot make unlocking exhaust memory or run for minutes.
 */
const scryptMemoryBytesMax = 1024 ** 3;
const scryptParallelismMax = 16;
const saltBytes = 32;
const gcmIvBytes = 12;
const gcmTagBytes = 16;
/** scrypt output: the first half is the AES key, the SHA-256 of the second half is `check`. */
const derivedKeyBytes = 64;
const secretKeyBytes = 32;
/** A key file is a few hundred bytes; anything far larger is not one. */
const keyFileBytesMax = 64 * 1024;
/** Domain-separates the additional data from any other use of the address. */
const additionalDataPrefix = 'coffer/keystore/v1\0';

export interface KeyFile {
  version: 1;
  name: string;
  address: string;
  kdf: 'scrypt';
  kdfParams: ScryptParams & { salt: string };
  /**
   * SHA-256 of the second half of the derived key. It tells a wrong passphrase (no match) from a
   * damaged file (match, but GCM fails), and costs a guesser as much as a decryption does.
   */
  check: string;
  cipher: 'aes-256-gcm';
  iv: string;
  ciphertext: string;
  tag: string;
}

export interface KeystoreEntry {
  name: string;
  address: string;
  file: string;
}

const scrypt = promisify(crypto.scrypt) as (
  password: crypto.BinaryLike,
  salt: crypto.BinaryLike,
  keylen: number,
  options: crypto.ScryptOptions,
) => Promise<Buffer>;

function scryptMemoryBytes(params: ScryptParams): number {
  return 128 * params.N * params.r;
}

function checkScryptParams(params: ScryptParams): string | undefined {
  const { N, r, p } = params;
  if (!Number.isSafeInteger(N) || N < 2 || (N & (N - 1)) !== 0) return 'N must be a power of 2';
  if (!Number.isSafeInteger(r) || r < 1) return 'r must be a positive integer';
  if (!Number.isSafeInteger(p) || p < 1 || p > scryptParallelismMax) {
    return `p must be from 1 to ${scryptParallelismMax}`;
  }
  if (scryptMemoryBytes(params) > scryptMemoryBytesMax) return '128 * N * r must be at most 1 GiB';
  return undefined;
}

async function deriveKey(passphrase: string, params: ScryptParams, salt: Buffer): Promise<Buffer> {
  // NFKC, so a passphrase typed on two systems that compose accents differently is the same one.
  return scrypt(Buffer.from(passphrase.normalize('NFKC'), 'utf8'), salt, derivedKeyBytes, {
    N: params.N,
    r: params.r,
    p: params.p,
    // Node refuses above 32 MiB by default; allow what these parameters need, with headroom.
    maxmem: 2 * scryptMemoryBytes(params),
  });
}

function additionalData(address: string): Buffer {
  return Buffer.from(additionalDataPrefix + address, 'utf8');
}

function sha256(bytes: Buffer): Buffer {
  return crypto.createHash('sha256').update(bytes).digest();
}

/** Encrypts a secret key (64 hex digits) for `name` under `passphrase`. */
export async function encryptKey(
  name: string,
  secretKeyHex: string,
  passphrase: string,
  params: ScryptParams = defaultScryptParams,
): Promise<KeyFile> {
  assertKeyName(name);
  if (!/^[0-9a-fA-F]{64}$/.test(secretKeyHex)) {
    throw new CliError('invalid_secret_key', 'a secret key is 64 hex digits');
  }
  if (passphrase.length === 0) {
    throw new CliError('empty_passphrase', 'a key cannot be stored under an empty passphrase');
  }
  const problem = checkScryptParams(params);
  if (problem) throw new Error(`encryptKey: scrypt parameters: ${problem}`);
  const key = importKey(secretKeyHex.toLowerCase());
  const salt = crypto.randomBytes(saltBytes);
  const iv = crypto.randomBytes(gcmIvBytes);
  const derived = await deriveKey(passphrase, params, salt);
  const cipher = crypto.createCipheriv('aes-256-gcm', derived.subarray(0, 32), iv, {
    authTagLength: gcmTagBytes,
  });
  cipher.setAAD(additionalData(key.address));
  const ciphertext = Buffer.concat([
    cipher.update(Buffer.from(key.secretKey, 'hex')),
    cipher.final(),
  ]);
  return {
    version: 1,
    name,
    address: key.address,
    kdf: 'scrypt',
    kdfParams: { N: params.N, r: params.r, p: params.p, salt: salt.toString('hex') },
    check: sha256(derived.subarray(32)).toString('hex'),
    cipher: 'aes-256-gcm',
    iv: iv.toString('hex'),
    ciphertext: ciphertext.toString('hex'),
    tag: cipher.getAuthTag().toString('hex'),
  };
}

/**
 * Decrypts a key file. A passphrase that does not derive the file's `check` is `wrong_passphrase`;
 * one that does, on a file that then fails to authenticate or holds another address's key, is
 * `keystore_corrupt`.
 */
export async function decryptKey(file: KeyFile, passphrase: string): Promise<SigningKey> {
  const { salt, ...params } = file.kdfParams;
  const derived = await deriveKey(passphrase, params, Buffer.from(salt, 'hex'));
  const check = Buffer.from(file.check, 'hex');
  if (!crypto.timingSafeEqual(sha256(derived.subarray(32)), check)) {
    throw new CliError('wrong_passphrase', `the passphrase does not unlock key ${file.name}`);
  }
  let secret: Buffer;
  try {
    const decipher = crypto.createDecipheriv(
      'aes-256-gcm',
      derived.subarray(0, 32),
      Buffer.from(file.iv, 'hex'),
      { authTagLength: gcmTagBytes },
    );
    decipher.setAAD(additionalData(file.address));
    decipher.setAuthTag(Buffer.from(file.tag, 'hex'));
    secret = Buffer.concat([
      decipher.update(Buffer.from(file.ciphertext, 'hex')),
      decipher.final(),
    ]);
  } catch {
    throw new CliError(
      'keystore_corrupt',
      `key ${file.name} was altered: its address, ciphertext or tag does not authenticate`,
    );
  }
  const key = importKey(secret.toString('hex'));
  secret.fill(0);
  if (key.address !== file.address) {
    throw new CliError('keystore_corrupt', `key ${file.name} does not hold the key of its address`);
  }
  return key;
}

function isHex(value: unknown, bytes: number): value is string {
  return typeof value === 'string' && value.length === bytes * 2 && /^[0-9a-f]*$/.test(value);
}

/** Checks the shape of a key file read from disk; names the first bad field. */
export function parseKeyFile(text: string, expectedName: string, label: string): KeyFile {
  const corrupt = (what: string) => new CliError('keystore_corrupt', `${label}: ${what}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw corrupt('not JSON');
  }
  if (typeof value !== 'object' || value === null) throw corrupt('not a JSON object');
  const file = value as Record<string, unknown>;
  if (file.version !== 1) throw corrupt(`version ${String(file.version)} is not supported`);
  if (file.name !== expectedName)
    throw corrupt(`holds key ${String(file.name)}, not ${expectedName}`);
  if (typeof file.address !== 'string' || !file.address.startsWith(addressPrefix)) {
    throw corrupt('address is not a Coffer address');
  }
  if (file.kdf !== 'scrypt') throw corrupt(`kdf ${String(file.kdf)} is not supported`);
  if (file.cipher !== 'aes-256-gcm')
    throw corrupt(`cipher ${String(file.cipher)} is not supported`);
  const kdf = file.kdfParams as Record<string, unknown> | undefined;
  if (typeof kdf !== 'object' || kdf === null) throw corrupt('kdfParams is missing');
  const params = { N: kdf.N, r: kdf.r, p: kdf.p } as ScryptParams;
  const problem = checkScryptParams(params);
  if (problem) throw corrupt(`kdfParams: ${problem}`);
  if (!isHex(kdf.salt, saltBytes)) throw corrupt(`kdfParams.salt is not ${saltBytes} bytes of hex`);
  if (!isHex(file.check, 32)) throw corrupt('check is not 32 bytes of hex');
  if (!isHex(file.iv, gcmIvBytes)) throw corrupt(`iv is not ${gcmIvBytes} bytes of hex`);
  if (!isHex(file.ciphertext, secretKeyBytes)) {
    throw corrupt(`ciphertext is not ${secretKeyBytes} bytes of hex`);
  }
  if (!isHex(file.tag, gcmTagBytes)) throw corrupt(`tag is not ${gcmTagBytes} bytes of hex`);
  return {
    version: 1,
    name: expectedName,
    address: file.address,
    kdf: 'scrypt',
    kdfParams: { ...params, salt: kdf.salt },
    check: file.check,
    cipher: 'aes-256-gcm',
    iv: file.iv,
    ciphertext: file.ciphertext,
    tag: file.tag,
  };
}

export interface Keystore {
  /** `<home>/keys`. */
  readonly dir: string;
  /** Every key, by name; reads only the public part, no passphrase needed. */
  list(): KeystoreEntry[];
  find(name: string): KeystoreEntry | undefined;
  /** Like `find`, but a missing key is `unknown_key`. */
  get(name: string): KeystoreEntry;
  /** Stores a secret key under a new name; refuses a name or an address already stored. */
  add(name: string, secretKeyHex: string, passphrase: string): Promise<KeystoreEntry>;
  unlock(name: string, passphrase: string): Promise<SigningKey>;
}

export function createKeystore(deps: { home: string; scrypt?: ScryptParams }): Keystore {
  const dir = path.join(deps.home, 'keys');
  const params = deps.scrypt ?? defaultScryptParams;
  const fileOf = (name: string) => path.join(dir, `${name}.json`);

  function read(name: string): KeyFile | undefined {
    assertKeyName(name);
    const file = fileOf(name);
    let text: string;
    try {
      const size = fs.statSync(file).size;
      if (size > keyFileBytesMax) {
        throw new CliError('keystore_corrupt', `${file}: ${size} bytes is not a key file`);
      }
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return parseKeyFile(text, name, file);
  }

  function unknownKey(name: string): CliError {
    return new CliError('unknown_key', `no key named ${name} in ${dir} (see coffer keys list)`);
  }

  function entry(file: KeyFile): KeystoreEntry {
    return { name: file.name, address: file.address, file: fileOf(file.name) };
  }

  function ensureDirectories(): void {
    // Only directories created here get their mode set: an existing COFFER_HOME is the user's.
    if (!fs.existsSync(deps.home)) {
      fs.mkdirSync(deps.home, { recursive: true, mode: 0o700 });
      fs.chmodSync(deps.home, 0o700);
    }
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    // The umask may have taken bits away, never added any; keys/ is ours, so it is always 0700.
    fs.chmodSync(dir, 0o700);
  }

  /** Writes a new file without ever replacing one or leaving half a file under the real name. */
  function writeNew(name: string, text: string): void {
    ensureDirectories();
    const final = fileOf(name);
    const temporary = path.join(dir, `.${name}.${crypto.randomBytes(6).toString('hex')}.tmp`);
    const fd = fs.openSync(temporary, 'wx', 0o600);
    try {
      fs.fchmodSync(fd, 0o600);
      fs.writeSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    try {
      // link(2) fails if the name exists: two `keys new` racing for one name cannot both win.
      fs.linkSync(temporary, final);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new CliError('key_exists', `a key named ${name} already exists`);
      }
      throw error;
    } finally {
      fs.rmSync(temporary, { force: true });
    }
    const dirFd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dirFd);
    } finally {
      fs.closeSync(dirFd);
    }
  }

  const keystore: Keystore = {
    dir,
    list() {
      if (!fs.existsSync(dir)) return [];
      return fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.json') && isKeyName(f.slice(0, -5)))
        .map((f) => f.slice(0, -5))
        .sort()
        .map((name) => read(name))
        .filter((file): file is KeyFile => file !== undefined)
        .map(entry);
    },
    find(name) {
      const file = read(name);
      return file && entry(file);
    },
    get(name) {
      const file = read(name);
      if (!file) throw unknownKey(name);
      return entry(file);
    },
    async add(name, secretKeyHex, passphrase) {
      assertKeyName(name);
      if (read(name)) throw new CliError('key_exists', `a key named ${name} already exists`);
      const file = await encryptKey(name, secretKeyHex, passphrase, params);
      const same = keystore.list().find((e) => e.address === file.address);
      if (same) {
        throw new CliError('key_exists', `key ${same.name} already holds address ${file.address}`);
      }
      writeNew(name, JSON.stringify(file, null, 2) + '\n');
      return entry(file);
    },
    async unlock(name, passphrase) {
      const file = read(name);
      if (!file) throw unknownKey(name);
      return decryptKey(file, passphrase);
    },
  };
  return keystore;
}
