import { designEvents, isWatermarkTravel } from './design.js';
import { Extents, Toolpath } from './toolpath.js';

/*
 * What the print server records of an uploaded design (issue 23): its line count, the bounding
 * box of its body's toolpath (design.ts: the designer's start and end blocks are not printed,
 * so they do not count) and its watermark capacity. Streaming: nothing of the design is held.
 * The body starts where its modes left it and at the origin (the printer's start G-code homes).
 */

export interface GcodeMeasure {
  /** Every line of the file (a last line without '\n' counts). */
  lines: number;
  /** The body's largest X, Y, Z reached, µm (0 for an axis never moved): fits a bed this size. */
  bbox: { x: number; y: number; z: number };
  /** The body's smallest X, Y, Z, µm: below 0 leaves the bed, and the adapter refuses it. */
  min: { x: number; y: number; z: number };
  /** Travel moves that can carry the watermark (64 at least for it to be recoverable). */
  travelMoves: number;
  /** The body's command lines (the adapted print has at most these plus the profile's). */
  bodyCommands: number;
  /** Whether a start marker was found (else the whole file is the body). */
  startMarker: boolean;
}

/** Measures a design (lines as `linesOf` gives them). Throws GcodeParseError naming the line. */
export async function measureGcode(
  lines: AsyncIterable<string> | Iterable<string>,
): Promise<GcodeMeasure> {
  let path = new Toolpath();
  const extents = new Extents();
  let total = 0;
  let travelMoves = 0;
  let bodyCommands = 0;
  let startMarker = false;
  for await (const event of designEvents(lines, { readToEnd: true })) {
    if (event.type === 'start') {
      path = new Toolpath(event.modal);
      startMarker = event.marker;
    } else if (event.type === 'end') {
      total = event.lines;
    } else {
      bodyCommands += 1;
      if (isWatermarkTravel(event.line, path)) travelMoves += 1;
      let motion;
      try {
        motion = path.apply(event.line);
      } catch (error) {
        if (error instanceof Error) error.message = `line ${event.number}: ${error.message}`;
        throw error;
      }
      if (motion !== undefined) extents.add(motion);
    }
  }
  const num = (value: bigint | undefined) => Number(value ?? 0n);
  return {
    lines: total,
    bbox: { x: num(extents.max?.x), y: num(extents.max?.y), z: num(extents.max?.z) },
    min: { x: num(extents.min?.x), y: num(extents.min?.y), z: num(extents.min?.z) },
    travelMoves,
    bodyCommands,
    startMarker,
  };
}
