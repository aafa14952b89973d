import { frameLine, parseReply, resetLine } from './marlin.js';

/*
 * streamToPrinter (issue 23): G-code lines -> a printer's serial port, with the Marlin host
 * protocol (marlin.ts). Used by the print agent; memory stays bounded whatever the print's size:
 *
 * - at most `sendWindow` lines in flight (default 4: Marlin's BUFSIZE, the command queue): a new
 *   line is pulled from the source only when the printer's `ok` frees a place, so a lazy source
 *   (the print server's HTTP stream) is read as fast as the printer prints, no faster;
 * - the last `resendWindow` framed lines (default 64) kept for `Resend:`; a resend of a line
 *   older than that fails the print (`resend_out_of_window`) — with 4 in flight it cannot happen
 *   with a printer that follows the protocol;
 * - a refused line (`Error:` + `Resend: n` + `ok`) rewinds to n. The lines that were in flight
 *   after it are refused too (their number is not the expected one), each with its own
 *   `Resend: n`: those requests are stale (they belong to lines sent before the rewind: each
 *   line in flight carries the rewind count it was sent under) and are ignored;
 * - before the first line: `N0 M110 N0` (reset the line count), retried up to
 *   `handshakeAttempts` times `handshakeTimeoutMs` apart (a board that resets when its port opens
 *   drops what comes while it boots). An `ok` with nothing in flight is ignored (a late answer
 *   to an earlier attempt);
 * - any byte from the printer (an `ok`, `echo:busy`, a temperature report while M109 heats)
 *   restarts the timeout; `timeoutMs` (default 30 s) of silence with lines in flight fails
 *   (`printer_timeout`), and so do an error the printer cannot recover from (`printer_error`,
 *   e.g. `Error:Printer halted`), the port closing or failing, the signal aborting, and the
 *   source failing (`source_failed`: the error is the `cause`).
 * Empty lines are skipped; lines should be comment-free (adaptGcode's output).
 */

/** A duplex byte port: a serialport `SerialPort`, a net.Socket, a test double. */
export interface PrinterPort {
  write(data: string, callback?: (error?: Error | null) => void): unknown;
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  removeListener(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  removeListener(event: 'error', listener: (error: Error) => void): unknown;
  removeListener(event: 'close', listener: () => void): unknown;
}

export type StreamErrorCode =
  | 'printer_timeout'
  | 'printer_error'
  | 'resend_out_of_window'
  | 'port_closed'
  | 'port_error'
  | 'aborted'
  | 'source_failed'
  | 'line_invalid';

export class StreamError extends Error {
  constructor(
    readonly code: StreamErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StreamError';
  }
}

export interface StreamProgress {
  /** Source lines the printer accepted (in order: all lines up to this one). */
  linesAcknowledged: number;
  resends: number;
}

export interface StreamOptions {
  /** Lines in flight at most (Marlin's BUFSIZE is 4). */
  sendWindow?: number;
  /** Framed lines kept for resends. */
  resendWindow?: number;
  /** Silence from the printer with lines in flight that fails the print. */
  timeoutMs?: number;
  handshakeAttempts?: number;
  handshakeTimeoutMs?: number;
  onProgress?: (progress: StreamProgress) => void;
  /** Every non-`ok` line the printer sends (temperature reports, echo, errors). */
  onReply?: (line: string) => void;
  signal?: AbortSignal;
}

export interface StreamResult {
  /** Source lines the printer accepted (empty lines skipped are not counted). */
  linesSent: number;
  /** Rewinds after a refused line. */
  resends: number;
  /** Errors the printer reported and recovered from (refused lines). */
  errors: number;
  /** Frames written, the handshake and the re-sent ones included. */
  framesWritten: number;
  bytesWritten: number;
  elapsedMs: number;
}

/** A reply line longer than this is cut: a printer that sends no line breaks cannot grow memory. */
const replyBytesMax = 1024;
/** The most lines in flight a caller may ask for (Marlin's largest BUFSIZE settings). */
export const sendWindowMax = 64;
export const resendWindowMax = 4096;

interface InFlight {
  readonly n: number;
  /** The rewind count when it was sent: a resend request of an older epoch is stale. */
  readonly epoch: number;
  refused: boolean;
}

function positive(value: number | undefined, fallback: number, name: string, max: number): number {
  const result = value ?? fallback;
  if (!Number.isSafeInteger(result) || result < 1 || result > max) {
    throw new RangeError(`${name}: must be a whole number from 1 to ${max}, not ${value}`);
  }
  return result;
}

/** Streams the lines to the printer on `port`; resolves when the last one is acknowledged. */
export async function streamToPrinter(
  lines: AsyncIterable<string> | Iterable<string>,
  port: PrinterPort,
  options: StreamOptions = {},
): Promise<StreamResult> {
  const sendWindow = positive(options.sendWindow, 4, 'sendWindow', sendWindowMax);
  const resendWindow = positive(options.resendWindow, 64, 'resendWindow', resendWindowMax);
  if (resendWindow < sendWindow) throw new RangeError('resendWindow: must be at least sendWindow');
  const timeoutMs = positive(options.timeoutMs, 30_000, 'timeoutMs', 86_400_000);
  const handshakeAttempts = positive(options.handshakeAttempts, 5, 'handshakeAttempts', 100);
  const handshakeTimeoutMs = positive(
    options.handshakeTimeoutMs,
    2_000,
    'handshakeTimeoutMs',
    600_000,
  );
  const started = performance.now();

  /** Framed lines `windowFirst` .. `nextLine - 1`, oldest first. */
  const window: string[] = [];
  let windowFirst = 1;
  let nextLine = 1;
  let sendCursor = 1;
  let epoch = 0;
  let acknowledged = 0;
  const inFlight: InFlight[] = [];
  let handshake: { ok: boolean; refused: boolean } | undefined;

  const result: StreamResult = {
    linesSent: 0,
    resends: 0,
    errors: 0,
    framesWritten: 0,
    bytesWritten: 0,
    elapsedMs: 0,
  };
  let failure: StreamError | undefined;
  /** The failure a reply or an event recorded (a function: TypeScript cannot see callbacks set it). */
  const failed = (): StreamError | undefined => failure;
  const throwIfFailed = () => {
    const error = failed();
    if (error) throw error;
  };
  let wake: (() => void) | undefined;
  let heard = 0; // bumps on every chunk from the printer
  let partial = '';

  const signalWake = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const fail = (error: StreamError) => {
    failure ??= error;
    signalWake();
  };

  const write = (frame: string) => {
    const data = `${frame}\n`;
    result.framesWritten += 1;
    result.bytesWritten += Buffer.byteLength(data);
    port.write(data, (error) => {
      if (error) fail(new StreamError('port_error', `writing to the printer: ${error.message}`));
    });
  };

  const onLine = (line: string) => {
    if (line.trim() === '') return;
    const reply = parseReply(line);
    if (reply.kind !== 'ok') options.onReply?.(line);
    switch (reply.kind) {
      case 'ok': {
        if (handshake !== undefined) {
          handshake.ok = !handshake.refused;
          handshake.refused = false;
          signalWake();
          return;
        }
        const head = inFlight.shift();
        if (head === undefined) return; // a late answer to a handshake attempt
        if (!head.refused && head.n > acknowledged) {
          acknowledged = head.n;
          result.linesSent = acknowledged;
          options.onProgress?.({ linesAcknowledged: acknowledged, resends: result.resends });
        }
        signalWake();
        return;
      }
      case 'error':
        if (!reply.recoverable) {
          fail(new StreamError('printer_error', `the printer reported: ${reply.message}`));
          return;
        }
        result.errors += 1;
        return;
      case 'resend': {
        if (handshake !== undefined) {
          handshake.refused = true;
          return;
        }
        const head = inFlight[0];
        if (head === undefined) return;
        head.refused = true;
        if (head.epoch !== epoch) return; // stale: sent before the last rewind
        if (reply.line < windowFirst || reply.line > nextLine) {
          fail(
            new StreamError(
              'resend_out_of_window',
              `the printer asked to resend line ${reply.line}; lines ${windowFirst} to ${nextLine - 1} are kept`,
            ),
          );
          return;
        }
        epoch += 1;
        result.resends += 1;
        // The lines in flight after it are refused too, each with its own (stale) request.
        sendCursor = reply.line;
        return;
      }
      default:
        return;
    }
  };

  const onData = (chunk: Buffer | string) => {
    heard += 1;
    partial += typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    let newline = partial.indexOf('\n');
    while (newline >= 0) {
      onLine(partial.slice(0, newline));
      partial = partial.slice(newline + 1);
      newline = partial.indexOf('\n');
    }
    if (partial.length > replyBytesMax) partial = partial.slice(-replyBytesMax);
    signalWake(); // any byte restarts the timeout
  };
  const onError = (error: Error) =>
    fail(new StreamError('port_error', `the printer's port failed: ${error.message}`));
  const onClose = () => fail(new StreamError('port_closed', "the printer's port closed"));
  const onAbort = () => fail(new StreamError('aborted', 'the print was aborted'));

  /** Waits until something happens (a reply, a failure) or `ms` pass with no byte heard. */
  const waitEvent = (ms: number): Promise<'event' | 'timeout'> =>
    new Promise((resolve) => {
      const before = heard;
      const timer = setTimeout(() => {
        wake = undefined;
        resolve(heard === before ? 'timeout' : 'event');
      }, ms);
      wake = () => {
        clearTimeout(timer);
        resolve('event');
      };
    });

  port.on('data', onData);
  port.on('error', onError);
  port.on('close', onClose);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  const source =
    Symbol.asyncIterator in lines ? lines[Symbol.asyncIterator]() : lines[Symbol.iterator]();
  let sourceDone = false;

  try {
    // The handshake: reset the line count.
    for (let attempt = 1; ; attempt += 1) {
      throwIfFailed();
      handshake = { ok: false, refused: false };
      write(resetLine);
      const deadline = performance.now() + handshakeTimeoutMs;
      while (!handshake.ok && !failed() && performance.now() < deadline) {
        await waitEvent(Math.max(1, Math.ceil(deadline - performance.now())));
      }
      throwIfFailed();
      if (handshake.ok) break;
      if (attempt >= handshakeAttempts) {
        throw new StreamError(
          'printer_timeout',
          `the printer did not acknowledge the line reset (M110) after ${attempt} attempts ${handshakeTimeoutMs} ms apart: is it on, and is the baud rate right?`,
        );
      }
    }
    handshake = undefined;

    for (;;) {
      throwIfFailed();
      // Fill the window: first what a rewind asks again, then new lines.
      while (inFlight.length < sendWindow && !failed()) {
        if (sendCursor < nextLine) {
          write(window[sendCursor - windowFirst]!);
          inFlight.push({ n: sendCursor, epoch, refused: false });
          sendCursor += 1;
          continue;
        }
        if (sourceDone) break;
        let next: IteratorResult<string>;
        try {
          next = await source.next();
        } catch (error) {
          throw new StreamError(
            'source_failed',
            `the G-code source failed: ${(error as Error).message}`,
            { cause: error },
          );
        }
        throwIfFailed();
        if (next.done === true) {
          sourceDone = true;
          break;
        }
        const command = next.value.trim();
        if (command === '') continue;
        let framed: string;
        try {
          framed = frameLine(nextLine, command);
        } catch (error) {
          throw new StreamError('line_invalid', (error as Error).message, { cause: error });
        }
        window.push(framed);
        if (window.length > resendWindow) {
          window.shift();
          windowFirst += 1;
        }
        nextLine += 1;
        // A rewind may have happened while the source was read: send in order.
        if (sendCursor === nextLine - 1) {
          write(framed);
          inFlight.push({ n: sendCursor, epoch, refused: false });
          sendCursor += 1;
        }
      }
      throwIfFailed();
      if (sourceDone && inFlight.length === 0 && sendCursor === nextLine) break;
      if ((await waitEvent(timeoutMs)) === 'timeout') {
        throw new StreamError(
          'printer_timeout',
          `the printer answered nothing for ${timeoutMs} ms with ${inFlight.length} line(s) in flight (last sent: line ${sendCursor - 1}, acknowledged: line ${acknowledged})`,
        );
      }
    }
    result.elapsedMs = Math.round(performance.now() - started);
    return result;
  } finally {
    port.removeListener('data', onData);
    port.removeListener('error', onError);
    port.removeListener('close', onClose);
    options.signal?.removeEventListener('abort', onAbort);
    if (!sourceDone) {
      try {
        await source.return?.(undefined);
      } catch {
        // the source's own cleanup failed: the print's failure is the error to report
      }
    }
  }
}
