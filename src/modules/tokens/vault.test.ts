import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';

import { luhnValid } from './schema.js';
import {
  newVaultKeyDocument,
  openPan,
  panFingerprint,
  parseVaultKeys,
  randomToken,
  readVaultKeyFile,
  rewrapEnvelope,
  sealPan,
  VaultKeyError,
  VaultOpenError,
  writeVaultKeyFile,
} from './vault.js';

const pan = '4111111111111111';
const token = '9900011234567897';
const keys = parseVaultKeys(newVaultKeyDocument());

describe('the vault envelope', () => {
  it('seals a PAN that opens for its token and chain only', () => {
    const envelope = sealPan(keys, 'chain-a', token, pan);
    assert.equal(openPan(keys, 'chain-a', token, envelope), pan);
    assert.equal(JSON.stringify(envelope).includes(pan), false);
    assert.throws(() => openPan(keys, 'chain-b', token, envelope), VaultOpenError);
    assert.throws(() => openPan(keys, 'chain-a', '9900011234567889', envelope), VaultOpenError);
    const other = parseVaultKeys(newVaultKeyDocument());
    assert.throws(() => openPan(other, 'chain-a', token, envelope), VaultOpenError);
  });

  it('every flipped byte of the envelope fails to open', () => {
    const envelope = sealPan(keys, 'c', token, pan);
    fc.assert(
      fc.property(
        fc.constantFrom('wrappedKey', 'iv', 'ciphertext' as const),
        fc.nat(),
        (field, at) => {
          const hex = envelope[field];
          const i = (at % (hex.length / 2)) * 2;
          const byte = (parseInt(hex.slice(i, i + 2), 16) ^ 1).toString(16).padStart(2, '0');
          const tampered = { ...envelope, [field]: hex.slice(0, i) + byte + hex.slice(i + 2) };
          assert.throws(() => openPan(keys, 'c', token, tampered), VaultOpenError);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('each seal uses a fresh data key and IV', () => {
    const a = sealPan(keys, 'c', token, pan);
    const b = sealPan(keys, 'c', token, pan);
    assert.notEqual(a.ciphertext, b.ciphertext);
    assert.notEqual(a.wrappedKey, b.wrappedKey);
  });

  it('rotation: a new KEK re-wraps the data key; the old KEK may then be dropped', () => {
    const doc = newVaultKeyDocument('k1');
    const before = parseVaultKeys(doc);
    const envelope = sealPan(before, 'c', token, pan);
    const rotated = parseVaultKeys({
      ...doc,
      keks: [...doc.keks, { id: 'k2', key: '33'.repeat(32) }],
      current: 'k2',
    });
    const rewrapped = rewrapEnvelope(rotated, token, envelope);
    assert.equal(rewrapped.kekId, 'k2');
    assert.equal(rewrapped.ciphertext, envelope.ciphertext);
    const only2 = parseVaultKeys({
      ...doc,
      keks: [{ id: 'k2', key: '33'.repeat(32) }],
      current: 'k2',
    });
    assert.equal(openPan(only2, 'c', token, rewrapped), pan);
    assert.throws(() => openPan(only2, 'c', token, envelope), /no key-encryption key k1/);
    // The fingerprint key does not rotate: the same PAN keeps its fingerprint.
    assert.equal(panFingerprint(before, pan), panFingerprint(only2, pan));
  });
});

describe('the vault keys', () => {
  it('the fingerprint is keyed: another key, another value', () => {
    const a = panFingerprint(keys, pan);
    assert.match(a, /^[0-9a-f]{64}$/);
    assert.equal(a, panFingerprint(keys, pan));
    assert.notEqual(a, panFingerprint(parseVaultKeys(newVaultKeyDocument()), pan));
    assert.notEqual(a, panFingerprint(keys, '4111111111111129'));
  });

  it('reads a key file and refuses bad ones without printing a key', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-vault-'));
    try {
      const file = path.join(dir, 'vault.json');
      const doc = newVaultKeyDocument('main');
      fs.writeFileSync(file, JSON.stringify(doc), { mode: 0o600 });
      assert.equal(readVaultKeyFile(file).currentKekId, 'main');
      const bad: unknown[] = [
        'nope',
        { ...doc, fingerprintKey: 'ab' },
        { ...doc, keks: [] },
        { ...doc, keks: [{ id: 'a b', key: doc.keks[0]!.key }] },
        { ...doc, keks: [{ id: 'x', key: 'zz' }] },
        { ...doc, current: 'other' },
      ];
      for (const content of bad) {
        fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
        assert.throws(
          () => readVaultKeyFile(file),
          (error: Error) =>
            error instanceof VaultKeyError && !error.message.includes(doc.keks[0]!.key),
        );
      }
      assert.throws(() => readVaultKeyFile(path.join(dir, 'absent')), VaultKeyError);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a key file group or others may read, saying chmod 600', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-vault-'));
    try {
      const file = path.join(dir, 'vault.json');
      fs.writeFileSync(file, JSON.stringify(newVaultKeyDocument()), { mode: 0o600 });
      for (const mode of [0o640, 0o604, 0o644]) {
        fs.chmodSync(file, mode);
        assert.throws(
          () => readVaultKeyFile(file),
          (error: Error) =>
            error instanceof VaultKeyError &&
            error.code === 'invalid_vault_key' &&
            error.message.includes('chmod 600'),
        );
      }
      fs.chmodSync(file, 0o600);
      assert.equal(readVaultKeyFile(file).keks.size, 1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says "not JSON" without quoting the file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-vault-'));
    try {
      const file = path.join(dir, 'vault.json');
      const secret = 'ab'.repeat(32);
      fs.writeFileSync(file, `{"fingerprintKey": "${secret}", oops`, { mode: 0o600 });
      assert.throws(
        () => readVaultKeyFile(file),
        (error: Error) =>
          error instanceof VaultKeyError &&
          error.message.endsWith('not JSON') &&
          !error.message.includes(secret.slice(0, 8)),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes key files atomically, mode 0600, never over one that exists when asked not to', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-vault-'));
    const umask = process.umask(0o000);
    try {
      const file = path.join(dir, 'vault.json');
      writeVaultKeyFile(file, newVaultKeyDocument('a'), true);
      assert.equal((fs.statSync(file).mode & 0o777).toString(8), '600');
      assert.throws(() => writeVaultKeyFile(file, newVaultKeyDocument('b'), true), /EEXIST/);
      assert.equal(readVaultKeyFile(file).currentKekId, 'a');
      fs.chmodSync(file, 0o644);
      writeVaultKeyFile(file, newVaultKeyDocument('c'), false);
      assert.equal((fs.statSync(file).mode & 0o777).toString(8), '600');
      assert.equal(readVaultKeyFile(file).currentKekId, 'c');
      assert.deepEqual(fs.readdirSync(dir), ['vault.json'], 'no temporary file left');
    } finally {
      process.umask(umask);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('randomToken', () => {
  it('is in the token BIN, of the length asked, and passes Luhn', () => {
    fc.assert(
      fc.property(fc.integer({ min: 13, max: 19 }), (length) => {
        const t = randomToken('990001', length);
        assert.equal(t.length, length);
        assert.ok(t.startsWith('990001'));
        assert.ok(luhnValid(t));
      }),
      { numRuns: 100 },
    );
  });
});
