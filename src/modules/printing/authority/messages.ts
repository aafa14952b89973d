/*
 * What an SBC signs to ask a hardware-id authority for its id (issue 23): pure and browser-safe
 * (src/crypto and the module's schema only), so the agent signs with the code the authority
 * verifies with. The message is the RFC 8785 canonical JSON of the domain and the fields: a
 * signature made for one purpose never passes for another.
 */
import { canonicalBytes, fromHex, sign, toHex, verify } from '../../../crypto/index.js';

export const hwidRequestDomain = 'coffer/printing/hwid-request/v1';

/** A device key: the raw 32-byte ed25519 public key as 64 lowercase hex. */
export const deviceKeyPattern = /^[0-9a-f]{64}$/;
/** An ed25519 signature: 128 lowercase hex. */
export const signatureHexPattern = /^[0-9a-f]{128}$/;
/** How far a signed request's timestamp may be from the receiver's clock: 5 minutes. */
export const requestSkewMs = 5 * 60_000;

export interface HwidRequestFields {
  /** The authority's address: a request made for one authority is refused by another. */
  authority: string;
  deviceKey: string;
  /** Unix milliseconds. */
  timestamp: number;
}

/** The bytes the device key signs for `POST /v1/hwids`. */
export function hwidRequestMessage(fields: HwidRequestFields): Uint8Array {
  return canonicalBytes({
    domain: hwidRequestDomain,
    authority: fields.authority,
    deviceKey: fields.deviceKey,
    timestamp: fields.timestamp,
  });
}

/** Signs `message` with a 64-hex ed25519 secret; the signature as 128 hex. */
export function signMessageHex(message: Uint8Array, secretKeyHex: string): string {
  return toHex(sign(message, fromHex(secretKeyHex, 'secretKey', 32)));
}

/** Never throws: a malformed key or signature is a false. */
export function verifyMessageHex(
  signatureHex: string,
  message: Uint8Array,
  publicKeyHex: string,
): boolean {
  if (!signatureHexPattern.test(signatureHex) || !deviceKeyPattern.test(publicKeyHex)) return false;
  try {
    return verify(fromHex(signatureHex), message, fromHex(publicKeyHex));
  } catch {
    return false;
  }
}
