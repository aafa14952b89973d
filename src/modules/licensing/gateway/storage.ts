/*
 * The gateway's content store: every content encrypted at rest, never in clear on disk.
 *
 * - `master.key` (mode 0600, 32 random bytes as hex) wraps each content's keys.
 * - Each content has a random 256-bit data key and a random 4-byte nonce prefix. Its clear bytes
 *   are cut into chunks of 64 KiB; chunk i is sealed with AES-256-GCM under the data key with
 *   nonce = prefix ‖ u64be(i) and AAD = contentId ‖ u64be(i) ‖ last-flag, and stored at offset
 *   i × (64 KiB + 16) in `chunks.bin`, so a byte range maps to the chunks that hold it and each
 *   decrypts alone. The AAD binds a chunk to its content and its place: a chunk moved, swapped
 *   with another content's or cut short (the last flag) fails its tag.
 * - The data key and the content's ed25519 signing key (it signs access tokens) are stored
 *   wrapped with the master key (AES-256-GCM, random nonce, AAD naming the content and the
 *   purpose) in `meta.json`.
 * A content is written in a temporary directory and renamed into place, so a crash leaves either
 * nothing or the whole of it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { addressFromPublicKey, keyPairFromSecret, toHex } from '../../../crypto/index.js';
import { contentIdPattern } from './messages.js';

export const chunkBytes = 64 * 1024;
const tagBytes = 16;
export const chunkStride = chunkBytes + tagBytes;
const masterKeyFile = 'master.key';
const contentDirName = 'content';
const metaVersion = 1;

/** A store fault (a missing or loose master key, a corrupt file): operational, not the caller's. */
export class GatewayStoreError extends Error {
  constructor(
    readonly code: 'master_key_invalid' | 'content_corrupt' | 'store_failed',
    message: string,
  ) {
    super(message);
  }
}

export interface ContentMeta {
  version: number;
  contentId: string;
  size: number;
  mediaType: string;
  owner: string;
  /** The content key's ed25519 public key (64 hex): what `content.register` names. */
  publicKey: string;
  noncePrefix: string;
  wrappedDataKey: string;
  wrappedSigningKey: string;
  uploadedAt: number;
  /** Seen registered on chain (by `owner`, with `publicKey`): never expires. */
  registered: boolean;
}

/** Creates the data directory (0700) and its master key (0600); never replaces a key. */
export function initGatewayDataDir(dataDir: string): { masterKeyFile: string; created: boolean } {
  fs.mkdirSync(path.join(dataDir, contentDirName), { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, masterKeyFile);
  try {
    fs.writeFileSync(file, `${crypto.randomBytes(32).toString('hex')}\n`, {
      flag: 'wx',
      mode: 0o600,
    });
    return { masterKeyFile: file, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      return { masterKeyFile: file, created: false };
    }
    throw error;
  }
}

function readMasterKey(dataDir: string): Buffer {
  const file = path.join(dataDir, masterKeyFile);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    throw new GatewayStoreError(
      'master_key_invalid',
      `cannot read ${file} (run coffer content gateway init): ${(error as Error).message}`,
    );
  }
  if (!stat.isFile() || (stat.mode & 0o077) !== 0) {
    throw new GatewayStoreError(
      'master_key_invalid',
      `${file} may be read by others or is not a file: chmod 600 it`,
    );
  }
  const hex = fs.readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new GatewayStoreError('master_key_invalid', `${file} must hold 64 hex digits`);
  }
  return Buffer.from(hex, 'hex');
}

function u64(value: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(value));
  return bytes;
}

function chunkAad(contentId: string, index: number, last: boolean): Buffer {
  return Buffer.concat([Buffer.from(contentId, 'hex'), u64(index), Buffer.from([last ? 1 : 0])]);
}

function wrapAad(meta: Pick<ContentMeta, 'contentId' | 'size' | 'noncePrefix'>, purpose: string) {
  return Buffer.from(
    `coffer/licensing/wrap/v1\n${purpose}\n${meta.contentId}\n${meta.size}\n${meta.noncePrefix}`,
  );
}

function seal(key: Buffer, nonce: Buffer, aad: Buffer, clear: Buffer): Buffer {
  const cipher = crypto.createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  return Buffer.concat([cipher.update(clear), cipher.final(), cipher.getAuthTag()]);
}

/** Throws on a bad tag: the caller turns it into `content_corrupt`. */
function open(key: Buffer, nonce: Buffer, aad: Buffer, sealed: Buffer): Buffer {
  if (sealed.length < tagBytes) throw new Error('sealed data too short');
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - tagBytes));
  return Buffer.concat([
    decipher.update(sealed.subarray(0, sealed.length - tagBytes)),
    decipher.final(),
  ]);
}

export function chunkCount(size: number): number {
  return Math.ceil(size / chunkBytes);
}

/** The size `chunks.bin` must have for `size` clear bytes. */
export function sealedSize(size: number): number {
  const chunks = chunkCount(size);
  return size + chunks * tagBytes;
}

export interface ContentStore {
  readonly dataDir: string;
  /** Encrypts and stores `body`; its id is its SHA-256. Throws when that id is stored already. */
  put(input: { body: Buffer; owner: string; mediaType: string; now: number }): ContentMeta;
  meta(contentId: string): ContentMeta | undefined;
  /** Every stored content's meta (read at open, kept in memory: one small record each). */
  all(): ContentMeta[];
  markRegistered(contentId: string): void;
  remove(contentId: string): void;
  /** The content's ed25519 secret (32 bytes): it signs tokens and `licence.usage` txs. */
  signingSecret(contentId: string): Uint8Array;
  /** Clear bytes `start..end` (inclusive), decrypting only the chunks that hold them. */
  readRange(contentId: string, start: number, end: number): AsyncGenerator<Buffer>;
  /** Where a content's sealed chunks live (tests read it to see nothing is in clear). */
  chunksFile(contentId: string): string;
}

export function openContentStore(dataDir: string): ContentStore {
  const masterKey = readMasterKey(dataDir);
  const root = path.join(dataDir, contentDirName);
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  const metas = new Map<string, ContentMeta>();
  const dataKeys = new Map<string, Buffer>();
  const dirOf = (contentId: string) => path.join(root, contentId);

  for (const name of fs.readdirSync(root)) {
    const dir = path.join(root, name);
    if (!contentIdPattern.test(name)) {
      // A temporary directory of an upload cut short by a crash.
      if (name.startsWith('.tmp-')) fs.rmSync(dir, { recursive: true, force: true });
      continue;
    }
    try {
      const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8')) as ContentMeta;
      if (meta.contentId !== name || meta.version !== metaVersion) throw new Error('bad meta');
      metas.set(name, meta);
    } catch (error) {
      throw new GatewayStoreError(
        'content_corrupt',
        `${dir}/meta.json cannot be read: ${(error as Error).message}`,
      );
    }
  }

  function unwrap(meta: ContentMeta, purpose: 'data' | 'signing'): Buffer {
    const wrapped = Buffer.from(
      purpose === 'data' ? meta.wrappedDataKey : meta.wrappedSigningKey,
      'hex',
    );
    try {
      return open(masterKey, wrapped.subarray(0, 12), wrapAad(meta, purpose), wrapped.subarray(12));
    } catch {
      throw new GatewayStoreError(
        'content_corrupt',
        `the ${purpose} key of ${meta.contentId} does not open with this master key`,
      );
    }
  }

  function wrap(
    meta: Pick<ContentMeta, 'contentId' | 'size' | 'noncePrefix'>,
    purpose: string,
    key: Uint8Array,
  ) {
    const nonce = crypto.randomBytes(12);
    return Buffer.concat([
      nonce,
      seal(masterKey, nonce, wrapAad(meta, purpose), Buffer.from(key)),
    ]).toString('hex');
  }

  function dataKey(meta: ContentMeta): Buffer {
    let key = dataKeys.get(meta.contentId);
    if (!key) {
      key = unwrap(meta, 'data');
      dataKeys.set(meta.contentId, key);
    }
    return key;
  }

  function writeMeta(dir: string, meta: ContentMeta) {
    const file = path.join(dir, 'meta.json');
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(meta), { mode: 0o600 });
    fs.renameSync(`${file}.tmp`, file);
  }

  return {
    dataDir,
    put({ body, owner, mediaType, now }) {
      if (body.length === 0) throw new GatewayStoreError('store_failed', 'an empty content');
      const contentId = crypto.createHash('sha256').update(body).digest('hex');
      if (metas.has(contentId)) throw new GatewayStoreError('store_failed', 'stored already');
      const key = crypto.randomBytes(32);
      const noncePrefix = crypto.randomBytes(4);
      const signing = keyPairFromSecret(crypto.randomBytes(32));
      const base = { contentId, size: body.length, noncePrefix: noncePrefix.toString('hex') };
      const meta: ContentMeta = {
        version: metaVersion,
        ...base,
        mediaType,
        owner,
        publicKey: toHex(signing.publicKey),
        wrappedDataKey: wrap(base, 'data', key),
        wrappedSigningKey: wrap(base, 'signing', signing.secretKey),
        uploadedAt: now,
        registered: false,
      };
      const temporary = path.join(root, `.tmp-${crypto.randomBytes(8).toString('hex')}`);
      fs.mkdirSync(temporary, { mode: 0o700 });
      try {
        const fd = fs.openSync(path.join(temporary, 'chunks.bin'), 'w', 0o600);
        try {
          const chunks = chunkCount(body.length);
          for (let index = 0; index < chunks; index++) {
            const clear = body.subarray(index * chunkBytes, (index + 1) * chunkBytes);
            const nonce = Buffer.concat([noncePrefix, u64(index)]);
            const sealed = seal(
              key,
              nonce,
              chunkAad(contentId, index, index === chunks - 1),
              clear,
            );
            fs.writeSync(fd, sealed, 0, sealed.length, index * chunkStride);
          }
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
        writeMeta(temporary, meta);
        fs.renameSync(temporary, dirOf(contentId));
      } catch (error) {
        fs.rmSync(temporary, { recursive: true, force: true });
        throw new GatewayStoreError('store_failed', `cannot store: ${(error as Error).message}`);
      }
      metas.set(contentId, meta);
      dataKeys.set(contentId, key);
      return meta;
    },
    meta: (contentId) => metas.get(contentId),
    all: () => [...metas.values()],
    markRegistered(contentId) {
      const meta = metas.get(contentId);
      if (!meta || meta.registered) return;
      const next = { ...meta, registered: true };
      writeMeta(dirOf(contentId), next);
      metas.set(contentId, next);
    },
    remove(contentId) {
      metas.delete(contentId);
      dataKeys.delete(contentId);
      fs.rmSync(dirOf(contentId), { recursive: true, force: true });
    },
    signingSecret(contentId) {
      const meta = metas.get(contentId);
      if (!meta) throw new GatewayStoreError('store_failed', `${contentId} is not stored`);
      const secret = unwrap(meta, 'signing');
      const pair = keyPairFromSecret(secret);
      if (toHex(pair.publicKey) !== meta.publicKey) {
        throw new GatewayStoreError(
          'content_corrupt',
          `the signing key of ${contentId} is not its`,
        );
      }
      return new Uint8Array(secret);
    },
    async *readRange(contentId, start, end) {
      const meta = metas.get(contentId);
      if (!meta) throw new GatewayStoreError('store_failed', `${contentId} is not stored`);
      if (!(
        Number.isSafeInteger(start) &&
        Number.isSafeInteger(end) &&
        0 <= start &&
        start <= end &&
        end < meta.size
      )) {
        throw new RangeError(`bad range ${start}-${end} of ${meta.size}`);
      }
      const key = dataKey(meta);
      const prefix = Buffer.from(meta.noncePrefix, 'hex');
      const chunks = chunkCount(meta.size);
      const handle = await fs.promises.open(path.join(dirOf(contentId), 'chunks.bin'), 'r');
      try {
        for (
          let index = Math.floor(start / chunkBytes);
          index <= Math.floor(end / chunkBytes);
          index++
        ) {
          const last = index === chunks - 1;
          const clearLength = last ? meta.size - index * chunkBytes : chunkBytes;
          const sealed = Buffer.alloc(clearLength + tagBytes);
          const { bytesRead } = await handle.read(sealed, 0, sealed.length, index * chunkStride);
          let clear: Buffer;
          try {
            if (bytesRead !== sealed.length) throw new Error('short read');
            clear = open(
              key,
              Buffer.concat([prefix, u64(index)]),
              chunkAad(contentId, index, last),
              sealed,
            );
          } catch (error) {
            throw new GatewayStoreError(
              'content_corrupt',
              `chunk ${index} of ${contentId} fails its check: ${(error as Error).message}`,
            );
          }
          const from = index * chunkBytes;
          yield clear.subarray(Math.max(0, start - from), Math.min(clearLength, end - from + 1));
        }
      } finally {
        await handle.close();
      }
    },
    chunksFile: (contentId) => path.join(dirOf(contentId), 'chunks.bin'),
  };
}

/** The account of a content key: the only sender of `licence.usage` for its content. */
export function gatewayAccountOf(publicKeyHex: string): string {
  return addressFromPublicKey(Buffer.from(publicKeyHex, 'hex'));
}
