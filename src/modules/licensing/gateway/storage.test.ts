import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { parseRange } from './range.js';
import {
  chunkBytes,
  chunkStride,
  GatewayStoreError,
  initGatewayDataDir,
  openContentStore,
  sealedSize,
} from './storage.js';
import { tempDataDir, testKey } from './fixture.js';

const dirs: string[] = [];
after(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
function dataDir(name: string) {
  const dir = tempDataDir(name);
  dirs.push(dir);
  return dir;
}

async function readAll(iterator: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of iterator) parts.push(part);
  return Buffer.concat(parts);
}

/** Bytes with a recognisable pattern, so a clear copy on disk would be found. */
function content(size: number): Buffer {
  const text = Buffer.from('COFFER-CLEAR-TEXT-MARKER-');
  const body = Buffer.alloc(size);
  for (let i = 0; i < size; i++) body[i] = text[i % text.length]!;
  return body;
}

const owner = testKey().address;

describe('content store', () => {
  it('writes the master key with mode 0600 and refuses one others may read', () => {
    const dir = dataDir('master');
    const file = path.join(dir, 'master.key');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(initGatewayDataDir(dir).created, false, 'an existing key is kept');
    fs.chmodSync(file, 0o644);
    assert.throws(
      () => openContentStore(dir),
      (error: unknown) => error instanceof GatewayStoreError && error.code === 'master_key_invalid',
    );
  });

  it('round-trips content of 1 byte, a chunk, a chunk and a byte, and three and a half', async () => {
    const store = openContentStore(dataDir('round'));
    for (const size of [
      1,
      chunkBytes - 1,
      chunkBytes,
      chunkBytes + 1,
      3 * chunkBytes + chunkBytes / 2,
    ]) {
      const body = crypto.randomBytes(size);
      const meta = store.put({ body, owner, mediaType: 'video/webm', now: 0 });
      assert.equal(meta.contentId, crypto.createHash('sha256').update(body).digest('hex'));
      assert.equal(fs.statSync(store.chunksFile(meta.contentId)).size, sealedSize(size));
      assert.deepEqual(await readAll(store.readRange(meta.contentId, 0, size - 1)), body);
    }
  });

  it('never holds the clear bytes on disk: not in the chunks, the meta or anywhere in the dir', () => {
    const dir = dataDir('clear');
    const store = openContentStore(dir);
    const body = content(3 * chunkBytes + 100);
    const meta = store.put({ body, owner, mediaType: 'video/webm', now: 0 });
    const marker = Buffer.from('COFFER-CLEAR-TEXT');
    const files = fs
      .readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile());
    assert.ok(files.length >= 3);
    for (const entry of files) {
      const bytes = fs.readFileSync(path.join(entry.parentPath, entry.name));
      assert.equal(bytes.indexOf(marker), -1, `${entry.name} holds clear text`);
      // No 32-byte window of the content appears either (an unencrypted chunk would).
      assert.equal(bytes.indexOf(body.subarray(1000, 1032)), -1);
    }
    const text = fs.readFileSync(path.join(dir, 'content', meta.contentId, 'meta.json'), 'utf8');
    assert.doesNotMatch(text, /secret/i);
    // A new store over the same directory (another process) reads it back.
    const reopened = openContentStore(dir);
    return readAll(reopened.readRange(meta.contentId, 0, body.length - 1)).then((read) =>
      assert.deepEqual(read, body),
    );
  });

  it('serves any range, including those at chunk boundaries, decrypting only its chunks', async () => {
    const store = openContentStore(dataDir('ranges'));
    const size = 4 * chunkBytes + 777;
    const body = crypto.randomBytes(size);
    const { contentId } = store.put({ body, owner, mediaType: 'video/webm', now: 0 });
    const boundaries = [
      0,
      1,
      chunkBytes - 1,
      chunkBytes,
      chunkBytes + 1,
      2 * chunkBytes,
      4 * chunkBytes,
      size - 1,
    ];
    for (const start of boundaries) {
      for (const end of boundaries) {
        if (end < start) continue;
        assert.deepEqual(
          await readAll(store.readRange(contentId, start, end)),
          body.subarray(start, end + 1),
          `${start}-${end}`,
        );
      }
    }
    await fc.assert(
      fc.asyncProperty(fc.nat(size - 1), fc.nat(size - 1), async (a, b) => {
        const [start, end] = a <= b ? [a, b] : [b, a];
        const read = await readAll(store.readRange(contentId, start, end));
        return read.equals(body.subarray(start, end + 1));
      }),
      { numRuns: 200 },
    );
    // A range inside chunk 3 reads chunk 3 only: chunk 0 may be garbage and it still serves.
    const fd = fs.openSync(store.chunksFile(contentId), 'r+');
    fs.writeSync(fd, Buffer.alloc(16, 0xff), 0, 16, 10);
    fs.closeSync(fd);
    assert.deepEqual(
      await readAll(store.readRange(contentId, 3 * chunkBytes + 5, 3 * chunkBytes + 9)),
      body.subarray(3 * chunkBytes + 5, 3 * chunkBytes + 10),
    );
  });

  it('refuses a tampered chunk, chunks swapped, a chunk cut short and another content’s chunk', async () => {
    const store = openContentStore(dataDir('tamper'));
    const body = crypto.randomBytes(3 * chunkBytes + 10);
    const { contentId } = store.put({ body, owner, mediaType: 'video/webm', now: 0 });
    const file = store.chunksFile(contentId);
    const original = fs.readFileSync(file);
    const corrupt = async (start: number, end: number) =>
      assert.rejects(
        readAll(store.readRange(contentId, start, end)),
        (error: unknown) => error instanceof GatewayStoreError && error.code === 'content_corrupt',
      );

    const flipped = Buffer.from(original);
    flipped[chunkStride + 100]! ^= 0x01;
    fs.writeFileSync(file, flipped);
    await corrupt(chunkBytes, chunkBytes + 10);
    assert.equal((await readAll(store.readRange(contentId, 0, 9))).length, 10, 'chunk 0 is intact');

    const swapped = Buffer.from(original);
    original.copy(swapped, 0, chunkStride, 2 * chunkStride);
    original.copy(swapped, chunkStride, 0, chunkStride);
    fs.writeFileSync(file, swapped);
    await corrupt(0, 0);

    fs.writeFileSync(file, original.subarray(0, 3 * chunkStride)); // the last chunk gone
    await corrupt(3 * chunkBytes, 3 * chunkBytes + 1);
    // The truncated file's chunk 2 is not flagged last: it cannot pass for the end either.
    fs.writeFileSync(file, original);

    const other = store.put({
      body: crypto.randomBytes(chunkBytes),
      owner,
      mediaType: 'video/webm',
      now: 0,
    });
    const otherChunk = fs.readFileSync(store.chunksFile(other.contentId)).subarray(0, chunkStride);
    const mixed = Buffer.from(original);
    otherChunk.copy(mixed, 0);
    fs.writeFileSync(file, mixed);
    await corrupt(0, 5);
  });

  it('a content key opens only with its master key', () => {
    const dir = dataDir('wrap');
    const store = openContentStore(dir);
    const { contentId, publicKey } = store.put({
      body: content(10),
      owner,
      mediaType: 'video/webm',
      now: 0,
    });
    assert.equal(store.signingSecret(contentId).length, 32);
    assert.match(publicKey, /^[0-9a-f]{64}$/);
    fs.writeFileSync(path.join(dir, 'master.key'), `${crypto.randomBytes(32).toString('hex')}\n`, {
      mode: 0o600,
    });
    assert.throws(
      () => openContentStore(dir).signingSecret(contentId),
      (error: unknown) => error instanceof GatewayStoreError && error.code === 'content_corrupt',
    );
  });
});

describe('parseRange', () => {
  const size = 1000;
  const table: [string | undefined, ReturnType<typeof parseRange>][] = [
    [undefined, { kind: 'whole' }],
    ['bytes=0-0', { kind: 'partial', start: 0, end: 0 }],
    ['bytes=0-', { kind: 'partial', start: 0, end: 999 }],
    ['bytes=10-2000', { kind: 'partial', start: 10, end: 999 }],
    ['bytes=-100', { kind: 'partial', start: 900, end: 999 }],
    ['bytes=-5000', { kind: 'partial', start: 0, end: 999 }],
    ['bytes=999-999', { kind: 'partial', start: 999, end: 999 }],
    ['bytes=1000-', { kind: 'unsatisfiable' }],
    ['bytes=1000-1001', { kind: 'unsatisfiable' }],
    ['bytes=5-4', { kind: 'unsatisfiable' }],
    ['bytes=-0', { kind: 'unsatisfiable' }],
    ['bytes=0-1,5-6', { kind: 'unsatisfiable' }],
    ['items=0-1', { kind: 'whole' }],
    ['bytes=abc', { kind: 'whole' }],
    ['bytes=-', { kind: 'whole' }],
  ];
  for (const [header, expected] of table) {
    it(`${header ?? '(none)'}`, () => assert.deepEqual(parseRange(header, size), expected));
  }
});
