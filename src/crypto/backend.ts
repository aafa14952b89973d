/**
 * The primitives under src/crypto (hashes, ed25519, randomness, hex), behind one interface with
 * two implementations that give byte-identical results:
 *
 * - `backend-node.ts`: node:crypto (OpenSSL) with its KeyObject caches, the fast path of the
 *   node and of Node clients.
 * - `backend-portable.ts`: @noble/curves, @noble/hashes and `globalThis.crypto.getRandomValues`,
 *   for browsers. Synchronous like the node path (WebCrypto is async, the SDK is not), about
 *   20x slower per signature, which a wallet does not notice.
 *
 * How one is chosen: this file imports `./backend-node.js`, and package.json's `"browser"` field
 * maps that file (as source and as built in dist/) to `./backend-portable.js`. Bundlers that
 * build for browsers (esbuild `platform: 'browser'`, webpack, Vite, Rollup's node-resolve with
 * `browser: true`) honour that map, so a browser bundle never holds a `node:` import; Node, tsx
 * and tsc ignore the field and keep node:crypto. test/sdk-browser.test.ts bundles the SDK that
 * way and runs it in Chromium against docs/test-vectors.json.
 */

/** What src/crypto needs from a crypto library. Inputs are checked by the callers. */
export interface CryptoBackend {
  readonly name: 'node' | 'portable';
  /** SHA-256 of bytes, or of the UTF-8 encoding of a string (lone surrogates as U+FFFD). */
  sha256(data: Uint8Array | string): Uint8Array;
  /** Lowercase hex of sha256(data). */
  sha256Hex(data: Uint8Array | string): string;
  sha512(data: Uint8Array): Uint8Array;
  /** RFC 5869 HKDF-SHA256; an empty salt is HashLen zero bytes, as the RFC says. */
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  /**
   * AES-256-GCM with a 16-byte tag, returning ciphertext || tag (node:crypto, or noble's ciphers
   * in the portable backend); undefined where a backend has none.
   */
  readonly aes256Gcm: Aes256Gcm | undefined;
  /** The RFC 8032 public key of a 32-byte seed. */
  ed25519PublicKey(secretKey: Uint8Array): Uint8Array;
  /** The RFC 8032 signature (deterministic) of `message` by the 32-byte seed `secretKey`. */
  ed25519Sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array;
  /**
   * OpenSSL's ed25519 check: s below L, then the encoding of sB - kA equal to R byte for byte
   * (cofactorless; noble's own `verify` is cofactored and would accept a few more signatures).
   * Takes a 64-byte signature and a 32-byte public key that keys.ts has found not weak
   * (canonical, not of small order). Never throws.
   */
  ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
  /** `length` bytes from the platform's CSPRNG. */
  randomBytes(length: number): Uint8Array;
  toHex(bytes: Uint8Array): string;
  /** Bytes of a hex string the caller has checked: even length, hex digits only. */
  fromCheckedHex(hex: string): Uint8Array;
}

export interface Aes256Gcm {
  encrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  /** The plaintext, or undefined when the tag does not match. */
  decrypt(
    key: Uint8Array,
    iv: Uint8Array,
    sealed: Uint8Array,
    aad: Uint8Array,
  ): Uint8Array | undefined;
}

export { backend } from './backend-node.js';
