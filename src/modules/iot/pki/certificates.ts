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

/** Validity bounds: a CA lives up to 20 years, a party certificate up to 5. */
export const caDaysMax = 20 * 366;
export const certificateDaysMax = 5 * 366;
export const certificateDaysDefault = 365;
/** notBefore is this far in the past, so a device whose clock lags a little accepts it. */
const clockSkewMs = 5 * 60_000;
/** A CA name is a DN value: short, printable, no DN syntax characters. */
const caNamePattern = /^[A-Za-z0-9 ._-]{1,64}$/;

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

/** A self-signed CA: `CN=<name>, O=Coffer IoT`, cA=true (critical), keyCertSign and cRLSign. */
export async function createCa(options: {
  name: string;
  days?: number;
  keyType?: IotKeyType;
  nowMs?: number;
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
    name: [{ CN: [options.name] }, { O: [iotOrganisation] }],
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

/** The subject of a party certificate or CSR: `CN=<deviceId>, OU=<role>, O=Coffer IoT`. */
function partyName(deviceId: string, role: IotCertificateRole): x509.JsonName {
  return [{ CN: [deviceId] }, { OU: [role] }, { O: [iotOrganisation] }];
}

function checkIdentity(deviceId: string, role: string): asserts role is IotCertificateRole {
  if (!deviceIdPattern.test(deviceId)) {
    throw new PkiInputError('id', `id must match ${deviceIdPattern.source}`);
  }
  if (!iotCertificateRoles.includes(role as IotCertificateRole)) {
    throw new PkiInputError('role', `role must be one of ${iotCertificateRoles.join(', ')}`);
  }
  if ((role === 'service') !== (deviceId === serviceClientId)) {
    throw new PkiInputError(
      'role',
      `role service is the payment service's (id ${serviceClientId}) and only its`,
    );
  }
}

/** A device's key and its CSR (PKCS#10, signed by that key). */
export async function createCsr(options: {
  deviceId: string;
  role: string;
  keyType?: IotKeyType;
}): Promise<{ csrPem: string; privateKeyPem: string }> {
  checkIdentity(options.deviceId, options.role);
  const keyType = options.keyType ?? 'ed25519';
  const keys = await generateKeys(keyType);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: partyName(options.deviceId, options.role),
    keys,
    signingAlgorithm: algorithmOf(keyType),
  });
  return { csrPem: csr.toString('pem'), privateKeyPem: await exportPrivateKey(keys.privateKey) };
}

/** The identity a CSR asks for, after checking its self-signature and its subject's shape. */
export async function readCsr(
  csrPem: string,
): Promise<{ deviceId: string; role: IotCertificateRole; csr: x509.Pkcs10CertificateRequest }> {
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
  if (field('O') !== iotOrganisation) {
    throw new PkiInputError('csr', `the CSR subject's O must be ${iotOrganisation}`);
  }
  checkIdentity(deviceId, role);
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
export async function issueCertificate(options: {
  ca: KeyAndCertificate;
  csrPem: string;
  days?: number;
  nowMs?: number;
}): Promise<{ certificatePem: string; deviceId: string; role: IotCertificateRole }> {
  const days = options.days ?? certificateDaysDefault;
  checkDays(days, certificateDaysMax, 'days');
  const { deviceId, role, csr } = await readCsr(options.csrPem);
  const ca = await loadCa(options.ca);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: partyName(deviceId, role),
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

/** The broker's certificate: CN localhost, SAN DNS:localhost and IP:127.0.0.1, serverAuth. */
export async function createServerCertificate(options: {
  ca: KeyAndCertificate;
  days?: number;
  nowMs?: number;
}): Promise<KeyAndCertificate> {
  const days = options.days ?? certificateDaysDefault;
  checkDays(days, certificateDaysMax, 'days');
  const ca = await loadCa(options.ca);
  const keys = await generateKeys(keyTypeOfPem(options.ca.privateKeyPem, 'ca key'));
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: ['localhost'] }, { O: [iotOrganisation] }],
    issuer: ca.cert.subjectName.toJSON(),
    ...validity(options.nowMs ?? Date.now(), days),
    publicKey: keys.publicKey,
    signingKey: ca.key,
    signingAlgorithm: ca.key.algorithm as Algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  return {
    certificatePem: certificate.toString('pem'),
    privateKeyPem: await exportPrivateKey(keys.privateKey),
  };
}

/** A party's key and certificate in one step (tests, simulators, the bench): CSR then issue. */
export async function issueParty(options: {
  ca: KeyAndCertificate;
  deviceId: string;
  role: IotCertificateRole;
  keyType?: IotKeyType;
  days?: number;
}): Promise<KeyAndCertificate> {
  const { csrPem, privateKeyPem } = await createCsr(options);
  const { certificatePem } = await issueCertificate({
    ca: options.ca,
    csrPem,
    ...(options.days === undefined ? {} : { days: options.days }),
  });
  return { certificatePem, privateKeyPem };
}
