/*
 * The Marlin host protocol (issue 23), as a host (the print agent) speaks it over a serial line
 * and as the virtual printer answers it:
 * - each line is framed `N<n> <command>*<checksum>`: n counts up by one from the last `M110 N<m>`
 *   (which resets the count: `N0 M110 N0`), the checksum is the XOR of every byte before `*`;
 * - the printer answers each line with `ok` (possibly carrying more: `ok T:210 /210 B:60 /60`), and
 *   a line it refuses with `Error:<why>, Last Line: <n>`, `Resend: <n+1>` and `ok` — so exactly
 *   one `ok` per line sent, which is how the host knows how many lines are in flight;
 * - other lines it may send at any time: `echo:busy: processing` (still working: wait),
 *   temperature reports ` T:209.8 /210.0 B:60.1 /60.0 @:0 B@:0`, `echo:...`, `start` (booted).
 * Klipper's serial G-code port accepts the same frames (it ignores N and the checksum) and
 * answers `ok`; its errors start with `!!`.
 */

export class FrameError extends Error {
  readonly code = 'frame_invalid';
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

/** The XOR of the text's bytes (ASCII). */
export function checksumOf(text: string): number {
  let sum = 0;
  for (let index = 0; index < text.length; index += 1) sum ^= text.charCodeAt(index) & 0xff;
  return sum;
}

/** `N<n> <command>*<checksum>` (no line break). The command: printable ASCII, no `*`. */
export function frameLine(n: number, command: string): string {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new FrameError(`line number ${n}: not a whole number`);
  if (!/^[\x20-\x29\x2b-\x7e]+$/.test(command) || command.trim() === '') {
    throw new FrameError(
      `line ${n}: a command must be printable ASCII without "*" or a line break, and not empty`,
    );
  }
  const body = `N${n} ${command}`;
  return `${body}*${checksumOf(body)}`;
}

/** A frame read back: the line number, the command and whether its checksum is right. */
export interface Frame {
  readonly n: number;
  readonly command: string;
  readonly checksumValid: boolean;
}

/** Reads `N<n> <command>*<checksum>`; undefined when the text is not numbered or has no checksum. */
export function readFrame(text: string): Frame | undefined {
  const match = /^N(\d{1,15}) ?(.*)\*(\d{1,3})$/s.exec(text);
  if (!match) return undefined;
  const star = text.lastIndexOf('*');
  return {
    n: Number(match[1]),
    command: match[2]!.trim(),
    checksumValid: checksumOf(text.slice(0, star)) === Number(match[3]),
  };
}

export interface TemperatureReading {
  /** `T`, `T0`, `B`, `C` (chamber) ... */
  readonly sensor: string;
  /** Whole °C, rounded. */
  readonly currentC: number;
  readonly targetC: number;
}

export type PrinterReply =
  | { readonly kind: 'ok'; readonly text: string; readonly temperatures: TemperatureReading[] }
  | { readonly kind: 'resend'; readonly line: number }
  | { readonly kind: 'error'; readonly message: string; readonly recoverable: boolean }
  | { readonly kind: 'temperature'; readonly temperatures: TemperatureReading[] }
  | { readonly kind: 'busy'; readonly text: string }
  | { readonly kind: 'start' }
  | { readonly kind: 'echo'; readonly message: string }
  | { readonly kind: 'other'; readonly text: string };

/** Errors after which the printer asks for a resend: the line was damaged, not the printer. */
const recoverableError =
  /checksum|line number|no checksum|no line number|format error|expected line|last line/i;

function wholeDegrees(text: string): number {
  // Decimal text -> whole °C, half away from zero, no float maths on the value.
  const match = /^(-?)(\d+)(?:\.(\d))?/.exec(text);
  if (!match) return 0;
  let value = Number(match[2]) + (Number(match[3] ?? '0') >= 5 ? 1 : 0);
  if (match[1] === '-') value = -value;
  return value;
}

/** The `T:209.8 /210.0 B:60.1 /60.0` readings of a report or an `ok`. */
export function parseTemperatures(text: string): TemperatureReading[] {
  const out: TemperatureReading[] = [];
  const pattern = /(?:^|\s)([TBC]\d?):\s*(-?\d+(?:\.\d+)?)\s*\/\s*(-?\d+(?:\.\d+)?)/g;
  for (const match of text.matchAll(pattern)) {
    out.push({
      sensor: match[1]!,
      currentC: wholeDegrees(match[2]!),
      targetC: wholeDegrees(match[3]!),
    });
  }
  return out;
}

/** One line a printer sent (no line break). */
export function parseReply(line: string): PrinterReply {
  const text = line.replace(/\r$/, '').trim();
  if (/^ok\b/i.test(text)) return { kind: 'ok', text, temperatures: parseTemperatures(text) };
  const resend = /^(?:resend|rs)\s*:?\s*N?(\d{1,15})/i.exec(text);
  if (resend) return { kind: 'resend', line: Number(resend[1]) };
  const error = /^(?:error\s*:|!!)\s*(.*)$/is.exec(text);
  if (error) {
    const message = error[1]!.trim();
    return { kind: 'error', message, recoverable: recoverableError.test(message) };
  }
  if (/^echo\s*:\s*busy/i.test(text)) return { kind: 'busy', text };
  if (/^T\d?:/.test(text)) return { kind: 'temperature', temperatures: parseTemperatures(text) };
  if (/^start$/i.test(text)) return { kind: 'start' };
  const echo = /^echo\s*:\s*(.*)$/is.exec(text);
  if (echo) return { kind: 'echo', message: echo[1]!.trim() };
  return { kind: 'other', text };
}

/** The line that resets the count: `N0 M110 N0*125`. */
export const resetLine = frameLine(0, 'M110 N0');
