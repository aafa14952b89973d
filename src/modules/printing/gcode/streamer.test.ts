import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, describe, it } from 'node:test';

import type { SerialPort } from 'serialport';

import { AdaptError, adaptGcode } from './adapter.js';
import { sampleDesign, sampleProfile } from './fixture.js';
import { resetLine } from './marlin.js';
import { StreamError, streamToPrinter } from './streamer.js';
import {
  openSerialPort,
  startPtyPair,
  startVirtualPrinter,
  type PtyPair,
  type VirtualPrinterOptions,
} from './virtual-printer.js';

/*
 * streamToPrinter over real pseudo-terminals (socat) and serialport: against the virtual
 * printer, and against a printer driven by hand on the other end for the failures.
 */

const bed = sampleProfile.bed;
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function closePort(port: SerialPort): Promise<void> {
  return port.isOpen ? new Promise((resolve) => port.close(() => resolve())) : Promise.resolve();
}

async function printerAndPort(options: VirtualPrinterOptions = { bed }) {
  const printer = await startVirtualPrinter(options);
  const port = await openSerialPort(printer.path);
  cleanups.push(async () => {
    await closePort(port);
    await printer.close();
  });
  return { printer, port };
}

/** A pty pair with a hand-written printer on the far end: `answer(line)` says what to send back. */
async function handDriven(answer: (line: string, index: number) => string[]) {
  const pair: PtyPair = await startPtyPair();
  const far = await openSerialPort(pair.emulatorPath);
  const port = await openSerialPort(pair.printerPath);
  cleanups.push(async () => {
    await closePort(port);
    await closePort(far);
    await pair.close();
  });
  let partial = '';
  let index = 0;
  const received: string[] = [];
  far.on('data', (chunk: Buffer) => {
    partial += chunk.toString('latin1');
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      received.push(line);
      const reply = answer(line, index++);
      if (reply.length > 0) far.write(reply.map((r) => `${r}\n`).join(''));
    }
  });
  return { port, received };
}

const sha256 = (lines: string[]) =>
  crypto
    .createHash('sha256')
    .update(lines.map((l) => `${l}\n`).join(''))
    .digest('hex');

async function adapted(design: string[]) {
  const out: string[] = [];
  for await (const line of adaptGcode(design, sampleProfile, { watermark: new Uint8Array(8) }))
    out.push(line);
  return out;
}

describe('streamToPrinter: to the virtual printer', () => {
  it('streams an adapted design; the printer runs every line once, in order, on the bed', async () => {
    const lines = await adapted(sampleDesign({ layers: 20, travelsPerLayer: 10 }));
    const { printer, port } = await printerAndPort();
    const progress: number[] = [];
    const result = await streamToPrinter(lines, port, {
      onProgress: (p) => progress.push(p.linesAcknowledged),
    });
    const stats = printer.stats();
    assert.equal(result.linesSent, lines.length);
    assert.equal(result.resends, 0);
    assert.equal(result.framesWritten, lines.length + 1, 'the lines and the M110 reset');
    assert.equal(stats.digest, sha256(lines));
    assert.equal(stats.offBedMoves, 0);
    assert.equal(stats.hotend.targetC, 0, "the profile's end turned the heater off");
    assert.deepEqual(
      progress,
      Array.from({ length: lines.length }, (_, i) => i + 1),
    );
  });

  it('resends what noise corrupts, and ignores the stale resend requests of lines in flight', async () => {
    const lines = await adapted(sampleDesign({ layers: 30, travelsPerLayer: 10 }));
    const { printer, port } = await printerAndPort({ bed, noise: { every: 12, seed: 3 } });
    let overstated = 0;
    let last = 0;
    const result = await streamToPrinter(lines, port, {
      onProgress: ({ linesAcknowledged }) => {
        // A refused line's ok is no acknowledgement: progress never runs ahead of the printer.
        if (linesAcknowledged > printer.stats().commands || linesAcknowledged <= last)
          overstated += 1;
        last = linesAcknowledged;
      },
    });
    const stats = printer.stats();
    assert.equal(overstated, 0, 'progress ran ahead of the printer or backwards');
    assert.equal(stats.digest, sha256(lines), 'every line ran once, in order, despite the noise');
    assert.equal(result.linesSent, lines.length);
    assert.ok(stats.noiseInjected > 30, `${stats.noiseInjected} corrupted`);
    assert.ok(result.resends > 0);
    // Every refusal was seen; a rewind happened only for a damaged line of the current send:
    // the lines refused because they followed a refused one must not rewind again (there are
    // several times more of those).
    assert.equal(result.errors, stats.resendsRequested);
    assert.ok(stats.resendsRequested > 2 * stats.noiseInjected);
    assert.ok(
      result.resends <= stats.noiseInjected,
      `${result.resends} rewinds for ${stats.noiseInjected} damaged lines (${stats.resendsRequested} refusals)`,
    );
    assert.equal(result.framesWritten, stats.framesReceived);
  });

  it('pulls a line from the source only when an ok frees a place', async () => {
    for (const sendWindow of [1, 4]) {
      const { printer, port } = await printerAndPort({ bed, noise: { every: 25, seed: 9 } });
      let pulled = 0;
      let worst = -Infinity;
      function* source() {
        for (let i = 0; i < 600; i += 1) {
          pulled += 1;
          worst = Math.max(worst, pulled - printer.stats().commands);
          yield `G1 X${(i % 100) + 1}.000 Y5.000`;
        }
      }
      const result = await streamToPrinter(source(), port, { sendWindow });
      assert.equal(result.linesSent, 600);
      assert.ok(
        worst <= sendWindow,
        `sendWindow ${sendWindow}: ${worst} lines pulled ahead of the printer`,
      );
    }
  });

  it('a printer that halts fails the print at once with printer_error', async () => {
    const { port } = await printerAndPort({ bed, failAfter: 50 });
    const lines = Array.from({ length: 200 }, (_, i) => `G1 X${i % 100}.000`);
    const started = Date.now();
    await assert.rejects(streamToPrinter(lines, port, { timeoutMs: 20_000 }), (error) => {
      assert.ok(error instanceof StreamError);
      assert.equal(error.code, 'printer_error');
      assert.match(error.message, /Thermal Runaway/);
      return true;
    });
    assert.ok(Date.now() - started < 5_000, 'not after the timeout');
  });

  it('busy reports and heating keep a slow line alive past the timeout', async () => {
    const { port } = await printerAndPort({ bed, heatMs: 900, busyIntervalMs: 150 });
    const result = await streamToPrinter(['M109 S210', 'G28'], port, { timeoutMs: 400 });
    assert.equal(result.linesSent, 2);
  });

  it('a source that fails (a design off the bed) stops the print before the bad line', async () => {
    const design = [...sampleDesign({ layers: 2, markers: 'coffer' })];
    design.splice(design.indexOf('; coffer:end'), 0, 'G1 X500 Y10');
    const { printer, port } = await printerAndPort();
    const source = adaptGcode(design, sampleProfile, { watermark: new Uint8Array(8) });
    await assert.rejects(streamToPrinter(source, port), (error) => {
      assert.ok(error instanceof StreamError);
      assert.equal(error.code, 'source_failed');
      assert.ok(error.cause instanceof AdaptError);
      assert.equal(error.cause.code, 'design_does_not_fit');
      return true;
    });
    assert.equal(printer.stats().offBedMoves, 0);
  });

  it('an aborted print stops with aborted', async () => {
    const { port } = await printerAndPort({ bed, heatMs: 5_000, busyIntervalMs: 100 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    await assert.rejects(
      streamToPrinter(['M109 S210', 'G28'], port, { signal: controller.signal }),
      {
        code: 'aborted',
      },
    );
  });
});

describe('streamToPrinter: failures of a printer driven by hand', () => {
  it('a silent printer fails the reset after its attempts', async () => {
    const { port, received } = await handDriven(() => []);
    await assert.rejects(
      streamToPrinter(['G28'], port, { handshakeAttempts: 3, handshakeTimeoutMs: 150 }),
      (error) => {
        assert.ok(error instanceof StreamError);
        assert.equal(error.code, 'printer_timeout');
        assert.match(error.message, /after 3 attempts/);
        return true;
      },
    );
    assert.deepEqual(received, [resetLine, resetLine, resetLine]);
  });

  it('a board that misses the first reset (booting) is reached by the next', async () => {
    const { port } = await handDriven((_line, index) => (index === 0 ? [] : ['ok']));
    const result = await streamToPrinter(['G28', 'G1 X1'], port, { handshakeTimeoutMs: 150 });
    assert.equal(result.linesSent, 2);
    assert.equal(result.framesWritten, 4);
  });

  it('a printer that stops answering mid-print times out, saying what was in flight', async () => {
    const { port } = await handDriven((_line, index) => (index < 3 ? ['ok'] : []));
    await assert.rejects(
      streamToPrinter(['G28', 'G1 X1', 'G1 X2', 'G1 X3'], port, { timeoutMs: 300 }),
      (error) => {
        assert.ok(error instanceof StreamError);
        assert.equal(error.code, 'printer_timeout');
        assert.match(
          error.message,
          /nothing for 300 ms with 2 line\(s\) in flight \(last sent: line 4, acknowledged: line 2\)/,
        );
        return true;
      },
    );
  });

  it('a resend of a line no longer kept fails with resend_out_of_window', async () => {
    const { port } = await handDriven((_line, index) =>
      index === 40 ? ['Resend: 2', 'ok'] : ['ok'],
    );
    const lines = Array.from({ length: 60 }, (_, i) => `G1 X${i}`);
    await assert.rejects(streamToPrinter(lines, port, { resendWindow: 8 }), (error) => {
      assert.ok(error instanceof StreamError);
      assert.equal(error.code, 'resend_out_of_window');
      assert.match(error.message, /resend line 2; lines \d+ to \d+ are kept/);
      return true;
    });
  });

  it("Klipper's !! error fails the print", async () => {
    const { port } = await handDriven((_line, index) =>
      index === 2 ? ['!! Move out of range: 500.000 0.000 0.000', 'ok'] : ['ok'],
    );
    await assert.rejects(streamToPrinter(['G28', 'G1 X500', 'G1 X1'], port), {
      code: 'printer_error',
      message: /Move out of range/,
    });
  });

  it('a duplicate ok for the reset (a slow first answer) is not taken for a line', async () => {
    // The first reset is answered late, after the second was sent: two oks for the resets.
    const { port, received } = await handDriven((line, index) => {
      if (index === 0) return [];
      if (index === 1) return ['ok', 'ok'];
      return ['ok'];
    });
    const result = await streamToPrinter(['G28'], port, { handshakeTimeoutMs: 150 });
    assert.equal(result.linesSent, 1);
    assert.equal(received.length, 3);
  });

  it('checks its options', async () => {
    const { port } = await handDriven(() => ['ok']);
    await assert.rejects(streamToPrinter([], port, { sendWindow: 0 }), RangeError);
    await assert.rejects(streamToPrinter([], port, { sendWindow: 8, resendWindow: 4 }), RangeError);
    await assert.rejects(streamToPrinter(['G1 X1*5'], port), { code: 'line_invalid' });
  });
});
