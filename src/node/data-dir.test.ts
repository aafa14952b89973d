import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { dataFiles, initDataDir } from './data-dir.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-data-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('initDataDir', () => {
  it('creates a dev chain once and resumes it afterwards', () => {
    const dataDir = tempDir();
    const first = initDataDir({ dataDir, chainId: 'coffer-dev', now: 1_000 });
    assert.equal(first.created, true);
    assert.ok(first.devAccount);
    const second = initDataDir({ dataDir, chainId: 'other', now: 2_000 });
    assert.equal(second.created, false);
    assert.equal(second.chainId, 'coffer-dev');
    assert.equal(second.genesis, undefined, 'a resumed chain does not read its genesis back');
    assert.equal(second.producer.address, first.producer.address);
    assert.equal(second.devAccount?.address, first.devAccount.address);
    const mode = fs.statSync(path.join(dataDir, dataFiles.producerKey)).mode & 0o777;
    assert.equal(mode, 0o600, 'key files are readable by their owner only');
  });

  it('recovers from an init killed before genesis.json was written', () => {
    const dataDir = tempDir();
    initDataDir({ dataDir, chainId: 'coffer-dev', now: 1_000 });
    fs.rmSync(path.join(dataDir, dataFiles.genesis));
    const again = initDataDir({ dataDir, chainId: 'coffer-dev', now: 3_000 });
    assert.equal(again.created, true);
    assert.equal(again.genesis?.time, 3_000);
    assert.ok(fs.existsSync(path.join(dataDir, dataFiles.genesis)));
  });

  it('refuses a key file whose address does not match its secret', () => {
    const dataDir = tempDir();
    const { producer } = initDataDir({ dataDir, chainId: 'coffer-dev', now: 1_000 });
    const file = path.join(dataDir, dataFiles.producerKey);
    const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      address: string;
      secretKey: string;
    };
    const other = initDataDir({ dataDir: tempDir(), chainId: 'coffer-dev', now: 1_000 }).producer
      .address;
    assert.notEqual(other, producer.address);
    fs.writeFileSync(file, JSON.stringify({ ...stored, address: other }));
    assert.throws(() => initDataDir({ dataDir, chainId: 'coffer-dev', now: 1_000 }), {
      code: 'invalid_data_dir',
    });
  });
});
