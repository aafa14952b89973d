import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SerialPort } from 'serialport';
import { readFrame } from './marlin.js';
import { fixedOf, GcodeParseError, parseGcodeLine, wordOf, type GcodeLine } from './parse.js';
import { offBed, Toolpath, type BedSize } from './toolpath.js';

/*
 * A virtual Marlin printer on a pseudo-terminal (issue 23), for tests, the bench and demos: the
 * agent opens `path` with serialport exactly as it opens a real printer's USB serial port.
 *
 * `socat -d -d pty,raw,echo=0,link=<dir>/printer pty,raw,echo=0,link=<dir>/emulator` makes two
 * connected pseudo-terminals; this process opens the emulator end with serialport and answers
 * what arrives as Marlin 2 does:
 * - a numbered line `N<n> <command>*<checksum>` is checked: a checksum mismatch
 *   (`Error:checksum mismatch, Last Line: <last>`), a number other than last + 1 (`Error:Line
 *   Number is not Last Line Number+1, Last Line: <last>`; M110 lines are exempt, as in Marlin),
 *   a missing checksum (`Error:No Checksum with line number, Last Line: <last>`) are each answered
 *   with `Resend: <last + 1>` and `ok`; a good line is executed and answered `ok`; an unnumbered
 *   line without `*` is executed as is;
 * - noise: with `noise: {every: k, seed}`, each numbered line (M110 lines aside) is corrupted on
 *   arrival with probability 1/k, decided by a PRNG (mulberry32) from the seed: one byte before
 *   its `*` gets a bit flipped, so its checksum fails and the host must resend it. The same seed
 *   and the same traffic corrupt the same lines;
 * - it executes: M110 N (line count), temperatures (M104/M109 hotend, M140/M190 bed: targets;
 *   M109/M190 answer a ` T:` report before `ok`, after `heatMs`, with `echo:busy: processing`
 *   every `busyIntervalMs` meanwhile; M105 answers `ok T:<c> /<t> B:<c> /<t> @:0 B@:0`), the
 *   position (G0/G1/G2/G3, G28, G90/G91, M82/M83, G92: toolpath.ts) and flags every move that
 *   leaves the bed (`offBedMoves`); anything else is `echo:Unknown command: "<cmd>"` and `ok`
 *   for commands it does not know (macros too), or just `ok` for ones it accepts and ignores.
 * `stats()` counts it all; `digest` is the SHA-256 of the executed commands (M110 aside), each
 * followed by a line break, so a test compares it with what it meant to send.
 */

export interface VirtualPrinterOptions {
  /** The bed (µm): moves beyond it are counted in `offBedMoves`. */
  bed: BedSize;
  noise?: { every?: number; seed?: number };
  /** The printer end's path (default `<dir>/printer`). */
  link?: string;
  /** Where the links live (default: a new temporary directory, removed by close()). */
  dir?: string;
  /** How long M109/M190 take (default 0). */
  heatMs?: number;
  busyIntervalMs?: number;
  socatPath?: string;
  /**
   * Fail as a printer whose heater runs away: after executing this many commands (M110 aside)
   * it answers `Error:Thermal Runaway, system stopped! Heater_ID: 0` and `Error:Printer halted.
   * kill() called!`, and then nothing (no `ok`), as Marlin's kill() does.
   */
  failAfter?: number;
}

export interface VirtualPrinterStats {
  framesReceived: number;
  /** Commands executed (M110 included). */
  linesAccepted: number;
  checksumErrors: number;
  lineNumberErrors: number;
  missingChecksumErrors: number;
  resendsRequested: number;
  noiseInjected: number;
  unknownCommands: number;
  offBedMoves: number;
  firstOffBed: string | undefined;
  lastLine: number;
  /** Physical position, µm. */
  position: { x: number; y: number; z: number };
  extruderUm: number;
  hotend: { currentC: number; targetC: number };
  bed: { currentC: number; targetC: number };
  /** SHA-256 hex of the executed commands (M110 aside), each followed by '\n'. */
  digest: string;
  /** The digest's commands. */
  commands: number;
  /** Whether `failAfter` halted it. */
  halted: boolean;
}

export interface VirtualPrinter {
  /** The path to open as the printer's serial port. */
  readonly path: string;
  stats(): VirtualPrinterStats;
  /** Called with each executed command (M110 aside); answers a function that unsubscribes. */
  onCommand(listener: (command: string) => void): () => void;
  close(): Promise<void>;
}

/** Commands Marlin accepts that change nothing the emulator tracks. */
const accepted = new Set([
  ...['G4', 'G10', 'G11', 'G17', 'G21', 'G29', 'M73', 'M84', 'M18', 'M106', 'M107', 'M115'],
  ...['M117', 'M201', 'M203', 'M204', 'M205', 'M220', 'M221', 'M400', 'M420', 'M900', 'T0'],
]);
/** Received lines waiting for execution at most (Marlin's serial buffer and queue). */
const queueMax = 256;
const lineBytesMax = 1024;
const socatReadyTimeoutMs = 10_000;

/** mulberry32: deterministic noise from a seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

function waitForSocat(child: ChildProcess, links: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      finish(
        new Error(`socat did not start within ${socatReadyTimeoutMs} ms: ${output.slice(-500)}`),
      );
    }, socatReadyTimeoutMs);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      child.stderr?.removeListener('data', onData);
      child.removeListener('exit', onExit);
      child.removeListener('error', onError);
      if (error) reject(error);
      else resolve();
    };
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4096);
      if (output.includes('starting data transfer loop') && links.every((l) => fs.existsSync(l)))
        finish();
    };
    const onExit = (code: number | null) =>
      finish(new Error(`socat exited (${code}) before it was ready: ${output.slice(-500)}`));
    const onError = (error: Error) => finish(new Error(`socat: ${error.message}`));
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

function fixedDegrees(value: number): string {
  return `${value}.00`;
}

export interface PtyPair {
  /** The end a host opens (the printer's port). */
  readonly printerPath: string;
  /** The other end (the printer's side). */
  readonly emulatorPath: string;
  /** Kills socat and removes the links (and the directory it made). */
  close(): Promise<void>;
}

/**
 * Two connected pseudo-terminals by socat (raw, no echo), linked at `link` (default
 * `<dir>/printer`) and `<dir>/<name>.emulator`. The virtual printer answers on the second; a
 * test may drive it by hand.
 */
export async function startPtyPair(
  options: { link?: string; dir?: string; socatPath?: string } = {},
): Promise<PtyPair> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-printer-'));
  const printerPath = path.resolve(options.link ?? path.join(dir, 'printer'));
  const emulatorPath = path.join(dir, `${path.basename(printerPath)}.emulator`);
  for (const link of [printerPath, emulatorPath]) fs.rmSync(link, { force: true });
  const socat = spawn(
    options.socatPath ?? 'socat',
    ['-d', '-d', `pty,raw,echo=0,link=${printerPath}`, `pty,raw,echo=0,link=${emulatorPath}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => {
    if (socat.exitCode !== null) resolve();
    socat.once('exit', () => resolve());
    socat.once('error', () => resolve());
  });
  const removeAll = () => {
    if (ownDir) fs.rmSync(dir, { recursive: true, force: true });
    else for (const link of [printerPath, emulatorPath]) fs.rmSync(link, { force: true });
  };
  try {
    await waitForSocat(socat, [printerPath, emulatorPath]);
  } catch (error) {
    socat.kill('SIGTERM');
    await exited;
    removeAll();
    throw error;
  }
  socat.stderr?.resume(); // keep draining socat's log
  let closed = false;
  return {
    printerPath,
    emulatorPath,
    async close() {
      if (closed) return;
      closed = true;
      socat.kill('SIGTERM');
      await exited;
      removeAll();
    },
  };
}

/** Opens a serial port (a pty end) at 115200 baud. */
export async function openSerialPort(portPath: string): Promise<SerialPort> {
  const port = new SerialPort({ path: portPath, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) =>
    port.open((error) => (error ? reject(error) : resolve())),
  );
  return port;
}

/** Starts a virtual printer; close() it when done. */
export async function startVirtualPrinter(options: VirtualPrinterOptions): Promise<VirtualPrinter> {
  const every = options.noise?.every;
  if (every !== undefined && (!Number.isSafeInteger(every) || every < 1))
    throw new RangeError(`noise.every: must be a whole number of at least 1, not ${every}`);
  const random = prng(options.noise?.seed ?? 1);
  const heatMs = options.heatMs ?? 0;
  const busyIntervalMs = options.busyIntervalMs ?? 1000;
  const pair = await startPtyPair(options);
  let port: SerialPort;
  try {
    port = await openSerialPort(pair.emulatorPath);
  } catch (error) {
    await pair.close();
    throw error;
  }

  const toolpath = new Toolpath();
  const hash = crypto.createHash('sha256');
  const listeners = new Set<(command: string) => void>();
  const state = {
    framesReceived: 0,
    linesAccepted: 0,
    checksumErrors: 0,
    lineNumberErrors: 0,
    missingChecksumErrors: 0,
    resendsRequested: 0,
    noiseInjected: 0,
    unknownCommands: 0,
    offBedMoves: 0,
    firstOffBed: undefined as string | undefined,
    lastLine: 0,
    hotend: { currentC: 20, targetC: 0 },
    bed: { currentC: 20, targetC: 0 },
    commands: 0,
    halted: false,
  };
  let closed = false;
  const queue: string[] = [];
  let partial = '';
  let working = false;
  const timers = new Set<NodeJS.Timeout>();

  const send = (text: string) => {
    if (!closed) port.write(`${text}\n`);
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });
  const report = () =>
    `T:${fixedDegrees(state.hotend.currentC)} /${fixedDegrees(state.hotend.targetC)} B:${fixedDegrees(state.bed.currentC)} /${fixedDegrees(state.bed.targetC)} @:0 B@:0`;

  const refuse = (
    error: string,
    counter: 'checksumErrors' | 'lineNumberErrors' | 'missingChecksumErrors',
  ) => {
    state[counter] += 1;
    state.resendsRequested += 1;
    send(`Error:${error}, Last Line: ${state.lastLine}`);
    send(`Resend: ${state.lastLine + 1}`);
    send('ok');
  };

  /** Flips one bit of one byte before the `*`, never making a `*` or a line break. */
  const corrupt = (text: string): string => {
    const star = text.lastIndexOf('*');
    const index = random() % Math.max(1, star);
    let code = text.charCodeAt(index) ^ 1;
    if (code === 0x2a || code === 0x0a || code === 0x0d) code ^= 3;
    return text.slice(0, index) + String.fromCharCode(code) + text.slice(index + 1);
  };

  const temperature = (line: GcodeLine): number | undefined => {
    const word = wordOf(line, 'S') ?? wordOf(line, 'R');
    if (word === undefined || word.raw === '') return undefined;
    return Number(fixedOf(word.raw, 0, word.letter));
  };

  const execute = async (command: string): Promise<void> => {
    state.linesAccepted += 1;
    let line: GcodeLine;
    try {
      line = parseGcodeLine(command);
    } catch {
      state.unknownCommands += 1;
      send(`echo:Unknown command: "${command}"`);
      send('ok');
      return;
    }
    if (line.command !== 'M110') {
      hash.update(`${command}\n`);
      state.commands += 1;
      for (const listener of listeners) listener(command);
      if (options.failAfter !== undefined && state.commands >= options.failAfter) {
        state.halted = true;
        send('Error:Thermal Runaway, system stopped! Heater_ID: 0');
        send('Error:Printer halted. kill() called!');
        return;
      }
    }
    const name = line.extended ? undefined : line.command;
    switch (name) {
      case 'M110': {
        const n = wordOf(line, 'N');
        if (n !== undefined && n.raw !== '') state.lastLine = Number(fixedOf(n.raw, 0, 'N'));
        send('ok');
        return;
      }
      case 'M105':
        send(`ok ${report()}`);
        return;
      case 'M104':
      case 'M109': {
        const target = temperature(line);
        if (target !== undefined) state.hotend.targetC = target;
        if (name === 'M109') await heat('hotend');
        else state.hotend.currentC = state.hotend.targetC || 20;
        send('ok');
        return;
      }
      case 'M140':
      case 'M190': {
        const target = temperature(line);
        if (target !== undefined) state.bed.targetC = target;
        if (name === 'M190') await heat('bed');
        else state.bed.currentC = state.bed.targetC || 20;
        send('ok');
        return;
      }
      case 'G0':
      case 'G1':
      case 'G2':
      case 'G3':
      case 'G28':
      case 'G90':
      case 'G91':
      case 'G92':
      case 'M82':
      case 'M83': {
        try {
          const motion = toolpath.apply(line);
          if (motion !== undefined) {
            const off = offBed(motion, options.bed);
            if (off !== undefined) {
              state.offBedMoves += 1;
              state.firstOffBed ??= `${command}: ${off}`;
            }
          }
        } catch (error) {
          if (!(error instanceof GcodeParseError)) throw error;
          send(`echo:${error.message}`);
        }
        send('ok');
        return;
      }
      default:
        if (name === undefined || !accepted.has(name)) {
          state.unknownCommands += 1;
          send(`echo:Unknown command: "${command}"`);
        }
        send('ok');
    }
  };

  const heat = async (which: 'hotend' | 'bed') => {
    let left = heatMs;
    while (left > 0 && !closed) {
      const step = Math.min(left, busyIntervalMs);
      await sleep(step);
      left -= step;
      send('echo:busy: processing');
    }
    state[which].currentC = state[which].targetC || 20;
    send(report());
  };

  const receive = async (raw: string): Promise<void> => {
    state.framesReceived += 1;
    if (state.halted) return;
    let text = raw.replace(/\r$/, '').trim();
    if (text === '') return;
    const numbered = text.startsWith('N');
    if (numbered && every !== undefined && !text.includes('M110') && random() % every === 0) {
      text = corrupt(text);
      state.noiseInjected += 1;
    }
    if (!text.includes('*')) {
      if (/^N\d/.test(text)) return refuse('No Checksum with line number', 'missingChecksumErrors');
      return execute(text);
    }
    const frame = readFrame(text);
    if (frame === undefined) return refuse('checksum mismatch', 'checksumErrors');
    if (!frame.command.includes('M110') && frame.n !== state.lastLine + 1) {
      return refuse('Line Number is not Last Line Number+1', 'lineNumberErrors');
    }
    if (!frame.checksumValid) return refuse('checksum mismatch', 'checksumErrors');
    state.lastLine = frame.n;
    return execute(frame.command);
  };

  const work = async () => {
    if (working) return;
    working = true;
    try {
      while (queue.length > 0 && !closed) await receive(queue.shift()!);
    } finally {
      working = false;
    }
  };

  port.on('data', (chunk: Buffer) => {
    partial += chunk.toString('latin1');
    let newline = partial.indexOf('\n');
    while (newline >= 0) {
      // A full queue drops the line, as an overflowing serial buffer does: the host resends.
      if (queue.length < queueMax) queue.push(partial.slice(0, newline));
      partial = partial.slice(newline + 1);
      newline = partial.indexOf('\n');
    }
    if (partial.length > lineBytesMax) partial = '';
    void work();
  });
  port.on('error', () => {
    // the emulator end only fails when socat is gone (close() or a crash): stats stay readable
  });

  return {
    path: pair.printerPath,
    stats(): VirtualPrinterStats {
      const digest = hash.copy().digest('hex');
      return {
        ...state,
        position: {
          x: Number(toolpath.position.x),
          y: Number(toolpath.position.y),
          z: Number(toolpath.position.z),
        },
        extruderUm: Number(toolpath.extruder),
        hotend: { ...state.hotend },
        bed: { ...state.bed },
        digest,
      };
    },
    onCommand(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      if (port.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
      await pair.close();
    },
  };
}
