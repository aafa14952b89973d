// The X.509 checks of src/modules/iot/x509.ts on their own, for what the txs' tests reach only
// through whole enrolments: OpenSSL's validity text for every month and nothing around it, the
// key types refused, a distinguished name's malformed lines, and the CA and issuer checks each
// failing for its one reason (not a CA, a signature that does not verify, a same-named CA's
// certificate). Certificates come from the openssl CLI (txs-fixture.ts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';

import { issue, makeCa } from './txs-fixture.js';
import {
  isSelfSignedCa,
  issuedBy,
  opensslTimeMs,
  parseCertificate,
  partyIdentity,
  type ParsedCertificate,
} from './x509.js';

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function parsed(pem: string): ParsedCertificate {
  const result = parseCertificate(pem);
  if (typeof result === 'string') assert.fail(`does not parse: ${result}`);
  return result;
}

function toPem(der: Buffer): string {
  const lines = der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n');
  return `-----BEGIN CERTIFICATE-----\n${lines}\n-----END CERTIFICATE-----\n`;
}

/** A self-signed certificate made by openssl with `args` added (a key type, extensions). */
function selfSigned(keyArgs: string[], extensions: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-x509-'));
  const out = path.join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req',
    '-x509',
    ...keyArgs,
    '-nodes',
    '-keyout',
    path.join(dir, 'key.pem'),
    '-subj',
    '/O=Coffer IoT/OU=ca/CN=Self',
    '-days',
    '30',
    ...extensions.flatMap((extension) => ['-addext', extension]),
    '-out',
    out,
  ]);
  return fs.readFileSync(out, 'utf8');
}

describe('opensslTimeMs', () => {
  it('reads every month, one and two digit days, as Unix ms', () => {
    months.forEach((month, index) => {
      for (const day of [1, 28]) {
        const text = `${month} ${String(day).padStart(2, ' ')} 13:45:07 2031 GMT`;
        assert.equal(opensslTimeMs(text), Date.UTC(2031, index, day, 13, 45, 7), text);
      }
    });
    assert.equal(opensslTimeMs('Feb 29 00:00:00 2032 GMT'), Date.UTC(2032, 1, 29));
    assert.equal(opensslTimeMs('Dec 31 23:59:59 1969 GMT'), -1000);
  });

  it('refuses anything around or instead of that shape', () => {
    for (const text of [
      'x Jan  1 00:00:00 2030 GMT',
      'Jan  1 00:00:00 2030 GMT x',
      'Jan  1 00:00:00 2030 UTC',
      'Foo  1 00:00:00 2030 GMT',
      'Jan  1 00:00:00.5 2030 GMT',
      '',
    ]) {
      assert.equal(opensslTimeMs(text), undefined, text);
    }
  });
});

describe('parseCertificate', () => {
  it('takes ed25519 and P-256 keys; refuses P-384 and RSA as unsupported', () => {
    assert.equal(parsed(makeCa('Ed CA').pem).keyType, 'ed25519');
    assert.equal(parsed(makeCa('P CA', { algorithm: 'p256' }).pem).keyType, 'p256');
    const p384 = selfSigned(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], []);
    assert.equal(parseCertificate(p384), 'unsupported_key_type');
    const rsa = selfSigned(['-newkey', 'rsa:2048'], []);
    assert.equal(parseCertificate(rsa), 'unsupported_key_type');
    assert.equal(parseCertificate('not a certificate'), 'invalid_certificate');
  });
});

describe('partyIdentity', () => {
  const car = parsed(issue(makeCa('Identity CA'), 'iot-device', 'car-9').pem);

  it("reads the device id and role of a party's subject", () => {
    assert.deepEqual(partyIdentity(car), { deviceId: 'car-9', role: 'iot-device' });
  });

  it('refuses a subject with a line that is not NAME=VALUE, or a name twice', () => {
    for (const subject of [
      'O=Coffer IoT\nOU=iot-device\nCN=car-9\nnoequals',
      'O=Coffer IoT\nOU=iot-device\nCN=car-9\n=car-8',
      'O=Coffer IoT\nOU=iot-device\nCN=car-9\nCN=car-8',
      'O=Coffer IoT\nOU=iot-device\nOU=wallet\nCN=car-9',
    ]) {
      assert.equal(partyIdentity({ ...car, subject }), undefined, subject);
    }
  });
});

describe('isSelfSignedCa and issuedBy', () => {
  const ca = makeCa('Twin CA');
  // Another CA with the very same subject and its own key.
  const twin = makeCa('Twin CA', { tag: 'twin' });
  const device = issue(ca, 'iot-device', 'car-7');

  it('a self-signed CA certificate is one', () => {
    assert.equal(isSelfSignedCa(parsed(ca.pem)), true);
  });

  it('a self-signed certificate that is not a CA is not', () => {
    const leaf = selfSigned(['-newkey', 'ed25519'], ['basicConstraints=critical,CA:FALSE']);
    assert.equal(isSelfSignedCa(parsed(leaf)), false);
  });

  it('a CA certificate whose signature does not verify is not (names alone do not do)', () => {
    const der = Buffer.from(new X509Certificate(ca.pem).raw);
    der[der.length - 1]! ^= 0x01;
    const tampered = parsed(toPem(der));
    assert.equal(tampered.subject, tampered.issuer);
    assert.equal(isSelfSignedCa(tampered), false);
  });

  it('a certificate is issued by the CA whose key signed it, not by a same-named one', () => {
    assert.equal(issuedBy(parsed(device.pem), ca.pem), true);
    assert.equal(parsed(twin.pem).subject, parsed(ca.pem).subject);
    assert.equal(issuedBy(parsed(device.pem), twin.pem), false);
    assert.equal(issuedBy(parsed(device.pem), 'not a certificate'), false);
    // The right names and key ids, a signature that does not verify.
    const der = Buffer.from(new X509Certificate(device.pem).raw);
    der[der.length - 1]! ^= 0x01;
    assert.equal(issuedBy(parsed(toPem(der)), ca.pem), false);
  });
});
