import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import {
  divRound,
  fixedOf,
  formatFixed,
  formatLine,
  formatTrimmed,
  GcodeParseError,
  linesOf,
  parseGcodeLine,
  stripComments,
  toMicrometres,
} from './parse.js';

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('parseGcodeLine', () => {
  it('reads a move: command, words in order, comment set aside', () => {
    const line = parseGcodeLine('G1 X10.5 Y-3 F1800 ; perimeter');
    assert.equal(line.command, 'G1');
    assert.equal(line.extended, false);
    assert.deepEqual(line.words, [
      { letter: 'X', raw: '10.5' },
      { letter: 'Y', raw: '-3' },
      { letter: 'F', raw: '1800' },
    ]);
    assert.equal(line.comment, 'perimeter');
  });

  it('reads words without spaces, lower case, leading zeros and a subcode', () => {
    assert.deepEqual(parseGcodeLine('g01x1y2').words, [
      { letter: 'X', raw: '1' },
      { letter: 'Y', raw: '2' },
    ]);
    assert.equal(parseGcodeLine('g01x1y2').command, 'G1');
    assert.equal(parseGcodeLine('M862.3 P220').command, 'M862.3');
  });

  it('strips parenthesised comments anywhere and keeps their text', () => {
    const line = parseGcodeLine('G1 (fast) X5 ; done');
    assert.equal(line.command, 'G1');
    assert.deepEqual(line.words, [{ letter: 'X', raw: '5' }]);
    assert.equal(line.comment, 'fast done');
    assert.throws(() => parseGcodeLine('G1 (open X5'), GcodeParseError);
  });

  it('sets aside the host frame: N and the checksum', () => {
    const line = parseGcodeLine('N42 G1 X1*87');
    assert.equal(line.lineNumber, 42);
    assert.equal(line.command, 'G1');
    assert.deepEqual(line.words, [{ letter: 'X', raw: '1' }]);
    assert.throws(() => parseGcodeLine('G1 X1*abc'), /not a checksum/);
  });

  it('M110 takes N as a parameter; elsewhere a late N is invalid', () => {
    assert.deepEqual(parseGcodeLine('M110 N0').words, [{ letter: 'N', raw: '0' }]);
    assert.throws(() => parseGcodeLine('G1 X1 N5'), /line number/);
  });

  it('keeps a bare letter (G28 X) and refuses a word twice', () => {
    assert.deepEqual(parseGcodeLine('G28 X Y').words, [
      { letter: 'X', raw: '' },
      { letter: 'Y', raw: '' },
    ]);
    assert.throws(() => parseGcodeLine('G1 X1 X2'), /twice/);
  });

  it('keeps a quoted string word as written (PrusaSlicer printer checks)', () => {
    const line = parseGcodeLine('M862.3 P "MK3S" ; printer model check');
    assert.equal(line.command, 'M862.3');
    assert.deepEqual(line.words, [{ letter: 'P', raw: '"MK3S"' }]);
    assert.equal(formatLine(line), 'M862.3 P"MK3S"');
    assert.throws(() => fixedOf('"MK3S"', 3, 'P'), /P: ""MK3S"" is not a number/);
  });

  it('keeps the text of M117 and of extended commands', () => {
    const message = parseGcodeLine('M117 Printing X1 ; note');
    assert.equal(message.command, 'M117');
    assert.equal(message.text, 'Printing X1');
    const macro = parseGcodeLine('PRINT_START BED=60 EXTRUDER=210');
    assert.equal(macro.command, 'PRINT_START');
    assert.equal(macro.extended, true);
    assert.equal(macro.text, 'BED=60 EXTRUDER=210');
    assert.equal(
      parseGcodeLine('set_pressure_advance advance=0.04').command,
      'SET_PRESSURE_ADVANCE',
    );
  });

  it('empty and comment-only lines have no command', () => {
    for (const text of ['', '   ', '; hi', '(only)', ';LAYER:0']) {
      assert.equal(parseGcodeLine(text).command, undefined, text);
    }
    assert.equal(parseGcodeLine(';LAYER:0').comment, 'LAYER:0');
  });

  it('refuses what is not a word', () => {
    for (const text of ['G1 X--1', 'G1 #5', 'G1 X1.2.3', 'G1 X1 *']) {
      assert.throws(() => parseGcodeLine(text), GcodeParseError, text);
    }
  });
});

describe('stripComments', () => {
  it('joins comment parts and trims the code', () => {
    assert.deepEqual(stripComments('  G1 X1 (a) Y2 ; b c '), {
      code: 'G1 X1   Y2',
      comment: 'a b c',
    });
  });
});

describe('fixed point', () => {
  const cases: [string, number, bigint][] = [
    ['10', 3, 10_000n],
    ['10.5', 3, 10_500n],
    ['-3', 3, -3_000n],
    ['.5', 3, 500n],
    ['+2.', 3, 2_000n],
    ['1.0005', 3, 1_001n],
    ['1.00049', 3, 1_000n],
    ['-0.0005', 3, -1n],
    ['-0.00049', 3, 0n],
    ['0.12345', 5, 12_345n],
    ['215', 0, 215n],
    ['214.5', 0, 215n],
  ];
  for (const [raw, decimals, expected] of cases) {
    it(`fixedOf(${raw}, ${decimals}) = ${expected}`, () => {
      assert.equal(fixedOf(raw, decimals), expected);
    });
  }

  it('toMicrometres is fixedOf at 3 decimals; a non-number names the field', () => {
    assert.equal(toMicrometres('220.001'), 220_001n);
    assert.throws(() => toMicrometres('x', 'X'), /X: "x" is not a number/);
  });

  it('formatFixed and fixedOf invert each other (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }),
        fc.integer({ min: 0, max: 6 }),
        (value, decimals) => {
          assert.equal(fixedOf(formatFixed(value, decimals), decimals), value);
          assert.equal(fixedOf(formatTrimmed(value, decimals), decimals), value);
        },
      ),
    );
  });

  it('formats with exactly 3 decimals, and trimmed', () => {
    assert.equal(formatFixed(-1050n), '-1.050');
    assert.equal(formatFixed(5n), '0.005');
    assert.equal(formatFixed(-5n), '-0.005');
    assert.equal(formatTrimmed(1_800_000n), '1800');
    assert.equal(formatTrimmed(1_500n), '1.5');
  });

  it('divRound rounds half away from zero (property against the exact fraction)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
        fc.bigInt({ min: 1n, max: 10n ** 6n }),
        (value, divisor) => {
          const q = divRound(value, divisor);
          // |value - q*divisor| <= divisor/2, and exactly half goes away from zero.
          const diff = value - q * divisor;
          assert.ok(2n * (diff < 0n ? -diff : diff) <= divisor);
          if (2n * (diff < 0n ? -diff : diff) === divisor)
            assert.ok(value >= 0n ? diff < 0n : diff > 0n);
        },
      ),
    );
    assert.equal(divRound(1500n, 1000n), 2n);
    assert.equal(divRound(-1500n, 1000n), -2n);
    assert.equal(divRound(1499n, 1000n), 1n);
  });
});

describe('formatLine', () => {
  it('re-emits lengths with 3 decimals, other numbers trimmed, no comment', () => {
    assert.equal(
      formatLine(parseGcodeLine('G1 X10 Y.5 E0.12345 F1800.000 ; c')),
      'G1 X10.000 Y0.500 E0.123 F1800',
    );
    assert.equal(formatLine(parseGcodeLine('G28 X Y')), 'G28 X Y');
    assert.equal(formatLine(parseGcodeLine('M104 S215.0')), 'M104 S215');
    assert.equal(formatLine(parseGcodeLine('PRINT_START  BED=60')), 'PRINT_START BED=60');
  });
});

describe('linesOf', () => {
  it('splits any chunking into the same lines (property), \\r\\n too, a last line without \\n counts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.stringMatching(/^[ -~é]{0,30}$/), { maxLength: 20 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 10 }),
        async (lines, crlf, cuts) => {
          const text = lines.join(crlf ? '\r\n' : '\n');
          const bytes = Buffer.from(text);
          const chunks: Uint8Array[] = [];
          let at = 0;
          for (let i = 0; at < bytes.length; i += 1) {
            const size = cuts[i % cuts.length]!;
            chunks.push(bytes.subarray(at, at + size));
            at += size;
          }
          // A line break ends a line: after the last one there is no further (empty) line.
          const expected = text === '' ? [] : text.split(crlf ? '\r\n' : '\n');
          if (expected.at(-1) === '' && text !== '') expected.pop();
          assert.deepEqual(await collect(linesOf(chunks)), expected);
        },
      ),
    );
  });

  it('a final line break makes no extra line', async () => {
    assert.deepEqual(await collect(linesOf(['G1 X1\nG1 X2\n'])), ['G1 X1', 'G1 X2']);
  });

  it('refuses a line over the bound, even one that never ends', async () => {
    await assert.rejects(
      collect(linesOf(['a'.repeat(11), '\n'], { lineBytesMax: 10 })),
      (error) => {
        assert.ok(error instanceof GcodeParseError);
        assert.equal(error.code, 'line_too_long');
        return true;
      },
    );
    function* endless() {
      for (;;) yield 'x'.repeat(1000);
    }
    await assert.rejects(collect(linesOf(endless(), { lineBytesMax: 4096 })), /longer than 4096/);
    await assert.rejects(collect(linesOf([Buffer.from([0x47, 0xff, 0x0a])])), /not UTF-8/);
  });
});
