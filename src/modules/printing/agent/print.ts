import type { IncomingMessage } from 'node:http';

import { linesOf } from '../gcode/parse.js';
import { streamToPrinter, type PrinterPort } from '../gcode/streamer.js';
import { AgentError, type AgentDataDir, type LastPrint } from './data-dir.js';
import { requestJson, requestStream, type TlsOptions } from './http.js';

/*
 * A print (docs/printing.md, "Printing"): the agent redeems the token with the print server over
 * mTLS (its client certificate names the printer; the server checks the token is this printer's,
 * records `print.start` and answers the G-code adapted to this printer's profile and watermarked
 * for this print), and streams the answer to the printer as it prints: lines are pulled from the
 * socket only as the printer acknowledges them (Marlin's line numbers, checksums, `ok` and
 * `Resend:`, in the streamer), so the agent holds one socket chunk and the streamer's bounded
 * windows, never the file, and writes none of it anywhere. Progress goes to the server at each
 * 5 % step (the server records it on chain); the end is `finish`, or `fail` with the percent
 * reached and the reason (the chain's refund rule: the first failure re-issues the token, the
 * second refunds it).
 */

/** Longer than any G-code line a printer takes (Marlin's MAX_CMD_SIZE is 96). */
export const lineCharsMax = 256;
/** The server hears of progress at each step of this many percent (it records one per step). */
export const progressStepPercent = 5;
/** A failure's reason is at most this long on chain. */
const reasonCharsMax = 200;
/**
 * What a print that stopped for any reason but the printer's own is ended with: heaters off,
 * motors off (Marlin and Klipper both take these). A printer that failed is left alone: a halted
 * Marlin takes nothing until it is reset, and a silent one answers nothing.
 */
export const cooldownLines = ['M104 S0', 'M140 S0', 'M84'] as const;
const cooldownTimeoutMs = 5_000;
const printerFaults = new Set(['printer_error', 'printer_timeout', 'port_closed', 'port_error']);

export interface PrintOptions {
  tokenId: string;
  /** The printer's serial port, open (a SerialPort, or a test's duplex). */
  port: PrinterPort;
  /** Aborting stops the stream; the print is reported failed ("stopped on the SBC"). */
  signal?: AbortSignal;
  /** The streamer's bounds; defaults are Marlin's (4 lines in flight, 64 kept for resends). */
  sendWindow?: number;
  resendWindow?: number;
  /** No `ok` from the printer for this long fails the print. */
  printerTimeoutMs?: number;
  log?: (line: string) => void;
  /**
   * Sees the percent acknowledged as it grows (the CLI's progress bar), against the server's
   * announced line count (an upper bound), so at most 99 until the print finishes.
   */
  onPercent?: (percent: number, linesAcknowledged: number, linesDeclared: number) => void;
  now?: () => Date;
}

export interface PrintOutcome {
  tokenId: string;
  outcome: 'finished' | 'failed';
  linesSent: number;
  /** A finished print's line count; a failed one's, the server's announced upper bound. */
  linesTotal: number;
  resends: number;
  percent: number;
  error?: { code: string; message: string };
}

const tokenIdPattern = /^[0-9a-f]{64}$/;

/**
 * Why the agent does not forward a line, or undefined: the SD-card and file commands (M20-M39,
 * M928), the EEPROM ones (M500-M504), firmware and reset ones (M997, M999), and Klipper's
 * SDCARD_*, SAVE_*, RESTART and FIRMWARE_RESTART, the ones a profile may not hold either. A print
 * server (or a profile) that sends one could have the print written to the printer's card and
 * printed again, or the printer reconfigured: the print fails instead (defence in depth).
 */
export function forbiddenCommand(line: string): string | undefined {
  const code = line.split(';')[0]!.trim();
  if (code === '') return undefined;
  const first = code.split(/\s+/)[0]!.toUpperCase();
  const m = /^M0*(\d+)(?:\.\d+)?$/.exec(first);
  if (m) {
    const n = Number(m[1]);
    if ((n >= 20 && n <= 39) || n === 928 || (n >= 500 && n <= 504) || n === 997 || n === 999) {
      return `M${n}`;
    }
    return undefined;
  }
  if (/^(?:SDCARD_|SAVE_|RESTART$|FIRMWARE_RESTART$)/.test(first)) return first;
  return undefined;
}

/**
 * Sends progress to the server one request at a time, the newest step winning: a slow server
 * never holds the stream back, and never gets more than one request per step.
 */
class ProgressReporter {
  private reported = 0;
  private wanted = 0;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly send: (percent: number) => Promise<void>,
    private readonly log: (line: string) => void,
  ) {}

  update(percent: number): void {
    const step = Math.floor(percent / progressStepPercent) * progressStepPercent;
    // 100 % is the finish, not a progress report.
    if (step <= this.wanted || step >= 100) return;
    this.wanted = step;
    this.pump();
  }

  private pump(): void {
    if (this.inFlight !== undefined || this.wanted <= this.reported) return;
    const percent = this.wanted;
    this.inFlight = this.send(percent)
      .catch((error: unknown) =>
        this.log(`progress ${percent}% not recorded: ${(error as Error).message}`),
      )
      .finally(() => {
        this.reported = Math.max(this.reported, percent);
        this.inFlight = undefined;
        this.pump();
      });
  }

  async drain(): Promise<void> {
    while (this.inFlight !== undefined) await this.inFlight;
  }
}

function errorOf(error: unknown): { code: string; message: string } {
  // The source's own failure (the server's stream cut, a line too long) says more than the
  // streamer's `source_failed` around it.
  const cause = (error as { code?: unknown; cause?: unknown }).cause;
  if ((error as { code?: unknown }).code === 'source_failed' && cause instanceof Error) {
    return errorOf(cause);
  }
  const code =
    typeof (error as { code?: unknown }).code === 'string'
      ? (error as { code: string }).code
      : 'print_failed';
  return { code, message: error instanceof Error ? error.message : String(error) };
}

/** Redeems `tokenId` and streams its print to the printer; reports progress and the end. */
export async function printToken(dir: AgentDataDir, options: PrintOptions): Promise<PrintOutcome> {
  const { tokenId } = options;
  if (!tokenIdPattern.test(tokenId)) {
    throw new AgentError('invalid_token_id', 'a token id is the buy tx hash: 64 hex digits');
  }
  const log = options.log ?? (() => undefined);
  const now = options.now ?? (() => new Date());
  const registration = dir.registration();
  const tls: TlsOptions = dir.tlsCredentials();
  const base = `${registration.printsUrl}/v1/printing/prints`;
  const report = (suffix: string, body: unknown) =>
    requestJson<unknown>(`${base}/${tokenId}/${suffix}`, { method: 'POST', body, tls });

  const startedAt = now().toISOString();
  let response: IncomingMessage;
  try {
    response = await requestStream(base, { body: { tokenId }, tls });
  } catch (error) {
    dir.writeLastPrint({
      tokenId,
      outcome: 'refused',
      linesSent: 0,
      linesTotal: 0,
      resends: 0,
      percent: 0,
      startedAt,
      endedAt: now().toISOString(),
      error: errorOf(error),
    });
    throw error;
  }
  // The printer may sit heating for minutes with the socket idle: no idle timeout from here on
  // (the streamer's own timeout notices a printer that stopped answering).
  response.socket.setTimeout(0);
  // An upper bound: the server knows the adapted count only at the end (its trailer says it).
  const linesDeclared = Number(response.headers['x-coffer-print-lines']);
  if (!Number.isSafeInteger(linesDeclared) || linesDeclared <= 0) {
    response.destroy();
    throw new AgentError('unexpected_answer', 'the print answer has no x-coffer-print-lines');
  }
  log(`printing ${tokenId}: at most ${linesDeclared} lines`);

  let acknowledged = 0;
  let received = 0;
  // 100 % is the finish: until the printer took the last line, at most 99.
  const percentNow = () => Math.min(99, Math.floor((acknowledged * 100) / linesDeclared));
  const progress = new ProgressReporter((percent) => report('progress', { percent }).then(), log);
  const record = (last: Omit<LastPrint, 'tokenId' | 'startedAt'>) =>
    dir.writeLastPrint({ tokenId, startedAt, ...last });
  record({ outcome: 'printing', linesSent: 0, linesTotal: linesDeclared, resends: 0, percent: 0 });

  /** The answer's chunks; a connection that breaks before the body's end is a cut stream. */
  async function* chunks(): AsyncGenerator<Buffer, void, undefined> {
    try {
      for await (const chunk of response as AsyncIterable<Buffer>) yield chunk;
    } catch (error) {
      throw new AgentError(
        'stream_cut',
        `the server's stream broke after ${received} lines: ${(error as Error).message}`,
      );
    }
    if (!response.complete) {
      throw new AgentError('stream_cut', `the server's stream ended after ${received} lines`);
    }
  }

  /** The lines, counted; at the end, the count is checked against the server's trailer. */
  async function* counted(): AsyncGenerator<string, void, undefined> {
    for await (const line of linesOf(chunks(), { lineBytesMax: lineCharsMax })) {
      received++;
      const forbidden = forbiddenCommand(line);
      if (forbidden !== undefined) {
        throw new AgentError(
          'forbidden_command',
          `line ${received} is ${forbidden} (an SD-card, file, EEPROM or firmware command): not sent to the printer`,
        );
      }
      if (received > linesDeclared) {
        throw new AgentError(
          'unexpected_answer',
          `the server sent more than the ${linesDeclared} lines it announced`,
        );
      }
      yield line;
    }
    const trailer = response.trailers['x-coffer-print-lines-sent'];
    if (trailer !== undefined && Number(trailer) !== received) {
      throw new AgentError(
        'stream_incomplete',
        `the server sent ${trailer} lines and ${received} arrived`,
      );
    }
  }

  try {
    const result = await streamToPrinter(counted(), options.port, {
      ...(options.sendWindow !== undefined ? { sendWindow: options.sendWindow } : {}),
      ...(options.resendWindow !== undefined ? { resendWindow: options.resendWindow } : {}),
      ...(options.printerTimeoutMs !== undefined ? { timeoutMs: options.printerTimeoutMs } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      onProgress: ({ linesAcknowledged }) => {
        acknowledged = linesAcknowledged;
        const percent = percentNow();
        options.onPercent?.(percent, acknowledged, linesDeclared);
        progress.update(percent);
      },
    });
    await progress.drain();
    await report('finish', {});
    options.onPercent?.(100, result.linesSent, received);
    const outcome: PrintOutcome = {
      tokenId,
      outcome: 'finished',
      linesSent: result.linesSent,
      linesTotal: received,
      resends: result.resends,
      percent: 100,
    };
    record({ ...outcome, endedAt: now().toISOString() });
    log(`finished ${tokenId}: ${result.linesSent} lines, ${result.resends} resent`);
    return outcome;
  } catch (error) {
    response.destroy();
    await progress.drain();
    const problem = errorOf(error);
    if (options.signal?.aborted) {
      problem.code = 'aborted';
      problem.message = 'stopped on the SBC';
    }
    const percent = percentNow();
    // A printer that still answers is left hot and holding its motors: it is cooled first.
    if (!printerFaults.has(problem.code)) {
      await streamToPrinter(cooldownLines, options.port, { timeoutMs: cooldownTimeoutMs }).catch(
        (cooldownError: unknown) =>
          log(`the printer was not cooled down: ${(cooldownError as Error).message}`),
      );
    }
    const reason = `${problem.code}: ${problem.message}`.slice(0, reasonCharsMax);
    await report('fail', { percent, reason }).catch((reportError: unknown) =>
      log(`the failure was not recorded: ${(reportError as Error).message}`),
    );
    const outcome: PrintOutcome = {
      tokenId,
      outcome: 'failed',
      linesSent: acknowledged,
      linesTotal: linesDeclared,
      resends: 0,
      percent,
      error: problem,
    };
    record({ ...outcome, endedAt: now().toISOString() });
    log(`failed ${tokenId} at ${percent}%: ${reason}`);
    return outcome;
  }
}
