import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { signIotRequest, verifyIotRequest } from '../crypto.js';
import {
  PkiInputError,
  certificateFingerprint,
  createCa,
  createCsr,
  createServerCertificate,
  issueCertificate,
  issueParty,
} from './certificates.js';

const nowMs = Date.UTC(2026, 11, 5, 12);

describe('iot PKI', () => {
  it('makes a self-signed CA with cA=true, and issues a device certificate the CA verifies', async () => {
    const ca = await createCa({ name: 'Test CA', nowMs });
    const caCert = new X509Certificate(ca.certificatePem);
    assert.equal(caCert.ca, true);
    assert.equal(caCert.subject, 'CN=Test CA\nO=Coffer IoT');
    assert.ok(caCert.verify(caCert.publicKey), 'self-signed');
    assert.equal(caCert.publicKey.asymmetricKeyType, 'ed25519');

    const { csrPem, privateKeyPem } = await createCsr({ deviceId: 'car-1', role: 'iot-device' });
    const issued = await issueCertificate({ ca, csrPem, days: 30, nowMs });
    assert.equal(issued.deviceId, 'car-1');
    assert.equal(issued.role, 'iot-device');
    const cert = new X509Certificate(issued.certificatePem);
    assert.equal(cert.subject, 'CN=car-1\nOU=iot-device\nO=Coffer IoT');
    assert.ok(cert.checkIssued(caCert));
    assert.ok(cert.verify(caCert.publicKey));
    assert.equal(cert.ca, false);
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2'], 'clientAuth');
    assert.ok(cert.checkPrivateKey(createPrivateKey(privateKeyPem)), 'the CSR key is certified');
    assert.equal(
      Date.parse(cert.validTo) - Date.parse(cert.validFrom),
      30 * 86_400_000 + 5 * 60_000,
    );
    assert.match(certificateFingerprint(issued.certificatePem), /^[0-9a-f]{64}$/);

    // What the device signs with its key verifies against the certificate (crypto.ts).
    const fields = { serviceDevice: 'charger-1', iotDevice: 'car-1', sessionId: 's-1' };
    const signature = signIotRequest('authorise', 'chain', fields, privateKeyPem);
    assert.ok(verifyIotRequest('authorise', 'chain', fields, signature, issued.certificatePem));
  });

  it('gives two certificates random, different serials', async () => {
    const ca = await createCa({ name: 'Serial CA' });
    const a = await issueParty({ ca, deviceId: 'a', role: 'wallet' });
    const b = await issueParty({ ca, deviceId: 'b', role: 'wallet' });
    const serial = (pem: string) => new X509Certificate(pem).serialNumber;
    assert.notEqual(serial(a.certificatePem), serial(b.certificatePem));
    assert.ok(serial(a.certificatePem).length >= 30);
  });

  it('makes the broker certificate for localhost and 127.0.0.1, serverAuth', async () => {
    const ca = await createCa({ name: 'Broker CA' });
    const server = await createServerCertificate({ ca });
    const cert = new X509Certificate(server.certificatePem);
    assert.equal(cert.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1');
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.ok(cert.checkHost('localhost'));
    assert.ok(cert.checkIP('127.0.0.1'));
  });

  it('works with P-256 keys too', async () => {
    const ca = await createCa({ name: 'P CA', keyType: 'p256' });
    const party = await issueParty({
      ca,
      deviceId: 'meter-1',
      role: 'service-device',
      keyType: 'p256',
    });
    const cert = new X509Certificate(party.certificatePem);
    assert.equal(cert.publicKey.asymmetricKeyType, 'ec');
    assert.ok(cert.verify(new X509Certificate(ca.certificatePem).publicKey));
  });

  it('refuses a CSR whose signature does not match its key', async () => {
    const ca = await createCa({ name: 'Strict CA' });
    const { csrPem } = await createCsr({ deviceId: 'car-9', role: 'iot-device' });
    const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 1]! ^= 0x01; // the last byte is the signature's
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    await assert.rejects(issueCertificate({ ca, csrPem: tampered }), (error: unknown) => {
      assert.ok(error instanceof PkiInputError);
      assert.equal(error.field, 'csr');
      assert.match(error.message, /not signed by the key/);
      return true;
    });
  });

  it('refuses bad identities, roles and validity, naming the field', async () => {
    const refused = async (work: () => Promise<unknown>, field: string) =>
      assert.rejects(
        work(),
        (error: unknown) => error instanceof PkiInputError && error.field === field,
      );
    await refused(() => createCsr({ deviceId: 'Car_1', role: 'iot-device' }), 'id');
    await refused(() => createCsr({ deviceId: 'car-1', role: 'admin' }), 'role');
    await refused(() => createCsr({ deviceId: 'car-1', role: 'service' }), 'role');
    await refused(() => createCa({ name: 'CN=evil, O=x' }), 'name');
    const ca = await createCa({ name: 'Days CA' });
    const { csrPem } = await createCsr({ deviceId: 'car-1', role: 'iot-device' });
    await refused(() => issueCertificate({ ca, csrPem, days: 0 }), 'days');
    await refused(() => issueCertificate({ ca, csrPem, days: 10_000 }), 'days');
    const other = await createCa({ name: 'Other CA' });
    await refused(
      () => issueCertificate({ ca: { ...ca, privateKeyPem: other.privateKeyPem }, csrPem }),
      'ca',
    );
  });
});
