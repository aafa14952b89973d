import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import fc from 'fast-check';

import { generateKey, importKey } from '../sdk/index.js';
import { CliError } from './errors.js';
import {
  createKeystore,
  decryptKey,
  defaultScryptParams,
  encryptKey,
  isKeyName,
  parseKeyFile,
  type KeyFile,
  type ScryptParams,
} from './keystore.js';

/** Cheap parameters for the many-run tests; one test below runs the real ones. */
const fast: ScryptParams = { N: 2 ** 10, r: 8, p: 1 };

const temporaryDirs: string[] = [];
function temporaryHome(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-keystore-'));
  temporaryDirs.push(dir);
  return path.join(dir, 'home');
}
after(() => {
  for (const dir of temporaryDirs) fs.rmSync(dir, { recursive: true, force: true });
});

async function assertCode(action: () => Promise<unknown>, code: string, message?: RegExp) {
  await assert.rejects(action, (error: unknown) => {
    assert.ok(error instanceof CliError, `expected a CliError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (message) assert.match(error.message, message);
    return true;
  });
}

/** Flips bits of one byte of a hex field. */
function flipHex(hex: string, byteIndex: number, mask: number): string {
  const bytes = Buffer.from(hex, 'hex');
  bytes[byteIndex % bytes.length]! ^= mask;
  return bytes.toString('hex');
}

describe('key files', () => {
  it('decrypt(encrypt(secret)) gives the key back, under the real scrypt parameters', async () => {
    const key = generateKey();
    const file = await encryptKey('alice', key.secretKey, 'correct horse');
    assert.deepEqual(file.kdfParams.N, defaultScryptParams.N);
    assert.equal(file.address, key.address);
    assert.ok(!JSON.stringify(file).includes(key.secretKey), 'the secret is not in the file');
    assert.deepEqual(await decryptKey(file, 'correct horse'), key);
  });

  it('round trips any secret and passphrase', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }),
        async (seed, passphrase) => {
          const key = importKey(Buffer.from(seed).toString('hex'));
          const file = await encryptKey('k', key.secretKey, passphrase, fast);
          assert.deepEqual(await decryptKey(file, passphrase), key);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('refuses a wrong passphrase with wrong_passphrase, naming the key', async () => {
    const file = await encryptKey('alice', generateKey().secretKey, 'right', fast);
    await assertCode(
      () => decryptKey(file, 'wrong'),
      'wrong_passphrase',
      /^the passphrase does not unlock key alice$/,
    );
  });

  it('detects any flipped byte of the ciphertext, the tag or the iv', async () => {
    const file = await encryptKey('alice', generateKey().secretKey, 'pw', fast);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('ciphertext' as const, 'tag' as const, 'iv' as const),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (field, byte, mask) => {
          const tampered: KeyFile = { ...file, [field]: flipHex(file[field], byte, mask) };
          await assertCode(() => decryptKey(tampered, 'pw'), 'keystore_corrupt');
        },
      ),
      { numRuns: 30 },
    );
  });

  it('detects an address swapped for another: the address is authenticated', async () => {
    const file = await encryptKey('alice', generateKey().secretKey, 'pw', fast);
    const tampered = { ...file, address: generateKey().address };
    await assertCode(() => decryptKey(tampered, 'pw'), 'keystore_corrupt', /was altered/);
  });

  it("detects one file's ciphertext moved into another's (same passphrase)", async () => {
    const a = await encryptKey('a', generateKey().secretKey, 'pw', fast);
    const b = await encryptKey('b', generateKey().secretKey, 'pw', fast);
    // Everything but the address and name from b: it decrypts under b's key, but b's address is
    // not the additional data it was sealed with.
    const swapped: KeyFile = { ...b, name: a.name, address: a.address };
    await assertCode(() => decryptKey(swapped, 'pw'), 'keystore_corrupt');
  });

  it('rejects malformed files and hostile scrypt parameters before running scrypt', async () => {
    const file = await encryptKey('alice', generateKey().secretKey, 'pw', fast);
    const text = (change: Record<string, unknown>) => JSON.stringify({ ...file, ...change });
    const cases: [string, string, RegExp][] = [
      ['not json', '{', /not JSON/],
      ['version', text({ version: 2 }), /version 2/],
      ['name', text({ name: 'bob' }), /holds key bob/],
      ['kdf', text({ kdf: 'pbkdf2' }), /kdf pbkdf2/],
      ['cipher', text({ cipher: 'aes-128-cbc' }), /cipher/],
      ['N too large', text({ kdfParams: { ...file.kdfParams, N: 2 ** 30 } }), /at most 1 GiB/],
      ['N not a power of 2', text({ kdfParams: { ...file.kdfParams, N: 1000 } }), /power of 2/],
      ['p too large', text({ kdfParams: { ...file.kdfParams, p: 64 } }), /p must be/],
      ['salt', text({ kdfParams: { ...file.kdfParams, salt: 'zz' } }), /salt/],
      ['iv', text({ iv: '00' }), /iv/],
      ['tag', text({ tag: file.tag.toUpperCase() + '0' }), /tag/],
      ['ciphertext', text({ ciphertext: '' }), /ciphertext/],
    ];
    for (const [label, input, message] of cases) {
      assert.throws(
        () => parseKeyFile(input, 'alice', 'alice.json'),
        (error: unknown) =>
          error instanceof CliError &&
          error.code === 'keystore_corrupt' &&
          message.test(error.message),
        label,
      );
    }
    assert.deepEqual(parseKeyFile(JSON.stringify(file), 'alice', 'alice.json'), file);
  });

  it('accepts names of a-z, 0-9, _ and -, and nothing that could be an address', () => {
    for (const name of ['a', 'alice', 'bob-2', 'x_y', '0', 'a'.repeat(32)]) {
      assert.ok(isKeyName(name), name);
    }
    for (const name of [
      '',
      'Alice',
      '-a',
      '_a',
      'a b',
      'a.json',
      'a'.repeat(33),
      'cof1abc',
      '../x',
    ]) {
      assert.ok(!isKeyName(name), name);
    }
  });
});

describe('keystore directory', () => {
  it('stores keys as 0600 files in a 0700 directory, whatever the umask', async () => {
    const home = temporaryHome();
    const keystore = createKeystore({ home, scrypt: fast });
    const previous = process.umask(0o000);
    try {
      const entry = await keystore.add('alice', generateKey().secretKey, 'pw');
      assert.equal(fs.statSync(entry.file).mode & 0o777, 0o600);
    } finally {
      process.umask(previous);
    }
    assert.equal(fs.statSync(home).mode & 0o777, 0o700);
    assert.equal(fs.statSync(keystore.dir).mode & 0o777, 0o700);
    assert.deepEqual(fs.readdirSync(keystore.dir), ['alice.json'], 'no temporary file is left');
  });

  it('lists, finds and unlocks keys; unknown names are unknown_key', async () => {
    const keystore = createKeystore({ home: temporaryHome(), scrypt: fast });
    assert.deepEqual(keystore.list(), []);
    const bob = generateKey();
    const alice = generateKey();
    await keystore.add('bob', bob.secretKey, 'pw-b');
    await keystore.add('alice', alice.secretKey.toUpperCase(), 'pw-a');
    assert.deepEqual(
      keystore.list().map((e) => [e.name, e.address]),
      [
        ['alice', alice.address],
        ['bob', bob.address],
      ],
    );
    assert.equal(keystore.get('bob').address, bob.address);
    assert.equal(keystore.find('carol'), undefined);
    assert.deepEqual(await keystore.unlock('alice', 'pw-a'), alice);
    await assertCode(() => keystore.unlock('alice', 'pw-b'), 'wrong_passphrase', /key alice/);
    await assertCode(() => keystore.unlock('carol', 'pw'), 'unknown_key', /no key named carol/);
    assert.throws(() => keystore.get('carol'), /no key named carol/);
  });

  it('never overwrites: an existing name or address is key_exists', async () => {
    const keystore = createKeystore({ home: temporaryHome(), scrypt: fast });
    const key = generateKey();
    const entry = await keystore.add('alice', key.secretKey, 'pw');
    const before = fs.readFileSync(entry.file, 'utf8');
    await assertCode(() => keystore.add('alice', generateKey().secretKey, 'pw'), 'key_exists');
    await assertCode(() => keystore.add('other', key.secretKey, 'pw'), 'key_exists', /alice/);
    assert.equal(fs.readFileSync(entry.file, 'utf8'), before);
    await assertCode(() => keystore.add('Bad', key.secretKey, 'pw'), 'invalid_key_name');
    await assertCode(() => keystore.add('empty', generateKey().secretKey, ''), 'empty_passphrase');
    await assertCode(() => keystore.add('short', 'abcd', 'pw'), 'invalid_secret_key');
  });

  it('reports a key file whose address was edited on disk', async () => {
    const keystore = createKeystore({ home: temporaryHome(), scrypt: fast });
    const entry = await keystore.add('alice', generateKey().secretKey, 'pw');
    const file = JSON.parse(fs.readFileSync(entry.file, 'utf8')) as KeyFile;
    const other = generateKey().address;
    fs.writeFileSync(entry.file, JSON.stringify({ ...file, address: other }));
    assert.equal(
      keystore.get('alice').address,
      other,
      'the public part reads without a passphrase',
    );
    await assertCode(() => keystore.unlock('alice', 'pw'), 'keystore_corrupt');
  });
});
