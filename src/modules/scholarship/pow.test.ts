import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import {
  basisPoints,
  blockHashPattern,
  difficultyBaseDefault,
  difficultyCap,
  difficultyFor,
  difficultyMin,
  ilog2,
  isqrt,
  leadingZeroBits,
  mintStamp,
  noncePattern,
  recentBlocks,
  senderLoadDivisor,
  stampBits,
  stampDomain,
  stampHash,
  stampHashHex,
  stampKinds,
  subjectLoadDivisor,
  wilsonLowerBound,
  windowBlocks,
  type StampFields,
} from './pow.js';

/*
 * The proof-of-work stamps and the reputation bound (pow.ts), on their own: the stamp hash
 * against SHA-256 of the canonical text written out by hand, leading zero bits at every bit
 * position, the difficulty rule's steps and cap, minting (the first nonce that is enough), the
 * integer square root, and the Wilson lower bound against a reference that finds the rounded-up
 * root by bisection.
 */

const fields: StampFields = {
  kind: 'question',
  contentHash: 'ab'.repeat(32),
  sender: 'cof1test',
  blockHash: 'cd'.repeat(32),
};

/** SHA-256 of the stamp's canonical JSON, written out without the module's encoder. */
function handHash(f: StampFields, nonce: string): string {
  const text = `["${stampDomain}","${f.kind}","${f.contentHash}","${f.sender}","${nonce}","${f.blockHash}"]`;
  return createHash('sha256').update(text).digest('hex');
}

describe('stamp constants', () => {
  it('are the documented values', () => {
    assert.equal(stampDomain, 'coffer/scholarship/stamp/v1');
    assert.deepEqual(stampKinds, ['question', 'answer']);
    assert.deepEqual(
      [difficultyMin, difficultyBaseDefault, difficultyCap, windowBlocks, recentBlocks],
      [8, 12, 26, 100, 64],
    );
    assert.deepEqual([senderLoadDivisor, subjectLoadDivisor, basisPoints], [2, 16, 10_000]);
  });

  it('accept nonces of 1 to 32 lowercase hex digits and 64-digit hashes, anchored', () => {
    for (const good of ['0', 'f', 'a'.repeat(32)]) assert.ok(noncePattern.test(good), good);
    for (const bad of ['', 'A', 'g', 'a'.repeat(33), ' 0', '0 ', 'x0', '0x']) {
      assert.equal(noncePattern.test(bad), false, JSON.stringify(bad));
    }
    assert.ok(blockHashPattern.test('0'.repeat(64)));
    for (const bad of ['0'.repeat(63), '0'.repeat(65), 'A'.repeat(64), `x${'0'.repeat(64)}`]) {
      assert.equal(blockHashPattern.test(bad), false, bad);
    }
  });
});

describe('stampHash', () => {
  it('is SHA-256 of the canonical array of domain, kind, content, sender, nonce and block', () => {
    for (const nonce of ['0', '1', 'ff', 'deadbeef']) {
      assert.equal(toHexOf(stampHash(fields, nonce)), handHash(fields, nonce));
      assert.equal(stampHashHex(fields, nonce), handHash(fields, nonce));
    }
    const answer = { ...fields, kind: 'answer' as const };
    assert.equal(stampHashHex(answer, '0'), handHash(answer, '0'));
    assert.notEqual(stampHashHex(answer, '0'), stampHashHex(fields, '0'));
    assert.equal(stampHash(fields, '0').length, 32);
  });

  it('names the bad field', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ kind: 'comment' }, 'kind must be one of question, answer'],
      [{ kind: '' }, 'kind must be one of question, answer'],
      [{ contentHash: 'AB'.repeat(32) }, 'contentHash must be 64 lowercase hex digits'],
      [{ contentHash: 'ab'.repeat(31) }, 'contentHash must be 64 lowercase hex digits'],
      [{ blockHash: 'cd'.repeat(33) }, 'blockHash must be 64 lowercase hex digits'],
      [{ blockHash: '' }, 'blockHash must be 64 lowercase hex digits'],
      [{ sender: '' }, 'sender must be an address'],
      [{ sender: 7 }, 'sender must be an address'],
      [{ sender: undefined }, 'sender must be an address'],
    ];
    for (const [change, message] of cases) {
      const bad = { ...fields, ...change };
      assert.throws(() => stampHash(bad, '0'), { name: 'TypeError', message }, message);
      assert.throws(() => mintStamp(bad, 0), { name: 'TypeError', message }, `mint: ${message}`);
    }
    for (const nonce of ['', 'G', 'a'.repeat(33), '-1']) {
      assert.throws(() => stampHash(fields, nonce), {
        name: 'TypeError',
        message: 'nonce must be 1 to 32 lowercase hex digits',
      });
    }
  });
});

function toHexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

describe('leadingZeroBits', () => {
  it('counts the zero bits before the first one, at every position', () => {
    for (let bit = 0; bit < 256; bit++) {
      const hash = new Uint8Array(32);
      hash[bit >> 3] = 0x80 >> (bit & 7);
      assert.equal(leadingZeroBits(hash), bit, `first one at bit ${bit}`);
      // Bits after the first one do not count.
      hash[31] = hash[31]! | 1;
      assert.equal(leadingZeroBits(hash), bit, `first one at bit ${bit}, a one at the end`);
    }
    assert.equal(leadingZeroBits(new Uint8Array(32)), 256);
    assert.equal(leadingZeroBits(new Uint8Array(0)), 0);
    assert.equal(leadingZeroBits(Uint8Array.of(0xff)), 0);
    assert.equal(leadingZeroBits(Uint8Array.of(0, 0, 0x0f, 0)), 20);
    assert.equal(stampBits(fields, '0'), leadingZeroBits(stampHash(fields, '0')));
  });
});

describe('the difficulty rule', () => {
  it('is floor(log2) in integers, 0 below 1 and for what is not a whole number', () => {
    const table: [number, number][] = [
      [1, 0],
      [2, 1],
      [3, 1],
      [4, 2],
      [7, 2],
      [8, 3],
      [1023, 9],
      [1024, 10],
      [2 ** 53 - 1, 52],
      [0, 0],
      [-4, 0],
      [1.5, 0],
      [3.9, 0],
      [Number.NaN, 0],
      [Number.POSITIVE_INFINITY, 0],
      [2 ** 53, 0],
    ];
    for (const [n, bits] of table) assert.equal(ilog2(n), bits, `ilog2(${n})`);
  });

  it('adds a bit per doubling of the sender load and of the subject load, capped', () => {
    const table: [number, number, number, number][] = [
      [12, 0, 0, 12],
      [12, 1, 0, 12],
      [12, 2, 0, 13],
      [12, 5, 0, 13],
      [12, 6, 0, 14],
      [12, 14, 0, 15],
      [12, 0, 15, 12],
      [12, 0, 16, 13],
      [12, 0, 47, 13],
      [12, 0, 48, 14],
      [12, 2, 16, 14],
      [8, 6, 48, 12],
      [20, 1_000_000, 1_000_000, 26],
      [26, 0, 0, 26],
      [24, 6, 0, 26],
      [24, 2, 0, 25],
    ];
    for (const [base, sender, subject, bits] of table) {
      assert.equal(difficultyFor(base, sender, subject), bits, `${base} ${sender} ${subject}`);
    }
  });
});

describe('mintStamp', () => {
  it('answers the first nonce whose stamp has enough bits', () => {
    for (const bits of [1, 4, 8, 10]) {
      const stamp = mintStamp(fields, bits);
      assert.equal(stamp.blockHash, fields.blockHash);
      assert.ok(stampBits(fields, stamp.nonce) >= bits, `${bits} bits`);
      const found = parseInt(stamp.nonce, 16);
      assert.equal(stamp.nonce, found.toString(16), 'lowercase hex, no leading zeros');
      for (let n = 0; n < found; n++) {
        assert.ok(stampBits(fields, n.toString(16)) < bits, `nonce ${n} was enough`);
      }
    }
    // 0 bits: the first nonce.
    assert.deepEqual(mintStamp(fields, 0), { nonce: '0', blockHash: fields.blockHash });
  });

  it('mints at the cap, 26 bits', () => {
    // Found once by search: with this content hash, nonce 0 already has 26 leading zero bits.
    const lucky = { ...fields, sender: 'cof1powtest', contentHash: luckyContentHash };
    assert.ok(stampBits(lucky, '0') >= difficultyCap);
    assert.deepEqual(mintStamp(lucky, difficultyCap), { nonce: '0', blockHash: fields.blockHash });
  });

  it('refuses bits outside 0 to 26', () => {
    for (const bits of [-1, 27, 1.5, Number.NaN, 2 ** 53]) {
      assert.throws(() => mintStamp(fields, bits), {
        name: 'TypeError',
        message: 'bits must be an integer from 0 to 26',
      });
    }
  });
});

describe('isqrt', () => {
  it('is the floor of the square root', () => {
    const table: [bigint, bigint][] = [
      [0n, 0n],
      [1n, 1n],
      [2n, 1n],
      [3n, 1n],
      [4n, 2n],
      [8n, 2n],
      [9n, 3n],
      [15n, 3n],
      [16n, 4n],
      [99n, 9n],
      [100n, 10n],
      [10n ** 40n, 10n ** 20n],
      [10n ** 40n - 1n, 10n ** 20n - 1n],
    ];
    for (const [n, root] of table) assert.equal(isqrt(n), root, `isqrt(${n})`);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), (n) => {
        const r = isqrt(n);
        assert.ok(r * r <= n && (r + 1n) * (r + 1n) > n);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a negative number', () => {
    assert.throws(() => isqrt(-1n), { name: 'RangeError', message: 'isqrt of a negative number' });
  });
});

/** The bound the obvious way: the smallest root r with r^2 >= the radicand over n, by bisection. */
function referenceWilson(accepted: number, total: number): number {
  const z2 = 38_416n;
  const scale = 10_000n;
  const n = BigInt(total);
  const s = BigInt(accepted);
  const radicand = z2 * (z2 * n + 4n * scale * s * (n - s));
  let low = 0n;
  let high = radicand + 1n;
  while (low < high) {
    const mid = (low + high) / 2n;
    if (mid * mid * n >= radicand) high = mid;
    else low = mid + 1n;
  }
  const numerator = 2n * s * scale + z2 - low;
  return Number((numerator * 10_000n) / (2n * (n * scale + z2)));
}

describe('wilsonLowerBound', () => {
  it('gives the documented values', () => {
    assert.equal(wilsonLowerBound(1, 1), 2065);
    assert.equal(wilsonLowerBound(10, 10), 7224);
    assert.equal(wilsonLowerBound(5, 10), 2365);
    assert.equal(wilsonLowerBound(1, 2), 945);
    assert.equal(wilsonLowerBound(3, 3), 4384);
    assert.equal(wilsonLowerBound(100, 1000), 829);
  });

  it('rounds the root up: exact squares at the floor of the quotient', () => {
    // Here the radicand over n is a perfect square and the bound lands just on a whole basis
    // point: one more in the root would take a basis point off.
    assert.equal(wilsonLowerBound(114, 114), 9674);
    assert.equal(wilsonLowerBound(159, 375), 3750);
    assert.equal(referenceWilson(114, 114), 9674);
  });

  it('is 0 without answers, without acceptances, or for what is not a whole count', () => {
    for (const [accepted, total] of [
      [0, 0],
      [0, 5],
      [1, 0],
      [5, -1],
      [-1, 5],
      [1.5, 3],
      [1, 2.5],
      [Number.NaN, 2],
      [1, Number.POSITIVE_INFINITY],
      [1, 2 ** 53],
    ]) {
      assert.equal(wilsonLowerBound(accepted!, total!), 0, `${accepted} of ${total}`);
    }
  });

  it('counts at most all answers as accepted', () => {
    assert.equal(wilsonLowerBound(5, 3), wilsonLowerBound(3, 3));
    assert.equal(wilsonLowerBound(2 ** 40, 2), wilsonLowerBound(2, 2));
  });

  it('matches the reference for every count up to 120, and the real-number bound', () => {
    for (let total = 1; total <= 120; total++) {
      for (let accepted = 1; accepted <= total; accepted++) {
        const bound = wilsonLowerBound(accepted, total);
        assert.equal(bound, referenceWilson(accepted, total), `${accepted} of ${total}`);
        const p = accepted / total;
        const z2 = 3.8416;
        const real =
          (p + z2 / (2 * total) - Math.sqrt((z2 * (p * (1 - p) + z2 / (4 * total))) / total)) /
          (1 + z2 / total);
        // Never above the real bound; below it by the floor and the rounded-up root, no more.
        const gap = real * 10_000 - bound;
        assert.ok(gap > -1e-6 && gap < 1.01, `${accepted} of ${total}: ${bound}, ${real}`);
      }
    }
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.nat(), (total, pick) => {
        const accepted = 1 + (pick % total);
        assert.equal(wilsonLowerBound(accepted, total), referenceWilson(accepted, total));
      }),
      { numRuns: 300 },
    );
  });
});

const luckyContentHash = '000000000000000000000000000000000000000000000000000000000170b980';
