import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import {
  checksumOf,
  FrameError,
  frameLine,
  parseReply,
  parseTemperatures,
  readFrame,
  resetLine,
} from './marlin.js';

describe('frameLine', () => {
  it("matches the protocol's known frames", () => {
    // The line reset every host sends first, and a move as Marlin's docs frame it.
    assert.equal(resetLine, 'N0 M110 N0*125');
    assert.equal(frameLine(0, 'M110 N0'), 'N0 M110 N0*125');
    assert.equal(frameLine(1, 'G28'), `N1 G28*${checksumOf('N1 G28')}`);
    assert.equal(checksumOf('N1 G28'), 0x4e ^ 0x31 ^ 0x20 ^ 0x47 ^ 0x32 ^ 0x38);
  });

  it('refuses what cannot be framed', () => {
    for (const [n, command] of [
      [-1, 'G28'],
      [1.5, 'G28'],
      [1, ''],
      [1, '  '],
      [1, 'G1 X1*2'],
      [1, 'G1\nG2'],
      [1, 'M117 é'],
    ] as const) {
      assert.throws(() => frameLine(n, command), FrameError, `${n} ${command}`);
    }
  });

  it('readFrame(frameLine(n, c)) gives n and c back with a valid checksum (property)', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 2 ** 31 }),
        fc.stringMatching(/^[A-Z][\x20-\x29\x2b-\x7e]{0,60}$/),
        (n, command) => {
          const frame = readFrame(frameLine(n, command));
          assert.deepEqual(frame, { n, command: command.trim(), checksumValid: true });
        },
      ),
    );
  });

  it('any one flipped bit before the * fails the checksum or the frame (property)', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 100_000 }),
        fc.stringMatching(/^G1 X[0-9]{1,3}\.[0-9]{3}$/),
        fc.nat(),
        fc.nat({ max: 6 }),
        (n, command, at, bit) => {
          const frame = frameLine(n, command);
          const star = frame.lastIndexOf('*');
          const index = at % star;
          const flipped = String.fromCharCode(frame.charCodeAt(index) ^ (1 << bit));
          if (flipped === '*' || flipped === '\n') return;
          const damaged = frame.slice(0, index) + flipped + frame.slice(index + 1);
          const read = readFrame(damaged);
          assert.ok(read === undefined || !read.checksumValid, damaged);
        },
      ),
    );
  });

  it('readFrame answers undefined for an unnumbered or unchecked line', () => {
    assert.equal(readFrame('G1 X1'), undefined);
    assert.equal(readFrame('N5 G1 X1'), undefined);
  });
});

describe('parseReply', () => {
  it('reads what Marlin sends', () => {
    assert.deepEqual(parseReply('ok'), { kind: 'ok', text: 'ok', temperatures: [] });
    assert.deepEqual(parseReply('ok T:209.6 /210.0 B:60.0 /60.0 @:0 B@:0'), {
      kind: 'ok',
      text: 'ok T:209.6 /210.0 B:60.0 /60.0 @:0 B@:0',
      temperatures: [
        { sensor: 'T', currentC: 210, targetC: 210 },
        { sensor: 'B', currentC: 60, targetC: 60 },
      ],
    });
    assert.deepEqual(parseReply('Resend: 12\r'), { kind: 'resend', line: 12 });
    assert.deepEqual(parseReply('rs N7'), { kind: 'resend', line: 7 });
    assert.deepEqual(parseReply('Error:checksum mismatch, Last Line: 11'), {
      kind: 'error',
      message: 'checksum mismatch, Last Line: 11',
      recoverable: true,
    });
    assert.deepEqual(parseReply('Error:Line Number is not Last Line Number+1, Last Line: 3'), {
      kind: 'error',
      message: 'Line Number is not Last Line Number+1, Last Line: 3',
      recoverable: true,
    });
    assert.deepEqual(parseReply('Error:Printer halted. kill() called!'), {
      kind: 'error',
      message: 'Printer halted. kill() called!',
      recoverable: false,
    });
    assert.deepEqual(parseReply('!! Move out of range: 300.000 0.000 0.200'), {
      kind: 'error',
      message: 'Move out of range: 300.000 0.000 0.200',
      recoverable: false,
    });
    assert.deepEqual(parseReply('echo:busy: processing'), {
      kind: 'busy',
      text: 'echo:busy: processing',
    });
    assert.deepEqual(parseReply(' T:25.1 /0.0 B:24.9 /0.0 @:0 B@:0'), {
      kind: 'temperature',
      temperatures: [
        { sensor: 'T', currentC: 25, targetC: 0 },
        { sensor: 'B', currentC: 25, targetC: 0 },
      ],
    });
    assert.deepEqual(parseReply('start'), { kind: 'start' });
    assert.deepEqual(parseReply('echo:Unknown command: "X"'), {
      kind: 'echo',
      message: 'Unknown command: "X"',
    });
    assert.deepEqual(parseReply('FIRMWARE_NAME:Marlin'), {
      kind: 'other',
      text: 'FIRMWARE_NAME:Marlin',
    });
  });

  it('rounds temperatures half away from zero', () => {
    assert.deepEqual(parseTemperatures('T:-0.5 /0 T1:199.4 /200'), [
      { sensor: 'T', currentC: -1, targetC: 0 },
      { sensor: 'T1', currentC: 199, targetC: 200 },
    ]);
  });
});
