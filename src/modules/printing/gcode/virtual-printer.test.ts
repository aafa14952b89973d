import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { after, describe, it } from 'node:test';

import type { SerialPort } from 'serialport';

import { parseBed } from './cli-virtual-printer.js';
import { frameLine, resetLine } from './marlin.js';
import { streamToPrinter } from './streamer.js';
import { openSerialPort, startVirtualPrinter, type VirtualPrinter } from './virtual-printer.js';

/*
 * The virtual printer over a real pseudo-terminal pair (socat): a host end opened with
 * serialport, frames written by hand, Marlin's answers read back.
 */

const bed = { x: 220_000, y: 220_000, z: 250_000 };
const open: { printer: VirtualPrinter; port: SerialPort }[] = [];

after(async () => {
  for (const { printer, port } of open) {
    if (port.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    await printer.close();
  }
});

/** A host talking to a virtual printer line by line. */
async function host(options: Parameters<typeof startVirtualPrinter>[0] = { bed }) {
  const printer = await startVirtualPrinter(options);
  const port = await openSerialPort(printer.path);
  open.push({ printer, port });
  const replies: string[] = [];
  let waiting: (() => void) | undefined;
  let partial = '';
  port.on('data', (chunk: Buffer) => {
    partial += chunk.toString('latin1');
    const lines = partial.split('\n');
    partial = lines.pop()!;
    replies.push(...lines);
    waiting?.();
  });
  /** Writes a line; answers every reply up to and including the next `ok`. */
  async function ask(text: string, timeoutMs = 3_000): Promise<string[]> {
    const from = replies.length;
    port.write(`${text}\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const okAt = replies.findIndex((line, i) => i >= from && line.startsWith('ok'));
      if (okAt >= 0) return replies.splice(from, okAt - from + 1);
      if (Date.now() > deadline)
        throw new Error(`no ok after ${text}: ${JSON.stringify(replies.slice(from))}`);
      await new Promise<void>((resolve) => {
        waiting = resolve;
        setTimeout(resolve, 50);
      });
    }
  }
  return { printer, port, ask, replies };
}

describe('virtual printer: the Marlin line protocol', () => {
  it('accepts numbered lines in order and answers ok', async () => {
    const { printer, ask } = await host();
    assert.deepEqual(await ask(resetLine), ['ok']);
    assert.deepEqual(await ask(frameLine(1, 'G28')), ['ok']);
    assert.deepEqual(await ask(frameLine(2, 'G1 X10.000 Y20.000')), ['ok']);
    assert.deepEqual(await ask('G1 Z1'), ['ok'], 'an unnumbered line without a checksum runs');
    const stats = printer.stats();
    assert.equal(stats.linesAccepted, 4);
    assert.equal(stats.lastLine, 2);
    assert.deepEqual(stats.position, { x: 10_000, y: 20_000, z: 1_000 });
    const digest = crypto
      .createHash('sha256')
      .update('G28\nG1 X10.000 Y20.000\nG1 Z1\n')
      .digest('hex');
    assert.equal(stats.digest, digest, 'the executed commands, M110 aside');
  });

  it('refuses a bad checksum, a skipped number and a missing checksum as Marlin does', async () => {
    const { printer, ask } = await host();
    await ask(resetLine);
    await ask(frameLine(1, 'G28'));
    const good = frameLine(2, 'G1 X5');
    const damaged = good.replace('X5', 'X6');
    assert.deepEqual(await ask(damaged), [
      'Error:checksum mismatch, Last Line: 1',
      'Resend: 2',
      'ok',
    ]);
    assert.deepEqual(await ask(frameLine(3, 'G1 X7')), [
      'Error:Line Number is not Last Line Number+1, Last Line: 1',
      'Resend: 2',
      'ok',
    ]);
    assert.deepEqual(await ask('N2 G1 X5'), [
      'Error:No Checksum with line number, Last Line: 1',
      'Resend: 2',
      'ok',
    ]);
    assert.deepEqual(await ask(good), ['ok']);
    assert.deepEqual(await ask(frameLine(7, 'M110 N9')), ['ok'], 'M110 may jump');
    assert.deepEqual(await ask(frameLine(10, 'G1 X8')), ['ok']);
    const stats = printer.stats();
    assert.equal(stats.checksumErrors, 1);
    assert.equal(stats.lineNumberErrors, 1);
    assert.equal(stats.missingChecksumErrors, 1);
    assert.equal(stats.resendsRequested, 3);
    assert.equal(stats.position.x, 8_000);
    assert.equal(stats.commands, 3, 'G28, G1 X5, G1 X8: refused lines never run');
  });

  it('tracks temperatures and reports them', async () => {
    const { printer, ask } = await host({ bed, heatMs: 250, busyIntervalMs: 100 });
    assert.deepEqual(await ask('M105'), ['ok T:20.00 /0.00 B:20.00 /0.00 @:0 B@:0']);
    assert.deepEqual(await ask('M104 S210'), ['ok']);
    assert.deepEqual(await ask('M140 S60'), ['ok']);
    assert.deepEqual(await ask('M105'), ['ok T:210.00 /210.00 B:60.00 /60.00 @:0 B@:0']);
    const heating = await ask('M109 S215');
    assert.deepEqual(heating, [
      'echo:busy: processing',
      'echo:busy: processing',
      'echo:busy: processing',
      'T:215.00 /215.00 B:60.00 /60.00 @:0 B@:0',
      'ok',
    ]);
    await ask('M190 R65');
    assert.deepEqual(printer.stats().bed, { currentC: 65, targetC: 65 });
    await ask('M104 S0');
    assert.deepEqual(printer.stats().hotend, { currentC: 20, targetC: 0 });
  });

  it('follows G90/G91/G92/G28 and flags moves off the bed', async () => {
    const { printer, ask } = await host();
    for (const line of ['G28', 'G1 X10 Y20', 'G91', 'G1 X5 Z2', 'G90', 'G92 X0', 'G1 X1'])
      await ask(line);
    assert.deepEqual(printer.stats().position, { x: 16_000, y: 20_000, z: 2_000 });
    assert.equal(printer.stats().offBedMoves, 0);
    await ask('G1 X220');
    assert.equal(printer.stats().offBedMoves, 1, 'X 220 logical is 235 mm on a 220 mm bed');
    assert.match(printer.stats().firstOffBed!, /^G1 X220: X reaches 235000 µm/);
    await ask('G2 X0 Y40 I0 J10');
  });

  it('answers unknown commands as Marlin does and keeps going', async () => {
    const { printer, ask } = await host();
    assert.deepEqual(await ask('PRINT_START BED=60'), [
      'echo:Unknown command: "PRINT_START BED=60"',
      'ok',
    ]);
    assert.deepEqual(await ask('M999'), ['echo:Unknown command: "M999"', 'ok']);
    assert.deepEqual(await ask('M106 S255'), ['ok']);
    assert.equal(printer.stats().unknownCommands, 2);
  });

  it('halts after failAfter commands: two errors, then no ok', async () => {
    const { printer, ask, replies } = await host({ bed, failAfter: 2 });
    await ask('G28');
    await assert.rejects(ask('G1 X1', 400), /no ok after G1 X1/);
    assert.deepEqual(replies.slice(-2), [
      'Error:Thermal Runaway, system stopped! Heater_ID: 0',
      'Error:Printer halted. kill() called!',
    ]);
    await assert.rejects(ask('M105', 300));
    assert.equal(printer.stats().halted, true);
  });
});

describe('virtual printer: noise', () => {
  it('the same seed corrupts the same lines; the host resends them', async () => {
    const lines = Array.from({ length: 400 }, (_, i) => `G1 X${(i % 200) + 1}.000 Y1.000`);
    const runs = [];
    for (let run = 0; run < 2; run += 1) {
      const printer = await startVirtualPrinter({ bed, noise: { every: 10, seed: 42 } });
      const port = await openSerialPort(printer.path);
      open.push({ printer, port });
      // One line in flight: the traffic, and so what the noise hits, is the same each run.
      const result = await streamToPrinter(lines, port, { sendWindow: 1 });
      runs.push({ result, stats: printer.stats() });
    }
    const [a, b] = runs;
    assert.ok(a!.stats.noiseInjected > 20, `${a!.stats.noiseInjected} lines corrupted`);
    assert.equal(a!.stats.noiseInjected, b!.stats.noiseInjected);
    assert.equal(
      a!.stats.checksumErrors + a!.stats.lineNumberErrors,
      a!.stats.noiseInjected,
      'each corrupted line refused',
    );
    assert.equal(a!.result.resends, b!.result.resends);
    assert.equal(a!.stats.digest, b!.stats.digest);
    const digest = crypto
      .createHash('sha256')
      .update(lines.map((l) => `${l}\n`).join(''))
      .digest('hex');
    assert.equal(a!.stats.digest, digest, 'every line ran once, in order');
  });
});

describe('virtual printer: lifecycle', () => {
  it('close() ends socat and removes the link', async () => {
    const printer = await startVirtualPrinter({ bed });
    assert.ok(fs.existsSync(printer.path));
    await printer.close();
    assert.ok(!fs.existsSync(printer.path));
    await assert.rejects(openSerialPort(printer.path));
    await printer.close(); // twice is fine
  });

  it('puts the link where asked', async () => {
    const dir = fs.mkdtempSync('/tmp/coffer-vp-test-');
    const printer = await startVirtualPrinter({ bed, link: `${dir}/ttyPRINTER`, dir });
    assert.equal(printer.path, `${dir}/ttyPRINTER`);
    assert.ok(fs.lstatSync(printer.path).isSymbolicLink());
    await printer.close();
    assert.deepEqual(fs.readdirSync(dir), []);
    fs.rmdirSync(dir);
  });

  it('--bed takes whole millimetres', () => {
    assert.deepEqual(parseBed('220,220,250'), { x: 220_000, y: 220_000, z: 250_000 });
    for (const bad of ['220,220', '220,220,5', '1.5,220,220', '220,220,3000', 'a,b,c']) {
      assert.throws(() => parseBed(bad), /--bed/, bad);
    }
  });
});
