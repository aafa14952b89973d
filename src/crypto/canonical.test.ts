import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { utf8 } from './bytes.js';
import { canonicalBytes, canonicalize } from './canonical.js';
import { CryptoInputError } from './errors.js';

function assertRejected(value: unknown, field: string): void {
  assert.throws(
    () => canonicalize(value),
    (error: unknown) => {
      assert.ok(error instanceof CryptoInputError);
      assert.equal(error.field, field);
      assert.match(error.message, new RegExp(field.replace(/[.[\]]/g, '\\$&')));
      return true;
    },
  );
}

/**
 * Any UTF-16 code unit: ASCII, controls, non-ASCII and lone surrogates (high or low, which JSON
 * text must escape), or a whole code point beyond the BMP (a well-formed surrogate pair).
 */
const anyUnit = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }),
);
const anyString = fc.string({ unit: anyUnit });

/** JSON values without -0, which JSON cannot carry (JCS writes it as 0), with any strings. */
const jsonValue = fc
  .jsonValue({ stringUnit: anyUnit })
  .map((value) => JSON.parse(JSON.stringify(value)) as unknown);

/** `depth` levels of arrays and objects (alternating, the objects keyed by `key`) around `leaf`. */
function nested(depth: number, key: string, leaf: unknown): unknown {
  let value = leaf;
  for (let level = 0; level < depth; level++) value = level % 2 === 0 ? [value] : { [key]: value };
  return value;
}

/** The deepest nesting canonicalize accepts (levels of arrays or objects). */
const depthMax = 64;

function shuffleKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((item, index) => shuffleKeys(item, seed + index));
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value);
  // Deterministic rotation and reversal: a different insertion order, same members.
  const rotated = entries
    .slice(seed % Math.max(1, entries.length))
    .concat(entries.slice(0, seed % Math.max(1, entries.length)));
  if (seed % 2 === 1) rotated.reverse();
  const shuffled: Record<string, unknown> = {};
  for (const [key, member] of rotated) {
    Object.defineProperty(shuffled, key, {
      value: shuffleKeys(member, seed + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return shuffled;
}

function float64(hexBits: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hexBits}`));
  return view.getFloat64(0);
}

describe('canonicalize (RFC 8785)', () => {
  it('JSON.parse(canonicalize(x)) equals x for random JSON values', () => {
    fc.assert(
      fc.property(jsonValue, (value) => {
        assert.deepEqual(JSON.parse(canonicalize(value)), value);
      }),
      { numRuns: 500 },
    );
  });

  it('is a fixed point: canonicalizing the parsed output gives the same text', () => {
    fc.assert(
      fc.property(jsonValue, (value) => {
        const text = canonicalize(value);
        assert.equal(canonicalize(JSON.parse(text)), text);
      }),
    );
  });

  it('does not depend on key insertion order', () => {
    fc.assert(
      fc.property(jsonValue, fc.nat(1000), (value, seed) => {
        assert.equal(canonicalize(shuffleKeys(value, seed)), canonicalize(value));
      }),
      { numRuns: 500 },
    );
  });

  it('matches JSON.stringify on values that are already sorted and free of -0', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string(),
            fc.double({ noNaN: true, noDefaultInfinity: true }),
            fc.boolean(),
            fc.constant(null),
          ),
        ),
        (items) => {
          const cleaned = items.map((item) => (Object.is(item, -0) ? 0 : item));
          assert.equal(canonicalize(cleaned), JSON.stringify(cleaned));
        },
      ),
    );
  });

  it('canonicalizes the RFC 8785 section 3.2.2 example', () => {
    const input = {
      // The RFC's input literal carries more digits than a double holds; that is the point.
      // eslint-disable-next-line no-loss-of-precision
      numbers: [333333333.33333329, 1e30, 4.5, 2e-3, 0.000000000000000000000000001],
      string: '\u20ac$\u000F\u000aA\'\u0042\u0022\u005c\\"/',
      literals: [null, true, false],
    };
    const expected =
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
      '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}';
    assert.equal(canonicalize(input), expected);
    // The UTF-8 bytes RFC 8785 section 3.2.4 lists for this example.
    const rfcHex = `
      7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72
      75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a
      5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31
      65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37
      5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30
      30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d`;
    assert.equal(Buffer.from(canonicalBytes(input)).toString('hex'), rfcHex.replace(/\s/g, ''));
  });

  it('sorts keys by UTF-16 code units (RFC 8785 section 3.2.3 example)', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    // Compared as text: Object.keys of a parsed object would list the integer-like "1" first.
    assert.equal(
      canonicalize(input),
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control",' +
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",' +
        '"\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('serializes numbers as RFC 8785 appendix B lists', () => {
    const cases: [string, string][] = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [bits, expected] of cases) {
      assert.equal(canonicalize(float64(bits)), expected, bits);
    }
    assertRejected(float64('7fffffffffffffff'), 'value');
    assertRejected(float64('7ff0000000000000'), 'value');
  });

  it('omits undefined properties as JSON.stringify does', () => {
    assert.equal(canonicalize({ b: 1, a: undefined, c: { d: undefined } }), '{"b":1,"c":{}}');
  });

  it('rejects values JSON cannot carry, naming the path', () => {
    assertRejected({ payload: { amount: Number.NaN } }, 'payload.amount');
    assertRejected({ payload: { amount: Number.POSITIVE_INFINITY } }, 'payload.amount');
    assertRejected({ payload: { amount: -Infinity } }, 'payload.amount');
    assertRejected({ payload: { amount: 10n } }, 'payload.amount');
    assertRejected({ outputs: [{ to: 'a' }, { to: () => 1 }] }, 'outputs[1].to');
    assertRejected({ tag: Symbol('x') }, 'tag');
    assertRejected({ items: [1, undefined, 3] }, 'items[1]');
    // eslint-disable-next-line no-sparse-arrays
    assertRejected({ items: [1, , 3] }, 'items[1]');
    assertRejected([[Number.NaN]], '[0][0]');
    assertRejected(undefined, 'value');
    assertRejected(5n, 'value');
    assertRejected({ when: new Date(0) }, 'when');
    assertRejected({ key: new Uint8Array(2) }, 'key');
    assertRejected({ map: new Map() }, 'map');
  });

  it('rejects nesting beyond the depth bound, including cycles', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => canonicalize(cyclic), CryptoInputError);
    let deep: unknown = 1;
    for (let level = 0; level < 100; level++) deep = [deep];
    assert.throws(() => canonicalize(deep), CryptoInputError);
  });

  it('accepts objects without a prototype and own __proto__ keys', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare.b = 2;
    bare.a = 1;
    assert.equal(canonicalize(bare), '{"a":1,"b":2}');
    const parsed = JSON.parse('{"__proto__":1,"a":2}') as unknown;
    assert.equal(canonicalize(parsed), '{"__proto__":1,"a":2}');
  });

  it('generated strings reach non-ASCII, lone surrogates and pairs (the generators are not ASCII only)', () => {
    const samples = fc.sample(anyString, { numRuns: 200, seed: 42 });
    const joined = samples.join('');
    assert.match(joined, /[\u0080-\ud7ff\ue000-\uffff]/, 'non-ASCII in the BMP');
    assert.match(joined, /[\ud800-\udbff](?![\udc00-\udfff])/, 'a lone high surrogate');
    assert.match(joined, /(?<![\ud800-\udbff])[\udc00-\udfff]/, 'a lone low surrogate');
    assert.match(joined, /[\ud800-\udbff][\udc00-\udfff]/, 'a surrogate pair');
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    assert.match(joined, /[\u0000-\u001f]/, 'a control character');
  });

  it('escapes lone surrogates as JSON.stringify does, and keeps pairs and other text raw', () => {
    const cases: [string, string][] = [
      ['\ud800', '"\\ud800"'],
      ['\udfff', '"\\udfff"'],
      ['a\udc00b', '"a\\udc00b"'],
      ['\ude00\ud83d', '"\\ude00\\ud83d"'],
      ['\ud83d\ude00', '"\ud83d\ude00"'],
      ['\u20ac\u00f6', '"\u20ac\u00f6"'],
      ['\ud7ff\ue000', '"\ud7ff\ue000"'],
      ['\u001f', '"\\u001f"'],
      ['\u0020', '" "'],
      ['"', '"\\""'],
      ['\\', '"\\\\"'],
    ];
    for (const [text, expected] of cases) {
      assert.equal(canonicalize(text), expected, JSON.stringify(text));
      assert.equal(canonicalize({ [text]: 1 }), `{${expected}:1}`, 'as a key too');
    }
  });

  it('strings of any UTF-16 code units are written exactly as JSON.stringify writes them', () => {
    fc.assert(
      fc.property(anyString, (text) => {
        assert.equal(canonicalize(text), JSON.stringify(text));
        assert.equal(
          canonicalize({ [text]: text }),
          `{${JSON.stringify(text)}:${JSON.stringify(text)}}`,
        );
      }),
      { numRuns: 1000 },
    );
  });

  it(`accepts nesting up to ${depthMax} levels and rejects one level more`, () => {
    for (const [depth, ok] of [
      [depthMax - 1, true],
      [depthMax, true],
      [depthMax + 1, false],
    ] as const) {
      const arrays = nested(depth, 'k', 1);
      const objects = nested(depth, 'k', 'leaf');
      for (const value of [arrays, objects]) {
        if (ok) assert.deepEqual(JSON.parse(canonicalize(value)), value, `depth ${depth}`);
        else assert.throws(() => canonicalize(value), CryptoInputError, `depth ${depth}`);
      }
    }
    let arrays: unknown = 'leaf';
    for (let level = 0; level <= depthMax; level++) arrays = [arrays];
    assert.throws(
      () => canonicalize(arrays),
      (error: unknown) => {
        assert.ok(error instanceof CryptoInputError);
        assert.equal(error.field, `[0]`.repeat(depthMax));
        assert.equal(error.message, `${'[0]'.repeat(depthMax)} nests deeper than 64 levels`);
        return true;
      },
    );
  });

  it('nested values of any depth: accepted and round-tripped up to the bound, rejected past it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), anyString, jsonValue, (depth, key, leaf) => {
        // The leaf may itself nest: count its levels too.
        const leafDepth = (value: unknown): number =>
          typeof value === 'object' && value !== null
            ? 1 + Math.max(0, ...Object.values(value).map(leafDepth))
            : 0;
        const value = nested(depth, key, leaf);
        if (depth + leafDepth(leaf) <= depthMax) {
          assert.deepEqual(JSON.parse(canonicalize(value)), value);
        } else {
          assert.throws(() => canonicalize(value), CryptoInputError);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('an empty array and an empty object are [] and {}', () => {
    assert.equal(canonicalize([]), '[]');
    assert.equal(canonicalize({}), '{}');
    assert.equal(canonicalize({ a: [], b: {}, c: [[]] }), '{"a":[],"b":{},"c":[[]]}');
  });

  it('says what is wrong with a rejected value, after its path', () => {
    const messages: [unknown, string, string][] = [
      [{ amount: Number.NaN }, 'amount', 'amount must be a finite number, got NaN'],
      [[Number.NEGATIVE_INFINITY], '[0]', '[0] must be a finite number, got -Infinity'],
      [{ a: { b: [undefined] } }, 'a.b[0]', 'a.b[0] must not be undefined'],
      [undefined, 'value', 'value must not be undefined'],
      [{ amount: 10n }, 'amount', 'amount must not be a bigint (encode it as a decimal string)'],
      [{ tag: Symbol('x') }, 'tag', 'tag must not be a symbol'],
      [{ run: () => 1 }, 'run', 'run must not be a function'],
      [{ when: new Date(0) }, 'when', 'when must be a plain object, array or primitive, got Date'],
      [[new Map()], '[0]', '[0] must be a plain object, array or primitive, got Map'],
      // An object whose prototype has no constructor name: nothing to name it by.
      [
        { odd: Object.create(Object.create(null) as object) as unknown },
        'odd',
        'odd must be a plain object, array or primitive, got an exotic object',
      ],
      [
        { odd: Object.create({ constructor: { name: 7 } }) as unknown },
        'odd',
        'odd must be a plain object, array or primitive, got an exotic object',
      ],
    ];
    for (const [value, field, message] of messages) {
      for (const encode of [canonicalize, canonicalBytes]) {
        assert.throws(
          () => encode(value),
          (error: unknown) => {
            assert.ok(error instanceof CryptoInputError);
            assert.equal(error.field, field);
            assert.equal(error.message, message);
            return true;
          },
          `${encode.name}: ${message}`,
        );
      }
    }
  });

  it('canonicalBytes is the UTF-8 of canonicalize', () => {
    fc.assert(
      fc.property(jsonValue, (value) => {
        assert.deepEqual(canonicalBytes(value), utf8(canonicalize(value)));
      }),
    );
  });
});
