import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { adaptGcode } from './adapter.js';
import { parityOf, watermarkBit } from './design.js';
import { sampleDesign, sampleProfile } from './fixture.js';
import { recoverWatermark, WatermarkError, watermarkHex } from './watermark.js';

async function printed(design: string[], watermark: Uint8Array, profile = sampleProfile) {
  const out: string[] = [];
  for await (const line of adaptGcode(design, profile, { watermark })) out.push(line);
  return out;
}

const xOf = (line: string) => BigInt(/ X(-?\d+)\.(\d{3})/.exec(line)!.slice(1).join(''));

describe('watermark encoding', () => {
  it('bit k is bit (k mod 64) of the id, byte 0 high bit first', () => {
    const id = Uint8Array.from([0x80, 0x01, 0, 0, 0, 0, 0, 0xff]);
    assert.equal(watermarkBit(id, 0), 1);
    assert.equal(watermarkBit(id, 1), 0);
    assert.equal(watermarkBit(id, 15), 1);
    assert.equal(watermarkBit(id, 14), 0);
    assert.equal(watermarkBit(id, 56), 1);
    assert.equal(watermarkBit(id, 64), 1, 'repeats');
    assert.equal(watermarkBit(id, 65), 0);
  });

  it("travel k's X parity is bit k, and X moved at most 1 µm; nothing else changes", async () => {
    const design = sampleDesign({ layers: 12, travelsPerLayer: 10, markers: 'coffer' });
    const id = Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67]);
    const out = await printed(design, id);
    const body = (lines: string[]) =>
      lines.slice(lines.indexOf('G92 E0.000') + 1).filter((l) => /^G[01] /.test(l));
    // Compare with the same design printed with the all-zero id (only odd travel X made even).
    const mine = body(out);
    const zero = body(await printed(design, new Uint8Array(8)));
    assert.equal(mine.length, zero.length);
    let travel = 0;
    for (let i = 0; i < mine.length; i += 1) {
      const line = mine[i]!;
      const isTravel = !/ E/.test(line) && / X/.test(line);
      if (!isTravel) {
        assert.equal(line, zero[i], 'an extruding move is unchanged');
        continue;
      }
      assert.equal(parityOf(xOf(line)), watermarkBit(id, travel), line);
      assert.equal(parityOf(xOf(zero[i]!)), 0);
      const delta = xOf(line) - xOf(zero[i]!);
      assert.ok(delta >= -1n && delta <= 1n, `${line} vs ${zero[i]}`);
      assert.equal(line.replace(/ X\S+/, ''), zero[i]!.replace(/ X\S+/, ''), 'only X changes');
      travel += 1;
    }
    assert.equal(travel, 12 * 11);
  });
});

describe('recoverWatermark', () => {
  const design = sampleDesign({ layers: 40, travelsPerLayer: 12, markers: 'cura' });

  it('recovers any id from the printed G-code (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 8, maxLength: 8 }), async (id) => {
        const recovered = await recoverWatermark(design, await printed(design, id));
        assert.equal(watermarkHex(recovered.watermark), watermarkHex(id));
        assert.equal(recovered.moves, 40 * 13, 'a layer: its first travel and 12 more');
        assert.equal(recovered.ties, 0);
        assert.equal(recovered.dissent, 0);
      }),
      { numRuns: 20 },
    );
  });

  it('survives a leaked copy with lines lost and some X edited: the majority decides', async () => {
    const id = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const out = await printed(design, id);
    let travel = 0;
    const damaged = out.flatMap((line) => {
      if (!/^G[01] /.test(line) || / E/.test(line) || !/ X/.test(line)) return [line];
      travel += 1;
      if (travel % 9 === 0) return []; // lost
      if (travel % 7 === 0) {
        // one µm off: the opposite parity
        const x = xOf(line) + 1n;
        const text = `${x < 0n ? '-' : ''}${(x < 0n ? -x : x)
          .toString()
          .padStart(4, '0')
          .replace(/(\d{3})$/, '.$1')}`;
        return [line.replace(/ X\S+/, ` X${text}`)];
      }
      return [line];
    });
    const recovered = await recoverWatermark(design, damaged);
    assert.deepEqual(recovered.watermark, id);
    assert.ok(recovered.dissent > 0, 'the edits are seen as dissent');
    assert.ok(recovered.moves < 40 * 13);
  });

  it('reads a copy of another print as its own id, not this one', async () => {
    const a = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 1]);
    const b = Uint8Array.from([0xff, 0, 0, 0, 0, 0, 0, 1]);
    const recovered = await recoverWatermark(design, await printed(design, b));
    assert.notDeepEqual(recovered.watermark, a);
    assert.deepEqual(recovered.watermark, b);
  });

  it('needs 64 matched travel moves', async () => {
    const small = sampleDesign({ layers: 3, travelsPerLayer: 10 });
    await assert.rejects(
      recoverWatermark(small, await printed(small, new Uint8Array(8))),
      (error) => {
        assert.ok(error instanceof WatermarkError);
        assert.equal(error.code, 'watermark_not_recoverable');
        assert.match(error.message, /^33 travel moves matched/);
        return true;
      },
    );
    // And a copy with the travels stripped has nothing to read.
    const out = await printed(design, new Uint8Array(8));
    await assert.rejects(
      recoverWatermark(
        design,
        out.filter((l) => / E/.test(l) || !/^G[01] .* X/.test(l)),
      ),
      WatermarkError,
    );
  });
});
