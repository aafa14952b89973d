/*
 * Sliced-looking designs for tests, the bench and demos (issue 23): a stack of square
 * perimeters with travel moves between them, framed as a slicer frames a file (a start block
 * with heating, homing and a purge line; the body; an end block), with the markers of
 * `markers`. Deterministic: the same options give the same lines.
 */

export interface SampleDesignOptions {
  /** Layers (each: a travel to the square, 4 extruding sides, `travelsPerLayer` travels). */
  layers?: number;
  /** Square side, µm. */
  sideUm?: number;
  /** The square's lower-left corner, µm. */
  originUm?: { x: number; y: number };
  layerHeightUm?: number;
  travelsPerLayer?: number;
  /** 'coffer' (`; coffer:start` / `; coffer:end`), 'cura', 'prusa', 'orca' or 'none'. */
  markers?: 'coffer' | 'cura' | 'prusa' | 'orca' | 'none';
  /** Relative extrusion (M83) instead of absolute (M82). */
  relativeExtrusion?: boolean;
  /** Add an arc (G2, a quarter circle) at each layer's end. */
  arcs?: boolean;
}

/** µm -> millimetres with 3 decimals (exact: integer arithmetic on the digits). */
export function mm(um: number): string {
  const negative = um < 0;
  const digits = String(Math.abs(um)).padStart(4, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -3)}.${digits.slice(-3)}`;
}

/** The lines of a sample design. */
export function sampleDesign(options: SampleDesignOptions = {}): string[] {
  const layers = options.layers ?? 10;
  const side = options.sideUm ?? 20_000;
  const origin = options.originUm ?? { x: 50_000, y: 50_000 };
  const layerHeight = options.layerHeightUm ?? 200;
  const travels = options.travelsPerLayer ?? 8;
  const markers = options.markers ?? 'coffer';
  const relative = options.relativeExtrusion ?? false;
  const lines: string[] = [];
  if (markers === 'cura') lines.push(';FLAVOR:Marlin', ';Generated with a sample slicer');
  lines.push(
    'M140 S60',
    'M104 S200',
    'M190 S60',
    'M109 S200',
    relative ? 'M83 ; relative extrusion' : 'M82 ;absolute extrusion mode',
    'G28 ; home',
    'G92 E0',
    'G1 Z2.0 F3000',
    'G1 X0.1 Y20 Z0.3 F5000.0',
    'G1 X0.1 Y150.0 Z0.3 F1500.0 E15 ; purge line',
    relative ? 'G1 E-1 F2400' : 'G92 E0',
  );
  if (markers === 'coffer') lines.push('; coffer:start');
  if (markers === 'cura') lines.push(`;LAYER_COUNT:${layers}`);
  if (markers === 'orca') lines.push('; MACHINE_START_GCODE_END');
  let e = 0; // µm of filament, absolute
  const extrude = (lengthUm: number) => {
    const amount = Math.max(1, Math.round(lengthUm / 30)); // ~0.033 mm filament per mm
    e += amount;
    return relative ? mm(amount) : mm(e);
  };
  for (let layer = 0; layer < layers; layer += 1) {
    if (markers === 'prusa') lines.push(';LAYER_CHANGE', `;Z:${mm((layer + 1) * layerHeight)}`);
    if (markers === 'cura') lines.push(`;LAYER:${layer}`);
    const z = (layer + 1) * layerHeight;
    lines.push(`G0 F6000 X${mm(origin.x)} Y${mm(origin.y)} Z${mm(z)}`);
    lines.push(';TYPE:WALL-OUTER');
    const corners = [
      [origin.x + side, origin.y],
      [origin.x + side, origin.y + side],
      [origin.x, origin.y + side],
      [origin.x, origin.y],
    ] as const;
    lines.push(`G1 F1800 X${mm(corners[0][0])} Y${mm(corners[0][1])} E${extrude(side)}`);
    for (const [x, y] of corners.slice(1)) lines.push(`G1 X${mm(x)} Y${mm(y)} E${extrude(side)}`);
    for (let travel = 0; travel < travels; travel += 1) {
      // Travel points inside the square, spread by a fixed pattern (odd and even µm both).
      const x = origin.x + ((travel * 7_919 + layer * 104_729 + 13) % side);
      const y = origin.y + ((travel * 6_271 + layer * 7_307 + 7) % side);
      lines.push(travel % 2 === 0 ? `G0 X${mm(x)} Y${mm(y)}` : `G1 X${mm(x)} Y${mm(y)} F7800`);
      lines.push(`G1 X${mm(x + 500)} Y${mm(y)} E${extrude(500)} ; infill`);
    }
    if (options.arcs) {
      // From the square's lower-left corner, a quarter circle of radius side/2 around its centre
      // line: stays inside the square's bounding box plus the bulge.
      lines.push(`G0 X${mm(origin.x)} Y${mm(origin.y + side / 2)}`);
      lines.push(
        `G2 X${mm(origin.x + side / 2)} Y${mm(origin.y + side)} I${mm(side / 2)} J0 E${extrude(side)}`,
      );
    }
    lines.push(`;TIME_ELAPSED:${layer * 10}`);
  }
  if (markers === 'coffer') lines.push('; coffer:end');
  if (markers === 'prusa') lines.push('; Filament-specific end gcode', ';END gcode for filament');
  if (markers === 'orca') lines.push('; MACHINE_END_GCODE_START');
  lines.push('M140 S0', 'M104 S0', 'G91', 'G1 Z10', 'G90', 'G28 X0', 'M84');
  if (markers === 'cura') lines.push(';End of Gcode', ';SETTING_3 {"global_quality": "x"}');
  return lines;
}

/** A profile for tests: a 220 × 220 × 250 mm Marlin printer with PLA. */
export const sampleProfile = {
  firmware: 'marlin' as const,
  bed: { x: 220_000, y: 220_000, z: 250_000 },
  nozzleUm: 400,
  filament: 'pla' as const,
  hotendC: 210,
  bedC: 60,
  flowPct: 100,
  startGcode: 'G28 ; home all\nG1 Z5 F3000',
  endGcode: 'M104 S0\nM140 S0\nG28 X0\nM84',
};
