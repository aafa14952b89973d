import { parsePrinterProfile, type PrinterProfile } from '../schema.js';
import {
  designEvents,
  isWatermarkTravel,
  parityOf,
  watermarkBit,
  type BodyModal,
  type DesignEvent,
} from './design.js';
import {
  divRound,
  fixedOf,
  formatFixed,
  formatLine,
  GcodeParseError,
  parseGcodeLine,
  toMicrometres,
  wordOf,
  withWord,
  type GcodeLine,
} from './parse.js';
import { offBed, Toolpath } from './toolpath.js';

/*
 * adaptGcode (issue 23): a design's G-code -> the G-code one printer prints, streaming (one line
 * in, at most a few out; nothing of the design is held but the head while its start marker is
 * looked for, see design.ts).
 *
 * What is emitted, in order:
 * 1. The profile's start G-code, comments and empty lines removed. Before it, when it neither
 *    sets a temperature nor calls a macro (an extended command), the heating the filament needs:
 *    `M140 S<bedC>`, `M104 S<hotendC>`, `M190 S<bedC>`, `M109 S<hotendC>` (the bed ones only
 *    when bedC > 0). An empty start G-code is, on Klipper, `PRINT_START BED=<bedC>
 *    EXTRUDER=<hotendC>` (the usual macro; its parameters are the profile's temperatures), and
 *    on Marlin the heating and `G28`.
 * 2. `M221 S<flowPct>`, then the modes the design's body expects: `G90` or `G91`, `M82` or
 *    `M83`, `G92 E<its extruder position>`.
 * 3. The design's body (design.ts says where it starts and ends), line by line:
 *    - comments removed, numbers re-emitted from integers (lengths with 3 decimals, µm);
 *    - temperatures set to the profile's: M104/M109 S or R (hotendC), M140/M190 S or R (bedC),
 *      except 0 (heater off) which stays;
 *    - the flow `M221 S` set to flowPct;
 *    - only the commands a sliced body needs are kept (`designCommands` of the dialect); the
 *      rest is dropped: extended commands (macros), settings that outlive the print (M500,
 *      M92, M206, M211 ...), SD and display commands, pauses, tool changes other than T0;
 *    - a relative extruder's E, rounded to µm, carries its rounding to the next move, so the
 *      filament pushed adds up to the design's;
 *    - the watermark: in each travel move (design.ts `isWatermarkTravel`), X's last µm digit
 *      made even or odd for the next bit (watermark.ts);
 *    - every move is checked against the bed before its line is emitted: a move (an arc with
 *      its bulge) reaching below 0 or beyond the bed on X, Y or Z throws
 *      `AdaptError('design_does_not_fit')`. The profile's own G-code is the owner's and is not
 *      checked (a purge line at Y -3 is common), but the position it leaves is tracked.
 * 4. The profile's end G-code, comments removed; an empty one is `PRINT_END` on Klipper and
 *    `M104 S0`, `M140 S0`, `M107`, `M84` on Marlin.
 *
 * Every emitted line is valid for the profile's firmware (`isValidForDialect`): on Marlin no
 * extended commands; on Klipper no M-code it lacks (M201, M203, M205, M900, T0 are dropped
 * from a design) — the profile's own code is the owner's and kept as written.
 */

export type AdaptErrorCode =
  | 'design_does_not_fit'
  | 'gcode_invalid'
  | 'gcode_unsupported'
  | 'profile_invalid'
  | 'watermark_invalid';

/** Why a design cannot be adapted to a printer; thrown while the lines stream. */
export class AdaptError extends Error {
  constructor(
    readonly code: AdaptErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AdaptError';
  }
}

export const watermarkBytes = 8;

/** Commands kept from a design's body, per firmware. */
export const designCommands: Readonly<Record<PrinterProfile['firmware'], ReadonlySet<string>>> = {
  marlin: new Set([
    ...['G0', 'G1', 'G2', 'G3', 'G4', 'G10', 'G11', 'G17', 'G21', 'G28', 'G90', 'G91', 'G92'],
    ...['M73', 'M82', 'M83', 'M104', 'M105', 'M106', 'M107', 'M109', 'M140', 'M190'],
    ...['M201', 'M203', 'M204', 'M205', 'M220', 'M221', 'M400', 'M900', 'T0'],
  ]),
  klipper: new Set([
    ...['G0', 'G1', 'G2', 'G3', 'G4', 'G10', 'G11', 'G17', 'G28', 'G90', 'G91', 'G92'],
    ...['M73', 'M82', 'M83', 'M104', 'M105', 'M106', 'M107', 'M109', 'M140', 'M190'],
    ...['M204', 'M220', 'M221', 'M400'],
  ]),
};

/** The M-codes Klipper itself has (with its common display, respond and arc sections). */
export const klipperMCodes: ReadonlySet<string> = new Set([
  ...['M18', 'M73', 'M82', 'M83', 'M84', 'M104', 'M105', 'M106', 'M107', 'M109', 'M110'],
  ...['M112', 'M114', 'M115', 'M117', 'M118', 'M140', 'M190', 'M204', 'M220', 'M221', 'M400'],
]);

/**
 * Whether an emitted line is valid G-code for the firmware: it parses, carries no comment, no
 * line number and no checksum, has a command; on Marlin it is not an extended command; on
 * Klipper an M-code is one Klipper has.
 */
export function isValidForDialect(text: string, firmware: PrinterProfile['firmware']): boolean {
  let line: GcodeLine;
  try {
    line = parseGcodeLine(text);
  } catch {
    return false;
  }
  if (line.command === undefined || line.comment !== '' || line.lineNumber !== undefined)
    return false;
  if (text !== text.trim() || text.includes('*') || text.includes(';')) return false;
  if (firmware === 'marlin') return !line.extended;
  return line.extended || !line.command.startsWith('M') || klipperMCodes.has(line.command);
}

/** What one adaptation did (filled as the lines stream, for logs and tests). */
export interface AdaptStats {
  linesIn: number;
  linesOut: number;
  /** Design lines dropped (commands not kept, see designCommands). */
  dropped: number;
  /** Travel moves that carry a watermark bit. */
  watermarked: number;
  /** Whether the design's start marker was found (else the whole design was its body). */
  startMarker: boolean;
}

export interface AdaptOptions {
  /** The print's 64-bit watermark id: 8 bytes. */
  watermark: Uint8Array;
  /** Filled as the lines stream. */
  stats?: AdaptStats;
  /** Command lines of the design's head held while its start marker is looked for. */
  headLinesMax?: number;
}

const temperatureCommands = new Set(['M104', 'M109', 'M140', 'M190']);
/** Modes the toolpath cannot follow (toolpath.ts): a design using them is refused. */
const unmodelled = new Set(['G20', 'G18', 'G19']);
const hotendCommands = new Set(['M104', 'M109']);

/** A parse error as an AdaptError: of the profile's code, or of the design's line `at`. */
function asAdaptError(error: unknown, profileCode = false, at?: number): unknown {
  if (error instanceof GcodeParseError) {
    const code = profileCode
      ? 'profile_invalid'
      : error.code === 'gcode_unsupported'
        ? 'gcode_unsupported'
        : 'gcode_invalid';
    const where = profileCode ? "the profile's G-code: " : at === undefined ? '' : `line ${at}: `;
    return new AdaptError(code, `${where}${error.message}`);
  }
  return error;
}

/** The line with its non-zero temperatures (S, R) set to the profile's. */
function withProfileTemperatures(line: GcodeLine, profile: PrinterProfile): GcodeLine {
  if (line.extended || line.command === undefined || !temperatureCommands.has(line.command))
    return line;
  const target = hotendCommands.has(line.command) ? profile.hotendC : profile.bedC;
  let out = line;
  for (const letter of ['S', 'R']) {
    const word = wordOf(line, letter);
    if (word === undefined || word.raw === '') continue;
    if (fixedOf(word.raw, 3, letter) === 0n) continue;
    out = withWord(out, letter, String(target));
  }
  return out;
}

function profileLines(code: string, profile: PrinterProfile, which: string): GcodeLine[] {
  const out: GcodeLine[] = [];
  code.split('\n').forEach((text, index) => {
    let line: GcodeLine;
    try {
      line = parseGcodeLine(text);
    } catch (error) {
      throw new AdaptError(
        'profile_invalid',
        `the profile's ${which} line ${index + 1}: ${(error as Error).message}`,
      );
    }
    if (line.command === undefined) return;
    if (line.extended && profile.firmware === 'marlin') {
      throw new AdaptError(
        'profile_invalid',
        `the profile's ${which} line ${index + 1}: "${line.command}" is a Klipper macro, and the firmware is Marlin`,
      );
    }
    out.push(withProfileTemperatures(line, profile));
  });
  return out;
}

function plain(text: string): GcodeLine {
  return parseGcodeLine(text);
}

/** The profile's start: heating when its code does not heat, the code, or the dialect's default. */
function prologue(profile: PrinterProfile): GcodeLine[] {
  const code = profileLines(profile.startGcode, profile, 'startGcode');
  const heating = [
    ...(profile.bedC > 0 ? [`M140 S${profile.bedC}`] : []),
    `M104 S${profile.hotendC}`,
    ...(profile.bedC > 0 ? [`M190 S${profile.bedC}`] : []),
    `M109 S${profile.hotendC}`,
  ].map(plain);
  if (code.length === 0) {
    return profile.firmware === 'klipper'
      ? [plain(`PRINT_START BED=${profile.bedC} EXTRUDER=${profile.hotendC}`)]
      : [...heating, plain('G28')];
  }
  const heats = code.some(
    (line) =>
      line.extended || (line.command !== undefined && temperatureCommands.has(line.command)),
  );
  return heats ? code : [...heating, ...code];
}

function epilogue(profile: PrinterProfile): GcodeLine[] {
  const code = profileLines(profile.endGcode, profile, 'endGcode');
  if (code.length > 0) return code;
  return profile.firmware === 'klipper'
    ? [plain('PRINT_END')]
    : ['M104 S0', 'M140 S0', 'M107', 'M84'].map(plain);
}

function restoreModal(modal: BodyModal): GcodeLine[] {
  return [
    plain(modal.relative ? 'G91' : 'G90'),
    plain(modal.extruderRelative ? 'M83' : 'M82'),
    plain(`G92 E${formatFixed(modal.extruder)}`),
  ];
}

/**
 * A design's lines -> the lines (no line breaks) the printer of `profile` prints, with the
 * print's watermark. Throws AdaptError while iterating, before the offending line is emitted.
 */
export async function* adaptGcode(
  lines: AsyncIterable<string> | Iterable<string>,
  profileInput: PrinterProfile,
  options: AdaptOptions,
): AsyncGenerator<string> {
  const { watermark } = options;
  if (!(watermark instanceof Uint8Array) || watermark.length !== watermarkBytes) {
    throw new AdaptError('watermark_invalid', `watermark: must be ${watermarkBytes} bytes`);
  }
  let profile: PrinterProfile;
  try {
    profile = parsePrinterProfile(profileInput);
  } catch (error) {
    throw new AdaptError('profile_invalid', (error as Error).message);
  }
  const stats: AdaptStats = options.stats ?? {
    linesIn: 0,
    linesOut: 0,
    dropped: 0,
    watermarked: 0,
    startMarker: false,
  };
  const kept = designCommands[profile.firmware];
  const printer = new Toolpath();
  const start = prologue(profile);
  const end = epilogue(profile);

  /** Tracks the printer through a line and formats it; checks the bed when `at` is given. */
  const emit = (line: GcodeLine, at?: number): string => {
    let motion;
    try {
      motion = printer.apply(line);
    } catch (error) {
      throw asAdaptError(error, at === undefined, at);
    }
    if (at !== undefined && motion !== undefined) {
      const off = offBed(motion, profile.bed);
      if (off !== undefined) {
        throw new AdaptError('design_does_not_fit', `line ${at}: ${line.command}: ${off}`);
      }
    }
    stats.linesOut += 1;
    return formatLine(line);
  };

  for (const line of start) yield emit(line);

  // A relative extruder's exact total (nm) and what was emitted of it (µm).
  let extrudedExact = 0n;
  let extrudedEmitted = 0n;
  let travelIndex = 0;

  const events = designEvents(lines, { headLinesMax: options.headLinesMax });
  try {
    for (;;) {
      let next: IteratorResult<DesignEvent>;
      try {
        next = await events.next();
      } catch (error) {
        throw asAdaptError(error);
      }
      if (next.done === true) break;
      const event = next.value;
      if (event.type === 'start') {
        stats.startMarker = event.marker;
        yield emit(plain(`M221 S${profile.flowPct}`));
        for (const line of restoreModal(event.modal)) yield emit(line);
        continue;
      }
      if (event.type === 'end') {
        stats.linesIn = event.lines;
        break;
      }
      let line = event.line;
      if (!line.extended && unmodelled.has(line.command!)) {
        // Dropping these would change what every later coordinate means: refuse instead.
        throw new AdaptError(
          'gcode_unsupported',
          `line ${event.number}: ${line.command}: inch units and arcs outside the XY plane are not supported`,
        );
      }
      if (line.extended || !kept.has(line.command!)) {
        stats.dropped += 1;
        continue;
      }
      try {
        line = withProfileTemperatures(line, profile);
        if (line.command === 'M221' && wordOf(line, 'S') !== undefined) {
          line = withWord(line, 'S', String(profile.flowPct));
        }
        if (line.command === 'G92' && (line.words.length === 0 || wordOf(line, 'E'))) {
          extrudedExact = 0n;
          extrudedEmitted = 0n;
        }
        const moves = ['G0', 'G1', 'G2', 'G3'].includes(line.command!);
        const e = moves ? wordOf(line, 'E') : undefined;
        if (e !== undefined && e.raw !== '' && printer.extruderIsRelative) {
          extrudedExact += fixedOf(e.raw, 6, 'E');
          const target = divRound(extrudedExact, 1000n);
          line = withWord(line, 'E', formatFixed(target - extrudedEmitted));
          extrudedEmitted = target;
        }
        if (isWatermarkTravel(line, printer)) {
          const x = toMicrometres(wordOf(line, 'X')!.raw, 'X');
          const bit = watermarkBit(watermark, travelIndex);
          travelIndex += 1;
          stats.watermarked += 1;
          const physical = x + printer.offset.x;
          if (physical < 0n || physical > BigInt(profile.bed.x)) {
            // Checked as the design wrote it: the 1 µm nudge must not make an X that is off fit.
            throw new AdaptError(
              'design_does_not_fit',
              `line ${event.number}: ${line.command}: X reaches ${physical} µm, off the bed's 0 to ${profile.bed.x} µm`,
            );
          }
          if (parityOf(x) !== bit) {
            // 1 µm towards the bed's origin, or away from it at the origin: stays on the bed.
            line = withWord(line, 'X', formatFixed(physical >= 1n ? x - 1n : x + 1n));
          }
        }
      } catch (error) {
        throw asAdaptError(error, false, event.number);
      }
      yield emit(line, event.number);
    }
  } finally {
    await events.return(undefined);
  }
  for (const line of end) yield emit(line);
}
