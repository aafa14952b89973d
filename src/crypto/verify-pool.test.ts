import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { describe, it } from 'node:test';

import { CryptoInputError } from './errors.js';
import { keyPairFromSecret, sign } from './keys.js';
import { VerifyPool, type SignatureCheck } from './verify-pool.js';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const poolModuleUrl = new URL('./verify-pool.ts', import.meta.url).href;

/** Deterministic bytes (a linear congruential sequence), so failures replay. */
function bytesFrom(seed: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0;
  for (let index = 0; index < length; index++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    bytes[index] = state >>> 24;
  }
  return bytes;
}

/** Checks where every third is corrupted in one of several ways; returns the expected answers. */
function mixedBatch(count: number): { checks: SignatureCheck[]; expected: boolean[] } {
  const pairs = Array.from({ length: 40 }, (_, index) =>
    keyPairFromSecret(bytesFrom(index + 1, 32)),
  );
  const checks: SignatureCheck[] = [];
  const expected: boolean[] = [];
  for (let index = 0; index < count; index++) {
    const pair = pairs[index % pairs.length]!;
    const message = bytesFrom(1000 + index, index % 200);
    const signature = sign(message, pair.secretKey);
    const check: SignatureCheck = { publicKey: pair.publicKey, message, signature };
    let valid = true;
    if (index % 3 === 1) {
      valid = false;
      switch (index % 7) {
        case 0:
          check.signature = signature.slice();
          check.signature[index % 64]! ^= 0x10;
          break;
        case 1:
          check.message = Uint8Array.of(...message, 1);
          break;
        case 2:
          check.publicKey = pairs[(index + 1) % pairs.length]!.publicKey;
          break;
        case 3:
          check.signature = signature.subarray(0, 63);
          break;
        case 4:
          check.publicKey = new Uint8Array(31);
          break;
        case 5:
          check.message = 'not bytes' as unknown as Uint8Array;
          break;
        default:
          check.publicKey = new Uint8Array(32).fill(0xff);
      }
    }
    checks.push(check);
    expected.push(valid);
  }
  return { checks, expected };
}

function workersOf(pool: VerifyPool): Worker[] {
  const slots = (pool as unknown as { slots: ({ worker: Worker } | undefined)[] }).slots;
  return slots.flatMap((slot) => (slot === undefined ? [] : [slot.worker]));
}

function runChild(source: string): ReturnType<typeof spawnSync> {
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source], {
    cwd: projectRoot,
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('VerifyPool', () => {
  it('answers a mixed batch of 2000 in input order', async () => {
    const pool = new VerifyPool({ size: 2 });
    try {
      const { checks, expected } = mixedBatch(2000);
      assert.deepEqual(await pool.verifyBatch(checks), expected);
      assert.equal(workersOf(pool).length, 2, 'the batch was spread over both workers');
      // Concurrent batches each get their own answers.
      const [first, second] = await Promise.all([
        pool.verifyBatch(checks.slice(0, 700)),
        pool.verifyBatch(checks.slice(700)),
      ]);
      assert.deepEqual([...first, ...second], expected);
    } finally {
      await pool.close();
    }
  });

  it('verifies tiny batches inline without starting workers', async () => {
    const pool = new VerifyPool({ size: 2 });
    try {
      const { checks, expected } = mixedBatch(15);
      assert.deepEqual(await pool.verifyBatch(checks), expected);
      assert.deepEqual(await pool.verifyBatch([]), []);
      assert.equal(workersOf(pool).length, 0);
    } finally {
      await pool.close();
    }
  });

  it('rejects pending batches when a worker dies, then recovers', async () => {
    const pool = new VerifyPool({ size: 1 });
    try {
      const { checks, expected } = mixedBatch(400);
      const pending = pool.verifyBatch(checks);
      const [worker] = workersOf(pool);
      assert.ok(worker);
      await worker.terminate();
      await assert.rejects(pending, (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.match(error.message, /verify worker/);
        return true;
      });
      assert.deepEqual(await pool.verifyBatch(checks), expected);
    } finally {
      await pool.close();
    }
  });

  it('sends even a tiny batch to the workers when told not to verify inline', async () => {
    const pool = new VerifyPool({ size: 1 });
    try {
      const { checks, expected } = mixedBatch(6);
      assert.deepEqual(await pool.verifyBatch(checks, { inline: false }), expected);
      assert.equal(workersOf(pool).length, 1);
    } finally {
      await pool.close();
    }
  });

  it('digests tx texts in the workers, says which it could not read, and recovers from a crash', async () => {
    const pool = new VerifyPool({ size: 1 });
    try {
      const texts = [
        '{"nonce":1,"payload":{},"signature":"' + 'ab'.repeat(64) + '"}',
        '[1]',
        'nope',
      ];
      let deep = '1';
      for (let level = 0; level < 70; level++) deep = `{"d":${deep}}`;
      texts.push(`{"payload":${deep},"signature":"00"}`, '{"payload":{},"signature":"AB"}');
      const digests = await pool.digestTxs(texts, { verify: false });
      assert.deepEqual(
        digests.map((d) => d.status),
        ['ok', 'unreadable', 'unreadable', 'invalid_body', 'bad_signature_text'],
      );
      assert.deepEqual(digests[0]!.signatureBytes, new Uint8Array(64).fill(0xab));
      assert.equal(digests[0]!.hashBytes.length, 32);
      assert.equal(digests[0]!.valid, false);
      assert.equal(digests[4]!.hashBytes.length, 32, 'the hash of a readable body is given');

      const many = Array.from({ length: 300 }, () => texts[0]!);
      const pending = pool.digestTxs(many, { verify: true });
      await workersOf(pool)[0]!.terminate();
      await assert.rejects(pending, /verify worker/);
      const again = await pool.digestTxs(many, { verify: true });
      assert.equal(again.length, 300);
      assert.ok(again.every((d) => d.status === 'ok' && !d.valid));
    } finally {
      await pool.close();
    }
  });

  it('rejects pending and later batches once closed', async () => {
    const pool = new VerifyPool({ size: 1 });
    const pending = assert.rejects(pool.verifyBatch(mixedBatch(300).checks), /closed/);
    await pool.close();
    await pending;
    await assert.rejects(pool.verifyBatch([]), /closed/);
    await pool.close();
  });

  it('names the bad field', async () => {
    assert.throws(
      () => new VerifyPool({ size: 0 }),
      (error: unknown) => {
        assert.ok(error instanceof CryptoInputError);
        assert.equal(error.field, 'options.size');
        return true;
      },
    );
    assert.throws(() => new VerifyPool({ size: 1.5 }), CryptoInputError);
    const pool = new VerifyPool({ size: 1 });
    await assert.rejects(pool.verifyBatch('x' as unknown as SignatureCheck[]), (error: unknown) => {
      assert.ok(error instanceof CryptoInputError);
      assert.equal(error.field, 'checks');
      return true;
    });
    await assert.rejects(
      pool.verifyBatch([null as unknown as SignatureCheck]),
      (error: unknown) => {
        assert.ok(error instanceof CryptoInputError);
        assert.equal(error.field, 'checks[0]');
        return true;
      },
    );
    await pool.close();
  });

  it('close() lets the process exit, and so does an idle pool left open', () => {
    const batch = `
      import { VerifyPool } from ${JSON.stringify(poolModuleUrl)};
      import crypto from 'node:crypto';
      const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
      const raw = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12));
      const message = new Uint8Array([1, 2, 3]);
      const signature = new Uint8Array(crypto.sign(null, message, privateKey));
      const checks = Array.from({ length: 200 }, () => ({ publicKey: raw, message, signature }));
      const pool = new VerifyPool({ size: 2 });
      const results = await pool.verifyBatch(checks);
      if (results.length !== 200 || !results.every(Boolean)) process.exit(3);
    `;
    for (const ending of ['await pool.close();', '']) {
      const child = runChild(batch + ending);
      assert.equal(child.signal, null, `child was killed (hung?): ${String(child.stderr)}`);
      assert.equal(child.status, 0, String(child.stderr));
    }
  });
});
