/*
 * What an SBC and a designer sign for the print server (issue 23): pure and browser-safe, so the
 * agent and the CLI sign with the code the server verifies with. Each message is the RFC 8785
 * canonical JSON of its domain and fields.
 */
import { canonicalBytes } from '../../../crypto/index.js';
import { profileHashOf, type PrinterProfile } from '../schema.js';

export { signMessageHex, verifyMessageHex, requestSkewMs } from '../authority/messages.js';

export const registrationRequestDomain = 'coffer/printing/registration-request/v1';
export const designUploadAuthorisationDomain = 'coffer/printing/upload/v1';

export interface RegistrationRequestFields {
  /** The print server's address (its account): a request for one server fails at another. */
  server: string;
  hardwareId: string;
  /** The device's ed25519 public key, 64 hex: the one the hardware id was issued for. */
  deviceKey: string;
  owner: string;
  ownerProof: string;
  /**
   * The device key's consent to this server registering it for this owner and profile
   * (`printerDeviceMessage`): the server relays it in `printer.register`, the chain checks it.
   */
  deviceProof: string;
  profile: PrinterProfile;
  /** Unix milliseconds. */
  timestamp: number;
}

/**
 * The bytes the device key signs for `POST /v1/printing/registrations` (the profile by its hash,
 * `profileHashOf`). The registration secret is not in it: it travels in the body, over TLS.
 */
export function registrationRequestMessage(fields: RegistrationRequestFields): Uint8Array {
  return canonicalBytes({
    domain: registrationRequestDomain,
    server: fields.server,
    hardwareId: fields.hardwareId,
    deviceKey: fields.deviceKey,
    owner: fields.owner,
    ownerProof: fields.ownerProof,
    deviceProof: fields.deviceProof,
    profileHash: profileHashOf(fields.profile),
    timestamp: fields.timestamp,
  });
}

export interface DesignUploadAuthorisationFields {
  server: string;
  designer: string;
  /** SHA-256 (64 hex) of the G-code's bytes. */
  contentHash: string;
  sizeBytes: number;
  /** Unix milliseconds. */
  timestamp: number;
}

/**
 * The bytes the designer signs to upload G-code (`x-coffer-upload-authorisation`): checked before
 * the body is read (its hash and size are announced in headers and checked as it arrives), so
 * nobody takes an upload slot in a designer's name without the designer's key.
 */
export function designUploadAuthorisationMessage(
  fields: DesignUploadAuthorisationFields,
): Uint8Array {
  return canonicalBytes({
    domain: designUploadAuthorisationDomain,
    server: fields.server,
    designer: fields.designer,
    contentHash: fields.contentHash,
    sizeBytes: fields.sizeBytes,
    timestamp: fields.timestamp,
  });
}
