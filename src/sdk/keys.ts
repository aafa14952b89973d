import {
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

export function importKey(secretKeyHex: string): SigningKey {
  const pair = keyPairFromSecret(fromHex(secretKeyHex, 'secretKey', 32));
  return { address: addressFromPublicKey(pair.publicKey), secretKey: toHex(pair.secretKey) };
}
