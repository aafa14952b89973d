import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { generateKey } from '../../../sdk/index.js';
import { readFrame } from '../gcode/marlin.js';
import type { PrinterPort } from '../gcode/streamer.js';
import { AgentDataDir, AgentError } from './data-dir.js';
import { cooldownLines, forbiddenCommand, printToken, progressStepPercent } from './print.js';

/*
 * A print as the agent runs it, against a fake print server in this process (plain HTTP: the
 * mTLS handshake is the e2e test's subject) and a fake Marlin port that answers `ok` to every
 * framed line: every line reaches the printer in order; progress reaches the server in 5 % steps,
 * each once and in order, before the finish; a printer that halts, a stream cut short and an
 * abort each end in one `fail` with the percent reached; a refused token is never streamed; and
 * the data directory holds no G-code line afterwards.
 */

const tokenId = 'ab'.repeat(32);
const refusedToken = 'cd'.repeat(32);
const lineCount = 2_000;
const designLine = (i: number) =>
  `G1 X${(i % 200) + 1}.${String(i % 1000).padStart(3, '0')} Y7.500 E0.0${i % 90}`;

interface Reports {
  progress: number[];
  finish: number;
  fail: { percent: number; reason: string }[];
  /** The order the calls came in: 'progress:5', 'finish', 'fail'. */
  order: string[];
}

/**
 * The fake server's behaviour per test: it announces `declared` lines (an upper bound, as the
 * print server's), sends `sent`, then ends with the trailer `x-coffer-print-lines-sent: trailer`,
 * or breaks the connection (`cut`).
 */
interface Serve {
  declared: number;
  sent: number;
  trailer?: number;
  cut?: boolean;
  /** A line sent in place of line `at` (a server that sends what it should not). */
  inject?: { at: number; line: string };
}
const whole = (overrides: Partial<Serve> = {}): Serve => ({
  declared: lineCount + 40,
  sent: lineCount,
  trailer: lineCount,
  ...overrides,
});
let serve: Serve = whole();
let reports: Reports;
const resetReports = () => (reports = { progress: [], finish: 0, fail: [], order: [] });

const server = http.createServer((request, response) => {
  let text = '';
  request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  request.on('end', () => {
    const body = (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>;
    const json = (status: number, value: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(value));
    };
    const url = request.url ?? '';
    if (url === '/v1/printing/prints') {
      if (body.tokenId === refusedToken) {
        return json(409, { error: { code: 'token_redeemed', message: 'redeemed already' } });
      }
      response.writeHead(200, {
        'content-type': 'text/plain',
        'x-coffer-print-lines': String(serve.declared),
        trailer: 'x-coffer-print-lines-sent',
      });
      // With backpressure, as the print server streams.
      let i = 0;
      const pump = () => {
        while (i < serve.sent) {
          const line = serve.inject?.at === i ? serve.inject.line : designLine(i);
          i++;
          const more = response.write(`${line}\n`);
          if (!more) return void response.once('drain', pump);
        }
        if (serve.cut) return void response.destroy();
        if (serve.trailer !== undefined) {
          response.addTrailers({ 'x-coffer-print-lines-sent': String(serve.trailer) });
        }
        response.end();
      };
      return pump();
    }
    const match = /^\/v1\/printing\/prints\/([0-9a-f]{64})\/(progress|finish|fail)$/.exec(url);
    if (!match) return json(404, { error: { code: 'not_found', message: url } });
    if (match[2] === 'progress') {
      reports.progress.push(body.percent as number);
      reports.order.push(`progress:${String(body.percent)}`);
    } else if (match[2] === 'finish') {
      reports.finish += 1;
      reports.order.push('finish');
    } else {
      reports.fail.push(body as { percent: number; reason: string });
      reports.order.push('fail');
    }
    json(200, { tokenId: match[1] });
  });
});

/** A Marlin that answers `ok` to each framed line (after `haltAfter` lines: it halts). */
class FakeMarlin extends EventEmitter implements PrinterPort {
  readonly received: string[] = [];
  constructor(private readonly options: { haltAfter?: number } = {}) {
    super();
  }
  write(data: string, callback?: (error?: Error | null) => void): boolean {
    for (const text of data.split('\n')) {
      if (text === '') continue;
      const frame = readFrame(text);
      assert.ok(frame, `a framed line: ${text}`);
      let reply = 'ok\n';
      if (!frame.command.startsWith('M110')) {
        if (
          this.options.haltAfter !== undefined &&
          this.received.length >= this.options.haltAfter
        ) {
          reply =
            'Error:Thermal Runaway, system stopped! Heater_ID: 0\nError:Printer halted. kill() called!\n';
        } else {
          this.received.push(frame.command);
        }
      }
      setImmediate(() => this.emit('data', Buffer.from(reply)));
    }
    callback?.(null);
    return true;
  }
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-print-agent-print-'));
let dir: AgentDataDir;

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = new AgentDataDir(path.join(root, 'agent'));
  dir.initDeviceKey();
  dir.writeRegistration({
    registration: {
      printerId: `pr_${'1'.repeat(32)}`,
      clientId: 'bench-1',
      serverUrl: url,
      printsUrl: url,
      server: generateKey().address,
      owner: generateKey().address,
      profileHash: 'a'.repeat(64),
    },
    profile: {},
    certificatePem: 'cert',
    keyPem: 'key',
    caCertificatePem: 'ca',
  });
});
after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(root, { recursive: true, force: true });
});

/** Every file of the data directory, read whole: none may hold a line of the design. */
function assertNoGcodeOnDisk() {
  for (const name of fs.readdirSync(dir.dir)) {
    const text = fs.readFileSync(path.join(dir.dir, name), 'utf8');
    assert.ok(!/G1 X\d/.test(text), `${name} holds G-code`);
  }
}

describe('print agent: a print', () => {
  it('streams every line in order, reports each 5 % step once before the finish', async () => {
    resetReports();
    // Announced exactly (the print server counts the adapted lines before it streams them).
    serve = whole({ declared: lineCount });
    const printer = new FakeMarlin();
    const seen: number[] = [];
    const outcome = await printToken(dir, {
      tokenId,
      port: printer,
      onPercent: (percent) => seen.push(percent),
    });
    assert.deepEqual(
      { ...outcome },
      {
        tokenId,
        outcome: 'finished',
        linesSent: lineCount,
        linesTotal: lineCount,
        resends: 0,
        percent: 100,
      },
    );
    assert.deepEqual(
      printer.received,
      Array.from({ length: lineCount }, (_, i) => designLine(i)),
    );
    assert.equal(reports.finish, 1);
    assert.deepEqual(reports.fail, []);
    assert.equal(reports.order.at(-1), 'finish', 'the finish comes after every progress report');
    // Multiples of 5 below 100, increasing, each once; the last step always arrives.
    assert.ok(reports.progress.length >= 1);
    for (const [i, percent] of reports.progress.entries()) {
      assert.equal(percent % progressStepPercent, 0, `${percent} is a step`);
      assert.ok(percent > 0 && percent < 100, `${percent} is between the start and the finish`);
      if (i > 0) assert.ok(percent > reports.progress[i - 1]!, 'increasing');
    }
    assert.equal(reports.progress.at(-1), 95);
    assert.ok(
      seen.slice(0, -1).every((p) => p <= 99),
      'at most 99 until the finish',
    );
    assert.equal(seen.at(-1), 100);
    assert.equal(dir.lastPrint()?.outcome, 'finished');
    assertNoGcodeOnDisk();
  });

  it('a printer that halts mid-way: one fail with the percent reached and the reason', async () => {
    resetReports();
    serve = whole({ declared: lineCount });
    const printer = new FakeMarlin({ haltAfter: lineCount / 2 });
    const outcome = await printToken(dir, { tokenId, port: printer });
    assert.equal(outcome.outcome, 'failed');
    assert.equal(outcome.error?.code, 'printer_error');
    assert.match(outcome.error.message, /Thermal Runaway|halted/);
    assert.equal(outcome.percent, 50);
    assert.equal(reports.finish, 0);
    assert.equal(reports.fail.length, 1);
    assert.equal(reports.fail[0]!.percent, 50);
    assert.match(reports.fail[0]!.reason, /^printer_error: /);
    assert.ok(reports.fail[0]!.reason.length <= 200);
    assert.equal(reports.order.at(-1), 'fail');
    assert.ok(reports.progress.every((p) => p <= 50));
    assert.equal(printer.received.length, lineCount / 2, 'a halted printer is sent nothing more');
    const last = dir.lastPrint();
    assert.equal(last?.outcome, 'failed');
    assert.equal(last?.error?.code, 'printer_error');
    assertNoGcodeOnDisk();
  });

  it('a stream cut short fails as stream_cut, not as a finished print', async () => {
    resetReports();
    serve = whole({ declared: lineCount, sent: (lineCount * 3) / 4, cut: true });
    const printer = new FakeMarlin();
    const outcome = await printToken(dir, { tokenId, port: printer });
    assert.equal(outcome.outcome, 'failed');
    assert.equal(outcome.error?.code, 'stream_cut');
    assert.equal(reports.finish, 0);
    // The printer, still well, is cooled down: heaters and motors off, after the last design line.
    assert.deepEqual(printer.received.slice(-3), cooldownLines);
    printer.received.splice(-3);
    // What the broken connection still held is lost: the fail says how far the printer got.
    assert.equal(reports.fail.length, 1);
    assert.ok(printer.received.length <= (lineCount * 3) / 4);
    const { percent } = reports.fail[0]!;
    // Acknowledged lines: those received but for the 4 at most still in flight.
    assert.ok(percent <= Math.floor((printer.received.length * 100) / lineCount), String(percent));
    assert.ok(
      percent >= Math.floor(((printer.received.length - 4) * 100) / lineCount),
      String(percent),
    );
  });

  it('a stream whose trailer counts more lines than arrived fails as stream_incomplete', async () => {
    resetReports();
    serve = whole({ trailer: lineCount + 1 });
    const outcome = await printToken(dir, { tokenId, port: new FakeMarlin() });
    assert.equal(outcome.outcome, 'failed');
    assert.equal(outcome.error?.code, 'stream_incomplete');
    assert.equal(reports.finish, 0);
    assert.equal(reports.fail.length, 1);
  });

  it('an SD-card, file, EEPROM or firmware command fails the print and never reaches the printer', async () => {
    for (const line of ['M28 copy.gco', 'M500', 'm928 log.gco', 'SDCARD_PRINT_FILE FILENAME=x']) {
      resetReports();
      serve = whole({ inject: { at: 10, line } });
      const printer = new FakeMarlin();
      const outcome = await printToken(dir, { tokenId, port: printer });
      assert.equal(outcome.outcome, 'failed', line);
      assert.equal(outcome.error?.code, 'forbidden_command', line);
      assert.ok(!printer.received.some((sent) => sent.startsWith(line.split(' ')[0]!)), line);
      assert.ok(printer.received.length <= 10 + cooldownLines.length, line);
      assert.equal(reports.finish, 0);
      assert.equal(reports.fail.length, 1);
    }
    assert.equal(forbiddenCommand('G1 X10 E1 ; M28 in a comment'), undefined);
    assert.equal(forbiddenCommand('M104 S200'), undefined);
    assert.equal(forbiddenCommand('M20'), 'M20');
    assert.equal(forbiddenCommand('M997'), 'M997');
    assert.equal(forbiddenCommand('SAVE_CONFIG'), 'SAVE_CONFIG');
  });

  it('more lines than the server announced are refused', async () => {
    resetReports();
    serve = whole({ declared: lineCount - 1 });
    const outcome = await printToken(dir, { tokenId, port: new FakeMarlin() });
    assert.equal(outcome.error?.code, 'unexpected_answer');
    assert.equal(reports.finish, 0);
  });

  it('an abort on the SBC stops the stream and reports the failure', async () => {
    resetReports();
    serve = whole();
    const printer = new FakeMarlin();
    const abort = new AbortController();
    const outcome = await printToken(dir, {
      tokenId,
      port: printer,
      signal: abort.signal,
      onPercent: (percent) => percent >= 30 && abort.abort(),
    });
    assert.equal(outcome.outcome, 'failed');
    assert.equal(outcome.error?.code, 'aborted');
    assert.equal(reports.fail.length, 1);
    assert.ok(reports.fail[0]!.percent >= 30 && reports.fail[0]!.percent < 100);
    assert.ok(printer.received.length < lineCount);
    assert.deepEqual(printer.received.slice(-3), cooldownLines);
  });

  it('a refused token keeps its code, streams nothing and reports nothing', async () => {
    resetReports();
    const printer = new FakeMarlin();
    await assert.rejects(
      printToken(dir, { tokenId: refusedToken, port: printer }),
      (error: unknown) => {
        assert.ok(error instanceof AgentError);
        assert.equal(error.code, 'token_redeemed');
        return true;
      },
    );
    assert.deepEqual(printer.received, []);
    assert.deepEqual(reports.order, []);
    assert.equal(dir.lastPrint()?.outcome, 'refused');
    await assert.rejects(printToken(dir, { tokenId: 'nope', port: printer }), /64 hex/);
  });
});
