import { signingMessage } from '../src/crypto/domains.js';
import { fromHex, publicKeyFromAddress } from '../src/crypto/index.js';
import { VerifyPool } from '../src/crypto/verify-pool.js';
import { hashTx, type SignedTx } from '../src/sdk/index.js';

/**
 * This machine's ed25519 verify ceiling, in this run: the signatures of `signed` checked by a
 * `VerifyPool` on all cores (after a warm-up), in verifies per second. The baseline the
 * benchmarks' throughput is compared with.
 */
export async function verifyCeiling(signed: SignedTx[]): Promise<number> {
  const pool = new VerifyPool();
  try {
    const checks = signed.map(({ signature, ...body }) => ({
      publicKey: publicKeyFromAddress(body.sender),
      message: signingMessage('tx', hashTx(body)),
      signature: fromHex(signature),
    }));
    await pool.verifyBatch(checks.slice(0, 4_000));
    const start = performance.now();
    for (let i = 0; i < checks.length; i += 10_000) {
      await pool.verifyBatch(checks.slice(i, i + 10_000));
    }
    return checks.length / ((performance.now() - start) / 1000);
  } finally {
    await pool.close();
  }
}
