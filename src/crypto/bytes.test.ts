import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { bytesEqual, concatBytes, fromHex, textOfUtf8, toHex, utf8 } from './bytes.js';
import { CryptoInputError } from './errors.js';
import { sha256, sha256Hex } from './hash.js';

function assertInputError(action: () => unknown, field: string): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof CryptoInputError);
    assert.equal(error.code, 'invalid_input');
    assert.equal(error.field, field);
    return true;
  });
}

describe('bytes', () => {
  it('fromHex(toHex(x)) equals x, and toHex is lowercase', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const hex = toHex(bytes);
        assert.match(hex, /^[0-9a-f]*$/);
        assert.deepEqual(fromHex(hex), bytes);
        assert.deepEqual(fromHex(hex.toUpperCase()), bytes);
      }),
    );
  });

  it('toHex reads only the view of a subarray', () => {
    const bytes = Uint8Array.from([1, 2, 3, 4]);
    assert.equal(toHex(bytes.subarray(1, 3)), '0203');
  });

  it('fromHex rejects odd length, non-hex and wrong length, naming the field', () => {
    assertInputError(() => fromHex('abc', 'payload.key'), 'payload.key');
    assertInputError(() => fromHex('zz', 'payload.key'), 'payload.key');
    assertInputError(() => fromHex('0x00'), 'hex');
    assertInputError(() => fromHex('00 1'), 'hex');
    assertInputError(() => fromHex('0011', 'signature', 64), 'signature');
    assertInputError(() => fromHex(42 as unknown as string, 'amount'), 'amount');
    assertInputError(() => fromHex('00', 'hex', -1), 'expectedLength');
    assert.deepEqual(fromHex('00ff', 'hex', 2), Uint8Array.from([0, 255]));
  });

  it('utf8 encodes text and rejects non-strings', () => {
    assert.deepEqual(utf8('é€'), Uint8Array.from([0xc3, 0xa9, 0xe2, 0x82, 0xac]));
    assertInputError(() => utf8(1 as unknown as string), 'text');
  });

  it("textOfUtf8 decodes any bytes as Buffer's toString('utf8') does", () => {
    // Bytes near the UTF-8 boundaries (continuation bytes, overlongs, surrogates, a BOM) come up
    // far more often than in uniform random bytes.
    const edgy = fc.constantFrom(
      0x00,
      0x41,
      0x7f,
      0x80,
      0xbf,
      0xc0,
      0xc2,
      0xe0,
      0xed,
      0xef,
      0xbb,
      0xf0,
      0xf4,
      0xf5,
      0xff,
      0xa0,
      0x9f,
      0x90,
      0x8f,
    );
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.array(edgy, { maxLength: 40 })),
        (values) => {
          const bytes = Uint8Array.from(values);
          assert.equal(textOfUtf8(bytes), Buffer.from(bytes).toString('utf8'));
        },
      ),
      { numRuns: 2000 },
    );
    assert.equal(textOfUtf8(Uint8Array.from([0xef, 0xbb, 0xbf, 0x7b])), '\ufeff{');
    assertInputError(() => textOfUtf8('x' as unknown as Uint8Array), 'bytes');
  });

  it('concatBytes joins in order and names a bad part', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 6 }), (parts) => {
        const joined = concatBytes(...parts);
        assert.deepEqual(
          [...joined],
          parts.flatMap((part) => [...part]),
        );
      }),
    );
    assertInputError(
      () => concatBytes(new Uint8Array(1), [1] as unknown as Uint8Array),
      'parts[1]',
    );
  });

  it('bytesEqual compares contents and lengths', () => {
    assert.equal(bytesEqual(Uint8Array.from([1, 2]), Uint8Array.from([1, 2])), true);
    assert.equal(bytesEqual(Uint8Array.from([1, 2]), Uint8Array.from([1, 3])), false);
    assert.equal(bytesEqual(Uint8Array.from([1, 2]), Uint8Array.from([1, 2, 0])), false);
    assertInputError(() => bytesEqual(new Uint8Array(0), 'x' as unknown as Uint8Array), 'b');
  });
});

describe('hash', () => {
  it('matches the FIPS 180-2 known answers', () => {
    assert.equal(sha256Hex(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(
      sha256Hex('abc'),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    assert.equal(toHex(sha256(utf8('abc'))), sha256Hex('abc'));
  });

  it('hashes a string as its UTF-8 bytes and returns a plain 32-byte Uint8Array', () => {
    const digest = sha256('é');
    assert.equal(Object.getPrototypeOf(digest), Uint8Array.prototype);
    assert.equal(digest.length, 32);
    assert.deepEqual(digest, sha256(Uint8Array.from([0xc3, 0xa9])));
  });

  it('rejects other input types', () => {
    assertInputError(() => sha256(5 as unknown as string), 'data');
    assertInputError(() => sha256Hex(null as unknown as string), 'data');
  });
});
