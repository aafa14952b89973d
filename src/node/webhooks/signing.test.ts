import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import {
  generateSecret,
  secretHint,
  secretKeyBytesMax,
  secretKeyBytesMin,
  secretProblem,
  signWebhook,
  webhookId,
} from './signing.js';

const secretArbitrary = fc
  .uint8Array({ minLength: secretKeyBytesMin, maxLength: secretKeyBytesMax })
  .map((key) => `whsec_${Buffer.from(key).toString('base64')}`);

/** The independent verifier (npm standardwebhooks), with its 5-minute timestamp tolerance. */
function verifies(secret: string, id: string, timestamp: number, body: string, signature: string) {
  try {
    new Webhook(secret).verify(body, {
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signature,
    });
    return true;
  } catch {
    return false;
  }
}

describe('Standard Webhooks signing', () => {
  it('signs what the independent verifier accepts, and it refuses any changed part', () => {
    const now = Math.floor(Date.now() / 1000);
    fc.assert(
      fc.property(
        secretArbitrary,
        fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.includes(' ')),
        fc.json(),
        fc.integer({ min: -200, max: 200 }),
        (secret, id, body, skew) => {
          const timestamp = now + skew;
          const signature = signWebhook(secret, id, timestamp, body);
          assert.ok(verifies(secret, id, timestamp, body, signature));
          assert.equal(
            signature,
            new Webhook(secret).sign(id, new Date(timestamp * 1000), body),
            'the same bytes as the reference signer',
          );
          assert.ok(!verifies(secret, id, timestamp, body + ' ', signature), 'body changed');
          assert.ok(!verifies(secret, `${id}x`, timestamp, body, signature), 'id changed');
          assert.ok(!verifies(secret, id, timestamp + 1, body, signature), 'timestamp changed');
          assert.ok(!verifies(generateSecret(), id, timestamp, body, signature), 'another secret');
        },
      ),
      { numRuns: 200 },
    );
  });

  it('accepts whsec_ secrets of 24 to 64 bytes and names what is wrong with others', () => {
    assert.equal(secretProblem(generateSecret()), undefined);
    const base64 = (bytes: number) => Buffer.alloc(bytes, 7).toString('base64');
    assert.equal(secretProblem(`whsec_${base64(24)}`), undefined);
    assert.equal(secretProblem(`whsec_${base64(64)}`), undefined);
    assert.match(secretProblem(`whsec_${base64(23)}`)!, /24 to 64 bytes, this one 23/);
    assert.match(secretProblem(`whsec_${base64(65)}`)!, /24 to 64 bytes, this one 65/);
    assert.match(secretProblem(base64(32))!, /starts with whsec_/);
    assert.match(secretProblem('whsec_not base64!')!, /base64/);
    assert.match(secretProblem('whsec_')!, /base64/);
  });

  it('shows no more of a secret than its last 4 characters', () => {
    const secret = generateSecret();
    const hint = secretHint(secret);
    assert.equal(hint, `whsec_…${secret.slice(-4)}`);
    assert.ok(!hint.includes(secret.slice(6, -4)));
  });

  it('names an event by its block hash and position: stable, and different for any other event', () => {
    const hash = 'ab'.repeat(32);
    assert.equal(webhookId(hash, 0, 1), webhookId(hash, 0, 1));
    assert.match(webhookId(hash, 0, 1), /^evt_[0-9a-f]{32}$/);
    const ids = new Set<string>();
    for (const block of [hash, 'cd'.repeat(32)]) {
      for (const tx of [-1, 0, 1, 10]) {
        for (const event of [0, 1, 10]) ids.add(webhookId(block, tx, event));
      }
    }
    assert.equal(ids.size, 2 * 4 * 3);
  });
});
