import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import type { PrinterProfile } from '../schema.js';
import { AdaptError, adaptGcode, isValidForDialect, type AdaptStats } from './adapter.js';
import { mm, sampleDesign, sampleProfile } from './fixture.js';
import { recoverWatermark } from './watermark.js';

/*
 * adaptGcode against an independent model: the tests read the emitted G-code with their own
 * small reader (regular expressions, numbers as µm integers, arcs by sampling), not with the
 * parser and toolpath the adapter uses, so a bug shared by both cannot hide.
 */

async function adapt(
  lines: Iterable<string> | AsyncIterable<string>,
  profile: PrinterProfile,
  watermark = new Uint8Array(8),
  stats?: AdaptStats,
) {
  const out: string[] = [];
  for await (const line of adaptGcode(lines, profile, { watermark, ...(stats ? { stats } : {}) }))
    out.push(line);
  return out;
}

/** Output until the adapter throws: what was emitted, and the error. */
async function adaptUntilError(lines: string[], profile: PrinterProfile) {
  const out: string[] = [];
  try {
    for await (const line of adaptGcode(lines, profile, { watermark: new Uint8Array(8) }))
      out.push(line);
  } catch (error) {
    return { out, error };
  }
  return { out, error: undefined };
}

/** The reference reader: where every emitted move goes (µm), and whether any leaves the bed. */
function offBedMoves(lines: string[], bed: PrinterProfile['bed']): string[] {
  let relative = false;
  const pos = { X: 0, Y: 0, Z: 0 };
  const offset = { X: 0, Y: 0, Z: 0 };
  const bad: string[] = [];
  const um = (text: string) => Math.round(Number(text) * 1000);
  const check = (x: number, y: number, z: number, line: string) => {
    if (x < 0 || y < 0 || z < 0 || x > bed.x || y > bed.y || z > bed.z)
      bad.push(`${line} -> ${x},${y},${z}`);
  };
  for (const line of lines) {
    const [command, ...rest] = line.split(' ');
    const words = new Map(rest.map((w) => [w[0]!, w.slice(1)]));
    if (command === 'G90') relative = false;
    else if (command === 'G91') relative = true;
    else if (command === 'G28') {
      const named = (['X', 'Y', 'Z'] as const).filter((a) => words.has(a));
      for (const a of named.length ? named : (['X', 'Y', 'Z'] as const)) {
        pos[a] = 0;
        offset[a] = 0;
      }
    } else if (command === 'G92') {
      for (const a of ['X', 'Y', 'Z'] as const)
        if (words.has(a)) offset[a] = pos[a] - um(words.get(a)!);
    } else if (command === 'G0' || command === 'G1' || command === 'G2' || command === 'G3') {
      const from = { ...pos };
      for (const a of ['X', 'Y', 'Z'] as const) {
        if (!words.has(a)) continue;
        pos[a] = relative ? pos[a] + um(words.get(a)!) : um(words.get(a)!) + offset[a];
      }
      check(pos.X, pos.Y, pos.Z, line);
      if (command === 'G2' || command === 'G3') {
        const cx = from.X + um(words.get('I') ?? '0');
        const cy = from.Y + um(words.get('J') ?? '0');
        const r = Math.hypot(from.X - cx, from.Y - cy);
        const a0 = Math.atan2(from.Y - cy, from.X - cx);
        const a1 = Math.atan2(pos.Y - cy, pos.X - cx);
        let span = command === 'G2' ? a0 - a1 : a1 - a0;
        while (span <= 1e-12) span += 2 * Math.PI;
        for (let k = 1; k < 200; k += 1) {
          const angle = a0 + ((command === 'G2' ? -1 : 1) * (span * k)) / 200;
          check(
            Math.floor(cx + r * Math.cos(angle)),
            Math.floor(cy + r * Math.sin(angle)),
            pos.Z,
            line,
          );
        }
      }
    }
  }
  return bad;
}

const profileArbitrary = fc
  .record({
    firmware: fc.constantFrom('marlin' as const, 'klipper' as const),
    bed: fc.record({
      x: fc.integer({ min: 60_000, max: 400_000 }),
      y: fc.integer({ min: 60_000, max: 400_000 }),
      z: fc.integer({ min: 60_000, max: 400_000 }),
    }),
    nozzleUm: fc.constantFrom(250, 400, 600),
    filament: fc.constantFrom('pla' as const, 'petg' as const, 'abs' as const, 'tpu' as const),
    hotendC: fc.integer({ min: 150, max: 300 }),
    bedC: fc.integer({ min: 0, max: 120 }),
    flowPct: fc.integer({ min: 50, max: 150 }),
    start: fc.constantFrom(
      '',
      'G28 ; home\nG1 Z5 F3000',
      'G28\nM190 S55\nM109 S205\nG92 E0',
      'macro',
    ),
    endGcode: fc.constantFrom('', 'M104 S0\nM140 S0\nG28 X0\nM84', 'macro'),
  })
  .map(({ start, endGcode, ...rest }): PrinterProfile => ({
    ...rest,
    startGcode:
      start === 'macro'
        ? rest.firmware === 'klipper'
          ? 'PRINT_START BED=60 EXTRUDER=200'
          : 'G28'
        : start,
    endGcode: endGcode === 'macro' ? (rest.firmware === 'klipper' ? 'PRINT_END' : 'M84') : endGcode,
  }));

/** One design command that stays on a bed of `bed`, or one the adapter drops. */
function opArbitrary(bed: PrinterProfile['bed']) {
  const x = fc.integer({ min: 0, max: bed.x });
  const y = fc.integer({ min: 0, max: bed.y });
  const z = fc.integer({ min: 0, max: bed.z - 1_000 });
  const e = fc.integer({ min: 0, max: 99_999 });
  return fc.oneof(
    { weight: 6, arbitrary: fc.tuple(x, y).map(([a, b]) => [`G0 X${mm(a)} Y${mm(b)} F6000`]) },
    { weight: 3, arbitrary: fc.tuple(x, y).map(([a, b]) => [`G1 X${mm(a)} Y${mm(b)}`]) },
    {
      weight: 6,
      arbitrary: fc.tuple(x, y, e).map(([a, b, c]) => [`G1 X${mm(a)} Y${mm(b)} E${c / 100_000}`]),
    },
    { weight: 2, arbitrary: z.map((a) => [`G1 Z${mm(a)} F600`]) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.integer({ min: 1_000, max: 20_000 }),
          fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }),
          fc.double({ min: 0.1, max: 6, noNaN: true }),
          fc.boolean(),
        )
        .chain(([r, a0, sweep, cw]) =>
          fc
            .tuple(
              fc.integer({ min: r + 2, max: bed.x - r - 2 }),
              fc.integer({ min: r + 2, max: bed.y - r - 2 }),
            )
            .map(([cx, cy]) => {
              const sx = Math.round(cx + r * Math.cos(a0));
              const sy = Math.round(cy + r * Math.sin(a0));
              const a1 = a0 + (cw ? -sweep : sweep);
              const ex = Math.round(cx + r * Math.cos(a1));
              const ey = Math.round(cy + r * Math.sin(a1));
              return [
                `G0 X${mm(sx)} Y${mm(sy)}`,
                `${cw ? 'G2' : 'G3'} X${mm(ex)} Y${mm(ey)} I${mm(cx - sx)} J${mm(cy - sy)} E0.5`,
              ];
            }),
        ),
    },
    { weight: 1, arbitrary: fc.constant(['G91', 'G1 Z0.2', 'G1 Z-0.2', 'G90']) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 280 }).map((t) => [`M104 S${t}`]) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 110 }).map((t) => [`M140 S${t}`]) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        ['M106 S255'],
        ['M107'],
        ['M221 S90'],
        ['G92 E0'],
        ['M83'],
        ['M82'],
        ['G4 P10'],
        ['; a comment'],
        [''],
      ),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        ['M500'],
        ['M206 X5'],
        ['M211 S0'],
        ['SET_PRESSURE_ADVANCE ADVANCE=0.04'],
        ['M117 hello'],
        ['T1'],
        ['M600'],
        ['M900 K0.05'],
        ['M205 X10'],
        ['G21'],
      ),
    },
  );
}

function designArbitrary(bed: PrinterProfile['bed'], opsMin = 0) {
  return fc
    .tuple(
      fc.array(opArbitrary(bed), { minLength: opsMin, maxLength: opsMin + 60 }),
      fc.constantFrom('coffer', 'cura', 'none'),
    )
    .map(([ops, markers]) => {
      const lines = ['M109 S200', 'G28', 'G1 X0.1 Y20 Z0.3 E15 ; purge', 'G92 E0'];
      if (markers === 'coffer') lines.push('; coffer:start');
      if (markers === 'cura') lines.push(';LAYER_COUNT:3', ';LAYER:0');
      lines.push(...ops.flat());
      if (markers === 'coffer') lines.push('; coffer:end', 'M104 S0', 'G28 X0', 'M84');
      return lines;
    });
}

const withDesign = (opsMin = 0) =>
  profileArbitrary.chain((profile) =>
    designArbitrary(profile.bed, opsMin).map((design) => ({ profile, design })),
  );

describe('adaptGcode: properties', () => {
  it("every emitted line is valid for the profile's firmware", async () => {
    await fc.assert(
      fc.asyncProperty(
        withDesign(),
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        async ({ profile, design }, watermark) => {
          const out = await adapt(design, profile, watermark);
          for (const line of out)
            assert.ok(isValidForDialect(line, profile.firmware), `${profile.firmware}: ${line}`);
          // Klipper lacks these M-codes: the design's are dropped.
          if (profile.firmware === 'klipper')
            assert.ok(!out.some((l) => /^(M900|M205|M500|M206|M211|M600|M117|T1)\b/.test(l)));
          // The flow and the temperatures are the profile's.
          assert.ok(out.includes(`M221 S${profile.flowPct}`));
          for (const line of out) {
            const hot = /^M10[49] S(\d+)$/.exec(line);
            if (hot && hot[1] !== '0') assert.equal(Number(hot[1]), profile.hotendC, line);
            const bed = /^M(140|190) S(\d+)$/.exec(line);
            if (bed && bed[2] !== '0') assert.equal(Number(bed[2]), profile.bedC, line);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('the toolpath stays on the bed (checked by an independent reader, arcs sampled)', async () => {
    await fc.assert(
      fc.asyncProperty(withDesign(), async ({ profile, design }) => {
        const out = await adapt(design, profile);
        assert.deepEqual(offBedMoves(out, profile.bed), []);
      }),
      { numRuns: 150 },
    );
  });

  it('the watermark is recoverable from the printed G-code', async () => {
    await fc.assert(
      fc.asyncProperty(
        withDesign(100),
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        async ({ profile, design }, watermark) => {
          const stats: AdaptStats = {
            linesIn: 0,
            linesOut: 0,
            dropped: 0,
            watermarked: 0,
            startMarker: false,
          };
          const out = await adapt(design, profile, watermark, stats);
          if (stats.watermarked < 64) return; // too few travels drawn: nothing to recover
          const recovered = await recoverWatermark(design, out);
          assert.deepEqual(recovered.watermark, watermark);
          assert.equal(recovered.moves, stats.watermarked);
          assert.equal(recovered.dissent, 0);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a design that leaves the bed is refused at that line, and nothing off the bed was emitted', async () => {
    await fc.assert(
      fc.asyncProperty(
        withDesign(),
        fc.nat(),
        fc.constantFrom('x+', 'y-', 'z+', 'arc'),
        fc.integer({ min: 1, max: 50_000 }),
        async ({ profile, design }, at, how, beyond) => {
          const bed = profile.bed;
          const bad = {
            'x+': `G1 X${mm(bed.x + beyond)} Y1.000`,
            'y-': `G0 X1.000 Y${mm(-beyond)}`,
            'z+': `G1 Z${mm(bed.z + beyond)}`,
            // Both ends on the bed, the bulge below Y 0.
            arc: `G3 X${mm(2 * beyond + 2_000)} Y${mm(Math.min(beyond, bed.y) - 1)} I${mm(beyond)} J0`,
          }[how];
          const prefix = how === 'arc' ? [`G0 X2.000 Y${mm(Math.min(beyond, bed.y) - 1)}`] : [];
          // Insert into the body (after the start marker, before an end marker).
          const startAt =
            Math.max(design.indexOf('; coffer:start'), design.indexOf(';LAYER:0')) + 1;
          const endAt = design.includes('; coffer:end')
            ? design.indexOf('; coffer:end')
            : design.length;
          const index = startAt + (at % (endAt - startAt + 1));
          const modes = design.slice(0, index).filter((l) => l === 'G90' || l === 'G91');
          if (modes.at(-1) === 'G91') return; // inside a relative hop: the bad move would be relative
          const broken = [...design.slice(0, index), ...prefix, bad, ...design.slice(index)];
          if (how === 'arc' && 2 * beyond + 2_000 > bed.x) return; // the end itself would be off
          const { out, error } = await adaptUntilError(broken, profile);
          assert.ok(error instanceof AdaptError, `expected a refusal of ${bad}`);
          assert.equal(error.code, 'design_does_not_fit');
          assert.match(error.message, new RegExp(`^line ${index + prefix.length + 1}: `));
          assert.deepEqual(offBedMoves(out, bed), []);
          // Everything before it was emitted: the check runs line by line, not ahead.
          const emittedOk = await adapt(design.slice(0, index).concat(prefix), profile);
          const endLines = emittedOk.length - out.length;
          assert.ok(
            endLines >= 0 && endLines <= 8,
            `emitted ${out.length}, the prefix alone ${emittedOk.length}`,
          );
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('adaptGcode: the start and end blocks', () => {
  for (const markers of ['coffer', 'cura', 'prusa', 'orca'] as const) {
    it(`drops the design's own start block (${markers} markers)`, async () => {
      const design = sampleDesign({ layers: 2, travelsPerLayer: 2, markers });
      const out = await adapt(design, sampleProfile);
      assert.ok(!out.some((l) => l.includes('E15.000')), 'the purge line is gone');
      assert.equal(
        out.filter((l) => l.startsWith('M109')).length,
        1,
        'heated once, to the profile',
      );
      assert.deepEqual(out.slice(0, 6), [
        'M140 S60',
        'M104 S210',
        'M190 S60',
        'M109 S210',
        'G28',
        'G1 Z5.000 F3000',
      ]);
      // Then the flow, the modes, and the body's first move (its X may carry a watermark bit).
      assert.deepEqual(out.slice(6, 10), ['M221 S100', 'G90', 'M82', 'G92 E0.000']);
      assert.match(out[10]!, /^G0 F6000 X(50\.000|49\.999) Y50\.000 Z0\.200$/);
    });
  }

  for (const markers of ['coffer', 'prusa', 'orca'] as const) {
    it(`drops the design's own end block (${markers} markers)`, async () => {
      const design = sampleDesign({ layers: 2, travelsPerLayer: 2, markers });
      const out = await adapt(design, sampleProfile);
      assert.ok(!out.includes('G1 Z10.000'), "the design's end lift is gone");
      assert.deepEqual(out.slice(-4), ['M104 S0', 'M140 S0', 'G28 X0.000', 'M84']);
    });
  }

  it('without a marker the whole design is the body', async () => {
    const design = sampleDesign({ layers: 2, travelsPerLayer: 2, markers: 'none' });
    const stats: AdaptStats = {
      linesIn: 0,
      linesOut: 0,
      dropped: 0,
      watermarked: 0,
      startMarker: true,
    };
    const out = await adapt(design, sampleProfile, new Uint8Array(8), stats);
    assert.equal(stats.startMarker, false);
    assert.ok(
      out.some((l) => l.includes('E15.000')),
      'the purge line stays',
    );
    // The same once the head is longer than what is held while looking for a marker.
    const held: string[] = [];
    for await (const line of adaptGcode(design, sampleProfile, {
      watermark: new Uint8Array(8),
      headLinesMax: 3,
    }))
      held.push(line);
    assert.deepEqual(held, out);
  });

  it("restores the modes the design's start block left: relative E, its E position", async () => {
    const design = [
      'M83',
      'G1 E-1.5',
      'G92 E0',
      'G1 E3',
      'G91',
      '; coffer:start',
      'G1 X1 E0.5',
      'G90',
    ];
    const out = await adapt(design, sampleProfile);
    const start = out.indexOf('M221 S100');
    assert.deepEqual(out.slice(start, start + 5), [
      'M221 S100',
      'G91',
      'M83',
      'G92 E3.000',
      'G1 X1.000 E0.500',
    ]);
  });

  it('carries a relative E rounding to the next move: the filament adds up', async () => {
    const design = [
      'M83',
      '; coffer:start',
      ...Array.from({ length: 1000 }, (_, i) => `G1 X${(i % 50) + 1} E0.00049`),
    ];
    const out = await adapt(design, sampleProfile);
    const pushed = out
      .filter((l) => l.startsWith('G1 X'))
      .reduce((sum, l) => sum + Math.round(Number(/E(-?[\d.]+)/.exec(l)![1]) * 1000), 0);
    assert.equal(pushed, 490, 'round(1000 × 0.49 µm)');
  });
});

describe('adaptGcode: the dialects', () => {
  const klipper: PrinterProfile = {
    ...sampleProfile,
    firmware: 'klipper',
    startGcode: '',
    endGcode: '',
  };

  it('Klipper: PRINT_START and PRINT_END when the profile has no code', async () => {
    const out = await adapt(sampleDesign({ layers: 1 }), klipper);
    assert.equal(out[0], 'PRINT_START BED=60 EXTRUDER=210');
    assert.equal(out.at(-1), 'PRINT_END');
  });

  it('Klipper: a profile calling a macro is not given heating commands before it', async () => {
    const out = await adapt(sampleDesign({ layers: 1 }), {
      ...klipper,
      startGcode: 'START_PRINT T=1',
    });
    assert.equal(out[0], 'START_PRINT T=1');
  });

  it('Marlin: no code means heating and G28; the end turns the heaters off', async () => {
    const out = await adapt(sampleDesign({ layers: 1 }), {
      ...sampleProfile,
      startGcode: '',
      endGcode: '',
    });
    assert.deepEqual(out.slice(0, 5), ['M140 S60', 'M104 S210', 'M190 S60', 'M109 S210', 'G28']);
    assert.deepEqual(out.slice(-4), ['M104 S0', 'M140 S0', 'M107', 'M84']);
    const cold = await adapt(sampleDesign({ layers: 1 }), {
      ...sampleProfile,
      bedC: 0,
      startGcode: '',
    });
    assert.deepEqual(cold.slice(0, 3), ['M104 S210', 'M109 S210', 'G28']);
  });

  it('Marlin: a Klipper macro in the profile is refused as profile_invalid', async () => {
    await assert.rejects(
      adapt(['G1 X1'], { ...sampleProfile, startGcode: 'PRINT_START' }),
      (error) => {
        assert.ok(error instanceof AdaptError);
        assert.equal(error.code, 'profile_invalid');
        assert.match(error.message, /startGcode.*PRINT_START/);
        return true;
      },
    );
  });

  it("the profile's own temperatures are the profile's, its heater-off stays off", async () => {
    const out = await adapt(['G1 X1'], {
      ...sampleProfile,
      startGcode: 'M104 S190\nM109 R180\nG28',
      endGcode: 'M104 S0',
    });
    assert.deepEqual(out.slice(0, 3), ['M104 S210', 'M109 R210', 'G28']);
    assert.equal(out.at(-1), 'M104 S0');
  });

  it('drops what a design may not send, and counts it', async () => {
    const stats: AdaptStats = {
      linesIn: 0,
      linesOut: 0,
      dropped: 0,
      watermarked: 0,
      startMarker: false,
    };
    const dropped = [
      'M500',
      'M206 X5',
      'M211 S0',
      'M92 X80',
      'M997',
      'M117 hi',
      'T1',
      'M600',
      'SET_KINEMATIC_POSITION X=0',
      'M862.3 P "MK3S"',
      'M1002 gcode_claim_action : 2',
    ];
    const out = await adapt(
      ['; coffer:start', ...dropped, 'G1 X1'],
      sampleProfile,
      new Uint8Array(8),
      stats,
    );
    assert.equal(stats.dropped, dropped.length);
    for (const line of dropped)
      assert.ok(!out.some((l) => l.startsWith(line.split(' ')[0]!)), line);
  });
});

describe('adaptGcode: refusals', () => {
  it('refuses a profile whose start or end code writes to the SD card, the EEPROM or the firmware', async () => {
    for (const [startGcode, endGcode] of [
      ['M140 S0\nM28 X1', 'M29'],
      ['G28\nM928 log.gco', 'M84'],
      ['G28', 'M500'],
      ['G28', 'M997'],
    ] as const) {
      const { out, error } = await adaptUntilError(sampleDesign({ layers: 3 }), {
        ...sampleProfile,
        startGcode,
        endGcode,
      });
      assert.ok(error instanceof AdaptError, `${startGcode} / ${endGcode}`);
      assert.equal(error.code, 'profile_invalid');
      assert.deepEqual(out, [], 'nothing is emitted');
    }
  });

  it('refuses a watermark that is not 8 bytes, and an invalid profile', async () => {
    await assert.rejects(adapt(['G1 X1'], sampleProfile, new Uint8Array(7)), {
      code: 'watermark_invalid',
    });
    await assert.rejects(adapt(['G1 X1'], { ...sampleProfile, flowPct: 10 }), (error) => {
      assert.ok(error instanceof AdaptError);
      assert.equal(error.code, 'profile_invalid');
      assert.match(error.message, /flowPct/);
      return true;
    });
  });

  it('refuses G-code it cannot read or model, naming the line', async () => {
    await assert.rejects(adapt(['; coffer:start', 'G1 X1', 'G1 X#'], sampleProfile), {
      code: 'gcode_invalid',
      message: /^line 3: /,
    });
    await assert.rejects(adapt(['; coffer:start', 'G20'], sampleProfile), {
      code: 'gcode_unsupported',
      message: /^line 2: G20/,
    });
    // A vendor's M-code that does not parse is dropped; one whose parameters matter is refused.
    await assert.rejects(adapt(['; coffer:start', 'M104 S"hot"'], sampleProfile), {
      code: 'gcode_invalid',
      message: /^line 2: S: ""hot"" is not a number/,
    });
    await assert.rejects(adapt(['; coffer:start', 'M106 fan : 2'], sampleProfile), {
      code: 'gcode_invalid',
      message: /^line 2: /,
    });
    await assert.rejects(adapt(['; coffer:start', 'G1 X1 : 2'], sampleProfile), {
      code: 'gcode_invalid',
      message: /^line 2: /,
    });
    await assert.rejects(adapt(['G20', '; coffer:start'], sampleProfile), {
      code: 'gcode_unsupported',
    });
  });

  it('reads the design lazily: a few lines in for each line out', async () => {
    let pulled = 0;
    function* endless() {
      yield '; coffer:start';
      for (let i = 0; ; i += 1) {
        pulled += 1;
        yield `G1 X${(i % 100) + 1} Y1 E0.1`;
      }
    }
    const iterator = adaptGcode(endless(), sampleProfile, { watermark: new Uint8Array(8) });
    for (let i = 0; i < 50; i += 1) await iterator.next();
    assert.ok(pulled <= 50, `pulled ${pulled} design lines for 50 out`);
    await iterator.return(undefined);
  });
});
