import { GcodeParseError, toMicrometres, wordOf, type GcodeLine } from './parse.js';

/*
 * Where a printer's nozzle goes (issue 23): the modal state (absolute or relative moves, the
 * extruder's mode, G92 offsets) and the position in integer micrometres, line by line. The
 * adapter checks each move of a design against the bed with it before emitting the line, the
 * upload measures a design's bounding box with it, and the virtual printer tracks its head.
 *
 * Physical position = logical position (what the G-code says) + the G92 offset. G28 homes the
 * axes it names (all when it names none) to 0 and clears their offset. Arcs (G2/G3 with I/J in
 * the XY plane) count their true extent: the bulge of an arc between two points on the bed may
 * leave it. Not modelled, refused as `gcode_unsupported`: inches (G20), arcs by radius (R) and
 * arcs in other planes (G18/G19).
 */

export interface Point {
  readonly x: bigint;
  readonly y: bigint;
  readonly z: bigint;
}

/** A bed's size in µm (a profile's `bed`). */
export interface BedSize {
  readonly x: number | bigint;
  readonly y: number | bigint;
  readonly z: number | bigint;
}

/** A move: where it starts and ends and the box it sweeps (physical µm). */
export interface Motion {
  readonly command: string;
  readonly from: Point;
  readonly to: Point;
  readonly min: Point;
  readonly max: Point;
  /** Whether the move names E (extrudes or retracts). */
  readonly extrudes: boolean;
}

const zero: Point = { x: 0n, y: 0n, z: 0n };
const axes = ['x', 'y', 'z'] as const;
type Axis = (typeof axes)[number];

function unsupported(message: string): never {
  throw new GcodeParseError('gcode_unsupported', message);
}

/** ceil(sqrt(n)) for n >= 0. */
export function sqrtCeil(n: bigint): bigint {
  if (n < 0n) throw new RangeError('sqrtCeil of a negative number');
  if (n < 2n) return n;
  let x = BigInt(Math.ceil(Math.sqrt(Number(n)))) + 1n;
  // Newton from above converges to floor(sqrt(n)).
  for (;;) {
    const next = (x + n / x) / 2n;
    if (next >= x) break;
    x = next;
  }
  while (x * x > n) x -= 1n;
  while ((x + 1n) * (x + 1n) <= n) x += 1n;
  return x * x === n ? x : x + 1n;
}

const cross = (ax: bigint, ay: bigint, bx: bigint, by: bigint) => ax * by - ay * bx;
const dot = (ax: bigint, ay: bigint, bx: bigint, by: bigint) => ax * bx + ay * by;

/**
 * Whether direction d lies on the counter-clockwise sweep from a to b (both included). Equal
 * directions of a and b make a full circle (as Marlin draws an arc that ends where it starts).
 */
export function onCounterClockwiseSweep(
  a: readonly [bigint, bigint],
  b: readonly [bigint, bigint],
  d: readonly [bigint, bigint],
): boolean {
  const ab = cross(a[0], a[1], b[0], b[1]);
  if (ab === 0n) {
    if (dot(a[0], a[1], b[0], b[1]) > 0n) return true; // the whole circle
    return cross(a[0], a[1], d[0], d[1]) >= 0n; // a half circle to the left of a
  }
  if (ab > 0n) return cross(a[0], a[1], d[0], d[1]) >= 0n && cross(d[0], d[1], b[0], b[1]) >= 0n;
  // More than half a circle: d is on it unless strictly inside the sweep from b back to a.
  return !(cross(b[0], b[1], d[0], d[1]) > 0n && cross(d[0], d[1], a[0], a[1]) > 0n);
}

function minPoint(a: Point, b: Point): Point {
  return { x: a.x < b.x ? a.x : b.x, y: a.y < b.y ? a.y : b.y, z: a.z < b.z ? a.z : b.z };
}
function maxPoint(a: Point, b: Point): Point {
  return { x: a.x > b.x ? a.x : b.x, y: a.y > b.y ? a.y : b.y, z: a.z > b.z ? a.z : b.z };
}

export class Toolpath {
  /** G91: X, Y, Z (and E) relative. */
  relative = false;
  /** M83: E relative whatever G90/G91 says. */
  extruderRelative = false;
  /** Physical position, µm. */
  position: Point = zero;
  /** Physical minus logical, µm (G92). */
  offset: Point = zero;
  /** The extruder's logical position, µm. */
  extruder = 0n;

  constructor(start?: Partial<Pick<Toolpath, 'relative' | 'extruderRelative' | 'extruder'>>) {
    Object.assign(this, start);
  }

  /** Whether E moves are relative now. */
  get extruderIsRelative(): boolean {
    return this.relative || this.extruderRelative;
  }

  /** The logical position of an axis (what a G-code coordinate means). */
  logical(axis: Axis): bigint {
    return this.position[axis] - this.offset[axis];
  }

  /** Applies one line; answers the move it makes, if it is one. Throws GcodeParseError. */
  apply(line: GcodeLine): Motion | undefined {
    if (line.extended || line.command === undefined) return undefined;
    switch (line.command) {
      case 'G0':
      case 'G1':
        return this.move(line, false);
      case 'G2':
      case 'G3':
        return this.move(line, true);
      case 'G28':
        return this.home(line);
      case 'G90':
        this.relative = false;
        return undefined;
      case 'G91':
        this.relative = true;
        return undefined;
      case 'M82':
        this.extruderRelative = false;
        return undefined;
      case 'M83':
        this.extruderRelative = true;
        return undefined;
      case 'G92':
        this.setPosition(line);
        return undefined;
      case 'G20':
        return unsupported('G20: inch units are not supported (millimetres only)');
      case 'G18':
      case 'G19':
        return unsupported(`${line.command}: arcs outside the XY plane are not supported`);
      default:
        return undefined;
    }
  }

  private target(line: GcodeLine): Point {
    const next = { ...this.position };
    for (const axis of axes) {
      const word = wordOf(line, axis.toUpperCase());
      if (word === undefined) continue;
      if (word.raw === '')
        throw new GcodeParseError(
          'gcode_invalid',
          `${line.command}: ${word.letter} without a number`,
        );
      const value = toMicrometres(word.raw, word.letter);
      next[axis] = this.relative ? this.position[axis] + value : value + this.offset[axis];
    }
    return next;
  }

  private move(line: GcodeLine, arc: boolean): Motion {
    const from = this.position;
    const to = this.target(line);
    const e = wordOf(line, 'E');
    if (e !== undefined) {
      if (e.raw === '')
        throw new GcodeParseError('gcode_invalid', `${line.command}: E without a number`);
      const value = toMicrometres(e.raw, 'E');
      this.extruder = this.extruderIsRelative ? this.extruder + value : value;
    }
    let min = minPoint(from, to);
    let max = maxPoint(from, to);
    if (arc) {
      if (wordOf(line, 'R') !== undefined)
        unsupported(`${line.command}: arcs by radius (R) are not supported; use I and J`);
      const i = wordOf(line, 'I');
      const j = wordOf(line, 'J');
      if (i === undefined && j === undefined)
        throw new GcodeParseError('gcode_invalid', `${line.command}: an arc needs I or J`);
      const ci = i === undefined || i.raw === '' ? 0n : toMicrometres(i.raw, 'I');
      const cj = j === undefined || j.raw === '' ? 0n : toMicrometres(j.raw, 'J');
      const cx = from.x + ci;
      const cy = from.y + cj;
      const a = [from.x - cx, from.y - cy] as const;
      const b = [to.x - cx, to.y - cy] as const;
      const radius = sqrtCeil(a[0] * a[0] + a[1] * a[1]);
      const clockwise = line.command === 'G2';
      const on = (d: readonly [bigint, bigint]) =>
        clockwise ? onCounterClockwiseSweep(b, a, d) : onCounterClockwiseSweep(a, b, d);
      if (on([1n, 0n])) max = { ...max, x: maxOf(max.x, cx + radius) };
      if (on([-1n, 0n])) min = { ...min, x: minOf(min.x, cx - radius) };
      if (on([0n, 1n])) max = { ...max, y: maxOf(max.y, cy + radius) };
      if (on([0n, -1n])) min = { ...min, y: minOf(min.y, cy - radius) };
    }
    this.position = to;
    return { command: line.command!, from, to, min, max, extrudes: e !== undefined };
  }

  private home(line: GcodeLine): Motion {
    const named = axes.filter((axis) => wordOf(line, axis.toUpperCase()) !== undefined);
    const homed = named.length === 0 ? axes : named;
    const from = this.position;
    const to = { ...from };
    const offset = { ...this.offset };
    for (const axis of homed) {
      to[axis] = 0n;
      offset[axis] = 0n;
    }
    this.position = to;
    this.offset = offset;
    return {
      command: 'G28',
      from,
      to,
      min: minPoint(from, to),
      max: maxPoint(from, to),
      extrudes: false,
    };
  }

  private setPosition(line: GcodeLine): void {
    const bare = line.words.length === 0;
    const offset = { ...this.offset };
    for (const axis of axes) {
      const word = wordOf(line, axis.toUpperCase());
      if (word === undefined && !bare) continue;
      const value =
        word === undefined || word.raw === '' ? 0n : toMicrometres(word.raw, word.letter);
      offset[axis] = this.position[axis] - value;
    }
    this.offset = offset;
    const e = wordOf(line, 'E');
    if (bare || e !== undefined) {
      this.extruder = e === undefined || e.raw === '' ? 0n : toMicrometres(e.raw, 'E');
    }
  }
}

const maxOf = (a: bigint, b: bigint) => (a > b ? a : b);
const minOf = (a: bigint, b: bigint) => (a < b ? a : b);

/** The first axis of a move that leaves the bed ([0, bed] on each axis), described; or undefined. */
export function offBed(motion: Motion, bed: BedSize): string | undefined {
  for (const axis of axes) {
    const size = BigInt(bed[axis]);
    const low = motion.min[axis];
    const high = motion.max[axis];
    if (low < 0n) return `${axis.toUpperCase()} reaches ${low} µm, below 0`;
    if (high > size) return `${axis.toUpperCase()} reaches ${high} µm, beyond the bed's ${size} µm`;
  }
  return undefined;
}

/** A box that grows with each move (a design's bounding box). */
export class Extents {
  min: Point | undefined;
  max: Point | undefined;

  add(motion: Motion): void {
    this.min = this.min === undefined ? motion.min : minPoint(this.min, motion.min);
    this.max = this.max === undefined ? motion.max : maxPoint(this.max, motion.max);
  }
}
