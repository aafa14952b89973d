import { toHex } from '../../../crypto/index.js';
import { designEvents, isWatermarkTravel, parityOf } from './design.js';
import { parseGcodeLine, toMicrometres, wordOf, type GcodeLine } from './parse.js';
import { Toolpath } from './toolpath.js';

/*
 * The print watermark (issue 23): a per-print 64-bit id hidden in the printed G-code, so a leaked
 * copy names the print (the print server keeps watermark id -> token).
 *
 * Encoding (adapter.ts writes it): the design body's travel moves (design.ts
 * `isWatermarkTravel`: G0, or G1 without E, with an X, in absolute mode) are numbered 0, 1, 2 ...;
 * travel move k carries bit (k mod 64) of the id (byte 0's high bit first): X in integer µm is
 * made even for 0 and odd for 1, by moving it 1 µm towards the bed's origin when its parity is
 * wrong (away from it at X = 0). A 1 µm change of where the nozzle travels without extruding:
 * below any printer's resolution of consequence (a 0.4 mm nozzle, 100 µm layers), invisible in
 * the part, plain in the file.
 *
 * Reading (`recoverWatermark`): the original design's travel moves are matched in order to the
 * printed file's travel moves (X within 1 µm, the same Y and the same Z: layers repeat points;
 * the profile's own moves and moves a
 * leaker removed are skipped, within a look-ahead of `lookahead` printed moves), each matched
 * move votes its X parity for its bit, and each bit is the majority of its votes (a tie: the
 * first vote). It needs at least 64 matched moves with every bit voted on.
 */

export class WatermarkError extends Error {
  readonly code = 'watermark_not_recoverable';
  constructor(message: string) {
    super(message);
    this.name = 'WatermarkError';
  }
}

export interface RecoveredWatermark {
  /** The 8 bytes of the id. */
  watermark: Uint8Array;
  /** Travel moves matched between the original and the printed file. */
  moves: number;
  /** Bits whose votes were tied (decided by the first vote). */
  ties: number;
  /** Votes that disagreed with their bit's majority (a damaged or edited copy). */
  dissent: number;
}

interface Travel {
  index: number;
  x: bigint;
  y: bigint | undefined;
  /**
   * The logical Z the move ends at (layers repeat X and Y; Z tells them apart); undefined
   * while the design's body has not set its Z yet (the printer's start G-code decides it).
   */
  z: bigint | undefined;
}

/** The travel `line` makes from where `path` is (before the line is applied). */
function travelOf(line: GcodeLine, index: number, path: Toolpath, zKnown = true): Travel {
  const y = wordOf(line, 'Y');
  const z = wordOf(line, 'Z');
  return {
    index,
    x: toMicrometres(wordOf(line, 'X')!.raw, 'X'),
    y: y === undefined || y.raw === '' ? undefined : toMicrometres(y.raw, 'Y'),
    z:
      z !== undefined && z.raw !== ''
        ? toMicrometres(z.raw, 'Z')
        : zKnown
          ? path.logical('z')
          : undefined,
  };
}

/** Whether a line (in the mode `path` is in before it) sets Z absolutely. */
function setsZ(line: GcodeLine, path: Toolpath): boolean {
  if (line.extended) return false;
  const z = wordOf(line, 'Z');
  if (line.command === 'G28')
    return z !== undefined || !line.words.some((w) => 'XY'.includes(w.letter));
  if (line.command === 'G92') return z !== undefined || line.words.length === 0;
  return (line.command === 'G0' || line.command === 'G1') && z !== undefined && !path.relative;
}

/** The design body's travel moves, numbered as the adapter numbers them. */
async function* originalTravels(
  lines: AsyncIterable<string> | Iterable<string>,
): AsyncGenerator<Travel> {
  let path = new Toolpath();
  let index = 0;
  let zKnown = false;
  for await (const event of designEvents(lines)) {
    if (event.type === 'start') {
      path = new Toolpath(event.modal);
      continue;
    }
    if (event.type !== 'line') continue;
    if (isWatermarkTravel(event.line, path)) {
      yield travelOf(event.line, index, path, zKnown);
      index += 1;
    }
    zKnown ||= setsZ(event.line, path);
    path.apply(event.line);
  }
}

/** Every travel move of a printed file (lines that do not parse are skipped). */
async function* printedTravels(
  lines: AsyncIterable<string> | Iterable<string>,
): AsyncGenerator<Travel> {
  const path = new Toolpath();
  let index = 0;
  for await (const text of lines) {
    let line: GcodeLine;
    try {
      line = parseGcodeLine(text);
      if (isWatermarkTravel(line, path)) {
        yield travelOf(line, index, path);
        index += 1;
      }
      path.apply(line);
    } catch {
      continue;
    }
  }
}

/** Recovers the watermark of `printed` (a print's G-code) with the design it came from. */
export async function recoverWatermark(
  original: AsyncIterable<string> | Iterable<string>,
  printed: AsyncIterable<string> | Iterable<string>,
  options: { lookahead?: number } = {},
): Promise<RecoveredWatermark> {
  const lookahead = options.lookahead ?? 256;
  const ones = new Array<number>(64).fill(0);
  const votes = new Array<number>(64).fill(0);
  const first = new Array<0 | 1 | undefined>(64).fill(undefined);
  const source = printedTravels(printed);
  const buffer: Travel[] = [];
  let done = false;
  let moves = 0;
  try {
    for await (const want of originalTravels(original)) {
      while (buffer.length < lookahead && !done) {
        const next = await source.next();
        if (next.done === true) done = true;
        else buffer.push(next.value);
      }
      const found = buffer.findIndex(
        (m) =>
          m.y === want.y &&
          (want.z === undefined || m.z === want.z) &&
          m.x - want.x <= 1n &&
          want.x - m.x <= 1n,
      );
      if (found < 0) continue;
      const bit = parityOf(buffer[found]!.x);
      buffer.splice(0, found + 1);
      const position = want.index % 64;
      votes[position]! += 1;
      ones[position]! += bit;
      first[position] ??= bit;
      moves += 1;
    }
  } finally {
    await source.return(undefined);
  }
  const missing = votes.filter((count) => count === 0).length;
  if (moves < 64 || missing > 0) {
    throw new WatermarkError(
      `${moves} travel moves matched and ${missing} of the 64 bits have no vote: a watermark needs at least 64 matched travel moves`,
    );
  }
  const watermark = new Uint8Array(8);
  let ties = 0;
  let dissent = 0;
  for (let position = 0; position < 64; position += 1) {
    const count = votes[position]!;
    const one = ones[position]!;
    let bit: 0 | 1;
    if (one * 2 === count) {
      ties += 1;
      bit = first[position]!;
    } else bit = one * 2 > count ? 1 : 0;
    dissent += bit === 1 ? count - one : one;
    if (bit === 1) watermark[position >> 3]! |= 1 << (7 - (position & 7));
  }
  return { watermark, moves, ties, dissent };
}

/** A watermark's 16 hex digits. */
export function watermarkHex(watermark: Uint8Array): string {
  return toHex(watermark);
}
