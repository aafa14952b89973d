import { exportKey, generateKey, importKey, type SigningKey } from '../../../src/sdk/index.js';

/*
 * The wallet's keys, kept in this browser's localStorage encrypted under a passphrase: PBKDF2
 * (SHA-256, 600,000 iterations, a random 16-byte salt per vault) derives an AES-256-GCM key; each
 * secret is sealed with a fresh 12-byte IV and its address as additional data, so a ciphertext
 * moved to another entry does not open. The passphrase and the secrets never leave the page; the
 * unlocked keys live in memory only until `lock()` or a reload.
 */

export const vaultStorageKey = 'coffer.wallet.v1';
export const pbkdf2Iterations = 600_000;
export const passphraseLengthMin = 10;
export const keysMax = 20;

interface SealedKey {
  address: string;
  label: string;
  iv: string;
  ciphertext: string;
}

export interface StoredVault {
  version: 1;
  kdf: { name: 'PBKDF2'; hash: 'SHA-256'; iterations: number; salt: string };
  /** Sealed with the vault key: proves a passphrase right before any key is opened. */
  check: { iv: string; ciphertext: string };
  keys: SealedKey[];
}

export class WalletError extends Error {
  constructor(
    readonly code:
      | 'wrong_passphrase'
      | 'weak_passphrase'
      | 'passphrase_mismatch'
      | 'vault_exists'
      | 'no_vault'
      | 'locked'
      | 'too_many_keys'
      | 'key_exists'
      | 'invalid_secret'
      | 'corrupt_vault',
    message: string,
  ) {
    super(message);
  }
}

const encoder = new TextEncoder();
const checkText = 'coffer wallet v1';

function b64(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}

function unb64(text: string): Uint8Array<ArrayBuffer> {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

function random(length: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(length));
}

async function deriveKey(passphrase: string, salt: Uint8Array<ArrayBuffer>, iterations: number) {
  const material = await crypto.subtle.importKey(
    'raw',
    encoder.encode(passphrase),
    'PBKDF2',
    false,
    ['deriveKey'],
  );
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

async function seal(key: CryptoKey, plain: string, aad: string) {
  const iv = random(12);
  const ciphertext = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: encoder.encode(aad) },
    key,
    encoder.encode(plain),
  );
  return { iv: b64(iv), ciphertext: b64(new Uint8Array(ciphertext)) };
}

async function open(key: CryptoKey, sealed: { iv: string; ciphertext: string }, aad: string) {
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: unb64(sealed.iv), additionalData: encoder.encode(aad) },
    key,
    unb64(sealed.ciphertext),
  );
  return new TextDecoder().decode(plain);
}

export interface WalletKey {
  address: string;
  label: string;
}

/** One vault in one storage (localStorage in the page; any Storage in tests). */
export class Keystore {
  private vaultKey: CryptoKey | undefined;
  private unlocked = new Map<string, SigningKey>();

  constructor(private readonly storage: Storage = localStorage) {}

  private read(): StoredVault | undefined {
    const text = this.storage.getItem(vaultStorageKey);
    if (text === null) return undefined;
    try {
      const vault = JSON.parse(text) as StoredVault;
      if (vault.version !== 1 || !Array.isArray(vault.keys)) throw new Error('shape');
      return vault;
    } catch {
      throw new WalletError('corrupt_vault', 'The stored wallet is not readable.');
    }
  }

  private write(vault: StoredVault): void {
    this.storage.setItem(vaultStorageKey, JSON.stringify(vault));
  }

  exists(): boolean {
    return this.storage.getItem(vaultStorageKey) !== null;
  }

  get isUnlocked(): boolean {
    return this.vaultKey !== undefined;
  }

  /** The addresses and labels (readable while locked: they are not secret). */
  keys(): WalletKey[] {
    return (this.read()?.keys ?? []).map(({ address, label }) => ({ address, label }));
  }

  /** A new vault under `passphrase`, with its first key: a new one, or `secretHex` imported. */
  async create(passphrase: string, confirm: string, secretHex?: string): Promise<WalletKey> {
    if (this.exists()) throw new WalletError('vault_exists', 'This browser already has a wallet.');
    if (passphrase.length < passphraseLengthMin) {
      throw new WalletError(
        'weak_passphrase',
        `Use a passphrase of at least ${passphraseLengthMin} characters.`,
      );
    }
    if (passphrase !== confirm) {
      throw new WalletError('passphrase_mismatch', 'The two passphrases differ.');
    }
    const signing = secretHex === undefined ? generateKey() : this.parseSecret(secretHex);
    const salt = random(16);
    const key = await deriveKey(passphrase, salt, pbkdf2Iterations);
    const vault: StoredVault = {
      version: 1,
      kdf: { name: 'PBKDF2', hash: 'SHA-256', iterations: pbkdf2Iterations, salt: b64(salt) },
      check: await seal(key, checkText, 'check'),
      keys: [],
    };
    const entry = { address: signing.address, label: 'Account 1' };
    vault.keys.push({ ...entry, ...(await seal(key, exportKey(signing), signing.address)) });
    this.write(vault);
    this.vaultKey = key;
    this.unlocked.set(signing.address, signing);
    return entry;
  }

  async unlock(passphrase: string): Promise<void> {
    const vault = this.read();
    if (!vault) throw new WalletError('no_vault', 'There is no wallet in this browser yet.');
    const key = await deriveKey(passphrase, unb64(vault.kdf.salt), vault.kdf.iterations);
    try {
      if ((await open(key, vault.check, 'check')) !== checkText) throw new Error('check');
    } catch {
      throw new WalletError('wrong_passphrase', 'That passphrase does not open this wallet.');
    }
    const opened = new Map<string, SigningKey>();
    for (const sealed of vault.keys) {
      const secret = await open(key, sealed, sealed.address).catch(() => {
        throw new WalletError('corrupt_vault', `The key of ${sealed.address} does not open.`);
      });
      const signing = importKey(secret);
      if (signing.address !== sealed.address) {
        throw new WalletError(
          'corrupt_vault',
          `The key stored for ${sealed.address} is another's.`,
        );
      }
      opened.set(signing.address, signing);
    }
    this.vaultKey = key;
    this.unlocked = opened;
  }

  lock(): void {
    this.vaultKey = undefined;
    this.unlocked = new Map();
  }

  /** Adds a key (new, or imported from its hex secret) to the unlocked vault. */
  async add(secretHex?: string): Promise<WalletKey> {
    const vault = this.read();
    if (!vault) throw new WalletError('no_vault', 'There is no wallet in this browser yet.');
    if (!this.vaultKey) throw new WalletError('locked', 'Unlock the wallet first.');
    if (vault.keys.length >= keysMax) {
      throw new WalletError('too_many_keys', `A wallet holds at most ${keysMax} keys.`);
    }
    const signing = secretHex === undefined ? generateKey() : this.parseSecret(secretHex);
    if (vault.keys.some((k) => k.address === signing.address)) {
      throw new WalletError('key_exists', 'That key is already in this wallet.');
    }
    const entry = { address: signing.address, label: `Account ${vault.keys.length + 1}` };
    vault.keys.push({
      ...entry,
      ...(await seal(this.vaultKey, exportKey(signing), signing.address)),
    });
    this.write(vault);
    this.unlocked.set(signing.address, signing);
    return entry;
  }

  /** The signing key of `address`, while unlocked. */
  signer(address: string): SigningKey {
    const key = this.unlocked.get(address);
    if (!key) throw new WalletError('locked', 'Unlock the wallet first.');
    return key;
  }

  /**
   * The secret of `address` as 64 hex digits, for a backup: asks for the passphrase again, so an
   * unlocked page left open does not give the key to whoever sits down at it.
   */
  async reveal(address: string, passphrase: string): Promise<string> {
    const vault = this.read();
    if (!vault) throw new WalletError('no_vault', 'There is no wallet in this browser yet.');
    const sealed = vault.keys.find((k) => k.address === address);
    if (!sealed) throw new WalletError('locked', 'That account is not in this wallet.');
    const key = await deriveKey(passphrase, unb64(vault.kdf.salt), vault.kdf.iterations);
    try {
      return await open(key, sealed, sealed.address);
    } catch {
      throw new WalletError('wrong_passphrase', 'That passphrase does not open this wallet.');
    }
  }

  /** Deletes the vault from this browser (its keys are gone unless backed up). */
  forget(): void {
    this.lock();
    this.storage.removeItem(vaultStorageKey);
  }

  private parseSecret(secretHex: string): SigningKey {
    try {
      return importKey(secretHex.trim());
    } catch {
      throw new WalletError('invalid_secret', 'A secret key is 64 hexadecimal digits.');
    }
  }
}
