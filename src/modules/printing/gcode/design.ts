import { GcodeParseError, parseGcodeLine, stripComments, type GcodeLine } from './parse.js';
import { Toolpath } from './toolpath.js';

/*
 * A design's body (issue 23): the part of a sliced file that prints the object, without the
 * designer's own start block (homing, heating, purge line for the designer's printer) and end
 * block. The adapter replaces those blocks with the printer profile's; the upload measures the
 * body; the watermark is written into and read from the body's travel moves.
 *
 * Where the body starts, the first of these comments (case and spaces ignored):
 * - `; coffer:start` — the designer's own marker, the one to use (any slicer: put it last in
 *   the printer's start G-code);
 * - `;LAYER_COUNT:<n>` (Cura writes it after its start G-code),
 * - `;LAYER_CHANGE` (PrusaSlicer, SuperSlicer: before the first layer),
 * - `; MACHINE_START_GCODE_END` (OrcaSlicer, Bambu Studio).
 * Where it ends, the first of these after the start:
 * - `; coffer:end` (put it first in the printer's end G-code),
 * - `; Filament-specific end gcode` (PrusaSlicer),
 * - `; MACHINE_END_GCODE_START` (OrcaSlicer, Bambu Studio),
 * - `;End of Gcode` (Cura: after its end G-code; what follows is only settings comments).
 * No start marker within the first `headLinesMax` command lines: the whole file is the body
 * (nothing dropped; those lines are held meanwhile, so memory stays bounded). No end marker:
 * the body runs to the end of the file.
 *
 * The body keeps the modes the dropped start block left (absolute or relative moves, the
 * extruder's mode and position): `modal` of the 'start' event says them, and the adapter
 * restores them after the profile's start G-code.
 */

/** Command lines of the head held while looking for a start marker. */
export const headLinesMaxDefault = 4096;

const startMarkers = ['coffer:start', 'layer_change', 'machine_start_gcode_end'];
const endMarkers = [
  'coffer:end',
  'filament-specific end gcode',
  'machine_end_gcode_start',
  'end of gcode',
];

/** 'start' or 'end' when the comment is one of the markers above. */
export function markerOf(comment: string): 'start' | 'end' | undefined {
  if (comment === '') return undefined;
  const text = comment.trim().toLowerCase().replace(/\s+/g, ' ');
  if (startMarkers.includes(text) || text.startsWith('layer_count:')) return 'start';
  if (endMarkers.includes(text)) return 'end';
  return undefined;
}

export interface BodyModal {
  readonly relative: boolean;
  readonly extruderRelative: boolean;
  /** The extruder's logical position, µm. */
  readonly extruder: bigint;
}

export type DesignEvent =
  | { readonly type: 'start'; readonly modal: BodyModal; readonly marker: boolean }
  | { readonly type: 'line'; readonly line: GcodeLine; readonly number: number }
  | { readonly type: 'end'; readonly lines: number };

export interface DesignOptions {
  headLinesMax?: number;
  /** Read (and count) the lines after the end marker: for the line count of an upload. */
  readToEnd?: boolean;
}

function at(number: number, error: unknown): unknown {
  if (error instanceof GcodeParseError)
    return new GcodeParseError(error.code, `line ${number}: ${error.message}`);
  return error;
}

/**
 * M-codes whose parameters matter (the adapter keeps them, the toolpath or the printer reads
 * them): one of these that does not parse refuses the design. Any other M-code that does not
 * parse (a vendor's `M1002 gcode_claim_action : 2`) is kept opaque, its parameters as text: the
 * adapter drops it as it drops every command it does not keep.
 */
export const strictMCodes: ReadonlySet<string> = new Set([
  ...['M73', 'M82', 'M83', 'M104', 'M105', 'M106', 'M107', 'M109', 'M110', 'M140', 'M190'],
  ...['M201', 'M203', 'M204', 'M205', 'M220', 'M221', 'M400', 'M900'],
]);

/** parseGcodeLine, with other M-codes that do not parse kept opaque (see strictMCodes). */
export function parseDesignLine(text: string): GcodeLine {
  try {
    return parseGcodeLine(text);
  } catch (error) {
    if (!(error instanceof GcodeParseError)) throw error;
    const { code, comment } = stripComments(text.replace(/\r$/, ''));
    const match = /^(?:N\d{1,15}\s*)?[Mm]0*(\d{1,5}(?:\.\d{1,3})?)(?![\d.])\s*(.*)$/s.exec(code);
    const command = match ? `M${match[1]}` : undefined;
    if (command === undefined || strictMCodes.has(command)) throw error;
    const rest = match![2]!.trim();
    return {
      command,
      extended: false,
      words: [],
      text: rest === '' ? undefined : rest,
      lineNumber: undefined,
      comment,
    };
  }
}

function parseAt(text: string, number: number): GcodeLine {
  try {
    return parseDesignLine(text);
  } catch (error) {
    throw at(number, error);
  }
}

/**
 * A design's lines -> 'start' (once, before the first body line), the body's command lines
 * (comments and empty lines left out, each with its 1-based line number in the file), then
 * 'end' with the number of lines read. Parse errors are GcodeParseError naming the line.
 */
export async function* designEvents(
  lines: AsyncIterable<string> | Iterable<string>,
  options: DesignOptions = {},
): AsyncGenerator<DesignEvent> {
  const headLinesMax = options.headLinesMax ?? headLinesMaxDefault;
  let number = 0;
  let phase: 'head' | 'body' | 'tail' = 'head';
  let head: { line: GcodeLine; number: number }[] = [];
  const headPath = new Toolpath();
  const modalOf = (path: Toolpath): BodyModal => ({
    relative: path.relative,
    extruderRelative: path.extruderRelative,
    extruder: path.extruder,
  });

  for await (const text of lines) {
    number += 1;
    if (phase === 'tail') {
      if (!options.readToEnd) break;
      continue;
    }
    const line = parseAt(text, number);
    const marker = markerOf(line.comment);
    if (phase === 'head') {
      if (marker === 'start') {
        phase = 'body';
        head = [];
        yield { type: 'start', modal: modalOf(headPath), marker: true };
        if (line.command !== undefined) yield { type: 'line', line, number };
        continue;
      }
      if (line.command === undefined) continue;
      try {
        headPath.apply(line);
      } catch (error) {
        throw at(number, error);
      }
      head.push({ line, number });
      if (head.length >= headLinesMax) {
        // No marker near the top: the whole file is the body.
        phase = 'body';
        yield { type: 'start', modal: modalOf(new Toolpath()), marker: false };
        for (const held of head) yield { type: 'line', ...held };
        head = [];
      }
      continue;
    }
    // body
    if (marker === 'end') {
      phase = 'tail';
      if (!options.readToEnd) break;
      continue;
    }
    if (line.command !== undefined) yield { type: 'line', line, number };
  }
  if (phase === 'head') {
    yield { type: 'start', modal: modalOf(new Toolpath()), marker: false };
    for (const held of head) yield { type: 'line', ...held };
  }
  yield { type: 'end', lines: number };
}

/**
 * Whether a line (in the mode `path` is in before it) is a travel move the watermark marks: G0,
 * or G1 without E (PrusaSlicer travels with G1), with an X, in absolute mode (G90): a relative
 * move's 1 µm change would shift every later point.
 */
export function isWatermarkTravel(line: GcodeLine, path: Toolpath): boolean {
  if (path.relative || line.extended) return false;
  if (line.command !== 'G0' && line.command !== 'G1') return false;
  let hasX = false;
  for (const word of line.words) {
    if (word.letter === 'E') return false;
    if (word.letter === 'X') hasX = word.raw !== '';
  }
  return hasX;
}

/** A watermark's bit at travel move `index` (the 64 bits repeat; byte 0's high bit first). */
export function watermarkBit(watermark: Uint8Array, index: number): 0 | 1 {
  const position = index % 64;
  return ((watermark[position >> 3]! >> (7 - (position & 7))) & 1) as 0 | 1;
}

/** The parity of an integer (0 even, 1 odd), negative ones too. */
export function parityOf(value: bigint): 0 | 1 {
  return ((value % 2n) + 2n) % 2n === 0n ? 0 : 1;
}
