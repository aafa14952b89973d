import { X509Certificate, createHash } from 'node:crypto';
import { deviceIdPattern, iotOrganisation, iotRoles, type IotRole } from './schema.js';

/*
 * The X.509 checks the iot module's handlers make, with node's `X509Certificate`: parsing,
 * issuer signatures, key types and validity. Pure and deterministic: nothing here reads a clock
 * (validity is compared with the block time by the caller) and the parse of the same DER gives the
 * same answer on every node. Node 20's `X509Certificate` has no Date-free validity accessor, so
 * `validFrom`/`validTo` (OpenSSL's `Mon DD HH:MM:SS YYYY GMT`) are read here into Unix ms.
 */

/** OID of extendedKeyUsage clientAuth. */
const clientAuthOid = '1.3.6.1.5.5.7.3.2';

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const opensslTimePattern = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4}) GMT$/;

/** Days from 1970-01-01 to the civil date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** OpenSSL's `Dec  5 17:50:10 2026 GMT` as Unix ms; undefined when it is not that shape. */
export function opensslTimeMs(text: string): number | undefined {
  const match = opensslTimePattern.exec(text);
  if (!match) return undefined;
  const [, mon, dd, hh, mm, ss, yyyy] = match as unknown as string[];
  const month = months.indexOf(mon!) + 1;
  if (month === 0) return undefined;
  const days = daysFromCivil(Number(yyyy), month, Number(dd));
  return ((days * 24 + Number(hh)) * 60 + Number(mm)) * 60_000 + Number(ss) * 1000;
}

export interface ParsedCertificate {
  cert: X509Certificate;
  /** Lowercase hex SHA-256 of the DER. */
  fingerprint: string;
  /** The PEM as node writes it back (one canonical text per certificate). */
  pem: string;
  subject: string;
  issuer: string;
  /** The serial number, lowercase hex: with the issuer, what names the certificate (RFC 5280). */
  serial: string;
  keyType: 'ed25519' | 'p256';
  validFrom: number;
  validTo: number;
}

/** Why a certificate is refused before any state is read. */
export type CertificateRefusal = 'invalid_certificate' | 'unsupported_key_type';

export function fingerprintOf(cert: X509Certificate): string {
  return createHash('sha256').update(cert.raw).digest('hex');
}

/** Parses one PEM certificate with an ed25519 or P-256 key, or says why not. */
export function parseCertificate(pem: string): ParsedCertificate | CertificateRefusal {
  let cert: X509Certificate;
  let key: X509Certificate['publicKey'];
  try {
    cert = new X509Certificate(pem);
    // The key decodes lazily: an unknown algorithm or an off-curve point throws here.
    key = cert.publicKey;
  } catch {
    return 'invalid_certificate';
  }
  const validFrom = opensslTimeMs(cert.validFrom);
  const validTo = opensslTimeMs(cert.validTo);
  if (validFrom === undefined || validTo === undefined) return 'invalid_certificate';
  let keyType: ParsedCertificate['keyType'];
  if (key.asymmetricKeyType === 'ed25519') keyType = 'ed25519';
  else if (
    key.asymmetricKeyType === 'ec' &&
    key.asymmetricKeyDetails?.namedCurve === 'prime256v1'
  ) {
    keyType = 'p256';
  } else return 'unsupported_key_type';
  return {
    cert,
    fingerprint: fingerprintOf(cert),
    pem: cert.toString(),
    subject: cert.subject,
    issuer: cert.issuer,
    serial: cert.serialNumber.toLowerCase(),
    keyType,
    validFrom,
    validTo,
  };
}

/** The distinguished name's attributes, or undefined when one of them appears twice. */
function attributes(dn: string): Map<string, string> | undefined {
  const out = new Map<string, string>();
  for (const line of dn.split('\n')) {
    const at = line.indexOf('=');
    if (at <= 0) return undefined;
    const name = line.slice(0, at);
    if (out.has(name)) return undefined;
    out.set(name, line.slice(at + 1));
  }
  return out;
}

/** A party certificate's identity: `O=Coffer IoT, OU=<role>, CN=<deviceId>`. */
export function partyIdentity(
  parsed: ParsedCertificate,
): { deviceId: string; role: IotRole } | undefined {
  const names = attributes(parsed.subject);
  if (!names) return undefined;
  const role = names.get('OU');
  const deviceId = names.get('CN');
  if (names.get('O') !== iotOrganisation) return undefined;
  if (deviceId === undefined || !deviceIdPattern.test(deviceId)) return undefined;
  if (!iotRoles.includes(role as IotRole)) return undefined;
  return { deviceId, role: role as IotRole };
}

/** A party certificate is an end entity for TLS clients: not a CA, clientAuth if it lists usages. */
export function isPartyCertificate(parsed: ParsedCertificate): boolean {
  if (parsed.cert.ca) return false;
  const usages = parsed.cert.keyUsage as string[] | undefined;
  return usages === undefined || usages.includes(clientAuthOid);
}

/** A CA certificate: `cA=true` and self-signed (its subject names itself, its key signed it). */
export function isSelfSignedCa(parsed: ParsedCertificate): boolean {
  return (
    parsed.cert.ca &&
    parsed.subject === parsed.issuer &&
    parsed.cert.checkIssued(parsed.cert) &&
    parsed.cert.verify(parsed.cert.publicKey)
  );
}

/** `parsed` was issued by the CA whose certificate is `caPem`: names chain and its key signed it. */
export function issuedBy(parsed: ParsedCertificate, caPem: string): boolean {
  try {
    const ca = new X509Certificate(caPem);
    return parsed.cert.checkIssued(ca) && parsed.cert.verify(ca.publicKey);
  } catch {
    return false;
  }
}
