import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';

import { signIotRequest } from './crypto.js';
import { possessionFields, sessionStartLagMaxMs } from './schema.js';
import { readDevice } from './state.js';
import {
  billPayload,
  caOperator,
  chainId,
  expectOk,
  iotWorld,
  issue,
  makeCa,
  outsider,
  owner,
  possessionProof,
  provider,
  relay,
  startPayload,
} from './txs-fixture.js';
import { fingerprintOf } from './x509.js';

/*
 * Attacks on the iot module (security review of issue 20): each test shows a weakness that was
 * found and fixed, or pins a suspicion that turned out safe.
 */

// ---- DER, enough to re-encode a certificate's signature -----------------------------------------

interface Tlv {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

function readTlv(der: Buffer, at: number): Tlv {
  const tag = der[at]!;
  let len = der[at + 1]!;
  let contentStart = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i += 1) len = len * 256 + der[at + 2 + i]!;
    contentStart += n;
  }
  return { tag, start: at, contentStart, end: contentStart + len };
}

function children(der: Buffer, tlv: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = tlv.contentStart; at < tlv.end;) {
    const child = readTlv(der, at);
    out.push(child);
    at = child.end;
  }
  return out;
}

function encode(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else if (n < 0x100) len = Buffer.from([0x81, n]);
  else len = Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, content]);
}

function integer(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return encode(0x02, bytes);
}

const p256Order = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** The same certificate with its (P-256) CA signature's s replaced by n - s: still verifies. */
function malleate(pem: string): string {
  const der = Buffer.from(new X509Certificate(pem).raw);
  const outer = readTlv(der, 0);
  const [tbs, alg, sigBits] = children(der, outer) as [Tlv, Tlv, Tlv];
  const sig = readTlv(der, sigBits.contentStart + 1);
  const [r, s] = children(der, sig) as [Tlv, Tlv];
  const sValue = BigInt(`0x${der.subarray(s.contentStart, s.end).toString('hex')}`);
  const newSig = encode(
    0x30,
    Buffer.concat([der.subarray(r.start, r.end), integer(p256Order - sValue)]),
  );
  const bits = encode(0x03, Buffer.concat([Buffer.from([0]), newSig]));
  const cert = encode(
    0x30,
    Buffer.concat([der.subarray(tbs.start, tbs.end), der.subarray(alg.start, alg.end), bits]),
  );
  const b64 = cert.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

describe('attack: a revoked certificate re-enrolled with a malleated CA signature', () => {
  it('the CA operator revokes a device; its owner cannot bring the same certificate back', () => {
    const { w } = iotWorld();
    const ca = makeCa('P256 Attack CA', { algorithm: 'p256' });
    expectOk(w.run(caOperator, 'iot.registerCa', { name: 'p256', certificate: ca.pem }), 'ca');
    const car = issue(ca, 'iot-device', 'car-9');
    expectOk(w.run(owner, 'iot.enrol', { certificate: car.pem }), 'enrol');
    expectOk(w.run(caOperator, 'iot.revoke', { deviceId: 'car-9', reason: 'key leaked' }), 'rv');
    const twin = malleate(car.pem);
    const cert = new X509Certificate(twin);
    assert.ok(cert.verify(new X509Certificate(ca.pem).publicKey), 'the twin verifies');
    assert.notEqual(cert.fingerprint256, new X509Certificate(car.pem).fingerprint256);
    assert.equal(w.run(owner, 'iot.enrol', { certificate: twin }), 'certificate_exists');
    assert.equal(readDevice(w.state, 'car-9')?.status, 'revoked');
  });
});

describe('attack: a certificate enrolled or registered by an account without its key', () => {
  it("an outsider who copies the provider's certificate cannot own it and divert its revenue", () => {
    const { w, ...p } = iotWorld();
    const charger2 = issue(p.ca, 'service-device', 'charger-2');
    // The provider's enrol tx is seen in the pool: the outsider sends its certificate first, with
    // a proof it cannot make (its own key's signature, or the provider's proof for the provider).
    const mine = possessionProof('enrol', charger2.pem, provider.address);
    assert.equal(
      w.run(outsider, 'iot.enrol', { certificate: charger2.pem, proof: mine }),
      'proof_invalid',
    );
    const fp = fingerprintOf(new X509Certificate(charger2.pem));
    const forged = signIotRequest(
      'enrol',
      chainId,
      possessionFields(fp, outsider.address),
      p.car.key,
    );
    assert.equal(
      w.run(outsider, 'iot.enrol', { certificate: charger2.pem, proof: forged }),
      'proof_invalid',
    );
    // Another chain's proof is no good either.
    const elsewhere = signIotRequest(
      'enrol',
      'another-chain',
      possessionFields(fp, outsider.address),
      charger2.key,
    );
    assert.equal(
      w.run(outsider, 'iot.enrol', { certificate: charger2.pem, proof: elsewhere }),
      'proof_invalid',
    );
    // A CA proof is not an enrolment proof.
    const asCa = signIotRequest(
      'registerCa',
      chainId,
      possessionFields(fp, outsider.address),
      charger2.key,
    );
    assert.equal(
      w.run(outsider, 'iot.enrol', { certificate: charger2.pem, proof: asCa }),
      'proof_invalid',
    );
    assert.equal(readDevice(w.state, 'charger-2'), undefined);
    expectOk(w.run(provider, 'iot.enrol', { certificate: charger2.pem, proof: mine }), 'enrol');
    assert.equal(readDevice(w.state, 'charger-2')?.owner, provider.address);
  });

  it("an outsider cannot register another's CA certificate and operate it", () => {
    const { w } = iotWorld();
    const ca = makeCa('Hijacked CA');
    const operatorProof = possessionProof('registerCa', ca.pem, caOperator.address);
    assert.equal(
      w.run(outsider, 'iot.registerCa', {
        name: 'mine',
        certificate: ca.pem,
        proof: operatorProof,
      }),
      'proof_invalid',
    );
    expectOk(
      w.run(caOperator, 'iot.registerCa', {
        name: 'ok',
        certificate: ca.pem,
        proof: operatorProof,
      }),
      'ca',
    );
  });
});

describe('attack: a session start backdated to defeat the meter rate check', () => {
  it('a start dated far before the block is refused, so a first bill cannot claim days of usage', () => {
    const { w, ...p } = iotWorld();
    const longAgo = w.time - 10 * 86_400_000;
    assert.equal(
      w.run(
        relay,
        'iot.startSession',
        startPayload(p, 's-old', { time: w.time, startedAt: longAgo }),
      ),
      'time_in_past',
    );
    // Within the lag a start is fine, and its first bill is bounded by the rate since then.
    const recent = w.time - sessionStartLagMaxMs;
    expectOk(
      w.run(
        relay,
        'iot.startSession',
        startPayload(p, 's-new', { time: w.time, startedAt: recent }),
      ),
      'start',
    );
    const bill = billPayload(p, 's-new', 1, {
      meterStart: 1000,
      // More than the tariff's 50 an hour can deliver in the hour since the start.
      usage: 60,
      from: recent,
      to: w.time,
      amount: '10000',
    });
    assert.equal(w.run(relay, 'iot.bill', bill), 'meter_rate_impossible');
  });
});

function toPem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

describe('attack: a certificate whose public key does not decode', () => {
  it('an unknown key algorithm or an off-curve P-256 point is refused with a code, not a throw', () => {
    const { w, ...p } = iotWorld();
    const der = Buffer.from(new X509Certificate(p.car.pem).raw);
    const oid = der.indexOf(Buffer.from([0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21]));
    const unknown = Buffer.from(der);
    unknown[oid + 4] = 0x77; // 1.3.101.119: no key type OpenSSL knows
    const p256 = makeCa('Off-curve CA', { algorithm: 'p256' });
    const caDer = Buffer.from(new X509Certificate(p256.pem).raw);
    const point = caDer.indexOf(Buffer.from([0x03, 0x42, 0x00, 0x04]));
    const offCurve = Buffer.from(caDer);
    offCurve[point + 10]! ^= 0xff;
    const proof = 'A'.repeat(86);
    for (const certificate of [toPem(unknown), toPem(offCurve)]) {
      assert.equal(w.run(owner, 'iot.enrol', { certificate, proof }), 'invalid_certificate');
      assert.equal(
        w.run(outsider, 'iot.registerCa', { name: 'x', certificate, proof }),
        'invalid_certificate',
      );
    }
  });
});

describe('attack: a session id that a URL resolves away', () => {
  it('"." and ".." are not session ids: their session and bills could never be read by path', () => {
    // WHATWG URLs drop dot segments, even percent-encoded ones: the read would hit another route.
    const url = new URL(`/v1/iot/sessions/charger-1/${encodeURIComponent('..')}`, 'http://node');
    assert.equal(url.pathname, '/v1/iot/sessions/');
    const { w, ...p } = iotWorld();
    for (const sessionId of ['.', '..']) {
      assert.equal(
        w.run(relay, 'iot.startSession', startPayload(p, sessionId, { time: w.time })),
        'invalid_session_id',
      );
    }
    expectOk(w.run(relay, 'iot.startSession', startPayload(p, '...', { time: w.time })), 'dots');
  });
});

describe('safe: P-256 signature malleability and replays', () => {
  it('a high-S twin of a P-256 bill signature verifies, but pays nothing twice', () => {
    const { w, ...p } = iotWorld();
    // The provider renews its charger with a P-256 certificate.
    const charger = issue(p.ca, 'service-device', 'charger-1', { algorithm: 'p256', tag: 'p256' });
    expectOk(w.run(provider, 'iot.enrol', { certificate: charger.pem }), 'renew');
    const keys = { serviceKey: charger.key };
    expectOk(
      w.run(relay, 'iot.startSession', startPayload(p, 's-1', { time: w.time, ...keys })),
      'start',
    );
    const from = w.time - 1000;
    w.advance(10, 3_600_000);
    const bill = billPayload(p, 's-1', 1, {
      meterStart: 1000,
      usage: 10,
      from,
      to: w.time,
      amount: '2500',
      ...keys,
    });
    expectOk(w.run(relay, 'iot.bill', bill), 'bill');
    const sig = Buffer.from(bill.signature, 'base64url');
    const s = BigInt(`0x${sig.subarray(32).toString('hex')}`);
    const twin = Buffer.concat([
      sig.subarray(0, 32),
      Buffer.from((p256Order - s).toString(16).padStart(64, '0'), 'hex'),
    ]).toString('base64url');
    assert.notEqual(twin, bill.signature);
    const before = w.balance(provider.address);
    assert.equal(w.run(relay, 'iot.bill', { ...bill, signature: twin }), 'bill_duplicate');
    assert.equal(w.balance(provider.address), before);
    // The car's authorisation for s-1 starts no other session, even signed anew by the charger.
    const old = startPayload(p, 's-1', { time: w.time, ...keys });
    const start = { ...old.start, sessionId: 's-2' };
    const resigned = { start, signature: signIotRequest('start', chainId, start, charger.key) };
    assert.equal(w.run(relay, 'iot.startSession', resigned), 'authorisation_invalid');
    assert.equal(w.run(relay, 'iot.startSession', old), 'session_exists');
  });
});
