import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { iotRequestHash, signIotRequest, verifyIotRequest } from './crypto.js';
import { issue, makeCa } from './txs-fixture.js';

/*
 * The devices' signed messages against openssl-made certificates: ed25519 and P-256 keys verify
 * under their certificates, and a flipped byte, another kind, another chain, another field or
 * another device's certificate does not.
 */

const ca = makeCa('Crypto Test CA');
const devices = {
  ed25519: issue(ca, 'service-device', 'signer-ed'),
  p256: issue(ca, 'service-device', 'signer-p', { algorithm: 'p256' }),
};

describe('iot signed messages', () => {
  for (const [name, device] of Object.entries(devices)) {
    it(`${name}: verify(sign(m)); a flipped byte, kind, chain, field or certificate fails`, () => {
      const other = name === 'ed25519' ? devices.p256 : devices.ed25519;
      fc.assert(
        fc.property(
          fc.string({ minLength: 1, maxLength: 64 }),
          fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
          fc.nat({ max: 63 }),
          (sessionId, meter, at) => {
            const fields = { serviceDevice: 'signer', sessionId, meterEnd: meter, endedAt: 1 };
            const signature = signIotRequest('end', 'chain-a', fields, device.key);
            assert.ok(verifyIotRequest('end', 'chain-a', fields, signature, device.pem));
            const bytes = Buffer.from(signature, 'base64url');
            bytes[at] = bytes[at]! ^ 1;
            const flipped = bytes.toString('base64url');
            assert.ok(!verifyIotRequest('end', 'chain-a', fields, flipped, device.pem));
            assert.ok(!verifyIotRequest('bill', 'chain-a', fields, signature, device.pem));
            assert.ok(!verifyIotRequest('end', 'chain-b', fields, signature, device.pem));
            const changed = { ...fields, meterEnd: meter === 0 ? 1 : meter - 1 };
            assert.ok(!verifyIotRequest('end', 'chain-a', changed, signature, device.pem));
            assert.ok(!verifyIotRequest('end', 'chain-a', fields, signature, other.pem));
          },
        ),
        { numRuns: 25 },
      );
    });
  }

  it('refuses malformed signatures and certificates without throwing; the hash needs a chain id', () => {
    const fields = { serviceDevice: 'signer' };
    assert.equal(verifyIotRequest('end', 'c', fields, 'short', devices.ed25519.pem), false);
    const signature = signIotRequest('end', 'c', fields, devices.ed25519.key);
    assert.equal(verifyIotRequest('end', 'c', fields, signature, 'not a certificate'), false);
    assert.throws(() => iotRequestHash('end', '', fields), /chainId/);
  });
});
