import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { errorsDocument } from '../scripts/errors-doc.js';

const root = path.resolve(import.meta.dirname, '..');

describe('docs', () => {
  it('docs/errors.md lists every code of the registry with its status', () => {
    const written = fs.readFileSync(path.join(root, 'docs/errors.md'), 'utf8');
    assert.equal(written, errorsDocument(), 'run: node --import tsx scripts/errors-doc.ts');
  });

  it('the README quick start has exactly the two set-up commands', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const quickStart = readme.split('## Quick start')[1]!.split('\n## ')[0]!;
    const commands = [...quickStart.matchAll(/```sh\n([^`]+)```/g)].map((m) => m[1]!.trim());
    assert.deepEqual(commands, ['npm install && npm start', 'npm test']);
  });
});
