/*
 * A G-code line parser (issue 23): the one the print server counts an upload with, the adapter
 * rewrites a design with, the watermark reader aligns with and the virtual printer executes.
 *
 * Numbers never pass through floats: a word's value is kept as its decimal text and read as an
 * integer in fixed point (`fixedOf(raw, decimals)`): millimetres become integer micrometres
 * (`toMicrometres`), a feed rate or a temperature thousandths. Re-emitted numbers come from
 * those integers (`formatFixed`), so the same input always gives the same bytes.
 *
 * What a line is:
 * - comments: `;` to the end of the line, and `( ... )` (not nested) anywhere; an unclosed `(`
 *   is invalid;
 * - a standard line: words, each a letter and a number (`G1 X10.5 Y-3 F1800`, spaces between
 *   words optional: `G1X10`), the first G, M or T word the command (`G01` reads as `G1`,
 *   `M862.3` keeps its subcode); an optional leading `N<line>` and a trailing `*<checksum>` (the
 *   host protocol's frame) are read and set aside; a word may have no number (`G28 X`);
 * - a command that takes a string (`M117 Hello`, `M23 file.gco`, ...): the rest of the line is
 *   its text;
 * - an extended command (Klipper's `PRINT_START BED=60`, `SET_PRESSURE_ADVANCE ADVANCE=0.04`):
 *   a name of letters, digits and `_` whose second character is not part of a number; its
 *   parameters stay text.
 */

/** Why a line or a stream is not G-code this parser reads. */
export class GcodeParseError extends Error {
  constructor(
    readonly code: 'gcode_invalid' | 'gcode_unsupported' | 'line_too_long',
    message: string,
  ) {
    super(message);
    this.name = 'GcodeParseError';
  }
}

export interface GcodeWord {
  /** Upper case. */
  readonly letter: string;
  /** The number as written (`-1.50`, `.5`, `+3`, or a quoted string), or '' for a bare letter (`G28 X`). */
  readonly raw: string;
}

export interface GcodeLine {
  /** `G1`, `M104`, `T0`, `M862.3`, `PRINT_START`; undefined for an empty line (or words only). */
  readonly command: string | undefined;
  /** An extended (Klipper-style) command: its parameters are in `text`. */
  readonly extended: boolean;
  /** The parameters after the command (without N and the checksum), in their order. */
  readonly words: readonly GcodeWord[];
  /** The string argument of M117-like commands, or an extended command's parameters. */
  readonly text: string | undefined;
  /** The `N` the line carried, if any. */
  readonly lineNumber: number | undefined;
  /** The comment text (`;` part and parenthesised parts, joined by a space), trimmed. */
  readonly comment: string;
}

/** Commands whose argument is free text, not words (Marlin's SD and display commands). */
const stringCommands = new Set(['M23', 'M28', 'M30', 'M32', 'M117', 'M118', 'M928']);

const numberPattern = /^[+-]?(?:\d+\.?\d*|\.\d+)$/;
/**
 * A word: a letter, then a number, a quoted string (PrusaSlicer's `M862.3 P "MK3S"`: kept as
 * written, quotes included, and refused wherever a number is needed) or nothing.
 */
const wordPattern = /([A-Za-z])\s*([+-]?(?:\d+\.?\d*|\.\d+)|"[^"]*")?/y;
const extendedPattern = /^([A-Za-z_][A-Za-z0-9_]*)(?:\s+(.*))?$/s;

function invalid(message: string): never {
  throw new GcodeParseError('gcode_invalid', message);
}

/** Splits a line into its code (comments removed) and its comment text. */
export function stripComments(text: string): { code: string; comment: string } {
  let code = '';
  const comments: string[] = [];
  let index = 0;
  while (index < text.length) {
    const char = text[index]!;
    if (char === ';') {
      comments.push(text.slice(index + 1));
      break;
    }
    if (char === '(') {
      const close = text.indexOf(')', index + 1);
      if (close < 0) invalid('an unclosed "(" comment');
      comments.push(text.slice(index + 1, close));
      code += ' ';
      index = close + 1;
      continue;
    }
    code += char;
    index += 1;
  }
  return {
    code: code.trim(),
    comment: comments
      .map((c) => c.trim())
      .filter((c) => c !== '')
      .join(' '),
  };
}

/** Canonical command name: letter upper case, integer part without leading zeros (`G01` -> `G1`). */
function commandName(letter: string, raw: string): string {
  if (!/^\d+(?:\.\d+)?$/.test(raw)) invalid(`"${letter}${raw}" is not a command number`);
  const [whole, sub] = raw.split('.');
  const number = whole!.replace(/^0+(?=\d)/, '');
  return sub === undefined ? `${letter}${number}` : `${letter}${number}.${sub}`;
}

/** Parses one line (no line break). Throws GcodeParseError('gcode_invalid') naming what is wrong. */
export function parseGcodeLine(text: string): GcodeLine {
  if (/[\r\n]/.test(text.replace(/\r$/, ''))) invalid('a line holds a line break');
  const { code: withFrame, comment } = stripComments(text.replace(/\r$/, ''));
  let code = withFrame;
  // The host protocol's checksum: `*` and digits at the end.
  const star = code.indexOf('*');
  if (star >= 0) {
    if (!/^\*\d{1,3}$/.test(code.slice(star).trimEnd())) invalid('a "*" that is not a checksum');
    code = code.slice(0, star).trimEnd();
  }
  let lineNumber: number | undefined;
  const numbered = /^[Nn]\s*(\d{1,15})\s*/.exec(code);
  if (numbered) {
    lineNumber = Number(numbered[1]);
    code = code.slice(numbered[0].length);
  }
  if (code === '') {
    return { command: undefined, extended: false, words: [], text: undefined, lineNumber, comment };
  }
  // An extended command: a name whose second character cannot continue a number.
  if (/^[A-Za-z][A-Za-z_]/.test(code) || code.startsWith('_')) {
    const match = extendedPattern.exec(code);
    if (!match) invalid(`"${code.slice(0, 40)}" is not a command`);
    const params = match[2]?.trim();
    return {
      command: match[1]!.toUpperCase(),
      extended: true,
      words: [],
      text: params === '' ? undefined : params,
      lineNumber,
      comment,
    };
  }
  const words: GcodeWord[] = [];
  let command: string | undefined;
  let position = 0;
  while (position < code.length) {
    if (/\s/.test(code[position]!)) {
      position += 1;
      continue;
    }
    wordPattern.lastIndex = position;
    const match = wordPattern.exec(code);
    if (!match) invalid(`"${code.slice(position, position + 20)}" is not a word`);
    const letter = match[1]!.toUpperCase();
    const raw = match[2] ?? '';
    position = wordPattern.lastIndex;
    if (command === undefined && words.length === 0 && 'GMT'.includes(letter)) {
      command = commandName(letter, raw);
      if (stringCommands.has(command)) {
        const rest = code.slice(position).trim();
        return {
          command,
          extended: false,
          words: [],
          text: rest === '' ? undefined : rest,
          lineNumber,
          comment,
        };
      }
      continue;
    }
    if (letter === 'N' && command !== 'M110') invalid('a line number (N) after the first word');
    if (words.some((w) => w.letter === letter)) invalid(`the word ${letter} twice`);
    words.push({ letter, raw });
  }
  return { command, extended: false, words, text: undefined, lineNumber, comment };
}

/** The word with that letter, if the line has it. */
export function wordOf(line: GcodeLine, letter: string): GcodeWord | undefined {
  return line.words.find((w) => w.letter === letter);
}

/**
 * A decimal number as an integer scaled by 10^decimals, rounded half away from zero (`1.0005`
 * at 3 decimals is 1001; `-0.0005` is -1). No floats.
 */
export function fixedOf(raw: string, decimals: number, field = 'value'): bigint {
  if (!numberPattern.test(raw)) invalid(`${field}: "${raw}" is not a number`);
  const negative = raw.startsWith('-');
  const unsigned = raw.replace(/^[+-]/, '');
  const [whole = '', fraction = ''] = unsigned.split('.');
  const kept = fraction.slice(0, decimals).padEnd(decimals, '0');
  let magnitude = BigInt((whole === '' ? '0' : whole) + kept);
  const next = fraction.charCodeAt(decimals);
  if (next >= 53 /* '5' */ && next <= 57) magnitude += 1n;
  return negative ? -magnitude : magnitude;
}

/** Millimetres as written -> integer micrometres. */
export function toMicrometres(raw: string, field = 'value'): bigint {
  return fixedOf(raw, 3, field);
}

/** An integer scaled by 10^decimals as a decimal with exactly `decimals` places (`-1050n, 3` -> `-1.050`). */
export function formatFixed(value: bigint, decimals = 3): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals);
  return `${negative ? '-' : ''}${whole}${decimals > 0 ? `.${fraction}` : ''}`;
}

/** As formatFixed without trailing zeros (`1800000n` -> `1800`, `1500n` -> `1.5`). */
export function formatTrimmed(value: bigint, decimals = 3): string {
  const text = formatFixed(value, decimals);
  return decimals > 0 ? text.replace(/\.?0+$/, '') : text;
}

/** Signed division rounding half away from zero. */
export function divRound(value: bigint, divisor: bigint): bigint {
  const quotient = value / divisor;
  const remainder = value % divisor;
  const twice = (remainder < 0n ? -remainder : remainder) * 2n;
  if (twice >= (divisor < 0n ? -divisor : divisor)) {
    return value < 0n !== divisor < 0n ? quotient - 1n : quotient + 1n;
  }
  return quotient;
}

/** Letters whose numbers are lengths in millimetres in a G command: re-emitted with 3 decimals. */
export const lengthLetters = new Set(['X', 'Y', 'Z', 'E', 'I', 'J', 'K', 'R']);

/**
 * A line as the adapter emits it: the command, then its words re-emitted from integers (a G
 * command's lengths with 3 decimals, everything else trimmed: `M109 R210`), no comment, no N,
 * no checksum.
 */
export function formatLine(line: GcodeLine): string {
  if (line.command === undefined) return '';
  if (line.extended || stringCommands.has(line.command)) {
    return line.text === undefined ? line.command : `${line.command} ${line.text}`;
  }
  const parts = [line.command];
  for (const word of line.words) {
    if (word.raw === '' || word.raw.startsWith('"')) parts.push(word.letter + word.raw);
    else if (line.command.startsWith('G') && lengthLetters.has(word.letter))
      parts.push(word.letter + formatFixed(fixedOf(word.raw, 3, word.letter)));
    else parts.push(word.letter + formatTrimmed(fixedOf(word.raw, 3, word.letter)));
  }
  return parts.join(' ');
}

/** A copy of the line with one word set (replaced in place, or appended). */
export function withWord(line: GcodeLine, letter: string, raw: string): GcodeLine {
  const index = line.words.findIndex((w) => w.letter === letter);
  const words =
    index < 0
      ? [...line.words, { letter, raw }]
      : line.words.map((w, i) => (i === index ? { letter, raw } : w));
  return { ...line, words };
}

/** Lines longer than this (bytes, before the line break) are refused by `linesOf`. */
export const lineBytesMaxDefault = 4096;

/**
 * UTF-8 chunks (Buffers or strings, of any size) -> lines without their line breaks (`\n` or
 * `\r\n`). Streaming: holds at most one line. A final line without `\n` counts; an empty last
 * chunk after the last `\n` does not make an extra line. Throws GcodeParseError('line_too_long').
 */
export async function* linesOf(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: { lineBytesMax?: number } = {},
): AsyncGenerator<string> {
  const lineBytesMax = options.lineBytesMax ?? lineBytesMaxDefault;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let pending = '';
  let lineNumber = 0;
  const tooLong = () =>
    new GcodeParseError(
      'line_too_long',
      `line ${lineNumber + 1} is longer than ${lineBytesMax} bytes`,
    );
  const decode = (chunk: Uint8Array | string, stream: boolean): string => {
    try {
      return typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream });
    } catch {
      throw new GcodeParseError('gcode_invalid', `line ${lineNumber + 1} is not UTF-8`);
    }
  };
  for await (const chunk of chunks) {
    pending += decode(chunk, true);
    let start = 0;
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      const line = pending.slice(start, newline).replace(/\r$/, '');
      if (Buffer.byteLength(line) > lineBytesMax) throw tooLong();
      lineNumber += 1;
      yield line;
      start = newline + 1;
      newline = pending.indexOf('\n', start);
    }
    pending = pending.slice(start);
    // Characters, not bytes, but a UTF-8 character is at least one byte: a bound still.
    if (pending.length > lineBytesMax) throw tooLong();
  }
  pending += decode(new Uint8Array(0), false);
  if (pending !== '') {
    const line = pending.replace(/\r$/, '');
    if (Buffer.byteLength(line) > lineBytesMax) throw tooLong();
    yield line;
  }
}
