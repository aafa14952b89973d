/*
 * What the content gateway's clients sign (docs/licensing-gateway.md): the upload of a content by
 * its owner, a licensee's request for an access token, and the proof of possession that goes with
 * each request for content bytes (header mode) or with a URL (URL mode, for `<video src>`).
 *
 * Pure and browser-safe: it imports src/crypto only, so the console's play page signs with the
 * same code the gateway verifies with. Each message is a domain tag (a signature made for one
 * purpose never passes for another) and its fields, one per line; a field never holds a line
 * break (each is checked against a pattern here, on both sides).
 */
import { publicKeyFromAddress, sign, utf8, verify, fromHex, toHex } from '../../../crypto/index.js';

export const gatewaySigningDomains = {
  upload: 'coffer/licensing/upload/v1',
  uploadAuthorisation: 'coffer/licensing/upload-authorisation/v1',
  tokenRequest: 'coffer/licensing/token-request/v1',
  pop: 'coffer/licensing/pop/v1',
  url: 'coffer/licensing/url/v1',
} as const;

export const contentIdPattern = /^[0-9a-f]{64}$/;
export const agreementIdPattern = /^[0-9a-f]{64}$/;
export const publicKeyPattern = /^[0-9a-f]{64}$/;
export const signaturePattern = /^[0-9a-f]{128}$/;
/** A device id as the client names it (hashed before it reaches the chain): printable ASCII. */
export const devicePattern = /^[\x21-\x7e]{1,128}$/;
/** A token id (`jti`): 32 hex digits. */
export const jtiPattern = /^[0-9a-f]{32}$/;
export const gatewayActions = [
  'play',
  'display',
  'download',
  'print',
  'distribute',
  'sublicense',
] as const;
export type GatewayAction = (typeof gatewayActions)[number];
/**
 * The actions a token is issued for: each gives the content's bytes (they differ in what they
 * count and in `Content-Disposition`). `distribute` and `sublicense` give no bytes here (a
 * sublicence is granted on chain), so a token request for them is refused (`action_not_served`).
 */
export const servedActions = ['play', 'display', 'download', 'print'] as const;
export type ServedAction = (typeof servedActions)[number];
export const isServedAction = (action: string): action is ServedAction =>
  (servedActions as readonly string[]).includes(action);

export class GatewayMessageError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

function check(value: unknown, pattern: RegExp, field: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new GatewayMessageError(field, `${field} is malformed`);
  }
  return value;
}

function checkTime(value: unknown, field = 'time'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new GatewayMessageError(field, `${field} must be Unix milliseconds`);
  }
  return value;
}

function lines(domain: string, fields: (string | number)[]): Uint8Array {
  return utf8([domain, ...fields.map(String)].join('\n'));
}

/** The owner's upload: `sha256(body)` (hex) ‖ owner address ‖ time (Unix ms). */
export function uploadMessage(input: { bodySha256: string; owner: string; time: number }) {
  publicKeyFromAddress(input.owner, 'owner');
  return lines(gatewaySigningDomains.upload, [
    check(input.bodySha256, contentIdPattern, 'bodySha256'),
    input.owner,
    checkTime(input.time),
  ]);
}

/**
 * The owner's pre-authorisation of an upload, checked before the body is read (the body's hash is
 * not known then): owner address ‖ time (Unix ms) ‖ the body's length in bytes. Sent as
 * `x-coffer-upload-authorisation`; without it nobody can take an upload slot in an owner's name.
 */
export function uploadAuthorisationMessage(input: { owner: string; time: number; length: number }) {
  publicKeyFromAddress(input.owner, 'owner');
  if (!Number.isSafeInteger(input.length) || input.length <= 0) {
    throw new GatewayMessageError('length', 'length must be a positive integer');
  }
  return lines(gatewaySigningDomains.uploadAuthorisation, [
    input.owner,
    checkTime(input.time),
    input.length,
  ]);
}

export interface TokenRequestFields {
  agreementId: string;
  action: GatewayAction;
  /** A device id (the gateway hashes it); '' in the message when absent. */
  device?: string;
  time: number;
  /** The licensee's ed25519 public key, 64 hex: its address must be the agreement's licensee. */
  publicKey: string;
}

/** What a licensee signs to ask for an access token (`POST /v1/gateway/tokens`). */
export function tokenRequestMessage(input: TokenRequestFields): Uint8Array {
  if (!gatewayActions.includes(input.action)) {
    throw new GatewayMessageError('action', 'action is not a licence action');
  }
  return lines(gatewaySigningDomains.tokenRequest, [
    check(input.agreementId, agreementIdPattern, 'agreementId'),
    input.action,
    input.device === undefined ? '' : check(input.device, devicePattern, 'device'),
    checkTime(input.time),
    check(input.publicKey, publicKeyPattern, 'publicKey'),
  ]);
}

/** Header mode: the licensee signs each request (method, path, Range or '', time, token id). */
export function popMessage(input: {
  method: string;
  path: string;
  range?: string | undefined;
  time: number;
  jti: string;
}): Uint8Array {
  return lines(gatewaySigningDomains.pop, [
    check(input.method, /^[A-Z]{1,10}$/, 'method'),
    check(input.path, /^\/[\x21-\x7e]{0,300}$/, 'path'),
    input.range === undefined ? '' : check(input.range, /^[\x20-\x7e]{0,200}$/, 'range'),
    checkTime(input.time),
    check(input.jti, jtiPattern, 'jti'),
  ]);
}

/** URL mode: the licensee signs the path and the token id once; the token binds the client IP. */
export function urlPopMessage(path: string, jti: string): Uint8Array {
  return lines(gatewaySigningDomains.url, [
    check(path, /^\/[\x21-\x7e]{0,300}$/, 'path'),
    check(jti, jtiPattern, 'jti'),
  ]);
}

/** The `x-coffer-pop` header: `<publicKey hex>.<time>.<signature hex>`. */
export function popHeader(publicKey: string, time: number, signature: string): string {
  return `${publicKey}.${time}.${signature}`;
}

export function parsePopHeader(
  value: string,
): { publicKey: string; time: number; signature: string } | undefined {
  const match = /^([0-9a-f]{64})\.(\d{1,16})\.([0-9a-f]{128})$/.exec(value);
  if (!match) return undefined;
  return { publicKey: match[1]!, time: Number(match[2]), signature: match[3]! };
}

/** Signs `message` with a 64-hex ed25519 secret; the signature as 128 hex. */
export function signHex(message: Uint8Array, secretKeyHex: string): string {
  return toHex(sign(message, fromHex(secretKeyHex, 'secretKey', 32)));
}

/** Never throws: malformed input is a false. */
export function verifyHex(
  signatureHex: string,
  message: Uint8Array,
  publicKeyHex: string,
): boolean {
  if (!signaturePattern.test(signatureHex) || !publicKeyPattern.test(publicKeyHex)) return false;
  return verify(fromHex(signatureHex), message, fromHex(publicKeyHex));
}
