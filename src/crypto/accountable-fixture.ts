import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { sha256 as nobleSha256, sha512 as nobleSha512 } from '@noble/hashes/sha2.js';

import { heightBytes, type AccountableSignature } from './accountable.js';
import { concatBytes, fromHex, utf8 } from './bytes.js';

/*
 * Test support for accountable.test.ts and accountable-guards.test.ts: the scheme written out
 * again from its definition, to check accountable.ts against. Nothing else imports it.
 */

export const Point = ed25519.Point;
export const L = Point.Fn.ORDER;

/** The scheme written out from its definition, on noble's hashes rather than node:crypto. */
export const reference = {
  wide(...parts: Uint8Array[]): bigint {
    return bytesToNumberLE(nobleSha512(concatBytes(...parts))) % L;
  },
  secretScalar(seed: Uint8Array): bigint {
    return reference.wide(utf8('coffer/accountable/key/v1'), seed);
  },
  nonceSecret(seed: Uint8Array): Uint8Array {
    return nobleSha256(concatBytes(utf8('coffer/accountable/nonce-secret/v1'), seed));
  },
  nonce(nonceSecret: Uint8Array, chainId: string, height: number): bigint {
    return reference.wide(
      utf8('coffer/accountable/nonce/v1'),
      nonceSecret,
      utf8(chainId),
      heightBytes(height),
    );
  },
  challenge(R: Uint8Array, P: Uint8Array, height: number, message: Uint8Array): bigint {
    return reference.wide(
      R,
      P,
      utf8('coffer/accountable/challenge/v1'),
      heightBytes(height),
      message,
    );
  },
  /** The bare group equation s * G = R + c * P, with no encoding or subgroup checks. */
  equationHolds(P: Uint8Array, message: Uint8Array, signature: AccountableSignature): boolean {
    const R = fromHex(signature.R);
    const s = bytesToNumberLE(fromHex(signature.s));
    const c = reference.challenge(R, P, signature.height, message);
    const left = Point.BASE.multiplyUnsafe(s % L);
    const right = Point.fromBytes(R, true).add(Point.fromBytes(P, true).multiplyUnsafe(c));
    return left.equals(right);
  },
};
