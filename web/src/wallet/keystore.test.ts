// The wallet's keystore (keystore.ts) on Node's WebCrypto, the same API the browser has: what is
// stored is sealed (no secret in it), the passphrase opens it and nothing else does, a sealed key
// moved to another entry does not open, and each refusal has its code.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { importKey } from '../../../src/sdk/index.js';
import {
  Keystore,
  WalletError,
  keysMax,
  passphraseLengthMin,
  pbkdf2Iterations,
  vaultStorageKey,
  type StoredVault,
} from './keystore.js';

/** An in-memory Storage (the page uses localStorage; Node has none). */
class MemoryStorage implements Storage {
  private items = new Map<string, string>();
  get length() {
    return this.items.size;
  }
  clear() {
    this.items.clear();
  }
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  key(index: number) {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
}

const passphrase = 'correct horse battery';
const secret = '1f'.repeat(32);
const code = (expected: WalletError['code']) => (error: unknown) => {
  assert.ok(error instanceof WalletError, String(error));
  assert.equal(error.code, expected);
  return true;
};

describe('wallet keystore', () => {
  it('pins its parameters', () => {
    assert.equal(pbkdf2Iterations, 600_000);
    assert.equal(passphraseLengthMin, 10);
    assert.equal(keysMax, 20);
    assert.equal(vaultStorageKey, 'coffer.wallet.v1');
  });

  it('stores an imported key sealed, and opens it with the passphrase only', async () => {
    const storage = new MemoryStorage();
    const store = new Keystore(storage);
    const entry = await store.create(passphrase, passphrase, secret);
    const expected = importKey(secret);
    assert.deepEqual(entry, { address: expected.address, label: 'Account 1' });
    const text = storage.getItem(vaultStorageKey)!;
    assert.equal(text.includes(secret), false, 'the secret is not stored in clear');
    assert.equal(text.includes(passphrase), false);
    const vault = JSON.parse(text) as StoredVault;
    assert.equal(vault.kdf.iterations, pbkdf2Iterations);
    assert.equal(atob(vault.kdf.salt).length, 16);
    assert.equal(atob(vault.keys[0]!.iv).length, 12);
    // 32 bytes of hex (64) plus the 16-byte GCM tag.
    assert.equal(atob(vault.keys[0]!.ciphertext).length, 64 + 16);

    const again = new Keystore(storage);
    assert.equal(again.isUnlocked, false);
    assert.deepEqual(again.keys(), [entry]);
    assert.throws(() => again.signer(entry.address), code('locked'));
    await assert.rejects(again.unlock('wrong passphrase!'), code('wrong_passphrase'));
    assert.equal(again.isUnlocked, false);
    await again.unlock(passphrase);
    assert.deepEqual(again.signer(entry.address), expected);
    again.lock();
    assert.throws(() => again.signer(entry.address), code('locked'));
  });

  it('refuses a weak or mistyped passphrase, a second vault and a bad secret', async () => {
    const store = new Keystore(new MemoryStorage());
    const short = 'x'.repeat(passphraseLengthMin - 1);
    await assert.rejects(store.create(short, short), code('weak_passphrase'));
    await assert.rejects(store.create(passphrase, `${passphrase}.`), code('passphrase_mismatch'));
    await assert.rejects(store.create(passphrase, passphrase, 'abc'), code('invalid_secret'));
    assert.equal(store.exists(), false, 'nothing stored after a refusal');
    const atMin = 'y'.repeat(passphraseLengthMin);
    await store.create(atMin, atMin);
    await assert.rejects(store.create(atMin, atMin), code('vault_exists'));
  });

  it('adds keys up to the limit, never the same one twice', async () => {
    const store = new Keystore(new MemoryStorage());
    await store.create(passphrase, passphrase, secret);
    await assert.rejects(store.add(secret), code('key_exists'));
    for (let i = 1; i < keysMax; i++) await store.add();
    assert.equal(store.keys().length, keysMax);
    assert.equal(store.keys()[keysMax - 1]!.label, `Account ${keysMax}`);
    await assert.rejects(store.add(), code('too_many_keys'));
    store.lock();
    await assert.rejects(store.add(), code('locked'));
  });

  it('a sealed key moved to another entry does not open (the address is authenticated)', async () => {
    const storage = new MemoryStorage();
    const store = new Keystore(storage);
    await store.create(passphrase, passphrase, secret);
    await store.add('2e'.repeat(32));
    const vault = JSON.parse(storage.getItem(vaultStorageKey)!) as StoredVault;
    const [a, b] = vault.keys;
    vault.keys = [
      { ...a!, iv: b!.iv, ciphertext: b!.ciphertext },
      { ...b!, iv: a!.iv, ciphertext: a!.ciphertext },
    ];
    storage.setItem(vaultStorageKey, JSON.stringify(vault));
    await assert.rejects(new Keystore(storage).unlock(passphrase), code('corrupt_vault'));
    storage.setItem(vaultStorageKey, '{not json');
    assert.throws(() => new Keystore(storage).keys(), code('corrupt_vault'));
  });

  it('reveal gives a key back for a backup, with the passphrase asked again', async () => {
    const store = new Keystore(new MemoryStorage());
    const entry = await store.create(passphrase, passphrase, secret);
    assert.equal(await store.reveal(entry.address, passphrase), secret);
    await assert.rejects(
      store.reveal(entry.address, 'not the passphrase'),
      code('wrong_passphrase'),
    );
    await assert.rejects(
      store.reveal(importKey('3d'.repeat(32)).address, passphrase),
      code('locked'),
    );
  });

  it('forget removes the vault', async () => {
    const storage = new MemoryStorage();
    const store = new Keystore(storage);
    await store.create(passphrase, passphrase);
    store.forget();
    assert.equal(storage.getItem(vaultStorageKey), null);
    assert.equal(store.isUnlocked, false);
    await assert.rejects(store.unlock(passphrase), code('no_vault'));
  });
});
