import { gcm } from '@noble/ciphers/aes.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import {
  CryptoInputError,
  canonicalBytes,
  concatBytes,
  fromHex,
  publicKeyFromAddress,
  sha256Hex,
  sign,
  signingMessage,
  toHex,
  utf8,
  verify,
} from '../../crypto/index.js';

/*
 * The cards module's cryptography, pure (noble and src/crypto), so the node, the device program,
 * the SDK and the console compute the same bytes. docs/architecture.md (`cards`) specifies each.
 *
 * - A card token is a limited-use key: 32 bytes, good for one payment. The ledger records only
 *   SHA-256 of the key (`cardTokenKeyHash`).
 * - The device proves a payment with a cryptogram: HMAC-SHA-256 under the key over the canonical
 *   JSON of what it pays (`cryptogramMessage`), as EMV's ARQC covers amount, currency,
 *   unpredictable number and the transaction counter.
 * - Keys travel to a device sealed to its X25519 box key: one ephemeral key per batch, HKDF-SHA-256
 *   of the shared secret, AES-256-GCM per key with the token's identity as associated data.
 * - Requests (a device's box key, a token batch, an acquirer's authorisation) are signed with
 *   ed25519 over `signingMessage('cardRequest', cardRequestHash(kind, chainId, fields))`.
 */

export const cardTokenKeyBytes = 32;
export const boxKeyBytes = 32;
const ivBytes = 12;

/** What a card request signs, by kind. */
export type CardRequestKind = 'deviceBoxKey' | 'mint' | 'authorise';

/** A JSON value of strings only (nested objects allowed): what a request's fields are. */
export type RequestFields = { readonly [key: string]: string | RequestFields | undefined };

function present(fields: RequestFields): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields)
      .filter((entry) => entry[1] !== undefined)
      .map(([key, value]) => [key, typeof value === 'string' ? value : present(value!)]),
  );
}

/**
 * The hash a card request signs: hex(SHA-256(RFC 8785 canonical JSON of {kind, chainId,
 * ...fields})), every value a string (numbers in decimal) or an object of them, an absent field
 * left out. `kind` keeps one kind of request from being replayed as another, `chainId` one chain's
 * from another's.
 */
export function cardRequestHash(
  kind: CardRequestKind,
  chainId: string,
  fields: RequestFields,
): string {
  if (typeof chainId !== 'string' || chainId.length === 0) {
    throw new CryptoInputError('chainId', 'chainId must be a non-empty string');
  }
  return sha256Hex(canonicalBytes({ ...present(fields), kind, chainId }));
}

/** Signs a card request with an ed25519 secret key (a device's, an issuer's, an acquirer's). */
export function signCardRequest(
  kind: CardRequestKind,
  chainId: string,
  fields: RequestFields,
  secretKey: Uint8Array,
): string {
  return toHex(
    sign(signingMessage('cardRequest', cardRequestHash(kind, chainId, fields)), secretKey),
  );
}

/** True when `signature` is `signer`'s (an address) over the request; false on any bad input. */
export function cardRequestSigned(
  kind: CardRequestKind,
  chainId: string,
  fields: RequestFields,
  signer: string,
  signature: string,
): boolean {
  try {
    return verify(
      fromHex(signature, 'signature', 64),
      signingMessage('cardRequest', cardRequestHash(kind, chainId, fields)),
      publicKeyFromAddress(signer),
    );
  } catch {
    return false;
  }
}

/** SHA-256 of a card token's key, lowercase hex: all the ledger keeps of it. */
export function cardTokenKeyHash(key: Uint8Array): string {
  if (key.length !== cardTokenKeyBytes) throw new CryptoInputError('key', 'expected 32 bytes');
  return toHex(sha256(key));
}

/** What a device pays with one card token: the terminal's request and its own counter. */
export interface PaymentData {
  readonly token: string;
  /** The device's application transaction counter, after this payment. */
  readonly counter: number;
  readonly amount: string;
  readonly currency: string;
  readonly merchantId: string;
  /** The terminal's unpredictable number: 4 random bytes, 8 hex digits. */
  readonly unpredictableNumber: string;
}

/** The bytes a cryptogram covers: canonical JSON of the payment, with the chain id. */
export function cryptogramMessage(chainId: string, payment: PaymentData): Uint8Array {
  return canonicalBytes({
    kind: 'cryptogram',
    chainId,
    token: payment.token,
    counter: String(payment.counter),
    amount: payment.amount,
    currency: payment.currency,
    merchantId: payment.merchantId,
    unpredictableNumber: payment.unpredictableNumber,
  });
}

/** HMAC-SHA-256 under the card token's key over `cryptogramMessage`, lowercase hex. */
export function cryptogram(key: Uint8Array, chainId: string, payment: PaymentData): string {
  if (key.length !== cardTokenKeyBytes) throw new CryptoInputError('key', 'expected 32 bytes');
  return toHex(hmac(sha256, key, cryptogramMessage(chainId, payment)));
}

/** True when `mac` (hex) is the cryptogram of `payment` under `key`, compared in constant time. */
export function cryptogramValid(
  key: Uint8Array,
  chainId: string,
  payment: PaymentData,
  mac: string,
): boolean {
  if (!/^[0-9a-f]{64}$/.test(mac)) return false;
  const expected = hmac(sha256, key, cryptogramMessage(chainId, payment));
  return constantTimeEqual(expected, fromHex(mac, 'cryptogram', 32));
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i += 1) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** The associated data of one sealed key: the chain, card, device and token it belongs to. */
function sealedKeyAad(chainId: string, card: string, device: string, token: string): Uint8Array {
  return utf8(`coffer/cards/token-key/v1|${chainId}|${card}|${device}|${token}`);
}

function boxKey(shared: Uint8Array, ephemeral: Uint8Array, recipient: Uint8Array): Uint8Array {
  return hkdf(sha256, shared, concatBytes(ephemeral, recipient), utf8('coffer/cards/box/v1'), 32);
}

/** A batch of card-token keys sealed to a device's box key. */
export interface SealedBatch {
  /** The batch's ephemeral X25519 public key, hex. */
  readonly ephemeralKey: string;
  readonly tokens: readonly { token: string; iv: string; sealedKey: string }[];
}

/** Random bytes from the platform's CSPRNG (WebCrypto, in Node and browsers). */
export function randomBytes(length: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(length));
}

/** A device's X25519 key pair for receiving keys. */
export function newBoxKeyPair(): { secretKey: Uint8Array; publicKey: Uint8Array } {
  const secretKey = x25519.utils.randomSecretKey();
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

export function boxPublicKey(secretKey: Uint8Array): Uint8Array {
  return x25519.getPublicKey(secretKey);
}

/**
 * True when `boxKey` (hex) is an X25519 public key keys can be sealed to: not a low-order point,
 * whose shared secret would be all zeros (noble refuses those). Deterministic: a fixed scalar.
 */
export function isBoxKey(boxKey: string): boolean {
  try {
    x25519.getSharedSecret(new Uint8Array(32).fill(1), fromHex(boxKey, 'boxKey', boxKeyBytes));
    return true;
  } catch {
    return false;
  }
}

/** Seals each token's key to the device's box key (hex), so only the device opens them. */
export function sealTokenKeys(
  recipientBoxKey: string,
  chainId: string,
  card: string,
  device: string,
  keys: readonly { token: string; key: Uint8Array }[],
): SealedBatch {
  const recipient = fromHex(recipientBoxKey, 'boxKey', boxKeyBytes);
  const ephemeralSecret = x25519.utils.randomSecretKey();
  const ephemeral = x25519.getPublicKey(ephemeralSecret);
  const aesKey = boxKey(x25519.getSharedSecret(ephemeralSecret, recipient), ephemeral, recipient);
  return {
    ephemeralKey: toHex(ephemeral),
    tokens: keys.map(({ token, key }) => {
      const iv = randomBytes(ivBytes);
      const sealed = gcm(aesKey, iv, sealedKeyAad(chainId, card, device, token)).encrypt(key);
      return { token, iv: toHex(iv), sealedKey: toHex(sealed) };
    }),
  };
}

/** Opens a sealed batch with the device's box secret key; throws when anything does not open. */
export function openTokenKeys(
  boxSecretKey: Uint8Array,
  chainId: string,
  card: string,
  device: string,
  batch: SealedBatch,
): { token: string; key: Uint8Array }[] {
  const ephemeral = fromHex(batch.ephemeralKey, 'ephemeralKey', boxKeyBytes);
  const recipient = x25519.getPublicKey(boxSecretKey);
  const aesKey = boxKey(x25519.getSharedSecret(boxSecretKey, ephemeral), ephemeral, recipient);
  return batch.tokens.map(({ token, iv, sealedKey }) => {
    const key = gcm(
      aesKey,
      fromHex(iv, 'iv', ivBytes),
      sealedKeyAad(chainId, card, device, token),
    ).decrypt(fromHex(sealedKey, 'sealedKey', cardTokenKeyBytes + 16));
    return { token, key };
  });
}

/**
 * The key of card token `token`, derived from the consortium's card master key (as EMV derives a
 * card's keys from the issuer master key): HMAC-SHA-256(master, "coffer/cards/token-key/v1|" +
 * chainId + "|" + token). Every node holding the vault key file derives the same key, so no key is
 * stored anywhere but in the device; the token id itself is 16 random bytes.
 */
export function deriveCardTokenKey(master: Uint8Array, chainId: string, token: string): Uint8Array {
  return hmac(sha256, master, utf8(`coffer/cards/token-key/v1|${chainId}|${token}`));
}

/**
 * The card master key, from the vault's fingerprint key (HMAC under it of a label no PAN can
 * equal, so it never collides with a PAN's fingerprint).
 */
export function cardMasterKey(fingerprintKey: Uint8Array): Uint8Array {
  return hmac(sha256, fingerprintKey, utf8('coffer/cards/master-key/v1'));
}
