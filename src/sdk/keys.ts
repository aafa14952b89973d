import {
  CryptoInputError,
  addressFromPublicKey,
  fromHex,
  generateKeyPair,
  keyPairFromSecret,
  toHex,
} from '../crypto/index.js';

/** A signing key as the SDK hands it around: the address and the hex secret (RFC 8032 seed). */
export interface SigningKey {
  address: string;
  secretKey: string;
}

export function generateKey(): SigningKey {
  const pair = generateKeyPair();
  return { address: addressFromPublicKey(pair.publicKey), secretKey: toHex(pair.secretKey) };
}

/** The key of a 32-byte secret given as 64 hex digits (either case); the address is derived. */
export function importKey(secretKeyHex: string): SigningKey {
  const pair = keyPairFromSecret(fromHex(secretKeyHex, 'secretKey', 32));
  return { address: addressFromPublicKey(pair.publicKey), secretKey: toHex(pair.secretKey) };
}

/**
 * The secret of `key` as 64 lowercase hex digits, what `importKey` takes back. Checks that the
 * secret really is the address's, so a key object edited by hand is caught here rather than
 * as a `bad_signature` from the node.
 */
export function exportKey(key: SigningKey): string {
  if (typeof key !== 'object' || key === null) {
    throw new CryptoInputError('key', 'key must be an object { address, secretKey }');
  }
  const imported = importKey(key.secretKey);
  if (imported.address !== key.address) {
    throw new CryptoInputError('key.address', 'key.address is not the address of key.secretKey');
  }
  return imported.secretKey;
}
