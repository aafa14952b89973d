// The `printing-streams` case of `npm run bench -- printing` (issue 23, run by bench/printing.ts;
// alone: `npm run bench -- printing printing-streams`): the print server's
// concurrent print streams. N SBC agents at once each redeem a token and stream the adapted,
// watermarked G-code to a sink printer (a Marlin double that answers `ok` at once, so the printer
// is never the bottleneck), reporting progress and the finish as they do for a real print; against
// a baseline measured in the same run: the same N agents streaming the same lines, already adapted,
// from a bare HTTPS server with the same mutual TLS (no token, no chain, no decryption, no
// adaptation). Not a test: it measures; it checks only that every print finished with every line.
//
// 1. A node, the hardware-id authority and the print server in this process
//    (test/support/printing-world.ts, 5 ms blocks while txs wait); BENCH_PRINTING_STREAMS_MAX
//    (16) SBCs get hardware ids and register printers; a design of BENCH_PRINTING_LAYERS (300)
//    layers (about 16,000 lines) is uploaded and listed.
// 2. For each N of 1, 4 and the max: N tokens bought, then the N agents print at once
//    (`printToken`: redeem over mTLS, stream through the streamer, progress at each 5 %, finish).
//    Aggregate lines per second (all lines / the wall time), and each redeem's time to the first
//    byte (the server's checks, `print.start` committed, the adapter's count).
// 3. The baseline at the same N: a bare node:https server (client certificate required, the same
//    CA and certificates) answering the adapted lines from memory; each agent's lines go through
//    the same streamer into the same sink.
// Prints, per N, both rates and the ratio.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import { AgentDataDir } from '../src/modules/printing/agent/data-dir.js';
import { registerPrinter, requestHardwareId } from '../src/modules/printing/agent/enrol.js';
import { requestStream } from '../src/modules/printing/agent/http.js';
import { printToken } from '../src/modules/printing/agent/print.js';
import { printingTxBuilders, type PrinterProfile } from '../src/modules/printing/client.js';
import { adaptGcode } from '../src/modules/printing/gcode/adapter.js';
import { sampleDesign } from '../src/modules/printing/gcode/fixture.js';
import { readFrame } from '../src/modules/printing/gcode/marlin.js';
import { linesOf } from '../src/modules/printing/gcode/parse.js';
import { streamToPrinter, type PrinterPort } from '../src/modules/printing/gcode/streamer.js';
import { createRegistrationSecret } from '../src/modules/printing/server/records.js';
import { generateKey } from '../src/sdk/index.js';
import {
  fund,
  listDesign,
  sendOk,
  startPrintingWorld,
  uploadDesign,
} from '../test/support/printing-world.js';

function positive(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive integer`);
  return value;
}

const streamsMax = Math.min(16, positive('BENCH_PRINTING_STREAMS_MAX', 16));
const layers = positive('BENCH_PRINTING_LAYERS', 300);
const counts = [...new Set([1, Math.min(4, streamsMax), streamsMax])];

const profile: PrinterProfile = {
  firmware: 'marlin',
  bed: { x: 220_000, y: 220_000, z: 250_000 },
  nozzleUm: 400,
  filament: 'pla',
  hotendC: 205,
  bedC: 60,
  flowPct: 100,
  startGcode: 'G28\nG92 E0',
  endGcode: 'M104 S0\nM140 S0\nM84',
};

/** A printer that takes every framed line at once: `ok` on the next turn of the event loop. */
class SinkPrinter extends EventEmitter implements PrinterPort {
  lines = 0;
  write(data: string, callback?: (error?: Error | null) => void): boolean {
    let replies = '';
    for (const text of data.split('\n')) {
      if (text === '') continue;
      const frame = readFrame(text);
      if (!frame?.checksumValid) throw new Error(`a damaged frame: ${text}`);
      if (!frame.command.startsWith('M110')) this.lines++;
      replies += 'ok\n';
    }
    setImmediate(() => this.emit('data', Buffer.from(replies)));
    callback?.(null);
    return true;
  }
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** The `printing-streams` case (bench/printing.ts runs it). */
export async function printingStreams(): Promise<void> {
  const world = await startPrintingWorld({ platformShareBp: 1_000 });
  const baseline = { server: undefined as https.Server | undefined };
  try {
    const owner = generateKey();
    const designer = generateKey();
    await fund(world, owner.address, '100000000');
    const design = sampleDesign({ layers, travelsPerLayer: 24 });
    const upload = await uploadDesign(world, designer, `${design.join('\n')}\n`);
    const designId = await listDesign(world, designer, upload, {
      title: 'Bench tower',
      price: '100',
      printsMax: 1_000_000,
    });
    const ca = fs.readFileSync(world.caFile, 'utf8');
    const agents: { dir: AgentDataDir; printerId: string }[] = [];
    for (let i = 0; i < streamsMax; i++) {
      const dir = new AgentDataDir(path.join(world.workDir, `agent-${i}`));
      dir.initDeviceKey();
      await requestHardwareId(dir, { authorityUrl: world.authority.url });
      const { printerId } = await registerPrinter(dir, {
        serverUrl: world.printServer.url,
        ca,
        secret: createRegistrationSecret(world.serverDir),
        profile,
        owner,
      });
      agents.push({ dir, printerId });
    }

    // The baseline server: the same adapted lines (one print's, watermark zero) from memory, over
    // the print server's own TLS certificate and CA, a client certificate required.
    const adapted: string[] = [];
    for await (const line of adaptGcode(design, profile, { watermark: new Uint8Array(8) })) {
      adapted.push(line);
    }
    const adaptedText = Buffer.from(`${adapted.join('\n')}\n`);
    const chunkBytes = 16 * 1024;
    baseline.server = https.createServer(
      {
        cert: fs.readFileSync(path.join(world.serverDir, 'tls.pem')),
        key: fs.readFileSync(path.join(world.serverDir, 'tls.key')),
        ca,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (request, response) => {
        request.resume();
        response.writeHead(200, {
          'content-type': 'text/plain',
          'x-coffer-print-lines': String(adapted.length),
        });
        let offset = 0;
        const pump = () => {
          while (offset < adaptedText.length) {
            const chunk = adaptedText.subarray(offset, offset + chunkBytes);
            offset += chunk.length;
            if (!response.write(chunk)) return void response.once('drain', pump);
          }
          response.end();
        };
        pump();
      },
    );
    await new Promise<void>((resolve) => baseline.server!.listen(0, '127.0.0.1', resolve));
    const baselineUrl = `https://127.0.0.1:${(baseline.server.address() as { port: number }).port}`;

    const runServer = async (n: number) => {
      const tokens: string[] = [];
      for (const agent of agents.slice(0, n)) {
        tokens.push(
          await sendOk(
            world,
            owner,
            printingTxBuilders.buy(designId, agent.printerId, { asset: 'USD', amount: '100' }),
          ),
        );
      }
      const firstBytes: number[] = [];
      const started = performance.now();
      const outcomes = await Promise.all(
        agents.slice(0, n).map(async (agent, i) => {
          const sink = new SinkPrinter();
          const asked = performance.now();
          let first = true;
          const outcome = await printToken(agent.dir, {
            tokenId: tokens[i]!,
            port: sink,
            onPercent: () => {
              if (first) firstBytes.push(performance.now() - asked);
              first = false;
            },
          });
          if (outcome.outcome !== 'finished' || sink.lines !== adapted.length) {
            throw new Error(`print ${i}: ${JSON.stringify(outcome)}, ${sink.lines} lines`);
          }
          return outcome.linesSent;
        }),
      );
      const seconds = (performance.now() - started) / 1_000;
      return {
        linesPerSecond: outcomes.reduce((a, b) => a + b, 0) / seconds,
        firstLineMs: median(firstBytes),
      };
    };

    const runBaseline = async (n: number) => {
      const started = performance.now();
      const lines = await Promise.all(
        agents.slice(0, n).map(async (agent) => {
          const sink = new SinkPrinter();
          const response = await requestStream(baselineUrl, {
            body: { tokenId: '0'.repeat(64) },
            tls: agent.dir.tlsCredentials(),
          });
          const result = await streamToPrinter(
            linesOf(response as AsyncIterable<Buffer>, { lineBytesMax: 256 }),
            sink,
          );
          if (sink.lines !== adapted.length) throw new Error(`baseline: ${sink.lines} lines`);
          return result.linesSent;
        }),
      );
      return {
        linesPerSecond: lines.reduce((a, b) => a + b, 0) / ((performance.now() - started) / 1_000),
      };
    };

    const report: string[] = [
      `design: ${design.length} lines, ${adapted.length} adapted for the profile (${(adaptedText.length / 1024).toFixed(0)} KiB a print)`,
    ];
    await runBaseline(1);
    await runServer(1);
    for (const n of counts) {
      // Interleaved, the best of two each: the shared machine's load drifts, and a drift should hit
      // both sides alike.
      let best = { server: 0, baseline: 0, firstLineMs: Infinity };
      for (let round = 0; round < 2; round++) {
        const bare = await runBaseline(n);
        const served = await runServer(n);
        best = {
          server: Math.max(best.server, served.linesPerSecond),
          baseline: Math.max(best.baseline, bare.linesPerSecond),
          firstLineMs: Math.min(best.firstLineMs, served.firstLineMs),
        };
      }
      report.push(
        `${String(n).padStart(2)} streams: print server ${best.server.toFixed(0)} lines/s ` +
          `(median first line ${best.firstLineMs.toFixed(0)} ms), bare mTLS ${best.baseline.toFixed(0)} lines/s, ` +
          `ratio ${(best.server / best.baseline).toFixed(2)}`,
      );
    }
    report.push(`print server stats ${JSON.stringify(world.printServer.server.stats)}`);
    report.push('  for scale: a printer takes 10 to 300 lines/s (its planner, a 115200-baud line)');
    console.log(report.join('\n'));
  } finally {
    await new Promise<void>((resolve) =>
      baseline.server ? baseline.server.close(() => resolve()) : resolve(),
    );
    await world.close();
  }
}
