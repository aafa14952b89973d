import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { GcodeParseError, parseGcodeLine } from './parse.js';
import { offBed, onCounterClockwiseSweep, sqrtCeil, Toolpath } from './toolpath.js';

function run(path: Toolpath, ...lines: string[]) {
  return lines.map((text) => path.apply(parseGcodeLine(text)));
}

describe('Toolpath', () => {
  it('moves in absolute and relative mode, in µm', () => {
    const path = new Toolpath();
    run(path, 'G1 X10 Y20.5 Z0.2', 'G91', 'G1 X-1.5 Z1', 'G90', 'G1 Y1');
    assert.deepEqual(path.position, { x: 8_500n, y: 1_000n, z: 1_200n });
  });

  it('G92 sets the logical position; moves after it land offset', () => {
    const path = new Toolpath();
    run(path, 'G1 X100', 'G92 X0', 'G1 X5');
    assert.equal(path.position.x, 105_000n);
    assert.equal(path.logical('x'), 5_000n);
    run(path, 'G28 X');
    assert.equal(path.position.x, 0n);
    assert.equal(path.logical('x'), 0n);
  });

  it('G28 homes the axes it names, all when none', () => {
    const path = new Toolpath();
    run(path, 'G1 X10 Y10 Z10', 'G28 Z');
    assert.deepEqual(path.position, { x: 10_000n, y: 10_000n, z: 0n });
    run(path, 'G28');
    assert.deepEqual(path.position, { x: 0n, y: 0n, z: 0n });
  });

  it('tracks the extruder: M82/M83, G91 makes E relative, G92 E resets', () => {
    const path = new Toolpath();
    run(path, 'G1 E5', 'G1 E7');
    assert.equal(path.extruder, 7_000n);
    run(path, 'M83', 'G1 E1', 'G90', 'G1 E1');
    assert.equal(path.extruder, 9_000n, 'M83 survives G90');
    run(path, 'M82', 'G91', 'G1 E1');
    assert.equal(path.extruder, 10_000n, 'G91 makes E relative');
    run(path, 'G92 E0');
    assert.equal(path.extruder, 0n);
  });

  it('refuses inches, arcs by radius and other planes', () => {
    for (const text of ['G20', 'G2 X1 Y1 R5', 'G18']) {
      assert.throws(
        () => new Toolpath().apply(parseGcodeLine(text)),
        (error) => error instanceof GcodeParseError && error.code === 'gcode_unsupported',
        text,
      );
    }
    assert.throws(() => new Toolpath().apply(parseGcodeLine('G2 X1 Y1')), /needs I or J/);
  });

  it("an arc's bulge counts: a half circle from (10,10) to (30,10) clockwise reaches Y 20", () => {
    const path = new Toolpath();
    run(path, 'G0 X10 Y10');
    const [motion] = run(path, 'G2 X30 Y10 I10 J0');
    assert.equal(motion!.max.y, 20_000n);
    assert.equal(motion!.min.y, 10_000n);
    assert.equal(
      offBed(motion!, { x: 100_000, y: 19_999, z: 1000 }),
      "Y reaches 20000 µm, beyond the bed's 19999 µm",
    );
    // The same arc counter-clockwise dips to Y 0.
    const other = new Toolpath();
    run(other, 'G0 X10 Y10');
    const [down] = run(other, 'G3 X30 Y10 I10 J0');
    assert.equal(down!.min.y, 0n);
    assert.equal(down!.max.y, 10_000n);
  });

  it('a full circle (end = start) sweeps all four sides', () => {
    const path = new Toolpath();
    run(path, 'G0 X20 Y10');
    const [motion] = run(path, 'G3 X20 Y10 I0 J10');
    assert.deepEqual(motion!.min, { x: 10_000n, y: 10_000n, z: 0n });
    assert.deepEqual(motion!.max, { x: 30_000n, y: 30_000n, z: 0n });
  });

  it("an arc's box holds every point of the arc, within 1 µm of the tightest (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -50_000, max: 50_000 }),
        fc.integer({ min: -50_000, max: 50_000 }),
        fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }),
        fc.double({ min: 0.01, max: 2 * Math.PI - 0.01, noNaN: true }),
        fc.boolean(),
        (i, j, _unused, sweep, clockwise) => {
          if (i === 0 && j === 0) return;
          const start = { x: 100_000, y: 100_000 };
          const cx = start.x + i;
          const cy = start.y + j;
          const r = Math.hypot(i, j);
          const a0 = Math.atan2(start.y - cy, start.x - cx);
          const a1 = a0 + (clockwise ? -sweep : sweep);
          const end = {
            x: Math.round(cx + r * Math.cos(a1)),
            y: Math.round(cy + r * Math.sin(a1)),
          };
          const path = new Toolpath();
          path.apply(parseGcodeLine(`G0 X${start.x / 1000} Y${start.y / 1000}`));
          const motion = path.apply(
            parseGcodeLine(
              `${clockwise ? 'G2' : 'G3'} X${(end.x / 1000).toFixed(3)} Y${(end.y / 1000).toFixed(3)} I${(i / 1000).toFixed(3)} J${(j / 1000).toFixed(3)}`,
            ),
          )!;
          // Sample the arc (the end direction recomputed from the rounded end point).
          const b0 = Math.atan2(end.y - cy, end.x - cx);
          let span = clockwise ? a0 - b0 : b0 - a0;
          while (span <= 0) span += 2 * Math.PI;
          let lowX = Infinity;
          let highX = -Infinity;
          let lowY = Infinity;
          let highY = -Infinity;
          for (let k = 0; k <= 2000; k += 1) {
            const angle = a0 + ((clockwise ? -1 : 1) * (span * k)) / 2000;
            const x = cx + r * Math.cos(angle);
            const y = cy + r * Math.sin(angle);
            lowX = Math.min(lowX, x);
            highX = Math.max(highX, x);
            lowY = Math.min(lowY, y);
            highY = Math.max(highY, y);
          }
          // Contains every sampled point (rounding: 2 µm), and is not looser than needed by more
          // than the sampling's resolution.
          assert.ok(
            Number(motion.min.x) <= lowX + 2 && Number(motion.max.x) >= highX - 2,
            'x contains',
          );
          assert.ok(
            Number(motion.min.y) <= lowY + 2 && Number(motion.max.y) >= highY - 2,
            'y contains',
          );
          const slack = (r * 2 * Math.PI) / 2000 + 3;
          assert.ok(
            Number(motion.max.x) <= highX + slack && Number(motion.min.x) >= lowX - slack,
            'x tight',
          );
          assert.ok(
            Number(motion.max.y) <= highY + slack && Number(motion.min.y) >= lowY - slack,
            'y tight',
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('onCounterClockwiseSweep', () => {
  it('decides quarter, half and three-quarter sweeps', () => {
    const east = [1n, 0n] as const;
    const north = [0n, 1n] as const;
    const west = [-1n, 0n] as const;
    const south = [0n, -1n] as const;
    const ne = [1n, 1n] as const;
    assert.equal(onCounterClockwiseSweep(east, north, ne), true);
    assert.equal(onCounterClockwiseSweep(east, north, west), false);
    assert.equal(onCounterClockwiseSweep(east, west, north), true);
    assert.equal(onCounterClockwiseSweep(east, west, south), false);
    assert.equal(onCounterClockwiseSweep(east, south, west), true);
    assert.equal(onCounterClockwiseSweep(east, south, [1n, -1n]), false);
    assert.equal(onCounterClockwiseSweep(east, east, west), true, 'a full circle');
    assert.equal(onCounterClockwiseSweep(east, north, east), true, 'the ends count');
    assert.equal(onCounterClockwiseSweep(east, north, north), true, 'the ends count');
  });
});

describe('sqrtCeil', () => {
  it('is the least integer whose square is at least n (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), (n) => {
        const root = sqrtCeil(n);
        assert.ok(root * root >= n);
        assert.ok(root === 0n || (root - 1n) * (root - 1n) < n);
      }),
    );
    assert.equal(sqrtCeil(0n), 0n);
    assert.equal(sqrtCeil(1n), 1n);
    assert.equal(sqrtCeil(2n), 2n);
    assert.equal(sqrtCeil(16n), 4n);
    assert.equal(sqrtCeil(17n), 5n);
  });
});

describe('offBed', () => {
  it('allows the edges, refuses one µm past them and below 0', () => {
    const bed = { x: 200_000, y: 200_000, z: 200_000 };
    const move = (text: string) => offBed(new Toolpath().apply(parseGcodeLine(text))!, bed);
    assert.equal(move('G1 X200 Y200 Z200'), undefined);
    assert.equal(move('G1 X200.001'), "X reaches 200001 µm, beyond the bed's 200000 µm");
    assert.equal(move('G1 Y-0.001'), 'Y reaches -1 µm, below 0');
    assert.match(move('G1 Z200.001')!, /^Z reaches 200001/);
  });
});
