import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { sampleDesign } from './fixture.js';
import { measureGcode } from './measure.js';
import { GcodeParseError, linesOf } from './parse.js';

describe('measureGcode', () => {
  it("measures the body only: the designer's purge line and end moves do not count", async () => {
    const design = sampleDesign({
      layers: 5,
      sideUm: 20_000,
      originUm: { x: 50_000, y: 40_000 },
      travelsPerLayer: 4,
      markers: 'coffer',
    });
    const measure = await measureGcode(design);
    assert.equal(measure.lines, design.length);
    // The square's corner plus its side, the infill's 0.5 mm stubs inside it, 5 layers of 0.2 mm.
    assert.deepEqual(measure.bbox, { x: 70_000, y: 60_000, z: 1_000 });
    assert.deepEqual(measure.min, { x: 0, y: 0, z: 0 }, 'the body starts at the origin');
    assert.equal(measure.travelMoves, 5 * 5);
    assert.equal(measure.startMarker, true);
  });

  it("counts an arc's bulge", async () => {
    const measure = await measureGcode(['; coffer:start', 'G0 X10 Y10', 'G2 X30 Y10 I10 J0 E1']);
    assert.equal(measure.bbox.y, 20_000);
  });

  it('reports a body that goes below 0, and every line of the file, the tail too', async () => {
    const measure = await measureGcode([
      'G28',
      '; coffer:start',
      'G1 X-1 Y5',
      '; coffer:end',
      'G1 X-50',
      'M84',
    ]);
    assert.equal(measure.min.x, -1_000);
    assert.equal(measure.lines, 6);
    assert.equal(measure.bodyCommands, 1);
  });

  it('reads a stream of bytes and names the bad line', async () => {
    const text = Buffer.from('G28\n; coffer:start\nG1 X1\nG1 X#\n');
    await assert.rejects(measureGcode(linesOf([text])), (error) => {
      assert.ok(error instanceof GcodeParseError);
      assert.match(error.message, /^line 4: /);
      return true;
    });
    const measure = await measureGcode(linesOf([text.subarray(0, 25)]));
    assert.equal(measure.lines, 3);
  });
});
