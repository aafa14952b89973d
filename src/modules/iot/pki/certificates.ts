// @peculiar/x509 2 resolves its algorithms through tsyringe, which needs a Reflect polyfill
// loaded before it: this import stays first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import {
  X509Certificate as NodeCertificate,
  createHash,
  createPrivateKey,
  randomBytes,
  webcrypto,
} from 'node:crypto';
import { isIP } from 'node:net';

/*
 * The certificates of issue 20 (docs/iot-operators.md): a consortium CA, device CSRs, the
 * certificates a CA issues from them and the broker's server certificate. Keys are ed25519 (the
 * spec's choice; mosquitto 2.0.11 with OpenSSL 3 and Node's TLS both complete a handshake with
 * ed25519 CA, server and client certificates), P-256 where a device cannot do ed25519. Node's
 * webcrypto does the signing; @peculiar/x509 the ASN.1. Everything here is PEM in, PEM out.
 */

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** The key types a Coffer IoT certificate may have (the chain accepts both). */
export type IotKeyType = 'ed25519' | 'p256';

/** What a party certificate's OU says (the spec's roles, and the payment service's own). */
export type IotCertificateRole = 'iot-device' | 'service-device' | 'wallet' | 'service';
export const iotCertificateRoles: readonly IotCertificateRole[] = [
  'iot-device',
  'service-device',
  'wallet',
  'service',
];

/** The payment service's MQTT identity: the broker ACL names it; never enrolled on chain. */
export const serviceClientId = 'coffer-iot-service';
/** Every party certificate's O. */
export const iotOrganisation = 'Coffer IoT';
/** A device id is an MQTT topic level and the broker username. */
export const deviceIdPattern = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** A DNS name of a server certificate: labels of letters, digits and hyphens. */
const hostNamePattern =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Validity bounds: a CA lives up to 20 years, a party certificate up to 5. */
export const caDaysMax = 20 * 366;
export const certificateDaysMax = 5 * 366;
export const certificateDaysDefault = 365;
/** notBefore is this far in the past, so a device whose clock lags a little accepts it. */
const clockSkewMs = 5 * 60_000;
/** A CA name is a DN value: short, printable, no DN syntax characters. */
const caNamePattern = /^[A-Za-z0-9 ._-]{1,64}$/;

/**
 * Whom party certificates name: their O, the pattern of their CN and the roles their OU may say.
 * The IoT profile by default; another service with its own CA (issue 23's print server: CN = a
 * printer id) passes its own.
 */
export interface PartyProfile<Role extends string = IotCertificateRole> {
  organisation: string;
  idPattern: RegExp;
  roles: readonly Role[];
}
export const iotPartyProfile: PartyProfile = {
  organisation: iotOrganisation,
  idPattern: deviceIdPattern,
  roles: iotCertificateRoles,
};

/** A bad input to a PKI function: the field and why (the CLI maps it to `invalid_input`). */
export class PkiInputError extends Error {
  readonly code = 'invalid_input';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export interface KeyAndCertificate {
  certificatePem: string;
  /** PKCS#8 PEM: a secret, written with mode 0600 and never logged. */
  privateKeyPem: string;
}

type Algorithm = { name: 'Ed25519' } | { name: 'ECDSA'; namedCurve: 'P-256'; hash: 'SHA-256' };

function algorithmOf(keyType: IotKeyType): Algorithm {
  return keyType === 'ed25519'
    ? { name: 'Ed25519' }
    : { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
}

function keyTypeOfPem(privateKeyPem: string, field: string): IotKeyType {
  let type: string | undefined;
  let curve: string | undefined;
  try {
    const key = createPrivateKey(privateKeyPem);
    type = key.asymmetricKeyType;
    curve = key.asymmetricKeyDetails?.namedCurve;
  } catch (error) {
    throw new PkiInputError(
      field,
      `${field} is not a PEM private key: ${(error as Error).message}`,
    );
  }
  if (type === 'ed25519') return 'ed25519';
  if (type === 'ec' && curve === 'prime256v1') return 'p256';
  throw new PkiInputError(field, `${field} must be an ed25519 or P-256 key, got ${type ?? '?'}`);
}

async function generateKeys(keyType: IotKeyType): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(algorithmOf(keyType), true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
}

async function exportPrivateKey(key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importSigningKey(
  privateKeyPem: string,
  field: string,
): Promise<webcrypto.CryptoKey> {
  const keyType = keyTypeOfPem(privateKeyPem, field);
  const der = createPrivateKey(privateKeyPem).export({ type: 'pkcs8', format: 'der' });
  return webcrypto.subtle.importKey('pkcs8', der, algorithmOf(keyType), false, ['sign']);
}

/** A random positive 128-bit serial (RFC 5280: at most 20 octets, positive). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function checkDays(days: number, max: number, field: string): void {
  if (!Number.isSafeInteger(days) || days < 1 || days > max) {
    throw new PkiInputError(field, `${field} must be a whole number of days from 1 to ${max}`);
  }
}

function validity(nowMs: number, days: number): { notBefore: Date; notAfter: Date } {
  return {
    notBefore: new Date(nowMs - clockSkewMs),
    notAfter: new Date(nowMs + days * 86_400_000),
  };
}

/** Lowercase hex SHA-256 of the certificate's DER (the chain's fingerprint). */
export function certificateFingerprint(certificatePem: string): string {
  return createHash('sha256').update(new NodeCertificate(certificatePem).raw).digest('hex');
}

/**
 * A self-signed CA: `CN=<name>, O=<organisation>` (Coffer IoT by default), cA=true (critical),
 * keyCertSign and cRLSign.
 */
export async function createCa(options: {
  name: string;
  days?: number;
  keyType?: IotKeyType;
  nowMs?: number;
  organisation?: string;
}): Promise<KeyAndCertificate> {
  if (!caNamePattern.test(options.name)) {
    throw new PkiInputError('name', 'name must be 1 to 64 letters, digits, spaces or ._-');
  }
  const days = options.days ?? 10 * 365;
  checkDays(days, caDaysMax, 'days');
  const keyType = options.keyType ?? 'ed25519';
  const keys = await generateKeys(keyType);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [options.name] }, { O: [options.organisation ?? iotOrganisation] }],
    ...validity(options.nowMs ?? Date.now(), days),
    keys,
    signingAlgorithm: algorithmOf(keyType),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certificatePem: certificate.toString('pem'),
    privateKeyPem: await exportPrivateKey(keys.privateKey),
  };
}

/** The subject of a party certificate or CSR: `CN=<deviceId>, OU=<role>, O=<organisation>`. */
function partyName(deviceId: string, role: string, organisation: string): x509.JsonName {
  return [{ CN: [deviceId] }, { OU: [role] }, { O: [organisation] }];
}

function checkIdentity<Role extends string>(
  deviceId: string,
  role: string,
  profile: PartyProfile<Role>,
): asserts role is Role {
  if (!profile.idPattern.test(deviceId)) {
    throw new PkiInputError('id', `id must match ${profile.idPattern.source}`);
  }
  if (!(profile.roles as readonly string[]).includes(role)) {
    throw new PkiInputError('role', `role must be one of ${profile.roles.join(', ')}`);
  }
  if (
    (profile as PartyProfile<string>) === iotPartyProfile &&
    (role === 'service') !== (deviceId === serviceClientId)
  ) {
    throw new PkiInputError(
      'role',
      `role service is the payment service's (id ${serviceClientId}) and only its`,
    );
  }
}

/** A device's key and its CSR (PKCS#10, signed by that key). */
export async function createCsr<Role extends string = IotCertificateRole>(options: {
  deviceId: string;
  role: string;
  keyType?: IotKeyType;
  profile?: PartyProfile<Role>;
}): Promise<{ csrPem: string; privateKeyPem: string }> {
  const profile = options.profile ?? (iotPartyProfile as unknown as PartyProfile<Role>);
  checkIdentity(options.deviceId, options.role, profile);
  const keyType = options.keyType ?? 'ed25519';
  const keys = await generateKeys(keyType);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: partyName(options.deviceId, options.role, profile.organisation),
    keys,
    signingAlgorithm: algorithmOf(keyType),
  });
  return { csrPem: csr.toString('pem'), privateKeyPem: await exportPrivateKey(keys.privateKey) };
}

/**
 * The identity a CSR asks for, after checking its self-signature and its subject's shape (the IoT
 * profile's unless `profile` is given).
 */
export async function readCsr<Role extends string = IotCertificateRole>(
  csrPem: string,
  profile: PartyProfile<Role> = iotPartyProfile as unknown as PartyProfile<Role>,
): Promise<{ deviceId: string; role: Role; csr: x509.Pkcs10CertificateRequest }> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (error) {
    throw new PkiInputError('csr', `csr is not a PEM PKCS#10 request: ${(error as Error).message}`);
  }
  const signed = await csr.verify().catch(() => false);
  if (!signed) throw new PkiInputError('csr', 'the CSR is not signed by the key it carries');
  const field = (name: string): string => {
    const values = csr.subjectName.getField(name);
    if (values.length !== 1)
      throw new PkiInputError('csr', `the CSR subject must have one ${name}`);
    return values[0]!;
  };
  const deviceId = field('CN');
  const role = field('OU');
  if (field('O') !== profile.organisation) {
    throw new PkiInputError('csr', `the CSR subject's O must be ${profile.organisation}`);
  }
  checkIdentity(deviceId, role, profile);
  return { deviceId, role, csr };
}

async function loadCa(
  ca: KeyAndCertificate,
): Promise<{ cert: x509.X509Certificate; key: webcrypto.CryptoKey }> {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(ca.certificatePem);
  } catch (error) {
    throw new PkiInputError('ca', `the CA certificate does not parse: ${(error as Error).message}`);
  }
  const constraints = cert.getExtension(x509.BasicConstraintsExtension);
  if (!constraints?.ca) throw new PkiInputError('ca', 'the CA certificate is not a CA (cA=false)');
  const node = new NodeCertificate(ca.certificatePem);
  if (!node.checkPrivateKey(createPrivateKey(ca.privateKeyPem))) {
    throw new PkiInputError('ca', "the CA key is not the CA certificate's key");
  }
  return { cert, key: await importSigningKey(ca.privateKeyPem, 'ca key') };
}

/**
 * A party certificate from a CSR: the CSR's signature and subject are checked, the extensions are
 * the CA's choice (never copied from the request): cA=false, digitalSignature, clientAuth.
 */
export async function issueCertificate<Role extends string = IotCertificateRole>(options: {
  ca: KeyAndCertificate;
  csrPem: string;
  days?: number;
  nowMs?: number;
  profile?: PartyProfile<Role>;
}): Promise<{ certificatePem: string; deviceId: string; role: Role }> {
  const days = options.days ?? certificateDaysDefault;
  checkDays(days, certificateDaysMax, 'days');
  const profile = options.profile ?? (iotPartyProfile as unknown as PartyProfile<Role>);
  const { deviceId, role, csr } = await readCsr(options.csrPem, profile);
  const ca = await loadCa(options.ca);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: partyName(deviceId, role, profile.organisation),
    issuer: ca.cert.subjectName.toJSON(),
    ...validity(options.nowMs ?? Date.now(), days),
    publicKey: csr.publicKey,
    signingKey: ca.key,
    signingAlgorithm: ca.key.algorithm as Algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  return { certificatePem: certificate.toString('pem'), deviceId, role };
}

/**
 * The broker's certificate: CN localhost, SAN DNS:localhost and IP:127.0.0.1, serverAuth. A
 * server with other names passes `hostNames` (DNS names or IP addresses; the first is the CN)
 * and its `organisation`.
 */
export async function createServerCertificate(options: {
  ca: KeyAndCertificate;
  days?: number;
  nowMs?: number;
  hostNames?: readonly string[];
  organisation?: string;
}): Promise<KeyAndCertificate> {
  const hostNames = options.hostNames ?? ['localhost', '127.0.0.1'];
  if (
    hostNames.length === 0 ||
    hostNames.length > 32 ||
    !hostNames.every((name) => isIP(name) !== 0 || hostNamePattern.test(name))
  ) {
    throw new PkiInputError('hostNames', 'hostNames must be 1 to 32 DNS names or IP addresses');
  }
  const days = options.days ?? certificateDaysDefault;
  checkDays(days, certificateDaysMax, 'days');
  const ca = await loadCa(options.ca);
  const keys = await generateKeys(keyTypeOfPem(options.ca.privateKeyPem, 'ca key'));
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [hostNames[0]!] }, { O: [options.organisation ?? iotOrganisation] }],
    issuer: ca.cert.subjectName.toJSON(),
    ...validity(options.nowMs ?? Date.now(), days),
    publicKey: keys.publicKey,
    signingKey: ca.key,
    signingAlgorithm: ca.key.algorithm as Algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        hostNames.map((name) =>
          isIP(name) === 0 ? { type: 'dns', value: name } : { type: 'ip', value: name },
        ),
      ),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  return {
    certificatePem: certificate.toString('pem'),
    privateKeyPem: await exportPrivateKey(keys.privateKey),
  };
}

/** A party's key and certificate in one step (tests, simulators, the bench): CSR then issue. */
export async function issueParty<Role extends string = IotCertificateRole>(options: {
  ca: KeyAndCertificate;
  deviceId: string;
  role: Role;
  keyType?: IotKeyType;
  days?: number;
  profile?: PartyProfile<Role>;
}): Promise<KeyAndCertificate> {
  const { csrPem, privateKeyPem } = await createCsr(options);
  const { certificatePem } = await issueCertificate({
    ca: options.ca,
    csrPem,
    ...(options.days === undefined ? {} : { days: options.days }),
    ...(options.profile === undefined ? {} : { profile: options.profile }),
  });
  return { certificatePem, privateKeyPem };
}

/** A certificate's serial number as lowercase hex (what a CRL entry names). */
export function certificateSerial(certificatePem: string): string {
  return new NodeCertificate(certificatePem).serialNumber.toLowerCase();
}

/** The longest a CRL is valid before its next update is due. */
export const crlDaysMax = 366;

/**
 * A CRL (v2, PEM `X509 CRL`, the label OpenSSL and Node's `tls` `crl` option read) signed by the
 * CA, revoking the certificates of `serials` (hex, as `certificateSerial` gives them). A TLS
 * server given it as `crl` refuses those certificates in the handshake; the CRL itself stops
 * being accepted after `days` (nextUpdate), so the server issues a fresh one before then.
 */
export async function createCrl(options: {
  ca: KeyAndCertificate;
  serials: readonly string[];
  days?: number;
  nowMs?: number;
}): Promise<string> {
  const days = options.days ?? 7;
  checkDays(days, crlDaysMax, 'days');
  for (const serial of options.serials) {
    if (!/^[0-9a-f]{2,40}$/i.test(serial)) {
      throw new PkiInputError('serials', 'each serial must be 2 to 40 hex digits');
    }
  }
  const ca = await loadCa(options.ca);
  const { notBefore, notAfter } = validity(options.nowMs ?? Date.now(), days);
  const crl = await x509.X509CrlGenerator.create({
    issuer: ca.cert.subjectName.toJSON(),
    thisUpdate: notBefore,
    nextUpdate: notAfter,
    entries: options.serials.map((serialNumber) => ({ serialNumber, revocationDate: notBefore })),
    signingKey: ca.key,
    signingAlgorithm: ca.key.algorithm as Algorithm,
  });
  return crl.toString('pem').replace(/-----(BEGIN|END) CRL-----/g, '-----$1 X509 CRL-----');
}
