import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { readCa, readDevice, readLink, readTariff } from './state.js';
import {
  IotWorld,
  asset,
  caOperator,
  expectOk,
  iotWorld,
  issue,
  makeCa,
  mandate,
  outsider,
  owner,
  provider,
  tariff,
} from './txs-fixture.js';
import { fingerprintOf, opensslTimeMs } from './x509.js';
import { X509Certificate } from 'node:crypto';

/*
 * The registry's txs: CAs (anyone registers one and operates it), device certificates (enrolled
 * by their owner, first-come by deviceId, renewed only by the owner, revoked by the owner or the
 * CA's operator), links (the owner of both the iot device and the wallet) and tariffs (the
 * service device's owner). Every rejection code, and what an outsider cannot do.
 */

const day = 86_400_000;

function caWorld(): { w: IotWorld; ca: ReturnType<typeof makeCa> } {
  const w = new IotWorld();
  const ca = makeCa('Registry CA');
  expectOk(w.run(caOperator, 'iot.registerCa', { name: 'Registry', certificate: ca.pem }), 'ca');
  return { w, ca };
}

describe('x509: OpenSSL times and fingerprints without Date', () => {
  it('reads validFrom/validTo as Unix ms, as Date would', () => {
    for (const text of [
      'Dec  5 17:50:10 2026 GMT',
      'Feb 29 00:00:00 2024 GMT',
      'Jan  1 00:00:00 1970 GMT',
    ]) {
      assert.equal(opensslTimeMs(text), Date.parse(text.replace(' GMT', ' UTC')));
    }
    assert.equal(opensslTimeMs('2026-12-05T17:50:10Z'), undefined);
    assert.equal(opensslTimeMs('Foo  5 17:50:10 2026 GMT'), undefined);
  });

  it("the fingerprint is the SHA-256 of the DER (node's fingerprint256 without colons)", () => {
    const cert = new X509Certificate(makeCa('Registry CA').pem);
    assert.equal(fingerprintOf(cert), cert.fingerprint256.replaceAll(':', '').toLowerCase());
  });
});

describe('iot.registerCa and iot.revokeCa', () => {
  it('anyone registers a self-signed CA and becomes its operator', () => {
    const { w, ca } = caWorld();
    const id = fingerprintOf(new X509Certificate(ca.pem));
    const record = readCa(w.state, id)!;
    assert.equal(record.operator, caOperator.address);
    assert.equal(record.status, 'active');
    assert.equal(record.keyType, 'ed25519');
    assert.equal(record.subject, 'O=Coffer IoT\nOU=ca\nCN=Registry CA');
  });

  it('refuses what is not a CA certificate, in precedence order', () => {
    const w = new IotWorld();
    const garbled = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    assert.equal(
      w.run(outsider, 'iot.registerCa', { name: 'x', certificate: 'nope' }),
      'invalid_certificate',
    );
    assert.equal(
      w.run(outsider, 'iot.registerCa', { name: '', certificate: garbled }),
      'invalid_ca_name',
    );
    assert.equal(
      w.run(outsider, 'iot.registerCa', { name: 'x', certificate: garbled }),
      'invalid_certificate',
    );
    const ed448 = makeCa('Ed448 CA', { algorithm: 'ed448' });
    assert.equal(
      w.run(outsider, 'iot.registerCa', { name: 'x', certificate: ed448.pem }),
      'unsupported_key_type',
    );
    const leaf = issue(makeCa('Registry CA'), 'wallet', 'leaf-1');
    assert.equal(
      w.run(outsider, 'iot.registerCa', { name: 'x', certificate: leaf.pem }),
      'certificate_not_ca',
    );
    const ca = makeCa('Registry CA');
    const early = new IotWorld();
    early.time -= 2 * day;
    assert.equal(
      early.run(outsider, 'iot.registerCa', { name: 'x', certificate: ca.pem }),
      'certificate_not_yet_valid',
    );
    const short = makeCa('Short CA', { days: 1 });
    const late = new IotWorld();
    late.time += 2 * day;
    assert.equal(
      late.run(outsider, 'iot.registerCa', { name: 'x', certificate: short.pem }),
      'certificate_expired',
    );
  });

  it('a P-256 CA registers too', () => {
    const w = new IotWorld();
    const ca = makeCa('P256 CA', { algorithm: 'p256' });
    expectOk(w.run(outsider, 'iot.registerCa', { name: 'p', certificate: ca.pem }), 'p256');
    assert.equal(w.events[0]?.type, 'iot.caRegistered');
  });

  it('ca_exists, ca_subject_taken (first-come among active CAs), ca_limit_reached', () => {
    const { w, ca } = caWorld();
    assert.equal(
      w.run(outsider, 'iot.registerCa', { name: 'again', certificate: ca.pem }),
      'ca_exists',
    );
    const impostor = makeCa('Registry CA', { tag: 'impostor' });
    assert.equal(
      w.run(outsider, 'iot.registerCa', { name: 'same', certificate: impostor.pem }),
      'ca_subject_taken',
    );
    for (let i = 1; i <= 3; i += 1) {
      const extra = makeCa(`Extra CA ${i}`);
      expectOk(
        w.run(caOperator, 'iot.registerCa', { name: `e${i}`, certificate: extra.pem }),
        `e${i}`,
      );
    }
    const fifth = makeCa('Extra CA 4');
    assert.equal(
      w.run(caOperator, 'iot.registerCa', { name: 'e4', certificate: fifth.pem }),
      'ca_limit_reached',
    );
    // Revoking one frees a place, and its subject.
    const id = fingerprintOf(new X509Certificate(ca.pem));
    expectOk(w.run(caOperator, 'iot.revokeCa', { ca: id }), 'revoke');
    expectOk(w.run(caOperator, 'iot.registerCa', { name: 'e4', certificate: fifth.pem }), 'e4');
    expectOk(
      w.run(outsider, 'iot.registerCa', { name: 'same', certificate: impostor.pem }),
      'subject free',
    );
  });

  it('only the operator revokes, once; an unknown CA is ca_not_found', () => {
    const { w, ca } = caWorld();
    const id = fingerprintOf(new X509Certificate(ca.pem));
    assert.equal(w.run(caOperator, 'iot.revokeCa', { ca: 'AB' }), 'invalid_ca');
    assert.equal(w.run(caOperator, 'iot.revokeCa', { ca: 'ab'.repeat(32) }), 'ca_not_found');
    assert.equal(w.run(outsider, 'iot.revokeCa', { ca: id }), 'not_ca_operator');
    expectOk(w.run(caOperator, 'iot.revokeCa', { ca: id }), 'revoke');
    assert.equal(readCa(w.state, id)?.status, 'revoked');
    assert.equal(w.run(caOperator, 'iot.revokeCa', { ca: id }), 'ca_revoked');
  });
});

describe('iot.enrol', () => {
  it('enrols a certificate of a registered CA: the sender owns the deviceId', () => {
    const { w, ca } = caWorld();
    const car = issue(ca, 'iot-device', 'car-9');
    expectOk(w.run(owner, 'iot.enrol', { certificate: car.pem }), 'enrol');
    const device = readDevice(w.state, 'car-9')!;
    assert.equal(device.owner, owner.address);
    assert.equal(device.role, 'iot-device');
    assert.equal(device.status, 'active');
    assert.equal(device.fingerprint, fingerprintOf(new X509Certificate(car.pem)));
    assert.deepEqual(w.events[0]?.data.renewal, false);
  });

  it('refuses bad certificates, in precedence order', () => {
    const { w, ca } = caWorld();
    const asCa = issue(ca, 'wallet', 'x-1', { extensions: 'basicConstraints=CA:TRUE\n' });
    assert.equal(w.run(owner, 'iot.enrol', { certificate: asCa.pem }), 'certificate_not_party');
    const server = issue(ca, 'wallet', 'x-2', { extensions: 'extendedKeyUsage=serverAuth\n' });
    assert.equal(w.run(owner, 'iot.enrol', { certificate: server.pem }), 'certificate_not_party');
    const robot = issue(ca, 'robot', 'x-3');
    assert.equal(
      w.run(owner, 'iot.enrol', { certificate: robot.pem }),
      'invalid_certificate_subject',
    );
    const upper = issue(ca, 'wallet', 'X_3');
    assert.equal(
      w.run(owner, 'iot.enrol', { certificate: upper.pem }),
      'invalid_certificate_subject',
    );
    const otherOrg = issue(ca, 'wallet', 'x-4', { subject: '/O=Elsewhere/OU=wallet/CN=x-4' });
    assert.equal(
      w.run(owner, 'iot.enrol', { certificate: otherOrg.pem }),
      'invalid_certificate_subject',
    );
    const stranger = issue(makeCa('Unregistered CA'), 'wallet', 'x-5');
    assert.equal(w.run(owner, 'iot.enrol', { certificate: stranger.pem }), 'ca_not_found');
    // Same issuer name as the registered CA, another key: it does not chain.
    const forged = issue(makeCa('Registry CA', { tag: 'impostor' }), 'wallet', 'x-6');
    assert.equal(w.run(owner, 'iot.enrol', { certificate: forged.pem }), 'certificate_not_issued');
    const expired = issue(ca, 'wallet', 'x-7', { days: 1 });
    w.time += 2 * day;
    assert.equal(w.run(owner, 'iot.enrol', { certificate: expired.pem }), 'certificate_expired');
  });

  it('a CA revoked or expired enrols nothing more', () => {
    const { w, ca } = caWorld();
    const wallet = issue(ca, 'wallet', 'late-1');
    expectOk(
      w.run(caOperator, 'iot.revokeCa', { ca: fingerprintOf(new X509Certificate(ca.pem)) }),
      'revoke',
    );
    assert.equal(w.run(owner, 'iot.enrol', { certificate: wallet.pem }), 'ca_revoked');
    const short = makeCa('Short-lived CA', { days: 1 });
    const w2 = new IotWorld();
    expectOk(w2.run(caOperator, 'iot.registerCa', { name: 's', certificate: short.pem }), 'short');
    const longer = issue(short, 'wallet', 'long-1', { days: 30 });
    w2.time += 2 * day;
    assert.equal(w2.run(owner, 'iot.enrol', { certificate: longer.pem }), 'ca_expired');
  });

  it('deviceIds are first-come; the owner renews (same role), a certificate enrols once', () => {
    const { w, ca } = caWorld();
    const first = issue(ca, 'service-device', 'meter-1');
    expectOk(w.run(provider, 'iot.enrol', { certificate: first.pem }), 'enrol');
    assert.equal(w.run(provider, 'iot.enrol', { certificate: first.pem }), 'certificate_exists');
    const squatter = issue(ca, 'service-device', 'meter-1', { tag: 'squatter' });
    assert.equal(w.run(outsider, 'iot.enrol', { certificate: squatter.pem }), 'device_id_taken');
    const otherRole = issue(ca, 'wallet', 'meter-1');
    assert.equal(
      w.run(provider, 'iot.enrol', { certificate: otherRole.pem }),
      'device_role_mismatch',
    );
    // The squatter's certificate, enrolled by the owner, is a renewal.
    expectOk(w.run(provider, 'iot.enrol', { certificate: squatter.pem }), 'renew');
    const device = readDevice(w.state, 'meter-1')!;
    assert.equal(device.renewals, 1);
    assert.equal(device.fingerprint, fingerprintOf(new X509Certificate(squatter.pem)));
    assert.equal(w.events[0]?.data.renewal, true);
  });

  it('a P-256 device certificate enrols', () => {
    const { w, ca } = caWorld();
    const p256 = issue(ca, 'iot-device', 'scooter-1', { algorithm: 'p256' });
    expectOk(w.run(owner, 'iot.enrol', { certificate: p256.pem }), 'p256');
    assert.equal(readDevice(w.state, 'scooter-1')?.keyType, 'p256');
  });
});

describe('iot.revoke', () => {
  it("the owner or the CA's operator revokes; an outsider cannot revoke others' devices", () => {
    const { w } = iotWorld();
    assert.equal(
      w.run(owner, 'iot.revoke', { deviceId: 'nobody', reason: 'lost' }),
      'iot_device_not_found',
    );
    assert.equal(
      w.run(owner, 'iot.revoke', { deviceId: 'Car_1', reason: 'lost' }),
      'invalid_device_id',
    );
    assert.equal(
      w.run(owner, 'iot.revoke', { deviceId: 'car-1', reason: '' }),
      'invalid_revoke_reason',
    );
    assert.equal(
      w.run(outsider, 'iot.revoke', { deviceId: 'car-1', reason: 'mine' }),
      'not_device_owner_or_ca_operator',
    );
    assert.equal(
      w.run(provider, 'iot.revoke', { deviceId: 'car-1', reason: 'mine' }),
      'not_device_owner_or_ca_operator',
    );
    expectOk(
      w.run(caOperator, 'iot.revoke', { deviceId: 'charger-1', reason: 'key leaked' }),
      'operator',
    );
    expectOk(w.run(owner, 'iot.revoke', { deviceId: 'car-1', reason: 'stolen' }), 'owner');
    assert.equal(readDevice(w.state, 'car-1')?.revoked?.reason, 'stolen');
    assert.equal(
      w.run(owner, 'iot.revoke', { deviceId: 'car-1', reason: 'again' }),
      'device_revoked',
    );
  });
});

describe('iot.link and iot.unlink', () => {
  it('links the owner’s iot device to its wallet; the sender is the payer', () => {
    const { w } = iotWorld();
    const link = readLink(w.state, 'car-1')!;
    assert.equal(link.payer, owner.address);
    assert.deepEqual(link.mandate, mandate);
  });

  it('refuses an outsider, wrong roles, revoked devices, unknown assets and bad mandates', () => {
    const { w } = iotWorld();
    const base = { iotDevice: 'car-1', wallet: 'wallet-1', asset, mandate };
    assert.equal(
      w.run(owner, 'iot.link', { ...base, mandate: { ...mandate, merchants: [] } }),
      'invalid_mandate',
    );
    assert.equal(
      w.run(owner, 'iot.link', { ...base, mandate: { ...mandate, sessionMax: '30000' } }),
      'invalid_mandate',
    );
    assert.equal(
      w.run(owner, 'iot.link', { ...base, mandate: { ...mandate, merchants: ['a', 'a'] } }),
      'invalid_mandate',
    );
    assert.equal(
      w.run(owner, 'iot.link', {
        ...base,
        mandate: { ...mandate, merchants: Array.from({ length: 33 }, (_, i) => `m-${i}`) },
      }),
      'invalid_mandate',
    );
    assert.equal(
      w.run(owner, 'iot.link', { ...base, mandate: { ...mandate, sessionBlocks: 10_000_001 } }),
      'invalid_session_blocks',
    );
    assert.equal(w.run(owner, 'iot.link', { ...base, iotDevice: 'ghost' }), 'iot_device_not_found');
    assert.equal(w.run(outsider, 'iot.link', base), 'not_device_owner');
    assert.equal(
      w.run(owner, 'iot.link', { ...base, iotDevice: 'wallet-1' }),
      'device_role_mismatch',
    );
    assert.equal(w.run(owner, 'iot.link', { ...base, wallet: 'charger-1' }), 'not_device_owner');
    assert.equal(w.run(owner, 'iot.link', { ...base, wallet: 'car-1' }), 'device_role_mismatch');
    assert.equal(w.run(owner, 'iot.link', { ...base, asset: 'JPY' }), 'asset_not_found');
    expectOk(w.run(owner, 'iot.revoke', { deviceId: 'wallet-1', reason: 'old' }), 'revoke');
    assert.equal(w.run(owner, 'iot.link', base), 'device_revoked');
  });

  it('only the payer unlinks', () => {
    const { w } = iotWorld();
    assert.equal(w.run(outsider, 'iot.unlink', { iotDevice: 'car-1' }), 'not_device_owner');
    expectOk(w.run(owner, 'iot.unlink', { iotDevice: 'car-1' }), 'unlink');
    assert.equal(readLink(w.state, 'car-1'), undefined);
    assert.equal(w.run(owner, 'iot.unlink', { iotDevice: 'car-1' }), 'link_not_found');
  });
});

describe('iot.setTariff', () => {
  it("the service device's owner sets it; the provider defaults to the sender", () => {
    const { w } = iotWorld();
    assert.equal(readTariff(w.state, 'charger-1')?.provider, provider.address);
    expectOk(
      w.run(provider, 'iot.setTariff', { ...tariff, unitPrice: '300', provider: outsider.address }),
      'set',
    );
    assert.equal(readTariff(w.state, 'charger-1')?.provider, outsider.address);
    assert.equal(readTariff(w.state, 'charger-1')?.unitPrice, '300');
  });

  it("refuses another's tariff, wrong roles, unknown assets and bad fields", () => {
    const { w } = iotWorld();
    assert.equal(w.run(provider, 'iot.setTariff', { ...tariff, unit: 'k W h' }), 'invalid_unit');
    assert.equal(w.run(provider, 'iot.setTariff', { ...tariff, unitPrice: '-1' }), 'invalid_price');
    assert.equal(w.run(provider, 'iot.setTariff', { ...tariff, unitsPer: 0 }), 'invalid_units_per');
    assert.equal(
      w.run(provider, 'iot.setTariff', { ...tariff, maxRatePerHour: 0 }),
      'invalid_max_rate',
    );
    assert.equal(
      w.run(provider, 'iot.setTariff', { ...tariff, provider: 'cof1nope' }),
      'invalid_address',
    );
    assert.equal(
      w.run(provider, 'iot.setTariff', { ...tariff, serviceDevice: 'ghost' }),
      'iot_device_not_found',
    );
    assert.equal(w.run(outsider, 'iot.setTariff', tariff), 'not_device_owner');
    assert.equal(
      w.run(owner, 'iot.setTariff', { ...tariff, serviceDevice: 'car-1' }),
      'device_role_mismatch',
    );
    assert.equal(w.run(provider, 'iot.setTariff', { ...tariff, asset: 'JPY' }), 'asset_not_found');
    expectOk(w.run(provider, 'iot.revoke', { deviceId: 'charger-1', reason: 'retired' }), 'revoke');
    assert.equal(w.run(provider, 'iot.setTariff', tariff), 'device_revoked');
  });
});
