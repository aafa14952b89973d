import {
  X509Certificate,
  createHash,
  createPrivateKey,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { CryptoInputError, canonicalBytes, sha256Hex, signingMessage } from '../../crypto/index.js';
import { possessionFields } from './schema.js';

/*
 * The iot module's signed messages. Devices hold X.509 certificates (ed25519, or P-256 where a
 * device cannot do ed25519) and sign with the certificate's key over
 * `signingMessage('iotRequest', iotRequestHash(kind, chainId, fields))`. The chain checks each
 * signature against the certificate it has on record, so a message is good only for the device,
 * the kind and the chain it was made for. Node's crypto only: this file runs in the node, the
 * payment service and the device simulators, never in a browser.
 */

/** What an IoT message signs, by kind (docs/architecture.md, `iot`). */
export type IotRequestKind = 'authorise' | 'start' | 'bill' | 'end' | 'enrol' | 'registerCa';

/** A JSON value of what a message signs: strings, safe integers, and objects of them. */
export type IotFields = { readonly [key: string]: string | number | IotFields | undefined };

function present(fields: IotFields): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields)
      .filter((entry) => entry[1] !== undefined)
      .map(([key, value]) => [key, typeof value === 'object' ? present(value) : value]),
  );
}

/**
 * The hash an IoT message signs: hex(SHA-256(RFC 8785 canonical JSON of {kind, chainId,
 * ...fields})), an absent field left out. `kind` keeps a bill from being replayed as a session
 * end, `chainId` one chain's message from another's.
 */
export function iotRequestHash(kind: IotRequestKind, chainId: string, fields: IotFields): string {
  if (typeof chainId !== 'string' || chainId.length === 0) {
    throw new CryptoInputError('chainId', 'chainId must be a non-empty string');
  }
  return sha256Hex(canonicalBytes({ ...present(fields), kind, chainId }));
}

function message(kind: IotRequestKind, chainId: string, fields: IotFields): Buffer {
  return Buffer.from(signingMessage('iotRequest', iotRequestHash(kind, chainId, fields)));
}

/** The digest a key's signatures use: none for ed25519 (it hashes itself), SHA-256 for P-256. */
function digestFor(key: KeyObject): 'sha256' | null {
  return key.asymmetricKeyType === 'ec' ? 'sha256' : null;
}

/**
 * Signs an IoT message with a device's private key (a KeyObject or PKCS#8 PEM): base64url of the
 * ed25519 signature, or of the P-256 signature as r || s (IEEE P1363, 64 bytes).
 */
export function signIotRequest(
  kind: IotRequestKind,
  chainId: string,
  fields: IotFields,
  privateKey: KeyObject | string,
): string {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  return sign(digestFor(key), message(kind, chainId, fields), {
    key,
    dsaEncoding: 'ieee-p1363',
  }).toString('base64url');
}

const signaturePattern = /^[A-Za-z0-9_-]{86}$/;

/**
 * True when `signature` is the certificate's key's over the message; false on any bad input (a
 * malformed signature, a certificate that does not parse). It checks the signature only: that the
 * certificate is registered, unrevoked and issued by a registered CA is the caller's business.
 */
export function verifyIotRequest(
  kind: IotRequestKind,
  chainId: string,
  fields: IotFields,
  signature: string,
  certificate: X509Certificate | string,
): boolean {
  try {
    if (typeof signature !== 'string' || !signaturePattern.test(signature)) return false;
    const cert = typeof certificate === 'string' ? new X509Certificate(certificate) : certificate;
    const key = cert.publicKey;
    return verify(
      digestFor(key),
      message(kind, chainId, fields),
      { key, dsaEncoding: 'ieee-p1363' },
      Buffer.from(signature, 'base64url'),
    );
  } catch {
    return false;
  }
}

/**
 * The proof that the sender of `iot.enrol` (`kind` 'enrol') or `iot.registerCa` ('registerCa')
 * holds the certificate's key: that key's signature over the certificate's fingerprint and the
 * sending account (the schema's `possessionFields`). Throws when the certificate does not parse.
 */
export function possessionProof(
  kind: 'enrol' | 'registerCa',
  chainId: string,
  certificatePem: string,
  privateKey: KeyObject | string,
  account: string,
): string {
  const cert = new X509Certificate(certificatePem);
  const fingerprint = createHash('sha256').update(cert.raw).digest('hex');
  return signIotRequest(kind, chainId, possessionFields(fingerprint, account), privateKey);
}
