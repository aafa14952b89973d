import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';

import { readSmallFile } from './files.js';

describe('readSmallFile', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-files-'));

  it('reads a small file, and a secret one only when its owner alone may read it', () => {
    const file = path.join(dir, 'token');
    fs.writeFileSync(file, 'secret\n', { mode: 0o600 });
    assert.deepEqual(readSmallFile(file, { bytesMax: 64, secret: true }), { text: 'secret\n' });
    fs.chmodSync(file, 0o640);
    assert.deepEqual(readSmallFile(file, { bytesMax: 64, secret: true }), {
      problem: `${file} may be read by others: chmod 600 it`,
    });
    assert.deepEqual(readSmallFile(file, { bytesMax: 64 }), { text: 'secret\n' });
  });

  it('refuses a missing file, a directory and a file over the bound, naming the file', () => {
    const missing = readSmallFile(path.join(dir, 'none'), { bytesMax: 64 });
    assert.ok('problem' in missing && missing.problem.startsWith(`cannot read ${dir}/none: `));
    assert.deepEqual(readSmallFile(dir, { bytesMax: 64 }), {
      problem: `${dir} is not a regular file`,
    });
    const big = path.join(dir, 'big');
    fs.writeFileSync(big, 'x'.repeat(65));
    assert.deepEqual(readSmallFile(big, { bytesMax: 64 }), {
      problem: `${big} is 65 bytes; at most 64 are accepted`,
    });
  });
});
