// `npm run bench -- printing [CASE ...]`: the 3D printing benchmarks (issue 23). Not tests: they
// measure; each asserts only that what it sent arrived whole and in order. Cases (all by default):
//
// printing-stream: G-code lines per second through the serial streamer (gcode/streamer.ts, the
//   Marlin host protocol: numbered lines with checksums, 4 in flight, an `ok` per line) to the
//   virtual printer (gcode/virtual-printer.ts: a Marlin emulator on a socat pseudo-terminal pair,
//   opened with serialport at both ends), with no noise and with noise (1 received line in
//   BENCH_PRINTING_NOISE_EVERY (50) corrupted, so the printer asks for a resend), against a
//   baseline measured in the same run on the same machine: the same G-code bytes written raw
//   into the same kind of pty pair and read at the other end (no framing, no acknowledgements,
//   nothing executed). The lines: BENCH_PRINTING_LINES (20000) of a sample design adapted to a
//   Marlin profile (adaptGcode, not timed). Each warmed once, then three rounds of (baseline,
//   clean, noisy), the best of each. Prints lines/s, KiB/s and the ratios to the baseline.
//
// printing-streams: the print server's concurrent print streams (bench/printing-streams.ts): N
//   SBC agents at once redeem tokens and stream the adapted G-code to printers that take every
//   line at once, against the same agents streaming the same lines from a bare mTLS server.
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';

import type { SerialPort } from 'serialport';

import { adaptGcode } from '../src/modules/printing/gcode/adapter.js';
import { sampleDesign, sampleProfile } from '../src/modules/printing/gcode/fixture.js';
import { streamToPrinter } from '../src/modules/printing/gcode/streamer.js';
import {
  openSerialPort,
  startPtyPair,
  startVirtualPrinter,
} from '../src/modules/printing/gcode/virtual-printer.js';
import { printingStreams } from './printing-streams.js';

function positive(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive integer`);
  return value;
}

const linesWanted = positive('BENCH_PRINTING_LINES', 20_000);
const noiseEvery = positive('BENCH_PRINTING_NOISE_EVERY', 50);
const rounds = 3;

function closePort(port: SerialPort): Promise<void> {
  return new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
}

async function benchLines(): Promise<string[]> {
  // A design big enough, adapted once; cut to the wanted count (the end is the profile's).
  const layers = Math.ceil(linesWanted / 20) + 1;
  const out: string[] = [];
  for await (const line of adaptGcode(sampleDesign({ layers, travelsPerLayer: 8 }), sampleProfile, {
    watermark: crypto.randomBytes(8),
  })) {
    out.push(line);
    if (out.length === linesWanted) break;
  }
  return out;
}

/** The same bytes, raw, through a pty pair: seconds until the far end has them all. */
async function baseline(lines: string[]): Promise<number> {
  const pair = await startPtyPair();
  const far = await openSerialPort(pair.emulatorPath);
  const near = await openSerialPort(pair.printerPath);
  const data = Buffer.from(lines.map((l) => `${l}\n`).join(''));
  const digest = crypto.createHash('sha256');
  let received = 0;
  const done = new Promise<void>((resolve) => {
    far.on('data', (chunk: Buffer) => {
      digest.update(chunk);
      received += chunk.length;
      if (received >= data.length) resolve();
    });
  });
  const started = performance.now();
  // Written in 4 KiB pieces, each after the last drained (what a careful raw writer does).
  for (let at = 0; at < data.length; at += 4096) {
    if (!near.write(data.subarray(at, at + 4096)))
      await new Promise<void>((resolve) => near.once('drain', resolve));
  }
  await done;
  const seconds = (performance.now() - started) / 1_000;
  const expected = crypto.createHash('sha256').update(data).digest('hex');
  if (digest.digest('hex') !== expected) throw new Error('baseline: the bytes arrived damaged');
  await closePort(near);
  await closePort(far);
  await pair.close();
  return seconds;
}

/** The lines through the streamer to a virtual printer: seconds and resends. */
async function streamed(
  lines: string[],
  noise: boolean,
): Promise<{ seconds: number; resends: number; corrupted: number }> {
  const printer = await startVirtualPrinter({
    bed: sampleProfile.bed,
    ...(noise ? { noise: { every: noiseEvery, seed: 1 } } : {}),
  });
  const port = await openSerialPort(printer.path);
  const started = performance.now();
  const result = await streamToPrinter(lines, port);
  const seconds = (performance.now() - started) / 1_000;
  const stats = printer.stats();
  const expected = crypto
    .createHash('sha256')
    .update(lines.map((l) => `${l}\n`).join(''))
    .digest('hex');
  if (stats.digest !== expected || result.linesSent !== lines.length)
    throw new Error('streamed: the printer did not run every line once, in order');
  await closePort(port);
  await printer.close();
  return { seconds, resends: result.resends, corrupted: stats.noiseInjected };
}

async function printingStream(): Promise<void> {
  const lines = await benchLines();
  const bytes = lines.reduce((sum, l) => sum + l.length + 1, 0);
  console.log(
    `printing-stream: ${lines.length} lines (${(bytes / 1024).toFixed(0)} KiB) of adapted G-code`,
  );
  await baseline(lines.slice(0, 2_000));
  await streamed(lines.slice(0, 2_000), false);
  let best = { raw: Infinity, clean: Infinity, noisy: Infinity, resends: 0, corrupted: 0 };
  for (let round = 0; round < rounds; round += 1) {
    const raw = await baseline(lines);
    const clean = await streamed(lines, false);
    const noisy = await streamed(lines, true);
    best = {
      raw: Math.min(best.raw, raw),
      clean: Math.min(best.clean, clean.seconds),
      noisy: Math.min(best.noisy, noisy.seconds),
      resends: noisy.resends,
      corrupted: noisy.corrupted,
    };
  }
  const rate = (seconds: number) => lines.length / seconds;
  const row = (name: string, seconds: number) =>
    `  ${name.padEnd(38)} ${rate(seconds).toFixed(0).padStart(9)} lines/s ${(bytes / 1024 / seconds).toFixed(0).padStart(7)} KiB/s ${(rate(seconds) / rate(best.raw)).toFixed(3).padStart(7)} × raw`;
  console.log(row('baseline: raw bytes through the pty', best.raw));
  console.log(row('streamer -> virtual printer, no noise', best.clean));
  console.log(row(`streamer -> virtual printer, noise 1/${noiseEvery}`, best.noisy));
  console.log(
    `  noise: ${best.corrupted} lines corrupted, ${best.resends} resends (last round); best of ${rounds} rounds`,
  );
  // What a real USB serial printer link would allow: 115200 baud, 10 bits a byte on the wire.
  const framedBytes = lines.reduce((sum, l, i) => sum + `N${i + 1} ${l}*000\n`.length, 0);
  console.log(
    `  for scale: a 115200-baud serial line carries at most ${(11_520 / (framedBytes / lines.length)).toFixed(0)} of these framed lines/s`,
  );
}

const cases: Record<string, () => Promise<void>> = {
  'printing-stream': printingStream,
  'printing-streams': printingStreams,
};

const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!Object.hasOwn(cases, name))
    throw new Error(`no case ${name}: the cases are ${Object.keys(cases).join(', ')}`);
}
for (const [name, run] of Object.entries(cases)) {
  if (wanted.length === 0 || wanted.includes(name)) await run();
}
